"""The text-to-image presets, each declared once: architecture, recipe, data, measured numbers and files.

``weights/manifest.json`` lists the generator file with its hash and reference output; the vocabulary the
generator's text encoder reads is a companion file declared here (``companions["vocabulary"]``: file and sha256,
verified when loaded). Trained by ``apps/text2image/train.py``; measured by ``apps/text2image/evaluate.py``.
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import MatchingDiscriminator, TextToImageGenerator
from .trainer import TextToImage

FLOWERS_64 = Preset(
    name="flowers_64", app="text2image", default=True,
    architecture=TextToImageGenerator,
    config=dict(vocab_size=2187, max_length=30, word_dim=128, filters=256, embedding_dim=256, noise_dim=100,
                condition_dim=128, width=32, image_size=64, kl_weight=2.0),
    trainer=TextToImage, discriminator=MatchingDiscriminator,
    discriminator_config=dict(image_size=64, embedding_dim=256, width=64, projection_dim=128),
    trained_on="Oxford-102 flowers, the shared train split (6,552 images, 102 classes) at 64x64, each image paired "
               "with its class's captions (Reed et al. 2016's text_c10; the per-image pairing is lost), minus the "
               "1-in-20 captions held out for evaluation",
    input_size=(64, 64),
)

PRESETS = register_presets(FLOWERS_64)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
