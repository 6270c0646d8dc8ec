"""The adversarial trainer: one ``train_step`` for every app.

The algorithm of Goodfellow et al. (2014), Algorithm 1, as the peers' code runs it (one forward of G per
discriminator step, its fakes reused by the generator step):

for each training iteration:
    for i in 1..k (``d_steps``):
        take a real minibatch (rows ``i::k`` of the ``fit()`` batch, so ``batch_size = k * m``)
        outputs = G's forward on it (``generate``)                     - the last one is kept for the G step
        update D on the discriminator loss of real vs ``fakes(outputs, "d")``, outputs detached; G frozen
    update G on the generator loss of ``fakes(outputs, "g")`` through D, reusing the last forward; D frozen
    ``after_step()`` (the EMA generator, and whatever the app adds: fade-in alpha, schedules)

"Frozen" means the other side gets no update and its own state (batch-norm statistics, random-generator states)
is left as it was. With k = 1 G runs forward once per iteration; with k > 1, k times (fresh fakes per D step).

The networks are named groups: ``generator`` and ``discriminator`` are a Keras model each or a dict of them
(CycleGAN: two generators under one optimizer, two discriminators under another); ``gan.generators`` /
``gan.discriminators`` are the dicts, ``gan.generator`` / ``gan.discriminator`` their first members.

Apps change *what* is generated and *what* the losses hold, never the step, through these hooks:

* ``unpack(data) -> (real, condition)``        what a dataset element holds (default: images or (images, labels))
* ``generate(real, condition, training)``      G's forward: a tensor or a dict of float tensors (every trained
  generator runs here, once); default ``generator(generator_inputs(condition, n))``
* ``fakes(real, condition, outputs, step)``     the fakes hook between G's outputs and D's inputs; ``step`` is
  ``"d"`` or ``"g"`` (an image pool for D, an inpainted region pasted into its image, ...); default: outputs
* ``critics(real, condition, fakes, training)`` which discriminator judges what: ``{name: Critic(fn, real,
  fake, weight)}``, named after the discriminators (their logs: ``d_real``, ... for one; ``<name>_real``,
  ``<name>_loss``, ... for several); penalties (``gp_weight``, ``r1_gamma``) apply to every critic
* ``discriminator_extra_losses(real, condition, fakes, logits)``  D-side terms beside the adversarial loss and
  penalties (ProGAN's drift on the real logits; GAN-CLS's mismatched-text logits); ``logits`` maps each critic
  to ``(real_logits, fake_logits)``
* ``generator_extra_losses(real, outputs, condition)``  per-example terms added to G's loss (L1, content, cycle)
* ``extra_logs(real, outputs, condition)``     values to log that are not loss terms (pix2pix's unweighted L1)
* ``after_step()``                             runs after both optimizers' updates (EMA; call ``super()``)

Each network group's ``losses`` (``add_loss`` terms, kernel regularizers, a conditioning-augmentation KL) are
added to the loss of the step that trains it. Every logged value is averaged over the epoch by a ``Mean``
tracker; apps declare their own log names in the class attribute ``LOGS``.

``discriminator=None`` trains the generator alone on its extra losses (the PSNR-oriented pretraining of SRGAN and
ESRGAN, an L1-only pix2pix): each step is one G update and no D is called. ``adversarial_weight`` scales the
adversarial term against the extra terms; relativistic generator losses (``g_fn.relativistic``, ESRGAN's RaGAN)
also receive D's logits for the real images.

Several devices (``zoo.distribute``): under a ``tf.distribute`` strategy or Keras's JAX ``DataParallel`` the step
gives one device's weights for the same global batch. Each replica's loss is its mean over its rows divided by the
replicas (the summed gradients are the global mean's); the latent codes, dropout masks and penalty weights are one
device's draws for the global batch, each replica taking its rows (``distribute.normal``/``uniform``, and
``distribute.replicate_noise`` on the networks' Dropout layers); batch norm uses the global batch's statistics
(the step is traced with Keras's synchronised batch norm when a strategy has several replicas; nothing changes on
one device); layers that mix a batch's examples (the image pool, minibatch statistics) see the global batch.
"""
from typing import Any, Callable, NamedTuple

