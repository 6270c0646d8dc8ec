"""Paired image-to-image translation: pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks").

The app in three files:

* ``networks.py``: the U-Net generator (with ``translate``) and the PatchGAN discriminator, as the paper's
  architecture section and appendix;
* ``trainer.py``: the objective (cGAN + lambda L1) and the trainer ``Pix2Pix``;
* ``presets.py``: the presets, each declared once (``edges2shoes_handbags``, ``edges2shoes_handbags_l1``);
  ``CONFIGS`` maps their names to the ``zoo.weights.Preset`` objects (read-only).

This module holds the verbs every app has: ``pretrained``, ``build``, ``finetune``, ``dataset``, ``demo`` and
the ``zoo pix2pix`` command::

    from zoo.apps import pix2pix
    model = pix2pix.pretrained()               # edges2shoes_handbags; model.translate("edges.png")
"""
import dataclasses

import numpy as np

from zoo import distribute
from zoo.apps.pix2pix.networks import NORMS, PatchDiscriminator, UNetGenerator  # noqa: F401
from zoo.apps.pix2pix.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.pix2pix.trainer import Pix2Pix, l1_loss  # noqa: F401
from zoo.callbacks import fit_steps
from zoo.checks import positive_int, positive_number

# -- the common verbs --------------------------------------------------------------------------------------
Generator = UNetGenerator
Discriminator = PatchDiscriminator


def pretrained(name=None):
    """A shipped pix2pix generator, hash-verified, with ``translate``:
    ``pix2pix.pretrained().translate("edges.png")``."""
    from zoo import weights

    return weights.pretrained("pix2pix", name)


def build(name="edges2shoes_handbags", generator=None, **kwargs):
    """The ``Pix2Pix`` trainer of preset ``name`` (a ``CONFIGS`` name or a ``zoo.weights.Preset``) with a fresh
    discriminator (the preset's, for the generator's input + output channels; none for the L1 ablation) and a
    fresh generator unless ``generator`` is given; keyword arguments go to ``Pix2Pix`` (``seed``,
    ``ema_decay``, ...). To fine-tune a shipped preset, ``finetune``."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("pix2pix", name)
    g = generator if generator is not None else preset.build_generator()
    d = preset.build_discriminator(channels=g.in_channels + g.out_channels)
    return (preset.trainer or Pix2Pix)(g, d, **kwargs)


def finetune(source, preset=None, steps=1000, adversarial=True, learning_rate=2e-4, direction="BtoA",
             batch_size=4, run=None, callbacks=None, verbose="auto", distribution=None, **data_kwargs):
    """Fine-tune a shipped preset on your own pairs and return the generator::

        model = pix2pix.finetune("my/AB_images", steps=2000)     # side-by-side AB files, edges on the right
        model.translate("drawing.png")

    ``source`` as for ``dataset`` (a folder of AB images or a pair of folders), with the paper's jitter.
    ``adversarial=True`` trains cGAN + 100 L1 against a fresh 70x70 PatchGAN (the preset's recipe, Adam
    ``learning_rate``); ``False`` trains on L1 alone. ``data_kwargs`` go to ``dataset``; ``callbacks`` and
    ``verbose`` to fit. The returned generator keeps the preset's ``test_stats``.
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
        g = pretrained(preset)
        recipe, g.preset = g.preset, None  # no longer the shipped weights
        if adversarial and recipe.discriminator is None:
            raise ValueError(f"preset {recipe.key} declares no discriminator: finetune(..., adversarial=False)")
        if not adversarial:
            recipe = dataclasses.replace(recipe, discriminator=None, discriminator_config=None)
        gan = build(recipe, generator=g)
        gan.compile(learning_rate=learning_rate)
    data = dataset(source, direction=direction, batch_size=batch_size, repeat=True, **data_kwargs)
    fit_steps(gan, data, steps, run=setup.run_folder(run), callbacks=callbacks, verbose=verbose)
    return gan.generator


def dataset(source, direction="BtoA", jitter=True, batch_size=1, load_size=286, crop_size=256, **kwargs):
    """``(input, target)`` training pairs in [-1, 1], ``(batch_size, crop_size, crop_size, channels)`` each.

    ``source``: a folder of the pix2pix release's side-by-side "AB" images (A the left half, B the right;
    ``zoo.data.side_by_side``), or a pair ``(a_dir, b_dir)`` of folders whose files match by name
    (``zoo.data.paired_folders``). ``direction``: ``"AtoB"`` (input A, target B) or ``"BtoA"``. In
    edges2shoes / edges2handbags the photo is on the left and the edges on the right, so edges -> photo is
    ``"BtoA"`` (the default).

    ``jitter=True`` is the paper's random jitter (section 6.2): both images resized to ``load_size`` (286), one
    random ``crop_size`` (256) window and one random mirroring, the same for input and target. ``jitter=False``
    resizes to ``crop_size`` only (evaluation). Other keyword arguments (``shuffle``, ``seed``, ``repeat``,
    ``channels``, ``drop_remainder``, ``fit``) go to the ``zoo.data`` function.
    """
    import os

    from zoo import data

    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f'direction must be "AtoB" or "BtoA", got {direction!r}')
    if jitter and load_size < crop_size:
        raise ValueError(f"load_size ({load_size}) must be >= crop_size ({crop_size}): images are resized to "
                         f"load_size, then cropped")
    size = {"image_size": load_size, "crop": crop_size, "flip": True} if jitter else {"image_size": crop_size}
    if isinstance(source, (str, os.PathLike)):
        return data.side_by_side(source, direction=direction, batch_size=batch_size, **size, **kwargs)
    if isinstance(source, (tuple, list)) and len(source) == 2:
        a_dir, b_dir = source if direction == "AtoB" else source[::-1]
        return data.paired_folders(a_dir, b_dir, batch_size=batch_size, **size, **kwargs)
    raise TypeError(f"source must be a folder of side-by-side AB images or a pair (a_dir, b_dir) of folders, got "
                    f"{source!r}")


def demo(outdir):
    """The default preset on three shipped edge drawings (val edges of a shoe, a handbag and a boot, never
    trained on): edges | photo, one row each."""
    import os

    from zoo import images

    model = pretrained()
    rows = []
    for name in ("shoe", "handbag", "boot"):
        edges = images.asset(f"edges_{name}.png")
        rows += [np.asarray(images.load_image(edges).convert("RGB")), np.asarray(model.translate(edges))]
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "edges2photo.png")
    images.save_png(path, images.grid(np.stack(rows), ncols=2))
    return [(f"edges -> photo, {model.preset.name}: edge drawing | generated photo", path)]


# -- command line ----------------------------------------------------------------------------------------------
def add_commands(subparsers):
    """``zoo pix2pix``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.pix2pix.commands import add_commands as add

    add(subparsers)
