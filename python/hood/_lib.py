"""_lib.py — libhood loaded through ctypes: every foreign signature and every mirror of a
hood.h struct lives here, and nothing else (no NumPy, no Keras semantics). hood errors become
the exceptions below, carrying hood's one-line message."""
import ctypes
import ctypes.util
import os

# --- exceptions: one class per hood_status, each also the built-in a Python user expects ----


class HoodError(Exception):
    """A hood call failed; str() is hood's one-line message, .status the hood_status code."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class InvalidArgumentError(HoodError, ValueError):
    """HOOD_EINVAL: an argument is out of range."""


class ShapeError(HoodError, ValueError):
    """HOOD_ESHAPE: dimensions do not match."""


class DataError(HoodError, ValueError):
    """HOOD_EDATA: values are unusable (NaN/Inf, labels out of range)."""


class FormatError(HoodError, ValueError):
    """HOOD_EFORMAT: a file's bytes are not what its format says."""


class FileSystemError(HoodError, OSError):
    """HOOD_EIO: the file system refused (open, read, write, rename)."""


class OutOfMemoryError(HoodError, MemoryError):
    """HOOD_ENOMEM: an allocation failed or would not fit in memory."""


class DivergedError(HoodError, FloatingPointError):
    """HOOD_EDIVERGED: training produced a non-finite loss or weight."""


class StoppedError(HoodError):
    """HOOD_ESTOPPED: a callback (or an interrupt) stopped the call."""


class UnsupportedError(HoodError, NotImplementedError):
    """HOOD_EUNSUPPORTED: a valid request this build of libhood cannot do."""


class DistributedError(HoodError):
    """HOOD_EMPI: a distributed-run failure."""


OK, EINVAL, ENOMEM, EIO, EFORMAT, ESHAPE, EDATA, EDIVERGED, ESTOPPED, EUNSUPPORTED, EMPI = range(11)
_ERRORS = {EINVAL: InvalidArgumentError, ENOMEM: OutOfMemoryError, EIO: FileSystemError,
           EFORMAT: FormatError, ESHAPE: ShapeError, EDATA: DataError,
           EDIVERGED: DivergedError, ESTOPPED: StoppedError, EUNSUPPORTED: UnsupportedError,
           EMPI: DistributedError}


def check(status):
    """Raises the exception of a failed hood_status, with hood_last_error()'s message."""
    if status == OK:
        return
    message = lib.hood_last_error().decode("utf-8", "replace")
    if not message:
        message = lib.hood_strerror(status).decode("utf-8", "replace")
    raise _ERRORS.get(status, HoodError)(message, status)


# --- loading: HOOD_LIBRARY (the build tree), else the installed libhood.so.SOVERSION ------------

def _candidates():
    env = os.environ.get("HOOD_LIBRARY")
    if env:
        return [env]  # named explicitly: no fallback that would hide a wrong path
    paths = []
    try:
        from . import _config  # written by meson at install time
        paths.append(os.path.join(_config.LIBDIR, "libhood.so." + _config.SOVERSION))
    except ImportError:
        pass
    paths.append("libhood.so.0")
    found = ctypes.util.find_library("hood")
    if found:
        paths.append(found)
    return paths


def _load():
    errors = []
    for path in _candidates():
        try:
            # CDLL (not PyDLL): every foreign call releases the GIL while it runs.
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("hood: cannot load libhood (set HOOD_LIBRARY to the .so): "
                      + "; ".join(errors))


lib = _load()

# --- types --------------------------------------------------------------------------------------

c_status = ctypes.c_int
c_enum = ctypes.c_int
c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_double_p = ctypes.POINTER(ctypes.c_double)
dataset_p = ctypes.c_void_p
model_p = ctypes.c_void_p

message_fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
progress_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t)


