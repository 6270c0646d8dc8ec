"""zoo.export: every shipped preset in the three formats, run back by each format's own runtime, against Keras;
the exported graph against the app's Python inference; the errors."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from zoo import export, models, weights

#: max |runtime - Keras| allowed, in the exported graphs' [0, 1] units (1/40 of a uint8 level); measured up to
#: 7e-6 (LiteRT's XNNPACK kernels sum in another order than TensorFlow's)
TOLERANCE = 1e-4
RUNTIME = {"savedmodel": "tensorflow", "litert": "ai_edge_litert", "onnx": "onnxruntime"}
WRITER = {"savedmodel": "tensorflow", "litert": "tensorflow", "onnx": "tf2onnx"}
PATHS = {"savedmodel": "model", "litert": "model.tflite", "onnx": "model.onnx"}


def _cases():
    """``(app, preset, export options)`` for every shipped preset; cyclegan both directions."""
    out = []
    for key in weights.presets():
        app, name = key.split("/")
        for options in ([{"direction": "AtoB"}, {"direction": "BtoA"}] if app == "cyclegan" else [{}]):
            out.append((app, name, options))
    return out


CASES = _cases()


def _ids(case):
    app, name, options = case
    return f"{app}-{name}" + "".join(f"-{v}" for v in options.values())


def _inputs(app, graph, rng):
    """A fixed batch of two for the graph's named inputs: images of sides the network takes (not square)."""
    feed = {}
    for t in graph.inputs:
        name = t.name.split(":")[0]
        if name == "z":
            feed[name] = rng.standard_normal((2, t.shape[1])).astype("float32")
        elif name == "label":
            feed[name] = np.array([3, 8], "int32")
        elif name == "words":  # text2image: word ids, padded with 0
            feed[name] = np.zeros((2, t.shape[1]), "int32")
            feed[name][0, :5], feed[name][1, :9] = rng.integers(2, 300, 5), rng.integers(2, 300, 9)
        elif name == "image":
            side = {"pix2pix": (256, 256), "srgan": (24, 40)}.get(app, (64, 96))
            feed[name] = rng.random((2, *side, t.shape[-1])).astype("float32")
        elif name == "mask":
            m = np.zeros((2, 64, 96, 1), "float32")
            m[0, 10:40, 20:50] = 1
            m[1, 30:60, 50:90] = 1
            feed[name] = m
    return feed


