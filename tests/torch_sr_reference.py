"""Test-only PyTorch implementations of the published super-resolution networks whose checkpoints
``zoo.apps.srgan.from_checkpoint`` reads, written from the reference code (BasicSR ``rrdbnet_arch.py`` /
``srvgg_arch.py``, xinntao/ESRGAN ``RRDBNet_arch.py`` and ``transer_RRDB_models.py``, leftthomas/SRGAN
``model.py`` at b0323c6 and at HEAD, Lornatang/SRGAN-PyTorch ``model.py``), with the same parameter names, so their ``state_dict()`` has the published
key layout. Images NCHW in [0, 1]. Needs torch (importers skip without it).
"""
import math
import re

import torch
import torch.nn.functional as F
from torch import nn


# -- RRDBNet (BasicSR / Real-ESRGAN) -----------------------------------------------------------------------
class ResidualDenseBlock(nn.Module):
    def __init__(self, num_feat=64, num_grow_ch=32):
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2)

    def forward(self, x):
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * 0.2 + x


class RRDB(nn.Module):
    def __init__(self, num_feat, num_grow_ch=32):
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x):
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


def pixel_unshuffle(x, scale):
    b, c, hh, hw = x.size()
    h, w = hh // scale, hw // scale
    return x.view(b, c, h, scale, w, scale).permute(0, 1, 3, 5, 2, 4).reshape(b, c * scale * scale, h, w)


class RRDBNet(nn.Module):
    """BasicSR's RRDBNet (Real-ESRGAN's RealESRGAN_x4plus: scale 4; _x2plus: scale 2, pixel-unshuffled input)."""

    def __init__(self, num_in_ch=3, num_out_ch=3, scale=4, num_feat=64, num_block=23, num_grow_ch=32):
        super().__init__()
        self.scale = scale
        if scale == 2:
            num_in_ch = num_in_ch * 4
        elif scale == 1:
            num_in_ch = num_in_ch * 16
        self.conv_first = nn.Conv2d(num_in_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2)
        for m in self.body.modules():  # BasicSR's default_init_weights(scale=0.1) for the dense blocks
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
                m.weight.data *= 0.1

    def forward(self, x):
        if self.scale == 2:
            feat = pixel_unshuffle(x, scale=2)
        elif self.scale == 1:
            feat = pixel_unshuffle(x, scale=4)
        else:
            feat = x
        feat = self.conv_first(feat)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


def esrgan_keys(basicsr_state, old=False):
    """The same weights in xinntao/ESRGAN's layouts: ``RRDBNet_arch.py``'s names (``RRDB_trunk``, ``trunk_conv``,
    ``upconv1``, ``HRconv``), or with ``old=True`` the first released files' (``model.0``, ``model.1.sub.N.RDBM.
    convK.0``, ``model.3``, ``model.6``, ``model.8``, ``model.10``), the inverse of ``transer_RRDB_models.py``.
    The forward pass of all three is the one of ``RRDBNet`` above at scale 4."""
    nb = len({k.split(".")[1] for k in basicsr_state if k.startswith("body.")})
    new = {}
    for k, v in basicsr_state.items():
        m = re.fullmatch(r"body\.(\d+)\.rdb(\d)\.(conv\d)\.(weight|bias)", k)
        if m:
            new[f"RRDB_trunk.{m[1]}.RDB{m[2]}.{m[3]}.{m[4]}"] = v
            continue
        head, tail = k.rsplit(".", 1)
        new[{"conv_body": "trunk_conv", "conv_up1": "upconv1", "conv_up2": "upconv2", "conv_hr": "HRconv"}.get(
            head, head) + "." + tail] = v
    if not old:
        return new
    old_names = {"conv_first": "model.0", "trunk_conv": f"model.1.sub.{nb}", "upconv1": "model.3",
                 "upconv2": "model.6", "HRconv": "model.8", "conv_last": "model.10"}
    out = {}
    for k, v in new.items():
        head, tail = k.rsplit(".", 1)
        if head.startswith("RRDB_trunk."):
            out["model.1.sub." + head[len("RRDB_trunk."):] + ".0." + tail] = v
        else:
            out[old_names[head] + "." + tail] = v
    return out


