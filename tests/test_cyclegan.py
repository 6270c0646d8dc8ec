"""zoo.apps.cyclegan: the paper's parameter counts, the trainer (each side updated by its own optimizer, the
others frozen, pools restored after kill -9), the schedule, data, translate on what users have, the CLI, the
shipped preset, and the errors."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from helpers import changed, conv, count, kill_after_checkpoint, save, snapshot
from zoo import weights
from zoo.apps import cyclegan
from zoo.schedules import ConstantThenLinearDecay

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "train_cyclegan_tiny.py")
SHIPPED = "cyclegan/edges2shoes_handbags_128" in weights.presets()


def tiny(image_size=16, **kwargs):
    pair = cyclegan.CycleGenerators(n_blocks=1, filters=4, train_size=image_size)
    d = {n: cyclegan.PatchDiscriminator(n_layers=1, filters=4, norm="instance", channels=3) for n in ("d_a", "d_b")}
    gan = cyclegan.CycleGAN(pair, d, image_size=image_size, pool_size=4, seed=0, **kwargs)
    gan.compile()
    return gan


def domains(n=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, size, size, 3)).astype("float32"), rng.uniform(-1, 0, (n, size, size, 3)).astype(
        "float32")


# -- architecture -------------------------------------------------------------------------------------------
def test_parameter_counts_equal_the_reference():
    g = cyclegan.ResnetGenerator()  # resnet_9blocks, 64 filters, 3 -> 3
    assert count(g) == 11_378_179
    res = 2 * conv(3, 256, 256)
    assert count(cyclegan.ResnetGenerator(n_blocks=6)) == 11_378_179 - 3 * res  # resnet_6blocks
    assert count(cyclegan.PatchDiscriminator(norm="instance", channels=3)) == 2_764_737
    pair = cyclegan.CycleGenerators(n_blocks=9)
    assert count(pair) == 2 * 11_378_179 and count(pair.a_to_b) == count(pair.b_to_a)
    assert cyclegan.CONFIGS["edges2shoes_handbags_128"].config["n_blocks"] == 6  # the paper's 128x128 choice


def test_generator_keeps_any_size_divisible_by_4():
    g = cyclegan.ResnetGenerator(n_blocks=1, filters=4, in_channels=1, out_channels=3)
    out = ops.convert_to_numpy(g(np.zeros((2, 36, 44, 1), "float32")))
    assert out.shape == (2, 36, 44, 3) and np.abs(out).max() <= 1.0


# -- trainer ------------------------------------------------------------------------------------------------
def test_each_side_trains_under_its_own_optimizer_and_the_other_is_frozen():
    gan = tiny()
    a, b = domains()
    nets = {"g": gan.pair.a_to_b, "f": gan.pair.b_to_a, "d_a": gan.discriminators["d_a"],
            "d_b": gan.discriminators["d_b"]}
    before = {k: snapshot(v) for k, v in nets.items()}
    gan.discriminator_update((a[:2], b[:2]))
    assert all(changed(before["d_a"], nets["d_a"])) and all(changed(before["d_b"], nets["d_b"]))
    assert not any(changed(before["g"], nets["g"]) + changed(before["f"], nets["f"]))
    before = {k: snapshot(v) for k, v in nets.items()}
    pools = [snapshot(gan.pool_a), snapshot(gan.pool_b)]
    gan.generator_update((a[:2], b[:2]))
    assert all(changed(before["g"], nets["g"])) and all(changed(before["f"], nets["f"]))
    assert not any(changed(before["d_a"], nets["d_a"]) + changed(before["d_b"], nets["d_b"]))
    assert not any(changed(pools[0], gan.pool_a) + changed(pools[1], gan.pool_b))
    g_vars = len(gan.pair.trainable_variables)
    assert len(gan.g_optimizer.variables) == 2 + 2 * g_vars  # iterations, lr, Adam's m and v of G and F


def test_fit_logs_the_paper_terms_and_fills_the_pools():
    gan = tiny()
    a, b = domains(6)
    history = gan.fit(a, b, batch_size=2, epochs=2, verbose=0).history
    assert {"d_a_loss", "d_b_loss", "cycle", "identity", "cycle_a", "cycle_b", "adversarial"} <= set(history)
    assert all(np.isfinite(v).all() for v in history.values())
    assert int(ops.convert_to_numpy(gan.pool_a.count)) == 4  # full (size 4)
    assert history["cycle"][-1] < history["cycle"][0]  # reconstructions improve


def test_identity_term_is_optional_and_weights_are_the_papers():
    gan = tiny(identity_weight=0.0)
    a, b = domains(2)
    out = gan((a, b))
    assert len(out) == 2
    logs = gan.generator_update((a, b))
    assert "identity" not in logs and "cycle" in logs
    assert tiny().cycle_weight == 10.0 and tiny().identity_weight == 0.5


def test_iteration_flops_counts_both_generators_and_discriminators():
    gan = tiny()
    a, b = domains(2)
    calls = {}

    def fake_count(net, x):
        calls[net.name] = calls.get(net.name, 0) + 1
        return 100 if net.name in ("a_to_b", "b_to_a") else 10

    assert gan.iteration_flops((a, b), fake_count) == (9 * 100 + 9 * 100 + 8 * 10 + 8 * 10) // 2
    assert tiny(identity_weight=0).iteration_flops((a, b), fake_count) == (12 * 100 + 16 * 10) // 2


def test_pools_and_training_state_survive_kill_minus_9(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, SCRIPT, str(run), "8", "--sleep", "1.0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    kill_after_checkpoint(proc, run / "checkpoint.weights.h5", 2)
    sys.path.insert(0, os.path.dirname(SCRIPT))
    try:
        import train_cyclegan_tiny as script
    finally:
        sys.path.pop(0)
    from zoo.callbacks import Checkpoint

    fresh = script.build()
    start = Checkpoint(run).resume(fresh)
    assert start >= 2
    saved = np.load(run / f"state{start}.npz")
    now = script.state(fresh)
    assert int(saved["count_a"]) == 5 and np.abs(saved["pool_b"]).max() > 0  # full pools, not zeros
    for k in saved.files:
        np.testing.assert_array_equal(now[k], saved[k], err_msg=k)
    assert int(ops.convert_to_numpy(fresh.g_optimizer.iterations)) == 3 * start  # 6 images / batch 2 per epoch


# -- schedule -----------------------------------------------------------------------------------------------
def test_learning_rate_constant_then_linear_to_zero():
    s = ConstantThenLinearDecay(2e-4, 100, 50)
    lr = [float(ops.convert_to_numpy(s(t))) for t in (0, 99, 100, 125, 150, 400)]
    np.testing.assert_allclose(lr, [2e-4, 2e-4, 2e-4, 1e-4, 0.0, 0.0], atol=1e-9)
    assert ConstantThenLinearDecay.from_config(s.get_config()).get_config() == s.get_config()
    gan = tiny()
    gan.compile(constant_steps=1, decay_steps=2)
    a, b = domains(2)
    gan.fit(a, b, batch_size=2, epochs=2, verbose=0)
    assert float(ops.convert_to_numpy(gan.g_optimizer.learning_rate)) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="decay_steps"):
        ConstantThenLinearDecay(1e-3, 10, 0)


# -- data ---------------------------------------------------------------------------------------------------
def _folders(tmp_path, n_a=3, n_b=5):
    rng = np.random.default_rng(0)
    for i in range(n_a):
        save(tmp_path / "A" / f"{i}.png", rng.integers(0, 255, (20 + i, 30, 3), dtype=np.uint8))
    for i in range(n_b):
        save(tmp_path / "B" / f"{i}.jpg", rng.integers(0, 255, (40, 24 + i, 3), dtype=np.uint8))
    return str(tmp_path / "A"), str(tmp_path / "B")


def test_dataset_of_two_unpaired_folders_of_any_sizes(tmp_path):
    a_dir, b_dir = _folders(tmp_path)
    ds = cyclegan.dataset(a_dir, b_dir, crop_size=16, batch_size=2, seed=0)
    a, b = next(iter(ds))
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape == (2, 16, 16, 3)
    assert -1.0 <= a.min() and a.max() <= 1.0 and not np.allclose(a, b)
    gan = tiny()
    gan.fit(cyclegan.dataset(a_dir, b_dir, crop_size=16, batch_size=2, repeat=True), steps_per_epoch=2, verbose=0)


def test_dataset_without_tensorflow_trains_from_numpy_batches(tmp_path, monkeypatch):
    """The GPU machine has no TensorFlow: the same folders as a keras.utils.PyDataset."""
    monkeypatch.setenv("ZOO_PIPELINE", "numpy")
    a_dir, b_dir = _folders(tmp_path)
    ds = cyclegan.dataset(a_dir, b_dir, crop_size=16, batch_size=2, repeat=True, seed=0)
    assert isinstance(ds, keras.utils.PyDataset)
    a, b = ds[0]
    assert a.shape == b.shape == (2, 16, 16, 3)
    tiny().fit(ds, steps_per_epoch=2, verbose=0)


def test_dataset_errors_name_the_problem(tmp_path):
    a_dir, b_dir = _folders(tmp_path, n_a=1)
    with pytest.raises(ValueError, match="domain A .* 1 image.*batch_size 2"):
        cyclegan.dataset(a_dir, b_dir, batch_size=2)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        cyclegan.dataset(str(tmp_path / "empty"), b_dir)
    with pytest.raises(TypeError, match="two folders"):
        cyclegan.dataset(a_dir)
    gan = tiny()
    grey = np.zeros((2, 16, 16, 1), "float32")
    with pytest.raises(ValueError, match="domain A images have 1 channels but its networks take 3"):
        gan.unpack((grey, grey))
    with pytest.raises(ValueError, match="pools hold 16x16"):
        gan.unpack(domains(2, size=24))
    with pytest.raises(ValueError, match="d_b takes 1-channel images but domain B has 3"):
        cyclegan.CycleGAN(cyclegan.CycleGenerators(n_blocks=0, filters=2),
                          {"d_a": cyclegan.PatchDiscriminator(n_layers=1, filters=2, channels=3),
                           "d_b": cyclegan.PatchDiscriminator(n_layers=1, filters=2, channels=1)})
    with pytest.raises(ValueError, match="identity term needs domains with the same channels"):
        cyclegan.CycleGAN(cyclegan.CycleGenerators(n_blocks=0, filters=2, a_channels=1),
                          {"d_a": cyclegan.PatchDiscriminator(n_layers=1, filters=2, channels=1),
                           "d_b": cyclegan.PatchDiscriminator(n_layers=1, filters=2, channels=3)})


def test_tfds_cycle_gan_names_through_the_adapter_offline(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")

    class ZooTinyCycle(tfds.core.GeneratorBasedBuilder):
        """trainA / trainB of different sizes, as the cycle_gan/* builders."""
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(12, 12, 3)), "label": tfds.features.ClassLabel(num_classes=2)}))

        def _split_generators(self, dl_manager):
            return {"trainA": self._generate_examples(0, 3), "trainB": self._generate_examples(1, 5)}

        def _generate_examples(self, label, n):
            for i in range(n):
                yield f"{label}-{i}", {"image": np.full((12, 12, 3), 40 + 150 * label, np.uint8), "label": label}

    ZooTinyCycle(data_dir=str(tmp_path)).download_and_prepare()
    ds = cyclegan.dataset("zoo_tiny_cycle", data_dir=str(tmp_path), download=False, crop_size=8, batch_size=2, seed=0)
    batches = list(ds)
    assert len(batches) == 1  # the shorter domain (3 images) ends the epoch
    a, b = (np.asarray(x) for x in batches[0])
    assert a.shape == b.shape == (2, 8, 8, 3) and a.mean() < b.mean()  # A's images are darker


# -- translate ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pair():
    keras.utils.set_random_seed(1)
    return cyclegan.CycleGenerators(n_blocks=1, filters=4, train_size=16)


def test_translate_takes_any_size_kind_and_channels(pair):
    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)
    out = pair.translate(rgb)
    assert out.shape == (37, 53, 3) and out.dtype == np.uint8
    f = pair.translate(rgb.astype("float32") / 255.0, direction="BtoA")
    assert f.shape == (37, 53, 3) and f.dtype == np.float32 and 0 <= f.min() and f.max() <= 1
    grey = pair.translate(rgb[..., 0])
    assert grey.shape == (37, 53, 3)  # grey in, colour out
    rgba = np.dstack([rgb, np.full((37, 53), 77, np.uint8)])
    out = pair.translate(Image.fromarray(rgba, "RGBA"))
    assert isinstance(out, Image.Image) and out.mode == "RGBA" and out.size == (53, 37)
    assert np.asarray(out)[..., 3].min() == 77
    batch = pair.translate(rng.integers(0, 255, (2, 20, 24, 3), dtype=np.uint8), size=None)
    assert batch.shape == (2, 20, 24, 3)


def test_translate_works_at_the_training_scale_by_default(pair):
    x = np.random.default_rng(0).integers(0, 255, (64, 48, 3), dtype=np.uint8)
    auto, native, explicit = pair.translate(x), pair.translate(x, size=None), pair.translate(x, size=16)
    np.testing.assert_array_equal(auto, explicit)  # "auto" = the train_size (16) on the shorter side
    assert not np.array_equal(auto, native)
    small = x[:16, :16]
    np.testing.assert_array_equal(pair.translate(small), pair.translate(small, size=None))  # already that size
    # native size = the network on the whole image (fully convolutional), [0, 255] -> [-1, 1] -> uint8
    direct = ops.convert_to_numpy(pair.a_to_b(x[None].astype("float32") / 127.5 - 1.0))[0]
    np.testing.assert_allclose(native, np.round((direct + 1) * 127.5), atol=1)


def test_translate_errors(pair):
    x = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match='direction must be "AtoB" or "BtoA"'):
        pair.translate(x, direction="ab")
    with pytest.raises(ValueError, match="size must be"):
        pair.translate(x, size=2)
    with pytest.raises(ValueError, match="train_size"):
        cyclegan.CycleGenerators(n_blocks=0, filters=2, train_size=30)
    with pytest.raises((ValueError, TypeError)):
        pair.translate(np.zeros((8, 8, 5), np.uint8))  # five channels


def test_save_load_round_trip(pair, tmp_path):
    path = str(tmp_path / "g.weights.h5")
    pair.save_weights(path)
    twin = weights.load_into(cyclegan.CycleGenerators(n_blocks=1, filters=4, train_size=16), path)
    x = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    np.testing.assert_array_equal(twin.translate(x, "BtoA"), pair.translate(x, "BtoA"))
    with pytest.raises(ValueError):
        weights.load_into(cyclegan.CycleGenerators(n_blocks=2, filters=4), path)


# -- CLI ----------------------------------------------------------------------------------------------------
def test_cli_translates_with_a_weights_file(tmp_path):
    from PIL import Image

    from zoo import cli

    arch = cyclegan.CONFIGS["edges2shoes_handbags_128"]
    model = arch.build_generator()
    model.save_weights(str(tmp_path / "g.weights.h5"))
    src = save(tmp_path / "in.png", np.random.default_rng(0).integers(0, 255, (40, 36, 3), dtype=np.uint8))
    out = str(tmp_path / "out.png")
    assert cli.main(["cyclegan", "translate", src, "-o", out, "--direction", "BtoA", "--weights",
                     str(tmp_path / "g.weights.h5"), "--arch", "edges2shoes_handbags_128"]) == 0
    got = np.asarray(Image.open(out))
    assert got.shape == (40, 36, 3)
    np.testing.assert_array_equal(got, model.translate(np.asarray(Image.open(src)), "BtoA"))
    assert cli.main(["cyclegan", "translate", src, "-o", out, "--size", "huge", "--weights",
                     str(tmp_path / "g.weights.h5")]) == 2


# -- the shipped preset -------------------------------------------------------------------------------------
@pytest.mark.skipif(not SHIPPED, reason="no shipped cyclegan preset")
def test_pretrained_reproduces_its_reference_output():
    model = cyclegan.pretrained()
    assert model.preset.name == "edges2shoes_handbags_128"
    x, y = weights.reference(model.preset)
    out = model(x)
    for got, want in zip(out, y):
        np.testing.assert_allclose(ops.convert_to_numpy(got), want, atol=1e-4)


@pytest.mark.skipif(not SHIPPED or not os.path.isdir(SHARED), reason="needs the shipped preset and ../shared")
def test_pretrained_turns_val_edges_into_photos_better_than_the_mean_photo():
    """Two val pairs never trained on: the preset's photos are closer to the true photos than a flat grey."""
    from zoo import data

    files = data.list_images(os.path.join(SHARED, "edges2shoes_handbags", "val"))[:2]
    ab = np.stack([data.read_image(f, 3) for f in files])
    edges, photos = ab[:, :, 256:], ab[:, :, :256]
    fake = cyclegan.pretrained().translate(edges)
    l1 = np.abs(fake.astype(float) - photos).mean() / 255
    assert l1 < np.abs(128.0 - photos).mean() / 255


@pytest.mark.skipif(not SHIPPED, reason="no shipped cyclegan preset")
def test_demo_writes_its_grid(tmp_path):
    from PIL import Image

    (caption, path), = cyclegan.demo(str(tmp_path))
    assert "edges" in caption and Image.open(path).size[0] > 3 * 256


@pytest.mark.skipif(not SHIPPED, reason="no shipped cyclegan preset")
def test_finetune_starts_from_the_preset_and_checks_its_counts(tmp_path):
    a_dir, b_dir = _folders(tmp_path, n_a=2, n_b=2)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        cyclegan.finetune(a_dir, b_dir, steps=0)
    before = cyclegan.pretrained().get_weights()
    model = cyclegan.finetune(a_dir, b_dir, steps=1, image_size=32, verbose=0)
    assert model.preset is None
    assert any(not np.array_equal(w0, w1) for w0, w1 in zip(before, model.get_weights()))
