"""Every shipped generator as a SavedModel, a LiteRT (TFLite) model or an ONNX model, to run outside Python
training code, and each format run back by its own runtime.

    from zoo.apps import srgan
    from zoo import export
    export.export(srgan.pretrained(), "srresnet_x4.onnx")     # or model.export("srresnet_x4.onnx")
    sr = export.load("srresnet_x4.onnx")(image=lr)            # onnxruntime; lr float32 (1, h, w, 3) in [0, 1]

    zoo export srgan --format onnx -o srresnet_x4.onnx

What is exported is the generator's ``export_graph()`` (``zoo.models.Generator.export_graph``): NHWC float32
images in [0, 1] in and out (multiply by 255 and round for uint8), named inputs (``image``; inpainting also
``mask``; latent generators ``z`` and, class-conditional, ``label`` int32), one output named ``output``, batch
size and (image inputs) height and width left free. What each app's Python call adds around the network stays
in Python: the SR model's tiling (the exported graph is one window), cyclegan's resizing to its training scale,
inpainting's padding to multiples of 8, ``max_side`` / ``max_depth`` scaling and Poisson blending, pix2pix's
resizing to multiples of 256. Pix2pix presets normalise each image by its own statistics in the exported graph
too, for any batch size.

Formats (the writers run on the TensorFlow backend; weights trained on any backend load there):

* ``savedmodel``: a folder; signature ``serving_default`` (TensorFlow Serving, ``tf.saved_model.load``).
* ``litert``: a ``.tflite`` file of TFLite built-in operators only (no TensorFlow ops), so the stand-alone
  ``ai-edge-litert`` interpreter and mobile runtimes run it; signature ``serving_default``.
* ``onnx``: a ``.onnx`` file written by ``tf2onnx`` (default opset), for ``onnxruntime`` and the like.

The converters and runtimes are the ``[export]`` extra: ``pip install "zoo-gan[export]"``.
"""
import functools
import importlib
import os
import shutil
import tempfile

import numpy as np

FORMATS = ("savedmodel", "litert", "onnx")
#: Keras's names of the formats, accepted too
ALIASES = {"tf_saved_model": "savedmodel", "tflite": "litert"}
EXTENSIONS = {"litert": ".tflite", "onnx": ".onnx"}
NAMES = {"savedmodel": "SavedModel", "litert": "LiteRT", "onnx": "ONNX"}
EXTRA = 'pip install "zoo-gan[export]"'
#: format -> (modules that write it, module that runs it)
_WRITERS = {"savedmodel": ("tensorflow",), "litert": ("tensorflow",), "onnx": ("tensorflow", "tf2onnx", "onnx")}
_RUNTIMES = {"savedmodel": "tensorflow", "litert": "ai_edge_litert", "onnx": "onnxruntime"}
#: the order of the inputs for positional calls of ``Exported``
INPUT_ORDER = ("z", "label", "words", "image", "mask")


class ExportError(ValueError):
    """The converter could not express the graph in the format (names the operation and the layer)."""


def check_format(format):
    """``format`` (a name or one of Keras's aliases) as one of ``FORMATS``."""
    name = ALIASES.get(format, format)
    if name not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    return name


def format_of(path):
    """The format a path names: ``.tflite`` -> litert, ``.onnx`` -> onnx, anything else (a folder) -> savedmodel."""
    ext = os.path.splitext(str(path))[1].lower()
    return {v: k for k, v in EXTENSIONS.items()}.get(ext, "savedmodel")


def _require(modules, format, purpose):
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise ImportError(f"{purpose} {NAMES[format]} needs the Python package {name!r}, which is not installed: "
                              f"{EXTRA}") from e


