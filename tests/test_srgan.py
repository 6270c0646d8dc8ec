"""SRGAN app, the model part: SRResNet, the SRGAN discriminator, RRDBNet (ESRGAN), the losses (pixel, VGG
content, RaGAN) and the SRGAN/ESRGAN trainers (two phases)."""

import keras
import numpy as np
import pytest
from keras import ops

from helpers import bn as BN, changed, conv, count, numpy_of, snapshot
from zoo.apps import srgan

pytestmark = pytest.mark.core


PRELU = lambda c: c  # one slope per channel


def smooth_pairs(n=16, hr=16, scale=2, seed=0):
    """Smooth random HR images in [-1, 1] (4x4 noise upsampled) and their LR images (bilinear, antialiased)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-0.9, 0.9, (n, 4, 4, 3)).astype("float32")
    hr_images = numpy_of(ops.image.resize(coarse, (hr, hr), interpolation="bicubic"))
    hr_images = np.clip(hr_images, -1, 1).astype("float32")
    lr_images = numpy_of(ops.image.resize(hr_images, (hr // scale, hr // scale), interpolation="bilinear",
                                          antialias=True)).astype("float32")
    return lr_images, hr_images


@pytest.fixture(scope="module")
def vgg():
    return srgan.VGGFeatures(weights=None)


def tiny_g(scale=2):
    return srgan.SRResNet(scale=scale, blocks=1, filters=8)


def tiny_d(**kw):
    return srgan.SRGANDiscriminator(filters=8, dense_units=16, **kw)


# -- architectures -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [2, 4, 8])
def test_generators_upscale_odd_sizes(scale):
    lr = np.random.default_rng(0).uniform(-1, 1, (2, 17, 23, 3)).astype("float32")
    for g in (tiny_g(scale), srgan.RRDBNet(scale=scale, blocks=1, filters=8, growth=4)):
        assert g.latent_dim is None and g.scale == scale
        out = g(lr)
        assert tuple(out.shape) == (2, 17 * scale, 23 * scale, 3), type(g).__name__
        assert np.all(np.isfinite(numpy_of(out)))


def test_grey_generators_and_bad_scale():
    x = np.zeros((1, 5, 7, 1), "float32")
    assert tuple(srgan.SRResNet(scale=4, blocks=1, filters=8, channels=1)(x).shape) == (1, 20, 28, 1)
    assert tuple(srgan.RRDBNet(scale=2, blocks=1, filters=8, growth=4, channels=1)(x).shape) == (1, 10, 14, 1)
    for bad in (3, 1, 0, 6):
        with pytest.raises(ValueError, match="power of two"):
            srgan.SRResNet(scale=bad)


def test_srresnet_x4_parameter_count():
    """Ledig et al.'s SRResNet, x4 RGB, counted layer by layer."""
    f = 64
    head = conv(9, 3, f) + PRELU(f)
    block = 2 * conv(3, f, f, bias=False) + 2 * BN(f) + PRELU(f)
    trunk = conv(3, f, f, bias=False) + BN(f)
    up = conv(3, f, 4 * f) + PRELU(f)  # PReLU after the shuffle: 64 channels
    tail = conv(9, f, 3)
    expected = head + 16 * block + trunk + 2 * up + tail
    assert expected == 1_548_547
    # Lornatang/SRGAN-PyTorch's Generator: same layers, but nn.PReLU() has one slope for all 64 channels.
    assert expected - 19 * (f - 1) == 1_547_350
    g = srgan.SRResNet(**srgan.CONFIGS["srresnet_x4"].generator_config)
    assert count(g) == expected
    assert g.output_shape == (None, None, None, 3)


def test_rrdbnet_x4_parameter_count_is_the_official_16_697_987():
    """xinntao/ESRGAN RRDBNet(3, 3, nf=64, nb=23, gc=32): every conv 3x3 with bias."""
    nf, gc = 64, 32
    rdb = sum(conv(3, nf + i * gc, gc) for i in range(4)) + conv(3, nf + 4 * gc, nf)
    expected = (conv(3, 3, nf) + 23 * 3 * rdb + conv(3, nf, nf)  # conv_first, trunk, trunk_conv
                + 2 * conv(3, nf, nf) + conv(3, nf, nf) + conv(3, nf, 3))  # upconv1-2, HRconv, conv_last
    assert expected == 16_697_987
    g = srgan.RRDBNet(**srgan.CONFIGS["esrgan_x4"].generator_config)
    assert count(g) == expected == g.count_params()


