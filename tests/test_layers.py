"""zoo.layers against NumPy references, hand-counted parameters, and a .keras round trip (any backend)."""
import numpy as np
import pytest

import keras
from keras import ops

from zoo.layers import (Blur2D, EqualizedConv2D, EqualizedDense, MinibatchDiscrimination, MinibatchStdDev,
                        PixelNorm, PixelShuffle, ReflectionPadding2D, ResidualBlock, UNetDown, UNetUp, instance_norm,
                        spectral_norm)

RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape).astype("float32")


def np_(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


# -- NumPy references --------------------------------------------------------------------------------------
def depth_to_space_ref(x, r):
    """tf.nn.depth_to_space, NHWC, from its documented formula, one element at a time."""
    n, h, w, c = x.shape
    co = c // (r * r)
    out = np.zeros((n, h * r, w * r, co), x.dtype)
    for i in range(h * r):
        for j in range(w * r):
            for k in range(co):
                out[:, i, j, k] = x[:, i // r, j // r, ((i % r) * r + (j % r)) * co + k]
    return out


def conv_ref(x, k, b=None, stride=1):
    """Valid cross-correlation, NHWC input, HWIO kernel."""
    kh, kw = k.shape[:2]
    ho, wo = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, k.shape[3]))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j] = np.einsum("nhwc,hwco->no", patch, k)
    return out if b is None else out + b


def mbstd_ref(x, group):
    """Each sample's group is {j : j = i mod (N / G)}; mean over features of sqrt(var over the group + eps)."""
    x = x.astype("float64")
    n = len(x)
    m = n // group
    feat = np.zeros(n)
    for i in range(n):
        members = x[[j for j in range(n) if j % m == i % m]]
        assert len(members) == group
        feat[i] = np.mean(np.sqrt(np.var(members, axis=0) + 1e-8))
    return np.concatenate([x, np.broadcast_to(feat[:, None, None, None], x.shape[:3] + (1,))], axis=-1)


# -- PixelShuffle --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("r", [2, 3])
def test_pixel_shuffle_matches_depth_to_space(r):
    x = randn(2, 3, 4, r * r * 2)
    out = np_(PixelShuffle(r)(x))
    assert out.shape == (2, 3 * r, 4 * r, 2)
    np.testing.assert_array_equal(out, depth_to_space_ref(x, r))
    if keras.backend.backend() == "tensorflow":
        tf = pytest.importorskip("tensorflow")
        np.testing.assert_array_equal(out, tf.nn.depth_to_space(x, r).numpy())


def test_pixel_shuffle_vs_torch_channel_order():
    """The docstring's recipe: torch's (C, r, r) channel split permuted to (r, r, C) gives the same image."""
    torch = pytest.importorskip("torch")
    r, c = 2, 3
    x_torch = randn(2, c * r * r, 3, 5)  # NCHW, channel k = c*r*r + i*r + j
    ref = torch.nn.functional.pixel_shuffle(torch.from_numpy(x_torch), r).numpy().transpose(0, 2, 3, 1)
    perm = [ci * r * r + i * r + j for i in range(r) for j in range(r) for ci in range(c)]  # ours: (i*r+j)*C+c
    ours = np_(PixelShuffle(r)(x_torch.transpose(0, 2, 3, 1)[..., perm]))
    np.testing.assert_array_equal(ours, ref)
    # ... and without the permutation the orders genuinely differ
    assert not np.allclose(np_(PixelShuffle(r)(x_torch.transpose(0, 2, 3, 1))), ref)


def test_pixel_shuffle_unknown_spatial_size_and_bad_channels():
    inp = keras.Input((None, None, 8))
    model = keras.Model(inp, PixelShuffle(2)(inp))
    assert model.output_shape == (None, None, None, 2)
    x = randn(3, 5, 2, 8)
    np.testing.assert_array_equal(np_(model.predict(x, verbose=0)), depth_to_space_ref(x, 2))
    with pytest.raises(ValueError, match="divisible"):
        PixelShuffle(2)(randn(1, 2, 2, 6))


