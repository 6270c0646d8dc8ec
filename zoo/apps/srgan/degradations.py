"""Real-ESRGAN's degradation model (Wang et al. 2021, "Real-ESRGAN: Training Real-World Blind Super-Resolution with
Pure Synthetic Data", section 3): LR training images that look like real photos, not clean bicubic downscales.

    lr = realesrgan_degrade(hr, np.random.default_rng(0), scale=4)     # uint8 (H/4, W/4, C)
    srgan.dataset("my/photos", degradation="realesrgan")               # sr_pairs runs it per example

Second-order degradation: the clean HR goes twice through blur -> random resize -> noise -> JPEG, then a final
resize to exactly ``1/scale`` and a 2-D sinc filter (ringing and overshoot artefacts), JPEG and sinc in random
order. Each stage is one function below on float32 ``(H, W, C)`` images in [0, 1] with a
``numpy.random.Generator``; the probabilities and ranges are ``REALESRGAN``, those of the paper's
RealESRNet/RealESRGAN x4plus training (xinntao/Real-ESRGAN ``options/train_realesrnet_x4plus.yml`` and
``realesrgan/data/realesrgan_dataset.py``, ``realesrgan/models/realesrnet_model.py``; the kernels and noise as
BasicSR's ``basicsr/data/degradations.py``):

* blur (first order always, second with probability 0.8): kernel size uniform over 7, 9, ..., 21; with
  probability 0.1 a sinc (circular low-pass) kernel of cutoff uniform in [pi/3, pi] (sizes < 13) or [pi/5, pi],
  otherwise isotropic Gaussian 0.45, anisotropic Gaussian 0.25, generalised Gaussian iso 0.12 / aniso 0.03,
  plateau iso 0.12 / aniso 0.03, sigmas uniform in [0.2, 3] (second order: [0.2, 1.5]), rotation uniform in
  [-pi, pi], generalised beta in [0.5, 4], plateau beta in [1, 2] (half the time below 1 / above 1 for the
  generalised kernel, as BasicSR draws it); the image's edges are mirrored (reflect-101).
* resize: up / down / keep with probabilities 0.2 / 0.7 / 0.1, factor uniform in [1, 1.5] or [0.15, 1] (second
  order: 0.3 / 0.4 / 0.3, [1, 1.2] or [0.3, 1], relative to the final ``1/scale`` size); area, bilinear or
  bicubic, equally likely.
* noise: Gaussian with probability 0.5, sigma uniform in [1, 30] / 255 (second: [1, 25]), else Poisson with
  scale uniform in [0.05, 3] (second: [0.05, 2.5]); grey (one noise field for all channels) with probability
  0.4; clipped to [0, 1].
* JPEG: quality uniform in [30, 95] (an integer for the encoder), both orders.
* final sinc filter with probability 0.8: cutoff uniform in [pi/3, pi], size 7-21.

Differences from the PyTorch original, so that it runs per example in NumPy on a CPU: resizing is Pillow's on
float32 (``BOX`` for area; its bilinear and bicubic antialias when shrinking, PyTorch's ``interpolate`` does not);
JPEG is Pillow's libjpeg at an integer quality (Real-ESRGAN trains with a differentiable JPEG at a float
quality); degradation is applied to the training crop (the original degrades a 400-pixel crop and crops 256
from it), and the HR target is not unsharp-masked (Real-ESRGAN's ``gt_usm``). The LR is rounded to uint8.
"""
import io
import math

import numpy as np

