"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from groundup.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: Adam whose weight decay shrinks θ directly.

    For each parameter θ with gradient g, at step t = 1, 2, …, with learning rate γ, betas (β1, β2),
    epsilon ε and weight decay λ::

        g ← -g                             if maximize
        θ ← θ·(1 − γλ)                     decoupled decay: not mixed into the moment estimates
        m ← β1·m + (1 − β1)·g
        v ← β2·v + (1 − β2)·g²
        v_max ← max(v_max, v)              if amsgrad; then v_max replaces v below
        θ ← θ − γ·m̂ / (√v̂ + ε)            with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)

    Adam's L2 penalty (g ← g + λθ) is divided by √v̂ like the rest of the gradient, so weights with
    large gradients are barely regularised; decoupling applies the same relative decay to every
    weight. Paper: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).
    The step is :class:`~groundup.optim.Adam`'s with ``decoupled_weight_decay=True``; note the
    different default, ``weight_decay=1e-2``. State per parameter: as Adam.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True,
        )  # fmt: skip

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # whatever the checkpoint says, AdamW decays decoupled
            group["decoupled_weight_decay"] = True
