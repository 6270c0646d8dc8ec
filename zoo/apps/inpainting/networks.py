"""DeepFill v2 networks (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution"; the contextual
attention of Yu et al. 2018, "Generative Image Inpainting with Contextual Attention"), as the reference
JiahuiYu/generative_inpainting v2 (``inpaint_model.py``, ``inpaint_ops.py``).

Images are channels-last floats in [-1, 1]; masks are ``(N, H, W, 1)`` with 1 in the hole and 0 where the pixel
is known.

Gated convolution (section 3.1): ``GatedConv2D(f)`` is one convolution to ``2 f`` channels split in two halves,
features and gates: ``activation(features) * sigmoid(gates)``, ``f`` channels out. The reference's ``gen_conv(x,
cnum)`` is ``GatedConv2D(cnum // 2)`` (its convolution has ``cnum`` outputs and it returns half of them). Every
convolution of the generator is gated, ELU, "same" padding, but the two to RGB (plain, then tanh).

Generator (figure 3 and the reference's ``build_inpaint_net``), ``width`` = the reference's cnum (48):

* input: the image with the hole zeroed, a channel of ones and the mask (5 channels);
* stage 1, coarse: gated convolutions down to 1/4 resolution (5x5, then 3x3 stride 2 twice), four dilated 3x3
  (rates 2, 4, 8, 16), back up by nearest-neighbour resizing + gated convolution (``gen_deconv``) to an RGB image;
* stage 2, refinement, on the coarse result pasted into the hole of the input: two encoders of the same shape
  side by side, a dilated-convolution branch ("hallucination") and a contextual-attention branch (ReLU before the
  attention); their features concatenated and decoded as in stage 1.

``InpaintGenerator()`` is the reference configuration: 4,052,478 trainable parameters (the paper's "4.1M"; the
hand count is in tests/test_inpainting.py). It returns ``[coarse, refined]``; the inpainted image is
``x * (1 - m) + refined * m`` (``InpaintGenerator.inpaint`` does it for images as people have them). Any size
whose sides divide by 8 goes through (``multiple``).

Contextual attention (2018, section 3.2): features of the hole are matched against 3x3 patches of the known
region at half the feature resolution by cosine similarity (the known patch normalised), the scores fused along
diagonals so that neighbouring matches agree (kernel 3, twice: rows then columns), softmax over the known patches
(scale 10), and the known region's full-resolution 4x4 patches pasted back by a transposed convolution of
stride 2 (overlaps averaged). Patches touching the hole never serve as sources. ``ContextualAttention`` does it
per image (the reference shares one mask across the batch).

Discriminator (SN-PatchGAN, section 3.2): six 5x5 stride-2 convolutions with spectral normalisation and
LeakyReLU(0.2), widths 64, 128, 256, 256, 256, 256, on the image and its mask (4 channels), every value of the
last feature map a logit (the reference flattens them; here they stay a map). 5,946,816 trainable parameters.
"""
import keras
from keras import layers, ops

from zoo import models
from zoo.layers import Blur2D, LeakyReLU, NearestUpsampling, spectral_norm as _spectral_norm


# ---------------------------------------------------------------------------------------------------------
# Gated convolution
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class GatedConv2D(layers.Layer):
    """``activation(conv_f(x)) * sigmoid(conv_g(x))`` with one convolution to ``2 * filters`` channels (the first
    half features, the second gates): a learned soft mask per pixel and channel (Yu et al. 2019, eq. 1).
    "Same" padding; ``dilation_rate`` for the dilated layers; ``activation`` "elu" (the reference), "relu" or None.
    """

    def __init__(self, filters, kernel_size=3, strides=1, dilation_rate=1, activation="elu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        self.dilation_rate, self.activation = int(dilation_rate), activation
        self.conv = layers.Conv2D(2 * self.filters, self.kernel_size, strides=self.strides, padding="same",
                                  dilation_rate=self.dilation_rate, dtype=self.dtype_policy, name="conv")
        self._act = keras.activations.get(activation)

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x):
        y = self.conv(x)
        features, gates = y[..., :self.filters], y[..., self.filters:]
        return self._act(features) * ops.sigmoid(gates)

    def compute_output_shape(self, input_shape):
        shape = self.conv.compute_output_shape(input_shape)
        return shape[:-1] + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "dilation_rate": self.dilation_rate, "activation": self.activation}