#: The paper's settings (train_realesrnet_x4plus.yml); ``realesrgan_degrade(..., options={...})`` overrides.
REALESRGAN = {
    "kernel_sizes": tuple(range(7, 22, 2)),
    "kernel_list": ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"),
    "kernel_prob": (0.45, 0.25, 0.12, 0.03, 0.12, 0.03),
    "sinc_prob": 0.1, "blur_sigma": (0.2, 3.0), "betag_range": (0.5, 4.0), "betap_range": (1.0, 2.0),
    "resize_prob": (0.2, 0.7, 0.1), "resize_range": (0.15, 1.5),
    "gaussian_noise_prob": 0.5, "noise_range": (1.0, 30.0), "poisson_scale_range": (0.05, 3.0),
    "gray_noise_prob": 0.4, "jpeg_range": (30, 95),
    "second_blur_prob": 0.8, "sinc_prob2": 0.1, "blur_sigma2": (0.2, 1.5), "betag_range2": (0.5, 4.0),
    "betap_range2": (1.0, 2.0),
    "resize_prob2": (0.3, 0.4, 0.3), "resize_range2": (0.3, 1.2),
    "gaussian_noise_prob2": 0.5, "noise_range2": (1.0, 25.0), "poisson_scale_range2": (0.05, 2.5),
    "gray_noise_prob2": 0.4, "jpeg_range2": (30, 95),
    "final_sinc_prob": 0.8,
}

RESIZE_MODES = ("area", "bilinear", "bicubic")


# ------------------------------------------------------------------------------------ blur kernels


def mesh_grid(size):
    """``(x, y)`` pixel offsets from the centre of an odd ``size`` x ``size`` kernel (float64)."""
    if size % 2 != 1 or size < 1:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    ax = np.arange(size, dtype=np.float64) - size // 2
    return np.meshgrid(ax, ax)


def _quadratic_form(size, sigma_x, sigma_y=None, theta=0.0):
    """``[x y] Sigma^-1 [x y]^T`` at each kernel pixel, ``Sigma = R diag(sx^2, sy^2) R^T`` (R: rotation by
    ``theta``); isotropic when ``sigma_y`` is None."""
    xx, yy = mesh_grid(size)
    sigma_y = sigma_x if sigma_y is None else sigma_y
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[c, -s], [s, c]])
    inv = np.linalg.inv(rot @ np.diag([sigma_x ** 2, sigma_y ** 2]) @ rot.T)
    return inv[0, 0] * xx * xx + (inv[0, 1] + inv[1, 0]) * xx * yy + inv[1, 1] * yy * yy


def gaussian_kernel(size, sigma_x, sigma_y=None, theta=0.0):
    """Bivariate Gaussian ``exp(-q / 2)`` normalised to sum 1 (``q``: the quadratic form above)."""
    k = np.exp(-0.5 * _quadratic_form(size, sigma_x, sigma_y, theta))
    return k / k.sum()


def generalized_gaussian_kernel(size, sigma_x, sigma_y=None, theta=0.0, beta=1.0):
    """Generalised Gaussian ``exp(-q^beta / 2)`` (beta = 1: the Gaussian), normalised."""
    k = np.exp(-0.5 * np.power(_quadratic_form(size, sigma_x, sigma_y, theta), beta))
    return k / k.sum()


def plateau_kernel(size, sigma_x, sigma_y=None, theta=0.0, beta=1.0):
    """Plateau-shaped ``1 / (1 + q^beta)``, normalised."""
    k = 1.0 / (np.power(_quadratic_form(size, sigma_x, sigma_y, theta), beta) + 1.0)
    return k / k.sum()


