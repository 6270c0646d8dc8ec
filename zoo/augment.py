"""Differentiable augmentation of what the discriminators see, for any zoo GAN: DiffAugment (Zhao et al. 2020,
"Differentiable Augmentation for Data-Efficient GAN Training") and adaptive discriminator augmentation (ADA;
Karras et al. 2020, "Training Generative Adversarial Networks with Limited Data").

Why. With little data (ten thousand faces) the discriminator memorises the training images and its feedback to
the generator stops being useful. Both papers show D only augmented images, real and fake alike, through
transforms that are differentiable, so G's gradients pass through them: D cannot tell real from fake by the
augmentation, and G is not pushed to produce augmented images (the augmentations do not "leak") as long as each
one is applied with probability p < ~0.8 (ADA) or is the DiffAugment set.

How it enters the trainer. Not a fork of the step: an augmentation sits in front of every critic's function,
``Critic(fn=lambda x: fn(augment(x)), ...)``, through the core's ``critics`` hook (``zoo.gan``). Each call of a
critic's ``fn`` draws fresh parameters per image, so reals and fakes get the same policy (the same ops, the
same ``p``) with independent draws, in the discriminator step, in its gradient penalty (WGAN-GP's interpolates,
R1's reals: the penalties' input gradients pass through the augmentation, as stylegan2-ada's R1 does) and in
the generator step (so G's gradients flow back through the augmentation). Validation (``training=False``) sees
the images as they are. A GAN gets it by listing the mixin first among its bases::

    class ProGAN(Augmented, GAN): ...                 # zoo.apps.progan does this
    gan = progan.build(augment="ada")                 # or ProGAN(g, d, augment="ada"); "diffaugment"; None
    class MyPix2Pix(Augmented, pix2pix.Pix2Pix): ...   # any app: MyPix2Pix(g, d, augment=DiffAugment("color"))

``augment``: ``None`` (off), ``"ada"``, ``"diffaugment"``, or an ``Augment`` (``ADA(target=0.6, ...)``,
``DiffAugment("color,translation")``) for other settings.

Transforms (images channels-last float in [-1, 1], any float dtype; computed in float32, returned in the input's
dtype and shape):

* ``DiffAugment(policy="color,translation,cutout")``, the paper's functions: ``color`` = brightness
  ``x + (u - 0.5)``, saturation ``(x - mean_c) * 2u + mean_c``, contrast ``(x - mean) * (u + 0.5) + mean``
  (``u ~ U(0, 1)`` per image, means over the channels / the whole image); ``translation``: a whole-pixel shift of
  up to 1/8 of the side in each axis, zero padding; ``cutout``: a square of half the side set to 0 at a random
  centre. Every op on every image (``p = 1``, the paper's; ``p`` is accepted as for ADA).
* ``ADA``: a subset of stylegan2-ada's ``bgc`` pipeline that is cheap and differentiable, each op applied to
  each image with probability ``p``: x-flip, integer translation (up to 0.125 of the side), isotropic scaling
  (``2 ** N(0, 0.2)``), rotation (uniform in [-pi, pi]; the reference applies two rotations with probability
  ``1 - sqrt(1 - p)`` each around an anisotropic scaling that is left out here, which composes to one rotation
  with probability ``p``), brightness (``+ N(0, 0.2)``), contrast (``* 2 ** N(0, 0.5)`` around 0, mid-grey),
  saturation (``2 ** N(0, 1)`` around the grey axis), and cutout (a square of half the side, as the ``bgcfnc``
  pipeline). Geometric ops are composed into one matrix per image and resampled once, bilinearly, with
  reflection at the borders (the reference pads by reflection too; it resamples through a wavelet filter at 2x,
  this uses bilinear sampling). Left out: 90-degree rotations, anisotropic scaling, fractional translation,
  luma flip, hue rotation, and the image-space filter and noise ops.

Resampling is written here as four gathers with bilinear weights (``keras.ops.take_along_axis``), not with
``keras.ops.image.affine_transform``: TensorFlow's kernel behind the latter has only an approximate gradient
(the inverse transform applied to the output gradient, borders ignored), so the backends would disagree on
G's gradients; gathers have exact first and second derivatives (the gradient penalties differentiate twice) on
TensorFlow, PyTorch and JAX. With every op off the output equals the input exactly (identity coordinates sample
each pixel with weight 1).

ADA's heuristic. D's overfitting is measured by ``r_t = E[sign(D(x_real))]`` over the real images of the
discriminator steps (all critics; on several replicas, the global batch); every ``interval`` D steps (the
reference's 4 minibatches) ``p`` moves by ``sign(r_t - target) * images / speed`` (``target`` 0.6, ``speed``
500,000 images: p can go 0 -> 1 in 500k images), clipped to [0, 1]. ``sign(D(x))`` assumes log-odds (or hinge)
logits, where 0 is "cannot tell". A WGAN critic's scores have no such zero (with ProGAN's drift term the real
scores are centred on 0 whatever D has learned, so E[sign] stays near 0): for the other losses the sign is
taken against the midpoint of the step's mean real and mean fake scores, the threshold of a classifier that
splits the two means, so r_t again reads "the share of reals D puts on the real side" mapped to [-1, 1].
``threshold="zero"`` / ``"midpoint"`` forces either. ``p``, the accumulators and the last interval's ``r_t``
are non-trainable variables of the augmentation (a layer of the GAN), so checkpoints keep them and a resumed
run continues with the same ``p``; ``target=None`` keeps ``p`` fixed.

Logs (``fit``'s history, ``zoo.callbacks.Checkpoint``'s log.csv): ``aug_p`` and ``aug_rt`` (the step's mean
sign of the real logits, averaged over the epoch by the tracker).

Limits. The augmentation transforms the images a critic's ``fn`` receives; a condition the critic binds in its
``fn`` (pix2pix's input drawing, a mask) is not transformed with them, so geometric ops would break the pairing:
use ``DiffAugment("color")`` or ``ADA(ops=COLOR_OPS)`` there.
"""
import functools
import math

