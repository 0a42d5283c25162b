"""Affine layers: ``Identity``, ``Linear`` (``y = x Wᵀ + b``) and ``Bilinear`` (``y_o = x1ᵀ W_o x2 + b_o``).

The weight is laid out ``(out_features, in_features)`` as in PyTorch, so ``state_dict`` tensors move
between the two unchanged. The forward pass is one fused op (:func:`groundup.nn.functional.linear`):
a single GEMM over all leading dimensions, so a ``(B, T, C)`` input costs one ``(B·T, C)`` product.
"""

from __future__ import annotations

import math
from typing import Any

from groundup import dtypes as _dt
from groundup.creation import empty
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor
from groundup.tensor import device as _device


def _features(value: Any, name: str, cls: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{cls}: {name} must be a non-negative int, got {value!r} ({type(value).__name__})")
    return value


def _factory(cls: str, device: Any, dtype: Any) -> _dt.dtype:
    """The parameter dtype (floating; the default dtype if None); ``device`` must be the CPU."""
    if device is not None:
        _device(device)
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"{cls}: parameters must have a floating-point dtype, got {d}")
    return d


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments (a placeholder)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x Wᵀ + b`` on the last dimension: input ``(*, in_features)``, output ``(*, out_features)``.

    ``weight`` is ``(out_features, in_features)`` and ``bias`` ``(out_features,)``, both drawn from
    ``U(-1/√in_features, 1/√in_features)`` (PyTorch's default: ``kaiming_uniform_(a=√5)`` for the
    weight, which reduces to that bound).
    """

    in_features: int
    out_features: int

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _features(in_features, "in_features", "Linear")
        self.out_features = _features(out_features, "out_features", "Linear")
        d = _factory("Linear", device, dtype)
        self.weight = Parameter(empty(out_features, in_features, dtype=d))  # (out, in)
        if bias:
            self.bias = Parameter(empty(out_features, dtype=d))  # (out,)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight and bias from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)  # (*, in) -> (*, out)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y_o = x1ᵀ W_o x2 + b_o``: inputs ``(*, in1_features)`` and ``(*, in2_features)``, output
    ``(*, out_features)``; ``weight`` is ``(out, in1, in2)``. Both parameters start as
    ``U(-1/√in1_features, 1/√in1_features)``, as in PyTorch.
    """

    in1_features: int
    in2_features: int
    out_features: int

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in1_features = _features(in1_features, "in1_features", "Bilinear")
        self.in2_features = _features(in2_features, "in2_features", "Bilinear")
        self.out_features = _features(out_features, "out_features", "Bilinear")
        d = _factory("Bilinear", device, dtype)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=d))  # (out, in1, in2)
        if bias:
            self.bias = Parameter(empty(out_features, dtype=d))  # (out,)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the weight and bias from ``U(-1/√in1, 1/√in1)``."""
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)  # (*, in1), (*, in2) -> (*, out)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


__all__ = ["Identity", "Linear", "Bilinear"]