def test_discriminator_parameter_counts():
    convs = (conv(3, 3, 64) + conv(3, 64, 64, False) + BN(64) + conv(3, 64, 128, False) + BN(128)
             + conv(3, 128, 128, False) + BN(128) + conv(3, 128, 256, False) + BN(256)
             + conv(3, 256, 256, False) + BN(256) + conv(3, 256, 512, False) + BN(512)
             + conv(3, 512, 512, False) + BN(512))
    head = lambda features: features * 1024 + 1024 + 1025
    # the paper's layout at 96x96 (6x6x512 flattened; Lornatang/SRGAN-PyTorch's Discriminator) and pooled
    assert count(srgan.SRGANDiscriminator(hr_size=96)) == convs + head(6 * 6 * 512) == 23_563_649
    assert count(srgan.SRGANDiscriminator()) == convs + head(512) == 5_213_569
    # ESRGAN's (BasicSR VGGStyleDiscriminator(3, 64), input 128): 4x4 stride-2 convs, a 5th stage, dense 100
    es = (conv(3, 3, 64) + conv(4, 64, 64, False) + BN(64) + conv(3, 64, 128, False) + BN(128)
          + conv(4, 128, 128, False) + BN(128) + conv(3, 128, 256, False) + BN(256) + conv(4, 256, 256, False)
          + BN(256) + conv(3, 256, 512, False) + BN(512) + conv(4, 512, 512, False) + BN(512)
          + conv(3, 512, 512, False) + BN(512) + conv(4, 512, 512, False) + BN(512)
          + 512 * 4 * 4 * 100 + 100 + 101)
    assert count(srgan.SRGANDiscriminator(**srgan.CONFIGS["esrgan_x4"].discriminator_config)) == es == 14_499_401


def test_discriminator_crop_sizes():
    pooled = tiny_d()
    for size in (24, 40):
        x = np.random.default_rng(size).uniform(-1, 1, (2, size, size, 3)).astype("float32")
        assert tuple(pooled(x).shape) == (2, 1)
    fixed = tiny_d(hr_size=32)
    assert tuple(fixed(np.zeros((2, 32, 32, 3), "float32")).shape) == (2, 1)
    with pytest.raises(Exception):
        fixed(np.zeros((2, 48, 48, 3), "float32"))
    with pytest.raises(ValueError, match="hr_size"):
        srgan.SRGANDiscriminator(hr_size=0)


def test_config_round_trip_and_keras_file(tmp_path):
    lr = np.random.default_rng(1).uniform(-1, 1, (1, 6, 5, 3)).astype("float32")
    for net in (tiny_g(), srgan.RRDBNet(scale=2, blocks=1, filters=8, growth=4), tiny_d()):
        x = lr if not isinstance(net, srgan.SRGANDiscriminator) else np.repeat(np.repeat(lr, 4, 1), 4, 2)
        np.testing.assert_allclose(numpy_of(net.clone()(x)), numpy_of(net(x)), rtol=1e-5, atol=1e-6)
        path = tmp_path / f"{net.name}.keras"
        net.save(path)
        back = keras.saving.load_model(path, safe_mode=True)
        assert type(back) is type(net)
        np.testing.assert_allclose(numpy_of(back(x)), numpy_of(net(x)), rtol=1e-5, atol=1e-6)


def test_presets():
    assert set(srgan.CONFIGS) == {"srresnet_x4", "srgan_x4", "rrdb_psnr_x4", "rrdb6_psnr_x4", "esrgan_x4",
                                  "photo_x4", "photo_adaptive_x4"}
    assert srgan.CONFIGS["rrdb6_psnr_x4"].config == dict(srgan.CONFIGS["rrdb_psnr_x4"].config, blocks=6)
    assert srgan.CONFIGS["photo_x4"].architecture is srgan.SRVGGNetCompact
    assert srgan.CONFIGS["photo_x4"].config["convs"] == 32  # realesr-general-x4v3's body
    assert srgan.CONFIGS["photo_adaptive_x4"].architecture is srgan.AdaptiveCompact  # two of them, blended
    g = srgan.CONFIGS["photo_adaptive_x4"].build_generator()
    assert type(g.weak) is type(g.strong) is srgan.SRVGGNetCompact and g.strong.count_params() == 1_213_296
    assert srgan.CONFIGS["srresnet_x4"].discriminator is None
    assert srgan.CONFIGS["srgan_x4"].trainer is srgan.SRGAN
    assert srgan.CONFIGS["esrgan_x4"].trainer is srgan.ESRGAN
    assert srgan.CONFIGS["esrgan_x4"].companions["content"] == dict(layer="block5_conv4", before_activation=True)


