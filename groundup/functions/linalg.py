"""Linear algebra: ``matmul`` in all of PyTorch's forms, ``mm``/``bmm``/``mv``/``dot``/``outer``,
``einsum``, and the fused ``linear`` layer op (``x @ W.T + b``) behind ``nn.functional.linear``.

Every product goes through ``np.matmul`` / ``@`` so that BLAS does the work. Backward passes are
written as GEMMs too: transposed operands are passed as views (NumPy hands them to BLAS with a
transpose flag, so no copy is made), and where a 2-D weight is shared by every row of a batch its
gradient is one big ``(N, k)ᵀ @ (N, m)`` GEMM rather than a batched product followed by a sum.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.autograd import Function, unbroadcast
from groundup.backend import xp
from groundup.functions.common import describe, ensure_tensor, promote
from groundup.tensor import Tensor


def _operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of one dtype (PyTorch refuses to mix dtypes in products)."""
    a, b = ensure_tensor(a, op), ensure_tensor(b, op)
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(
            f"{op}: expected both operands to have the same dtype, got {describe(a, b)}; "
            "cast one of them with .to(dtype)"
        )
    if a.data.dtype.kind == "b":
        raise TypeError(f"{op}: not implemented for bool tensors ({describe(a, b)})")
    return a, b


