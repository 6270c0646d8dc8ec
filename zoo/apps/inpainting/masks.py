"""Masks for training and evaluating inpainting: uint8 ``(H, W)`` arrays, 1 in the hole, 0 where the pixel is known.

* ``free_form(h, w, rng)``: the DeepFill v2 algorithm (Yu et al. 2019, algorithm 1; the reference's
  ``brush_stroke_mask``): 1-3 strokes, each a random walk of 4-11 vertices with alternating turning angles around
  2 pi / 5, segment lengths around a quarter of the diagonal, drawn as thick lines with round joints, then
  mirrored at random. The reference draws widths 12-40 px on 256x256 images; widths scale with ``min(h, w) / 256``.
* ``box(h, w, rng)``: the reference's random rectangle (``random_bbox`` + ``bbox2mask``): a box of half the image
  side placed at random, each side shrunk by up to a quarter of it.
* ``training_mask(h, w, rng)``: the union of both, as the reference trains.
* ``mixed_mask(h, w, rng)``: half the time ``training_mask``, half the time the strokes alone (brush masks as
  users draw them, with more of the image known).
* ``centre_box(h, w, fraction)``: the evaluation's centred square hole (``fraction`` of each side).
* ``as_mask(mask)``: a mask as users give it (a file, PIL image or array; non-zero = hole, ``as_mask``).
* ``MaskFolder(folder)``: masks users provide (any image files; non-zero = hole), resized (nearest) to the image
  and mirrored at random.
"""
import math

import numpy as np
from PIL import Image, ImageDraw


