"""The adversarial trainer: freezing rules, losses, k-step schedule, precision, compilation, resume."""

import keras
import numpy as np
import pytest
from keras import ops

from helpers import changed, discriminator_loss, generator_loss, snapshot
from zoo import GAN, losses
from zoo.apps.dcgan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.core


def tiny_gan(conditional=False, **kw):
    nc = 10 if conditional else None
    g = DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=8, num_classes=nc)
    d = DCGANDiscriminator(image_size=8, channels=1, filters=8, num_classes=nc)
    return GAN(g, d, seed=1, **kw)


def run_update(gan, net_name, data):
    logs = gan.discriminator_update(data) if net_name == "d" else gan.generator_update(data)
    return logs[f"{net_name}_loss"], logs


@pytest.mark.parametrize("conditional", [False, True])
def test_discriminator_step_changes_only_d(small_digits, conditional):
    x, y = small_digits
    gan = tiny_gan(conditional)
    gan.compile()
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    data = (x[:32], y[:32]) if conditional else x[:32]
    loss, _ = run_update(gan, "d", data)
    assert np.isfinite(float(loss))
    assert not any(changed(g0, gan.generator)), "G's weights (incl. batch-norm statistics) moved in a D step"
    assert all(changed(d0, gan.discriminator)[:1]) and sum(changed(d0, gan.discriminator)) > 0


@pytest.mark.parametrize("conditional", [False, True])
def test_generator_step_changes_only_g(small_digits, conditional):
    x, y = small_digits
    gan = tiny_gan(conditional)
    gan.compile()
    g0, d0 = snapshot(gan.generator), snapshot(gan.discriminator)
    data = (x[:32], y[:32]) if conditional else x[:32]
    loss, _ = run_update(gan, "g", data)
    assert np.isfinite(float(loss))
    assert not any(changed(d0, gan.discriminator)), "D's weights (incl. batch-norm statistics) moved in a G step"
    # every trainable G variable gets a gradient through D
    moved = changed(g0, gan.generator)
    trainable = [w.trainable for w in gan.generator.weights]
    assert all(m for m, t in zip(moved, trainable) if t)


def test_k_discriminator_steps_per_generator_step(small_digits):
    x, _ = small_digits
    gan = tiny_gan(d_steps=3)
    gan.compile()
    gan.fit(x[:96], batch_size=48, epochs=1, verbose=0, shuffle=False)  # 2 iterations
    assert int(ops.convert_to_numpy(gan.d_optimizer.iterations)) == 6
    assert int(ops.convert_to_numpy(gan.g_optimizer.iterations)) == 2


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "lsgan", "wgan", "hinge"])
def test_losses_finite_and_logged_as_suits_the_family(small_digits, loss):
    """Log-odds losses log D's scores as probabilities and an accuracy; LSGAN, WGAN and hinge log raw scores
    (a sigmoid of a critic's score means nothing) and no accuracy; penalties are logged by name."""
    x, _ = small_digits
    gan = tiny_gan()
    gan.compile(loss=loss, gp_weight=10.0 if loss == "wgan" else 0.0, r1_gamma=1.0 if loss == "hinge" else 0.0)
    h = gan.fit(x[:64], batch_size=32, epochs=1, verbose=0).history
    expected = {"d_loss", "g_loss", "d_real", "d_fake"}
    expected |= {"d_acc"} if loss in ("minimax", "non_saturating") else set()
    expected |= {"gp"} if loss == "wgan" else {"r1"} if loss == "hinge" else set()
    assert set(h) == expected
    for key in expected:
        assert np.isfinite(h[key][-1]), key
    if "d_acc" in h:
        assert 0.0 <= h["d_acc"][-1] <= 1.0 and 0.0 < h["d_real"][-1] < 1.0


def test_logs_are_epoch_averages(small_digits):
    """Every logged name is a Mean over the epoch's steps, app terms included (not the last batch's value)."""
    x, _ = small_digits
    make = lambda: Reconstruct(image_net(), DCGANDiscriminator(image_size=8, channels=1, filters=4))  # noqa: E731
    a, b = make(), make()
    b.set_weights(a.get_weights())
    a.compile()
    b.compile()
    history = a.fit(x[:96], batch_size=32, epochs=1, verbose=0, shuffle=False).history
    per_step = []
    for i in range(3):
        b.reset_metrics()
        per_step.append(b.train_on_batch(x[32 * i:32 * (i + 1)], return_dict=True))
    for name in ("l1", "d_loss", "g_loss", "adversarial"):
        values = [s[name] for s in per_step]
        assert np.ptp(values) > 1e-6, name
        np.testing.assert_allclose(history[name][-1], np.mean(values), rtol=1e-4, err_msg=name)


