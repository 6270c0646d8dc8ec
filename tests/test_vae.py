"""The autoencoder app: the KL term and the reparameterisation against closed forms, architecture, trainers
(VAE and VAE-GAN on the core's step), the AE-vs-VAE completeness result on a tiny trained model, save/load,
shipped presets, verbs, bad inputs, CLI."""
import os

import keras
import numpy as np
import pytest
from keras import ops
from PIL import Image

from zoo import backend, losses, weights
from zoo.apps import vae
from zoo.cli import main as cli

pytestmark = pytest.mark.core


def tiny(**kw):
    return vae.Autoencoder(**{**dict(image_size=8, latent_dim=3, filters=4, downsamplings=1, hidden=8), **kw})


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


# -- the KL term and the reparameterisation ------------------------------------------------------------
def test_kl_matches_the_closed_form_and_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(5, 4)).astype("float32")
    log_var = rng.normal(scale=0.7, size=(5, 4)).astype("float32")
    sigma = np.exp(0.5 * log_var.astype("float64"))
    # KL(N(m, s^2) || N(0, 1)) = log(1 / s) + (s^2 + m^2) / 2 - 1 / 2, summed over dimensions
    closed = np.sum(-np.log(sigma) + (sigma**2 + mean**2) / 2 - 0.5, axis=1)
    got = np_(losses.gaussian_kl(mean, log_var))
    np.testing.assert_allclose(got, closed, rtol=1e-5)
    # E_q[log q(z) - log p(z)] by sampling, for the first example
    eps = rng.standard_normal((400_000, 4))
    z = mean[0] + sigma[0] * eps
    log_q = -0.5 * eps**2 - np.log(sigma[0])
    log_p = -0.5 * z**2
    assert abs(np.mean(np.sum(log_q - log_p, axis=1)) - got[0]) < 0.02
    # zero exactly at the prior, positive elsewhere
    assert np_(losses.gaussian_kl(np.zeros((1, 3), "float32"), np.zeros((1, 3), "float32")))[0] == 0.0
    assert np.all(got > 0)


