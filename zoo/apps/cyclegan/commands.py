"""The ``zoo cyclegan`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""

DIRECTIONS = ("AtoB", "BtoA")  # networks.DIRECTIONS (tests/test_cli_fast.py checks they agree)


def add_commands(subparsers):
    from zoo.cli import add_image_verb

    verbs = subparsers.add_parser("cyclegan", help="unpaired image-to-image translation (e.g. edges <-> photo)"
                                  ).add_subparsers(dest="verb", required=True)
    t = add_image_verb(verbs, "cyclegan", "translate", "translate an image file",
                       lambda model, args: model.translate(args.input, direction=args.direction,
                                                           size=_cli_size(args.size)))
    t.add_argument("--direction", default="AtoB", choices=DIRECTIONS, help="AtoB (default) or BtoA")
    t.add_argument("--size", default="auto",
                   help='shorter side the network works at: "auto" (the preset\'s training size, default), '
                        '"native" (the image\'s own) or a number')


def _cli_size(size):
    if size == "auto":
        return "auto"
    if size == "native":
        return None
    try:
        return int(size)
    except ValueError:
        raise ValueError(f'--size must be "auto", "native" or a number, got {size!r}') from None
