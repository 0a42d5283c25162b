"""MobileNetV2: M. Sandler, A. Howard, M. Zhu, A. Zhmoginov & L.-C. Chen, "MobileNetV2: inverted residuals
and linear bottlenecks", CVPR 2018.

A network for phones, built from **inverted residual** blocks: a 1x1 convolution *expands* a thin
input ``t``-fold (ReLU6), a 3x3 *depthwise* convolution (``groups`` = channels: one 3x3 filter
per channel, 9·C weights instead of 9·C²) filters each channel (ReLU6), and a 1x1 convolution
*projects* back to a thin output with **no** activation (the "linear bottleneck": a ReLU on a
low-dimensional code would destroy information). The residual joins the thin ends, when stride
is 1 and the widths agree. ``width_mult`` scales every width, rounded by ``_make_divisible`` to a
multiple of 8.

:class:`MobileNetV2` is torchvision's module for module: ``features.0`` (stem
``Conv2dNormActivation``: ``.0`` conv, ``.1`` BN), ``features.1``…``features.17`` (blocks, each a
``.conv`` Sequential: ``conv.0`` expand / ``conv.1`` depthwise ``Conv2dNormActivation``s, then the
projection conv and its BN), ``features.18`` (1x1 conv to 1280), ``classifier.1`` (after
``Dropout``). ``state_dict`` keys and shapes are torchvision's; **3,504,872** parameters at width 1
and 1000 classes. Init, as torchvision: convolutions ``kaiming_normal_(mode='fan_out')``, zero
conv bias, BN γ=1 β=0, linear ``N(0, 0.01²)`` with zero bias.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from groundup import nn
from groundup.tensor import Tensor

__all__ = ["MobileNetV2", "mobilenet_v2", "InvertedResidual", "Conv2dNormActivation"]


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``v`` to the nearest multiple of ``divisor`` (at least ``min_value``), never more than 10% down."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """``Conv2d → norm → activation``, torchvision's ``ops.Conv2dNormActivation`` (same arguments, same keys ``0``, ``1``).

    ``padding=None`` gives "same" padding ``(kernel_size - 1) // 2 · dilation``; the convolution has
    a bias only without a norm layer (``bias=None``), since the BN's β plays its part.
    ``norm_layer=None`` or ``activation_layer=None`` leaves that layer out.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
        activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
        dilation: int = 1,
        bias: bool | None = None,
    ) -> None:
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation, groups=groups, bias=bias)
        ]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer())
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """Expand (1x1, ReLU6) → depthwise 3x3 (stride, ReLU6) → project (1x1, linear), plus ``x`` when shapes agree."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: float) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride}")
        hidden_dim = int(round(inp * expand_ratio))
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, activation_layer=nn.ReLU6))  # expand
        layers += [
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, kernel_size=1, bias=False),  # project: linear bottleneck
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, inp, H, W); inside self.conv: (N, t·inp, H, W) → (N, t·inp, H/s, W/s) → (N, oup, H/s, W/s)
        if self.use_res_connect:
            return x + self.conv(x)  # (N, oup, H, W)
        return self.conv(x)  # (N, oup, H/s, W/s)


class MobileNetV2(nn.Module):
    """MobileNetV2 on ``(N, 3, H, W)`` images; returns ``(N, num_classes)`` logits.

    Args:
        num_classes: size of the output.
        width_mult: multiplies every layer's width (the last one's only when > 1).
        inverted_residual_setting: rows ``[t, c, n, s]``: expansion, output channels, blocks, stride of the first.
        round_nearest: widths are rounded to multiples of this (1 turns rounding off).
        dropout: dropout before the classifier.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        inverted_residual_setting: Sequence[Sequence[int]] | None = None,
        round_nearest: int = 8,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        input_channel, last_channel = 32, 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                # t, c, n, s
                [1, 16, 1, 1],
                [6, 24, 2, 2],
                [6, 32, 3, 2],
                [6, 64, 4, 2],
                [6, 96, 3, 1],
                [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError(
                f"inverted_residual_setting should be non-empty and a list of 4-element lists, got {inverted_residual_setting}"
            )
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features: list[nn.Module] = [Conv2dNormActivation(3, input_channel, stride=2, activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1, activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 224, 224); widths at width_mult=1
        x = self.features(x)  # (N, 1280, 7, 7): stride 32 in all
        x = x.mean(dim=(2, 3))  # (N, 1280): global average pool, adaptive_avg_pool2d(x, 1) flattened
        return self.classifier(x)  # (N, num_classes)


def mobilenet_v2(**kwargs: Any) -> MobileNetV2:
    """torchvision's ``mobilenet_v2()`` without pretrained weights: ``MobileNetV2(**kwargs)``."""
    return MobileNetV2(**kwargs)
