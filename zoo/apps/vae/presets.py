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
    file="vae/mnist_ae.weights.h5",
    sha256="6fb6b5e6891787b15437858086d89a04d2c9bf66c9838d9d4fad6bdb70fa3938",
    architecture=Autoencoder, config=dict(_NET, variational=False, num_classes=None), trainer=VAE,
    companions={"objective": dict(reconstruction="mse")},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_ae (epochs 60, batch 64, seed 0); apps/vae/evaluate.py",
    metrics={"judged_digit": 0.196, "classes_covered": 9, "class_balance": 0.7845, "digits_fid": 756.869,
             "two_sample_accuracy": 0.999, "two_sample_p": 0.0, "reconstruction_psnr": 19.87,
             "reconstruction_label_kept": 0.975, "classifier_val_accuracy": 0.965},
)

MNIST_VAE = Preset(
    name="mnist_vae", app="vae", default=True,
    file="vae/mnist_vae.weights.h5",
    sha256="3cedb82ba5b435fc5f0b75d7933d333fe354d6c244130162b385f93f99a8e02e",
    architecture=Autoencoder, config=dict(_NET, variational=True, num_classes=None), trainer=VAE,
    companions={"objective": dict(reconstruction="bce", beta=1.0, warmup_steps=1000)},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_vae (epochs 60, batch 64, seed 0); apps/vae/evaluate.py",
    metrics={"judged_digit": 0.664, "classes_covered": 10, "class_balance": 0.9857, "digits_fid": 147.86,
             "two_sample_accuracy": 0.936, "two_sample_p": 0.0, "reconstruction_psnr": 19.848,
             "reconstruction_label_kept": 0.969, "classifier_val_accuracy": 0.965},
)

MNIST_CVAE = Preset(
    name="mnist_cvae", app="vae",
    file="vae/mnist_cvae.weights.h5",
    sha256="421883613bdd870af3af5275f1515fe9576a1bb87f99c9dfe5639a61b4644796",
    architecture=Autoencoder, config=dict(_NET, variational=True, num_classes=10), trainer=VAE,
    companions={"objective": dict(reconstruction="bce", beta=1.0, warmup_steps=1000)},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_cvae (epochs 60, batch 64, seed 0); apps/vae/evaluate.py",
    metrics={"judged_digit": 0.884, "classes_covered": 10, "class_balance": 0.9988, "digits_fid": 66.955,
             "conditional_accuracy": 0.91, "two_sample_accuracy": 0.927, "two_sample_p": 1.91e-319,
             "reconstruction_psnr": 19.691, "reconstruction_label_kept": 0.989, "classifier_val_accuracy": 0.965},
)

MNIST_VAEGAN = Preset(
    name="mnist_vaegan", app="vae",
    file="vae/mnist_vaegan.weights.h5",
    sha256="8a0c720b717975dcfc915ce23f8207d822a8746c3716c5dc697a06ce02e7b72a",
    architecture=Autoencoder, config=dict(_NET, variational=True, num_classes=None), trainer=VAEGAN,
    discriminator=VAEGANDiscriminator, discriminator_config=dict(image_size=28, channels=1, filters=32),
    companions={"objective": dict(reconstruction="bce", beta=1.0, warmup_steps=1000, feature_weight=1.0,
                                  pixel_weight=0.0)},
    trained_on=_DIGITS, input_size=(28, 28),
    recipe="apps/vae/train.py --preset mnist_vaegan (epochs 80, batch 64, seed 0); apps/vae/evaluate.py",
    metrics={"judged_digit": 0.716, "classes_covered": 10, "class_balance": 0.9766, "digits_fid": 89.71,
             "two_sample_accuracy": 0.705, "two_sample_p": 2.14e-75, "reconstruction_psnr": 18.659,
             "reconstruction_label_kept": 0.978, "classifier_val_accuracy": 0.965},
)

PRESETS = register_presets(MNIST_AE, MNIST_VAE, MNIST_CVAE, MNIST_VAEGAN)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
