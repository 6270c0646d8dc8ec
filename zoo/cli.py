"""The ``zoo`` command.

    zoo demo [-o gallery/]            run every app that has shipped weights; PNG grid per app + index.html
    zoo presets                       list shipped presets with their measured metrics
    zoo export <app> -o model.onnx    a generator as a SavedModel, LiteRT or ONNX model (``zoo.export``)
    zoo <app> <verb> ...              per-app commands, e.g. ``zoo dcgan generate -o digits.png --labels 7``

Apps join the command by defining ``add_commands(subparsers)`` and ``demo(outdir)`` in their package
(``zoo/apps/<app>/__init__.py``); presets are the ``zoo.weights.Preset`` objects each app declares.
"""
import argparse
import contextlib
import html
import importlib
import os
import pkgutil
import signal
import sys

import zoo.apps


def app_names():
    """The ``zoo.apps`` packages, in name order (found without importing them)."""
    return sorted(m.name for m in pkgutil.iter_modules(zoo.apps.__path__))


def _app_help(name):
    """The first paragraph of an app's docstring, read from its source without importing it (so ``zoo --help``
    needs neither Keras nor TensorFlow)."""
    import ast
    import importlib.util

    with open(importlib.util.find_spec(f"zoo.apps.{name}").origin) as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    return text if len(text) <= 100 else text[:97] + "..."


def _load_keras_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from zoo.quiet import native_stderr_silenced

    with native_stderr_silenced():
        try:
            import keras
        except ValueError as e:  # KERAS_BACKEND names no backend Keras knows
            raise ValueError(f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}: {e}; use tensorflow, torch or "
                             f"jax") from None

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe, here rather than at the first operation


