"""Measure the inpainting presets against classical inpainting, write the sample grids, and register them.

    python apps/inpainting/evaluate.py --preset celeba_128 --recipe "..."     # runs/ -> weights/, faces
    python apps/inpainting/evaluate.py --preset photos_128 --recipe "..."     # Set5, Set14, flowers valid
    python apps/inpainting/evaluate.py --preset photos_256 --recipe "..."     # + shoes val at 256x256
    python apps/inpainting/evaluate.py --shipped                              # re-measure the shipped presets
    python apps/inpainting/evaluate.py --shipped --preset photos_128 --only-realism --realism-keys flowers_box50

Held-out sets (never trained on): ``faces`` = the last 1,000 of the 10,000 shared CelebA faces (128x128; the
face preset trains on the first 9,000), for ``celeba_128``; ``set5``, ``set14`` (shared/data/sr/val, native
sizes) and ``flowers`` (flowers102/valid, 818 images, short side 128) for ``photos_128``; the same and ``shoes``
(the photo halves of edges2shoes_handbags/val, 200 shoes and handbags at 256x256) for ``photos_256``.

Masks, fixed per image (seeded by the image's index): ``free_form`` (the training algorithm's strokes, without
the box), and centred square holes covering 25%, 37.5% and 50% of each side (``box25``: 6% of the image,
``box37``: 14%, ``box50``: 25%), to see how each method degrades as the hole grows.

Methods, all on the same images and masks: the preset (``model.inpaint`` with its defaults but ``max_side``: at
the image's own size, or smaller where the hole is deeper than the preset's training holes, ``max_depth`` a quarter
of its training side: 32 at 128, 64 at 256; the network's fill Poisson-blended into the image), the network alone
(its fill at the image's own size pasted as it is: ``max_depth=None, blend=False``), OpenCV's Telea and
Navier-Stokes inpainting (``cv2.inpaint``, radius 5), and the mean-colour fill (the hole painted with the mean
colour of the known pixels of that image). Measures on 8-bit RGB: PSNR and SSIM over the whole image
(``zoo.metrics``), L1 over the whole image and L1 inside the hole (mean absolute error in [0, 1] units).

Realism (``--realism``, on by default): a classifier two-sample test (``zoo.metrics.two_sample_test``: a small
CNN trained from scratch, 2-fold, its held-out accuracy; 0.5 = it cannot tell), for each (set, mask, crop side)
of the preset's ``REALISM`` entries (results.json ``realism.<key>``). The held-out set is split in two halves of
different images, interleaved (the flowers are stored class by class): the even-numbered images are filled, the
odd-numbered stay real, and the CNN learns to tell filled from real. Faces: the centre 64x64 box (``box50``) of
the 128x128 held-out faces. Photos: the centre 128x128 crop of each flowers-valid image, with the free-form
strokes (``flowers``: thin holes, which nothing is told apart by) and with the centre 64x64 box (``flowers_box50``:
a hole a person sees); ``photos_256`` also at 256x256 on the shoes (``shoes_box50``: the centre 128x128 box; the
flowers are too small for 256 crops, so its flower rows are at 128, as photos_128's, and compare with them). Both
sides go through the same JPEG (quality 90) round trip. Rows: real vs real (the even half unfilled: the test's
chance level), the preset, the network alone, Telea, and the mean-colour fill (the weak baseline).
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
from zoo.apps.inpainting.inference import training_depth  # noqa: E402

MASKS = {"free_form": None, "box25": 0.25, "box37": 0.375, "box50": 0.5}
METHODS = ("model", "network", "telea", "navier_stokes", "mean_fill")
SETS = {"celeba_128": ("faces",), "photos_128": ("set5", "set14", "flowers"),
        "photos_256": ("set5", "set14", "flowers", "shoes")}
#: the set whose free_form and box50 rows become the preset's ``metrics`` when registered
METRICS_SET = {"celeba_128": "faces", "photos_128": "flowers", "photos_256": "flowers"}
FACES_TRAIN = 9000


def load_set(name, limit=None):
    """uint8 RGB images (a list: sizes differ) of a held-out set."""
    from zoo import data

    folder = {"faces": os.path.join(SHARED, "faces_celeba", "train"), "set5": os.path.join(SHARED, "sr", "val", "Set5"),
              "set14": os.path.join(SHARED, "sr", "val", "Set14"),
              "flowers": os.path.join(SHARED, "flowers102", "valid"),
              "shoes": os.path.join(SHARED, "edges2shoes_handbags", "val")}[name]
    files = data.list_images(folder)
    if name == "faces":
        files = files[FACES_TRAIN:]
    files = files[:limit] if limit else files
    read = [data.read_image(f, 3) for f in files]
    if name == "shoes":  # photo (left) | edges (right): the photo
        read = [np.ascontiguousarray(a[:, :a.shape[1] // 2]) for a in read]
    return read


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


#: the highest PSNR an 8-bit image scores: against the real-valued image it rounds, the rounding error's MSE is
#: 1/12 (uniform over a level), 58.92 dB. A fill equal to the truth (a stroke over a plain white background) scores
#: this instead of infinity, which would make the set's mean infinite.
PSNR_CAP = 10.0 * np.log10(255.0 ** 2 * 12.0)


def scores(truth, filled, mask):
    t, f = truth.astype(np.float64) / 255.0, filled.astype(np.float64) / 255.0
    hole = mask.astype(bool)
    return {"psnr": min(float(metrics.psnr(truth, filled, data_range=255)), PSNR_CAP),
            "ssim": float(metrics.ssim(truth, filled, data_range=255)),
            "l1": float(np.abs(t - f).mean()), "l1_hole": float(np.abs(t - f)[hole].mean()),
            "hole_fraction": float(hole.mean())}


def evaluate(model, name, limit=None, keep=(), max_depth=None):
    """``{mask: {method: mean scores}}`` on set ``name``; also the filled images of the ``keep`` indices.
    ``max_depth``: the preset's (``training_depth``; default from ``model.preset``)."""
    data = load_set(name, limit)
    depth = max_depth or training_depth(getattr(model, "preset", None))
    out, shown = {}, {}
    for kind in MASKS:
        rows = {m: [] for m in METHODS}
        for i, img in enumerate(data):
            m = mask_for(kind, img.shape[:2], i)
            for method in METHODS:
                filled = fill(model, img, m, method, depth)
                if i in keep:
                    shown[(kind, i, method)] = filled
                rows[method].append(scores(img, filled, m))
        out[kind] = {method: {k: round(float(np.mean([r[k] for r in v])), 4) for k in v[0]}
                     for method, v in rows.items()}
        print(name, kind, json.dumps(out[kind]), file=sys.stderr)
    return out, data, shown