def export(model, path, format=None, overwrite=False, float16=False, **options):
    """Write ``model.export_graph(**options)`` (see the module docstring) to ``path`` in ``format``
    (default: from the extension; ``.tflite`` litert, ``.onnx`` onnx, else a SavedModel folder). Refuses an
    existing ``path`` unless ``overwrite``; the result is written beside it and moved into place when complete,
    so a failure leaves nothing half-written. Returns ``path``. ``options``: the app's ``export_graph`` arguments
    (cyclegan: ``direction``).

    ``float16=True`` (LiteRT only): weights stored as float16, half the file, computed in float32 after loading;
    each model card gives its PSNR against the float32 graph (``benchmarks/export.py``)."""
    from zoo.files import temp_prefix, temporary

    format = check_format(format or format_of(path))
    path = check_target(path, format, overwrite)
    if float16 and format != "litert":
        raise ValueError(f"float16 weights are offered for LiteRT files only, not {NAMES[format]}")
    if not hasattr(model, "export_graph"):
        raise TypeError(f"{type(model).__name__} is not a zoo generator (it has no export_graph)")
    _require(_WRITERS[format], format, "writing")
    graph = model.export_graph(**options)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(dir=parent, prefix=temp_prefix(os.path.basename(path)))
    try:
        with temporary(work):
            out = os.path.join(work, "new" + EXTENSIONS.get(format, ""))
            write = {"savedmodel": _savedmodel, "litert": functools.partial(_litert, float16=float16),
                     "onnx": _onnx}
            write[format](graph, out)
            _replace(out, path, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def check_target(path, format, overwrite=False):
    """What ``export`` checks before any work, returned as ``path`` (a ``str``): the name fits ``format``, the
    process runs the TensorFlow backend (the writers need it), and an existing ``path`` is replaced only with
    ``overwrite`` and only when it is an export of that format (a SavedModel folder, a ``.tflite`` / ``.onnx``
    file): a folder of other files is never deleted."""
    path = os.fspath(path)
    name = os.path.basename(os.path.normpath(path)) if path else ""
    if name in ("", ".", "..") or path.endswith(os.sep + ".."):
        raise ValueError(f"{path!r} names no model: give a new folder (savedmodel), a .tflite or a .onnx file name")
    want = EXTENSIONS.get(format)
    if want and not path.lower().endswith(want):
        raise ValueError(f"a {NAMES[format]} model is a {want} file; {path!r} has another extension")
    if format == "savedmodel" and os.path.splitext(path)[1].lower() in (".tflite", ".onnx", ".h5", ".keras"):
        raise ValueError(f"a SavedModel is a folder; {path!r} has a file extension")
    backend = _keras_backend()
    if backend != "tensorflow":
        raise ValueError(f"export writes on the TensorFlow backend; this process runs {backend!r}: run it with "
                         f"KERAS_BACKEND=tensorflow (weights trained on any backend load there)")
    if os.path.lexists(path):
        if not overwrite:
            raise FileExistsError(f"{path} exists; pass --overwrite (export(..., overwrite=True)) to replace it")
        if not _is_export(path, format):
            raise ValueError(f"{path} exists and is not a {NAMES[format]} model"
                             + (" (a folder without saved_model.pb)" if format == "savedmodel" else "")
                             + "; refusing to replace it: choose another name")
    return path


def _keras_backend():
    """The Keras backend of this process, read without importing Keras while it is not loaded yet (so ``zoo
    export``'s refusals answer at once): ``$KERAS_BACKEND``, else ``keras.json``'s, else tensorflow, as Keras
    chooses."""
    import json
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return json.load(f).get("backend") or "tensorflow"
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _is_export(path, format):
    if format == "savedmodel":
        return os.path.isdir(path) and os.path.isfile(os.path.join(path, "saved_model.pb"))
    return os.path.isfile(path)


def _replace(new, path, work):
    """Move the finished ``new`` to ``path``, an existing file or folder there going only once ``new`` is in."""
    old = None
    if os.path.lexists(path):
        old = os.path.join(work, "old")
        os.rename(path, old)
    try:
        os.rename(new, path)
    except OSError:
        if old:
            os.rename(old, path)
        raise


def _signature(graph):
    """The graph's inputs as named ``tf.TensorSpec`` (free batch, and free sides where the network has them)."""
    import tensorflow as tf

    return [tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]) for t in graph.inputs]


def _serving(graph):
    """The graph as a function of its inputs, one positional argument each (the order of ``_signature``)."""
    return lambda *x: graph(list(x), training=False)


def _savedmodel(graph, out):
    """Keras's ExportArchive with one endpoint of the named inputs, returning ``{"output": ...}``."""
    import keras

    archive = keras.export.ExportArchive()
    archive.track(graph)
    archive.add_endpoint("serve", _serving(graph), input_signature=_signature(graph))
    archive.write_out(out, verbose=False)


def _litert(graph, out, float16=False):
    import tensorflow as tf

    saved = out + ".savedmodel"  # TensorFlow's path for Keras 3 models: SavedModel -> converter
    _savedmodel(graph, saved)
    converter = tf.lite.TFLiteConverter.from_saved_model(saved)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    try:
        flat = converter.convert()
    except Exception as e:  # the converter's ConverterError names each operation it could not express
        import re

        found = [(op, path) for op, path in re.findall(r'fused\["(\w+):", "([^"@]+)@', str(e))
                 if not op.endswith("PartitionedCall")]
        if not found:
            raise
        raise ExportError(_unsupported("litert", graph, found, "only TFLite built-in operators are written, so "
                                                               "the stand-alone runtime runs the file")) from None
    with open(out, "wb") as f:
        f.write(flat)


def _onnx(graph, out):
    import logging

    import onnx
    import tensorflow as tf
    import tf2onnx

    spec = _signature(graph)
    serve = tf.function(_serving(graph), input_signature=spec)
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # it logs every rewriter it tries; failures are raised below
    try:
        _patch_tf2onnx()
        proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec)
    finally:
        logger.setLevel(level)
    constants = {t.name for t in proto.graph.initializer}  # tf2onnx lists some constants as inputs too
    for item in [i for i in proto.graph.input if i.name in constants]:
        proto.graph.input.remove(item)
    names = [t.name for t in spec]
    extra = [i.name for i in proto.graph.input if i.name not in names]
    if extra:
        raise ExportError(f"onnx: the converted graph of {graph.name} wants inputs besides {', '.join(names)}: "
                          f"{', '.join(extra[:3])} (a tensor the graph captured instead of computing)")
    found = [(n.op_type, n.name) for n in proto.graph.node if not onnx.defs.has(n.op_type, n.domain)]
    if found:  # tf2onnx keeps an operation it cannot convert as it is, which no ONNX runtime runs
        raise ExportError(_unsupported("onnx", graph, found))
    with open(out, "wb") as f:
        f.write(proto.SerializeToString())


