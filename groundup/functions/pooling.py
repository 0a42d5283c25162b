"""Pooling over the last one or two axes: max, average, adaptive and power-average pooling.

Every op here slides a window over the trailing spatial axes — (L,) for the 1-d ops, (H, W) for the
2-d ones — and reduces each window to one number. Batch and channel axes only ride along: an input
(N, C, H, W), or unbatched (C, H, W), is viewed as a stack of (H, W) planes, (B, H, W) with B = N·C.
A 1-d op is the 2-d op on planes of height 1, so one implementation serves both.

Window geometry (PyTorch's rules, per axis)
-------------------------------------------
Window ``o`` covers the input positions ``o·stride - padding + i·dilation`` for ``i < kernel``.
Padding is virtual: -inf for max pooling (it never wins), 0 for average pooling (it adds nothing).
The number of windows is::

    out = floor((size + 2·padding - dilation·(kernel - 1) - 1) / stride) + 1

``ceil_mode=True`` rounds up instead, so a last, partial window is kept — unless it would start past
the input and the left padding (``(out - 1)·stride >= size + padding``): a window must start inside
the input or the left padding. ``padding`` may be at most half the kernel (``kernel_size // 2``).

Max pooling: the scan, and why the gradient goes to one element
--------------------------------------------------------------
:func:`_scan_max` visits each window's elements in row-major order exactly as PyTorch's CPU kernel
does: start from ``best = -inf`` at the window's first real element, and move to an element ``v`` when
``v > best`` or ``v`` is NaN. So among ties the *first* maximum wins, a NaN always propagates (the
*last* NaN wins), and an all -inf window reports its first real element. The scan is vectorised over
windows: one pass per kernel offset (i, j), comparing the strided view of all windows' (i, j)-th
elements with the running best. It yields the values and, per window, the offset of the winner,
turned into its flat index ``h·W + w`` in the (H, W) plane — what ``return_indices=True`` returns.

Backward. ``y_o = x_{a(o)}`` with ``a(o)`` the winner of window ``o``. Away from ties, moving any
other element of the window a little does not change ``y_o`` and moving the winner moves ``y_o`` by
the same amount, so ``∂y_o/∂x_i = [i = a(o)]`` and::

    dx_i = Σ_o g_o · [a(o) = i]

a scatter of ``g`` to the saved winners. Overlapping windows (stride < kernel) can share a winner,
so the scatter adds (``np.bincount``); disjoint windows cannot, so it simply assigns.

Average pooling
---------------
``y_o = (1/d_o) Σ_{i ∈ W(o)} x_i``, so ``dx_i = Σ_{o : i ∈ W(o)} g_o / d_o``: every window spreads
its ``g_o / d_o`` evenly over its elements. Both directions are one strided add per kernel offset
(``kh·kw`` of them): forward adds the (i, j)-th element of every window into the sums, backward adds
``g / d`` back into those same strided positions of the (padded) gradient. The divisor ``d_o`` is the
window's size clipped to the padded input (``count_include_pad=True``), the number of real elements
in it (``count_include_pad=False``), or ``divisor_override``.

Adaptive pooling
----------------
Output size ``O`` is given instead of a kernel; window ``o`` along an axis of size ``I`` is
``[floor(o·I/O), ceil((o+1)·I/O))`` — sizes differ by at most one and neighbours may overlap by one.
Adaptive average pooling is linear and separable: ``Y = A_h X A_wᵀ`` with ``A[o, i] = 1/|window o|``
for ``i`` in window ``o``. Its backward is the transpose, ``dX = A_hᵀ G A_w`` (from
``tr(Gᵀ A dX Bᵀ) = tr((Aᵀ G B)ᵀ dX)``), two matrix products each way. Output 1×1 is a plain mean.
Adaptive max pooling finds the same winners as the scan: with few large windows (global pooling) by
one ``argmax`` per window over its row-major flattening; with many small ones by the scan itself,
each offset's gather clamped to the window's last element (visiting an element twice cannot change
the scan's result), so no masks are needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from groundup.autograd import Function
from groundup.backend import xp
from groundup.functions.elementwise import keep_where
from groundup.tensor import Tensor

_ACC = {np.dtype(np.float16): np.dtype(np.float32)}  # sums of narrow floats are taken in float32


# ------------------------------------------------------------------------------- arguments
def _ints(value: Any, n: int, name: str, op: str) -> tuple[int, ...]:
    """An int or a sequence of 1 or ``n`` ints, as a tuple of ``n`` ints."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        seq = tuple(value)
    except TypeError:
        seq = None
    if seq is None or len(seq) not in (1, n) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in seq
    ):
        what = "an int" if n == 1 else f"a single int, or a tuple of {n} ints"
        raise TypeError(f"{op}: {name} must be {what}, got {value!r}")
    return tuple(int(v) for v in seq) * (n if len(seq) == 1 else 1)


