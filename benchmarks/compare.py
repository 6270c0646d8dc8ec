"""zoo against PyTorch peers on this machine, in one run: training iterations, inference and start-up.

Three parts; the first two alternate zoo and the peer so that both see the same machine:

* ``rows``: for each app (``--apps``: pix2pix, srgan, cyclegan) and Keras backend (``--backends``: tensorflow,
  torch), the app's benchmark with ``--peer only`` in its own process: zoo's float32 row (on TensorFlow, pix2pix
  and srgan also in mixed_bfloat16, the CPU speed-up zoo documents) and the PyTorch peer's (float32)
  (``benchmarks/peers/``: the same networks, same trainable parameter counts, the same iteration) alternated in
  that process. The settings are the issue's: pix2pix (unet_256 + 70x70 PatchGAN) training at batch 1 (the
  paper's), inference at batch 1 and 8, and the presets' ``translate`` (each image normalised by its own
  statistics) at batch 1 and 8; SRGAN training at batch 16 (24 -> 96 crops, VGG54 content loss) and SRResNet
  inference at 128x128 LR, batch 1 and 16; CycleGAN training at batch 1, 256x256.
* ``startup``: a fresh Python process running a README one-liner (``srgan.pretrained().upscale("lr.png")``,
  ``pix2pix.pretrained().translate("edges.png")``, the result saved as a PNG) against a fresh process doing the
  same with PyTorch (import torch, build the peer's network, load the preset's weights converted to a PyTorch
  state dict, read the PNG, run, save the PNG), ``--startup-repeats`` times each, alternated; wall time of the
  whole process.
* ``precision`` (unless ``--no-bf16``): each app's default preset on a shipped image in float32 and in
  mixed_bfloat16: the call's time and the PSNR of the bfloat16 output against the float32 one.

Every child process gets glibc told to keep freed memory (``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...
MALLOC_TOP_PAD_=...``: without it both frameworks' times are erratic on these machines). Rows go to ``--json``
(JSON lines: the benchmarks' ``task="peer"`` rows and ``task="startup"`` rows); the summary table is printed
as markdown and written to ``--markdown``. ``ratio`` = zoo / peer: below 1, zoo is faster.

    python benchmarks/compare.py --json compare.jsonl --markdown compare.md     # everything (about 40 min, 2 cores)
    python benchmarks/compare.py --apps pix2pix --backends tensorflow --skip-startup
    python benchmarks/compare.py --tiny                                          # smoke run (tiny networks)
"""
import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout

APPS = ("pix2pix", "srgan", "cyclegan")
MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "137438953472", "MALLOC_TOP_PAD_": "1073741824"}
#: Each app's benchmark flags for the comparison (full size, then --tiny).
FLAGS = {
    "pix2pix": (["--batch-sizes", "1", "--infer-batch-sizes", "1", "8"],
                ["--tiny", "--batch-sizes", "1", "--infer-batch-sizes", "1", "2"]),
    "srgan": (["--batch-sizes", "16", "--infer-batch-sizes", "1", "16", "--skip-tiled"],
              ["--tiny", "--batch-sizes", "2", "--infer-batch-sizes", "1", "--skip-tiled"]),
    "cyclegan": (["--batch-sizes", "1", "--skip-infer"], ["--tiny", "--batch-sizes", "1", "--skip-infer"]),
}
BF16_APPS = ("pix2pix", "srgan")  # also timed in mixed_bfloat16 on TensorFlow (--no-bf16: not)
LABELS = {"train": "training iteration", "infer": "inference (predict)", "translate": "translate, per-image stats"}


def _env(backend=None):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **MALLOC)
    if backend:
        env["KERAS_BACKEND"] = backend
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