import keras
from keras import ops, tree

from zoo import backend, distribute, losses, optimizers
from zoo.models import Network

#: Loss families whose logits are log-odds: their D logs are probabilities and an accuracy.
SIGMOID_LOSSES = ("minimax", "non_saturating", "ragan")


class Critic(NamedTuple):
    """One discriminator's judgement: ``fn(images) -> logits`` (the condition already bound), the real images and
    the fakes it compares, and the weight of its term in D's loss (pix2pix and CycleGAN halve it; G's adversarial
    term is not weighted by it)."""
    fn: Callable
    real: Any
    fake: Any
    weight: float = 1.0


def _group(nets, default):
    if nets is None:
        return {}
    if isinstance(nets, dict):
        return dict(nets)
    if isinstance(nets, (list, tuple)):
        return {n.name: n for n in nets}
    return {default: nets}


@keras.saving.register_keras_serializable("zoo")
class GAN(keras.Model):
    """Generator(s) + discriminator(s) trained adversarially with ``fit()`` on TensorFlow, PyTorch and JAX.

    Args:
        generator: a Keras model (zoo ``Generator`` or any model), or a dict ``{name: model}`` trained together.
        discriminator: the same for the discriminator side; ``None`` trains G alone on ``generator_extra_losses``.
        d_steps: k, discriminator updates per generator update.
        ema_decay: if set, keep ``ema_generator``, an exponential moving average of G's weights updated after
            every G step (the generator to sample from and ship), warmed up: the decay after G's t-th update is
            ``min(ema_decay, (1 + t) / (10 + t))`` (0.5 at t = 8, 0.9 at t = 80, 0.999 from t = 8,990), so a
            short fine-tuning shows in it.
        seed: seed of the latent noise; noise state is part of the model's variables, so checkpoints restore it.
    """

    #: Names an app logs besides the core's (its extra loss terms and ``extra_logs``).
    LOGS = ()

    def __init__(self, generator, discriminator=None, d_steps=1, ema_decay=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if d_steps < 1:
            raise ValueError(f"d_steps must be >= 1, got {d_steps}")
        self.generators = _group(generator, "generator")
        self.discriminators = _group(discriminator, "discriminator")
        if not self.generators:
            raise ValueError("a GAN needs a generator")
        self.generator = next(iter(self.generators.values()))
        self.discriminator = next(iter(self.discriminators.values()), None)
        self.d_steps = int(d_steps)
        self.ema_decay = ema_decay
        self.ema_generator = None
        if ema_decay is not None:
            if not 0.0 < ema_decay < 1.0:
                raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
            self.ema_generator = _clone(self.generator)
        self.noise = keras.random.SeedGenerator(seed)
        for net in list(self.generators.values()) + list(self.discriminators.values()):
            distribute.replicate_noise(net)  # dropout masks: one device's draw for the global batch
        self.trackers = {}
        self.built = True

    @property
    def latent_dim(self):
        return getattr(self.generator, "latent_dim", None)

    @property
    def adversarial(self):
        """Whether steps train against a discriminator (False: G alone on its extra losses)."""
        return bool(self.discriminators)

    # -- configuration -------------------------------------------------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, loss="non_saturating", gp_weight=0.0,
                r1_gamma=0.0, adversarial_weight=1.0, **kwargs):
        """Optimizers (default Adam 2e-4, beta_1 0.5 as DCGAN), adversarial loss name (see ``zoo.losses``) or a
        ``(d_fn, g_fn)`` pair, WGAN-GP weight, R1 gamma, the weight of G's adversarial term; other keyword
        arguments go to ``keras.Model.compile`` (``jit_compile``, ``steps_per_execution``, ...). Under a
        ``mixed_float16`` policy each optimizer is wrapped in a ``LossScaleOptimizer``."""
        super().compile(**kwargs)
        # Each side's variables, fixed here: what its optimizer is built on and what its steps differentiate.
        self._g_variables, self._d_variables = _trainable(self.generators), _trainable(self.discriminators)
        self.g_optimizer = self._prepare(g_optimizer, self._g_variables)
        self.d_optimizer = self._prepare(d_optimizer, self._d_variables) if self.adversarial else None
        self.optimizer = OptimizerGroup([o for o in (self.d_optimizer, self.g_optimizer) if o is not None])
        self.adversarial_weight = float(adversarial_weight)
        self.loss_name = loss if isinstance(loss, str) else "custom"
        self.d_loss_fn, self.g_loss_fn = losses.get(loss)
        self.gp_weight = float(gp_weight)
        self.r1_gamma = float(r1_gamma)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.log_names()}

    @staticmethod
    def _prepare(optimizer, variables):
        optimizer = optimizer or optimizers.Adam(2e-4, beta_1=0.5)
        policy = keras.config.dtype_policy()
        if policy.name == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(variables)
        return optimizer

    def log_names(self):
        """Every name ``fit()`` logs (each averaged over the epoch): the losses, D's scores for each critic (as
        probabilities and an accuracy for log-odds losses, raw scores otherwise), penalties, the app's ``LOGS``."""
        names = ["g_loss"]
        if self.adversarial:
            names += ["d_loss", "adversarial"]
            for prefix in _prefixes(self.discriminators):
                names += [f"{prefix}_real", f"{prefix}_fake"]
                names += [f"{prefix}_acc"] if self.loss_name in SIGMOID_LOSSES else []
                names += [f"{prefix}_loss"] if len(self.discriminators) > 1 else []
            names += ["gp"] * bool(self.gp_weight) + ["r1"] * bool(self.r1_gamma)
        return list(dict.fromkeys(names + list(self.LOGS)))

    @property
    def metrics(self):
        return list(self.trackers.values())

    # -- hooks apps override -------------------------------------------------------------------------
    def unpack(self, data):
        data = tree.map_structure(lambda t: t if t is None else ops.convert_to_tensor(t), data)
        if isinstance(data, (tuple, list)):
            return data[0], (data[1] if len(data) > 1 else None)
        return data, None

    def generator_inputs(self, condition, n):
        z = distribute.normal((n, self.latent_dim), seed=self.noise)  # one device's draw, this replica's rows
        return z if condition is None else [z, condition]

    def discriminator_inputs(self, images, condition):
        return images if condition is None else [images, condition]

    def generate(self, real, condition, training=True):
        """G's forward for one real minibatch: what the losses need of the generator side."""
        return self.generator(self.generator_inputs(condition, ops.shape(tree.flatten(real)[0])[0]),
                              training=training)

    def fakes(self, real, condition, outputs, step):
        """What the discriminators judge as fake, from G's outputs; ``step`` is ``"d"`` or ``"g"``."""
        return outputs

    def critics(self, real, condition, fakes, training=True):
        """``{name: Critic}``: which discriminator compares which real images with which fakes."""
        d = self.discriminator
        fn = lambda x: d(self.discriminator_inputs(x, condition), training=training)  # noqa: E731
        return {"d": Critic(fn, real, fakes)}

    def discriminator_extra_losses(self, real, condition, fakes, logits):
        return {}

    def generator_extra_losses(self, real, fake, condition):
        return {}

    def extra_logs(self, real, outputs, condition):
        return {}

    def after_step(self):
        """Runs once per iteration after both updates: the EMA generator here; apps add theirs (call super)."""
        if self.ema_generator is not None:
            # warmed up as TensorFlow's ExponentialMovingAverage(num_updates): min(decay, (1 + t) / (10 + t)) after
            # G's t-th update, so a short run (a fine-tuning) shows in the EMA copy; long runs reach ``ema_decay``
            t = ops.cast(self.g_optimizer.iterations, "float32")
            d = ops.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
            for e, v in zip(self.ema_generator.weights, self.generator.weights):
                if v.trainable:
                    e.assign(d * e + (1.0 - d) * ops.cast(v.value, e.dtype))
                else:
                    e.assign(v.value)

    def fit(self, *args, callbacks=None, **kwargs):
        """Keras's ``fit``, stopped with ``FloatingPointError`` at the first non-finite loss
        (``zoo.callbacks.FiniteLosses``)."""
        from zoo.callbacks import FiniteLosses

        callbacks = list(callbacks or [])
        if not any(isinstance(c, FiniteLosses) for c in callbacks):
            callbacks.append(FiniteLosses())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras's TensorFlow trainer first builds the model on a data batch averaged over the replicas; for the GAN
        # that builds nothing (networks, trackers and optimizers are built by compile), and under
        # MultiWorkerMirroredStrategy that average fails (a PerReplica value it cannot convert), so skip it there.
        if distribute.multiworker(self):
            return None
        return super()._maybe_symbolic_build(iterator, data_batch)

    def call(self, data, training=False):
        """G's outputs for a batch of training data (what the generator step produces)."""
        real, condition = self.unpack(data)
        return self.generate(real, condition, training=training)

    # -- the two losses ------------------------------------------------------------------------------
    def discriminator_loss(self, real, condition, fakes, training=True):
        """Per-example D terms (adversarial per critic, penalties, extra terms) and D's score logs."""
        terms, logs, logits = {}, {}, {}
        critics = self.critics(real, condition, fakes, training)
        for prefix, (name, c) in zip(_prefixes(critics), critics.items()):
            real_logits, fake_logits = c.fn(c.real), c.fn(c.fake)
            logits[name] = (real_logits, fake_logits)
            terms[f"{prefix}_loss"] = c.weight * self.d_loss_fn(real_logits, fake_logits)
            logs.update(self._score_logs(prefix, real_logits, fake_logits))
            if self.gp_weight:
                gp = losses.gradient_penalty(c.fn, c.real, ops.cast(c.fake, c.real.dtype), seed=self.noise)
                terms["gp"] = terms.get("gp", 0.0) + self.gp_weight * gp
            if self.r1_gamma:
                terms["r1"] = terms.get("r1", 0.0) + 0.5 * self.r1_gamma * losses.r1_penalty(c.fn, c.real)
        terms.update(self.discriminator_extra_losses(real, condition, fakes, logits))
        return terms, logs

    def generator_loss(self, real, condition, outputs, training=True):
        """Per-example G terms: ``adversarial_weight`` x the adversarial term (through every critic) and the
        app's extra terms, plus the app's extra logs."""
        terms = {}
        if self.adversarial:
            fakes = self.fakes(real, condition, outputs, "g")
            terms["adversarial"] = self.adversarial_weight * self.adversarial_loss(real, condition, fakes, training)
        terms.update(self.generator_extra_losses(real, outputs, condition))
        if not terms:
            raise ValueError("the generator has no loss: no discriminator and no generator_extra_losses")
        return terms, self.extra_logs(real, outputs, condition)

    def adversarial_loss(self, real, condition, fakes, training=True):
        """G's adversarial term per example, summed over the critics; a relativistic ``g_fn`` also gets D's
        logits for the real images."""
        total = 0.0
        for c in self.critics(real, condition, fakes, training).values():
            if getattr(self.g_loss_fn, "relativistic", False):
                total = total + self.g_loss_fn(ops.stop_gradient(c.fn(c.real)), c.fn(c.fake))
            else:
                total = total + self.g_loss_fn(c.fn(c.fake))
        return total

    def _score_logs(self, prefix, real_logits, fake_logits):
        real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
        if self.loss_name not in SIGMOID_LOSSES:  # critic scores, LSGAN outputs: raw means
            return {f"{prefix}_real": ops.mean(real_logits), f"{prefix}_fake": ops.mean(fake_logits)}
        correct = ops.concatenate([ops.reshape(ops.cast(real_logits > 0, "float32"), (-1,)),
                                   ops.reshape(ops.cast(fake_logits < 0, "float32"), (-1,))])
        return {f"{prefix}_real": ops.mean(ops.sigmoid(real_logits)),
                f"{prefix}_fake": ops.mean(ops.sigmoid(fake_logits)), f"{prefix}_acc": ops.mean(correct)}

    # -- the step ------------------------------------------------------------------------------------
    def train_step(self, *args):
        if len(args) == 2:  # the JAX trainer's stateless signature, train_step(state, data)
            return backend.stateless_step(self, self._train_step, *args)
        return self._train_step(args[0])

    def _train_step(self, data):
        # several tf.distribute replicas: batch norm on the global batch's statistics (a no-op otherwise)
        nets = list(self.generators.values()) + list(self.discriminators.values())
        with distribute.synchronized_batch_norm(distribute.batch_norms(nets)):
            return self._iteration(data)

    def _iteration(self, data):
        real, condition = self.unpack(data)
        k = self.d_steps if self.adversarial else 1
        logs = {}
        for i in range(k):
            r, c = _rows(real, i, k), _rows(condition, i, k)
            if i == k - 1:  # the forward the G step reuses and differentiates through
                outputs, own, pullback = self._forward(r, c)
            else:           # an earlier D step of k > 1: fresh fakes, G frozen
                with _frozen(self.generators):
                    outputs = self.generate(r, c)
            if self.adversarial:
                logs.update(self._discriminator_step(r, c, outputs))
        logs.update(self._generator_step(r, c, outputs, own, pullback))
        self.after_step()
        return self._log(logs)

    # one side's update on its own, as inside the step (tests, custom loops); logs not tracked
    def discriminator_update(self, data):
        """One D update on ``data`` against fresh fakes (G frozen); returns the D logs."""
        real, condition = self.unpack(data)
        with _frozen(self.generators):
            outputs = self.generate(real, condition)
        return self._discriminator_step(real, condition, outputs)

    def generator_update(self, data):
        """One G update on ``data`` through the discriminators (D frozen); returns the G logs."""
        real, condition = self.unpack(data)
        return self._generator_step(real, condition, *self._forward(real, condition))

    def _forward(self, real, condition):
        """G's forward kept for the G step: (outputs, the generators' own losses, pullback to their weights)."""
        (outputs, own), pullback = backend.vjp(lambda: self._generate_with_losses(real, condition),
                                               self._g_variables)
        return outputs, own, pullback

    def _generate_with_losses(self, real, condition):
        outputs = self.generate(real, condition)
        return outputs, _group_loss(self.generators)

    def _discriminator_step(self, real, condition, outputs):
        fakes = self.fakes(real, condition, tree.map_structure(ops.stop_gradient, outputs), "d")

        def loss_fn():
            terms, logs = self.discriminator_loss(real, condition, fakes)
            own = _group_loss(self.discriminators)
            return self._objective(self.d_optimizer, terms, logs, own, "d_loss")

        _, logs, grads = backend.gradients(loss_fn, self._d_variables)
        backend.apply_gradients(self.d_optimizer, grads, self._d_variables)
        return logs

    def _generator_step(self, real, condition, outputs, own, pullback):
        def loss_fn(outs):
            terms, logs = self.generator_loss(real, condition, outs)
            return self._objective(self.g_optimizer, terms, logs, ops.stop_gradient(own), "g_loss")

        with _frozen(self.discriminators):
            _, logs, d_outputs = backend.value_and_grad(loss_fn, outputs)
        # d(scaled loss) / d(own), for the pullback of the generators' own (float32) losses.
        own_cotangent = ops.cast(self.g_optimizer.scale_loss(ops.convert_to_tensor(1.0 / backend.num_replicas())),
                                 "float32")
        grads = pullback((d_outputs, own_cotangent))
        backend.apply_gradients(self.g_optimizer, grads, self._g_variables)
        return logs

    def _objective(self, optimizer, terms, logs, own, total_name):
        """The scaled scalar to differentiate and the logs: the mean of the per-example terms plus the group's
        own ``losses``; mean over this replica / replicas == sum over the global batch / global batch size."""
        means = {name: ops.mean(ops.cast(t, "float32")) for name, t in terms.items()}
        loss = sum(means.values()) + ops.cast(own, "float32")
        out = {n: v for n, v in means.items() if n != total_name and (len(means) > 1 or n in self.LOGS)}
        out.update(logs)
        out[total_name] = loss
        return optimizer.scale_loss(loss / backend.num_replicas()), out

    def _log(self, logs):
        for name, value in logs.items():
            if name not in self.trackers:
                raise ValueError(f"{type(self).__name__} logs {name!r}, which it does not declare: add it to "
                                 f"{type(self).__name__}.LOGS (declared: {sorted(self.trackers)})")
            self.trackers[name].update_state(value)
        out = {name: self.trackers[name].result() for name in self.trackers if name in logs}
        if distribute.multiworker(self):
            # Keras reduces each log over MultiWorkerMirroredStrategy's replicas with reduce(MEAN, axis=0), which
            # needs an axis: give it one (the replicas' values are the same synchronised means)
            out = {name: ops.reshape(value, (1,)) for name, value in out.items()}
        return out

    def test_step(self, *args):
        """Validation (``evaluate``, ``fit(validation_data=...)``): ``validation_logs``, tracked like training's."""
        if len(args) == 2:
            return backend.stateless_eval(self, lambda data: self._log(self.validation_logs(data)), *args)
        return self._log(self.validation_logs(args[0]))

    def validation_logs(self, data):
        """The losses with every network in inference mode (no state changes)."""
        real, condition = self.unpack(data)
        outputs = self.generate(real, condition, training=False)
        logs = {}
        if self.adversarial:
            terms, logs = self.discriminator_loss(real, condition, self.fakes(real, condition, outputs, "d"),
                                                  training=False)
            logs = self._objective(self.d_optimizer, terms, logs, 0.0, "d_loss")[1]
        terms, g_logs = self.generator_loss(real, condition, outputs, training=False)
        logs.update(self._objective(self.g_optimizer, terms, g_logs, 0.0, "g_loss")[1])
        return logs

    def sampling_generator(self):
        """The generator to sample from: the EMA copy when the GAN keeps one."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def iteration_flops(self, batch, count):
        """FLOPs per real example of one ``train_step`` on ``batch`` (a ``fit()`` batch), from ``count(network,
        inputs)``, the forward FLOPs of one call of a network on ``inputs``.

        A backward pass costs 2x the forward for a network being trained and 1x for a frozen D in the G step
        (input gradients only). Per D step: G forward, D forward on real and fake and their backward (6 D); the G
        step reuses the last forward: D forward + input gradient (2 D) and G backward (2 G)."""
        real, condition = self.unpack(batch)
        k = self.d_steps if self.adversarial else 1
        n = int(ops.shape(tree.flatten(real)[0])[0])
        g = count(self.generator, self.generator_inputs(condition, n))
        d = 0
        if self.adversarial:
            fake = self.generate(real, condition, training=False)
            d = count(self.discriminator, self.discriminator_inputs(fake, condition))
        return int((k * (g + 6 * d) + 2 * g + 2 * d) / (k * n))


class OptimizerGroup:
    """The trainer's optimizers seen as one (``model.optimizer``): Keras's JAX trainer carries
    ``optimizer.variables`` through its stateless step, so every optimizer's state is part of that state."""

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)
        self.built = True

    @property
    def variables(self):
        return [v for o in self.optimizers for v in o.variables]

    def build(self, variables):
        pass


