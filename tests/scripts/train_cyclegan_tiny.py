"""A tiny CycleGAN run with checkpoints, for tests/test_cyclegan.py's kill -9 test: after every epoch it writes
the checkpoint, then <dir>/state<epoch>.npz with both pools and the generators' weights as they are then.

    python train_cyclegan_tiny.py DIR EPOCHS [--sleep S]
"""
import argparse
import os
import time

import keras
import numpy as np

from zoo.apps import cyclegan
from zoo.callbacks import Checkpoint


def build():
    pair = cyclegan.CycleGenerators(n_blocks=1, filters=4, train_size=16)
    d = {n: cyclegan.PatchDiscriminator(n_layers=1, filters=4, norm="instance", channels=3) for n in ("d_a", "d_b")}
    gan = cyclegan.CycleGAN(pair, d, image_size=16, pool_size=5, seed=0)
    gan.compile()
    return gan


def state(gan):
    out = {f"pool_{n}": keras.ops.convert_to_numpy(getattr(gan, f"pool_{n}").images) for n in "ab"}
    out.update({f"count_{n}": keras.ops.convert_to_numpy(getattr(gan, f"pool_{n}").count) for n in "ab"})
    out.update({f"g{i}": w for i, w in enumerate(gan.pair.get_weights())})
    return out


class Dump(keras.callbacks.Callback):
    def __init__(self, directory, sleep):
        super().__init__()
        self.directory, self.sleep = directory, sleep

    def on_epoch_end(self, epoch, logs=None):
        np.savez(os.path.join(self.directory, f"state{epoch + 1}.npz"), **state(self.model))
        time.sleep(self.sleep)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("epochs", type=int)
    p.add_argument("--sleep", type=float, default=0.0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    keras.utils.set_random_seed(0)
    gan = build()
    ckpt = Checkpoint(a.dir)
    start = ckpt.resume(gan)
    print(f"start epoch {start}", flush=True)
    rng = np.random.default_rng(0)
    x_a, x_b = (rng.uniform(-1, 1, (6, 16, 16, 3)).astype("float32") for _ in "ab")
    gan.fit(x_a, x_b, batch_size=2, epochs=a.epochs, initial_epoch=start, shuffle=False, verbose=0,
            callbacks=[ckpt, Dump(a.dir, a.sleep)])