import keras
from keras import ops

try:  # replica-aware draws and gathers (``zoo.distribute``) where this checkout has them
    from zoo import distribute as _distribute
except ImportError:  # pragma: no cover - one device: keras.random's draws are the global batch's
    _distribute = None

#: ADA's ops, in the order applied (geometric ones composed into one resampling, then colour, then cutout).
ADA_OPS = ("xflip", "translate", "scale", "rotate", "brightness", "contrast", "saturation", "cutout")
COLOR_OPS = ("brightness", "contrast", "saturation")
#: DiffAugment's policies.
DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")
#: Loss names whose logits have 0 as the decision boundary (the sign heuristic applies to them as it is).
CENTRED_LOSSES = ("minimax", "non_saturating", "ragan", "hinge")


class Augment(keras.layers.Layer):
    """A differentiable, per-image random augmentation with probability ``p`` (a non-trainable variable) and, when
    ``target`` is set, ADA's adaptation of ``p`` (module docstring). Subclasses implement ``transform(x, p)``.

    ``augment(images)`` (or ``augment.apply(images)``): the images, augmented; ``augment.wrap(fn)``: ``fn`` with
    the augmentation in front. ``seed``: the draws' ``SeedGenerator`` seed (its state is in checkpoints).
    """

    def __init__(self, p=1.0, target=None, interval=4, speed=500_000, threshold="auto", seed=None, name=None):
        super().__init__(name=name, dtype="float32")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p!r}")
        if target is not None and not -1.0 < float(target) < 1.0:
            raise ValueError(f"target must be in (-1, 1) (a mean sign), got {target!r}")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f"interval must be a positive integer (discriminator steps), got {interval!r}")
        if not float(speed) > 0:
            raise ValueError(f"speed must be > 0 (images for p to go 0 -> 1), got {speed!r}")
        if threshold not in ("auto", "zero", "midpoint"):
            raise ValueError(f"threshold must be 'auto', 'zero' or 'midpoint', got {threshold!r}")
        self.target = None if target is None else float(target)
        self.interval, self.speed, self.threshold = int(interval), float(speed), threshold
        const = keras.initializers.Constant
        self.p = self.add_weight(shape=(), initializer=const(float(p)), trainable=False, name="p")
        # r_t's running sums since the last adjustment: signs, real images, discriminator steps
        self.sign_sum = self.add_weight(shape=(), initializer="zeros", trainable=False, name="sign_sum")
        self.sign_count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="sign_count")
        self.images = self.add_weight(shape=(), initializer="zeros", trainable=False, name="images")
        self.steps = self.add_weight(shape=(), initializer="zeros", trainable=False, name="steps")
        self.rt = self.add_weight(shape=(), initializer="zeros", trainable=False, name="rt")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @property
    def adaptive(self):
        return self.target is not None

    # -- the images ------------------------------------------------------------------------------------
    def call(self, images):
        return self.apply(images)

    def apply(self, images):
        """``images`` (N, H, W, C) augmented, per image, with probability ``p`` per op; same dtype and shape."""
        if len(images.shape) != 4:
            raise ValueError(f"{type(self).__name__} augments image batches (N, H, W, C), got shape {images.shape}")
        dtype = images.dtype
        x = ops.cast(images, "float32")
        return ops.cast(self.transform(x, ops.cast(self.p.value, "float32")), dtype)

    def wrap(self, fn):
        """``fn`` with this augmentation in front: ``lambda x: fn(augment(x))``."""
        return lambda x: fn(self.apply(x))

    def transform(self, x, p):
        raise NotImplementedError

    def _uniform(self, n, shape=(), low=0.0, high=1.0):
        draw = _distribute.uniform if _distribute is not None else keras.random.uniform
        return draw((n,) + tuple(shape), seed=self.seed_generator, minval=low, maxval=high)

    def _normal(self, n, shape=()):
        draw = _distribute.normal if _distribute is not None else keras.random.normal
        return draw((n,) + tuple(shape), seed=self.seed_generator)

    def _chosen(self, n, p):
        """Per image: is the op applied (probability ``p``)? float (N,) of 0/1."""
        return ops.cast(self._uniform(n) < p, "float32")

    # -- ADA's heuristic -------------------------------------------------------------------------------
    def observe(self, logits, centred):
        """Accumulate ``sign(D(real))`` of one discriminator step; ``logits``: ``{critic: (real, fake)}`` as the
        core's ``discriminator_extra_losses`` receives them; ``centred``: whether 0 is the logits' decision
        boundary (``threshold="auto"``). Returns the step's logs."""
        centred = {"zero": True, "midpoint": False}.get(self.threshold, centred)
        signs, images = [], None
        for real, fake in logits.values():
            r = _all_gather(ops.reshape(ops.stop_gradient(ops.cast(real, "float32")), (-1,)))
            if not centred:
                f = _all_gather(ops.reshape(ops.stop_gradient(ops.cast(fake, "float32")), (-1,)))
                r = r - 0.5 * (ops.mean(r) + ops.mean(f))
            signs.append(ops.sign(r))
            images = ops.cast(ops.shape(r)[0], "float32") if images is None else images
        s = ops.concatenate(signs) if len(signs) > 1 else signs[0]
        self.sign_sum.assign(self.sign_sum.value + ops.sum(s))
        self.sign_count.assign(self.sign_count.value + ops.cast(ops.shape(s)[0], "float32"))
        self.images.assign(self.images.value + images)
        self.steps.assign(self.steps.value + 1.0)
        return {"aug_p": ops.convert_to_tensor(self.p.value), "aug_rt": ops.mean(s)}

    def update(self):
        """After a training iteration: every ``interval`` D steps, ``r_t`` from the sums and (adaptive) ``p`` moved
        toward the target; the sums restart."""
        due = self.steps.value >= float(self.interval)
        rt = self.sign_sum.value / ops.maximum(self.sign_count.value, 1.0)
        p = self.p.value
        if self.adaptive:
            moved = ops.clip(p + ops.sign(rt - self.target) * self.images.value / self.speed, 0.0, 1.0)
            self.p.assign(ops.where(due, moved, p))
        self.rt.assign(ops.where(due, rt, self.rt.value))
        for v in (self.sign_sum, self.sign_count, self.images, self.steps):
            v.assign(ops.where(due, 0.0, v.value))

    def log_names(self):
        return ("aug_p", "aug_rt")


