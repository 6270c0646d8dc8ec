"""Faces of people who do not exist: the progressive GAN (Karras et al. 2018, "Progressive Growing of GANs for
Improved Quality, Stability, and Variation").

The app in three files:

* ``networks.py``: the generator and discriminator of the paper's Table 2 (equalized learning rate, pixel norm,
  minibatch standard deviation), built at their final resolution and grown by ``grow(x, level, alpha)``;
* ``trainer.py``: ``ProGAN`` (WGAN-GP + drift, EMA generator, fade-in alpha as training state) and ``Schedule``
  (images per phase, minibatch and learning rate per resolution), walked through by ``ProGAN.fit``;
* ``presets.py``: the presets (``celeba_64``); ``CONFIGS`` maps their names to the ``zoo.weights.Preset`` objects.

This module holds the verbs every app has: ``pretrained``, ``build``, ``finetune``, ``dataset``, ``demo`` and
the ``zoo progan`` command::

    from zoo.apps import progan
    model = progan.pretrained()                    # the EMA generator of celeba_64
    faces = model.generate(16, seed=0)             # uint8 (16, 64, 64, 3)
    walk = model.interpolate(0, 1, steps=8)        # a latent walk from seed 0's face to seed 1's
    gan = progan.build(resolution=128)             # fresh networks, grown by fit(..., schedule=...)
"""
import os
import warnings

from zoo.apps.progan.networks import ProGANDiscriminator, ProGANGenerator, features, sides  # noqa: F401
from zoo.apps.progan.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.progan.trainer import Phase, ProGAN, Schedule  # noqa: F401
from zoo.callbacks import fit_steps
from zoo.checks import positive_int, positive_number

# -- the common verbs --------------------------------------------------------------------------------------
Generator = ProGANGenerator
Discriminator = ProGANDiscriminator


def pretrained(name=None):
    """A shipped face generator (the EMA generator of the run), hash-verified:
    ``progan.pretrained().generate(16, seed=0)`` -> uint8 ``(16, 64, 64, 3)``."""
    from zoo import weights

    return weights.pretrained("progan", name)


def build(name="celeba_64", resolution=None, generator=None, **kwargs):
    """The ``ProGAN`` trainer of preset ``name`` (a ``CONFIGS`` name or a ``zoo.weights.Preset``) with fresh
    networks of its architecture, at ``resolution`` (default: the preset's), or around ``generator``. Other
    keyword arguments go to ``ProGAN`` (``ema_decay``, ``drift_weight``, ``seed``)."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("progan", name)
    res = resolution or (generator.resolution if generator is not None else preset.config["resolution"])
    g = generator if generator is not None else preset.build_generator(resolution=res)
    return (preset.trainer or ProGAN)(g, preset.build_discriminator(resolution=res), **kwargs)


def dataset(source, resolution=64, batch_size=16, flip=True, repeat=True, shuffle=True, seed=None, **kwargs):
    """Training images for ``ProGAN.fit``: float ``(batch_size, resolution, resolution, 3)`` in [-1, 1].

    ``source``: a folder of images (any sizes: each resized so its shorter side is ``resolution`` and
    centre-cropped square; images smaller than ``resolution`` are upscaled, with a warning saying how many), or a
    TFDS name: ``"celeb_a"`` (178x218 photos, centre-cropped) or ``"celeb_a_hq/128"`` (its manual download in
    ``data_dir``), with ``data_dir``/``download`` in ``kwargs``. ``flip``: mirror half the images at random (the
    paper's augmentation for CelebA-HQ).
    """
    from zoo import data
    from zoo.apps.progan.networks import check_resolution

    check_resolution(resolution)
    batch_size = positive_int(batch_size, "batch_size")
    common = dict(image_size=resolution, fit="cover", batch_size=batch_size, flip=flip, repeat=repeat,
                  shuffle=shuffle, seed=seed)
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        files = data.list_images(source)
        if len(files) < batch_size:
            raise ValueError(f"{source} has {len(files)} image(s), fewer than batch_size {batch_size}")
        small = _smaller_than(files, resolution)
        if small:
            warnings.warn(f"{small} of {len(files)} images in {source} are smaller than {resolution}x{resolution} "
                          f"and will be upscaled (blurrier than the rest)", stacklevel=2)
        return data.image_folder(source, **common, **kwargs)
    if isinstance(source, (str, os.PathLike)) and (os.sep in str(source) or os.path.exists(source)):
        raise FileNotFoundError(f"{source} is not a folder of images")
    return data.tfds_images(os.fspath(source) if isinstance(source, os.PathLike) else source, **common, **kwargs)


def _smaller_than(files, side):
    from PIL import Image

    n = 0
    for f in files:
        try:
            with Image.open(f) as img:
                n += min(img.size) < side
        except OSError as e:
            raise ValueError(f"{f} is not a readable image ({e})") from e
    return n


def finetune(source, preset=None, images=20_000, batch_size=16, learning_rate=5e-4, run=None, callbacks=None,
             verbose="auto", **data_kwargs):
    """Fine-tune a shipped preset on your own faces and return the new (EMA) generator::

        model = progan.finetune("my/faces", images=50_000)
        model.generate(16, seed=0)

    The grown networks train at their full resolution on ``source`` (a folder or TFDS name, ``dataset``)
    for ``images`` real images: the preset's generator against a fresh critic, WGAN-GP + drift, Adam
    ``learning_rate`` (0, 0.99); the EMA generator (decay 0.999) starts from the preset's weights.
    ``run``: a folder that makes it resumable (``zoo.callbacks.fit_steps``: a checkpoint and a log row every 100
    steps; the same call with the same folder continues a killed run).
    """
    import math

    images = positive_int(images, "images")
    learning_rate = positive_number(learning_rate, "learning_rate")
    batch_size = positive_int(batch_size, "batch_size")
    g = pretrained(preset)
    recipe, g.preset = g.preset, None  # no longer the shipped weights
    gan = build(recipe, generator=g)
    gan.compile(learning_rate=learning_rate)
    data = dataset(source, resolution=g.resolution, batch_size=batch_size, **data_kwargs)
    fit_steps(gan, data, math.ceil(images / batch_size), run=run, callbacks=callbacks, verbose=verbose)
    return gan.sampling_generator()


# -- command line and demo -----------------------------------------------------------------------------------
def demo(outdir):
    """A grid of 32 faces of the default preset (seed 0) and a latent walk between two of them."""
    from zoo import images

    model = pretrained()
    os.makedirs(outdir, exist_ok=True)
    grid = os.path.join(outdir, "faces.png")
    images.save_png(grid, images.grid(model.generate(32, seed=0), ncols=8))
    walk = os.path.join(outdir, "latent_walk.png")
    images.save_png(walk, images.grid(model.interpolate(0, 1, steps=8), ncols=8))
    return [(f"{model.preset.name}: 32 generated faces (seed 0); none of these people exists", grid),
            (f"{model.preset.name}: a latent walk from seed 0's first face to seed 1's", walk)]


def add_commands(subparsers):
    """``zoo progan``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.progan.commands import add_commands as add

    add(subparsers)
