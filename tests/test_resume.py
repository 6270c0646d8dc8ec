"""Checkpoint + resume: a run killed with SIGKILL and restarted with the same command ends where an
uninterrupted run of the same seed ends (weights, EMA, both optimizers' state, noise state)."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from helpers import kill_after_checkpoint

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "train_tiny.py")
pytestmark = [pytest.mark.core, pytest.mark.slow]
EPOCHS = 6


def run(args, **kw):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300,
                          **kw)


def test_resume_after_kill_equals_uninterrupted(tmp_path):
    full = run([tmp_path / "full", EPOCHS])
    assert full.returncode == 0, full.stderr[-2000:]

    killed_dir = tmp_path / "killed"
    ckpt = killed_dir / "checkpoint.weights.h5"
    proc = subprocess.Popen([sys.executable, SCRIPT, killed_dir, str(EPOCHS), "--sleep", "1.0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kill_after_checkpoint(proc, ckpt, 2)
    assert not (killed_dir / "final.npz").exists()

    resumed = run([killed_dir, EPOCHS])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    start = int(resumed.stdout.split("start epoch ")[1].split()[0])
    assert 2 <= start < EPOCHS, resumed.stdout

    a, b = np.load(tmp_path / "full" / "final.npz"), np.load(killed_dir / "final.npz")
    weights = [k for k in a.files if k[0] in "vo"]
    assert len(weights) > 20
    for k in weights:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # the resumed run's last epochs report the same losses as the uninterrupted run's
    np.testing.assert_allclose(a["d_loss"][-1], b["d_loss"][-1], rtol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's")
def test_mirrored_strategy_equals_single_device(tmp_path):
    one = run([tmp_path / "one", 2, "--replicas", 1])
    two = run([tmp_path / "two", 2, "--replicas", 2])
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = np.load(tmp_path / "one" / "final.npz"), np.load(tmp_path / "two" / "final.npz")
    np.testing.assert_allclose(a["d_loss"], b["d_loss"], rtol=1e-4)
    np.testing.assert_allclose(a["g_loss"], b["g_loss"], rtol=1e-4)
    for k in a.files:
        if k.startswith("v"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-6, err_msg=k)
