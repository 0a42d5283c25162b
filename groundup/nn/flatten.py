"""``Flatten`` and ``Unflatten``: reshape layers for use inside a ``Sequential``.

``Flatten()`` turns a batch of feature maps ``(B, C, H, W)`` into rows ``(B, C·H·W)`` for a
``Linear`` head; ``Unflatten(1, (C, H, W))`` undoes it. Both are views of the input (no copy when
the input is contiguous), and their gradient is the inverse reshape.
"""

from __future__ import annotations

from collections.abc import Sequence

from groundup.nn.module import Module
from groundup.tensor import Tensor


class Flatten(Module):
    """Merge dimensions ``start_dim`` … ``end_dim`` into one (default: all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)  # (B, C, H, W) -> (B, C*H*W)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (a tuple/list of ints; one may be -1)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError(f"Unflatten: dim must be an int, got {type(dim).__name__} (named dims are not supported)")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        for idx, elem in enumerate(unflattened_size):
            if not isinstance(elem, int) or isinstance(elem, bool):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type {type(elem).__name__} at pos {idx}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)  # (B, C*H*W) -> (B, C, H, W)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Flatten", "Unflatten"]
