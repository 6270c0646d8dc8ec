"""The ``zoo inpainting`` command. ``zoo.cli`` loads this file on its own, without the app package, so parsing
(``--help``, argument and path errors) needs neither Keras nor TensorFlow; keep its imports light."""
import os


def add_commands(subparsers):
    from zoo.cli import add_image_verb

    verbs = subparsers.add_parser("inpainting", help="fill holes in photos (free-form inpainting, DeepFill v2)"
                                  ).add_subparsers(dest="verb", required=True)
    f = add_image_verb(verbs, "inpainting", "fill", "fill the holes of an image marked by a mask image",
                       lambda model, args: model.inpaint(args.input, _mask_for(args.mask, args.input),
                                                         max_side=args.max_side or None,
                                                         max_depth="auto" if args.max_depth is None else
                                                         args.max_depth or None, blend=not args.no_blend))
    f.add_argument("--mask", required=True,
                   help="mask image (non-zero = hole) of the input's size; for several inputs one mask for all, or "
                        "a folder holding a mask with each input's file name")
    f.add_argument("--max-side", type=int, default=512,
                   help="fill images larger than this at this size (default 512; 0: native size)")
    f.add_argument("--max-depth", type=int, default=None,
                   help="fill holes deeper than this (pixels to the nearest known one) at a smaller scale "
                        "(default: the preset's training holes' deepest, 32 at 128x128, 64 for photos_256; "
                        "0: no limit)")
    f.add_argument("--no-blend", action="store_true",
                   help="paste the network's fill as it is (default: Poisson-blended into the image)")


def _mask_for(mask, image_path):
    """The CLI's mask for one input: the file itself, or the file of the same name (any extension) in a folder."""
    from zoo import data

    if not os.path.isdir(mask):
        return mask
    stem = os.path.splitext(os.path.basename(image_path))[0]
    found = [f for f in data.list_images(mask) if os.path.splitext(os.path.basename(f))[0] == stem]
    if not found:
        raise FileNotFoundError(f"no mask named {stem}.* in {mask}")
    return found[0]
