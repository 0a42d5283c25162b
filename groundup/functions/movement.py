"""Movement and indexing ops: reshape, permute, expand, cat, split, gather, pad, ``x[key]`` ….

Most of these only move elements around, so each backward moves the upstream gradient ``g`` back
to where its element came from: the inverse permutation, the inverse reshape, a sum over the
axes that ``expand``/``repeat`` copied along, or a scatter-add into zeros for ops that read some
positions (``gather``, ``index_select``, advanced indexing), so that positions read more than once
receive the sum of their gradients. The derivation sits in each class's docstring.

As in PyTorch, ``reshape`` (when possible), ``view``, ``transpose``, ``permute``, ``squeeze``,
``unsqueeze``, ``expand``, ``narrow``, ``split``/``chunk``/``unbind`` and basic indexing return
NumPy views that share memory with their input; ``flip``, ``roll``, ``repeat``, ``cat``, ``gather``
and advanced indexing return copies. ``expand`` views are read-only (PyTorch forbids writing to
them too).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup import autograd
from groundup import dtypes as _dt
from groundup.autograd import Function, unbroadcast
from groundup.backend import xp
from groundup.functions.common import (
    canonical_dim,
    canonical_dims,
    cast_to,
    describe,
    index_tensor,
    size_arg,
)
from groundup.tensor import Tensor

_FULL = slice(None)


# ------------------------------------------------------------------------------- arg helpers
def _ints(value: Any, op: str, what: str = "dims") -> tuple[int, ...]:
    """An int or a sequence of ints (one-element tensors allowed) as a tuple of ints."""
    seq = value if isinstance(value, (tuple, list)) else (value,)
    out = []
    for v in seq:
        if isinstance(v, Tensor) and v.data.size == 1 and v.data.dtype.kind in "iu":
            v = v.item()
        if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{op}: {what} must be ints, got {v!r} ({type(v).__name__}) in {value!r}")
        out.append(int(v))
    return tuple(out)


def _varargs(args: tuple, op: str, what: str = "dims") -> tuple[int, ...]:
    """Ints given as varargs ``f(x, 0, 1)`` or as one sequence ``f(x, (0, 1))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return _ints(args[0], op, what)
    return _ints(args, op, what)


def _check_tensor(x: Any, op: str, name: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _infer_shape(shape: tuple[int, ...], numel: int, op: str, in_shape: tuple) -> tuple[int, ...]:
    """Resolve one ``-1`` in ``shape`` so that it holds ``numel`` elements; clear errors otherwise."""
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"{op}: invalid shape dimension {s} at index {i} of shape {shape}")
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {shape}")
    bad = f"{op}: shape {shape} is invalid for input of size {numel} (input shape {tuple(in_shape)})"
    if unknown:
        known = math.prod(s for s in shape if s != -1)
        if known == 0:
            if numel == 0:
                raise RuntimeError(
                    f"{op}: cannot reshape a tensor of 0 elements into shape {shape}: the size of "
                    "the -1 dimension could be anything"
                )
            raise RuntimeError(bad)
        if numel % known:
            raise RuntimeError(bad)
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel:
        raise RuntimeError(bad)
    return shape


# -------------------------------------------------------------------------- shape-only views
class Reshape(Function):
    """z = x's elements (in C order) laid out in a new shape;  dz/dx = g reshaped back."""

    def forward(ctx, x, shape=None):
        ctx.shape = x.shape
        return x.reshape(shape)

    def backward(ctx, g):
        return g.reshape(ctx.shape)


class View(Function):
    """z = a reshape that must share memory with x (error if it would need a copy);  dz/dx = g reshaped back."""

    def forward(ctx, x, shape=None):
        ctx.shape = x.shape
        try:
            return xp.reshape(x, shape, copy=False)
        except ValueError:
            raise RuntimeError(
                f"view: view size is not compatible with input tensor's size and stride: a tensor of "
                f"shape {x.shape} with strides {tuple(s // x.itemsize for s in x.strides)} (in "
                f"elements) cannot be viewed as shape {shape} without a copy (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            ) from None

    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Permute(Function):
    """z = x with its axes reordered by ``dims``;  dz/dx = g with the inverse permutation applied."""

    def forward(ctx, x, dims=None):
        ctx.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(ctx, g):
        return g.transpose(ctx.inverse)


class Expand(Function):
    """z = x broadcast to a larger shape (a read-only view);  dz/dx = g summed over the broadcast axes."""

    def forward(ctx, x, shape=None):
        ctx.shape = x.shape
        return xp.broadcast_to(x, shape)

    def backward(ctx, g):
        return unbroadcast(g, ctx.shape)


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """``input`` with a new shape of the same size (one ``-1`` is inferred); a view when possible."""
    _check_tensor(input, "reshape")
    shape = _infer_shape(size_arg(shape, "reshape"), input.data.size, "reshape", input.data.shape)
    return Reshape.apply(input, shape=shape)


def view(input: Tensor, *shape: Any) -> Tensor:
    """Like :func:`reshape`, but always shares memory: raises if the layout would need a copy."""
    _check_tensor(input, "view")
    shape = _infer_shape(size_arg(shape, "view"), input.data.size, "view", input.data.shape)
    return View.apply(input, shape=shape)


def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions: output dim ``i`` is input dim ``dims[i]`` (a view)."""
    _check_tensor(input, "permute")
    dims = _varargs(dims, "permute")
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute: the number of dims ({len(dims)}, {dims}) must equal the tensor's number of "
            f"dimensions ({n}, shape {tuple(input.shape)})"
        )
    dims = tuple(canonical_dim(d, n, "permute") for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError(f"permute: duplicate dims are not allowed, got {dims}")
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    _check_tensor(input, "transpose")
    n = input.ndim
    d0, d1 = canonical_dim(dim0, n, "transpose"), canonical_dim(dim1, n, "transpose")
    perm = list(range(n))
    if n:
        perm[d0], perm[d1] = perm[d1], perm[d0]
    return Permute.apply(input, dims=tuple(perm))


swapaxes = swapdims = transpose


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order (a view)."""
    _check_tensor(input, "movedim")
    n = input.ndim
    src, dst = _ints(source, "movedim", "source"), _ints(destination, "movedim", "destination")
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: source {list(src)} and destination {list(dst)} must have the same number of dims"
        )
    src = tuple(canonical_dim(d, n, "movedim") for d in src)
    dst = tuple(canonical_dim(d, n, "movedim") for d in dst)
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, dims=tuple(order))


