"""Unpaired image-to-image translation: CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks").

The app in three files:

* ``networks.py``: the ResNet generator, ``CycleGenerators`` (the two generators of a model, with
  ``translate``) and the 70x70 PatchGAN, as the paper's appendix 7.2;
* ``trainer.py``: the objective (LSGAN + cycle consistency + identity, image pools) and the trainer ``CycleGAN``;
* ``presets.py``: the presets, each declared once (``edges2shoes_handbags_128``); ``CONFIGS`` maps their names
  to the ``zoo.weights.Preset`` objects (read-only).

This module holds the verbs every app has: ``pretrained``, ``build``, ``finetune``, ``dataset``, ``demo`` and
the ``zoo cyclegan`` command::

    from zoo.apps import cyclegan
    model = cyclegan.pretrained()                      # edges <-> photos of shoes and handbags
    photo = model.translate("edges.png")               # A -> B; model.translate("photo.png", direction="BtoA")
    gan = cyclegan.build(image_size=128)               # fresh networks: gan.compile(); gan.fit(cyclegan.dataset(...))
"""
import os

from zoo import distribute
from zoo.apps.cyclegan.networks import DIRECTIONS, CycleGenerators, PatchDiscriminator, ResnetGenerator  # noqa: F401
from zoo.apps.cyclegan.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.cyclegan.trainer import CycleGAN, l1  # noqa: F401
from zoo.callbacks import fit_steps
from zoo.checks import positive_int, positive_number

# -- the common verbs --------------------------------------------------------------------------------------
Generator = CycleGenerators
Discriminator = PatchDiscriminator


def pretrained(name=None):
    """A shipped pair of generators, hash-verified, with ``translate``:
    ``cyclegan.pretrained().translate("edges.png")``."""
    from zoo import weights

    return weights.pretrained("cyclegan", name)


