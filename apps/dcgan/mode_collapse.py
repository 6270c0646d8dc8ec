"""Mode collapse on the ring of 8 Gaussians: plain GAN vs minibatch discrimination vs unrolled GAN.

The toy experiment of Metz et al. (2016), "Unrolled Generative Adversarial Networks", section 3.1 / appendix A:
8 Gaussians of std 0.02 on a circle of radius 2; G = 2 hidden ReLU layers of 128 and a linear 2-D output,
z ~ N(0, I_256); D = 2 hidden layers of 128; Adam with beta_1 = 0.5; batch 512; non-saturating G loss. Three
runs share the generator and discriminator sizes, the data stream, the number of generator updates and the seed:

* ``gan``        zoo.GAN (one D step per G step)
* ``minibatch``  zoo.GAN whose discriminator adds minibatch discrimination (Salimans et al. 2016)
* ``unrolled``   zoo.unrolled.UnrolledGAN with K unrolled discriminator steps in the generator loss

Each trained generator draws 2,500 samples; ``zoo.toy.mode_coverage`` counts the modes covered (a mode
holds >= 1% of all samples within 3 std of its centre) and the share of high-quality samples (within 3 std of
some centre). Coverage is also recorded every ``steps / snapshots`` updates, since a plain GAN tends to hop
from mode to mode rather than sit on one.

    # the run in MODE_COLLAPSE.md (~11 CPU-minutes; minibatch discrimination on seed 0 only, it costs 12x)
    KERAS_BACKEND=tensorflow python apps/dcgan/mode_collapse.py --steps 5000 --seeds 0 1 2 --minibatch-seeds 0
    python apps/dcgan/mode_collapse.py --steps 200 --seeds 0 --no-write    # a quick smoke run

Writes the table between the results markers of ``apps/dcgan/MODE_COLLAPSE.md`` (text outside them is kept)
and scatter plots under ``apps/dcgan/mode_collapse/``.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
METHODS = ("gan", "minibatch", "unrolled")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=5000, help="generator updates (= D updates; d_steps=1)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--minibatch-seeds", type=int, nargs="*", default=None,
                   help="seeds for the minibatch run (default: --seeds); its O(batch^2) layer is the costly one")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--latent-dim", type=int, default=256)
    p.add_argument("--units", type=int, nargs="+", default=[128, 128], help="hidden units of G and of D")
    p.add_argument("--g-lr", type=float, default=1e-3)
    p.add_argument("--d-lr", type=float, default=1e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--unroll-steps", type=int, default=5)
    p.add_argument("--unroll-optimizer", default="adam", choices=["adam", "sgd"])
    p.add_argument("--unroll-lr", type=float, default=None)
    p.add_argument("--minibatch-kernels", type=int, default=5, help="B of minibatch discrimination (C = 5)")
    p.add_argument("--samples", type=int, default=2500)
    p.add_argument("--loose-radius", type=float, default=0.2,
                   help="radius of the supplementary, looser mode count (the standard one is 3 std = 0.06)")
    p.add_argument("--snapshots", type=int, default=5, help="coverage checkpoints during training")
    p.add_argument("--threads", type=int, default=1, help="CPU threads per op (1: least contention)")
    p.add_argument("--out", default=os.path.join(HERE, "mode_collapse"))
    p.add_argument("--md", default=os.path.join(HERE, "MODE_COLLAPSE.md"))
    p.add_argument("--no-write", action="store_true", help="print only; write no PNG or markdown")
    return p.parse_args(argv)


def set_threads(n):
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    elif keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(n)


def build(method, args, seed):
    import keras

    from zoo import GAN
    from zoo.apps.dcgan import MLPDiscriminator, MLPGenerator
    from zoo.unrolled import UnrolledGAN

    keras.utils.set_random_seed(seed)
    g = MLPGenerator(args.latent_dim, output_shape=(2,), units=tuple(args.units), output_activation="linear")
    d = MLPDiscriminator(input_shape=(2,), units=tuple(args.units), dropout=0.0,
                         minibatch_features=args.minibatch_kernels if method == "minibatch" else 0)
    if method == "unrolled":
        gan = UnrolledGAN(g, d, unroll_steps=args.unroll_steps, unroll_optimizer=args.unroll_optimizer,
                          unroll_lr=args.unroll_lr, seed=seed)
    else:
        gan = GAN(g, d, seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(args.d_lr, beta_1=args.beta1),
                g_optimizer=keras.optimizers.Adam(args.g_lr, beta_1=args.beta1), loss="non_saturating")
    return gan


def sample(generator, n, seed):
    from keras import ops

    return ops.convert_to_numpy(generator.sample(n, seed=seed))


def run_one(method, args, seed):
    import keras

    from zoo.toy import mode_coverage, ring_of_gaussians

    gan = build(method, args, seed)
    data = ring_of_gaussians(args.steps * args.batch_size, seed=seed)  # fresh points for every update
    every = max(1, args.steps // max(1, args.snapshots))
    loose = lambda s: mode_coverage(s, std=args.loose_radius / 3.0)[0]  # noqa: E731
    trace, shots = [], []

    class Snapshots(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = batch + 1
            if step % every == 0 and step < args.steps:
                s = sample(gan.generator, args.samples, 10_000 + seed)
                trace.append((step, mode_coverage(s)[0], loose(s)))
                shots.append((step, s))

    cpu0, t0 = time.process_time(), time.perf_counter()
    history = gan.fit(data, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0,
                      callbacks=[Snapshots()] if args.snapshots > 1 else [])
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    final = sample(gan.generator, args.samples, 10_000 + seed)
    modes, hq = mode_coverage(final)
    trace.append((args.steps, modes, loose(final)))
    shots.append((args.steps, final))
    last = {k: float(v[-1]) for k, v in history.history.items()}
    return dict(method=method, seed=seed, modes=modes, hq=hq, loose=loose(final), wall=wall, cpu=cpu,
                trace=trace, shots=shots,
                d_loss=last.get("d_loss"), g_loss=last.get("g_loss"))


def label(method, args):
    if method == "unrolled":
        return f"unrolled GAN (K={args.unroll_steps}, {args.unroll_optimizer})"
    if method == "minibatch":
        return f"GAN + minibatch discrimination (B={args.minibatch_kernels}, C=5)"
    return "GAN"


def tables(results, args):
    """Markdown: per-run rows, then the mean over seeds per method."""
    r0 = args.loose_radius
    lines = ["| method | seed | modes covered /8 | high-quality % | modes within "
             f"{r0:g} /8 | during training, step: modes (within {r0:g}) | final d_loss | wall s | CPU s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        trace = ", ".join(f"{s}: {m} ({l})" for s, m, l in r["trace"])
        lines.append(f"| {label(r['method'], args)} | {r['seed']} | {r['modes']} | {100 * r['hq']:.1f} | "
                     f"{r['loose']} | {trace} | {r['d_loss']:.3f} | {r['wall']:.0f} | {r['cpu']:.0f} |")
    lines += ["", "| method | seeds | mean modes /8 (each seed) | mean high-quality % (each seed) | mean modes "
              f"within {r0:g} (each seed) | mean wall s | mean CPU s |", "|---|---|---|---|---|---|---|"]
    for method in args.methods:
        rs = [r for r in results if r["method"] == method]
        if not rs:
            continue
        modes = [r["modes"] for r in rs]
        hq = [100 * r["hq"] for r in rs]
        lines.append(f"| {label(method, args)} | {len(rs)} | {sum(modes) / len(rs):.2f} "
                     f"({', '.join(map(str, modes))}) | {sum(hq) / len(rs):.1f} "
                     f"({', '.join(f'{h:.1f}' for h in hq)}) | {sum(r['loose'] for r in rs) / len(rs):.2f} "
                     f"({', '.join(str(r['loose']) for r in rs)}) | {sum(r['wall'] for r in rs) / len(rs):.0f} "
                     f"| {sum(r['cpu'] for r in rs) / len(rs):.0f} |")
    return "\n".join(lines)


def strip_png(path, shots, title):
    """The snapshots of one run side by side (Pillow)."""
    from PIL import Image, ImageDraw

    from zoo.toy import scatter_png

    tiles = []
    for step, s in shots:
        tmp = path + f".{step}.tmp.png"
        scatter_png(tmp, s, size=220, title=f"step {step}")
        tiles.append(Image.open(tmp).copy())
        os.remove(tmp)
    strip = Image.new("RGB", (220 * len(tiles), 240), "white")
    for i, t in enumerate(tiles):
        strip.paste(t, (220 * i, 20))
    ImageDraw.Draw(strip).text((6, 4), title, fill=(0, 0, 0))
    strip.save(path)


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    import keras

    set_threads(args.threads)
    from zoo.toy import ring_of_gaussians, scatter_png

    command = "KERAS_BACKEND=" + keras.backend.backend() + " python apps/dcgan/mode_collapse.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    print(f"backend {keras.backend.backend()}, {args.steps} generator updates, batch {args.batch_size}, "
          f"z dim {args.latent_dim}, G/D units {args.units}, Adam G {args.g_lr} D {args.d_lr} beta_1 {args.beta1}",
          flush=True)
    results = []
    for seed in args.seeds:
        for method in args.methods:
            if method == "minibatch" and args.minibatch_seeds is not None and seed not in args.minibatch_seeds:
                continue
            r = run_one(method, args, seed)
            results.append(r)
            print(f"{label(method, args):45s} seed {seed}: modes {r['modes']}/8, high quality {100 * r['hq']:5.1f}%, "
                  f"within {args.loose_radius:g}: {r['loose']}/8, "
                  f"trace {r['trace']}, wall {r['wall']:.0f}s, cpu {r['cpu']:.0f}s", flush=True)
    table = tables(results, args)
    print()
    print(table)
    if args.no_write:
        return results
    os.makedirs(args.out, exist_ok=True)
    real = ring_of_gaussians(args.samples, seed=0)
    scatter_png(os.path.join(args.out, "data.png"), real, title="data: 8 Gaussians, std 0.02, radius 2")
    for r in results:
        name = f"{r['method']}_seed{r['seed']}"
        scatter_png(os.path.join(args.out, name + ".png"), r["shots"][-1][1],
                    title=f"{label(r['method'], args)}, seed {r['seed']}: {r['modes']}/8 modes, "
                          f"{100 * r['hq']:.0f}% HQ")
        strip_png(os.path.join(args.out, name + "_steps.png"), r["shots"],
                  f"{label(r['method'], args)}, seed {r['seed']}")
    block = "\n".join([BEGIN, "", "Command:", "", "```", command.strip(), "```", "",
                       f"Keras {keras.__version__}, backend {keras.backend.backend()}, {args.threads} CPU "
                       f"thread(s) per op; {args.steps} generator updates (and as many D updates), batch "
                       f"{args.batch_size}, z dim {args.latent_dim}, hidden units {args.units}, Adam G lr "
                       f"{args.g_lr}, D lr {args.d_lr}, beta_1 {args.beta1}, {args.samples} samples per "
                       "evaluation.", "", table, "", END])
    text = (open(args.md).read() if os.path.exists(args.md)
            else f"# Mode collapse on the ring of 8 Gaussians\n\n{BEGIN}\n{END}\n")
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(args.md, "w") as f:
        f.write(text)
    print(f"wrote {args.md} and {args.out}/")
    return results


if __name__ == "__main__":
    main()
