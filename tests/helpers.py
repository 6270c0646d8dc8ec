"""Small helpers shared by the model tests: parameter counts by hand, weight snapshots."""
import numpy as np
from keras import ops


def count(model):
    """Trainable parameters of a model."""
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def conv(k, cin, cout, bias=True):
    """Parameters of a k x k convolution from cin to cout channels."""
    return k * k * cin * cout + (cout if bias else 0)


def bn(c):
    """Trainable parameters of batch norm over c channels (gamma, beta)."""
    return 2 * c


def numpy_of(x):
    return np.asarray(ops.convert_to_numpy(x))


def snapshot(model):
    """Copies of every weight of a model (trainable or not)."""
    return [numpy_of(w.value).copy() for w in model.weights]


def changed(before, model):
    """Per weight: did it change since ``snapshot``?"""
    return [not np.array_equal(b, a) for b, a in zip(before, snapshot(model))]


def kill_after_checkpoint(proc, ckpt, epoch, timeout=240):
    """SIGKILL the training subprocess ``proc`` once its checkpoint file ``ckpt`` records ``epoch`` finished
    epochs; asserts it was still running then (its stderr otherwise)."""
    import os
    import signal
    import time

    import h5py

    deadline, done = time.time() + timeout, 0
    while time.time() < deadline and proc.poll() is None and done < epoch:
        if os.path.exists(ckpt):
            try:
                with h5py.File(ckpt, "r") as f:
                    done = int(f.attrs["zoo_epoch"])
            except (OSError, KeyError):  # being written
                done = 0
        time.sleep(0.1)
    assert proc.poll() is None, "training finished before it could be killed: " + proc.communicate()[1][-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


# -- images whose pixels say where they are (data pipeline tests) ----------------------------------------------
def save(path, array, mode=None):
    """Write uint8 ``array`` as an image file (creating folders); returns the path as a string."""
    import os

    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array, mode).save(path) if mode else Image.fromarray(array).save(path)
    return str(path)


def coords(h, w, step=6):
    """An image whose pixels say where they are: R = 6*row, G = 6*col, B = 100 (uint8)."""
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return np.stack([rr * step, cc * step, np.full_like(rr, 100)], -1).astype(np.uint8)


def to_u8(x):
    """Pipeline values in [-1, 1] back to uint8 levels."""
    return np.round((np.asarray(x) + 1) * 127.5).astype(np.uint8)


def locate(window, original):
    """(top, left, flipped) of uint8 ``window`` inside ``original`` made by ``coords``; asserts an exact match."""
    flipped = window.shape[1] > 1 and int(window[0, 1, 1]) < int(window[0, 0, 1])
    unflipped = window[:, ::-1] if flipped else window
    top, left = int(unflipped[0, 0, 0]) // 6, int(unflipped[0, 0, 1]) // 6
    h, w = window.shape[:2]
    np.testing.assert_array_equal(unflipped, original[top:top + h, left:left + w])
    return top, left, flipped


def generator_loss(gan, real, condition=None, training=True):
    """G's mean loss and logs on ``real`` from a fresh forward (a function of G's weights: differentiate it)."""
    terms, logs = gan.generator_loss(real, condition, gan.generate(real, condition, training), training)
    return sum(ops.mean(ops.cast(t, "float32")) for t in terms.values()), logs


def discriminator_loss(gan, real, condition=None, training=True):
    """D's mean loss and logs on ``real`` against fresh fakes."""
    fakes = gan.fakes(real, condition, gan.generate(real, condition, training), "d")
    terms, logs = gan.discriminator_loss(real, condition, fakes, training)
    return sum(ops.mean(ops.cast(t, "float32")) for t in terms.values()), logs


def app_script(app, name):
    """``apps/<app>/<name>.py`` (a recipe or evaluation script, not a package module) imported as a module."""
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apps", app, f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"{app}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