class Preprocess(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("height", ctypes.c_size_t), ("width", ctypes.c_size_t),
                ("color_mode", c_enum), ("interpolation", c_enum),
                ("crop_to_aspect_ratio", ctypes.c_bool), ("pad_to_aspect_ratio", ctypes.c_bool),
                ("raw_values", ctypes.c_bool), ("jpeg_draft", ctypes.c_bool),
                ("exif_transpose", ctypes.c_bool), ("alpha_background", ctypes.c_int32)]


class IngestOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("image", Preprocess), ("label_mode", c_enum),
                ("class_names", ctypes.POINTER(ctypes.c_char_p)),
                ("num_class_names", ctypes.c_size_t), ("labels_file", ctypes.c_char_p),
                ("shuffle", ctypes.c_bool), ("has_seed", ctypes.c_bool),
                ("seed", ctypes.c_uint64), ("validation_split", ctypes.c_double),
                ("subset", c_enum), ("follow_links", ctypes.c_bool), ("strict", ctypes.c_bool),
                ("block_untrusted", ctypes.c_bool), ("threads", ctypes.c_int),
                ("on_message", message_fn), ("on_progress", progress_fn),
                ("user", ctypes.c_void_p),
                ("shard_index", ctypes.c_size_t), ("shard_count", ctypes.c_size_t),
                ("pixel_storage", c_enum)]


class CsvOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("header", ctypes.c_bool), ("label_column", ctypes.c_long),
                ("label_columns", ctypes.c_size_t), ("label_mode", c_enum),
                ("shard_index", ctypes.c_size_t), ("shard_count", ctypes.c_size_t),
                ("labels_from_header", ctypes.c_bool), ("features", ctypes.c_size_t)]


class OptimizerConfig(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("kind", c_enum), ("learning_rate", ctypes.c_float),
                ("momentum", ctypes.c_float), ("nesterov", ctypes.c_bool),
                ("beta_1", ctypes.c_float), ("beta_2", ctypes.c_float),
                ("rho", ctypes.c_float), ("epsilon", ctypes.c_float)]


class EpochLog(ctypes.Structure):
    _fields_ = [("epoch", ctypes.c_size_t), ("loss", ctypes.c_double),
                ("accuracy", ctypes.c_double), ("has_validation", ctypes.c_bool),
                ("val_loss", ctypes.c_double), ("val_accuracy", ctypes.c_double),
                ("seconds", ctypes.c_double), ("gather_seconds", ctypes.c_double),
                ("forward_seconds", ctypes.c_double), ("backward_seconds", ctypes.c_double),
                ("update_seconds", ctypes.c_double), ("samples", ctypes.c_size_t)]


epoch_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, model_p, ctypes.POINTER(EpochLog))
batch_fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t,
                            ctypes.c_size_t, ctypes.c_double, ctypes.c_double)


class FitOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t),
                ("epochs", ctypes.c_size_t), ("batch_size", ctypes.c_size_t),
                ("shuffle", ctypes.c_bool), ("seed", ctypes.c_uint64),
                ("validation_split", ctypes.c_double), ("validation_data", dataset_p),
                ("early_stopping", ctypes.c_bool), ("monitor", c_enum),
                ("patience", ctypes.c_size_t), ("min_delta", ctypes.c_double),
                ("restore_best_weights", ctypes.c_bool),
                ("on_epoch_end", epoch_fn), ("on_batch_end", batch_fn),
                ("user", ctypes.c_void_p), ("shard", ctypes.c_void_p),
                ("class_weights", ctypes.c_void_p), ("num_class_weights", ctypes.c_size_t)]


# A newer libhood may know more trailing fields than these mirrors: options structs are
# allocated with this much room to spare, so its _init never writes past our memory.
_SPARE_BYTES = 512


def new_options(struct_type, init, *args):
    """A struct_type allocated with spare room and filled by its C _init: set fields by name
    afterwards, never from Python-side defaults."""
    buf = ctypes.create_string_buffer(ctypes.sizeof(struct_type) + _SPARE_BYTES)
    opts = struct_type.from_buffer(buf)
    opts._buffer = buf  # from_buffer keeps buf alive too; the name says so
    init(ctypes.byref(opts), *args)
    return opts


