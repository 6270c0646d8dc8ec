"""Latent-variable models, as the lectures set them up before GANs.

* Autoencoder: an encoder maps an image to a low-dimensional code, a decoder maps the code back; trained on the
  reconstruction error alone, it is deterministic, and nothing asks its codes to fill the space: random codes
  decode to noise (incompleteness), and classes sit in clusters with gaps between them.
* Variational autoencoder (Kingma & Welling 2014): the encoder gives a mean and a log-variance, the decoder sees a
  sample ``z = mean + sigma * eps`` (the reparameterisation trick, ``zoo.losses.reparameterize``) and the loss adds
  ``KL(q(z|x) || N(0, I))`` (``zoo.losses.gaussian_kl``): nearby codes decode to similar images (continuity) and
  any code drawn from N(0, I) decodes to something meaningful (completeness).
* Conditional VAE (Sohn et al. 2015): encoder and decoder both see the class; the cGAN's counterpart.
* VAE-GAN (Larsen et al. 2016): the VAE's decoder is a GAN's generator, its reconstruction error measured in
  the discriminator's features (``VAEGANDiscriminator`` returns ``[logit, features]``).

``Autoencoder`` holds an ``Encoder`` and a ``Decoder`` (sub-networks named ``encoder`` and ``decoder``); called on
images (and labels) it returns the reconstruction through the code's mean, so it is deterministic at inference.
The trainers are in ``trainer.py``, the presets in ``presets.py``, the verbs in ``__init__.py``.

The digit networks (28 x 28 grey, ``filters=32``, ``downsamplings=2``): encoder 4x4 stride-2 convolutions
32 -> 64 channels (ReLU), a 256-unit dense layer, then the mean (and log-variance) of ``latent_dim``; the decoder
mirrors it with 4x4 stride-2 transposed convolutions and a tanh output in [-1, 1]. No batch norm: the networks
behave the same in training and inference.
"""
import keras
import numpy as np
from keras import layers, ops

from zoo.layers import LeakyReLU
from zoo.models import Discriminator, Generator, Network, config_value, unit_graph


def _check_size(image_size, downsamplings):
    base = image_size // 2**downsamplings
    if downsamplings < 1 or base < 1 or base * 2**downsamplings != image_size:
        raise ValueError(f"image_size {image_size} must be divisible by 2**downsamplings ({2**downsamplings})")
    return base


@keras.saving.register_keras_serializable("zoo")

def _image_input(image_size, channels, num_classes):
    """``(inputs, x)``: an image input, and with ``num_classes`` a label input too, embedded as one more
    image-sized channel of ``x`` (the conditional encoder's and discriminator's way of seeing the class)."""
    image = keras.Input((image_size, image_size, channels), name="image")
    if not num_classes:
        return image, image
    label = keras.Input((), dtype="int32", name="label")
    m = layers.Embedding(num_classes, image_size * image_size, name="label_map")(label)
    return [image, label], layers.Concatenate()([image, layers.Reshape((image_size, image_size, 1))(m)])

