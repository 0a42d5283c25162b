"""VGG: K. Simonyan & A. Zisserman, "Very deep convolutional networks for large-scale image
recognition", ICLR 2015.

Depth from one idea: only 3x3 convolutions (padding 1, so they keep the size), a 2x2 max pool to
halve it, channels doubling 64 → 512, then three fully connected layers. Two stacked 3x3 layers
see a 5x5 window and three see 7x7, with fewer parameters and more nonlinearities than one big
kernel. The paper's configurations A, B, D and E are VGG-11, -13, -16 and -19 (weight layers);
``_bn`` variants put a ``BatchNorm2d`` after every convolution (not in the paper: batch norm came
a few months later).

This is torchvision's ``vgg*`` module for module: ``features.N`` (conv, [bn], relu and pool layers
in one ``Sequential``), ``avgpool`` = ``AdaptiveAvgPool2d((7, 7))`` and ``classifier.0/3/6`` (with
ReLU and ``Dropout(dropout)`` between), so ``state_dict`` keys and shapes are torchvision's.
Parameters at 1000 classes: vgg11 132,863,336; vgg13 133,047,848; vgg16 138,357,544 (vgg16_bn
138,365,992); vgg19 143,667,240.

Init (``init_weights=True``), as torchvision: convolutions ``kaiming_normal_(mode='fan_out',
nonlinearity='relu')`` with zero bias, batch norm γ=1 β=0, linear layers ``N(0, 0.01²)`` with
zero bias. Groundup additions, defaulting to torchvision's layout: ``make_layers(...,
in_channels=3)`` and keyword-only ``classifier_width=4096``; the classifier's input is
``7·7·(channels of the last convolution)``, which is torchvision's 512·7·7 for every config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundup import nn
from groundup.tensor import Tensor

__all__ = [
    "VGG", "make_layers", "cfgs",
    "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
]

# output channels of each 3x3 convolution; "M" is a 2x2 max pool
cfgs: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: Sequence[int | str], batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """The convolutional part: ``Conv2d(3x3, padding 1) [→ BatchNorm2d] → ReLU`` per int, ``MaxPool2d(2)`` per "M"."""
    layers: list[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(int(v)))
        layers.append(nn.ReLU(inplace=True))
        in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG network around a ``features`` stack (see :func:`make_layers`); returns ``(N, num_classes)`` logits."""

    def __init__(
        self,
        features: nn.Module,
        num_classes: int = 1000,
        init_weights: bool = True,
        dropout: float = 0.5,
        *,
        classifier_width: int = 4096,
    ) -> None:
        super().__init__()
        convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise ValueError("VGG: features must contain at least one Conv2d")
        channels = convs[-1].out_channels  # 512 for every torchvision config
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(channels * 7 * 7, classifier_width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(classifier_width, classifier_width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(classifier_width, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.01)
                    nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 224, 224)
        x = self.features(x)  # (N, 512, 7, 7): five pools halve 224 five times
        x = self.avgpool(x)  # (N, 512, 7, 7)
        x = x.flatten(1)  # (N, 25088)
        return self.classifier(x)  # (N, num_classes)


def _vgg(cfg: str, batch_norm: bool, **kwargs: Any) -> VGG:
    return VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


def vgg11(**kwargs: Any) -> VGG:
    """VGG-11, configuration A."""
    return _vgg("A", False, **kwargs)


def vgg11_bn(**kwargs: Any) -> VGG:
    """VGG-11 with batch normalization."""
    return _vgg("A", True, **kwargs)


def vgg13(**kwargs: Any) -> VGG:
    """VGG-13, configuration B."""
    return _vgg("B", False, **kwargs)


def vgg13_bn(**kwargs: Any) -> VGG:
    """VGG-13 with batch normalization."""
    return _vgg("B", True, **kwargs)


def vgg16(**kwargs: Any) -> VGG:
    """VGG-16, configuration D."""
    return _vgg("D", False, **kwargs)


def vgg16_bn(**kwargs: Any) -> VGG:
    """VGG-16 with batch normalization."""
    return _vgg("D", True, **kwargs)


def vgg19(**kwargs: Any) -> VGG:
    """VGG-19, configuration E."""
    return _vgg("E", False, **kwargs)


def vgg19_bn(**kwargs: Any) -> VGG:
    """VGG-19 with batch normalization."""
    return _vgg("E", True, **kwargs)
