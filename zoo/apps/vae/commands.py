"""The ``zoo vae`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""
import numpy as np


def add_commands(subparsers):
    from zoo.cli import add_image_verb, add_model_flags

    p = subparsers.add_parser("vae", help="digit autoencoders and VAEs: sample, reconstruct, interpolate")
    verbs = p.add_subparsers(dest="verb", required=True)
    s = verbs.add_parser("sample", aliases=["generate"], help="write a grid of digits decoded from N(0, I) codes")
    s.add_argument("-o", "--output", required=True, help="image file (.png, .jpg, .webp, .bmp, .tif)")
    s.add_argument("-n", type=int, default=64, help="number of images (default 64)")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--labels", type=int, nargs="+", help="class(es) for the conditional preset (default 0-9 cycled)")
    add_model_flags(s, "vae")
    s.set_defaults(func=_sample_verb)
    r = add_image_verb(verbs, "vae", "reconstruct", "images through the code and back (at 28x28, grey)",
                       _reconstruct)
    r.add_argument("--label", type=int, default=None, help="the class, for the conditional preset")
    i = verbs.add_parser("interpolate", help="decode the line between the codes of two images; writes a strip")
    i.add_argument("a", help="image at one end")
    i.add_argument("b", help="image at the other end")
    i.add_argument("-o", "--output", required=True, help="image file (.png, .jpg, .webp, .bmp, .tif)")
    i.add_argument("--steps", type=int, default=8, help="images in the strip, ends included (default 8)")
    i.add_argument("--label", type=int, default=None, help="the class, for the conditional preset")
    add_model_flags(i, "vae")
    i.set_defaults(func=_interpolate_verb)


def _sample_verb(args):
    from zoo import images
    from zoo.cli import check_output, load_model

    check_output(args.output)
    if args.n < 1:
        raise ValueError(f"-n must be >= 1, got {args.n}")
    net = load_model("vae", args)
    if args.labels and not net.num_classes:
        raise ValueError("--labels: this preset is unconditional; drop --labels or use mnist_cvae")
    labels = None
    if net.num_classes:
        labels = np.resize(np.asarray(args.labels if args.labels else np.arange(net.num_classes)), args.n)
    out = net.generate(args.n, labels=labels, seed=args.seed)
    images.save_image(args.output, images.grid(out) if len(out) > 1 else out[0])
    print(args.output)


def _reconstruct(net, args):
    return net.reconstruct(args.input, labels=args.label)


def _interpolate_verb(args):
    import os

    from zoo import images
    from zoo.cli import check_output, load_model

    check_output(args.output, args.a, args.b)
    for path in (args.a, args.b):
        if not os.path.exists(path):
            raise FileNotFoundError(f"image file not found: {path}")
    net = load_model("vae", args)
    strip = net.interpolate(args.a, args.b, steps=args.steps, labels=args.label)
    images.save_image(args.output, images.grid(strip, ncols=len(strip)))
    print(args.output)
