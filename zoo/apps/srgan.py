"""Single-image super-resolution: SRResNet and SRGAN (Ledig et al. 2017), ESRGAN (Wang et al. 2018).

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

ESRGAN (Wang et al. 2018): the generator ``RRDBNet`` drops batch norm and replaces the residual blocks with 23
residual-in-residual dense blocks (RRDB): three dense blocks of five 3x3 convolutions (growth 32 channels,
LeakyReLU 0.2, each convolution seeing all earlier outputs of the block), each dense block's output scaled by
0.2 and added to its input, and the three together scaled by 0.2 and added to the RRDB's input; a trunk
convolution closes the global skip; upsampling is nearest-neighbour x2 followed by a convolution and LeakyReLU
per stage (one per factor of 2; BasicSR's x2 model instead pixel-unshuffles its input and keeps two stages);
then an HR convolution and the output convolution. Dense-block convolutions start from He-normal weights
scaled by 0.1 with zero biases (BasicSR's training code). At x4 RGB it has the official RRDB_PSNR_x4 model's
16,697,987 parameters (xinntao/ESRGAN ``RRDBNet_arch.py``, same layer list). The discriminator is relativistic
average (RaGAN, Jolicoeur-Martineau 2018): D_Ra(x_r, x_f) = sigmoid(C(x_r) - E[C(x_f)]), with
``ragan_d``/``ragan_g`` (the BCE form, the two terms averaged as the official code). ``ESRGAN`` trains the
generator on ``1e-2 * L1 + 1 * perceptual (VGG54 before activation, L1) + 5e-3 * RaGAN`` (section 4.1).

``CONFIGS`` lists the presets' architectures: ``srresnet_x4``, ``srgan_x4``, ``rrdb_psnr_x4``, ``esrgan_x4``.
"""
import math
import warnings
from typing import NamedTuple, Optional

import keras
from keras import layers, ops

from zoo import losses, models
from zoo.gan import GAN
from zoo.layers import PixelShuffle, ResidualBlock, batch_norm


def _upsampling_stages(scale):
    """log2(scale) for scale 2, 4, 8, ...; a clear error otherwise."""
    n = int(round(math.log2(scale))) if isinstance(scale, int) and scale >= 2 else 0
    if n < 1 or 2**n != scale:
        raise ValueError(f"scale must be a power of two >= 2 (2, 4, 8), got {scale!r}")
    return n


def _prelu(name=None):
    """PReLU with one learned slope per channel, shared over the pixels; initial slope 0.25 (He et al. 2015)."""
    return layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2], name=name)


