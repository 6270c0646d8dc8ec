"""zoo.bench: FLOP counting against hand-computed numbers, the timing helper, the flags, and
benchmarks/dcgan.py end to end on CPU (a smoke test, not a timing assertion)."""
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers

from zoo import bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- FLOPs -----------------------------------------------------------------------------------------------
def small_model():
    x = keras.Input((8, 8, 3))
    h = layers.Conv2D(4, 3, padding="same", name="conv")(x)              # 8*8 * 3*3*3*4 = 6912 MACs
    h = layers.BatchNormalization(name="bn")(h)                           # not counted
    h = layers.Conv2DTranspose(2, 4, strides=2, padding="same", name="convt")(h)  # 8*8 in * 4*4*2*4 = 8192
    h = layers.Flatten()(h)
    y = layers.Dense(5, name="dense")(h)                                  # 16*16*2 * 5 = 2560
    return keras.Model(x, y)


def test_count_flops_hand_computed():
    fc = bench.count_flops(small_model())
    per_layer = {name: flops for name, _, flops in fc.layers}
    assert per_layer == {"conv": 2 * 6912, "convt": 2 * 8192, "dense": 2 * 2560}
    assert fc.total == int(fc) == 2 * (6912 + 8192 + 2560) == 35328
    assert fc.uncounted == ["BatchNormalization"]


def test_count_flops_strides_groups_and_per_position_dense():
    x = keras.Input((9, 9, 4))
    h = layers.Conv2D(6, 3, strides=2, padding="valid", groups=2, name="grouped")(x)  # 4*4 * 3*3*2*6 = 1728
    y = layers.Dense(7, name="per_position")(h)                                        # 4*4 * 6*7 = 672
    fc = bench.count_flops(keras.Model(x, y))
    assert dict((n, f) for n, _, f in fc.layers) == {"grouped": 2 * 1728, "per_position": 2 * 672}


def test_count_flops_is_per_example_and_sees_nested_models_and_wrappers():
    class Wrapper(layers.Layer):  # a block that calls its own sublayer, like zoo.layers blocks
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = layers.Dense(3, name="inner")

        def call(self, x):
            return self.inner(x) * 2.0

    class Hooked(layers.Layer):  # declares its own count; its sublayer is not counted again
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner = layers.Dense(3)

        def call(self, x):
            return self.inner(x)

        def flops(self, input_shape, output_shape):
            return 1000 * input_shape[0]

    sub_in = keras.Input((4,))
    sub = keras.Model(sub_in, layers.Dense(5, name="sub_dense")(sub_in), name="sub")  # 4*5 = 20
    x = keras.Input((4,))
    y = Hooked()(Wrapper()(sub(x)))  # Wrapper.inner: 5*3 = 15
    model = keras.Model(x, y)
    fc = bench.count_flops(model, inputs=np.zeros((3, 4), "float32"))  # batch 3: still per example
    assert fc.total == 2 * 20 + 2 * 15 + 1000
    assert [n for n, _, _ in fc.layers] == ["sub_dense", "inner", fc.layers[-1][0]]


def test_count_flops_of_zoo_layers():
    from zoo import layers as zl

    x = keras.Input((8, 8, 3))
    h = zl.EqualizedConv2D(4, 3, name="eqconv")(x)                 # 8*8 * 3*3*3*4 = 6912 MACs
    h = layers.Flatten()(h)
    h = zl.EqualizedDense(7, name="eqdense")(h)                    # 256 * 7 = 1792
    y = zl.MinibatchDiscrimination(5, 2, name="mbd")(h)           # 7 * 5*2 = 70 (projection)
    fc = bench.count_flops(keras.Model(x, y))
    assert dict((n, f) for n, _, f in fc.layers) == {"eqconv": 2 * 6912, "eqdense": 2 * 1792, "mbd": 2 * 70}
    assert fc.uncounted == []
    # A block wrapping a Keras Conv2D: its sublayer is counted where it runs.
    x = keras.Input((8, 8, 3))
    fc = bench.count_flops(keras.Model(x, zl.UNetDown(4, name="down")(x)))
    assert fc.total == 2 * (4 * 4 * 4 * 4 * 3 * 4)                 # 4x4 out * 4x4x3x4 kernel


