"""The trainer's hooks, each shown on toy networks: two generators and two discriminators with image pools in
a checkpoint (CycleGAN's shape), a D-side drift term beside a gradient penalty (ProGAN's), a two-output generator
whose fakes are pasted into the input (DeepFill's), networks' own losses (regularizers, add_loss) reaching the
gradients, and one forward of G per discriminator step."""
import keras
import numpy as np
import pytest
from keras import layers, ops

from helpers import changed, discriminator_loss, snapshot
from zoo import GAN
from zoo.callbacks import Checkpoint
from zoo.gan import Critic
from zoo.layers import ImagePool

pytestmark = pytest.mark.core


def conv_net(channels_in=1, channels_out=1, name=None, **conv_kwargs):
    x = keras.Input((8, 8, channels_in))
    h = layers.Conv2D(4, 3, padding="same", activation="relu", **conv_kwargs)(x)
    return keras.Model(x, layers.Conv2D(channels_out, 3, padding="same", **conv_kwargs)(h), name=name)


def critic_net(channels=1, name=None, **conv_kwargs):
    x = keras.Input((8, 8, channels))
    h = layers.Conv2D(4, 3, strides=2, padding="same", **conv_kwargs)(x)
    return keras.Model(x, layers.Dense(1)(layers.Flatten()(h)), name=name)


def images(n, seed):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 8, 8, 1)).astype("float32")


# -- two generators, two discriminators, image pools -------------------------------------------------------
class TwoWay(GAN):
    """A -> B and B -> A with a cycle term; each D judges pooled fakes in its D step, fresh fakes in G's."""

    LOGS = ("cycle",)

    def __init__(self, pool_size=4, **kwargs):
        super().__init__({"g_ab": conv_net(name="g_ab"), "g_ba": conv_net(name="g_ba")},
                         {"d_a": critic_net(name="d_a"), "d_b": critic_net(name="d_b")}, **kwargs)
        self.pool_a = ImagePool(pool_size, (8, 8, 1), seed=1)
        self.pool_b = ImagePool(pool_size, (8, 8, 1), seed=2)

    def unpack(self, data):
        a, b = data[0], data[1]
        return {"a": ops.convert_to_tensor(a), "b": ops.convert_to_tensor(b)}, None

    def generate(self, real, condition, training=True):
        g_ab, g_ba = self.generators["g_ab"], self.generators["g_ba"]
        fake_b, fake_a = g_ab(real["a"], training=training), g_ba(real["b"], training=training)
        return {"fake_a": fake_a, "fake_b": fake_b, "rec_a": g_ba(fake_b, training=training),
                "rec_b": g_ab(fake_a, training=training)}

    def fakes(self, real, condition, outputs, step):
        if step == "d":
            return {"a": self.pool_a(outputs["fake_a"]), "b": self.pool_b(outputs["fake_b"])}
        return {"a": outputs["fake_a"], "b": outputs["fake_b"]}

    def critics(self, real, condition, fakes, training=True):
        return {f"d_{n}": Critic(lambda x, d=self.discriminators[f"d_{n}"]: d(x, training=training), real[n],
                                 fakes[n], weight=0.5) for n in ("a", "b")}

    def generator_extra_losses(self, real, outputs, condition):
        l1 = lambda x, y: ops.mean(ops.abs(x - y), axis=(1, 2, 3))  # noqa: E731
        return {"cycle": 10.0 * (l1(outputs["rec_a"], real["a"]) + l1(outputs["rec_b"], real["b"]))}


def two_way_data():
    return images(16, 0), images(16, 1) * 0.5


def test_two_generators_and_two_discriminators_train_under_their_optimizers():
    gan = TwoWay()
    gan.compile(loss="lsgan")
    assert set(gan.log_names()) >= {"d_a_loss", "d_b_loss", "d_a_real", "d_b_fake", "cycle", "adversarial"}
    before = {name: snapshot(net) for name, net in {**gan.generators, **gan.discriminators}.items()}
    a, b = two_way_data()
    history = gan.fit(a, b, batch_size=4, epochs=1, verbose=0).history
    for name, snap in before.items():
        net = gan.generators.get(name) or gan.discriminators[name]
        assert all(changed(snap, net)), f"{name} did not train"
    assert int(ops.convert_to_numpy(gan.g_optimizer.iterations)) == 4
    assert int(ops.convert_to_numpy(gan.d_optimizer.iterations)) == 4
    for opt, group in ((gan.g_optimizer, gan.generators), (gan.d_optimizer, gan.discriminators)):
        n = sum(len(net.trainable_variables) for net in group.values())
        assert len(opt.variables) == 2 + 2 * n  # iterations, learning rate, Adam's m and v of both networks
    assert {"d_a_loss", "d_b_loss", "cycle", "adversarial", "g_loss", "d_loss"} <= set(history)
    assert int(ops.convert_to_numpy(gan.pool_a.count)) == 4  # filled by the D steps, capped at its size


