"""The text-to-image trainers: ``JointEmbedding`` (the sentence encoder, trained first), ``TextToImage``
(GAN-CLS + GAN-INT with conditioning augmentation, a ``zoo.GAN``) and ``DFGAN`` (DF-GAN's hinge loss, mismatched
pairs and MA-GP; its own docstring), both ``SentenceGAN``s.

``TextToImage`` trains on ``(images, word ids, groups)`` batches (``text2image.dataset``): images in [-1, 1], one
caption per image, and a group id per image (the flower class; images of one group share their captions). The
frozen text encoder embeds the captions (``unpack``); the objective is Reed et al. 2016's (Algorithm 1) with the
non-saturating loss:

    D:  softplus(-D(x, e)) + softplus(D(G(z, e), e)) + wrong_weight * softplus(D(x, e_wrong))
    G:  softplus(-D(G(z, e), e)) over the batch and over GAN-INT's extra images softplus(-D(G(z', e_int), e_int))
        + the conditioning augmentation's KL (the generator's own loss, added by the core trainer)

* real image + matching text -> real, fake image + matching text -> fake (the core's critic), real image +
  mismatching text -> fake (term ``d_wrong``, added in ``discriminator_loss``): ``e_wrong`` is the embedding of the
  previous example's caption (the batch rolled by one), counted only where the two examples' groups differ. Reed
  halves the two fake terms; here the three terms weigh the same (as text-to-image-tensorflow).
* GAN-INT: ``interpolation`` x batch extra fakes from ``e_int = normalise(0.5 e + 0.5 e_next)`` (the midpoint of
  two captions' embeddings, beta = 0.5 as the paper) reach G's adversarial term only; D never trains on them.
* The text encoder is frozen (``trainable = False``): no optimizer sees it; G trains its conditioning
  augmentation and stage I.
* Optional, off by default: AttnGAN's sentence-level DAMSM term (``SentenceGAN``'s ``contrastive_weight``) and
  TAC-GAN's auxiliary classifier (``aux_weight``: D also names the real image's class, G's image is asked to be
  named as its caption's class).
"""
import threading

import keras
from keras import ops

from zoo import distribute, losses
from zoo.gan import GAN, Critic


def _normalize(e):
    return e / ops.sqrt(ops.maximum(ops.sum(ops.square(e), axis=-1, keepdims=True), 1e-12))


def sentence_contrastive(images, sentences, groups, scale=10.0):
    """The symmetric image-sentence cross-entropy of ``JointEmbedding``, per example: with ``scores = scale *
    images . sentences^T`` (unit vectors), row ``i``'s term is image ``i``'s cross-entropy against the batch's
    sentences (target: those of its group, equally) plus sentence ``i``'s against the batch's images; the mean
    over the rows is the two directions' mean cross-entropies summed. Several replicas: over the global batch
    (gathered differentiably), each replica its rows' terms."""
    d = ops.shape(images)[1]

    def terms(packed):
        u, v, g = packed[:, :d], packed[:, d:2 * d], packed[:, 2 * d]
        scores = scale * ops.matmul(u, ops.transpose(v))
        same = ops.cast(ops.equal(g[:, None], g[None, :]), "float32")
        out = 0.0
        for s, t in ((scores, same), (ops.transpose(scores), same)):  # ``same`` is symmetric
            out = out - ops.sum(t / ops.sum(t, axis=1, keepdims=True) * ops.log_softmax(s, axis=1), axis=1)
        return out

    packed = ops.concatenate([ops.cast(images, "float32"), ops.cast(sentences, "float32"),
                              ops.cast(groups, "float32")[:, None]], axis=1)
    return distribute.on_global_batch(terms, packed)


