"""ProGAN networks (Karras et al. 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation"), Table 2 and appendix A, as the reference code's ``G_paper`` / ``D_paper``.

Images. Channels-last float images in [-1, 1], square, a power-of-two side from 4 to ``resolution``.

Feature maps. The blocks at side ``r`` have ``features(r) = min(2 * fmap_base / r, fmap_max)`` maps: with the
paper's ``fmap_base=8192, fmap_max=512``: 512 up to 32x32, then 256, 128, 64, 32, 16 at 1024x1024. Smaller
presets lower ``fmap_base`` / ``fmap_max``.

Generator. The latent vector (pixel-normalised) -> a dense layer to 4x4 x features(4) (gain 2/16, the
reference's sqrt(2)/4 standard deviation), leaky ReLU (0.2), pixel norm, a 3x3 convolution; then per doubling
(8x8 ... resolution) nearest-neighbour upsampling and two 3x3 convolutions. Every convolution is followed by
leaky ReLU 0.2 and pixelwise feature normalization (``pixel_norm``, as ``zoo.layers.PixelNorm``). ``to_rgb<r>``: a linear 1x1
convolution to RGB at each side r.

Discriminator. ``from_rgb<r>``: a 1x1 convolution + leaky ReLU at each side r; per halving two 3x3 convolutions
(features(r), then features(r/2)) with leaky ReLU and 2x2 average pooling; at 4x4 the minibatch standard deviation
(groups of 4) as one more feature map, a 3x3 convolution, a dense layer to features(2) and a linear dense layer to
the critic's score. Every layer has an equalized learning rate (``zoo.layers.EqualizedConv2D``/``EqualizedDense``).

Growing. Both networks are built at their final ``resolution`` (all weights exist from the start) in the
reference's "linear" structure: the generator's output is ``fade(up(rgb of the level below), to_rgb(x), alpha)``
at every level and the discriminator's input path mirrors it, with alpha = 1 everywhere once grown, so calling the
network is the grown network (lower ``to_rgb``/``from_rgb`` layers are computed but weigh 0). Training at a lower
level calls ``grow(x, level, alpha)``: the same layers up to ``level`` only (``level`` 0 = 4x4), the newest block
faded in with ``alpha`` from 0 to 1. The paper's 1024x1024 networks have 23.1M parameters each.
"""
import math

import keras
from keras import ops

from zoo import models
from zoo.checks import positive_int, truncation_psi
from zoo.layers import EqualizedConv2D, EqualizedDense, MinibatchStdDev, leaky_relu


