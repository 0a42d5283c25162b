"""Logistic regression: D. R. Cox, "The Regression Analysis of Binary Sequences", Journal of the Royal
Statistical Society B 20(2), 1958.

A linear model of the log-odds of the positive class::

    z = x · w + b                     (the logit)
    p(y = 1 | x) = σ(z) = 1 / (1 + e^(-z))

Fitting it by maximum likelihood means minimising the binary cross-entropy
``-[y log σ(z) + (1 - y) log(1 - σ(z))]``, whose gradient with respect to ``z`` is just ``σ(z) - y``.
Train it with ``F.binary_cross_entropy_with_logits(model(x), y)`` (or ``nn.BCEWithLogitsLoss``),
which works on the logit for numerical stability, and any optimizer. It is the perceptron with
the hard step replaced by a smooth, differentiable probability.
"""

from __future__ import annotations

from groundup.nn.linear import Linear
from groundup.nn.module import Module
from groundup.tensor import Tensor

__all__ = ["LogisticRegression"]


class LogisticRegression(Module):
    """Binary classifier ``σ(x · w + b)``; ``forward`` returns the logit ``z``, shape ``(N,)``.

    The weights live in ``self.linear`` (an ``nn.Linear(in_features, 1)``), so the ``state_dict``
    keys are ``linear.weight`` ``(1, D)`` and ``linear.bias`` ``(1,)``. Inputs with more than two
    dimensions (images) are flattened to ``(N, D)`` first. Targets are floats in ``{0, 1}`` of
    shape ``(N,)``, the shape of the logits.
    """

    def __init__(self, in_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = in_features
        self.linear = Linear(in_features, 1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)  # (N, D)
        return self.linear(x).squeeze(-1)  # (N,) logits

    def predict_proba(self, x: Tensor) -> Tensor:
        """``p(y = 1 | x) = σ(z)``, shape ``(N,)``."""
        return self(x).sigmoid()  # (N,)

    def predict(self, x: Tensor) -> Tensor:
        """The class with the higher probability: ``1`` where ``z > 0`` (``σ(z) > 0.5``), int64 ``(N,)``."""
        return (self(x) > 0).long()  # (N,)