# -- ReflectionPadding2D ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding,np_pad", [(2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3))),
                                            (((0, 2), (3, 1)), ((0, 2), (3, 1)))])
def test_reflection_padding(padding, np_pad):
    x = randn(2, 5, 6, 3)
    layer = ReflectionPadding2D(padding)
    out = np_(layer(x))
    ref = np.pad(x, ((0, 0),) + np_pad + ((0, 0),), mode="reflect")
    np.testing.assert_array_equal(out, ref)
    assert layer.compute_output_shape((None, 5, 6, 3)) == (None,) + ref.shape[1:]


# -- Blur2D ----------------------------------------------------------------------------------------------------
def test_blur2d_is_the_reflect_padded_binomial_filter():
    x = randn(2, 7, 9, 3)
    p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect").astype("float64")
    k = np.array([1.0, 2.0, 1.0]) / 4
    ref = sum(k[i] * k[j] * p[:, i:i + 7, j:j + 9] for i in range(3) for j in range(3))
    layer = Blur2D()
    np.testing.assert_allclose(np_(layer(x)), ref, atol=1e-6)
    assert layer.compute_output_shape((None, 7, 9, 3)) == (None, 7, 9, 3)
    np.testing.assert_allclose(np_(Blur2D()(np.full((1, 5, 5, 2), 0.3, "float32"))), 0.3, atol=1e-7)  # DC passes
    nyquist = np.where((np.arange(8)[:, None] + np.arange(8)) % 2 == 0, 1.0, -1.0)[None, :, :, None]
    out = np_(Blur2D()(nyquist.astype("float32")))
    np.testing.assert_allclose(out[:, 1:-1, 1:-1], 0.0, atol=1e-7)  # the checkerboard is removed (inside)
    out5 = np_(Blur2D((1, 4, 6, 4, 1))(x))
    assert out5.shape == x.shape and np.abs(out5).mean() < np.abs(np_(layer(x))).mean()  # a wider low-pass
    restored = Blur2D.from_config(Blur2D((1, 4, 6, 4, 1)).get_config())
    assert restored.taps == (1.0, 4.0, 6.0, 4.0, 1.0)
    for bad in ((1, 2), (1, 2, 3), (0, 0, 0)):
        with pytest.raises(ValueError, match="taps"):
            Blur2D(bad)


