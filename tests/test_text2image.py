"""zoo.apps.text2image: the vocabulary round trip and its documented edge cases, caption files, conditioning
augmentation and its KL reaching G's loss, GAN-CLS's three discriminator terms, GAN-INT's extra fakes, the
frozen encoder during GAN training, the joint embedding's training, the verbs, the preset's reference output,
the benchmark and the command line."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

from zoo import weights
from zoo.apps import text2image as t2i
from zoo.apps.text2image.text import Vocabulary, folder_captions, words

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_G = dict(vocab_size=12, max_length=6, word_dim=8, filters=8, embedding_dim=8, noise_dim=4, condition_dim=4,
              width=4)
TINY_D = dict(embedding_dim=8, width=4, projection_dim=4)
CAPTIONS = ["a red flower with round petals", "a red flower", "a white flower with a yellow centre",
            "white petals and a yellow centre", "a purple flower", "a purple flower with thin petals"]


def tiny_vocab():
    return Vocabulary.build(CAPTIONS, min_count=1, max_length=6)


def tiny_gan(**kwargs):
    g = t2i.TextToImageGenerator(**TINY_G)
    return t2i.TextToImage(g, t2i.MatchingDiscriminator(**TINY_D), seed=0, **kwargs)


def batch(n=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 64, 64, 3)).astype("float32")
    ids = rng.integers(1, 12, (n, 6)).astype("int32")
    return x, ids, np.array([0, 0, 1, 2][:n], "int32")


# -- the vocabulary and caption files -------------------------------------------------------------------------
def test_vocabulary_encodes_pads_truncates_and_round_trips(tmp_path):
    v = tiny_vocab()
    assert v.tokens[:2] == ["<pad>", "<unk>"] and v.tokens[2] == "a"  # most frequent first
    ids = v.encode("A RED flower, with zebra-stripes!")
    assert ids.shape == (1, 6) and ids.dtype == np.int32
    assert v.decode(ids[0]) == "a red flower with <unk> <unk>"
    assert ids[0, 4] == ids[0, 5] == 1  # unknown words map to the unknown id, never an error
    long = v.encode("a " * 50)
    assert (long == v.ids["a"]).all() and long.shape == (1, 6)  # truncated to max_length words
    short = v.encode(["red", "a purple flower"])
    np.testing.assert_array_equal(short[0], [v.ids["red"], 0, 0, 0, 0, 0])
    v.save(tmp_path / "v.txt")
    assert Vocabulary.load(tmp_path / "v.txt") == v
    np.testing.assert_array_equal(Vocabulary.load(tmp_path / "v.txt").encode(CAPTIONS), v.encode(CAPTIONS))


def test_sentences_are_folded_to_ascii_and_empty_ones_are_errors():
    assert words("Crème brûlée-coloured petals, 5 of them") == ["creme", "brulee", "coloured", "petals", "of", "them"]
    assert words("一朵红花 red") == ["red"]
    v = tiny_vocab()
    for bad in ["", "   \n\t", "12 34 !!", "一朵红花"]:
        with pytest.raises(ValueError, match="no words"):
            v.encode(bad)
    with pytest.raises(TypeError):
        v.encode([None])


def test_vocabulary_file_errors(tmp_path):
    (tmp_path / "bad.txt").write_text("not a header\n<pad>\n<unk>\n")
    with pytest.raises(ValueError, match="not a vocabulary file"):
        Vocabulary.load(tmp_path / "bad.txt")
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "<pad>"])


def _folder(tmp_path, n=3):
    from PIL import Image

    for i in range(n):
        Image.fromarray(np.full((80, 90, 3), 40 * i, np.uint8)).save(tmp_path / f"f{i}.png")
    return tmp_path


def test_folder_captions_from_txt_files_and_a_tsv(tmp_path):
    folder = _folder(tmp_path)
    for i in range(3):
        (folder / f"f{i}.txt").write_text(f"a flower number {i}\n\nanother caption\n")
    pairs = folder_captions(folder)
    assert [os.path.basename(p) for p, _ in pairs] == ["f0.png", "f1.png", "f2.png"]
    assert pairs[1][1] == ["a flower number 1", "another caption"]
    (folder / "caps.tsv").write_text("file\tcaption\nf0.png\tred\nf1.png\twhite\nf2.png\tblue\nf2.png\tsky blue\n")
    assert [c for _, c in folder_captions(folder, "caps.tsv")] == [["red"], ["white"], ["blue", "sky blue"]]


def test_folder_captions_missing_and_orphans_are_clear_errors(tmp_path):
    folder = _folder(tmp_path)
    (folder / "f0.txt").write_text("red")
    with pytest.raises(ValueError, match=r"2 image\(s\) without a caption: f1.png, f2.png"):
        folder_captions(folder)
    (folder / "caps.tsv").write_text("f0.png\tred\nf1.png\twhite\nf2.png\tblue\nghost.png\tgrey\n")
    with pytest.raises(ValueError, match="naming no image.*ghost.png"):
        folder_captions(folder, "caps.tsv")
    (folder / "bad.tsv").write_text("f0.png red\n")
    with pytest.raises(ValueError, match="expected 'file<TAB>caption'"):
        folder_captions(folder, "bad.tsv")
    with pytest.raises(FileNotFoundError):
        folder_captions(folder, "nope.tsv")


def test_captioned_images_batches(tmp_path):
    folder = _folder(tmp_path, 4)
    for i in range(4):
        (folder / f"f{i}.txt").write_text("a red flower\na purple flower\n")
    ds = t2i.dataset(folder, vocabulary=tiny_vocab(), batch_size=2)
    x, ids, groups = ds[0]
    assert x.shape == (2, 64, 64, 3) and x.dtype == np.float32 and -1 <= x.min() and x.max() <= 1
    assert ids.shape == (2, 6) and ids.dtype == np.int32 and groups.dtype == np.int32
    assert len(set(groups.tolist())) == 2  # one group per image of a folder
    assert not np.array_equal(ds[0][0], ds[0][0])  # a new random batch each time


# -- the networks ---------------------------------------------------------------------------------------------
def test_text_encoder_unit_vectors_ignore_padding():
    enc = t2i.TextEncoder(12, max_length=6, word_dim=8, filters=8, embedding_dim=8)
    ids = np.array([[3, 4, 5, 0, 0, 0], [3, 4, 5, 6, 0, 0]], "int32")
    e = ops.convert_to_numpy(enc(ids))
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(e[0], e[1])


def test_conditioning_augmentation_and_its_kl():
    from zoo.apps.text2image.networks import ConditioningAugmentation

    layer = ConditioningAugmentation(3, kl_weight=2.0)
    e = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    eps = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    c = ops.convert_to_numpy(layer([e, eps]))
    w, b = [ops.convert_to_numpy(v) for v in layer.dense.weights]
    h = e @ w + b
    mu, logvar = h[:, :3], h[:, 3:]
    np.testing.assert_allclose(c, mu + np.exp(logvar / 2) * eps, rtol=1e-5, atol=1e-6)
    kl = -0.5 * np.mean(1 + logvar - mu ** 2 - np.exp(logvar))
    np.testing.assert_allclose(float(ops.convert_to_numpy(layer.losses[0])), 2.0 * kl, rtol=1e-4)  # float32 sums
    np.testing.assert_allclose(ops.convert_to_numpy(layer([e, 0 * eps])), mu, rtol=1e-5, atol=1e-6)


def test_kl_reaches_the_generator_step_and_the_encoder_stays_frozen():
    gan = tiny_gan()
    gan.compile()
    g = gan.generator
    assert not g.text_encoder.trainable and not g.text_encoder.trainable_weights
    assert {id(v) for v in gan._g_variables}.isdisjoint({id(v) for v in g.text_encoder.weights})
    real, cond = gan.unpack(batch())
    gan.generate(real, cond)
    own = float(ops.convert_to_numpy(sum(g.losses)))
    assert own > 0  # the CA's KL, added to G's loss by the core trainer
    enc = [w.copy() for w in g.text_encoder.get_weights()]
    stage1, d = [w.copy() for w in g.stage1.get_weights()], [w.copy() for w in gan.discriminator.get_weights()]
    x, ids, groups = batch()
    gan.fit((x, ids, groups), epochs=2, batch_size=4, verbose=0)
    for a, b in zip(enc, g.text_encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(stage1, g.stage1.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(d, gan.discriminator.get_weights()))


def test_the_three_discriminator_terms():
    """real + matching text -> real, fake + matching text -> fake, real + mismatching text -> fake (counted only
    where the rolled caption is of another group)."""
    gan = tiny_gan()
    gan.compile()
    x, ids, groups = batch()
    real, cond = gan.unpack((x, ids, groups))
    fake = ops.convert_to_numpy(gan.generate(real, cond, training=False)["match"])
    terms, logs = gan.discriminator_loss(real, cond, gan.fakes(real, cond, {"match": fake}, "d"), training=False)
    d = gan.discriminator
    e = ops.convert_to_numpy(cond["embedding"])

    def D(img, emb):
        return ops.convert_to_numpy(d([img, emb], training=False))[:, 0]

    sp = lambda v: np.log1p(np.exp(v))  # noqa: E731
    np.testing.assert_allclose(ops.convert_to_numpy(terms["d_loss"]), sp(-D(x, e)) + sp(D(fake, e)), rtol=1e-4,
                               atol=1e-5)
    wrong = sp(D(x, np.roll(e, 1, axis=0)))
    mismatched = groups != np.roll(groups, 1)  # [0, 0, 1, 2] vs [2, 0, 0, 1]: example 1 rolls onto its own group
    np.testing.assert_array_equal(mismatched, [True, False, True, True])
    np.testing.assert_allclose(ops.convert_to_numpy(terms["d_wrong"]), wrong * mismatched, rtol=1e-4, atol=1e-5)
    assert set(logs) == {"d_real", "d_fake", "d_acc"}


def test_tac_gan_auxiliary_classifier_terms_by_hand():
    """D's class head reads the image alone; D's term is its cross-entropy on the real images' classes, G's the
    same on its images of the batch's captions (GAN-INT's extra images left out), both x aux_weight."""
    keras.utils.set_random_seed(1)
    g = t2i.TextToImageGenerator(**TINY_G)
    d = t2i.MatchingDiscriminator(**TINY_D, classes=3)
    gan = t2i.TextToImage(g, d, seed=0, aux_weight=0.5, interpolation=0.5)
    gan.compile()
    x, ids, groups = batch()
    real, cond = gan.unpack((x, ids, groups))
    e = ops.convert_to_numpy(cond["embedding"])
    logit, classes = [ops.convert_to_numpy(o) for o in d([x, e], training=False)]
    assert logit.shape == (4, 1) and classes.shape == (4, 3)
    other = ops.convert_to_numpy(d([x, np.roll(e, 2, axis=0)], training=False)[1])
    np.testing.assert_allclose(other, classes, rtol=1e-5, atol=1e-6)  # the text does not reach the class head

    def ce(logits, labels):
        logits = logits - logits.max(1, keepdims=True)
        return -(logits[np.arange(len(labels)), labels] - np.log(np.exp(logits).sum(1)))

    out = {k: ops.convert_to_numpy(v) for k, v in gan.generate(real, cond, training=False).items()}
    terms, _ = gan.discriminator_loss(real, cond, gan.fakes(real, cond, out, "d"), training=False)
    np.testing.assert_allclose(ops.convert_to_numpy(terms["d_class"]), 0.5 * ce(classes, groups), rtol=1e-4,
                               atol=1e-5)
    sp = lambda v: np.log1p(np.exp(v))  # noqa: E731
    fake_logit = ops.convert_to_numpy(d([out["match"], e], training=False)[0])[:, 0]
    np.testing.assert_allclose(ops.convert_to_numpy(terms["d_loss"]), sp(-logit[:, 0]) + sp(fake_logit), rtol=1e-4,
                               atol=1e-5)
    terms, logs = gan.generator_loss(real, cond, out, training=False)
    fake_classes = ops.convert_to_numpy(d([out["match"], e], training=False)[1])
    np.testing.assert_allclose(ops.convert_to_numpy(terms["g_class"]), 0.5 * ce(fake_classes, groups), rtol=1e-4,
                               atol=1e-5)
    assert float(logs["class_acc"]) == np.mean(fake_classes.argmax(1) == groups)
    # fit: the class head learns, the logs are there
    head = [w.copy() for w in d.get_layer("classes").get_weights()]
    hist = gan.fit((x, ids, groups), epochs=2, batch_size=4, verbose=0).history
    assert {"d_class", "g_class", "class_acc"} <= set(hist)
    assert any(not np.allclose(a, b) for a, b in zip(head, d.get_layer("classes").get_weights()))
    with pytest.raises(ValueError, match="needs a discriminator built with classes"):
        t2i.TextToImage(t2i.TextToImageGenerator(**TINY_G), t2i.MatchingDiscriminator(**TINY_D), aux_weight=1.0)


def test_gan_int_adds_interpolated_fakes_to_the_generator_step_only():
    gan = tiny_gan(interpolation=0.5)
    real, cond = gan.unpack(batch())
    out = gan.generate(real, cond)
    assert tuple(out["match"].shape) == (4, 64, 64, 3) and tuple(out["interp"].shape) == (2, 64, 64, 3)
    images, emb = gan.fakes(real, cond, out, "g")
    assert tuple(images.shape)[0] == 6
    e = ops.convert_to_numpy(cond["embedding"])
    mid = 0.5 * e[:2] + 0.5 * np.roll(e, 1, axis=0)[:2]
    np.testing.assert_allclose(ops.convert_to_numpy(emb)[4:], mid / np.linalg.norm(mid, axis=1, keepdims=True),
                               rtol=1e-5, atol=1e-6)
    d_images, _ = gan.fakes(real, cond, out, "d")
    assert tuple(d_images.shape)[0] == 4
    assert tuple(tiny_gan(interpolation=0.0).generate(real, cond)["interp"].shape)[0] == 0


def test_bad_batches_are_clear_errors():
    gan = tiny_gan()
    x, ids, _ = batch()
    with pytest.raises(ValueError, match="images must be"):
        gan.unpack((x[:, :32], ids))
    with pytest.raises(ValueError, match="word ids must be"):
        gan.unpack((x, ids[:, :3]))
    with pytest.raises(ValueError, match="batches"):
        gan.unpack(x)


def test_joint_embedding_training_lowers_its_loss():
    """Captions naming a colour, images of that colour: a few steps raise the caption->image match."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    colours = {"red": (1, -1, -1), "green": (-1, 1, -1), "blue": (-1, -1, 1), "white": (1, 1, 1)}
    names = list(colours)
    v = Vocabulary.build([f"a {c} flower" for c in names], min_count=1, max_length=6)
    groups = rng.integers(0, 4, 64).astype("int32")
    x = np.stack([np.broadcast_to(colours[names[g]], (64, 64, 3)) for g in groups]).astype("float32")
    x += rng.normal(0, 0.3, x.shape).astype("float32")
    ids = v.encode([f"a {names[g]} flower" for g in groups])
    joint = t2i.JointEmbedding(t2i.TextEncoder(len(v), 6, 8, 16, 16), t2i.ImageEncoder(outputs=16, widths=(4, 8)))
    joint.compile(optimizer=keras.optimizers.Adam(3e-3))
    losses = []
    for _ in range(6):
        losses.append(joint.fit(x=(x, ids, groups), batch_size=16, epochs=1, verbose=0, shuffle=False)
                      .history["loss"][-1])
    assert losses[-1] < 0.7 * losses[0]
    assert joint.accuracy.result() > 0.5


