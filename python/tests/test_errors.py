"""Each hood status becomes its exception class, a HoodError that is also the built-in Python
users catch, carrying hood's one-line message."""
import numpy as np
import pytest

from conftest import seed_model, two_class_data


def test_invalid_argument_is_a_valueerror():
    import hood
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(hood.InvalidArgumentError, match="unknown loss 'hinge'") as e:
        model.compile(loss="hinge")
    assert isinstance(e.value, ValueError) and isinstance(e.value, hood.HoodError)


def test_shape_error_is_a_valueerror():
    import hood
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    x, _ = two_class_data()
    model = Sequential([Dense(3, activation="softmax", input_dim=2)])
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    with pytest.raises(hood.ShapeError, match="one unit per class") as e:
        model.fit(x, np.eye(2, dtype=np.float32)[np.arange(len(x)) % 2], verbose=0)
    assert isinstance(e.value, ValueError)


def test_data_error_is_a_valueerror():
    import hood
    x, y = two_class_data()
    x[7, 1] = np.nan
    model = seed_model(2)
    with pytest.raises(hood.DataError) as e:
        model.fit(x, y, verbose=0)
    assert isinstance(e.value, ValueError) and "sample 7" in str(e.value)


def test_format_error_is_a_valueerror(tmp_path):
    import hood
    from hood.keras.models import load_model
    bad = tmp_path / "bad.hood"
    bad.write_bytes(b"this is not a model file at all" * 10)
    with pytest.raises(hood.FormatError, match="bad.hood") as e:
        load_model(bad)
    assert isinstance(e.value, ValueError)


def test_io_error_is_an_oserror(tmp_path):
    import hood
    from hood.keras.models import load_model
    with pytest.raises(hood.FileSystemError, match="missing.hood") as e:
        load_model(tmp_path / "missing.hood")
    assert isinstance(e.value, OSError)


def test_out_of_memory_is_a_memoryerror():
    import hood
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    model = Sequential([Dense(2 ** 31, input_dim=2 ** 31)])
    with pytest.raises(hood.OutOfMemoryError) as e:
        model.compile(loss="mse", optimizer="sgd")
    assert isinstance(e.value, MemoryError) and str(e.value)


def test_divergence_is_a_floatingpointerror():
    import hood
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    from hood.keras.optimizers import SGD
    x, _ = two_class_data()
    model = Sequential([Dense(8, activation="relu", input_dim=2), Dense(1)])
    model.compile(loss="mse", optimizer=SGD(learning_rate=1e30))
    with pytest.raises(hood.DivergedError, match="epoch") as e:
        model.fit(x * 1e3, x[:, :1] * 1e3, epochs=5, verbose=0)
    assert isinstance(e.value, FloatingPointError)


@pytest.mark.parametrize("status,cls", [(8, "StoppedError"), (9, "UnsupportedError"),
                                        (10, "DistributedError")])
def test_remaining_statuses_map_to_their_class(status, cls):
    import hood
    from hood import _lib
    with pytest.raises(getattr(hood, cls)) as e:
        _lib.check(status)
    assert e.value.status == status and str(e.value)  # hood_strerror when no message is left
