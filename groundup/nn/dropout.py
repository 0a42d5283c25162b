"""Dropout layers: ``Dropout``, ``AlphaDropout`` and the channel-wise ``Dropout1d/2d/3d`` and
``FeatureAlphaDropout`` (active in training mode, identity in eval).

The random masks and their backward live in ``groundup/functions/dropout.py``; a layer only holds
``p`` and follows ``module.train()`` / ``module.eval()``.
"""

from __future__ import annotations

import numpy as np

from groundup.nn import functional as F
from groundup.nn.module import Module
from groundup.tensor import Tensor


class _DropoutNd(Module):
    """Holds the drop probability ``p`` (checked to lie in [0, 1]) and ``inplace``."""

    p: float
    inplace: bool

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"{type(self).__name__}: p must be a float, got {p!r} ({type(p).__name__})")
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the survivors by ``1/(1-p)`` in training
    mode, so the expected value is unchanged; the identity in evaluation mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU activations at zero mean and unit variance (training mode only)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` (training mode),
    scaling the kept channels by ``1/(1-p)``; the identity in evaluation mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole feature maps of (N, C, H, W) inputs with probability ``p`` (training mode),
    scaling the kept ones by ``1/(1-p)``; the identity in evaluation mode. A 3-D input is read as
    (N, C, L), as in PyTorch (which warns)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole feature volumes of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``
    (training mode), scaling the kept ones by ``1/(1-p)``; the identity in evaluation mode."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels, for SELU networks (training mode only)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)


__all__ = ["Dropout", "AlphaDropout", "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"]
