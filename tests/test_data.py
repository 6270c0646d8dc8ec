"""zoo.data: file listing and reading, tf.data pipelines (folders, pairs, side-by-side, unpaired), TFDS offline."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from zoo import data

tf = pytest.importorskip("tensorflow")
tfds = pytest.importorskip("tensorflow_datasets")


def save(path, array, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array, mode).save(path) if mode else Image.fromarray(array).save(path)
    return str(path)


def coords(h, w, step=6):
    """An image whose pixels say where they are: R = 6*row, G = 6*col, B = 100 (uint8)."""
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([rr * step, cc * step, np.full_like(rr, 100)], -1).astype(np.uint8)


def to_u8(x):
    return np.round((np.asarray(x) + 1) * 127.5).astype(np.uint8)


def locate(window, original):
    """(top, left, flipped) of ``window`` (uint8) inside ``original``; asserts the pixels match exactly."""
    flipped = window.shape[1] > 1 and int(window[0, 1, 1]) < int(window[0, 0, 1])
    unflipped = window[:, ::-1] if flipped else window
    top, left = int(unflipped[0, 0, 0]) // 6, int(unflipped[0, 0, 1]) // 6
    h, w = window.shape[:2]
    np.testing.assert_array_equal(unflipped, original[top:top + h, left:left + w])
    return top, left, flipped


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
    with pytest.raises(Exception, match="zz_broken.png"):
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
