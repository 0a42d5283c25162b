"""Upsampling layers: ``Upsample`` and its fixed-mode variants ``UpsamplingNearest2d`` and
``UpsamplingBilinear2d``, with ``torch.nn``'s arguments and reprs.

They store the settings and call :func:`groundup.nn.functional.interpolate`, where the resampling
rules and the backward pass live (``groundup/functions/interpolate.py``), under the layer's name,
so that an error names the layer (``Upsample: ...``).
"""

from __future__ import annotations

from typing import Any

from groundup.functions.interpolate import _interpolate
from groundup.nn.module import Module
from groundup.tensor import Tensor


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor`` (``mode``: 'nearest',
    'nearest-exact', 'linear', 'bilinear', 'area'); see :func:`groundup.nn.functional.interpolate`."""

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return _interpolate(
            type(self).__name__, input, self.size, self.scale_factor, self.mode, self.align_corners,
            self.recompute_scale_factor, False,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for (N, C, H, W) inputs."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` (the old default)."""

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
