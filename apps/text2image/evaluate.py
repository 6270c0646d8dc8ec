"""Measure a text2image generator on captions it never saw, in the eyes of a flower classifier trained here.

    python apps/text2image/evaluate.py --preset flowers_64 --json apps/text2image/results.json \\
        --grid apps/text2image/samples.png
    python apps/text2image/evaluate.py --weights runs/x/generator.weights.h5 --vocabulary runs/x/vocabulary.txt
    python apps/text2image/evaluate.py --train-classifier   # (re)trains the judge (only), writes it and its sha256
    python apps/text2image/evaluate.py --train-cross-judge  # (re)trains the second judge (--cross-judge)

The judge: ``ImageEncoder(outputs=102)`` trained with cross-entropy on the shared train split (random 64x64
crops of 72x72 images, flips; 3,000 steps of 64, Adam 1e-3, seed 0), shipped as
``weights/text2image/flowers_classifier.weights.h5`` (the preset's ``classifier`` companion, sha256-checked).
Its accuracy on the 818 real valid images (centre crops) is the ceiling the generated images are read against.

Held-out captions: ``text2image.data.held_out`` keeps 1 caption in 20 of every class out of the vocabulary, the
encoder and the GAN; ``--per-class`` of them per class (default 10; 1,018 in all, some classes having fewer)
are drawn with seed 0. Numbers:

* ``encoder_caption_top1``: the text side alone: how often a held-out caption's embedding is nearest to its own
  class's mean training-caption embedding;
* ``caption_top1`` / ``caption_top5``: one image per held-out caption (latent seed 0 for the whole set, a different
  vector per caption); how often the judge names the caption's class (chance: 1 / 102);
* ``same_noise_top1``: every caption with the *same* latent vector: only the sentence changes, so this is how much
  of the class the text alone sets;
* ``kid_x1000``: KID between those images and the real valid images in the judge's pooled features (x1000; the
  real train images against the same valid images give the floor, ``kid_train_valid_x1000``);
* ``cross_caption_top1`` / ``cross_caption_top5`` (``--cross-judge``): the same images by a second judge of
  another design (``cross_judge``), so that a generator trained against an ``ImageEncoder`` (the DAMSM term)
  cannot score by pleasing that network family alone; ``cross_valid_top1`` its accuracy on the real valid images;
* ``seed_spread``: mean pairwise feature distance between 4 seeds of one caption over that between images of
  different captions (0: every seed gives the same image; about 1: seeds vary as much as captions do).
"""
import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import numpy as np  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CLASSIFIER = os.path.join(REPO, "weights", "text2image", "flowers_classifier.weights.h5")
#: the second judge (``cross_judge``), trained by ``--train-cross-judge`` (1,500 steps of 64, seed 1)
CROSS_JUDGE = os.path.join(REPO, "apps", "text2image", "cross_judge.weights.h5")
GRID_CLASSES = (1, 11, 18, 23, 46, 51, 74, 89)  # rows of the card's grid (class ids)


def judge():
    from zoo.apps.text2image import ImageEncoder

    return ImageEncoder(outputs=102, normalize=False, dropout=0.3, name="flowers_classifier")


def cross_judge():
    """A second classifier of another design than ``judge`` (and than the DAMSM term's image encoder, both
    ``ImageEncoder``s): 5x5 convolutions without batch norm, max pooling, global max pooling. A generator that
    pleased only that family's features would score on ``judge`` and not here."""
    import keras
    from keras import layers

    x = inputs = keras.Input((64, 64, 3))
    for w in (32, 64, 128, 256):
        x = layers.Conv2D(w, 5, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.3)(layers.GlobalMaxPooling2D()(x))
    return keras.Model(inputs, layers.Dense(102)(x), name="flowers_cross_judge")