class SentenceGAN(GAN):
    """What the text-to-image trainers share: a ``SentenceGenerator`` whose text encoder is frozen, and batches of
    ``(images, word ids[, groups])`` unpacked to ``(images, {"embedding", "groups"})``.

    ``image_encoder`` and ``contrastive_weight`` (optional) add AttnGAN's sentence-level DAMSM term to G's loss
    (Xu et al. 2018; XMC-GAN's image-sentence contrastive loss, Zhang et al. 2021, is the same form): the frozen
    image encoder trained with the text encoder (``JointEmbedding``) embeds G's images of the batch's captions,
    and ``contrastive_weight x sentence_contrastive`` (scale 10, as the encoder's training) asks each image to be
    the one its sentence picks out of the batch and the other way round (logged as ``contrastive``). Images larger
    than the encoder's input are average-pooled down to it."""

    def __init__(self, generator, discriminator=None, image_encoder=None, contrastive_weight=0.0, **kwargs):
        if contrastive_weight < 0 or (contrastive_weight and image_encoder is None):
            raise ValueError("contrastive_weight must be >= 0, and > 0 needs the image_encoder trained with the "
                             f"text encoder (JointEmbedding); got {contrastive_weight} with "
                             f"{'no' if image_encoder is None else 'an'} image encoder")
        generator.text_encoder.trainable = False
        super().__init__(generator, discriminator, **kwargs)
        if self.ema_generator is not None:
            self.ema_generator.text_encoder.trainable = False
        if image_encoder is not None:
            size, own = int(image_encoder.inputs[0].shape[1]), int(generator.image_size)
            if own % size:
                raise ValueError(f"the image encoder reads {size}x{size} images; the generator draws {own}x{own}, "
                                 "not a multiple")
            image_encoder.trainable = False
        self.image_encoder, self.contrastive_weight = image_encoder, float(contrastive_weight)

    def matching_images(self, outputs):
        """G's images of the batch's own captions, from ``generate``'s outputs."""
        return outputs

    def generator_extra_losses(self, real, outputs, condition):
        if not self.contrastive_weight:
            return {}
        images = ops.cast(self.matching_images(outputs), "float32")
        factor = int(self.generator.image_size) // int(self.image_encoder.inputs[0].shape[1])
        if factor > 1:
            images = ops.average_pool(images, factor, factor)
        u = self.image_encoder(images, training=False)
        return {"contrastive": self.contrastive_weight * sentence_contrastive(u, condition["embedding"],
                                                                              condition["groups"])}

    def unpack(self, data):
        """``(images, word ids[, groups])`` -> ``(images, {"embedding", "groups"})``; without groups every example
        is its own group. ``fit((images, ids, groups))`` on arrays arrives as ``((images, ids, groups),)``."""
        if isinstance(data, (tuple, list)) and len(data) == 1 and isinstance(data[0], (tuple, list)):
            data = data[0]
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError(f"{type(self).__name__} trains on (images, word ids[, groups]) batches: "
                             f"text2image.dataset(...); got {type(data).__name__}")
        x, words = ops.convert_to_tensor(data[0]), ops.convert_to_tensor(data[1], "int32")
        max_length = self.generator.text_encoder.inputs[0].shape[1]
        size = self.generator.image_size
        if len(x.shape) != 4 or tuple(x.shape[1:]) != (size, size, 3):
            raise ValueError(f"images must be (N, {size}, {size}, 3), got shape {tuple(x.shape)}")
        if len(words.shape) != 2 or words.shape[1] != max_length:
            raise ValueError(f"word ids must be (N, {max_length}), got shape {tuple(words.shape)}")
        n = ops.shape(x)[0]
        if len(data) == 3 and data[2] is not None:
            groups = ops.convert_to_tensor(data[2], "int32")
        elif distribute.num_replicas() == 1:
            groups = ops.arange(n, dtype="int32")
        else:  # several replicas: the global batch's row numbers (the replicas' groups must not collide)
            groups = ops.arange(n, dtype="int32") + ops.cast(distribute.replica_id(), "int32") * n
        embedding = ops.stop_gradient(self.generator.text_encoder(words, training=False))
        return x, {"embedding": embedding, "groups": ops.reshape(groups, (-1,))}

    @staticmethod
    def mismatched(condition):
        """The mismatched-text pairs: each example's caption embedding is replaced by the previous example's
        (the batch rolled by one); ``(rolled embeddings, 1.0 where the two examples' groups differ else 0.0)``.
        Several ``tf.distribute`` replicas: the global batch is rolled, as one device rolls it (each replica's
        first example takes the previous replica's last caption; ``distribute.on_global_batch``)."""
        e, groups = condition["embedding"], condition["groups"]
        rolled = distribute.on_global_batch(lambda t: ops.roll(t, 1, axis=0), e)
        differ = distribute.on_global_batch(lambda g: ops.not_equal(g, ops.roll(g, 1, axis=0)), groups)
        return rolled, ops.cast(differ, "float32")


