"""Paired image-to-image translation: pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks").

Images. Both networks take and return channels-last float images in [-1, 1]. G maps an input image x (edges, a
label map, a grey photo) to an output image G(x) of the same size; D judges pairs: it sees the input and an
output (the true target y or G(x)) concatenated on the channel axis, input first, as the reference code's
``torch.cat((real_A, fake_B), 1)``.

Generator (section 3.2.1, appendix 6.1.1): a U-Net. The encoder is ``depth`` blocks C_k (4x4 convolution,
stride 2, batch norm, LeakyReLU(0.2); ``zoo.layers.UNetDown``) with k = 64, 128, 256, 512, 512, ... (doubling up
to 8 x 64); the first block has no norm, and neither has the innermost, as in the PyTorch reference (the 1x1
bottleneck of unet_256, which batch norm at batch size 1 would set to its offset). The decoder mirrors it with
blocks of ReLU, 4x4 transposed convolution with stride 2, batch norm (``zoo.layers.UNetUp``), each followed by
the concatenation of the mirrored encoder activation (the skip first); the first three decoder blocks add dropout
0.5, which is the network's only source of noise (the paper found noise z ignored). A last ReLU - transposed
convolution to the output channels - tanh closes it. ``depth=8`` is unet_256 (256x256 down to 1x1);
``depth=7`` is unet_128. Inputs must have sides divisible by ``2**depth``; ``translate`` pads to that.

    Trainable parameters, unet_256 3 -> 3 with batch norm: 54,413,955, exactly junyanz/pytorch-CycleGAN-and-pix2pix
    ``UnetGenerator(3, 3, 8, ngf=64, norm_layer=BatchNorm2d, use_dropout=True)`` (hand count in
    tests/test_pix2pix.py). As there, convolutions followed by batch norm have no bias (all but the last), and
    with ``norm="instance"`` the norm is PyTorch's default ``InstanceNorm2d(affine=False)`` (no weights) and
    every convolution has a bias. Dropout sits in the first three decoder blocks as in the paper, the Lua
    original (phillipi/pix2pix ``defineG_unet``) and the TensorFlow tutorial; the PyTorch port puts it in the
    ``depth - 5`` blocks after the innermost one (blocks 2-4 of unet_256; no parameter depends on it).
    Convolution weights start from N(0, 0.02) as the reference's ``init_weights``.

Discriminator (section 3.2.2, appendix 6.1.2): a PatchGAN. ``n_layers`` 4x4 stride-2 convolutions C64 -
C128 - C256 - C512 ... (no norm in the first, LeakyReLU(0.2) throughout), a 4x4 stride-1 convolution and a
4x4 stride-1 convolution to one channel, each padded by one pixel (PyTorch ``padding=1``): a map of logits, one
per overlapping patch of the input, which the losses average. Each logit sees a ``receptive_field`` x
``receptive_field`` patch: 70 for ``n_layers=3`` (the paper's default, 30x30 logits for 256x256 inputs), 16 for
1, 286 for 5 (the "ImageGAN" of a 286x286 input); ``n_layers=0`` is the 1x1 PixelGAN (1x1 convolutions
C64 - C128 - 1, the reference's ``PixelDiscriminator``). The 70x70 PatchGAN on 6 channels has the reference
``NLayerDiscriminator(6, 64, 3)``'s 2,768,705 trainable parameters.

Objective (section 3.1): G minimises ``L_cGAN + lambda * L1(y, G(x))`` with lambda = 100, where L_cGAN is the
non-saturating ``-log D(x, G(x))`` (the zoo's ``non_saturating`` loss, averaged over the patches); D minimises
the cross-entropy on (x, y) real and (x, G(x)) fake, halved "to slow down the rate at which D learns relative to
G". Adam 2e-4, beta_1 0.5, one D step and one G step per iteration (``Pix2Pix``, a ``zoo.GAN``).
``Pix2Pix(generator)`` without a discriminator trains G on L1 alone: the paper's "L1" ablation (table 1).

Batch norm at batch size 1. The paper trains with batch size 1 (edges2shoes: 4), where batch norm in training
mode normalises each image by its own statistics, i.e. instance normalisation with batch norm's learned scale
and offset, and it *tests* the same way: statistics of the test image and dropout on (the reference
``test.py`` does not call ``model.eval()``). Here training does what the paper does: the trainer runs both
networks in training mode (batch statistics; batches larger than 1 use batch statistics as usual) and keeps the
frozen network's moving statistics unchanged in the other's step. ``generator(x)`` and
``predict`` use Keras's inference mode: the moving averages of the statistics (momentum 0.9, PyTorch's 0.1) and
no dropout. ``translate`` uses the generator's ``test_stats``: ``"image"`` for the shipped presets, i.e. each
image normalised by its own statistics as in the paper's tests, without dropout, so outputs are deterministic
and do not depend on the other images of a batch. Measured on the val pairs, the adversarially trained preset
needs it: with the moving averages its outputs lose their white backgrounds (val L1 0.35 instead of 0.14, see
apps/pix2pix/MODEL_CARD.md); per-image statistics are what it was trained with. ``translate(x,
train_mode=True)`` is the paper's protocol exactly (dropout on as well). ``norm="instance"`` makes all modes
agree but for dropout.

``CONFIGS`` lists the presets' architectures: ``edges2shoes_handbags`` (unet_256 with 32 base filters, 70x70
PatchGAN with 64, batch norm) and ``edges2shoes_handbags_l1`` (the same U-Net trained on L1 alone, the
ablation). The presets' U-Net has half the paper's base width (13,608,259 parameters, a quarter of unet_256's
54.4M: a 54 MB weight file instead of 218 MB, for 2,000 training pairs); ``UNetGenerator()`` is the paper's.
"""
import dataclasses
from typing import NamedTuple

