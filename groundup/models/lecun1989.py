"""The 1989 zip-code network: Y. LeCun, B. Boser, J. S. Denker, D. Henderson, R. E. Howard, W. Hubbard
& L. D. Jackel, "Backpropagation applied to handwritten zip code recognition", Neural Computation
1(4), 1989 — the first convolutional network trained end to end by backpropagation.

Layout as in A. Karpathy's reproduction (github.com/karpathy/lecun1989-repro, 2022), whose
parameter names (``H1w``, ``H1b``, …, ``outb``) and shapes this module uses, so a checkpoint of
his moves here by name::

    input   (N, 1, 16, 16)   pixels in [-1, 1], padded by 2 with -1 (background) -> 20x20
    H1      12 maps 8x8      5x5 kernels, stride 2, one kernel per map    tanh
            padded by 2 with -1 -> 12x12
    H2      12 maps 4x4      5x5 kernels, stride 2, each map sees 8 of the 12 H1 maps   tanh
    H3      30 units         fully connected to the 192 H2 units           tanh
    output  10 units         fully connected                               tanh

**Untied biases.** Weights are shared across positions (that is the convolution), biases are
not: every unit has its own, so ``H1b`` is ``(12, 8, 8)`` and ``H2b`` ``(12, 4, 4)``, not one per
map.

**Sparse H2.** The paper says each H2 map combines 8 of the 12 H1 maps but not which 8. As in
Karpathy's reproduction we assume blocks of 4 maps: H2 maps 0-3 see H1 maps 0-7, maps 4-7 see
H1 maps 4-11, maps 8-11 see H1 maps 0-3 and 8-11. It is one grouped convolution (no mask): the
three 8-map selections are stacked into 24 channels and ``groups=3`` gives each block of 4 H2
maps its own 8, so ``H2w`` is ``(12, 8, 5, 5)``, each map's kernel spanning just its 8 inputs.

**Parameters: 9,760**, exactly the paper's count of free parameters::

    H1  12·5·5 weights + 12·8·8 biases   =   300 +  768 = 1,068
    H2  12·8·5·5 weights + 12·4·4 biases = 2,400 +  192 = 2,592
    H3  192·30 weights + 30 biases       = 5,760 +   30 = 5,790
    out 30·10 weights + 10 biases        =   300 +   10 =   310

(A dense H2 would see all 12 maps: 3,600 weights and 10,960 parameters in all.)

**Training**, as in the paper: the outputs are ``tanh`` units (no softmax) regressed with the
mean squared error onto targets of +1 for the true class and -1 for the others
(:meth:`LeCun1989.targets`); the paper used a stochastic diagonal Gauss-Newton method, plain SGD
also works. Init: weights ``U(-2.4/√F, 2.4/√F)`` with ``F`` a unit's fan-in, hidden biases 0 and
output biases -1 (9 of 10 targets are -1), as in Karpathy's reproduction.

**The modern variant** of his ``modern.py`` changes three things through the arguments, with the
parameters unchanged: ``logits=True`` drops the output ``tanh`` (logits for softmax cross-entropy,
output biases start at 0), ``activation="relu"`` replaces the hidden ``tanh``, and ``dropout=p``
drops H2's 192 outputs before H3, the layer with most weights. His 1-pixel random shifts are data
augmentation and are left to the training loop (``groundup/recipes/lecun1989.py``).
"""

from __future__ import annotations

import math

import groundup as gu
from groundup import nn
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Parameter
from groundup.tensor import Tensor

__all__ = ["LeCun1989"]

_ACTIVATIONS = {"tanh": gu.tanh, "relu": F.relu}


class LeCun1989(nn.Module):
    """The 1989 zip-code network on ``(N, 1, 16, 16)`` inputs; returns ``(N, 10)`` outputs.

    Args:
        activation: the hidden units' nonlinearity, ``'tanh'`` (1989) or ``'relu'``.
        logits: ``False`` (1989): tanh outputs for the MSE onto ±1 targets, output biases start at
            -1. ``True``: linear outputs (logits) for softmax cross-entropy, output biases start at 0.
        dropout: probability of zeroing each of H2's 192 outputs in training (0 in 1989).
    """

    def __init__(self, activation: str = "tanh", logits: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeCun1989: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LeCun1989: dropout must be in [0, 1), got {dropout}")
        self.activation, self.logits, self.dropout = activation, bool(logits), float(dropout)
        self._act = _ACTIVATIONS[activation]
        self.H1w = Parameter(gu.empty(12, 1, 5, 5))  # (12, 1, 5, 5)
        self.H1b = Parameter(gu.zeros(12, 8, 8))  # (12, 8, 8): a bias per unit
        self.H2w = Parameter(gu.empty(12, 8, 5, 5))  # (12, 8, 5, 5): each map sees 8 H1 maps
        self.H2b = Parameter(gu.zeros(12, 4, 4))  # (12, 4, 4)
        self.H3w = Parameter(gu.empty(12 * 4 * 4, 30))  # (192, 30), used as x @ H3w
        self.H3b = Parameter(gu.zeros(30))  # (30,)
        self.outw = Parameter(gu.empty(30, 10))  # (30, 10)
        self.outb = Parameter(gu.empty(10))  # (10,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights ``U(±2.4/√fan_in)``, hidden biases 0, output biases -1 (0 with ``logits=True``)."""
        for w, fan_in in ((self.H1w, 1 * 5 * 5), (self.H2w, 8 * 5 * 5), (self.H3w, 12 * 4 * 4), (self.outw, 30)):
            bound = 2.4 / math.sqrt(fan_in)
            init.uniform_(w, -bound, bound)
        for b in (self.H1b, self.H2b, self.H3b):
            init.zeros_(b)
        init.constant_(self.outb, 0.0 if self.logits else -1.0)

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, 1, 16, 16)
        x = F.pad(x, (2, 2, 2, 2), "constant", -1.0)  # (N, 1, 20, 20)
        x = self._act(F.conv2d(x, self.H1w, stride=2) + self.H1b)  # (N, 12, 8, 8)

        x = F.pad(x, (2, 2, 2, 2), "constant", -1.0)  # (N, 12, 12, 12)
        # the H1 maps each block of 4 H2 maps sees: 0-7, 4-11, then 0-3 with 8-11
        x = gu.cat([x[:, 0:8], x[:, 4:12], x[:, 0:4], x[:, 8:12]], dim=1)  # (N, 24, 12, 12)
        x = F.conv2d(x, self.H2w, stride=2, groups=3) + self.H2b  # (N, 12, 4, 4): group g -> maps 4g..4g+3
        x = self._act(x)  # (N, 12, 4, 4)

        x = x.flatten(1)  # (N, 192)
        if self.dropout > 0:
            x = F.dropout(x, self.dropout, training=self.training)  # (N, 192)
        x = self._act(x @ self.H3w + self.H3b)  # (N, 30)
        x = x @ self.outw + self.outb  # (N, 10)
        return x if self.logits else gu.tanh(x)  # (N, 10)

    def extra_repr(self) -> str:
        return f"activation={self.activation!r}, logits={self.logits}, dropout={self.dropout}"

    @staticmethod
    def targets(labels: Tensor, num_classes: int = 10) -> Tensor:
        """The paper's regression targets: +1 at each sample's class, -1 elsewhere; ``(N,) -> (N, 10)``."""
        return F.one_hot(labels, num_classes).float() * 2.0 - 1.0  # (N, num_classes)
