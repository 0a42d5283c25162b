"""Loss functions with ``torch.nn.functional``'s names, signatures and reductions.

The classification losses are fused :class:`~groundup.autograd.Function` s, because fusing is what
makes them stable and cheap:

- ``cross_entropy`` computes ``log_softmax`` through a max-shifted log-sum-exp and, in backward,
  never forms the (C, C) softmax Jacobian: the gradient of ``-log softmax(x)[y]`` with respect to
  the logits collapses to ``softmax(x) - onehot(y)`` -- the famous ``p - y``.
- ``binary_cross_entropy_with_logits`` uses ``max(x, 0) - x y + log1p(exp(-|x|))``, which never
  overflows, and its gradient ``sigmoid(x) - y``.
- ``nll_loss`` and ``binary_cross_entropy`` follow PyTorch's kernels exactly (class weights,
  ``ignore_index``, the ``log >= -100`` clamp and its ``1e-12`` guard in backward).

The regression and margin losses are composites of Tensor ops, so their gradients come for free.

Every loss takes ``reduction='mean' | 'sum' | 'none'``; the legacy ``size_average``/``reduce``
arguments are mapped to it as PyTorch's ``_Reduction.legacy_get_string`` does (with its warning).
The class dimension of ``(N, C, d1, d2, ...)`` inputs is dimension 1, as in PyTorch; the fused
kernels reduce along that axis in place rather than moving it last, so no input is ever copied.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.autograd import Function, unbroadcast
from groundup.backend import xp
from groundup.functions import activation as _act
from groundup.functions import elementwise as _ew
from groundup.functions.common import cast_to, check_broadcast, describe, promote
from groundup.functions.movement import gather
from groundup.functions.softmax import _shifted
from groundup.tensor import Tensor

# ------------------------------------------------------------------------------- arguments
_REDUCTIONS = ("none", "mean", "sum")


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """Map PyTorch's deprecated ``size_average``/``reduce`` pair to a ``reduction`` string."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            UserWarning,
            stacklevel=4,
        )
    return ret


def _reduction(op: str, reduction: Any, size_average: Any = None, reduce: Any = None,
               allowed: tuple[str, ...] = _REDUCTIONS) -> str:
    """The effective reduction: legacy arguments win (as in PyTorch), then validate the string."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=3)
        return "mean"
    if not isinstance(reduction, str) or reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected one of {choices}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """Apply a (validated) reduction to an elementwise loss tensor."""
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _tensor(x: Any, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    return x


def _floating(x: Any, op: str, name: str = "input") -> Tensor:
    _tensor(x, op, name)
    if x.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected {name} to be a floating point tensor, got {describe(x)}; "
            "convert it with .float()"
        )
    return x


def _constant(x: Any, op: str, name: str, dtype: np.dtype) -> Any:
    """A non-differentiable tensor argument (class weights, pos_weight) as an array of ``dtype``."""
    if x is None:
        return None
    arr = _floating(x, op, name).data
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _size_warning(op: str, input: Tensor, target: Tensor) -> None:
    """PyTorch warns (and then broadcasts) when a regression target's shape differs from the input's."""
    if input.data.shape != target.data.shape:
        check_broadcast(op, input, target)
        warnings.warn(
            f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=4,
        )


def _mean_div(total: Any, count: Any) -> Any:
    """``total / count`` in ``total``'s dtype; 0/0 is nan (an empty or fully ignored batch), quietly."""
    if isinstance(count, (int, np.integer)):
        count = int(count)  # a Python int keeps float32 float32 (a NumPy int64 would promote)
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.asarray(total / count)


def _flat_index(t: Any, C: int) -> Any:
    """Positions of ``x[n, t[n, r], r]`` in a C-ordered ``(N, C, R)`` array, shaped like ``t``.

    One flat index per sample makes the gather (``take``) and the scatter in backward plain fancy
    indexing, several times cheaper than ``take_along_axis`` on small batches.
    """
    N = t.shape[0]
    R = t.size // N if N else 0
    n = xp.arange(N).reshape((N,) + (1,) * (t.ndim - 1))
    r = xp.arange(R).reshape(t.shape[1:]) if t.ndim > 1 else 0
    return (n * C + t) * R + r


