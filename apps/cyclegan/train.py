"""Recipe for the CycleGAN presets (resumable: rerun the same command to continue a killed run).

    python apps/cyclegan/train.py --preset edges2shoes_handbags_128 --steps 10000 --precision mixed_bfloat16

Data: the unpaired halves of ../shared/data/edges2shoes_handbags/train (side-by-side AB images, photo left,
edges right; 1-1000 shoes, 1001-2000 handbags): domain A = the edge drawings of pairs 1-500 and 1001-1500,
domain B = the photos of pairs 501-1000 and 1501-2000, so no photo's own edge map is ever seen. They are
written once as two folders under <run>/data/. The paper's augmentation at the preset's size (resize to
size x 286/256, random crop, mirror; 143 -> 128 for the 128 preset), batch 1, the paper's objective and Adam
2e-4 (beta_1 0.5) held for the first half of ``--steps`` and decayed linearly to zero over the second (the
paper's 100 + 100 epochs, here in steps).

Every ``--steps-per-epoch`` steps: a checkpoint in <run>/ (networks, both optimizers, both image pools, random
states), the log row in <run>/log.csv, and the generators as <run>/generators.step<N>.weights.h5. The final
generators are <run>/generators.weights.h5; apps/cyclegan/evaluate.py measures and registers them.
"""
import argparse
import os
import sys

import keras
import numpy as np

from zoo import distribute
from zoo.apps import cyclegan
from zoo.callbacks import Checkpoint, Snapshots

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                    "edges2shoes_handbags")
#: (domain, half of the AB image, pair numbers): A = edges (right half), B = photos (left half).
DOMAINS = (("A", "right", (range(1, 501), range(1001, 1501))), ("B", "left", (range(501, 1001), range(1501, 2001))))


def write_domains(train_dir, out):
    """The two unpaired domain folders under ``out`` (``A/``, ``B/``), written once (PNG halves of the AB
    files); returns their paths."""
    from PIL import Image

    from zoo import images

    paths = []
    for domain, half, ranges in DOMAINS:
        folder = os.path.join(out, domain)
        paths.append(folder)
        numbers = [n for r in ranges for n in r]
        if os.path.isdir(folder) and len(os.listdir(folder)) == len(numbers):
            continue
        os.makedirs(folder, exist_ok=True)
        for n in numbers:
            ab = Image.open(os.path.join(train_dir, f"{n}_AB.jpg")).convert("RGB")
            w, h = ab.size
            box = (0, 0, w // 2, h) if half == "left" else (w // 2, 0, w, h)
            images.save_png(os.path.join(folder, f"{n}.png"), np.asarray(ab.crop(box)))
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(cyclegan.CONFIGS), required=True)
    p.add_argument("--steps", type=int, default=10000, help="iterations in all (half constant, half decaying)")
    p.add_argument("--steps-per-epoch", type=int, default=500, help="checkpoint interval")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--data", default=os.path.join(DATA, "train"))
    p.add_argument("--run", help="run folder (default runs/cyclegan_<preset>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help="Keras dtype policy (mixed_bfloat16: 1.6x faster on a CPU with AMX; weights stay float32)")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    keras.config.set_dtype_policy(a.precision)
    if a.steps < 2 or a.steps % a.steps_per_epoch:
        p.error("--steps must be >= 2 and a multiple of --steps-per-epoch")
    run = a.run or os.path.join("runs", f"cyclegan_{a.preset}")
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    os.makedirs(run, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    preset = cyclegan.CONFIGS[a.preset]
    size = preset.config["train_size"]
    with setup.scope():
        gan = cyclegan.build(preset, image_size=size, seed=a.seed)
        gan.compile(constant_steps=a.steps // 2, decay_steps=a.steps - a.steps // 2)
    ckpt = Checkpoint(run, log=True)
    start = ckpt.resume(gan)
    epochs = a.steps // a.steps_per_epoch
    a_dir, b_dir = write_domains(a.data, os.path.join(run, "data"))
    print(f"{a.preset}: epochs {start} -> {epochs} of {a.steps_per_epoch} steps at {size}x{size}, run folder {run}",
          file=sys.stderr)
    data = cyclegan.dataset(a_dir, b_dir, crop_size=size, batch_size=a.batch_size, repeat=True, seed=a.seed + start)
    callbacks = [ckpt, Snapshots(run, "generators")]
    gan.fit(data, epochs=epochs, initial_epoch=start, steps_per_epoch=a.steps_per_epoch, verbose=2,
            callbacks=callbacks)
    gan.sampling_generator().save_weights(os.path.join(run, "generators.weights.h5"))


if __name__ == "__main__":
    main()
