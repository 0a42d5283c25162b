"""ResNet: K. He, X. Zhang, S. Ren & J. Sun, "Deep residual learning for image recognition", CVPR 2016.

Each block learns a residual ``F(x)`` and outputs ``relu(F(x) + x)``: the identity path carries
the signal and its gradient through any depth, so 50, 101 or 152 layers train better than 20.
Two kinds of block:

* :class:`BasicBlock` (ResNet-18/34): ``3x3 conv → BN → ReLU → 3x3 conv → BN``, plus the shortcut.
* :class:`Bottleneck` (ResNet-50 and deeper): ``1x1`` down to ``width`` channels, ``3x3``, ``1x1``
  up to ``4·planes``; the 3x3 carries the stride (torchvision's "ResNet v1.5"; the paper strides
  the first 1x1).

When a block changes the shape, the shortcut is a ``1x1`` strided convolution + BN (the paper's
option B). :class:`ResNet` is torchvision's module for module (``conv1``, ``bn1``, ``maxpool``,
``layer1``…``layer4`` of blocks with ``conv1``/``bn1``/``conv2``/``bn2``[/``conv3``/``bn3``] and
``downsample.0``/``downsample.1``, ``fc``), so ``state_dict`` keys and shapes are torchvision's.
Parameters at 1000 classes: resnet18 11,689,512; resnet34 21,797,672; resnet50 25,557,032.
Init, as torchvision: convolutions ``kaiming_normal_(mode='fan_out', nonlinearity='relu')``, BN
γ=1 β=0 (``zero_init_residual`` zeroes the last BN γ of each block, so every block starts as the
identity), ``fc`` PyTorch's default. Not carried over: ``replace_stride_with_dilation`` and
``norm_layer``.

:class:`ResNetCIFAR` is the paper's CIFAR-10 network (Section 4.2): a 3x3 stem of 16 channels,
three stages of ``n`` basic blocks at 16/32/64 channels on 32/16/8-pixel maps, global average
pooling and a linear layer — ``6n + 2`` weight layers (ResNet-20/32/44/56/110). Its shortcuts are
**option A** by default, as in the paper's CIFAR experiments: parameter-free, subsampling by 2 and
appending zero channels where the shape changes (ResNet-20: 269,722 parameters, the paper's
0.27M); ``shortcut='B'`` uses the 1x1 projection instead. :func:`small_resnet` is a ResNet-8 of
that family for 28x28 grayscale images (MNIST).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundup import nn
from groundup.nn import functional as F
from groundup.tensor import Tensor

__all__ = [
    "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
    "ResNetCIFAR", "resnet_cifar", "small_resnet",
]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias (a BN follows)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, groups=groups, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution, no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`` with two 3x3 convolutions."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, inplanes, H, W)
        identity = x if self.downsample is None else self.downsample(x)  # (N, planes, H/s, W/s)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, planes, H/s, W/s)
        out = self.bn2(self.conv2(out))  # (N, planes, H/s, W/s)
        return self.relu(out + identity)  # (N, planes, H/s, W/s)


class Bottleneck(nn.Module):
    """``1x1 → 3x3 (stride) → 1x1`` to ``4·planes`` channels, plus the shortcut."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, inplanes, H, W)
        identity = x if self.downsample is None else self.downsample(x)  # (N, 4·planes, H/s, W/s)
        out = self.relu(self.bn1(self.conv1(x)))  # (N, width, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (N, width, H/s, W/s)
        out = self.bn3(self.conv3(out))  # (N, 4·planes, H/s, W/s)
        return self.relu(out + identity)  # (N, 4·planes, H/s, W/s)


def _init_resnet(model: nn.Module, zero_init_residual: bool) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)


class ResNet(nn.Module):
    """The ImageNet ResNet: a 7x7/2 stem and max pool, four stages of blocks, average pool, ``fc``.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: blocks per stage, e.g. ``[2, 2, 2, 2]`` for ResNet-18.
        num_classes: size of the output.
        zero_init_residual: start each block's last BN at γ=0.
        groups, width_per_group: ResNeXt / wide-ResNet bottlenecks (torchvision's meaning).
    """

    def __init__(
        self,
        block: type[BasicBlock | Bottleneck],
        layers: Sequence[int],
        num_classes: int = 1000,
        zero_init_residual: bool = False,
        groups: int = 1,
        width_per_group: int = 64,
    ) -> None:
        super().__init__()
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must list 4 stage depths, got {list(layers)}")
        self.inplanes = 64
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_resnet(self, zero_init_residual)

    def _make_layer(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:  # option B: a 1x1 projection
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width))
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 224, 224); e = block.expansion (1 or 4)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 64, 112, 112)
        x = self.maxpool(x)  # (N, 64, 56, 56)
        x = self.layer1(x)  # (N, 64·e, 56, 56)
        x = self.layer2(x)  # (N, 128·e, 28, 28)
        x = self.layer3(x)  # (N, 256·e, 14, 14)
        x = self.layer4(x)  # (N, 512·e, 7, 7)
        x = self.avgpool(x)  # (N, 512·e, 1, 1)
        x = x.flatten(1)  # (N, 512·e)
        return self.fc(x)  # (N, num_classes)


