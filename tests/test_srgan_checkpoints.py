"""srgan.from_checkpoint: PyTorch .pth files of Real-ESRGAN, ESRGAN and SRGAN ports as zoo generators.

Two real files (../shared/fixtures/checkpoints, skipped without it) and, for the layouts without one at hand,
the published architectures built in PyTorch with random weights (tests/torch_sr_reference.py) and saved in
their published key layouts; zoo's outputs are compared with PyTorch's on the same input. The reader without
PyTorch (``read_pth``) is tested on both PyTorch file formats, and against files that try to run code.
"""
import os
import pickle
import zipfile

import numpy as np
import pytest

from zoo.apps import srgan
from zoo.apps.srgan import checkpoints

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures", "checkpoints")
ANIME = os.path.join(FIXTURES, "realesr-animevideov3.pth")
SRGAN_PTH = os.path.join(FIXTURES, "srgan_x4_netG_epoch_4_100.pth")
needs_fixtures = pytest.mark.skipif(not os.path.isfile(ANIME) or not os.path.isfile(SRGAN_PTH),
                                    reason="needs ../shared/fixtures/checkpoints")
TOL = 1 / 255  # the bound on [0, 1] outputs


def image01(h=20, w=24, seed=0):
    """A smooth-ish [0, 1] RGB test image (NHWC batch of one): a crop of the shipped starfish plus noise."""
    from PIL import Image

    from zoo import images

    rng = np.random.default_rng(seed)
    star = np.asarray(Image.open(images.asset("starfish_lr.png")).convert("RGB"), np.float32) / 255
    x = star[10:10 + h, 5:5 + w] * 0.9 + 0.1 * rng.random((h, w, 3), dtype=np.float32)
    return x[None].astype(np.float32)


def zoo_out01(net, x01):
    """zoo's network on a [0, 1] batch: through its [-1, 1] convention, back to [0, 1]."""
    return (np.asarray(net.predict_on_batch(x01 * 2 - 1), np.float32) + 1) / 2


def torch_ref():
    pytest.importorskip("torch")
    import torch_sr_reference

    return torch_sr_reference


def save(path, state, legacy=False):
    import torch

    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


# ------------------------------------------------------------------------------------ the two real files


@needs_fixtures
def test_fixture_files_read_without_torch():
    """read_pth, PyTorch's zip format (animevideov3) and legacy format (SRGAN): the tensors the README lists."""
    anime = checkpoints.state_dict(ANIME, use_torch=False)
    assert len(anime) == 53 and sum(v.size for v in anime.values()) == 621_424
    assert anime["body.34.weight"].shape == (48, 64, 3, 3) and anime["body.1.weight"].dtype == np.float32
    sr = checkpoints.state_dict(SRGAN_PTH, use_torch=False)
    assert len(sr) == 79 and sum(v.size for v in sr.values()) == 735_372
    assert checkpoints.detect(anime).name == "srvgg_compact"
    assert checkpoints.detect(sr).name == "leftthomas_srgan"
    assert checkpoints.detect(sr).config["trunk"] == "prelu"


@needs_fixtures
@pytest.mark.parametrize("path", [ANIME, SRGAN_PTH], ids=["zip", "legacy"])
def test_fixture_reader_equals_torch_load(path):
    pytest.importorskip("torch")
    a, b = checkpoints.state_dict(path, use_torch=True), checkpoints.state_dict(path, use_torch=False)
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


@needs_fixtures
def test_animevideov3_matches_pytorch():
    ref = torch_ref()
    import torch

    x = image01()
    model = ref.SRVGGNetCompact(num_conv=16, upscale=4)
    model.load_state_dict(torch.load(ANIME, map_location="cpu", weights_only=True)["params"])
    expected = ref.run(model, x)
    for use_torch in (True, False):
        net = srgan.from_checkpoint(ANIME, use_torch=use_torch)
        assert type(net).__name__ == "SRVGGNetCompact" and net.scale == 4 and net.count_params() == 621_424
        got = zoo_out01(net, x)
        assert got.shape == expected.shape == (1, 80, 96, 3)
        diff = np.abs(got - expected).max()
        assert diff < TOL, diff
    # upscale, as users call it: uint8 in, uint8 out, within one level of PyTorch's rounded output
    u8 = np.round(x[0] * 255).astype(np.uint8)
    exp8 = np.clip(np.round(ref.run(model, u8[None].astype(np.float32) / 255)[0] * 255), 0, 255)
    out = net.upscale(u8)
    assert out.dtype == np.uint8 and out.shape == (80, 96, 3)
    assert np.abs(out.astype(int) - exp8).max() <= 1


