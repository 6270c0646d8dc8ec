"""A few training steps of one small GAN from fixed weights and data, written to an .npz: run it under each
Keras backend (KERAS_BACKEND) and compare the files (tests/test_backends_agree.py).

Everything random is taken out of the backends' hands so that the three runs compute the same numbers: weights
come from NumPy, the latent vectors travel with the data (``generator_inputs`` returns them), and WGAN-GP's
interpolation weights are fixed.
Usage: python same_steps.py OUT.npz
"""
import sys

import keras
import numpy as np
from keras import ops

from zoo import GAN
from zoo.apps.dcgan import DCGANDiscriminator, DCGANGenerator

CASES = [(loss, k) for loss in ("non_saturating", "wgan", "hinge", "lsgan") for k in (1, 2)]


class GivenNoise(GAN):
    """z is the second element of each batch."""

    def generator_inputs(self, condition, n):
        return condition

    def discriminator_inputs(self, images, condition):
        return images


def _fixed_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return ops.full(shape, 0.3, dtype=dtype or "float32")


def run(loss, k, steps=3, m=8):
    rng = np.random.default_rng(0)
    g = DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=8)
    d = DCGANDiscriminator(image_size=8, channels=1, filters=8)
    for net in (g, d):
        net.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") if w.trainable and len(w.shape) > 1
                         else ops.convert_to_numpy(w.value) for w in net.weights])
    out = {f"{loss}_k{k}_init_{p}{i}": ops.convert_to_numpy(w.value)
           for p, net in (("g", g), ("d", d)) for i, w in enumerate(net.weights)}
    gan = GivenNoise(g, d, d_steps=k, ema_decay=0.9)
    opt = lambda: keras.optimizers.Adam(5e-3, beta_1=0.5)  # noqa: E731
    gan.compile(d_optimizer=opt(), g_optimizer=opt(), loss=loss, gp_weight=10.0 if loss == "wgan" else 0.0,
                r1_gamma=1.0 if loss == "hinge" else 0.0)
    x = rng.uniform(-1, 1, (steps * k * m, 8, 8, 1)).astype("float32")
    z = rng.normal(size=(steps * k * m, 8)).astype("float32")
    logs = gan.fit(x, z, batch_size=k * m, epochs=1, shuffle=False, verbose=0).history
    out.update({f"{loss}_k{k}_log_{name}": np.float32(v[-1]) for name, v in logs.items()})
    for prefix, net in (("g", gan.generator), ("d", gan.discriminator), ("ema", gan.ema_generator)):
        for i, w in enumerate(net.weights):
            out[f"{loss}_k{k}_{prefix}{i}"] = ops.convert_to_numpy(w.value)
    return out


if __name__ == "__main__":
    keras.random.uniform = _fixed_uniform
    result = {}
    for loss, k in CASES:
        result.update(run(loss, k))
    np.savez(sys.argv[1], **result)
    print("ok")
