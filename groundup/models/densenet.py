"""DenseNet: G. Huang, Z. Liu, L. van der Maaten & K. Q. Weinberger, "Densely connected convolutional
networks", CVPR 2017.

Inside a dense block every layer sees the concatenation of the block's input and of all earlier
layers' outputs, and adds ``growth_rate`` (k) new channels: after ``L`` layers the block holds
``c0 + L·k`` channels. Features are reused instead of relearned, so the layers stay thin. This is
DenseNet-BC: each layer is ``BN → ReLU → 1x1 conv (to bn_size·k) → BN → ReLU → 3x3 conv (to k)``
(the "B"ottleneck), and each transition between blocks, ``BN → ReLU → 1x1 conv → 2x2 avg pool``,
halves the channels ("C"ompression 0.5) and the resolution.

:class:`DenseNet` is torchvision's module for module: ``features`` holds ``conv0``, ``norm0``,
``relu0``, ``pool0``, ``denseblock1`` (of ``denselayer1``… with ``norm1``, ``conv1``, ``norm2``,
``conv2``), ``transition1`` (``norm``, ``conv``, ``pool``), …, ``norm5``; then ``classifier``.
``state_dict`` keys and shapes are torchvision's; ``densenet121`` (k=32, blocks (6, 12, 24, 16),
64 initial features, bn_size 4) has **7,978,856** parameters at 1000 classes. Init, as
torchvision: convolutions ``kaiming_normal_`` (fan_in), BN γ=1 β=0, classifier bias 0 (its
weight PyTorch's default). torchvision's ``memory_efficient`` (gradient checkpointing) is not
carried over. :func:`densenet_small` is a 3-block k=12 DenseNet-BC for 32x32 inputs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import groundup as gu
from groundup import nn
from groundup.nn import functional as F
from groundup.tensor import Tensor

__all__ = ["DenseNet", "densenet121", "densenet_small"]


class _DenseLayer(nn.Module):
    """``BN → ReLU → 1x1 conv → BN → ReLU → 3x3 conv``: ``growth_rate`` new channels from all earlier ones."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int, drop_rate: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, features: list[Tensor]) -> Tensor:
        # features: the block input and every earlier layer's output, (N, c_i, H, W) each
        x = gu.cat(features, dim=1)  # (N, c0 + i·k, H, W)
        x = self.conv1(self.relu1(self.norm1(x)))  # (N, bn_size·k, H, W)
        x = self.conv2(self.relu2(self.norm2(x)))  # (N, k, H, W)
        if self.drop_rate > 0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)  # (N, k, H, W)
        return x


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; the output concatenates the input and all their outputs."""

    def __init__(self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int, drop_rate: float) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, c0, H, W)
        features = [x]
        for layer in self.values():
            features.append(layer(features))  # + (N, k, H, W)
        return gu.cat(features, dim=1)  # (N, c0 + L·k, H, W)


class _Transition(nn.Sequential):
    """``BN → ReLU → 1x1 conv → 2x2 avg pool``: fewer channels, half the resolution."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(num_input_features))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, bias=False))
        self.add_module("pool", nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    """DenseNet-BC on ``(N, 3, H, W)`` images; returns ``(N, num_classes)`` logits.

    Args:
        growth_rate: channels each dense layer adds (k).
        block_config: dense layers per block.
        num_init_features: channels of the 7x7 stem convolution.
        bn_size: the bottleneck 1x1 convolution has ``bn_size · k`` channels.
        drop_rate: dropout after each dense layer.
        num_classes: size of the output.
    """

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: Sequence[int] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        drop_rate: float = 0.0,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                [
                    ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)),
                    ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                ]
            )
        )
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 224, 224); densenet121 sizes
        x = self.features(x)  # (N, 1024, 7, 7): stem /4, three transitions /8
        x = F.relu(x)  # (N, 1024, 7, 7)
        x = x.mean(dim=(2, 3))  # (N, 1024): global average pool, adaptive_avg_pool2d(x, 1) flattened
        return self.classifier(x)  # (N, num_classes)


def densenet121(**kwargs: Any) -> DenseNet:
    """DenseNet-121: k=32, blocks (6, 12, 24, 16), 64 initial features."""
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)


def densenet_small(num_classes: int = 10, **kwargs: Any) -> DenseNet:
    """A small DenseNet-BC for 32x32 inputs: k=12, blocks (4, 4, 4), 24 initial features (105,658 parameters at 10 classes)."""
    return DenseNet(12, (4, 4, 4), 24, num_classes=num_classes, **kwargs)
