"""SRGAN app, the shipped part: presets reproduce their stored outputs, beat bicubic on real images, and the
demo and command line run on them."""
import os

import numpy as np
import pytest
from PIL import Image

from zoo import metrics, weights
from zoo.apps import srgan
from zoo.apps.srgan import data as sr_data

pytestmark = pytest.mark.core

PRESETS = weights.presets("srgan")
SET5 = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "sr", "val", "Set5")


def test_presets_are_shipped():
    assert "srresnet_x4" in PRESETS
    assert weights.get("srgan").name == "srresnet_x4"  # the default


@pytest.mark.parametrize("name", PRESETS)
def test_pretrained_reproduces_reference(name):
    preset = weights.get("srgan", name)
    assert weights.sha256(weights.find_file(preset.file)) == preset.sha256
    g = srgan.pretrained(name)
    assert weights.check_reference(g, preset) < 1e-4
    assert g.scale == 4 and g.preset.metrics["set5_psnr_y"] > 0


def test_recorded_metrics_are_the_card_evaluation():
    """The manifest's numbers are apps/srgan/results.json's (the model card's table), and beat bicubic's."""
    import json

    here = os.path.join(os.path.dirname(__file__), "..", "apps", "srgan")
    with open(os.path.join(here, "results.json")) as f:
        rows = json.load(f)["rows"]
    with open(os.path.join(here, "bicubic.json")) as f:
        bicubic = {r["dataset"]: r for r in json.load(f)["rows"]}
    for name in PRESETS:
        m = weights.get("srgan", name).metrics
        for ds in ("Set5", "Set14"):
            row, = [r for r in rows if r["dataset"] == ds and r["method"] == f"preset {name}"]
            assert m[f"{ds.lower()}_psnr_y"] == row["psnr"] and m[f"{ds.lower()}_ssim_y"] == row["ssim"]
            if name.startswith("srresnet"):  # PSNR-oriented; GAN presets trade PSNR for texture
                assert row["psnr"] > bicubic[ds]["psnr"] + 1.5 and row["ssim"] > bicubic[ds]["ssim"]


@pytest.mark.skipif(not os.path.isdir(SET5), reason="needs ../shared/data/sr/val")
def test_default_preset_beats_bicubic_on_set5_images():
    pairs = sr_data.sr_eval_pairs(os.path.join(SET5, "HR"), os.path.join(SET5, "LR"), scale=4)
    g = srgan.pretrained()
    gains = []
    for (lr, hr), name in zip(pairs, pairs.names):
        if name.startswith(("img_001", "img_003")):  # baby and butterfly
            sr = g.upscale(lr)
            bic = np.asarray(Image.fromarray(lr).resize(hr.shape[1::-1], Image.BICUBIC))
            gains.append(metrics.psnr(sr, hr, y_channel=True, shave=4) - metrics.psnr(bic, hr, y_channel=True, shave=4))
    assert len(gains) == 2 and min(gains) > 1.0, gains


def test_demo_and_cli(tmp_path):
    from zoo.cli import main

    (caption, path), = srgan.demo(str(tmp_path / "sr"))
    assert "srresnet_x4" in caption
    assert Image.open(path).size[0] > 3 * 256  # nearest | bicubic | model, 256 wide each
    src = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (13, 17), dtype=np.uint8)).save(src)  # grey, odd
    out = tmp_path / "out.png"
    assert main(["srgan", "upscale", str(src), "-o", str(out)]) == 0
    assert Image.open(out).size == (68, 52) and Image.open(out).mode == "L"


def test_finetune_on_a_folder_in_one_call(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (40, 44, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    before = srgan.pretrained().get_weights()
    g = srgan.finetune(str(tmp_path), steps=2, hr_crop=32, batch_size=2, verbose=0)
    assert g.preset is None and g.scale == 4
    assert any(not np.array_equal(a, b) for a, b in zip(before, g.get_weights()))
    assert g.upscale(np.zeros((5, 6, 3), np.uint8)).shape == (20, 24, 3)
    gan_g = srgan.finetune(str(tmp_path), steps=1, adversarial=True, content=False, hr_crop=32, batch_size=2,
                           verbose=0)
    assert gan_g.scale == 4


@pytest.mark.tensorflow_only
@pytest.mark.skipif(not os.path.isdir(SET5), reason="train.py measures Set5 after every epoch: needs ../shared")
def test_train_py_trains_photo_adaptive_x4s_networks_then_its_estimator(tmp_path, monkeypatch):
    """apps/srgan/train.py --body trains one compact network of photo_adaptive_x4; --bodies WEAK STRONG loads two and
    trains the degradation estimator alone."""
    import sys

    import keras

    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(__file__), "..", "apps", "srgan"))
    import train

    rng = np.random.default_rng(0)
    data = tmp_path / "hr"
    data.mkdir()
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(data / f"{i}.png")
    common = ["--preset", "photo_adaptive_x4", "--hr-crop", "32", "--batch-size", "2", "--steps", "2",
              "--steps-per-epoch", "2", "--data", str(data), "--pixel-loss", "l1"]
    train.main(common + ["--body", "--degradation", "faint", "--run", str(tmp_path / "weak")])
    body = srgan.SRVGGNetCompact(convs=32)
    weak = tmp_path / "weak" / "generator.weights.h5"
    body.load_weights(weak)  # a compact network's file
    strong = tmp_path / "strong.weights.h5"
    keras.utils.set_random_seed(1)
    srgan.SRVGGNetCompact(convs=32).save_weights(strong)
    train.main(common + ["--bodies", str(weak), str(strong), "--degradation", "span", "--estimator-samples", "8",
                         "--estimator-epochs", "2", "--run", str(tmp_path / "est")])
    g = srgan.CONFIGS["photo_adaptive_x4"].build_generator()
    g.load_weights(tmp_path / "est" / "generator.weights.h5")
    for net, path in ((g.weak, weak), (g.strong, strong)):
        want = srgan.SRVGGNetCompact(convs=32)
        want.load_weights(path)
        assert all(np.array_equal(a, b) for a, b in zip(net.get_weights(), want.get_weights()))
    keras.utils.set_random_seed(0)  # train.py's seed: the estimator it started from
    fresh = srgan.CONFIGS["photo_adaptive_x4"].build_generator()
    assert not all(np.array_equal(a, b) for a, b in zip(g.denoise_model.get_weights(),
                                                          fresh.denoise_model.get_weights()))
    with pytest.raises(SystemExit):
        train.main(["--preset", "srresnet_x4", "--body", "--run", str(tmp_path / "x")])
    sys.modules.pop("train", None)
