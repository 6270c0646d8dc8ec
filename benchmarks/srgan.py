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
  1080x1920), batch 1: overlapping ``T`` x ``T`` LR windows (default 192, context ``overlap`` = the generator's
  default, its receptive radius capped at 48), run one at a time, stitched on the host. The row times the whole
  call (host-side stitching and NumPy conversion included); besides images/s it reports latency and output
  megapixels/s, the number of windows, and FLOPs of all windows (context included; ``tile_overhead`` = that /
  the untiled FLOPs). ``--tile 0`` runs the whole image at once through the same call.

The VGG19 content network has **random weights** by default (``--vgg-weights``): no ImageNet download is
attempted, and the compute is the same as with the ImageNet weights.

FLOPs per image (``zoo.bench.count_flops``: convolutions and dense layers; a multiply-add is 2). G is counted on
the LR crop, D and the VGG content network (V, to block5_conv4) on the HR crop. Training FLOPs per HR image
follow ``zoo.bench.gan_train_flops`` (a backward pass costs 2x the forward for the trained network, 1x for an
input-gradient-only pass) plus the content network, which gan_train_flops does not see:

    D step: G + 6 D          G step: 3 G + 2 D + 3 V (V on HR without gradient, V on SR forward + input-grad)
    SRGAN:  4 G + 8 D + 3 V            ESRGAN (RaGAN: the G step also runs D on the real HR): 4 G + 9 D + 3 V

Every row's JSON carries ``flops_g``/``flops_d``/``flops_vgg`` and the formula. ``resolution`` is the LR side
the generator sees (train: the LR crop; infer: ``--resolution``; tiled: "HxW"); ``lr_size``/``hr_size`` give both.

    python benchmarks/srgan.py --tiny                                   # CPU smoke run (blocks 2, filters 16)
    python benchmarks/srgan.py --precision float32 mixed_bfloat16 --jit both --json out.jsonl   # the issue's sweep
    python benchmarks/srgan.py --arch rrdb --skip-tiled                 # ESRGAN
    python benchmarks/srgan.py --skip-train --skip-infer --tile 256     # tiled 1080p rows only

