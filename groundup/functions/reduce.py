"""Reductions: sum, mean, prod, max/min, amax/amin, argmax/argmin, var/std, logsumexp, cumsum,
norms, all/any and count_nonzero.

A reduction maps many elements to one, so its backward maps one gradient back to many: each
``forward`` reduces with ``keepdims=True`` and remembers that shape, so ``backward`` can give the
upstream gradient its size-1 axes back and broadcast it over the input (``sum``'s backward is only
that). Where the local derivative is a selection (``max``, ``amax``, norms at ties) the gradient goes
where PyTorch sends it; the derivation sits in each class's docstring.

``dim`` is an int, a tuple/list of ints, or None (all dims); negative dims count from the end.
"""

from __future__ import annotations

import builtins
import collections
import math
from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.autograd import Function
from groundup.backend import xp
from groundup.functions.common import canonical_dim, canonical_dims, cast_to, describe, ensure_tensor
from groundup.functions.elementwise import clone, maximum, minimum
from groundup.tensor import Tensor

_INF = builtins.float("inf")


# ----------------------------------------------------------------------------------- helpers
def _tensor(input: Any, op: str) -> Tensor:
    return input if type(input) is Tensor else ensure_tensor(input, op)


def _dims(dim: Any, ndim: int, op: str, empty_is_all: bool = True) -> tuple[int, ...]:
    """``dim`` as sorted non-negative axes; None (and ``()`` when ``empty_is_all``) means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if not dim:
            return tuple(range(ndim)) if empty_is_all else ()
        for d in dim:
            if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
                raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    elif not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(
            f"{op}: dim must be an int, a tuple of ints or None, got {dim!r} ({type(dim).__name__})"
        )
    return canonical_dims(dim, ndim, op)


def _int_dim(dim: Any, ndim: int, op: str) -> int:
    """A single dim (ops such as ``argmax`` and ``cumsum`` take no tuples)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, not {type(dim).__name__} {dim!r}")
    return canonical_dim(dim, ndim, op)


def _arr(out: Any) -> Any:
    """NumPy reductions of 0-d arrays return scalars; tensors always hold arrays."""
    return out if type(out) is np.ndarray else xp.asarray(out)


def _sum(x: Any, axes: tuple[int, ...]) -> Any:
    """``x.sum(axes, keepdims=True)``; float16 accumulates in float32 (as PyTorch), so the
    caller casts the result back with ``.astype(x.dtype, copy=False)``."""
    if x.dtype == np.float16:
        return _arr(x.sum(axis=axes, keepdims=True, dtype=np.float32))
    return _arr(x.sum(axis=axes, keepdims=True))


