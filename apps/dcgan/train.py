"""Recipe that trained the shipped digit presets (mnist_dcgan, mnist_cdcgan).

    python apps/dcgan/train.py --preset mnist_cdcgan     # 240 epochs (run as 80, resumed to 160, then to 240)
    python apps/dcgan/train.py --preset mnist_dcgan      # 60 epochs

Data: ../shared/data/digits/mnist_5k.csv.gz (5000 digits, 500 per class, stored sorted by class). Stratified
split (``split``): per class 400 digits train the GANs; the other 100 are held out for the digit classifier
of apps/dcgan/evaluate.py (80 to train it, 20 to check it). Resumable: killed runs continue from runs/<preset>/ when restarted
with the same command. The EMA generator ends up in runs/<preset>/generator.weights.h5; evaluate.py measures
it and registers it in weights/.
"""
import argparse
import os
import sys

import keras
import numpy as np

from zoo import GAN, distribute
from zoo.apps import dcgan
from zoo.callbacks import Checkpoint, SampleGrid
from zoo.data import load_mnist_csv

EPOCHS = {"mnist_cdcgan": 240, "mnist_dcgan": 60}  # what the shipped presets were trained for
HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "..", "shared", "data", "digits", "mnist_5k.csv.gz")


def split(labels):
    """Row indices ``(gan_train, classifier_train, classifier_val)``: per class, ranks 0-399 / 400-479 / 480-499."""
    rank = np.zeros(len(labels), int)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        rank[rows] = np.arange(len(rows))
    return np.flatnonzero(rank < 400), np.flatnonzero((rank >= 400) & (rank < 480)), np.flatnonzero(rank >= 480)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(dcgan.CONFIGS), required=True)
    p.add_argument("--epochs", type=int, default=None, help="default: EPOCHS[preset]")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=DIGITS)
    p.add_argument("--run", default=None, help="run folder (default runs/<preset>)")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    a.epochs = a.epochs or EPOCHS[a.preset]
    keras.utils.set_random_seed(a.seed)
    run = a.run or os.path.join("runs", a.preset)
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    x, y = load_mnist_csv(a.data)
    train_rows = split(y)[0]
    x = x[train_rows].astype("float32") / 127.5 - 1.0
    y = y[train_rows]
    preset = dcgan.CONFIGS[a.preset]
    g_cfg = preset.config
    with setup.scope():
        gan = GAN(preset.build_generator(), preset.build_discriminator(), ema_decay=a.ema, seed=a.seed)
        gan.compile()
    os.makedirs(run, exist_ok=True)
    ckpt = Checkpoint(run, log=True)
    start = ckpt.resume(gan)
    print(f"{a.preset}: epochs {start} -> {a.epochs}, run folder {run}", file=sys.stderr)
    data = (x, y) if g_cfg.get("num_classes") else (x,)
    gan.fit(*data, batch_size=a.batch_size, epochs=a.epochs, initial_epoch=start, shuffle=True, verbose=2,
            callbacks=[ckpt, SampleGrid(os.path.join(run, "samples"), every=500, n=100)])
    gan.sampling_generator().save_weights(os.path.join(run, "generator.weights.h5"))


if __name__ == "__main__":
    main()
