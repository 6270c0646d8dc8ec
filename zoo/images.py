"""Inference I/O shared by every app's verb (``upscale`` / ``translate`` / ``inpaint``): NumPy and Pillow only.

``as_batch`` turns what people have into the float batch networks eat; ``restore`` turns the network's output
back into what they gave::

    batch, spec = as_batch(image)          # float32 (N, H, W, 3) in [-1, 1]
    out = restore(generator(batch), spec)  # same kind as ``image``

Accepted inputs, and what ``restore`` returns for each:

=====================================  ======================================================================
input                                  output
=====================================  ======================================================================
file path (``str`` / ``PathLike``)     PIL image (the file is not overwritten; save it yourself)
PIL image                              PIL image, same mode family: L, LA, RGB, RGBA, I;16, I, F
                                       (P / PA / 1 / CMYK / YCbCr / ... come back as RGB(A) or L)
uint8 array                            uint8 array (0..255)
uint16 array                           uint16 array (0..65535)
float array (values in [0, 1])         float32 array in [0, 1]
(H, W) / (H, W, C) / (N, H, W, C)      the same layout: single stays single, batch stays batch
list of any of the above (same size)   list of the same kinds
=====================================  ======================================================================

Channels: 1 = grey, 2 = grey + alpha (PIL "LA"), 3 = RGB, 4 = RGBA; anything else is an error. A 3-D array
is always one ``(H, W, C)`` image: pass a batch of grey images as ``(N, H, W, 1)``. Grey input is repeated to
three channels for RGB models and comes back grey (ITU-R 601 luminance, as Pillow's "L"); RGB input to a
``channels=1`` model is reduced to luminance and comes back as RGB with the grey value in each channel.
Alpha never goes through the network: it is split off, kept in the spec, resized (Pillow bicubic) to the
output size when the network changed the size, and put back.

Floats, one convention per kind: a float array and a PIL "F" image (a float TIFF) hold values in [0, 1] (a
little overshoot is clipped; values outside [-0.02, 1.02] are an error naming the range seen), and come back
in [0, 1]. Only the functions that take *network output* (``restore``, ``to_uint8``, ``grid``, and
``save_image`` given a float *array*) read floats as [-1, 1]; ``save_image`` given a PIL "F" image reads it
as [0, 1] (a float TIFF keeps the floats, other formats get 8 bits).

Objects with ``__array__`` (CPU tensors) are read as arrays and come back as NumPy arrays. File paths go
through ``load_image`` (EXIF orientation applied, first frame of animations).

``grid`` / ``save_png`` make contact sheets of batches; ``pad_to_multiple`` / ``crop`` let networks that need
sizes divisible by ``2**k`` run on any size; ``apply_tiled`` runs an image-to-image network on images of any size
in overlapping tiles, so memory stays bounded, and for convolutional networks gives the untiled result::

    out = apply_tiled(generator, batch, tile=256, overlap=32, scale=4)   # == generator(batch) for fully
                                                                        # conv nets seeing <= 32 px around
"""
import dataclasses
import math
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Float inputs may stray this far outside [0, 1] (resampling overshoot) before they are called an error.
FLOAT_TOLERANCE = 0.02

#: ITU-R 601-2 luma weights, the ones Pillow's RGB -> "L" conversion uses.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)

_CHANNEL_NAMES = {1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"}
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


@dataclass(eq=False)
class ImageSpec:
    """What ``as_batch`` was given, so ``restore`` can give the same kind back.

    kind       "path", "pil", "array" or "list" (then ``items`` holds one spec per list element)
    batched    the input had a batch axis (a 4-D array, or a list)
    count      images this input contributed to the batch
    ndim       2, 3 or 4 for arrays (layout ``(H, W)``, ``(H, W, C)``, ``(N, H, W, C)``); None otherwise
    dtype      NumPy dtype name of the pixels to return ("uint8", "uint16", "float32", "int32")
    mode       PIL mode to return (PIL and path inputs), else None
    channels   channels of the input including alpha (1..4)
    colour     colour channels without alpha: 1 (grey) or 3 (RGB)
    alpha      float32 ``(count, H, W)`` in [0, 1], or None
    size       ``(H, W)`` of the input
    """

    kind: str
    batched: bool = False
    count: int = 1
    ndim: int = None
    dtype: str = "uint8"
    mode: str = None
    channels: int = 3
    colour: int = 3
    alpha: np.ndarray = field(default=None, repr=False)
    size: tuple = None
    items: list = field(default=None, repr=False)

    @property
    def has_alpha(self):
        if self.kind == "list":
            return any(item.has_alpha for item in self.items)
        return self.alpha is not None


# ----------------------------------------------------------------------------------------------- files


class UnreadableImageError(ValueError):
    """An image file that exists but cannot be decoded: not an image, truncated, corrupt or empty."""


class ImageTooLargeError(UnreadableImageError):
    """An image file whose header claims more pixels than ``MAX_PIXELS`` (a decompression bomb, or a real giant)."""


#: The most pixels ``load_image`` decodes (Pillow's own hard limit): a small file can claim 30000x30000 pixels and
#: take gigabytes to decode. Raise it with ``set_max_pixels`` (``zoo ... --max-pixels N`` on the command line).
MAX_PIXELS = 178_956_970


def set_max_pixels(n):
    """Let ``load_image`` decode images of up to ``n`` pixels (Pillow's limit follows: it is checked first)."""
    global MAX_PIXELS
    from zoo.checks import positive_int

    MAX_PIXELS = positive_int(n, "max_pixels")
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_PIXELS)


