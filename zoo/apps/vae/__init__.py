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
    preset's objective (``companions["objective"]`` updated by ``compile_kwargs``) unless ``compile=False``."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("vae", name)
    if autoencoder is None:
        autoencoder = pretrained(preset.name) if pretrained_weights else preset.build_generator()
    model = preset.trainer(autoencoder, preset.build_discriminator()) if preset.discriminator \
        else preset.trainer(autoencoder)
    if compile:
        model.compile(**{**preset.companions.get("objective", {}), **compile_kwargs})
    return model


def finetune(source, preset=None, epochs=5, learning_rate=None, batch_size=64, **data_kwargs):
    """Fine-tune a shipped preset on your own images (``dataset(source, ...)``) and return its autoencoder::

        model = vae.finetune("my/digits_folder", epochs=10)
        model.generate(16)
    """
    from zoo.checks import positive_int, positive_number

    epochs = positive_int(epochs, "epochs")
    extra = {} if learning_rate is None else {"learning_rate": positive_number(learning_rate, "learning_rate")}
    net = pretrained(preset)
    recipe, net.preset = net.preset, None  # no longer the shipped weights
    model = build(recipe, autoencoder=net, **extra)
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
    """Prior samples of each shipped preset and the default's interpolation between two of its samples."""
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
    from zoo.cli import add_image_verb, add_model_flags

    p = subparsers.add_parser("vae", help="digit autoencoders and VAEs: sample, reconstruct, interpolate")
    verbs = p.add_subparsers(dest="verb", required=True)
    s = verbs.add_parser("sample", aliases=["generate"], help="write a grid of digits decoded from N(0, I) codes")
    s.add_argument("-o", "--output", required=True, help="image file (.png, .jpg, .webp, .bmp, .tif)")
    s.add_argument("-n", type=int, default=64, help="number of images (default 64)")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--labels", type=int, nargs="+", help="class(es) for the conditional preset (default 0-9 cycled)")
    add_model_flags(s, "vae")
    s.set_defaults(func=_sample_verb)
    r = add_image_verb(verbs, "vae", "reconstruct", "images through the code and back (at 28x28, grey)",
                       _reconstruct)
    r.add_argument("--label", type=int, default=None, help="the class, for the conditional preset")
    i = verbs.add_parser("interpolate", help="decode the line between the codes of two images; writes a strip")
    i.add_argument("a", help="image at one end")
    i.add_argument("b", help="image at the other end")
    i.add_argument("-o", "--output", required=True, help="image file (.png, .jpg, .webp, .bmp, .tif)")
    i.add_argument("--steps", type=int, default=8, help="images in the strip, ends included (default 8)")
    i.add_argument("--label", type=int, default=None, help="the class, for the conditional preset")
    add_model_flags(i, "vae")
    i.set_defaults(func=_interpolate_verb)


def _sample_verb(args):
    from zoo import images
    from zoo.cli import check_output, load_model

    check_output(args.output)
    if args.n < 1:
        raise ValueError(f"-n must be >= 1, got {args.n}")
    net = load_model("vae", args)
    if args.labels and not net.num_classes:
        raise ValueError("--labels: this preset is unconditional; drop --labels or use mnist_cvae")
    labels = None
    if net.num_classes:
        labels = np.resize(np.asarray(args.labels if args.labels else np.arange(net.num_classes)), args.n)
    out = net.generate(args.n, labels=labels, seed=args.seed)
    images.save_image(args.output, images.grid(out) if len(out) > 1 else out[0])
    print(args.output)


def _reconstruct(net, args):
    return net.reconstruct(args.input, labels=args.label)


def _interpolate_verb(args):
    import os

    from zoo import images
    from zoo.cli import check_output, load_model

    check_output(args.output, args.a, args.b)
    for path in (args.a, args.b):
        if not os.path.exists(path):
            raise FileNotFoundError(f"image file not found: {path}")
    net = load_model("vae", args)
    strip = net.interpolate(args.a, args.b, steps=args.steps, labels=args.label)
    images.save_image(args.output, images.grid(strip, ncols=len(strip)))
    print(args.output)
