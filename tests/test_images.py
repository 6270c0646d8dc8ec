"""zoo.images: inference inputs in, the same kind out; errors; grids; padding. NumPy + Pillow only."""
import io
import os

import keras
import numpy as np
import pytest
import skimage.data
from PIL import Image

from zoo import images
from zoo.images import apply_tiled, as_batch, crop, grid, pad_to_multiple, restore, save_png


@pytest.fixture(scope="module")
def photo():
    """A real RGB photo, odd-sized crop so nothing is a power of two."""
    return np.ascontiguousarray(skimage.data.astronaut()[40:101, 100:173])  # (61, 73, 3) uint8


def identity(batch):
    return batch


def upscale2(batch):
    """A stand-in x2 network: nearest-neighbour upsampling of the float batch."""
    return np.repeat(np.repeat(batch, 2, axis=1), 2, axis=2)


# ------------------------------------------------------------------------------------------ round trips


def test_uint8_rgb_single_round_trip(photo):
    batch, spec = as_batch(photo)
    assert batch.shape == (1, 61, 73, 3) and batch.dtype == np.float32
    assert batch.min() >= -1 and batch.max() <= 1
    np.testing.assert_allclose(batch[0], photo / 127.5 - 1, atol=1e-6)
    out = restore(batch, spec)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == photo.shape
    np.testing.assert_array_equal(out, photo)


def test_uint8_batch_stays_batch(photo):
    b = np.stack([photo, photo[::-1]])
    batch, spec = as_batch(b)
    assert batch.shape == (2, 61, 73, 3) and spec.batched
    out = restore(batch, spec)
    assert out.shape == b.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, b)


def test_float_in_float32_out(photo):
    for dtype in (np.float32, np.float64, np.float16):
        x = (photo / 255.0).astype(dtype)
        batch, spec = as_batch(x)
        out = restore(batch, spec)
        assert out.dtype == np.float32 and out.shape == photo.shape
        assert out.min() >= 0 and out.max() <= 1
        np.testing.assert_allclose(out, x.astype(np.float32), atol=1e-3 if dtype == np.float16 else 1e-6)


def test_float_slightly_outside_unit_range_is_clipped():
    x = np.array([[-0.01, 1.01], [0.5, 0.25]], np.float32)
    batch, spec = as_batch(x)
    assert batch.min() == -1 and batch.max() == 1
    out = restore(batch, spec)
    assert out.shape == (2, 2) and out.dtype == np.float32


def test_uint16_round_trip():
    x = (np.arange(20 * 30, dtype=np.uint32).reshape(20, 30) * 100).astype(np.uint16)
    batch, spec = as_batch(x)
    out = restore(batch, spec)
    assert out.dtype == np.uint16 and out.shape == (20, 30)
    np.testing.assert_allclose(out.astype(int), x.astype(int), atol=2)


def test_grey_2d_is_expanded_and_comes_back_2d(photo):
    g = photo[..., 1]
    batch, spec = as_batch(g)
    assert batch.shape == (1, 61, 73, 3)
    np.testing.assert_array_equal(batch[..., 0], batch[..., 2])
    out = restore(batch, spec)
    assert out.shape == g.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out, g)


def test_grey_hw1_comes_back_hw1(photo):
    g = photo[..., :1]
    batch, spec = as_batch(g)
    assert batch.shape == (1, 61, 73, 3)
    out = restore(batch, spec)
    assert out.shape == (61, 73, 1)
    np.testing.assert_array_equal(out, g)


def test_grey_input_colour_output_becomes_luminance(photo):
    """An RGB network may colourise; grey in still means grey out (Pillow's "L" luminance)."""
    _, spec = as_batch(photo[..., 0])
    colour = photo[None] / 127.5 - 1
    out = restore(colour, spec)
    assert out.shape == (61, 73)
    expected = np.asarray(Image.fromarray(photo).convert("L")).astype(int)
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_grey_model_gets_luminance_and_rgb_comes_back(photo):
    batch, spec = as_batch(photo, channels=1)
    assert batch.shape == (1, 61, 73, 1)
    lum = np.asarray(Image.fromarray(photo).convert("L")).astype(np.float32)
    assert np.abs((batch[0, ..., 0] + 1) * 127.5 - lum).max() <= 1
    out = restore(batch, spec)
    assert out.shape == photo.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


