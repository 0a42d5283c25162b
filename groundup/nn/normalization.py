"""Normalization layers: ``BatchNorm1d/2d/3d`` (one ``_BatchNorm`` base, differing only in the
input-rank check), ``LayerNorm``, ``GroupNorm`` and ``InstanceNorm1d/2d/3d``.

The maths (and its backward) lives in ``groundup/functions/normalization.py``; these modules hold
the learned per-feature scale and shift (``weight`` = γ, ``bias`` = β) and, for batch and instance
norm, the running statistics that evaluation uses. Parameter and buffer names match PyTorch's, so
``state_dict`` keys are ``weight, bias, running_mean, running_var, num_batches_tracked``.
"""

from __future__ import annotations

import warnings
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
        if self.weight is not None or self.running_mean is not None:  # per-channel state: C must match
            _check_channels(self, input, self.num_features, "num_features")
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
                f"{type(self).__name__}: expected 2D or 3D input (got {input.ndim}D input of shape "
                f"{tuple(input.shape)}); {type(self).__name__} takes (N, C) or (N, C, L)"
            )


def _check_channels(layer: Module, input: Tensor, expected: int, what: str) -> None:
    """Axis 1 of a batched ``input`` must hold the layer's ``expected`` channels (a RuntimeError, as PyTorch)."""
    shape = tuple(input.shape)
    if shape[1] != expected:
        name = type(layer).__name__
        raise RuntimeError(
            f"{name}: expected input with {expected} channels ({what}={expected}) in dimension 1, but got "
            f"input of shape {shape} with {shape[1]} channels"
        )


def _check_rank(layer: Module, input: Any, ranks: tuple[int, ...], layout: str) -> None:
    """``input`` must be a Tensor with one of ``ranks`` dims, else a PyTorch-worded ValueError."""
    name = type(layer).__name__
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
    if input.ndim not in ranks:
        want = " or ".join(f"{r}D" for r in ranks)
        raise ValueError(
            f"{name}: expected {want} input (got {input.ndim}D input); input shape "
            f"{tuple(input.shape)}, {name} takes {layout}"
        )


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) images: per channel, statistics over N, H and W.

    The standard normalization of convolutional networks: ``y = (x - E[x]) / sqrt(Var[x] + eps)
    * γ + β`` with one (γ, β) and one pair of running statistics per channel (Ioffe & Szegedy,
    2015). Everything but the rank check is :class:`BatchNorm1d`'s.
    """

    def _check_input_dim(self, input: Tensor) -> None:
        _check_rank(self, input, (4,), "(N, C, H, W)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) volumes: per channel, statistics over N, D, H, W."""

    def _check_input_dim(self, input: Tensor) -> None:
        _check_rank(self, input, (5,), "(N, C, D, H, W)")


class _InstanceNorm(_NormBase):
    """Instance normalization: each channel of each sample normalised over its own positions.

    Defaults differ from batch norm's (``affine=False``, ``track_running_stats=False``): by
    default the layer has no state and behaves the same in training and evaluation. With
    ``track_running_stats=True`` training also updates running averages of the per-instance
    statistics, and evaluation then uses those instead (``num_batches_tracked`` is kept for
    ``state_dict`` compatibility but, as in PyTorch, never advanced; ``momentum=None`` means 0).
    An input without the batch dim (one rank lower) is treated as a batch of one.
    """

    _no_batch_dim: int  # rank of an unbatched input: (C, L) -> 2, (C, H, W) -> 3, ...
    _layout: str

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _check_input_dim(self, input: Tensor) -> None:
        _check_rank(self, input, (self._no_batch_dim, self._no_batch_dim + 1), self._layout)

    def _apply_instance_norm(self, input: Tensor) -> Tensor:
        return F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        size = input.shape[feature_dim]
        if size != self.num_features:
            if self.affine:
                raise ValueError(
                    f"{type(self).__name__}: expected input's size at dim={feature_dim} to match "
                    f"num_features ({self.num_features}), but got: {size} (input shape {tuple(input.shape)})."
                )
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can silence "
                "this warning by not passing in num_features, which is not used because affine=False",
                stacklevel=2,
            )
        if input.ndim == self._no_batch_dim:  # unbatched: a batch of one
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or unbatched (C, L) inputs (Ulyanov et al., 2016).

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * γ + β`` with statistics per sample and channel over L.
    """

    _no_batch_dim = 2
    _layout = "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or unbatched (C, H, W) images (Ulyanov et al., 2016).

    Each feature map of each image is normalised over its pixels, which removes per-image contrast;
    the normalization of style-transfer networks.
    """

    _no_batch_dim = 3
    _layout = "(N, C, H, W) or (C, H, W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or unbatched (C, D, H, W) volumes."""

    _no_batch_dim = 4
    _layout = "(N, C, D, H, W) or (C, D, H, W)"


class GroupNorm(Module):
    """Group normalization (Wu & He, 2018): the channels split into ``num_groups`` groups, each
    group of each sample normalised over its channels and positions, then a per-channel affine.

    Independent of the batch: the same in training and evaluation, no running statistics, and
    usable with batches of one. ``num_groups=1`` normalises each sample over (C, *) (a layer
    norm with a per-channel affine); ``num_groups=num_channels`` is instance norm. γ (ones) and
    β (zeros) have shape (num_channels,) when ``affine``.
    """

    num_groups: int
    num_channels: int
    eps: float
    affine: bool

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for v, what in ((num_groups, "num_groups"), (num_channels, "num_channels")):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise TypeError(f"GroupNorm: {what} must be an int, got {v!r}")
        if num_groups <= 0:
            raise ValueError(f"GroupNorm: num_groups must be positive, got {num_groups}")
        if num_channels % num_groups != 0:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        d = _factory("GroupNorm", device, dtype)
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(empty(self.num_channels, dtype=d))  # (C,) γ
            if bias:
                self.bias = Parameter(empty(self.num_channels, dtype=d))  # (C,) β
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"GroupNorm: expected a Tensor, got {type(input).__name__}")
        if input.ndim < 2:
            raise RuntimeError(
                f"GroupNorm: expected an input of shape (N, C, *) with at least 2 dims, got shape {tuple(input.shape)}"
            )
        if self.affine:  # γ and β are per channel: C must match (without them, as PyTorch, any C divisible by G)
            _check_channels(self, input, self.num_channels, "num_channels")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
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


__all__ = [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
]
