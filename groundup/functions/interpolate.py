"""Resampling with ``interpolate``: nearest, nearest-exact, linear, bilinear and area, as in PyTorch.

Every mode here is separable: resampling an (H, W) plane is resampling along W, then along H. Along
one axis of input size ``I`` and output size ``O``, output ``o`` reads one or two inputs (its *taps*)
and ``y[o] = Σ_t w_t[o] · x[i_t[o]]``. The modes differ only in which inputs and weights. With
``scale = I / O`` (or ``1 / scale_factor`` when a scale factor is given and not recomputed):

- ``'nearest'`` — ``i = min(floor(o · scale), I - 1)``. PyTorch's legacy rule (OpenCV's
  INTER_NEAREST): it reads the pixel at the *left edge* of the output pixel's footprint, so the
  image shifts by up to half an input pixel toward the origin. (PyTorch's rounding details, and its
  shortcuts for ``O == I`` and ``O == 2·I``, are copied too: see :func:`_nearest_taps`.)
- ``'nearest-exact'`` — ``i = min(floor((o + 0.5) · scale), I - 1)``: the pixel under the output
  pixel's *centre* (as Pillow and scikit-image do).
- ``'linear'`` (3-D input) / ``'bilinear'`` (4-D, both axes) — a real source coordinate ``s`` between
  two pixels, ``i0 = min(floor(s), I - 1)``, ``i1 = i0 + 1`` (``i0`` at the last pixel),
  ``λ = s - i0``, ``y[o] = (1 - λ) x[i0] + λ x[i1]``. With ``align_corners=False`` (the default),
  pixels are unit squares with centres at half-integers: ``s = max(scale · (o + 0.5) - 0.5, 0)``,
  clamped at 0 so the border pixels are copied rather than extrapolated. With ``align_corners=True``
  the centres of the corner pixels coincide: ``s = o · (I - 1) / (O - 1)``. The coordinates are
  computed in the input's precision (float32 for float32), as PyTorch's kernels do.
- ``'area'`` — adaptive average pooling (:func:`groundup.functions.pooling.adaptive_avg_pool2d`).

Backward
--------
``y[o] = Σ_t w_t[o] x[i_t[o]]`` is linear in x — ``y = A x`` with ``A[o, i] = Σ_t w_t[o] [i_t[o] = i]``
— so ``dx = Aᵀ g``::

    dx[i] = Σ_t Σ_{o : i_t[o] = i} w_t[o] · g[o]

every output sends its gradient back to the inputs it read, with the weight it read them with; for
nearest, each input receives the sum of the gradients of the outputs that copied it. ``Aᵀ`` is as
sparse as ``A``: input ``i`` is read by a few neighbouring outputs (about ``2·O/I`` for linear). So
:func:`_transpose` lists, for each input, the outputs that read it and their weights — and the
backward is the forward's own gather-multiply-add with that table (no scatter, no ``np.add.at``).
For 2-D the axes are undone in reverse: H, then W. Integer scale factors make the gathers strided
views (``o // 2``, ``2·i + r``), which :func:`_gather` takes without copying.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from groundup.autograd import Function
from groundup.backend import xp
from groundup.functions.pooling import _adaptive_avg
from groundup.tensor import Tensor

_OPMATH = {np.dtype(np.float16): np.dtype(np.float32)}  # narrow floats are computed in float32


@dataclass(frozen=True)
class _Taps:
    """How one axis is resampled: ``y[o] = Σ_t weight[t][o] · x[index[t][o]]`` (weight None means 1).

    Each ``index[t]`` is an int64 array of the output size; ``n_in`` is the input size.
    """

    index: tuple[Any, ...]
    weight: tuple[Any, ...]
    n_in: int


# ------------------------------------------------------------------------------ source rules
def _scale(n_in: int, n_out: int, scale: float | None, T: Any) -> Any:
    """PyTorch's ``compute_scales_value<T>``: ``1 / scale_factor`` if one is given, else ``in / out``."""
    return T(1.0 / scale) if scale is not None and scale > 0 else T(n_in) / T(n_out)


def _half_pixel(r: Any, o: Any, opmath: Any) -> Any:
    """``r · (o + 0.5) - 0.5`` in ``opmath``, rounded once as PyTorch's compiled kernels do (the
    compiler fuses it into a multiply-add). For float32 the product is exact in float64, so
    computing there and rounding once reproduces PyTorch bit for bit."""
    if opmath == np.float32:
        return (np.float64(r) * (o.astype(np.float64) + 0.5) - 0.5).astype(np.float32)
    return r * (o + 0.5) - 0.5


