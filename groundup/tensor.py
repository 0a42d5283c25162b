"""``Tensor``: an array, its gradient, and the node that made it.

A tensor holds ``data`` (an array of the backend), ``requires_grad``, ``grad`` (a Tensor or
None) and ``_ctx``, the :class:`~groundup.autograd.Function` instance that produced it (None for
leaves). Methods are thin: each forwards to the function module that implements the op, so the
maths lives in one place per op (``groundup/functions/*.py``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from groundup import autograd
from groundup import dtypes as _dt
from groundup.backend import xp


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``groundup.Size([2, 3])`` (like ``torch.Size``)."""

    def __repr__(self) -> str:
        return f"groundup.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class device:
    """Where a tensor lives. Only ``'cpu'`` exists today; the type makes ``.to(device)`` ports work."""

    __slots__ = ("type",)

    def __init__(self, type: str | device = "cpu") -> None:
        name = type.type if isinstance(type, device) else str(type).split(":")[0]
        if name != "cpu":
            raise RuntimeError(
                f"device {type!r} is not available: groundup runs on the CPU (NumPy) only"
            )
        self.type = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (device, str)) and str(other).split(":")[0] == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


_CPU = device("cpu")


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _to_array(data: Any, dtype: _dt.dtype | None) -> Any:
    """Convert Python/NumPy data to a backend array with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        if dtype is None:
            _dt.from_numpy_dtype(arr.dtype)  # rejects complex, object, strings
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"tensor: could not build a tensor from {type(data).__name__}: {e}") from None
        kind = arr.dtype.kind
        if dtype is None:
            if kind == "f":
                arr = arr.astype(_dt.get_default_dtype().np)
            elif kind in "iu":
                arr = arr.astype(np.int64)
            elif kind == "b":
                pass
            else:
                raise TypeError(
                    f"tensor: could not infer a dtype for {type(data).__name__} data "
                    f"(NumPy made {arr.dtype}); expected numbers, bools or nested lists of them"
                )
    if dtype is not None:
        arr = arr.astype(_dt.as_dtype(dtype).np, copy=False)
    return xp.array(arr, copy=True)


class Tensor:
    """A multi-dimensional array that can record the ops applied to it and backpropagate.

    Build one with :func:`groundup.tensor`; ``Tensor(data)`` also works and, as in PyTorch, makes
    floating tensors (``float32`` unless ``dtype`` is given).
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_vc", "_hooks", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, data: Any = (), dtype: Any = None, requires_grad: bool = False) -> None:
        if dtype is None and not isinstance(data, (np.ndarray, np.generic, Tensor)):
            dtype = _dt.get_default_dtype()
        self.data = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._vc = [0]
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(array: Any, requires_grad: bool = False) -> Tensor:
        """Wrap a backend array without copying (internal fast path)."""
        if type(array) is not xp.ndarray:  # NumPy returns scalars for 0-d results
            array = xp.asarray(array)
        t = Tensor.__new__(Tensor)
        t.data = array
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._vc = [0]
        t._hooks = None
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> Size:
        return Size(self.data.shape)

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.from_numpy_dtype(self.data.dtype)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> device:
        return _CPU

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (shared with its views, as in PyTorch).

        Recorded ops remember their inputs' versions; backward refuses to run if one changed.
        """
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._vc[0] = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (user-created, or not requiring grad)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> autograd.Function | None:
        """The node that made this tensor (None for leaves)."""
        return self._ctx

    @property
    def T(self) -> Tensor:
        """Reverse all dimensions (for 2-D, the transpose)."""
        return _mv.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """Transpose the last two dimensions (batched matrix transpose)."""
        return _mv.transpose(self, -2, -1)

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_common.canonical_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def item(self) -> builtins.float | builtins.int | builtins.bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self.data.size} elements (shape {tuple(self.shape)}) cannot "
                "be converted to a Python scalar; expected exactly one element"
            )
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as ``Tensor.numpy()`` in PyTorch."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad; use "
                "tensor.detach().numpy() instead"
            )
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.numpy()
        return arr.astype(dtype) if dtype is not None else arr

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether this leaf records ops for backward (floating tensors only)."""
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad_: only floating point tensors can require gradients, this one is "
                f"{self.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf tensors; use detach() "
                "for a non-leaf"
            )
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data (and version counter), cut off from the graph."""
        t = Tensor._wrap(self.data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a tensor that doesn't require grad")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return getattr(self, "_retains_grad", False)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def backward(self, gradient: Tensor | Any = None, retain_graph: builtins.bool = False) -> None:
        """Accumulate the gradient of this tensor with respect to every leaf into their ``.grad``.

        ``gradient`` is d(loss)/d(self); it may be omitted only for a one-element tensor.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: element 0 of tensors does not require grad and does not have a grad_fn "
                "(did you create it under no_grad, or forget requires_grad=True on a leaf?)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs; this tensor "
                    f"has shape {tuple(self.shape)}. Pass gradient= (a tensor of that shape), or "
                    "reduce it first (e.g. .sum())"
                )
            g, exclusive = xp.ones_like(self.data), True
        else:
            g = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=self.data.dtype)
            if g.shape != self.data.shape:
                raise RuntimeError(
                    f"backward: gradient has shape {g.shape}, but the tensor has shape {self.data.shape}"
                )
            g, exclusive = g.astype(self.data.dtype, copy=False), False
        with autograd.no_grad():
            autograd.backward(self, g, retain_graph=retain_graph, exclusive=exclusive)

    # ------------------------------------------------------------------ dtype / copies
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(other_tensor)``, or ``to(device, dtype)``."""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        if kwargs:
            raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                dev = a
            else:
                dtype = a
        if dev is not None:
            device(dev)  # validates
        if dtype is None:
            return self
        return _ew.cast(self, _dt.as_dtype(dtype))

    def type(self, dtype: Any = None) -> Any:
        if dtype is None:
            return f"groundup.{self.dtype.name}"
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(_dt.float32)

    def double(self) -> Tensor:
        return self.to(_dt.float64)

    def half(self) -> Tensor:
        return self.to(_dt.float16)

    def long(self) -> Tensor:
        return self.to(_dt.int64)

    def int(self) -> Tensor:
        return self.to(_dt.int32)

    def bool(self) -> Tensor:
        return self.to(_dt.bool)

    def cpu(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back through it."""
        return _ew.clone(self)

    def contiguous(self) -> Tensor:
        return self if self.data.flags.c_contiguous else _ew.clone(self)

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: builtins.bool = False) -> Tensor:
        return Tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None) -> Tensor:
        return Tensor._wrap(xp.zeros(_common.size_arg(size, "new_zeros"), dtype=_dt.as_dtype(dtype or self.dtype).np))

    def new_ones(self, *size: Any, dtype: Any = None) -> Tensor:
        return Tensor._wrap(xp.ones(_common.size_arg(size, "new_ones"), dtype=_dt.as_dtype(dtype or self.dtype).np))

    def new_full(self, size: Sequence[int], fill_value: Any, dtype: Any = None) -> Tensor:
        return Tensor._wrap(xp.full(tuple(size), fill_value, dtype=_dt.as_dtype(dtype or self.dtype).np))

    def new_empty(self, *size: Any, dtype: Any = None) -> Tensor:
        return self.new_zeros(*size, dtype=dtype)

    # ------------------------------------------------------------------ in-place (no autograd)
    def _check_inplace(self, op: str) -> None:
        if self.requires_grad and autograd.is_grad_enabled():
            kind = "a leaf tensor" if self._ctx is None else "a tensor"
            raise RuntimeError(
                f"{op}: in-place operation on {kind} that requires grad (shape {tuple(self.shape)}) "
                "is not supported while recording; use the out-of-place op, or do it under "
                "groundup.no_grad() (e.g. a parameter update)"
            )

    def _inplace(self, op: str, value: Any) -> Tensor:
        self._check_inplace(op)
        value = value.data if isinstance(value, Tensor) else value
        try:
            np.copyto(self.data, value, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise RuntimeError(
                f"{op}: cannot write a result of shape {np.shape(value)} and dtype "
                f"{getattr(value, 'dtype', type(value).__name__)} into a tensor of shape "
                f"{tuple(self.shape)} and dtype {self.dtype}: {e}"
            ) from None
        self._vc[0] += 1
        return self

    def _operand(self, other: Any) -> Any:
        return other.data if isinstance(other, Tensor) else other

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        o = self._operand(other)
        return self._inplace("add_", self.data + (o if alpha == 1 else alpha * o))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        o = self._operand(other)
        return self._inplace("sub_", self.data - (o if alpha == 1 else alpha * o))

    def mul_(self, other: Any) -> Tensor:
        return self._inplace("mul_", self.data * self._operand(other))

    def div_(self, other: Any) -> Tensor:
        return self._inplace("div_", self.data / self._operand(other))

    def pow_(self, exponent: Any) -> Tensor:
        return self._inplace("pow_", self.data ** self._operand(exponent))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return self._inplace("clamp_", _ew.clamp(self.detach(), min, max).data)

    def zero_(self) -> Tensor:
        return self._inplace("zero_", 0)

    def fill_(self, value: Any) -> Tensor:
        return self._inplace("fill_", self._operand(value))

    def copy_(self, src: Any) -> Tensor:
        return self._inplace("copy_", self._operand(src))

    def uniform_(self, a: builtins.float = 0.0, b: builtins.float = 1.0, *, generator: Any = None) -> Tensor:
        from groundup.backend import rng

        return self._inplace("uniform_", rng(generator).uniform(a, b, self.data.shape))

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, *, generator: Any = None) -> Tensor:
        from groundup.backend import rng

        return self._inplace("normal_", rng(generator).normal(mean, std, self.data.shape))

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return self._inplace("masked_fill_", _mv.masked_fill(self.detach(), mask, value).data)

    def __setitem__(self, key: Any, value: Any) -> None:
        _mv.setitem(self, key, value)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ------------------------------------------------------------------ Python protocol
    def __repr__(self) -> str:
        return _format(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> builtins.bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.data.size} values (shape {tuple(self.shape)}) is "
                "ambiguous; use .any() or .all()"
            )
        return builtins.bool(self.data.reshape(()))

    def __float__(self) -> builtins.float:
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(
                f"only integer tensors of a single element can be converted to an index "
                f"(got {self.dtype}, shape {tuple(self.shape)})"
            )
        return builtins.int(self.item())

    __hash__ = object.__hash__

    def __getitem__(self, key: Any) -> Tensor:
        return _mv.getitem(self, key)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _ew.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ew.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ew.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ew.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ew.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ew.div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ew.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ew.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ew.remainder(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ew.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ew.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _la.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _la.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ew.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.abs(self)

    # comparisons and logic (results are bool tensors, never differentiable)
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ew.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ew.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _ew.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ew.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ew.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ew.ge(self, other)

    def __and__(self, other: Any) -> Tensor:
        return _ew.logical_and(self, other) if self.dtype is _dt.bool else _ew.bitwise("and", self, other)

    def __or__(self, other: Any) -> Tensor:
        return _ew.logical_or(self, other) if self.dtype is _dt.bool else _ew.bitwise("or", self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _ew.logical_xor(self, other) if self.dtype is _dt.bool else _ew.bitwise("xor", self, other)

    def __invert__(self) -> Tensor:
        return _ew.logical_not(self) if self.dtype is _dt.bool else _ew.bitwise("not", self)

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    # ------------------------------------------------------------------ named methods
    # elementwise (groundup/functions/elementwise.py)
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ew.sub(self, other, alpha=alpha)

    def mul(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _ew.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent: Any) -> Tensor:
        return _ew.pow(self, exponent)

    def neg(self) -> Tensor:
        return _ew.neg(self)

    def abs(self) -> Tensor:
        return _ew.abs(self)

    def exp(self) -> Tensor:
        return _ew.exp(self)

    def log(self) -> Tensor:
        return _ew.log(self)

    def log1p(self) -> Tensor:
        return _ew.log1p(self)

    def sqrt(self) -> Tensor:
        return _ew.sqrt(self)

    def rsqrt(self) -> Tensor:
        return _ew.rsqrt(self)

    def square(self) -> Tensor:
        return _ew.square(self)

    def reciprocal(self) -> Tensor:
        return _ew.reciprocal(self)

    def sin(self) -> Tensor:
        return _ew.sin(self)

    def cos(self) -> Tensor:
        return _ew.cos(self)

    def tanh(self) -> Tensor:
        return _ew.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ew.sigmoid(self)

    def relu(self) -> Tensor:
        return _ew.relu(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return _ew.clamp(self, min, max)

    clip = clamp

    def sign(self) -> Tensor:
        return _ew.sign(self)

    def floor(self) -> Tensor:
        return _ew.floor(self)

    def ceil(self) -> Tensor:
        return _ew.ceil(self)

    def round(self, *, decimals: builtins.int = 0) -> Tensor:
        return _ew.round(self, decimals=decimals)

    def maximum(self, other: Any) -> Tensor:
        return _ew.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _ew.minimum(self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        return _ew.where(condition, self, other)

    def eq(self, other: Any) -> Tensor:
        return _ew.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return _ew.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return _ew.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return _ew.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return _ew.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return _ew.ge(self, other)

    def logical_and(self, other: Any) -> Tensor:
        return _ew.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return _ew.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return _ew.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        return _ew.logical_not(self)

    def isnan(self) -> Tensor:
        return _ew.isnan(self)

    def isinf(self) -> Tensor:
        return _ew.isinf(self)

    def isfinite(self) -> Tensor:
        return _ew.isfinite(self)

    def allclose(self, other: Any, rtol: builtins.float = 1e-5, atol: builtins.float = 1e-8, equal_nan: builtins.bool = False) -> builtins.bool:
        return _ew.allclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)

    def equal(self, other: Tensor) -> builtins.bool:
        return _ew.equal(self, other)

    # reductions (groundup/functions/reduce.py)
    def sum(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return _red.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return _red.mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return _red.prod(self, dim, keepdim, dtype=dtype)

    def max(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        return _red.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        return _red.min(self, dim, keepdim)

    def amax(self, dim: Any = (), keepdim: builtins.bool = False) -> Tensor:
        return _red.amax(self, dim, keepdim)

    def amin(self, dim: Any = (), keepdim: builtins.bool = False) -> Tensor:
        return _red.amin(self, dim, keepdim)

    def argmax(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _red.argmax(self, dim, keepdim)

    def argmin(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _red.argmin(self, dim, keepdim)

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: builtins.bool = False, *, correction: Any = None) -> Tensor:
        return _red.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: builtins.bool = False, *, correction: Any = None) -> Tensor:
        return _red.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim: Any, keepdim: builtins.bool = False) -> Tensor:
        return _red.logsumexp(self, dim, keepdim)

    def cumsum(self, dim: builtins.int, *, dtype: Any = None) -> Tensor:
        return _red.cumsum(self, dim, dtype=dtype)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None) -> Tensor:
        return _red.norm(self, p, dim, keepdim, dtype=dtype)

    def all(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _red.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: builtins.bool = False) -> Tensor:
        return _red.any(self, dim, keepdim)

    # movement and indexing (groundup/functions/movement.py)
    def reshape(self, *shape: Any) -> Tensor:
        return _mv.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        return _mv.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _mv.view(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _mv.reshape(self, other.shape)

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        return _mv.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {self.ndim}-D; use transpose()")
        return self.T

    def permute(self, *dims: Any) -> Tensor:
        return _mv.permute(self, *dims)

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        return _mv.unsqueeze(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        return _mv.squeeze(self, dim)

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor:
        return _mv.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: builtins.int, sizes: Sequence[builtins.int]) -> Tensor:
        return _mv.unflatten(self, dim, sizes)

    def expand(self, *sizes: Any) -> Tensor:
        return _mv.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return _mv.expand(self, other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        return _mv.repeat(self, *sizes)

    def flip(self, *dims: Any) -> Tensor:
        return _mv.flip(self, *dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return _mv.roll(self, shifts, dims)

    def tril(self, diagonal: builtins.int = 0) -> Tensor:
        return _mv.tril(self, diagonal)

    def triu(self, diagonal: builtins.int = 0) -> Tensor:
        return _mv.triu(self, diagonal)

    def split(self, split_size_or_sections: Any, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _mv.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _mv.chunk(self, chunks, dim)

    def unbind(self, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _mv.unbind(self, dim)

    def gather(self, dim: builtins.int, index: Tensor) -> Tensor:
        return _mv.gather(self, dim, index)

    def scatter_add(self, dim: builtins.int, index: Tensor, src: Tensor) -> Tensor:
        return _mv.scatter_add(self, dim, index, src)

    def masked_fill(self, mask: Tensor, value: Any) -> Tensor:
        return _mv.masked_fill(self, mask, value)

    def index_select(self, dim: builtins.int, index: Tensor) -> Tensor:
        return _mv.index_select(self, dim, index)

    def narrow(self, dim: builtins.int, start: builtins.int, length: builtins.int) -> Tensor:
        return _mv.narrow(self, dim, start, length)

    def select(self, dim: builtins.int, index: builtins.int) -> Tensor:
        return _mv.select(self, dim, index)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return _mv.movedim(self, source, destination)

    def swapaxes(self, axis0: builtins.int, axis1: builtins.int) -> Tensor:
        return _mv.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def scatter(self, dim: builtins.int, index: Tensor, src: Any) -> Tensor:
        return _mv.scatter(self, dim, index, src)

    def masked_select(self, mask: Tensor) -> Tensor:
        return _mv.masked_select(self, mask)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return _red.count_nonzero(self, dim)

    # linear algebra (groundup/functions/linalg.py)
    def matmul(self, other: Tensor) -> Tensor:
        return _la.matmul(self, other)

    def mm(self, other: Tensor) -> Tensor:
        return _la.mm(self, other)

    def bmm(self, other: Tensor) -> Tensor:
        return _la.bmm(self, other)

    def mv(self, vec: Tensor) -> Tensor:
        return _la.mv(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        return _la.dot(self, other)

    # activations (groundup/functions/activation.py, softmax.py)
    def softmax(self, dim: builtins.int) -> Tensor:
        return _sm.softmax(self, dim)

    def log_softmax(self, dim: builtins.int) -> Tensor:
        return _sm.log_softmax(self, dim)


# ------------------------------------------------------------------------------ formatting
def _format(t: Tensor) -> str:
    """``tensor([...], dtype=..., requires_grad=True)`` in PyTorch's layout."""
    a = t.data
    prefix = "tensor("
    suffixes = []
    if a.size == 0 and a.shape != (0,):
        body = "[]"
        suffixes.append(f"size={tuple(a.shape)}")
    else:
        opts = dict(separator=", ", prefix=prefix, threshold=1000, edgeitems=3, max_line_width=80)
        if a.dtype.kind == "f":
            finite = (a[np.isfinite(a)] if a.size else a).astype(np.float64)
            integral = finite.size == 0 or builtins.bool(np.all(finite == np.round(finite)))
            big = finite.size and (np.abs(finite).max() >= 1e8 or (np.abs(finite[finite != 0]).min(initial=1) < 1e-4 and not integral))
            fmode = "maxprec" if integral and not big else "fixed"
            body = np.array2string(a, precision=4, floatmode=fmode, suppress_small=False, **opts)
        else:
            body = np.array2string(a, **opts)
    d = t.dtype
    if d not in (_dt.get_default_dtype(), _dt.int64, _dt.bool):
        suffixes.append(f"dtype={d!r}")
    if t._ctx is not None:
        suffixes.append(f"grad_fn=<{t._ctx.name}Backward>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if suffixes:
        body = body + ", " + ", ".join(suffixes)
    return prefix + body + ")"


from groundup.functions import common as _common  # noqa: E402
from groundup.functions import elementwise as _ew  # noqa: E402
from groundup.functions import linalg as _la  # noqa: E402
from groundup.functions import movement as _mv  # noqa: E402
from groundup.functions import reduce as _red  # noqa: E402
from groundup.functions import softmax as _sm  # noqa: E402
