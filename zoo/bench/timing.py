"""Timing: repeated calls with warm-up excluded, and the device synchronisation inside each timed call."""
import dataclasses
import time

import keras
import numpy as np


@dataclasses.dataclass
class Timing:
    times: list          # seconds of each timed call
    warmup_times: list   # seconds of each warm-up call (excluded)

    @property
    def median(self):
        return float(np.median(self.times))

    @property
    def p10(self):
        return float(np.percentile(self.times, 10))

    @property
    def p90(self):
        return float(np.percentile(self.times, 90))


def time_calls(fn, warmup=3, repeats=10, sync=None, clock=time.perf_counter):
    """Call ``fn()`` ``warmup`` times untimed, then ``repeats`` times timed; ``sync(output)`` runs inside
    each timed interval (so asynchronous devices finish the work). Returns a :class:`Timing`."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    sync = sync or (lambda out: out)
    warm = []
    for _ in range(int(warmup)):
        t0 = clock()
        sync(fn())
        warm.append(clock() - t0)
    times = []
    for _ in range(int(repeats)):
        t0 = clock()
        sync(fn())
        times.append(clock() - t0)
    return Timing(times, warm)


_TF_GPU = None


def synchronize(out=None):
    """Block until the device has finished the work that produced ``out``."""
    global _TF_GPU
    name = keras.backend.backend()
    if name == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    elif name == "jax":
        import jax

        jax.block_until_ready(out)
    elif name == "tensorflow":
        import tensorflow as tf

        if _TF_GPU is None:
            _TF_GPU = bool(tf.config.list_physical_devices("GPU"))
        if _TF_GPU and hasattr(tf.experimental, "sync_devices"):
            tf.experimental.sync_devices()
        else:
            keras.tree.map_structure(lambda t: np.asarray(t) if t is not None else t, out)
    return out
