"""The pix2pix trainer (Isola et al. 2017): ``Pix2Pix``, a ``zoo.GAN`` on ``(input, target)`` pairs.

Objective (section 3.1): G minimises ``L_cGAN + lambda * L1(y, G(x))`` with lambda = 100, where L_cGAN is the
non-saturating ``-log D(x, G(x))`` (the zoo's ``non_saturating`` loss, averaged over the patches); D minimises
the cross-entropy on (x, y) real and (x, G(x)) fake, halved "to slow down the rate at which D learns relative to
G". Adam 2e-4, beta_1 0.5, one D step and one G step per iteration (``Pix2Pix``, a ``zoo.GAN``).
``Pix2Pix(generator)`` without a discriminator trains G on L1 alone: the paper's "L1" ablation (table 1).

Both networks run in training mode in the steps (batch statistics, as the paper at batch size 1); see
``networks.py`` on batch norm at test time.
"""
import keras
from keras import ops

from zoo import losses, optimizers
from zoo.gan import GAN


# ---------------------------------------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------------------------------------
l1_loss = losses.l1  # mean absolute error per example (images in [-1, 1])


@keras.saving.register_keras_serializable("zoo")
class Pix2Pix(GAN):
    """The pix2pix trainer: ``zoo.GAN`` on ``(input, target)`` pairs with the conditional discriminator and L1.

    ``fit`` takes batches of ``(input, target)`` pairs (``dataset(...)``, or ``fit(inputs, targets)``), both in
    [-1, 1]. D sees ``concatenate([input, image])`` for the target and for G(input); its loss is halved. G
    minimises ``adversarial_weight * L_cGAN + l1_weight * L1``. The logs are the zoo's (``d_loss``, ``g_loss``,
    ``d_real``, ``d_fake``, ``d_acc``) and ``l1``, the unweighted mean absolute error of G(input) against the
    target (in [-1, 1] units: multiply by 127.5 for 8-bit levels).

    ``Pix2Pix(generator)`` (no discriminator) trains G on L1 alone, one G step per batch (the paper's L1
    ablation). Both networks run in training mode in the steps (see the module docstring on batch norm).
    """

    LOGS = ("l1",)

    def compile(self, d_optimizer=None, g_optimizer=None, loss="non_saturating", l1_weight=100.0,
                adversarial_weight=1.0, learning_rate=2e-4, **kwargs):
        """The paper's defaults: non-saturating cGAN loss, lambda = ``l1_weight`` = 100, Adam(``learning_rate``
        2e-4, beta_1 0.5, beta_2 0.999) for both networks. ``loss``: any ``zoo.losses`` name (``"lsgan"`` as
        CycleGAN). Other keyword arguments go to ``zoo.GAN.compile``."""
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be >= 0, got {l1_weight}")
        if not self.adversarial and not l1_weight:
            raise ValueError("without a discriminator G trains on L1 alone: l1_weight must be > 0")
        self.l1_weight = float(l1_weight)
        self.learning_rate = float(learning_rate)
        adam = lambda: optimizers.Adam(self.learning_rate, beta_1=0.5, beta_2=0.999)
        g_optimizer = g_optimizer or adam()
        if self.adversarial:
            d_optimizer = d_optimizer or adam()
        super().compile(d_optimizer, g_optimizer, loss=loss, adversarial_weight=adversarial_weight, **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def unpack(self, data):
        """``(input, target)`` -> ``(real=target, condition=input)``."""
        if isinstance(data, (tuple, list)) and (len(data) == 2 or (len(data) == 3 and data[2] is None)):
            return ops.convert_to_tensor(data[1]), ops.convert_to_tensor(data[0])
        raise ValueError("Pix2Pix trains on (input, target) pairs: a dataset of (input, target) batches or "
                         f"fit(inputs, targets); got {type(data).__name__}")

    def generator_inputs(self, condition, n):
        return condition

    def discriminator_inputs(self, images, condition):
        return ops.concatenate([ops.cast(condition, images.dtype), images], axis=-1)

    def call(self, data, training=False):
        """G(input) for input images (or for the inputs of ``(input, target)`` pairs)."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        return self.generator(data, training=training)

    def critics(self, real, condition, fakes, training=True):
        """The conditional D on (input, image), its loss halved."""
        return {name: c._replace(weight=0.5) for name, c in super().critics(real, condition, fakes, training).items()}

    def generator_extra_losses(self, real, fake, condition):
        return {"l1": self.l1_weight * l1_loss(real, fake)} if self.l1_weight else {}

    def extra_logs(self, real, fake, condition):
        return {"l1": ops.mean(l1_loss(real, fake))}  # logged unweighted