# -- PixelNorm / MinibatchStdDev -------------------------------------------------------------------------------
def test_pixel_norm():
    x = randn(2, 3, 4, 5) * 3.0
    ref = x / np.sqrt(np.mean(x.astype("float64") ** 2, axis=-1, keepdims=True) + 1e-8)
    out = np_(PixelNorm()(x))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.mean(out**2, axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("n,group", [(8, 4), (6, 3), (2, 2), (4, 4)])
def test_minibatch_stddev(n, group):
    x = randn(n, 3, 3, 5) * np.arange(1, 6, dtype="float32")
    out = np_(MinibatchStdDev(group_size=4)(x))
    assert out.shape == (n, 3, 3, 6)
    np.testing.assert_allclose(out, mbstd_ref(x, group), rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_group_choice():
    layer = MinibatchStdDev(group_size=4)
    expected = {1: 1, 2: 2, 3: 3, 4: 4, 5: 1, 6: 3, 8: 4, 9: 3, 12: 4, 14: 2}
    assert {n: layer._group(n) for n in expected} == expected
    # the tensor path used when the batch is only known at run time agrees
    for n, g in expected.items():
        assert int(ops.convert_to_numpy(layer._group(ops.convert_to_tensor(n, "int32")))) == g
    # a prime batch larger than the group: group size 1, the feature is sqrt(eps)
    np.testing.assert_allclose(np_(layer(randn(5, 2, 2, 3)))[..., 3], 1e-4, rtol=1e-4)


def test_minibatch_stddev_unknown_batch_in_a_model():
    inp = keras.Input((3, 3, 5))
    model = keras.Model(inp, MinibatchStdDev()(inp))
    assert model.output_shape == (None, 3, 3, 6)
    for n, group in [(8, 4), (6, 3), (9, 3)]:
        x = randn(n, 3, 3, 5)
        out = np_(model.predict(x, batch_size=n, verbose=0))
        np.testing.assert_allclose(out, mbstd_ref(x, group), rtol=1e-5, atol=1e-6)
    if keras.backend.backend() == "tensorflow":  # a graph traced once for any batch size
        tf = pytest.importorskip("tensorflow")
        layer = MinibatchStdDev()
        fn = tf.function(layer.call, input_signature=[tf.TensorSpec((None, 3, 3, 5), "float32")])
        for n, group in [(8, 4), (6, 3), (2, 2)]:
            x = randn(n, 3, 3, 5)
            np.testing.assert_allclose(fn(x).numpy(), mbstd_ref(x, group), rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_flat_features():
    x = randn(4, 7)
    out = np_(MinibatchStdDev(group_size=2)(x))
    m = 2  # groups {0, 2} and {1, 3}
    feat = [np.mean(np.sqrt(np.var(x[[i % m, i % m + m]].astype("float64"), axis=0) + 1e-8)) for i in range(4)]
    np.testing.assert_allclose(out, np.concatenate([x, np.array(feat)[:, None]], axis=1), rtol=1e-5)


# -- Equalized learning rate -----------------------------------------------------------------------------------
@pytest.mark.parametrize("strides,padding", [(1, "same"), (2, "valid")])
def test_equalized_conv_is_a_conv_with_the_he_scaled_kernel(strides, padding):
    x = randn(2, 7, 7, 4)
    layer = EqualizedConv2D(6, 3, strides=strides, padding=padding)
    out = np_(layer(x))
    w, b = [np_(v) for v in layer.weights]
    assert w.shape == (3, 3, 4, 6) and b.shape == (6,) and not b.any()  # bias zero-init
    layer.bias.assign(randn(6))
    out = np_(layer(x))
    scaled = w * np.sqrt(2.0 / (3 * 3 * 4))
    np.testing.assert_allclose(np_(layer.effective_kernel()), scaled, rtol=1e-6)
    plain = keras.layers.Conv2D(6, 3, strides=strides, padding=padding)
    plain.build(x.shape)
    plain.set_weights([scaled.astype("float32"), np_(layer.bias).astype("float32")])
    np.testing.assert_allclose(out, np_(plain(x)), rtol=1e-4, atol=1e-5)
    if padding == "valid":
        np.testing.assert_allclose(out, conv_ref(x.astype("float64"), scaled, np_(layer.bias), stride=2),
                                   rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape(x.shape) == out.shape


def test_equalized_init_and_lr_multiplier():
    layer = EqualizedConv2D(32, 3, lr_multiplier=0.01, gain=1.0)
    layer.build((None, 8, 8, 16))
    w = np_(layer.kernel)
    assert abs(w.std() * 0.01 - 1.0) < 0.05 and abs(w.mean()) < 0.05 / 0.01  # stored ~ N(0, 1/lr_mul)
    assert layer.scale == pytest.approx(np.sqrt(1.0 / (9 * 16)) * 0.01)
    dense = EqualizedDense(3, gain=1.0, lr_multiplier=0.5, activation="relu")
    x = randn(4, 10)
    dense.build(x.shape)
    dense.bias.assign(np.array([1.0, -2.0, 0.5], "float32"))
    k, b = np_(dense.kernel), np_(dense.bias)
    ref = np.maximum(x @ (k * np.sqrt(1.0 / 10) * 0.5) + b * 0.5, 0.0)
    np.testing.assert_allclose(np_(dense(x)), ref, rtol=1e-5, atol=1e-6)


def test_equalized_dense_default_init_statistics():
    layer = EqualizedDense(64)
    layer.build((None, 128))
    w = np_(layer.kernel)
    assert abs(w.std() - 1.0) < 0.03 and abs(w.mean()) < 0.03
    assert not np_(layer.bias).any()
    x = randn(3, 5, 128)
    np.testing.assert_allclose(np_(layer(x)), x @ (w * np.sqrt(2.0 / 128)), rtol=1e-4, atol=1e-5)


# -- instance norm / spectral norm -----------------------------------------------------------------------------
def test_instance_norm_normalises_each_sample_and_channel():
    x = randn(3, 6, 5, 4) * np.array([1, 2, 3, 4], "float32") + np.array([10, -5, 0, 3], "float32")
    x[1] *= 7.0
    layer = instance_norm()
    out = np_(layer(x))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, atol=1e-3)
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    assert count(layer.trainable_weights) == 2 * 4  # affine by default
    plain = instance_norm(affine=False)
    np.testing.assert_allclose(np_(plain(x)), out, rtol=1e-5, atol=1e-5)
    assert plain.weights == []


@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_equals_group_normalization_in_output_and_gradients(affine):
    """The fused layer against Keras's GroupNormalization(groups=-1): same outputs, same gradients with respect
    to the input and the scale/offset, at batch 1 and 3, odd sizes."""
    from zoo import backend

    for shape in ((1, 9, 7, 5), (3, 6, 10, 4)):
        x = randn(*shape) * 3.0 + 2.0
        w = ops.convert_to_tensor(randn(*shape))  # a loss weighting: gradients not trivially zero
        fast = instance_norm(affine=affine)
        ref = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=affine, scale=affine)
        fast.build(shape), ref.build(shape)
        if affine:
            gamma, beta = randn(shape[-1]) + 1.0, randn(shape[-1])
            for layer in (fast, ref):
                layer.set_weights([gamma, beta])
            assert [v.path.split("/")[-1] for v in fast.weights] == [v.path.split("/")[-1] for v in ref.weights]
        np.testing.assert_allclose(np_(fast(x)), np_(ref(x)), rtol=1e-4, atol=1e-4)
        grads = [np_(backend.input_gradient(lambda t, layer=layer: layer(t) * w, ops.convert_to_tensor(x)))
                 for layer in (fast, ref)]
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-3, atol=1e-4)
        assert np.abs(grads[0]).max() > 1e-3
        if affine:
            g_fast, g_ref = (backend.gradients(lambda layer=layer: ops.sum(layer(x) * w), layer.trainable_weights)[2]
                             for layer in (fast, ref))
            for a, b in zip(g_fast, g_ref):
                np.testing.assert_allclose(np_(a), np_(b), rtol=1e-4, atol=1e-3)


def test_instance_norm_under_mixed_precision_keeps_the_input_dtype():
    x = randn(2, 8, 8, 3) * 50.0
    layer = instance_norm(dtype="mixed_bfloat16")
    out = layer(ops.cast(x, "bfloat16"))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(np_(out), (x - mean) / np.sqrt(var + 1e-5), atol=0.05)


def test_spectral_norm_divides_by_the_top_singular_value():
    # Seeded: power iteration converges as (s2/s1)^(2k), slowly for kernels whose top two singular values are close.
    keras.utils.set_random_seed(0)
    layer = spectral_norm(keras.layers.Dense(5, use_bias=False), power_iterations=100)
    x = randn(2, 8)
    layer(x, training=True)  # power iterations update the normalized kernel
    k = np_(layer.layer.kernel)
    assert isinstance(layer, keras.layers.SpectralNormalization)
    assert np.linalg.svd(k, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-3)


# -- MinibatchDiscrimination ----------------------------------------------------------------------------------
def test_minibatch_discrimination_salimans_formula():
    x = randn(5, 6)
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    out = np_(layer(x))
    T = np_(layer.T).reshape(6, 4, 3)
    M = np.einsum("na,abc->nbc", x.astype("float64"), T)
    o = np.zeros((5, 4))
    for i in range(5):
        for j in range(5):
            if j != i:
                o[i] += np.exp(-np.abs(M[i] - M[j]).sum(axis=-1))
    assert out.shape == (5, 10) == layer.compute_output_shape((5, 6))
    np.testing.assert_allclose(out, np.concatenate([x, o], axis=1), rtol=1e-5, atol=1e-6)


# -- residual and U-Net blocks --------------------------------------------------------------------------------
def test_residual_block_parameter_counts():
    def build(**kw):
        block = ResidualBlock(8, **kw)
        block.build((None, 6, 6, 8))
        return block

    conv = 3 * 3 * 8 * 8
    b = build()  # batch norm: no conv bias; BN has gamma, beta trainable + 2 moving stats
    assert count(b.trainable_weights) == 2 * conv + 2 * 2 * 8
    assert count(b.non_trainable_weights) == 2 * 2 * 8
    assert count(build(activation="prelu").trainable_weights) == 2 * conv + 2 * 2 * 8 + 8
    assert count(build(norm=None).weights) == 2 * (conv + 8)
    assert count(build(norm="instance", norm_affine=False, use_bias=True).weights) == 2 * (conv + 8)
    assert count(build(norm="instance").weights) == 2 * conv + 2 * 2 * 8
    # the CycleGAN ResNet block at full size: 2 x (3*3*256*256 + 256) = 1,180,160
    cyc = ResidualBlock(256, norm="instance", norm_affine=False, use_bias=True, padding="reflect")
    cyc.build((None, 64, 64, 256))
    assert count(cyc.trainable_weights) == 1_180_160
    with pytest.raises(ValueError, match="input channels"):
        ResidualBlock(8).build((None, 6, 6, 4))


@pytest.mark.parametrize("padding", ["same", "reflect"])
def test_residual_block_computes_x_plus_scaled_branch(padding):
    x = randn(2, 5, 5, 3)
    block = ResidualBlock(3, norm=None, activation="prelu", residual_scale=0.5, padding=padding)
    out = np_(block(x))
    k1, b1, alpha, k2, b2 = (np_(block.conv1.kernel), np_(block.conv1.bias), np_(block.act.alpha),
                             np_(block.conv2.kernel), np_(block.conv2.bias))
    np.testing.assert_allclose(alpha, 0.25)
    mode = "reflect" if padding == "reflect" else "constant"
    pad = lambda t: np.pad(t, ((0, 0), (1, 1), (1, 1), (0, 0)), mode=mode)
    y = conv_ref(pad(x.astype("float64")), k1, b1)
    y = np.where(y > 0, y, 0.25 * y)
    y = conv_ref(pad(y), k2, b2)
    np.testing.assert_allclose(out, x + 0.5 * y, rtol=1e-4, atol=1e-5)


def test_residual_block_batch_norm_training_flag():
    x = randn(4, 5, 5, 4) * 3 + 2
    block = ResidualBlock(4, norm="batch", activation="leaky_relu")
    infer = np_(block(x, training=False))
    train = np_(block(x, training=True))
    assert not np.allclose(infer, train)  # batch statistics vs moving statistics
    moving_mean = np_(block.norm1.moving_mean)
    assert np.abs(moving_mean).max() > 0  # moved towards the batch mean (momentum 0.9)
    assert block.norm1.momentum == pytest.approx(0.9) and block.norm1.epsilon == pytest.approx(1e-5)


def test_unet_down_shapes_and_counts():
    x = randn(2, 8, 8, 3)
    down = UNetDown(16)
    out = np_(down(x, training=True))
    assert out.shape == (2, 4, 4, 16)
    # conv 4x4 stride 2 ("same" pads 1 each side), batch norm on batch statistics, LeakyReLU(0.2)
    y = conv_ref(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))).astype("float64"), np_(down.conv.kernel), stride=2)
    y = (y - y.mean(axis=(0, 1, 2))) / np.sqrt(y.var(axis=(0, 1, 2)) + 1e-5)
    np.testing.assert_allclose(out, np.where(y > 0, y, 0.2 * y), rtol=1e-3, atol=1e-4)
    conv = 4 * 4 * 3 * 16
    assert count(down.trainable_weights) == conv + 2 * 16 and count(down.non_trainable_weights) == 2 * 16
    first = UNetDown(16, apply_norm=False)
    first.build((None, 8, 8, 3))
    assert count(first.weights) == conv + 16  # no norm -> bias
    ref = first.conv.kernel
    y = conv_ref(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))).astype("float64"), np_(ref), np_(first.conv.bias), 2)
    np.testing.assert_allclose(np_(first(x)), np.where(y > 0, y, 0.2 * y), rtol=1e-4, atol=1e-5)
    # pix2pix reference (batch norm, no conv bias anywhere), an inner 512 -> 512 block: 4*4*512*512 + 4*512
    big = UNetDown(512, use_bias=False)
    big.build((None, 4, 4, 512))
    assert count(big.weights) == 4 * 4 * 512 * 512 + 4 * 512
    assert np_(big.conv.kernel).std() == pytest.approx(0.02, rel=0.02)  # N(0, 0.02) init