def _input(input: Any, nd: int, op: str, allow_int: bool = True) -> Tensor:
    """Check rank, emptiness and dtype: (C, *S) or (N, C, *S) with ``nd`` spatial axes S."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    names = "L" if nd == 1 else "H, W"
    shape = tuple(input.shape)
    if input.ndim not in (nd + 1, nd + 2) or 0 in shape[input.ndim - nd - 1 :]:
        raise RuntimeError(
            f"{op}: expected a {nd + 1}-D (C, {names}) or {nd + 2}-D (N, C, {names}) input with non-zero "
            f"channel and spatial sizes (the batch size may be 0), got shape {shape}"
        )
    kind = input.data.dtype.kind
    if kind != "f" and not (allow_int and kind in "iu"):
        raise TypeError(
            f"{op}: expected a floating point{' or integer' if allow_int else ''} input, got "
            f"{input.dtype.name} (shape {shape})"
        )
    return input


def _planes(x: Any, nd: int) -> tuple[Any, tuple[int, ...]]:
    """View (*lead, *S) as (B, H, W) planes (height 1 for 1-d ops); also return ``lead``."""
    lead = x.shape[: x.ndim - nd]
    hw = x.shape[x.ndim - nd :] if nd == 2 else (1, x.shape[-1])
    return x.reshape((math.prod(lead),) + hw), lead


def _spatial(out_hw: tuple[int, int], nd: int) -> tuple[int, ...]:
    return out_hw if nd == 2 else out_hw[1:]


def _as_2d(t: tuple[int, ...], nd: int, fill: int) -> tuple[int, int]:
    """A 1-d setting (k,) becomes (fill, k): the plane's height axis is a dummy of size 1."""
    return t if nd == 2 else (fill, t[0])


