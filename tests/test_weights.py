"""Presets: register -> pretrained round trip, hashes, search places, downloads, architecture checks.

Everything happens in ``tmp_path``: ``ZOO_WEIGHTS`` and ``ZOO_CACHE`` point there, and downloads use
``file://`` URLs.
"""
import ast
import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from zoo import weights
from zoo.apps.dcgan import DCGANDiscriminator, DCGANGenerator

pytestmark = pytest.mark.core

APP = "tiny"


def _generator(filters=4, seed=0):
    """A tiny DCGAN generator with random (not initial) weights, batch-norm statistics included."""
    g = DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=filters, upsamplings=2)
    rng = np.random.default_rng(seed)
    g.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") if "variance" in v.path
                   else rng.normal(0, 0.3, w.shape).astype("float32")
                   for v, w in zip(g.weights, g.get_weights())])
    return g


def _z(n=3):
    return np.random.default_rng(1).normal(size=(n, 8)).astype("float32")


def _out(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def _weights_equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b)) and len(a) == len(b)


@pytest.fixture
def root(tmp_path, monkeypatch):
    root = tmp_path / "weights"
    root.mkdir()
    monkeypatch.setenv("ZOO_WEIGHTS", str(root))
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    return root


@pytest.fixture
def registered(root):
    g = _generator()
    preset = weights.register(APP, "g8", g, trained_on="nothing (test)", recipe="tests/test_weights.py",
                              metrics={"fid": np.float32(1.5)}, reference_input=_z(),
                              reference_output=_out(g, _z()), default=True)
    return g, preset


def test_register_then_pretrained_round_trip(root, registered):
    g, preset = registered
    data = json.loads((root / "manifest.json").read_text())
    entry = data["presets"][f"{APP}/g8"]
    assert entry["architecture"] == "zoo.apps.dcgan.DCGANGenerator"
    assert entry["config"] == {"latent_dim": 8, "image_size": 8, "channels": 1, "filters": 4,
                               "upsamplings": 2, "num_classes": None}
    assert entry["sha256"] == weights.sha256(root / entry["file"]) and entry["metrics"] == {"fid": 1.5}
    assert (root / "manifest.json").read_text() == json.dumps(data, sort_keys=True, indent=2) + "\n"
    assert (root / f"{APP}/g8.reference.npz").is_file()

    assert weights.presets(APP) == ["g8"] and weights.get(APP) == weights.get(APP, "g8") == preset
    model = weights.pretrained(APP)
    assert isinstance(model, DCGANGenerator) and model is not g and model.preset == preset
    assert _weights_equal(model.get_weights(), g.get_weights())
    np.testing.assert_array_equal(_out(model, _z()), _out(g, _z()))
    x, y = weights.reference(model.preset)
    np.testing.assert_array_equal(x, _z())
    assert x.dtype == y.dtype == np.float32 and y.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(_out(model, x), y, atol=1e-6)
    assert weights.check_reference(model) <= 1e-6

    # a second, non-default preset from a file the recipe saved itself
    g2 = _generator(seed=2)
    saved = root.parent / "mine.weights.h5"
    g2.save_weights(saved)
    weights.register(APP, "g8b", g2, file_path=saved, reference_input=_z(1))
    assert weights.presets(APP) == ["g8", "g8b"] and weights.get(APP).name == "g8"
    np.testing.assert_array_equal(_out(weights.pretrained(APP, "g8b"), _z()), _out(g2, _z()))


def test_register_rejects_reference_output_of_other_weights(root):
    g = _generator()
    with pytest.raises(ValueError, match="reference_output differs"):
        weights.register(APP, "g8", g, reference_input=_z(), reference_output=_out(_generator(seed=5), _z()))


def test_hash_mismatch_names_file_and_hashes_and_loads_nothing(root, registered, monkeypatch):
    _, preset = registered
    path = root / preset.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    actual = weights.sha256(path)
    built = []
    monkeypatch.setattr(weights, "build", lambda p: built.append(p))
    with pytest.raises(weights.HashMismatchError) as info:
        weights.pretrained(APP, "g8")
    message = str(info.value)
    assert str(path) in message and preset.sha256 in message and actual in message
    assert isinstance(info.value, ValueError) and info.value.actual == actual
    assert built == []


