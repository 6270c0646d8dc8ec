"""Flowers from a sentence: GAN-CLS / GAN-INT (Reed et al. 2016, "Generative Adversarial Text to Image
Synthesis") with StackGAN's conditioning augmentation and stage-I generator (Zhang et al. 2017), and DF-GAN (Tao
et al. 2022: the sentence modulates every up-block of a one-stage generator; hinge loss with MA-GP).

The app in five files:

* ``text.py``: the word-level ``Vocabulary`` (unknown words map to an unknown id; sentences longer than 30 words
  are truncated) and the caption files users bring;
* ``networks.py``: the sentence encoder, the stage-I generator with conditioning augmentation, the
  matching-aware discriminator, DF-GAN's generator and discriminator, and the small image encoder of the joint
  embedding and of the evaluation;
* ``trainer.py``: ``JointEmbedding`` (the encoder's training), ``TextToImage`` (GAN-CLS) and ``DFGAN``;
* ``data.py``: ``CaptionedImages`` batches, the shared flowers and your own folders;
* ``presets.py``: the presets (``flowers_64``; ``flowers_dfgan_64`` and ``flowers_dfgan_128``, declared, not trained
  yet); ``CONFIGS`` maps their names to ``zoo.weights.Preset`` objects.

This module holds the verbs::

    from zoo.apps import text2image
    model = text2image.pretrained()
    images = model.generate("this flower has white petals and a yellow center", n=4, seed=0)   # uint8 (4, 64, 64, 3)
    walk = model.interpolate("a red flower with ruffled petals", "a purple flower with a white center", steps=8)
    model = text2image.finetune("my/flowers", captions="captions.tsv", steps=2000)
"""
import os

from zoo.apps.text2image.networks import (  # noqa: F401
    DFDiscriminator, DFGANGenerator, DFGenerator, ImageEncoder, MatchingDiscriminator, SentenceGenerator,
    StageOneGenerator, TextEncoder, TextToImageGenerator)
from zoo.apps.text2image.presets import CONFIGS, PRESETS  # noqa: F401
from zoo.apps.text2image.text import Vocabulary  # noqa: F401
from zoo.apps.text2image.trainer import DFGAN, JointEmbedding, TextToImage  # noqa: F401

# -- the common verbs --------------------------------------------------------------------------------------
Generator = TextToImageGenerator
Discriminator = MatchingDiscriminator


def pretrained(name=None):
    """A shipped text-to-image generator (the EMA generator of the run) with its vocabulary, hash-verified:
    ``text2image.pretrained().generate("a flower with white petals", n=4, seed=0)`` -> uint8 ``(4, 64, 64, 3)``."""
    from zoo import weights

    model = weights.pretrained("text2image", name)
    model.vocabulary = vocabulary_for(model)
    return model


def vocabulary_for(model):
    """The vocabulary of ``model``'s preset (``model.preset``, or the declared preset of the same architecture and
    config: a fine-tuned generator keeps its preset's frozen encoder and vocabulary), hash-verified."""
    from zoo import weights

    preset = getattr(model, "preset", None)
    if preset is None:
        config = {k: v for k, v in model.get_config().items() if k != "name"}
        matches = [p for p in weights.declared("text2image").values() if p.config == config and p.companions]
        if not matches:
            raise ValueError(f"no text2image preset has this generator's config, so its vocabulary is unknown: set "
                             "model.vocabulary = text2image.Vocabulary.load(<the vocabulary.txt it was trained with>)")
        preset = matches[0]
    return preset_vocabulary(preset)


def preset_vocabulary(preset):
    """The vocabulary file a preset names (``companions["vocabulary"]``), hash-verified, of the preset's size."""
    from zoo import weights

    entry = preset.companions.get("vocabulary")
    if not entry:
        raise ValueError(f"preset {preset.key} names no vocabulary file")
    path = weights.find_file(entry["file"], entry["sha256"])
    weights.verify(path, entry["sha256"])
    vocab = Vocabulary.load(path)
    if len(vocab) != preset.config["vocab_size"]:
        raise ValueError(f"{path} has {len(vocab)} words but the generator's encoder reads "
                         f"{preset.config['vocab_size']}")
    return vocab


def build(name="flowers_64", generator=None, pretrained_generator=False, classes=0, **kwargs):
    """The trainer of preset ``name`` (``TextToImage`` or ``DFGAN``) around ``generator`` (default: a fresh one of the
    preset's architecture, or the shipped one with ``pretrained_generator=True``) and a fresh discriminator
    (``classes`` > 0: with TAC-GAN's auxiliary classifier of that many classes, for ``aux_weight``). Other
    keyword arguments go to the trainer (``wrong_weight``, ``ema_decay``, ``seed``; ``interpolation`` and
    ``aux_weight`` for ``TextToImage``, ``gp_k``, ``gp_p`` for ``DFGAN``). A fresh
    generator's text encoder is untrained: train it first (``JointEmbedding``, as ``apps/text2image/train.py``)."""
    from zoo import weights

    preset = name if isinstance(name, weights.Preset) else weights.get("text2image", name)
    if generator is None:
        generator = pretrained(preset.name) if pretrained_generator else preset.build_generator()
    discriminator = preset.build_discriminator(classes=classes) if classes else preset.build_discriminator()
    return (preset.trainer or TextToImage)(generator, discriminator, **kwargs)


