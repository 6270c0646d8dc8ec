"""The sentence encoder's ablation (model card, "Sentence encoder"): held-out caption nearest-class accuracy
(``evaluate.encoder_accuracy``: 10 held-out captions per class, each against its class's mean embedding of 200
training captions) every ``--every`` steps of one of three objectives, each from scratch:

* ``joint``: ``JointEmbedding``, image-sentence cross-entropy alone (the shipped ``flowers_64`` encoder's);
* ``joint-classes``: the same plus the class-aware text term (``classes``; the recipe's default since issue 25);
* ``text``: the class-aware text term alone, no images (batches of 256 captions): how far text alone goes.

    python apps/text2image/encoder_ablation.py joint-classes --steps 1500 --out runs/encoder_joint_classes

writes ``<out>/log.jsonl`` and, every 5 evaluations, ``text_encoder_<step>.weights.h5`` (and the image encoder's).
"""
import argparse
import json
import os
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("objective", choices=["joint", "joint-classes", "text"])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--every", type=int, default=300)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "flowers102"))
    args = p.parse_args(argv)
    import keras
    from keras import ops

    import evaluate
    import train
    from zoo.apps import text2image as t2i
    from zoo.apps.text2image import data
    from zoo.apps.text2image.text import UnknownWordsWarning

    warnings.simplefilter("ignore", UnknownWordsWarning)
    keras.utils.set_random_seed(0)
    os.makedirs(args.out, exist_ok=True)
    paths, captions, groups = data.flowers(args.data, "train")
    vocab = data.vocabulary_from(captions)
    encoder = t2i.TextEncoder(len(vocab), vocab.max_length)
    held = evaluate.held_out_captions(args.data, 10)

    class Probe:  # what encoder_accuracy needs of a generator
        def embed(self, texts):
            return ops.convert_to_numpy(encoder(vocab.encode(texts)))

    t0, log = time.time(), open(os.path.join(args.out, "log.jsonl"), "a")

    def report(step, **extra):
        row = dict(objective=args.objective, step=step, seconds=round(time.time() - t0),
                   caption_top1=round(evaluate.encoder_accuracy(Probe(), args.data, held), 4), **extra)
        print(json.dumps(row), file=log, flush=True)
        print(json.dumps(row), flush=True)

    if args.objective == "text":
        classes = int(groups.max()) + 1
        pairs = [(c, g) for cs, g in {id(c): (c, g) for c, g in zip(captions, groups)}.values() for c in cs]
        words = vocab.encode([c for c, _ in pairs])
        labels = np.array([g for _, g in pairs], "int32")
        # JointEmbedding's class term on its own (its image encoder unused)
        joint = t2i.JointEmbedding(encoder, t2i.ImageEncoder(outputs=256), classes=classes)
        optimizer = keras.optimizers.Adam(1e-3)
        variables = encoder.trainable_variables + [joint.prototypes]
        import tensorflow as tf

        @tf.function
        def step(w, y):
            with tf.GradientTape() as tape:
                loss = ops.mean(joint.class_loss(encoder(w, training=True), y))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        rng = np.random.default_rng(0)
        for i in range(1, args.steps + 1):
            idx = rng.choice(len(labels), 256, replace=False)
            loss = step(words[idx], labels[idx])
            if i % args.every == 0:
                report(i, loss=round(float(loss), 4))
        return
    image_encoder = t2i.ImageEncoder(outputs=256)
    joint = t2i.JointEmbedding(encoder, image_encoder,
                               classes=int(groups.max()) + 1 if args.objective == "joint-classes" else 0)
    joint.compile(optimizer=keras.optimizers.Adam(1e-3))
    batches = train._x_only(data.CaptionedImages(paths, captions, groups, vocab, batch_size=128, seed=0))
    for k in range(1, args.steps // args.every + 1):
        h = joint.fit(batches, epochs=1, steps_per_epoch=args.every, verbose=0).history
        report(k * args.every, in_batch_accuracy=round(h["accuracy"][-1], 4))
        if k % 5 == 0:
            encoder.save_weights(os.path.join(args.out, f"text_encoder_{k * args.every}.weights.h5"))
            image_encoder.save_weights(os.path.join(args.out, f"image_encoder_{k * args.every}.weights.h5"))


if __name__ == "__main__":
    main()
