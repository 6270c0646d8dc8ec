"""The adversarial trainer: one ``train_step`` for every app.

The algorithm of Goodfellow et al. (2014), Algorithm 1: for each training iteration,

1. ``d_steps`` (k) times: take a minibatch of real data and a minibatch of G(z); update D on the
   discriminator loss. G is frozen: only D's variables get gradients, and G's own state (batch-norm
   statistics) is left as it was.
2. Once: take a minibatch of G(z) and update G through D. D is frozen the same way.

A ``fit()`` batch therefore holds k real minibatches (``batch_size = k * m``); D step i uses rows ``i::k``.

Apps change *what* is generated and *what* is added to the losses, never the step itself, by overriding:

* ``unpack(data) -> (real, condition)``    what a dataset element holds (default: images or (images, labels))
* ``generator_inputs(condition, n)``        default: z, or [z, condition] for class-conditional generators
* ``discriminator_inputs(images, condition)`` default: images, or [images, condition]
* ``generator_extra_losses(real, fake, condition)``  dict of per-example terms added to the G loss
  (pix2pix's L1, SRGAN's content loss)
* ``discriminator_loss`` / ``generator_loss`` whole, for models with several networks (CycleGAN).

``discriminator=None`` trains the generator alone on its extra losses (the PSNR-oriented pretraining of SRGAN
and ESRGAN, an L1-only pix2pix): each step is one G update and D is never called. ``adversarial_weight`` scales
the adversarial term against the extra terms; relativistic generator losses (``g_fn.relativistic``, ESRGAN's
RaGAN) also receive D's logits for the real images.
"""
import keras
from keras import ops

from zoo import backend, losses
from zoo.models import Network

METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "d_acc")


