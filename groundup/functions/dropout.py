"""Dropout and alpha dropout, element-wise and channel-wise: random masks from groundup's generator.

Inverted dropout (Srivastava et al., 2014) zeroes each element with probability ``p`` during
training and scales the survivors by ``1/(1-p)``, so every element keeps its expected value and
evaluation needs no rescaling: there dropout is the identity. Channel-wise ("feature") dropout,
``dropout1d/2d/3d`` (Tompson et al., 2015), draws one keep/drop decision per (sample, channel) and
zeroes the whole feature map: neighbouring pixels of a feature map are strongly correlated, so
dropping single pixels would barely regularise a convolutional layer. The mask then has shape
(N, C, 1, ..., 1) and broadcasts over the positions; its backward is the same broadcast. The mask comes from
``groundup.backend.rng()``, so ``groundup.manual_seed`` makes it repeat, and the backward reuses
the very mask of the forward.

Edge cases follow PyTorch: ``p = 0``, ``training=False`` or an empty input return ``input``
itself; ``p = 1`` multiplies by zero (so ``inf``/``nan`` inputs give ``nan``, as in PyTorch).
"""

from __future__ import annotations

import warnings

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
    return _dropout(input, p, input.data.shape, inplace, "dropout_")


def _dropout(input: Tensor, p: float, mask_shape: tuple[int, ...], inplace: bool, op: str) -> Tensor:
    """``input * mask``, the mask 0 or ``1/(1-p)`` of shape ``mask_shape`` (broadcast over input)."""
    x = input.data
    if p == 1:
        mask = xp.zeros((), dtype=x.dtype)
    else:
        mask = xp.multiply(_keep(mask_shape, p), 1.0 / (1.0 - p), dtype=x.dtype)  # 0 or 1/(1-p)
    return _finish(input, Dropout.apply(input, mask=mask), inplace, op)


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
    return _alpha_dropout(input, p, input.data.shape, inplace, "alpha_dropout_")


def _alpha_dropout(input: Tensor, p: float, mask_shape: tuple[int, ...], inplace: bool, op: str) -> Tensor:
    """Alpha dropout with one keep/drop draw per entry of ``mask_shape`` (broadcast over input)."""
    x = input.data
    if p == 1:
        return _finish(input, Dropout.apply(input, mask=xp.zeros((), dtype=x.dtype)), inplace, op)
    alpha = _SELU_ALPHA_SCALED
    a = 1.0 / ((alpha * alpha * p + 1.0) * (1.0 - p)) ** 0.5
    keep = _keep(mask_shape, p).astype(x.dtype)  # 1 or 0
    # PyTorch's arithmetic: b = (keep - 1) * α' a + α' a p;  y = x * (keep * a) + b
    shift = keep - 1.0
    shift *= alpha * a
    shift += alpha * a * p
    keep *= a
    out = AffineDropout.apply(input, mask=keep, shift=shift)
    return _finish(input, out, inplace, op)


# ------------------------------------------------------------------------ channel-wise dropout
def _feature_mask_shape(input: Tensor, batched: bool, op: str) -> tuple[int, ...]:
    """(N, C, 1, ..., 1) for a batched input, (C, 1, ..., 1) for an unbatched one.

    PyTorch's feature dropout draws one value per entry of the first two dims of a batched
    input; an unbatched input is first given a batch dim of 1, so its draws are per channel.
    """
    shape = tuple(input.data.shape)
    lead = 2 if batched else 1
    if len(shape) < lead:
        raise RuntimeError(
            f"{op}: Feature dropout requires at least 2 dimensions in the input (got shape {shape})"
        )
    return shape[:lead] + (1,) * (len(shape) - lead)


def _feature_dropout(
    input: Tensor, p: float, training: bool, inplace: bool, op: str, batched: bool, alpha: bool = False
) -> Tensor:
    """Checked input in; the early exits, the (N, C, 1, ...) or (C, 1, ...) mask, the product."""
    if p == 0 or not training or input.data.size == 0:
        return input
    shape = _feature_mask_shape(input, batched, op)
    if alpha:
        return _alpha_dropout(input, p, shape, inplace, "feature_alpha_dropout_")
    return _dropout(input, p, shape, inplace, "feature_dropout_")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, L) or unbatched (C, L) input with probability ``p``, and
    scale the kept ones by ``1/(1-p)`` (when training): one draw per (sample, channel)."""
    op = "dropout1d"
    _check(input, p, op)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"{op}: Expected 2D or 3D input, but received a {input.ndim}D input (shape "
            f"{tuple(input.shape)}). Note that dropout1d exists to provide channel-wise dropout on "
            "inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension "
            "(i.e. 2D or 3D inputs)."
        )
    return _feature_dropout(input, p, training, inplace, op, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole feature maps of an (N, C, H, W) input with probability ``p``, and scale the kept
    ones by ``1/(1-p)`` (when training): one draw per (sample, channel).

    As in PyTorch 2.x, a 3-D input is read as (N, C, L), *not* as an unbatched (C, H, W) image
    (with PyTorch's warning; use :func:`dropout1d` for that, or add the batch dim), and inputs of
    other ranks give a deprecation warning and are masked per entry of their first two dims.
    """
    op = "dropout2d"
    _check(input, p, op)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, op, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole feature volumes of an (N, C, D, H, W) or unbatched (C, D, H, W) input with
    probability ``p``, and scale the kept ones by ``1/(1-p)`` (when training).

    Inputs of other ranks give PyTorch's deprecation warning and, as there, are treated as
    unbatched (one draw per entry of the first dim).
    """
    op = "dropout3d"
    _check(input, p, op)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide channel-wise "
            "dropout on inputs with 3 spatial dimensions, a channel dimension, and an optional batch "
            "dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, op, batched=input.ndim == 5)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels: one draw per (sample, channel) of an (N, C, *) input, a
    dropped channel set to SELU's saturation value and the affine correction of
    :func:`alpha_dropout` applied. Identity unless ``training`` (default False, as in PyTorch)."""
    op = "feature_alpha_dropout"
    _check(input, p, op)
    return _feature_dropout(input, p, training, inplace, op, batched=True, alpha=True)


__all__ = ["dropout", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]
