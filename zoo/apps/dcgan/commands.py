"""The ``zoo dcgan`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""
import numpy as np


def add_commands(subparsers):
    from zoo.cli import add_generate_verb

    p = subparsers.add_parser("dcgan", help="digit GANs: generate samples from a preset")
    verbs = p.add_subparsers(dest="verb", required=True)
    g = add_generate_verb(verbs, "dcgan", "write a grid (or single image) of generated digits", _generate, n=64)
    g.add_argument("--labels", type=int, nargs="+", help="class(es) for the conditional preset (default 0-9 cycled)")


def _generate(gen, args):
    if args.labels and not gen.num_classes:
        raise ValueError("--labels: this generator is unconditional; drop --labels or use mnist_cdcgan")
    labels = None
    if gen.num_classes:
        labels = np.resize(np.asarray(args.labels if args.labels else np.arange(gen.num_classes)), args.n)
    return gen.generate(args.n, labels=labels, seed=args.seed)