def _nearest_taps(
    n_in: int, n_out: int, scale: float | None, exact: bool, vectorized: bool, opmath: Any
) -> _Taps | None:
    """PyTorch's nearest / nearest-exact source index for each output (None: the identity).

    PyTorch's CPU code has two nearest kernels whose index arithmetic differs in the last bit; which
    one runs depends on the shapes (see :func:`interpolate`). The *vectorized* 2-D kernel computes in
    float32 and copies when ``O == I`` / halves when ``O == 2·I`` whatever the scale factor says;
    the generic one computes in the input's precision and rounds to float32 before the floor. We
    follow the same choice, so that the same pixels are picked.
    """
    o = xp.arange(n_out)
    if vectorized:
        if not exact and n_out == n_in:
            return None
        if not exact and n_out == 2 * n_in:
            return _Taps((o >> 1,), (None,), n_in)
        s = _scale(n_in, n_out, scale, np.float32)
        if exact:  # floorf((o + 0.5) · s): a double product, rounded to float32 by floorf
            src = ((o + 0.5) * np.float64(s)).astype(np.float32)
        else:  # floorf(o · s) in float32
            src = o.astype(np.float32) * s
    else:
        T = opmath.type
        s = _scale(n_in, n_out, scale, T)
        oo = o.astype(opmath)
        if exact:  # floorf(max(s·(o + 0.5) - 0.5, 0) + 0.5)
            real = xp.maximum(_half_pixel(s, oo, opmath), T(0))
            src = (real.astype(np.float64) + 0.5).astype(np.float32)
        else:  # floorf(s · o)
            src = (s * oo).astype(np.float32)
    idx = xp.minimum(xp.floor(src).astype(np.int64), n_in - 1)
    if n_out == n_in and (idx == o).all():
        return None
    return _Taps((idx,), (None,), n_in)


def _linear_taps(
    n_in: int, n_out: int, scale: float | None, align_corners: bool, opmath: Any
) -> _Taps | None:
    """PyTorch's two-tap linear rule (``area_pixel_compute_source_index``) in ``opmath`` precision."""
    if n_out == n_in and not align_corners:
        return None  # PyTorch copies (even when a scale factor was given)
    T = opmath.type
    o = xp.arange(n_out, dtype=opmath)
    if align_corners:
        r = T(n_in - 1) / T(n_out - 1) if n_out > 1 else T(0)
        src = r * o
    else:
        r = _scale(n_in, n_out, scale, T)
        src = xp.maximum(_half_pixel(r, o, opmath), T(0))  # half-pixel centres, clamped at 0
    i0 = xp.minimum(xp.floor(src).astype(np.int64), n_in - 1)
    lam = xp.clip(src - i0.astype(opmath), T(0), T(1))  # weight of the right neighbour
    if n_out == n_in and (i0 == xp.arange(n_out)).all() and not lam.any():
        return None
    i1 = i0 + (i0 < n_in - 1)
    return _Taps((i0, i1), (T(1) - lam, lam), n_in)


# ------------------------------------------------------------------------------ the op
def _along(w: Any, axis: int) -> Any:
    """A (n,) weight vector shaped to broadcast along ``axis`` (a negative axis number)."""
    return w.reshape((-1,) + (1,) * (-axis - 1))


def _gather(x: Any, idx: Any, axis: int) -> Any:
    """``x`` at positions ``idx`` along ``axis``: a strided view when ``idx`` is an arithmetic
    progression (integer scale factors: ``o // 2``, ``2·o``, …), else a gather (``np.take``)."""
    n = idx.size
    step = int(idx[1] - idx[0]) if n > 1 else 1
    if step > 0 and idx[0] >= 0 and (n == 1 or (idx[1:] - idx[:-1] == step).all()):
        start = int(idx[0])
        return x[(Ellipsis, slice(start, start + step * (n - 1) + 1, step)) + (slice(None),) * (-axis - 1)]
    return xp.take(x, idx, axis=axis)


def _resample(x: Any, taps: _Taps, axis: int) -> Any:
    """``y[o] = Σ_t w_t[o] x[i_t[o]]`` along ``axis`` (a new array)."""
    y = None
    for idx, w in zip(taps.index, taps.weight):
        v = _gather(x, idx, axis)
        if w is not None:
            v = v * _along(w, axis)
        if y is None:
            y = v if v.base is None else v.copy()  # never a view of x
        else:
            y += v
    return y