def build(name="edges2shoes_handbags_128", generators=None, image_size=None, **kwargs):
    """The ``CycleGAN`` trainer of preset ``name`` (a ``CONFIGS`` name or a ``zoo.weights.Preset``) with fresh
    discriminators (the preset's, one per domain) and fresh generators unless ``generators`` (a
    ``CycleGenerators``) is given. ``image_size``: the training crop side (default: the preset's). Other
    keyword arguments go to ``CycleGAN`` (``pool_size``, ``cycle_weight``, ``identity_weight``, ``seed``)."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("cyclegan", name)
    pair = generators if generators is not None else preset.build_generator()
    cfg = pair.get_config()
    d = {f"d_{n}": preset.build_discriminator(channels=cfg[f"{n}_channels"]) for n in ("a", "b")}
    size = image_size or (preset.input_size or (256, 256))[0]
    return (preset.trainer or CycleGAN)(pair, d, image_size=size, **kwargs)


def finetune(a_source, b_source, preset=None, steps=1000, learning_rate=2e-4, batch_size=1, image_size=None,
             run=None, callbacks=None, verbose="auto", distribution=None, **data_kwargs):
    """Fine-tune a shipped preset on your own two domains and return its generators::

        model = cyclegan.finetune("my/sketches", "my/photos", steps=2000)
        model.translate("sketch.png")

    ``a_source``, ``b_source``: folders of images of domain A and B (any sizes; not paired). Trains the paper's
    objective against fresh discriminators with empty pools, Adam ``learning_rate`` held constant, on
    ``image_size`` crops (default: the preset's training size), batch ``batch_size`` (the paper's 1).
    ``data_kwargs`` go to ``dataset``; ``callbacks`` and ``verbose`` to fit.
    ``run``: a folder that makes it resumable (``zoo.callbacks.fit_steps``: a checkpoint and a log row every 100
    steps; the same call with the same folder continues a killed run).
    ``distribution``: several devices or hosts (``"mirrored"``, ``"multiworker"``, ``"jax"`` or a
    ``zoo.distribute.Setup``; the batch size is then the global batch).
    """
    steps = positive_int(steps, "steps")  # before anything loads
    if learning_rate is not None:
        learning_rate = positive_number(learning_rate, "learning_rate")
    setup = distribute.get(distribution)
    with setup.scope():  # build and compile on its devices
        pair = pretrained(preset)
        recipe, pair.preset = pair.preset, None  # no longer the shipped weights
        size = image_size or recipe.config.get("train_size") or 256
        gan = build(recipe, generators=pair, image_size=size)
        gan.compile(learning_rate=learning_rate)
    data = dataset(a_source, b_source, crop_size=size, batch_size=batch_size, repeat=True, **data_kwargs)
    fit_steps(gan, data, steps, run=setup.run_folder(run), callbacks=callbacks, verbose=verbose)
    return pair


def dataset(a_source, b_source=None, crop_size=256, load_size=None, batch_size=1, flip=True, **kwargs):
    """``(a, b)`` training batches of two unpaired domains in [-1, 1], ``(batch_size, crop_size, crop_size, C)``
    each.

    ``a_source``, ``b_source``: two folders of images (any sizes, any numbers of images; ``zoo.data.unpaired``:
    an epoch is as many pairs as the larger folder, the smaller cycles), or ``a_source`` a TFDS name of the
    ``cycle_gan`` family (``"cycle_gan/horse2zebra"``: splits ``trainA`` / ``trainB``; ``b_source`` None;
    ``data_dir``, ``download`` and ``split`` (``"train"`` or ``"test"``) in ``kwargs``).

    The paper's augmentation: each image resized to ``load_size`` x ``load_size`` (default ``crop_size`` x 286 /
    256, the paper's 286 for 256), a random ``crop_size`` crop and a random mirroring, drawn for each domain
    independently. Other keyword arguments (``shuffle``, ``seed``, ``repeat``, ``channels``, ``fit``) go to the
    ``zoo.data`` function.
    """
    from zoo import data

    load_size = load_size or round(crop_size * 286 / 256)
    if load_size < crop_size:
        raise ValueError(f"load_size ({load_size}) must be >= crop_size ({crop_size})")
    size = {"image_size": load_size, "crop": crop_size, "flip": flip}
    if b_source is None:
        if isinstance(a_source, (str, os.PathLike)) and os.path.isdir(a_source):
            raise TypeError(f"dataset needs two folders (a_source, b_source) or a TFDS cycle_gan name; got only "
                            f"the folder {a_source}")
        return _tfds_pairs(a_source, batch_size=batch_size, **size, **kwargs)
    for domain, folder in (("A", a_source), ("B", b_source)):
        n = len(data.list_images(folder))
        if n < batch_size:
            raise ValueError(f"domain {domain} ({folder}) has {n} image(s), fewer than batch_size {batch_size}")
    return data.unpaired(a_source, b_source, batch_size=batch_size, **size, **kwargs)


def _tfds_pairs(name, split="train", batch_size=1, repeat=False, seed=None, **kwargs):
    """A TFDS ``cycle_gan/*`` set as ``(a, b)`` batches: splits ``<split>A`` and ``<split>B`` zipped, each with
    its own crops (an epoch ends with the shorter domain unless ``repeat``)."""
    import tensorflow as tf

    from zoo import data

    a, b = (data.tfds_images(name, split=f"{split}{d}", batch_size=batch_size, repeat=repeat,
                             seed=None if seed is None else seed + k, **kwargs) for k, d in enumerate("AB"))
    return tf.data.Dataset.zip((a, b))


def demo(outdir):
    """The default preset both ways on shipped images never trained on: three val edge drawings -> photos, and
    the photos back -> edges (A | G(A) | F(G(A)) per row)."""
    import numpy as np

    from zoo import images

    model = pretrained()
    rows = []
    for name in ("shoe", "handbag", "boot"):
        edges = np.asarray(images.load_image(images.asset(f"edges_{name}.png")).convert("RGB"))
        photo = model.translate(edges, "AtoB")
        rows += [edges, photo, model.translate(photo, "BtoA")]
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "edges2photo2edges.png")
    images.save_png(path, images.grid(np.stack(rows), ncols=3))
    return [(f"unpaired edges <-> photo, {model.preset.name}: edges | G(edges) | F(G(edges))", path)]


# -- command line ----------------------------------------------------------------------------------------------
def add_commands(subparsers):
    """``zoo cyclegan``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.cyclegan.commands import add_commands as add

    add(subparsers)
