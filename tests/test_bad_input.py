"""Bad input and faults, gathered per public verb: each case names what a user did and what they must see (a
clear error before any work, no half-written file, no hang). Grows with the project."""
import os
import time

import numpy as np
import pytest

from zoo import cli, images


def run_cli(argv, capsys):
    code = cli.main(argv)
    return code, capsys.readouterr().err


# -- counts: refused up front, never a hang -------------------------------------------------------------------
@pytest.mark.parametrize("app", ["srgan", "pix2pix", "cyclegan", "progan", "inpainting"])
@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_finetune_refuses_bad_counts_at_once(app, steps, tmp_path):
    import importlib

    mod = importlib.import_module(f"zoo.apps.{app}")
    args = (str(tmp_path), str(tmp_path)) if app == "cyclegan" else (str(tmp_path),)
    kwargs = {"images": steps} if app == "progan" else {"steps": steps}
    t = time.time()
    with pytest.raises(ValueError, match=r"(steps|images) must be an integer >= 1"):
        mod.finetune(*args, **kwargs)
    assert time.time() - t < 5  # checked before any model or data is loaded


# -- outputs: the format follows the name; failures leave existing files intact --------------------------------
def test_save_image_writes_the_format_the_name_says(tmp_path):
    from PIL import Image

    rgba = np.random.default_rng(0).integers(0, 255, (9, 7, 4), dtype=np.uint8)
    for ext, fmt in ((".png", "PNG"), (".jpg", "JPEG"), (".JPEG", "JPEG"), (".webp", "WEBP"), (".bmp", "BMP"),
                     (".tif", "TIFF")):
        path = images.save_image(tmp_path / f"x{ext}", rgba)
        with Image.open(path) as img:
            assert img.format == fmt and img.size == (7, 9)
    with pytest.raises(ValueError, match=r"unknown image extension '\.xyz'; use one of .*\.png"):
        images.save_image(tmp_path / "x.xyz", rgba)
    assert images.save_png(tmp_path / "figure.jpg", rgba)  # figures stay PNG whatever the name
    with Image.open(tmp_path / "figure.jpg") as img:
        assert img.format == "PNG"


def test_a_failed_write_leaves_the_existing_file_and_no_temporary(tmp_path):
    good = np.full((8, 8, 3), 200, np.uint8)
    path = images.save_image(tmp_path / "out.png", good)
    before = open(path, "rb").read()
    with pytest.raises(ValueError):
        images.save_image(path, np.zeros((8, 8, 5), np.uint8))  # not an image: refused before writing
    with pytest.raises(TypeError):
        images.save_image(path, np.zeros((8, 8, 3), np.int64))
    assert open(path, "rb").read() == before and os.listdir(tmp_path) == ["out.png"]


# -- the command line: one line naming the problem, exit code 2 ------------------------------------------------
def test_cli_output_problems_are_one_line_errors(tmp_path, capsys):
    folder = tmp_path / "already_a_folder"
    folder.mkdir()
    code, err = run_cli(["dcgan", "generate", "-n", "2", "-o", str(folder)], capsys)
    assert code == 2 and "is a folder" in err
    code, err = run_cli(["dcgan", "generate", "-n", "2", "-o", str(tmp_path / "x.xyz")], capsys)
    assert code == 2 and "unknown image extension" in err
    code, err = run_cli(["dcgan", "generate", "-n", "-3", "-o", str(tmp_path / "x.png")], capsys)
    assert code == 2 and "-n must be in 1..10000" in err
    code, err = run_cli(["dcgan", "generate", "--preset", "mnist_dcgan", "--labels", "3", "-o",
                         str(tmp_path / "x.png")], capsys)
    assert code == 2 and "unconditional" in err
    assert not any(p.suffix == ".png" for p in tmp_path.iterdir())


