"""zoo.data: file listing and reading, tf.data pipelines (folders, pairs, side-by-side, unpaired), TFDS offline."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers import app_script, coords, locate, save, to_u8
from zoo import data
from zoo.apps.srgan import data as sr_data

tf = pytest.importorskip("tensorflow")
tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture()
def mixed(tmp_path):
    """Five files of different sizes and modes, some nested, plus files that are not images."""
    rng = np.random.default_rng(0)
    d = tmp_path / "mixed"
    save(d / "a.png", rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    save(d / "sub" / "b.JPG", rng.integers(0, 256, (30, 20), dtype=np.uint8))
    save(d / "sub" / "deeper" / "c.png", rng.integers(0, 256, (64, 64, 4), dtype=np.uint8))
    save(d / "d.bmp", rng.integers(0, 256, (17, 33, 3), dtype=np.uint8))
    pal = Image.fromarray(rng.integers(0, 256, (25, 25, 3), dtype=np.uint8)).convert("P")
    pal.save(d / "e.gif")
    (d / "notes.txt").write_text("not an image")
    (d / ".hidden.png").write_bytes(b"junk")
    return d


# ------------------------------------------------------------------------------------------ import


def test_import_does_not_need_tensorflow():
    """zoo.data and zoo.images import neither TensorFlow nor Keras (zoo/__init__ is bypassed: it imports Keras)."""
    import zoo
    code = ("import sys, types; pkg = types.ModuleType('zoo'); pkg.__path__ = [sys.argv[1]]; "
            "sys.modules['zoo'] = pkg; import zoo.data, zoo.images; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_datasets', 'keras')]; "
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code, os.path.dirname(zoo.__file__)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


# ------------------------------------------------------------------------------------- files, reading


def test_list_images_recursive_sorted(mixed):
    files = data.list_images(mixed)
    rel = [os.path.relpath(f, mixed) for f in files]
    assert rel == sorted(rel) == ["a.png", "d.bmp", "e.gif", os.path.join("sub", "b.JPG"),
                                  os.path.join("sub", "deeper", "c.png")]


def test_list_images_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_folder"):
        data.list_images(tmp_path / "missing_folder")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "readme.md").write_text("x")
    with pytest.raises(ValueError, match="no image files.*only"):
        data.list_images(tmp_path / "only")
    with pytest.raises(NotADirectoryError, match="readme.md"):
        data.list_images(tmp_path / "only" / "readme.md")


def test_read_image_modes(tmp_path):
    rgb = coords(12, 10)
    grey = save(tmp_path / "g.png", rgb[..., 0])
    a = data.read_image(grey)
    assert a.shape == (12, 10, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a[..., 2], rgb[..., 0])

    colour = save(tmp_path / "c.png", rgb)
    lum = data.read_image(colour, channels=1)
    assert lum.shape == (12, 10, 1)
    expected = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(lum[..., 0].astype(int) - expected).max() <= 1

    rgba = np.dstack([rgb, np.full((12, 10), 7, np.uint8)])
    path = save(tmp_path / "a.png", rgba)
    np.testing.assert_array_equal(data.read_image(path), rgb)  # alpha dropped
    np.testing.assert_array_equal(data.read_image(path, channels=4), rgba)
    assert (data.read_image(colour, channels=4)[..., 3] == 255).all()

    sixteen = save(tmp_path / "s.png", (rgb[..., 0].astype(np.uint16) * 257))
    np.testing.assert_array_equal(data.read_image(sixteen, channels=1)[..., 0], rgb[..., 0])

    pal = tmp_path / "p.gif"
    Image.fromarray(rgb).convert("P").save(pal)
    assert data.read_image(pal).shape == (12, 10, 3)

    assert data.read_image(colour, image_size=(6, 20)).shape == (6, 20, 3)
    cover = data.read_image(save(tmp_path / "wide.png", coords(10, 40)), image_size=10, fit="cover")
    assert cover.shape == (10, 10, 3)
    assert abs(int(cover[5, 5, 1]) - 6 * 20) <= 12  # centre of the wide image kept


def test_read_image_errors(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ValueError, match="broken.png"):
        data.read_image(bad)
    with pytest.raises(FileNotFoundError, match="gone.png"):
        data.read_image(tmp_path / "gone.png")
    good = save(tmp_path / "ok.png", coords(4, 4))
    with pytest.raises(ValueError, match="channels"):
        data.read_image(good, channels=2)
    with pytest.raises(ValueError, match="fit"):
        data.read_image(good, image_size=2, fit="squash")


# ------------------------------------------------------------------------------------------ crops


def test_random_crop_flip_eager():
    img = coords(20, 30)
    seen = set()
    for s in range(12):
        out = data.random_crop_flip(tf.constant(img), crop=(8, 10), flip=True, seed=tf.constant([s, 0]))
        assert out.shape == (8, 10, 3)
        seen.add(locate(out.numpy(), img))
    assert {f for *_, f in seen} == {True, False}
    assert len({(t, l) for t, l, _ in seen}) > 3
    again = data.random_crop_flip(tf.constant(img), crop=(8, 10), flip=True, seed=tf.constant([3, 0]))
    first = data.random_crop_flip(tf.constant(img), crop=(8, 10), flip=True, seed=tf.constant([3, 0]))
    np.testing.assert_array_equal(again, first)


def test_random_crop_flip_scaled_pair_and_errors():
    lr = coords(10, 12)
    hr = np.repeat(np.repeat(lr, 3, 0), 3, 1)
    for s in range(6):
        a, b = data.random_crop_flip(lr, hr, crop=4, flip=True, seed=[s, 1], scales=(1, 3))
        assert a.shape == (4, 4, 3) and b.shape == (12, 12, 3)
        np.testing.assert_array_equal(np.repeat(np.repeat(a.numpy(), 3, 0), 3, 1), b.numpy())
        locate(a.numpy(), lr)
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller than the crop"):
        data.random_crop_flip(lr, crop=11)
    with pytest.raises(tf.errors.InvalidArgumentError, match="differ in size"):
        data.random_crop_flip(lr, hr, crop=4)
    with pytest.raises(ValueError, match="scales"):
        data.random_crop_flip(lr, hr, crop=4, scales=(1,))


# ------------------------------------------------------------------------------------------ image_folder


def test_image_folder_mixed_files(mixed):
    ds = data.image_folder(mixed, image_size=16, batch_size=2, drop_remainder=False, seed=0)
    batches = [b.numpy() for b in ds]
    assert [b.shape for b in batches] == [(2, 16, 16, 3), (2, 16, 16, 3), (1, 16, 16, 3)]
    assert all(b.dtype == np.float32 and b.min() >= -1 and b.max() <= 1 for b in batches)
    assert ds.element_spec.shape.as_list() == [None, 16, 16, 3]
    in_order = np.concatenate(list(data.image_folder(mixed, image_size=16, batch_size=5, shuffle=False)))
    for x, f in zip(in_order, data.list_images(mixed)):  # each file decoded and resized by Pillow
        np.testing.assert_array_equal(to_u8(x), data.read_image(f, image_size=16))
    np.testing.assert_allclose(np.sort(np.concatenate(batches).ravel()), np.sort(in_order.ravel()))

    dropped = list(data.image_folder(mixed, image_size=(12, 8), crop=(6, 5), channels=1, batch_size=2, flip=True))
    assert [b.shape for b in dropped] == [(2, 6, 5, 1), (2, 6, 5, 1)]


def test_image_folder_order_shuffle_repeat_seed(tmp_path):
    d = tmp_path / "flat"
    for i in range(6):
        save(d / f"{i}.png", np.full((5, 7, 3), 40 * i, np.uint8))
    ids = lambda ds: [int(round((v + 1) * 127.5 / 40)) for b in ds for v in b.numpy()[:, 0, 0, 0]]  # noqa: E731

    assert ids(data.image_folder(d, batch_size=3, shuffle=False)) == [0, 1, 2, 3, 4, 5]
    ds = data.image_folder(d, batch_size=3, seed=7)
    epoch1, epoch2 = ids(ds), ids(ds)
    assert sorted(epoch1) == sorted(epoch2) == list(range(6))
    assert epoch1 == ids(data.image_folder(d, batch_size=3, seed=7))  # reproducible
    rep = data.image_folder(d, batch_size=4, seed=1, repeat=True).take(6)
    got = ids(rep)
    assert len(got) == 24 and all(got.count(i) == 4 for i in range(6))


def test_image_folder_labels(tmp_path):
    d = tmp_path / "classes"
    for c, value in (("cat", 10), ("dog", 200)):
        for i in range(3):
            save(d / c / f"{i}.png", np.full((6, 6), value, np.uint8))
    ds = data.image_folder(d, batch_size=6, labels=True, seed=0)
    assert ds.class_names == ["cat", "dog"]
    x, y = next(iter(ds))
    assert x.shape == (6, 6, 6, 3) and y.dtype == tf.int32
    for img, label in zip(x.numpy(), y.numpy()):
        assert to_u8(img[0, 0, 0]) == (10, 200)[label]
    save(d / "loose.png", np.zeros((6, 6), np.uint8))
    with pytest.raises(ValueError, match="loose.png"):
        data.image_folder(d, labels=True)


def test_image_folder_errors_name_the_file(mixed, tmp_path):
    (mixed / "sub" / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\ngarbage")
    ds = data.image_folder(mixed, image_size=8, batch_size=2, shuffle=False, drop_remainder=False)
    with pytest.warns(UserWarning, match="skipping an unreadable training image .*zz_broken.png"):
        for _ in ds:
            pass
    small = tmp_path / "small"
    save(small / "tiny.png", coords(5, 5))
    with pytest.raises(Exception, match="tiny.png.*smaller than the crop"):
        next(iter(data.image_folder(small, crop=8, batch_size=1)))
    with pytest.raises(ValueError, match="fewer than batch_size"):
        data.image_folder(small, batch_size=4)
    with pytest.raises(FileNotFoundError):
        data.image_folder(tmp_path / "nope")


# ------------------------------------------------------------------------------------------ pairs


def test_paired_folders_alignment(tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    originals = {}
    for i in range(4):
        img = np.roll(coords(20, 24), 0, 0)
        img[..., 2] = 50 * i  # tells the pairs apart
        originals[i] = img
        save(a_dir / f"{i}.png", img)
        save(b_dir / f"{i}.bmp", 255 - img)
    ds = data.paired_folders(a_dir, b_dir, crop=(8, 9), flip=True, batch_size=2, seed=3, repeat=True)
    positions = set()
    for a, b in ds.take(8):
        assert a.shape == b.shape == (2, 8, 9, 3)
        np.testing.assert_allclose(b.numpy(), -a.numpy(), atol=1e-6)  # same crop, same flip
        for img in to_u8(a):
            positions.add(locate(img, originals[int(img[0, 0, 2]) // 50]))
    assert {f for *_, f in positions} == {True, False} and len(positions) > 4


def test_paired_folders_scale_and_resize(tmp_path):
    lr = coords(10, 12)
    save(tmp_path / "lr" / "x.png", lr)
    save(tmp_path / "hr" / "x.png", np.repeat(np.repeat(lr, 2, 0), 2, 1))
    for s in range(3):
        a, b = next(iter(data.paired_folders(tmp_path / "lr", tmp_path / "hr", crop=4, scale=2, batch_size=1,
                                             flip=True, seed=s)))
        assert a.shape == (1, 4, 4, 3) and b.shape == (1, 8, 8, 3)
        np.testing.assert_array_equal(np.repeat(np.repeat(to_u8(a[0]), 2, 0), 2, 1), to_u8(b[0]))
    a, b = next(iter(data.paired_folders(tmp_path / "lr", tmp_path / "hr", image_size=6, scale=2, batch_size=1)))
    assert a.shape == (1, 6, 6, 3) and b.shape == (1, 12, 12, 3)
    with pytest.raises(Exception, match="x.png.*do not align"):
        next(iter(data.paired_folders(tmp_path / "lr", tmp_path / "hr", batch_size=1)))


def test_paired_folders_unmatched_names(tmp_path):
    for name in ("one", "two", "three"):
        save(tmp_path / "a" / f"{name}.png", coords(4, 4))
    for name in ("one", "four"):
        save(tmp_path / "b" / f"{name}.jpg", coords(4, 4))
    with pytest.raises(ValueError, match=r"2 in .*a without a partner.*three, two.*1 in .*b without.*four"):
        data.paired_folders(tmp_path / "a", tmp_path / "b")
    save(tmp_path / "b" / "one.png", coords(4, 4))
    with pytest.raises(ValueError, match="share the name"):
        data.paired_folders(tmp_path / "a", tmp_path / "b")


def test_side_by_side_directions_and_alignment(tmp_path):
    left = coords(16, 20)
    right = 255 - left
    save(tmp_path / "ab" / "1_AB.png", np.concatenate([left, right], 1))
    save(tmp_path / "ab" / "2_AB.png", np.concatenate([left, right, right[:, :1]], 1))  # odd width
    a, b = next(iter(data.side_by_side(tmp_path / "ab", batch_size=2)))
    np.testing.assert_array_equal(to_u8(a), np.stack([left, left]))
    np.testing.assert_array_equal(to_u8(b), np.stack([right, right]))

    ds = data.side_by_side(tmp_path / "ab", direction="BtoA", crop=(7, 6), flip=True, batch_size=2, seed=0,
                           repeat=True)
    flips = set()
    for x, y in ds.take(6):
        assert x.shape == y.shape == (2, 7, 6, 3)
        np.testing.assert_allclose(x.numpy(), -y.numpy(), atol=1e-6)  # x is B (right), y is A (left)
        assert (to_u8(x)[..., 0] % 6 == 3).all() and (to_u8(y)[..., 0] % 6 == 0).all()
        flips.update(locate(img, left)[2] for img in to_u8(y))
    assert flips == {True, False}

    x, y = next(iter(data.side_by_side(tmp_path / "ab", image_size=8, batch_size=2, direction="BtoA")))
    assert x.shape == (2, 8, 8, 3)
    np.testing.assert_allclose(x.numpy(), -y.numpy(), atol=2 / 127.5)
    with pytest.raises(ValueError, match="direction"):
        data.side_by_side(tmp_path / "ab", direction="left")


def test_unpaired(tmp_path):
    for i in range(3):
        save(tmp_path / "red" / f"{i}.png", np.full((9, 9, 3), (200, 10 * i, 0), np.uint8))
    for i in range(5):
        save(tmp_path / "blue" / f"{i}.jpg", np.full((12, 7, 3), (0, 0, 250), np.uint8))
    ds = data.unpaired(tmp_path / "red", tmp_path / "blue", image_size=8, crop=6, flip=True, batch_size=2,
                       drop_remainder=False, seed=0)
    batches = list(ds)
    assert [a.shape[0] for a, _ in batches] == [2, 2, 1]  # an epoch = the larger folder
    a = np.concatenate([x for x, _ in batches])
    b = np.concatenate([y for _, y in batches])
    assert a.shape == (5, 6, 6, 3) and b.shape == (5, 6, 6, 3)
    assert (to_u8(a)[..., 0] >= 195).all() and (to_u8(b)[..., 2] >= 245).all()
    greens = sorted(set(int(g) for g in np.round(to_u8(a)[:, 0, 0, 1] / 10)))
    assert greens == [0, 1, 2]  # the smaller domain cycles through all its images
    rep = data.unpaired(tmp_path / "red", tmp_path / "blue", image_size=8, batch_size=4, repeat=True).take(5)
    assert sum(1 for _ in rep) == 5


# ------------------------------------------------------------------------------------------ TFDS


class ZooTinyShapes(tfds.core.GeneratorBasedBuilder):
    """A 9-image TFDS data set built locally: grey 12x10 images of value 40*i, label i % 3."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(12, 10, 1)),
            "label": tfds.features.ClassLabel(num_classes=3)}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(6), "test": self._generate_examples(3)}

    def _generate_examples(self, n):
        for i in range(n):
            yield i, {"image": np.full((12, 10, 1), 40 * i, np.uint8), "label": i % 3}


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tfds")
    tfds.builder("zoo_tiny_shapes", data_dir=d).download_and_prepare()
    return d


