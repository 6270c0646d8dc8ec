"""Where a benchmark runs: backend, device and versions, the device's peak TFLOP/s, peak memory, CPU threads.

Each helper imports only the active Keras backend's framework (no TensorFlow on torch or jax).

Peak memory (:func:`peak_memory`): ``torch.cuda.max_memory_allocated`` / TF's ``get_memory_info(...)["peak"]``
(both reset by :func:`reset_peak_memory`), JAX's ``peak_bytes_in_use`` (since the process started: JAX has no
reset), or on a CPU the process's maximum resident set size (since the process started). The second element
of what it returns (a row's ``memory_kind``) says which.
"""
import gc
import os
import platform
import resource
import sys

import keras
import numpy as np

# Dense (no sparsity) peak TFLOP/s from NVIDIA's datasheets, at boost clock.
PEAK_TFLOPS = {
    "H100 SXM": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4},
    "H100 PCIe": {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0, "fp16": 756.0},
    "H100 NVL": {"fp32": 60.0, "tf32": 417.5, "bf16": 835.5, "fp16": 835.5},
    "H200": {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4},
    "A100": {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0},
}


def known_device(name):
    """The :data:`PEAK_TFLOPS` key for a GPU name (``torch.cuda.get_device_name`` etc.), or None."""
    n = (name or "").upper()
    if "H200" in n:
        return "H200"
    if "H100" in n:
        if "PCIE" in n:
            return "H100 PCIe"
        if "NVL" in n:
            return "H100 NVL"
        return "H100 SXM"
    if "A100" in n:
        return "A100"
    return None


def peak_tflops(device_name, basis, override=None):
    """Peak TFLOP/s of ``device_name`` for ``basis`` (fp32, tf32, bf16, fp16); ``override`` wins; None if
    unknown (CPUs, unlisted GPUs)."""
    if override:
        return float(override)
    key = known_device(device_name)
    return PEAK_TFLOPS[key][basis] if key else None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores():
    """The CPU cores this process may run on (its affinity where the OS tells it, else every core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def environment():
    """Backend, device and versions, without importing frameworks other than the backend's own."""
    import zoo

    name = keras.backend.backend()
    env = {
        "backend": name, "device": None, "accelerator": "cpu", "host_cpu": _cpu_model(), "cpu_count": usable_cores(),
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     "numpy": np.__version__, "zoo": zoo.__version__},
    }
    v = env["versions"]
    if name == "torch":
        import torch

        v["torch"] = torch.__version__
        if torch.cuda.is_available():
            env["device"], env["accelerator"] = torch.cuda.get_device_name(0), "gpu"
            v["cuda"] = torch.version.cuda
            v["cudnn"] = torch.backends.cudnn.version()
    elif name == "jax":
        import jax

        v["jax"] = jax.__version__
        d = jax.devices()[0]
        if d.platform != "cpu":
            env["device"], env["accelerator"] = d.device_kind, d.platform
    elif name == "tensorflow":
        import tensorflow as tf

        v["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            env["device"], env["accelerator"] = details.get("device_name", gpus[0].name), "gpu"
            info = tf.sysconfig.get_build_info()
            v["cuda"], v["cudnn"] = info.get("cuda_version"), info.get("cudnn_version")
    if env["device"] is None:
        env["device"] = f"CPU: {env['host_cpu']} ({env['cpu_count']} cores)"
    return env


def peak_basis(precision, env):
    """Which peak a precision runs against: bf16 / fp16 for mixed policies; for float32, tf32 where the
    backend lets convolutions/matmuls use TF32 on the GPU (each backend's default), else fp32."""
    if precision == "mixed_bfloat16":
        return "bf16"
    if precision == "mixed_float16":
        return "fp16"
    if env["accelerator"] == "cpu":
        return "fp32"
    name = env["backend"]
    if name == "torch":
        import torch

        return "tf32" if torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32 else "fp32"
    if name == "tensorflow":
        import tensorflow as tf

        return "tf32" if tf.config.experimental.tensor_float_32_execution_enabled() else "fp32"
    if name == "jax":
        import jax

        try:
            prec = str(jax.config.jax_default_matmul_precision or "default").lower()
        except Exception:
            prec = "default"
        return "fp32" if prec in ("highest", "float32") else "tf32"
    return "fp32"


def reset_peak_memory():
    name = keras.backend.backend()
    if name == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
    elif name == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            tf.config.experimental.reset_memory_stats("GPU:0")


def peak_memory():
    """(bytes, kind) of the peak memory since the last :func:`reset_peak_memory` (see the module docstring)."""
    name = keras.backend.backend()
    if name == "torch":
        import torch

        if torch.cuda.is_available():
            return int(torch.cuda.max_memory_allocated()), "gpu: torch.cuda.max_memory_allocated"
    elif name == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"]), "gpu: tf get_memory_info peak"
    elif name == "jax":
        import jax

        d = jax.devices()[0]
        stats = d.memory_stats() if d.platform != "cpu" else None
        if stats and "peak_bytes_in_use" in stats:
            return int(stats["peak_bytes_in_use"]), "gpu: jax peak_bytes_in_use (since process start)"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss = rss if sys.platform == "darwin" else rss * 1024
    return int(rss), "cpu: process max RSS (since process start)"


def free_memory(reset_compiler=False):
    """Collect garbage and return cached GPU memory; ``reset_compiler`` also drops torch.compile's caches
    (between configurations, so earlier models' guards do not pile up to dynamo's recompile limit)."""
    gc.collect()
    if keras.backend.backend() == "torch":
        import torch

        if reset_compiler:
            torch._dynamo.reset()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def exec_mode(resolved):
    """What runs for a resolved jit flag on this backend: XLA / tf.function, torch.compile / eager, ..."""
    name = keras.backend.backend()
    return {"tensorflow": ("XLA", "tf.function"), "torch": ("torch.compile", "eager"),
            "jax": ("jax.jit", "eager")}.get(name, ("jit", "no jit"))[0 if resolved else 1]


def set_threads(n):
    """Limit the CPU threads of the backend's ops to ``n`` (None: leave the defaults): ``torch.set_num_threads``
    on PyTorch; TensorFlow's intra- and inter-op pools (which must be set before TensorFlow runs any op; a
    later call that would change them warns). JAX has no runtime setting (use XLA_FLAGS before starting)."""
    if not n:
        return
    n = int(n)
    name = keras.backend.backend()
    if name == "torch":
        import torch

        torch.set_num_threads(n)
    elif name == "tensorflow":
        import tensorflow as tf

        t = tf.config.threading
        if (t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads()) == (n, n):
            return
        try:
            t.set_intra_op_parallelism_threads(n)
            t.set_inter_op_parallelism_threads(n)
        except RuntimeError as e:
            print(f"# --threads {n} not applied: TensorFlow is already initialized ({e})", file=sys.stderr)
    elif name == "jax":
        print(f"# --threads {n} not applied: JAX has no runtime thread setting", file=sys.stderr)