import keras
import numpy as np
from keras import layers, ops

from zoo import losses, models
from zoo.gan import GAN
from zoo.layers import GAN_INIT, UNetDown, UNetUp, make_norm

NORMS = ("batch", "instance")


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


# ---------------------------------------------------------------------------------------------------------
# Generator: U-Net
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class UNetGenerator(models.Generator):
    """U-Net: image ``(N, H, W, in_channels)`` -> image ``(N, H, W, out_channels)``, both in [-1, 1]; H and W
    divisible by ``2**depth`` (see the module docstring for the architecture).

    Args:
        depth: encoder blocks (8: unet_256, 7: unet_128); the bottleneck is ``H / 2**depth``.
        filters: channels of the first block (64); block i has ``min(filters * 2**i, 8 * filters)``.
        norm: ``"batch"`` (the paper) or ``"instance"`` (non-affine, convolutions with biases).
        dropout: rate in the first three decoder blocks (0.5; 0 turns it off).
        in_channels, out_channels: image channels of the input and the output.
        test_stats: the batch-norm statistics ``translate`` uses by default: ``"moving"`` (Keras inference
            mode) or ``"image"`` (each image normalised by its own statistics, the paper's test-time
            normalisation, without dropout). The shipped presets use ``"image"``; see the module docstring.

    unet_256 3 -> 3 with batch norm: 54,413,955 trainable parameters (the PyTorch reference's count).
    """

    def __init__(self, depth=8, filters=64, norm="batch", dropout=0.5, in_channels=3, out_channels=3,
                 test_stats="moving", **kwargs):
        _check_norm(norm)
        _check_stats(test_stats)
        if int(depth) != depth or depth < 2:
            raise ValueError(f"depth must be an integer >= 2 (8: unet_256, 7: unet_128), got {depth!r}")
        depth = int(depth)
        widths = [min(filters * 2**i, filters * 8) for i in range(depth)]
        bias = norm != "batch"  # the reference: a conv bias unless batch norm follows (instance norm has no offset)
        # norm_affine=False only matters for instance norm (the reference's InstanceNorm2d(affine=False)).
        block = {"norm": norm, "norm_affine": False, "use_bias": bias}
        image = keras.Input((None, None, in_channels), name="image")
        x, skips = image, []
        for i, width in enumerate(widths):
            x = UNetDown(width, apply_norm=0 < i < depth - 1, name=f"down{i}", **block)(x)
            skips.append(x)
        for j, i in enumerate(range(depth - 2, -1, -1)):  # decoder j mirrors encoder block i
            x = UNetUp(widths[i], dropout=dropout if j < 3 else 0.0, name=f"up{j}", **block)(x, skips[i])
        x = UNetUp(out_channels, apply_norm=False, use_bias=True, name=f"up{depth - 1}")(x)
        out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
        super().__init__(image, out, config={"depth": depth, "filters": filters, "norm": norm, "dropout": dropout,
                                             "in_channels": in_channels, "out_channels": out_channels,
                                             "test_stats": test_stats}, **kwargs)

    @property
    def depth(self):
        return self._zoo_config["depth"]

    @property
    def in_channels(self):
        return self._zoo_config["in_channels"]

    @property
    def out_channels(self):
        return self._zoo_config["out_channels"]

    @property
    def multiple(self):
        """What the input's height and width must be divisible by: ``2**depth`` (256 for unet_256)."""
        return 2**self.depth

    @property
    def test_stats(self):
        return self._zoo_config["test_stats"]

    def translate(self, x, fit="pad", stats=None, train_mode=False):
        """Translate images as people have them: a path, PIL image, uint8/uint16/float array, single or batch,
        grey/RGB/RGBA, any size, or a list of same-size images (``zoo.images.as_batch``). Returns the same kind
        (PIL for paths and PIL, same dtype and layout for arrays) at the same size.

        Channels follow the model: a grey input is repeated to the 3 channels an RGB-input model wants, and an
        RGB-output model gives RGB back for it (a grey edge drawing in, a colour photo out; a 2-D array comes back
        ``(H, W, 3)``). Alpha does not go through the network; it is put back unchanged.

        ``fit``: how sizes the U-Net cannot take are handled (it needs sides divisible by ``multiple``):
        ``"pad"`` (default) reflect-pads the image to the next multiple and crops the output back, so every pixel
        is translated at its own scale (right for inputs of the training scale and for large images: the
        network is fully convolutional); ``"resize"`` resizes (bicubic, antialiased) to ``multiple`` x
        ``multiple`` (the training size: 256 for unet_256) and the output back to the input's size (right for
        small or oddly scaled drawings, at the cost of resampling).

        ``stats``: batch-norm statistics: ``"image"`` normalises each image by its own statistics (one image per
        call, dropout off: deterministic), ``"moving"`` uses the moving averages (Keras inference mode);
        default: the generator's ``test_stats``. ``train_mode=True``: the paper's test protocol exactly, each
        image alone in training mode (its own statistics and dropout on, so outputs vary a little from call to
        call). The moving statistics are left as they were in every mode.
        """
        from zoo import images

        if fit not in ("pad", "resize"):
            raise ValueError(f'fit must be "pad" or "resize", got {fit!r}')
        batch, spec = images.as_batch(x, channels=self.in_channels)
        size = batch.shape[1:3]
        if fit == "resize":
            batch = _resize(batch, (self.multiple, self.multiple))
        stats = _check_stats(self.test_stats if stats is None else stats)
        per_image = train_mode or stats == "image"
        fn = (lambda b: self._image_stats_call(b, dropout=train_mode)) if per_image else self.predict_on_batch
        out = images.apply_tiled(fn, batch, multiple=self.multiple, batch_size=1 if per_image else None)
        if fit == "resize":
            out = _resize(out, size)
        return images.restore(np.clip(out, -1.0, 1.0), _output_spec(spec, self.out_channels))

    def _image_stats_call(self, batch, dropout):
        """The generator in training mode (batch statistics) with the moving statistics restored afterwards and,
        unless ``dropout``, the dropout layers' rates at 0 for the call."""
        state = [v for layer in self._flatten_layers() if isinstance(layer, layers.BatchNormalization)
                 for v in (layer.moving_mean, layer.moving_variance)]
        drops = [] if dropout else [d for d in self._flatten_layers() if isinstance(d, layers.Dropout)]
        saved, rates = [ops.copy(v.value) for v in state], [d.rate for d in drops]
        try:
            for d in drops:
                d.rate = 0.0
            return ops.convert_to_numpy(self(batch, training=True))
        finally:
            for d, rate in zip(drops, rates):
                d.rate = rate
            for v, value in zip(state, saved):
                v.assign(value)