@needs_fixtures
def test_leftthomas_srgan_matches_pytorch():
    ref = torch_ref()
    import torch

    x = image01(16, 20)
    model = ref.LeftthomasGenerator(4, trunk_bn=False)
    model.load_state_dict(torch.load(SRGAN_PTH, map_location="cpu", weights_only=True))
    expected = ref.run(model, x)
    net = srgan.from_checkpoint(SRGAN_PTH, use_torch=False)
    assert type(net).__name__ == "SRResNet" and net.scale == 4
    got = zoo_out01(net, x)
    diff = np.abs(got - expected).max()
    assert got.shape == (1, 64, 80, 3) and diff < TOL, diff


# ------------------------------------------------------------------------------------ layouts, random weights


def _compare(tmp_path, module, state, x, legacy=False, clip=False, **expect):
    ref = torch_ref()
    path = save(tmp_path / "model.pth", state, legacy=legacy)
    net = srgan.from_checkpoint(path)
    for k, v in expect.items():
        assert getattr(net, k) == v, (k, getattr(net, k))
    expected = ref.run(module, x)
    assert expected.std() > 0.01  # random weights that do something
    got = zoo_out01(net, x)
    if clip:  # the reference clamps its output; zoo clips where the output becomes pixels (upscale)
        got = np.clip(got, 0, 1)
    assert got.shape == expected.shape
    diff = np.abs(got - expected).max()
    print(f"{net.checkpoint_layout} {type(net).__name__} {net.get_config()}: max |zoo - torch| = {diff:.2e}")
    assert diff < TOL, diff
    return net, diff


@pytest.mark.parametrize("layout", ["basicsr_rrdbnet", "esrgan_rrdbnet", "esrgan_rrdbnet_old"])
def test_rrdbnet_x4_layouts(tmp_path, layout):
    """RealESRGAN_x4plus (params_ema wrapper), and ESRGAN's RRDB_*_x4 in its new and first key layouts: three
    dense-block RRDBs here to keep it fast (the 23-block size is checked by test_realesrgan_x4plus_full_size)."""
    ref = torch_ref()
    import torch

    torch.manual_seed(1)
    module = ref.RRDBNet(scale=4, num_block=3).eval()
    sd = module.state_dict()
    if layout == "basicsr_rrdbnet":
        state = {"params_ema": sd, "params": {k: torch.zeros_like(v) for k, v in sd.items()}}
    else:
        state = ref.esrgan_keys(sd, old=layout == "esrgan_rrdbnet_old")
    net, _ = _compare(tmp_path, module, state, image01(12, 10), scale=4, checkpoint_layout=layout)
    assert net.get_config()["blocks"] == 3


def test_realesrgan_x2plus(tmp_path):
    """RealESRGAN_x2plus: BasicSR's RRDBNet at scale 2 pixel-unshuffles its input; odd sizes are padded by
    reflection as Real-ESRGAN does."""
    ref = torch_ref()
    import torch

    torch.manual_seed(2)
    module = ref.RRDBNet(scale=2, num_block=2).eval()
    net, _ = _compare(tmp_path, module, {"params_ema": module.state_dict()}, image01(12, 16), scale=2,
                      checkpoint_layout="basicsr_rrdbnet", multiple=2)
    x = image01(11, 13)
    padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="reflect")
    expected = ref.run(module, padded)[:, :22, :26]
    out = net.upscale(x[0])
    assert out.shape == (22, 26, 3) and out.dtype == np.float32
    assert np.abs(out - np.clip(expected[0], 0, 1)).max() < TOL


