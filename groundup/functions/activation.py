"""Activation functions, each one fused ``Function`` with a hand-written, numerically stable backward.

Fused because an activation runs on every element of every hidden layer: one node with a closed
form derivative is faster and steadier than a chain of elementwise nodes, and lets each formula be
written so that nothing goes wrong at +-1000: ``softplus`` is ``max(x, 0) + log1p(e^-|x|)``,
``expm1``/``exp`` in ELU only see non-positive arguments, and the sigmoid is ``1/(1 + e^-x)``,
whose ``e^-x`` overflows only where the exact answer is below the smallest normal float (and
``1/inf = 0`` is then right). At +-inf and nan the results follow PyTorch's kernels: nan where
theirs give nan. Constants are Python floats so float32 inputs stay float32.

Speed: NumPy runs one pass over memory per operation, so the many-step formulas (GELU, SiLU,
Mish, softplus...) are evaluated in cache-sized blocks (:func:`_blocked`), and branches are
written as sums of masked terms rather than ``np.where`` (whose per-element branch on random signs
is several times slower than arithmetic).

``erf`` is written here from scratch, as NumPy has none: float64 uses the piecewise rational
approximations of Sun's fdlibm ``s_erf.c`` (within 1 ulp), float32 the rational approximation
used by Eigen and XLA (a few ulp, branch-free). GELU's gate Φ(x) in float32 uses W. H. Press's
``erfcc`` instead, whose error is relative, so x Φ(x) stays exact in the far negative tail.

The public face is :mod:`groundup.nn.functional`; only the names PyTorch also has at the top level
(``torch.erf``, ``torch.selu``, ``torch.celu``) are listed in ``__all__``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from groundup.autograd import Function
from groundup.backend import xp
from groundup.dtypes import get_default_dtype
from groundup.functions.elementwise import keep_where
from groundup.tensor import Tensor

# ------------------------------------------------------------------------------------- erf
# fdlibm s_erf.c (Copyright (C) 1993 by Sun Microsystems, Inc. "Permission to use, copy, modify,
# and distribute this software is freely granted, provided that this notice is preserved.")
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to single precision
_EFX8 = 1.02703333676410069053e00  # 8 * (2/sqrt(pi) - 1)
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e01,
       -6.23753324503260060396e01, -1.62396669462573470355e02, -1.84605092906711035994e02,
       -8.12874355063065934246e01, -9.81432934416914548592e00)
_SA = (1.0, 1.96512716674392571292e01, 1.37657754143519042600e02, 4.34565877475229228821e02,
       6.45387271733267880336e02, 4.29008140027567833386e02, 1.08635005541779435134e02,
       6.57024977031928170135e00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e01,
       -1.60636384855821916062e02, -6.37566443368389627722e02, -1.02509513161107724954e03,
       -4.83519191608651397019e02)
_SB = (1.0, 3.03380607434824582924e01, 3.25792512996573918826e02, 1.53672958608443695994e03,
       3.19985821950859553908e03, 2.55305040643316442583e03, 4.74528541206955367215e02,
       -2.24409524465858183362e01)
# Eigen / XLA float32 erf: x * P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float32 beyond)
_ALPHA32 = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
            -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
_BETA32 = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
           -1.42647390514189e-02)


def _poly(z: Any, coeffs: tuple[float, ...]) -> Any:
    """c0 + c1 z + c2 z^2 + ... by Horner's rule (coefficients lowest first), in place after one copy."""
    acc = z * coeffs[-1]
    for c in coeffs[-2:0:-1]:
        acc += c
        acc *= z
    acc += coeffs[0]
    return acc


_BLOCK = 1 << 15


def _blocked(kernel: Any, inputs: tuple, n_out: int) -> list:
    """Run ``kernel(*inputs, *outputs)`` over cache-sized blocks of same-shaped arrays.

    Formulas like GELU's take a dozen or more NumPy passes; over blocks of 32K elements the
    temporaries stay in the CPU cache instead of streaming through main memory once per pass.
    """
    x = inputs[0]
    outs = [xp.empty(x.shape, dtype=x.dtype) for _ in range(n_out)]
    n = x.size
    if n <= _BLOCK:
        kernel(*inputs, *outs)
        return outs
    flat_in = [a.reshape(-1) for a in inputs]
    flat_out = [o.reshape(-1) for o in outs]
    for i in range(0, n, _BLOCK):
        j = min(i + _BLOCK, n)
        kernel(*(a[i:j] for a in flat_in), *(o[i:j] for o in flat_out))
    return outs