#: the two-sample tests of each preset: ``{key in results.json's "realism": (held-out set, mask, crop side)}``
#: (the side's centre crop of each image; the first keys, a set's name alone, are the rows measured before)
REALISM = {
    "celeba_128": {"faces": ("faces", "box50", 128)},
    "photos_128": {"flowers": ("flowers", "free_form", 128), "flowers_box50": ("flowers", "box50", 128)},
    "photos_256": {"flowers": ("flowers", "free_form", 128), "flowers_box50": ("flowers", "box50", 128),
                   "shoes_box50": ("shoes", "box50", 256)},
}
REALISM_METHODS = ("real", "model", "network", "telea", "mean_fill")


def realism_spec(preset, key):
    """``(set, mask, side)`` of ``results[preset]["realism"][key]``: ``preset``'s ``REALISM`` entry, else another
    preset's of that key (a key names the same test in every preset)."""
    for specs in (REALISM.get(preset, {}), *REALISM.values()):
        if key in specs:
            return specs[key]
    raise KeyError(f"no realism test {key!r} in REALISM")


def centre_crop(img, side=128):
    top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    return img[top:top + side, left:left + side]


def fill(model, img, m, method, max_depth=32):
    """``img`` filled by ``method`` where ``m`` is set (``real``: as it is)."""
    if method == "real":
        return img
    if method == "model":
        return np.asarray(model.inpaint(img, m, max_side=None, max_depth=max_depth))
    if method == "network":
        return np.asarray(model.inpaint(img, m, max_side=None, max_depth=None, blend=False))
    return classical(img, m, method)


def realism_images(name, side=128, limit=None):
    """The centre ``side`` x ``side`` crops of held-out set ``name`` (uint8 ``(N, side, side, 3)``); an image
    smaller than that is an error naming the set (no resizing: filled and real would both be upsampled)."""
    images_ = load_set(name, limit)
    small = [a.shape[:2] for a in images_ if min(a.shape[:2]) < side]
    if small:
        raise ValueError(f"{name}: {len(small)} image(s) smaller than the {side}x{side} crop (e.g. {small[0]})")
    return np.stack([centre_crop(img, side) for img in images_])


def even_holes(data, kind):
    """The ``kind`` masks of the even-numbered images of ``data`` (the ones the realism tests fill; an odd count
    leaves the last image out, as the other half has one fewer)."""
    return np.stack([mask_for(kind, data[i].shape[:2], i) for i in range(0, len(data) - len(data) % 2, 2)])


def even_fills(model, data, holes, method, max_depth=32):
    """The even-numbered images of ``data`` filled by ``method`` in ``holes`` (``even_holes``)."""
    return np.stack([fill(model, data[2 * k], hole, method, max_depth) for k, hole in enumerate(holes)])


