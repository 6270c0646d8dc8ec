"""pix2pix networks (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks"):
the U-Net generator and the PatchGAN discriminator.

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

The presets' U-Net has half the paper's base width (13,608,259 parameters, a quarter of unet_256's 54.4M: a 54
MB weight file instead of 218 MB, for 2,000 training pairs; ``presets.py``); ``UNetGenerator()`` is the paper's.
"""
import threading
import weakref

import keras
import numpy as np
from keras import layers, ops

from zoo import models
from zoo import layers as zoo_layers
from zoo.layers import GAN_INIT, LeakyReLU, UNetDown, UNetUp, make_norm

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

    depth = models.config_value("depth")

    in_channels = models.config_value("in_channels")

    out_channels = models.config_value("out_channels")

    @property
    def multiple(self):
        """What the input's height and width must be divisible by: ``2**depth`` (256 for unet_256)."""
        return 2**self.depth

    test_stats = models.config_value("test_stats")

    def translate(self, x, fit="auto", stats=None, train_mode=False, side=None):
        """Translate images as people have them: a path, PIL image, uint8/uint16/float array, single or batch,
        grey/RGB/RGBA, any size, or a list of same-size images (``zoo.images.as_batch``). Returns the same kind
        (PIL for paths and PIL, same dtype and layout for arrays) at the same size.

        Channels follow the model: a grey input is repeated to the 3 channels an RGB-input model wants, and an
        RGB-output model gives RGB back for it (a grey edge drawing in, a colour photo out; a 2-D array comes back
        ``(H, W, 3)``). Alpha does not go through the network; it is put back unchanged.

        ``fit``: how sizes the U-Net cannot take are handled (it needs sides divisible by ``multiple``):
        ``"auto"`` (default) passes sizes it takes unchanged and resizes the others like ``"resize"``;
        ``"resize"`` resizes (bicubic, antialiased) to ``multiple`` x ``multiple`` (the training size: 256 for
        unet_256) and the output back to the input's size; ``"pad"`` reflect-pads to the next multiple and crops
        the output back (every pixel at its own scale, but the network paints ghost shapes into the mirrored
        border: on the 200 val drawings resized to 240x320, L1 0.163 / PSNR 11.77 dB padded against 0.119 /
        14.50 dB resized; ``apps/pix2pix/evaluate.py --fit-study``).

        ``stats``: batch-norm statistics: ``"image"`` normalises each image by its own statistics (the whole batch
        in one compiled call, dropout off: deterministic), ``"moving"`` uses the moving averages (Keras inference mode);
        default: the generator's ``test_stats``. ``train_mode=True``: the paper's test protocol exactly, each
        image alone in training mode (its own statistics and dropout on, so outputs vary a little from call to
        call). The moving statistics are left as they were in every mode.

        ``side``: ``"left"`` or ``"right"`` translates only that half of each image, for side-by-side AB files
        (the pix2pix datasets' own format; edges2shoes: photo left, edges right, so ``side="right"``); the
        result is the half's size. None (default): the whole image (``half``).
        """
        from zoo import images

        if fit not in ("auto", "pad", "resize"):
            raise ValueError(f'fit must be "auto", "pad" or "resize", got {fit!r}')
        if side is not None:
            x = half(x, side)
        batch, spec = images.as_batch(x, channels=self.in_channels)
        size = batch.shape[1:3]
        if fit == "auto":
            fit = "pad" if size[0] % self.multiple == 0 and size[1] % self.multiple == 0 else "resize"
        if fit == "resize":
            batch = images.resize(batch, (self.multiple, self.multiple))
        stats = _check_stats(self.test_stats if stats is None else stats)
        per_image = train_mode or stats == "image"
        fn = (lambda b: self._image_stats_call(b, dropout=train_mode)) if per_image else self.predict_on_batch
        out = images.apply_tiled(fn, batch, multiple=self.multiple, batch_size=1 if train_mode else None)
        if fit == "resize":
            out = images.resize(out, size)
        return images.restore(np.clip(out, -1.0, 1.0), images.output_spec(spec, self.out_channels))

    def export_graph(self):
        """``Generator.export_graph`` with the test statistics of ``test_stats``: for ``"image"`` (the shipped
        presets) each image of the batch normalised by its own statistics, without dropout (``translate``'s
        default); sides divisible by ``multiple``."""
        if self.test_stats == "image":
            return models.unit_graph(image_stats_twin(self))
        return super().export_graph()

    def _image_stats_call(self, batch, dropout):
        """The generator with each image's own batch-norm statistics, computed statelessly: no weight or moving
        statistic of the model changes, so concurrent calls from several threads give the sequential results.

        Without ``dropout``: one compiled call for the whole batch (``zoo.backend.inference_function`` of a twin
        whose batch norms are ``ImageStatsNormalization``), fed this model's current variables (matched by path).
        With it (the paper's protocol): the model itself in training mode on one image at a time; only the dropout
        seeds advance."""
        values = {v.path: v.value for v in self.variables}
        if not dropout:
            net, fn = _image_stats_runner(self)
            return ops.convert_to_numpy(fn([values[v.path] for v in net.trainable_variables],
                                           [values[v.path] for v in net.non_trainable_variables], batch))
        out, state = self.stateless_call([values[v.path] for v in self.trainable_variables],
                                         [values[v.path] for v in self.non_trainable_variables], batch, training=True)
        for v, value in zip(self.non_trainable_variables, state):  # fresh dropout masks next call
            if v.path.endswith("seed_generator_state"):
                v.assign(value)
        return ops.convert_to_numpy(out)


