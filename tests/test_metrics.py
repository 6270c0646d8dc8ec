"""zoo.metrics against independent implementations: scikit-image (PSNR, SSIM, rgb2ycbcr), scipy.linalg.sqrtm
(Frechet distance), a plain double loop (KID). Real photos from skimage.data; no network."""
import ast
import inspect
import os
import socket
import warnings

import keras
import numpy as np
import pytest

from zoo import metrics

skimage = pytest.importorskip("skimage")
scipy_linalg = pytest.importorskip("scipy.linalg")
from scipy import ndimage  # noqa: E402
from skimage import color, data  # noqa: E402
from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402

H, W = 120, 152  # crops keep the suite fast; odd-ish sizes exercise the 'valid' borders


@pytest.fixture(scope="module")
def photos():
    """Clean uint8 crops of astronaut, chelsea, coffee and distorted versions (noise, blur, noise+blur)."""
    rng = np.random.default_rng(0)
    clean = np.stack([data.astronaut()[40:40 + H, 180:180 + W], data.chelsea()[60:60 + H, 100:100 + W],
                      data.coffee()[100:100 + H, 200:200 + W]])
    f = clean.astype(np.float64)
    noisy = f + rng.normal(0, 12, f.shape)
    blurred = ndimage.gaussian_filter(f, sigma=(0, 1.2, 1.2, 0))
    both = ndimage.gaussian_filter(f, sigma=(0, 0.7, 0.7, 0)) + rng.normal(0, 5, f.shape)
    dist = np.stack([noisy[0], blurred[1], both[2]])
    return clean, np.clip(np.round(dist), 0, 255).astype(np.uint8)


def sk_ssim(a, b, data_range, channel_axis=-1):
    return structural_similarity(a, b, data_range=data_range, channel_axis=channel_axis, gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False)


def sk_y(img):
    """MATLAB-style Y from skimage (independent of zoo.rgb_to_y)."""
    return color.rgb2ycbcr(img)[..., 0]


# --------------------------------------------------------------------------------------------- PSNR


def test_psnr_rgb_uint8_single_and_batch(photos):
    clean, dist = photos
    ref = [peak_signal_noise_ratio(c, d, data_range=255) for c, d in zip(clean, dist)]
    for i in range(3):
        v = metrics.psnr(clean[i], dist[i])
        assert isinstance(v, float)
        assert abs(v - ref[i]) < 1e-6
    batch = metrics.psnr(clean, dist)
    assert isinstance(batch, np.ndarray) and batch.shape == (3,)
    np.testing.assert_allclose(batch, ref, rtol=0, atol=1e-6)
    assert len(set(np.round(ref, 3))) == 3  # three different distortions, three different scores


def test_psnr_float_inputs(photos):
    clean, dist = photos
    c64, d64 = clean / 255.0, dist / 255.0
    for i in range(3):
        ref = peak_signal_noise_ratio(c64[i], d64[i], data_range=1.0)
        assert abs(metrics.psnr(c64[i], d64[i]) - ref) < 1e-6  # float default data_range is 1.0
        # float32 is computed in float64: compare with skimage on the exact float64 values of the float32 inputs
        c32, d32 = c64[i].astype(np.float32), d64[i].astype(np.float32)
        ref32 = peak_signal_noise_ratio(c32.astype(np.float64), d32.astype(np.float64), data_range=1.0)
        assert abs(metrics.psnr(c32, d32) - ref32) < 1e-6
        # images in [-1, 1] with data_range=2 give the uint8 value
        signed = metrics.psnr(c64[i] * 2 - 1, d64[i] * 2 - 1, data_range=2.0)
        assert abs(signed - metrics.psnr(clean[i], dist[i])) < 1e-6


