"""Image-quality and distribution metrics: PSNR, SSIM, FID and KID with a pluggable feature extractor.

Pixel metrics (NumPy, float64)
------------------------------
``psnr(a, b)`` and ``ssim(a, b)`` take two uint8 or float NumPy arrays of the same shape and dtype kind:

* a single image ``(H, W)`` or ``(H, W, C)`` -> a Python ``float``;
* a batch ``(N, H, W, C)`` -> a float64 array ``(N,)`` with one value per image (average it yourself, as papers
  do: the mean of per-image scores, not the score of the concatenated set).

A 3-D array is always read as one ``(H, W, C)`` image; give a batch of grayscale images as ``(N, H, W, 1)``.

``data_range`` (the peak-to-peak value range) defaults to 255 for uint8 (the dtype's range for other integer
types) and 1.0 for floats; pass ``data_range=2.0`` for images in [-1, 1].

``y_channel=True`` evaluates as super-resolution papers do: RGB is converted to the luma Y of ITU-R BT.601
exactly as MATLAB's ``rgb2ycbcr`` (see ``rgb_to_y``, Y in [16, 235]), and the metric is computed on Y in
float64 with ``data_range=255`` of the Y scale. ``shave=s`` first crops ``s`` pixels from every border (SR
papers shave ``scale`` pixels). One-channel images are used as they are, rescaled to 0..255, as the usual
MATLAB/BasicSR scripts do for grayscale test images. Y is not rounded to integers (MATLAB's uint8 path rounds;
that changes PSNR by ~0.01 dB).

SSIM is Wang et al. (2004): 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, 'valid' filtering
(statistics only where the window fits) and the mean of the SSIM map, as the reference MATLAB ``ssim_index``
(equivalently ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=...)``). Multi-channel images give the mean over channels.

Distribution metrics
--------------------
``frechet_distance`` (FID, Heusel et al. 2017) on feature means/covariances, and ``kernel_inception_distance``
(KID, Binkowski et al. 2018) on feature sets, both in NumPy without SciPy. ``fid`` and ``kid`` run a feature
extractor over two image sets first. An extractor is any callable mapping an image batch (float in [-1, 1], or
uint8) to ``(N, D)`` features: ``inception_extractor()`` (Keras InceptionV3, ImageNet weights, 2048-d pool
features) is the default, and any Keras model or function can be plugged in. For faces, ``face_extractor()``
gives dlib's 128-d face-recognition descriptors (offline, from the ``dlib-bin`` and ``face_recognition_models``
wheels) and a face detector.

Realism without pretrained features
-----------------------------------
``two_sample_test(real, fake)`` is a classifier two-sample test (Lopez-Paz & Oquab 2017): a small CNN, trained
from scratch, learns to tell the two sets apart, and its accuracy on images it did not train on is the measure
(0.5: it cannot tell them apart; 1.0: every image is caught). It needs no downloaded network, and unlike PSNR it
does not reward blur. Report it beside a real-vs-real row (two halves of the same real set, ~0.5) and a weak
baseline, with the same processing (size, ``jpeg_roundtrip``) on both sides.

Note: Keras' InceptionV3 ImageNet weights are not the 2015 TF graph behind published FID numbers
(pytorch-fid / TTUR), so absolute values differ from papers'; compare models with the same extractor.
"""
import os
import socket

import keras
import numpy as np

__all__ = [
    "psnr",
    "ssim",
    "laplacian_variance",
    "chroma_detail",
    "rgb_to_y",
    "frechet_distance",
    "kernel_inception_distance",
    "feature_stats",
    "extract_features",
    "fid",
    "kid",
    "inception_extractor",
    "InceptionExtractor",
    "face_extractor",
    "FaceExtractor",
    "two_sample_test",
    "jpeg_roundtrip",
    "digit_classifier",
]

# ---------------------------------------------------------------------------------------------------------
# Pixel metrics
# ---------------------------------------------------------------------------------------------------------

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])  # MATLAB rgb2ycbcr, first row, for RGB in [0, 1]


