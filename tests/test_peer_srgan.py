"""benchmarks/peers/srgan_torch.py, the PyTorch peer of benchmarks/srgan.py: zoo's parameter counts, the same
SRResNet function as zoo's (weights converted by ``from_keras``), and the ``make`` protocol on tiny configs."""
import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.peers import srgan_torch  # noqa: E402
from zoo.apps.srgan import SRGANDiscriminator, SRResNet  # noqa: E402
from zoo.bench.peer import trainable  # noqa: E402

TINY = dict(arch="srresnet_x4", lr_crop=8, resolution=6, blocks=2, filters=16, pixel_weight=None,
            vgg_weights="random")


def tiny_args(**kw):
    return SimpleNamespace(**{**TINY, **kw})


@pytest.mark.parametrize("blocks, filters, hr_size", [(16, 64, 96), (2, 16, 32), (1, 8, 24)])
def test_parameter_counts_equal_zoos_trainable_counts(blocks, filters, hr_size):
    g = srgan_torch.srresnet(blocks=blocks, filters=filters)
    d = srgan_torch.discriminator(hr_size, filters)
    ours = trainable(SRResNet(blocks=blocks, filters=filters)), trainable(SRGANDiscriminator(hr_size, filters=filters))
    assert (srgan_torch.count_parameters(g), srgan_torch.count_parameters(d)) == ours
    if (blocks, filters, hr_size) == (16, 64, 96):
        assert ours == (srgan_torch.G_PARAMS, srgan_torch.D_PARAMS) == (1_548_547, 23_563_649)
    with torch.no_grad():
        assert d.eval()(torch.zeros(2, 3, hr_size, hr_size)).shape == (2, 1)


def _perturbed_srresnet(seed=0):
    """A zoo SRResNet(blocks=2, filters=16) whose every weight is random: BN moving statistics away from 0 / 1,
    PReLU slopes away from 0.25, non-zero biases and BN offsets."""
    model = SRResNet(blocks=2, filters=16)
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape, name = tuple(w.shape), w.path
        if "moving_variance" in name:
            value = rng.uniform(0.5, 2.0, shape)
        elif "alpha" in name:
            value = rng.uniform(-0.5, 0.8, shape)
        elif "gamma" in name:
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) == 4:
            value = rng.normal(0.0, np.sqrt(1.0 / np.prod(shape[:3])), shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        w.assign(value.astype("float32"))
    return model


@pytest.mark.parametrize("hw", [(8, 8), (5, 7)])
def test_from_keras_computes_zoos_srresnet(hw):
    keras_model = _perturbed_srresnet()
    net = srgan_torch.from_keras(keras_model)
    assert not net.training and srgan_torch.count_parameters(net) == trainable(keras_model)
    assert net.trunk[0].body[1].eps == 1e-5 and abs(net.trunk[0].body[1].momentum - 0.1) < 1e-6
    x = np.random.default_rng(1).uniform(-1, 1, (2, *hw, 3)).astype("float32")
    expected = np.asarray(keras_model(x, training=False))
    with torch.no_grad():
        got = net(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    assert got.shape == expected.shape == (2, 4 * hw[0], 4 * hw[1], 3)
    assert np.abs(expected).max() > 0.1  # a real signal, not a near-zero output
    assert np.abs(got - expected).max() < 1e-4
    # a state dict that a fresh srresnet() loads gives the same network
    fresh = srgan_torch.srresnet(blocks=2, filters=16)
    fresh.load_state_dict(net.state_dict())
    with torch.no_grad():
        assert torch.equal(fresh.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)),
                           net(torch.from_numpy(x).permute(0, 3, 1, 2)))


def test_from_keras_needs_the_pixel_shuffle_permutation():
    """Without the output-channel permutation of the upsampling convolutions the outputs differ: the test
    above can fail."""
    keras_model = _perturbed_srresnet(2)
    net = srgan_torch.from_keras(keras_model)
    x = np.random.default_rng(3).uniform(-1, 1, (1, 6, 6, 3)).astype("float32")
    with torch.no_grad():
        conv = net.upsample[0]
        inverse = torch.argsort(torch.tensor([(k % 4) * 16 + k // 4 for k in range(64)]))
        conv.weight.copy_(conv.weight[inverse]), conv.bias.copy_(conv.bias[inverse])  # zoo's channel order
        got = net(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    assert np.abs(got - np.asarray(keras_model(x, training=False))).max() > 1e-2


def test_make_train_updates_both_networks_with_finite_losses():
    call = srgan_torch.make("train", tiny_args(), 2, "cpu")
    it = srgan_torch._build(srgan_torch.Iteration, 8, 2, 2, 16, 0.0, "cpu")
    assert call.params == {"generator": trainable(SRResNet(blocks=2, filters=16)),
                           "discriminator": trainable(SRGANDiscriminator(32, filters=16))}
    g0 = [p.detach().clone() for p in it.g.parameters()]
    d0 = [p.detach().clone() for p in it.d.parameters()]
    d_stats = it.d[3].running_mean.clone()
    for _ in range(2):
        losses = call.fn()
        assert all(torch.isfinite(loss) for loss in losses)
    assert all(not torch.equal(a, b) for a, b in zip(g0, it.g.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d0, it.d.parameters()))
    assert all(p.requires_grad for p in it.d.parameters())
    assert not torch.equal(d_stats, it.d[3].running_mean)  # D's BN statistics move in the D step
    # the same configuration reuses the built objects; another one replaces them
    assert srgan_torch.make("train", tiny_args(), 2, "cpu").params == call.params
    assert srgan_torch._build(srgan_torch.Iteration, 8, 2, 2, 16, 0.0, "cpu") is it


def test_g_step_leaves_d_statistics_as_they_were():
    it = srgan_torch.Iteration(4, 2, blocks=1, filters=8)
    with srgan_torch.frozen(it.d):
        before = [b.clone() for b in it.d.buffers()]
        it.d(it.hr)
        assert not all(p.requires_grad for p in it.d.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, it.d.buffers()))


def test_make_infer_and_rows_the_peer_does_not_have():
    call = srgan_torch.make("infer", tiny_args(), 3, "cpu")
    assert call.params == {"generator": trainable(SRResNet(blocks=2, filters=16))}
    out = call.fn()
    assert out.shape == (3, 3, 24, 24) and not out.requires_grad
    assert srgan_torch.make("tiled", tiny_args(), 1, "cpu") is None
    assert srgan_torch.make("train", tiny_args(arch="rrdb"), 2, "cpu") is None
    assert srgan_torch.make("infer", tiny_args(arch="rrdb"), 1, "cpu") is None
