"""Super-resolution measurements for the model card: PSNR / SSIM on Set5 and Set14 (x4).

    python apps/srgan/evaluate.py --bicubic-only --out apps/srgan/bicubic.json     # the bicubic baseline
    python apps/srgan/evaluate.py --preset srresnet_x4 --preset srgan_x4           # shipped presets
    python apps/srgan/evaluate.py --weights runs/srresnet/generator.weights.h5 --arch srresnet_x4

Protocol, as in SR papers (Ledig et al. 2017, Table 2; the usual MATLAB / BasicSR scripts):

* inputs are the LR images given with the benchmark (MATLAB bicubic x4, in <data>/<set>/LR, matched to
  <data>/<set>/HR by name: img_001_SRF_4_LR.png <-> img_001_SRF_4_HR.png); when a set has no LR folder the
  LR is made from the HR with zoo.sr_data.bicubic_downscale (MATLAB imresize, bit-exact in the interior);
* every output is a uint8 image (rounded, as a saved PNG would be) of exactly the HR's size;
* PSNR and SSIM on the luma Y of ITU-R BT.601 as MATLAB rgb2ycbcr (16..235), with ``scale`` pixels shaved from
  every border (zoo.metrics.psnr / ssim, y_channel=True, shave=scale); grey images (one in Set14) are measured
  on their grey values, as MATLAB scripts that skip rgb2ycbcr for one-channel images do;
* the reported value is the mean of per-image values over the set.

"bicubic" is Pillow's BICUBIC resize of the LR to the HR size (Keys' kernel, a = -0.5, as MATLAB imresize;
the two differ only in how the image edge is padded, mostly inside the shaved border).

zoo.apps.srgan is imported only when a model is asked for (--bicubic-only works without it):
  --preset NAME         zoo.apps.srgan.pretrained(NAME), then model.upscale(lr_uint8) per image
  --weights F --arch A  the generator of preset A's architecture (zoo.apps.srgan.CONFIGS[A]) with F loaded
  --register NAME       with --weights: publish F as preset srgan/NAME in weights/ (zoo.weights.register) with
                        the measured PSNR/SSIM as its metrics and a stored reference output (--default: make
                        it the app's default; --recipe: the training command). A name zoo/apps/srgan/presets.py
                        declares gets its manifest entry (file, sha256, reference) and a warning listing what
                        to copy into its Preset (sha256, metrics, recipe)
Real photos (``--degraded mild|medium|heavy``, repeatable): the LR is made from each HR (cropped to a multiple
of ``scale``) the way photos degrade, with fixed settings per level and noise seeded by the image's index:
Gaussian blur (isotropic, 21x21 kernel) of sigma 1.0 / 2.0 / 3.0 px, bicubic downscaling by ``scale``, colour
Gaussian noise of sigma 2 / 8 / 15 (0-255 levels), then JPEG at quality 90 / 70 / 50 (all inside Real-ESRGAN's
training ranges; none of these images is trained on). PSNR/SSIM are against the clean HR. ``--datasets`` may
name ``flowers``: the first 100 images of flowers102/valid (short side 128) as HR.

``upscale`` must return a uint8 array of the HR's size (what zoo's inference verbs return for uint8 input).

Prints a table (data set, method, PSNR, SSIM, images) and writes JSON (--out) with per-image values.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:  # run as a script from anywhere in a checkout
    sys.path.insert(0, REPO)

from zoo import metrics  # noqa: E402
from zoo.apps.srgan import data as sr_data  # noqa: E402

DATA = os.path.join(REPO, "..", "shared", "data", "sr", "val")
DATASETS = ("Set5", "Set14")
FLOWERS = os.path.join(REPO, "..", "shared", "data", "flowers102", "valid")
#: ``--photos-grid`` inputs: real JPEG photos (flowers102 valid, CelebA), never trained on, with LR windows.
PHOTOS = [os.path.join(FLOWERS, "3", "image_06631.jpg") + ":53:32",
          os.path.join(FLOWERS, "51", "image_01315.jpg") + ":32:32",
          os.path.join(REPO, "..", "shared", "data", "faces_celeba", "train", "192975.jpg") + ":30:32"]
#: ``--degraded`` levels: (Gaussian blur sigma in HR pixels, Gaussian noise sigma in 0-255 levels, JPEG quality)
LEVELS = {"mild": (1.0, 2.0, 90), "medium": (2.0, 8.0, 70), "heavy": (3.0, 15.0, 50)}


def bicubic(lr, hr_shape):
    """Pillow BICUBIC upscaling of a uint8 ``(h, w, C)`` image to ``hr_shape[:2]``, uint8 (rounded)."""
    img = Image.fromarray(lr[..., 0] if lr.shape[-1] == 1 else lr)
    out = np.asarray(img.resize((hr_shape[1], hr_shape[0]), Image.BICUBIC))
    return out[..., None] if out.ndim == 2 else out


def load_pairs(root, name, scale):
    hr_dir, lr_dir = os.path.join(root, name, "HR"), os.path.join(root, name, "LR")
    if not os.path.isdir(hr_dir):
        raise FileNotFoundError(f"{hr_dir} not found: --data must hold <set>/HR (and <set>/LR) folders")
    return sr_data.sr_eval_pairs(hr_dir, lr_dir if os.path.isdir(lr_dir) else None, scale=scale)


def degrade(hr, level, scale, seed):
    """The LR of uint8 HR ``(H, W, C)`` at ``LEVELS[level]``: blur, bicubic / ``scale``, noise, JPEG; uint8."""
    from zoo.apps.srgan import degradations as dg

    sigma, noise, quality = LEVELS[level]
    x = dg.blur(hr.astype(np.float32) / 255.0, dg.gaussian_kernel(21, sigma))
    x = dg.resize(x, (hr.shape[0] // scale, hr.shape[1] // scale), "bicubic")
    x = dg.gaussian_noise(np.clip(x, 0.0, 1.0), np.random.default_rng(seed), noise)
    return np.round(dg.jpeg(x, quality) * 255.0).astype(np.uint8)


def degraded_pairs(root, name, scale, level):
    """``(lr, hr)`` pairs of set ``name`` (``flowers``: the first 100 flowers-valid images) with the LR made by
    ``degrade`` at ``level`` and the HR cropped to a multiple of ``scale``."""
    if name == "flowers":
        from zoo import data

        files = data.list_images(FLOWERS)[:100]
        hrs, names = [data.read_image(f, 3) for f in files], [os.path.basename(f) for f in files]
    else:
        clean = load_pairs(root, name, scale)
        hrs, names = [hr for _, hr in clean], list(clean.names)
    out = sr_data.SRPairs()
    for i, hr in enumerate(hrs):
        hr = hr[:hr.shape[0] - hr.shape[0] % scale, :hr.shape[1] - hr.shape[1] % scale]
        out.append((degrade(hr, level, scale, i), hr))
    out.names = names
    return out


def measure(pairs, upscale, scale, method):
    """Mean (and per-image) Y-channel PSNR / SSIM of ``upscale(lr, hr_shape)`` against each HR."""
    per_image, start = [], time.perf_counter()
    for (lr, hr), name in zip(pairs, pairs.names):
        sr = np.asarray(upscale(lr, hr.shape))
        if sr.dtype != np.uint8 or sr.shape != hr.shape:
            raise ValueError(f"{method} on {name}: expected a uint8 image of shape {hr.shape} for LR {lr.shape}, "
                             f"got {sr.dtype} {sr.shape}")
        per_image.append({"name": name,
                          "psnr": round(metrics.psnr(sr, hr, y_channel=True, shave=scale), 4),
                          "ssim": round(metrics.ssim(sr, hr, y_channel=True, shave=scale), 4)})
    return {"method": method, "n": len(per_image),
            "psnr": round(float(np.mean([r["psnr"] for r in per_image])), 4),
            "ssim": round(float(np.mean([r["ssim"] for r in per_image])), 4),
            "seconds": round(time.perf_counter() - start, 2), "per_image": per_image}


def load_model(preset=None, weights_file=None, arch=None):
    """A model with ``.upscale``: a shipped preset, or ``arch``'s generator with ``weights_file`` loaded."""
    from zoo.apps import srgan  # lazy: needs Keras, and registers the SR architectures

    if preset is not None:
        return srgan.pretrained(preset)
    from zoo import weights

    if arch not in srgan.CONFIGS:
        raise ValueError(f"unknown --arch {arch!r}: one of zoo.apps.srgan.CONFIGS {sorted(srgan.CONFIGS)}")
    cfg = srgan.CONFIGS[arch]
    return weights.load_into(cfg.build_generator(), weights_file)


