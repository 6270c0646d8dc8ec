"""benchmarks/cyclegan.py end to end on CPU, tiny settings (smoke tests, not timing assertions): the harness's
rows, and --peer against the PyTorch reference design."""
import json
import os
import subprocess
import sys

import pytest

from test_bench import EXPECTED_KEYS, ROOT

ENV = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")


def run_bench(tmp_path, *flags):
    out = tmp_path / "rows.jsonl"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "cyclegan.py"), "--tiny",
                           "--repeats", "2", "--json", str(out), *flags],
                          env=ENV, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, [json.loads(line) for line in out.read_text().splitlines()]


def test_cyclegan_benchmark_tiny_end_to_end(tmp_path):
    """A CycleGAN iteration on unpaired (a, b) batches and A -> B inference; training FLOPs are the trainer's
    9 G + 9 F + 8 D_A + 8 D_B, every network on one 32x32x3 image."""
    stdout, rows = run_bench(tmp_path)
    assert "70x70 PatchGAN" in stdout and "9 G + 9 F + 8 D_A + 8 D_B" in stdout
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 1), ("train", 2), ("infer", 1), ("infer", 4)]
    for r in rows:
        assert EXPECTED_KEYS <= set(r), EXPECTED_KEYS - set(r)
        assert r["status"] == "ok" and r["backend"] == "tensorflow" and r["app"] == "cyclegan"
        assert r["time_p10_s"] <= r["time_median_s"] <= r["time_p90_s"] and r["images_per_s"] > 0
        assert r["resolution"] == 32 and r["architecture"]["generator"]["n_blocks"] == 1
    train, infer = rows[0], rows[2]
    assert train["flops_per_image"] == 18 * train["flops_g"] + 16 * train["flops_d"]
    assert infer["flops_per_image"] == train["flops_g"] and train["receptive_field"] == 70
    assert (train["generator_params"], train["discriminator_params"]) == (32_451, 44_537)


def test_cyclegan_benchmark_peer_tiny(tmp_path):
    """--peer: zoo's iteration and the PyTorch reference design's, alternated, one row per batch size (one
    thread: this runs next to other work)."""
    pytest.importorskip("torch")
    stdout, rows = run_bench(tmp_path, "--peer", "--skip-infer", "--threads", "1")
    assert "zoo/peer" in stdout and "G 32,451 parameters each" in stdout
    peer = [r for r in rows if r["task"] == "peer"]
    assert [r["task"] for r in rows] == ["train", "train", "peer", "peer"]
    assert [r["batch_size"] for r in peer] == [1, 2]
    for r in peer:
        assert r["status"] == "ok" and r["peer"] == "pytorch reference design" and r["peer_threads"] == 1
        assert r["zoo_ms"] > 0 and r["peer_ms"] > 0 and r["ratio"] == pytest.approx(r["zoo_ms"] / r["peer_ms"])
        assert len(r["times_s"]) == len(r["peer_times_s"]) == 2 * 2  # 2 rounds of 2 calls per side
        assert r["peer_params"] == {"generator": r["generator_params"], "discriminator": r["discriminator_params"]}
        assert r["flops_per_image"] == 18 * r["flops_g"] + 16 * r["flops_d"]
