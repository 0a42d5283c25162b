"""Convolution: ``conv1d``/``conv2d``, their transposes, and ``unfold``/``fold`` (im2col / col2im).

The forward pass, written out
-----------------------------
A (2-D, cross-correlation) convolution with stride ``s``, dilation ``d`` and zero padding slides a
``kh x kw`` kernel over the padded input ``x̃`` (N, C, Hp, Wp)::

    y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · x̃[n, c, s·i + d·p, s·j + d·q]        (1)

for output rows ``i < Ho = (Hp - d·(kh-1) - 1) // s + 1`` (likewise columns). With ``groups=G``
the channels split into G equal groups and output channel ``o`` only sums over the ``C/G`` input
channels of its own group.

im2col turns (1) into one matrix product. Copy every window into a column::

    X[(c,p,q), (n,i,j)] = x̃[n, c, s·i + d·p, s·j + d·q]        X: (C·kh·kw, N·Ho·Wo)

and read the weight as a matrix ``W`` (O, C·kh·kw). Then (1) is ``Y = W X + b``: one GEMM, which
BLAS runs at full speed. The copy is the price: X holds every input pixel kh·kw times.

The backward pass, derived
--------------------------
Let ``G[o,(n,i,j)] = ∂L/∂y[n,o,i,j]`` be the upstream gradient as an (O, N·Ho·Wo) matrix.

* Bias: ``b[o]`` is added to every output of channel o, so ``∂L/∂b[o] = Σ_{n,i,j} G[o,(n,i,j)]``.
* Weight: ``y`` is linear in ``w`` with coefficient ``X``, so
  ``∂L/∂w[o,c,p,q] = Σ_{n,i,j} G[o,(n,i,j)] · X[(c,p,q),(n,i,j)]``, i.e. ``dW = G Xᵀ``: one GEMM,
  a correlation of the input with the gradient.
* Input: first the gradient with respect to the columns, ``dX = Wᵀ G`` (C·kh·kw, N·Ho·Wo), one
  GEMM. Every entry of X is a copy of one padded pixel, and a copied value's gradient is the sum
  of the gradients of its copies::

      ∂L/∂x̃[n,c,h,v] = Σ_{p,q,i,j : s·i+d·p = h, s·j+d·q = v} dX[(c,p,q),(n,i,j)]

  That sum is col2im: for each kernel offset (p, q), add the (N, C, Ho, Wo) slab ``dX[(c,p,q),·]``
  into the padded gradient at rows ``d·p + s·i`` and columns ``d·q + s·j`` (a strided slice, so
  kh·kw vectorised adds), then drop the padding. Written out, each input pixel collects
  ``w[o,c,p,q]·G`` from every output whose window covered it: a *transposed convolution* of the
  gradient with the same weight (equivalently, for stride 1, a convolution with the kernel
  flipped and the in/out channel axes swapped).

Transposed convolution is that input-gradient map used as a layer: ``conv_transpose(x, w) =
col2im(Wᵀ x)``, with the weight laid out (in, out/G, kh, kw) so it is exactly the ``W`` of the
convolution it transposes. Its backward is the adjoint of an adjoint: the input gradient is the
ordinary convolution ``W · im2col(g)`` and the weight gradient the correlation ``x · im2col(g)ᵀ``.
So the whole module has two engines, :func:`_forward_pass` (im2col, then ``W X`` and/or ``G Xᵀ``)
and :func:`_transpose_pass` (``Wᵀ G``, then col2im; for stride 1 the same map computed as a
convolution with the flipped kernel, which is faster, see :func:`_flipped_geometry`), and each op
is a pairing of them:

    conv            forward:  y  = forward_pass(x, W)
                    backward: dx = transpose_pass(g, W);  dW = forward_pass(x, G=g)
    conv_transpose  forward:  y  = transpose_pass(x, W)
                    backward: dx, dW = forward_pass(g, W, G=x)  (one im2col of g serves both)

1-D convolutions are 2-D ones with H = kh = 1; unbatched inputs get a batch axis of 1.
``unfold``/``fold`` are im2col/col2im themselves, each the other's backward.

Speed and memory
----------------
The im2col matrix is kh·kw times the input (75 MB for a (32, 64, 32, 32) float32 input and a 3x3
kernel). The engines build it one block of images at a time into a work buffer of about
``_BLOCK`` elements, laid out (C·kh·kw, B, L) so that every GEMM reads its operands as they lie
(transposes and a ragged last block's row stride are BLAS arguments, not copies); block sizes
from 0.25 to 4 Mi elements were measured, 0.5 to 1 Mi were fastest (on the benchmark layer one
image is already 0.6 Mi, so those sizes give blocks of one image). Note that the block size sets
dW's summation order, so changing it changes results in the last bits. The backward pass rebuilds
the columns rather than keeping them from the forward pass: keeping them would hold 75 MB per
layer of the benchmark network from forward to backward, in fresh memory the kernel must
page-fault in, which costs about what a second block-wise build does.

*Wide columns.* Copying the window view (N, C, kh, kw, Ho, Wo) copies runs only Wo elements long,
and NumPy pays per run: on 7- to 28-pixel maps that copy took as long as half the GEMM. The wide
layout (:func:`_layout`) first splits the padded input into its stride phases (one plane for
stride 1), so that every kernel offset's columns are one contiguous slice of a flattened plane,
Ho whole rows of Wz >= Wo pixels: kh·kw copies of long runs. The price is Wz - Wo padding
columns per output row that the GEMM computes and nobody keeps (6% on the benchmark layer, 40% on
LeNet's C3); it is used while rows are at most ``_WIDE`` times longer than exact ones. Measured
(one thread): building the columns of a (128, 16, 28, 28) 3x3 layer went from 3.9 to 1.4 ms, the
col2im input gradient of LeNet's C3 from 2.8 to 1.7 ms. The padding columns of G are kept zero,
so they add ``0 · x`` to dW and ``Wᵀ · 0`` to the col2im sums, which is exactly nothing unless
x or W holds an inf or NaN: a non-finite dW is recomputed with exact columns, and a non-finite
W makes col2im use them, so such values land where PyTorch puts them.

*Work arrays are kept* (:func:`_work`): the column, padded-input and staging buffers are carved
from per-thread buffers that live from call to call. A fresh multi-megabyte NumPy array is new
memory that the kernel maps page by page on first touch (measured: about 2,000 page faults per
LeNet-5 training step, several milliseconds); the kept buffers are already mapped. They never
leave the engine, so results never alias them.

*Which engine for dx.* For stride 1 the input gradient is a convolution of G with the flipped
kernel (:func:`_flipped_geometry`), one im2col of G instead of kh·kw read-modify-write adds;
it builds O·kh·kw rows where col2im multiplies C·kh·kw, so it is used when O <= C (measured on
the benchmark layer, O = C: 23 -> 18 ms); otherwise, and for strides > 1, col2im. *1x1
convolutions* with stride 1 and no padding need no im2col at all: each image's (C, H·W) pixels are
its columns, one GEMM per image straight into y (:func:`_pointwise`).

Groups are a batch of G GEMMs, ``(G, O/G, C/G·kh·kw) @ (G, C/G·kh·kw, B·Ho·Wo)``, one
``np.matmul`` call. That includes depthwise convolutions (``groups == C_in == C_out``), whose
GEMMs are matrix-vector products with kh·kw-long rows. A direct multiply-accumulate over the kh·kw
kernel offsets (``y += w[:, p, q] · window_pq``, no im2col copy) looks cheaper but measured three
times slower on a (32, 64, 32, 32) depthwise 3x3 layer (75 vs 25 ms forward+backward): each of its
strided adds walks rows only Wo elements long, and NumPy's per-row overhead dominates, while the
im2col copy is one fast strided copy and BLAS does the rest. float16 is computed in float32.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any, NamedTuple

import numpy as np

from groundup.autograd import Function
from groundup.backend import xp
from groundup.tensor import Tensor

_ACC = {np.dtype(np.float16): np.dtype(np.float32)}  # compute dtype for narrow floats
_BLOCK = 1 << 20  # elements of the im2col buffer per block of images (4 MiB of float32), measured
_SCRATCH_MAX = 1 << 26  # bytes: larger work arrays are allocated per call instead of kept
_WIDE = 1.5  # wide columns when their rows are at most this many times longer than exact ones, measured


# ------------------------------------------------------------------------------ geometry
class _Geom(NamedTuple):
    """Where a kh x kw kernel sits over a 2-D input: the data both engines need.

    ``pad`` is (top, bottom, left, right): equal pairs, except 'same' padding with an odd total,
    which puts the extra row/column at the bottom/right as PyTorch does. ``in_size`` is the input
    before padding and ``out_size`` the number of window positions (Ho, Wo).
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad: tuple[int, int, int, int]
    in_size: tuple[int, int]
    out_size: tuple[int, int]

    @property
    def padded(self) -> tuple[int, int]:
        (h, w), (t, b, l, r) = self.in_size, self.pad
        return h + t + b, w + l + r

    @property
    def pointwise(self) -> bool:
        """A 1x1 kernel with stride 1 and no padding: each image's (C, H·W) pixels already are its columns."""
        return self.kernel == (1, 1) and self.stride == (1, 1) and not any(self.pad)


