"""EfficientNet: M. Tan & Q. V. Le, "EfficientNet: rethinking model scaling for convolutional neural
networks", ICML 2019.

EfficientNet-B0 is a stack of **MBConv** blocks (found by architecture search): MobileNetV2's
inverted residual (:mod:`groundup.models.mobilenet`) with SiLU instead of ReLU6, 3x3 or 5x5
depthwise kernels, and a **squeeze-and-excitation** gate (J. Hu, L. Shen & G. Sun, CVPR 2018)
between the depthwise and the projection convolutions: global-average-pool each channel, pass
the vector through a two-layer bottleneck (to a quarter of the *block input's* width), and scale
each channel by the sigmoid of the result. The residual branch of each block is dropped at random
per sample while training (**stochastic depth**, G. Huang et al., ECCV 2016), with a drop
probability rising linearly from 0 for the first block to ``0.2 · (B-1)/B`` for the last. B1-B7
scale B0's widths and depths (the paper's compound scaling); ``width_mult``/``depth_mult`` do
that here.

:class:`EfficientNet` is torchvision's module for module: ``features.0`` (stem
``Conv2dNormActivation``), ``features.1``…``features.7`` (stages, each a ``Sequential`` of
:class:`MBConv`, each holding ``block.0``… = [expand] ``Conv2dNormActivation``, depthwise one,
``SqueezeExcitation`` with ``fc1``/``fc2`` 1x1 convolutions, projection one), ``features.8``
(1x1 conv to 1280), ``classifier.1``. ``state_dict`` keys and shapes are torchvision's;
``efficientnet_b0`` has **5,288,548** parameters at 1000 classes. Batch norm: PyTorch's defaults
(eps 1e-5, momentum 0.1), as torchvision's b0-b4 (its b5-b7 use eps 1e-3, momentum 0.01, and
V2 eps 1e-3: pass ``norm_layer``). Init, as torchvision: convolutions
``kaiming_normal_(mode='fan_out')``, zero conv bias, BN γ=1 β=0, linear ``U(±1/√out_features)``
with zero bias.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import groundup as gu
from groundup import nn
from groundup.models.mobilenet import Conv2dNormActivation, _make_divisible
from groundup.tensor import Tensor

__all__ = [
    "EfficientNet", "EfficientNetB0", "efficientnet_b0", "MBConv", "MBConvConfig",
    "SqueezeExcitation", "StochasticDepth", "stochastic_depth",
]


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero whole samples (``'row'``) or the whole batch (``'batch'``) with probability ``p``; scale the rest by ``1/(1-p)``.

    torchvision's ``ops.stochastic_depth``: applied to a residual branch, it drops the block for
    those samples (the identity path still carries them) and keeps the expected value unchanged.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = (input.shape[0],) + (1,) * (input.ndim - 1) if mode == "row" else (1,) * input.ndim
    noise = (gu.rand(*size, dtype=input.dtype) < survival_rate).to(input.dtype)  # (N, 1, 1, 1): 1 = keep
    if survival_rate > 0.0:
        noise = noise / survival_rate  # (N, 1, 1, 1): kept rows scaled by 1/(1-p)
    return input * noise  # (N, C, H, W)


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth`, active in training mode only."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input: Tensor) -> Tensor:
        return stochastic_depth(input, self.p, self.mode, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class SqueezeExcitation(nn.Module):
    """``x · σ(fc2(act(fc1(avgpool(x)))))``: a learned gate per channel; ``fc1``/``fc2`` are 1x1 convolutions."""

    def __init__(
        self,
        input_channels: int,
        squeeze_channels: int,
        activation: Callable[[], nn.Module] = nn.ReLU,
        scale_activation: Callable[[], nn.Module] = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C, H, W)
        scale = self.avgpool(x)  # (N, C, 1, 1): squeeze
        scale = self.activation(self.fc1(scale))  # (N, C_squeeze, 1, 1)
        scale = self.scale_activation(self.fc2(scale))  # (N, C, 1, 1): excitation, in (0, 1)
        return scale * x  # (N, C, H, W)


@dataclass
class MBConvConfig:
    """One stage: ``num_layers`` MBConv blocks; the first has ``stride`` and ``input_channels``.

    Widths are scaled by ``width_mult`` and rounded to multiples of 8, depths by ``depth_mult``
    and rounded up (:meth:`scaled`).
    """

    expand_ratio: float
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    num_layers: int

    def scaled(self, width_mult: float = 1.0, depth_mult: float = 1.0) -> MBConvConfig:
        return MBConvConfig(
            self.expand_ratio,
            self.kernel,
            self.stride,
            _make_divisible(self.input_channels * width_mult, 8),
            _make_divisible(self.out_channels * width_mult, 8),
            int(math.ceil(self.num_layers * depth_mult)),
        )


# EfficientNet-B0, the paper's Table 1: expand ratio, kernel, stride, in, out, layers
_B0_SETTING = [
    MBConvConfig(1, 3, 1, 32, 16, 1),
    MBConvConfig(6, 3, 2, 16, 24, 2),
    MBConvConfig(6, 5, 2, 24, 40, 2),
    MBConvConfig(6, 3, 2, 40, 80, 3),
    MBConvConfig(6, 5, 1, 80, 112, 3),
    MBConvConfig(6, 5, 2, 112, 192, 4),
    MBConvConfig(6, 3, 1, 192, 320, 1),
]


class MBConv(nn.Module):
    """[expand 1x1, SiLU] → depthwise kxk (stride, SiLU) → squeeze-excitation → project 1x1 (linear), plus ``x``."""

    def __init__(
        self,
        cnf: MBConvConfig,
        stochastic_depth_prob: float,
        norm_layer: Callable[..., nn.Module] = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"MBConv: illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = _make_divisible(cnf.input_channels * cnf.expand_ratio, 8)
        layers: list[nn.Module] = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, 1, norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(
            Conv2dNormActivation(
                expanded, expanded, cnf.kernel, cnf.stride, groups=expanded, norm_layer=norm_layer, activation_layer=nn.SiLU
            )
        )
        layers.append(SqueezeExcitation(expanded, max(1, cnf.input_channels // 4), activation=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, 1, norm_layer=norm_layer, activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, C_in, H, W); inside self.block: (N, t·C_in, H, W) → (N, t·C_in, H/s, W/s) → (N, C_out, H/s, W/s)
        out = self.block(x)  # (N, C_out, H/s, W/s)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x  # (N, C_out, H, W)
        return out


class EfficientNet(nn.Module):
    """An EfficientNet (V1) from stage configurations; returns ``(N, num_classes)`` logits.

    Args:
        inverted_residual_setting: one :class:`MBConvConfig` per stage (already scaled).
        dropout: dropout before the classifier.
        stochastic_depth_prob: drop probability reached (almost) by the last block.
        num_classes: size of the output.
        norm_layer: batch-norm factory, ``nn.BatchNorm2d`` by default.
        last_channel: width of the final 1x1 convolution (4 × the last stage's width if None).
    """

    def __init__(
        self,
        inverted_residual_setting: Sequence[MBConvConfig],
        dropout: float,
        stochastic_depth_prob: float = 0.2,
        num_classes: int = 1000,
        norm_layer: Callable[..., nn.Module] | None = None,
        last_channel: int | None = None,
    ) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not all(isinstance(s, MBConvConfig) for s in inverted_residual_setting):
            raise TypeError("The inverted_residual_setting should be a list of MBConvConfig")
        norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer

        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [Conv2dNormActivation(3, first, 3, 2, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage: list[nn.Module] = []
            for i in range(cnf.num_layers):
                block_cnf = cnf if i == 0 else MBConvConfig(
                    cnf.expand_ratio, cnf.kernel, 1, cnf.out_channels, cnf.out_channels, cnf.num_layers
                )
                sd_prob = stochastic_depth_prob * float(block_id) / total_blocks  # linear in depth
                stage.append(MBConv(block_cnf, sd_prob, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, 1, norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init_range = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -init_range, init_range)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 224, 224); b0 widths
        x = self.features(x)  # (N, 1280, 7, 7): stride 32 in all
        x = self.avgpool(x)  # (N, 1280, 1, 1)
        x = x.flatten(1)  # (N, 1280)
        return self.classifier(x)  # (N, num_classes)


class EfficientNetB0(EfficientNet):
    """EfficientNet-B0 (torchvision's ``efficientnet_b0``); ``width_mult``/``depth_mult`` scale it.

    B1-B7 are (width, depth, dropout) = (1.0, 1.1, 0.2), (1.1, 1.2, 0.3), (1.2, 1.4, 0.3),
    (1.4, 1.8, 0.4), (1.6, 2.2, 0.4), (1.8, 2.6, 0.5), (2.0, 3.1, 0.5); small multipliers give
    quick toy models.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        depth_mult: float = 1.0,
        dropout: float = 0.2,
        stochastic_depth_prob: float = 0.2,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        setting = [cnf.scaled(width_mult, depth_mult) for cnf in _B0_SETTING]
        super().__init__(setting, dropout, stochastic_depth_prob, num_classes, norm_layer)


def efficientnet_b0(**kwargs: Any) -> EfficientNetB0:
    """torchvision's ``efficientnet_b0()`` without pretrained weights: ``EfficientNetB0(**kwargs)``."""
    return EfficientNetB0(**kwargs)
