"""Datasets for training: image folders, paired / side-by-side / unpaired sets, crops and flips, TFDS adapters.

NumPy-level readers (``list_images``, ``read_image``, ``load_mnist_csv``) work on every backend. Functions
returning ``tf.data`` pipelines import TensorFlow inside, so ``import zoo.data`` does not need it.

Every pipeline yields float32 images in [-1, 1], channels last, batched and prefetched::

    image_folder("photos", crop=96, flip=True)                        # images
    image_folder("flowers102/train", image_size=64, labels=True)      # (images, labels)
    paired_folders("lr", "hr", crop=24, scale=4)                       # (a, b): same crop, scaled for b
    side_by_side("edges2shoes_handbags/train", direction="BtoA")      # (edges, photo) from photo|edges files
    unpaired("shoes", "handbags", image_size=128)                     # (a, b) drawn independently
    tfds_images("mnist", channels=1, label_key="label")               # (images, labels)

Super-resolution pairs (``sr_pairs``: HR crops with MATLAB-bicubic LR; ``sr_eval_pairs``; ``bicubic_downscale``)
are the srgan app's: ``zoo/apps/srgan/data.py``.

Each dataset is written once, as a per-example NumPy function (load with Pillow, resize, random crop and flip
given a ``numpy.random.Generator``), and ``_examples`` drives it two ways: by ``tf.data`` (the function in
``tf.numpy_function`` under a parallel ``map``, then batch and prefetch), or, without TensorFlow (a PyTorch- or
JAX-only machine) or with the environment variable ``ZOO_PIPELINE=numpy``, by a ``keras.utils.PyDataset``
(``NumpyBatches``) in worker threads; ``model.fit`` takes either, and ``ZOO_PIPELINE=tf`` insists on
``tf.data``. The same files, crops, flips and value ranges either way; each draws its randomness from its own
seeded stream (``tf.data.Dataset.random`` / ``NumpyBatches``'s), so with ``seed`` set a pipeline is
reproducible, and each epoch draws anew. The TFDS adapters need TensorFlow.

Files are decoded with Pillow (any format Pillow reads, grey / palette / RGBA / 16-bit), so an unreadable file
raises an error naming it when the pipeline first reads it; folders are not checked up front. Resizing
(``image_size``) happens in Pillow (bicubic, antialiased) before the random crop; ``fit="stretch"`` resizes to
exactly ``image_size``, ``fit="cover"`` keeps the aspect ratio, covering ``image_size`` and cutting the centre.
Without ``image_size`` or ``crop``, every file must have the same size for batching.
"""
import functools
import gzip
import os
import warnings

import numpy as np

from zoo import images as _images
from zoo.checks import positive_int

#: File name endings ``list_images`` collects (compared case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")


