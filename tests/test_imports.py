"""zoo runs its models without TensorFlow on the torch backend (the GPU machine has no TensorFlow)."""

CODE = r"""
import numpy as np
import zoo, zoo.gan, zoo.layers, zoo.losses, zoo.metrics, zoo.weights, zoo.images, zoo.data, zoo.callbacks
import zoo.bench, zoo.cli, zoo.unrolled
from zoo.apps import dcgan, srgan
g = dcgan.DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=3)
d = dcgan.DCGANDiscriminator(image_size=8, channels=1, filters=4, num_classes=3)
gan = zoo.GAN(g, d)
gan.compile()
x = np.random.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
gan.train_on_batch(x, np.zeros(8, "int32"))
assert g.generate(2, labels=1, seed=0).shape == (2, 8, 8, 1)
sr = srgan.SRResNet(scale=2, blocks=1, filters=8)
assert sr.upscale(np.zeros((5, 5, 3), "uint8")).shape == (10, 10, 3)
srgan.VGGFeatures(weights=None)
from zoo.apps import text2image
tg = text2image.TextToImageGenerator(vocab_size=12, max_length=6, word_dim=8, filters=8, embedding_dim=8,
                                     noise_dim=4, condition_dim=4, width=4)
tg.vocabulary = text2image.Vocabulary.build(["a red flower", "a white flower"], min_count=1, max_length=6)
assert tg.generate("a red flower", n=2, seed=0).shape == (2, 64, 64, 3)
t2i = text2image.TextToImage(tg, text2image.MatchingDiscriminator(embedding_dim=8, width=4, projection_dim=4))
t2i.compile()
t2i.train_on_batch(np.zeros((2, 64, 64, 3), "float32"), tg.vocabulary.encode(["a red flower", "a white flower"]))
"""


def test_no_tensorflow_on_torch_backend(run_without_tensorflow):
    run_without_tensorflow(CODE)
