"""The basics the field starts from, on digits.

* ``MLPGenerator`` / ``MLPDiscriminator``: the original GAN (Goodfellow et al. 2014): fully connected nets,
  trained with ``GAN(..., d_steps=k)`` (k discriminator steps per generator step) and ``loss="minimax"`` or the
  paper's recommended non-saturating generator loss.
* ``DCGANGenerator`` / ``DCGANDiscriminator`` (Radford et al. 2016): no pooling, strided (transposed)
  convolutions, batch norm in both nets except G's output and D's input, ReLU in G with tanh output,
  LeakyReLU(0.2) in D, weights from N(0, 0.02), Adam(2e-4, beta_1=0.5).
* Conditional GAN (Mirza & Osindero 2014): pass ``num_classes``; G takes ``[z, label]`` and D takes
  ``[image, label]``; the label enters each net through a learned embedding.
* ``minibatch_features`` in the discriminators adds minibatch discrimination (Salimans et al. 2016).

Presets (``pretrained()``): ``mnist_dcgan`` (unconditional) and ``mnist_cdcgan`` (class-conditional), trained
on digits by ``apps/dcgan/train.py``; ``generate()`` returns uint8 images.
"""
import keras
import numpy as np
from keras import layers

from zoo.layers import MinibatchDiscrimination
from zoo.models import Discriminator, Generator