def test_realesr_general_x4v3(tmp_path):
    """realesr-general-x4v3: SRVGGNetCompact with 32 body convolutions (1,213,296 parameters), zip and legacy."""
    ref = torch_ref()
    import torch

    torch.manual_seed(3)
    module = ref.SRVGGNetCompact(num_conv=32, upscale=4).eval()
    for m in module.modules():
        if isinstance(m, torch.nn.PReLU):
            m.weight.data.uniform_(0, 0.3)
    for legacy in (False, True):
        net, _ = _compare(tmp_path, module, {"params": module.state_dict()}, image01(10, 14), legacy=legacy,
                          scale=4, checkpoint_layout="srvgg_compact")
        assert net.count_params() == sum(p.numel() for p in module.parameters()) == 1_213_296


def test_leftthomas_batch_norm_trunk(tmp_path):
    """leftthomas/SRGAN's later generator (block7 = conv + batch norm): conv biases folded into the norms."""
    ref = torch_ref()
    import torch

    torch.manual_seed(4)
    module = ref.randomise_batch_norms(ref.LeftthomasGenerator(4, trunk_bn=True)).eval()
    net, _ = _compare(tmp_path, module, module.state_dict(), image01(10, 12), scale=4,
                      checkpoint_layout="leftthomas_srgan")
    assert net.get_config().get("trunk", "batch_norm") == "batch_norm"
    x2 = ref.randomise_batch_norms(ref.LeftthomasGenerator(2, trunk_bn=False), seed=1).eval()
    _compare(tmp_path, x2, x2.state_dict(), image01(10, 12), scale=2)


