"""Recipe for the inpainting presets (resumable: rerun the same command to continue a killed run).

    python apps/inpainting/train.py --preset celeba_128 --l1-steps 1500 --steps 2000 --precision mixed_bfloat16
    python apps/inpainting/train.py --preset photos_128 --l1-steps 1500 --steps 1500 --precision mixed_bfloat16
    python apps/inpainting/train.py --preset photos_256 --init weights/inpainting/photos_128.weights.h5 \
        --l1-steps 900 --l1-learning-rate 1e-4 --l1-decay 0.1 --masks mixed --steps 1 --precision mixed_bfloat16

Two phases, each resumable in its own folder under the run folder (default runs/inpainting_<preset>):

1. ``l1/``: the generator alone on the L1 terms of both stages (``--l1-steps``; 0 skips it; Adam
   ``--l1-learning-rate``, (0.5, 0.999), constant or with ``--l1-decay`` falling along a cosine), a warm start
   that a CPU budget needs (the reference trains from scratch with the full objective for days on a GPU);
2. ``gan/``: the reference's objective from phase 1's generator: SN-PatchGAN hinge loss + L1 on both stages,
   Adam 1e-4 (0.5, 0.999), one D step per G step (``--steps``), with an EMA copy of the generator (decay 0.999,
   warmed up) that is what ships.

Data: ``--preset celeba_128``: the first 9,000 of the 10,000 shared CelebA faces (the rest are evaluate.py's
held-out faces); ``photos_128`` and ``photos_256``: shared/data/sr/train, flowers102/train and the photo halves of
edges2shoes_handbags/train (written once as PNGs under <run>/shoes/). Random crops of the preset's ``input_size``
(128x128; 256x256 for ``photos_256``: images whose shorter side is below it, the flowers' 128, are resized up to it
first), mirrored, with the reference's training masks drawn at that size (a random box of about half the side
united with free-form strokes whose width scales with the side; ``--masks mixed``: half of them the strokes
alone), batch ``--batch-size`` (8). ``--l1-weight`` weighs both stages' L1 terms against the adversarial one (1,
the reference's ``l1_loss_alpha``).

``--init FILE`` starts from a generator's weights instead of fresh ones (a run continued with other settings, or
another preset's generator: the network is fully convolutional, so a 128x128 preset's weights load into a 256x256
one unchanged). ``--init-discriminator FILE`` does the same for phase 2's SN-PatchGAN (a run's
``discriminator.weights.h5``, written beside its generator at the end), so an adversarial phase can go on from
an earlier one's two networks on another machine without its 140 MB checkpoint (Adam's moments start again).

``photos_256`` starts from ``photos_128``'s generator (``--init weights/inpainting/photos_128.weights.h5``; the
network is fully convolutional) and is fine-tuned on the L1 terms at 256x256 crops, where the holes are twice as
deep; a 256x256 step costs about four 128x128 ones. The shipped file is the L1 phase's step-600 generator (the
preset's recipe); an adversarial phase at 256 is not run yet.
``--d-learning-rate`` and ``--g-learning-rate`` set phase 2's D and G learning rates apart (TTUR), and
``--d-warmup STEPS`` starts phase 2 with the SN-PatchGAN trained alone against the frozen generator (skipped when
phase 2 resumes). Why: with the reference's settings from a trained L1 generator, D's hinge loss stayed at
0.997-0.999 for 3,750 steps (its scores for real and filled images within 0.01), while alone against the frozen
generator the same D opened a real - fake gap of 0.34 in 300 steps; G followed a D that had not learnt what tells
fills apart.
``--d-antialias``, ``--d-no-spectral-norm`` and ``--r1-gamma`` change D itself (not the reference's): a low-pass
filter before each strided convolution, so its input gradient has no period-2 pattern for G to copy; plain
convolutions in place of spectrally normalised ones; and R1 (Mescheder et al. 2018) on real images, which keeps
that gradient small near the data. ``--feature-matching W`` adds pix2pixHD's D feature matching to G's loss (the
fill's D activations against the original's).
A checkpoint and a log row (<phase>/log.csv) every ``--every`` steps. The shipped generator is
<run>/generator.weights.h5; apps/inpainting/evaluate.py measures and registers it.
"""
import argparse
import os
import sys

import keras
import numpy as np

from zoo import distribute, optimizers
from zoo.apps import inpainting
from zoo.callbacks import fit_steps

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")
FACES_TRAIN = 9000


