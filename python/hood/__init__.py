"""hood — Python bindings of libhood (Keras-style dense networks on cblas_sgemm), over ctypes.

`hood.keras` is the Keras-compatible API (Sequential, Dense, optimizers, callbacks,
image_dataset_from_directory, load_model). This module holds the exceptions and hood's own
Dataset. The library is found through HOOD_LIBRARY (a path to libhood.so) or the installed one.
"""
from ._lib import (DataError, DistributedError, DivergedError, FileSystemError, FormatError,
                   HoodError, InvalidArgumentError, OutOfMemoryError, ShapeError, StoppedError,
                   UnsupportedError, lib as _clib)
from ._core import Dataset

__version__ = _clib.hood_version_string().decode()

__all__ = ["HoodError", "InvalidArgumentError", "ShapeError", "DataError", "FormatError",
           "FileSystemError", "OutOfMemoryError", "DivergedError", "StoppedError",
           "UnsupportedError", "DistributedError", "Dataset", "__version__"]