def _windows(xp_: Any, geom: _Geom) -> Any:
    """The read-only view ``win[n, c, p, q, i, j] = x̃[n, c, s_h·i + d_h·p, s_w·j + d_w·q]``.

    ``xp_`` is a padded (N, C, Hp, Wp) array; the view is (N, C, kh, kw, Ho, Wo) and copies nothing:
    moving one kernel offset moves ``d`` pixels, moving one output position moves ``s`` pixels.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    n_, c_, h_, w_ = xp_.strides
    shape = xp_.shape[:2] + (kh, kw, ho, wo)
    strides = (n_, c_, dh * h_, dw * w_, sh * h_, sw * w_)
    return np.lib.stride_tricks.as_strided(xp_, shape, strides, writeable=False)


def _scatter_windows(dst: Any, cols: Any, geom: _Geom) -> None:
    """col2im: ``dst[n, c, s_h·i + d_h·p, s_w·j + d_w·q] += cols[n, c, p, q, i, j]``, in place.

    ``dst`` is a padded (N, C, Hp, Wp) array and ``cols`` any (N, C, kh, kw, Ho, Wo) array. Windows
    overlap, so a pixel may receive from several (p, q); within one offset the targets are distinct,
    so one strided ``+=`` per offset is exact: kh·kw vectorised adds.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    for p in range(kh):
        rows = slice(dh * p, dh * p + sh * (ho - 1) + 1, sh)
        for q in range(kw):
            dst[:, :, rows, dw * q : dw * q + sw * (wo - 1) + 1 : sw] += cols[:, :, p, q]


def _interior(xp_: Any, geom: _Geom) -> Any:
    """The unpadded part of a padded (N, C, Hp, Wp) array (a view)."""
    (h, w), (t, _, l, _) = geom.in_size, geom.pad
    return xp_[:, :, t : t + h, l : l + w]


def _padded(x: Any, geom: _Geom) -> Any:
    """``x`` (N, C, H, W) with zero padding, as a new array (``x`` itself when there is none)."""
    if not any(geom.pad):
        return x
    out = xp.zeros(x.shape[:2] + geom.padded, dtype=x.dtype)
    _interior(out, geom)[...] = x
    return out


# ------------------------------------------------------------------------------- layouts
class _Layout(NamedTuple):
    """How the engines lay out the columns of one geometry (see "Speed and memory" above).

    The input of each block of images is first written into a zeroed buffer Z of shape
    (B, C, *phases, *plane). ``wide`` layouts split the padded input into its ``phases``
    (sh x sw stride phases, each a plane of ``plane`` = (Hz + 1, Wz) pixels: one spare row), so
    that every kernel offset's column run is one contiguous slice of a flattened phase plane:
    ``offsets[k] = (a, e, start)`` is its phase and where the slice starts. Such a layout has
    ``Wz`` columns per output row, the last ``Wz - Wo`` of them padding that no output keeps.
    Exact layouts (phases (1, 1), plane = the padded input) have exactly Ho·Wo columns per image,
    copied from the window view. ``length`` is the number of columns per image.
    """

    wide: bool
    phases: tuple[int, int]
    plane: tuple[int, int]
    offsets: tuple[tuple[int, int, int], ...]
    length: int


