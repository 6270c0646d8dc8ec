"""Text-to-image networks: a sentence encoder (Reed et al. 2016, "Learning Deep Representations of Fine-Grained
Visual Descriptions"), StackGAN's stage-I generator with conditioning augmentation (Zhang et al. 2017) and the
matching-aware discriminator of GAN-CLS (Reed et al. 2016, "Generative Adversarial Text to Image Synthesis"); and
DF-GAN's generator and discriminator (Tao et al., CVPR 2022, "DF-GAN: A Simple and Effective Baseline for
Text-to-Image Synthesis", as its reference code tobran/DF-GAN ``code/models/GAN.py``).

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

DF-GAN generator (``DFGenerator``, the reference's ``NetG``): ``[noise (100), sentence]`` -> a linear map of the
noise to 4x4 x ``8 width``, then one up-block per doubling to ``image_size`` (4 at 64 px, 5 at 128 px; channels 8,
8, 4, 2, 1 x ``width`` at 64 px), LeakyReLU 0.2, 3x3 convolution to RGB, tanh. Each up-block (``up_block``,
``G_Block``): nearest 2x, then a shortcut (a 1x1 convolution where the channels change) plus a residual of two
deep-fusion blocks, each followed by a 3x3 convolution. A fusion block (``fusion_block``, ``DFBLK``) is two
``Affine`` + LeakyReLU 0.2 stacks; an ``Affine`` scales and shifts every channel by ``gamma(c)``, ``beta(c)``,
two-layer MLPs of the condition ``c = [noise, sentence]``. So the sentence modulates the features in eight fusion
blocks (sixteen affines) at 64 px, at every resolution, instead of entering once at the input. The sentence
embedding (unit length) is scaled by ``sqrt(embedding_dim)`` where the networks read it (``sentence_scale``), so its
entries are about as large as the noise's. ``DFGANGenerator``: ``TextEncoder`` + ``DFGenerator`` (sub-networks
``text_encoder``, ``dfgan``).

DF-GAN discriminator (``DFDiscriminator``): ``DFFeatures`` (``NetD``: 3x3 convolution to ``width`` channels, then
one down-block per halving to 4x4 x ``8 width``; a down-block is a residual 4x4 stride-2 and 3x3 convolution pair
with LeakyReLU, scaled by a learned ``gamma`` that starts at 0, plus an average-pooled shortcut) and ``DFJudge``
(``NetC``, ``D_GET_LOGITS``: the sentence replicated over the 4x4 map and concatenated, 3x3 convolution to ``2
width``, LeakyReLU, 4x4 valid convolution to one logit). One-way: one output for "real and matching".

Parameters (the reference's counts, checked in the tests): ``width`` 32 (the reference's ngf = ndf) G 4,868,867 and
D 3,440,964 at 64 px, 7,306,499 and 5,079,365 at 128 px; ``width`` 16 (the presets) G 1,745,027 and D 897,700 at
64 px, 2,537,859 and 1,307,301 at 128 px. (The reference's D also holds an unused 1x1 convolution in its last
block: 65,792 parameters at width 32, 64 px; it is not built here.) The initialisation is PyTorch's default
(``TORCH_INIT``), as the reference leaves it.
"""
import math

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