def load_image(path):
    """Open an image file with Pillow, fully decoded, EXIF orientation applied; errors name the file.

    Raises FileNotFoundError when the path does not exist, ValueError when it is a directory, and
    ``UnreadableImageError`` (a ValueError) when it is not a regular file (a FIFO or a device is refused before
    it is opened: reading one could block forever), not an image, truncated or otherwise unreadable, or
    (``ImageTooLargeError``) claims more than ``MAX_PIXELS`` pixels.
    """
    from zoo.files import check_input

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"image file not found: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a directory, not an image file")
    try:
        check_input(path)
    except ValueError as e:
        raise UnreadableImageError(str(e)) from None
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise Image.DecompressionBombError(f"{img.width}x{img.height}")
            img.load()
            img = ImageOps.exif_transpose(img)
            img.load()
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"{path} has more pixels than the limit of {MAX_PIXELS:,} (a decompression bomb "
                                 f"or a giant image; raise the limit with --max-pixels or zoo.images.set_max_pixels)"
                                 ) from None
    except UnidentifiedImageError as e:
        raise UnreadableImageError(f"{path} is not an image file Pillow can read") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise UnreadableImageError(f"cannot read image file {path}: {e}") from e
    if img.width == 0 or img.height == 0:
        raise UnreadableImageError(f"{path}: empty image (size {img.width}x{img.height})")
    return img


def pil_to_array(img):
    """A PIL image as ``(pixels, mode)``: pixels ``(H, W, C)`` with C in 1..4, mode the kind to give back.

    Pixels are uint8, or uint16 for 16-bit grey ("I;16*" and "I"), or float32 for "F". Palette images become
    RGB, or RGBA when they carry transparency; other colour spaces become RGB; "1" becomes "L".
    """
    mode = img.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        out = img
    elif mode == "1":
        out = img.convert("L")
    elif mode == "La":
        out = img.convert("LA")
    elif mode == "RGBa":
        out = img.convert("RGBA")
    elif mode in ("P", "PA"):
        transparent = mode == "PA" or "transparency" in img.info
        out = img.convert("RGBA" if transparent else "RGB")
    elif mode in _SIXTEEN_BIT:
        a = np.asarray(img)
        if a.dtype != np.uint16:
            if a.size and (a.min() < 0 or a.max() > 65535):
                raise ValueError(f"PIL mode {mode} image with values outside 0..65535")
            a = a.astype(np.uint16)
        return a[..., None], ("I;16" if mode.startswith("I;16") else "I")
    elif mode == "F":
        return np.asarray(img, np.float32)[..., None], "F"
    else:  # CMYK, YCbCr, LAB, HSV, RGBX, ...
        out = img.convert("RGB")
    a = np.asarray(out)
    if a.ndim == 2:
        a = a[..., None]
    return a, out.mode


# ------------------------------------------------------------------------------------------ as_batch


def _check_size(shape, what):
    if any(int(d) == 0 for d in shape):
        raise ValueError(f"empty image: {what} has a zero dimension")


def _check_pixels(a, what):
    """Validate dtype and values; return float32 in [0, 1]."""
    dt = a.dtype
    if dt == np.bool_:
        raise TypeError(f"{what}: boolean arrays are not images; convert masks with .astype(np.uint8) * 255")
    if np.issubdtype(dt, np.complexfloating):
        raise TypeError(f"{what}: complex dtype {dt} is not an image; pass uint8 (0..255) or float in [0, 1]")
    if dt == np.uint8:
        return a.astype(np.float32) / 255.0
    if dt == np.uint16:
        return a.astype(np.float32) / 65535.0
    if np.issubdtype(dt, np.floating):
        a = a.astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError(f"{what}: float image contains NaN or inf")
        lo, hi = float(a.min()), float(a.max())
        if lo < -FLOAT_TOLERANCE or hi > 1 + FLOAT_TOLERANCE:
            hint = (" (looks like 0..255 values: pass a uint8 array or divide by 255)" if hi > 1.5 else
                    " (looks like [-1, 1]: map with (x + 1) / 2)" if lo < -0.5 else "")
            raise ValueError(f"{what}: float images must be in [0, 1], got values in [{lo:.4g}, {hi:.4g}]"
                             f"{hint}; pass uint8 (0..255) or float in [0, 1]")
        return np.clip(a, 0.0, 1.0)
    if np.issubdtype(dt, np.integer):
        raise TypeError(f"{what}: integer dtype {dt} is ambiguous; pass uint8 (0..255), uint16 (0..65535) or "
                        f"float in [0, 1], e.g. x.astype(np.uint8)")
    raise TypeError(f"{what}: dtype {dt} is not an image dtype; pass uint8 (0..255) or float in [0, 1]")


