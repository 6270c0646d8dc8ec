"""Training SRResNet, SRGAN and ESRGAN: the papers' losses and the trainers (``SRGAN``, ``ESRGAN``: ``zoo.GAN``
subclasses).

Losses (section 2.2). The generator minimises ``content + 1e-3 * adversarial``:

* pixel loss: per-pixel MSE (SRResNet, "SRGAN-MSE") or L1 (ESRGAN), ``pixel_loss``;
* VGG content loss ``vgg_content_loss`` ("VGG54"): the distance between ``VGGFeatures`` of the HR image and of
  the SR image, taken from ``keras.applications.VGG19`` cut at ``block5_conv4`` (the 4th convolution before the
  5th max-pooling, phi_5,4). Keras's VGG19 has the ImageNet weights of the original (Caffe) VGG, so the
  [-1, 1] RGB images are converted to its input: 0-255, BGR, ImageNet mean subtracted. Keras's convolution
  layers include their ReLU; SRGAN takes the features after it (the paper: "obtained by the j-th convolution
  (after activation)"), ESRGAN before it (its section 3.3: features before activation keep more information),
  ``VGGFeatures(before_activation=True)``. SRGAN rescales the feature maps by 1/12.75 so that the VGG loss is on
  the scale of the MSE loss: ``MSE(phi(HR) / 12.75, phi(SR) / 12.75)``;
* adversarial loss: the non-saturating ``-log D(G(LR))`` weighted by ``adversarial_weight`` = 1e-3.

Training, in two phases, through one trainer (``SRGAN``, a ``zoo.GAN``):

1. PSNR-oriented: ``SRGAN(generator)`` (no discriminator, or ``adversarial=False``) trains G alone on the pixel
   loss; no discriminator step is taken and D is never called. SRGAN: MSE, Adam(1e-4, beta_1 0.9); this phase's
   generator is "SRResNet". ESRGAN: L1, Adam(2e-4).
2. GAN: ``SRGAN(generator, discriminator, content=VGGFeatures())`` initialised from phase 1, alternating one D
   step and one G step. SRGAN: VGG54 content + 1e-3 adversarial, Adam(1e-4, beta_1 0.9).

ESRGAN (Wang et al. 2018): the discriminator is relativistic average (RaGAN, Jolicoeur-Martineau 2018):
D_Ra(x_r, x_f) = sigmoid(C(x_r) - E[C(x_f)]), with
``ragan_d``/``ragan_g`` (the BCE form, the two terms averaged as the official code). ``ESRGAN`` trains the
generator on ``1e-2 * L1 + 1 * perceptual (VGG54 before activation, L1) + 5e-3 * RaGAN`` (section 4.1).
"""
import math

import keras
from keras import ops

from zoo import losses, optimizers
from zoo.gan import GAN


# ---------------------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------------------
def pixel_loss(real, fake, criterion="mse"):
    """Per-example pixel loss between HR and SR images: ``"mse"`` (mean squared error) or ``"l1"``."""
    d = ops.cast(fake, "float32") - ops.cast(real, "float32")
    if criterion == "mse":
        return losses.per_example_mean(ops.square(d))
    if criterion == "l1":
        return losses.per_example_mean(ops.abs(d))
    raise ValueError(f"criterion must be 'mse' or 'l1', got {criterion!r}")


ragan_d, ragan_g = losses.ragan_d, losses.ragan_g
RAGAN = losses.LOSSES["ragan"]


def vgg_content_loss(real, fake, features, criterion="mse", scale=1 / 12.75):
    """Per-example VGG content loss: ``criterion(features(real) * scale, features(fake) * scale)``.

    ``features``: a ``VGGFeatures`` (or any image -> feature map model). ``criterion``: ``"mse"`` (SRGAN) or
    ``"l1"`` (ESRGAN). ``scale``: SRGAN's 1/12.75 rescaling of the feature maps, which multiplies an MSE by
    1/12.75**2 ~ 0.006 and brings the VGG loss to the scale of the pixel MSE. No gradient flows into the
    HR features.
    """
    a = ops.stop_gradient(features(real, training=False))
    b = features(fake, training=False)
    return pixel_loss(ops.cast(a, "float32") * scale, ops.cast(b, "float32") * scale, criterion)


