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


def inpaint(model, image, mask, max_side=512):
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
        hole = m[..., None].astype(bool)
        out[i] = np.where(hole, np.clip(fill, -1.0, 1.0), x)
    return images.restore(out, spec)
