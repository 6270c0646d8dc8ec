"""Super-resolution data: MATLAB-style bicubic downscaling, ``(lr, hr)`` training pairs and benchmark pairs.

    sr_pairs("sr/train", scale=4, hr_crop=96)          # (lr, hr): random HR crops, MATLAB-bicubic LR
    sr_pairs("div2k/bicubic_x4", scale=4)              # (lr, hr): a TFDS set's own LR, aligned
    sr_eval_pairs("Set5/HR", "Set5/LR", scale=4)       # uint8 NumPy pairs of a benchmark (Set5 / Set14 layout)
    bicubic_downscale(hr, 4)                           # MATLAB's imresize(hr, 1/4, 'bicubic') in NumPy

The generic pieces (file listing and reading, the ``_examples`` driver, ``NumpyBatches``, ``ZOO_PIPELINE``) are
``zoo.data``'s. Every training pair is made by one NumPy function, ``_sr_example`` (random HR crop, dihedral
augmentation, MATLAB-bicubic LR): folder ``sr_pairs`` runs it through ``zoo.data._examples``, as a ``tf.data``
pipeline or, without TensorFlow or with ``ZOO_PIPELINE=numpy``, a ``keras.utils.PyDataset``; TFDS sources (which
need TensorFlow) read and filter with ``tf.data`` and run the same function in ``tf.numpy_function``.
"""
import functools
import os

import numpy as np

from zoo import images as _images
from zoo.data import (  # the generic helpers these pipelines share
    _check_batch, _check_channels, _convert_channels, _examples, _finish, _names, _np_crop_flip, _resize,
    _tf_example, _tfds_open, _to_uint8, list_images, read_image, skipping_reader)


# ------------------------------------------------------------------------------------ super-resolution
#
# LR images are made as MATLAB's ``imresize(hr, 1/scale, 'bicubic')`` makes them, because that is how the
# benchmark LR images (Set5, Set14, DIV2K bicubic, ...) were made: Keys' cubic kernel (a = -0.5) stretched by
# ``scale`` (antialiasing), edges mirrored (symmetric padding), rows resized first, then columns, and for uint8
# images a rounding to uint8 after each of the two passes. ``bicubic_downscale`` does exactly that in NumPy, and
# ``sr_pairs`` makes every LR with it. Measured on ../shared Set5 + Set14 (19 images) against
# the given MATLAB LR: 99.84-99.99% of pixels equal away from the 3-pixel border (96.1-99.9% overall: the
# mismatches sit at the borders, likely because the LR was made before the HR was cut to a multiple of 4).
# ``tf.image.resize(method="bicubic", antialias=True)`` uses the same kernel but renormalises it where it
# leaves the image instead of mirroring (2 LR pixels at each border: mean error 0.07-3.4 levels on these images)
# and does not round between passes (8-11% of the other pixels one level off).


def _cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB ``imresize``'s "bicubic")."""
    a = np.abs(x)
    return ((1.5 * a ** 3 - 2.5 * a ** 2 + 1) * (a <= 1)
            + (-0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2) * ((a > 1) & (a <= 2)))


@functools.lru_cache(maxsize=8)
def _downscale_matrix(n_in, scale):
    """``(ceil(n_in / scale), n_in)`` float64 matrix of MATLAB ``imresize`` weights for shrinking one axis by
    an integer ``scale``: antialiased cubic kernel, symmetric (mirror) edges, rows summing to 1. Cached (every
    training crop has the same size), so read-only."""
    n_out = -(-n_in // scale)
    width = 4.0 * scale
    u = np.arange(1, n_out + 1) * scale + 0.5 * (1 - scale)  # 1-based source coordinate of each output
    left = np.floor(u - width / 2)
    taps = left[:, None] + np.arange(int(np.ceil(width)) + 2)[None]
    w = _cubic((u[:, None] - taps) / scale) / scale
    w /= w.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(n_in), np.arange(n_in)[::-1]])  # MATLAB: [1:n, n:-1:1], periodic
    idx = mirror[np.mod(taps.astype(np.int64) - 1, 2 * n_in)]
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.repeat(np.arange(n_out), idx.shape[1]), idx.ravel()), w.ravel())
    m.flags.writeable = False
    return m


