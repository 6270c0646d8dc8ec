"""pix2pix app: the U-Net generator, the PatchGAN discriminators, the Pix2Pix trainer (cGAN + L1, L1 alone), the
paired datasets, translate and the CLI."""

import keras
import numpy as np
import pytest
from keras import ops
from PIL import Image

from helpers import bn as BN, changed, conv, count, numpy_of, snapshot
from zoo.apps import pix2pix

pytestmark = pytest.mark.core


def tiny_g(**kw):
    return pix2pix.UNetGenerator(**{"depth": 3, "filters": 4, **kw})  # sides divisible by 8


def tiny_d(**kw):
    return pix2pix.PatchDiscriminator(**{"n_layers": 2, "filters": 4, **kw})


def pairs(n=8, size=16, seed=0):
    """Smooth random inputs in [-1, 1] and targets a fixed pixelwise map of them (colours reversed, negated)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-0.9, 0.9, (n, 4, 4, 3)).astype("float32")
    x = np.clip(numpy_of(ops.image.resize(coarse, (size, size), interpolation="bicubic")), -1, 1).astype("float32")
    return x, np.ascontiguousarray(-x[..., ::-1])


def reference_unet_count(depth, ngf, cin, cout, norm):
    """The PyTorch reference's UnetGenerator built as it nests UnetSkipConnectionBlock(outer_nc, inner_nc):
    downconv input_nc -> inner_nc, upconv (inner_nc or 2 * inner_nc) -> outer_nc; bias only with instance norm
    (non-affine) except the outermost upconv (always a bias); norms on all but the outermost and the innermost
    downconv."""
    bias = norm == "instance"
    nrm = (lambda c: 0) if norm == "instance" else BN
    blocks = [(8 * ngf, 8 * ngf)] * (depth - 4) + [(4 * ngf, 8 * ngf), (2 * ngf, 4 * ngf), (ngf, 2 * ngf)]
    total = conv(4, 8 * ngf, 8 * ngf, bias) + conv(4, 8 * ngf, 8 * ngf, bias) + nrm(8 * ngf)  # innermost
    for outer, inner in blocks[1:]:
        total += conv(4, outer, inner, bias) + nrm(inner) + conv(4, 2 * inner, outer, bias) + nrm(outer)
    return total + conv(4, cin, ngf, bias) + conv(4, 2 * ngf, cout)  # outermost


# -- architectures -------------------------------------------------------------------------------------------
def test_unet_256_parameter_count_is_the_reference_54_413_955():
    """junyanz/pytorch-CycleGAN-and-pix2pix UnetGenerator(3, 3, 8, 64, BatchNorm2d), counted layer by layer."""
    down = (conv(4, 3, 64, False) + conv(4, 64, 128, False) + BN(128) + conv(4, 128, 256, False) + BN(256)
            + conv(4, 256, 512, False) + BN(512) + 3 * (conv(4, 512, 512, False) + BN(512))
            + conv(4, 512, 512, False))  # innermost: no norm
    up = (conv(4, 512, 512, False) + BN(512) + 3 * (conv(4, 1024, 512, False) + BN(512))
          + conv(4, 1024, 256, False) + BN(256) + conv(4, 512, 128, False) + BN(128) + conv(4, 256, 64, False)
          + BN(64) + conv(4, 128, 3))  # outermost: bias, tanh
    assert down + up == 54_413_955 == reference_unet_count(8, 64, 3, 3, "batch")
    g = pix2pix.UNetGenerator()
    assert count(g) == 54_413_955
    preset = pix2pix.UNetGenerator(**pix2pix.CONFIGS["edges2shoes_handbags"].generator_config)
    assert count(preset) == reference_unet_count(8, 32, 3, 3, "batch") == 13_608_259
    assert g.count_params() - count(g) == 2 * (128 + 256 + 512 * 4 + 512 * 4 + 256 + 128 + 64)  # BN moving stats
    assert g.multiple == 256 and g.latent_dim is None


def test_unet_other_depths_norms_and_channels():
    assert count(pix2pix.UNetGenerator(depth=7, norm="instance")) == reference_unet_count(7, 64, 3, 3, "instance")
    assert reference_unet_count(7, 64, 3, 3, "batch") == 41_828_995  # unet_128
    for kw in ({"depth": 5, "filters": 8}, {"depth": 6, "filters": 4, "in_channels": 1, "norm": "instance"},
               {"depth": 5, "filters": 2, "out_channels": 1}):
        g = pix2pix.UNetGenerator(**kw)
        expected = reference_unet_count(kw["depth"], kw["filters"], kw.get("in_channels", 3),
                                        kw.get("out_channels", 3), kw.get("norm", "batch"))
        assert count(g) == expected, kw
    with pytest.raises(ValueError, match="depth"):
        pix2pix.UNetGenerator(depth=1)
    with pytest.raises(ValueError, match="norm"):
        pix2pix.UNetGenerator(norm="group")


def test_unet_shapes_dropout_and_range():
    g = tiny_g(in_channels=1)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 24, 1)).astype("float32")
    out = numpy_of(g(x, training=False))
    assert out.shape == (2, 16, 24, 3) and np.abs(out).max() <= 1.0
    np.testing.assert_array_equal(out, numpy_of(g(x, training=False)))
    # dropout 0.5 in the first three decoder blocks (the paper's noise); depth 3 has two before the output
    drops = [layer.dropout for layer in g.layers if layer.name.startswith("up")]
    assert drops == [0.5, 0.5, 0.0]
    assert [layer.dropout for layer in pix2pix.UNetGenerator(depth=6, filters=1).layers
            if layer.name.startswith("up")] == [0.5, 0.5, 0.5, 0.0, 0.0, 0.0]


def test_patch_discriminator_parameter_counts():
    """NLayerDiscriminator(input_nc, 64, n_layers) / PixelDiscriminator(input_nc, 64) of the PyTorch reference."""
    def nlayer(cin, norm="batch"):
        bias, nrm = (True, lambda c: 0) if norm == "instance" else (False, BN)
        return (conv(4, cin, 64) + conv(4, 64, 128, bias) + nrm(128) + conv(4, 128, 256, bias) + nrm(256)
                + conv(4, 256, 512, bias) + nrm(512) + conv(4, 512, 1))

    assert count(pix2pix.PatchDiscriminator(**pix2pix.CONFIGS["edges2shoes_handbags"].discriminator_config)) \
        == nlayer(6) == 2_768_705
    assert count(pix2pix.PatchDiscriminator(channels=3)) == nlayer(3) == 2_765_633
    # the GUIDE's 3-channel 2,764,737 is CycleGAN's D: the same PatchGAN with instance norm
    assert count(pix2pix.PatchDiscriminator(channels=3, norm="instance")) == nlayer(3, "instance") == 2_764_737
    # PixelGAN: 1x1 convs C64 - C128 - 1, the last without a bias under batch norm (as the reference)
    assert count(pix2pix.PatchDiscriminator(n_layers=0)) == conv(1, 6, 64) + conv(1, 64, 128, False) + BN(128) \
        + conv(1, 128, 1, False) == 9_024
    # 286x286: C64-C128-C256-C512-C512 (stride 2), C512 (stride 1), 1
    big = (conv(4, 6, 64) + conv(4, 64, 128, False) + BN(128) + conv(4, 128, 256, False) + BN(256)
           + conv(4, 256, 512, False) + BN(512) + 2 * (conv(4, 512, 512, False) + BN(512)) + conv(4, 512, 1))
    assert count(pix2pix.PatchDiscriminator(n_layers=5)) == big
    with pytest.raises(ValueError, match="n_layers"):
        pix2pix.PatchDiscriminator(n_layers=-1)


@pytest.mark.parametrize(("n_layers", "field", "logits"), [(0, 1, 256), (1, 16, 126), (3, 70, 30)])
def test_patch_discriminator_receptive_field_and_logit_map(n_layers, field, logits):
    d = pix2pix.PatchDiscriminator(n_layers=n_layers, filters=2)
    assert d.receptive_field == field
    assert tuple(d(np.zeros((1, 256, 256, 6), "float32")).shape) == (1, logits, logits, 1)
    # Which input rows move output row k: with positive kernels every path is monotone, so exactly `field` rows.
    d.set_weights([np.full(w.shape, 0.05, "float32") if w.ndim == 4 else w for w in d.get_weights()])
    h = 96
    base = np.zeros((1, h, 32, 6), "float32")
    batch = np.repeat(base, h + 1, axis=0)
    for r in range(h):
        batch[r + 1, r] = 1.0
    out = numpy_of(d(batch, training=False))[..., 0]
    k = out.shape[1] // 2
    moved = np.abs(out[1:, k] - out[:1, k]).max(axis=-1) > 1e-7
    assert moved.sum() == field
    assert np.all(np.diff(np.flatnonzero(moved)) == 1)  # one contiguous window


def test_config_round_trip_and_keras_file(tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    for net in (tiny_g(norm="instance"), tiny_d()):
        inp = x if isinstance(net, pix2pix.UNetGenerator) else np.concatenate([x, x], -1)
        np.testing.assert_allclose(numpy_of(net.clone()(inp)), numpy_of(net(inp)), rtol=1e-5, atol=1e-6)
        net.save(tmp_path / f"{net.name}.keras")
        back = keras.saving.load_model(tmp_path / f"{net.name}.keras", safe_mode=True)
        assert type(back) is type(net) and back.get_config() == net.get_config()
        np.testing.assert_allclose(numpy_of(back(inp)), numpy_of(net(inp)), rtol=1e-5, atol=1e-6)


def test_presets_and_build():
    assert set(pix2pix.CONFIGS) == {"edges2shoes_handbags", "edges2shoes_handbags_l1"}
    cfg = pix2pix.CONFIGS["edges2shoes_handbags"]
    assert cfg.generator_config == {"depth": 8, "filters": 32, "norm": "batch", "dropout": 0.5, "in_channels": 3,
                                    "out_channels": 3, "test_stats": "image"}
    assert cfg.discriminator_config == {"n_layers": 3, "filters": 64, "norm": "batch", "channels": 6}
    assert pix2pix.CONFIGS["edges2shoes_handbags_l1"].discriminator is None
    with pytest.raises(KeyError, match="unknown"):
        pix2pix.build("facades")


# -- the trainer ---------------------------------------------------------------------------------------------
def step(gan, which, x, y):
    logs = gan.discriminator_update((x, y)) if which == "d" else gan.generator_update((x, y))
    return logs[f"{which}_loss"], logs


def test_discriminator_step_changes_only_d():
    x, y = pairs(4)
    gan = pix2pix.Pix2Pix(tiny_g(), tiny_d(), seed=0)
    gan.compile()
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    loss, logs = step(gan, "d", x, y)
    assert np.isfinite(float(numpy_of(loss))) and {"d_real", "d_fake", "d_acc"} <= set(logs)
    assert not any(changed(g0, gan.generator)), "G's weights (incl. batch-norm statistics) moved in a D step"
    assert all(c for c, w in zip(changed(d0, gan.discriminator), gan.discriminator.weights) if w.trainable)


def test_generator_step_changes_only_g():
    x, y = pairs(4)
    gan = pix2pix.Pix2Pix(tiny_g(), tiny_d())
    gan.compile()
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    loss, logs = step(gan, "g", x, y)
    assert np.isfinite(float(numpy_of(loss))) and set(logs) == {"g_loss", "adversarial", "l1"}
    assert not any(changed(d0, gan.discriminator)), "D's weights (incl. batch-norm statistics) moved in a G step"
    assert all(c for c, w in zip(changed(g0, gan.generator), gan.generator.weights) if w.trainable)


def test_losses_match_numpy():
    rng = np.random.default_rng(0)
    x, y = pairs(3)
    fake = rng.uniform(-1, 1, y.shape).astype("float32")
    gan = pix2pix.Pix2Pix(tiny_g(), tiny_d())
    gan.compile()
    assert (gan.l1_weight, gan.learning_rate, gan.loss_name) == (100.0, 2e-4, "non_saturating")
    assert float(gan.g_optimizer.beta_1) == 0.5 and float(gan.d_optimizer.beta_1) == 0.5
    terms, logs = gan.generator_loss(ops.convert_to_tensor(y), ops.convert_to_tensor(x), ops.convert_to_tensor(fake))
    loss = sum(terms.values())
    logits = numpy_of(gan.discriminator(np.concatenate([x, fake], -1), training=True))
    l1 = np.abs(y - fake).mean(axis=(1, 2, 3))
    adv = np.log1p(np.exp(-logits)).mean(axis=(1, 2, 3))  # -log sigmoid, averaged over the patches
    np.testing.assert_allclose(numpy_of(loss), adv + 100 * l1, rtol=1e-5)
    np.testing.assert_allclose(float(numpy_of(logs["l1"])), l1.mean(), rtol=1e-5)  # logged unweighted
    # D sees the input and the image concatenated (input first); its loss is halved
    pair = numpy_of(gan.discriminator_inputs(ops.convert_to_tensor(y), ops.convert_to_tensor(x)))
    np.testing.assert_array_equal(pair, np.concatenate([x, y], -1))
    fake_g = numpy_of(gan.generator(x, training=False))
    terms, _ = gan.discriminator_loss(ops.convert_to_tensor(y), ops.convert_to_tensor(x), fake_g, training=False)
    d_loss = terms["d_loss"]
    real_l = numpy_of(gan.discriminator(np.concatenate([x, y], -1), training=False))
    fake_l = numpy_of(gan.discriminator(np.concatenate([x, fake_g], -1), training=False))
    expected = 0.5 * (np.log1p(np.exp(-real_l)) + np.log1p(np.exp(fake_l))).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(numpy_of(d_loss), expected, rtol=1e-4)
    with pytest.raises(ValueError, match="input, target"):
        gan.unpack(x)


def test_l1_only_trains_g_alone():
    x, y = pairs(8)
    gan = pix2pix.Pix2Pix(tiny_g())
    gan.compile()
    assert not gan.adversarial and gan.d_optimizer is None
    g0 = snapshot(gan.generator)
    h = gan.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert set(h) == {"g_loss", "l1"} and np.isfinite(h["g_loss"][-1])
    np.testing.assert_allclose(h["g_loss"], 100 * np.asarray(h["l1"]), rtol=1e-4)  # one batch an epoch
    assert int(numpy_of(gan.g_optimizer.iterations)) == 2
    assert all(c for c, w in zip(changed(g0, gan.generator), gan.generator.weights) if w.trainable)
    with pytest.raises(ValueError, match="l1_weight"):
        pix2pix.Pix2Pix(tiny_g()).compile(l1_weight=0)
    assert pix2pix.build("edges2shoes_handbags_l1").discriminator is None


def test_fit_lowers_l1():
    keras.utils.set_random_seed(0)
    x, y = pairs(8, seed=1)
    gan = pix2pix.Pix2Pix(tiny_g(filters=8, dropout=0.0), tiny_d(), seed=0)
    gan.compile(learning_rate=2e-3)
    h = gan.fit(x, y, batch_size=4, epochs=15, verbose=0, shuffle=False).history
    for key in ("d_loss", "g_loss", "d_acc", "l1"):
        assert np.all(np.isfinite(h[key])), key
    assert h["l1"][-1] < 0.5 * h["l1"][0], h["l1"]
    assert gan.predict(x[:2], verbose=0).shape == (2, 16, 16, 3)


# -- data ------------------------------------------------------------------------------------------------------
def _ramp(h, w):
    return np.tile(np.linspace(0, 255, w, dtype="float32"), (h, 1))


def test_dataset_side_by_side_jitter_and_direction(tmp_path):
    # A (left) has the ramp in red, B (right) the same ramp in blue: every crop / mirror must keep them aligned.
    h = 24
    for i in range(3):
        a = np.zeros((h, h, 3), "float32")
        a[..., 0] = _ramp(h, h)
        b = np.zeros((h, h, 3), "float32")
        b[..., 2] = _ramp(h, h)
        Image.fromarray(np.concatenate([a, b], 1).astype(np.uint8)).save(tmp_path / f"{i}.jpg", quality=95,
                                                                          subsampling=0)  # 4:4:4 chroma
    ds = pix2pix.dataset(str(tmp_path), load_size=20, crop_size=16, batch_size=3, seed=0)
    flips = set()
    for _ in range(4):
        inp, target = (numpy_of(t) for t in next(iter(ds)))
        assert inp.shape == target.shape == (3, 16, 16, 3) and inp.min() >= -1 and inp.max() <= 1
        # BtoA: the input is the right half (blue), the target the left (red)
        assert inp[..., 2].mean() > inp[..., 0].mean() + 0.5 and target[..., 0].mean() > target[..., 2].mean() + 0.5
        np.testing.assert_allclose(inp[..., 2], target[..., 0], atol=0.1)  # same crop and mirror
        flips.update(bool(v) for v in target[:, 8, -1, 0] < target[:, 8, 0, 0])
    assert flips == {True, False}  # mirrored and not
    inp, target = (numpy_of(t) for t in next(iter(pix2pix.dataset(str(tmp_path), "AtoB", jitter=False,
                                                                  crop_size=16, batch_size=1))))
    assert inp.shape == (1, 16, 16, 3) and inp[..., 0].mean() > inp[..., 2].mean() + 0.5
    assert target[0, 8, -1, 2] > target[0, 8, 0, 2]  # not mirrored without jitter
    with pytest.raises(ValueError, match="direction"):
        pix2pix.dataset(str(tmp_path), direction="left")
    with pytest.raises(ValueError, match="load_size"):
        pix2pix.dataset(str(tmp_path), load_size=200)


def test_dataset_two_folders(tmp_path):
    for side, colour in (("edges", 255), ("photos", 0)):
        (tmp_path / side).mkdir()
        for i in range(2):
            Image.fromarray(np.full((20, 20, 3), colour, np.uint8)).save(tmp_path / side / f"{i}.png")
    folders = (str(tmp_path / "photos"), str(tmp_path / "edges"))  # (A, B): edges -> photo is BtoA
    inp, target = (numpy_of(t) for t in next(iter(pix2pix.dataset(folders, load_size=18, crop_size=16,
                                                                  batch_size=2))))
    assert inp.shape == target.shape == (2, 16, 16, 3)
    np.testing.assert_allclose(inp, 1.0)
    np.testing.assert_allclose(target, -1.0)
    inp, _ = (numpy_of(t) for t in next(iter(pix2pix.dataset(folders, "AtoB", jitter=False, crop_size=16,
                                                             batch_size=2))))
    np.testing.assert_allclose(inp, -1.0)
    with pytest.raises(TypeError, match="pair"):
        pix2pix.dataset(42)


# -- translate -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def g():
    keras.utils.set_random_seed(0)
    return tiny_g()


def test_translate_keeps_kinds_and_sizes(g, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (13, 21, 3), dtype=np.uint8)  # odd sizes: padded to 16 x 24, cropped back
    out = g.translate(x)
    assert out.dtype == np.uint8 and out.shape == (13, 21, 3)
    f = g.translate(x.astype("float32") / 255.0)
    assert f.dtype == np.float32 and f.shape == (13, 21, 3) and 0.0 <= f.min() and f.max() <= 1.0
    np.testing.assert_allclose(f * 255.0, out, atol=1.0)
    batch = g.translate(np.stack([x, x[::-1]]))
    assert batch.shape == (2, 13, 21, 3)
    np.testing.assert_array_equal(batch[0], out)  # inference mode: each image independent of the batch
    # sizes the U-Net takes pass unpadded: translate == the network
    y = rng.uniform(0, 1, (16, 24, 3)).astype("float32")
    direct = (numpy_of(g(y[None] * 2 - 1, training=False))[0] + 1) / 2
    np.testing.assert_allclose(g.translate(y), direct, atol=1e-5)
    rgba = Image.fromarray(np.dstack([x, np.full(x.shape[:2], 100, np.uint8)]))
    back = g.translate(rgba)
    assert isinstance(back, Image.Image) and back.mode == "RGBA" and back.size == (21, 13)
    assert np.asarray(back)[..., 3].max() == 100  # alpha kept
    Image.fromarray(x).save(tmp_path / "in.png")
    from_path = g.translate(str(tmp_path / "in.png"))
    assert isinstance(from_path, Image.Image) and from_path.size == (21, 13)
    assert [o.shape for o in g.translate([x, x])] == [(13, 21, 3)] * 2
    # tiny sizes (reflection repeats) and resizing to the training size instead of padding
    assert g.translate(x[:1, :3]).shape == (1, 3, 3)
    assert g.translate(x, fit="resize").shape == (13, 21, 3)


def test_translate_one_side_of_ab_files(g, tmp_path):
    from zoo.cli import main

    ab = np.random.default_rng(2).integers(0, 256, (16, 33, 3), dtype=np.uint8)  # odd width: the middle column drops
    np.testing.assert_array_equal(g.translate(ab, side="left"), g.translate(ab[:, :16]))
    np.testing.assert_array_equal(g.translate(ab, side="right"), g.translate(ab[:, 17:]))
    assert g.translate(np.stack([ab, ab]), side="left").shape == (2, 16, 16, 3)
    Image.fromarray(ab).save(tmp_path / "ab.png")
    assert g.translate(str(tmp_path / "ab.png"), side="right").size == (16, 16)
    assert [o.shape for o in g.translate([ab, ab], side="right")] == [(16, 16, 3)] * 2
    with pytest.raises(ValueError, match="side must be"):
        g.translate(ab, side="middle")
    out = tmp_path / "photo.png"
    assert main(["pix2pix", "translate", str(tmp_path / "ab.png"), "-o", str(out), "--side", "right"]) == 0
    assert Image.open(out).size == (16, 16)


def test_translate_grey_inputs_give_colour(g):
    edges = np.random.default_rng(1).integers(0, 256, (9, 10), dtype=np.uint8)
    out = g.translate(edges)  # a 2-D grey drawing -> an RGB image
    assert out.shape == (9, 10, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, g.translate(np.repeat(edges[..., None], 3, -1)))
    pil = g.translate(Image.fromarray(edges))
    assert pil.mode == "RGB" and pil.size == (10, 9)
    assert g.translate(np.zeros((2, 8, 8, 1), np.float32)).shape == (2, 8, 8, 3)
    grey_model = tiny_g(out_channels=1)  # a grey-output model gives the input's channels back
    assert grey_model.translate(np.zeros((8, 8, 3), np.uint8)).shape == (8, 8, 3)
    assert grey_model.translate(edges).shape == (9, 10)


def test_translate_train_mode_is_the_papers_protocol_without_side_effects(g):
    x = np.random.default_rng(2).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    before = snapshot(g)
    assert g.translate(x, train_mode=True).shape == x.shape
    assert not any(changed(before, g)), "moving statistics changed"
    # without dropout (the only noise) the protocol is deterministic: each image on its own statistics
    still = tiny_g(dropout=0.0)
    paper = still.translate(x, train_mode=True)
    np.testing.assert_array_equal(paper, still.translate(x, train_mode=True))
    np.testing.assert_array_equal(paper[1], still.translate(x[1], train_mode=True))  # one image at a time
    assert not np.array_equal(paper, still.translate(x))  # inference mode: moving statistics


def test_translate_image_statistics_mode(g):
    """stats="image": each image on its own batch-norm statistics, dropout off: deterministic, independent of
    the batch, no side effects, and not the moving-average output."""
    x = np.random.default_rng(3).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    before = snapshot(g)
    own = g.translate(x, stats="image")
    assert not any(changed(before, g)), "weights or moving statistics changed"
    np.testing.assert_array_equal(own, g.translate(x, stats="image"))
    np.testing.assert_array_equal(own[2], g.translate(x[2], stats="image"))
    assert not np.array_equal(own, g.translate(x, stats="moving"))
    still = tiny_g(dropout=0.0)  # without dropout the paper's protocol is the same computation
    np.testing.assert_array_equal(still.translate(x, stats="image"), still.translate(x, train_mode=True))
    by_config = tiny_g(test_stats="image")
    by_config.set_weights(g.get_weights())
    np.testing.assert_array_equal(by_config.translate(x), own)  # test_stats is the default
    assert by_config.get_config()["test_stats"] == "image"
    with pytest.raises(ValueError, match="stats"):
        g.translate(x, stats="batch")
    with pytest.raises(ValueError, match="stats"):
        tiny_g(test_stats="running")


def test_translate_bad_inputs(g, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        g.translate(np.zeros((0, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="5-D"):
        g.translate(np.zeros((1, 1, 8, 8, 3), np.uint8))
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="x.png"):
        g.translate(str(tmp_path / "x.png"))
    with pytest.raises(FileNotFoundError):
        g.translate(str(tmp_path / "missing.png"))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        g.translate(np.full((8, 8, 3), 255.0, np.float32))
    with pytest.raises(ValueError, match="fit"):
        g.translate(np.zeros((8, 8, 3), np.uint8), fit="crop")


def test_cli_translate_with_weights_file(tmp_path, monkeypatch):
    from zoo.cli import main

    from zoo import weights

    tiny = weights.Preset(name="tiny", app="pix2pix", architecture=pix2pix.UNetGenerator,
                          config={"depth": 3, "filters": 4})
    monkeypatch.setitem(weights._DECLARED, tiny.key, tiny)  # declared for this test only
    tiny_g().save_weights(tmp_path / "g.weights.h5")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (10, 12), dtype=np.uint8)).save(tmp_path / "in.png")
    out = tmp_path / "out.png"
    assert main(["pix2pix", "translate", str(tmp_path / "in.png"), "-o", str(out), "--weights",
                 str(tmp_path / "g.weights.h5"), "--arch", "tiny"]) == 0
    assert Image.open(out).size == (12, 10) and Image.open(out).mode == "RGB"
    assert main(["pix2pix", "translate", str(tmp_path / "in.png"), "-o", str(out), "--weights",
                 str(tmp_path / "g.weights.h5"), "--arch", "tiny", "--fit", "resize"]) == 0
    out.unlink()
    assert main(["pix2pix", "translate", str(tmp_path / "in.png"), "-o", str(out)]) == 0  # the shipped preset
    assert Image.open(out).size == (12, 10) and Image.open(out).mode == "RGB"


# -- the shipped preset ---------------------------------------------------------------------------------------
def test_shipped_preset_reproduces_reference_and_card():
    import json
    import os

    from zoo import weights

    preset = weights.get("pix2pix")
    assert preset.name == "edges2shoes_handbags"
    assert weights.sha256(weights.find_file(preset.file)) == preset.sha256
    g = pix2pix.pretrained()
    assert weights.check_reference(g, preset) < 1e-4
    assert g.test_stats == "image" and count(g) == 13_608_259
    card = os.path.join(os.path.dirname(__file__), "..", "apps", "pix2pix", "results.json")
    with open(card) as f:
        measured = json.load(f)["presets"]
    assert preset.metrics == measured["edges2shoes_handbags"]
    gan, l1 = measured["edges2shoes_handbags"], measured["edges2shoes_handbags_l1"]
    assert gan["sharpness"] > l1["sharpness"] and gan["l1"] <= 1.25 * l1["l1"]  # the ablation bar


def test_demo_translates_the_shipped_drawings(tmp_path):
    (title, path), = pix2pix.demo(str(tmp_path))
    img = np.asarray(Image.open(path))
    assert img.shape[0] > 3 * 256 and img.shape[1] > 2 * 256


def test_finetune_the_preset_on_a_folder_in_one_call(tmp_path):
    """Two GAN steps on two AB files: the preset's generator comes back changed, still translating."""
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (256, 512, 3), dtype=np.uint8)).save(tmp_path / f"{i}.jpg")
    shipped = pix2pix.pretrained()
    g = pix2pix.finetune(str(tmp_path), steps=2, batch_size=1, verbose=0, seed=0)
    assert g.preset is None and g.test_stats == "image"
    assert any(not np.array_equal(a, b) for a, b in zip(shipped.get_weights(), g.get_weights()))
    assert g.translate(np.zeros((40, 30), np.uint8)).shape == (40, 30, 3)
