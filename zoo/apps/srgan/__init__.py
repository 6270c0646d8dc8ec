"""Single-image super-resolution: SRResNet and SRGAN (Ledig et al. 2017), ESRGAN (Wang et al. 2018).

The app in its files:

* ``networks.py``: the architectures (``SRResNet``, ``SRGANDiscriminator``, ``RRDBNet``, Real-ESRGAN's
  ``SRVGGNetCompact``, the ``VGGFeatures`` content network), as the papers' architecture sections;
* ``trainer.py``: the losses (pixel, VGG content, RaGAN) and the trainers ``SRGAN`` and ``ESRGAN``;
* ``presets.py``: the presets, each declared once (``srresnet_x4``, ``srgan_x4``, ``rrdb_psnr_x4``,
  ``esrgan_x4``); ``CONFIGS`` maps their names to the ``zoo.weights.Preset`` objects (read-only);
* ``data.py``: the super-resolution pipelines (bicubic downscaling, ``(lr, hr)`` training pairs, evaluation
  pairs);
* ``degradations.py``: Real-ESRGAN's degradation model, LR training images like real photos
  (``dataset(..., degradation="realesrgan")``, or ``"photo"``: mixed with lighter first-order degradations);
* ``checkpoints.py``: PyTorch ``.pth`` files of Real-ESRGAN, ESRGAN and SRGAN ports as zoo generators
  (``from_checkpoint``), read without running code from them;
* ``commands.py``: the ``zoo srgan`` command.

This module holds the verbs every app has: ``pretrained``, ``build``, ``finetune``, ``dataset``, ``demo`` and
the ``zoo srgan`` command::

    from zoo.apps import srgan
    model = srgan.pretrained()                 # srresnet_x4; model.upscale("photo.png")
    model = srgan.from_checkpoint("RealESRGAN_x4plus.pth")   # model.upscale("photo.jpg", outscale=2)
    gan = srgan.build("srgan_x4")              # the GAN phase's trainer with fresh networks
"""
from zoo import distribute
from zoo.apps.srgan.networks import (  # noqa: F401
    AdaptiveCompact, RRDBNet, SRGANDiscriminator, SRResNet, SRVGGNetCompact, VGG_MEAN_BGR, VGG_WEIGHTS_FILE,
    VGGFeatures, VGGPreprocess, load_vgg19)
from zoo.apps.srgan.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.srgan.trainer import (  # noqa: F401
    ESRGAN, RAGAN, SRGAN, blend_targets, fit_estimator, pixel_loss, ragan_d, ragan_g, vgg_content_loss)
from zoo.callbacks import fit_steps
from zoo.checks import positive_int, positive_number

# -- the common verbs --------------------------------------------------------------------------------------
Generator = SRResNet
Discriminator = SRGANDiscriminator


def pretrained(name=None):
    """A shipped super-resolution generator, hash-verified, with ``upscale``:
    ``srgan.pretrained().upscale("photo.png")``."""
    from zoo import weights

    return weights.pretrained("srgan", name)


def from_checkpoint(path, use_torch=None):
    """A generator with the weights of a PyTorch ``.pth`` file you have: Real-ESRGAN's RealESRGAN_x4plus /
    x2plus, realesr-general-x4v3, realesr-animevideov3, ESRGAN's RRDB_ESRGAN_x4 / RRDB_PSNR_x4 (either key layout),
    leftthomas/SRGAN and Lornatang/SRGAN-PyTorch generators. The architecture and scale are read from the file; no
    code in it is run
    (``checkpoints`` module: the layouts, the reader)::

        model = srgan.from_checkpoint("RealESRGAN_x4plus.pth")
        model.upscale("photo.jpg", outscale=2)
    """
    from zoo.apps.srgan import checkpoints

    return checkpoints.from_checkpoint(path, use_torch)


def build(name="srgan_x4", hr_crop=None, content=True, content_weights="imagenet", allow_random_vgg=False,
          generator=None, **kwargs):
    """The trainer of preset ``name`` (a ``CONFIGS`` name or a ``zoo.weights.Preset``) with fresh networks: its
    trainer class, and for the GAN phase its discriminator (sized for ``hr_crop``; None = the paper's crop) and
    VGG content network (the preset's ``companions["content"]``).

    ``content=False`` leaves the VGG network out: the pixel loss is then the content loss (the paper's
    "SRGAN-MSE"; no ImageNet weights needed). ``generator``: start from this generator (e.g. ``pretrained()``)
    instead of a fresh one; ``finetune`` does this in one call. Other keyword arguments go to the trainer.
    """
    preset = _preset(name)
    d = preset.build_discriminator(**({} if hr_crop is None else {"hr_size": hr_crop}))
    features = None
    if preset.companions.get("content") is not None and content:
        features = VGGFeatures(**preset.companions["content"], weights=content_weights, allow_random=allow_random_vgg)
    if generator is None:
        generator = preset.build_generator()
    return (preset.trainer or SRGAN)(generator, d, content=features, **kwargs)