# --------------------------------------------------------------------------------------------------------
# rows: each app's --peer only, per backend
# --------------------------------------------------------------------------------------------------------
def peer_rows(args, json_path):
    rows = []
    for backend in args.backends:
        for app in args.apps:
            flags = FLAGS[app][1 if args.tiny else 0]
            repeats = args.repeats if app != "cyclegan" or args.tiny else max(1, args.repeats - 2)
            precisions = ["float32"] + (["mixed_bfloat16"] if args.bf16 and backend == "tensorflow"
                                        and app in BF16_APPS else [])
            cmd = [sys.executable, os.path.join(ROOT, "benchmarks", f"{app}.py"), *flags, "--peer", "only",
                   "--precision", *precisions, "--repeats", str(repeats), "--json", json_path]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            print(f"# {backend}: {' '.join(cmd[1:])}", flush=True)
            before = len(_read_rows(json_path))
            proc = subprocess.run(cmd, env=_env(backend), cwd=ROOT, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"{app} on {backend} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            new = _read_rows(json_path)[before:]
            for r in new:
                print(f"  {app:<9} {backend:<10} {r['compared']:<9} {r['precision']:<14} batch {r['batch_size']:>2}: "
                      f"zoo {r['zoo_ms']:9.1f} ms, peer {r['peer_ms']:9.1f} ms, zoo/peer {r['ratio']:.2f}", flush=True)
            rows += new
    return rows


def _read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# --------------------------------------------------------------------------------------------------------
# startup: fresh processes, zoo's one-liner against the peer's
# --------------------------------------------------------------------------------------------------------
ZOO_ONE_LINERS = {
    "srgan": "from zoo.apps import srgan; srgan.pretrained().upscale({image!r}).save({out!r})",
    "pix2pix": "from zoo.apps import pix2pix; pix2pix.pretrained().translate({image!r}).save({out!r})",
}
INPUTS = {"srgan": ("lr.png", 128), "pix2pix": ("edges.png", 256)}  # the one-liner's input: name, side
PEER_SCRIPTS = {  # the same work with PyTorch: build, load the converted weights, read, run, write
    "srgan": """
import numpy as np, torch
from PIL import Image
from benchmarks.peers.srgan_torch import srresnet
net = srresnet(**{config!r}); net.load_state_dict(torch.load({state!r})); net.eval()
x = torch.from_numpy(np.asarray(Image.open({image!r}).convert("RGB"), np.float32).transpose(2, 0, 1)[None] / 127.5 - 1)
with torch.no_grad():
    y = net(x)
Image.fromarray(((y[0].clamp(-1, 1).permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)).save({out!r})
""",
    "pix2pix": """
import numpy as np, torch
from PIL import Image
from benchmarks.peers.pix2pix_torch import image_stats_mode, unet
net = unet(**{config!r}); net.load_state_dict(torch.load({state!r})); image_stats_mode(net)
x = torch.from_numpy(np.asarray(Image.open({image!r}).convert("RGB"), np.float32).transpose(2, 0, 1)[None] / 127.5 - 1)
with torch.no_grad():
    y = net(x)
Image.fromarray(((y[0].clamp(-1, 1).permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8)).save({out!r})
""",
}


def _startup_inputs(app, folder):
    """The preset's weights as a PyTorch state dict, the peer network's arguments and an input PNG."""
    import numpy as np
    import torch
    from PIL import Image

    if app == "srgan":
        from benchmarks.peers import srgan_torch
        from zoo.apps import srgan

        model = srgan.pretrained()
        net = srgan_torch.from_keras(model)
        cfg = model.get_config()
        config = {k: cfg[k] for k in ("scale", "blocks", "filters", "channels", "output_activation")}
    else:
        from benchmarks.peers import pix2pix_torch
        from zoo.apps import pix2pix

        model = pix2pix.pretrained()
        net = pix2pix_torch.from_keras(model)
        config = {"depth": model.depth, "filters": model.get_config()["filters"], "channels": model.in_channels}
    state = os.path.join(folder, f"{app}.pt")
    torch.save(net.state_dict(), state)
    name, size = INPUTS[app]
    image = os.path.join(folder, name)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)).save(image)
    return state, config, image


def startup_rows(args, folder):
    import keras

    rows = []
    for app in ("srgan", "pix2pix"):
        state, config, image = _startup_inputs(app, folder)
        keras.backend.clear_session()
        out = os.path.join(folder, "out.png")
        scripts = {"zoo": ZOO_ONE_LINERS[app].format(image=image, out=out),
                   "peer": PEER_SCRIPTS[app].format(config=config, state=state, image=image, out=out)}
        times = {"zoo": [], "peer": []}
        for _ in range(args.startup_repeats):
            for side in ("zoo", "peer"):
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-c", scripts[side]], env=_env("tensorflow"), cwd=ROOT,
                                      capture_output=True, text=True)
                times[side].append(time.perf_counter() - t0)
                if proc.returncode:
                    raise SystemExit(f"start-up {side} {app} failed:\n{proc.stderr[-3000:]}")
        zoo_ms, peer_ms = (statistics.median(times[s]) * 1e3 for s in ("zoo", "peer"))
        row = {"task": "startup", "app": app, "compared": "startup", "backend": "tensorflow",
               "zoo_ms": zoo_ms, "peer_ms": peer_ms, "ratio": zoo_ms / peer_ms, "zoo_times_s": times["zoo"],
               "peer_times_s": times["peer"], "peer": "pytorch reference design",
               "one_liner": ZOO_ONE_LINERS[app].format(image=INPUTS[app][0], out="out.png"),
               "input": f"{INPUTS[app][1]}x{INPUTS[app][1]} PNG"}
        print(f"  {app:<9} start-up: zoo {zoo_ms:9.0f} ms, peer {peer_ms:9.0f} ms, zoo/peer {row['ratio']:.2f}",
              flush=True)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------------------
# bf16: the shipped presets in mixed_bfloat16 against float32, time and how far the outputs move
# --------------------------------------------------------------------------------------------------------
PRECISION_CALLS = {  # app -> (the call on a preset, a shipped input image)
    "srgan": (lambda m, x: m.upscale(x), "starfish_lr.png"),
    "pix2pix": (lambda m, x: m.translate(x), "edges_shoe.png"),
    "cyclegan": (lambda m, x: m.translate(x), "edges_shoe.png"),
}