def _patch_tf2onnx():
    """tf2onnx 1.17 still uses NumPy aliases that NumPy 2 removed; Keras ships the same patch."""
    import warnings

    try:
        from keras.src.export.tf2onnx_lib import patch_tf2onnx
    except ImportError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        patch_tf2onnx()


def _unsupported(format, graph, found, detail=""):
    """The error for operations ``found`` (``[(op type, graph node path)]``) that ``format`` cannot express,
    naming each with the layer it comes from (the node path's components that are layer names)."""
    import re

    names = {layer.name for layer in graph._flatten_layers()}
    where = {}
    for op, path in found:
        parts = [p for p in (re.sub(r"_\d+$", "", part) for part in path.split("/")) if p in names]
        where.setdefault(op, set()).add("/".join(parts[1:]) or path)
    listed = "; ".join(f"{op} in layer {', '.join(sorted(layers)[:3])}" for op, layers in sorted(where.items()))
    return (f"{format} cannot express {listed or 'an operation'} of {graph.name}"
            + (f" ({detail})" if detail else ""))


def load(path, format=None):
    """An exported model run by its own runtime (``Exported``), on every core this process may use."""
    return Exported(path, format)


class Exported:
    """A model written by ``export``, run by its format's runtime: TensorFlow for a SavedModel, the
    ``ai-edge-litert`` interpreter for LiteRT, ``onnxruntime`` for ONNX (CPU).

    ``Exported(path)(image=x)`` or positionally in ``inputs`` order (``z, label, words, image, mask``) returns the
    ``output`` array. ``inputs``: the input names."""

    def __init__(self, path, format=None):
        path = os.fspath(path)
        self.format = check_format(format or format_of(path))
        if not os.path.exists(path):
            raise FileNotFoundError(f"no exported model at {path}")
        _require([_RUNTIMES[self.format]], self.format, "running")
        self.path = path
        try:
            self._open(path)
        except Exception as e:  # each runtime has its own errors for a file that is not its format
            raise ValueError(f"{path} is not a {NAMES[self.format]} model {_RUNTIMES[self.format]} can load: "
                             f"{_first_line(e)}") from None

    def _open(self, path):
        if self.format == "savedmodel":
            import tensorflow as tf

            self._fn = tf.saved_model.load(path).signatures["serving_default"]
            names = list(self._fn.structured_input_signature[1])
            self._run = lambda feed: self._fn(**feed)["output"].numpy()
        elif self.format == "litert":
            from ai_edge_litert.interpreter import Interpreter

            from zoo.bench.env import usable_cores

            interpreter = Interpreter(model_path=path, num_threads=usable_cores())  # its default is one thread
            self._fn = interpreter.get_signature_runner("serving_default")
            names = list(interpreter.get_signature_list()["serving_default"]["inputs"])
            self._run = lambda feed: self._fn(**feed)["output"]
        else:
            import onnxruntime

            onnxruntime.set_default_logger_severity(3)
            options = onnxruntime.SessionOptions()
            options.log_severity_level = 3
            self._fn = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            names = [i.name for i in self._fn.get_inputs()]
            self._run = lambda feed: self._fn.run(["output"], feed)[0]
        self.inputs = sorted(names, key=lambda n: INPUT_ORDER.index(n) if n in INPUT_ORDER else len(INPUT_ORDER))

    def __call__(self, *args, **named):
        if args:
            if named or len(args) != len(self.inputs):
                raise TypeError(f"pass the inputs {', '.join(self.inputs)} by name, or all of them in that order")
            named = dict(zip(self.inputs, args))
        if sorted(named) != sorted(self.inputs):
            raise TypeError(f"this model takes the inputs {', '.join(self.inputs)}, got {', '.join(named) or 'none'}")
        feed = {k: np.ascontiguousarray(v, "int32" if k in ("label", "words") else "float32") for k, v in named.items()}
        try:
            return np.asarray(self._run(feed))
        except Exception as e:  # the runtime's own words for inputs of the wrong shape
            shapes = ", ".join(f"{k} {v.shape}" for k, v in feed.items())
            raise ValueError(f"{self.path} cannot run on inputs of shapes {shapes}: {_first_line(e)}") from None

    def __repr__(self):
        return f"Exported({self.path!r}, format={self.format!r}, inputs={self.inputs})"


def _first_line(error, limit=300):
    text = " ".join(str(error).strip().splitlines()[:1]) or type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."
