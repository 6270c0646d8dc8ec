"""A resumable fine-tuning run for tests/test_bad_input.py's kill -9 loop: a tiny GAN trained by
``zoo.callbacks.fit_steps(..., run=DIR, every=2)`` for 12 steps; sleeps ``--sleep`` after each checkpoint.

    python finetune_tiny.py DIR [--sleep S]
"""
import argparse

import keras
import numpy as np

from zoo import GAN
from zoo.apps import dcgan
from pause import Pause
from zoo.callbacks import fit_steps


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--sleep", type=float, default=0.0)
    a = p.parse_args()
    keras.utils.set_random_seed(0)
    gan = GAN(dcgan.DCGANGenerator(latent_dim=4, image_size=8, channels=1, filters=4),
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4), seed=0)
    gan.compile()
    x = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(x).repeat().batch(4)
    fit_steps(gan, data, 12, run=a.dir, every=2, callbacks=[Pause(a.sleep)], verbose=0)
    print("done", int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations)), flush=True)
