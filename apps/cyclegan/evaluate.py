"""Measure a CycleGAN preset on the paired val split, write the sample grid, and register it in weights/.

    python apps/cyclegan/evaluate.py --preset edges2shoes_handbags_128 --recipe "..."   # runs/ -> weights/
    python apps/cyclegan/evaluate.py --shipped --out /tmp/x.json       # re-measure the shipped preset only

Val data: ../shared/data/edges2shoes_handbags/val, 200 side-by-side pairs (photo left, edges right), never
trained on. CycleGAN trains on unpaired domains, but the val pairs exist, so each translation can be scored
against the truth (as the paper scored labels -> photo on Cityscapes, with pix2pix as the supervised upper bound):

* edges -> photo (``translate(edges, "AtoB")``, the default ``size="auto"``: the 256x256 drawing is translated
  at the preset's 128 and resized back) against the true photo: L1 (in [0, 1] units), PSNR, SSIM and the
  sharpness ratio, apps/pix2pix/evaluate.py's measures (``scores``); also at the image's own size
  (``size=None``) to show what "auto" is for;
* photo -> edges (``"BtoA"``) against the true edge map, the same measures;
* cycle L1 both ways: |F(G(edges)) - edges| and |G(F(photo)) - photo|;
* beside it: the shipped pix2pix preset (trained on the pairs: the upper bound) on edges -> photo, and the
  mean-training-image baseline: the per-pixel mean of the 1,000 training photos of domain B (for edges -> photo)
  and of the 1,000 training edge maps of domain A (for photo -> edges), the same output for every input.
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from zoo import images  # noqa: E402


def _pix2pix_evaluation():
    """apps/pix2pix/evaluate.py (the val loader and the measures both cards use)."""
    spec = importlib.util.spec_from_file_location("pix2pix_evaluate", os.path.join(REPO, "apps", "pix2pix",
                                                                                    "evaluate.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


P2P = _pix2pix_evaluation()
DATA = P2P.DATA


def translate(model, x, direction, size="auto", batch_size=8):
    return np.concatenate([model.translate(x[i:i + batch_size], direction, size=size)
                           for i in range(0, len(x), batch_size)])


def mean_training_images(train_dir):
    """uint8 per-pixel means of the training photos of domain B and edge maps of domain A (256x256)."""
    sys.path.insert(0, HERE)
    from train import DOMAINS  # noqa: E402  (which pairs each domain holds)

    from zoo import data

    means = {}
    for domain, half, ranges in DOMAINS:
        total = 0.0
        numbers = [n for r in ranges for n in r]
        for n in numbers:
            ab = data.read_image(os.path.join(train_dir, f"{n}_AB.jpg"), 3).astype(np.float64)
            w = ab.shape[1] // 2
            total = total + (ab[:, :w] if half == "left" else ab[:, w:2 * w])
        means[domain] = np.round(total / len(numbers)).astype(np.uint8)
    return means


def measure(model, edges, photos):
    """Every measure of the card for a ``CycleGenerators`` (a dict) and the outputs the grid shows."""
    fake_photo = translate(model, edges, "AtoB")
    fake_edges = translate(model, photos, "BtoA")
    rounded = lambda d: {k: round(v, 4) for k, v in d.items()}  # noqa: E731
    m = {"edges_to_photo": rounded(P2P.scores(fake_photo, photos)),
         "edges_to_photo_native_size": rounded(P2P.scores(translate(model, edges, "AtoB", size=None), photos)),
         "photo_to_edges": rounded(P2P.scores(fake_edges, edges)),
         "cycle_l1_edges": round(float(np.mean(np.abs(translate(model, fake_photo, "BtoA").astype(float) - edges)) / 255), 4),
         "cycle_l1_photo": round(float(np.mean(np.abs(translate(model, fake_edges, "AtoB").astype(float) - photos)) / 255), 4)}
    return m, fake_photo, fake_edges


def main(argv=None):
    from zoo import weights
    from zoo.apps import cyclegan, pix2pix

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="edges2shoes_handbags_128", choices=sorted(cyclegan.CONFIGS))
    p.add_argument("--shipped", action="store_true", help="measure the shipped preset instead of runs/")
    p.add_argument("--weights", help="a generators .weights.h5 (default runs/cyclegan_<preset>/generators.weights.h5)")
    p.add_argument("--no-register", action="store_true", help="measure only")
    p.add_argument("--recipe", default="", help="how the weights were trained (for its Preset)")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    p.add_argument("--grid", default=os.path.join(HERE, "samples.png"), help="val sample grid PNG")
    a = p.parse_args(argv)

    edges, photos = P2P.load_val()
    cfg = cyclegan.CONFIGS[a.preset]
    if a.shipped:
        model = cyclegan.pretrained(a.preset)
    else:
        path = a.weights or os.path.join("runs", f"cyclegan_{a.preset}", "generators.weights.h5")
        model = weights.load_into(cfg.build_generator(), path)
    m, fake_photo, fake_edges = measure(model, edges, photos)
    supervised = P2P.outputs(pix2pix.pretrained(), edges)
    means = mean_training_images(os.path.join(DATA, "train"))
    baseline = lambda mean, n: np.broadcast_to(mean, (n,) + mean.shape)  # noqa: E731
    results = {
        "val_pairs": len(edges), "preset": a.preset, "weights": "shipped" if a.shipped else path,
        "cyclegan": m,
        "pix2pix_edges_to_photo": {k: round(v, 4) for k, v in P2P.scores(supervised, photos).items()},
        "mean_photo_edges_to_photo": {k: round(v, 4) for k, v in P2P.scores(baseline(means["B"], len(edges)),
                                                                           photos).items()},
        "mean_edges_photo_to_edges": {k: round(v, 4) for k, v in P2P.scores(baseline(means["A"], len(edges)),
                                                                           edges).items()},
    }
    pick = np.linspace(0, len(edges) - 1, 6).round().astype(int)  # shoes and handbags
    cols = [edges, fake_photo, supervised, photos, fake_edges]
    grid = np.stack([c[i] for i in pick for c in cols])  # edges | CycleGAN | pix2pix | true photo | F(photo)
    images.save_png(a.grid, images.grid(grid, ncols=len(cols)))
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(json.dumps(results, indent=2))
    if not (a.shipped or a.no_register):
        rng = np.random.default_rng(0)
        reference = [rng.uniform(-1, 1, (1, 128, 128, 3)).astype("float32") for _ in "ab"]
        flat = {"l1": m["edges_to_photo"]["l1"], "psnr": m["edges_to_photo"]["psnr"],
                "ssim": m["edges_to_photo"]["ssim"], "cycle_l1_edges": m["cycle_l1_edges"],
                "cycle_l1_photo": m["cycle_l1_photo"]}
        weights.register("cyclegan", a.preset, model, file_path=path, trained_on=cfg.trained_on,
                         recipe=f"{a.recipe}; measured by apps/cyclegan/evaluate.py on the 200 val pairs",
                         metrics=flat, reference_input=reference, default=cfg.default)


if __name__ == "__main__":
    main()
