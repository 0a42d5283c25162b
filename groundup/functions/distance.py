"""Vector normalisation and distances: ``normalize``, ``cosine_similarity``, ``pairwise_distance``.

Composites of Tensor ops (norms, division, sums), so their gradients come from the primitives;
each follows PyTorch's formula exactly, including how it keeps zero vectors finite:

- ``normalize``: ``x / max(||x||_p, eps)``. At a zero vector the clamp is active, so the
  gradient is ``g / eps`` (large but finite), as in PyTorch.
- ``cosine_similarity``: ``Σ (x1 / max(||x1||, eps)) (x2 / max(||x2||, eps))``. PyTorch clamps the
  two norms *in place under no_grad*, so autograd differentiates as if there were no clamp;
  :class:`ClampMinStraightThrough` reproduces that, and the norm's own gradient at 0 is 0.
- ``pairwise_distance``: ``||x1 - x2 + eps||_p`` over the last dim; the ``eps`` keeps the norm
  away from 0, where its gradient is undefined.
"""

from __future__ import annotations

from typing import Any

from groundup import dtypes as _dt
from groundup.autograd import Function
from groundup.backend import xp
from groundup.functions.common import canonical_dim, cast_to, check_broadcast
from groundup.functions.movement import expand
from groundup.functions.reduce import vector_norm
from groundup.tensor import Tensor


class ClampMinStraightThrough(Function):
    """z = max(x, lo) in value, but dz/dx = 1 (the clamp is invisible to autograd)."""

    def forward(ctx, x, lo):
        return xp.maximum(x, x.dtype.type(lo))

    def backward(ctx, g):
        return g


def _tensor(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _float_pair(x1: Tensor, x2: Tensor, op: str) -> tuple[Tensor, Tensor]:
    """Both operands in their common dtype (integer pairs become the default float dtype)."""
    check_broadcast(op, x1, x2)
    d = _dt.result_type(x1, x2)
    if not d.is_floating_point:
        d = _dt.get_default_dtype()
    return cast_to(x1, d), cast_to(x2, d)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``: unit vectors (zero vectors stay zero)."""
    x = _tensor(input, "normalize", "input")
    denom = vector_norm(x, p, dim, keepdim=True).clamp(min=eps)  # (..., 1, ...)
    return x / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (they broadcast together).

    Each input is divided by its (eps-clamped) norm before the dot product, which keeps the
    result within [-1, 1]; the reduced ``dim`` is removed.
    """
    op = "cosine_similarity"
    a, b = _float_pair(_tensor(x1, op, "x1"), _tensor(x2, op, "x2"), op)
    if a.shape != b.shape:
        shape = tuple(xp.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
        a = a if tuple(a.shape) == shape else expand(a, shape)
        b = b if tuple(b.shape) == shape else expand(b, shape)
    d = canonical_dim(dim, a.ndim, op)
    n1 = ClampMinStraightThrough.apply(vector_norm(a, 2, d, keepdim=True), lo=eps)  # (..., 1, ...)
    n2 = ClampMinStraightThrough.apply(vector_norm(b, 2, d, keepdim=True), lo=eps)
    return ((a / n1) * (b / n2)).sum(d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dimension (the inputs broadcast together)."""
    op = "pairwise_distance"
    a, b = _float_pair(_tensor(x1, op, "x1"), _tensor(x2, op, "x2"), op)
    last = max(a.ndim, b.ndim) - 1
    return vector_norm(a - b + eps, p, last if last >= 0 else None, keepdim=keepdim)


__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]