def test_compact_network_starts_with_a_residual_that_can_learn():
    """SRVGGNetCompact's 33 plain convolutions: with He init the fresh network's residual over the nearest
    upscale is small but alive (Keras' default Glorot init scaled it to ~1e-3: L1 training did not move)."""
    g = srgan.SRVGGNetCompact(convs=32)
    lr = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    residual = numpy_of(g(lr)) - np.repeat(np.repeat(lr, 4, 1), 4, 2)
    assert 0.01 < residual.std() < 0.5, residual.std()


# -- losses --------------------------------------------------------------------------------------------------
def test_ragan_losses_match_numpy():
    rng = np.random.default_rng(0)
    r, f = rng.normal(size=(5, 1)).astype("float32"), rng.normal(size=(5, 1)).astype("float32")
    sig = lambda v: 1 / (1 + np.exp(-v))
    dr, df = r - f.mean(), f - r.mean()
    d = 0.5 * (-np.log(sig(dr)) - np.log(1 - sig(df)))
    g = 0.5 * (-np.log(1 - sig(dr)) - np.log(sig(df)))
    np.testing.assert_allclose(numpy_of(srgan.ragan_d(r, f)), d[:, 0], rtol=1e-5)
    np.testing.assert_allclose(numpy_of(srgan.ragan_g(r, f)), g[:, 0], rtol=1e-5)
    assert srgan.ragan_g.relativistic and srgan.RAGAN == (srgan.ragan_d, srgan.ragan_g)
    from zoo import losses

    assert losses.get(srgan.RAGAN) == srgan.RAGAN  # usable as compile(loss=(d_fn, g_fn))


def test_pixel_loss():
    a = np.zeros((2, 2, 2, 1), "float32")
    b = np.array([1, -1, 1, -1, 2, 2, 2, 2], "float32").reshape(2, 2, 2, 1)
    np.testing.assert_allclose(numpy_of(srgan.pixel_loss(a, b, "mse")), [1, 4])
    np.testing.assert_allclose(numpy_of(srgan.pixel_loss(a, b, "l1")), [1, 2])
    with pytest.raises(ValueError, match="mse"):
        srgan.pixel_loss(a, b, "l2")


def test_vgg_preprocess_is_caffe_preprocessing():
    from keras.applications import vgg19

    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 5, 3)).astype("float32")
    expected = vgg19.preprocess_input((x + 1.0) * 127.5)
    np.testing.assert_allclose(numpy_of(srgan.VGGPreprocess()(x)), expected, rtol=1e-5, atol=1e-3)
    grey = x[..., :1]
    np.testing.assert_allclose(numpy_of(srgan.VGGPreprocess()(grey)),
                               vgg19.preprocess_input(np.repeat((grey + 1.0) * 127.5, 3, -1)), atol=1e-3)


def test_vgg_content_loss(vgg):
    assert vgg.output_shape == (None, None, None, 512) and not vgg.trainable_weights
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    b = np.clip(a + rng.normal(0, 0.3, a.shape), -1, 1).astype("float32")
    np.testing.assert_array_equal(numpy_of(srgan.vgg_content_loss(a, a, vgg)), [0.0, 0.0])
    for criterion in ("mse", "l1"):
        loss = numpy_of(srgan.vgg_content_loss(a, b, vgg, criterion))
        assert loss.shape == (2,) and np.all(loss > 0)
    # the feature rescaling multiplies an MSE by scale**2
    np.testing.assert_allclose(numpy_of(srgan.vgg_content_loss(a, b, vgg, scale=1.0)) / 12.75**2,
                               numpy_of(srgan.vgg_content_loss(a, b, vgg)), rtol=1e-4)