@pytest.mark.parametrize("shave", [0, 4])
def test_psnr_y_channel_with_shave(photos, shave):
    clean, dist = photos
    s = slice(shave, -shave) if shave else slice(None)
    ref = [peak_signal_noise_ratio(sk_y(c)[s, s], sk_y(d)[s, s], data_range=255) for c, d in zip(clean, dist)]
    np.testing.assert_allclose(metrics.psnr(clean, dist, y_channel=True, shave=shave), ref, rtol=0, atol=1e-6)
    for i in range(3):
        assert abs(metrics.psnr(clean[i], dist[i], y_channel=True, shave=shave) - ref[i]) < 1e-6
        # float images in [0, 1] map to the same Y
        assert abs(metrics.psnr(clean[i] / 255.0, dist[i] / 255.0, y_channel=True, shave=shave) - ref[i]) < 1e-6
    # Y-PSNR is not RGB-PSNR
    assert abs(metrics.psnr(clean[0], dist[0], y_channel=True, shave=shave) - metrics.psnr(clean[0], dist[0])) > 0.1


def test_psnr_y_channel_grayscale_used_as_is(photos):
    clean, dist = photos
    g1, g2 = clean[0, ..., :1], dist[0, ..., :1]
    ref = peak_signal_noise_ratio(g1[4:-4, 4:-4, 0], g2[4:-4, 4:-4, 0], data_range=255)
    assert abs(metrics.psnr(g1, g2, y_channel=True, shave=4) - ref) < 1e-6
    assert abs(metrics.psnr(g1[..., 0], g2[..., 0], shave=4) - ref) < 1e-6  # (H, W) input


# --------------------------------------------------------------------------------------------- SSIM


