"""Zero-copy in (the wrapped buffer's address), arrays out of hood memory keeping their owner
alive, and no leak over 1,000 create/fit/free cycles."""
import gc
import os

import numpy as np

from conftest import two_class_data


def test_float32_c_array_is_wrapped_without_copy():
    import hood
    x, y = two_class_data()
    ds = hood.Dataset.from_arrays(x, y, label_mode=2)
    assert ds.x_address == x.ctypes.data
    assert ds.x.base is not None and np.array_equal(ds.x, x)


def test_other_layouts_are_converted_once():
    import hood
    from hood._core import as_matrix
    x, _ = two_class_data()
    assert as_matrix(x) is x  # the array itself: nothing copied
    for other in (x.astype(np.float64), np.asfortranarray(x), x[::2]):
        ds = hood.Dataset.from_arrays(other)
        assert ds.x_address != other.ctypes.data
        assert np.array_equal(ds.x, np.asarray(other, np.float32))


def test_fit_and_predict_read_the_callers_buffer(monkeypatch):
    import hood._core as core
    from conftest import seed_model
    x, y = two_class_data()
    seen = []
    wrap = core.lib.hood_dataset_wrap

    def spy(out, address, d, n):
        seen.append(address)
        return wrap(out, address, d, n)

    monkeypatch.setattr(core.lib, "hood_dataset_wrap", spy)
    model = seed_model(2)
    model.fit(x, y, epochs=1, verbose=0)
    assert seen == [x.ctypes.data]


def test_uint8_array_is_kept_as_codes_without_copy(monkeypatch):
    import hood
    import hood._core as core
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, size=(120, 40), dtype=np.uint8)
    y = (codes[:, 0] > 127).astype(np.float32)
    ds = hood.Dataset.from_arrays(codes, y, label_mode=2, divisor=255.0)
    assert ds.pixel_storage == "u8" and ds.nbytes == 0  # the caller's bytes, no float copy
    assert np.array_equal(ds.x, codes.astype(np.float32) / np.float32(255))
    raw = hood.Dataset.from_arrays(codes)
    assert np.array_equal(raw.x, codes.astype(np.float32))
    try:
        hood.Dataset.from_arrays(codes.astype(np.float32), divisor=255.0)
        raise AssertionError("a divisor for float x was accepted")
    except ValueError as e:
        assert "uint8" in str(e)
    # Keras' fit on a uint8 array trains on its float32 cast: the same bits as fitting that
    # cast, and the codes are wrapped (their address), not converted
    seen = []
    wrap_u8 = core.lib.hood_dataset_wrap_u8

    def spy(out, address, d, n, divisor):
        seen.append((address, divisor))
        return wrap_u8(out, address, d, n, divisor)

    monkeypatch.setattr(core.lib, "hood_dataset_wrap_u8", spy)
    weights = []
    for x in (codes, codes.astype(np.float32)):
        hood.keras.utils.set_random_seed(7)
        model = Sequential([Dense(4, activation="relu", input_dim=40),
                            Dense(1, activation="sigmoid")])
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        weights.append(model.get_weights())
    assert seen == [(codes.ctypes.data, 1.0)]
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_views_of_hood_memory_outlive_their_dataset():
    import hood
    x, y = two_class_data()
    ds = hood.Dataset.from_arrays(x.astype(np.float64), y, label_mode=2)
    xs, labels = ds.x, ds.labels
    del ds
    gc.collect()
    junk = [np.ones(1000, np.float32) for _ in range(100)]  # reuse freed memory if it were freed
    assert np.array_equal(xs, x) and np.array_equal(labels[:, 0], y)
    assert not xs.flags.writeable
    del junk


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_leak_over_1000_create_fit_free_cycles():
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 64)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)

    def cycle():
        # ~0.5 MB of parameters, gradients and optimizer state per model: a leaked model per
        # cycle would grow the process by hundreds of MB.
        model = Sequential([Dense(128, activation="relu", input_dim=64),
                            Dense(128, activation="relu"), Dense(1, activation="sigmoid")])
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        model.predict(x[:8], verbose=0)

    for _ in range(50):
        cycle()
    gc.collect()
    before = rss_bytes()
    for _ in range(1000):
        cycle()
    gc.collect()
    grown = rss_bytes() - before
    assert grown < 20 * 2 ** 20, "RSS grew by %.1f MB" % (grown / 2 ** 20)