def test_vgg_features_before_activation(vgg):
    pre = srgan.VGGFeatures(before_activation=True, weights=None)
    pre.set_weights(vgg.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)).astype("float32")
    p, q = numpy_of(pre(x)), numpy_of(vgg(x))
    assert (p < 0).any()
    np.testing.assert_allclose(np.maximum(p, 0), q, rtol=1e-4, atol=1e-6 * np.abs(q).max())
    with pytest.raises(ValueError, match="no layer"):
        srgan.VGGFeatures(layer="block9_conv1", weights=None)


def test_vgg_imagenet_weights_offline_is_a_clear_error(monkeypatch):
    from keras.src.utils import file_utils

    def offline(fname, origin=None, **kwargs):
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(RuntimeError, match=r"ImageNet weights.*~/.keras/models.*weights=None"):
        srgan.VGGFeatures()
    with pytest.warns(RuntimeWarning, match="random weights"):
        assert srgan.load_vgg19(allow_random=True) is not None


# -- the trainers --------------------------------------------------------------------------------------------
def step(gan, which, lr, hr):
    logs = gan.discriminator_update((lr, hr)) if which == "d" else gan.generator_update((lr, hr))
    return logs[f"{which}_loss"], logs


@pytest.mark.parametrize("trainer", [srgan.SRGAN, srgan.ESRGAN])
def test_discriminator_step_changes_only_d(trainer):
    lr, hr = smooth_pairs(4)
    gan = trainer(tiny_g(), tiny_d(), seed=0)
    gan.compile()
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    loss, logs = step(gan, "d", lr, hr)
    assert np.isfinite(float(numpy_of(loss))) and "d_acc" in logs
    assert not any(changed(g0, gan.generator)), "G's weights (incl. batch-norm statistics) moved in a D step"
    # A relativistic loss depends on logit differences only: the logit's bias gets no gradient.
    skip = {"logit/bias"} if trainer is srgan.ESRGAN else set()
    assert all(c for c, w in zip(changed(d0, gan.discriminator), gan.discriminator.weights)
               if w.trainable and w.path not in skip)


@pytest.mark.parametrize("trainer", [srgan.SRGAN, srgan.ESRGAN])
def test_generator_step_changes_only_g(trainer, vgg):
    lr, hr = smooth_pairs(4)
    gan = trainer(tiny_g(), tiny_d(), content=vgg)
    gan.compile(pixel_weight=1.0)
    g0, d0, v0 = snapshot(gan.generator), snapshot(gan.discriminator), snapshot(vgg)
    loss, logs = step(gan, "g", lr, hr)
    assert np.isfinite(float(numpy_of(loss)))
    assert set(logs) == {"g_loss", "pixel", "content", "adversarial"}
    assert not any(changed(d0, gan.discriminator)), "D's weights (incl. batch-norm statistics) moved in a G step"
    assert not any(changed(v0, vgg)), "the VGG feature network moved"
    assert all(c for c, w in zip(changed(g0, gan.generator), gan.generator.weights) if w.trainable)


def test_pretrain_phase_trains_g_alone():
    """The PSNR-oriented phase is zoo.GAN without a discriminator: one G update per step, pixel loss only."""
    lr, hr = smooth_pairs(8)
    gan = srgan.SRGAN(tiny_g())
    gan.compile()
    assert not gan.adversarial and gan.d_optimizer is None
    assert gan.pixel_criterion == "mse" and gan.pixel_weight == 1.0 and gan.learning_rate == 1e-4
    g0 = snapshot(gan.generator)
    logs = gan.fit(lr, hr, batch_size=4, epochs=1, verbose=0).history
    assert set(logs) == {"g_loss", "pixel"} and np.isfinite(logs["g_loss"][-1])
    assert int(numpy_of(gan.g_optimizer.iterations)) == 2
    assert all(c for c, w in zip(changed(g0, gan.generator), gan.generator.weights) if w.trainable)
    with pytest.raises(ValueError, match="content_weight needs a feature network"):
        gan.compile(content_weight=1.0)


def test_pretraining_lowers_the_pixel_loss():
    lr, hr = smooth_pairs(16, seed=1)
    gan = srgan.SRGAN(srgan.SRResNet(scale=2, blocks=2, filters=16), seed=0)
    gan.compile(learning_rate=2e-3)
    before = gan.evaluate(lr, hr, batch_size=16, verbose=0, return_dict=True)
    h = gan.fit(lr, hr, batch_size=8, epochs=12, verbose=0, shuffle=False).history
    assert h["pixel"][-1] < 0.5 * h["pixel"][0], h["pixel"]
    after = gan.evaluate(lr, hr, batch_size=16, verbose=0, return_dict=True)
    assert after["pixel"] < before["pixel"] and after["psnr_rgb"] > before["psnr_rgb"]