def _default_range(dtype):
    if np.issubdtype(dtype, np.floating):
        return 1.0
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(info.max - info.min)
    raise ValueError(f"unsupported image dtype {dtype}: use uint8 or float arrays")


def rgb_to_y(img, data_range=None):
    """Luma Y of ITU-R BT.601 as MATLAB's ``rgb2ycbcr``: ``Y = 16 + 65.481 R + 128.553 G + 24.966 B``.

    ``R, G, B`` are the channels scaled to [0, 1] by ``data_range`` (default 255 for uint8, 1.0 for float), so
    Y lies in [16, 235]. Takes ``(..., 3)`` (a single image or a batch) and returns float64 ``(..., 1)``,
    keeping the channel axis so the result can be passed straight to ``psnr``/``ssim`` with
    ``data_range=255``. Not rounded.
    """
    img = np.asarray(img)
    if img.ndim < 1 or img.shape[-1] != 3:
        raise ValueError(f"rgb_to_y expects RGB images with 3 channels last, got shape {img.shape}")
    if data_range is None:
        data_range = _default_range(img.dtype)
    rgb = img.astype(np.float64) / float(data_range)
    return 16.0 + np.tensordot(rgb, _Y_WEIGHTS, axes=([-1], [0]))[..., None]


def _prepare(a, b, data_range, y_channel, shave):
    """Validate and bring both inputs to float64 ``(N, H, W, C)``; return ``(x, y, data_range, single)``."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
    kind_a = "float" if np.issubdtype(a.dtype, np.floating) else "int" if np.issubdtype(a.dtype, np.integer) else "?"
    kind_b = "float" if np.issubdtype(b.dtype, np.floating) else "int" if np.issubdtype(b.dtype, np.integer) else "?"
    if kind_a != kind_b or "?" in (kind_a, kind_b):
        raise ValueError(
            f"images must both be integer (e.g. uint8) or both float, got {a.dtype} {a.shape} and "
            f"{b.dtype} {b.shape}"
        )
    if a.ndim not in (2, 3, 4):
        raise ValueError(f"expected an image (H, W), (H, W, C) or a batch (N, H, W, C), got shape {a.shape}")
    single = a.ndim < 4
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if single:
        a, b = a[None], b[None]
    if data_range is None:
        data_range = _default_range(a.dtype)
    data_range = float(data_range)
    if y_channel:
        if a.shape[-1] == 3:
            a, b = rgb_to_y(a, data_range), rgb_to_y(b, data_range)
        elif a.shape[-1] == 1:
            a = a.astype(np.float64) * (255.0 / data_range)
            b = b.astype(np.float64) * (255.0 / data_range)
        else:
            raise ValueError(f"y_channel=True needs RGB (3 channels) or grayscale (1 channel), got shape {a.shape}")
        data_range = 255.0
    shave = int(shave)
    if shave < 0:
        raise ValueError(f"shave must be >= 0, got {shave}")
    if shave:
        if 2 * shave >= min(a.shape[1], a.shape[2]):
            raise ValueError(f"shave={shave} crops away the whole image of shape {a.shape[1:3]}")
        a = a[:, shave:-shave, shave:-shave]
        b = b[:, shave:-shave, shave:-shave]
    return a.astype(np.float64), b.astype(np.float64), data_range, single


def _result(values, single):
    return float(values[0]) if single else values


def psnr(a, b, data_range=None, y_channel=False, shave=0):
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``; ``inf`` for identical images.

    ``a``, ``b``: uint8 or float arrays, a single image ``(H, W[, C])`` -> ``float`` or a batch
    ``(N, H, W, C)`` -> float64 array ``(N,)`` of per-image PSNR (MSE over all pixels and channels of an image).
    See the module docstring for ``data_range``, ``y_channel`` (MATLAB-style BT.601 Y, evaluated with
    data range 255) and ``shave`` (pixels cropped from every border). Raises ``ValueError`` when shapes or
    dtype kinds differ.
    """
    x, y, data_range, single = _prepare(a, b, data_range, y_channel, shave)
    mse = np.mean((x - y) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(data_range**2 / mse)
    return _result(values, single)


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    w = np.exp(-0.5 * (x / sigma) ** 2)
    return w / w.sum()


def _filter_valid(x, w):
    """Separable 'valid' correlation of ``(N, H, W, C)`` with ``outer(w, w)`` over H and W."""
    k = len(w)
    h = x.shape[1] - k + 1
    out = sum(w[i] * x[:, i:i + h] for i in range(k))
    v = x.shape[2] - k + 1
    return sum(w[i] * out[:, :, i:i + v] for i in range(k))


def ssim(a, b, data_range=None, y_channel=False, shave=0):
    """Structural similarity (Wang et al. 2004), mean of the SSIM map; 1.0 for identical images.

    11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, population (co)variances, 'valid' filtering as the
    reference MATLAB ``ssim_index``; channel-averaged for multi-channel images. Images must be at least 11x11
    after ``shave``. Inputs, return values (``float`` for one image, ``(N,)`` array for a batch) and the
    ``data_range`` / ``y_channel`` / ``shave`` options are as in ``psnr``.
    """
    x, y, data_range, single = _prepare(a, b, data_range, y_channel, shave)
    w = _gaussian_window()
    if min(x.shape[1], x.shape[2]) < len(w):
        raise ValueError(f"SSIM needs images of at least {len(w)}x{len(w)} pixels, got {x.shape[1:3]}")
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mu_x, mu_y = _filter_valid(x, w), _filter_valid(y, w)
    var_x = _filter_valid(x * x, w) - mu_x * mu_x
    var_y = _filter_valid(y * y, w) - mu_y * mu_y
    cov = _filter_valid(x * y, w) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return _result(s.mean(axis=(1, 2, 3)), single)


def laplacian_variance(images, data_range=None):
    """Sharpness: the variance of the 3x3 Laplacian of each image's luma (Pech-Pacheco et al. 2000's focus
    measure), on the 0-255 scale. A high-pass filter's energy: blur (what a pixel-loss regression to the mean of
    plausible outputs produces) lowers it, fine texture and crisp edges raise it; noise raises it too, so compare
    it with the same measure on the true images (a ratio near 1 = as sharp as the real thing).

    ``images``: one image ``(H, W[, C])`` -> ``float``, or a batch ``(N, H, W, C)`` -> ``(N,)`` float64; RGB
    goes through BT.601 luma (``rgb_to_y``), one channel is used as is; ``data_range`` as in ``psnr``. The
    Laplacian ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` is taken where it fits (no padding).
    """
    x, _, data_range, single = _prepare(images, images, data_range, y_channel=True, shave=0)
    return _result(_laplacian(x, "laplacian_variance").var(axis=(1, 2, 3)), single)


def _laplacian(x, name):
    """The 3x3 Laplacian of ``(N, H, W, C)`` where it fits (``(N, H - 2, W - 2, C)``)."""
    if min(x.shape[1], x.shape[2]) < 3:
        raise ValueError(f"{name} needs images of at least 3x3 pixels, got {x.shape[1:3]}")
    return x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] - 4.0 * x[:, 1:-1, 1:-1]


