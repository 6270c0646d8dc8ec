"""Measure the pix2pix presets on the val pairs, write the sample grid, and register them in weights/.

    python apps/pix2pix/evaluate.py          # runs/<preset>/generator.weights.h5 of both; register edges2shoes_handbags
    python apps/pix2pix/evaluate.py --shipped --out /tmp/x.json   # re-measure the shipped preset, register nothing

Val data: ../shared/data/edges2shoes_handbags/val, 200 side-by-side pairs (photo left, edges right), never
trained on. Each edge image (256x256) goes through ``generator.translate`` (the presets' ``test_stats="image"``:
each image normalised by its own batch-norm statistics, no dropout; deterministic; ``--stats moving`` for the
moving averages) and the uint8 output is compared with the true photo:

* L1: mean absolute error in [0, 1] units (the training loss's measure, halved: training uses [-1, 1]);
* PSNR (dB) and SSIM on RGB (``zoo.metrics``, data range 255), means of per-image values;
* sharpness: ``zoo.metrics.laplacian_variance`` (variance of the 3x3 Laplacian of the luma) averaged over the
  outputs, divided by the same average over the true photos. Why this measure: the point of the adversarial
  term is to stop the blur an L1 regression produces when several outputs are plausible (Isola et al. 2017,
  section 4.2: "L1 alone leads to reasonable but blurry results"); blur removes high frequencies, and the
  Laplacian is a high-pass filter whose response variance is a standard focus measure (Pech-Pacheco et al.
  2000). Because noise raises it too, it is reported as a ratio to the real photos: 1.0 is as sharp as
  the photos, below 1 blurrier. PSNR/L1 reward the blurry mean; this measure does not.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from zoo import data, images, metrics  # noqa: E402

DATA = os.path.join(REPO, "..", "shared", "data", "edges2shoes_handbags")
PRESETS = ("edges2shoes_handbags", "edges2shoes_handbags_l1")
SHIPPED = ("edges2shoes_handbags",)  # the L1-only ablation is measured from runs/, not shipped (54 MB)


def load_val(folder=None, n=None):
    """``(inputs, targets)``: uint8 ``(N, 256, 256, 3)`` edges (right halves) and photos (left halves) of the
    first ``n`` val files in name order (all when None)."""
    files = data.list_images(folder or os.path.join(DATA, "val"))[:n]
    if not files:
        raise FileNotFoundError(f"no val images under {folder or os.path.join(DATA, 'val')}")
    ab = np.stack([data.read_image(f, 3) for f in files])
    half = ab.shape[2] // 2
    return ab[:, :, half:2 * half], ab[:, :, :half]


def outputs(generator, inputs, batch_size=8, stats=None):
    """``generator.translate`` over uint8 inputs in batches -> uint8 outputs (``stats``: translate's)."""
    return np.concatenate([generator.translate(inputs[i:i + batch_size], stats=stats)
                           for i in range(0, len(inputs), batch_size)])


def measure(generator, inputs, targets, batch_size=8, stats=None):
    """The card's measures of ``generator.translate`` on uint8 inputs against uint8 targets (a dict)."""
    return scores(outputs(generator, inputs, batch_size, stats), targets)


def scores(out, targets):
    """L1 (in [0, 1] units), PSNR, SSIM and the sharpness ratio of uint8 outputs against uint8 targets (a dict;
    the CycleGAN card uses the same measures)."""
    return {"l1": float(np.mean(np.abs(out.astype(np.float64) - targets) / 255.0)),
            "psnr": float(np.mean(metrics.psnr(out, targets))),
            "ssim": float(np.mean(metrics.ssim(out, targets))),
            "sharpness": float(np.mean(metrics.laplacian_variance(out)) / np.mean(metrics.laplacian_variance(targets)))}


def fit_study(generator, inputs, targets, size=(240, 320), out=None):
    """``translate``'s two ways with sizes the U-Net cannot take, on val drawings and photos resized (bicubic)
    to ``size`` (h, w): ``fit="pad"`` (reflect-pad to 256 multiples, crop back) and ``fit="resize"`` (to 256x256
    and back). Returns ``{fit: measures}``; ``out``: a PNG of 4 drawings | pad | resize | truth."""
    from PIL import Image

    def resized(batch):
        return np.stack([np.asarray(Image.fromarray(a).resize(size[::-1], Image.BICUBIC)) for a in batch])

    x, y = resized(inputs), resized(targets)
    made = {fit: np.concatenate([generator.translate(x[i:i + 8], fit=fit) for i in range(0, len(x), 8)])
            for fit in ("pad", "resize")}
    if out:
        pick = np.linspace(0, len(x) - 1, 4).round().astype(int)
        images.save_png(out, images.grid(np.stack([r[j] for j in pick for r in (x, made["pad"], made["resize"], y)]),
                                         ncols=4))
    return {fit: {k: round(v, 4) for k, v in scores(o, y).items()} for fit, o in made.items()}


def main(argv=None):
    from zoo import weights
    from zoo.apps import pix2pix

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shipped", action="store_true", help="measure the shipped presets instead of runs/")
    p.add_argument("--presets", nargs="+", default=list(PRESETS), choices=sorted(pix2pix.CONFIGS))
    p.add_argument("--run-dir", default="runs", help="folder holding <preset>/generator.weights.h5")
    p.add_argument("--no-register", action="store_true", help="measure only")
    p.add_argument("--recipe", default="", help="how the weights were trained (for its Preset)")
    p.add_argument("--stats", choices=("moving", "image"), help="batch-norm statistics for translate (default: "
                   "each preset's test_stats); anything but the default measures only (no registering)")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    p.add_argument("--grid", default=os.path.join(HERE, "samples.png"), help="val sample grid PNG")
    p.add_argument("--fit-study", action="store_true",
                   help="instead: translate's fit='pad' against fit='resize' on val pairs resized to 240x320 "
                        "(the shipped preset; fit_study.json and fit_study.png next to --out)")
    a = p.parse_args(argv)

    inputs, targets = load_val()
    if a.fit_study:
        folder = os.path.dirname(a.out)
        result = fit_study(pix2pix.pretrained(), inputs, targets, out=os.path.join(folder, "fit_study.png"))
        with open(os.path.join(folder, "fit_study.json"), "w") as f:
            json.dump({"size_hw": [240, 320], "val_pairs": len(inputs), **result}, f, indent=2)
        print(json.dumps(result, indent=2))
        return
    truth_sharp = float(np.mean(metrics.laplacian_variance(targets)))
    results = {"val_pairs": len(inputs), "truth_laplacian_variance": round(truth_sharp, 2),
               "stats": a.stats or "each preset's test_stats", "presets": {}}
    pick = np.linspace(0, len(inputs) - 1, 6).round().astype(int)  # shoes and handbags
    rows = [inputs[pick]]
    for name in [n for n in a.presets if n in SHIPPED] if a.shipped else a.presets:
        if a.shipped:
            gen = pix2pix.pretrained(name)
        else:
            cfg = pix2pix.CONFIGS[name]
            gen = weights.load_into(cfg.build_generator(),
                                    os.path.join(a.run_dir, name, "generator.weights.h5"))
        m = {k: round(v, 4) for k, v in measure(gen, inputs, targets, stats=a.stats).items()}
        results["presets"][name] = m
        print(name, json.dumps(m), file=sys.stderr)
        rows.append(gen.translate(inputs[pick], stats=a.stats))
        if not (a.shipped or a.no_register or a.stats) and name in SHIPPED:
            reference = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 3)).astype("float32")
            weights.register(
                "pix2pix", name, gen, file_path=os.path.join(a.run_dir, name, "generator.weights.h5"),
                trained_on="shared/data/edges2shoes_handbags/train: 2000 pairs (1000 shoes, 1000 handbags), edges -> photo",
                recipe=f"{a.recipe}; measured by apps/pix2pix/evaluate.py on the 200 val pairs",
                metrics=m, reference_input=reference, default=name == "edges2shoes_handbags")
    rows.append(targets[pick])
    # one row per val example: edges | each preset | true photo
    grid = np.stack([r[i] for i in range(len(pick)) for r in rows])
    images.save_png(a.grid, images.grid(grid, ncols=len(rows)))
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
