"""Measure a ProGAN face generator and register it (the numbers in MODEL_CARD.md come from here).

    python apps/progan/evaluate.py --weights runs/progan_celeba_64/generator.weights.h5 --register
    python apps/progan/evaluate.py --shipped            # re-measure the shipped preset, register nothing

Feature space (offline): dlib's face-recognition ResNet, 128-d descriptors of aligned 150x150 face chips
(``zoo.metrics.face_extractor``; ``pip install dlib-bin face_recognition_models``). Every image is 64x64 (real
faces resized as in training), upscaled to 128x128 for dlib.

* ``kid_face`` (x 1000, mean and std over 100 subsets of 500) and ``fid_face``: 1000 generated faces (seed 0)
  against 1000 real faces of the training folder ("reference"; ``--n``);
* floors and scales on the same reference: 1000 *other* real faces (real vs real: the best a generator can
  score), and those faces blurred through 32x32 and 16x16 (bicubic down and up);
* ``face_detection_rate``: share of 1000 images in which dlib's HOG detector finds a frontal face, generated vs
  real;
* pictures: ``samples.png`` (64 faces, seed 0), ``latent_walk.png`` (seeds 0 -> 1 -> 2 -> 3, 8 steps each),
  ``neighbours.png`` (8 generated faces, each beside its three nearest real faces in descriptor space among the
  2000 real faces measured: the generator is not copying training faces if they are other people).

* ``two_sample``: realism by a classifier two-sample test (``zoo.metrics.two_sample_test``, Lopez-Paz & Oquab
  2017): a small CNN trained from scratch, 2-fold, to tell faces from the held-out faces (``--held-out``: the last
  1000 files of the folder in name order, the ones ``train.py --hold-out 1000`` leaves out; a model trained on all
  of them has seen these), every image at the model's side and through the same JPEG round trip (quality 90);
  held-out accuracy, 0.5 = cannot tell. Rows: ``generated`` (the 1000 faces above), ``real`` (1000 other real
  faces: the floor, ~0.5), ``real_shown_at_32px`` (those faces blurred through 32x32: a weak baseline the test
  catches, ~0.99 at 64 px); ``--truncation PSI`` adds ``generated_truncated`` rows (KID, detection, two-sample)
  for ``generate(n, seed=0, truncation=PSI)``; ``--no-two-sample`` skips the test (minutes of CPU per row);
* ``pixel_neighbours.png``: the same 8 generated faces beside their three nearest faces in pixels (at 32x32)
  among *every* training face of the folder (all but the held-out ones), and their distances (``pixel_neighbours``)
  beside each face's distance to its nearest other training face (``pixel_neighbours_real``, the typical gap
  between different people): a memorised face would sit far closer to a training face than that.

``--growth CKPT:LEVEL ...`` draws ``growth.png`` instead: the trained generator of each training checkpoint at
its level, the same latents in every row.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from zoo import images, metrics, weights
from zoo.apps import progan

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "faces_celeba", "train")
N = 1000


def split(folder, held_out):
    """(training files, held-out files): the last ``held_out`` files of ``folder`` in name order are held out."""
    from zoo import data

    files = data.list_images(folder)
    if held_out < 0 or held_out >= len(files):
        raise SystemExit(f"--held-out {held_out}: {folder} has {len(files)} images")
    return files[:len(files) - held_out], files[len(files) - held_out:]


def read(files, resolution):
    from zoo import data

    return np.stack([data.read_image(f, 3, resolution, fit="cover") for f in files])


def real_faces(files, resolution, n):
    """Two disjoint random sets of ``n`` faces of ``files`` (uint8, resized as the recipe's data)."""
    order = np.random.default_rng(0).permutation(len(files))[:2 * n]
    x = read([files[i] for i in order], resolution)
    return x[:n], x[n:]


def two_sample(held, candidates, seed=0):
    """``zoo.metrics.two_sample_test`` of each ``{name: uint8 faces}`` against the held-out faces, both sides through
    the same JPEG round trip."""
    ref = metrics.jpeg_roundtrip(held)
    out = {}
    for name, x in candidates.items():
        r = metrics.two_sample_test(ref, metrics.jpeg_roundtrip(x), seed=seed)
        out[name] = {"accuracy": round(r["accuracy"], 4), "folds": [round(f, 4) for f in r["folds"]], "n": r["n"],
                     "p_value": float(f"{r['p_value']:.3g}")}
        print(f"two-sample {name}: {out[name]['accuracy']:.3f}", file=sys.stderr)
    return out


def pixel_neighbours(fake, train_files, out_path, rows=8, side=32):
    """Each of ``rows`` generated faces beside its 3 nearest training faces in pixels (``side`` x ``side``), and
    how near the training faces are to each other (module docstring)."""
    from PIL import Image

    def small(x):
        return np.stack([np.asarray(Image.fromarray(a).resize((side, side), Image.BOX)) for a in x]
                        ).reshape(len(x), -1).astype("float32") / 255.0

    res = fake.shape[1]
    pool = read(train_files, side)
    flat = pool.reshape(len(pool), -1).astype("float32") / 255.0
    q = small(fake[:rows])
    d = np.sqrt(np.maximum((q ** 2).sum(1)[:, None] - 2 * q @ flat.T + (flat ** 2).sum(1)[None], 0))
    near = np.argsort(d, axis=1)[:, :3]
    probe = flat[np.random.default_rng(1).permutation(len(flat))[:200]]
    dr = np.sqrt(np.maximum((probe ** 2).sum(1)[:, None] - 2 * probe @ flat.T + (flat ** 2).sum(1)[None], 0))
    dr[dr < 1e-6] = np.inf  # itself
    picture = []
    for i in range(rows):
        picture += [fake[i]] + [read([train_files[j]], res)[0] for j in near[i]]
    images.save_png(out_path, images.grid(np.stack(picture), ncols=4))
    return ([[round(float(d[i, j]), 3) for j in near[i]] for i in range(rows)],
            round(float(np.median(dr.min(axis=1))), 3))


def blurred(x, side):
    from PIL import Image

    s = x.shape[1]
    return np.stack([np.asarray(Image.fromarray(a).resize((side, side), Image.BICUBIC).resize((s, s),
                                                                                                Image.BICUBIC))
                     for a in x])


def measure(model, data=DATA, out_dir=HERE, pictures=True, n=N, held_out=N, truncation=None, two_sample_test=True):
    t0 = time.time()
    faces = metrics.face_extractor()
    res = model.resolution
    train_files, held_files = split(data, held_out)
    reference, other = real_faces(train_files, res, n)
    fake = model.generate(n, seed=0)
    generated = {"generated": fake}
    if truncation is not None:
        generated["generated_truncated"] = model.generate(n, seed=0, truncation=truncation)
    feats = {"reference": metrics.extract_features(reference, faces), "real": metrics.extract_features(other, faces)}
    feats.update({k: metrics.extract_features(x, faces) for k, x in generated.items()})
    for side in (32, 16):
        if side < res:
            feats[f"real_blur{side}"] = metrics.extract_features(blurred(other, side), faces)
    out = {}
    ref_stats = metrics.feature_stats(feats["reference"])
    for name, f in feats.items():
        if name == "reference":
            continue
        kid, kid_std = metrics.kernel_inception_distance(f, feats["reference"], subset_size=n // 2)
        out[name] = {"kid_face_x1000": round(1000 * kid, 3), "kid_face_std_x1000": round(1000 * kid_std, 3),
                     "fid_face": round(metrics.frechet_distance(*metrics.feature_stats(f), *ref_stats), 4)}
    for name, x in [("real", other)] + list(generated.items()):
        out[name]["face_detection_rate"] = round(float(np.mean(faces.detect(x[:1000]))), 4)
    if truncation is not None:
        out["generated_truncated"]["truncation"] = truncation
    if two_sample_test and held_files:
        held = read(held_files, res)
        rows = {**generated, "real": other}
        if res > 32:
            rows["real_shown_at_32px"] = blurred(other, 32)
        out["two_sample"] = two_sample(held, rows)
        out["two_sample"]["held_out"] = f"the last {len(held_files)} files of the folder in name order"
    if pictures:
        images.save_png(os.path.join(out_dir, "samples.png"), images.grid(fake[:64], ncols=8))
        walk = np.concatenate([model.interpolate(s, s + 1, steps=8) for s in range(3)])
        images.save_png(os.path.join(out_dir, "latent_walk.png"), images.grid(walk, ncols=8))
        pool = np.concatenate([reference, other])
        pool_f = np.concatenate([feats["reference"], feats["real"]])
        rows = []
        for i in range(8):
            d = np.linalg.norm(pool_f - feats["generated"][i], axis=1)
            near = np.argsort(d)[:3]
            rows += [fake[i]] + [pool[j] for j in near]
            out.setdefault("neighbour_distances", []).append([round(float(d[j]), 3) for j in near])
        images.save_png(os.path.join(out_dir, "neighbours.png"), images.grid(np.stack(rows), ncols=4))
        out["pixel_neighbours"], out["pixel_neighbours_real"] = pixel_neighbours(
            fake, train_files, os.path.join(out_dir, "pixel_neighbours.png"))
    out["seconds"] = round(time.time() - t0, 1)
    return out


def growth(preset, checkpoints, out_path, n=8):
    """One row per ``(checkpoint, level)``: the trained generator (not the EMA copy) of a training checkpoint
    (``<run>/checkpoint.weights.h5`` kept at a level's end) at that level, for the same ``n`` latents, each face
    enlarged to the final side by pixel repetition."""
    rows = []
    z = np.random.default_rng(0).standard_normal((n, preset.config["latent_dim"])).astype("float32")
    for path, level in checkpoints:
        gan = progan.build(preset)
        gan.compile()
        gan.load_weights(path)
        rows.append(gan.generator.grown_images(z, level))
    images.save_png(out_path, images.grid(np.concatenate(rows), ncols=n))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="celeba_64", choices=sorted(progan.CONFIGS))
    p.add_argument("--weights", help="an EMA generator .weights.h5 of the preset's architecture (a run's)")
    p.add_argument("--shipped", action="store_true", help="measure the shipped preset")
    p.add_argument("--register", action="store_true", help="register --weights as the preset in weights/")
    p.add_argument("--data", default=DATA)
    p.add_argument("--out", default=HERE, help="folder for results.json and the pictures")
    p.add_argument("--n", type=int, default=N, help="faces per set (default 1000)")
    p.add_argument("--held-out", type=int, default=N, metavar="K",
                   help="the last K faces of --data (name order) are the held-out set (default 1000; train.py "
                        "--hold-out K left them out)")
    p.add_argument("--truncation", type=float, default=None, metavar="PSI",
                   help="also measure generate(..., truncation=PSI)")
    p.add_argument("--no-two-sample", action="store_true", help="skip the two-sample CNN test")
    p.add_argument("--recipe", default="", help="the training command and run facts, for the manifest")
    p.add_argument("--growth", nargs="+", metavar="CHECKPOINT:LEVEL",
                   help="instead: growth.png from training checkpoints kept at the ends of levels")
    a = p.parse_args(argv)
    if a.growth:
        pairs = [(c.rpartition(":")[0], int(c.rpartition(":")[2])) for c in a.growth]
        growth(progan.CONFIGS[a.preset], pairs, os.path.join(a.out, "growth.png"))
        return
    if a.shipped == bool(a.weights):
        p.error("give --weights FILE or --shipped")
    preset = progan.CONFIGS[a.preset]
    if a.shipped:
        model = progan.pretrained(a.preset)
    else:
        model = weights.load_into(preset.build_generator(), a.weights)
    os.makedirs(a.out, exist_ok=True)
    result = measure(model, a.data, a.out, n=a.n, held_out=a.held_out, truncation=a.truncation,
                     two_sample_test=not a.no_two_sample)
    result["weights"] = "shipped" if a.shipped else os.path.basename(a.weights)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    if a.register:
        g = result["generated"]
        z = np.random.default_rng(0).standard_normal((4, model.latent_dim)).astype("float32")
        measured = {"kid_face_x1000": g["kid_face_x1000"], "fid_face": g["fid_face"],
                    "face_detection_rate": g["face_detection_rate"],
                    "kid_face_x1000_real_vs_real": result["real"]["kid_face_x1000"]}
        if "two_sample" in result:  # held-out accuracy of the CNN (0.5: cannot tell), with its scale
            t = result["two_sample"]
            measured.update({"two_sample_accuracy": t["generated"]["accuracy"],
                             "two_sample_real_vs_real": t["real"]["accuracy"]})
            if "real_shown_at_32px" in t:
                measured["two_sample_real_at_32px"] = t["real_shown_at_32px"]["accuracy"]
        weights.register("progan", a.preset, model, file_path=a.weights, trained_on=preset.trained_on,
                         recipe=a.recipe, reference_input=z, default=preset.default, metrics=measured)
        print(f"registered progan/{a.preset}", file=sys.stderr)


if __name__ == "__main__":
    main()
