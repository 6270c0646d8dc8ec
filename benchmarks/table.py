"""Markdown table of benchmark rows (the JSON lines ``--json`` appends), for model cards.

    python benchmarks/table.py apps/pix2pix/benchmark_gpu.jsonl [more.jsonl ...]

One line per row: device, backend, task, precision, execution mode, batch, median latency, images per second,
achieved TFLOP/s and peak memory; rows that did not run say why.
"""
import json
import sys


def rows(paths):
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)


def table(records):
    out = ["| device | backend | task | precision | jit | batch | median ms | img/s | TFLOP/s | peak mem |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        head = (f"| {r.get('device') or r.get('host_cpu', '?')} | {r['backend']} | {r['task']} | {r['precision']} "
                f"| {r.get('exec_mode') or r['jit']} | {r['batch_size']} ")
        if r.get("status") != "ok":
            out.append(head + f"| {r.get('status', '?')}: {str(r.get('error', '')).split(';')[0][:90]} | | | |")
            continue
        mem = r.get("peak_memory_bytes")
        mem = f"{mem / 2**30:.1f} GiB" if mem else "?"
        out.append(head + f"| {r['latency_ms']:.1f} | {r['images_per_s']:.1f} | {r.get('achieved_tflops') or 0:.2f} "
                   f"| {mem} |")
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(table(rows(sys.argv[1:])))
