"""zoo runs its models without TensorFlow on the torch backend (the GPU machine has no TensorFlow)."""
import os
import subprocess
import sys

import pytest

CODE = r"""
import importlib.abc, importlib.machinery, sys
class NoTF(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            return importlib.machinery.ModuleSpec(name, self)
    def create_module(self, spec):
        raise ImportError("tensorflow is blocked in this test")
    def exec_module(self, module):
        pass
sys.meta_path.insert(0, NoTF())
import numpy as np
import zoo, zoo.gan, zoo.layers, zoo.losses, zoo.metrics, zoo.weights, zoo.images, zoo.data, zoo.callbacks
import zoo.bench, zoo.cli, zoo.unrolled
from zoo.apps import dcgan
g = dcgan.DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=3)
d = dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4, num_classes=3)
gan = zoo.GAN(g, d)
gan.compile()
x = np.random.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
gan.train_on_batch(x, np.zeros(8, "int32"))
assert g.generate(2, labels=1, seed=0).shape == (2, 8, 8, 1)
assert "tensorflow" not in sys.modules
print("ok")
"""


def test_no_tensorflow_on_torch_backend():
    pytest.importorskip("torch")
    env = dict(os.environ, KERAS_BACKEND="torch")
    r = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
