"""The timing harness every ``benchmarks/<app>.py`` uses.

A benchmark script supplies one function, ``build(args) -> Workload`` (a fresh GAN, the network to time for
inference, and synthetic in-memory batches), and calls :func:`main`. The harness sweeps precision and jit,
times for each training batch size one full adversarial iteration (``gan.train_on_batch``: k D steps and
one G step, the model's own compiled train function) and the inference network at batch 1 and at the large
batch sizes, and prints a table and appends JSON lines (one object per row).

What each number means:

* time: warm-up calls are excluded (they hold tracing / XLA / ``torch.compile`` compilation, reported as
  ``first_call_s``); every timed call is followed by a device synchronisation (``torch.cuda.synchronize``,
  ``jax.block_until_ready``, ``tf.experimental.sync_devices`` on a TF GPU, outputs converted to NumPy on a TF
  CPU), and the row reports the median and the 10th/90th percentiles of ``--repeats`` calls.
* images/s: batch size / median time; latency: median time of one call (at batch 1, of one image).
  Inference runs the network's own predict function (``predict_function`` on TensorFlow and PyTorch, a
  ``jax.jit`` of ``stateless_call`` on JAX); outputs stay on the device (no copy to the host is timed).
* FLOPs per image: counted analytically by :func:`count_flops` (which layers, below); training FLOPs per
  image by :func:`gan_train_flops`. A multiply-add is 2 FLOPs. Achieved TFLOP/s = FLOPs/image x images/s,
  and its share of the device's dense peak for the precision (:data:`PEAK_TFLOPS`; on a CPU only with
  ``--device-peak-tflops``).
* peak memory: ``torch.cuda.max_memory_allocated`` / TF's ``get_memory_info(...)["peak"]`` (both reset
  before each row), JAX's ``peak_bytes_in_use`` (since the process started: JAX has no reset), or on a
  CPU the process's maximum resident set size (since the process started). ``memory_kind`` says which.

TensorFlow is imported only when the Keras backend is TensorFlow: with ``KERAS_BACKEND=torch`` or ``jax`` the
harness runs where TensorFlow is not installed.
"""
import argparse
import dataclasses
import datetime
import gc
import json
import math
import os
import platform
import resource
import sys
import time
from typing import Callable, Optional, Sequence

import keras
import numpy as np

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
JIT_CHOICES = ("auto", "on", "off", "both")
SCHEMA = "zoo.bench/1"

# --------------------------------------------------------------------------------------------------------
# FLOP counting
# --------------------------------------------------------------------------------------------------------
COUNTED_LAYERS = (
    "Dense, EinsumDense, Conv1D/2D/3D (grouped too), Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, "
    "SeparableConv1D/2D, zoo.layers.EqualizedConv2D / EqualizedDense, zoo.layers.MinibatchDiscrimination "
    "(its projection x @ T only), and any layer with a "
    "flops(input_shape, output_shape) method; layers called inside another layer's call() (wrappers such as "
    "zoo.layers blocks) and inside nested models are counted where they run. Not counted: biases, "
    "normalization, activations, pooling, resizing, elementwise ops, embeddings, attention score products. "
    "A multiply-add is 2 FLOPs; a transposed convolution counts every input position x kernel."
)

COUNTED_SHORT = ("Dense, EinsumDense, Conv*D, Conv*DTranspose, DepthwiseConv*D, SeparableConv*D, "
                 "EqualizedConv2D/Dense, MinibatchDiscrimination (projection), layers with flops() and the "
                 "ones inside wrappers (ResidualBlock, UNetDown/Up, ...); multiply-add = 2 FLOPs")


@dataclasses.dataclass
class FlopCount:
    """FLOPs per example of one forward pass (``total``), per counted layer call (``layers``: (path, class
    name, FLOPs)), and the classes of weighted layers that ran but were not counted (``uncounted``)."""

    total: int
    layers: list
    uncounted: list

    def __int__(self):
        return int(self.total)


def _prod(shape):
    return int(math.prod(int(d) for d in shape))


def _shape(x):
    if isinstance(x, (list, tuple)):
        x = x[0]
    return tuple(int(d) for d in x.shape)


