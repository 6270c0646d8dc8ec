"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2016, "Unrolled Generative Adversarial Networks").

The generator is trained against the discriminator it *would face* after D has answered it:

    theta_D^0     = theta_D
    theta_D^{j+1} = theta_D^j + step(dL_D(theta_G, theta_D^j) / d theta_D^j)          j = 0 .. K-1
    L_G^K(theta_G) = L_G(theta_G, theta_D^K(theta_G, theta_D))

and G follows dL_G^K/dtheta_G *through* the K steps (the paper's eq. 12: the second term,
dL_G/dtheta_D^K * dtheta_D^K/dtheta_G, is what lets G anticipate that D will punish a collapsed mode). D's own
update is the ordinary one of ``zoo.GAN``: the unrolled parameters are a differentiable look-ahead used only in
G's loss and are thrown away afterwards; D's variables and its optimizer's state are never touched by it.

How (functionally, one backend seam): the look-ahead parameters are plain tensors. Each step runs
``discriminator.stateless_call(values, non_trainable_values, x, training=True)``, takes the gradient of the
discriminator loss with respect to those tensors with ``zoo.backend.value_and_grad(..., create_graph=True)`` (a
nested ``tf.GradientTape`` that the outer tape of the generator step records, or ``torch.autograd.grad`` with
``create_graph=True``), and steps them. The same real minibatch and the same G(z) are used in every step and
in the final G loss, as in the paper's code, and G(z) is *not* detached inside the look-ahead.

The step (``unroll_optimizer``):

