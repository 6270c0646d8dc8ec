"""A PyTorch peer of zoo's SRGAN training iteration and SRResNet inference, for ``benchmarks/srgan.py --peer``.

The networks of ``zoo.apps.srgan`` (layer for layer, the same trainable parameter counts) and the ``SRGAN``
trainer's GAN-phase iteration (SRGAN-VGG54), written in the style of the reference PyTorch implementations
(Lornatang/SRGAN-PyTorch: ``nn.Sequential`` blocks, ``loss.backward()``, ``optimizer.step()``, ``.detach()``
fakes for D, ``requires_grad_(False)`` on D during the G step), float32, NCHW:

* ``srresnet``: conv 9x9 + PReLU (one slope per channel, 0.25); ``blocks`` residual blocks (conv 3x3 - BN - PReLU
  - conv 3x3 - BN, convolutions without bias, identity skip); conv 3x3 (no bias) - BN, added to the head's output;
  per factor of 2, conv 3x3 to ``4 * filters`` - ``nn.PixelShuffle(2)`` - PReLU; conv 9x9 to the image, linear
  (zoo's ``SRResNet``). Kernels He-normal, biases zero. x4 RGB: 1,548,547 trainable parameters.
* ``discriminator``: conv 3x3 + LeakyReLU(0.2); then seven 3x3 convolutions (no bias) with BN and LeakyReLU,
  64, 128, 128, 256, 256, 512, 512 channels (x ``filters / 64``), stride 2 in the 1st, 3rd, 5th and 7th; flatten,
  dense 1024, LeakyReLU, dense 1 (a logit) (zoo's ``SRGANDiscriminator(hr_size=...)``). 96x96: 23,563,649.
* ``vgg19_features``: VGG19's convolutions to ``block5_conv4`` after its ReLU (four 2x2 max-pools between the
  blocks), behind zoo's ``VGGPreprocess`` ([-1, 1] RGB -> 0-255 BGR minus the ImageNet mean); random weights
  (timing only: the same FLOPs as the ImageNet ones), frozen.
* ``Iteration.step``: zoo's ``GAN`` step with ``SRGAN``'s defaults (``FINETUNE``): G runs forward once and its SR
  images serve both steps. D step: ``BCE(D(HR), 1) + BCE(D(SR.detach()), 0)`` (zoo's ``minimax_d`` with logits),
  backward, Adam step. Then the G step on the updated D, D frozen (no parameter gradients; its BN moving stats
  restored afterwards, as zoo's ``_frozen``): ``1e-3 * BCE(D(SR), 1)`` (non-saturating) ``+ MSE(phi(HR) / 12.75,
  phi(SR) / 12.75)`` with phi(HR) under ``torch.no_grad()`` (``+ pixel_weight * MSE(SR, HR)`` when
  ``args.pixel_weight`` is set), backward, Adam step. Adam(1e-4, betas (0.9, 0.999), eps 1e-7: Keras's epsilon).
  Per HR image: 3 G + 8 D + 3 V, zoo's count.

Batch norm: PyTorch's defaults, which are zoo's (``zoo.layers.batch_norm``: momentum 0.9 in Keras's convention =
0.1 in PyTorch's, epsilon 1e-5). ``from_keras`` copies a Keras ``SRResNet``'s weights into a torch one (kernels
transposed to (out, in, kh, kw); the convolutions before a pixel shuffle have their output channels permuted,
since zoo's ``PixelShuffle`` splits the channel axis as (r, r, C), depth-to-space in NHWC, and ``nn.PixelShuffle``
as (C, r, r)).

``make(task, args, batch, device)`` (``benchmarks/peers/__init__.py`` has the protocol): ``"train"`` (arch
``srresnet_x4`` only) and ``"infer"`` (the generator in eval mode under ``torch.no_grad()``); the objects of one
configuration are kept between calls, so that the harness can alternate its calls with zoo's.
"""
import contextlib
import functools

import torch
from torch import nn
from torch.nn import functional as F

from benchmarks.peers import Call
from benchmarks.peers.common import count_parameters