def test_cli_refuses_to_overwrite_its_input_and_reports_os_errors(tmp_path, capsys):
    src = images.save_image(tmp_path / "in.png", np.full((24, 24, 3), 90, np.uint8))
    before = open(src, "rb").read()
    code, err = run_cli(["srgan", "upscale", src, "-o", src], capsys)
    assert code == 2 and "is the input file" in err and open(src, "rb").read() == before
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    code, err = run_cli(["dcgan", "generate", "-n", "1", "-o", str(blocker / "x.png")], capsys)
    assert code == 2 and err.startswith("zoo: error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_cli_writes_jpeg_for_a_jpg_name(tmp_path, capsys):
    from PIL import Image

    code, _ = run_cli(["dcgan", "generate", "-n", "4", "--seed", "0", "-o", str(tmp_path / "d.jpg")], capsys)
    assert code == 0
    with Image.open(tmp_path / "d.jpg") as img:
        assert img.format == "JPEG"


# -- names: what `zoo presets` prints is what --preset takes ----------------------------------------------------
def test_preset_keys_printed_by_zoo_presets_are_accepted(tmp_path, capsys):
    from zoo import weights

    assert weights.get("dcgan", "dcgan/mnist_dcgan") == weights.get("dcgan", "mnist_dcgan")
    assert cli.main(["presets"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["preset", "default", "size"]
    assert any(line.startswith("dcgan/mnist_cdcgan") and " yes " in line for line in table)
    code, err = run_cli(["dcgan", "generate", "-n", "1", "--preset", "dcgan/mnist_dcgan", "-o",
                         str(tmp_path / "d.png")], capsys)
    assert code == 0 and os.path.exists(tmp_path / "d.png"), err
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("zoo ")


# -- divergence: stopped with an error, never NaN weights handed on -------------------------------------------
def test_training_stops_at_the_first_non_finite_loss():
    from zoo import GAN
    from zoo.apps import dcgan

    gan = GAN(dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4),
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4))
    gan.compile()
    x = np.zeros((16, 8, 8, 1), "float32")
    x[8:] = np.nan  # the second batch is broken
    with pytest.raises(FloatingPointError, match="d_loss is nan at step 2 of epoch 1"):
        gan.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)


def test_a_weights_file_with_nan_is_refused_naming_it(tmp_path):
    from zoo import weights
    from zoo.apps import dcgan

    g = dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4)
    w = g.get_weights()
    w[0][...] = np.nan
    g.set_weights(w)
    path = tmp_path / "diverged.weights.h5"
    g.save_weights(path)
    fresh = dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4)
    before = fresh.get_weights()
    with pytest.raises(ValueError, match="diverged.weights.h5 holds non-finite values"):
        weights.load_into(fresh, path)
    assert all(np.array_equal(a, b) for a, b in zip(before, fresh.get_weights()))


# -- checkpoints: resume errors name the file and the cause; stale temporaries go -------------------------------
def _tiny_gan():
    from zoo import GAN
    from zoo.apps import dcgan

    gan = GAN(dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4),
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4))
    gan.compile()
    return gan


def test_checkpoint_resume_errors_name_the_file_and_the_cause(tmp_path):
    from zoo.callbacks import Checkpoint

    ckpt = Checkpoint(tmp_path)
    path = tmp_path / Checkpoint.FILE
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"checkpoint .*checkpoint.weights.h5 is unreadable"):
        ckpt.resume(_tiny_gan())
    _tiny_gan().generator.save_weights(path)  # a plain weights file in its place
    with pytest.raises(ValueError, match="is not a zoo checkpoint"):
        ckpt.resume(_tiny_gan())
    gan = _tiny_gan()
    ckpt.set_model(gan)
    ckpt.save(1)
    from zoo import GAN
    from zoo.apps import dcgan

    other = GAN(dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=8),
                dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4))
    other.compile()
    with pytest.raises(ValueError, match="does not fit this model"):
        ckpt.resume(other)
    assert ckpt.resume(_tiny_gan()) == 1