def test_reparameterized_sample_has_the_right_law_and_passes_gradients():
    mean = ops.convert_to_tensor(np.array([[1.5, -2.0]] * 20000, "float32"))
    log_var = ops.convert_to_tensor(np.array([[np.log(0.25), np.log(4.0)]] * 20000, "float32"))
    z = np_(losses.reparameterize(mean, log_var, seed=keras.random.SeedGenerator(0)))
    np.testing.assert_allclose(z.mean(0), [1.5, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(0), [0.5, 2.0], rtol=0.03)

    m = ops.convert_to_tensor(np.array([[0.3, -0.1, 2.0]], "float32"))
    lv = ops.convert_to_tensor(np.array([[0.2, -1.0, 0.5]], "float32"))
    seed = keras.random.SeedGenerator(3)

    def f(inputs):
        sample = losses.reparameterize(inputs[0], inputs[1], seed=seed)
        return ops.sum(sample), sample

    _, sample, (g_mean, g_log_var) = backend.value_and_grad(f, [m, lv])
    eps = (np_(sample) - np_(m)) / np.exp(0.5 * np_(lv))
    np.testing.assert_allclose(np_(g_mean), np.ones((1, 3)), atol=1e-6)          # dz/dmean = 1
    np.testing.assert_allclose(np_(g_log_var), 0.5 * np.exp(0.5 * np_(lv)) * eps, rtol=1e-4, atol=1e-6)
    assert np.all(np.abs(np_(g_log_var)) > 0)


def test_likelihoods():
    t = np.array([[[[1.0], [-1.0]]]], "float32")  # one 1x2 image: white, black
    p = np.array([[[[0.6], [-0.2]]]], "float32")  # means 0.8, 0.4
    np.testing.assert_allclose(np_(losses.bernoulli_nll(t, p)), [-np.log(0.8) - np.log(0.6)], rtol=1e-5)
    np.testing.assert_allclose(np_(losses.squared_error(t, p)), [0.2**2 + 0.4**2], rtol=1e-5)


# -- architecture --------------------------------------------------------------------------------------
def test_digit_networks_parameter_counts_and_shapes():
    net = vae.CONFIGS["mnist_vae"].build_generator()
    # encoder: conv 4x4x1x32 + 32, conv 4x4x32x64 + 64, dense 3136x256 + 256, mean and log_var 256x16 + 16 each
    assert net.encoder.count_params() == 544 + 32832 + 803072 + 2 * 4112
    # decoder: dense 16x256 + 256, dense 256x3136 + 3136, deconv 4x4x64x32 + 32, deconv 4x4x32x1 + 1
    assert net.decoder.count_params() == 4352 + 805952 + 32800 + 513
    assert net.count_params() == net.encoder.count_params() + net.decoder.count_params()
    ae = vae.CONFIGS["mnist_ae"].build_generator()
    assert ae.encoder.count_params() == net.encoder.count_params() - 4112 and not ae.variational
    x = np.zeros((3, 28, 28, 1), "float32")
    assert tuple(net(x).shape) == (3, 28, 28, 1)
    mean, log_var = net.encoder(x)
    assert tuple(mean.shape) == tuple(log_var.shape) == (3, 16)
    assert tuple(ae.encoder(x).shape) == (3, 16)
    c = vae.CONFIGS["mnist_cvae"].build_generator()
    assert tuple(c([x, np.array([0, 5, 9], "int32")]).shape) == (3, 28, 28, 1)
    d = vae.VAEGANDiscriminator(image_size=28, channels=1, filters=32)
    logit, feats = d(x)
    assert tuple(logit.shape) == (3, 1) and tuple(feats.shape) == (3, 7, 7, 128)


def test_inference_uses_the_mean_and_is_deterministic():
    keras.utils.set_random_seed(0)
    net = tiny()
    x = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
    mean, _ = net.encoder(x)
    np.testing.assert_allclose(np_(net(x)), np_(net.decoder(mean)), atol=1e-6)
    np.testing.assert_array_equal(np_(net(x)), np_(net(x)))


# -- trainers ------------------------------------------------------------------------------------------
def test_vae_training_lowers_the_loss_and_warms_up_beta(small_digits):
    x = small_digits[0][:256]
    keras.utils.set_random_seed(0)
    model = vae.VAE(tiny(latent_dim=4), seed=0)
    model.compile(beta=2.0, warmup_steps=8, learning_rate=3e-3)
    h = model.fit(x, epochs=6, batch_size=64, verbose=0).history
    assert h["reconstruction"][-1] < h["reconstruction"][0]
    assert h["beta"][0] < 2.0 and h["beta"][-1] == pytest.approx(2.0)
    assert np.all(np.isfinite(h["g_loss"])) and h["kl"][-1] > 0
    np.testing.assert_allclose(h["g_loss"][-1], h["reconstruction"][-1] + h["kl_loss"][-1], rtol=1e-4)
    ae = vae.VAE(tiny(variational=False), seed=0)
    ae.compile(reconstruction="mse")
    h = ae.fit(x, epochs=2, batch_size=64, verbose=0).history
    assert "kl" not in h and np.isfinite(h["reconstruction"][-1])


def test_conditional_vae_needs_and_uses_labels(small_digits):
    x, y = small_digits[0][:128], small_digits[1][:128]
    model = vae.VAE(tiny(num_classes=10), seed=0)
    model.compile()
    h = model.fit(x, y, epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(h["g_loss"][-1])
    with pytest.raises(ValueError, match="trains on \\(images, labels\\)"):
        model.train_on_batch(x[:8])
    net = model.autoencoder
    a, b = net.generate(2, labels=1, seed=0), net.generate(2, labels=7, seed=0)
    assert a.dtype == np.uint8 and not np.array_equal(a, b)  # same codes, other class


def test_vaegan_steps_touch_only_their_side(small_digits):
    x = small_digits[0][:32]
    keras.utils.set_random_seed(0)
    model = vae.VAEGAN(tiny(), vae.VAEGANDiscriminator(image_size=8, channels=1, filters=4, downsamplings=1),
                       seed=0)
    model.compile()
    g0, d0 = model.autoencoder.get_weights(), model.discriminator.get_weights()
    logs = model.discriminator_update(x)
    assert np.isfinite(float(logs["d_loss"]))
    assert all(np.array_equal(a, b) for a, b in zip(g0, model.autoencoder.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(d0, model.discriminator.get_weights()))
    d1 = model.discriminator.get_weights()
    logs = model.generator_update(x)
    assert {"features", "kl_loss", "adversarial"} <= set(logs)
    assert all(np.array_equal(a, b) for a, b in zip(d1, model.discriminator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(g0, model.autoencoder.get_weights()))
    h = model.fit(x, epochs=1, batch_size=16, verbose=0).history
    assert {"recon_acc", "prior_acc", "features", "reconstruction"} <= set(h)


@pytest.mark.tensorflow_only
def test_vae_samples_from_the_prior_look_like_digits_far_more_often_than_the_autoencoders(small_digits):
    """The lecture's completeness point on a tiny trained model: decode codes drawn from N(0, I) and ask a digit
    classifier (logistic regression on real digits) how many it recognises (softmax >= 0.9)."""
    from sklearn.linear_model import LogisticRegression

    x8, y = small_digits
    x = np.kron(x8, np.ones((1, 2, 2, 1), "float32"))  # 16 x 16
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    clf = LogisticRegression(max_iter=2000).fit(flat(x[::2]), y[::2])
    assert clf.score(flat(x[1::2]), y[1::2]) > 0.9

    def judged_digits(variational):
        keras.utils.set_random_seed(0)
        net = vae.Autoencoder(image_size=16, latent_dim=8, filters=8, hidden=64, variational=variational)
        model = vae.VAE(net, seed=0)
        model.compile(learning_rate=2e-3)
        model.fit(x, epochs=15, batch_size=64, verbose=0)
        samples = net.generate(500, seed=0).astype("float32") / 127.5 - 1.0
        return float(np.mean(clf.predict_proba(flat(samples)).max(1) >= 0.9))

    ae, v = judged_digits(False), judged_digits(True)
    assert v > ae + 0.2 and v > 0.25, (ae, v)


# -- verbs, save/load ----------------------------------------------------------------------------------
def test_verbs_take_images_as_people_have_them():
    keras.utils.set_random_seed(0)
    net = tiny(image_size=28, downsamplings=2)
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    assert net.encode(u8).shape == (3, 3) and net.encode(u8[0, ..., 0]).shape == (1, 3)
    rgb = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)  # odd size, colour: grey, resized
    out = net.reconstruct(rgb)
    assert out.dtype == np.uint8 and out.shape == (28, 28, 3)
    f = net.reconstruct(u8.astype("float32") / 255.0)
    assert f.dtype == np.float32 and f.shape == (3, 28, 28, 1) and 0 <= f.min() and f.max() <= 1
    np.testing.assert_array_equal(net.decode(net.encode(u8)), net.reconstruct(u8))
    strip = net.interpolate(u8[0], u8[1], steps=5)
    assert strip.shape == (5, 28, 28, 1) and strip.dtype == np.uint8
    np.testing.assert_array_equal(strip[0], net.reconstruct(u8[:1])[0])
    np.testing.assert_array_equal(strip[-1], net.reconstruct(u8[1:2])[0])


def test_bad_inputs_raise_clear_errors():
    net, cnet = tiny(), tiny(num_classes=3)
    x = np.zeros((2, 8, 8, 1), "uint8")
    with pytest.raises(ValueError, match=r"codes must have shape \(n, 3\)"):
        net.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        net.decode(np.full((1, 3), np.nan))
    with pytest.raises(ValueError, match="not class-conditional"):
        net.encode(x, labels=1)
    with pytest.raises(ValueError, match="class-conditional: pass labels"):
        cnet.reconstruct(x)
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        cnet.encode(x, labels=[0, 3])
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        net.interpolate(x[0], x[1], steps=1)
    with pytest.raises(ValueError, match="one image at each end"):
        net.interpolate(x, x[0])
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        net.generate(0)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        net.encode(np.full((8, 8), 3.0, "float32"))
    with pytest.raises(ValueError, match="divisible by 2\\*\\*downsamplings"):
        vae.Autoencoder(image_size=30, downsamplings=2)
    with pytest.raises(TypeError, match="trains a zoo.apps.vae.Autoencoder"):
        vae.VAE(vae.Decoder(image_size=8, latent_dim=3, filters=4, downsamplings=1))
    with pytest.raises(ValueError, match="needs a discriminator"):
        vae.VAEGAN(net, None)
    model = vae.VAE(net)
    with pytest.raises(ValueError, match="beta must be a number >= 0"):
        model.compile(beta=-1)
    with pytest.raises(ValueError, match="reconstruction must be one of"):
        model.compile(reconstruction="l1")
    with pytest.raises(ValueError, match="warmup_steps"):
        model.compile(warmup_steps=1.5)


def test_export_graph_is_the_decoder_between_unit_images():
    keras.utils.set_random_seed(0)
    net = tiny(num_classes=3)
    graph = net.export_graph()
    assert [t.name.split(":")[0] for t in graph.inputs] == ["z", "label"]
    z = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    labels = np.array([0, 2], "int32")
    got = np_(graph([z, labels])["output"])
    np.testing.assert_allclose(got, net.decode(z, labels).astype("float32") / 255.0, atol=1 / 255.0)


def test_save_load_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    net = tiny(num_classes=3)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    inputs = [x, np.array([0, 2], "int32")]
    path = str(tmp_path / "ae.weights.h5")
    net.save_weights(path)
    other = tiny(num_classes=3)
    assert not np.allclose(np_(other(inputs)), np_(net(inputs)))
    weights.load_into(other, path)
    np.testing.assert_array_equal(np_(other(inputs)), np_(net(inputs)))
    net.save(tmp_path / "ae.keras")
    loaded = keras.saving.load_model(tmp_path / "ae.keras", safe_mode=True)
    assert type(loaded) is vae.Autoencoder and loaded.get_config() == net.get_config()
    np.testing.assert_allclose(np_(loaded(inputs)), np_(net(inputs)), atol=1e-6)
    with pytest.raises(ValueError):
        weights.load_into(tiny(latent_dim=5), path)  # another architecture: refused, all or nothing


# -- shipped presets -----------------------------------------------------------------------------------
SHIPPED = [p for p in ("mnist_vae", "mnist_ae", "mnist_cvae", "mnist_vaegan") if vae.CONFIGS[p].trained]


@pytest.mark.parametrize("name", SHIPPED)
def test_pretrained_verifies_and_reproduces_reference(name, tmp_path, monkeypatch):
    preset = weights.get("vae", name)
    path = weights.find_file(preset.file)
    assert weights.sha256(path) == preset.sha256
    net = vae.pretrained(name)
    assert net.preset.key == preset.key and weights.check_reference(net, preset) < 1e-4
    assert preset.metrics["judged_digit"] > 0 and preset.metrics["reconstruction_psnr"] > 10
    # a tampered copy is refused
    bad = tmp_path / "vae" / os.path.basename(preset.file)
    bad.parent.mkdir()
    data = bytearray(open(path, "rb").read())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(weights.HashMismatchError):
        weights.verify(str(bad), preset.sha256)


def test_default_preset_is_the_vae_and_completes_where_the_autoencoder_does_not():
    if not {"mnist_vae", "mnist_ae"} <= set(SHIPPED):
        pytest.skip("the digit presets are not shipped")
    net = vae.pretrained()
    assert net.preset.name == "mnist_vae" and net.variational
    m_vae, m_ae = vae.CONFIGS["mnist_vae"].metrics, vae.CONFIGS["mnist_ae"].metrics
    assert m_vae["judged_digit"] > m_ae["judged_digit"] + 0.2
    assert m_vae["classes_covered"] == 10


def test_cli_sample_reconstruct_interpolate(tmp_path, capsys):
    if "mnist_vae" not in SHIPPED:
        pytest.skip("mnist_vae is not shipped")
    out = tmp_path / "s.png"
    assert cli(["vae", "sample", "-o", str(out), "-n", "4", "--seed", "0"]) == 0
    assert Image.open(out).size[0] > 28
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(np.zeros((28, 28), "uint8")).save(a)
    Image.fromarray(np.full((40, 40), 255, "uint8")).save(b)
    assert cli(["vae", "reconstruct", str(b), "-o", str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size == (28, 28)
    assert cli(["vae", "interpolate", str(a), str(b), "-o", str(tmp_path / "i.png"), "--steps", "6"]) == 0
    assert Image.open(tmp_path / "i.png").size[0] > 6 * 28
    assert cli(["vae", "sample", "-o", str(out), "--labels", "3"]) != 0  # unconditional preset
    assert "unconditional" in capsys.readouterr().err


def test_benchmark_tiny_end_to_end(tmp_path):
    """benchmarks/vae.py on CPU with tiny settings: a smoke test, not a timing assertion."""
    import json
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "vae.py"), "--tiny", "--model", "vaegan",
                           "--warmup", "1", "--repeats", "2", "--threads", "1", "--json", str(out)],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task"], r["batch_size"]) for r in rows] == [("train", 8), ("infer", 1), ("infer", 8)]
    assert all(r["status"] == "ok" and r["images_per_s"] > 0 and r["model"] == "vaegan" for r in rows)
    assert rows[0]["flops_per_image"] > rows[1]["flops_per_image"] > 0  # training costs more than sampling


def test_build_and_finetune_from_a_preset(tmp_path):
    if "mnist_vae" not in SHIPPED:
        pytest.skip("mnist_vae is not shipped")
    for c in ("a", "b"):
        (tmp_path / "d" / c).mkdir(parents=True)
        for i in range(40):
            Image.fromarray(np.random.default_rng(i).integers(0, 256, (20, 24), dtype=np.uint8)).save(
                tmp_path / "d" / c / f"{i}.png")
    model = vae.build("mnist_vae")
    assert isinstance(model, vae.VAE) and model.warmup_steps == 0 and model.reconstruction == "bce"
    h = model.fit(vae.dataset(str(tmp_path / "d"), batch_size=16), epochs=1, verbose=0).history
    assert h["beta"][-1] == 1.0 and np.isfinite(h["g_loss"][-1])
    gan = vae.build("mnist_vaegan", pretrained_weights=False)
    assert isinstance(gan, vae.VAEGAN) and isinstance(gan.discriminator, vae.VAEGANDiscriminator)
    shipped = vae.pretrained("mnist_cvae").get_weights()
    net = vae.finetune(str(tmp_path / "d"), preset="mnist_cvae", epochs=1, batch_size=16)
    assert net.preset is None and net.num_classes == 10
    assert any(not np.array_equal(a, b) for a, b in zip(shipped, net.get_weights()))
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        vae.finetune(str(tmp_path / "d"), epochs=0)