class Encoder(Network):
    """image (and label) -> the code's ``mean`` (and ``log_var`` when ``variational``), each ``(N, latent_dim)``."""

    def __init__(self, image_size=28, channels=1, latent_dim=16, filters=32, downsamplings=2, hidden=256,
                 variational=True, num_classes=None, **kwargs):
        _check_size(image_size, downsamplings)
        inputs, x = _image_input(image_size, channels, num_classes)
        for i in range(downsamplings):
            x = layers.Conv2D(filters * 2**i, 4, 2, "same", activation="relu", name=f"conv{i}")(x)
        x = layers.Dense(hidden, activation="relu", name="hidden")(layers.Flatten()(x))
        mean = layers.Dense(latent_dim, name="mean", dtype="float32")(x)
        outputs = mean
        if variational:
            outputs = [mean, layers.Dense(latent_dim, name="log_var", dtype="float32")(x)]
        super().__init__(inputs, outputs, config=dict(
            image_size=image_size, channels=channels, latent_dim=latent_dim, filters=filters,
            downsamplings=downsamplings, hidden=hidden, variational=variational, num_classes=num_classes), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class Decoder(Generator):
    """z (and label) -> image in [-1, 1]: the encoder mirrored (a ``Generator``: ``generate``, ``export``)."""

    def __init__(self, image_size=28, channels=1, latent_dim=16, filters=32, downsamplings=2, hidden=256,
                 num_classes=None, **kwargs):
        base = _check_size(image_size, downsamplings)
        z = keras.Input((latent_dim,), name="z")
        inputs, x = z, z
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [z, label]
            x = layers.Concatenate()([z, layers.Embedding(num_classes, 16, name="label_embedding")(label)])
        width = filters * 2 ** (downsamplings - 1)
        x = layers.Dense(hidden, activation="relu", name="hidden")(x)
        x = layers.Dense(base * base * width, activation="relu", name="project")(x)
        x = layers.Reshape((base, base, width))(x)
        for i in range(downsamplings - 1):
            width //= 2
            x = layers.Conv2DTranspose(width, 4, 2, "same", activation="relu", name=f"deconv{i}")(x)
        x = layers.Conv2DTranspose(channels, 4, 2, "same", name="to_image")(x)
        image = layers.Activation("tanh", dtype="float32")(x)
        super().__init__(inputs, image, config=dict(
            image_size=image_size, channels=channels, latent_dim=latent_dim, filters=filters,
            downsamplings=downsamplings, hidden=hidden, num_classes=num_classes), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class Autoencoder(Generator):
    """Encoder + decoder, called as image (and label) -> reconstruction through the code's mean.

    ``variational=False``: the plain autoencoder (the code is the encoder's output); ``True``: the VAE's
    (``encoder`` returns ``[mean, log_var]``). ``num_classes``: conditional (inputs ``[image, label]``; decoder
    ``[z, label]``). The verbs (``generate``, ``encode``, ``decode``, ``reconstruct``, ``interpolate``) are
    NumPy in, NumPy (uint8 images) out; ``generate`` decodes codes drawn from N(0, I).
    """

    variational = config_value("variational", "Whether the encoder gives a mean and a log-variance (a VAE).")

    def __init__(self, image_size=28, channels=1, latent_dim=16, filters=32, downsamplings=2, hidden=256,
                 variational=True, num_classes=None, **kwargs):
        shared = dict(image_size=image_size, channels=channels, latent_dim=latent_dim, filters=filters,
                      downsamplings=downsamplings, hidden=hidden, num_classes=num_classes)
        encoder = Encoder(variational=variational, name="encoder", **shared)
        decoder = Decoder(name="decoder", **shared)
        image = keras.Input((image_size, image_size, channels), name="image")
        if num_classes:
            label = keras.Input((), dtype="int32", name="label")
            inputs = [image, label]
        else:
            inputs = image
        code = encoder(inputs)
        mean = code[0] if variational else code
        out = decoder([mean, label] if num_classes else mean)
        super().__init__(inputs, out, config=dict(shared, variational=variational), **kwargs)

    @property
    def encoder(self):
        return self.get_layer("encoder")

    @property
    def decoder(self):
        return self.get_layer("decoder")

    @property
    def image_size(self):
        return self._zoo_config["image_size"]

    # -- the verbs ------------------------------------------------------------------------------------
    def sample(self, n, labels=None, seed=None, training=False):
        """``n`` decoded N(0, I) codes as float tensors in [-1, 1] (``Generator.sample`` on the decoder)."""
        return self.decoder.sample(n, labels=labels, seed=seed, training=training)

    def from_latents(self, z, labels=None, batch_size=256):
        """uint8 images ``(n, H, W, C)`` decoded from codes ``z`` (``(n, latent_dim)``)."""
        return self.decoder.from_latents(z, labels, batch_size)

    def decode(self, z, labels=None, batch_size=256):
        """uint8 images for codes ``z``: NumPy ``(n, latent_dim)`` or one code ``(latent_dim,)``."""
        z = np.asarray(z, dtype="float32")
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"codes must have shape (n, {self.latent_dim}) or ({self.latent_dim},), got {z.shape}")
        if not np.isfinite(z).all():
            raise ValueError("codes contain NaN or inf")
        return self.from_latents(z, self._labels(labels, len(z)), batch_size)

    def encode(self, x, labels=None, batch_size=256):
        """The codes' means ``(n, latent_dim)`` (float32 NumPy) of images as people have them (a path, PIL image,
        uint8 or [0, 1] float array, single or batch; RGB becomes grey; resized to the network's size)."""
        batch, _ = self._images(x)
        return self._encode(batch, self._labels(labels, len(batch)), batch_size)

    def reconstruct(self, x, labels=None):
        """Images through the code's mean and back; returns the kind it was given (``zoo.images.restore``), at
        the network's size (inputs of another size are resized to it)."""
        from zoo import images

        batch, spec = self._images(x)
        y = self.predict_on_batch(self._model_inputs(batch, self._labels(labels, len(batch))))
        return images.restore(np.clip(np.asarray(y), -1.0, 1.0), spec)

    def interpolate(self, a, b, steps=8, labels=None):
        """uint8 ``(steps, H, W, C)``: the decoder along the straight line between the codes of images ``a``
        and ``b`` (each one image as ``encode`` takes it), ends included."""
        from zoo.checks import positive_int

        steps = positive_int(steps, "steps", minimum=2)
        za, zb = self.encode(a, labels), self.encode(b, labels)
        if len(za) != 1 or len(zb) != 1:
            raise ValueError(f"interpolate takes one image at each end, got {len(za)} and {len(zb)}")
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        return self.decode((1 - t) * za + t * zb, None if labels is None else np.resize(np.asarray(labels), steps))

    def export_graph(self):
        """The decoder as ``zoo.export`` writes generators: ``z`` (and ``label``) -> image in [0, 1]."""
        return unit_graph(self.decoder)

    # -- helpers --------------------------------------------------------------------------------------
    def _images(self, x):
        from zoo import images

        batch, spec = images.as_batch(x, channels=self._zoo_config["channels"])
        if batch.shape[1:3] != (self.image_size, self.image_size):
            batch = np.asarray(images.resize(batch, (self.image_size, self.image_size)), dtype="float32")
        return batch, spec

    def _labels(self, labels, n):
        if not self.num_classes:
            if labels is not None:
                raise ValueError(f"this {type(self).__name__} is not class-conditional; labels must be None")
            return None
        if labels is None:
            raise ValueError(f"this {type(self).__name__} is class-conditional: pass labels (one class or {n})")
        labels = np.asarray(labels)
        labels = np.broadcast_to(labels, (n,)) if labels.ndim == 0 else labels
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) \
                or labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must be one class or {n} classes, integers in [0, {self.num_classes}), "
                             f"got {labels!r}")
        return labels.astype("int32")

    def _model_inputs(self, batch, labels):
        return batch if labels is None else [batch, labels]

    def _encode(self, batch, labels, batch_size=256):
        out = []
        for i in range(0, len(batch), batch_size):
            chunk = self._model_inputs(batch[i:i + batch_size], None if labels is None else labels[i:i + batch_size])
            code = self.encoder(chunk, training=False)
            out.append(ops.convert_to_numpy(code[0] if self.variational else code))
        return np.concatenate(out).astype("float32")


