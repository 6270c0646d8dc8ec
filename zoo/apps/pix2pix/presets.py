"""The pix2pix presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs; tests/test_presets.py
checks that the two agree.

* ``edges2shoes_handbags``: unet_256 with 32 base filters (half the paper's width: 13,608,259 parameters, a
  54 MB file instead of 218 MB, for 2,000 training pairs) and the 70x70 PatchGAN with 64, batch norm, edges ->
  photo. Its ``translate`` normalises each image by its own statistics (``test_stats="image"``, see
  ``networks.py``).
* ``edges2shoes_handbags_l1``: the same U-Net trained on L1 alone (the paper's ablation; no discriminator).
  Measured in apps/pix2pix/MODEL_CARD.md, not shipped.
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import PatchDiscriminator, UNetGenerator
from .trainer import Pix2Pix

_UNET_256 = {"depth": 8, "filters": 32, "norm": "batch", "dropout": 0.5, "in_channels": 3, "out_channels": 3,
             "test_stats": "image"}
_PATCH_70 = {"n_layers": 3, "filters": 64, "norm": "batch", "channels": 6}
_DATA = "shared/data/edges2shoes_handbags/train: 2000 pairs (1000 shoes, 1000 handbags), edges -> photo"

EDGES2SHOES_HANDBAGS = Preset(
    name="edges2shoes_handbags", app="pix2pix", default=True,
    file="pix2pix/edges2shoes_handbags.weights.h5",
    sha256="dd4e741fc4b92c6d87e49740b4bdaf0bd8e36a6f8305c6f3870265e89cc25ae7",
    architecture=UNetGenerator, config=dict(_UNET_256), trainer=Pix2Pix,
    discriminator=PatchDiscriminator, discriminator_config=dict(_PATCH_70), input_size=(256, 256),
    trained_on=_DATA,
    recipe="KERAS_BACKEND=torch python apps/pix2pix/train.py --preset edges2shoes_handbags --steps 7500 "
           "--steps-per-epoch 250 --batch-size 4 --val-images 0 --snapshots (one NVIDIA H100, Keras 3.15.1 on torch, "
           "127 ms/step while sharing the GPU with three other runs; the step-7500 generator, its values rounded to "
           "float16 for transfer); measured by apps/pix2pix/evaluate.py on the 200 val pairs",
    metrics={"l1": 0.12, "psnr": 14.4278, "sharpness": 0.2938, "ssim": 0.636},
)

EDGES2SHOES_HANDBAGS_L1 = Preset(
    name="edges2shoes_handbags_l1", app="pix2pix", architecture=UNetGenerator, config=dict(_UNET_256),
    trainer=Pix2Pix, input_size=(256, 256), trained_on=_DATA,
)

PRESETS = register_presets(EDGES2SHOES_HANDBAGS, EDGES2SHOES_HANDBAGS_L1)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