def bessel_j1(x):
    """Bessel function of the first kind, order 1 (NumPy only): ``(1/pi) int_0^pi cos(t - x sin t) dt`` by the
    trapezoid rule, which converges geometrically for this periodic integrand (error < 1e-12 for |x| < 60)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.linspace(0.0, np.pi, 257)
    w = np.full(t.shape, 1.0)
    w[0] = w[-1] = 0.5
    vals = np.cos(t - x[..., None] * np.sin(t))
    return (vals * w).sum(-1) / (len(t) - 1)


def sinc_kernel(cutoff, size, pad_to=0):
    """2-D circularly symmetric low-pass (sinc) kernel of ``cutoff`` radians per pixel (pi = Nyquist):
    ``cutoff * J1(cutoff * r) / (2 pi r)``, ``cutoff^2 / (4 pi)`` at the centre, normalised; zero-padded to
    ``pad_to`` when larger."""
    xx, yy = mesh_grid(size)
    r = np.hypot(xx, yy)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = cutoff * bessel_j1(cutoff * r) / (2 * np.pi * r)
    k[size // 2, size // 2] = cutoff ** 2 / (4 * np.pi)
    k = k / k.sum()
    if pad_to > size:
        p = (pad_to - size) // 2
        k = np.pad(k, p)
    return k


def random_kernel(rng, size, sigma_range, betag_range, betap_range, kinds=REALESRGAN["kernel_list"],
                  probs=REALESRGAN["kernel_prob"]):
    """One blur kernel of the mix (``kinds`` with ``probs``): sigma(s) uniform in ``sigma_range``, rotation in
    [-pi, pi] for the anisotropic kinds, beta as BasicSR draws it (half the time below 1, half above)."""
    kind = kinds[rng.choice(len(kinds), p=np.asarray(probs) / np.sum(probs))]
    sx = rng.uniform(*sigma_range)
    sy, theta = (rng.uniform(*sigma_range), rng.uniform(-math.pi, math.pi)) if "aniso" in kind else (None, 0.0)
    if kind in ("iso", "aniso"):
        return gaussian_kernel(size, sx, sy, theta)
    beta_range = betag_range if kind.startswith("generalized") else betap_range
    beta = rng.uniform(beta_range[0], 1) if rng.uniform() < 0.5 else rng.uniform(1, beta_range[1])
    if kind.startswith("generalized"):
        return generalized_gaussian_kernel(size, sx, sy, theta, beta)
    return plateau_kernel(size, sx, sy, theta, beta)


def blur(img, kernel):
    """``img`` (H, W, C) correlated with a 2-D ``kernel`` (odd size), edges mirrored (reflect-101, as
    PyTorch's ``reflect`` padding in BasicSR's ``filter2D``). float32."""
    k = np.asarray(kernel, np.float32)
    p = k.shape[0] // 2
    padded = np.pad(img.astype(np.float32), ((p, p), (p, p), (0, 0)), mode="reflect")
    h, w = img.shape[:2]
    out = np.zeros(img.shape, np.float32)
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            if k[i, j] != 0:
                out += k[i, j] * padded[i:i + h, j:j + w]
    return out


# ------------------------------------------------------------------------------------ resize, noise, JPEG


def resize(img, size, mode="bicubic"):
    """``img`` (H, W, C) float to ``size`` = (height, width) with Pillow on float32: ``"area"`` (box),
    ``"bilinear"`` or ``"bicubic"``."""
    from PIL import Image

    filters = {"area": Image.BOX, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
    if mode not in filters:
        raise ValueError(f"mode must be one of {RESIZE_MODES}, got {mode!r}")
    h, w = max(1, int(size[0])), max(1, int(size[1]))
    if (h, w) == img.shape[:2]:
        return img.astype(np.float32)
    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(img[..., c], dtype=np.float32)).resize(
        (w, h), filters[mode])) for c in range(img.shape[-1])], axis=-1)


def _grey(img):
    if img.shape[-1] == 1:
        return img[..., 0]
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


def gaussian_noise(img, rng, sigma, grey=False):
    """``img`` plus N(0, (sigma/255)^2) noise (``sigma`` in 0-255 levels), one field for all channels when
    ``grey``; clipped to [0, 1]."""
    shape = img.shape[:2] + (1,) if grey else img.shape
    noise = rng.standard_normal(shape).astype(np.float32) * (sigma / 255.0)
    return np.clip(img + noise, 0.0, 1.0)


def poisson_noise(img, rng, scale, grey=False):
    """Signal-dependent (shot) noise, BasicSR's: the image (its grey version when ``grey``) rounded to 8 bits,
    ``vals`` = its number of distinct levels rounded up to a power of two, noise = ``Poisson(img * vals) / vals -
    img`` times ``scale``; clipped to [0, 1]."""
    base = _grey(img)[..., None] if grey else img
    base = np.clip(np.round(base * 255.0), 0, 255) / 255.0
    vals = 2 ** np.ceil(np.log2(len(np.unique(base))))
    noise = (rng.poisson(base * vals) / vals - base).astype(np.float32)
    return np.clip(img + noise * scale, 0.0, 1.0)


def jpeg(img, quality):
    """JPEG round trip (Pillow, 4:2:0 chroma) at integer ``quality``; float32 in [0, 1] on the 8-bit grid."""
    from PIL import Image

    u8 = np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
    pil = Image.fromarray(u8[..., 0] if u8.shape[-1] == 1 else u8)
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=int(round(quality)))
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue()))).astype(np.float32) / 255.0
    return out.reshape(img.shape)


# ------------------------------------------------------------------------------------ the pipeline


def _kernel(rng, o, suffix=""):
    size = int(rng.choice(o["kernel_sizes"]))
    if rng.uniform() < o["sinc_prob" + (suffix or "")]:
        cutoff = rng.uniform(np.pi / 3, np.pi) if size < 13 else rng.uniform(np.pi / 5, np.pi)
        return sinc_kernel(cutoff, size)
    return random_kernel(rng, size, o["blur_sigma" + suffix], o["betag_range" + suffix], o["betap_range" + suffix],
                         o["kernel_list"], o["kernel_prob"])


def _noise(img, rng, o, suffix=""):
    grey = rng.uniform() < o["gray_noise_prob" + suffix]
    if rng.uniform() < o["gaussian_noise_prob" + suffix]:
        return gaussian_noise(img, rng, rng.uniform(*o["noise_range" + suffix]), grey)
    return poisson_noise(img, rng, rng.uniform(*o["poisson_scale_range" + suffix]), grey)


def _resize_factor(rng, probs, scale_range):
    kind = rng.choice(3, p=np.asarray(probs) / np.sum(probs))
    if kind == 0:
        return rng.uniform(1, scale_range[1])
    if kind == 1:
        return rng.uniform(scale_range[0], 1)
    return 1.0


def _mode(rng):
    return RESIZE_MODES[rng.integers(len(RESIZE_MODES))]


def realesrgan_degrade(hr, rng, scale=4, options=None):
    """The LR of one HR image by Real-ESRGAN's second-order degradation (module docstring), uint8 ``(H //
    scale, W // scale, C)``.

    ``hr``: uint8 (or float in [0, 1]) ``(H, W, C)``, C = 1 or 3; ``rng``: a ``numpy.random.Generator`` (the
    same seed gives the same LR); ``options``: overrides of ``REALESRGAN``.
    """
    o = dict(REALESRGAN, **(options or {}))
    x, h, w = _check(hr, scale)
    # first order
    x = blur(x, _kernel(rng, o))
    f = _resize_factor(rng, o["resize_prob"], o["resize_range"])
    x = resize(x, (int(x.shape[0] * f), int(x.shape[1] * f)), _mode(rng))
    x = _noise(x, rng, o)
    x = jpeg(np.clip(x, 0, 1), rng.uniform(*o["jpeg_range"]))
    # second order
    if rng.uniform() < o["second_blur_prob"]:
        x = blur(x, _kernel(rng, o, "2"))
    f = _resize_factor(rng, o["resize_prob2"], o["resize_range2"])
    x = resize(x, (int(hr.shape[0] / scale * f), int(hr.shape[1] / scale * f)), _mode(rng))
    x = _noise(x, rng, o, "2")
    # final: resize to 1/scale and sinc filter, JPEG before or after
    if rng.uniform() < o["final_sinc_prob"]:
        sinc = sinc_kernel(rng.uniform(np.pi / 3, np.pi), int(rng.choice(o["kernel_sizes"])))
    else:
        sinc = None
    if rng.uniform() < 0.5:
        x = resize(x, (h, w), _mode(rng))
        x = x if sinc is None else blur(x, sinc)
        x = jpeg(np.clip(x, 0, 1), rng.uniform(*o["jpeg_range2"]))
    else:
        x = jpeg(np.clip(x, 0, 1), rng.uniform(*o["jpeg_range2"]))
        x = resize(x, (h, w), _mode(rng))
        x = x if sinc is None else blur(x, sinc)
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def _check(hr, scale):
    hr = np.asarray(hr)
    if hr.ndim != 3 or hr.shape[-1] not in (1, 3):
        raise ValueError(f"expected an image (H, W, 1 or 3), got shape {hr.shape}")
    if hr.shape[0] // scale < 1 or hr.shape[1] // scale < 1:
        raise ValueError(f"image {hr.shape[0]}x{hr.shape[1]} is smaller than scale={scale}")
    x = hr.astype(np.float32) / 255.0 if hr.dtype == np.uint8 else hr.astype(np.float32)
    return x, hr.shape[0] // scale, hr.shape[1] // scale


def first_order_degrade(hr, rng, scale=4, options=None):
    """One pass of the classical model: blur (``_kernel``), a resize straight to ``1/scale`` (area, bilinear or
    bicubic), noise, JPEG; the ranges of ``REALESRGAN``'s first order unless ``options`` override them. uint8."""
    o = dict(REALESRGAN, **(options or {}))
    x, h, w = _check(hr, scale)
    x = resize(blur(x, _kernel(rng, o)), (h, w), _mode(rng))
    x = jpeg(_noise(x, rng, o), rng.uniform(*o["jpeg_range"]))
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


