"""Samplers: which dataset indices an epoch visits, and in what order.

A sampler is an iterable of indices; a :class:`BatchSampler` groups them into lists of
``batch_size``. :class:`RandomSampler` draws a fresh permutation every epoch from its
``generator`` (a :class:`groundup.Generator`) or, if None, from groundup's global RNG, so
``groundup.manual_seed(s)`` makes the whole sequence of epochs repeat.

Internally each sampler here can also hand over a whole epoch as one NumPy index array
(``_epoch_indices``); the DataLoader's fast path slices that array instead of building Python
lists, and draws exactly the same random numbers as iteration does, so both paths agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from groundup.backend import Generator, rng


def _positive_int(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


class Sampler:
    """Base class: subclasses implement ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """``0, 1, …, len(data_source) - 1``, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the dataset's indices, redrawn every epoch.

    Without replacement it yields a permutation (several back to back if ``num_samples`` exceeds
    the dataset size); with ``replacement=True`` it draws ``num_samples`` indices uniformly.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _positive_int(self.num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self) -> np.ndarray:
        n, k, g = len(self.data_source), self.num_samples, rng(self.generator)
        if self.replacement:
            return g.integers(0, n, size=k, dtype=np.int64)
        if k == n:
            return g.permutation(n)
        reps = [g.permutation(n) for _ in range(-(-k // n))]  # ceil(k / n) permutations, then trim
        return np.concatenate(reps)[:k]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (redrawn every epoch)."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def _epoch_indices(self) -> np.ndarray:
        idx = np.asarray(self.indices, dtype=np.int64)
        return idx[rng(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one may be short).

    ``drop_last=True`` drops that short last batch, so every batch has exactly ``batch_size``.
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.drop_last = drop_last

    def _batches(self) -> Iterator[np.ndarray]:
        """The epoch's batches as int64 index arrays (slices of one array when the sampler allows)."""
        bs = self.batch_size
        if _has_epoch_indices(self.sampler):
            idx = self.sampler._epoch_indices()
            stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
            for start in range(0, stop, bs):
                yield idx[start : start + bs]
            return
        for batch in self._lists():
            yield np.asarray(batch, dtype=np.int64)

    def _lists(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        if _has_epoch_indices(self.sampler):
            return (b.tolist() for b in self._batches())
        return self._lists()

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


_OWN_ITERS = {SequentialSampler.__iter__, RandomSampler.__iter__, SubsetRandomSampler.__iter__}


def _has_epoch_indices(sampler: Any) -> bool:
    """True when ``sampler``'s iteration is exactly its ``_epoch_indices`` (not overridden by a subclass)."""
    return type(sampler).__iter__ in _OWN_ITERS