def test_tfds_adapter_offline(tfds_dir):
    ds = data.tfds_images("zoo_tiny_shapes", data_dir=tfds_dir, download=False, label_key="label",
                          image_size=8, batch_size=4, drop_remainder=False, seed=0)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    assert [x.shape for x in xs] == [(4, 8, 8, 3), (2, 8, 8, 3)]
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1 and y.dtype == np.int32
    index = np.round(to_u8(x[:, 0, 0, 0]) / 40).astype(int)
    assert sorted(index) == list(range(6))
    np.testing.assert_array_equal(y, index % 3)  # labels stay with their images
    np.testing.assert_allclose(x[..., 0], x[..., 2])  # grey repeated to RGB


def test_tfds_adapter_builder_crop_and_errors(tfds_dir, tmp_path):
    builder = tfds.builder("zoo_tiny_shapes", data_dir=tfds_dir)
    x = next(iter(data.tfds_images(builder, split="test", channels=1, crop=(5, 4), flip=True, batch_size=3)))
    assert x.shape == (3, 5, 4, 1)
    x = next(iter(data.tfds_images(builder, split="train[:4]", image_size=(4, 8), fit="cover", batch_size=4)))
    assert x.shape == (4, 4, 8, 3)
    np.testing.assert_allclose(np.ptp(x.numpy(), axis=(1, 2, 3)), 0, atol=1e-5)  # constant images stay constant
    with pytest.raises(FileNotFoundError, match="not prepared"):
        data.tfds_images("zoo_tiny_shapes", data_dir=tmp_path / "empty", download=False)
    with pytest.raises(KeyError, match="no feature 'photo'"):
        data.tfds_images("zoo_tiny_shapes", data_dir=tfds_dir, download=False, image_key="photo")
    with pytest.raises(ValueError, match="no split 'validation'"):
        data.tfds_images("zoo_tiny_shapes", data_dir=tfds_dir, download=False, split="validation")


