"""Pickling a model round-trips: the architecture, weights, optimizer state, history and
compile settings, for trained and untrained models."""
import pickle

import numpy as np

from conftest import seed_model, two_class_data


def test_trained_model_round_trips():
    x, y = two_class_data()
    model = seed_model(2, optimizer="adam")
    model.fit(x, y, epochs=5, verbose=0)
    data = pickle.dumps(model)
    copy = pickle.loads(data)
    for a, b in zip(model.get_weights(), copy.get_weights()):
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    assert np.array_equal(model.predict(x, verbose=0), copy.predict(x, verbose=0))
    assert copy.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    # The optimizer state came along: both continue to the same weights.
    model.fit(x, y, epochs=2, verbose=0)
    copy.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), copy.get_weights()):
        assert np.array_equal(a, b)


def test_copy_outlives_the_original():
    import gc
    x, y = two_class_data()
    model = seed_model(2)
    model.fit(x, y, epochs=2, verbose=0)
    expected = model.predict(x, verbose=0)
    copy = pickle.loads(pickle.dumps(model))
    del model
    gc.collect()
    assert np.array_equal(copy.predict(x, verbose=0), expected)


def test_unbuilt_model_round_trips():
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    model = Sequential([Dense(4, activation="relu"), Dense(1, activation="sigmoid")])
    copy = pickle.loads(pickle.dumps(model))
    assert [layer.units for layer in copy.layers] == [4, 1]
    copy.compile(loss="binary_crossentropy", optimizer="sgd")
    x, y = two_class_data()
    copy.fit(x, y, epochs=1, verbose=0)
    assert copy.predict(x[:3], verbose=0).shape == (3, 1)
