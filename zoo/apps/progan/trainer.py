"""ProGAN's training (Karras et al. 2018, sections 2-4, appendix A): WGAN-GP with the drift term, an EMA
generator, and growing as a schedule of phases that ``fit()`` walks through.

Objective. The critic minimises ``D(G(z)) - D(x) + 10 * (||grad D(x_hat)|| - 1)^2 + 0.001 * D(x)^2`` (WGAN-GP,
the core's ``loss="wgan", gp_weight=10``, and the drift term through ``discriminator_extra_losses``); the
generator minimises ``-D(G(z))``. Adam (lr 1e-3, beta_1 0, beta_2 0.99, epsilon 1e-8) for both, one critic step
per generator step, the generator's exponential moving average (decay 0.999, the paper's ``Gs``) kept by the core.

Growing. Training starts at 4x4 (level 0). Each later level first fades its new blocks in, alpha rising
linearly from 0 to 1 over ``fade_images`` real images (advanced after every step by ``after_step``), then
stabilises for ``stable_images``; the last level stabilises for ``final_images``. At level ``l`` the networks run
grown to side ``s = 4 * 2**l`` (``grow``), and the real images, loaded at the final resolution, are average-pooled
to ``s`` and faded like the fakes: ``fade(upscale(downscale(x)), x, alpha)`` (the reference's
``process_reals``). Minibatch size and learning rate may change per level (``Schedule``).

Levels are whole epochs, so a checkpoint taken at an epoch end (``zoo.callbacks.Checkpoint``) holds a
consistent state: both networks and the EMA copy, both optimizers, alpha, the images shown and where the level
began. ``fit(data, schedule=..., initial_epoch=ckpt.resume(gan))`` continues in the same level at the same
alpha; the level is found from the epoch.

Limited data. ``augment="ada"`` (or ``"diffaugment"``, or a ``zoo.augment.Augment``) puts differentiable
augmentation in front of the critic for reals, fakes and the gradient penalty's interpolates alike
(``zoo.augment``: the ``Augmented`` mixin on the core's ``critics`` hook). The critic is a WGAN critic, so ADA's
overfitting measure r_t takes the sign of each real score against the midpoint of the step's mean real and fake
scores (the drift term keeps the real scores themselves centred on 0). ADA's ``p`` is a variable of the trainer
(``gan.augment.p``), in checkpoints, and logged as ``aug_p`` beside ``aug_rt``.
"""
import math
from dataclasses import dataclass

import numpy as np
from keras import ops

from zoo import distribute, optimizers
from zoo.apps.progan.networks import downscale, fade, sides, upscale
from zoo.augment import Augmented
from zoo.gan import GAN


@dataclass(frozen=True)
class Phase:
    """One level of a schedule: its epochs ``[first_epoch, end_epoch)``, minibatch, learning rate, fade."""
    level: int
    side: int
    batch_size: int
    learning_rate: float
    first_epoch: int
    end_epoch: int
    steps_per_epoch: int
    fade_images: int


