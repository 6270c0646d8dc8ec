"""The ProGAN presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs; tests/test_presets.py
checks that the two agree.

* ``celeba_64``: 64x64 faces, trained on the 10,000 CelebA faces of ``shared/data/faces_celeba/train`` on a
  2-core CPU: the paper's networks with feature maps capped at 128 (``fmap_base=1024, fmap_max=128``: 128 maps up
  to 16x16, 64 at 32x32, 32 at 64x64) and a 128-d latent vector.
* ``celeba_128``: 128x128 faces, declared (no weights yet: ``pretrained("celeba_128")`` says so; train it with
  ``apps/progan/train.py --size 128``): ``fmap_base=2048, fmap_max=128``: 128 maps up to 32x32 (``celeba_64``: 64 at
  32x32), 64 at 64x64 (``celeba_64``: 32), 32 at 128x128, and a 128-d latent vector: 1,437,554 generator and
  1,437,601 critic parameters. The maps are doubled where the detail is made; the low levels keep ``celeba_64``'s
  128, which hold most of the parameters but little of the compute, so the resumable checkpoint (G, D, the EMA copy,
  both optimizers' moments) is 52 MB (with 256 maps below 32x32 it was 165 MB, over what a commit should carry).
  2.6 GFLOP per generator forward (``celeba_64``: 0.65), about 0.6 TFLOP per training step of 16 at 128x128 (~1.5 s
  on the 2-core CPU in bfloat16 at the celeba_64 run's rate); trained with ADA (``--augment ada``) against D's
  overfitting on 9,000 faces.
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

_NET_128 = {"resolution": 128, "fmap_base": 2048, "fmap_max": 128, "channels": 3}

CELEBA_128 = Preset(
    name="celeba_128", app="progan",
    architecture=ProGANGenerator, config=dict(_NET_128, latent_dim=128), trainer=ProGAN,
    discriminator=ProGANDiscriminator, discriminator_config=dict(_NET_128), input_size=None,
    trained_on=("shared/data/faces_celeba/train: the first 9,000 of the 10,000 CelebA faces in name order (the "
                "last 1,000 held out for the two-sample test), centred face crops, 128x128 JPEG, mirrored at "
                "random; CelebA is for non-commercial research only"),
    recipe="python apps/progan/train.py --size 128 --augment ada --hold-out 1000 --precision mixed_bfloat16",
)

PRESETS = register_presets(CELEBA_64, CELEBA_128)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
