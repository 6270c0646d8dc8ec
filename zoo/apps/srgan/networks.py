"""Super-resolution networks: SRResNet and the SRGAN discriminator (Ledig et al. 2017), RRDBNet (ESRGAN, Wang et
al. 2018), and the VGG19 feature network of the content loss.

Images. Every network here takes and returns channels-last float images in [-1, 1]: the low-resolution (LR)
input and the high-resolution (HR) output alike. (The SRGAN paper feeds LR in [0, 1] and regresses HR in
[-1, 1]; ESRGAN works in [0, 1] throughout; one range for both ends keeps the zoo's convention that a
generator's images are in [-1, 1].) The generators are fully convolutional: any LR size ``h x w`` gives
``scale*h x scale*w``. Their last layer is linear, as in ESRGAN's official code (SRGAN's authors did not publish
theirs; ports end in tanh or clamp): a PSNR-oriented regression against targets in [-1, 1] trains best without a
saturating output, so outputs can overshoot [-1, 1] slightly and are clipped when turned into pixels
(``SRResNet(output_activation="tanh")`` bounds them instead).

SRResNet (Ledig et al. 2017, section 2.1 and figure 4): a 9x9 convolution to 64 feature maps with PReLU; B = 16
residual blocks, each conv3x3 - batch norm - PReLU - conv3x3 - batch norm plus the identity skip
(``zoo.layers.ResidualBlock``); a conv3x3 - batch norm whose output is added to the head's output (the global
skip); log2(scale) upsampling stages of a conv3x3 to 256 channels, a sub-pixel shuffle by 2 (Shi et al. 2016)
and PReLU; a 9x9 convolution to the image channels. PReLU slopes are learned per channel (shared over the
pixels), initial 0.25. Convolutions followed by batch norm have no bias (the norm's offset replaces it).

    Trainable parameters, x4 RGB: 1,548,547 (hand count in tests/test_srgan.py). Lornatang/SRGAN-PyTorch
    (model.py, ``Generator``) has this exact layer list, biases included, but its ``nn.PReLU()`` learns one
    slope per layer instead of one per channel: 19 PReLUs x 63 fewer slopes = 1,547,350. The GUIDE's
    twtygqyy/pytorch-SRResNet count (1,546,752) is this layer list without any convolution bias or PReLU
    slope (it uses LeakyReLU and instance norm).

SRGAN discriminator (section 2.1, figure 4): eight 3x3 convolutions with 64, 64, 128, 128, 256, 256, 512, 512
filters, stride 2 in every second one, LeakyReLU(0.2), batch norm on all but the first; then a dense layer of
1024 units, LeakyReLU and a dense logit (no sigmoid: the losses take logits). The paper flattens the 6x6x512
map of its 96x96 crops, which ties the dense layer to one crop size: ``SRGANDiscriminator(hr_size=96)`` builds
exactly that. ``hr_size=None`` (the default) global-average-pools the last map instead, so one discriminator
takes any crop size (and has 512x1024 instead of 18432x1024 dense weights). The same class with
``stages=5, strided_kernel=4, dense_units=100, hr_size=128`` is ESRGAN's discriminator (BasicSR's
``VGGStyleDiscriminator``, input 128: ten convolutions, 4x4 stride-2 ones, dense 100).

ESRGAN (Wang et al. 2018): the generator ``RRDBNet`` drops batch norm and replaces the residual blocks with 23
residual-in-residual dense blocks (RRDB): three dense blocks of five 3x3 convolutions (growth 32 channels,
LeakyReLU 0.2, each convolution seeing all earlier outputs of the block), each dense block's output scaled by
0.2 and added to its input, and the three together scaled by 0.2 and added to the RRDB's input; a trunk
convolution closes the global skip; upsampling is nearest-neighbour x2 followed by a convolution and LeakyReLU
per stage (one per factor of 2; BasicSR's x2 model instead pixel-unshuffles its input and keeps two stages);
then an HR convolution and the output convolution. Dense-block convolutions start from He-normal weights
scaled by 0.1 with zero biases (BasicSR's training code). At x4 RGB it has the official RRDB_PSNR_x4 model's
16,697,987 parameters (xinntao/ESRGAN ``RRDBNet_arch.py``, same layer list).

Real-ESRGAN's compact network (Wang et al. 2021; BasicSR ``SRVGGNetCompact``): ``SRVGGNetCompact``, 3x3
convolutions with PReLU at the LR size only, one pixel shuffle by the scale, plus the nearest-upsampled input;
the architecture of realesr-animevideov3 (16 convolutions, 621,424 parameters) and realesr-general-x4v3 (32).

Ported weights. ``unit_range=True`` networks compute on [0, 1] images inside, as the PyTorch originals do, while
their input and output stay the zoo's [-1, 1] (a rescaling at each end): ``checkpoints.from_checkpoint`` builds
them so, with ``trunk="prelu"`` (leftthomas/SRGAN's first generator) or ``unshuffle=True`` (BasicSR's x2 RRDBNet)
where the file says so.

VGG content network (section 2.2): ``VGGFeatures``, ``keras.applications.VGG19`` cut at ``block5_conv4``
(phi_5,4), its input converted from [-1, 1] RGB to what the Caffe weights expect (0-255, BGR, ImageNet mean
subtracted); the losses that use it are in ``trainer.py``.
"""
import math
import warnings