def test_count_flops_of_dcgan_networks_matches_their_symbolic_shapes():
    """The traced count equals one computed from the functional graph's own shapes, layer by layer."""
    from zoo.apps import dcgan

    def from_graph(model):
        total = 0
        for layer in model.layers:
            k = int(np.prod(layer.kernel.shape)) if hasattr(layer, "kernel") else 0
            if isinstance(layer, layers.Dense):
                total += 2 * int(np.prod(layer.output.shape[1:])) * int(layer.kernel.shape[0])
            elif isinstance(layer, layers.Conv2DTranspose):
                total += 2 * int(np.prod(layer.input.shape[1:-1])) * k
            elif isinstance(layer, layers.Conv2D):
                total += 2 * int(np.prod(layer.output.shape[1:-1])) * k
        return total

    g = dcgan.DCGANGenerator(latent_dim=100, image_size=16, channels=3, filters=8)
    d = dcgan.DCGANDiscriminator(image_size=16, channels=3, filters=8)
    for net in (g, d):
        fc = bench.count_flops(net)
        assert fc.total == from_graph(net) > 0
        assert "BatchNormalization" in fc.uncounted


def fully_convolutional():
    x = keras.Input((None, None, 3))
    return keras.Model(x, layers.Conv2D(4, 3, padding="same", name="conv")(x))  # per pixel: 3*3*3*4 = 108 MACs


def test_count_flops_of_a_fully_convolutional_model_on_concrete_shapes():
    model = fully_convolutional()
    with pytest.raises(ValueError, match="unknown dimensions"):
        bench.count_flops(model)
    assert bench.count_flops(model, input_shape=(1, 8, 8, 3)).total == 2 * 108 * 64
    assert bench.count_flops(model, input_shape=(2, 5, 7, 3)).total == 2 * 108 * 35  # per example


def test_trainers_say_what_an_iteration_computes():
    """zoo.GAN.iteration_flops: one G forward per D step (its fakes reused by the G step), per real example:
    k (G + 6 D) + 2 G + 2 D over k minibatches; SRGAN adds its content network (3 V)."""
    from zoo import GAN
    from zoo.apps import srgan

    g, d = fully_convolutional(), keras.Sequential([keras.Input((None, None, 4)), layers.Conv2D(1, 1)])
    counter = bench.Counter()
    fg, fd = 2 * 108 * 25, 2 * 4 * 25                      # per example on 5x5: G 3->4 channels 3x3, D 4->1 1x1
    for k in (1, 2):
        gan = GAN(g, d, d_steps=k)
        gan.generator_inputs = lambda condition, n: condition
        gan.discriminator_inputs = lambda images, condition: images
        batch = (np.zeros((2 * k, 5, 5, 4), "float32"), np.zeros((2 * k, 5, 5, 3), "float32"))
        assert gan.iteration_flops(batch, counter) == (k * (fg + 6 * fd) + 2 * fg + 2 * fd) // k
    vgg = keras.Sequential([keras.Input((None, None, 4)), layers.Conv2D(2, 1)])
    sr = srgan.SRGAN(g, d, content=vgg)
    lr_hr = (np.zeros((1, 5, 5, 3), "float32"), np.zeros((1, 5, 5, 4), "float32"))
    assert sr.iteration_flops(lr_hr, counter) == fg + 6 * fd + 2 * fg + 2 * fd + 3 * (2 * 4 * 2 * 25)


# -- timing ----------------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_time_calls_excludes_warmup_and_takes_the_median():
    clock = FakeClock()
    durations = iter([100.0, 50.0, 5.0, 1.0, 3.0, 2.0, 4.0])  # two warm-up calls, then five timed
    calls, synced = [], []

    def fn():
        calls.append(1)
        clock.now += next(durations)
        return len(calls)

    t = bench.time_calls(fn, warmup=2, repeats=5, sync=synced.append, clock=clock)
    assert len(calls) == 7 and synced == [1, 2, 3, 4, 5, 6, 7]
    assert t.warmup_times == [100.0, 50.0]
    assert t.times == [5.0, 1.0, 3.0, 2.0, 4.0]
    assert t.median == 3.0
    assert t.p10 == pytest.approx(1.4) and t.p90 == pytest.approx(4.6)


