"""zoo against a peer: the same rows timed in another framework, alternated with zoo's in one process.

A benchmark's ``--peer`` flag calls :func:`peer_rows` with a peer module (``benchmarks/peers/``: ``NAME``,
``torch``, ``make(task, args, batch, device) -> Call | None``). For each jit setting, each of zoo's tasks the peer
also has (``train``, ``infer``, an app's own) and each batch size:

1. the peer's networks must have zoo's trainable parameter counts (else the run stops before timing);
2. ``PEER_WARMUP`` untimed calls each, then ``--repeats`` rounds of [zoo x ``PEER_CALLS``, peer x
   ``PEER_CALLS``], so that both see the same machine state (turbo, other processes, memory);
3. a row ``task="peer"``, ``compared=<task>``, with zoo's timing in the usual fields, the medians ``zoo_ms`` and
   ``peer_ms``, and ``ratio`` = zoo / peer (below 1: zoo is faster).

Zoo runs in each ``--precision`` (float32 by default; ``mixed_bfloat16`` too to see what bfloat16 buys) with its
own compiled functions, exactly as its ``train``/``infer`` rows do; the peer always in float32.
"""
import json
import os

import keras
import numpy as np

from zoo.bench.env import environment, exec_mode
from zoo.bench.harness import _harness_tasks, _resolve, jit_settings, workload_flops
from zoo.bench.harness import run as run_rows
from zoo.bench.report import fill_row, row_base
from zoo.bench.timing import Timing, synchronize, time_calls

PEER_WARMUP, PEER_CALLS = 2, 2  # per side: warm-up calls, then calls per round


def add_argument(parser, what):
    """``--peer`` (zoo's rows, then the peer rows) and ``--peer only`` (the peer rows alone)."""
    parser.add_argument("--peer", nargs="?", const="also", choices=("also", "only"),
                        help=f"also time a PyTorch version of {what} against zoo's, alternated (needs torch); "
                             "'--peer only': the comparison rows alone")


def run(args, build, app, module):
    """A benchmark's rows: :func:`zoo.bench.run`'s unless ``--peer only``, then the peer rows of
    ``benchmarks.peers.<module>`` when ``--peer`` is given."""
    peer = load_peer(module) if args.peer else None  # fail before timing anything
    rows = [] if args.peer == "only" else run_rows(args, build, app)
    return rows + (peer_rows(args, build, app, peer) if peer else [])


def load_peer(module):
    """``benchmarks.peers.<module>`` (from a checkout), or a clear exit when its framework is missing."""
    import importlib

    try:
        return importlib.import_module(f"benchmarks.peers.{module}")
    except ImportError as e:
        raise SystemExit(f"--peer needs PyTorch, which is not importable here ({e})") from None


def gan_params(w):
    """Trainable parameter counts of a workload's generator (``w.network``) and discriminator."""
    counts = {"generator": trainable(w.network)}
    if getattr(w.gan, "discriminator", None) is not None:
        counts["discriminator"] = trainable(w.gan.discriminator)
    return counts


def trainable(model):
    """Trainable parameters of a Keras model (what a PyTorch peer's ``parameters()`` count)."""
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def _check_params(peer_params, ours, task):
    missing = sorted(set(peer_params) - set(ours))
    mismatched = {k: (peer_params[k], ours[k]) for k in peer_params if k in ours and peer_params[k] != ours[k]}
    if missing or mismatched:
        raise SystemExit(f"--peer ({task}): the peer's networks differ from zoo's: parameter counts (peer, zoo) "
                         f"{mismatched}" + (f"; zoo has no {missing}" if missing else ""))


def peer_rows(args, build, app, peer):
    """The peer rows of a benchmark (see the module docstring); prints a table, appends the rows to ``--json``
    and returns them. The peer's parameter counts must equal :func:`gan_params` of zoo's workload."""
    env = environment()
    device = "cuda" if env["accelerator"] == "gpu" and peer.torch.cuda.is_available() else "cpu"
    threads = args.threads or os.cpu_count()
    if device == "cpu":
        peer.torch.set_num_threads(threads)
    peer_sync = (lambda out: peer.torch.cuda.synchronize()) if device == "cuda" else None
    print(f"# peer: zoo ({', '.join(args.precision)}) against the {peer.NAME} (float32) on {device}: "
          f"{PEER_WARMUP} warm-up calls each, then {args.repeats} rounds of [zoo x {PEER_CALLS}, peer x {PEER_CALLS}]")
    print(f"{'task':<9}  {'precision':<14}  {'jit':<4}  {'mode':<13}  {'batch':>5}  {'zoo ms':>10}  {'peer ms':>10}  "
          f"{'zoo/peer':>8}")
    rows = []
    for precision, jit in [(p, j) for p in args.precision for j in jit_settings(args.jit)]:
        keras.backend.clear_session()
        keras.config.set_dtype_policy(precision)
        w = build(args)
        flops = workload_flops(w)
        ours = gan_params(w)
        for task in _harness_tasks(w, jit, args, flops) + list(w.tasks):
            for batch in task.batch_sizes:
                call = peer.make(task.name, args, batch, device)
                if call is None:
                    continue
                _check_params(call.params, ours, task.name)
                made = task.make_fn(batch, jit)
                fn, compiled = made if isinstance(made, tuple) else (made, None)
                zoo_warm = time_calls(fn, 0, PEER_WARMUP, synchronize).times
                time_calls(call.fn, 0, PEER_WARMUP, peer_sync)
                zoo_t, peer_t = [], []
                for _ in range(args.repeats):
                    zoo_t += time_calls(fn, 0, PEER_CALLS, synchronize).times
                    peer_t += time_calls(call.fn, 0, PEER_CALLS, peer_sync).times
                row = row_base(app, env, args, precision, jit, "peer", batch)
                row.update(w.info, **w.task_fields.get(task.name, {}), compared=task.name, jit_compile=compiled,
                           exec_mode=exec_mode(compiled) if compiled is not None else "-")
                fill_row(row, Timing(zoo_t, zoo_warm), batch, _resolve(task.flops_per_item), None, (None, None))
                zoo_ms, peer_ms = row["time_median_s"] * 1e3, float(np.median(peer_t)) * 1e3
                row.update(zoo_ms=zoo_ms, peer_ms=peer_ms, ratio=zoo_ms / peer_ms, peer=peer.NAME,
                           peer_device=device, peer_times_s=peer_t, peer_params=call.params, peer_threads=threads)
                rows.append(row)
                print(f"{task.name:<9}  {precision:<14}  {row['jit']:<4}  {row['exec_mode']:<13}  {batch:>5}  "
                      f"{zoo_ms:>10.2f}  {peer_ms:>10.2f}  {row['ratio']:>8.3f}", flush=True)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(row, default=str) + "\n")
        del w
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")
    return rows