class _SRGenerator(models.Generator):
    """A generator driven by an LR image (``latent_dim`` None) that upscales by ``scale``."""

    @property
    def scale(self):
        return self._zoo_config["scale"]

    @property
    def channels(self):
        return self._zoo_config["channels"]

    #: Largest tile context (LR pixels) ``upscale`` uses by default.
    MAX_OVERLAP = 48
    #: ``tile="auto"``: images of more LR pixels than this (about 550 x 550) go in ``AUTO_TILE`` windows.
    AUTO_TILE_PIXELS = 300_000
    AUTO_TILE = 384

    def receptive_radius(self):
        """LR pixels of context one output pixel depends on (3x3 convs add 1, 9x9 add 4; convs after an x2
        upsampling add half as much): with at least this ``overlap``, tiled output equals untiled output."""
        radius, factor = 0.0, 1
        for layer in self._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, layers.Conv2D):
                radius += (max(layer.kernel_size) // 2) / factor
            if isinstance(layer, (PixelShuffle, layers.UpSampling2D)):
                factor *= 2
        return int(math.ceil(radius))

    def upscale(self, x, scale=None, tile="auto", overlap=None, progress=None):
        """Super-resolve images as people have them: a path, PIL image, uint8/float array, single or batch,
        grey/RGB/RGBA, any size; returns the same kind at ``scale`` times the size (``Generator.map_images``).

        ``tile``: process in ``tile`` x ``tile`` LR windows so memory stays bounded for large images. ``"auto"``
        (default): whole images up to ``AUTO_TILE_PIXELS`` LR pixels, ``AUTO_TILE`` windows above that (a
        1080p output, 270 x 480 LR, runs whole; 4K output in 384 x 384 windows); ``None``: never tile. The
        default ``overlap`` is the network's receptive radius (``receptive_radius()``) up to ``MAX_OVERLAP``:
        for SRResNet (radius 40) tiled output then equals untiled output; for RRDBNet (radius ~350) the context
        is capped and the cut between windows is feathered over half the overlap so no seam shows. ``scale`` is
        only checked: asking for a factor the model does not do is an error.
        """
        if scale is not None and scale != self.scale:
            raise ValueError(f"this model upscales by x{self.scale}; scale={scale} is not supported "
                             f"(use a x{scale} model)")
        if isinstance(tile, str):
            if tile != "auto":
                raise ValueError(f'tile must be "auto", None or a positive int, got {tile!r}')
            tile = self._auto_tile
        radius = self.receptive_radius()
        if overlap is None:
            overlap = min(radius, self.MAX_OVERLAP)
        feather = overlap // 2 if (tile is not None and overlap < radius) else 0
        return self.map_images(x, scale=self.scale, tile=tile, overlap=overlap, feather=feather,
                               progress=progress)

    def _auto_tile(self, h, w):
        """``tile="auto"``: ``AUTO_TILE`` for images of more than ``AUTO_TILE_PIXELS`` LR pixels, else None."""
        return self.AUTO_TILE if h * w > self.AUTO_TILE_PIXELS else None


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

    x4 RGB with the defaults: 1,548,547 trainable parameters. Kernels start He-normal (as Lornatang/SRGAN-PyTorch's
    ``kaiming_normal_``), biases zero.
    """

    def __init__(self, scale=4, blocks=16, filters=64, channels=3, output_activation=None, **kwargs):
        stages = _upsampling_stages(scale)
        if output_activation not in (None, "tanh"):
            raise ValueError(f"output_activation must be None or 'tanh', got {output_activation!r}")
        init = "he_normal"
        lr = keras.Input((None, None, channels), name="lr")
        head = layers.Conv2D(filters, 9, padding="same", kernel_initializer=init, name="head_conv")(lr)
        head = _prelu("head_prelu")(head)
        x = head
        for i in range(blocks):
            x = ResidualBlock(filters, norm="batch", activation="prelu", kernel_initializer=init,
                              name=f"residual{i}")(x)
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=init, name="trunk_conv")(x)
        x = batch_norm(name="trunk_norm")(x)
        x = layers.Add(name="global_skip")([head, x])
        for i in range(stages):
            x = layers.Conv2D(filters * 4, 3, padding="same", kernel_initializer=init, name=f"up{i}_conv")(x)
            x = PixelShuffle(2, name=f"up{i}_shuffle")(x)
            x = _prelu(f"up{i}_prelu")(x)
        sr = layers.Conv2D(channels, 9, padding="same", kernel_initializer=init, activation=output_activation,
                           dtype="float32", name="tail_conv")(x)
        super().__init__(lr, sr, config=dict(scale=scale, blocks=blocks, filters=filters, channels=channels,
                                             output_activation=output_activation), **kwargs)


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
        x = layers.LeakyReLU(0.2)(x)
        for i in range(stages):
            width = min(filters * 2**i, filters * 8)
            convs = [(3, 1), (strided_kernel, 2)] if i else [(strided_kernel, 2)]
            for kernel, stride in convs:
                x = layers.Conv2D(width, kernel, strides=stride, padding="same", use_bias=False,
                                  name=f"conv{i}_{stride - 1}")(x)
                x = batch_norm(name=f"bn{i}_{stride - 1}")(x)
                x = layers.LeakyReLU(0.2)(x)
        x = layers.Flatten()(x) if hr_size else layers.GlobalAveragePooling2D()(x)
        x = layers.LeakyReLU(0.2)(layers.Dense(dense_units, name="dense")(x))
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
        features.append(layers.LeakyReLU(0.2, name=f"{name}_lrelu{i}")(y))
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

    x4 RGB with the defaults: 16,697,987 parameters, the official RRDB_PSNR_x4 / RRDB_ESRGAN_x4 count
    (xinntao/ESRGAN ``RRDBNet(3, 3, 64, 23, gc=32)``). The official models work on [0, 1] images: to port their
    weights, feed ``(x + 1) / 2`` and map the output back with ``2 * y - 1``.
    """

    def __init__(self, scale=4, blocks=23, filters=64, growth=32, channels=3, residual_scale=0.2, **kwargs):
        stages = _upsampling_stages(scale)
        lr = keras.Input((None, None, channels), name="lr")
        fea = layers.Conv2D(filters, 3, padding="same", name="conv_first")(lr)
        x = fea
        for i in range(blocks):
            x = _rrdb(x, filters, growth, residual_scale, f"rrdb{i}")
        x = layers.Conv2D(filters, 3, padding="same", name="trunk_conv")(x)
        x = layers.Add(name="global_skip")([fea, x])
        for i in range(stages):
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}_nearest")(x)
            x = layers.Conv2D(filters, 3, padding="same", name=f"up{i}_conv")(x)
            x = layers.LeakyReLU(0.2, name=f"up{i}_lrelu")(x)
        x = layers.LeakyReLU(0.2, name="hr_lrelu")(layers.Conv2D(filters, 3, padding="same", name="hr_conv")(x))
        sr = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="conv_last")(x)
        super().__init__(lr, sr, config=dict(scale=scale, blocks=blocks, filters=filters, growth=growth,
                                             channels=channels, residual_scale=residual_scale), **kwargs)


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
        adam = lambda: keras.optimizers.Adam(self.learning_rate, beta_1=0.9, beta_2=0.999)
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

    def test_step(self, data):
        """Validation (``evaluate``, ``fit(validation_data=...)``): G in inference mode (batch-norm moving
        statistics, left unchanged) on the pixel and content terms, and ``psnr_rgb``, the PSNR of the [-1, 1]
        RGB images (not the benchmarks' Y-channel PSNR). No adversarial term: D is not called."""
        real, condition = self.unpack(data)
        fake = self.generator(self.generator_inputs(condition, ops.shape(real)[0]), training=False)
        loss, logs = self.generator_objective(None, real, fake, condition, training=False)
        mse = pixel_loss(real, fake, "mse")
        psnr = 10.0 * ops.log(4.0 / ops.maximum(mse, 1e-10)) / math.log(10.0)
        return {"g_loss": ops.mean(loss), **logs, "psnr_rgb": ops.mean(psnr)}


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


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
class Config(NamedTuple):
    """The architecture of a preset: its networks' classes and constructor arguments, and its trainer."""

    generator: type
    generator_config: dict
    trainer: type
    discriminator: Optional[type] = None
    discriminator_config: Optional[dict] = None
    content: Optional[dict] = None  # VGGFeatures arguments (weights aside); None = no content loss


