"""Exported models on the CPU: size and batch-1 latency of each shipped preset as a SavedModel, a LiteRT model and
an ONNX model (``zoo.export``), each run by its own runtime, next to the Keras model it came from.

Each row exports the preset (``zoo.export.export``) into a temporary folder, loads it with its runtime
(``zoo.export.load``: TensorFlow, ai-edge-litert with its default XNNPACK delegate, onnxruntime's CPU provider),
checks it against the Keras graph on the same input (``max_diff``, in the graphs' [0, 1] units) and times
``--repeats`` calls after ``--warmup`` (median, p10, p90). The Keras row times the same graph's
``predict_on_batch`` (its compiled predict function). Inputs, batch 1, as the apps' usual calls see them:

    srgan 128x128 LR (-> 512x512), pix2pix 256x256, cyclegan 128x128 (its training scale),
    inpainting 256x256 with a 25% centre box, dcgan / progan one latent vector

    python benchmarks/export.py                                  # every shipped preset, the four rows each
    python benchmarks/export.py --presets srgan/srresnet_x4 --json out.jsonl
    python benchmarks/export.py --threads 2                      # the runtimes' and TensorFlow's thread count

Sizes: bytes of the file (LiteRT, ONNX) or of the SavedModel folder; the Keras row gives the .weights.h5 file.
``litert_float16``: the LiteRT file with float16 weights (``export(..., float16=True)``), with its PSNR against
the float32 Keras graph's output (peak 1, the [0, 1] range).
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

SIDES = {"srgan": 128, "pix2pix": 256, "cyclegan": 128, "inpainting": 256}


def inputs(app, graph, rng):
    """Batch-1 inputs of the graph's named inputs at the app's usual size."""
    feed = {}
    side = SIDES.get(app)
    for t in graph.inputs:
        name = t.name.split(":")[0]
        if name == "z":
            feed[name] = rng.standard_normal((1, t.shape[1])).astype("float32")
        elif name == "label":
            feed[name] = np.array([1], "int32")
        elif name == "words":
            feed[name] = np.zeros((1, t.shape[1]), "int32")
            feed[name][0, :12] = rng.integers(2, 300, 12)
        elif name == "image":
            feed[name] = rng.random((1, side, side, t.shape[-1])).astype("float32")
        elif name == "mask":
            m = np.zeros((1, side, side, 1), "float32")
            m[:, side // 4:3 * side // 4, side // 4:3 * side // 4] = 1.0
            feed[name] = m
    return feed


def size_of(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


def rows(key, args):
    import keras

    from zoo import bench, export, weights

    app, name = key.split("/")
    model = weights.pretrained(app, name)
    graph = model.export_graph()
    feed = inputs(app, graph, np.random.default_rng(0))
    ordered = [feed[t.name.split(":")[0]] for t in graph.inputs]
    want = keras.ops.convert_to_numpy(graph.predict_on_batch(ordered)["output"])
    timing = bench.time_calls(lambda: graph.predict_on_batch(ordered), args.warmup, args.repeats)
    base = {"app": app, "preset": name, "batch": 1,
            "input": {k: list(v.shape) for k, v in feed.items()}}
    out = [dict(base, format="keras", runtime=f"keras {keras.__version__} / {keras.backend.backend()}",
                bytes=size_of(weights.find_file(weights.get(app, name).file)), latency_ms=timing.median * 1e3,
                p10_ms=timing.p10 * 1e3, p90_ms=timing.p90 * 1e3, max_diff=0.0)]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            path = os.path.join(tmp, {"savedmodel": "model", "litert": "model.tflite", "onnx": "model.onnx"}[fmt])
            export.export(model, path, fmt)
            run = export.load(path)
            got = run(**feed)
            timing = bench.time_calls(lambda: run(**feed), args.warmup, args.repeats)
            out.append(dict(base, format=fmt, runtime=_runtime(fmt), bytes=size_of(path),
                            latency_ms=timing.median * 1e3, p10_ms=timing.p10 * 1e3, p90_ms=timing.p90 * 1e3,
                            max_diff=float(np.abs(got - want).max())))
        if "litert" in args.formats and args.float16:
            path = os.path.join(tmp, "model_float16.tflite")
            export.export(model, path, "litert", float16=True)
            run = export.load(path)
            got = run(**feed)
            timing = bench.time_calls(lambda: run(**feed), args.warmup, args.repeats)
            mse = float(np.mean((got.astype("float64") - want) ** 2))
            out.append(dict(base, format="litert_float16", runtime=_runtime("litert"), bytes=size_of(path),
                            latency_ms=timing.median * 1e3, p10_ms=timing.p10 * 1e3, p90_ms=timing.p90 * 1e3,
                            max_diff=float(np.abs(got - want).max()),
                            psnr_vs_float32=10 * np.log10(1.0 / mse) if mse > 0 else float("inf")))
    return out


def _runtime(fmt):
    from importlib import metadata

    package = {"savedmodel": "tensorflow", "litert": "ai-edge-litert", "onnx": "onnxruntime"}[fmt]
    return f"{package} {metadata.version(package)}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--presets", nargs="*", default=None, help="app/preset keys (default: every shipped preset)")
    p.add_argument("--formats", nargs="*", default=["savedmodel", "litert", "onnx"])
    p.add_argument("--no-float16", dest="float16", action="store_false",
                   help="skip the LiteRT float16-weights row (timed, with its PSNR against the float32 graph)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=None, help="intra-op threads of every runtime (default: theirs)")
    p.add_argument("--json", default=None, help="append one JSON line per row to this file")
    p.add_argument("--markdown", action="store_true", help="print the rows as the model cards' Markdown table")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    from zoo import bench, export, weights

    for fmt in args.formats:
        export.check_format(fmt)
    env = bench.environment()
    print(f"# {env['host_cpu']}, {env['cpu_count']} cores; threads {args.threads or 'default'}")
    if args.markdown:
        print("| preset | format (runtime) | size | batch-1 latency, median (p10-p90) | max difference from Keras "
              "| PSNR vs float32 |\n|---|---|---|---|---|---|")
    else:
        print(f"{'preset':34s} {'format':14s} {'size MB':>8s} {'batch-1 ms':>11s} {'p10-p90':>15s} {'max diff':>9s} "
              f"{'PSNR vs f32':>11s}")
    for key in args.presets or weights.presets():
        for row in rows(key, args):
            row["env"] = env
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(row, default=str) + "\n")
            psnr = f"{row['psnr_vs_float32']:8.1f} dB" if "psnr_vs_float32" in row else ""
            if args.markdown:
                print(f"| {row['preset']} | {row['format']} ({row['runtime']}) | {row['bytes'] / 1e6:.1f} MB | "
                      f"{row['latency_ms']:.1f} ms ({row['p10_ms']:.1f}-{row['p90_ms']:.1f}) | "
                      f"{row['max_diff']:.1e} | {psnr.strip() or '-'} |", flush=True)
                continue
            print(f"{row['app'] + '/' + row['preset']:34s} {row['format']:14s} {row['bytes'] / 1e6:8.2f} "
                  f"{row['latency_ms']:11.1f} {row['p10_ms']:7.1f}-{row['p90_ms']:<7.1f} {row['max_diff']:9.1e} "
                  f"{psnr:>11s}", flush=True)


if __name__ == "__main__":
    main()