@dataclass(frozen=True)
class Schedule:
    """The phases of a progressive run, in real images shown (the paper's 800k fade + 800k stabilise per
    level at full scale).

    Args:
        resolution: the final side.
        fade_images: images over which alpha goes 0 -> 1 at each level after the first.
        stable_images: images at alpha 1 for every level but the last (level 0 only stabilises).
        final_images: images at alpha 1 at the last level (default ``stable_images``).
        batch_size: minibatch, one int or ``{side: int}`` (the paper's 16, less from 256x256 on).
        learning_rate: one float or ``{side: float}`` (the paper's 1e-3).
    """
    resolution: int
    fade_images: int = 800_000
    stable_images: int = 800_000
    final_images: int = None
    batch_size: object = 16
    learning_rate: object = 1e-3

    def __post_init__(self):
        sides(self.resolution)
        for name in ("fade_images", "stable_images") + (("final_images",) if self.final_images is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for s in sides(self.resolution):
            b = self.batch(s)
            if isinstance(b, bool) or not isinstance(b, int) or b < 1:
                raise ValueError(f"batch_size at {s}x{s} must be a positive integer, got {b!r}")
            if not self.lr(s) > 0:
                raise ValueError(f"learning_rate at {s}x{s} must be > 0, got {self.lr(s)!r}")

    def batch(self, side):
        return self.batch_size[side] if isinstance(self.batch_size, dict) else self.batch_size

    def lr(self, side):
        return float(self.learning_rate[side] if isinstance(self.learning_rate, dict) else self.learning_rate)

    def images(self, level):
        """Real images shown at ``level`` (fade + stabilise)."""
        last = len(sides(self.resolution)) - 1
        stable = self.final_images if level == last and self.final_images is not None else self.stable_images
        return (self.fade_images if level else 0) + stable

    def phases(self, steps_per_epoch):
        """The ``Phase`` of every level; ``steps_per_epoch(batch_size)`` gives an epoch's steps at a minibatch
        (a level is rounded up to whole epochs)."""
        out, epoch = [], 0
        for level, side in enumerate(sides(self.resolution)):
            b = self.batch(side)
            spe = int(steps_per_epoch(b))
            epochs = max(1, math.ceil(self.images(level) / (spe * b)))
            out.append(Phase(level, side, b, self.lr(side), epoch, epoch + epochs, spe,
                             self.fade_images if level else 0))
            epoch += epochs
        return out


class ProGAN(Augmented, GAN):
    """The progressive GAN trainer on a ``ProGANGenerator`` and a ``ProGANDiscriminator`` of the same resolution.

    ``level`` (Python int) is the level the step runs at (default: the last, fully grown; ``fit`` with a
    ``schedule`` sets it per phase); ``alpha``, ``images_seen`` and ``level_start`` are training state
    (variables, in checkpoints). ``augment``: ``None`` (the paper's), ``"ada"``, ``"diffaugment"`` or a
    ``zoo.augment.Augment`` (module docstring).
    """

    LOGS = ("drift", "alpha")

    def __init__(self, generator, discriminator, ema_decay=0.999, drift_weight=1e-3, seed=None, **kwargs):
        if generator.resolution != discriminator.resolution:
            raise ValueError(f"generator ({generator.resolution}x{generator.resolution}) and discriminator "
                             f"({discriminator.resolution}x{discriminator.resolution}) must have one resolution")
        super().__init__(generator, discriminator, ema_decay=ema_decay, seed=seed, **kwargs)
        self.drift_weight = float(drift_weight)
        self.level = generator.levels - 1
        self.alpha = self.add_weight(shape=(), initializer="ones", trainable=False, name="alpha")
        self.images_seen = self.add_weight(shape=(), dtype="int32", initializer="zeros", trainable=False,
                                           name="images_seen")
        self.level_start = self.add_weight(shape=(), dtype="int32", initializer="zeros", trainable=False,
                                           name="level_start")
        self.fade_images = 0

    def compile(self, d_optimizer=None, g_optimizer=None, loss="wgan", gp_weight=10.0, learning_rate=1e-3,
                **kwargs):
        """The paper's defaults: WGAN-GP (weight 10), Adam(``learning_rate``, 0, 0.99, 1e-8) for both sides."""
        adam = lambda: optimizers.Adam(learning_rate, beta_1=0.0, beta_2=0.99, epsilon=1e-8)  # noqa: E731
        super().compile(d_optimizer=d_optimizer or adam(), g_optimizer=g_optimizer or adam(), loss=loss,
                        gp_weight=gp_weight, **kwargs)

    @property
    def side(self):
        return self.generator.sides[self.level]

    # -- hooks ---------------------------------------------------------------------------------------------
    def unpack(self, data):
        real, condition = super().unpack(data)
        if condition is not None:
            raise ValueError("ProGAN is unconditional: the data must hold images only")
        res = self.generator.resolution
        if tuple(real.shape[1:3]) != (res, res):
            raise ValueError(f"ProGAN trains on {res}x{res} images (pooled to each level inside the step); the "
                             f"data has {tuple(real.shape[1:3])}")
        self._batch = distribute.global_batch(ops.shape(real)[0])  # images shown: the global batch
        return self.reals_at_level(real), None

    def reals_at_level(self, images):
        """Full-resolution reals as the current level sees them: pooled to its side, faded like the fakes."""
        x = images
        while x.shape[1] > self.side:
            x = downscale(x)
        if self.level == 0:
            return x
        return fade(upscale(downscale(x)), x, self.alpha)

    def generate(self, real, condition, training=True):
        n = ops.shape(real)[0]
        z = distribute.normal((n, self.latent_dim), seed=self.noise)
        return self.generator.grow(z, self.level, self.alpha)

    def critics(self, real, condition, fakes, training=True):
        critic = super().critics(real, condition, fakes, training)["d"]
        return {"d": critic._replace(fn=lambda x: self.discriminator.grow(x, self.level, self.alpha))}

    def discriminator_extra_losses(self, real, condition, fakes, logits):
        real_logits = ops.cast(logits["d"][0], "float32")
        return {"drift": self.drift_weight * ops.mean(ops.square(real_logits), axis=-1)}

    def extra_logs(self, real, outputs, condition):
        return {"alpha": self.alpha}

    def after_step(self):
        super().after_step()
        self.images_seen.assign(self.images_seen + ops.cast(self._batch, "int32"))
        if self.level and self.fade_images:
            shown = ops.cast(self.images_seen - self.level_start, "float32")
            self.alpha.assign(ops.clip(shown / float(self.fade_images), 0.0, 1.0))

    # -- growing -------------------------------------------------------------------------------------------
    def enter(self, phase, fresh):
        """Run at ``phase``'s level with its learning rate; ``fresh``: the level starts now (alpha 0, or 1 at 4x4;
        its images counted from here), else it continues from the restored state."""
        self.level, self.fade_images = phase.level, phase.fade_images
        for opt in (self.d_optimizer, self.g_optimizer):
            opt.learning_rate.assign(phase.learning_rate)
        if fresh:
            # a value, not the other variable's buffer (JAX donates each state buffer once per step)
            self.level_start.assign(int(ops.convert_to_numpy(self.images_seen.value)))
            self.alpha.assign(0.0 if phase.level and phase.fade_images else 1.0)
        # the compiled steps depend on the level: trace them again
        self.train_function = self.test_function = self.predict_function = None

    def fit(self, x=None, y=None, schedule=None, steps_per_epoch=None, initial_epoch=0, callbacks=None,
            **kwargs):
        """Without ``schedule``: Keras's ``fit`` at the current level (fine-tuning the grown networks).

        With a ``Schedule``: the whole progressive run from ``initial_epoch`` (0, or ``Checkpoint.resume``):
        each level's epochs in turn. ``x``: a callable ``x(batch_size)`` returning the data of a minibatch size
        (``progan.dataset`` bound to a folder), or data ``fit`` takes (arrays are batched per level; a dataset
        keeps its own batches). ``steps_per_epoch``: steps of an epoch (default: one pass over arrays). Returns
        the last ``History`` with the whole run's logs.
        """
        if schedule is None:
            return super().fit(x, y, steps_per_epoch=steps_per_epoch, initial_epoch=initial_epoch,
                               callbacks=callbacks, **kwargs)
        if schedule.resolution != self.generator.resolution:
            raise ValueError(f"schedule is for {schedule.resolution}x{schedule.resolution}, the networks for "
                             f"{self.generator.resolution}x{self.generator.resolution}")
        if "epochs" in kwargs:
            raise TypeError("with a schedule the epochs come from it (images per phase); do not pass epochs")
        if steps_per_epoch is None and not hasattr(x, "__len__"):
            raise ValueError("pass steps_per_epoch (the data has no length)")
        per_epoch = (lambda b: steps_per_epoch) if steps_per_epoch else (lambda b: math.ceil(len(x) / b))
        phases = schedule.phases(per_epoch)
        if initial_epoch >= phases[-1].end_epoch:
            raise ValueError(f"initial_epoch {initial_epoch}: the schedule ends at epoch {phases[-1].end_epoch}")
        history, logs = None, {}
        for phase in phases:
            if initial_epoch >= phase.end_epoch:
                continue
            start = max(initial_epoch, phase.first_epoch)
            self.enter(phase, fresh=start == phase.first_epoch)
            data = x(phase.batch_size) if callable(x) else x
            batch = phase.batch_size if isinstance(data, np.ndarray) else None
            history = super().fit(data, y, batch_size=batch, epochs=phase.end_epoch, initial_epoch=start,
                                  steps_per_epoch=steps_per_epoch, callbacks=callbacks, **kwargs)
            for k, v in history.history.items():
                logs.setdefault(k, []).extend(v)
        history.history = logs
        return history

    def iteration_flops(self, batch, count):
        """As the core's count plus the gradient penalty (a D forward on the interpolates, its input gradient
        and the backward of that: ~4 D per image)."""
        real, _ = self.unpack(batch)
        d = count(self.discriminator, real)
        return super().iteration_flops(batch, count) + 4 * d