@keras.saving.register_keras_serializable("zoo")
class TextToImage(SentenceGAN):
    """GAN-CLS / GAN-INT on a ``TextToImageGenerator`` and a ``MatchingDiscriminator`` (module docstring).

    Args:
        interpolation: GAN-INT's extra fakes per batch, as a fraction of the batch (0 turns GAN-INT off).
        wrong_weight: the weight of the mismatched-text term in D's loss.

        aux_weight: TAC-GAN's auxiliary classifier (Dash et al. 2017), for a discriminator built with ``classes``
            (``MatchingDiscriminator(classes=)``) and batches whose groups are class ids: D adds ``aux_weight x``
            its classifier's cross-entropy on the real images (``d_class``), G ``aux_weight x`` the same on its
            images of the batch's captions against the captions' classes (``g_class``; GAN-INT's in-between
            images have no class and are left out). D's classifier learns from real images only, so G cannot
            teach it its own mistakes. 0: off.

    Logs: ``d_loss``, ``g_loss``, ``adversarial``, ``d_real``/``d_fake``/``d_acc`` (D's probabilities for real
    matching pairs and fakes, and its accuracy on them) and ``d_wrong`` (the weighted mismatched-text term,
    ``-log(1 - D(x, e_wrong))``: near 0 when D rejects real images with the wrong caption); with ``aux_weight``,
    ``d_class`` / ``g_class`` (weighted) and ``class_acc`` (D's classifier's accuracy on the fakes' classes).
    """

    LOGS = ("d_wrong", "contrastive", "d_class", "g_class", "class_acc")

    def __init__(self, generator, discriminator=None, interpolation=0.5, wrong_weight=1.0, aux_weight=0.0,
                 **kwargs):
        if not 0.0 <= interpolation <= 1.0:
            raise ValueError(f"interpolation must be in [0, 1], got {interpolation}")
        classes = int((discriminator.get_config().get("classes") or 0) if discriminator is not None else 0)
        if aux_weight < 0 or (aux_weight and not classes):
            raise ValueError(f"aux_weight must be >= 0, and > 0 needs a discriminator built with classes "
                             f"(MatchingDiscriminator(classes=N)); got {aux_weight} with classes={classes}")
        super().__init__(generator, discriminator, **kwargs)
        self.interpolation, self.wrong_weight = float(interpolation), float(wrong_weight)
        self.classes, self.aux_weight = classes, float(aux_weight)
        # (D's logit, class logits) of the judge's calls in the loss being built: one list per thread, as the
        # replicas of a tf.distribute step are built in threads that take turns at each collective
        self._judged = threading.local()

    # -- hooks ----------------------------------------------------------------------------------------
    def _interpolations(self, n):
        """GAN-INT's extra images of a replica's batch of ``n``: ``round(interpolation x n)`` on one device; over
        ``R`` replicas ``round(interpolation x global batch) / R`` (one device's count, each replica its share;
        where that count is not a multiple of ``R``, the nearest multiple, ``R x round(count / R)``)."""
        if n is None:
            return 0
        r = distribute.num_replicas()
        m = int(round(self.interpolation * distribute.global_batch(n)))
        return m if r == 1 else int(round(m / r))

    def _interpolated(self, embedding):
        """GAN-INT's embeddings: ``normalise(0.5 e_i + 0.5 e_(i-1))`` for the batch's first rows (example 0 with
        the last). Several ``tf.distribute`` replicas: those of one device's global batch (gathered), each
        replica its share of the rows."""
        m = self._interpolations(embedding.shape[0])

        def midpoints(e, rows):
            return _normalize(0.5 * e[:rows] + 0.5 * ops.roll(e, 1, axis=0)[:rows])

        r = distribute.num_replicas()
        if r == 1 or m == 0:
            return midpoints(embedding, m)
        return distribute.replica_rows(midpoints(distribute.all_gather(embedding), r * m), m)

    def _latents(self, n, m):
        """``z`` for the ``n`` matching and ``m`` GAN-INT images: one draw of ``n + m`` rows on one device. Several
        ``tf.distribute`` replicas: one device's draw for the global ``R n + R m`` rows (matching rows first), each
        replica its rows of either part (``distribute.replica_rows``)."""
        latent = self.generator.latent_dim
        r = distribute.num_replicas()
        if r == 1:
            return keras.random.normal((n + m, latent), seed=self.noise)
        z = keras.random.normal((r * (n + m), latent), seed=self.noise)
        return ops.concatenate([distribute.replica_rows(z[:r * n], n), distribute.replica_rows(z[r * n:], m)], axis=0)

    def generate(self, real, condition, training=True):
        e = condition["embedding"]
        interpolated = self._interpolated(e)
        e_all = ops.concatenate([e, interpolated], axis=0)
        n = ops.shape(e)[0]
        z = self._latents(n, ops.shape(interpolated)[0])
        images = self.generator.stage1([z, e_all], training=training)
        return {"match": images[:n], "interp": images[n:]}

    def _generate_with_losses(self, real, condition):
        """The core's G forward and G's own losses (the conditioning augmentation's KL, ``add_loss``). Several
        ``tf.distribute`` replicas: Keras keeps a layer's ``add_loss`` terms in one list per layer, shared by the
        replicas (their threads build the step in turn, and each one's call clears the list), so after stage I's
        synchronised batch norms every replica would read the last replica's KL. The KL is taken again from a call
        of the conditioning augmentation alone on this replica's embeddings (no collective between that call and
        the read: no other replica runs in between); its output is not used."""
        outputs, own = super()._generate_with_losses(real, condition)
        if distribute.num_replicas() == 1:
            return outputs, own
        from zoo.apps.text2image.networks import ConditioningAugmentation

        e = condition["embedding"]
        e_all = ops.concatenate([e, self._interpolated(e)], axis=0)
        for net in self.generators.values():
            for layer in net._flatten_layers(include_self=False, recursive=True):
                if isinstance(layer, ConditioningAugmentation):
                    layer([e_all, ops.zeros((ops.shape(e_all)[0], layer.condition_dim), "float32")])
        terms = [ops.cast(loss, "float32") for net in self.generators.values() for loss in net.losses]
        return outputs, sum(terms) if terms else ops.zeros((), "float32")

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
            out = d([ops.cast(pair[0], "float32"), pair[1]], training=training)
            if not self.classes:
                return out
            # the core's loss sees the real/fake logit; the class terms read the class logits of the same call
            self._calls().append(out)
            return out[0]

        return {"d": Critic(judge, (ops.cast(real, "float32"), condition["embedding"]), fakes)}

    def _calls(self):
        if not hasattr(self._judged, "calls"):
            self._judged.calls = []
        return self._judged.calls

    def _classes_of(self, logit):
        """The class logits D gave beside ``logit`` (one of the judge's outputs in this step)."""
        return next(c for lg, c in self._calls() if lg is logit)

    def _logit(self, images, embedding, training):
        out = self.discriminator([ops.cast(images, "float32"), embedding], training=training)
        return out[0] if self.classes else out

    def discriminator_loss(self, real, condition, fakes, training=True):
        """The core's terms (real and fake pairs) plus ``d_wrong``: real images with the rolled captions; with
        ``aux_weight``, ``d_class`` (``discriminator_extra_losses``)."""
        self._judged.calls = []
        terms, logs = super().discriminator_loss(real, condition, fakes, training)
        e_wrong, mismatched = self.mismatched(condition)
        wrong = self._logit(real, e_wrong, training)
        terms["d_wrong"] = self.wrong_weight * mismatched * ops.softplus(ops.reshape(wrong, (-1,)))
        return terms, logs

    def discriminator_extra_losses(self, real, condition, fakes, logits):
        if not self.aux_weight:
            return {}
        classes = self._classes_of(logits["d"][0])
        return {"d_class": self.aux_weight * keras.losses.sparse_categorical_crossentropy(
            condition["groups"], classes, from_logits=True)}

    def generator_loss(self, real, condition, outputs, training=True):
        self._judged.calls = []
        return super().generator_loss(real, condition, outputs, training)

    def _fake_classes(self, condition):
        """The class logits of G's images of the batch's captions: the adversarial term judged the matching fakes
        (first rows) and GAN-INT's, in the judge's last call."""
        return self._calls()[-1][1][:ops.shape(condition["groups"])[0]]

    def generator_extra_losses(self, real, outputs, condition):
        terms = super().generator_extra_losses(real, outputs, condition)
        if self.aux_weight:
            terms["g_class"] = self.aux_weight * keras.losses.sparse_categorical_crossentropy(
                condition["groups"], self._fake_classes(condition), from_logits=True)
        return terms

    def extra_logs(self, real, outputs, condition):
        logs = super().extra_logs(real, outputs, condition)
        if self.aux_weight:
            predicted = ops.argmax(self._fake_classes(condition), axis=-1)
            logs["class_acc"] = ops.mean(ops.cast(ops.equal(ops.cast(predicted, "int32"), condition["groups"]),
                                                  "float32"))
        return logs

    def matching_images(self, outputs):
        return outputs["match"]

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