_CBCR_WEIGHTS = np.array([[-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]])  # MATLAB rgb2ycbcr rows 2-3


def chroma_detail(images, masks=None, data_range=None):
    """Colour noise: the mean absolute 3x3 Laplacian of the chroma (BT.601 Cb and Cr as MATLAB's ``rgb2ycbcr``,
    0-255 scale) over the pixels where ``masks`` is set (all pixels without masks). Natural images carry little
    fine detail in colour (it lives in luma), so speckle of saturated colours, a GAN artefact the two-sample CNN
    can miss, raises it well above the same measure on the real images; grey noise (R = G = B) leaves it at 0.

    ``images``: RGB ``(H, W, 3)`` -> ``float`` or ``(N, H, W, 3)`` -> ``(N,)`` float64; ``masks``: ``(H, W)`` /
    ``(N, H, W)``, nonzero = measured (border pixels, where the Laplacian does not fit, are not); an image whose
    mask covers no interior pixel gives NaN. ``data_range`` as in ``psnr``.
    """
    x, _, data_range, single = _prepare(images, images, data_range, y_channel=False, shave=0)
    if x.shape[-1] != 3:
        raise ValueError(f"chroma_detail takes RGB images (3 channels last), got shape {np.shape(images)}")
    lap = np.abs(_laplacian(np.tensordot(x / data_range, _CBCR_WEIGHTS, axes=([-1], [1])), "chroma_detail"))
    if masks is None:
        m = np.ones(lap.shape[:3], bool)
    else:
        m = np.asarray(masks)
        m = m[None] if single and m.ndim == 2 else m
        if m.shape != x.shape[:3]:
            raise ValueError(f"masks must be {x.shape[1:3] if single else x.shape[:3]} (one per image), "
                             f"got shape {np.shape(masks)}")
        m = m[:, 1:-1, 1:-1] != 0
    count = m.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        values = (lap.mean(axis=-1) * m).sum(axis=(1, 2)) / count
    return _result(values, single)


