"""Measure the inpainting presets against classical inpainting, write the sample grids, and register them.

    python apps/inpainting/evaluate.py --preset celeba_128 --recipe "..."     # runs/ -> weights/, faces
    python apps/inpainting/evaluate.py --preset photos_128 --recipe "..."     # Set5, Set14, flowers valid
    python apps/inpainting/evaluate.py --shipped                              # re-measure both shipped presets

Held-out sets (never trained on): ``faces`` = the last 1,000 of the 10,000 shared CelebA faces (128x128; the
face preset trains on the first 9,000), for ``celeba_128``; ``set5``, ``set14`` (shared/data/sr/val, native
sizes) and ``flowers`` (flowers102/valid, 818 images, short side 128) for ``photos_128``.

Masks, fixed per image (seeded by the image's index): ``free_form`` (the training algorithm's strokes, without
the box), and centred square holes covering 25%, 37.5% and 50% of each side (``box25``: 6% of the image,
``box37``: 14%, ``box50``: 25%), to see how each method degrades as the hole grows.

Methods, all on the same images and masks: the preset (``model.inpaint`` with its defaults but ``max_side``: at
the image's own size, or smaller where the hole is deeper than the training holes, the network's fill
Poisson-blended into the image), the network alone (its fill at the image's own size pasted as it is:
``max_depth=None, blend=False``), OpenCV's Telea and Navier-Stokes inpainting (``cv2.inpaint``, radius 5), and the
mean-colour fill (the hole painted with the mean colour of the known pixels of that image). Measures on 8-bit
RGB: PSNR and SSIM over the whole image (``zoo.metrics``), L1 over the whole image and L1 inside the hole (mean
absolute error in [0, 1] units).

Realism (``--realism``, on by default): a classifier two-sample test (``zoo.metrics.two_sample_test``: a small
CNN trained from scratch, 2-fold, its held-out accuracy; 0.5 = it cannot tell). The held-out set is split in two
halves of different images, interleaved (the flowers are stored class by class): the even-numbered images are
filled, the odd-numbered stay real, and the CNN learns to tell filled from real. Faces: the centre 64x64 box (``box50``) of the 128x128 held-out faces. Photos: the centre 128x128 crop
of each flowers-valid image with the free-form holes. Both sides go through the same JPEG (quality 90) round
trip. Rows: real vs real (the even half unfilled: the test's chance level), the preset, the network alone,
Telea, and the mean-colour fill (the weak baseline).
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
SHARED = os.path.join(REPO, "..", "shared", "data")

from zoo import images, metrics  # noqa: E402
from zoo.apps.inpainting import masks  # noqa: E402

MASKS = {"free_form": None, "box25": 0.25, "box37": 0.375, "box50": 0.5}
METHODS = ("model", "network", "telea", "navier_stokes", "mean_fill")
SETS = {"celeba_128": ("faces",), "photos_128": ("set5", "set14", "flowers")}
FACES_TRAIN = 9000


def load_set(name, limit=None):
    """uint8 RGB images (a list: sizes differ) of a held-out set."""
    from zoo import data

    folder = {"faces": os.path.join(SHARED, "faces_celeba", "train"), "set5": os.path.join(SHARED, "sr", "val", "Set5"),
              "set14": os.path.join(SHARED, "sr", "val", "Set14"),
              "flowers": os.path.join(SHARED, "flowers102", "valid")}[name]
    files = data.list_images(folder)
    if name == "faces":
        files = files[FACES_TRAIN:]
    files = files[:limit] if limit else files
    return [data.read_image(f, 3) for f in files]


def mask_for(kind, shape, index):
    h, w = shape
    if MASKS[kind] is None:
        return masks.free_form(h, w, np.random.default_rng(index))
    return masks.centre_box(h, w, MASKS[kind])


def classical(image, mask, method):
    """A baseline's fill of ``image`` (uint8 RGB) where ``mask`` (uint8 0/1) is set."""
    if method == "mean_fill":
        colour = image[mask == 0].mean(axis=0) if (mask == 0).any() else np.full(3, 127.5)
        return np.where(mask[..., None] > 0, np.round(colour).astype(np.uint8), image)
    import cv2

    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    bgr = np.ascontiguousarray(image[..., ::-1])
    return cv2.inpaint(bgr, mask.astype(np.uint8) * 255, 5, flag)[..., ::-1]


def scores(truth, filled, mask):
    t, f = truth.astype(np.float64) / 255.0, filled.astype(np.float64) / 255.0
    hole = mask.astype(bool)
    return {"psnr": float(metrics.psnr(truth, filled, data_range=255)),
            "ssim": float(metrics.ssim(truth, filled, data_range=255)),
            "l1": float(np.abs(t - f).mean()), "l1_hole": float(np.abs(t - f)[hole].mean()),
            "hole_fraction": float(hole.mean())}