# ---------------------------------------------------------------------------------------------------------
# The trainers
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class SRGAN(GAN):
    """The SRGAN trainer: ``zoo.GAN`` on ``(lr, hr)`` pairs, with pixel, content and weighted adversarial terms.

    ``fit`` takes ``(lr, hr)`` batches (a dataset of pairs, or ``fit(lr, hr)``; a dict with ``"lr"``/``"hr"`` keys
    works too), both in [-1, 1]. G maps LR to SR; D sees HR and SR images only.

    Phases (``compile()``'s defaults follow the phase: ``PRETRAIN`` or ``FINETUNE``):

    * ``SRGAN(generator)``: the PSNR-oriented phase (``zoo.GAN`` without a discriminator). Each step is one
      generator update on the pixel loss (plus a content loss if you give it a weight). Logs ``g_loss`` and
      its terms.
    * ``SRGAN(generator, discriminator, content=VGGFeatures())``: the GAN phase, the ``zoo.GAN`` step (``d_steps``
      discriminator updates, one generator update through D). G's loss is
      ``pixel_weight * pixel + content_weight * content + adversarial_weight * adversarial``; the logs name
      each weighted term (they sum to ``g_loss``). Without a content network the content term is dropped and
      the pixel weight defaults to 1 (the paper's "SRGAN-MSE").

    Args:
        generator: an ``SRResNet``/``RRDBNet`` (any LR -> HR model).
        discriminator: an ``SRGANDiscriminator`` or None (PSNR-oriented phase).
        content: the content loss's feature network (``VGGFeatures``) or None. It is not part of the trainer's
            weights.
        d_steps, ema_decay, seed: as ``zoo.GAN``.
    """

    LOGS = ("pixel", "content", "psnr_rgb")

    #: ``compile()`` defaults of the PSNR-oriented phase (Ledig et al.: SRResNet on MSE, Adam 1e-4, beta_1 0.9).
    PRETRAIN = dict(loss="non_saturating", pixel_loss="mse", pixel_weight=1.0, content_loss="mse",
                    content_weight=0.0, content_scale=1 / 12.75, adversarial_weight=1e-3, learning_rate=1e-4)
    #: ``compile()`` defaults of the GAN phase (SRGAN-VGG54: VGG content + 1e-3 adversarial, Adam 1e-4).
    FINETUNE = dict(loss="non_saturating", pixel_loss="mse", pixel_weight=0.0, content_loss="mse",
                    content_weight=1.0, content_scale=1 / 12.75, adversarial_weight=1e-3, learning_rate=1e-4)

    def __init__(self, generator, discriminator=None, content=None, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        # Kept out of Keras's tracking: the fixed VGG is not part of the trainer's weights or checkpoints.
        object.__setattr__(self, "_content", content)

    @property
    def content(self):
        """The content loss's feature network (``VGGFeatures``), or None."""
        return self._content

    # -- configuration -------------------------------------------------------------------------------
    def compile(self, d_optimizer=None, g_optimizer=None, loss=None, pixel_loss=None, pixel_weight=None,
                content_loss=None, content_weight=None, content_scale=None, adversarial_weight=None,
                learning_rate=None, **kwargs):
        """The loss terms and optimizers; arguments left as None take the phase's defaults (``PRETRAIN`` or
        ``FINETUNE``). Optimizers default to Adam(``learning_rate``, beta_1 0.9, beta_2 0.999), as both papers.

        ``loss``: the adversarial loss, a ``zoo.losses`` name, ``"ragan"`` or a ``(d_fn, g_fn)`` tuple; a ``g_fn``
        with ``relativistic = True`` (``ragan_g``) is called as ``g_fn(real_logits, fake_logits)``.
        ``pixel_loss``/``content_loss``: ``"mse"`` or ``"l1"``. ``content_scale``: the feature rescaling.
        Other keyword arguments go to ``zoo.GAN.compile`` (``gp_weight``, ``jit_compile``, ...).
        """
        given = dict(loss=loss, pixel_loss=pixel_loss, pixel_weight=pixel_weight, content_loss=content_loss,
                     content_weight=content_weight, content_scale=content_scale,
                     adversarial_weight=adversarial_weight, learning_rate=learning_rate)
        s = dict(self.FINETUNE if self.adversarial else self.PRETRAIN)
        s.update({k: v for k, v in given.items() if v is not None})
        if self.content is None:
            if content_weight:
                raise ValueError("content_weight needs a feature network: SRGAN(..., content=VGGFeatures())")
            s["content_weight"] = 0.0
            if pixel_weight is None and not s["pixel_weight"]:
                s["pixel_weight"] = 1.0  # no VGG: the pixel loss is the content loss ("SRGAN-MSE")
        for key in ("pixel_loss", "content_loss"):
            if s[key] not in ("mse", "l1"):
                raise ValueError(f"{key} must be 'mse' or 'l1', got {s[key]!r}")
        if not s["pixel_weight"] and not s["content_weight"] and not self.adversarial:
            raise ValueError("the PSNR-oriented phase needs a pixel or content term: pixel_weight is 0")
        self.pixel_criterion, self.pixel_weight = s["pixel_loss"], float(s["pixel_weight"])
        self.content_criterion, self.content_weight = s["content_loss"], float(s["content_weight"])
        self.content_scale = float(s["content_scale"])
        self.learning_rate = float(s["learning_rate"])
        adam = lambda: optimizers.Adam(self.learning_rate, beta_1=0.9, beta_2=0.999)
        g_optimizer = g_optimizer or adam()
        if self.adversarial:
            d_optimizer = d_optimizer or adam()
        adv = s["loss"]
        super().compile(d_optimizer, g_optimizer, loss=adv, adversarial_weight=s["adversarial_weight"], **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def unpack(self, data):
        """``(lr, hr)`` (or ``{"lr": ..., "hr": ...}``) -> ``(real=hr, condition=lr)``."""
        if isinstance(data, dict) and "lr" in data and "hr" in data:
            lr, hr = data["lr"], data["hr"]
        elif isinstance(data, (tuple, list)) and (len(data) == 2 or (len(data) == 3 and data[2] is None)):
            lr, hr = data[0], data[1]
        else:
            raise ValueError("SRGAN trains on (lr, hr) pairs: a dataset of (lr, hr) batches or fit(lr, hr); got "
                             f"{type(data).__name__}")
        return ops.convert_to_tensor(hr), ops.convert_to_tensor(lr)

    def generator_inputs(self, condition, n):
        return condition

    def discriminator_inputs(self, images, condition):
        return images

    def call(self, data, training=False):
        """SR images for LR images (or for the LR half of ``(lr, hr)`` pairs)."""
        if isinstance(data, dict):
            data = data["lr"]
        elif isinstance(data, (tuple, list)):
            data = data[0]
        return self.generator(data, training=training)

    def generator_extra_losses(self, real, fake, condition):
        """The weighted pixel and content terms, per example."""
        terms = {}
        if self.pixel_weight:
            terms["pixel"] = self.pixel_weight * pixel_loss(real, fake, self.pixel_criterion)
        if self.content_weight:
            terms["content"] = self.content_weight * vgg_content_loss(real, fake, self.content,
                                                                      self.content_criterion, self.content_scale)
        return terms

    def iteration_flops(self, batch, count):
        """``zoo.GAN``'s count plus the content network (V on the HR and the SR image and V's input gradient,
        3 V) and, for a relativistic loss, D on the HR images in the G step (1 D)."""
        flops = super().iteration_flops(batch, count)
        real, _ = self.unpack(batch)
        n = int(ops.shape(real)[0])
        if self.content is not None:
            flops += 3 * count(self.content, real) // n
        if self.adversarial and getattr(getattr(self, "g_loss_fn", None), "relativistic", False):
            flops += count(self.discriminator, real) // n
        return flops

    def validation_logs(self, data):
        """Validation (``evaluate``, ``fit(validation_data=...)``): G in inference mode (batch-norm moving
        statistics, left unchanged) on the pixel and content terms, and ``psnr_rgb``, the PSNR of the [-1, 1]
        RGB images (not the benchmarks' Y-channel PSNR). No adversarial term: D is not called."""
        real, condition = self.unpack(data)
        fake = self.generate(real, condition, training=False)
        terms = {name: ops.mean(t) for name, t in self.generator_extra_losses(real, fake, condition).items()}
        mse = pixel_loss(real, fake, "mse")
        psnr = 10.0 * ops.log(4.0 / ops.maximum(mse, 1e-10)) / math.log(10.0)
        return {"g_loss": sum(terms.values()), **terms, "psnr_rgb": ops.mean(psnr)}


@keras.saving.register_keras_serializable("zoo")
class ESRGAN(SRGAN):
    """The ESRGAN trainer: ``SRGAN`` with ESRGAN's losses and schedule (Wang et al. 2018, section 4.1).

    PSNR-oriented phase (``ESRGAN(RRDBNet())``): L1 pixel loss, Adam(2e-4). GAN phase
    (``ESRGAN(generator, SRGANDiscriminator(**esrgan config), content=VGGFeatures(before_activation=True))``):
    ``1e-2 * L1 + 1 * perceptual + 5e-3 * RaGAN``, Adam(1e-4). The perceptual term is the L1 distance of VGG54
    features before activation. The official code computes them with torchvision's VGG19 on ImageNet-normalised
    [0, 1] inputs; Keras's VGG19 (Caffe weights, 0-255 inputs) has differently scaled features, so the maps are
    rescaled by SRGAN's 1/12.75 here (``content_scale``; an adaptation, not the paper's number).
    """

    PRETRAIN = dict(loss="ragan", pixel_loss="l1", pixel_weight=1.0, content_loss="l1", content_weight=0.0,
                    content_scale=1 / 12.75, adversarial_weight=5e-3, learning_rate=2e-4)
    FINETUNE = dict(loss="ragan", pixel_loss="l1", pixel_weight=1e-2, content_loss="l1", content_weight=1.0,
                    content_scale=1 / 12.75, adversarial_weight=5e-3, learning_rate=1e-4)


def blend_targets(model, lr, hr):
    """For ``AdaptiveCompact`` ``model``: the blend weight that brings each ``(lr, hr)`` pair closest to its HR,
    ``a* = clip(<s - w, hr - w> / |s - w|^2, 0, 1)`` (w, s: the weak and strong networks' outputs), and
    ``|s - w|^2``, how much that choice matters for the pair (its regression weight). NumPy ``(N,)`` each."""
    import numpy as np

    lr, hr = np.asarray(lr, "float32"), np.asarray(hr, "float32")
    w = np.asarray(model.weak.predict_on_batch(lr), "float32")
    d = (np.asarray(model.strong.predict_on_batch(lr), "float32") - w).reshape(len(lr), -1)
    gap = (d * d).sum(1)
    return np.clip((d * (hr - w).reshape(len(lr), -1)).sum(1) / np.maximum(gap, 1e-8), 0.0, 1.0), gap


def fit_estimator(model, data, samples=4800, epochs=40, learning_rate=1e-3, validation=0.1, verbose=2):
    """Train ``AdaptiveCompact`` ``model``'s degradation estimator on ``(lr, hr)`` batches of ``data`` (its two
    networks unchanged): regression of each pair's ``blend_targets`` weight, weighted by its gap, with MSE. Pairs
    drawn once (``samples``), the last ``validation`` share held out; returns ``{"mse", "mse_constant"}`` on them
    (the weighted MSE of the estimator and of the best constant)."""
    import numpy as np

    lrs, targets, gaps, n = [], [], [], 0
    for lr, hr in data:
        a, gap = blend_targets(model, lr, hr)
        lrs.append(np.asarray(lr, "float32"))
        targets.append(a)
        gaps.append(gap)
        n += len(a)
        if n >= samples:
            break
    lr, a, gap = np.concatenate(lrs), np.concatenate(targets)[:, None], np.concatenate(gaps)
    gap = (gap / gap.mean()).astype("float32")
    cut = len(lr) - int(round(validation * len(lr)))
    est = model.denoise_model
    est.compile(keras.optimizers.Adam(learning_rate), loss="mse", weighted_metrics=[])
    est.fit(lr[:cut], a[:cut], sample_weight=gap[:cut], batch_size=32, epochs=epochs, verbose=verbose)
    pred = np.asarray(est.predict(lr[cut:], verbose=0), "float32")
    const = np.average(a[:cut, 0], weights=gap[:cut])
    return {"mse": float(np.average((pred[:, 0] - a[cut:, 0]) ** 2, weights=gap[cut:])),
            "mse_constant": float(np.average((const - a[cut:, 0]) ** 2, weights=gap[cut:]))}
