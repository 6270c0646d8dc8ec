"""DCGAN benchmark: one full adversarial training iteration and generator inference.

The networks of ``zoo.apps.dcgan`` (Radford et al. 2016) at 64x64x3 by default, as in the paper's LSUN / faces
models and the PyTorch reference (ngf = ndf = 64, z of 100): G doubles a 4x4 projection of z four times,
D halves the image four times before its logit (see the app's docstrings for the layers). Training: ``zoo.GAN``
with its defaults (Adam 2e-4, beta_1 0.5, non-saturating loss, one D step per G step), batch 128 as in the
paper. Data is synthetic, in memory.

    python benchmarks/dcgan.py --tiny                              # CPU smoke run: 16x16, filters 8
    python benchmarks/dcgan.py --batch-sizes 128 512 --precision float32 mixed_bfloat16 --jit both --json out.jsonl

``--resolution``: halved while even and >= 8 (64 -> 4x4 in 4 steps; 28 -> 7x7 in 2), as the app's classes do. ``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402

LATENT_DIM = 100


def add_arguments(parser):
    parser.add_argument("--filters", type=int, help="width of G's last and D's first layer (paper: 64)")
    parser.add_argument("--channels", type=int, help="image channels")


def build(args):
    """The DCGAN pair at ``args.resolution``, built under the dtype policy the harness has set."""
    from zoo import GAN
    from zoo.apps import dcgan

    generator = dcgan.DCGANGenerator(latent_dim=LATENT_DIM, image_size=args.resolution, channels=args.channels,
                                     filters=args.filters)
    discriminator = dcgan.DCGANDiscriminator(image_size=args.resolution, channels=args.channels,
                                             filters=args.filters)
    steps = generator.get_config()["upsamplings"]
    gan = GAN(generator, discriminator, seed=0)
    rng = np.random.default_rng(0)
    return bench.Workload(
        gan=gan,
        network=generator,
        train_batch=lambda n: bench.synthetic_images(n, args.resolution, args.channels),
        infer_batch=lambda n: rng.standard_normal((n, LATENT_DIM)).astype("float32"),
        info={"architecture": dict(latent_dim=LATENT_DIM, filters=args.filters, channels=args.channels,
                                   upsamplings=steps),
              "generator_params": generator.count_params(),
              "discriminator_params": discriminator.count_params()},
    )


def main(argv=None):
    return bench.main(
        build, "dcgan", __doc__.splitlines()[0], argv,
        defaults=dict(resolution=64, batch_sizes=[128], filters=64, channels=3),
        tiny=dict(resolution=16, batch_sizes=[8], filters=8),
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    sys.exit(main())