_RUNNERS, _RUNNERS_LOCK = weakref.WeakKeyDictionary(), threading.Lock()


def _image_stats_runner(generator):
    """``(twin, fn)`` for ``generator``, built once per generator and kept outside it (it adds nothing to its
    variables): the image-statistics twin's structure (its own weights unused) and its compiled stateless call."""
    from zoo import backend

    with _RUNNERS_LOCK:
        if generator not in _RUNNERS:
            net = _image_stats_net(generator, name=f"{generator.name}_image_stats")
            _RUNNERS[generator] = (net, backend.inference_function(net))
        return _RUNNERS[generator]


def _without_dropout(generator, **kwargs):
    """A new network of ``generator``'s config with dropout 0 (fresh weights)."""
    config = {k: v for k, v in generator.get_config().items() if k != "name"}
    return type(generator)(**dict(config, dropout=0.0), **kwargs)


def _image_stats_net(generator, **kwargs):
    """``_without_dropout`` with every batch norm an ``ImageStatsNormalization`` (fresh weights)."""
    twin = _without_dropout(generator, **kwargs)
    for layer in twin._flatten_layers():
        if type(layer) is layers.BatchNormalization:
            layer.__class__ = zoo_layers.ImageStatsNormalization
    return twin


def image_stats_twin(generator):
    """A new network of ``generator``'s architecture, without dropout, holding copies of its weights, whose batch
    norms normalise each image by its own statistics (``zoo.layers.ImageStatsNormalization``): the paper's
    test-time normalisation as a stateless graph that takes a batch (``export_graph``)."""
    twin = _image_stats_net(generator, name=f"{generator.name}_image_stats")
    values = {v.path: v for v in generator.variables}
    for v in twin.variables:
        v.assign(values[v.path])
    return twin


def half(x, side):
    """The ``side`` (``"left"`` / ``"right"``) half of side-by-side AB images, of the kind given: a path or PIL
    image gives a PIL image, an array ``(H, W[, C])`` or ``(N, H, W, C)`` an array, a list a list. An odd width
    drops its middle column."""
    import os

    from PIL import Image

    from zoo import images

    if side not in ("left", "right"):
        raise ValueError(f'side must be "left" or "right" (or None: the whole image), got {side!r}')
    if isinstance(x, (list, tuple)):
        return [half(item, side) for item in x]
    if isinstance(x, (str, os.PathLike)):
        x = images.load_image(x)
    if isinstance(x, Image.Image):
        w, h = x.size
        if w < 2:
            raise ValueError(f"an image {w} pixel wide has no halves")
        return x.crop((0, 0, w // 2, h) if side == "left" else (w - w // 2, 0, w, h))
    a = np.asarray(x)
    if a.ndim not in (2, 3, 4):
        raise ValueError(f"side= needs images shaped (H, W), (H, W, C) or (N, H, W, C), got {a.shape}")
    axis = 2 if a.ndim == 4 else 1
    w = a.shape[axis]
    if w < 2:
        raise ValueError(f"an image {w} pixel wide has no halves")
    keep = slice(0, w // 2) if side == "left" else slice(w - w // 2, w)
    return a[(slice(None),) * axis + (keep,)]


def _check_stats(stats):
    if stats not in ("moving", "image"):
        raise ValueError(f'stats must be "moving" (moving averages) or "image" (each image\'s own statistics), '
                         f'got {stats!r}')
    return stats


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
            return LeakyReLU(0.2, name=f"{name}_act")(x)

        if n_layers == 0:  # PixelGAN: 1x1 convolutions C64 - C128 - 1 (no bias on the last with batch norm)
            x = LeakyReLU(0.2, name="conv0_act")(conv(pair, filters, 1, 1, True, "conv0"))
            x = norm_act(conv(x, 2 * filters, 1, 1, bias, "conv1"), "conv1")
            logits = conv(x, 1, 1, 1, bias, "logits", dtype="float32")
        else:
            x = LeakyReLU(0.2, name="conv0_act")(conv(pair, filters, 4, 2, True, "conv0"))
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
