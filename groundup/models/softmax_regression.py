"""Softmax (multinomial logistic) regression: one linear score per class, turned into probabilities by
the softmax. The multi-class generalisation of Cox's logistic regression (D. R. Cox, "The Regression
Analysis of Binary Sequences", JRSS B 20(2), 1958; the softmax/multinomial form is in
Cox, "Some procedures connected with the logistic qualitative response curve", 1966)::

    z = x Wᵀ + b                      (C logits per sample)
    p(y = k | x) = softmax(z)_k = e^(z_k) / Σ_j e^(z_j)

Maximum likelihood means minimising the cross-entropy ``-log softmax(z)_y``, whose gradient with
respect to ``z`` is ``softmax(z) - onehot(y)``. Train it with ``F.cross_entropy(model(x), y)``
(or ``nn.CrossEntropyLoss``), which fuses log-softmax and the negative log-likelihood. It is a
one-layer network: the MLP with no hidden layers.
"""

from __future__ import annotations

from groundup.nn.linear import Linear
from groundup.nn.module import Module
from groundup.tensor import Tensor

__all__ = ["SoftmaxRegression"]


class SoftmaxRegression(Module):
    """Multi-class linear classifier; ``forward`` returns the logits, shape ``(N, num_classes)``.

    The weights live in ``self.linear`` (an ``nn.Linear(in_features, num_classes)``): ``state_dict``
    keys ``linear.weight`` ``(C, D)`` and ``linear.bias`` ``(C,)``. Inputs with more than two
    dimensions (e.g. ``(N, 1, 28, 28)`` images) are flattened to ``(N, D)`` first. Targets are
    int64 class indices of shape ``(N,)``.
    """

    def __init__(self, in_features: int, num_classes: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features = in_features
        self.num_classes = num_classes
        self.linear = Linear(in_features, num_classes, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)  # (N, D)
        return self.linear(x)  # (N, C) logits

    def predict_proba(self, x: Tensor) -> Tensor:
        """Class probabilities ``softmax(z)``, shape ``(N, C)``; each row sums to 1."""
        return self(x).softmax(dim=-1)  # (N, C)

    def predict(self, x: Tensor) -> Tensor:
        """The most probable class, int64 ``(N,)``."""
        return self(x).argmax(dim=-1)  # (N,)
