"""The basics app: architectures, the generate verb, shipped presets, data, fine-tuning, CLI and demo."""
import gzip
import os

import keras
import numpy as np
import pytest
from PIL import Image

from helpers import count
from zoo import weights
from zoo.apps import dcgan
from zoo.cli import main as cli

pytestmark = pytest.mark.core


def test_reference_parameter_counts():
    """pytorch/examples/dcgan at 64x64x3, nz=100, ngf=ndf=64: G 3,576,704 and D 2,765,568 parameters."""
    assert count(dcgan.DCGANGenerator(latent_dim=100, image_size=64, channels=3, filters=64, upsamplings=4)) \
        == 3_576_704
    assert count(dcgan.DCGANDiscriminator(image_size=64, channels=3, filters=64, downsamplings=4)) == 2_765_568


def test_conditional_generator_parameter_count():
    g = dcgan.CONFIGS["mnist_cdcgan"].build_generator()
    # projection 100->7x7x128 (no bias) + label embedding 10x50 + dense 50->49 + BN(129) gamma/beta
    # + convT 4x4 129->64 + BN(64) + convT 4x4 64->1 (no bias)
    expected = 100 * 49 * 128 + 500 + (50 * 49 + 49) + 2 * 129 + 16 * 129 * 64 + 2 * 64 + 16 * 64 * 1
    assert count(g) == expected == 763_705
    assert g.output_shape == (None, 28, 28, 1)


@pytest.mark.parametrize("size,up", [(28, 2), (32, 3), (64, 4)])
def test_dcgan_shapes(size, up):
    g = dcgan.DCGANGenerator(latent_dim=16, image_size=size, channels=3, filters=4, upsamplings=up)
    d = dcgan.DCGANDiscriminator(image_size=size, channels=3, filters=4, downsamplings=up)
    x = g(np.zeros((2, 16), "float32"))
    assert tuple(x.shape) == (2, size, size, 3)
    assert tuple(d(x).shape) == (2, 1)


def test_bad_image_size():
    with pytest.raises(ValueError, match="divisible"):
        dcgan.DCGANGenerator(image_size=30, upsamplings=2)


def test_generate_verb():
    g = dcgan.DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=3)
    a = g.generate(5, labels=[0, 1, 2, 0, 1], seed=3)
    assert a.dtype == np.uint8 and a.shape == (5, 8, 8, 1)
    np.testing.assert_array_equal(a, g.generate(5, labels=[0, 1, 2, 0, 1], seed=3))
    assert g.generate(4, labels=2, seed=0).shape == (4, 8, 8, 1)
    with pytest.raises(ValueError, match="class-conditional"):
        g.generate(2)
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        g.generate(2, labels=[0, 3])
    with pytest.raises(ValueError, match="shape"):
        g.generate(3, labels=[0, 1])
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        g.generate(0, labels=1)
    u = dcgan.DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4)
    with pytest.raises(ValueError, match="not class-conditional"):
        u.generate(2, labels=1)


@pytest.mark.parametrize("name", ["mnist_cdcgan", "mnist_dcgan"])
def test_pretrained_reproduces_reference(name):
    preset = weights.get("dcgan", name)
    path = weights.find_file(preset.file)
    assert weights.sha256(path) == preset.sha256
    g = dcgan.pretrained(name)
    assert weights.check_reference(g, preset) < 1e-4
    assert g.preset.metrics  # measured numbers travel with the preset


def test_default_preset_is_conditional_and_meets_the_bar():
    g = dcgan.pretrained()
    assert g.num_classes == 10
    assert g.preset.metrics["conditional_accuracy"] >= 0.90


def _write_csv(path, n=32):
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.integers(0, 256, (n, 784)), rng.integers(0, 10, (n, 1))], axis=1)
    with gzip.open(path, "wt") as f:
        np.savetxt(f, rows, fmt="%d", delimiter=",")


def test_dataset_sources_and_finetune(tmp_path):
    _write_csv(tmp_path / "d.csv.gz")
    ds = dcgan.dataset(str(tmp_path / "d.csv.gz"), batch_size=8)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (8, 28, 28, 1) and tuple(y.shape) == (8,)
    assert -1.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
    for c in ("3", "7"):
        os.makedirs(tmp_path / "folder" / c)
        for i in range(4):
            Image.fromarray(np.full((20, 24), 40 * i, "uint8")).save(tmp_path / "folder" / c / f"{i}.png")
    fx, fy = next(iter(dcgan.dataset(str(tmp_path / "folder"), batch_size=4)))
    assert tuple(fx.shape) == (4, 28, 28, 1) and set(np.asarray(fy).tolist()) <= {0, 1}
    gan = dcgan.build("mnist_cdcgan")
    gan.compile()
    before = [np.array(w) for w in gan.generator.get_weights()]
    h = gan.fit(ds, epochs=1, verbose=0).history
    assert np.isfinite(h["g_loss"][-1])
    assert any(not np.array_equal(a, b) for a, b in zip(before, gan.generator.get_weights()))


def test_cli_generate_and_demo(tmp_path, capsys):
    out = tmp_path / "sevens.png"
    assert cli(["dcgan", "generate", "-o", str(out), "--labels", "7", "-n", "4", "--seed", "0"]) == 0
    assert Image.open(out).size[0] > 28
    assert cli(["demo", "-o", str(tmp_path / "gallery"), "-q"]) == 0
    index = (tmp_path / "gallery" / "index.html").read_text()
    assert "dcgan/mnist_cdcgan.png" in index
    assert Image.open(tmp_path / "gallery" / "dcgan" / "mnist_cdcgan.png").size == (10 * 28 + 11 * 2,) * 2
    assert cli(["presets"]) == 0
    assert "dcgan/mnist_cdcgan" in capsys.readouterr().out
    assert cli(["dcgan", "generate", "-o", str(out), "--preset", "nope"]) == 2


@pytest.mark.parametrize("make", [
    lambda: dcgan.DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=3),
    lambda: dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4, minibatch_features=3, num_classes=3),
    lambda: dcgan.MLPGenerator(latent_dim=4, output_shape=(2,), units=(8,), output_activation="linear"),
])
def test_keras_file_loads_with_safe_mode(tmp_path, make):
    model = make()
    inputs = [np.random.default_rng(0).normal(size=(2,) + tuple(i.shape[1:])).astype("float32")
              if i.dtype != "int32" else np.array([0, 2], "int32") for i in model.inputs]
    inputs = inputs if len(inputs) > 1 else inputs[0]
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(inputs)), keras.ops.convert_to_numpy(model(inputs)),
                               atol=1e-6)
