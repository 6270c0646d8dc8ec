"""Text-to-image networks: a sentence encoder (Reed et al. 2016, "Learning Deep Representations of Fine-Grained
Visual Descriptions"), StackGAN's stage-I generator with conditioning augmentation (Zhang et al. 2017) and the
matching-aware discriminator of GAN-CLS (Reed et al. 2016, "Generative Adversarial Text to Image Synthesis").

Images are channels-last floats in [-1, 1]; sentences are ``(N, max_length)`` int32 word ids (``text.Vocabulary``,
0 = padding).

Text encoder (``TextEncoder``): word embeddings, two 3-wide 1-D convolutions (a word-CNN as Reed's), the mean and
the max over the sentence's words (padding excluded) and a linear map to an L2-normalised ``embedding_dim``
vector. It is trained first, jointly with ``ImageEncoder`` so that a caption's embedding scores its own class's
images above the others' (``trainer.JointEmbedding``), then frozen for the GAN.

Conditioning augmentation (StackGAN section 3.1, ``ConditioningAugmentation``): the embedding's linear map to a
mean and log-variance of a Gaussian of ``condition_dim``; the condition is ``mu + exp(logvar / 2) * eps``, and
the layer adds ``kl_weight * mean KL(N(mu, sigma) || N(0, I))`` to the generator's losses (``add_loss``, which the
core trainer adds to G's loss). ``eps`` is the last ``condition_dim`` entries of the generator's latent vector, so
one standard-normal ``z`` of ``latent_dim = noise_dim + condition_dim`` fixes an image on every backend.

Stage-I generator (``StageOneGenerator``): ``[noise, condition]`` -> a bias-free dense map to 4x4 x ``8 width``,
BN, ReLU; four up-blocks (nearest 2x, 3x3 convolution, BN, ReLU) halving the channels to ``width / 2`` at 64x64;
3x3 convolution to RGB, tanh. StackGAN-Pytorch's ``STAGE1_G`` with ``width`` = its ``gf_dim / 8`` (192 there,
32 in the shipped preset: a CPU-sized stage I).

``TextToImageGenerator``: the whole sentence -> image path, ``[z, word ids]`` -> image: the frozen text encoder
and the stage-I generator as two named sub-networks (``text_encoder``, ``stage1``), in one weights file.

Discriminator (``MatchingDiscriminator``, GAN-CLS): ``[image, embedding]``: four 4x4 stride-2 convolutions (64x64
-> 4x4, ``width`` to ``8 width`` channels, BN on all but the first, LeakyReLU 0.2); the embedding compressed to
``projection_dim`` by a dense layer + LeakyReLU, replicated over the 4x4 map and concatenated; a 1x1 convolution,
BN, LeakyReLU and a 4x4 valid convolution to one logit (StackGAN's ``D_GET_LOGITS``).

``ImageEncoder``: a small CNN (four 3x3 stride-2 convolutions with BN and ReLU, global average pooling, linear)
for the joint embedding, and, with ``outputs = classes``, the flower classifier ``apps/text2image/evaluate.py``
judges generated images with.
"""
import keras
from keras import layers, ops

from zoo.layers import LeakyReLU, NearestUpsampling
from zoo.models import Generator, Network, Discriminator


def INIT():
    return keras.initializers.RandomNormal(0.0, 0.02)


# -- the sentence encoder --------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class MaskedPooling(layers.Layer):
    """``[features (N, L, C), ids (N, L)]`` -> ``(N, 2C)``: mean and max over the positions whose id is not 0."""

    def call(self, inputs):
        x, ids = inputs
        x = ops.cast(x, "float32")
        m = ops.cast(ops.not_equal(ids, 0), "float32")[..., None]
        mean = ops.sum(x * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
        mx = ops.max(x * m - (1.0 - m) * 1e4, axis=1)
        return ops.concatenate([mean, mx], axis=-1)

    def compute_output_shape(self, shapes):
        (n, _, c), _ = shapes
        return (n, 2 * c)


@keras.saving.register_keras_serializable("zoo")
class L2Normalize(layers.Layer):
    def call(self, x):
        x = ops.cast(x, "float32")
        return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))


