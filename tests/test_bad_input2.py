"""Bad input, round 2 (issue 29): masks that mean what the docs say, no input overwritten by ``-o``, floats read
by one convention, no hang on special files, and one clear line (never a traceback) for every user error, through
the real console script too."""
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from zoo import cli, data, files, images, weights

ZOO = os.path.join(os.path.dirname(sys.executable), "zoo")


def run_cli(argv, capsys):
    code = cli.main(argv)
    return code, capsys.readouterr().err


def png(path, array):
    Image.fromarray(np.asarray(array, np.uint8)).save(path)
    return str(path)


def bomb(path, side=30000):
    """A valid little PNG whose header claims ``side`` x ``side`` pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return str(path)


@pytest.fixture
def tiny_dcgan():
    from zoo.apps import dcgan

    return dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4)


# -- data lost: no input is ever the target of -o ------------------------------------------------------------
def test_no_input_file_can_be_the_target_of_o(tmp_path, capsys):
    img = png(tmp_path / "in.png", np.full((16, 16, 3), 90))
    mask = png(tmp_path / "mask.png", np.pad(np.full((4, 4), 255), 6))
    before = open(mask, "rb").read()
    code, err = run_cli(["inpainting", "fill", img, "--mask", mask, "-o", mask], capsys)
    assert code == 2 and "is the input file" in err and open(mask, "rb").read() == before
    # a folder of masks as -o: every mask would be replaced
    (tmp_path / "imgs").mkdir(), (tmp_path / "masks").mkdir()
    png(tmp_path / "imgs" / "a.png", np.full((16, 16, 3), 90))
    m = png(tmp_path / "masks" / "a.png", np.pad(np.full((4, 4), 255), 6))
    code, err = run_cli(["inpainting", "fill", str(tmp_path / "imgs"), "--mask", str(tmp_path / "masks"), "-o",
                         str(tmp_path / "masks")], capsys)
    assert code == 2 and ("is the input file" in err or "lies in the input folder" in err)
    assert open(m, "rb").read() == before
    # one input's output landing on another input (x/a.jpg -> y/a_x.png, itself an input)
    (tmp_path / "x").mkdir(), (tmp_path / "y").mkdir()
    Image.fromarray(np.full((8, 8, 3), 50, np.uint8)).save(tmp_path / "x" / "a.jpg")
    other = png(tmp_path / "y" / "a_x.png", np.full((8, 8, 3), 200))
    kept = open(other, "rb").read()
    code, err = run_cli(["srgan", "upscale", str(tmp_path / "x" / "a.jpg"), other, "-o", str(tmp_path / "y"),
                         "--suffix", "_x"], capsys)
    assert code == 2 and "is the input file" in err and open(other, "rb").read() == kept


def test_export_never_replaces_its_weights_or_a_folder_of_user_files(tmp_path, capsys, tiny_dcgan):
    from zoo import export

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"precious")
    code, err = run_cli(["export", "dcgan", "-o", str(photos), "--overwrite"], capsys)
    assert code == 2 and "not a SavedModel model" in err
    with pytest.raises(ValueError, match="refusing to replace it"):
        export.export(tiny_dcgan, photos, overwrite=True)
    w = tmp_path / "g.weights.h5"
    tiny_dcgan.save_weights(w)
    code, err = run_cli(["export", "dcgan", "--weights", str(w), "-o", str(w), "--overwrite"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert (photos / "holiday.jpg").read_bytes() == b"precious" and w.stat().st_size > 0


# -- data wrong: masks mean what the docs say -----------------------------------------------------------------
def test_masks_mean_any_channel_non_zero_or_alpha(tmp_path):
    from zoo.apps.inpainting import masks

    hole = np.zeros((6, 5), bool)
    hole[2:4, 1:3] = True
    red = np.zeros((6, 5, 3), np.uint8)
    red[hole] = (255, 0, 0)
    grey100 = hole.astype(np.uint8) * 100
    strokes = np.zeros((6, 5, 4), np.uint8)
    strokes[hole] = (0, 0, 0, 255)  # black strokes on a transparent layer
    opaque = np.dstack([red, np.full((6, 5), 255, np.uint8)])
    for given in (red, grey100, strokes, opaque):
        path = str(tmp_path / "m.png")
        Image.fromarray(given).save(path)
        for form in (path, Image.open(path), given):
            np.testing.assert_array_equal(masks.as_mask(form), hole, err_msg=f"{given.shape} {type(form)}")
    with pytest.raises(ValueError, match="negative values"):
        masks.as_mask(np.where(hole, 1.0, -1.0))


def test_a_mask_without_a_hole_is_refused_not_returned(tmp_path):
    from zoo.apps import inpainting

    g = inpainting.InpaintGenerator(width=8)
    img = np.full((16, 16, 3), 120, np.uint8)
    empty = png(tmp_path / "empty.png", np.zeros((16, 16)))
    with pytest.raises(ValueError, match=r"mask .*empty\.png has no hole"):
        g.inpaint(img, empty)
    with pytest.raises(ValueError, match="mask 1 has no hole"):
        g.inpaint(np.stack([img, img]), [np.ones((16, 16)), np.zeros((16, 16))])


# -- data wrong: float images, one convention ------------------------------------------------------------------
def test_a_float_tiff_in_0_1_comes_back_as_it_was(tmp_path, capsys, monkeypatch):
    import argparse

    tif = str(tmp_path / "f.tif")
    Image.fromarray(np.full((8, 8), 0.5, np.float32), "F").save(tif)
    batch, spec = images.as_batch(tif)
    np.testing.assert_allclose(batch, 0.0, atol=1e-6)  # 0.5 is mid-grey, [-1, 1] 0
    back = images.restore(batch, spec)
    assert back.mode == "F" and np.allclose(np.asarray(back), 0.5)
    # what the command line writes: the verb's PIL "F" result, saved as 8-bit or as a float TIFF
    p = argparse.ArgumentParser()
    cli.add_image_verb(p.add_subparsers(), "srgan", "same", "", lambda model, args: images.restore(
        *images.as_batch(args.input)))
    monkeypatch.setattr(cli, "load_model", lambda app, args: None)
    for out in ("out.png", "out.tif"):
        args = p.parse_args(["same", tif, "-o", str(tmp_path / out)])
        args.func(args)
        got = np.asarray(Image.open(tmp_path / out), np.float32)
        want = 0.5 if out.endswith(".tif") else 128
        assert abs(got.mean() - want) < 1, (out, got.mean())  # not washed out to 0.75


# -- data wrong: text2image rows --------------------------------------------------------------------------------
def test_text2image_gives_one_row_per_sentence(tmp_path, capsys):
    out = tmp_path / "rows.png"
    code, err = run_cli(["text2image", "generate", "a red flower", "a white flower with yellow centre", "-n", "4",
                         "--seed", "0", "-o", str(out)], capsys)
    assert code == 0, err
    with Image.open(out) as img:
        assert img.size == (4 * 66 + 2, 2 * 66 + 2)  # 4 columns of 64 px, 2 rows, 2 px between


# -- data wrong: symlink loops ----------------------------------------------------------------------------------
def test_a_symlink_loop_is_listed_once(tmp_path):
    png(tmp_path / "a.png", np.zeros((4, 4)))
    (tmp_path / "sub").mkdir()
    png(tmp_path / "sub" / "b.png", np.zeros((4, 4)))
    os.symlink(tmp_path, tmp_path / "sub" / "loop")  # was listed 40 levels deep: sub/loop/sub/loop/...
    assert data.list_images(tmp_path) == [str(tmp_path / "a.png"), str(tmp_path / "sub" / "b.png")]


# -- data wrong: non-finite and misshapen inputs ------------------------------------------------------------------
def test_non_finite_or_misshapen_latents_are_errors(tiny_dcgan):
    z = np.zeros((2, 4), np.float32)
    assert tiny_dcgan.from_latents(z).shape == (2, 8, 8, 1)
    for bad, match in ((np.full((2, 4), np.nan), "NaN"), (np.full((2, 4), np.inf), "NaN or infinite"),
                       (np.zeros((2, 5)), r"shape \(n, 4\)"), (np.zeros(4), r"shape \(n, 4\)"),
                       (np.zeros((0, 4)), "n >= 1")):
        with pytest.raises(ValueError, match=match):
            tiny_dcgan.from_latents(bad)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        tiny_dcgan.from_latents(z, batch_size=0)
    with pytest.raises(ValueError, match="not class-conditional"):
        tiny_dcgan.from_latents(z, labels=[0, 1])


# -- data wrong: read-only outputs --------------------------------------------------------------------------------
def test_a_read_only_output_is_refused_like_cp(tmp_path, capsys):
    out = tmp_path / "ro.png"
    images.save_image(out, np.full((4, 4, 3), 10, np.uint8))
    before = out.read_bytes()
    out.chmod(0o444)
    with pytest.raises(PermissionError, match="read-only"):
        images.save_image(out, np.full((4, 4, 3), 200, np.uint8))
    code, err = run_cli(["dcgan", "generate", "-n", "1", "-o", str(out)], capsys)
    assert code == 2 and "read-only" in err and str(out) in err
    assert out.read_bytes() == before and os.listdir(tmp_path) == ["ro.png"]


# -- signals: zoo export cleans up and says one line --------------------------------------------------------------
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130,
                                                                                    "interrupted")])
def test_a_signal_during_export_leaves_no_temporary_folder(tmp_path, sig, code, word):
    out = tmp_path / "model"
    proc = subprocess.Popen([ZOO, "export", "dcgan", "-o", str(out)], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not any(p.name.startswith(".model.")
                                                                     for p in tmp_path.iterdir()):
        time.sleep(0.02)
    assert proc.poll() is None, "export ended before its temporary folder was seen"
    proc.send_signal(sig)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == code, err
    assert err.strip() == f"zoo: {word}" and os.listdir(tmp_path) == []


# -- hang: special files are refused before they are opened --------------------------------------------------------
def test_a_fifo_is_refused_before_it_is_opened(tmp_path, capsys, tiny_dcgan):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    os.mkfifo(tmp_path / "pipe.weights.h5")
    signal.alarm(60)  # a hang fails the test instead of the suite
    try:
        with pytest.raises(ValueError, match="pipe.weights.h5 is a FIFO"):
            weights.load_into(tiny_dcgan, tmp_path / "pipe.weights.h5")
        with pytest.raises(images.UnreadableImageError, match="FIFO"):
            images.load_image(fifo)
        code, err = run_cli(["srgan", "upscale", str(fifo), "-o", str(tmp_path / "out.png")], capsys)
        assert code == 2 and "pipe.png is a FIFO" in err
        (tmp_path / "imgs").mkdir()
        os.mkfifo(tmp_path / "imgs" / "p.png")
        with pytest.raises(ValueError, match="FIFO"):
            data.read_image(tmp_path / "imgs" / "p.png")
    finally:
        signal.alarm(0)
    with pytest.raises(ValueError, match="is a FIFO"):
        files.check_output(fifo)


# -- tracebacks: decompression bombs ---------------------------------------------------------------------------------
def test_a_decompression_bomb_is_one_clear_error(tmp_path, capsys, monkeypatch):
    path = bomb(tmp_path / "bomb.png")
    with pytest.raises(images.ImageTooLargeError, match=r"bomb\.png has more pixels than the limit of 178,956,970"):
        images.load_image(path)
    code, err = run_cli(["srgan", "upscale", path, "-o", str(tmp_path / "out.png")], capsys)
    assert code == 2 and "more pixels than the limit" in err and "--max-pixels" in err
    monkeypatch.setattr(images, "MAX_PIXELS", images.MAX_PIXELS)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    images.set_max_pixels(10 ** 9)  # past the limit, the file is read (and found truncated)
    with pytest.raises(images.UnreadableImageError) as e:
        images.load_image(path)
    assert not isinstance(e.value, images.ImageTooLargeError)


# -- tracebacks: a broken $ZOO_WEIGHTS manifest ------------------------------------------------------------------
def test_broken_manifest_entries_are_skipped_with_a_warning(tmp_path, capsys, monkeypatch):
    shipped = weights.get("dcgan", "mnist_dcgan")
    (tmp_path / "manifest.json").write_text(json.dumps({"presets": {
        "dcgan/as_text": "dcgan/mnist_dcgan.weights.h5",
        "dcgan/number_sha": {"file": "x.weights.h5", "sha256": 5, "architecture": "zoo.apps.dcgan.DCGANGenerator"},
        "dcgan/mnist_dcgan": {"file": shipped.file, "sha256": "0" * 64}}}))
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))
    with pytest.warns(UserWarning) as caught:
        assert "mnist_dcgan" in weights.presets("dcgan")
        assert weights.get("dcgan", "mnist_dcgan").sha256 == shipped.sha256  # the declaration stands
    said = " ".join(str(w.message) for w in caught)
    assert "as_text" in said and "sha256 must be a str" in said and "disagree" in said
    code, err = run_cli(["dcgan", "generate", "--preset", "mnist_dcgan", "-n", "1", "-o", str(tmp_path / "d.png")],
                        capsys)
    assert code == 0, err


# -- tracebacks: counts, sizes, seeds and other arguments --------------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    (["dcgan", "generate", "-n", "1000000000"], "-n must be in 1..10000"),
    (["progan", "generate", "-n", "1000000000"], "-n must be in 1..10000"),
    (["progan", "generate", "--seed", "-1"], "--seed must be >= 0"),
    (["export", "dcgan", "-o", ""], "-o is empty"),
    (["export", "dcgan", "-o", "."], "names no model"),
])
def test_numbers_and_names_are_checked_up_front(argv, message, tmp_path, capsys):
    if argv[0] != "export":
        argv = argv + ["-o", str(tmp_path / "out.png")]
    t = time.time()
    code, err = run_cli(argv, capsys)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert time.time() - t < 30 and not os.listdir(tmp_path)


def test_cyclegan_sizes_within_what_the_network_takes(tmp_path, capsys):
    from zoo.apps import cyclegan

    img = png(tmp_path / "in.png", np.full((16, 16, 3), 90))
    for size, message in (("4", "integer in 8..4096, got 4"), ("100000", "integer in 8..4096, got 100000"),
                          ("nan", "--size must be"), ("big", "--size must be")):
        code, err = run_cli(["cyclegan", "translate", img, "--size", size, "-o", str(tmp_path / "o.png")], capsys)
        assert code == 2 and message in err, (size, err)
    g = cyclegan.CycleGenerators(n_blocks=1, filters=4)
    for size in ("big", float("nan"), 2.5, True, 3):
        with pytest.raises(ValueError, match="size must be"):
            g.translate(np.zeros((8, 8, 3), np.uint8), size=size)
    assert g.translate(np.zeros((8, 8, 3), np.uint8), size=8).shape == (8, 8, 3)
    with pytest.raises(ValueError, match="translating at 4x6 is outside what the network takes"):
        g.translate(np.zeros((4, 6, 3), np.uint8), size=None)


def test_api_arguments_are_checked_and_named(tiny_dcgan):
    import keras

    from zoo.apps import srgan, text2image  # noqa: F401

    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        tiny_dcgan.generate(2, batch_size=0)
    for seed in (-1, 0.5):
        with pytest.raises(ValueError, match="seed"):
            tiny_dcgan.generate(2, seed=seed)
    sr = srgan.SRResNet(blocks=1, filters=4)
    with pytest.raises(TypeError, match="progress must be None or a callable"):
        sr.upscale(np.zeros((8, 8, 3), np.uint8), progress="bar")
    with pytest.raises(TypeError, match="path must be a .weights.h5 file name, got None"):
        weights.load_into(tiny_dcgan, None)
    t2i = weights.pretrained("text2image")
    for seed in (-1, 0.5):
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            t2i.interpolate("a red flower", "a white flower", seed=seed)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        t2i.generate("a red flower", batch_size=0)
    with pytest.raises(ValueError, match="NaN"):
        t2i.from_latents(np.full((1, t2i.latent_dim), np.nan, "float32"), t2i.embed(["a red flower"]))
    assert keras.backend.backend()


# -- tracebacks: fine-tuning reads every app's files one way -------------------------------------------------------
def test_every_app_skips_unreadable_training_images(tmp_path):
    from zoo.apps import cyclegan, inpainting, pix2pix

    for i in range(3):
        png(tmp_path / f"{i}.png", np.random.default_rng(i).integers(0, 255, (32, 64, 3)))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    for make in (lambda: pix2pix.dataset(str(tmp_path), batch_size=2, load_size=32, crop_size=32),
                 lambda: cyclegan.dataset(str(tmp_path), str(tmp_path), crop_size=16, batch_size=2),
                 lambda: inpainting.dataset(str(tmp_path), image_size=16, batch_size=2)):
        with pytest.warns(UserWarning, match="skipping an unreadable training image .*broken.png"):
            for _ in make().take(3):
                pass


def test_a_data_error_inside_fit_is_the_error_itself(tmp_path):
    from zoo import GAN
    from zoo.apps import dcgan
    from zoo.callbacks import fit_steps

    for i in range(4):
        (tmp_path / f"{i}.png").write_bytes(b"junk")
    gan = GAN(dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4),
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4))
    gan.compile()
    ds = data.image_folder(tmp_path, image_size=8, channels=1, batch_size=2, repeat=True)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"^none of the 4 training images could be read$"):
        fit_steps(gan, ds, 1, verbose=0)


# -- tracebacks: export's own errors ------------------------------------------------------------------------------
def test_export_load_and_call_errors_are_named(tmp_path, tiny_dcgan):
    from zoo import export

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "saved_model.pb").write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match="is not a SavedModel model tensorflow can load"):
        export.load(garbage)
    name = tmp_path / ("m" * 255)  # a legal name: the temporary name beside it must stay legal too
    model = export.load(export.export(tiny_dcgan, name))
    assert model(z=np.zeros((2, 4))).shape == (2, 8, 8, 1)
    with pytest.raises(ValueError, match=r"cannot run on inputs of shapes z \(2, 5\)"):
        model(z=np.zeros((2, 5)))
    assert sorted(os.listdir(tmp_path)) == sorted(["garbage", "m" * 255])


def test_temporary_names_stay_within_255_bytes(tmp_path):
    for name in ("é" * 125 + ".png", "x" * 251 + ".png"):
        assert len(name.encode()) <= 255
        images.save_image(tmp_path / name, np.zeros((4, 4, 3), np.uint8))
    assert len(os.listdir(tmp_path)) == 2


# -- the real console script: no traceback for any user error -----------------------------------------------------
def test_the_console_script_never_prints_a_traceback(tmp_path):
    img = png(tmp_path / "in.png", np.full((16, 16, 3), 90))
    empty = png(tmp_path / "empty.png", np.zeros((16, 16)))
    os.mkfifo(tmp_path / "pipe.png")
    bad = bomb(tmp_path / "bomb.png")
    (tmp_path / "garbage.png").write_bytes(b"junk")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"mine")
    out = str(tmp_path / "out.png")
    cases = [
        (["srgan", "upscale", str(tmp_path / "missing.png"), "-o", out], {}, "No such file"),
        (["srgan", "upscale", str(tmp_path / "pipe.png"), "-o", out], {}, "FIFO"),
        (["srgan", "upscale", bad, "-o", out], {}, "more pixels than the limit"),
        (["pix2pix", "translate", str(tmp_path / "garbage.png"), "-o", out], {}, "not an image file"),
        (["cyclegan", "translate", img, "--size", "4", "-o", out], {}, "integer in 8..4096"),
        (["inpainting", "fill", img, "--mask", img, "-o", img], {}, "is the input file"),
        (["inpainting", "fill", img, "--mask", empty, "-o", out], {}, "has no hole"),
        (["dcgan", "generate", "-n", "1000000000", "-o", out], {}, "-n must be"),
        (["progan", "generate", "--seed", "-1", "-o", out], {}, "--seed must be >= 0"),
        (["demo", "-o", img], {}, "File exists"),
        (["text2image", "generate", "a flower", "-o", str(tmp_path / "x.xyz")], {}, "unknown image extension"),
        (["export", "dcgan", "-o", str(tmp_path / "photos"), "--overwrite"], {}, "refusing to replace"),
        (["export", "dcgan", "-o", str(tmp_path / "m")], {"KERAS_BACKEND": "torch"}, "KERAS_BACKEND=tensorflow"),
        (["dcgan", "generate", "-o", out], {"KERAS_BACKEND": "nonsense"}, "KERAS_BACKEND='nonsense'"),
    ]
    for start in range(0, len(cases), 3):  # three at a time: each loads Keras
        procs = [(argv, want, subprocess.Popen([ZOO, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                               text=True, env=dict(os.environ, **env)))
                 for argv, env, want in cases[start:start + 3]]
        for argv, want, proc in procs:
            err = proc.communicate(timeout=600)[1]
            assert proc.returncode == 2, (argv, err)
            assert "Traceback" not in err and want in err, (argv, err)
            assert [line for line in err.splitlines() if line.startswith("zoo: error: ")] == err.splitlines(), \
                (argv, err)
    assert sorted(os.listdir(tmp_path)) == ["bomb.png", "empty.png", "garbage.png", "in.png", "photos", "pipe.png"]