# ---------------------------------------------------------------------------------------------------------
# Distribution metrics on features
# ---------------------------------------------------------------------------------------------------------


def feature_stats(features):
    """Mean ``(D,)`` and covariance ``(D, D)`` (unbiased, ``N - 1``) of ``(N, D)`` features, float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be (N, D) with N >= 2, got shape {f.shape}")
    return f.mean(axis=0), np.atleast_2d(np.cov(f, rowvar=False))


def _psd_sqrt(s):
    vals, vecs = np.linalg.eigh(s)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (the FID formula), float64.

    ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2))``. The trace term is computed exactly without
    SciPy: ``S1 S2`` has the eigenvalues of the PSD matrix ``sqrt(S1) S2 sqrt(S1)``, so both square roots are
    symmetric eigendecompositions (tiny negative eigenvalues from round-off are clipped to 0). Works for
    singular covariances (fewer samples than feature dimensions). Returns a ``float`` >= 0.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(
            f"expected means (D,) and covariances (D, D) of one D, got {mu1.shape}, {s1.shape}, {mu2.shape}, "
            f"{s2.shape}"
        )
    s1, s2 = (s1 + s1.T) / 2.0, (s2 + s2.T) / 2.0
    root1 = _psd_sqrt(s1)
    m = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((m + m.T) / 2.0)
    tr_covmean = np.sum(np.sqrt(np.clip(eig, 0.0, None)))
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean
    return float(max(value, 0.0))


def _poly_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def kernel_inception_distance(feats1, feats2, subsets=100, subset_size=1000, seed=0):
    """KID (Binkowski et al. 2018): unbiased MMD^2 with the kernel ``k(x, y) = (x.y / D + 1)^3``.

    ``subsets`` times, draws ``m = min(subset_size, N1, N2)`` rows without replacement from each feature set and
    computes ``sum_{i!=j} k(x_i,x_j)/(m(m-1)) + sum_{i!=j} k(y_i,y_j)/(m(m-1)) - 2 sum_{i,j} k(x_i,y_j)/m^2``.
    Returns ``(mean, std)`` over the subsets (population std). ``seed`` fixes the subsets (default 0, so
    repeated calls agree; ``None`` for fresh randomness). The estimate can be slightly negative.
    """
    x = np.asarray(feats1, np.float64)
    y = np.asarray(feats2, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"features must be (N1, D) and (N2, D), got {x.shape} and {y.shape}")
    m = min(int(subset_size), x.shape[0], y.shape[0])
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per subset, got subset size {m}")
    rng = np.random.default_rng(seed)
    scores = np.empty(int(subsets))
    for k in range(int(subsets)):
        xs = x[rng.choice(x.shape[0], m, replace=False)]
        ys = y[rng.choice(y.shape[0], m, replace=False)]
        kxx, kyy, kxy = _poly_kernel(xs, xs), _poly_kernel(ys, ys), _poly_kernel(xs, ys)
        scores[k] = (
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2.0 * kxy.sum() / (m * m)
        )
    return float(scores.mean()), float(scores.std())


# ---------------------------------------------------------------------------------------------------------
# Feature extraction and the image-level wrappers
# ---------------------------------------------------------------------------------------------------------

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + INCEPTION_WEIGHTS_FILE
)
INCEPTION_WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
INCEPTION_SIZE = 299


def _weights_help():
    return (
        f"Download {INCEPTION_WEIGHTS_URL} on a machine with network access and either pass its path, "
        f"inception_extractor(weights='/path/to/{INCEPTION_WEIGHTS_FILE}'), or copy it to "
        f"~/.keras/models/ (or $KERAS_HOME/models/) where Keras finds it without downloading. "
        f"Or pass any feature extractor of your own (extractor=...)."
    )


def _fetch_imagenet_weights(timeout):
    """Path of the cached ImageNet no-top weights, downloading them if needed; RuntimeError when impossible."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # urlretrieve has no timeout of its own; never hang on a dead network
    try:
        return keras.utils.get_file(
            INCEPTION_WEIGHTS_FILE, INCEPTION_WEIGHTS_URL, cache_subdir="models", file_hash=INCEPTION_WEIGHTS_MD5
        )
    except Exception as e:  # noqa: BLE001 - keras raises bare Exception for URL failures
        raise RuntimeError(
            f"Could not get the InceptionV3 ImageNet weights ({type(e).__name__}: {e}). FID/KID need them and "
            f"will not fall back to random weights. {_weights_help()}"
        ) from e
    finally:
        socket.setdefaulttimeout(previous)


