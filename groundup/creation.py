"""Tensor creation: ``tensor``, ``zeros``, ``ones``, ``arange``, ``randn`` … with PyTorch's signatures.

Random creation draws from :mod:`groundup.backend`'s generator, so ``groundup.manual_seed(s)``
makes them repeat exactly. Sizes can be given as varargs (``zeros(2, 3)``) or a sequence
(``zeros((2, 3))``), as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.backend import Generator, rng, xp
from groundup.functions.common import size_arg
from groundup.tensor import Tensor


def _finish(arr: Any, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype: Any, op: str) -> _dt.dtype:
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"{op}: expected a floating dtype, got {d}")
    return d


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, a NumPy array or a tensor).

    Python floats become the default float dtype (float32), ints int64, bools bool; NumPy arrays
    keep their dtype.
    """
    t = Tensor._wrap(_to_array(data, dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _to_array(data: Any, dtype: Any) -> Any:
    from groundup.tensor import _to_array as convert

    return convert(data, dtype)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a NumPy array or tensor when no copy is needed."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype is _dt.as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _dt.as_dtype(dtype).np):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    _dt.from_numpy_dtype(array.dtype)
    return Tensor._wrap(array)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (default float dtype)."""
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    return _finish(xp.zeros(size_arg(size, "zeros"), dtype=d.np), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (default float dtype)."""
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    return _finish(xp.ones(size_arg(size, "ones"), dtype=d.np), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (here: zero-filled, so runs stay deterministic)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value (float → default float)."""
    if dtype is None:
        dtype = _dt.scalar_dtype(fill_value, _dt.bool)
    d = _dt.as_dtype(dtype)
    return _finish(xp.full(size_arg((size,), "full"), fill_value, dtype=d.np), requires_grad)


def _like(input: Tensor, dtype: Any) -> _dt.dtype:
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor, got {type(input).__name__}")
    return input.dtype if dtype is None else _dt.as_dtype(dtype)


def zeros_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.zeros(input.data.shape, dtype=_like(input, dtype).np), requires_grad)


def ones_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.ones(input.data.shape, dtype=_like(input, dtype).np), requires_grad)


def empty_like(input: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.full(input.data.shape, fill_value, dtype=_like(input, dtype).np), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``; ints give int64, floats float32."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign (start={vals[0]}, end={vals[1]}, step={vals[2]})")
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, (float, np.floating)) for v in vals) else _dt.int64
    d = _dt.as_dtype(dtype)
    n = max(int(np.ceil((vals[1] - vals[0]) / vals[2])), 0)
    arr = (vals[0] + np.arange(n, dtype=np.float64) * vals[2]) if d.is_floating_point else np.arange(*vals)
    return _finish(xp.asarray(arr.astype(d.np)), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"linspace: number of steps must be a non-negative int, got {steps!r}")
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    return _finish(xp.linspace(start, end, int(steps)).astype(d.np), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    return Tensor._wrap(xp.logspace(start, end, int(steps), base=base).astype(d.np))


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An ``n x m`` identity matrix."""
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    return _finish(xp.eye(n, m, dtype=d.np), requires_grad)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    d = _float_dtype(dtype, "rand")
    shape = size_arg(size, "rand")
    draw_dtype = d.np if d.np in (np.float32, np.float64) else np.float32
    return _finish(rng(generator).random(shape, dtype=draw_dtype).astype(d.np, copy=False), requires_grad)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    d = _float_dtype(dtype, "randn")
    shape = size_arg(size, "randn")
    draw_dtype = d.np if d.np in (np.float32, np.float64) else np.float32
    return _finish(rng(generator).standard_normal(shape, dtype=draw_dtype).astype(d.np, copy=False), requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, generator: Generator | None = None) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input: Tensor, *, dtype: Any = None, generator: Generator | None = None) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, generator=generator)


def randint(*args: Any, size: Any = None, generator: Generator | None = None, dtype: Any = None) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high), int64."""
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint: missing size")
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    d = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    shape = size_arg((size,), "randint")
    return Tensor._wrap(rng(generator).integers(low, high, shape).astype(d.np))


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None) -> Tensor:
    """A random permutation of ``0 … n-1`` (int64)."""
    d = _dt.int64 if dtype is None else _dt.as_dtype(dtype)
    return Tensor._wrap(rng(generator).permutation(int(n)).astype(d.np))


def normal(mean: float, std: float, size: Any, *, generator: Generator | None = None, dtype: Any = None) -> Tensor:
    """Normal samples with the given mean and standard deviation."""
    t = randn(size, generator=generator, dtype=dtype)
    t.data *= std
    t.data += mean
    return t


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Generator | None = None) -> Tensor:
    """Draw ``num_samples`` category indices per row with probabilities proportional to ``input``."""
    p = np.asarray(input.data, dtype=np.float64)
    squeeze = p.ndim == 1
    p = np.atleast_2d(p)
    if p.ndim != 2:
        raise RuntimeError(f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {tuple(input.shape)}")
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise RuntimeError("multinomial: probabilities must be finite and non-negative")
    sums = p.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        raise RuntimeError("multinomial: each row of probabilities must have a positive sum")
    if not replacement and num_samples > p.shape[1]:
        raise RuntimeError(
            f"multinomial: cannot draw {num_samples} samples without replacement from {p.shape[1]} categories"
        )
    g = rng(generator)
    out = np.stack([g.choice(p.shape[1], size=num_samples, replace=replacement, p=row / row.sum()) for row in p])
    return Tensor._wrap(out[0] if squeeze else out)
