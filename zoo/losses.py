"""Adversarial losses and penalties.

Every loss takes discriminator *logits* (no sigmoid in D) and returns per-example values; the trainer
averages them over the global batch. Names follow the papers:

=================  ======================================================  ==============================
name               discriminator                                           generator
=================  ======================================================  ==============================
``minimax``        -log D(x) - log(1 - D(G(z)))   (Goodfellow et al. 2014)  log(1 - D(G(z)))  (saturates)
``non_saturating`` same as minimax                                          -log D(G(z))
``lsgan``          (D(x) - 1)^2 + D(G(z))^2       (Mao et al. 2017), halved  (D(G(z)) - 1)^2, halved
``wgan``           D(G(z)) - D(x)                 (add ``gradient_penalty``)  -D(G(z))
``hinge``          relu(1 - D(x)) + relu(1 + D(G(z)))                       -D(G(z))
``ragan``          relativistic average BCE (ESRGAN), terms averaged        the same, labels swapped;
                                                                           also needs D(x) (``relativistic``)
=================  ======================================================  ==============================
"""
from keras import ops


def per_example_mean(x):
    """Per-example mean of a batch of any shape, in float32 (PatchGAN maps give one value per patch)."""
    x = ops.cast(x, "float32")
    if len(x.shape) > 1:
        x = ops.mean(ops.reshape(x, (ops.shape(x)[0], -1)), axis=1)
    return x


def l1(x, y):
    """Mean absolute difference per example, float32 (pix2pix's L1, CycleGAN's cycle and identity terms,
    DeepFill's reconstruction)."""
    return per_example_mean(ops.abs(ops.cast(x, "float32") - ops.cast(y, "float32")))


def _patchwise(fn):
    def wrapped(*logits):
        return per_example_mean(fn(*[ops.cast(l, "float32") for l in logits]))

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


# softplus(-l) = -log sigmoid(l); softplus(l) = -log(1 - sigmoid(l))
@_patchwise
def minimax_d(real, fake):
    return ops.softplus(-real) + ops.softplus(fake)


@_patchwise
def minimax_g(fake):
    """log(1 - D(G(z))): the loss of the original minimax game; its gradient vanishes when D wins."""
    return -ops.softplus(fake)


@_patchwise
def non_saturating_g(fake):
    return ops.softplus(-fake)


@_patchwise
def lsgan_d(real, fake):
    return 0.5 * (ops.square(real - 1.0) + ops.square(fake))


@_patchwise
def lsgan_g(fake):
    return 0.5 * ops.square(fake - 1.0)


@_patchwise
def wgan_d(real, fake):
    return fake - real


@_patchwise
def wgan_g(fake):
    return -fake


@_patchwise
def hinge_d(real, fake):
    return ops.relu(1.0 - real) + ops.relu(1.0 + fake)


def _relativistic(real, fake):
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    return real - ops.mean(fake), fake - ops.mean(real)


def ragan_d(real, fake):
    """Relativistic average discriminator loss (ESRGAN eq. 1, BCE form), per example, from D's logits C(x):

    ``0.5 * (-log sigmoid(C(x_r) - mean C(x_f)) - log(1 - sigmoid(C(x_f) - mean C(x_r))))``; the means are over the
    minibatch. The paper sums the two terms; the official code (and this) averages them.
    """
    r, f = _relativistic(real, fake)
    return per_example_mean(0.5 * (ops.softplus(-r) + ops.softplus(f)))


def ragan_g(real, fake):
    """Relativistic average generator loss (ESRGAN eq. 2), per example: the discriminator loss with the labels
    swapped, ``0.5 * (-log(1 - sigmoid(C(x_r) - mean C(x_f))) - log sigmoid(C(x_f) - mean C(x_r)))``. Unlike the
    other adversarial generator losses it needs D's logits for *real* images too (``relativistic = True``)."""
    r, f = _relativistic(real, fake)
    return per_example_mean(0.5 * (ops.softplus(r) + ops.softplus(-f)))


ragan_g.relativistic = True


LOSSES = {
    "minimax": (minimax_d, minimax_g),
    "non_saturating": (minimax_d, non_saturating_g),
    "lsgan": (lsgan_d, lsgan_g),
    "wgan": (wgan_d, wgan_g),
    "hinge": (hinge_d, wgan_g),
    "ragan": (ragan_d, ragan_g),
}


def get(name):
    """``(d_loss, g_loss)`` for a loss name (see the table above)."""
    if isinstance(name, tuple):
        return name
    if name not in LOSSES:
        raise ValueError(f"unknown adversarial loss {name!r}; choose one of {sorted(LOSSES)}")
    return LOSSES[name]


def _sq_norm(g):
    g = ops.cast(g, "float32")
    return ops.sum(ops.reshape(ops.square(g), (ops.shape(g)[0], -1)), axis=1)


def gradient_penalty(critic, real, fake, seed=None):
    """WGAN-GP (Gulrajani et al. 2017): (||grad D(x_hat)|| - 1)^2 at random interpolates x_hat."""
    from zoo import backend, distribute

    shape = [ops.shape(real)[0]] + [1] * (len(real.shape) - 1)
    eps = ops.cast(distribute.uniform(shape, seed=seed), real.dtype)  # one device's draw, this replica's rows
    x_hat = eps * real + (1.0 - eps) * fake
    g = backend.input_gradient(critic, x_hat)
    return ops.square(ops.sqrt(_sq_norm(g) + 1e-12) - 1.0)


def r1_penalty(critic, real):
    """R1 (Mescheder et al. 2018): ||grad D(x)||^2 on real data (multiply by gamma / 2)."""
    from zoo import backend

    return _sq_norm(backend.input_gradient(critic, real))


# -- latent-variable models (zoo.apps.vae) -----------------------------------------------------------------
def gaussian_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over the latent dimensions, float32 (Kingma &
    Welling 2014, appendix B): ``-0.5 * sum(1 + log_var - mean^2 - exp(log_var))``."""
    mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def reparameterize(mean, log_var, seed=None):
    """z = mean + exp(log_var / 2) * eps with eps ~ N(0, I): a sample whose gradients flow to mean and log_var
    (the reparameterisation trick)."""
    from zoo import distribute

    eps = ops.cast(distribute.normal(ops.shape(mean), seed=seed), mean.dtype)  # one device's draw, this replica's
    return mean + ops.exp(0.5 * log_var) * eps


def bernoulli_nll(target, image, eps=1e-6):
    """Binary cross-entropy per example, summed over pixels, of [-1, 1] images read as Bernoulli means in
    [0, 1] (the digits VAE's likelihood); the prediction is clipped to [eps, 1 - eps]."""
    t = (ops.cast(target, "float32") + 1.0) * 0.5
    p = ops.clip((ops.cast(image, "float32") + 1.0) * 0.5, eps, 1.0 - eps)
    nll = -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))
    return ops.sum(ops.reshape(nll, (ops.shape(nll)[0], -1)), axis=1)


def squared_error(target, image):
    """Sum of squared differences per example, in [0, 1] pixel units (a Gaussian likelihood of variance 1/2)."""
    d = (ops.cast(target, "float32") - ops.cast(image, "float32")) * 0.5
    return ops.sum(ops.reshape(ops.square(d), (ops.shape(d)[0], -1)), axis=1)
