"""Generator and Discriminator base classes every app builds on.

A zoo network is a *functional* Keras model built in ``__init__`` from plain constructor arguments, which it
keeps as its config. That one rule gives, on every backend: ``get_config``/``from_config``, ``clone()`` (the
trainer's EMA copy), ``.keras`` files that load with ``safe_mode=True``, and weight files that can be
checked against the architecture before anything is loaded.

Subclass pattern::

    @keras.saving.register_keras_serializable("zoo")
    class MyGenerator(Generator):
        def __init__(self, latent_dim=100, width=64, **kwargs):
            z = keras.Input((latent_dim,))
            x = ...
            super().__init__(z, x, config=dict(latent_dim=latent_dim, width=width), **kwargs)
"""
import keras
from keras import ops


class Network(keras.Model):
    """Functional model whose config is its constructor arguments."""

    def __init__(self, inputs, outputs, config=None, name=None, **kwargs):
        super().__init__(inputs, outputs, name=name, **kwargs)
        self._zoo_config = dict(config or {})

    def get_config(self):
        return dict(self._zoo_config, name=self.name)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        """A new network of the same architecture holding a copy of this one's weights."""
        twin = self.__class__.from_config(self.get_config())
        twin.set_weights(self.get_weights())
        return twin


class Generator(Network):
    """Maps a latent vector (and, for conditional models, a condition) to an image in [-1, 1].

    ``latent_dim`` is ``None`` for generators driven by an image alone (pix2pix, SR, inpainting).
    ``num_classes`` is set for class-conditional generators, whose inputs are ``[z, labels]``.
    """

    @property
    def latent_dim(self):
        return self._zoo_config.get("latent_dim")

    @property
    def num_classes(self):
        return self._zoo_config.get("num_classes")

    def sample(self, n, labels=None, seed=None, training=False):
        """``n`` images from fresh latent vectors (float, [-1, 1], channels-last)."""
        if self.latent_dim is None:
            raise TypeError(f"{type(self).__name__} is not driven by a latent vector; call it on its inputs")
        z = keras.random.normal((n, self.latent_dim), seed=seed)
        if self.num_classes:
            if labels is None:
                raise ValueError(f"{type(self).__name__} is class-conditional: pass labels (n integers)")
            labels = ops.convert_to_tensor(labels, "int32")
            if tuple(labels.shape) != (n,):
                raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
            return self([z, labels], training=training)
        return self(z, training=training)


class Discriminator(Network):
    """Maps an image (and optional condition) to real/fake *logits*: one per image or a map of patches."""
