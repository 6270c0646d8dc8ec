"""zoo.apps.inpainting: gated convolution, contextual attention (a hole whose content exists in the known region
is filled with it exactly), the reference's parameter counts, the SN-PatchGAN hinge losses and the fakes hook,
the mask generators, data, inpaint on what users have, the CLI, the shipped presets, and the errors."""
import os

import keras
import numpy as np
import pytest
from keras import ops

from helpers import app_script, changed, conv, count, numpy_of, save, snapshot
from zoo import weights
from zoo.apps import inpainting
from zoo.apps.inpainting import masks
from zoo.apps.inpainting.networks import ContextualAttention, GatedConv2D, _fold, _patches
from zoo.layers import Blur2D

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
SHIPPED = {name: f"inpainting/{name}" in weights.presets() for name in ("celeba_128", "photos_128")}


def tiny_gan(adversarial=True, **kwargs):
    g = inpainting.InpaintGenerator(width=8)
    d = inpainting.SNPatchDiscriminator(width=4) if adversarial else None
    gan = inpainting.Inpainting(g, d, seed=0, **kwargs)
    gan.compile()
    return gan


def batch(n=2, size=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, size, size, 3)).astype("float32")
    m = np.stack([masks.training_mask(size, size, rng) for _ in range(n)])[..., None].astype("float32")
    return x, m


# -- gated convolution and contextual attention ---------------------------------------------------------------
def test_gated_convolution_is_elu_features_times_sigmoid_gates():
    layer = GatedConv2D(5, 3, strides=2, dilation_rate=1)
    x = np.random.default_rng(0).standard_normal((2, 9, 10, 4)).astype("float32")
    y = numpy_of(layer(x))
    assert y.shape == (2, 5, 5, 5)
    raw = numpy_of(layer.conv(x))  # one convolution to 2 x 5 channels: features then gates
    want = numpy_of(keras.activations.elu(raw[..., :5])) / (1 + np.exp(-raw[..., 5:]))
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    relu = GatedConv2D(3, 3, dilation_rate=4, activation="relu")
    assert numpy_of(relu(x)).shape == (2, 9, 10, 3) and numpy_of(relu(x)).min() >= 0.0
    assert GatedConv2D.from_config(relu.get_config()).get_config() == relu.get_config()


def test_paste_back_is_the_transpose_of_patch_extraction():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 12, 3)).astype("float32")
    p = rng.standard_normal((2, 4, 6, 48)).astype("float32")
    lhs = np.sum(numpy_of(_patches(x, 4, 2)) * p)
    rhs = np.sum(x * numpy_of(_fold(p, 4, 2, 3)))
    assert abs(lhs - rhs) < 1e-3 * abs(lhs)


@pytest.mark.parametrize("fuse", [True, False])
def test_contextual_attention_fills_a_hole_with_the_known_patch_it_matches(fuse):
    """The lower half of the features repeats the upper half; a hole in the lower half is filled from the known
    copy 16 rows up, exactly (every hole position finds its own patch, and the pasted 4x4 patches agree)."""
    rng = np.random.default_rng(0)
    f = rng.standard_normal((2, 32, 32, 16)).astype("float32")
    f[:, 16:] = f[:, :16]
    m = np.zeros((2, 32, 32, 1), "float32")
    m[0, 20:28, 8:24] = 1
    m[1, 18:30, 2:14] = 1  # per-image masks
    y = numpy_of(ContextualAttention(fuse=fuse)([f, m]))
    for i in range(2):
        hole = m[i, ..., 0] > 0
        np.testing.assert_allclose(y[i][hole], f[i][hole], atol=1e-4)


def test_contextual_attention_never_copies_from_the_hole():
    """Features in the hole are unique (nothing known matches them): the output there is a mix of known patches,
    never the hole's own content; with nothing known at all the output is zero."""
    rng = np.random.default_rng(1)
    f = rng.standard_normal((1, 16, 16, 8)).astype("float32")
    m = np.zeros((1, 16, 16, 1), "float32")
    m[0, 4:12, 4:12] = 1
    f[0, 4:12, 4:12] = 50.0  # a loud patch only the hole has
    y = numpy_of(ContextualAttention()([f, m]))
    assert np.abs(y[0, 4:12, 4:12]).max() < 10.0
    assert np.abs(numpy_of(ContextualAttention()([f, np.ones_like(m)]))).max() == 0.0


# -- architecture ------------------------------------------------------------------------------------------
def _gated(k, cin, cnum):
    """The reference's gen_conv(x, cnum, k) on cin channels: one convolution to cnum, cnum // 2 out."""
    return conv(k, cin, cnum), cnum // 2


