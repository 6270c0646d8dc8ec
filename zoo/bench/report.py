"""Rows of a benchmark: the JSON object of each (schema :data:`SCHEMA`), the printed table, the JSON lines file.

Every row starts with :func:`row_base` (what ran, where, with which settings); :func:`fill_row` adds a timed
row's numbers; :func:`emit` prints it as a table line and appends it to ``--json``.
"""
import datetime
import json
import os

import numpy as np

SCHEMA = "zoo.bench/1"


def row_base(app, env, args, precision, jit, task, batch):
    """The fields every row starts with (what ran, where, with which settings)."""
    return {
        "schema": SCHEMA, "app": app, "task": task, "batch_size": batch, "resolution": args.resolution,
        "precision": precision, "jit": jit_label(jit), "backend": env["backend"], "device": env["device"],
        "accelerator": env["accelerator"], "host_cpu": env["host_cpu"], "cpu_count": env["cpu_count"],
        "versions": env["versions"], "warmup": args.warmup, "repeats": args.repeats,
        "threads": getattr(args, "threads", None),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def jit_label(value):
    """The ``jit`` field of a row for a sweep's jit value ("auto", True, False): auto, on, off."""
    return value if value == "auto" else ("on" if value else "off")


def fill_row(row, timing, batch, flops, peak, memory):
    """Add a :class:`zoo.bench.timing.Timing`'s numbers, throughput, achieved TFLOP/s and peak memory to ``row`` (status ok)."""
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
