import os
import pathlib

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """../shared/data, or skip: the suite must pass on a checkout without it."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture(scope="session")
def small_digits():
    """8x8 digits from scikit-learn, scaled to [-1, 1] (ships with the wheel: no download)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images[..., None] / 8.0 - 1.0).astype("float32"), d.target.astype("int32")