def test_checkpoint_writes_clear_the_leftovers_of_killed_writers(tmp_path):
    import subprocess
    import sys

    from zoo.callbacks import Checkpoint

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".tmp-{dead.pid}.weights.h5"
    stale.write_bytes(b"half a checkpoint")
    alive = tmp_path / f".tmp-{os.getppid()}.weights.h5"
    alive.write_bytes(b"another run writing")
    ckpt = Checkpoint(tmp_path)
    ckpt.set_model(_tiny_gan())
    ckpt.save(1)
    assert not stale.exists() and alive.exists() and (tmp_path / Checkpoint.FILE).exists()


# -- start-up: the command line starts quiet, and its help needs no Keras ----------------------------------------
def test_cli_help_imports_neither_keras_nor_tensorflow_and_commands_start_quiet(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom zoo import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "progan" in r.stdout and "srgan" in r.stdout, r.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "dcgan", "generate", "-n", "2", "-o",
                        str(tmp_path / "d.png")], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr  # no TensorFlow start-up lines


# -- arguments named in their errors (item 10 of the hardening issue) -------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(n=True), "n must be an integer >= 1"), (dict(n=0), "n must be an integer >= 1"),
    (dict(n=2, seed=-1), "seed must be an integer >= 0"), (dict(n=2, seed="abc"), "seed must be an integer"),
    (dict(n=2, batch_size=0), "batch_size must be an integer >= 1")])
def test_generate_names_its_bad_argument(kwargs, message):
    from zoo.apps import dcgan

    g = dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4)
    with pytest.raises(ValueError, match=message):
        g.generate(**kwargs)


@pytest.mark.parametrize("app", ["srgan", "pix2pix", "cyclegan", "progan", "inpainting"])
def test_finetune_refuses_a_negative_learning_rate(app, tmp_path):
    import importlib

    mod = importlib.import_module(f"zoo.apps.{app}")
    args = (str(tmp_path), str(tmp_path)) if app == "cyclegan" else (str(tmp_path),)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        mod.finetune(*args, learning_rate=-1e-4)


def test_data_batch_size_zero_is_an_error_on_both_pipelines(tmp_path, monkeypatch):
    from zoo import data

    for i in range(3):
        images.save_image(tmp_path / f"{i}.png", np.full((8, 8, 3), 10 * i, np.uint8))
    for pipeline in ("tf", "numpy"):
        monkeypatch.setenv("ZOO_PIPELINE", pipeline)
        with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
            data.image_folder(tmp_path, batch_size=0)


def test_cli_tile_zero_and_a_weights_folder_are_errors(tmp_path, capsys):
    src = images.save_image(tmp_path / "in.png", np.full((24, 24, 3), 90, np.uint8))
    code, err = run_cli(["srgan", "upscale", src, "-o", str(tmp_path / "o.png"), "--tile", "0"], capsys)
    assert code == 2 and "--tile must be an integer >= 1" in err
    code, err = run_cli(["pix2pix", "translate", src, "-o", str(tmp_path / "o.png"), "--weights", str(tmp_path)],
                        capsys)
    assert code == 2 and "is a folder, not a weights file" in err
    assert not (tmp_path / "o.png").exists()