@keras.saving.register_keras_serializable("zoo")
class VAEGANDiscriminator(Discriminator):
    """image (and label) -> ``[logit, features]`` (Larsen et al. 2016): 4x4 stride-2 convolutions from
    ``filters`` channels, LeakyReLU 0.2, then a 3x3 convolution of ``4 * filters`` whose activations are
    ``Dis_l``, the features the VAE-GAN measures reconstructions in, and a dense logit. No batch norm, so the
    features do not depend on the batch."""

    def __init__(self, image_size=28, channels=1, filters=32, downsamplings=2, num_classes=None, **kwargs):
        _check_size(image_size, downsamplings)
        inputs, x = _image_input(image_size, channels, num_classes)
        for i in range(downsamplings):
            x = LeakyReLU(0.2)(layers.Conv2D(filters * 2**i, 4, 2, "same", name=f"conv{i}")(x))
        features = LeakyReLU(0.2, name="features")(layers.Conv2D(filters * 4, 3, 1, "same", name="conv_l")(x))
        logit = layers.Dense(1, dtype="float32", name="logit")(layers.Flatten()(features))
        features = layers.Activation("linear", dtype="float32", name="features_f32")(features)
        super().__init__(inputs, [logit, features], config=dict(
            image_size=image_size, channels=channels, filters=filters, downsamplings=downsamplings,
            num_classes=num_classes), **kwargs)
