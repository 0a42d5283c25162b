"""Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.optim.optimizer import Optimizer, _check_lr
from groundup.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    For each parameter θ with gradient g, learning rate γ, weight decay λ, momentum μ and
    dampening τ::

        g ← -g                       if maximize
        g ← g + λ·θ                  if λ ≠ 0          (L2 penalty folded into the gradient)
        if μ ≠ 0:
            b ← g                    on the first step
            b ← μ·b + (1 − τ)·g      afterwards        (velocity: a running sum of gradients)
            g ← g + μ·b              if nesterov       (look ahead along the velocity)
            g ← b                    otherwise
        θ ← θ − γ·g

    Momentum: Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
    the Nesterov form is the one from Sutskever et al., "On the importance of initialization and
    momentum in deep learning" (ICML 2013). State per parameter: ``momentum_buffer`` (b), only
    when μ ≠ 0.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate γ (default 1e-3).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ for momentum (default 0).
        weight_decay: L2 penalty λ (default 0).
        nesterov: use Nesterov momentum (needs μ > 0 and τ = 0).
        maximize: ascend the objective instead of descending it.
        foreach, differentiable, fused: accepted for PyTorch compatibility; groundup has a single
            NumPy implementation, so they change nothing (``differentiable=True`` is not supported).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        lr = _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if differentiable:
            raise NotImplementedError("SGD: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused,
        )  # fmt: skip
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            mu, tau, wd = float(group["momentum"]), float(group["dampening"]), float(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.data
                g = self._gradient(p, group["maximize"])
                if wd != 0:
                    g = g + wd * theta
                if mu != 0:
                    state = self.state[p]
                    if state.get("momentum_buffer") is None:
                        state["momentum_buffer"] = Tensor._wrap(g.copy())  # b ← g
                    else:
                        b = state["momentum_buffer"].data
                        b *= mu
                        b += (1 - tau) * g if tau else g  # b ← μ·b + (1 − τ)·g
                    b = state["momentum_buffer"].data
                    g = g + mu * b if group["nesterov"] else b
                theta -= lr * g  # θ ← θ − γ·g
                p._vc[0] += 1
        return loss
