"""Weight initialisation, as ``torch.nn.init``: fill a tensor in place and return it.

Why initialisation matters: with ``y = W x`` and independent zero-mean entries,
``Var(y_i) = fan_in · Var(W) · Var(x)``. Keeping activations (forward) or gradients (backward)
at a steady scale through many layers needs ``Var(W) ≈ 1 / fan``, times a *gain* that undoes the
shrinkage of the nonlinearity that follows (ReLU zeroes half its inputs, so its gain is √2).

- Xavier/Glorot (2010) averages the two directions: ``Var(W) = gain² · 2 / (fan_in + fan_out)``.
- Kaiming/He (2015) keeps one of them exact: ``Var(W) = gain² / fan`` (``mode='fan_in'`` or
  ``'fan_out'``).
- A uniform ``U(-a, a)`` has variance ``a² / 3``, so its bound is ``a = √3 · std``.

``nn.Linear``'s default, ``kaiming_uniform_(w, a=√5)``, works out to ``U(-1/√fan_in, 1/√fan_in)``.

Every function draws from groundup's generator (``groundup.manual_seed`` makes them repeat, or
pass ``generator=``), runs under ``no_grad`` and bumps the tensor's version counter, so it can be
applied to a Parameter that requires grad.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from groundup.autograd import no_grad
from groundup.backend import Generator, rng, xp
from groundup.tensor import Tensor

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for a nonlinearity (its ``nn.functional`` name).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2 / (1 + slope²)) with ``param``
    the negative slope (default 0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically (PyTorch PR #50664)
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity} (expected one of {', '.join(_LINEAR_FNS)}, sigmoid, "
        "tanh, relu, leaky_relu, selu)"
    )


# ------------------------------------------------------------------------------------ helpers
def _check(tensor: Any, op: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init.{op}: expected a Tensor, got {type(tensor).__name__}")
    return tensor


def _write(tensor: Tensor, values: Any, op: str) -> Tensor:
    """Copy ``values`` into ``tensor`` (cast to its dtype), without recording, bumping its version."""
    if tensor.data.dtype.kind != "f" and np.asarray(values).dtype.kind == "f":
        raise TypeError(f"init.{op}: expected a floating-point tensor, got dtype {tensor.dtype}")
    with no_grad():
        xp.copyto(tensor.data, values, casting="unsafe")
        tensor._vc[0] += 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight laid out (out, in, *kernel): in·k and out·k, k = prod(kernel)."""
    shape = tuple(_check(tensor, "_calculate_fan_in_and_fan_out").shape)
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {shape})"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _is_empty(tensor: Tensor) -> bool:
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