def load_mnist_csv(path):
    """Digits from a CSV (optionally gzipped): 784 pixel values then the label per row.

    Returns ``(images, labels)``: uint8 ``(N, 28, 28, 1)`` and int32 ``(N,)``.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"digits file not found: {path}")
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rt") as f:
            rows = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not a digits CSV of numbers ({e})") from e
    if rows.ndim != 2 or rows.shape[1] != 785:
        raise ValueError(f"{path}: expected rows of 784 pixels and a label (785 columns), got shape {rows.shape}")
    bad = np.nonzero(~np.isfinite(rows).all(axis=1) | (rows != np.round(rows)).any(axis=1))[0]
    if len(bad):
        raise ValueError(f"{path}: row {bad[0] + 1} holds a value that is not a whole number (pixels are 0..255, "
                         f"labels 0..9)")
    if rows[:, :784].min() < 0 or rows[:, :784].max() > 255:
        raise ValueError(f"{path}: pixel values outside 0..255")
    labels = rows[:, 784]
    if labels.min() < 0 or labels.max() > 9:
        row = int(np.nonzero((labels < 0) | (labels > 9))[0][0])
        raise ValueError(f"{path}: row {row + 1} has label {int(labels[row])}; digit labels are 0..9")
    return rows[:, :784].reshape(-1, 28, 28, 1).astype(np.uint8), labels.astype(np.int32)


# ------------------------------------------------------------------------------------------ files


def list_images(folder):
    """Image files under ``folder``, recursively, sorted by path; extensions in ``IMAGE_EXTENSIONS``.

    Hidden files and folders (names starting with ".") are skipped; a folder reached twice (a symlink loop, or
    two links to one folder) is listed once. Raises FileNotFoundError when the folder
    does not exist, NotADirectoryError when it is a file, ValueError when it holds no images.
    """
    folder = os.fspath(folder)
    if not os.path.exists(folder):
        raise FileNotFoundError(f"image folder not found: {folder}")
    if not os.path.isdir(folder):
        raise NotADirectoryError(f"not a folder: {folder}")
    found, seen = [], {os.path.realpath(folder)}
    for root, dirs, files in os.walk(folder, followlinks=True):
        keep = []  # symlinked folders are followed, each real folder once: a link back up (a loop) is not
        for d in dirs:
            real = os.path.realpath(os.path.join(root, d))
            if not d.startswith(".") and real not in seen:
                seen.add(real)
                keep.append(d)
        dirs[:] = keep
        found.extend(os.path.join(root, f) for f in files
                     if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS))
    if not found:
        raise ValueError(f"no image files ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) under {folder}")
    return sorted(found)


def _size2(size, what):
    if size is None:
        return None
    h, w = (size, size) if np.isscalar(size) else tuple(size)
    if int(h) < 1 or int(w) < 1:
        raise ValueError(f"{what} must be positive, got {size}")
    return int(h), int(w)


def _to_uint8(pixels):
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)  # Pillow "F": taken as [0, 1]


def _convert_channels(a, channels):
    """uint8 (H, W, 1..4) -> (H, W, channels); alpha dropped for 1 / 3, added opaque for 4."""
    c = a.shape[-1]
    colour = a[..., :3] if c >= 3 else a[..., :1]
    if channels == 1:
        if colour.shape[-1] == 3:
            colour = np.round(colour.astype(np.float32) @ _images.LUMA)[..., None].astype(np.uint8)
        return colour
    if colour.shape[-1] == 1:
        colour = np.repeat(colour, 3, axis=-1)
    if channels == 3:
        return colour
    alpha = a[..., -1:] if c in (2, 4) else np.full(a.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([colour, alpha], axis=-1)


def _resize(a, size, fit):
    """uint8 (H, W, C) -> (size[0], size[1], C) with Pillow bicubic (antialiased when shrinking)."""
    if size is None or tuple(a.shape[:2]) == tuple(size):
        return a
    from PIL import Image, ImageOps
    img = Image.fromarray(a[..., 0] if a.shape[-1] == 1 else a)
    target = (size[1], size[0])
    img = ImageOps.fit(img, target, Image.BICUBIC) if fit == "cover" else img.resize(target, Image.BICUBIC)
    out = np.asarray(img)
    return out[..., None] if out.ndim == 2 else out


def _check_fit(fit):
    if fit not in ("stretch", "cover"):
        raise ValueError(f'fit must be "stretch" or "cover", got {fit!r}')


def _check_channels(channels):
    if channels not in (1, 3, 4):
        raise ValueError(f"channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got {channels}")


def read_image(path, channels=3, image_size=None, fit="stretch"):
    """One image file -> uint8 ``(H, W, channels)`` via Pillow; errors name the file.

    Grey, RGB, RGBA, palette and 16-bit files are all read: 16-bit values are scaled to 8 bits; for
    ``channels=1`` colour becomes luminance; for 1 and 3 alpha is dropped; for 4 an opaque alpha is added when
    the file has none. ``image_size`` (int or ``(h, w)``) resizes with Pillow bicubic (``fit`` as in the module
    docstring). EXIF orientation is applied; animations give their first frame.
    """
    _check_channels(channels)
    _check_fit(fit)
    pixels, _ = _images.pil_to_array(_images.load_image(path))
    return _resize(_convert_channels(_to_uint8(pixels), channels), _size2(image_size, "image_size"), fit)


# ----------------------------------------------------------------------------------- tf.data pipelines


def random_crop_flip(*images, crop=None, flip=False, seed=None, scales=None):
    """The same random crop and horizontal flip applied to aligned tensors ``(..., H, W, C)``.

    ``crop``: int or ``(h, w)``, the crop of an image of scale 1. ``scales``: one integer per image (default
    all 1): image ``i`` is ``scales[i]`` times larger than the scale-1 grid (an HR image next to its LR one)
    and gets the crop scaled by it, at the matching place. ``seed``: a shape-``[2]`` integer tensor for
    stateless (reproducible) randomness, or None for TensorFlow's global random stream. Returns a tuple with
    one tensor per input (the tensor itself when given one). Use inside ``tf.data`` ``map`` or eagerly.
    """
    import tensorflow as tf
    if not images:
        raise ValueError("random_crop_flip needs at least one image tensor")
    scales = tuple(int(s) for s in (scales or (1,) * len(images)))
    if len(scales) != len(images) or min(scales) < 1:
        raise ValueError(f"scales must be one positive integer per image, got {scales} for {len(images)} images")
    out = [tf.convert_to_tensor(t) for t in images]
    u = (tf.random.uniform([3]) if seed is None else
         tf.random.stateless_uniform([3], seed=tf.cast(seed, tf.int64)))
    if crop is not None:
        ch, cw = _size2(crop, "crop")
        shape0 = tf.shape(out[0])
        h, w = shape0[-3] // scales[0], shape0[-2] // scales[0]
        checks = [tf.debugging.assert_greater_equal(tf.stack([h, w]), tf.constant([ch, cw]),
                                                    message=f"random_crop_flip: image smaller than the crop {ch}x{cw}")]
        for t, s in zip(out[1:], scales[1:]):
            checks.append(tf.debugging.assert_equal(
                tf.shape(t)[-3:-1], tf.stack([h * s, w * s]),
                message="random_crop_flip: aligned images differ in size (check scales)"))
        with tf.control_dependencies(checks):
            oy = tf.minimum(tf.cast(u[0] * tf.cast(h - ch + 1, tf.float32), tf.int32), h - ch)
            ox = tf.minimum(tf.cast(u[1] * tf.cast(w - cw + 1, tf.float32), tf.int32), w - cw)
        cropped = []
        for t, s in zip(out, scales):
            c = t[..., oy * s:(oy + ch) * s, ox * s:(ox + cw) * s, :]
            c.set_shape(t.shape[:-3].concatenate([ch * s, cw * s, t.shape[-1]]))
            cropped.append(c)
        out = cropped
    if flip:
        do = u[2] < 0.5
        out = [tf.cond(do, lambda t=t: tf.reverse(t, [-2]), lambda t=t: t) for t in out]
    return out[0] if len(out) == 1 else tuple(out)


def _pipeline(columns, load, n_out, channels, crop, flip, scales, batch_size, shuffle, seed, repeat,
              drop_remainder, out_sizes=None, extra=None):
    """Rows of paths -> examples: ``load(*paths) -> n_out uint8 arrays`` (Pillow), then one random crop and
    flip for all of them (``_np_crop_flip``); driven by ``_examples``. ``columns``: a tuple of equal-length
    lists of paths; ``extra``: an optional array (labels) carried along.

    A file that cannot be decoded when its turn comes (truncated, corrupt, deleted since it was listed) is
    skipped with a warning naming it and the count so far; the next readable row takes its place
    (``skipping_reader``)."""
    n = len(columns[0])
    read = skipping_reader(n, lambda j: load(*[c[j] for c in columns]))

    def example(i, rng):
        arrays = read(i)
        arrays = list(arrays) if isinstance(arrays, (list, tuple)) else [arrays]
        return _np_crop_flip(arrays, crop, flip, scales, rng)

    scales = scales or (1,) * n_out
    shapes = [(crop[0] * s, crop[1] * s) if crop else (out_sizes[j] if out_sizes else (None, None))
              for j, s in enumerate(scales)]
    return _examples(n, example, channels, shapes, batch_size, shuffle, seed, repeat, drop_remainder,
                     extra=extra)


def skipping_reader(n, load):
    """The one way training pipelines read files: ``read(i)`` returns ``load(j)`` for the first row ``j`` from
    ``i`` on (wrapping round the ``n`` rows) that loads. A row whose file cannot be decoded (truncated, corrupt,
    not an image, too large, deleted since it was listed: ``zoo.images.UnreadableImageError`` or
    FileNotFoundError) is skipped with a warning naming it and the count so far, once per row; when no row
    loads, ValueError."""
    skipped = set()

    def read(i):
        for j in (int(i + k) % n for k in range(n)):
            try:
                return load(j)
            except (_images.UnreadableImageError, FileNotFoundError) as e:
                if j not in skipped:
                    skipped.add(j)
                    warnings.warn(f"skipping an unreadable training image ({len(skipped)} so far): {e}",
                                  stacklevel=2)
        raise ValueError(f"none of the {n} training images could be read")

    return read


def _examples(n, example, channels, shapes, batch_size, shuffle, seed, repeat, drop_remainder, extra=None):
    """The one driver of every folder dataset. ``example(i, rng) -> list of uint8 (H, W, C) arrays`` makes example
    ``i`` (load, crop, flip, degrade) with the ``numpy.random.Generator`` ``rng``; it is written once and run

    * by ``tf.data`` (``use_tf()``): shuffled/repeated indices zipped with a seeded ``Dataset.random`` stream, the
      example made in ``tf.numpy_function`` by a parallel ``map``, cast to float [-1, 1], batched, prefetched;
    * or by ``NumpyBatches`` (a ``keras.utils.PyDataset``) in worker threads, with its own seeded stream.

    ``shapes``: the ``(h, w)`` of each output (they may differ, e.g. an LR and its HR; None where a side varies);
    ``extra``: an array (labels) whose row ``i`` goes with example ``i``. Yields one image, or a tuple of images
    (plus the extra). The ``tf.data`` side of one example is ``_tf_example``, which the TFDS SR pairs also use.
    """
    _check_batch(n, batch_size, drop_remainder, repeat)
    if not use_tf():
        def np_example(i, rng):
            out = [a.astype(np.float32) / 127.5 - 1.0 for a in example(i, rng)]
            return tuple(out) + ((extra[i],) if extra is not None else ())
        return NumpyBatches(n, np_example, batch_size, shuffle, seed, repeat, drop_remainder)
    import tensorflow as tf
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds))
    extra_t = None if extra is None else tf.constant(extra)

    def element(i, s):
        out = _tf_example(lambda i, rng: example(int(i), rng), [i], s, shapes, channels)
        if extra_t is not None:
            out.append(tf.gather(extra_t, i))
        return out[0] if len(out) == 1 else tuple(out)

    ds = ds.map(element, num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(ds, batch_size, drop_remainder)


def _tf_example(example, args, seed, shapes, channels):
    """Inside a ``tf.data`` ``map``: ``example(*args, rng) -> list of uint8 (H, W, C) arrays`` run by
    ``tf.numpy_function`` on the NumPy values of the tensors ``args``, with ``rng`` a ``numpy.random.Generator``
    seeded by the shape-``[2]`` int64 tensor ``seed`` (a ``Dataset.random`` pair). Returns the outputs as float32
    tensors in [-1, 1] of static shape ``shapes[j] + (channels,)`` (None where a side varies; ``channels`` an int
    or one per output)."""
    import tensorflow as tf

    def call(*a):
        return example(*a[:-1], np.random.default_rng(np.asarray(a[-1]).astype(np.uint64)))

    arrays = tf.numpy_function(call, [*args, seed], [tf.uint8] * len(shapes), stateful=False)
    arrays = list(arrays) if isinstance(arrays, (list, tuple)) else [arrays]
    channels = channels if isinstance(channels, (list, tuple)) else [channels] * len(shapes)
    for a, hw, c in zip(arrays, shapes, channels):
        a.set_shape([hw[0], hw[1], c])
    return [tf.cast(a, tf.float32) / 127.5 - 1.0 for a in arrays]


def pipeline_error(e):
    """The Python error an example function raised inside a ``tf.data`` pipeline (``tf.numpy_function`` hands it
    back wrapped in a TensorFlow error, "Graph execution error", with its traceback in the message), as a
    ValueError with the original message; None when ``e`` is not such an error."""
    import re

    if not type(e).__module__.startswith("tensorflow"):
        return None
    found = re.findall(r"^(\w*Error): (.+)$", str(e), re.MULTILINE)
    return ValueError(found[-1][1]) if found else None


def use_tf():
    """Whether the pipelines build ``tf.data`` (True) or ``NumpyBatches`` (False): ``ZOO_PIPELINE`` = "tf" /
    "numpy" decides; unset or "auto", ``tf.data`` whenever TensorFlow can be imported."""
    mode = os.environ.get("ZOO_PIPELINE", "auto").strip().lower() or "auto"
    if mode not in ("auto", "tf", "numpy"):
        raise ValueError(f'ZOO_PIPELINE must be "auto", "tf" or "numpy", got {mode!r}')
    if mode != "auto":
        return mode == "tf"
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def _np_crop_flip(arrays, crop, flip, scales, rng):
    """NumPy twin of ``random_crop_flip`` for a list of aligned uint8 ``(H, W, C)`` arrays."""
    scales = scales or (1,) * len(arrays)
    if crop is not None:
        (ch, cw), s0 = crop, scales[0]
        h, w = arrays[0].shape[0] // s0, arrays[0].shape[1] // s0
        if h < ch or w < cw:
            raise ValueError(f"image {h}x{w} is smaller than the crop {ch}x{cw}")
        oy, ox = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        arrays = [a[oy * s:(oy + ch) * s, ox * s:(ox + cw) * s] for a, s in zip(arrays, scales)]
    if flip and rng.random() < 0.5:
        arrays = [a[:, ::-1] for a in arrays]
    return arrays


@functools.lru_cache(maxsize=None)
def _numpy_batches_class():
    import keras

    class NumpyBatches(keras.utils.PyDataset):
        """Batches of examples made by NumPy in worker threads: the ``tf.data``-free pipeline.

        ``example(i, rng) -> tuple of arrays`` makes example ``i`` with the ``numpy.random.Generator`` ``rng``.
        Batch ``b`` draws its examples from a per-epoch permutation (``shuffle``) and its randomness from
        ``default_rng([seed, b])``, so with ``seed`` set the stream is reproducible whatever the number of
        workers. ``repeat=True`` makes it endless (``num_batches`` None: pass ``steps_per_epoch`` to ``fit``);
        otherwise an epoch is ``n // batch_size`` batches (``ceil`` without ``drop_remainder``). Yields one
        array, or a tuple, per batch.
        """

        def __init__(self, n, example, batch_size, shuffle=True, seed=None, repeat=False, drop_remainder=True,
                     workers=None):
            workers = workers or min(8, os.cpu_count() or 1)
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=4 * workers)
            self.n, self.example, self.batch_size = int(n), example, int(batch_size or 1)
            self.shuffle, self.repeat, self.drop_remainder = shuffle, repeat, drop_remainder
            self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
            self.epoch = 0
            self.unbatched = batch_size is None

        @property
        def num_batches(self):
            if self.repeat:
                return None
            full, rest = divmod(self.n, self.batch_size)
            return full + (1 if rest and not self.drop_remainder else 0)

        def __len__(self):
            return self.num_batches or 0

        def on_epoch_end(self):
            self.epoch += 1

        def _order(self, epoch):
            if not self.shuffle:
                return np.arange(self.n)
            return np.random.default_rng([self.seed, 1, epoch]).permutation(self.n)

        def __getitem__(self, b):
            if self.repeat:  # position p of the endless stream: example p % n of pass p // n
                start, epoch = b * self.batch_size, 0
            else:
                if b >= len(self):
                    raise IndexError(f"batch {b} of {len(self)}")
                start, epoch = b * self.batch_size, self.epoch
            stop = start + self.batch_size if self.repeat else min(start + self.batch_size, self.n)
            orders = {e: self._order(e) for e in {epoch + p // self.n for p in range(start, stop)}}
            idx = [orders[epoch + p // self.n][p % self.n] for p in range(start, stop)]
            # endless: batch b is unique (prefetching threads may run ahead of on_epoch_end); else per epoch
            rng = np.random.default_rng([self.seed, 0, epoch, b])
            items = [self.example(int(i), rng) for i in idx]
            if self.unbatched:
                return items[0][0] if len(items[0]) == 1 else items[0]
            cols = tuple(np.stack(c) for c in zip(*items))
            return cols[0] if len(cols) == 1 else cols

    return NumpyBatches


def NumpyBatches(*args, **kwargs):  # noqa: N802
    """A ``keras.utils.PyDataset`` of NumPy-made batches (the class, documented in ``_numpy_batches_class``, is
    made on first use so that importing zoo.data does not import Keras)."""
    return _numpy_batches_class()(*args, **kwargs)


def _check_batch(n, batch_size, drop_remainder, repeat):
    if batch_size is not None:
        positive_int(batch_size, "batch_size")
    if batch_size is not None and drop_remainder and not repeat and n < batch_size:
        raise ValueError(f"only {n} examples, fewer than batch_size={batch_size} with drop_remainder=True: the "
                         f"dataset would be empty; lower batch_size or pass drop_remainder=False")


def _finish(ds, batch_size, drop_remainder):
    import tensorflow as tf
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def _scaled(size, s):
    return None if size is None else (size[0] * s, size[1] * s)


def _loader(channels, image_size, fit, min_size):
    def load(path):
        a = read_image(path, channels, image_size, fit)
        _check_min(a, min_size, path)
        return a
    return load


def _check_min(a, min_size, path):
    if min_size is not None and (a.shape[0] < min_size[0] or a.shape[1] < min_size[1]):
        raise ValueError(f"{path}: image {a.shape[0]}x{a.shape[1]} is smaller than the crop "
                         f"{min_size[0]}x{min_size[1]}; pass image_size to resize first")


def image_folder(folder, image_size=None, crop=None, channels=3, batch_size=32, shuffle=True, seed=None,
                 flip=False, repeat=False, drop_remainder=True, fit="stretch", labels=False):
    """All images under ``folder`` (recursively) as a ``tf.data`` pipeline of float32 ``(B, h, w, channels)``.

    ``image_size`` (int or ``(h, w)``) resizes every file, then ``crop`` (int or ``(h, w)``) cuts a random
    window; ``flip`` mirrors half of them left-right. ``labels=True`` also yields int32 class indices from
    each file's first sub-folder (``folder/<class>/...``, classes sorted by name, kept in
    ``dataset.class_names``). Files are read lazily: a broken file raises an error naming it when reached.
    """
    _check_channels(channels)
    _check_fit(fit)
    size, crop_hw = _size2(image_size, "image_size"), _size2(crop, "crop")
    files = list_images(folder)
    extra, class_names = None, None
    if labels:
        rel = [os.path.relpath(f, folder).split(os.sep) for f in files]
        loose = [os.path.join(*r) for r in rel if len(r) == 1]
        if loose:
            raise ValueError(f"labels=True needs every image inside a class sub-folder of {folder}; found "
                             f"{len(loose)} directly in it, e.g. {loose[0]}")
        class_names = sorted({r[0] for r in rel})
        index = {c: i for i, c in enumerate(class_names)}
        extra = np.array([index[r[0]] for r in rel], np.int32)
    ds = _pipeline((files,), _loader(channels, size, fit, crop_hw), 1, channels, crop_hw, flip, None,
                   batch_size, shuffle, seed, repeat, drop_remainder, out_sizes=[size] if size else None,
                   extra=extra)
    if class_names is not None:
        ds.class_names = class_names
    return ds


def _stem_map(folder):
    files = list_images(folder)
    out, dupes = {}, []
    for f in files:
        stem = os.path.splitext(os.path.relpath(f, folder))[0]
        if stem in out:
            dupes.append(stem)
        out[stem] = f
    if dupes:
        raise ValueError(f"{folder}: several files share the name(s) {sorted(set(dupes))[:10]} (different "
                         f"extensions); keep one per name so pairs are unambiguous")
    return out


def _names(names, limit=10):
    names = sorted(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def paired_folders(a_dir, b_dir, image_size=None, crop=None, channels=3, batch_size=32, shuffle=True,
                   seed=None, flip=False, repeat=False, drop_remainder=True, fit="stretch", scale=1):
    """Aligned pairs ``(a, b)`` from two folders, matched by file name without extension (relative path).

    Every file must have a partner (ValueError listing the unmatched names). Both images get the same
    resize, crop and flip. ``scale``: b is ``scale`` times the size of a (super-resolution LR/HR pairs);
    ``image_size`` and ``crop`` then refer to a and b gets them times ``scale``. Sizes are checked when read.
    """
    _check_channels(channels)
    _check_fit(fit)
    scale = int(scale)
    size, crop_hw = _size2(image_size, "image_size"), _size2(crop, "crop")
    a_map, b_map = _stem_map(a_dir), _stem_map(b_dir)
    only_a, only_b = set(a_map) - set(b_map), set(b_map) - set(a_map)
    if only_a or only_b:
        msg = []
        if only_a:
            msg.append(f"{len(only_a)} in {a_dir} without a partner in {b_dir}: {_names(only_a)}")
        if only_b:
            msg.append(f"{len(only_b)} in {b_dir} without a partner in {a_dir}: {_names(only_b)}")
        raise ValueError("unmatched files: " + "; ".join(msg))
    stems = sorted(a_map)
    size_b = _scaled(size, scale)

    def load(pa, pb):
        a = read_image(pa, channels, size, fit)
        b = read_image(pb, channels, size_b, fit)
        if b.shape[:2] != (a.shape[0] * scale, a.shape[1] * scale):
            raise ValueError(f"{pa} ({a.shape[0]}x{a.shape[1]}) and {pb} ({b.shape[0]}x{b.shape[1]}) do not "
                             f"align: b must be {scale}x the size of a (scale={scale})")
        _check_min(a, crop_hw, pa)
        return a, b

    return _pipeline(([a_map[s] for s in stems], [b_map[s] for s in stems]), load, 2, channels, crop_hw, flip,
                     (1, scale), batch_size, shuffle, seed, repeat, drop_remainder,
                     out_sizes=[size, size_b] if size else None)


def side_by_side(folder, direction="AtoB", image_size=None, crop=None, channels=3, batch_size=32,
                 shuffle=True, seed=None, flip=False, repeat=False, drop_remainder=True, fit="stretch"):
    """pix2pix "AB" files (A in the left half, B in the right) as aligned ``(input, target)`` pairs.

    ``direction="AtoB"`` yields ``(A, B)`` = (left, right); ``"BtoA"`` yields ``(B, A)``. In
    ``edges2shoes_handbags`` the photo is on the LEFT and the edges on the RIGHT, so edges -> photo is
    ``"BtoA"``. An odd width loses its last column. Each half is resized to ``image_size``, then both get the
    same random ``crop`` and ``flip``.
    """
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f'direction must be "AtoB" or "BtoA", got {direction!r}')
    _check_channels(channels)
    _check_fit(fit)
    size, crop_hw = _size2(image_size, "image_size"), _size2(crop, "crop")

    def load(path):
        ab = read_image(path, channels)
        half = ab.shape[1] // 2
        if half == 0:
            raise ValueError(f"{path}: {ab.shape[1]} pixel(s) wide, too narrow to split into A|B halves")
        a, b = _resize(ab[:, :half], size, fit), _resize(ab[:, half:2 * half], size, fit)
        _check_min(a, crop_hw, path)
        return (a, b) if direction == "AtoB" else (b, a)

    return _pipeline((list_images(folder),), load, 2, channels, crop_hw, flip, None, batch_size, shuffle, seed,
                     repeat, drop_remainder, out_sizes=[size, size] if size else None)


def unpaired(a_dir, b_dir, image_size=None, crop=None, channels=3, batch_size=32, shuffle=True, seed=None,
             flip=False, repeat=False, drop_remainder=True, fit="stretch"):
    """Two unaligned domains (CycleGAN) as ``(a, b)`` batches; the folders may hold different numbers of images.

    An epoch has as many pairs as the larger folder; the smaller one cycles (every image of it once per
    ``len(smaller)`` pairs, in a seeded order). Which a goes with which b carries no meaning (the domains are
    unaligned). Each side gets its own random crop and flip. ``tf.data`` or, without TensorFlow / with
    ``ZOO_PIPELINE=numpy``, ``NumpyBatches``, as every folder dataset.
    """
    _check_channels(channels)
    _check_fit(fit)
    size, crop_hw = _size2(image_size, "image_size"), _size2(crop, "crop")
    load = _loader(channels, size, fit, crop_hw)
    files = [list_images(a_dir), list_images(b_dir)]
    n = max(len(f) for f in files)
    orders = [np.random.default_rng([0 if seed is None else seed, k]).permutation(len(f))
              for k, f in enumerate(files)]

    reads = [skipping_reader(len(f), lambda j, f=f, order=order: load(f[order[j]]))
             for f, order in zip(files, orders)]

    def example(i, rng):
        return [_np_crop_flip([read(i % len(f))], crop_hw, flip, None, rng)[0] for f, read in zip(files, reads)]

    shape = crop_hw or size or (None, None)
    return _examples(n, example, channels, [shape, shape], batch_size, shuffle, seed, repeat, drop_remainder)


# --------------------------------------------------------------------------------------------- TFDS


def _tf_channels(img, channels, what):
    import tensorflow as tf
    c = img.shape[-1]
    if c is None:
        raise ValueError(f"{what}: the number of channels is not known statically; cannot convert to {channels}")
    colour = img[..., :3] if c >= 3 else img[..., :1]
    if channels == 1:
        return tf.image.rgb_to_grayscale(colour) if colour.shape[-1] == 3 else colour
    if colour.shape[-1] == 1:
        colour = tf.image.grayscale_to_rgb(colour)
    if channels == 3:
        return colour
    alpha = img[..., -1:] if c in (2, 4) else tf.ones_like(colour[..., :1])
    return tf.concat([colour, alpha], -1)


def _tf_resize(img, size, fit):
    import tensorflow as tf
    if size is None:
        return img
    if fit == "cover":
        hw = tf.cast(tf.shape(img)[-3:-1], tf.float32)
        s = tf.reduce_max(tf.constant(size, tf.float32) / hw)
        new = tf.maximum(tf.cast(tf.math.ceil(hw * s), tf.int32), tf.constant(size))
        img = tf.image.resize(img, new, "bicubic", antialias=True)
        top, left = (new[0] - size[0]) // 2, (new[1] - size[1]) // 2
        img = img[top:top + size[0], left:left + size[1], :]
        img.set_shape([size[0], size[1], img.shape[-1]])
    else:
        img = tf.image.resize(img, size, "bicubic", antialias=True)
    return tf.clip_by_value(img, 0.0, 1.0)


def _tfds_open(name, split, data_dir, download, keys):
    """``(builder, label, n)`` for a TFDS name or builder: prepared (or downloaded), ``keys`` and ``split``
    checked, with errors that list what the data set has."""
    import tensorflow as tf
    import tensorflow_datasets as tfds
    builder = name if isinstance(name, tfds.core.DatasetBuilder) else tfds.builder(name, data_dir=data_dir)
    label = builder.info.name
    if download:
        builder.download_and_prepare()
    elif not tf.io.gfile.exists(os.path.join(builder.data_dir, "dataset_info.json")):
        raise FileNotFoundError(f"TFDS dataset {label} is not prepared in {builder.data_dir}; pass download=True "
                                f"or the data_dir that holds it")
    features = builder.info.features
    for key in keys:
        if key is not None and key not in features:
            raise KeyError(f"TFDS dataset {label} has no feature {key!r}; features: {sorted(features.keys())}")
    try:
        n = builder.info.splits[split].num_examples
    except (KeyError, ValueError) as e:
        raise ValueError(f"TFDS dataset {label} has no split {split!r}; splits: {sorted(builder.info.splits)}") from e
    return builder, label, n


def tfds_images(name, split="train", image_key="image", label_key=None, data_dir=None, download=True,
                image_size=None, crop=None, channels=3, batch_size=32, shuffle=True, seed=None, flip=False,
                repeat=False, drop_remainder=True, fit="stretch", shuffle_buffer=10_000):
    """A TensorFlow Datasets image set as the same float [-1, 1] pipeline (``(images, labels)`` with
    ``label_key``).

    ``name``: a TFDS name ("mnist", "cifar10:3.0.2") or a ``tfds.core.DatasetBuilder``. With
    ``download=False`` the data must already be prepared in ``data_dir`` (FileNotFoundError otherwise).
    Images are converted to ``channels``, resized (TF bicubic, antialiased), randomly cropped and flipped.
    """
    if not (isinstance(name, str) and name.strip()) and not hasattr(name, "as_dataset"):
        raise TypeError(f"expected a folder path or a TFDS dataset name, got {name!r}")
    import tensorflow as tf
    import tensorflow_datasets as tfds
    _check_channels(channels)
    _check_fit(fit)
    size, crop_hw = _size2(image_size, "image_size"), _size2(crop, "crop")
    builder, label, n = _tfds_open(name, split, data_dir, download, (image_key, label_key))
    _check_batch(n, batch_size, drop_remainder, repeat)
    read_config = tfds.ReadConfig(shuffle_seed=seed)
    ds = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=read_config)
    if shuffle:
        ds = ds.shuffle(min(shuffle_buffer, max(n, 1)), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = tf.data.Dataset.zip((ds, tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)))

    def element(ex, rnd):
        img = tf.image.convert_image_dtype(_tf_channels(ex[image_key], channels, label), tf.float32)
        img = _tf_resize(img, size, fit)
        if crop_hw is not None or flip:
            img = random_crop_flip(img, crop=crop_hw, flip=flip, seed=rnd)
        img = img * 2.0 - 1.0
        if label_key is None:
            return img
        y = ex[label_key]
        return img, (tf.cast(y, tf.int32) if y.dtype.is_integer else y)

    ds = ds.map(element, num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(ds, batch_size, drop_remainder)