import keras
from keras import layers, ops

from zoo import models
from zoo.checks import positive_int, positive_number
from zoo.layers import LeakyReLU, PixelShuffle, PixelUnshuffle, ResidualBlock, batch_norm


def _upsampling_stages(scale):
    """log2(scale) for scale 2, 4, 8, ...; a clear error otherwise."""
    n = int(round(math.log2(scale))) if isinstance(scale, int) and scale >= 2 else 0
    if n < 1 or 2**n != scale:
        raise ValueError(f"scale must be a power of two >= 2 (2, 4, 8), got {scale!r}")
    return n


def _prelu(name=None):
    """PReLU with one learned slope per channel, shared over the pixels; initial slope 0.25 (He et al. 2015)."""
    return layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2], name=name)


def _to_unit_range(x):
    """``unit_range=True`` networks: the [-1, 1] input as the [0, 1] image the PyTorch originals compute on."""
    return layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(x)


def _from_unit_range(y):
    """``unit_range=True`` networks: their [0, 1] output back to the zoo's [-1, 1]."""
    return layers.Rescaling(2.0, offset=-1.0, dtype="float32", name="from_unit_range")(y)


def _extra(**options):
    """The options of a config that differ from their defaults (``option=(value, default)``): configs of
    the shipped presets stay as they were."""
    return {k: v for k, (v, default) in options.items() if v != default}


def _resampling(layer):
    """How much ``layer`` enlarges the feature grid (for ``widest_activation`` / ``receptive_radius``)."""
    if isinstance(layer, PixelShuffle):
        return layer.scale
    if isinstance(layer, layers.UpSampling2D) and not layer.name.startswith("base"):
        return layer.size[0]
    if isinstance(layer, PixelUnshuffle):
        return 1 / layer.scale
    return 1