class ADA(Augment):
    """Adaptive discriminator augmentation (module docstring): ``ops`` a subset of ``ADA_OPS``; ``p`` the starting
    probability (the reference's 0); ``target`` r_t's target (0.6; None: ``p`` fixed); ``interval`` D steps between
    adjustments (4); ``speed`` images for ``p`` to go from 0 to 1 (500,000); the strengths are the reference's."""

    def __init__(self, p=0.0, target=0.6, interval=4, speed=500_000, ops=ADA_OPS, threshold="auto",
                 translate=0.125, scale_std=0.2, rotate=1.0, brightness_std=0.2, contrast_std=0.5,
                 saturation_std=1.0, cutout=0.5, seed=None, name=None):
        super().__init__(p=p, target=target, interval=interval, speed=speed, threshold=threshold, seed=seed,
                         name=name)
        unknown = sorted(set(ops) - set(ADA_OPS))
        if unknown or isinstance(ops, str):
            raise ValueError(f"ADA ops must be a subset of {ADA_OPS}, got {ops!r}")
        self.ops = tuple(o for o in ADA_OPS if o in ops)
        self.translate, self.scale_std, self.rotate = float(translate), float(scale_std), float(rotate)
        self.brightness_std, self.contrast_std = float(brightness_std), float(contrast_std)
        self.saturation_std, self.cutout = float(saturation_std), float(cutout)

    def transform(self, x, p):
        n, h, w = ops.shape(x)[0], x.shape[1], x.shape[2]
        eye = ops.ones((n,))
        zero = ops.zeros((n,))
        inv = None  # output pixel -> input pixel, composed from the inverses

        def then(m):
            nonlocal inv
            inv = m if inv is None else ops.matmul(inv, m)

        if "xflip" in self.ops:
            flip = self._chosen(n, p) * ops.cast(self._uniform(n) < 0.5, "float32")
            then(_affine(1.0 - 2.0 * flip, zero, zero, zero, eye, zero))
        if "translate" in self.ops:
            on = self._chosen(n, p)
            t = self._uniform(n, (2,), -1.0, 1.0) * self.translate
            tx, ty = on * ops.round(t[:, 0] * w), on * ops.round(t[:, 1] * h)
            then(_affine(eye, zero, -tx, zero, eye, -ty))
        if "scale" in self.ops:
            on = self._chosen(n, p)
            s = ops.power(2.0, on * self._normal(n) * self.scale_std)
            then(_affine(1.0 / s, zero, zero, zero, 1.0 / s, zero))
        if "rotate" in self.ops:
            on = self._chosen(n, p)
            theta = on * self._uniform(n, (), -1.0, 1.0) * (math.pi * self.rotate)
            c, s = ops.cos(-theta), ops.sin(-theta)
            then(_affine(c, -s, zero, s, c, zero))
        if inv is not None:
            x = warp(x, inv, padding="reflect")
        if "brightness" in self.ops:
            x = x + _per_image(self._chosen(n, p) * self._normal(n) * self.brightness_std)
        if "contrast" in self.ops:
            x = x * _per_image(ops.power(2.0, self._chosen(n, p) * self._normal(n) * self.contrast_std))
        if "saturation" in self.ops:
            on = _per_image(self._chosen(n, p))
            s = _per_image(ops.power(2.0, self._normal(n) * self.saturation_std))
            grey = ops.mean(x, axis=-1, keepdims=True)
            x = ops.where(on > 0, grey + (x - grey) * s, x)
        if "cutout" in self.ops:
            x = cutout(x, self._chosen(n, p), self._uniform(n, (2,)), self.cutout)
        return x


