"""The basics the field starts from, on digits: the original GAN (Goodfellow et al. 2014), DCGAN (Radford et
al. 2016), the conditional GAN (Mirza & Osindero 2014) and minibatch discrimination (Salimans et al. 2016).

* ``networks.py``: ``MLPGenerator``/``MLPDiscriminator``, ``DCGANGenerator``/``DCGANDiscriminator`` (trained by
  ``zoo.GAN`` itself: these papers need no trainer of their own);
* ``presets.py``: ``mnist_dcgan`` (unconditional) and ``mnist_cdcgan`` (class-conditional, the default), trained
  on digits by ``apps/dcgan/train.py``, each declared once; ``CONFIGS`` maps their names to the
  ``zoo.weights.Preset`` objects (read-only).

This module holds the verbs: ``pretrained`` (``generate()`` returns uint8 images), ``build``, ``dataset``,
``demo`` and the ``zoo dcgan`` command.
"""
import numpy as np

from zoo.apps.dcgan.networks import (  # noqa: F401
    INIT, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator)
from zoo.apps.dcgan.presets import CONFIGS, PRESETS  # noqa: F401

# -- the common verbs --------------------------------------------------------------------------------------
Generator = DCGANGenerator
Discriminator = DCGANDiscriminator


def pretrained(name=None):
    """A shipped digit generator (default ``mnist_cdcgan``; also ``mnist_dcgan``), hash-verified.

    ``pretrained("mnist_cdcgan").generate(16, labels=7, seed=0)`` -> uint8 ``(16, 28, 28, 1)`` sevens.
    """
    from zoo import weights

    return weights.pretrained("dcgan", name)


def build(name="mnist_cdcgan", pretrained_generator=True, ema_decay=0.999, **kwargs):
    """A ``GAN`` ready to fine-tune: preset ``name``'s generator (with its shipped weights unless
    ``pretrained_generator=False``) and a fresh discriminator of the preset's ``discriminator_config``."""
    from zoo import GAN, weights

    preset = name if isinstance(name, weights.Preset) else weights.get("dcgan", name)
    g = pretrained(preset.name) if pretrained_generator else preset.build_generator()
    return (preset.trainer or GAN)(g, preset.build_discriminator(), ema_decay=ema_decay, **kwargs)


def dataset(source, batch_size=64, image_size=28, labels=True, shuffle=True, seed=None, **kwargs):
    """Training data for ``GAN.fit``: ``(images, labels)`` (or images) in [-1, 1], grey, ``image_size``.

    ``source``: a digits CSV (``.csv``/``.csv.gz``, 784 pixels + label per row), an image folder (one
    sub-folder per class when ``labels``), or a TFDS name such as ``"mnist"`` (downloads on first use).
    """
    import os

    from zoo import data

    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a digits CSV, a folder of images or a TFDS name, got {source!r}")
    source = str(source)
    if source.endswith((".csv", ".csv.gz")):
        import tensorflow as tf

        x, y = data.load_mnist_csv(source)
        x = x.astype("float32") / 127.5 - 1.0
        if image_size != 28:
            x = tf.image.resize(x, (image_size, image_size)).numpy()
        ds = tf.data.Dataset.from_tensor_slices((x, y) if labels else x)
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed)
        return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    if os.path.isdir(source):
        return data.image_folder(source, image_size=image_size, channels=1, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, labels=labels, **kwargs)
    if os.sep in source or os.path.exists(source):
        raise FileNotFoundError(f"{source} is not a folder of images or a digits CSV")
    return data.tfds_images(source, image_size=image_size, channels=1, batch_size=batch_size, shuffle=shuffle,
                            seed=seed, label_key="label" if labels else None, **kwargs)


# -- command line and demo -----------------------------------------------------------------------------------
def demo(outdir):
    """Sample grids of both presets: conditional digits 0-9 by column, unconditional digits."""
    import os

    from zoo import images

    os.makedirs(outdir, exist_ok=True)
    items = []
    cond = pretrained("mnist_cdcgan")
    path = os.path.join(outdir, "mnist_cdcgan.png")
    images.save_png(path, images.grid(cond.generate(100, labels=np.tile(np.arange(10), 10), seed=0), ncols=10))
    items.append(("mnist_cdcgan: class-conditional, column c asks for digit c", path))
    path = os.path.join(outdir, "mnist_dcgan.png")
    images.save_png(path, images.grid(pretrained("mnist_dcgan").generate(100, seed=0), ncols=10))
    items.append(("mnist_dcgan: unconditional samples", path))
    return items


def add_commands(subparsers):
    """``zoo dcgan``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.dcgan.commands import add_commands as add

    add(subparsers)
