"""The convolutional baseline of MNIST-1D: S. Greydanus & D. Kobak, "Scaling down deep learning with
MNIST-1D", ICML 2024 (arXiv 2011.14439, 2020), whose benchmark table puts this CNN at about 94% test
accuracy, against 68% for an MLP and 32% for logistic regression.

Three strided 1-D convolutions, each with a ReLU, and a linear read-out of the flattened maps::

    input   (N, 40)  or (N, 1, 40)
    conv1   25 channels, kernel 5, stride 2, padding 1   40 -> 19
    conv2   25 channels, kernel 3, stride 2, padding 1   19 -> 10
    conv3   25 channels, kernel 3, stride 2, padding 1   10 -> 5
    linear  25·5 = 125 -> 10 logits

MNIST-1D's digits are 1-D templates that are padded, sheared, scaled and shifted at random; the
shift is what defeats the MLP (it must learn every position separately) and what weight sharing
handles: a convolution's filter responds to a stroke wherever it sits. **5,210 parameters**
(150 + 1,900 + 1,900 + 1,260). The layer names are the reference implementation's
(``conv1``, ``conv2``, ``conv3``, ``linear``), so its ``state_dict`` moves over by name.
"""

from __future__ import annotations

from groundup import nn
from groundup.nn import functional as F
from groundup.tensor import Tensor

__all__ = ["MNIST1DConvNet"]


class MNIST1DConvNet(nn.Module):
    """The MNIST-1D paper's CNN for ``(N, length)`` or ``(N, 1, length)`` signals; returns ``(N, num_classes)``."""

    def __init__(self, num_classes: int = 10, channels: int = 25, length: int = 40) -> None:
        super().__init__()
        self.length = length
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        n = length
        for k in (5, 3, 3):  # output length of each strided layer: (n + 2·1 - k) // 2 + 1
            n = (n + 2 - k) // 2 + 1
        self.linear = nn.Linear(channels * n, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(1)  # (N, 1, L)
        if x.ndim != 3 or x.shape[1] != 1 or x.shape[2] != self.length:
            raise ValueError(f"MNIST1DConvNet: expected input of shape (N, {self.length}) or (N, 1, {self.length}), "
                             f"got {tuple(x.shape)}")
        x = F.relu(self.conv1(x))  # (N, 25, 19)
        x = F.relu(self.conv2(x))  # (N, 25, 10)
        x = F.relu(self.conv3(x))  # (N, 25, 5)
        return self.linear(x.flatten(1))  # (N, 10)
