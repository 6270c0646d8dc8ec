"""Measure the digit presets beside the shipped DCGANs, draw the lecture's figures, register the presets.

    python apps/vae/evaluate.py --run-dir /work/runs        # measure <run-dir>/vae_<preset>/autoencoder.weights.h5,
                                                            # register them in weights/, write results.json + figures
    python apps/vae/evaluate.py --shipped                   # re-measure the shipped weights/ files, register nothing

Data: apps/vae/train.py's split of mnist_5k.csv.gz. The models trained on ranks 0-399 of each class; everything
measured here uses the 1000 held-out digits (ranks 400-499) the models never saw.

* The judge: the digit classifier of apps/dcgan/evaluate.py (same CNN, same data: trained on ranks 400-479,
  checked on 480-499). On 1000 prior samples per model (codes from N(0, I), seed 1234; 100 per class for the
  conditional models) it gives: ``judged_digit`` (share of samples it labels with softmax >= 0.9: a recognisable
  digit), the predicted-class histogram (coverage: ``classes_covered`` with >= 2% of the samples, and
  ``class_balance``, the entropy of the histogram over log 10), ``conditional_accuracy`` for the conditional
  models, and ``digits_fid`` (Frechet distance in the classifier's 128-d features to the held-out digits).
* Realism: ``zoo.metrics.two_sample_test`` (a CNN trained from scratch to tell the 1000 held-out digits from
  1000 samples, 2-fold, held-out accuracy; 0.5 = cannot tell), beside a real-vs-real row (1000 training digits
  vs the held-out ones) and a weak baseline (training digits blurred by a 3x3 box filter: right shapes, soft
  strokes).
* Reconstructions of the held-out digits: PSNR (dB, 8-bit) and the classifier's accuracy on them.
* ``mnist_ae (fitted Gaussian)``: the autoencoder's decoder on codes drawn from a Gaussian fitted to its own codes
  of the training digits (mean and covariance), to separate "wrong scale" from "holes between clusters".

Figures (next to this file): ``reconstructions.png``, ``prior_samples.png``, ``latent_map_2d.png`` (2-D-latent
variants of mnist_ae and mnist_vae, trained here with train.py's recipe for ``--epochs-2d`` epochs: held-out
digits' codes coloured by class, and the decoder on a grid over the same square), ``interpolations.png``.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", ".."))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from train import DIGITS, EPOCHS, digits, split, train  # noqa: E402  (apps/vae/train.py)
from zoo import images, metrics, weights  # noqa: E402
from zoo.apps import dcgan, vae  # noqa: E402

N = 1000
SEED = 1234
COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def u8(x):
    return np.clip(np.round((np.asarray(x) + 1.0) * 127.5), 0, 255).astype("uint8")


def f32(x):
    return x.astype("float32") / 127.5 - 1.0


def judge(clf, feats, held_out, fake_u8, labels=None):
    logits = clf.predict(f32(fake_u8), verbose=0, batch_size=256)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    pred = p.argmax(1)
    hist = np.bincount(pred, minlength=10)
    share = hist / hist.sum()
    nz = share[share > 0]
    m = {"judged_digit": round(float(np.mean(p.max(1) >= 0.9)), 4),
         "classes_covered": int(np.sum(share >= 0.02)),
         "class_balance": round(float(-(nz * np.log(nz)).sum() / np.log(10)), 4),
         "digits_fid": round(metrics.fid(f32(fake_u8), held_out, extractor=lambda b: feats.predict_on_batch(b)), 3),
         "predicted_class_histogram": hist.tolist()}
    if labels is not None:
        m["conditional_accuracy"] = round(float(np.mean(pred == labels)), 4)
    return m


def two_sample(real_u8, fake_u8):
    r = metrics.two_sample_test(real_u8, fake_u8, folds=2, seed=0)
    return {"two_sample_accuracy": round(r["accuracy"], 4), "two_sample_p": float(f"{r['p_value']:.3g}")}


def label_strip(text, width, height=14):
    img = Image.new("L", (width, height), 255)
    ImageDraw.Draw(img).text((2, 1), text, fill=0)
    return np.asarray(img)[..., None]


def panel(title, grid_u8):
    g = grid_u8 if grid_u8.ndim == 3 else grid_u8[..., None]
    return np.concatenate([label_strip(title, g.shape[1]), g], axis=0)


def side_by_side(panels, gap=6):
    h = max(p.shape[0] for p in panels)
    parts = []
    for p in panels:
        parts += [np.pad(p, ((0, h - p.shape[0]), (0, 0), (0, 0)), constant_values=255),
                  np.full((h, gap, 1), 255, "uint8")]
    return np.concatenate(parts[:-1], axis=1)


def stacked(rows, gap=4):
    w = max(r.shape[1] for r in rows)
    parts = []
    for r in rows:
        parts += [np.pad(r, ((0, 0), (0, w - r.shape[1]), (0, 0)), constant_values=255),
                  np.full((gap, w, 1), 255, "uint8")]
    return np.concatenate(parts[:-1], axis=0)


def latent_map(net, x, y, title, size=300):
    """Held-out digits' 2-D codes as dots coloured by class (axes through 0; the circle of radius 2 holds 86% of
    N(0, I), where prior samples land), beside the decoder on a 15 x 15 grid of codes over the same square. The
    square is the codes' own extent (their largest |coordinate|, at least 3), so both models show all their codes."""
    z = net.encode((x + 1.0) / 2.0)
    extent = float(max(3.0, np.abs(z).max() * 1.05))
    img = Image.new("RGB", (size, size), (255, 255, 255))
    d = ImageDraw.Draw(img)
    to_px = lambda v: (v / extent * 0.5 + 0.5) * (size - 1)  # noqa: E731
    d.line([(to_px(0), 0), (to_px(0), size)], fill=(210, 210, 210))
    d.line([(0, to_px(0)), (size, to_px(0))], fill=(210, 210, 210))
    d.ellipse([to_px(-2), to_px(-2), to_px(2), to_px(2)], outline=(120, 120, 120))
    for (a, b), c in zip(z, y):
        px, py = to_px(a), to_px(-b)
        d.ellipse([px - 1.5, py - 1.5, px + 1.5, py + 1.5], fill=COLOURS[int(c)])
    d.text((3, 3), title, fill=(0, 0, 0))
    d.text((3, size - 12), f"[-{extent:.1f}, {extent:.1f}]^2, circle: radius 2", fill=(0, 0, 0))
    for c in range(10):
        d.text((size - 12, 3 + 11 * c), str(c), fill=COLOURS[c])
    t = np.linspace(-extent, extent, 15, dtype="float32")
    codes = np.array([[a, b] for b in t[::-1] for a in t], "float32")
    manifold = images.grid(net.decode(codes), ncols=15, pad=0)
    manifold = manifold if manifold.ndim == 2 else manifold[..., 0]  # grid() drops a single channel
    manifold = np.asarray(Image.fromarray(manifold).resize((size, size), Image.NEAREST).convert("RGB"))
    return np.concatenate([np.asarray(img), np.full((size, 6, 3), 255, "uint8"), manifold], axis=1), z


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DIGITS)
    p.add_argument("--shipped", action="store_true", help="measure the shipped presets instead of run folders")
    p.add_argument("--presets", nargs="+", default=["mnist_ae", "mnist_vae", "mnist_cvae", "mnist_vaegan"],
                   choices=sorted(vae.CONFIGS))
    p.add_argument("--run-dir", default="runs", help="folder holding vae_<preset>/autoencoder.weights.h5")
    p.add_argument("--epochs-2d", type=int, default=20, help="epochs of the 2-D-latent variants (latent map)")
    p.add_argument("--no-register", action="store_true", help="measure only")
    p.add_argument("--no-two-sample", action="store_true", help="skip the two-sample tests (quick look)")
    p.add_argument("--figures", default=HERE)
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    a = p.parse_args(argv)

    x, y = digits(a.data)
    train_rows, clf_rows, val_rows = split(y)
    held = np.concatenate([clf_rows, val_rows])
    x_held, y_held = x[held], y[held]
    real_u8 = u8(x_held)
    clf, feats, val_acc = metrics.digit_classifier(x[clf_rows], y[clf_rows], x[val_rows], y[val_rows])
    print(f"classifier accuracy on held-out real digits: {val_acc:.4f}", file=sys.stderr)
    results = {"classifier_val_accuracy": round(val_acc, 4), "rows": {}}
    rows = results["rows"]
    rng = np.random.default_rng(0)
    train_u8 = u8(x[rng.choice(train_rows, N, replace=False)])

    def measure(name, fake_u8, labels=None, extra=None):
        m = judge(clf, feats, x_held, fake_u8, labels)
        if not a.no_two_sample:
            m.update(two_sample(real_u8, fake_u8))
        m.update(extra or {})
        rows[name] = m
        print(name, json.dumps({k: v for k, v in m.items() if k != "predicted_class_histogram"}), file=sys.stderr)
        return m

    measure("real digits (training set)", train_u8)
    blurred = train_u8.astype("float32")
    pad = np.pad(blurred, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    blurred = sum(pad[:, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9.0
    measure("weak baseline: training digits, 3x3 box blur", np.round(blurred).astype("uint8"))

    nets = {}
    cond_labels = np.repeat(np.arange(10), N // 10).astype("int32")
    for name in a.presets:
        preset = vae.CONFIGS[name]
        if a.shipped:
            net = vae.pretrained(name)
        else:
            net = preset.build_generator()
            net.load_weights(os.path.join(a.run_dir, f"vae_{name}", "autoencoder.weights.h5"))
        nets[name] = net
        labels = cond_labels if net.num_classes else None
        rec = net.predict_on_batch([x_held, y_held] if net.num_classes else x_held)
        rec_u8 = u8(rec)
        rec_pred = clf.predict(f32(rec_u8), verbose=0, batch_size=256).argmax(1)
        extra = {"reconstruction_psnr": round(float(np.mean(metrics.psnr(real_u8, rec_u8, data_range=255))), 3),
                 "reconstruction_label_kept": round(float(np.mean(rec_pred == y_held)), 4)}
        measure(name, net.generate(N, labels=labels, seed=SEED), labels, extra)
        if name == "mnist_ae":
            codes = net.encode((x[train_rows] + 1.0) / 2.0)
            z = np.random.default_rng(SEED).multivariate_normal(codes.mean(0), np.cov(codes.T), N).astype("float32")
            measure("mnist_ae (fitted Gaussian)", net.decode(z))
        if not (a.shipped or a.no_register):
            m = {k: v for k, v in rows[name].items() if not isinstance(v, list)}
            ref_x = x_held[::100][:8]
            ref_in = [ref_x, y_held[::100][:8]] if net.num_classes else ref_x
            weights.register("vae", name, net,
                             file_path=os.path.join(a.run_dir, f"vae_{name}", "autoencoder.weights.h5"),
                             trained_on=preset.trained_on,
                             recipe=f"apps/vae/train.py --preset {name} (epochs {EPOCHS[name]}, batch 64, seed 0); "
                                    "apps/vae/evaluate.py",
                             metrics=m | {"classifier_val_accuracy": results["classifier_val_accuracy"]},
                             reference_input=ref_in, default=preset.default)
    for name in ("mnist_dcgan", "mnist_cdcgan"):
        g = dcgan.pretrained(name)
        labels = cond_labels if g.num_classes else None
        measure(f"{name} (shipped DCGAN)", g.generate(N, labels=labels, seed=SEED), labels)

    # -- figures -----------------------------------------------------------------------------------------
    pick = np.array([np.flatnonzero(y_held == c)[k] for k in range(2) for c in range(10)])
    rec_rows = [panel("held-out digits", images.grid(real_u8[pick], ncols=20))]
    for name, net in nets.items():
        inp = [x_held[pick], y_held[pick]] if net.num_classes else x_held[pick]
        rec_rows.append(panel(f"{name}: reconstruction", images.grid(u8(net.predict_on_batch(inp)), ncols=20)))
    images.save_png(os.path.join(a.figures, "reconstructions.png"), stacked(rec_rows))

    panels = []
    for name, net in nets.items():
        labels = np.tile(np.arange(10), 10) if net.num_classes else None
        panels.append(panel(name, images.grid(net.generate(100, labels=labels, seed=SEED), ncols=10)))
    for name in ("mnist_dcgan",):
        panels.append(panel(f"{name} (GAN)", images.grid(dcgan.pretrained(name).generate(100, seed=SEED), ncols=10)))
    images.save_png(os.path.join(a.figures, "prior_samples.png"), side_by_side(panels))

    pairs = [(np.flatnonzero(y_held == s)[3], np.flatnonzero(y_held == t)[3]) for s, t in ((1, 7), (3, 8), (4, 9),
                                                                                            (0, 6))]
    irows = []
    for name, net in nets.items():
        if net.num_classes:
            continue
        strips = [net.interpolate((x_held[i] + 1) / 2, (x_held[j] + 1) / 2, steps=10) for i, j in pairs]
        irows.append(panel(f"{name}: decoded along a line between two codes",
                           images.grid(np.concatenate(strips), ncols=10)))
    images.save_png(os.path.join(a.figures, "interpolations.png"), stacked(irows))

    maps = []
    two_d = {}
    for name in ("mnist_ae", "mnist_vae"):
        run = os.path.join(a.run_dir, f"vae_2d_{name}")
        model = train(name, x[train_rows], y[train_rows], a.epochs_2d, run=run, latent_dim=2, verbose=0)
        img, z = latent_map(model.autoencoder, x_held, y_held, f"{name}, 2-D code: held-out digits")
        maps.append(img)
        prior = model.autoencoder.generate(N, seed=SEED)
        two_d[name] = {"code_std": np.round(z.std(0), 3).tolist(), **judge(clf, feats, x_held, prior)}
        print(name, "2-D", two_d[name], file=sys.stderr)
    results["latent_2d"] = two_d
    fig = np.concatenate([maps[0], np.full((12, maps[0].shape[1], 3), 255, "uint8"), maps[1]], axis=0)
    images.save_png(os.path.join(a.figures, "latent_map_2d.png"), fig)

    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
    print(table(results))


def table(results):
    cols = [("judged_digit", "judged digit"), ("classes_covered", "classes"), ("class_balance", "balance"),
            ("conditional_accuracy", "cond. acc"), ("digits_fid", "digits FID"),
            ("two_sample_accuracy", "two-sample acc"), ("reconstruction_psnr", "recon PSNR"),
            ("reconstruction_label_kept", "recon label kept")]
    lines = ["| samples | " + " | ".join(c for _, c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, m in results["rows"].items():
        lines.append(f"| {name} | " + " | ".join(str(m.get(k, "")) for k, _ in cols) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