# -------------------------------------------------------------------------------- basic fills
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with draws from ``U(a, b)``."""
    _check(tensor, "uniform_")
    return _write(tensor, rng(generator).uniform(a, b, tensor.data.shape), "uniform_")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with draws from ``N(mean, std²)``."""
    _check(tensor, "normal_")
    if std < 0:
        raise RuntimeError(f"init.normal_: expects std >= 0.0, but found std {std}")
    return _write(tensor, rng(generator).normal(mean, std, tensor.data.shape), "normal_")


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill with draws from ``N(mean, std²)`` truncated to ``[a, b]`` (an exact sampler).

    As PyTorch does: when the interval holds more than 30% of the normal's mass, draw normals and
    redraw those outside; otherwise propose ``U(a, b)`` and accept ``x`` with probability
    ``exp(-(z² - z_mode²)/2)``, ``z = (x - mean)/std`` (rejection sampling under the flat envelope
    at the density's peak in ``[a, b]``). Each round redraws only the rejected entries at once.
    """
    _check(tensor, "trunc_normal_")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    if std <= 0 or not a <= b:
        raise ValueError(f"init.trunc_normal_: expected std > 0 and a <= b, got std={std}, a={a}, b={b}")
    gen = rng(generator)
    shape = tensor.data.shape

    def cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    mass = cdf((b - mean) / std) - cdf((a - mean) / std)
    if mass > 0.3:
        out = gen.normal(mean, std, shape)
        bad = np.flatnonzero((out < a) | (out > b))
        flat = out.reshape(-1)
        while bad.size:
            redraw = gen.normal(mean, std, bad.size)
            flat[bad] = redraw
            bad = bad[(redraw < a) | (redraw > b)]
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def log_accept(x: Any) -> Any:
            return -0.5 * ((x - mean) / std) ** 2 - log_peak

        out = gen.uniform(a, b, shape)
        flat = out.reshape(-1)
        bad = np.flatnonzero(np.log(gen.random(flat.size)) > log_accept(flat))
        while bad.size:
            cand = gen.uniform(a, b, bad.size)
            flat[bad] = cand
            bad = bad[np.log(gen.random(bad.size)) > log_accept(cand)]
    return _write(tensor, out, "trunc_normal_")


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _write(_check(tensor, "constant_"), val, "constant_")


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _write(_check(tensor, "ones_"), 1, "ones_")


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _write(_check(tensor, "zeros_"), 0, "zeros_")


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the main diagonal of a possibly rectangular matrix)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (eye_ got shape {tuple(tensor.shape)})")
    return _write(tensor, xp.eye(*tensor.data.shape), "eye_")


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D conv weight (out, in, *kernel) so the convolution is the identity: a 1 at the
    kernel centre of ``[g·out_per_group + d, d]`` for each group ``g`` and channel ``d``."""
    _check(tensor, "dirac_")
    sizes = tuple(tensor.shape)
    if len(sizes) not in (3, 4, 5):
        raise ValueError(f"Only tensors with 3, 4, or 5 dimensions are supported (dirac_ got shape {sizes})")
    if sizes[0] % groups != 0:
        raise ValueError(f"dim 0 must be divisible by groups (dirac_ got size {sizes[0]} and groups={groups})")
    per_group = sizes[0] // groups
    d = np.arange(min(per_group, sizes[1]))
    rows = (np.arange(groups)[:, None] * per_group + d).ravel()
    cols = np.tile(d, groups)
    centre = tuple(np.full(rows.size, s // 2) for s in sizes[2:])
    values = np.zeros(sizes)
    values[(rows, cols) + centre] = 1
    return _write(tensor, values, "dirac_")


# ------------------------------------------------------------------------------ Xavier, Kaiming
def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """``U(-a, a)`` with ``a = gain · √(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_check(tensor, "xavier_uniform_"))
    if _is_empty(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """``N(0, std²)`` with ``std = gain · √(2 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(_check(tensor, "xavier_normal_"))
    if _is_empty(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """``U(-bound, bound)`` with ``bound = gain · √(3 / fan)`` (He et al., 2015); ``a`` is the
    leaky-ReLU negative slope used for the gain."""
    _check(tensor, "kaiming_uniform_")
    if _is_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """``N(0, std²)`` with ``std = gain / √fan`` (He et al., 2015)."""
    _check(tensor, "kaiming_normal_")
    if _is_empty(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


# ------------------------------------------------------------------------------ orthogonal, sparse
def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix, trailing dims flattened (Saxe et al., 2013), times ``gain``.

    QR of a Gaussian matrix, with each column of Q multiplied by the sign of R's diagonal: without
    that correction Q is not uniformly (Haar) distributed, because QR fixes R's diagonal positive
    only by convention. Wide matrices are factored transposed, so rows or columns are orthonormal,
    whichever are fewer.
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"Only tensors with 2 or more dimensions are supported (orthogonal_ got shape {tuple(tensor.shape)})"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.data.shape[0]
    cols = tensor.numel() // rows
    flat = rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)  # reduced: q (max, min), r (min, min)
    q *= np.sign(np.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor.data.shape), "orthogonal_")


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Generator | None = None) -> Tensor:
    """A 2-D matrix with ``ceil(sparsity · rows)`` zeros in every column, the rest ``N(0, std²)``
    (Martens, 2010). The zero rows of each column are a random subset, chosen for all columns at
    once by arg-sorting a matrix of uniform keys."""
    _check(tensor, "sparse_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (sparse_ got shape {tuple(tensor.shape)})")
    rows, cols = tensor.data.shape
    num_zeros = math.ceil(sparsity * rows)
    gen = rng(generator)
    values = gen.normal(0.0, std, (rows, cols))
    zero_rows = np.argsort(gen.random((rows, cols)), axis=0)[:num_zeros]  # (num_zeros, cols)
    values[zero_rows, np.arange(cols)] = 0.0
    return _write(tensor, values, "sparse_")


# --------------------------------------------------------------------- deprecated spellings
def _make_deprecate(meth: Callable[..., Tensor]) -> Callable[..., Tensor]:
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"Deprecated: use :func:`{new_name}`."
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
    "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]
