"""Each preset is declared once (zoo/apps/<app>/presets.py); weights/manifest.json lists its files. They agree:
same file and sha256, the file hashes to it, the file loads into the declared architecture and config, and the
manifest names no preset that no app declares (and no architecture/config that could drift)."""
import json
from pathlib import Path

import pytest

from zoo import weights

pytestmark = pytest.mark.core

REPO_WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
MANIFEST = json.loads((REPO_WEIGHTS / "manifest.json").read_text())["presets"]
DECLARED = weights.declared()
TRAINED = sorted(k for k, p in DECLARED.items() if p.trained)


def test_every_manifest_entry_is_declared_and_only_lists_files():
    assert sorted(MANIFEST) == TRAINED
    for key, entry in MANIFEST.items():
        assert set(entry) <= {"file", "sha256", "url", "reference"}, key  # the rest lives in presets.py
        assert entry["reference"]["file"] and entry["reference"]["sha256"], key


@pytest.mark.parametrize("key", TRAINED)
def test_declaration_and_manifest_agree(key):
    preset, entry = DECLARED[key], MANIFEST[key]
    assert (entry["file"], entry["sha256"]) == (preset.file, preset.sha256)
    assert entry == preset.file_entry() | {"reference": entry["reference"]}
    path = REPO_WEIGHTS / preset.file
    assert weights.sha256(path) == preset.sha256
    assert weights.sha256(REPO_WEIGHTS / entry["reference"]["file"]) == entry["reference"]["sha256"]
    # the config: the file loads into the declared architecture (same layers and shapes), and the declared
    # config is the whole constructor config the network reports
    model = weights.build(preset)
    assert {k: v for k, v in model.get_config().items() if k != "name"} == preset.config
    weights.load_into(model, path)
    assert weights.get(preset.app, preset.name) == weights.dataclasses.replace(preset, reference=entry["reference"])


def test_each_app_has_one_default_and_presets_name_their_app():
    for app in {p.app for p in DECLARED.values()}:
        assert sum(p.default for p in DECLARED.values() if p.app == app) == 1, app
    for key, p in DECLARED.items():
        assert key == f"{p.app}/{p.name}" and (p.discriminator is None) == (p.discriminator_config is None)
        if p.trained:
            assert p.file == f"{p.app}/{p.name}{weights.WEIGHTS_SUFFIX}" and p.metrics and p.recipe, key


def test_apps_config_aliases_are_the_declared_presets():
    from zoo.apps import dcgan, pix2pix, srgan

    for mod, app in ((dcgan, "dcgan"), (pix2pix, "pix2pix"), (srgan, "srgan")):
        assert dict(mod.CONFIGS) == weights.declared(app)
        with pytest.raises(TypeError):
            mod.CONFIGS["x"] = None  # read-only


def test_manifest_contradicting_a_declaration_is_skipped_with_a_warning(tmp_path, monkeypatch):
    key = TRAINED[0]
    bad = dict(MANIFEST[key], sha256="0" * 64)
    (tmp_path / "manifest.json").write_text(json.dumps({"presets": {key: bad}}))
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))
    with pytest.warns(UserWarning, match="disagree"):
        assert weights.get(*key.split("/")).sha256 == DECLARED[key].sha256  # the declaration stands


def test_untrained_presets_build_but_do_not_load():
    key = next(k for k, p in DECLARED.items() if not p.trained)
    app, name = key.split("/")
    assert name in weights.declared(app) and name not in weights.presets(app)
    with pytest.raises(ValueError, match="without trained weights"):
        weights.pretrained(app, name)