# ---------------------------------------------------------------------------------------------------------
# Contextual attention
# ---------------------------------------------------------------------------------------------------------
def _patches(x, size, stride=1):
    """``(N, H', W', size*size*C)``: the ``size`` x ``size`` patches of ``x`` at every ``stride``-th position,
    "same" zero padding as TensorFlow's (the extra row/column at the end), ordered (dy, dx, channel)."""
    h, w = ops.shape(x)[1], ops.shape(x)[2]
    total = size - stride if stride > 1 else size - 1
    before = total // 2
    x = ops.pad(x, [[0, 0], [before, total - before], [before, total - before], [0, 0]])
    cols = []
    for dy in range(size):
        for dx in range(size):
            cols.append(x[:, dy:dy + h:stride, dx:dx + w:stride, :])
    return ops.concatenate(cols, axis=-1)


def _fold(p, size, stride, channels):
    """The transposed operation of ``_patches(x, size, stride)`` for ``size = 2 * stride``: ``p`` ``(N, h, w,
    size*size*C)`` -> ``(N, stride*h, stride*w, C)``, each patch added at its place (a transposed convolution)."""
    n, h, w = ops.shape(p)[0], ops.shape(p)[1], ops.shape(p)[2]
    p = ops.reshape(p, (n, h, w, size, size, channels))
    before = (size - stride) // 2
    # an output row 2i + a - before gets patch row a of patch i; split a = stride * q + r
    phases = []
    for r in range(stride):
        row = []
        for c in range(stride):
            acc = 0.0
            for qy in range(size // stride):
                for qx in range(size // stride):
                    t = p[:, :, :, stride * qy + r, stride * qx + c, :]
                    acc = acc + ops.pad(t, [[0, 0], [qy, size // stride - 1 - qy],
                                            [qx, size // stride - 1 - qx], [0, 0]])
            row.append(acc)
        phases.append(ops.stack(row, axis=3))             # (N, h+1, w+1, stride, C)
    grid = ops.stack(phases, axis=2)                       # (N, h+1, stride, w+1, stride, C)
    k = size // stride - 1
    out = ops.reshape(grid, (n, (h + k) * stride, (w + k) * stride, channels))
    return out[:, before:before + stride * h, before:before + stride * w, :]


def _shift_sum(s):
    """``s[i, j] + s[i - 1, j - 1] + s[i + 1, j + 1]`` over the last two axes (zeros outside): the reference's
    fusion, a convolution of the score matrix with a 3x3 identity kernel."""
    up = ops.pad(s[:, 1:, 1:], [[0, 0], [0, 1], [0, 1]])
    down = ops.pad(s[:, :-1, :-1], [[0, 0], [1, 0], [1, 0]])
    return s + up + down


@keras.saving.register_keras_serializable("zoo")
class ContextualAttention(layers.Layer):
    """Fill the hole's features with the known region's, matched by cosine similarity (Yu et al. 2018, 3.2).

    ``call([features, mask])``: features ``(N, H, W, C)``, mask ``(N, H, W, 1)`` at the same resolution (1 = hole);
    H and W divisible by ``rate``. Returns ``(N, H, W, C)``: for every position, the softmax-weighted sum of the
    known region's ``2 rate`` x ``2 rate`` patches (matching done on 3x3 patches of the features downscaled by
    ``rate``; a patch is known when no pixel of its 3x3 window lies in the hole). Positions with no known patch
    anywhere get zeros. ``softmax_scale`` 10 and ``fuse`` as the reference; computed in float32.
    """

    def __init__(self, rate=2, softmax_scale=10.0, fuse=True, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.softmax_scale, self.fuse = int(rate), float(softmax_scale), bool(fuse)

    def call(self, inputs):
        features, mask = inputs
        dtype = features.dtype
        x = ops.cast(features, "float32")
        m = ops.cast(mask, "float32")
        n, c = ops.shape(x)[0], x.shape[-1]
        r = self.rate
        raw = _patches(x, 2 * r, r)                                       # (N, h, w, 4r^2 C) sources to paste
        small = x[:, ::r, ::r]
        m_small = ops.max_pool(m, r, r) if r > 1 else m                   # a cell is hole if any pixel is
        h, w = ops.shape(small)[1], ops.shape(small)[2]
        p = h * w
        f = ops.reshape(_patches(small, 3), (n, p, 9 * c))                 # hole side: every position's patch
        norm = ops.sqrt(ops.sum(ops.square(f), axis=-1, keepdims=True))
        b = f / ops.maximum(norm, 1e-4)                                    # known side: unit patches
        scores = ops.matmul(f, ops.transpose(b, (0, 2, 1)))               # (N, P_f, P_b)
        if self.fuse:
            scores = _shift_sum(scores)                                    # along rows (row-major order)
            t = ops.reshape(ops.transpose(ops.reshape(scores, (n, h, w, h, w)), (0, 2, 1, 4, 3)), (n, p, p))
            t = _shift_sum(t)                                              # and along columns
            scores = ops.reshape(ops.transpose(ops.reshape(t, (n, w, h, w, h)), (0, 2, 1, 4, 3)), (n, p, p))
        known = ops.cast(ops.max(ops.reshape(_patches(m_small, 3), (n, p, 9)), axis=-1) <= 0.0, "float32")
        known = ops.expand_dims(known, 1)                                  # (N, 1, P_b)
        logits = scores * self.softmax_scale + (known - 1.0) * 1e9
        attention = ops.softmax(logits, axis=-1) * known
        pasted = ops.matmul(attention, ops.reshape(raw, (n, p, 4 * r * r * c)))
        y = _fold(ops.reshape(pasted, (n, h, w, 4 * r * r * c)), 2 * r, r, c) / float(r * r)
        return ops.cast(y, dtype)

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "softmax_scale": self.softmax_scale, "fuse": self.fuse}


# ---------------------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class Binarize(layers.Layer):
    """The mask as 0/1 floats (1 where ``mask > 0.5``), or ``ones=True``: a channel of ones of its shape."""

    def __init__(self, ones=False, **kwargs):
        super().__init__(**kwargs)
        self.ones = bool(ones)

    def call(self, inputs):
        return ops.ones_like(inputs) if self.ones else ops.cast(inputs > 0.5, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "ones": self.ones}


@keras.saving.register_keras_serializable("zoo")
class Paste(layers.Layer):
    """``[x, fill, mask]`` -> ``x * (1 - mask) + fill * mask``; ``[x, mask]``: the hole zeroed."""

    def call(self, inputs):
        x, mask = inputs[0], inputs[-1]
        m = ops.cast(mask, x.dtype)
        out = x * (1.0 - m)
        return out if len(inputs) == 2 else out + ops.cast(inputs[1], x.dtype) * m

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])


class _Net:
    """Names and builds the reference's layers in order: ``conv(x, cnum, ...)`` is its ``gen_conv``."""

    def __init__(self, prefix):
        self.prefix, self.i = prefix, 0

    def conv(self, x, cnum, kernel=3, strides=1, rate=1, activation="elu"):
        self.i += 1
        return GatedConv2D(cnum // 2, kernel, strides, rate, activation, name=f"{self.prefix}{self.i}")(x)

    def upconv(self, x, cnum):
        x = NearestUpsampling(name=f"{self.prefix}{self.i + 1}_up")(x)
        return self.conv(x, cnum)

    def to_rgb(self, x, channels):
        self.i += 1
        x = layers.Conv2D(channels, 3, padding="same", name=f"{self.prefix}{self.i}")(x)
        return layers.Activation("tanh", dtype="float32", name=f"{self.prefix}_tanh")(x)

    def encoder(self, x, widths, activation="elu"):
        """5x5, then 3x3 stride 2 / 3x3 / 3x3 stride 2 / 3x3 / 3x3 (``activation`` on the last): the first six
        layers of each encoder, down to 1/4 resolution."""
        for width, kernel, strides in zip(widths[:-1], (5, 3, 3, 3, 3), (1, 2, 1, 2, 1)):
            x = self.conv(x, width, kernel, strides)
        return self.conv(x, widths[-1], activation=activation)

    def dilated(self, x, cnum):
        """Four dilated 3x3 (rates 2, 4, 8, 16) at 1/4 resolution."""
        for rate in (2, 4, 8, 16):
            x = self.conv(x, 4 * cnum, rate=rate)
        return x

    def decoder(self, x, cnum, channels):
        x = self.conv(x, 4 * cnum)
        x = self.conv(x, 4 * cnum)
        x = self.upconv(x, 2 * cnum)
        x = self.conv(x, 2 * cnum)
        x = self.upconv(x, cnum)
        x = self.conv(x, cnum // 2)
        return self.to_rgb(x, channels)


@keras.saving.register_keras_serializable("zoo")
class InpaintGenerator(models.Generator):
    """DeepFill v2 generator: ``[image, mask]`` -> ``[coarse, refined]`` (see the module docstring).

    ``image`` ``(N, H, W, channels)`` in [-1, 1] (the hole's pixels are zeroed inside, whatever they hold);
    ``mask`` ``(N, H, W, 1)``, 1 in the hole. H, W divisible by 8.

    Args:
        width: the reference's cnum (48); layer widths scale with it (24: a quarter of the computation).
        channels: image channels (3).
    """

    def __init__(self, width=48, channels=3, **kwargs):
        if int(width) != width or width < 4 or width % 4:
            raise ValueError(f"width must be a positive multiple of 4 (the reference's 48), got {width!r}")
        c = int(width)
        image = keras.Input((None, None, channels), name="image")
        mask = keras.Input((None, None, 1), name="mask")
        m = Binarize(name="binarize")(mask)
        known = Paste(name="zero_hole")([image, m])
        x = layers.Concatenate(name="stage1_input")([known, Binarize(ones=True, name="ones")(m), m])

        s1 = _Net("coarse")
        x = s1.encoder(x, (c, 2 * c, 2 * c, 4 * c, 4 * c, 4 * c))
        x = s1.dilated(x, c)
        coarse = s1.decoder(x, c, channels)

        pasted = Paste(name="paste_coarse")([known, coarse, m])
        h = _Net("hallucinate")
        xh = h.encoder(pasted, (c, c, 2 * c, 2 * c, 4 * c, 4 * c))
        xh = h.dilated(xh, c)
        att = _Net("attend")
        a = att.encoder(pasted, (c, c, 2 * c, 4 * c, 4 * c, 4 * c), activation="relu")
        m4 = layers.MaxPooling2D(4, name="mask_quarter")(m)  # the hole at 1/4 resolution (any pixel of it)
        a = ContextualAttention(rate=2, name="contextual_attention")([a, m4])
        a = att.conv(a, 4 * c)
        a = att.conv(a, 4 * c)
        x = layers.Concatenate(name="branches")([xh, a])
        refined = _Net("refine").decoder(x, c, channels)
        super().__init__([image, mask], [coarse, refined], config={"width": c, "channels": channels}, **kwargs)

    width = models.config_value("width")
    channels = models.config_value("channels")

    #: What the input's height and width must be divisible by.
    multiple = 8

    def export_graph(self):
        """``inpaint`` on one window as ``zoo.export`` writes it: inputs ``image`` float32 ``(N, H, W, 3)`` in
        [0, 1] and ``mask`` float32 ``(N, H, W, 1)`` (> 0.5: hole), sides divisible by 8; output ``"output"``,
        the refined fill pasted into the image (known pixels unchanged), in [0, 1]. ``max_side`` / ``max_depth``
        scaling, the padding to multiples of 8 and the Poisson blending (``inference.poisson_blend``) stay with the
        caller."""
        image = keras.Input((None, None, self.channels), name="image")
        mask = keras.Input((None, None, 1), name="mask")
        x = layers.Rescaling(2.0, offset=-1.0, name="from_unit")(image)
        _, refined = self([x, mask])
        filled = Paste(name="paste")([x, refined, Binarize(name="hole")(mask)])
        return keras.Model([image, mask], {"output": models.to_unit(filled)}, name=f"{self.name}_export")

    def inpaint(self, image, mask, max_side=512, max_depth="auto", blend=True):
        """Fill the hole of ``image`` marked by ``mask``; see ``zoo.apps.inpainting.inpaint``."""
        from .inference import inpaint

        return inpaint(self, image, mask, max_side=max_side, max_depth=max_depth, blend=blend)


# ---------------------------------------------------------------------------------------------------------
# Discriminator: SN-PatchGAN
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class SNPatchDiscriminator(models.Discriminator):
    """SN-PatchGAN: ``concatenate([image, mask])`` ``(N, H, W, channels + 1)`` -> logits ``(N, H/64, W/64,
    4 width)``; six 5x5 stride-2 spectrally normalised convolutions with LeakyReLU(0.2) (also after the last, as
    the reference), ``width`` 64.

    ``antialias=True`` (not the reference's) puts a ``Blur2D`` low-pass before each strided convolution, so D's
    input gradient, which the generator follows, carries no period-2 pattern (the grid of dots a plain stride-2
    D taught the face generator; inpainting model card). Its weights are the same as the plain D's.
    ``spectral_norm=False`` (not the reference's) leaves the convolutions plain, for a D kept in check by an R1
    penalty instead (``Inpainting.compile(r1_gamma=...)``)."""

    def __init__(self, width=64, channels=4, antialias=False, spectral_norm=True, **kwargs):
        x = inputs = keras.Input((None, None, channels), name="image_and_mask")
        for i, mult in enumerate((1, 2, 4, 4, 4, 4)):
            if antialias:
                x = Blur2D(name=f"blur{i + 1}")(x)
            name = f"conv{i + 1}"  # the wrapper's name where spectrally normalised (the weight files' paths)
            conv = layers.Conv2D(width * mult, 5, strides=2, padding="same", name=None if spectral_norm else name)
            x = (_spectral_norm(conv, name=name) if spectral_norm else conv)(x)
            x = LeakyReLU(0.2, name=f"lrelu{i + 1}")(x)
        x = layers.Activation("linear", dtype="float32", name="logits")(x)
        super().__init__(inputs, x, config={"width": width, "channels": channels, "antialias": bool(antialias),
                                            "spectral_norm": bool(spectral_norm)}, **kwargs)
