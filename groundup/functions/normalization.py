"""Layer, batch, group and instance normalization: fused forward and hand-derived backward.

Both normalise ``x`` to zero mean and unit variance over some axes, ``x̂ = (x - μ) / σ`` with
``σ = sqrt(var + eps)`` (the *biased* variance, dividing by n), then apply a learned per-feature
affine map ``y = γ ⊙ x̂ + β``. They differ only in which axes the statistics are taken over:

- layer norm: the trailing ``normalized_shape`` axes of each sample (γ, β have that shape);
- batch norm: every axis except the channel axis 1, i.e. over the batch (and over the length or
  the pixels for (N, C, L) / (N, C, H, W) inputs); γ, β have one entry per channel. It also keeps
  running averages of the statistics for evaluation;
- group norm: each sample's channels split into G groups, statistics over a group's channels and
  positions; γ, β per channel. Instance norm is group norm with G = C (one group per channel).

The backward through the statistics (the same for both; n values share one μ and σ)
----------------------------------------------------------------------------------
Write ``ĝ = dL/dx̂ = g ⊙ γ``. With ``var = (1/n) Σ_k (x_k - μ)²`` we get ``∂μ/∂x_i = 1/n`` and
``∂σ/∂x_i = (x_i - μ) / (n σ) = x̂_i / n`` (the μ-term of ∂var sums to zero), so::

    ∂x̂_j/∂x_i = (δ_ij - 1/n) / σ - (x_j - μ)/σ² · x̂_i/n = (1/σ) (δ_ij - 1/n - x̂_i x̂_j / n)

    dx_i = Σ_j ĝ_j ∂x̂_j/∂x_i = (1/(n σ)) (n ĝ_i - Σ_j ĝ_j - x̂_i Σ_j ĝ_j x̂_j)

Subtracting the mean of ĝ removes the part of the gradient that would only shift the mean, and
subtracting ``x̂ · mean(ĝ x̂)`` the part that would only rescale it: the normalisation is blind to
both, so they must not reach x. The affine parameters get ``dγ = Σ g ⊙ x̂`` and ``dβ = Σ g``,
summed over every axis where they are broadcast. In batch norm's evaluation mode the statistics
are constants (the running averages), so the backward is just the affine map: ``dx = g γ / σ``.

Speed: row and column sums go through BLAS (``x @ ones``), and row-wise dot products through
``einsum``; both are several times faster than ``x.sum(axis)`` on a 2-core CPU. Layer norm works
through big inputs one cache-sized block of rows at a time (see :func:`_row_blocks`). Group (and
instance) norm takes its statistics in one pass, var = E[x²] - μ², guarded against cancellation
(see :class:`GroupNorm`), and never forms x̂: forward and backward are per-row "scale, then shift"
maps of x and g, the fewest NumPy passes the maths allows. float16 inputs are computed in float32
(as PyTorch's CPU kernels do) and cast back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.autograd import Function
from groundup.backend import xp
from groundup.tensor import Tensor

_ACC = {np.dtype(np.float16): np.dtype(np.float32)}  # compute dtype for narrow floats


def _row_sum(a: Any) -> Any:
    """Sum of each row of a 2-D array, (M, N) -> (M,), as a BLAS matrix-vector product."""
    return a @ xp.ones(a.shape[1], dtype=a.dtype)


def _col_sum(a: Any) -> Any:
    """Sum of each column of a 2-D array, (M, N) -> (N,), as a BLAS vector-matrix product."""
    return xp.ones(a.shape[0], dtype=a.dtype) @ a


# ------------------------------------------------------------------------------- layer norm
_BLOCK = 1 << 17  # elements per block of rows (512 KiB of float32): temporaries stay in cache


def _row_blocks(m: int, n: int) -> list[slice]:
    """Slices of ``range(m)`` covering about ``_BLOCK`` elements each (rows of length ``n``).

    Working through a big (M, N) array one cache-sized block of rows at a time, every elementwise
    step after the first finds its operands in L2 cache and no whole-array temporaries are
    allocated; on a 2-core CPU that halves the time of whole-array NumPy passes. The maths is the
    same as if the block were the whole array.
    """
    r = max(1, _BLOCK // max(n, 1))
    return [slice(i, min(i + r, m)) for i in range(0, m, r)]


class LayerNorm(Function):
    """x̂ = (x - μ)/σ over the trailing axes of each row, y = γ x̂ + β;
    dx = (1/σ)(ĝ - mean(ĝ) - x̂ mean(ĝ x̂)) with ĝ = g γ;  dγ = Σ_rows g x̂;  dβ = Σ_rows g.

    The input is viewed as (M, N): M rows (the leading axes) of N = prod(normalized_shape) values.
    Only x, μ and 1/σ are saved; backward recomputes x̂ block by block (cheaper than storing it).
    """

    def forward(ctx, x, *params, n, eps, has_weight, has_bias):
        shape, dtype = x.shape, x.dtype
        m = math.prod(shape[: x.ndim - n])
        N = math.prod(shape[x.ndim - n :])
        x2 = x.reshape(m, N)  # (M, N)
        acc = _ACC.get(dtype)
        if acc is not None:
            x2 = x2.astype(acc)
        w = params[0].reshape(-1).astype(x2.dtype, copy=False) if has_weight else None  # (N,)
        b = params[-1].reshape(-1).astype(x2.dtype, copy=False) if has_bias else None  # (N,)
        y = xp.empty((m, N), dtype=x2.dtype)  # (M, N)
        rstd = xp.empty(m, dtype=x2.dtype)  # (M,)  1/σ per row
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = _row_sum(x2) / N  # (M,)
            for s in _row_blocks(m, N):
                yb = y[s]  # (R, N) block of the output, used as the work buffer
                xp.subtract(x2[s], mean[s, None], out=yb)  # centred
                var = xp.einsum("ij,ij->i", yb, yb) / N  # (R,) biased variance
                rstd[s] = 1.0 / xp.sqrt(var + eps)
                yb *= rstd[s, None]  # x̂
                if w is not None:
                    yb *= w
                if b is not None:
                    yb += b
        ctx.save_for_backward(x2, mean, rstd, w)
        ctx.shape, ctx.n, ctx.has_weight, ctx.has_bias = shape, n, has_weight, has_bias
        return y.reshape(shape).astype(dtype, copy=False)

    def backward(ctx, g):
        x2, mean, rstd, w = ctx.saved_tensors
        m, N = x2.shape
        g2 = g.reshape(m, N).astype(x2.dtype, copy=False)  # (M, N)
        need = ctx.needs_input_grad
        need_w = ctx.has_weight and need[1]
        dx = xp.empty((m, N), dtype=x2.dtype) if need[0] else None  # (M, N)
        dw = xp.zeros(N, dtype=x2.dtype) if need_w else None  # (N,)
        buf = xp.empty((min(m, max(1, _BLOCK // max(N, 1))), N), dtype=x2.dtype)
        with np.errstate(invalid="ignore"):
            for s in _row_blocks(m, N):
                xh = buf[: s.stop - s.start]  # (R, N)
                xp.subtract(x2[s], mean[s, None], out=xh)
                xh *= rstd[s, None]  # x̂, recomputed
                gb = g2[s]  # (R, N)
                if need_w:
                    dw += xp.einsum("ij,ij->j", gb, xh)  # Σ_rows g x̂
                if dx is None:
                    continue
                gh = dx[s]  # (R, N) work buffer: ĝ = g γ, then dx
                if w is not None:
                    xp.multiply(gb, w, out=gh)
                else:
                    gh[...] = gb
                mean_gh = _row_sum(gh) / N  # (R,)
                mean_ghx = xp.einsum("ij,ij->i", gh, xh) / N  # (R,)
                xh *= mean_ghx[:, None]
                gh -= xh
                gh -= mean_gh[:, None]
                gh *= rstd[s, None]
        pshape = ctx.shape[len(ctx.shape) - ctx.n :]  # normalized_shape
        grads: list[Any] = [None if dx is None else dx.reshape(ctx.shape)]
        if ctx.has_weight:
            grads.append(dw.reshape(pshape) if need_w else None)
        if ctx.has_bias:
            grads.append(_col_sum(g2).reshape(pshape) if need[-1] else None)  # Σ_rows g
        return tuple(grads) if len(grads) > 1 else grads[0]


def _normalized_shape(normalized_shape: Any, op: str) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        return (int(normalized_shape),)
    if isinstance(normalized_shape, Tensor):
        normalized_shape = normalized_shape.tolist()
    try:
        out = tuple(normalized_shape)
    except TypeError:
        raise TypeError(
            f"{op}: normalized_shape must be an int or a sequence of ints, got "
            f"{type(normalized_shape).__name__}"
        ) from None
    for s in out:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: normalized_shape must contain ints, got {normalized_shape!r}")
    return tuple(int(s) for s in out)


def _float_input(input: Any, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if input.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point input, got {input.dtype.name} (shape "
            f"{tuple(input.shape)}); convert it with .float()"
        )
    return input


def _check_param(p: Any, name: str, shape: tuple[int, ...], x: Tensor, op: str, what: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(p).__name__}")
    if tuple(p.shape) != shape:
        raise RuntimeError(
            f"{op}: expected {name} of shape {shape} ({what}), but got {name} of shape {tuple(p.shape)}"
        )
    if p.data.dtype != x.data.dtype:
        raise RuntimeError(
            f"{op}: mixed dtypes: input is {x.dtype.name} but {name} is {p.dtype.name}; all inputs "
            f"must share one dtype (convert with .to({x.dtype}))"
        )


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` axes, then scale and shift.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance; ``weight`` and
    ``bias`` (optional) have shape ``normalized_shape``. The normalisation that every transformer
    block uses (Ba et al., 2016, "Layer Normalization").
    """
    op = "layer_norm"
    x = _float_input(input, op)
    ns = _normalized_shape(normalized_shape, op)
    n = len(ns)
    if x.ndim < n or tuple(x.shape[x.ndim - n :]) != ns:
        raise RuntimeError(
            f"{op}: Given normalized_shape={list(ns)}, expected input with shape [*, "
            f"{', '.join(map(str, ns))}], but got input of size {list(x.shape)}"
        )
    params = []
    for p, name in ((weight, "weight"), (bias, "bias")):
        if p is not None:
            _check_param(p, name, ns, x, op, "the same shape as normalized_shape")
            params.append(p)
    return LayerNorm.apply(
        x, *params, n=n, eps=float(eps), has_weight=weight is not None, has_bias=bias is not None
    )