def dataset(source, captions=None, vocabulary=None, batch_size=64, split="train", seed=0, augment=True,
            image_size=64):
    """Training batches ``(images, word ids, groups)`` for ``TextToImage.fit`` / ``DFGAN.fit``
    (``data.CaptionedImages``: endless, fit with ``steps_per_epoch``; images loaded once into memory at 9/8 of
    ``image_size``, 72x72 for 64, and cropped to ``image_size``).

    ``source``: a folder of your own images with captions (``captions``: a ``file<TAB>caption`` file, or None for
    a ``.txt`` beside each image; ``text.folder_captions``: images without captions and captions without images
    are errors), or the shared Oxford-102 layout (a folder holding ``captions.tsv`` with ``class_id<TAB>caption``
    and ``<split>/<class_id>/`` images: each image gets its class's captions, minus the held-out ones).
    ``vocabulary``: a ``Vocabulary`` (default: the default preset's, the one its frozen encoder reads).
    """
    from zoo.apps.text2image import data
    from zoo.checks import positive_int

    batch_size = positive_int(batch_size, "batch_size")
    source = os.fspath(source)
    if not os.path.isdir(source):
        raise FileNotFoundError(f"{source} is not a folder of images")
    shared = os.path.isfile(os.path.join(source, "captions.tsv")) and os.path.isdir(os.path.join(source, split))
    if shared and captions is None:
        paths, caps, groups = data.flowers(source, split)
    else:
        paths, caps, groups = data.from_folder(source, captions)
    if vocabulary is None:
        from zoo import weights

        vocabulary = preset_vocabulary(weights.get("text2image"))
    image_size = positive_int(image_size, "image_size")
    return data.CaptionedImages(paths, caps, groups, vocabulary, batch_size=min(batch_size, len(paths)),
                                image_size=image_size, load_size=image_size * 9 // 8, seed=seed, augment=augment)


def finetune(source, captions=None, preset=None, steps=2000, batch_size=64, learning_rate=None, run=None,
             callbacks=None, verbose="auto"):
    """Fine-tune a shipped preset on your own captioned images and return the new (EMA) generator::

        model = text2image.finetune("my/flowers", captions="captions.tsv", steps=2000)
        model.generate("a blue flower with five round petals", n=4, seed=0)

    ``source``/``captions`` as ``dataset``. The preset's generator (its text encoder and vocabulary frozen: new
    words count as unknown) trains against a fresh discriminator for ``steps`` batches of ``batch_size`` at the
    preset's image size; the EMA generator starts from the preset's weights. ``learning_rate``: GAN-CLS presets, Adam
    with it (default 2e-4, beta 0.5) for both networks; DF-GAN presets, G's Adam rate (default 1e-4; D's is four
    times it; betas 0 and 0.9, the reference's). ``run``: a folder
    that makes it resumable (``zoo.callbacks.fit_steps``: a checkpoint and a log row every 100 steps).
    """
    from zoo import optimizers
    from zoo.callbacks import fit_steps
    from zoo.checks import positive_int, positive_number

    steps = positive_int(steps, "steps")
    if learning_rate is not None:
        learning_rate = positive_number(learning_rate, "learning_rate")
    g = pretrained(preset)
    vocab, recipe = g.vocabulary, g.preset
    g.preset = None  # no longer the shipped weights
    ds = dataset(source, captions=captions, vocabulary=vocab, batch_size=batch_size, image_size=g.image_size)
    gan = build(recipe, generator=g, ema_decay=0.999)
    if isinstance(gan, DFGAN):
        lr = learning_rate or 1e-4
        gan.compile(d_optimizer=optimizers.Adam(4 * lr, beta_1=0.0, beta_2=0.9),
                    g_optimizer=optimizers.Adam(lr, beta_1=0.0, beta_2=0.9))
    else:
        adam = lambda: optimizers.Adam(learning_rate or 2e-4, beta_1=0.5)  # noqa: E731
        gan.compile(d_optimizer=adam(), g_optimizer=adam())
    fit_steps(gan, ds, steps, run=run, callbacks=callbacks, verbose=verbose)
    out = gan.sampling_generator()
    out.vocabulary = vocab
    return out


# -- command line and demo -----------------------------------------------------------------------------------
DEMO_CAPTIONS = (
    "this flower has white petals and a yellow center",
    "a red flower with ruffled petals",
    "this flower is purple with long thin petals",
    "a bright yellow flower with many layers of petals",
    "this pink flower has five rounded petals and a dark center",
    "an orange flower with pointed petals and black spots",
)


def demo(outdir):
    """Four seeds of six sentences written for the demo (one row each), and a walk between two of them."""
    import numpy as np

    from zoo import images

    model = pretrained()
    os.makedirs(outdir, exist_ok=True)
    grid = os.path.join(outdir, "sentences.png")
    images.save_png(grid, images.grid(np.concatenate([model.generate(t, n=4, seed=0) for t in DEMO_CAPTIONS]),
                                      ncols=4))
    walk = os.path.join(outdir, "walk.png")
    images.save_png(walk, images.grid(model.interpolate(DEMO_CAPTIONS[1], DEMO_CAPTIONS[2], steps=8), ncols=8))
    rows = "; ".join(f"row {i + 1}: '{t}'" for i, t in enumerate(DEMO_CAPTIONS))
    return [(f"{model.preset.name}: four seeds per sentence, {rows}", grid),
            (f"{model.preset.name}: from '{DEMO_CAPTIONS[1]}' to '{DEMO_CAPTIONS[2]}' (GAN-INT walk, one seed)",
             walk)]


def add_commands(subparsers):
    """``zoo text2image``: in ``commands.py`` (the ``zoo`` command loads that file alone: no Keras to parse)."""
    from zoo.apps.text2image.commands import add_commands as add

    add(subparsers)
