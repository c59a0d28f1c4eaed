"""Shared fixtures of the hood package's pytest suite. The package and libhood come from the
environment meson's test sets (PYTHONPATH=python, HOOD_LIBRARY=build/libhood.so, HOOD=the CLI)."""
import os
import shutil

import numpy as np
import pytest


@pytest.fixture
def hood_cli():
    """The `hood` binary (HOOD, else PATH), or the test is skipped."""
    path = os.environ.get("HOOD") or shutil.which("hood")
    if not path:
        pytest.skip("no hood binary (set HOOD)")
    return path


@pytest.fixture(autouse=True)
def default_seed():
    from hood.keras.utils import set_random_seed
    set_random_seed(0)
    yield
    set_random_seed(0)


def two_class_data(n=200, d=2, seed=1):
    """x float32 (n, d) and int32 labels 0/1 from a circle: learnable, not linear."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, d)).astype(np.float32)
    y = ((x[:, :2] ** 2).sum(axis=1) < 0.5).astype(np.int32)
    return x, y


def seed_model(features, optimizer="SGD"):
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    model = Sequential()
    model.add(Dense(10, input_dim=features, activation="tanh"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model
