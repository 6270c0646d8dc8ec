"""The CycleGAN presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs; tests/test_presets.py
checks that the two agree.

* ``edges2shoes_handbags_128``: edge drawings (A) <-> photos of shoes and handbags (B), learned from unpaired
  halves of the shared edges2shoes_handbags train split (no photo's own edge map is ever seen), trained on
  128x128 crops on CPU: ResNet generators with 6 blocks (the paper's choice for 128x128), the 70x70 PatchGAN
  with instance norm; half the paper's generator width (``_GEN_128``), the paper's PatchGAN (``_PATCH_70``).
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import CycleGenerators, PatchDiscriminator
from .trainer import CycleGAN

_GEN_128 = {"n_blocks": 6, "filters": 32, "norm": "instance", "a_channels": 3, "b_channels": 3, "train_size": 128}
_PATCH_70 = {"n_layers": 3, "filters": 64, "norm": "instance", "channels": 3}
_DATA = ("shared/data/edges2shoes_handbags/train, unpaired halves: A = the edge drawings of pairs 1-500 and "
         "1001-1500, B = the photos of pairs 501-1000 and 1501-2000 (500 shoes and 500 handbags each)")

EDGES2SHOES_HANDBAGS_128 = Preset(
    name="edges2shoes_handbags_128", app="cyclegan", default=True,
    file="cyclegan/edges2shoes_handbags_128.weights.h5",
    sha256="4aa5a85ed5ac36a7ba8f5ec359cb0aa6e8b8c6471c1ac7d24a02c1cf87329126",
    architecture=CycleGenerators, config=dict(_GEN_128), trainer=CycleGAN,
    discriminator=PatchDiscriminator, discriminator_config=dict(_PATCH_70), input_size=(128, 128),
    trained_on=_DATA,
    recipe="python apps/cyclegan/train.py --preset edges2shoes_handbags_128 --steps 10000 --steps-per-epoch 500 "
           "--precision mixed_bfloat16 (TensorFlow 2.21 / Keras 3.15.1 on a 2-core CPU, batch 1, 1 h 46 min wall "
           "clock sharing the cores with test runs; 0.34-0.38 s per iteration alone); measured by "
           "apps/cyclegan/evaluate.py on the 200 val pairs",
    metrics={"l1": 0.1548, "psnr": 12.3048, "ssim": 0.5598, "cycle_l1_edges": 0.0387, "cycle_l1_photo": 0.0637},
)

PRESETS = register_presets(EDGES2SHOES_HANDBAGS_128)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