def _erf64(x: Any) -> Any:
    """erf of a float64 array to within 1 ulp: fdlibm's four ranges, each on its own elements."""
    out = xp.empty_like(x)
    ax = xp.abs(x)
    small = ax < 0.84375
    if small.any():  # erf(x) = x + x R(x^2); below 2**-28 just x (1 + 2/sqrt(pi) - 1)
        xs = x[small]
        z = xs * xs
        out[small] = xp.where(xp.abs(xs) < 2.0**-28, 0.125 * (8.0 * xs + _EFX8 * xs),
                              xs + xs * (_poly(z, _PP) / _poly(z, _QQ)))
    mid = (ax >= 0.84375) & (ax < 1.25)
    if mid.any():  # erf(1 + s) = erx + P(s) / Q(s)
        s = ax[mid] - 1.0
        out[mid] = xp.copysign(_ERX + _poly(s, _PA) / _poly(s, _QA), x[mid])
    tail = (ax >= 1.25) & (ax < 6.0)
    if tail.any():  # erfc(x) = exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / x
        a = ax[tail]
        s = 1.0 / (a * a)
        near = a < 1 / 0.35
        r = xp.where(near, _poly(s, _RA) / _poly(s, _SA), _poly(s, _RB) / _poly(s, _SB))
        # exp(-x^2) split as exp(-z^2) exp((z - x)(z + x)) with z = x cut to 32 bits: exact z^2
        zz = (a.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
        erfc = xp.exp(-zz * zz - 0.5625) * xp.exp((zz - a) * (zz + a) + r) / a
        out[tail] = xp.copysign(1.0 - erfc, x[tail])
    big = ~(small | mid | tail)  # |x| >= 6 (erf is +-1 to double precision), inf and nan
    if big.any():
        xb = x[big]
        out[big] = xp.where(xp.isnan(xb), xb, xp.copysign(1.0, xb))
    return out


def _erf32(x: Any) -> Any:
    """erf of a float32 array: Eigen's rational approximation, a few ulp, in float32 throughout."""
    u = xp.clip(x, -4.0, 4.0)
    z = u * u
    p = _poly(z, _ALPHA32[::-1])
    p *= u
    p /= _poly(z, _BETA32[::-1])
    return p


# Φ for float32 (GELU's gate) from W. H. Press's erfc (Numerical Recipes "erfcc", a Chebyshev fit
# with relative error < 1.2e-7 everywhere): erfc(u) = t exp(-u^2 + P(t)), t = 1/(1 + u/2), u >= 0.
# Relative accuracy in the far tail matters here: GELU multiplies Φ(x) by x, so an absolute error
# of 1e-7 in Φ(-1000) would become 1e-4 in the output. With u = |x|/√2 and the 1/2 of
# Φ(-|x|) = erfc(u)/2 folded into the constant term (-ln 2):
_ERFCC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
          1.48851587, -0.82215223, 0.17087277)
_PHI_POLY32 = (_ERFCC[0] - math.log(2.0),) + _ERFCC[1:]


def _normal_cdf_into(x: Any, out: Any) -> None:
    """Write Φ(x) into ``out`` (same shape and dtype as ``x``)."""
    if x.dtype != np.float32:
        cdf = erf_array(x * _SQRT1_2)
        xp.multiply(cdf, 0.5, out=out)
        out += 0.5
        return
    t = xp.abs(x)
    t *= 0.5 * math.sqrt(0.5)
    t += 1.0
    xp.reciprocal(t, out=t)
    e = x * x
    e *= -0.5
    e += _poly(t, _PHI_POLY32)
    xp.exp(e, out=e)
    xp.multiply(e, t, out=out)  # q = Φ(-|x|); Φ(x) = q + [x >= 0] (1 - 2q), no data-dependent branch
    xp.multiply(out, -2.0, out=e)
    e += 1.0
    e *= x >= 0
    out += e