def realism(model, name, limit=None, seed=0, kind=None, side=128, max_depth=None):
    """``{method: two_sample_test result}``: the even-numbered images of held-out set ``name`` (centre ``side``
    crops) filled by each method with mask ``kind`` against the odd-numbered ones left real (interleaved: the
    flowers are stored by class); ``real`` is the even-numbered images unfilled (chance level). ``kind`` None:
    the set's first ``REALISM`` mask (``faces``: box50, ``flowers``: free_form)."""
    if kind is None:
        kind = realism_spec(None, name)[1]
    depth = max_depth or training_depth(getattr(model, "preset", None))
    data = realism_images(name, side, limit)
    half = len(data) // 2
    real = metrics.jpeg_roundtrip(data[1:2 * half:2])
    holes = even_holes(data, kind)
    out = {}
    for method in REALISM_METHODS:
        filled = even_fills(model, data, holes, method, depth)
        r = metrics.two_sample_test(real, metrics.jpeg_roundtrip(filled), seed=seed)
        # colour speckle in the holes (before the JPEG round trip, whose 4:2:0 chroma would smooth it away)
        r["chroma_detail"] = float(np.nanmean(metrics.chroma_detail(filled, holes)))
        out[method] = {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
        print(name, kind, side, "realism", method, json.dumps(out[method]), file=sys.stderr)
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


def colour_detail(models, limit=None):
    """``{label: chroma_detail}`` in the centre box of the faces realism test's filled images (the even-numbered
    held-out faces): the real faces, Telea, and each of ``models`` (``{label: generator}``)."""
    data = realism_images("faces", 128, limit)
    holes = even_holes(data, "box50")
    out = {}
    for label, (model, method) in {"real": (None, "real"), "telea": (None, "telea"),
                                   **{k: (m, "model") for k, m in models.items()}}.items():
        filled = even_fills(model, data, holes, method)
        out[label] = round(float(np.nanmean(metrics.chroma_detail(filled, holes))), 3)
        print(f"colour detail in the box, {len(holes)} faces: {label} {out[label]}", file=sys.stderr)
    return out


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
        for key, res in sorted(results[preset].get("realism", {}).items()):
            name, kind, side = realism_spec(preset, key)
            where = name if side == 128 else f"{name} at {side}x{side}"
            out += [f"{preset}, realism on {where} ({kind} holes; {res['real']['n']} filled vs "
                    f"{res['real']['n']} other real images): how often a CNN trained from scratch tells them apart",
                    "", "| method | two-sample accuracy (0.5 = cannot tell) | folds | colour detail in the hole |",
                    "|---|---|---|---|"]
            for method in (m for m in REALISM_METHODS if m in res):
                r = res[method]
                label = "real vs real" if method == "real" else names[method]
                chroma = f"{r['chroma_detail']:.2f}" if "chroma_detail" in r else "-"
                out.append(f"| {label} | {r['accuracy']:.3f} | {' / '.join(f'{f:.3f}' for f in r['folds'])} | "
                           f"{chroma} |")
            out.append("")
    return "\n".join(out)


def ema_from_checkpoint(preset, folder):
    """The EMA generator of the latest checkpoint in a run's adversarial phase folder, saved as
    ``<folder>/generator_epoch<n>.weights.h5`` (n checkpoints of the run); returns that path."""
    from zoo.apps import inpainting
    from zoo.callbacks import Checkpoint

    for spectral_norm in (True, False):  # the reference's D, or train.py --d-no-spectral-norm's
        gan = inpainting.build(preset, ema_decay=0.999, discriminator_config={"spectral_norm": spectral_norm})
        gan.compile()
        try:
            epoch = Checkpoint(folder).resume(gan)
            break
        except ValueError:
            if not spectral_norm:
                raise
    path = os.path.join(folder, f"generator_epoch{epoch}.weights.h5")
    gan.sampling_generator().save_weights(path)
    print(f"{folder}: checkpoint {epoch}, EMA generator -> {path}", file=sys.stderr)
    return path


def main(argv=None):
    from zoo import weights
    from zoo.apps import inpainting

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(SETS), action="append",
                   help="preset(s) to measure (default: the shipped ones)")
    p.add_argument("--shipped", action="store_true", help="measure the shipped presets instead of runs/")
    p.add_argument("--weights", help="a generator .weights.h5 (default runs/inpainting_<preset>/generator.weights.h5)")
    p.add_argument("--no-register", action="store_true", help="measure only")
    p.add_argument("--recipe", default="", help="how the weights were trained (for its Preset)")
    p.add_argument("--limit", type=int, default=None, help="images per set (default: all)")
    p.add_argument("--no-realism", dest="realism", action="store_false", help="skip the two-sample tests")
    p.add_argument("--only-realism", action="store_true", help="only the two-sample tests (keeps the other rows)")
    p.add_argument("--sets", nargs="+", metavar="SET",
                   help="only these of the preset's held-out sets (e.g. shoes; the others' rows are kept in --out)")
    p.add_argument("--realism-keys", nargs="+", metavar="KEY",
                   help="only these of the preset's REALISM tests (e.g. flowers_box50; the others' rows are kept)")
    p.add_argument("--checkpoint", help="a run's phase folder (e.g. runs/inpainting_celeba_128/gan): measure the "
                                        "EMA generator of its latest checkpoint (written beside it first)")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    p.add_argument("--tables", action="store_true", help="only print the card's tables from --out")
    p.add_argument("--faces-figure", nargs="+", metavar="WEIGHTS",
                   help="only write faces_box.png: 8 held-out faces with the centre box filled by each celeba_128 "
                        "generator file given (or 'shipped'), one row each; and print each one's colour detail "
                        "(metrics.chroma_detail) in the box on the faces realism test's images, beside real and Telea")
    a = p.parse_args(argv)
    if a.faces_figure:
        cfg = inpainting.CONFIGS["celeba_128"]
        models = {w: inpainting.pretrained("celeba_128") if w == "shipped" else
                  weights.load_into(cfg.build_generator(), w) for w in a.faces_figure}
        faces_box_figure(models, os.path.join(HERE, "faces_box.png"))
        colour_detail(models, a.limit)
        return
    if a.tables:
        with open(a.out) as f:
            print(tables(json.load(f)))
        return

    results = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            results = json.load(f)
    for preset in a.preset or []:
        if a.shipped and not inpainting.CONFIGS[preset].trained:
            p.error(f"{preset} has no shipped weights yet: measure a run's file (--weights FILE) instead of --shipped")
        unknown = sorted(set(a.realism_keys or ()) - set(REALISM[preset]))
        if unknown:
            p.error(f"{preset} has no realism test {unknown}; its tests: {sorted(REALISM[preset])}")
        unknown = sorted(set(a.sets or ()) - set(SETS[preset]))
        if unknown:
            p.error(f"{preset} has no held-out set {unknown}; its sets: {list(SETS[preset])}")
    for preset in a.preset or [name for name in sorted(SETS) if inpainting.CONFIGS[name].trained]:
        cfg = inpainting.CONFIGS[preset]
        depth = training_depth(cfg)
        if a.shipped:
            model, path = inpainting.pretrained(preset), "shipped"
        elif a.checkpoint:
            path = ema_from_checkpoint(preset, a.checkpoint)
            model = weights.load_into(cfg.build_generator(), path)
        else:
            path = a.weights or os.path.join("runs", f"inpainting_{preset}", "generator.weights.h5")
            model = weights.load_into(cfg.build_generator(), path)
        previous = results.get(preset, {}) if a.only_realism or a.sets else {}
        results[preset] = {**previous, "weights": path}
        for name in () if a.only_realism else (n for n in SETS[preset] if not a.sets or n in a.sets):
            keep = (0, 1, 2) if name != "set5" else (0, 2)
            res, data, shown = evaluate(model, name, a.limit, keep, max_depth=depth)
            results[preset][name] = {"images": len(data), **res}
            grid = f"samples_{name}.png" if preset in ("celeba_128", "photos_128") else f"samples_{preset}_{name}.png"
            sample_grid(data, shown, keep, os.path.join(HERE, grid))
        if a.realism or a.only_realism:
            kept = dict(previous.get("realism", {})) if a.realism_keys else {}
            for key, (name, kind, side) in REALISM[preset].items():
                if not a.realism_keys or key in a.realism_keys:
                    kept[key] = realism(model, name, a.limit, kind=kind, side=side, max_depth=depth)
            results[preset]["realism"] = kept
        with open(a.out, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        if not (a.shipped or a.no_register):
            rng = np.random.default_rng(0)
            h, w = cfg.input_size
            x = rng.uniform(-1, 1, (1, h, w, 3)).astype("float32")
            m = masks.training_mask(h, w, rng)[None, ..., None].astype("float32")
            first = METRICS_SET[preset]
            flat = {f"{first}:{kind}:{k}": results[preset][first][kind]["model"][k]
                    for kind in ("free_form", "box50") for k in ("psnr", "ssim", "l1_hole")}
            weights.register("inpainting", preset, model, file_path=path, trained_on=cfg.trained_on,
                             recipe=f"{a.recipe}; measured by apps/inpainting/evaluate.py", metrics=flat,
                             reference_input=[x, m], default=cfg.default)
    print(tables(results))


if __name__ == "__main__":
    main()
