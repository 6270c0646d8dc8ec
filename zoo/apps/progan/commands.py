"""The ``zoo progan`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""


def add_commands(subparsers):
    from zoo.cli import add_generate_verb

    verbs = subparsers.add_parser("progan", help="faces of people who do not exist (progressive GAN)"
                                  ).add_subparsers(dest="verb", required=True)
    g = add_generate_verb(verbs, "progan", "write a grid (or one image) of generated faces", _generate)
    g.add_argument("--walk", type=int, metavar="SEED_B", default=None,
                   help="instead: a latent walk of -n steps from --seed to this seed")


def _generate(model, args):
    if args.walk is not None:
        return model.interpolate(args.seed or 0, args.walk, steps=args.n)
    return model.generate(args.n, seed=args.seed)