def _class_shape(w: Any, ndim: int) -> Any:
    """Per-class weights ``(C,)`` shaped ``(1, C, 1, ...)`` to broadcast against ``(N, C, d1, ...)``."""
    return w.reshape((1, -1) + (1,) * (ndim - 2))


# ---------------------------------------------------------------------- class-index targets
def _class_indices(op: str, input: Tensor, target: Tensor, weight: Any, ignore_index: int,
                   allow_probabilities: bool) -> dict[str, Any]:
    """Validate a class-index target; returns the Function options: safe class indices ``t``
    (N, d1, ...), their flat positions, the ``valid`` mask, ``vector`` and the class ``weight``.

    ``vector`` marks a ``(C,)`` input, computed as a batch of one. Ignored positions get class 0 in
    the safe indices (so gathers stay in range) and False in ``valid``.
    """
    shape = input.data.shape
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (the classes), got a 0-d tensor")
    t = target.data
    if t.dtype not in (np.int64, np.uint8):
        what = "int64 (class indices) or floating (probabilities)" if allow_probabilities else "int64 (class indices)"
        raise TypeError(f"{op}: expected target of dtype {what}, got {describe(target)} for input {describe(input)}")
    vector = input.ndim == 1
    C = shape[0] if vector else shape[1]
    if vector:
        if t.size != 1 or t.ndim > 1:
            raise ValueError(
                f"{op}: a 1-D input of shape {shape} (one sample, {C} classes) needs a 0-d target "
                f"(one class index), got shape {t.shape}"
            )
    else:
        expected = (shape[0],) + shape[2:]
        if t.shape != expected:
            raise ValueError(
                f"{op}: expected target of shape {expected} (input {shape} without its class dim 1) "
                f"for class indices, got {t.shape}"
            )
    t = t.reshape((-1,) if vector else t.shape).astype(np.int64, copy=False)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(
            f"{op}: target {int(t[bad][0])} is out of bounds for {C} classes (expected class indices "
            f"in [0, {C - 1}], or ignore_index={ignore_index})"
        )
    safe = xp.where(valid, t, 0)  # (N, d1, ...)
    w = None
    if weight is not None:
        w = _floating(weight, op, "weight").data
        if w.shape != (C,):
            raise ValueError(
                f"{op}: weight tensor should be defined either for all {C} classes or no classes but "
                f"got weight tensor of shape {w.shape}"
            )
        if w.dtype != input.data.dtype:
            raise TypeError(
                f"{op}: weight has dtype {w.dtype} but input is {input.dtype.name}; expected the same "
                "dtype (convert one with .to())"
            )
    return {"t": safe, "flat": _flat_index(safe, C), "valid": valid, "vector": vector, "weight": w}


