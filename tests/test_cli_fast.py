"""The ``zoo`` command answers at once where no model is needed (help, ``zoo presets``, argument and path errors,
``zoo export``'s refusals: no Keras or TensorFlow imported), the preset index it reads is fresh, and importing an
app prints nothing from TensorFlow."""
import json
import os
import subprocess
import sys

import pytest

from zoo import catalog

FAST = [["--help"], ["presets"], ["serve", "--help"], ["export", "--help"], ["demo", "--help"],
        ["pix2pix", "translate", "--help"], ["cyclegan", "translate", "--help"], ["progan", "generate", "--help"],
        ["dcgan", "generate", "--help"], ["inpainting", "fill", "--help"], ["srgan", "upscale", "--help"],
        ["text2image", "generate", "--help"], ["vae", "sample", "--help"], ["vae", "interpolate", "--help"],
        ["pix2pix", "translate", "{tmp}/missing.png", "-o", "{tmp}/out.png"],
        ["cyclegan", "translate", "{tmp}/in.png", "-o", "{tmp}/out.txt"],
        ["progan", "generate", "-o", "{tmp}/faces.png", "-n", "0"],
        ["pix2pix", "translate", "--no-such-flag"],
        ["export", "pix2pix", "-o", "{tmp}/exists.onnx"], ["export", "pix2pix", "-o", "{tmp}/model.tflite",
                                                          "--format", "onnx"]]

_PROBE = r"""
import contextlib, io, json, sys
from zoo import cli
done = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as e:
            rc = e.code
    heavy = sorted(m for m in ("keras", "tensorflow", "torch", "jax") if m in sys.modules)
    done.append({"argv": argv, "rc": rc, "out": out.getvalue(), "err": err.getvalue(), "heavy": heavy})
print(json.dumps(done))
"""


def _fast_commands(tmp_path):
    """FAST with only the apps this checkout has a commands.py for (an app without one loads Keras to parse)."""
    import zoo.apps
    from zoo.cli import app_names

    root = zoo.apps.__path__[0]
    light = {a for a in os.listdir(root) if os.path.isfile(os.path.join(root, a, "commands.py"))}
    out = []
    for argv in FAST:
        if argv[0] in app_names() and argv[0] not in light:
            continue
        out.append([a.replace("{tmp}", str(tmp_path)) for a in argv])
    return out


def test_cli_answers_without_keras(tmp_path):
    (tmp_path / "in.png").write_bytes(b"")
    (tmp_path / "exists.onnx").write_bytes(b"x")
    argvs = _fast_commands(tmp_path)
    assert any(a[0] == "pix2pix" for a in argvs)  # commands.py files exist for most apps
    r = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argvs)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    for res in json.loads(r.stdout):
        assert res["heavy"] == [], f"zoo {' '.join(res['argv'])} imported {res['heavy']}"
        if "--help" in res["argv"]:
            assert res["rc"] == 0 and "usage: zoo" in res["out"], res
        elif res["argv"][0] == "presets":
            assert res["rc"] == 0 and "srgan/srresnet_x4" in res["out"], res
        else:  # an error, one line, no traceback
            assert res["rc"] == 2 and "Traceback" not in res["err"] and res["err"].strip(), res
    missing = next(res for res in json.loads(r.stdout) if any("missing.png" in a for a in res["argv"]))
    assert "missing.png" in missing["err"] and "No such file" in missing["err"], missing
    exists = next(res for res in json.loads(r.stdout) if any("exists.onnx" in a for a in res["argv"]))
    assert "exists" in exists["err"] and "--overwrite" in exists["err"], exists


def test_preset_index_is_fresh():
    if os.environ.get("ZOO_WEIGHTS"):
        pytest.skip("$ZOO_WEIGHTS adds presets of its own: the index describes the shipped ones")
    stored = json.loads(catalog.INDEX.read_text())
    live = catalog.build()
    assert stored == live, "zoo/presets_index.json is stale: run `python -m zoo.catalog` and commit it"


def test_index_falls_back_when_presets_change(monkeypatch):
    stale = {"apps": {"x": {"trained": ["old"], "declared": ["old"], "fingerprint": "then"}}, "table": [],
             "fingerprint": "then"}
    monkeypatch.setattr(catalog, "_cache", {"stored": stale})
    monkeypatch.setattr(catalog, "_app_entry", lambda app, manifests=None: {"trained": ["a"], "declared": ["a", "b"]})
    monkeypatch.setattr("zoo.cli._load_keras_quietly", lambda: None)
    monkeypatch.setattr(catalog, "app_fingerprint", lambda app, manifests=None: "now")
    assert catalog.names("x") == (["a"], ["a", "b"])  # x's presets.py or manifest entries changed: computed
    monkeypatch.setattr(catalog, "app_fingerprint", lambda app, manifests=None: "then")
    assert catalog.names("x") == (["old"], ["old"])  # unchanged: the index


def test_commands_modules_agree_with_the_apps():
    pytest.importorskip("keras")
    from zoo.apps import cyclegan
    from zoo.apps.cyclegan import commands

    assert commands.DIRECTIONS == cyclegan.DIRECTIONS
    from zoo.apps.srgan import commands as sr_commands
    from zoo.apps.srgan.networks import _SRGenerator

    assert (sr_commands.AUTO_TILE_BYTES, sr_commands.AUTO_TILE) == (_SRGenerator.AUTO_TILE_BYTES,
                                                                    _SRGenerator.AUTO_TILE)


def test_import_prints_nothing_from_tensorflow():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "ZOO_TF_LOGS")}
    r = subprocess.run([sys.executable, "-c", "from zoo.apps import dcgan; dcgan.pretrained().generate(2, labels=1)"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and r.stderr == "", r.stderr[-2000:]


def test_gallery_order_plain_words_and_zoom(tmp_path):
    pytest.importorskip("keras")
    from zoo import cli, weights

    apps = weights.apps()
    ranked = sorted(apps, key=cli._gallery_rank)
    assert ranked[:4] == ["progan", "text2image", "inpainting", "srgan"] and ranked.index("dcgan") > ranked.index(
        "pix2pix")
    for app in apps:
        if app in cli.PLAIN_WORDS:  # the default preset has the metrics its sentence names
            assert cli._plain_words(app, weights.get(app)), app
    page = cli._gallery([(app, "What it does.", weights.get(app), []) for app in ranked], str(tmp_path))
    assert "a face detector finds a face in 99.3% of the generated faces" in page
    assert page.index("Faces of people who do not exist") < page.index("Handwritten digits")
    assert "classList.toggle('zoomed')" in cli._figure("a: b | c", _png(tmp_path), str(tmp_path))


def _png(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 4)).save(tmp_path / "x.png")
    return str(tmp_path / "x.png")

