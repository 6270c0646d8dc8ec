"""``zoo serve``'s functions and its HTTP API (Gradio's client API against a server on a free local port), on
the shipped presets and tiny inputs; the page itself in a browser is tests/test_serve_browser.py."""
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("keras")
gr = pytest.importorskip("gradio")

from zoo import serve  # noqa: E402


def test_inputs_checked_before_any_model():
    with pytest.raises(ValueError, match="no image"):
        serve.srgan_fn(None)
    with pytest.raises(ValueError, match="up to 512 pixels a side"):
        serve.srgan_fn(np.zeros((600, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="canvas is empty"):
        serve.pix2pix_fn({"background": np.full((64, 64, 4), 255, np.uint8), "layers": [], "composite": None})
    with pytest.raises(ValueError, match="nothing painted"):
        serve.inpaint_fn({"background": np.zeros((32, 32, 3), np.uint8), "layers": [np.zeros((32, 32, 4), np.uint8)],
                          "composite": None})
    with pytest.raises(ValueError, match="1 to 16"):
        serve.progan_fn(0, 17)
    with pytest.raises(ValueError, match="whole number"):
        serve.progan_fn(-1, 2)
    with pytest.raises(ValueError, match="type a sentence"):
        serve.text2image_fn("   ")
    assert serve._MODELS == {}  # none of these loaded a model


def test_drawing_is_flattened_on_white_and_halves_split():
    rgba = np.zeros((4, 6, 4), np.uint8)  # fully transparent: an empty canvas
    rgba[1, 2] = (0, 0, 0, 255)  # one black stroke pixel
    rgb = serve._editor_image({"composite": rgba, "background": None, "layers": []})
    assert rgb.shape == (4, 6, 3) and rgb[0, 0].tolist() == [255] * 3 and rgb[1, 2].tolist() == [0] * 3
    ab = np.concatenate([np.zeros((2, 3, 3), np.uint8), np.full((2, 3, 3), 9, np.uint8)], axis=1)
    assert (serve._half(ab, "left half") == 0).all() and (serve._half(ab, "right half") == 9).all()


def test_errors_become_messages_not_tracebacks(capsys):
    bad = serve.call(lambda: serve.srgan_fn(None))
    with pytest.raises(gr.Error, match="no image"):
        bad()

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(gr.Error, match=r"internal error \(RuntimeError\)") as e:
        serve.call(broken)()
    assert "boom" not in str(e.value) and "boom" in capsys.readouterr().err  # the log has the traceback


def test_models_load_once():
    a = serve.model("dcgan", "mnist_cdcgan")
    assert serve.model("dcgan", "mnist_cdcgan") is a
    assert serve.dcgan_fn("3", 2).shape == (32, 62)  # two 28x28 digits in a row, 2-px frames
    assert serve.model("dcgan", "mnist_cdcgan") is a
    serve.unload()  # a stopped server gives the models back; the next call loads afresh
    assert not serve._MODELS and serve.model("dcgan", "mnist_cdcgan") is not a


def test_vae_tab_with_a_tiny_model(monkeypatch):
    from zoo.apps.vae import Autoencoder

    cond = Autoencoder(latent_dim=4, filters=4, hidden=8, num_classes=10)
    monkeypatch.setitem(serve._MODELS, ("vae", None), cond)
    assert serve.vae_fn(None, "3", 4, 0).shape == (32, 122)  # four 28x28 digits in a row
    assert serve.vae_fn(None, "any", 2, 0).shape == (32, 62)
    monkeypatch.setitem(serve._MODELS, ("vae", None), Autoencoder(latent_dim=4, filters=4, hidden=8))
    with pytest.raises(ValueError, match="not conditional"):
        serve.vae_fn(None, "3", 2, 0)


def test_sr_precision_bfloat16_is_close_to_float32(monkeypatch):
    import keras

    x = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    monkeypatch.setattr(serve, "_MODELS", {})
    monkeypatch.setitem(serve.SR_PRECISION, "value", "bfloat16")
    b = serve.model("srgan", "srresnet_x4")
    monkeypatch.setattr(serve, "_MODELS", {})
    monkeypatch.setitem(serve.SR_PRECISION, "value", "float32")
    f = serve.model("srgan", "srresnet_x4")
    assert b.dtype_policy.name == "mixed_bfloat16" and f.dtype_policy.name == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"  # put back after loading
    yb, yf = b.upscale(x), f.upscale(x)
    assert yb.shape == yf.shape == (48, 64, 3) and np.abs(yb.astype(float) - yf).mean() < 1.5
    assert serve._precision("pix2pix") == "float32"


def test_sr_reports_progress():
    calls = []
    out = serve.srgan_fn(np.zeros((20, 40, 3), np.uint8), "srresnet_x4", progress=lambda d, t: calls.append((d, t)))
    assert out.shape == (80, 160, 3) and calls and calls[-1][0] == calls[-1][1]  # the last report is complete
    assert serve.srgan_fn(np.zeros((20, 40, 3), np.uint8), "srresnet_x4", outscale=2).shape == (40, 80, 3)
    for bad in (5, 0.5, "big"):
        with pytest.raises(serve.InputError, match="output scale"):
            serve.srgan_fn(np.zeros((20, 40, 3), np.uint8), "srresnet_x4", outscale=bad)


def test_serve_help_needs_no_keras():
    r = subprocess.run([sys.executable, "-c", "import sys; from zoo import cli; cli.parser(['serve', '--help'])"
                        ".parse_args(['serve', '--help'])"], capture_output=True, text=True)
    assert "--host" in r.stdout and "127.0.0.1" in r.stdout, r.stderr
    r = subprocess.run([sys.executable, "-c", "import sys\nfrom zoo import cli\ntry:\n"
                        "    cli.parser(['serve', '--help']).parse_args(['serve', '--help'])\nexcept SystemExit:\n"
                        "    pass\nprint(sorted(m for m in ('keras', 'tensorflow', 'gradio') if m in sys.modules))"],
                       capture_output=True, text=True)
    assert r.stdout.strip().endswith("[]"), r.stdout + r.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    page, url = serve.launch(port=_free_port(), block=False, quiet=True, apps=["text2image", "srgan", "pix2pix"])
    assert url.startswith("http://127.0.0.1:")  # bound to the loopback address by default
    yield Client(url, verbose=False)
    page.close()
    serve.unload()


def test_api_srgan_and_text2image(client, tmp_path):
    from gradio_client import handle_file
    from PIL import Image

    from zoo import images

    src = tmp_path / "lr.png"
    Image.open(images.asset("starfish_lr.png")).crop((0, 0, 20, 12)).save(src)
    out = client.predict(handle_file(str(src)), "srresnet_x4", api_name="/srgan")
    assert Image.open(out).size == (80, 48)
    grid, note = client.predict("a yellow flower riding a bicycle", 2, 0, api_name="/text2image")
    assert Image.open(grid).size == (2 * 66 + 2, 66 + 2)
    assert "bicycle" in note and "riding" in note and "yellow" not in note
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="up to 512 pixels a side"):
        big = tmp_path / "big.png"
        Image.new("RGB", (520, 8)).save(big)
        client.predict(handle_file(str(big)), "srresnet_x4", api_name="/srgan")


def test_api_pix2pix_from_a_file(client):
    from gradio_client import handle_file
    from PIL import Image

    from zoo import images

    edges = images.asset("edges_shoe.png")
    out = client.predict({"background": handle_file(edges), "layers": [], "composite": None}, "whole image",
                         api_name="/pix2pix")
    photo = np.asarray(Image.open(out))
    assert photo.shape == (256, 256, 3) and photo.std() > 10  # a photo, not a blank page
    assert not os.path.exists(os.path.join(os.getcwd(), "flagged"))