def _transpose(taps: _Taps, n_out: int, dtype: Any) -> _Taps:
    """The same linear map read backwards, as gather taps: for each input ``i``, the outputs that read
    it and their weights (``dx[i] = Σ_r wt_r[i] g[pos_r[i]]``). An input read by fewer outputs than
    the most-read one gets weight-0 padding taps. Weights are in ``dtype``."""
    o = xp.concatenate([xp.arange(n_out)] * len(taps.index))
    i = xp.concatenate(taps.index)
    w = xp.concatenate([xp.ones(n_out, dtype=dtype) if wt is None else wt for wt in taps.weight])
    key = i * n_out + o  # sort by input, then output; merge repeated (i, o) pairs (the last pixel
    order = xp.argsort(key, kind="stable")  # reads x[I - 1] through both of its taps)
    key, o, i, w = key[order], o[order], i[order], w[order]
    first = xp.flatnonzero(xp.concatenate(([True], key[1:] != key[:-1])))
    w, o, i = xp.add.reduceat(w, first), o[first], i[first]
    counts = xp.bincount(i, minlength=taps.n_in)  # how many outputs read each input
    k = int(counts.max())
    rank = xp.arange(i.size) - (xp.cumsum(counts) - counts)[i]  # place among its input's readers
    pos = xp.zeros((taps.n_in, k), dtype=np.int64)
    wt = xp.zeros((taps.n_in, k), dtype=w.dtype)
    pos[i, rank], wt[i, rank] = o, w
    weights = tuple(None if (wt[:, r] == 1).all() else wt[:, r].copy() for r in range(k))
    return _Taps(tuple(pos[:, r].copy() for r in range(k)), weights, n_out)


class Interpolate(Function):
    """Separable resampling: along each spatial axis ``y[o] = Σ_t w_t[o] x[i_t[o]]``; backward
    ``dx[i] = Σ_t Σ_{o: i_t[o]=i} w_t[o] g[o]`` (the transposed gather), axis by axis in reverse."""

    def forward(ctx, x, *, taps):
        opmath = _OPMATH.get(x.dtype, x.dtype)
        y = x.astype(opmath, copy=False)
        nd = len(taps)
        for a in reversed(range(nd)):  # W first, then H
            if taps[a] is not None:
                y = _resample(y, taps[a], a - nd)
        ctx.taps, ctx.opmath = taps, opmath
        return y.astype(x.dtype) if y is x else y.astype(x.dtype, copy=False)

    def backward(ctx, g):
        dtype = g.dtype
        g = g.astype(ctx.opmath, copy=False)
        nd = len(ctx.taps)
        for a in range(nd):  # H first, then W: the forward steps undone in reverse
            if ctx.taps[a] is not None:
                g = _resample(g, _transpose(ctx.taps[a], g.shape[a - nd], g.dtype), a - nd)
        return g.astype(dtype, copy=False)