* ``"adam"`` (default, what the paper's code does): the update of D's own ``keras.optimizers.Adam``, started
  from that optimizer's current moments and iteration count and unrolled together with them (the moments are
  look-ahead tensors too, so gradients flow through them); learning rate ``unroll_lr`` or, if ``None``, D's.
  A 1e-16 inside the square root of the second moment keeps its derivative finite where it is zero (it
  changes the step by less than Adam's epsilon does).
* ``"sgd"``: theta <- theta - unroll_lr * grad (``unroll_lr`` required).

``unroll_steps=0`` is exactly ``zoo.GAN`` (the base ``adversarial_loss`` is called).

Cost: the generator step holds K copies of D's parameters, K forward/backward graphs of D on one real and one
fake minibatch, and differentiates through all of them (second order), so time and memory grow about linearly
in K. That stays small here because the look-ahead only involves the discriminator (the toy MLP has ~17k
parameters, a minibatch of 512 two-dimensional points), G is run once per step whatever K, and D's real update
is unchanged. For image GANs the same code works, but a large K needs the memory of K discriminators' graphs.

Limits: the look-ahead uses the adversarial discriminator loss only (``gp_weight``/``r1_gamma`` penalties are
applied to D's real update, not inside the unrolled steps), and D's dropout, if any, draws from its own seed
state threaded through the look-ahead.
"""
import keras
from keras import ops

from zoo import backend
from zoo.gan import GAN


@keras.saving.register_keras_serializable("zoo")
class UnrolledGAN(GAN):
    """``zoo.GAN`` whose generator loss is taken against D unrolled ``unroll_steps`` optimisation steps ahead.

    Args:
        generator, discriminator, d_steps, ema_decay, seed: as ``zoo.GAN``.
        unroll_steps: K, look-ahead steps of D in the generator loss (the paper uses 5 on the 2-D mixture);
            0 gives the plain GAN.
        unroll_optimizer: ``"adam"`` (D's Adam, from its current state; the paper's choice) or ``"sgd"``.
        unroll_lr: learning rate of the look-ahead; ``None`` takes D's optimizer's (``"adam"`` only).
    """

    def __init__(self, generator, discriminator, unroll_steps=5, unroll_optimizer="adam", unroll_lr=None,
                 **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if unroll_steps < 0:
            raise ValueError(f"unroll_steps must be >= 0, got {unroll_steps}")
        if unroll_optimizer not in ("adam", "sgd"):
            raise ValueError(f"unroll_optimizer must be 'adam' or 'sgd', got {unroll_optimizer!r}")
        if unroll_optimizer == "sgd" and unroll_lr is None:
            raise ValueError("unroll_optimizer='sgd' needs unroll_lr")
        self.unroll_steps = int(unroll_steps)
        self.unroll_optimizer = unroll_optimizer
        self.unroll_lr = unroll_lr

    # -- the look-ahead discriminator ----------------------------------------------------------------
    def _d_logits(self, values, state, images, condition):
        return self.discriminator.stateless_call(values, state, self.discriminator_inputs(images, condition),
                                                 training=True)

    def unrolled_discriminator(self, real, fake, condition):
        """D's trainable and non-trainable values after ``unroll_steps`` differentiable steps on the
        discriminator loss of ``real`` and ``fake`` (which keeps its graph to G)."""
        d = self.discriminator
        values = [ops.convert_to_tensor(v.value) for v in d.trainable_variables]
        state = [ops.convert_to_tensor(v.value) for v in d.non_trainable_variables]
        adam = self._adam_state(d.trainable_variables) if self.unroll_optimizer == "adam" else None

        for _ in range(self.unroll_steps):
            def d_loss(values, state=state):
                real_logits, s = self._d_logits(values, state, real, condition)
                fake_logits, s = self._d_logits(values, s, fake, condition)
                return ops.mean(self.d_loss_fn(real_logits, fake_logits)), s

            _, state, grads = backend.value_and_grad(d_loss, values, create_graph=True)
            if adam is None:
                values = [w - ops.cast(self.unroll_lr, w.dtype) * ops.cast(g, w.dtype)
                          for w, g in zip(values, grads)]
            else:
                values, adam = _adam_step(values, grads, adam)
        return values, state

    def _adam_state(self, variables):
        """(m, v, t, lr, beta_1, beta_2, epsilon) read from D's optimizer (unwrapping a loss-scale wrapper)."""
        opt = getattr(self, "d_optimizer", None)
        opt = getattr(opt, "inner_optimizer", opt)
        if not isinstance(opt, keras.optimizers.Adam) or getattr(opt, "amsgrad", False):
            raise TypeError("unroll_optimizer='adam' mirrors the discriminator's keras.optimizers.Adam "
                            f"(without amsgrad); got {type(opt).__name__}. Use unroll_optimizer='sgd'.")
        m = [ops.convert_to_tensor(opt._momentums[opt._get_variable_index(v)].value) for v in variables]
        v_ = [ops.convert_to_tensor(opt._velocities[opt._get_variable_index(v)].value) for v in variables]
        lr = opt.learning_rate if self.unroll_lr is None else self.unroll_lr
        t = ops.cast(opt.iterations, "float32")
        return m, v_, t, ops.cast(lr, "float32"), float(opt.beta_1), float(opt.beta_2), float(opt.epsilon)

    # -- the one override ----------------------------------------------------------------------------
    def adversarial_loss(self, real, condition, fakes, training=True):
        """G's adversarial term per example against the unrolled D (validation: against D itself)."""
        if self.unroll_steps == 0 or not training:
            return super().adversarial_loss(real, condition, fakes, training)
        values, state = self.unrolled_discriminator(ops.cast(real, fakes.dtype), fakes, condition)
        fake_logits, _ = self._d_logits(values, state, fakes, condition)
        return self.g_loss_fn(fake_logits)


def _adam_step(values, grads, adam):
    """One step of Keras's Adam (``keras.optimizers.Adam.update_step``) on tensors, differentiably."""
    m, v, t, lr, b1, b2, eps = adam
    t = t + 1.0
    alpha = lr * ops.sqrt(1.0 - ops.power(b2, t)) / (1.0 - ops.power(b1, t))
    new_values, new_m, new_v = [], [], []
    for w, g, mi, vi in zip(values, grads, m, v):
        g = ops.cast(g, w.dtype)
        mi = mi + (g - mi) * (1.0 - b1)
        vi = vi + (ops.square(g) - vi) * (1.0 - b2)
        step = mi * ops.cast(alpha, w.dtype) / (ops.sqrt(vi + 1e-16) + eps)
        new_values.append(w - step)
        new_m.append(mi)
        new_v.append(vi)
    return new_values, (new_m, new_v, t, lr, b1, b2, eps)