NAME = "pytorch reference design"
#: zoo's trainable parameter counts: SRResNet() (x4, 16 blocks, 64 filters) and SRGANDiscriminator(hr_size=96).
G_PARAMS, D_PARAMS = 1_548_547, 23_563_649
#: zoo's ``VGG_MEAN_BGR``: the Caffe VGG's ImageNet mean, BGR, 0-255.
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
#: VGG19's convolution widths per block, to block5_conv4 (a 2x2 max-pool between blocks).
VGG19_BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))


# ---------------------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------------------
class ResidualBlock(nn.Module):
    """``x + (conv - BN - PReLU - conv - BN)(x)``, 3x3 convolutions without bias (zoo's ``ResidualBlock`` with
    ``norm="batch", activation="prelu"``)."""

    def __init__(self, filters):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(filters, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters),
            nn.PReLU(filters, 0.25),
            nn.Conv2d(filters, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters))

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    """LR ``(N, channels, h, w)`` -> SR ``(N, channels, scale*h, scale*w)``, both in [-1, 1] (see the module
    docstring)."""

    def __init__(self, scale=4, blocks=16, filters=64, channels=3, output_activation=None):
        super().__init__()
        stages = scale.bit_length() - 1
        if scale < 2 or 2**stages != scale:
            raise ValueError(f"scale must be a power of two >= 2, got {scale!r}")
        if output_activation not in (None, "tanh"):
            raise ValueError(f"output_activation must be None or 'tanh', got {output_activation!r}")
        self.head = nn.Sequential(nn.Conv2d(channels, filters, 9, padding=4), nn.PReLU(filters, 0.25))
        self.trunk = nn.Sequential(*[ResidualBlock(filters) for _ in range(blocks)])
        self.trunk_out = nn.Sequential(nn.Conv2d(filters, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters))
        self.upsample = nn.Sequential(*[m for _ in range(stages) for m in (
            nn.Conv2d(filters, 4 * filters, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(filters, 0.25))])
        self.tail = nn.Conv2d(filters, channels, 9, padding=4)
        self.tanh = output_activation == "tanh"
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # zoo: he_normal kernels, zero biases
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        head = self.head(x)
        x = self.tail(self.upsample(head + self.trunk_out(self.trunk(head))))
        return torch.tanh(x) if self.tanh else x


def srresnet(scale=4, blocks=16, filters=64, channels=3, output_activation=None):
    """zoo's ``SRResNet`` in PyTorch (x4 RGB defaults: 1,548,547 trainable parameters)."""
    return SRResNet(scale, blocks, filters, channels, output_activation)


def _glorot(net):
    """Keras's default initialisation (zoo's discriminator and Keras's VGG19 without weights): Glorot-uniform
    kernels, zero biases."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


def discriminator(hr_size=96, filters=64, channels=3, stages=4, dense_units=1024):
    """zoo's ``SRGANDiscriminator(hr_size, channels, filters, stages)`` (3x3 strided kernels: SRGAN's layout):
    HR ``(N, channels, hr_size, hr_size)`` -> one logit per image. ``hr_size=None``: global average pooling
    instead of the flatten. 96, RGB, 64 filters: 23,563,649 trainable parameters."""
    layers, width, side = [nn.Conv2d(channels, filters, 3, padding=1), nn.LeakyReLU(0.2, True)], filters, hr_size
    for i in range(stages):
        out = min(filters * 2**i, filters * 8)
        for stride in ((2,) if i == 0 else (1, 2)):
            layers += [nn.Conv2d(width, out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(out),
                       nn.LeakyReLU(0.2, True)]
            width = out
        side = side and (side + 1) // 2  # "same" padding, stride 2: ceil(side / 2), as Keras
    flat = width * side * side if hr_size else width
    layers += [nn.Flatten() if hr_size else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
               nn.Linear(flat, dense_units), nn.LeakyReLU(0.2, True), nn.Linear(dense_units, 1)]
    return _glorot(nn.Sequential(*layers))


class VGGFeatures(nn.Module):
    """[-1, 1] RGB -> VGG19 ``block5_conv4`` after its ReLU (zoo's ``VGGFeatures`` with ``VGGPreprocess``)."""

    def __init__(self):
        super().__init__()
        layers, width = [], 3
        for i, block in enumerate(VGG19_BLOCKS):
            if i:
                layers.append(nn.MaxPool2d(2, 2))
            for out in block:
                layers += [nn.Conv2d(width, out, 3, padding=1), nn.ReLU(True)]
                width = out
        self.features = _glorot(nn.Sequential(*layers))
        self.register_buffer("mean", torch.tensor(VGG_MEAN_BGR).view(1, 3, 1, 1))

    def forward(self, x):
        return self.features((x + 1.0).mul(127.5).flip(1) - self.mean)  # 0-255, RGB -> BGR, minus the mean


def vgg19_features():
    """VGG19 to ``block5_conv4`` (+ReLU) behind zoo's preprocessing, random weights, frozen, in eval mode."""
    return VGGFeatures().requires_grad_(False).eval()


# ---------------------------------------------------------------------------------------------------------
# Keras -> torch weights
# ---------------------------------------------------------------------------------------------------------
def _conv(dst, layer, perm=None):
    weights = [torch.as_tensor(w) for w in layer.get_weights()]
    kernel = weights[0].permute(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    bias = weights[1] if len(weights) > 1 else None
    if perm is not None:
        kernel, bias = kernel[perm], bias[perm]
    dst.weight.copy_(kernel)
    if bias is not None:
        dst.bias.copy_(bias)


def _bn(dst, layer):
    gamma, beta, mean, var = (torch.as_tensor(w) for w in layer.get_weights())
    dst.weight.copy_(gamma), dst.bias.copy_(beta), dst.running_mean.copy_(mean), dst.running_var.copy_(var)
    dst.eps, dst.momentum = float(layer.epsilon), 1.0 - float(layer.momentum)


def _prelu(dst, layer):
    dst.weight.copy_(torch.as_tensor(layer.get_weights()[0]).reshape(-1))  # Keras (1, 1, C)


@torch.no_grad()
def from_keras(keras_srresnet):
    """A torch ``SRResNet`` holding the weights of zoo's Keras ``SRResNet`` (batch-norm moving statistics in
    ``running_mean``/``running_var``, epsilon and momentum as the Keras layers'): in eval mode it computes what the
    Keras model computes with ``training=False``, on NCHW tensors."""
    cfg = keras_srresnet.get_config()
    net = srresnet(cfg["scale"], cfg["blocks"], cfg["filters"], cfg["channels"], cfg.get("output_activation"))
    layer = keras_srresnet.get_layer
    _conv(net.head[0], layer("head_conv"))
    _prelu(net.head[1], layer("head_prelu"))
    for i, block in enumerate(net.trunk):
        k = layer(f"residual{i}")
        conv1, bn1, act, conv2, bn2 = block.body
        _conv(conv1, k.conv1), _bn(bn1, k.norm1), _prelu(act, k.act), _conv(conv2, k.conv2), _bn(bn2, k.norm2)
    _conv(net.trunk_out[0], layer("trunk_conv"))
    _bn(net.trunk_out[1], layer("trunk_norm"))
    f = cfg["filters"]
    # torch channel k = c*4 + i*2 + j (nn.PixelShuffle) is zoo's channel (i*2 + j)*f + c (PixelShuffle)
    perm = torch.tensor([(k % 4) * f + k // 4 for k in range(4 * f)])
    for i in range(len(net.upsample) // 3):
        _conv(net.upsample[3 * i], layer(f"up{i}_conv"), perm)
        _prelu(net.upsample[3 * i + 2], layer(f"up{i}_prelu"))
    _conv(net.tail, layer("tail_conv"))
    return net.eval()


# ---------------------------------------------------------------------------------------------------------
# The training iteration
# ---------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def frozen(net):
    """D during the G step: no parameter gradients (only input gradients flow through it), and its state
    (batch-norm moving statistics) as on entry, as zoo's ``_frozen``; it still runs in training mode."""
    saved = [b.clone() for b in net.buffers()]
    net.requires_grad_(False)
    try:
        yield net
    finally:
        net.requires_grad_(True)
        for b, s in zip(net.buffers(), saved):
            b.copy_(s)


def _bce(logits, real):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


class Iteration:
    """SRResNet, the discriminator for ``4 * lr_size`` crops, the VGG content network and both Adam optimizers
    on fixed random (lr, hr) batches in [-1, 1]; ``step()`` runs one zoo ``SRGAN`` iteration."""

    def __init__(self, lr_size, batch, blocks=16, filters=64, pixel_weight=0.0, device="cpu", seed=0,
                 adversarial_weight=1e-3, content_scale=1 / 12.75, lr=1e-4):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.g = srresnet(4, blocks, filters).to(self.device).train()
        self.d = discriminator(4 * lr_size, filters).to(self.device).train()
        self.vgg = vgg19_features().to(self.device)
        self.params = {"generator": count_parameters(self.g), "discriminator": count_parameters(self.d)}
        if (lr_size, blocks, filters) == (24, 16, 64):
            assert self.params == {"generator": G_PARAMS, "discriminator": D_PARAMS}, self.params
        adam = functools.partial(torch.optim.Adam, lr=lr, betas=(0.9, 0.999), eps=1e-7)
        self.opt_g, self.opt_d = adam(self.g.parameters()), adam(self.d.parameters())
        self.pixel_weight, self.adversarial_weight, self.scale = pixel_weight, adversarial_weight, content_scale
        self.lr = torch.rand(batch, 3, lr_size, lr_size, device=self.device) * 2 - 1
        self.hr = torch.rand(batch, 3, 4 * lr_size, 4 * lr_size, device=self.device) * 2 - 1

    def step(self):
        """One iteration: G forward once, the D step, then the G step; returns the (D, G) losses, detached."""
        lr, hr = self.lr, self.hr
        sr = self.g(lr)
        # D step on HR against the detached SR images
        self.opt_d.zero_grad()
        d_loss = _bce(self.d(hr), True) + _bce(self.d(sr.detach()), False)
        d_loss.backward()
        self.opt_d.step()
        # G step through the updated, frozen D and the VGG content network
        self.opt_g.zero_grad()
        with frozen(self.d):
            with torch.no_grad():
                target = self.vgg(hr) * self.scale
            g_loss = (self.adversarial_weight * _bce(self.d(sr), True)
                      + F.mse_loss(self.vgg(sr) * self.scale, target))
            if self.pixel_weight:
                g_loss = g_loss + self.pixel_weight * F.mse_loss(sr, hr)
            g_loss.backward()
        self.opt_g.step()
        return d_loss.detach(), g_loss.detach()


class Inference:
    """The generator in eval mode on a fixed random batch of ``resolution`` x ``resolution`` LR images."""

    def __init__(self, resolution, batch, blocks=16, filters=64, device="cpu", seed=0):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.g = srresnet(4, blocks, filters).to(self.device).eval()
        self.params = {"generator": count_parameters(self.g)}
        if (blocks, filters) == (16, 64):
            assert self.params["generator"] == G_PARAMS, self.params
        self.lr = torch.rand(batch, 3, resolution, resolution, device=self.device) * 2 - 1

    @torch.no_grad()
    def step(self):
        return self.g(self.lr)


@functools.lru_cache(maxsize=1)  # one configuration held at a time (its batch size's memory freed on the next)
def _build(cls, *args):
    return cls(*args)


def make(task, args, batch, device="cpu"):
    """The peer's ``train`` row (one SRGAN iteration on ``args.lr_crop`` LR / 4x HR crops; ``srresnet_x4``
    only) or ``infer`` row (the generator on ``args.resolution`` LR images) for a ``benchmarks/srgan.py``
    configuration; None for any other task or architecture. ``args.vgg_weights`` is not read: the content
    network has random weights here, the same compute."""
    if args.arch != "srresnet_x4" or task not in ("train", "infer"):
        return None
    blocks = args.blocks or 16
    if task == "train":
        pixel_weight = float(args.pixel_weight or 0.0)
        it = _build(Iteration, args.lr_crop, batch, blocks, args.filters, pixel_weight, device)
    else:
        it = _build(Inference, args.resolution, batch, blocks, args.filters, device)
    return Call(it.step, it.params)
