"""Gradient clipping: rescale or clamp ``.grad`` in place between ``backward()`` and ``step()``.

``clip_grad_norm_`` treats all gradients as one long vector ``g`` and, if its norm exceeds
``max_norm``, scales every gradient by ``max_norm / (‖g‖ + 1e-6)``: the update keeps its direction
but cannot explode (Pascanu et al., 2013, the standard fix for exploding RNN gradients).
``clip_grad_value_`` clamps each entry to ``[-clip_value, clip_value]`` instead, which does change
the direction. Both follow ``torch.nn.utils`` exactly, including the returned total norm.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from groundup.autograd import no_grad
from groundup.backend import xp
from groundup.creation import tensor as _tensor
from groundup.functions.movement import stack
from groundup.functions.reduce import vector_norm
from groundup.tensor import Tensor

_TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: Any, op: str) -> list:
    if isinstance(tensors, Tensor):
        return [tensors]
    if not isinstance(tensors, Iterable):
        raise TypeError(f"{op}: expected a Tensor or an iterable of Tensors, got {type(tensors).__name__}")
    is_generator = isinstance(tensors, types.GeneratorType)
    out = list(tensors)
    if is_generator and not out and op == "clip_grad_norm_":
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=4)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__} at position {i}")
    return out


@no_grad()
def get_total_norm(
    tensors: _TensorOrTensors,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together as one vector (a 0-d tensor).

    Computed as the norm of the per-tensor norms, which equals the norm of the concatenation for
    every p-norm (and for ``inf``, the max of maxima). ``foreach`` is accepted for compatibility;
    NumPy has no multi-tensor kernels, so it changes nothing.
    """
    tensors = _as_list(tensors, "get_total_norm")
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    norms = [vector_norm(t.detach(), norm_type) for t in tensors]
    total = vector_norm(stack(norms), norm_type)
    if error_if_nonfinite and not xp.isfinite(total.data):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    return total


@no_grad()
def clip_grads_with_norm_(
    parameters: _TensorOrTensors,
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Scale every ``p.grad`` in place by ``min(1, max_norm / (total_norm + 1e-6))``."""
    params = _as_list(parameters, "clip_grads_with_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    total = total_norm.data if isinstance(total_norm, Tensor) else xp.asarray(total_norm)
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)  # 0-d, in the norm's dtype
    with np.errstate(invalid="ignore"):  # a non-finite norm gives 0 * inf = nan, as in PyTorch
        for g in grads:
            g.mul_(coef)


@no_grad()
def clip_grad_norm_(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients of ``parameters`` so their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor), handy for logging. ``norm_type`` may be
    ``inf`` (largest absolute entry). With ``error_if_nonfinite=True`` a nan/inf norm raises
    instead of turning every gradient into nan.
    """
    params = _as_list(parameters, "clip_grad_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Deprecated spelling of :func:`clip_grad_norm_`."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@no_grad()
def clip_grad_value_(parameters: _TensorOrTensors, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient entry of ``parameters`` to ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters, "clip_grad_value_"):
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)


__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]