def _preset(name):
    from zoo import weights

    return name if isinstance(name, weights.Preset) else weights.get("srgan", name)


def _recipe(preset, adversarial):
    """The preset of ``preset``'s generator in the PSNR-oriented (``adversarial=False``) or GAN phase: itself,
    or the ``psnr_phase``/``gan_phase`` companion it declares."""
    if (preset.discriminator is not None) == adversarial:
        return preset
    other = preset.companions.get("gan_phase" if adversarial else "psnr_phase")
    if other is None:
        raise ValueError(f"preset {preset.key} declares no {'GAN' if adversarial else 'PSNR-oriented'} phase "
                         f"recipe; build one with srgan.build(...) and fit it")
    return CONFIGS[other]


def finetune(source, preset=None, steps=1000, adversarial=False, content=True, learning_rate=None, hr_crop=96,
             batch_size=16, run=None, callbacks=None, verbose="auto", distribution=None, **data_kwargs):
    """Fine-tune a shipped preset on your own images (a folder or a TFDS name) and return the generator::

        model = srgan.finetune("my/photos", steps=2000)
        model.upscale("photo.png")

    ``adversarial=False`` continues the PSNR-oriented phase (pixel loss only); ``True`` runs the GAN phase with
    a fresh discriminator for ``hr_crop`` crops and the VGG54 content loss (``content=False`` for SRGAN-MSE: no
    ImageNet weights needed), the recipe of the preset's ``gan_phase`` companion. The trainer's compile defaults
    apply (``learning_rate`` overrides). ``data_kwargs`` go to ``dataset``; ``callbacks`` and ``verbose`` to fit.
    ``run``: a folder that makes it resumable (``zoo.callbacks.fit_steps``: a checkpoint and a log row every 100
    steps; the same call with the same folder continues a killed run).
    ``distribution``: several devices or hosts (``"mirrored"``, ``"multiworker"``, ``"jax"`` or a
    ``zoo.distribute.Setup``; the batch size is then the global batch).
    """
    steps = positive_int(steps, "steps")  # before anything loads
    if learning_rate is not None:
        learning_rate = positive_number(learning_rate, "learning_rate")
    setup = distribute.get(distribution)
    with setup.scope():  # build and compile on its devices
        g = pretrained(preset)
        recipe = _recipe(g.preset, adversarial)
        g.preset = None  # no longer the shipped weights
        gan = build(recipe, hr_crop=hr_crop, content=content, generator=g)
        gan.compile(learning_rate=learning_rate)
    data = dataset(source, scale=g.scale, hr_crop=hr_crop, batch_size=batch_size, channels=g.channels,
                   repeat=True, **data_kwargs)
    fit_steps(gan, data, steps, run=setup.run_folder(run), callbacks=callbacks, verbose=verbose)
    return gan.generator


def dataset(source, scale=4, hr_crop=96, batch_size=16, **kwargs):
    """``(lr, hr)`` training pairs in [-1, 1] from an image folder or a TFDS name (``"div2k/bicubic_x4"``):
    random HR crops, flips and 90-degree rotations, LR by MATLAB-style bicubic downscaling, or with
    ``degradation="realesrgan"`` by Real-ESRGAN's blur / resize / noise / JPEG / sinc degradation, for real photos
    (``"photo"``: mixed with lighter first-order degradations; ``degradations`` module) (``data.sr_pairs``, which
    lists the options)."""
    from zoo.apps.srgan import data

    return data.sr_pairs(source, scale=scale, hr_crop=hr_crop, batch_size=batch_size, **kwargs)


def demo(outdir):
    """The default preset on a shipped LR image (64x64 crop of a BSD training photo, MATLAB-bicubic x4
    downscaled): nearest / bicubic / the model side by side at 256x256."""
    import os

    import numpy as np
    from PIL import Image

    from zoo import images

    lr = np.asarray(Image.open(images.asset("starfish_lr.png")).convert("RGB"))
    model = pretrained()
    size = (lr.shape[1] * model.scale, lr.shape[0] * model.scale)
    panels = [np.asarray(Image.fromarray(lr).resize(size, m)) for m in (Image.NEAREST, Image.BICUBIC)]
    panels.append(model.upscale(lr))
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, "upscale.png")
    images.save_png(path, images.grid(np.stack(panels), ncols=3))
    return [(f"x{model.scale} super-resolution of a 64x64 image: nearest | bicubic | {model.preset.name}", path)]


# -- command line ----------------------------------------------------------------------------------------------
def add_commands(subparsers):
    """``zoo srgan``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.srgan.commands import add_commands as add

    add(subparsers)
