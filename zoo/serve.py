"""``zoo serve``: every app in the browser, on Gradio, and the same functions as an HTTP API.

    zoo serve [--host 127.0.0.1] [--port 7860] [--apps srgan pix2pix ...]

One tab per app, in the order a visitor cares about (faces, text, inpainting, super-resolution, translation,
basics): progan (seed, count, a latent-walk slider), text2image (a sentence, count, seed; the words the
vocabulary does not know are listed under the grid), inpainting (upload a photo, paint the hole with the brush;
faces or photos preset), srgan (upload; preset; large images tiled with a progress bar), pix2pix and cyclegan
(draw an edge sketch on the white canvas or upload one; cyclegan's other direction from a photo; pix2pix can take
one half of a side-by-side AB file), dcgan (digit and count), vae once it has shipped weights (preset, digit,
count, seed). An app package that defines ``serve_tab(call)``
(build its components inside the open Tab; ``call(fn)`` wraps a function as the other tabs' are) gets a tab too,
after these.

How it runs: each model is loaded once per process, on its first request, and stays (super-resolution in mixed
bfloat16 where the CPU computes it natively, ``--sr-precision``); requests wait in one queue
and one model call runs at a time (the CPU is the bottleneck); inputs above the size limits (``LIMITS``) are
refused with a message; every error is shown in the page as a message, never a traceback (the traceback of an
unexpected one goes to the server's log). It binds to 127.0.0.1 unless ``--host`` says otherwise. Nothing is
written to disk but Gradio's own copies of uploads and results, which it serves from a temporary folder that is
deleted when the server stops (and emptied of files older than an hour while it runs).

The HTTP API: every button is also an endpoint of Gradio's client API (``gradio_client``; the page's "Use via
API" link lists them with their arguments), so scripts can use a warm server instead of loading a model per
call::

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    sr_path = client.predict(handle_file("photo.png"), "srresnet_x4", api_name="/srgan")
    grid, unknown = client.predict("a red flower with ruffled petals", 4, 0, api_name="/text2image")
    photo = client.predict({"background": handle_file("edges.png"), "layers": [], "composite": None},
                           "whole image", api_name="/pix2pix")

Endpoints (arguments in order): ``/progan`` (seed, count), ``/progan_walk`` (seed, other seed, position 0-1),
``/text2image`` (sentence, count, seed -> grid, unknown-words note), ``/inpaint`` (editor value: background =
the photo, layers = the painted hole; preset), ``/srgan`` (image, preset, output scale 1-4, default 4), ``/pix2pix`` (editor value, side),
``/cyclegan`` (editor value: the edge drawing), ``/cyclegan_photo`` (image: a photo -> edges), ``/dcgan`` (digit
or "any", count), ``/vae`` (preset, digit or "any", count, seed).
"""
import functools
import logging
import os
import sys
import tempfile
import threading
import traceback

import numpy as np

#: The biggest inputs the page accepts: image sides in pixels, image counts, sentence length in characters.
LIMITS = {"side": 2048, "sr_side": 512, "inpaint_side": 1024, "count": 16, "sentence": 300}

#: Tab order: what a visitor cares about first.
ORDER = ("progan", "text2image", "inpainting", "srgan", "pix2pix", "cyclegan", "dcgan", "vae")

_MODELS = {}
_LOCK = threading.RLock()  # one model call (or load) at a time, whatever the queue does
log = logging.getLogger("zoo.serve")


class InputError(ValueError):
    """A request the page refuses (shown to the user as it is)."""


#: ``"auto"``, ``"float32"`` or ``"bfloat16"``: the super-resolution models' compute precision (``--sr-precision``).
SR_PRECISION = {"value": "auto"}