class DiffAugment(Augment):
    """DiffAugment (module docstring): ``policy`` a comma-separated subset of ``color,translation,cutout``, each op
    on each image with probability ``p`` (1, the paper's); ``translation`` and ``cutout`` are fractions of the
    side (the paper's 1/8 and 1/2). Not adaptive unless ``target`` is given (then ``p`` moves as ADA's)."""

    def __init__(self, policy="color,translation,cutout", p=1.0, target=None, translation=0.125, cutout=0.5,
                 seed=None, name=None, **kwargs):
        super().__init__(p=p, target=target, seed=seed, name=name, **kwargs)
        self.policy = tuple(s.strip() for s in str(policy).split(",") if s.strip())
        unknown = sorted(set(self.policy) - set(DIFFAUGMENT_POLICIES))
        if unknown or not self.policy:
            raise ValueError(f"DiffAugment policy must be a comma-separated subset of {DIFFAUGMENT_POLICIES}, got "
                             f"{policy!r}")
        self.translation, self.cutout = float(translation), float(cutout)

    def transform(self, x, p):
        n, h, w = ops.shape(x)[0], x.shape[1], x.shape[2]
        for op in self.policy:
            if op == "color":
                on = _per_image(self._chosen(n, p))
                x = x + on * _per_image(self._uniform(n) - 0.5)
                mean = ops.mean(x, axis=-1, keepdims=True)
                x = ops.where(on > 0, (x - mean) * _per_image(2.0 * self._uniform(n)) + mean, x)
                mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
                x = ops.where(on > 0, (x - mean) * _per_image(self._uniform(n) + 0.5) + mean, x)
            elif op == "translation":
                on = self._chosen(n, p)
                sy, sx = int(h * self.translation + 0.5), int(w * self.translation + 0.5)
                u = self._uniform(n, (2,))
                ty = on * (ops.floor(u[:, 0] * (2 * sy + 1)) - sy)  # whole pixels in [-shift, shift]
                tx = on * (ops.floor(u[:, 1] * (2 * sx + 1)) - sx)
                one, zero = ops.ones((n,)), ops.zeros((n,))
                x = warp(x, _affine(one, zero, tx, zero, one, ty), padding="zeros")
            else:
                x = cutout(x, self._chosen(n, p), self._uniform(n, (2,)), self.cutout)
        return x


