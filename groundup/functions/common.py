"""Small helpers shared by the op families: argument normalisation and operand conversion.

Every op validates its arguments here so errors read the same everywhere: they name the op, the
shapes and dtypes involved, and what was expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.backend import xp
from groundup.tensor import Tensor


def canonical_dim(dim: Any, ndim: int, op: str) -> int:
    """Turn a possibly negative ``dim`` into ``0 <= dim < ndim`` (0-d tensors accept 0 and -1)."""
    if isinstance(dim, Tensor):
        dim = dim.item()
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return int(dim) % n if ndim else 0


def canonical_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; ``None`` means all axes. Repeats are errors."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(canonical_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dim} appears multiple times in the list of dims")
    if ndim == 0:
        return ()
    return tuple(sorted(out))


def size_arg(args: tuple, op: str) -> tuple[int, ...]:
    """Sizes given as varargs ``f(2, 3)`` or one sequence ``f((2, 3))``, as a tuple of ints."""
    if len(args) == 1 and hasattr(args[0], "__len__"):  # one tuple, list, array or Tensor
        args = tuple(args[0].tolist() if isinstance(args[0], Tensor) else args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = a.item()
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: sizes must be ints, got {a!r} ({type(a).__name__}) in {args}")
        out.append(int(a))
    return tuple(out)


def as_tensor_like(value: Any, like: Tensor) -> Tensor:
    """A Python scalar as a 0-d tensor with the dtype PyTorch would give it next to ``like``."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return Tensor._wrap(xp.asarray(value, dtype=_dt.scalar_dtype(value, like.dtype).np))
    if isinstance(value, np.ndarray):
        _dt.from_numpy_dtype(value.dtype)
        return Tensor._wrap(value)
    raise TypeError(
        f"expected a Tensor or a number, got {type(value).__name__}"
    )


def ensure_tensor(value: Any, op: str) -> Tensor:
    """Accept a Tensor, or build one from a number/array/list (as ``groundup.tensor`` would)."""
    if isinstance(value, Tensor):
        return value
    from groundup.creation import tensor  # (creation imports this module)

    try:
        return tensor(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: expected a Tensor, got {type(value).__name__} ({e})") from None


def index_tensor(index: Any, op: str, name: str = "index") -> Any:
    """An integer index array from a Tensor/array/list; a clear error for float or bool dtypes."""
    arr = index.data if isinstance(index, Tensor) else np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer tensor (int64), got dtype {arr.dtype}")
    return arr


def describe(*tensors: Tensor) -> str:
    """``(3, 4) float32 and (5,) int64``: shapes and dtypes for error messages."""
    return " and ".join(f"{tuple(t.shape)} {t.dtype.name}" for t in tensors)


def promote(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Bring two operands (tensors or Python scalars) to one dtype by PyTorch's rules.

    A float tensor that needs a wider float dtype is cast with a differentiable cast, so gradients
    still flow (and come back in the tensor's own dtype).
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a.data.dtype == b.data.dtype:
            return a, b
    elif ta:
        b = as_tensor_like(b, a)
    elif tb:
        a = as_tensor_like(a, b)
    else:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    if a.data.dtype == b.data.dtype:
        return a, b
    d = _dt.result_type(a, b)
    return cast_to(a, d), cast_to(b, d)


def cast_to(t: Tensor, d: _dt.dtype) -> Tensor:
    """``t`` in dtype ``d`` (differentiable between floating dtypes)."""
    if t.data.dtype == d.np:
        return t
    from groundup.functions.elementwise import cast

    return cast(t, d)


def check_broadcast(op: str, *tensors: Tensor) -> None:
    """Raise a readable error if the shapes cannot broadcast together."""
    try:
        np.broadcast_shapes(*(t.data.shape for t in tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise RuntimeError(
            f"{op}: shapes {shapes} cannot be broadcast together (sizes must match or be 1, "
            "aligned from the right)"
        ) from None