_SRRESNET_X4 = dict(scale=4, blocks=16, filters=64, channels=3)
_RRDB_X4 = dict(scale=4, blocks=23, filters=64, growth=32, channels=3)

# Architectures of the presets. The discriminators are the papers' (flattened, for 96x96 and 128x128 HR
# crops); to fine-tune on other crops pass hr_size=<crop> or hr_size=None (pooled, any size).
CONFIGS = {
    "srresnet_x4": Config(SRResNet, dict(_SRRESNET_X4), SRGAN),
    "srgan_x4": Config(SRResNet, dict(_SRRESNET_X4), SRGAN, SRGANDiscriminator,
                       dict(hr_size=96, channels=3, filters=64, stages=4, strided_kernel=3, dense_units=1024),
                       dict(layer="block5_conv4", before_activation=False)),
    "rrdb_psnr_x4": Config(RRDBNet, dict(_RRDB_X4), ESRGAN),
    "esrgan_x4": Config(RRDBNet, dict(_RRDB_X4), ESRGAN, SRGANDiscriminator,
                        dict(hr_size=128, channels=3, filters=64, stages=5, strided_kernel=4, dense_units=100),
                        dict(layer="block5_conv4", before_activation=True)),
}


# -- the common verbs --------------------------------------------------------------------------------------
Generator = SRResNet
Discriminator = SRGANDiscriminator



def pretrained(name=None):
    """A shipped super-resolution generator, hash-verified, with ``upscale``:
    ``srgan.pretrained().upscale("photo.png")``."""
    from zoo import weights

    return weights.pretrained("srgan", name)


def build(name="srgan_x4", hr_crop=None, content=True, content_weights="imagenet", allow_random_vgg=False,
          generator=None, **kwargs):
    """The trainer of preset architecture ``name`` (``CONFIGS``) with fresh networks: for the GAN phase, its
    discriminator (sized for ``hr_crop``; None = the paper's crop) and VGG content network.

    ``content=False`` leaves the VGG network out: the pixel loss is then the content loss (the paper's
    "SRGAN-MSE"; no ImageNet weights needed). ``generator``: start from this generator (e.g. ``pretrained()``)
    instead of a fresh one; ``finetune`` does this in one call. Other keyword arguments go to the trainer.
    """
    cfg = CONFIGS[name]
    d = None
    if cfg.discriminator is not None:
        d_cfg = dict(cfg.discriminator_config, **({} if hr_crop is None else {"hr_size": hr_crop}))
        d = cfg.discriminator(**d_cfg)
    features = None
    if cfg.content is not None and content:
        features = VGGFeatures(**cfg.content, weights=content_weights, allow_random=allow_random_vgg)
    if generator is None:
        generator = cfg.generator(**cfg.generator_config)
    return cfg.trainer(generator, d, content=features, **kwargs)


