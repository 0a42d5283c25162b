"""The part every in-memory dataset shares: a whole split held as two Tensors, ``data`` and ``targets``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groundup.creation import from_numpy
from groundup.tensor import Tensor
from groundup.utils.data.dataset import Dataset, TensorDataset


class ArraysDataset(Dataset):
    """Items ``(data[i], targets[i])`` after the optional ``transform`` / ``target_transform``.

    A subclass sets ``data``, ``targets`` (Tensors with the samples along dim 0), ``transform`` and
    ``target_transform``. A scalar target comes out as a Python int (a class label), any other as a
    Tensor (e.g. a segmentation mask). ``tensors()`` gives the whole split to a fast DataLoader.
    """

    data: Tensor
    targets: Tensor
    transform: Callable[[Any], Any] | None
    target_transform: Callable[[Any], Any] | None

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        i = int(index)
        x: Any = from_numpy(self.data.data[i].copy())
        t = self.targets.data[i]
        y: Any = int(t) if t.ndim == 0 else from_numpy(t.copy())
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def tensors(self) -> tuple[Tensor, Tensor]:
        """The whole split as ``(data, targets)`` (copies)."""
        return from_numpy(self.data.data.copy()), from_numpy(self.targets.data.copy())

    def as_tensor_dataset(self) -> TensorDataset:
        return TensorDataset(*self.tensors())
