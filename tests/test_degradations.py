"""Real-ESRGAN's degradation pipeline (zoo.apps.srgan.degradations): each stage on known images, the whole chain's
sizes and seeding, and srgan.dataset(..., degradation="realesrgan")."""
import math

import numpy as np
import pytest
from PIL import Image

from zoo import images
from zoo.apps.srgan import degradations as D


def photo(size=64):
    return np.asarray(Image.open(images.asset("starfish_lr.png")).convert("RGB"))[:size, :size]


# ------------------------------------------------------------------------------------ kernels


def test_gaussian_kernels_match_closed_form():
    xx, yy = D.mesh_grid(21)
    assert xx[10, 10] == 0 and xx[0, 0] == -10 and yy[20, 0] == 10
    iso = D.gaussian_kernel(21, 2.0)
    want = np.exp(-(xx ** 2 + yy ** 2) / (2 * 2.0 ** 2))
    np.testing.assert_allclose(iso, want / want.sum(), rtol=1e-12)
    assert iso.sum() == pytest.approx(1.0)
    # anisotropic, rotated by theta: the axes of the ellipse turn with it
    theta, sx, sy = 0.6, 3.0, 1.0
    k = D.gaussian_kernel(21, sx, sy, theta)
    u = math.cos(theta) * xx + math.sin(theta) * yy  # coordinate along the long axis
    v = -math.sin(theta) * xx + math.cos(theta) * yy
    want = np.exp(-0.5 * (u ** 2 / sx ** 2 + v ** 2 / sy ** 2))
    np.testing.assert_allclose(k, want / want.sum(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(k, k[::-1, ::-1])  # point-symmetric: correlation = convolution
    # generalised Gaussian: beta = 1 is the Gaussian; plateau: 1 / (1 + q^beta)
    np.testing.assert_allclose(D.generalized_gaussian_kernel(21, sx, sy, theta, 1.0), k, rtol=1e-12)
    q = (u ** 2 / sx ** 2 + v ** 2 / sy ** 2)
    g = np.exp(-0.5 * q ** 2.5)
    np.testing.assert_allclose(D.generalized_gaussian_kernel(21, sx, sy, theta, 2.5), g / g.sum(), rtol=1e-9,
                               atol=1e-15)
    p = 1 / (1 + q ** 1.5)
    np.testing.assert_allclose(D.plateau_kernel(21, sx, sy, theta, 1.5), p / p.sum(), rtol=1e-9)
    with pytest.raises(ValueError, match="odd"):
        D.gaussian_kernel(20, 1.0)


def test_sinc_kernel_closed_form():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(0, 45, 500)
    np.testing.assert_allclose(D.bessel_j1(x), special.j1(x), atol=1e-12)
    cutoff, size = 1.3, 13
    k = D.sinc_kernel(cutoff, size)
    xx, yy = D.mesh_grid(size)
    r = np.hypot(xx, yy)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = cutoff * special.j1(cutoff * r) / (2 * np.pi * r)
    want[6, 6] = cutoff ** 2 / (4 * np.pi)
    np.testing.assert_allclose(k, want / want.sum(), rtol=1e-9, atol=1e-14)
    assert k.sum() == pytest.approx(1.0) and k.min() < 0  # a sinc rings: negative lobes
    padded = D.sinc_kernel(cutoff, size, pad_to=21)
    assert padded.shape == (21, 21) and np.array_equal(padded[4:17, 4:17], k) and padded[:4].sum() == 0


def test_random_kernels_sum_to_one():
    rng = np.random.default_rng(0)
    for size in (7, 13, 21):
        for _ in range(20):
            k = D.random_kernel(rng, size, (0.2, 3), (0.5, 4), (1, 2))
            assert k.shape == (size, size) and k.sum() == pytest.approx(1.0) and np.isfinite(k).all()


# ------------------------------------------------------------------------------------ stages


def test_blur():
    img = photo(32).astype(np.float32) / 255
    delta = np.zeros((7, 7))
    delta[3, 3] = 1
    np.testing.assert_allclose(D.blur(img, delta), img, atol=1e-7)
    shift = np.zeros((3, 3))
    shift[1, 2] = 1  # correlation: out[y, x] = in[y, x + 1]
    np.testing.assert_allclose(D.blur(img, shift)[:, :-1], img[:, 1:], atol=1e-7)
    flat = np.full((16, 16, 3), 0.3, np.float32)
    np.testing.assert_allclose(D.blur(flat, D.gaussian_kernel(21, 3.0)), 0.3, atol=1e-6)  # mirrored edges
    blurred = D.blur(img, D.gaussian_kernel(9, 2.0))
    assert np.abs(np.diff(blurred, axis=1)).mean() < 0.5 * np.abs(np.diff(img, axis=1)).mean()


def test_resize_sizes_and_modes():
    img = photo(30).astype(np.float32) / 255
    for mode in D.RESIZE_MODES:
        out = D.resize(img, (13, 47), mode)
        assert out.shape == (13, 47, 3) and out.dtype == np.float32
    flat = np.full((20, 20, 1), 0.25, np.float32)
    np.testing.assert_allclose(D.resize(flat, (7, 9), "area"), 0.25, atol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        D.resize(img, (5, 5), "nearest")


def test_gaussian_noise_std_and_grey():
    img = np.full((200, 200, 3), 0.5, np.float32)
    rng = np.random.default_rng(0)
    noisy = D.gaussian_noise(img, rng, sigma=20)
    assert np.std(noisy - img) == pytest.approx(20 / 255, rel=0.02)
    assert abs(np.mean(noisy - img)) < 1e-3
    grey = D.gaussian_noise(img, rng, sigma=20, grey=True)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    assert not np.array_equal(noisy[..., 0], noisy[..., 1])
    assert D.gaussian_noise(np.zeros((8, 8, 3), np.float32), rng, 30).min() == 0  # clipped


def test_poisson_noise_is_signal_dependent():
    rng = np.random.default_rng(1)
    levels = np.linspace(0.05, 0.5, 64, dtype=np.float32)  # 64 distinct levels -> vals = 64; far from the clip
    img = np.repeat(np.tile(levels, (200, 1))[..., None], 3, axis=2)
    noise = D.poisson_noise(img, rng, scale=1.0) - img
    base = np.round(levels * 255) / 255
    var_lo, var_hi = noise[:, :8].var(), noise[:, -8:].var()
    assert var_lo == pytest.approx(base[:8].mean() / 64, rel=0.1)
    assert var_hi == pytest.approx(base[-8:].mean() / 64, rel=0.1)  # variance = signal / vals
    half = D.poisson_noise(img, np.random.default_rng(1), scale=0.5) - img
    assert half.std() == pytest.approx(0.5 * noise.std(), rel=0.02)
    grey = D.poisson_noise(img, rng, scale=2.0, grey=True)
    assert np.array_equal(grey[..., 0], grey[..., 2])


def test_jpeg_changes_pixels():
    img = photo(64).astype(np.float32) / 255
    low, high = D.jpeg(img, 30), D.jpeg(img, 95)
    assert low.shape == img.shape and low.dtype == np.float32
    assert np.array_equal(np.round(low * 255), low * 255)  # on the 8-bit grid
    err_low, err_high = np.abs(low - img).mean(), np.abs(high - img).mean()
    assert err_low > 2 * err_high > 0
    assert D.jpeg(img[..., :1], 50).shape == (64, 64, 1)


# ------------------------------------------------------------------------------------ the chain


def test_degrade_sizes_seeds_and_effect():
    from zoo.apps.srgan.data import bicubic_downscale

    hr = photo(64)
    for scale in (2, 4):
        for seed in range(6):
            lr = D.realesrgan_degrade(hr, np.random.default_rng(seed), scale)
            assert lr.shape == (64 // scale, 64 // scale, 3) and lr.dtype == np.uint8
    a = D.realesrgan_degrade(hr, np.random.default_rng(7), 4)
    assert np.array_equal(a, D.realesrgan_degrade(hr, np.random.default_rng(7), 4))
    assert not np.array_equal(a, D.realesrgan_degrade(hr, np.random.default_rng(8), 4))
    clean = bicubic_downscale(hr, 4).astype(int)
    diffs = [np.abs(D.realesrgan_degrade(hr, np.random.default_rng(s), 4).astype(int) - clean).mean()
             for s in range(8)]
    assert min(diffs) > 1.0  # every draw degrades (noise and JPEG are always applied)
    assert D.realesrgan_degrade(hr[..., :1], np.random.default_rng(0), 4).shape == (16, 16, 1)
    assert D.realesrgan_degrade(hr[:62, :63], np.random.default_rng(0), 4).shape == (15, 15, 3)
    # the options reach the stages: no noise, no blur, no JPEG damage at quality 95 -> close to a clean resize
    calm = dict(noise_range=(0.0, 0.01), poisson_scale_range=(0.0, 0.001), noise_range2=(0.0, 0.01),
                poisson_scale_range2=(0.0, 0.001), blur_sigma=(0.1, 0.11), blur_sigma2=(0.1, 0.11),
                jpeg_range=(95, 95), jpeg_range2=(95, 95), sinc_prob=0, sinc_prob2=0, final_sinc_prob=0,
                resize_prob=(0, 0, 1), resize_prob2=(0, 0, 1))
    mild = D.realesrgan_degrade(hr, np.random.default_rng(0), 4, options=calm).astype(int)
    assert np.abs(mild - clean).mean() < min(diffs)
    with pytest.raises(ValueError, match="expected an image"):
        D.realesrgan_degrade(hr[..., 0], np.random.default_rng(0), 4)


def test_first_order_and_photo_mix():
    from zoo.apps.srgan.data import bicubic_downscale

    hr = photo(64)
    clean = bicubic_downscale(hr, 4).astype(int)
    # first order alone: one blur, one resize straight to 1/scale, noise, JPEG; with no blur, no noise and quality
    # 95 it is a clean downscale (in the drawn resize mode) up to JPEG's rounding (grey: no chroma subsampling)
    calm = dict(blur_sigma=(0.1, 0.1), sinc_prob=0, noise_range=(0.0, 0.0), poisson_scale_range=(0.0, 0.0),
                gaussian_noise_prob=1.0, jpeg_range=(95, 95))
    grey = hr[..., :1]
    downs = [np.round(D.resize(grey / 255.0, (16, 16), m) * 255) for m in D.RESIZE_MODES]
    for seed in range(3):
        lr = D.first_order_degrade(grey, np.random.default_rng(seed), 4, calm)
        assert lr.shape == (16, 16, 1) and lr.dtype == np.uint8
        assert min(np.abs(lr - d).mean() for d in downs) < 2.5
        full = D.first_order_degrade(grey, np.random.default_rng(seed), 4)
        assert min(np.abs(full - d).mean() for d in downs) > 5
    assert D.first_order_degrade(hr[:62, :63, :1], np.random.default_rng(0), 4).shape == (15, 15, 1)

    def damage(fn, n=24):
        return np.mean([np.abs(fn(np.random.default_rng(s)).astype(int) - clean).mean() for s in range(n)])

    light = damage(lambda r: D.first_order_degrade(hr, r, 4, D.LIGHT))
    full = damage(lambda r: D.first_order_degrade(hr, r, 4))
    assert light < 0.75 * full  # LIGHT is the mild end
    # the two ends the weak- and strong-denoise models train on: FAINT under LIGHT, STRONG far over it
    faint = damage(lambda r: D.faint_degrade(hr, r, 4))
    strong = damage(lambda r: D.strong_degrade(hr, r, 4))
    assert faint < 0.85 * light and strong > 1.3 * light, (faint, light, full, strong)
    assert np.array_equal(D.faint_degrade(hr, np.random.default_rng(3), 4),
                          D.first_order_degrade(hr, np.random.default_rng(3), 4, D.FAINT))
    assert np.array_equal(D.strong_degrade(hr, np.random.default_rng(3), 4),
                          D.first_order_degrade(hr, np.random.default_rng(3), 4, D.STRONG))
    assert {"faint", "strong", "span"} <= set(D.DEGRADATIONS)
    for seed in range(6):  # span: a third each, on the same generator
        rng = np.random.default_rng(seed)
        want = (D.faint_degrade, D.photo_degrade, D.strong_degrade)[rng.choice(3)](hr, rng, 4)
        assert np.array_equal(D.span_degrade(hr, np.random.default_rng(seed), 4), want)
    # the mix: seeded, each branch drawn at its PHOTO_MIX share, then run on the same generator
    a = D.photo_degrade(hr, np.random.default_rng(11), 4)
    assert np.array_equal(a, D.photo_degrade(hr, np.random.default_rng(11), 4)) and a.shape == (16, 16, 3)
    seen = {0: 0, 1: 0, 2: 0}
    for seed in range(40):
        rng = np.random.default_rng(seed)
        branch = int(rng.choice(3, p=D.PHOTO_MIX))
        seen[branch] += 1
        want = [lambda: D.realesrgan_degrade(hr, rng, 4), lambda: D.first_order_degrade(hr, rng, 4),
                lambda: D.first_order_degrade(hr, rng, 4, D.LIGHT)][branch]()
        assert np.array_equal(D.photo_degrade(hr, np.random.default_rng(seed), 4), want)
    assert seen[0] >= 3 and min(seen[1], seen[2]) >= 9
    with pytest.raises(ValueError, match="expected an image"):
        D.photo_degrade(hr[..., 0], np.random.default_rng(0), 4)


def test_dataset_with_realesrgan_degradation(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_PIPELINE", "numpy")
    from zoo.apps import srgan

    big = np.asarray(Image.fromarray(photo(64)).resize((96, 96), Image.BICUBIC))
    for i in range(3):
        Image.fromarray(np.rot90(big, i).copy()).save(tmp_path / f"{i}.png")

    def first(**kw):
        ds = srgan.dataset(str(tmp_path), scale=4, hr_crop=48, batch_size=3, seed=5, **kw)
        lr, hr = ds[0]
        return np.asarray(lr), np.asarray(hr)

    lr_p, _ = first(degradation="photo")
    assert lr_p.shape == (3, 12, 12, 3)
    lr, hr = first(degradation="realesrgan")
    assert lr.shape == (3, 12, 12, 3) and hr.shape == (3, 48, 48, 3)
    assert -1 <= lr.min() and lr.max() <= 1
    lr2, hr2 = first(degradation="realesrgan")
    np.testing.assert_array_equal(lr, lr2)
    np.testing.assert_array_equal(hr, hr2)
    from zoo.apps.srgan.data import bicubic_downscale

    u8 = np.round((hr + 1) * 127.5).astype(np.uint8)
    clean = bicubic_downscale(u8, 4).astype(np.float32) / 127.5 - 1
    assert np.abs(lr - clean).mean() > 0.01  # not the bicubic LR of its own HR
    lr_b, hr_b = first(degradation="bicubic")
    np.testing.assert_allclose(lr_b, bicubic_downscale(np.round((hr_b + 1) * 127.5).astype(np.uint8), 4)
                               .astype(np.float32) / 127.5 - 1, atol=1e-6)
    with pytest.raises(ValueError, match="degradation must be"):
        first(degradation="realesrgan2")


def test_dataset_degradation_on_tf_data(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    monkeypatch.setenv("ZOO_PIPELINE", "tf")
    from zoo.apps import srgan

    for i in range(2):
        Image.fromarray(np.rot90(photo(64), i).copy()).save(tmp_path / f"{i}.png")
    ds = srgan.dataset(str(tmp_path), scale=4, hr_crop=32, batch_size=2, seed=1, degradation="realesrgan")
    lr, hr = (np.asarray(t) for t in next(iter(ds)))
    assert lr.shape == (2, 8, 8, 3) and hr.shape == (2, 32, 32, 3) and lr.dtype == np.float32