def test_lornatang_srresnet(tmp_path):
    """Lornatang/SRGAN-PyTorch's SRResNet_x4-ImageNet.pth.tar layout: {"state_dict": ..., "optimizer": ...},
    keys with torch.compile's _orig_mod. prefix; output clamped to [0, 1] (zoo clips at the same place)."""
    ref = torch_ref()
    import torch

    torch.manual_seed(6)
    module = ref.randomise_batch_norms(ref.LornatangSRResNet(num_rcb=3, upscale=4)).eval()
    state = {"epoch": 10, "psnr": 30.1, "state_dict": {"_orig_mod." + k: v for k, v in module.state_dict().items()},
             "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]}}
    x = image01(10, 12)
    net, _ = _compare(tmp_path, module, state, x, clip=True, scale=4, checkpoint_layout="lornatang_srresnet")
    assert 0 < ref.run(module, x).mean() < 1 and net.get_config()["blocks"] == 3
    plain = save(tmp_path / "plain.pth", module.state_dict(), legacy=True)
    assert srgan.from_checkpoint(plain, use_torch=False).checkpoint_layout == "lornatang_srresnet"


def test_realesrgan_x4plus_full_size(tmp_path):
    """The full 23-block RRDBNet: detected from the file, the official 16,697,987 parameters, same output."""
    ref = torch_ref()
    import torch

    torch.manual_seed(5)
    module = ref.RRDBNet(scale=4, num_block=23).eval()
    net, _ = _compare(tmp_path, module, {"params_ema": module.state_dict()}, image01(6, 7), scale=4)
    assert net.count_params() == 16_697_987


# ------------------------------------------------------------------------------------ reader, errors


def test_reader_without_torch_on_both_formats(tmp_path):
    """Dtypes, strided and offset tensors, shared storages, nested dicts: read_pth equals torch.load."""
    pytest.importorskip("torch")
    import torch

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"params": {"t": base.t(), "slice": base[1:3, 2:], "same": base, "half": base.half(),
                      "bf16": torch.tensor([1.5, -2.25]).bfloat16(), "long": torch.tensor([7, -1]),
                      "flag": torch.tensor([True, False]), "scalar": torch.tensor(3.5)}}
    for legacy in (False, True):
        path = tmp_path / f"t{legacy}.pth"
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        got = checkpoints.read_pth(path)["params"]
        for k, v in obj["params"].items():
            want = v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy()
            assert got[k].dtype == want.dtype and got[k].shape == want.shape, k
            np.testing.assert_array_equal(got[k], want, err_msg=k)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_in_a_pickle_is_refused(tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps({"params": {"w": _Evil(marker)}}, protocol=2)
    zipped = tmp_path / "evil_zip.pth"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/version", "3\n")
    legacy = tmp_path / "evil_legacy.pth"
    with open(legacy, "wb") as f:
        for head in (checkpoints._LEGACY_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(head, f, protocol=2)
        f.write(payload)
    for path in (zipped, legacy):
        with pytest.raises(checkpoints.UnsafeCheckpointError, match="refusing to load .*system"):
            srgan.from_checkpoint(path, use_torch=False)
        assert not marker.exists()
    if checkpoints._torch_available():
        with pytest.raises(checkpoints.UnsafeCheckpointError, match="weights_only"):
            srgan.from_checkpoint(zipped, use_torch=True)
        assert not marker.exists()


def test_unknown_layout_and_bad_files(tmp_path):
    pytest.importorskip("torch")
    import torch

    path = save(tmp_path / "other.pth", {"encoder.conv.weight": torch.zeros(8, 3, 3, 3),
                                         "decoder.bias": torch.zeros(3)})
    with pytest.raises(ValueError, match=r"unrecognised .*2 tensors.*encoder\.conv\.weight \(8, 3, 3, 3\).*"
                                         r"Known layouts: .*RRDBNet.*SRVGGNetCompact.*leftthomas"):
        srgan.from_checkpoint(path)
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        (tmp_path / "x.pth").write_bytes(b"hello")
        srgan.from_checkpoint(tmp_path / "x.pth", use_torch=False)
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        srgan.from_checkpoint(tmp_path / "missing.pth")
    torch.save({"epoch": 3, "optimizer": {"lr": 0.1}}, tmp_path / "no_sd.pth")
    with pytest.raises(ValueError, match="no state dict found: top-level keys epoch, optimizer"):
        srgan.from_checkpoint(tmp_path / "no_sd.pth")


# ------------------------------------------------------------------------------------ upscale(outscale=), CLI


def test_upscale_outscale_any_scale():
    """The network's x2, then Lanczos to round(outscale * side), whatever kind of image came in."""
    from PIL import Image

    g = srgan.SRResNet(scale=2, blocks=1, filters=8)
    x = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    full = g.upscale(x)
    assert full.shape == (34, 46, 3)
    np.testing.assert_array_equal(g.upscale(x, outscale=2), full)  # the model's own scale: no resize
    for outscale, shape in ((3, (51, 69, 3)), (1.5, (26, 34, 3)), (0.5, (8, 12, 3)), (3.7, (63, 85, 3))):
        out = g.upscale(x, outscale=outscale)
        assert out.shape == shape and out.dtype == np.uint8, outscale
    from zoo.apps.srgan.networks import resize_images

    np.testing.assert_array_equal(g.upscale(x, outscale=3), resize_images(full, 1.5))
    # Pillow's Lanczos on uint8 rounds and clips between its two passes, the float passes here do not: on a photo
    # the two agree closely
    from zoo import images

    star = Image.open(images.asset("starfish_lr.png")).convert("RGB")
    want = np.asarray(star.resize((96, 96), Image.LANCZOS)).astype(int)
    diff = np.abs(resize_images(np.asarray(star), 1.5).astype(int) - want)
    assert diff.mean() < 0.3 and diff.max() <= 8, (diff.mean(), diff.max())  # measured 0.23, 6
    f = g.upscale(x.astype(np.float32) / 255, outscale=3)
    assert f.dtype == np.float32 and f.shape == (51, 69, 3) and 0 <= f.min() and f.max() <= 1
    assert g.upscale(np.stack([x, x]), outscale=3).shape == (2, 51, 69, 3)
    assert g.upscale(x[..., 0], outscale=3).shape == (51, 69)
    rgba = Image.fromarray(np.dstack([x, np.full(x.shape[:2], 200, np.uint8)]), "RGBA")
    out = g.upscale(rgba, outscale=3)
    assert isinstance(out, Image.Image) and out.mode == "RGBA" and out.size == (69, 51)
    assert [o.shape for o in g.upscale([x, x], outscale=3)] == [(51, 69, 3)] * 2
    for bad in (0, -1, float("nan"), "2", True):
        with pytest.raises(ValueError, match="outscale"):
            g.upscale(x, outscale=bad)
    with pytest.raises(ValueError, match="outscale=3"):
        g.upscale(x, scale=3)


@needs_fixtures
def test_cli_upscale_checkpoint_and_outscale(tmp_path):
    from PIL import Image

    from zoo.cli import main

    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(np.round(image01(10, 12)[0] * 255).astype(np.uint8)).save(src)
    assert main(["srgan", "upscale", str(src), "-o", str(out), "--checkpoint", ANIME, "--outscale", "2.5"]) == 0
    assert Image.open(out).size == (30, 25)
    assert main(["srgan", "upscale", str(src), "-o", str(out), "--checkpoint", ANIME, "--preset",
                 "srresnet_x4"]) == 2
    assert main(["srgan", "upscale", str(src), "-o", str(out), "--checkpoint", ANIME, "--outscale", "0"]) == 2
    mine = tmp_path / "mine.png"  # a writable checkpoint with an image's name: -o must still not replace it
    mine.write_bytes(open(ANIME, "rb").read())
    assert main(["srgan", "upscale", str(src), "-o", str(mine), "--checkpoint", str(mine)]) == 2
    assert open(mine, "rb").read() == open(ANIME, "rb").read()


# ------------------------------------------------------------------------------------ upscale's memory estimate


@pytest.mark.parametrize("arch,size", [("SRResNet()", (120, 120)), ("RRDBNet(blocks=2)", (90, 90)),
                                       ("SRVGGNetCompact(convs=32)", (200, 200))])
def test_upscale_memory_estimate_holds(arch, size):
    """inference_bytes is what untiled upscale really adds to the peak RSS of a warmed-up process (TensorFlow,
    as `zoo srgan upscale` runs), for the presets' architectures (SRResNet: srresnet_x4, srgan_x4; RRDBNet:
    rrdb_psnr_x4, esrgan_x4 and RealESRGAN_x4plus, whose widest activation two blocks already have) and the
    compact network; and tile="auto"'s windows stay within AUTO_TILE_BYTES by the same estimate."""
    import subprocess
    import sys

    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc/self/status (VmHWM)")
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec, so a child of a big pytest process
    # would start at the parent's peak and seem to grow by nothing
    code = f"""
import numpy as np
from zoo.apps import srgan
def peak_rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
g = srgan.{arch}
h, w = {size}
img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
g.upscale(img[:24, :24], tile=None)  # warm-up: TensorFlow's one-time memory is not inference
base = peak_rss()
out = g.upscale(img, tile=None)
peak = peak_rss()
t = g.auto_tile()
print(peak - base, g.inference_bytes(h, w), g.inference_bytes(t, t), g.AUTO_TILE_BYTES)
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", KERAS_BACKEND="tensorflow")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    grown, estimate, window, budget = map(int, proc.stdout.split()[-4:])
    print(f"{arch} {size}: peak RSS grew {grown / 2**20:.0f} MB, estimate {estimate / 2**20:.0f} MB")
    assert grown <= estimate, f"grew {grown / 2**20:.0f} MB > estimate {estimate / 2**20:.0f} MB"
    # an estimate, not a bound at any price; the growth itself varies between runs of the same code (the compact
    # network at 200x200: 92 MB here, 48 MB on the CI machine, as TensorFlow overlaps more or fewer buffers)
    assert estimate < 4 * grown
    assert window <= budget


@needs_fixtures
def test_from_checkpoint_without_tensorflow(run_without_tensorflow):
    """The GPU machine has PyTorch and no TensorFlow: both readers and the network run there."""
    run_without_tensorflow(f"""
import numpy as np
from zoo.apps import srgan
for use_torch in (True, False):
    net = srgan.from_checkpoint({ANIME!r}, use_torch=use_torch)
    out = net.upscale(np.zeros((8, 10, 3), np.uint8), outscale=2)
    assert out.shape == (16, 20, 3), out.shape
""")
