"""``zoo serve`` in a real browser: Debian's headless Chromium, driven by Selenium through chromedriver, opens the
page, draws on the pix2pix and CycleGAN canvases, uploads a photo and paints a hole for inpainting, types a
sentence, uploads an image for super-resolution, asks for faces and digits, and checks that every result image
appears at the size the app gives. The page's screenshot after the sketch is ``apps/serve.png`` (README) when
``ZOO_SCREENSHOT`` names that path.

Needs gradio and selenium (the [test] extra) and /usr/bin/chromium + /usr/bin/chromedriver (.ci/run installs
them); without them the module skips, but .ci/run runs it with ``ZOO_REQUIRE_BROWSER=1``, which turns the skip
into a failure.
"""
import contextlib
import os
import shutil
import signal
import socket
import tempfile
import time

import numpy as np
import pytest

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never downloads a browser or driver here
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000")


def _require(ok, why):
    if not ok:
        if os.environ.get("ZOO_REQUIRE_BROWSER"):
            pytest.fail(f"ZOO_REQUIRE_BROWSER is set but {why}")
        pytest.skip(why)


pytest.importorskip("keras")
try:
    import gradio  # noqa: F401
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
except ImportError as e:  # pragma: no cover - the [test] extra installs them
    _require(False, f"gradio/selenium missing ({e})")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    from zoo import serve

    page, url = serve.launch(port=_free_port(), block=False, quiet=True)
    yield url
    page.close()
    serve.unload()  # the tests after this module do not share the machine's memory with every app's models


@pytest.fixture(scope="module")
def browser(server):
    _require(os.path.exists(CHROMIUM) and os.path.exists(DRIVER), "chromium/chromedriver not installed")
    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="zoo-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    # chromedriver (and the Chromium it starts) in a process group of their own, killed whole at the end: a
    # browser process that outlived quit() would take memory and CPU from every test after this module
    d = webdriver.Chrome(service=Service(DRIVER, popen_kw={"start_new_session": True}), options=opts)
    group = os.getpgid(d.service.process.pid)
    d.set_page_load_timeout(60)
    d.get(server)
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, "button[role=tab]"), "the page's tabs")
    yield d
    try:
        d.quit()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        shutil.rmtree(profile, ignore_errors=True)


def _wait(cond, what, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _tab(d, app):
    tab = d.find_element(By.ID, f"tab-{app}-button") if d.find_elements(By.ID, f"tab-{app}-button") else None
    if tab is None:
        labels = {"progan": "Faces", "text2image": "Text", "inpainting": "Inpainting", "srgan": "Super",
                  "pix2pix": "pix2pix", "cyclegan": "CycleGAN", "dcgan": "DCGAN"}
        tab = next(b for b in d.find_elements(By.CSS_SELECTOR, "button[role=tab]") if labels[app] in b.text)
    tab.click()
    _wait(lambda: d.find_element(By.ID, f"tab-{app}").is_displayed(), f"the {app} tab")


def _canvas(d, elem_id):
    """The drawing canvas of ``#elem_id`` (the top one), once the editor has drawn it: on a busy machine the tab's
    canvases appear a moment after the tab itself."""
    return _wait(lambda: d.find_elements(By.CSS_SELECTOR, f"#{elem_id} canvas"), f"a canvas in #{elem_id}")[-1]


def _result(d, elem_id, old=None):
    """(width, height) of the image shown in ``#elem_id`` once it is there (and not ``old``'s source)."""
    def ready():
        errors = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".toast-body") if e.text.strip()]
        assert not errors, f"the page shows an error: {errors}"
        imgs = d.find_elements(By.CSS_SELECTOR, f"#{elem_id} img")
        if not imgs or imgs[0].get_attribute("src") in (None, "", old):
            return None
        size = d.execute_script("const i = arguments[0]; return i.complete && i.naturalWidth ? "
                                "[i.naturalWidth, i.naturalHeight] : null", imgs[0])
        return tuple(size) if size else None

    return _wait(ready, f"an image in #{elem_id}")


def _stroke(d, canvas, points):
    """Press, drag through ``points`` (offsets from the canvas's centre), release."""
    chain = ActionChains(d).move_to_element_with_offset(canvas, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for t in np.linspace(0.2, 1.0, 5):
            chain.move_to_element_with_offset(canvas, int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0)))
    chain.release().perform()


SHOE = [(-70, 20), (-60, -30), (-20, -20), (40, 10), (80, 20), (80, 45), (-70, 45), (-70, 20)]


def test_pix2pix_draw_a_sketch(browser):
    d = browser
    _tab(d, "pix2pix")
    canvas = _canvas(d, "pix2pix-in")
    _stroke(d, canvas, SHOE)
    d.find_element(By.ID, "pix2pix-go").click()
    assert _result(d, "pix2pix-out") == (256, 256)  # the canvas is 256x256; the photo has its size
    shot = os.environ.get("ZOO_SCREENSHOT")
    if shot:
        d.save_screenshot(shot)


