"""``Embedding``: a learnable lookup table from integer ids to vectors.

The lookup and its scatter-add backward live in ``groundup/functions/embedding.py``. The table is
``weight`` of shape (num_embeddings, embedding_dim), drawn from N(0, 1) as in PyTorch, with the
``padding_idx`` row (if any) set to zero and kept out of the gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.autograd import no_grad
from groundup.creation import empty
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor
from groundup.tensor import device as _device


def _size(value: Any, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise TypeError(f"Embedding: {name} must be a non-negative int, got {value!r} ({type(value).__name__})")
    return int(value)


class Embedding(Module):
    """Maps ids of any shape ``(*)`` to vectors: output ``(*, embedding_dim)``, ``weight[ids]``.

    ``padding_idx``: that row starts at zero and never gets a gradient (e.g. a padding token).
    ``max_norm``: looked-up rows whose ``norm_type``-norm exceeds it are rescaled in place.
    ``scale_grad_by_freq``: divide each row's gradient by its frequency in the batch.
    ``sparse=True`` is not supported (groundup's gradients are dense).
    """

    num_embeddings: int
    embedding_dim: int

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = _size(num_embeddings, "num_embeddings")
        self.embedding_dim = _size(embedding_dim, "embedding_dim")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise AssertionError(
                    f"Padding_idx must be within num_embeddings: got padding_idx={padding_idx} for "
                    f"num_embeddings={self.num_embeddings}"
                )
            if padding_idx < 0:
                padding_idx = self.num_embeddings + padding_idx
        if sparse:
            raise NotImplementedError(
                "Embedding: sparse=True (sparse gradients) is not supported; groundup computes dense "
                "gradients, which hold the same values: use sparse=False"
            )
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if device is not None:
            _device(device)
        if _weight is None:
            d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
            if not d.is_floating_point:
                raise TypeError(f"Embedding: weight must have a floating-point dtype, got {d}")
            self.weight = Parameter(empty(self.num_embeddings, self.embedding_dim, dtype=d), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if not isinstance(_weight, Tensor):
                raise TypeError(f"Embedding: _weight must be a Tensor, got {type(_weight).__name__}")
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise AssertionError(
                    f"Shape of weight does not match num_embeddings and embedding_dim: got "
                    f"{tuple(_weight.shape)}, expected ({self.num_embeddings}, {self.embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)  # shares _weight's memory

    def reset_parameters(self) -> None:
        """Redraw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0
                self.weight._vc[0] += 1

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse,
        )  # (*) -> (*, embedding_dim)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An ``Embedding`` whose table is ``embeddings`` (2-D; shared, not copied).

        ``freeze=True`` (the default) keeps the table fixed: ``weight.requires_grad`` is False.
        The ``padding_idx`` row is used as given (not zeroed).
        """
        if not isinstance(embeddings, Tensor):
            raise TypeError(f"Embedding.from_pretrained: expected a Tensor, got {type(embeddings).__name__}")
        if embeddings.ndim != 2:
            raise AssertionError(
                f"Embeddings parameter is expected to be 2-dimensional, got shape {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            _freeze=freeze,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
        )


__all__ = ["Embedding"]