#: Light first-order degradation, ``photo_degrade``'s third of mildly degraded photos: sharper blur, little noise,
#: high JPEG quality, no sinc kernels.
LIGHT = {"blur_sigma": (0.2, 1.5), "sinc_prob": 0.0, "noise_range": (0.0, 10.0), "poisson_scale_range": (0.0, 1.0),
         "jpeg_range": (60, 95)}


#: Faint first-order degradation (``degradation="faint"``): the weak-denoise model's training LR (Real-ESRGAN's
#: realesr-general-wdn-x4v3 idea): photos that are barely noisy or compressed, to keep their texture.
FAINT = {"blur_sigma": (0.2, 1.5), "sinc_prob": 0.0, "noise_range": (0.0, 3.0), "poisson_scale_range": (0.0, 0.3),
         "jpeg_range": (80, 95)}


def faint_degrade(hr, rng, scale=4):
    """``first_order_degrade`` at ``FAINT``'s ranges."""
    return first_order_degrade(hr, rng, scale, FAINT)


#: Strong first-order degradation (``degradation="strong"``): the strong-denoise model's training LR, photos that
#: are blurred, noisy and heavily compressed.
STRONG = {"blur_sigma": (1.0, 3.0), "sinc_prob": 0.0, "noise_range": (5.0, 25.0), "poisson_scale_range": (0.5, 3.0),
          "jpeg_range": (30, 75)}