moveaxis = movedim


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at ``dim`` (``-1`` appends one); a view."""
    _check_tensor(input, "unsqueeze")
    d = canonical_dim(dim, input.ndim + 1, "unsqueeze")
    shape = input.data.shape
    return Reshape.apply(input, shape=shape[:d] + (1,) + shape[d:])


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Remove size-1 dimensions (all, or those in ``dim``; a non-1 dim is left alone, as PyTorch)."""
    _check_tensor(input, "squeeze")
    shape = input.data.shape
    dims = canonical_dims(dim, input.ndim, "squeeze")
    new = tuple(s for i, s in enumerate(shape) if not (s == 1 and i in dims))
    return Reshape.apply(input, shape=new)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (a 0-d tensor becomes 1-D); a view when possible."""
    _check_tensor(input, "flatten")
    n = input.ndim
    s, e = canonical_dim(start_dim, n, "flatten"), canonical_dim(end_dim, n, "flatten")
    if s > e:
        raise RuntimeError(
            f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) for a "
            f"{n}-D tensor"
        )
    shape = input.data.shape
    if n == 0:
        return Reshape.apply(input, shape=(1,))
    return Reshape.apply(input, shape=shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])


def ravel(input: Tensor) -> Tensor:
    """All elements as a 1-D tensor (a view when possible)."""
    return flatten(input)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one ``-1`` is inferred); the inverse of flatten."""
    _check_tensor(input, "unflatten")
    d = canonical_dim(dim, input.ndim, "unflatten")
    sizes = _ints(sizes, "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    shape = input.data.shape
    n = shape[d] if input.ndim else 1
    try:
        sizes = _infer_shape(sizes, n, "unflatten", (n,))
    except RuntimeError as e:
        raise RuntimeError(
            f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim {d} ({n}) "
            f"of the input of shape {tuple(shape)} ({e})"
        ) from None
    return Reshape.apply(input, shape=shape[:d] + sizes + shape[d + 1 :])


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dims (and new leading dims) to ``sizes`` without copying; ``-1`` keeps a size."""
    _check_tensor(input, "expand")
    sizes = size_arg(sizes, "expand")
    shape = input.data.shape
    n, m = len(shape), len(sizes)
    if m < n:
        raise RuntimeError(
            f"expand: the number of sizes provided ({m}, {list(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({n}, shape {tuple(shape)})"
        )
    out = []
    for i, s in enumerate(sizes):
        j = i - (m - n)
        if j < 0:
            if s < 0:
                raise RuntimeError(
                    f"expand: the size {s} isn't allowed in a leading, non-existing dimension {i} "
                    f"(target sizes {list(sizes)}, tensor shape {tuple(shape)})"
                )
            out.append(s)
        elif s == -1:
            out.append(shape[j])
        elif s != shape[j] and shape[j] != 1 or s < 0:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({shape[j]}) at non-singleton dimension {i}; target sizes {list(sizes)}, tensor "
                f"shape {tuple(shape)}"
            )
        else:
            out.append(s)
    return Expand.apply(input, shape=tuple(out))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input`` broadcast to ``size`` (same as :func:`expand`)."""
    return expand(input, size)


# ------------------------------------------------------------------------- copying movement
class Repeat(Function):
    """z = x tiled ``reps`` times along each dim;  dz/dx = sum of g over the copies.

    With x padded to ``len(reps)`` dims, g has shape (r0*s0, r1*s1, …); reshaped to
    (r0, s0, r1, s1, …), the copies lie along the r axes, which are summed away.
    """

    def forward(ctx, x, reps=None):
        ctx.shape = x.shape
        return xp.tile(x, reps)

    def backward(ctx, g):
        reps = g.ndim
        padded = (1,) * (reps - len(ctx.shape)) + ctx.shape
        r = tuple(gs // s if s else 0 for gs, s in zip(g.shape, padded))
        if 0 in r or 0 in padded:
            return xp.zeros(ctx.shape, dtype=g.dtype)
        split = tuple(v for pair in zip(r, padded) for v in pair)
        return g.reshape(split).sum(axis=tuple(range(0, 2 * reps, 2))).reshape(ctx.shape)


class Flip(Function):
    """z = x reversed along ``dims`` (a copy, as PyTorch);  dz/dx = g reversed along the same dims."""

    def forward(ctx, x, dims=None):
        ctx.dims = dims
        return xp.ascontiguousarray(xp.flip(x, dims)) if x.ndim else x.copy()

    def backward(ctx, g):
        return xp.flip(g, ctx.dims) if g.ndim else g


class Roll(Function):
    """z = x rotated by ``shifts`` along ``dims`` (flattened when dims is None);  dz/dx = g rotated back."""

    def forward(ctx, x, shifts=None, dims=None):
        ctx.shifts, ctx.dims = shifts, dims
        return xp.roll(x, shifts, dims)

    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return xp.roll(g, back, ctx.dims)


class Tri(Function):
    """z = x with the elements above (tril) or below (triu) diagonal k zeroed;  dz/dx = g masked the same way."""

    def forward(ctx, x, upper=False, k=0):
        ctx.fn, ctx.k = (xp.triu if upper else xp.tril), k
        return ctx.fn(x, k)

    def backward(ctx, g):
        return ctx.fn(g, ctx.k)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along dim ``i`` (extra sizes add leading dims); a copy."""
    _check_tensor(input, "repeat")
    reps = size_arg(sizes, "repeat")
    if len(reps) < input.ndim:
        raise RuntimeError(
            f"repeat: the number of repeat dims ({len(reps)}, {list(reps)}) can not be smaller than "
            f"the number of dimensions of the tensor ({input.ndim}, shape {tuple(input.shape)})"
        )
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {list(reps)}")
    return Repeat.apply(input, reps=reps)


def flip(input: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """Reverse the order of elements along ``dims``: ``flip(x, (0, 1))``, ``x.flip(0, 1)``; a copy."""
    _check_tensor(input, "flip")
    if dims is None:
        if not args:
            raise TypeError("flip: missing the dims to flip, e.g. flip(x, (0,)) or x.flip(0)")
        dims = args[0] if len(args) == 1 else args
    elif args:
        raise TypeError("flip: dims given both positionally and as a keyword")
    ds = _ints(dims, "flip")
    n = input.ndim
    canon = tuple(canonical_dim(d, n, "flip") for d in ds)
    if len(set(canon)) != len(canon):
        raise RuntimeError(f"flip: dim {ds} appears multiple times in the list of dims")
    return Flip.apply(input, dims=canon if n else None)


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts`` (elements leaving one end re-enter at the other).

    With ``dims=None`` the tensor is rolled as if flattened, then restored to its shape.
    """
    _check_tensor(input, "roll")
    sh = _ints(shifts, "roll", "shifts")
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(
                f"roll: shifts and dims must align: got {len(sh)} shifts {list(sh)} and no dims"
            )
        return Roll.apply(input, shifts=sh[0], dims=None)
    ds = _ints(dims, "roll")
    if len(sh) != len(ds):
        raise RuntimeError(
            f"roll: shifts and dims must align: got {len(sh)} shifts {list(sh)} and {len(ds)} dims "
            f"{list(ds)}"
        )
    n = input.ndim
    ds = tuple(canonical_dim(d, n, "roll") for d in ds)
    if n == 0:
        return Roll.apply(input, shifts=0, dims=None)
    return Roll.apply(input, shifts=sh, dims=ds)


def _tri(input: Tensor, diagonal: int, upper: bool) -> Tensor:
    op = "triu" if upper else "tril"
    _check_tensor(input, op)
    if input.ndim < 2:
        raise RuntimeError(
            f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(input.shape)}"
        )
    return Tri.apply(input, upper=upper, k=operator.index(diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (elements with ``col - row <= diagonal``); others 0."""
    return _tri(input, diagonal, upper=False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (elements with ``col - row >= diagonal``); others 0."""
    return _tri(input, diagonal, upper=True)


# --------------------------------------------------------------------------- joining tensors
class Cat(Function):
    """z = the inputs laid end to end along ``dim``;  dz/dx_i = the slice of g that x_i filled.

    Legacy 1-D empty inputs (shape ``(0,)``) are skipped, as PyTorch does, and get an empty gradient.
    """

    def forward(ctx, *arrays, dim=0):
        keep = [a.shape != (0,) for a in arrays]
        if not any(keep):
            keep = [True] * len(arrays)
        kept = [a for a, k in zip(arrays, keep) if k]
        ctx.dim, ctx.keep = dim, keep
        ctx.bounds = np.cumsum([a.shape[dim] for a in kept])[:-1]
        return xp.concatenate(kept, axis=dim)

    def backward(ctx, g):
        pieces = iter(xp.split(g, ctx.bounds, axis=ctx.dim) if len(ctx.bounds) else [g])
        grads = tuple(next(pieces) if k else xp.zeros((0,), dtype=g.dtype) for k in ctx.keep)
        return grads if len(grads) > 1 else grads[0]


class Stack(Function):
    """z = the inputs stacked along a new axis ``dim``;  dz/dx_i = g's i-th slice along that axis."""

    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return xp.stack(arrays, axis=dim)

    def backward(ctx, g):
        gm = xp.moveaxis(g, ctx.dim, 0)
        return tuple(gm[i] for i in range(gm.shape[0])) if gm.shape[0] > 1 else gm[0]


def _tensor_list(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a list of Tensors, got {type(t).__name__} at position {i}")
    return list(tensors)


def _promote_all(tensors: list[Tensor]) -> list[Tensor]:
    """Cast every tensor to PyTorch's result dtype of the list (differentiable between floats)."""
    first = tensors[0].data.dtype
    if all(t.data.dtype == first for t in tensors):
        return tensors
    d = _dt.result_type(*tensors)
    return [cast_to(t, d) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim ``dim``; dtypes are promoted as in PyTorch.

    As in PyTorch, 1-D empty tensors (shape ``(0,)``) are skipped whatever the others' shape.
    """
    tensors = _promote_all(_tensor_list(tensors, "cat"))
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [(i, t) for i, t in enumerate(tensors) if t.data.shape != (0,)] or list(enumerate(tensors))
    ref = kept[0][1]
    d = canonical_dim(dim, ref.ndim, "cat")
    for i, t in kept:
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.data.shape, ref.data.shape)) if j != d):
            shapes = ", ".join(str(tuple(x.shape)) for x in tensors)
            raise RuntimeError(
                f"cat: expected all tensors to have the same shape except in dim {d}, got shapes "
                f"{shapes} (tensor {i}, {tuple(t.shape)}, differs from {tuple(ref.shape)})"
            )
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim ``dim``; dtypes are promoted as in PyTorch."""
    tensors = _promote_all(_tensor_list(tensors, "stack"))
    shape = tensors[0].data.shape
    for i, t in enumerate(tensors):
        if t.data.shape != shape:
            raise RuntimeError(
                f"stack: expects each tensor to be equal size, but got {tuple(shape)} at entry 0 and "
                f"{tuple(t.shape)} at entry {i}"
            )
    d = canonical_dim(dim, len(shape) + 1, "stack")
    return Stack.apply(*tensors, dim=d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors); 0-d tensors count as 1-D."""
    tensors = [t if t.ndim else reshape(t, 1) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0 after making every tensor at least 2-D (a vector becomes one row)."""
    tensors = [t if t.ndim >= 2 else reshape(t, 1, -1) for t in _tensor_list(tensors, "vstack")]
    return cat(tensors, 0)


# ------------------------------------------------------------------ splitting into many views
class _SplitState:
    """Shared by the pieces of one split: the gradient buffer they fill in this backward pass."""

    __slots__ = ("shape", "dtype", "buf", "seen")

    def __init__(self, shape: tuple, dtype: Any) -> None:
        self.shape, self.dtype, self.buf, self.seen = shape, dtype, None, set()


class SplitRoot(Function):
    """The node under the pieces of split/chunk/unbind.  dz/dx = the buffer the pieces wrote g into.

    Each piece's backward writes its g into one shared zeros buffer (and sends a 0-d zero to this
    placeholder node); the engine runs this node after every piece that received a gradient, so
    it hands the completed buffer to x once. Splitting into k pieces thus costs O(numel) in
    backward instead of the O(k * numel) of k independent slice backwards.
    """

    def forward(ctx, x, state=None):
        ctx.state = state
        return xp.zeros((), dtype=x.dtype)

    def backward(ctx, g):
        st = ctx.state
        buf = st.buf
        st.buf, st.seen = None, set()
        return buf if buf is not None else xp.zeros(st.shape, dtype=st.dtype)


class SplitPiece(Function):
    """z = x[key], a view of one piece;  dz/dx[key] = g (written into the split's shared buffer)."""

    def forward(ctx, token, state=None, key=None, view=None):
        ctx.state, ctx.key = state, key
        return view

    def backward(ctx, g):
        st, key = ctx.state, ctx.key
        if st.buf is None or id(ctx) in st.seen:  # first piece of this pass (or a pass that failed)
            st.buf, st.seen = xp.zeros(st.shape, dtype=st.dtype), set()
        st.seen.add(id(ctx))
        st.buf[key] = g
        return xp.zeros((), dtype=g.dtype)


def _pieces(input: Tensor, keys: list[tuple]) -> tuple[Tensor, ...]:
    """Views ``input[key]`` for non-overlapping basic ``keys``, sharing one backward buffer."""
    data = input.data
    if not (input.requires_grad and autograd.is_grad_enabled()):
        pieces = tuple(Tensor._wrap(data[k]) for k in keys)
    else:
        state = _SplitState(data.shape, data.dtype)
        token = SplitRoot.apply(input, state=state)
        pieces = tuple(SplitPiece.apply(token, state=state, key=k, view=data[k]) for k in keys)
    for piece in pieces:  # views: an in-place write to a piece is a write to input
        piece._vc = input._vc
    return pieces


def _split_keys(d: int, sizes: Sequence[int]) -> list[tuple]:
    keys, start = [], 0
    for s in sizes:
        keys.append((_FULL,) * d + (slice(start, start + s),))
        start += s
    return keys


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the listed sizes; views."""
    _check_tensor(tensor, "split", "tensor")
    if tensor.ndim == 0:
        raise RuntimeError("split: expects at least a 1-dimensional tensor, got a 0-d tensor")
    d = canonical_dim(dim, tensor.ndim, "split")
    n = tensor.data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = _ints(split_size_or_sections, "split", "split sizes")
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split: split sizes must be non-negative, got {list(sizes)}")
        if sum(sizes) != n:
            raise RuntimeError(
                f"split: split sizes {list(sizes)} must sum exactly to {n}, the size of dim {d} of the "
                f"input of shape {tuple(tensor.shape)}"
            )
    else:
        (size,) = _ints(split_size_or_sections, "split", "split_size")
        if size < 0 or (size == 0 and n > 0):
            raise RuntimeError(
                f"split: split_size must be positive (0 only for an empty dim), got {size} for dim "
                f"{d} of size {n}"
            )
        if n == 0:
            sizes = (0,)
        else:
            sizes = (size,) * (n // size) + ((n % size,) if n % size else ())
    return _pieces(tensor, _split_keys(d, sizes))


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of ``ceil(size / chunks)`` (the last smaller; maybe fewer pieces)."""
    _check_tensor(input, "chunk")
    if input.ndim == 0:
        raise RuntimeError("chunk: expects at least a 1-dimensional tensor, got a 0-d tensor")
    (chunks,) = _ints(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise RuntimeError(f"chunk: expects `chunks` to be greater than 0, got {chunks}")
    d = canonical_dim(dim, input.ndim, "chunk")
    n = input.data.shape[d]
    if n == 0:
        return _pieces(input, _split_keys(d, (0,) * chunks))
    return split(input, -(-n // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """All slices along ``dim``, with that dim removed (views)."""
    _check_tensor(input, "unbind")
    if input.ndim == 0:
        raise IndexError("unbind: expects at least a 1-dimensional tensor, got a 0-d tensor")
    d = canonical_dim(dim, input.ndim, "unbind")
    return _pieces(input, [(_FULL,) * d + (i,) for i in range(input.data.shape[d])])


# ------------------------------------------------------------------------- index-add helpers
def _index_add(shape: tuple, axis: int, idx: Any, g: Any) -> Any:
    """zeros(shape) with ``g``'s slices along ``axis`` added at positions ``idx`` (repeats summed).

    Sorting ``idx`` groups repeats, so each output row is one ``np.add.reduceat`` sum (much faster
    than ``np.add.at`` on rows); tiny rows use the flat ``np.add.at`` fast path instead.
    """
    n = shape[axis]
    rest = shape[:axis] + shape[axis + 1 :]
    buf = xp.zeros((n,) + rest, dtype=g.dtype)
    if idx.size:
        gm = xp.moveaxis(g, axis, 0)
        inner = math.prod(rest)
        if inner <= 16:
            flat = (idx.reshape(-1, 1) * inner + xp.arange(inner)).reshape(-1)
            xp.add.at(buf.reshape(-1), flat, gm.reshape(-1))
        else:
            order = xp.argsort(idx, kind="stable")
            s = idx[order]
            starts = xp.flatnonzero(xp.concatenate(([True], s[1:] != s[:-1])))
            if starts.size == s.size:
                buf[idx] = gm
            else:
                buf[s[starts]] = xp.add.reduceat(gm[order], starts, axis=0)
    return xp.moveaxis(buf, 0, axis)


def _along_dim_flat(index: Any, dim: int, shape: tuple) -> Any:
    """Flat C-order positions in an array of ``shape`` of (i0, …, index[i], …, in) for each i of index."""
    strides = [math.prod(shape[d + 1 :]) for d in range(len(shape))]
    flat = index.astype(np.int64) * strides[dim]
    for d in range(index.ndim):
        if d != dim and index.shape[d] > 1:
            view_shape = [1] * index.ndim
            view_shape[d] = index.shape[d]
            flat = flat + (xp.arange(index.shape[d]) * strides[d]).reshape(view_shape)
    return flat


def _check_index_range(idx: Any, n: int, op: str, dim: int, allow_negative: bool = False) -> Any:
    """Raise IndexError for entries outside ``[0, n)`` (``[-n, n)`` if allowed); return idx wrapped."""
    if idx.size == 0:
        return idx
    lo, hi = idx.min(), idx.max()
    low = -n if allow_negative else 0
    if lo < low or hi >= n:
        bad = int(lo) if lo < low else int(hi)
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {dim} with size {n}")
    if lo < 0:
        idx = xp.where(idx < 0, idx + n, idx)
    return idx


# ---------------------------------------------------------------------------- gather / scatter
class Gather(Function):
    """z[i] = x[i with index[i] at dim];  dz/dx = zeros with g added at those positions (repeats sum)."""

    def forward(ctx, x, flat=None):
        ctx.shape, ctx.flat = x.shape, flat
        return xp.take(x, flat)

    def backward(ctx, g):
        buf = xp.zeros(math.prod(ctx.shape), dtype=g.dtype)
        xp.add.at(buf, ctx.flat.reshape(-1), g.reshape(-1))
        return buf.reshape(ctx.shape)


class ScatterAdd(Function):
    """z = x, plus src[i] added at (i with index[i] at dim);  dz/dx = g, dz/dsrc[i] = g at that position."""

    def forward(ctx, x, src, flat=None, region=None):
        ctx.flat, ctx.region, ctx.src_shape = flat, region, src.shape
        out = xp.array(x, dtype=x.dtype, order="C", copy=True)
        xp.add.at(out.reshape(-1), flat.reshape(-1), src[region].reshape(-1))
        return out

    def backward(ctx, g):
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = xp.zeros(ctx.src_shape, dtype=g.dtype)
            gsrc[ctx.region] = xp.take(g, ctx.flat)
        return g, gsrc


class Scatter(Function):
    """z = x with src[i] written at (i with index[i] at dim);  dz/dx = g, 0 where overwritten; dz/dsrc[i] = g there."""

    def forward(ctx, x, src, flat=None, region=None):
        ctx.flat, ctx.region, ctx.src_shape = flat, region, src.shape
        out = xp.array(x, dtype=x.dtype, order="C", copy=True)
        out.reshape(-1)[flat.reshape(-1)] = xp.broadcast_to(src[region], flat.shape).reshape(-1)
        return out

    def backward(ctx, g):
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = xp.array(g, order="C", copy=True)
            gx.reshape(-1)[ctx.flat.reshape(-1)] = 0
        if ctx.needs_input_grad[1]:
            gsrc = xp.zeros(ctx.src_shape, dtype=g.dtype)
            gsrc[ctx.region] = xp.take(g, ctx.flat)
        return gx, gsrc


def _gather_index(input: Tensor, dim: int, index: Any, op: str) -> tuple[int, Any]:
    """Validate ``index`` for gather/scatter and return (dim, index array with values in range)."""
    idx = index_tensor(index, op)
    n = input.ndim
    d = canonical_dim(dim, n, op)
    if idx.ndim != n:
        raise RuntimeError(
            f"{op}: index must have the same number of dimensions as input, got index of shape "
            f"{tuple(idx.shape)} and input of shape {tuple(input.shape)}"
        )
    for k in range(n):
        if k != d and idx.shape[k] > input.data.shape[k]:
            raise RuntimeError(
                f"{op}: index of shape {tuple(idx.shape)} must be no larger than input of shape "
                f"{tuple(input.shape)} in every dim but {d} (dim {k} is larger)"
            )
    _check_index_range(idx, input.data.shape[d] if n else 1, op, d)
    return d, idx


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and so on): pick along ``dim`` by index."""
    _check_tensor(input, "gather")
    if input.ndim == 0:
        idx = index_tensor(index, "gather")
        if idx.ndim > 1:
            raise RuntimeError(f"gather: a 0-d input needs an index with at most 1 dim, got {tuple(idx.shape)}")
        _check_index_range(idx, 1, "gather", 0)
        return reshape(gather(reshape(input, 1), 0, Tensor._wrap(idx.reshape(-1))), idx.shape)
    d, idx = _gather_index(input, dim, index, "gather")
    return Gather.apply(input, flat=_along_dim_flat(idx, d, input.data.shape))


def _scatter_args(input: Tensor, dim: int, index: Any, src: Tensor, op: str) -> tuple[Any, tuple]:
    d, idx = _gather_index(input, dim, index, op)
    if src.ndim != input.ndim or any(i > s for i, s in zip(idx.shape, src.data.shape)):
        raise RuntimeError(
            f"{op}: index of shape {tuple(idx.shape)} must be no larger than src of shape "
            f"{tuple(src.shape)} in every dim (and have as many dims)"
        )
    region = tuple(slice(0, s) for s in idx.shape)
    return _along_dim_flat(idx, d, input.data.shape), region


def _flat1(index: Any) -> Tensor:
    """A 0-d input's index as a 1-element 1-D index (0-d scatters run on a 1-D reshape)."""
    return Tensor._wrap(index_tensor(index, "scatter").reshape(-1))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src[i]`` added at ``i`` with ``index[i]`` in ``dim`` (repeats sum)."""
    _check_tensor(input, "scatter_add")
    _check_tensor(src, "scatter_add", "src")
    if input.ndim == 0:
        return reshape(scatter_add(reshape(input, 1), 0, _flat1(index), reshape(src, -1)), ())
    if src.data.dtype != input.data.dtype:
        raise RuntimeError(
            f"scatter_add: expected src to have the same dtype as input, got {describe(input, src)}"
        )
    flat, region = _scatter_args(input, dim, index, src, "scatter_add")
    return ScatterAdd.apply(input, src, flat=flat, region=region)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src[i]`` (or the number ``value``) written at ``index`` along ``dim``.

    ``reduce='add'`` is :func:`scatter_add`. Where an index repeats, which write wins is
    unspecified (as in PyTorch).
    """
    _check_tensor(input, "scatter")
    if src is None and value is None:
        raise TypeError("scatter: expected a src tensor or a value")
    if src is None or not isinstance(src, Tensor):
        v = value if src is None else src
        idx = index_tensor(index, "scatter")
        src = Tensor._wrap(xp.broadcast_to(xp.asarray(v).astype(input.data.dtype), idx.shape))
    if reduce is not None:
        if reduce != "add":
            raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
        return scatter_add(input, dim, index, cast_to(src, input.dtype))
    if input.ndim == 0:
        return reshape(scatter(reshape(input, 1), 0, _flat1(index), reshape(src, -1)), ())
    if src.data.dtype != input.data.dtype:
        raise RuntimeError(f"scatter: expected src to have the same dtype as input, got {describe(input, src)}")
    flat, region = _scatter_args(input, dim, index, src, "scatter")
    return Scatter.apply(input, src, flat=flat, region=region)


# ----------------------------------------------------------------- masked_fill / index_select
class MaskedFill(Function):
    """z = mask ? v : x (broadcast);  dz/dx = g where not mask (unbroadcast), dz/dv = sum of g where mask."""

    def forward(ctx, x, v, mask=None):
        ctx.mask, ctx.x_shape = mask, x.shape
        return xp.where(mask, v.astype(x.dtype), x)

    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = unbroadcast(xp.where(ctx.mask, xp.zeros((), dtype=g.dtype), g), ctx.x_shape)
        if ctx.needs_input_grad[1]:
            gv = xp.asarray(xp.sum(g, where=xp.broadcast_to(ctx.mask, g.shape)))
        return gx, gv


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``input`` with ``value`` (a number or 0-d tensor) where the bool ``mask`` is True (broadcast)."""
    _check_tensor(input, "masked_fill")
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: only supports boolean masks, but got mask with dtype {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, input.data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: mask of shape {tuple(m.shape)} cannot be broadcast with input of shape "
            f"{tuple(input.shape)}"
        ) from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill: only supports a 0-dimensional value tensor, but got one of shape "
                f"{tuple(value.shape)}"
            )
        v = value
    elif isinstance(value, (bool, int, float, np.number, np.bool_)):
        v = Tensor._wrap(xp.asarray(value).astype(input.data.dtype))
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d Tensor, got {type(value).__name__}")
    return MaskedFill.apply(input, v, mask=m)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both are broadcast)."""
    _check_tensor(input, "masked_select")
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a bool mask, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input.data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: mask of shape {tuple(m.shape)} cannot be broadcast with input of shape "
            f"{tuple(input.shape)}"
        ) from None
    x = input if input.data.shape == shape else expand(input, shape)
    return getitem(x, Tensor._wrap(xp.broadcast_to(m, shape)))


class IndexSelect(Function):
    """z = x's slices along dim at positions idx;  dz/dx = zeros with g's slices added back (repeats sum)."""

    def forward(ctx, x, idx=None, dim=0):
        ctx.shape, ctx.idx, ctx.dim = x.shape, idx, dim
        return xp.take(x, idx, axis=dim)

    def backward(ctx, g):
        return _index_add(ctx.shape, ctx.dim, ctx.idx, g)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions in the 1-D ``index`` (a copy)."""
    _check_tensor(input, "index_select")
    idx = index_tensor(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select: index is supposed to be a vector, got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    if input.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select: index to a 0-d tensor can have only 1 value, got {idx.size}")
        _check_index_range(idx, 1, "index_select", 0)
        return reshape(input, ())
    d = canonical_dim(dim, input.ndim, "index_select")
    _check_index_range(idx, input.data.shape[d], "index_select", d)
    return IndexSelect.apply(input, idx=idx, dim=d)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The ``length`` elements of ``dim`` from ``start`` (negative start counts from the end); a view."""
    _check_tensor(input, "narrow")
    if input.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-d tensor")
    d = canonical_dim(dim, input.ndim, "narrow")
    n = input.data.shape[d]
    (start,) = _ints(start, "narrow", "start")
    (length,) = _ints(length, "narrow", "length")
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} of size {n} (expected [{-n}, {n}])")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension {d} of size {n}")
    return Index.apply(input, key=(_FULL,) * d + (slice(start, start + length), Ellipsis))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at position ``index`` of ``dim``, with that dim removed (a view)."""
    _check_tensor(input, "select")
    if input.ndim == 0:
        raise IndexError("select: cannot be applied to a 0-d tensor")
    d = canonical_dim(dim, input.ndim, "select")
    n = input.data.shape[d]
    (i,) = _ints(index, "select", "index")
    if not -n <= i < n:
        raise IndexError(f"select: index {i} is out of bounds for dimension {d} with size {n}")
    return Index.apply(input, key=(_FULL,) * d + (i, Ellipsis))


# ------------------------------------------------------------------------------------ padding
class ConstantPad(Function):
    """z = x placed in a block filled with a constant (negative pads crop);  dz/dx = g cut back out (0 where cropped)."""

    def forward(ctx, x, out_shape=None, src=None, dst=None, value=0):
        ctx.shape, ctx.src, ctx.dst = x.shape, src, dst
        out = xp.full(out_shape, value, dtype=x.dtype)
        out[dst] = x[src]
        return out

    def backward(ctx, g):
        inner = g[ctx.dst]
        if inner.shape == ctx.shape:
            return inner
        gx = xp.zeros(ctx.shape, dtype=g.dtype)
        gx[ctx.src] = inner
        return gx


class PadIndex(Function):
    """z = x read along each padded dim at a position map (reflect/replicate/circular);  dz/dx sums g back per map."""

    def forward(ctx, x, maps=None):
        ctx.maps, ctx.shape = maps, x.shape
        for d, idx in maps:
            x = xp.take(x, idx, axis=d)
        return x

    def backward(ctx, g):
        for d, idx in reversed(ctx.maps):
            shape = g.shape[:d] + (ctx.shape[d],) + g.shape[d + 1 :]
            g = _index_add(shape, d, idx, g)
        return g


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_map(mode: str, n: int, lo: int, hi: int, d: int, shape: tuple, pads: tuple) -> Any:
    """Input positions read by each output position of a padded dim (PyTorch's kernels' rules)."""
    if n == 0:
        raise RuntimeError(f"pad: {mode} padding needs a non-empty dim {d}, input has shape {shape}")
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise RuntimeError(
                f"pad: reflect padding size should be less than the corresponding input dimension, "
                f"but got padding ({lo}, {hi}) at dimension {d} of input {shape}"
            )
        p = xp.arange(-lo, n + hi)
        return xp.where(p < 0, -p, xp.where(p >= n, 2 * (n - 1) - p, p))
    if mode == "replicate":
        return xp.clip(xp.arange(-lo, n + hi), 0, n - 1)
    # circular: crop negative pads first, then wrap around what is left
    if lo > n or hi > n:
        raise RuntimeError(
            f"pad: circular padding value causes wrapping around more than once: padding ({lo}, {hi}) "
            f"at dimension {d} of input {shape}"
        )
    c0, c1 = max(-lo, 0), n - max(-hi, 0)
    m = c1 - c0
    if m <= 0:
        raise RuntimeError(f"pad: circular padding {pads} crops away all of dimension {d} of input {shape}")
    return c0 + xp.arange(-max(lo, 0), m + max(hi, 0)) % m


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative sizes, crop) the last dims, as ``torch.nn.functional.pad``.

    ``pad`` lists (left, right) sizes from the last dim backwards: ``(1, 1, 2, 0)`` pads the last
    dim by 1 on each side and the one before by 2 at the start. ``mode`` is ``'constant'`` (fill
    with ``value``, default 0), ``'reflect'`` (mirror without repeating the edge), ``'replicate'``
    (repeat the edge) or ``'circular'`` (wrap around); the last three pad 1-3 trailing dims of a
    batched or unbatched input and take no ``value``.
    """
    _check_tensor(input, "pad")
    pads = _ints(tuple(pad), "pad", "padding sizes")
    shape, n = tuple(input.data.shape), input.ndim
    if len(pads) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pads)} ({pads})")
    k = len(pads) // 2
    if k > n:
        raise RuntimeError(
            f"pad: padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pads)} and input of dimension {n} (shape {shape})"
        )
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; expected one of {_PAD_MODES}")
    dims = [(n - 1 - i, pads[2 * i], pads[2 * i + 1]) for i in range(k)]
    out_shape = list(shape)
    for d, lo, hi in dims:
        out_shape[d] = shape[d] + lo + hi
        if out_shape[d] < 0:
            raise RuntimeError(
                f"pad: the input size {shape[d]} plus padding {lo} and {hi} gives a negative output "
                f"size {out_shape[d]} at dimension {d} (input shape {shape})"
            )
    if mode == "constant":
        src, dst = [_FULL] * n, [_FULL] * n
        for d, lo, hi in dims:
            a, b = max(-lo, 0), shape[d] - max(-hi, 0)
            if b < a:
                raise RuntimeError(
                    f"pad: padding {pads} crops more than the {shape[d]} elements of dimension {d} "
                    f"(input shape {shape})"
                )
            src[d] = slice(a, b)
            dst[d] = slice(max(lo, 0), max(lo, 0) + b - a)
        fill = 0 if value is None else value
        return ConstantPad.apply(input, out_shape=tuple(out_shape), src=tuple(src), dst=tuple(dst), value=fill)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: padding mode "{mode}" doesn\'t take in value argument')
    if not 1 <= k <= 3 or n not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: padding size {len(pads)} is not supported for {n}-D input in mode {mode!r}; "
            "supported: a 2-D or 3-D input with 2 pads (last dim), 3-D or 4-D with 4 pads (last 2 "
            "dims), 4-D or 5-D with 6 pads (last 3 dims)"
        )
    maps = [(d, _pad_map(mode, shape[d], lo, hi, d, shape, pads)) for d, lo, hi in dims if lo or hi]
    return PadIndex.apply(input, maps=maps)