def _to_numpy(x):
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):  # torch tensor: avoid np.array(tensor), which warns under NumPy 2
        return x.detach().cpu().numpy()
    return keras.ops.convert_to_numpy(x)


class InceptionExtractor:
    """Callable: image batch -> ``(N, 2048)`` InceptionV3 pool features (NumPy float32).

    Accepts uint8 images in [0, 255] or float images in [-1, 1], ``(N, H, W, C)`` with C = 3 (C = 1 is
    repeated to RGB), any size: images are resized to 299x299 (bilinear, ``keras.ops.image.resize``) and, for
    uint8, scaled by the Inception preprocessing ``x / 127.5 - 1``. ``model`` is the Keras model.
    """

    def __init__(self, model):
        self.model = model

    def __call__(self, images):
        x = _to_numpy(images)
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise ValueError(f"expected images (N, H, W, 3) or (N, H, W, 1), got shape {x.shape}")
        if np.issubdtype(x.dtype, np.integer):
            x = x.astype(np.float32) / 127.5 - 1.0
        x = x.astype(np.float32)
        if x.shape[-1] == 1:
            x = np.repeat(x, 3, axis=-1)
        if x.shape[1:3] != (INCEPTION_SIZE, INCEPTION_SIZE):
            x = keras.ops.image.resize(x, (INCEPTION_SIZE, INCEPTION_SIZE), interpolation="bilinear")
        return _to_numpy(self.model.predict_on_batch(x))


def inception_extractor(weights="imagenet", timeout=30):
    """The standard FID/KID feature extractor: Keras InceptionV3, ``include_top=False, pooling="avg"``.

    ``weights``: ``"imagenet"`` (the Keras cache, ``~/.keras/models``, or a download, given up after
    ``timeout`` seconds of network silence), or the path of an ``.h5``/``.weights.h5`` file with those weights.
    When the weights cannot be had, raises ``RuntimeError`` saying how to supply them; it never falls back to
    random weights. ``weights=None`` builds a randomly initialised network on purpose (smoke tests only: its
    scores mean nothing). Returns an ``InceptionExtractor``.
    """
    if weights == "imagenet":
        path = _fetch_imagenet_weights(timeout)
    elif weights is None:
        path = None
    else:
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise RuntimeError(f"InceptionV3 weights file not found: {path!r}. {_weights_help()}")
    model = keras.applications.InceptionV3(
        include_top=False, pooling="avg", weights=None, input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3)
    )
    if path is not None:
        try:
            model.load_weights(path)
        except Exception as e:  # noqa: BLE001
            raise RuntimeError(f"Could not load InceptionV3 weights from {path!r}: {e}. {_weights_help()}") from e
    return InceptionExtractor(model)


_DEFAULT_EXTRACTOR = []