# -- data: a corrupt file found mid-training is skipped, named, counted ------------------------------------------
@pytest.mark.parametrize("pipeline", ["tf", "numpy"])
def test_a_truncated_image_mid_training_is_skipped_with_a_warning(pipeline, tmp_path, monkeypatch):
    import warnings

    from zoo import data

    monkeypatch.setenv("ZOO_PIPELINE", pipeline)
    for i in range(5):
        images.save_image(tmp_path / f"{i}.jpg", np.random.default_rng(i).integers(0, 255, (32, 32, 3), np.uint8))
    whole = (tmp_path / "2.jpg").read_bytes()
    (tmp_path / "2.jpg").write_bytes(whole[: len(whole) // 3])  # passes a header check, fails to decode
    ds = data.image_folder(tmp_path, batch_size=5, shuffle=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = [np.asarray(b[0] if isinstance(b, tuple) else b) for b in ds]
    assert len(batches) == 1 and batches[0].shape == (5, 32, 32, 3) and np.isfinite(batches[0]).all()
    said = [str(w.message) for w in caught if "unreadable training image" in str(w.message)]
    assert said and "2.jpg" in said[0] and "(1 so far)" in said[0]


# -- threads: inference never mutates the model ------------------------------------------------------------------
def test_pix2pix_translate_from_threads_gives_the_sequential_results_and_changes_nothing():
    from concurrent.futures import ThreadPoolExecutor

    import keras

    from zoo.apps import pix2pix

    keras.utils.set_random_seed(0)
    g = pix2pix.UNetGenerator(depth=3, filters=4, test_stats="image")
    before = [np.array(w) for w in g.get_weights()]
    rates = [layer.rate for layer in g._flatten_layers() if isinstance(layer, keras.layers.Dropout)]
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 255, (16 + 8 * (i % 2), 16, 3), dtype=np.uint8) for i in range(12)]
    sequential = [g.translate(x) for x in inputs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(g.translate, inputs))
    for a, b in zip(sequential, threaded):
        np.testing.assert_array_equal(a, b)
    assert rates == [0.5, 0.5] and rates == [layer.rate for layer in g._flatten_layers()
                                             if isinstance(layer, keras.layers.Dropout)]
    for a, b in zip(before, g.get_weights()):
        np.testing.assert_array_equal(a, b)  # moving statistics included


# -- resumable runs: a kill -9 loop loses nothing and leaves no stray files -----------------------------------
def test_a_finetune_killed_again_and_again_resumes_and_its_log_has_every_epoch_once(tmp_path):
    import csv
    import signal
    import subprocess
    import sys

    pytest.importorskip("tensorflow")
    script = os.path.join(os.path.dirname(__file__), "scripts", "finetune_tiny.py")
    run = tmp_path / "run"
    for _ in range(3):  # kill it three times, each time after it wrote one more checkpoint
        proc = subprocess.Popen([sys.executable, script, str(run), "--sleep", "1.5"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        start = len(list(csv.DictReader(open(run / "log.csv")))) if (run / "log.csv").exists() else 0
        while time.time() < deadline and proc.poll() is None:
            if (run / "log.csv").exists() and len(list(csv.DictReader(open(run / "log.csv")))) > start:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done = subprocess.run([sys.executable, script, str(run)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "done 12", done.stderr[-2000:]
    rows = list(csv.DictReader(open(run / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == list(range(6)) and all(r["g_loss"] for r in rows)
    assert sorted(os.listdir(run)) == ["checkpoint.weights.h5", "log.csv"]
    again = subprocess.run([sys.executable, script, str(run)], capture_output=True, text=True, timeout=300)
    assert again.stdout.strip() == "done 12"  # a finished run returns at once


def test_checkpoint_log_drops_rows_the_checkpoint_does_not_hold(tmp_path):
    from zoo.callbacks import Checkpoint

    gan = _tiny_gan()
    ckpt = Checkpoint(tmp_path, log=True)
    ckpt.set_model(gan)
    ckpt.on_epoch_end(0, {"g_loss": 1.0})
    ckpt.on_epoch_end(1, {"g_loss": 0.5})
    ckpt._write_log(ckpt._read_log() + [{"epoch": 2, "g_loss": 0.25}])  # a row written, then killed
    assert ckpt.resume(_tiny_gan()) == 2
    assert [r["epoch"] for r in ckpt._read_log()] == ["0", "1"]


# -- fine-tuning shows its effect in the copy that ships -----------------------------------------------------------
def test_a_short_finetune_shows_in_the_ema_generator():
    from zoo import GAN
    from zoo.apps import dcgan

    gan = GAN(dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4),
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4), ema_decay=0.999, seed=0)
    gan.compile()
    start = [np.array(w) for w in gan.generator.get_weights()]
    x = np.random.default_rng(0).uniform(-1, 1, (80, 8, 8, 1)).astype("float32")
    gan.fit(x, batch_size=4, epochs=1, verbose=0)  # 20 steps
    moved = sum(np.abs(g - s).sum() for g, s in zip(gan.generator.get_weights(), start))
    ema_moved = sum(np.abs(e - s).sum() for e, s in zip(gan.ema_generator.get_weights(), start))
    assert ema_moved > 0.5 * moved  # a plain 0.999 EMA would have moved ~2% of the way


def test_generate_commands_take_weights_files_like_the_other_apps(tmp_path, capsys):
    from zoo.apps import dcgan

    g = dcgan.pretrained("mnist_cdcgan")
    mine = tmp_path / "mine.weights.h5"
    g.save_weights(mine)
    out = tmp_path / "d.png"
    code, err = run_cli(["dcgan", "generate", "-n", "4", "--seed", "0", "--labels", "7", "--weights", str(mine),
                         "--arch", "mnist_cdcgan", "-o", str(out)], capsys)
    assert code == 0 and out.exists(), err
    code, err = run_cli(["dcgan", "generate", "--preset", "mnist_dcgan", "--weights", str(mine), "-o",
                         str(tmp_path / "x.png")], capsys)
    assert code == 2 and "not both" in err
    code, err = run_cli(["dcgan", "generate", "--weights", str(mine), "--arch", "mnist_dcgan", "-o",
                         str(tmp_path / "x.png")], capsys)
    assert code == 2 and "does not match" in err  # a conditional file into the unconditional architecture


# -- the command line on folders and many files, like the tools users know ------------------------------------------
def test_cli_upscales_a_folder_skipping_broken_files_with_a_summary(tmp_path, capsys):
    from PIL import Image

    src = tmp_path / "photos"
    for name in ("a.png", "b.jpg", "sub/c.png"):
        images.save_image(src / name, np.random.default_rng(len(name)).integers(0, 255, (12, 10, 3), np.uint8))
    (src / "broken.png").write_bytes(b"\\x89PNG\\r\\n\\x1a\\nnot really")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        cli.main(["srgan", "upscale", str(src), "-o", str(out), "--suffix", "_x4", "--ext", "jpg"])
    err = capsys.readouterr().err
    assert e.value.code == 1 and "skipped" in err and "broken.png" in err and "3 written, 1 failed" in err
    for name in ("a_x4.jpg", "b_x4.jpg", "sub/c_x4.jpg"):
        with Image.open(out / name) as img:
            assert img.format == "JPEG" and img.size == (40, 48)
    assert not (out / "broken_x4.jpg").exists()


def test_cli_several_files_need_an_output_folder(tmp_path, capsys):
    a = images.save_image(tmp_path / "a.png", np.full((12, 12, 3), 50, np.uint8))
    b = images.save_image(tmp_path / "b.png", np.full((12, 12, 3), 90, np.uint8))
    code, err = run_cli(["srgan", "upscale", a, b, "-o", a], capsys)
    assert code == 2 and "need an output folder" in err
    code, err = run_cli(["srgan", "upscale", a, "-o", str(tmp_path / "x.png"), "--suffix", "_x4"], capsys)
    assert code == 2 and "--suffix name files in an output folder" in err
    assert cli.main(["srgan", "upscale", a, b, "-o", str(tmp_path / "up")]) == 0
    assert sorted(os.listdir(tmp_path / "up")) == ["a.png", "b.png"]


# -- pix2pix on a drawing of a size the U-Net cannot take: no ghost shapes in the border ---------------------------
def test_pix2pix_default_fit_keeps_the_white_border_of_a_320x240_drawing():
    from PIL import Image

    from zoo.apps import pix2pix

    g = pix2pix.pretrained()
    x = np.asarray(Image.open(images.asset("edges_boot.png")).convert("RGB").resize((320, 240), Image.BICUBIC))

    def frame(y):  # mean brightness of the outer 16 pixels, where the drawing is white paper
        y = y.astype(float)
        return np.concatenate([y[:16].ravel(), y[-16:].ravel(), y[:, :16].ravel(), y[:, -16:].ravel()]).mean()

    default = g.translate(x)
    np.testing.assert_array_equal(default, g.translate(x, fit="resize"))
    assert frame(default) > 200 and frame(default) > frame(g.translate(x, fit="pad")) + 20
    sized = np.asarray(Image.fromarray(x).resize((256, 256)))
    np.testing.assert_array_equal(g.translate(sized), g.translate(sized, fit="pad"))  # sizes it takes: unchanged


# -- inpainting: masks that do not fit the image are refused before the network runs, nothing written ---------
def test_inpaint_refuses_masks_that_do_not_fit_and_the_cli_writes_nothing(tmp_path, capsys):
    from zoo.apps import inpainting

    g = inpainting.InpaintGenerator(**inpainting.CONFIGS["celeba_128"].config)
    img = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    for mask, error, message in [
        (np.zeros((32, 24)), ValueError, "mask is 32x24 but the image is 24x32"),
        (np.full((24, 32), np.nan), ValueError, "NaN"),
        (np.full((24, 32), "x"), TypeError, "must hold numbers or bools"),
        (np.zeros(5), ValueError, "must be \\(H, W\\)"),
        (str(broken), images.UnreadableImageError, "broken.png"),
        (str(tmp_path / "missing.png"), FileNotFoundError, "missing.png"),
    ]:
        with pytest.raises(error, match=message):
            g.inpaint(img, mask)
    g.save_weights(str(tmp_path / "g.weights.h5"))
    src = images.save_image(tmp_path / "in.png", img)
    out = tmp_path / "out.png"
    code, err = run_cli(["inpainting", "fill", str(src), "--mask", str(broken), "-o", str(out), "--weights",
                         str(tmp_path / "g.weights.h5"), "--arch", "celeba_128"], capsys)
    assert code == 2 and "broken.png" in err and not out.exists()


# -- dataset arguments: named problems, not library internals (item 10) ----------------------------------------
@pytest.mark.parametrize("app", ["dcgan", "srgan", "pix2pix", "cyclegan", "progan", "inpainting"])
def test_dataset_of_none_or_a_missing_folder_names_the_problem(app, tmp_path):
    import importlib

    mod = importlib.import_module(f"zoo.apps.{app}")
    with pytest.raises(TypeError, match="None"):
        mod.dataset(None)
    missing = str(tmp_path / "no_such_folder")
    with pytest.raises((FileNotFoundError, ValueError), match="no_such_folder"):
        mod.dataset(*((missing, missing) if app == "cyclegan" else (missing,)))


def test_digits_csv_with_floats_or_labels_beyond_9_names_the_file_and_row(tmp_path):
    from zoo.apps import dcgan

    row = ",".join(["0"] * 784)
    floats = tmp_path / "floats.csv"
    floats.write_text(f"{row},3\n{row.replace('0', '0.5', 1)},4\n")
    with pytest.raises(ValueError, match="floats.csv: row 2 .*not a whole number"):
        dcgan.dataset(str(floats))
    labels = tmp_path / "labels.csv"
    labels.write_text(f"{row},3\n{row},12\n")
    with pytest.raises(ValueError, match="labels.csv: row 2 has label 12; digit labels are 0..9"):
        dcgan.dataset(str(labels))
    words = tmp_path / "words.csv"
    words.write_text("a,b,c\n")
    with pytest.raises(ValueError, match="words.csv: not a digits CSV"):
        dcgan.dataset(str(words))


def test_a_broken_zoo_weights_manifest_warns_and_leaves_the_shipped_presets_working(tmp_path, monkeypatch):
    from zoo import weights

    (tmp_path / "manifest.json").write_text("{ not json")
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))
    with pytest.warns(UserWarning, match="ignoring a manifest: .*manifest.json is not valid JSON"):
        listed = weights.presets()
    assert "dcgan/mnist_cdcgan" in listed
    with pytest.raises(ValueError, match="not valid JSON"):
        weights.manifest(tmp_path)  # the folder named on its own: an error (register must not overwrite it)


# -- memory: tiled upscaling holds the output in its final dtype plus a constant (item 3) ----------------------
def test_tiled_upscale_peak_memory_is_the_output_plus_a_constant(tmp_path):
    """A 1000x750 LR uint8 image -> a 4000x3000 uint8 output (36 MB): the process's peak RSS grows by the output
    and a constant (windows, the LR input), not by float32 copies of the output (24 bytes a value before: 864
    MB). A 384-pixel tile call is made first, so TensorFlow's own one-time memory is not counted."""
    import subprocess
    import sys

    code = """
import sys, numpy as np, keras
from zoo.apps import srgan
def peak_kb():  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from a big pytest parent
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
keras.utils.set_random_seed(0)
g = srgan.SRResNet(scale=4, blocks=1, filters=8)
img = np.random.default_rng(0).integers(0, 256, (750, 1000, 3), dtype=np.uint8)
assert g._auto_tile(750, 1000) == g.AUTO_TILE
g.upscale(img[:400, :400], tile=g.AUTO_TILE)  # warm-up: the window function traced, its buffers allocated
base = peak_kb()
out = g.upscale(img)
peak = peak_kb()
assert out.shape == (3000, 4000, 3) and out.dtype == np.uint8
print((peak - base) * 1024, out.nbytes)
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    grown, output = map(int, proc.stdout.split()[-2:])
    assert grown < output + 150 * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MB for a {output / 2**20:.0f} MB output"


# -- the gallery of zoo demo: native sizes, labelled columns, numbers and card links, seen by a browser (17) ----
def _gallery_page(tmp_path):
    from zoo import cli, weights
    from zoo.apps import srgan

    panels = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3), dtype=np.uint8)
    path = images.save_png(tmp_path / "srgan" / "upscale.png", images.grid(panels, ncols=3))
    sections = [("srgan", cli._app_summary(srgan), weights.get("srgan"),
                 [("x4 super-resolution of a 64x64 image: nearest | bicubic | srresnet_x4", str(path))])]
    page = cli._gallery(sections, str(tmp_path))
    (tmp_path / "index.html").write_text(page)
    return page, path


def test_gallery_shows_figures_at_native_size_with_labels_numbers_and_card_links(tmp_path):
    from PIL import Image

    page, path = _gallery_page(tmp_path)
    width = Image.open(path).size[0]
    assert f"width={width} " in page and "pixelated" not in page and "width=480" not in page
    for label in ("nearest", "bicubic", "srresnet_x4"):
        assert f"<span>{label}</span>" in page
    assert "Super-resolution" in page or "super-resolution" in page
    assert "psnr" in page.lower() and "MODEL_CARD.md" in page


def test_gallery_renders_in_headless_chromium(tmp_path):
    """The page in a real browser: every image loads and is shown at its own width; the screenshot is not blank."""
    import shutil
    import subprocess

    from PIL import Image

    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no Chromium on this machine")
    page, path = _gallery_page(tmp_path)
    probe = ("<script>addEventListener('load',()=>{document.body.dataset.seen=[...document.images].map("
             "i=>i.naturalWidth+'x'+i.clientWidth).join(',')})</script>")
    (tmp_path / "probe.html").write_text(page + probe)
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
             "--window-size=1300,900"]
    dom = subprocess.run(flags + ["--dump-dom", (tmp_path / "probe.html").as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    width = Image.open(path).size[0]
    assert f'data-seen="{width}x{width}"' in dom, dom[-2000:]
    shot = tmp_path / "shot.png"
    subprocess.run(flags + [f"--screenshot={shot}", (tmp_path / "index.html").as_uri()], capture_output=True,
                   timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (900, 1300) and pixels.std() > 10


# -- a full disk: outputs, checkpoints and the CLI leave the existing files intact and no partial ones (item 2) --
@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs (needs root and mount; skipped otherwise), unmounted afterwards."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield disk
    subprocess.run(["umount", str(disk)], capture_output=True)


def _fill(disk, leave=8192):
    """Fill ``disk`` with a file until at most ``leave`` bytes are free."""
    with open(disk / "filler", "wb") as f:
        while os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize > leave:
            try:
                f.write(b"\0" * 4096)
                f.flush()
            except OSError:
                break


def test_a_full_disk_leaves_outputs_and_checkpoints_as_they_were(small_disk, tmp_path, capsys):
    """The checkpoint part runs in a child process that leaves with os._exit: after a failed close on a full
    disk, HDF5's own teardown at interpreter exit can crash, which is the library's and not what is tested."""
    import errno
    import hashlib
    import subprocess
    import sys

    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)  # ~120 KB as PNG
    out = images.save_image(small_disk / "out.png", noise[:8, :8])
    before = open(out, "rb").read()
    code = f"""
import hashlib, os, sys, keras
from zoo import GAN
from zoo.callbacks import Checkpoint
sys.path.insert(0, {os.path.dirname(__file__)!r})
from test_bad_input import _fill
disk = {str(small_disk)!r}
g = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8)])
d = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
gan = GAN(g, d, seed=0)
gan.compile()
ckpt = Checkpoint(os.path.join(disk, "run"))
ckpt.set_model(gan)
ckpt.save(1)
print(hashlib.sha256(open(ckpt.path, "rb").read()).hexdigest())
from pathlib import Path
_fill(Path(disk))
g.add_weight(shape=(64, 1024), name="big")  # the next checkpoint does not fit
try:
    ckpt.save(2)
except Exception as e:
    print("refused", type(e).__name__)
sys.stdout.flush()
os._exit(0)
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    lines = proc.stdout.split()
    assert proc.returncode == 0 and "refused" in lines, proc.stdout + proc.stderr[-3000:]
    ckpt_path = small_disk / "run" / "checkpoint.weights.h5"
    assert hashlib.sha256(ckpt_path.read_bytes()).hexdigest() == lines[0]
    with pytest.raises(OSError) as e:
        images.save_image(out, noise)
    assert e.value.errno == errno.ENOSPC
    src = images.save_image(tmp_path / "in.png", noise)
    code, err = run_cli(["pix2pix", "translate", str(src), "-o", str(out)], capsys)
    assert code == 2 and err.strip() == f"zoo: error: {out}: No space left on device"
    assert open(out, "rb").read() == before
    assert sorted(os.listdir(small_disk)) == ["filler", "out.png", "run"]
    assert os.listdir(small_disk / "run") == ["checkpoint.weights.h5"]


# -- every app: unknown preset names and missing input files are named (the public verbs of each shipped app) ---
@pytest.mark.parametrize("app", ["dcgan", "srgan", "pix2pix", "cyclegan", "progan", "inpainting"])
def test_unknown_preset_names_list_the_known_ones(app):
    import importlib

    from zoo import weights

    mod = importlib.import_module(f"zoo.apps.{app}")
    known = sorted(weights.declared(app))
    for verb in (mod.pretrained, mod.build):
        with pytest.raises(KeyError) as e:
            verb("no_such_preset")
        assert "no_such_preset" in str(e.value) and known[0] in str(e.value)


@pytest.mark.parametrize("app, call", [
    ("srgan", lambda m, p: m.upscale(p)),
    ("pix2pix", lambda m, p: m.translate(p)),
    ("cyclegan", lambda m, p: m.translate(p, "BtoA")),
    ("inpainting", lambda m, p: m.inpaint(p, np.zeros((8, 8)))),
])
def test_image_verbs_name_a_missing_input_file(app, call, tmp_path):
    import importlib

    from zoo import weights

    mod = importlib.import_module(f"zoo.apps.{app}")
    preset = next(p for p in weights.declared(app).values() if p.default)
    model = preset.build_generator()
    with pytest.raises(FileNotFoundError, match="missing.png"):
        call(model, str(tmp_path / "missing.png"))
    with pytest.raises((ValueError, TypeError), match="image|shape|dtype"):
        call(model, np.zeros((4, 4, 4, 4, 4)))
    assert mod.Generator is type(model) or isinstance(model, mod.Generator)


def test_progan_interpolate_and_generate_name_their_bad_arguments():
    from zoo.apps import progan

    g = progan.ProGANGenerator(16, fmap_base=32, fmap_max=16, latent_dim=8)
    with pytest.raises(ValueError, match="steps"):
        g.interpolate(0, 1, steps=0)
    with pytest.raises(ValueError, match="seed"):
        g.interpolate(-1, 1)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        g.generate(0)