def _drop(out: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
    """Drop the size-1 reduced axes of a ``keepdims=True`` result unless ``keepdim``."""
    return out if keepdim or not axes else out.squeeze(axis=axes)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements each output element reduces (a Python int: no float64 promotion)."""
    return math.prod(shape[a] for a in axes)


def _check_nonempty(x: Tensor, axes: tuple[int, ...], op: str) -> None:
    """Max-like reductions have no identity, so an empty reduced dim is an error (as PyTorch)."""
    for a in axes:
        if x.data.shape[a] == 0:
            raise IndexError(
                f"{op}: expected reduction dim {a} to have non-zero size, but input of shape "
                f"{tuple(x.shape)} has none (the reduction has no identity element)"
            )


def _with_dtype(x: Tensor, dtype: Any) -> Tensor:
    return x if dtype is None else cast_to(x, _dt.as_dtype(dtype))


def _float_only(x: Tensor, op: str, what: str = "floating point") -> None:
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: input dtype must be {what}, got {describe(x)}")


# ----------------------------------------------------------------------------- sum and mean
class Sum(Function):
    """z = sum of x over the axes;  dz/dx_i = 1, so every element gets g (broadcast back)."""

    def forward(ctx, x, axes=(), keepdim=False):
        out = _sum(x, axes).astype(x.dtype, copy=False)
        ctx.shape, ctx.kept = x.shape, out.shape
        return _drop(out, axes, keepdim)

    def backward(ctx, g):
        return xp.broadcast_to(g.reshape(ctx.kept), ctx.shape)


class Mean(Function):
    """z = (1/n) sum of x over the axes;  dz/dx_i = 1/n."""

    def forward(ctx, x, axes=(), keepdim=False):
        n = _count(x.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (_sum(x, axes) / n).astype(x.dtype, copy=False)  # n a Python int: no float64; 0/0 = nan
        ctx.shape, ctx.kept, ctx.n = x.shape, out.shape, n
        return _drop(out, axes, keepdim)

    def backward(ctx, g):
        if ctx.n == 0:
            return xp.zeros(ctx.shape, dtype=g.dtype)
        return xp.broadcast_to(g.reshape(ctx.kept) / ctx.n, ctx.shape)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (all dims if None or ``()``); integer and bool inputs sum to int64."""
    x = _with_dtype(_tensor(input, "sum"), dtype)
    a = x.data
    axes = _dims(dim, a.ndim, "sum")
    if a.dtype.kind == "f":
        return Sum.apply(x, axes=axes, keepdim=keepdim)
    acc = np.int64 if dtype is None and a.dtype.kind in "biu" else a.dtype
    return Tensor._wrap(_drop(_arr(a.sum(axis=axes, keepdims=True, dtype=acc)), axes, keepdim))


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (all if None); floating inputs only, unless ``dtype`` is floating."""
    x = _tensor(input, "mean")
    if dtype is not None:
        if not _dt.as_dtype(dtype).is_floating_point:
            raise RuntimeError(
                f"mean: could not infer output dtype; dtype must be a floating point dtype, got {dtype}"
            )
        x = _with_dtype(x, dtype)
    if x.data.dtype.kind != "f":
        raise RuntimeError(
            f"mean: could not infer output dtype; input dtype must be floating point, got "
            f"{describe(x)} (pass dtype=groundup.float32 or convert with .float())"
        )
    return Mean.apply(x, axes=_dims(dim, x.data.ndim, "mean"), keepdim=keepdim)


# ------------------------------------------------------------------------------------- prod
class Prod(Function):
    """z = prod of x over the axes;  dz/dx_i = prod_{j != i} x_j.

    Written as z / x_i where a slice has no zero; with one zero, only that element gets the
    product of the others; with two or more, every derivative is 0. No division by zero.
    """

    def forward(ctx, x, axes=(), keepdim=False):
        out = _arr(x.prod(axis=axes, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        return _drop(out, axes, keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        g = g.reshape(out.shape)
        zero = x == 0
        if not zero.any():
            return g * (out / x)
        axes = ctx.axes
        n_zero = zero.sum(axis=axes, keepdims=True)
        safe = xp.where(zero, 1, x)
        prod_rest = _arr(safe.prod(axis=axes, keepdims=True))  # product of the non-zeros
        local = xp.where(zero, xp.where(n_zero == 1, prod_rest, 0), xp.where(n_zero == 0, prod_rest / safe, 0))
        return g * local.astype(g.dtype, copy=False)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (all if None); integer and bool inputs give int64.

    PyTorch takes one int dim; a tuple works here too.
    """
    x = _with_dtype(_tensor(input, "prod"), dtype)
    a = x.data
    axes = _dims(dim, a.ndim, "prod")
    if a.dtype.kind == "f":
        return Prod.apply(x, axes=axes, keepdim=keepdim)
    acc = np.int64 if dtype is None and a.dtype.kind in "biu" else a.dtype
    return Tensor._wrap(_drop(_arr(a.prod(axis=axes, keepdims=True, dtype=acc)), axes, keepdim))


# ---------------------------------------------------------------------- max, min, amax, amin
class Amax(Function):
    """z = max of x over the axes;  dz/dx_i = 1/k at the k elements equal to z (ties share), else 0.

    With ``nan_ties`` (``max()`` over everything) NaNs count as equal to a NaN result, as PyTorch.
    """

    reduce = staticmethod(xp.max)

    def forward(ctx, x, axes=(), keepdim=False, nan_ties=False):
        out = _arr(ctx.reduce(x, axis=axes, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.nan_ties = axes, nan_ties
        return _drop(out, axes, keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        mask = x == out
        if ctx.nan_ties:
            mask |= xp.isnan(x) & xp.isnan(out)
        count = mask.sum(axis=ctx.axes, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return mask * (g.reshape(out.shape) / count.astype(g.dtype))  # all-NaN slice: NaN, as torch


class Amin(Amax):
    """z = min of x over the axes;  dz/dx_i = 1/k at the k elements equal to z, else 0."""

    reduce = staticmethod(xp.min)


class TakeAlongDim(Function):
    """z = x[..., idx, ...] along one axis (``max``/``min`` with a dim);  dz/dx = g at idx, 0 elsewhere."""

    def forward(ctx, x, idx=None, axis=0, keepdim=False):
        ctx.shape, ctx.idx, ctx.axis = x.shape, idx, axis
        out = xp.take_along_axis(x, idx, axis=axis)
        return out if keepdim else out.squeeze(axis=axis)

    def backward(ctx, g):
        gx = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(gx, ctx.idx, g.reshape(ctx.idx.shape), axis=ctx.axis)
        return gx


def _values_indices(name: str) -> type:
    """A ``(values, indices)`` namedtuple type, like ``torch.return_types.max``."""
    base = collections.namedtuple(name, ["values", "indices"])

    def __repr__(self) -> str:
        return f"groundup.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})
    cls.__qualname__ = f"_{name}_result"  # where pickle finds it (module-level name below)
    return cls


_max_result = _values_indices("max")
_min_result = _values_indices("min")


def _extreme(input: Any, dim: Any, keepdim: bool, op: str) -> Any:
    x = _tensor(input, op)
    if isinstance(dim, Tensor):  # torch.max(input, other): elementwise
        return maximum(x, dim) if op == "max" else minimum(x, dim)
    a = x.data
    is_max = op == "max"
    if dim is None:
        if a.size == 0:
            raise RuntimeError(
                f"{op}: expected reduction dim to be specified for an empty input (shape "
                f"{tuple(x.shape)}); pass dim="
            )
        axes = tuple(range(a.ndim))
        if a.dtype.kind != "f":
            return Tensor._wrap(_drop(_arr((xp.max if is_max else xp.min)(a, keepdims=True)), axes, keepdim))
        return (Amax if is_max else Amin).apply(x, axes=axes, keepdim=keepdim, nan_ties=True)
    axis = _int_dim(dim, a.ndim, op)
    result = _max_result if is_max else _min_result
    if a.ndim == 0:
        return result(clone(x), Tensor._wrap(xp.zeros((), np.int64)))
    _check_nonempty(x, (axis,), op)
    idx = _arr((xp.argmax if is_max else xp.argmin)(a, axis=axis, keepdims=True))
    indices = Tensor._wrap(idx if keepdim else idx.squeeze(axis=axis))
    if a.dtype.kind != "f":
        values = xp.take_along_axis(a, idx, axis=axis)
        return result(Tensor._wrap(values if keepdim else values.squeeze(axis=axis)), indices)
    return result(TakeAlongDim.apply(x, idx=idx, axis=axis, keepdim=keepdim), indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest element (``dim=None``), or ``(values, indices)`` along ``dim``.

    Over everything, ties share the gradient evenly; along a dim, it goes to the returned index
    (the first of any ties). ``max(input, other_tensor)`` is :func:`maximum`, as in PyTorch.
    """
    return _extreme(input, dim, keepdim, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest element (``dim=None``), or ``(values, indices)`` along ``dim`` (see :func:`max`)."""
    return _extreme(input, dim, keepdim, "min")


def _amax_amin(cls: type[Function], input: Any, dim: Any, keepdim: bool, op: str) -> Tensor:
    x = _tensor(input, op)
    a = x.data
    axes = _dims(dim, a.ndim, op)
    _check_nonempty(x, axes, op)
    if a.dtype.kind != "f":
        return Tensor._wrap(_drop(_arr(cls.reduce(a, axis=axes, keepdims=True)), axes, keepdim))
    return cls.apply(x, axes=axes, keepdim=keepdim)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (``()`` or None: all dims); ties share the gradient evenly."""
    return _amax_amin(Amax, input, dim, keepdim, "amax")


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (``()`` or None: all dims); ties share the gradient evenly."""
    return _amax_amin(Amin, input, dim, keepdim, "amin")


def _arg(input: Any, dim: Any, keepdim: bool, op: str) -> Tensor:
    x = _tensor(input, op)
    a = x.data
    if a.dtype.kind == "b":
        raise RuntimeError(f"{op}: does not support bool input ({describe(x)}); convert with .long()")
    fn = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        if a.size == 0:
            raise IndexError(
                f"{op}: expected reduction dim to be specified for an empty input (shape {tuple(x.shape)})"
            )
        idx = _arr(fn(a.reshape(-1))).astype(np.int64, copy=False)
        return Tensor._wrap(idx.reshape((1,) * a.ndim) if keepdim else idx)
    axis = _int_dim(dim, a.ndim, op)
    if a.ndim == 0:
        return Tensor._wrap(xp.zeros((), np.int64))
    _check_nonempty(x, (axis,), op)
    return Tensor._wrap(_arr(fn(a, axis=axis, keepdims=keepdim)).astype(np.int64, copy=False))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first largest value along ``dim``, or in the flattened input if None."""
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the first smallest value along ``dim``, or in the flattened input if None."""
    return _arg(input, dim, keepdim, "argmin")


# ---------------------------------------------------------------------------------- var, std
def _centered(x: Any, axes: tuple[int, ...], correction: Any) -> tuple[Any, Any, Any]:
    """``(x - mean, sum of squares / dof, dof)`` with ``dof = max(0, n - correction)``."""
    n = _count(x.shape, axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = x - (_sum(x, axes) / n).astype(x.dtype, copy=False)
        dof = builtins.max(0, n - correction)
        v = (_sum(d * d, axes) / dof).astype(x.dtype, copy=False)
    return d, v, dof


class Var(Function):
    """v = sum (x - m)**2 / (n - c), m the mean;  dv/dx_i = 2 (x_i - m) / (n - c).

    (The mean's own dependence on x_i drops out: sum (x_j - m) = 0.)
    """

    def forward(ctx, x, axes=(), keepdim=False, correction=1):
        d, v, dof = _centered(x, axes, correction)
        ctx.save_for_backward(d)
        ctx.dof, ctx.kept = dof, v.shape
        return _drop(v, axes, keepdim)

    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            return (g.reshape(ctx.kept) * 2) * d / ctx.dof


class Std(Function):
    """s = sqrt(v), v the variance;  ds/dx = dv/dx / (2 s), taken as 0 where s == 0 (as PyTorch)."""

    def forward(ctx, x, axes=(), keepdim=False, correction=1):
        d, v, dof = _centered(x, axes, correction)
        s = xp.sqrt(v)
        ctx.save_for_backward(d, s)
        ctx.dof = dof
        return _drop(s, axes, keepdim)

    def backward(ctx, g):
        d, s = ctx.saved_tensors
        with np.errstate(invalid="ignore", divide="ignore"):
            gv = xp.where(s == 0, 0, g.reshape(s.shape) / (2 * s))
            return (gv * 2) * d / ctx.dof


def _correction(op: str, dim: Any, unbiased: Any, correction: Any) -> tuple[Any, Any]:
    """Resolve PyTorch's two spellings: legacy ``unbiased`` (bool) and ``correction`` (number)."""
    if isinstance(dim, bool):  # the var(unbiased) overload: x.var(False)
        if unbiased is not None:
            raise TypeError(f"{op}: dim must be an int, a tuple of ints or None, got {dim!r}")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased= or correction=, not both")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r} ({type(unbiased).__name__})")
        return dim, int(bool(unbiased))
    if correction is None:
        return dim, 1
    if not isinstance(correction, (int, builtins.float, np.integer, np.floating)) or isinstance(correction, bool):
        raise TypeError(f"{op}: correction must be a number, got {correction!r} ({type(correction).__name__})")
    return dim, correction


def _var_std(cls: type[Function], input: Any, dim: Any, unbiased: Any, keepdim: bool, correction: Any, op: str) -> Tensor:
    x = _tensor(input, op)
    dim, c = _correction(op, dim, unbiased, correction)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: std and var only support floating point dtypes, got {describe(x)}")
    return cls.apply(x, axes=_dims(dim, x.data.ndim, op), keepdim=keepdim, correction=c)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Variance over ``dim``: sum of squared deviations / (n - correction); correction defaults to 1.

    ``unbiased=False`` is the old spelling of ``correction=0``. ``n - correction <= 0`` gives inf/nan.
    """
    return _var_std(Var, input, dim, unbiased, keepdim, correction, "var")


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Standard deviation over ``dim``: ``sqrt(var(...))``; arguments as in :func:`var`."""
    return _var_std(Std, input, dim, unbiased, keepdim, correction, "std")


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None) -> tuple[Tensor, Tensor]:
    """``(var(...), mean(...))`` over the same dims."""
    dim, c = _correction("var_mean", dim, unbiased, correction)
    return var(input, dim, keepdim=keepdim, correction=c), mean(input, dim, keepdim)


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None) -> tuple[Tensor, Tensor]:
    """``(std(...), mean(...))`` over the same dims."""
    dim, c = _correction("std_mean", dim, unbiased, correction)
    return std(input, dim, keepdim=keepdim, correction=c), mean(input, dim, keepdim)


# -------------------------------------------------------------------------------- logsumexp
class LogSumExp(Function):
    """z = log sum exp x = m + log sum exp(x - m), m = max x (no overflow);  dz/dx = exp(x - z).

    An infinite m is replaced by 0 so all -inf gives -inf and +inf gives +inf, as PyTorch.
    """

    def forward(ctx, x, axes=(), keepdim=False):
        m = _arr(xp.max(x, axis=axes, keepdims=True, initial=-_INF))  # -inf for empty slices
        m = xp.where(xp.isinf(m), xp.zeros((), m.dtype), m)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = xp.log(_arr(xp.exp(x - m).sum(axis=axes, keepdims=True))) + m
        ctx.save_for_backward(x, out)
        return _drop(out, axes, keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        with np.errstate(invalid="ignore", over="ignore"):
            return g.reshape(out.shape) * xp.exp(x - out)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed stably; integer inputs give the default float dtype.

    ``dim=()`` reduces all dims (PyTorch errors there).
    """
    x = _tensor(input, "logsumexp")
    if x.data.dtype.kind != "f":
        x = Tensor._wrap(x.data.astype(_dt.get_default_dtype().np))
    return LogSumExp.apply(x, axes=_dims(dim, x.data.ndim, "logsumexp"), keepdim=keepdim)


# ----------------------------------------------------------------------------------- cumsum
class Cumsum(Function):
    """z_i = sum_{j <= i} x_j along the axis;  dz_i/dx_j = 1 for i >= j, so dx = reversed cumsum of g."""

    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return xp.cumsum(x, axis=axis)

    def backward(ctx, g):
        a = ctx.axis
        return xp.flip(xp.cumsum(xp.flip(g, a), axis=a), a)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``; integer and bool inputs give int64."""
    x = _with_dtype(_tensor(input, "cumsum"), dtype)
    a = x.data
    axis = _int_dim(dim, a.ndim, "cumsum")
    if a.dtype.kind != "f":
        acc = np.int64 if dtype is None and a.dtype.kind in "biu" else a.dtype
        return Tensor._wrap(xp.cumsum(a.reshape(a.shape or (1,)), axis=axis, dtype=acc).reshape(a.shape))
    if a.ndim == 0:
        return clone(x)  # a running sum of one element
    return Cumsum.apply(x, axis=axis)


# ------------------------------------------------------------------------------------ norms
class VectorNorm(Function):
    """z = (sum |x|**p)**(1/p) over the axes;  dz/dx = sgn(x) |x|**(p-1) / z**(p-1).

    Special orders: p = 2 gives x / z; p = 1 gives sgn(x); p = +-inf is max/min |x| (ties share
    sgn(x)/k); p = 0 counts non-zeros (zero gradient). Where z == 0 the gradient is 0, and for
    p < 1 so is the term of each x_i == 0 (PyTorch's conventions, so no nan at the zero vector).
    """

    def forward(ctx, x, ord=2.0, axes=(), keepdim=False):
        ax = xp.abs(x)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if ord == 2:
                out = xp.sqrt(_arr((x * x).sum(axis=axes, keepdims=True)))
            elif ord == 1:
                out = _arr(ax.sum(axis=axes, keepdims=True))
            elif ord == _INF:
                out = _arr(ax.max(axis=axes, keepdims=True))
            elif ord == -_INF:
                out = _arr(ax.min(axis=axes, keepdims=True))
            elif ord == 0:
                out = _arr((x != 0).sum(axis=axes, keepdims=True)).astype(x.dtype)
            else:
                out = _arr((ax**ord).sum(axis=axes, keepdims=True)) ** (1.0 / ord)
        ctx.save_for_backward(x, out)
        ctx.ord, ctx.axes = ord, axes
        return _drop(out, axes, keepdim)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p = ctx.ord
        g = g.reshape(out.shape)
        zero = xp.zeros((), g.dtype)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if p == 2:
                return x * xp.where(out == 0, zero, g / out)
            if p == 1:
                return xp.sign(x) * g
            if p == 0:
                return xp.zeros(x.shape, g.dtype)
            ax = xp.abs(x)
            if p in (_INF, -_INF):
                mask = ax == out
                count = mask.sum(axis=ctx.axes, keepdims=True).astype(g.dtype)
                return xp.sign(x) * mask * (g / count)
            if p < 1:
                scaled = xp.where(x == 0, zero, xp.sign(x) * ax ** (p - 1))
                return scaled * (g * out ** (1 - p))
            return xp.sign(x) * ax ** (p - 1) * xp.where(out == 0, zero, g / out ** (p - 1))


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The ``ord``-norm of ``x`` over ``dim`` (all dims if None or ``()``), as ``torch.linalg.vector_norm``.

    ``ord`` is any float, ``inf`` (max |x|), ``-inf`` (min |x|) or 0 (number of non-zeros).
    ``dtype`` (floating, no narrower than the input) is the dtype the norm is computed in.
    """
    op = "linalg.vector_norm"
    x = _tensor(x, op)
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, builtins.float, np.integer, np.floating)):
        raise TypeError(f"{op}: ord must be a number, got {ord!r} ({type(ord).__name__})")
    _float_only(x, op)
    if dtype is not None:
        d = _dt.as_dtype(dtype)
        if not d.is_floating_point:
            raise RuntimeError(f"{op}: dtype should be floating point, got {d}")
        if np.result_type(x.data.dtype, d.np) != d.np:
            raise RuntimeError(
                f"{op}: the dtype of the input ({x.dtype}) should be convertible without narrowing "
                f"to the specified dtype ({d})"
            )
        x = cast_to(x, d)
    axes = _dims(dim, x.data.ndim, op)
    ord = builtins.float(ord)
    if ord in (_INF, -_INF):
        for a in axes:
            if x.data.shape[a] == 0:
                raise RuntimeError(
                    f"{op}: cannot compute the {ord} norm over dim {a} of input shape "
                    f"{tuple(x.shape)}: the dimension is empty and the operation has no identity"
                )
    return VectorNorm.apply(x, ord=ord, axes=axes, keepdim=keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The vector ``p``-norm over ``dim`` (``torch.norm``); ``'fro'`` (over at most 2 dims) and
    None mean ``p = 2``. The nuclear norm (``'nuc'``) is not implemented.
    """
    if isinstance(p, str):
        if p != "fro":
            if p == "nuc":
                raise NotImplementedError("norm: the nuclear norm (p='nuc') is not implemented")
            raise RuntimeError(f"norm: only valid string values of p are 'fro' and 'nuc', got {p!r}")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm: the Frobenius norm takes at most 2 dims, got dim={dim!r}")
        p = 2
    elif p is None:
        p = 2
    op_input = _tensor(input, "norm")
    return vector_norm(op_input, p, dim, keepdim, dtype=dtype)


# -------------------------------------------------------------------------- logic and counts
def _logical(fn: Any, input: Any, dim: Any, keepdim: bool, op: str) -> Tensor:
    x = _tensor(input, op)
    a = x.data
    axes = _dims(dim, a.ndim, op, empty_is_all=False)  # as PyTorch: dim=() reduces nothing
    out = _drop(_arr(fn(a, axis=axes, keepdims=True)), axes, keepdim)
    return Tensor._wrap(out.astype(np.uint8) if a.dtype == np.uint8 else out)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether every element over ``dim`` is non-zero (bool; uint8 for uint8 input, as PyTorch)."""
    return _logical(xp.all, input, dim, keepdim, "all")


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether some element over ``dim`` is non-zero (bool; uint8 for uint8 input, as PyTorch)."""
    return _logical(xp.any, input, dim, keepdim, "any")


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Number (int64) of non-zero elements over ``dim`` (all dims if None or ``()``)."""
    x = _tensor(input, "count_nonzero")
    axes = _dims(dim, x.data.ndim, "count_nonzero")
    return Tensor._wrap(_arr((x.data != 0).sum(axis=axes, dtype=np.int64)))


__all__ = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "var_mean", "std_mean", "logsumexp", "cumsum", "norm", "vector_norm", "all", "any",
    "count_nonzero",
]