@keras.saving.register_keras_serializable("zoo")
class GAN(keras.Model):
    """Generator + discriminator trained adversarially with ``fit()``.

    Args:
        generator, discriminator: Keras models (zoo ``Generator``/``Discriminator`` or any model);
            ``discriminator=None`` trains G alone on ``generator_extra_losses``.
        d_steps: k, discriminator updates per generator update.
        ema_decay: if set, keep ``ema_generator``, an exponential moving average of G's weights updated
            after every G step (the generator to sample from and ship).
        seed: seed of the latent noise; noise state is part of the model's variables, so checkpoints
            restore it.
    """

    def __init__(self, generator, discriminator=None, d_steps=1, ema_decay=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if d_steps < 1:
            raise ValueError(f"d_steps must be >= 1, got {d_steps}")
        self.generator = generator
        self.discriminator = discriminator
        self.d_steps = int(d_steps)
        self.ema_decay = ema_decay
        self.ema_generator = None
        if ema_decay is not None:
            if not 0.0 < ema_decay < 1.0:
                raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
            if not isinstance(generator, Network):
                raise TypeError("ema_decay needs a zoo Network generator (it is cloned from its config)")
            self.ema_generator = generator.clone()
        self.noise = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in METRICS}
        self.built = True

    @property
    def latent_dim(self):
        return getattr(self.generator, "latent_dim", None)

    # -- configuration -------------------------------------------------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, loss="non_saturating", gp_weight=0.0,
                r1_gamma=0.0, adversarial_weight=1.0, **kwargs):
        """Optimizers (default Adam 2e-4, beta_1 0.5 as DCGAN), adversarial loss name (see
        ``zoo.losses``), WGAN-GP weight, R1 gamma, the weight of G's adversarial term; other keyword arguments go
        to ``keras.Model.compile`` (``jit_compile``, ``steps_per_execution``, ...). Under a ``mixed_float16``
        policy each optimizer is wrapped in a ``LossScaleOptimizer``."""
        super().compile(**kwargs)
        self.d_optimizer = None if self.discriminator is None else self._prepare(d_optimizer, self.discriminator)
        self.g_optimizer = self._prepare(g_optimizer, self.generator)
        self.adversarial_weight = float(adversarial_weight)
        self.loss_name = loss if isinstance(loss, str) else "custom"
        self.d_loss_fn, self.g_loss_fn = losses.get(loss)
        self.gp_weight = float(gp_weight)
        self.r1_gamma = float(r1_gamma)

    @staticmethod
    def _prepare(optimizer, net):
        optimizer = optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        policy = keras.config.dtype_policy()
        if policy.name == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(net.trainable_variables)
        return optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def adversarial(self):
        """Whether steps train against a discriminator (False: G alone on its extra losses)."""
        return self.discriminator is not None

    # -- hooks apps override -------------------------------------------------------------------------
    def unpack(self, data):
        data = keras.tree.map_structure(lambda t: t if t is None else ops.convert_to_tensor(t), data)
        if isinstance(data, (tuple, list)):
            return data[0], (data[1] if len(data) > 1 else None)
        return data, None

    def generator_inputs(self, condition, n):
        z = keras.random.normal((n, self.latent_dim), seed=self.noise)
        return z if condition is None else [z, condition]

    def discriminator_inputs(self, images, condition):
        return images if condition is None else [images, condition]

    def generator_extra_losses(self, real, fake, condition):
        return {}

    def call(self, data, training=False):
        """Fakes for a batch of training data (what the generator step produces)."""
        real, condition = self.unpack(data)
        return self.generator(self.generator_inputs(condition, ops.shape(real)[0]), training=training)

    # -- the two losses ------------------------------------------------------------------------------
    def discriminator_loss(self, real, condition, training=True):
        """Per-example D loss and logs, for one real minibatch and one minibatch of G(z)."""
        fake = self.generator(self.generator_inputs(condition, ops.shape(real)[0]), training=training)
        fake = ops.stop_gradient(fake)
        real_logits = self.discriminator(self.discriminator_inputs(real, condition), training=training)
        fake_logits = self.discriminator(self.discriminator_inputs(fake, condition), training=training)
        loss = self.d_loss_fn(real_logits, fake_logits)
        critic = lambda x: self.discriminator(self.discriminator_inputs(x, condition), training=training)
        if self.gp_weight:
            loss = loss + self.gp_weight * losses.gradient_penalty(critic, real, ops.cast(fake, real.dtype),
                                                                   seed=self.noise)
        if self.r1_gamma:
            loss = loss + 0.5 * self.r1_gamma * losses.r1_penalty(critic, real)
        return loss, _d_logs(real_logits, fake_logits)

    def generator_loss(self, real, condition, training=True):
        """Per-example G loss and logs: the adversarial term plus the app's extra terms."""
        fake = self.generator(self.generator_inputs(condition, ops.shape(real)[0]), training=training)
        fake_logits = None
        if self.adversarial:
            fake_logits = self.discriminator(self.discriminator_inputs(fake, condition), training=training)
        return self.generator_objective(fake_logits, real, fake, condition, training)

    def generator_objective(self, fake_logits, real, fake, condition, training=True):
        """``adversarial_weight`` x the adversarial term on D's logits for G(z) (none when ``fake_logits`` is
        None) plus the app's extra terms, with their logs."""
        loss, logs = None, {}
        if fake_logits is not None:
            loss = self.adversarial_weight * self.adversarial_loss(fake_logits, real, condition, training)
            if self.adversarial_weight != 1.0:
                logs["adversarial"] = ops.mean(loss)
        for name, term in self.generator_extra_losses(real, fake, condition).items():
            loss = term if loss is None else loss + term
            logs[name] = ops.mean(term)
        if loss is None:
            raise ValueError("the generator has no loss: no discriminator and no generator_extra_losses")
        return loss, logs

    def adversarial_loss(self, fake_logits, real, condition, training=True):
        """G's adversarial term per example; a relativistic ``g_fn`` also gets D's logits for the real images."""
        if getattr(self.g_loss_fn, "relativistic", False):
            real_logits = self.discriminator(self.discriminator_inputs(real, condition), training=training)
            return self.g_loss_fn(ops.stop_gradient(real_logits), fake_logits)
        return self.g_loss_fn(fake_logits)

    # -- the step ------------------------------------------------------------------------------------
    def train_step(self, *args):
        if len(args) != 1:  # the JAX trainer's stateless signature, train_step(state, data)
            raise backend.training_unsupported()
        real, condition = self.unpack(args[0])
        logs, r, c = {}, real, condition
        if self.adversarial:
            k = self.d_steps
            for i in range(k):
                r = real[i::k] if k > 1 else real
                c = _rows(condition, i, k)
                d_loss, d_logs = self._update(self.discriminator, self.d_optimizer, self.discriminator_loss,
                                              r, c, frozen=self.generator)
            logs = {"d_loss": d_loss, **d_logs}
        g_loss, g_logs = self._update(self.generator, self.g_optimizer, self.generator_loss,
                                      r, c, frozen=self.discriminator)
        if self.ema_generator is not None:
            self._update_ema()
        logs["g_loss"] = g_loss
        for name, value in logs.items():
            if name in self.trackers:
                self.trackers[name].update_state(value)
        out = {name: self.trackers[name].result() for name in METRICS if name in logs}
        out.update(g_logs)
        return out

    def _update(self, net, optimizer, loss_fn, real, condition, frozen):
        """One optimizer step of ``net`` on ``loss_fn``; ``frozen``'s variables (if any) are left untouched."""
        frozen_state = [] if frozen is None else frozen.non_trainable_variables
        saved = [ops.copy(v.value) for v in frozen_state]
        replicas = backend.num_replicas()

        def scaled():
            per_example, logs = loss_fn(real, condition)
            loss = ops.mean(per_example)
            # Mean over this replica / replicas == sum over the global batch / global batch size.
            return optimizer.scale_loss(loss / replicas), (loss, logs)

        _, (loss, logs), grads = backend.gradients(scaled, net.trainable_variables)
        optimizer.apply(grads, net.trainable_variables)
        for v, value in zip(frozen_state, saved):
            v.assign(value)
        return loss, logs

    def _update_ema(self):
        d = self.ema_decay
        for e, v in zip(self.ema_generator.weights, self.generator.weights):
            if v.trainable:
                e.assign(d * e + (1.0 - d) * ops.cast(v.value, e.dtype))
            else:
                e.assign(v.value)

    def test_step(self, data):
        """Validation losses with both networks in inference mode (no state changes)."""
        real, condition = self.unpack(data)
        logs = {}
        if self.adversarial:
            d_loss, d_logs = self.discriminator_loss(real, condition, training=False)
            logs = {"d_loss": ops.mean(d_loss), **d_logs}
        g_loss, g_logs = self.generator_loss(real, condition, training=False)
        return {**logs, "g_loss": ops.mean(g_loss), **g_logs}

    def sampling_generator(self):
        """The generator to sample from: the EMA copy when the GAN keeps one."""
        return self.ema_generator if self.ema_generator is not None else self.generator


def _rows(condition, i, k):
    if condition is None or k == 1:
        return condition
    if isinstance(condition, (list, tuple)):
        return type(condition)(c[i::k] for c in condition)
    return condition[i::k]


def _d_logs(real_logits, fake_logits):
    """Mean D(x), mean D(G(z)) as probabilities, and D's accuracy on the two minibatches."""
    real_logits = ops.cast(real_logits, "float32")
    fake_logits = ops.cast(fake_logits, "float32")
    correct = ops.concatenate([ops.reshape(ops.cast(real_logits > 0, "float32"), (-1,)),
                               ops.reshape(ops.cast(fake_logits < 0, "float32"), (-1,))])
    return {
        "d_real": ops.mean(ops.sigmoid(real_logits)),
        "d_fake": ops.mean(ops.sigmoid(fake_logits)),
        "d_acc": ops.mean(correct),
    }