def test_grey_model_with_grey_input(photo):
    g = photo[..., 2]
    batch, spec = as_batch(g, channels=1)
    assert batch.shape == (1, 61, 73, 1)
    np.testing.assert_array_equal(restore(batch, spec), g)


def test_rgba_array_alpha_kept_exactly(photo):
    alpha = np.linspace(0, 255, 61 * 73).reshape(61, 73).astype(np.uint8)
    rgba = np.dstack([photo, alpha])
    batch, spec = as_batch(rgba)
    assert batch.shape == (1, 61, 73, 3) and spec.has_alpha
    out = restore(batch, spec)
    assert out.shape == (61, 73, 4)
    np.testing.assert_array_equal(out, rgba)


def test_rgba_alpha_resized_bicubic_when_size_changes(photo):
    alpha = np.asarray(Image.fromarray(skimage.data.camera()).resize((73, 61)))
    img = Image.fromarray(np.dstack([photo, alpha]), "RGBA")
    batch, spec = as_batch(img)
    out = restore(upscale2(batch), spec)
    assert isinstance(out, Image.Image) and out.mode == "RGBA" and out.size == (146, 122)
    expected = np.asarray(Image.fromarray(alpha.astype(np.float32) / 255, "F").resize((146, 122), Image.BICUBIC))
    got = np.asarray(out)[..., 3].astype(float)
    assert np.abs(got - np.clip(expected, 0, 1) * 255).max() <= 1
    # colour went through the "network"
    np.testing.assert_array_equal(np.asarray(out)[::2, ::2, :3], photo)


def test_grey_alpha_two_channels(photo):
    la = np.dstack([photo[..., 0], photo[..., 1]])
    batch, spec = as_batch(la)
    assert batch.shape == (1, 61, 73, 3)
    out = restore(batch, spec)
    assert out.shape == (61, 73, 2)
    np.testing.assert_array_equal(out, la)


@pytest.mark.parametrize("mode,out_mode", [("RGB", "RGB"), ("L", "L"), ("RGBA", "RGBA"), ("LA", "LA"),
                                           ("1", "L"), ("CMYK", "RGB"), ("P", "RGB"), ("YCbCr", "RGB")])
def test_pil_modes(photo, mode, out_mode):
    img = Image.fromarray(photo).convert(mode)
    batch, spec = as_batch(img)
    assert batch.shape == (1, 61, 73, 3) and batch.dtype == np.float32
    out = restore(batch, spec)
    assert isinstance(out, Image.Image) and out.mode == out_mode and out.size == img.size
    reference = np.asarray(img.convert(out_mode)).astype(int)
    assert np.abs(np.asarray(out).astype(int) - reference).max() <= 1


def test_pil_palette_with_transparency_becomes_rgba():
    img = Image.new("P", (9, 7))
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (0, 0, 4, 7))
    img.info["transparency"] = 0
    batch, spec = as_batch(img)
    assert spec.has_alpha
    out = restore(batch, spec)
    assert out.mode == "RGBA"
    a = np.asarray(out)
    assert (a[:, :4, 3] == 255).all() and (a[:, 4:, 3] == 0).all() and (a[:, :4, 0] == 255).all()


def test_pil_16bit_and_float_modes():
    x = (np.arange(12 * 10).reshape(12, 10) * 500).astype(np.uint16)
    img16 = Image.fromarray(x)
    assert img16.mode == "I;16"
    batch, spec = as_batch(img16)
    out = restore(batch, spec)
    assert out.mode == "I;16"
    np.testing.assert_allclose(np.asarray(out).astype(int), x.astype(int), atol=2)

    f = np.linspace(0, 1, 120, dtype=np.float32).reshape(12, 10)
    out = restore(*as_batch(Image.fromarray(f, "F")))
    assert out.mode == "F"
    np.testing.assert_allclose(np.asarray(out), f, atol=1e-6)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_path_in_pil_out(tmp_path, photo, mode):
    path = tmp_path / f"in_{mode}.png"
    Image.fromarray(photo).convert(mode).save(path)
    for p in (path, str(path)):
        batch, spec = as_batch(p)
        assert batch.shape == (1, 61, 73, 3) and spec.kind == "path"
        out = restore(batch, spec)
        assert isinstance(out, Image.Image) and out.mode == mode
        np.testing.assert_array_equal(np.asarray(out), np.asarray(Image.open(path)))


