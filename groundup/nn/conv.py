"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``, and the
``Unfold``/``Fold`` (im2col/col2im) modules.

The weights are laid out as in PyTorch, so ``state_dict`` tensors move between the two unchanged:
a convolution's weight is ``(out_channels, in_channels/groups, *kernel_size)``, a transposed
convolution's ``(in_channels, out_channels/groups, *kernel_size)`` (it is the weight of the
convolution it transposes). Both start from PyTorch's default ``kaiming_uniform_(a=√5)``, which
works out to ``U(-1/√fan_in, 1/√fan_in)`` with ``fan_in = weight.shape[1]·prod(kernel_size)``; the
bias is drawn from the same range. The maths lives in :mod:`groundup.functions.conv`.
"""

from __future__ import annotations

import math
from typing import Any

from groundup.creation import empty
from groundup.functions.conv import _conv, _conv_transpose
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.linear import _factory
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value: Any, n: int, name: str, cls: str) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints as an ``n``-tuple (PyTorch's ``_single``/``_pair``)."""
    seq = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(seq) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in seq):
        raise TypeError(f"{cls}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return seq


class _ConvNd(Module):
    """What every convolution layer shares: argument checks, parameters, initialisation, repr.

    ``transposed`` selects the weight layout; ``_reversed_padding_repeated_twice`` is the padding
    in ``F.pad``'s order (last dimension first), used for the non-zero padding modes.
    """

    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: str | tuple[int, ...]
    dilation: tuple[int, ...]
    transposed: bool
    output_padding: tuple[int, ...]
    groups: int
    padding_mode: str

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, ...], stride: tuple[int, ...],
                 padding: str | tuple[int, ...], dilation: tuple[int, ...], transposed: bool,
                 output_padding: tuple[int, ...], groups: int, bias: bool, padding_mode: str,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cls = type(self).__name__
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{cls}: {name} must be a positive int, got {v!r}")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{cls}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{cls}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{cls}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        for name, values, low in (("kernel_size", kernel_size, 1), ("stride", stride, 1),
                                  ("dilation", dilation, 1), ("output_padding", output_padding, 0)):
            if any(v < low for v in values):
                raise ValueError(f"{cls}: {name} must be >= {low} in every dimension, got {name}={values}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{cls}: invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{cls}: padding='same' is not supported for strided convolutions (stride={stride})")
        elif any(p < 0 for p in padding):
            raise ValueError(f"{cls}: padding must be non-negative, got padding={padding}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{cls}: padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode={padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.transposed, self.output_padding, self.groups = transposed, output_padding, groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":  # total d·(k-1), the odd one out at the end (as PyTorch)
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in (0, 1)]
        d = _factory(cls, device, dtype)
        if transposed:  # (in, out/groups, *kernel)
            shape = (in_channels, out_channels // groups) + tuple(kernel_size)
        else:  # (out, in/groups, *kernel)
            shape = (out_channels, in_channels // groups) + tuple(kernel_size)
        self.weight = Parameter(empty(*shape, dtype=d))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=d))  # (out,)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _check_input(self, input: Tensor) -> None:
        """Rank and channel count of the input, named after the layer (before any padding)."""
        cls, nd = type(self).__name__, len(self.kernel_size)
        if not isinstance(input, Tensor):
            raise TypeError(f"{cls}: expected a Tensor as input, got {type(input).__name__}")
        shape = tuple(input.shape)
        sp = "L" if nd == 1 else "H, W"
        if input.ndim not in (nd + 1, nd + 2):
            raise RuntimeError(
                f"{cls}: expected a {nd + 1}-D (unbatched: C, {sp}) or {nd + 2}-D (batched: N, C, {sp}) input, "
                f"but got input of shape {shape}"
            )
        c = shape[-nd - 1]
        if c != self.in_channels:
            raise RuntimeError(
                f"{cls}: expected input with {self.in_channels} channels (in_channels={self.in_channels}) "
                f"in dimension {input.ndim - nd - 1}, but got input of shape {shape} with {c} channels"
            )

    def reset_parameters(self) -> None:
        """Redraw the weight and bias from PyTorch's default distribution."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d/Conv2d: ``padding_mode`` other than 'zeros' pads with ``F.pad`` first, then convolves
    without padding."""

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        n, cls = self._nd, type(self).__name__
        super().__init__(
            in_channels, out_channels, _ntuple(kernel_size, n, "kernel_size", cls), _ntuple(stride, n, "stride", cls),
            padding if isinstance(padding, str) else _ntuple(padding, n, "padding", cls),
            _ntuple(dilation, n, "dilation", cls), False, (0,) * n, groups, bias, padding_mode, device, dtype,
        )

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """``F.conv1d``/``F.conv2d`` with this layer's settings; its errors name the layer."""
        self._check_input(input)
        cls, nd = type(self).__name__, self._nd
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return _conv(cls, nd, input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return _conv(cls, nd, input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over ``(N, C_in, L)`` or ``(C_in, L)``: weight ``(out, in/groups, k)``.

    ``padding`` is an int, a 1-tuple, ``'valid'`` or ``'same'``; ``padding_mode`` is 'zeros',
    'reflect', 'replicate' or 'circular'.
    """

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)``: weight ``(out, in/groups, kH, kW)``.

    ``Conv2d(3, 16, 3, padding=1)`` keeps the spatial size; ``groups=in_channels`` gives a depthwise
    convolution; ``padding_mode`` is 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    _nd = 2


class _ConvTranspose(_ConvNd):
    """ConvTranspose1d/2d: zero padding only; ``forward(input, output_size=None)`` can pick the
    output size among those a strided convolution maps to the input size (it sets output_padding)."""

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        n, cls = self._nd, type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {cls}, got padding_mode={padding_mode!r}')
        super().__init__(
            in_channels, out_channels, _ntuple(kernel_size, n, "kernel_size", cls), _ntuple(stride, n, "stride", cls),
            _ntuple(padding, n, "padding", cls), _ntuple(dilation, n, "dilation", cls), True,
            _ntuple(output_padding, n, "output_padding", cls), groups, bias, padding_mode, device, dtype,
        )

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output_padding that makes the output ``output_size`` (spatial, or with N and C)."""
        if output_size is None:
            return self.output_padding
        n = self._nd
        size = list(output_size)
        lead = 2 if input.ndim == n + 2 else 1
        if len(size) == lead + n:
            size = size[lead:]
        if len(size) != n:
            raise ValueError(
                f"{type(self).__name__}: for {input.ndim}-D input, output_size must have {n} or {lead + n} "
                f"elements (got {len(output_size)}: {tuple(output_size)})"
            )
        spatial = tuple(input.shape)[-n:]
        lo = [(h - 1) * s - 2 * p + d * (k - 1) + 1
              for h, s, p, d, k in zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        hi = [m + s - 1 for m, s in zip(lo, self.stride)]
        if any(not a <= v <= b for v, a, b in zip(size, lo, hi)):
            raise ValueError(
                f"{type(self).__name__}: requested an output size of {tuple(size)}, but valid sizes range from "
                f"{tuple(lo)} to {tuple(hi)} (for an input of spatial size {spatial})"
            )
        return tuple(v - m for v, m in zip(size, lo))

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """``F.conv_transpose1d``/``F.conv_transpose2d`` with this layer's settings; its errors name the layer."""
        self._check_input(input)
        out_pad = self._output_padding(input, output_size)
        return _conv_transpose(type(self).__name__, self._nd, input, self.weight, self.bias, self.stride,
                               self.padding, out_pad, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over ``(N, C_in, L)`` or ``(C_in, L)``: weight ``(in, out/groups, k)``.

    Output length ``(L - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1``.
    """

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"): weight ``(in, out/groups, kH, kW)``.

    The gradient of a ``Conv2d`` with the same arguments with respect to its input, used as a layer
    (learned upsampling). Output size per dimension
    ``(in - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1``.
    """

    _nd = 2


class Unfold(Module):
    """im2col as a module: ``(N, C, H, W)`` -> ``(N, C·kH·kW, L)`` (see ``F.unfold``)."""

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """col2im as a module: ``(N, C·kH·kW, L)`` -> ``(N, C, *output_size)``, overlaps summed (see ``F.fold``)."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold"]
