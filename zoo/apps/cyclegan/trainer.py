"""The CycleGAN trainer (Zhu et al. 2017, section 4 and appendix 7.1): ``CycleGAN``, a ``zoo.GAN`` on unpaired
``(a, b)`` batches.

Objective (equation 3 plus the identity term of section 5.2), as the reference ``CycleGANModel``:

    G and F:   LSGAN(D_B(G(a)), 1) + LSGAN(D_A(F(b)), 1)
               + lambda (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)                      cycle consistency, lambda = 10
               + identity x lambda (|G(b) - b|_1 + |F(a) - a|_1)                identity, identity = 0.5
    D_A, D_B:  1/2 [LSGAN(D(real), 1) + LSGAN(D(fake), 0)] each, on fakes from a pool of the last 50

(LSGAN(p, t) = mean (p - t)^2 over the patch logits; L1 terms are means over pixels.) Both generators train
together under one Adam, both discriminators under another: lr 2e-4, beta_1 0.5, constant for the first part of
training and then linearly decayed to zero (``zoo.schedules.ConstantThenLinearDecay``). The discriminators see
generated images through an image pool per domain (``zoo.layers.ImagePool``, 50 images: training state, saved
in checkpoints); the generator step uses the fresh fakes.

Names. ``d_a`` judges domain A (real a against F(b)), ``d_b`` domain B (real b against G(a)); the reference's
``netD_B`` and ``netD_A``.
"""
import keras
from keras import ops

from zoo import losses, optimizers
from zoo.gan import GAN, Critic
from zoo.layers import ImagePool
from zoo.schedules import ConstantThenLinearDecay

from .networks import CycleGenerators


l1 = losses.l1  # mean absolute difference per example