def train_classifier(root, steps=3000, seed=0, build=judge, path=CLASSIFIER):
    import keras

    from zoo.apps.text2image import data

    keras.utils.set_random_seed(seed)
    paths, captions, groups = data.flowers(root, "train")
    vocab = data.vocabulary_from(captions[:1])
    ds = data.CaptionedImages(paths, captions, groups, vocab, batch_size=64, seed=seed)

    class Labelled(keras.utils.PyDataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            x, _, g = ds[i]
            return x, g - 1

    model = build()
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(Labelled(), epochs=steps // 100, steps_per_epoch=100, verbose=2)
    clean = build()  # the weights alone, without the optimizer's slots
    clean.set_weights(model.get_weights())
    clean.save_weights(path)
    return clean


def real_images(root, split):
    from zoo.apps.text2image import data

    paths, _, groups = data.flowers(root, split)
    x = np.stack([data.load_square(p, 72)[4:68, 4:68] for p in paths])
    return x, groups - 1


def as_model_input(images):
    return images.astype("float32") / 127.5 - 1.0


def at_judge_size(images, size=64):
    """uint8 images as the 64x64 judge sees them: larger square images averaged down by their integer factor
    (128 -> 64: each 2x2 block's mean), so a 128 px preset is judged on the same footing as a 64 px one."""
    f = images.shape[1] // size
    if images.shape[1] == size:
        return images
    if images.shape[1] != f * size or images.shape[2] != f * size:
        raise ValueError(f"the judge reads {size}x{size} images or integer multiples, got {images.shape[1:3]}")
    x = images.astype("float32").reshape(len(images), size, f, size, f, -1).mean(axis=(2, 4))
    return np.clip(np.round(x), 0, 255).astype("uint8")


def predict(model, images, batch=128):
    import keras

    images = at_judge_size(images)
    return np.concatenate([keras.ops.convert_to_numpy(model(as_model_input(images[i:i + batch]), training=False))
                           for i in range(0, len(images), batch)])


def topk(logits, labels, k):
    return float(np.mean([l in np.argsort(-row)[:k] for row, l in zip(logits, labels)]))


def held_out_captions(root, per_class, seed=0):
    from zoo.apps.text2image import data
    from zoo.apps.text2image.text import read_class_captions

    rng = np.random.default_rng(seed)
    out = []
    for cid, caps in sorted(read_class_captions(os.path.join(root, "captions.tsv")).items(), key=lambda t: int(t[0])):
        held = sorted({c for c in caps if data.held_out(c)})
        for c in rng.choice(held, min(per_class, len(held)), replace=False):
            out.append((int(cid) - 1, str(c)))
    return out


def encoder_accuracy(g, root, caps, per_class=200, seed=0):
    """How often a held-out caption's embedding is nearest (cosine) to its own class's mean embedding of
    ``per_class`` training captions: the text side alone, before any image is drawn."""
    from zoo.apps.text2image import data
    from zoo.apps.text2image.text import UnknownWordsWarning, read_class_captions

    rng = np.random.default_rng(seed)
    centres = []
    with warnings.catch_warnings():  # rare words of the captions are outside the vocabulary by design: no warning
        warnings.simplefilter("ignore", UnknownWordsWarning)  # per class
        for cid, cs in sorted(read_class_captions(os.path.join(root, "captions.tsv")).items(),
                              key=lambda t: int(t[0])):
            train = sorted({c for c in cs if not data.held_out(c)})
            e = g.embed(list(rng.choice(train, min(per_class, len(train)), replace=False)))
            centres.append(e.mean(0) / np.linalg.norm(e.mean(0)))
        scores = g.embed([t for _, t in caps]) @ np.stack(centres).T
    return float(np.mean(np.argmax(scores, axis=1) == np.array([c for c, _ in caps])))


def load_generator(args):
    from zoo import weights
    from zoo.apps import text2image

    if args.weights:
        g = weights.get("text2image", args.preset).build_generator()
        weights.load_into(g, args.weights)
        g.vocabulary = text2image.Vocabulary.load(args.vocabulary) if args.vocabulary else text2image.vocabulary_for(g)
        return g
    return text2image.pretrained(args.preset)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="flowers_64")
    p.add_argument("--weights", default=None)
    p.add_argument("--vocabulary", default=None)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "flowers102"))
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--train-classifier", action="store_true")
    p.add_argument("--train-cross-judge", action="store_true", help=f"train the second judge ({CROSS_JUDGE})")
    p.add_argument("--cross-judge", action="store_true",
                   help="also report caption_top1/top5 by the second judge (cross_caption_top1, ...)")
    p.add_argument("--truncation", type=float, default=None,
                   help="sample with generate(truncation=PSI) throughout (default: none)")
    p.add_argument("--json", default=None)
    p.add_argument("--grid", default=None)
    p.add_argument("--register", action="store_true",
                   help="publish --weights/--vocabulary as the preset (weights/text2image/<preset>.*) with these "
                        "metrics and a reference output; then copy the printed sha256s into presets.py")
    p.add_argument("--recipe", default="", help="with --register: the command that trained the weights")
    args = p.parse_args(argv)

    from zoo import metrics, weights

    t0 = time.time()
    if args.train_classifier:
        clf = train_classifier(args.data)
        print(f"classifier: {CLASSIFIER} sha256 {weights.sha256(CLASSIFIER)}")
        valid, valid_y = real_images(args.data, "valid")
        print(f"valid top-1 {topk(predict(clf, valid), valid_y, 1):.4f}")
        return
    if args.train_cross_judge:
        clf = train_classifier(args.data, steps=1500, seed=1, build=cross_judge, path=CROSS_JUDGE)
        valid, valid_y = real_images(args.data, "valid")
        print(f"{CROSS_JUDGE}: valid top-1 {topk(predict(clf, valid), valid_y, 1):.4f}")
        return
    else:
        entry = weights.get("text2image", args.preset).companions["classifier"]
        clf = judge()
        weights.load_into(clf, weights.verify(weights.find_file(entry["file"], entry["sha256"]), entry["sha256"]))
    features = clf.features()
    valid, valid_y = real_images(args.data, "valid")
    valid_logits = predict(clf, valid)
    out = {"classifier_valid_top1": topk(valid_logits, valid_y, 1),
           "classifier_valid_top5": topk(valid_logits, valid_y, 5)}
    g = load_generator(args)
    caps = held_out_captions(args.data, args.per_class)
    labels = np.array([c for c, _ in caps])
    out["encoder_caption_top1"] = encoder_accuracy(g, args.data, caps)
    psi = args.truncation
    fake = g.generate([t for _, t in caps], seed=0, truncation=psi)
    logits = predict(clf, fake)
    out.update(caption_top1=topk(logits, labels, 1), caption_top5=topk(logits, labels, 5),
               chance_top1=1 / 102, captions=len(caps))
    z = np.random.default_rng(0).standard_normal((1, g.latent_dim)).astype("float32")
    same = g.from_latents(np.repeat(z, len(caps), axis=0), g.embed([t for _, t in caps]), truncation=psi)
    out["same_noise_top1"] = topk(predict(clf, same), labels, 1)
    if args.cross_judge:
        cross = cross_judge()
        cross.load_weights(CROSS_JUDGE)
        cross_logits = predict(cross, fake)
        out.update(cross_valid_top1=topk(predict(cross, valid), valid_y, 1),
                   cross_caption_top1=topk(cross_logits, labels, 1), cross_caption_top5=topk(cross_logits, labels, 5))

    def feats(images):
        return predict(features, images)

    fv = feats(valid)
    out["kid_x1000"] = 1000 * metrics.kernel_inception_distance(feats(fake), fv, subsets=50, subset_size=500)[0]
    train, _ = real_images(args.data, "train")
    train = train[np.random.default_rng(0).choice(len(train), len(fake), replace=False)]
    out["kid_train_valid_x1000"] = 1000 * metrics.kernel_inception_distance(feats(train), fv, subsets=50,
                                                                            subset_size=500)[0]
    # seed spread: 4 seeds x 100 captions
    sub = [t for _, t in caps[::10]]
    four = np.stack([g.generate(sub, seed=s, truncation=psi) for s in range(4)])  # (4, 100, size, size, 3)
    f4 = feats(four.reshape((-1,) + four.shape[2:])).reshape(4, len(sub), -1)
    within = np.mean([np.linalg.norm(f4[a] - f4[b], axis=-1).mean() for a in range(4) for b in range(a + 1, 4)])
    between = np.mean(np.linalg.norm(f4[0][:, None] - f4[0][None], axis=-1)[~np.eye(len(sub), dtype=bool)])
    out["seed_spread"] = float(within / between)
    out = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}
    out["seconds"] = round(time.time() - t0)
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    if args.grid:
        write_grid(g, args.data, args.grid, truncation=psi)
    if args.register:
        register(g, args, out)


