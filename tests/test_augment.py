"""zoo.augment: DiffAugment and ADA in front of the critics. Off is the identity; each op does what it says; reals
and fakes go through the same augmentation (same policy and p, independent draws) in the D step, its gradient
penalty and the G step, and not in validation; G's gradients flow through it; ADA's p rises when D memorises a
few reals and falls when it cannot tell; p and its sums survive a checkpoint; any GAN subclass can take the mixin."""
import keras
import numpy as np
import pytest
from keras import ops

from helpers import numpy_of
from zoo import augment, backend
from zoo.apps import progan
from zoo.augment import ADA, Augmented, DiffAugment
from zoo.callbacks import Checkpoint
from zoo.gan import GAN


def batch(n=8, side=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, side, side, 3)).astype("float32")


def aug(a, x):
    return numpy_of(a.apply(ops.convert_to_tensor(x)))


def tiny(resolution=16, augment=None, **kwargs):
    g = progan.ProGANGenerator(resolution, latent_dim=8, fmap_base=32, fmap_max=16)
    d = progan.ProGANDiscriminator(resolution, fmap_base=32, fmap_max=16)
    gan = progan.ProGAN(g, d, seed=0, augment=augment)
    gan.compile(**kwargs)
    return gan


# -- the transforms -----------------------------------------------------------------------------------------------
def test_off_is_the_identity_and_on_keeps_shape_and_dtype():
    x = batch()
    for a in (ADA(p=0.0, seed=1), DiffAugment(p=0.0, seed=1)):
        np.testing.assert_array_equal(aug(a, x), x)
    for a in (ADA(p=1.0, seed=1), DiffAugment(seed=1)):
        y = aug(a, x)
        assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()
        assert np.abs(y - x).mean() > 0.1
        half = a.apply(ops.cast(ops.convert_to_tensor(x), "float16"))
        assert keras.backend.standardize_dtype(half.dtype) == "float16" and tuple(half.shape) == x.shape
    with pytest.raises(ValueError, match=r"image batches \(N, H, W, C\)"):
        ADA().apply(ops.zeros((4, 16, 3)))
    for bad in (dict(p=1.5), dict(target=1.0), dict(interval=0), dict(speed=0), dict(ops=("hue",))):
        with pytest.raises(ValueError):
            ADA(**bad)
    with pytest.raises(ValueError, match="subset of"):
        DiffAugment("color,rotation")
    with pytest.raises(ValueError, match="'ada', 'diffaugment'"):
        augment.get("adaa")


