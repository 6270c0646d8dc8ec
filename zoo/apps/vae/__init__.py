"""Autoencoders beside the GANs: the convolutional autoencoder, the VAE (Kingma & Welling 2014), the conditional
VAE and the VAE-GAN (Larsen et al. 2016), on digits.

The lectures' path to GANs: an autoencoder's codes leave gaps (random codes decode to noise); the VAE's KL term
makes the latent space continuous and complete, at the price of blurry samples; the GAN is sharp; the VAE-GAN
measures the VAE's reconstructions in a discriminator's features.

* ``networks.py``: ``Encoder``, ``Decoder``, ``Autoencoder`` (both halves, the verbs), ``VAEGANDiscriminator``;
* ``trainer.py``: ``VAE`` (autoencoder, VAE, conditional VAE) and ``VAEGAN``, both ``zoo.GAN`` subclasses;
* ``presets.py``: ``mnist_vae`` (the default), ``mnist_ae``, ``mnist_cvae``, ``mnist_vaegan``; ``CONFIGS`` maps
  their names to the ``zoo.weights.Preset`` objects (read-only).

This module holds the verbs: ``pretrained`` (``generate``, ``reconstruct``, ``interpolate``, ``encode``,
``decode``), ``build``, ``finetune``, ``dataset``, ``demo`` and the ``zoo vae`` command.
"""
import numpy as np

from zoo import distribute
from zoo.apps.vae.networks import Autoencoder, Decoder, Encoder, VAEGANDiscriminator  # noqa: F401
from zoo.apps.vae.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.vae.trainer import VAE, VAEGAN  # noqa: F401

# -- the common verbs --------------------------------------------------------------------------------------
Generator = Autoencoder
Discriminator = VAEGANDiscriminator


def pretrained(name=None):
    """A shipped digit autoencoder (default ``mnist_vae``; also ``mnist_ae``, ``mnist_cvae``, ``mnist_vaegan``),
    hash-verified.

    ``vae.pretrained().generate(16, seed=0)`` -> uint8 ``(16, 28, 28, 1)`` digits decoded from N(0, I) codes;
    ``.reconstruct(images)``, ``.interpolate(a, b, steps=8)``, ``.encode(images)``, ``.decode(codes)``.
    """
    from zoo import weights

    return weights.pretrained("vae", name)


def build(name="mnist_vae", pretrained_weights=True, autoencoder=None, compile=True, **compile_kwargs):
    """The preset's trainer (``VAE`` or ``VAEGAN``, with a fresh discriminator for the VAE-GAN) around its
    autoencoder (``autoencoder``, else the shipped weights unless ``pretrained_weights=False``), compiled with the
    preset's objective (``companions["objective"]`` updated by ``compile_kwargs``) unless ``compile=False``.
    Around the shipped weights the KL warm-up is off (``warmup_steps=0``): they are trained already."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("vae", name)
    objective = dict(preset.companions.get("objective", {}))
    if autoencoder is None:
        autoencoder = pretrained(preset.name) if pretrained_weights else preset.build_generator()
        if pretrained_weights:
            objective["warmup_steps"] = 0  # trained weights: the KL term at full weight from the first step
    model = preset.trainer(autoencoder, preset.build_discriminator()) if preset.discriminator \
        else preset.trainer(autoencoder)
    if compile:
        model.compile(**{**objective, **compile_kwargs})
    return model


def finetune(source, preset=None, epochs=5, learning_rate=None, batch_size=64, distribution=None, **data_kwargs):
    """Fine-tune a shipped preset on your own images (``dataset(source, ...)``) and return its autoencoder::

        model = vae.finetune("my/digits_folder", epochs=10)
        model.generate(16)

    ``distribution``: several devices or hosts (``"mirrored"``, ``"multiworker"``, ``"jax"`` or a
    ``zoo.distribute.Setup``; the batch size is then the global batch).
    """
    from zoo.checks import positive_int, positive_number

    epochs = positive_int(epochs, "epochs")
    extra = {} if learning_rate is None else {"learning_rate": positive_number(learning_rate, "learning_rate")}
    setup = distribute.get(distribution)
    with setup.scope():  # build and compile on its devices
        net = pretrained(preset)
        recipe, net.preset = net.preset, None  # no longer the shipped weights
        model = build(recipe, autoencoder=net, warmup_steps=0, **extra)  # trained weights: no KL warm-up
    data_kwargs.setdefault("labels", bool(net.num_classes))
    model.fit(dataset(source, batch_size=batch_size, **data_kwargs), epochs=epochs, verbose=0)
    return net


def dataset(source, batch_size=64, image_size=28, labels=False, shuffle=True, seed=None, **kwargs):
    """Training data for ``VAE.fit``: images (or ``(images, labels)``) in [-1, 1], grey, ``image_size``, from a
    digits CSV, an image folder or a TFDS name (``zoo.apps.dcgan.dataset``)."""
    from zoo.apps import dcgan

    return dcgan.dataset(source, batch_size=batch_size, image_size=image_size, labels=labels, shuffle=shuffle,
                         seed=seed, **kwargs)


# -- command line and demo -----------------------------------------------------------------------------------
def demo(outdir):
    """A 10 x 10 grid of prior samples from each shipped preset (the conditional one: column c asks for digit c)."""
    import os

    from zoo import images, weights

    os.makedirs(outdir, exist_ok=True)
    items = []
    for name in weights.presets("vae"):
        net = pretrained(name)
        labels = np.tile(np.arange(10), 10) if net.num_classes else None
        path = os.path.join(outdir, f"{name}.png")
        images.save_png(path, images.grid(net.generate(100, labels=labels, seed=0), ncols=10))
        what = "column c asks for digit c" if labels is not None else "decoded N(0, I) codes"
        items.append((f"{name}: samples from the prior ({what})", path))
    return items


def add_commands(subparsers):
    """``zoo vae``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.vae.commands import add_commands as add

    add(subparsers)