def test_undeclared_log_is_a_clear_error(small_digits):
    class Loud(Reconstruct):
        LOGS = ()

    gan = Loud(image_net(), DCGANDiscriminator(image_size=8, channels=1, filters=4))
    gan.compile()
    with pytest.raises(ValueError, match="logs 'l1', which it does not declare"):
        gan.fit(small_digits[0][:32], batch_size=32, epochs=1, verbose=0)


def test_loss_formulas():
    real = ops.convert_to_tensor([[2.0], [-1.0]])
    fake = ops.convert_to_tensor([[-3.0], [0.5]])
    sig = lambda v: 1 / (1 + np.exp(-np.asarray(v)))
    r, f = np.array([2.0, -1.0]), np.array([-3.0, 0.5])
    np.testing.assert_allclose(ops.convert_to_numpy(losses.minimax_d(real, fake)),
                               -np.log(sig(r)) - np.log(1 - sig(f)), rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(losses.minimax_g(fake)), np.log(1 - sig(f)), rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(losses.non_saturating_g(fake)), -np.log(sig(f)), rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(losses.hinge_d(real, fake)),
                               np.maximum(0, 1 - r) + np.maximum(0, 1 + f), rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(losses.lsgan_d(real, fake)),
                               0.5 * ((r - 1) ** 2 + f**2), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown adversarial loss"):
        losses.get("nope")


def test_gradient_penalty_matches_closed_form():
    # Critic D(x) = sum(a * x): its input gradient is a everywhere, so the penalty is (||a|| - 1)^2.
    a = np.array([[0.5, 2.0, -1.0]], "float32")
    critic = lambda x: ops.sum(x * ops.convert_to_tensor(a), axis=1)
    x = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(4, 3)).astype("float32"))
    gp = ops.convert_to_numpy(losses.gradient_penalty(critic, x, x * 0.0, seed=keras.random.SeedGenerator(0)))
    np.testing.assert_allclose(gp, (np.linalg.norm(a) - 1) ** 2 * np.ones(4), rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(losses.r1_penalty(critic, x)), np.sum(a**2) * np.ones(4),
                               rtol=1e-5)


def test_training_lowers_discriminator_loss_against_fixed_generator(small_digits):
    """A few D steps on a tiny set make D better at telling digits from G's samples."""
    x, _ = small_digits
    gan = tiny_gan()
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3))
    data = ops.convert_to_tensor(x[:64])
    first = float(ops.convert_to_numpy(discriminator_loss(gan, data)[0]))
    for _ in range(30):
        run_update(gan, "d", x[:64])
    last = float(ops.convert_to_numpy(discriminator_loss(gan, data)[0]))
    assert last < first - 0.1


def test_ema_generator_tracks_average(small_digits):
    x, _ = small_digits
    gan = tiny_gan(ema_decay=0.5)
    gan.compile()
    gan.fit(x[:32], batch_size=32, epochs=1, verbose=0)
    g = [ops.convert_to_numpy(v) for v in gan.generator.trainable_weights]
    e = [ops.convert_to_numpy(v) for v in gan.ema_generator.trainable_weights]
    # after one step with decay 0.5 the EMA sits halfway between the initial and the updated weights
    assert any(not np.allclose(a, b) for a, b in zip(g, e))
    assert gan.sampling_generator() is gan.ema_generator


def test_original_gan_mlp_with_minimax(small_digits):
    x, _ = small_digits
    gan = GAN(MLPGenerator(latent_dim=8, output_shape=(8, 8, 1), units=(32, 32)),
              MLPDiscriminator(input_shape=(8, 8, 1), units=(32, 32), minibatch_features=4), d_steps=2)
    gan.compile(loss="minimax")
    h = gan.fit(x[:128], batch_size=64, epochs=1, verbose=0).history
    assert np.isfinite(h["g_loss"][-1]) and h["g_loss"][-1] < 0  # log(1 - D(G(z))) is negative


