"""Softmax, log-softmax and softmin along one dimension: fused, stable, one-expression backwards.

Subtracting the maximum before ``exp`` keeps every exponent <= 0, so nothing overflows; it changes
nothing mathematically because softmax is invariant to adding a constant along ``dim``. Entries of
-inf get probability 0; a slice that is all -inf (or holds nan or +inf) gives nan, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup.autograd import Function
from groundup.backend import xp
from groundup.dtypes import as_dtype
from groundup.functions.common import canonical_dim, cast_to
from groundup.tensor import Tensor


def _shifted(x: Any, dim: int, negate: bool) -> Any:
    """``x - max(x)`` (or ``min(x) - x`` for softmin) along ``dim``: a new array, all entries <= 0."""
    # fmax/fmin skip nan (several times faster than max on short rows); a slice holding nan still
    # ends up all nan, through the nan entry's own exp and the sum.
    extra = {"initial": np.inf if negate else -np.inf} if x.size == 0 else {}
    if negate:
        return xp.subtract(xp.fmin.reduce(x, axis=dim, keepdims=True, **extra), x)
    return xp.subtract(x, xp.fmax.reduce(x, axis=dim, keepdims=True, **extra))


class _AlongDim(Function):
    """Shared plumbing: a 0-d input is a one-element slice (computed as shape (1,), then restored)."""

    def forward(ctx, x, dim=-1):
        ctx.dim = dim
        with np.errstate(invalid="ignore", divide="ignore"):  # nan for all -inf slices, as PyTorch
            if x.ndim == 0:
                return ctx.compute(x.reshape(1)).reshape(())
            return ctx.compute(x)

    def backward(ctx, g):
        with np.errstate(invalid="ignore"):
            return ctx.vjp(g.reshape(1)).reshape(()) if g.ndim == 0 else ctx.vjp(g)


class Softmax(_AlongDim):
    """y = e^(x - max x) / Σ e^(x - max x) along dim;  dx = y ⊙ (g - Σ g ⊙ y)."""

    negate = False

    def compute(ctx, x):
        y = _shifted(x, ctx.dim, ctx.negate)
        xp.exp(y, out=y)
        y /= y.sum(axis=ctx.dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    def vjp(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        s = gy.sum(axis=ctx.dim, keepdims=True)
        xp.subtract(g, s, out=gy)
        gy *= y
        return gy


class Softmin(Softmax):
    """y = softmax(-x) = e^(min x - x) / Σ e^(min x - x);  dx = -y ⊙ (g - Σ g ⊙ y)."""

    negate = True

    def vjp(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        s = gy.sum(axis=ctx.dim, keepdims=True)
        xp.subtract(s, g, out=gy)
        gy *= y
        return gy


class LogSoftmax(_AlongDim):
    """y = x - max x - log Σ e^(x - max x) along dim;  dx = g - e^y Σ g."""

    def compute(ctx, x):
        y = _shifted(x, ctx.dim, False)
        lse = xp.exp(y).sum(axis=ctx.dim, keepdims=True)
        xp.log(lse, out=lse)
        y -= lse
        ctx.save_for_backward(y)
        return y

    def vjp(ctx, g):
        (y,) = ctx.saved_tensors
        p = xp.exp(y)
        p *= g.sum(axis=ctx.dim, keepdims=True)
        xp.subtract(g, p, out=p)
        return p


def _prepare(input: Tensor, dim: Any, dtype: Any, op: str) -> tuple[Tensor, int]:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = cast_to(input, as_dtype(dtype))
    if input.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point tensor, got {input.dtype.name} (shape "
            f"{tuple(input.shape)}); pass dtype=groundup.float32 or convert it with .float()"
        )
    if dim is None:
        raise TypeError(f"{op}: missing required argument 'dim' (the dimension to normalise over)")
    return input, canonical_dim(dim, input.ndim, op)


def _apply(cls: type[Function], input: Tensor, dim: Any, dtype: Any, op: str) -> Tensor:
    x, d = _prepare(input, dim, dtype, op)
    return cls.apply(x, dim=d)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Probabilities along ``dim``: ``exp(x) / sum(exp(x))``, computed stably.

    ``dtype`` casts the input first (e.g. float16 logits to float32) before the reduction.
    """
    return _apply(Softmax, input, dim, dtype, "softmax")


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``log(softmax(x))`` along ``dim`` without forming the probabilities (no log of 0)."""
    return _apply(LogSoftmax, input, dim, dtype, "log_softmax")


def softmin(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``softmax(-x)`` along ``dim``: the smallest entries get the most weight."""
    return _apply(Softmin, input, dim, dtype, "softmin")


__all__ = ["softmax", "log_softmax"]
