"""progan benchmark: one full progressive-GAN training iteration (WGAN-GP + drift) and face generation.

The networks of ``zoo.apps.progan`` (Karras et al. 2018), fully grown (the last level, alpha 1), at
``--resolution``: by default the shipped ``celeba_64`` configuration (64x64, feature maps min(2048 / side,
128), 128-d latent); ``--paper`` gives the paper's feature maps (min(16384 / side, 512), 512-d latent: 23.1M
parameters per network at 1024x1024). Training: ``progan.ProGAN`` with its defaults (WGAN-GP weight 10, drift
0.001, Adam 1e-3 (0, 0.99), one critic step per generator step, the EMA generator updated every step); the
paper's minibatch is 16 up to 128x128. Generation: the generator's predict function on latent vectors. Data is
synthetic, in memory.

FLOPs per image: the trainer's count (the core's 3 G + 8 D per real image, plus 4 D for the gradient penalty's
forward, input gradient and their backward); convolutions and dense layers only.

    python benchmarks/progan.py --tiny                                          # CPU smoke run
    python benchmarks/progan.py --precision float32 mixed_bfloat16 --json out.jsonl  # celeba_64 on this machine
    python benchmarks/progan.py --resolution 128 --batch-sizes 16
    python benchmarks/progan.py --paper --resolution 1024 --batch-sizes 4 --infer-batch-sizes 1 4   # a GPU

``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402

PRESET = dict(fmap_base=1024, fmap_max=128, latent_dim=128)
PAPER = dict(fmap_base=8192, fmap_max=512, latent_dim=512)


def add_arguments(parser):
    parser.add_argument("--paper", action="store_true", help="the paper's feature maps and 512-d latent")
    parser.add_argument("--fmap-base", type=int, help="feature maps min(2 * fmap_base / side, fmap_max)")
    parser.add_argument("--fmap-max", type=int)
    parser.add_argument("--latent-dim", type=int)


def build(args):
    """The grown ProGAN pair at ``args.resolution``, built under the dtype policy the harness has set."""
    from zoo.apps import progan

    cfg = dict(PAPER if args.paper else PRESET)
    cfg.update({k: getattr(args, k) for k in ("fmap_base", "fmap_max", "latent_dim") if getattr(args, k)})
    net = {k: cfg[k] for k in ("fmap_base", "fmap_max")}
    g = progan.ProGANGenerator(args.resolution, latent_dim=cfg["latent_dim"], **net)
    d = progan.ProGANDiscriminator(args.resolution, **net)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((1, cfg["latent_dim"])).astype("float32")
    x = np.zeros((1, args.resolution, args.resolution, 3), "float32")
    return bench.Workload(
        gan=progan.ProGAN(g, d, seed=0),
        network=g,
        train_batch=lambda n: bench.synthetic_images(n, args.resolution, 3),
        infer_batch=lambda n: rng.standard_normal((n, cfg["latent_dim"])).astype("float32"),
        info={"architecture": dict(resolution=args.resolution, **cfg), "paper_config": bool(args.paper),
              "generator_params": g.count_params(), "discriminator_params": d.count_params(),
              "flops_g": bench.count_flops(g, z).total, "flops_d": bench.count_flops(d, x).total,
              "train_flops_formula": "3 G + 12 D per real image (8 D of the core's count + 4 D of the penalty)"},
    )


def main(argv=None):
    return bench.main(
        build, "progan", __doc__.splitlines()[0], argv,
        defaults=dict(resolution=64, batch_sizes=[16], infer_batch_sizes=[1, 64]),
        tiny=dict(resolution=16, batch_sizes=[4], infer_batch_sizes=[1, 4], fmap_base=32, fmap_max=16,
                  latent_dim=8),
        add_arguments=add_arguments,
    )


if __name__ == "__main__":
    sys.exit(main())
