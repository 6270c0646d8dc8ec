"""PyTorch helpers the peers share (imported only with PyTorch present)."""
from torch import nn


def count_parameters(net):
    """Trainable parameters (what zoo's ``zoo.bench.peer.trainable`` counts in Keras)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def init_weights(net, std=0.02):
    """junyanz/pytorch-CycleGAN-and-pix2pix's ``init_weights("normal")``: N(0, std) convolution weights, zero
    biases, N(1, std) batch-norm scales."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return net