def normal_cdf_array(x: Any) -> Any:
    """Φ(x), the standard normal CDF, of a floating array in its own dtype (GELU's gate)."""
    return _blocked(_normal_cdf_into, (x,), 1)[0]


def erf_array(x: Any) -> Any:
    """erf of a floating array in its own dtype (float16 goes through float32)."""
    if x.dtype == np.float64:
        return _erf64(x)
    if x.dtype == np.float32:
        return _erf32(x)
    return _erf32(x.astype(np.float32)).astype(x.dtype)


# ------------------------------------------------------------------------------- Functions
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_GELU_BETA = math.sqrt(2.0 / math.pi)
_GELU_KAPPA = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _quiet(method: Any) -> Any:
    @functools.wraps(method)
    def run(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return method(ctx, *args, **kwargs)

    return run


class _Activation(Function):
    """Base of the activations: forward and backward run with NumPy's floating-point warnings off.

    inf and nan inputs give inf/nan results by design (inf * 0 -> nan, as PyTorch's kernels give),
    and the one deliberate overflow (``e^-x`` in the sigmoid) lands where its limit is exact, so
    the warnings would only be noise.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("forward", "backward"):
            if name in cls.__dict__:
                setattr(cls, name, _quiet(cls.__dict__[name]))


def _where0(mask: Any, g: Any) -> Any:
    """g where mask, else 0 (never inf * 0): the branch-free select ReLU's backward uses."""
    return keep_where(xp.asarray(g), mask)


class Erf(_Activation):
    """z = erf(x) = 2/sqrt(pi) ∫_0^x e^(-t^2) dt;  dz/dx = 2/sqrt(pi) e^(-x^2)."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = x * x
        xp.negative(d, out=d)
        xp.exp(d, out=d)
        d *= _TWO_OVER_SQRT_PI
        d *= g
        return d


class LeakyRelu(_Activation):
    """z = x if x > 0 else s x;  dz/dx = 1 if x > 0 else s."""

    def forward(ctx, x, slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = slope
        if 0.0 < slope <= 1.0:  # max(x, s x) is the same function without a data-dependent branch
            return xp.maximum(x, x * slope)
        return xp.where(x > 0, x, x * slope)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        slope = ctx.slope
        if 0.0 <= slope <= 1.0:  # max([x > 0], s) is exactly 1 or s
            d = (x > 0).astype(g.dtype)
            xp.maximum(d, slope, out=d)
            d *= g
            return d
        return xp.where(x > 0, g, g * slope)


def _elu_forward_into(x: Any, out: Any, params: tuple = (1.0, 1.0, 1.0)) -> None:
    alpha, scale, input_scale = params
    neg = xp.minimum(x, 0.0)
    if input_scale != 1.0:
        neg *= input_scale
    xp.expm1(neg, out=neg)
    neg *= alpha * scale
    xp.maximum(x, 0.0, out=out)  # x > 0 and x <= 0 each zero one of the two terms
    if scale != 1.0:
        out *= scale
    out += neg


def _elu_backward_into(x: Any, g: Any, out: Any, params: tuple = (1.0, 1.0, 1.0)) -> None:
    alpha, scale, input_scale = params
    neg = x <= 0  # nan counts as positive, as in PyTorch's kernel
    e = xp.fmin(x, 0.0)  # fmin: nan -> 0, so the masked-out term below is 0, not nan
    if input_scale != 1.0:
        e *= input_scale
    xp.exp(e, out=e)
    e *= alpha * scale * input_scale
    e *= neg
    xp.logical_not(neg, out=neg)
    xp.multiply(neg, scale, out=out)
    out += e
    out *= g


class Elu(_Activation):
    """z = scale x if x > 0 else scale alpha (e^(k x) - 1);  dz/dx = scale, or scale alpha k e^(k x).

    ELU is (alpha, 1, 1), SELU (1.6733, 1.0507, 1), CELU (alpha, 1, 1/alpha). ``expm1`` keeps
    small negative x accurate; ``min(x, 0)`` keeps ``exp`` from overflowing on the positive side.
    The derivative is 1-sided at 0 like PyTorch's (x <= 0 takes the exponential branch). The two
    branches are summed with one of them zero rather than selected, which avoids a data-dependent
    branch per element (several times faster in NumPy).
    """

    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        ctx.save_for_backward(x)
        ctx.params = alpha, scale, input_scale
        return _blocked(functools.partial(_elu_forward_into, params=ctx.params), (x,), 1)[0]

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _blocked(functools.partial(_elu_backward_into, params=ctx.params), (x, g), 1)[0]


def _gelu_forward_into(x: Any, cdf: Any, out: Any) -> None:
    _normal_cdf_into(x, cdf)
    xp.multiply(x, cdf, out=out)


def _gelu_backward_into(x: Any, cdf: Any, g: Any, out: Any) -> None:
    d = x * x
    d *= -0.5
    xp.exp(d, out=d)
    d *= x
    d *= _INV_SQRT_2PI
    d += cdf
    xp.multiply(d, g, out=out)


class Gelu(_Activation):
    """z = x Φ(x), Φ(x) = (1 + erf(x/√2))/2;  dz/dx = Φ(x) + x φ(x), φ(x) = e^(-x²/2)/√(2π)."""

    def forward(ctx, x):
        cdf, out = _blocked(_gelu_forward_into, (x,), 2)
        ctx.save_for_backward(x, cdf)
        return out

    def backward(ctx, g):
        x, cdf = ctx.saved_tensors
        return _blocked(_gelu_backward_into, (x, cdf, g), 1)[0]


def _gelu_tanh_forward_into(x: Any, th: Any, out: Any) -> None:
    u = x * x
    u *= _GELU_KAPPA
    u += 1.0
    u *= x
    u *= _GELU_BETA
    xp.tanh(u, out=th)
    xp.add(th, 1.0, out=out)
    out *= x
    out *= 0.5


def _gelu_tanh_backward_into(x: Any, th: Any, g: Any, out: Any) -> None:
    inner = x * x
    inner *= 3.0 * _GELU_KAPPA * _GELU_BETA
    inner += _GELU_BETA
    sech2 = th * th
    xp.subtract(1.0, sech2, out=sech2)
    inner *= sech2
    inner *= x
    inner += th
    inner += 1.0
    inner *= 0.5
    xp.multiply(inner, g, out=out)


class GeluTanh(_Activation):
    """z = x/2 (1 + tanh u), u = √(2/π)(x + 0.044715 x³);
    dz/dx = (1 + tanh u)/2 + x/2 (1 - tanh² u) √(2/π)(1 + 3 · 0.044715 x²)."""

    def forward(ctx, x):
        th, out = _blocked(_gelu_tanh_forward_into, (x,), 2)
        ctx.save_for_backward(x, th)
        return out

    def backward(ctx, g):
        x, th = ctx.saved_tensors
        return _blocked(_gelu_tanh_backward_into, (x, th, g), 1)[0]


def _sigmoid_into(x: Any, out: Any) -> None:
    """σ(x) = 1/(1 + e^-x), accurate in both tails; e^-x overflows to inf only where σ is below the
    smallest normal number, and 1/inf = 0 is then the right answer (as PyTorch computes it)."""
    xp.negative(x, out=out)
    xp.exp(out, out=out)
    out += 1.0
    xp.reciprocal(out, out=out)


def _softplus_into(x: Any, out: Any) -> None:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exp never overflows, small values keep precision."""
    e = xp.abs(x)
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    xp.log1p(e, out=e)
    xp.maximum(x, 0.0, out=out)
    out += e


def _silu_forward_into(x: Any, s: Any, out: Any) -> None:
    _sigmoid_into(x, s)
    xp.multiply(x, s, out=out)


def _silu_backward_into(x: Any, s: Any, g: Any, out: Any) -> None:
    d = 1.0 - s
    d *= x
    d += 1.0
    d *= s
    xp.multiply(d, g, out=out)


class Silu(_Activation):
    """z = x σ(x);  dz/dx = σ(x) (1 + x (1 - σ(x)))."""

    def forward(ctx, x):
        s, out = _blocked(_silu_forward_into, (x,), 2)
        ctx.save_for_backward(x, s)
        return out

    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return _blocked(_silu_backward_into, (x, s, g), 1)[0]


def _mish_forward_into(x: Any, t: Any, out: Any) -> None:
    _softplus_into(x, t)
    xp.tanh(t, out=t)
    xp.multiply(x, t, out=out)


def _mish_backward_into(x: Any, t: Any, g: Any, out: Any) -> None:
    d = t * t
    xp.subtract(1.0, d, out=d)
    s = xp.empty_like(x)
    _sigmoid_into(x, s)
    d *= s
    d *= x
    d += t
    xp.multiply(d, g, out=out)


class Mish(_Activation):
    """z = x tanh(softplus(x));  dz/dx = t + x σ(x) (1 - t²), t = tanh(softplus(x))."""

    def forward(ctx, x):
        t, out = _blocked(_mish_forward_into, (x,), 2)
        ctx.save_for_backward(x, t)
        return out

    def backward(ctx, g):
        x, t = ctx.saved_tensors
        return _blocked(_mish_backward_into, (x, t, g), 1)[0]


def _sigmoid_grad_into(x: Any, g: Any, out: Any) -> None:
    _sigmoid_into(x, out)
    out *= g


class Softplus(_Activation):
    """z = log(1 + e^(βx))/β, or x where βx > threshold;  dz/dx = σ(βx), or 1 there.

    Computed as (max(βx, 0) + log1p(e^-|βx|))/β, which never overflows, whatever the threshold.
    """

    def forward(ctx, x, beta=1.0, threshold=20.0):
        bx = x * beta if beta != 1.0 else x
        ctx.save_for_backward(bx)
        ctx.threshold = threshold
        out = _blocked(_softplus_into, (bx,), 1)[0]
        if beta != 1.0:
            out /= beta
        xp.copyto(out, x, where=bx > threshold)  # few elements: a cheap, well-predicted mask
        return out

    def backward(ctx, g):
        (bx,) = ctx.saved_tensors
        d = _blocked(_sigmoid_grad_into, (bx, g), 1)[0]
        xp.copyto(d, g, where=bx > ctx.threshold)
        return d


class Softsign(_Activation):
    """z = x / (1 + |x|);  dz/dx = 1 / (1 + |x|)² (nan at +-inf, as PyTorch's x/(1+|x|) gives)."""

    def forward(ctx, x):
        d = xp.abs(x)
        d += 1.0
        ctx.save_for_backward(x, d)
        return x / d

    def backward(ctx, g):
        x, d = ctx.saved_tensors
        out = g / (d * d)
        xp.copyto(out, np.nan, where=xp.isinf(x))
        return out


class Hardtanh(_Activation):
    """z = clip(x, lo, hi);  dz/dx = 1 strictly inside (lo, hi), 0 outside and at the edges."""

    def forward(ctx, x, lo=-1.0, hi=1.0):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return xp.clip(x, lo, hi)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        outside = x <= ctx.lo
        outside |= x >= ctx.hi
        return xp.where(outside, xp.zeros((), dtype=g.dtype), g)


def _logsigmoid_into(x: Any, out: Any) -> None:
    e = xp.abs(x)
    xp.negative(e, out=e)
    xp.exp(e, out=e)
    xp.log1p(e, out=e)
    xp.minimum(x, 0.0, out=out)
    out -= e


def _logsigmoid_backward_into(x: Any, g: Any, out: Any) -> None:
    xp.exp(x, out=out)  # σ(-x) = 1/(1 + e^x); e^x = inf for large x gives the limit 0
    out += 1.0
    xp.divide(g, out, out=out)


class Logsigmoid(_Activation):
    """z = log σ(x) = -softplus(-x) = min(x, 0) - log1p(e^-|x|);  dz/dx = 1 - σ(x) = σ(-x)."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _blocked(_logsigmoid_into, (x,), 1)[0]

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _blocked(_logsigmoid_backward_into, (x, g), 1)[0]


class Hardsigmoid(_Activation):
    """z = clip(x + 3, 0, 6) / 6;  dz/dx = 1/6 for -3 < x < 3, else 0."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = x + 3.0
        xp.clip(out, 0.0, 6.0, out=out)
        out /= 6.0
        return out

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inside = x > -3.0
        inside &= x < 3.0
        return _where0(inside, g / 6.0)


class Hardswish(_Activation):
    """z = x clip(x + 3, 0, 6) / 6;  dz/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 above."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        out = x + 3.0
        xp.clip(out, 0.0, 6.0, out=out)
        out *= x
        out /= 6.0
        return out

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = x / 3.0
        d += 0.5
        xp.copyto(d, 1.0, where=~(x < 3.0))  # also nan -> 1, as PyTorch
        xp.copyto(d, 0.0, where=x <= -3.0)
        d *= g
        return d


# --------------------------------------------------------------------------- public wrappers
def _floating(input: Any, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating point tensor, got {input.dtype.name} (shape "
            f"{tuple(input.shape)}); convert it with .float()"
        )
    return input


def erf(input: Tensor) -> Tensor:
    """The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to ``input``."""
    if isinstance(input, Tensor) and input.data.dtype.kind != "f":
        input = Tensor._wrap(input.data.astype(get_default_dtype().np))
    return Erf.apply(_floating(input, "erf"))


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` for positive inputs, ``negative_slope * x`` otherwise."""
    return LeakyRelu.apply(_floating(input, "leaky_relu"), slope=float(negative_slope))


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: ``x`` above 0, ``alpha * (exp(x) - 1)`` below."""
    return Elu.apply(_floating(input, "elu"), alpha=float(alpha))


def selu(input: Tensor) -> Tensor:
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
    return Elu.apply(_floating(input, "selu"), alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise ValueError("celu: ZeroDivisionError, alpha cannot be 0")
    return Elu.apply(_floating(input, "celu"), alpha=float(alpha), input_scale=1.0 / float(alpha))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Φ(x)``; ``approximate='tanh'`` uses the tanh formula."""
    x = _floating(input, "gelu")
    if approximate == "none":
        return Gelu.apply(x)
    if approximate == "tanh":
        return GeluTanh.apply(x)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return Silu.apply(_floating(input, "silu"))


def mish(input: Tensor) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return Mish.apply(_floating(input, "mish"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold`` (as PyTorch)."""
    return Softplus.apply(_floating(input, "softplus"), beta=float(beta), threshold=float(threshold))


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``; integer inputs become the default float dtype."""
    if isinstance(input, Tensor) and input.data.dtype.kind in "iub":
        input = Tensor._wrap(input.data.astype(get_default_dtype().np))
    return Softsign.apply(_floating(input, "softsign"))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """Clip to ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 elsewhere."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got {min_val} > {max_val})")
    if not isinstance(input, Tensor):
        raise TypeError(f"hardtanh: expected a Tensor, got {type(input).__name__}")
    if input.data.dtype.kind != "f":
        return Tensor._wrap(xp.clip(input.data, min_val, max_val).astype(input.data.dtype))
    return Hardtanh.apply(input, lo=float(min_val), hi=float(max_val))


def relu6(input: Tensor) -> Tensor:
    """``min(max(x, 0), 6)``: hardtanh on [0, 6]."""
    return hardtanh(input, 0.0, 6.0)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))`` computed as ``-softplus(-x)``: finite for any finite input."""
    return Logsigmoid.apply(_floating(input, "logsigmoid"))


def hardsigmoid(input: Tensor) -> Tensor:
    """Piecewise-linear sigmoid ``clip(x / 6 + 1/2, 0, 1)``."""
    return Hardsigmoid.apply(_floating(input, "hardsigmoid"))


def hardswish(input: Tensor) -> Tensor:
    """``x * hardsigmoid(x)`` (MobileNetV3)."""
    return Hardswish.apply(_floating(input, "hardswish"))


__all__ = ["erf", "selu", "celu"]