def _check_channels(c, shape, what):
    if c not in _CHANNEL_NAMES:
        hint = ""
        if len(shape) == 3:
            hint = "; a 3-D array is one (H, W, C) image: pass a batch of grey images as (N, H, W, 1)"
        if len(shape) in (3, 4) and shape[-3] in _CHANNEL_NAMES:
            hint += "; if it is channels-first, transpose to channels-last"
        raise ValueError(f"{what}: {c} channels in shape {tuple(shape)}; expected 1 (grey), 2 (grey+alpha), "
                         f"3 (RGB) or 4 (RGBA), channels last{hint}")


def _split(pixels01):
    """(n, H, W, C) float [0, 1] -> colour (n, H, W, 1|3), alpha (n, H, W) or None."""
    c = pixels01.shape[-1]
    if c in (2, 4):
        return pixels01[..., :-1], pixels01[..., -1]
    return pixels01, None


def _one(x):
    """One input (not a list) -> (float [0, 1] (n, H, W, C), spec)."""
    if isinstance(x, (str, os.PathLike)):
        img = load_image(x)
        pixels, mode = pil_to_array(img)
        what = f"image file {os.fspath(x)}"
        kind, ndim, batched = "path", None, False
        pixels = pixels[None]
    elif isinstance(x, Image.Image):
        _check_size((x.height, x.width), "PIL image")
        pixels, mode = pil_to_array(x)
        what = f"PIL image (mode {x.mode})"
        kind, ndim, batched = "pil", None, False
        pixels = pixels[None]
    elif isinstance(x, (bytes, bytearray)):
        raise TypeError("bytes are not an image: open them with PIL.Image.open(io.BytesIO(data)) first")
    elif isinstance(x, np.ndarray) or hasattr(x, "__array__"):
        pixels = _numpy(x)
        shape = pixels.shape
        what = f"array of shape {shape}"
        mode, kind, ndim = None, "array", pixels.ndim
        if pixels.dtype == object or pixels.dtype.kind in "USV":
            raise TypeError(f"{what}: dtype {pixels.dtype} is not an image; pass uint8 (0..255) or float in [0, 1]")
        if ndim == 2:
            pixels = pixels[None, :, :, None]
        elif ndim == 3:
            pixels = pixels[None]
        elif ndim != 4:
            raise ValueError(f"{what}: expected an image (H, W), (H, W, C) or a batch (N, H, W, C), got {ndim}-D")
        batched = ndim == 4
        _check_size(shape, what)
        _check_channels(pixels.shape[-1], shape, what)
    else:
        raise TypeError(f"cannot read an image from {type(x).__name__}; pass a file path, a PIL image or a NumPy "
                        f"array (uint8 0..255 or float in [0, 1])")
    _check_size(pixels.shape, what)
    channels = pixels.shape[-1]
    dtype = pixels.dtype
    out_dtype = "float32" if np.issubdtype(dtype, np.floating) else dtype.name
    if mode == "I":
        out_dtype = "int32"
    pixels01 = _check_pixels(pixels, what)
    colour, alpha = _split(pixels01)
    spec = ImageSpec(kind=kind, batched=batched, count=pixels.shape[0], ndim=ndim, dtype=out_dtype, mode=mode,
                     channels=channels, colour=colour.shape[-1], alpha=alpha, size=tuple(pixels.shape[1:3]))
    return colour, spec


def _to_model_channels(colour, channels):
    if colour.shape[-1] == channels:
        return colour
    if channels == 3:
        return np.repeat(colour, 3, axis=-1)
    return (colour @ LUMA)[..., None]


def as_batch(x, channels=3):
    """Any image input -> ``(batch, spec)``: float32 ``(N, H, W, channels)`` in [-1, 1] and what ``restore`` needs.

    ``x``: a file path, a PIL image, a NumPy array (uint8 0..255, uint16, or float in [0, 1]) shaped ``(H, W)``,
    ``(H, W, C)`` or ``(N, H, W, C)``, or a list of those, all the same height and width. ``channels``: 3 for
    RGB models (grey is repeated), 1 for grey models (RGB becomes luminance). Alpha is kept in the spec.

    Raises ValueError for empty images, 1-D / 5-D arrays, channel counts other than 1-4, NaN/inf, floats
    outside [0, 1], unreadable files (named) and lists of different sizes; TypeError for non-image dtypes
    (bool, complex, object, signed integers) and non-image objects.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey model) or 3 (RGB model), got {channels}")
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError("empty list: no images given")
        parts = []
        for i, item in enumerate(x):
            if isinstance(item, (list, tuple)):
                raise TypeError(f"item {i} of the list is a {type(item).__name__}: nested lists are not images; "
                                f"pass a NumPy array")
            try:
                parts.append(_one(item))
            except (ValueError, TypeError) as e:
                raise type(e)(f"item {i} of the list: {e}") from e
        sizes = [spec.size for _, spec in parts]
        if len(set(sizes)) > 1:
            listed = ", ".join(f"{h}x{w}" for h, w in sizes)
            raise ValueError(f"list images must all have the same size (H x W), got {listed}; resize them or "
                             f"call the model once per image")
        batch = np.concatenate([_to_model_channels(c, channels) for c, _ in parts])
        items = [spec for _, spec in parts]
        spec = ImageSpec(kind="list", batched=True, count=len(batch), channels=None, colour=None,
                         size=sizes[0], items=items)
    else:
        colour, spec = _one(x)
        batch = _to_model_channels(colour, channels)
    return (batch * 2.0 - 1.0).astype(np.float32), spec


# ------------------------------------------------------------------------------------------- restore


def _numpy(x):
    """NumPy view of an array or a backend tensor (torch tensors are detached and moved to the CPU)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    return np.asarray(x)