# -- the verbs ------------------------------------------------------------------------------------------------
def verbs_model():
    keras.utils.set_random_seed(0)
    g = t2i.TextToImageGenerator(**TINY_G)
    g.vocabulary = tiny_vocab()
    return g


def test_generate_and_interpolate():
    g = verbs_model()
    a = g.generate("a red flower", n=3, seed=0)
    assert a.shape == (3, 64, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, g.generate("a red flower", n=3, seed=0))
    assert not np.array_equal(a[0], a[1])  # different latent vectors
    two = g.generate(["a red flower", "a purple flower"], seed=0)
    assert two.shape == (2, 64, 64, 3)
    np.testing.assert_array_equal(two[0], a[0])  # same seed: the first latent vector is shared
    assert g.generate("Crème flower " * 40, seed=0).shape == (1, 64, 64, 3)  # long, non-ASCII: fine
    with pytest.raises(ValueError, match="one image each"):
        g.generate(["a", "b"], n=3)
    with pytest.raises(ValueError, match="no words"):
        g.generate("   ")
    walk = g.interpolate("a red flower", "a purple flower", steps=5, seed=2)
    assert walk.shape == (5, 64, 64, 3)
    z = np.random.default_rng(2).standard_normal((1, g.latent_dim)).astype("float32")
    np.testing.assert_array_equal(walk[0], g.from_latents(z, g.embed("a red flower"))[0])
    np.testing.assert_array_equal(walk[-1], g.from_latents(z, g.embed("a purple flower"))[0])


