"""The digit presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs (a fixed batch of
digits and its reconstruction); tests/test_presets.py checks that the two agree. The training objective's
settings are ``companions["objective"]`` (``VAE.compile`` / ``VAEGAN.compile`` keyword arguments). Trained by
``apps/vae/train.py``, measured by ``apps/vae/evaluate.py``.
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import Autoencoder, VAEGANDiscriminator
from .trainer import VAE, VAEGAN

_NET = dict(image_size=28, channels=1, latent_dim=16, filters=32, downsamplings=2, hidden=256)
_DIGITS = "MNIST digits: 4000 of shared/data/digits/mnist_5k.csv.gz, 400 per class (apps/dcgan/train.py's split)"

MNIST_AE = Preset(
    name="mnist_ae", app="vae",
    architecture=Autoencoder, config=dict(_NET, variational=False, num_classes=None), trainer=VAE,
    companions={"objective": dict(reconstruction="mse")},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_ae; apps/vae/evaluate.py",
)

MNIST_VAE = Preset(
    name="mnist_vae", app="vae", default=True,
    architecture=Autoencoder, config=dict(_NET, variational=True, num_classes=None), trainer=VAE,
    companions={"objective": dict(reconstruction="bce", beta=1.0, warmup_steps=1000)},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_vae; apps/vae/evaluate.py",
)

MNIST_CVAE = Preset(
    name="mnist_cvae", app="vae",
    architecture=Autoencoder, config=dict(_NET, variational=True, num_classes=10), trainer=VAE,
    companions={"objective": dict(reconstruction="bce", beta=1.0, warmup_steps=1000)},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_cvae; apps/vae/evaluate.py",
)

MNIST_VAEGAN = Preset(
    name="mnist_vaegan", app="vae",
    architecture=Autoencoder, config=dict(_NET, variational=True, num_classes=None), trainer=VAEGAN,
    discriminator=VAEGANDiscriminator, discriminator_config=dict(image_size=28, channels=1, filters=32),
    companions={"objective": dict(reconstruction="bce", beta=1.0, warmup_steps=1000, feature_weight=1.0,
                                  pixel_weight=0.0)},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_vaegan; apps/vae/evaluate.py",
)

PRESETS = register_presets(MNIST_AE, MNIST_VAE, MNIST_CVAE, MNIST_VAEGAN)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