# -- DF-GAN ---------------------------------------------------------------------------------------------------
def dfgan_hinge_d(real, fake):
    """D's hinge loss on the matching real pairs and the fakes as DF-GAN weighs them, per example:
    ``relu(1 - D(x, e)) + 0.5 relu(1 + D(G(z, e), e))`` (the mismatched pairs take the other half of the negative
    weight, ``errD_real + (errD_fake + errD_mis) / 2``)."""
    real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")
    return losses.per_example_mean(ops.relu(1.0 - real) + 0.5 * ops.relu(1.0 + fake))


#: DF-GAN's adversarial loss pair for ``compile(loss=...)``: the hinge above for D, ``-D(G(z, e), e)`` for G.
DFGAN_LOSS = (dfgan_hinge_d, losses.wgan_g)


def matching_aware_gradient_penalty(critic, image, sentence, k=2.0, p=6.0):
    """MA-GP (DF-GAN section 3.3), per example: ``k * ||(dD/dx, dD/de)||^p`` at the real images ``x`` with their
    own sentences ``e``: the gradient of D's output with respect to the image and the sentence together (flattened
    and concatenated), kept differentiable so D's step minimises it. The reference: ``k = 2``, ``p = 6``.

    ``critic(image, sentence) -> (logits, aux)``; returns ``(penalty (N,), aux)`` (the trainer takes the real
    images' features as ``aux``, so one forward of D serves the penalty and the mismatched pairs)."""
    from zoo import backend

    def total(pair):
        logits, aux = critic(*pair)
        return ops.sum(ops.cast(logits, "float32")), aux

    _, aux, grads = backend.value_and_grad(total, (image, sentence), create_graph=True)
    squared = sum(ops.sum(ops.reshape(ops.square(ops.cast(g, "float32")), (ops.shape(g)[0], -1)), axis=1)
                  for g in grads)
    return k * ops.power(squared, 0.5 * p), aux


