"""The ``zoo srgan`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""

#: ``networks._SRGenerator.AUTO_TILE_BYTES`` / ``AUTO_TILE``, for the help text (tests/test_cli_fast.py checks them).
AUTO_TILE_BYTES = 1 << 30
AUTO_TILE = 384


def add_commands(subparsers):
    from zoo.cli import Progress, add_image_verb

    verbs = subparsers.add_parser("srgan", help="super-resolution (SRResNet / SRGAN / ESRGAN)").add_subparsers(
        dest="verb", required=True)
    u = add_image_verb(verbs, "srgan", "upscale", "upscale an image file",
                       lambda model, args: model.upscale(args.input, tile=_tile(args.tile), progress=Progress(),
                                                         outscale=_outscale(args.outscale)))
    u.add_argument("--tile", type=int, default=None, help="tile size in LR pixels (bounded memory; default: "
                   f"whole images while that takes up to {AUTO_TILE_BYTES >> 20} MB beyond the model, e.g. "
                   f"220x220 LR pixels for srresnet_x4, and tiles that stay within it, at most {AUTO_TILE}, above)")
    u.add_argument("--outscale", type=float, default=None,
                   help="output size / input size, any number (e.g. 2, 3.5): the model's output resized with "
                        "Lanczos (default: the model's own scale)")
    u.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="a PyTorch .pth file instead of a preset: Real-ESRGAN (RealESRGAN_x4plus, _x2plus, "
                        "realesr-general-x4v3, realesr-animevideov3), ESRGAN (RRDB_ESRGAN_x4, RRDB_PSNR_x4), "
                        "leftthomas/SRGAN; read without running code from it")
    u.set_defaults(load_model=_checkpoint_model)


def _checkpoint_model(args):
    """``--checkpoint FILE``: the generator of a PyTorch file (``from_checkpoint``); None without the flag."""
    if not args.checkpoint:
        return None
    if args.preset or args.weights or args.arch:
        raise ValueError("give --checkpoint alone, not with --preset, --weights or --arch")
    from zoo.apps.srgan.checkpoints import from_checkpoint as load

    return load(args.checkpoint)


def _outscale(outscale):
    from zoo.checks import positive_number as check

    return None if outscale is None else check(outscale, "--outscale")


def _tile(tile):
    from zoo.checks import positive_int

    if tile is None:
        return "auto"
    return positive_int(tile, "--tile")