def test_time_calls_needs_a_repeat():
    with pytest.raises(ValueError):
        bench.time_calls(lambda: None, warmup=0, repeats=0)


# -- peaks and flags -------------------------------------------------------------------------------------
def test_peak_table():
    assert bench.peak_tflops("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert bench.peak_tflops("NVIDIA H100 80GB HBM3", "tf32") == 494.7
    assert bench.peak_tflops("NVIDIA H100 PCIe", "fp32") == 51.2
    assert bench.peak_tflops("NVIDIA H200", "fp16") == 989.4
    assert bench.peak_tflops("NVIDIA A100-SXM4-80GB", "tf32") == 156.0
    assert bench.peak_tflops("CPU: AMD EPYC", "fp32") is None
    assert bench.peak_tflops(None, "fp32", override=2.5) == 2.5


def test_threads_flag():
    p = bench.make_parser("t")
    assert bench.parse_args(p, ["--threads", "2"]).threads == 2
    assert bench.parse_args(p, []).threads is None
    with pytest.raises(SystemExit):
        bench.parse_args(p, ["--threads", "0"])


def test_flags_tiny_defaults_and_overrides():
    p = bench.make_parser("t")
    p.add_argument("--filters", type=int)
    args = bench.parse_args(p, ["--tiny", "--precision", "float32,mixed_bfloat16", "--repeats", "7"],
                            defaults=dict(resolution=64, batch_sizes=[128], filters=64),
                            tiny=dict(resolution=16, filters=8))
    assert args.resolution == 16 and args.filters == 8 and args.batch_sizes == [4]
    assert args.precision == ["float32", "mixed_bfloat16"] and args.repeats == 7 and args.warmup == 1
    assert args.infer_batch_sizes == [1, 4] and args.jit == "auto"
    args = bench.parse_args(p, ["--batch-sizes", "32", "256", "--jit", "both"], defaults=dict(resolution=64))
    assert args.batch_sizes == [32, 256] and args.infer_batch_sizes == [1, 32, 256] and args.resolution == 64
    with pytest.raises(SystemExit):
        bench.parse_args(p, ["--precision", "float64"])


# -- the run loop, in process: tuple batches, FLOPs of fully convolutional models, extra tasks ----------
class FakeGAN:
    """What the harness needs of a zoo.GAN: compile, jit_compile, train_on_batch, generator, discriminator."""

    def __init__(self, generator, discriminator):
        self.generator, self.discriminator, self.calls = generator, discriminator, []
        self.jit_compile = None

    def compile(self, jit_compile=False, **kwargs):
        self.jit_compile = bool(jit_compile) if jit_compile != "auto" else False
        self.kwargs = kwargs

    def train_on_batch(self, *batch):
        self.calls.append(tuple(tuple(b.shape) for b in batch))
        return {}


def test_run_spreads_tuple_batches_counts_fully_convolutional_models_and_times_extra_tasks(capsys):
    g = fully_convolutional()                          # (None, None, 3): counted on the batches' shapes
    x = keras.Input((None, None, 4))
    d = keras.Model(x, layers.Conv2D(1, 1, name="d")(x))  # per pixel: 4 MACs, on the tuple's last element
    gan = FakeGAN(g, d)
    made = []

    def make_extra(batch, jit):
        made.append((batch, jit))
        return (lambda: np.zeros(batch)), None

    w = bench.Workload(
        gan=gan, network=g,
        train_batch=lambda n: (np.zeros((n, 6, 6, 3), "float32"), np.zeros((n, 12, 12, 4), "float32")),
        infer_batch=lambda n: np.zeros((n, 5, 5, 3), "float32"),
        info={"everywhere": 1},
        task_fields={"train": {"resolution": 6}},
        tasks=[("extra", [2, 3], make_extra, 1000, {"resolution": "7x9", "mine": True}),
               bench.Task("late", [1], lambda b, j: (lambda: None), lambda: 5, lambda row: {"seen": row["batch_size"]},
                          note=lambda row: f"note of {row['task']}")],
    )
    args = bench.parse_args(bench.make_parser("t"), ["--tiny", "--warmup", "1", "--repeats", "2",
                                                     "--batch-sizes", "2"])
    rows = bench.run(args, lambda a: w, "fake")
    out = capsys.readouterr().out
    assert [(r["task"], r["batch_size"], r["status"]) for r in rows] == [
        ("train", 2, "ok"), ("infer", 1, "ok"), ("infer", 2, "ok"), ("extra", 2, "ok"), ("extra", 3, "ok"),
        ("late", 1, "ok")]
    assert gan.calls == [((2, 6, 6, 3), (2, 12, 12, 4))] * 3      # train_on_batch(lr, hr): 1 warm-up + 2
    g_px, d_px = 2 * 108, 2 * 4
    assert rows[1]["flops_per_image"] == g_px * 25                   # the network on infer_batch(1)
    assert rows[0]["flops_per_image"] is None  # a trainer without iteration_flops: not guessed by the harness
    assert [r["resolution"] for r in rows] == [6, 16, 16, "7x9", "7x9", 16]
    assert made == [(2, "auto"), (3, "auto")]
    extra, late = rows[3], rows[5]
    for r in rows:
        assert r["everywhere"] == 1 and r["threads"] is None and r["time_median_s"] > 0
    assert extra["mine"] is True and extra["flops_per_image"] == 1000 and extra["jit_compile"] is None
    assert extra["achieved_tflops"] == pytest.approx(1000 * 2 / extra["time_median_s"] / 1e12)
    assert late["flops_per_image"] == 5 and late["seen"] == 1
    assert "#   note of late" in out and out.count("#   note") == 1 and "extra" in out


class CountingGAN(FakeGAN):
    """A trainer that says its own iteration FLOPs (the zoo.GAN.iteration_flops contract): it calls ``count``
    on each network with the inputs it would feed it and combines them by its own step structure."""

    def __init__(self, generator, discriminator):
        super().__init__(generator, discriminator)
        self.asked = []

    def iteration_flops(self, batch, count):
        lr, hr = batch
        self.asked.append((lr.shape, hr.shape))
        g = count(self.generator, lr)
        fake = np.zeros(hr.shape[:-1] + (4,), "float32")
        d = count(self.discriminator, [fake])                    # a list of one input: the same network call
        assert count(self.generator, np.concatenate([lr, lr])) == 2 * g  # a whole call: batch 2, twice batch 1
        assert count(self.discriminator, fake[:0]) == 0                  # an empty minibatch costs nothing
        return 5 * g + 7 * d + 1


def _two_network_workload(gan, **kw):
    return bench.Workload(
        gan=gan, network=gan.generator,
        train_batch=lambda n: (np.zeros((n, 6, 6, 3), "float32"), np.zeros((n, 12, 12, 4), "float32")),
        infer_batch=lambda n: np.zeros((n, 5, 5, 3), "float32"), **kw)


def test_training_flops_come_from_the_trainers_iteration_flops():
    x = keras.Input((None, None, 4))
    d = keras.Model(x, layers.Conv2D(1, 1, name="d")(x))
    gan = CountingGAN(fully_convolutional(), d)
    flops = bench.workload_flops(_two_network_workload(gan))
    g_px, d_px = 2 * 108, 2 * 4
    assert gan.asked == [((1, 6, 6, 3), (1, 12, 12, 4))]          # one fit()-style batch of one example
    assert flops == {"train": 5 * g_px * 36 + 7 * d_px * 144 + 1, "infer": g_px * 25, "uncounted": []}
    # The app's own number still wins, and the trainer is not asked.
    gan = CountingGAN(fully_convolutional(), d)
    assert bench.workload_flops(_two_network_workload(gan, train_flops=42))["train"] == 42 and gan.asked == []


def test_counter_counts_one_call_on_the_inputs_shapes_memoised():
    from zoo.bench.flops import Counter, count_flops

    model = fully_convolutional()
    counter, calls = Counter(), []
    original = model.call
    object.__setattr__(model, "call", lambda *a, **k: (calls.append(1), original(*a, **k))[1])
    try:
        assert counter(model, np.zeros((3, 4, 5, 3), "float32")) == 3 * 2 * 108 * 20
        assert counter(model, [np.zeros((3, 4, 5, 3), "float32")]) == 3 * 2 * 108 * 20  # same shapes: memoised
        assert len(calls) == 1
        assert counter(model, keras.ops.zeros((1, 2, 2, 3))) == 2 * 108 * 4              # a backend tensor
        assert len(calls) == 2
    finally:
        object.__delattr__(model, "call")
    assert counter.flop_count(model, (1, 2, 2, 3)).total == count_flops(model, input_shape=(1, 2, 2, 3)).total
    assert counter.uncounted == []


def test_flops_module_stands_alone():
    from zoo.bench.flops import count_flops

    assert count_flops(small_model(), input_shape=(1, 8, 8, 3)).total == 35328


def test_help_says_resolved_defaults_and_apps_reword_shared_flags(capsys):
    p = bench.make_parser("t", helps={"resolution": "LR side"})
    p.add_argument("--filters", type=int, help="width")
    for _ in range(2):  # parsing twice does not repeat the defaults
        bench.parse_args(p, [], defaults=dict(resolution=32, filters=64), tiny=dict(filters=8))
    assert p.flags["resolution"].help == "LR side (default: 32; with --tiny: 16)"
    assert p.flags["filters"].help == "width (default: 64; with --tiny: 8)"
    with pytest.raises(SystemExit):
        bench.parse_args(p, ["--help"])
    assert "%peak on CPU" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no shared flag"):
        bench.make_parser("t", helps={"nope": "x"})
    # A plain ArgumentParser works too (without the defaults in its help).
    import argparse

    plain = argparse.ArgumentParser()
    plain.add_argument("--resolution", type=int)
    plain.add_argument("--batch-sizes", type=int, nargs="+")
    for name in ("infer-batch-sizes", "precision", "warmup", "repeats", "jit"):
        plain.add_argument(f"--{name}")
    plain.add_argument("--tiny", action="store_true")
    assert bench.parse_args(plain, ["--tiny"]).resolution == 16


# -- end to end ------------------------------------------------------------------------------------------
EXPECTED_KEYS = {
    "app", "task", "batch_size", "resolution", "precision", "jit", "jit_compile", "exec_mode", "backend",
    "device", "accelerator", "versions", "status", "time_median_s", "time_p10_s", "time_p90_s",
    "images_per_s", "latency_ms", "flops_per_image", "achieved_tflops", "peak_tflops", "peak_share",
    "peak_basis", "peak_memory_bytes", "memory_kind", "warmup", "repeats",
}


def test_dcgan_benchmark_tiny_end_to_end(tmp_path):
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "dcgan.py"), "--tiny",
                           "--repeats", "2", "--threads", "1", "--json", str(out)],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "img/s" in proc.stdout and "infer" in proc.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 8), ("infer", 1), ("infer", 8)]
    for r in rows:
        assert EXPECTED_KEYS <= set(r), EXPECTED_KEYS - set(r)
        assert r["status"] == "ok" and r["backend"] == "tensorflow" and r["resolution"] == 16
        assert r["time_p10_s"] <= r["time_median_s"] <= r["time_p90_s"] and r["images_per_s"] > 0
        assert r["flops_per_image"] > 0 and r["memory_kind"].startswith("cpu") and r["threads"] == 1
    assert "not applied" not in proc.stderr  # TensorFlow's pools were set before any op
    assert rows[0]["flops_per_image"] > rows[1]["flops_per_image"]  # training costs more than sampling