def features(side, fmap_base=8192, fmap_max=512):
    """Feature maps of the blocks at ``side`` x ``side`` (the reference's ``nf(log2(side) - 1)``)."""
    return int(min(2 * fmap_base // side, fmap_max))


def sides(resolution):
    """The sides of the levels up to ``resolution``: 4, 8, ..., resolution (level i has side 4 * 2**i)."""
    check_resolution(resolution)
    return [4 * 2 ** i for i in range(int(math.log2(resolution)) - 1)]


def check_resolution(resolution):
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 4 \
            or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution!r}")
    return resolution


def fade(old, new, alpha):
    """``old`` faded out, ``new`` in: ``old * (1 - alpha) + new * alpha`` (exactly ``new`` at alpha 1). A Python
    number stays one: a graph constant, not a captured tensor (which ONNX conversion would leave as an input)."""
    if isinstance(alpha, (int, float)):
        return old * (1.0 - alpha) + new * float(alpha)
    alpha = ops.cast(alpha, new.dtype)
    return old * (1.0 - alpha) + new * alpha


def upscale(x):
    """Nearest-neighbour 2x upsampling: two resizes, rows then columns (the values of two repeats; a graph of
    the same depth as the shipped weights were saved from, and one whose shapes the LiteRT converter knows)."""
    h, w = x.shape[1:3]
    x = ops.image.resize(x, (2 * h, w), interpolation="nearest")
    return ops.image.resize(x, (2 * h, 2 * w), interpolation="nearest")


def downscale(x):
    """2x2 average pooling (the reference's box filter)."""
    return ops.average_pool(x, 2, 2, padding="valid")


def pixel_norm(x, epsilon=1e-8):
    """Pixelwise feature vector normalization over the channels, in float32 (``zoo.layers.PixelNorm``'s)."""
    x32 = ops.cast(x, "float32")
    return ops.cast(x32 * ops.rsqrt(ops.mean(ops.square(x32), axis=-1, keepdims=True) + epsilon), x.dtype)


def _lrelu(x):
    return leaky_relu(x, 0.2)


class _Progressive:
    """What the two networks share (a mixin of zoo Networks): their levels and layer lookup."""

    resolution = models.config_value("resolution")

    @property
    def sides(self):
        return sides(self.resolution)

    @property
    def levels(self):
        """Number of levels (4x4 is level 0; the last is ``levels - 1``)."""
        return len(self.sides)

    def _check_level(self, level):
        if not 0 <= level < self.levels:
            raise ValueError(f"level must be in [0, {self.levels - 1}] for a {self.resolution}x{self.resolution} "
                             f"network, got {level}")


# ---------------------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------------------
def _g_layers(latent_dim, channels, resolution, fmap_base, fmap_max):
    f = lambda side: features(side, fmap_base, fmap_max)  # noqa: E731
    out = {"dense4": EqualizedDense(f(4) * 16, gain=2.0 / 16, name="dense4"),
           "conv4": EqualizedConv2D(f(4), 3, name="conv4")}
    for side in sides(resolution)[1:]:
        out[f"conv{side}_0"] = EqualizedConv2D(f(side), 3, name=f"conv{side}_0")
        out[f"conv{side}_1"] = EqualizedConv2D(f(side), 3, name=f"conv{side}_1")
    for side in sides(resolution):
        out[f"to_rgb{side}"] = EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb{side}")
    return out


def _g_input(layer, z):
    """The 4x4 input features from the latent vector: pixel norm, the dense layer, leaky ReLU, pixel norm (the
    space truncation interpolates in)."""
    dense = layer("dense4")
    return pixel_norm(_lrelu(ops.reshape(dense(pixel_norm(z)), (-1, 4, 4, dense.units // 16))))


def _g_block(layer, x, side, from_input=False):
    """The features at ``side`` from those at ``side / 2`` (or from the latent vector at 4x4; ``from_input``:
    from ``_g_input``'s features)."""
    pn = pixel_norm
    if side == 4:
        x = x if from_input else _g_input(layer, x)
        return pn(_lrelu(layer("conv4")(x)))
    x = upscale(x)
    x = pn(_lrelu(layer(f"conv{side}_0")(x)))
    return pn(_lrelu(layer(f"conv{side}_1")(x)))


@keras.saving.register_keras_serializable("zoo")
class ProGANGenerator(_Progressive, models.Generator):
    """Latent vector ``(N, latent_dim)`` -> image ``(N, resolution, resolution, channels)`` in [-1, 1] (linear
    output, not squashed: the paper's; ``generate`` clips).

    Args:
        resolution: final side, a power of two >= 4 (the paper's 1024).
        latent_dim: size of the latent vector (the paper's 512).
        fmap_base, fmap_max: feature maps per side (module docstring; the paper's 8192 and 512).
        channels: output channels (3).
    """

    def __init__(self, resolution=1024, latent_dim=512, fmap_base=8192, fmap_max=512, channels=3, name=None):
        check_resolution(resolution)
        config = dict(resolution=resolution, latent_dim=latent_dim, fmap_base=fmap_base, fmap_max=fmap_max,
                      channels=channels)
        named = _g_layers(latent_dim, channels, resolution, fmap_base, fmap_max)
        z = keras.Input((latent_dim,), name="z")
        x = _g_block(named.__getitem__, z, 4)
        rgb = named["to_rgb4"](x)
        for side in sides(resolution)[1:]:
            x = _g_block(named.__getitem__, x, side)
            rgb = fade(upscale(rgb), named[f"to_rgb{side}"](x), 1.0)
        super().__init__(z, rgb, config=config, name=name or "progan_generator")

    # -- sampling --------------------------------------------------------------------------------------------
    #: Latent vectors (seed 0) averaged for the mean input features that truncation interpolates toward.
    MEAN_SAMPLES = 4096

    def generate(self, n=16, labels=None, seed=None, batch_size=256, truncation=None):
        """``n`` faces, uint8 ``(n, H, W, C)``; ``seed`` fixes them (NumPy latents: the same on every backend).

        ``truncation`` (psi in [0, 1], or None = 1 = off): the truncation trick as StyleGAN's, toward the mean.
        ProGAN's latent is pixel-normalised, so scaling ``z`` toward the origin changes nothing (only its
        direction matters; the mean of the normalised latents is the origin, which has no direction). The
        interpolation is done one step later, on the 4x4 input features (``input_features``: the dense layer's
        output after leaky ReLU and pixel norm, ProGAN's nearest analogue of StyleGAN's intermediate latent w):
        ``f' = mean_f + psi * (f(z) - mean_f)``, ``mean_f`` the average of ``f`` over ``MEAN_SAMPLES`` latents
        drawn with seed 0, then the rest of the network runs as usual. psi 1 is the plain generator, psi 0 gives
        one face (the mean's) for every latent; in between, the faces lose variety (pose, lighting, unusual
        features) and gain typicality. The same ``seed`` gives the same people at every psi, pulled toward the
        mean face."""
        if truncation is None:
            return super().generate(n, labels, seed, batch_size)
        import numpy as np

        truncation_psi(truncation)
        n = positive_int(n, "n")
        if seed is not None:
            positive_int(seed, "seed", minimum=0)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")  # as the base's
        return self.from_latents(z, labels, batch_size, truncation=truncation)

    def from_latents(self, z, labels=None, batch_size=256, truncation=None):
        """uint8 images for latent vectors ``z`` (NumPy ``(n, latent_dim)``); ``truncation`` as in ``generate``."""
        if truncation is None or truncation_psi(truncation) == 1.0:
            return super().from_latents(z, labels, batch_size)
        import numpy as np

        psi = truncation_psi(truncation)
        batch_size = positive_int(batch_size, "batch_size")
        z = models.check_latents(z, self.latent_dim)
        if labels is not None:
            raise ValueError(f"{type(self).__name__} is not class-conditional; labels must be None")
        mean = self.mean_features()
        out = []
        for i in range(0, len(z), batch_size):
            f = self.input_features(ops.convert_to_tensor(z[i:i + batch_size]))
            f = ops.cast(mean, f.dtype) + psi * (f - ops.cast(mean, f.dtype))
            out.append(ops.convert_to_numpy(self.synthesize(f)).astype("float32"))
        x = np.concatenate(out)
        return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype("uint8")

    def mean_features(self):
        """The mean 4x4 input features over ``MEAN_SAMPLES`` standard-normal latents (seed 0), ``(1, 4, 4, F)``."""
        import numpy as np

        z = np.random.default_rng(0).standard_normal((self.MEAN_SAMPLES, self.latent_dim)).astype("float32")
        total = 0.0
        for i in range(0, len(z), 1024):
            total = total + ops.sum(ops.cast(self.input_features(ops.convert_to_tensor(z[i:i + 1024])), "float32"),
                                    axis=0, keepdims=True)
        return total / float(len(z))

    def interpolate(self, seed_a=0, seed_b=1, steps=8, truncation=None):
        """A latent walk: uint8 ``(steps, H, W, C)`` from the first face of ``generate(n, seed=seed_a)`` to the
        first of ``generate(n, seed=seed_b)``, along the great circle between their latent vectors (slerp: the
        latent is pixel-normalised, so only its direction matters); ``truncation`` as in ``generate``."""
        import numpy as np

        steps = positive_int(steps, "steps", minimum=2)
        seed_a, seed_b = positive_int(seed_a, "seed_a", minimum=0), positive_int(seed_b, "seed_b", minimum=0)
        a, b = (np.random.default_rng(s).standard_normal((1, self.latent_dim)).astype("float32")[0]
                for s in (seed_a, seed_b))
        cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        t = np.linspace(0.0, 1.0, steps)[:, None]
        if omega < 1e-6:
            z = (1 - t) * a + t * b
        else:
            z = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
        return self.from_latents(z.astype("float32"), truncation=truncation)

    def readout(self, resolution):
        """This generator up to ``resolution`` (one of its ``sides``): a ``ProGANGenerator`` of that side holding a
        copy of this one's layers below it, so its output is ``grow(z, level of resolution)`` at alpha 1 (a 64x64
        generator read out of a 128x128 run's 64-px stage: the EMA generator of a checkpoint kept at the end of
        that level). Same latent vectors, same feature maps per side."""
        if resolution not in self.sides:
            raise ValueError(f"resolution must be one of {self.sides}, got {resolution!r}")
        small = ProGANGenerator(**{**self.get_config(), "resolution": resolution, "name": None})
        for layer in small.layers:
            if layer.weights:
                layer.set_weights(self.get_layer(layer.name).get_weights())
        return small

    def grown_images(self, z, level, alpha=1.0):
        """uint8 images of ``grow(z, level, alpha)`` for NumPy latents ``z``, enlarged to the final side by pixel
        repetition (grids of the growth: the recipe's per-epoch grids, evaluate.py's growth figure)."""
        from zoo import images

        x = images.to_uint8(ops.convert_to_numpy(self.grow(ops.convert_to_tensor(z), level, alpha)).astype("float32"))
        reps = self.resolution // x.shape[1]
        return x.repeat(reps, axis=1).repeat(reps, axis=2)

    def grow(self, z, level, alpha=1.0):
        """The generator grown to ``level`` (side ``4 * 2**level``) with its newest block faded in by ``alpha``
        (a float or scalar tensor in [0, 1]): images ``(N, side, side, channels)``."""
        return self.synthesize(self.input_features(z), level, alpha)

    def input_features(self, z):
        """The 4x4 input features ``(N, 4, 4, features(4))`` of latent vectors ``z`` (pixel norm, the dense layer,
        leaky ReLU, pixel norm): where ``truncation`` interpolates toward their mean."""
        return _g_input(self.get_layer, z)

    def synthesize(self, features, level=None, alpha=1.0):
        """Images from 4x4 input features (``input_features``), grown to ``level`` (default: the last)."""
        level = self.levels - 1 if level is None else level
        self._check_level(level)
        x = prev = _g_block(self.get_layer, features, 4, from_input=True)
        for side in self.sides[1:level + 1]:
            prev, x = x, _g_block(self.get_layer, x, side)
        rgb = self.get_layer(f"to_rgb{self.sides[level]}")(x)
        if level == 0:
            return rgb
        return fade(upscale(self.get_layer(f"to_rgb{self.sides[level - 1]}")(prev)), rgb, alpha)


# ---------------------------------------------------------------------------------------------------------
# Discriminator
# ---------------------------------------------------------------------------------------------------------
def _d_layers(channels, resolution, fmap_base, fmap_max):
    f = lambda side: features(side, fmap_base, fmap_max)  # noqa: E731
    out = {}
    for side in sides(resolution):
        out[f"from_rgb{side}"] = EqualizedConv2D(f(side), 1, name=f"from_rgb{side}")
    for side in sides(resolution)[1:]:
        out[f"conv{side}_0"] = EqualizedConv2D(f(side), 3, name=f"conv{side}_0")
        out[f"conv{side}_1"] = EqualizedConv2D(f(side // 2), 3, name=f"conv{side}_1")
    out["mbstd"] = MinibatchStdDev(group_size=4, name="mbstd")
    out["conv4"] = EqualizedConv2D(f(4), 3, name="conv4")
    out["dense4"] = EqualizedDense(f(2), name="dense4")
    out["score"] = EqualizedDense(1, gain=1.0, name="score")
    return out


def _d_block(layer, x, side):
    """Features at ``side / 2`` from those at ``side`` (at 4x4: the critic's score)."""
    if side == 4:
        x = _lrelu(layer("conv4")(layer("mbstd")(x)))
        x = _lrelu(layer("dense4")(ops.reshape(x, (-1, 16 * x.shape[-1]))))
        return layer("score")(x)
    x = _lrelu(layer(f"conv{side}_0")(x))
    return downscale(_lrelu(layer(f"conv{side}_1")(x)))


@keras.saving.register_keras_serializable("zoo")
class ProGANDiscriminator(_Progressive, models.Discriminator):
    """Image ``(N, resolution, resolution, channels)`` -> critic score ``(N, 1)`` (WGAN: unbounded).

    Args: as ``ProGANGenerator`` (without ``latent_dim``).
    """

    def __init__(self, resolution=1024, fmap_base=8192, fmap_max=512, channels=3, name=None):
        check_resolution(resolution)
        config = dict(resolution=resolution, fmap_base=fmap_base, fmap_max=fmap_max, channels=channels)
        named = _d_layers(channels, resolution, fmap_base, fmap_max)
        layer = named.__getitem__
        image = keras.Input((resolution, resolution, channels), name="image")
        img, x = image, _lrelu(named[f"from_rgb{resolution}"](image))
        for side in reversed(sides(resolution)[1:]):
            x = _d_block(layer, x, side)
            img = downscale(img)
            x = fade(_lrelu(named[f"from_rgb{side // 2}"](img)), x, 1.0)
        score = _d_block(layer, x, 4)
        super().__init__(image, score, config=config, name=name or "progan_discriminator")

    def grow(self, images, level, alpha=1.0):
        """The critic grown to ``level`` on images of side ``4 * 2**level``, the input path of the level below
        (on the images average-pooled) faded out as ``alpha`` goes 0 -> 1."""
        self._check_level(level)
        side = self.sides[level]
        if tuple(images.shape[1:3]) != (side, side):
            raise ValueError(f"level {level} judges {side}x{side} images, got {tuple(images.shape[1:3])}")
        x = _lrelu(self.get_layer(f"from_rgb{side}")(images))
        if level == 0:
            return _d_block(self.get_layer, x, 4)
        x = _d_block(self.get_layer, x, side)
        x = fade(_lrelu(self.get_layer(f"from_rgb{side // 2}")(downscale(images))), x, alpha)
        for s in reversed(self.sides[1:level]):
            x = _d_block(self.get_layer, x, s)
        return _d_block(self.get_layer, x, 4)
