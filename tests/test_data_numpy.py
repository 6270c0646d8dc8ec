"""zoo.data without tf.data: ZOO_PIPELINE=numpy (or no TensorFlow) gives keras.utils.PyDataset pipelines
(``NumpyBatches``) with the same files, crops, flips, LR and value ranges, reproducible from ``seed``."""
import os

import keras
import numpy as np
import pytest

from helpers import coords, locate, save, to_u8
from zoo import data
from zoo.apps.srgan import data as sr_data


@pytest.fixture(autouse=True)
def numpy_pipeline(monkeypatch):
    monkeypatch.setenv("ZOO_PIPELINE", "numpy")


def epoch(ds):
    return [ds[b] for b in range(len(ds))]


def flat_folder(root, n, size=(8, 8)):
    """``n`` flat images; image ``i`` (file ``i:02d.png``, so sorted by index) has every value 20 * i."""
    for i in range(n):
        save(os.path.join(root, f"{i:02d}.png"), np.full(size + (3,), 20 * i, np.uint8))
    return root


def ids(batch):
    """Indices of the flat images of ``flat_folder`` in a batch."""
    return [int(v) // 20 for v in to_u8(batch)[:, 0, 0, 0]]


# ------------------------------------------------------------------------------------------ use_tf


def test_use_tf_follows_zoo_pipeline(monkeypatch):
    monkeypatch.setenv("ZOO_PIPELINE", "numpy")
    assert data.use_tf() is False
    monkeypatch.setenv("ZOO_PIPELINE", " NumPy ")  # case and spaces do not matter
    assert data.use_tf() is False
    monkeypatch.setenv("ZOO_PIPELINE", "tf")
    assert data.use_tf() is True
    monkeypatch.setenv("ZOO_PIPELINE", "torch")
    with pytest.raises(ValueError, match="ZOO_PIPELINE.*'torch'"):
        data.use_tf()
    for auto in ("auto", ""):
        monkeypatch.setenv("ZOO_PIPELINE", auto)
        try:
            import tensorflow  # noqa: F401
            has_tf = True
        except ImportError:
            has_tf = False
        assert data.use_tf() is has_tf


def test_bad_zoo_pipeline_fails_when_a_pipeline_is_built(tmp_path, monkeypatch):
    flat_folder(tmp_path / "flat", 4)
    monkeypatch.setenv("ZOO_PIPELINE", "numpyy")
    with pytest.raises(ValueError, match="ZOO_PIPELINE"):
        data.image_folder(tmp_path / "flat", batch_size=2)


# ------------------------------------------------------------------------------------ image_folder


def test_image_folder_is_pydataset_with_range_shapes_channels(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "imgs"
    for i in range(5):
        save(d / f"{i}.png", rng.integers(0, 256, (20 + i, 24, 3), dtype=np.uint8))
    ds = data.image_folder(d, image_size=16, crop=12, flip=True, batch_size=2, seed=0)
    assert isinstance(ds, keras.utils.PyDataset)
    assert not hasattr(ds, "element_spec")  # not a tf.data.Dataset
    batches = epoch(ds)
    assert len(batches) == 2
    for b in batches:
        assert isinstance(b, np.ndarray) and b.dtype == np.float32 and b.shape == (2, 12, 12, 3)
        assert b.min() >= -1 and b.max() <= 1
        assert b.min() < -0.5 and b.max() > 0.5  # the whole range is used, not [0, 1]
        np.testing.assert_allclose(b, to_u8(b) / 127.5 - 1, atol=1e-6)  # 8-bit levels
    grey = data.image_folder(d, image_size=(10, 14), channels=1, batch_size=5, shuffle=False)
    x = grey[0]
    assert x.shape == (5, 10, 14, 1) and x.dtype == np.float32
    for img, f in zip(x, data.list_images(d)):  # each file decoded and resized by Pillow, as read_image does
        np.testing.assert_array_equal(to_u8(img), data.read_image(f, channels=1, image_size=(10, 14)))


def test_image_folder_labels(tmp_path):
    d = tmp_path / "classes"
    for c, value in (("cat", 10), ("dog", 200), ("emu", 100)):
        for i in range(3):
            save(d / c / f"{i}.png", np.full((6, 6, 3), value, np.uint8))
    ds = data.image_folder(d, batch_size=9, labels=True, seed=0)
    assert ds.class_names == ["cat", "dog", "emu"]
    x, y = ds[0]
    assert x.shape == (9, 6, 6, 3) and x.dtype == np.float32
    assert y.shape == (9,) and y.dtype == np.int32
    assert sorted(y.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert y.tolist() != sorted(y.tolist())  # shuffled, and the labels travel with their images
    for img, label in zip(to_u8(x), y):
        assert img[0, 0, 0] == (10, 200, 100)[label]


def test_image_folder_batch_counts_and_repeat(tmp_path):
    d = flat_folder(tmp_path / "flat", 10)
    dropped = data.image_folder(d, batch_size=4, seed=0)
    assert dropped.num_batches == len(dropped) == 2
    assert [b.shape[0] for b in epoch(dropped)] == [4, 4]
    with pytest.raises(IndexError):
        dropped[2]
    kept = data.image_folder(d, batch_size=4, seed=0, drop_remainder=False)
    assert kept.num_batches == len(kept) == 3
    last = epoch(kept)
    assert [b.shape[0] for b in last] == [4, 4, 2]
    assert sorted(i for b in last for i in ids(b)) == list(range(10))
    exact = data.image_folder(d, batch_size=5, seed=0, drop_remainder=False)
    assert exact.num_batches == 2

    rep = data.image_folder(d, batch_size=4, seed=0, repeat=True)
    assert rep.num_batches is None
    assert rep[0].shape == rep[1000].shape == (4, 8, 8, 3)
    stream = [i for b in range(5) for i in ids(rep[b])]  # 20 positions: two full passes over the 10 images
    assert sorted(stream[:10]) == sorted(stream[10:]) == list(range(10))
    assert stream[:10] != stream[10:]  # each pass reshuffled
    with pytest.raises(ValueError, match="fewer than batch_size"):
        data.image_folder(d, batch_size=11)
    assert data.image_folder(d, batch_size=11, repeat=True)[0].shape[0] == 11


# ---------------------------------------------------------------------------------- reproducibility


def test_seed_reproducible_and_epochs_reshuffle(tmp_path):
    d = flat_folder(tmp_path / "flat", 8)
    a, b = data.image_folder(d, batch_size=4, seed=3), data.image_folder(d, batch_size=4, seed=3)
    for i in range(2):
        np.testing.assert_array_equal(a[i], b[i])
        np.testing.assert_array_equal(a[i], a[i])  # asking twice gives the same batch
    other = data.image_folder(d, batch_size=4, seed=4)
    assert [ids(a[i]) for i in range(2)] != [ids(other[i]) for i in range(2)]

    plain = data.image_folder(d, batch_size=4, shuffle=False, seed=3)
    assert [ids(x) for x in epoch(plain)] == [[0, 1, 2, 3], [4, 5, 6, 7]]

    orders = []
    for _ in range(4):
        order = [i for x in epoch(a) for i in ids(x)]
        assert sorted(order) == list(range(8))  # every example once per epoch
        orders.append(order)
        a.on_epoch_end()
    assert all(orders[k] != orders[k + 1] for k in range(3))  # the order changes every epoch
    replay = data.image_folder(d, batch_size=4, seed=3)
    replay.on_epoch_end()
    assert [i for x in epoch(replay) for i in ids(x)] == orders[1]  # epoch k is reproducible too
    plain.on_epoch_end()
    assert [ids(x) for x in epoch(plain)] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_crops_and_flips_reproducible_and_redrawn_each_epoch(tmp_path):
    original = coords(24, 30)
    for i in range(4):
        save(tmp_path / "c" / f"{i}.png", original)
    make = lambda seed: data.image_folder(tmp_path / "c", crop=(8, 9), flip=True, batch_size=4,
                                          shuffle=False, seed=seed)
    ds = make(1)
    first = ds[0]
    np.testing.assert_array_equal(first, make(1)[0])
    assert not np.array_equal(first, make(2)[0])
    places = [locate(img, original) for img in to_u8(first)]
    ds.on_epoch_end()
    again = ds[0]
    assert not np.array_equal(first, again)  # new crops each epoch
    places += [locate(img, original) for img in to_u8(again)]
    assert len({p[:2] for p in places}) > 3 and {p[2] for p in places} == {True, False}


# ----------------------------------------------------------------------------------- side_by_side


def test_side_by_side_directions(tmp_path):
    left = coords(16, 20)
    right = 255 - left
    save(tmp_path / "ab" / "1_AB.png", np.concatenate([left, right], 1))
    save(tmp_path / "ab" / "2_AB.png", np.concatenate([left, right, right[:, :1]], 1))  # odd width
    ds = data.side_by_side(tmp_path / "ab", batch_size=2, shuffle=False)
    assert isinstance(ds, keras.utils.PyDataset)
    a, b = ds[0]
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (2, 16, 20, 3)
    np.testing.assert_array_equal(to_u8(a), np.stack([left, left]))
    np.testing.assert_array_equal(to_u8(b), np.stack([right, right]))
    x, y = data.side_by_side(tmp_path / "ab", direction="BtoA", batch_size=2, shuffle=False)[0]
    np.testing.assert_array_equal(x, b)
    np.testing.assert_array_equal(y, a)
    with pytest.raises(ValueError, match="direction"):
        data.side_by_side(tmp_path / "ab", direction="left")


def test_side_by_side_same_crop_and_flip_for_both_halves(tmp_path):
    left = coords(16, 20)
    for i in range(3):
        save(tmp_path / "ab" / f"{i}.png", np.concatenate([left, 255 - left], 1))
    ds = data.side_by_side(tmp_path / "ab", direction="BtoA", crop=(7, 6), flip=True, batch_size=3, seed=0,
                           repeat=True)
    places = set()
    for i in range(6):
        x, y = ds[i]
        assert x.shape == y.shape == (3, 7, 6, 3)
        np.testing.assert_allclose(x, -y, atol=1e-6)  # x is B = 255 - A: same window, same flip
        assert (to_u8(x)[..., 0] % 6 == 3).all() and (to_u8(y)[..., 0] % 6 == 0).all()  # B and A, not swapped
        places.update(locate(img, left) for img in to_u8(y))
    assert {p[2] for p in places} == {True, False} and len(places) > 4

    x, y = data.side_by_side(tmp_path / "ab", image_size=8, batch_size=3, seed=0)[0]
    assert x.shape == y.shape == (3, 8, 8, 3)
    np.testing.assert_allclose(x, -y, atol=2 / 127.5)  # each half resized on its own


# -------------------------------------------------------------------------------------- paired_folders


def test_paired_folders_scale_two_aligned(tmp_path):
    originals = {}
    for i in range(3):
        lr = coords(10, 12)
        lr[..., 2] = 60 * i  # tells the pairs apart
        originals[i] = lr
        save(tmp_path / "lr" / f"{i}.png", lr)
        save(tmp_path / "hr" / f"{i}.bmp", np.repeat(np.repeat(lr, 2, 0), 2, 1))
    ds = data.paired_folders(tmp_path / "lr", tmp_path / "hr", crop=4, scale=2, batch_size=3, flip=True, seed=0,
                             repeat=True)
    assert isinstance(ds, keras.utils.PyDataset)
    places = set()
    for i in range(5):
        a, b = ds[i]
        assert a.shape == (3, 4, 4, 3) and b.shape == (3, 8, 8, 3)
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(np.repeat(np.repeat(to_u8(a), 2, 1), 2, 2), to_u8(b))  # b crop = 2x a's
        for img in to_u8(a):
            places.add(locate(img, originals[int(img[0, 0, 2]) // 60]))
    assert {p[2] for p in places} == {True, False} and len(places) > 4

    a, b = data.paired_folders(tmp_path / "lr", tmp_path / "hr", image_size=6, scale=2, batch_size=3)[0]
    assert a.shape == (3, 6, 6, 3) and b.shape == (3, 12, 12, 3)
    bad = data.paired_folders(tmp_path / "lr", tmp_path / "hr", batch_size=1)  # scale=1: sizes differ
    with pytest.raises(ValueError, match=r"\.png.*do not align"):
        bad[0]


# ------------------------------------------------------------------------------------------- sr_pairs


def sr_folder(root, sizes):
    """``coords`` images, blue channel = 40 * index; odd indices in ``sub/``."""
    paths = []
    for i, (h, w) in enumerate(sizes):
        img = coords(h, w)
        img[..., 2] = 40 * i
        paths.append(save(os.path.join(root, "sub" if i % 2 else "", f"{i}.png"), img))
    return paths


def test_sr_pairs_folder_shapes_and_matlab_lr(tmp_path):
    rng = np.random.default_rng(2)
    for i in range(3):
        save(tmp_path / "hr" / f"{i}.png", rng.integers(0, 256, (36 + 4 * i, 40, 3), dtype=np.uint8))
    ds = sr_data.sr_pairs(tmp_path / "hr", scale=4, hr_crop=16, batch_size=3, seed=0, repeat=True)
    assert isinstance(ds, keras.utils.PyDataset) and ds.num_batches is None
    for i in range(3):
        lr, hr = ds[i]
        assert lr.shape == (3, 4, 4, 3) and hr.shape == (3, 16, 16, 3)
        assert lr.dtype == hr.dtype == np.float32
        assert min(lr.min(), hr.min()) >= -1 and max(lr.max(), hr.max()) <= 1
        np.testing.assert_allclose(lr, to_u8(lr) / 127.5 - 1, atol=1e-6)  # LR on 8-bit levels
        np.testing.assert_allclose(lr, sr_data.bicubic_downscale(to_u8(hr), 4) / 127.5 - 1, atol=1e-6)

    lr, hr = sr_data.sr_pairs(tmp_path / "hr", scale=2, hr_crop=8, channels=1, batch_size=2, seed=1)[0]
    assert lr.shape == (2, 4, 4, 1) and hr.shape == (2, 8, 8, 1)
    np.testing.assert_allclose(lr, sr_data.bicubic_downscale(to_u8(hr), 2) / 127.5 - 1, atol=1e-6)

    cached = sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=3, seed=5, cache=True)
    uncached = sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=3, seed=5)
    for _ in range(2):
        for x, y in zip(cached[0], uncached[0]):
            np.testing.assert_array_equal(x, y)
        cached.on_epoch_end()
        uncached.on_epoch_end()


def test_sr_pairs_augment_and_plain_windows(tmp_path):
    paths = sr_folder(tmp_path / "hr", [(40, 42), (32, 36), (36, 40)])
    originals = [data.read_image(p) for p in paths]

    def transforms8(img):
        return [np.rot90(f, k) for f in (img, img[:, ::-1]) for k in range(4)]

    def find_dihedral(window, original):
        for i, t in enumerate(transforms8(window)):
            top, left = int(t[0, 0, 0]) // 6, int(t[0, 0, 1]) // 6
            piece = original[top:top + t.shape[0], left:left + t.shape[1]]
            if piece.shape == t.shape and np.array_equal(piece, t):
                return i
        raise AssertionError("window is no flip/rotation of a crop of the original")

    aug = sr_data.sr_pairs(tmp_path / "hr", scale=4, hr_crop=16, batch_size=3, seed=0, repeat=True)
    seen = set()
    for i in range(6):
        for img in to_u8(aug[i][1]):
            seen.add(find_dihedral(img, originals[int(img[..., 2].max()) // 40]))
    assert len(seen) >= 5

    plain = sr_data.sr_pairs(tmp_path / "hr", scale=4, hr_crop=16, batch_size=1, augment=False, shuffle=False, seed=0)
    got = []
    for lr, hr in epoch(plain):
        img = to_u8(hr[0])
        idx = int(img[0, 0, 2]) // 40
        assert not locate(img, originals[idx])[2]  # a plain sub-window of the source, not flipped
        got.append(idx)
    assert got == [0, 2, 1]  # sorted by path: 0.png, 2.png, sub/1.png


def test_sr_pairs_small_images(tmp_path):
    sr_folder(tmp_path / "hr", [(20, 24), (12, 40), (24, 20)])  # 1 (in sub/) is too short for a 16 crop
    with pytest.warns(UserWarning, match=r"skipping 1 of 3 images smaller than hr_crop=16: sub.1\.png"):
        ds = sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=1, seed=0)
    assert len(ds) == 2
    assert sorted(int(to_u8(hr)[0, ..., 2].max()) // 40 for _, hr in epoch(ds)) == [0, 2]
    up = sr_data.sr_pairs(tmp_path / "hr", hr_crop=16, batch_size=3, small="upscale", seed=0)
    lr, hr = up[0]
    assert lr.shape == (3, 4, 4, 3) and hr.shape == (3, 16, 16, 3)
    assert sorted(round(int(v) / 40) for v in to_u8(hr)[:, 0, 0, 2]) == [0, 1, 2]
    with pytest.raises(ValueError, match="all 3 images .* smaller than hr_crop=48"):
        sr_data.sr_pairs(tmp_path / "hr", hr_crop=48)


# ------------------------------------------------------------------------------------------- training


def tiny_classifier():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_fit_on_numpy_pipeline(tmp_path):
    d = tmp_path / "classes"
    for c, value in (("a", 30), ("b", 220)):
        for i in range(4):
            save(d / c / f"{i}.png", np.full((10, 10, 3), value, np.uint8))
    endless = data.image_folder(d, crop=8, flip=True, labels=True, batch_size=4, seed=0, repeat=True)
    hist = tiny_classifier().fit(endless, steps_per_epoch=2, epochs=2, shuffle=False, verbose=0)
    assert len(hist.history["loss"]) == 2 and np.isfinite(hist.history["loss"]).all()

    finite = data.image_folder(d, crop=8, labels=True, batch_size=4, seed=0)
    hist = tiny_classifier().fit(finite, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    assert finite.epoch >= 1  # fit calls on_epoch_end, so the next epoch reshuffles


def test_auto_without_tensorflow_uses_numpy(run_without_tensorflow, tmp_path):
    for c, value in (("a", 30), ("b", 220)):
        for i in range(2):
            save(tmp_path / "imgs" / c / f"{i}.png", np.full((10, 10, 3), value, np.uint8))
    run_without_tensorflow(f"""
import os, keras, numpy as np
os.environ.pop("ZOO_PIPELINE", None)
from zoo import data
assert data.use_tf() is False
ds = data.image_folder({str(tmp_path / "imgs")!r}, crop=8, labels=True, batch_size=2, seed=0, repeat=True)
assert isinstance(ds, keras.utils.PyDataset) and ds[0][0].shape == (2, 8, 8, 3)
a, b = data.unpaired({str(tmp_path / "imgs" / "a")!r}, {str(tmp_path / "imgs")!r}, crop=8, batch_size=2, seed=0)[0]
assert a.shape == b.shape == (2, 8, 8, 3)  # unpaired (CycleGAN) data without TensorFlow
model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)
""")


# ------------------------------------------------------------------------------- equal to tf.data


def test_same_arrays_as_tf_pipeline(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    rng = np.random.default_rng(3)
    for i in range(3):
        save(tmp_path / "ab" / f"{i}.png", rng.integers(0, 256, (12 + 2 * i, 30 + 2 * i, 3), dtype=np.uint8))
        save(tmp_path / "img" / f"{i}.png", rng.integers(0, 256, (14, 11 + i, 3), dtype=np.uint8))

    def both(make):
        monkeypatch.setenv("ZOO_PIPELINE", "numpy")
        np_ds = make()
        monkeypatch.setenv("ZOO_PIPELINE", "tf")
        tf_ds = make()
        assert not isinstance(tf_ds, keras.utils.PyDataset) and hasattr(tf_ds, "element_spec")
        return np_ds[0], next(iter(tf_ds))

    for direction in ("AtoB", "BtoA"):
        (a, b), (ta, tb) = both(lambda d=direction: data.side_by_side(tmp_path / "ab", direction=d, image_size=10,
                                                                      batch_size=3, shuffle=False))
        np.testing.assert_array_equal(a, ta.numpy())
        np.testing.assert_array_equal(b, tb.numpy())
    x, tx = both(lambda: data.image_folder(tmp_path / "img", image_size=(9, 7), channels=1, batch_size=3,
                                           shuffle=False))
    np.testing.assert_array_equal(x, tx.numpy())


# ----------------------------------------------------------------------------------------------- unpaired
def test_unpaired_without_tensorflow_pipeline(tmp_path):
    """Two folders of different sizes, each its own domain: an epoch is the larger folder, the smaller one
    cycles through all its images, each side gets its own crop and flip, and a seed makes it reproducible."""
    for i in range(3):
        save(tmp_path / "red" / f"{i}.png", np.full((9, 9, 3), (200, 10 * i, 0), np.uint8))
    for i in range(5):
        save(tmp_path / "blue" / f"{i}.png", np.full((12, 7, 3), (0, 0, 250), np.uint8))
    make = lambda seed: data.unpaired(tmp_path / "red", tmp_path / "blue", image_size=8, crop=6, flip=True,
                                      batch_size=2, drop_remainder=False, seed=seed)
    ds = make(0)
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 3
    batches = [ds[i] for i in range(len(ds))]
    assert [a.shape[0] for a, _ in batches] == [2, 2, 1]
    a = np.concatenate([x for x, _ in batches])
    b = np.concatenate([y for _, y in batches])
    assert a.shape == b.shape == (5, 6, 6, 3) and a.dtype == np.float32 and a.min() >= -1 and a.max() <= 1
    assert (to_u8(a)[..., 0] >= 195).all() and (to_u8(b)[..., 2] >= 245).all()
    assert sorted(set(int(g) for g in np.round(to_u8(a)[:, 0, 0, 1] / 10))) == [0, 1, 2]
    again = make(0)
    np.testing.assert_array_equal(again[0][0], batches[0][0])
    endless = data.unpaired(tmp_path / "red", tmp_path / "blue", image_size=8, batch_size=4, repeat=True, seed=1)
    assert endless.num_batches is None and endless[7][1].shape == (4, 8, 8, 3)
    with pytest.raises(ValueError, match="smaller than the crop"):
        data.unpaired(tmp_path / "red", tmp_path / "blue", crop=10, batch_size=1)[0]