def test_verified_hash_is_cached_until_the_file_changes(root, registered, monkeypatch):
    """A settled file that verified is not hashed again (in this process or the next: verified.json); a
    same-size rewrite, even with the old modification time put back, is hashed again and refused; a file
    written just now is not cached."""
    import os

    _, preset = registered
    path = root / preset.file
    monkeypatch.setattr(weights, "_SETTLED_S", -60.0)  # the registered file counts as settled
    hashed = []
    real_sha256 = weights.sha256
    monkeypatch.setattr(weights, "sha256", lambda p: hashed.append(p) or real_sha256(p))
    weights.verify(path, preset.sha256)
    weights.verify(path, preset.sha256)
    assert len(hashed) == 1
    cached = json.loads((Path(weights.cache_dir()) / "verified.json").read_text())
    assert cached[str(path.resolve())][-1] == preset.sha256
    weights._VERIFIED.clear()  # a new process reads the file
    weights.verify(path, preset.sha256)
    assert len(hashed) == 1

    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as before; ctime moves
    with pytest.raises(weights.HashMismatchError):
        weights.verify(path, preset.sha256)
    assert len(hashed) == 2

    monkeypatch.setattr(weights, "_SETTLED_S", 2.0)
    fresh = root / "fresh.bin"
    fresh.write_bytes(b"zoo")
    digest = real_sha256(fresh)
    weights.verify(fresh, digest)
    weights.verify(fresh, digest)
    assert len(hashed) == 4 and str(fresh.resolve()) not in weights.verified_hashes()


def test_missing_file_lists_search_places(root, registered, tmp_path):
    _, preset = registered
    (root / preset.file).unlink()
    with pytest.raises(FileNotFoundError) as info:
        weights.pretrained(APP)
    message = str(info.value)
    assert preset.file in message and str(root) in message and str(tmp_path / "cache") in message
    assert "$ZOO_WEIGHTS" in message and "installed package data" in message


@pytest.mark.parametrize("other", ["filters", "discriminator"])
def test_weights_of_another_architecture_raise_and_leave_model_untouched(tmp_path, other):
    source = _generator(filters=8) if other == "filters" else DCGANDiscriminator(image_size=8, channels=1, filters=4, downsamplings=2)
    path = tmp_path / "other.weights.h5"
    source.save_weights(path)
    target = _generator(filters=4)
    before = target.get_weights()
    with pytest.raises(ValueError) as info:
        weights.load_into(target, path)
    message = str(info.value)
    assert str(path) in message and "DCGANGenerator" in message and "nothing was loaded" in message
    if other == "filters":
        assert "layers/dense: file (8, 64) vs model (8, 32)" in message
        assert "layers/conv2d_transpose_1: file (4, 4, 1, 8) vs model (4, 4, 1, 4)" in message
    else:
        assert "layers missing from the file" in message and "conv2d_transpose_1" in message
        assert "in the file the model does not have: layers/conv2d; layers/conv2d_1" in message
    assert _weights_equal(target.get_weights(), before)

    if other == "filters":  # the same file loads into a model of its own architecture
        target2 = weights.load_into(_generator(filters=8, seed=9), path)
        assert _weights_equal(target2.get_weights(), source.get_weights())