def _default_extractor():
    if not _DEFAULT_EXTRACTOR:
        _DEFAULT_EXTRACTOR.append(inception_extractor())
    return _DEFAULT_EXTRACTOR[0]


def extract_features(images, extractor=None, batch_size=50):
    """Run ``extractor`` over ``images`` in batches; returns float64 ``(N, D)``.

    ``images``: an array ``(N, H, W, C)`` (sliced into ``batch_size`` batches) or any iterable of batches
    (a generator, a ``tf.data`` dataset of image batches, ...). ``extractor``: a callable batch -> ``(n, D)``
    (any Keras model works); default ``inception_extractor()``. Outputs of shape ``(n, ..., D)`` are flattened.
    """
    extractor = _default_extractor() if extractor is None else extractor
    if hasattr(images, "shape") and hasattr(images, "__getitem__"):
        n = int(images.shape[0])
        batches = (images[i:i + batch_size] for i in range(0, n, int(batch_size)))
    else:
        batches = iter(images)
    feats = []
    for batch in batches:
        out = np.asarray(_to_numpy(extractor(batch)))
        rows = int(batch.shape[0]) if hasattr(batch, "shape") else len(batch)
        if out.ndim < 2 or out.shape[0] != rows:
            raise ValueError(f"extractor must return (N, D) features; got shape {out.shape} for {rows} images")
        feats.append(out.reshape(rows, -1).astype(np.float64))
    if not feats:
        raise ValueError("no images given")
    return np.concatenate(feats, axis=0)


def _stats(images_or_stats, extractor, batch_size):
    if isinstance(images_or_stats, tuple) and len(images_or_stats) == 2:
        mu, sigma = (np.asarray(v) for v in images_or_stats)
        if mu.ndim == 1 and sigma.ndim == 2:
            return mu, sigma
    return feature_stats(extract_features(images_or_stats, extractor, batch_size))


def fid(real_images, fake_images, extractor=None, batch_size=50):
    """Frechet distance between the extractor features of two image sets (FID with the default extractor).

    Each set is images (see ``extract_features``) or precomputed ``(mu, sigma)`` from ``feature_stats`` (e.g.
    cached reference statistics). Use thousands of images (50k in the literature): FID is biased upwards for
    small sets. Returns a ``float``.
    """
    mu1, s1 = _stats(real_images, extractor, batch_size)
    mu2, s2 = _stats(fake_images, extractor, batch_size)
    return frechet_distance(mu1, s1, mu2, s2)


def kid(real_images, fake_images, extractor=None, batch_size=50, subsets=100, subset_size=1000, seed=0):
    """KID between the extractor features of two image sets; returns ``(mean, std)`` over subsets.

    Images as in ``extract_features`` (or precomputed ``(N, D)`` feature arrays via
    ``kernel_inception_distance``); see ``kernel_inception_distance`` for the estimator.
    """
    f1 = extract_features(real_images, extractor, batch_size)
    f2 = extract_features(fake_images, extractor, batch_size)
    return kernel_inception_distance(f1, f2, subsets=subsets, subset_size=subset_size, seed=seed)


# ---------------------------------------------------------------------------------------------------------
# Faces: dlib's face-recognition descriptors and face detector (offline, from pip wheels)
# ---------------------------------------------------------------------------------------------------------

#: Where the face sits in a centred face crop (CelebA-style, as in shared/data/faces_celeba): the median box of
#: dlib's HOG detector over 300 of those faces, as (left, top, right, bottom) fractions of the side.
CENTRED_FACE_BOX = (0.242, 0.305, 0.727, 0.789)


def _dlib_models():
    import importlib.util

    try:
        import dlib
    except ImportError:
        dlib = None
    spec = importlib.util.find_spec("face_recognition_models")
    if dlib is None or spec is None:
        raise RuntimeError("face metrics need dlib and its trained models: pip install dlib-bin "
                           "face_recognition_models (or the [eval] extra of zoo)")
    # the package's __init__ needs pkg_resources; its model files are plain package data
    folder = os.path.join(list(spec.submodule_search_locations)[0], "models")
    return dlib, folder


