"""Recipe for the super-resolution presets (resumable: rerun the same command to continue a killed run).

    # phase 1, the shipped srresnet_x4 (PSNR-oriented; L1, Adam 3e-4 halved at 8k/11k/13k steps, EMA 0.999):
    python apps/srgan/train.py --preset srresnet_x4 --pixel-loss l1 --lr 3e-4 --halve-at 8000 11000 13000 \\
        --steps 15000 --ema 0.999
    # phase 2 (the paper's SRGAN-VGG54: VGG54 content + 1e-3 adversarial, Adam 1e-4):
    python apps/srgan/train.py --preset srgan_x4 --init runs/srresnet_x4/generator.weights.h5
    # photo_x4 (Real-ESRNet's phase: realesr-general-x4v3's compact network, L1 on Real-ESRGAN's degradations):
    python apps/srgan/train.py --preset photo_x4 --degradation realesrgan --hr-crop 128 --pixel-loss l1 \
        --lr 2e-4 --ema 0.999 --steps 100000 --steps-per-epoch 250
    # phase 2 without VGG19's ImageNet weights (the paper's SRGAN-MSE: MSE content + 1e-3 adversarial):
    python apps/srgan/train.py --preset srgan_x4 --no-content --init runs/srresnet_x4/generator.weights.h5

The paper trains phase 1 on MSE at 1e-4 for 10^6 steps; the shipped preset had a CPU budget of 15k steps, where
L1 and a larger, decayed learning rate reach a higher PSNR sooner (EDSR, Lim et al. 2017, found L1 converges
better; ESRGAN's PSNR phase uses it too). Without flags the trainer's defaults are the paper's.

Data: ../shared/data/sr/train (BSD200 + T91, 291 images), random 96x96 HR crops with flips and 90-degree
rotations, LR by MATLAB-style bicubic x4 downscaling (zoo.apps.srgan.data.sr_pairs), batch 16. Every
``--steps-per-epoch`` steps the run folder gets a checkpoint and, committed with it, a row of runs/<preset>/log.csv
holding the losses and Set5 PSNR/SSIM of the generator and its EMA copy (Y channel, 4-px border shaved, the given
LR images; apps/srgan/evaluate.py's protocol; runs before this change wrote them to set5.csv). The generator ends up in
runs/<preset>/generator.weights.h5; measure it with apps/srgan/evaluate.py --weights ... --arch <preset>.

Phase 2 needs keras.applications VGG19 ImageNet weights (downloaded once into ~/.keras/models).
"""
import argparse
import os
import sys

import keras

from zoo import distribute, optimizers
from zoo.apps import srgan
from zoo.apps.srgan.degradations import DEGRADATIONS
from zoo.callbacks import Checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import DATA as VAL_DATA, load_pairs, measure  # noqa: E402  (the card's own protocol)

TRAIN = os.path.join(HERE, "..", "..", "..", "shared", "data", "sr", "train")


