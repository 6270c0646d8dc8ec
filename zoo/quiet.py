"""TensorFlow's start-up lines, silenced: its C++ code writes them to file descriptor 2 (oneDNN notices, CUDA
probes such as ``failed call to cuInit``, CPU-feature notes) before any Python log setting applies, so setting
``TF_CPP_MIN_LOG_LEVEL`` is not enough. ``install()`` (run by ``import zoo``) wraps the first import of
``tensorflow``, wherever it comes from (Keras, ``tf.data`` helpers), and TensorFlow's first device probe right
after it, with descriptor 2 pointed at ``/dev/null``; Python exceptions raised there still propagate and print.

Afterwards TensorFlow's C++ logs show errors only (``TF_CPP_MIN_LOG_LEVEL=2`` unless it is set). To see
everything: ``ZOO_TF_LOGS=1`` (nothing is redirected, and ``TF_CPP_MIN_LOG_LEVEL`` is left as it is).
"""
import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    """File descriptor 2 to ``/dev/null`` inside the block (C/C++ writes included); restored after."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no descriptor 2 (embedded interpreters): nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader:  # a loader (importlib.abc.Loader's protocol; that module costs start-up time)
    def __init__(self, loader):
        self.loader = loader

    def __getattr__(self, name):  # everything else (resource readers, is_package, ...) from the real loader
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with native_stderr_silenced():
            self.loader.exec_module(module)
            try:  # the CUDA/CPU probes print at the first device query: do it here, silenced
                module.config.list_physical_devices()
            except Exception:  # noqa: BLE001 - a TensorFlow that cannot list devices fails later, loudly
                pass


class _QuietFinder:  # a meta path finder (importlib.abc.MetaPathFinder's protocol)
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # one import only; the other finders, in order, locate the package
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install():
    """Silence TensorFlow's C++ start-up lines (no-op with ``ZOO_TF_LOGS=1``, or once TensorFlow is imported)."""
    if os.environ.get("ZOO_TF_LOGS", "") not in ("", "0") or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # later C++ lines: errors only
    if not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