def _einsum_macs(layer, in_shape, out_shape):
    eq = layer.equation.replace(" ", "")
    inputs, out_spec = eq.split("->")
    _, k_spec = inputs.split(",")
    if "." in k_spec:
        raise ValueError(f"cannot count EinsumDense with an ellipsis in its kernel: {eq}")
    kshape = tuple(layer.kernel.shape)
    contracted = [kshape[i] for i, c in enumerate(k_spec) if c not in out_spec]
    return _prod(out_shape) * _prod(contracted)


def _layer_macs(layer, in_shape, out_shape):
    """Multiply-adds of one call of a built-in counted layer over the whole batch; None: not counted."""
    L = keras.layers
    if isinstance(layer, L.Dense):
        return _prod(out_shape) * int(layer.kernel.shape[0])
    if isinstance(layer, L.EinsumDense):
        return _einsum_macs(layer, in_shape, out_shape)
    if isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
        positions = _prod(out_shape) // int(layer.pointwise_kernel.shape[-1])
        return positions * (_prod(layer.depthwise_kernel.shape) + _prod(layer.pointwise_kernel.shape))
    if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
        return _prod(out_shape) * _prod(layer.kernel.shape[:-2])
    if isinstance(layer, (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)):
        in_positions = _prod(in_shape) // int(layer.kernel.shape[-1])
        return in_positions * _prod(layer.kernel.shape)
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        positions = _prod(out_shape) // int(layer.kernel.shape[-1])
        return positions * _prod(layer.kernel.shape)
    eq_conv, eq_dense, mbd = _zoo_types()
    if eq_conv and isinstance(layer, eq_conv):
        positions = _prod(out_shape) // int(layer.kernel.shape[-1])
        return positions * _prod(layer.kernel.shape)
    if eq_dense and isinstance(layer, eq_dense):
        return _prod(out_shape) * int(layer.kernel.shape[0])
    if mbd and isinstance(layer, mbd):
        rows = _prod(in_shape) // int(layer.T.shape[0])
        return rows * _prod(layer.T.shape)
    return None


def _zoo_types():
    """zoo.layers classes that do their own convolution / matmul (not through a Keras sublayer)."""
    from zoo import layers as zl

    return tuple(getattr(zl, n, None) for n in ("EqualizedConv2D", "EqualizedDense", "MinibatchDiscrimination"))


def _counted_types():
    L = keras.layers
    return (L.Dense, L.EinsumDense, L.Conv1D, L.Conv2D, L.Conv3D, L.Conv1DTranspose, L.Conv2DTranspose,
            L.Conv3DTranspose, L.DepthwiseConv1D, L.DepthwiseConv2D, L.SeparableConv1D, L.SeparableConv2D,
            *(t for t in _zoo_types() if t is not None))


def _counts(layer):
    return callable(getattr(layer, "flops", None)) or isinstance(layer, _counted_types())