def test_generator_update_leaves_both_discriminators_and_pools_alone():
    gan = TwoWay()
    gan.compile(loss="lsgan")
    a, b = two_way_data()
    gan.discriminator_update((a[:4], b[:4]))  # fills the pools a little
    d_before = [snapshot(d) for d in gan.discriminators.values()]
    pool_before = snapshot(gan.pool_a)
    gan.generator_update((a[:4], b[:4]))
    for snap, d in zip(d_before, gan.discriminators.values()):
        assert not any(changed(snap, d))
    assert not any(changed(pool_before, gan.pool_a))


def test_pool_is_training_state_in_checkpoints(tmp_path):
    a, b = two_way_data()
    gan = TwoWay(pool_size=6)
    gan.compile(loss="lsgan")
    ckpt = Checkpoint(tmp_path)
    gan.fit(a, b, batch_size=4, epochs=1, verbose=0, callbacks=[ckpt])
    stored = ops.convert_to_numpy(gan.pool_b.images)
    assert int(ops.convert_to_numpy(gan.pool_b.count)) == 6 and np.abs(stored).max() > 0
    fresh = TwoWay(pool_size=6)
    fresh.compile(loss="lsgan")
    assert ckpt.resume(fresh) == 1
    np.testing.assert_array_equal(ops.convert_to_numpy(fresh.pool_b.images), stored)
    assert int(ops.convert_to_numpy(fresh.pool_b.count)) == 6
    for v_old, v_new in zip(gan.d_optimizer.variables, fresh.d_optimizer.variables):
        np.testing.assert_array_equal(ops.convert_to_numpy(v_old), ops.convert_to_numpy(v_new))


def test_image_pool_semantics():
    pool = ImagePool(3, (2, 2, 1), seed=0)
    outs = [float(ops.convert_to_numpy(pool(np.full((1, 2, 2, 1), float(i), "float32")))[0, 0, 0, 0])
            for i in range(40)]
    assert outs[:3] == [0.0, 1.0, 2.0]                  # filling: each fake comes back as is
    history = [o for i, o in enumerate(outs) if o != float(i)]
    assert 8 < len(history) < 32                        # about half come from the pool once it is full
    assert all(o < i for i, o in enumerate(outs) if o != float(i))  # ... and those are older fakes
    assert int(ops.convert_to_numpy(pool.count)) == 3
    batch = np.arange(4, dtype="float32").reshape(4, 1, 1, 1)
    big = ImagePool(2, (1, 1, 1), seed=1)
    np.testing.assert_array_equal(ops.convert_to_numpy(big(batch)).ravel(), [0, 1, 2, 3])  # nothing to swap yet
    np.testing.assert_array_equal(ops.convert_to_numpy(big.images).ravel(), [0, 1])
    np.testing.assert_array_equal(ops.convert_to_numpy(ImagePool(0, (1, 1, 1))(batch)), batch)
    with pytest.raises(ValueError, match="size"):
        ImagePool(-1)


# -- a D-side term beside a penalty ------------------------------------------------------------------------
class Drift(GAN):
    LOGS = ("drift",)

    def discriminator_extra_losses(self, real, condition, fakes, logits):
        real_logits, _ = logits["d"]
        return {"drift": 0.001 * ops.mean(ops.square(ops.cast(real_logits, "float32")), axis=-1)}


def latent_net():
    z = keras.Input((4,))
    return keras.Model(z, layers.Reshape((8, 8, 1))(layers.Dense(64, activation="tanh")(z)))


class LatentGAN(GAN):
    def generator_inputs(self, condition, n):
        return keras.random.normal((n, 4), seed=self.noise)


def test_drift_term_beside_gradient_penalty():
    x = images(32, 3)
    gan = Drift(latent_net(), critic_net())
    gan.generator_inputs = LatentGAN.generator_inputs.__get__(gan)
    gan.compile(loss="wgan", gp_weight=10.0)
    real = ops.convert_to_tensor(x)
    fakes = gan.generate(real, None)
    terms, _ = gan.discriminator_loss(real, None, fakes)
    assert set(terms) == {"d_loss", "gp", "drift"}
    real_logits = gan.discriminator(real)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.mean(terms["drift"])),
                               0.001 * np.mean(ops.convert_to_numpy(real_logits) ** 2), rtol=1e-5)
    history = gan.fit(x, batch_size=16, epochs=2, verbose=0).history
    assert {"gp", "drift", "d_loss", "d_real", "d_fake"} <= set(history) and "d_acc" not in history
    assert all(np.isfinite(v[-1]) for v in history.values())


# -- a two-output generator and a fakes hook ---------------------------------------------------------------
class Fill(GAN):
    """G returns a coarse and a refined image; D judges the refined one pasted into the hole of the input."""

    LOGS = ("l1",)

    def unpack(self, data):
        x = ops.convert_to_tensor(data[0] if isinstance(data, tuple) else data)
        mask = ops.cast(ops.arange(8) >= 4, x.dtype)[None, :, None, None] * ops.ones_like(x)
        return x, mask

    def generate(self, real, mask, training=True):
        coarse = self.generators["coarse"](real * (1.0 - mask), training=training)
        return {"coarse": coarse, "refined": self.generators["refine"](coarse, training=training)}

    def fakes(self, real, mask, outputs, step):
        return real * (1.0 - mask) + outputs["refined"] * mask

    def critics(self, real, mask, fakes, training=True):
        self.seen = fakes
        return {"d": Critic(lambda x: self.discriminator(x, training=training), real, fakes)}

    def generator_extra_losses(self, real, outputs, mask):
        l1 = lambda y: ops.mean(ops.abs(y - real), axis=(1, 2, 3))  # noqa: E731
        return {"l1": l1(outputs["coarse"]) + l1(outputs["refined"])}