def test_tfds_download_true_prepares_locally(tmp_path):
    x = next(iter(data.tfds_images("zoo_tiny_shapes", split="test", data_dir=tmp_path, batch_size=3,
                                   shuffle=False)))
    assert x.shape == (3, 12, 10, 3)
    assert os.path.exists(tmp_path / "zoo_tiny_shapes" / "1.0.0" / "dataset_info.json")


# ------------------------------------------------------------------------------------------ shared data


def shared(root, *parts):
    path = os.path.join(root, *parts)
    if not os.path.isdir(path):
        pytest.skip(f"{path} not available")
    return path


def test_shared_edges2shoes_photo_left_edges_right(shared_data):
    folder = shared(shared_data, "edges2shoes_handbags", "val")
    edges, photo = next(iter(data.side_by_side(folder, direction="BtoA", image_size=64, batch_size=2,
                                               shuffle=False)))
    assert edges.shape == photo.shape == (2, 64, 64, 3)
    e = edges.numpy()
    assert (e > 0.9).mean() > 0.6  # edge drawings: mostly white paper
    assert float(tf.math.reduce_std(edges)) != float(tf.math.reduce_std(photo))


def test_shared_faces_grey(shared_data):
    folder = shared(shared_data, "faces_orl")
    files = data.list_images(folder)
    assert len(files) >= 350
    img = data.read_image(files[0], channels=1)
    assert img.shape == (112, 92, 1)


