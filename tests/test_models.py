"""Generator.map_images: the shared image-to-image verb (upscale / translate / inpaint build on it)."""
import keras
import numpy as np
import pytest
from PIL import Image

from zoo.layers import PixelShuffle
from zoo.models import Generator

pytestmark = pytest.mark.core


class TinySR(Generator):
    """3x3 conv -> conv to 4*C -> pixel shuffle x2: receptive-field radius 2 input pixels."""

    def __init__(self, channels=3, **kwargs):
        x_in = keras.Input((None, None, channels))
        x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x_in)
        x = keras.layers.Conv2D(4 * channels, 3, padding="same", activation="tanh")(x)
        super().__init__(x_in, PixelShuffle(2)(x), config=dict(channels=channels), **kwargs)


@pytest.fixture(scope="module")
def net():
    keras.utils.set_random_seed(0)
    return TinySR()


def photo(h=21, w=30, c=3):
    return np.random.default_rng(1).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_kinds_come_back(net, tmp_path):
    x = photo()
    out = net.map_images(x, scale=2)
    assert out.dtype == np.uint8 and out.shape == (42, 60, 3)
    f = net.map_images(x.astype("float32") / 255.0, scale=2)
    assert f.dtype == np.float32 and f.shape == (42, 60, 3) and 0.0 <= f.min() and f.max() <= 1.0
    np.testing.assert_allclose(f * 255.0, out, atol=1.0)
    grey = net.map_images(Image.fromarray(x[..., 0]), scale=2)
    assert isinstance(grey, Image.Image) and grey.mode == "L" and grey.size == (60, 42)
    rgba = net.map_images(Image.fromarray(np.dstack([x, np.full(x.shape[:2], 200, np.uint8)])), scale=2)
    assert rgba.mode == "RGBA" and np.asarray(rgba)[..., 3].min() >= 195
    Image.fromarray(x).save(tmp_path / "in.png")
    assert net.map_images(str(tmp_path / "in.png"), scale=2).size == (60, 42)
    assert net.map_images(np.stack([x, x]), scale=2).shape == (2, 42, 60, 3)


def test_tiled_equals_untiled(net):
    x = photo(37, 53)
    whole = net.map_images(x.astype("float32") / 255.0, scale=2)
    done = []
    tiled = net.map_images(x.astype("float32") / 255.0, scale=2, tile=16, overlap=4,
                           progress=lambda d, t: done.append((d, t)))
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    assert done and done[-1][0] == done[-1][1] > 1


def test_bad_inputs(net, tmp_path):
    with pytest.raises(ValueError):
        net.map_images(np.zeros((1, 2, 8, 8, 3), np.uint8), scale=2)
    with pytest.raises(ValueError):
        net.map_images(np.zeros((0, 8, 3), np.uint8), scale=2)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        net.map_images(str(tmp_path / "notes.png"), scale=2)
    with pytest.raises(ValueError):
        net.map_images(photo(), scale=3)  # the network doubles; a wrong scale is caught on its output shape
