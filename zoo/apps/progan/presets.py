"""The ProGAN presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs; tests/test_presets.py
checks that the two agree.

* ``celeba_64``: 64x64 faces, trained on the 10,000 CelebA faces of ``shared/data/faces_celeba/train`` on a
  2-core CPU: the paper's networks with feature maps capped at 128 (``fmap_base=1024, fmap_max=128``: 128 maps up
  to 16x16, 64 at 32x32, 32 at 64x64) and a 128-d latent vector.
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import ProGANDiscriminator, ProGANGenerator
from .trainer import ProGAN

_NET_64 = {"resolution": 64, "fmap_base": 1024, "fmap_max": 128, "channels": 3}
_DATA = ("shared/data/faces_celeba/train: 10,000 CelebA faces (photos of the CelebA test partition), centred face "
         "crops, 128x128 JPEG resized to 64x64, mirrored at random; CelebA is for non-commercial research only")

CELEBA_64 = Preset(
    name="celeba_64", app="progan", default=True,
    file="progan/celeba_64.weights.h5",
    sha256="84edb8f70e446a7dbbbfcef637a1cfb662d9b2d729fb6a9b4e7846996d9923f6",
    architecture=ProGANGenerator, config=dict(_NET_64, latent_dim=128), trainer=ProGAN,
    discriminator=ProGANDiscriminator, discriminator_config=dict(_NET_64), input_size=None,
    trained_on=_DATA,
    recipe="python apps/progan/train.py --preset celeba_64 --precision mixed_bfloat16, stopped after epoch 64 (16,000 "
           "steps; the same schedule as --final 127000): 4x4 32,000 images, 8x8 64,000, 16x16 56,000, 32x32 52,000, "
           "64x64 152,000 (25,000 fading in); TensorFlow 2.21 / Keras 3.15.1 on a 2-core CPU, 1 h 38 min; measured "
           "by apps/progan/evaluate.py",
    metrics={"kid_face_x1000": 0.371, "fid_face": 0.0662, "face_detection_rate": 0.993,
             "kid_face_x1000_real_vs_real": -0.004},
)

PRESETS = register_presets(CELEBA_64)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