def _clone(net):
    """A copy of a network with its weights: a zoo ``Network`` from its config, any other model by Keras."""
    if isinstance(net, Network):
        return net.clone()
    twin = keras.models.clone_model(net)
    twin.set_weights(net.get_weights())
    return twin


def _prefixes(named):
    """Log prefixes of the critics (or discriminators): ``d`` for one, their names for several."""
    return ["d"] if len(named) == 1 else list(named)


def _trainable(group):
    seen, out = set(), []
    for net in group.values():
        for v in net.trainable_variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
    return out


def _group_loss(group):
    """The sum of a group's ``losses`` (add_loss, regularizers) after its calls; 0.0 when it has none."""
    terms = [ops.cast(l, "float32") for net in group.values() for l in net.losses]
    return sum(terms) if terms else ops.zeros((), "float32")


class _frozen:
    """Leaves a group's state (batch-norm statistics, random-generator states) as it was on entry."""

    def __init__(self, group):
        self.variables = [v for net in group.values() for v in net.non_trainable_variables]

    def __enter__(self):
        self.saved = [ops.copy(v.value) for v in self.variables]

    def __exit__(self, *exc):
        if exc[0] is None:
            for v, value in zip(self.variables, self.saved):
                v.assign(value)


def _rows(x, i, k):
    if x is None or k == 1:
        return x
    return tree.map_structure(lambda t: t[i::k], x)