@keras.saving.register_keras_serializable("zoo")
class DFGAN(SentenceGAN):
    """DF-GAN (Tao et al., CVPR 2022) on a ``DFGANGenerator`` and a ``DFDiscriminator``: one-stage generator, hinge
    loss, a mismatched-text term and MA-GP. Per batch of real images ``x`` with captions ``e``::

        D:  relu(1 - D(x, e)) + 0.5 relu(1 + D(G(z, e), e)) + wrong_weight * relu(1 + D(x, e_wrong))
            + k ||(dD(x, e)/dx, dD(x, e)/de)||^p
        G:  -D(G(z, e), e)

    ``e_wrong`` is the previous example's caption (the batch rolled by one; the reference rolls the images, the
    same pairs), counted only where the two examples' groups differ (flowers: captions are per class). MA-GP's
    sentence gradient is taken with respect to the embedding as the networks read it, ``sentence_scale`` times the
    unit vector (entries of about unit size, as the reference's unnormalised DAMSM vectors): with respect to the
    unit vector it would be ``sentence_scale`` (16) times larger and, to the 6th power, all but forbid D to read
    the sentence. The real
    images go through D's ``features`` once for the penalty and the mismatched pairs (``judge`` alone on them).
    No conditioning augmentation, no GAN-INT, no KL: the sentence reaches every up-block through the affine
    fusion instead. The text encoder is frozen.

    Args:
        wrong_weight: the mismatched term's weight (0.5, the reference's).
        gp_k, gp_p: MA-GP's weight and power (2 and 6, the reference's).

    Logs: ``d_loss``, ``g_loss``, ``adversarial``, ``d_real`` / ``d_fake`` (D's mean raw scores), ``d_wrong`` (the
    weighted mismatched term) and ``ma_gp`` (the weighted penalty).

    On the core's hooks: MA-GP is a ``discriminator_extra_losses`` term. The core's ``r1_gamma`` penalty cannot
    express it (``losses.r1_penalty`` takes one tensor and squares the norm: no sentence gradient, no ``k |.|^p``),
    and no hook hands the critic's own forward of the real pairs to a penalty, so the real images pass D's
    ``features`` twice per D step (the core's real logits, then the penalty's differentiable forward).
    """

    LOGS = ("d_wrong", "ma_gp", "contrastive")

    def __init__(self, generator, discriminator=None, wrong_weight=0.5, gp_k=2.0, gp_p=6.0, **kwargs):
        if gp_k < 0 or gp_p < 2:
            raise ValueError(f"MA-GP needs gp_k >= 0 and gp_p >= 2, got {gp_k}, {gp_p}")
        super().__init__(generator, discriminator, **kwargs)
        self.wrong_weight, self.gp_k, self.gp_p = float(wrong_weight), float(gp_k), float(gp_p)

    def compile(self, d_optimizer=None, g_optimizer=None, loss=DFGAN_LOSS, **kwargs):
        """The reference's defaults: Adam(4e-4) for D and Adam(1e-4) for G, both ``beta_1 = 0``, ``beta_2 = 0.9``
        (the two time-scale rule), and ``DFGAN_LOSS``."""
        from zoo import optimizers

        d_optimizer = d_optimizer or optimizers.Adam(4e-4, beta_1=0.0, beta_2=0.9)
        g_optimizer = g_optimizer or optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss=loss, **kwargs)

    # -- hooks ----------------------------------------------------------------------------------------
    def generate(self, real, condition, training=True):
        e = condition["embedding"]
        # one device's draw for the global batch, this replica's rows (keras.random.normal on one device)
        z = distribute.normal((ops.shape(e)[0], self.generator.latent_dim), seed=self.noise)
        return self.generator.image_network([z, e], training=training)

    def fakes(self, real, condition, outputs, step):
        return outputs, condition["embedding"]

    def critics(self, real, condition, fakes, training=True):
        d = self.discriminator

        def judge(pair):
            return d([ops.cast(pair[0], "float32"), pair[1]], training=training)

        return {"d": Critic(judge, (ops.cast(real, "float32"), condition["embedding"]), fakes)}

    def discriminator_extra_losses(self, real, condition, fakes, logits):
        """``d_wrong`` (real images, previous example's caption: a negative) and ``ma_gp`` (class docstring)."""
        d = self.discriminator
        scale = d.sentence_scale

        def critic(image, sentence):  # ``sentence``: the embedding as D reads it, scaled (see above)
            features = d.features(image, training=True)
            return d.judge([features, sentence / scale], training=True), features

        penalty, features = matching_aware_gradient_penalty(critic, ops.cast(real, "float32"),
                                                            condition["embedding"] * scale, self.gp_k, self.gp_p)
        e_wrong, mismatched = self.mismatched(condition)
        wrong = ops.reshape(ops.cast(d.judge([features, e_wrong], training=True), "float32"), (-1,))
        return {"d_wrong": self.wrong_weight * mismatched * ops.relu(1.0 + wrong), "ma_gp": penalty}

    def iteration_flops(self, batch, count):
        """FLOPs per image of one step, estimated: G forward and backward (3 G); D forward and backward on the
        real and fake pairs (6 D); MA-GP's forward (1 D), input gradient (2 D) and that gradient's backward (4 D,
        twice the gradient); G's step through D (2 D): 3 G + 15 D (the judge's extra call on the mismatched pairs
        and the frozen encoder's forward left out: under 2%)."""
        real, condition = self.unpack(batch)
        n = int(ops.shape(real)[0])
        z = keras.random.normal((n, self.generator.latent_dim))
        g = count(self.generator.image_network, [z, condition["embedding"]])
        d = count(self.discriminator, [ops.cast(real, "float32"), condition["embedding"]])
        return int((3 * g + 15 * d) / n)