class _SRGenerator(models.Generator):
    """A generator driven by an LR image (``latent_dim`` None) that upscales by ``scale``."""

    scale = models.config_value("scale")

    channels = models.config_value("channels")

    #: Largest tile context (LR pixels) ``upscale`` uses by default.
    MAX_OVERLAP = 48
    #: ``tile="auto"``: whole images while untiled inference needs at most this much memory (``inference_bytes``),
    #: above it windows of the largest side that stays within it (``auto_tile``), at most ``AUTO_TILE``.
    AUTO_TILE_BYTES = 1 << 30
    AUTO_TILE = 384
    #: ``inference_bytes`` = ``FIXED_BYTES`` + LR pixels x widest activation x 4 bytes x ``ALIVE_COPIES``: float32
    #: copies of the widest activation alive at once, and a fixed part. Measured on TensorFlow (CPU) as the growth
    #: of peak RSS of a warmed-up process over one untiled ``upscale`` (Dec 2026, 2-core CPU; bytes per LR pixel):
    #: SRResNet x4 14.3 K at 100x100, 18.0 K at 150x150 (widest 1024: 4.4 copies); RRDBNet x4 18.6 K at 100x100
    #: (widest 1024: 4.5); BasicSR's x2 RRDBNet (pixel-unshuffled input) 8.9 K at 100x100 (widest 256: 8.7);
    #: SRVGGNetCompact 2.2-2.4 K at 150-220 px (widest 64: 8.6-9.2); a 60x60 RRDBNet grew 91 MB, 26 K a pixel
    #: (the fixed part). Set with a margin: 5 copies where the widest activation is at HR, 10 where it is small.
    ALIVE_COPIES = 5
    FIXED_BYTES = 64 << 20

    def widest_activation(self):
        """Values per LR pixel of the widest activation: max over convolutions of filters x (HR/LR side)^2."""
        widest, factor = self.channels, 1
        for layer in self._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, layers.Conv2D):
                widest = max(widest, layer.filters * factor * factor)
            factor *= _resampling(layer)
        return int(math.ceil(widest))

    def inference_bytes(self, h, w):
        """Estimated memory of untiled inference on one ``h`` x ``w`` LR image (float32 activations; measured,
        see ``ALIVE_COPIES``), beyond what the process and the model already take."""
        return int(self.FIXED_BYTES + h * w * self.widest_activation() * 4 * self.ALIVE_COPIES)

    def auto_tile(self):
        """The largest window side (LR pixels, a multiple of ``multiple``, at most ``AUTO_TILE``) whose
        inference stays within ``AUTO_TILE_BYTES``: 221 for SRResNet and RRDBNet x4, ``AUTO_TILE`` for the
        compact network. The budget never makes it smaller than what leaves a core of 16 pixels inside the
        default overlap."""
        per_pixel = self.widest_activation() * 4 * self.ALIVE_COPIES
        side = int(math.sqrt(max(self.AUTO_TILE_BYTES - self.FIXED_BYTES, 0) / per_pixel))
        side = max(side, 2 * min(self.receptive_radius(), self.MAX_OVERLAP) + 16)
        m = self.multiple
        return max(min(self.AUTO_TILE, side) // m * m, m)

    def receptive_radius(self):
        """LR pixels of context one output pixel depends on (3x3 convs add 1, 9x9 add 4; convs after an x2
        upsampling add half as much): with at least this ``overlap``, tiled output equals untiled output."""
        radius, factor = 0.0, 1
        for layer in self._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, layers.Conv2D):
                radius += (max(layer.kernel_size) // 2) / factor
            factor *= _resampling(layer)
        return int(math.ceil(radius))

    @property
    def multiple(self):
        """Input sides must be divisible by this (a pixel-unshuffled input: BasicSR's x2 RRDBNet); ``upscale``
        pads by reflection and crops back."""
        return 1

    def upscale(self, x, scale=None, tile="auto", overlap=None, progress=None, outscale=None):
        """Super-resolve images as people have them: a path, PIL image, uint8/float array, single or batch,
        grey/RGB/RGBA, any size; returns the same kind at ``scale`` times the size (``Generator.map_images``).

        ``tile``: process in ``tile`` x ``tile`` LR windows so memory stays bounded for large images. ``"auto"``
        (default): whole images while untiled inference would take at most ``AUTO_TILE_BYTES`` (1 GiB beyond the
        process and the model; about 220 x 220 LR pixels for SRResNet and RRDBNet x4, ``inference_bytes``),
        windows of ``auto_tile()`` pixels (221 for those) above that; then the output
        is assembled window by window in its final dtype, so memory is the output plus a constant whatever the
        image size (``zoo.images.apply_tiled``); ``None``: never tile. The
        default ``overlap`` is the network's receptive radius (``receptive_radius()``) up to ``MAX_OVERLAP``:
        for SRResNet (radius 40) tiled output then equals untiled output; for RRDBNet (radius ~350) the context
        is capped and the cut between windows is feathered over half the overlap so no seam shows. ``scale`` is
        only checked: asking for a factor the model does not do is an error.

        ``outscale``: any output scale (2, 3, 3.5, ...), as Real-ESRGAN's ``--outscale``: the network's
        x``scale`` output is resized to ``round(outscale * H)`` x ``round(outscale * W)`` with Pillow's Lanczos
        filter (antialiased when it shrinks; alpha too), in the dtype returned. ``None`` = the network's scale.
        """
        if scale is not None and scale != self.scale:
            raise ValueError(f"this model upscales by x{self.scale}; scale={scale} is not supported "
                             f"(use a x{scale} model, or outscale={scale} to resize this model's output)")
        if outscale is not None:
            outscale = positive_number(outscale, "outscale")
            out = self.upscale(x, tile=tile, overlap=overlap, progress=progress)
            return out if outscale == self.scale else resize_images(out, outscale / self.scale)
        if isinstance(tile, str):
            if tile != "auto":
                raise ValueError(f'tile must be "auto", None or a positive int, got {tile!r}')
            tile = self._auto_tile
        radius = self.receptive_radius()
        if overlap is None:
            overlap = min(radius, self.MAX_OVERLAP)
        feather = overlap // 2 if (tile is not None and overlap < radius) else 0
        return self.map_images(x, scale=self.scale, tile=tile, overlap=overlap, feather=feather,
                               multiple=self.multiple, progress=progress)

    def _auto_tile(self, h, w):
        """``tile="auto"``: ``auto_tile()`` when untiled inference would need more than ``AUTO_TILE_BYTES``."""
        return self.auto_tile() if self.inference_bytes(h, w) > self.AUTO_TILE_BYTES else None


def resize_images(images, factor):
    """Resize what ``upscale`` returns by ``factor`` with Pillow's Lanczos filter, keeping its kind: a PIL image,
    a list, a NumPy array ``(H, W)``, ``(H, W, C)`` or ``(N, H, W, C)`` of uint8, uint16 or floats in [0, 1]
    (values clipped to the dtype's range after the filter's overshoot). New sides: ``max(1, round(factor *
    side))``."""
    import numpy as np
    from PIL import Image

    def size(h, w):
        return max(1, int(round(w * factor))), max(1, int(round(h * factor)))

    def one(a):  # (H, W, C) array -> resized, same dtype
        out = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(a[..., c], dtype=np.float32)).resize(
            size(*a.shape[:2]), Image.LANCZOS)) for c in range(a.shape[-1])], axis=-1)
        if a.dtype == np.uint8 or a.dtype == np.uint16:
            return np.clip(np.round(out), 0, np.iinfo(a.dtype).max).astype(a.dtype)
        return np.clip(out, 0.0, 1.0).astype(a.dtype)

    if isinstance(images, Image.Image):
        if images.mode.startswith("I;16"):  # 16-bit grey: through the uint16 array path
            return Image.fromarray(one(np.asarray(images).astype(np.uint16)[..., None])[..., 0])
        return images.resize(size(images.height, images.width), Image.LANCZOS)
    if isinstance(images, (list, tuple)):
        return type(images)(resize_images(i, factor) for i in images)
    a = np.asarray(images)
    if a.ndim == 2:
        return one(a[..., None])[..., 0]
    if a.ndim == 3:
        return one(a)
    return np.stack([one(i) for i in a])


