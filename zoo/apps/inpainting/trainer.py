"""The DeepFill v2 trainer (Yu et al. 2019, section 3.2; the reference's ``build_graph_with_losses``):
``Inpainting``, a ``zoo.GAN`` on ``(image, mask)`` batches.

Objective, as the reference (``inpaint.yml``: ``gan: sngan``, ``gan_loss_alpha: 1``, ``l1_loss_alpha: 1``):

    D:  1/2 [mean relu(1 - D(x, m)) + mean relu(1 + D(x_c, m))]          hinge loss on the SN-PatchGAN's map
    G:  -mean D(x_c, m) + l1 (|x - coarse|_1 + |x - refined|_1)          adversarial + both stages' L1

with ``x_c = x * (1 - m) + refined * m`` the refined output pasted into the input (what D judges: the core's
``fakes`` hook), D seeing the image and its mask on the channel axis, and the L1 terms means over the whole image
(in [-1, 1] units). Adam 1e-4, beta (0.5, 0.999) for both networks, one D step per G step.
``Inpainting(generator)`` without a discriminator trains on the L1 terms alone (the recipe's first phase).
"""
import keras
from keras import ops

from zoo import losses, optimizers
from zoo.gan import GAN, Critic
from zoo.layers import LeakyReLU


l1 = losses.l1  # mean absolute difference per example


def paste(image, fill, mask):
    """``image * (1 - mask) + fill * mask``, float32."""
    m = ops.cast(mask, "float32")
    return ops.cast(image, "float32") * (1.0 - m) + ops.cast(fill, "float32") * m


