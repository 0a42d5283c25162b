"""U-Net: O. Ronneberger, P. Fischer & T. Brox, "U-Net: Convolutional Networks for Biomedical Image
Segmentation", MICCAI 2015.

A fully convolutional encoder-decoder that labels every pixel. The **encoder** (contracting path)
repeats "two 3x3 convolutions, then a 2x2 max-pool": each level halves H and W and doubles the
channels, so deep features see a wide context but have lost the exact position of edges. The
**decoder** (expanding path) undoes the pooling level by level: it up-samples by 2 (a learned
``ConvTranspose2d(kernel_size=2, stride=2)``, the paper's "up-convolution", or a fixed bilinear
``Upsample`` followed by a 3x3 convolution), **concatenates** the encoder's feature map of the same
size (the skip connection, which brings the fine positions back), and applies two 3x3
convolutions. A 1x1 convolution maps the last feature map to one logit per class and pixel.

Differences from the paper, as in most modern re-implementations (e.g. milesial/Pytorch-UNet,
whose module names this file uses: ``inc``, ``down``, ``up``, ``outc``, ``double_conv``,
``maxpool_conv``): the 3x3 convolutions are padded (``padding=1``), so no cropping is needed and
the output has the input's H and W, provided both are divisible by ``2**depth``; each
convolution is followed by ``BatchNorm2d`` (hence ``bias=False``) and ReLU; width and depth are
arguments (the paper's are ``base_channels=64``, ``depth=4``: 31,036,546 parameters here for one
input channel and two classes).
"""

from __future__ import annotations

import groundup as gu
from groundup import nn
from groundup.tensor import Tensor

__all__ = ["UNet"]  # the blocks DoubleConv, Down and Up stay in this module (groundup.models.unet)


class DoubleConv(nn.Module):
    """``(3x3 conv → BN → ReLU) x 2`` with padding 1: changes the channels, keeps H and W."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.double_conv(x)  # (N, out, H, W)


class Down(nn.Module):
    """One encoder level: 2x2 max-pool (halves H and W), then :class:`DoubleConv`."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x: Tensor) -> Tensor:
        return self.maxpool_conv(x)  # (N, out, H/2, W/2)


class Up(nn.Module):
    """One decoder level: up-sample by 2 to ``in_channels // 2`` channels, concatenate the skip
    (which has ``in_channels // 2`` channels too), then :class:`DoubleConv` to ``out_channels``.

    ``bilinear=False``: ``up`` is ``ConvTranspose2d(in, in // 2, kernel_size=2, stride=2)``, a learned
    up-sampling whose 2x2 output blocks never overlap. ``bilinear=True``: ``up`` is
    ``Upsample(scale_factor=2, mode='bilinear')`` followed by a 3x3 convolution, which cannot produce
    the checkerboard patterns a transposed convolution can (docs/segmentation.md, section 4).
    """

    def __init__(self, in_channels: int, out_channels: int, bilinear: bool = False) -> None:
        super().__init__()
        if bilinear:
            self.up: nn.Module = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, in_channels // 2, kernel_size=3, padding=1),
            )
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        # x: (N, in, h, w); skip: (N, in/2, 2h, 2w) from the encoder
        x = self.up(x)  # (N, in/2, 2h, 2w)
        x = gu.cat([skip, x], dim=1)  # (N, in, 2h, 2w)
        return self.conv(x)  # (N, out, 2h, 2w)


class UNet(nn.Module):
    """A U-Net of ``depth`` levels: per-pixel class logits ``(N, num_classes, H, W)`` for images
    ``(N, in_channels, H, W)`` whose H and W are divisible by ``2**depth``.

    Level ``i`` of the encoder has ``base_channels * 2**i`` channels at resolution ``H / 2**i``;
    the bottom level (``i = depth``) has ``base_channels * 2**depth``. ``bilinear`` picks the
    decoder's up-sampling (see :class:`Up`). Modules: ``inc`` (the first :class:`DoubleConv`),
    ``down`` (a ``ModuleList`` of :class:`Down`), ``up`` (a ``ModuleList`` of :class:`Up`, deepest
    first) and ``outc`` (the 1x1 classifier).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        base_channels: int = 64,
        depth: int = 4,
        bilinear: bool = False,
    ) -> None:
        super().__init__()
        for name, value, low in (("in_channels", in_channels, 1), ("num_classes", num_classes, 1),
                                 ("base_channels", base_channels, 1), ("depth", depth, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"UNet: {name} must be an int >= {low}, got {value!r}")
        self.in_channels, self.num_classes, self.depth, self.bilinear = in_channels, num_classes, depth, bilinear
        widths = [base_channels * 2**i for i in range(depth + 1)]  # channels at each level, top to bottom
        self.inc = DoubleConv(in_channels, widths[0])
        self.down = nn.ModuleList([Down(widths[i], widths[i + 1]) for i in range(depth)])
        self.up = nn.ModuleList([Up(widths[i + 1], widths[i], bilinear) for i in reversed(range(depth))])
        self.outc = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNet: expected input of shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        k = 2**self.depth
        if x.shape[2] % k or x.shape[3] % k:
            raise ValueError(
                f"UNet: input height and width must be divisible by 2**depth = {k} (depth={self.depth}), "
                f"got {tuple(x.shape[2:])}; pad or crop the images, or use a smaller depth"
            )
        # x: (N, in_channels, H, W)
        x = self.inc(x)  # (N, c, H, W) with c = base_channels
        skips = [x]
        for down in self.down:
            x = down(x)  # level i: (N, c·2^i, H/2^i, W/2^i), i = 1 … depth
            skips.append(x)
        skips.pop()  # the bottom level is x itself, not a skip
        for up in self.up:
            x = up(x, skips.pop())  # level i-1: (N, c·2^(i-1), H/2^(i-1), W/2^(i-1))
        return self.outc(x)  # (N, num_classes, H, W)