def test_path_exif_orientation_applied(tmp_path, photo):
    img = Image.fromarray(photo)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif, quality=95)
    batch, _ = as_batch(path)
    assert batch.shape == (1, 73, 61, 3)


def test_list_of_mixed_kinds(tmp_path, photo):
    path = tmp_path / "p.png"
    Image.fromarray(photo).save(path)
    items = [photo, photo / 255.0, Image.fromarray(photo[..., 0]), str(path), np.stack([photo, photo])]
    batch, spec = as_batch(items)
    assert batch.shape == (6, 61, 73, 3) and spec.kind == "list"
    out = restore(batch, spec)
    assert isinstance(out, list) and len(out) == 5
    assert out[0].dtype == np.uint8 and out[0].shape == photo.shape
    assert out[1].dtype == np.float32 and out[1].shape == photo.shape
    assert isinstance(out[2], Image.Image) and out[2].mode == "L"
    assert isinstance(out[3], Image.Image) and out[3].mode == "RGB"
    assert out[4].shape == (2, 61, 73, 3)
    np.testing.assert_array_equal(out[4][1], photo)


def test_restore_takes_backend_tensors_and_other_sizes(photo):
    batch, spec = as_batch(photo)
    out = restore(keras.ops.convert_to_tensor(upscale2(batch)), spec)
    assert isinstance(out, np.ndarray) and out.shape == (122, 146, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[1::2, 1::2], photo)
    # as_batch reads backend tensors as arrays
    again, spec2 = as_batch(keras.ops.convert_to_tensor(photo))
    np.testing.assert_array_equal(again, batch)
    assert spec2.kind == "array"


def test_restore_uint8_batch_and_out_of_range_values_clipped(photo):
    batch, spec = as_batch(photo)
    np.testing.assert_array_equal(restore(((batch + 1) * 127.5).round().astype(np.uint8), spec), photo)
    out = restore(batch * 3, spec)
    assert out.min() == 0 and out.max() == 255


def test_restore_errors(photo):
    batch, spec = as_batch(photo)
    with pytest.raises(ValueError, match="holds 2 images but the input had 1"):
        restore(np.concatenate([batch, batch]), spec)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        restore(np.zeros((1, 4, 4, 2), np.float32), spec)


# ----------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("x,error,match", [
    (np.zeros((0, 5, 3), np.uint8), ValueError, "empty image"),
    (np.zeros((5, 0), np.uint8), ValueError, "empty image"),
    (np.zeros((2, 4, 0, 4, 3), np.uint8), ValueError, "5-D"),
    (np.zeros((1, 2, 3, 4, 3), np.uint8), ValueError, "5-D"),
    (np.zeros(16, np.uint8), ValueError, "1-D"),
    (np.zeros((4, 4), bool), TypeError, "boolean"),
    (np.zeros((4, 4), np.complex64), TypeError, "complex"),
    (np.empty((4, 4), object), TypeError, "object"),
    (np.zeros((4, 4), np.int64), TypeError, "int64 is ambiguous"),
    (np.zeros((4, 4, 5), np.uint8), ValueError, "5 channels"),
    (np.zeros((3, 16, 16), np.uint8), ValueError, "16 channels.*channels-first"),
    (np.zeros((2, 8, 8, 6), np.uint8), ValueError, "6 channels"),
    (np.array([[0.0, np.nan]], np.float32), ValueError, "NaN or inf"),
    (np.array([[0.0, np.inf]], np.float32), ValueError, "NaN or inf"),
    (np.full((4, 4), 200.0), ValueError, r"\[0, 1\].*uint8"),
    (np.full((4, 4), -1.0), ValueError, r"\[-1, 1\]"),
    (Image.new("RGB", (0, 4)), ValueError, "empty image"),
    ([], ValueError, "empty list"),
    ([[0, 1], [1, 0]], TypeError, "nested lists"),
    (b"\x89PNG", TypeError, "bytes"),
    ({"image": 1}, TypeError, "dict"),
    (None, TypeError, "NoneType"),
])
def test_bad_inputs(x, error, match):
    with pytest.raises(error, match=match):
        as_batch(x)


def test_bad_channels_argument(photo):
    with pytest.raises(ValueError, match="channels must be 1"):
        as_batch(photo, channels=4)


def test_list_of_different_sizes_names_sizes(photo):
    with pytest.raises(ValueError, match="same size.*61x73, 61x72"):
        as_batch([photo, photo[:, :72]])