# ---------------------------------------------------------------------------------------------------------
# SRResNet / SRGAN (Ledig et al. 2017)
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class SRResNet(_SRGenerator):
    """SRResNet / the SRGAN generator: LR ``(N, h, w, channels)`` -> SR ``(N, scale*h, scale*w, channels)``,
    both in [-1, 1] (see the module docstring for the architecture).

    Args:
        scale: 2, 4 or 8 (one pixel-shuffle x2 stage per factor of 2).
        blocks: residual blocks (16 in the paper).
        filters: feature maps of the trunk (64).
        channels: image channels (3 RGB; 1 grey).
        output_activation: ``None`` (linear, the default) or ``"tanh"``.
        trunk: the layer after the trunk convolution: ``"batch_norm"`` (the paper) or ``"prelu"`` (the trunk
            convolution then has a bias; leftthomas/SRGAN's 2018 generator, whose released x4 file
            ``from_checkpoint`` loads).
        unit_range: compute on [0, 1] images as PyTorch ports do (``from_checkpoint``): the [-1, 1] input is
            mapped to [0, 1] first; a linear output is taken as [0, 1] and mapped back to [-1, 1], a tanh output
            is used as it is (it equals the ports' ``(tanh + 1) / 2`` mapped to [-1, 1]).

    x4 RGB with the defaults: 1,548,547 trainable parameters. Kernels start He-normal (as Lornatang/SRGAN-PyTorch's
    ``kaiming_normal_``), biases zero.
    """

    def __init__(self, scale=4, blocks=16, filters=64, channels=3, output_activation=None, trunk="batch_norm",
                 unit_range=False, **kwargs):
        stages = _upsampling_stages(scale)
        if output_activation not in (None, "tanh"):
            raise ValueError(f"output_activation must be None or 'tanh', got {output_activation!r}")
        if trunk not in ("batch_norm", "prelu"):
            raise ValueError(f"trunk must be 'batch_norm' or 'prelu', got {trunk!r}")
        init = "he_normal"
        lr = keras.Input((None, None, channels), name="lr")
        head = layers.Conv2D(filters, 9, padding="same", kernel_initializer=init, name="head_conv")(
            _to_unit_range(lr) if unit_range else lr)
        head = _prelu("head_prelu")(head)
        x = head
        for i in range(blocks):
            x = ResidualBlock(filters, norm="batch", activation="prelu", kernel_initializer=init,
                              name=f"residual{i}")(x)
        x = layers.Conv2D(filters, 3, padding="same", use_bias=trunk == "prelu", kernel_initializer=init,
                          name="trunk_conv")(x)
        x = batch_norm(name="trunk_norm")(x) if trunk == "batch_norm" else _prelu("trunk_prelu")(x)
        x = layers.Add(name="global_skip")([head, x])
        for i in range(stages):
            x = layers.Conv2D(filters * 4, 3, padding="same", kernel_initializer=init, name=f"up{i}_conv")(x)
            x = PixelShuffle(2, name=f"up{i}_shuffle")(x)
            x = _prelu(f"up{i}_prelu")(x)
        sr = layers.Conv2D(channels, 9, padding="same", kernel_initializer=init, activation=output_activation,
                           dtype="float32", name="tail_conv")(x)
        if unit_range and output_activation is None:
            sr = _from_unit_range(sr)
        super().__init__(lr, sr, config=dict(scale=scale, blocks=blocks, filters=filters, channels=channels,
                                             output_activation=output_activation,
                                             **_extra(trunk=(trunk, "batch_norm"), unit_range=(unit_range, False))),
                         **kwargs)