def test_unknown_words_are_named_in_a_warning():
    import warnings

    from zoo.apps.text2image.text import UnknownWordsWarning

    g = verbs_model()
    with pytest.warns(UnknownWordsWarning, match="3 word.*: cat, riding, bicycle"):
        g.generate("a cat riding a red bicycle", seed=0)
    assert g.vocabulary.unknown(["a red cat", "a cat", "petals"]) == ["cat"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownWordsWarning)  # only ours: backends warn of their own
        g.generate("a red flower", seed=0)  # every word known: no warning


def test_a_generator_without_a_known_vocabulary_says_what_to_do():
    g = t2i.TextToImageGenerator(**TINY_G)
    with pytest.raises(ValueError, match="vocabulary is unknown"):
        g.generate("a red flower")


TRAINED = "text2image/flowers_64" in weights.presets()
needs_preset = pytest.mark.skipif(not TRAINED, reason="flowers_64 has no shipped weights yet")


@needs_preset
def test_pretrained_reproduces_its_reference_output_and_knows_its_vocabulary():
    model = t2i.pretrained()
    assert weights.check_reference(model, model.preset) < 1e-4
    assert len(model.vocabulary) == model.get_config()["vocab_size"]
    assert model.vocabulary.decode(model.vocabulary.encode("white petals")[0]) == "white petals"
    out = model.generate("this flower has white petals and a yellow center", n=2, seed=0)
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8


