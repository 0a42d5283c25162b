"""Normalization layers: ``BatchNorm1d`` (on a ``_BatchNorm`` base that BatchNorm2d/3d extend with
an input-rank check) and ``LayerNorm``.

The maths (and its backward) lives in ``groundup/functions/normalization.py``; these modules hold
the learned per-feature scale and shift (``weight`` = γ, ``bias`` = β) and, for batch norm, the
running statistics that evaluation uses. Parameter and buffer names match PyTorch's, so
``state_dict`` keys are ``weight, bias, running_mean, running_var, num_batches_tracked``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup import dtypes as _dt
from groundup.autograd import no_grad
from groundup.creation import empty, ones, tensor, zeros
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Module, Parameter
from groundup.tensor import Tensor
from groundup.tensor import device as _device


def _factory(cls: str, device: Any, dtype: Any) -> _dt.dtype:
    """The parameter dtype (floating; the default dtype if None); ``device`` must be the CPU."""
    if device is not None:
        _device(device)
    d = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    if not d.is_floating_point:
        raise TypeError(f"{cls}: parameters must have a floating-point dtype, got {d}")
    return d


class _NormBase(Module):
    """Per-channel affine parameters and running statistics, shared by the batch-norm layers.

    ``momentum=None`` makes the running statistics a cumulative (equal-weight) average over all
    batches seen, using ``num_batches_tracked``; otherwise they are exponential moving averages.
    """

    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, (int, np.integer)) or isinstance(num_features, bool) or num_features < 0:
            raise TypeError(f"{name}: num_features must be a non-negative int, got {num_features!r}")
        d = _factory(name, device, dtype)
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(self.num_features, dtype=d))  # (C,) γ
            if bias:
                self.bias = Parameter(empty(self.num_features, dtype=d))  # (C,) β
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, dtype=d))  # (C,)
            self.register_buffer("running_var", ones(self.num_features, dtype=d))  # (C,)
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dt.int64))  # ()
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics, γ to 1 and β to 0 (the identity transform)."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _check_input_dim")

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Batch normalization over every axis but the channel axis 1 (subclasses check the rank).

    Training mode normalises with the batch's statistics and (when ``track_running_stats``)
    updates the running ones in place; evaluation mode uses the running statistics, so the output
    of a sample no longer depends on the rest of its batch. Without running statistics the batch
    statistics are used in both modes.
    """

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum  # the EMA weight of this batch
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average: batch k gets weight 1/k
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats  # pass the buffers to be used/updated
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, one (γ, β) per channel C.

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * γ + β`` with statistics per channel over N (and L)
    (Ioffe & Szegedy, 2015). Running statistics: ``running = (1 - momentum) * running + momentum
    * batch`` (unbiased variance), or a cumulative average when ``momentum=None``.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(
                f"expected 2D or 3D input (got {input.ndim}D input of shape {tuple(input.shape)}); "
                f"{type(self).__name__} takes (N, C) or (N, C, L)"
            )


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dims of each sample (Ba et al., 2016).

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * γ + β`` with statistics per sample; γ (ones) and β
    (zeros) have shape ``normalized_shape`` when ``elementwise_affine``. No running statistics:
    training and evaluation behave the same.
    """

    normalized_shape: tuple[int, ...]
    eps: float
    elementwise_affine: bool

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
            normalized_shape = (int(normalized_shape),)
        try:
            shape = tuple(int(s) for s in normalized_shape)
        except (TypeError, ValueError):
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}"
            ) from None
        d = _factory("LayerNorm", device, dtype)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(shape, dtype=d))  # normalized_shape, γ
            if bias:
                self.bias = Parameter(empty(shape, dtype=d))  # normalized_shape, β
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


__all__ = ["BatchNorm1d", "LayerNorm"]
