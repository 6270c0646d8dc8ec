"""The text-to-image trainers: ``JointEmbedding`` (the sentence encoder, trained first) and ``TextToImage``
(GAN-CLS + GAN-INT with conditioning augmentation, a ``zoo.GAN``).

``TextToImage`` trains on ``(images, word ids, groups)`` batches (``text2image.dataset``): images in [-1, 1], one
caption per image, and a group id per image (the flower class; images of one group share their captions). The
frozen text encoder embeds the captions (``unpack``); the objective is Reed et al. 2016's (Algorithm 1) with the
non-saturating loss:

    D:  softplus(-D(x, e)) + softplus(D(G(z, e), e)) + wrong_weight * softplus(D(x, e_wrong))
    G:  softplus(-D(G(z, e), e)) over the batch and over GAN-INT's extra images softplus(-D(G(z', e_int), e_int))
        + the conditioning augmentation's KL (the generator's own loss, added by the core trainer)

* real image + matching text -> real, fake image + matching text -> fake (the core's critic), real image +
  mismatching text -> fake (term ``d_wrong``, added in ``discriminator_loss``): ``e_wrong`` is the embedding of the
  next example's caption (the batch rolled by one), counted only where the two examples' groups differ. Reed
  halves the two fake terms; here the three terms weigh the same (as text-to-image-tensorflow).
* GAN-INT: ``interpolation`` x batch extra fakes from ``e_int = normalise(0.5 e + 0.5 e_next)`` (the midpoint of
  two captions' embeddings, beta = 0.5 as the paper) reach G's adversarial term only; D never trains on them.
* The text encoder is frozen (``trainable = False``): no optimizer sees it; G trains its conditioning
  augmentation and stage I.
"""
import keras
from keras import ops

from zoo.gan import GAN, Critic


def _normalize(e):
    return e / ops.sqrt(ops.maximum(ops.sum(ops.square(e), axis=-1, keepdims=True), 1e-12))


