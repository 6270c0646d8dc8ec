"""A PyTorch peer of zoo's pix2pix rows, for ``benchmarks/pix2pix.py --peer``.

Written here from the design of the reference implementation (junyanz/pytorch-CycleGAN-and-pix2pix:
``UnetGenerator``, ``NLayerDiscriminator``, ``GANLoss("vanilla")``, ``Pix2PixModel.optimize_parameters``),
float32, NCHW, the pix2pix defaults (batch norm, dropout 0.5, lambda_L1 100, Adam 2e-4 with betas (0.5, 0.999),
init N(0, 0.02)):

* ``unet``: ``depth`` down blocks (4x4 stride-2 convolution, padding 1; LeakyReLU(0.2) before all but the first,
  batch norm after all but the first and the innermost) and the mirrored up blocks (ReLU, 4x4 stride-2
  transposed convolution, batch norm, dropout in the three blocks after the innermost, then the skip
  concatenated), the outermost up block ending in tanh. Convolutions followed by batch norm have no bias.
* ``patch_discriminator``: the 70x70 PatchGAN on the 6-channel (input, output) pair (4x4 convolutions,
  padding 1, LeakyReLU 0.2, batch norm after all but the first and last).
* ``Iteration``: one ``optimize_parameters``: fake = G(A); the D step (``0.5 * (BCE(D(A, fake.detach()), 0) +
  BCE(D(A, B), 1))``), then the G step with D frozen (``BCE(D(A, fake), 1) + 100 * L1(fake, B)``). Both
  networks in training mode, as the reference trains.

Rows (``make``): ``train`` (one iteration), ``infer`` (G in eval mode, no gradient: moving statistics, no
dropout; zoo's predict function) and ``translate`` (the reference's ``test.py`` without ``--eval``: one image at
a time, batch-norm statistics of that image, here with dropout off as zoo's ``translate`` default; zoo's row is
``UNetGenerator.translate(x, stats="image")``).
"""
import functools

import torch
from torch import nn

from benchmarks.peers import Call
from benchmarks.peers.common import count_parameters, init_weights

NAME = "pytorch reference design"
#: The reference's counts: UnetGenerator(3, 3, 8, 64, BatchNorm2d, use_dropout=True), NLayerDiscriminator(6, 64, 3).
G_PARAMS, D_PARAMS = 54_413_955, 2_768_705


def unet(depth=8, filters=64, channels=3):
    """The reference's U-Net, built from the innermost level out like its ``UnetSkipConnectionBlock``s: level
    ``i`` (0 outermost) maps ``outer`` channels to ``widths[i]`` and back."""
    widths = [min(filters * 2**i, filters * 8) for i in range(depth)]
    net = None
    for i in range(depth - 1, -1, -1):
        outer, inner = (channels if i == 0 else widths[i - 1]), widths[i]
        down = [nn.Conv2d(outer, inner, 4, 2, 1, bias=False)]
        if i == 0:  # outermost: no activation before, a biased transposed convolution to the image and tanh
            net = nn.Sequential(*down, net, nn.ReLU(True), nn.ConvTranspose2d(2 * inner, channels, 4, 2, 1),
                                nn.Tanh())
            break
        down.insert(0, nn.LeakyReLU(0.2, True))
        if net is not None:  # the innermost level has no norm after its down convolution
            down.append(nn.BatchNorm2d(inner))
        up = [nn.ReLU(True), nn.ConvTranspose2d(inner if net is None else 2 * inner, outer, 4, 2, 1, bias=False),
              nn.BatchNorm2d(outer)]
        if 4 <= i < depth - 1:  # dropout in the depth - 5 levels around the innermost one
            up.append(nn.Dropout(0.5))
        net = _Skip(nn.Sequential(*down, *([net] if net is not None else []), *up))
    return net


def from_keras(generator):
    """A ``unet`` holding the weights of a zoo ``UNetGenerator`` (batch norm): level ``i``'s down convolution and
    norm are zoo's ``down{i}``, its up convolution and norm zoo's ``up{depth - 1 - i}``. Kernels move from
    channels-last ``(kh, kw, a, b)`` to PyTorch's ``(b, a, kh, kw)``; the moving statistics become the running
    ones (both with epsilon 1e-5)."""
    depth = generator.depth
    net = unet(depth, generator.get_config()["filters"], generator.in_channels)
    level = net
    for i in range(depth):
        seq = level if i == 0 else level.body
        children = list(seq.children())
        convs = [m for m in children if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        norms = [m for m in children if isinstance(m, nn.BatchNorm2d)]
        down, up = generator.get_layer(f"down{i}"), generator.get_layer(f"up{depth - 1 - i}")
        _copy_conv(convs[0], down.conv)
        _copy_conv(convs[1], up.conv)
        if 0 < i < depth - 1:
            _copy_norm(norms[0], down.norm_layer)
        if i > 0:
            _copy_norm(norms[-1], up.norm_layer)
        level = next((m for m in children if isinstance(m, _Skip)), None)
    return net


def _numpy(variable):
    from keras import ops

    return ops.convert_to_numpy(variable)


def _copy_conv(module, layer):
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(_numpy(layer.kernel).transpose(3, 2, 0, 1).copy()))
        if module.bias is not None:
            module.bias.copy_(torch.from_numpy(_numpy(layer.bias)))


