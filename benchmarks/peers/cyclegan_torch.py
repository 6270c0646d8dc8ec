"""A PyTorch peer of zoo's CycleGAN training iteration, for ``benchmarks/cyclegan.py --peer``.

Written here from the design of the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix:
``ResnetGenerator``, ``NLayerDiscriminator``, ``ImagePool``, ``CycleGANModel.optimize_parameters``), float32,
NCHW, default options (instance norm, no dropout, LSGAN, lambda 10, identity 0.5, pool of 50, Adam 2e-4 with
betas (0.5, 0.999), init N(0, 0.02)):

* ``resnet_generator``: reflection pad 3, conv 7x7; two 3x3 stride-2 convolutions (padding 1); ``n_blocks``
  residual blocks (reflection pad 1, conv 3x3, norm, ReLU, reflection pad 1, conv 3x3, norm); two 3x3 stride-2
  transposed convolutions (padding 1, output padding 1); reflection pad 3, conv 7x7, tanh. Every convolution
  but the last is followed by ``InstanceNorm2d`` (non-affine) and ReLU; all have a bias.
* ``patch_discriminator``: the 70x70 PatchGAN (4x4 convolutions, padding 1, LeakyReLU 0.2, instance norm after
  all but the first and last, all with a bias).
* ``Iteration``: one call is one ``optimize_parameters``: the forward pass (fake_B = G_A(A), rec_A = G_B(fake_B),
  fake_A = G_B(B), rec_B = G_A(fake_A)); the G step with the discriminators frozen (LSGAN through D_A(fake_B)
  and D_B(fake_A), cycle 10 x L1, identity 5 x L1); then the D step (D_A: real B against a pooled fake_B,
  D_B: real A against a pooled fake_A, each 1/2 (MSE(real, 1) + MSE(fake, 0))). The reference's names:
  G_A: A -> B, D_A judges domain B (zoo's ``a_to_b`` and ``d_b``).

``make("train", args, batch, device)``: one ``Iteration`` per configuration, kept between calls (so that the
harness can alternate its calls with zoo's); ``benchmarks/peers/__init__.py`` has the protocol.
"""
import functools
import itertools
import random

import torch
from torch import nn

from benchmarks.peers import Call
from benchmarks.peers.common import count_parameters, init_weights

#: The reference's parameter counts: ResnetGenerator(3, 3, 64, n_blocks=9) and NLayerDiscriminator(3, 64, 3).
G_PARAMS, D_PARAMS = 11_378_179, 2_764_737
_REPORTED = set()
NAME = "pytorch reference design"


def _conv_norm_relu(conv):
    return [conv, nn.InstanceNorm2d(conv.out_channels), nn.ReLU(True)]


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), *_conv_norm_relu(nn.Conv2d(dim, dim, 3)),
                                  nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.body(x)


def resnet_generator(n_blocks=9, filters=64, channels=3):
    f = filters
    return nn.Sequential(
        nn.ReflectionPad2d(3), *_conv_norm_relu(nn.Conv2d(channels, f, 7)),
        *_conv_norm_relu(nn.Conv2d(f, 2 * f, 3, stride=2, padding=1)),
        *_conv_norm_relu(nn.Conv2d(2 * f, 4 * f, 3, stride=2, padding=1)),
        *[ResnetBlock(4 * f) for _ in range(n_blocks)],
        *_conv_norm_relu(nn.ConvTranspose2d(4 * f, 2 * f, 3, stride=2, padding=1, output_padding=1)),
        *_conv_norm_relu(nn.ConvTranspose2d(2 * f, f, 3, stride=2, padding=1, output_padding=1)),
        nn.ReflectionPad2d(3), nn.Conv2d(f, channels, 7), nn.Tanh())


def patch_discriminator(filters=64, n_layers=3, channels=3):
    layers, width = [nn.Conv2d(channels, filters, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)], filters
    for n in range(1, n_layers + 1):
        out = filters * min(2 ** n, 8)
        layers += [nn.Conv2d(width, out, 4, stride=2 if n < n_layers else 1, padding=1), nn.InstanceNorm2d(out),
                   nn.LeakyReLU(0.2, True)]
        width = out
    return nn.Sequential(*layers, nn.Conv2d(width, 1, 4, stride=1, padding=1))