# ----------------------------------------------------------------------------------- indexing
class Index(Function):
    """z = x[key] for basic keys (ints, slices, None, ...: a view);  dz/dx = zeros with g written at key."""

    def forward(ctx, x, key=None):
        ctx.shape, ctx.key = x.shape, key
        return x[key]

    def backward(ctx, g):
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        out[ctx.key] = g
        return out


class AdvancedIndex(Function):
    """z = x[key] with integer/bool arrays (a copy);  dz/dx = zeros with g added at the positions read.

    A position read several times (repeated integer indices) receives the sum of its gradients.
    """

    def forward(ctx, x, key=None, unique=False):
        ctx.shape, ctx.key, ctx.unique = x.shape, key, unique
        return x[key]

    def backward(ctx, g):
        shape, key = ctx.shape, ctx.key
        if ctx.unique:  # bool masks only: every position is read at most once
            out = xp.zeros(shape, dtype=g.dtype)
            out[key] = g
            return out
        return _advanced_index_backward(shape, key, g)


def _advanced_index_backward(shape: tuple, key: tuple, g: Any) -> Any:
    """Scatter-add g back through an advanced index.

    Fast path: the integer arrays are adjacent and every other entry is a slice. Then the arrays
    are one flat index into the merged dims they cover, and the sum of repeats is an
    :func:`_index_add` along one axis. Anything else falls back to ``np.add.at``.
    """
    items = [k for k in key if k is not Ellipsis]
    arr_pos = [i for i, k in enumerate(items) if isinstance(k, np.ndarray)]
    simple = all(isinstance(k, (slice, np.ndarray)) for k in items) and arr_pos == list(
        range(arr_pos[0], arr_pos[0] + len(arr_pos))
    )
    if not simple:
        out = xp.zeros(shape, dtype=g.dtype)
        xp.add.at(out, key, g)
        return out
    s, k = arr_pos[0], len(arr_pos)
    items += [_FULL] * (len(shape) - len(items))
    sub = tuple(_FULL if isinstance(it, np.ndarray) else it for it in items)
    sub_shape = tuple(len(range(*it.indices(n))) for it, n in zip(sub, shape))
    mid = shape[s : s + k]
    arrays = np.broadcast_arrays(*(items[i] for i in arr_pos))
    flat = np.ravel_multi_index(arrays, mid).reshape(-1) if k > 1 else arrays[0].reshape(-1)
    pre, post = sub_shape[:s], sub_shape[s + k :]
    g2 = g.reshape(pre + (flat.size,) + post)
    tmp = _index_add(pre + (math.prod(mid),) + post, s, flat, g2).reshape(sub_shape)
    if all(it == _FULL for it in sub):
        return tmp
    out = xp.zeros(shape, dtype=g.dtype)
    out[sub] = tmp
    return out


