"""The inpainting presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs; tests/test_presets.py
checks that the two agree.

Every preset is DeepFill v2 at half the reference's width (``width=24``: 1,017,954 generator parameters, a
quarter of the reference's 4,052,478 and of its computation) with the reference's SN-PatchGAN; the first two were
trained on 128x128 images on a 2-core CPU:

* ``celeba_128``: faces, the first 9,000 of the 10,000 CelebA faces of ``shared/data/faces_celeba/train`` (the
  last 1,000 are held out for evaluation);
* ``photos_128`` (the default of ``pretrained()``, ``finetune()`` and the CLI: most holes users fill are in
  photos that are not centred faces): general photos, random 128x128 crops of the shared natural photos (``shared/data/sr/train``,
  the flowers102 train split, the photo halves of edges2shoes_handbags train);
* ``photos_256``: the same network and photos at 256x256, DeepFill's Places2 size (random 256x256 crops; holes of
  the same share of the image, so twice as deep): photos_128's generator fine-tuned on the L1 terms at that size;
  ``inpaint`` lets its holes be 64 pixels deep before it works at a smaller scale (32 for the 128x128 presets).

``DEFAULT`` names the default preset (what ``pretrained()``, ``finetune()`` and ``zoo inpainting fill`` use when no
preset is named): switching it to ``photos_256`` is that one line (not yet: measured, photos_256 is level with
photos_128 on the held-out photos, not better; see the model card).
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import InpaintGenerator, SNPatchDiscriminator
from .trainer import Inpainting

_GEN = {"width": 24, "channels": 3}
_DISC = {"width": 64, "channels": 4}
_FACES = ("shared/data/faces_celeba/train, the first 9,000 files in name order (the last 1,000 held out for "
          "evaluation): CelebA faces (photos of the CelebA test partition), centred face crops, 128x128 JPEG, "
          "mirrored at random; CelebA is for non-commercial research only")
#: the default preset: ``pretrained()``, ``finetune()`` and the CLI read it from the declarations below
#: (tests/test_inpainting.py checks the default is trained)
DEFAULT = "photos_128"


def _photos(side):
    """The general presets' training data at ``side`` x ``side`` crops."""
    flowers = "short side 128" + (f": resized up to {side} first" if side > 128 else "")
    return (f"random {side}x{side} crops (mirrored at random) of shared/data/sr/train (natural photos), "
            f"shared/data/flowers102/train (Oxford-102 flowers, {flowers}) and the photo halves of "
            "shared/data/edges2shoes_handbags/train (shoes and handbags, 256x256)")


CELEBA_128 = Preset(
    name="celeba_128", app="inpainting", default=DEFAULT == "celeba_128",
    file="inpainting/celeba_128.weights.h5",
    sha256="71b94495e46361b94c03400fb32d37005bd3d137b7acef38d227dc9ce582f3d5",
    architecture=InpaintGenerator, config=dict(_GEN), trainer=Inpainting,
    discriminator=SNPatchDiscriminator, discriminator_config=dict(_DISC), input_size=(128, 128),
    trained_on=_FACES,
    recipe="three runs of python apps/inpainting/train.py, each continuing the last one's L1-phase generator: run A "
           "--preset celeba_128 --l1-steps 1500 --steps 2000 --precision mixed_bfloat16 (1,500 L1 steps, Adam 1e-4); "
           "run B --run runs/inpainting_celeba_128b --init runs/inpainting_celeba_128/l1/generator.weights.h5 "
           "--l1-steps 2750 --l1-learning-rate 5e-4 (2,750 steps, Adam 5e-4); run C --run runs/inpainting_celeba_128c "
           "--init runs/inpainting_celeba_128b/l1/generator.weights.h5 --l1-steps 4000 --l1-learning-rate 2e-4 --steps 1 (4,000 steps, Adam 2e-4), "
           "whose L1-phase generator ships (the adversarial phases measured lower: model card); TensorFlow 2.21 / "
           "Keras 3.15.1 on a 2-core CPU, about 1 h 50 min of training; measured by apps/inpainting/evaluate.py",
    metrics={"faces:free_form:psnr": 29.7216, "faces:free_form:ssim": 0.9312, "faces:free_form:l1_hole": 0.0669,
             "faces:box50:psnr": 24.8927, "faces:box50:ssim": 0.8523, "faces:box50:l1_hole": 0.0853},
)