def _check_stats(stats):
    if stats not in ("moving", "image"):
        raise ValueError(f'stats must be "moving" (moving averages) or "image" (each image\'s own statistics), '
                         f'got {stats!r}')
    return stats


def _resize(batch, size):
    return ops.convert_to_numpy(ops.image.resize(batch, tuple(size), interpolation="bicubic", antialias=True))


def _output_spec(spec, channels):
    """What ``translate`` returns for ``spec``: the input's kind, layout and size, with colour when the model
    makes colour from grey (PIL/path results then become 8-bit RGB(A))."""
    if spec.kind == "list":
        return dataclasses.replace(spec, items=[_output_spec(s, channels) for s in spec.items])
    if channels != 3 or spec.colour != 1:
        return spec
    spec = dataclasses.replace(spec, colour=3, ndim=3 if spec.ndim == 2 else spec.ndim)
    if spec.kind in ("pil", "path"):
        spec = dataclasses.replace(spec, dtype="uint8", mode=None)
    return spec


# ---------------------------------------------------------------------------------------------------------
# Discriminator: PatchGAN
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class PatchDiscriminator(models.Discriminator):
    """(input, output) pair concatenated on channels, ``(N, H, W, channels)`` -> a map of real/fake logits
    (see the module docstring).

    Args:
        n_layers: stride-2 convolutions: 3 = the 70x70 PatchGAN (``(N, H/8 - 2, W/8 - 2, 1)`` logits), 1 = 16x16,
            5 = 286x286; 0 = the 1x1 PixelGAN (``(N, H, W, 1)``).
        filters: channels of the first convolution (64); layer n has ``min(2**n, 8) * filters``.
        norm: ``"batch"`` or ``"instance"`` (non-affine, with convolution biases), never on the first layer.
        channels: input channels: the input image's plus the output image's (3 + 3).

    Trainable parameters with 6 channels and batch norm: 2,768,705 (n_layers=3, the reference
    ``NLayerDiscriminator``); 9,024 (PixelGAN, the reference ``PixelDiscriminator``).
    """

    def __init__(self, n_layers=3, filters=64, norm="batch", channels=6, **kwargs):
        _check_norm(norm)
        if int(n_layers) != n_layers or n_layers < 0:
            raise ValueError(f"n_layers must be an integer >= 0 (3: 70x70 PatchGAN, 0: PixelGAN), got {n_layers!r}")
        n_layers = int(n_layers)
        bias = norm != "batch"
        pair = keras.Input((None, None, channels), name="pair")

        def conv(x, width, kernel, stride, use_bias, name, dtype=None):
            if kernel > 1:
                x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
            return layers.Conv2D(width, kernel, strides=stride, use_bias=use_bias, kernel_initializer=GAN_INIT,
                                 dtype=dtype, name=name)(x)

        def norm_act(x, name):
            x = make_norm(norm, affine=False, name=f"{name}_norm")(x)
            return layers.LeakyReLU(0.2, name=f"{name}_act")(x)

        if n_layers == 0:  # PixelGAN: 1x1 convolutions C64 - C128 - 1 (no bias on the last with batch norm)
            x = layers.LeakyReLU(0.2, name="conv0_act")(conv(pair, filters, 1, 1, True, "conv0"))
            x = norm_act(conv(x, 2 * filters, 1, 1, bias, "conv1"), "conv1")
            logits = conv(x, 1, 1, 1, bias, "logits", dtype="float32")
        else:
            x = layers.LeakyReLU(0.2, name="conv0_act")(conv(pair, filters, 4, 2, True, "conv0"))
            for n in range(1, n_layers + 1):  # the last of these has stride 1
                stride = 2 if n < n_layers else 1
                x = norm_act(conv(x, min(2**n, 8) * filters, 4, stride, bias, f"conv{n}"), f"conv{n}")
            logits = conv(x, 1, 4, 1, True, "logits", dtype="float32")
        super().__init__(pair, logits, config={"n_layers": n_layers, "filters": filters, "norm": norm,
                                               "channels": channels}, **kwargs)

    @property
    def receptive_field(self):
        """Input pixels (a side) each logit sees: 1, 16, 34, 70, 142, 286 for n_layers 0..5."""
        n = self._zoo_config["n_layers"]
        if n == 0:
            return 1
        r = 7  # the two stride-1 4x4 convolutions
        for _ in range(n):
            r = 2 * r + 2  # (r - 1) * 2 + 4 through a 4x4 stride-2 convolution
        return r