def _resize_alpha(alpha, size):
    """(n, h, w) float [0, 1] -> (n, H, W), Pillow bicubic."""
    if tuple(alpha.shape[1:]) == tuple(size):
        return alpha
    out = [np.asarray(Image.fromarray(a.astype(np.float32), "F").resize((size[1], size[0]), Image.BICUBIC))
           for a in alpha]
    return np.clip(np.stack(out), 0.0, 1.0)


def _encode(x01, dtype):
    if dtype == "uint8":
        return np.round(x01 * 255.0).astype(np.uint8)
    if dtype == "uint16":
        return np.round(x01 * 65535.0).astype(np.uint16)
    if dtype == "int32":
        return np.round(x01 * 65535.0).astype(np.int32)
    return x01.astype(np.float32)


def _convert(x01, spec):
    """x01: float (n, H, W, C) in [0, 1] -> the spec's colour channels (+ alpha) and dtype."""
    c = x01.shape[-1]
    if c == 3 and spec.colour == 1:
        x01 = (x01 @ LUMA)[..., None]
    elif c == 1 and spec.colour == 3:
        x01 = np.repeat(x01, 3, axis=-1)
    if spec.alpha is not None:
        alpha = _resize_alpha(spec.alpha, x01.shape[1:3])
        x01 = np.concatenate([x01, alpha[..., None]], axis=-1)
    return _encode(np.clip(x01, 0.0, 1.0), spec.dtype)


def window_encoder(spec):
    """For ``apply_tiled(convert=...)``: a function turning a window of network output (float in [-1, 1],
    ``(n, h, w, C)``) into the pixels ``restore`` returns for ``spec`` (its channels and dtype), so the output is
    assembled in its final dtype (a uint8 image: 3 bytes a pixel instead of float32 copies); finish with
    ``restore(out, spec, encoded=True)``. None when the spec needs the whole image (alpha, lists)."""
    if spec.alpha is not None or spec.kind == "list":
        return None
    return lambda y: _convert((np.clip(_numpy(y).astype(np.float32, copy=False), -1.0, 1.0) + 1.0) * 0.5, spec)


def _restore_one(x01, spec, encoded=False):
    """x01: float (n, H, W, C) in [0, 1] (or, ``encoded``, already ``_convert``-ed) -> the spec's kind."""
    x = x01 if encoded else _convert(x01, spec)
    if spec.kind in ("pil", "path"):
        img = x[0]
        if img.shape[-1] == 1:
            img = img[..., 0]
        if spec.mode == "I;16":
            return Image.fromarray(img.astype(np.uint16))
        return Image.fromarray(img)
    if spec.ndim == 2:
        return x[0, ..., 0]
    if spec.ndim == 3:
        return x[0]
    return x


def restore(batch, spec, encoded=False):
    """Network output -> the kind of input ``as_batch`` was given (see the module docstring's table).

    ``batch``: float ``(N, H, W, 1|3)`` in [-1, 1] (clipped), or uint8; a NumPy array or a backend tensor.
    The height and width may differ from the input's (super-resolution): alpha is resized to match.
    Path inputs come back as PIL images. ``encoded=True``: ``batch`` already holds the returned pixels
    (``window_encoder``); only the kind is restored (no copy for arrays).
    """
    b = _numpy(batch)
    if b.ndim == 3 and spec.count == 1:
        b = b[None]
    if b.ndim != 4:
        raise ValueError(f"restore expects a batch (N, H, W, C), got shape {b.shape}")
    if b.shape[0] != spec.count:
        raise ValueError(f"batch holds {b.shape[0]} images but the input had {spec.count}")
    if encoded:
        return _restore_one(b, spec, encoded=True)
    if b.shape[-1] not in (1, 3):
        raise ValueError(f"restore expects 1 or 3 channels from the network, got {b.shape[-1]}")
    if b.dtype == np.uint8:
        x01 = b.astype(np.float32) / 255.0
    else:
        x01 = np.clip((b.astype(np.float32) + 1.0) / 2.0, 0.0, 1.0)
    if spec.kind == "list":
        out, start = [], 0
        for item in spec.items:
            out.append(_restore_one(x01[start:start + item.count], item))
            start += item.count
        return out
    return _restore_one(x01, spec)


# ------------------------------------------------------------------------------------------ grids, PNG