@keras.saving.register_keras_serializable("zoo")
class Inpainting(GAN):
    """DeepFill v2: ``fit`` on ``(images, masks)`` batches (``inpainting.dataset(...)``): images in [-1, 1]
    ``(N, H, W, C)``, masks ``(N, H, W, 1)`` with the hole where ``mask > 0`` (0/1 floats; the pipelines' [-1, 1]
    masks work too).

    Args:
        generator: an ``InpaintGenerator``.
        discriminator: an ``SNPatchDiscriminator`` taking C + 1 channels, or None (L1 alone).
        l1_weight: weight of each stage's L1 term (1, the reference's ``l1_loss_alpha``).
        feature_matching: weight of pix2pixHD's discriminator feature matching (Wang et al. 2018, eq. 4; not the
            reference's, default 0): the mean absolute difference between D's activations (after each of its
            LeakyReLUs, D run as the chain of layers it is, not in training mode) for the pasted result and for
            the original image, averaged over those layers; the original's side is held constant. It ties G's
            fine structure to the ground truth's as D sees it (logged as ``feature_matching``).

    Logs: ``d_loss``, ``g_loss``, ``adversarial``, ``d_real``/``d_fake`` (raw hinge scores), ``l1`` (the weighted
    L1 terms), ``l1_coarse``/``l1_refined`` (unweighted, whole image) and ``l1_hole`` (mean absolute error of the
    pasted result inside the hole, [-1, 1] units).
    """

    LOGS = ("l1", "l1_coarse", "l1_refined", "l1_hole")

    def __init__(self, generator, discriminator=None, l1_weight=1.0, feature_matching=0.0, seed=None, **kwargs):
        channels = int(generator.inputs[0].shape[-1])
        if discriminator is not None and discriminator.inputs[0].shape[-1] != channels + 1:
            raise ValueError(f"the discriminator takes {discriminator.inputs[0].shape[-1]} channels but judges "
                             f"{channels}-channel images with their mask: {channels + 1}")
        if l1_weight < 0 or (discriminator is None and not l1_weight):
            raise ValueError(f"l1_weight must be >= 0 (> 0 without a discriminator), got {l1_weight}")
        if feature_matching < 0 or (feature_matching and discriminator is None):
            raise ValueError(f"feature_matching must be >= 0 and needs a discriminator, got {feature_matching} "
                             f"with {'a' if discriminator is not None else 'no'} discriminator")
        super().__init__(generator, discriminator, seed=seed, **kwargs)
        self.channels, self.l1_weight, self.feature_matching = channels, float(l1_weight), float(feature_matching)
        if self.feature_matching:
            self.LOGS = self.LOGS + ("feature_matching",)

    def compile(self, d_optimizer=None, g_optimizer=None, learning_rate=1e-4, loss="hinge", **kwargs):
        """The reference's defaults: hinge loss, Adam(``learning_rate`` 1e-4, beta (0.5, 0.999)) for both sides.
        Other keyword arguments go to ``zoo.GAN.compile``."""
        adam = lambda: optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.999)  # noqa: E731
        super().compile(d_optimizer or (adam() if self.adversarial else None), g_optimizer or adam(), loss=loss,
                        **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def unpack(self, data):
        """``(images, masks)`` -> ``(real=images, condition=0/1 masks)``."""
        if not (isinstance(data, (tuple, list)) and (len(data) == 2 or (len(data) == 3 and data[2] is None))
                and data[1] is not None):
            raise ValueError("Inpainting trains on (images, masks) batches: inpainting.dataset(folder) or "
                             f"fit(images, masks); got {type(data).__name__}")
        x, m = ops.convert_to_tensor(data[0]), ops.convert_to_tensor(data[1])
        if len(x.shape) != 4 or x.shape[-1] != self.channels:
            raise ValueError(f"images must be (N, H, W, {self.channels}), got shape {tuple(x.shape)}")
        if len(m.shape) != 4 or m.shape[-1] != 1 or (None not in m.shape[1:3] and None not in x.shape[1:3]
                                                     and tuple(m.shape[1:3]) != tuple(x.shape[1:3])):
            raise ValueError(f"masks must be (N, H, W, 1) of the images' size {tuple(x.shape[1:3])}, got shape "
                             f"{tuple(m.shape)}")
        return x, ops.cast(m > 0, "float32")

    def generate(self, real, mask, training=True):
        coarse, refined = self.generator([real, ops.cast(mask, real.dtype)], training=training)
        return {"coarse": coarse, "refined": refined}

    def fakes(self, real, mask, outputs, step):
        """D judges the refined output pasted into the input (the same in D's and G's step)."""
        return paste(real, outputs["refined"], mask)

    def critics(self, real, mask, fakes, training=True):
        d = self.discriminator

        def judge(x):
            return d(ops.concatenate([ops.cast(x, "float32"), mask], axis=-1), training=training)

        return {"d": Critic(judge, ops.cast(real, "float32"), fakes, weight=0.5)}

    def generator_extra_losses(self, real, outputs, mask):
        terms = {"l1": self.l1_weight * (l1(outputs["coarse"], real) + l1(outputs["refined"], real))}
        if self.feature_matching:
            terms["feature_matching"] = self.feature_matching * self.feature_distance(
                real, paste(real, outputs["refined"], mask), mask)
        return terms

    def discriminator_features(self, image, mask):
        """D's activations after each of its LeakyReLUs for ``image`` with its ``mask``, float32 (D run layer by
        layer: the SN-PatchGAN is a chain)."""
        x, features = ops.concatenate([ops.cast(image, "float32"), ops.cast(mask, "float32")], axis=-1), []
        for layer in self.discriminator.layers[1:]:
            x = layer(x, training=False)
            if isinstance(layer, LeakyReLU):
                features.append(ops.cast(x, "float32"))
        return features

    def feature_distance(self, real, filled, mask):
        """Per example: the mean over D's layers of the mean absolute difference of its activations for ``filled``
        and for ``real`` (constant)."""
        reals, fills = self.discriminator_features(real, mask), self.discriminator_features(filled, mask)
        return sum(l1(f, ops.stop_gradient(r)) for r, f in zip(reals, fills)) / len(reals)

    def extra_logs(self, real, outputs, mask):
        filled = paste(real, outputs["refined"], mask)
        hole = ops.sum(ops.abs(filled - ops.cast(real, "float32"))) / ops.maximum(ops.sum(mask) * self.channels, 1.0)
        return {"l1_coarse": ops.mean(l1(outputs["coarse"], real)),
                "l1_refined": ops.mean(l1(outputs["refined"], real)), "l1_hole": hole}

    def call(self, data, training=False):
        """The pasted result ``x * (1 - m) + refined * m`` for ``(images, masks)``."""
        real, mask = self.unpack(data)
        return paste(real, self.generate(real, mask, training=training)["refined"], mask)

    def iteration_flops(self, batch, count):
        """FLOPs per image of one step: G forward once and backward (2x) = 3 G; D forward + backward on real and
        fake in its step (6 D) and forward + input gradient on the fake in G's (2 D)."""
        real, mask = self.unpack(batch)
        n = int(ops.shape(real)[0])
        g = count(self.generator, [real, mask])
        if not self.adversarial:
            return int(3 * g / n)
        d = count(self.discriminator, ops.concatenate([ops.cast(real, "float32"), mask], axis=-1))
        return int((3 * g + 8 * d) / n)