@needs_preset
def test_a_tampered_vocabulary_is_refused(tmp_path, monkeypatch):
    import shutil

    model = weights.pretrained("text2image")
    entry = model.preset.companions["vocabulary"]
    (tmp_path / "text2image").mkdir()
    shutil.copy(os.path.join(ROOT, "weights", "manifest.json"), tmp_path / "manifest.json")
    shutil.copy(os.path.join(ROOT, "weights", model.preset.file), tmp_path / model.preset.file)
    with open(tmp_path / entry["file"], "w") as f:
        f.write("max_length 30\n<pad>\n<unk>\nred\n")
    monkeypatch.setenv("ZOO_WEIGHTS", str(tmp_path))
    with pytest.raises(ValueError, match="sha256|hash"):
        t2i.vocabulary_for(model)


@needs_preset
def test_finetune_on_a_captioned_folder(tmp_path):
    (tmp_path / "imgs").mkdir()
    folder = _folder(tmp_path / "imgs", 4)
    (folder / "caps.tsv").write_text("".join(f"f{i}.png\ta grey flower number {i}\n" for i in range(4)))
    model = t2i.finetune(folder, captions="caps.tsv", steps=2, batch_size=2, verbose=0)
    assert model.vocabulary == t2i.pretrained().vocabulary
    assert model.generate("a grey flower", seed=0).shape == (1, 64, 64, 3)


def test_truncation_pulls_the_latents_toward_the_mean():
    g = verbs_model()
    text = ["a red flower", "a purple flower with a yellow center", "white petals"]
    z = np.random.default_rng(3).standard_normal((3, g.latent_dim)).astype("float32")
    e = g.embed(text)
    np.testing.assert_array_equal(g.generate(text, seed=3, truncation=1.0), g.generate(text, seed=3))  # psi 1: off
    np.testing.assert_array_equal(g.generate(text, seed=3, truncation=0.5), g.from_latents(0.5 * z, e))
    mean = g.generate(text, seed=3, truncation=0.0)  # psi 0: the sentence's image at the mean latent, any seed
    np.testing.assert_array_equal(mean, g.from_latents(np.zeros_like(z), e))
    np.testing.assert_array_equal(mean, g.generate(text, seed=9, truncation=0.0))
    assert not np.array_equal(mean[0], mean[1])  # the text still decides
    walk = g.interpolate("a red flower", "white petals", steps=3, seed=2, truncation=0.25)
    z2 = np.random.default_rng(2).standard_normal((1, g.latent_dim)).astype("float32")
    np.testing.assert_array_equal(walk[-1], g.from_latents(0.25 * z2, g.embed("white petals"))[0])
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match=r"truncation must be a number in \[0, 1\]"):
            g.generate("a red flower", seed=0, truncation=bad)