def test_adversarial_weight_scales_only_the_adversarial_term():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (3, 8, 8, 3)).astype("float32")
    fake = rng.uniform(-1, 1, (3, 8, 8, 3)).astype("float32")
    gan = srgan.SRGAN(tiny_g(), tiny_d())
    gan.compile(pixel_weight=0.5, adversarial_weight=0.01)
    terms, _ = gan.generator_loss(ops.convert_to_tensor(real), None, ops.convert_to_tensor(fake))
    loss = sum(terms.values())
    logits = numpy_of(gan.discriminator(fake, training=True))
    mse = ((real - fake) ** 2).mean(axis=(1, 2, 3))
    adv = np.log1p(np.exp(-logits[:, 0]))  # -log sigmoid
    np.testing.assert_allclose(numpy_of(loss), 0.5 * mse + 0.01 * adv, rtol=1e-5)
    np.testing.assert_allclose(numpy_of(terms["adversarial"]), 0.01 * adv, rtol=1e-5)
    # ESRGAN: relativistic G loss on D's logits for the real images too
    es = srgan.ESRGAN(tiny_g(), tiny_d(hr_size=8))
    es.compile()
    assert (es.pixel_criterion, es.pixel_weight, es.adversarial_weight) == ("l1", 1e-2, 5e-3)
    terms, _ = es.generator_loss(ops.convert_to_tensor(real), None, ops.convert_to_tensor(fake))
    loss = sum(terms.values())
    real_logits = numpy_of(es.discriminator(real, training=True))
    logits = numpy_of(es.discriminator(fake, training=True))
    expected = 1e-2 * np.abs(real - fake).mean(axis=(1, 2, 3)) + 5e-3 * numpy_of(srgan.ragan_g(real_logits, logits))
    np.testing.assert_allclose(numpy_of(loss), expected, rtol=1e-4)


def test_compile_defaults_and_errors(vgg):
    gan = srgan.SRGAN(tiny_g(), tiny_d(), content=vgg)
    gan.compile()  # SRGAN-VGG54: content only + 1e-3 adversarial
    assert (gan.pixel_weight, gan.content_weight, gan.adversarial_weight) == (0.0, 1.0, 1e-3)
    assert gan.content_scale == pytest.approx(1 / 12.75) and gan.loss_name == "non_saturating"
    # the VGG network is not part of the trainer's weights (checkpoints)
    assert len(gan.weights) == len(gan.generator.weights) + len(gan.discriminator.weights)
    mse_gan = srgan.SRGAN(tiny_g(), tiny_d())
    mse_gan.compile()  # no VGG: "SRGAN-MSE"
    assert (mse_gan.pixel_weight, mse_gan.content_weight) == (1.0, 0.0)
    with pytest.raises(ValueError, match="feature network"):
        mse_gan.compile(content_weight=1.0)
    es = srgan.ESRGAN(srgan.RRDBNet(scale=2, blocks=1, filters=8, growth=4))
    es.compile()
    assert (es.pixel_criterion, es.pixel_weight, es.learning_rate, es.loss_name) == ("l1", 1.0, 2e-4, "ragan")
    with pytest.raises(ValueError, match="pixel or content"):
        srgan.SRGAN(tiny_g()).compile(pixel_weight=0.0)
    with pytest.raises(ValueError, match="lr, hr"):
        gan.unpack(np.zeros((2, 8, 8, 3), "float32"))


def test_esrgan_fit_with_content_and_ragan(vgg):
    lr, hr = smooth_pairs(8)
    pre = srgan.VGGFeatures(before_activation=True, weights=None)
    gan = srgan.ESRGAN(srgan.RRDBNet(scale=2, blocks=1, filters=8, growth=4), tiny_d(hr_size=16), content=pre)
    gan.compile()
    h = gan.fit(lr, hr, batch_size=4, epochs=1, verbose=0).history
    for key in ("d_loss", "g_loss", "pixel", "content", "adversarial"):
        assert np.isfinite(h[key][-1]), key
    out = gan.predict(lr[:2], verbose=0)
    assert out.shape == (2, 16, 16, 3)