def evaluate(model, name, limit=None, keep=()):
    """``{mask: {method: mean scores}}`` on set ``name``; also the filled images of the ``keep`` indices."""
    data = load_set(name, limit)
    out, shown = {}, {}
    for kind in MASKS:
        rows = {m: [] for m in METHODS}
        for i, img in enumerate(data):
            m = mask_for(kind, img.shape[:2], i)
            for method in METHODS:
                filled = (np.asarray(model.inpaint(img, m, max_side=None)) if method == "model"
                          else np.asarray(model.inpaint(img, m, max_side=None, max_depth=None, blend=False))
                          if method == "network" else classical(img, m, method))
                if i in keep:
                    shown[(kind, i, method)] = filled
                rows[method].append(scores(img, filled, m))
        out[kind] = {method: {k: round(float(np.mean([r[k] for r in v])), 4) for k in v[0]}
                     for method, v in rows.items()}
        print(name, kind, json.dumps(out[kind]), file=sys.stderr)
    return out, data, shown


REALISM = {"faces": "box50", "flowers": "free_form"}
REALISM_METHODS = ("real", "model", "network", "telea", "mean_fill")


def centre_crop(img, side=128):
    top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    return img[top:top + side, left:left + side]


def fill(model, img, m, method):
    if method == "real":
        return img
    if method == "model":
        return np.asarray(model.inpaint(img, m, max_side=None))
    if method == "network":
        return np.asarray(model.inpaint(img, m, max_side=None, max_depth=None, blend=False))
    return classical(img, m, method)


