"""The ``zoo pix2pix`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""


def add_commands(subparsers):
    from zoo.cli import add_image_verb

    verbs = subparsers.add_parser("pix2pix", help="paired image-to-image translation (e.g. edges -> photo)"
                                  ).add_subparsers(dest="verb", required=True)
    t = add_image_verb(verbs, "pix2pix", "translate", "translate an image file",
                       lambda model, args: model.translate(args.input, fit=args.fit, side=args.side))
    t.add_argument("--fit", default="auto", choices=("auto", "pad", "resize"),
                   help="sizes the U-Net cannot take: resize to the training size and back (auto, the default, "
                        "and resize) or reflect-pad (pad; ghost shapes in the border)")
    t.add_argument("--side", default=None, choices=("left", "right"),
                   help="translate only this half of side-by-side AB files (the datasets' own format; "
                        "edges2shoes/edges2handbags have the photo left and the edges right: --side right)")