def free_form(h, w, rng, strokes=(1, 4), vertices=(4, 12), width=(12, 40)):
    """One free-form stroke mask, uint8 ``(h, w)`` in {0, 1}. ``rng``: a ``numpy.random.Generator``.
    ``strokes``/``vertices``: [low, high) counts; ``width``: stroke width range in pixels at 256x256."""
    scale = min(h, w) / 256.0
    mean_angle, angle_range = 2 * math.pi / 5, 2 * math.pi / 15
    radius = math.sqrt(h * h + w * w) / 8
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(*strokes))):
        n = int(rng.integers(*vertices))
        lo, hi = mean_angle - rng.uniform(0, angle_range), mean_angle + rng.uniform(0, angle_range)
        angles = [2 * math.pi - rng.uniform(lo, hi) if i % 2 == 0 else rng.uniform(lo, hi) for i in range(n)]
        pts = [(int(rng.integers(0, w)), int(rng.integers(0, h)))]
        for a in angles:
            r = float(np.clip(rng.normal(radius, radius // 2), 0, 2 * radius))
            pts.append((int(np.clip(pts[-1][0] + r * math.cos(a), 0, w)),
                        int(np.clip(pts[-1][1] + r * math.sin(a), 0, h))))
        stroke = max(1, int(rng.uniform(*width) * scale))
        draw.line(pts, fill=1, width=stroke)
        for x, y in pts:
            draw.ellipse((x - stroke // 2, y - stroke // 2, x + stroke // 2, y + stroke // 2), fill=1)
    m = np.asarray(img, np.uint8)
    if rng.normal() > 0:
        m = m[:, ::-1]
    if rng.normal() > 0:
        m = m[::-1, :]
    return np.ascontiguousarray(m)


def box(h, w, rng):
    """A random rectangle hole, uint8 ``(h, w)``: half the image side, each side shrunk by up to 1/8 of the
    image side (at 256: 128x128 with max_delta 32, the reference's settings)."""
    bh, bw = h // 2, w // 2
    top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
    dh, dw = int(rng.integers(0, h // 16 + 1)), int(rng.integers(0, w // 16 + 1))
    m = np.zeros((h, w), np.uint8)
    m[top + dh:top + bh - dh, left + dw:left + bw - dw] = 1
    return m


def training_mask(h, w, rng):
    """The reference's training mask: a random box united with a free-form stroke mask."""
    return np.maximum(box(h, w, rng), free_form(h, w, rng))


def mixed_mask(h, w, rng):
    """``training_mask`` or, with probability 1/2, ``free_form`` alone."""
    return training_mask(h, w, rng) if rng.random() < 0.5 else free_form(h, w, rng)


def centre_box(h, w, fraction=0.5):
    """A centred rectangle hole covering ``fraction`` of each side (0.5: a quarter of the image)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    bh, bw = max(1, round(h * fraction)), max(1, round(w * fraction))
    m = np.zeros((h, w), np.uint8)
    m[(h - bh) // 2:(h - bh) // 2 + bh, (w - bw) // 2:(w - bw) // 2 + bw] = 1
    return m


def as_mask(mask, shape=None, what="mask", empty_ok=True):
    """A mask as people have it (a path, PIL image, or array ``(H, W)``, ``(H, W, C)``; bool, integer or float)
    -> uint8 ``(H, W)`` in {0, 1}: 1 (the hole) where any channel is non-zero, whatever the dtype, so a red or a
    grey-100 stroke is a hole as a white one is. A mask with alpha (a file or PIL image in LA/RGBA/PA mode, an
    array of 2 or 4 channels) that is transparent anywhere is read by its alpha alone (hole where alpha is
    non-zero: strokes painted on a transparent layer); a fully opaque one by its colour. Negative values (a
    -1/1 mask) are an error, as is NaN. ``shape``: the ``(H, W)`` it must have (a clear error otherwise).
    ``empty_ok=False``: a mask with no hole pixel is an error (filling it would return the input unchanged)."""
    import os

    from zoo import images

    if isinstance(mask, (str, os.PathLike)):
        what = f"{what} {os.fspath(mask)}"
        mask = images.load_image(mask)
    if isinstance(mask, Image.Image):
        mask = images.pil_to_array(mask)[0]
    a = np.asarray(mask)
    if a.ndim == 3 and a.shape[-1] in (2, 4) and (a[..., -1] < a[..., -1].max(initial=0)).any():
        a = a[..., -1]  # alpha that says something
    elif a.ndim == 3 and a.shape[-1] in (2, 4):
        a = a[..., :-1]
    if a.ndim == 3:
        a = a.max(axis=-1)
    if a.ndim != 2:
        raise ValueError(f"{what} must be (H, W) or (H, W, C), got shape {np.shape(mask)}")
    if a.dtype != bool and not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{what} must hold numbers or bools, got dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
        raise ValueError(f"{what} holds NaN or infinite values")
    if a.dtype != bool and a.size and a.min() < 0:
        raise ValueError(f"{what} holds negative values: masks are 0 (known) and non-zero (hole); for a -1/1 mask "
                         f"pass mask > 0")
    m = a != 0
    if shape is not None and tuple(m.shape) != tuple(shape):
        raise ValueError(f"{what} is {m.shape[0]}x{m.shape[1]} but the image is {shape[0]}x{shape[1]}: they must "
                         f"have the same size")
    if not empty_ok and not m.any():
        raise ValueError(f"{what} has no hole: every pixel is 0 (the hole is where the mask is non-zero, or its "
                         f"alpha where it has transparency)")
    return m.astype(np.uint8)


class MaskFolder:
    """Masks from a folder of images (non-zero = hole, see ``as_mask``): ``draw(h, w, rng)`` picks one at random,
    resizes it (nearest) to ``h`` x ``w`` and mirrors it at random."""

    def __init__(self, folder):
        from zoo import data

        self.folder, self.files = folder, data.list_images(folder)
        if not self.files:
            raise ValueError(f"no mask images in {folder}")

    def __len__(self):
        return len(self.files)

    def __call__(self, h, w, rng):
        path = self.files[int(rng.integers(len(self.files)))]
        m = np.asarray(Image.fromarray(as_mask(path)).resize((w, h), Image.NEAREST))
        if rng.random() < 0.5:
            m = m[:, ::-1]
        return np.ascontiguousarray(m)
