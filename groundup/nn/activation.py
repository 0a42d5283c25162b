"""Activation layers: one ``Module`` per activation, with ``torch.nn``'s constructor arguments and reprs.

Each layer stores its settings and calls the stateless op in :mod:`groundup.nn.functional`, where
the maths and the fused backward passes live. ``PReLU`` is the one with a learnable parameter.

A few ops that ``torch.nn.functional`` has and groundup's functional face does not yet are written
here as short composites of primitives (``where``, ``clamp``, ``tanh``), so autograd derives their
backward: :func:`threshold`, :func:`hardshrink`, :func:`softshrink`, :func:`tanhshrink`,
:func:`prelu`, :func:`rrelu` and :func:`glu`.
"""

from __future__ import annotations

from typing import Any

from groundup import dtypes as _dt
from groundup.backend import rng
from groundup.creation import empty
from groundup.functions.elementwise import clamp, sigmoid, tanh, where
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.functional import _result
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor
from groundup.tensor import device as _device


def _tensor(input: Any, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


# ------------------------------------------------------------------------ composite functions
def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``;  d/dx = [x > threshold]."""
    x = _tensor(input, "threshold")
    return _result(x, where(x > threshold, x, value), inplace, "threshold_")


def _check_lambd(lambd: float, op: str) -> None:
    if lambd < 0:
        raise RuntimeError(f"{op}: lambda must be in range [0, inf), but found {lambd}")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0;  d/dx = [|x| > lambd]."""
    x = _tensor(input, "hardshrink")
    return where(x.abs() > lambd, x, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - clamp(x, -lambd, lambd)``: ``x ∓ lambd`` outside ``[-lambd, lambd]``, 0 inside.

    d/dx = 1 - [|x| <= lambd], so the gradient is 0 at the boundary, as PyTorch's.
    """
    x = _tensor(input, "softshrink")
    _check_lambd(lambd, "softshrink")
    return x - clamp(x, -lambd, lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``;  d/dx = tanh(x)²."""
    x = _tensor(input, "tanhshrink")
    return x - tanh(x)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``a_c · x`` with one learned slope per channel (dim 1) or one shared.

    d/dx = 1 or a_c;  d/da_c = Σ x over the non-positive entries of channel c (the ``where``
    and the broadcast multiply give both, the broadcast summing over batch and spatial dims).
    """
    x = _tensor(input, "prelu")
    w = _tensor(weight, "prelu")
    n = w.numel()
    if w.ndim > 1:
        raise RuntimeError(f"prelu: weight must be 0-D or 1-D (num_parameters,), got shape {tuple(w.shape)}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{n} and channel size = {channels} (prelu: input {tuple(x.shape)}, weight {tuple(w.shape)})"
        )
    if n == 1:
        a = w.reshape(())  # one slope for everything
    else:
        a = w.reshape((n,) + (1,) * (x.ndim - 2))  # (C, 1, ..., 1): broadcasts over (N, C, *)
    return where(x > 0, x, a * x)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False) -> Tensor:
    """Randomised leaky ReLU (Xu et al., 2015): in training each non-positive entry gets its own
    slope drawn from ``U(lower, upper)``; in evaluation the slope is the mean ``(lower + upper) / 2``."""
    x = _tensor(input, "rrelu")
    if not lower <= upper:
        raise ValueError(f"rrelu: lower bound {lower} must not exceed upper bound {upper}")
    if not training:
        return F.leaky_relu(x, (lower + upper) / 2, inplace)
    slopes = Tensor._wrap(rng().uniform(lower, upper, x.data.shape).astype(x.data.dtype))
    return _result(x, where(x > 0, x, x * slopes), inplace, "rrelu_")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit (Dauphin et al., 2017): split ``dim`` in halves ``a, b``; return ``a · σ(b)``."""
    x = _tensor(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = x.shape[dim]
    if size % 2:
        d = dim % x.ndim
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = x.chunk(2, dim)
    return a * sigmoid(b)


# ---------------------------------------------------------------------------- simple layers
class _Inplace(Module):
    """An activation whose only setting is ``inplace``, shown in the repr only when True."""

    _fn: Any = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """``max(x, 0)``."""

    _fn = staticmethod(F.relu)


class SELU(_Inplace):
    """``scale · elu(x, alpha)`` with the self-normalising constants (Klambauer et al., 2017)."""

    _fn = staticmethod(F.selu)


class SiLU(_Inplace):
    """``x · σ(x)`` (also called swish)."""

    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    """``x · tanh(softplus(x))``."""

    _fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    """``clip(x / 6 + 1/2, 0, 1)``."""

    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:  # PyTorch does not show inplace for this one
        return ""


class Hardswish(_Inplace):
    """``x · hardsigmoid(x)``."""

    _fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""


class _NoArgs(Module):
    _fn: Any = None

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input)


class Sigmoid(_NoArgs):
    """``1 / (1 + e^-x)``."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_NoArgs):
    """Hyperbolic tangent."""

    _fn = staticmethod(F.tanh)


class LogSigmoid(_NoArgs):
    """``log σ(x)``, computed stably."""

    _fn = staticmethod(F.logsigmoid)


class Softsign(_NoArgs):
    """``x / (1 + |x|)``."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_NoArgs):
    """``x - tanh(x)``."""

    _fn = staticmethod(tanhshrink)


# ----------------------------------------------------------------------- layers with settings
class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace_str}"


class Hardtanh(Module):
    """Clip to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise AssertionError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace_str}"


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``: a ``Hardtanh(0, 6)``, as in PyTorch."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` for positive inputs, ``negative_slope · x`` otherwise."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace_str}"


class RReLU(Module):
    """Randomised leaky ReLU: random slopes in ``U(lower, upper)`` while training, their mean in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace_str}"


class _Alpha(Module):
    _fn: Any = None

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class ELU(_Alpha):
    """``x`` above 0, ``alpha · (e^x - 1)`` below."""

    _fn = staticmethod(F.elu)


class CELU(_Alpha):
    """``max(0, x) + min(0, alpha · (e^(x/alpha) - 1))``."""

    _fn = staticmethod(F.celu)


class GELU(Module):
    """``x · Φ(x)`` (``approximate='none'``) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """``log(1 + e^(beta·x)) / beta``, linear where ``beta · x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    """``x ∓ lambd`` outside ``[-lambd, lambd]``, 0 inside."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class GLU(Module):
    """Gated linear unit over ``dim``: first half times the sigmoid of the second."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """Leaky ReLU whose negative slope is learned: one per channel (``num_parameters=C``) or one shared.

    ``weight`` has shape ``(num_parameters,)`` and starts at ``init`` (0.25). Do not use weight decay
    on it (He et al., 2015).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if not isinstance(num_parameters, int) or isinstance(num_parameters, bool) or num_parameters < 1:
            raise TypeError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        if device is not None:
            _device(device)
        d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=d))  # (num_parameters,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _Dim(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_Dim):
    """Probabilities along ``dim`` (every slice along it sums to 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_Dim):
    """Log-probabilities along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmin(_Dim):
    """``softmax(-x)`` along ``dim``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim, _stacklevel=5)


class Softmax2d(Module):
    """Softmax over the channels of each pixel: dim -3 of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3, _stacklevel=5)


__all__ = [
    "Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh", "SiLU", "Mish",
    "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU", "Hardshrink", "LeakyReLU", "LogSigmoid",
    "Softplus", "Softshrink", "PReLU", "Softsign", "Tanhshrink", "Softmin", "Softmax", "Softmax2d",
    "LogSoftmax",
]
