"""A tiny, deterministic GAN run used by the trainer tests (resume after kill -9, distributed = single).

    python train_tiny.py RUN_DIR EPOCHS [--sleep S] [--replicas N]
Prints "start epoch N" and writes RUN_DIR/final.npz with every variable of the GAN at the end.
"""
import argparse
import os
import time

ap = argparse.ArgumentParser()
ap.add_argument("run")
ap.add_argument("epochs", type=int)
ap.add_argument("--sleep", type=float, default=0.0)
ap.add_argument("--replicas", type=int, default=0, help="train under MirroredStrategy on N logical CPUs")
a = ap.parse_args()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if a.replicas:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from zoo import GAN  # noqa: E402
from zoo.apps.dcgan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator  # noqa: E402
from zoo.callbacks import Checkpoint  # noqa: E402


class DataNoiseGAN(GAN):
    """Takes z from the dataset so runs on different device layouts see identical noise."""

    def unpack(self, data):
        return data[0], data[1]

    def generator_inputs(self, condition, n):
        return condition

    def discriminator_inputs(self, images, condition):
        return images


x = (load_digits().images[..., None] / 8.0 - 1.0).astype("float32")[:256]
keras.utils.set_random_seed(0)
if a.replicas:
    import tensorflow as tf

    z = np.random.default_rng(1).normal(size=(len(x), 8)).astype("float32")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"][: a.replicas]) if a.replicas > 1 \
        else tf.distribute.get_strategy()
    with strategy.scope():
        gan = DataNoiseGAN(MLPGenerator(latent_dim=8, output_shape=(8, 8, 1), units=(32,)),
                           MLPDiscriminator(input_shape=(8, 8, 1), units=(32,), dropout=0.0))
        gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    data = tf.data.Dataset.from_tensor_slices((x, z)).batch(32)
    hist = gan.fit(data, epochs=a.epochs, verbose=0, shuffle=False).history
    start = 0
else:
    gan = GAN(DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=8), DCGANDiscriminator(image_size=8, channels=1, filters=8),
              ema_decay=0.9, seed=3)
    gan.compile()
    ckpt = Checkpoint(a.run)
    start = ckpt.resume(gan)
    print(f"start epoch {start}", flush=True)
    pause = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, l: time.sleep(a.sleep))
    hist = gan.fit(x, batch_size=32, epochs=a.epochs, initial_epoch=start, shuffle=False, verbose=0,
                   callbacks=[ckpt, pause]).history
os.makedirs(a.run, exist_ok=True)
np.savez(os.path.join(a.run, "final.npz"), d_loss=np.array(hist["d_loss"]), g_loss=np.array(hist["g_loss"]),
         **{f"v{i}": keras.ops.convert_to_numpy(v.value) for i, v in enumerate(gan.variables)},
         **{f"o{i}": keras.ops.convert_to_numpy(v.value) for i, v in
            enumerate(gan.d_optimizer.variables + gan.g_optimizer.variables)})
print("done", flush=True)
