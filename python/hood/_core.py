"""_core.py — hood's objects in Python: Dataset (a hood_dataset over NumPy memory, zero-copy
when the layouts agree), ModelHandle (an owned hood_model) and run_fit (hood_model_fit with
Python callbacks, Ctrl-C and exceptions carried across the C frames). No Keras semantics."""
import ctypes
import signal
import threading

import numpy as np

from . import _lib
from ._lib import check, lib

LABELS_INT, LABELS_CATEGORICAL, LABELS_BINARY, LABELS_NONE = range(4)


class _ArrayOwner:
    """Exposes hood memory to NumPy; the array's .base is this object, which holds owner."""

    def __init__(self, owner, address, shape, typestr="<f4"):
        self.owner = owner
        self.__array_interface__ = {"data": (address, True), "shape": tuple(shape),
                                    "typestr": typestr, "version": 3}


def hood_array(owner, address, shape):
    """A read-only float32 array over hood memory at address that keeps owner alive."""
    if not address or 0 in shape:
        return np.zeros(shape, np.float32)
    return np.asarray(_ArrayOwner(owner, address, shape))


def as_matrix(x, what="x", keep_uint8=False):
    """x as a C-contiguous float32 (n, d) array: the same object when it already is one (no
    copy), else converted once (another dtype or order). (n, ...) is flattened to (n, d).
    With keep_uint8 a uint8 array stays uint8 (Dataset.from_arrays wraps its codes)."""
    a = np.asarray(x)
    if a.ndim == 0:
        raise ValueError("%s must be an array of samples, got a scalar" % what)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    elif a.ndim > 2:
        a = a.reshape(a.shape[0], -1)
    dtype = np.uint8 if keep_uint8 and a.dtype == np.uint8 else np.float32
    return np.ascontiguousarray(a, dtype=dtype)


class Dataset:
    """A hood_dataset. Built from arrays it wraps x without a copy when x is C-contiguous
    float32 or uint8 (n, d) (and keeps x alive); labels are copied into hood."""

    def __init__(self, ptr, keep=None):
        self._ptr = ptr
        self._keep = keep  # the NumPy array hood reads, when wrapped

    @classmethod
    def from_arrays(cls, x, y=None, label_mode=LABELS_CATEGORICAL, num_classes=0, divisor=1.0):
        """x: (n, ...) samples. A uint8 x is kept as 8-bit codes (a quarter of float32's
        memory, widened a batch at a time): its values are code / divisor, so the default 1.0
        trains on what np.float32(x) holds and 255.0 on what np.float32(x) / np.float32(255)
        holds, bit for bit. Any other dtype is read as float32 (divisor must then be 1)."""
        x = as_matrix(x, keep_uint8=True)
        n, d = x.shape
        if n == 0 or d == 0:
            raise ValueError("x must have samples and features, got shape %s" % (x.shape,))
        ptr = ctypes.c_void_p()
        if x.dtype == np.uint8:
            check(lib.hood_dataset_wrap_u8(ctypes.byref(ptr), x.ctypes.data, d, n,
                                           float(divisor)))
        elif divisor != 1.0:
            raise ValueError("divisor applies to uint8 x only (x is %s)" % x.dtype)
        else:
            check(lib.hood_dataset_wrap(ctypes.byref(ptr), x.ctypes.data, d, n))
        ds = cls(ptr, keep=x)
        if y is not None:
            ds.set_label_values(y, label_mode, num_classes)
        return ds

    @classmethod
    def load(cls, path):
        """A .npz, .npy or .csv file, as `hood train` reads it."""
        opts = _lib.new_options(_lib.CsvOptions, lib.hood_csv_options_init)
        ptr = ctypes.c_void_p()
        check(lib.hood_dataset_load(str(path).encode(), ctypes.byref(opts), ctypes.byref(ptr)))
        return cls(ptr)

    def set_label_values(self, y, mode, num_classes=0):
        y = np.asarray(y)
        y = np.ascontiguousarray(y.reshape(y.shape[0], -1) if y.ndim else y, dtype=np.float32)
        if y.ndim != 2 or y.shape[0] != self.samples:
            raise ValueError("y has %d samples, x has %d" % (y.shape[0] if y.ndim else 0,
                                                            self.samples))
        check(lib.hood_dataset_set_label_values(self._ptr, mode, y.ctypes.data, y.shape[1],
                                                num_classes))

    def __del__(self):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr:
            lib.hood_dataset_free(ptr)

    @property
    def samples(self):
        return lib.hood_dataset_samples(self._ptr)

    @property
    def features(self):
        return lib.hood_dataset_features(self._ptr)

    def __len__(self):
        return self.samples

    @property
    def x_address(self):
        """Where hood reads X (the wrapped array's buffer when no copy was made)."""
        return lib.hood_dataset_x(self._ptr)

    @property
    def pixel_storage(self):
        """'u8' when X is kept as 8-bit codes (images; x widens them into a float copy on
        first use), else 'float'."""
        return "u8" if lib.hood_dataset_storage(self._ptr) == 2 else "float"  # HOOD_PIXELS_U8

    @property
    def nbytes(self):
        """Bytes of X this dataset owns now (0 for a wrapped caller's array)."""
        return lib.hood_dataset_x_bytes(self._ptr)

    @property
    def image_shape(self):
        h, w, c = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        lib.hood_dataset_image_shape(self._ptr, ctypes.byref(h), ctypes.byref(w), ctypes.byref(c))
        return (h.value, w.value, c.value) if h.value else None

    @property
    def x(self):
        """X as a read-only (n, d) float32 array ((n, h, w, c) for images) over hood's memory;
        it keeps this dataset alive."""
        shape = (self.samples,) + (self.image_shape or (self.features,))
        return hood_array(self, self.x_address, shape)

    @property
    def label_mode(self):
        return lib.hood_dataset_label_mode(self._ptr)

    @property
    def labels(self):
        """Labels as a read-only (n, width) float32 array over hood's memory, or None."""
        width = lib.hood_dataset_label_width(self._ptr)
        address = lib.hood_dataset_labels(self._ptr)
        if not width or not address:
            return None
        return hood_array(self, address, (self.samples, width))

    @property
    def class_names(self):
        k = lib.hood_dataset_num_classes(self._ptr)
        names = [lib.hood_dataset_class_name(self._ptr, i) for i in range(k)]
        return [s.decode() for s in names] if names and all(names) else None