``--skip-infer`` skips the ``infer`` rows only (``--skip-tiled`` the tiled ones). ``-h`` lists every flag.
"""
import copy
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo import bench  # noqa: E402

APP = "srgan"
ARCHES = {"srresnet_x4": ("srgan_x4", 24), "rrdb": ("esrgan_x4", 32)}  # --arch -> (CONFIGS preset, LR crop)
FORMULAS = {"srresnet_x4": "4 G + 8 D + 3 V", "rrdb": "4 G + 9 D + 3 V"}


def _hw(text):
    parts = text.lower().replace(",", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"expected HxW (e.g. 270x480), got {text!r}")
    return int(parts[0]), int(parts[1])


def add_arguments(parser):
    for action in parser._actions:  # the shared flags, as this app reads them
        if action.dest == "resolution":
            action.help = "LR side of the infer rows (output: 4x); training uses --lr-crop"
        elif action.dest == "skip_infer":
            action.help = "no infer rows (the tiled rows have --skip-tiled)"
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


DEFAULTS = dict(arch="srresnet_x4", batch_sizes=[16], resolution=128, blocks=None, filters=64, growth=32,
                vgg_weights="random", tiled_size=(270, 480), tile=192, tiled_batch_sizes=[1])
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


def _fixed(generator, size):
    """The generator behind a fixed ``size`` x ``size`` input: the same layers and weights (and compute), with
    the static input shape ``count_flops`` needs (the fully convolutional generator's is ``(None, None, 3)``)."""
    x = keras.Input((size, size, generator.channels), name="lr")
    return keras.Model(x, generator(x), name=f"{generator.name}_at_{size}")


def _vgg(args):
    from zoo.apps import srgan

    cfg = srgan.CONFIGS[ARCHES[args.arch][0]]
    weights = None if args.vgg_weights == "random" else args.vgg_weights
    return srgan.VGGFeatures(**cfg.content, weights=weights)


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
        extra_d = fd.total if args.arch == "rrdb" else 0  # RaGAN: D(real HR) in the G step, forward only
        train = bench.gan_train_flops(fg.total, fd.total, 1, extra=3 * fv.total + extra_d)
        _FLOPS[key] = dict(g=fg.total, d=fd.total, vgg=fv.total, g_per_lr_pixel=per_px, train=train,
                           uncounted=sorted(set(fg.uncounted + fd.uncounted + fv.uncounted)))
    return _FLOPS[key]


def _pairs(n, lr_size, seed=0):
    """(lr, hr) synthetic pairs in [-1, 1]."""
    return (bench.synthetic_images(n, lr_size, 3, seed=seed), bench.synthetic_images(n, 4 * lr_size, 3, seed=seed + 1))


def build(args):
    """The workload of one run (``args.phase``: "train" or "infer"), under the dtype policy the harness has set."""
    cfg, g_cfg, d_cfg = _config(args)
    generator = cfg.generator(**g_cfg)
    discriminator = cfg.discriminator(**d_cfg)
    vgg = _vgg(args) if args.phase == "train" else None
    flops = flop_counts(args, generator, discriminator, vgg)
    size = args.lr_crop if args.phase == "train" else args.resolution
    network = _fixed(generator, size)
    gan = cfg.trainer(network, discriminator, content=vgg, seed=0)
    if args.phase == "train":
        # The harness calls train_on_batch(batch); the SR trainers take train_on_batch(lr, hr).
        object.__setattr__(gan, "train_on_batch", lambda pair: type(gan).train_on_batch(gan, *pair))
    compile_kwargs = {} if args.pixel_weight is None else {"pixel_weight": args.pixel_weight}
    return bench.Workload(
        gan=gan,
        network=network,
        train_batch=lambda n: _pairs(n, args.lr_crop),
        infer_batch=lambda n: bench.synthetic_images(n, args.resolution, 3, seed=2),
        compile_kwargs=compile_kwargs,
        train_flops=flops["train"],
        infer_flops=round(flops["g_per_lr_pixel"] * size * size),
        info=_info(args, generator, discriminator, vgg, flops, size),
    )


def _info(args, generator, discriminator, vgg, flops, size):
    cfg, g_cfg, d_cfg = _config(args)
    info = {
        "arch": args.arch, "trainer": cfg.trainer.__name__,
        "architecture": dict(generator=dict(g_cfg), discriminator=dict(d_cfg), content=dict(cfg.content)),
        "lr_size": size if isinstance(size, (list, tuple)) else [size, size],
        "hr_size": [4 * s for s in (size if isinstance(size, (list, tuple)) else (size, size))],
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
# Tiled rows (the harness times square batches through a predict function; these time upscale(tile=...))
# --------------------------------------------------------------------------------------------------------
_EXEC = {"tensorflow": ("XLA", "tf.function"), "torch": ("torch.compile", "eager"), "jax": ("jax.jit", "eager")}


def _jit_settings(jit):
    return {"auto": ["auto"], "on": [True], "off": [False], "both": [False, True]}[jit]


def _emit(row, args, header):
    if header:
        print(bench.format_header())
    print(bench.format_row(row), flush=True)
    if row.get("status") == "ok":
        print(f"#   {row['lr_size'][0]}x{row['lr_size'][1]} -> {row['hr_size'][0]}x{row['hr_size'][1]}: "
              f"{row['latency_ms'] / 1e3:.3f} s per call of {row['batch_size']}, "
              f"{row['megapixels_per_s']:.3f} output MP/s; {row['windows_per_image']} windows/image "
              f"(tile {row['tile']}, overlap {row['overlap']}), {row['tile_overhead']:.2f}x the untiled FLOPs",
              flush=True)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "a") as f:
            f.write(json.dumps(row, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)) + "\n")


