"""Measure the digit presets and register them in weights/ (the numbers in MODEL_CARD.md come from here).

    python apps/dcgan/evaluate.py                      # measure runs/<preset>/generator.weights.h5, register
    python apps/dcgan/evaluate.py --shipped            # re-measure the shipped weights/ files, register nothing

A digit classifier (small CNN) is trained on held-out real digits the GANs never saw (80 per class of
mnist_5k.csv.gz, see train.split) and checked on 20 more per class. It then labels generated digits:
  * mnist_cdcgan: share of samples (100 per class, 1000 in all) labelled as the class that was requested;
  * both presets: a Frechet distance in the classifier's 128-d feature space between 1000 samples and the
    1000 held-out real digits ("digits FID"; the real-vs-real floor compares 1000 of the GAN's training digits
    with the same held-out digits), and the
    predicted class histogram (mode coverage).
"""
import argparse
import json
import os
import sys

import numpy as np

from zoo import metrics, weights
from zoo.apps import dcgan
from zoo.data import load_mnist_csv
from train import EPOCHS, split  # apps/dcgan/train.py: the recipe's data split and epochs

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "..", "shared", "data", "digits", "mnist_5k.csv.gz")
N_SAMPLES = 1000


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DIGITS)
    p.add_argument("--shipped", action="store_true", help="measure the shipped presets instead of runs/")
    p.add_argument("--presets", nargs="+", default=sorted(dcgan.CONFIGS), choices=sorted(dcgan.CONFIGS))
    p.add_argument("--run-dir", default="runs", help="folder holding <preset>/generator.weights.h5")
    p.add_argument("--no-register", action="store_true", help="measure only")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"))
    a = p.parse_args(argv)

    x, y = load_mnist_csv(a.data)
    x = x.astype("float32") / 127.5 - 1.0
    gan_rows, clf_rows, val_rows = split(y)
    clf, feats, val_acc = metrics.digit_classifier(x[clf_rows], y[clf_rows], x[val_rows], y[val_rows])
    print(f"classifier accuracy on held-out real digits: {val_acc:.4f}", file=sys.stderr)
    held_out = x[np.concatenate([clf_rows, val_rows])]
    floor_rows = np.random.default_rng(0).choice(gan_rows, N_SAMPLES, replace=False)
    floor = metrics.fid(x[floor_rows], held_out, extractor=lambda b: feats.predict_on_batch(b))
    results = {"classifier_val_accuracy": round(val_acc, 4), "digits_fid_real_vs_real": round(floor, 3)}

    for name in a.presets:
        g_cfg = dcgan.CONFIGS[name].config
        if a.shipped:
            gen = dcgan.pretrained(name)
        else:
            gen = dcgan.DCGANGenerator(**g_cfg)
            gen.load_weights(os.path.join(a.run_dir, name, "generator.weights.h5"))
        conditional = bool(g_cfg.get("num_classes"))
        labels = np.repeat(np.arange(10), N_SAMPLES // 10).astype("int32") if conditional else None
        fake = gen.generate(N_SAMPLES, labels=labels, seed=1234).astype("float32") / 127.5 - 1.0
        pred = np.argmax(clf.predict(fake, verbose=0), axis=1)
        m = {"digits_fid": round(metrics.fid(fake, held_out, extractor=lambda b: feats.predict_on_batch(b)), 3),
             "predicted_class_histogram": np.bincount(pred, minlength=10).tolist()}
        if conditional:
            m["conditional_accuracy"] = round(float(np.mean(pred == labels)), 4)
            m["conditional_accuracy_per_class"] = [round(float(np.mean(pred[labels == c] == c)), 2)
                                                   for c in range(10)]
        results[name] = m
        print(name, json.dumps(m), file=sys.stderr)
        if not (a.shipped or a.no_register):
            z = np.random.default_rng(0).standard_normal((8, g_cfg["latent_dim"])).astype("float32")
            ref_in = [z, np.arange(8, dtype="int32")] if conditional else z
            weights.register(
                "dcgan", name, gen, file_path=os.path.join(a.run_dir, name, "generator.weights.h5"),
                trained_on="MNIST digits: 4000 of shared/data/digits/mnist_5k.csv.gz, 400 per class (train.split)",
                recipe=f"apps/dcgan/train.py --preset {name} (epochs {EPOCHS[name]}, batch 64, EMA 0.999, seed 0); "
                       "apps/dcgan/evaluate.py",
                metrics={k: v for k, v in m.items() if not isinstance(v, list)} | {
                    "classifier_val_accuracy": results["classifier_val_accuracy"]},
                reference_input=ref_in, default=conditional)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