def test_no_tensorflow_on_the_torch_backend(tmp_path):
    """The GPU machine has no TensorFlow: the whole benchmark must run without importing it."""
    pytest.importorskip("torch")
    out = tmp_path / "rows.jsonl"
    code = "\n".join([
        "import runpy, sys",
        "sys.argv = sys.argv[1:]",
        "try:",
        "    runpy.run_path(sys.argv[0], run_name='__main__')",
        "except SystemExit as e:",
        "    assert not e.code, e.code",
        "bad = [m for m in sys.modules if m.split('.')[0] == 'tensorflow']",
        "assert not bad, bad[:5]",
    ])
    env = dict(os.environ, KERAS_BACKEND="torch")
    proc = subprocess.run([sys.executable, "-c", code, os.path.join(ROOT, "benchmarks", "dcgan.py"), "--tiny",
                           "--resolution", "8", "--filters", "4", "--warmup", "0", "--repeats", "1",
                           "--threads", "1", "--json", str(out)], env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["backend"] for r in rows} == {"torch"} and all(r["status"] == "ok" for r in rows)
    assert {r["threads"] for r in rows} == {1}


def test_srgan_benchmark_tiny_end_to_end(tmp_path):
    """benchmarks/srgan.py: a training iteration on (lr, hr) pairs, square inference and upscale(tile=...) rows."""
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "srgan.py"), "--tiny",
                           "--repeats", "2", "--json", str(out)],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "random weights" in proc.stdout and "MP/s" in proc.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 4), ("infer", 1), ("infer", 4), ("tiled", 1)]
    for r in rows:
        assert EXPECTED_KEYS <= set(r), EXPECTED_KEYS - set(r)
        assert r["status"] == "ok" and r["backend"] == "tensorflow" and r["app"] == "srgan"
        assert r["time_p10_s"] <= r["time_median_s"] <= r["time_p90_s"] and r["images_per_s"] > 0
        assert r["flops_per_image"] > 0 and r["vgg_weights"] == "random"
    train, infer, tiled = rows[0], rows[1], rows[3]
    assert train["resolution"] == 8 and train["hr_size"] == [32, 32] and infer["resolution"] == 16
    # SRGAN: 3 G + 8 D + 3 VGG (G forward once per iteration), G at the LR crop, D and VGG at the HR crop
    assert train["flops_per_image"] == 3 * train["flops_g"] + 8 * train["flops_d"] + 3 * train["flops_vgg"]
    assert infer["flops_per_image"] == infer["flops_g_per_lr_pixel"] * 16 * 16 == 4 * train["flops_g"]
    assert tiled["resolution"] == "40x120" and tiled["windows_per_image"] >= 2 and tiled["tile_overhead"] > 1
    assert tiled["megapixels_per_s"] == pytest.approx(160 * 480 / 1e6 * tiled["images_per_s"])