class ModelHandle:
    """Owns one hood_model pointer; freed when the last reference goes."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        ptr, self.ptr = getattr(self, "ptr", None), None
        if ptr:
            lib.hood_model_free(ptr)

    @classmethod
    def load(cls, path):
        ptr = ctypes.c_void_p()
        check(lib.hood_model_load(str(path).encode(), ctypes.byref(ptr)))
        return cls(ptr)

    def to_bytes(self):
        """The bytes of the model's .hood file (in memory when libhood can, else via a file)."""
        if _lib.has("hood_model_save_to_buffer") and _lib.has("hood_free"):
            data, size = ctypes.c_void_p(), ctypes.c_size_t()
            check(lib.hood_model_save_to_buffer(self.ptr, ctypes.byref(data), ctypes.byref(size)))
            try:
                return ctypes.string_at(data, size.value)
            finally:
                lib.hood_free(data)
        import os
        import tempfile
        with tempfile.TemporaryDirectory(prefix="hood-") as tmp:
            path = os.path.join(tmp, "model.hood")
            check(lib.hood_model_save(self.ptr, path.encode()))
            with open(path, "rb") as f:
                return f.read()

    @classmethod
    def from_bytes(cls, data):
        ptr = ctypes.c_void_p()
        if _lib.has("hood_model_load_from_buffer"):
            check(lib.hood_model_load_from_buffer(ctypes.byref(ptr), data, len(data)))
            return cls(ptr)
        import os
        import tempfile
        with tempfile.TemporaryDirectory(prefix="hood-") as tmp:
            path = os.path.join(tmp, "model.hood")
            with open(path, "wb") as f:
                f.write(data)
            return cls.load(path)


class _FitRun:
    """What the C callbacks of one fit share: the Python callables, the first exception one
    raised (re-raised after fit returns) and whether SIGINT arrived."""

    def __init__(self, on_epoch, on_batch):
        self.on_epoch, self.on_batch = on_epoch, on_batch
        self.error = None
        self.interrupted = False
        self.stopped = False  # a Python callback asked to stop: not an error

    def sigint(self, signum, frame):
        # Runs in the main thread when hood is back in Python (a callback): no exception here,
        # the batch callback sees the flag and stops hood cleanly.
        self.interrupted = True

    def batch(self, user, epoch, batch, num_batches, loss, accuracy):
        try:
            if self.on_batch is not None and self.error is None and not self.interrupted:
                if self.on_batch(epoch, batch, num_batches, loss, accuracy):
                    self.stopped = True
                    return 1
        except BaseException as e:  # noqa: B036 -- carried across C, re-raised by run_fit
            self.error = self.error or e
        return 1 if self.error is not None or self.interrupted else 0

    def epoch(self, user, model, log):
        try:
            if self.on_epoch is not None and self.error is None and not self.interrupted:
                if self.on_epoch(log.contents):
                    return 1
        except BaseException as e:  # noqa: B036
            self.error = self.error or e
        return 1 if self.error is not None or self.interrupted else 0


def run_fit(handle, dataset, opts, on_epoch=None, on_batch=None):
    """hood_model_fit(handle, dataset, opts) with on_epoch(log) and on_batch(epoch, batch,
    num_batches, loss, accuracy) (a true result stops). Ctrl-C stops at the next batch with
    the weights kept and raises KeyboardInterrupt; a callback's exception is re-raised."""
    run = _FitRun(on_epoch, on_batch)
    opts.on_epoch_end = _lib.epoch_fn(run.epoch)
    opts.on_batch_end = _lib.batch_fn(run.batch)
    swap = (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if swap:
        signal.signal(signal.SIGINT, run.sigint)
    try:
        status = lib.hood_model_fit(handle.ptr, dataset._ptr, ctypes.byref(opts))
    finally:
        if swap:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        opts.on_epoch_end = _lib.epoch_fn()
        opts.on_batch_end = _lib.batch_fn()
    if run.error is not None:
        raise run.error
    if run.interrupted:
        raise KeyboardInterrupt
    if not (run.stopped and status == _lib.ESTOPPED):
        check(status)
