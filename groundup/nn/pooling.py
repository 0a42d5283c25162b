"""Pooling layers: ``MaxPool``, ``AvgPool``, ``AdaptiveAvgPool``, ``AdaptiveMaxPool`` and ``LPPool``
(1-d and 2-d), with ``torch.nn``'s constructor arguments, attributes and reprs.

Each layer only stores its settings and calls the stateless op (``F.max_pool2d`` etc.) from
``groundup/functions/pooling.py``, where the window arithmetic and the backward passes live, under
its own name, so that an error names the layer (``MaxPool2d: ...``). None of them has parameters.
"""

from __future__ import annotations

from typing import Any

from groundup.functions import pooling as P
from groundup.nn.module import Module
from groundup.tensor import Tensor


def _single(x: Any) -> tuple:
    """PyTorch's ``_single``: a sequence becomes a tuple, anything else a 1-tuple."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


# ------------------------------------------------------------------------------------- max
class _MaxPoolNd(Module):
    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
        return_indices: bool = False, ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window along L: (N, C, L) -> (N, C, L_out); ``stride`` defaults to
    ``kernel_size``. With ``return_indices=True`` the layer returns ``(values, indices)``."""

    def forward(self, input: Tensor) -> Any:
        return P._max_pool(
            "MaxPool1d", 1, input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    """The maximum of each (kh, kw) window: (N, C, H, W) -> (N, C, H_out, W_out)."""

    def forward(self, input: Tensor) -> Any:
        return P._max_pool(
            "MaxPool2d", 2, input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )


# ------------------------------------------------------------------------------------- average
class AvgPool1d(Module):
    """The mean of each window along L; the settings are stored as 1-tuples, as in PyTorch."""

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return P._avg_pool(
            "AvgPool1d", 1, input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, None,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each (kh, kw) window; ``count_include_pad`` and ``divisor_override`` choose the
    divisor (see :func:`groundup.nn.functional.avg_pool2d`)."""

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
        count_include_pad: bool = True, divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return P._avg_pool(
            "AvgPool2d", 2, input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


# ------------------------------------------------------------------------------------- adaptive
class _AdaptivePoolNd(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average L down to ``output_size`` with windows ``[floor(o·L/O), ceil((o+1)·L/O))``."""

    def forward(self, input: Tensor) -> Tensor:
        return P._adaptive_avg("AdaptiveAvgPool1d", 1, input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Average (H, W) down to ``output_size`` (an int, or a pair where None keeps that size);
    ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def forward(self, input: Tensor) -> Tensor:
        return P._adaptive_avg("AdaptiveAvgPool2d", 2, input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The maximum of each adaptive window along L; ``return_indices`` as in ``MaxPool1d``."""

    def forward(self, input: Tensor) -> Any:
        return P._adaptive_max("AdaptiveMaxPool1d", 1, input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The maximum of each adaptive window of (H, W); ``return_indices`` as in ``MaxPool2d``."""

    def forward(self, input: Tensor) -> Any:
        return P._adaptive_max("AdaptiveMaxPool2d", 2, input, self.output_size, self.return_indices)


# ------------------------------------------------------------------------------- power average
class _LPPoolNd(Module):
    def __init__(
        self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling along L: ``(Σ_window x^p)^(1/p)`` with p = ``norm_type``."""

    def forward(self, input: Tensor) -> Tensor:
        return P._lp_pool("LPPool1d", 1, input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (kh, kw) windows: ``(Σ_window x^p)^(1/p)``."""

    def forward(self, input: Tensor) -> Tensor:
        return P._lp_pool("LPPool2d", 2, input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "LPPool1d", "LPPool2d",
]