def table(rows):
    lines = [f"{'data set':<14}  {'method':<28}  {'PSNR (dB)':>9}  {'SSIM':>6}  {'images':>6}"]
    lines += [f"{r['dataset']:<14}  {r['method']:<28}  {r['psnr']:>9.2f}  {r['ssim']:>6.4f}  {r['n']:>6}" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DATA, help="folder holding <set>/HR and <set>/LR (default ../shared/data/sr/val)")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS))
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--preset", action="append", default=[], help="shipped preset to measure (repeatable)")
    p.add_argument("--weights", help="a generator .weights.h5 file to measure (with --arch)")
    p.add_argument("--arch", help="architecture of --weights: an srgan preset name such as srresnet_x4")
    p.add_argument("--bicubic-only", action="store_true", help="measure the bicubic baseline only")
    p.add_argument("--degraded", action="append", choices=sorted(LEVELS), default=[],
                   help="real-photo protocol: LR made from the HR by blur, downscaling, noise and JPEG at this "
                        "level (repeatable; see above) instead of the given LR")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"), help="JSON file to write")
    p.add_argument("--grid", metavar="PNG", help="also save crops of --grid-image from every method and the HR")
    p.add_argument("--grid-image", default="Set14/img_001_SRF_4:80:80:192",
                   help="<set>/<name>:<top>:<left>:<side> of the HR image to crop for --grid")
    p.add_argument("--photos-grid", metavar="PNG", help="also upscale real JPEG photos as they are (no HR: "
                   "compare by eye): a row per --photos file, a column per method, a 64x64 LR window each")
    p.add_argument("--photos", nargs="+", default=PHOTOS, metavar="FILE:TOP:LEFT",
                   help="the --photos-grid inputs, each with the LR window's top-left corner")
    p.add_argument("--register", metavar="NAME", help="register --weights as preset srgan/NAME")
    p.add_argument("--default", action="store_true", help="with --register: the app's default preset")
    p.add_argument("--recipe", default="", help="with --register: how the weights were trained (for the Preset)")
    a = p.parse_args(argv)
    if a.register and not a.weights:
        p.error("--register needs --weights (the file to publish)")
    if a.weights and not a.arch:
        p.error("--weights needs --arch (the architecture to build, e.g. srresnet_x4)")
    if a.bicubic_only and (a.preset or a.weights):
        p.error("--bicubic-only measures no model: drop --preset / --weights")

    methods = [("bicubic", bicubic)]
    for name in a.preset:
        model = load_model(preset=name)
        methods.append((f"preset {name}", lambda lr, hr_shape, m=model: m.upscale(lr)))
    if a.weights:
        model = load_model(weights_file=a.weights, arch=a.arch)
        methods.append((f"{a.arch} {os.path.basename(a.weights)}", lambda lr, hr_shape, m=model: m.upscale(lr)))

    rows = []
    for ds, level in [(ds, level) for level in a.degraded or [None] for ds in a.datasets]:
        pairs = load_pairs(a.data, ds, a.scale) if level is None else degraded_pairs(a.data, ds, a.scale, level)
        for method, fn in methods:
            row = measure(pairs, fn, a.scale, method)
            rows.append({"dataset": ds if level is None else f"{ds}/{level}", **row})
            print(f"{rows[-1]['dataset']:<14} {method}: PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.4f} "
                  f"({row['n']} images)", file=sys.stderr)
    print(table(rows))
    if a.grid:
        save_grid(a, methods)
    if a.photos_grid:
        save_photos_grid(a.photos_grid, a.photos, methods, a.scale)
    result = {
        "protocol": (f"x{a.scale} given LR in, uint8 out; PSNR/SSIM on BT.601 Y (MATLAB rgb2ycbcr; grey images on "
                     f"their grey values), {a.scale}-pixel border shaved; mean over images"),
        "data": os.path.relpath(os.path.abspath(a.data), REPO),
        "command": "python apps/srgan/evaluate.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "pillow": Image.__version__},
        "rows": rows,
    }
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
        print(f"wrote {a.out}", file=sys.stderr)
    if a.register:
        register(a, model, [r for r in rows if r["method"] != "bicubic"])
    return rows


