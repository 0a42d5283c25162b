"""Tensor dtypes with PyTorch's names: ``groundup.float32``, ``groundup.int64``, ``groundup.bool`` ….

Each :class:`dtype` wraps a NumPy dtype. :func:`result_type` applies PyTorch's promotion rules,
which differ from NumPy's in one way that matters: a 0-d tensor or a Python scalar never widens a
dimensioned tensor of the same category, so ``float32_tensor * 2.0`` stays float32.
"""

from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """A tensor element type; ``str(groundup.float32) == 'groundup.float32'``."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, np_dtype: np.dtype, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating

    def __repr__(self) -> str:
        return f"groundup.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16, 2)
float32 = float = dtype("float32", np.float32, 2)
float64 = double = dtype("float64", np.float64, 2)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = short = dtype("int16", np.int16, 1)
int32 = int = dtype("int32", np.int32, 1)
int64 = long = dtype("int64", np.int64, 1)
bool = dtype("bool", np.bool_, 0)

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NP = {d.np: d for d in _ALL}


def _by_name(name: str) -> dtype:
    return globals()[name]


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the dtype Python floats become: ``float32`` or ``float64`` (as in PyTorch)."""
    global _default_float
    d = as_dtype(d)
    if d not in (float32, float64, float16):
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float = d


def as_dtype(d: object) -> dtype:
    """Accept a groundup dtype, a NumPy dtype/type, or a name such as ``'float32'``."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return _default_float
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    try:
        npd = np.dtype(d)
    except TypeError:
        raise TypeError(f"unknown dtype {d!r}") from None
    if npd not in _FROM_NP:
        raise TypeError(f"dtype {npd} is not supported; use one of {', '.join(x.name for x in _ALL)}")
    return _FROM_NP[npd]


def from_numpy_dtype(npd: np.dtype) -> dtype:
    """The groundup dtype of a NumPy array (error for unsupported ones such as complex)."""
    try:
        return _FROM_NP[npd]
    except KeyError:
        raise TypeError(
            f"NumPy dtype {npd} is not supported; use one of {', '.join(x.name for x in _ALL)}"
        ) from None


def scalar_dtype(value: object, other: dtype) -> dtype:
    """The dtype a Python scalar takes when combined with a tensor of dtype ``other``.

    A Python scalar is "weak": it only matters when its category is higher than the tensor's
    (``int_tensor + 0.5`` is the default float dtype; ``bool_tensor + 1`` is int64).
    """
    cat = 0 if isinstance(value, (builtins.bool, np.bool_)) else 2 if isinstance(value, (builtins.float, np.floating)) else 1
    if cat <= other._category:
        return other
    return _default_float if cat == 2 else int64


def result_type(*tensors) -> dtype:
    """PyTorch's promotion for tensor operands (each needs ``.dtype`` and ``.ndim``).

    The highest category (bool < int < float) decides; within it, dimensioned tensors decide
    before 0-d ones, and NumPy's promotion picks the widest of those.
    """
    dts = [t.dtype for t in tensors]
    first = dts[0]
    if all(d is first for d in dts):
        return first
    top = max(d._category for d in dts)
    dim = [t.dtype.np for t in tensors if t.dtype._category == top and t.ndim > 0]
    pool = dim or [t.dtype.np for t in tensors if t.dtype._category == top]
    return _FROM_NP[np.result_type(*pool)]
