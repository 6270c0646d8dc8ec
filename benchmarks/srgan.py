"""SRGAN / ESRGAN benchmark: one full SRGAN training iteration, generator inference, and tiled 1080p upscaling.

Three kinds of rows (``zoo.apps.srgan``; Ledig et al. 2017, Wang et al. 2018), all on synthetic in-memory data:

* ``train``: one full adversarial iteration of the ``SRGAN`` trainer (``--arch srresnet_x4``, the default) on
  ``(lr, hr)`` pairs: a D step, then a G step on the paper's SRGAN-VGG54 objective (VGG19 content loss at
  ``block5_conv4`` + 1e-3 adversarial; ``--pixel-weight`` adds the MSE term), Adam 1e-4. Batch 16 of 24x24 LR /
  96x96 HR crops, the paper's setting, with the paper's discriminator (``SRGANDiscriminator(hr_size=96)``: eight
  convolutions, flatten, dense 1024, dense 1). ``--arch rrdb``: ``RRDBNet`` with the ``ESRGAN`` trainer
  (1e-2 L1 + VGG54-before-activation L1 + 5e-3 RaGAN) and ESRGAN's discriminator; its crops default to the
  ESRGAN paper's 32x32 LR / 128x128 HR.
* ``infer``: the generator's own predict function at ``--resolution`` x ``--resolution`` LR (128 -> 512x512
  output), batch 1 and 16 (``--infer-batch-sizes``).
* ``tiled``: the user's call ``generator.upscale(x, tile=T)`` on a 1080p output (``--tiled-size 270x480`` LR ->
  1080x1920), batch 1: overlapping ``T`` x ``T`` LR windows (default 384, the window ``upscale(tile="auto")``
  uses for large images; context ``overlap`` = the generator's default, its receptive radius capped at 48), run
  one at a time, stitched on the host. The row times the whole
  call (host-side stitching and NumPy conversion included); besides images/s it reports latency and output
  megapixels/s, the number of windows, and FLOPs of all windows (context included; ``tile_overhead`` = that /
  the untiled FLOPs). ``--tile 0`` runs the whole image at once through the same call.

The VGG19 content network has **random weights** by default (``--vgg-weights``): no ImageNet download is
attempted, and the compute is the same as with the ImageNet weights.

FLOPs per image (``zoo.bench.count_flops``: convolutions and dense layers; a multiply-add is 2). G is counted on
the LR crop, D and the VGG content network (V, to block5_conv4) on the HR crop. Training FLOPs per HR image are
the trainer's own count (``SRGAN.iteration_flops``: a backward pass costs 2x the forward for the trained
network, 1x for an input-gradient-only pass; G runs forward once per iteration):

    D step: G + 6 D          G step: 2 G + 2 D + 3 V (V on HR without gradient, V on SR forward + input-grad)
    SRGAN:  3 G + 8 D + 3 V            ESRGAN (RaGAN: the G step also runs D on the real HR): 3 G + 9 D + 3 V

Every row's JSON carries ``flops_g``/``flops_d``/``flops_vgg`` and the formula. ``resolution`` is the LR side
the generator sees (train: the LR crop; infer: ``--resolution``; tiled: "HxW"); ``lr_size``/``hr_size`` give both.

    python benchmarks/srgan.py --tiny                                   # CPU smoke run (blocks 2, filters 16)
    python benchmarks/srgan.py --precision float32 mixed_bfloat16 --jit both --json out.jsonl   # the issue's sweep
    python benchmarks/srgan.py --arch rrdb --skip-tiled                 # ESRGAN
    python benchmarks/srgan.py --skip-train --skip-infer --tile 256     # tiled 1080p rows only

``--skip-infer`` skips the ``infer`` rows only (``--skip-tiled`` the tiled ones). ``-h`` lists every flag.

``--peer`` (needs PyTorch; ``--arch srresnet_x4``): the train and infer rows written in PyTorch
(``benchmarks/peers/srgan_torch.py``: zoo's SRResNet, discriminator, VGG19 content network and SRGAN iteration,
layer for layer, in the style of the reference PyTorch SRGAN code), alternated with zoo's float32 rows in this
process (``zoo.bench.peer``); rows ``task="peer"`` with ``zoo_ms``, ``peer_ms`` and ``ratio``.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402
from zoo.bench import peer  # noqa: E402

APP = "srgan"
ARCHES = {"srresnet_x4": ("srgan_x4", 24), "rrdb": ("esrgan_x4", 32)}  # --arch -> (CONFIGS preset, LR crop)
FORMULAS = {"srresnet_x4": "3 G + 8 D + 3 V", "rrdb": "3 G + 9 D + 3 V"}
PEER = "srgan_torch"  # benchmarks/peers/


def _hw(text):
    parts = text.lower().replace(",", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"expected HxW (e.g. 270x480), got {text!r}")
    return int(parts[0]), int(parts[1])


HELPS = {  # the shared flags, as this app reads them
    "resolution": "LR side of the infer rows (output: 4x); training uses --lr-crop",
    "skip_infer": "no infer rows (the tiled rows have --skip-tiled)",
}


def add_arguments(parser):
    parser.add_argument("--arch", choices=sorted(ARCHES),
                        help="srresnet_x4: SRResNet + SRGAN trainer; rrdb: RRDBNet + ESRGAN trainer (RaGAN)")
    parser.add_argument("--lr-crop", type=int, help="training LR crop side; HR = 4x (default: 24 for srresnet_x4, "
                                                    "the SRGAN paper's; 32 for rrdb, ESRGAN's)")
    parser.add_argument("--blocks", type=int, help="generator blocks (paper: 16 residual / 23 RRDB)")
    parser.add_argument("--filters", type=int, help="generator trunk and discriminator first-stage width (64)")
    parser.add_argument("--growth", type=int, help="RRDB dense-block growth channels (32; rrdb only)")
    parser.add_argument("--pixel-weight", type=float,
                        help="weight of the pixel term (default: the trainer's GAN phase: 0 SRGAN, 1e-2 ESRGAN)")
    parser.add_argument("--vgg-weights", help="content network weights: random (timing only, the default) or "
                                              "imagenet or a .h5 path")
    parser.add_argument("--tiled-size", type=_hw, metavar="HxW", help="LR size of the tiled rows (270x480 -> 1080p)")
    parser.add_argument("--tile", type=int, help="tile side in LR pixels for the tiled rows (0: whole image)")
    parser.add_argument("--overlap", type=int, help="tile context in LR pixels (default: upscale()'s, the "
                                                    "receptive radius up to 48)")
    parser.add_argument("--tiled-batch-sizes", nargs="+", type=int, metavar="N", help="images per tiled call")
    parser.add_argument("--skip-tiled", action="store_true", help="no tiled rows")
    peer.add_argument(parser, "the train and infer rows")


DEFAULTS = dict(arch="srresnet_x4", batch_sizes=[16], resolution=128, blocks=None, filters=64, growth=32,
                vgg_weights="random", tiled_size=(270, 480), tile=384, tiled_batch_sizes=[1])
TINY = dict(batch_sizes=[4], resolution=16, lr_crop=8, blocks=2, filters=16, growth=8, tiled_size=(40, 120),
            tile=80)


# --------------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------------
def _config(args):
    from zoo.apps import srgan

    cfg = srgan.CONFIGS[ARCHES[args.arch][0]]
    g_cfg = dict(cfg.generator_config, filters=args.filters)
    if args.blocks:
        g_cfg["blocks"] = args.blocks
    if args.arch == "rrdb":
        g_cfg["growth"] = args.growth
    d_cfg = dict(cfg.discriminator_config, filters=args.filters, hr_size=4 * args.lr_crop)
    return cfg, g_cfg, d_cfg


def make_generator(args):
    cfg, g_cfg, _ = _config(args)
    return cfg.generator(**g_cfg)


def _vgg(args):
    from zoo.apps import srgan

    cfg = srgan.CONFIGS[ARCHES[args.arch][0]]
    weights = None if args.vgg_weights == "random" else args.vgg_weights
    return srgan.VGGFeatures(**cfg.companions["content"], weights=weights)


_FLOPS = {}


def flop_counts(args, g=None, d=None, vgg=None):
    """Forward FLOPs per image of G (on the LR crop), D and V (on the HR crop) and of G per LR pixel; counted
    once per process (the harness builds a workload per precision and jit)."""
    key = (args.arch, args.lr_crop, args.blocks, args.filters, args.growth)
    if key not in _FLOPS:
        c = args.lr_crop
        g = g or make_generator(args)
        d = d or _config(args)[0].discriminator(**_config(args)[2])
        vgg = vgg or _vgg(args)
        fg = bench.count_flops(g, np.zeros((1, c, c, 3), "float32"))
        fd = bench.count_flops(d)
        fv = bench.count_flops(vgg, np.zeros((1, 4 * c, 4 * c, 3), "float32"))
        # All counted layers of the generator are "same"-padded convolutions: FLOPs are linear in LR pixels.
        per_px = bench.count_flops(g, np.zeros((1, 8, 8, 3), "float32")).total / 64
        _FLOPS[key] = dict(g=fg.total, d=fd.total, vgg=fv.total, g_per_lr_pixel=per_px,
                           uncounted=sorted(set(fg.uncounted + fd.uncounted + fv.uncounted)))
    return _FLOPS[key]


def _pairs(n, lr_size, seed=0):
    """(lr, hr) synthetic pairs in [-1, 1]."""
    return (bench.synthetic_images(n, lr_size, 3, seed=seed), bench.synthetic_images(n, 4 * lr_size, 3, seed=seed + 1))


def _sizes(lr):
    """``lr_size`` / ``hr_size`` fields of an LR side (int) or (H, W)."""
    lr = list(lr) if isinstance(lr, (list, tuple)) else [lr, lr]
    return {"lr_size": lr, "hr_size": [4 * s for s in lr]}


def build(args):
    """The workload, under the dtype policy the harness has set: train on (lr, hr) pairs, infer at
    ``--resolution``, and the tiled rows as an extra task."""
    cfg, g_cfg, d_cfg = _config(args)
    generator = cfg.generator(**g_cfg)
    discriminator = cfg.discriminator(**d_cfg)
    vgg = _vgg(args) if not args.skip_train else None
    flops = flop_counts(args, generator, discriminator, vgg)
    gan = cfg.trainer(generator, discriminator, content=vgg, seed=0)
    compile_kwargs = {} if args.pixel_weight is None else {"pixel_weight": args.pixel_weight}
    h, w = args.tiled_size
    return bench.Workload(
        gan=gan,
        network=generator,
        train_batch=lambda n: _pairs(n, args.lr_crop),  # a tuple: the harness calls train_on_batch(lr, hr)
        infer_batch=lambda n: bench.synthetic_images(n, args.resolution, 3, seed=2),
        compile_kwargs=compile_kwargs,
        infer_flops=round(flops["g_per_lr_pixel"] * args.resolution * args.resolution),
        info=_info(args, generator, discriminator, vgg, flops),
        task_fields={"train": {"resolution": args.lr_crop, **_sizes(args.lr_crop)},
                     "infer": _sizes(args.resolution),
                     "tiled": {"resolution": f"{h}x{w}", **_sizes((h, w))}},
        tasks=[] if args.skip_tiled else [tiled_task(args, flops)],
    )


def _info(args, generator, discriminator, vgg, flops):
    cfg, g_cfg, d_cfg = _config(args)
    info = {
        "arch": args.arch, "trainer": cfg.trainer.__name__,
        "architecture": dict(generator=dict(g_cfg), discriminator=dict(d_cfg), content=dict(cfg.companions["content"])),
        "train_lr_crop": args.lr_crop, "train_hr_crop": 4 * args.lr_crop,
        "generator_params": generator.count_params(),
        "vgg_weights": args.vgg_weights,
        "flops_g": flops["g"], "flops_d": flops["d"], "flops_vgg": flops["vgg"],
        "flops_g_per_lr_pixel": flops["g_per_lr_pixel"],
        "train_flops_formula": f"{FORMULAS[args.arch]} per HR image (G at {args.lr_crop}x{args.lr_crop} LR; D, V "
                               f"at {4 * args.lr_crop}x{4 * args.lr_crop} HR; V = VGG19 to block5_conv4)",
    }
    if discriminator is not None:
        info["discriminator_params"] = discriminator.count_params()
    if vgg is not None:
        info["vgg_params"] = vgg.count_params()
    return info


# --------------------------------------------------------------------------------------------------------
# Tiled rows: an extra task of the workload, timing the user's call generator.upscale(x, tile=...)
# --------------------------------------------------------------------------------------------------------
def tiled_task(args, flops):
    """A :class:`zoo.bench.Task` timing ``generator.upscale(x, tile=args.tile)`` on ``args.tiled_size`` LR
    images (a fresh generator per row, under the harness's dtype policy and jit setting). The first call (the
    harness's first warm-up call) records the windows upscale() runs, for the FLOPs and window fields."""
    h, w = args.tiled_size
    tile = args.tile or None
    state = {}

    def make_fn(n, jit):
        g = make_generator(args)
        if jit != "auto":
            g.jit_compile = jit
        compiled = bool(g.jit_compile)
        overlap = args.overlap if args.overlap is not None else min(g.receptive_radius(), g.MAX_OVERLAP)
        state.clear()
        state.update(n=n, windows=None, overlap=overlap, radius=g.receptive_radius())
        g.make_predict_function(force=True)
        x = np.random.default_rng(3).uniform(0.0, 1.0, (n, h, w, 3)).astype("float32")

        def call():
            if state["windows"] is not None:
                return g.upscale(x, tile=tile, overlap=args.overlap)
            windows, predict = [], g.predict_on_batch
            object.__setattr__(g, "predict_on_batch", lambda b: (windows.append(b.shape), predict(b))[1])
            try:
                return g.upscale(x, tile=tile, overlap=args.overlap)
            finally:
                object.__delattr__(g, "predict_on_batch")
                state["windows"] = windows

        return call, compiled

    def per_image():
        return round(flops["g_per_lr_pixel"] * sum(s[0] * s[1] * s[2] for s in state["windows"]) / state["n"])

    def fields(row):
        n, windows = state["n"], state["windows"]
        untiled = flops["g_per_lr_pixel"] * h * w
        return {
            "tile": tile, "overlap": state["overlap"], "receptive_radius": state["radius"],
            "megapixels_per_s": n * 16 * h * w / 1e6 / row["time_median_s"], "output_megapixels": 16 * h * w / 1e6,
            "windows_per_image": len(windows) // n if tile else 1,
            "window_shapes": sorted({tuple(s[1:3]) for s in windows}),
            "untiled_flops_per_image": round(untiled), "tile_overhead": row["flops_per_image"] / untiled,
            "infer_flops_per_image": row["flops_per_image"],
        }

    def note(row):
        return (f"{row['lr_size'][0]}x{row['lr_size'][1]} -> {row['hr_size'][0]}x{row['hr_size'][1]}: "
                f"{row['latency_ms'] / 1e3:.3f} s per call of {row['batch_size']}, "
                f"{row['megapixels_per_s']:.3f} output MP/s; {row['windows_per_image']} windows/image "
                f"(tile {row['tile']}, overlap {row['overlap']}), {row['tile_overhead']:.2f}x the untiled FLOPs")

    return bench.Task("tiled", args.tiled_batch_sizes, make_fn, per_image, fields, note)


# --------------------------------------------------------------------------------------------------------
def main(argv=None):
    parser = bench.make_parser(__doc__.splitlines()[0], helps=HELPS)
    add_arguments(parser)
    args = bench.parse_args(parser, argv, defaults=DEFAULTS, tiny=TINY)
    if args.lr_crop is None:
        args.lr_crop = ARCHES[args.arch][1]
    if args.tile and args.tile < 0:
        parser.error("--tile must be >= 0")
    weights = "random weights (timing only: the same compute as ImageNet's)" if args.vgg_weights == "random" \
        else f"weights {args.vgg_weights}"
    print(f"# srgan --arch {args.arch}: content network VGG19 to block5_conv4 with {weights}")
    if not args.skip_train:
        print(f"# train: {args.lr_crop}x{args.lr_crop} LR -> {4 * args.lr_crop}x{4 * args.lr_crop} HR crops; "
              f"training FLOPs/image = {FORMULAS[args.arch]} (G on LR, D and VGG V on HR)")
    if not args.skip_infer:
        print(f"# infer: {args.resolution}x{args.resolution} LR -> {4 * args.resolution}x{4 * args.resolution} "
              "through the generator's predict function")
    if not args.skip_tiled:
        h, w = args.tiled_size
        print(f"# tiled: generator.upscale(x, tile={args.tile or None}) of {h}x{w} LR -> {4 * h}x{4 * w} images "
              "(float input in [0, 1], NumPy output; host-side tiling and stitching included in the time)")
    if args.peer and args.arch != "srresnet_x4":
        parser.error("--peer: the PyTorch peer is SRGAN's (--arch srresnet_x4)")
    return bench.exit_status(peer.run(args, build, APP, PEER))


if __name__ == "__main__":
    sys.exit(main())