# -- building blocks ---------------------------------------------------------------------------------------
def _all_gather(x):
    """The global batch of a per-replica tensor (so every replica accumulates the same r_t); ``x`` on one."""
    return _distribute.all_gather(x) if _distribute is not None else x


def _per_image(v):
    return ops.reshape(v, (-1, 1, 1, 1))


def _affine(a, b, c, d, e, f):
    """Per-image 3x3 matrices ``[[a, b, c], [d, e, f], [0, 0, 1]]`` from (N,) tensors (or numbers)."""
    n = next(ops.shape(t)[0] for t in (a, b, c, d, e, f) if not isinstance(t, (int, float)))
    rows = [[a, b, c], [d, e, f], [0.0, 0.0, 1.0]]
    full = [[t if not isinstance(t, (int, float)) else ops.full((n,), float(t)) for t in r] for r in rows]
    return ops.stack([ops.stack(r, axis=-1) for r in full], axis=-2)


def _reflect(i, size):
    """Integer coordinates (as floats) reflected into [0, size - 1] (numpy's "reflect": -1 -> 1)."""
    period = float(max(2 * (size - 1), 1))
    i = ops.mod(ops.abs(i), period)
    return ops.where(i > size - 1, period - i, i)


def warp(x, inverse, padding="reflect"):
    """Images ``x`` (N, H, W, C) resampled bilinearly: output pixel ``q`` (centred pixel coordinates, x right, y
    down) takes the input at ``inverse @ [qx, qy, 1]``; ``inverse`` (N, 3, 3). Outside the image: ``"reflect"``
    (mirrored, not repeating the edge) or ``"zeros"``. Differentiable in ``x`` (gathers with weights)."""
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    ys, xs = ops.meshgrid(ops.arange(h, dtype="float32") - (h - 1) / 2.0,
                          ops.arange(w, dtype="float32") - (w - 1) / 2.0, indexing="ij")
    grid = ops.stack([ops.reshape(xs, (-1,)), ops.reshape(ys, (-1,)), ops.ones((h * w,))], axis=0)  # (3, HW)
    src = ops.matmul(ops.cast(inverse, "float32")[:, :2, :], grid)  # (N, 2, HW)
    sx, sy = src[:, 0] + (w - 1) / 2.0, src[:, 1] + (h - 1) / 2.0
    x0, y0 = ops.floor(sx), ops.floor(sy)
    fx, fy = sx - x0, sy - y0
    flat = ops.reshape(x, (-1, h * w, c))
    out = None
    for dy in (0, 1):
        for dx in (0, 1):
            ix, iy = x0 + dx, y0 + dy
            weight = (fx if dx else 1.0 - fx) * (fy if dy else 1.0 - fy)
            if padding == "reflect":
                ix, iy = _reflect(ix, w), _reflect(iy, h)
            elif padding == "zeros":
                inside = (ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)
                weight = weight * ops.cast(inside, "float32")
                ix, iy = ops.clip(ix, 0, w - 1), ops.clip(iy, 0, h - 1)
            else:
                raise ValueError(f"padding must be 'reflect' or 'zeros', got {padding!r}")
            index = ops.repeat(ops.expand_dims(ops.cast(iy * w + ix, "int32"), -1), c, axis=-1)
            term = ops.take_along_axis(flat, index, axis=1) * ops.expand_dims(weight, -1)
            out = term if out is None else out + term
    return ops.reshape(out, (-1, h, w, c))