class SentenceGenerator(Generator):
    """The verbs of a ``[z, word ids]`` -> image generator made of a ``text_encoder`` sub-network (frozen in GAN
    training) and an ``image_network`` sub-network ``[z, sentence embedding]`` -> image; both generators of this
    app (GAN-CLS's ``TextToImageGenerator``, ``DFGANGenerator``) are one.

    ``generate(text, n, seed)`` and ``interpolate(text_a, text_b, steps)`` take sentences (``zoo.apps.text2image``
    attaches the preset's vocabulary as ``vocabulary``)."""

    #: the layer name of the ``[z, embedding]`` -> image sub-network
    IMAGE_NETWORK = None

    @property
    def text_encoder(self):
        return self.get_layer("text_encoder")

    @property
    def image_network(self):
        """The ``[z, sentence embedding]`` -> image sub-network (what GAN training updates)."""
        return self.get_layer(self.IMAGE_NETWORK)

    @property
    def image_size(self):
        return self._zoo_config["image_size"]

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

    def generate(self, text, n=None, seed=None, batch_size=64, truncation=None):
        """Images for ``text`` as uint8 NumPy ``(n, size, size, 3)`` (``size``: ``image_size``, 64 or 128).

        ``text``: one sentence (``n`` images of it, default 1, different latent vectors) or a list of sentences
        (one image each; ``n`` must be None or their number). ``seed`` (int) fixes the latent vectors (drawn with
        NumPy, so the same on every backend): the same seed with different sentences keeps the noise and changes
        only the text. Words the vocabulary does not know count as unknown; sentences longer than
        ``vocabulary.max_length`` words are truncated (``text.Vocabulary``).

        ``truncation`` (psi in [0, 1], or None = 1 = off): the truncation trick, latent vectors pulled toward the
        mean latent, the origin: ``z' = psi * z`` (for GAN-CLS both the noise and the conditioning augmentation's
        ``eps``, so psi 0 draws each sentence's CA mean). Lower psi: images more typical of the sentence, less
        varied across seeds; the same seed gives the same images pulled toward the mean. DF-GAN samples with a
        truncated normal (0.88) for the same reason.
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
        return self.from_latents(z, self.embed(texts), batch_size, truncation=truncation)

    def interpolate(self, text_a, text_b, steps=8, seed=0, truncation=None):
        """``steps`` images from ``text_a``'s embedding to ``text_b``'s (linear, renormalised; GAN-INT), one latent
        vector (``seed``) throughout: uint8 ``(steps, size, size, 3)``; ``truncation`` as in ``generate``."""
        import numpy as np

        from zoo.checks import positive_int

        steps, seed = positive_int(steps, "steps", minimum=2), positive_int(seed, "seed", minimum=0)
        a, b = self.embed([text_a, text_b])
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        e = (1 - t) * a + t * b
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        z = np.random.default_rng(seed).standard_normal((1, self.latent_dim)).astype("float32")
        return self.from_latents(np.repeat(z, steps, axis=0), e, truncation=truncation)

    def from_latents(self, z, embeddings, batch_size=64, truncation=None):
        """uint8 images for latent vectors ``z`` and sentence embeddings (NumPy arrays of one length);
        ``truncation`` as in ``generate``."""
        import numpy as np

        from zoo import images
        from zoo.checks import positive_int, truncation_psi
        from zoo.models import check_latents

        batch_size = positive_int(batch_size, "batch_size")
        z = check_latents(z, self.latent_dim)
        if truncation is not None:
            z = truncation_psi(truncation) * z
        embeddings = check_latents(embeddings, int(self.image_network.inputs[1].shape[-1]), "embeddings")
        if len(embeddings) != len(z):
            raise ValueError(f"{len(z)} latent vectors but {len(embeddings)} embeddings: one of each per image")
        out = [ops.convert_to_numpy(self.image_network([z[i:i + batch_size], embeddings[i:i + batch_size]],
                                                        training=False))
               for i in range(0, len(z), batch_size)]
        return images.to_uint8(np.concatenate(out))

    def _vocabulary(self):
        if self.vocabulary is None:
            from zoo.apps.text2image import vocabulary_for

            self.vocabulary = vocabulary_for(self)
        return self.vocabulary

    def export_graph(self):
        """``z`` float32 ``(N, latent_dim)`` and ``words`` int32 ``(N, max_length)`` (the vocabulary's ids) ->
        ``"output"`` float32 ``(N, size, size, 3)`` in [0, 1]; tokenising stays with the caller."""
        from zoo.models import to_unit

        z = keras.Input((self.latent_dim,), name="z")
        ids = keras.Input((self._zoo_config["max_length"],), dtype="int32", name="words")
        return keras.Model([z, ids], {"output": to_unit(self([z, ids]))}, name=f"{self.name}_export")


@keras.saving.register_keras_serializable("zoo")
class TextToImageGenerator(SentenceGenerator):
    """``[z, word ids]`` -> image: ``TextEncoder`` (frozen in GAN training) then ``StageOneGenerator``; the verbs
    of ``SentenceGenerator``."""

    IMAGE_NETWORK = "stage1"

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
    def stage1(self):
        return self.get_layer("stage1")


# -- the discriminator ----------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo")
class MatchingDiscriminator(Discriminator):
    """``[image, embedding]`` -> one logit: real *and* matching the text (see the module docstring).

    ``classes`` > 0 adds TAC-GAN's auxiliary classifier (Dash et al. 2017, "TAC-GAN - Text Conditioned Auxiliary
    Classifier GAN"): a second output, ``classes`` logits of the image's class read from the image features alone
    (before the text joins them), a 4x4 convolution beside the real/fake logit's; the outputs are then
    ``[logit, class logits]`` (``TextToImage(aux_weight=)`` trains it)."""

    def __init__(self, image_size=64, embedding_dim=256, width=64, projection_dim=128, classes=0, **kwargs):
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
        features = x
        t = LeakyReLU(0.2)(layers.Dense(projection_dim, kernel_initializer=INIT(), name="project")(embedding))
        t = layers.Reshape((4, 4, projection_dim))(layers.RepeatVector(16)(t))
        x = layers.Concatenate()([x, t])
        x = layers.Conv2D(8 * width, 1, use_bias=False, kernel_initializer=INIT(), name="joint")(x)
        x = LeakyReLU(0.2)(layers.BatchNormalization(name="joint_bn")(x))
        logit = layers.Conv2D(1, 4, padding="valid", kernel_initializer=INIT(), dtype="float32", name="logit")(x)
        outputs = layers.Reshape((1,), dtype="float32")(logit)
        if classes:
            c = layers.Conv2D(classes, 4, padding="valid", kernel_initializer=INIT(), dtype="float32",
                              name="classes")(features)
            outputs = [outputs, layers.Reshape((classes,), dtype="float32")(c)]
        super().__init__([image, embedding], outputs, config=dict(
            image_size=image_size, embedding_dim=embedding_dim, width=width, projection_dim=projection_dim,
            classes=classes), **kwargs)


# -- DF-GAN (Tao et al., CVPR 2022, "DF-GAN: A Simple and Effective Baseline for Text-to-Image Synthesis") -----
def TORCH_INIT():
    """PyTorch's default for ``nn.Linear`` / ``nn.Conv2d`` weights (the reference code keeps it):
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``; biases start at 0 here (PyTorch draws them from the same range)."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


def _conv(filters, kernel, name, strides=1, padding="same", use_bias=True, dtype=None):
    return layers.Conv2D(filters, kernel, strides, padding, use_bias=use_bias, kernel_initializer=TORCH_INIT(),
                         name=name, dtype=dtype)


def channels(width, image_size):
    """DF-GAN's channel ladder (``get_G_in_out_chs`` / ``get_D_in_out_chs``): ``width * min(2^i, 8)`` for
    ``i < log2(image_size) - 1``, from the image side: 64 px -> (1, 2, 4, 8, 8) x width, 128 px -> (1, 2, 4, 8, 8,
    8) x width. The generator walks it backwards from 4x4 (one up-block per step), the discriminator forwards to
    4x4."""
    if image_size < 32 or image_size & (image_size - 1):
        raise ValueError(f"DF-GAN draws square images of a power of two >= 32 pixels, got image_size {image_size}")
    n = int(math.log2(image_size)) - 1
    return [width * min(2 ** i, 8) for i in range(n)]


@keras.saving.register_keras_serializable("zoo")
class Affine(layers.Layer):
    """DF-GAN's affine transformation: ``[x (N, H, W, C), condition (N, D)]`` -> ``gamma(c) * x + beta(c)``, each of
    ``gamma``, ``beta`` an MLP ``Linear(D, C), ReLU, Linear(C, C)`` of the condition, one value per channel. The last
    linear layers start at zero weights with bias 1 (``gamma``) and 0 (``beta``): a fresh block is the identity and
    the sentence's modulation grows in training (the reference's ``_initialize``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, shapes):
        x_shape, c_shape = shapes
        c = int(x_shape[-1])

        def dense(name, kernel=None, bias="zeros", activation=None):
            return layers.Dense(c, activation, kernel_initializer=kernel or TORCH_INIT(), bias_initializer=bias,
                                dtype=self.dtype_policy, name=name)

        self.gamma1, self.beta1 = dense("gamma1", activation="relu"), dense("beta1", activation="relu")
        self.gamma2, self.beta2 = dense("gamma2", "zeros", "ones"), dense("beta2", "zeros")
        for first, second in ((self.gamma1, self.gamma2), (self.beta1, self.beta2)):
            first.build(c_shape)
            second.build((c_shape[0], c))

    def call(self, inputs):
        x, condition = inputs
        gamma = self.gamma2(self.gamma1(condition))[:, None, None, :]
        beta = self.beta2(self.beta1(condition))[:, None, None, :]
        return gamma * x + beta

    def compute_output_shape(self, shapes):
        return shapes[0]


def fusion_block(x, condition, name):
    """DFBLK, the deep text-image fusion block: ``Affine``, LeakyReLU 0.2, ``Affine``, LeakyReLU 0.2, each affine
    predicted from ``condition`` (the sentence embedding with the noise)."""
    for i in range(2):
        x = LeakyReLU(0.2, name=f"{name}_lrelu{i}")(Affine(name=f"{name}_affine{i}")([x, condition]))
    return x


def up_block(x, condition, out_channels, name):
    """G_Block: nearest 2x, then ``shortcut + residual``; the residual is fusion, 3x3 convolution, fusion, 3x3
    convolution; the shortcut a 1x1 convolution where the channels change, the identity otherwise."""
    x = NearestUpsampling(name=f"{name}_up")(x)
    shortcut = x if x.shape[-1] == out_channels else _conv(out_channels, 1, f"{name}_shortcut")(x)
    h = _conv(out_channels, 3, f"{name}_conv1")(fusion_block(x, condition, f"{name}_fuse1"))
    h = _conv(out_channels, 3, f"{name}_conv2")(fusion_block(h, condition, f"{name}_fuse2"))
    return layers.Add(name=f"{name}_add")([shortcut, h])


def sentence_factor(embedding_dim, scale=None):
    """The factor the networks multiply the unit sentence embedding by (``sqrt(embedding_dim)`` by default, so its
    entries have about the noise's unit scale: the reference's DAMSM sentence vectors are not normalised)."""
    return float(math.sqrt(embedding_dim) if scale is None else scale)


@keras.saving.register_keras_serializable("zoo")
class DFGenerator(Generator):
    """DF-GAN's one-stage generator (``NetG``): ``[noise (N, noise_dim), sentence (N, embedding_dim)]`` -> image.

    A linear map of the noise to 4x4 x ``8 width``; the condition ``[noise, sentence]``; one ``up_block`` per
    doubling to ``image_size`` (channels from ``channels(width, image_size)`` backwards: 64 px 8-8-4-2-1 x width,
    four blocks; 128 px five); LeakyReLU 0.2, 3x3 convolution to RGB, tanh. ``width`` is the reference's ``ngf``
    (32 there at 256 px)."""

    def __init__(self, embedding_dim=256, noise_dim=100, width=32, image_size=64, sentence_scale=None, **kwargs):
        ladder = channels(width, image_size)[::-1]
        noise = keras.Input((noise_dim,), name="z")
        sentence = keras.Input((embedding_dim,), name="embedding")
        s = layers.Rescaling(sentence_factor(embedding_dim, sentence_scale), name="sentence_scale")(sentence)
        condition = layers.Concatenate(name="condition")([noise, s])
        x = layers.Dense(4 * 4 * ladder[0], kernel_initializer=TORCH_INIT(), name="fc")(noise)
        x = layers.Reshape((4, 4, ladder[0]))(x)
        for i, c in enumerate(ladder[1:]):
            x = up_block(x, condition, c, f"block{i}")
        x = _conv(3, 3, "to_rgb")(LeakyReLU(0.2, name="out_lrelu")(x))
        image = layers.Activation("tanh", dtype="float32", name="tanh")(x)
        super().__init__([noise, sentence], image, config=dict(
            embedding_dim=embedding_dim, noise_dim=noise_dim, width=width, image_size=image_size,
            sentence_scale=sentence_scale), **kwargs)

    @property
    def latent_dim(self):
        return self._zoo_config["noise_dim"]



@keras.saving.register_keras_serializable("zoo")
class DFGANGenerator(SentenceGenerator):
    """``[z, word ids]`` -> image: ``TextEncoder`` (frozen in GAN training) then ``DFGenerator`` (sub-network
    ``dfgan``); the verbs of ``SentenceGenerator``. ``z`` is the ``noise_dim`` noise."""

    IMAGE_NETWORK = "dfgan"

    def __init__(self, vocab_size, max_length=30, word_dim=128, filters=256, embedding_dim=256, noise_dim=100,
                 width=32, image_size=64, sentence_scale=None, **kwargs):
        encoder = TextEncoder(vocab_size, max_length, word_dim, filters, embedding_dim, name="text_encoder")
        netg = DFGenerator(embedding_dim, noise_dim, width, image_size, sentence_scale, name="dfgan")
        z = keras.Input((noise_dim,), name="z")
        ids = keras.Input((max_length,), dtype="int32", name="words")
        super().__init__([z, ids], netg([z, encoder(ids)]), config=dict(
            vocab_size=vocab_size, max_length=max_length, word_dim=word_dim, filters=filters,
            embedding_dim=embedding_dim, noise_dim=noise_dim, width=width, image_size=image_size,
            sentence_scale=sentence_scale), **kwargs)
        self.vocabulary = None

    @property
    def latent_dim(self):
        return self._zoo_config["noise_dim"]


@keras.saving.register_keras_serializable("zoo")
class ResidualScale(layers.Layer):
    """``[shortcut, residual]`` -> ``shortcut + gamma * residual`` with one learned scalar ``gamma`` starting at 0
    (DF-GAN's ``D_Block``: a fresh block passes its shortcut alone)."""

    def build(self, shapes):
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def call(self, inputs):
        shortcut, residual = inputs
        return shortcut + ops.cast(self.gamma, residual.dtype) * residual

    def compute_output_shape(self, shapes):
        return shapes[0]


def down_block(x, out_channels, name):
    """D_Block: residual = 4x4 stride-2 convolution, LeakyReLU 0.2, 3x3 convolution, LeakyReLU 0.2 (no biases);
    shortcut = 1x1 convolution where the channels change, then 2x2 average pooling; ``shortcut + gamma *
    residual``."""
    r = LeakyReLU(0.2)(_conv(out_channels, 4, f"{name}_conv1", strides=2, use_bias=False)(x))
    r = LeakyReLU(0.2)(_conv(out_channels, 3, f"{name}_conv2", use_bias=False)(r))
    s = x if x.shape[-1] == out_channels else _conv(out_channels, 1, f"{name}_shortcut")(x)
    s = layers.AveragePooling2D(2, name=f"{name}_pool")(s)
    return ResidualScale(name=f"{name}_scale")([s, r])


@keras.saving.register_keras_serializable("zoo")
class DFFeatures(Network):
    """DF-GAN's image side of the discriminator (``NetD``): 3x3 convolution to ``width`` channels, then one
    ``down_block`` per halving to 4x4 (channels ``channels(width, image_size)``): ``(N, 4, 4, 8 width)``."""

    def __init__(self, image_size=64, width=32, **kwargs):
        ladder = channels(width, image_size)
        image = keras.Input((image_size, image_size, 3), name="image")
        x = _conv(ladder[0], 3, "from_rgb")(image)
        for i, c in enumerate(ladder[1:]):
            x = down_block(x, c, f"block{i}")
        super().__init__(image, x, config=dict(image_size=image_size, width=width), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class DFJudge(Network):
    """DF-GAN's one-way output (``NetC``, ``D_GET_LOGITS``): ``[features (N, 4, 4, 8 width), sentence]`` -> one
    logit: the sentence replicated over the 4x4 map and concatenated, 3x3 convolution to ``2 width``, LeakyReLU
    0.2, 4x4 valid convolution to one value (no biases)."""

    def __init__(self, embedding_dim=256, width=32, sentence_scale=None, **kwargs):
        features = keras.Input((4, 4, 8 * width), name="features")
        sentence = keras.Input((embedding_dim,), name="embedding")
        s = layers.Rescaling(sentence_factor(embedding_dim, sentence_scale), name="sentence_scale")(sentence)
        s = layers.Reshape((4, 4, embedding_dim))(layers.RepeatVector(16)(s))
        x = layers.Concatenate(name="joint")([features, s])
        x = LeakyReLU(0.2)(_conv(2 * width, 3, "joint_conv", use_bias=False)(x))
        x = _conv(1, 4, "logit", padding="valid", use_bias=False, dtype="float32")(x)
        super().__init__([features, sentence], layers.Reshape((1,), dtype="float32")(x), config=dict(
            embedding_dim=embedding_dim, width=width, sentence_scale=sentence_scale), **kwargs)


@keras.saving.register_keras_serializable("zoo")
class DFDiscriminator(Discriminator):
    """``[image, sentence embedding]`` -> one logit, real *and* matching: ``DFFeatures`` (sub-network
    ``features``) then ``DFJudge`` (``judge``). The trainer calls the two apart: the real images' features are
    judged with their own and with mismatched sentences from one forward of ``features``. ``width`` is the
    reference's ``ndf``."""

    def __init__(self, image_size=64, embedding_dim=256, width=32, sentence_scale=None, **kwargs):
        features = DFFeatures(image_size, width, name="features")
        judge = DFJudge(embedding_dim, width, sentence_scale, name="judge")
        image = keras.Input((image_size, image_size, 3), name="image")
        sentence = keras.Input((embedding_dim,), name="embedding")
        super().__init__([image, sentence], judge([features(image), sentence]), config=dict(
            image_size=image_size, embedding_dim=embedding_dim, width=width, sentence_scale=sentence_scale),
            **kwargs)

    @property
    def sentence_scale(self):
        """The factor D multiplies the (unit) sentence embedding by (``sentence_factor``)."""
        return sentence_factor(self._zoo_config["embedding_dim"], self._zoo_config["sentence_scale"])

    @property
    def features(self):
        return self.get_layer("features")

    @property
    def judge(self):
        return self.get_layer("judge")
