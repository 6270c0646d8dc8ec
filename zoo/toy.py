"""Toy data: mixtures of Gaussians in 2-D, the problem on which mode collapse is measured (apps/dcgan/mode_collapse.py).

* ``ring_of_gaussians``: the data of Metz et al. (2016), "Unrolled Generative Adversarial Networks", figure 1
  and appendix A: a mixture of 8 equally weighted Gaussians, std 0.02, centred on a circle of radius 2.
* ``mode_coverage``: the counts used by VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018) on that
  data. A generated sample is *high quality* if it lies within 3 standard deviations of its nearest mode
  centre; it is then registered to that mode. A mode is *covered* if at least ``min_fraction`` of all the
  samples (default 1%: 25 of 2,500) are high-quality samples registered to it. PacGAN's rule is "at least 20
  of 2,500" (0.8%); the 1% rule is slightly stricter. Returns (modes covered, fraction of high-quality
  samples).
* ``scatter_png``: a scatter plot of samples over the mode centres drawn with Pillow (no matplotlib).
"""
import numpy as np


def mode_centres(modes=8, radius=2.0):
    """``(modes, 2)`` centres on a circle of ``radius``, the first at angle 0."""
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def ring_of_gaussians(n, modes=8, radius=2.0, std=0.02, seed=None):
    """``n`` float32 points of the ring mixture: a uniformly chosen centre plus N(0, std^2 I) noise."""
    rng = np.random.default_rng(seed)
    centres = mode_centres(modes, radius)
    which = rng.integers(0, modes, size=n)
    return (centres[which] + std * rng.standard_normal((n, 2))).astype("float32")


def assign_modes(samples, modes=8, radius=2.0, std=0.02):
    """Index of each sample's nearest mode centre, or -1 when it is farther than 3 std from it."""
    samples = np.asarray(samples, dtype="float64").reshape(-1, 2)
    centres = mode_centres(modes, radius)
    dist = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
    nearest = np.argmin(dist, axis=1)
    close = dist[np.arange(len(samples)), nearest] <= 3.0 * std
    return np.where(close, nearest, -1)


def mode_counts(samples, modes=8, radius=2.0, std=0.02):
    """High-quality samples registered to each mode, shape ``(modes,)``."""
    which = assign_modes(samples, modes, radius, std)
    return np.bincount(which[which >= 0], minlength=modes)


def mode_coverage(samples, modes=8, radius=2.0, std=0.02, min_fraction=0.01):
    """``(modes covered, fraction of high-quality samples)``.

    A sample is high quality if it is within 3 ``std`` of its nearest mode centre; a mode is covered if at
    least ``min_fraction`` of *all* samples (and at least one) are high-quality samples of that mode.
    """
    samples = np.asarray(samples).reshape(-1, 2)
    n = len(samples)
    if n == 0:
        raise ValueError("mode_coverage needs at least one sample")
    counts = mode_counts(samples, modes, radius, std)
    threshold = max(1.0, min_fraction * n)
    return int(np.sum(counts >= threshold)), float(counts.sum() / n)


def scatter_png(path, samples, modes=8, radius=2.0, extent=3.0, size=400, title=None, real=None):
    """Draw ``samples`` (blue dots) over the mode centres (red rings; ``real`` points in grey if given) on
    the square [-extent, extent]^2 and save a PNG of ``size`` x ``size`` pixels. Returns the path."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)

    def px(points):
        points = np.asarray(points, dtype="float64").reshape(-1, 2)
        x = (points[:, 0] + extent) / (2 * extent) * (size - 1)
        y = (extent - points[:, 1]) / (2 * extent) * (size - 1)
        return np.stack([x, y], axis=1)

    # axes through the origin and a frame
    o = px([[0.0, 0.0]])[0]
    draw.line([(0, o[1]), (size, o[1])], fill=(220, 220, 220))
    draw.line([(o[0], 0), (o[0], size)], fill=(220, 220, 220))
    draw.rectangle([0, 0, size - 1, size - 1], outline=(160, 160, 160))
    if real is not None:
        for x, y in px(real):
            draw.point((x, y), fill=(170, 170, 170))
    for x, y in px(samples):
        if 0 <= x < size and 0 <= y < size:
            draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=(31, 90, 200))
    r = 0.06 / (2 * extent) * size + 4  # a ring a little larger than 3 std
    for x, y in px(mode_centres(modes, radius)):
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(220, 30, 30))
    if title:
        draw.text((6, 4), title, fill=(0, 0, 0))
    img.save(path)
    return path