def test_two_output_generator_with_fakes_hook():
    x = images(8, 4)
    gan = Fill({"coarse": conv_net(name="coarse"), "refine": conv_net(name="refine")}, critic_net())
    gan.compile()
    real, mask = gan.unpack(x)
    outputs = gan.generate(real, mask)
    gan.critics(real, mask, gan.fakes(real, mask, outputs, "d"))
    seen = ops.convert_to_numpy(gan.seen)
    np.testing.assert_array_equal(seen[:, :4], x[:, :4])  # the known region is the input's
    np.testing.assert_allclose(seen[:, 4:], ops.convert_to_numpy(outputs["refined"])[:, 4:], rtol=1e-6)
    before = {n: snapshot(g) for n, g in gan.generators.items()}
    gan.generator_update(x)
    for n, g in gan.generators.items():
        assert all(changed(before[n], g)), f"{n} got no gradient"
    history = gan.fit(x, batch_size=4, epochs=1, verbose=0).history
    assert {"l1", "adversarial", "g_loss", "d_loss"} <= set(history)


# -- networks' own losses ----------------------------------------------------------------------------------
class KL(layers.Layer):
    def call(self, x):
        self.add_loss(ops.mean(ops.square(x)))
        return x


def test_networks_own_losses_reach_the_gradients():
    """A huge L2 kernel regularizer on G (and on D) and an add_loss layer dominate their losses: the regularized
    kernels shrink much faster than the same networks' without them, on the side being trained."""
    x = images(16, 5)

    def run(reg):
        keras.utils.set_random_seed(0)
        kw = {"kernel_regularizer": keras.regularizers.L2(10.0)} if reg else {}
        g = conv_net(**kw)
        if reg:
            inp = keras.Input((8, 8, 1))
            g = keras.Model(inp, KL()(g(inp)))
        gan = GAN(g, critic_net(**kw))
        gan.generator_inputs = lambda condition, n: ops.convert_to_tensor(x[:n])
        gan.compile(d_optimizer=keras.optimizers.SGD(1e-2), g_optimizer=keras.optimizers.SGD(1e-2))
        logs = gan.fit(x, batch_size=16, epochs=3, verbose=0).history
        norm = lambda net: sum(float(np.sum(ops.convert_to_numpy(w) ** 2)) for w in net.trainable_weights  # noqa
                               if len(w.shape) == 4)
        return norm(gan.generator), norm(gan.discriminator), logs

    g0, d0, logs0 = run(False)
    g1, d1, logs1 = run(True)
    assert g1 < 0.7 * g0 and d1 < 0.9 * d0
    assert logs1["g_loss"][0] > logs0["g_loss"][0] + 0.1 and logs1["d_loss"][0] > logs0["d_loss"][0] + 0.1


# -- one forward of G per discriminator step ---------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3])
def test_generator_runs_once_per_discriminator_step(k):
    calls = []

    class Counting(LatentGAN):
        def generate(self, real, condition, training=True):
            calls.append(1)
            return super().generate(real, condition, training)

    gan = Counting(latent_net(), critic_net(), d_steps=k)
    gan.compile(run_eagerly=True)
    gan.train_on_batch(images(4 * k, 6))
    assert len(calls) == k


# -- after the updates -------------------------------------------------------------------------------------
class FadeIn(LatentGAN):
    """ProGAN's shape: a fade-in alpha advanced after every iteration, as training state."""

    def __init__(self, *args, steps=8, **kwargs):
        super().__init__(*args, **kwargs)
        self.alpha = self.add_weight(shape=(), initializer="zeros", trainable=False, name="alpha")
        self.rate = 1.0 / steps

    def after_step(self):
        super().after_step()
        self.alpha.assign(ops.minimum(self.alpha + self.rate, 1.0))


def test_after_step_runs_once_per_iteration_after_both_updates(tmp_path):
    gan = FadeIn(latent_net(), critic_net(), steps=8, ema_decay=0.5)
    gan.compile()
    ckpt = Checkpoint(tmp_path)
    gan.fit(images(24, 7), batch_size=4, epochs=1, verbose=0, callbacks=[ckpt])  # 6 iterations
    assert float(ops.convert_to_numpy(gan.alpha)) == pytest.approx(6 / 8)
    assert any(changed(snapshot(gan.generator), gan.ema_generator))  # the EMA, the base hook, still ran
    fresh = FadeIn(latent_net(), critic_net(), steps=8, ema_decay=0.5)
    fresh.compile()
    ckpt.resume(fresh)
    assert float(ops.convert_to_numpy(fresh.alpha)) == pytest.approx(6 / 8)
