"""Datasets: image folders, paired and unpaired sets, crops and flips, TFDS adapters, digits.

NumPy-level readers work on every backend; functions returning ``tf.data`` pipelines import TensorFlow
inside, so ``import zoo.data`` does not need it.
"""
import gzip
import os

import numpy as np


def load_mnist_csv(path):
    """Digits from a CSV (optionally gzipped): 784 pixel values then the label per row.

    Returns ``(images, labels)``: uint8 ``(N, 28, 28, 1)`` and int32 ``(N,)``.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"digits file not found: {path}")
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 785:
        raise ValueError(f"{path}: expected rows of 784 pixels and a label (785 columns), got shape {rows.shape}")
    if rows[:, :784].min() < 0 or rows[:, :784].max() > 255:
        raise ValueError(f"{path}: pixel values outside 0..255")
    return rows[:, :784].reshape(-1, 28, 28, 1).astype(np.uint8), rows[:, 784].astype(np.int32)
