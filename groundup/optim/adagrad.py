"""Adagrad: per-coordinate learning rates from the sum of all past squared gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.backend import xp
from groundup.optim.optimizer import Optimizer, _check_lr, _check_nonnegative
from groundup.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``.

    For each parameter θ with gradient g, at step t = 1, 2, …, with learning rate γ, learning-rate
    decay η, weight decay λ, initial accumulator value τ and epsilon ε::

        s ← τ                              once, at construction ("sum")
        g ← -g                             if maximize
        γ_t = γ / (1 + (t − 1)·η)
        g ← g + λ·θ                        if λ ≠ 0
        s ← s + g²                         every squared gradient ever seen, summed
        θ ← θ − γ_t·g / (√s + ε)

    Coordinates with large past gradients get small steps, rare ones large steps; since s only
    grows, the effective learning rate only shrinks. Paper: Duchi, Hazan & Singer, "Adaptive
    Subgradient Methods for Online Learning and Stochastic Optimization" (JMLR 2011). State per
    parameter (created in the constructor, as PyTorch does): ``step``, ``sum`` (s).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate γ (default 1e-2).
        lr_decay: η (default 0).
        weight_decay: λ (default 0).
        initial_accumulator_value: τ (default 0).
        eps: ε (default 1e-10).
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, fused: accepted for PyTorch compatibility; they change nothing.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        lr = _check_lr(lr)
        _check_nonnegative(lr_decay, "lr_decay")
        _check_nonnegative(weight_decay, "weight_decay")
        _check_nonnegative(initial_accumulator_value, "initial_accumulator_value")
        _check_nonnegative(eps, "epsilon")
        if differentiable:
            raise NotImplementedError("Adagrad: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
            differentiable=differentiable, fused=fused,
        )  # fmt: skip
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> None:
        # like PyTorch, the accumulator starts from the constructor's value, not the group's
        state = self.state[p]
        state["step"] = self._scalar(0.0)
        state["sum"] = Tensor._wrap(xp.full_like(p.data, self.defaults["initial_accumulator_value"]))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
            wd, eps = float(group["weight_decay"]), float(group["eps"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                if len(self.state[p]) == 0:  # a parameter added later with add_param_group
                    self._init_state(p)
                state = self.state[p]
                t = self._increment(state["step"])
                g = self._gradient(p, group["maximize"])
                theta, g, s = self._arrays(p, g, state["sum"])

                if wd != 0:
                    g = g + wd * theta
                lr_t = lr / (1 + (t - 1) * lr_decay)  # γ_t = γ / (1 + (t − 1)·η)
                s += g * g  # s ← s + g²
                std = xp.sqrt(s)
                std += eps
                update = xp.divide(g, std, out=std)
                update *= lr_t
                theta -= update  # θ ← θ − γ_t·g / (√s + ε)
                p._vc[0] += 1
        return loss