@keras.saving.register_keras_serializable("zoo")
class TextEncoder(Network):
    """``(N, max_length)`` word ids -> ``(N, embedding_dim)`` unit vectors (see the module docstring)."""

    def __init__(self, vocab_size, max_length=30, word_dim=128, filters=256, embedding_dim=256, **kwargs):
        ids = keras.Input((max_length,), dtype="int32", name="words")
        x = layers.Embedding(vocab_size, word_dim, name="word_embedding")(ids)
        x = layers.Conv1D(filters, 3, padding="same", activation="relu", name="conv1")(x)
        x = layers.Conv1D(filters, 3, padding="same", activation="relu", name="conv2")(x)
        x = MaskedPooling(name="pool")([x, ids])
        x = layers.Dense(embedding_dim, dtype="float32", name="project")(x)
        super().__init__(ids, L2Normalize(name="normalize", dtype="float32")(x), config=dict(
            vocab_size=vocab_size, max_length=max_length, word_dim=word_dim, filters=filters,
            embedding_dim=embedding_dim), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class ImageEncoder(Network):
    """A small CNN: ``(N, size, size, 3)`` in [-1, 1] -> ``outputs`` values (unit vectors when ``normalize``,
    logits otherwise). ``features`` gives the pooled features before the last linear layer."""

    def __init__(self, image_size=64, outputs=256, widths=(32, 64, 128, 256), normalize=True, dropout=0.0,
                 **kwargs):
        image = keras.Input((image_size, image_size, 3), name="image")
        x = image
        for i, w in enumerate(widths):
            x = layers.Conv2D(w, 3, padding="same", use_bias=False, name=f"conv{i}a")(x)
            x = layers.ReLU()(layers.BatchNormalization(name=f"bn{i}a")(x))
            x = layers.Conv2D(w, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}b")(x)
            x = layers.ReLU()(layers.BatchNormalization(name=f"bn{i}b")(x))
        x = layers.GlobalAveragePooling2D(name="features")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        y = layers.Dense(outputs, dtype="float32", name="head")(x)
        if normalize:
            y = L2Normalize(name="normalize", dtype="float32")(y)
        super().__init__(image, y, config=dict(image_size=image_size, outputs=outputs, widths=tuple(widths),
                                               normalize=normalize, dropout=dropout), **kwargs)

    def features(self):
        """A model from the image to the pooled features (the classifier's feature space for KID)."""
        return keras.Model(self.inputs, self.get_layer("features").output)


# -- the generator --------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class ConditioningAugmentation(layers.Layer):
    """``[embedding, eps]`` -> ``mu + exp(logvar / 2) * eps`` with ``(mu, logvar)`` a linear map of the embedding;
    adds ``kl_weight * mean(KL)`` (mean over batch and dimensions, as StackGAN-Pytorch's ``KL_loss``)."""

    def __init__(self, condition_dim=128, kl_weight=2.0, **kwargs):
        super().__init__(**kwargs)
        self.condition_dim, self.kl_weight = int(condition_dim), float(kl_weight)
        self.dense = layers.Dense(2 * self.condition_dim, kernel_initializer=INIT(), dtype="float32", name="fc")

    def build(self, shapes):
        self.dense.build(shapes[0])

    def call(self, inputs):
        embedding, eps = inputs
        h = self.dense(ops.cast(embedding, "float32"))
        mu, logvar = h[:, :self.condition_dim], h[:, self.condition_dim:]
        if self.kl_weight:
            kl = -0.5 * ops.mean(1.0 + logvar - ops.square(mu) - ops.exp(logvar))
            self.add_loss(self.kl_weight * kl)
        return mu + ops.exp(0.5 * logvar) * ops.cast(eps, "float32")

    def compute_output_shape(self, shapes):
        return (shapes[0][0], self.condition_dim)

    def get_config(self):
        return dict(super().get_config(), condition_dim=self.condition_dim, kl_weight=self.kl_weight)


@keras.saving.register_keras_serializable("zoo")
class StageOneGenerator(Generator):
    """``[z, embedding]`` -> 64x64 image; ``z`` is ``noise_dim`` noise then ``condition_dim`` CA noise."""

    def __init__(self, embedding_dim=256, noise_dim=100, condition_dim=128, width=32, image_size=64,
                 kl_weight=2.0, **kwargs):
        if image_size != 64:
            raise ValueError(f"stage I draws 64x64 images, got image_size {image_size}")
        z = keras.Input((noise_dim + condition_dim,), name="z")
        embedding = keras.Input((embedding_dim,), name="embedding")
        noise, eps = z[:, :noise_dim], z[:, noise_dim:]
        c = ConditioningAugmentation(condition_dim, kl_weight, name="ca")([embedding, eps])
        x = layers.Concatenate()([noise, c])
        x = layers.Dense(4 * 4 * 8 * width, use_bias=False, kernel_initializer=INIT(), name="fc")(x)
        x = layers.ReLU()(layers.BatchNormalization(name="fc_bn")(x))
        x = layers.Reshape((4, 4, 8 * width))(x)
        for i, w in enumerate((4 * width, 2 * width, width, width // 2)):
            x = NearestUpsampling(name=f"up{i}")(x)
            x = layers.Conv2D(w, 3, padding="same", use_bias=False, kernel_initializer=INIT(), name=f"conv{i}")(x)
            x = layers.ReLU()(layers.BatchNormalization(name=f"bn{i}")(x))
        x = layers.Conv2D(3, 3, padding="same", kernel_initializer=INIT(), name="to_rgb")(x)
        image = layers.Activation("tanh", dtype="float32")(x)
        super().__init__([z, embedding], image, config=dict(
            embedding_dim=embedding_dim, noise_dim=noise_dim, condition_dim=condition_dim, width=width,
            image_size=image_size, kl_weight=kl_weight), **kwargs)

    @property
    def latent_dim(self):
        return self._zoo_config["noise_dim"] + self._zoo_config["condition_dim"]


@keras.saving.register_keras_serializable("zoo")
class TextToImageGenerator(Generator):
    """``[z, word ids]`` -> image: ``TextEncoder`` (frozen in GAN training) then ``StageOneGenerator``.

    ``generate(text, n, seed)`` and ``interpolate(text_a, text_b, steps)`` take sentences (``zoo.apps.text2image``
    attaches the preset's vocabulary as ``vocabulary``)."""

    def __init__(self, vocab_size, max_length=30, word_dim=128, filters=256, embedding_dim=256, noise_dim=100,
                 condition_dim=128, width=32, image_size=64, kl_weight=2.0, **kwargs):
        encoder = TextEncoder(vocab_size, max_length, word_dim, filters, embedding_dim, name="text_encoder")
        stage1 = StageOneGenerator(embedding_dim, noise_dim, condition_dim, width, image_size, kl_weight,
                                   name="stage1")
        z = keras.Input((noise_dim + condition_dim,), name="z")
        ids = keras.Input((max_length,), dtype="int32", name="words")
        super().__init__([z, ids], stage1([z, encoder(ids)]), config=dict(
            vocab_size=vocab_size, max_length=max_length, word_dim=word_dim, filters=filters,
            embedding_dim=embedding_dim, noise_dim=noise_dim, condition_dim=condition_dim, width=width,
            image_size=image_size, kl_weight=kl_weight), **kwargs)
        self.vocabulary = None

    @property
    def latent_dim(self):
        return self._zoo_config["noise_dim"] + self._zoo_config["condition_dim"]

    @property
    def text_encoder(self):
        return self.get_layer("text_encoder")

    @property
    def stage1(self):
        return self.get_layer("stage1")

    # -- the user-facing verbs ----------------------------------------------------------------------------
    def embed(self, text):
        """Unit sentence embeddings ``(n, embedding_dim)`` of a sentence or a list of them (NumPy). Words the
        vocabulary does not hold are named in an ``UnknownWordsWarning`` (the model reads each as the unknown
        word: "a photograph of a cat" is, to it, "a <unk> of a <unk>")."""
        vocabulary = self._vocabulary()
        ids = vocabulary.encode(text)
        unknown = vocabulary.unknown(text)
        if unknown:
            import warnings

            from zoo.apps.text2image.text import UnknownWordsWarning

            warnings.warn(f"{len(unknown)} word(s) the model does not know, read as unknown: {', '.join(unknown)} "
                          f"(it knows the words of flower captions)", UnknownWordsWarning, stacklevel=3)
        return ops.convert_to_numpy(self.text_encoder(ids, training=False))

    def generate(self, text, n=None, seed=None, batch_size=64):
        """Images for ``text`` as uint8 NumPy ``(n, 64, 64, 3)``.

        ``text``: one sentence (``n`` images of it, default 1, different latent vectors) or a list of sentences
        (one image each; ``n`` must be None or their number). ``seed`` (int) fixes the latent vectors (drawn with
        NumPy, so the same on every backend): the same seed with different sentences keeps the noise and changes
        only the text. Words the vocabulary does not know count as unknown; sentences longer than
        ``vocabulary.max_length`` words are truncated (``text.Vocabulary``).
        """
        import numpy as np

        from zoo.checks import positive_int

        if isinstance(text, str):
            n = 1 if n is None else positive_int(n, "n")
            texts = [text] * n
        elif isinstance(text, (list, tuple)) and text:
            texts = list(text)
            if n is not None and positive_int(n, "n") != len(texts):
                raise ValueError(f"a list of {len(texts)} sentences gives one image each; n must be None or "
                                 f"{len(texts)}, got {n}")
        else:
            raise ValueError("text must be a sentence or a non-empty list of sentences")
        if seed is not None:
            positive_int(seed, "seed", minimum=0)
        batch_size = positive_int(batch_size, "batch_size")
        z = np.random.default_rng(seed).standard_normal((len(texts), self.latent_dim)).astype("float32")
        return self.from_latents(z, self.embed(texts), batch_size)

    def interpolate(self, text_a, text_b, steps=8, seed=0):
        """``steps`` images from ``text_a``'s embedding to ``text_b``'s (linear, renormalised; GAN-INT), one latent
        vector (``seed``) throughout: uint8 ``(steps, 64, 64, 3)``."""
        import numpy as np

        from zoo.checks import positive_int

        steps, seed = positive_int(steps, "steps", minimum=2), positive_int(seed, "seed", minimum=0)
        a, b = self.embed([text_a, text_b])
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        e = (1 - t) * a + t * b
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        z = np.random.default_rng(seed).standard_normal((1, self.latent_dim)).astype("float32")
        return self.from_latents(np.repeat(z, steps, axis=0), e)

    def from_latents(self, z, embeddings, batch_size=64):
        """uint8 images for latent vectors ``z`` and sentence embeddings (NumPy arrays of one length)."""
        import numpy as np

        from zoo import images
        from zoo.checks import positive_int
        from zoo.models import check_latents

        batch_size = positive_int(batch_size, "batch_size")
        z = check_latents(z, self.latent_dim)
        embeddings = check_latents(embeddings, int(self.stage1.inputs[1].shape[-1]), "embeddings")
        if len(embeddings) != len(z):
            raise ValueError(f"{len(z)} latent vectors but {len(embeddings)} embeddings: one of each per image")
        out = [ops.convert_to_numpy(self.stage1([z[i:i + batch_size], embeddings[i:i + batch_size]], training=False))
               for i in range(0, len(z), batch_size)]
        return images.to_uint8(np.concatenate(out))

    def _vocabulary(self):
        if self.vocabulary is None:
            from zoo.apps.text2image import vocabulary_for

            self.vocabulary = vocabulary_for(self)
        return self.vocabulary

    def export_graph(self):
        """``z`` float32 ``(N, latent_dim)`` and ``words`` int32 ``(N, max_length)`` (the vocabulary's ids) ->
        ``"output"`` float32 ``(N, 64, 64, 3)`` in [0, 1]; tokenising stays with the caller."""
        from zoo.models import to_unit

        z = keras.Input((self.latent_dim,), name="z")
        ids = keras.Input((self._zoo_config["max_length"],), dtype="int32", name="words")
        return keras.Model([z, ids], {"output": to_unit(self([z, ids]))}, name=f"{self.name}_export")


# -- the discriminator ----------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class MatchingDiscriminator(Discriminator):
    """``[image, embedding]`` -> one logit: real *and* matching the text (see the module docstring)."""

    def __init__(self, image_size=64, embedding_dim=256, width=64, projection_dim=128, **kwargs):
        if image_size != 64:
            raise ValueError(f"the stage-I discriminator judges 64x64 images, got image_size {image_size}")
        image = keras.Input((image_size, image_size, 3), name="image")
        embedding = keras.Input((embedding_dim,), name="embedding")
        x = image
        for i, w in enumerate((width, 2 * width, 4 * width, 8 * width)):
            x = layers.Conv2D(w, 4, 2, "same", use_bias=False, kernel_initializer=INIT(), name=f"conv{i}")(x)
            if i:
                x = layers.BatchNormalization(name=f"bn{i}")(x)
            x = LeakyReLU(0.2)(x)
        t = LeakyReLU(0.2)(layers.Dense(projection_dim, kernel_initializer=INIT(), name="project")(embedding))
        t = layers.Reshape((4, 4, projection_dim))(layers.RepeatVector(16)(t))
        x = layers.Concatenate()([x, t])
        x = layers.Conv2D(8 * width, 1, use_bias=False, kernel_initializer=INIT(), name="joint")(x)
        x = LeakyReLU(0.2)(layers.BatchNormalization(name="joint_bn")(x))
        logit = layers.Conv2D(1, 4, padding="valid", kernel_initializer=INIT(), dtype="float32", name="logit")(x)
        super().__init__([image, embedding], layers.Reshape((1,), dtype="float32")(logit), config=dict(
            image_size=image_size, embedding_dim=embedding_dim, width=width, projection_dim=projection_dim),
            **kwargs)