# ------------------------------------------------------------------------------------------ super-resolution


def test_bicubic_downscale_is_matlab_imresize():
    """The same kernel as tf.image.resize(bicubic, antialias) away from the edges, MATLAB's mirrored edges."""
    rng = np.random.default_rng(0)
    img = rng.random((40, 36, 3))
    ours = sr_data.bicubic_downscale(img, 4)
    assert ours.shape == (10, 9, 3) and ours.dtype == np.float64
    tf_plain = tf.image.resize(img, (10, 9), "bicubic", antialias=True).numpy()
    np.testing.assert_allclose(ours[2:-2, 2:-2], tf_plain[2:-2, 2:-2], atol=1e-5)  # kernel
    padded = tf.pad(img, [[8, 8], [8, 8], [0, 0]], mode="SYMMETRIC")  # MATLAB pads by mirroring the edge
    np.testing.assert_allclose(ours, tf.image.resize(padded, (14, 13), "bicubic", antialias=True)[2:-2, 2:-2],
                               atol=1e-5)
    assert np.abs(ours[:2] - tf_plain[:2]).max() > 1e-3  # TF alone renormalises at the edge instead

    u8 = rng.integers(0, 256, (2, 24, 20, 3), dtype=np.uint8)  # a batch; uint8 rounds after each pass
    small = sr_data.bicubic_downscale(u8, 4)
    assert small.shape == (2, 6, 5, 3) and small.dtype == np.uint8
    exact = sr_data.bicubic_downscale(u8.astype(np.float64), 4)
    assert np.abs(small - exact).max() <= 1.5
    np.testing.assert_array_equal(sr_data.bicubic_downscale(np.full((8, 12), 77, np.uint8), 4), 77)
    assert sr_data.bicubic_downscale(np.zeros((10, 9, 1), np.uint8), 4).shape == (3, 3, 1)  # ceil, as MATLAB
    with pytest.raises(ValueError, match="uint8 or float"):
        sr_data.bicubic_downscale(np.zeros((8, 8), np.int32), 4)
    with pytest.raises(ValueError, match="scale"):
        sr_data.bicubic_downscale(img, 2.5)