def test_ssim_rgb_uint8_and_float(photos):
    clean, dist = photos
    ref = [sk_ssim(c, d, 255) for c, d in zip(clean, dist)]
    assert all(0.3 < r < 0.99 for r in ref)
    for i in range(3):
        v = metrics.ssim(clean[i], dist[i])
        assert isinstance(v, float)
        assert abs(v - ref[i]) < 1e-6
        assert abs(metrics.ssim(clean[i] / 255.0, dist[i] / 255.0) - ref[i]) < 1e-6
        ref32 = sk_ssim(clean[i].astype(np.float32).astype(np.float64) / 255, dist[i] / 255.0, 1.0)
        assert abs(metrics.ssim((clean[i] / 255.0).astype(np.float32), dist[i] / 255.0) - ref32) < 1e-4
    batch = metrics.ssim(clean, dist)
    assert batch.shape == (3,)
    np.testing.assert_allclose(batch, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shave", [0, 4])
def test_ssim_y_channel_with_shave(photos, shave):
    clean, dist = photos
    s = slice(shave, -shave) if shave else slice(None)
    ref = [sk_ssim(sk_y(c)[s, s], sk_y(d)[s, s], 255, channel_axis=None) for c, d in zip(clean, dist)]
    np.testing.assert_allclose(metrics.ssim(clean, dist, y_channel=True, shave=shave), ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(metrics.ssim(clean / 255.0, dist / 255.0, y_channel=True, shave=shave), ref,
                               rtol=0, atol=1e-6)
    assert abs(metrics.ssim(clean[1], dist[1], y_channel=True, shave=shave) - ref[1]) < 1e-6


def test_ssim_matches_direct_wang_formula_on_one_window():
    """An 11x11 image has exactly one valid window: SSIM is then Wang's formula with Gaussian-weighted stats."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (11, 11))
    y = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    g = np.exp(-0.5 * ((np.arange(11) - 5) / 1.5) ** 2)
    w = np.outer(g, g) / np.outer(g, g).sum()
    mx, my = (w * x).sum(), (w * y).sum()
    vx, vy, cxy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum(), (w * (x - mx) * (y - my)).sum()
    c1, c2 = 0.01**2, 0.03**2
    ref = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    assert abs(metrics.ssim(x, y) - ref) < 1e-12


def test_identical_images_give_inf_psnr_and_unit_ssim(photos):
    clean, _ = photos
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.psnr(clean[0], clean[0]) == np.inf
        assert np.all(metrics.psnr(clean, clean.copy(), y_channel=True, shave=4) == np.inf)
        assert abs(metrics.ssim(clean[0], clean[0]) - 1.0) < 1e-12
        np.testing.assert_allclose(metrics.ssim(clean / 255.0, clean / 255.0, y_channel=True), 1.0, atol=1e-12)


def test_bad_inputs_raise_clear_errors(photos):
    clean, dist = photos
    with pytest.raises(ValueError, match=r"\(120, 152, 3\).*\(120, 151, 3\)"):
        metrics.psnr(clean[0], dist[0][:, :-1])
    with pytest.raises(ValueError, match=r"\(3, 120, 152, 3\).*\(120, 152, 3\)"):
        metrics.ssim(clean, dist[0])
    with pytest.raises(ValueError, match=r"uint8.*float64.*\(120, 152, 3\)"):
        metrics.psnr(clean[0], dist[0] / 255.0)
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(clean[0, :10, :10], dist[0, :10, :10])
    with pytest.raises(ValueError, match="shave"):
        metrics.psnr(clean[0], dist[0], shave=60)
    with pytest.raises(ValueError, match="3 channels"):
        metrics.psnr(np.zeros((16, 16, 4), np.uint8), np.zeros((16, 16, 4), np.uint8), y_channel=True)


# --------------------------------------------------------------------------------------------- rgb_to_y


def test_rgb_to_y_known_pixels_and_skimage(photos):
    px = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [10, 200, 30]]], np.uint8)
    y = metrics.rgb_to_y(px)
    assert y.shape == (1, 4, 1) and y.dtype == np.float64
    expected = [16.0, 235.0, 16 + 65.481, 16 + (65.481 * 10 + 128.553 * 200 + 24.966 * 30) / 255]
    np.testing.assert_allclose(y[0, :, 0], expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(metrics.rgb_to_y(px / 255.0), y, rtol=0, atol=1e-9)
    clean, _ = photos
    np.testing.assert_allclose(metrics.rgb_to_y(clean)[..., 0], sk_y(clean), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="3 channels"):
        metrics.rgb_to_y(np.zeros((4, 4, 1)))


# --------------------------------------------------------------------------------------------- Frechet distance


def reference_fd(mu1, s1, mu2, s2):
    """The pytorch-fid / TTUR formula with scipy.linalg.sqrtm."""
    covmean = scipy_linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def random_stats(rng, n, d, shift=0.0):
    a = rng.normal(size=(d, d))
    feats = rng.normal(size=(n, d)) @ a + shift
    return metrics.feature_stats(feats), feats


def test_feature_stats_matches_numpy():
    rng = np.random.default_rng(2)
    f = rng.normal(size=(50, 6))
    mu, sigma = metrics.feature_stats(f)
    np.testing.assert_allclose(mu, f.mean(0))
    np.testing.assert_allclose(sigma, np.cov(f.T, ddof=1))
    with pytest.raises(ValueError):
        metrics.feature_stats(f[:1])


def test_frechet_distance_vs_scipy_sqrtm():
    rng = np.random.default_rng(3)
    (mu1, s1), _ = random_stats(rng, 300, 16)
    (mu2, s2), _ = random_stats(rng, 300, 16, shift=0.5)
    ref = reference_fd(mu1, s1, mu2, s2)
    got = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert isinstance(got, float) and ref > 1.0
    assert abs(got - ref) <= 1e-8 * ref
    assert abs(metrics.frechet_distance(mu2, s2, mu1, s1) - ref) <= 1e-8 * ref  # symmetric


def test_frechet_distance_identical_and_diagonal():
    rng = np.random.default_rng(4)
    (mu, s), _ = random_stats(rng, 200, 12)
    assert abs(metrics.frechet_distance(mu, s, mu, s)) < 1e-8 * np.trace(s)
    a, b = rng.uniform(0.1, 3, 10), rng.uniform(0.1, 3, 10)
    m1, m2 = rng.normal(size=10), rng.normal(size=10)
    closed = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert abs(metrics.frechet_distance(m1, np.diag(a), m2, np.diag(b)) - closed) < 1e-10


def test_frechet_distance_singular_covariances():
    """Fewer samples than dimensions (rank-deficient covariances): tr sqrt(S1 S2) from the eigenvalues of S1 S2."""
    rng = np.random.default_rng(5)
    (mu1, s1), _ = random_stats(rng, 10, 32)
    (mu2, s2), _ = random_stats(rng, 12, 32, shift=0.3)
    ev = np.linalg.eigvals(s1 @ s2)
    tr = np.sum(np.sqrt(np.clip(ev.real, 0, None)))
    ref = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr
    assert abs(metrics.frechet_distance(mu1, s1, mu2, s2) - ref) <= 1e-7 * ref
    with pytest.raises(ValueError):
        metrics.frechet_distance(mu1, s1, mu2[:5], s2)


# --------------------------------------------------------------------------------------------- KID


def double_loop_mmd(x, y):
    d = x.shape[1]

    def k(a, b):
        return (sum(a[t] * b[t] for t in range(d)) / d + 1) ** 3

    m = len(x)
    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return kxx + kyy - 2 * kxy


def test_kid_matches_double_loop():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(14, 5))
    y = rng.normal(size=(14, 5)) * 1.3 + 0.4
    ref = double_loop_mmd(x, y)
    # subset_size capped at the sample count: every subset is the whole set (permuted), so std is 0
    mean, std = metrics.kernel_inception_distance(x, y, subsets=4, subset_size=1000, seed=1)
    assert abs(mean - ref) <= 1e-10 * abs(ref) and std < 1e-10 * abs(ref)
    # unequal sizes: m = min(N1, N2); with N2 = m every subset of y is all of y
    mean2, std2 = metrics.kernel_inception_distance(np.concatenate([x, x[:6] + 5]), y, subsets=3, seed=2)
    assert std2 > 0 and np.isfinite(mean2)


def test_kid_subsets_seed_and_distribution_behaviour():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    c = rng.normal(size=(400, 8)) + 0.5
    same = metrics.kernel_inception_distance(a, b, subsets=20, subset_size=100, seed=0)
    diff = metrics.kernel_inception_distance(a, c, subsets=20, subset_size=100, seed=0)
    assert abs(same[0]) < 3 * same[1] + 1e-3
    assert diff[0] > 10 * abs(same[0]) and diff[0] > 3 * diff[1]
    assert metrics.kernel_inception_distance(a, c, subsets=5, subset_size=50, seed=3) == \
        metrics.kernel_inception_distance(a, c, subsets=5, subset_size=50, seed=3)
    # each subset score is the double-loop MMD of some subsets: check the mean of 1 subset of size 12 is one
    x, y = a[:12], c[:12]
    assert abs(metrics.kernel_inception_distance(x, y, subsets=1, subset_size=12)[0] - double_loop_mmd(x, y)) < 1e-9


# --------------------------------------------------------------------------------------------- fid / kid wrappers


def to_np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


@pytest.fixture(scope="module")
def tiny_extractor():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((16, 16, 3)),
        keras.layers.Conv2D(8, 3, strides=2, activation="tanh"),
        keras.layers.Conv2D(12, 3, strides=2, activation="tanh"),
        keras.layers.GlobalAveragePooling2D(),
    ])


@pytest.fixture(scope="module")
def image_sets():
    rng = np.random.default_rng(8)
    a = rng.uniform(-1, 1, (60, 16, 16, 3)).astype(np.float32)
    b = rng.uniform(-1, 1, (60, 16, 16, 3)).astype(np.float32)
    c = np.clip(0.5 * rng.uniform(-1, 1, (60, 16, 16, 3)) + 0.4, -1, 1).astype(np.float32)  # brighter, flatter
    return a, b, c


def test_fid_wrapper_with_pluggable_keras_model(tiny_extractor, image_sets):
    a, b, c = image_sets
    fa = to_np(tiny_extractor(a)).astype(np.float64)
    fc = to_np(tiny_extractor(c)).astype(np.float64)
    direct = reference_fd(*metrics.feature_stats(fa), *metrics.feature_stats(fc))
    got = metrics.fid(a, c, tiny_extractor, batch_size=7)  # batching (incl. a ragged last batch) changes nothing
    assert abs(got - direct) <= 1e-5 * direct
    assert metrics.fid(a, a, tiny_extractor, batch_size=16) < 1e-9
    same_dist = metrics.fid(a, b, tiny_extractor)
    assert got > 5 * same_dist
    # precomputed reference statistics and an iterable of batches are accepted too
    stats_a = metrics.feature_stats(metrics.extract_features(a, tiny_extractor, batch_size=25))
    batches = (c[i:i + 20] for i in range(0, 60, 20))
    assert abs(metrics.fid(stats_a, batches, tiny_extractor) - got) <= 1e-6 * got


def test_kid_wrapper_and_plain_function_extractor(tiny_extractor, image_sets):
    a, b, c = image_sets
    same = metrics.kid(a, a, tiny_extractor, subsets=10, subset_size=30)
    diff = metrics.kid(a, c, tiny_extractor, subsets=10, subset_size=30)
    assert abs(same[0]) < 0.1 * diff[0] and diff[0] > 0
    fa = to_np(tiny_extractor(a))
    fc = to_np(tiny_extractor(c))
    expected = metrics.kernel_inception_distance(fa, fc, subsets=10, subset_size=30)
    np.testing.assert_allclose(diff, expected, rtol=1e-5, atol=1e-9)

    def colour_stats(batch):  # any callable works: per-channel mean and std
        return np.concatenate([batch.mean(axis=(1, 2)), batch.std(axis=(1, 2))], axis=1)

    assert metrics.fid(a, a, colour_stats) < 1e-9
    assert metrics.fid(a, c, colour_stats) > 10 * metrics.fid(a, b, colour_stats)
    with pytest.raises(ValueError, match="extractor must return"):
        metrics.fid(a, c, lambda batch: np.zeros((1, 3)))


# --------------------------------------------------------------------------------------------- Inception


def test_inception_extractor_offline_raises_clear_error(monkeypatch):
    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    before = socket.getdefaulttimeout()
    with pytest.raises(RuntimeError, match=r"(?s)ImageNet weights.*random weights.*weights='/path/to/"):
        metrics.inception_extractor()
    assert socket.getdefaulttimeout() == before
    with pytest.raises(RuntimeError, match="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        metrics.fid(np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 8, 8, 3), np.uint8))  # default extractor


def test_inception_extractor_missing_file_never_touches_network(monkeypatch, tmp_path):
    def forbidden(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(keras.utils, "get_file", forbidden)
    missing = tmp_path / "nope.h5"
    with pytest.raises(RuntimeError, match="not found.*nope.h5"):
        metrics.inception_extractor(weights=str(missing))


def test_inception_extractor_random_weights_forward():
    """weights=None (explicit, smoke test only): any size in, (N, 2048) pool features out."""
    extractor = metrics.inception_extractor(weights=None)
    assert extractor.model.output_shape == (None, 2048)
    img = np.random.default_rng(9).integers(0, 256, (2, 24, 30, 3), dtype=np.uint8)  # 2 images: ~1 s of CPU
    f = extractor(img)
    assert f.shape == (2, 2048) and np.all(np.isfinite(f)) and not np.allclose(f[0], f[1])


class _Capture:
    """Stands in for the Inception model: returns what it was fed."""

    def predict_on_batch(self, x):
        return to_np(x)


def test_inception_preprocessing_resize_and_scaling():
    extractor = metrics.InceptionExtractor(_Capture())
    rng = np.random.default_rng(10)
    img = rng.integers(0, 256, (2, 24, 30, 3), dtype=np.uint8)
    x8 = extractor(img)
    assert x8.shape == (2, 299, 299, 3) and x8.dtype == np.float32
    assert -1.0 <= x8.min() and x8.max() <= 1.0
    # uint8 is scaled by x / 127.5 - 1, floats are taken as already in [-1, 1]
    np.testing.assert_allclose(extractor(img.astype(np.float32) / 127.5 - 1.0), x8, atol=1e-5)
    # bilinear resize of the scaled image (half-pixel centres): compare with Pillow's bilinear on a smooth image
    from PIL import Image

    ramp = np.linspace(0, 255, 30)[None, :, None] * np.ones((24, 1, 3))
    ramp_u8 = np.round(ramp).astype(np.uint8)
    got = extractor(ramp_u8[None])[0]
    ref = np.asarray(Image.fromarray(ramp_u8).resize((299, 299), Image.BILINEAR), np.float32) / 127.5 - 1
    assert np.abs(got - ref)[:, 20:-20].max() < 0.02
    # grayscale is repeated to RGB; 299x299 input is passed through untouched
    gray = extractor(img[..., :1])
    np.testing.assert_allclose(gray[..., 0], gray[..., 2])
    full = rng.uniform(-1, 1, (1, 299, 299, 3)).astype(np.float32)
    np.testing.assert_array_equal(extractor(full), full)
    with pytest.raises(ValueError, match="N, H, W, 3"):
        extractor(np.zeros((1, 8, 8, 4), np.uint8))


def test_metrics_module_imports_only_core_dependencies():
    tree = ast.parse(inspect.getsource(metrics))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            top.add((node.module or "").split(".")[0])
    assert not top & {"tensorflow", "scipy", "skimage", "torch", "jax"}, top


def test_laplacian_variance_matches_scipy_and_falls_with_blur(photos):
    from scipy import ndimage

    img = photos[0][0]  # astronaut crop, uint8 (H, W, 3)
    y = metrics.rgb_to_y(img)[..., 0]
    expected = ndimage.laplace(y)[1:-1, 1:-1].var()
    assert metrics.laplacian_variance(img) == pytest.approx(expected, rel=1e-9)
    blurred = ndimage.gaussian_filter(img.astype("float64"), sigma=(1.5, 1.5, 0)).round().astype("uint8")
    batch = metrics.laplacian_variance(np.stack([img, blurred]))
    assert batch.shape == (2,) and batch[1] < 0.5 * batch[0]
    grey = img[..., :1]
    assert metrics.laplacian_variance(grey.astype("float32") / 255) == pytest.approx(
        metrics.laplacian_variance(grey), rel=1e-5)
    with pytest.raises(ValueError, match="3x3"):
        metrics.laplacian_variance(np.zeros((2, 2, 3), "uint8"))


def test_chroma_detail_sees_colour_speckle_not_grey_detail(photos):
    """Mean |Laplacian| of MATLAB rgb2ycbcr's Cb and Cr inside a mask: a hand computation on a checkerboard of two
    colours, scipy's Laplacian on a photo, 0 for grey detail, and speckle pasted into a hole raises it."""
    from scipy import ndimage

    a, b = np.array([200, 60, 200]), np.array([120, 120, 120])
    board = np.where((np.add.outer(np.arange(8), np.arange(8)) % 2 == 0)[..., None], a, b).astype("uint8")
    cb = np.array([-37.797, -74.203, 112.0]) @ (a - b) / 255  # a's chroma minus b's (b grey: 128 each)
    cr = np.array([112.0, -93.786, -18.214]) @ (a - b) / 255
    assert metrics.chroma_detail(board) == pytest.approx(4 * (abs(cb) + abs(cr)) / 2, rel=1e-12)
    img = photos[0][0]
    c = np.tensordot(img / 255.0, np.array([[-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]), ([-1], [1]))
    expected = np.mean([np.abs(ndimage.laplace(c[..., k])[1:-1, 1:-1]).mean() for k in range(2)])
    assert metrics.chroma_detail(img) == pytest.approx(expected, rel=1e-9)
    assert metrics.chroma_detail(img.astype("float32") / 255) == pytest.approx(expected, rel=1e-5)
    grey = np.repeat(img[..., :1], 3, axis=-1)  # all the luma detail, no colour
    assert abs(metrics.chroma_detail(grey)) < 1e-9 and metrics.laplacian_variance(grey) > 100
    hole = np.zeros(img.shape[:2], bool)
    hole[20:40, 20:40] = True
    speckled = img.copy()
    speckled[20:40, 20:40] = np.random.default_rng(0).choice([[255, 0, 255], [0, 255, 0]], (20, 20))
    pair = metrics.chroma_detail(np.stack([img, speckled]), np.stack([hole, hole]))
    assert pair.shape == (2,) and pair[1] > 10 * pair[0]
    far = np.zeros(img.shape[:2], bool)
    far[42:] = True  # pixels whose 3x3 neighbourhood misses the hole: the same value
    assert metrics.chroma_detail(speckled, far) == pytest.approx(metrics.chroma_detail(img, far), rel=1e-12)
    assert np.isnan(metrics.chroma_detail(img, np.zeros(img.shape[:2])))
    with pytest.raises(ValueError, match="RGB"):
        metrics.chroma_detail(img[..., :1])
    with pytest.raises(ValueError, match="masks must be"):
        metrics.chroma_detail(np.stack([img, img]), hole)
    with pytest.raises(ValueError, match="3x3"):
        metrics.chroma_detail(np.zeros((2, 2, 3), "uint8"))


FACES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "faces_celeba", "train")


@pytest.mark.skipif(not os.path.isdir(FACES), reason="needs ../shared/data/faces_celeba")
def test_face_extractor_tells_people_apart_and_finds_faces():
    pytest.importorskip("dlib")
    from PIL import Image

    from zoo import metrics

    files = sorted(os.listdir(FACES))[:6]
    x = np.stack([np.asarray(Image.open(os.path.join(FACES, f)).convert("RGB").resize((64, 64))) for f in files])
    faces = metrics.face_extractor()
    f = faces(x)
    assert f.shape == (6, 128) and f.dtype == np.float32
    np.testing.assert_allclose(faces(x[:2]), f[:2], atol=1e-6)  # deterministic
    mirrored = faces(x[:, :, ::-1])
    same = np.linalg.norm(mirrored - f, axis=1)
    others = [np.linalg.norm(f[i] - f[j]) for i in range(6) for j in range(6) if i < j]
    assert same.max() < 0.6 < np.median(others)  # dlib's same-person threshold is 0.6
    np.testing.assert_allclose(faces(x.astype("float32") / 127.5 - 1), f, atol=0.05)  # [-1, 1] floats too
    noise = np.random.default_rng(0).integers(0, 255, (3, 64, 64, 3), dtype=np.uint8)
    assert faces.detect(x).mean() >= 5 / 6 and not faces.detect(noise).any()
    with pytest.raises(ValueError, match="RGB face images"):
        faces(x[..., :1])


def test_two_sample_test_is_at_chance_on_one_distribution_and_catches_a_visible_difference():
    """Real vs real (two halves of one set) sits near 0.5; a set with a faint square in every image is caught."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 200, (240, 16, 16, 3)).astype("uint8")
    marked = x[120:].copy()
    marked[:, 4:12, 4:12] += 40  # within uint8: noise < 200
    same = metrics.two_sample_test(x[:120], x[120:], epochs=8, seed=1)
    caught = metrics.two_sample_test(x[:120], marked, epochs=8, seed=1)
    assert 0.35 <= same["accuracy"] <= 0.65 and same["p_value"] > 0.01, same
    assert caught["accuracy"] >= 0.9 and caught["p_value"] < 1e-6, caught
    assert same["n"] == 120 and len(same["folds"]) == 2
    with pytest.raises(ValueError, match="same image shape"):
        metrics.two_sample_test(x, x[:, :8])
    with pytest.raises(ValueError, match="at least 8 images"):
        metrics.two_sample_test(x[:5], x[5:10])


def test_jpeg_roundtrip_keeps_shape_and_changes_pixels_a_little():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2, 24, 24, 3)).astype("uint8")
    y = metrics.jpeg_roundtrip(x, quality=90)
    assert y.shape == x.shape and y.dtype == np.uint8 and not np.array_equal(x, y)
    smooth = np.repeat(np.linspace(0, 255, 24, dtype="uint8")[None, :, None], 24, 0)[None].repeat(3, -1)
    assert np.abs(metrics.jpeg_roundtrip(smooth).astype(int) - smooth).mean() < 3
    assert metrics.jpeg_roundtrip(x[..., :1]).shape == (2, 24, 24, 1)
    with pytest.raises(ValueError, match="uint8"):
        metrics.jpeg_roundtrip(x.astype("float32"))
