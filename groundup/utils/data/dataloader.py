"""``DataLoader``: turn a dataset into an iterable of batches, as ``torch.utils.data.DataLoader`` does.

Each epoch, a sampler chooses the order of the indices, a :class:`BatchSampler` groups them, the
dataset is asked for each sample, and ``collate_fn`` (by default :func:`default_collate`) stacks
the samples of a batch into tensors.

Fast path. Asking a dataset for samples one by one and stacking them costs a Python call per
sample — for MNIST that is 50,000 calls an epoch, slower than the model on a small CPU. When the
dataset is a plain :class:`TensorDataset` (or a :class:`Subset` of one, e.g. from
:func:`random_split`) and ``collate_fn`` is the default, the loader instead gathers each batch with
one fancy-index per tensor, ``X.data[idx]``: a full shuffled pass over MNIST (50k x 784 float32,
batch 128) takes a few tens of milliseconds. The batches are identical to the generic path's.

Workers. ``num_workers`` is accepted so PyTorch scripts run unchanged, but loading always runs in
the main process: with whole-dataset arrays and the fast path there is nothing worth parallelising
on a 2-core machine, and in-process loading keeps runs deterministic and easy to debug. Likewise
``pin_memory`` (there is no GPU), ``timeout``, ``worker_init_fn``, ``prefetch_factor`` and
``persistent_workers`` are accepted and have no effect.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.backend import Generator
from groundup.creation import from_numpy, tensor
from groundup.functions.movement import stack
from groundup.tensor import Tensor
from groundup.utils.data.dataset import IterableDataset, _gather_plan
from groundup.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_STR_OBJ_DTYPE = re.compile(r"[SaUO]")  # NumPy dtype kinds that are text or Python objects

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays (and NumPy scalars) inside ``data`` to tensors, without batching.

    Used as the collate function when ``batch_size=None``. Tuples become lists, as in PyTorch.
    """
    if isinstance(data, np.ndarray):
        if _STR_OBJ_DTYPE.search(data.dtype.str) is not None:
            return data
        return from_numpy(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(data[key]) for key in data}
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts (as PyTorch does).

    - tensors are stacked along a new first dim (shapes must match);
    - NumPy arrays and NumPy scalars become tensors of their dtype, stacked;
    - Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor;
    - strings and bytes are returned as the list they came in;
    - dicts collate key by key; namedtuples field by field; tuples and lists position by position
      (a tuple sample gives a *list* of batched fields, as in PyTorch, so ``x, y = batch`` works).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            return stack(batch, 0)  # keeps the autograd graph, as torch.stack would
        shapes = {t.data.shape for t in batch}
        if len(shapes) > 1:
            raise RuntimeError(
                f"default_collate: stack expects each tensor to be equal size, but got shapes "
                f"{sorted(shapes)} in one batch; pad the samples, or pass a collate_fn"
            )
        return from_numpy(np.stack([t.data for t in batch]))
    if isinstance(elem, np.ndarray):
        if _STR_OBJ_DTYPE.search(elem.dtype.str) is not None:
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return default_collate([from_numpy(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return tensor(batch, dtype=_dt.bool)
    if isinstance(elem, float):
        return tensor(batch, dtype=_dt.float64)
    if isinstance(elem, int):
        return tensor(batch, dtype=_dt.int64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            clone = copy.copy(elem)
            clone.update(out)
            return clone
        except TypeError:  # a mapping type that cannot be copied/updated
            return out
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


class DataLoader:
    """Iterate over ``dataset`` in batches (``for x, y in loader:``), like ``torch.utils.data.DataLoader``.

    Args:
        dataset: a map-style dataset (``__getitem__`` + ``__len__``) or an :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` disables batching (each sample is yielded on its own,
            NumPy arrays converted to tensors). ``batch_size=len(dataset)`` gives full-batch
            training, ``batch_size=1`` online (stochastic) learning.
        shuffle: draw a fresh random order every epoch (from ``generator``, else the global RNG,
            so ``groundup.manual_seed`` makes epochs repeatable).
        sampler / batch_sampler: a custom order of indices / of index batches (mutually exclusive
            with ``shuffle``; ``batch_sampler`` also with ``batch_size`` and ``drop_last``).
        num_workers: accepted for compatibility; loading runs in-process (see the module docstring).
        collate_fn: merges a list of samples into a batch; default :func:`default_collate`.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: a :class:`groundup.Generator` for the shuffle order.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Sampler | None = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                f"DataLoader: num_workers option should be a non-negative int, got {num_workers!r} "
                "(loading always runs in the main process; num_workers is accepted for compatibility)"
            )
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"DataLoader: generator must be a groundup.Generator, got {type(generator).__name__} "
                "(e.g. generator=groundup.Generator().manual_seed(0))"
            )
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer or None (no batching), got "
                f"batch_size={batch_size!r}"
            )
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        else:
            if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
                raise TypeError(
                    f"DataLoader: dataset must be map-style (define __getitem__ and __len__) or an "
                    f"IterableDataset, got {type(dataset).__name__}"
                )
            if len(dataset) == 0:
                raise ValueError(
                    f"DataLoader: the dataset ({type(dataset).__name__}) is empty (len 0), so there is "
                    "nothing to load; check how it was built (path, split, filters)"
                )
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )

        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_convert if self._auto_collation is False else default_collate
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    # ------------------------------------------------------------------------------ iteration
    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._iter_iterable()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        plan = _gather_plan(self.dataset) if self._default_collate else None
        if plan is not None:
            return self._iter_fast(*plan)
        return self._iter_generic()

    def _fetch(self, indices: list[Any]) -> list[Any]:
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems(indices)
        return [self.dataset[i] for i in indices]

    def _iter_generic(self) -> Iterator[Any]:
        for indices in self.batch_sampler:
            yield self.collate_fn(self._fetch(list(indices)))

    def _index_batches(self) -> Iterator[np.ndarray | list[Any]]:
        """The epoch's index batches, as int64 arrays where possible (lists otherwise)."""
        bs = self.batch_sampler
        if type(bs) is BatchSampler:
            yield from bs._batches()
            return
        for indices in bs:
            arr = np.asarray(indices)
            yield arr if arr.ndim == 1 and arr.dtype.kind in "iu" else list(indices)

    def _iter_fast(self, arrays: tuple[Any, ...], index_map: np.ndarray | None) -> Iterator[list[Tensor]]:
        for idx in self._index_batches():
            if isinstance(idx, list):  # a custom batch sampler gave non-integer keys
                yield self.collate_fn(self._fetch(idx))
                continue
            if index_map is not None:
                idx = index_map[idx]
            yield [Tensor._wrap(a[idx]) for a in arrays]

    def _iter_iterable(self) -> Iterator[Any]:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last})"
        )