def app_modules():
    """Every ``zoo.apps`` package that provides commands, in name order."""
    mods = []
    for info in sorted(pkgutil.iter_modules(zoo.apps.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"zoo.apps.{info.name}")
        if hasattr(mod, "add_commands"):
            mods.append(mod)
    return mods


class Progress:
    """A progress bar on stderr (Keras's Progbar) for long work, called as ``progress(done, total)`` (the
    callback ``zoo.images.apply_tiled`` and ``upscale`` take), or ``progress(done, total, label)`` to show what
    it is on (``zoo demo``: the app); silent when ``quiet``."""

    def __init__(self, quiet=False):
        self.quiet, self.bar = quiet, None

    def __call__(self, done, total, label=None):
        if self.quiet:
            return
        if label is not None:  # a bar of our own: Keras's shows numbers only
            filled = int(30 * done / max(total, 1))
            sys.stderr.write(f"\r[{'=' * filled}{'.' * (30 - filled)}] {done}/{total} {label:<24}"
                             + ("\n" if done >= total else ""))
            sys.stderr.flush()
            return
        if self.bar is None:
            import keras

            self.bar = keras.utils.Progbar(total)
        self.bar.update(done)


def add_image_verb(verbs, app, verb, help, run):
    """``zoo <app> <verb> input... -o output [--preset NAME | --weights FILE --arch NAME]``: load the model (a
    shipped preset, or a generator of preset ``--arch``'s architecture with a weights file, all-or-nothing), call
    ``run(model, args)`` with ``args.input`` set to each input file, and save each result. One input file and an
    output file name: as named. Several inputs, a folder of images, or ``-o`` an existing folder: one output per
    image in the ``-o`` folder (sub-folders kept), named ``<stem><--suffix>.<--ext>``; files that fail are
    reported and skipped, with a summary and exit code 1 at the end. Returns the verb's parser for extra flags."""
    v = verbs.add_parser(verb, help=help)
    v.add_argument("inputs", nargs="+", metavar="input", help="image files and/or folders of images")
    v.add_argument("-o", "--output", required=True,
                   help="output image file (its extension picks the format: .png, .jpg, .webp, .bmp, .tif), or a "
                        "folder for several inputs")
    v.add_argument("--suffix", default="", help="added to each output file name in a folder (e.g. _x4)")
    v.add_argument("--ext", default=None, help="output format in a folder: png (default), jpg, webp, bmp, tif")
    v.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality, 1-95 (default 95)")
    v.add_argument("--max-pixels", type=int, default=None,
                   help="read images of up to this many pixels (default 178956970, Pillow's limit against "
                        "decompression bombs)")
    add_model_flags(v, app)
    v.set_defaults(func=lambda args: _image_verb(args, app, run))
    return v


#: The most images one ``zoo <app> generate`` makes (a grid of more is neither viewable nor small): run it again.
MAX_IMAGES = 10_000


def add_generate_verb(verbs, app, help, run, n=16, ncols=None):
    """``zoo <app> generate -o output [-n N] [--seed S] [--preset NAME | --weights FILE --arch NAME]``: load the
    generator (``load_model``), call ``run(model, args)`` for a uint8 batch and save it: one image as itself,
    several as a grid (``ncols(args)`` columns when given, else a square). Returns the verb's parser for the
    app's own flags."""
    g = verbs.add_parser("generate", help=help)
    g.add_argument("-o", "--output", required=True, help="image file (.png, .jpg, .webp, .bmp, .tif)")
    g.add_argument("-n", type=int, default=n, help=f"number of images (default {n}, at most {MAX_IMAGES})")
    g.add_argument("--seed", type=int, default=None, help="fixes the images (an integer >= 0)")
    add_model_flags(g, app)
    g.set_defaults(func=lambda args: _generate_verb(args, app, run, ncols))
    return g


def _generate_verb(args, app, run, ncols=None):
    from zoo import images

    check_output(args.output, *_flag_inputs(args))
    if not 1 <= args.n <= MAX_IMAGES:
        raise ValueError(f"-n must be in 1..{MAX_IMAGES}, got {args.n}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    out = run(load_model(app, args), args)
    images.save_image(args.output, images.grid(out, ncols=ncols and ncols(args)) if len(out) > 1 else out[0])
    print(args.output)


def add_truncation_flag(verb, effect):
    """``--truncation PSI`` (a number in [0, 1], default None: none), passed on as ``generate(truncation=)``."""
    from zoo.checks import truncation_psi

    def psi(text):
        try:
            return truncation_psi(float(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None

    verb.add_argument("--truncation", type=psi, metavar="PSI", default=None,
                      help=f"truncation psi in [0, 1]: {effect}; default 1, none")


def add_model_flags(verb, app):
    """``--preset NAME`` or ``--weights FILE [--arch NAME]``: which generator a verb runs (``load_model``)."""
    from zoo import catalog

    trained, declared = catalog.names(app)  # the preset index: no Keras needed for --help
    untrained = sorted(set(declared) - set(trained))
    verb.add_argument("--preset", default=None,
                      help=f"a shipped preset: {', '.join(trained) or 'none yet'} (default: the app's default; "
                           f"'zoo presets' lists them)")
    verb.add_argument("--weights", default=None, help="a generator .weights.h5 file of --arch instead of a preset "
                                                      "(yours, from fine-tuning or a recipe)")
    verb.add_argument("--arch", default=None, choices=sorted(declared),
                      help="the preset whose architecture --weights has (default: the app's default preset)"
                           + (f"; without shipped weights: {', '.join(untrained)}" if untrained else ""))


def load_model(app, args):
    """The generator ``add_model_flags`` asked for: a shipped preset, or ``--weights`` into ``--arch``'s
    architecture (all or nothing)."""
    from zoo import weights

    _load_keras_quietly()

    own = getattr(args, "load_model", None)  # a verb's own model source (zoo srgan upscale --checkpoint)
    model = own(args) if own is not None else None
    if model is not None:
        return model
    if args.weights:
        if args.preset:
            raise ValueError("give --preset or --weights (with --arch), not both")
        return weights.load_into(weights.get(app, args.arch).build_generator(), args.weights)
    if args.arch:
        raise ValueError("--arch names the architecture of --weights; give --weights too, or use --preset")
    return weights.pretrained(app, args.preset)


def _image_verb(args, app, run):
    from zoo import images

    if not 1 <= args.quality <= 95:
        raise ValueError(f"--quality must be in 1..95, got {args.quality}")
    if args.max_pixels is not None:
        images.set_max_pixels(args.max_pixels)
    jobs = _jobs(args)
    model = load_model(app, args)
    failed = []
    for i, (src, dest) in enumerate(jobs):
        args.input = src
        try:
            images.save_image(dest, run(model, args), quality=args.quality)
        except (ValueError, OSError) as e:
            if len(jobs) == 1:
                raise
            failed.append(src)
            print(f"zoo: skipped {src}: {e}", file=sys.stderr)
            continue
        print(dest)
        if len(jobs) > 1:
            print(f"[{i + 1}/{len(jobs)}] {src} -> {dest}", file=sys.stderr)
    if failed:
        print(f"zoo: {len(jobs) - len(failed)} written, {len(failed)} failed", file=sys.stderr)
        raise SystemExit(1)


def _jobs(args):
    """``(input file, output file)`` pairs of an image verb, every output checked before any work."""
    from zoo import data, images

    if not args.output:
        raise ValueError("-o is empty: give an output file or folder")
    single = len(args.inputs) == 1 and not os.path.isdir(args.inputs[0]) and not os.path.isdir(args.output)
    if single:
        if args.ext or args.suffix:
            raise ValueError("--ext and --suffix name files in an output folder; with one input, -o is the file")
        check_output(args.output, args.inputs[0], *_flag_inputs(args))
        from zoo import files

        files.check_input(args.inputs[0])  # a FIFO or a device is refused before the model loads
        if not os.path.exists(args.inputs[0]):  # said before the model loads
            raise FileNotFoundError(2, "No such file or directory", args.inputs[0])
        return [(args.inputs[0], args.output)]
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise ValueError(f"-o {args.output} is a file; several inputs or a folder need an output folder")
    ext = "." + (args.ext or "png").lower().lstrip(".")
    if ext not in images.FORMATS:
        raise ValueError(f"--ext {args.ext!r}: use one of {', '.join(sorted(f[1:] for f in images.FORMATS))}")
    jobs = []
    for src in args.inputs:
        if os.path.isdir(src):
            jobs += [(f, os.path.join(args.output, os.path.splitext(os.path.relpath(f, src))[0] + args.suffix + ext))
                     for f in data.list_images(src)]
        elif os.path.exists(src):
            jobs.append((src, os.path.join(args.output, os.path.splitext(os.path.basename(src))[0] + args.suffix
                                           + ext)))
        else:
            raise FileNotFoundError(f"image file not found: {src}")
    outs = [dest for _, dest in jobs]
    if len(set(outs)) != len(outs):
        twice = sorted({d for d in outs if outs.count(d) > 1})
        raise ValueError(f"two inputs would write the same output, e.g. {twice[0]}; use separate runs or --suffix")
    for _, dest in jobs:
        check_output(dest)
    from zoo import files

    files.refuse_inputs(outs, [src for src, _ in jobs] + _flag_inputs(args), _flag_folders(args))
    return jobs


#: Flags that name input files (or folders of them) besides the images: no output may replace one.
INPUT_FLAGS = ("weights", "mask", "captions", "checkpoint")


def _flag_inputs(args):
    """The files the ``INPUT_FLAGS`` of ``args`` name (the files inside those that are folders)."""
    from zoo import data

    found = []
    for path in filter(None, (getattr(args, flag, None) for flag in INPUT_FLAGS)):
        found += data.list_images(path) if os.path.isdir(path) else [path]
    return found


def _flag_folders(args):
    return [p for p in filter(None, (getattr(args, flag, None) for flag in INPUT_FLAGS)) if os.path.isdir(p)]


def check_output(output, *inputs):
    """Refuse, before any work, an output that is empty, a folder, a FIFO or device, a read-only file, has no
    image extension, or is one of the ``inputs`` (``zoo.files``)."""
    from zoo import files, images

    files.check_output(output)
    if os.path.isdir(output):
        raise ValueError(f"-o {output} is a folder; give a file name such as {os.path.join(output, 'out.png')}")
    ext = os.path.splitext(output)[1].lower()
    if ext not in images.FORMATS:
        raise ValueError(f"-o {output}: unknown image extension {ext or '(none)'!r}; use one of "
                         f"{', '.join(sorted(images.FORMATS))}")
    files.refuse_inputs([output], inputs)


def demo(args):
    """``zoo demo``: every app with shipped weights runs its ``demo(outdir)`` (a list of ``(caption, png)``);
    the gallery page ``index.html`` shows each figure at its native size with, for image-to-image figures whose
    caption ends ``": a | b | c"``, a label over each column; a paragraph per app gives what it does, the
    default preset's measured numbers and a link to its model card."""
    from zoo import weights

    os.makedirs(args.output, exist_ok=True)
    shipped = set(weights.apps())
    mods = [m for m in app_modules() if m.__name__.rsplit(".", 1)[1] in shipped and hasattr(m, "demo")]
    if not mods:
        raise SystemExit("no app has shipped weights: nothing to demonstrate")
    mods.sort(key=lambda m: _gallery_rank(m.__name__.rsplit(".", 1)[1]))
    sections = []
    progress = Progress(quiet=args.quiet)
    for done, mod in enumerate(mods, 1):
        app = mod.__name__.rsplit(".", 1)[1]
        progress(done - 1, len(mods), app)  # the bar names the app it is on
        items = mod.demo(os.path.join(args.output, app))
        sections.append((app, _app_summary(mod), weights.get(app), items))
        progress(done, len(mods), app)
    index = os.path.join(args.output, "index.html")
    with open(index, "w") as f:
        f.write(_gallery(sections, args.output))
    print(index)


#: The gallery's order, what a visitor cares about first: faces, text, inpainting, super-resolution, translation,
#: the basics; apps not named follow by name. Titles in plain words.
GALLERY = {"progan": "Faces of people who do not exist", "text2image": "Flowers from a sentence",
           "inpainting": "Filling holes in photos", "srgan": "Super-resolution (x4)",
           "pix2pix": "Sketch to photo", "cyclegan": "Sketch to photo and back, learnt without pairs",
           "dcgan": "Handwritten digits"}


def _gallery_rank(app):
    order = list(GALLERY)
    return (order.index(app) if app in order else len(order), app)


#: Each app's default preset's headline numbers in plain words, with the reference points that give them meaning
#: (the model cards' tables). A preset without these metrics falls back to the raw numbers.
PLAIN_WORDS = {
    "progan": lambda m: (
        f"a face detector finds a face in {m['face_detection_rate']:.1%} of the generated faces (in 99.4% of real "
        f"CelebA faces); their distance to real faces in face-descriptor space (KID x1000) is "
        f"{m['kid_face_x1000']:.3f}, between real faces blurred through 32x32 pixels (0.125) and through 16x16 "
        f"(0.870)"),
    "text2image": lambda m: (
        f"a flower classifier names the flower the sentence describes in {m['caption_top1']:.1%} of the images "
        f"({m['caption_top5']:.1%} among its top five; chance: 1.0% and 4.9%; the sentence alone, read by the text "
        f"encoder: {m['encoder_caption_top1']:.1%})"),
    "inpainting": lambda m: (
        f"thin free-form holes in held-out flower photos are filled to {m['flowers:free_form:psnr']:.2f} dB PSNR "
        f"(OpenCV's Navier-Stokes inpainting: 27.20 dB), a box over a quarter of the photo to "
        f"{m['flowers:box50:psnr']:.2f} dB (Telea's method: 19.87 dB); higher is closer to the original"),
    "srgan": lambda m: (
        f"on the standard Set5 and Set14 photos, {m['set5_psnr_y']:.2f} and {m['set14_psnr_y']:.2f} dB PSNR against "
        f"the originals (bicubic enlargement: 28.43 and 25.99 dB; higher is closer)"),
    "pix2pix": lambda m: (
        f"on held-out drawings the photo differs from the real one by {m['l1']:.3f} per pixel on average (L1, 0-1 "
        f"scale; PSNR {m['psnr']:.2f} dB), against 0.213 (11.13 dB) for the average photo of the training set"),
    "cyclegan": lambda m: (
        f"trained without matching pairs, its photos differ from the real ones by {m['l1']:.3f} per pixel (L1; PSNR "
        f"{m['psnr']:.2f} dB): between pix2pix, trained with pairs (0.120, 14.43 dB), and the average photo (0.213, "
        f"11.13 dB)"),
    "dcgan": lambda m: (
        f"a digit classifier that reads {m['classifier_val_accuracy']:.1%} of real digits right reads the digit that "
        f"was asked for in {m['conditional_accuracy']:.1%} of the samples"),
}


def _plain_words(app, preset):
    try:
        return PLAIN_WORDS[app](preset.metrics)
    except (KeyError, TypeError, ValueError):
        return None


def _app_summary(mod):
    """The first paragraph of an app module's docstring, on one line."""
    return " ".join((mod.__doc__ or "").strip().split("\n\n")[0].split())


def _card_link(app):
    """An ``<a>`` to the app's model card in a source checkout, else its path in the repository as text."""
    from pathlib import Path

    card = Path(__file__).resolve().parent.parent / "apps" / app / "MODEL_CARD.md"
    rel = f"apps/{app}/MODEL_CARD.md"
    if card.is_file():
        return f"<a href='{html.escape(card.as_uri())}'>{rel}</a>"
    return f"<code>{rel}</code> in the zoo repository"


def _figure(caption, path, outdir):
    from PIL import Image

    rel = os.path.relpath(path, outdir)
    with Image.open(path) as img:
        width, height = img.size
    title, _, labels = caption.rpartition(": ")
    columns = [c.strip() for c in labels.split(" | ")] if title and " | " in labels else []
    head = ""
    if columns:
        cells = "".join(f"<span>{html.escape(c)}</span>" for c in columns)
        head = f"<div class=cols style='width:{width}px'>{cells}</div>"
    return (f"<figure>{head}<img src='{html.escape(rel)}' alt='{html.escape(caption)}' width={width} "
            f"height={height} onclick=\"this.classList.toggle('zoomed')\">"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _gallery(sections, outdir):
    page = ["<!doctype html><meta charset=utf-8><title>zoo gallery</title>",
            "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
            "figure{margin:1em 0;overflow-x:auto}img{display:block;border:1px solid #ccc}"
            ".cols{display:flex}.cols span{flex:1;text-align:center;font-weight:bold;font-size:90%;padding:.2em}"
            "figcaption{color:#555;font-size:90%;margin-top:.3em}.metrics{font-size:90%}"
            "figure img{cursor:zoom-in}figure img.zoomed{zoom:3;cursor:zoom-out}</style>",
            "<h1>zoo gallery</h1><p>Made by <code>zoo demo</code> from the shipped presets, on inputs they were "
            "not trained on; every image at its own size (click one to see it three times larger).</p>"]
    for app, summary, preset, items in sections:
        numbers = ", ".join(f"{k} {v}" for k, v in preset.metrics.items())
        title = f"{GALLERY[app]} ({app})" if app in GALLERY else app
        plain = _plain_words(app, preset)
        plain = f"<p><b>How good:</b> {html.escape(plain)}.</p>" if plain else ""
        page.append(f"<h2 id='{html.escape(app)}'>{html.escape(title)}</h2><p>{html.escape(summary)}</p>{plain}"
                    f"<p class=metrics>Default preset <code>{html.escape(preset.name)}</code>; measured: "
                    f"{html.escape(numbers or 'no numbers')}. Model card: {_card_link(app)}.</p>")
        page += [_figure(caption, path, outdir) for caption, path in items]
    return "\n".join(page) + "\n"


def presets(args):
    """A table of the shipped presets: key, default, what the network takes or makes, headline metrics."""
    from zoo import catalog

    rows = [("preset", "default", "size", "metrics")] + [tuple(r) for r in catalog.table()]  # no Keras needed
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3])


def export_command(args):
    """``zoo export <app> -o PATH [--format F] [--overwrite] [--preset NAME | --weights FILE --arch NAME]``
    (``zoo.export``: what the exported graph takes and gives)."""
    import inspect

    from zoo import export, files

    if not args.output:
        raise ValueError("-o is empty: give a folder (savedmodel), a .tflite or a .onnx file name")
    fmt = export.check_format(args.format or export.format_of(args.output))
    export.check_target(args.output, fmt, args.overwrite)  # before loading anything
    files.refuse_inputs([args.output], _flag_inputs(args))
    model = load_model(args.app, args)
    options = {}
    if args.direction is not None:
        if "direction" not in inspect.signature(model.export_graph).parameters:
            raise ValueError(f"--direction is for models with two generators (cyclegan), not {args.app}")
        options["direction"] = args.direction
    export.export(model, args.output, fmt, overwrite=args.overwrite, float16=args.float16, **options)
    print(args.output)


def _version():
    from importlib import metadata

    try:
        return metadata.version("zoo-gan")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def parser(argv=None):
    """The ``zoo`` argument parser. With ``argv``, only the app it names is imported (its verbs are parsed);
    the others are listed by name and help line only, so ``zoo --help`` imports no app."""
    p = argparse.ArgumentParser(prog="zoo", description="Keras 3 model zoo of GAN applications.")
    p.add_argument("--version", action="version", version=f"zoo {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run every app with shipped weights and write a gallery")
    d.add_argument("-o", "--output", default="gallery", help="folder for the PNGs and index.html (default gallery/)")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=demo)
    sub.add_parser("presets", help="list shipped presets and their metrics").set_defaults(func=presets)
    e = sub.add_parser("export", help="write a generator as a SavedModel, LiteRT (.tflite) or ONNX model")
    e.add_argument("app", choices=app_names())
    e.add_argument("-o", "--output", required=True,
                   help="a folder (savedmodel), a .tflite file (litert) or a .onnx file (onnx)")
    e.add_argument("--format", default=None, help="savedmodel, litert or onnx (default: from -o's extension)")
    e.add_argument("--overwrite", action="store_true", help="replace an existing -o")
    e.add_argument("--float16", action="store_true", help="litert: float16 weights (half the file)")
    e.add_argument("--direction", default=None, help="cyclegan: the generator to export, AtoB (default) or BtoA")
    e.add_argument("--preset", default=None, help="a shipped preset (default: the app's default; 'zoo presets')")
    e.add_argument("--weights", default=None, help="a generator .weights.h5 file of --arch instead of a preset")
    e.add_argument("--arch", default=None, help="the preset whose architecture --weights has")
    e.set_defaults(func=export_command)
    from zoo import serve

    serve.add_command(sub)
    if argv is None:
        for mod in app_modules():
            mod.add_commands(sub)
        return p
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name in app_names():
        if name == chosen:
            mod = _commands(name)
            if hasattr(mod, "add_commands"):
                mod.add_commands(sub)
                continue
        sub.add_parser(name, help=_app_help(name))
    return p


@contextlib.contextmanager
def _signals_clean_up():
    """While a command runs, SIGTERM and Ctrl-C remove the temporary files and folders being written
    (``zoo.files.temporary``: an export's folder, an image's temporary file), say one line and exit (143, 130).
    The handler cleans up itself rather than raising: an exception raised inside TensorFlow's native code can
    be swallowed there, and the command would go on."""
    from zoo import files

    stderr = os.dup(2)  # the terminal, even while Keras loads with descriptor 2 on /dev/null

    def stop(signum, frame):
        files.remove_temporaries()
        os.write(stderr, f"zoo: {'terminated' if signum == signal.SIGTERM else 'interrupted'}\n".encode())
        os._exit(128 + signum)

    try:
        previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not the main thread: leave signals alone
        os.close(stderr)
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        os.close(stderr)


def _commands(name):
    """The module defining app ``name``'s commands: ``zoo/apps/<name>/commands.py`` loaded on its own, so neither
    the app package nor Keras is imported to parse (``--help``, argument and path errors answer at once); for an
    app without one, the app package (Keras loaded quietly)."""
    import importlib.util

    full = f"zoo.apps.{name}.commands"
    if full in sys.modules:
        return sys.modules[full]
    path = os.path.join(zoo.apps.__path__[0], name, "commands.py")
    if not os.path.isfile(path):
        _load_keras_quietly()
        return importlib.import_module(f"zoo.apps.{name}")
    spec = importlib.util.spec_from_file_location(full, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[full] = mod  # the package's own ``from .commands import add_commands`` finds it later
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[full]
        raise
    return mod


def main(argv=None):
    """Run ``zoo argv...``; returns the exit code. Warnings meant for users (words text2image does not know,
    skipped files, ...) print as one ``zoo: warning: ...`` line each while it runs; deprecation notices from
    the libraries underneath are for developers and go where they went before."""
    import warnings

    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)):
            return previous(message, category, filename, lineno, file, line)
        print(f"zoo: warning: {message}", file=sys.stderr if file is None else file)

    warnings.showwarning = show
    try:
        return _run(argv)
    finally:
        warnings.showwarning = previous


def _run(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    with _signals_clean_up():
        return _main(argv)


def _main(argv):
    try:
        args = parser(argv).parse_args(argv)
        if args.command in ("demo", "serve"):
            _load_keras_quietly()
        args.func(args)
    except (ValueError, TypeError, KeyError, ImportError) as e:  # ImportError: an optional extra missing
        print(f"zoo: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # missing, unreadable or unwritable files and folders, a full disk, the network
        where = f"{e.filename}: " if e.filename else ""
        print(f"zoo: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