def realism(model, name, limit=None, seed=0):
    """``{method: two_sample_test result}``: the even-numbered images of held-out set ``name`` filled by each
    method (the ``REALISM`` mask) against the odd-numbered ones left real (interleaved: the flowers are stored by
    class); ``real`` is the even-numbered images unfilled (chance level)."""
    data = np.stack([centre_crop(img) for img in load_set(name, limit)])
    half = len(data) // 2
    kind = REALISM[name]
    real = metrics.jpeg_roundtrip(data[1:2 * half:2])
    out = {}
    for method in REALISM_METHODS:
        filled = np.stack([fill(model, data[i], mask_for(kind, data[i].shape[:2], i), method)
                           for i in range(0, 2 * half, 2)])
        r = metrics.two_sample_test(real, metrics.jpeg_roundtrip(filled), seed=seed)
        out[method] = {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
        print(name, "realism", method, json.dumps(out[method]), file=sys.stderr)
    return out


def sample_grid(data, shown, keep, path):
    """Rows: original | with the hole (white) | model | Telea | Navier-Stokes, for each kept image and mask."""
    rows = []
    for i in keep:
        for kind in ("free_form", "box50"):
            img = data[i]
            m = mask_for(kind, img.shape[:2], i)
            holed = np.where(m[..., None] > 0, 255, img).astype(np.uint8)
            rows.append([img, holed] + [shown[(kind, i, method)] for method in ("model", "telea", "navier_stokes")])
    side = min(min(r[0].shape[:2]) for r in rows)
    crop = lambda a: a[(a.shape[0] - side) // 2:(a.shape[0] - side) // 2 + side,  # noqa: E731
                       (a.shape[1] - side) // 2:(a.shape[1] - side) // 2 + side]
    images.save_png(path, images.grid(np.stack([crop(a) for r in rows for a in r]), ncols=5))


def faces_box_figure(models, path, count=8):
    """The first ``count`` held-out faces with the centre 64x64 box: rows original | with the hole (white) | each
    of ``models``' fill (``{label: generator}``, in order), one column per face."""
    faces = load_set("faces", count)
    m = mask_for("box50", (128, 128), 0)
    rows = [faces, [np.where(m[..., None] > 0, 255, f).astype(np.uint8) for f in faces]]
    rows += [[np.asarray(model.inpaint(f, m, max_side=None)) for f in faces] for model in models.values()]
    images.save_png(path, images.grid(np.stack([a for r in rows for a in r]), ncols=count))
    print(f"{path}: rows original, hole, " + ", ".join(models), file=sys.stderr)


def tables(results):
    """The card's Markdown tables: per preset and set, one row per mask and method."""
    names = {"model": "**model**", "network": "network alone", "telea": "Telea", "navier_stokes": "Navier-Stokes",
             "mean_fill": "mean fill"}
    out = []
    for preset in sorted(k for k in results if k in SETS):
        for name in SETS[preset]:
            res = results[preset].get(name)
            if not res:
                continue
            out += [f"{preset} on {name} ({res['images']} images):", "",
                    "| mask (hole) | method | PSNR | SSIM | L1 | L1 in hole |", "|---|---|---|---|---|---|"]
            for kind in MASKS:
                for method in (m for m in METHODS if m in res[kind]):
                    r = res[kind][method]
                    out.append(f"| {kind} ({100 * r['hole_fraction']:.0f}%) | {names[method]} | {r['psnr']:.2f} | "
                               f"{r['ssim']:.4f} | {r['l1']:.4f} | {r['l1_hole']:.4f} |")
            out.append("")
        for name, res in sorted(results[preset].get("realism", {}).items()):
            out += [f"{preset}, realism on {name} ({REALISM[name]} holes; {res['real']['n']} filled vs "
                    f"{res['real']['n']} other real images): how often a CNN trained from scratch tells them apart",
                    "", "| method | two-sample accuracy (0.5 = cannot tell) | folds |", "|---|---|---|"]
            for method in (m for m in REALISM_METHODS if m in res):
                r = res[method]
                label = "real vs real" if method == "real" else names[method]
                out.append(f"| {label} | {r['accuracy']:.3f} | {' / '.join(f'{f:.3f}' for f in r['folds'])} |")
            out.append("")
    return "\n".join(out)


def ema_from_checkpoint(preset, folder):
    """The EMA generator of the latest checkpoint in a run's adversarial phase folder, saved as
    ``<folder>/generator_epoch<n>.weights.h5`` (n checkpoints of the run); returns that path."""
    from zoo.apps import inpainting
    from zoo.callbacks import Checkpoint

    gan = inpainting.build(preset, ema_decay=0.999)
    gan.compile()
    epoch = Checkpoint(folder).resume(gan)
    path = os.path.join(folder, f"generator_epoch{epoch}.weights.h5")
    gan.sampling_generator().save_weights(path)
    print(f"{folder}: checkpoint {epoch}, EMA generator -> {path}", file=sys.stderr)
    return path


def main(argv=None):
    from zoo import weights
    from zoo.apps import inpainting

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(SETS), action="append",
                   help="preset(s) to measure (default: both)")
    p.add_argument("--shipped", action="store_true", help="measure the shipped presets instead of runs/")
    p.add_argument("--weights", help="a generator .weights.h5 (default runs/inpainting_<preset>/generator.weights.h5)")
    p.add_argument("--no-register", action="store_true", help="measure only")
    p.add_argument("--recipe", default="", help="how the weights were trained (for its Preset)")
    p.add_argument("--limit", type=int, default=None, help="images per set (default: all)")
    p.add_argument("--no-realism", dest="realism", action="store_false", help="skip the two-sample tests")
    p.add_argument("--only-realism", action="store_true", help="only the two-sample tests (keeps the other rows)")
    p.add_argument("--checkpoint", help="a run's phase folder (e.g. runs/inpainting_celeba_128/gan): measure the "
                                        "EMA generator of its latest checkpoint (written beside it first)")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    p.add_argument("--tables", action="store_true", help="only print the card's tables from --out")
    p.add_argument("--faces-figure", nargs="+", metavar="WEIGHTS",
                   help="only write faces_box.png: 8 held-out faces with the centre box filled by each celeba_128 "
                        "generator file given (or 'shipped'), one row each")
    a = p.parse_args(argv)
    if a.faces_figure:
        cfg = inpainting.CONFIGS["celeba_128"]
        models = {w: inpainting.pretrained("celeba_128") if w == "shipped" else
                  weights.load_into(cfg.build_generator(), w) for w in a.faces_figure}
        faces_box_figure(models, os.path.join(HERE, "faces_box.png"))
        return
    if a.tables:
        with open(a.out) as f:
            print(tables(json.load(f)))
        return

    results = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            results = json.load(f)
    for preset in a.preset or sorted(SETS):
        cfg = inpainting.CONFIGS[preset]
        if a.shipped:
            model, path = inpainting.pretrained(preset), "shipped"
        elif a.checkpoint:
            path = ema_from_checkpoint(preset, a.checkpoint)
            model = weights.load_into(cfg.build_generator(), path)
        else:
            path = a.weights or os.path.join("runs", f"inpainting_{preset}", "generator.weights.h5")
            model = weights.load_into(cfg.build_generator(), path)
        previous = results.get(preset, {}) if a.only_realism else {}
        results[preset] = {**previous, "weights": path}
        for name in () if a.only_realism else SETS[preset]:
            keep = (0, 1, 2) if name != "set5" else (0, 2)
            res, data, shown = evaluate(model, name, a.limit, keep)
            results[preset][name] = {"images": len(data), **res}
            sample_grid(data, shown, keep, os.path.join(HERE, f"samples_{name}.png"))
        if a.realism or a.only_realism:
            results[preset]["realism"] = {name: realism(model, name, a.limit) for name in SETS[preset]
                                          if name in REALISM}
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        if not (a.shipped or a.no_register):
            rng = np.random.default_rng(0)
            x = rng.uniform(-1, 1, (1, 128, 128, 3)).astype("float32")
            m = masks.training_mask(128, 128, rng)[None, ..., None].astype("float32")
            first = SETS[preset][-1 if preset == "photos_128" else 0]
            flat = {f"{first}:{kind}:{k}": results[preset][first][kind]["model"][k]
                    for kind in ("free_form", "box50") for k in ("psnr", "ssim", "l1_hole")}
            weights.register("inpainting", preset, model, file_path=path, trained_on=cfg.trained_on,
                             recipe=f"{a.recipe}; measured by apps/inpainting/evaluate.py", metrics=flat,
                             reference_input=[x, m], default=cfg.default)
    print(tables(results))


if __name__ == "__main__":
    main()