# -- the user-facing verbs ---------------------------------------------------------------------------------
def test_receptive_radius_by_hand():
    # 9x9 head (4) + 16 blocks x two 3x3 (32) + trunk 3x3 (1) + upsampling conv at x1 (1) and at x2 (1/2)
    # + 9x9 tail at x4 (4/4): 39.5 LR pixels
    assert srgan.SRResNet().receptive_radius() == 40


def test_upscale_tiled_equals_untiled_and_keeps_kinds():
    keras.utils.set_random_seed(0)
    g = srgan.SRResNet(scale=2, blocks=2, filters=8)
    assert g.receptive_radius() == 12  # 4 + 4 + 1 + 1 + 4/2
    x = np.random.default_rng(0).uniform(0, 1, (30, 41, 3)).astype("float32")
    whole = g.upscale(x)
    assert whole.shape == (60, 82, 3) and whole.dtype == np.float32
    np.testing.assert_allclose(g.upscale(x, tile=28), whole, atol=1e-5)
    rgba = (np.random.default_rng(1).uniform(0, 255, (9, 11, 4))).astype("uint8")
    out = g.upscale(rgba)
    assert out.dtype == np.uint8 and out.shape == (18, 22, 4)
    assert g.upscale(np.stack([rgba, rgba]), scale=2).shape == (2, 18, 22, 4)


def test_upscale_auto_tiles_large_images_only():
    keras.utils.set_random_seed(0)
    g = srgan.SRResNet(scale=2, blocks=2, filters=8)
    # instance attributes: small thresholds for the test (the memory 30 x 40 LR pixels need)
    g.AUTO_TILE_BYTES, g.AUTO_TILE = g.inference_bytes(30, 40), 28
    assert g.inference_bytes(30, 40) == g.FIXED_BYTES + 30 * 40 * g.widest_activation() * 4 * g.ALIVE_COPIES
    assert g.widest_activation() == 4 * 8  # the x2 upsampling convolution's 4 x 8 filters at LR size
    calls = []
    big = np.random.default_rng(0).uniform(0, 1, (30, 41, 3)).astype("float32")  # 1230 px > 1200: tiled
    out = g.upscale(big, progress=lambda done, total: calls.append(total))
    assert calls and calls[-1] > 1  # several windows
    np.testing.assert_allclose(out, g.upscale(big, tile=None), atol=1e-5)
    calls.clear()
    g.upscale(big[:, :40], progress=lambda done, total: calls.append(total))  # 1200 px: whole
    assert calls in ([], [1])
    with pytest.raises(ValueError, match="tile"):
        g.upscale(big, tile="big")


def test_upscale_errors(tmp_path):
    g = srgan.SRResNet(scale=2, blocks=1, filters=4)
    with pytest.raises(ValueError, match="x2; scale=4 is not supported"):
        g.upscale(np.zeros((8, 8, 3), np.uint8), scale=4)
    with pytest.raises(ValueError):
        g.upscale(np.zeros((1, 1, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError):
        g.upscale(np.zeros((0, 8, 3), np.uint8))
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="x.png"):
        g.upscale(str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="tile"):
        g.upscale(np.zeros((40, 40, 3), np.uint8), tile=8)


def test_cli_upscale_with_weights_file(tmp_path):
    from PIL import Image

    from zoo.cli import main

    g = srgan.SRResNet()
    g.save_weights(tmp_path / "g.weights.h5")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (10, 12, 3), dtype=np.uint8)).save(tmp_path / "in.png")
    out = tmp_path / "out.png"
    assert main(["srgan", "upscale", str(tmp_path / "in.png"), "-o", str(out), "--weights",
                 str(tmp_path / "g.weights.h5"), "--arch", "srresnet_x4"]) == 0
    assert Image.open(out).size == (48, 40)
    assert main(["srgan", "upscale", str(tmp_path / "in.png"), "-o", str(out), "--preset", "nope"]) == 2


