"""The recipe behind the text2image presets: vocabulary, sentence encoder, then the GAN (resumable): GAN-CLS /
GAN-INT (``--arch gan-cls``, preset ``flowers_64``) or DF-GAN (``--arch dfgan``, presets ``flowers_dfgan_64`` and
``flowers_dfgan_128`` by ``--image-size``; ``--preset`` names any preset instead).

    python apps/text2image/train.py --run runs/text2image_flowers_64 --precision mixed_bfloat16 \\
        --encoder-steps 1200 --steps 5000
    python apps/text2image/train.py --arch dfgan --run runs/text2image_flowers_dfgan_64 --batch-size 32 \\
        --steps 20000

Data: the shared Oxford-102 flowers (``--data``, default ../shared/data/flowers102): the ``train`` split's 6,552
images, each paired with the captions of its class (Reed et al.'s captions are attached to classes: the per-image
pairing is lost), minus the 1-in-20 captions held out for evaluation (``text2image.data.held_out``).

1. ``<run>/vocabulary.txt``: words seen >= 3 times in the training captions, 30 words per sentence.
2. ``<run>/encoder/``: the text encoder trained jointly with an image encoder (``JointEmbedding``, batch 128, Adam
   1e-3) on 64x64 crops, with the class-aware text term at ``--class-weight`` (1; the class ids are the image
   folders'); ``text_encoder.weights.h5`` and ``image_encoder.weights.h5``. ``--encoder-from flowers_64`` takes
   a shipped preset's vocabulary and text encoder instead. Skipped when present: to give a GAN run an encoder
   trained longer (or another run's), put its ``text_encoder.weights.h5`` there before starting.
3. ``<run>/gan/``: the preset's trainer for ``--steps`` batches of ``--batch-size`` at the preset's image size
   (random crops of images loaded at 9/8 of it, flips), EMA 0.999 of G; a checkpoint every ``--every`` steps,
   and the same command resumes a killed run. ``TextToImage``: non-saturating GAN-CLS, GAN-INT on half a batch
   extra, CA with KL weight 2, Adam 2e-4 beta 0.5 for both networks. ``DFGAN``: hinge loss, mismatched pairs at
   weight 0.5, MA-GP (k 2, p 6), Adam 1e-4 (G) / 4e-4 (D) with betas (0, 0.9), as the reference code. At the end
   the EMA generator is written to ``<run>/generator.weights.h5`` with the vocabulary beside it.
   ``--contrastive-weight W`` adds AttnGAN's sentence-level DAMSM term to G's loss, ``W`` times the encoders'
   own cross-entropy with G's images read by the step-2 image encoder (frozen; ``SentenceGAN``).
   ``--aux-weight W`` (GAN-CLS) adds TAC-GAN's auxiliary classifier: D gets a class head on its image features,
   trained on the real images' flower classes, and G's images are asked to be classified as their captions'
   class, both terms at weight ``W`` (``TextToImage(aux_weight=)``). ``--init-from <other run>/gan/checkpoint.
   weights.h5`` starts a new run folder's GAN from another run's networks and optimizer states (what the other
   run did not have starts fresh), so a run can go on with a term added.

``apps/text2image/evaluate.py --weights <run>/generator.weights.h5 --vocabulary <run>/vocabulary.txt`` measures it.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

#: ``--arch`` -> the preset it trains at ``--image-size``
ARCHS = {"gan-cls": lambda size: "flowers_64" if size == 64 else None,
         "dfgan": lambda size: f"flowers_dfgan_{size}"}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                                                  "flowers102"))
    p.add_argument("--arch", default="gan-cls", choices=sorted(ARCHS),
                   help="gan-cls: flowers_64 (GAN-CLS / GAN-INT, StackGAN stage I); dfgan: flowers_dfgan_<size>")
    p.add_argument("--image-size", type=int, default=64, choices=[64, 128], help="with --arch dfgan: 64 or 128")
    p.add_argument("--preset", default=None, help="the preset (architecture and config) to train; overrides --arch")
    p.add_argument("--encoder-from", metavar="PRESET", default=None,
                   help="take the vocabulary and the trained text encoder of this shipped preset (e.g. flowers_64) "
                        "instead of training them (step 2 skipped)")
    p.add_argument("--encoder-steps", type=int, default=1200)
    p.add_argument("--encoder-batch-size", type=int, default=128)
    p.add_argument("--class-weight", type=float, default=1.0,
                   help="weight of the encoder's class-aware text term (JointEmbedding's classes; 0: off)")
    p.add_argument("--contrastive-weight", type=float, default=0.0,
                   help="weight of the sentence-level DAMSM term in G's loss (needs the image encoder trained in "
                        "this run: not with --encoder-from)")
    p.add_argument("--aux-weight", type=float, default=0.0,
                   help="TAC-GAN's auxiliary classifier: D classifies the real images' classes (the flower "
                        "classes), G's images are asked to be classified as their captions' class; this weight on "
                        "both terms (0: off)")
    p.add_argument("--init-from", metavar="CHECKPOINT", default=None,
                   help="start a new run's GAN from another run's gan/checkpoint.weights.h5 (same preset and "
                        "encoder): every network and optimizer state that matches is loaded, what the other run did "
                        "not have (the auxiliary classifier, its optimizer's moments) starts fresh")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"])
    p.add_argument("--every", type=int, default=200, help="steps between checkpoints")
    p.add_argument("--seed", type=int, default=0)
    from zoo import distribute

    distribute.add_arguments(p)
    args = p.parse_args(argv)
    if args.preset is None:
        args.preset = ARCHS[args.arch](args.image_size)
        if args.preset is None:
            p.error(f"--arch {args.arch} draws 64x64 images (StackGAN's stage I), not {args.image_size}: use "
                    "--arch dfgan")
    elif args.arch != "gan-cls" or args.image_size != 64:
        p.error("give --preset or --arch/--image-size, not both")

    setup = distribute.from_args(args)  # --distribute: build and compile in setup.scope()
    import keras

    from zoo import weights
    from zoo.apps import text2image as t2i
    from zoo.apps.text2image import data
    from zoo.callbacks import fit_steps

    keras.utils.set_random_seed(args.seed)
    keras.config.set_dtype_policy(args.precision)
    args.run = setup.run_folder(args.run)  # the chief writes the run; other workers their own copy
    os.makedirs(args.run, exist_ok=True)
    paths, captions, groups = data.flowers(args.data, "train")
    vocab_path = os.path.join(args.run, "vocabulary.txt")
    enc_path = os.path.join(args.run, "encoder", "text_encoder.weights.h5")
    image_path = os.path.join(args.run, "encoder", "image_encoder.weights.h5")  # not with --encoder-from
    if args.encoder_from:
        source = t2i.pretrained(args.encoder_from)
        if os.path.exists(vocab_path) and t2i.Vocabulary.load(vocab_path) != source.vocabulary:
            raise SystemExit(f"{vocab_path} is not {args.encoder_from}'s vocabulary: use a new --run folder")
        if not os.path.exists(vocab_path):
            source.vocabulary.save(vocab_path)
        if not os.path.exists(enc_path):
            os.makedirs(os.path.dirname(enc_path), exist_ok=True)
            source.text_encoder.save_weights(enc_path)
    if not os.path.exists(vocab_path):
        data.vocabulary_from(captions).save(vocab_path)
    vocab = t2i.Vocabulary.load(vocab_path)
    preset = weights.get("text2image", args.preset)
    with setup.scope():
        g = preset.build_generator(vocab_size=len(vocab), max_length=vocab.max_length)
    print(f"vocabulary: {len(vocab)} words; {len(paths)} images; generator config {g.get_config()}", flush=True)

    if not os.path.exists(enc_path):
        t0 = time.time()
        with setup.scope():
            image_encoder = t2i.ImageEncoder(outputs=g.text_encoder.output.shape[-1])
            joint = t2i.JointEmbedding(g.text_encoder, image_encoder, classes=int(groups.max()) + 1 if
                                       args.class_weight else 0, class_weight=args.class_weight)
            joint.compile(optimizer=keras.optimizers.Adam(1e-3))
        ds = data.CaptionedImages(paths, captions, groups, vocab, batch_size=args.encoder_batch_size,
                                  seed=args.seed)
        joint.fit(_x_only(ds), epochs=max(1, args.encoder_steps // 100), steps_per_epoch=100, verbose=2)
        os.makedirs(os.path.dirname(enc_path), exist_ok=True)
        image_encoder.save_weights(image_path)
        g.text_encoder.save_weights(enc_path)
        print(f"encoder: {args.encoder_steps} steps in {time.time() - t0:.0f} s", flush=True)
    g.text_encoder.load_weights(enc_path)

    image_encoder = None
    if args.contrastive_weight:
        if not os.path.exists(image_path):
            raise SystemExit(f"--contrastive-weight needs the image encoder trained with the text encoder, "
                             f"{image_path}: not there (--encoder-from gives a text encoder alone)")
        with setup.scope():
            image_encoder = t2i.ImageEncoder(outputs=g.text_encoder.output.shape[-1])
        image_encoder.load_weights(image_path)

    t0 = time.time()
    with setup.scope():
        aux = dict(classes=int(groups.max()) + 1, aux_weight=args.aux_weight) if args.aux_weight else {}
        gan = t2i.build(args.preset, generator=g, ema_decay=0.999, seed=args.seed, image_encoder=image_encoder,
                        contrastive_weight=args.contrastive_weight, **aux)
        gan.compile()
    if args.init_from and not os.path.exists(os.path.join(args.run, "gan", "checkpoint.weights.h5")):
        import warnings

        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always")
            gan.load_weights(args.init_from, skip_mismatch=True)
        print(f"started from {args.init_from}; not in it, left fresh: "
              f"{'; '.join(str(w.message).splitlines()[0] for w in skipped) or 'nothing'}", flush=True)
    size = g.image_size
    ds = data.CaptionedImages(paths, captions, groups, vocab, batch_size=args.batch_size, image_size=size,
                              load_size=size * 9 // 8, seed=args.seed + 1)
    fit_steps(gan, ds, args.steps, run=os.path.join(args.run, "gan"), every=args.every, verbose=2)
    out = gan.sampling_generator()
    out.save_weights(os.path.join(args.run, "generator.weights.h5"))
    with open(os.path.join(args.run, "train.json"), "w") as f:
        json.dump(dict(vars(args), gan_seconds_this_call=round(time.time() - t0), vocab_size=len(vocab)), f, indent=1)
    print(f"wrote {os.path.join(args.run, 'generator.weights.h5')}", flush=True)


def _x_only(ds):
    """A PyDataset whose batches are ``((images, words, groups),)``: Keras passes the triple as ``x``."""
    import keras

    class XOnly(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()

        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return (ds[i],)

    return XOnly()


if __name__ == "__main__":
    main()
