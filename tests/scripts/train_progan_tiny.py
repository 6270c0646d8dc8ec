"""A tiny progressive run (16x16: levels 4, 8, 16) with checkpoints, for tests/test_progan.py's kill -9 test.
After every epoch it writes the checkpoint, then sleeps ``--sleep`` seconds (the window the test kills in); at
the end <dir>/final.npz holds G, D, the EMA generator, alpha, the images shown and where the level began.

    python train_progan_tiny.py DIR [--sleep S]

Schedule: 8 images per array pass (2 steps of 4), level 0 stabilises 8 images (1 epoch), level 1 fades in over
12 and stabilises 8 (3 epochs), level 2 fades in over 12 and runs 16 more (4 epochs): 8 epochs.
"""
import argparse
import os

import keras
import numpy as np

from zoo.apps import progan
from pause import Pause
from zoo.callbacks import Checkpoint

SCHEDULE = progan.Schedule(16, fade_images=12, stable_images=8, final_images=16, batch_size=4)


def build():
    g = progan.ProGANGenerator(16, latent_dim=8, fmap_base=32, fmap_max=16)
    d = progan.ProGANDiscriminator(16, fmap_base=32, fmap_max=16)
    gan = progan.ProGAN(g, d, seed=0)
    gan.compile()
    return gan


def state(gan):
    out = {f"{p}{i}": w for p, net in (("g", gan.generator), ("d", gan.discriminator), ("ema", gan.ema_generator))
           for i, w in enumerate(net.get_weights())}
    for name in ("alpha", "images_seen", "level_start"):
        out[name] = keras.ops.convert_to_numpy(getattr(gan, name))
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--sleep", type=float, default=0.0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    keras.utils.set_random_seed(0)
    gan = build()
    ckpt = Checkpoint(a.dir)
    start = ckpt.resume(gan)
    print(f"start epoch {start}", flush=True)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 16, 16, 3)).astype("float32")
    gan.fit(x, schedule=SCHEDULE, initial_epoch=start, shuffle=False, verbose=0, callbacks=[ckpt, Pause(a.sleep)])
    np.savez(os.path.join(a.dir, "final.npz"), **state(gan))