# ---------------------------------------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------------------------------------
def l1_loss(real, fake):
    """Mean absolute error per example (images in [-1, 1])."""
    return losses.per_example_mean(ops.abs(ops.cast(real, "float32") - ops.cast(fake, "float32")))


@keras.saving.register_keras_serializable("zoo")
class Pix2Pix(GAN):
    """The pix2pix trainer: ``zoo.GAN`` on ``(input, target)`` pairs with the conditional discriminator and L1.

    ``fit`` takes batches of ``(input, target)`` pairs (``dataset(...)``, or ``fit(inputs, targets)``), both in
    [-1, 1]. D sees ``concatenate([input, image])`` for the target and for G(input); its loss is halved. G
    minimises ``adversarial_weight * L_cGAN + l1_weight * L1``. The logs are the zoo's (``d_loss``, ``g_loss``,
    ``d_real``, ``d_fake``, ``d_acc``) and ``l1``, the unweighted mean absolute error of G(input) against the
    target (in [-1, 1] units: multiply by 127.5 for 8-bit levels).

    ``Pix2Pix(generator)`` (no discriminator) trains G on L1 alone, one G step per batch (the paper's L1
    ablation). Both networks run in training mode in the steps (see the module docstring on batch norm).
    """

    def __init__(self, generator, discriminator=None, **kwargs):
        super().__init__(generator, discriminator, **kwargs)

    def compile(self, d_optimizer=None, g_optimizer=None, loss="non_saturating", l1_weight=100.0,
                adversarial_weight=1.0, learning_rate=2e-4, **kwargs):
        """The paper's defaults: non-saturating cGAN loss, lambda = ``l1_weight`` = 100, Adam(``learning_rate``
        2e-4, beta_1 0.5, beta_2 0.999) for both networks. ``loss``: any ``zoo.losses`` name (``"lsgan"`` as
        CycleGAN). Other keyword arguments go to ``zoo.GAN.compile``."""
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be >= 0, got {l1_weight}")
        if not self.adversarial and not l1_weight:
            raise ValueError("without a discriminator G trains on L1 alone: l1_weight must be > 0")
        self.l1_weight = float(l1_weight)
        self.learning_rate = float(learning_rate)
        adam = lambda: keras.optimizers.Adam(self.learning_rate, beta_1=0.5, beta_2=0.999)
        g_optimizer = g_optimizer or adam()
        if self.adversarial:
            d_optimizer = d_optimizer or adam()
        super().compile(d_optimizer, g_optimizer, loss=loss, adversarial_weight=adversarial_weight, **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def unpack(self, data):
        """``(input, target)`` -> ``(real=target, condition=input)``."""
        if isinstance(data, (tuple, list)) and (len(data) == 2 or (len(data) == 3 and data[2] is None)):
            return ops.convert_to_tensor(data[1]), ops.convert_to_tensor(data[0])
        raise ValueError("Pix2Pix trains on (input, target) pairs: a dataset of (input, target) batches or "
                         f"fit(inputs, targets); got {type(data).__name__}")

    def generator_inputs(self, condition, n):
        return condition

    def discriminator_inputs(self, images, condition):
        return ops.concatenate([ops.cast(condition, images.dtype), images], axis=-1)

    def call(self, data, training=False):
        """G(input) for input images (or for the inputs of ``(input, target)`` pairs)."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        return self.generator(data, training=training)

    def discriminator_loss(self, real, condition, training=True):
        loss, logs = super().discriminator_loss(real, condition, training)
        return 0.5 * loss, logs

    def generator_extra_losses(self, real, fake, condition):
        return {"l1": self.l1_weight * l1_loss(real, fake)} if self.l1_weight else {}

    def generator_objective(self, fake_logits, real, fake, condition, training=True):
        loss, logs = super().generator_objective(fake_logits, real, fake, condition, training)
        logs["l1"] = ops.mean(l1_loss(real, fake))  # logged unweighted
        return loss, logs


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
class Config(NamedTuple):
    """The architecture of a preset: its networks' classes and constructor arguments (no discriminator: the
    generator is trained on L1 alone)."""

    generator: type
    generator_config: dict
    discriminator: type | None = None
    discriminator_config: dict | None = None


_UNET_256 = {"depth": 8, "filters": 32, "norm": "batch", "dropout": 0.5, "in_channels": 3, "out_channels": 3,
             "test_stats": "image"}
_PATCH_70 = {"n_layers": 3, "filters": 64, "norm": "batch", "channels": 6}

CONFIGS = {
    "edges2shoes_handbags": Config(UNetGenerator, dict(_UNET_256), PatchDiscriminator, dict(_PATCH_70)),
    "edges2shoes_handbags_l1": Config(UNetGenerator, dict(_UNET_256)),
}


# -- the common verbs --------------------------------------------------------------------------------------
Generator = UNetGenerator
Discriminator = PatchDiscriminator


def pretrained(name=None):
    """A shipped pix2pix generator, hash-verified, with ``translate``:
    ``pix2pix.pretrained().translate("edges.png")``."""
    from zoo import weights

    return weights.pretrained("pix2pix", name)


def build(name="edges2shoes_handbags", generator=None, **kwargs):
    """The ``Pix2Pix`` trainer of preset architecture ``name`` (``CONFIGS``) with a fresh discriminator (for
    the generator's input + output channels) and a fresh generator unless ``generator`` is given; keyword
    arguments go to ``Pix2Pix`` (``seed``, ``ema_decay``, ...). To fine-tune a shipped preset, ``finetune``."""
    if name not in CONFIGS:
        raise KeyError(f"unknown pix2pix architecture {name!r}; one of {sorted(CONFIGS)}")
    cfg = CONFIGS[name]
    g = generator if generator is not None else cfg.generator(**cfg.generator_config)
    d = None if cfg.discriminator is None else cfg.discriminator(
        **{**cfg.discriminator_config, "channels": g.in_channels + g.out_channels})
    return Pix2Pix(g, d, **kwargs)


def finetune(source, preset=None, steps=1000, adversarial=True, learning_rate=2e-4, direction="BtoA",
             batch_size=4, callbacks=None, verbose="auto", **data_kwargs):
    """Fine-tune a shipped preset on your own pairs and return the generator::

        model = pix2pix.finetune("my/AB_images", steps=2000)     # side-by-side AB files, edges on the right
        model.translate("drawing.png")

    ``source`` as for ``dataset`` (a folder of AB images or a pair of folders), with the paper's jitter.
    ``adversarial=True`` trains cGAN + 100 L1 against a fresh 70x70 PatchGAN (the preset's recipe, Adam
    ``learning_rate``); ``False`` trains on L1 alone. ``data_kwargs`` go to ``dataset``; ``callbacks`` and
    ``verbose`` to fit. The returned generator keeps the preset's ``test_stats``.
    """
    g = pretrained(preset)
    g.preset = None  # no longer the shipped weights
    gan = build("edges2shoes_handbags" if adversarial else "edges2shoes_handbags_l1", generator=g)
    gan.compile(learning_rate=learning_rate)
    data = dataset(source, direction=direction, batch_size=batch_size, repeat=True, **data_kwargs)
    gan.fit(data, epochs=1, steps_per_epoch=int(steps), callbacks=callbacks, verbose=verbose)
    return gan.generator


def dataset(source, direction="BtoA", jitter=True, batch_size=1, load_size=286, crop_size=256, **kwargs):
    """``(input, target)`` training pairs in [-1, 1], ``(batch_size, crop_size, crop_size, channels)`` each.

    ``source``: a folder of the pix2pix release's side-by-side "AB" images (A the left half, B the right;
    ``zoo.data.side_by_side``), or a pair ``(a_dir, b_dir)`` of folders whose files match by name
    (``zoo.data.paired_folders``). ``direction``: ``"AtoB"`` (input A, target B) or ``"BtoA"``. In
    edges2shoes / edges2handbags the photo is on the left and the edges on the right, so edges -> photo is
    ``"BtoA"`` (the default).

    ``jitter=True`` is the paper's random jitter (section 6.2): both images resized to ``load_size`` (286), one
    random ``crop_size`` (256) window and one random mirroring, the same for input and target. ``jitter=False``
    resizes to ``crop_size`` only (evaluation). Other keyword arguments (``shuffle``, ``seed``, ``repeat``,
    ``channels``, ``drop_remainder``, ``fit``) go to the ``zoo.data`` function.
    """
    import os

    from zoo import data

    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f'direction must be "AtoB" or "BtoA", got {direction!r}')
    if jitter and load_size < crop_size:
        raise ValueError(f"load_size ({load_size}) must be >= crop_size ({crop_size}): images are resized to "
                         f"load_size, then cropped")
    size = {"image_size": load_size, "crop": crop_size, "flip": True} if jitter else {"image_size": crop_size}
    if isinstance(source, (str, os.PathLike)):
        return data.side_by_side(source, direction=direction, batch_size=batch_size, **size, **kwargs)
    if isinstance(source, (tuple, list)) and len(source) == 2:
        a_dir, b_dir = source if direction == "AtoB" else source[::-1]
        return data.paired_folders(a_dir, b_dir, batch_size=batch_size, **size, **kwargs)
    raise TypeError(f"source must be a folder of side-by-side AB images or a pair (a_dir, b_dir) of folders, got "
                    f"{source!r}")


def demo(outdir):
    """The default preset on three shipped edge drawings (val edges of a shoe, a handbag and a boot, never
    trained on): edges | photo, one row each."""
    import os

    from zoo import images

    model = pretrained()
    rows = []
    for name in ("shoe", "handbag", "boot"):
        edges = images.asset(f"edges_{name}.png")
        rows += [np.asarray(images.load_image(edges).convert("RGB")), np.asarray(model.translate(edges))]
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "edges2photo.png")
    images.save_png(path, images.grid(np.stack(rows), ncols=2))
    return [(f"edges -> photo, {model.preset.name}: edge drawing | generated photo", path)]


# -- command line ----------------------------------------------------------------------------------------------
def add_commands(subparsers):
    from zoo.cli import add_image_verb

    verbs = subparsers.add_parser("pix2pix", help="paired image-to-image translation (e.g. edges -> photo)"
                                  ).add_subparsers(dest="verb", required=True)
    t = add_image_verb(verbs, "pix2pix", "translate", "translate an image file", CONFIGS, "edges2shoes_handbags",
                       lambda model, args: model.translate(args.input, fit=args.fit))
    t.add_argument("--fit", default="pad", choices=("pad", "resize"),
                   help="sizes the U-Net cannot take: reflect-pad (default) or resize to the training size")
