"""zoo: a Keras 3 model zoo of GAN applications.

Importing zoo needs only Keras; TensorFlow is imported inside the data helpers that use ``tf.data``, so the
models, trainer and presets run on the torch and jax backends without TensorFlow installed. ``import zoo`` itself
imports nothing heavy: ``zoo.GAN`` and the network bases load Keras on first use (the ``zoo`` command starts
without it).
"""
__version__ = "0.1.0"

from zoo import quiet as _quiet  # noqa: E402

_quiet.install()  # TensorFlow's C++ start-up lines hidden (ZOO_TF_LOGS=1 shows them; zoo.quiet)

_LAZY = {"GAN": "zoo.gan", "Discriminator": "zoo.models", "Generator": "zoo.models", "Network": "zoo.models",
         "UnrolledGAN": "zoo.unrolled"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
