"""Building blocks shared by the apps. Every layer is written with ``keras.ops`` (all backends) and
serializes through ``get_config``, so ``.keras`` files that use them load with ``safe_mode=True``.

All layers are channels-last. Under a mixed-precision policy the weights stay float32 and are cast to the
input's dtype in ``call``; statistics that are prone to overflow/underflow in half precision (pixel norm,
minibatch stddev) are computed in float32 and cast back.

Contents, by paper:

* Salimans et al. 2016, "Improved Techniques for Training GANs": ``MinibatchDiscrimination``.
* Karras et al. 2018, "Progressive Growing of GANs" (ProGAN): ``EqualizedConv2D``, ``EqualizedDense``,
  ``PixelNorm``, ``MinibatchStdDev``.
* Ulyanov et al. 2016, "Instance Normalization": ``InstanceNormalization`` (``instance_norm``).
* Shi et al. 2016, "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel CNN":
  ``PixelShuffle``.
* He et al. 2016 / Ledig et al. 2017 (SRGAN) / Zhu et al. 2017 (CycleGAN): ``ResidualBlock``,
  ``ReflectionPadding2D``.
* Isola et al. 2017 (pix2pix): ``UNetDown``, ``UNetUp``.
* Miyato et al. 2018, "Spectral Normalization for GANs": ``spectral_norm``.
* Zhang 2019, "Making Convolutional Networks Shift-Invariant Again": ``Blur2D``.
"""
import math

import keras
from keras import layers, ops

from zoo import backend as zoo_backend

#: The pix2pix / CycleGAN / DCGAN weight init: N(0, 0.02).
GAN_INIT = {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.02, "seed": None}}


def _initializer(init):
    """A fresh initializer object from a name, a config dict or an instance (never shared between layers)."""
    if isinstance(init, keras.initializers.Initializer):
        init = keras.initializers.serialize(init)
    return keras.initializers.get(init)