def to_uint8(images):
    """(N, H, W[, C]) float [-1, 1] (model output) or uint8 -> uint8 (N, H, W, C); NaN/inf is an error."""
    a = _numpy(images) if not isinstance(images, (list, tuple)) else np.stack([_numpy(i) for i in images])
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(f"expected a batch (N, H, W[, C]), got shape {a.shape}")
    _check_size(a.shape, f"batch of shape {a.shape}")
    if a.dtype == np.uint8:
        return a
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"expected float images in [-1, 1] or uint8, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise ValueError("images contain NaN or inf")
    return np.round((np.clip(a, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def resize(batch, size):
    """A float batch ``(N, H, W, C)`` resized to ``size`` (h, w): bicubic, antialiased when shrinking."""
    from keras import ops

    return ops.convert_to_numpy(ops.image.resize(batch, tuple(size), interpolation="bicubic", antialias=True))


def output_spec(spec, channels):
    """What an image-to-image verb returns for input ``spec`` when its model outputs ``channels``: the input's
    kind, layout and size, with colour when the model makes colour from grey (PIL/path results then become 8-bit
    RGB(A))."""
    if spec.kind == "list":
        return dataclasses.replace(spec, items=[output_spec(s, channels) for s in spec.items])
    if channels != 3 or spec.colour != 1:
        return spec
    spec = dataclasses.replace(spec, colour=3, ndim=3 if spec.ndim == 2 else spec.ndim)
    if spec.kind in ("pil", "path"):
        spec = dataclasses.replace(spec, dtype="uint8", mode=None)
    return spec


def asset(name):
    """Path of an image shipped with the package in ``zoo/assets/`` (demo inputs); FileNotFoundError if absent."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no asset {name!r} in {os.path.dirname(path)}")
    return path


def grid(images, ncols=None, pad=2, pad_value=0):
    """Tile a batch into one uint8 image: float images in [-1, 1] (model outputs) or uint8.

    ``images``: ``(N, H, W, C)`` / ``(N, H, W)`` or a list of same-size images. ``ncols`` defaults to
    ``ceil(sqrt(N))``. ``pad`` pixels of ``pad_value`` separate the tiles and frame the sheet, so the result is
    ``(rows*(H+pad)+pad, ncols*(W+pad)+pad, C)``; one-channel sheets are returned 2-D ``(height, width)``.
    """
    a = to_uint8(images)
    n, h, w, c = a.shape
    ncols = int(ncols or math.ceil(math.sqrt(n)))
    if ncols < 1:
        raise ValueError(f"ncols must be positive, got {ncols}")
    ncols = min(ncols, n)
    rows = math.ceil(n / ncols)
    out = np.full((rows * (h + pad) + pad, ncols * (w + pad) + pad, c), pad_value, np.uint8)
    for i in range(n):
        r, k = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        out[y:y + h, x:x + w] = a[i]
    return out[..., 0] if c == 1 else out


#: File formats ``save_image`` writes, by extension.
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF",
           ".tiff": "TIFF"}


def save_image(path, image, format=None, quality=95):
    """Write ``image`` in the format its file name says (``FORMATS``; or ``format``) and return the path.

    ``image``: a PIL image (a float "F" one in [0, 1]: a float TIFF, else 8-bit); a uint8/uint16 array ``(H, W)``
    or ``(H, W, 1..4)``; a float array in [-1, 1] (model output); or a 4-D batch, which is saved as a ``grid``.
    JPEG (``quality``) and BMP get 8-bit colour without alpha. The file is written to a temporary name in the same folder and renamed into place when
    complete (``zoo.files.atomic_write``): a failure leaves an existing file as it was.
    """
    from zoo.files import atomic_write

    path = os.fspath(path)
    if format is None:
        ext = os.path.splitext(path)[1].lower()
        if ext not in FORMATS:
            raise ValueError(f"{path}: unknown image extension {ext or '(none)'!r}; use one of "
                             f"{', '.join(sorted(FORMATS))}")
        format = FORMATS[ext]
    if not isinstance(image, Image.Image):
        a = _numpy(image)
        if a.ndim == 4:
            a = grid(a)
        elif np.issubdtype(a.dtype, np.floating):
            a = to_uint8(a[None])[0]
        elif a.dtype not in (np.uint8, np.uint16):
            raise TypeError(f"save_image: expected uint8, uint16 or float in [-1, 1], got dtype {a.dtype}")
        if a.ndim == 3 and a.shape[-1] == 1:
            a = a[..., 0]
        if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (2, 3, 4)):
            raise ValueError(f"save_image: cannot save an array of shape {a.shape} as an image")
        _check_size(a.shape, f"array of shape {a.shape}")
        if format in ("JPEG", "BMP") and a.dtype == np.uint16:
            a = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
        image = Image.fromarray(a)
    image = _storable(image, format)
    if format in ("JPEG", "BMP") and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    options = {"quality": int(quality)} if format in ("JPEG", "WEBP") else {}
    atomic_write(path, lambda tmp: image.save(tmp, format=format, **options), suffix=".tmp")
    return path


def _storable(image, format):
    """Wide PIL images in a mode ``format`` stores: "F" (values in [0, 1]) and, outside PNG, "I" / "I;16"
    (0..65535) become 8-bit grey; TIFF keeps them as they are."""
    if format == "TIFF" or image.mode not in ("F", "I", "I;16") or (format == "PNG" and image.mode != "F"):
        return image
    a = np.asarray(image, np.float32) / (1.0 if image.mode == "F" else 65535.0)
    return Image.fromarray(np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8))


def save_png(path, image):
    """``save_image`` in PNG whatever the file name (figures, grids, reference pictures)."""
    return save_image(path, image, format="PNG")


# ------------------------------------------------------------------------------------------ padding


@dataclass(frozen=True)
class Crop:
    """Where the original image lies in a padded one: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int


def pad_to_multiple(batch, multiple, mode="reflect"):
    """Pad height and width up to multiples of ``multiple`` (int or ``(mh, mw)``) -> ``(padded, crop)``.

    ``batch``: NumPy ``(N, H, W, C)`` or ``(H, W, C)``. Padding is split between both sides (the extra pixel
    goes bottom/right); ``mode`` is any ``np.pad`` mode ("reflect", "symmetric", "edge", "constant"). Undo it
    with ``crop(output, crop_box, scale)`` where ``scale`` is the network's size factor (4 for x4 SR).
    """
    a = _numpy(batch)
    if a.ndim not in (3, 4):
        raise ValueError(f"pad_to_multiple expects (N, H, W, C) or (H, W, C), got shape {a.shape}")
    mh, mw = (multiple, multiple) if np.isscalar(multiple) else tuple(multiple)
    if int(mh) < 1 or int(mw) < 1:
        raise ValueError(f"multiple must be positive, got {multiple}")
    h, w = a.shape[-3], a.shape[-2]
    _check_size((h, w), f"batch of shape {a.shape}")
    ph, pw = (-h) % int(mh), (-w) % int(mw)
    top, left = ph // 2, pw // 2
    box = Crop(top, left, h, w)
    if ph == 0 and pw == 0:
        return a, box
    widths = [(0, 0)] * (a.ndim - 3) + [(top, ph - top), (left, pw - left), (0, 0)]
    return np.pad(a, widths, mode=mode), box


def crop(batch, box, scale=1):
    """Cut ``box`` (a ``Crop`` from ``pad_to_multiple``) out of ``batch`` (..., H, W, C), scaled by ``scale``."""
    s = scale
    t, l = int(round(box.top * s)), int(round(box.left * s))
    h, w = int(round(box.height * s)), int(round(box.width * s))
    a = batch if hasattr(batch, "shape") else np.asarray(batch)
    if a.shape[-3] < t + h or a.shape[-2] < l + w:
        raise ValueError(f"crop box {box} (scale {scale}) does not fit in shape {tuple(a.shape)}")
    return a[..., t:t + h, l:l + w, :]


# ------------------------------------------------------------------------------------------ tiling


def _pair_of(value, name, minimum):
    """int or (int, int) -> (int, int), each an integer >= minimum; clear errors otherwise."""
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
    out = []
    for v in pair:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            if isinstance(v, (float, np.floating)) and float(v).is_integer():
                v = int(v)
            else:
                raise TypeError(f"{name} must be an integer (or a pair of integers), got {value!r}")
        if int(v) < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
        out.append(int(v))
    return tuple(out)


def _int_at_least(value, name, minimum):
    (v,) = set(_pair_of(value, name, minimum)) if np.isscalar(value) else (None,)
    if v is None:
        raise TypeError(f"{name} must be one integer, got {value!r}")
    return v


def _axis_windows(size, window, context):
    """Split one axis of ``size`` pixels into ``(start, stop, core_start, core_stop)`` tuples.

    Every window is ``window`` long (or the whole axis when it is shorter); the cores partition ``[0, size)``;
    each core has at least ``context`` pixels of its window on either side, except at the image's own borders.
    Windows at the end are shifted inwards instead of shrunk, so all windows have one shape.
    """
    if size <= window:
        return [(0, size, 0, size)]
    out, core = [], 0
    while core < size:
        start = min(max(core - context, 0), size - window)
        stop = start + window
        core_stop = size if stop >= size else stop - context
        out.append((start, stop, core, core_stop))
        core = core_stop
    return out


def _ramp(n_out, scale, core, kept, size, feather):
    """Blend weights along one axis of a tile's output: 1 on the core, linear ramps of width ``2*feather``
    centred on core boundaries that face another tile (none at the image's borders)."""
    x = (np.arange(kept[0] * scale, kept[0] * scale + n_out) + 0.5) / scale  # pixel centres, input units
    w = np.ones(n_out, np.float32)
    if core[0] > 0:
        w *= np.clip((x - (core[0] - feather)) / (2 * feather), 0, 1)
    if core[1] < size:
        w *= np.clip(((core[1] + feather) - x) / (2 * feather), 0, 1)
    return w


def apply_tiled(fn, batch, tile=None, overlap=16, scale=1, multiple=1, feather=0, batch_size=None,
                progress=None, pad_mode="reflect", convert=None):
    """Apply an image-to-image network ``fn`` to a batch of any size, whole or in overlapping tiles.

    ``fn``: a callable (a Keras model on any backend, ``model.predict_on_batch``, a NumPy function) mapping a
    batch ``(n, h, w, C)`` to ``(n, h*scale, w*scale, C_out)``; it may return a backend tensor. ``batch``:
    ``(N, H, W, C)`` or one image ``(H, W, C)``, any height and width (e.g. from ``as_batch``). Returns a NumPy
    array ``(N, H*scale, W*scale, C_out)`` (or ``(H*scale, W*scale, C_out)``) of ``fn``'s dtype.

    * ``multiple``: int or ``(mh, mw)``; the image is padded (``pad_to_multiple`` with ``pad_mode``) to sizes
      divisible by it, for networks that downsample ``k`` times (``multiple=2**k``), and the output is cropped
      back to exactly ``H*scale`` x ``W*scale``.
    * ``tile=None``: the whole (padded) image goes through ``fn`` at once.
    * ``tile=T`` (int or ``(th, tw)``): ``fn`` sees windows of at most ``T`` x ``T`` input pixels, so memory is
      bounded whatever the image size. Each window keeps only its centre (its *core*, about ``T - 2*overlap``
      pixels a side): the outer ``overlap`` pixels of a window are context that is computed and cropped away,
      except at the image's own borders, where windows are clipped to the image (never padded with black). The
      cores partition the image, so each output pixel comes from exactly one tile. Images smaller than a tile
      are done in one window. With ``multiple > 1``, ``overlap`` is rounded up and windows are aligned to
      multiples of it, so every window is a valid network input.
    * ``feather=F`` (``0 <= F <= overlap``): instead of cutting hard between cores, neighbouring tiles are
      cross-faded with linear ramps ``2*F`` pixels wide centred on the cut (weights normalised by their sum).
      Use it for networks that are not translation-equivariant (instance norm, attention, global pooling),
      whose tiles disagree a little and would otherwise show a seam.

    **Exactness rule.** For a fully convolutional network whose receptive-field radius is ``r`` input pixels
    (3 stacked 3x3 convs: ``r = 3``; a stride-2 stage or an upsampler counts in input pixels), the tiled
    result equals the untiled one (``tile=None``, same ``multiple``) up to float rounding whenever
    ``r <= overlap - feather``: every kept output pixel then sees exactly the input the untiled network sees,
    including the image's real borders. Networks with larger receptive fields differ only in the ``r -
    overlap`` pixels' worth of far context they miss, which is usually invisible; raise ``overlap`` (and add
    ``feather``) for those.

    ``batch_size``: windows per call of ``fn``: the whole batch by default when ``tile`` is None, one tile by
    default otherwise (tiles of one image are batched; images go one at a time, so at most one call's windows
    are in flight). ``progress``: optional ``callable(done, total)`` called after each call of ``fn``, counting
    tiles (images when ``tile`` is None) over the whole batch, e.g. ``lambda done, total: bar.update(done)``
    with ``bar = keras.utils.Progbar(total)`` made on the first call.

    ``convert``: an optional function applied to each call's output before it is stored (e.g.
    ``window_encoder(spec)``: clip and encode to uint8); the result has its dtype. Without feathering, each
    window's core is written straight into the output, so peak memory is the output (in that dtype) plus one
    call's windows, whatever the image size; with ``feather`` one image's output is accumulated in float32 first.

    On the torch backend, calling a Keras model records autograd graphs: pass ``model.predict_on_batch`` or
    call under ``torch.no_grad()`` to keep memory at one tile.

    Raises ValueError for empty images, arrays that are not 3-D/4-D, ``tile <= 2*overlap`` (no core left),
    negative ``overlap``, ``feather`` outside ``0..overlap``, non-positive ``tile`` / ``multiple`` /
    ``batch_size`` / ``scale``, and for ``fn`` outputs of the wrong shape (expected and got are named);
    TypeError for a non-integer ``scale`` or sizes.
    """
    a = _numpy(batch)
    if a.ndim not in (3, 4):
        raise ValueError(f"apply_tiled expects a batch (N, H, W, C) or one image (H, W, C), got shape {a.shape}")
    single = a.ndim == 3
    if single:
        a = a[None]
    _check_size(a.shape, f"batch of shape {a.shape}")
    s = _int_at_least(scale, "scale", 1)
    m = _pair_of(multiple, "multiple", 1)
    ov = _pair_of(overlap, "overlap", 0)
    feather = _int_at_least(feather, "feather", 0)
    if feather > min(ov):
        raise ValueError(f"feather must be in 0..overlap ({overlap}): the cross-fade lies in the tiles' context, "
                         f"got {feather}")
    if batch_size is not None:
        batch_size = _int_at_least(batch_size, "batch_size", 1)
    if not callable(fn):
        raise TypeError(f"fn must be callable (a model or a function of a batch), got {type(fn).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be None or a callable(done, total), got {progress!r}")
    n, h, w = a.shape[:3]

    if tile is None:
        padded, box = pad_to_multiple(a, m, mode=pad_mode)
        step = batch_size or n
        total, out = n, None
        for i in range(0, n, step):
            x = padded[i:i + step]
            y = crop(_checked_output(fn, x, s), box, scale=s)
            y = convert(y) if convert is not None else y
            if out is None:
                out = np.empty((n, h * s, w * s, y.shape[-1]), y.dtype)
            out[i:i + len(x)] = y
            if progress is not None:
                progress(min(i + step, n), total)
        return out[0] if single else out

    t = _pair_of(tile, "tile", 1)
    for axis in range(2):
        if t[axis] <= 2 * ov[axis]:
            raise ValueError(f"tile ({tile}) must be larger than 2*overlap (2*{overlap}): each tile's outer "
                             f"`overlap` pixels are context that is cropped away, so nothing would be left")
    # context rounded up to the multiple; windows as large as fit in `tile` and made of whole multiples
    ctx = [-(-ov[i] // m[i]) * m[i] for i in range(2)]
    win = [((t[i] - 2 * ctx[i]) // m[i]) * m[i] + 2 * ctx[i] for i in range(2)]
    for axis in range(2):
        if win[axis] <= 2 * ctx[axis]:
            raise ValueError(f"tile ({tile}) leaves no core with overlap {overlap} rounded up to multiple "
                             f"{multiple} ({ctx[axis]} pixels of context a side): use a tile of at least "
                             f"{2 * ctx[axis] + m[axis]}")
    step = batch_size or 1
    total, done, c_out, out = None, 0, None, None
    for i in range(n):
        image, box = pad_to_multiple(a[i:i + 1], m, mode=pad_mode)
        ph, pw = image.shape[1:3]
        rows, cols = _axis_windows(ph, win[0], ctx[0]), _axis_windows(pw, win[1], ctx[1])
        plan = [(r, c) for r in rows for c in cols]
        if total is None:
            total = n * len(plan)
        acc = weights = None
        for k in range(0, len(plan), step):
            chunk = plan[k:k + step]
            x = np.concatenate([image[:, r[0]:r[1], c[0]:c[1]] for r, c in chunk])
            y = _checked_output(fn, x, s, c_out)
            c_out = y.shape[-1]
            if not feather and convert is not None:
                y = convert(y)
            if out is None:
                dtype = y.dtype if not feather else np.result_type(y.dtype, np.float32)
                out = np.empty((n, h * s, w * s) + y.shape[3:],
                               dtype if convert is None else convert(np.zeros((1, 1, 1, c_out), dtype)).dtype)
            if acc is None and feather:
                acc = np.zeros((ph * s, pw * s, c_out), np.result_type(y.dtype, np.float32))
                weights = np.zeros((ph * s, pw * s, 1), np.float32)
            for j, (r, c) in enumerate(chunk):
                if feather:
                    kr = (max(r[2] - feather, r[0]), min(r[3] + feather, r[1]))
                    kc = (max(c[2] - feather, c[0]), min(c[3] + feather, c[1]))
                else:
                    kr, kc = r[2:], c[2:]
                piece = y[j, (kr[0] - r[0]) * s:(kr[1] - r[0]) * s, (kc[0] - c[0]) * s:(kc[1] - c[0]) * s]
                rows_out, cols_out = slice(kr[0] * s, kr[1] * s), slice(kc[0] * s, kc[1] * s)
                if feather:
                    wt = np.outer(_ramp(piece.shape[0], s, r[2:], kr, ph, feather),
                                  _ramp(piece.shape[1], s, c[2:], kc, pw, feather))[..., None]
                    acc[rows_out, cols_out] += piece * wt
                    weights[rows_out, cols_out] += wt
                else:  # the core straight into the output, cut to the image (the padding dropped)
                    top, left = box.top * s, box.left * s
                    r0, r1 = max(kr[0] * s, top), min(kr[1] * s, top + h * s)
                    c0, c1 = max(kc[0] * s, left), min(kc[1] * s, left + w * s)
                    if r1 > r0 and c1 > c0:
                        out[i, r0 - top:r1 - top, c0 - left:c1 - left] = \
                            piece[r0 - kr[0] * s:r1 - kr[0] * s, c0 - kc[0] * s:c1 - kc[0] * s]
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        if feather:
            acc /= weights
            acc = crop(acc, box, scale=s)
            out[i] = convert(acc[None])[0] if convert is not None else acc
    return out[0] if single else out


def _checked_output(fn, x, scale, channels=None):
    """fn(x) as NumPy, checked to be (n, h*scale, w*scale, C) (with C == channels when given)."""
    y = _numpy(fn(x))
    n, h, w = x.shape[:3]
    want = (n, h * scale, w * scale)
    if y.ndim != 4 or tuple(y.shape[:3]) != want or (channels is not None and y.shape[-1] != channels):
        c = "C" if channels is None else channels
        raise ValueError(f"fn returned shape {tuple(y.shape)} for an input of shape {tuple(x.shape)}; expected "
                         f"({n}, {h * scale}, {w * scale}, {c}) with scale={scale}: is scale right, and does the "
                         f"network keep the image size (up to scale)?")
    return y
