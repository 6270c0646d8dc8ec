"""Recipe for the super-resolution presets (resumable: rerun the same command to continue a killed run).

    python apps/srgan/train.py --preset srresnet_x4                 # phase 1: PSNR-oriented, MSE
    python apps/srgan/train.py --preset srgan_x4 \\
        --init runs/srresnet_x4/generator.weights.h5                # phase 2: VGG54 + 1e-3 adversarial

Data: ../shared/data/sr/train (BSD200 + T91, 291 images), random 96x96 HR crops with flips and 90-degree
rotations, LR by MATLAB-style bicubic x4 downscaling (zoo.data.sr_pairs), batch 16. Every ``--steps-per-epoch``
steps the run folder gets a checkpoint, and Set5 PSNR/SSIM (Y channel, 4-px border shaved, the given LR
images; apps/srgan/evaluate.py's protocol) is appended to runs/<preset>/set5.csv. The generator ends up in
runs/<preset>/generator.weights.h5; measure it with apps/srgan/evaluate.py --weights ... --arch <preset>.

Phase 2 needs keras.applications VGG19 ImageNet weights (downloaded once into ~/.keras/models).
"""
import argparse
import csv
import os
import sys

import keras

from zoo.apps import srgan
from zoo.callbacks import Checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import DATA as VAL_DATA, load_pairs, measure  # noqa: E402  (the card's own protocol)

TRAIN = os.path.join(HERE, "..", "..", "..", "shared", "data", "sr", "train")


class Set5(keras.callbacks.Callback):
    """Y-channel PSNR/SSIM of the generator on Set5 after every epoch, appended to a CSV."""

    def __init__(self, path, scale=4):
        super().__init__()
        self.path, self.scale = path, scale
        self.pairs = load_pairs(VAL_DATA, "Set5", scale)

    def on_epoch_end(self, epoch, logs=None):
        g = self.model.sampling_generator()
        row = measure(self.pairs, lambda lr, shape: g.upscale(lr), self.scale, "generator")
        step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["epoch", "step", "set5_psnr_y", "set5_ssim_y"])
            w.writerow([epoch + 1, step, row["psnr"], row["ssim"]])
        print(f"\nepoch {epoch + 1} (step {step}): Set5 PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.4f}",
              file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(srgan.CONFIGS), required=True)
    p.add_argument("--steps", type=int, default=200_000, help="generator updates in all")
    p.add_argument("--steps-per-epoch", type=int, default=500, help="checkpoint and Set5 interval")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--hr-crop", type=int, default=96)
    p.add_argument("--init", help="generator weights to start from (phase 2: the phase-1 generator)")
    p.add_argument("--data", default=TRAIN)
    p.add_argument("--run", help="run folder (default runs/<preset>)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    run = a.run or os.path.join("runs", a.preset)
    os.makedirs(run, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    scale = srgan.CONFIGS[a.preset].generator_config["scale"]
    gan = srgan.build(a.preset, hr_crop=a.hr_crop, seed=a.seed)
    if a.init:
        gan.generator.load_weights(a.init)
    gan.compile()
    ckpt = Checkpoint(run)
    start = ckpt.resume(gan)
    epochs = a.steps // a.steps_per_epoch
    print(f"{a.preset}: epochs {start} -> {epochs} of {a.steps_per_epoch} steps, run folder {run}", file=sys.stderr)
    data = srgan.dataset(a.data, scale=scale, hr_crop=a.hr_crop, batch_size=a.batch_size, repeat=True,
                         cache=True, seed=a.seed + start)
    gan.fit(data, epochs=epochs, initial_epoch=start, steps_per_epoch=a.steps_per_epoch, verbose=2,
            callbacks=[ckpt, Set5(os.path.join(run, "set5.csv"), scale),
                       keras.callbacks.CSVLogger(os.path.join(run, "log.csv"), append=True)])
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))


if __name__ == "__main__":
    main()