@pytest.mark.skipif(BACKEND != "tensorflow", reason="jit_compile of the step is exercised on TensorFlow")
def test_jit_compile_gives_same_losses(small_digits):
    x, _ = small_digits
    out = []
    for jit in (False, True):
        keras.utils.set_random_seed(0)
        gan = tiny_gan()
        gan.compile(jit_compile=jit)
        out.append(gan.fit(x[:64], batch_size=32, epochs=1, verbose=0, shuffle=False).history["d_loss"][-1])
    np.testing.assert_allclose(out[0], out[1], rtol=2e-2)  # XLA kernels and RNG differ slightly


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision(small_digits, policy):
    if BACKEND == "torch" and policy == "mixed_float16":
        pytest.skip("float16 matmuls are not implemented on the torch CPU build")
    x, _ = small_digits
    keras.config.set_dtype_policy(policy)
    try:
        gan = tiny_gan()
        gan.compile()
        if policy == "mixed_float16":
            assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
            assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        h = gan.fit(x[:64], batch_size=32, epochs=1, verbose=0).history
        assert np.isfinite(h["d_loss"][-1]) and np.isfinite(h["g_loss"][-1])
        assert gan.generator.layers[-1].compute_dtype == "float32"  # images come out in float32
    finally:
        keras.config.set_dtype_policy("float32")


def test_gan_call_returns_fakes(small_digits):
    x, y = small_digits
    gan = tiny_gan(conditional=True)
    out = ops.convert_to_numpy(gan((x[:5], y[:5])))
    assert out.shape == (5, 8, 8, 1) and np.abs(out).max() <= 1.0


class Reconstruct(GAN):
    """G maps a noisy digit back to the digit: an extra L1 term, usable with or without D."""

    LOGS = ("l1",)

    def unpack(self, data):
        x = ops.convert_to_tensor(data[0] if isinstance(data, tuple) else data)
        return x, x + 0.1

    def generator_inputs(self, condition, n):
        return condition

    def discriminator_inputs(self, images, condition):
        return images

    def generator_extra_losses(self, real, fake, condition):
        return {"l1": ops.mean(ops.abs(real - fake), axis=(1, 2, 3))}


def image_net():
    x = keras.Input((8, 8, 1))
    return keras.Model(x, keras.layers.Conv2D(1, 3, padding="same")(x))


def test_generator_only_training(small_digits):
    x, _ = small_digits
    gan = Reconstruct(image_net(), None)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-2))
    assert not gan.adversarial and gan.d_optimizer is None
    h = gan.fit(x[:64], batch_size=32, epochs=5, verbose=0).history
    assert set(h) == {"g_loss", "l1"}
    assert h["l1"][-1] < h["l1"][0]


def test_adversarial_weight_scales_only_the_adversarial_term(small_digits):
    x, _ = small_digits
    data = ops.convert_to_tensor(x[:16])
    out = {}
    for w in (1.0, 0.0):
        keras.utils.set_random_seed(0)
        gan = Reconstruct(image_net(), DCGANDiscriminator(image_size=8, channels=1, filters=4))
        gan.compile(adversarial_weight=w)
        terms, _ = gan.generator_loss(*gan.unpack(data), gan.generate(*gan.unpack(data)))
        total = sum(ops.mean(t) for t in terms.values())
        out[w] = (float(ops.convert_to_numpy(total)), float(ops.convert_to_numpy(ops.mean(terms["l1"]))))
    assert out[0.0][0] == pytest.approx(out[0.0][1], rel=1e-6)  # weight 0: only the L1 term is left
    assert out[1.0][0] > out[1.0][1]


def test_evaluate_changes_nothing(small_digits):
    x, _ = small_digits
    gan = tiny_gan()
    gan.compile()
    gan.fit(x[:32], batch_size=32, epochs=1, verbose=0)
    before = snapshot(gan)
    logs = gan.evaluate(x[:64], batch_size=32, verbose=0, return_dict=True)
    assert {"d_loss", "g_loss", "d_acc"} <= set(logs)
    assert not any(changed(before, gan)), "evaluate() must run both networks in inference mode"