# -- SRVGGNetCompact (Real-ESRGAN) -------------------------------------------------------------------------
class SRVGGNetCompact(nn.Module):
    def __init__(self, num_in_ch=3, num_out_ch=3, num_feat=64, num_conv=16, upscale=4):
        super().__init__()
        self.upscale = upscale
        self.body = nn.ModuleList([nn.Conv2d(num_in_ch, num_feat, 3, 1, 1), nn.PReLU(num_parameters=num_feat)])
        for _ in range(num_conv):
            self.body.append(nn.Conv2d(num_feat, num_feat, 3, 1, 1))
            self.body.append(nn.PReLU(num_parameters=num_feat))
        self.body.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
        self.upsampler = nn.PixelShuffle(upscale)

    def forward(self, x):
        out = x
        for layer in self.body:
            out = layer(out)
        return self.upsampler(out) + F.interpolate(x, scale_factor=self.upscale, mode="nearest")


# -- leftthomas/SRGAN ---------------------------------------------------------------------------------------
class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class UpsampleBLock(nn.Module):
    def __init__(self, in_channels, up_scale):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, in_channels * up_scale ** 2, kernel_size=3, padding=1)
        self.pixel_shuffle = nn.PixelShuffle(up_scale)
        self.prelu = nn.PReLU()

    def forward(self, x):
        return self.prelu(self.pixel_shuffle(self.conv(x)))


class LeftthomasGenerator(nn.Module):
    """leftthomas/SRGAN's generator; ``trunk_bn=False`` is b0323c6's (block7 = conv + PReLU, the released
    netG_epoch_4_100.pth), ``True`` the later one (conv + batch norm)."""

    def __init__(self, scale_factor=4, trunk_bn=False):
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(3, 64, kernel_size=9, padding=4), nn.PReLU())
        self.block2, self.block3, self.block4, self.block5, self.block6 = (ResidualBlock(64) for _ in range(5))
        self.block7 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=3, padding=1),
                                    nn.BatchNorm2d(64) if trunk_bn else nn.PReLU())
        block8 = [UpsampleBLock(64, 2) for _ in range(int(math.log(scale_factor, 2)))]
        block8.append(nn.Conv2d(64, 3, kernel_size=9, padding=4))
        self.block8 = nn.Sequential(*block8)

    def forward(self, x):
        block1 = self.block1(x)
        block7 = self.block7(self.block6(self.block5(self.block4(self.block3(self.block2(block1))))))
        return (torch.tanh(self.block8(block1 + block7)) + 1) / 2


# -- Lornatang/SRGAN-PyTorch (model.py, 2022-10 on) --------------------------------------------------------
class _ResidualConvBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.rcb = nn.Sequential(
            nn.Conv2d(channels, channels, (3, 3), (1, 1), (1, 1), bias=False), nn.BatchNorm2d(channels), nn.PReLU(),
            nn.Conv2d(channels, channels, (3, 3), (1, 1), (1, 1), bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        return torch.add(self.rcb(x), x)


class _UpsampleBlock(nn.Module):
    def __init__(self, channels, upscale_factor):
        super().__init__()
        self.upsample_block = nn.Sequential(
            nn.Conv2d(channels, channels * upscale_factor * upscale_factor, (3, 3), (1, 1), (1, 1)),
            nn.PixelShuffle(upscale_factor), nn.PReLU())

    def forward(self, x):
        return self.upsample_block(x)


class LornatangSRResNet(nn.Module):
    def __init__(self, in_channels=3, out_channels=3, channels=64, num_rcb=16, upscale=4):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, channels, (9, 9), (1, 1), (4, 4)), nn.PReLU())
        self.trunk = nn.Sequential(*[_ResidualConvBlock(channels) for _ in range(num_rcb)])
        self.conv2 = nn.Sequential(nn.Conv2d(channels, channels, (3, 3), (1, 1), (1, 1), bias=False),
                                   nn.BatchNorm2d(channels))
        self.upsampling = nn.Sequential(*[_UpsampleBlock(channels, 2) for _ in range(int(math.log(upscale, 2)))])
        self.conv3 = nn.Conv2d(channels, out_channels, (9, 9), (1, 1), (4, 4))

    def forward(self, x):
        conv1 = self.conv1(x)
        x = torch.add(self.conv2(self.trunk(conv1)), conv1)
        return torch.clamp_(self.conv3(self.upsampling(x)), 0.0, 1.0)


def randomise_batch_norms(module, seed=0):
    """Non-trivial running statistics and affine parameters, so a loader that ignores them fails."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
        if isinstance(m, nn.PReLU):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) * 0.3)
    return module


def run(module, x01_nhwc):
    """The module on a NumPy NHWC [0, 1] batch -> NumPy NHWC output."""
    import numpy as np

    with torch.no_grad():
        y = module.eval()(torch.from_numpy(np.ascontiguousarray(x01_nhwc.transpose(0, 3, 1, 2))).float())
    return y.numpy().transpose(0, 2, 3, 1)
