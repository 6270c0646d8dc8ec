import os
import pathlib

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.tensorflow_only`` tests skip on the other backends (setup.cfg's markers say why)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"tensorflow_only: its backend parts are tested elsewhere (KERAS_BACKEND={backend})")
    for item in items:
        if item.get_closest_marker("tensorflow_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="module")
def _release_memory_after_each_module():
    """Each test module's models are gone before the next module starts: the suite's one process would otherwise
    keep them all (gigabytes by the end), and the subprocesses of the last tests would get what is left."""
    yield
    import gc
    import sys

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=True)
    gc.collect()


@pytest.fixture
def shared_data():
    """../shared/data, or skip: the suite must pass on a checkout without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture(scope="session")
def small_digits():
    """8x8 digits from scikit-learn, scaled to [-1, 1] (ships with the wheel: no download)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[..., None] / 8.0 - 1.0).astype("float32"), d.target.astype("int32")


_BLOCK_TF = r"""
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
"""


@pytest.fixture
def run_without_tensorflow():
    """Run Python code on the torch backend with TensorFlow made unimportable (the GPU machine has none);
    the code must print "ok" last."""
    import subprocess
    import sys

    pytest.importorskip("torch")

    def run(code):
        env = dict(os.environ, KERAS_BACKEND="torch")
        r = subprocess.run([sys.executable, "-c", _BLOCK_TF + code + '\nassert "tensorflow" not in sys.modules\n'
                            'print("ok")\n'], env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-3000:]

    return run
