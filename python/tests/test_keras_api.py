"""The Keras surface: History keys, progress output, summary, get/set_weights shapes,
save/load_model, callbacks, optimizers' defaults, image_dataset_from_directory."""
import csv

import numpy as np
import pytest

from conftest import seed_model, two_class_data


def test_history_keys_follow_the_metrics():
    from hood.keras import Sequential
    from hood.keras.layers import Dense
    x, y = two_class_data()
    h = seed_model(2).fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    assert list(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert h.epoch == [0, 1, 2] and all(len(v) == 3 for v in h.history.values())
    model = Sequential([Dense(1, activation="sigmoid", input_dim=2)])
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    assert list(model.fit(x, y, epochs=2, verbose=0).history) == ["loss"]
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_verbose_prints_keras_progress(capsys):
    x, y = two_class_data()
    seed_model(2).fit(x, y, epochs=2, batch_size=50, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4 \u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501\u2501" in out
    assert " - accuracy: " in out and " - loss: " in out
    seed_model(2).fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_predict_shape_dtype_and_summary(capsys):
    x, y = two_class_data()
    model = seed_model(2)
    out = model.predict(x, verbose=0)
    assert out.shape == (200, 1) and out.dtype == np.float32
    assert ((out > 0) & (out < 1)).all()
    model.summary()
    text = capsys.readouterr().out
    assert "(None, 10)" in text and "Total params: 41" in text and "Dense" in text


def test_weights_have_keras_shapes_and_set_weights_round_trips():
    x, y = two_class_data()
    model = seed_model(2)
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(2, 10), (10,), (10, 1), (1,)]
    new = [np.full(s, 0.25, np.float32) for s in shapes]
    model.set_weights(new)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), new))
    assert np.array_equal(model.layers[0].get_weights()[0], new[0])
    # A hand check: every hidden unit gives tanh(0.25 * (x0 + x1) + 0.25).
    h = np.tanh(0.25 * x[:1].sum() + 0.25)
    expected = 1 / (1 + np.exp(-(10 * 0.25 * h + 0.25)))
    assert abs(model.predict(x[:1], verbose=0)[0, 0] - expected) < 1e-5
    with pytest.raises(ValueError):
        model.set_weights(new[:3] + [np.zeros(2, np.float32)])


def test_save_and_load_model(tmp_path):
    from hood.keras.models import load_model
    x, y = two_class_data()
    model = seed_model(2)
    model.fit(x, y, epochs=3, verbose=0)
    model.save(tmp_path / "m.hood")
    loaded = load_model(tmp_path / "m.hood")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.loss == "binary_crossentropy" and type(loaded.optimizer).__name__ == "SGD"
    assert [w.shape for w in loaded.get_weights()] == [(2, 10), (10,), (10, 1), (1,)]


def test_optimizer_defaults_are_keras():
    from hood.keras import optimizers
    assert optimizers.SGD().learning_rate == 0.01 and optimizers.SGD().momentum == 0.0
    assert optimizers.Adam().learning_rate == 0.001 and optimizers.Adam().beta_2 == 0.999
    assert optimizers.RMSprop().rho == 0.9 and optimizers.RMSprop().epsilon == 1e-7
    assert type(optimizers.get("SGD")).__name__ == "SGD"


def test_early_stopping_checkpoint_and_csv_logger(tmp_path):
    from hood.keras import callbacks
    from hood.keras.models import load_model
    x, y = two_class_data()
    model = seed_model(2)
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    log = tmp_path / "log.csv"
    ckpt = tmp_path / "m-{epoch:02d}.hood"
    h = model.fit(x, y, epochs=20, verbose=0,
                  callbacks=[stop, callbacks.CSVLogger(log), callbacks.ModelCheckpoint(ckpt)])
    assert len(h.epoch) == 2  # no epoch improves the loss by 10: stopped after patience 1
    assert stop.stopped_epoch == 1
    rows = list(csv.reader(open(log)))
    assert rows[0] == ["epoch", "accuracy", "loss"] and len(rows) == 3
    assert float(rows[2][2]) == h.history["loss"][1]
    assert load_model(tmp_path / "m-02.hood").get_weights()[0].shape == (2, 10)


def test_learning_rate_scheduler():
    from hood import _lib
    from hood.keras import callbacks
    if not _lib.has("hood_model_set_learning_rate"):
        pytest.skip("this libhood has no hood_model_set_learning_rate")
    x, y = two_class_data()
    model = seed_model(2)
    h = model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 0.1 / (e + 1))])
    assert np.allclose(h.history["learning_rate"], [0.1, 0.05, 0.1 / 3])


@pytest.fixture
def image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(3)
    for k, name in enumerate(["cats", "dogs", "owls"]):
        (tmp_path / name).mkdir()
        for i in range(5 + k):
            pixels = rng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
            pixels[..., 0] = 80 * k  # the class is readable from the red channel
            Image.fromarray(pixels).save(tmp_path / name / ("%d.png" % i))
    return tmp_path


def test_image_dataset_from_directory(image_folder, capsys):
    import gc
    from hood.keras.utils import image_dataset_from_directory
    ds = image_dataset_from_directory(image_folder, image_size=(12, 10), batch_size=4)
    assert "Found 18 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["cats", "dogs", "owls"]
    batches = list(ds)
    assert len(batches) == len(ds) == 5
    images, labels = batches[0]
    assert images.shape == (4, 12, 10, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and set(np.unique(ds.y)) == {0, 1, 2}
    assert images.max() > 1.0  # Keras' 0..255 values
    x, y = ds.as_arrays()
    assert np.array_equal(x[:, 0, 0, 0], 80.0 * y)  # each image's label is its folder
    del ds, batches, images
    gc.collect()
    assert np.array_equal(x[:, 0, 0, 0], 80.0 * y)  # the views kept hood's matrix alive


def test_image_datasets_keep_8_bit_pixels(image_folder):
    from hood.keras.utils import image_dataset_from_directory
    ds = image_dataset_from_directory(image_folder, image_size=(12, 10), verbose=False)
    n, d = 18, 12 * 10 * 3
    assert ds._dataset.pixel_storage == "u8" and ds._dataset.nbytes == n * d  # a quarter
    x, y = ds.as_arrays()  # widened into a float copy owned by the dataset
    assert ds._dataset.nbytes == n * d * 5
    assert np.array_equal(x, np.round(x)) and x.max() > 1.0 and x.dtype == np.float32


def test_fit_on_an_image_dataset(image_folder):
    from hood.keras import Sequential
    from hood.keras.layers import Dense, Flatten, Input
    from hood.keras.utils import image_dataset_from_directory
    train, val = image_dataset_from_directory(image_folder, image_size=(12, 10), batch_size=4,
                                              validation_split=0.25, subset="both",
                                              color_mode="grayscale", verbose=False)
    model = Sequential([Input(shape=(12, 10, 1)), Flatten(), Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert "val_accuracy" in h.history
    assert model.predict(val, verbose=0).shape == (len(val.y), 3)