@functools.lru_cache(maxsize=256)
def _layout(geom: _Geom, exact: bool = False) -> _Layout:
    """The wide layout when its rows (Wz) are at most ``_WIDE`` times the exact ones (Wo), else exact.

    Window ``(i, j)`` reads ``x̃[s·i + d·p, s·j + d·q]``; writing ``d·p = s·u + a`` (a < s) and
    ``d·q = s·v + e``, that is pixel ``(i + u, j + v)`` of phase ``(a, e)``, the plane
    ``x̃[a::s, e::s]`` of ``Hz x Wz`` pixels. Flattened row-major, output ``(i, j)`` of offset
    ``(p, q)`` is element ``(u·Wz + v) + (i·Wz + j)``: for ``j`` running on to ``Wz - 1`` the run is
    one slice. Columns ``j >= Wo`` read pixels no output uses, and the last offset's run ends
    before ``(Hz + 1)·Wz`` (since ``u <= Hz - Ho`` and ``v < Wz``), hence the spare row.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    hp, wp = geom.padded
    hz, wz = -(-hp // sh), -(-wp // sw)
    if exact or wz > _WIDE * wo:
        return _Layout(False, (1, 1), (hp, wp), (), ho * wo)
    offsets = []
    for p in range(kh):
        u, a = divmod(dh * p, sh)
        for q in range(kw):
            v, e = divmod(dw * q, sw)
            offsets.append((a, e, u * wz + v))
    return _Layout(True, (sh, sw), (hz + 1, wz), tuple(offsets), ho * wz)


def _phase_runs(size: int, pad: int, s: int) -> list[tuple[int, int, int]]:
    """Per phase a < s of a padded axis: (first input index, its index in the phase, count).

    Input index r sits at padded position r + pad, in phase (r + pad) % s at (r + pad) // s.
    """
    runs = []
    for a in range(s):
        r0 = (a - pad) % s
        runs.append((r0, (r0 + pad - a) // s, len(range(r0, size, s))))
    return runs


@functools.lru_cache(maxsize=256)
def _phase_pairs(geom: _Geom, lay: _Layout) -> tuple[tuple[tuple[slice, slice], tuple[int, int, slice, slice]], ...]:
    """Matching (input rows, cols) and (phase a, phase e, rows, cols) slices: x ↔ Z's interior."""
    (h, w), (t, _, l, _), (sh, sw) = geom.in_size, geom.pad, lay.phases
    pairs = []
    for a, (r0, u0, nr) in enumerate(_phase_runs(h, t, sh)):
        for e, (c0, v0, nc) in enumerate(_phase_runs(w, l, sw)):
            if nr and nc:
                pairs.append(((slice(r0, None, sh), slice(c0, None, sw)),
                              (a, e, slice(u0, u0 + nr), slice(v0, v0 + nc))))
    return tuple(pairs)


def _load(z: Any, x: Any, pairs: tuple) -> None:
    """Write the (B, C, H, W) block ``x`` into the interior of the zero-bordered buffer ``z``."""
    for (rows, cols), (a, e, u, v) in pairs:
        z[:, :, a, e, u, v] = x[:, :, rows, cols]


def _unload(dst: Any, z: Any, pairs: tuple) -> None:
    """The inverse of :func:`_load`: copy ``z``'s interior into the (B, C, H, W) array ``dst``."""
    for (rows, cols), (a, e, u, v) in pairs:
        dst[:, :, rows, cols] = z[:, :, a, e, u, v]


def _im2col(cols: Any, src: Any, geom: _Geom, lay: _Layout) -> None:
    """Fill ``cols`` (C, kh·kw, B, L), a view into the column buffer, from the block ``src``.

    ``src`` is the (B, C, *phases, *plane) buffer Z, or for an exact layout without padding the
    (B, C, H, W) input itself. Wide: one copy of C·B contiguous runs per kernel offset (for stride
    1 the runs of all offsets form one strided view, so one copy in all). Exact: one copy from the
    window view, whose innermost runs are only Wo long.
    """
    b, c = src.shape[:2]
    if lay.wide and lay.phases == (1, 1):  # runs start at p·d_h·Wz + q·d_w: one strided view, one copy
        (kh, kw), (dh, dw), wz = geom.kernel, geom.dilation, lay.plane[1]
        zf = src.reshape(b, c, -1)  # (B, C, (Hz + 1)·Wz)
        sb, sc, se = zf.strides
        runs = np.lib.stride_tricks.as_strided(
            zf, (c, kh, kw, b, lay.length), (sc, dh * wz * se, dw * se, sb, se), writeable=False
        )
        xp.copyto(cols.reshape(c, kh, kw, b, lay.length), runs)
    elif lay.wide:
        zf = src.reshape(b, c, *lay.phases, -1)
        for k, (a, e, start) in enumerate(lay.offsets):
            xp.copyto(cols[:, k], zf[:, :, a, e, start : start + lay.length].transpose(1, 0, 2))
    else:
        (kh, kw), (ho, wo) = geom.kernel, geom.out_size
        src = src[:, :, 0, 0] if src.ndim == 6 else src
        xp.copyto(cols.reshape(c, kh, kw, b, ho, wo), _windows(src, geom).transpose(1, 2, 3, 0, 4, 5))


def _col2im(z: Any, dcols: Any, geom: _Geom, lay: _Layout) -> None:
    """The adjoint of :func:`_im2col`: add the column gradients ``dcols`` (C, kh·kw, B, L) into ``z``.

    Windows overlap, so a pixel may receive from several kernel offsets; within one offset the
    targets are distinct, so one vectorised ``+=`` per offset is exact.
    """
    b, c = z.shape[:2]
    if lay.wide:
        zf = z.reshape(b, c, *lay.phases, -1)
        for k, (a, e, start) in enumerate(lay.offsets):
            zf[:, :, a, e, start : start + lay.length] += dcols[:, k].transpose(1, 0, 2)
    else:
        (kh, kw), (ho, wo) = geom.kernel, geom.out_size
        dst = z[:, :, 0, 0] if z.ndim == 6 else z
        _scatter_windows(dst, dcols.reshape(c, kh, kw, b, ho, wo).transpose(3, 0, 1, 2, 4, 5), geom)


def _rows(buf: Any, geom: _Geom) -> Any:
    """The (B, O, Ho, Wo) outputs inside a (O, B, L) GEMM result (a view; drops wide padding)."""
    o, b = buf.shape[:2]
    ho, wo = geom.out_size
    return buf.reshape(o, b, ho, -1)[..., :wo].transpose(1, 0, 2, 3)