def resnet18(**kwargs: Any) -> ResNet:
    """ResNet-18: basic blocks ``[2, 2, 2, 2]``."""
    return ResNet(BasicBlock, [2, 2, 2, 2], **kwargs)


def resnet34(**kwargs: Any) -> ResNet:
    """ResNet-34: basic blocks ``[3, 4, 6, 3]``."""
    return ResNet(BasicBlock, [3, 4, 6, 3], **kwargs)


def resnet50(**kwargs: Any) -> ResNet:
    """ResNet-50: bottleneck blocks ``[3, 4, 6, 3]``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], **kwargs)


# ------------------------------------------------------------------------ the CIFAR-10 family
class _ShortcutA(nn.Module):
    """Option A: keep every other pixel and append zero channels; no parameters."""

    def __init__(self, in_planes: int, out_planes: int, stride: int) -> None:
        super().__init__()
        self.extra = out_planes - in_planes
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, in_planes, H, W)
        x = x[:, :, :: self.stride, :: self.stride]  # (N, in_planes, H/s, W/s)
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))  # (N, out_planes, H/s, W/s)

    def extra_repr(self) -> str:
        return f"extra_channels={self.extra}, stride={self.stride}"


class ResNetCIFAR(nn.Module):
    """He et al.'s CIFAR-10 ResNet of ``depth = 6n + 2`` layers on ``(N, in_channels, 32, 32)`` inputs.

    Args:
        depth: 20, 32, 44, 56, 110, … (any ``6n + 2``).
        num_classes: size of the output.
        shortcut: ``'A'`` (zero-padding identity, the paper's choice for CIFAR) or ``'B'`` (1x1
            convolution + BN where the shape changes).
        in_channels: 3 for colour images, 1 for grayscale.
        widths: channels of the three stages.
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        shortcut: str = "A",
        in_channels: int = 3,
        widths: Sequence[int] = (16, 32, 64),
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"ResNetCIFAR: depth must be 6n + 2 with n >= 1, got {depth}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"ResNetCIFAR: shortcut must be 'A' or 'B', got {shortcut!r}")
        n = (depth - 2) // 6
        self.shortcut = shortcut
        self.inplanes = widths[0]
        self.conv1 = conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(widths[0], n)
        self.layer2 = self._make_layer(widths[1], n, stride=2)
        self.layer3 = self._make_layer(widths[2], n, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[2], num_classes)
        _init_resnet(self, zero_init_residual)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample: nn.Module | None = None
        if stride != 1 or self.inplanes != planes:
            if self.shortcut == "A":
                downsample = _ShortcutA(self.inplanes, planes, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 32, 32); widths (16, 32, 64)
        x = self.relu(self.bn1(self.conv1(x)))  # (N, 16, 32, 32)
        x = self.layer1(x)  # (N, 16, 32, 32)
        x = self.layer2(x)  # (N, 32, 16, 16)
        x = self.layer3(x)  # (N, 64, 8, 8)
        x = self.avgpool(x)  # (N, 64, 1, 1)
        x = x.flatten(1)  # (N, 64)
        return self.fc(x)  # (N, num_classes)


def resnet_cifar(depth: int = 20, num_classes: int = 10, **kwargs: Any) -> ResNetCIFAR:
    """He et al.'s CIFAR-10 ResNet-``depth`` (option A shortcuts unless ``shortcut='B'``)."""
    return ResNetCIFAR(depth, num_classes, **kwargs)


def small_resnet(num_classes: int = 10, in_channels: int = 1, **kwargs: Any) -> ResNetCIFAR:
    """A ResNet-8 (one basic block per stage) for 28x28 grayscale digits: 28 → 14 → 7 pixels, 75,002 parameters at 10 classes."""
    return ResNetCIFAR(8, num_classes, in_channels=in_channels, **kwargs)