# ------------------------------------------------------------------------------- batch norm
def _channel_sum(a: Any) -> Any:
    """Sum over every axis but axis 1: (N, C, *) -> (C,)."""
    if a.ndim == 2:
        return _col_sum(a)
    n, c = a.shape[0], a.shape[1]
    return _col_sum(_row_sum(a.reshape(n * c, -1)).reshape(n, c))  # per (n, c) line, then over n


def _channel_dot(a: Any, b: Any) -> Any:
    """Σ a ⊙ b over every axis but axis 1: (N, C, *), (N, C, *) -> (C,)."""
    n, c = a.shape[0], a.shape[1]
    return xp.einsum("ncl,ncl->c", a.reshape(n, c, -1), b.reshape(n, c, -1))


def _channel_blocks(n: int, c: int, length: int) -> list[tuple[slice, slice]]:
    """(samples, channels) slices of an (N, C, L) array holding about ``_BLOCK`` elements each.

    Whole samples when one sample fits (C·L <= _BLOCK), else runs of channels of one sample: each
    block's temporaries stay in cache, as :func:`_row_blocks` does for layer norm.
    """
    if c * length <= _BLOCK:
        r = max(1, _BLOCK // max(c * length, 1))
        return [(slice(i, min(i + r, n)), slice(None)) for i in range(0, n, r)]
    r = max(1, _BLOCK // max(length, 1))
    return [(slice(i, i + 1), slice(j, min(j + r, c))) for i in range(n) for j in range(0, c, r)]


class BatchNorm(Function):
    """Training: x̂ = (x - μ_c)/σ_c with statistics over all axes but the channel axis 1,
    y = γ_c x̂ + β_c;  dx = (γ_c/(n σ_c)) (n g - Σ g - x̂ Σ g x̂)  (ĝ = g γ_c, γ_c constant per channel);
    evaluation: y = γ_c (x - running_mean_c)/sqrt(running_var_c + eps) + β_c, so dx = g γ_c / σ_c.
    Both: dγ_c = Σ g x̂,  dβ_c = Σ g.

    Training also updates the running statistics in place:
    ``running = (1 - momentum) * running + momentum * batch_stat`` with the *unbiased* variance.

    Speed: the input is viewed as (N, C, L) and worked through in cache-sized blocks
    (:func:`_channel_blocks`). The forward allocates only the output, ``y = x · (γ/σ) + (β - μ γ/σ)``
    per channel, and saves x, μ and 1/σ rather than a normalised copy: the backward recomputes
    ``x - μ`` block by block, as the variance does (two passes, no cancellation). Measured on a
    (128, 16, 28, 28) float32 batch inside a ResNet step, each fresh full-size array is about
    1,600 page faults, so one array fewer per call is a millisecond or more.
    """

    def forward(ctx, x, *params, training, momentum, eps, running_mean, running_var, has_weight, has_bias):
        dtype = x.dtype
        acc = _ACC.get(dtype)
        if acc is not None:
            x = x.astype(acc)
        c = x.shape[1]
        bshape = (1, c) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over (N, C, *)
        w = params[0].astype(x.dtype, copy=False) if has_weight else None
        b = params[-1].astype(x.dtype, copy=False) if has_bias else None
        n = x.size // c if c else 0  # values per channel
        if training:
            x3 = x.reshape(x.shape[0], c, -1) if x.size else x.reshape(x.shape[0], c, 0)  # (N, C, L)
            blocks = _channel_blocks(*x3.shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = _channel_sum(x) / n  # (C,)
                var = xp.zeros(c, dtype=x.dtype)  # (C,) biased variance, from the centred values
                for bn, bc in blocks:
                    t = x3[bn, bc] - mean[bc, None]  # (B, C', L) centred block, in cache
                    var[bc] += _channel_dot(t, t)
                var /= n
                rstd = 1.0 / xp.sqrt(var + eps)  # (C,)  1/σ
            if running_mean is not None:
                _update(running_mean, mean, momentum)
            if running_var is not None:
                _update(running_var, var * (n / (n - 1)) if n > 1 else var, momentum)
            scale = rstd * w if w is not None else rstd  # (C,)  γ/σ
            shift = -mean * scale  # (C,)
            if b is not None:
                shift += b
            y = xp.empty(x3.shape, dtype=x.dtype)  # (N, C, L)
            for bn, bc in blocks:
                yb = y[bn, bc]
                xp.multiply(x3[bn, bc], scale[bc, None], out=yb)
                yb += shift[bc, None]
            y = y.reshape(x.shape)
            ctx.save_for_backward(x3, mean, rstd, w)
        else:
            rm = running_mean.data.astype(x.dtype)  # a copy: later updates must not reach backward
            rstd = 1.0 / xp.sqrt(running_var.data.astype(x.dtype, copy=False) + eps)  # (C,)
            scale = rstd * w if w is not None else rstd  # (C,)
            shift = -rm * scale  # (C,)
            if b is not None:
                shift += b
            y = x * scale.reshape(bshape)
            y += shift.reshape(bshape)
            ctx.save_for_backward(x, rstd, w, rm)
        ctx.training, ctx.bshape, ctx.n, ctx.shape = training, bshape, n, x.shape
        ctx.has_weight, ctx.has_bias, ctx.dtype = has_weight, has_bias, dtype
        return y.astype(dtype, copy=False)

    def backward(ctx, g):
        need = ctx.needs_input_grad
        if ctx.training:
            return ctx._backward_training(g, need)
        bshape = ctx.bshape
        x, rstd, w, rm = ctx.saved_tensors
        g = g.astype(rstd.dtype, copy=False)
        grads: list[Any] = []
        if need[0]:
            k = rstd * w if w is not None else rstd  # (C,)  γ/σ
            grads.append(g * k.reshape(bshape))
        else:
            grads.append(None)
        if ctx.has_weight:
            grads.append(_channel_dot(g, (x - rm.reshape(bshape)) * rstd.reshape(bshape)) if need[1] else None)
        if ctx.has_bias:
            grads.append(_channel_sum(g) if need[-1] else None)
        return tuple(grads) if len(grads) > 1 else grads[0]

    def _backward_training(ctx, g, need):
        """dx = k (g - Σg/n) - k (x - μ) (Σ g x̂) / (n σ), k = γ/σ, block by block; dγ = Σ g x̂, dβ = Σ g."""
        x3, mean, rstd, w = ctx.saved_tensors
        n = ctx.n
        g3 = g.astype(rstd.dtype, copy=False).reshape(x3.shape)  # (N, C, L)
        blocks = _channel_blocks(*x3.shape)
        sum_g = _channel_sum(g3)  # (C,)  Σ g
        sum_gxh = xp.zeros_like(rstd)  # (C,)  Σ g x̂ = (Σ g (x - μ)) / σ
        for bn, bc in blocks:
            t = x3[bn, bc] - mean[bc, None]
            sum_gxh[bc] += _channel_dot(g3[bn, bc], t)
        sum_gxh *= rstd
        grads: list[Any] = []
        if need[0]:
            k = rstd * w if w is not None else rstd  # (C,)  γ/σ
            kx = -k * rstd * sum_gxh / n  # (C,)  coefficient of (x - μ)
            k0 = -k * sum_g / n  # (C,)  constant term
            dx = xp.empty(x3.shape, dtype=rstd.dtype)
            for bn, bc in blocks:
                db = dx[bn, bc]
                t = x3[bn, bc] - mean[bc, None]
                t *= kx[bc, None]
                xp.multiply(g3[bn, bc], k[bc, None], out=db)
                db += t
                db += k0[bc, None]
            grads.append(dx.reshape(ctx.shape))
        else:
            grads.append(None)
        if ctx.has_weight:
            grads.append(sum_gxh if need[1] else None)
        if ctx.has_bias:
            grads.append(sum_g if need[-1] else None)
        return tuple(grads) if len(grads) > 1 else grads[0]


def _update(running: Tensor, batch_stat: Any, momentum: float) -> None:
    """``running = (1 - momentum) * running + momentum * batch_stat``, in place (a new version)."""
    r = running.data
    r *= 1.0 - momentum
    r += (momentum * batch_stat).astype(r.dtype, copy=False)
    running._vc[0] += 1


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of an (N, C, *) input over the batch and the other axes.

    With ``training=True`` the batch's own mean and biased variance are used, and
    ``running_mean``/``running_var`` (if given) are updated in place with ``momentum`` and the
    unbiased variance; with ``training=False`` the running statistics are used instead (Ioffe &
    Szegedy, 2015, "Batch Normalization"). ``weight``/``bias`` are per-channel, shape (C,).
    """
    op = "batch_norm"
    x = _float_input(input, op)
    if x.ndim < 2:
        raise RuntimeError(
            f"{op}: expected an input of shape (N, C) or (N, C, *) with at least 2 dims, got shape "
            f"{tuple(x.shape)}"
        )
    if training:
        per_channel = x.shape[0] * math.prod(x.shape[2:])
        if per_channel == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.shape}"
            )
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if momentum is None or isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating)):
        raise TypeError(
            f"{op}: momentum must be a float, got {momentum!r}; (a cumulative average, momentum=None, "
            "is computed by the BatchNorm modules, which pass 1/num_batches_tracked here)"
        )
    c = x.shape[1]
    what = f"one entry per channel of input shape {tuple(x.shape)}"
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if t is not None:
            _check_param(t, name, (c,), x, op, what)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(
            f"{op}: running_mean and running_var must be defined in evaluation mode "
            "(training=False uses them instead of the batch statistics)"
        )
    params = []
    for p, name in ((weight, "weight"), (bias, "bias")):
        if p is not None:
            _check_param(p, name, (c,), x, op, what)
            params.append(p)
    return BatchNorm.apply(
        x,
        *params,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
        running_mean=running_mean,
        running_var=running_var,
        has_weight=weight is not None,
        has_bias=bias is not None,
    )


# ------------------------------------------------------------------------------- group norm
class GroupNorm(Function):
    """Group norm: the C channels of each sample split into G groups of C/G; per (sample, group)
    x̂ = (x - μ)/σ over its C/G channels and all spatial positions, then y = γ_c x̂ + β_c per channel.

    Each (sample, group) is one row of n = (C/G)·S values, S = prod(spatial), so the input is viewed
    as (M, C/G, S) with M = N·G rows: layer norm over each row followed by a per-channel affine.
    Layer norm's backward applies with ĝ = g γ_c (γ_c constant over a channel's S positions, but
    different across the row's C/G channels)::

        dx = (1/σ) (ĝ - mean_row(ĝ) - x̂ mean_row(ĝ x̂))

    Every row sum in it reduces to per-(row, channel) sums over the S positions,
    ``Σg[r, c] = Σ_s g`` and ``Σgx̂[r, c] = Σ_s g x̂ = (Σ_s g x - μ Σg[r, c]) / σ``::

        mean_row(ĝ) = Σ_c γ_c Σg[r, c] / n,   mean_row(ĝ x̂) = Σ_c γ_c Σgx̂[r, c] / n,
        dγ_c = Σ_n Σgx̂[(n, g(c)), c],         dβ_c = Σ_n Σg[(n, g(c)), c].

    Expanding x̂ = (x - μ)/σ makes both passes "scale, then shift" per row or channel, with
    no centred copy of x::

        y  = x · (γ_c/σ) + (β_c - μ γ_c/σ)
        dx = g · (γ_c/σ) + x · k + (-mean_row(ĝ)/σ - μ k),   k = -mean_row(ĝ x̂)/σ²

    and the statistics take one pass too: μ by a BLAS matrix-vector product, var = E[x²] - μ².
    That shortcut cancels when |μ| ≫ σ (float32 keeps ~7 digits; μ²/σ² = 10⁴ would leave ~3),
    so rows with E[x²] > ``_CANCEL`` · var are redone the textbook way, on the centred ``x - μ``
    (see :func:`_centred_rows`); so is their output and their backward.

    G = 1 is layer norm over (C, *spatial) with a per-channel affine; G = C is instance norm,
    which may also keep running statistics: given ``running_mean``/``running_var`` (shape (G,)),
    the forward updates them with each group's batch-averaged mean and *unbiased* variance, as
    batch norm does. Saved for backward: x, μ, 1/σ and the recomputed rows' indices.
    """

    def forward(
        ctx, x, *params, groups, eps, has_weight, has_bias, running_mean=None, running_var=None, momentum=0.0
    ):
        shape, dtype = x.shape, x.dtype
        n_, c = shape[0], shape[1]
        s_ = math.prod(shape[2:])  # spatial positions S
        cg = c // groups  # channels per group
        m, d = n_ * groups, cg * s_  # rows (sample, group) and values per row
        x2 = x.reshape(m, d)  # (M, D)
        acc = _ACC.get(dtype)
        if acc is not None:
            x2 = x2.astype(acc)
        wr = _per_row(params[0], n_, groups, cg, x2.dtype) if has_weight else None  # (M, C/G)
        br = _per_row(params[-1], n_, groups, cg, x2.dtype) if has_bias else None  # (M, C/G)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            mean = _row_sum(x2) / d  # (M,)
            msq = xp.einsum("ij,ij->i", x2, x2) / d  # (M,)  E[x²]
            var = msq - mean * mean  # (M,)  biased variance, one pass
            bad = xp.flatnonzero(var * _CANCEL.get(x2.dtype, 64.0) < msq)  # rows that lost digits
            xc = _centred_rows(x2, mean, bad)  # (B, D)
            if bad.size:
                var[bad] = xp.einsum("ij,ij->i", xc, xc) / d
            rstd = 1.0 / xp.sqrt(var + eps)  # (M,)  1/σ
            a = rstd[:, None] * wr if wr is not None else rstd[:, None]  # (M, C/G or 1)  γ_c/σ
            shift = -mean[:, None] * a  # (M, C/G or 1)
            if br is not None:
                shift = shift + br
            y = xp.multiply(x2.reshape(m, cg, s_), a[:, :, None])  # (M, C/G, S)
            y += shift[:, :, None]
            if bad.size:  # (x - μ) γ_c/σ + β_c
                yb = xc.reshape(-1, cg, s_) * a[bad][:, :, None]
                if br is not None:
                    yb += br[bad][:, :, None]
                y[bad] = yb
        if running_mean is not None or running_var is not None:
            with np.errstate(invalid="ignore", divide="ignore"):  # an empty batch gives nan, as in torch
                if running_mean is not None:  # batch average of each group's statistics
                    _update(running_mean, mean.reshape(n_, groups).sum(axis=0) / n_, momentum)
                if running_var is not None:
                    unbiased = var * (d / (d - 1)) if d > 1 else var
                    _update(running_var, unbiased.reshape(n_, groups).sum(axis=0) / n_, momentum)
        ctx.save_for_backward(x2, mean, rstd, wr, bad)
        ctx.shape, ctx.groups, ctx.has_weight, ctx.has_bias = shape, groups, has_weight, has_bias
        return y.reshape(shape).astype(dtype, copy=False)

    def backward(ctx, g):
        x2, mean, rstd, wr, bad = ctx.saved_tensors
        m, d = x2.shape
        shape, groups = ctx.shape, ctx.groups
        n_, c = shape[0], shape[1]
        cg = c // groups
        s_ = d // cg if cg else 0
        need = ctx.needs_input_grad
        g2 = g.reshape(m, d).astype(x2.dtype, copy=False)  # (M, D)
        g_rc = g2.reshape(m * cg, s_)  # (M·C/G, S): one channel of one row per line
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            sg = (g_rc @ xp.ones(s_, dtype=x2.dtype)).reshape(m, cg)  # (M, C/G)  Σ_s g
            sgx = xp.einsum("ij,ij->i", g_rc, x2.reshape(m * cg, s_)).reshape(m, cg)  # Σ_s g x
            sgx -= mean[:, None] * sg
            sgx *= rstd[:, None]  # (M, C/G)  Σ_s g x̂
            xc = _centred_rows(x2, mean, bad)  # (B, D)
            if bad.size:
                gb = g2[bad].reshape(-1, s_)
                sgx[bad] = xp.einsum("ij,ij->i", gb, xc.reshape(-1, s_)).reshape(-1, cg) * rstd[bad, None]
            dx = None
            if need[0]:
                if wr is None:  # ĝ = g
                    mean_gh, mean_ghx, a = sg.sum(axis=1) / d, sgx.sum(axis=1) / d, rstd[:, None]
                else:  # ĝ = g γ_c: the row sums weight each channel's sums by γ_c
                    mean_gh = xp.einsum("ij,ij->i", sg, wr) / d  # (M,)  mean_row(ĝ)
                    mean_ghx = xp.einsum("ij,ij->i", sgx, wr) / d  # (M,)  mean_row(ĝ x̂)
                    a = rstd[:, None] * wr  # (M, C/G)  γ_c/σ
                k = -rstd * rstd * mean_ghx  # (M,)  coefficient of x
                k0 = -rstd * mean_gh  # (M,)  constant term, for centred x
                dx = xp.multiply(g2.reshape(m, cg, s_), a[:, :, None])  # (M, C/G, S)  ĝ/σ
                dx2 = dx.reshape(m, d)
                const = k0 - k * mean  # (M,)  constant term for uncentred x
                buf = xp.empty((min(m, max(1, _BLOCK // max(d, 1))), d), dtype=x2.dtype)
                for s in _row_blocks(m, d):  # dx += x k + const, a cache-sized block at a time
                    t = buf[: s.stop - s.start]
                    xp.multiply(x2[s], k[s, None], out=t)
                    t += const[s, None]
                    dx2[s] += t
                if bad.size:  # ĝ/σ + (x - μ) k - mean(ĝ)/σ
                    xc *= k[bad, None]
                    xc += k0[bad, None]
                    xc += (g2[bad].reshape(-1, cg, s_) * a[bad][:, :, None]).reshape(-1, d)
                    dx2[bad] = xc
        grads: list[Any] = [None if dx is None else dx.reshape(shape)]
        if ctx.has_weight:  # dγ_c = Σ_n Σ_s g x̂
            grads.append(_col_sum(sgx.reshape(n_, c)) if need[1] else None)
        if ctx.has_bias:  # dβ_c = Σ_n Σ_s g
            grads.append(_col_sum(sg.reshape(n_, c)) if need[-1] else None)
        return tuple(grads) if len(grads) > 1 else grads[0]


# One-pass variance E[x²] - μ² loses about log10(E[x²]/var) of the dtype's digits: rows where
# that ratio passes this bound are recomputed from x - μ (float32: |μ| > ~8σ; float64: ~100σ).
_CANCEL = {np.dtype(np.float32): 64.0, np.dtype(np.float64): 1e4}


def _centred_rows(x2: Any, mean: Any, rows: Any) -> Any:
    """``x - μ`` for the given rows of ``x2`` (a new (len(rows), D) array; empty for no rows)."""
    return x2[rows] - mean[rows, None]


def _per_row(p: Any, n: int, groups: int, cg: int, dtype: Any) -> Any:
    """A per-channel (C,) vector laid out per row (sample, group): (N·G, C/G)."""
    p = p.astype(dtype, copy=False).reshape(1, groups, cg)
    return xp.broadcast_to(p, (n, groups, cg)).reshape(n * groups, cg)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the C channels of an (N, C, *) input into ``num_groups`` groups and normalise each
    group of each sample over its channels and positions; then scale and shift per channel.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance of each (sample,
    group); ``weight``/``bias`` have shape (C,). Independent of the batch size, so it trains with
    batches too small for batch norm (Wu & He, 2018, "Group Normalization").
    """
    op = "group_norm"
    x = _float_input(input, op)
    if x.ndim < 2:
        raise RuntimeError(
            f"{op}: Expected at least 2 dimensions for input tensor but received {x.ndim} (input "
            f"shape {tuple(x.shape)}; group_norm takes (N, C, *))"
        )
    if not _is_int(num_groups) or num_groups <= 0:
        raise ValueError(f"{op}: num_groups must be a positive int, got {num_groups!r}")
    num_groups = int(num_groups)
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"{op}: Expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {list(x.shape)} and num_groups={num_groups}"
        )
    if n * c // num_groups * math.prod(x.shape[2:]) == 1:  # PyTorch's check, message included
        size = [n * c // num_groups, num_groups, *x.shape[2:]]
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    what = f"one entry per channel of input shape {tuple(x.shape)}"
    params = []
    for p, name in ((weight, "weight"), (bias, "bias")):
        if p is not None:
            _check_param(p, name, (c,), x, op, what)
            params.append(p)
    return GroupNorm.apply(
        x, *params, groups=num_groups, eps=float(eps), has_weight=weight is not None, has_bias=bias is not None
    )


# ---------------------------------------------------------------------------- instance norm
def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of each sample of an (N, C, *) input over its positions, then
    scale and shift per channel (Ulyanov et al., 2016, "Instance Normalization").

    This is group norm with one group per channel (the same fused kernel). With
    ``use_input_stats=True`` each (sample, channel) uses its own mean and biased variance, and
    ``running_mean``/``running_var`` (if given) are updated in place with the batch averages of
    those statistics (unbiased variance), ``momentum`` weighting the new batch. With
    ``use_input_stats=False`` the running statistics are used instead: a fixed per-channel
    affine map, computed by batch norm's evaluation path.
    """
    op = "instance_norm"
    x = _float_input(input, op)
    if x.ndim < 2:
        raise RuntimeError(
            f"{op}: expected an input of shape (N, C, *) with at least 2 dims, got shape {tuple(x.shape)}"
        )
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: running_mean and running_var must either both be None or neither be None")
    if momentum is None or isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.floating)):
        raise TypeError(f"{op}: momentum must be a float, got {momentum!r}")
    c = x.shape[1]
    what = f"one entry per channel of input shape {tuple(x.shape)}"
    named = ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"), (bias, "bias"))
    for t, name in named:
        if t is not None:
            _check_param(t, name, (c,), x, op, what)
    if not use_input_stats:
        if running_mean is None:
            raise RuntimeError(
                f"{op}: Expected running_mean and running_var to be defined when use_input_stats is false"
            )
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    if math.prod(x.shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {list(x.shape)}"
        )
    params = [p for p in (weight, bias) if p is not None]
    return GroupNorm.apply(
        x,
        *params,
        groups=c,
        eps=float(eps),
        has_weight=weight is not None,
        has_bias=bias is not None,
        running_mean=running_mean,
        running_var=running_var,
        momentum=float(momentum),
    )


__all__ = ["layer_norm", "batch_norm", "group_norm", "instance_norm"]