@keras.saving.register_keras_serializable("zoo")
class SRGANDiscriminator(models.Discriminator):
    """HR image ``(N, H, W, channels)`` in [-1, 1] -> one real/fake logit per image.

    ``stages`` pairs of convolutions: a 3x3 stride-1 one (the very first without batch norm) and a
    ``strided_kernel`` stride-2 one, with ``filters * 2**i`` channels (at most ``8 * filters``), batch norm and
    LeakyReLU(0.2); then dense ``dense_units`` - LeakyReLU(0.2) - dense 1.

    Args:
        hr_size: ``None`` (default): global average pooling before the dense layers, so any crop size works.
            An int: the paper's flatten of the last map, for ``hr_size x hr_size`` crops only (the dense layer's
            size depends on it).
        channels, filters: image channels; channels of the first stage (64).
        stages: 4 = SRGAN's eight convolutions; 5 with ``strided_kernel=4, dense_units=100, hr_size=128`` =
            ESRGAN's (BasicSR's ``VGGStyleDiscriminator``).

    Trainable parameters, RGB: 5,213,569 with the defaults (pooled); 23,563,649 with ``hr_size=96`` (the
    paper's layout; Lornatang/SRGAN-PyTorch's ``Discriminator`` has the same layer list); ESRGAN's at 128:
    14,499,401 (BasicSR's ``VGGStyleDiscriminator(3, 64)``, same layer list).
    """

    def __init__(self, hr_size=None, channels=3, filters=64, stages=4, strided_kernel=3, dense_units=1024,
                 **kwargs):
        if hr_size is not None and (int(hr_size) != hr_size or hr_size < 1):
            raise ValueError(f"hr_size must be None (any crop size) or a positive int, got {hr_size!r}")
        if stages < 1:
            raise ValueError(f"stages must be >= 1, got {stages}")
        image = keras.Input((hr_size, hr_size, channels), name="hr")
        x = layers.Conv2D(filters, 3, padding="same", name="conv0_0")(image)
        x = LeakyReLU(0.2)(x)
        for i in range(stages):
            width = min(filters * 2**i, filters * 8)
            convs = [(3, 1), (strided_kernel, 2)] if i else [(strided_kernel, 2)]
            for kernel, stride in convs:
                x = layers.Conv2D(width, kernel, strides=stride, padding="same", use_bias=False,
                                  name=f"conv{i}_{stride - 1}")(x)
                x = batch_norm(name=f"bn{i}_{stride - 1}")(x)
                x = LeakyReLU(0.2)(x)
        x = layers.Flatten()(x) if hr_size else layers.GlobalAveragePooling2D()(x)
        x = LeakyReLU(0.2)(layers.Dense(dense_units, name="dense")(x))
        logit = layers.Dense(1, dtype="float32", name="logit")(x)
        super().__init__(image, logit, config=dict(hr_size=hr_size, channels=channels, filters=filters,
                                                   stages=stages, strided_kernel=strided_kernel,
                                                   dense_units=dense_units), **kwargs)


# ---------------------------------------------------------------------------------------------------------
# ESRGAN (Wang et al. 2018)
# ---------------------------------------------------------------------------------------------------------
def _rdb_init():
    """He-normal (fan in) scaled by 0.1: std 0.1 * sqrt(2 / fan_in), BasicSR's dense-block initialisation."""
    return keras.initializers.VarianceScaling(0.02, mode="fan_in", distribution="untruncated_normal")


def _dense_block(x, filters, growth, residual_scale, name):
    """Residual dense block: 5 convolutions, each on the concatenation of the input and all earlier outputs;
    ``x + residual_scale * conv5(...)``."""
    features = [x]
    for i in range(1, 5):
        inp = x if i == 1 else layers.Concatenate(name=f"{name}_cat{i}")(features)
        y = layers.Conv2D(growth, 3, padding="same", kernel_initializer=_rdb_init(), name=f"{name}_conv{i}")(inp)
        features.append(LeakyReLU(0.2, name=f"{name}_lrelu{i}")(y))
    y = layers.Concatenate(name=f"{name}_cat5")(features)
    y = layers.Conv2D(filters, 3, padding="same", kernel_initializer=_rdb_init(), name=f"{name}_conv5")(y)
    return layers.Add(name=f"{name}_add")([x, layers.Rescaling(residual_scale, name=f"{name}_scale")(y)])


def _rrdb(x, filters, growth, residual_scale, name):
    """Residual-in-residual dense block: three dense blocks, ``x + residual_scale * rdb3(rdb2(rdb1(x)))``."""
    y = x
    for i in range(1, 4):
        y = _dense_block(y, filters, growth, residual_scale, f"{name}_rdb{i}")
    return layers.Add(name=f"{name}_add")([x, layers.Rescaling(residual_scale, name=f"{name}_scale")(y)])