def _copy_norm(module, layer):
    with torch.no_grad():
        for name, value in (("weight", layer.gamma), ("bias", layer.beta), ("running_mean", layer.moving_mean),
                            ("running_var", layer.moving_variance)):
            getattr(module, name).copy_(torch.from_numpy(_numpy(value)))


class _Skip(nn.Module):
    """``cat([x, body(x)], 1)``: a U-Net level with its skip connection (the reference's order)."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


def patch_discriminator(filters=64, n_layers=3, channels=6):
    layers, width = [nn.Conv2d(channels, filters, 4, 2, 1), nn.LeakyReLU(0.2, True)], filters
    for n in range(1, n_layers + 1):
        out = filters * min(2**n, 8)
        layers += [nn.Conv2d(width, out, 4, 2 if n < n_layers else 1, 1, bias=False), nn.BatchNorm2d(out),
                   nn.LeakyReLU(0.2, True)]
        width = out
    return nn.Sequential(*layers, nn.Conv2d(width, 1, 4, 1, 1))


class Iteration:
    """The reference's networks and optimizers on fixed random (A, B) batches in [-1, 1]; ``step()`` runs one
    ``optimize_parameters``."""

    def __init__(self, resolution, batch, depth=8, filters=64, n_layers=3, device="cpu", seed=0, lambda_l1=100.0):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.g = init_weights(unet(depth, filters)).to(self.device)
        self.d = init_weights(patch_discriminator(filters, n_layers)).to(self.device)
        self.params = {"generator": count_parameters(self.g), "discriminator": count_parameters(self.d)}
        if (depth, filters, n_layers) == (8, 64, 3):
            assert self.params == {"generator": G_PARAMS, "discriminator": D_PARAMS}, self.params
        adam = functools.partial(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))
        self.opt_g, self.opt_d = adam(self.g.parameters()), adam(self.d.parameters())
        self.bce, self.lambda_l1 = nn.BCEWithLogitsLoss(), lambda_l1
        shape = (batch, 3, resolution, resolution)
        self.real_a, self.real_b = (torch.rand(shape, device=self.device) * 2 - 1 for _ in "AB")

    def _gan(self, logits, real):
        return self.bce(logits, torch.full_like(logits, 1.0 if real else 0.0))

    def step(self):
        a, b = self.real_a, self.real_b
        fake = self.g(a)
        # D, on the detached fake and the real pair
        self.d.requires_grad_(True)
        self.opt_d.zero_grad()
        loss_d = 0.5 * (self._gan(self.d(torch.cat((a, fake.detach()), 1)), False)
                        + self._gan(self.d(torch.cat((a, b), 1)), True))
        loss_d.backward()
        self.opt_d.step()
        # G, D frozen
        self.d.requires_grad_(False)
        self.opt_g.zero_grad()
        loss_g = self._gan(self.d(torch.cat((a, fake), 1)), True) + self.lambda_l1 * nn.functional.l1_loss(fake, b)
        loss_g.backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()


def image_stats_mode(g):
    """G as the reference's ``test.py`` runs it without ``--eval`` (batch norm on each call's own statistics),
    with dropout off."""
    g.train()
    for m in g.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    return g


def make(task, args, batch, device="cpu"):
    """The peer's ``train``, ``infer`` and ``translate`` rows for a ``benchmarks/pix2pix.py`` configuration (batch
    norm only, the reference's pix2pix); None for other tasks."""
    if args.norm != "batch" or task not in ("train", "infer", "translate"):
        return None
    if task == "train":
        it = _iteration(args.resolution, batch, args.depth, args.filters, args.n_layers, device)
        return Call(it.step, it.params)
    g, x = _generator(args.depth, args.filters, device, args.resolution, batch)
    if task == "infer":
        g.eval()

        @torch.no_grad()
        def fn():
            return g(x)
    else:
        image_stats_mode(g)

        @torch.no_grad()
        def fn():
            return [g(image) for image in x.split(1)]
    return Call(fn, {"generator": count_parameters(g)})


@functools.lru_cache(maxsize=1)  # one configuration held at a time (its memory freed on the next)
def _iteration(*args):
    return Iteration(*args)


@functools.lru_cache(maxsize=1)
def _generator(depth, filters, device, resolution, batch):
    torch.manual_seed(0)
    g = init_weights(unet(depth, filters)).to(device)
    return g, torch.rand((batch, 3, resolution, resolution), device=device) * 2 - 1
