"""The perceptron: F. Rosenblatt, "The Perceptron: A Probabilistic Model for Information Storage and
Organization in the Brain", Psychological Review 65(6), 1958.

One artificial neuron with a hard threshold::

    score(x) = w · x + b              (the decision function)
    ŷ(x)     = 1 if score(x) > 0 else 0

It is trained by Rosenblatt's error-correction rule, not by gradient descent (the step function
has no useful gradient). Visit the samples one at a time; on a mistake, nudge the weights toward
the sample if it should have fired and away from it if it should not have::

    w ← w + lr · (y - ŷ) · x          (y - ŷ is +1, -1, or 0 when the prediction is right)
    b ← b + lr · (y - ŷ)

Labels are ``{0, 1}`` (Rosenblatt's "off"/"on"); ``y - ŷ`` then plays the role of the ``±1`` label
of the textbook form ``w ← w + t·x``. The *perceptron convergence theorem* (Block 1962, Novikoff
1962) says: if some ``(w*, b*)`` separates the classes with margin ``γ`` and every augmented
input ``(x, 1)`` has norm at most ``R``, then starting from zero weights the rule makes at most
``(R / γ)²`` mistakes in total, whatever the order of the samples. If no separating line exists,
as for XOR (Minsky & Papert, *Perceptrons*, 1969), it never stops making them.
"""

from __future__ import annotations

from typing import Any

from groundup.autograd import no_grad
from groundup.backend import Generator
from groundup.creation import arange, as_tensor, randperm, zeros
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor

__all__ = ["Perceptron"]


class Perceptron(Module):
    """Rosenblatt's perceptron: a linear threshold unit that predicts ``{0, 1}``.

    ``weight`` has shape ``(in_features,)`` and ``bias`` shape ``()``; both start at zero (the
    rule needs no random start) and are ``Parameter`` objects, so ``state_dict`` and ``load_state_dict``
    work. ``Perceptron(2).fit(X, y)`` trains in place and returns the mistakes made in each epoch.

    Example::

        p = Perceptron(2)
        mistakes = p.fit(X, y)          # e.g. [7, 3, 1, 0]: converged in the 4th epoch
        y_hat = p(X)                    # (N,) float tensor of 0s and 1s
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        if not isinstance(in_features, int) or isinstance(in_features, bool) or in_features < 1:
            raise ValueError(f"Perceptron: in_features must be a positive int, got {in_features!r}")
        self.in_features = in_features
        self.weight = Parameter(zeros(in_features))  # (D,)
        self.bias = Parameter(zeros(()))  # ()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"

    def decision_function(self, x: Tensor) -> Tensor:
        """The signed score ``x · w + b`` (positive means class 1); ``x`` is ``(N, D)`` or ``(D,)``."""
        x = self._check_input(x)  # (N, D) or (D,)
        return x @ self.weight + self.bias  # (N,) or ()

    def forward(self, x: Tensor) -> Tensor:
        """The prediction ``ŷ = [score > 0]`` as a float tensor of 0s and 1s, shape ``(N,)``."""
        score = self.decision_function(x)  # (N,)
        return (score > 0).to(self.weight.dtype)  # (N,) in {0, 1}

    predict = forward

    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 100,
        lr: float = 1.0,
        shuffle: bool = True,
        generator: Generator | None = None,
    ) -> list[int]:
        """Train with Rosenblatt's rule; return the number of mistakes made in each epoch.

        Each epoch visits every sample once (in a fresh random order if ``shuffle``, drawn from
        ``generator`` or the global RNG) and updates the weights after each mistake. Training
        stops after the first epoch with zero mistakes (then the last entry is 0) or after
        ``epochs`` epochs. ``X`` is ``(N, D)``, ``y`` holds ``N`` labels in ``{0, 1}``; tensors,
        NumPy arrays and lists are accepted. Starting from zero weights, ``lr`` only rescales
        ``w`` and ``b`` and does not change which mistakes are made.
        """
        X = self._check_input(as_tensor(X)).to(self.weight.dtype)  # (N, D)
        if X.ndim != 2:
            raise ValueError(f"Perceptron.fit: X must be 2-D (N, {self.in_features}), got shape {tuple(X.shape)}")
        y = as_tensor(y)  # (N,)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"Perceptron.fit: y must be 1-D with one label per row of X ({X.shape[0]}), got shape {tuple(y.shape)}"
            )
        labels = set(y.tolist())
        if not labels <= {0, 1}:
            raise ValueError(
                f"Perceptron.fit: labels must be 0 or 1, got {sorted(labels)[:5]} "
                "(map ±1 labels with (y + 1) // 2)"
            )
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"Perceptron.fit: epochs must be a positive int, got {epochs!r}")
        if not lr > 0:
            raise ValueError(f"Perceptron.fit: lr must be positive, got {lr!r}")
        targets = y.tolist()  # N python ints
        n = X.shape[0]
        history: list[int] = []
        with no_grad():
            for _ in range(epochs):
                order = randperm(n, generator=generator) if shuffle else arange(n)  # (N,)
                mistakes = 0
                for i in order.tolist():
                    x_i = X[i]  # (D,)
                    y_hat = 1 if (x_i @ self.weight + self.bias).item() > 0 else 0
                    error = targets[i] - y_hat  # +1, -1 or 0
                    if error != 0:
                        self.weight.add_(x_i, alpha=lr * error)  # w ← w + lr·(y - ŷ)·x
                        self.bias.add_(lr * error)  # b ← b + lr·(y - ŷ)
                        mistakes += 1
                history.append(mistakes)
                if mistakes == 0:
                    break
        return history

    def _check_input(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_tensor(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Perceptron: expected input of shape (N, {self.in_features}) or ({self.in_features},), "
                f"got {tuple(x.shape)}"
            )
        if not x.dtype.is_floating_point:
            x = x.to(self.weight.dtype)
        return x