def run_tiled(args):
    """Time ``generator.upscale(x, tile=args.tile)`` on ``args.tiled_size`` LR images for each precision x jit."""
    env = bench.environment()
    h, w = args.tiled_size
    tile = args.tile or None
    print(f"# tiled: generator.upscale(x, tile={tile}) of {h}x{w} LR -> {4 * h}x{4 * w} images (float "
          f"input in [0, 1], NumPy output; host-side tiling and stitching included in the time)")
    rows, header = [], True
    for precision in args.precision:
        for jit in _jit_settings(args.jit):
            keras.backend.clear_session()
            bench.free_memory(reset_compiler=True)
            keras.config.set_dtype_policy(precision)
            basis = bench.peak_basis(precision, env)
            peak = bench.peak_tflops(env["device"] if env["accelerator"] != "cpu" else None, basis,
                                     args.device_peak_tflops)
            for n in args.tiled_batch_sizes:
                row = {
                    "schema": bench.SCHEMA, "app": APP, "task": "tiled", "batch_size": n, "resolution": f"{h}x{w}",
                    "precision": precision, "jit": jit if jit == "auto" else ("on" if jit else "off"),
                    "backend": env["backend"], "device": env["device"], "accelerator": env["accelerator"],
                    "host_cpu": env["host_cpu"], "cpu_count": env["cpu_count"], "versions": env["versions"],
                    "warmup": args.warmup, "repeats": args.repeats,
                    "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "peak_tflops": peak, "peak_basis": basis, "flops_counted": bench.COUNTED_SHORT,
                }
                try:
                    g = make_generator(args)
                    flops = flop_counts(args, g=g)
                    if jit != "auto":
                        g.jit_compile = jit
                    compiled = bool(g.jit_compile)
                    row.update(jit_compile=compiled, exec_mode=_EXEC.get(env["backend"], ("jit", "no jit"))[
                        0 if compiled else 1])
                    overlap = args.overlap if args.overlap is not None else min(g.receptive_radius(), g.MAX_OVERLAP)
                    row.update(_info(args, g, None, None, flops, (h, w)))
                    row.update(tile=tile, overlap=overlap, receptive_radius=g.receptive_radius())
                    if jit is True and not compiled:
                        raise NotImplementedError("jit_compile=True is not supported for this model on this backend")
                    g.make_predict_function(force=True)
                    x = np.random.default_rng(3).uniform(0.0, 1.0, (n, h, w, 3)).astype("float32")
                    bench.free_memory()
                    bench.reset_peak_memory()
                    # First call, untimed (it holds the compilation): record the windows upscale() runs.
                    windows, predict = [], g.predict_on_batch
                    object.__setattr__(g, "predict_on_batch",
                                       lambda b, w=windows, f=predict: (w.append(b.shape), f(b))[1])
                    t0 = time.perf_counter()
                    try:
                        g.upscale(x, tile=tile, overlap=args.overlap)
                    finally:
                        object.__delattr__(g, "predict_on_batch")
                    first = time.perf_counter() - t0
                    t = bench.time_calls(lambda g=g, x=x: g.upscale(x, tile=tile, overlap=args.overlap),
                                         max(args.warmup - 1, 0), args.repeats, bench.synchronize)
                    computed_px = sum(s[0] * s[1] * s[2] for s in windows) / n
                    per_image = round(flops["g_per_lr_pixel"] * computed_px)
                    untiled = flops["g_per_lr_pixel"] * h * w
                    med = t.median
                    mem = bench.peak_memory()
                    row.update({
                        "status": "ok", "time_median_s": med, "time_p10_s": t.p10, "time_p90_s": t.p90,
                        "times_s": t.times, "first_call_s": first, "images_per_s": n / med, "latency_ms": med * 1e3,
                        "megapixels_per_s": n * 16 * h * w / 1e6 / med, "output_megapixels": 16 * h * w / 1e6,
                        "windows_per_image": len(windows) // n if tile else 1,
                        "window_shapes": sorted({tuple(s[1:3]) for s in windows}),
                        "flops_per_image": per_image, "untiled_flops_per_image": round(untiled),
                        "tile_overhead": per_image / untiled, "infer_flops_per_image": per_image,
                        "train_flops_per_image": flops["train"], "flops_not_counted": flops["uncounted"],
                        "achieved_tflops": per_image * n / med / 1e12,
                        "peak_memory_bytes": mem[0], "memory_kind": mem[1],
                    })
                    row["peak_share"] = row["achieved_tflops"] / peak if peak else None
                except NotImplementedError as e:
                    row.update(status="unsupported", error=str(e))
                except Exception as e:
                    row.update(status="error", error=f"{type(e).__name__}: {e}")
                rows.append(row)
                _emit(row, args, header)
                header = False
    keras.backend.clear_session()
    keras.config.set_dtype_policy("float32")
    return rows


# --------------------------------------------------------------------------------------------------------
def main(argv=None):
    parser = bench.make_parser(__doc__.splitlines()[0])
    add_arguments(parser)
    args = bench.parse_args(parser, argv, defaults=DEFAULTS, tiny=TINY)
    if args.lr_crop is None:
        args.lr_crop = ARCHES[args.arch][1]
    if args.tile and args.tile < 0:
        parser.error("--tile must be >= 0")
    weights = "random weights (timing only: the same compute as ImageNet's)" if args.vgg_weights == "random" \
        else f"weights {args.vgg_weights}"
    print(f"# srgan --arch {args.arch}: content network VGG19 to block5_conv4 with {weights}")
    rows = []
    if not args.skip_train:
        a = copy.copy(args)
        a.phase, a.skip_infer, a.resolution = "train", True, args.lr_crop
        print(f"# train: {a.lr_crop}x{a.lr_crop} LR -> {4 * a.lr_crop}x{4 * a.lr_crop} HR crops; training "
              f"FLOPs/image = {FORMULAS[args.arch]} (G on LR, D and VGG V on HR)")
        rows += bench.run(a, build, APP)
    if not args.skip_infer:
        a = copy.copy(args)
        a.phase, a.skip_train = "infer", True
        print(f"# infer: {a.resolution}x{a.resolution} LR -> {4 * a.resolution}x{4 * a.resolution} through the "
              "generator's predict function")
        rows += bench.run(a, build, APP)
    if not args.skip_tiled:
        rows += run_tiled(args)
    return 1 if any(r.get("status") == "error" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