@keras.saving.register_keras_serializable("zoo")
class RRDBNet(_SRGenerator):
    """ESRGAN's generator: LR ``(N, h, w, channels)`` -> SR ``(N, scale*h, scale*w, channels)``, [-1, 1].

    Args:
        scale: 2, 4 or 8 (nearest-neighbour x2 + conv3x3 + LeakyReLU per factor of 2).
        blocks: RRDB blocks (23); filters: trunk channels (64); growth: dense-block growth channels (32).
        channels: image channels; residual_scale: beta of the dense and RRDB skips (0.2).

        unshuffle: BasicSR's x2 / x1 models (Real-ESRGAN's RealESRGAN_x2plus): the input is pixel-unshuffled by
            ``4 // scale`` and the two x2 stages of the x4 model follow; only for ``scale`` 1 or 2. Input sides
            must then be divisible by ``4 // scale`` (``multiple``; ``upscale`` pads).
        unit_range: compute on [0, 1] images as the official models do: the [-1, 1] input is mapped to [0, 1],
            the output from [0, 1] back to [-1, 1] (``from_checkpoint`` loads their files so).

    x4 RGB with the defaults: 16,697,987 parameters, the official RRDB_PSNR_x4 / RRDB_ESRGAN_x4 count
    (xinntao/ESRGAN ``RRDBNet(3, 3, 64, 23, gc=32)``).
    """

    def __init__(self, scale=4, blocks=23, filters=64, growth=32, channels=3, residual_scale=0.2, unshuffle=False,
                 unit_range=False, **kwargs):
        if unshuffle:
            if scale not in (1, 2):
                raise ValueError(f"unshuffle is BasicSR's x1 / x2 RRDBNet: scale must be 1 or 2, got {scale!r}")
            stages = 2
        else:
            stages = _upsampling_stages(scale)
        lr = keras.Input((None, None, channels), name="lr")
        x = _to_unit_range(lr) if unit_range else lr
        if unshuffle:
            x = PixelUnshuffle(4 // scale, name="unshuffle")(x)
        fea = layers.Conv2D(filters, 3, padding="same", name="conv_first")(x)
        x = fea
        for i in range(blocks):
            x = _rrdb(x, filters, growth, residual_scale, f"rrdb{i}")
        x = layers.Conv2D(filters, 3, padding="same", name="trunk_conv")(x)
        x = layers.Add(name="global_skip")([fea, x])
        for i in range(stages):
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}_nearest")(x)
            x = layers.Conv2D(filters, 3, padding="same", name=f"up{i}_conv")(x)
            x = LeakyReLU(0.2, name=f"up{i}_lrelu")(x)
        x = LeakyReLU(0.2, name="hr_lrelu")(layers.Conv2D(filters, 3, padding="same", name="hr_conv")(x))
        sr = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="conv_last")(x)
        if unit_range:
            sr = _from_unit_range(sr)
        super().__init__(lr, sr, config=dict(scale=scale, blocks=blocks, filters=filters, growth=growth,
                                             channels=channels, residual_scale=residual_scale,
                                             **_extra(unshuffle=(unshuffle, False), unit_range=(unit_range, False))),
                         **kwargs)

    @property
    def multiple(self):
        return 4 // self.scale if self._zoo_config.get("unshuffle") else 1

    @property
    def ALIVE_COPIES(self):  # noqa: N802 (the class attribute of _SRGenerator, per instance here)
        return 10 if self._zoo_config.get("unshuffle") else 5


# ---------------------------------------------------------------------------------------------------------
# Real-ESRGAN's compact network (Wang et al. 2021)
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class SRVGGNetCompact(_SRGenerator):
    """Real-ESRGAN's compact VGG-style network (BasicSR ``SRVGGNetCompact``), the architecture of its
    realesr-animevideov3 and realesr-general-x4v3 models: LR ``(N, h, w, channels)`` -> SR ``(N, scale*h,
    scale*w, channels)``, [-1, 1].

    A 3x3 convolution to ``filters`` channels and an activation, ``convs`` more 3x3 convolution + activation
    pairs, all at the LR size; a last 3x3 convolution to ``channels * scale**2`` and one pixel shuffle by
    ``scale``; the nearest-neighbour enlarged input is added, so the network learns the residual. No
    convolution runs at the HR size, which makes it fast.

    Args:
        scale: any integer >= 1 (one shuffle by ``scale``).
        filters: channels of the body (64); convs: body convolutions after the first (16 in
            realesr-animevideov3, 32 in realesr-general-x4v3).
        activation: ``"prelu"`` (one slope per channel, the released models), ``"relu"`` or ``"leaky_relu"``
            (slope 0.1, BasicSR's).
        channels: image channels.
        unit_range: compute on [0, 1] images as the released models do (input mapped from [-1, 1] to [0, 1],
            output back); ``from_checkpoint`` loads their files so.

    Parameters, x4 RGB, prelu: 621,424 with ``convs=16`` (realesr-animevideov3's 53 tensors), 1,214,320 with
    ``convs=32`` (realesr-general-x4v3).
    """

    ALIVE_COPIES = 10  # its widest activation (64 channels at LR) is small beside the rest (measured: 8.6-9.2)

    def __init__(self, scale=4, filters=64, convs=16, channels=3, activation="prelu", unit_range=False, **kwargs):
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(f"scale must be an integer >= 1, got {scale!r}")
        if activation not in ("prelu", "relu", "leaky_relu"):
            raise ValueError(f"activation must be 'prelu', 'relu' or 'leaky_relu', got {activation!r}")

        def act(name):
            if activation == "prelu":
                return _prelu(name)
            return layers.ReLU(name=name) if activation == "relu" else LeakyReLU(0.1, name=name)

        lr = keras.Input((None, None, channels), name="lr")
        x = _to_unit_range(lr) if unit_range else lr
        base = layers.UpSampling2D(scale, interpolation="nearest", name="base_nearest")(x)
        y = x
        for i in range(convs + 1):  # He init: with Keras' default (Glorot) 33 layers scale the signal by 1e-5
            y = act(f"act{i}")(layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal",
                                             name=f"conv{i}")(y))
        last = keras.initializers.VarianceScaling(0.02, "fan_in", "truncated_normal")  # a small initial residual
        y = layers.Conv2D(channels * scale * scale, 3, padding="same", kernel_initializer=last,
                          name=f"conv{convs + 1}")(y)
        y = PixelShuffle(scale, name="shuffle")(y)
        sr = layers.Add(dtype="float32", name="base_add")([y, base])
        if unit_range:
            sr = _from_unit_range(sr)
        super().__init__(lr, sr, config=dict(scale=scale, filters=filters, convs=convs, channels=channels,
                                             activation=activation, **_extra(unit_range=(unit_range, False))),
                         **kwargs)