def INIT():
    """N(0, 0.02), the DCGAN initialisation; a fresh instance per layer so seeding works."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def _halvings(image_size):
    """How many times ``image_size`` halves evenly while staying >= 4 (64 -> 4, 32 -> 3, 28 -> 2, 8 -> 1)."""
    n = 0
    while image_size % 2 == 0 and image_size // 2 >= 4:
        image_size //= 2
        n += 1
    return n


def _label_map(labels, num_classes, size, channels_out, name):
    """Embed integer labels and spread them as ``channels_out`` feature maps of ``size`` x ``size``."""
    e = layers.Embedding(num_classes, 50, name=f"{name}_embedding")(labels)
    e = layers.Dense(size * size * channels_out, kernel_initializer=INIT(), name=f"{name}_dense")(e)
    return layers.Reshape((size, size, channels_out))(e)


@keras.saving.register_keras_serializable("zoo")
class DCGANGenerator(Generator):
    """z (and label) -> image, as the DCGAN reference code (pytorch/examples/dcgan) builds it.

    ``upsamplings`` defaults to the halvings of ``image_size`` down to >= 4 (64: 4, 28: 2).
    A bias-free projection of z to ``image_size / 2**upsamplings`` squared x ``filters * 2**(upsamplings-1)``
    channels (the reference's 4x4 transposed convolution on a 1x1 input), then ``upsamplings`` 4x4 stride-2
    transposed convolutions halving the channels, the last one to ``channels`` with tanh; BN + ReLU between.
    At 64x64x3 with ``filters=64``, ``latent_dim=100`` it has the reference's 3,576,704 parameters.
    """

    def __init__(self, latent_dim=100, image_size=64, channels=3, filters=64, upsamplings=None,
                 num_classes=None, **kwargs):
        upsamplings = _halvings(image_size) if upsamplings is None else upsamplings
        base = image_size // 2**upsamplings
        if upsamplings < 1 or base * 2**upsamplings != image_size:
            raise ValueError(f"image_size {image_size} must halve evenly at least once (8, 16, 28, 32, 64, ...) "
                             f"and be divisible by 2**upsamplings ({2**upsamplings})")
        z = keras.Input((latent_dim,), name="z")
        inputs = z
        width = filters * 2 ** (upsamplings - 1)
        x = layers.Dense(base * base * width, use_bias=False, kernel_initializer=INIT())(z)
        x = layers.Reshape((base, base, width))(x)
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [z, label]
            x = layers.Concatenate()([x, _label_map(label, num_classes, base, 1, "g_label")])
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x))
        for i in range(upsamplings - 1):
            width //= 2
            x = layers.Conv2DTranspose(width, 4, 2, "same", use_bias=False, kernel_initializer=INIT())(x)
            x = layers.ReLU()(layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x))
        x = layers.Conv2DTranspose(channels, 4, 2, "same", use_bias=False, kernel_initializer=INIT())(x)
        image = layers.Activation("tanh", dtype="float32")(x)
        super().__init__(inputs, image, config=dict(
            latent_dim=latent_dim, image_size=image_size, channels=channels, filters=filters,
            upsamplings=upsamplings, num_classes=num_classes), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class DCGANDiscriminator(Discriminator):
    """image (and label) -> one logit, as the DCGAN reference code: ``downsamplings`` bias-free 4x4 stride-2
    convolutions doubling the channels from ``filters`` (BN on all but the first, LeakyReLU 0.2), then a
    bias-free dense logit (the reference's final 4x4 valid convolution). At 64x64x3 with ``filters=64``:
    the reference's 2,765,568 parameters. ``dropout`` (no parameters) is an addition that helps on small sets.
    """

    def __init__(self, image_size=64, channels=3, filters=64, downsamplings=None, num_classes=None,
                 minibatch_features=0, dropout=0.0, **kwargs):
        downsamplings = _halvings(image_size) if downsamplings is None else downsamplings
        image = keras.Input((image_size, image_size, channels), name="image")
        inputs, x = image, image
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [image, label]
            x = layers.Concatenate()([x, _label_map(label, num_classes, image_size, 1, "d_label")])
        width = filters
        for i in range(downsamplings):
            x = layers.Conv2D(width, 4, 2, "same", use_bias=False, kernel_initializer=INIT())(x)
            if i > 0:
                x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
            x = layers.LeakyReLU(0.2)(x)
            if dropout:
                x = layers.Dropout(dropout)(x)
            width *= 2
        x = layers.Flatten()(x)
        if minibatch_features:
            x = MinibatchDiscrimination(minibatch_features, 8)(x)
        logit = layers.Dense(1, use_bias=False, kernel_initializer=INIT(), dtype="float32")(x)
        super().__init__(inputs, logit, config=dict(
            image_size=image_size, channels=channels, filters=filters, downsamplings=downsamplings,
            num_classes=num_classes, minibatch_features=minibatch_features, dropout=dropout), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class MLPGenerator(Generator):
    """The original GAN's generator: z -> fully connected ReLU layers -> tanh output of ``output_shape``."""

    def __init__(self, latent_dim=100, output_shape=(28, 28, 1), units=(256, 512, 1024),
                 output_activation="tanh", **kwargs):
        z = keras.Input((latent_dim,), name="z")
        x = z
        for u in units:
            x = layers.Dense(u, activation="relu")(x)
        x = layers.Dense(int(np.prod(output_shape)), activation=output_activation, dtype="float32")(x)
        x = layers.Reshape(tuple(output_shape))(x)
        super().__init__(z, x, config=dict(latent_dim=latent_dim, output_shape=tuple(output_shape),
                                           units=tuple(units), output_activation=output_activation), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class MLPDiscriminator(Discriminator):
    """The original GAN's discriminator: fully connected LeakyReLU layers (dropout) -> one logit.
    ``minibatch_features`` > 0 adds minibatch discrimination before the logit."""

    def __init__(self, input_shape=(28, 28, 1), units=(1024, 512, 256), dropout=0.3, minibatch_features=0,
                 **kwargs):
        x_in = keras.Input(tuple(input_shape), name="x")
        x = layers.Flatten()(x_in)
        for u in units:
            x = layers.LeakyReLU(0.2)(layers.Dense(u)(x))
            if dropout:
                x = layers.Dropout(dropout)(x)
        if minibatch_features:
            x = MinibatchDiscrimination(minibatch_features, 5)(x)
        logit = layers.Dense(1, dtype="float32")(x)
        super().__init__(x_in, logit, config=dict(input_shape=tuple(input_shape), units=tuple(units),
                                                 dropout=dropout, minibatch_features=minibatch_features),
                         **kwargs)


# Architectures of the shipped presets: (generator config, discriminator config).
CONFIGS = {
    "mnist_dcgan": (dict(latent_dim=100, image_size=28, channels=1, filters=64, upsamplings=2),
                    dict(image_size=28, channels=1, filters=32, downsamplings=2, dropout=0.3)),
    "mnist_cdcgan": (dict(latent_dim=100, image_size=28, channels=1, filters=64, upsamplings=2, num_classes=10),
                     dict(image_size=28, channels=1, filters=32, downsamplings=2, dropout=0.3, num_classes=10)),
}


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
    """A ``GAN`` ready to fine-tune: the preset's generator (with its shipped weights unless
    ``pretrained_generator=False``) and a fresh discriminator of the recipe's architecture."""
    from zoo import GAN

    g_cfg, d_cfg = CONFIGS[name]
    g = pretrained(name) if pretrained_generator else DCGANGenerator(**g_cfg)
    return GAN(g, DCGANDiscriminator(**d_cfg), ema_decay=ema_decay, **kwargs)


def dataset(source, batch_size=64, image_size=28, labels=True, shuffle=True, seed=None, **kwargs):
    """Training data for ``GAN.fit``: ``(images, labels)`` (or images) in [-1, 1], grey, ``image_size``.

    ``source``: a digits CSV (``.csv``/``.csv.gz``, 784 pixels + label per row), an image folder (one
    sub-folder per class when ``labels``), or a TFDS name such as ``"mnist"`` (downloads on first use).
    """
    import os

    from zoo import data

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
    p = subparsers.add_parser("dcgan", help="digit GANs: generate samples from a preset")
    verbs = p.add_subparsers(dest="verb", required=True)
    g = verbs.add_parser("generate", help="write a grid (or single image) of generated digits")
    g.add_argument("-o", "--output", required=True, help="PNG file")
    g.add_argument("--preset", default=None, help="mnist_cdcgan (default) or mnist_dcgan")
    g.add_argument("-n", type=int, default=64)
    g.add_argument("--labels", type=int, nargs="+", help="class(es) for the conditional preset (default 0-9 cycled)")
    g.add_argument("--seed", type=int, default=None)
    g.set_defaults(func=_generate)


def _generate(args):
    from zoo import images

    gen = pretrained(args.preset)
    labels = None
    if gen.num_classes:
        labels = np.resize(np.asarray(args.labels if args.labels else np.arange(gen.num_classes)), args.n)
    out = gen.generate(args.n, labels=labels, seed=args.seed)
    images.save_png(args.output, images.grid(out) if args.n > 1 else out[0])
    print(args.output)