def native_bfloat16():
    """Whether this machine computes bfloat16 natively on the CPU (AMX or AVX512-BF16) and Keras runs on
    TensorFlow: there mixed bfloat16 inference is faster than float32 (x4 SRResNet on a 128x128 image about 25%
    here); elsewhere it would be emulated, and slower."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


def _precision(app):
    """The dtype policy ``app``'s models are built with: mixed bfloat16 for super-resolution where the CPU has it
    (``SR_PRECISION``; the output differs from float32's by about 0.4 of 255 levels on average), else float32."""
    if app != "srgan":
        return "float32"
    want = SR_PRECISION["value"]
    if want == "auto":
        return "mixed_bfloat16" if native_bfloat16() else "float32"
    return "mixed_bfloat16" if want == "bfloat16" else "float32"


def model(app, preset=None):
    """The generator of ``app``'s ``preset`` (None: the default), loaded on first use and kept (built under
    ``_precision(app)``'s dtype policy; the weights file is the same, hash-verified)."""
    key = (app, preset)
    with _LOCK:
        if key not in _MODELS:
            import keras

            from zoo import weights

            policy = _precision(app)
            previous = keras.mixed_precision.global_policy().name
            keras.mixed_precision.set_global_policy(policy)
            try:
                _MODELS[key] = weights.pretrained(app, preset)
            finally:
                keras.mixed_precision.set_global_policy(previous)
        return _MODELS[key]


def unload():
    """Forget every loaded model (a server that stops inside a longer-lived process gives their memory back)."""
    with _LOCK:
        _MODELS.clear()
    import gc

    gc.collect()


def call(fn):
    """``fn`` as an event handler: run under the model lock; ``ValueError``/``TypeError``/``KeyError``/``OSError``
    (bad input, unknown preset, unreadable file) become a ``gr.Error`` with their message; anything else a
    ``gr.Error`` naming the exception type, its traceback logged on the server."""
    import gradio as gr

    @functools.wraps(fn)
    def handler(*args, **kwargs):
        try:
            with _LOCK:
                return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, TypeError, KeyError, OSError) as e:
            msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
            raise gr.Error(msg or type(e).__name__, print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - the page gets a message, the log the traceback
            traceback.print_exc(file=sys.stderr)
            raise gr.Error(f"internal error ({type(e).__name__}); the server's log has the details",
                           print_exception=False) from None

    return handler


# -- inputs ---------------------------------------------------------------------------------------------------
def _rgb(a, what="image"):
    """An uploaded or drawn array as uint8 RGB: transparent pixels become white (a drawing's empty canvas)."""
    if a is None:
        raise InputError(f"no {what}: upload one" + (" or draw on the canvas" if what == "drawing" else ""))
    a = np.asarray(a)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or min(a.shape[:2]) < 1:
        raise InputError(f"the {what} has an unexpected shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.shape[2] == 4:
        alpha = a[..., 3:4].astype(np.float32) / 255.0
        a = np.round(a[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return a


def _check_side(a, limit, what="image"):
    h, w = a.shape[:2]
    if max(h, w) > limit:
        raise InputError(f"the {what} is {w}x{h} pixels; this page takes up to {limit} pixels a side "
                         f"(use the zoo command or the library for bigger ones)")
    return a


def _count(n, what="count"):
    n = int(n)
    if not 1 <= n <= LIMITS["count"]:
        raise InputError(f"{what} must be 1 to {LIMITS['count']}, got {n}")
    return n


def _seed(seed):
    if seed is None or seed == "":
        return None
    s = float(seed)
    if s != int(s) or s < 0:
        raise InputError(f"the seed must be a whole number >= 0, got {seed}")
    return int(s)


def _editor_image(value, what="drawing"):
    """The picture of an ImageEditor/Sketchpad value (its composite, else its background), uint8 RGB on white."""
    if isinstance(value, dict):
        img = value.get("composite")
        if img is None:
            img = value.get("background")
        if img is None and value.get("layers"):
            img = value["layers"][0]
        value = img
    a = _rgb(value, what)
    return a


def _grid(batch, ncols=None):
    from zoo import images

    return batch[0] if len(batch) == 1 else images.grid(batch, ncols=ncols, pad=2, pad_value=255)


# -- the apps ---------------------------------------------------------------------------------------------------
def pix2pix_fn(drawing, side="whole image"):
    """An edge drawing (editor value or image) -> a photo of the same size; ``side``: "left half" / "right half"
    of a side-by-side AB file (the datasets' format: photo left, edges right) instead of the whole image."""
    a = _check_side(_editor_image(drawing), LIMITS["side"], "drawing")
    if side not in (None, "whole image"):
        a = _half(a, side)
    if a.min() >= 250:
        raise InputError("the canvas is empty: draw an edge sketch (dark lines on white) or upload one")
    return np.asarray(model("pix2pix").translate(a))


def _half(a, side):
    names = {"left half": "left", "right half": "right", "left": "left", "right": "right"}
    if side not in names:
        raise InputError(f"side must be 'whole image', 'left half' or 'right half', got {side!r}")
    w = a.shape[1] // 2
    return a[:, :w] if names[side] == "left" else a[:, w:2 * w]


def cyclegan_fn(drawing):
    """An edge drawing -> a photo (CycleGAN's A -> B)."""
    a = _check_side(_editor_image(drawing), LIMITS["side"], "drawing")
    if a.min() >= 250:
        raise InputError("the canvas is empty: draw an edge sketch (dark lines on white) or upload one")
    return np.asarray(model("cyclegan").translate(a, "AtoB"))


def cyclegan_photo_fn(photo):
    """A photo -> its edge drawing (CycleGAN's B -> A)."""
    a = _check_side(_rgb(photo), LIMITS["side"])
    return np.asarray(model("cyclegan").translate(a, "BtoA"))


# "photos": the general preset (inpainting.pretrained()'s default), first as in the CLI; "faces": centred face crops
INPAINT_PRESETS = {"photos": None, "faces": "celeba_128"}


def inpaint_fn(editor, preset="photos"):
    """An ImageEditor value (background: the photo; layers: the painted hole) -> the filled photo."""
    if not isinstance(editor, dict) or editor.get("background") is None:
        raise InputError("upload a photo, then paint over what should go")
    photo = _check_side(_rgb(editor["background"]), LIMITS["inpaint_side"], "photo")
    hole = np.zeros(photo.shape[:2], bool)
    for layer in editor.get("layers") or []:
        layer = np.asarray(layer)
        if layer.shape[:2] != photo.shape[:2]:
            raise InputError(f"the painted layer is {layer.shape[1]}x{layer.shape[0]}, the photo "
                             f"{photo.shape[1]}x{photo.shape[0]}: paint on the photo as uploaded")
        hole |= (layer[..., 3] > 0) if layer.ndim == 3 and layer.shape[2] == 4 else (layer.reshape(
            layer.shape[:2] + (-1,)).max(axis=2) > 0)
    if not hole.any():
        raise InputError("nothing painted: paint over the part of the photo that should be filled")
    from zoo import weights

    name = INPAINT_PRESETS.get(preset, preset) or weights.get("inpainting").name
    return np.asarray(model("inpainting", name).inpaint(photo, hole))


def text2image_fn(sentence, count=4, seed=0):
    """A sentence -> a grid of ``count`` flowers, and a note listing the words the vocabulary does not know."""
    import warnings

    from zoo.apps.text2image.text import UnknownWordsWarning

    sentence = (sentence or "").strip()
    if not sentence:
        raise InputError("type a sentence, e.g. 'a red flower with ruffled petals'")
    if len(sentence) > LIMITS["sentence"]:
        raise InputError(f"the sentence has {len(sentence)} characters; up to {LIMITS['sentence']} are taken")
    n = _count(count, "the number of images")
    m = model("text2image")
    unknown = m._vocabulary().unknown(sentence)
    with warnings.catch_warnings():  # the page lists them instead
        warnings.simplefilter("ignore", UnknownWordsWarning)
        out = m.generate(sentence, n=n, seed=_seed(seed))
    note = ("Unknown words (ignored by the model): " + ", ".join(unknown)) if unknown else "Every word is known."
    return _grid(out, ncols=min(n, 4)), note


def progan_fn(seed=0, count=4):
    """``count`` faces from ``seed``."""
    n, seed = _count(count), _seed(seed)
    return _grid(model("progan").generate(n, seed=seed), ncols=4)


def progan_walk_fn(seed=0, other=1, position=0.5):
    """The face at ``position`` (0 to 1) on the latent walk from the first face of ``seed`` to that of ``other``."""
    t = float(position)
    if not 0.0 <= t <= 1.0:
        raise InputError(f"the walk position must be in 0..1, got {position}")
    steps, seed, other = 21, _seed(seed) or 0, _seed(other) or 0
    return model("progan").interpolate(seed, other, steps=steps)[round(t * (steps - 1))]


def dcgan_fn(digit="any", count=16):
    """``count`` MNIST digits: of one class (the conditional preset) or any (the unconditional one)."""
    n = _count(count)
    if digit in (None, "any", ""):
        out = model("dcgan", "mnist_dcgan").generate(n)
    else:
        d = int(digit)
        if not 0 <= d <= 9:
            raise InputError(f"the digit must be 0 to 9, got {digit}")
        out = model("dcgan", "mnist_cdcgan").generate(n, labels=d)
    return _grid(out, ncols=min(n, 8))


def vae_fn(preset=None, digit="any", count=16, seed=0):
    """``count`` digits decoded from random codes by a VAE preset: of one class (a conditional preset) or any."""
    n, seed = _count(count), _seed(seed)
    m = model("vae", preset or None)
    classes = getattr(m, "num_classes", None)
    if digit in (None, "any", ""):
        labels = np.arange(n) % classes if classes else None
    elif not classes:
        name = getattr(getattr(m, "preset", None), "name", "this preset")
        raise InputError(f"{name} is not conditional: pick 'any', or a conditional preset for one digit")
    else:
        labels = int(digit)
        if not 0 <= labels < classes:
            raise InputError(f"the digit must be 0 to {classes - 1}, got {digit}")
    return _grid(m.generate(n, labels=labels, seed=seed), ncols=min(n, 8))


def srgan_fn(image, preset="srresnet_x4", progress=None, outscale=4):
    """An image -> its super-resolution, ``outscale`` (1 to 4) times its size: the network's x4, then a
    Lanczos resize where ``outscale`` is not 4 (``upscale(outscale=)``, Real-ESRGAN's ``--outscale``). Big
    images (above about 220x220 for SRResNet: ``upscale``'s ``tile="auto"``) are upscaled in windows that keep
    memory within 1 GiB, ``progress(done, total)`` after each."""
    try:
        outscale = float(outscale)
    except (TypeError, ValueError):
        raise InputError(f"the output scale must be a number from 1 to 4, got {outscale!r}") from None
    if not 1.0 <= outscale <= 4.0:
        raise InputError(f"the output scale must be from 1 to 4, got {outscale:g}")
    a = _check_side(_rgb(image), LIMITS["sr_side"])
    m = model("srgan", preset)
    return m.upscale(a, tile="auto", progress=progress,  # windows where the whole image would take > 1 GiB
                     outscale=None if outscale == m.scale else outscale)


# -- the page -------------------------------------------------------------------------------------------------
def _progress_callback(progress):
    def report(done, total):
        progress((done, total), desc="tiles", unit="tiles")
    return report


def _canvas(label):
    import gradio as gr

    return gr.Sketchpad(label=label, type="numpy", image_mode="RGBA", sources=("upload",),
                        canvas_size=(256, 256), fixed_canvas=True, layers=False,
                        brush=gr.Brush(colors=["#000000"], default_color="#000000", default_size=2,
                                       color_mode="fixed"),
                        value={"background": np.full((256, 256, 4), 255, np.uint8), "layers": [],
                               "composite": None})


def _tab_progan(gr, run):
    gr.Markdown("Faces that do not exist: progressive GAN trained on 10,000 CelebA faces (64x64).")
    with gr.Row():
        with gr.Column():
            seed = gr.Number(0, label="seed", precision=0, minimum=0)
            count = gr.Slider(1, LIMITS["count"], 4, step=1, label="faces")
            go = gr.Button("Generate faces", variant="primary", elem_id="progan-go")
        out = gr.Image(label="faces", type="numpy", format="png", elem_id="progan-out")
    go.click(run(progan_fn), [seed, count], out, api_name="progan")
    gr.Markdown("Latent walk: slide from the first face of one seed to the first face of another.")
    with gr.Row():
        with gr.Column():
            other = gr.Number(1, label="other seed", precision=0, minimum=0)
            position = gr.Slider(0, 1, 0.5, step=0.05, label="position on the walk")
            walk = gr.Button("Walk", elem_id="progan-walk-go")
        face = gr.Image(label="face on the walk", type="numpy", format="png", elem_id="progan-walk-out")
    walk.click(run(progan_walk_fn), [seed, other, position], face, api_name="progan_walk")
    position.release(run(progan_walk_fn), [seed, other, position], face, api_name=False)


def _tab_text2image(gr, run):
    gr.Markdown("Flowers from a sentence (GAN-CLS / StackGAN stage I on Oxford-102 flowers, 64x64). The model "
                "knows the words of flower captions; others are listed under the result and ignored.")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox("a red flower with ruffled petals", label="sentence", max_length=LIMITS["sentence"],
                              elem_id="t2i-text")
            count = gr.Slider(1, LIMITS["count"], 4, step=1, label="images")
            seed = gr.Number(0, label="seed", precision=0, minimum=0)
            go = gr.Button("Generate flowers", variant="primary", elem_id="t2i-go")
        with gr.Column():
            out = gr.Image(label="flowers", type="numpy", format="png", elem_id="t2i-out")
            note = gr.Markdown(elem_id="t2i-unknown")
    go.click(run(text2image_fn), [text, count, seed], [out, note], api_name="text2image")


def _tab_inpainting(gr, run):
    gr.Markdown("Upload a photo, paint over what should go with the brush, then fill it (photos: the general "
                "preset; faces: centred CelebA face crops).")
    with gr.Row():
        with gr.Column():
            editor = gr.ImageEditor(label="photo (paint the hole)", type="numpy", image_mode="RGBA",
                                    sources=("upload", "clipboard"), layers=False, transforms=(),
                                    brush=gr.Brush(colors=["#ff00ff"], default_color="#ff00ff", default_size=12,
                                                   color_mode="fixed"),
                                    elem_id="inpaint-in")
            preset = gr.Radio(list(INPAINT_PRESETS), value="photos", label="preset")
            go = gr.Button("Fill the hole", variant="primary", elem_id="inpaint-go")
        out = gr.Image(label="filled", type="numpy", format="png", elem_id="inpaint-out")
    go.click(run(inpaint_fn), [editor, preset], out, api_name="inpaint")


def _tab_srgan(gr, run):
    from zoo import weights

    names = weights.presets("srgan")
    default = weights.get("srgan").name
    gr.Markdown(f"x4 super-resolution (SRResNet / SRGAN). Images up to {LIMITS['sr_side']} pixels a side; those "
                "above about 220 are upscaled in tiles (the progress bar counts them).")
    with gr.Row():
        with gr.Column():
            image = gr.Image(label="low-resolution image", type="numpy", image_mode="RGB", sources=("upload",),
                             elem_id="srgan-in")
            preset = gr.Dropdown(names, value=default, label="preset")
            outscale = gr.Slider(1, 4, value=4, step=0.5, label="output scale (the network's x4, then resized)")
            go = gr.Button("Upscale", variant="primary", elem_id="srgan-go")
        out = gr.Image(label="super-resolved", type="numpy", format="png", elem_id="srgan-out")

    def upscale(image, preset, outscale, progress=gr.Progress()):
        return srgan_fn(image, preset, progress=_progress_callback(progress), outscale=outscale)

    go.click(run(upscale), [image, preset, outscale], out, api_name="srgan")


def _tab_pix2pix(gr, run):
    gr.Markdown("Draw a shoe or a handbag as dark lines on the white canvas (or upload an edge drawing), get a "
                "photo (pix2pix, edges2shoes + edges2handbags). For the datasets' side-by-side AB files, pick the "
                "half with the edges.")
    with gr.Row():
        with gr.Column():
            canvas = _canvas("edge sketch")
            canvas.elem_id = "pix2pix-in"
            side = gr.Radio(["whole image", "left half", "right half"], value="whole image", label="input")
            go = gr.Button("Make a photo", variant="primary", elem_id="pix2pix-go")
        out = gr.Image(label="photo", type="numpy", format="png", elem_id="pix2pix-out")
    go.click(run(pix2pix_fn), [canvas, side], out, api_name="pix2pix")


def _tab_cyclegan(gr, run):
    gr.Markdown("Unpaired translation (CycleGAN, 128x128): an edge sketch to a photo, and a photo to edges.")
    with gr.Row():
        with gr.Column():
            canvas = _canvas("edge sketch")
            canvas.elem_id = "cyclegan-in"
            go = gr.Button("Edges to photo", variant="primary", elem_id="cyclegan-go")
        out = gr.Image(label="photo", type="numpy", format="png", elem_id="cyclegan-out")
    go.click(run(cyclegan_fn), [canvas], out, api_name="cyclegan")
    with gr.Row():
        with gr.Column():
            photo = gr.Image(label="photo", type="numpy", image_mode="RGB", sources=("upload",),
                             elem_id="cyclegan-photo-in")
            back = gr.Button("Photo to edges", elem_id="cyclegan-photo-go")
        edges = gr.Image(label="edges", type="numpy", format="png", elem_id="cyclegan-photo-out")
    back.click(run(cyclegan_photo_fn), [photo], edges, api_name="cyclegan_photo")


def _tab_dcgan(gr, run):
    gr.Markdown("MNIST digits (DCGAN): one digit from the class-conditional model, or any from the unconditional "
                "one.")
    with gr.Row():
        with gr.Column():
            digit = gr.Dropdown(["any"] + [str(d) for d in range(10)], value="7", label="digit")
            count = gr.Slider(1, LIMITS["count"], 16, step=1, label="images")
            go = gr.Button("Generate digits", variant="primary", elem_id="dcgan-go")
        out = gr.Image(label="digits", type="numpy", format="png", elem_id="dcgan-out")
    go.click(run(dcgan_fn), [digit, count], out, api_name="dcgan")


def _tab_vae(gr, run):
    from zoo import weights

    names = weights.presets("vae")
    gr.Markdown("Digits decoded from random codes by autoencoders beside the GANs (VAE, conditional VAE, VAE-GAN).")
    with gr.Row():
        with gr.Column():
            preset = gr.Dropdown(names, value=weights.get("vae").name, label="preset")
            digit = gr.Dropdown(["any"] + [str(d) for d in range(10)], value="any",
                                label="digit (conditional presets)")
            count = gr.Slider(1, LIMITS["count"], 16, step=1, label="images")
            seed = gr.Number(0, label="seed", precision=0, minimum=0)
            go = gr.Button("Decode digits", variant="primary", elem_id="vae-go")
        out = gr.Image(label="digits", type="numpy", format="png", elem_id="vae-out")
    go.click(run(vae_fn), [preset, digit, count, seed], out, api_name="vae")


TABS = {"progan": ("Faces (ProGAN)", _tab_progan), "text2image": ("Text to image", _tab_text2image),
        "inpainting": ("Inpainting", _tab_inpainting), "srgan": ("Super-resolution", _tab_srgan),
        "pix2pix": ("Sketch to photo (pix2pix)", _tab_pix2pix), "cyclegan": ("CycleGAN", _tab_cyclegan),
        "dcgan": ("Digits (DCGAN)", _tab_dcgan), "vae": ("Digits (VAE)", _tab_vae)}


def available_apps():
    """The apps that get a tab: those with shipped weights and a tab here, in ``ORDER``, then any app package
    that defines ``serve_tab`` (in name order)."""
    import importlib

    from zoo import weights
    from zoo.cli import app_names

    shipped = set(weights.apps())
    names = [a for a in ORDER if a in shipped]
    for name in app_names():
        if name not in TABS and hasattr(importlib.import_module(f"zoo.apps.{name}"), "serve_tab"):
            names.append(name)
    return names


def build(apps=None):
    """The ``gr.Blocks`` page: a tab per app of ``apps`` (default ``available_apps()``), queued one call at a
    time."""
    import importlib

    import gradio as gr

    known = available_apps()
    apps = known if not apps else list(apps)
    unknown = [a for a in apps if a not in known]
    if unknown:
        raise ValueError(f"no tab for {', '.join(unknown)}; apps with one: {', '.join(known)}")

    with gr.Blocks(title="zoo", analytics_enabled=False, delete_cache=(600, 3600)) as page:
        gr.Markdown("# zoo\nGAN applications from the zoo's shipped presets, running on this machine. "
                    "Requests are served one at a time; the first one of each model loads it.")
        with gr.Tabs():
            for app in apps:
                if app in TABS:
                    label, tab = TABS[app]
                    with gr.Tab(label, id=app, elem_id=f"tab-{app}"):
                        tab(gr, call)
                else:
                    with gr.Tab(app, id=app, elem_id=f"tab-{app}"):
                        importlib.import_module(f"zoo.apps.{app}").serve_tab(call)
    page.queue(default_concurrency_limit=1, max_size=64)
    return page


def launch(host="127.0.0.1", port=7860, apps=None, block=True, quiet=False, sr_precision=None):
    """Build the page and serve it; returns ``(page, url)`` (with ``block=False`` the server runs in a thread:
    ``page.close()`` stops it). Gradio's upload/result copies go to a temporary folder removed at exit.
    ``sr_precision``: ``"auto"`` (default), ``"float32"`` or ``"bfloat16"`` (``_precision``)."""
    if sr_precision is not None:
        if sr_precision not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"sr_precision must be auto, float32 or bfloat16, got {sr_precision!r}")
        SR_PRECISION["value"] = sr_precision
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if "GRADIO_TEMP_DIR" not in os.environ:
        tmp = tempfile.TemporaryDirectory(prefix="zoo-serve-")
        os.environ["GRADIO_TEMP_DIR"] = tmp.name
        launch._tmp = tmp  # removed when the process ends
    page = build(apps)
    _, url, _ = page.launch(server_name=host, server_port=port, prevent_thread_lock=not block, quiet=quiet,
                            show_error=True, footer_links=["api"], ssr_mode=False)
    return page, url


def add_command(subparsers):
    """``zoo serve`` in the ``zoo`` command (no Keras needed to parse it)."""
    s = subparsers.add_parser("serve", help="a local web page with a tab per app (and an HTTP API)",
                              description="Serve every app in the browser (Gradio); the same functions are an "
                                          "HTTP API (gradio_client). Binds 127.0.0.1 unless --host says otherwise.")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 serves the "
                                                       "network, an explicit choice)")
    s.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    s.add_argument("--apps", nargs="+", default=None, metavar="APP", help="only these apps' tabs")
    s.add_argument("--sr-precision", default="auto", choices=("auto", "float32", "bfloat16"),
                   help="super-resolution's compute precision: auto (default) = mixed bfloat16 where the CPU has "
                        "it natively (AMX / AVX512-BF16: about 25%% faster, within half a grey level of float32 on "
                        "average), float32 elsewhere")
    s.set_defaults(func=_serve_command)


def _serve_command(args):
    try:
        import gradio  # noqa: F401
    except ImportError as e:
        raise ImportError("zoo serve needs Gradio: pip install 'zoo-gan[serve]'") from e
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be 1 to 65535, got {args.port}")
    launch(args.host, args.port, args.apps, sr_precision=args.sr_precision)
