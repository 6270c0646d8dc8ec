"""``inpaint``: a DeepFill generator on images and masks as people have them."""
import numpy as np
from PIL import Image

from zoo import images

from .masks import as_mask


def _masks_for(mask, n, size, batched):
    """One uint8 ``(H, W)`` mask per image: one mask for all, or (batches) an ``(N, H, W[, 1])`` array / a list."""
    if batched and isinstance(mask, (list, tuple)):
        if len(mask) != n:
            raise ValueError(f"{len(mask)} masks for {n} images")
        return [as_mask(m, size, what=f"mask {i}", empty_ok=False) for i, m in enumerate(mask)]
    a = mask
    if batched and isinstance(a, np.ndarray) and (a.ndim == 4 or (a.ndim == 3 and a.shape[0] == n
                                                                  and tuple(a.shape[1:]) == tuple(size))):
        if a.shape[0] != n:
            raise ValueError(f"{a.shape[0]} masks for {n} images")
        return [as_mask(m, size, what=f"mask {i}", empty_ok=False) for i, m in enumerate(a)]
    return [as_mask(mask, size, empty_ok=False)] * n


def _resize(a, size, resample):
    """float (H, W, C) or (H, W) -> ``size`` (h, w), Pillow per channel."""
    if a.ndim == 2:
        return np.asarray(Image.fromarray(a.astype(np.float32), "F").resize((size[1], size[0]), resample))
    return np.stack([_resize(a[..., c], size, resample) for c in range(a.shape[-1])], axis=-1)


#: The largest contextual-attention score matrices ``inpaint`` builds (float32, with their fused copies).
ATTENTION_BYTES = 4 << 30


