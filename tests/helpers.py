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