# --- signatures ---------------------------------------------------------------------------------

def _sig(name, restype, *argtypes, optional=False):
    if optional and not hasattr(lib, name):
        return
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)


_P = ctypes.POINTER
_sig("hood_strerror", ctypes.c_char_p, c_status)
_sig("hood_last_error", ctypes.c_char_p)
_sig("hood_version_string", ctypes.c_char_p)
_sig("hood_version_number", ctypes.c_int)

_sig("hood_dataset_create", c_status, _P(dataset_p), ctypes.c_size_t, ctypes.c_size_t)
_sig("hood_dataset_wrap", c_status, _P(dataset_p), ctypes.c_void_p, ctypes.c_size_t,
     ctypes.c_size_t)
_sig("hood_dataset_free", None, dataset_p)
_sig("hood_dataset_features", ctypes.c_size_t, dataset_p)
_sig("hood_dataset_samples", ctypes.c_size_t, dataset_p)
_sig("hood_dataset_x", ctypes.c_void_p, dataset_p)
_sig("hood_dataset_x_mutable", ctypes.c_void_p, dataset_p)
_sig("hood_dataset_set_labels", c_status, dataset_p, c_enum, ctypes.c_void_p, ctypes.c_size_t)
_sig("hood_dataset_set_label_values", c_status, dataset_p, c_enum, ctypes.c_void_p,
     ctypes.c_size_t, ctypes.c_size_t)
_sig("hood_dataset_label_mode", c_enum, dataset_p)
_sig("hood_dataset_label_width", ctypes.c_size_t, dataset_p)
_sig("hood_dataset_labels", ctypes.c_void_p, dataset_p)
_sig("hood_dataset_num_classes", ctypes.c_size_t, dataset_p)
_sig("hood_dataset_set_class_names", c_status, dataset_p, _P(ctypes.c_char_p), ctypes.c_size_t)
_sig("hood_dataset_class_name", ctypes.c_char_p, dataset_p, ctypes.c_size_t)
_sig("hood_dataset_path", ctypes.c_char_p, dataset_p, ctypes.c_size_t)
_sig("hood_dataset_image_shape", None, dataset_p, c_size_p, c_size_p, c_size_p)
_sig("hood_dataset_check_finite", c_status, dataset_p)
_sig("hood_dataset_storage", c_enum, dataset_p)
_sig("hood_dataset_x_u8", ctypes.c_void_p, dataset_p, ctypes.POINTER(ctypes.c_float))
_sig("hood_dataset_x_bytes", ctypes.c_size_t, dataset_p)
_sig("hood_dataset_wrap_u8", c_status, _P(dataset_p), ctypes.c_void_p, ctypes.c_size_t,
     ctypes.c_size_t, ctypes.c_float)

_sig("hood_preprocess_init", None, _P(Preprocess))
_sig("hood_ingest_options_init", None, _P(IngestOptions))
_sig("hood_dataset_from_directory", c_status, ctypes.c_char_p, _P(IngestOptions),
     _P(dataset_p), _P(dataset_p))
_sig("hood_csv_options_init", None, _P(CsvOptions))
_sig("hood_dataset_load", c_status, ctypes.c_char_p, _P(CsvOptions), _P(dataset_p))
_sig("hood_dataset_save", c_status, dataset_p, ctypes.c_char_p, _P(CsvOptions))

_sig("hood_optimizer_config_init", None, _P(OptimizerConfig), c_enum)
for _kind in ("activation", "loss", "optimizer", "initializer"):
    _sig("hood_%s_name" % _kind, ctypes.c_char_p, c_enum)
    _sig("hood_%s_parse" % _kind, c_status, ctypes.c_char_p, _P(c_enum))