class ImagePool:
    """The last ``size`` generated images: until full, each image is stored and passed through; then each is,
    with probability 1/2, swapped for a random stored one (which is returned), else passed through."""

    def __init__(self, size=50, seed=0):
        self.size, self.images, self.rng = size, [], random.Random(seed)

    def query(self, batch):
        if self.size == 0:
            return batch
        out = []
        for image in batch.detach().split(1):
            if len(self.images) < self.size:
                self.images.append(image)
            elif self.rng.random() > 0.5:
                i = self.rng.randrange(self.size)
                self.images[i], image = image, self.images[i].clone()
            out.append(image)
        return torch.cat(out)


def _lsgan(prediction, real):
    return nn.functional.mse_loss(prediction, torch.full_like(prediction, 1.0 if real else 0.0))


class Iteration:
    """The reference's networks, optimizers and pools on fixed random (A, B) batches in [-1, 1]; ``step()``
    runs one ``optimize_parameters``."""

    def __init__(self, resolution, batch, n_blocks=9, filters=64, d_filters=64, device="cpu", seed=0,
                 lambda_cycle=10.0, lambda_identity=0.5, pool_size=50):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.g_a, self.g_b = (init_weights(resnet_generator(n_blocks, filters)).to(self.device) for _ in "AB")
        self.d_a, self.d_b = (init_weights(patch_discriminator(d_filters)).to(self.device) for _ in "AB")
        self.params = {"generator": count_parameters(self.g_a), "discriminator": count_parameters(self.d_a)}
        if (n_blocks, filters, d_filters) not in _REPORTED:  # once per architecture
            _REPORTED.add((n_blocks, filters, d_filters))
            print(f"# peer: PyTorch reference design, G {self.params['generator']:,} parameters each ({n_blocks} "
                  f"blocks, {filters} filters), D {self.params['discriminator']:,} each ({d_filters} filters)")
        if (n_blocks, filters, d_filters) == (9, 64, 64):
            assert self.params == {"generator": G_PARAMS, "discriminator": D_PARAMS}, self.params
        adam = functools.partial(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))
        self.opt_g = adam(itertools.chain(self.g_a.parameters(), self.g_b.parameters()))
        self.opt_d = adam(itertools.chain(self.d_a.parameters(), self.d_b.parameters()))
        self.pool_a, self.pool_b = ImagePool(pool_size, seed), ImagePool(pool_size, seed + 1)
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity
        shape = (batch, 3, resolution, resolution)
        self.real_a, self.real_b = (torch.rand(shape, device=self.device) * 2 - 1 for _ in "AB")

    def _set_d_trainable(self, flag):
        for p in itertools.chain(self.d_a.parameters(), self.d_b.parameters()):
            p.requires_grad_(flag)

    @staticmethod
    def _d_loss(d, real, fake):
        return 0.5 * (_lsgan(d(real), True) + _lsgan(d(fake.detach()), False))

    def step(self):
        a, b, l1 = self.real_a, self.real_b, nn.functional.l1_loss
        fake_b = self.g_a(a)
        rec_a = self.g_b(fake_b)
        fake_a = self.g_b(b)
        rec_b = self.g_a(fake_a)
        # G_A and G_B, the discriminators frozen
        self._set_d_trainable(False)
        self.opt_g.zero_grad()
        idt = self.lambda_cycle * self.lambda_identity
        loss_g = (_lsgan(self.d_a(fake_b), True) + _lsgan(self.d_b(fake_a), True)
                  + self.lambda_cycle * (l1(rec_a, a) + l1(rec_b, b))
                  + idt * (l1(self.g_a(b), b) + l1(self.g_b(a), a)))
        loss_g.backward()
        self.opt_g.step()
        # D_A and D_B on pooled fakes
        self._set_d_trainable(True)
        self.opt_d.zero_grad()
        loss_d_a = self._d_loss(self.d_a, b, self.pool_b.query(fake_b))
        loss_d_a.backward()
        loss_d_b = self._d_loss(self.d_b, a, self.pool_a.query(fake_a))
        loss_d_b.backward()
        self.opt_d.step()
        return loss_g.detach(), loss_d_a.detach(), loss_d_b.detach()


def make(task, args, batch, device="cpu"):
    """The peer's ``train`` row (one ``optimize_parameters``) for a ``benchmarks/cyclegan.py`` configuration;
    None for any other task."""
    if task != "train" or args.norm != "instance":
        return None
    it = _build(args.resolution, batch, args.n_blocks, args.filters, args.d_filters, device)
    return Call(it.step, it.params)


@functools.lru_cache(maxsize=1)  # one configuration held at a time (its batch size's memory freed on the next)
def _build(*args):
    return Iteration(*args)
