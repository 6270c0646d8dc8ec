"""zoo.apps.progan: the paper's parameter count, equalized learning rate, pixel norm, minibatch stddev, the fade-in
arithmetic of both networks and of the reals, the phase schedule, resume across a phase boundary after kill -9,
generation and latent walks, data, the shipped preset and the CLI."""
import math
import os
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
from keras import ops

from helpers import app_script, conv, count, kill_after_checkpoint, numpy_of
from zoo.apps import progan
from zoo.apps.progan.networks import downscale, features, pixel_norm, upscale
from zoo.layers import EqualizedConv2D, EqualizedDense

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "train_progan_tiny.py")


def tiny(resolution=16, **kwargs):
    g = progan.ProGANGenerator(resolution, latent_dim=8, fmap_base=32, fmap_max=16)
    d = progan.ProGANDiscriminator(resolution, fmap_base=32, fmap_max=16)
    gan = progan.ProGAN(g, d, seed=0, **kwargs)
    gan.compile()
    return gan


def latents(n=4, dim=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, dim)).astype("float32")


def images(n=4, side=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, side, side, 3)).astype("float32")


# -- architecture -----------------------------------------------------------------------------------------------
def paper_counts(resolution=1024, latent=512, base=8192, fmax=512):
    f = lambda s: features(s, base, fmax)  # noqa: E731
    sides = progan.sides(resolution)
    g = latent * 16 * f(4) + 16 * f(4) + conv(3, f(4), f(4))
    g += sum(conv(3, f(s // 2), f(s)) + conv(3, f(s), f(s)) for s in sides[1:])
    g += sum(conv(1, f(s), 3) for s in sides)
    d = sum(conv(1, 3, f(s)) for s in sides)
    d += sum(conv(3, f(s), f(s)) + conv(3, f(s), f(s // 2)) for s in sides[1:])
    d += conv(3, f(4) + 1, f(4)) + 16 * f(4) * f(2) + f(2) + f(2) + 1
    return g, d


def test_the_papers_1024_networks_have_23_1_million_parameters_each():
    g, d = progan.ProGANGenerator(), progan.ProGANDiscriminator()
    assert (count(g), count(d)) == paper_counts()
    assert round(count(g) / 1e6, 1) == 23.1 and round(count(d) / 1e6, 1) == 23.1  # the paper's Table 2
    assert [features(s) for s in (4, 32, 64, 128, 1024)] == [512, 512, 256, 128, 16]


def test_preset_networks_are_the_capped_configuration():
    preset = progan.CONFIGS["celeba_64"]
    g, d = preset.build_generator(), preset.build_discriminator()
    assert (count(g), count(d)) == paper_counts(64, 128, 1024, 128)
    assert [features(s, 1024, 128) for s in progan.sides(64)] == [128, 128, 128, 64, 32]
    assert g.output.shape[1:] == (64, 64, 3) and d.output.shape[1:] == (1,)


def test_every_layer_has_an_equalized_learning_rate():
    gan = tiny()
    for net in (gan.generator, gan.discriminator):
        weighted = [l for l in net.layers if l.weights]
        assert weighted and all(isinstance(l, (EqualizedConv2D, EqualizedDense)) for l in weighted)
        for l in weighted:  # N(0, 1) storage, He's constant applied at run time
            gain = 1.0 if l.name.startswith(("to_rgb", "score")) else (2.0 / 16 if net is gan.generator and
                                                                      l.name == "dense4" else 2.0)
            assert l.scale == pytest.approx(math.sqrt(gain / l.fan_in)), l.name


def test_pixel_norm_makes_the_generator_blind_to_the_latent_scale():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 5)).astype("float32") * 7
    np.testing.assert_allclose(numpy_of(ops.mean(ops.square(pixel_norm(x)), axis=-1)), 1.0, rtol=1e-5)
    g = tiny().generator
    z = latents()
    np.testing.assert_allclose(numpy_of(g(z)), numpy_of(g(5.0 * z)), rtol=1e-4, atol=1e-4)


def test_minibatch_stddev_lets_the_critic_see_the_other_images_of_its_group():
    d = tiny().discriminator
    x = images(4)
    y = x.copy()
    y[1] = -y[1]  # change another member of image 0's group
    assert abs(float(numpy_of(d(x))[0, 0] - numpy_of(d(y))[0, 0])) > 1e-6
    same = np.repeat(x[:1], 4, axis=0)
    alone = numpy_of(d(x[:1]))
    np.testing.assert_allclose(numpy_of(d(same))[0], alone[0], atol=1e-5)  # no spread: as a batch of one


# -- growing ----------------------------------------------------------------------------------------------------
def test_generator_fades_the_new_level_in():
    g = tiny().generator
    z = ops.convert_to_tensor(latents())
    low = numpy_of(g.grow(z, 1, 1.0))
    assert low.shape == (4, 8, 8, 3) and numpy_of(g.grow(z, 0)).shape == (4, 4, 4, 3)
    at0, at1 = numpy_of(g.grow(z, 2, 0.0)), numpy_of(g.grow(z, 2, 1.0))
    np.testing.assert_allclose(at0, numpy_of(upscale(low)), atol=1e-6)  # alpha 0: the level below, upscaled
    np.testing.assert_array_equal(at1, numpy_of(g(z)))  # alpha 1: the grown network
    np.testing.assert_allclose(numpy_of(g.grow(z, 2, 0.25)), 0.75 * at0 + 0.25 * at1, atol=1e-5)
    with pytest.raises(ValueError, match="level must be in"):
        g.grow(z, 3)


def test_discriminator_fades_the_new_level_in():
    d = tiny().discriminator
    x = ops.convert_to_tensor(images(4))
    below = numpy_of(d.grow(downscale(x), 1, 1.0))
    np.testing.assert_allclose(numpy_of(d.grow(x, 2, 0.0)), below, atol=1e-5)
    np.testing.assert_allclose(numpy_of(d.grow(x, 2, 1.0)), numpy_of(d(x)), atol=1e-5)
    with pytest.raises(ValueError, match="level 1 judges 8x8"):
        d.grow(x, 1)


def test_reals_are_pooled_to_the_level_and_faded_like_the_fakes():
    gan = tiny()
    x = images(4)
    gan.level = 1
    gan.alpha.assign(0.25)
    x8 = numpy_of(downscale(x))
    want = 0.75 * numpy_of(upscale(downscale(x8))) + 0.25 * x8
    np.testing.assert_allclose(numpy_of(gan.reals_at_level(ops.convert_to_tensor(x))), want, atol=1e-6)
    gan.level = 0
    np.testing.assert_allclose(numpy_of(gan.reals_at_level(ops.convert_to_tensor(x))),
                               numpy_of(downscale(downscale(x))), atol=1e-6)


def test_critic_loss_holds_wgan_gp_and_the_drift_term():
    gan = tiny()
    x = ops.convert_to_tensor(images(4))
    fakes = gan.generate(x, None)
    terms, _ = gan.discriminator_loss(x, None, fakes)
    real_logits = numpy_of(gan.discriminator(x))[:, 0]
    np.testing.assert_allclose(numpy_of(terms["drift"]), 1e-3 * real_logits ** 2, rtol=1e-4, atol=1e-8)
    assert set(terms) == {"d_loss", "gp", "drift"} and gan.gp_weight == 10.0 and gan.loss_name == "wgan"
    cfg = gan.d_optimizer.get_config()
    assert (cfg["beta_1"], cfg["beta_2"], cfg["epsilon"]) == (0.0, 0.99, 1e-8)


# -- the schedule -----------------------------------------------------------------------------------------------
def test_schedule_phases_are_whole_epochs_with_per_level_batch_and_rate():
    s = progan.Schedule(16, fade_images=12, stable_images=8, final_images=16, batch_size={4: 8, 8: 4, 16: 4},
                        learning_rate={4: 2e-3, 8: 1e-3, 16: 5e-4})
    phases = s.phases(lambda b: 2)
    assert [(p.level, p.side, p.first_epoch, p.end_epoch) for p in phases] == [(0, 4, 0, 1), (1, 8, 1, 4),
                                                                               (2, 16, 4, 8)]
    assert [(p.batch_size, p.learning_rate, p.fade_images) for p in phases] == [(8, 2e-3, 0), (4, 1e-3, 12),
                                                                                (4, 5e-4, 12)]
    for bad in (dict(resolution=48), dict(resolution=16, fade_images=-1), dict(resolution=16, batch_size=0),
                dict(resolution=16, learning_rate={4: 1e-3})):
        with pytest.raises((ValueError, KeyError)):
            progan.Schedule(**bad)


def test_fit_walks_the_phases_and_advances_alpha_every_step():
    gan = tiny()
    x = images(8)
    sched = progan.Schedule(16, fade_images=12, stable_images=8, final_images=4, batch_size=4,
                            learning_rate={4: 3e-3, 8: 2e-3, 16: 1e-3})
    seen, top = [], {"g": gan.generator.get_layer("conv16_1"), "d": gan.discriminator.get_layer("from_rgb16")}
    start = {k: numpy_of(l.kernel).copy() for k, l in top.items()}
    low = numpy_of(gan.generator.get_layer("conv4").kernel).copy()

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            m = self.model
            seen.append((m.level, round(float(numpy_of(m.alpha)), 4), int(numpy_of(m.images_seen)),
                         float(numpy_of(m.g_optimizer.learning_rate)),
                         all(np.array_equal(numpy_of(l.kernel), start[k]) for k, l in top.items())))

    history = gan.fit(x, schedule=sched, shuffle=False, verbose=0, callbacks=[Watch()])
    assert [s[:3] for s in seen] == [(0, 1.0, 8), (1, round(8 / 12, 4), 16), (1, 1.0, 24), (1, 1.0, 32),
                                     (2, round(8 / 12, 4), 40), (2, 1.0, 48)]
    assert [s[3] for s in seen] == pytest.approx([3e-3, 2e-3, 2e-3, 2e-3, 1e-3, 1e-3])
    # the 16x16 layers wait untouched until their level; the 4x4 ones keep training under them
    assert [s[4] for s in seen] == [True, True, True, True, False, False]
    assert not np.array_equal(numpy_of(gan.generator.get_layer("conv4").kernel), low)
    assert len(history.history["d_loss"]) == 6 and all(np.isfinite(history.history["g_loss"]))
    with pytest.raises(TypeError, match="epochs"):
        gan.fit(x, schedule=sched, epochs=3)
    with pytest.raises(ValueError, match="ends at epoch 6"):
        gan.fit(x, schedule=sched, initial_epoch=6)
    with pytest.raises(ValueError, match="schedule is for 32x32"):
        gan.fit(x, schedule=progan.Schedule(32))
    with pytest.raises(ValueError, match="trains on 16x16 images"):
        gan.fit(images(8, side=8), epochs=1, batch_size=4, verbose=0)


def test_resume_across_a_phase_boundary_after_kill_minus_9_equals_an_uninterrupted_run(tmp_path):
    whole = subprocess.Popen([sys.executable, SCRIPT, str(tmp_path / "whole")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    killed = subprocess.Popen([sys.executable, SCRIPT, str(tmp_path / "killed"), "--sleep", "2.0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_after_checkpoint(killed, tmp_path / "killed" / "checkpoint.weights.h5", 2)  # level 1, mid-fade
    resumed = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "killed")], capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "start epoch 2" in resumed.stdout
    out, err = whole.communicate(timeout=600)
    assert whole.returncode == 0, err[-3000:]
    a, b = np.load(tmp_path / "whole" / "final.npz"), np.load(tmp_path / "killed" / "final.npz")
    assert sorted(a.files) == sorted(b.files) and int(a["images_seen"]) == 64 and int(a["level_start"]) == 32
    for k in a.files:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-6, err_msg=k)


# -- what users call --------------------------------------------------------------------------------------------
def test_generate_is_deterministic_per_seed_and_interpolate_walks_between_seeds():
    g = tiny().generator
    a = g.generate(3, seed=7)
    assert a.dtype == np.uint8 and a.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(a, g.generate(3, seed=7))
    walk = g.interpolate(7, 9, steps=5)
    assert walk.shape == (5, 16, 16, 3)
    np.testing.assert_array_equal(walk[0], a[0])
    np.testing.assert_array_equal(walk[-1], g.generate(1, seed=9)[0])
    assert np.abs(walk[2].astype(int) - walk[0]).mean() > 0
    with pytest.raises(ValueError, match="steps"):
        g.interpolate(0, 1, steps=1)


def test_truncation_pulls_every_face_toward_the_mean_face():
    g = tiny().generator
    plain = g.generate(6, seed=4)
    np.testing.assert_array_equal(g.generate(6, seed=4, truncation=1.0), plain)  # psi 1: off
    mean = g.generate(6, seed=4, truncation=0.0)
    assert (mean == mean[:1]).all()  # psi 0: the mean face for every latent
    half = g.generate(6, seed=4, truncation=0.5)
    spread = lambda x: x.astype("float32").std(axis=0).mean()  # noqa: E731
    assert 0 < spread(half) < spread(plain)
    # between the face and the mean face (the interpolation is before the last layers: not a pixel blend)
    assert np.abs(half.astype(int) - plain).mean() < np.abs(mean.astype(int) - plain).mean()
    np.testing.assert_array_equal(g.generate(6, seed=4, truncation=0.5), half)
    walk = g.interpolate(4, 5, steps=3, truncation=0.5)
    np.testing.assert_array_equal(walk[0], half[0])
    # psi scales the 4x4 input features toward their mean; scaling z itself would change nothing (pixel norm)
    z = ops.convert_to_tensor(latents(3))
    f, m = g.input_features(z), g.mean_features()
    want = np.clip(np.round((numpy_of(g.synthesize(m + 0.5 * (f - m))) + 1.0) * 127.5), 0, 255).astype("uint8")
    np.testing.assert_array_equal(g.from_latents(latents(3), truncation=0.5), want)
    np.testing.assert_allclose(numpy_of(g.synthesize(f)), numpy_of(g(z)), atol=1e-5)
    for bad in (-0.1, 1.5, "0.7", True):
        with pytest.raises(ValueError, match=r"truncation must be a number in \[0, 1\]"):
            g.generate(2, seed=0, truncation=bad)


def test_readout_is_the_grown_generator_at_a_lower_level():
    g = tiny().generator
    small = g.readout(8)
    assert isinstance(small, progan.ProGANGenerator) and small.resolution == 8 and small.latent_dim == 8
    z = latents()
    np.testing.assert_allclose(numpy_of(small(z)), numpy_of(g.grow(ops.convert_to_tensor(z), 1)), atol=1e-6)
    np.testing.assert_array_equal(g.readout(16).generate(3, seed=1), g.generate(3, seed=1))
    with pytest.raises(ValueError, match="one of"):
        g.readout(32)


def test_celeba_128_is_declared_wider_and_says_it_has_no_weights_yet():
    from zoo import augment

    p64, p128 = progan.CONFIGS["celeba_64"], progan.CONFIGS["celeba_128"]
    assert p128.config["resolution"] == 128 and not p128.trained
    f64 = lambda s: features(s, p64.config["fmap_base"], p64.config["fmap_max"])  # noqa: E731
    f128 = lambda s: features(s, p128.config["fmap_base"], p128.config["fmap_max"])  # noqa: E731
    assert all(f128(s) > f64(s) for s in (32, 64)) and all(f128(s) == f64(s) for s in (4, 8, 16))  # wider on top
    assert f128(128) == f64(64) and p128.config["latent_dim"] == p64.config["latent_dim"]
    with pytest.raises(ValueError, match="celeba_128 is an architecture without trained weights yet"):
        progan.pretrained("celeba_128")
    gan = progan.build("celeba_128", augment="ada")
    assert gan.generator.resolution == 128 and isinstance(gan.augment, augment.ADA)
    assert (count(gan.generator), count(gan.discriminator)) == paper_counts(128, 128, 2048, 128)
    assert progan.build("celeba_64").augment is None


def test_cli_truncation_and_size(tmp_path, capsys):
    from PIL import Image

    from zoo import cli

    one = tmp_path / "one.png"
    assert cli.main(["progan", "generate", "-n", "1", "--seed", "3", "--size", "64", "--truncation", "0.7",
                     "-o", str(one)]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(one)),
                                  progan.pretrained().generate(1, seed=3, truncation=0.7)[0])
    for argv, said in ((["--size", "128"], "celeba_128 is an architecture without trained weights yet"),
                       (["--size", "32"], "faces of side [64, 128]"),
                       (["--size", "128", "--preset", "celeba_64"], "--size 128 is preset celeba_128")):
        capsys.readouterr()
        assert cli.main(["progan", "generate", "-o", str(tmp_path / "f.png"), *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, (argv, err)
    probe = ("import sys\nfrom zoo import cli\ntry:\n    rc = cli.main(sys.argv[1:])\nexcept SystemExit as e:\n"
             "    rc = e.code\nprint(rc, sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", probe, "progan", "generate", "-o", str(tmp_path / "f.png"),
                        "--truncation", "1.5"], capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["2", "[]"] and "must be a number in [0, 1]" in r.stderr  # refused before Keras


def test_recipe_holds_faces_out_and_keeps_a_run_to_its_settings(tmp_path):
    recipe = app_script("progan", "train")
    folder = _faces(tmp_path / "all", 6, (8, 8))
    run = tmp_path / "run"
    kept = recipe.training_faces(str(folder), str(run), 2)
    assert sorted(os.listdir(kept)) == ["0.png", "1.png", "2.png", "3.png"]  # the last 2 in name order held out
    assert recipe.training_faces(str(folder), str(run), 2) == kept and recipe.training_faces(str(folder), str(run),
                                                                                             0) == str(folder)
    with pytest.raises(SystemExit, match="not this split"):
        recipe.training_faces(str(folder), str(run), 4)
    recipe.check_settings(str(run), {"augment": "ada", "hold_out": 2})
    recipe.check_settings(str(run), {"augment": "ada", "hold_out": 2})  # the same: continues
    with pytest.raises(SystemExit, match="other settings.*augment"):
        recipe.check_settings(str(run), {"augment": "none", "hold_out": 2})
    with pytest.raises(SystemExit, match="2"):
        recipe.main(["--size", "128", "--preset", "celeba_64"])


def _faces(folder, n, size):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def test_dataset_crops_square_warns_on_small_images_and_refuses_bad_requests(tmp_path):
    folder = _faces(tmp_path / "faces", 5, (40, 24))
    with pytest.warns(UserWarning, match="5 of 5 images .* smaller than 32x32"):
        ds = progan.dataset(folder, resolution=32, batch_size=2, seed=0)
    batch = next(iter(ds))
    assert tuple(batch.shape) == (2, 32, 32, 3) and float(np.min(batch)) >= -1 and float(np.max(batch)) <= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        progan.dataset(folder, resolution=16, batch_size=2)
    with pytest.raises(ValueError, match="5 image.*fewer than batch_size 8"):
        progan.dataset(folder, resolution=16, batch_size=8)
    with pytest.raises(ValueError, match="power of two"):
        progan.dataset(folder, resolution=48)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        progan.dataset(tmp_path / "nowhere" / "faces")


def test_tfds_names_through_the_adapter_offline(tmp_path):
    """A TFDS face set (celeb_a's portrait 178x218 photos, here 12x20) is resized and centre-cropped square."""
    tfds = pytest.importorskip("tensorflow_datasets")

    class ZooTinyFaces(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(20, 12, 3))}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            img = np.zeros((20, 12, 3), np.uint8)
            img[:, :, 2] = 200
            img[:4], img[-4:] = (255, 0, 0), (255, 0, 0)  # red bands above and below the square middle
            for i in range(4):
                yield str(i), {"image": img}

    ZooTinyFaces(data_dir=str(tmp_path)).download_and_prepare()
    ds = progan.dataset("zoo_tiny_faces", resolution=8, batch_size=2, data_dir=str(tmp_path), download=False,
                        repeat=False)
    batches = [np.asarray(b) for b in ds]
    assert len(batches) == 2 and batches[0].shape == (2, 8, 8, 3)
    x = (batches[0] + 1) * 127.5
    assert x[..., 0].mean() < 40 and x[..., 2].mean() > 150  # the bands were cropped away


def test_unknown_preset_and_mismatched_networks_are_refused():
    from zoo import weights

    with pytest.raises(weights.PresetNotFoundError):
        progan.pretrained("celeba_9999")
    with pytest.raises(ValueError, match="one resolution"):
        progan.ProGAN(progan.ProGANGenerator(16, 8, 32, 16), progan.ProGANDiscriminator(32, 32, 16))
    with pytest.raises(ValueError, match="power of two"):
        progan.ProGANGenerator(48)


def test_benchmark_tiny_end_to_end(tmp_path):
    """benchmarks/progan.py: a training iteration with the gradient penalty and generation (a smoke test)."""
    import json

    out = tmp_path / "rows.jsonl"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "progan.py"), "--tiny", "--repeats", "2",
                           "--json", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 4), ("infer", 1), ("infer", 4)]
    assert all(r["status"] == "ok" and r["app"] == "progan" and r["images_per_s"] > 0 for r in rows)
    train, infer = rows[0], rows[1]
    assert train["flops_per_image"] == 3 * train["flops_g"] + 12 * train["flops_d"]
    assert infer["flops_per_image"] == train["flops_g"] > 0
    assert train["generator_params"] == count(progan.ProGANGenerator(16, 8, 32, 16))


# -- the shipped preset -------------------------------------------------------------------------------------------
def test_shipped_preset_reproduces_its_reference_and_generates_faces():
    from zoo import weights

    g = progan.pretrained()
    assert g.preset.name == "celeba_64" and g.resolution == 64
    assert weights.check_reference(g, g.preset) < 1e-4
    faces = g.generate(8, seed=0)
    assert faces.shape == (8, 64, 64, 3) and faces.dtype == np.uint8 and faces.std() > 20
    np.testing.assert_array_equal(faces, g.generate(8, seed=0))
    assert g.preset.metrics["kid_face_x1000"] > 0


def test_cli_generate_and_walk(tmp_path):
    from PIL import Image

    from zoo import cli

    out = tmp_path / "faces.png"
    cli.main(["progan", "generate", "-n", "4", "--seed", "0", "-o", str(out)])
    assert Image.open(out).size[0] > 64 * 2
    one = tmp_path / "one.png"
    cli.main(["progan", "generate", "-n", "1", "--seed", "3", "-o", str(one)])
    np.testing.assert_array_equal(np.asarray(Image.open(one)), progan.pretrained().generate(1, seed=3)[0])
    cli.main(["progan", "generate", "-n", "3", "--seed", "0", "--walk", "1", "-o", str(tmp_path / "walk.png")])
    assert os.path.exists(tmp_path / "walk.png")


def test_finetune_moves_the_preset_towards_a_folder(tmp_path):
    folder = _faces(tmp_path / "mine", 16, (64, 64))
    before = progan.pretrained()
    mine = progan.finetune(folder, images=32, batch_size=16, verbose=0)
    assert isinstance(mine, progan.ProGANGenerator) and getattr(mine, "preset", None) is None
    assert not np.array_equal(mine.generate(2, seed=0), before.generate(2, seed=0))
    with pytest.raises(ValueError, match="images must be an integer >= 1"):
        progan.finetune(folder, images=0)


def test_card_and_preset_carry_the_numbers_evaluate_measured():
    import json

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "apps", "progan", "results.json")) as f:
        results = json.load(f)
    m = progan.CONFIGS["celeba_64"].metrics
    g = results["generated"]
    assert (m["kid_face_x1000"], m["fid_face"], m["face_detection_rate"]) == (
        g["kid_face_x1000"], g["fid_face"], g["face_detection_rate"])
    assert m["kid_face_x1000_real_vs_real"] == results["real"]["kid_face_x1000"]
    with open(os.path.join(root, "apps", "progan", "MODEL_CARD.md")) as f:
        card = f.read()
    for key in ("real", "generated", "real_blur32", "real_blur16"):
        assert f"{results[key]['kid_face_x1000']:.3f}" in card, key
