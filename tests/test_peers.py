"""The PyTorch peers of the benchmarks (``benchmarks/peers/pix2pix_torch.py``; srgan's in test_peer_srgan.py),
``zoo.bench.peer`` (the alternated rows, the parameter check) and ``benchmarks/compare.py`` end to end on
tiny settings. Smoke and equivalence tests, not timing assertions."""
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import keras
import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.peers import Call, pix2pix_torch  # noqa: E402
from zoo import bench  # noqa: E402
from zoo.apps import pix2pix  # noqa: E402
from zoo.bench import peer  # noqa: E402

ENV = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")


def _nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def _perturbed_unet(depth=5, filters=8, seed=0):
    """A zoo U-Net whose batch-norm statistics, scales, offsets and biases are all away from their initial
    values (so that a conversion that dropped any of them would show)."""
    g = pix2pix.UNetGenerator(depth=depth, filters=filters)
    rng = np.random.default_rng(seed)
    for v in g.variables:
        if v.path.endswith(("moving_variance", "gamma")):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        elif v.path.endswith(("moving_mean", "beta", "bias")):
            v.assign(rng.normal(0, 0.2, v.shape).astype("float32"))
    return g


def test_parameter_counts_equal_the_reference_and_zoo():
    assert (pix2pix_torch.count_parameters(pix2pix_torch.unet()),
            pix2pix_torch.count_parameters(pix2pix_torch.patch_discriminator())) == (54_413_955, 2_768_705)
    for depth, filters in [(8, 32), (5, 8)]:
        assert pix2pix_torch.count_parameters(pix2pix_torch.unet(depth, filters)) == \
            peer.trainable(pix2pix.UNetGenerator(depth=depth, filters=filters))
    assert pix2pix_torch.count_parameters(pix2pix_torch.patch_discriminator(8)) == \
        peer.trainable(pix2pix.PatchDiscriminator(filters=8))


def test_from_keras_computes_zoos_unet_in_both_test_modes():
    """Moving statistics (``predict``) and each image's own statistics (``translate(stats="image")``) on a
    non-square batch: the peer network is zoo's function, not a look-alike."""
    g = _perturbed_unet()
    net = pix2pix_torch.from_keras(g).eval()
    x = np.random.default_rng(1).uniform(-1, 1, (2, 64, 32, 3)).astype("float32")
    with torch.no_grad():
        moving = net(_nchw(x)).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(moving, keras.ops.convert_to_numpy(g(x, training=False)), atol=1e-5)
    pix2pix_torch.image_stats_mode(net)
    with torch.no_grad():
        own = np.concatenate([net(_nchw(x[i:i + 1])).numpy() for i in range(2)]).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(own, g.translate((x + 1) / 2, stats="image") * 2 - 1, atol=1e-5)
    assert np.abs(own - moving).max() > 1e-2  # the two modes differ, so each comparison means something


def test_make_rows_run_and_train():
    args = SimpleNamespace(norm="batch", resolution=32, depth=5, filters=8, n_layers=3)
    call = pix2pix_torch.make("train", args, 2)
    it = pix2pix_torch._iteration(32, 2, 5, 8, 3, "cpu")  # the one make() built (cached)
    before = [p.detach().clone() for p in it.g.parameters()] + [p.detach().clone() for p in it.d.parameters()]
    call.fn()
    after = list(it.g.parameters()) + list(it.d.parameters())
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
    assert call.params == {"generator": 261_715, "discriminator": 45_033}
    for task in ("infer", "translate"):
        c = pix2pix_torch.make(task, args, 3)
        c.fn()
        assert c.params == {"generator": 261_715}
    assert pix2pix_torch.make("tiled", args, 1) is None
    assert pix2pix_torch.make("train", SimpleNamespace(**{**vars(args), "norm": "instance"}), 1) is None


class _FakePeer:
    """A peer whose network has one parameter too many: the rows must stop before timing."""
    NAME, torch = "fake", torch

    @staticmethod
    def make(task, args, batch, device):
        return Call(lambda: None, {"generator": 10**6 + 1})


def test_peer_rows_refuse_networks_of_another_size():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import pix2pix as bench_pix2pix  # benchmarks/pix2pix.py

    args = bench.parse_args(bench.make_parser("t"), ["--tiny", "--repeats", "1", "--skip-train",
                                                     "--infer-batch-sizes", "1"], bench_pix2pix.DEFAULTS,
                            bench_pix2pix.TINY)
    args.skip_translate = True
    with pytest.raises(SystemExit, match="parameter counts"):
        peer.peer_rows(args, bench_pix2pix.build, "pix2pix", _FakePeer)


def test_pix2pix_benchmark_peer_rows(tmp_path):
    """benchmarks/pix2pix.py --peer only: one alternated row per (task, batch), zoo's and the peer's times, the
    ratio, the parameter counts checked."""
    out = tmp_path / "rows.jsonl"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "pix2pix.py"), "--tiny", "--repeats", "2",
                           "--batch-sizes", "1", "--infer-batch-sizes", "2", "--peer", "only", "--threads", "1",
                           "--json", str(out)], env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["compared"], r["batch_size"]) for r in rows] == [
        ("peer", "train", 1), ("peer", "infer", 2), ("peer", "translate", 2)]
    for r in rows:
        assert r["status"] == "ok" and r["peer"] == "pytorch reference design" and r["peer_threads"] == 1
        assert r["ratio"] == pytest.approx(r["zoo_ms"] / r["peer_ms"])
        assert len(r["times_s"]) == len(r["peer_times_s"]) == 4  # 2 rounds of 2 calls per side
    assert rows[0]["peer_params"] == {"generator": 261_715, "discriminator": 45_033}


def test_compare_script_tiny(tmp_path):
    """benchmarks/compare.py: the peer rows of an app and the fresh-process start-up rows of the README's
    one-liners (the shipped srgan and pix2pix presets), in one table."""
    out, md = tmp_path / "rows.jsonl", tmp_path / "table.md"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "compare.py"), "--tiny", "--apps",
                           "pix2pix", "--backends", "tensorflow", "--repeats", "1", "--startup-repeats", "1",
                           "--threads", "1", "--json", str(out), "--markdown", str(md)],
                          env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    compared = ["train", "infer", "infer", "translate", "translate"]
    assert [r.get("compared") for r in rows] == compared * 2 + ["startup", "startup", None]
    assert [r["precision"] for r in rows[:10]] == ["float32"] * 5 + ["mixed_bfloat16"] * 5
    startup = {r["app"]: r for r in rows if r["task"] == "startup"}
    assert startup["srgan"]["one_liner"].startswith("from zoo.apps import srgan; srgan.pretrained().upscale(")
    assert all(r["zoo_ms"] > 0 and r["peer_ms"] > 0 for r in rows[:-1])
    bf16 = rows[-1]  # the shipped pix2pix preset in both precisions: fast, and close but not identical
    assert bf16["task"] == "precision" and bf16["app"] == "pix2pix" and 15 < bf16["psnr_db"] < 200
    table = md.read_text().splitlines()
    assert table[0].startswith("| app | Keras backend | workload |") and "| pix2pix | edges2shoes_handbags" in table[-1]
    assert sum("translate / its own predict" in line for line in table) == 4
