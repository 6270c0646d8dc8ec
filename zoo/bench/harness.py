"""The run loop of ``benchmarks/<app>.py``: the shared flags, :class:`Workload` / :class:`Task`, :func:`run`.

A benchmark script supplies ``build(args) -> Workload`` (a fresh GAN, the network to time for inference,
synthetic batches) and calls :func:`main` (or :func:`make_parser`, :func:`parse_args` and :func:`run`). For
each precision x jit setting the harness builds the workload, times one training iteration per training batch
size (``gan.train_on_batch``, the model's own compiled train function), the inference network at each
inference batch size and the workload's extra tasks, and prints and writes a row per timing
(:mod:`zoo.bench.report`).

FLOPs per image: inference from :func:`zoo.bench.flops.count_flops` of the network; training from the
trainer's own ``gan.iteration_flops(batch, count)`` (see :func:`workload_flops`); ``Workload.train_flops`` /
``infer_flops`` override both.
"""
import argparse
import dataclasses
from typing import Callable, Optional, Sequence

import keras
import numpy as np

from zoo.bench.env import (environment, exec_mode, free_memory, peak_basis, peak_memory, peak_tflops,
                           reset_peak_memory, set_threads)
from zoo.bench.flops import COUNTED_SHORT, Counter
from zoo.bench.report import emit, fill_row, row_base
from zoo.bench.timing import synchronize, time_calls

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
JIT_CHOICES = ("auto", "on", "off", "both")

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


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that keeps what ``add_argument`` returns: ``flags`` ({dest: action}) and the help
    each flag was added with (``plain_help``), so :func:`parse_args` can say the resolved defaults in ``--help``
    through public argparse objects."""

    def __init__(self, *args, **kwargs):
        self.flags, self.plain_help = {}, {}
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.flags[action.dest], self.plain_help[action.dest] = action, action.help
        return action


def make_parser(description, helps=None):
    """The flags every benchmark shares; a script adds its own before :func:`parse_args`. Every default is
    None here and resolved by :func:`parse_args`, so ``--tiny`` changes only what was not given. ``helps``:
    {dest: help} replacing the shared flags' help, for an app that reads a flag its own way."""
    helps = helps or {}
    p = Parser(description=description)

    def add(*names, help, **kwargs):
        dest = names[0].lstrip("-").replace("-", "_")
        p.add_argument(*names, help=helps.get(dest, help), **kwargs)

    add("--batch-sizes", nargs="+", type=_list_of(int), metavar="N",
        help="training batch sizes (space or comma separated); inference also runs at each")
    add("--infer-batch-sizes", nargs="+", type=_list_of(int), metavar="N",
        help="inference batch sizes (default: 1 and each --batch-sizes)")
    add("--resolution", type=int, help="image height = width in pixels")
    add("--precision", nargs="+", type=_list_of(str, PRECISIONS), metavar="POLICY",
        help=f"Keras dtype policies to sweep: {', '.join(PRECISIONS)}")
    add("--jit", choices=JIT_CHOICES,
        help="compile(jit_compile=...): on (XLA on TF, jax.jit on JAX, torch.compile on torch), off "
             "(TF graph without XLA, eager JAX/torch), both (sweep), auto (Keras's choice)")
    add("--warmup", type=int, help="untimed calls before timing (compilation happens here)")
    add("--repeats", type=int, help="timed calls; the median, p10 and p90 are reported")
    add("--json", metavar="PATH", help="append one JSON object per row to PATH")
    add("--tiny", action="store_true", help="smallest settings, for a CPU smoke run")
    add("--device-peak-tflops", type=float, metavar="TFLOPS",
        help="peak TFLOP/s of the device (overrides the known-GPU table; needed for a %%peak on CPU)")
    add("--skip-train", action="store_true", help="time inference only")
    add("--skip-infer", action="store_true", help="time training only")
    add("--threads", type=int, metavar="N",
        help="CPU threads of the backend's ops (torch.set_num_threads; TensorFlow intra/inter-op "
             "pools); default: the backend's own")
    from zoo import distribute

    distribute.add_arguments(p)  # --distribute, --devices: time the step on several devices (scaling rows)
    unknown = set(helps) - set(p.flags)
    if unknown:
        raise ValueError(f"helps= names no shared flag: {sorted(unknown)}")
    return p