def test_list_error_names_the_item(photo):
    with pytest.raises(TypeError, match="item 1 of the list.*boolean"):
        as_batch([photo, np.zeros((61, 73), bool)])


def test_missing_file_named(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        as_batch(path)


def test_non_image_file_named(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png.*not an image"):
        as_batch(str(path))


def test_truncated_file_named(tmp_path, photo):
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buf.getvalue()[:200])
    with pytest.raises(ValueError, match="cut.png"):
        as_batch(path)


def test_directory_is_not_an_image(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        as_batch(tmp_path)


# ------------------------------------------------------------------------------------------ grid, PNG


def test_grid_layout_and_values():
    n, h, w = 5, 6, 7
    batch = np.stack([np.full((h, w, 3), i / 2 - 1, np.float32) for i in range(n)])  # -1, -.5, 0, .5, 1
    g = grid(batch, pad=2)
    assert g.dtype == np.uint8 and g.shape == (2 * (h + 2) + 2, 3 * (w + 2) + 2, 3)  # ncols = ceil(sqrt(5)) = 3
    expected = [0, 64, 128, 191, 255]
    for i in range(n):
        r, c = divmod(i, 3)
        tile = g[2 + r * (h + 2):2 + r * (h + 2) + h, 2 + c * (w + 2):2 + c * (w + 2) + w]
        assert (np.abs(tile.astype(int) - expected[i]) <= 1).all()
    assert (g[:2] == 0).all() and (g[:, :2] == 0).all()  # frame
    # the empty sixth cell stays padding
    assert (g[2 + h + 2:, 2 + 2 * (w + 2):] == 0).all()


def test_grid_options():
    u8 = np.arange(4 * 3 * 5, dtype=np.uint8).reshape(4, 3, 5)  # grey batch without channel axis
    g = grid(u8, ncols=4, pad=0)
    assert g.shape == (3, 20)
    np.testing.assert_array_equal(g[:, 5:10], u8[1])
    assert grid(u8[..., None], ncols=1, pad=1, pad_value=255).shape == (4 * 4 + 1, 7)
    assert grid(list(np.zeros((2, 4, 4, 3), np.float32)), ncols=10).shape == (8, 14, 3)
    with pytest.raises(ValueError, match="batch"):
        grid(np.zeros((4, 4), np.uint8))


def test_save_png(tmp_path, photo):
    p = save_png(tmp_path / "deep" / "a.png", photo)
    np.testing.assert_array_equal(np.asarray(Image.open(p)), photo)
    batch, _ = as_batch(photo)
    np.testing.assert_array_equal(np.asarray(Image.open(save_png(tmp_path / "f.png", batch[0]))), photo)
    sheet = np.asarray(Image.open(save_png(tmp_path / "g.png", np.concatenate([batch] * 3))))
    np.testing.assert_array_equal(sheet, grid(np.concatenate([batch] * 3)))
    np.testing.assert_array_equal(np.asarray(Image.open(save_png(tmp_path / "g1.png", photo[..., :1]))), photo[..., 0])
    img = Image.fromarray(photo).convert("LA")
    assert Image.open(save_png(tmp_path / "la.png", img)).mode == "LA"
    with pytest.raises(TypeError, match="int64"):
        save_png(tmp_path / "x.png", np.zeros((4, 4), np.int64))


# ----------------------------------------------------------------------------------------------- padding


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "constant"])
def test_pad_crop_round_trip(photo, mode):
    batch, _ = as_batch(photo)
    padded, box = pad_to_multiple(batch, 16, mode=mode)
    assert padded.shape == (1, 64, 80, 3)
    assert box == images.Crop(top=1, left=3, height=61, width=73)
    np.testing.assert_array_equal(crop(padded, box), batch)


def test_pad_reflects_and_scales(photo):
    x = photo.astype(np.float32)  # (H, W, C) also works
    padded, box = pad_to_multiple(x, (8, 4))
    assert padded.shape == (64, 76, 3)
    np.testing.assert_array_equal(padded[box.top - 1, box.left:box.left + box.width], x[1])  # reflect mirrors
    big = upscale2(padded[None])  # a x2 network
    np.testing.assert_array_equal(crop(big, box, scale=2)[0], upscale2(x[None])[0])