class FaceExtractor:
    """Callable: face crops -> ``(N, 128)`` descriptors of dlib's face-recognition ResNet (trained on ~3M faces;
    99.38% on LFW), a feature space for FID/KID on faces that runs offline.

    Images: uint8 ``(N, H, W, 3)`` or float in [-1, 1], centred face crops of any size; each is resized to
    ``work_size`` (bicubic), its five landmarks found inside ``box`` (fractions of the side; the face's place in
    a centred crop), and the aligned 150x150 chip described. The same box for every image keeps generated and
    real faces on equal terms. ``detect(images)`` returns, per image, whether dlib's HOG frontal-face detector
    finds a face in it (at ``work_size``).
    """

    def __init__(self, box=CENTRED_FACE_BOX, work_size=128):
        dlib, folder = _dlib_models()
        self.dlib, self.work_size = dlib, int(work_size)
        self.shape = dlib.shape_predictor(os.path.join(folder, "shape_predictor_5_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(os.path.join(folder, "dlib_face_recognition_resnet_model_v1.dat"))
        self.detector = dlib.get_frontal_face_detector()
        s = self.work_size
        self.box = dlib.rectangle(*(int(round(f * s)) for f in box))

    def _images(self, images):
        from PIL import Image

        from zoo.images import to_uint8

        x = _to_numpy(images)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected RGB face images (N, H, W, 3), got shape {x.shape}")
        s = self.work_size
        for a in to_uint8(x):
            yield np.ascontiguousarray(np.asarray(Image.fromarray(a).resize((s, s), Image.BICUBIC)))

    def __call__(self, images):
        out = [np.asarray(self.net.compute_face_descriptor(a, self.shape(a, self.box)), np.float32)
               for a in self._images(images)]
        return np.stack(out)

    def detect(self, images):
        return np.array([len(self.detector(a, 0)) > 0 for a in self._images(images)])


def face_extractor(**kwargs):
    """A ``FaceExtractor`` (needs ``pip install dlib-bin face_recognition_models``)."""
    return FaceExtractor(**kwargs)


# ---------------------------------------------------------------------------------------------------------
# Classifier two-sample test
# ---------------------------------------------------------------------------------------------------------


def jpeg_roundtrip(images, quality=90):
    """``images`` (uint8 ``(N, H, W, C)``, C 1 or 3) encoded as JPEG at ``quality`` and decoded again (PIL), so
    that both sides of a two-sample test carry the same compression artefacts."""
    import io

    from PIL import Image

    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"jpeg_roundtrip takes uint8 (N, H, W, 1 or 3) images, got {x.dtype} {x.shape}")
    out = np.empty_like(x)
    for i, img in enumerate(x):
        buf = io.BytesIO()
        Image.fromarray(img[..., 0] if x.shape[-1] == 1 else img).save(buf, "JPEG", quality=quality)
        out[i] = np.asarray(Image.open(buf)).reshape(img.shape)
    return out


def _two_sample_cnn(shape, seed):
    """Four stride-2 3x3 convolutions (32-64-128-128, leaky ReLU), global average pooling, one logit."""
    init = keras.initializers.HeNormal(seed=seed)
    x = inputs = keras.Input(shape)
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)(x)
    for width in (32, 64, 128, 128):
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", kernel_initializer=init)(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3, seed=seed)(x)
    return keras.Model(inputs, keras.layers.Dense(1, kernel_initializer=init)(x))


