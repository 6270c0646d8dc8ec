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
        return [as_mask(m, size, what=f"mask {i}") for i, m in enumerate(mask)]
    a = mask
    if batched and isinstance(a, np.ndarray) and (a.ndim == 4 or (a.ndim == 3 and a.shape[0] == n
                                                                  and tuple(a.shape[1:]) == tuple(size))):
        if a.shape[0] != n:
            raise ValueError(f"{a.shape[0]} masks for {n} images")
        return [as_mask(m, size, what=f"mask {i}") for i, m in enumerate(a)]
    return [as_mask(mask, size)] * n


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


def poisson_blend(image, fill, hole, tol=1e-4):
    """``fill`` blended into ``image`` over ``hole`` by Poisson image editing (Perez et al. 2003), the
    post-processing of Iizuka et al. 2017: inside the hole the result keeps the fill's Laplacian and on the hole's
    border it meets the known pixels, so a fill that is off by a smooth error next to the hole loses the seam.

    Solved as ``fill + h`` with ``h`` harmonic in the hole (4-neighbour Laplacian, the image's edges free) and
    equal to ``image - fill`` on the known pixels next to it: conjugate gradients over the hole's pixels (every
    channel at once) to a residual of ``tol`` of the right-hand side, started from the same problem solved at
    half the resolution. ``image``/``fill``: float ``(H, W, C)``; ``hole``: bool ``(H, W)``. Returns float64
    ``(H, W, C)``: the image with the blended fill in the hole. A hole covering the whole image has no border:
    ``fill`` comes back as it is.
    """
    image, fill, hole = np.asarray(image, np.float64), np.asarray(fill, np.float64), np.asarray(hole, bool)
    if hole.all():
        return fill
    if not hole.any():
        return image
    return fill + _harmonic(image - fill, hole, tol)


def _harmonic(values, hole, tol):
    """``values`` (H, W, C) with the hole replaced by the harmonic function that meets them around it."""
    ys, xs = np.nonzero(hole)
    n, (h, w) = len(ys), hole.shape
    out = np.where(hole[..., None], 0.0, values)
    start = np.zeros((n, values.shape[-1]))
    if n > 1024 and min(h, w) >= 16:  # a first answer from half the resolution: CG then fixes the details
        ph, pw = h % 2, w % 2
        v = np.pad(values, [(0, ph), (0, pw), (0, 0)], mode="edge")
        m = np.pad(hole, [(0, ph), (0, pw)], mode="edge")
        known = (~m).reshape(h // 2 + ph, 2, w // 2 + pw, 2).sum(axis=(1, 3))
        sums = (v * ~m[..., None]).reshape(h // 2 + ph, 2, w // 2 + pw, 2, -1).sum(axis=(1, 3))
        coarse_hole = known == 0
        if not coarse_hole.all():
            coarse = _harmonic(sums / np.maximum(known, 1)[..., None], coarse_hole, tol)
            start = coarse.repeat(2, 0).repeat(2, 1)[:h, :w][ys, xs]
    index = np.full((h + 2, w + 2), n)  # padded: outside the image and known pixels point at a zero row
    index[ys + 1, xs + 1] = np.arange(n)
    degree, rhs, neighbours = np.zeros((n, 1)), np.zeros_like(start), []
    for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        y, x = ys + dy, xs + dx
        inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
        degree[inside, 0] += 1
        known = inside.copy()
        known[inside] = ~hole[y[inside], x[inside]]
        rhs[known] += values[y[known], x[known]]
        neighbours.append(index[y + 1, x + 1])

    def laplacian(v):
        padded = np.concatenate([v, np.zeros((1, v.shape[1]))])
        return degree * v - sum(padded[i] for i in neighbours)

    solution = start
    r = rhs - laplacian(solution)
    p, rr = r.copy(), (r * r).sum(0)
    stop = tol ** 2 * (rhs * rhs).sum(0)
    for _ in range(4 * n):  # CG ends in at most n steps in exact arithmetic
        if np.all(rr <= stop):
            break
        ap = laplacian(p)
        alpha = np.divide(rr, (p * ap).sum(0), out=np.zeros_like(rr), where=rr > stop)
        solution = solution + alpha * p
        r -= alpha * ap
        rr, previous = (r * r).sum(0), rr
        p = r + np.divide(rr, previous, out=np.zeros_like(rr), where=previous > 0) * p
    out[ys, xs] = solution
    return out


def inpaint(model, image, mask, max_side=512, blend=True):
    """Fill the holes of ``image`` where ``mask`` is set; the known pixels come back unchanged.

    ``image``: a path, PIL image, uint8/uint16/float array, single or batch, grey/RGB/RGBA, any size, or a list of
    same-size images (``zoo.images.as_batch``); returned as the same kind. ``mask``: a path, PIL image or array
    of the image's height and width (``zoo.apps.inpainting.masks.as_mask``: non-zero / above half range = hole;
    a mask of another size is an error); one mask for every image, or for a batch an ``(N, H, W[, 1])`` array or
    a list. An all-zero mask returns the image as it is (the network does not run). An all-one mask leaves the
    network nothing to go on: it returns the network's guess from an empty image (for the face preset, a
    blurred average face).

    Sizes: the network is fully convolutional and runs at the image's own size, padded by reflection to sides
    divisible by 8 (``model.multiple``) and cropped back. Images whose longer side exceeds ``max_side`` (512;
    None: no limit) are filled at a copy scaled down to it and the fill scaled back (bicubic): the contextual
    attention compares every pair of 8x8 cells, so memory grows with the square of the pixel count (about 0.3 GB
    at 512x512; above ``ATTENTION_BYTES``, 4 GiB, about 1000x1000, it is an error naming ``max_side``). Alpha is
    kept.

    ``blend`` (default): the network's fill is Poisson-blended into the image (``poisson_blend``: it meets the
    known pixels around the hole without a seam, as Iizuka et al. 2017 post-process); ``blend=False`` pastes the
    network's fill as it is.
    """
    from zoo.checks import positive_int

    if max_side is not None:
        max_side = positive_int(max_side, "max_side", minimum=8)
    batch, spec = images.as_batch(image, channels=model.channels)
    n, h, w = batch.shape[:3]
    holes = _masks_for(mask, n, (h, w), spec.batched)
    out = batch.copy()
    for i, m in enumerate(holes):
        if not m.any():
            continue
        x = batch[i]
        scale = 1.0 if max_side is None else min(1.0, max_side / max(h, w))
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