def test_pix2pix_benchmark_tiny_end_to_end(tmp_path):
    """benchmarks/pix2pix.py: a Pix2Pix iteration on (input, target) pairs and generator inference; D's FLOPs
    are counted on what the trainer feeds it, the 6-channel input/output pair."""
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "pix2pix.py"), "--tiny",
                           "--repeats", "2", "--json", str(out)],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "70x70 PatchGAN" in proc.stdout and "3 G + 8 D" in proc.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 1), ("train", 2), ("infer", 1), ("infer", 4),
                                                            ("translate", 1), ("translate", 4)]
    for r in rows:
        assert EXPECTED_KEYS <= set(r), EXPECTED_KEYS - set(r)
        assert r["status"] == "ok" and r["backend"] == "tensorflow" and r["app"] == "pix2pix"
        assert r["time_p10_s"] <= r["time_median_s"] <= r["time_p90_s"] and r["images_per_s"] > 0
        assert r["resolution"] == 32 and r["architecture"]["discriminator"]["channels"] == 6
    train, infer = rows[0], rows[2]
    assert rows[4]["flops_per_image"] == infer["flops_per_image"]  # translate: G once per image
    # G on 32x32x3, D on 32x32x6: the D step is G + 6 D, the G step 3 G + 2 D
    assert train["flops_per_image"] == 3 * train["flops_g"] + 8 * train["flops_d"]
    assert infer["flops_per_image"] == train["flops_g"] and train["receptive_field"] == 70


def test_markdown_table_of_benchmark_rows(tmp_path):
    """benchmarks/table.py renders the JSON lines of --json: one line per row, failures with their reason."""
    ok = {"device": "GPU X", "backend": "torch", "task": "train", "precision": "float32", "jit": "off",
          "exec_mode": "eager", "batch_size": 16, "status": "ok", "latency_ms": 263.62, "images_per_s": 60.69,
          "achieved_tflops": 2.78, "peak_memory_bytes": 3 * 2**30}
    bad = dict(ok, backend="jax", jit="on", exec_mode=None, status="unsupported", error="no jax training step")
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ok) + "\n\n" + json.dumps(bad) + "\n")
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "benchmarks", "table.py"),
                          str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == 4 and out[0].startswith("| device |")
    assert out[2] == "| GPU X | torch | train | float32 | eager | 16 | 263.6 | 60.7 | 2.78 | 3.0 GiB |"
    assert out[3].startswith("| GPU X | jax | train | float32 | on | 16 | unsupported: no jax training step")
