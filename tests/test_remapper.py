"""TensorFlow's graph optimizer fuses every app's training step: no "remapper failed" in a short training run's
log (the convolution + bias + LeakyRelu fusion that broke it is avoided by ``zoo.layers.leaky_relu``), and the
leaky ReLU keeps its values and gradients."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers

from zoo import layers as zoo_layers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = ("dcgan", "srgan", "pix2pix", "cyclegan", "progan", "inpainting", "text2image")

CODE = r"""
import runpy, sys
sys.path.insert(0, {root!r})
for app in {apps!r}:
    mod = runpy.run_path({root!r} + "/benchmarks/" + app + ".py")
    assert mod["main"](["--tiny", "--skip-infer", "--warmup", "1", "--repeats", "1"]) in (0, None), app
    print("trained", app, file=sys.stderr, flush=True)
print("ok")
"""


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="grappler is TensorFlow's")
def test_no_app_training_step_makes_the_remapper_fail():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", KERAS_BACKEND="tensorflow")
    r = subprocess.run([sys.executable, "-c", CODE.format(root=ROOT, apps=APPS)], env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]
    assert [line for line in r.stderr.splitlines() if line.startswith("trained")] == [f"trained {a}" for a in APPS]
    failed = [line for line in r.stderr.splitlines() if "remapper failed" in line]
    assert not failed, "\n".join(failed[:5])


def test_leaky_relu_values_and_gradients_are_keras_s():
    x = np.random.default_rng(0).standard_normal((4, 5, 6, 3)).astype("float32")
    ours, theirs = zoo_layers.LeakyReLU(0.2), layers.LeakyReLU(0.2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours(x)), keras.ops.convert_to_numpy(theirs(x)))
    assert ours.get_config()["negative_slope"] == theirs.get_config()["negative_slope"]
    from zoo import backend

    def grads(layer):
        v = keras.Variable(x)
        g = backend.gradients(lambda: (keras.ops.sum(layer(v) * keras.ops.convert_to_tensor(x)), {}), [v])[2][0]
        return keras.ops.convert_to_numpy(keras.ops.stop_gradient(g))

    np.testing.assert_allclose(grads(ours), grads(theirs), rtol=1e-6)
