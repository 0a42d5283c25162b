"""``groundup.nn.functional``: the stateless layer ops, with ``torch.nn.functional``'s signatures.

A thin face: the maths lives in ``groundup/functions/`` (activation.py, softmax.py, linalg.py,
movement.py, elementwise.py); this module only adapts arguments.

``inplace=True`` writes the result into ``input`` and returns it, as in PyTorch, when autograd is
not recording through ``input`` (it does not require grad, or grad mode is off). When it is, the
op is computed out of place and the new tensor returned, which is what ``x = F.relu(x, inplace=True)``
needs; groundup does not rewrite recorded graphs in place.
"""

from __future__ import annotations

import warnings
from typing import Any

from groundup.autograd import is_grad_enabled
from groundup.functions import activation as _act
from groundup.functions import elementwise as _ew
from groundup.functions import softmax as _sm
from groundup.functions.linalg import linear
from groundup.functions.movement import pad
from groundup.tensor import Tensor


def _result(input: Tensor, out: Tensor, inplace: bool, op: str) -> Tensor:
    """``out``, or ``input`` overwritten with it when ``inplace`` and no graph records ``input``."""
    if not inplace or (input.requires_grad and is_grad_enabled()):
        return out
    return input._inplace(op, out)


# ----------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``."""
    return _result(input, _ew.relu(input), inplace, "relu_")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return _result(input, _act.relu6(input), inplace, "relu6_")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for positive inputs, ``negative_slope * x`` otherwise."""
    return _result(input, _act.leaky_relu(input, negative_slope), inplace, "leaky_relu_")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below."""
    return _result(input, _act.elu(input, alpha), inplace, "elu_")


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalising ELU: ``scale * elu(x, alpha)`` with alpha = 1.6733, scale = 1.0507."""
    return _result(input, _act.selu(input), inplace, "selu_")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _result(input, _act.celu(input, alpha), inplace, "celu_")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Φ(x)`` with the exact normal CDF, or its tanh approximation (``approximate='tanh'``)."""
    return _act.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    return _result(input, _act.silu(input), inplace, "silu_")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return _result(input, _act.mish(input), inplace, "mish_")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return _act.softplus(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return _act.softsign(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clip to ``[min_val, max_val]``."""
    return _result(input, _act.hardtanh(input, min_val, max_val), inplace, "hardtanh_")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clip(x / 6 + 1/2, 0, 1)``."""
    return _result(input, _act.hardsigmoid(input), inplace, "hardsigmoid_")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)``."""
    return _result(input, _act.hardswish(input), inplace, "hardswish_")


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, stable for any input."""
    return _ew.sigmoid(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed as ``-softplus(-x)``."""
    return _act.logsigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _ew.tanh(input)


# -------------------------------------------------------------------------------- softmax
def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice when ``dim`` is omitted (with its deprecation warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Probabilities along ``dim`` (``dtype`` casts the input first)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return _sm.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """Log-probabilities along ``dim``, computed without forming the probabilities."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _sm.log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``softmax(-x)`` along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return _sm.softmin(input, dim, dtype=dtype)


__all__ = [
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
    "softsign", "hardtanh", "hardsigmoid", "hardswish", "sigmoid", "logsigmoid", "tanh",
    "softmax", "log_softmax", "softmin", "linear", "pad",
    "bilinear",
]

# Losses, normalization, dropout, embeddings and distances live in their own function files;
# each lists its public names in ``__all__`` and appears here under PyTorch's F names.
from groundup.functions.conv import *  # noqa: E402, F403
from groundup.functions.distance import *  # noqa: E402, F403
from groundup.functions.dropout import *  # noqa: E402, F403
from groundup.functions.embedding import *  # noqa: E402, F403
from groundup.functions.interpolate import *  # noqa: E402, F403
from groundup.functions.linalg import bilinear  # noqa: E402
from groundup.functions.loss import *  # noqa: E402, F403
from groundup.functions.normalization import *  # noqa: E402, F403
from groundup.functions.pooling import *  # noqa: E402, F403
