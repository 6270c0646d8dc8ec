"""pix2pix benchmark: one full Pix2Pix training iteration and U-Net generator inference.

Three kinds of rows (``zoo.apps.pix2pix``; Isola et al. 2017), all on synthetic in-memory images:

* ``train``: one full iteration of the ``Pix2Pix`` trainer on ``(input, target)`` pairs: a D step on
  ``concat(input, target)`` (real) and ``concat(input, G(input))`` (fake), then a G step through D on the
  cGAN loss + 100 x L1 (the paper's objective; Adam 2e-4, beta_1 0.5). Batch 1 (the paper's) and 16 at
  256x256 by default (``--batch-sizes``). Networks: the ``edges2shoes_handbags`` preset's, unet_256 (``--depth
  8``, 64 filters, batch norm, dropout 0.5; 54,413,955 trainable parameters) and the 70x70 PatchGAN
  (``--n-layers 3``, 64 filters, batch norm, 6 input channels; 2,768,705), both in training mode as the paper
  trains them (batch statistics).
* ``infer``: the generator's own predict function (inference mode: moving statistics, no dropout) at
  ``--resolution`` x ``--resolution``, batch 1 and 32 (``--infer-batch-sizes``).
* ``translate``: the user's call ``generator.translate(x, stats="image")`` (each image normalised by its own
  batch-norm statistics, the presets' default; one compiled call per batch) on float images in [0, 1], NumPy in
  and out, at the infer rows' batch sizes (``--skip-translate``).

FLOPs per image (``zoo.bench.count_flops``: convolutions and transposed convolutions; a multiply-add is 2;
normalization, activations, dropout and the L1 term are not counted). G is counted on the 256x256x3 input, D on
the 256x256x6 pair. Training FLOPs per image are the trainer's own count (``Pix2Pix.iteration_flops``; a
backward pass costs 2x the forward for the network being trained, 1x for D's input-gradient-only pass in the G
step; G runs forward once per iteration, its fakes shared by both steps):

    D step: G forward + 2 x 3 D (real and fake pairs, forward + backward) = G + 6 D
    G step: 2 G (backward) + 2 D (D forward + input gradient)          one iteration: 3 G + 8 D per image

Every row's JSON carries ``flops_g``/``flops_d``, the formula and the architecture. Inputs must have sides
divisible by ``2**depth`` (256 for unet_256).

    python benchmarks/pix2pix.py --tiny                                   # CPU smoke run (32x32, depth 5, filters 8)
    python benchmarks/pix2pix.py --precision float32 mixed_bfloat16 --jit both --json out.jsonl   # the issue's sweep
    python benchmarks/pix2pix.py --skip-train --infer-batch-sizes 1 8 32  # inference only
    python benchmarks/pix2pix.py --depth 7 --resolution 128               # unet_128
    python benchmarks/pix2pix.py --peer only --batch-sizes 1 --infer-batch-sizes 1 8   # zoo against PyTorch

``--peer`` (needs PyTorch): the same rows written in PyTorch from the reference implementation's design
(``benchmarks/peers/pix2pix_torch.py``: ``UnetGenerator``, ``NLayerDiscriminator``, ``optimize_parameters``;
``translate``: its ``test.py``, one image at a time on that image's statistics), alternated with zoo's float32
rows in this process (``zoo.bench.peer``); rows ``task="peer"`` with ``zoo_ms``, ``peer_ms`` and ``ratio``.
Batch norm only (the reference's pix2pix).

``-h`` lists every flag.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402
from zoo.bench import peer  # noqa: E402

APP = "pix2pix"
PRESET = "edges2shoes_handbags"  # the architecture timed by default (unet_256 + 70x70 PatchGAN, batch norm)
FORMULA = "3 G + 8 D"
PEER = "pix2pix_torch"  # benchmarks/peers/


HELPS = {  # the shared flags, as this app reads them
    "resolution": "image side of the train and infer rows (divisible by 2**depth)",
    "batch_sizes": "training batch sizes (space or comma separated)",
    "infer_batch_sizes": "inference batch sizes",
}


def add_arguments(parser):
    parser.add_argument("--depth", type=int, help="U-Net encoder blocks (8: unet_256, 7: unet_128)")
    parser.add_argument("--filters", type=int, help="width of G's first block and D's first convolution")
    parser.add_argument("--n-layers", type=int, help="PatchGAN stride-2 convolutions (3: 70x70; 0: PixelGAN)")
    parser.add_argument("--norm", choices=("batch", "instance"), help="normalization of both networks")
    parser.add_argument("--skip-translate", action="store_true", help="no translate rows")
    peer.add_argument(parser, "the reference's rows")


DEFAULTS = dict(batch_sizes=[1, 16], infer_batch_sizes=[1, 32], resolution=256, depth=8, filters=64, n_layers=3,
                norm="batch")
TINY = dict(batch_sizes=[1, 2], infer_batch_sizes=[1, 4], resolution=32, depth=5, filters=8)


# --------------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------------
def _configs(args):
    """Generator and discriminator constructor arguments: the preset's, with the flags' changes."""
    from zoo.apps import pix2pix

    cfg = pix2pix.CONFIGS[PRESET]
    g_cfg = dict(cfg.generator_config, depth=args.depth, filters=args.filters, norm=args.norm)
    d_cfg = dict(cfg.discriminator_config, n_layers=args.n_layers, filters=args.filters, norm=args.norm,
                 channels=g_cfg["in_channels"] + g_cfg["out_channels"])
    return g_cfg, d_cfg


_FLOPS = {}


def flop_counts(args, g, d):
    """Forward FLOPs per image of G (on the input image) and D (on the input/output pair), for the rows' fields;
    counted once per process (the harness builds a workload per precision and jit)."""
    key = (args.resolution, args.depth, args.filters, args.n_layers, args.norm)
    if key not in _FLOPS:
        r = args.resolution
        fg = bench.count_flops(g, np.zeros((1, r, r, g.in_channels), "float32"))
        fd = bench.count_flops(d, np.zeros((1, r, r, g.in_channels + g.out_channels), "float32"))
        _FLOPS[key] = dict(g=fg.total, d=fd.total)
    return _FLOPS[key]


def _pairs(n, size, seed=0):
    """(input, target) synthetic pairs in [-1, 1]."""
    return bench.synthetic_images(n, size, 3, seed=seed), bench.synthetic_images(n, size, 3, seed=seed + 1)


def build(args):
    """The workload, under the dtype policy the harness has set: train on (input, target) pairs, infer the
    generator, both at ``--resolution``."""
    from zoo.apps import pix2pix

    g_cfg, d_cfg = _configs(args)
    generator = pix2pix.UNetGenerator(**g_cfg)
    discriminator = pix2pix.PatchDiscriminator(**d_cfg)
    flops = flop_counts(args, generator, discriminator)
    gan = pix2pix.Pix2Pix(generator, discriminator, seed=0)
    r = args.resolution
    return bench.Workload(
        gan=gan,
        network=generator,
        train_batch=lambda n: _pairs(n, r),  # a tuple: the harness calls train_on_batch(input, target)
        infer_batch=lambda n: bench.synthetic_images(n, r, 3, seed=2),
        # FLOPs: infer = G on infer_batch(1); train = the trainer's iteration_flops (G and D on what it feeds
        # them: D on concat(input, target), 6 channels): 3 G + 8 D (= the info fields).
        tasks=[] if args.skip_translate else [translate_task(generator, args, flops["g"])],
        info={
            "architecture": dict(generator=g_cfg, discriminator=d_cfg),
            "generator_params": peer.trainable(generator), "discriminator_params": peer.trainable(discriminator),
            "receptive_field": discriminator.receptive_field,
            "flops_g": flops["g"], "flops_d": flops["d"],
            "train_flops_formula": f"{FORMULA} per image (G on {r}x{r}x{g_cfg['in_channels']}, D on "
                                   f"{r}x{r}x{d_cfg['channels']} input/output pairs)",
        },
    )


def translate_task(generator, args, flops_g):
    """A :class:`zoo.bench.Task` timing the user's call ``generator.translate(x, stats="image")`` (each image
    normalised by its own statistics, the presets' default; one compiled call per batch) on float images in
    [0, 1] at ``--resolution``, NumPy in and out (the conversions included), batch sizes of the infer rows."""
    def make_fn(n, jit):
        x = np.random.default_rng(4).uniform(0.0, 1.0, (n, args.resolution, args.resolution, 3)).astype("float32")
        return (lambda: generator.translate(x, stats="image")), None

    return bench.Task("translate", args.infer_batch_sizes, make_fn, flops_g)


# --------------------------------------------------------------------------------------------------------
def main(argv=None):
    parser = bench.make_parser(__doc__.splitlines()[0], helps=HELPS)
    add_arguments(parser)
    args = bench.parse_args(parser, argv, defaults=DEFAULTS, tiny=TINY)
    if args.depth < 2 or args.filters < 1 or args.n_layers < 0:
        parser.error("--depth must be >= 2, --filters >= 1, --n-layers >= 0")
    if args.resolution % 2**args.depth:
        parser.error(f"--resolution {args.resolution} is not divisible by 2**depth = {2**args.depth}")
    unet = {8: "unet_256", 7: "unet_128"}.get(args.depth, f"U-Net depth {args.depth}")
    d_name = {0: "1x1 PixelGAN", 1: "16x16 PatchGAN", 2: "34x34 PatchGAN", 3: "70x70 PatchGAN"}.get(
        args.n_layers, f"PatchGAN n_layers={args.n_layers}")
    print(f"# pix2pix: {unet} generator and {d_name} discriminator on input/output pairs (6 channels), "
          f"{args.filters} filters, {args.norm} norm, synthetic data")
    r = args.resolution
    if not args.skip_train:
        print(f"# train: Pix2Pix iteration on {r}x{r} (input, target) pairs: D step on (x, y) and (x, G(x)), G step "
              f"on cGAN + 100 L1; training FLOPs/image = {FORMULA} (G on {r}x{r}x3, D on {r}x{r}x6)")
    if not args.skip_infer:
        print(f"# infer: {r}x{r} through the generator's predict function (moving statistics, no dropout)")
    if not args.skip_translate:
        print(f"# translate: generator.translate(x, stats='image') of {r}x{r} float images in [0, 1] (each image "
              "normalised by its own statistics; NumPy in and out)")
    if args.peer and args.norm != "batch":
        parser.error("--peer: the reference pix2pix uses batch norm (--norm batch)")
    return bench.exit_status(peer.run(args, build, APP, PEER))


if __name__ == "__main__":
    sys.exit(main())
