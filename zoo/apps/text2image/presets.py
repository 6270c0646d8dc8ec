"""The text-to-image presets, each declared once: architecture, recipe, data, measured numbers and files.

``weights/manifest.json`` lists the generator file with its hash and reference output; the vocabulary the
generator's text encoder reads is a companion file declared here (``companions["vocabulary"]``: file and sha256,
verified when loaded). Trained by ``apps/text2image/train.py``; measured by ``apps/text2image/evaluate.py``.
"""
from types import MappingProxyType

from zoo.weights import Preset, register_presets

from .networks import DFDiscriminator, DFGANGenerator, MatchingDiscriminator, TextToImageGenerator
from .trainer import DFGAN, TextToImage

FLOWERS_64 = Preset(
    name="flowers_64", app="text2image", default=True,
    file="text2image/flowers_64.weights.h5",
    sha256="a93d853e0c46fe73365ccb5c0af631f9b08e699764153d7f4377471f6397a118",
    architecture=TextToImageGenerator,
    config=dict(vocab_size=2187, max_length=30, word_dim=128, filters=256, embedding_dim=256, noise_dim=100,
                condition_dim=128, width=32, image_size=64, kl_weight=2.0),
    trainer=TextToImage, discriminator=MatchingDiscriminator,
    discriminator_config=dict(image_size=64, embedding_dim=256, width=64, projection_dim=128),
    trained_on="Oxford-102 flowers, the shared train split (6,552 images, 102 classes) at 64x64, each image paired "
               "with its class's captions (Reed et al. 2016's text_c10; the per-image pairing is lost), minus the "
               "1-in-20 captions held out for evaluation",
    input_size=(64, 64),
    companions={
        "vocabulary": {"file": "text2image/flowers_64.vocab.txt",
                       "sha256": "0812693528cfe535dbbd52f346db1343121064b60397c0517f21e1adc9616354"},
        # the judge of apps/text2image/evaluate.py (a 102-way flower classifier trained on the train split)
        "classifier": {"file": "text2image/flowers_classifier.weights.h5",
                       "sha256": "f2adb38e16edbf14a2c0d6a6cf4a47463edc87b3fe2db5fe8a578db55e08b219"},
    },
    recipe="apps/text2image/encoder_ablation.py joint-classes --steps 1500 (the encoder: image-sentence + class "
           "term); apps/text2image/train.py --run runs/t2i_gancls_v2 --precision mixed_bfloat16 --every 250 "
           "--contrastive-weight 2 (GAN-CLS + the DAMSM term; stopped at its 8,500-step checkpoint); "
           "apps/text2image/train.py --run runs/t2i_tac --init-from runs/t2i_gancls_v2/gan/checkpoint.weights.h5 "
           "--aux-weight 1 --contrastive-weight 2 --precision mixed_bfloat16 --every 250 (+ TAC-GAN's auxiliary "
           "classifier; its 1,250-step EMA generator); seed 0, batch 64, 2 CPU cores; apps/text2image/evaluate.py "
           "--cross-judge",
    metrics={"encoder_caption_top1": 0.3782, "classifier_valid_top1": 0.7457, "caption_top1": 0.1444,
             "caption_top5": 0.3811, "same_noise_top1": 0.1464, "kid_x1000": 63.3772,
             "kid_train_valid_x1000": -2.522, "seed_spread": 0.6165},
)

#: the classifier ``apps/text2image/evaluate.py`` judges every preset with (64x64 inputs; larger images are
#: averaged down to 64x64 first)
CLASSIFIER = FLOWERS_64.companions["classifier"]


def _dfgan(size, width, steps):
    """DF-GAN (Tao et al. 2022) on the shared flowers at ``size`` px: declared, not trained yet (``pretrained``
    refuses it until a run's EMA generator is registered with ``evaluate.py --register``)."""
    return Preset(
        name=f"flowers_dfgan_{size}", app="text2image",
        architecture=DFGANGenerator,
        config=dict(vocab_size=2187, max_length=30, word_dim=128, filters=256, embedding_dim=256, noise_dim=100,
                    width=width, image_size=size, sentence_scale=None),
        trainer=DFGAN, discriminator=DFDiscriminator,
        discriminator_config=dict(image_size=size, embedding_dim=256, width=width, sentence_scale=None),
        trained_on=FLOWERS_64.trained_on.replace("at 64x64", f"at {size}x{size}"),
        input_size=(size, size),
        companions={"classifier": dict(CLASSIFIER)},
        recipe=f"apps/text2image/train.py --arch dfgan --image-size {size} --run runs/text2image_flowers_dfgan_{size} "
               f"--encoder-from flowers_64 --precision mixed_bfloat16 --batch-size 32 --steps {steps} (seed 0, 2 CPU "
               f"cores); apps/text2image/evaluate.py --preset flowers_dfgan_{size}",
    )


#: DF-GAN at 64 px, ``width`` (the reference's ngf = ndf) 16: G 1.75M, D 0.90M parameters; about 1 s per step of
#: 32 on two CPU cores in mixed_bfloat16 (the reference's width 32, G 4.87M and D 3.44M, takes 2.6 s)
FLOWERS_DFGAN_64 = _dfgan(64, 16, 20000)
#: DF-GAN at 128 px, width 16: G 2.54M, D 1.31M parameters (five blocks each way); about 7 s per step of 32 there
FLOWERS_DFGAN_128 = _dfgan(128, 16, 10000)

PRESETS = register_presets(FLOWERS_64, FLOWERS_DFGAN_64, FLOWERS_DFGAN_128)

#: ``{name: Preset}`` of the presets above (read-only).
CONFIGS = MappingProxyType({p.name: p for p in PRESETS})