def test_each_op_does_what_it_says():
    x = batch(64)
    y = aug(ADA(p=1.0, ops=("xflip",), seed=2), x)
    flipped = [np.array_equal(a, b[:, ::-1]) for a, b in zip(y, x)]
    kept = [np.array_equal(a, b) for a, b in zip(y, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 16 < sum(flipped) < 48  # a mirror half the time
    y = aug(ADA(p=0.5, ops=("xflip",), seed=3), x)
    assert 4 < sum(np.array_equal(a, b[:, ::-1]) for a, b in zip(y, x)) < 28  # p * 1/2 of them
    y = aug(ADA(p=1.0, ops=("translate",), seed=2), x)  # whole pixels: every output value is an input value
    assert all(np.isin(a, b).all() for a, b in zip(y, x)) and not np.array_equal(y, x)
    y = aug(ADA(p=1.0, ops=("rotate",), seed=2), np.ones_like(x))  # reflection padding: no empty corners
    np.testing.assert_allclose(y, 1.0, atol=1e-5)
    y = aug(ADA(p=1.0, ops=("brightness",), seed=2), x)
    shift = (y - x).reshape(64, -1)
    np.testing.assert_allclose(shift, shift[:, :1] + 0 * shift, atol=1e-5)  # one offset per image
    assert 0.1 < shift[:, 0].std() < 0.3  # N(0, 0.2)
    y = aug(ADA(p=1.0, ops=("cutout",), seed=2), x + 2.0)  # x + 2 is never 0: zeros are the cut
    cut = (y == 0).mean(axis=(1, 2, 3))  # a square of half the side, clipped where its centre is near a border
    assert cut.max() == 0.25 and cut.min() >= 0.0625 and ((y == 0).all(-1) == (y == 0).any(-1)).all()
    y = aug(ADA(p=1.0, ops=("saturation",), seed=2), x)
    np.testing.assert_allclose(y.mean(-1), x.mean(-1), atol=1e-5)  # around the grey axis
    y = aug(DiffAugment("translation", seed=2), x)  # zero padding, whole pixels
    assert all(np.isin(a[a != 0], b).all() for a, b in zip(y, x)) and (y == 0).any()


# -- in the trainer ----------------------------------------------------------------------------------------------
class Recorder:
    """Replaces the critic's grown call: records every image batch the critic is given."""

    def __init__(self, gan):
        self.seen, self.grow = [], gan.discriminator.grow
        gan.discriminator.grow = self

    def __call__(self, images, level, alpha=1.0):
        try:
            self.seen.append(numpy_of(images))
        except Exception:  # a traced value (JAX: the penalty's interpolates inside its gradient) has no numbers
            self.seen.append(None)
        return self.grow(images, level, alpha)


def test_reals_and_fakes_pass_through_the_same_augmentation_in_every_critic_call():
    gan = tiny(augment=ADA(p=1.0, ops=("brightness",), target=None, seed=4))
    rec = Recorder(gan)
    x = ops.convert_to_tensor(batch(8))
    gan.discriminator_loss(x, None, x)  # the fakes are the reals: any difference is the augmentation
    real, fake, interpolates = rec.seen
    for seen in [s for s in (real, fake, interpolates) if s is not None]:  # each image shifted by its own offset
        shift = (seen - numpy_of(x)).reshape(8, -1)
        np.testing.assert_allclose(shift, shift[:, :1] + 0 * shift, atol=1e-5)
        assert shift[:, 0].std() > 0.02
    assert not np.allclose(real, fake)  # independent draws for the two sides
    rec.seen.clear()
    gan.adversarial_loss(x, None, x)  # the generator step's critic
    assert len(rec.seen) == 1 and not np.allclose(rec.seen[0], numpy_of(x))
    rec.seen.clear()
    gan.discriminator_loss(x, None, x, training=False)  # validation: the images as they are
    np.testing.assert_array_equal(rec.seen[0], numpy_of(x))
    np.testing.assert_array_equal(rec.seen[1], numpy_of(x))
    plain = tiny()
    rec = Recorder(plain)
    plain.discriminator_loss(x, None, x)
    np.testing.assert_array_equal(rec.seen[0], numpy_of(x))
    assert "aug_p" not in plain.log_names() and {"aug_p", "aug_rt"} <= set(gan.log_names())


def test_generator_gradients_flow_through_the_augmentation():
    gan = tiny(augment=ADA(p=1.0, target=None, seed=5))
    x = ops.convert_to_tensor(batch(8))
    z = ops.convert_to_tensor(np.random.default_rng(1).standard_normal((8, 8)).astype("float32"))
    variables = [gan.generator.get_layer(n).kernel for n in ("dense4", "conv8_0", "conv16_1", "to_rgb16")]

    def loss(model):
        return lambda: ops.mean(model.adversarial_loss(x, None, model.generator(z)))

    _, _, grads = backend.gradients(loss(gan), variables)
    grads = [numpy_of(g) for g in grads]
    assert all(np.isfinite(g).all() for g in grads)
    assert all(np.abs(g).sum() > 0 for g in grads)  # G's layers, bottom to top, reached through the warp
    gan.augment.p.assign(0.0)
    _, _, off = backend.gradients(loss(gan), variables)
    assert any(not np.allclose(a, numpy_of(b)) for a, b in zip(grads, off))  # the augmentation is on the path
    gan.augment.p.assign(1.0)  # the gradient penalty differentiates through it twice
    _, _, d_grads = backend.gradients(lambda: ops.mean(gan.discriminator_loss(x, None, x + 0.5)[0]["gp"]),
                                      gan.discriminator.trainable_variables)
    assert all(np.isfinite(numpy_of(g)).all() for g in d_grads) and any(numpy_of(g).any() for g in d_grads)


def test_the_heuristic_moves_p_every_interval_by_images_over_speed():
    a = ADA(p=0.5, target=0.6, interval=4, speed=1000, seed=0)
    real, fake = ops.ones((8, 1)), -ops.ones((8, 1))
    for step in range(3):
        logs = a.observe({"d": (real, fake)}, centred=True)
        a.update()
        assert float(numpy_of(a.p)) == 0.5  # not yet an interval
    assert float(numpy_of(logs["aug_rt"])) == 1.0
    a.observe({"d": (real, fake)}, centred=True)
    a.update()
    assert float(numpy_of(a.p)) == pytest.approx(0.5 + 32 / 1000)  # r_t 1 > 0.6: up by 4 x 8 images / speed
    assert float(numpy_of(a.rt)) == 1.0 and float(numpy_of(a.steps)) == 0.0
    # a WGAN critic: real scores all below 0 but above the fakes' -> the midpoint puts them on the real side
    for _ in range(4):
        a.observe({"d": (-ops.ones((8, 1)), -3 * ops.ones((8, 1)))}, centred=False)
    a.update()
    assert float(numpy_of(a.rt)) == 1.0 and float(numpy_of(a.p)) == pytest.approx(0.5 + 64 / 1000)
    for _ in range(4):  # centred logits all negative: r_t -1, p down
        a.observe({"d": (-ops.ones((8, 1)), -3 * ops.ones((8, 1)))}, centred=True)
    a.update()
    assert float(numpy_of(a.rt)) == -1.0 and float(numpy_of(a.p)) == pytest.approx(0.5 + 32 / 1000)
    fixed = ADA(p=0.3, target=None)
    for _ in range(4):
        fixed.observe({"d": (real, fake)}, centred=True)
    fixed.update()
    assert float(numpy_of(fixed.p)) == pytest.approx(0.3)


class Copycat(progan.ProGAN):
    """A generator D cannot tell from the data: its 'fakes' are the real minibatch in reverse order."""

    def generate(self, real, condition, training=True):
        return ops.flip(real, axis=0)


def test_p_rises_when_the_critic_memorises_eight_reals_and_falls_when_it_cannot_tell():
    keras.utils.set_random_seed(0)  # the networks' initial weights
    x = np.tile(batch(8, side=8, seed=3), (8, 1, 1, 1))  # every minibatch of 8 is the same eight faces
    g = progan.ProGANGenerator(8, latent_dim=8, fmap_base=32, fmap_max=16)
    d = progan.ProGANDiscriminator(8, fmap_base=32, fmap_max=16)
    gan = progan.ProGAN(g, d, seed=0, augment=ADA(p=0.0, speed=4000, seed=1))
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99),
                g_optimizer=keras.optimizers.Adam(1e-6, beta_1=0.0, beta_2=0.99))  # G barely moves
    h = gan.fit(x, epochs=8, batch_size=8, shuffle=False, verbose=0)
    assert np.mean(h.history["aug_rt"][4:]) > 0.6  # D puts the reals on their side once it has learnt them
    assert float(numpy_of(gan.augment.p)) > 0.05 and h.history["aug_p"][-1] > h.history["aug_p"][-2]  # p rises
    g = progan.ProGANGenerator(8, latent_dim=8, fmap_base=32, fmap_max=16)
    d = progan.ProGANDiscriminator(8, fmap_base=32, fmap_max=16)
    same = Copycat(g, d, seed=0, augment=ADA(p=0.5, speed=4000, seed=1))
    same.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99))
    h = same.fit(x, epochs=4, batch_size=8, shuffle=False, verbose=0)
    assert abs(np.mean(h.history["aug_rt"])) < 0.4
    assert float(numpy_of(same.augment.p)) == pytest.approx(0.5 - 8 * 32 / 4000, abs=1e-5)  # 8 intervals down