def cutout(x, chosen, centre, size):
    """Zero a square of side ``size`` (a fraction of the image's side) centred at ``centre`` ((N, 2) fractions,
    y then x) in the images where ``chosen`` (N,) is 1."""
    h, w = x.shape[1], x.shape[2]
    ys = (ops.arange(h, dtype="float32") + 0.5) / h
    xs = (ops.arange(w, dtype="float32") + 0.5) / w
    outside_y = ops.abs(ops.reshape(ys, (1, h, 1)) - ops.reshape(centre[:, 0], (-1, 1, 1))) >= size / 2
    outside_x = ops.abs(ops.reshape(xs, (1, 1, w)) - ops.reshape(centre[:, 1], (-1, 1, 1))) >= size / 2
    keep = ops.cast(outside_y | outside_x, "float32")  # (N, H, W)
    keep = 1.0 - ops.reshape(chosen, (-1, 1, 1)) * (1.0 - keep)
    return x * ops.expand_dims(keep, -1)


def get(augment, seed=None):
    """An ``Augment`` from a name (``"ada"``, ``"diffaugment"``), an ``Augment`` (itself) or ``None``/``"none"``."""
    if augment is None or (isinstance(augment, str) and augment.lower() == "none"):
        return None
    if isinstance(augment, Augment):
        return augment
    if isinstance(augment, str) and augment.lower() == "ada":
        return ADA(seed=seed)
    if isinstance(augment, str) and augment.lower() == "diffaugment":
        return DiffAugment(seed=seed)
    raise ValueError(f"augment must be None, 'ada', 'diffaugment' or a zoo.augment.Augment, got {augment!r}")


# -- the trainer's side -------------------------------------------------------------------------------------
class Augmented:
    """Mixin for ``zoo.gan.GAN`` subclasses (list it before the GAN class among the bases): adds the ``augment``
    argument and puts the augmentation in front of every critic (module docstring).

    The outermost ``critics`` of the class (whichever class in the hierarchy defines it last) is the one
    augmented, once, after the app has built its critics; the logits of each discriminator step are taken where
    the core hands them to ``discriminator_extra_losses`` (also when an app overrides it without ``super``).
    """

    def __init__(self, *args, augment=None, **kwargs):
        super().__init__(*args, **kwargs)
        seed = kwargs.get("seed")
        self.augment = get(augment, seed=None if seed is None else int(seed) + 7919)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "critics" in cls.__dict__:
            cls.critics = _augmenting_critics(cls.__dict__["critics"])
        if "discriminator_extra_losses" in cls.__dict__:
            cls.discriminator_extra_losses = _seeing_logits(cls.__dict__["discriminator_extra_losses"])

    def critics(self, real, condition, fakes, training=True):
        return super().critics(real, condition, fakes, training)

    def discriminator_extra_losses(self, real, condition, fakes, logits):
        return super().discriminator_extra_losses(real, condition, fakes, logits)

    def discriminator_loss(self, real, condition, fakes, training=True):
        object.__setattr__(self, "_augment_logits", None)
        terms, logs = super().discriminator_loss(real, condition, fakes, training)
        seen = self.__dict__.get("_augment_logits")
        object.__setattr__(self, "_augment_logits", None)
        if getattr(self, "augment", None) is not None and training and seen:
            logs = dict(logs)
            logs.update(self.augment.observe(seen, centred=self.loss_name in CENTRED_LOSSES))
        return terms, logs

    def after_step(self):
        super().after_step()
        if getattr(self, "augment", None) is not None and self.adversarial:
            self.augment.update()

    def log_names(self):
        names = super().log_names()
        if getattr(self, "augment", None) is not None and self.adversarial:
            names = list(dict.fromkeys(list(names) + list(self.augment.log_names())))
        return names


def _augmenting_critics(method):
    @functools.wraps(method)
    def critics(self, *args, **kwargs):
        depth = self.__dict__.get("_augment_depth", 0)
        object.__setattr__(self, "_augment_depth", depth + 1)
        try:
            out = method(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_augment_depth", depth)
        training = args[3] if len(args) > 3 else kwargs.get("training", True)
        aug = getattr(self, "augment", None)
        if depth or aug is None or not training:
            return out
        return {name: c._replace(fn=aug.wrap(c.fn)) for name, c in out.items()}

    critics._augmenting = True
    return critics


def _seeing_logits(method):
    @functools.wraps(method)
    def extra(self, real, condition, fakes, logits):
        object.__setattr__(self, "_augment_logits", logits)
        return method(self, real, condition, fakes, logits)

    return extra


# Augmented's own hooks are wrapped as a subclass's would be (a mixin first among the bases is the outermost)
Augmented.critics = _augmenting_critics(Augmented.__dict__["critics"])
Augmented.discriminator_extra_losses = _seeing_logits(Augmented.__dict__["discriminator_extra_losses"])
