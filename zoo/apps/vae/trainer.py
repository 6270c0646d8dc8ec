"""The trainers: ``VAE`` (autoencoder, VAE, conditional VAE) and ``VAEGAN``, both ``zoo.GAN`` subclasses, so they
train with ``fit()`` on TensorFlow, PyTorch and JAX through the core's one step and hooks.

* ``VAE(autoencoder)``: ``zoo.GAN`` without a discriminator, which trains its generator on
  ``generator_extra_losses`` alone. The generator is the whole ``Autoencoder`` (encoder and decoder under one
  optimizer); ``generate`` encodes the batch, samples ``z = mean + sigma * eps`` (the VAE) or takes the code (the
  autoencoder) and decodes it; the per-example loss is the reconstruction's negative log-likelihood
  (``"bce"``: Bernoulli, summed over pixels, the paper's choice for digits; ``"mse"``: summed squared error)
  plus ``beta * KL(q(z|x) || N(0, I))``. ``beta`` (Higgins et al. 2017) defaults to 1, the ELBO; with
  ``warmup_steps`` it rises linearly from 0 over the first steps (Bowman et al. 2016, KL annealing).
* ``VAEGAN(autoencoder, discriminator)`` (Larsen et al. 2016): the same encoder/decoder and KL; the
  discriminator ``[logit, features]`` judges real images against the reconstructions and against decodings of
  prior samples (two critics, each half of D's loss); the generator side's loss is the adversarial term through
  both, ``feature_weight`` x the reconstruction error in D's features (``Dis_l``, a Gaussian: half the summed
  squared difference), ``beta`` x KL, and optionally ``pixel_weight`` x the pixel likelihood. As in the core,
  one optimizer moves encoder and decoder together, so the encoder also receives the adversarial gradient
  through the reconstructions (the paper keeps it out of the encoder's update; noted in the card).

Logs: ``reconstruction`` (the likelihood term, nats per image), ``kl`` (unweighted KL per image), ``beta`` (its
current weight), ``kl_loss`` (beta * kl), ``g_loss``; the VAE-GAN adds ``features``, ``d_loss``,
``recon_*`` / ``prior_*`` (D's scores for reconstructions and prior samples).
"""
import keras
from keras import ops

from zoo import distribute, losses, optimizers
from zoo.gan import GAN, Critic

RECONSTRUCTION = {"bce": losses.bernoulli_nll, "mse": losses.squared_error}