def _stage(g_buf: Any, gs: Any, geom: _Geom, groups: int) -> Any:
    """The (B, O, Ho, Wo) gradient block ``gs`` as a GEMM operand (G, O/G, B·L).

    Copied into the staging buffer ``g_buf`` (O, B_max, L), whose wide padding columns stay zero;
    without one (a single image, exact layout) ``gs`` already is (O, Ho·Wo) and is only reshaped.
    """
    b, o = gs.shape[:2]
    if g_buf is None:
        return gs.reshape(groups, o // groups, -1)
    gb = g_buf[:, :b]  # (O, B, L)
    xp.copyto(_rows(gb, geom), gs)
    return gb.reshape(groups, o // groups, -1)


class _Scratch(threading.local):
    """Work arrays kept from call to call, one per role, per thread (see "Speed and memory")."""

    def __init__(self) -> None:
        self.arrays: dict[str, Any] = {}


_scratch = _Scratch()


def _work(role: str, shape: tuple[int, ...], dtype: Any, zero: bool = False) -> Any:
    """A work array of ``shape`` for ``role`` ("z", "cols", "y", "g"), carved from a kept buffer.

    Never returned to the caller: each engine call uses its roles' arrays only until it returns,
    and no two arrays in use at once share a role. Buffers above ``_SCRATCH_MAX`` bytes are not
    kept. ``zero`` clears it (a reused buffer holds the previous call's data).
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _SCRATCH_MAX:
        return xp.zeros(shape, dtype=dtype) if zero else xp.empty(shape, dtype=dtype)
    buf = _scratch.arrays.get(role)
    if buf is None or buf.size < nbytes:
        buf = _scratch.arrays[role] = xp.empty(nbytes, dtype=np.uint8)
    out = buf[:nbytes].view(dtype).reshape(shape)
    if zero:
        out.fill(0)
    return out


def _blocks(n: int, per_image: int) -> list[slice]:
    """Slices of the batch ``range(n)`` holding about ``_BLOCK`` im2col elements each."""
    b = max(1, _BLOCK // max(per_image, 1))
    return [slice(i, min(i + b, n)) for i in range(0, n, b)]


# ------------------------------------------------------------------------------- engines
def _forward_pass(x: Any, geom: _Geom, groups: int, w: Any = None, g: Any = None, bias: Any = None,
                  exact: bool = False) -> tuple[Any, Any]:
    """im2col side: ``y = W X (+ b)`` if ``w`` is given, ``dW = G Xᵀ`` if ``g`` is given.

    ``x`` (N, C, H, W) is the unpadded input; ``w`` (O, C/G, kh, kw); ``g`` (N, O, Ho, Wo) the
    gradient of the output. Returns ``(y or None, dW or None)``. The columns X of each block of
    images are built once, into one reused buffer, and used by both products. In a wide layout
    the gradient's padding columns are zero, so they add ``0 · x`` to dW: exactly nothing unless
    an input is inf or NaN, which then shows in dW; such a dW is recomputed with exact columns.
    """
    if geom.pointwise:
        return _pointwise(x, groups, w, g, bias)
    n, c = x.shape[:2]
    o = w.shape[0] if w is not None else g.shape[1]
    og, (kh, kw), (ho, wo) = o // groups, geom.kernel, geom.out_size
    lay = _layout(geom, exact)
    kk, length = kh * kw, lay.length
    ck = c // groups * kk  # rows of X per group
    blocks = _blocks(n, c * kk * length)
    bmax = blocks[0].stop if blocks else 0
    dt = x.dtype
    direct = not lay.wide and not any(geom.pad)  # exact columns straight from x, no buffer Z
    pairs = None if direct else _phase_pairs(geom, lay)
    z = None if direct else _work("z", (bmax, c) + lay.phases + lay.plane, dt, zero=True)  # border stays 0
    col_buf = _work("cols", (c, kk, bmax, length), dt)
    staged = bmax > 1 or lay.wide  # else one image, exact: y and g already are (O, Ho·Wo) matrices
    y = dw = y_buf = g_buf = None
    if w is not None:
        w3 = xp.ascontiguousarray(w.reshape(groups, og, ck))  # (G, O/G, C/G·kh·kw), BLAS-ready
        y = xp.empty((n, o, ho, wo), dtype=dt)
        y_buf = _work("y", (o, bmax, length), dt) if staged else None
    if g is not None:
        dw = xp.zeros((groups, og, ck), dtype=dt)  # (G, O/G, C/G·kh·kw)
        g_buf = _work("g", (o, bmax, length), dt, zero=True) if staged else None  # padding columns stay 0
    for s in blocks:
        b = s.stop - s.start
        src = x[s]
        if z is not None:
            src = z[:b]
            _load(src, x[s], pairs)
        cols = col_buf[:, :, :b]  # (C, kh·kw, B, L); a strided view when b < bmax
        _im2col(cols, src, geom, lay)
        cols = cols.reshape(groups, ck, b * length)  # (G, C/G·kh·kw, B·L)
        if w is not None and y_buf is None:
            yb = y[s].reshape(groups, og, length)
            xp.matmul(w3, cols, out=yb)  # (G, O/G, Ho·Wo) = W X, in y's own layout
            if bias is not None:
                yb += bias.reshape(groups, og, 1)
        elif w is not None:
            yb = y_buf[:, :b]  # (O, B, L)
            xp.matmul(w3, cols, out=yb.reshape(groups, og, b * length))  # W X
            if bias is None:
                xp.copyto(y[s], _rows(yb, geom))
            else:
                xp.add(_rows(yb, geom), bias[:, None, None], out=y[s])
        if g is not None:
            gb = _stage(g_buf, g[s], geom, groups)  # (G, O/G, B·L)
            dw += xp.matmul(gb, cols.transpose(0, 2, 1))  # (G, O/G, C/G·kh·kw) += G Xᵀ
    if dw is not None:
        if lay.wide and not xp.isfinite(dw).all():
            return _forward_pass(x, geom, groups, w, g, bias, exact=True)
        dw = dw.reshape(o, c // groups, kh, kw)
    return y, dw


def _pointwise(x: Any, groups: int, w: Any = None, g: Any = None, bias: Any = None) -> tuple[Any, Any]:
    """:func:`_forward_pass` of a 1x1 convolution with stride 1 and no padding: no im2col at all.

    Each image's (C, H·W) pixels already are its columns, so ``y[n] = W x[n]`` is one GEMM per
    image written straight into y, and ``dW = Σ_n g[n] x[n]ᵀ``.
    """
    n, c, h, wd = x.shape
    xs = x.reshape(n, groups, c // groups, h * wd)  # (N, G, C/G, L)
    y = dw = None
    if w is not None:
        o = w.shape[0]
        y = xp.empty((n, o, h, wd), dtype=x.dtype)
        xp.matmul(w.reshape(groups, o // groups, c // groups), xs, out=y.reshape(n, groups, o // groups, h * wd))
        if bias is not None:
            y += bias[:, None, None]
    if g is not None:
        o = g.shape[1]
        gs = g.reshape(n, groups, o // groups, h * wd)  # (N, G, O/G, L)
        dw = xp.zeros((groups, o // groups, c // groups), dtype=x.dtype)
        for i in range(n):
            dw += xp.matmul(gs[i], xs[i].transpose(0, 2, 1))  # (G, O/G, C/G)
        dw = dw.reshape(o, c // groups, 1, 1)
    return y, dw


def _transpose_pass(g: Any, w: Any, geom: _Geom, groups: int, x_shape: tuple[int, ...]) -> Any:
    """col2im side: ``dx = col2im(Wᵀ G)`` of shape ``x_shape`` (N, C, H, W).

    ``g`` (N, O, Ho, Wo), ``w`` (O, C/G, kh, kw). Block by block: one GEMM gives the column
    gradients of B images, which are added into a zeroed buffer Z and its interior copied out (or
    added straight into ``dx`` for exact columns without padding). In a wide layout the padding
    columns of G are zero, so their column gradients are ``Wᵀ · 0 = 0`` and add nothing, as long
    as W is finite (else the exact layout is used).
    """
    n, c = x_shape[:2]
    o = w.shape[0]
    og, (kh, kw), (ho, wo) = o // groups, geom.kernel, geom.out_size
    if geom.pointwise:
        w3t = w.reshape(groups, og, c // groups).transpose(0, 2, 1)  # (G, C/G, O/G)
        return xp.matmul(w3t, g.reshape(n, groups, og, ho * wo)).reshape(x_shape)
    flipped = _flipped_geometry(geom) if o <= c else None
    if flipped is not None:  # a plain convolution with the flipped kernel (measured faster)
        w_flip = w.reshape(groups, og, c // groups, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        return _forward_pass(g, flipped, groups, w=w_flip.reshape(c, og, kh, kw))[0]
    lay = _layout(geom, exact=not xp.isfinite(w).all())
    kk, length = kh * kw, lay.length
    ck = c // groups * kk
    dt = g.dtype
    w3t = xp.ascontiguousarray(w.reshape(groups, og, ck).transpose(0, 2, 1))  # (G, C/G·kh·kw, O/G)
    blocks = _blocks(n, c * kk * length)
    bmax = blocks[0].stop if blocks else 0
    direct = not lay.wide and not any(geom.pad)  # add straight into dx
    dx = xp.zeros(x_shape, dtype=dt) if direct else xp.empty(x_shape, dtype=dt)
    pairs = None if direct else _phase_pairs(geom, lay)
    z = None if direct else _work("z", (bmax, c) + lay.phases + lay.plane, dt)
    dcol_buf = _work("cols", (c, kk, bmax, length), dt)
    g_buf = _work("g", (o, bmax, length), dt, zero=True) if bmax > 1 or lay.wide else None  # padding columns stay 0
    for s in blocks:
        b = s.stop - s.start
        gb = _stage(g_buf, g[s], geom, groups)  # (G, O/G, B·L)
        dcols = dcol_buf[:, :, :b]  # (C, kh·kw, B, L)
        xp.matmul(w3t, gb, out=dcols.reshape(groups, ck, b * length))  # Wᵀ G
        if z is None:
            _col2im(dx[s], dcols, geom, lay)
        else:
            zb = z[:b]
            zb.fill(0)
            _col2im(zb, dcols, geom, lay)
            _unload(dx[s], zb, pairs)
    return dx


def _flipped_geometry(geom: _Geom) -> _Geom | None:
    """For stride 1, the convolution that computes the same map as col2im(Wᵀ ·), or None.

    With stride 1, ``dx̃[h] = Σ_p w[p] g[h - d·p]``: substituting ``p -> k-1-p`` turns this into a
    correlation of g with the flipped kernel, g padded by ``d·(k-1) - pad_top`` in front and
    whatever makes the output as long as the input (``H - Ho + pad_top``) behind. The weight
    also swaps its in/out channel axes (within each group). Building the columns of g is one
    copy per block, where col2im needs kh·kw strided read-modify-write adds: on the benchmark
    layer (64 -> 64 channels, 3x3, 32x32 images) the input gradient drops from 23 to 18 ms.
    Returns None for strides > 1, or when a padding would be negative (padding > d·(k-1)).
    """
    if geom.stride != (1, 1):
        return None
    (kh, kw), (dh, dw), (t, _, l, _) = geom.kernel, geom.dilation, geom.pad
    (h, w), (ho, wo) = geom.in_size, geom.out_size
    pads = (dh * (kh - 1) - t, h - ho + t, dw * (kw - 1) - l, w - wo + l)
    if min(pads) < 0:
        return None
    return _Geom(geom.kernel, (1, 1), geom.dilation, pads, geom.out_size, geom.in_size)


def _bias_grad(g: Any) -> Any:
    """``Σ_{n,i,j} g[n,o,i,j]`` as BLAS matrix-vector products: (N, O, L) @ ones(L), then over N."""
    n, o = g.shape[:2]
    g3 = g.reshape(n, o, -1)
    return (g3 @ xp.ones(g3.shape[2], dtype=g.dtype)).sum(axis=0)


# ----------------------------------------------------------------------------- Functions
def _to_4d(x: Any, nd: int, batched: bool) -> Any:
    """(N, C, *spatial) or unbatched (C, *spatial) as a 4-D (N, C, H, W) view (H = 1 for 1-D)."""
    if not batched:
        x = x[None]
    return x[:, :, None] if nd == 1 else x


def _from_4d(y: Any, nd: int, batched: bool) -> Any:
    if nd == 1:
        y = y[:, :, 0]
    return y if batched else y[0]


def _weight_4d(w: Any) -> Any:
    """A (O, C/G, k) 1-D weight as (O, C/G, 1, k); a 2-D one as it is."""
    return w.reshape(w.shape[:2] + (-1,) + w.shape[-1:])


def _compute(*arrays: Any) -> list[Any]:
    """Arrays in their compute dtype: float16 is worked in float32 (NumPy has no fast float16 GEMM)."""
    return [None if a is None else a.astype(_ACC.get(a.dtype, a.dtype), copy=False) for a in arrays]


class Conv(Function):
    """y = conv(x, w) + b (see the module docstring for the derivation);
    dx = col2im(Wᵀ G), dW = G Xᵀ, db = Σ_{n,i,j} G.

    Works on 4-D (N, C, H, W) views: 1-D convolutions have H = kh = 1 and unbatched inputs a batch
    of one. Saves only x and w: the columns X are rebuilt by the backward pass. (For stride 1,
    col2im(Wᵀ G) is computed as the equal convolution of G with the flipped kernel.)
    """

    def forward(ctx, x, w, b=None, *, geom, groups, nd, batched):
        ctx.save_for_backward(x, w)
        ctx.geom, ctx.groups, ctx.nd, ctx.batched, ctx.has_bias = geom, groups, nd, batched, b is not None
        x4, w4, b_ = _compute(_to_4d(x, nd, batched), _weight_4d(w), b)
        y, _ = _forward_pass(x4, geom, groups, w=w4, bias=b_)  # (N, O, Ho, Wo)
        return _from_4d(y, nd, batched).astype(x.dtype, copy=False)

    def backward(ctx, g):
        g = xp.ascontiguousarray(g)  # e.g. broadcast by a sum's backward: BLAS needs real strides
        x, w = ctx.saved_tensors
        nd, batched, geom, groups = ctx.nd, ctx.batched, ctx.geom, ctx.groups
        need = ctx.needs_input_grad
        x4, w4, g4 = _compute(_to_4d(x, nd, batched), _weight_4d(w), _to_4d(g, nd, batched))
        dx = dw = db = None
        if need[0]:
            dx = _from_4d(_transpose_pass(g4, w4, geom, groups, x4.shape), nd, batched)
        if need[1]:
            _, dw = _forward_pass(x4, geom, groups, g=g4)
            dw = dw.reshape(w.shape)
        if ctx.has_bias:
            db = _bias_grad(g4) if need[2] else None
            return dx, dw, db
        return dx, dw


class ConvTranspose(Function):
    """y = conv_transpose(x, w) + b = col2im(Wᵀ X) + b, the input-gradient map of a convolution;
    dx = conv(g, w) = W im2col(g), dW = X im2col(g)ᵀ, db = Σ_{n,i,j} g.

    ``geom`` describes the convolution being transposed: its input is this op's output (size
    ``in_size``, padded by ``padding``) and its window positions are this op's input pixels.
    """

    def forward(ctx, x, w, b=None, *, geom, groups, nd, batched):
        ctx.save_for_backward(x, w)
        ctx.geom, ctx.groups, ctx.nd, ctx.batched, ctx.has_bias = geom, groups, nd, batched, b is not None
        x4, w4, b_ = _compute(_to_4d(x, nd, batched), _weight_4d(w), b)
        out_shape = (x4.shape[0], w4.shape[1] * groups) + geom.in_size
        y = _transpose_pass(x4, w4, geom, groups, out_shape)  # (N, C_out, H_out, W_out)
        if b_ is not None:
            y += b_[:, None, None]  # y is always a fresh array here
        return _from_4d(y, nd, batched).astype(x.dtype, copy=False)

    def backward(ctx, g):
        g = xp.ascontiguousarray(g)  # e.g. broadcast by a sum's backward: BLAS needs real strides
        x, w = ctx.saved_tensors
        nd, batched, geom, groups = ctx.nd, ctx.batched, ctx.geom, ctx.groups
        need = ctx.needs_input_grad
        x4, w4, g4 = _compute(_to_4d(x, nd, batched), _weight_4d(w), _to_4d(g, nd, batched))
        dx, dw = _forward_pass(g4, geom, groups, w=w4 if need[0] else None, g=x4 if need[1] else None)
        dx = None if dx is None else _from_4d(dx, nd, batched)
        dw = None if dw is None else dw.reshape(w.shape)
        if ctx.has_bias:
            return dx, dw, (_bias_grad(g4) if need[2] else None)
        return dx, dw


def _unfold_array(x: Any, geom: _Geom) -> Any:
    """im2col of a whole (N, C, H, W) array: (N, C·kh·kw, Ho·Wo), as ``torch.nn.functional.unfold``."""
    cols = xp.ascontiguousarray(_windows(_padded(x, geom), geom))  # (N, C, kh, kw, Ho, Wo)
    return cols.reshape(x.shape[0], -1, geom.out_size[0] * geom.out_size[1])


def _fold_array(cols: Any, geom: _Geom) -> Any:
    """col2im of (N, C·kh·kw, Ho·Wo) columns: the (N, C, H, W) sum of the blocks, overlaps added."""
    (kh, kw), (ho, wo) = geom.kernel, geom.out_size
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    out = xp.zeros((n, c) + geom.padded, dtype=cols.dtype)
    _scatter_windows(out, cols.reshape(n, c, kh, kw, ho, wo), geom)
    return xp.ascontiguousarray(_interior(out, geom)) if any(geom.pad) else out


class Unfold(Function):
    """cols = im2col(x);  dx = col2im(g) (each pixel sums the gradients of its copies)."""

    def forward(ctx, x, *, geom, batched):
        ctx.geom, ctx.batched = geom, batched
        x4 = x if batched else x[None]
        out = _unfold_array(x4, geom)
        return out if batched else out[0]

    def backward(ctx, g):
        g3 = g if ctx.batched else g[None]
        dx = _fold_array(g3, ctx.geom)
        return dx if ctx.batched else dx[0]


class Fold(Function):
    """x = col2im(cols) (overlapping blocks summed);  dcols = im2col(g)."""

    def forward(ctx, cols, *, geom, batched):
        ctx.geom, ctx.batched = geom, batched
        c3 = cols if batched else cols[None]
        out = _fold_array(c3, geom)
        return out if batched else out[0]

    def backward(ctx, g):
        g4 = g if ctx.batched else g[None]
        dc = _unfold_array(g4, ctx.geom)
        return dc if ctx.batched else dc[0]


# ----------------------------------------------------------------------- argument checks
def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.data.shape)


def _ntuple(value: Any, nd: int, name: str, op: str) -> tuple[int, ...]:
    """An int, or a sequence of 1 or ``nd`` ints, as an ``nd``-tuple (PyTorch's ``_pair``)."""
    seq = value if isinstance(value, (tuple, list)) else (value,)
    out = []
    for v in seq:
        if isinstance(v, Tensor) and v.data.size == 1 and v.data.dtype.kind in "iu":
            v = v.item()
        if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{op}: {name} must be an int or a tuple of {nd} ints, got {value!r}")
        out.append(int(v))
    if len(out) == 1:
        out = out * nd
    if len(out) != nd:
        raise RuntimeError(
            f"{op}: expected {name} to be a single integer value or a list of {nd} values to match "
            f"the convolution dimensions, but got {name}={value!r}"
        )
    return tuple(out)


def _check_positive(values: tuple[int, ...], name: str, op: str) -> None:
    if any(v < 1 for v in values):
        raise RuntimeError(f"{op}: {name} must be >= 1 in every dimension, got {name}={values}")


def _check_operands(op: str, nd: int, input: Any, weight: Any, bias: Any, what: str) -> bool:
    """Types, dtypes and ranks of the operands; returns whether the input has a batch axis."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        sp = "L" if nd == 1 else "H, W"
        raise RuntimeError(
            f"{op}: expected a {nd + 1}-D (unbatched: C, {sp}) or {nd + 2}-D (batched: N, C, {sp}) "
            f"input, but got input of shape {_shape(input)}"
        )
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight {what}, but got weight of shape {_shape(weight)}")
    if input.data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype.name}; convert it with .float()")
    tensors = [("input", input), ("weight", weight)] + ([("bias", bias)] if bias is not None else [])
    if any(t.data.dtype != input.data.dtype for _, t in tensors):
        got = ", ".join(f"{n} {t.dtype.name}" for n, t in tensors)
        raise RuntimeError(f"{op}: input, weight and bias must have the same dtype, got {got}")
    return input.ndim == nd + 2


def _check_bias(op: str, bias: Any, out_channels: int, weight: Tensor) -> None:
    if bias is not None and _shape(bias) != (out_channels,):
        raise RuntimeError(
            f"{op}: given weight of shape {_shape(weight)}, expected bias to be 1-D with {out_channels} "
            f"elements (one per output channel), but got bias of shape {_shape(bias)}"
        )


def _check_groups(op: str, groups: Any) -> int:
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive integer, got groups={groups!r}")
    return int(groups)


def _geom_2d(kernel, stride, dilation, pads, in_size, out_size) -> _Geom:
    """Lift n-D (n = 1 or 2) geometry to the 2-D ``_Geom`` the engines use (H = kh = 1 for 1-D)."""
    if len(kernel) == 1:
        return _Geom((1,) + kernel, (1,) + stride, (1,) + dilation, (0, 0) + pads, (1,) + in_size, (1,) + out_size)
    return _Geom(kernel, stride, dilation, pads, in_size, out_size)


def _conv(op: str, nd: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    batched = _check_operands(op, nd, input, weight, bias, "(out_channels, in_channels/groups, *kernel_size)")
    groups = _check_groups(op, groups)
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    xs, ws = _shape(input), _shape(weight)
    c, spatial = xs[-nd - 1], xs[-nd:]
    o, kernel = ws[0], ws[2:]
    if c != ws[1] * groups:
        raise RuntimeError(
            f"{op}: given groups={groups} and weight of shape {ws}, expected input of shape {xs} to "
            f"have weight.shape[1] * groups = {ws[1] * groups} channels, but got {c} channels instead"
        )
    if o % groups:
        raise RuntimeError(f"{op}: out_channels (weight.shape[0] = {o}) must be divisible by groups={groups}")
    _check_bias(op, bias, o, weight)
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0,) * (2 * nd)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(
                    f"{op}: padding='same' is not supported for strided convolutions (stride={stride}); "
                    "give the padding explicitly"
                )
            pads = ()
            for k, d in zip(kernel, dilation):  # total d·(k-1); the odd one out goes at the end
                total = d * (k - 1)
                pads += (total // 2, total - total // 2)
        else:
            raise RuntimeError(f"{op}: invalid padding string {padding!r}; expected 'same', 'valid' or ints")
    else:
        pad = _ntuple(padding, nd, "padding", op)
        if any(p < 0 for p in pad):
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={pad}")
        pads = tuple(v for p in pad for v in (p, p))
    out = []
    for i in range(nd):
        padded = spatial[i] + pads[2 * i] + pads[2 * i + 1]
        span = dilation[i] * (kernel[i] - 1) + 1
        if span > padded:
            raise RuntimeError(
                f"{op}: kernel size {kernel} (dilation {dilation}: spans {span} in dimension {i}) is "
                f"larger than the padded input {tuple(s + pads[2 * j] + pads[2 * j + 1] for j, s in enumerate(spatial))} "
                f"(input {spatial}, padding {pads}); the kernel must fit inside the padded input"
            )
        out.append((padded - span) // stride[i] + 1)
    geom = _geom_2d(kernel, stride, dilation, pads, spatial, tuple(out))
    args = (input, weight) if bias is None else (input, weight, bias)
    return Conv.apply(*args, geom=geom, groups=groups, nd=nd, batched=batched)


def _conv_transpose(op: str, nd: int, input, weight, bias, stride, padding, output_padding, groups, dilation) -> Tensor:
    batched = _check_operands(op, nd, input, weight, bias, "(in_channels, out_channels/groups, *kernel_size)")
    groups = _check_groups(op, groups)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of {nd} ints, not a string ({padding!r})")
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    pad = _ntuple(padding, nd, "padding", op)
    out_pad = _ntuple(output_padding, nd, "output_padding", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    if any(p < 0 for p in pad) or any(p < 0 for p in out_pad):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={pad}, output_padding={out_pad}")
    for op_, s, d in zip(out_pad, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={out_pad}, stride={stride}, dilation={dilation}"
            )
    xs, ws = _shape(input), _shape(weight)
    c, spatial = xs[-nd - 1], xs[-nd:]
    kernel = ws[2:]
    if c != ws[0]:
        raise RuntimeError(
            f"{op}: given weight of shape {ws} (in_channels, out_channels/groups, *kernel_size), expected "
            f"input of shape {xs} to have weight.shape[0] = {ws[0]} channels, but got {c} channels instead"
        )
    if ws[0] % groups:
        raise RuntimeError(f"{op}: in_channels (weight.shape[0] = {ws[0]}) must be divisible by groups={groups}")
    _check_bias(op, bias, ws[1] * groups, weight)
    size = tuple(
        (h - 1) * s - 2 * p + d * (k - 1) + q + 1 for h, s, p, d, k, q in zip(spatial, stride, pad, dilation, kernel, out_pad)
    )
    if any(v < 1 for v in size):
        raise RuntimeError(
            f"{op}: the output size (in - 1)·stride - 2·padding + dilation·(kernel_size - 1) + output_padding + 1 "
            f"is {size} for input {spatial}, stride {stride}, padding {pad}, dilation {dilation}, kernel "
            f"{kernel}, output_padding {out_pad}; it must be positive (reduce the padding)"
        )
    pads = tuple(v for p in pad for v in (p, p))
    geom = _geom_2d(kernel, stride, dilation, pads, size, spatial)  # the convolution it transposes
    args = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose.apply(*args, geom=geom, groups=groups, nd=nd, batched=batched)


# ------------------------------------------------------------------------------ public ops
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of ``input`` (N, C_in, L) or (C_in, L) with ``weight``
    (C_out, C_in/groups, k). ``padding`` is an int, a 1-tuple, ``'valid'`` (0) or ``'same'``
    (output length = input length; stride 1 only). Output (N, C_out, L_out) with
    ``L_out = (L + 2·padding - dilation·(k - 1) - 1) // stride + 1``.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``input`` (N, C_in, H, W) or (C_in, H, W) with
    ``weight`` (C_out, C_in/groups, kH, kW), plus ``bias`` (C_out,). ``stride``, ``padding`` and
    ``dilation`` are ints or pairs; ``padding`` may also be ``'valid'`` or ``'same'`` (stride 1;
    an odd total padding puts the extra row/column at the bottom/right, as PyTorch does).
    See the module docstring for the im2col + GEMM forward and the derived backward.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-D transposed convolution: the input-gradient map of ``conv1d``. ``weight`` is
    (C_in, C_out/groups, k); output length ``(L - 1)·stride - 2·padding + dilation·(k - 1) +
    output_padding + 1``.
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution ("deconvolution"): the input-gradient map of ``conv2d``.

    ``input`` (N, C_in, H, W) or (C_in, H, W); ``weight`` (C_in, C_out/groups, kH, kW) as PyTorch.
    Each output size is ``(in - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1``;
    ``output_padding`` (smaller than the stride or the dilation) adds rows/columns at the end to
    pick one of the input sizes a strided convolution maps to the same output size.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def _fold_geom(op: str, kernel_size, dilation, padding, stride, size) -> _Geom:
    kernel = _ntuple(kernel_size, 2, "kernel_size", op)
    dil = _ntuple(dilation, 2, "dilation", op)
    pad = _ntuple(padding, 2, "padding", op)
    st = _ntuple(stride, 2, "stride", op)
    _check_positive(kernel, "kernel_size", op)
    _check_positive(dil, "dilation", op)
    _check_positive(st, "stride", op)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={pad}")
    blocks = tuple((s + 2 * p - d * (k - 1) - 1) // t + 1 for s, p, d, k, t in zip(size, pad, dil, kernel, st))
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"{op}: given spatial size {size}, kernel_size={kernel}, dilation={dil}, padding={pad}, "
            f"stride={st}, the number of sliding blocks would be {blocks}, but it must be at least 1 "
            "in each dimension (the dilated kernel must fit inside the padded input)"
        )
    return _Geom(kernel, st, dil, (pad[0], pad[0], pad[1], pad[1]), tuple(size), blocks)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """im2col: every sliding ``kernel_size`` block of ``input`` (N, C, H, W) as a column.

    Returns (N, C·kH·kW, L) with L the number of block positions, ordered as
    ``torch.nn.functional.unfold`` (channel, then kernel row, then kernel column; positions
    row-major). An unbatched (C, H, W) input gives (C·kH·kW, L). Its backward is :func:`fold`.
    """
    op = "unfold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"{op}: expected a 3-D (unbatched: C, H, W) or 4-D (batched: N, C, H, W) input, got shape {_shape(input)}"
        )
    geom = _fold_geom(op, kernel_size, dilation, padding, stride, _shape(input)[-2:])
    return Unfold.apply(input, geom=geom, batched=input.ndim == 4)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """col2im: sum columns (N, C·kH·kW, L) back into an image (N, C, *output_size).

    The inverse arrangement of :func:`unfold`: each column is a block put back at its position,
    and where blocks overlap their values are added. (C·kH·kW, L) gives an unbatched (C, H, W).
    """
    op = "fold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"{op}: expected a 2-D (unbatched: C·kH·kW, L) or 3-D (batched: N, C·kH·kW, L) input, got "
            f"shape {_shape(input)}"
        )
    size = _ntuple(output_size, 2, "output_size", op)
    geom = _fold_geom(op, kernel_size, dilation, padding, stride, size)
    ckk, length = _shape(input)[-2:]
    kk = geom.kernel[0] * geom.kernel[1]
    if ckk % kk:
        raise RuntimeError(
            f"{op}: expected size of input's dimension {input.ndim - 2} ({ckk}) to be divisible by the "
            f"product of kernel_size={geom.kernel} ({kk}), for input of shape {_shape(input)}"
        )
    n_blocks = math.prod(geom.out_size)
    if length != n_blocks:
        raise RuntimeError(
            f"{op}: given output_size={size}, kernel_size={geom.kernel}, dilation={geom.dilation}, "
            f"padding={geom.pad[::2]}, stride={geom.stride}, expected size of input's last dimension to "
            f"match the number of sliding blocks {geom.out_size[0]} * {geom.out_size[1]} = {n_blocks}, "
            f"but got {length} (input shape {_shape(input)})"
        )
    return Fold.apply(input, geom=geom, batched=input.ndim == 3)


__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]