def test_pad_noop_and_tiny(photo):
    b = np.zeros((2, 32, 48, 3), np.float32)
    same, box = pad_to_multiple(b, 16)
    assert same is b and box == images.Crop(0, 0, 32, 48)
    one = np.ones((1, 1, 1, 3), np.float32)
    padded, box = pad_to_multiple(one, 8)
    assert padded.shape == (1, 8, 8, 3) and (padded == 1).all()
    with pytest.raises(ValueError, match="shape"):
        pad_to_multiple(np.zeros((4, 4)), 8)
    with pytest.raises(ValueError, match="does not fit"):
        crop(np.zeros((1, 4, 4, 3)), images.Crop(0, 0, 8, 8))


def test_load_image_reads_16bit_png(tmp_path):
    x = (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(x).save(path)
    pixels, mode = images.pil_to_array(images.load_image(path))
    assert mode in ("I;16", "I") and pixels.dtype == np.uint16 and pixels.shape == (8, 8, 1)
    np.testing.assert_array_equal(pixels[..., 0], x)
    assert os.path.exists(path)


# ----------------------------------------------------------------------------------------------- tiling


def conv_net(scale=2, upsampler="shuffle", seed=0):
    """A random-weight fully convolutional x``scale`` net: 3 stacked 3x3 convs (receptive radius 3 input px),
    then pixel shuffle, or nearest upsampling followed by a 3x3 conv at the output size (radius 1 more)."""
    from zoo.layers import PixelShuffle

    keras.utils.set_random_seed(seed)
    x = inp = keras.Input((None, None, 3))
    for _ in range(2):
        x = keras.layers.Conv2D(8, 3, padding="same", activation="tanh")(x)
    if upsampler == "shuffle":
        x = keras.layers.Conv2D(3 * scale * scale, 3, padding="same")(x)
        x = PixelShuffle(scale)(x)
    else:
        x = keras.layers.Conv2D(8, 3, padding="same", activation="tanh")(x)
        x = keras.layers.UpSampling2D(scale, interpolation="nearest")(x)
        x = keras.layers.Conv2D(3, 3, padding="same")(x)
    return keras.Model(inp, x)


@pytest.fixture(scope="module")
def odd_batch():
    return np.random.default_rng(0).uniform(-1, 1, (2, 37, 53, 3)).astype(np.float32)


@pytest.mark.parametrize("tile,overlap,feather,batch_size", [(24, 8, 0, None), (16, 4, 0, 3), (24, 8, 4, 2),
                                                              ((12, 20), (3, 5), 0, 40)])
def test_tiled_equals_untiled_for_a_conv_net(odd_batch, tile, overlap, feather, batch_size):
    """Receptive radius 3 <= overlap - feather: tiling is exact up to float rounding, seams included."""
    net = conv_net(2)
    whole = net.predict_on_batch(odd_batch)
    out = apply_tiled(net, odd_batch, tile=tile, overlap=overlap, scale=2, feather=feather, batch_size=batch_size)
    assert out.shape == (2, 74, 106, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, whole, atol=1e-5)
    np.testing.assert_allclose(apply_tiled(net, odd_batch, scale=2), whole, atol=1e-6)  # tile=None


def test_tiled_x4_nearest_upsampler(odd_batch):
    net = conv_net(4, upsampler="nearest")
    whole = net.predict_on_batch(odd_batch[:1])
    out = apply_tiled(net.predict_on_batch, odd_batch[0], tile=20, overlap=4, scale=4)
    assert out.shape == (148, 212, 3)
    np.testing.assert_allclose(out, whole[0], atol=1e-5)


def test_too_little_overlap_shows(odd_batch):
    """The rule is tight enough to matter: context smaller than the receptive radius changes the output."""
    net = conv_net(2)
    whole = net.predict_on_batch(odd_batch[:1])
    out = apply_tiled(net, odd_batch[:1], tile=12, overlap=1, scale=2)
    assert np.abs(out - whole).max() > 1e-3


def test_tiled_downsampling_net_with_multiple(odd_batch):
    """Two stride-2 convs need sizes divisible by 4: windows are padded/aligned to 4 and tiling stays exact."""
    keras.utils.set_random_seed(1)
    inp = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="tanh")(inp)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="tanh")(x)
    x = keras.layers.UpSampling2D(4)(x)
    net = keras.Model(inp, keras.layers.Conv2D(3, 3, padding="same")(x))
    whole = apply_tiled(net, odd_batch, multiple=4)
    padded, box = pad_to_multiple(odd_batch, 4)
    np.testing.assert_allclose(whole, crop(net.predict_on_batch(padded), box), atol=1e-6)
    np.testing.assert_allclose(apply_tiled(net, odd_batch, tile=30, overlap=7, multiple=4), whole, atol=1e-5)