def test_parameter_counts_equal_the_reference_configuration():
    """cnum 48, 5 input channels (image, ones, mask): 4,052,478 (the paper's "4.1M"), counted layer by layer
    from the reference's build_inpaint_net; the SN-PatchGAN on image + mask 5,946,816."""
    c = 48

    def chain(cin, layers):
        total = 0
        for k, cnum in layers:
            n, cin = _gated(k, cin, cnum)
            total += n
        return total, cin

    s1, ch = chain(5, [(5, c), (3, 2 * c), (3, 2 * c), (3, 4 * c), (3, 4 * c), (3, 4 * c)] + [(3, 4 * c)] * 4)
    dec = lambda cin: chain(cin, [(3, 4 * c), (3, 4 * c), (3, 2 * c), (3, 2 * c), (3, c), (3, c // 2)])  # noqa
    d1, ch = dec(ch)
    rgb1 = conv(3, ch, 3)
    hal, ch_h = chain(3, [(5, c), (3, c), (3, 2 * c), (3, 2 * c), (3, 4 * c), (3, 4 * c)] + [(3, 4 * c)] * 4)
    att, ch_a = chain(3, [(5, c), (3, c), (3, 2 * c), (3, 4 * c), (3, 4 * c), (3, 4 * c), (3, 4 * c), (3, 4 * c)])
    d2, ch = dec(ch_h + ch_a)
    total = s1 + d1 + rgb1 + hal + att + d2 + conv(3, ch, 3)
    assert total == 4_052_478
    assert count(inpainting.InpaintGenerator()) == total
    d = 0
    for cin, cout in ((4, 64), (64, 128), (128, 256), (256, 256), (256, 256), (256, 256)):
        d += conv(5, cin, cout)
    assert count(inpainting.SNPatchDiscriminator()) == d == 5_946_816


def test_antialiased_discriminator_has_no_period_2_pattern_in_its_input_gradient():
    """``SNPatchDiscriminator(antialias=True)``: the same weights as the plain D, a ``Blur2D`` before each strided
    convolution, and an input gradient (what G follows) with next to nothing at the Nyquist frequency, where the
    plain stride-2 D puts its grid."""
    plain = inpainting.SNPatchDiscriminator(width=8)
    smooth = inpainting.SNPatchDiscriminator(width=8, antialias=True)
    assert count(plain) == count(smooth) and smooth.get_config()["antialias"] is True
    smooth.set_weights(plain.get_weights())
    x = np.random.default_rng(1).standard_normal((2, 128, 128, 4)).astype("float32")
    assert numpy_of(smooth(x)).shape == numpy_of(plain(x)).shape == (2, 2, 2, 32)

    def nyquist_share(d):
        g = input_gradient(d, x)[:, 16:-16, 16:-16]  # away from the reflected edges
        power = np.abs(np.fft.fft2(g, axes=(1, 2))) ** 2
        n = g.shape[1] // 2
        return (power[:, n].sum() + power[:, :, n].sum()) / power.sum()

    plain_share, smooth_share = nyquist_share(plain), nyquist_share(smooth)
    assert plain_share > 0.005 and smooth_share < 0.05 * plain_share, (plain_share, smooth_share)


def test_discriminator_without_spectral_norm_has_plain_convolutions_and_the_same_kernels():
    """``SNPatchDiscriminator(spectral_norm=False)``: the same convolutions, unwrapped (no power-iteration vectors),
    so it computes what the spectrally normalised D's raw kernels would without the division; its config says so
    and round-trips."""
    sn = inpainting.SNPatchDiscriminator(width=8)
    plain = inpainting.SNPatchDiscriminator(width=8, spectral_norm=False)
    wrapped = [la for la in sn.layers if isinstance(la, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 6 and not any(isinstance(la, keras.layers.SpectralNormalization) for la in plain.layers)
    assert [w.shape for w in plain.trainable_weights] == [w.shape for w in sn.trainable_weights]
    assert len(plain.non_trainable_weights) == 0 < len(sn.non_trainable_weights)
    assert plain.get_config()["spectral_norm"] is False and sn.get_config()["spectral_norm"] is True
    again = inpainting.SNPatchDiscriminator.from_config(plain.get_config())
    assert not any(isinstance(la, keras.layers.SpectralNormalization) for la in again.layers)
    x = np.random.default_rng(2).standard_normal((1, 64, 64, 4)).astype("float32")
    again.set_weights(plain.get_weights())
    np.testing.assert_allclose(numpy_of(again(x)), numpy_of(plain(x)), atol=1e-6)
    manual = x
    for la in plain.layers:
        if isinstance(la, keras.layers.Conv2D):
            manual = numpy_of(keras.ops.leaky_relu(la(manual), 0.2))
    np.testing.assert_allclose(numpy_of(plain(x)), manual, atol=1e-5)


def test_feature_matching_is_the_mean_over_d_layers_of_the_activation_l1_by_hand():
    """``Inpainting(feature_matching=w)``: w x the mean over D's six LeakyReLU outputs of the mean absolute
    difference between D's activations for the pasted fill and for the original (per example), computed here from
    D's functional graph; 0 where the fill is the original; logged; refused below 0 or without a D."""
    import dataclasses

    tiny = dataclasses.replace(inpainting.CONFIGS["celeba_128"], config={"width": 4},
                               discriminator_config={"width": 4, "channels": 4})
    gan = inpainting.build(tiny, feature_matching=3.0)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    m = masks.centre_box(64, 64, 0.5)[None, ..., None].repeat(2, 0).astype("float32")
    xt, mt = ops.convert_to_tensor(x), ops.convert_to_tensor(m)
    outputs = gan.generate(xt, mt, training=False)
    terms = gan.generator_extra_losses(xt, outputs, mt)
    d = gan.discriminator
    taps = keras.Model(d.inputs, [d.get_layer(f"lrelu{i}").output for i in range(1, 7)])
    filled = x * (1 - m) + numpy_of(outputs["refined"]) * m
    real_f = [numpy_of(f) for f in taps(np.concatenate([x, m], -1))]
    fill_f = [numpy_of(f) for f in taps(np.concatenate([filled, m], -1))]
    by_hand = 3.0 * np.mean([np.abs(a - b).reshape(2, -1).mean(1) for a, b in zip(real_f, fill_f)], axis=0)
    assert by_hand.min() > 0
    np.testing.assert_allclose(numpy_of(terms["feature_matching"]), by_hand, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(numpy_of(gan.feature_distance(xt, xt, mt)), 0.0, atol=1e-7)
    plain = inpainting.build(tiny)
    gan.compile(), plain.compile()
    assert "feature_matching" in gan.log_names() and "feature_matching" not in plain.log_names()
    for bad in (dict(feature_matching=-1.0), dict(feature_matching=1.0, adversarial=False)):
        with pytest.raises(ValueError, match="feature_matching"):
            inpainting.build(tiny, **bad)


def input_gradient(d, x):
    """d(sum of D's logits)/d(input), NumPy, on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        v = tf.Variable(x)
        with tf.GradientTape() as tape:
            s = tf.reduce_sum(d(v))
        return tape.gradient(s, v).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: d(v).sum())(x))
    import torch

    v = torch.tensor(x, requires_grad=True)
    d(v).sum().backward()
    return v.grad.numpy()


def test_generator_takes_sizes_divisible_by_8_and_ignores_the_hole_content():
    g = inpainting.InpaintGenerator(width=8)
    x, m = batch(1, 40)
    coarse, refined = (numpy_of(t) for t in g([x, m]))
    assert coarse.shape == refined.shape == (1, 40, 40, 3) and np.abs(refined).max() <= 1.0
    x2 = np.where(m > 0, 0.7, x).astype("float32")  # other pixels in the hole: the same output
    np.testing.assert_allclose(numpy_of(g([x2, m])[1]), refined, atol=1e-5)


# -- trainer ------------------------------------------------------------------------------------------------
def test_discriminator_sees_the_pasted_output_with_its_mask_and_hinge_losses_are_the_references():
    gan = tiny_gan()
    x, m = batch()
    real, mask = gan.unpack((x, m))
    outputs = gan.generate(real, mask)
    fake = numpy_of(gan.fakes(real, mask, outputs, "d"))
    hole = m > 0
    np.testing.assert_array_equal(fake[~np.broadcast_to(hole, fake.shape)], x[~np.broadcast_to(hole, x.shape)])
    np.testing.assert_allclose(fake[np.broadcast_to(hole, fake.shape)],
                               numpy_of(outputs["refined"])[np.broadcast_to(hole, fake.shape)], atol=1e-6)
    d = gan.discriminator
    pos = numpy_of(d(np.concatenate([x, m], -1)))
    neg = numpy_of(d(np.concatenate([fake, m], -1)))
    terms, logs = gan.discriminator_loss(real, mask, ops.convert_to_tensor(fake), training=False)
    want = 0.5 * (np.maximum(1 - pos, 0).reshape(2, -1).mean(1) + np.maximum(1 + neg, 0).reshape(2, -1).mean(1))
    np.testing.assert_allclose(numpy_of(terms["d_loss"]), want, rtol=1e-4, atol=1e-5)
    g_adv = numpy_of(gan.adversarial_loss(real, mask, ops.convert_to_tensor(fake), training=False))
    np.testing.assert_allclose(g_adv, -neg.reshape(2, -1).mean(1), rtol=1e-4, atol=1e-5)
    g_terms, _ = gan.generator_loss(real, mask, outputs, training=False)
    l1 = sum(np.abs(numpy_of(outputs[k]) - x).reshape(2, -1).mean(1) for k in ("coarse", "refined"))
    np.testing.assert_allclose(numpy_of(g_terms["l1"]), l1, rtol=1e-4)


def test_fit_trains_both_networks_and_logs_the_terms():
    gan = tiny_gan()
    x, m = batch(4)
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    hist = gan.fit(x, m * 2 - 1, batch_size=2, epochs=1, verbose=0)  # masks in [-1, 1], as the pipelines give
    logs = {k: v[-1] for k, v in hist.history.items()}
    assert {"d_loss", "g_loss", "adversarial", "l1", "l1_coarse", "l1_refined", "l1_hole"} <= set(logs)
    assert all(np.isfinite(v) for v in logs.values())
    assert any(changed(g0, gan.generator))
    assert any(changed(d0, gan.discriminator))
    l1_only = tiny_gan(adversarial=False)
    hist = l1_only.fit(x, m, batch_size=2, epochs=1, verbose=0)
    assert "d_loss" not in hist.history and np.isfinite(hist.history["l1"][-1])


def test_trainer_errors_name_the_problem():
    gan = tiny_gan()
    x, m = batch()
    with pytest.raises(ValueError, match="trains on \\(images, masks\\)"):
        gan.train_on_batch(x)
    with pytest.raises(ValueError, match="masks must be"):
        gan.unpack((x, m[..., :16, :]))
    with pytest.raises(ValueError, match="images must be"):
        gan.unpack((x[..., :1], m))
    with pytest.raises(ValueError, match="discriminator takes 3 channels"):
        inpainting.Inpainting(inpainting.InpaintGenerator(width=8), inpainting.SNPatchDiscriminator(4, channels=3))


# -- masks --------------------------------------------------------------------------------------------------
def test_free_form_masks_are_seeded_strokes_scaled_to_the_image():
    a = masks.free_form(128, 128, np.random.default_rng(3))
    b = masks.free_form(128, 128, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.uint8 and set(np.unique(a)) <= {0, 1}
    fractions = [masks.free_form(128, 96, np.random.default_rng(s)).mean() for s in range(40)]
    assert 0.02 < np.mean(fractions) < 0.5 and min(fractions) > 0
    bx = masks.box(128, 128, np.random.default_rng(0))
    ys, xs = np.nonzero(bx)
    assert 48 <= np.ptp(ys) + 1 <= 64 and 48 <= np.ptp(xs) + 1 <= 64 and bx.sum() == (np.ptp(ys) + 1) * (np.ptp(xs) + 1)
    both = masks.training_mask(128, 128, np.random.default_rng(5))
    assert both.mean() >= masks.box(128, 128, np.random.default_rng(5)).mean() * 0.99
    c = masks.centre_box(100, 80, 0.5)
    assert c.sum() == 50 * 40 and c[50, 40] == 1 and c[0, 0] == 0


def test_mixed_masks_are_strokes_alone_or_united_with_a_box_half_the_time():
    def has_box(m, side=40):  # a fully set side x side window: a box (strokes are at most 20 px wide at 128)
        c = np.pad(np.cumsum(np.cumsum(m.astype(np.int64), 0), 1), ((1, 0), (1, 0)))
        return ((c[side:, side:] - c[:-side, side:] - c[side:, :-side] + c[:-side, :-side]) == side * side).any()

    drawn = [masks.mixed_mask(128, 128, np.random.default_rng(s)) for s in range(60)]
    boxed = sum(has_box(m) for m in drawn)
    assert 15 <= boxed <= 45, boxed
    assert all(has_box(masks.training_mask(128, 128, np.random.default_rng(s))) for s in range(20))
    assert not any(has_box(masks.free_form(128, 128, np.random.default_rng(s))) for s in range(20))
    np.testing.assert_array_equal(masks.mixed_mask(64, 64, np.random.default_rng(7)),
                                  masks.mixed_mask(64, 64, np.random.default_rng(7)))


def test_as_mask_holes_are_the_non_zero_pixels(tmp_path):
    m = np.zeros((6, 5), np.uint8)
    m[2:4, 1:3] = 1
    want = m.copy()
    for given in (m, m * 255, m.astype(bool), m.astype("float32"), (m * 0.9).astype("float64"),
                  np.repeat(m[..., None] * 255, 3, -1), m[..., None], m.astype(np.uint16) * 65535):
        np.testing.assert_array_equal(masks.as_mask(given, (6, 5)), want)
    for soft in (m * 100, m * 0.3):  # any non-zero value is the hole, as the docs say
        np.testing.assert_array_equal(masks.as_mask(soft), want)
    path = save(tmp_path / "m.png", m * 255)
    np.testing.assert_array_equal(masks.as_mask(path), want)
    with pytest.raises(ValueError, match="is 6x5 but the image is 7x5"):
        masks.as_mask(m, (7, 5))
    with pytest.raises(ValueError, match="NaN"):
        masks.as_mask(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="must be \\(H, W\\)"):
        masks.as_mask(np.zeros(4))


# -- data ---------------------------------------------------------------------------------------------------
def _folder(tmp_path, n=4, sizes=((40, 50), (20, 30))):
    rng = np.random.default_rng(0)
    return str(tmp_path / "imgs"), [save(tmp_path / "imgs" / f"{i}.png", rng.integers(0, 255, sizes[i % len(sizes)]
                                                                                       + (3,), dtype=np.uint8))
                                    for i in range(n)]


def test_dataset_crops_any_size_and_draws_a_mask_per_image(tmp_path):
    folder, _ = _folder(tmp_path)
    x, m = next(iter(inpainting.dataset(folder, image_size=32, batch_size=4, seed=0)))
    x, m = np.asarray(x), np.asarray(m)
    assert x.shape == (4, 32, 32, 3) and m.shape == (4, 32, 32, 1)
    assert set(np.unique(m)) <= {-1.0, 1.0} and (m > 0).any()
    mdir = tmp_path / "masks"
    save(mdir / "a.png", np.pad(np.full((8, 8), 255, np.uint8), 12))
    _, m2 = next(iter(inpainting.dataset(folder, image_size=32, batch_size=2, masks=str(mdir), seed=0)))
    assert np.all((np.asarray(m2) > 0).sum(axis=(1, 2, 3)) == 64)
    _, m3 = next(iter(inpainting.dataset(folder, image_size=32, batch_size=4, masks="mixed", seed=0)))
    assert set(np.unique(m3)) <= {-1.0, 1.0} and (np.asarray(m3) > 0).any()
    with pytest.raises(ValueError, match="masks must be one of"):
        inpainting.dataset(folder, masks="circles")
    with pytest.raises(ValueError, match="fewer than batch_size"):
        inpainting.dataset(folder, batch_size=8)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        inpainting.dataset(str(tmp_path / "nowhere"))


def test_dataset_at_256_crops_256_squares_with_masks_scaled_to_them(tmp_path):
    """photos_256's data: 256x256 crops of larger images, smaller ones (the flowers' short side 128) resized up
    first, and training masks drawn at 256 (a box of about half the side, as at 128, so the same share of the
    image and twice as deep)."""
    folder, _ = _folder(tmp_path, n=2, sizes=((300, 280), (128, 170)))
    x, m = (np.asarray(t) for t in next(iter(inpainting.dataset(folder, image_size=256, batch_size=2, seed=0))))
    assert x.shape == (2, 256, 256, 3) and m.shape == (2, 256, 256, 1)
    assert set(np.unique(m)) <= {-1.0, 1.0} and ((m > 0).mean(axis=(1, 2, 3)) > 0.1).all()
    ys, xs = np.nonzero(masks.box(256, 256, np.random.default_rng(0)))
    assert 96 <= np.ptp(ys) + 1 <= 128 and 96 <= np.ptp(xs) + 1 <= 128
    share = {n: np.mean([masks.training_mask(n, n, np.random.default_rng(s)).mean() for s in range(12)])
             for n in (128, 256)}
    assert 0.8 < share[256] / share[128] < 1.25, share


def test_tfds_names_go_through_the_adapter_offline(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")

    class ZooTinyPhotos(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3))}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples()}

        def _generate_examples(self):
            for i in range(4):
                yield str(i), {"image": np.full((20 + 4 * i, 30, 3), 60 * i, np.uint8)}

    ZooTinyPhotos(data_dir=str(tmp_path)).download_and_prepare()
    ds = inpainting.dataset("zoo_tiny_photos", image_size=16, batch_size=2, data_dir=str(tmp_path), download=False,
                            seed=0)
    x, m = (np.asarray(t) for t in next(iter(ds)))
    assert x.shape == (2, 16, 16, 3) and m.shape == (2, 16, 16, 1) and set(np.unique(m)) <= {-1.0, 1.0}
    gan = tiny_gan()
    assert np.isfinite(gan.fit(ds.take(1), verbose=0).history["g_loss"][-1])


# -- inpaint on what users have ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    return inpainting.InpaintGenerator(width=8)


def test_inpaint_keeps_known_pixels_and_the_kind_at_any_size(model, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)
    m = masks.centre_box(37, 50, 0.4)
    out = model.inpaint(img, m)
    assert out.dtype == np.uint8 and out.shape == img.shape
    np.testing.assert_array_equal(out[m == 0], img[m == 0])
    assert not np.array_equal(out[m == 1], img[m == 1])
    path = save(tmp_path / "in.png", img)
    pil = model.inpaint(path, save(tmp_path / "mask.png", m * 255))
    assert isinstance(pil, Image.Image) and pil.size == (50, 37)
    np.testing.assert_array_equal(np.asarray(pil), out)
    grey = model.inpaint(img[..., 0], m)
    assert grey.shape == (37, 50) and np.array_equal(grey[m == 0], img[..., 0][m == 0])
    floats = model.inpaint(img.astype("float32") / 255, m)
    np.testing.assert_allclose(floats[m == 0], img[m == 0] / 255, atol=1e-6)
    two = model.inpaint(np.stack([img, img[::-1]]), np.stack([m, 1 - m]))  # one mask per image of a batch
    np.testing.assert_array_equal(two[1][m == 1], img[::-1][m == 1])


def test_poisson_blend_meets_the_known_pixels_and_keeps_the_fills_detail():
    from zoo.apps.inpainting.inference import poisson_blend

    yy, xx = np.mgrid[0:90, 0:120] / 100.0
    ramp = np.stack([0.3 * xx - 0.2 * yy, 0.5 * yy, -0.4 * xx + 0.1], axis=-1)  # linear: harmonic
    strokes = np.pad(masks.free_form(80, 110, np.random.default_rng(4)) > 0, 5)  # away from the image's free edges
    for hole in (masks.centre_box(90, 120, 0.6).astype(bool), strokes):
        # a fill off by any constant comes back as the image: the correction is the constant
        np.testing.assert_allclose(poisson_blend(ramp, ramp + 0.37, hole), ramp, atol=1e-3)
        # a flat fill becomes the harmonic (here linear) interpolation of the border
        np.testing.assert_allclose(poisson_blend(ramp, np.zeros_like(ramp), hole), ramp, atol=1e-3)
        np.testing.assert_allclose(poisson_blend(ramp, ramp + 1, hole)[~hole], ramp[~hole], atol=1e-12)  # the image
    # the fill's own detail (its Laplacian) stays: the image's ramp plus the fill's bump, without its offset
    box = masks.centre_box(90, 120, 0.6).astype(bool)
    bump = np.exp(-((yy - 0.45) ** 2 + (xx - 0.6) ** 2) / 0.002)[..., None] * np.array([1.0, -0.5, 0.25])
    out = poisson_blend(ramp, ramp + 0.2 + bump, box)
    np.testing.assert_allclose(out[box], (ramp + bump)[box], atol=0.02)
    assert np.abs(out - ramp)[box].max() > 0.9  # (kept, not flattened)
    empty, everything = np.zeros((90, 120), bool), np.ones((90, 120), bool)
    np.testing.assert_array_equal(poisson_blend(ramp, ramp + 1, empty), ramp)
    np.testing.assert_array_equal(poisson_blend(ramp, ramp + 1, everything), ramp + 1)  # no border to meet


def test_hole_depth_counts_steps_to_the_nearest_known_pixel():
    from zoo.apps.inpainting.inference import hole_depth

    assert hole_depth(masks.centre_box(40, 40, 0.25) > 0) == 5  # a 10x10 box
    band = np.zeros((30, 40), bool)
    band[:, :7] = True  # along the left edge: the edge is not a known pixel
    assert hole_depth(band) == 7
    line = np.zeros((30, 40), bool)
    line[10:13, 5:35] = True
    assert hole_depth(line) == 2
    assert hole_depth(np.zeros((5, 5), bool)) == 0 and hole_depth(np.ones((5, 5), bool)) is None


def test_inpaint_fills_deep_holes_at_a_scale_where_they_are_training_deep(model, monkeypatch):
    from zoo.apps.inpainting import inference

    sizes = []
    run = inference._run
    monkeypatch.setattr(inference, "_run", lambda g, x, m: (sizes.append(m.shape), run(g, x, m))[1])
    img = np.random.default_rng(6).integers(0, 256, (160, 200, 3), dtype=np.uint8)
    m = masks.centre_box(160, 200, 0.5)  # 80x100: 40 deep
    out = model.inpaint(img, m, max_depth=20)
    np.testing.assert_array_equal(out[m == 0], img[m == 0])
    model.inpaint(img, m, max_depth=40)
    model.inpaint(img, m, max_depth=None)
    model.inpaint(img, m, max_depth=4)  # the shorter side stays at 64 px or more
    assert sizes == [(80, 100), (160, 200), (160, 200), (64, 80)]
    with pytest.raises(ValueError, match="max_depth"):
        model.inpaint(img, m, max_depth=0)
    # the default: the preset's training depth (32 at 128x128, 64 for photos_256; 32 without a preset)
    assert [inference.training_depth(inpainting.CONFIGS[p]) for p in ("celeba_128", "photos_128", "photos_256")] \
        == [32, 32, 64] and inference.training_depth(None) == 32
    del sizes[:]
    monkeypatch.setattr(model, "preset", inpainting.CONFIGS["photos_256"], raising=False)
    model.inpaint(img, m)  # 40 deep, under photos_256's 64: at the image's size
    monkeypatch.setattr(model, "preset", inpainting.CONFIGS["photos_128"])
    model.inpaint(img, m)  # deeper than 32: scaled by 32/40
    assert sizes == [(160, 200), (128, 160)]


def test_inpaint_blends_by_default_and_pastes_raw_on_request(model):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    m = masks.centre_box(40, 48, 0.5)
    raw, blended = model.inpaint(img, m, blend=False), model.inpaint(img, m)  # 10 deep: at its own size
    np.testing.assert_array_equal(raw[m == 0], img[m == 0])
    np.testing.assert_array_equal(blended[m == 0], img[m == 0])
    x = img.astype(np.float32) / 127.5 - 1
    from zoo.apps.inpainting.inference import _run, poisson_blend

    fill = _run(model, x * (1 - m[..., None]), m)
    want = np.round((np.clip(poisson_blend(x, fill, m > 0), -1, 1) + 1) * 127.5)
    assert np.abs(blended.astype(float) - want)[m == 1].max() <= 1
    assert np.abs(raw.astype(float) - np.round((np.clip(fill, -1, 1) + 1) * 127.5))[m == 1].max() <= 1
    assert np.abs(blended.astype(float) - raw)[m == 1].mean() > 1  # the blend changed the fill


def test_inpaint_edge_cases_are_documented_behaviour(model):
    img = np.random.default_rng(1).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="mask has no hole"):  # nothing to fill: said, not returned as it was
        model.inpaint(img, np.zeros((24, 24)))
    full = model.inpaint(img, np.ones((24, 24)))  # everything to fill: the network's guess, no error
    assert full.shape == img.shape
    big = np.random.default_rng(2).integers(0, 256, (100, 60, 3), dtype=np.uint8)
    m = masks.centre_box(100, 60, 0.3)
    small = model.inpaint(big, m, max_side=32)  # filled at 32x19 and scaled back
    np.testing.assert_array_equal(small[m == 0], big[m == 0])
    with pytest.raises(ValueError, match="is 24x23 but the image is 24x24"):
        model.inpaint(img, np.zeros((24, 23)))
    with pytest.raises(ValueError, match="max_side"):
        model.inpaint(img, np.zeros((24, 24)), max_side=0)
    with pytest.raises(ValueError, match="2048x2048 image needs about 64 GiB .* pass max_side"):
        model.inpaint(np.zeros((2048, 2048, 3), np.uint8), masks.centre_box(2048, 2048), max_side=None, max_depth=None)
    with pytest.raises(ValueError, match="3 masks for 2 images"):
        model.inpaint(np.stack([img, img]), [np.zeros((24, 24))] * 3)


def test_cli_fills_with_a_mask_file_or_a_folder_of_masks(tmp_path):
    from PIL import Image

    from zoo import cli

    g = inpainting.InpaintGenerator(**inpainting.CONFIGS["celeba_128"].config)
    g.save_weights(str(tmp_path / "g.weights.h5"))
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    src = save(tmp_path / "in" / "a.png", img)
    save(tmp_path / "in" / "b.png", img[:, ::-1])
    mask = save(tmp_path / "hole.png", masks.centre_box(32, 40, 0.5) * 255)
    out = str(tmp_path / "out.png")
    flags = ["--weights", str(tmp_path / "g.weights.h5"), "--arch", "celeba_128"]
    assert cli.main(["inpainting", "fill", src, "--mask", mask, "-o", out] + flags) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), g.inpaint(img, masks.as_mask(mask)))
    assert cli.main(["inpainting", "fill", src, "--mask", mask, "-o", out, "--no-blend"] + flags) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), g.inpaint(img, masks.as_mask(mask), blend=False))
    mdir = tmp_path / "masks"
    save(mdir / "a.png", masks.centre_box(32, 40, 0.25) * 255)
    outdir = tmp_path / "filled"
    with pytest.raises(SystemExit) as e:  # b has no mask: reported, a is written
        cli.main(["inpainting", "fill", str(tmp_path / "in"), "--mask", str(mdir), "-o", str(outdir)] + flags)
    assert e.value.code == 1
    assert os.listdir(outdir) == ["a.png"]
    assert cli.main(["inpainting", "fill", src, "--mask", str(tmp_path / "m" / "x.png"), "-o",
                     str(tmp_path / "o2.png")] + flags) != 0
    assert not os.path.exists(tmp_path / "o2.png")


# -- the shipped presets ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_pretrained_reproduces_its_reference_output(name):
    if not SHIPPED[name]:
        pytest.skip(f"inpainting/{name} is not shipped")
    model = inpainting.pretrained(name)
    x, y = weights.reference(model.preset)
    for got, want in zip(model(x), y):
        np.testing.assert_allclose(numpy_of(got), want, atol=1e-4)


@pytest.mark.skipif(not SHIPPED["celeba_128"] or not os.path.isdir(SHARED), reason="needs the preset and ../shared")
def test_face_preset_fills_held_out_faces_better_than_telea_and_mean_fill():
    """Eight held-out faces, a centred hole of a quarter of the image: lower L1 in the hole than OpenCV's Telea
    inpainting and the mean-colour fill."""
    cv2 = pytest.importorskip("cv2")
    from zoo import data

    files = data.list_images(os.path.join(SHARED, "faces_celeba", "train"))[-8:]
    model = inpainting.pretrained("celeba_128")
    m = masks.centre_box(128, 128, 0.5)
    errs = {"model": [], "telea": [], "mean": []}
    for f in files:
        img = data.read_image(f, 3)
        truth = img[m == 1].astype(float)
        errs["model"].append(np.abs(np.asarray(model.inpaint(img, m))[m == 1] - truth).mean())
        telea = cv2.inpaint(np.ascontiguousarray(img[..., ::-1]), m * 255, 5, cv2.INPAINT_TELEA)[..., ::-1]
        errs["telea"].append(np.abs(telea[m == 1] - truth).mean())
        errs["mean"].append(np.abs(img[m == 0].mean(0) - truth).mean())
    assert np.mean(errs["model"]) < np.mean(errs["telea"]) and np.mean(errs["model"]) < np.mean(errs["mean"])


@pytest.mark.skipif(not SHIPPED["celeba_128"], reason="no shipped inpainting preset")
def test_demo_writes_its_grid(tmp_path):
    from PIL import Image

    (caption, path), = inpainting.demo(str(tmp_path))
    assert "face" in caption and Image.open(path).size[0] > 3 * 128


@pytest.mark.skipif(not SHIPPED["celeba_128"], reason="no shipped inpainting preset")
def test_finetune_starts_from_the_preset_and_checks_its_counts(tmp_path):
    folder, _ = _folder(tmp_path, n=2, sizes=((48, 48),))
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        inpainting.finetune(folder, steps=0)
    with pytest.raises(ValueError, match="learning_rate"):
        inpainting.finetune(folder, steps=1, learning_rate=-1)
    before = inpainting.pretrained().get_weights()
    model = inpainting.finetune(folder, steps=1, batch_size=2, image_size=64, verbose=0)
    assert model.preset is None
    assert any(not np.array_equal(w0, w1) for w0, w1 in zip(before, model.get_weights()))


def test_photos_256_ships_photos_128s_network_and_the_default_comes_from_presets():
    """photos_256: photos_128's network and recipe at 256x256, with its own weights file; the default
    (presets.DEFAULT, what pretrained(), finetune() and the CLI use) is one trained preset."""
    from zoo.apps.inpainting import presets

    p128, p256 = inpainting.CONFIGS["photos_128"], inpainting.CONFIGS["photos_256"]
    assert p256.trained and p256.file == "inpainting/photos_256.weights.h5" and len(p256.sha256) == 64
    assert set(p256.metrics) == set(p128.metrics)  # the same flowers rows, comparable
    assert p256.input_size == (256, 256) and p128.input_size == (128, 128)
    assert (p256.architecture, p256.config, p256.discriminator, p256.discriminator_config, p256.trainer) == \
        (p128.architecture, p128.config, p128.discriminator, p128.discriminator_config, p128.trainer)
    assert "256x256 crops" in p256.trained_on and "photos_128" in p256.recipe
    assert [p.name for p in presets.PRESETS if p.default] == [presets.DEFAULT]
    assert weights.get("inpainting").name == presets.DEFAULT and inpainting.CONFIGS[presets.DEFAULT].trained
    assert "photos_256" in weights.presets("inpainting")
    gan = inpainting.build("photos_256", l1_weight=2.0)  # what train.py builds
    assert gan.l1_weight == 2.0 and gan.discriminator.inputs[0].shape[-1] == 4


@pytest.mark.skipif(not SHIPPED["photos_128"], reason="photos_128 is not shipped")
def test_photos_128_weights_start_photos_256_as_train_py_init_does():
    """--init weights/inpainting/photos_128.weights.h5: the network is fully convolutional, so photos_128's file
    loads into photos_256's generator and gives the same fill as photos_128 itself."""
    p128 = inpainting.CONFIGS["photos_128"]
    g = inpainting.CONFIGS["photos_256"].build_generator()
    g.load_weights(weights.find_file(p128.file, p128.sha256, p128.url))
    x, m = batch(1, 32, seed=3)
    want = inpainting.pretrained("photos_128")([x, m])[1]
    np.testing.assert_allclose(numpy_of(g([x, m])[1]), numpy_of(want), atol=1e-5)


def test_train_py_crops_at_the_presets_size_and_checks_l1_weight(tmp_path, monkeypatch):
    train = app_script("inpainting", "train")
    seen = []
    monkeypatch.setattr(train.inpainting, "dataset", lambda source, **kw: seen.append((source, kw)))
    monkeypatch.setattr(train, "shoes_photos", lambda out: out)  # (no 2,000 PNGs written)
    for preset in ("celeba_128", "photos_128", "photos_256"):
        train.training_data(preset, str(tmp_path), 2, 0)
    assert [kw["image_size"] for _, kw in seen] == [128, 128, 256]
    assert "faces_celeba" in seen[0][0] and seen[0][1]["limit"] == train.FACES_TRAIN
    assert seen[1][0] == seen[2][0] and len(seen[2][0]) == 3  # photos_256: photos_128's folders
    for bad in ("0", "-1"):
        with pytest.raises(SystemExit) as e:
            train.main(["--preset", "photos_256", "--l1-weight", bad, "--run", str(tmp_path / "r")])
        assert e.value.code == 2
    assert not os.path.exists(tmp_path / "r")


def tiny_train_script(monkeypatch):
    """apps/inpainting/train.py with celeba_128 at width 4 and one fixed 64x64 batch of two as its data."""
    import dataclasses

    train = app_script("inpainting", "train")
    tiny = dataclasses.replace(inpainting.CONFIGS["celeba_128"], config={"width": 4},
                               discriminator_config={"width": 4, "channels": 4})
    monkeypatch.setattr(train.inpainting, "CONFIGS", {"celeba_128": tiny})
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    m = masks.centre_box(64, 64, 0.5)[None, ..., None].repeat(2, 0).astype("float32")
    monkeypatch.setattr(train, "training_data", lambda *a, **k: __import__("tensorflow").data.Dataset
                        .from_tensors((x, m)).repeat())
    return train, tiny


def test_train_py_writes_and_starts_from_a_discriminator_file(tmp_path, monkeypatch):
    """Phase 2 ends by saving its SN-PatchGAN beside the generator, and ``--init-discriminator`` starts another
    run's phase 2 from that file (so an adversarial phase can go on without its checkpoint)."""
    train, tiny = tiny_train_script(monkeypatch)
    started = []
    real_fit = train.fit_steps

    def fit_steps(gan, data, steps, **kw):
        if gan.adversarial:
            started.append([v.copy() for v in gan.discriminator.get_weights()])
        return real_fit(gan, data, steps, **kw)

    monkeypatch.setattr(train, "fit_steps", fit_steps)
    common = ["--preset", "celeba_128", "--l1-steps", "0", "--steps", "1", "--every", "1"]
    train.main(common + ["--run", str(tmp_path / "a")])
    saved = tmp_path / "a" / "discriminator.weights.h5"
    assert saved.exists() and (tmp_path / "a" / "generator.weights.h5").exists()
    train.main(common + ["--run", str(tmp_path / "b"), "--init-discriminator", str(saved)])
    d = tiny.build_discriminator(channels=4)
    d.load_weights(str(saved))
    assert all(np.array_equal(a, b) for a, b in zip(started[1], d.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(started[0], started[1]))  # run a's D had trained


@pytest.mark.tensorflow_only
def test_train_py_warms_the_discriminator_up_against_the_frozen_generator(tmp_path, monkeypatch, capsys):
    """``--d-warmup N``: N updates of D alone (G unchanged) before phase 2's fit, at ``--d-learning-rate``;
    skipped when phase 2 resumes. ``--g-learning-rate`` is G's."""
    train, tiny = tiny_train_script(monkeypatch)
    keras.utils.set_random_seed(0)
    fresh_g = tiny.build_generator().get_weights()
    seen = []
    real_fit = train.fit_steps

    def fit_steps(gan, data, steps, **kw):
        seen.append(dict(g=[v.copy() for v in gan.generator.get_weights()], d_iterations=int(
            gan.d_optimizer.iterations), g_iterations=int(gan.g_optimizer.iterations),
            d_lr=float(ops.convert_to_numpy(gan.d_optimizer.learning_rate)),
            g_lr=float(ops.convert_to_numpy(gan.g_optimizer.learning_rate))))
        return real_fit(gan, data, steps, **kw)

    monkeypatch.setattr(train, "fit_steps", fit_steps)
    common = ["--preset", "celeba_128", "--l1-steps", "0", "--steps", "1", "--every", "1", "--d-warmup", "3",
              "--d-learning-rate", "4e-4", "--g-learning-rate", "2e-5", "--run", str(tmp_path / "a")]
    train.main(common)
    assert seen[0]["d_iterations"] == 3 and seen[0]["g_iterations"] == 0 and seen[0]["d_lr"] == pytest.approx(4e-4)
    assert seen[0]["g_lr"] == pytest.approx(2e-5)
    assert all(np.array_equal(a, b) for a, b in zip(fresh_g, seen[0]["g"]))  # G frozen during the warm-up
    assert "D warm-up 3/3: d_loss" in capsys.readouterr().err
    train.main(common[:5] + ["2"] + common[6:])  # --steps 2: phase 2 resumes, no second warm-up
    assert seen[1]["d_iterations"] == 0 and "D warm-up" not in capsys.readouterr().err  # fit_steps restores it
    for flag in ("--d-learning-rate", "--g-learning-rate"):
        with pytest.raises(SystemExit):
            train.main(common + [flag, "0"])


@pytest.mark.tensorflow_only
def test_train_py_antialiased_discriminator_and_r1(tmp_path, monkeypatch):
    """``--d-antialias`` builds phase 2's SN-PatchGAN with ``Blur2D`` before its strided convolutions,
    ``--d-no-spectral-norm`` without spectral normalisation, and ``--r1-gamma`` reaches the core's R1 penalty
    (logged as ``r1``)."""
    train, tiny = tiny_train_script(monkeypatch)
    seen = []
    real_fit = train.fit_steps

    def fit_steps(gan, data, steps, **kw):
        d = gan.discriminator
        seen.append((d.get_config()["antialias"], gan.r1_gamma, any(isinstance(la, Blur2D) for la in d.layers),
                     any(isinstance(la, keras.layers.SpectralNormalization) for la in d.layers)))
        return real_fit(gan, data, steps, **kw)

    monkeypatch.setattr(train, "fit_steps", fit_steps)
    common = ["--preset", "celeba_128", "--l1-steps", "0", "--steps", "1", "--every", "1"]
    train.main(common + ["--run", str(tmp_path / "a"), "--d-antialias", "--d-no-spectral-norm", "--r1-gamma", "0.5",
                         "--feature-matching", "10"])
    train.main(common + ["--run", str(tmp_path / "b")])
    assert seen == [(True, 0.5, True, False), (False, 0.0, False, True)]
    ev = app_script("inpainting", "evaluate")  # a snapshot's EMA generator, whichever D the run had
    for run in "ab":
        path = ev.ema_from_checkpoint(tiny, str(tmp_path / run / "gan"))
        assert path.endswith("generator_epoch1.weights.h5") and os.path.exists(path)
    log = (tmp_path / "a" / "gan" / "log.csv").read_text()
    assert {"r1", "feature_matching"} <= set(log.splitlines()[0].split(","))
    with pytest.raises(SystemExit):
        train.main(common + ["--run", str(tmp_path / "c"), "--r1-gamma", "-1"])


def test_evaluate_realism_holds_several_set_mask_pairs_per_preset(monkeypatch, capsys):
    """evaluate.py's REALISM: per preset, results.json keys -> (held-out set, mask, crop side); the rows measured
    before keep their keys; photos get a box hole beside the strokes and photos_256 a 256x256 row; realism() fills
    the even images' centre crops and leaves the odd ones real."""
    ev = app_script("inpainting", "evaluate")
    assert set(ev.REALISM) == set(ev.SETS) == set(ev.METRICS_SET) >= set(inpainting.CONFIGS)
    assert ev.REALISM["celeba_128"]["faces"] == ("faces", "box50", 128)
    assert ev.REALISM["photos_128"]["flowers"] == ("flowers", "free_form", 128)
    for preset in ("photos_128", "photos_256"):
        assert ("flowers", "box50", 128) in ev.REALISM[preset].values()
    assert ("shoes", "box50", 256) in ev.REALISM["photos_256"].values()
    for preset, specs in ev.REALISM.items():
        for key, (name, kind, side) in specs.items():
            assert kind in ev.MASKS and side in (128, 256) and ev.realism_spec(preset, key) == (name, kind, side)
    monkeypatch.setattr(ev, "load_set", lambda name, limit=None: [
        np.random.default_rng(i).integers(0, 256, (80, 96, 3), dtype=np.uint8) for i in range(8)])
    monkeypatch.setattr(ev.metrics, "jpeg_roundtrip", lambda a: a)
    pairs = []
    monkeypatch.setattr(ev.metrics, "two_sample_test", lambda real, fake, seed=0: (
        pairs.append((real, fake)), {"accuracy": 0.5, "folds": [0.5, 0.5], "n": len(real), "p_value": 0.5})[1])
    out = ev.realism(inpainting.InpaintGenerator(width=8), "shoes", kind="box50", side=64, max_depth=16)
    assert list(out) == list(ev.REALISM_METHODS) and len(pairs) == len(ev.REALISM_METHODS)
    crops = np.stack([ev.centre_crop(a, 64) for a in ev.load_set("shoes")])
    hole = masks.centre_box(64, 64, 0.5).astype(bool)
    for method, (real, fake) in zip(ev.REALISM_METHODS, pairs):
        assert real.shape == fake.shape == (4, 64, 64, 3)
        np.testing.assert_array_equal(real, crops[1::2])
        np.testing.assert_array_equal(fake[:, ~hole], crops[0::2][:, ~hole])
        assert np.array_equal(fake, crops[0::2]) == (method == "real"), method
        # colour detail measured in the holes of the filled images, before any JPEG round trip
        assert out[method]["chroma_detail"] == pytest.approx(
            float(np.mean(ev.metrics.chroma_detail(fake, np.broadcast_to(hole, fake.shape[:3])))), abs=1e-4), method
    assert out["real"]["chroma_detail"] > 20 > out["mean_fill"]["chroma_detail"]  # random pixels vs a flat fill
    with pytest.raises(ValueError, match="smaller than the 128x128 crop"):
        ev.realism_images("shoes", 128)
    res = {m: {"accuracy": 0.5, "folds": [0.5, 0.5], "n": 4, "p_value": 0.5, "chroma_detail": 3.14159}
           for m in ev.REALISM_METHODS}
    text = ev.tables({"photos_256": {"realism": {"flowers": res, "flowers_box50": res, "shoes_box50": res}}})
    assert "| real vs real | 0.500 | 0.500 / 0.500 | 3.14 |" in text
    faces = np.random.default_rng(1).integers(0, 256, (5, 128, 128, 3), dtype=np.uint8)
    monkeypatch.setattr(ev, "realism_images", lambda name, side, limit=None: faces)
    detail = ev.colour_detail({"tiny": inpainting.InpaintGenerator(width=8)})  # --faces-figure's colour rows
    box = np.broadcast_to(masks.centre_box(128, 128, 0.5) > 0, (2, 128, 128))  # as realism(): faces 0 and 2 of 5
    assert list(detail) == ["real", "telea", "tiny"]
    assert detail["real"] == pytest.approx(float(np.mean(ev.metrics.chroma_detail(faces[0:4:2], box))), abs=1e-3)
    assert detail["telea"] < detail["real"]  # a smooth fill of random pixels
    assert "photos_256, realism on flowers (free_form holes; 4 filled" in text
    assert "photos_256, realism on flowers (box50 holes" in text
    assert "photos_256, realism on shoes at 256x256 (box50 holes" in text
    img = np.full((16, 16, 3), 255, np.uint8)  # a stroke over plain white, filled exactly: capped, not infinite
    assert ev.scores(img, img, np.eye(16))["psnr"] == pytest.approx(58.92, abs=0.01) == ev.PSNR_CAP
    assert ev.scores(img, img - 1, np.eye(16))["psnr"] == pytest.approx(48.13, abs=0.01)
    for argv in (["--preset", "photos_128", "--realism-keys", "nope"], ["--preset", "photos_128", "--sets", "shoes"]):
        with pytest.raises(SystemExit) as e:
            ev.main(argv + ["--out", os.devnull + ".missing.json"])
        assert e.value.code == 2
    err = capsys.readouterr().err
    assert "photos_128 has no realism test ['nope']" in err and "photos_128 has no held-out set ['shoes']" in err


def test_benchmark_tiny_end_to_end(tmp_path):
    """benchmarks/inpainting.py: a training iteration, inference, inpaint's blending, and the attention's products
    in the FLOPs."""
    import json
    import subprocess
    import sys

    root = os.path.join(os.path.dirname(__file__), "..")
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "inpainting.py"), "--tiny", "--repeats",
                           "2", "--skip-512", "--json", str(out)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 2), ("infer", 1), ("blend", 1)]
    assert all(r["status"] == "ok" and r["app"] == "inpainting" for r in rows)
    train, infer, blend = rows
    assert blend["resolution"] == 64 and blend["time_median_s"] > 0
    assert train["attention_flops"] == 2 * 64 * 64 * 9 * 16 + 2 * 64 * 64 * 16 * 16  # P = (64/8)^2, C = 16
    assert train["flops_per_image"] == 3 * train["flops_g"] + 8 * train["flops_d"]
    assert infer["flops_per_image"] == train["flops_g"] > train["attention_flops"]


def test_card_and_presets_carry_the_numbers_evaluate_measured():
    """apps/inpainting/results.json (evaluate.py's output) is what the model card's tables and the presets'
    metrics say."""
    import json

    here = os.path.join(os.path.dirname(__file__), "..", "apps", "inpainting")
    if not os.path.exists(os.path.join(here, "results.json")):
        pytest.skip("no evaluation results yet")
    with open(os.path.join(here, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(here, "MODEL_CARD.md")) as f:
        card = f.read()
    for preset, sets in results.items():
        for name, res in sets.get("realism", {}).items():  # the two-sample rows: accuracy and both folds
            for method, r in res.items():
                assert f"| {r['accuracy']:.3f} | {' / '.join(f'{x:.3f}' for x in r['folds'])} |" in card, \
                    (preset, name, method)
        for name, res in sets.items():
            if name in ("weights", "realism", "realism_weights"):
                continue
            for kind, methods in res.items():
                if kind == "images":
                    continue
                for method, r in methods.items():
                    assert f"| {r['psnr']:.2f} | {r['ssim']:.4f} | {r['l1']:.4f} | {r['l1_hole']:.4f} |" in card, \
                        (preset, name, kind, method)
        metrics = inpainting.CONFIGS[preset].metrics
        assert metrics, preset
        for key, value in metrics.items():  # "<set>:<mask>:<measure>"
            name, kind, stat = key.split(":")
            assert results[preset][name][kind]["model"][stat] == value, key
