"""LeNet-5: Y. LeCun, L. Bottou, Y. Bengio & P. Haffner, "Gradient-based learning applied to document
recognition", Proceedings of the IEEE 86(11), 1998.

Two convolution + subsampling stages turn a 32x32 digit into 16 maps of 5x5; three fully connected
layers classify them::

    C1: conv 6@5x5   32x32 -> 28x28        S2: 2x2 pool -> 14x14
    C3: conv 16@5x5  14x14 -> 10x10        S4: 2x2 pool -> 5x5
    C5: 16·5·5 = 400 -> 120    F6: 120 -> 84    output: 84 -> 10

This is the usual modern variant, not the letter of the paper:

* MNIST digits are 28x28, so C1 zero-pads by 2 (``padding=2``, the default), giving the paper's
  32x32 field; ``padding=0`` takes 32x32 inputs as the paper's C1 does. Padding adds no
  parameters: both variants have **61,706**.
* C3 connects every S2 map to every C3 map (the paper wires each C3 map to a chosen 3, 4 or 6 of
  the 6 S2 maps, 1,516 parameters instead of 2,416).
* S2/S4 are plain average (or max) pools; the paper's subsampling units also had a trainable
  coefficient and bias per map and a sigmoid.
* C5 is a ``Linear`` on the flattened 16x5x5 maps: the paper's C5 is a 5x5 convolution over a 5x5
  input, which is the same map with the same 48,120 parameters.
* The output is a ``Linear`` giving logits for ``F.cross_entropy``, not the paper's Euclidean RBF
  units with fixed codes.
* The activation is ``tanh`` (the paper's scaled ``1.7159 · tanh(2x/3)``, unscaled) or ``relu``.

Weights use PyTorch's default layer init (``kaiming_uniform_(a=√5)``). State-dict keys:
``features.0`` (C1), ``features.3`` (C3), ``classifier.1`` (C5), ``classifier.3`` (F6),
``classifier.5`` (output).
"""

from __future__ import annotations

from groundup import nn
from groundup.tensor import Tensor

__all__ = ["LeNet5"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


class LeNet5(nn.Module):
    """LeNet-5 for ``(N, in_channels, 28, 28)`` inputs (``padding=2``) or 32x32 ones (``padding=0``).

    Args:
        num_classes: number of output logits.
        in_channels: 1 for grayscale digits.
        activation: ``'tanh'`` (as in 1998) or ``'relu'``.
        pooling: ``'avg'`` (subsampling, as in 1998) or ``'max'``.
        padding: zero padding of C1; 2 for 28x28 inputs, 0 for 32x32 ones.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        activation: str = "tanh",
        pooling: str = "avg",
        padding: int = 2,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if pooling not in _POOLS:
            raise ValueError(f"LeNet5: pooling must be one of {sorted(_POOLS)}, got {pooling!r}")
        act, pool = _ACTIVATIONS[activation], _POOLS[pooling]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding),  # C1
            act(),
            pool(kernel_size=2, stride=2),  # S2
            nn.Conv2d(6, 16, kernel_size=5),  # C3
            act(),
            pool(kernel_size=2, stride=2),  # S4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),  # C5
            act(),
            nn.Linear(120, 84),  # F6
            act(),
            nn.Linear(84, num_classes),  # output
        )

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 1, 28, 28) with padding=2, or (N, 1, 32, 32) with padding=0
        x = self.features(x)  # (N, 16, 5, 5)
        return self.classifier(x)  # (N, num_classes)
