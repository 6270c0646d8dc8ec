"""On the JAX backend: shipped presets load and reproduce their reference outputs; fit() trains (on arrays and
on a tf.data pipeline) and the process exits."""
import os
import subprocess
import sys

import pytest

CODE = r"""
import numpy as np, zoo
from zoo import weights
from zoo.apps import dcgan
for key in weights.presets():  # every shipped preset, whatever its app
    app, name = key.split("/")
    m = weights.pretrained(app, name)
    assert weights.check_reference(m, m.preset) < 1e-4, key
g = dcgan.pretrained()
assert g.generate(2, labels=3, seed=0).shape == (2, 28, 28, 1)
gan = zoo.GAN(dcgan.DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4),
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4), ema_decay=0.9)
gan.compile()
before = [np.array(w) for w in gan.generator.get_weights()]
x = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
h = gan.fit(x, batch_size=8, epochs=1, verbose=0).history
assert np.isfinite(h["d_loss"][-1]) and np.isfinite(h["g_loss"][-1])
assert int(gan.g_optimizer.iterations) == 4
assert any(not np.allclose(a, b) for a, b in zip(before, gan.generator.get_weights()))
import tensorflow as tf
h = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(8), epochs=1, verbose=0).history
assert int(gan.g_optimizer.iterations) == 8
print("ok")
"""


def test_inference_and_training_on_jax_then_exit():
    pytest.importorskip("jax")
    r = subprocess.run([sys.executable, "-c", CODE], env=dict(os.environ, KERAS_BACKEND="jax"),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