def strong_degrade(hr, rng, scale=4):
    """``first_order_degrade`` at ``STRONG``'s ranges."""
    return first_order_degrade(hr, rng, scale, STRONG)


#: ``photo_degrade``'s shares of Real-ESRGAN's second order, its first order alone and ``LIGHT``.
PHOTO_MIX = (0.2, 0.4, 0.4)


def photo_degrade(hr, rng, scale=4):
    """``photo_x4``'s training LR: Real-ESRGAN's second-order degradation (``realesrgan_degrade``), its first
    order alone (``first_order_degrade``) or a light first order (``LIGHT``), drawn with ``PHOTO_MIX``. Trained
    on the second order alone, the compact network smooths mildly degraded photos as if they were noisy (0.7-1.3
    dB below bicubic on the card's mild set); the mix keeps the whole range in view, most of it one-pass."""
    branch = rng.choice(3, p=PHOTO_MIX)
    if branch == 0:
        return realesrgan_degrade(hr, rng, scale)
    return first_order_degrade(hr, rng, scale, None if branch == 1 else LIGHT)


def span_degrade(hr, rng, scale=4):
    """The whole range at a third each: ``faint_degrade``, ``photo_degrade``, ``strong_degrade`` (the training
    LR of ``AdaptiveCompact``'s estimator, which must tell the two ends apart and place what lies between)."""
    return (faint_degrade, photo_degrade, strong_degrade)[rng.choice(3)](hr, rng, scale)


#: ``sr_pairs(degradation=...)``: name -> function ``(hr uint8 (H, W, C), rng, scale) -> lr uint8``.
DEGRADATIONS = {"realesrgan": realesrgan_degrade, "photo": photo_degrade, "faint": faint_degrade,
                "strong": strong_degrade, "span": span_degrade}