PHOTOS_128 = Preset(
    name="photos_128", app="inpainting", default=DEFAULT == "photos_128",
    file="inpainting/photos_128.weights.h5",
    sha256="6d61a03a8812a00945ed8796e86879ad8efe111c58c0caf020808ba1d38d4dd2",
    architecture=InpaintGenerator, config=dict(_GEN), trainer=Inpainting,
    discriminator=SNPatchDiscriminator, discriminator_config=dict(_DISC), input_size=(128, 128),
    trained_on=_photos(128),
    recipe="python apps/inpainting/train.py --preset photos_128 --l1-steps 2000 --l1-learning-rate 5e-4 --steps 250 "
           "--precision mixed_bfloat16 (its L1 phase: 2,000 steps at Adam 5e-4 from fresh weights), then the same "
           "with --run runs/inpainting_photos_128c --init runs/inpainting_photos_128/l1/generator.weights.h5 "
           "--l1-steps 3000 --l1-learning-rate 2e-4 --steps 1, then with --run runs/inpainting_photos_128d --init "
           "runs/inpainting_photos_128c/l1/generator.weights.h5 --l1-steps 5000 --l1-learning-rate 2e-4 --steps 1, "
           "then with --run runs/inpainting_photos_128e --init runs/inpainting_photos_128d/l1/generator.weights.h5 "
           "--l1-steps 7000 --l1-learning-rate 2e-4 --l1-decay 0.05 --masks mixed --steps 1, stopped after its "
           "step-6,000 checkpoint, whose generator ships; TensorFlow 2.21 / Keras 3.15.1 on a 2-core CPU, about 4 h "
           "of training; measured by apps/inpainting/evaluate.py",
    metrics={"flowers:free_form:psnr": 28.1469, "flowers:free_form:ssim": 0.9187, "flowers:free_form:l1_hole": 0.0825,
             "flowers:box50:psnr": 21.0719, "flowers:box50:ssim": 0.8056, "flowers:box50:l1_hole": 0.1323},
)

# photos_128's network fine-tuned on photos at 256x256.
PHOTOS_256 = Preset(
    name="photos_256", app="inpainting", default=DEFAULT == "photos_256",
    file="inpainting/photos_256.weights.h5",
    sha256="93c6d322953c9cffe789f0152afb1b9dfd295cc2b5447c713e56d2d436d0ada9",
    architecture=InpaintGenerator, config=dict(_GEN), trainer=Inpainting,
    discriminator=SNPatchDiscriminator, discriminator_config=dict(_DISC), input_size=(256, 256),
    trained_on=_photos(256),
    recipe="python apps/inpainting/train.py --preset photos_256 --init weights/inpainting/photos_128.weights.h5 "
           "--l1-steps 900 --l1-learning-rate 1e-4 --l1-decay 0.1 --masks mixed --steps 1 --every 150 --precision "
           "mixed_bfloat16 (photos_128's generator fine-tuned on the L1 terms with 256x256 crops), stopped after its "
           "step-600 checkpoint, whose generator ships; TensorFlow 2.21 / Keras 3.15.1 on a 2-core CPU, 52 min of "
           "training (the cores shared with the test suite for 35 of them); measured by apps/inpainting/evaluate.py",
    metrics={"flowers:free_form:psnr": 28.1388, "flowers:free_form:ssim": 0.9183, "flowers:free_form:l1_hole": 0.0827,
             "flowers:box50:psnr": 20.9279, "flowers:box50:ssim": 0.8047, "flowers:box50:l1_hole": 0.1345},
)

PRESETS = register_presets(CELEBA_128, PHOTOS_128, PHOTOS_256)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