def parse_args(parser, argv=None, defaults=None, tiny=None):
    """Parse ``argv`` and fill every flag not given from ``tiny`` (with ``--tiny``), then ``defaults``,
    then :data:`DEFAULTS` / :data:`TINY`. On a :class:`Parser` (what :func:`make_parser` returns), each flag's
    ``--help`` also says its resolved default."""
    table = dict(DEFAULTS, **(defaults or {}))
    tiny_table = dict(TINY, **(tiny or {}))
    show = lambda v: " ".join(map(str, v)) if isinstance(v, list) else str(v)  # noqa: E731
    for dest, action in getattr(parser, "flags", {}).items():  # say the resolved defaults in --help
        plain = parser.plain_help[dest]
        if table.get(dest) is not None and plain:
            extra = f"default: {show(table[dest])}"
            if dest in tiny_table:
                extra += f"; with --tiny: {show(tiny_table[dest])}"
            action.help = plain + f" ({extra})".replace("%", "%%")
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

    gan: an uncompiled ``zoo.GAN`` (the harness compiles it with the jit setting and ``compile_kwargs``);
        its ``iteration_flops(batch, count)``, where it has one, says the training FLOPs per image.
    network: the model timed for inference (usually ``gan.generator``).
    train_batch(n): one ``train_on_batch`` input of n real examples, synthetic (NumPy; moved to the device
        once, before timing). A tuple is spread: ``gan.train_on_batch(*batch)`` (e.g. SR ``(lr, hr)`` pairs).
    infer_batch(n): the network's input for n examples.
    train_flops / infer_flops: FLOPs per image, overriding the counts of :func:`workload_flops` (infer: the
        network's :func:`count_flops`; train: the trainer's ``gan.iteration_flops(train_batch(1), count)``
        where it has one).
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


def _compile_train(w, jit):
    """The workload's GAN compiled for ``jit``; returns (one-iteration function, whether XLA/compile is on)."""
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


def _spread(step, x):
    """A call of ``step`` on a batch: ``step(*x)`` for a tuple (``(x, y)`` pairs), else ``step(x)``."""
    return (lambda: step(*x)) if isinstance(x, tuple) else (lambda: step(x))


def _to_device_batch(batch):
    if isinstance(batch, tuple):
        return tuple(to_device(b) for b in batch)
    return to_device(batch)