def register(g, args, metrics):
    """The generator and its vocabulary as preset files, the reference input a fixed ``[z, word ids]`` pair."""
    import shutil

    from zoo import weights

    if not (args.weights and args.vocabulary):
        raise SystemExit("--register needs --weights and --vocabulary")
    vocab_file = os.path.join(REPO, "weights", "text2image", f"{args.preset}.vocab.txt")
    shutil.copyfile(args.vocabulary, vocab_file)
    z = np.random.default_rng(0).standard_normal((2, g.latent_dim)).astype("float32")
    ids = g.vocabulary.encode(["this flower has white petals and a yellow center", "a red flower with ruffled petals"])
    keep = ("encoder_caption_top1", "classifier_valid_top1", "caption_top1", "caption_top5", "same_noise_top1",
            "kid_x1000", "kid_train_valid_x1000", "seed_spread")
    weights.register("text2image", args.preset, g, file_path=args.weights, reference_input=[z, ids],
                     metrics={k: metrics[k] for k in keep}, recipe=args.recipe, default=True)
    print(f"vocabulary: {vocab_file} sha256 {weights.sha256(vocab_file)}")


def write_grid(g, root, path, seeds=4, truncation=None):
    """One row per class of ``GRID_CLASSES``: a real valid image of the class, then ``seeds`` images of one
    held-out caption of that class; the captions are printed (and go in the model card)."""
    from zoo import images
    from zoo.apps.text2image import data

    caps = dict(held_out_captions(root, 1, seed=1)[i] for i in [c - 1 for c in GRID_CLASSES])
    paths, _, groups = data.flowers(root, "valid")
    rows = []
    for cid in GRID_CLASSES:
        real = data.load_square(paths[list(groups).index(cid)], g.image_size)
        text = caps[cid - 1]
        rows += [real] + list(g.generate(text, n=seeds, seed=0, truncation=truncation))
        print(f"class {cid}: {text}")
    images.save_png(path, images.grid(np.stack(rows), ncols=seeds + 1))


if __name__ == "__main__":
    main()