def sr_folder(root, sizes, colours=None):
    """HR images made with ``coords`` (pixels say where they are), blue channel = 40 * index."""
    paths = []
    for i, (h, w) in enumerate(sizes):
        img = coords(h, w)
        img[..., 2] = 40 * i if colours is None else colours[i]
        paths.append(save(os.path.join(root, "sub" if i % 2 else "", f"{i}.png"), img))
    return paths


def transforms8(img):
    """The 8 flips / rotations of ``img`` (H, W, C)."""
    return [np.rot90(f, k) for f in (img, img[:, ::-1]) for k in range(4)]


def find_dihedral(window, original):
    """Index of the flip/rotation taking ``window`` back to a crop of ``original`` (pixels match exactly)."""
    for i, t in enumerate(transforms8(window)):
        top, left = int(t[0, 0, 0]) // 6, int(t[0, 0, 1]) // 6
        h, w = t.shape[:2]
        piece = original[top:top + h, left:left + w]
        if piece.shape == t.shape and np.array_equal(piece, t):
            return i
    raise AssertionError("window is no flip/rotation of a crop of the original")


def test_sr_pairs_folder_shapes_ranges_pairing(tmp_path):
    sr_folder(tmp_path / "hr", [(40, 42), (32, 36), (36, 40)])
    originals = [data.read_image(tmp_path / "hr" / p) for p in ("0.png", os.path.join("sub", "1.png"), "2.png")]
    ds = sr_data.sr_pairs(tmp_path / "hr", scale=4, hr_crop=16, batch_size=3, seed=0, repeat=True)
    assert ds.element_spec[0].shape.as_list() == [3, 4, 4, 3] and ds.element_spec[1].shape.as_list() == [3, 16, 16, 3]
    seen = set()
    for lr, hr in ds.take(6):
        assert lr.dtype == hr.dtype == tf.float32
        assert lr.numpy().min() >= -1 and lr.numpy().max() <= 1 and hr.numpy().min() >= -1 and hr.numpy().max() <= 1
        lr8, hr8 = to_u8(lr), to_u8(hr)
        np.testing.assert_allclose(lr.numpy(), lr8 / 127.5 - 1, atol=1e-6)  # LR on 8-bit levels, like a file
        diff = np.abs(sr_data.bicubic_downscale(hr8, 4).astype(int) - lr8)
        assert diff.max() <= 1 and (diff == 0).mean() > 0.99  # LR = MATLAB bicubic of this very HR crop
        for img in hr8:
            seen.add(find_dihedral(img, originals[int(round(img[..., 2].max() / 40))]))
    assert len(seen) >= 5  # flips and rotations happen

    lr, hr = next(iter(sr_data.sr_pairs(tmp_path / "hr", scale=2, hr_crop=8, channels=1, batch_size=2, augment=False,
                                     cache=True, seed=1)))
    assert lr.shape == (2, 4, 4, 1) and hr.shape == (2, 8, 8, 1)
    ids = lambda ds: [int(round(v)) for _, b in ds for v in to_u8(b)[:, 0, 0, 2] / 40]  # noqa: E731
    plain = sr_data.sr_pairs(tmp_path / "hr", hr_crop=8, batch_size=1, shuffle=False, augment=False)
    assert ids(plain) == [0, 2, 1]  # sorted by path: 0.png, 2.png, sub/1.png
    once = sr_data.sr_pairs(tmp_path / "hr", hr_crop=8, batch_size=2, drop_remainder=False, seed=3)
    assert sorted(ids(once)) == [0, 1, 2]