@keras.saving.register_keras_serializable("zoo")
class MinibatchDiscrimination(layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, section 3.2).

    Features f(x_i) in R^A are projected by a learned tensor T in R^{A x B x C} to M_i in R^{B x C}. For each of
    the B kernels, c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1) and o(x_i)_b = sum_{j != i} c_b(x_i, x_j).
    The output is [f(x_i), o(x_i)]: D sees how close each sample is to the rest of its minibatch, so a
    collapsed generator (all samples alike) is easy to reject.
    """

    def __init__(self, num_kernels=50, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = num_kernels
        self.kernel_dim = kernel_dim

    def build(self, input_shape):
        self.T = self.add_weight(shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
                                 initializer=keras.initializers.RandomNormal(0.0, 0.05), name="T")

    def call(self, x):
        from zoo import distribute

        return distribute.on_global_batch(self._features, x)  # several replicas: over the global batch

    def _features(self, x):
        m = ops.reshape(ops.matmul(x, ops.cast(self.T, x.dtype)), (-1, self.num_kernels, self.kernel_dim))
        diff = ops.expand_dims(m, 0) - ops.expand_dims(m, 1)  # (N, N, B, C)
        c = ops.exp(-ops.sum(ops.abs(diff), axis=-1))  # (N, N, B)
        o = ops.sum(c, axis=1) - 1.0  # drop c(x_i, x_i) = 1
        return ops.concatenate([x, ops.cast(o, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + self.num_kernels,)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}


# ---------------------------------------------------------------------------------------------------------
# ProGAN (Karras et al. 2018): equalized learning rate, pixel norm, minibatch stddev
# ---------------------------------------------------------------------------------------------------------
class _Equalized(layers.Layer):
    """Shared part of the equalized-learning-rate layers (Karras et al. 2018, section 4.1).

    The stored weights are drawn from N(0, 1 / lr_multiplier) and multiplied at *every call* by the He
    constant ``sqrt(gain / fan_in) * lr_multiplier``; the bias (zero-init) is multiplied by ``lr_multiplier``.
    Adaptive optimizers (Adam) normalise updates per parameter, so the scaling makes every layer learn at the
    same speed. ``lr_multiplier`` < 1 is StyleGAN's trick for its mapping network (0.01).
    """

    def __init__(self, use_bias=True, gain=2.0, lr_multiplier=1.0, activation=None, **kwargs):
        super().__init__(**kwargs)
        if gain <= 0 or lr_multiplier <= 0:
            raise ValueError(f"gain and lr_multiplier must be > 0, got {gain}, {lr_multiplier}")
        self.use_bias = bool(use_bias)
        self.gain = float(gain)
        self.lr_multiplier = float(lr_multiplier)
        self.activation = keras.activations.get(activation)

    def _make_weights(self, kernel_shape, fan_in, units):
        self.fan_in = int(fan_in)
        self.scale = math.sqrt(self.gain / self.fan_in) * self.lr_multiplier
        self.kernel = self.add_weight(
            shape=kernel_shape, name="kernel",
            initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier))
        self.bias = self.add_weight(shape=(units,), name="bias", initializer="zeros") if self.use_bias else None

    def effective_kernel(self, dtype=None):
        """The kernel the layer actually applies: stored kernel * sqrt(gain / fan_in) * lr_multiplier."""
        k = self.kernel * self.scale
        return k if dtype is None else ops.cast(k, dtype)

    def _finish(self, y):
        if self.bias is not None:
            y = y + ops.cast(self.bias * self.lr_multiplier, y.dtype)
        return self.activation(y) if self.activation is not None else y

    def get_config(self):
        return {**super().get_config(), "use_bias": self.use_bias, "gain": self.gain,
                "lr_multiplier": self.lr_multiplier,
                "activation": keras.activations.serialize(self.activation) if self.activation else None}


@keras.saving.register_keras_serializable("zoo")
class EqualizedConv2D(_Equalized):
    """2-D convolution with equalized learning rate (Karras et al. 2018, ProGAN, section 4.1).

    Kernel ``(kh, kw, C_in, filters)`` ~ N(0, 1), scaled at runtime by ``sqrt(gain / (kh * kw * C_in))``
    (He et al. 2015; ``gain=2`` for (leaky) ReLU nets, ``1`` for a linear output layer) times
    ``lr_multiplier``. Bias zero-init. ``padding`` is ``"same"`` or ``"valid"`` as in ``keras.layers.Conv2D``.
    """

    def __init__(self, filters, kernel_size=3, strides=1, padding="same", use_bias=True, gain=2.0,
                 lr_multiplier=1.0, activation=None, **kwargs):
        super().__init__(use_bias=use_bias, gain=gain, lr_multiplier=lr_multiplier, activation=activation,
                         **kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size)
        self.strides = _pair(strides)
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        self.padding = padding

    def build(self, input_shape):
        cin = input_shape[-1]
        if cin is None:
            raise ValueError("EqualizedConv2D needs a known number of input channels")
        kh, kw = self.kernel_size
        self._make_weights((kh, kw, cin, self.filters), kh * kw * cin, self.filters)

    def call(self, x):
        y = ops.conv(x, self.effective_kernel(x.dtype), strides=self.strides, padding=self.padding,
                     data_format="channels_last")
        return self._finish(y)

    def compute_output_shape(self, input_shape):
        spatial = [_conv_length(n, k, s, self.padding)
                   for n, k, s in zip(input_shape[1:3], self.kernel_size, self.strides)]
        return (input_shape[0], *spatial, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding}


@keras.saving.register_keras_serializable("zoo")
class EqualizedDense(_Equalized):
    """Fully connected layer with equalized learning rate (Karras et al. 2018, ProGAN, section 4.1).

    Kernel ``(fan_in, units)`` ~ N(0, 1), scaled at runtime by ``sqrt(gain / fan_in) * lr_multiplier``;
    bias zero-init, scaled by ``lr_multiplier``. Acts on the last axis like ``keras.layers.Dense``.
    """

    def __init__(self, units, use_bias=True, gain=2.0, lr_multiplier=1.0, activation=None, **kwargs):
        super().__init__(use_bias=use_bias, gain=gain, lr_multiplier=lr_multiplier, activation=activation,
                         **kwargs)
        self.units = int(units)

    def build(self, input_shape):
        fan_in = input_shape[-1]
        if fan_in is None:
            raise ValueError("EqualizedDense needs a known last dimension")
        self._make_weights((fan_in, self.units), fan_in, self.units)

    def call(self, x):
        return self._finish(ops.matmul(x, self.effective_kernel(x.dtype)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable("zoo")
class PixelNorm(layers.Layer):
    """Pixelwise feature vector normalization (Karras et al. 2018, ProGAN, section 4.2).

    ``b_xy = a_xy / sqrt(mean_j(a_xy^j ** 2) + eps)`` over the channels j (``axis``) of each pixel; used after
    every conv of ProGAN's generator (and on the latent vector) instead of batch norm. Computed in float32.
    """

    def __init__(self, epsilon=1e-8, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.axis = int(axis)

    def call(self, x):
        x32 = ops.cast(x, "float32")
        y = x32 * ops.rsqrt(ops.mean(ops.square(x32), axis=self.axis, keepdims=True) + self.epsilon)
        return ops.cast(y, x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "axis": self.axis}


@keras.saving.register_keras_serializable("zoo")
class MinibatchStdDev(layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018, ProGAN, section 3), as in the official code.

    The batch of N samples is split into groups of G (sample ``n`` belongs to group ``n mod (N / G)``, the
    layout of the reference ``reshape(x, [G, -1, ...])``). Within each group the population standard deviation
    ``sqrt(var + eps)`` of every feature is taken over the G members, averaged over all features (and pixels),
    and appended to each member as one constant extra channel on the last axis: (N, H, W, C) -> (N, H, W, C+1)
    (any rank >= 2 works: (N, C) -> (N, C+1)).

    ``G = group_size`` when it divides N; otherwise the largest divisor of N not above ``group_size``
    (N itself for batches smaller than ``group_size``, as ProGAN's ``min(group_size, N)``; 1 for a prime N
    > group_size, which makes the feature a constant ``sqrt(eps)``). N may be unknown until run time (a
    ``None`` batch dimension in a TensorFlow graph): the divisor is then chosen with tensor ops. Under a
    ``tf.distribute`` strategy N is the global batch, as on one device (the official code grouped per GPU).
    """

    def __init__(self, group_size=4, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if int(group_size) < 1:
            raise ValueError(f"group_size must be >= 1, got {group_size}")
        self.group_size = int(group_size)
        self.epsilon = float(epsilon)

    def _group(self, n):
        if isinstance(n, int):
            return max(d for d in range(1, min(self.group_size, n) + 1) if n % d == 0)
        candidates = ops.arange(1, self.group_size + 1, dtype="int32")
        n = ops.cast(n, "int32")
        ok = ops.logical_and(ops.equal(ops.mod(n, candidates), 0), candidates <= n)
        return ops.max(ops.where(ok, candidates, ops.ones_like(candidates)))

    def call(self, x):
        from zoo import distribute

        return distribute.on_global_batch(self._stddev, x)  # several replicas: groups of the global batch

    def _stddev(self, x):
        shape = ops.shape(x)
        features = 1
        for d in shape[1:]:
            features = features * d
        g = self._group(shape[0])
        y = ops.reshape(ops.cast(x, "float32"), (g, -1, features))  # (G, M, F)
        y = y - ops.mean(y, axis=0, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(y), axis=0, keepdims=True) + self.epsilon)  # (1, M, F)
        s = ops.mean(std, axis=2, keepdims=True)  # (1, M, 1)
        s = ops.reshape(ops.ones_like(y[..., :1]) * s, (-1,) + (1,) * (len(x.shape) - 1))  # (N, 1, ..., 1)
        feature = ops.ones_like(x[..., :1]) * ops.cast(s, x.dtype)
        return ops.concatenate([x, feature], axis=-1)

    def compute_output_shape(self, input_shape):
        last = input_shape[-1]
        return tuple(input_shape[:-1]) + (None if last is None else last + 1,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


# ---------------------------------------------------------------------------------------------------------
# Normalization helpers (one import point for the apps)
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class InstanceNormalization(layers.Layer):
    """Instance normalization (Ulyanov et al. 2016): each example's each channel normalised over its pixels,
    ``(x - mean) / sqrt(var + epsilon)`` (biased variance, as PyTorch's ``InstanceNorm2d``), then, with
    ``center``/``scale``, a learned per-channel offset ``beta`` and scale ``gamma``.

    The same output as Keras's ``GroupNormalization(groups=-1)`` (and the same weight names), computed by each
    backend's fused kernel (``zoo.backend.instance_norm``): on CPU 2-4x faster than ``GroupNormalization`` on
    TensorFlow and PyTorch, which is most of a CycleGAN step's normalisation cost. Statistics in float32 under
    mixed precision. No running statistics: training and inference behave the same. Input ``(N, H, W, C)``.
    """

    def __init__(self, epsilon=1e-5, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"InstanceNormalization takes (N, H, W, C) inputs with a known C, got {input_shape}")
        c = input_shape[-1]
        self.gamma = self.add_weight(shape=(c,), initializer="ones", name="gamma") if self.scale else None
        self.beta = self.add_weight(shape=(c,), initializer="zeros", name="beta") if self.center else None

    def call(self, x):
        from zoo import backend

        y = backend.instance_norm(x, self.epsilon)
        if self.gamma is not None:
            y = y * ops.cast(self.gamma, y.dtype)
        if self.beta is not None:
            y = y + ops.cast(self.beta, y.dtype)
        return ops.cast(y, x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale}


def instance_norm(affine=True, epsilon=1e-5, **kwargs):
    """An ``InstanceNormalization`` layer. ``affine=True`` learns a per-channel scale and offset (PyTorch
    ``InstanceNorm2d(affine=True)``); ``affine=False`` is the CycleGAN/pix2pix reference default (no weights).
    ``epsilon`` 1e-5 as PyTorch. Extra keyword arguments go to the layer."""
    return InstanceNormalization(epsilon=epsilon, center=affine, scale=affine, **kwargs)


def batch_norm(momentum=0.9, epsilon=1e-5, **kwargs):
    """Batch normalization (Ioffe & Szegedy 2015) with PyTorch's defaults (momentum 0.1 in PyTorch's
    convention = 0.9 in Keras's, epsilon 1e-5), which the reference GAN implementations were trained with."""
    return layers.BatchNormalization(momentum=momentum, epsilon=epsilon, **kwargs)


class ImageStatsNormalization(layers.BatchNormalization):
    """Batch normalization that normalises each sample by its own per-channel statistics over its spatial axes
    (what training mode computes for a batch of one image), then applies the layer's ``gamma``/``beta``. The
    moving statistics are neither used nor updated, so a batch of N images gives the N one-image results and
    the graph holds no state change (pix2pix's per-image test statistics in an exported graph)."""

    def call(self, inputs, training=None, mask=None):
        x = ops.cast(inputs, "float32")
        mean, var = ops.moments(x, axes=list(range(1, len(x.shape) - 1)), keepdims=True)
        y = (x - mean) * ops.rsqrt(var + self.epsilon)
        if self.scale:
            y = y * ops.cast(self.gamma, "float32")
        if self.center:
            y = y + ops.cast(self.beta, "float32")
        return ops.cast(y, inputs.dtype)


def spectral_norm(layer, power_iterations=1, **kwargs):
    """Spectral normalization (Miyato et al. 2018): wraps ``layer`` (Dense/Conv) so its kernel is divided by
    its largest singular value, estimated by ``power_iterations`` of the power method per training call.
    Returns ``keras.layers.SpectralNormalization(layer, ...)``; apps import it from here."""
    return layers.SpectralNormalization(layer, power_iterations=power_iterations, **kwargs)


NORMS = ("batch", "instance", None)


def make_norm(norm, affine=True, name=None, dtype=None):
    """The norm layer named by ``norm``: ``"batch"`` (``batch_norm()``, always affine), ``"instance"``
    (``instance_norm(affine)``) or ``None`` (no layer: returns None)."""
    if norm == "batch":
        return batch_norm(name=name, dtype=dtype)
    if norm == "instance":
        return instance_norm(affine=affine, name=name, dtype=dtype)
    if norm is None:
        return None
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


# ---------------------------------------------------------------------------------------------------------
# Padding and upsampling
# ---------------------------------------------------------------------------------------------------------
def upsample2x(x):
    """Nearest-neighbour 2x upsampling of ``(N, H, W, C)`` (``UpSampling2D(2)``'s values) by broadcasting and
    reshapes: the graph keeps its channel count when H and W are free and has only operations that LiteRT and
    ONNX express (TensorFlow's ``repeat`` loses the channel count, which the LiteRT converter needs)."""
    h, w = ops.shape(x)[1:3]
    c = x.shape[-1]
    two = ops.ones((1, 1, 2, 1), x.dtype)
    y = ops.reshape(ops.reshape(x, (-1, w, 1, c)) * two, (-1, h, 1, 2 * w * c))  # each column twice
    return ops.reshape(y * two, (-1, 2 * h, 2 * w, c))  # each row twice


@keras.saving.register_keras_serializable("zoo")
class NearestUpsampling(layers.Layer):
    """``upsample2x`` as a layer."""

    def call(self, x):
        return upsample2x(x)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else 2 * h, None if w is None else 2 * w, c)