def count_flops(model, inputs=None, input_shape=None):
    """Forward-pass FLOPs per example of ``model``, counted layer by layer (see :data:`COUNTED_LAYERS`).

    The model is run once (inference mode) on ``inputs`` (default: zeros of batch 1 shaped like
    ``model.inputs``; pass arrays, or ``input_shape`` -- the concrete shape of a batch, e.g. ``(1, 96, 96, 3)``,
    or a list of them for several inputs -- when an input has unknown dimensions, as a fully convolutional
    model's ``(None, None, C)`` does) while every counted layer records
    the shapes it was called with, so layers nested in other layers or models are counted as they run and a
    layer called twice counts twice. Returns a :class:`FlopCount` (``int()`` of it is the total).
    """
    if inputs is None and input_shape is not None:
        shapes = input_shape if isinstance(input_shape[0], (list, tuple)) else [input_shape]
        dtypes = [getattr(t, "dtype", None) or "float32" for t in (getattr(model, "inputs", None) or [])]
        dtypes += ["float32"] * (len(shapes) - len(dtypes))
        inputs = [np.zeros(tuple(int(d) for d in sh), dtype=dt) for sh, dt in zip(shapes, dtypes)]
        inputs = inputs[0] if len(inputs) == 1 else inputs
    if inputs is None:
        specs = model.inputs
        inputs = []
        for t in specs:
            shape = tuple(t.shape[1:])
            if any(d is None for d in shape):
                raise ValueError(f"{model.name}: input {t.name} has unknown dimensions {t.shape}; pass inputs=")
            inputs.append(np.zeros((1,) + shape, dtype=t.dtype))
        inputs = inputs[0] if len(inputs) == 1 else inputs
    batch = _shape(inputs)[0]

    layers = [model] + list(model._flatten_layers(include_self=False, recursive=True))
    paths = {id(l): l.name for l in layers}
    records, uncounted, active = [], set(), [0]

    def wrap(layer, original):
        def call(*args, **kwargs):
            active[0] += 1
            try:
                out = original(*args, **kwargs)
            finally:
                active[0] -= 1
            if active[0] == 0:  # a counted layer's own sublayers are the layer's business
                x = args[0] if args else next(iter(kwargs.values()))
                in_shape, out_shape = _shape(x), _shape(out)
                hook = getattr(layer, "flops", None)
                if callable(hook):
                    flops = int(hook(in_shape, out_shape))
                else:
                    flops = 2 * int(_layer_macs(layer, in_shape, out_shape))
                records.append((paths[id(layer)], type(layer).__name__, flops))
            return out

        return call

    patched = []
    for layer in layers[1:]:
        if _counts(layer):
            object.__setattr__(layer, "call", wrap(layer, layer.call))
            patched.append(layer)
        elif layer.weights and not list(layer._flatten_layers(include_self=False, recursive=False)):
            uncounted.add(type(layer).__name__)
    try:
        model(inputs, training=False)
    finally:
        for layer in patched:
            object.__delattr__(layer, "call")
    total = sum(f for _, _, f in records)
    per_example = [(p, c, f // batch) for p, c, f in records]
    return FlopCount(total // batch, per_example, sorted(uncounted))


def gan_train_flops(g_flops, d_flops, d_steps=1, extra=0):
    """FLOPs per real image of one adversarial iteration (``GAN.train_step``), from forward FLOPs per image.

    A backward pass costs 2x the forward (input and weight gradients) for the network being trained, 1x for
    D during the G step (only its input gradients are needed); the frozen G's forward in the D step has no
    backward. Per D step on a minibatch of m: G forward + D forward on real and fake + their backward
    = G + 6 D; the G step: G forward + D forward + D input-gradient + G backward = 3 G + 2 D. A fit() batch
    holds k x m real images. ``extra``: per-image FLOPs the app adds (content-loss networks, penalties).
    """
    k = int(d_steps)
    per_minibatch = k * (g_flops + 6 * d_flops) + 3 * g_flops + 2 * d_flops
    return int(per_minibatch / k + extra)


# --------------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------
# Device, memory, peaks
# --------------------------------------------------------------------------------------------------------
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


def environment():
    """Backend, device and versions, without importing frameworks other than the backend's own."""
    import zoo

    name = keras.backend.backend()
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    env = {
        "backend": name, "device": None, "accelerator": "cpu", "host_cpu": _cpu_model(), "cpu_count": cpus,
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
        env["device"] = f"CPU: {env['host_cpu']} ({cpus} cores)"
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
    """(bytes, kind) of the peak memory since the last :func:`reset_peak_memory` (see module docstring)."""
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


# --------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------
DEFAULTS = dict(batch_sizes=[64], infer_batch_sizes=None, resolution=64, precision=["float32"], jit="auto",
                warmup=3, repeats=10)
TINY = dict(batch_sizes=[4], resolution=16, warmup=1, repeats=3)


def _list_of(kind, choices=None):
    def parse(text):
        out = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            value = kind(part)
            if choices and value not in choices:
                raise argparse.ArgumentTypeError(f"{value!r} is not one of {', '.join(choices)}")
            out.append(value)
        return out

    return parse


def make_parser(description):
    """The flags every benchmark shares; a script adds its own before :func:`parse_args`. Every default is
    None here and resolved by :func:`parse_args`, so ``--tiny`` changes only what was not given."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--batch-sizes", nargs="+", type=_list_of(int), metavar="N",
                   help="training batch sizes (space or comma separated); inference also runs at each")
    p.add_argument("--infer-batch-sizes", nargs="+", type=_list_of(int), metavar="N",
                   help="inference batch sizes (default: 1 and each --batch-sizes)")
    p.add_argument("--resolution", type=int, help="image height = width in pixels")
    p.add_argument("--precision", nargs="+", type=_list_of(str, PRECISIONS), metavar="POLICY",
                   help=f"Keras dtype policies to sweep: {', '.join(PRECISIONS)}")
    p.add_argument("--jit", choices=JIT_CHOICES,
                   help="compile(jit_compile=...): on (XLA on TF, jax.jit on JAX, torch.compile on torch), off "
                        "(TF graph without XLA, eager JAX/torch), both (sweep), auto (Keras's choice)")
    p.add_argument("--warmup", type=int, help="untimed calls before timing (compilation happens here)")
    p.add_argument("--repeats", type=int, help="timed calls; the median, p10 and p90 are reported")
    p.add_argument("--json", metavar="PATH", help="append one JSON object per row to PATH")
    p.add_argument("--tiny", action="store_true", help="smallest settings, for a CPU smoke run")
    p.add_argument("--device-peak-tflops", type=float, metavar="TFLOPS",
                   help="peak TFLOP/s of the device (overrides the known-GPU table; needed for a %%peak on CPU)")
    p.add_argument("--skip-train", action="store_true", help="time inference only")
    p.add_argument("--skip-infer", action="store_true", help="time training only")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads of the backend's ops (torch.set_num_threads; TensorFlow intra/inter-op "
                        "pools); default: the backend's own")
    return p


def parse_args(parser, argv=None, defaults=None, tiny=None):
    """Parse ``argv`` and fill every flag not given from ``tiny`` (with ``--tiny``), then ``defaults``,
    then :data:`DEFAULTS` / :data:`TINY`."""
    table = dict(DEFAULTS, **(defaults or {}))
    tiny_table = dict(TINY, **(tiny or {}))
    show = lambda v: " ".join(map(str, v)) if isinstance(v, list) else str(v)  # noqa: E731
    for action in parser._actions:  # say the resolved defaults in --help
        if action.dest in table and table[action.dest] is not None and action.help:
            extra = f"default: {show(table[action.dest])}"
            if action.dest in tiny_table:
                extra += f"; with --tiny: {show(tiny_table[action.dest])}"
            action.help += f" ({extra})".replace("%", "%%")
    args = parser.parse_args(argv)
    if args.tiny:
        table.update(tiny_table)
    for key, value in table.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for key in ("batch_sizes", "infer_batch_sizes", "precision"):
        value = getattr(args, key)
        if value and isinstance(value[0], list):  # nargs="+" of comma lists
            setattr(args, key, [v for part in value for v in part])
    if args.infer_batch_sizes is None:
        args.infer_batch_sizes = sorted({1, *args.batch_sizes})
    if min(args.batch_sizes + args.infer_batch_sizes) < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("batch sizes and --repeats must be >= 1, --warmup >= 0")
    if getattr(args, "threads", None) is not None and args.threads < 1:
        parser.error("--threads must be >= 1")
    return args


# --------------------------------------------------------------------------------------------------------
# Running a benchmark
# --------------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Task:
    """An extra timed task of a :class:`Workload`: rows with ``task=name``, one per batch size, timed, filled,
    printed and written by the harness like the train and infer rows.

    make_fn(batch, jit): called once per row (under the dtype policy, with the jit setting of the sweep:
        "auto", True or False); returns ``fn`` -- the zero-argument call to time, warm-up included -- or
        ``(fn, jit_compile)`` (whether XLA / jit / torch.compile is on; ``None``: not applicable).
        NotImplementedError makes the row "unsupported".
    flops_per_item: FLOPs per image (int), or a zero-argument callable read after timing (for counts the
        timed calls find out, such as the windows a tiled call runs).
    fields: extra JSON fields of the rows (override the common ones, ``resolution`` included): a dict, set
        before timing, or ``fields(row) -> dict``, called on the filled row after timing (it sees the
        ``time_median_s`` etc., e.g. for a megapixels/s field).
    note(row): an optional line printed (after ``#   ``) under each ok row.
    """

    name: str
    batch_sizes: Sequence
    make_fn: Callable
    flops_per_item: object = None
    fields: object = dataclasses.field(default_factory=dict)
    note: Optional[Callable] = None


@dataclasses.dataclass
class Workload:
    """What a benchmark script builds (under the dtype policy the harness has set).

    gan: an uncompiled ``zoo.GAN`` (the harness compiles it with the jit setting and ``compile_kwargs``).
    network: the model timed for inference (usually ``gan.generator``).
    train_batch(n): one ``train_on_batch`` input of n real examples, synthetic (NumPy; moved to the device
        once, before timing). A tuple is spread: ``gan.train_on_batch(*batch)`` (e.g. SR ``(lr, hr)`` pairs).
    infer_batch(n): the network's input for n examples.
    train_flops / infer_flops: FLOPs per image; default from :func:`count_flops` of the generator and
        discriminator and :func:`gan_train_flops`. Models with unknown input dimensions (fully
        convolutional, ``(None, None, C)``) are counted on the shapes of ``infer_batch(1)`` (the network;
        the generator when it is the network) and ``train_batch(1)`` (the discriminator on what the trainer
        feeds it, ``gan.discriminator_inputs(*gan.unpack(batch))``, e.g. pix2pix's input and image
        concatenated; for a GAN without those hooks the batch, or a tuple's last element; a generator that
        is not the network on a tuple's first).
    info: extra fields for every JSON row (architecture settings, parameter counts).
    task_fields: {task name: fields} for the rows of one task only ("train", "infer" or an extra task's),
        e.g. a per-task ``resolution``.
    tasks: extra timed tasks: :class:`Task` objects or tuples of its fields
        ``(name, batch_sizes, make_fn, flops_per_item, fields[, note])``.
    """

    gan: object
    network: object
    train_batch: Callable
    infer_batch: Callable
    compile_kwargs: dict = dataclasses.field(default_factory=dict)
    train_flops: Optional[int] = None
    infer_flops: Optional[int] = None
    info: dict = dataclasses.field(default_factory=dict)
    task_fields: dict = dataclasses.field(default_factory=dict)
    tasks: list = dataclasses.field(default_factory=list)


def synthetic_images(n, size, channels=3, seed=0):
    """n random images in [-1, 1], channels-last float32."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (n, size, size, channels)).astype("float32")


def to_device(x):
    return keras.tree.map_structure(lambda a: keras.ops.convert_to_tensor(a), x)


def jit_settings(jit):
    """The jit values a ``--jit`` choice sweeps ("auto", True, False)."""
    return {"auto": ["auto"], "on": [True], "off": [False], "both": [False, True]}[jit]




def _jit_label(value):
    return value if value == "auto" else ("on" if value else "off")


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


def _training_supported():
    """(True, "") or (False, why): probes zoo.backend.gradients, which raises NotImplementedError for
    backends the trainer does not support yet."""
    from zoo import backend

    try:
        backend.gradients(lambda: keras.ops.convert_to_tensor(0.0), [])
    except NotImplementedError as e:
        return False, str(e)
    except Exception:
        pass
    return True, ""


def _compile_train(w, jit, supported, why):
    """The workload's GAN compiled for ``jit``; returns (one-iteration function, whether XLA/compile is on)."""
    if not supported:
        raise NotImplementedError(why)
    w.gan.compile(**({} if jit == "auto" else {"jit_compile": jit}), **w.compile_kwargs)
    return w.gan.train_on_batch, bool(w.gan.jit_compile)


def _predictor(model, jit):
    """x -> outputs left on the device, through the model's own predict path."""
    name = keras.backend.backend()
    if name == "jax":
        import jax

        tv = [v.value for v in model.trainable_variables]
        ntv = [v.value for v in model.non_trainable_variables]

        def f(tv, ntv, x):
            return model.stateless_call(tv, ntv, x, training=False)[0]

        resolved = jit is True or (jit == "auto")
        g = jax.jit(f) if resolved else f
        return (lambda x: g(tv, ntv, x)), resolved
    if jit != "auto":
        model.jit_compile = jit
    resolved = bool(model.jit_compile)
    model.make_predict_function(force=True)
    return (lambda x: model.predict_function([(x,)])), resolved


def row_base(app, env, args, precision, jit, task, batch):
    """The fields every row starts with (what ran, where, with which settings)."""
    return {
        "schema": SCHEMA, "app": app, "task": task, "batch_size": batch, "resolution": args.resolution,
        "precision": precision, "jit": _jit_label(jit), "backend": env["backend"], "device": env["device"],
        "accelerator": env["accelerator"], "host_cpu": env["host_cpu"], "cpu_count": env["cpu_count"],
        "versions": env["versions"], "warmup": args.warmup, "repeats": args.repeats,
        "threads": getattr(args, "threads", None),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }




def fill_row(row, timing, batch, flops, peak, memory):
    """Add a :class:`Timing`'s numbers, throughput, achieved TFLOP/s and peak memory to ``row`` (status ok)."""
    med = timing.median
    row.update({
        "status": "ok", "time_median_s": med, "time_p10_s": timing.p10, "time_p90_s": timing.p90,
        "times_s": timing.times, "first_call_s": timing.warmup_times[0] if timing.warmup_times else None,
        "images_per_s": batch / med, "latency_ms": med * 1e3,
        "flops_per_image": flops, "achieved_tflops": flops * batch / med / 1e12 if flops else None,
        "peak_memory_bytes": memory[0], "memory_kind": memory[1],
    })
    row["peak_share"] = row["achieved_tflops"] / peak if peak and row["achieved_tflops"] else None
    return row




def _spread(step, x):
    """A call of ``step`` on a batch: ``step(*x)`` for a tuple (``(x, y)`` pairs), else ``step(x)``."""
    return (lambda: step(*x)) if isinstance(x, tuple) else (lambda: step(x))


def _to_device_batch(batch):
    if isinstance(batch, tuple):
        return tuple(to_device(b) for b in batch)
    return to_device(batch)


def _harness_tasks(w, jit, args, flops, train_ok, train_why):
    """The train and infer tasks as :class:`Task` objects (each compiles once, on its first row)."""
    tasks = []
    if not args.skip_train:
        cache = {}

        def make_train(batch, _jit):
            if "step" not in cache:
                cache["step"] = _compile_train(w, jit, train_ok, train_why)
            step, compiled = cache["step"]
            return _spread(step, _to_device_batch(w.train_batch(batch))), compiled

        tasks.append(Task("train", args.batch_sizes, make_train, flops["train"]))
    if not args.skip_infer:
        cache_i = {}

        def make_infer(batch, _jit):
            if "predict" not in cache_i:
                cache_i["predict"] = _predictor(w.network, jit)
            predict, compiled = cache_i["predict"]
            x = to_device(w.infer_batch(batch))
            return (lambda: predict(x)), compiled

        tasks.append(Task("infer", args.infer_batch_sizes, make_infer, flops["infer"]))
    return tasks


def _resolve(value):
    return value() if callable(value) else value


def _run_row(row, task, batch, jit, args, peak):
    """Time one row of ``task``; fills ``row`` (ok, unsupported or error)."""
    try:
        made = task.make_fn(batch, jit)
        fn, compiled = made if isinstance(made, tuple) else (made, None)
        row.update(jit_compile=compiled, exec_mode=exec_mode(compiled) if compiled is not None else "-")
        if jit is True and compiled is False:
            raise NotImplementedError("jit_compile=True is not supported for this model on "
                                      "this backend (Keras fell back to False)")
        free_memory()
        reset_peak_memory()
        t = time_calls(fn, args.warmup, args.repeats, synchronize)
        memory = peak_memory()
        if not callable(task.fields):
            row.update(task.fields or {})
        fill_row(row, t, batch, _resolve(task.flops_per_item), peak, memory)
        if callable(task.fields):
            row.update(task.fields(row) or {})
    except NotImplementedError as e:
        row.update(status="unsupported", error=str(e))
    except Exception as e:
        row.update(status="error", error=f"{type(e).__name__}: {e}")
    return row


def run(args, build, app):
    """Sweep precision x jit x batch size; print a table; append JSON lines; return the rows."""
    set_threads(getattr(args, "threads", None))
    env = environment()
    print(f"# {app}: Keras {keras.__version__} on {env['backend']}, device: {env['device']}")
    print("# versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    threads = f", {args.threads} CPU threads" if getattr(args, "threads", None) else ""
    print(f"# resolution {args.resolution}, warm-up {args.warmup} + repeats {args.repeats} calls per row, "
          f"median and p10-p90 of the timed calls{threads}")
    print(f"# FLOPs counted: {COUNTED_SHORT}; training FLOPs/image: gan_train_flops (4 G + 8 D at k=1) "
          "unless the app gives its own")
    train_ok, train_why = _training_supported()
    rows, flops, printed_header = [], {}, False
    for precision in args.precision:
        for jit in jit_settings(args.jit):
            keras.backend.clear_session()
            free_memory(reset_compiler=True)
            keras.config.set_dtype_policy(precision)
            basis = peak_basis(precision, env)
            peak = peak_tflops(env["device"] if env["accelerator"] != "cpu" else None, basis,
                               args.device_peak_tflops)
            try:
                w = build(args)
                if not flops:
                    flops.update(_workload_flops(w))
            except Exception as e:  # a precision this backend/device cannot build
                row = row_base(app, env, args, precision, jit, "build", None)
                row.update(status="error", error=f"{type(e).__name__}: {e}")
                rows.append(row)
                printed_header = emit(row, args, printed_header)
                continue
            common = {"peak_tflops": peak, "peak_basis": basis, "train_flops_per_image": flops["train"],
                      "infer_flops_per_image": flops["infer"], "flops_counted": COUNTED_SHORT,
                      "flops_not_counted": flops["uncounted"], **w.info}
            tasks = _harness_tasks(w, jit, args, flops, train_ok, train_why)
            tasks += [t if isinstance(t, Task) else Task(*t) for t in w.tasks]
            for task in tasks:
                for batch in task.batch_sizes:
                    row = {**row_base(app, env, args, precision, jit, task.name, batch), **common,
                           **w.task_fields.get(task.name, {})}
                    rows.append(_run_row(row, task, batch, jit, args, peak))
                    printed_header = emit(row, args, printed_header, task.note)
            del w
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")
    skipped = sorted({c for r in rows for c in r.get("flops_not_counted") or []})
    if skipped:
        print(f"# FLOPs not counted in weighted layers: {', '.join(skipped)}")
    kinds = {r.get("memory_kind") for r in rows if r.get("memory_kind")}
    for kind in sorted(kinds):
        print(f"# peak mem: {kind}")
    if any(r.get("peak_basis") and r.get("peak_tflops") is None for r in rows):
        print("# %peak: device peak unknown (pass --device-peak-tflops)")
    if args.json:
        print(f"# {len(rows)} rows appended to {args.json}")
    return rows


def _static(model):
    """Whether every input of ``model`` has known dimensions (beyond the batch)."""
    specs = getattr(model, "inputs", None)
    return bool(specs) and all(d is not None for t in specs for d in tuple(t.shape[1:]))


def _batch_shape(batch, pick=None):
    if isinstance(batch, tuple) and pick is not None:
        batch = batch[pick]
    if isinstance(batch, (list, tuple)):
        return [tuple(np.shape(b)) for b in batch]
    return tuple(np.shape(batch))


def _discriminator_shape(w):
    """Shape(s) of D's input for one real example: what the trainer feeds D, ``gan.discriminator_inputs`` of
    ``gan.unpack(train_batch(1))`` (a conditional D's concatenated or listed inputs), where the GAN has those
    hooks; else the batch, or a tuple's last element."""
    batch = w.train_batch(1)
    gan = w.gan
    if not (hasattr(gan, "unpack") and hasattr(gan, "discriminator_inputs")):
        return _batch_shape(batch, -1)
    x = gan.discriminator_inputs(*gan.unpack(batch))
    shape = lambda t: tuple(int(d) for d in keras.ops.shape(t))  # noqa: E731
    return [shape(t) for t in x] if isinstance(x, (list, tuple)) else shape(x)


def _workload_flops(w):
    g = w.gan.generator
    d = w.gan.discriminator
    memo = {}

    def count(model, batch_shape):
        if id(model) not in memo:
            memo[id(model)] = count_flops(model, input_shape=None if _static(model) else batch_shape())
        return memo[id(model)]

    counts = [count(w.network, lambda: _batch_shape(w.infer_batch(1)))]
    if d is not None:
        counts.append(count(d, lambda: _discriminator_shape(w)))
    if g is not None:
        counts.append(count(g, lambda: _batch_shape(w.infer_batch(1))) if g is w.network
                      else count(g, lambda: _batch_shape(w.train_batch(1), 0)))
    uncounted = sorted({c for fc in counts for c in fc.uncounted})
    infer = w.infer_flops if w.infer_flops is not None else memo[id(w.network)].total
    if w.train_flops is not None:
        train = w.train_flops
    else:
        train = gan_train_flops(memo[id(g)].total, memo[id(d)].total, getattr(w.gan, "d_steps", 1))
    return {"train": int(train), "infer": int(infer), "uncounted": uncounted}


# --------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------
COLUMNS = (("task", 5), ("precision", 14), ("jit", 4), ("mode", 13), ("batch", 5), ("median ms", 10),
           ("p10-p90 ms", 17), ("img/s", 9), ("GFLOP/img", 9), ("TFLOP/s", 9), ("%peak", 6), ("peak mem", 10))


def _fmt_bytes(n):
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _num(x, fmt):
    return "-" if x is None else format(x, fmt)


def format_header():
    return "  ".join(f"{name:>{w}}" if i > 3 else f"{name:<{w}}" for i, (name, w) in enumerate(COLUMNS))


def format_row(r):
    if r.get("status") != "ok":
        head = [r["task"], r["precision"], r["jit"], r.get("exec_mode") or "", str(r.get("batch_size") or "")]
        cells = [f"{v:<{w}}" for v, (_, w) in zip(head, COLUMNS)]
        return "  ".join(cells) + f"  {r.get('status', '?').upper()}: {str(r.get('error', ''))[:160]}"
    gflop = r["flops_per_image"] / 1e9 if r.get("flops_per_image") else None
    share = 100 * r["peak_share"] if r.get("peak_share") is not None else None
    values = [r["task"], r["precision"], r["jit"], r["exec_mode"], str(r["batch_size"]),
              f"{r['time_median_s'] * 1e3:.2f}",
              f"{r['time_p10_s'] * 1e3:.2f}-{r['time_p90_s'] * 1e3:.2f}",
              f"{r['images_per_s']:.1f}", _num(gflop, ".4g"), _num(r.get("achieved_tflops"), ".3g"),
              _num(share, ".3g"), _fmt_bytes(r.get("peak_memory_bytes"))]
    return "  ".join(f"{v:>{w}}" if i > 3 else f"{v:<{w}}" for i, (v, (_, w)) in enumerate(zip(values, COLUMNS)))


def emit(row, args, printed_header=False, note=None):
    """Print ``row`` (the header first unless ``printed_header``; ``note(row)`` as a ``#`` line under an ok
    row) and append it to ``args.json``; returns True (the header is printed)."""
    if not printed_header:
        print(format_header())
    print(format_row(row), flush=True)
    if note is not None and row.get("status") == "ok":
        text = note(row)
        if text:
            print(f"#   {text}", flush=True)
    if args.json:
        folder = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(folder, exist_ok=True)
        with open(args.json, "a") as f:
            f.write(json.dumps(row, default=_json_default) + "\n")
    return True




def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    return str(o)


def main(build, app, description, argv=None, defaults=None, tiny=None, add_arguments=None):
    """Entry point of a ``benchmarks/<app>.py``: parse flags (``add_arguments(parser)`` adds the app's own),
    run, and return the exit status (1 if any row failed with an error; "unsupported" rows do not count)."""
    parser = make_parser(description)
    if add_arguments:
        add_arguments(parser)
    args = parse_args(parser, argv, defaults, tiny)
    set_threads(args.threads)
    rows = run(args, build, app)
    return 1 if any(r.get("status") == "error" for r in rows) else 0
