"""cyclegan benchmark: one full CycleGAN training iteration and ResNet generator inference.

Two kinds of rows (``zoo.apps.cyclegan``; Zhu et al. 2017), both on synthetic in-memory images in [-1, 1]:

* ``train``: one full iteration of the ``CycleGAN`` trainer on unpaired ``(a, b)`` batches: G (A -> B) and F
  (B -> A) make fakes, reconstructions and identity images; a G step on LSGAN through D_B(G(a)) and D_A(F(b)) +
  10 x cycle L1 + 5 x identity L1 (both generators under one Adam), and a D step of D_A and D_B on real images
  against fakes drawn from a pool of the last 50 (both under another Adam; 2e-4, beta_1 0.5). Batch 1 (the
  paper's) and 8 at 256x256 by default (``--batch-sizes``). Networks: the paper's 256x256 ones, two ResNet
  generators with 9 blocks (``--n-blocks``), 64 filters (11,378,179 parameters each), and two 70x70 PatchGANs
  (64 filters, 2,764,737 each), instance norm (``--norm``).
* ``infer``: the A -> B generator's own predict function at ``--resolution`` x ``--resolution``, batch 1 and 16
  (``--infer-batch-sizes``).

FLOPs per image (``zoo.bench.count_flops``: convolutions and transposed convolutions; a multiply-add is 2;
normalization, activations, padding and the L1 terms are not counted), G, F, D_A and D_B each on one
256x256x3 image: G = F = 99.10 GFLOP, D_A = D_B = 6.29 GFLOP. Training FLOPs per (a, b) pair are the trainer's
own count (``CycleGAN.iteration_flops``; a backward pass costs 2x the forward for the networks being trained,
1x for the discriminators' input-gradient-only pass in the G step):

    G step: G and F 3 times each (fake, reconstruction, identity), forward + backward = 9 G + 9 F
            D_A, D_B on the fresh fakes, forward + input gradient                 = 2 D_A + 2 D_B
    D step: each D on a real and a pooled fake image, forward + backward           = 6 D_A + 6 D_B
    one iteration: 9 G + 9 F + 8 D_A + 8 D_B per pair (1.885 TFLOP at 256x256)

Every row's JSON carries ``flops_g`` (one generator) / ``flops_d`` (one discriminator), the formula and the
architecture. Sides must be divisible by 4.

``--peer`` (needs PyTorch): for each training batch size, the same iteration written in PyTorch from the
reference implementation's design (``benchmarks/peers/cyclegan_torch.py``, float32, NCHW, on the CPU unless
the Keras backend is on a GPU and PyTorch sees one) against zoo's, float32, in one process: 2 warm-up
iterations each, then ``--repeats`` rounds of [zoo x 2, peer x 2]; rows ``task="peer"`` with the medians
(``zoo_ms``, ``peer_ms``) and ``ratio`` = zoo / peer. Instance norm only (the reference's CycleGAN).

    python benchmarks/cyclegan.py --tiny                     # CPU smoke run (32x32, 1 block, 8 filters)
    python benchmarks/cyclegan.py --precision float32 mixed_bfloat16 --jit both --json out.jsonl
    python benchmarks/cyclegan.py --skip-infer --peer         # zoo against the PyTorch reference design
    python benchmarks/cyclegan.py --n-blocks 6 --resolution 128   # the paper's 128x128 network

``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402
from zoo.bench import peer  # noqa: E402

APP = "cyclegan"
FORMULA = "9 G + 9 F + 8 D_A + 8 D_B"
PEER = "cyclegan_torch"  # benchmarks/peers/


HELPS = {  # the shared flags, as this app reads them
    "resolution": "image side of the train and infer rows (divisible by 4)",
    "batch_sizes": "training batch sizes (space or comma separated); --peer compares at each",
    "infer_batch_sizes": "inference batch sizes",
    "repeats": "timed calls; the median, p10 and p90 are reported (--peer: rounds of 2 calls per side)",
    "threads": "CPU threads of the backend's ops and of --peer's PyTorch (default: the backend's own; the peer "
               "every core)",
}


def add_arguments(parser):
    parser.add_argument("--n-blocks", type=int, help="residual blocks of each generator (9: 256x256, 6: 128x128)")
    parser.add_argument("--filters", type=int, help="width of the generators' first convolution")
    parser.add_argument("--d-filters", type=int, help="width of the discriminators' first convolution")
    parser.add_argument("--norm", choices=("instance", "batch"), help="normalization of all four networks")
    parser.add_argument("--group-norm", action="store_true",
                        help="instance norm as Keras's GroupNormalization(groups=-1) instead of zoo's fused layer "
                             "(the plain Keras port), to measure what the fused layer buys")
    peer.add_argument(parser, "the reference's iteration")


DEFAULTS = dict(batch_sizes=[1, 8], infer_batch_sizes=[1, 16], resolution=256, n_blocks=9, filters=64,
                d_filters=64, norm="instance")
TINY = dict(batch_sizes=[1, 2], infer_batch_sizes=[1, 4], resolution=32, n_blocks=1, filters=8, d_filters=8)


# --------------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------------
def _configs(args):
    g_cfg = dict(n_blocks=args.n_blocks, filters=args.filters, norm=args.norm)
    d_cfg = dict(n_layers=3, filters=args.d_filters, norm=args.norm, channels=3)
    return g_cfg, d_cfg


_FLOPS = {}


def flop_counts(args, g, d):
    """Forward FLOPs per image of one generator and one discriminator, each on an image; counted once per
    process (the harness builds a workload per precision and jit)."""
    key = (args.resolution, args.n_blocks, args.filters, args.d_filters, args.norm)
    if key not in _FLOPS:
        x = np.zeros((1, args.resolution, args.resolution, 3), "float32")
        _FLOPS[key] = dict(g=bench.count_flops(g, x).total, d=bench.count_flops(d, x).total)
    return _FLOPS[key]


def build(args):
    """The workload, under the dtype policy the harness has set: train on unpaired (a, b) batches, infer the
    A -> B generator, both at ``--resolution``."""
    from zoo import layers
    from zoo.apps import cyclegan

    g_cfg, d_cfg = _configs(args)
    fused = layers.instance_norm
    if args.group_norm:  # every instance norm built below (make_norm looks it up in zoo.layers)
        layers.instance_norm = lambda affine=True, epsilon=1e-5, **kw: keras.layers.GroupNormalization(
            groups=-1, epsilon=epsilon, center=affine, scale=affine, **kw)
    try:
        pair = cyclegan.CycleGenerators(**g_cfg)
        d = {name: cyclegan.PatchDiscriminator(**d_cfg, name=name) for name in ("d_a", "d_b")}
    finally:
        layers.instance_norm = fused
    flops = flop_counts(args, pair.a_to_b, d["d_a"])
    r = args.resolution
    return bench.Workload(
        gan=cyclegan.CycleGAN(pair, d, image_size=r, seed=0),  # pools of 50
        network=pair.a_to_b,
        # a tuple: the harness calls train_on_batch(a, b); the trainer's iteration_flops counts on it
        train_batch=lambda n: (bench.synthetic_images(n, r, 3, seed=0), bench.synthetic_images(n, r, 3, seed=1)),
        infer_batch=lambda n: bench.synthetic_images(n, r, 3, seed=2),
        info={
            "architecture": dict(generator=g_cfg, discriminator=d_cfg, pool_size=50,
                                 instance_norm="GroupNormalization(groups=-1)" if args.group_norm else "zoo fused"),
            "generator_params": peer.trainable(pair.a_to_b), "discriminator_params": peer.trainable(d["d_a"]),
            "receptive_field": d["d_a"].receptive_field,
            "flops_g": flops["g"], "flops_d": flops["d"],
            "train_flops_formula": f"{FORMULA} per (a, b) pair (each network on {r}x{r}x3 images)",
        },
    )


# --------------------------------------------------------------------------------------------------------
def main(argv=None):
    parser = bench.make_parser(__doc__.splitlines()[0], helps=HELPS)
    add_arguments(parser)
    args = bench.parse_args(parser, argv, defaults=DEFAULTS, tiny=TINY)
    if args.n_blocks < 0 or args.filters < 1 or args.d_filters < 1:
        parser.error("--n-blocks must be >= 0, --filters and --d-filters >= 1")
    if args.resolution % 4:
        parser.error(f"--resolution {args.resolution} is not divisible by 4")
    if args.peer and args.norm != "instance":
        parser.error("--peer: the reference CycleGAN uses instance norm (--norm instance)")
    print(f"# cyclegan: two ResNet-{args.n_blocks} generators ({args.filters} filters) and two 70x70 PatchGANs "
          f"({args.d_filters} filters), {args.norm} norm, image pools of 50, synthetic data")
    r = args.resolution
    if not args.skip_train:
        print(f"# train: CycleGAN iteration on unpaired {r}x{r} (a, b) batches: G step on LSGAN + 10 cycle + 5 "
              f"identity L1, D step on pooled fakes; training FLOPs/pair = {FORMULA} (each on {r}x{r}x3)")
    if not args.skip_infer:
        print(f"# infer: {r}x{r} through the A -> B generator's predict function")
    return bench.exit_status(peer.run(args, build, APP, PEER))


if __name__ == "__main__":
    sys.exit(main())