# ------------------------------------------------------------------------------ arguments
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def interpolate(
    input: Tensor,
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to ``size``, or by ``scale_factor``, with PyTorch's rules.

    Modes: ``'nearest'`` (PyTorch's legacy floor rule), ``'nearest-exact'``, ``'linear'`` (3-D),
    ``'bilinear'`` (4-D), ``'area'`` (adaptive average pooling). ``align_corners`` applies to the
    linear modes only (default False: half-pixel centres). Given a ``scale_factor``, the output size
    is ``floor(size · scale_factor)`` and the coordinate mapping uses ``1 / scale_factor`` itself,
    unless ``recompute_scale_factor=True``, which maps with ``in / out`` like an explicit ``size``.
    """
    return _interpolate("interpolate", input, size, scale_factor, mode, align_corners, recompute_scale_factor,
                        antialias)


def _interpolate(
    op: str, input: Tensor, size: Any, scale_factor: Any, mode: str, align_corners: bool | None,
    recompute_scale_factor: bool | None, antialias: bool,
) -> Tensor:
    """:func:`interpolate`, its errors named ``op`` (the function, or the ``Upsample`` layer)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if not isinstance(mode, str) or mode not in _MODES:
        raise NotImplementedError(
            f"{op}: unknown mode {mode!r}; expected one of nearest | linear | bilinear | bicubic | "
            "trilinear | area | nearest-exact"
        )
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                f"{op}: align_corners option can only be set with the interpolating modes: "
                f"linear | bilinear | bicubic | trilinear (interpolate got mode={mode!r})"
            )
    elif align_corners is None:
        align_corners = False
    shape = tuple(input.shape)
    if input.ndim not in (3, 4):
        raise NotImplementedError(
            f"{op}: groundup supports 3-D (N, C, L) and 4-D (N, C, H, W) inputs, got {input.ndim}-D "
            f"input of shape {shape} (mode {mode!r})"
            + ("; add a batch dimension with unsqueeze(0)" if input.ndim == 2 else "")
        )
    dim = input.ndim - 2
    spatial = shape[2:]

    # exactly one of size / scale_factor, expanded to one entry per spatial axis
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, Tensor):
            size = size.tolist()
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"{op}: Input and output must have the same number of spatial dimensions, but got input "
                    f"with spatial dimensions of {list(spatial)} and output size of {size}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                    "(o1, o2, ...,oK) format."
                )
            sizes = tuple(size)
        else:
            sizes = (size,) * dim
        if not all(_is_int(s) for s in sizes):
            raise TypeError(
                f"{op}: expected size to be an int or a tuple of {dim} ints, but got size {size!r} "
                f"with types {[type(s).__name__ for s in sizes]}"
            )
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size.")
        out = tuple(int(s) for s in sizes)
        scales: tuple[float | None, ...] = (None,) * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    f"{op}: Input and scale_factor must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(spatial)} and scale_factor of shape "
                    f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "scale_factor in (s1, s2, ...,sK) format."
                )
            factors = tuple(scale_factor)
        else:
            factors = (scale_factor,) * dim
        if not all(_is_number(f) and math.isfinite(f) for f in factors):
            raise TypeError(
                f"{op}: scale_factor must be a finite number or a tuple of {dim} of them, got "
                f"{scale_factor!r}"
            )
        out = tuple(int(n * float(f)) for n, f in zip(spatial, factors))  # floor for positive sizes
        # the factor itself drives the coordinate mapping, unless it is to be recomputed from sizes
        recompute = recompute_scale_factor or mode == "area"
        scales = (None,) * dim if recompute else tuple(float(f) for f in factors)
    else:
        raise ValueError(f"{op}: either size or scale_factor should be defined")

    if antialias:
        if not (mode == "bilinear" and dim == 2):
            raise ValueError(
                f"{op}: Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires "
                f"a 4-D tensor as input (interpolate got mode={mode!r} and a {input.ndim}-D input)"
            )
        raise NotImplementedError(f"{op}: antialias=True is not implemented in groundup")
    if mode in ("bicubic", "trilinear"):
        raise NotImplementedError(f"{op}: mode {mode!r} is not implemented in groundup (try 'bilinear')")
    if mode == "linear" and dim != 1:
        raise NotImplementedError(f"{op}: Got {input.ndim}D input of shape {shape}, but linear mode needs 3D input (N, C, L)")
    if mode == "bilinear" and dim != 2:
        raise NotImplementedError(
            f"{op}: Got {input.ndim}D input of shape {shape}, but bilinear mode needs 4D input (N, C, H, W)"
        )
    if input.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point input, got {input.dtype.name} (shape {shape}); convert it "
            "with .float()"
        )
    if mode == "area":  # adaptive average pooling (which allows an output size of 0)
        return _adaptive_avg(op, dim, input, out)
    if min(out) <= 0 or min(spatial) <= 0:
        names = ("W",) if dim == 1 else ("H", "W")
        fmt = lambda s: ", ".join(f"{n}: {v}" for n, v in zip(names, s))  # noqa: E731
        raise RuntimeError(
            f"{op}: Input and output sizes should be greater than 0, but got input ({fmt(spatial)}) "
            f"output ({fmt(out)})"
        )

    opmath = _OPMATH.get(input.data.dtype, input.data.dtype)
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        # PyTorch runs its vectorized 2-D kernel when the output is small (H_out + W_out <= 128), its
        # generic kernel otherwise (also for channels-last inputs with C > 3, which for C-contiguous
        # arrays means 1×1 planes — where every rule picks pixel 0 anyway)
        vectorized = dim == 2 and sum(out) <= 128
        taps = tuple(
            _nearest_taps(n, m, s, exact, vectorized, opmath) for n, m, s in zip(spatial, out, scales)
        )
    else:
        taps = tuple(_linear_taps(n, m, s, align_corners, opmath) for n, m, s in zip(spatial, out, scales))
    return Interpolate.apply(input, taps=taps)


# ------------------------------------------------------------------ deprecated aliases
def _deprecated(name: str) -> None:
    warnings.warn(
        f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3
    )


def upsample(
    input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Deprecated alias of :func:`interpolate` (warns, as PyTorch does)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]