@keras.saving.register_keras_serializable("zoo")
class JointEmbedding(keras.Model):
    """The sentence encoder's training (Reed et al. 2016, "Learning Deep Representations of Fine-Grained Visual
    Descriptions", its symmetric objective, with a softmax in place of the hinge): on ``(images, word ids,
    groups)`` batches, the scores ``scale * image_embedding . text_embedding`` of every image against every
    caption in the batch; each image's target is the batch's captions of its group, each caption's the images of
    its group; the loss is the two cross-entropies' sum. ``fit`` it, then freeze ``text_encoder``.

    ``classes`` (optional, with groups that are class ids ``0 .. classes - 1``): class-aware text, a learnt unit
    prototype per class in the joint space and ``class_weight x`` the cross-entropy of ``scale x caption .
    prototypes`` against the caption's class added to the loss. Captions that are written per class (the
    flowers') are then pulled to their class from the first steps, where the image side alone moves them slowly
    (held-out caption nearest-class accuracy: the model card's table)."""

    def __init__(self, text_encoder, image_encoder, scale=10.0, classes=0, class_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.text_encoder, self.image_encoder, self.scale = text_encoder, image_encoder, float(scale)
        self.classes, self.class_weight = int(classes), float(class_weight)
        self.accuracy = keras.metrics.Mean(name="accuracy")
        if self.classes:
            dim = int(text_encoder.output.shape[-1])
            self.prototypes = self.add_weight(shape=(self.classes, dim), name="prototypes",
                                              initializer=keras.initializers.RandomNormal(stddev=0.05))

    def call(self, data, training=False):
        images, words = data[0], data[1]
        return self.image_encoder(images, training=training), self.text_encoder(words, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        u, v = y_pred
        groups = ops.convert_to_tensor(x[2], "int32")
        loss = ops.mean(sentence_contrastive(u, v, groups, self.scale))
        if self.classes:
            loss = loss + self.class_weight * ops.mean(self.class_loss(v, groups))
        # the caption's best-scoring image is of its own group
        best = ops.argmax(ops.matmul(u, ops.transpose(v)), axis=0)
        self.accuracy.update_state(ops.mean(ops.cast(ops.equal(ops.take(groups, best), groups), "float32")))
        return loss

    def class_loss(self, sentences, classes):
        """The class-aware text term per caption, unweighted: the cross-entropy of ``scale x sentence .
        prototypes`` (unit prototypes) against the caption's class."""
        logits = self.scale * ops.matmul(ops.cast(sentences, "float32"), ops.transpose(_normalize(self.prototypes)))
        return keras.losses.sparse_categorical_crossentropy(classes, logits, from_logits=True)

    @property
    def metrics(self):
        return super().metrics + [self.accuracy]