@pytest.mark.parametrize("shape", [(37, 53), (53, 37), (1, 40), (5, 3), (1, 1), (24, 24), (25, 23)])
@pytest.mark.parametrize("tile,overlap", [(3, 1), (8, 2), (24, 8), (10, 0)])
def test_identity_is_exact_for_any_tile(shape, tile, overlap):
    x = np.random.default_rng(1).uniform(-1, 1, (2, *shape, 3)).astype(np.float32)
    np.testing.assert_array_equal(apply_tiled(identity, x, tile=tile, overlap=overlap), x)
    np.testing.assert_array_equal(apply_tiled(upscale2, x, tile=tile, overlap=overlap, scale=2), upscale2(x))
    if overlap:
        np.testing.assert_allclose(apply_tiled(identity, x, tile=tile, overlap=overlap, feather=overlap), x,
                                   atol=1e-6)


def test_multiple_pads_and_crops_back():
    seen = []

    def net(b):
        assert b.shape[1] % 8 == 0 and b.shape[2] % 8 == 0, b.shape
        seen.append(b.shape)
        return upscale2(b)

    x = np.random.default_rng(2).uniform(-1, 1, (1, 37, 53, 3)).astype(np.float32)
    np.testing.assert_array_equal(apply_tiled(net, x, scale=2, multiple=8), upscale2(x))
    assert seen == [(1, 40, 56, 3)]
    seen.clear()
    out = apply_tiled(net, x, tile=30, overlap=3, scale=2, multiple=8)
    np.testing.assert_array_equal(out, upscale2(x))
    assert all(s[1] <= 30 and s[2] <= 30 for s in seen) and len(set(seen)) == 1  # one window shape


def test_progress_counts_tiles(odd_batch):
    calls = []
    apply_tiled(identity, odd_batch, tile=24, overlap=8, batch_size=4, progress=lambda d, t: calls.append((d, t)))
    # 37 rows -> 3 windows, 53 columns -> 5: 15 tiles an image, 4 calls an image
    assert calls == [(d, 30) for d in (4, 8, 12, 15, 19, 23, 27, 30)]
    calls.clear()
    apply_tiled(identity, odd_batch, batch_size=1, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]


def test_tiled_errors(odd_batch):
    with pytest.raises(ValueError, match=r"tile \(16\) must be larger than 2\*overlap"):
        apply_tiled(identity, odd_batch, tile=16, overlap=8)
    with pytest.raises(ValueError, match="tile must be >= 1"):
        apply_tiled(identity, odd_batch, tile=0)
    with pytest.raises(ValueError, match="overlap must be >= 0"):
        apply_tiled(identity, odd_batch, tile=8, overlap=-1)
    with pytest.raises(TypeError, match="scale must be an integer"):
        apply_tiled(identity, odd_batch, scale=1.5)
    with pytest.raises(ValueError, match="scale must be >= 1"):
        apply_tiled(identity, odd_batch, scale=0)
    with pytest.raises(ValueError, match="multiple must be >= 1"):
        apply_tiled(identity, odd_batch, multiple=0)
    with pytest.raises(ValueError, match="feather must be in 0..overlap"):
        apply_tiled(identity, odd_batch, tile=32, overlap=4, feather=5)
    with pytest.raises(ValueError, match="leaves no core"):
        apply_tiled(identity, odd_batch, tile=10, overlap=3, multiple=4)
    with pytest.raises(ValueError, match=r"returned shape \(1, 24, 24, 3\).*expected \(1, 48, 48, C\) with scale=2"):
        apply_tiled(identity, odd_batch, tile=24, overlap=4, scale=2)
    with pytest.raises(ValueError, match=r"returned shape \(2, 37, 53, 3\).*expected \(2, 74, 106, C\)"):
        apply_tiled(identity, odd_batch, scale=2)
    with pytest.raises(ValueError, match="empty image"):
        apply_tiled(identity, np.zeros((1, 0, 5, 3), np.float32))
    with pytest.raises(ValueError, match="got shape"):
        apply_tiled(identity, np.zeros((5, 5), np.float32))
    with pytest.raises(TypeError, match="callable"):
        apply_tiled(None, odd_batch)