@needs_preset
def test_cli_generate(tmp_path):
    out = tmp_path / "red.png"
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "text2image", "generate", "a red flower with ruffled petals",
                        "-n", "4", "--seed", "0", "-o", str(out)], capture_output=True, text=True, timeout=300,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    from PIL import Image

    assert Image.open(out).size == (4 * 66 + 2, 66 + 2)  # -n images of the sentence in one row
    r = subprocess.run([sys.executable, "-m", "zoo.cli", "text2image", "generate", "a red flower", "-o", str(out),
                        "--truncation", "1.5"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode != 0 and "--truncation" in r.stderr and "in [0, 1]" in r.stderr


@needs_preset
def test_cli_names_unknown_words(tmp_path, capsys):
    from zoo.cli import main

    out = tmp_path / "cat.png"
    assert main(["text2image", "generate", "a photograph of a cat riding a bicycle", "-n", "1", "--seed", "0",
                 "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "zoo: warning: 4 word(s)" in err and "photograph, cat, riding, bicycle" in err, err


def test_benchmark_runs_end_to_end_on_cpu(tmp_path):
    out = tmp_path / "rows.jsonl"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "text2image.py"), "--tiny", "--json",
                        str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    import json

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["task"] for r in rows} == {"train", "infer"} and all(r["status"] == "ok" for r in rows)
    assert all(r["flops_per_image"] > 0 for r in rows)


# -- DF-GAN ---------------------------------------------------------------------------------------------------
from zoo.apps.text2image.networks import Affine, channels  # noqa: E402
from zoo.apps.text2image.trainer import DFGAN_LOSS, matching_aware_gradient_penalty  # noqa: E402

DF_G = dict(vocab_size=12, max_length=6, word_dim=8, filters=8, embedding_dim=8, noise_dim=4, width=2)


def df_gan(image_size=64, **kwargs):
    g = t2i.DFGANGenerator(image_size=image_size, **DF_G)
    return t2i.DFGAN(g, t2i.DFDiscriminator(image_size=image_size, embedding_dim=8, width=2), seed=0, **kwargs)


def _randomise(layer, rng, scale=0.3):
    """Nonzero weights where DF-GAN starts at zero (the affine MLPs' last layers, the D blocks' gamma)."""
    layer.set_weights([rng.normal(0, scale, w.shape).astype("float32") for w in layer.get_weights()])


def test_dfgan_parameter_counts_equal_the_reference_code():
    """tobran/DF-GAN's NetG(ngf=32, nz=100, cond_dim=256) and NetD + NetC(ndf=32), counted with PyTorch: NetG
    4,868,867 at 64 px and 7,306,499 at 128 px; NetD + NetC 3,506,756 and 5,210,949, less the 1x1 shortcut
    convolution its last D_Block creates but never uses (65,792 and 131,584)."""
    assert channels(32, 64) == [32, 64, 128, 256, 256] and channels(32, 128) == [32, 64, 128, 256, 256, 256]
    for size, g_params, d_params in ((64, 4_868_867, 3_440_964), (128, 7_306_499, 5_079_365)):
        assert t2i.DFGenerator(256, 100, 32, size).count_params() == g_params
        assert t2i.DFDiscriminator(size, 256, 32).count_params() == d_params
    with pytest.raises(ValueError, match="power of two"):
        t2i.DFGenerator(image_size=96)


@pytest.mark.parametrize("size", [64, 128])
def test_dfgan_forward_shapes(size):
    gan = df_gan(size)
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    ids = np.array([[3, 4, 5, 0, 0, 0], [6, 7, 0, 0, 0, 0]], "int32")
    real, cond = gan.unpack((x, ids))
    fake = gan.generate(real, cond)
    assert tuple(fake.shape) == (2, size, size, 3) and gan.generator.latent_dim == 4
    d = gan.discriminator
    assert tuple(d.features(real).shape) == (2, 4, 4, 16)  # 8 x width at 4x4, whatever the size
    assert tuple(d([real, cond["embedding"]]).shape) == (2, 1)
    z = np.zeros((2, 4), "float32")
    assert tuple(gan.generator([z, ids]).shape) == (2, size, size, 3)
    with pytest.raises(ValueError, match=f"images must be \\(N, {size}, {size}, 3\\)"):
        gan.unpack((x[:, :32, :32], ids))


def test_affine_modulation_by_hand():
    """gamma(c) * x + beta(c), each an MLP Linear-ReLU-Linear of the condition, one value per channel; a fresh
    layer is the identity (the last linear layers start at weight 0, bias 1 and 0)."""
    rng = np.random.default_rng(0)
    layer = Affine()
    x = rng.standard_normal((3, 5, 4, 6)).astype("float32")
    c = rng.standard_normal((3, 7)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(layer([x, c])), x, rtol=1e-6)
    for sub in (layer.gamma2, layer.beta2):
        _randomise(sub, rng)
    (g1, gb1), (g2, gb2) = layer.gamma1.get_weights(), layer.gamma2.get_weights()
    (b1, bb1), (b2, bb2) = layer.beta1.get_weights(), layer.beta2.get_weights()
    gamma = np.maximum(c @ g1 + gb1, 0) @ g2 + gb2
    beta = np.maximum(c @ b1 + bb1, 0) @ b2 + bb2
    np.testing.assert_allclose(ops.convert_to_numpy(layer([x, c])), gamma[:, None, None] * x + beta[:, None, None],
                               rtol=1e-4, atol=1e-5)


def test_the_sentence_reaches_the_image_through_the_affine_fusion():
    """Same noise, two sentences: a fresh generator (every affine the identity) ignores the sentence; with the
    affine MLPs' last layers nonzero, the image changes with it, also through the last up-block's fusion alone."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    g = t2i.DFGenerator(embedding_dim=8, noise_dim=4, width=2, image_size=64)
    z = np.repeat(rng.standard_normal((1, 4)).astype("float32"), 2, axis=0)
    e = rng.standard_normal((2, 8)).astype("float32")
    e /= np.linalg.norm(e, axis=1, keepdims=True)

    def change():  # how much the image moves with the sentence, relative to its own variation
        out = ops.convert_to_numpy(g([z, e]))
        return np.abs(out[0] - out[1]).mean() / (out.std() + 1e-12)

    assert change() < 1e-5
    affines = [l for l in g.layers if isinstance(l, Affine)]
    assert len(affines) == 16  # 4 blocks x 2 fusion blocks x 2 affines
    for a in affines[-4:]:  # the last up-block's (64x64) fusion only
        _randomise(a.gamma2, rng, 0.3)
        _randomise(a.beta2, rng, 0.3)
    assert change() > 0.01  # 0.0 if the affines ignored the condition; 0.03-0.3 over seeds and backends
    for a in affines[:-4]:
        _randomise(a.gamma2, rng, 0.3)
        _randomise(a.beta2, rng, 0.3)
    assert change() > 0.01  # 0.0 if the affines ignored the condition; 0.03-0.3 over seeds and backends


def test_ma_gp_by_hand_on_a_toy_critic():
    """D(x, e) = sum(a x^2) + b . e: dD/dx = 2 a x, dD/de = b; MA-GP = k ||(2 a x, b)||^p per example."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4, 3)).astype("float32")
    b = rng.standard_normal((5,)).astype("float32")
    x = rng.standard_normal((3, 4, 4, 3)).astype("float32")
    e = rng.standard_normal((3, 5)).astype("float32")

    def critic(image, sentence):
        return (ops.sum(ops.convert_to_tensor(a) * image * image, axis=(1, 2, 3))
                + ops.sum(sentence * ops.convert_to_tensor(b), axis=1)), "aux"

    penalty, aux = matching_aware_gradient_penalty(critic, ops.convert_to_tensor(x), ops.convert_to_tensor(e))
    norm = np.sqrt(np.sum((2 * a * x) ** 2, axis=(1, 2, 3)) + np.sum(b ** 2))
    assert aux == "aux"
    np.testing.assert_allclose(ops.convert_to_numpy(penalty), 2.0 * norm ** 6, rtol=1e-4)
    k3p4, _ = matching_aware_gradient_penalty(critic, ops.convert_to_tensor(x), ops.convert_to_tensor(e), 3.0, 4.0)
    np.testing.assert_allclose(ops.convert_to_numpy(k3p4), 3.0 * norm ** 4, rtol=1e-4)


def _tiny_df_discriminator(rng):
    """Random weights everywhere (the blocks' residual scales too, 0 when fresh), the sentence scaled so that
    image and sentence each carry a good share of D's input gradient."""
    d = t2i.DFDiscriminator(image_size=32, embedding_dim=3, width=1, sentence_scale=0.1)
    for net, std in ((d.features, 0.5), (d.judge, 0.1)):
        net.set_weights([rng.normal(0, std, w.shape).astype("float32") for w in net.get_weights()])
    return d


def test_ma_gp_in_the_discriminator_loss_equals_finite_differences():
    """The trainer's ``ma_gp`` term on a tiny DF-GAN discriminator against central differences of D's output in
    every pixel and sentence entry, the sentence's taken with respect to the scaled vector D reads (D is piecewise
    linear, so they are exact up to float32 rounding); the image
    and the sentence each carry a real share of the gradient, so leaving either out fails."""
    rng = np.random.default_rng(1)
    d = _tiny_df_discriminator(rng)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    e = rng.standard_normal((2, 3)).astype("float32")

    def D(img, emb):
        return ops.convert_to_numpy(d([img, emb]))[:, 0].astype("float64")

    h = 1e-2
    grads = []
    for i in range(2):
        flat = np.concatenate([x[i].ravel(), e[i]])
        eye = h * np.eye(flat.size, dtype="float32")
        plus, minus = flat + eye, flat - eye
        split = lambda v: (v[:, :-3].reshape(-1, 32, 32, 3), v[:, -3:])  # noqa: E731
        grads.append((D(*split(plus)) - D(*split(minus))) / (2 * h))
    grads = np.stack(grads)
    grads[:, -3:] /= d.sentence_scale  # with respect to the sentence as D reads it, 0.1 x the embedding here
    expected = 2.0 * np.sum(grads ** 2, axis=1) ** 3
    sentence_share = np.sum(grads[:, -3:] ** 2, axis=1) / np.sum(grads ** 2, axis=1)
    assert ((0.2 < sentence_share) & (sentence_share < 0.9)).all(), sentence_share  # both parts count

    class Fixed(t2i.DFGAN):  # the embeddings as given, not from the text encoder
        def unpack(self, data):
            return ops.convert_to_tensor(data[0]), {"embedding": ops.convert_to_tensor(data[1]),
                                                    "groups": ops.convert_to_tensor(np.arange(2, dtype="int32"))}

    gan = Fixed(t2i.DFGANGenerator(vocab_size=12, max_length=6, word_dim=4, filters=4, embedding_dim=3,
                                   noise_dim=2, width=1, image_size=32), d)
    real, cond = gan.unpack((x, e))
    terms = gan.discriminator_extra_losses(real, cond, None, None)
    np.testing.assert_allclose(ops.convert_to_numpy(terms["ma_gp"]), expected, rtol=2e-2)


def test_dfgan_discriminator_terms_by_hand():
    """d_loss = relu(1 - D(x, e)) + 0.5 relu(1 + D(G(z, e), e)); d_wrong = 0.5 relu(1 + D(x, e_prev)) where the
    previous example's group differs (DF-GAN's errD_real + (errD_fake + errD_mis) / 2); G: -D(G(z, e), e)."""
    gan = df_gan()
    gan.compile()
    assert (gan.d_loss_fn, gan.g_loss_fn) == DFGAN_LOSS
    x, ids, groups = batch()
    real, cond = gan.unpack((x, ids, groups))
    fake = ops.convert_to_numpy(gan.generate(real, cond, training=False))
    terms, logs = gan.discriminator_loss(real, cond, gan.fakes(real, cond, fake, "d"), training=False)
    e = ops.convert_to_numpy(cond["embedding"])
    d = gan.discriminator

    def D(img, emb):
        return ops.convert_to_numpy(d([img, emb]))[:, 0]

    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    np.testing.assert_allclose(ops.convert_to_numpy(terms["d_loss"]), relu(1 - D(x, e)) + 0.5 * relu(1 + D(fake, e)),
                               rtol=1e-4, atol=1e-5)
    mismatched = np.array([True, False, True, True])  # groups [0, 0, 1, 2]: example 1 rolls onto its own group
    np.testing.assert_allclose(ops.convert_to_numpy(terms["d_wrong"]),
                               0.5 * relu(1 + D(x, np.roll(e, 1, axis=0))) * mismatched, rtol=1e-4, atol=1e-5)
    assert set(terms) == {"d_loss", "d_wrong", "ma_gp"} and np.all(ops.convert_to_numpy(terms["ma_gp"]) >= 0)
    assert set(logs) == {"d_real", "d_fake"}
    g_terms, _ = gan.generator_loss(real, cond, ops.convert_to_tensor(fake), training=False)
    np.testing.assert_allclose(ops.convert_to_numpy(g_terms["adversarial"]), -D(fake, e), rtol=1e-4, atol=1e-5)


def test_dfgan_fit_changes_g_and_d_not_the_encoder_and_the_sentence_starts_to_matter():
    keras.utils.set_random_seed(0)
    gan = df_gan(ema_decay=0.999)
    gan.compile(run_eagerly=True)  # two steps: tracing the step would cost more than running it
    g = gan.generator
    assert {id(v) for v in gan._g_variables}.isdisjoint({id(v) for v in g.text_encoder.weights})
    before = {n: [w.copy() for w in net.get_weights()]
              for n, net in (("encoder", g.text_encoder), ("g", g.image_network), ("d", gan.discriminator))}
    x, ids, groups = batch()
    hist = gan.fit((x, ids, groups), epochs=2, batch_size=4, verbose=0).history
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_wrong", "ma_gp"} <= set(hist)
    assert all(np.isfinite(v).all() for v in hist.values())
    for a, b in zip(before["encoder"], g.text_encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    for n, net in (("g", g.image_network), ("d", gan.discriminator)):
        assert any(not np.allclose(a, b) for a, b in zip(before[n], net.get_weights())), n
    # the affine MLPs' last layers (zero at first) moved: the same noise with two sentences now differs
    z = np.zeros((2, 4), "float32")
    e = ops.convert_to_numpy(g.text_encoder(ids[:2]))
    out = ops.convert_to_numpy(g.image_network([z, e]))
    assert np.abs(out[0] - out[1]).max() > 1e-6


def test_sentence_contrastive_by_hand():
    from zoo.apps.text2image.trainer import sentence_contrastive

    rng = np.random.default_rng(0)
    u, v = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in rng.normal(size=(2, 5, 3)))
    groups = np.array([0, 1, 0, 2, 1], "int32")
    got = ops.convert_to_numpy(sentence_contrastive(u, v, groups, scale=7.0))
    s = 7.0 * u @ v.T
    same = (groups[:, None] == groups[None]).astype(float)

    def ce(scores):  # each row's cross-entropy against its group's columns, equally weighted
        logp = scores - np.log(np.exp(scores).sum(1, keepdims=True))
        return -(same / same.sum(1, keepdims=True) * logp).sum(1)

    np.testing.assert_allclose(got, ce(s) + ce(s.T), rtol=1e-5)
    # the encoders' training loss is its mean
    joint = t2i.JointEmbedding(t2i.TextEncoder(12, 6, word_dim=8, filters=8, embedding_dim=3),
                               t2i.ImageEncoder(outputs=3, widths=(4, 4, 4, 4)), scale=7.0)
    loss = joint.compute_loss(x=(None, None, groups), y_pred=(u.astype("float32"), v.astype("float32")))
    np.testing.assert_allclose(float(loss), (ce(s) + ce(s.T)).mean(), rtol=1e-5)
    # class-aware text: plus class_weight x each caption's cross-entropy against the unit class prototypes
    joint = t2i.JointEmbedding(joint.text_encoder, joint.image_encoder, scale=7.0, classes=3, class_weight=0.5)
    p = ops.convert_to_numpy(joint.prototypes)
    p = 7.0 * v @ (p / np.linalg.norm(p, axis=1, keepdims=True)).T
    class_ce = -(p - np.log(np.exp(p).sum(1, keepdims=True)))[np.arange(5), groups]
    loss = joint.compute_loss(x=(None, None, groups), y_pred=(u.astype("float32"), v.astype("float32")))
    np.testing.assert_allclose(float(loss), (ce(s) + ce(s.T)).mean() + 0.5 * class_ce.mean(), rtol=1e-5)


def test_the_damsm_term_reaches_g_through_a_frozen_image_encoder():
    keras.utils.set_random_seed(0)
    with pytest.raises(ValueError, match="image_encoder"):
        df_gan(contrastive_weight=1.0)
    image_encoder = t2i.ImageEncoder(outputs=8, widths=(4, 4, 4, 4))
    x, ids, groups = batch()
    for weight in (0.0, 2.0):
        keras.utils.set_random_seed(0)
        gan = df_gan(image_encoder=image_encoder, contrastive_weight=weight)
        gan.compile(run_eagerly=True)
        real, condition = gan.unpack((x, ids, groups))
        images = gan.generate(real, condition)
        terms, _ = gan.generator_loss(real, condition, images)
        if not weight:
            assert "contrastive" not in terms
            continue
        e = ops.convert_to_numpy(condition["embedding"])
        u = ops.convert_to_numpy(image_encoder(images))
        from zoo.apps.text2image.trainer import sentence_contrastive

        np.testing.assert_allclose(ops.convert_to_numpy(terms["contrastive"]),
                                   2.0 * ops.convert_to_numpy(sentence_contrastive(u, e, groups)), rtol=1e-5)
        before = [w.copy() for w in image_encoder.get_weights()]
        hist = gan.fit((x, ids, groups), epochs=1, batch_size=4, verbose=0).history
        assert np.isfinite(hist["contrastive"]).all()
        for a, b in zip(before, image_encoder.get_weights()):
            np.testing.assert_array_equal(a, b)  # frozen: only G learns from it
    # a 128-px generator's images are pooled to the encoder's 64 px
    gan = df_gan(image_size=128, image_encoder=image_encoder, contrastive_weight=1.0)
    gan.compile()
    x128 = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    real, condition = gan.unpack((x128, ids, groups))
    assert ops.convert_to_numpy(gan.generator_loss(real, condition, gan.generate(real, condition))[0][
        "contrastive"]).shape == (4,)


def test_dfgan_generator_round_trips_and_keeps_the_verbs(tmp_path):
    rng = np.random.default_rng(0)
    g = t2i.DFGANGenerator(image_size=64, **DF_G)
    for a in (l for l in g.image_network.layers if isinstance(l, Affine)):
        _randomise(a.gamma2, rng, 0.1)
    z = rng.standard_normal((2, 4)).astype("float32")
    ids = np.array([[3, 4, 5, 0, 0, 0], [6, 7, 0, 0, 0, 0]], "int32")
    out = ops.convert_to_numpy(g([z, ids]))
    twin = t2i.DFGANGenerator.from_config(g.get_config())
    assert twin.get_config() == g.get_config()
    g.save_weights(tmp_path / "g.weights.h5")
    twin.load_weights(tmp_path / "g.weights.h5")
    np.testing.assert_array_equal(ops.convert_to_numpy(twin([z, ids])), out)
    np.testing.assert_array_equal(ops.convert_to_numpy(g.clone()([z, ids])), out)
    d = _tiny_df_discriminator(rng)
    d2 = t2i.DFDiscriminator.from_config(d.get_config())
    d.save_weights(tmp_path / "d.weights.h5")
    d2.load_weights(tmp_path / "d.weights.h5")
    xs, es = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32"), rng.standard_normal((2, 3)).astype("float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(d2([xs, es])), ops.convert_to_numpy(d([xs, es])))
    g.vocabulary = tiny_vocab()
    a = g.generate(["a red flower", "a purple flower"], seed=0)
    assert a.shape == (2, 64, 64, 3) and a.dtype == np.uint8 and not np.array_equal(a[0], a[1])
    assert g.interpolate("a red flower", "a purple flower", steps=3).shape == (3, 64, 64, 3)


def test_dfgan_presets_are_declared_without_weights_and_build():
    for name, size in (("flowers_dfgan_64", 64), ("flowers_dfgan_128", 128)):
        preset = t2i.CONFIGS[name]
        assert not preset.trained and preset.trainer is t2i.DFGAN and preset.config["image_size"] == size
        assert "text2image/" + name not in weights.presets()
        with pytest.raises(ValueError, match="without trained weights yet"):
            t2i.pretrained(name)
    gan = t2i.build("flowers_dfgan_64", seed=0)
    assert isinstance(gan, t2i.DFGAN) and isinstance(gan.discriminator, t2i.DFDiscriminator)
    assert gan.generator.image_network.count_params() == 1_745_027  # width 16
    assert gan.discriminator.count_params() == 897_700


def test_recipe_picks_the_preset_from_arch_and_size():
    script = os.path.join(ROOT, "apps", "text2image", "train.py")
    r = subprocess.run([sys.executable, script, "--run", "x", "--arch", "gan-cls", "--image-size", "128"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "use --arch dfgan" in r.stderr
    r = subprocess.run([sys.executable, script, "--run", "x", "--arch", "dfgan", "--preset", "flowers_64"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not both" in r.stderr
    sys.path.insert(0, os.path.dirname(script))
    try:
        import train
    finally:
        sys.path.pop(0)
    assert train.ARCHS["dfgan"](128) == "flowers_dfgan_128" and train.ARCHS["gan-cls"](64) == "flowers_64"