@keras.saving.register_keras_serializable("zoo")
class CycleGAN(GAN):
    """CycleGAN: ``fit`` on ``(a, b)`` batches of the two domains (``cyclegan.dataset("A/", "B/")``), in [-1, 1].

    Args:
        generators: a ``CycleGenerators`` (its ``a_to_b`` and ``b_to_a``).
        discriminators: ``{"d_a": D_A, "d_b": D_B}``, D_A judging domain A images and D_B domain B's.
        image_size: side of the training crops (the pools hold images of this size).
        pool_size: images in each domain's pool (50; 0: no pool).
        cycle_weight: lambda (10). identity_weight: the identity term's weight relative to lambda (0.5; 0 turns
            it off; it needs the two domains to have the same channels).
        seed: seeds the pools' draws (and the core's noise).

    Logs: ``d_a_*``/``d_b_*`` (raw LSGAN scores and each D's loss), ``adversarial``, ``cycle`` and
    ``identity`` (weighted terms), ``cycle_a`` / ``cycle_b`` (unweighted L1 of F(G(a)) - a and G(F(b)) - b, in
    [-1, 1] units).
    """

    LOGS = ("cycle", "identity", "cycle_a", "cycle_b")

    def __init__(self, generators, discriminators, image_size=256, pool_size=50, cycle_weight=10.0,
                 identity_weight=0.5, seed=None, **kwargs):
        if not isinstance(generators, CycleGenerators):
            raise TypeError(f"generators must be a CycleGenerators, got {type(generators).__name__}")
        if not isinstance(discriminators, dict) or set(discriminators) != {"d_a", "d_b"}:
            raise ValueError('discriminators must be {"d_a": D judging domain A, "d_b": D judging domain B}')
        cfg = generators.get_config()
        a_ch, b_ch = cfg["a_channels"], cfg["b_channels"]
        for name, channels in (("d_a", a_ch), ("d_b", b_ch)):
            got = discriminators[name].inputs[0].shape[-1]
            if got != channels:
                raise ValueError(f"{name} takes {got}-channel images but domain {name[-1].upper()} has {channels}")
        if identity_weight and a_ch != b_ch:
            raise ValueError(f"the identity term needs domains with the same channels (A {a_ch}, B {b_ch}): "
                             f"identity_weight=0")
        super().__init__({"a_to_b": generators.a_to_b, "b_to_a": generators.b_to_a},
                         {"d_a": discriminators["d_a"], "d_b": discriminators["d_b"]}, seed=seed, **kwargs)
        self.pair = generators
        self.image_size = int(image_size)
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        self.pool_a = ImagePool(pool_size, (self.image_size, self.image_size, a_ch), seed=seed, name="pool_a")
        self.pool_b = ImagePool(pool_size, (self.image_size, self.image_size, b_ch),
                                seed=None if seed is None else seed + 1, name="pool_b")

    def compile(self, d_optimizer=None, g_optimizer=None, learning_rate=2e-4, constant_steps=None,
                decay_steps=None, loss="lsgan", adversarial_weight=2.0, **kwargs):
        """The paper's defaults: LSGAN, Adam(``learning_rate`` 2e-4, beta_1 0.5) for both sides, held for
        ``constant_steps`` iterations then decayed linearly to zero over ``decay_steps`` (both None: constant).
        ``adversarial_weight`` 2 because zoo's ``lsgan`` G term is Mao et al.'s 1/2 (D(G(x)) - 1)^2 and the
        reference's is the plain squared error. Other keyword arguments go to ``zoo.GAN.compile``."""
        def adam():
            lr = learning_rate
            if decay_steps:
                lr = ConstantThenLinearDecay(learning_rate, int(constant_steps or 0), int(decay_steps))
            return optimizers.Adam(lr, beta_1=0.5, beta_2=0.999)

        super().compile(d_optimizer or adam(), g_optimizer or adam(), loss=loss,
                        adversarial_weight=adversarial_weight, **kwargs)

    # -- hooks ---------------------------------------------------------------------------------------
    def unpack(self, data):
        if isinstance(data, (tuple, list)) and (len(data) == 2 or (len(data) == 3 and data[2] is None)):
            a, b = ops.convert_to_tensor(data[0]), ops.convert_to_tensor(data[1])
            for name, x, pool in (("a", a, self.pool_a), ("b", b, self.pool_b)):
                if len(x.shape) != 4:
                    raise ValueError(f"domain {name.upper()} batch must be (N, H, W, C), got shape {tuple(x.shape)}")
                if x.shape[-1] != pool.image_shape[-1]:
                    raise ValueError(f"domain {name.upper()} images have {x.shape[-1]} channels but its networks "
                                     f"take {pool.image_shape[-1]}")
                if tuple(x.shape[1:3]) != pool.image_shape[:2] and None not in x.shape[1:3]:
                    raise ValueError(f"domain {name.upper()} batch has {tuple(x.shape[1:3])} images but the pools "
                                     f"hold {self.image_size}x{self.image_size}: CycleGAN(image_size=...) must "
                                     f"be the training crop size")
            return {"a": a, "b": b}, None
        raise ValueError("CycleGAN trains on (a, b) batches of the two domains: cyclegan.dataset(a_dir, b_dir) or "
                         f"fit(a_images, b_images); got {type(data).__name__}")

    def generate(self, real, condition, training=True):
        g, f = self.generators["a_to_b"], self.generators["b_to_a"]
        fake_b, fake_a = g(real["a"], training=training), f(real["b"], training=training)
        out = {"fake_a": fake_a, "fake_b": fake_b,
               "rec_a": f(fake_b, training=training), "rec_b": g(fake_a, training=training)}
        if self.identity_weight:
            out.update(idt_a=f(real["a"], training=training), idt_b=g(real["b"], training=training))
        return out

    def fakes(self, real, condition, outputs, step):
        if step == "d":  # D judges the pool's images; G's step the fresh ones
            return {"a": self.pool_a(outputs["fake_a"]), "b": self.pool_b(outputs["fake_b"])}
        return {"a": outputs["fake_a"], "b": outputs["fake_b"]}

    def critics(self, real, condition, fakes, training=True):
        # zoo's lsgan D loss already has the reference's 1/2: weight 1.
        return {f"d_{n}": Critic(lambda x, d=self.discriminators[f"d_{n}"]: d(x, training=training), real[n],
                                 fakes[n]) for n in ("a", "b")}

    def generator_extra_losses(self, real, outputs, condition):
        terms = {"cycle": self.cycle_weight * (l1(outputs["rec_a"], real["a"]) + l1(outputs["rec_b"], real["b"]))}
        if self.identity_weight:
            w = self.cycle_weight * self.identity_weight
            terms["identity"] = w * (l1(outputs["idt_a"], real["a"]) + l1(outputs["idt_b"], real["b"]))
        return terms

    def extra_logs(self, real, outputs, condition):
        return {"cycle_a": ops.mean(l1(outputs["rec_a"], real["a"])),
                "cycle_b": ops.mean(l1(outputs["rec_b"], real["b"]))}

    def call(self, data, training=False):
        """``[G(a), F(b)]`` for ``(a, b)`` batches."""
        real, _ = self.unpack(data)
        return self.pair([real["a"], real["b"]], training=training)

    def sampling_generator(self):
        """What a CycleGAN run ships: both generators, the ``CycleGenerators``."""
        return self.pair

    def iteration_flops(self, batch, count):
        """FLOPs per (a, b) pair of one step: G and F run 3 times forward each (fake, reconstruction, identity)
        and backward (2x) = 9 G + 9 F; each D forward + backward on real and pooled fake (6 D) in its step and
        forward + input gradient on the fresh fake in G's (2 D): 8 D_A + 8 D_B (without the identity term: 6 G
        + 6 F)."""
        real, _ = self.unpack(batch)
        n = int(ops.shape(real["a"])[0])
        runs = 3 if self.identity_weight else 2
        g = count(self.generators["a_to_b"], real["a"]) + count(self.generators["b_to_a"], real["b"])
        d = count(self.discriminators["d_a"], real["a"]) + count(self.discriminators["d_b"], real["b"])
        return int((3 * runs * g + 8 * d) / n)