def test_unet_up_shapes_counts_skip_and_dropout():
    x, skip = randn(2, 4, 4, 16), randn(2, 8, 8, 12)
    up = UNetUp(8, dropout=0.5)
    out = np_(up(x, skip, training=False))
    assert out.shape == (2, 8, 8, 12 + 8) == up.compute_output_shape(x.shape, skip.shape)
    np.testing.assert_array_equal(out[..., :12], skip)  # skip first, as the PyTorch reference
    assert count(up.trainable_weights) == 4 * 4 * 8 * 16 + 2 * 8
    assert count(up.non_trainable_weights) == 2 * 8
    assert np_(up(x, training=False)).shape == (2, 8, 8, 8)
    np.testing.assert_array_equal(np_(up(x, training=False)), np_(up(x, training=False)))
    dropped = np_(up(x, training=True))
    assert 0.3 < np.mean(dropped == 0) < 0.7
    last = UNetUp(3, apply_norm=False)
    last.build((None, 4, 4, 16))
    assert count(last.weights) == 4 * 4 * 3 * 16 + 3


# -- serialization, mixed precision ---------------------------------------------------------------------------
def _every_layer_model():
    inp = keras.Input((8, 8, 3))
    x = ReflectionPadding2D(1)(inp)
    x = EqualizedConv2D(8, 3, padding="valid", activation="leaky_relu")(x)
    x = PixelNorm()(x)
    x = ResidualBlock(8, norm="instance", activation="prelu", padding="reflect")(x)
    x = ResidualBlock(8, norm="batch", residual_scale=0.2)(x)
    d1 = UNetDown(16, apply_norm=False)(x)
    d2 = UNetDown(16, norm="instance")(d1)
    u = UNetUp(16, dropout=0.5)(d2, d1)
    u = UNetUp(8)(u, x)
    x = spectral_norm(keras.layers.Conv2D(16, 3, padding="same"))(u)
    x = PixelShuffle(2)(x)
    x = instance_norm()(x)
    x = MinibatchStdDev(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = EqualizedDense(6, lr_multiplier=0.1)(x)
    x = MinibatchDiscrimination(3, 2)(x)
    return keras.Model(inp, keras.layers.Dense(1)(x))


def test_every_layer_saves_and_loads_with_safe_mode(tmp_path):
    model = _every_layer_model()
    x = randn(4, 8, 8, 3)
    for _ in range(2):  # move batch-norm statistics and spectral-norm vectors away from their init
        model(x, training=True)
    before = np_(model(x, training=False))
    path = str(tmp_path / "every.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(np_(loaded(x, training=False)), before)
    assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
    assert loaded.count_params() == model.count_params()


@pytest.mark.parametrize("make", [
    lambda: EqualizedConv2D(4, 3, strides=2, padding="valid", gain=1.0, lr_multiplier=0.5, activation="tanh"),
    lambda: EqualizedDense(3, use_bias=False), lambda: PixelNorm(epsilon=1e-6), lambda: MinibatchStdDev(8),
    lambda: ReflectionPadding2D(((1, 2), (0, 3))), lambda: PixelShuffle(3),
    lambda: ResidualBlock(4, 5, norm="instance", activation="leaky_relu", residual_scale=0.1, padding="reflect",
                          norm_affine=False, use_bias=True, kernel_initializer="he_normal"),
    lambda: UNetDown(4, norm=None), lambda: UNetUp(4, norm="instance", dropout=0.5, norm_affine=False),
    lambda: MinibatchDiscrimination(7, 2)])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
    assert type(revived) is type(layer) and revived.get_config() == config


def test_mixed_precision_casts_weights_to_the_input_dtype():
    x = randn(4, 6, 6, 8)
    cases = [(EqualizedConv2D, (4, 3)), (EqualizedDense, (5,)), (PixelNorm, ()), (MinibatchStdDev, ()),
             (PixelShuffle, (2,)), (ReflectionPadding2D, (1,)), (ResidualBlock, (8,)), (UNetDown, (4,))]
    for cls, args in cases:
        full = cls(*args)
        ref = np_(full(x))
        half = cls(*args, dtype="mixed_bfloat16")
        half.build(x.shape)
        half.set_weights(full.get_weights())
        out = half(x)
        assert keras.backend.standardize_dtype(out.dtype) == "bfloat16", cls.__name__
        assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in half.weights)
        np.testing.assert_allclose(np_(ops.cast(out, "float32")), ref, rtol=0.05, atol=0.05 * np.abs(ref).max(),
                                   err_msg=cls.__name__)
    up = UNetUp(4, dtype="mixed_bfloat16")
    out = up(x, randn(4, 12, 12, 3))
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16" and out.shape == (4, 12, 12, 7)
    md = MinibatchDiscrimination(3, 2, dtype="mixed_bfloat16")
    assert keras.backend.standardize_dtype(md(randn(4, 5)).dtype) == "bfloat16"


# -- zoo.optimizers.Adam ---------------------------------------------------------------------------------
def _adam_run(cls, grads, init, compiled):
    variables = [keras.Variable(w) for w in init]
    opt = cls(learning_rate=1e-2, beta_1=0.5, beta_2=0.99, epsilon=1e-3)
    opt.build(variables)
    apply = lambda g: opt.apply(g, variables)  # noqa: E731
    if compiled and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        apply = tf.function(apply)
    for g in grads:  # the first gradient a permuted view (on torch not contiguous, as a conv kernel's gradient)
        first = ops.transpose(ops.convert_to_tensor(np.ascontiguousarray(g[0].transpose(3, 2, 0, 1))), (2, 3, 1, 0))
        apply([first] + [ops.convert_to_tensor(x) for x in g[1:]])
    return [np_(v) for v in variables] + [np_(v) for v in opt.variables]  # iterations, rate, m and v


@pytest.mark.parametrize("compiled", [False, True])
def test_zoo_adam_is_keras_adam_step_for_step(compiled):
    """The fused update (ResourceApplyAdam on TF, torch._fused_adam_ on torch, Keras's own on JAX) gives Keras's
    weights and moments after 5 steps, also inside a compiled function and for a gradient that is a strided view;
    amsgrad falls back to Keras's."""
    from zoo.optimizers import Adam

    init = [randn(3, 3, 4, 5), randn(7)]
    grads = [[randn(3, 3, 4, 5), randn(7)] for _ in range(5)]
    ours, theirs = _adam_run(Adam, grads, init, compiled), _adam_run(keras.optimizers.Adam, grads, init, compiled)
    assert len(ours) == len(theirs) == 2 + 2 + 4
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.abs(ours[0] - init[0]).max() > 1e-2  # the weights moved
    opt = Adam(amsgrad=True)
    variables = [keras.Variable(init[0])]
    opt.apply([ops.convert_to_tensor(grads[0][0])], variables)
    ref = keras.optimizers.Adam(amsgrad=True)
    ref_vars = [keras.Variable(init[0])]
    ref.apply([ops.convert_to_tensor(grads[0][0])], ref_vars)
    np.testing.assert_allclose(np_(variables[0]), np_(ref_vars[0]), rtol=1e-6)