class Set5(keras.callbacks.Callback):
    """Y-channel PSNR/SSIM of the generator (and its EMA copy) on Set5 after every epoch, added to the epoch's
    logs (``set5_psnr_y``, ``set5_ssim_y``, ``ema_set5_...``), which the checkpoint writes with itself: run it
    before the ``Checkpoint``."""

    def __init__(self, scale=4):
        super().__init__()
        self.scale = scale
        self.pairs = load_pairs(VAL_DATA, "Set5", scale)

    def on_epoch_end(self, epoch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
        nets = {"": self.model.generator}
        if self.model.ema_generator is not None:
            nets["ema_"] = self.model.ema_generator
        for prefix, g in nets.items():
            which = prefix.rstrip("_") or "generator"
            row = measure(self.pairs, lambda lr, shape, g=g: g.upscale(lr), self.scale, which)
            if logs is not None:
                logs.update({f"{prefix}set5_psnr_y": row["psnr"], f"{prefix}set5_ssim_y": row["ssim"]})
            print(f"\nepoch {epoch + 1} (step {step}) {which}: Set5 PSNR {row['psnr']:.2f} dB, "
                  f"SSIM {row['ssim']:.4f}", file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(srgan.CONFIGS), required=True)
    p.add_argument("--steps", type=int, default=200_000, help="generator updates in all")
    p.add_argument("--steps-per-epoch", type=int, default=500, help="checkpoint and Set5 interval")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--hr-crop", type=int, default=96)
    p.add_argument("--init", help="generator weights to start from (phase 2: the phase-1 generator)")
    p.add_argument("--body", action="store_true", help="an AdaptiveCompact preset (photo_adaptive_x4): train "
                   "one of its two compact networks (an SRVGGNetCompact of its config; --degradation faint for the "
                   "weak one, strong for the strong one)")
    p.add_argument("--bodies", nargs=2, metavar=("WEAK", "STRONG"), help="an AdaptiveCompact preset: train its "
                   "degradation estimator alone (srgan.fit_estimator: regression of each pair's best blend weight) "
                   "with the two compact networks loaded from these files; writes <run>/generator.weights.h5")
    p.add_argument("--estimator-samples", type=int, default=4800, help="--bodies: training pairs (4,800)")
    p.add_argument("--estimator-epochs", type=int, default=40, help="--bodies: epochs over them (40)")
    p.add_argument("--data", default=TRAIN)
    p.add_argument("--degradation", choices=sorted(DEGRADATIONS), default=None,
                   help="LR by this degradation of the HR crop (degradations.py) instead of bicubic downscaling: "
                   "Real-ESRGAN's second order (realesrgan); photo_x4's mix of it with first-order and light "
                   "degradations (photo); faint or strong first order (photo_x4's two networks); all three (span)")
    p.add_argument("--run", help="run folder (default runs/<preset>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pixel-loss", choices=("mse", "l1"), help="pixel loss (default: the trainer's: SRGAN mse, "
                   "ESRGAN l1)")
    p.add_argument("--lr", type=float, help="initial Adam learning rate (default: the trainer's)")
    p.add_argument("--halve-at", type=int, nargs="*", default=[],
                   help="generator steps at which the learning rate halves (both networks)")
    p.add_argument("--no-content", action="store_true", help="GAN phase without the VGG network: the pixel loss "
                   "is the content loss (the paper's SRGAN-MSE; no ImageNet weights needed)")
    p.add_argument("--ema", type=float, default=None, help="keep an EMA of G's weights with this decay; the EMA "
                   "is what generator.weights.h5 holds")
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help="Keras dtype policy (mixed_bfloat16: faster on a CPU with AMX; weights stay float32)")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    keras.config.set_dtype_policy(a.precision)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    run = a.run or os.path.join("runs", a.preset)
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    os.makedirs(run, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    preset = srgan.CONFIGS[a.preset]
    scale = preset.config["scale"]
    if (a.body or a.bodies) and preset.architecture is not srgan.AdaptiveCompact:
        p.error(f"--body / --bodies train the parts of an AdaptiveCompact preset; {a.preset} is a "
                f"{preset.architecture.__name__}")
    if a.bodies:  # the estimator alone: no adversarial trainer, no checkpoint (minutes)
        g = preset.build_generator()
        for body, path in zip((g.weak, g.strong), a.bodies):
            body.load_weights(path)
        data = srgan.dataset(a.data, scale=scale, hr_crop=a.hr_crop, batch_size=32, repeat=True, cache=True,
                             seed=a.seed, degradation=a.degradation)
        fit = srgan.fit_estimator(g, data, samples=a.estimator_samples, epochs=a.estimator_epochs)
        print(f"estimator: held-out weighted MSE {fit['mse']:.4f} (best constant {fit['mse_constant']:.4f})",
              file=sys.stderr)
        g.save_weights(os.path.join(run, "generator.weights.h5"))
        return
    with setup.scope():
        generator = None
        if a.body:
            generator = srgan.AdaptiveCompact.body(preset.config)
        gan = srgan.build(a.preset, hr_crop=a.hr_crop, content=not a.no_content, seed=a.seed, ema_decay=a.ema,
                          generator=generator)
        if a.init:
            gan.generator.load_weights(a.init)
            if gan.ema_generator is not None:
                gan.ema_generator.set_weights(gan.generator.get_weights())
        lr = a.lr or (gan.FINETUNE if gan.adversarial else gan.PRETRAIN)["learning_rate"]
        if a.halve_at:  # a function of the optimizer's step counter, so a resumed run picks up where it was
            lr = keras.optimizers.schedules.PiecewiseConstantDecay(
                sorted(a.halve_at), [lr * 0.5**i for i in range(len(a.halve_at) + 1)])
        adam = lambda: optimizers.Adam(lr, beta_1=0.9, beta_2=0.999)
        gan.compile(g_optimizer=adam(), d_optimizer=adam() if gan.adversarial else None, pixel_loss=a.pixel_loss)
    ckpt = Checkpoint(run, log=True)
    start = ckpt.resume(gan)
    epochs = a.steps // a.steps_per_epoch
    print(f"{a.preset}: epochs {start} -> {epochs} of {a.steps_per_epoch} steps, run folder {run}", file=sys.stderr)
    data = srgan.dataset(a.data, scale=scale, hr_crop=a.hr_crop, batch_size=a.batch_size, repeat=True,
                         cache=True, seed=a.seed + start, degradation=a.degradation)
    gan.fit(data, epochs=epochs, initial_epoch=start, steps_per_epoch=a.steps_per_epoch, verbose=2,
            callbacks=[Set5(scale), ckpt])
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))


if __name__ == "__main__":
    main()