def test_sr_pairs_augment_keeps_pairs_aligned(tmp_path):
    """Four flat 16x16 quadrants: each LR corner (2x2, the kernel stays inside one quadrant) keeps its colour."""
    colours = np.array([[250, 0, 0], [0, 250, 0], [0, 0, 250], [200, 200, 200]], np.uint8)
    hr = np.zeros((32, 32, 3), np.uint8)
    for q, (r, c) in enumerate([(0, 0), (0, 16), (16, 0), (16, 16)]):
        hr[r:r + 16, c:c + 16] = colours[q]
    save(tmp_path / "quad" / "q.png", hr)
    arrangements = set()
    for lr, hr_out in sr_data.sr_pairs(tmp_path / "quad", hr_crop=32, batch_size=1, seed=5, repeat=True).take(40):
        lr8, hr8 = to_u8(lr[0]), to_u8(hr_out[0])
        corners = tuple(tuple(hr8[r, c]) for r, c in ((0, 0), (0, -1), (-1, 0), (-1, -1)))
        for (r, c), colour in zip(((0, 0), (0, 6), (6, 0), (6, 6)), corners):
            np.testing.assert_array_equal(lr8[r:r + 2, c:c + 2], np.broadcast_to(colour, (2, 2, 3)))
        arrangements.add(corners)
    assert len(arrangements) == 8  # all 8 flips/rotations, LR always following its HR


def test_sr_pairs_argument_errors(tmp_path):
    sr_folder(tmp_path / "hr", [(20, 20)])
    with pytest.raises(ValueError, match=r"hr_crop=90 is not divisible by scale=4.*use 88 or 92"):
        sr_data.sr_pairs(tmp_path / "hr", hr_crop=90)
    with pytest.raises(ValueError, match="hr_crop must be a positive integer"):
        sr_data.sr_pairs(tmp_path / "hr", hr_crop=(16, 16))
    with pytest.raises(ValueError, match="small"):
        sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, small="pad")
    with pytest.raises(ValueError, match="scale"):
        sr_data.sr_pairs(tmp_path / "hr", scale=0, hr_crop=16)
    with pytest.raises(ValueError, match="fewer than batch_size"):
        sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=4)
    with pytest.raises(FileNotFoundError, match="neither an image folder nor a TFDS"):
        sr_data.sr_pairs(tmp_path / "no_such_folder", hr_crop=16)


