"""UnrolledGAN (zoo/unrolled.py) and the ring-of-Gaussians helpers (zoo/toy.py).

Run on both backends: ``pytest tests/test_unrolled.py`` and ``KERAS_BACKEND=torch pytest tests/test_unrolled.py``.
"""
import keras
import numpy as np
import pytest
from keras import ops

from helpers import generator_loss
from zoo import GAN, backend
from zoo.apps.dcgan import MLPDiscriminator, MLPGenerator
from zoo.toy import mode_centres, mode_coverage, ring_of_gaussians, scatter_png
from zoo.unrolled import UnrolledGAN



def nets(latent=8, units=(16, 16), minibatch=0, seed=0):
    keras.utils.set_random_seed(seed)
    g = MLPGenerator(latent, output_shape=(2,), units=units, output_activation="linear")
    d = MLPDiscriminator(input_shape=(2,), units=units, dropout=0.0, minibatch_features=minibatch)
    return g, d


def compiled(cls, g, d, seed=3, **kwargs):
    gan = cls(g, d, seed=seed, **kwargs)
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5),
                loss="non_saturating")
    return gan


def g_loss_and_grads(gan, real):
    def fn():
        return generator_loss(gan, real)

    loss, _, grads = backend.gradients(fn, gan.generator.trainable_variables)
    return ops.convert_to_numpy(loss), [ops.convert_to_numpy(g) for g in grads]


def warm_up(gan, real, steps=3):
    """A few D steps so D's Adam has non-zero moments (the look-ahead starts from them)."""
    for _ in range(steps):
        gan.discriminator_update(real)


@pytest.fixture
def real():
    return ops.convert_to_tensor(ring_of_gaussians(32, seed=0))


def test_k0_is_the_base_gan(real):
    g, d = nets()
    base, unrolled = compiled(GAN, g, d), compiled(UnrolledGAN, g, d, unroll_steps=0)
    loss0, grads0 = g_loss_and_grads(base, real)
    loss1, grads1 = g_loss_and_grads(unrolled, real)
    assert loss0 == loss1
    for a, b in zip(grads0, grads1):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_unrolling_changes_g_gradient(real, optimizer):
    g, d = nets()
    base = compiled(GAN, g, d)
    unrolled = compiled(UnrolledGAN, g, d, unroll_steps=3, unroll_optimizer=optimizer, unroll_lr=0.05)
    warm_up(unrolled, real)  # D's Adam (read by the look-ahead) gets non-zero moments
    z = keras.random.normal((32, 8), seed=7)
    for gan in (base, unrolled):  # the same z for both losses
        gan.generator_inputs = lambda condition, n: z
    loss0, grads0 = g_loss_and_grads(base, real)
    loss1, grads1 = g_loss_and_grads(unrolled, real)
    assert np.isfinite(loss1)
    assert all(np.all(np.isfinite(x)) for x in grads1)
    assert loss0 != loss1
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(grads0, grads1)) > 1e-6


def test_g_gradient_flows_through_the_unrolling(real):
    """The second-order term: detaching the look-ahead values from G (first-order only) changes G's gradient,
    so the outer gradient did record the inner, create_graph gradients (nested tapes / autograd graph)."""
    g, d = nets()
    gan = compiled(UnrolledGAN, g, d, unroll_steps=2, unroll_optimizer="sgd", unroll_lr=0.5)
    z = keras.random.normal((32, 8), seed=7)
    gan.generator_inputs = lambda condition, n: z
    _, full = g_loss_and_grads(gan, real)
    through = gan.unrolled_discriminator

    def detached(real, fake, condition):
        values, state = through(real, fake, condition)
        return [ops.stop_gradient(v) for v in values], state

    gan.unrolled_discriminator = detached
    _, first_order = g_loss_and_grads(gan, real)
    assert all(np.all(np.isfinite(x)) for x in full)
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(full, first_order)) > 1e-5


def test_one_lookahead_step_matches_hand_computed(real):
    """K=1 with SGD: the look-ahead values are exactly theta - lr * dL_D/dtheta."""
    g, d = nets()
    gan = compiled(UnrolledGAN, g, d, unroll_steps=1, unroll_optimizer="sgd", unroll_lr=0.1)
    fake = g(keras.random.normal((32, 8), seed=1))

    def d_loss():
        return ops.mean(gan.d_loss_fn(d(real), d(fake)))

    _, _, grads = backend.gradients(d_loss, d.trainable_variables)
    values, _ = gan.unrolled_discriminator(real, fake, None)
    for v, w, gr in zip(d.trainable_variables, values, grads):
        np.testing.assert_allclose(ops.convert_to_numpy(w), ops.convert_to_numpy(v.value - 0.1 * gr),
                                   rtol=1e-5, atol=1e-6)


