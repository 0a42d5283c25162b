"""Dropout and alpha dropout: random masks drawn from groundup's generator.

Inverted dropout (Srivastava et al., 2014) zeroes each element with probability ``p`` during
training and scales the survivors by ``1/(1-p)``, so every element keeps its expected value and
evaluation needs no rescaling: there dropout is the identity. The mask comes from
``groundup.backend.rng()``, so ``groundup.manual_seed`` makes it repeat, and the backward reuses
the very mask of the forward.

Edge cases follow PyTorch: ``p = 0``, ``training=False`` or an empty input return ``input``
itself; ``p = 1`` multiplies by zero (so ``inf``/``nan`` inputs give ``nan``, as in PyTorch).
"""

from __future__ import annotations

import numpy as np

from groundup.autograd import Function, is_grad_enabled
from groundup.backend import rng, xp
from groundup.tensor import Tensor

_SELU_ALPHA_SCALED = 1.7580993408473766  # SELU's scale * alpha: the value a dropped unit takes is -this


class Dropout(Function):
    """y = x ⊙ m, m = keep / (1 - p) with keep ~ Bernoulli(1 - p);  dx = g ⊙ m (the same mask)."""

    def forward(ctx, x, mask):
        ctx.mask = mask
        with np.errstate(invalid="ignore"):  # inf * 0 = nan, silently, as in PyTorch
            return x * mask

    def backward(ctx, g):
        with np.errstate(invalid="ignore"):
            return g * ctx.mask


class AffineDropout(Function):
    """y = x ⊙ m + c (alpha dropout's masked affine map; c does not depend on x);  dx = g ⊙ m."""

    def forward(ctx, x, mask, shift):
        ctx.mask = mask
        with np.errstate(invalid="ignore"):
            out = x * mask
        out += shift
        return out

    def backward(ctx, g):
        with np.errstate(invalid="ignore"):
            return g * ctx.mask


def _check(input: Tensor, p: float, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: p must be a float, got {p!r} ({type(p).__name__})")
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point input, got {input.dtype.name} (shape "
            f"{tuple(input.shape)}); convert it with .float()"
        )


def _keep(shape: tuple[int, ...], p: float) -> np.ndarray:
    """A boolean mask, True with probability ``1 - p`` (drawn in float32: half the cost of float64)."""
    return rng().random(shape, dtype=np.float32) >= p


def _finish(input: Tensor, out: Tensor, inplace: bool, op: str) -> Tensor:
    """``out``, or ``input`` overwritten with it when ``inplace`` and no graph records ``input``.

    As in ``groundup.nn.functional``: while autograd records through ``input`` the result is
    returned out of place (``x = F.dropout(x, inplace=True)`` still works).
    """
    if not inplace or (input.requires_grad and is_grad_enabled()):
        return out
    return input._inplace(op, out)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (when training).

    A regulariser: no unit can rely on any other being present. Identity when ``training`` is
    False; ``inplace=True`` overwrites ``input`` when autograd is not recording through it.
    """
    op = "dropout"
    _check(input, p, op)
    if p == 0 or not training or input.data.size == 0:
        return input
    x = input.data
    if p == 1:
        mask = xp.zeros((), dtype=x.dtype)
    else:
        mask = xp.multiply(_keep(x.shape, p), 1.0 / (1.0 - p), dtype=x.dtype)  # 0 or 1/(1-p)
    return _finish(input, Dropout.apply(input, mask=mask), inplace, "dropout_")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks (Klambauer et al., 2017): keeps zero mean and unit variance.

    A dropped unit is set to SELU's negative saturation value ``-α' = -1.7581`` instead of 0, then
    an affine map ``a x + b`` with ``a = ((1 - p)(1 + p α'²))^(-1/2)`` and ``b = a α' p`` restores
    the mean and variance: ``y = a (keep ? x : -α') + a α' p``. Identity unless ``training``
    (whose default here is False, as in PyTorch).
    """
    op = "alpha_dropout"
    _check(input, p, op)
    if p == 0 or not training or input.data.size == 0:
        return input
    x = input.data
    if p == 1:
        out = Dropout.apply(input, mask=xp.zeros((), dtype=x.dtype))
        return _finish(input, out, inplace, "alpha_dropout_")
    alpha = _SELU_ALPHA_SCALED
    a = 1.0 / ((alpha * alpha * p + 1.0) * (1.0 - p)) ** 0.5
    keep = _keep(x.shape, p).astype(x.dtype)  # 1 or 0
    # PyTorch's arithmetic: b = (keep - 1) * α' a + α' a p;  y = x * (keep * a) + b
    shift = keep - 1.0
    shift *= alpha * a
    shift += alpha * a * p
    keep *= a
    out = AffineDropout.apply(input, mask=keep, shift=shift)
    return _finish(input, out, inplace, "alpha_dropout_")


__all__ = ["dropout", "alpha_dropout"]