def test_p_and_its_sums_survive_a_checkpoint_and_resume(tmp_path):
    gan = tiny(augment="ada")
    x = batch(8)
    aug(gan.augment, x)  # the draws' state moves on
    gan.augment.p.assign(0.37)
    gan.augment.sign_sum.assign(3.0)
    ckpt = Checkpoint(tmp_path)
    ckpt.set_model(gan)
    ckpt.save(1)
    again = tiny(augment="ada")
    assert Checkpoint(tmp_path).resume(again) == 1
    for name in ("p", "sign_sum", "sign_count", "images", "steps", "rt"):
        assert float(numpy_of(getattr(again.augment, name))) == float(numpy_of(getattr(gan.augment, name))), name
    assert float(numpy_of(again.augment.p)) == pytest.approx(0.37)
    np.testing.assert_array_equal(numpy_of(again.augment.seed_generator.state),
                                  numpy_of(gan.augment.seed_generator.state))
    np.testing.assert_array_equal(aug(again.augment, x), aug(gan.augment, x))  # the same draws follow


# -- any GAN ---------------------------------------------------------------------------------------------------------
class AugGAN(Augmented, GAN):
    """The core GAN (non-saturating loss: log-odds logits, ADA's sign as it is) with the mixin."""


def dense_gan(augment):
    g = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8 * 8 * 3, activation="tanh"),
                          keras.layers.Reshape((8, 8, 3))])
    g.latent_dim = 8
    d = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = AugGAN(g, d, seed=0, augment=augment)
    gan.compile(d_optimizer=keras.optimizers.Adam(3e-3), g_optimizer=keras.optimizers.Adam(1e-6),
                loss="non_saturating")
    return gan


def test_any_gan_takes_the_mixin_and_its_d_overfitting_raises_p():
    keras.utils.set_random_seed(0)
    gan = dense_gan(ADA(p=0.0, speed=4000, seed=2))
    x = np.tile(batch(8, side=8, seed=4), (8, 1, 1, 1))
    h = gan.fit(x, epochs=8, batch_size=8, shuffle=False, verbose=0)
    assert np.mean(h.history["aug_rt"]) > 0.6 and float(numpy_of(gan.augment.p)) > 0.05  # D overfits: p rises
    assert all(np.isfinite(h.history["g_loss"]))
    diff = dense_gan("diffaugment")
    h = diff.fit(x[:32], epochs=1, batch_size=8, verbose=0)
    assert h.history["aug_p"] == [1.0] and np.isfinite(h.history["d_loss"]).all()
