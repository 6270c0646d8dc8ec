"""text2image benchmark: one GAN-CLS / GAN-INT training iteration (the three discriminator terms) and generation.

The networks of ``zoo.apps.text2image`` in the shipped ``flowers_64`` configuration (64x64 stage I, a word-CNN
text encoder over 30 word ids, conditioning augmentation, the matching-aware discriminator); ``--width`` and
``--d-width`` scale the generator and discriminator (StackGAN's stage I is ``--width 192 --d-width 96``).
Training: ``TextToImage`` with its defaults (non-saturating loss; D on real+matching, real+mismatching and
fake+matching pairs; G on the batch plus half a batch of GAN-INT interpolations; the CA's KL; Adam 2e-4 / 0.5 for
both; the frozen encoder embeds the captions in the step). Generation: the whole sentence -> image network
(``[z, word ids]``) through its predict function. Data is synthetic, in memory.

FLOPs per image: the trainer's count (3 G (1 + i) + 9 D + 2 D (1 + i) + the encoder, i = 0.5 GAN-INT images
per real one); convolutions and dense layers only.

    python benchmarks/text2image.py --tiny                                             # CPU smoke run
    python benchmarks/text2image.py --precision float32 mixed_bfloat16 --json out.jsonl   # the preset here
    python benchmarks/text2image.py --width 192 --d-width 96 --batch-sizes 64             # StackGAN's sizes

``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402


def add_arguments(parser):
    parser.add_argument("--width", type=int, default=None, help="generator width (preset: 32)")
    parser.add_argument("--d-width", type=int, default=None, help="discriminator width (preset: 64)")
    parser.add_argument("--vocab-size", type=int, default=None, help="words (preset: its vocabulary's)")


def build(args):
    """The preset's pair (widths overridden by the flags), built under the dtype policy the harness has set."""
    from zoo.apps import text2image

    preset = text2image.CONFIGS["flowers_64"]
    over = {k: v for k, v in (("width", args.width), ("vocab_size", args.vocab_size)) if v}
    g = preset.build_generator(**over)
    d = preset.build_discriminator(**({"width": args.d_width} if args.d_width else {}))
    cfg = g.get_config()
    rng = np.random.default_rng(0)

    def words(n):
        ids = rng.integers(2, cfg["vocab_size"], (n, cfg["max_length"])).astype("int32")
        ids[:, 18:] = 0  # typical captions have ~13-18 words
        return ids

    def train_batch(n):
        return bench.synthetic_images(n, 64, 3), words(n), np.arange(n, dtype="int32")

    z = rng.standard_normal((1, g.latent_dim)).astype("float32")
    return bench.Workload(
        gan=text2image.TextToImage(g, d, seed=0),
        network=g,
        train_batch=train_batch,
        infer_batch=lambda n: [rng.standard_normal((n, g.latent_dim)).astype("float32"), words(n)],
        info={"architecture": {k: v for k, v in cfg.items() if k != "name"}, "d_width": d.get_config()["width"],
              "generator_params": g.stage1.count_params(), "text_encoder_params": g.text_encoder.count_params(),
              "discriminator_params": d.count_params(),
              "flops_g": bench.count_flops(g, [z, words(1)]).total,
              "train_flops_formula": "3 G (1 + i) + 9 D + 2 D (1 + i) + encoder, i = 0.5"},
    )


def main(argv=None):
    return bench.main(
        build, "text2image", __doc__.splitlines()[0], argv,
        defaults=dict(resolution=64, batch_sizes=[64], infer_batch_sizes=[1, 64]),
        tiny=dict(resolution=64, batch_sizes=[4], infer_batch_sizes=[1, 4], width=4, d_width=4, vocab_size=50),
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    sys.exit(main())
