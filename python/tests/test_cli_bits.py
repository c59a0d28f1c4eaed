"""Weights after Sequential.fit equal `hood train`'s on the same data, seed and settings, bit for
bit (compared through `hood export-weights`' .npz)."""
import subprocess

import numpy as np
import pytest

from conftest import seed_model, two_class_data


def cli_weights(hood_cli, tmp_path, data, args):
    model = tmp_path / "m.hood"
    weights = tmp_path / "w.npz"
    subprocess.run([hood_cli, "train", str(data), "-o", str(model), "--verbose", "0"] + args,
                   check=True, capture_output=True)
    subprocess.run([hood_cli, "export-weights", str(model), "-o", str(weights)], check=True,
                   capture_output=True)
    with np.load(weights) as w:
        return [w[k] for k in w.files]


def same_bits(a, b):
    return len(a) == len(b) and all(
        x.shape == y.shape and np.array_equal(x.view(np.uint32), y.view(np.uint32))
        for x, y in zip(a, b))


@pytest.mark.parametrize("optimizer,shuffle", [("sgd", True), ("adam", False),
                                               ("rmsprop", True)])
def test_seed_model_weights_equal_cli(hood_cli, tmp_path, optimizer, shuffle):
    from hood.keras.utils import set_random_seed
    x, y = two_class_data(n=150, d=3)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    args = ["--layers", "10:tanh,1:sigmoid", "--loss", "binary_crossentropy",
            "--optimizer", optimizer, "--epochs", "7", "--batch-size", "16", "--seed", "11"]
    expected = cli_weights(hood_cli, tmp_path, tmp_path / "d.npz",
                           args + ([] if shuffle else ["--no-shuffle"]))
    set_random_seed(11)
    model = seed_model(3, optimizer)
    model.fit(x, y, epochs=7, batch_size=16, shuffle=shuffle, verbose=0)
    got = model.get_weights()
    assert same_bits(got, expected), [np.abs(a - b).max() for a, b in zip(got, expected)]


def test_softmax_model_from_csv_equals_cli(hood_cli, tmp_path):
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    rng = np.random.default_rng(5)
    x = rng.normal(size=(90, 4)).astype(np.float32)
    y = (np.argmax(x[:, :3], axis=1)).astype(np.int32)
    rows = np.concatenate([x.astype(np.float64), y[:, None]], axis=1)
    np.savetxt(tmp_path / "d.csv", rows, delimiter=",", fmt="%.9g")
    x = np.loadtxt(tmp_path / "d.csv", delimiter=",", dtype=np.float32)[:, :4]
    expected = cli_weights(hood_cli, tmp_path, tmp_path / "d.csv",
                           ["--layers", "8:relu,3:softmax", "--optimizer", "adam",
                            "--epochs", "4", "--batch-size", "10"])
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=4, batch_size=10, verbose=0)
    assert same_bits(model.get_weights(), expected)


def test_bits_differ_when_settings_differ(hood_cli, tmp_path):
    """The comparison can fail: another batch size gives other weights."""
    x, y = two_class_data(n=150, d=3)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    expected = cli_weights(hood_cli, tmp_path, tmp_path / "d.npz",
                           ["--layers", "10:tanh,1:sigmoid", "--optimizer", "sgd",
                            "--epochs", "3", "--batch-size", "16"])
    model = seed_model(3)
    model.fit(x, y, epochs=3, batch_size=15, verbose=0)
    assert not same_bits(model.get_weights(), expected)
