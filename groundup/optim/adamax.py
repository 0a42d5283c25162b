"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.backend import xp
from groundup.optim.optimizer import Optimizer, _check_betas, _check_lr, _check_nonnegative

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax``.

    For each parameter θ with gradient g, at step t = 1, 2, …, with learning rate γ, betas (β1, β2),
    epsilon ε and weight decay λ::

        g ← -g                             if maximize
        g ← g + λ·θ                        if λ ≠ 0
        m ← β1·m + (1 − β1)·g              first moment, as Adam
        u ← max(β2·u, |g| + ε)             exponentially weighted infinity norm (ε inside the max)
        θ ← θ − (γ / (1 − β1^t))·m / u

    The L∞ norm needs no bias correction of its own and no square root. Paper: Kingma & Ba,
    "Adam: A Method for Stochastic Optimization" (ICLR 2015), section 7. State per parameter:
    ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate γ (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, capturable: accepted for PyTorch compatibility; they change nothing.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        lr = _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_betas(betas)
        _check_nonnegative(weight_decay, "weight_decay")
        if differentiable:
            raise NotImplementedError("Adamax: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
            differentiable=differentiable, capturable=capturable,
        )  # fmt: skip
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._scalar(0.0)
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_inf"] = self._zeros_like(p)
                g = self._gradient(p, group["maximize"])
                theta, g, m, u = self._arrays(p, g, state["exp_avg"], state["exp_inf"])
                t = self._increment(state["step"])

                if wd != 0:
                    g = g + wd * theta
                m *= beta1
                m += (1 - beta1) * g  # m ← β1·m + (1 − β1)·g
                u *= beta2
                abs_g = xp.abs(g)
                abs_g += eps
                xp.maximum(u, abs_g, out=u)  # u ← max(β2·u, |g| + ε)
                update = xp.divide(m, u, out=abs_g)
                update *= lr / (1 - beta1**t)
                theta -= update  # θ ← θ − (γ / (1 − β1^t))·m / u
                p._vc[0] += 1
        return loss