@keras.saving.register_keras_serializable("zoo")
class VAE(GAN):
    """Autoencoder / VAE / conditional VAE trainer: ``VAE(Autoencoder(...)).compile(); .fit(images[, labels])``.

    ``fit`` takes images in [-1, 1] (``dataset(...)`` or arrays), with labels for a conditional model (labels
    given to an unconditional one are ignored, so the same digits dataset serves both).
    """

    LOGS = ("reconstruction", "kl", "kl_loss", "beta")

    def __init__(self, autoencoder, discriminator=None, seed=None, **kwargs):
        for attr in ("encoder", "decoder", "variational"):
            if not hasattr(autoencoder, attr):
                raise TypeError(f"{type(self).__name__} trains a zoo.apps.vae.Autoencoder, got "
                                f"{type(autoencoder).__name__}")
        super().__init__(autoencoder, discriminator, seed=seed, **kwargs)
        self.beta, self.warmup_steps, self.reconstruction = 1.0, 0, "bce"

    @property
    def autoencoder(self):
        return self.generator

    def compile(self, optimizer=None, beta=1.0, warmup_steps=0, reconstruction="bce", learning_rate=1e-3,
                **kwargs):
        """Adam(``learning_rate`` 1e-3) unless ``optimizer``; ``beta`` >= 0 weighs the KL term (ignored by a
        plain autoencoder), reached linearly over ``warmup_steps``; ``reconstruction``: ``"bce"`` or ``"mse"``."""
        if reconstruction not in RECONSTRUCTION:
            raise ValueError(f"reconstruction must be one of {sorted(RECONSTRUCTION)}, got {reconstruction!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
            raise ValueError(f"beta must be a number >= 0, got {beta!r}")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
        self.beta, self.warmup_steps, self.reconstruction = float(beta), int(warmup_steps), reconstruction
        self.learning_rate = float(learning_rate)
        super().compile(g_optimizer=optimizer or optimizers.Adam(self.learning_rate), **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def unpack(self, data):
        real, condition = super().unpack(data)
        if not self.autoencoder.num_classes:
            return real, None
        if condition is None:
            raise ValueError("a conditional autoencoder trains on (images, labels)")
        return real, ops.cast(condition, "int32")

    def encode(self, real, condition, training=True):
        """``(mean, log_var, z)``: the code's distribution and a sample (the code itself for an autoencoder,
        with ``log_var`` None)."""
        net = self.autoencoder
        code = net.encoder(real if condition is None else [real, condition], training=training)
        if not net.variational:
            return code, None, code
        mean, log_var = code
        return mean, log_var, losses.reparameterize(mean, log_var, seed=self.noise)

    def decode(self, z, condition, training=True):
        return self.autoencoder.decoder(z if condition is None else [z, condition], training=training)

    def generate(self, real, condition, training=True):
        mean, log_var, z = self.encode(real, condition, training)
        out = {"reconstruction": self.decode(z, condition, training), "mean": mean}
        if log_var is not None:
            out["log_var"] = log_var
        return out

    def kl_weight(self):
        """beta at this step: ``beta * min(1, (t + 1) / warmup_steps)`` after ``t`` updates."""
        if not self.warmup_steps:
            return ops.convert_to_tensor(self.beta, "float32")
        t = ops.cast(self.g_optimizer.iterations, "float32")
        return self.beta * ops.minimum(1.0, (t + 1.0) / float(self.warmup_steps))

    def generator_extra_losses(self, real, outputs, condition):
        terms = {"reconstruction": RECONSTRUCTION[self.reconstruction](real, outputs["reconstruction"])}
        if "log_var" in outputs:
            terms["kl_loss"] = self.kl_weight() * losses.gaussian_kl(outputs["mean"], outputs["log_var"])
        return terms

    def extra_logs(self, real, outputs, condition):
        if "log_var" not in outputs:
            return {}
        return {"kl": ops.mean(losses.gaussian_kl(outputs["mean"], outputs["log_var"])), "beta": self.kl_weight()}

    def call(self, data, training=False):
        """Reconstructions of a batch (images, or (images, labels)) through the code's mean."""
        real, condition = self.unpack(data)
        return self.autoencoder(real if condition is None else [real, condition], training=training)

    def iteration_flops(self, batch, count):
        """FLOPs per image of one ``train_step``: the autoencoder's forward (encoder and decoder) and its backward
        (2x); the VAE-GAN adds the decoder on prior codes (3x), D's step (real twice, reconstructions and prior
        samples, each forward and backward: 4 x 3 D) and the G step through D (the two adversarial terms and the
        two feature passes forward, input gradients through three of them: 7 D)."""
        real, condition = self.unpack(batch)
        n = int(ops.shape(real)[0])
        net = self.autoencoder
        ae = count(net, real if condition is None else [real, condition])
        total = 3 * ae
        if self.adversarial:
            z = keras.random.normal((n, net.latent_dim), seed=0)
            total += 3 * count(net.decoder, z if condition is None else [z, condition])
            total += 19 * count(self.discriminator, self.discriminator_inputs(real, condition))
        return int(total / n)


@keras.saving.register_keras_serializable("zoo")
class VAEGAN(VAE):
    """VAE-GAN (Larsen et al. 2016) on the core trainer: ``VAEGAN(Autoencoder(...), VAEGANDiscriminator(...))``."""

    LOGS = VAE.LOGS + ("features", "recon_real", "recon_fake", "recon_acc", "recon_loss", "prior_real",
                       "prior_fake", "prior_acc", "prior_loss")

    def __init__(self, autoencoder, discriminator, seed=None, **kwargs):
        if discriminator is None:
            raise ValueError("VAEGAN needs a discriminator (VAEGANDiscriminator); use VAE to train without one")
        super().__init__(autoencoder, discriminator, seed=seed, **kwargs)
        self.feature_weight, self.pixel_weight = 1.0, 0.0

    def compile(self, optimizer=None, d_optimizer=None, beta=1.0, warmup_steps=0, reconstruction="bce",
                feature_weight=1.0, pixel_weight=0.0, learning_rate=3e-4, loss="non_saturating", **kwargs):
        """Adam(``learning_rate`` 3e-4, beta_1 0.5) for both sides (Larsen et al.'s RMSProp 3e-4 is the
        paper's); ``feature_weight`` (gamma) and ``pixel_weight`` weigh the two reconstruction terms."""
        for name, w in (("feature_weight", feature_weight), ("pixel_weight", pixel_weight)):
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not w >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {w!r}")
        self.feature_weight, self.pixel_weight = float(feature_weight), float(pixel_weight)
        adam = lambda: optimizers.Adam(learning_rate, beta_1=0.5)  # noqa: E731
        super().compile(optimizer or adam(), beta=beta, warmup_steps=warmup_steps, reconstruction=reconstruction,
                        learning_rate=learning_rate, d_optimizer=d_optimizer or adam(), loss=loss, **kwargs)

    def generate(self, real, condition, training=True):
        out = super().generate(real, condition, training)
        n = ops.shape(real)[0]
        z = distribute.normal((n, self.autoencoder.latent_dim), seed=self.noise)  # one device's draw
        out["prior"] = self.decode(z, condition, training)
        return out

    def _d(self, images, condition, training):
        return self.discriminator(self.discriminator_inputs(images, condition), training=training)

    def critics(self, real, condition, fakes, training=True):
        fn = lambda x: self._d(x, condition, training)[0]  # noqa: E731
        return {"recon": Critic(fn, real, fakes["reconstruction"], 0.5),
                "prior": Critic(fn, real, fakes["prior"], 0.5)}

    def generator_extra_losses(self, real, outputs, condition):
        terms = super().generator_extra_losses(real, outputs, condition)
        pixel = terms.pop("reconstruction")
        if self.pixel_weight:
            terms["reconstruction"] = self.pixel_weight * pixel
        f_real = ops.stop_gradient(self._d(real, condition, False)[1])
        f_fake = self._d(outputs["reconstruction"], condition, False)[1]
        d = ops.reshape(ops.cast(f_fake, "float32") - ops.cast(f_real, "float32"), (ops.shape(real)[0], -1))
        terms["features"] = self.feature_weight * 0.5 * ops.sum(ops.square(d), axis=1)
        return terms

    def extra_logs(self, real, outputs, condition):
        logs = super().extra_logs(real, outputs, condition)
        if not self.pixel_weight:  # the pixel likelihood still logged, as a measure
            logs["reconstruction"] = ops.mean(RECONSTRUCTION[self.reconstruction](real, outputs["reconstruction"]))
        return logs