# -- AdaptiveCompact: two compact networks blended by a degradation estimator --------------------------------
def _estimate_by_hand(e, x):
    """The estimator, written out: four 3x3 convolutions ("same" padding) + leaky ReLU, a 1x1 score, its mean over
    the positions that never saw the padding (four from every border), or over all positions when there are none;
    a sigmoid. Also returns how many positions were averaged."""
    y = x
    for i in range(4):
        y = numpy_of(e.get_layer(f"conv{i}")(y))
        y = np.where(y > 0, y, 0.2 * y)
    score = numpy_of(e.get_layer("score")(y))[..., 0]
    inner = score[:, 4:-4, 4:-4]
    score = inner.mean(axis=(1, 2)) if inner.size else score.mean(axis=(1, 2))
    return 1 / (1 + np.exp(-score)), inner[0].size


def test_adaptive_compact_blends_its_two_networks_by_the_estimated_degradation():
    keras.utils.set_random_seed(0)
    m = srgan.AdaptiveCompact(scale=2, filters=8, convs=1, estimator_filters=4)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 8, 14, 3)).astype("float32")
    x[1] *= 0.1  # a flat image: another score
    weak, strong = numpy_of(m.weak(x)), numpy_of(m.strong(x))
    assert not np.allclose(weak, strong)
    e = m.denoise_model
    a, interior = _estimate_by_hand(e, x)
    assert interior == 0  # too small for an interior position: the plain mean
    np.testing.assert_allclose(m.denoise((x + 1) / 2), a, rtol=1e-5, atol=1e-6)
    big = rng.uniform(-1, 1, (2, 27, 40, 3)).astype("float32")
    want, interior = _estimate_by_hand(e, big)
    assert interior == (27 - 8) * (40 - 8)  # four positions at every border left out
    np.testing.assert_allclose(m.denoise((big + 1) / 2), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy_of(m(x)), weak + a[:, None, None, None] * (strong - weak), rtol=1e-5,
                               atol=1e-5)
    assert len(set(np.round(a, 6))) > 1  # per image
    # a = 0 is the weak network, a = 1 the strong one
    score_layer = e.get_layer("score")
    for bias, want in ((-60.0, weak), (60.0, strong)):
        score_layer.set_weights([np.zeros_like(score_layer.get_weights()[0]), np.array([bias], "float32")])
        np.testing.assert_allclose(numpy_of(m(x)), want, rtol=1e-5, atol=1e-5)
    assert m.upscale(np.zeros((9, 11, 3), np.uint8)).shape == (18, 22, 3)
    assert m.receptive_radius() == m.strong.receptive_radius()
    back = srgan.AdaptiveCompact.from_config(m.get_config())
    assert back.count_params() == m.count_params() == 2 * m.weak.count_params() + e.count_params()


def test_blend_targets_are_the_least_squares_weight_and_the_estimator_learns_them():
    keras.utils.set_random_seed(0)
    m = srgan.AdaptiveCompact(scale=2, filters=8, convs=1, estimator_filters=4)
    lr, _ = smooth_pairs(6, hr=32, scale=2)
    w, st = numpy_of(m.weak(lr)), numpy_of(m.strong(lr))
    want = np.array([0.3, 0.0, 1.0, 0.7, 0.0, 1.0], "float32")
    hr = w + np.array([0.3, -0.5, 1.8, 0.7, 0.0, 1.0], "float32")[:, None, None, None] * (st - w)
    a, gap = srgan.blend_targets(m, lr, hr)
    np.testing.assert_allclose(a, want, atol=1e-4)  # the weight itself, clipped to [0, 1]
    np.testing.assert_allclose(gap, ((st - w) ** 2).sum(axis=(1, 2, 3)), rtol=1e-4)
    # fit_estimator: the networks stay, the estimator moves towards the targets
    x = np.concatenate([lr * 0.5, lr], 0)  # two kinds of image: faint (target 1) and contrasty (target 0)
    mix = np.array([1.0] * 6 + [0.0] * 6, "float32")[:, None, None, None]
    w, st = numpy_of(m.weak(x)), numpy_of(m.strong(x))
    hr = w + mix * (st - w)
    data = [(x, hr)] * 8
    before = snapshot(m.weak) + snapshot(m.strong)
    fit = srgan.fit_estimator(m, data, samples=96, epochs=30, learning_rate=1e-2, validation=0.25, verbose=0)
    assert all(np.array_equal(p, q) for p, q in zip(before, snapshot(m.weak) + snapshot(m.strong)))
    assert fit["mse"] < 0.5 * fit["mse_constant"], fit
