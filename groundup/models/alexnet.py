"""AlexNet: A. Krizhevsky, I. Sutskever & G. E. Hinton, "ImageNet classification with deep convolutional
neural networks", NeurIPS 2012.

Five convolutions (ReLU, max pooling after the 1st, 2nd and 5th) and three fully connected layers
with dropout — the network that started the deep-learning era on ImageNet.

This is torchvision's ``alexnet``, module for module, so ``state_dict`` keys (``features.0``,
``features.3``, ``features.6``, ``features.8``, ``features.10``, ``classifier.1``,
``classifier.4``, ``classifier.6``) and shapes are torchvision's and weights move between the two.
Like torchvision it follows the single-tower variant of A. Krizhevsky, "One weird trick for
parallelizing convolutional neural networks" (arXiv:1404.5997, 2014): 64-192-384-256-256 channels
instead of the paper's two-GPU 96-256-384-384-256, and no local response normalization. It has
**61,100,840** parameters at 1000 classes. ``AdaptiveAvgPool2d((6, 6))`` lets it take inputs other
than 224x224 (at least 63x63, so the three pools leave a map).

Init: PyTorch's default layer init (``kaiming_uniform_(a=√5)``), as torchvision.
``classifier_width`` (keyword only, default 4096 as torchvision) narrows the two hidden fully
connected layers, for quick experiments; it is a groundup addition.
"""

from __future__ import annotations

from typing import Any

from groundup import nn
from groundup.tensor import Tensor

__all__ = ["AlexNet", "alexnet"]


class AlexNet(nn.Module):
    """AlexNet for ``(N, 3, H, W)`` images (224x224 for ImageNet); returns ``(N, num_classes)`` logits."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, *, classifier_width: int = 4096) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, classifier_width),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(classifier_width, classifier_width),
            nn.ReLU(inplace=True),
            nn.Linear(classifier_width, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 3, 224, 224)
        x = self.features(x)  # (N, 256, 6, 6)
        x = self.avgpool(x)  # (N, 256, 6, 6)
        x = x.flatten(1)  # (N, 9216)
        return self.classifier(x)  # (N, num_classes)


def alexnet(**kwargs: Any) -> AlexNet:
    """torchvision's ``alexnet()`` without pretrained weights: ``AlexNet(**kwargs)``."""
    return AlexNet(**kwargs)