def precision_rows(args):
    """For each app's default preset: its inference call on a shipped image in float32 and in mixed_bfloat16
    (zoo's bfloat16 CPU speed-up), median of 5 calls after 2, and the PSNR of the bfloat16 output against the
    float32 one (8-bit)."""
    import keras
    import numpy as np
    from PIL import Image

    from zoo import metrics

    rows = []
    for app in args.apps:
        call, name = PRECISION_CALLS[app]
        x = np.asarray(Image.open(os.path.join(ROOT, "zoo", "assets", name)).convert("RGB"))
        out, ms = {}, {}
        for policy in ("float32", "mixed_bfloat16"):
            keras.backend.clear_session()
            keras.config.set_dtype_policy(policy)
            model = importlib.import_module(f"zoo.apps.{app}").pretrained()
            for _ in range(2):
                call(model, x)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                out[policy] = np.asarray(call(model, x))
                times.append(time.perf_counter() - t0)
            ms[policy] = statistics.median(times) * 1e3
        keras.config.set_dtype_policy("float32")
        psnr = float(metrics.psnr(out["float32"], out["mixed_bfloat16"], data_range=255))
        row = {"task": "precision", "app": app, "preset": model.preset.name, "input": name, "f32_ms": ms["float32"],
               "bf16_ms": ms["mixed_bfloat16"], "speedup": ms["float32"] / ms["mixed_bfloat16"], "psnr_db": psnr}
        print(f"  {app:<9} {model.preset.name}: float32 {ms['float32']:.1f} ms, bf16 {ms['mixed_bfloat16']:.1f} ms, "
              f"bf16 output vs float32 PSNR {psnr:.1f} dB", flush=True)
        rows.append(row)
    return rows


def precision_markdown(rows):
    lines = ["| app | preset, input | float32 ms | mixed_bfloat16 ms | speed-up | bf16 output vs float32 (PSNR) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['app']} | {r['preset']}, {r['input']} | {r['f32_ms']:,.1f} | {r['bf16_ms']:,.1f} | "
              f"{r['speedup']:.2f}x | {r['psnr_db']:.1f} dB |" for r in rows]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------
def markdown(rows):
    """The summary table: one line per comparison; for pix2pix also translate / its own raw network."""
    lines = ["| app | Keras backend | workload | zoo precision | batch | zoo ms | peer ms | zoo / peer |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        what = f"fresh process: `{r['one_liner'].split('; ', 1)[1]}`" if r["task"] == "startup" \
            else LABELS.get(r["compared"], r["compared"])
        batch = "-" if r["task"] == "startup" else r["batch_size"]
        lines.append(f"| {r['app']} | {r['backend']} | {what} | {r.get('precision', 'float32')} | {batch} | "
                     f"{r['zoo_ms']:,.1f} | {r['peer_ms']:,.1f} | {r['ratio']:.2f}x |")
    own = {(r["app"], r["backend"], r["compared"], r.get("precision"), r.get("batch_size")): r["zoo_ms"] for r in rows}
    extra = [f"| {app} | {backend} | translate / its own predict | {p} | {b} | {ms:,.1f} | {raw:,.1f} (zoo predict) "
             f"| {ms / raw:.2f}x |"
             for (app, backend, task, p, b), ms in own.items()
             if task == "translate" and (raw := own.get((app, backend, "infer", p, b)))]
    return "\n".join(lines + extra) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", nargs="+", choices=APPS, default=list(APPS))
    parser.add_argument("--backends", nargs="+", choices=("tensorflow", "torch"), default=["tensorflow", "torch"])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of [zoo x 2, peer x 2] per row (cyclegan: 2 "
                                                               "fewer, its iteration takes seconds)")
    parser.add_argument("--startup-repeats", type=int, default=5, help="fresh processes per side and one-liner")
    parser.add_argument("--threads", type=int, help="CPU threads of both (default: every core)")
    parser.add_argument("--skip-rows", action="store_true", help="start-up only")
    parser.add_argument("--skip-startup", action="store_true", help="no start-up rows")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false",
                        help=f"zoo in float32 only (default: {', '.join(BF16_APPS)} on TensorFlow in "
                             "mixed_bfloat16 too)")
    parser.add_argument("--tiny", action="store_true", help="tiny networks (a smoke run; start-up is unchanged)")
    parser.add_argument("--json", help="append every row to this JSON lines file")
    parser.add_argument("--markdown", help="write the summary table to this file")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("torch") is None:
        parser.error("the peers need PyTorch: pip install torch")
    print(f"# zoo against the PyTorch peers; glibc: {' '.join(f'{k}={v}' for k, v in MALLOC.items())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="zoo-compare-") as folder:
        json_path = args.json or os.path.join(folder, "rows.jsonl")
        rows = [] if args.skip_rows else peer_rows(args, json_path)
        found = [] if args.skip_startup else startup_rows(args, folder)
        precision = precision_rows(args) if args.bf16 else []
        if args.json:
            with open(args.json, "a") as f:
                f.writelines(json.dumps(r) + "\n" for r in found + precision)
    table = markdown(rows + found) + ("\n" + precision_markdown(precision) if precision else "")
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