def test_download_from_file_url_verifies_hash(root, tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    g = _generator()
    url = (server / "g8.weights.h5").as_uri()
    preset = weights.register(APP, "g8", g, reference_input=_z(), url=url, default=True)
    (root / preset.file).rename(server / "g8.weights.h5")  # only the server has it now

    model = weights.pretrained(APP)
    cached = tmp_path / "cache" / preset.file
    assert cached.is_file() and weights.sha256(cached) == preset.sha256
    np.testing.assert_array_equal(_out(model, _z()), _out(g, _z()))
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary file left
    (server / "g8.weights.h5").unlink()
    assert weights.find_file(preset.file, preset.sha256, url) == cached  # served from the cache now

    # a download whose hash is wrong leaves nothing in the cache
    cache = tmp_path / "cache2"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZOO_CACHE", str(cache))
        bad = server / "bad.weights.h5"
        bad.write_bytes(b"not the weights")
        with pytest.raises(weights.HashMismatchError, match="expected 0000"):
            weights.find_file(f"{APP}/bad.weights.h5", "0" * 64, bad.as_uri())
        assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []
        with pytest.raises(ValueError, match="without an expected sha256"):
            weights.find_file(f"{APP}/bad.weights.h5", None, bad.as_uri())


@pytest.mark.parametrize("architecture", ["keras.Model", "os.system", "builtins.eval", "zoo.weights.np",
                                          "zoo.apps.dcgan.keras", "zoo.weights.Preset", "zoo..x", "zoo_evil.X"])
def test_build_refuses_architectures_outside_zoo(architecture):
    preset = weights.Preset(name="x", app="x", file="x/x.weights.h5", sha256="0" * 64, url=None,
                            architecture=architecture, config={})
    with pytest.raises(ValueError, match="refusing|cannot import"):
        weights.build(preset)


def test_build_from_preset():
    preset = weights.Preset(name="x", app="x", file="x/x.weights.h5", sha256="0" * 64, url=None,
                            architecture="zoo.apps.dcgan.DCGANGenerator",
                            config={"latent_dim": 8, "image_size": 8, "channels": 1, "filters": 4})
    model = weights.build(preset)
    assert isinstance(model, DCGANGenerator) and model.output_shape == (None, 8, 8, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.name = "y"


def test_unknown_names_list_what_is_available(root, registered):
    with pytest.raises(KeyError) as info:
        weights.get(APP, "nope")
    assert "'nope'" in str(info.value) and "['g8']" in str(info.value)
    with pytest.raises(KeyError) as info:
        weights.pretrained("no_such_app")
    assert "no_such_app" in str(info.value) and APP in str(info.value)


def test_find_file_rejects_paths_leaving_the_weights_folder(root):
    for bad in ["../x.weights.h5", "/etc/passwd", "a/../../x"]:
        with pytest.raises(ValueError):
            weights.find_file(bad)


def test_weights_module_does_not_import_tensorflow_or_pickle():
    tree = ast.parse(Path(weights.__file__).read_text())
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
    assert not top_level & {"tensorflow", "keras", "pickle", "torch"}
    source = Path(weights.__file__).read_text()
    assert "tensorflow" not in source and "allow_pickle=True" not in source


def test_multi_input_reference(root):
    g = DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=3)
    inputs = [_z(), np.array([0, 1, 2], "int32")]
    preset = weights.register(APP, "cond", g, reference_input=inputs)
    x, y = weights.reference(preset)
    assert isinstance(x, list) and x[1].dtype == np.int32 and y.shape == (3, 8, 8, 1)
    np.testing.assert_array_equal(_out(weights.pretrained(APP, "cond"), x), y)


def test_manifests_merge_earlier_folder_wins(root, tmp_path, monkeypatch):
    repo = tmp_path / "repo_weights"
    entry = {"file": "a/x.weights.h5", "sha256": "0" * 64, "architecture": "zoo.apps.dcgan.DCGANGenerator"}
    (repo).mkdir()
    (repo / "manifest.json").write_text(json.dumps({"presets": {
        "a/x": dict(entry, default=True, trained_on="repo"), "a/y": dict(entry, trained_on="repo")}}))
    (root / "manifest.json").write_text(json.dumps({"presets": {
        "a/y": dict(entry, default=True, trained_on="env")}}))
    monkeypatch.setattr(weights, "_repo_weights", lambda: repo)
    assert weights.presets("a") == ["x", "y"]
    assert [k for k in weights.presets() if k.startswith("a/")] == ["a/x", "a/y"]  # next to the declared ones
    assert weights.get("a").name == "y" and weights.get("a").trained_on == "env"
    assert weights.get("a", "x").default is False and weights.manifest(repo)["presets"]["a/x"]["default"]


def test_register_under_a_declared_name_writes_only_the_files(root):
    from zoo.apps import dcgan

    declared = dcgan.CONFIGS["mnist_dcgan"]
    with pytest.raises(ValueError, match="declared in zoo/apps/dcgan/presets.py"):
        weights.register("dcgan", "mnist_dcgan", _generator(), reference_input=_z())
    g = declared.build_generator()
    with pytest.warns(UserWarning, match="update its Preset"):
        preset = weights.register("dcgan", "mnist_dcgan", g, reference_input=np.zeros((1, 100), "float32"),
                                  metrics={"digits_fid": 1.0})
    entry = json.loads((root / "manifest.json").read_text())["presets"]["dcgan/mnist_dcgan"]
    assert set(entry) == {"file", "sha256", "url", "reference"} and entry["sha256"] == preset.sha256
    assert preset.metrics == {"digits_fid": 1.0} and preset.architecture is DCGANGenerator
    with pytest.warns(UserWarning, match="disagree"):  # the declaration still names the shipped file
        assert weights.get("dcgan", "mnist_dcgan").sha256 == declared.sha256
