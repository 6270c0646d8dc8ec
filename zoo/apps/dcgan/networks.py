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

These are the networks; the digit presets that use them are in ``presets.py``, the verbs in ``__init__.py``.
"""
import keras
import numpy as np
from keras import layers

from zoo.layers import LeakyReLU, MinibatchDiscrimination
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
            x = LeakyReLU(0.2)(x)
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
            x = LeakyReLU(0.2)(layers.Dense(u)(x))
            if dropout:
                x = layers.Dropout(dropout)(x)
        if minibatch_features:
            x = MinibatchDiscrimination(minibatch_features, 5)(x)
        logit = layers.Dense(1, dtype="float32")(x)
        super().__init__(x_in, logit, config=dict(input_shape=tuple(input_shape), units=tuple(units),
                                                 dropout=dropout, minibatch_features=minibatch_features),
                         **kwargs)
