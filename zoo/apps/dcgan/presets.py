"""The digit presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs; tests/test_presets.py
checks that the two agree. Both train with ``zoo.GAN`` (non-saturating loss, Adam 2e-4 / 0.5, EMA of G).
"""
from types import MappingProxyType

from zoo.gan import GAN
from zoo.weights import Preset, register_presets

from .networks import DCGANDiscriminator, DCGANGenerator

_G28 = dict(latent_dim=100, image_size=28, channels=1, filters=64, upsamplings=2)
_D28 = dict(image_size=28, channels=1, filters=32, downsamplings=2, dropout=0.3)
_DIGITS = "MNIST digits: 4000 of shared/data/digits/mnist_5k.csv.gz, 400 per class (train.split)"

MNIST_CDCGAN = Preset(
    name="mnist_cdcgan", app="dcgan", default=True,
    file="dcgan/mnist_cdcgan.weights.h5",
    sha256="6c83676162427bdab4ea2707b351f267f43383813f88a327f55f8e51e3bfec23",
    architecture=DCGANGenerator, config=dict(_G28, num_classes=10), trainer=GAN,
    discriminator=DCGANDiscriminator, discriminator_config=dict(_D28, num_classes=10),
    trained_on=_DIGITS,
    recipe="apps/dcgan/train.py --preset mnist_cdcgan (epochs 240, batch 64, EMA 0.999, seed 0); "
           "apps/dcgan/evaluate.py",
    metrics={"classifier_val_accuracy": 0.965, "conditional_accuracy": 0.927, "digits_fid": 29.119},
)

MNIST_DCGAN = Preset(
    name="mnist_dcgan", app="dcgan",
    file="dcgan/mnist_dcgan.weights.h5",
    sha256="388832022d0ee994072329d202bcb37f0a531519c460bb775bc54b0a19fcec1f",
    architecture=DCGANGenerator, config=dict(_G28, num_classes=None), trainer=GAN,
    discriminator=DCGANDiscriminator, discriminator_config=dict(_D28),
    trained_on=_DIGITS,
    recipe="apps/dcgan/train.py --preset mnist_dcgan (epochs 60, batch 64, EMA 0.999, seed 0); apps/dcgan/evaluate.py",
    metrics={"classifier_val_accuracy": 0.965, "digits_fid": 124.529},
)

PRESETS = register_presets(MNIST_CDCGAN, MNIST_DCGAN)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