_sig("hood_model_create", c_status, _P(model_p), ctypes.c_size_t)
_sig("hood_model_free", None, model_p)
_sig("hood_model_add_dense", c_status, model_p, ctypes.c_size_t, c_enum, ctypes.c_bool)
_sig("hood_model_set_initializer", c_status, model_p, ctypes.c_size_t, c_enum)
_sig("hood_model_compile", c_status, model_p, c_enum, _P(OptimizerConfig), ctypes.c_uint64)
_sig("hood_model_set_threads", c_status, model_p, ctypes.c_int)
_sig("hood_model_input_features", ctypes.c_size_t, model_p)
_sig("hood_model_num_layers", ctypes.c_size_t, model_p)
_sig("hood_model_layer_units", ctypes.c_size_t, model_p, ctypes.c_size_t)
_sig("hood_model_layer_activation", c_enum, model_p, ctypes.c_size_t)
_sig("hood_model_layer_use_bias", ctypes.c_bool, model_p, ctypes.c_size_t)
_sig("hood_model_output_units", ctypes.c_size_t, model_p)
_sig("hood_model_num_params", ctypes.c_size_t, model_p)
_sig("hood_model_is_compiled", ctypes.c_bool, model_p)
_sig("hood_model_loss", c_enum, model_p)
_sig("hood_model_optimizer", c_status, model_p, _P(OptimizerConfig))
_sig("hood_model_get_kernel", c_status, model_p, ctypes.c_size_t, ctypes.c_void_p)
_sig("hood_model_set_kernel", c_status, model_p, ctypes.c_size_t, ctypes.c_void_p)
_sig("hood_model_get_bias", c_status, model_p, ctypes.c_size_t, ctypes.c_void_p)
_sig("hood_model_set_bias", c_status, model_p, ctypes.c_size_t, ctypes.c_void_p)
_sig("hood_model_set_preprocess", c_status, model_p, _P(Preprocess))
_sig("hood_model_preprocess", ctypes.c_bool, model_p, _P(Preprocess))
_sig("hood_model_set_class_names", c_status, model_p, _P(ctypes.c_char_p), ctypes.c_size_t)
_sig("hood_model_num_classes", ctypes.c_size_t, model_p)
_sig("hood_model_class_name", ctypes.c_char_p, model_p, ctypes.c_size_t)

_sig("hood_fit_options_init", None, _P(FitOptions))
_sig("hood_model_fit", c_status, model_p, dataset_p, _P(FitOptions))
_sig("hood_model_evaluate", c_status, model_p, dataset_p, ctypes.c_size_t, c_double_p,
     c_double_p)
_sig("hood_model_predict", c_status, model_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t,
     ctypes.c_void_p)
_sig("hood_model_history_length", ctypes.c_size_t, model_p)
_sig("hood_model_history", _P(EpochLog), model_p, ctypes.c_size_t)
_sig("hood_model_epochs_done", ctypes.c_size_t, model_p)

_sig("hood_model_save", c_status, model_p, ctypes.c_char_p)
_sig("hood_model_load", c_status, ctypes.c_char_p, _P(model_p))
_sig("hood_model_save_weights_npz", c_status, model_p, ctypes.c_char_p)
_sig("hood_model_load_weights_npz", c_status, model_p, ctypes.c_char_p)

# Calls a newer libhood adds (issue 14); bound when present, callers test has().
_sig("hood_model_get_learning_rate", ctypes.c_float, model_p, optional=True)
_sig("hood_model_set_learning_rate", c_status, model_p, ctypes.c_float, optional=True)
_sig("hood_model_interrupt", None, model_p, optional=True)
_sig("hood_model_save_to_buffer", c_status, model_p, _P(ctypes.c_void_p), c_size_p,
     optional=True)
_sig("hood_model_load_from_buffer", c_status, _P(model_p), ctypes.c_void_p, ctypes.c_size_t,
     optional=True)
_sig("hood_free", None, ctypes.c_void_p, optional=True)

def has(name):
    """Whether the loaded libhood exports `name`."""
    return hasattr(lib, name)
