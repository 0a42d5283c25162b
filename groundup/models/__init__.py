"""Models, one per file, each with a docstring naming its paper and shape comments on every tensor line.

Classic models: :class:`Perceptron` (Rosenblatt 1958, trained by its own error-correction rule),
:class:`LogisticRegression` (Cox 1958), :class:`SoftmaxRegression` and :class:`MLP`
(Rumelhart, Hinton & Williams 1986).
"""

from groundup.models.logistic_regression import LogisticRegression
from groundup.models.mlp import MLP
from groundup.models.perceptron import Perceptron
from groundup.models.softmax_regression import SoftmaxRegression

__all__ = ["MLP", "LogisticRegression", "Perceptron", "SoftmaxRegression"]
