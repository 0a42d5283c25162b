"""Adam: adaptive moment estimation, with the AMSGrad variant."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from groundup.backend import xp
from groundup.optim.optimizer import Optimizer, _check_betas, _check_lr, _check_nonnegative

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (with ``amsgrad`` and optional decoupled weight decay).

    For each parameter θ with gradient g, at step t = 1, 2, …, with learning rate γ, betas (β1, β2),
    epsilon ε and weight decay λ::

        g ← -g                             if maximize
        θ ← θ·(1 − γλ)                     if λ ≠ 0 and decoupled_weight_decay   (= AdamW)
        g ← g + λ·θ                        if λ ≠ 0 otherwise                    (L2 penalty)
        m ← β1·m + (1 − β1)·g              first moment: a running mean of g
        v ← β2·v + (1 − β2)·g²             second moment: a running mean of g²
        v_max ← max(v_max, v)              if amsgrad; then v_max replaces v below
        m̂ = m / (1 − β1^t)                bias corrections: m and v start at 0,
        v̂ = v / (1 − β2^t)                so early averages are too small
        θ ← θ − γ·m̂ / (√v̂ + ε)

    The code computes the last three lines as PyTorch does: θ ← θ − (γ/(1 − β1^t))·m / (√v/√(1 − β2^t) + ε).

    Paper: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015); AMSGrad: Reddi
    et al., "On the Convergence of Adam and Beyond" (ICLR 2018). State per parameter: ``step`` (a
    0-d float tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq``.

    Args:
        params: parameters or parameter groups to optimize.
        lr: learning rate γ (default 1e-3).
        betas: (β1, β2), the decay rates of the two running averages (default (0.9, 0.999)).
        eps: ε added to the denominator for numerical stability (default 1e-8).
        weight_decay: λ (default 0).
        amsgrad: use the running maximum of v (default False).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: decay θ directly instead of through g (makes this AdamW).
        foreach, capturable, differentiable, fused: accepted for PyTorch compatibility; groundup
            has a single NumPy implementation, so they change nothing (``differentiable=True`` is
            not supported).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        lr = _check_lr(lr)
        _check_nonnegative(eps, "epsilon")
        betas = tuple(_check_betas(betas))
        _check_nonnegative(weight_decay, "weight_decay")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)):
            raise ValueError("betas must be either both floats or both Tensors")
        if differentiable:
            raise NotImplementedError(f"{type(self).__name__}: differentiable=True is not supported by groundup")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
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
                    state["exp_avg_sq"] = self._zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = self._zeros_like(p)
                g = self._gradient(p, group["maximize"])
                theta, g, m, v = self._arrays(p, g, state["exp_avg"], state["exp_avg_sq"])
                t = self._increment(state["step"])

                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        theta *= 1 - lr * wd
                    else:
                        g = g + wd * theta
                m *= beta1
                m += (1 - beta1) * g  # m ← β1·m + (1 − β1)·g
                v *= beta2
                v += (1 - beta2) * g * g  # v ← β2·v + (1 − β2)·g²
                if group["amsgrad"]:
                    (v_max,) = self._arrays(state["max_exp_avg_sq"])
                    v = xp.maximum(v_max, v, out=v_max)

                step_size = lr / (1 - beta1**t)  # γ / (1 − β1^t): m̂'s correction folded into γ
                denom = xp.sqrt(v)
                denom /= (1 - beta2**t) ** 0.5
                denom += eps  # √v̂ + ε
                update = xp.divide(m, denom, out=denom)
                update *= step_size
                theta -= update  # θ ← θ − γ·m̂ / (√v̂ + ε)
                p._vc[0] += 1
        return loss