def attention_bytes(h, w):
    """Memory of the contextual attention's scores for an ``h`` x ``w`` input: (cells of 8x8 pixels)^2 float32
    values, about four copies alive (scores, two fusion passes, softmax)."""
    cells = -(-h // 8) * -(-w // 8)
    return 4 * 4 * cells * cells


def _run(model, x, m):
    """The network on one image ``(H, W, C)`` in [-1, 1] and its 0/1 mask ``(H, W)``: the refined output, padded
    by reflection to sides divisible by ``model.multiple`` and cropped back."""
    h, w = m.shape
    if attention_bytes(h, w) > ATTENTION_BYTES:
        raise ValueError(f"a {h}x{w} image needs about {attention_bytes(h, w) / 2**30:.0f} GiB for the contextual "
                         f"attention (it grows with the square of the pixel count): pass max_side (e.g. 512) to fill "
                         f"it at a smaller scale")
    k = model.multiple
    ph, pw = -h % k, -w % k
    mode = "reflect" if h > ph and w > pw else "edge"
    xp = np.pad(x, [(0, ph), (0, pw), (0, 0)], mode=mode)
    mp = np.pad(m, [(0, ph), (0, pw)], mode=mode).astype(np.float32)
    _, refined = model.predict_on_batch([xp[None], mp[None, ..., None]])
    return np.asarray(refined, np.float32)[0, :h, :w]


def poisson_blend(image, fill, hole, tol=1e-4, max_steps=100):
    """``fill`` blended into ``image`` over ``hole`` by Poisson image editing (Perez et al. 2003), the
    post-processing of Iizuka et al. 2017: inside the hole the result keeps the fill's Laplacian and on the hole's
    border it meets the known pixels, so a fill that is off by a smooth error next to the hole loses the seam.

    Solved as ``fill + h`` with ``h`` harmonic in the hole (4-neighbour Laplacian, the image's edges free) and
    equal to ``image - fill`` on the known pixels next to it, on the hole's bounding box: conjugate gradients
    preconditioned by a multigrid V-cycle (red-black Gauss-Seidel; coarser levels keep the 2x2 blocks wholly in
    the hole), until a step changes no value by more than ``tol`` (in the arrays' units; ``max_steps`` at
    most). ``image``/``fill``: float ``(H, W, C)``; ``hole``: bool ``(H, W)``. Returns float64 ``(H, W, C)``: the
    image with the blended fill in the hole. A hole covering the whole image has no border: ``fill`` comes back
    as it is.
    """
    image, fill, hole = np.asarray(image, np.float64), np.asarray(fill, np.float64), np.asarray(hole, bool)
    if hole.all():
        return fill
    if not hole.any():
        return image
    ys, xs = np.nonzero(hole)  # the hole's box and the known ring around it, inside the image
    box = np.s_[max(ys.min() - 1, 0):ys.max() + 2, max(xs.min() - 1, 0):xs.max() + 2]
    grid = _Grid(hole[box])
    known = np.where(grid.hole, 0.0, image[box] - fill[box])
    # flexible conjugate gradients, each step preconditioned by a V-cycle
    residual = np.where(grid.hole, _neighbour_sum(known), 0.0)  # the known neighbours' values
    correction, z = np.zeros_like(residual), grid.cycle(np.zeros_like(residual), residual)
    p, rz = z, (residual * z).sum((0, 1))
    for _ in range(max_steps):
        ap = grid.apply(p)
        alpha = np.divide(rz, (p * ap).sum((0, 1)), out=np.zeros_like(rz), where=rz != 0)
        correction += alpha * p
        if np.abs(alpha * p).max() <= tol:
            break
        residual = residual - alpha * ap
        z_new = grid.cycle(np.zeros_like(residual), residual)
        beta = np.divide((residual * (z_new - z)).sum((0, 1)), rz, out=np.zeros_like(rz), where=rz != 0)
        z, rz = z_new, (residual * z_new).sum((0, 1))
        p = z + beta * p
    out = image.copy()
    out[box] = np.where(grid.hole, fill[box] + correction, image[box])
    return out


def _blocks(a):
    """``a`` (H, W, ...) as 2x2 blocks: ``(ceil(H / 2), 2, ceil(W / 2), 2, ...)``, odd sides padded with zeros."""
    h, w = a.shape[:2]
    a = np.pad(a, [(0, h % 2), (0, w % 2)] + [(0, 0)] * (a.ndim - 2))
    return a.reshape((-(-h // 2), 2, -(-w // 2), 2) + a.shape[2:])


def _neighbour_sum(a):
    """The sum of each pixel's 4 neighbours inside the array."""
    s = np.zeros_like(a)
    s[1:] += a[:-1]
    s[:-1] += a[1:]
    s[:, 1:] += a[:, :-1]
    s[:, :-1] += a[:, 1:]
    return s


class _Grid:
    """One level of ``poisson_blend``'s multigrid: ``degree * e - neighbour_sum(e) = rhs`` on the hole, e = 0
    elsewhere; the next level holds the 2x2 blocks that lie wholly in the hole."""

    def __init__(self, hole):
        h, w = hole.shape
        self.hole = hole[..., None]
        self.degree = 4.0 - np.add.outer(np.isin(np.arange(h), (0, h - 1)).astype(float),
                                         np.isin(np.arange(w), (0, w - 1)))[..., None]
        red = (np.add.outer(np.arange(h), np.arange(w)) % 2 == 0)[..., None]
        self.colours = (self.hole & red, self.hole & ~red)
        blocks = _blocks(hole).all(axis=(1, 3))
        self.coarse = _Grid(blocks) if blocks.sum() >= 16 and min(h, w) >= 8 else None

    def apply(self, e):
        return np.where(self.hole, self.degree * e - _neighbour_sum(e), 0.0)

    def smooth(self, e, rhs, sweeps, colours):
        for _ in range(sweeps):
            for c in colours:
                e = np.where(c, (_neighbour_sum(e) + rhs) / self.degree, e)
        return e

    def cycle(self, e, rhs):
        if self.coarse is None:
            return self.smooth(e, rhs, 20, self.colours)
        e = self.smooth(e, rhs, 2, self.colours)
        coarse_rhs = np.where(self.coarse.hole, _blocks(rhs - self.apply(e)).sum(axis=(1, 3)), 0.0)
        up = _upsample(self.coarse.cycle(np.zeros_like(coarse_rhs), coarse_rhs))[:e.shape[0], :e.shape[1]]
        return self.smooth(np.where(self.hole, e + up, 0.0), rhs, 2, self.colours[::-1])


def _upsample(a):
    """Cell-centred bilinear interpolation of ``(h, w, C)`` to ``(2h, 2w, C)``, edges held."""
    for axis in (0, 1):
        before = np.concatenate([np.take(a, [0], axis), np.take(a, range(a.shape[axis] - 1), axis)], axis)
        after = np.concatenate([np.take(a, range(1, a.shape[axis]), axis), np.take(a, [-1], axis)], axis)
        a = np.stack([0.75 * a + 0.25 * before, 0.75 * a + 0.25 * after], axis + 1)
        a = a.reshape(a.shape[:axis] + (2 * a.shape[axis],) + a.shape[axis + 2:])
    return a


def hole_depth(hole):
    """How deep ``hole`` (bool ``(H, W)``) reaches: the most 4-neighbour steps from a hole pixel to a known one
    (the image's edges are not known pixels). 0 without a hole, None when nothing is known."""
    hole = np.asarray(hole, bool)
    if hole.all():
        return None
    depth, inside = 0, hole
    while inside.any():
        depth += 1
        padded = np.pad(inside, 1, constant_values=True)
        inside = inside & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return depth


def training_depth(preset):
    """The deepest hole of ``preset``'s training masks (a box of half the side): a quarter of its training side,
    32 at 128x128 and 64 at 256x256; 32 for None (a network of no preset, as the 128x128 presets)."""
    size = getattr(preset, "input_size", None) or (128, 128)
    return min(size) // 4


def inpaint(model, image, mask, max_side=512, max_depth="auto", blend=True):
    """Fill the holes of ``image`` where ``mask`` is set; the known pixels come back unchanged.

    ``image``: a path, PIL image, uint8/uint16/float array, single or batch, grey/RGB/RGBA, any size, or a list of
    same-size images (``zoo.images.as_batch``); returned as the same kind. ``mask``: a path, PIL image or array
    of the image's height and width (``zoo.apps.inpainting.masks.as_mask``: a pixel is in the hole where any
    channel is non-zero, or its alpha where the mask has transparency; a mask of another size is an error); one
    mask for every image, or for a batch an ``(N, H, W[, 1])`` array or a list. A mask with no hole pixel is an
    error naming it (there would be nothing to fill). An all-one mask leaves the
    network nothing to go on: it returns the network's guess from an empty image (for the face preset, a
    blurred average face).

    Sizes: the network is fully convolutional and runs at the image's own size, padded by reflection to sides
    divisible by 8 (``model.multiple``) and cropped back. Images whose longer side exceeds ``max_side`` (512;
    None: no limit) are filled at a copy scaled down to it and the fill scaled back (bicubic): the contextual
    attention compares every pair of 8x8 cells, so memory grows with the square of the pixel count (about 0.3 GB
    at 512x512; above ``ATTENTION_BYTES``, 4 GiB, about 1000x1000, it is an error naming ``max_side``). Alpha is
    kept. Holes deeper than ``max_depth`` pixels (``hole_depth``: the most steps from a hole pixel to a known
    one) are filled at a copy scaled down until they are not (its shorter side kept at 64 px or more), and the
    fill scaled back: the network fills holes best at the depths it was trained on, and the default ``"auto"`` is
    the deepest hole of its preset's training masks (``training_depth``: 32 for the 128x128 presets, 64 for
    ``photos_256``; None: no limit).

    ``blend`` (default): the network's fill is Poisson-blended into the image (``poisson_blend``: it meets the
    known pixels around the hole without a seam, as Iizuka et al. 2017 post-process); ``blend=False`` pastes the
    network's fill as it is.
    """
    from zoo.checks import positive_int

    if max_side is not None:
        max_side = positive_int(max_side, "max_side", minimum=8)
    if max_depth == "auto":
        max_depth = training_depth(getattr(model, "preset", None))
    if max_depth is not None:
        max_depth = positive_int(max_depth, "max_depth")
    batch, spec = images.as_batch(image, channels=model.channels)
    n, h, w = batch.shape[:3]
    holes = _masks_for(mask, n, (h, w), spec.batched)
    out = batch.copy()
    for i, m in enumerate(holes):
        x = batch[i]
        scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
        depth = hole_depth(m) if max_depth is not None else None
        if depth is not None and depth > max_depth:
            scale = min(scale, max(max_depth / depth, min(1.0, 64 / min(h, w))))
        if scale < 1.0:
            small = (max(1, round(h * scale)), max(1, round(w * scale)))
            xs = np.clip(_resize(x, small, Image.BICUBIC), -1.0, 1.0)
            ms = (_resize(m.astype(np.float32), small, Image.BILINEAR) > 0).astype(np.float32)
            fill = _resize(_run(model, xs * (1 - ms[..., None]), ms), (h, w), Image.BICUBIC)
        else:
            fill = _run(model, x * (1 - m[..., None]), m)
        if blend:
            fill = poisson_blend(x, fill, m.astype(bool))
        hole = m[..., None].astype(bool)
        out[i] = np.where(hole, np.clip(fill, -1.0, 1.0), x)
    return images.restore(out, spec)
