"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.backend import xp
from groundup.optim.optimizer import Optimizer, _check_lr, _check_nonnegative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (optionally centered, optionally with momentum).

    For each parameter θ with gradient g, with learning rate γ, smoothing constant α, epsilon ε,
    weight decay λ and momentum μ::

        g ← -g                             if maximize
        g ← g + λ·θ                        if λ ≠ 0
        v ← α·v + (1 − α)·g²               running mean of g² ("square_avg")
        if centered:
            ḡ ← α·ḡ + (1 − α)·g            running mean of g ("grad_avg")
            d = √(v − ḡ²) + ε              an estimate of the gradient's standard deviation
        else:
            d = √v + ε
        if μ > 0:
            b ← μ·b + g / d                momentum on the normalised gradient
            θ ← θ − γ·b
        else:
            θ ← θ − γ·g / d

    No bias correction (v starts at 0, so the first steps are large: with α = 0.99 the first
    step divides by about √0.01·|g|). Source: Hinton, Srivastava & Swersky, "Neural Networks for
    Machine Learning", lecture 6e (Coursera, 2012); the centered form is from Graves,
    "Generating Sequences With Recurrent Neural Networks" (2013). State per parameter: ``step``,
    ``square_avg`` (v), ``momentum_buffer`` (b, if μ > 0), ``grad_avg`` (ḡ, if centered).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate γ (default 1e-2).
        alpha: smoothing constant α (default 0.99).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        momentum: μ (default 0).
        centered: normalise by the estimated variance instead of the raw second moment.
        maximize: ascend the objective instead of descending it.
        capturable, foreach, differentiable: accepted for PyTorch compatibility; they change nothing.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr = _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_nonnegative(momentum, "momentum")
        _check_nonnegative(weight_decay, "weight_decay")
        _check_nonnegative(alpha, "alpha")
        if differentiable:
            raise NotImplementedError("RMSprop: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
            capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable,
        )  # fmt: skip
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            wd, mu = float(group["weight_decay"]), float(group["momentum"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._scalar(0.0)
                    state["square_avg"] = self._zeros_like(p)
                    if mu > 0:
                        state["momentum_buffer"] = self._zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = self._zeros_like(p)
                g = self._gradient(p, group["maximize"])
                theta, g, v = self._arrays(p, g, state["square_avg"])
                self._increment(state["step"])

                if wd != 0:
                    g = g + wd * theta
                v *= alpha
                v += (1 - alpha) * g * g  # v ← α·v + (1 − α)·g²
                if group["centered"]:
                    (g_avg,) = self._arrays(state["grad_avg"])
                    g_avg *= alpha
                    g_avg += (1 - alpha) * g  # ḡ ← α·ḡ + (1 − α)·g
                    d = v - g_avg * g_avg
                    xp.sqrt(d, out=d)
                else:
                    d = xp.sqrt(v)
                d += eps  # d = √(v − ḡ²) + ε  or  √v + ε
                if mu > 0:
                    (b,) = self._arrays(state["momentum_buffer"])
                    b *= mu
                    b += g / d  # b ← μ·b + g / d
                    theta -= lr * b
                else:
                    theta -= lr * xp.divide(g, d, out=d)  # θ ← θ − γ·g / d
                p._vc[0] += 1
        return loss