# -------------------------------------------------------------------------------- geometry
def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Number of windows along one axis (PyTorch's ``pooling_output_shape``)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside input or left pad
        out -= 1
    return out


@dataclass(frozen=True)
class _Grid:
    """Where the windows of a pooling op sit over (H, W) planes, one entry per axis (h, w)."""

    size: tuple[int, int]  # (H, W)
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out: tuple[int, int]  # (OH, OW)

    def padded_size(self) -> tuple[int, int]:
        """(Hp, Wp): the planes with their padding, and as much more as the last window needs."""
        (H, W), (ph, pw) = self.size, self.padding
        # the last window ends at (out - 1)·stride + (kernel - 1)·dilation, counted from -padding
        ends = [(o - 1) * s + (k - 1) * d + 1
                for o, s, k, d in zip(self.out, self.stride, self.kernel, self.dilation)]
        return ph + max(H, ends[0] - ph), pw + max(W, ends[1] - pw)

    def padded(self, planes: Any, fill: Any) -> Any:
        """(B, H, W) planes inside a border of ``fill`` wide enough for every window (no copy if none)."""
        (H, W), (ph, pw) = self.size, self.padding
        size = self.padded_size()
        if size == (H, W):
            return planes
        out = xp.full((planes.shape[0],) + size, fill, dtype=planes.dtype)
        out[:, ph : ph + H, pw : pw + W] = planes
        return out

    def offsets(self) -> Iterator[tuple[int, int, slice, slice]]:
        """For each kernel offset (i, j): slices of the padded planes holding every window's (i, j)-th
        element, as a strided (B, OH, OW) view."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.stride, self.dilation, self.out
        for i in range(kh):
            rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
            for j in range(kw):
                yield i, j, rows, slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)

    def starts(self, axis: int) -> Any:
        """Input position of each window's first element along ``axis`` (negative inside padding)."""
        return xp.arange(self.out[axis]) * self.stride[axis] - self.padding[axis]

    def first_real(self, axis: int) -> Any:
        """Position of each window's first element that is not padding, along ``axis``."""
        start, d = self.starts(axis), self.dilation[axis]
        return start + xp.maximum(0, -(start // d)) * d  # skip the offsets in the top / left padding

    @property
    def disjoint(self) -> bool:
        """True when no input element lies in two windows (then each is some window's winner at most once)."""
        return all(s >= (k - 1) * d + 1 for k, s, d in zip(self.kernel, self.stride, self.dilation))


def _grid(
    op: str, x: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
    ceil_mode: bool,
) -> _Grid:
    """Validate the settings against the input, as PyTorch does, and place the windows."""
    k = _ints(kernel_size, nd, "kernel_size", op)
    default = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    s = k if default else _ints(stride, nd, "stride", op)
    p = _ints(padding, nd, "padding", op)
    d = _ints(dilation, nd, "dilation", op)
    if min(k) < 1:
        raise RuntimeError(f"{op}: kernel_size must be positive, got kernel_size={kernel_size}")
    if min(s) < 1:
        raise RuntimeError(f"{op}: stride must be positive, got stride={stride}")
    if min(d) < 1:
        raise RuntimeError(f"{op}: dilation must be positive, got dilation={dilation}")
    if min(p) < 0:
        raise RuntimeError(f"{op}: padding must be non-negative, got padding={padding}")
    for ki, pi in zip(k, p):
        # PyTorch's no-grad max pooling allows up to half the *dilated* kernel, but its autograd and
        # return_indices paths (and avg pooling) allow half the kernel; we apply that rule everywhere
        if pi > ki // 2:
            raise RuntimeError(
                f"{op}: padding should be at most half of the kernel size, but got padding={padding} "
                f"and kernel_size={kernel_size} (need padding <= kernel_size // 2 along each axis)"
            )
    size = tuple(x.shape[x.ndim - nd :])
    out = tuple(_out_size(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(size, k, s, p, d))
    if min(out) < 1:
        eff = tuple((ki - 1) * di + 1 for ki, di in zip(k, d))
        padded = tuple(n + 2 * pi for n, pi in zip(size, p))
        raise RuntimeError(
            f"{op}: given input of shape {tuple(x.shape)}, the calculated output size is {out}: the "
            f"effective kernel {eff} ((kernel_size - 1) * dilation + 1) is larger than the padded input "
            f"{padded}. Output size is too small"
        )
    return _Grid(
        size=_as_2d(size, nd, 1), kernel=_as_2d(k, nd, 1), stride=_as_2d(s, nd, 1),
        padding=_as_2d(p, nd, 0), dilation=_as_2d(d, nd, 1), out=_as_2d(out, nd, 1),
    )


# ------------------------------------------------------------------------------ max: scan
def _lowest(dtype: Any) -> Any:
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _has_nan(planes: Any) -> bool:
    # max() propagates NaN, so one reduction (no boolean temporary) tells whether any is present
    return planes.dtype.kind == "f" and planes.size > 0 and bool(np.isnan(planes.max()))


def _scan_max(
    views: Iterator[Any], n: int, first: Any, shape: tuple, dtype: Any, nan: bool
) -> tuple[Any, Any]:
    """PyTorch's max-pool scan, vectorised over windows: values and winning offsets, (B, OH, OW) each.

    ``views`` yields, for each of the ``n`` kernel offsets in row-major order, every window's element
    at that offset, shape ``shape``; ``first`` is the offset of each window's first real element. An
    element wins over the running best when it is larger or NaN: the first maximum among ties, the
    last NaN if any, the first real element if all are -inf.

    Speed: a masked copy per offset is slow, so the winning offset ``k`` is kept as a small integer
    and updated with ``k = max(k, better · offset)``: offsets only grow, so that is ``offset`` exactly
    where the element won, and ``k`` elsewhere (padding, before ``first``, never wins).
    """
    best = xp.full(shape, _lowest(dtype), dtype=dtype)  # (B, OH, OW)
    kdt = np.int8 if n <= 127 else np.int16 if n <= 32767 else np.int32
    k = xp.empty(shape, dtype=kdt)  # (B, OH, OW) winning offset so far
    k[...] = first
    better = xp.empty(shape, dtype=bool)
    step = xp.empty(shape, dtype=kdt)
    for off, v in enumerate(views):
        xp.greater(v, best, out=better)
        if nan:
            better |= xp.isnan(v)
        xp.maximum(best, v, out=best)  # NaN propagates, as the scan keeps a NaN once it has one
        xp.multiply(better, kdt(off), out=step)
        xp.maximum(k, step, out=k)
    return best, k


def _max_pool_scan(planes: Any, grid: _Grid) -> tuple[Any, Callable[[], Any], Callable[[Any], Any]]:
    """Max pooling over ``grid``: the (B, OH, OW) values, a function that returns the winners'
    flat indices ``h·W + w`` (B, OH, OW) — computed only when asked for (return_indices) — and
    the backward scatter (see :func:`_scatter_max`)."""
    W, kw = grid.size[1], grid.kernel[1]
    dh, dw = grid.dilation
    xpad = grid.padded(planes, _lowest(planes.dtype))
    r0, c0 = grid.starts(0), grid.starts(1)  # (OH,), (OW,) first row / column of each window
    # offset number (i·kw + j) of each window's first real element
    first = ((grid.first_real(0) - r0) // dh)[:, None] * kw + ((grid.first_real(1) - c0) // dw)[None, :]
    views = (xpad[:, rows, cols] for _, _, rows, cols in grid.offsets())
    shape = (planes.shape[0],) + grid.out
    values, k = _scan_max(views, grid.kernel[0] * kw, first, shape, planes.dtype, _has_nan(planes))

    def indices() -> Any:  # offset k = i·kw + j of window (oh, ow) sits at row r0 + i·dh, column c0 + j·dw
        i, j = xp.divmod(k.astype(np.int64), kw)
        return (r0[:, None] + i * dh) * W + (c0[None, :] + j * dw)

    return values, indices, lambda g: _scatter_max(g.reshape(k.shape), k, grid)  # g: (*, OH, OW) or (*, OL)


def _scatter_max(g: Any, k: Any, grid: _Grid) -> Any:
    """The max-pool backward from the scan's winning offsets ``k``: (B, OH, OW) ``g`` -> (B, H, W).

    One pass per kernel offset: the windows whose winner is that offset send their g to that
    offset's strided view of the (padded) gradient, the others send 0 — selected exactly by
    :func:`keep_where`'s bit trick, so an inf or NaN g goes only where it belongs. Within one
    offset the targets are distinct; with disjoint windows no two offsets share a target either,
    so the selection is written straight into place, and when the windows tile the padded planes
    exactly (kernel = stride) every element is written once and no zeroing is needed. Overlapping
    windows add. Measured on LeNet's 2x2 pools it is several times faster than scattering to
    computed flat indices.
    """
    (H, W), (ph, pw), (oh, ow) = grid.size, grid.padding, grid.out
    hp, wp = grid.padded_size()
    (sh, sw) = grid.stride
    tiled = grid.kernel == grid.stride and grid.dilation == (1, 1) and (hp, wp) == (oh * sh, ow * sw)
    dx = (xp.empty if tiled else xp.zeros)((g.shape[0], hp, wp), dtype=g.dtype)  # (B, Hp, Wp)
    disjoint = grid.disjoint
    for off, (_, _, rows, cols) in enumerate(grid.offsets()):
        if disjoint:
            keep_where(g, k == off, out=dx[:, rows, cols])
        else:
            dx[:, rows, cols] += keep_where(g, k == off)
    return dx if (hp, wp) == (H, W) else xp.ascontiguousarray(dx[:, ph : ph + H, pw : pw + W])


def _argmax_last(w: Any, nan: bool) -> Any:
    """Index of the first maximum along the last axis, or of the last NaN where there is one
    (``nan``: whether ``w`` may hold NaN at all)."""
    idx = w.argmax(axis=-1)  # NumPy: first maximum, and the first NaN counts as the maximum
    if nan:
        isnan = xp.isnan(w)
        if isnan.any():
            last_nan = w.shape[-1] - 1 - isnan[..., ::-1].argmax(axis=-1)
            idx = xp.where(isnan.any(axis=-1), last_nan, idx)
    return idx


def _adaptive_windows(n_in: int, n_out: int) -> tuple[Any, Any]:
    """Window ``o`` is ``[floor(o·n_in/n_out), ceil((o+1)·n_in/n_out))``: (starts, ends), each (n_out,)."""
    o = xp.arange(n_out)
    return (o * n_in) // n_out, -((-(o + 1) * n_in) // n_out)


def _adaptive_max_scan(planes: Any, out: tuple[int, int]) -> tuple[Any, Callable[[], Any], Any]:
    """Adaptive max pooling of (B, H, W) planes to ``out`` = (OH, OW): values, an indices function
    and, for even windows, the backward scatter (as :func:`_max_pool_scan`; else None)."""
    B, H, W = planes.shape
    OH, OW = out
    nan = _has_nan(planes)
    (rs, re), (cs, ce) = _adaptive_windows(H, OH), _adaptive_windows(W, OW)
    kh, kw = int((re - rs).max()), int((ce - cs).max())
    if OH * OW <= kh * kw:
        # few, large windows (global pooling, 7×7 from 56×56, …): one argmax per window, each over
        # a copy of the window flattened in row-major order — the scan order
        values = xp.empty((B, OH, OW), dtype=planes.dtype)
        idx = xp.empty((B, OH, OW), dtype=np.int64)
        for a in range(OH):
            for b in range(OW):
                win = planes[:, rs[a] : re[a], cs[b] : ce[b]]  # (B, h, w)
                flat = win.reshape(B, -1)  # (B, h·w)
                k = _argmax_last(flat, nan)  # (B,)
                values[:, a, b] = xp.take_along_axis(flat, k[:, None], axis=1)[:, 0]
                i, j = xp.divmod(k, win.shape[2])
                idx[:, a, b] = (rs[a] + i) * W + cs[b] + j
        return values, idx.copy, None  # a fresh copy per call: returned indices may be edited in place
    if H % OH == 0 and W % OW == 0:  # even windows: ordinary max pooling with kernel = stride
        k = (H // OH, W // OW)
        return _max_pool_scan(planes, _Grid((H, W), k, k, (0, 0), (1, 1), out))

    # many small uneven windows: the scan over kernel offsets, each offset's gather clamped to the
    # window's last row / column (visiting an element twice cannot change the scan's result)
    def rows(i: Any) -> Any:  # (OH, 1)
        return xp.minimum(rs[:, None] + i, re[:, None] - 1)

    def cols(j: Any) -> Any:  # (1, OW)
        return xp.minimum(cs[None, :] + j, ce[None, :] - 1)

    views = (planes[:, rows(i), cols(j)] for i in range(kh) for j in range(kw))
    values, k = _scan_max(views, kh * kw, 0, (B, OH, OW), planes.dtype, nan)

    def indices() -> Any:
        i, j = xp.divmod(k.astype(np.int64), kw)
        return rows(i) * W + cols(j)

    return values, indices, None


class MaxPool(Function):
    """y_o = x at window o's winner a(o);  dx_i = Σ_o g_o [a(o) = i] (a scatter-add of g).

    The scan that finds the winners runs before ``apply`` (``return_indices=True`` needs its result
    too), so forward only records it: ``values`` are the maxima and ``indices()`` returns the winners'
    flat positions ``h·W + w`` in each (H, W) plane (``w`` for 1-d), as in PyTorch. ``scatter``, when
    the scan provides one, maps the (B, OH, OW) gradient straight to the (B, H, W) planes' gradient
    from the winning offsets (:func:`_scatter_max`); otherwise g is scattered to ``indices()``.
    """

    def forward(ctx, x, *, values, indices, plane, disjoint, scatter=None):
        ctx.indices, ctx.shape, ctx.plane, ctx.disjoint, ctx.scatter = indices, x.shape, plane, disjoint, scatter
        return values

    def backward(ctx, g):
        if ctx.scatter is not None:
            return ctx.scatter(g).reshape(ctx.shape)
        n = math.prod(ctx.shape)
        B = n // ctx.plane  # number of planes
        m = g.size // B if B else 0  # windows per plane
        pos = ctx.indices().reshape(B, m) + (xp.arange(B) * ctx.plane)[:, None]  # (B, OH·OW) into x.ravel()
        g2 = g.reshape(B, m)
        if ctx.disjoint:  # every element is at most one window's winner: plain assignment
            dx = xp.zeros(n, dtype=g.dtype)
            dx[pos.ravel()] = g2.ravel()
        else:  # overlapping windows may share a winner: add up
            dx = xp.bincount(pos.ravel(), weights=g2.ravel(), minlength=n).astype(g.dtype, copy=False)
        return dx.reshape(ctx.shape)


def _max_result(
    x: Tensor, values: Any, indices: Callable[[], Any], lead: tuple, nd: int, disjoint: bool,
    return_indices: bool, scatter: Callable[[Any], Any] | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    shape = lead + _spatial(values.shape[1:], nd)
    plane = x.shape[-1] * (x.shape[-2] if nd == 2 else 1)
    y = MaxPool.apply(
        x, values=values.reshape(shape), indices=indices, plane=plane, disjoint=disjoint, scatter=scatter
    )
    if return_indices:
        return y, Tensor._wrap(indices().reshape(shape))
    return y


def _max_pool(
    op: str, nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
    ceil_mode: bool, return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    x = _input(input, nd, op)
    grid = _grid(op, x, nd, kernel_size, stride, padding, dilation, ceil_mode)
    if (grid.first_real(0) >= grid.size[0]).any() or (grid.first_real(1) >= grid.size[1]).any():
        # a dilated window can skip over a tiny input entirely (PyTorch then reads and writes out of
        # bounds); refuse instead
        raise RuntimeError(
            f"{op}: with kernel_size={kernel_size}, dilation={dilation} and padding={padding}, some "
            f"window of input shape {tuple(x.shape)} contains no input element, only padding"
        )
    planes, lead = _planes(x.data, nd)
    values, indices, scatter = _max_pool_scan(planes, grid)
    return _max_result(x, values, indices, lead, nd, grid.disjoint, return_indices, scatter)


def max_pool1d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: bool = False, return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum of each window along the last axis of (N, C, L) or (C, L).

    ``stride`` defaults to ``kernel_size``; padding counts as -inf. With ``return_indices=True`` also
    returns the int64 position (in L) of each maximum, as ``max_unpool1d`` expects.
    """
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: bool = False, return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum of each (kh, kw) window of (N, C, H, W) or (C, H, W) — shape (*, OH, OW).

    ``stride`` defaults to ``kernel_size``; padding counts as -inf; ``dilation`` spaces the window's
    elements; ``ceil_mode`` keeps a last partial window. Ties go to the first maximum in row-major
    order and NaN propagates, as in PyTorch. ``return_indices=True`` also returns each maximum's
    flat position ``h·W + w`` in its plane (int64).
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool1d_with_indices(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: bool = False, return_indices: bool = True,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool1d` returning ``(values, indices)``."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
    ceil_mode: bool = False, return_indices: bool = True,
) -> tuple[Tensor, Tensor]:
    """:func:`max_pool2d` returning ``(values, indices)``."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------------------------- average
def _divisor(grid: _Grid, count_include_pad: bool, divisor_override: int | None, dtype: Any) -> Any:
    """(OH, OW) divisor of each window, as PyTorch's ``avg_pool2d`` kernel computes it."""
    if divisor_override is not None:
        return xp.full(grid.out, divisor_override, dtype=dtype)
    counts = []
    for a in (0, 1):
        n, k, p = grid.size[a], grid.kernel[a], grid.padding[a]
        start = grid.starts(a)
        end = xp.minimum(start + k, n + p)  # windows are clipped to the padded input
        counts.append(end - start if count_include_pad else xp.minimum(end, n) - xp.maximum(start, 0))
    d = counts[0][:, None] * counts[1][None, :]  # (OH, OW)
    return xp.maximum(d, 1).astype(dtype)  # an empty window (only possible in ceil mode) gives 0


class AvgPool(Function):
    """y_o = (1/d_o) Σ_{i∈W(o)} x_i;  dx_i = Σ_{o: i∈W(o)} g_o / d_o (one strided add per offset)."""

    def forward(ctx, x, *, grid, nd, count_include_pad, divisor_override):
        planes, lead = _planes(x, nd)  # (B, H, W)
        acc = _ACC.get(planes.dtype, planes.dtype)
        xpad = grid.padded(planes.astype(acc, copy=False), 0)
        s = xp.zeros((planes.shape[0],) + grid.out, dtype=acc)  # (B, OH, OW) window sums
        for _, _, rows, cols in grid.offsets():
            s += xpad[:, rows, cols]
        d = _divisor(grid, count_include_pad, divisor_override, acc)  # (OH, OW)
        if acc.kind == "f":
            s /= d
        else:  # integer inputs: C-style division, truncating toward zero (as PyTorch)
            q = xp.abs(s) // d
            s = xp.where(s < 0, -q, q)
        ctx.grid, ctx.nd, ctx.d, ctx.shape, ctx.pshape = grid, nd, d, x.shape, xpad.shape
        return s.reshape(lead + _spatial(grid.out, nd)).astype(x.dtype, copy=False)

    def backward(ctx, g):
        grid = ctx.grid
        (H, W), (ph, pw) = grid.size, grid.padding
        gd = g.reshape((ctx.pshape[0],) + grid.out).astype(ctx.d.dtype, copy=False) / ctx.d  # (B, OH, OW)
        dxpad = xp.zeros(ctx.pshape, dtype=gd.dtype)  # (B, Hp, Wp)
        for _, _, rows, cols in grid.offsets():
            dxpad[:, rows, cols] += gd
        dx = dxpad if dxpad.shape[1:] == (H, W) else dxpad[:, ph : ph + H, pw : pw + W]
        return xp.ascontiguousarray(dx).reshape(ctx.shape).astype(g.dtype, copy=False)


def _avg_pool(
    op: str, nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
    count_include_pad: bool, divisor_override: Any,
) -> Tensor:
    x = _input(input, nd, op)
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or isinstance(divisor_override, bool):
            raise TypeError(f"{op}: divisor_override must be an int or None, got {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero (divisor_override=0)")
    grid = _grid(op, x, nd, kernel_size, stride, padding, 1, ceil_mode)
    return AvgPool.apply(
        x, grid=grid, nd=nd, count_include_pad=bool(count_include_pad), divisor_override=divisor_override
    )


def avg_pool1d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window along the last axis of (N, C, L) or (C, L).

    Zero padding is counted in the mean unless ``count_include_pad=False``.
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
    count_include_pad: bool = True, divisor_override: int | None = None,
) -> Tensor:
    """The mean of each (kh, kw) window of (N, C, H, W) or (C, H, W).

    The sum is divided by the window size (including zero padding, clipped to the padded input), by
    the number of real elements with ``count_include_pad=False``, or by ``divisor_override``.
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


# --------------------------------------------------------------------------------- adaptive
def _output_size(output_size: Any, x: Tensor, nd: int, op: str) -> tuple[int, ...]:
    """``output_size`` as ``nd`` ints; ``None`` entries keep the input's size."""
    if isinstance(output_size, Tensor):
        output_size = output_size.tolist()
    if output_size is None or (
        isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool)
    ):
        sizes = (output_size,) * nd
    else:
        try:
            sizes = tuple(output_size)
        except TypeError:
            sizes = ()
        if len(sizes) == 1 and nd == 2:
            sizes = sizes * 2
    spatial = tuple(x.shape[x.ndim - nd :])
    if len(sizes) != nd or not all(
        s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool)) for s in sizes
    ):
        raise TypeError(
            f"{op}: output_size must be an int or a tuple of {nd} ints (or None), got {output_size!r}"
        )
    out = tuple(n if s is None else int(s) for s, n in zip(sizes, spatial))
    if min(out) < 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0, but got {out}")
    return out


def _adaptive_input(input: Any, nd: int, op: str, allow_int: bool) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    shape = tuple(input.shape)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, but got shape {shape}")
    for a in range(input.ndim - nd - 1, input.ndim):
        if shape[a] == 0:
            raise RuntimeError(
                f"{op}: expected input to have non-zero size for non-batch dimensions, but input has "
                f"sizes {shape} with dimension {a} being empty"
            )
    return _input(input, nd, op, allow_int)


def _averaging_matrix(n_in: int, n_out: int, dtype: Any) -> Any:
    """(n_out, n_in) matrix A with A[o, i] = 1/|window o| for i in adaptive window o, else 0."""
    start, end = _adaptive_windows(n_in, n_out)
    i = xp.arange(n_in)
    inside = (i >= start[:, None]) & (i < end[:, None])  # (n_out, n_in)
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool(Function):
    """Y = A_h X A_wᵀ per plane (A: averaging matrices);  dX = A_hᵀ G A_w.  1×1 output: the mean."""

    def forward(ctx, x, *, out, nd):
        planes, lead = _planes(x, nd)  # (B, H, W)
        B, H, W = planes.shape
        OH, OW = out
        acc = _ACC.get(planes.dtype, planes.dtype)
        ctx.shape, ctx.dtype, ctx.acc, ctx.nd, ctx.B = x.shape, x.dtype, acc, nd, B
        if OH == 1 and OW == 1:
            y = planes.mean(axis=(1, 2), dtype=acc)[:, None, None]  # (B, 1, 1)
        else:
            ctx.ah = None if OH == H else _averaging_matrix(H, OH, acc)  # (OH, H); None: identity
            ctx.aw = None if OW == W else _averaging_matrix(W, OW, acc)  # (OW, W)
            y = planes.astype(acc, copy=False)
            if ctx.aw is not None:  # (B·H, W) @ (W, OW)
                y = (y.reshape(B * H, W) @ ctx.aw.T).reshape(B, H, OW)
            if ctx.ah is not None:  # (OH, H) @ (B, H, OW)
                y = xp.matmul(ctx.ah, y)
            if y is planes:  # output size = input size: a copy, never a view of the input
                y = planes.copy()
        ctx.out = out
        return y.reshape(lead + _spatial(out, nd)).astype(x.dtype, copy=False)

    def backward(ctx, g):
        OH, OW = ctx.out
        B = ctx.B
        g = g.reshape((B, OH, OW)).astype(ctx.acc, copy=False)  # (B, OH, OW)
        if OH == 1 and OW == 1:
            n = ctx.shape[-1] * (ctx.shape[-2] if ctx.nd == 2 else 1)  # H·W
            dx = xp.empty((B, n), dtype=g.dtype)
            dx[...] = g.reshape(B, 1) / n  # every element of a plane gets g / (H·W)
        else:
            dx = g
            if ctx.ah is not None:  # (H, OH) @ (B, OH, OW)
                dx = xp.matmul(ctx.ah.T, dx)
            if ctx.aw is not None:  # (B·H, OW) @ (OW, W)
                h = dx.shape[1]
                dx = (dx.reshape(B * h, OW) @ ctx.aw).reshape(B, h, ctx.aw.shape[1])
        return xp.ascontiguousarray(dx).reshape(ctx.shape).astype(ctx.dtype, copy=False)


def _adaptive_avg(op: str, nd: int, input: Any, output_size: Any) -> Tensor:
    x = _adaptive_input(input, nd, op, allow_int=False)
    out = _output_size(output_size, x, nd, op)
    return AdaptiveAvgPool.apply(x, out=_as_2d(out, nd, 1), nd=nd)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average (N, C, L) or (C, L) down to ``output_size`` along L with adaptive windows."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average (N, C, H, W) or (C, H, W) down to ``output_size`` (int, or (OH, OW) with None = keep).

    Window ``o`` along an axis of size ``I`` is ``[floor(o·I/O), ceil((o+1)·I/O))``; ``output_size=1``
    is global average pooling.
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def _adaptive_max(op: str, nd: int, input: Any, output_size: Any, return_indices: bool) -> Any:
    x = _adaptive_input(input, nd, op, allow_int=True)
    out = _as_2d(_output_size(output_size, x, nd, op), nd, 1)
    planes, lead = _planes(x.data, nd)
    B, H, W = planes.shape
    scatter = None
    if 0 in out:
        values = xp.empty((B,) + out, dtype=planes.dtype)
        indices = lambda: xp.empty((B,) + out, dtype=np.int64)  # noqa: E731
    else:
        values, indices, scatter = _adaptive_max_scan(planes, out)
    disjoint = 0 in out or (H % out[0] == 0 and W % out[1] == 0)  # even windows never overlap
    return _max_result(x, values, indices, lead, nd, disjoint, return_indices, scatter)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max of adaptive windows along L of (N, C, L) or (C, L); ``return_indices`` as max_pool1d."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max of adaptive windows of (N, C, H, W) or (C, H, W); ``return_indices`` as max_pool2d."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """:func:`adaptive_max_pool1d` returning ``(values, indices)``."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """:func:`adaptive_max_pool2d` returning ``(values, indices)``."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


# ---------------------------------------------------------------------------- power average
def _lp_pool(
    op: str, nd: int, input: Any, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool
) -> Tensor:
    """``(Σ_window x^p)^(1/p)``: a composite of ``pow`` and average pooling, as PyTorch writes it
    (``sign(s)·relu(|s|)`` clamps a negative window sum, possible for odd p, to 0 before the root)."""
    x = _input(input, nd, op, allow_int=False)
    k = _ints(kernel_size, nd, "kernel_size", op)
    if norm_type in (math.inf, -math.inf):  # the max (or min) of |x| over each window
        if norm_type > 0:
            return _max_pool(op, nd, x.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
        return -_max_pool(op, nd, -x.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    s = _avg_pool(op, nd, x.pow(norm_type), kernel_size, stride, 0, ceil_mode, True, None)
    return (s.sign() * s.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(
    input: Tensor, norm_type: float, kernel_size: int, stride: Any = None, ceil_mode: bool = False
) -> Tensor:
    """Power-average pooling along L: ``(Σ_window x^p)^(1/p)`` (p = ``norm_type``; inf is max pooling)."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
) -> Tensor:
    """Power-average pooling over (kh, kw) windows: ``(Σ_window x^p)^(1/p)`` (p = ``norm_type``)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


__all__ = [
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "lp_pool1d", "lp_pool2d",
]
