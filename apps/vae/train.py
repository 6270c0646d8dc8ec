"""Recipe that trained the shipped digit presets (mnist_ae, mnist_vae, mnist_cvae, mnist_vaegan).

    python apps/vae/train.py --preset mnist_vae --run /work/runs/vae_mnist_vae        # EPOCHS[preset] epochs

Data: ../shared/data/digits/mnist_5k.csv.gz with apps/dcgan/train.py's split: per class, 400 digits train
(the digits the GAN presets trained on); the other 100 are held out for apps/vae/evaluate.py (the digit
classifier, the two-sample test and the reconstruction scores). Batch 64, seed 0, the preset's objective
(``companions["objective"]``), Adam (1e-3 for the autoencoders; 3e-4, beta_1 0.5 for the VAE-GAN).
Resumable: a killed run continues from its run folder when restarted with the same command. The autoencoder ends
up in <run>/autoencoder.weights.h5; evaluate.py measures it and registers it in weights/.

``--latent-dim 2`` trains the 2-D variant of a preset (evaluate.py's latent-map figure trains its own the same way).
"""
import argparse
import os
import sys

import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))  # run from a checkout

from zoo import distribute  # noqa: E402
from zoo.apps import vae  # noqa: E402
from zoo.callbacks import Checkpoint  # noqa: E402
from zoo.data import load_mnist_csv  # noqa: E402

EPOCHS = {"mnist_ae": 60, "mnist_vae": 60, "mnist_cvae": 60, "mnist_vaegan": 80}  # the shipped presets'
DIGITS = os.path.join(HERE, "..", "..", "..", "shared", "data", "digits", "mnist_5k.csv.gz")


def split(labels):
    """Row indices ``(train, classifier_train, classifier_val)``: per class ranks 0-399 / 400-479 / 480-499
    (apps/dcgan/train.py's split)."""
    rank = np.zeros(len(labels), int)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        rank[rows] = np.arange(len(rows))
    return np.flatnonzero(rank < 400), np.flatnonzero((rank >= 400) & (rank < 480)), np.flatnonzero(rank >= 480)


def digits(path=DIGITS):
    """``(x, y)``: every digit in [-1, 1] float32 and its label."""
    x, y = load_mnist_csv(path)
    return x.astype("float32") / 127.5 - 1.0, y


def train(preset, x, y, epochs, run=None, latent_dim=None, seed=0, batch_size=64, verbose=2, setup=None):
    """Train ``preset``'s recipe on ``(x, y)``; returns the trainer. ``run``: a resumable run folder; ``setup``: a
    ``zoo.distribute.Setup`` to train under (default one device)."""
    keras.utils.set_random_seed(seed)
    preset = vae.CONFIGS[preset] if isinstance(preset, str) else preset
    with (setup or distribute.setup()).scope():
        net = preset.build_generator(**({"latent_dim": latent_dim} if latent_dim else {}))
        model = vae.build(preset, autoencoder=net, pretrained_weights=False)
    start = 0
    callbacks = []
    if run:
        os.makedirs(run, exist_ok=True)
        ckpt = Checkpoint(run, log=True)
        start = ckpt.resume(model)
        callbacks.append(ckpt)
    data = (x, y) if net.num_classes else (x,)
    model.fit(*data, batch_size=batch_size, epochs=epochs, initial_epoch=start, shuffle=True, verbose=verbose,
              callbacks=callbacks)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(vae.CONFIGS), required=True)
    p.add_argument("--epochs", type=int, default=None, help="default: EPOCHS[preset]")
    p.add_argument("--latent-dim", type=int, default=None, help="default: the preset's (16)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=DIGITS)
    p.add_argument("--run", default=None, help="run folder (default runs/<preset>)")
    distribute.add_arguments(p)
    a = p.parse_args(argv)
    setup = distribute.from_args(a)  # --distribute: build and compile in setup.scope()
    run = a.run or os.path.join("runs", a.preset)
    run = setup.run_folder(run)  # the chief writes the run; other workers their own copy
    x, y = digits(a.data)
    rows = split(y)[0]
    epochs = a.epochs or EPOCHS[a.preset]
    print(f"{a.preset}: {epochs} epochs, run folder {run}", file=sys.stderr)
    model = train(a.preset, x[rows], y[rows], epochs, run=run, latent_dim=a.latent_dim, seed=a.seed,
                  batch_size=a.batch_size, setup=setup)
    model.autoencoder.save_weights(os.path.join(run, "autoencoder.weights.h5"))


if __name__ == "__main__":
    main()
