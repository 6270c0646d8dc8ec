"""CycleGAN networks (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
Networks"), section 4 and appendix 7.2: the ResNet generator, the pair of generators a preset ships, and the
70x70 PatchGAN discriminator (pix2pix's, with instance norm).

Images. Channels-last float images in [-1, 1]; the generator's output ends in tanh.

Generator (Johnson et al. 2016's network, appendix 7.2): ``c7s1-64, d128, d256, R256 x n_blocks, u128, u64,
c7s1-3``: a 7x7 convolution after a 3-pixel reflection padding; two 3x3 stride-2 convolutions (zero padding);
``n_blocks`` residual blocks of two 3x3 convolutions, each after a 1-pixel reflection padding
(``zoo.layers.ResidualBlock(padding="reflect")``); two 3x3 stride-2 transposed convolutions; a 7x7 convolution to
the output channels after a reflection padding, then tanh. Every convolution but the last is followed by instance
norm (non-affine, PyTorch's ``InstanceNorm2d`` default) and ReLU, and every convolution has a bias (the
reference's rule with instance norm). 9 blocks for 256x256 training images, 6 for 128x128. Stride-2 layers use
Keras's "same" alignment (the network's output is pixel-aligned with its input); the PyTorch reference pads one
pixel on each side instead (same parameters, a half-pixel different sampling grid). Convolutions start from
N(0, 0.02) as the reference's ``init_weights``. The paper's 256x256 network (``ResnetGenerator()``, 9 blocks, 64
filters, 3 -> 3 channels) has the reference's 11,378,179 parameters.

Height and width must be divisible by 4 (two stride-2 steps); ``translate`` pads.

``CycleGenerators``: the two generators of one model, ``a_to_b`` (the paper's G: X -> Y) and ``b_to_a`` (F:
Y -> X), as one network whose weight file holds both (what a preset ships), with ``translate``.

Discriminator: ``zoo.apps.pix2pix.PatchDiscriminator(n_layers=3, norm="instance", channels=3)``, the 70x70
PatchGAN on one image (unconditional): C64-C128-C256-C512 then a 1-channel map of logits (LSGAN scores); 2,764,737
parameters as the reference's ``NLayerDiscriminator(3, 64, 3, InstanceNorm2d)``.
"""
import numbers

import keras
import numpy as np
from keras import layers

from zoo import models
from zoo.apps.pix2pix.networks import PatchDiscriminator  # noqa: F401  (CycleGAN's D; re-exported)
from zoo.layers import GAN_INIT, ReflectionPadding2D, ResidualBlock, make_norm

NORMS = ("instance", "batch")
DIRECTIONS = ("AtoB", "BtoA")


def _check_norm(norm):
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


def check_direction(direction):
    if direction not in DIRECTIONS:
        raise ValueError(f'direction must be "AtoB" or "BtoA", got {direction!r}')
    return direction


# ---------------------------------------------------------------------------------------------------------
# Generator: ResNet
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class ResnetGenerator(models.Generator):
    """ResNet generator: image ``(N, H, W, in_channels)`` -> image ``(N, H, W, out_channels)``, both in [-1, 1];
    H and W divisible by 4 (see the module docstring).

    Args:
        n_blocks: residual blocks at 1/4 resolution (9: 256x256 training images, 6: 128x128).
        filters: channels of the first convolution (64); 2x and 4x after the two downsamplings.
        norm: ``"instance"`` (non-affine, the paper) or ``"batch"`` (then convolutions have no bias).
        in_channels, out_channels: image channels of the input and output domains.
    """

    def __init__(self, n_blocks=9, filters=64, norm="instance", in_channels=3, out_channels=3, **kwargs):
        _check_norm(norm)
        if int(n_blocks) != n_blocks or n_blocks < 0:
            raise ValueError(f"n_blocks must be an integer >= 0 (9 for 256x256, 6 for 128x128), got {n_blocks!r}")
        bias = norm == "instance"

        def conv_norm_relu(x, width, kernel, name, stride=1, transpose=False, pad=0):
            if pad:
                x = ReflectionPadding2D(pad, name=f"{name}_pad")(x)
            conv = layers.Conv2DTranspose if transpose else layers.Conv2D
            x = conv(width, kernel, strides=stride, padding="same" if stride > 1 else "valid", use_bias=bias,
                     kernel_initializer=GAN_INIT, name=name)(x)
            x = make_norm(norm, affine=False, name=f"{name}_norm")(x)
            return layers.ReLU(name=f"{name}_relu")(x)

        image = keras.Input((None, None, in_channels), name="image")
        x = conv_norm_relu(image, filters, 7, "c7s1", pad=3)
        x = conv_norm_relu(x, 2 * filters, 3, "down1", stride=2)
        x = conv_norm_relu(x, 4 * filters, 3, "down2", stride=2)
        for i in range(int(n_blocks)):
            x = ResidualBlock(4 * filters, norm=norm, norm_affine=False, activation="relu", padding="reflect",
                              use_bias=bias, name=f"res{i}")(x)
        x = conv_norm_relu(x, 2 * filters, 3, "up1", stride=2, transpose=True)
        x = conv_norm_relu(x, filters, 3, "up2", stride=2, transpose=True)
        x = ReflectionPadding2D(3, name="out_pad")(x)
        x = layers.Conv2D(out_channels, 7, kernel_initializer=GAN_INIT, name="out")(x)
        out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
        super().__init__(image, out, config={"n_blocks": int(n_blocks), "filters": filters, "norm": norm,
                                             "in_channels": in_channels, "out_channels": out_channels}, **kwargs)

    n_blocks = models.config_value("n_blocks")

    in_channels = models.config_value("in_channels")

    out_channels = models.config_value("out_channels")

    #: What the input's height and width must be divisible by.
    multiple = 4


