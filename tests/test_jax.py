"""On the JAX backend: shipped presets load and reproduce their reference outputs; training says clearly that
it is not wired yet (the seam in zoo/backend.py)."""
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
              dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4))
gan.compile()
try:
    gan.train_on_batch(np.zeros((4, 8, 8, 1), "float32"))
except NotImplementedError as e:
    assert "KERAS_BACKEND=tensorflow or torch" in str(e)
    print("ok")
"""


def test_inference_on_jax_and_clear_training_error():
    pytest.importorskip("jax")
    r = subprocess.run([sys.executable, "-c", CODE], env=dict(os.environ, KERAS_BACKEND="jax"),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