def test_cyclegan_draw_and_photo(browser, tmp_path):
    from PIL import Image

    from zoo import images

    d = browser
    _tab(d, "cyclegan")
    canvas = _canvas(d, "cyclegan-in")
    _stroke(d, canvas, SHOE)
    d.find_element(By.ID, "cyclegan-go").click()
    assert _result(d, "cyclegan-out") == (256, 256)
    photo = tmp_path / "photo.png"
    Image.open(images.asset("face_heldout.png")).resize((96, 80)).save(photo)
    d.find_element(By.CSS_SELECTOR, "#cyclegan-photo-in input[type=file]").send_keys(str(photo))
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, "#cyclegan-photo-in img"), "the uploaded photo")
    d.find_element(By.ID, "cyclegan-photo-go").click()
    assert _result(d, "cyclegan-photo-out") == (96, 80)


def test_inpainting_upload_and_paint(browser):
    from zoo import images

    d = browser
    _tab(d, "inpainting")
    d.find_element(By.CSS_SELECTOR, "#inpaint-in input[type=file]").send_keys(images.asset("face_heldout.png"))
    time.sleep(1.0)  # the editor draws the photo as its background
    brush = [b for b in d.find_elements(By.CSS_SELECTOR, "#inpaint-in button")
             if (b.get_attribute("aria-label") or "").lower() in ("brush", "draw")]
    if brush:
        brush[0].click()
    canvas = _canvas(d, "inpaint-in")
    _stroke(d, canvas, [(-30, -10), (30, -10), (30, 10), (-30, 10)])
    d.find_element(By.ID, "inpaint-go").click()
    assert _result(d, "inpaint-out") == (128, 128)  # the photo's own size


def test_text2image_type_a_sentence(browser):
    d = browser
    _tab(d, "text2image")
    box = d.find_element(By.CSS_SELECTOR, "#t2i-text textarea")
    box.clear()
    box.send_keys("a red flower with ruffled petals riding a bicycle")
    d.find_element(By.ID, "t2i-go").click()
    assert _result(d, "t2i-out") == (4 * 66 + 2, 66 + 2)  # four 64x64 flowers in a row, 2-px frames
    note = _wait(lambda: d.find_element(By.ID, "t2i-unknown").text, "the unknown-words note")
    assert "bicycle" in note and "riding" in note and "petals" not in note


def test_srgan_upload(browser, tmp_path):
    from PIL import Image

    from zoo import images

    d = browser
    _tab(d, "srgan")
    small = tmp_path / "small.png"
    Image.open(images.asset("starfish_lr.png")).crop((0, 0, 40, 24)).save(small)
    d.find_element(By.CSS_SELECTOR, "#srgan-in input[type=file]").send_keys(str(small))
    _wait(lambda: d.find_elements(By.CSS_SELECTOR, "#srgan-in img"), "the uploaded image")
    d.find_element(By.ID, "srgan-go").click()
    assert _result(d, "srgan-out") == (160, 96)


def test_progan_and_dcgan(browser):
    d = browser
    _tab(d, "progan")
    d.find_element(By.ID, "progan-go").click()
    assert _result(d, "progan-out") == (4 * 66 + 2, 66 + 2)  # four 64x64 faces
    d.find_element(By.ID, "progan-walk-go").click()
    assert _result(d, "progan-walk-out") == (64, 64)
    _tab(d, "dcgan")
    d.find_element(By.ID, "dcgan-go").click()
    assert _result(d, "dcgan-out") == (8 * 30 + 2, 2 * 30 + 2)  # sixteen 28x28 digits, eight a row


def test_vae(browser):
    from zoo import serve

    if "vae" not in serve.available_apps():
        pytest.skip("vae has no shipped weights yet: no tab")
    d = browser
    _tab(d, "vae")
    d.find_element(By.ID, "vae-go").click()
    assert _result(d, "vae-out") == (8 * 30 + 2, 2 * 30 + 2)  # sixteen 28x28 digits, eight a row


def test_every_tab_has_a_browser_test():
    from zoo import serve

    tested = {"progan", "text2image", "inpainting", "srgan", "pix2pix", "cyclegan", "dcgan", "vae"}
    assert set(serve.available_apps()) <= tested, "a new tab needs a test here"


def test_error_shown_in_page(browser):
    d = browser
    _tab(d, "text2image")
    box = d.find_element(By.CSS_SELECTOR, "#t2i-text textarea")
    box.clear()
    box.send_keys("12345 !!!")
    d.find_element(By.ID, "t2i-go").click()
    text = _wait(lambda: " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, ".toast-body")).strip(),
                 "an error message")
    assert "no words" in text and "Traceback" not in text