@keras.saving.register_keras_serializable("zoo")
class AdaptiveCompact(_SRGenerator):
    """Two ``SRVGGNetCompact`` networks of one architecture, ``weak`` (trained on faintly degraded photos: keeps
    texture) and ``strong`` (trained on blurred, noisy, heavily compressed ones: removes it), blended per image by
    a small degradation estimator: ``sr = weak(lr) + a * (strong(lr) - weak(lr))``, ``a`` in [0, 1] the sigmoid of
    the estimator's score averaged over the image. Real-ESRGAN's realesr-general-x4v3 has the same two ends
    (its weak-denoise twin, blended by the user's ``--denoise_strength``); here the image sets the strength.

    The estimator: four 3x3 convolutions (``estimator_filters`` wide, then twice that) with leaky ReLU, a 1x1
    convolution to one score per position, its mean over the image's interior (``InteriorMean``), a sigmoid.
    Tiled ``upscale`` estimates ``a`` per window (``AUTO_TILE`` 384 LR pixels; whole images up to about 440 x 440
    LR pixels). ``denoise(x)``: the ``a`` of each image. The other arguments are ``SRVGGNetCompact``'s.
    """

    ALIVE_COPIES = 20  # two bodies at once

    def __init__(self, scale=4, filters=64, convs=32, channels=3, activation="prelu", estimator_filters=16,
                 **kwargs):
        estimator_filters = positive_int(estimator_filters, "estimator_filters")
        body = dict(scale=scale, filters=filters, convs=convs, channels=channels, activation=activation)
        lr = keras.Input((None, None, channels), name="lr")
        weak, strong = self.body(body, name="weak"), self.body(body, name="strong")
        a = layers.Reshape((1, 1, 1), name="a")(_degradation_estimator(channels, estimator_filters)(lr))
        w, st = weak(lr), strong(lr)
        sr = layers.Add(dtype="float32", name="blend")([w, layers.Multiply(name="a_times_gap")(
            [a, layers.Subtract(name="gap")([st, w])])])
        super().__init__(lr, sr, config=dict(body, estimator_filters=estimator_filters), **kwargs)

    @staticmethod
    def body(config, name=None):
        """A fresh compact network of an ``AdaptiveCompact`` config (its ``estimator_filters`` left out): what
        ``weak`` and ``strong`` are, trained on their own (``apps/srgan/train.py --body``)."""
        return SRVGGNetCompact(**{k: v for k, v in config.items() if k != "estimator_filters"}, name=name)

    @property
    def weak(self):
        return self.get_layer("weak")

    @property
    def strong(self):
        return self.get_layer("strong")

    @property
    def denoise_model(self):
        """The degradation estimator: LR ``(N, h, w, channels)`` in [-1, 1] -> ``a`` ``(N, 1)``."""
        return self.get_layer("estimator")

    def denoise(self, x):
        """The blend weight ``a`` (0 = the weak network, 1 = the strong one) the estimator gives each image of
        ``x`` (images as ``upscale`` takes them): float32 ``(N,)``."""
        from zoo import images

        batch, _ = images.as_batch(x, channels=self.channels)
        return keras.ops.convert_to_numpy(self.denoise_model(batch))[:, 0]

    def widest_activation(self):
        return self.strong.widest_activation()

    def receptive_radius(self):
        return self.strong.receptive_radius()


#: The estimator's 3x3 convolutions, as multiples of ``estimator_filters``. All of stride 1: strided ones sample
#: the image on a grid, and trained on crops whose JPEG 8x8 blocks always fell at one phase of that grid, the
#: estimator missed the blocks of images whose size put them at another (heavily degraded photos of odd sizes came
#: out at ``a`` = 0.04, even ones at 0.7).
ESTIMATOR_CONVS = (1, 2, 2, 2)


def _degradation_estimator(channels, filters):
    """LR ``(N, h, w, channels)`` in [-1, 1] -> ``(N, 1)`` in [0, 1]: how strongly the image is degraded."""
    lr = keras.Input((None, None, channels), name="lr")
    y = lr
    for i, width in enumerate(ESTIMATOR_CONVS):
        y = LeakyReLU(0.2, name=f"act{i}")(layers.Conv2D(width * filters, 3, padding="same", name=f"conv{i}")(y))
    score = layers.Conv2D(1, 1, name="score")(y)
    mean = InteriorMean(len(ESTIMATOR_CONVS), name="mean")(score)
    return keras.Model(lr, layers.Activation("sigmoid", dtype="float32", name="a")(mean), name="estimator")