def finetune(source, preset=None, steps=1000, adversarial=False, content=True, learning_rate=None, hr_crop=96,
             batch_size=16, callbacks=None, verbose="auto", **data_kwargs):
    """Fine-tune a shipped preset on your own images (a folder or a TFDS name) and return the generator::

        model = srgan.finetune("my/photos", steps=2000)
        model.upscale("photo.png")

    ``adversarial=False`` continues the PSNR-oriented phase (pixel loss only); ``True`` runs the GAN phase with
    a fresh discriminator for ``hr_crop`` crops and the VGG54 content loss (``content=False`` for SRGAN-MSE: no
    ImageNet weights needed). The trainer's compile defaults apply (``learning_rate``
    overrides). ``data_kwargs`` go to ``dataset`` (``zoo.data.sr_pairs``); ``callbacks`` and ``verbose`` to fit.
    """
    g = pretrained(preset)
    g.preset = None  # no longer the shipped weights
    arch = next((k for k, c in CONFIGS.items() if c.generator is type(g) and (c.discriminator is not None) ==
                 adversarial and all(g.get_config().get(a) == v for a, v in c.generator_config.items())), None)
    if arch is None:
        raise ValueError(f"no {'GAN' if adversarial else 'PSNR-oriented'} recipe in CONFIGS for this generator")
    gan = build(arch, hr_crop=hr_crop, content=content, generator=g)
    gan.compile(learning_rate=learning_rate)
    data = dataset(source, scale=g.scale, hr_crop=hr_crop, batch_size=batch_size, channels=g.channels,
                   repeat=True, **data_kwargs)
    gan.fit(data, epochs=1, steps_per_epoch=int(steps), callbacks=callbacks, verbose=verbose)
    return gan.generator


def dataset(source, scale=4, hr_crop=96, batch_size=16, **kwargs):
    """``(lr, hr)`` training pairs in [-1, 1] from an image folder or a TFDS name (``"div2k/bicubic_x4"``):
    random HR crops, flips and 90-degree rotations, LR by MATLAB-style bicubic downscaling
    (``zoo.data.sr_pairs``, which lists the options)."""
    from zoo import data

    return data.sr_pairs(source, scale=scale, hr_crop=hr_crop, batch_size=batch_size, **kwargs)


def demo(outdir):
    """The default preset on a shipped LR image (64x64 crop of a BSD training photo, MATLAB-bicubic x4
    downscaled): nearest / bicubic / the model side by side at 256x256."""
    import os

    import numpy as np
    from PIL import Image

    from zoo import images

    lr = np.asarray(Image.open(images.asset("starfish_lr.png")).convert("RGB"))
    model = pretrained()
    size = (lr.shape[1] * model.scale, lr.shape[0] * model.scale)
    panels = [np.asarray(Image.fromarray(lr).resize(size, m)) for m in (Image.NEAREST, Image.BICUBIC)]
    panels.append(model.upscale(lr))
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "upscale.png")
    images.save_png(path, images.grid(np.stack(panels), ncols=3))
    return [(f"x{model.scale} super-resolution of a 64x64 image: nearest, bicubic, {model.preset.name}", path)]


# -- command line ----------------------------------------------------------------------------------------------
def add_commands(subparsers):
    from zoo.cli import Progress, add_image_verb

    verbs = subparsers.add_parser("srgan", help="super-resolution (SRResNet / SRGAN / ESRGAN)").add_subparsers(
        dest="verb", required=True)
    u = add_image_verb(verbs, "srgan", "upscale", "upscale an image file", CONFIGS, "srresnet_x4",
                       lambda model, args: model.upscale(args.input, tile=args.tile or "auto", progress=Progress()))
    u.add_argument("--tile", type=int, default=None, help="tile size in LR pixels (bounded memory; default: "
                   f"whole images up to {_SRGenerator.AUTO_TILE_PIXELS} LR pixels, {_SRGenerator.AUTO_TILE} above)")
