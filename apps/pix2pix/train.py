"""Recipe for the pix2pix presets (resumable: rerun the same command to continue a killed run).

    python apps/pix2pix/train.py --preset edges2shoes_handbags       # cGAN + 100 L1 (the shipped preset)
    python apps/pix2pix/train.py --preset edges2shoes_handbags_l1    # the same U-Net on L1 alone (the ablation)

Data: ../shared/data/edges2shoes_handbags/train (2000 side-by-side AB images: photo left, edges right; 1-1000
shoes, 1001-2000 handbags), edges -> photo (direction BtoA), the paper's random jitter (resize to 286, random
256 crop, mirror), batch ``--batch-size`` (the paper used 4 for edges2shoes). Both presets run the same number
of generator steps with the same data order and seed; only the objective differs (Isola et al. 2017, table 1).
Every ``--steps-per-epoch`` steps: a checkpoint in runs/<preset>/ and L1 / PSNR / sharpness of the first
``--val-images`` val pairs (apps/pix2pix/evaluate.py's measures) appended to runs/<preset>/val.csv. The
generator ends up in runs/<preset>/generator.weights.h5; apps/pix2pix/evaluate.py measures and registers it.
"""
import argparse
import csv
import os
import sys

import keras

from zoo import distribute
from zoo.apps import pix2pix
from zoo.callbacks import Checkpoint, Snapshots

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate import DATA, load_val, measure  # noqa: E402  (the card's own measures)


class Validate(keras.callbacks.Callback):
    """Val measures of the generator after every epoch, appended to a CSV."""

    def __init__(self, path, inputs, targets):
        super().__init__()
        self.path, self.inputs, self.targets = path, inputs, targets

    def on_epoch_end(self, epoch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
        row = measure(self.model.sampling_generator(), self.inputs, self.targets)
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["epoch", "step", *row])
            w.writerow([epoch + 1, step, *row.values()])
        print(f"\nepoch {epoch + 1} (step {step}): " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()),
              file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(pix2pix.CONFIGS), required=True)
    p.add_argument("--steps", type=int, default=6000, help="generator updates in all")
    p.add_argument("--steps-per-epoch", type=int, default=250, help="checkpoint and validation interval")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--val-images", type=int, default=50, help="val pairs measured after every epoch (0: none)")
    p.add_argument("--data", default=os.path.join(DATA, "train"))
    p.add_argument("--run", help="run folder (default runs/<preset>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--snapshots", action="store_true", help="also keep the generator of every epoch")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    run = a.run or os.path.join("runs", a.preset)
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    os.makedirs(run, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    with setup.scope():
        gan = pix2pix.build(a.preset, seed=a.seed)
        gan.compile()
    ckpt = Checkpoint(run, log=True)
    start = ckpt.resume(gan)
    epochs = a.steps // a.steps_per_epoch
    print(f"{a.preset}: epochs {start} -> {epochs} of {a.steps_per_epoch} steps, run folder {run}", file=sys.stderr)
    data = pix2pix.dataset(a.data, direction="BtoA", batch_size=a.batch_size, repeat=True, seed=a.seed + start)
    callbacks = [ckpt]
    if a.snapshots:
        callbacks.append(Snapshots(run))
    if a.val_images:
        callbacks.insert(1, Validate(os.path.join(run, "val.csv"), *load_val(n=a.val_images)))
    gan.fit(data, epochs=epochs, initial_epoch=start, steps_per_epoch=a.steps_per_epoch, verbose=2,
            callbacks=callbacks)
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))


if __name__ == "__main__":
    main()
