"""Datasets: anything with ``__getitem__`` and ``__len__`` (map-style) or ``__iter__`` (iterable-style).

A map-style dataset answers "what is sample ``i``?"; the :class:`~groundup.utils.data.DataLoader`
decides which ``i`` to ask for and glues the answers into batches. The classes here mirror
``torch.utils.data``: :class:`TensorDataset` wraps tensors that share their first dimension,
:class:`Subset` views some indices of another dataset, :class:`ConcatDataset` chains datasets, and
:func:`random_split` cuts a dataset into non-overlapping random subsets (train/validation splits).
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from groundup.backend import Generator, rng
from groundup.creation import as_tensor
from groundup.tensor import Tensor


class Dataset:
    """A map-style dataset: subclasses implement ``__getitem__(i)`` and ``__len__()``.

    ``a + b`` makes a :class:`ConcatDataset`, as in PyTorch.
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses implement ``__iter__``.

    Use it for data that cannot be indexed (a generator, a file read line by line). The
    DataLoader batches whatever the iterator yields, in order; ``shuffle`` and samplers do not apply.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: Dataset) -> Dataset:
        raise TypeError("IterableDataset does not support + (ConcatDataset needs map-style datasets)")


class TensorDataset(Dataset):
    """Samples are ``(t[i] for t in tensors)``: tensors that share their first dimension.

    ``TensorDataset(X, y)`` is the usual wrapper for whole-dataset arrays; a DataLoader over it
    gathers each batch with one fancy-index per tensor, which is far faster than item-by-item
    loading. NumPy arrays are accepted too (wrapped without a copy).
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        tensors = tuple(t if isinstance(t, Tensor) else as_tensor(t) for t in tensors)
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first (sample) dimension")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(
                f"Size mismatch between tensors: TensorDataset needs every tensor to have the same "
                f"first dimension (the number of samples), got {sizes}"
            )
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``subset[i] = dataset[indices[i]]``)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after another; index ``i`` finds its dataset by bisection."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


def _split_lengths(n: int, lengths: Sequence[int | float]) -> list[int]:
    """Integer lengths from ``lengths`` (ints, or fractions that sum to 1), as PyTorch computes them."""
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is {frac}, not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        # The floor leaves a remainder; PyTorch hands it out one by one, round-robin from the first split.
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, s in enumerate(sizes):
            if s == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; that subset is empty", stacklevel=3)
        return sizes
    for i, length in enumerate(lengths):
        if isinstance(length, float) and not float(length).is_integer():
            raise ValueError(
                f"random_split: lengths must be ints that sum to len(dataset) ({n}) or fractions that sum "
                f"to 1; got {list(lengths)} (sum {total})"
            )
        if length < 0:
            raise ValueError(f"random_split: length at index {i} is negative ({length})")
    return [int(x) for x in lengths]


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Randomly split ``dataset`` into non-overlapping :class:`Subset` s of the given ``lengths``.

    ``lengths`` are either ints summing to ``len(dataset)`` or fractions summing to 1 (e.g.
    ``[0.8, 0.2]``); fractions are floored and the leftover samples go round-robin to the first
    splits, exactly as ``torch.utils.data.random_split`` does. The permutation comes from
    ``generator`` (a :class:`groundup.Generator`) or, if None, the global RNG.
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    if sum(sizes) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(sizes)}, from {list(lengths)}) does not equal the "
            f"length of the input dataset ({n}); give ints that sum to {n} or fractions that sum to 1"
        )
    perm = rng(generator).permutation(n).tolist()
    out, offset = [], 0
    for s in sizes:
        out.append(Subset(dataset, perm[offset : offset + s]))
        offset += s
    return out


def _gather_plan(dataset: Any) -> tuple[tuple[Any, ...], np.ndarray | None] | None:
    """``(arrays, index_map)`` when ``dataset`` is a plain TensorDataset or Subsets of one, else None.

    The DataLoader's fast path uses it: a batch of indices ``idx`` is then
    ``[a[index_map[idx]] for a in arrays]`` (``index_map`` None means identity) — one fancy-index
    per tensor instead of one ``__getitem__`` per sample.
    """
    index_map = None
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        idx = np.asarray(dataset.indices, dtype=np.int64)
        index_map = idx if index_map is None else idx[index_map]
        dataset = dataset.dataset
    plain = isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__
    if not plain or any(t.requires_grad for t in dataset.tensors):
        return None
    return tuple(t.data for t in dataset.tensors), index_map
