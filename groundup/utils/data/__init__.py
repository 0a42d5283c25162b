"""Datasets, samplers and the ``DataLoader``: the ``torch.utils.data`` API on NumPy.

- :mod:`~groundup.utils.data.dataset`: what a dataset is (``Dataset``, ``TensorDataset``, ``Subset``,
  ``ConcatDataset``, ``IterableDataset``) and ``random_split``.
- :mod:`~groundup.utils.data.sampler`: which indices an epoch visits, in what order.
- :mod:`~groundup.utils.data.dataloader`: batching them (``DataLoader``, ``default_collate``).
"""

from groundup.utils.data.dataloader import DataLoader, default_collate, default_convert
from groundup.utils.data.dataset import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from groundup.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]