@keras.saving.register_keras_serializable("zoo")
class InteriorMean(layers.Layer):
    """Score map ``(N, h, w, C)`` -> ``(N, C)``: its mean over the positions at least ``border`` from every edge,
    the ones whose receptive field never reached the zero padding of ``border`` "same"-padded stride-1 3x3
    convolutions (that padding is an edge the image does not have; on the estimator's small training crops the
    positions near it were a large share of the map). Maps too small to have such positions get the plain mean."""

    def __init__(self, border, **kwargs):
        super().__init__(**kwargs)
        self.border = int(border)

    def call(self, score):
        shape = ops.shape(score)
        rows, cols = ops.arange(shape[1]), ops.arange(shape[2])
        inside = ((rows >= self.border) & (rows < shape[1] - self.border))[:, None] & \
                 ((cols >= self.border) & (cols < shape[2] - self.border))[None, :]
        inside = ops.cast(inside, score.dtype)[None, :, :, None]
        count = ops.sum(inside)
        interior = ops.sum(score * inside, axis=(1, 2)) / ops.maximum(count, 1.0)
        return ops.where(count > 0, interior, ops.mean(score, axis=(1, 2)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return dict(super().get_config(), border=self.border)


# ---------------------------------------------------------------------------------------------------------
# VGG content loss
# ---------------------------------------------------------------------------------------------------------
#: ImageNet mean of the Caffe VGG models, BGR order, 0-255 (``keras.applications.vgg19.preprocess_input``).
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
VGG_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"


def load_vgg19(weights="imagenet", allow_random=False):
    """``keras.applications.VGG19(include_top=False)`` for any input size.

    ``weights="imagenet"`` downloads the ImageNet weights once and caches them (``~/.keras/models/``); a path
    loads that file; ``None`` gives random weights (tests). When the ImageNet weights cannot be had (offline,
    nothing cached) this raises a ``RuntimeError`` saying what to do, unless ``allow_random=True``, which warns
    and falls back to random weights (the content loss is then no perceptual loss: smoke runs only).
    """
    from keras import applications

    try:
        return applications.VGG19(include_top=False, weights=weights, input_shape=(None, None, 3))
    except Exception as e:  # keras.utils.get_file raises a bare Exception on network errors
        if weights != "imagenet":
            raise
        if allow_random:
            warnings.warn(f"VGG19 ImageNet weights unavailable ({e}); using random weights, so the content loss "
                          "is not a perceptual loss", RuntimeWarning, stacklevel=2)
            return applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
        raise RuntimeError(
            f"The VGG content loss needs VGG19's ImageNet weights, and keras.applications could not get them: "
            f"{e}. Connect to the internet once (Keras downloads {VGG_WEIGHTS_FILE} and caches it in "
            f"~/.keras/models/), or copy that file there, or pass weights='/path/to/{VGG_WEIGHTS_FILE}'. "
            f"To run without them (tests, smoke runs) pass weights=None or allow_random=True.") from e


@keras.saving.register_keras_serializable("zoo")
class VGGPreprocess(layers.Layer):
    """[-1, 1] RGB (or grey, repeated to RGB) -> the Caffe VGG input: 0-255, BGR, ImageNet mean subtracted
    (``keras.applications.vgg19.preprocess_input`` of ``(x + 1) * 127.5``)."""

    def call(self, x):
        x = (ops.cast(x, self.compute_dtype) + 1.0) * 127.5
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        x = ops.flip(x, axis=-1)
        return x - ops.cast(ops.convert_to_tensor(VGG_MEAN_BGR), x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (3,)


@keras.saving.register_keras_serializable("zoo")
class VGGFeatures(models.Network):
    """Fixed VGG19 feature maps of [-1, 1] images: the feature network of the content loss.

    Args:
        layer: the Keras VGG19 layer to stop at; ``"block5_conv4"`` is the papers' VGG54 (phi_5,4).
        before_activation: ``False`` = the layer's output, after its ReLU (SRGAN); ``True`` = the convolution's
            output before the ReLU (ESRGAN). Only for convolution layers.
        weights: ``"imagenet"`` (default; downloaded and cached by Keras), a path, or ``None`` (random: tests).
        allow_random: fall back to random weights with a warning instead of raising when ImageNet weights are
            unavailable.
        channels: 3, or 1 for grey images (repeated to RGB).

    Not trainable. The ``SRGAN`` trainer keeps it outside its own weights (checkpoints stay small; the
    ImageNet weights come from Keras's cache).
    """

    def __init__(self, layer="block5_conv4", before_activation=False, weights="imagenet", allow_random=False,
                 channels=3, **kwargs):
        vgg = load_vgg19(weights, allow_random)
        names = [l.name for l in vgg.layers[1:]]
        if layer not in names:
            raise ValueError(f"VGG19 has no layer {layer!r}; choose one of {names}")
        image = keras.Input((None, None, channels), name="image")
        x = VGGPreprocess(name="vgg_preprocess")(image)
        for l in vgg.layers[1:]:
            if l.name == layer and before_activation:
                if not isinstance(l, layers.Conv2D):
                    raise ValueError(f"before_activation needs a convolution layer, {layer!r} is not one")
                pre = layers.Conv2D(l.filters, l.kernel_size, padding=l.padding, name=f"{layer}_preact")
                pre.build(x.shape)
                pre.set_weights(l.get_weights())
                x = pre(x)
                break
            x = l(x)
            if l.name == layer:
                break
        super().__init__(image, x, config=dict(layer=layer, before_activation=before_activation, weights=weights,
                                               allow_random=allow_random, channels=channels), **kwargs)
        self.trainable = False
