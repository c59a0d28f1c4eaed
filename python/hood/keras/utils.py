"""hood.keras.utils — image_dataset_from_directory (hood's ingest: libspng/libjpeg-turbo/libvips
into one float32 matrix), set_random_seed and to_categorical. Not a tf.data pipeline: the whole
folder is decoded once and batches are views of that matrix."""
import ctypes
import os

import numpy as np

from .. import _lib
from .._core import LABELS_BINARY, LABELS_CATEGORICAL, LABELS_INT, LABELS_NONE, Dataset
from .._lib import check, lib

_seed = [0]


def set_random_seed(seed):
    """The seed of weights, fit's shuffling and image_dataset_from_directory's order (hood's
    default is 0, as the CLI's: runs repeat unless a seed is set)."""
    _seed[0] = int(seed)


def get_random_seed():
    return _seed[0]


def to_categorical(x, num_classes=None):
    x = np.asarray(x, dtype=np.int64).reshape(-1)
    num_classes = int(num_classes or (x.max() + 1 if x.size else 0))
    out = np.zeros((x.size, num_classes), np.float32)
    out[np.arange(x.size), x] = 1.0
    return out


class ImageDataset:
    """What image_dataset_from_directory returns: iterate it for (images, labels) batches
    (NumPy, float32 (b, h, w, c) in 0..255 and labels as label_mode says), or take .x and .y
    whole. class_names and file_paths as Keras. Batches are read-only views of hood's matrix."""

    def __init__(self, dataset, batch_size, label_mode, preprocess):
        self._dataset = dataset
        self.batch_size = batch_size
        self.label_mode = label_mode
        self._preprocess = preprocess
        self.class_names = dataset.class_names or []

    @property
    def x(self):
        return self._dataset.x

    @property
    def y(self):
        labels = self._dataset.labels
        if labels is None or self.label_mode is None:
            return None
        if self.label_mode == "int":
            return labels[:, 0].astype(np.int32)
        return labels

    def as_arrays(self):
        """(x, y): every image and label at once (y None without labels)."""
        return self.x, self.y

    @property
    def file_paths(self):
        return [lib.hood_dataset_path(self._dataset._ptr, j).decode()
                for j in range(self._dataset.samples)]

    def __len__(self):
        n = self._dataset.samples
        return -(-n // self.batch_size) if self.batch_size else n

    def __iter__(self):
        x, y = self.x, self.y
        step = self.batch_size or 1
        for start in range(0, x.shape[0], step):
            xb = x[start:start + step] if self.batch_size else x[start]
            if y is None:
                yield xb
            else:
                yield xb, (y[start:start + step] if self.batch_size else y[start])

    def as_numpy_iterator(self):
        return iter(self)


_LABEL_MODES = {"int": LABELS_INT, "categorical": LABELS_CATEGORICAL, "binary": LABELS_BINARY,
                None: LABELS_NONE}
_COLOR_MODES = {"grayscale": 0, "rgb": 1, "rgba": 2}
_INTERPOLATIONS = {"bilinear": 0, "nearest": 1, "bicubic": 2, "lanczos3": 3, "area": 4}
_SUBSETS = {None: 0, "training": 1, "validation": 2, "both": 3}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """Keras' image_dataset_from_directory with its defaults (rgb, 256x256, values 0..255,
    int labels, shuffled); seed None means hood's seed (set_random_seed, default 0). Returns an
    ImageDataset, or (training, validation) with subset='both'."""
    if labels is None:
        label_mode = None
    elif labels != "inferred":
        raise NotImplementedError("hood: labels must be 'inferred' or None")
    for value, table, what in ((label_mode, _LABEL_MODES, "label_mode"),
                               (color_mode, _COLOR_MODES, "color_mode"),
                               (interpolation, _INTERPOLATIONS, "interpolation"),
                               (subset, _SUBSETS, "subset")):
        if value not in table:
            raise ValueError("%s must be one of %s, got %r" % (what, list(table), value))
    opts = _lib.new_options(_lib.IngestOptions, lib.hood_ingest_options_init)
    opts.image.height, opts.image.width = int(image_size[0]), int(image_size[1])
    opts.image.color_mode = _COLOR_MODES[color_mode]
    opts.image.interpolation = _INTERPOLATIONS[interpolation]
    opts.image.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
    opts.image.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
    opts.image.raw_values = True  # Keras yields 0..255
    opts.label_mode = _LABEL_MODES[label_mode]
    names = None
    if class_names is not None:
        names = (ctypes.c_char_p * len(class_names))(*[n.encode() for n in class_names])
        opts.class_names = names
        opts.num_class_names = len(class_names)
    opts.shuffle = bool(shuffle)
    opts.has_seed = True
    opts.seed = get_random_seed() if seed is None else int(seed)
    opts.validation_split = float(validation_split or 0.0)
    opts.subset = _SUBSETS[subset]
    opts.follow_links = bool(follow_links)

    def on_message(user, message):
        print(message.decode("utf-8", "replace"))

    keep_fn = _lib.message_fn(on_message) if verbose else _lib.message_fn()
    opts.on_message = keep_fn
    out, val = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.hood_dataset_from_directory(os.fspath(directory).encode(), ctypes.byref(opts),
                                          ctypes.byref(out), ctypes.byref(val)))
    pp = _lib.new_options(_lib.Preprocess, lib.hood_preprocess_init)
    ctypes.memmove(ctypes.byref(pp), ctypes.byref(opts.image), ctypes.sizeof(_lib.Preprocess))
    train = ImageDataset(Dataset(out), batch_size, label_mode, pp)
    if subset == "both":
        return train, ImageDataset(Dataset(val), batch_size, label_mode, pp)
    return train
