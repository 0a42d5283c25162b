"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.backend import xp
from groundup.optim.optimizer import Optimizer, _check_betas, _check_lr, _check_nonnegative

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam`` (with Dozat's momentum schedule).

    For each parameter θ with gradient g, at step t = 1, 2, …, with learning rate γ, betas (β1, β2),
    epsilon ε, weight decay λ and momentum decay ψ::

        g ← -g                             if maximize
        θ ← θ·(1 − γλ)                     if λ ≠ 0 and decoupled_weight_decay
        g ← g + λ·θ                        if λ ≠ 0 otherwise
        μ_t     = β1·(1 − ½·0.96^(t·ψ))          momentum schedule: warms up towards β1
        μ_{t+1} = β1·(1 − ½·0.96^((t+1)·ψ))
        Π_t = μ_1·μ_2·…·μ_t                      running product (state "mu_product")
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        v̂ = v / (1 − β2^t)
        θ ← θ − γ·(1 − μ_t)/(1 − Π_t) · g / (√v̂ + ε)              the current gradient ...
        θ ← θ − γ·μ_{t+1}/(1 − Π_t·μ_{t+1}) · m / (√v̂ + ε)        ... plus a look-ahead momentum step

    The second line uses next step's momentum μ_{t+1}: that is Nesterov's look-ahead, folded into
    Adam. Paper: Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
    State per parameter: ``step``, ``mu_product`` (Π, a 0-d float tensor, updated in its own
    precision as PyTorch does), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate γ (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: decay θ directly as AdamW does (NAdamW) (default False).
        maximize: ascend the objective instead of descending it.
        foreach, capturable, differentiable: accepted for PyTorch compatibility; they change nothing.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        lr = _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        _check_betas(betas)
        _check_nonnegative(weight_decay, "weight_decay")
        _check_nonnegative(momentum_decay, "momentum_decay")
        if differentiable:
            raise NotImplementedError("NAdam: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
            capturable=capturable, differentiable=differentiable,
        )  # fmt: skip
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; returns ``closure()`` if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            psi = float(group["momentum_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = self._scalar(0.0)
                    state["mu_product"] = self._scalar(1.0)
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                g = self._gradient(p, group["maximize"])
                theta, g, m, v = self._arrays(p, g, state["exp_avg"], state["exp_avg_sq"])
                t = self._increment(state["step"])

                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        theta *= 1 - lr * wd
                    else:
                        g = g + wd * theta
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
                state["mu_product"].data *= mu  # Π_t = Π_{t−1}·μ_t
                mu_product = float(state["mu_product"].data)
                mu_product_next = mu_product * mu_next

                m *= beta1
                m += (1 - beta1) * g  # m ← β1·m + (1 − β1)·g
                v *= beta2
                v += (1 - beta2) * g * g  # v ← β2·v + (1 − β2)·g²
                denom = v / (1 - beta2**t)
                xp.sqrt(denom, out=denom)
                denom += eps  # √v̂ + ε
                theta -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
                theta -= (lr * mu_next / (1.0 - mu_product_next)) * xp.divide(m, denom, out=denom)
                p._vc[0] += 1
        return loss