def _keras(graph, feed):
    order = [t.name.split(":")[0] for t in graph.inputs]
    x = [feed[n] for n in order]
    return keras.ops.convert_to_numpy(graph(x, training=False)["output"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``(app, preset, options, format) -> (graph, feed, Keras output, path)``, each exported once."""
    cache = {}

    def get(case, fmt):
        key = (_ids(case), fmt)
        if key not in cache:
            app, name, options = case
            model = weights.pretrained(app, name)
            graph = model.export_graph(**options)
            feed = _inputs(app, graph, np.random.default_rng(0))
            path = tmp_path_factory.mktemp(key[0]) / PATHS[fmt]
            export.export(model, path, fmt, **options)
            cache[key] = (graph, feed, _keras(graph, feed), path)
        return cache[key]

    return get


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
@pytest.mark.parametrize("fmt", export.FORMATS)
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_preset_matches_keras_in_its_runtime(case, fmt, exported):
    pytest.importorskip(WRITER[fmt])
    pytest.importorskip(RUNTIME[fmt])
    graph, feed, want, path = exported(case, fmt)
    run = export.load(path)
    assert run.format == fmt
    assert run.inputs == [n for n in export.INPUT_ORDER if n in feed]
    got = run(**feed)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.abs(got - want).max() <= TOLERANCE
    assert 0.0 <= got.min() and got.max() <= 1.0
    # positional inputs in INPUT_ORDER give the same
    np.testing.assert_array_equal(run(*[feed[n] for n in run.inputs]), got)


def _to_unit(x):
    return np.clip((np.asarray(x, "float32") + 1.0) / 2.0, 0.0, 1.0)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_exported_graph_is_the_apps_inference(case):
    """The graph's pre/post-processing is the app's own call on the same input: [0, 1] floats in and out."""
    app, name, options = case
    model = weights.pretrained(app, name)
    graph = model.export_graph(**options)
    feed = _inputs(app, graph, np.random.default_rng(1))
    got = _keras(graph, feed)
    if app in ("dcgan", "progan"):
        z = feed["z"]
        x = [z, feed["label"]] if "label" in feed else z
        want = _to_unit(keras.ops.convert_to_numpy(model(x, training=False)))
    elif app == "vae":  # the autoencoder exports its decoder: z (and label) -> image
        x = [feed["z"], feed["label"]] if "label" in feed else feed["z"]
        want = _to_unit(keras.ops.convert_to_numpy(model.decoder(x, training=False)))
    elif app == "text2image":
        want = _to_unit(keras.ops.convert_to_numpy(model([feed["z"], feed["words"]], training=False)))
    elif app == "pix2pix":  # each image of the batch normalised by its own statistics: one-image calls
        want = np.concatenate([model.translate(feed["image"][i:i + 1], stats="image") for i in range(2)])
    elif app == "cyclegan":
        want = model.translate(feed["image"], size=None, **options)
    elif app == "srgan":
        want = model.upscale(feed["image"], tile=None)
    elif app == "inpainting":
        # the graph is the network's fill pasted in: depth scaling and Poisson blending stay in Python
        want = np.stack([model.inpaint(feed["image"][i], feed["mask"][i, ..., 0], max_depth=None, blend=False)
                         for i in range(2)])
    else:
        pytest.fail(f"no Python inference named for {app}: add it here")
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 2e-5


def test_inpainting_export_keeps_known_pixels():
    model = weights.pretrained("inpainting", "celeba_128")
    graph = model.export_graph()
    feed = _inputs("inpainting", graph, np.random.default_rng(2))
    out = _keras(graph, feed)
    known = feed["mask"][..., 0] == 0
    np.testing.assert_allclose(out[known], feed["image"][known], atol=1e-6)


# ---------------------------------------------------------------------------------------------------------
# Errors: nothing half-written
# ---------------------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable("zoo_test_export")
class _Erfinv(keras.layers.Layer):
    def call(self, x):
        return keras.ops.erfinv(keras.ops.clip(x, -0.5, 0.5))


class OddGenerator(models.Generator):
    def __init__(self, **kwargs):
        x = keras.Input((None, None, 3), name="image")
        super().__init__(x, keras.layers.Activation("tanh")(_Erfinv(name="odd_layer")(x)), config={}, **kwargs)


@pytest.fixture
def tiny():
    from zoo.apps.dcgan import DCGANGenerator

    return DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
@pytest.mark.parametrize("fmt,name", [("litert", "odd.tflite"), ("onnx", "odd.onnx")])
def test_unsupported_layer_is_named_and_nothing_is_written(tmp_path, fmt, name):
    pytest.importorskip(WRITER[fmt])
    before = tmp_path / name
    before.write_bytes(b"an earlier export")
    with pytest.raises(export.ExportError, match=r"Erfinv in layer [\w/]*odd_layer"):
        export.export(OddGenerator(), before, overwrite=True)
    assert before.read_bytes() == b"an earlier export"
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary left


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
def test_existing_path_is_refused_unless_overwrite(tmp_path, tiny):
    path = tmp_path / "g.onnx"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite"):
        export.export(tiny, path)
    assert path.read_bytes() == b"keep"
    saved = tmp_path / "sm"
    saved.mkdir()
    (saved / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError):
        tiny.export(saved)
    with pytest.raises(ValueError, match="is not a SavedModel model .*refusing to replace it"):
        tiny.export(saved, overwrite=True)  # a folder of user files is never deleted
    assert (saved / "mine.txt").read_text() == "keep"
    model = tmp_path / "model"
    tiny.export(model)
    tiny.export(model, overwrite=True)  # an earlier export is replaced
    z, label = np.ones((1, 8), "float32"), np.array([2], "int32")
    want = _to_unit(keras.ops.convert_to_numpy(tiny([z, label])))
    np.testing.assert_allclose(export.load(model)(z=z, label=label), want, atol=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["g.onnx", "model", "sm"]


def test_formats_and_paths_are_checked(tmp_path, tiny):
    with pytest.raises(ValueError, match="format must be one of savedmodel, litert, onnx"):
        export.export(tiny, tmp_path / "g.bin", "torchscript")
    with pytest.raises(ValueError, match=r"LiteRT model is a \.tflite file"):
        export.export(tiny, tmp_path / "g.onnx", "litert")
    with pytest.raises(ValueError, match="SavedModel is a folder"):
        export.export(tiny, tmp_path / "g.onnx", "savedmodel")
    with pytest.raises(TypeError, match="not a zoo generator"):
        export.export(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), tmp_path / "m")
    assert export.format_of("a/b.TFLITE") == "litert" and export.format_of("a/b") == "savedmodel"
    assert export.check_format("tf_saved_model") == "savedmodel"
    assert os.listdir(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="no exported model"):
        export.load(tmp_path / "missing.onnx")


def test_other_backends_get_a_clear_error(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match="KERAS_BACKEND=tensorflow"):
        export.export(tiny, tmp_path / "g.onnx")


def test_missing_converter_or_runtime_names_the_extra(tmp_path, tiny, monkeypatch):
    import importlib

    real = importlib.import_module

    def blocked(name, *args):
        if name in ("tf2onnx", "onnxruntime"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", blocked)
    with pytest.raises(ImportError, match=r"'tf2onnx'.*pip install \"zoo-gan\[export\]\""):
        export.export(tiny, tmp_path / "g.onnx")
    assert os.listdir(tmp_path) == []
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(ImportError, match=r"running ONNX needs .*'onnxruntime'.*zoo-gan\[export\]"):
        export.load(tmp_path / "m.onnx")


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
def test_exported_inputs_are_checked(tmp_path, tiny):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    run = export.load(tiny.export(tmp_path / "g.onnx"))
    assert run.inputs == ["z", "label"]
    with pytest.raises(TypeError, match="takes the inputs z, label, got z"):
        run(z=np.zeros((1, 8)))
    with pytest.raises(TypeError, match="in that order"):
        run(np.zeros((1, 8)))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
def test_cli_exports_a_preset(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    out = tmp_path / "digits.onnx"

    def zoo(*args):
        return subprocess.run([sys.executable, "-m", "zoo.cli", "export", *args], capture_output=True, text=True,
                              timeout=300)

    r = zoo("dcgan", "--preset", "mnist_cdcgan", "-o", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith(str(out))
    z = np.random.default_rng(0).standard_normal((4, 100)).astype("float32")
    labels = np.arange(4, dtype="int32")
    want = _to_unit(keras.ops.convert_to_numpy(weights.pretrained("dcgan", "mnist_cdcgan")([z, labels])))
    assert np.abs(export.load(out)(z=z, label=labels) - want).max() <= TOLERANCE
    again = zoo("dcgan", "--preset", "mnist_cdcgan", "-o", str(out))
    assert again.returncode == 2 and "exists; pass --overwrite" in again.stderr
    wrong = zoo("srgan", "--direction", "BtoA", "-o", str(tmp_path / "sr.onnx"))
    assert wrong.returncode == 2 and "--direction is for models with two generators" in wrong.stderr
    assert sorted(os.listdir(tmp_path)) == ["digits.onnx"]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
def test_litert_float16_weights_halve_the_file(tmp_path):
    pytest.importorskip("ai_edge_litert")
    model = weights.pretrained("dcgan", "mnist_cdcgan")
    full = model.export(tmp_path / "f32.tflite")
    half = model.export(tmp_path / "f16.tflite", float16=True)
    assert os.path.getsize(half) < 0.55 * os.path.getsize(full)
    z = np.random.default_rng(0).standard_normal((8, 100)).astype("float32")
    labels = np.arange(8, dtype="int32")
    want = _to_unit(keras.ops.convert_to_numpy(model([z, labels])))
    got = export.load(half)(z=z, label=labels)
    psnr = 10 * np.log10(1.0 / np.mean((got - want) ** 2))
    assert 40.0 < psnr < 200.0  # close, and not the float32 file
    with pytest.raises(ValueError, match="float16 weights are offered for LiteRT files only"):
        model.export(tmp_path / "f16.onnx", float16=True)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the writers run on the TensorFlow backend")
def test_benchmark_rows(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    pytest.importorskip("ai_edge_litert")
    import json

    out = tmp_path / "rows.jsonl"
    r = subprocess.run([sys.executable, "benchmarks/export.py", "--presets", "dcgan/mnist_cdcgan", "--warmup", "0",
                        "--repeats", "2", "--json", str(out), "--markdown"], capture_output=True, text=True,
                       timeout=600, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["format"] for row in rows] == ["keras", "savedmodel", "litert", "onnx", "litert_float16"]
    assert all(row["latency_ms"] > 0 and row["bytes"] > 0 for row in rows)
    assert all(row["max_diff"] <= TOLERANCE for row in rows[:4])
    assert 40 < rows[-1]["psnr_vs_float32"] < 200
    assert r.stdout.count("| mnist_cdcgan |") == 5
