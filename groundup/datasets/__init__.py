"""Datasets, like ``torchvision.datasets``: MNIST, Fashion-MNIST, MNIST-1D, the 8x8 digits, toy sets,
generated detection and segmentation sets, and text for language modelling (:mod:`.text`).

Every loader works offline when its data is installed (see :mod:`groundup.datasets.mnist` for the
sources it tries) and tells you the options when it is not. Image datasets also expose their whole
split as arrays (``.data``, ``.targets``, ``.tensors()``) because batching those directly is what
keeps data loading off the critical path of a CPU training run.
"""

from groundup.datasets import text, toy
from groundup.datasets.detection import MNISTDetection, area_resize_matrix
from groundup.datasets.digits import digits
from groundup.datasets.download import ChecksumError, cache_dir, download_url, fetch, sha256_file
from groundup.datasets.idx import read_idx, write_idx
from groundup.datasets.mnist import MNIST, FashionMNIST, SafeArrayUnpickler, safe_load_arrays
from groundup.datasets.mnist1d import MNIST1D
from groundup.datasets.mnist1d import make_dataset as make_mnist1d
from groundup.datasets.shapes import SHAPE_CLASSES, Shapes, make_shapes
from groundup.datasets.text import (
    BPTTStreams,
    RandomWindows,
    load_names,
    read_text,
    shakespeare_titles,
    shakespeare_works,
    split_words,
    train_val_split_text,
)
from groundup.datasets.toy import blobs, circles, linear, linearly_separable, moons, sine, spirals, xor

__all__ = [
    "BPTTStreams",
    "RandomWindows",
    "load_names",
    "read_text",
    "shakespeare_titles",
    "shakespeare_works",
    "split_words",
    "text",
    "train_val_split_text",
    "MNIST",
    "MNIST1D",
    "ChecksumError",
    "FashionMNIST",
    "SafeArrayUnpickler",
    "blobs",
    "cache_dir",
    "circles",
    "digits",
    "download_url",
    "fetch",
    "linear",
    "linearly_separable",
    "make_mnist1d",
    "moons",
    "read_idx",
    "safe_load_arrays",
    "sha256_file",
    "sine",
    "spirals",
    "toy",
    "write_idx",
    "xor",
]
__all__ += ["MNISTDetection", "area_resize_matrix", "SHAPE_CLASSES", "Shapes", "make_shapes"]