def test_generator_step_leaves_discriminator_alone(real):
    g, d = nets()
    gan = compiled(UnrolledGAN, g, d, unroll_steps=3)
    warm_up(gan, real)
    d_before = [ops.convert_to_numpy(v.value) for v in d.variables]
    opt_before = [ops.convert_to_numpy(v.value) for v in gan.d_optimizer.variables]
    g_before = [ops.convert_to_numpy(v.value) for v in g.trainable_variables]
    gan.generator_update(real)
    for a, v in zip(d_before, d.variables):
        np.testing.assert_array_equal(a, ops.convert_to_numpy(v.value))
    for a, v in zip(opt_before, gan.d_optimizer.variables):
        np.testing.assert_array_equal(a, ops.convert_to_numpy(v.value))
    assert any(not np.array_equal(a, ops.convert_to_numpy(v.value)) for a, v in zip(g_before, g.trainable_variables))


def test_fit_runs_with_finite_losses():
    g, d = nets()
    gan = compiled(UnrolledGAN, g, d, unroll_steps=2)
    history = gan.fit(ring_of_gaussians(4 * 32, seed=1), batch_size=32, epochs=1, verbose=0)
    for name in ("d_loss", "g_loss"):
        assert np.isfinite(history.history[name][-1])


def test_bad_arguments():
    g, d = nets()
    with pytest.raises(ValueError):
        UnrolledGAN(g, d, unroll_steps=-1)
    with pytest.raises(ValueError):
        UnrolledGAN(g, d, unroll_optimizer="sgd")  # needs unroll_lr
    gan = UnrolledGAN(g, d, unroll_steps=1)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.Adam(1e-3))
    with pytest.raises(TypeError, match="Adam"):
        generator_loss(gan, ops.convert_to_tensor(ring_of_gaussians(8, seed=0)))


# -- the mixture helpers -----------------------------------------------------------------------------------
def test_ring_of_gaussians():
    x = ring_of_gaussians(4000, seed=0)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1).mean(), 2.0, atol=0.01)
    modes, hq = mode_coverage(x)
    assert modes == 8 and 0.98 < hq < 1.0  # P(|N(0, std^2 I_2)| < 3 std) = 1 - exp(-4.5) = 0.989
    np.testing.assert_array_equal(x, ring_of_gaussians(4000, seed=0))


def test_mode_coverage_counts():
    rng = np.random.default_rng(0)
    centres = mode_centres()
    all_modes = centres[np.arange(800) % 8] + 0.01 * rng.standard_normal((800, 2))
    assert mode_coverage(all_modes) == (8, 1.0)
    one_mode = centres[3] + 0.01 * rng.standard_normal((800, 2))
    assert mode_coverage(one_mode) == (1, 1.0)
    off_ring = rng.uniform(-0.5, 0.5, (800, 2))  # the centre of the ring: far from every mode
    assert mode_coverage(off_ring) == (0, 0.0)
    # half on two modes, half noise at radius 1: 2 modes, 50% high quality
    half = np.concatenate([centres[[0, 5]][np.arange(400) % 2], np.array([[1.0, 0.0]] * 400)])
    assert mode_coverage(half) == (2, 0.5)
    # a mode with fewer than 1% of the samples is not covered: 5 of 1000 samples on mode 7
    sparse = np.concatenate([np.repeat(centres[:1], 995, axis=0), np.repeat(centres[7:], 5, axis=0)])
    assert mode_coverage(sparse) == (1, 1.0)
    assert mode_coverage(sparse, min_fraction=0.005)[0] == 2
    # 3 std is the high-quality radius
    assert mode_coverage(centres[:1] + [[0.059, 0.0]])[1] == 1.0
    assert mode_coverage(centres[:1] + [[0.061, 0.0]])[1] == 0.0


def test_scatter_png(tmp_path):
    from PIL import Image

    path = scatter_png(str(tmp_path / "s.png"), ring_of_gaussians(100, seed=0), size=120, title="t")
    img = Image.open(path)
    assert img.size == (120, 120)
    assert np.asarray(img).min() < 100  # something was drawn
