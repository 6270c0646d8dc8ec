"""The srgan presets, each declared once: architecture, recipe, data, measured numbers and weights file.

``weights/manifest.json`` lists the same files with their hashes and reference outputs;
tests/test_presets.py checks that the two agree. The discriminators are the papers' (flattened, for 96x96 and
128x128 HR crops); to fine-tune on other crops ``build(..., hr_crop=<crop>)`` (or ``hr_size=None``: pooled, any
size). ``companions``: ``content``, the ``VGGFeatures`` arguments of the content loss (weights aside; none = no
VGG loss); ``gan_phase``/``psnr_phase``, the preset of the same generator in the other training phase
(``finetune`` follows it).
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import AdaptiveCompact, RRDBNet, SRGANDiscriminator, SRResNet, SRVGGNetCompact
from .trainer import ESRGAN, SRGAN

_SRRESNET_X4 = dict(scale=4, blocks=16, filters=64, channels=3, output_activation=None)
_RRDB_X4 = dict(scale=4, blocks=23, filters=64, growth=32, channels=3, residual_scale=0.2)
_SRGAN_D96 = dict(hr_size=96, channels=3, filters=64, stages=4, strided_kernel=3, dense_units=1024)
_ESRGAN_D128 = dict(hr_size=128, channels=3, filters=64, stages=5, strided_kernel=4, dense_units=100)
_SR291 = "shared/data/sr/train: BSD200 + T91 (291 images), 96x96 HR crops, LR by MATLAB bicubic"
_MEASURED = "measured by apps/srgan/evaluate.py (Y channel, 4-px shave, given LR)"

SRRESNET_X4 = Preset(
    name="srresnet_x4", app="srgan", default=True,
    file="srgan/srresnet_x4.weights.h5",
    sha256="7971e04278682c2a23c2bed5e3a25f7faa76c2e6ca6c39bedf9a78e123cc80cc",
    architecture=SRResNet, config=dict(_SRRESNET_X4), trainer=SRGAN,
    companions={"gan_phase": "srgan_x4"}, input_size=(24, 24),
    trained_on=_SR291,
    recipe="stage 1 (2 CPU cores, TensorFlow): python apps/srgan/train.py --preset srresnet_x4 --pixel-loss l1 "
           "--lr 3e-4 --halve-at 8000 11000 13000 --steps 15000 --ema 0.999; stage 2 (NVIDIA H100, "
           "KERAS_BACKEND=torch, stopped at its step-3500 checkpoint, 289 training images): python "
           "apps/srgan/train.py --preset srresnet_x4 --run runs/srresnet_x4_gpu --init "
           "runs/srresnet_x4/generator.weights.h5 --pixel-loss mse --lr 1e-4 --halve-at 6000 10000 --steps 3500 "
           "--ema 0.999; stage 3 (2 CPU cores, TensorFlow): python apps/srgan/train.py --preset srresnet_x4 --run "
           "runs/srresnet_x4_stage3 --init runs/srresnet_x4_gpu/generator.weights.h5 --pixel-loss mse --lr 5e-5 "
           f"--halve-at 2000 3000 --steps 4000 --ema 0.999; {_MEASURED}",
    metrics={"set14_psnr_y": 27.8034, "set14_ssim_y": 0.7611, "set5_psnr_y": 31.0468, "set5_ssim_y": 0.876},
)

SRGAN_X4 = Preset(
    name="srgan_x4", app="srgan",
    file="srgan/srgan_x4.weights.h5",
    sha256="6e58e0029e4d6e5469ca92a64c3d4e8c04ee1066c3011c05594abb5bd90f5c9c",
    architecture=SRResNet, config=dict(_SRRESNET_X4), trainer=SRGAN,
    discriminator=SRGANDiscriminator, discriminator_config=dict(_SRGAN_D96),
    companions={"content": dict(layer="block5_conv4", before_activation=False), "psnr_phase": "srresnet_x4"},
    input_size=(24, 24),
    trained_on=_SR291,
    recipe="python apps/srgan/train.py --preset srgan_x4 --no-content --init runs/srresnet_x4/generator.weights.h5 "
           "--steps 3000 (SRGAN-MSE: MSE content + 1e-3 adversarial, Adam 1e-4, batch 16, 96x96 HR crops; "
           "KERAS_BACKEND=torch on one NVIDIA H100 shared with three other runs, 225 ms/step; init = the 15k-step "
           "srresnet_x4 generator, Set5 30.90 dB; 289 of the 291 training images: t91/t20 is smaller than the "
           "96-px crop (skipped by every run) and bsd200/28096 was lost in transfer to the GPU machine); "
           f"{_MEASURED}",
    metrics={"set14_psnr_y": 25.9443, "set14_ssim_y": 0.6847, "set5_psnr_y": 27.9999, "set5_ssim_y": 0.7891},
)

# ESRGAN's two phases: architectures and recipes, no trained weights yet.
RRDB_PSNR_X4 = Preset(
    name="rrdb_psnr_x4", app="srgan", architecture=RRDBNet, config=dict(_RRDB_X4), trainer=ESRGAN,
    companions={"gan_phase": "esrgan_x4"}, input_size=(32, 32),
)

# ESRGAN's PSNR phase at 6 RRDB blocks instead of 23 (Real-ESRGAN's RealESRGAN_x4plus_anime_6B depth): what the
# 2 CPU cores can train (about a third of the full network's compute per pixel, 4,467,779 parameters).
RRDB6_PSNR_X4 = Preset(
    name="rrdb6_psnr_x4", app="srgan", architecture=RRDBNet, config=dict(_RRDB_X4, blocks=6), trainer=ESRGAN,
    input_size=(32, 32),
)

ESRGAN_X4 = Preset(
    name="esrgan_x4", app="srgan", architecture=RRDBNet, config=dict(_RRDB_X4), trainer=ESRGAN,
    discriminator=SRGANDiscriminator, discriminator_config=dict(_ESRGAN_D128),
    companions={"content": dict(layer="block5_conv4", before_activation=True), "psnr_phase": "rrdb_psnr_x4"},
    input_size=(32, 32),
)

# Real photos (Real-ESRGAN's recipe): the compact network of realesr-general-x4v3 trained with L1 on degraded LR
# (blur, resize, noise, JPEG, sinc; degradations.py): Real-ESRGAN's second order, then the photo mix.
PHOTO_X4 = Preset(
    name="photo_x4", app="srgan", architecture=SRVGGNetCompact,
    file="srgan/photo_x4.weights.h5",
    sha256="bfd434c7099ac94ad5bde2f1d6e890932011752f69f712d0327cd6ff1f674492",
    config=dict(scale=4, filters=64, convs=32, channels=3, activation="prelu"), trainer=SRGAN,
    input_size=(32, 32),
    trained_on="shared/data/sr/train: BSD200 + T91 (284 of the 291 images: 7 are smaller than the crop), 128x128 "
               "HR crops, LR made from each crop by degradations.py: Real-ESRGAN's second-order degradation for "
               "the first 3,250 steps, then degradation='photo' (its second order, its first order alone, a light "
               "first order)",
    recipe="python apps/srgan/train.py --preset photo_x4 --degradation realesrgan --hr-crop 128 --pixel-loss l1 "
           "--lr 2e-4 --ema 0.999 --steps-per-epoch 250 --run runs/photo_x4 for steps 0-3,250 (float32), then the "
           "same run folder with --degradation photo: steps 3,250-5,250 with the mix at a third each, 5,250-8,000 "
           "at PHOTO_MIX 0.2/0.4/0.4 (float32), 8,000-16,500 with --precision mixed_bfloat16 --halve-at 13000 "
           "15000 --steps 16500 (no halving came: the resume at step 5,750 had restarted Adam's step counter, "
           "5,750 behind the run), 16,500-23,000 with --halve-at 12250 14500 16250 --steps 23000 (the rate "
           "halved at run steps 18,000, 20,250 and 22,000); 2 CPU cores, TensorFlow 2.21 / Keras 3.15.1; the EMA "
           "generator; measured by apps/srgan/evaluate.py (Y channel, 4-px shave; the degraded rows: LR made "
           "from held-out HR by blur, bicubic x4, noise and JPEG at three levels, --degraded)",
    metrics={"set5_psnr_y": 28.856, "set5_ssim_y": 0.8226, "set14_psnr_y": 26.3815, "set14_ssim_y": 0.7058,
             "set5_mild_psnr_y": 28.6061, "set5_mild_ssim_y": 0.8085, "set14_mild_psnr_y": 26.1958,
             "set14_mild_ssim_y": 0.6884, "flowers_mild_psnr_y": 24.9111, "flowers_mild_ssim_y": 0.6705,
             "set5_medium_psnr_y": 26.7786, "set5_medium_ssim_y": 0.7519, "set14_medium_psnr_y": 24.9582,
             "set14_medium_ssim_y": 0.6317, "flowers_medium_psnr_y": 23.5542, "flowers_medium_ssim_y": 0.5924,
             "set5_heavy_psnr_y": 25.0623, "set5_heavy_ssim_y": 0.6913, "set14_heavy_psnr_y": 23.5978,
             "set14_heavy_ssim_y": 0.5797, "flowers_heavy_psnr_y": 22.2905, "flowers_heavy_ssim_y": 0.5274},
)

# photo_x4's successor in the making (not trained yet): two of its networks, one fine-tuned on faint and one on
# strong degradation (train.py --body), blended per image by a degradation estimator (train.py --bodies).
PHOTO_ADAPTIVE_X4 = Preset(
    name="photo_adaptive_x4", app="srgan", architecture=AdaptiveCompact,
    config=dict(PHOTO_X4.config, estimator_filters=16), trainer=SRGAN, input_size=(32, 32),
)

PRESETS = register_presets(SRRESNET_X4, SRGAN_X4, RRDB_PSNR_X4, RRDB6_PSNR_X4, ESRGAN_X4, PHOTO_X4,
                           PHOTO_ADAPTIVE_X4)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