def save_grid(a, methods):
    """One row of HR crops: each method's output, then the HR itself (the card's visual comparison)."""
    from zoo import images

    where, top, left, side = a.grid_image.split(":")
    ds, name = where.split("/")
    pairs = load_pairs(a.data, ds, a.scale)
    lr, hr = pairs[pairs.names.index(name)]
    y, x, n = int(top), int(left), int(side)
    crops = [np.asarray(fn(lr, hr.shape))[y:y + n, x:x + n] for _, fn in methods] + [hr[y:y + n, x:x + n]]
    images.save_png(a.grid, images.grid(np.stack(crops), ncols=len(crops)))
    print(f"wrote {a.grid}: " + " | ".join([m for m, _ in methods] + ["HR"]), file=sys.stderr)


def save_photos_grid(path, photos, methods, scale, side=64):
    """Real photos upscaled as they are, JPEG artefacts and all: for each ``FILE:TOP:LEFT`` a row of the
    ``side`` x ``side`` LR window upscaled by each method (the LR itself enlarged by nearest neighbour first)."""
    from zoo import data, images

    rows = []
    for spec in photos:
        file, top, left = spec.rsplit(":", 2)
        lr = data.read_image(file, 3)[int(top):int(top) + side, int(left):int(left) + side]
        if lr.shape[:2] != (side, side):
            raise ValueError(f"{spec}: the {side}x{side} window does not fit in the image")
        hr_shape = (side * scale, side * scale, 3)
        rows.append(np.asarray(Image.fromarray(lr).resize(hr_shape[1::-1], Image.NEAREST)))
        rows += [np.asarray(fn(lr, hr_shape)) for _, fn in methods]
    images.save_png(path, images.grid(np.stack(rows), ncols=len(methods) + 1))
    print(f"wrote {path}: columns LR (nearest) | " + " | ".join(m for m, _ in methods), file=sys.stderr)


def register(a, model, rows):
    """Publish ``--weights`` as preset srgan/NAME with this run's numbers and a reference output."""
    from zoo import weights

    metrics_ = {}
    for r in rows:
        key = r["dataset"].lower().replace("/", "_")
        metrics_[f"{key}_psnr_y"] = r["psnr"]
        metrics_[f"{key}_ssim_y"] = r["ssim"]
    reference = np.random.default_rng(0).uniform(-1, 1, (2, 20, 20, model.channels)).astype("float32")
    preset = weights.register(
        "srgan", a.register, model, file_path=a.weights, default=a.default, metrics=metrics_,
        trained_on="shared/data/sr/train: BSD200 + T91 (291 images), 96x96 HR crops, LR by MATLAB bicubic",
        recipe=f"{a.recipe}; measured by apps/srgan/evaluate.py (Y channel, {a.scale}-px shave, given LR)",
        reference_input=reference)
    print(f"registered srgan/{preset.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