class CrossEntropy(Function):
    """Fused log-softmax + NLL over class indices along dim 1 (p = softmax(x), ε = label_smoothing).

    Sample n's target distribution is q_n = (1-ε) w_y onehot(y) + (ε/C) w (0 if y is ignored), so
    loss_n = -Σ_c q_nc log p_nc with log p = (x - max x) - log Σ e^(x - max x), and
    dloss_n/dx_n = p_n Σ_c q_nc - q_n: without weights or smoothing, p - onehot(y).
    """

    def forward(ctx, x, *, t, flat, valid, weight, smoothing, reduction, vector):
        ctx.in_shape = x.shape
        if vector:
            x = x.reshape(1, -1)  # (C,) -> (1, C)
        C = x.shape[1]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # (N, C, ...), every entry <= 0; C-ordered, so the flat target positions index it
            z = xp.ascontiguousarray(_shifted(x, 1, False))
            zy = xp.take(z, flat)  # z[n, t_n]   (N, ...)
            if smoothing:  # Σ_c z_c or Σ_c w_c z_c, taken before z becomes e^z
                zsum = z.sum(axis=1) if weight is None else xp.moveaxis(z, 1, -1) @ weight
            e = xp.exp(z, out=z)  # in place: z is not needed any more
            s = e.sum(axis=1)  # (N, ...)
            lse = xp.log(s)
            loss = lse - zy  # -log p_y   (N, ...)
            wy = valid.astype(x.dtype) if weight is None else xp.where(valid, weight[t], 0)
            loss *= wy
            if smoothing:  # Σ_c w_c (lse - z_c), w = 1 without weights
                smooth = (C if weight is None else weight.sum()) * lse - zsum
                loss *= 1.0 - smoothing
                loss += (smoothing / C) * smooth
            loss = xp.where(valid, loss, 0)
        ctx.save_for_backward(e, s)
        ctx.flat, ctx.valid, ctx.wy, ctx.weight = flat, valid, wy, weight
        ctx.smoothing, ctx.reduction, ctx.vector = smoothing, reduction, vector
        if reduction == "none":
            return loss.reshape(()) if vector else loss
        total = loss.sum()
        if reduction == "sum":
            return total
        ctx.denom = wy.sum() if weight is not None else int(valid.sum())
        return _mean_div(total, ctx.denom)

    def backward(ctx, g):
        e, s = ctx.saved_tensors
        valid, wy, eps = ctx.valid, ctx.wy, ctx.smoothing
        C = e.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            a = g.reshape(1) if ctx.vector and g.ndim == 0 and ctx.reduction == "none" else g
            if ctx.reduction == "mean":
                a = a / ctx.denom
            # S_n = Σ_c q_nc: the target mass; p·S is e·(a S / s)
            total_w = C if ctx.weight is None else ctx.weight.sum()
            S = wy * (1.0 - eps) + (eps / C) * total_w if eps else wy
            grad = e * xp.where(valid, a * S / s, 0)[:, None]
            if eps:
                w = 1.0 if ctx.weight is None else _class_shape(ctx.weight, e.ndim)
                grad -= xp.where(valid, a * (eps / C), 0)[:, None] * w
            grad.reshape(-1)[ctx.flat] -= xp.where(valid, a * (1.0 - eps) * wy, 0)  # - q at the target
        return grad.reshape(ctx.in_shape)


