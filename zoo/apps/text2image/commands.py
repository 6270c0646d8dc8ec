"""The ``zoo text2image`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""


def add_commands(subparsers):
    from zoo.cli import add_generate_verb, add_truncation_flag

    verbs = subparsers.add_parser("text2image", help="flowers from a sentence (GAN-CLS / StackGAN stage I)"
                                  ).add_subparsers(dest="verb", required=True)
    g = add_generate_verb(verbs, "text2image", "write a grid (or one image) of flowers for sentences", _generate,
                          n=4, ncols=lambda args: max(args.n, 2) if args.walk is not None else args.n)
    g.add_argument("text", nargs="+", help="one or more sentences (quote each); -n images of each, one row each")
    g.add_argument("--walk", metavar="TEXT_B", default=None,
                   help="instead: a GAN-INT walk of -n steps from the (one) sentence to this one")
    add_truncation_flag(g, "latent vectors pulled toward the mean (images more typical of the sentence, less "
                           "varied)")


def _generate(model, args):
    import numpy as np

    if args.walk is not None:
        if len(args.text) != 1:
            raise ValueError("--walk goes from one sentence to another: give one sentence")
        return model.interpolate(args.text[0], args.walk, steps=max(args.n, 2), seed=args.seed or 0,
                                 truncation=args.truncation)
    return np.concatenate([model.generate(t, n=args.n, seed=args.seed, truncation=args.truncation)
                           for t in args.text])
