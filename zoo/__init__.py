"""zoo: a Keras 3 model zoo of GAN applications.

Importing zoo needs only Keras; TensorFlow is imported inside the data helpers that use ``tf.data``, so the
models, trainer and presets run on the torch and jax backends without TensorFlow installed.
"""
__version__ = "0.1.0"

from zoo.gan import GAN  # noqa: E402,F401
from zoo.models import Discriminator, Generator, Network  # noqa: E402,F401
from zoo.unrolled import UnrolledGAN  # noqa: E402,F401