class SoftCrossEntropy(Function):
    """Cross-entropy against class probabilities t (soft labels) along dim 1.

    With q = (1-ε) t + ε/C, optionally times per-class weights w: loss_n = -Σ_c q_nc log p_nc,
    dx_n = p_n Σ_c q_nc - q_n (p - t for plain probabilities), dt_n = -(1-ε) w log p_n.
    """

    def forward(ctx, x, t, *, weight, smoothing, reduction):
        ctx.in_shape = x.shape
        if x.ndim == 1:
            x, t = x.reshape(1, -1), t.reshape(1, -1)
        C = x.shape[1]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            logp = _shifted(x, 1, False)  # z = x - max x, (N, C, ...)
            e = xp.exp(logp)
            s = e.sum(axis=1, keepdims=True)
            logp -= xp.log(s)  # log p = z - log Σ e^z
            q = t * (1.0 - smoothing) + smoothing / C if smoothing else t
            wq = q if weight is None else q * _class_shape(weight, x.ndim)
            loss = -(wq * logp).sum(axis=1)  # (N, ...)
        ctx.save_for_backward(e, s, wq, logp if ctx.needs_input_grad[1] else None)
        ctx.weight, ctx.smoothing, ctx.reduction = weight, smoothing, reduction
        if reduction == "none":
            return loss.reshape(()) if len(ctx.in_shape) == 1 else loss
        total = loss.sum()
        if reduction == "sum":
            return total
        ctx.denom = loss.size  # samples (N * d1 * ...), not a weight sum -- as PyTorch
        return _mean_div(total, ctx.denom)

    def backward(ctx, g):
        e, s, wq, logp = ctx.saved_tensors
        a = g / ctx.denom if ctx.reduction == "mean" else g
        if ctx.reduction == "none":
            a = a.reshape(e.shape[:1] + e.shape[2:])[:, None]  # (N, 1, d1, ...)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = e * (a * wq.sum(axis=1, keepdims=True) / s)
            gx -= a * wq
            gx = gx.reshape(ctx.in_shape)
        if ctx.needs_input_grad[1]:
            w = 1.0 - ctx.smoothing
            if ctx.weight is not None:
                w = w * _class_shape(ctx.weight, e.ndim)
            gt = (-(a * w) * logp).reshape(ctx.in_shape)
        return gx, gt


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between the softmax of ``input`` logits and ``target``, fused and stable.

    ``input`` is ``(N, C)``, ``(C,)`` or ``(N, C, d1, d2, ...)`` (classes on dim 1). ``target`` is
    either class indices (int64, shape ``(N,)``/``()``/``(N, d1, ...)``) or class probabilities
    (floating, the input's shape). ``weight`` rescales each class; with class indices 'mean' divides
    by the summed weights of the non-ignored targets. ``label_smoothing`` mixes the target with the
    uniform distribution: ``(1 - ε) target + ε / C``.
    """
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(input, op)
    _tensor(target, op, "target")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if target.data.dtype.kind == "f":
        if input.ndim == 0:
            raise ValueError(f"{op}: input must have at least 1 dimension (the classes), got a 0-d tensor")
        index_shape = () if input.ndim == 1 else input.data.shape[:1] + input.data.shape[2:]
        if target.data.shape == index_shape:
            raise TypeError(
                f"{op}: expected target of dtype int64 (class indices) or floating (probabilities), got "
                f"{describe(target)} for input {describe(input)}: a floating target must hold class "
                "probabilities with the input's shape; for class indices convert it with .long()"
            )
        if input.data.shape != target.data.shape:
            raise ValueError(
                f"{op}: class-probability targets must have the input's shape {tuple(input.shape)}, "
                f"got {tuple(target.shape)} (for class indices use an int64 target)"
            )
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index is not supported for floating point (probability) targets")
        tensors = [input, target] + ([_floating(weight, op, "weight")] if weight is not None else [])
        dt = _dt.result_type(*tensors)
        x, t = cast_to(input, dt), cast_to(target, dt)
        C = input.data.shape[0 if input.ndim == 1 else 1]
        w = _constant(weight, op, "weight", dt.np)
        if w is not None and w.shape != (C,):
            raise ValueError(
                f"{op}: weight tensor should be defined either for all {C} classes or no classes but "
                f"got weight tensor of shape {w.shape}"
            )
        return SoftCrossEntropy.apply(x, t, weight=w, smoothing=eps, reduction=reduction)
    opts = _class_indices(op, input, target, weight, ignore_index, True)
    return CrossEntropy.apply(input, smoothing=eps, reduction=reduction, **opts)


class NLLLoss(Function):
    """loss_n = -w_y x[n, y] (0 if y is ignored);  dx[n, y] = -w_y, every other entry 0."""

    def forward(ctx, x, *, t, flat, valid, weight, reduction, vector):
        ctx.in_shape = x.shape
        if vector:
            x = x.reshape(1, -1)
        wy = valid.astype(x.dtype) if weight is None else xp.where(valid, weight[t], 0)
        loss = xp.where(valid, -wy * xp.take(x, flat), 0)
        ctx.flat, ctx.valid, ctx.wy, ctx.reduction, ctx.vector = flat, valid, wy, reduction, vector
        ctx.shape2 = x.shape
        if reduction == "none":
            return loss.reshape(()) if vector else loss
        total = loss.sum()
        if reduction == "sum":
            return total
        ctx.denom = wy.sum() if weight is not None else int(valid.sum())
        return _mean_div(total, ctx.denom)

    def backward(ctx, g):
        a = g.reshape(1) if ctx.vector and g.ndim == 0 and ctx.reduction == "none" else g
        with np.errstate(invalid="ignore", divide="ignore"):
            if ctx.reduction == "mean":
                a = a / ctx.denom
            grad = xp.zeros(ctx.shape2, dtype=g.dtype)
            grad.reshape(-1)[ctx.flat] = xp.where(ctx.valid, -a * ctx.wy, 0)
        return grad.reshape(ctx.in_shape)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities ``input`` (classes on dim 1).

    ``cross_entropy(x, y)`` equals ``nll_loss(log_softmax(x, 1), y)``; same shapes, ``weight`` and
    ``ignore_index`` semantics.
    """
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(input, op)
    _tensor(target, op, "target")
    opts = _class_indices(op, input, target, weight, ignore_index, False)
    return NLLLoss.apply(input, reduction=reduction, **opts)


# --------------------------------------------------------------------------------- binary
def _pair(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    """Floating input and target of the same shape (as PyTorch requires for the binary losses)."""
    _floating(input, op)
    _tensor(target, op, "target")
    if target.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point target (0/1 labels or probabilities), got {describe(target)}; "
            "convert it with .float()"
        )
    if input.data.shape != target.data.shape:
        raise ValueError(
            f"{op}: target size {tuple(target.shape)} must be the same as input size {tuple(input.shape)}"
        )
    return input, target


def _elementwise_weight(op: str, w: Any, name: str, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """A weight that must broadcast to the input's shape, as an array of the input's dtype."""
    arr = _constant(w, op, name, dtype)
    if arr is not None:
        try:
            fits = np.broadcast_shapes(arr.shape, shape) == shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{op}: {name} of shape {arr.shape} must broadcast to the input's shape {shape}")
    return arr


def _reduced(loss: Any, reduction: str) -> Any:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return _mean_div(loss.sum(), loss.size)


_BCE_EPS = float(np.float32(1e-12))  # PyTorch's EPSILON is a float constant: 9.99999996e-13


class BinaryCrossEntropy(Function):
    """loss = -w [y max(log x, -100) + (1-y) max(log(1-x), -100)] (PyTorch's clamp);
    dx = w (x - y) / max(x (1-x), 1e-12),  dy = -w log(x / (1-x))."""

    def forward(ctx, x, y, *, weight, reduction):
        with np.errstate(divide="ignore"):
            loss = (y - 1.0) * xp.maximum(xp.log1p(-x), -100.0)
            loss -= y * xp.maximum(xp.log(x), -100.0)
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.reduction, ctx.n = weight, reduction, loss.size
        return _reduced(loss, reduction)

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        a = g / ctx.n if ctx.reduction == "mean" else g
        if ctx.weight is not None:
            a = a * ctx.weight
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                gx = a * (x - y) / xp.maximum((1.0 - x) * x, _BCE_EPS)
            if ctx.needs_input_grad[1]:
                gy = -a * xp.log(x / (1.0 - x))
        return gx, gy


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy between probabilities ``input`` in [0, 1] and ``target`` in [0, 1].

    As in PyTorch, each log is clamped to >= -100, so a confident wrong answer costs 100 rather
    than inf. Prefer :func:`binary_cross_entropy_with_logits`, which is exact and stable for logits.
    """
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, y = _pair(op, input, target)
    if x.data.dtype != y.data.dtype:
        raise TypeError(f"{op}: input and target must have the same dtype, got {describe(x, y)}")
    for arr, name in ((x.data, "input"), (y.data, "target")):
        if arr.size and not ((arr >= 0) & (arr <= 1)).all():
            raise ValueError(
                f"{op}: all elements of {name} should be between 0 and 1 (got min {arr.min()}, max "
                f"{arr.max()}); for logits use binary_cross_entropy_with_logits"
            )
    w = _elementwise_weight(op, weight, "weight", x.data.shape, x.data.dtype)
    return BinaryCrossEntropy.apply(x, y, weight=w, reduction=reduction)


class BinaryCrossEntropyWithLogits(Function):
    """With l = 1 + (pw - 1) y and log σ(x) = min(x, 0) - log1p(e^-|x|):
    loss = w [(1-y) x - l log σ(x)]  (= max(x,0) - x y + log1p(e^-|x|) when pw = 1);
    dx = w [l σ(x) - pw y]  (= σ(x) - y),  dy = -w [x + (pw - 1) log σ(x)]."""

    def forward(ctx, x, y, *, weight, pos_weight, reduction):
        with np.errstate(over="ignore"):
            logsig = xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x)))  # log σ(x), never overflows
        loss = (1.0 - y) * x
        if pos_weight is None:
            loss -= logsig
        else:
            loss -= ((pos_weight - 1.0) * y + 1.0) * logsig
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, y, logsig)
        ctx.weight, ctx.pos_weight, ctx.reduction, ctx.n = weight, pos_weight, reduction, loss.size
        return _reduced(loss, reduction)

    def backward(ctx, g):
        x, y, logsig = ctx.saved_tensors
        pw = ctx.pos_weight
        a = g / ctx.n if ctx.reduction == "mean" else g
        if ctx.weight is not None:
            a = a * ctx.weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            sig = _ew.stable_sigmoid(x)
            if pw is None:
                gx = sig - y
            else:
                pwy = pw * y
                gx = (pwy + 1.0 - y) * sig - pwy
            gx = unbroadcast(gx * a, x.shape)
        if ctx.needs_input_grad[1]:
            gy = -x if pw is None else -x - (pw - 1.0) * logsig
            gy = unbroadcast(gy * a, y.shape)
        return gx, gy


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits: ``sigmoid`` and the loss fused into one stable expression.

    ``weight`` rescales each element; ``pos_weight`` (broadcast along the last, class, dimension)
    rescales the positive term, trading recall against precision for imbalanced labels.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, y = _pair(op, input, target)
    if x.data.dtype != y.data.dtype:
        x, y = promote(x, y, op)
    shape, dt = x.data.shape, x.data.dtype
    w = _elementwise_weight(op, weight, "weight", shape, dt)
    pw = _elementwise_weight(op, pos_weight, "pos_weight", shape, dt)
    return BinaryCrossEntropyWithLogits.apply(x, y, weight=w, pos_weight=pw, reduction=reduction)


# ----------------------------------------------------------------------------- regression
def _regression_pair(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    _tensor(input, op)
    _tensor(target, op, "target")
    _size_warning(op, input, target)
    return input, target


def _weighted(op: str, loss: Tensor, weight: Any, input: Tensor, reduction: str, mean_by_weight: bool) -> Tensor:
    """PyTorch's optional elementwise ``weight`` (same size as input) for mse/l1/huber."""
    if weight is None:
        return _reduce(loss, reduction)
    _tensor(weight, op, "weight")
    if weight.data.shape != input.data.shape:
        raise ValueError(
            f"{op}: weights and input must have the same size, got weight {tuple(weight.shape)} and "
            f"input {tuple(input.shape)}"
        )
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean squared error ``(input - target)^2`` (broadcasting with a warning, as PyTorch).

    With ``weight``, 'mean' is the weighted average ``Σ w (x - y)^2 / Σ w``.
    """
    op = "mse_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, y = _regression_pair(op, input, target)
    d = x - y
    return _weighted(op, d * d, weight, x, reduction, True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Mean absolute error ``|input - target|``; the gradient at 0 is 0."""
    op = "l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, y = _regression_pair(op, input, target)
    return _weighted(op, _ew.abs(x - y), weight, x, reduction, True)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``).

    Quadratic near 0 (smooth gradient), linear beyond (robust to outliers); ``beta=0`` is L1.
    """
    op = "smooth_l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"{op}: beta must be >= 0 (smooth_l1_loss does not support negative beta), got {beta}")
    x, y = _regression_pair(op, input, target)
    d = x - y
    ad = _ew.abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    beta = float(beta)
    return _reduce(_ew.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``: ``delta * smooth_l1(beta=delta)``.

    With ``weight``, 'mean' is the plain mean of the weighted losses (as PyTorch).
    """
    op = "huber_loss"
    reduction = _reduction(op, reduction)
    if not delta > 0:
        raise ValueError(f"{op}: delta must be > 0 (huber_loss does not support non-positive delta), got {delta}")
    x, y = _regression_pair(op, input, target)
    d = x - y
    ad = _ew.abs(d)
    delta = float(delta)
    loss = _ew.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(op, loss, weight, x, reduction, False)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(target || q) with ``input = log q`` (log-probabilities).

    Elementwise ``target * (log target - input)`` (0 where target is 0), or with ``log_target=True``
    ``exp(target) * (target - input)``. ``reduction='batchmean'`` divides the sum by the batch size,
    which is the true KL divergence per sample; 'mean' divides by the number of elements.
    """
    op = "kl_div"
    reduction = _reduction(op, reduction, size_average, reduce, allowed=_REDUCTIONS + ("batchmean",))
    x, t = _tensor(input, op), _tensor(target, op, "target")
    if x.data.shape != t.data.shape:
        check_broadcast(op, x, t)
    if log_target:
        loss = _ew.exp(t) * (t - x)
    else:
        # xlogy(t, t) = t log t with 0 log 0 = 0: log of 1 where t == 0 keeps value and gradient finite
        t_safe = _ew.where(Tensor._wrap(t.data == 0), 1.0, t)
        loss = t * _ew.log(t_safe) - t * x
    if reduction == "batchmean":
        total = loss.sum()
        return total / x.data.shape[0] if x.ndim else total
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------------- margins
def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``x`` where target is 1, ``max(0, margin - x)`` where it is -1 (x: a distance, say).

    As in PyTorch, entries whose target is neither 1 nor -1 contribute both terms.
    """
    op = "hinge_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _tensor(input, op), _tensor(target, op, "target")
    check_broadcast(op, x, t)
    margin_part = _ew.where((t != 1).data, _ew.clamp(margin - x, min=0.0), 0.0)
    self_part = _ew.where((t != -1).data, x, 0.0)
    return _reduce(margin_part + self_part, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: target 1 wants input1 ranked higher."""
    op = "margin_ranking_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    a, b, t = _tensor(input1, op, "input1"), _tensor(input2, op, "input2"), _tensor(target, op, "target")
    if not a.ndim == b.ndim == t.ndim:
        raise ValueError(
            f"{op}: all input tensors should have the same number of dimensions, got input1 "
            f"{tuple(a.shape)}, input2 {tuple(b.shape)}, target {tuple(t.shape)}"
        )
    check_broadcast(op, a, b, t)
    return _reduce(_ew.clamp(-t * (a - b) + margin, min=0.0), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is -1.

    The cosine is ``x1·x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))`` along the feature dim, as PyTorch.
    """
    op = "cosine_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    a, b, t = _tensor(input1, op, "input1"), _tensor(input2, op, "input2"), _tensor(target, op, "target")
    if t.ndim not in (0, 1):
        raise ValueError(f"{op}: 0D or 1D target tensor expected (multi-target not supported), got {tuple(t.shape)}")
    want = t.ndim + 1
    if a.ndim != want or b.ndim != want:
        raise ValueError(
            f"{op}: a {t.ndim}-D target expects {want}-D inputs, got input1 {tuple(a.shape)} and "
            f"input2 {tuple(b.shape)}"
        )
    if a.data.shape != b.data.shape or (t.ndim and t.data.shape[0] != a.data.shape[0]):
        raise ValueError(
            f"{op}: expected input1 and input2 of the same shape (N, D) and target of shape (N,), "
            f"got {tuple(a.shape)}, {tuple(b.shape)} and {tuple(t.shape)}"
        )
    dim = t.ndim  # the feature dim: 1 for (N, D), 0 for (D,)
    prod = (a * b).sum(dim)
    denom = (((a * a).sum(dim) + 1e-12) * ((b * b).sum(dim) + 1e-12)).sqrt()
    cos = prod / denom
    pos = _ew.where((t == 1).data, 1.0 - cos, 0.0)
    neg = _ew.where((t == -1).data, _ew.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(pos + neg, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets in {1, -1}.

    Computed as ``-logsigmoid(target * input)``, which never overflows.
    """
    op = "soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _floating(input, op), _tensor(target, op, "target")
    check_broadcast(op, x, t)
    return _reduce(-_act.logsigmoid(t * x), reduction)


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Multi-class hinge loss: ``Σ_{j≠y} max(0, margin - x[y] + x[j])^p / C``, times ``weight[y]``."""
    op = "multi_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p}")
    x = _floating(input, op)
    _tensor(target, op, "target")
    if x.ndim not in (1, 2) or x.data.shape[-1] == 0:
        raise ValueError(f"{op}: expected a non-empty (N, C) or (C,) input, got {tuple(x.shape)}")
    t = target.data
    if t.dtype not in (np.int64, np.uint8):
        raise TypeError(f"{op}: expected target of dtype int64 (class indices), got {describe(target)}")
    C = x.data.shape[-1]
    N = 1 if x.ndim == 1 else x.data.shape[0]
    if t.ndim > 1 or t.size != N or (x.ndim == 2 and t.ndim != 1):
        raise ValueError(
            f"{op}: target should be 1-D with one class index per sample; expected {N} for input "
            f"{tuple(x.shape)}, got shape {t.shape}"
        )
    flat = t.reshape(-1).astype(np.int64)
    bad = (flat < 0) | (flat >= C)
    if bad.any():
        raise IndexError(f"{op}: target {int(flat[bad][0])} is out of bounds for {C} classes")
    x2 = x.reshape(N, C) if x.ndim == 1 else x
    xy = gather(x2, 1, Tensor._wrap(flat[:, None]))  # (N, 1)
    z = _ew.relu(margin - xy + x2)  # (N, C)
    if p == 2:
        z = z * z
    scale = (np.arange(C) != flat[:, None]).astype(x.data.dtype)  # j ≠ y
    if weight is not None:
        w = _constant(weight, op, "weight", x.data.dtype)
        if w.shape != (C,):
            raise ValueError(f"{op}: weight must have shape ({C},) (one per class), got {w.shape}")
        scale *= w[flat][:, None]
    loss = (z * Tensor._wrap(scale)).sum(1) / C  # (N,)
    if x.ndim == 1:
        loss = loss.reshape(t.shape)
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- likelihoods
def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of ``target`` under Poisson(rate): ``rate - target * log(rate)``.

    ``log_input=True`` means ``input`` is ``log(rate)`` (``exp(input) - target * input``); otherwise
    ``input - target * log(input + eps)``. ``full`` adds Stirling's ``t log t - t + 0.5 log(2πt)``
    for targets above 1.
    """
    op = "poisson_nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _tensor(input, op), _tensor(target, op, "target")
    check_broadcast(op, x, t)
    if log_input:
        loss = _ew.exp(x) - t * x
    else:
        loss = x - t * _ew.log(x + eps)
    if full:
        above = (t > 1).data
        ts = _ew.where(above, t, 2.0)  # keeps the unused branch finite (log of a safe value)
        stirling = ts * _ew.log(ts) - ts + 0.5 * _ew.log(ts * (2.0 * math.pi))
        loss = loss + _ew.where(above, stirling, 0.0)
    return _reduce(loss, reduction)


class _ClampMinStraightThrough(Function):
    """z = max(v, eps), but dz/dv = 1 everywhere: PyTorch clamps ``var`` under ``no_grad`` in place."""

    def forward(ctx, v, *, eps):
        return xp.maximum(v, eps)

    def backward(ctx, g):
        return g


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of ``target`` under N(input, var): ``0.5 (log var + (x - y)^2 / var)``.

    ``var`` has the input's shape, or one fewer trailing dim / a single size-1 dim (homoscedastic);
    it is clamped to ``eps`` for stability (the gradient passes the clamp, as in PyTorch). ``full``
    adds the constant ``0.5 log(2π)``.
    """
    op = "gaussian_nll_loss"
    x, y = _tensor(input, op), _tensor(target, op, "target")
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries (var={var})")
        var = Tensor._wrap(xp.full(x.data.shape, float(var), dtype=x.data.dtype))
    else:
        _tensor(var, op, "var")
        if (var.data < 0).any():
            raise ValueError(f"{op}: var has negative entry/entries")
    xs, vs = x.data.shape, var.data.shape
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif not (len(xs) == len(vs) and sum(v for i, v in zip(xs, vs) if i != v) == 1):
            raise ValueError(
                f"{op}: var is of incorrect size {vs} for input {xs}: expected the input's shape, the "
                "input's shape without its last dim, or the input's shape with one dim of size 1"
            )
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected one of 'none', 'mean', 'sum'")
    var = _ClampMinStraightThrough.apply(var, eps=float(eps))
    d = x - y
    loss = (_ew.log(var) + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


__all__ = [
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "hinge_embedding_loss",
    "margin_ranking_loss", "cosine_embedding_loss", "soft_margin_loss", "multi_margin_loss",
    "poisson_nll_loss", "gaussian_nll_loss",
]