@keras.saving.register_keras_serializable("zoo")
class TextToImage(GAN):
    """GAN-CLS / GAN-INT on a ``TextToImageGenerator`` and a ``MatchingDiscriminator`` (module docstring).

    Args:
        interpolation: GAN-INT's extra fakes per batch, as a fraction of the batch (0 turns GAN-INT off).
        wrong_weight: the weight of the mismatched-text term in D's loss.

    Logs: ``d_loss``, ``g_loss``, ``adversarial``, ``d_real``/``d_fake``/``d_acc`` (D's probabilities for real
    matching pairs and fakes, and its accuracy on them) and ``d_wrong`` (the weighted mismatched-text term,
    ``-log(1 - D(x, e_wrong))``: near 0 when D rejects real images with the wrong caption).
    """

    LOGS = ("d_wrong",)

    def __init__(self, generator, discriminator=None, interpolation=0.5, wrong_weight=1.0, **kwargs):
        if not 0.0 <= interpolation <= 1.0:
            raise ValueError(f"interpolation must be in [0, 1], got {interpolation}")
        generator.text_encoder.trainable = False
        super().__init__(generator, discriminator, **kwargs)
        if self.ema_generator is not None:
            self.ema_generator.text_encoder.trainable = False
        self.interpolation, self.wrong_weight = float(interpolation), float(wrong_weight)

    # -- hooks ----------------------------------------------------------------------------------------
    def unpack(self, data):
        """``(images, word ids[, groups])`` -> ``(images, {"embedding", "groups"})``; without groups every example
        is its own group. ``fit((images, ids, groups))`` on arrays arrives as ``((images, ids, groups),)``."""
        if isinstance(data, (tuple, list)) and len(data) == 1 and isinstance(data[0], (tuple, list)):
            data = data[0]
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("TextToImage trains on (images, word ids[, groups]) batches: text2image.dataset(...); "
                             f"got {type(data).__name__}")
        x, words = ops.convert_to_tensor(data[0]), ops.convert_to_tensor(data[1], "int32")
        max_length = self.generator.text_encoder.inputs[0].shape[1]
        if len(x.shape) != 4 or tuple(x.shape[1:]) != (64, 64, 3):
            raise ValueError(f"images must be (N, 64, 64, 3), got shape {tuple(x.shape)}")
        if len(words.shape) != 2 or words.shape[1] != max_length:
            raise ValueError(f"word ids must be (N, {max_length}), got shape {tuple(words.shape)}")
        n = ops.shape(x)[0]
        groups = (ops.convert_to_tensor(data[2], "int32") if len(data) == 3 and data[2] is not None
                  else ops.arange(n, dtype="int32"))
        embedding = ops.stop_gradient(self.generator.text_encoder(words, training=False))
        return x, {"embedding": embedding, "groups": ops.reshape(groups, (-1,))}

    def _interpolated(self, embedding):
        m = int(round(self.interpolation * embedding.shape[0])) if embedding.shape[0] is not None else 0
        e = embedding[:m]
        return _normalize(0.5 * e + 0.5 * ops.roll(embedding, 1, axis=0)[:m])

    def generate(self, real, condition, training=True):
        e = condition["embedding"]
        e_all = ops.concatenate([e, self._interpolated(e)], axis=0)
        z = keras.random.normal((ops.shape(e_all)[0], self.generator.latent_dim), seed=self.noise)
        images = self.generator.stage1([z, e_all], training=training)
        n = ops.shape(e)[0]
        return {"match": images[:n], "interp": images[n:]}

    def fakes(self, real, condition, outputs, step):
        """D's step: the fakes with their own captions; G's step: those and GAN-INT's, with their embeddings."""
        e = condition["embedding"]
        if step == "d":
            return outputs["match"], e
        return (ops.concatenate([outputs["match"], outputs["interp"]], axis=0),
                ops.concatenate([e, self._interpolated(e)], axis=0))

    def critics(self, real, condition, fakes, training=True):
        d = self.discriminator

        def judge(pair):
            return d([ops.cast(pair[0], "float32"), pair[1]], training=training)

        return {"d": Critic(judge, (ops.cast(real, "float32"), condition["embedding"]), fakes)}

    def discriminator_loss(self, real, condition, fakes, training=True):
        """The core's terms (real and fake pairs) plus ``d_wrong``: real images with the rolled captions."""
        terms, logs = super().discriminator_loss(real, condition, fakes, training)
        e, groups = condition["embedding"], condition["groups"]
        mismatched = ops.cast(ops.not_equal(groups, ops.roll(groups, 1, axis=0)), "float32")
        wrong = self.discriminator([ops.cast(real, "float32"), ops.roll(e, 1, axis=0)], training=training)
        terms["d_wrong"] = self.wrong_weight * mismatched * ops.softplus(ops.reshape(wrong, (-1,)))
        return terms, logs

    def call(self, data, training=False):
        """The fakes for a batch's captions (what the generator step produces for them)."""
        real, condition = self.unpack(data)
        return self.generate(real, condition, training=training)["match"]

    def iteration_flops(self, batch, count):
        """FLOPs per image of one step: G forward (1 + interpolation images) and backward, 3 G (1 + i); D forward
        and backward on real, wrong and fake pairs in its step (9 D), forward + input gradient on the (1 + i)
        fakes in G's (2 D (1 + i)); the frozen encoder's forward once."""
        real, condition = self.unpack(batch)
        n = int(ops.shape(real)[0])
        words = ops.convert_to_tensor(batch[1], "int32")
        z = keras.random.normal((n, self.generator.latent_dim))
        g = count(self.generator.stage1, [z, condition["embedding"]])
        t = count(self.generator.text_encoder, words)
        d = count(self.discriminator, [ops.cast(real, "float32"), condition["embedding"]])
        i = 1.0 + self.interpolation
        return int((3 * g * i + 9 * d + 2 * d * i + t) / n)


@keras.saving.register_keras_serializable("zoo")
class JointEmbedding(keras.Model):
    """The sentence encoder's training (Reed et al. 2016, "Learning Deep Representations of Fine-Grained Visual
    Descriptions", its symmetric objective, with a softmax in place of the hinge): on ``(images, word ids,
    groups)`` batches, the scores ``scale * image_embedding . text_embedding`` of every image against every
    caption in the batch; each image's target is the batch's captions of its group, each caption's the images of
    its group; the loss is the two cross-entropies' sum. ``fit`` it, then freeze ``text_encoder``."""

    def __init__(self, text_encoder, image_encoder, scale=10.0, **kwargs):
        super().__init__(**kwargs)
        self.text_encoder, self.image_encoder, self.scale = text_encoder, image_encoder, float(scale)
        self.accuracy = keras.metrics.Mean(name="accuracy")

    def call(self, data, training=False):
        images, words = data[0], data[1]
        return self.image_encoder(images, training=training), self.text_encoder(words, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        u, v = y_pred
        groups = ops.convert_to_tensor(x[2], "int32")
        scores = self.scale * ops.matmul(u, ops.transpose(v))
        same = ops.cast(ops.equal(groups[:, None], groups[None, :]), "float32")
        loss = 0.0
        for s, t in ((scores, same), (ops.transpose(scores), ops.transpose(same))):
            target = t / ops.sum(t, axis=1, keepdims=True)
            loss = loss + ops.mean(-ops.sum(target * ops.log_softmax(s, axis=1), axis=1))
        # the caption's best-scoring image is of its own group
        best = ops.argmax(scores, axis=0)
        self.accuracy.update_state(ops.mean(ops.cast(ops.equal(ops.take(groups, best), groups), "float32")))
        return loss

    @property
    def metrics(self):
        return super().metrics + [self.accuracy]