_BAD_INDEX = (
    "only integers, slices (`:`), ellipsis (`...`), None and integer or bool tensors/arrays are "
    "valid indices"
)


def _key_item(k: Any, op: str) -> Any:
    """One entry of an index in NumPy form: int, slice, None, Ellipsis, bool, or an array."""
    if k is None or k is Ellipsis:
        return k
    if isinstance(k, (bool, np.bool_)):
        return bool(k)
    if isinstance(k, (int, np.integer)):
        return int(k)
    if isinstance(k, slice):
        try:
            for b in (k.start, k.stop):
                if b is not None:
                    operator.index(b)
        except TypeError:
            raise TypeError(f"{op}: slice bounds must be integers or None, got {k!r}") from None
        if k.step is not None:
            step = operator.index(k.step)
            if step == 0:
                raise ValueError(f"{op}: slice step cannot be zero")
            if step < 0:
                raise ValueError(
                    f"{op}: step must be greater than zero, got slice step {step}; negative steps "
                    "are not supported (as in PyTorch); use flip() to reverse"
                )
        return k
    if isinstance(k, Tensor):
        arr = k.data
    elif isinstance(k, np.ndarray):
        arr = k
    elif isinstance(k, (list, tuple)):
        try:
            arr = np.asarray(k)
        except (ValueError, TypeError, RuntimeError) as e:
            raise IndexError(f"{op}: could not use the list {k!r} as an index ({e})") from None
        if arr.size == 0:
            arr = arr.astype(np.int64)
    else:
        raise IndexError(f"{op}: {_BAD_INDEX} (got {type(k).__name__})")
    if arr.dtype == np.bool_:
        return bool(arr) if arr.ndim == 0 and not isinstance(k, Tensor) else arr
    if arr.dtype.kind in "iu":
        return int(arr) if arr.ndim == 0 else arr.astype(np.intp, copy=False)
    raise IndexError(f"{op}: tensors used as indices must be integer or bool tensors, got dtype {arr.dtype}")


