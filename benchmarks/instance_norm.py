"""Instance norm: zoo's ``InstanceNormalization`` (each backend's fused kernel) against Keras's
``GroupNormalization(groups=-1)``, forward and forward + backward, at the shapes of the CycleGAN ResNet generator
(256x256 input: 256x256x64 after the first convolution, 64x64x256 in the residual blocks) on the current Keras
backend. Non-affine, as CycleGAN's. Prints median milliseconds and the ratio.

    python benchmarks/instance_norm.py                      # TensorFlow
    KERAS_BACKEND=torch python benchmarks/instance_norm.py
    python benchmarks/instance_norm.py --shapes 1,256,256,64 8,64,64,256 --repeats 30
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from zoo import backend, bench  # noqa: E402
from zoo.layers import instance_norm  # noqa: E402


def _compiled(fn):
    """``fn`` as the backend runs it inside a training step (a tf.function on TensorFlow, jit on JAX)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def time_layer(layer, x, dy, repeats):
    forward = _compiled(lambda t: layer(t))
    both = _compiled(lambda t: backend.value_and_grad(lambda u: ops.sum(layer(u) * dy), t)[2])
    sync = bench.synchronize
    return [float(np.median(bench.time_calls(lambda f=f: f(x), 3, repeats, sync).times)) * 1e3
            for f in (forward, both)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", nargs="+", default=["1,256,256,64", "1,64,64,256", "4,128,128,64"],
                   help="N,H,W,C input shapes")
    p.add_argument("--repeats", type=int, default=20)
    a = p.parse_args(argv)
    print(f"# instance norm on Keras {keras.__version__} / {keras.backend.backend()}, {bench.environment()['device']}")
    print(f"{'shape':<16} {'GroupNorm fwd':>13} {'zoo fwd':>9} {'GroupNorm f+b':>13} {'zoo f+b':>9} {'f+b ratio':>9}")
    rng = np.random.default_rng(0)
    for spec in a.shapes:
        shape = tuple(int(d) for d in spec.split(","))
        x = ops.convert_to_tensor(rng.standard_normal(shape).astype("float32"))
        dy = ops.convert_to_tensor(rng.standard_normal(shape).astype("float32"))
        ref = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)
        ours = instance_norm(affine=False)
        g_fwd, g_both = time_layer(ref, x, dy, a.repeats)
        z_fwd, z_both = time_layer(ours, x, dy, a.repeats)
        print(f"{spec:<16} {g_fwd:>13.2f} {z_fwd:>9.2f} {g_both:>13.2f} {z_both:>9.2f} {z_both / g_both:>9.2f}")


if __name__ == "__main__":
    main()