def _harness_tasks(w, jit, args, flops):
    """The train and infer tasks as :class:`Task` objects (each compiles once, on its first row)."""
    tasks = []
    if not args.skip_train:
        cache = {}

        def make_train(batch, _jit):
            if "step" not in cache:
                cache["step"] = _compile_train(w, jit)
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
    """Sweep precision x jit x batch size; print a table; append JSON lines; return the rows. With
    ``--distribute`` the trainer is built and timed under that ``zoo.distribute`` setup: the batch sizes are global
    batches split over ``--devices`` (rows say ``distribute`` and ``devices``)."""
    from zoo import distribute

    setup = distribute.setup(getattr(args, "distribute", None), getattr(args, "devices", None))  # before TF starts
    set_threads(getattr(args, "threads", None))
    env = environment()
    print(f"# {app}: Keras {keras.__version__} on {env['backend']}, device: {env['device']}")
    print("# versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    threads = f", {args.threads} CPU threads" if getattr(args, "threads", None) else ""
    print(f"# resolution {args.resolution}, warm-up {args.warmup} + repeats {args.repeats} calls per row, "
          f"median and p10-p90 of the timed calls{threads}")
    print(f"# FLOPs counted: {COUNTED_SHORT}; training FLOPs/image: the trainer's own iteration_flops")
    if setup.name != "none":
        print(f"# distributed: {setup} (batch sizes are global batches)")
    rows, flops, printed_header = [], {}, False
    for precision in args.precision:
        for jit in jit_settings(args.jit):
            keras.backend.clear_session()
            free_memory(reset_compiler=True)
            keras.config.set_dtype_policy(precision)
            basis = peak_basis(precision, env)
            peak = peak_tflops(env["device"] if env["accelerator"] != "cpu" else None, basis,
                               args.device_peak_tflops)
            scope = setup.scope()
            scope.__enter__()  # left below, after this sweep's rows (the trainer compiles on its first row)
            try:
                w = build(args)
                if not flops:
                    flops.update(workload_flops(w))
            except Exception as e:  # a precision this backend/device cannot build
                row = row_base(app, env, args, precision, jit, "build", None)
                row.update(status="error", error=f"{type(e).__name__}: {e}")
                rows.append(row)
                printed_header = emit(row, args, printed_header)
                scope.__exit__(None, None, None)
                continue
            common = {"peak_tflops": peak, "peak_basis": basis, "train_flops_per_image": flops["train"],
                      "distribute": setup.name, "devices": setup.replicas,
                      "infer_flops_per_image": flops["infer"], "flops_counted": COUNTED_SHORT,
                      "flops_not_counted": flops["uncounted"], **w.info}
            tasks = _harness_tasks(w, jit, args, flops)
            tasks += [t if isinstance(t, Task) else Task(*t) for t in w.tasks]
            for task in tasks:
                for batch in task.batch_sizes:
                    row = {**row_base(app, env, args, precision, jit, task.name, batch), **common,
                           **w.task_fields.get(task.name, {})}
                    rows.append(_run_row(row, task, batch, jit, args, peak))
                    printed_header = emit(row, args, printed_header, task.note)
            scope.__exit__(None, None, None)
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


def workload_flops(w):
    """{"train", "infer": FLOPs per image, "uncounted": weighted layer classes not counted} of a workload.

    infer: ``w.infer_flops``, else :func:`count_flops` of ``w.network`` (on ``infer_batch(1)``'s shape when its
    inputs have unknown dimensions). train: ``w.train_flops``, else the trainer's own
    ``w.gan.iteration_flops(w.train_batch(1), count)`` (``count``: a :class:`zoo.bench.flops.Counter`, the
    forward FLOPs of one call of a network on the inputs the trainer feeds it), else None.
    """
    counter = Counter()
    network = counter.flop_count(w.network, _input_shape(w.network, lambda: w.infer_batch(1)))  # also for uncounted
    infer = w.infer_flops if w.infer_flops is not None else network.total
    if w.train_flops is not None:
        train = w.train_flops
    elif hasattr(w.gan, "iteration_flops"):
        train = int(w.gan.iteration_flops(w.train_batch(1), counter))
    else:
        train = None  # a trainer that does not say what its iteration computes
    return {"train": train, "infer": int(infer), "uncounted": counter.uncounted}


def _input_shape(model, batch):
    """None for a model whose inputs have known dimensions (beyond the batch); else its inputs' shapes with
    the unknown dimensions (and the batch) from ``batch()``'s arrays."""
    specs = list(getattr(model, "inputs", None) or [])
    if specs and all(d is not None for t in specs for d in tuple(t.shape[1:])):
        return None
    x = batch()
    given = [tuple(np.shape(b)) for b in x] if isinstance(x, (list, tuple)) else [tuple(np.shape(x))]
    if len(specs) != len(given) or any(len(t.shape) != len(s) for t, s in zip(specs, given)):
        return given
    return [(s[0],) + tuple(s[i] if d is None else int(d) for i, d in enumerate(t.shape) if i)
            for t, s in zip(specs, given)]


def main(build, app, description, argv=None, defaults=None, tiny=None, add_arguments=None, helps=None):
    """Entry point of a ``benchmarks/<app>.py``: parse flags (``add_arguments(parser)`` adds the app's own;
    ``helps`` rewords shared ones, see :func:`make_parser`), run, and return the exit status
    (:func:`exit_status`)."""
    parser = make_parser(description, helps)
    if add_arguments:
        add_arguments(parser)
    args = parse_args(parser, argv, defaults, tiny)
    return exit_status(run(args, build, app))


def exit_status(rows):
    """1 if any row failed with an error ("unsupported" rows do not count), else 0."""
    return 1 if any(r.get("status") == "error" for r in rows) else 0