# ---------------------------------------------------------------------------------------------------------
# The two generators
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class CycleGenerators(models.Generator):
    """The generators of a CycleGAN, ``a_to_b`` (G: A -> B) and ``b_to_a`` (F: B -> A), as one network
    ``[a, b] -> [G(a), F(b)]`` (one weight file holds both; ``pretrained()`` returns it).

    Args:
        n_blocks, filters, norm: of both ``ResnetGenerator``s.
        a_channels, b_channels: image channels of domains A and B.
        train_size: the side of the square crops it was trained on (e.g. 128), which ``translate`` resizes
            inputs to by default (``size="auto"``); None: unknown (inputs are translated at their own size).
    """

    def __init__(self, n_blocks=9, filters=64, norm="instance", a_channels=3, b_channels=3, train_size=None,
                 **kwargs):
        if train_size is not None and (int(train_size) != train_size or train_size < 4 or train_size % 4):
            raise ValueError(f"train_size must be None or a positive multiple of 4, got {train_size!r}")
        net = dict(n_blocks=n_blocks, filters=filters, norm=norm)
        g = ResnetGenerator(**net, in_channels=a_channels, out_channels=b_channels, name="a_to_b")
        f = ResnetGenerator(**net, in_channels=b_channels, out_channels=a_channels, name="b_to_a")
        a = keras.Input((None, None, a_channels), name="a")
        b = keras.Input((None, None, b_channels), name="b")
        super().__init__([a, b], [g(a), f(b)], config=dict(net, a_channels=a_channels, b_channels=b_channels,
                                                            train_size=train_size), **kwargs)
        self.a_to_b, self.b_to_a = g, f

    train_size = models.config_value("train_size")

    def network(self, direction):
        """The generator of ``direction``: ``"AtoB"`` -> ``a_to_b``, ``"BtoA"`` -> ``b_to_a``."""
        return self.a_to_b if check_direction(direction) == "AtoB" else self.b_to_a

    def export_graph(self, direction="AtoB"):
        """The generator of ``direction`` as ``Generator.export_graph`` says (``image`` in [0, 1], any sides
        divisible by ``multiple``); ``translate``'s resizing to ``train_size`` stays with the caller."""
        return self.network(direction).export_graph()

    #: The sizes ``translate`` works at: its two stride-2 stages leave a quarter of the side to the residual
    #: blocks, whose reflection padding needs 2 pixels; a 64-channel float32 activation takes 256 bytes a pixel,
    #: 4 GB at 4096x4096, the most.
    MIN_SIZE, MAX_SIZE = 8, 4096

    def translate(self, x, direction="AtoB", size="auto"):
        """Translate images as people have them: a path, PIL image, uint8/uint16/float array, single or batch,
        grey/RGB/RGBA, any size, or a list of same-size images (``zoo.images.as_batch``); returns the same kind,
        at the same size (PIL for paths and PIL, the input's dtype and layout for arrays). A grey input to an RGB
        domain is repeated to RGB, and comes back in colour; alpha is kept as it was.

        ``direction``: ``"AtoB"`` (G) or ``"BtoA"`` (F).
        ``size``: the scale the network works at. ``"auto"`` (default): the image is resized (bicubic,
        antialiased) so its shorter side is ``train_size``, the scale the preset was trained at (a 256x256 photo
        into a 128-trained preset is translated at 128x128, then resized back); an int: that shorter side; None:
        the image's own size. Sizes are reflect-padded to a multiple of 4 and cropped back. The working size must
        have a shorter side of at least ``MIN_SIZE`` (8) and at most ``MAX_SIZE`` squared pixels (4096x4096).
        """
        from zoo import images

        net = self.network(direction)
        if size == "auto":
            size = self.train_size
        if size is not None and not (isinstance(size, numbers.Integral) and not isinstance(size, bool)
                                     and self.MIN_SIZE <= size <= self.MAX_SIZE):
            raise ValueError(f'size must be "auto", None or an integer in {self.MIN_SIZE}..{self.MAX_SIZE}, got '
                             f'{size!r}')
        batch, spec = images.as_batch(x, channels=net.in_channels)
        h, w = batch.shape[1:3]
        work = (h, w)
        if size is not None:
            s = size / min(h, w)
            work = (max(size, round(h * s)), max(size, round(w * s)))
        if min(work) < self.MIN_SIZE or work[0] * work[1] > self.MAX_SIZE ** 2:
            raise ValueError(f"translating at {work[0]}x{work[1]} is outside what the network takes: shorter side >= "
                             f"{self.MIN_SIZE}, at most {self.MAX_SIZE}x{self.MAX_SIZE} pixels (pass size)")
        if work != (h, w):
            batch = images.resize(batch, work)
        out = images.apply_tiled(net.predict_on_batch, batch, multiple=net.multiple)
        if out.shape[1:3] != (h, w):
            out = images.resize(out, (h, w))
        return images.restore(np.clip(out, -1.0, 1.0), images.output_spec(spec, net.out_channels))
