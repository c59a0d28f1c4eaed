"""hood.keras.callbacks — Keras' callback protocol over hood's epoch and batch callbacks: History,
the progress bar (ProgbarLogger), EarlyStopping (run by hood itself), ModelCheckpoint, CSVLogger,
LearningRateScheduler. Callbacks run in the thread that called fit, between batches."""
import csv
import math
import sys
import time

import numpy as np

from .layers import _ModelRef, _state_without_model


class Callback:
    """Keras' callback hooks. .model is a weak reference (no model <-> history cycle)."""

    _model = _ModelRef()
    __getstate__ = _state_without_model

    def __init__(self):
        self.params = {}

    @property
    def model(self):
        return self._model

    @model.setter
    def model(self, model):
        self._model = model

    def set_model(self, model):
        self._model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


def wants_batches(callback):
    """Whether callback overrides a per-batch hook (only those are called per batch)."""
    cls = type(callback)
    return ("on_train_batch_end" in vars(callback)
            or cls.on_train_batch_end is not Callback.on_train_batch_end
            or cls.on_batch_end is not Callback.on_batch_end)


class History(Callback):
    """fit's return value: .history maps 'loss', 'accuracy', 'val_loss', 'val_accuracy' (those
    the model reports) to one value per epoch; .epoch lists the epochs."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _timing(seconds, steps):
    per_step = seconds / steps if steps else 0.0
    if per_step >= 1:
        return "%.0fs %.0fs/step" % (seconds, per_step)
    if per_step >= 1e-3:
        return "%.0fs %.0fms/step" % (seconds, per_step * 1e3)
    return "%.0fs %.0fus/step" % (seconds, per_step * 1e6)


def _metrics(logs):
    return "".join(" - %s: %.4f" % (k, v) for k, v in sorted(logs.items())
                   if isinstance(v, float))


class ProgbarLogger(Callback):
    """Keras' progress output: verbose=1 a bar per epoch ("32/32 ━━━━ 0s 2ms/step - accuracy:
    ... - loss: ..."), redrawn while the epoch runs when stdout is a terminal or a notebook;
    verbose=2 one line per epoch."""

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _out(self):
        return self.stream or sys.stdout

    def on_train_begin(self, logs=None):
        out = self._out()
        isatty = getattr(out, "isatty", lambda: False)
        self.dynamic = self.verbose == 1 and (isatty() or "ipykernel" in sys.modules)
        self.steps = self.params.get("steps", 0)

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.monotonic()
        self.last_draw = 0.0
        print("Epoch %d/%d" % (epoch + 1, self.params.get("epochs", 0)), file=self._out())

    def _bar(self, done, timing, logs, end):
        fill = done * 20 // self.steps if self.steps else 20
        bar = "\u2501" * fill + " " * (20 - fill)
        self._out().write("\r%d/%d %s %s%s%s" % (done, self.steps, bar, timing, _metrics(logs),
                                                 end))
        self._out().flush()

    def on_train_batch_end(self, batch, logs=None):
        if not self.dynamic:
            return
        now = time.monotonic()
        if now - self.last_draw > 0.05:
            self.last_draw = now
            self._bar(batch + 1, _timing(now - self.start, batch + 1), logs or {}, "\x1b[K")

    def on_epoch_end(self, epoch, logs=None):
        timing = _timing(time.monotonic() - self.start, self.steps)
        if self.verbose == 1:
            self._bar(self.steps, timing, logs or {}, "\x1b[K\n" if self.dynamic else "\n")
        elif self.verbose == 2:
            print("%d/%d - %s%s" % (self.steps, self.steps, timing.replace(" ", " - ", 1),
                                    _metrics(logs or {})), file=self._out())


class EarlyStopping(Callback):
    """Keras' EarlyStopping; hood runs it inside fit (monitor val_loss, loss, val_accuracy or
    accuracy; baseline and start_from_epoch are not supported)."""

    MONITORS = {"val_loss": 0, "loss": 1, "val_accuracy": 2, "accuracy": 3}

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if monitor not in self.MONITORS:
            raise NotImplementedError("hood: EarlyStopping monitors %s, not %r"
                                      % (", ".join(self.MONITORS), monitor))
        natural = "max" if monitor.endswith("accuracy") else "min"
        if mode not in ("auto", natural):
            raise ValueError("EarlyStopping: mode %r for %s (hood: %s)" % (mode, monitor, natural))
        if baseline is not None or start_from_epoch:
            raise NotImplementedError("hood: EarlyStopping baseline / start_from_epoch")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), int(patience)
        self.verbose, self.restore_best_weights = verbose, bool(restore_best_weights)
        self.stopped_epoch = 0

    def _apply(self, opts):
        opts.early_stopping = True
        opts.monitor = self.MONITORS[self.monitor]
        opts.patience = self.patience
        opts.min_delta = float(self.min_delta)
        opts.restore_best_weights = self.restore_best_weights

    def on_train_end(self, logs=None):
        done = self.params.get("epochs_run", 0)
        if done < self.params.get("epochs", 0) - self.params.get("initial_epoch", 0):
            self.stopped_epoch = self.params.get("initial_epoch", 0) + done - 1
            if self.verbose > 0:
                print("Epoch %d: early stopping" % (self.stopped_epoch + 1))


class ModelCheckpoint(Callback):
    """Saves the model (hood's .hood file; .npz weights with save_weights_only) after each epoch
    or only when `monitor` improved; filepath may hold {epoch} and log keys."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError("hood: ModelCheckpoint saves per epoch only")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.better = np.greater if mode == "max" else np.less
        self.best = initial_value_threshold
        if self.best is None:
            self.best = -math.inf if mode == "max" else math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None or not self.better(value, self.best):
                return
            self.best = value
        if self.verbose > 0:
            print("\nEpoch %d: saving model to %s" % (epoch + 1, path))
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class CSVLogger(Callback):
    """One row per epoch: epoch, then the log keys in sorted order (as Keras)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = str(filename), separator, append
        self.file = self.writer = None

    def on_train_begin(self, logs=None):
        import os
        existed = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys = None if not existed else False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not self.keys:
            self.writer = csv.writer(self.file, delimiter=self.sep)
            header = self.keys is None
            self.keys = sorted(logs)
            if header:
                self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None


class LearningRateScheduler(Callback):
    """schedule(epoch, lr) -> lr, applied at the start of each epoch (needs a libhood with
    hood_model_set_learning_rate)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(self.model.optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # a schedule of the epoch alone, as Keras also accepts
            lr = self.schedule(epoch)
        lr = float(lr)
        self.model.optimizer.learning_rate = lr
        if self.verbose > 0:
            print("\nEpoch %d: LearningRateScheduler setting learning rate to %s."
                  % (epoch + 1, lr))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        if on_epoch_begin:
            self.on_epoch_begin = on_epoch_begin
        if on_epoch_end:
            self.on_epoch_end = on_epoch_end
        if on_train_batch_end:
            self.on_train_batch_end = on_train_batch_end
        if on_train_begin:
            self.on_train_begin = on_train_begin
        if on_train_end:
            self.on_train_end = on_train_end