def _check_scale(scale):
    if isinstance(scale, bool) or int(scale) != scale or int(scale) < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return int(scale)


def bicubic_downscale(image, scale=4):
    """Shrink by an integer ``scale`` exactly as MATLAB ``imresize(image, 1/scale, 'bicubic')`` (NumPy only).

    ``image``: ``(H, W)``, ``(H, W, C)`` or a batch ``(N, H, W, C)``; uint8 gives uint8 rounded as MATLAB does
    (after the row pass and after the column pass), floats give float64, not rounded or clipped. The output is
    ``ceil(H / scale) x ceil(W / scale)``; crop the HR to a multiple of ``scale`` first when pairs must align.
    """
    scale = _check_scale(scale)
    a = np.asarray(image)
    if a.ndim not in (2, 3, 4):
        raise ValueError(f"expected an image (H, W[, C]) or a batch (N, H, W, C), got shape {a.shape}")
    if a.dtype == np.uint8:
        finish = lambda x: np.clip(np.round(x), 0, 255)  # noqa: E731
    elif np.issubdtype(a.dtype, np.floating):
        finish = lambda x: x  # noqa: E731
    else:
        raise ValueError(f"bicubic_downscale takes uint8 or float images, got dtype {a.dtype}")
    x = a.astype(np.float64)
    h_axis = 1 if a.ndim == 4 else 0
    x = finish(np.moveaxis(np.tensordot(_downscale_matrix(a.shape[h_axis], scale), x, axes=([1], [h_axis])),
                           0, h_axis))
    x = finish(np.moveaxis(np.tensordot(_downscale_matrix(a.shape[h_axis + 1], scale), x,
                                        axes=([1], [h_axis + 1])), 0, h_axis + 1))
    return x.astype(np.uint8) if a.dtype == np.uint8 else x