def test_sr_pairs_small_images_skipped_or_upscaled(tmp_path):
    sr_folder(tmp_path / "hr", [(20, 24), (12, 40), (24, 20)])  # 1 (in sub/) is too short for a 16 crop
    with pytest.warns(UserWarning, match=r"skipping 1 of 3 images smaller than hr_crop=16: sub.1\.png"):
        ds = sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=1, seed=0)
    got = sorted(int(round(to_u8(hr)[0, ..., 2].max() / 40)) for _, hr in ds)
    assert got == [0, 2]
    up = sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=3, small="upscale", seed=0)
    lr, hr = next(iter(up))
    assert lr.shape == (3, 4, 4, 3) and hr.shape == (3, 16, 16, 3)
    assert sorted(int(round(b / 40)) for b in to_u8(hr)[:, 0, 0, 2]) == [0, 1, 2]
    with pytest.raises(ValueError, match="all 3 images .* smaller than hr_crop=48"):
        sr_data.sr_pairs(tmp_path / "hr", hr_crop=48)


def test_sr_eval_pairs_matching(tmp_path):
    hr_dir, lr_dir = tmp_path / "HR", tmp_path / "LR"
    rng = np.random.default_rng(1)
    lows = {"img_001_SRF_4": rng.integers(0, 256, (5, 6, 3), dtype=np.uint8),
            "baby": rng.integers(0, 256, (4, 4, 3), dtype=np.uint8),
            "0001": rng.integers(0, 256, (3, 5), dtype=np.uint8)}
    highs = {k: np.repeat(np.repeat(v, 4, 0), 4, 1) for k, v in lows.items()}
    save(hr_dir / "img_001_SRF_4_HR.png", highs["img_001_SRF_4"])
    save(lr_dir / "img_001_SRF_4_LR.png", lows["img_001_SRF_4"])
    save(hr_dir / "baby_hr.png", np.pad(highs["baby"], ((0, 3), (0, 2), (0, 0))))  # 3 and 2 extra pixels
    save(lr_dir / "baby-LR.bmp", lows["baby"])
    save(hr_dir / "0001.png", highs["0001"])  # DIV2K naming, grey
    save(lr_dir / "0001x4.png", lows["0001"])
    pairs = sr_data.sr_eval_pairs(hr_dir, lr_dir, scale=4)
    assert pairs.names == ["0001", "baby", "img_001_SRF_4"]
    for (lr, hr), name in zip(pairs, pairs.names):
        channels = 1 if name == "0001" else 3
        np.testing.assert_array_equal(lr, lows[name].reshape(lr.shape))
        np.testing.assert_array_equal(hr, highs[name].reshape(hr.shape))  # cropped back to 4x the LR
        assert lr.dtype == hr.dtype == np.uint8 and lr.shape[-1] == hr.shape[-1] == channels
    assert all(lr.shape[-1] == 3 for lr, _ in sr_data.sr_eval_pairs(hr_dir, lr_dir, channels=3))

    generated = sr_data.sr_eval_pairs(hr_dir, scale=4)  # no LR folder: crop to a multiple of 4, MATLAB bicubic
    assert generated.names == ["0001", "baby_hr", "img_001_SRF_4_HR"]
    lr, hr = generated[1]
    assert hr.shape == (16, 16, 3) and lr.shape == (4, 4, 3)
    np.testing.assert_array_equal(lr, sr_data.bicubic_downscale(hr, 4))

    save(hr_dir / "extra_HR.png", highs["baby"])
    save(lr_dir / "lonely_LR.png", lows["baby"])
    with pytest.raises(ValueError, match=r"1 HR in .* without an LR .*extra_HR\.png; 1 LR in .*lonely_LR\.png"):
        sr_data.sr_eval_pairs(hr_dir, lr_dir)
    os.remove(hr_dir / "extra_HR.png")
    os.remove(lr_dir / "lonely_LR.png")
    save(hr_dir / "baby_HR.jpg", highs["baby"])
    with pytest.raises(ValueError, match="both match the name 'baby'"):
        sr_data.sr_eval_pairs(hr_dir, lr_dir)
    os.remove(hr_dir / "baby_HR.jpg")
    save(lr_dir / "0001x4.png", lows["baby"])  # 4x4 LR for a 12x20 HR
    with pytest.raises(ValueError, match="0001.png .*do not align at scale=4"):
        sr_data.sr_eval_pairs(hr_dir, lr_dir)


def tiny_sr_lr(i):
    lr = coords(*[(10, 12), (8, 9), (3, 3), (11, 10)][i])
    lr[..., 2] = 50 * i
    return lr


