"""Ctrl-C during fit: KeyboardInterrupt at the next batch, the weights of the last batch kept,
the model usable, Python's SIGINT handler restored; a callback's exception comes out of fit."""
import os
import signal
import threading

import numpy as np
import pytest

from conftest import seed_model, two_class_data


def test_sigint_during_fit_raises_keyboardinterrupt_and_keeps_weights():
    from hood.keras.callbacks import Callback
    x, y = two_class_data(n=2000, d=8)
    model = seed_model(8)
    model.fit(x, y, epochs=1, verbose=0)
    before = model.get_weights()
    epochs_seen = []

    class KillAfterFirstEpoch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs_seen.append(epoch)
            if epoch == 0:
                threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=20000, batch_size=8, verbose=0,
                  callbacks=[KillAfterFirstEpoch()])
    from hood._lib import lib
    # hood itself stopped (not only the Python callbacks): far from the 1 + 20,000 epochs asked
    assert 2 <= lib.hood_model_epochs_done(model._handle.ptr) < 10000
    assert len(epochs_seen) >= 1
    after = model.get_weights()
    assert all(np.isfinite(w).all() for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # The model goes on from where it stopped (hood resumes the epoch: same settings).
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 1
    assert model.predict(x[:4], verbose=0).shape == (4, 1)


def test_exception_in_a_callback_stops_fit_and_propagates():
    from hood.keras.callbacks import Callback
    x, y = two_class_data()
    model = seed_model(2)

    class Boom(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                raise RuntimeError("boom at batch 2")

    with pytest.raises(RuntimeError, match="boom at batch 2"):
        model.fit(x, y, epochs=50, verbose=0, callbacks=[Boom()])
    assert model.predict(x[:2], verbose=0).shape == (2, 1)


def test_stop_training_from_a_callback_is_not_an_error():
    from hood.keras.callbacks import Callback
    x, y = two_class_data()
    model = seed_model(2)

    class Stop(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=50, verbose=0, callbacks=[Stop()])
    assert history.epoch == [0, 1, 2]
