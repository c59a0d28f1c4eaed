"""hood.keras.models — Sequential (Keras' API over one hood_model) and load_model. The hood model
is built when the input width is known (input_dim/input_shape/Input, or the first data) and
the model compiled; weights, history and training position live in hood, not here."""
import ctypes
import math
import os
import sys
import time

import numpy as np

from .. import _lib
from .._core import (LABELS_BINARY, LABELS_CATEGORICAL, LABELS_INT, Dataset, ModelHandle,
                     as_matrix, run_fit)
from .._lib import check, lib
from . import callbacks as callbacks_module
from . import optimizers as optimizers_module
from .layers import Dense, Flatten, InputLayer, Layer, _unique_name

BCE, CCE, SCCE, MSE = range(4)
_ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid", "softmax"]


def _parse(kind, name):
    value = ctypes.c_int()
    check(getattr(lib, "hood_%s_parse" % kind)(str(name).encode(), ctypes.byref(value)))
    return value.value


def _verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


class Sequential:
    """Keras' Sequential: Sequential(), add(Dense(...)), compile, fit, evaluate, predict,
    summary, save, get_weights/set_weights; picklable."""

    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name or _unique_name("sequential")
        self.layers = []
        self._input_shape = None
        self._handle = None
        self._compiled = False
        self._accuracy = False
        self.loss = self.optimizer = None
        self.stop_training = False
        self.history = None
        for layer in layers or []:
            self.add(layer)

    # --- building --------------------------------------------------------------------------

    @property
    def _dense(self):
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError("hood: Sequential takes Dense, Flatten or Input layers, got %r"
                            % (layer,))
        if isinstance(layer, (InputLayer, Flatten)) and self._dense:
            raise NotImplementedError("hood: %s only before the first Dense layer"
                                      % type(layer).__name__)
        if layer._input_shape is not None and not self._dense:
            self._input_shape = layer._input_shape
        if isinstance(layer, InputLayer):
            return
        layer._model = self
        if isinstance(layer, Dense):
            layer._index = len(self._dense)
        self.layers.append(layer)
        self._handle = None  # a new architecture: built again (and compiled) on next use

    def pop(self):
        layer = self.layers.pop()
        self._handle = None
        return layer

    def build(self, input_shape=None):
        """Creates the hood model for samples of input_shape ((None, d) or (d,))."""
        if input_shape is not None:
            shape = tuple(input_shape)
            self._input_shape = shape[1:] if len(shape) > 1 and shape[0] is None else shape
        if self._input_shape is None:
            raise ValueError("hood: the model's input width is unknown: give the first layer "
                             "input_dim/input_shape, or call fit/predict first")
        if not self._dense:
            raise ValueError("hood: the model has no Dense layer")
        self._create(int(math.prod(self._input_shape)))

    @property
    def built(self):
        return self._handle is not None

    def _create(self, features):
        ptr = ctypes.c_void_p()
        check(lib.hood_model_create(ctypes.byref(ptr), features))
        handle = ModelHandle(ptr)
        for i, layer in enumerate(self._dense):
            check(lib.hood_model_add_dense(ptr, layer.units, _parse("activation", layer.activation),
                                           layer.use_bias))
            check(lib.hood_model_set_initializer(ptr, i, _parse("initializer",
                                                                layer.kernel_initializer)))
        if self._compiled:
            from .utils import get_random_seed
            cfg = self.optimizer._config()
            check(lib.hood_model_compile(ptr, self._loss_id, ctypes.byref(cfg), get_random_seed()))
        old = self._handle
        self._handle = handle
        if old is not None and self._compiled and lib.hood_model_is_compiled(old.ptr):
            self._copy_weights_from(old)  # Keras keeps the weights on a new compile

    def _copy_weights_from(self, old):
        same = lib.hood_model_input_features(old.ptr) == self._features and all(
            lib.hood_model_layer_units(old.ptr, i) == layer.units
            and lib.hood_model_layer_use_bias(old.ptr, i) == layer.use_bias
            for i, layer in enumerate(self._dense))
        if same and lib.hood_model_num_layers(old.ptr) == len(self._dense):
            keep, self._handle = self._handle, old
            weights = self.get_weights()
            self._handle = keep
            self.set_weights(weights)

    def _ready(self, features=None):
        """The hood model, built (from the data's width if need be) and compiled."""
        if not self._compiled:
            raise RuntimeError("You must call compile() before using the model.")
        if self._handle is None or not lib.hood_model_is_compiled(self._handle.ptr):
            if self._input_shape is None and features is not None:
                self._input_shape = (features,)
            self.build()
        if features is not None and features != self._features:
            raise ValueError("Input has %d features per sample; the model expects %d"
                             % (features, self._features))
        return self._handle.ptr

    @property
    def _features(self):
        return lib.hood_model_input_features(self._handle.ptr)

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Keras' compile: loss binary_crossentropy, categorical_crossentropy,
        sparse_categorical_crossentropy or mean_squared_error; metrics [] or ['accuracy']."""
        if loss is None:
            raise ValueError("hood: compile needs a loss")
        if not isinstance(loss, str):
            loss = getattr(loss, "__name__", loss)
        self._loss_id = _parse("loss", loss)
        self.loss = loss
        self._accuracy = False
        for metric in metrics or []:
            if metric not in ("accuracy", "acc"):
                raise NotImplementedError("hood: metric %r: only 'accuracy'" % (metric,))
            self._accuracy = True
        self.optimizer = optimizers_module.get(optimizer)
        self.optimizer._model = None
        self._compiled = True
        if self._input_shape is not None or self._handle is not None:
            if self._handle is not None and self._input_shape is None:
                self._input_shape = (self._features,)
            self.build()
        self.optimizer._model = self

    # --- data ------------------------------------------------------------------------------

    def _labels_for_loss(self, ds, y):
        units = self._dense[-1].units
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != ds.samples:
            raise ValueError("x has %d samples but y has %s" % (ds.samples,
                                                              y.shape[0] if y.ndim else "none"))
        if self._loss_id == SCCE:
            ds.set_label_values(y.reshape(-1, 1), LABELS_INT, units)
        elif self._loss_id == BCE and units == 1:
            ds.set_label_values(y.reshape(-1, 1), LABELS_BINARY)
        else:
            ds.set_label_values(y.reshape(y.shape[0], -1), LABELS_CATEGORICAL)

    def _dataset(self, x, y):
        """(hood Dataset, image dataset or None) for x, y; x wrapped without a copy when it is
        C-contiguous float32, or uint8 (kept as 8-bit codes: the values Keras' cast to float32
        gives, a quarter of the memory)."""
        from .utils import ImageDataset
        if isinstance(x, ImageDataset):
            self._ready(x._dataset.features)
            return x._dataset, x
        xm = as_matrix(x, keep_uint8=True)
        self._ready(xm.shape[1])
        ds = Dataset.from_arrays(xm)
        if y is None:
            raise ValueError("hood: y is needed (targets for every sample of x)")
        self._labels_for_loss(ds, y)
        return ds, None

    # --- training --------------------------------------------------------------------------

    def _logs(self, loss, accuracy, val=None):
        logs = {}
        if self._accuracy:
            logs["accuracy"] = float(accuracy)
        logs["loss"] = float(loss)
        if val is not None:
            if self._accuracy:
                logs["val_accuracy"] = float(val[1])
            logs["val_loss"] = float(val[0])
        return logs

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Keras' fit; returns a History. Trains epochs - initial_epoch epochs, continuing
        from the weights and optimizer state so far. Ctrl-C stops after the current batch,
        keeps the weights and raises KeyboardInterrupt."""
        if class_weight is not None or sample_weight is not None:
            raise NotImplementedError("hood: class_weight / sample_weight")
        if steps_per_epoch is not None or validation_freq != 1:
            raise NotImplementedError("hood: steps_per_epoch / validation_freq")
        ds, image_ds = self._dataset(x, y)
        ptr = self._handle.ptr
        val_ds = None
        if validation_data is not None:
            from .utils import ImageDataset
            if isinstance(validation_data, ImageDataset):
                val_ds = validation_data._dataset
            else:
                xv, yv = validation_data[0], validation_data[1]
                val_ds = Dataset.from_arrays(as_matrix(xv, keep_uint8=True))
                self._labels_for_loss(val_ds, yv)
        if image_ds is not None:
            batch_size = image_ds.batch_size or 1
            self._adopt_images(image_ds)
        opts = _lib.new_options(_lib.FitOptions, lib.hood_fit_options_init)
        opts.epochs = max(int(epochs) - int(initial_epoch), 0)
        opts.batch_size = int(batch_size or 32)
        opts.shuffle = bool(shuffle)
        from .utils import get_random_seed
        opts.seed = get_random_seed()
        opts.validation_split = float(validation_split or 0.0)
        opts.validation_data = val_ds._ptr if val_ds is not None else None

        history = callbacks_module.History()
        cbs = list(callbacks or [])
        for cb in cbs:
            if isinstance(cb, callbacks_module.EarlyStopping):
                cb._apply(opts)
        v = _verbose(verbose)
        if v:
            cbs.append(callbacks_module.ProgbarLogger(v))
        cbs.append(history)
        n_train = ds.samples - int(math.floor(ds.samples * opts.validation_split)) \
            if val_ds is None else ds.samples
        params = {"epochs": int(epochs), "steps": -(-n_train // opts.batch_size),
                  "verbose": v, "initial_epoch": int(initial_epoch), "epochs_run": 0}
        for cb in cbs:
            cb.set_model(self)
            cb.set_params(params)
        batch_cbs = [cb for cb in cbs if callbacks_module.wants_batches(cb)]
        first = lib.hood_model_epochs_done(ptr) - int(initial_epoch)
        self.stop_training = False

        def on_epoch(log):
            epoch = log.epoch - first
            val = (log.val_loss, log.val_accuracy) if log.has_validation else None
            logs = self._logs(log.loss, log.accuracy, val)
            params["epochs_run"] += 1
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                return True
            if epoch + 1 < int(epochs):
                for cb in cbs:
                    cb.on_epoch_begin(epoch + 1)
            return False

        def on_batch(epoch, batch, num_batches, loss, accuracy):
            logs = self._logs(loss, accuracy)
            for cb in batch_cbs:
                cb.on_train_batch_end(batch, logs)
                cb.on_batch_end(batch, logs)
            return self.stop_training

        for cb in cbs:
            cb.on_train_begin()
        if opts.epochs:
            for cb in cbs:
                cb.on_epoch_begin(int(initial_epoch))
            try:
                run_fit(self._handle, ds, opts, on_epoch, on_batch)
            except BaseException:
                if v == 1:
                    sys.stdout.write("\n")
                raise
        for cb in cbs:
            cb.on_train_end()
        history.model = self
        history.params = params
        self.history = history
        return history

    def _adopt_images(self, image_ds):
        """Keeps an image dataset's preprocessing and class names in the model (as hood train
        does), so a saved model predicts from image files the same way."""
        ptr = self._handle.ptr
        check(lib.hood_model_set_preprocess(ptr, ctypes.byref(image_ds._preprocess)))
        names = image_ds.class_names
        if names:
            arr = (ctypes.c_char_p * len(names))(*[n.encode() for n in names])
            check(lib.hood_model_set_class_names(ptr, arr, len(names)))

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss (and accuracy when compiled with it): a float, or [loss, accuracy]."""
        if sample_weight is not None:
            raise NotImplementedError("hood: sample_weight")
        start = time.monotonic()
        ds, image_ds = self._dataset(x, y)
        if image_ds is not None:
            batch_size = image_ds.batch_size
        loss, accuracy = ctypes.c_double(), ctypes.c_double()
        check(lib.hood_model_evaluate(self._handle.ptr, ds._ptr, int(batch_size or 32),
                                      ctypes.byref(loss), ctypes.byref(accuracy)))
        logs = self._logs(loss.value, accuracy.value)
        if _verbose(verbose):
            steps = -(-ds.samples // int(batch_size or 32))
            bar = callbacks_module.ProgbarLogger(1)
            bar.steps = steps
            bar.dynamic = False
            bar._bar(steps, callbacks_module._timing(time.monotonic() - start, steps), logs,
                     "\n")
        if return_dict:
            return logs
        return [logs["loss"], logs["accuracy"]] if self._accuracy else logs["loss"]

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """(n, units) float32 outputs of the last layer."""
        from .utils import ImageDataset
        start = time.monotonic()
        if isinstance(x, ImageDataset):
            xm = x.x
            xm = xm.reshape(xm.shape[0], -1)
        else:
            xm = as_matrix(x)
        ptr = self._ready(xm.shape[1])
        n = xm.shape[0]
        out = np.empty((n, lib.hood_model_output_units(ptr)), np.float32)
        if n:
            check(lib.hood_model_predict(ptr, xm.ctypes.data, n, int(batch_size or 32),
                                         out.ctypes.data))
        if _verbose(verbose):
            steps = max(-(-n // int(batch_size or 32)), 1)
            bar = callbacks_module.ProgbarLogger(1)
            bar.steps = steps
            bar._bar(steps, callbacks_module._timing(time.monotonic() - start, steps), {}, "\n")
        return out

    def __call__(self, x):
        return self.predict(x, verbose=0)

    # --- learning rate (LearningRateScheduler, optimizer.learning_rate = ...) ---------------

    def _get_learning_rate(self):
        if self._handle is None:
            return self.optimizer._learning_rate
        if _lib.has("hood_model_get_learning_rate"):
            return float(lib.hood_model_get_learning_rate(self._handle.ptr))
        cfg = _lib.new_options(_lib.OptimizerConfig, lib.hood_optimizer_config_init, 0)
        _lib.check(lib.hood_model_optimizer(self._handle.ptr, ctypes.byref(cfg)))
        return float(cfg.learning_rate)

    def _set_learning_rate(self, value):
        if self._handle is None:
            return
        if not _lib.has("hood_model_set_learning_rate"):
            raise _lib.UnsupportedError("hood: this libhood cannot change the learning rate of "
                                        "a compiled model (no hood_model_set_learning_rate)")
        check(lib.hood_model_set_learning_rate(self._handle.ptr, value))

    # --- weights, files, pickling ----------------------------------------------------------

    def _layer_params(self, i):
        ptr = self._handle.ptr
        units = lib.hood_model_layer_units(ptr, i)
        fan_in = lib.hood_model_input_features(ptr) if i == 0 else \
            lib.hood_model_layer_units(ptr, i - 1)
        return fan_in * units + (units if lib.hood_model_layer_use_bias(ptr, i) else 0)

    def _layer_weights(self, i):
        if self._handle is None:
            raise ValueError("the model is not built yet")
        ptr = self._handle.ptr
        units = lib.hood_model_layer_units(ptr, i)
        fan_in = lib.hood_model_input_features(ptr) if i == 0 else \
            lib.hood_model_layer_units(ptr, i - 1)
        kernel = np.empty((fan_in, units), np.float32)
        check(lib.hood_model_get_kernel(ptr, i, kernel.ctypes.data))
        if not lib.hood_model_layer_use_bias(ptr, i):
            return [kernel]
        bias = np.empty((units,), np.float32)
        check(lib.hood_model_get_bias(ptr, i, bias.ctypes.data))
        return [kernel, bias]

    def _set_layer_weights(self, i, weights):
        expected = self._layer_weights(i)
        if len(weights) != len(expected):
            raise ValueError("layer %d takes %d arrays, got %d" % (i, len(expected), len(weights)))
        for new, old in zip(weights, expected):
            if np.shape(new) != old.shape:
                raise ValueError("layer %d: weight of shape %s, expected %s"
                                 % (i, np.shape(new), old.shape))
        ptr = self._handle.ptr
        kernel = np.ascontiguousarray(weights[0], dtype=np.float32)
        check(lib.hood_model_set_kernel(ptr, i, kernel.ctypes.data))
        if len(weights) > 1:
            bias = np.ascontiguousarray(weights[1], dtype=np.float32)
            check(lib.hood_model_set_bias(ptr, i, bias.ctypes.data))

    def get_weights(self):
        """[kernel_0 (in, out), bias_0 (out,), kernel_1, ...] as Keras, copies."""
        return [w for i in range(len(self._dense)) for w in self._layer_weights(i)]

    def set_weights(self, weights):
        weights = list(weights)
        for i in range(len(self._dense)):
            count = len(self._layer_weights(i))
            self._set_layer_weights(i, weights[:count])
            weights = weights[count:]
        if weights:
            raise ValueError("%d weight arrays too many" % len(weights))

    def count_params(self):
        return lib.hood_model_num_params(self._handle.ptr) if self._handle else 0

    def save(self, filepath, overwrite=True, **kwargs):
        """hood's model file (architecture, optimizer state, history, weights), atomically."""
        if self._handle is None:
            raise ValueError("the model is not built yet")
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(filepath)
        check(lib.hood_model_save(self._handle.ptr, os.fspath(filepath).encode()))

    def save_weights(self, filepath, overwrite=True):
        """The weights as .npz: kernel_0, bias_0, ... (hood export-weights' format)."""
        check(lib.hood_model_save_weights_npz(self._handle.ptr, os.fspath(filepath).encode()))

    def load_weights(self, filepath):
        check(lib.hood_model_load_weights_npz(self._ready(), os.fspath(filepath).encode()))

    def __getstate__(self):
        state = self.__dict__.copy()
        handle = state.pop("_handle")
        state["_hood_bytes"] = handle.to_bytes() if handle is not None else None
        return state

    def __setstate__(self, state):
        data = state.pop("_hood_bytes")
        self.__dict__.update(state)
        self._handle = ModelHandle.from_bytes(data) if data is not None else None
        for layer in self.layers:
            layer._model = self
        if self.optimizer is not None:
            self.optimizer._model = self

    @classmethod
    def _from_handle(cls, handle):
        ptr = handle.ptr
        model = cls()
        model._input_shape = (lib.hood_model_input_features(ptr),)
        for i in range(lib.hood_model_num_layers(ptr)):
            act = _ACTIVATIONS[lib.hood_model_layer_activation(ptr, i)]
            model.add(Dense(lib.hood_model_layer_units(ptr, i), activation=act,
                            use_bias=lib.hood_model_layer_use_bias(ptr, i)))
        model._handle = handle
        if lib.hood_model_is_compiled(ptr):
            model._loss_id = lib.hood_model_loss(ptr)
            model.loss = lib.hood_loss_name(model._loss_id).decode()
            cfg = _lib.new_options(_lib.OptimizerConfig, lib.hood_optimizer_config_init, 0)
            _lib.check(lib.hood_model_optimizer(ptr, ctypes.byref(cfg)))
            model.optimizer = optimizers_module._from_config(cfg)
            model.optimizer._model = model
            model._compiled = True
            model._accuracy = model._loss_id != MSE
        return model

    # --- summary ---------------------------------------------------------------------------

    @property
    def input_shape(self):
        return (None,) + tuple(self._input_shape) if self._input_shape else None

    @property
    def output_shape(self):
        return (None, self._dense[-1].units) if self._dense else None

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Keras 3's table: layer (type), output shape, parameters; totals in bytes."""
        out = print_fn or print
        widths = (33, 24, 15)

        def row(left, mid, right, sep, cells=None, fill=" "):
            if cells is None:
                return left + sep.join(fill * w for w in widths) + right
            text = [" %s " % cells[0].ljust(widths[0] - 2), " %s " % cells[1].ljust(widths[1] - 2),
                    " %s " % cells[2].rjust(widths[2] - 2)]
            return mid + mid.join(text) + mid

        lines = ['Model: "%s"' % self.name, row("\u250f", None, "\u2513", "\u2533", fill="\u2501"),
                 row(None, "\u2503", None, None, ["Layer (type)", "Output Shape", "Param #"]),
                 row("\u2521", None, "\u2529", "\u2547", fill="\u2501")]
        total = 0
        shape = self._input_shape
        for k, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                shape = (layer.units,)
                params = layer.count_params() if self._handle else 0
            else:
                shape = (int(math.prod(shape)),) if shape else None
                params = 0
            total += params
            shown = "(None, %s)" % ", ".join(map(str, shape)) if shape else "?"
            lines.append(row(None, "\u2502", None, None, ["%s (%s)" % (layer.name,
                                                                    type(layer).__name__),
                                                       shown, str(params) if self._handle
                                                       else "0 (unbuilt)"]))
            if k + 1 < len(self.layers):
                lines.append(row("\u251c", None, "\u2524", "\u253c", fill="\u2500"))
        lines.append(row("\u2514", None, "\u2518", "\u2534", fill="\u2500"))
        size = "%d (%.2f B)" % (total, total * 4.0) if total * 4 < 1024 else \
            "%d (%.2f KB)" % (total, total * 4 / 1024.0) if total * 4 < 1 << 20 else \
            "%d (%.2f MB)" % (total, total * 4 / float(1 << 20))
        lines += [" Total params: " + size, " Trainable params: " + size,
                  " Non-trainable params: 0 (0.00 B)"]
        for line in lines:
            out(line)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A Sequential from a hood model file (Sequential.save, hood train)."""
    return Sequential._from_handle(ModelHandle.load(os.fspath(filepath)))
