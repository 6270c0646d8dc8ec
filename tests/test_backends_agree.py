"""The trainer computes the same thing on TensorFlow, PyTorch and JAX: the same small GAN, trained a few steps
from the same weights and data, ends with the same weights (G, D, the EMA generator) and logs on each backend,
for each loss family, with k = 1 and 2 discriminator steps (tests/scripts/same_steps.py)."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parent / "scripts" / "same_steps.py"
BACKENDS = [b for b, module in (("tensorflow", "tensorflow"), ("torch", "torch"), ("jax", "jax"))
            if importlib.util.find_spec(module)]
# One thread, one kernel family: the runs' float order may not depend on the machine's load or CPU (a CI machine
# once gave TensorFlow's WGAN-GP k=2 d_loss 1% away from the other two backends and from every run here).
DETERMINISTIC = dict(CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TF_NUM_INTRAOP_THREADS="1",
                     TF_NUM_INTEROP_THREADS="1", TF_ENABLE_ONEDNN_OPTS="0", TF_DETERMINISTIC_OPS="1",
                     XLA_FLAGS="--xla_cpu_multi_thread_eigen=false")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if len(BACKENDS) < 2:
        pytest.skip(f"needs two Keras backends installed; have {BACKENDS}")
    out = {}
    for b in BACKENDS:
        path = tmp_path_factory.mktemp(b) / "steps.npz"
        r = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, **DETERMINISTIC, KERAS_BACKEND=b))
        assert r.returncode == 0, f"{b}: {r.stderr[-3000:]}"
        out[b] = dict(np.load(path))
    return out


@pytest.mark.slow
def test_same_weights_and_logs_on_every_backend(runs):
    reference, *others = BACKENDS
    ref = runs[reference]
    bad = []
    for b in others:
        assert sorted(runs[b]) == sorted(ref), f"{b} logged or saved different names than {reference}"
        for key, value in ref.items():
            # Seen: ~1e-7 apart; the WGAN-GP penalty's sqrt near a zero gradient can amplify float noise.
            tol = 5e-3 if "_log_" in key else 1e-3
            if not np.allclose(runs[b][key], value, rtol=tol, atol=tol):
                bad.append(f"{key}: {b} vs {reference}: max |diff| {np.max(np.abs(runs[b][key] - value)):.3g}")
    assert not bad, "\n".join(bad)  # every disagreement, not only the first


def test_the_steps_moved_the_weights(runs):
    """The comparison above is not vacuous: on every backend the steps moved G's and D's weights (and G's
    batch-norm statistics) well beyond the tolerance, and every log is finite."""
    for b, run in runs.items():
        inits = [k for k in run if "_init_" in k]
        assert len(inits) > 50
        moved = [np.max(np.abs(run[k.replace("_init_", "_")] - run[k])) > 5e-3 for k in inits]
        assert sum(moved) > 0.8 * len(moved), f"{b}: only {sum(moved)} of {len(moved)} weights moved"
        assert all(np.isfinite(run[k]) for k in run if "_log_" in k), b