def _rows(a: Any) -> Any:
    """View (..., k) as a matrix of rows (prod(...), k); explicit sizes so that k == 0 works."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _product(cls: type[Function], a: Tensor, b: Tensor, fn: Any) -> Tensor:
    """Apply ``cls`` for floating operands; integer products are computed but not differentiable."""
    if a.data.dtype.kind != "f":
        return Tensor._wrap(xp.asarray(fn(a.data, b.data)))
    return cls.apply(a, b)


# ------------------------------------------------------------------------------------ matmul
class Matmul(Function):
    """z = a @ b (PyTorch/NumPy matmul);  dz/da = g @ bᵀ, dz/db = aᵀ @ g.

    A 1-D ``a`` acts as a row (k,) -> (1, k) and a 1-D ``b`` as a column, the added axis dropped
    from the result; the gradients are then outer products and matrix-vector products. Batch
    dimensions broadcast, so each gradient is summed back over the batch axes its input was
    stretched along (:func:`unbroadcast`); a 2-D operand shared by a whole batch gets its gradient
    from one GEMM over the flattened batch.
    """

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.ndim > 2 and b.ndim <= 2:  # (..., n, k) @ (k, m) or (k,): one GEMM over all rows
            out = _rows(a) @ b
            return out.reshape(a.shape[:-1] + b.shape[1:])
        out = xp.matmul(a, b)
        return out if a.ndim > 1 or b.ndim > 1 else xp.asarray(out)  # dot gives a NumPy scalar

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:  # dot: z = Σ a_i b_i, g is 0-d
            ga = g * b if need_a else None
            gb = g * a if need_b else None
        elif b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
            if need_a:
                ga = g[..., None] * b
            if need_b:
                gb = _rows(a).T @ g.reshape(-1)
        elif a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
            if need_a:
                if b.ndim == 2:
                    ga = b @ g
                else:
                    axes = list(range(b.ndim - 2))
                    ga = xp.tensordot(b, g, axes=(axes + [b.ndim - 1], axes + [g.ndim - 1]))
            if need_b:
                gb = a[:, None] * g[..., None, :]
        elif a.ndim == 2 and b.ndim == 2:
            ga = g @ b.T if need_a else None
            gb = a.T @ g if need_b else None
        elif b.ndim == 2:  # (..., n, k) @ (k, m): the batch belongs to a alone
            g2 = _rows(g)
            if need_a:
                ga = (g2 @ b.T).reshape(a.shape)
            if need_b:
                gb = _rows(a).T @ g2
        elif a.ndim == 2:  # (n, k) @ (..., k, m): the batch belongs to b alone
            if need_a:
                axes = list(range(b.ndim - 2))
                ga = xp.tensordot(g, b, axes=(axes + [g.ndim - 1], axes + [b.ndim - 1]))
            if need_b:
                gb = xp.matmul(a.T, g)
        else:
            if need_a:
                ga = unbroadcast(xp.matmul(g, b.swapaxes(-1, -2)), a.shape)
            if need_b:
                gb = unbroadcast(xp.matmul(a.swapaxes(-1, -2), g), b.shape)
        return ga, gb


def _check_matmul(a: Tensor, b: Tensor, op: str) -> None:
    sa, sb = tuple(a.data.shape), tuple(b.data.shape)
    if not sa or not sb:
        raise RuntimeError(
            f"{op}: both arguments need to be at least 1-D, but they are {len(sa)}-D and "
            f"{len(sb)}-D (shapes {sa} and {sb})"
        )
    ka, kb = sa[-1], sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        raise RuntimeError(f"{op}: cannot multiply {sa} by {sb}: inner dimensions {ka} and {kb} differ")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(
                f"{op}: cannot multiply {sa} by {sb}: batch dimensions {sa[:-2]} and {sb[:-2]} "
                "cannot be broadcast together (sizes must match or be 1, aligned from the right)"
            ) from None


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D, 2-D and batched (broadcast) operands.

    1-D·1-D is a dot product (0-d result); a 1-D first operand is a row vector and a 1-D second
    operand a column vector, the added dimension removed afterwards; N-D operands are stacks of
    matrices in the last two dimensions, with the leading (batch) dimensions broadcast.
    """
    a, b = _operands(input, other, "matmul")
    _check_matmul(a, b, "matmul")
    return _product(Matmul, a, b, xp.matmul)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two 2-D matrices (no broadcasting; see :func:`matmul` for that)."""
    a, b = _operands(input, mat2, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected two 2-D matrices, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.data.shape[1] != b.data.shape[0]:
        (n, k), (k2, m) = a.data.shape, b.data.shape
        raise RuntimeError(
            f"mm: mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m}): inner "
            f"dimensions {k} and {k2} differ"
        )
    return _product(Matmul, a, b, xp.matmul)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of (b, n, k) and (b, k, m) tensors with equal batch sizes (no broadcasting)."""
    a, b = _operands(input, mat2, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(
            f"bmm: expected two 3-D tensors (batch, rows, cols), got shapes {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )
    (ba, _, k), (bb, k2, _) = a.data.shape, b.data.shape
    if ba != bb:
        raise RuntimeError(
            f"bmm: batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)} (bmm does not "
            "broadcast; use matmul)"
        )
    if k != k2:
        raise RuntimeError(
            f"bmm: cannot multiply {tuple(a.shape)} by {tuple(b.shape)}: inner dimensions {k} and {k2} differ"
        )
    return _product(Matmul, a, b, xp.matmul)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Product of an (n, k) matrix and a (k,) vector: an (n,) vector."""
    a, b = _operands(input, vec, "mv")
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(
            f"mv: expected a 2-D matrix and a 1-D vector, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.data.shape[1] != b.data.shape[0]:
        raise RuntimeError(
            f"mv: size mismatch: matrix {tuple(a.shape)} has {a.data.shape[1]} columns but the "
            f"vector has {b.data.shape[0]} elements"
        )
    return _product(Matmul, a, b, xp.matmul)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of equal length (a 0-d tensor)."""
    a, b = _operands(input, tensor, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1-D tensors expected, but got {a.ndim}-D and {b.ndim}-D ({describe(a, b)})")
    if a.data.shape != b.data.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size: {a.data.shape[0]} and {b.data.shape[0]} elements"
        )
    return _product(Matmul, a, b, xp.matmul)


class Outer(Function):
    """z_ij = a_i b_j;  dz/da = g @ b, dz/db = gᵀ @ a = a @ g."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.multiply.outer(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g @ b if ctx.needs_input_grad[0] else None
        gb = a @ g if ctx.needs_input_grad[1] else None
        return ga, gb


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: (n,) and (m,) give (n, m). Dtypes promote."""
    a, b = promote(ensure_tensor(input, "outer"), ensure_tensor(vec2, "outer"), "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.data.dtype.kind != "f":
        return Tensor._wrap(xp.multiply.outer(a.data, b.data))
    return Outer.apply(a, b)


ger = outer


# ------------------------------------------------------------------------------------ linear
class Linear(Function):
    """z = x Wᵀ + b, W of shape (out, in);  dz/dx = g W, dz/dW = gᵀ x, dz/db = Σ g.

    The leading dimensions of ``x`` are flattened into rows, so the forward and both weight-side
    gradients are single GEMMs whatever the batch shape (``(B, T, in)`` is one (B·T, in) matrix).
    """

    def forward(ctx, x, w, b=None):
        x2 = x if x.ndim == 2 else _rows(x)  # a copy when x is a non-contiguous view: saved, not made twice
        ctx.save_for_backward(x2, w)
        ctx.x_shape = x.shape
        out = x2 @ w.T
        if b is not None:
            out += b
        return out if x.ndim == 2 else out.reshape(x.shape[:-1] + (w.shape[0],))

    def backward(ctx, g):
        x2, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        g2 = g if g.ndim == 2 else _rows(g)
        gx = (g2 @ w).reshape(ctx.x_shape) if needs[0] else None
        gw = g2.T @ x2 if needs[1] else None
        if len(needs) == 2:
            return gx, gw
        gb = g2.sum(axis=0) if needs[2] else None
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` with ``weight`` laid out (out_features, in_features), as PyTorch.

    A fused op (one GEMM forward, one per gradient) rather than a transpose, a matmul and an add:
    the layer at the heart of every MLP and transformer is worth one graph node instead of three.
    """
    x, w = _operands(input, weight, "linear")
    if bias is not None:
        bias = ensure_tensor(bias, "linear")
        if bias.data.dtype != x.data.dtype:
            raise RuntimeError(
                f"linear: bias has dtype {bias.dtype.name} but input and weight are {x.dtype.name}"
            )
    if w.ndim not in (1, 2) or x.ndim == 0:
        raise RuntimeError(
            f"linear: expected input of at least 1 dimension and a 2-D weight (out_features, "
            f"in_features), got input {tuple(x.shape)} and weight {tuple(w.shape)}"
        )
    in_features = w.data.shape[-1]
    if x.data.shape[-1] != in_features:
        raise RuntimeError(
            f"linear: input {tuple(x.shape)} has {x.data.shape[-1]} features in its last dimension "
            f"but weight {tuple(w.shape)} expects {in_features} (weight is (out_features, in_features))"
        )
    if w.ndim == 1:  # a single output feature without its own axis, as PyTorch allows
        out = matmul(x, w)
        return out if bias is None else out + bias
    out_shape = tuple(x.data.shape[:-1]) + (w.data.shape[0],)
    if bias is not None and tuple(bias.data.shape) != out_shape[-1:]:
        try:
            full = np.broadcast_shapes(tuple(bias.data.shape), out_shape)
        except ValueError:
            full = None
        if full != out_shape:
            raise RuntimeError(
                f"linear: bias of shape {tuple(bias.shape)} does not broadcast to the output shape "
                f"{out_shape}; expected ({w.data.shape[0]},)"
            )
        return Linear.apply(x, w) + bias
    if x.data.dtype.kind != "f":
        out = _rows(x.data) @ w.data.T
        if bias is not None:
            out += bias.data
        return Tensor._wrap(out.reshape(out_shape))
    return Linear.apply(x, w) if bias is None else Linear.apply(x, w, bias)


# ---------------------------------------------------------------------------------- bilinear
class Bilinear(Function):
    """z_no = Σ_ij x1_ni W_oij x2_nj (+ b_o);  dz/dx1 = Σ_oj g_no x2_nj W_oij,
    dz/dx2 = Σ_oi g_no x1_ni W_oij, dz/dW_oij = Σ_n g_no x1_ni x2_nj, dz/db = Σ_n g_no.

    Each term is one GEMM over a flattened product axis: the forward contracts x1 with W laid out
    (I, O·J) and then each row's (O, J) block with x2_n; backward forms the outer products
    g ⊗ x2 (N, O·J) and g ⊗ x1 (N, O·I) once and multiplies them by W or by the other input.
    """

    def forward(ctx, x1, x2, w, b=None):
        (n, i), j, o = x1.shape, x2.shape[1], w.shape[0]
        w_ioj = w.transpose(1, 0, 2).reshape(i, o * j)  # (I, O*J), a copy
        t = (x1 @ w_ioj).reshape(n, o, j)  # (N, O, J): x1 contracted with W
        out = xp.matmul(t, x2[:, :, None])[:, :, 0]  # (N, O)
        if b is not None:
            out += b
        ctx.save_for_backward(x1, x2, w, w_ioj)
        return out

    def backward(ctx, g):
        x1, x2, w, w_ioj = ctx.saved_tensors
        needs = ctx.needs_input_grad
        (n, i), j, o = x1.shape, x2.shape[1], w.shape[0]
        g1 = g2 = gw = None
        if needs[0]:
            gx2 = (g[:, :, None] * x2[:, None, :]).reshape(n, o * j)  # (N, O*J)
            g1 = gx2 @ w_ioj.T  # (N, I)
        if needs[1] or needs[2]:
            gx1 = (g[:, :, None] * x1[:, None, :]).reshape(n, o * i)  # (N, O*I)
            if needs[1]:
                g2 = gx1 @ w.reshape(o * i, j)  # (N, J)
            if needs[2]:
                gw = (gx1.T @ x2).reshape(o, i, j)  # (O, I, J)
        if len(needs) == 3:
            return g1, g2, gw
        return g1, g2, gw, (g.sum(axis=0) if needs[3] else None)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_o = x1ᵀ W_o x2 + b_o`` for inputs (*, in1) and (*, in2) and weight (out, in1, in2).

    The leading dimensions of the two inputs must be equal (no broadcasting, as PyTorch); they are
    flattened into rows so the whole batch is a few GEMMs (see :class:`Bilinear`).
    """
    op = "bilinear()"
    x1, x2 = _operands(input1, input2, op)
    w = ensure_tensor(weight, op)
    tensors = [x1, x2, w] + ([ensure_tensor(bias, op)] if bias is not None else [])
    if any(t.data.dtype != x1.data.dtype for t in tensors):
        raise RuntimeError(f"{op}: expected all arguments to have the same dtype, got {describe(*tensors)}")
    if x1.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating-point tensors, got {describe(*tensors)}")
    if w.ndim != 3:
        raise RuntimeError(f"{op}: weight must be 3-D (out_features, in1_features, in2_features), got {tuple(w.shape)}")
    if x1.ndim != x2.ndim:
        raise RuntimeError(f"{op}: input dimensions do not match: got {x1.ndim} and {x2.ndim}")
    if x1.ndim == 0:
        raise RuntimeError(f"{op}: inputs must have at least 1 dimension, got 0-d tensors")
    s1, s2 = tuple(x1.data.shape), tuple(x2.data.shape)
    if s1[:-1] != s2[:-1]:
        raise RuntimeError(f"{op}: input batch dimensions do not match: got {s1[:-1]} and {s2[:-1]} (shapes {s1} and {s2})")
    o, i, j = w.data.shape
    if s1[-1] != i:
        raise RuntimeError(f"{op}: input1 size does not match weight size: got {s1[-1]} but expected {i} (weight {tuple(w.shape)})")
    if s2[-1] != j:
        raise RuntimeError(f"{op}: input2 size does not match weight size: got {s2[-1]} but expected {j} (weight {tuple(w.shape)})")
    if bias is not None and tuple(tensors[3].data.shape) != (o,):
        raise RuntimeError(f"{op}: bias must have shape ({o},) to match weight {tuple(w.shape)}, got {tuple(tensors[3].shape)}")
    lead = s1[:-1]
    if len(lead) != 1:
        rows = math.prod(lead)
        x1, x2 = x1.reshape(rows, i), x2.reshape(rows, j)
    out = Bilinear.apply(x1, x2, w, *tensors[3:])
    return out if len(lead) == 1 else out.reshape(*lead, o)


# ------------------------------------------------------------------------------------ einsum
_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # torch's label order: A-Z, then a-z


@functools.lru_cache(maxsize=512)
def _parse_einsum(equation: str, shapes: tuple[tuple[int, ...], ...]) -> tuple[tuple[str, ...], str, dict]:
    """Expand an equation to explicit form: one letter per axis (``...`` given fresh letters),
    an explicit output, validated against the operand shapes. Returns (inputs, output, sizes)."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise RuntimeError(f"einsum(): equation {equation!r} has more than one '->'")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        which = "fewer" if len(shapes) < len(terms) else "more"
        raise RuntimeError(
            f"einsum(): {which} operands were provided than specified in the equation "
            f"{equation!r} ({len(terms)} subscripts, {len(shapes)} operands)"
        )
    for term in terms + ([rhs] if arrow else []):
        rest = term.replace("...", "", 1)
        bad = [c for c in rest if c not in _LETTERS]
        if bad:
            raise RuntimeError(
                f"einsum(): invalid subscript {bad[0]!r} in equation {equation!r}: subscripts must "
                "be letters [a-zA-Z], with at most one '...' per operand"
            )
    used = set(c for c in eq if c in _LETTERS)
    n_ell = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        n_labels = len(term) - 3 if "..." in term else len(term)
        if "..." in term:
            if n_labels > len(shape):
                raise RuntimeError(
                    f"einsum(): operand {i} has {len(shape)} dimensions (shape {shape}) but its "
                    f"subscripts {term!r} name {n_labels} besides the ellipsis"
                )
            n_ell.append(len(shape) - n_labels)
        else:
            if n_labels != len(shape):
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({n_labels}) does not match "
                    f"the number of dimensions ({len(shape)}) for operand {i} (shape {shape}) and no "
                    "ellipsis was given"
                )
            n_ell.append(0)
    max_ell = max(n_ell, default=0)
    free = [c for c in _LETTERS if c not in used]
    if max_ell > len(free):
        raise RuntimeError(f"einsum(): equation {equation!r} uses too many dimensions (52 labels at most)")
    ell = "".join(free[:max_ell])
    ins = tuple(t.replace("...", ell[max_ell - n:]) for t, n in zip(terms, n_ell))
    if arrow:
        if "..." in rhs:
            rhs = rhs.replace("...", ell)
        seen = set()
        for c in rhs:
            if c in seen:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in lhs and c not in ell:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any input operand"
                )
            seen.add(c)
        out = rhs
    else:
        counts: dict[str, int] = {}
        for c in lhs:
            if c in _LETTERS:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    sizes: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(ins, shapes)):
        mine: dict[str, int] = {}
        for c, n in zip(term, shape):
            if c in mine and mine[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {i} (shape {shape}) but the "
                    f"sizes don't match, {mine[c]} != {n}"
                )
            mine[c] = n
        for c, n in mine.items():
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != prev and n != 1:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} (shape {shape}) which does "
                    f"not broadcast with previously seen size {prev}"
                )
    return ins, out, sizes


def _sublist_equation(args: Sequence[Any]) -> tuple[str, list]:
    """``einsum(op0, [0, 1], op1, [1, 2], [0, 2])`` -> ('AB,BC->AC', [op0, op1]), as torch maps them."""

    def label(n: Any) -> str:
        if n is Ellipsis:
            return "..."
        if isinstance(n, (int, np.integer)) and 0 <= n < 52:
            return chr(ord("A") + n) if n < 26 else chr(ord("a") + n - 26)
        raise RuntimeError(f"einsum(): sublist subscripts must be ints in [0, 52) or Ellipsis, got {n!r}")

    args = list(args)
    out = None
    if len(args) % 2 == 1:
        out = args.pop()
    ops, terms = args[0::2], args[1::2]
    eq = ",".join("".join(label(n) for n in t) for t in terms)
    if out is not None:
        eq += "->" + "".join(label(n) for n in out)
    return eq, ops


def _contract(ins: Sequence[str], out: str, arrays: Sequence[Any]) -> Any:
    """Evaluate an explicit einsum; two operands without diagonals or broadcast labels become one
    (batched) GEMM, since ``np.einsum`` itself has no BLAS path for batch indices."""
    if len(arrays) == 2:
        res = _pair(ins[0], ins[1], out, arrays[0], arrays[1])
        if res is not None:
            return res
    eq = ",".join(ins) + "->" + out
    return xp.asarray(xp.einsum(eq, *arrays, optimize=len(arrays) > 2))


def _pair(ta: str, tb: str, out: str, a: Any, b: Any) -> Any:
    """a, b contracted as batch x left x right GEMMs (as ``torch.einsum``), or None if not plain."""
    if len(set(ta)) != len(ta) or len(set(tb)) != len(tb):
        return None  # a diagonal: let np.einsum handle it
    size = {}
    for t, arr in ((ta, a), (tb, b)):
        for c, n in zip(t, arr.shape):
            if size.setdefault(c, n) != n:
                return None  # a size-1 label broadcast against a longer one
    # labels used by one operand only and absent from the output: sum them away first
    only_a = [i for i, c in enumerate(ta) if c not in tb and c not in out]
    if only_a:
        a = a.sum(axis=tuple(only_a))
        ta = "".join(c for c in ta if c in tb or c in out)
    only_b = [i for i, c in enumerate(tb) if c not in ta and c not in out]
    if only_b:
        b = b.sum(axis=tuple(only_b))
        tb = "".join(c for c in tb if c in ta or c in out)
    batch = [c for c in out if c in ta and c in tb]
    left = [c for c in out if c in ta and c not in tb]
    right = [c for c in out if c in tb and c not in ta]
    contracted = [c for c in ta if c in tb and c not in out]
    nb, nl, nr, nc = (int(np.prod([size[c] for c in s], dtype=np.int64)) for s in (batch, left, right, contracted))
    a3 = a.transpose([ta.index(c) for c in batch + left + contracted]).reshape(nb, nl, nc)
    b3 = b.transpose([tb.index(c) for c in batch + contracted + right]).reshape(nb, nc, nr)
    res = a3[0] @ b3[0] if nb == 1 else xp.matmul(a3, b3)
    order = batch + left + right
    res = res.reshape([size[c] for c in order])
    perm = [order.index(c) for c in out]
    return res if perm == sorted(perm) else res.transpose(perm)


class Einsum(Function):
    """z = einsum(eq, x_1, ..., x_n);  dz/dx_i = einsum(out, x_j (j != i) -> labels of x_i) of g.

    The gradient of a sum of products with respect to one factor is the same sum with that factor
    replaced by g: contract g with the other operands onto x_i's labels. Labels of x_i that appear
    nowhere else were summed away, so its gradient is broadcast along them; a label repeated
    within x_i (a diagonal, ``'ii->i'``) receives the gradient on that diagonal only, zeros
    elsewhere; a label of size 1 in x_i that broadcast against a longer one is summed back to 1.
    """

    def forward(ctx, *arrays, ins=None, out=None, sizes=None):
        ctx.save_for_backward(*arrays)
        ctx.spec = ins, out, sizes
        res = _contract(ins, out, arrays)
        if any(np.may_share_memory(res, x) for x in arrays):  # 'ij->ji', 'ii->i' give views: own the data
            res = res.copy()
        return res

    def backward(ctx, g):
        arrays = ctx.saved_tensors
        ins, out, sizes = ctx.spec
        grads = []
        for i, (term, x) in enumerate(zip(ins, arrays)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [out] + [t for j, t in enumerate(ins) if j != i]
            ops = [g] + [a for j, a in enumerate(arrays) if j != i]
            available = set("".join(others))
            own = dict(zip(term, x.shape))
            uniq = "".join(dict.fromkeys(term))
            keep = "".join(c for c in uniq if c in available and not (own[c] == 1 and sizes[c] != 1))
            gi = _contract(others, keep, ops)
            # put back the labels that were summed away (broadcast) or size-1 (kept as 1)
            gi = gi.reshape([own[c] if c in keep else 1 for c in uniq])
            shape = tuple(own[c] for c in uniq)
            if len(uniq) == len(term):  # no repeated label: uniq is term itself
                grads.append(gi if gi.shape == shape else xp.broadcast_to(gi, shape))
            else:  # write onto the generalised diagonal of a zero array
                full = xp.zeros(x.shape, dtype=g.dtype)
                strides = tuple(sum(s for c2, s in zip(term, full.strides) if c2 == c) for c in uniq)
                diag = np.lib.stride_tricks.as_strided(full, shape=shape, strides=strides)
                diag[...] = gi
                grads.append(full)
        return tuple(grads) if len(grads) > 1 else grads[0]


def einsum(equation: str | Any, *operands: Any) -> Tensor:
    """Sum of products over labelled axes, e.g. ``einsum('bij,bjk->bik', a, b)``.

    Operands come as varargs or as one list; ``...`` stands for broadcast batch dimensions; without
    ``->`` the output holds the labels that appear once, in alphabetical order (uppercase first),
    after the ellipsis dimensions. The sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` works too.
    """
    if not isinstance(equation, str):
        equation, ops = _sublist_equation((equation,) + operands)
        operands = tuple(ops)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    tensors = [ensure_tensor(o, "einsum") for o in operands]
    d0 = tensors[0].data.dtype
    for t in tensors[1:]:
        if t.data.dtype != d0:
            raise RuntimeError(
                    f"einsum(): all operands must have the same dtype, got {describe(*tensors)}"
                )
    ins, out, sizes = _parse_einsum(equation, tuple(tuple(t.data.shape) for t in tensors))
    if d0.kind != "f":
        res = _contract(ins, out, [t.data for t in tensors])
        return Tensor._wrap(res.copy() if any(np.may_share_memory(res, t.data) for t in tensors) else res)
    return Einsum.apply(*tensors, ins=ins, out=out, sizes=sizes)


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "einsum", "bilinear"]
