"""Free-form image inpainting: DeepFill v2 (Yu et al. 2019, "Free-Form Image Inpainting with Gated Convolution",
with the contextual attention of Yu et al. 2018).

The app in five files:

* ``networks.py``: gated convolution, contextual attention, the coarse-to-fine generator (with ``inpaint``) and
  the SN-PatchGAN, as the papers' architecture sections and the reference code;
* ``trainer.py``: the objective (SN-PatchGAN hinge + L1 on both stages) and the trainer ``Inpainting``;
* ``masks.py``: the free-form stroke and box masks of the paper's training, evaluation masks, user masks;
* ``inference.py``: ``inpaint`` on images and masks as people have them;
* ``presets.py``: the presets, each declared once (``celeba_128``, ``photos_128``); ``CONFIGS`` maps their names
  to the ``zoo.weights.Preset`` objects (read-only).

This module holds the verbs every app has: ``pretrained``, ``build``, ``finetune``, ``dataset``, ``demo`` and
the ``zoo inpainting`` command::

    from zoo.apps import inpainting
    model = inpainting.pretrained()                       # photos_128, the general preset
    filled = model.inpaint("photo.png", "holes.png")      # non-zero mask pixels are the hole
    faces = inpainting.pretrained("celeba_128")           # centred 128x128 face crops
"""
import os

import numpy as np

from zoo import distribute
from zoo.apps.inpainting import masks  # noqa: F401
from zoo.apps.inpainting.networks import (ContextualAttention, GatedConv2D, InpaintGenerator,  # noqa: F401
                                          SNPatchDiscriminator)
from zoo.apps.inpainting.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.inpainting.trainer import Inpainting  # noqa: F401
from zoo.callbacks import fit_steps
from zoo.checks import positive_int, positive_number

# -- the common verbs --------------------------------------------------------------------------------------
Generator = InpaintGenerator
Discriminator = SNPatchDiscriminator


def pretrained(name=None):
    """A shipped inpainting generator, hash-verified, with ``inpaint``: ``inpainting.pretrained()`` is the general
    preset ``photos_128``; ``inpainting.pretrained("celeba_128").inpaint("face.png", "mask.png")`` the face one."""
    from zoo import weights

    return weights.pretrained("inpainting", name)


def build(name="celeba_128", generator=None, adversarial=True, discriminator_config=None, **kwargs):
    """The ``Inpainting`` trainer of preset ``name`` (a ``CONFIGS`` name or a ``zoo.weights.Preset``) with a fresh
    SN-PatchGAN (none when ``adversarial=False``: L1 alone; ``discriminator_config`` overrides its arguments, e.g.
    ``{"antialias": True}``) and a fresh generator unless ``generator`` is given. Other keyword arguments go to
    ``Inpainting`` (``l1_weight``, ``ema_decay``, ``seed``)."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("inpainting", name)
    g = generator if generator is not None else preset.build_generator()
    d = preset.build_discriminator(**{**(discriminator_config or {}), "channels": g.channels + 1}) \
        if adversarial else None
    return (preset.trainer or Inpainting)(g, d, **kwargs)


def dataset(source, image_size=128, masks="free_form+box", batch_size=16, shuffle=True, repeat=False, seed=None,
            flip=True, limit=None, **tfds_kwargs):
    """``(image, mask)`` training batches: images float ``(batch_size, image_size, image_size, 3)`` in [-1, 1],
    masks float ``(batch_size, image_size, image_size, 1)`` in {-1, 1} (1 = hole; ``Inpainting`` holes where
    mask > 0).

    ``source``: a folder of images (searched recursively, any sizes) or a list of folders. Each image: a random
    ``image_size`` square crop (images whose shorter side is below ``image_size`` are first resized up to it),
    mirrored at random when ``flip``. ``masks``: ``"free_form+box"`` (the reference's training masks: a random box
    united with free-form strokes), ``"free_form"``, ``"box"``, ``"mixed"`` (half ``"free_form+box"``, half
    ``"free_form"``), or a folder of mask images (non-zero = hole, one
    drawn at random per image, resized to it). ``limit``: use only the first ``limit`` files (in sorted order:
    the rest can be held out). A new mask is drawn for every example, from the pipeline's seeded stream.

    ``source`` may also be a TFDS name (``"places365_small"``, ``"celeb_a"``, ...; ``split``, ``data_dir``,
    ``download`` in ``tfds_kwargs``): its images resized to cover ``image_size`` and centre-cut, mirrored when
    ``flip``, with masks drawn per batch from a generator seeded by ``seed``.
    """
    from zoo import data
    from zoo.data import _examples, _np_crop_flip, _resize  # the generic pieces the folder pipelines share

    from .masks import MaskFolder, box, free_form, mixed_mask, training_mask

    size = positive_int(image_size, "image_size", minimum=8)
    batch_size = positive_int(batch_size, "batch_size")
    kinds = {"free_form+box": training_mask, "free_form": free_form, "box": box, "mixed": mixed_mask}
    if isinstance(masks, (str, os.PathLike)) and str(masks) in kinds:
        draw = kinds[str(masks)]
    elif isinstance(masks, (str, os.PathLike)) and os.path.isdir(masks):
        draw = MaskFolder(masks)
    else:
        raise ValueError(f"masks must be one of {sorted(kinds)} or a folder of mask images, got {masks!r}")
    if isinstance(source, str) and not os.path.isdir(source) and os.sep not in source and not os.path.exists(source):
        return _tfds(source, size, draw, batch_size, shuffle, repeat, seed, flip, tfds_kwargs)
    if tfds_kwargs:
        raise TypeError(f"unexpected arguments for a folder dataset: {sorted(tfds_kwargs)}")
    if source is None:
        raise TypeError("source must be a folder of images, a list of folders or a TFDS name, got None")
    folders = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    files = []
    for folder in folders:
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{folder} is not a folder of images")
        files += data.list_images(folder)
    if limit is not None:
        files = files[:positive_int(limit, "limit")]
    if len(files) < batch_size:
        raise ValueError(f"{', '.join(map(str, folders))}: {len(files)} image(s), fewer than batch_size {batch_size}")

    read = data.skipping_reader(len(files), lambda j: data.read_image(files[j], 3))

    def example(i, rng):
        a = read(i)
        h, w = a.shape[:2]
        if min(h, w) < size:
            s = size / min(h, w)
            a = _resize(a, (max(size, round(h * s)), max(size, round(w * s))), "stretch")
        a, = _np_crop_flip([a], (size, size), flip, None, rng)
        return [a, (draw(size, size, rng) * 255).astype(np.uint8)[..., None]]

    shape = (size, size)
    return _examples(len(files), example, (3, 1), [shape, shape], batch_size, shuffle, seed, repeat, True)


def _tfds(name, size, draw, batch_size, shuffle, repeat, seed, flip, kwargs):
    """A TFDS image set as ``(image, mask)`` batches: ``zoo.data.tfds_images`` plus a mask per image, drawn with
    NumPy in the pipeline, -1/1 like the folder pipelines'."""
    import tensorflow as tf

    from zoo import data

    images = data.tfds_images(name, image_size=size, fit="cover", batch_size=batch_size, shuffle=shuffle, seed=seed,
                              flip=flip, repeat=repeat, **kwargs)
    rng = np.random.default_rng(seed)

    def draw_batch(n):
        return np.stack([draw(size, size, rng) for _ in range(int(n))])[..., None].astype(np.float32) * 2 - 1

    def add_masks(x):
        m = tf.numpy_function(draw_batch, [tf.shape(x)[0]], tf.float32, stateful=True)
        m.set_shape([x.shape[0], size, size, 1])
        return x, m

    return images.map(add_masks)