def _prepare_key(key: Any, shape: tuple, op: str) -> tuple[tuple, bool, bool]:
    """Validate an index against ``shape`` and convert it to NumPy form.

    Returns ``(key, advanced, has_int_arrays)``: the key tuple with the Ellipsis expanded, ints
    and integer arrays range-checked (arrays with negative entries wrapped), and a trailing
    Ellipsis so NumPy always returns an array; whether it uses arrays (advanced indexing: a copy);
    and whether any of those are integer arrays (which may repeat positions).
    """
    if not isinstance(key, tuple):
        key = (key,)
    items = [_key_item(k, op) for k in key]
    ndim = len(shape)
    consumed, n_ellipsis = 0, 0
    for it in items:
        if it is Ellipsis:
            n_ellipsis += 1
        elif isinstance(it, np.ndarray) and it.dtype == np.bool_:
            consumed += it.ndim
        elif not (it is None or isinstance(it, bool)):
            consumed += 1
    if n_ellipsis > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(
            f"{op}: too many indices for tensor of dimension {ndim} (shape {tuple(shape)}): got "
            f"{consumed}"
        )
    expanded: list = []
    for it in items:
        if it is Ellipsis:
            expanded.extend([_FULL] * (ndim - consumed))
        else:
            expanded.append(it)
    advanced = has_int = False
    d = 0
    for i, it in enumerate(expanded):
        if it is None:
            continue
        if isinstance(it, bool):
            advanced = True
        elif isinstance(it, int):
            n = shape[d]
            if not -n <= it < n:
                raise IndexError(f"{op}: index {it} is out of bounds for dimension {d} with size {n}")
            d += 1
        elif isinstance(it, slice):
            d += 1
        elif it.dtype == np.bool_:
            advanced = True
            if it.shape != tuple(shape[d : d + it.ndim]):
                raise IndexError(
                    f"{op}: the shape of the mask {tuple(it.shape)} at index {i} does not match the "
                    f"shape of the indexed tensor {tuple(shape)} at dims {d}..{d + it.ndim - 1}"
                )
            d += it.ndim
        else:
            advanced = has_int = True
            expanded[i] = _check_index_range(it, shape[d], op, d, allow_negative=True)
            d += 1
    if has_int:  # a k-dim bool mask is the same as its k nonzero() integer arrays
        conv: list = []
        for it in expanded:
            if isinstance(it, np.ndarray) and it.dtype == np.bool_:
                conv.extend(np.nonzero(it))
            else:
                conv.append(it)
        expanded = conv
    return tuple(expanded) + (Ellipsis,), advanced, has_int