class ZooTinySr(tfds.core.GeneratorBasedBuilder):
    """HR/LR pairs with DIV2K's feature names: HR = LR enlarged 4x by pixel repetition; one pair too small for a
    16-pixel crop; one LR of ceil size (11 rows for a 42-row HR, trimmed to 10 rows / 40 rows)."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "lr": tfds.features.Image(shape=(None, None, 3)), "hr": tfds.features.Image(shape=(None, None, 3))}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(4):
            lr = tiny_sr_lr(i)
            hr = np.repeat(np.repeat(lr, 4, 0), 4, 1)
            if i == 3:
                hr = hr[:42]
            yield i, {"lr": lr, "hr": hr}


def test_sr_pairs_tfds_offline(tmp_path):
    builder = tfds.builder("zoo_tiny_sr", data_dir=tmp_path)
    builder.download_and_prepare()
    ds = sr_data.sr_pairs("zoo_tiny_sr", data_dir=tmp_path, download=False, hr_crop=16, batch_size=3, seed=0,
                       repeat=True)
    seen = set()
    for lr, hr in ds.take(5):
        assert lr.shape == (3, 4, 4, 3) and hr.shape == (3, 16, 16, 3)
        lr8, hr8 = to_u8(lr), to_u8(hr)
        np.testing.assert_array_equal(np.repeat(np.repeat(lr8, 4, 1), 4, 2), hr8)  # the data set's own LR, aligned
        for img in lr8:
            k = int(round(img[..., 2].max() / 50))
            assert k != 2  # the 3x3 / 12x12 pair is skipped
            seen.add(find_dihedral(img, tiny_sr_lr(k)))
    assert len(seen) >= 4
    lr, hr = next(iter(sr_data.sr_pairs(builder, lr_key=None, hr_crop=16, batch_size=3, seed=1)))
    diff = np.abs(sr_data.bicubic_downscale(to_u8(hr), 4).astype(int) - to_u8(lr))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.99  # lr_key=None: LR made from the HR crop
    with pytest.raises(tf.errors.InvalidArgumentError, match="not 1/2 of their HR"):
        next(iter(sr_data.sr_pairs(builder, scale=2, hr_crop=16, batch_size=3)))
    with pytest.raises(ValueError, match="small='upscale' needs LR made from the HR"):
        sr_data.sr_pairs(builder, hr_crop=16, small="upscale")
    with pytest.raises(KeyError, match="no feature 'photo'"):
        sr_data.sr_pairs(builder, hr_key="photo", hr_crop=16)


def test_shared_set5_pairs_and_matlab_lr(shared_data):
    val = shared(shared_data, "sr", "val", "Set5")
    pairs = sr_data.sr_eval_pairs(os.path.join(val, "HR"), os.path.join(val, "LR"), scale=4)
    assert len(pairs) == 5 and pairs.names[0] == "img_001_SRF_4"
    for lr, hr in pairs:
        assert hr.shape == (4 * lr.shape[0], 4 * lr.shape[1], 3) and lr.dtype == np.uint8
        same = sr_data.bicubic_downscale(hr, 4) == lr
        assert same[3:-3, 3:-3].mean() > 0.998  # bit-exact MATLAB imresize away from the border


def test_srgan_evaluate_script_bicubic(tmp_path):
    """apps/srgan/evaluate.py --bicubic-only on a made-up set (HR/LR) and a set with HR only."""
    import json
    from skimage import data as skdata
    hr = skdata.astronaut()[::4, ::4][:100, :96]
    save(tmp_path / "val" / "Mini" / "HR" / "a_HR.png", hr)
    save(tmp_path / "val" / "Mini" / "LR" / "a_LR.png", sr_data.bicubic_downscale(hr, 4))
    save(tmp_path / "val" / "HROnly" / "HR" / "b.png", hr[:, :, 1])
    mod = app_script("srgan", "evaluate")
    out = tmp_path / "bicubic.json"
    rows = mod.main(["--data", str(tmp_path / "val"), "--datasets", "Mini", "HROnly", "--bicubic-only",
                     "--out", str(out)])
    assert [(r["dataset"], r["method"], r["n"]) for r in rows] == [("Mini", "bicubic", 1), ("HROnly", "bicubic", 1)]
    assert 20 < rows[0]["psnr"] < 40 and 0.3 < rows[0]["ssim"] < 1
    saved = json.loads(out.read_text())
    assert saved["rows"][0]["per_image"][0]["name"] == "a"
    from zoo import metrics
    up = mod.bicubic(sr_data.bicubic_downscale(hr, 4), hr.shape)
    assert rows[0]["psnr"] == round(metrics.psnr(up, hr, y_channel=True, shave=4), 4)