def two_sample_test(real, fake, folds=2, epochs=30, batch_size=32, patience=6, seed=0, verbose=0):
    """Classifier two-sample test: how often a CNN trained from scratch tells ``fake`` from ``real`` images.

    ``real``, ``fake``: uint8 ``(N, H, W, C)`` arrays of the same image shape (apply the same resizing and
    ``jpeg_roundtrip`` to both first); the larger set is cut to the smaller one's size, so the two classes are
    balanced and chance is 0.5. Both are shuffled (``seed``) and split into ``folds`` parts; for each fold a
    fresh CNN (``_two_sample_cnn``) trains on the other parts (Adam 1e-3, binary cross-entropy, mirrored
    images, 15% of its training images held back to choose the epoch: the best validation accuracy of at most
    ``epochs``, stopping after ``patience`` epochs without gain) and is scored on the fold it never saw.

    Returns ``{"accuracy": mean held-out accuracy, "folds": [per fold], "n": images per class, "p_value":
    one-sided binomial p of the pooled held-out accuracy under "cannot tell" (normal approximation)}``.
    Deterministic for a seed on one backend and machine (it calls ``keras.utils.set_random_seed(seed)``).
    """
    a, b = np.asarray(real), np.asarray(fake)
    if a.dtype != np.uint8 or b.dtype != np.uint8 or a.ndim != 4 or a.shape[1:] != b.shape[1:]:
        raise ValueError("two_sample_test takes two uint8 (N, H, W, C) arrays of the same image shape, got "
                         f"{a.dtype} {a.shape} and {b.dtype} {b.shape}")
    n = min(len(a), len(b))
    if folds < 2 or n < 4 * folds:
        raise ValueError(f"two_sample_test needs folds >= 2 and at least {4 * folds} images per class, "
                         f"got folds={folds} and {n}")
    rng = np.random.default_rng(seed)
    a, b = a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]
    parts = np.array_split(np.arange(n), folds)
    accuracies, correct = [], 0
    for k, test in enumerate(parts):
        train = np.concatenate([p for j, p in enumerate(parts) if j != k])
        train = train[rng.permutation(len(train))]
        hold = max(1, int(0.15 * len(train)))
        fit_idx, val_idx = train[hold:], train[:hold]
        x = np.concatenate([a[fit_idx], b[fit_idx]])
        y = np.concatenate([np.zeros(len(fit_idx)), np.ones(len(fit_idx))]).astype("float32")
        x = np.concatenate([x, x[:, :, ::-1]])
        y = np.concatenate([y, y])
        xv = np.concatenate([a[val_idx], b[val_idx]])
        yv = np.concatenate([np.zeros(hold), np.ones(hold)]).astype("float32")
        keras.utils.set_random_seed(seed + k)
        model = _two_sample_cnn(a.shape[1:], seed + k)
        model.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True),
                      metrics=[keras.metrics.BinaryAccuracy(threshold=0.0)])
        stop = keras.callbacks.EarlyStopping("val_binary_accuracy", patience=patience, mode="max",
                                             restore_best_weights=True)
        model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(xv, yv), callbacks=[stop],
                  shuffle=True, verbose=verbose)
        xt = np.concatenate([a[test], b[test]])
        logits = np.asarray(model.predict(xt, batch_size=128, verbose=0)).reshape(-1)
        hits = (logits > 0) == np.concatenate([np.zeros(len(test)), np.ones(len(test))]).astype(bool)
        accuracies.append(float(hits.mean()))
        correct += int(hits.sum())
    total = 2 * n
    z = (correct - 0.5 * total) / np.sqrt(0.25 * total)
    from math import erfc, sqrt

    return {"accuracy": float(np.mean(accuracies)), "folds": accuracies, "n": int(n),
            "p_value": float(0.5 * erfc(z / sqrt(2.0)))}


def digit_classifier(x_train, y_train, x_val, y_val, seed=0, epochs=30):
    """A small CNN (two pairs of 3x3 convolutions 32 and 64 with max pooling, a 128-d feature layer, dropout 0.3)
    trained from scratch to name 28x28 digits, as the digit apps' evaluations judge samples by it
    (apps/dcgan/evaluate.py, apps/vae/evaluate.py). ``x``: float ``(N, 28, 28, 1)``, ``y``: int labels 0-9.
    Returns ``(model, features, validation accuracy)``: ``model`` gives 10 logits, ``features`` the 128-d layer
    (the space of the digits' FID)."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((28, 28, 1))
    h = inp
    for f in (32, 64):
        h = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(h)
        h = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dropout(0.3)(h)
    feat = keras.layers.Dense(128, activation="relu", name="features")(h)
    out = keras.layers.Dense(10)(keras.layers.Dropout(0.3)(feat))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0, validation_data=(x_val, y_val))
    return model, keras.Model(inp, feat), float(model.evaluate(x_val, y_val, verbose=0)[1])
