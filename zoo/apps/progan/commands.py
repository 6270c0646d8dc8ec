"""The ``zoo progan`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""


def add_commands(subparsers):
    from zoo.cli import add_generate_verb, add_truncation_flag

    verbs = subparsers.add_parser("progan", help="faces of people who do not exist (progressive GAN)"
                                  ).add_subparsers(dest="verb", required=True)
    g = add_generate_verb(verbs, "progan", "write a grid (or one image) of generated faces", _generate)
    g.add_argument("--walk", type=int, metavar="SEED_B", default=None,
                   help="instead: a latent walk of -n steps from --seed to this seed")
    add_truncation_flag(g, "faces pulled toward the mean face (more typical, less varied; 0.7 is a common choice)")
    g.add_argument("--size", type=int, metavar="SIDE", default=None,
                   help="the preset that makes SIDExSIDE faces (64: celeba_64, 128: celeba_128); with --weights, "
                        "the architecture of that size")
    g.set_defaults(load_model=_by_size)


def _by_size(args):
    """``--size``: the preset whose generator makes faces of that side, as ``--preset`` (or ``--arch`` beside
    ``--weights``); then the usual loading (``zoo.cli.load_model``). Returns None: no model of its own."""
    if args.size is None:
        return None
    from zoo import weights

    sized = {p.config.get("resolution"): name for name, p in weights.declared("progan").items()}
    if args.size not in sized:
        raise ValueError(f"--size {args.size}: progan presets make faces of side {sorted(sized)}")
    name = sized[args.size]
    given = args.arch if args.weights else args.preset
    if given and given != name:
        raise ValueError(f"--size {args.size} is preset {name}, not {given}: give one of them")
    if args.weights:
        args.arch = name
    else:
        args.preset = name
    return None


def _generate(model, args):
    if args.walk is not None:
        return model.interpolate(args.seed or 0, args.walk, steps=args.n, truncation=args.truncation)
    return model.generate(args.n, seed=args.seed, truncation=args.truncation)