def shoes_photos(out):
    """The photo (left) halves of edges2shoes_handbags/train as PNGs in ``out``, written once."""
    from PIL import Image

    from zoo import data, images

    src = data.list_images(os.path.join(SHARED, "edges2shoes_handbags", "train"))
    if os.path.isdir(out) and len(os.listdir(out)) == len(src):
        return out
    os.makedirs(out, exist_ok=True)
    for path in src:
        ab = Image.open(path).convert("RGB")
        name = os.path.splitext(os.path.basename(path))[0]
        images.save_png(os.path.join(out, f"{name}.png"), np.asarray(ab.crop((0, 0, ab.size[0] // 2, ab.size[1]))))
    return out


def training_data(preset, run, batch_size, seed, masks="free_form+box"):
    """``preset``'s training batches: random crops of its ``input_size`` with masks drawn at that size."""
    size = (inpainting.CONFIGS[preset].input_size or (128, 128))[0]
    if preset.startswith("celeba"):
        return inpainting.dataset(os.path.join(SHARED, "faces_celeba", "train"), image_size=size, limit=FACES_TRAIN,
                                  masks=masks, batch_size=batch_size, repeat=True, seed=seed)
    folders = [os.path.join(SHARED, "sr", "train"), os.path.join(SHARED, "flowers102", "train"),
               shoes_photos(os.path.join(run, "shoes"))]
    return inpainting.dataset(folders, image_size=size, masks=masks, batch_size=batch_size, repeat=True, seed=seed)


def warm_up_discriminator(gan, data, steps, report=50):
    """``steps`` updates of ``gan``'s discriminator alone (its optimizer too) on ``data``'s batches against the
    frozen generator's fills; prints the hinge loss and the real - fake score gap every ``report`` steps."""
    import time

    t0, batches, logs = time.time(), iter(data), []
    for step in range(1, steps + 1):
        out = gan.discriminator_update(next(batches))
        logs.append([float(out["d_loss"]), float(out["d_real"]) - float(out["d_fake"])])
        if step % report == 0 or step == steps:
            loss, gap = np.mean(logs[-report:], axis=0)
            print(f"D warm-up {step}/{steps}: d_loss {loss:.4f}, real - fake {gap:.4f} ({time.time() - t0:.0f} s)",
                  file=sys.stderr, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(inpainting.CONFIGS), required=True)
    p.add_argument("--l1-steps", type=int, default=1500, help="phase 1: L1-only steps (0: none)")
    p.add_argument("--l1-learning-rate", type=float, default=1e-4, help="phase 1's Adam learning rate")
    p.add_argument("--l1-decay", type=float, default=None, metavar="FRACTION",
                   help="phase 1's learning rate falls along a cosine to FRACTION of itself over the phase "
                        "(default: constant)")
    p.add_argument("--masks", default="free_form+box", choices=("free_form+box", "mixed", "free_form", "box"),
                   help="training masks (inpainting.dataset; default the reference's box united with strokes)")
    p.add_argument("--steps", type=int, default=2000, help="phase 2: adversarial steps")
    p.add_argument("--g-learning-rate", type=float, default=1e-4,
                   help="phase 2's G Adam learning rate (default 1e-4, the reference's)")
    p.add_argument("--d-learning-rate", type=float, default=1e-4,
                   help="phase 2: the SN-PatchGAN's Adam learning rate (default 1e-4, the reference's; higher "
                        "than --g-learning-rate: TTUR, Heusel et al. 2017)")
    p.add_argument("--d-warmup", type=int, default=0, metavar="STEPS",
                   help="phase 2 starts with STEPS updates of the SN-PatchGAN alone against the frozen generator "
                        "(default 0), so G's first adversarial gradients come from a D that tells fills from images")
    p.add_argument("--d-antialias", action="store_true",
                   help="phase 2's SN-PatchGAN with a low-pass filter before each strided convolution (Blur2D)")
    p.add_argument("--d-no-spectral-norm", dest="d_spectral_norm", action="store_false",
                   help="phase 2's PatchGAN without spectral normalisation (keep it in check with --r1-gamma)")
    p.add_argument("--r1-gamma", type=float, default=0.0,
                   help="phase 2: R1 penalty on D's gradient at real images, weight gamma / 2 (0: none, the "
                        "reference). The gradient is of the sum of D's patch logits (2x2x256 for a 128-px image), so a "
                        "scalar-D gamma is far too strong: at gamma 1 D learnt nothing in 200 warm-up steps")
    p.add_argument("--feature-matching", type=float, default=0.0, metavar="WEIGHT",
                   help="phase 2: weight of D feature matching against the original image (pix2pixHD's; 0: none, "
                        "the reference; pix2pixHD uses 10)")
    p.add_argument("--l1-weight", type=float, default=1.0,
                   help="weight of both stages' L1 terms (Inpainting's l1_weight; default 1, the reference's)")
    p.add_argument("--every", type=int, default=250, help="checkpoint interval in steps")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--run", help="run folder (default runs/inpainting_<preset>)")
    p.add_argument("--init", help="a generator .weights.h5 to start from (default: fresh weights)")
    p.add_argument("--init-discriminator", metavar="FILE",
                   help="a discriminator .weights.h5 for phase 2 to start from (default: fresh weights)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help="Keras dtype policy (mixed_bfloat16: 1.3x faster on a CPU with AMX; weights stay float32)")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    if a.l1_steps < 0 or a.steps < 1 or a.d_warmup < 0:
        p.error("--l1-steps and --d-warmup must be >= 0 and --steps >= 1")
    if not (a.d_learning_rate > 0 and a.g_learning_rate > 0):
        p.error("--d-learning-rate and --g-learning-rate must be > 0")
    if a.d_warmup and setup.name != "none":
        p.error("--d-warmup runs on one device (it updates D outside fit): not with --distribute")
    if a.l1_decay is not None and not 0.0 <= a.l1_decay <= 1.0:
        p.error("--l1-decay must be in [0, 1]")
    if not a.l1_weight > 0:
        p.error("--l1-weight must be > 0")
    if a.r1_gamma < 0 or a.feature_matching < 0:
        p.error("--r1-gamma and --feature-matching must be >= 0")
    keras.config.set_dtype_policy(a.precision)
    keras.utils.set_random_seed(a.seed)
    run = a.run or os.path.join("runs", f"inpainting_{a.preset}")
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    os.makedirs(run, exist_ok=True)
    preset = inpainting.CONFIGS[a.preset]
    data = training_data(a.preset, run, a.batch_size, a.seed, a.masks)
    with setup.scope():
        generator = preset.build_generator()
    if a.init:
        generator.load_weights(a.init)
    warm = os.path.join(run, "l1", "generator.weights.h5")
    if a.l1_steps:
        if not os.path.exists(warm):
            print(f"{a.preset}: phase 1, {a.l1_steps} L1 steps in {run}/l1", file=sys.stderr)
            with setup.scope():
                l1 = inpainting.build(preset, generator=generator, adversarial=False, l1_weight=a.l1_weight,
                                      seed=a.seed)
                rate = a.l1_learning_rate
                if a.l1_decay is not None:
                    rate = keras.optimizers.schedules.CosineDecay(rate, a.l1_steps, alpha=a.l1_decay)
                l1.compile(learning_rate=rate)
            fit_steps(l1, data, a.l1_steps, run=os.path.join(run, "l1"), every=a.every, verbose=2)
            generator.save_weights(warm)
        generator.load_weights(warm)
    print(f"{a.preset}: phase 2, {a.steps} adversarial steps in {run}/gan", file=sys.stderr)
    with setup.scope():
        gan = inpainting.build(preset, generator=generator, l1_weight=a.l1_weight, ema_decay=0.999, seed=a.seed,
                               feature_matching=a.feature_matching,
                               discriminator_config={"antialias": a.d_antialias, "spectral_norm": a.d_spectral_norm})
        gan.compile(d_optimizer=optimizers.Adam(a.d_learning_rate, beta_1=0.5, beta_2=0.999),
                    learning_rate=a.g_learning_rate, r1_gamma=a.r1_gamma)
    if a.init_discriminator:
        gan.discriminator.load_weights(a.init_discriminator)
    if a.d_warmup and not os.path.exists(os.path.join(run, "gan", "checkpoint.weights.h5")):
        warm_up_discriminator(gan, data, a.d_warmup)
    fit_steps(gan, data, a.steps, run=os.path.join(run, "gan"), every=a.every, verbose=2)
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))
    gan.discriminator.save_weights(os.path.join(run, "discriminator.weights.h5"))


if __name__ == "__main__":
    main()