@keras.saving.register_keras_serializable("zoo")
class ReflectionPadding2D(layers.Layer):
    """Reflection padding of the two spatial axes (channels-last), as ``np.pad(mode="reflect")`` and PyTorch's
    ``ReflectionPad2d``: the edge pixel is not repeated. CycleGAN (Zhu et al. 2017) pads this way before its
    7x7 and residual convolutions to avoid border artefacts.

    ``padding``: an int (all sides), ``(pad_h, pad_w)`` or ``((top, bottom), (left, right))``. Each pad must
    be smaller than the padded dimension.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        padding = tuple(padding)
        if len(padding) != 2:
            raise ValueError(f"padding must be an int, (h, w) or ((top, bottom), (left, right)), got {padding}")
        self.padding = tuple((int(p), int(p)) if isinstance(p, int) else tuple(int(q) for q in p)
                             for p in padding)
        if any(len(p) != 2 or min(p) < 0 for p in self.padding):
            raise ValueError(f"bad padding {padding}")

    def call(self, x):
        (t, b), (l, r) = self.padding
        return ops.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), mode="reflect")

    def compute_output_shape(self, input_shape):
        (t, b), (l, r) = self.padding
        h, w = input_shape[1], input_shape[2]
        return (input_shape[0], None if h is None else h + t + b, None if w is None else w + l + r,
                input_shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable("zoo")
class Blur2D(layers.Layer):
    """A fixed separable low-pass filter (binomial ``taps``, normalised; default ``(1, 2, 1)``) over the two
    spatial axes, edges reflected, same size out. Before a stride-2 convolution it removes what subsampling would
    alias (Zhang 2019, "Making Convolutional Networks Shift-Invariant Again"; StyleGAN2's filtered downsampling),
    and so the stride's period-2 pattern from the network's input gradient: odd-length symmetric taps whose
    alternating sum is 0 (``1 - 2 + 1``) pass nothing at the Nyquist frequency."""

    def __init__(self, taps=(1, 2, 1), **kwargs):
        super().__init__(**kwargs)
        self.taps = tuple(float(t) for t in taps)
        if len(self.taps) % 2 != 1 or self.taps != self.taps[::-1] or sum(self.taps) <= 0:
            raise ValueError(f"taps must be symmetric, of odd length and positive sum, got {taps}")

    def call(self, x):
        k, r = [t / sum(self.taps) for t in self.taps], len(self.taps) // 2
        x = ops.pad(x, ((0, 0), (r, r), (r, r), (0, 0)), mode="reflect")
        h, w = ops.shape(x)[1] - 2 * r, ops.shape(x)[2] - 2 * r
        x = sum(t * x[:, i:i + h] for i, t in enumerate(k))
        return sum(t * x[:, :, i:i + w] for i, t in enumerate(k))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "taps": self.taps}


@keras.saving.register_keras_serializable("zoo")
class PixelShuffle(layers.Layer):
    """Sub-pixel convolution's periodic shuffle (Shi et al. 2016): depth-to-space by ``scale`` r,
    (N, H, W, r*r*C) -> (N, r*H, r*W, C).

    Channel order is TensorFlow's ``tf.nn.depth_to_space`` (NHWC):
    ``out[n, h*r + i, w*r + j, c] = in[n, h, w, (i*r + j)*C + c]``, i.e. the channel axis splits as (r, r, C).
    PyTorch's ``nn.PixelShuffle`` (NCHW) splits it as (C, r, r): ``out[n, c, h*r+i, w*r+j] = in[n, c*r*r +
    i*r + j, h, w]``. To port a PyTorch conv that feeds ``nn.PixelShuffle``, permute its output channels
    ``k = c*r*r + i*r + j`` to ``(i*r + j)*C + c``.
    """

    def __init__(self, scale=2, **kwargs):
        super().__init__(**kwargs)
        if int(scale) < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.scale = int(scale)

    def build(self, input_shape):
        c = input_shape[-1]
        if c is not None and c % (self.scale**2):
            raise ValueError(f"PixelShuffle({self.scale}) needs channels divisible by {self.scale**2}, got {c}")

    def call(self, x):
        r = self.scale
        _, h, w, c = ops.shape(x)
        c_out = c // (r * r)
        y = ops.reshape(x, (-1, h, w, r, r, c_out))
        y = ops.transpose(y, (0, 1, 3, 2, 4, 5))  # (N, H, r_i, W, r_j, C)
        return ops.reshape(y, (-1, h * r, w * r, c_out))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        r = self.scale
        return (n, None if h is None else h * r, None if w is None else w * r,
                None if c is None else c // (r * r))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# ---------------------------------------------------------------------------------------------------------
# Leaky ReLU as TensorFlow's graph optimizer needs it
# ---------------------------------------------------------------------------------------------------------
def leaky_relu(x, negative_slope=0.2):
    """``max(x, negative_slope * x)``: the leaky ReLU's values (for a slope below 1) without TensorFlow's
    ``LeakyRelu`` op.

    In a training step TensorFlow's graph optimizer (grappler's remapper) fuses convolution + bias + ``LeakyRelu``
    into one op even where the gradient still reads the convolution's biased output (``LeakyReluGrad``'s
    features); the rewrite then fails ("remapper failed: ... fanout '.../LeakyReluGrad' exist for missing node
    '.../BiasAdd'") and the remapper skips every fusion of the step. Written as a maximum, nothing is fused into
    a node the gradient needs. Every zoo network uses this form (``LeakyReLU``, ``make_activation``).

    The other backends have no such pass and get their native leaky ReLU (the same values): on PyTorch the
    maximum's backward costs three extra passes (equality mask, select, fill), 8% of a pix2pix iteration."""
    if zoo_backend.NAME != "tensorflow":
        return ops.leaky_relu(x, negative_slope)
    return ops.maximum(x, x * negative_slope)  # a Python float: a constant in exported graphs, x's dtype kept


@keras.saving.register_keras_serializable("zoo")
class PixelUnshuffle(layers.Layer):
    """Space-to-depth by ``scale`` r, the inverse of ``PixelShuffle``: (N, r*H, r*W, C) -> (N, H, W,
    r*r*C) with TensorFlow's channel order ``out[n, h, w, (i*r + j)*C + c] = in[n, h*r + i, w*r + j, c]``.
    (PyTorch's ``pixel_unshuffle`` orders the channels ``c*r*r + i*r + j``: a ported convolution after it gets
    its input channels permuted, as ``PixelShuffle``'s docstring describes for the other direction.) Sides must
    be divisible by r (``upscale`` pads to ``multiple``)."""

    def __init__(self, scale=2, **kwargs):
        super().__init__(**kwargs)
        if int(scale) < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.scale = int(scale)

    def call(self, x):
        r = self.scale
        _, h, w, c = ops.shape(x)
        y = ops.reshape(x, (-1, h // r, r, w // r, r, c))
        y = ops.transpose(y, (0, 1, 3, 2, 4, 5))  # (N, H, W, r_i, r_j, C)
        return ops.reshape(y, (-1, h // r, w // r, r * r * c))

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        r = self.scale
        return (n, None if h is None else h // r, None if w is None else w // r, None if c is None else c * r * r)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable("zoo")
class LeakyReLU(layers.LeakyReLU):
    """Keras's ``LeakyReLU`` (same arguments and config) computed as ``leaky_relu``: ``max(x, slope * x)``."""

    def call(self, inputs):
        if not self.negative_slope < 1:
            return super().call(inputs)
        return leaky_relu(inputs, self.negative_slope)


# ---------------------------------------------------------------------------------------------------------
# Residual and U-Net blocks
# ---------------------------------------------------------------------------------------------------------
ACTIVATIONS = ("relu", "prelu", "leaky_relu")


def _activation(kind, name, dtype):
    if kind == "relu":
        return layers.ReLU(name=name, dtype=dtype)
    if kind == "prelu":
        # One slope per channel shared over the pixels (SRGAN); PyTorch's / He et al.'s initial slope 0.25.
        return layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2], name=name,
                            dtype=dtype)
    if kind == "leaky_relu":
        return LeakyReLU(negative_slope=0.2, name=name, dtype=dtype)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {kind!r}")


@keras.saving.register_keras_serializable("zoo")
class ResidualBlock(layers.Layer):
    """Residual block ``x + residual_scale * (conv-norm-act-conv-norm)(x)`` (He et al. 2016), the block of
    SRResNet/SRGAN (Ledig et al. 2017: 3x3 conv, batch norm, PReLU) and of the CycleGAN ResNet generator
    (Zhu et al. 2017 / Johnson et al. 2016: reflection padding, 3x3 conv, instance norm, ReLU).

    Args:
        filters: channels of both convs; must equal the input's channels (identity skip).
        norm: ``"batch"`` (PyTorch defaults, see ``batch_norm``), ``"instance"`` or ``None``.
        norm_affine: learn scale/offset in instance norm (CycleGAN's reference: False; SRResNet port: True).
        activation: ``"relu"``, ``"prelu"`` (per-channel slope, shared over pixels, init 0.25) or
            ``"leaky_relu"`` (slope 0.2).
        residual_scale: multiplies the residual branch (EDSR/ESRGAN use 0.1-0.2).
        padding: ``"same"`` (zero padding) or ``"reflect"`` (``ReflectionPadding2D`` then a valid conv).
        use_bias: conv biases; ``None`` = only when there is no norm (a norm's mean subtraction cancels a
            bias). The CycleGAN reference keeps them (``norm="instance", norm_affine=False, use_bias=True``).
        kernel_initializer: conv kernel init; default N(0, 0.02) as the pix2pix/CycleGAN code.
    """

    def __init__(self, filters, kernel_size=3, norm="batch", activation="relu", residual_scale=1.0,
                 padding="same", norm_affine=True, use_bias=None, kernel_initializer=GAN_INIT, **kwargs):
        super().__init__(**kwargs)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if padding not in ("same", "reflect"):
            raise ValueError(f"padding must be 'same' or 'reflect', got {padding!r}")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.norm = norm
        self.norm_affine = bool(norm_affine)
        self.activation = activation
        self.residual_scale = float(residual_scale)
        self.padding = padding
        self.use_bias = (norm is None) if use_bias is None else bool(use_bias)
        self.kernel_initializer = _initializer(kernel_initializer)
        dt = self.dtype_policy
        self.pad = (ReflectionPadding2D(self.kernel_size // 2, name="pad", dtype=dt)
                    if padding == "reflect" else None)
        conv_padding = "valid" if padding == "reflect" else "same"
        self.conv1, self.conv2 = (
            layers.Conv2D(self.filters, self.kernel_size, padding=conv_padding, use_bias=self.use_bias,
                          kernel_initializer=_initializer(kernel_initializer), name=f"conv{i}", dtype=dt)
            for i in (1, 2))
        self.norm1 = make_norm(norm, self.norm_affine, name="norm1", dtype=dt)
        self.norm2 = make_norm(norm, self.norm_affine, name="norm2", dtype=dt)
        self.act = _activation(activation, "act", dt)

    def _branch_layers(self):
        return [self.pad, self.conv1, self.norm1, self.act, self.pad, self.conv2, self.norm2]

    def build(self, input_shape):
        if input_shape[-1] != self.filters:
            raise ValueError(f"ResidualBlock({self.filters}) needs {self.filters} input channels for its identity "
                             f"skip, got {input_shape[-1]}")
        shape = tuple(input_shape)
        for layer in self._branch_layers():
            if layer is not None:
                if not layer.built:
                    layer.build(shape)
                shape = layer.compute_output_shape(shape)

    def call(self, x, training=None):
        y = x
        for layer in self._branch_layers():
            if layer is None:
                continue
            y = layer(y, training=training) if isinstance(layer, layers.BatchNormalization) else layer(y)
        if self.residual_scale != 1.0:
            y = y * ops.cast(self.residual_scale, y.dtype)
        return x + y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "norm": self.norm, "activation": self.activation, "residual_scale": self.residual_scale,
                "padding": self.padding, "norm_affine": self.norm_affine, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


class _UNetBlock(layers.Layer):
    """What UNetDown and UNetUp share: a 4x4 stride-2 convolution ``conv`` (made by the subclass) followed by an
    optional norm, the bias rule (``use_bias=None``: bias only without a norm) and the config."""

    def __init__(self, filters, norm, apply_norm, norm_affine, use_bias, kernel_initializer, **kwargs):
        super().__init__(**kwargs)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.filters = int(filters)
        self.norm = norm
        self.apply_norm = bool(apply_norm)
        self.norm_affine = bool(norm_affine)
        normed = self.apply_norm and norm is not None
        self.use_bias = (not normed) if use_bias is None else bool(use_bias)
        self.kernel_initializer = _initializer(kernel_initializer)
        self.norm_layer = make_norm(norm, self.norm_affine, name="norm", dtype=self.dtype_policy) if normed else None

    def build(self, input_shape, *other_shapes):
        self.conv.build(tuple(input_shape))
        if self.norm_layer is not None:
            self.norm_layer.build(self.conv.compute_output_shape(tuple(input_shape)))

    def _conv_norm(self, x, training):
        y = self.conv(x)
        return y if self.norm_layer is None else self.norm_layer(y, training=training)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "norm": self.norm,
                "apply_norm": self.apply_norm, "norm_affine": self.norm_affine, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


@keras.saving.register_keras_serializable("zoo")
class UNetDown(_UNetBlock):
    """pix2pix U-Net encoder block (Isola et al. 2017, "C_k"): Conv2D 4x4 stride 2 ("same": halves H and
    W) -> norm -> LeakyReLU(0.2).

    ``apply_norm=False`` for the first encoder layer (the paper: no batch norm there). ``use_bias=None`` =
    bias only without a norm; the PyTorch reference has no conv bias anywhere when it uses batch norm, so pass
    ``use_bias=False`` to match its parameter count exactly. Conv init N(0, 0.02) as in the paper.
    """

    def __init__(self, filters, norm="batch", apply_norm=True, norm_affine=True, use_bias=None,
                 kernel_initializer=GAN_INIT, **kwargs):
        super().__init__(filters, norm, apply_norm, norm_affine, use_bias, kernel_initializer, **kwargs)
        dt = self.dtype_policy
        self.conv = layers.Conv2D(self.filters, 4, strides=2, padding="same", use_bias=self.use_bias,
                                  kernel_initializer=_initializer(kernel_initializer), name="conv", dtype=dt)
        self.act = LeakyReLU(negative_slope=0.2, name="act", dtype=dt)

    def call(self, x, training=None):
        return self.act(self._conv_norm(x, training))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(tuple(input_shape))


@keras.saving.register_keras_serializable("zoo")
class UNetUp(_UNetBlock):
    """pix2pix U-Net decoder block (Isola et al. 2017, "CD_k"/"C_k"): ReLU -> Conv2DTranspose 4x4 stride 2
    (doubles H and W) -> norm -> dropout (the paper: 0.5 in the first three decoder blocks).

    ``call(x, skip=None)``: with a ``skip`` tensor (the mirrored encoder activation) the output is
    ``concatenate([skip, up(x)], axis=-1)``, skip first as the PyTorch reference's ``torch.cat([x, model(x)],
    1)``; so the block outputs ``skip_channels + filters`` channels. Without ``skip`` it returns ``up(x)``.
    ``use_bias=None`` = bias only without a norm. Conv init N(0, 0.02).
    """

    def __init__(self, filters, norm="batch", dropout=0.0, apply_norm=True, norm_affine=True, use_bias=None,
                 kernel_initializer=GAN_INIT, **kwargs):
        super().__init__(filters, norm, apply_norm, norm_affine, use_bias, kernel_initializer, **kwargs)
        self.dropout = float(dropout)
        dt = self.dtype_policy
        self.act = layers.ReLU(name="act", dtype=dt)
        self.conv = layers.Conv2DTranspose(self.filters, 4, strides=2, padding="same", use_bias=self.use_bias,
                                           kernel_initializer=_initializer(kernel_initializer), name="conv",
                                           dtype=dt)
        self.drop = layers.Dropout(self.dropout, name="dropout", dtype=dt) if self.dropout else None

    def call(self, x, skip=None, training=None):
        y = self._conv_norm(self.act(x), training)
        if self.drop is not None:
            y = self.drop(y, training=training)
        if skip is not None:
            y = ops.concatenate([ops.cast(skip, y.dtype), y], axis=-1)
        return y

    def compute_output_shape(self, x_shape, skip_shape=None):
        shape = self.conv.compute_output_shape(tuple(x_shape))
        if skip_shape is not None:
            shape = tuple(shape[:-1]) + (shape[-1] + skip_shape[-1],)
        return shape

    def get_config(self):
        return {**super().get_config(), "dropout": self.dropout}


# ---------------------------------------------------------------------------------------------------------
def _pair(v):
    return (int(v), int(v)) if isinstance(v, int) else tuple(int(u) for u in v)


def _conv_length(n, k, s, padding):
    if n is None:
        return None
    return -(-n // s) if padding == "same" else (n - k) // s + 1


@keras.saving.register_keras_serializable("zoo")
class ImagePool(layers.Layer):
    """A history of generated images for the discriminator (Shrivastava et al. 2017; CycleGAN section 4).

    Called on a batch of fakes, returns a batch of the same shape: while the pool is filling, each fake is stored
    and returned as is; once full, each fake is, with probability 1/2, swapped for a stored one (returned) and
    stored in its place, otherwise returned as is. ``size=0`` returns the fakes unchanged. The stored images and
    their count are (non-trainable) weights, so checkpoints keep the pool; the swap draws use the layer's own seed
    state. Works inside compiled steps of every backend (no Python-side state); when two fakes of one batch draw
    the same slot, the slot keeps their average. Under a ``tf.distribute`` strategy the pool sees the global batch
    (gathered from the replicas) and every replica keeps the same pool (``zoo.distribute``).

    Args:
        size: images kept (CycleGAN: 50).
        image_shape: ``(H, W, C)`` of one image; the pool is built at once, before any compiled step runs.
    """

    def __init__(self, size=50, image_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(size) < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        self.size = int(size)
        self.image_shape = None if image_shape is None else tuple(int(d) for d in image_shape)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        if self.image_shape is not None:
            self.build((None,) + self.image_shape)

    def build(self, input_shape):
        self.images = self.add_weight(shape=(max(self.size, 1),) + tuple(input_shape[1:]), initializer="zeros",
                                      trainable=False, name="images", dtype=self.variable_dtype)
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count", dtype="int32")
        self.built = True

    def call(self, fakes):
        if self.size == 0:
            return fakes
        from zoo import distribute

        # several replicas: the pool takes the global batch, as one device would, and returns this replica's rows
        return distribute.on_global_batch(self._swap, fakes)

    def _swap(self, fakes):
        n = ops.shape(fakes)[0]
        per_image = (-1,) + (1,) * (len(fakes.shape) - 1)                      # broadcasts over one image
        stored = ops.cast(self.images, fakes.dtype)
        held = ops.cast(self.count, "int32")                                   # swaps pick among these
        fill = held + ops.arange(n, dtype="int32")                             # slots while filling
        filling = fill < self.size
        swap = ops.logical_and(ops.logical_and(ops.logical_not(filling), held > 0),
                               keras.random.uniform((n,), seed=self.seed_generator) > 0.5)
        u = keras.random.uniform((n,), seed=self.seed_generator)
        j = ops.minimum(ops.cast(u * ops.cast(held, "float32"), "int32"), ops.maximum(held - 1, 0))
        picked = ops.take(stored, j, axis=0)
        mask = ops.reshape(ops.cast(swap, fakes.dtype), per_image)
        returned = mask * picked + (1.0 - mask) * fakes
        slot = ops.where(filling, fill, ops.where(swap, j, -1))                # -1: not stored
        onehot = ops.one_hot(ops.maximum(slot, 0), self.size, dtype=fakes.dtype) * ops.cast(
            ops.reshape(slot >= 0, (-1, 1)), fakes.dtype)                      # (n, size); not stored: zeros
        hits = ops.sum(onehot, axis=0)                                         # (size,)
        written = ops.tensordot(ops.transpose(onehot), ops.reshape(fakes, (n, -1)), axes=1)
        written = ops.reshape(written, ops.shape(stored)) / ops.reshape(ops.maximum(hits, 1.0), per_image)
        keep = ops.reshape(ops.cast(hits == 0, fakes.dtype), per_image)
        self.images.assign(ops.cast(keep * stored + written, self.images.dtype))
        self.count.assign(ops.minimum(held + n, self.size))
        return ops.stop_gradient(returned)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "image_shape": self.image_shape, "seed": self.seed}