def getitem(input: Tensor, key: Any) -> Tensor:
    """``input[key]`` with PyTorch's rules: ints, slices (positive steps), None, ``...`` give a
    view; integer and bool tensors/arrays/lists (advanced indexing) give a copy whose backward
    sums the gradients of repeated positions."""
    shape = input.data.shape
    if type(key) is int:  # fast path for x[i]
        n = shape[0] if shape else 0
        if not shape:
            raise IndexError(f"getitem: invalid index {key} of a 0-d tensor; use x.item() or x[()]")
        if not -n <= key < n:
            raise IndexError(f"getitem: index {key} is out of bounds for dimension 0 with size {n}")
        return Index.apply(input, key=(key, Ellipsis))
    k, advanced, has_int = _prepare_key(key, shape, "getitem")
    if not advanced:
        return Index.apply(input, key=k)
    return AdvancedIndex.apply(input, key=k, unique=not has_int)


def setitem(input: Tensor, key: Any, value: Any) -> None:
    """``input[key] = value`` in place (value cast to input's dtype and broadcast); bumps the version.

    Only for tensors outside the graph: in-place writes cannot be recorded for backward, so a
    tensor that requires grad must be updated under ``groundup.no_grad()`` (e.g. an init).
    """
    grad_on = autograd.is_grad_enabled()
    if input.requires_grad and grad_on:
        raise RuntimeError(
            f"setitem: in-place assignment to a tensor that requires grad (shape "
            f"{tuple(input.shape)}) cannot be recorded for backward; build the result out of place "
            "with where/masked_fill/cat, or assign under groundup.no_grad() (e.g. an initialisation)"
        )
    if isinstance(value, Tensor):
        if value.requires_grad and grad_on:
            raise RuntimeError(
                f"setitem: the value (shape {tuple(value.shape)}) requires grad, but assignment into "
                f"a tensor (shape {tuple(input.shape)}) cannot carry gradients back to it; use "
                "where/masked_fill/cat, or value.detach()"
            )
        v = value.data
    else:
        v = value
    k, _, _ = _prepare_key(key, input.data.shape, "setitem")
    try:
        input.data[k] = v
    except (ValueError, TypeError) as e:
        target = input.data[k]
        if not input.data.flags.writeable:
            raise RuntimeError(
                f"setitem: this tensor (shape {tuple(input.shape)}) is a read-only view (e.g. made by "
                "expand()); clone() it before writing into it"
            ) from None
        raise RuntimeError(
            f"setitem: shape mismatch: value of shape {tuple(np.shape(v))} cannot be broadcast to "
            f"the indexing result of shape {tuple(target.shape)} (tensor {describe(input)}): {e}"
        ) from None
    input._version += 1


__all__ = [
    "reshape", "permute", "transpose", "swapaxes", "swapdims", "movedim", "moveaxis",
    "unsqueeze", "squeeze", "flatten", "ravel", "unflatten", "broadcast_to",
    "flip", "roll", "tril", "triu", "cat", "concat", "concatenate", "stack", "hstack", "vstack",
    "split", "chunk", "unbind", "gather", "scatter", "scatter_add", "masked_fill", "masked_select",
    "index_select", "narrow", "select",
]
