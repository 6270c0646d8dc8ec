"""Sample grids (PNG + TensorBoard images), TensorBoard scalars, checkpoint contents."""
import glob
import os

import h5py
import keras
import numpy as np
import pytest
from PIL import Image

from zoo import GAN
from zoo.apps.dcgan import DCGANDiscriminator, DCGANGenerator
from zoo.callbacks import Checkpoint, SampleGrid

pytestmark = pytest.mark.core


def tiny(nc=None):
    return GAN(DCGANGenerator(latent_dim=8, image_size=8, channels=1, filters=4, num_classes=nc),
               DCGANDiscriminator(image_size=8, channels=1, filters=4, num_classes=nc), ema_decay=0.9)


def test_sample_grid_every_n_steps(small_digits, tmp_path):
    x, y = small_digits
    gan = tiny(10)
    gan.compile()
    gan.fit(x[:96], y[:96], batch_size=16, epochs=1, verbose=0,
            callbacks=[SampleGrid(tmp_path, every=2, n=9)])
    files = sorted(glob.glob(str(tmp_path / "step_*.png")))
    assert [os.path.basename(f) for f in files] == ["step_0000002.png", "step_0000004.png", "step_0000006.png"]
    assert Image.open(files[0]).size == (3 * 8 + 4 * 2,) * 2


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorBoard writing uses tf.summary")
def test_tensorboard_scalars_and_images(small_digits, tmp_path):
    import tensorflow as tf

    x, _ = small_digits
    gan = tiny()
    gan.compile()
    logdir = str(tmp_path / "tb")
    gan.fit(x[:64], batch_size=32, epochs=2, verbose=0,
            callbacks=[keras.callbacks.TensorBoard(logdir), SampleGrid(tmp_path / "png", every=2, logdir=logdir)])
    tags = set()
    for path in glob.glob(os.path.join(logdir, "**", "events.*"), recursive=True):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {v.tag for v in event.summary.value}
    assert "samples" in tags
    assert any("d_loss" in t for t in tags) and any("g_loss" in t for t in tags)


def test_checkpoint_holds_everything(small_digits, tmp_path):
    x, _ = small_digits
    gan = tiny()
    gan.compile()
    gan.fit(x[:64], batch_size=32, epochs=1, verbose=0, callbacks=[Checkpoint(tmp_path)])
    with h5py.File(tmp_path / "checkpoint.weights.h5", "r") as f:
        assert int(f.attrs["zoo_epoch"]) == 1
        for group in ("generator", "discriminator", "ema_generator", "d_optimizer", "g_optimizer",
                      "zoo_seed_states"):
            assert group in f, group
    fresh = tiny()
    fresh.compile()
    assert Checkpoint(tmp_path).resume(fresh) == 1
    assert int(keras.ops.convert_to_numpy(fresh.d_optimizer.iterations)) == 2
    for a, b in zip(gan.variables, fresh.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a.value), keras.ops.convert_to_numpy(b.value))
    assert Checkpoint(tmp_path / "none").resume(fresh) == 0
    # an optimizer built another way (a schedule for a constant rate): Keras would skip its state with a warning;
    # resume refuses, so a run never goes on with fresh Adam moments and step counter unnoticed
    other = tiny()
    other.compile(g_optimizer=keras.optimizers.Adam(keras.optimizers.schedules.PiecewiseConstantDecay([10], [2e-4,
                                                                                                           1e-4])))
    with pytest.raises(ValueError, match="optimizer.*learning-rate schedule"):
        Checkpoint(tmp_path).resume(other)