def finetune(source, preset=None, steps=1000, adversarial=True, learning_rate=1e-4, batch_size=8, masks=None,
             run=None, callbacks=None, verbose="auto", distribution=None, **data_kwargs):
    """Fine-tune a shipped preset on your own images and return the generator::

        model = inpainting.finetune("my/photos", steps=2000)
        model.inpaint("photo.png", "mask.png")

    ``source``: a folder of images (``dataset``: random crops of the preset's training size, mirrored), with the
    reference's training masks drawn on the fly, or ``masks`` a folder of your own mask images. Trains the
    paper's objective against a fresh SN-PatchGAN (``adversarial=False``: the L1 terms alone), Adam
    ``learning_rate`` (0.5, 0.999). ``data_kwargs`` go to ``dataset``; ``callbacks`` and ``verbose`` to fit.
    ``run``: a folder that makes it resumable (``zoo.callbacks.fit_steps``: a checkpoint and a log row every 100
    steps; the same call with the same folder continues a killed run).
    ``distribution``: several devices or hosts (``"mirrored"``, ``"multiworker"``, ``"jax"`` or a
    ``zoo.distribute.Setup``; the batch size is then the global batch).
    """
    steps = positive_int(steps, "steps")  # before anything loads
    learning_rate = positive_number(learning_rate, "learning_rate")
    setup = distribute.get(distribution)
    with setup.scope():  # build and compile on its devices
        g = pretrained(preset)
        recipe, g.preset = g.preset, None  # no longer the shipped weights
        gan = build(recipe, generator=g, adversarial=adversarial)
        gan.compile(learning_rate=learning_rate)
    size = (recipe.input_size or (128, 128))[0]
    data_kwargs.setdefault("image_size", size)
    ds = dataset(source, masks=masks or "free_form+box", batch_size=batch_size, repeat=True, **data_kwargs)
    fit_steps(gan, ds, steps, run=setup.run_folder(run), callbacks=callbacks, verbose=verbose)
    return gan.generator


# -- command line and demo -----------------------------------------------------------------------------------
def demo(outdir):
    """The face preset on a shipped face never trained on, with a drawn hole: original | with the hole |
    filled."""
    from zoo import images

    model = pretrained("celeba_128")
    face = np.asarray(images.load_image(images.asset("face_heldout.png")).convert("RGB"))
    hole = np.asarray(images.load_image(images.asset("face_heldout_mask.png")).convert("L")) > 127
    filled = np.asarray(model.inpaint(face, hole))
    shown = np.where(hole[..., None], 255, face).astype(np.uint8)
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "face_fill.png")
    images.save_png(path, images.grid(np.stack([face, shown, filled]), ncols=3))
    return [(f"inpainting, {model.preset.name}: a held-out face | the hole (white) | filled", path)]


def add_commands(subparsers):
    """``zoo inpainting``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.inpainting.commands import add_commands as add

    add(subparsers)