def _header_size(path):
    """(height, width) from the file header, as ``read_image`` will see it (EXIF rotation applied)."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as img:
            w, h = img.size
            if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                h, w = w, h
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ValueError(f"cannot read image file {path}: {e}") from e
    return h, w


def _cover(img, crop):
    """Enlarge a uint8 ``(H, W, C)`` image whose short side is below ``crop`` (Pillow bicubic, aspect ratio kept)
    until both sides reach it; larger images pass unchanged."""
    if min(img.shape[:2]) >= crop:
        return img
    f = crop / min(img.shape[:2])
    return _resize(img, (max(crop, int(np.ceil(img.shape[0] * f))), max(crop, int(np.ceil(img.shape[1] * f)))),
                   "stretch")


def _sr_example(hr, rng, scale, hr_crop, augment, small="skip", lr=None, degradation=None):
    """One super-resolution training pair ``[lr, hr]`` of uint8 arrays from one HR image: the one definition of
    the crop, augmentation and LR that every ``sr_pairs`` source runs (by ``tf.data`` or ``NumpyBatches``).

    ``hr``: uint8 ``(H, W, C)``; ``rng``: a ``numpy.random.Generator``. A random ``hr_crop`` x ``hr_crop``
    window (``small="upscale"``: a smaller image is first enlarged by ``_cover``); with ``augment`` one of the 8
    flips / 90-degree rotations (``k`` quarter turns, then a left-right flip half of the time); then the LR by
    ``bicubic_downscale`` (MATLAB ``imresize`` bicubic, uint8 rounding). With ``lr`` (a data set's own LR,
    ``scale`` times smaller than ``hr``) the window is drawn on the LR grid, both are cut at it and get the same
    flip / rotation, and nothing is downscaled. ``degradation``: a name in ``degradations.DEGRADATIONS``
    (``"realesrgan"``, ``"photo"``) makes the LR by that degradation of the crop instead of bicubic downscaling.
    """
    if lr is None:
        if small == "upscale":
            hr = _cover(hr, hr_crop)
        hr, = _np_crop_flip([hr], (hr_crop, hr_crop), False, None, rng)
    else:
        lr, hr = _np_crop_flip([lr, hr], (hr_crop // scale, hr_crop // scale), False, (1, scale), rng)
    pair = [hr] if lr is None else [lr, hr]
    if augment:
        k, flip = int(rng.integers(0, 4)), rng.random() < 0.5
        pair = [np.rot90(a, k) for a in pair]
        pair = [a[:, ::-1] for a in pair] if flip else pair
    pair = [np.ascontiguousarray(a) for a in pair]
    if lr is not None:
        return pair
    if degradation is not None:
        from zoo.apps.srgan.degradations import DEGRADATIONS

        return [DEGRADATIONS[degradation](pair[0], rng, scale)] + pair
    return [bicubic_downscale(pair[0], scale)] + pair


def sr_pairs(source, scale=4, hr_crop=96, batch_size=16, channels=3, shuffle=True, seed=None, augment=True,
             repeat=False, data_dir=None, split="train", small="skip", drop_remainder=True, cache=False,
             hr_key=None, lr_key="lr", download=True, shuffle_buffer=256, degradation=None):
    """Super-resolution training pairs ``(lr, hr)``: float32 in [-1, 1], ``(B, hr_crop/scale, hr_crop/scale,
    channels)`` and ``(B, hr_crop, hr_crop, channels)``, batched and prefetched.

    ``source``: a folder of HR images (searched recursively), or a TFDS name / builder such as
    ``"div2k/bicubic_x4"`` (anything that is not an existing folder is taken for a TFDS name).

    Each example is one random ``hr_crop`` x ``hr_crop`` window of an HR image (``hr_crop`` must be divisible by
    ``scale``); with ``augment`` one of the 8 flips / 90-degree rotations; then its LR is made by bicubic
    downscaling exactly as MATLAB ``imresize(hr, 1/scale, 'bicubic')`` with uint8 rounding
    (``bicubic_downscale``; see the note above it), so the pairs look like the benchmark LR images. The LR is made
    from the crop: its outer two pixels see the crop's mirrored edge rather than the neighbouring HR pixels.

    TFDS: the HR image is feature ``hr_key`` (default "hr" when the data set has it, else "image"). When the
    data set also has ``lr_key`` (default "lr"; DIV2K's features are "lr" and "hr"), its LR images are used
    instead of downscaling: the LR is cut on its own grid at the window matching the HR crop, and both get the
    same flip / rotation (a TF assertion fails when LR and HR are not ``scale`` apart; LR sides of
    ``ceil(H / scale)`` are trimmed to ``H // scale``). Pass ``lr_key=None`` to downscale the HR instead.
    Encoded images are shuffled (buffer ``shuffle_buffer``) and decoded afterwards, so 2K images cost memory
    only while being cropped.

    Images smaller than ``hr_crop`` (either side): with ``small="skip"`` (default) they are left out — a folder
    is checked up front from the file headers (a warning names them; ValueError when none is left), TFDS
    examples are filtered as they are read; ``small="upscale"`` enlarges them (Pillow bicubic, aspect kept) until
    the crop fits, which gives blurrier HR targets (not available with a data set's own LR).

    ``degradation="realesrgan"``: the LR is made by Real-ESRGAN's second-order degradation of the crop (blur,
    resize, noise, JPEG twice, then a sinc filter; ``zoo.apps.srgan.degradations``), seeded by the pipeline, for
    models of real photos; ``"photo"``: 20% of it, 40% its first order alone, 40% a light first order
    (``photo_x4``'s training mix, ``degradations.PHOTO_MIX``); ``None`` / ``"bicubic"`` (default): MATLAB bicubic
    as above. Not with a data set's own LR (pass ``lr_key=None``).

    ``cache=True`` keeps the decoded images in memory after the first epoch (the 291 images of BSD200 + T91 take
    about 100 MB): each epoch then only crops. With ``seed`` set the pipeline is reproducible; each epoch draws
    new crops. An epoch is one crop per image; ``repeat=True`` repeats forever (pass ``steps_per_epoch``).
    """
    scale = _check_scale(scale)
    _check_channels(channels)
    if isinstance(hr_crop, bool) or not isinstance(hr_crop, (int, np.integer)) or hr_crop < 1:
        raise ValueError(f"hr_crop must be a positive integer (a square HR crop), got {hr_crop!r}")
    hr_crop = int(hr_crop)
    if hr_crop % scale:
        lo, hi = hr_crop // scale * scale, (hr_crop // scale + 1) * scale
        raise ValueError(f"hr_crop={hr_crop} is not divisible by scale={scale} (the LR crop would be "
                         f"{hr_crop / scale:g} pixels); use {lo or hi} or {hi}")
    if small not in ("skip", "upscale"):
        raise ValueError(f'small must be "skip" or "upscale", got {small!r}')
    if degradation == "bicubic":
        degradation = None
    if degradation is not None:
        from zoo.apps.srgan.degradations import DEGRADATIONS

        if degradation not in DEGRADATIONS:
            raise ValueError(f"degradation must be None, 'bicubic' or one of {sorted(DEGRADATIONS)}, "
                             f"got {degradation!r}")
    shapes = [(hr_crop // scale, hr_crop // scale), (hr_crop, hr_crop)]

    is_folder = isinstance(source, (str, os.PathLike)) and os.path.isdir(source)
    if is_folder:
        files = list_images(source)
        if small == "skip":
            sizes = [_header_size(f) for f in files]
            too_small = [f for f, (h, w) in zip(files, sizes) if h < hr_crop or w < hr_crop]
            if len(too_small) == len(files):
                raise ValueError(f"all {len(files)} images under {source} are smaller than hr_crop={hr_crop}; "
                                 f"lower hr_crop or pass small='upscale'")
            if too_small:
                import warnings
                warnings.warn(f"sr_pairs: skipping {len(too_small)} of {len(files)} images smaller than "
                              f"hr_crop={hr_crop}: {_names([os.path.relpath(f, source) for f in too_small], 5)}",
                              stacklevel=2)
                dropped = set(too_small)
                files = [f for f in files if f not in dropped]
        decoded = {}  # cache=True: index -> decoded image, kept for the life of the pipeline
        read = skipping_reader(len(files), lambda j: read_image(files[j], channels))

        def example(i, rng):
            hr = decoded.get(i)
            if hr is None:
                hr = read(i)
                if cache:
                    decoded[i] = hr
            return _sr_example(hr, rng, scale, hr_crop, augment, small, degradation=degradation)

        return _examples(len(files), example, channels, shapes, batch_size, shuffle, seed, repeat, drop_remainder)

    import tensorflow as tf
    import tensorflow_datasets as tfds
    if isinstance(source, tfds.core.DatasetBuilder):
        builder = source
    else:
        name = os.fspath(source)
        try:
            builder = tfds.builder(name, data_dir=data_dir)
        except Exception as e:  # DatasetNotFoundError, unknown config, ...
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise FileNotFoundError(f"sr_pairs: {name!r} is neither an image folder nor a TFDS data set "
                                    f"({type(e).__name__}: {first})") from e
    features = builder.info.features
    if hr_key is None:
        hr_key = "hr" if "hr" in features else "image"
    use_lr = lr_key is not None and lr_key in features
    if use_lr and degradation is not None:
        raise ValueError(f"degradation={degradation!r} makes the LR from the HR; {builder.info.name} has its own LR "
                         f"({lr_key!r}): pass lr_key=None to degrade its HR images")
    if use_lr and small == "upscale":
        raise ValueError(f"small='upscale' needs LR made from the HR; {builder.info.name} has its own LR "
                         f"({lr_key!r}): pass small='skip' or lr_key=None")
    keys = (hr_key, lr_key) if use_lr else (hr_key,)
    builder, label, n = _tfds_open(builder, split, data_dir, download, keys)
    _check_batch(n, batch_size, drop_remainder, repeat)
    ds = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed),
                            decoders={k: tfds.decode.SkipDecoding() for k in keys})

    def decode(ex):  # the stored pixels (uint8, or uint16 for 16-bit sets); channels are converted in NumPy
        out = tuple(features[k].decode_example(ex[k]) for k in keys)
        return out if use_lr else out[0]

    if not cache and shuffle:
        ds = ds.shuffle(min(shuffle_buffer, max(n, 1)), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)

    def big_enough(hr, *_):
        return tf.reduce_all(tf.shape(hr)[:2] >= hr_crop)

    if use_lr:
        def aligned(hr, lr):
            hs, ls = tf.shape(hr)[:2], tf.shape(lr)[:2]
            check = tf.debugging.assert_less(
                tf.abs(ls * scale - hs), scale,
                message=f"sr_pairs: {label} LR images are not 1/{scale} of their HR (wrong scale for this data set?)")
            with tf.control_dependencies([check]):
                lhw = tf.minimum(ls, hs // scale)
            return hr[:lhw[0] * scale, :lhw[1] * scale], lr[:lhw[0], :lhw[1]]

        ds = ds.map(aligned, num_parallel_calls=tf.data.AUTOTUNE)
    if small == "skip":
        ds = ds.filter(big_enough)
    if cache:
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(min(shuffle_buffer, max(n, 1)), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def pixels(a):
        return _convert_channels(_to_uint8(a), channels)

    def example(hr, *lr_rng):  # (hr, rng) or (hr, lr, rng): the folder's per-example function on decoded pixels
        *lr, rng = lr_rng
        return _sr_example(pixels(hr), rng, scale, hr_crop, augment, small, lr=pixels(lr[0]) if lr else None,
                           degradation=degradation)

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds)).map(
        lambda imgs, rnd: tuple(_tf_example(example, list(imgs) if use_lr else [imgs], rnd, shapes, channels)),
        num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(ds, batch_size, drop_remainder)


# ------------------------------------------------------------------------------------ SR evaluation pairs


def _sr_key(stem, scale):
    """The name an HR/LR file pair shares: ``stem`` without a trailing "_HR" / "_LR" (any case, after "_",
    "-", "." or " ") or "x<scale>" ("0001x4", "baby_x4"); both may appear ("0001x4_LR")."""
    import re
    head, base = os.path.split(stem)
    patterns = (r"[_\-. ](?:hr|lr)$", rf"(?:[_\-. ]|(?<=\d))x{scale}$")
    for _ in range(2):
        for pat in patterns:
            cut = re.sub(pat, "", base, flags=re.IGNORECASE)
            if cut:
                base = cut
    return os.path.join(head, base)


def _sr_key_map(folder, scale):
    out = {}
    for f in list_images(folder):
        key = _sr_key(os.path.splitext(os.path.relpath(f, folder))[0], scale)
        if key in out:
            raise ValueError(f"{folder}: {os.path.basename(out[key])} and {os.path.basename(f)} both match the name "
                             f"{key!r} (after dropping _HR/_LR/x{scale} suffixes); keep one")
        out[key] = f
    return out


def _read_native(path, channels):
    """uint8 ``(H, W, C)``: C = ``channels``, or with ``channels=None`` 1 for grey files and 3 otherwise."""
    pixels, _ = _images.pil_to_array(_images.load_image(path))
    pixels = _to_uint8(pixels)
    if channels is None:
        channels = 1 if pixels.shape[-1] in (1, 2) else 3
    return _convert_channels(pixels, channels)


class SRPairs(list):
    """A list of ``(lr, hr)`` uint8 pairs; ``names`` holds the shared name of each pair, in the same order."""

    names = ()


def sr_eval_pairs(hr_dir, lr_dir=None, scale=4, channels=None):
    """Benchmark pairs ``[(lr, hr), ...]`` of uint8 NumPy arrays ``(h, w, C)`` and ``(scale*h, scale*w, C)``,
    sorted by name; ``.names`` gives the names.

    With ``lr_dir`` HR and LR files are matched by name, ignoring extensions and a trailing ``_HR`` / ``_LR``
    (any case, after "_", "-", "." or " ") or ``x<scale>`` marker, so ``img_001_SRF_4_HR.png`` pairs with
    ``img_001_SRF_4_LR.png`` (Set5 / Set14) and ``0001.png`` with ``0001x4.png`` (DIV2K); a file left without a
    partner raises ValueError listing them. An HR up to ``scale - 1`` pixels larger than ``scale`` times its LR
    is cropped at the bottom / right (MATLAB ``modcrop``); other size mismatches raise ValueError.

    Without ``lr_dir`` each HR is cropped to a multiple of ``scale`` and its LR made with ``bicubic_downscale``
    (MATLAB ``imresize`` bicubic, uint8).

    ``channels=None`` keeps grey files grey ``(..., 1)`` (RGB otherwise, alpha dropped; when one file of a
    pair is grey and the other colour both become RGB): SR papers measure grey test images (one in Set14) on
    their grey values, which ``zoo.metrics`` ``y_channel=True`` does for one-channel images. ``channels=3``
    or ``1`` converts every file.
    """
    scale = _check_scale(scale)
    if channels is not None:
        _check_channels(channels)
    out = SRPairs()
    if lr_dir is None:
        names = []
        for f in list_images(hr_dir):
            hr = _read_native(f, channels)
            h, w = hr.shape[0] // scale * scale, hr.shape[1] // scale * scale
            if h == 0 or w == 0:
                raise ValueError(f"{f}: {hr.shape[0]}x{hr.shape[1]} is smaller than scale={scale}")
            hr = np.ascontiguousarray(hr[:h, :w])
            out.append((bicubic_downscale(hr, scale), hr))
            names.append(os.path.splitext(os.path.relpath(f, hr_dir))[0])
        out.names = names
        return out
    hr_map, lr_map = _sr_key_map(hr_dir, scale), _sr_key_map(lr_dir, scale)
    only_hr, only_lr = set(hr_map) - set(lr_map), set(lr_map) - set(hr_map)
    if only_hr or only_lr:
        msg = []
        if only_hr:
            msg.append(f"{len(only_hr)} HR in {hr_dir} without an LR in {lr_dir}: "
                       f"{_names(os.path.basename(hr_map[k]) for k in only_hr)}")
        if only_lr:
            msg.append(f"{len(only_lr)} LR in {lr_dir} without an HR in {hr_dir}: "
                       f"{_names(os.path.basename(lr_map[k]) for k in only_lr)}")
        raise ValueError("unmatched files: " + "; ".join(msg))
    names = sorted(hr_map)
    for key in names:
        hr, lr = _read_native(hr_map[key], channels), _read_native(lr_map[key], channels)
        if hr.shape[-1] != lr.shape[-1]:
            hr, lr = _convert_channels(hr, 3), _convert_channels(lr, 3)
        lh, lw = lr.shape[:2]
        if (hr.shape[0] // scale, hr.shape[1] // scale) != (lh, lw):
            raise ValueError(f"{hr_map[key]} ({hr.shape[0]}x{hr.shape[1]}) and {lr_map[key]} ({lh}x{lw}) do not "
                             f"align at scale={scale}: the HR should be {lh * scale}x{lw * scale} (up to "
                             f"{scale - 1} more pixels, cropped)")
        out.append((lr, np.ascontiguousarray(hr[:lh * scale, :lw * scale])))
    out.names = names
    return out

