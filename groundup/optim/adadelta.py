"""Adadelta: step sizes from running averages of squared gradients and of squared updates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.backend import xp
from groundup.optim.optimizer import Optimizer, _check_lr, _check_nonnegative

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``.

    For each parameter θ with gradient g, with learning rate γ, decay ρ, epsilon ε and weight
    decay λ::

        g ← -g                                   if maximize
        g ← g + λ·θ                              if λ ≠ 0
        v ← ρ·v + (1 − ρ)·g²                     running mean of g² ("square_avg")
        Δ = √(u + ε) / √(v + ε) · g              the update, in the units of θ
        u ← ρ·u + (1 − ρ)·Δ²                     running mean of Δ² ("acc_delta")
        θ ← θ − γ·Δ

    The ratio RMS(past updates)/RMS(gradients) acts as a per-coordinate learning rate with the
    right units, so the paper needs no γ at all; PyTorch keeps γ (default 1.0) as a multiplier.
    Paper: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012). State per parameter:
    ``step``, ``square_avg`` (v), ``acc_delta`` (u).

    Args:
        params: parameters or parameter groups to optimize.
        lr: γ, a scale applied to Δ (default 1.0).
        rho: ρ (default 0.9).
        eps: ε (default 1e-6).
        weight_decay: λ (default 0).
        maximize: ascend the objective instead of descending it.
        foreach, capturable, differentiable: accepted for PyTorch compatibility; they change nothing.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr = _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative(eps, "epsilon")
        _check_nonnegative(weight_decay, "weight_decay")
        if differentiable:
            raise NotImplementedError("Adadelta: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
            foreach=foreach, differentiable=differentiable,
        )  # fmt: skip
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho = float(group["lr"]), float(group["rho"])
            eps, wd = float(group["eps"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._scalar(0.0)
                    state["square_avg"] = self._zeros_like(p)
                    state["acc_delta"] = self._zeros_like(p)
                g = self._gradient(p, group["maximize"])
                theta, g, v, u = self._arrays(p, g, state["square_avg"], state["acc_delta"])
                self._increment(state["step"])

                if wd != 0:
                    g = g + wd * theta
                v *= rho
                v += (1 - rho) * g * g  # v ← ρ·v + (1 − ρ)·g²
                std = v + eps
                xp.sqrt(std, out=std)
                delta = u + eps
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= g  # Δ = √(u + ε) / √(v + ε) · g
                u *= rho
                u += (1 - rho) * delta * delta  # u ← ρ·u + (1 − ρ)·Δ²
                theta -= lr * delta  # θ ← θ − γ·Δ
                p._vc[0] += 1
        return loss
