"""Image transforms, like ``torchvision.transforms``, written with NumPy and vectorised over batches.

Every transform takes one image — a tensor (C, H, W), or (H, W) — **or a whole batch (N, C, H, W)**
and returns the same kind of thing. Random transforms draw their parameters independently for
each image of a batch from ``generator`` (a :class:`groundup.Generator`) or, if None, from
groundup's global RNG, so ``groundup.manual_seed`` makes augmentation repeatable.

Per-item transforms (``MNIST(transform=...)``) cost a Python call per image; on a small CPU that,
not the model, can become the bottleneck. The fast way is to load whole-dataset tensors and
augment each *batch* in the training loop, one vectorised call for the batch::

    from groundup import transforms as T
    from groundup.utils.data import DataLoader

    train = MNIST().as_tensor_dataset()                  # X (50000, 1, 28, 28) in [0, 1]
    loader = DataLoader(train, batch_size=128, shuffle=True)
    augment = T.Compose([T.RandomShift(2), T.RandomRotation(10), T.Normalize((0.1307,), (0.3081,))])
    for x, y in loader:
        x = augment(x)                                   # per-image shifts and angles, one call
        loss = F.cross_entropy(model(x), y)

Data augmentation is not part of the autograd graph: random transforms return new tensors that
do not require grad. :class:`Normalize` is built from tensor ops and so is differentiable.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from groundup.backend import Generator, rng
from groundup.creation import from_numpy
from groundup.tensor import Tensor

__all__ = [
    "Compose",
    "GaussianNoise",
    "Lambda",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomShift",
    "ToTensor",
]


def _as_batch(img: Any, name: str) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """View ``img`` as an (N, C, H, W) array, plus a function that restores the caller's layout/type."""
    is_tensor = isinstance(img, Tensor)
    arr = img.data if is_tensor else np.asarray(img)
    ndim = arr.ndim
    if ndim not in (2, 3, 4):
        raise ValueError(f"{name}: expected an image (H, W) or (C, H, W), or a batch (N, C, H, W); got shape {arr.shape}")
    batch = arr.reshape((1,) * (4 - ndim) + arr.shape)

    def restore(out: np.ndarray) -> Any:
        out = out.reshape(out.shape[4 - ndim :]) if ndim < 4 else out
        return Tensor._wrap(out) if is_tensor else out

    return batch, restore


def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, numbers.Number):
        return int(value), int(value)
    value = tuple(value)
    if len(value) == 1:
        return int(value[0]), int(value[0])
    if len(value) != 2:
        raise ValueError(f"{name}: expected an int or a pair (h, w), got {value}")
    return int(value[0]), int(value[1])


class Compose:
    """Apply ``transforms`` in order: ``Compose([A(), B()])(x) == B()(A()(x))``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    """Wrap a function as a transform: ``Lambda(lambda x: x.flatten())``."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToTensor:
    """Convert an image array to a float tensor (C, H, W), scaling uint8 0…255 to [0, 1].

    A NumPy array (H, W) or (H, W, C) — or a PIL image — becomes (1, H, W) / (C, H, W); a 4-D
    array is read as a batch (N, H, W, C). Only uint8 data is scaled (as in torchvision); other
    dtypes keep their values. A groundup tensor is taken to be (C, H, W) already: uint8 is scaled
    to float32, anything else is returned unchanged (so ``ToTensor()`` on an MNIST item is a no-op).
    """

    def __call__(self, pic: Any) -> Tensor:
        if isinstance(pic, Tensor):
            if pic.data.dtype == np.uint8:
                return Tensor._wrap(pic.data.astype(np.float32) / np.float32(255))
            return pic
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[None]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        elif arr.ndim == 4:
            arr = arr.transpose(0, 3, 1, 2)
        else:
            raise ValueError(f"ToTensor: expected an image (H, W) or (H, W, C), got an array of shape {arr.shape}")
        if arr.dtype == np.uint8:
            return Tensor._wrap(arr.astype(np.float32) / np.float32(255))
        return from_numpy(np.ascontiguousarray(arr))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``(x - mean) / std`` per channel: ``mean`` and ``std`` have one value per channel (dim -3).

    For MNIST the usual values are ``Normalize((0.1307,), (0.3081,))``. Works on (C, H, W) and on
    batches (N, C, H, W); made of tensor ops, so gradients flow through it.
    """

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError("Normalize: mean and std must be numbers or 1-D sequences (one value per channel)")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std evaluated to zero ({self.std.tolist()}), leading to division by zero")
        self.inplace = inplace

    def __call__(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"Normalize: expected a groundup Tensor, got {type(x).__name__} (apply ToTensor first)")
        if not x.is_floating_point():
            raise TypeError(f"Normalize: expected a floating-point tensor, got {x.dtype} (apply ToTensor first)")
        dt = x.data.dtype
        c = max(len(self.mean), len(self.std))
        if c > 1 and (x.ndim < 3 or x.shape[-3] != c):
            raise ValueError(
                f"Normalize: {c} channel means/stds given, but the input of shape {tuple(x.shape)} has "
                f"{x.shape[-3] if x.ndim >= 3 else 'no'} channels at dim -3"
            )
        shape = (-1, 1, 1) if x.ndim >= 3 else (-1,)
        mean = self.mean.astype(dt).reshape(shape)
        std = self.std.astype(dt).reshape(shape)
        if self.inplace:
            return x.sub_(from_numpy(mean)).div_(from_numpy(std))
        return (x - from_numpy(mean)) / from_numpy(std)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomCrop:
    """Crop a random ``size`` window, after optional padding (torchvision's ``RandomCrop``).

    ``padding``: an int (all sides), a pair (left/right, top/bottom) or 4 values (left, top, right,
    bottom); ``padding_mode``: ``'constant'`` (with ``fill``), ``'edge'``, ``'reflect'`` or
    ``'symmetric'``. ``pad_if_needed`` pads images smaller than ``size``. On a batch each image
    gets its own window, gathered in one vectorised indexing step.
    """

    _PAD_MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
        generator: Generator | None = None,
    ) -> None:
        self.size = None if size is None else _pair(size, "RandomCrop size")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        if padding_mode not in self._PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {self._PAD_MODES}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.generator = generator

    def _pads(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom)."""
        p = self.padding
        if p is None:
            return 0, 0, 0, 0
        if isinstance(p, numbers.Number):
            return (int(p),) * 4
        p = [int(v) for v in p]
        if len(p) == 2:
            return p[0], p[1], p[0], p[1]
        if len(p) == 4:
            return p[0], p[1], p[2], p[3]
        raise ValueError(f"RandomCrop: padding must be an int or a sequence of 2 or 4 ints, got {self.padding}")

    def _pad(self, x: np.ndarray, left: int, top: int, right: int, bottom: int) -> np.ndarray:
        if not (left or top or right or bottom):
            return x
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return np.pad(x, widths, mode="constant", constant_values=self.fill)
        return np.pad(x, widths, mode=self.padding_mode)

    def _crop(self, x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        left, top, right, bottom = self._pads()
        x = self._pad(x, left, top, right, bottom)
        h, w = size
        if self.pad_if_needed:
            dh, dw = max(h - x.shape[2], 0), max(w - x.shape[3], 0)
            x = self._pad(x, dw, dh, dw, dh)
        n, _, hp, wp = x.shape
        if h > hp or w > wp:
            raise ValueError(
                f"{type(self).__name__}: crop size {(h, w)} is larger than the (padded) image {(hp, wp)}; "
                "add padding or pad_if_needed=True"
            )
        g = rng(self.generator)
        tops = g.integers(0, hp - h + 1, size=n)
        lefts = g.integers(0, wp - w + 1, size=n)
        windows = np.lib.stride_tricks.sliding_window_view(x, (h, w), axis=(2, 3))  # (N, C, hp-h+1, wp-w+1, h, w)
        return windows[np.arange(n), :, tops, lefts]  # (N, C, h, w): one window per image

    def __call__(self, img: Any) -> Any:
        if self.size is None:
            raise ValueError("RandomCrop: size is required (an int or a pair (h, w))")
        x, restore = _as_batch(img, type(self).__name__)
        return restore(self._crop(x, self.size))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomShift(RandomCrop):
    """Translate each image by a random whole number of pixels in [-max_shift, max_shift] along
    each axis, filling the uncovered border with ``fill`` (a padded crop of the original size)."""

    def __init__(self, max_shift: int, fill: float = 0, generator: Generator | None = None) -> None:
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative int, got {max_shift!r}")
        super().__init__(None, padding=int(max_shift), fill=fill, generator=generator)
        self.max_shift = int(max_shift)

    def __call__(self, img: Any) -> Any:
        x, restore = _as_batch(img, "RandomShift")
        return restore(self._crop(x, x.shape[2:]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_shift={self.max_shift})"


class RandomRotation:
    """Rotate each image by a random angle in ``degrees`` (counter-clockwise, about the centre).

    ``degrees``: a number d (angles uniform in [-d, d]) or a range (min, max). ``interpolation``:
    ``'bilinear'`` or ``'nearest'``; pixels that come from outside the image get ``fill``.
    ``center`` is (x, y) in pixels, default the image centre ((W - 1) / 2, (H - 1) / 2). Each
    output pixel looks up where it came from (the inverse rotation) — one vectorised gather per batch.
    """

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: str = "bilinear",
        center: Sequence[float] | None = None,
        fill: float = 0,
        generator: Generator | None = None,
    ) -> None:
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: if degrees is a single number, it must be non-negative, got {degrees}")
            self.degrees = (-float(degrees), float(degrees))
        else:
            d = [float(v) for v in degrees]
            if len(d) != 2:
                raise ValueError(f"RandomRotation: degrees must be a number or a pair (min, max), got {degrees}")
            self.degrees = (d[0], d[1])
        interpolation = str(getattr(interpolation, "value", interpolation)).lower()
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomRotation: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.interpolation = interpolation
        self.center = center
        self.fill = fill
        self.generator = generator

    def rotate(self, x: np.ndarray, angles: np.ndarray) -> np.ndarray:
        """Rotate a batch ``x`` (N, C, H, W) by ``angles`` (N,) degrees counter-clockwise."""
        n, c, h, w = x.shape
        work = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        cx, cy = ((w - 1) / 2, (h - 1) / 2) if self.center is None else (float(self.center[0]), float(self.center[1]))
        theta = np.deg2rad(angles).astype(work)[:, None, None]
        cos, sin = np.cos(theta), np.sin(theta)
        dx = (np.arange(w, dtype=work) - work.type(cx))[None, None, :]
        dy = (np.arange(h, dtype=work) - work.type(cy))[None, :, None]
        # Output pixel (x, y) shows the input at the inverse rotation (y points down the image).
        # Coordinates are clipped to [-1, W] x [-1, H] and the image gets a 1-pixel border of
        # `fill`: a point outside then reads only border pixels, a point half outside blends the
        # edge with `fill` (grid_sample's zero padding when fill=0), and no masks are needed.
        sx = np.clip(cos * dx - sin * dy + cx, -1, w)  # (N, H, W)
        sy = np.clip(sin * dx + cos * dy + cy, -1, h)
        padded = np.pad(x.astype(work, copy=False), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=self.fill)
        row = w + 2
        base = (np.arange(n * c, dtype=np.int64) * ((h + 2) * row)).reshape(n, c, 1)  # start of each plane
        flat = padded.reshape(-1)

        def at(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:  # border-padded flat index, (N, 1, H*W)
            return ((iy + 1) * row + (ix + 1)).reshape(n, 1, h * w)

        if self.interpolation == "nearest":
            ix = np.floor(sx + 0.5).astype(np.int64)
            iy = np.floor(sy + 0.5).astype(np.int64)
            out = flat[base + at(ix, iy)]
        else:
            x0 = np.minimum(np.floor(sx), w - 1)  # so x0 + 1 <= w stays inside the border
            y0 = np.minimum(np.floor(sy), h - 1)
            wx = (sx - x0).reshape(n, 1, h * w)
            wy = (sy - y0).reshape(n, 1, h * w)
            i00 = base + at(x0.astype(np.int64), y0.astype(np.int64))
            top = flat[i00] * (1 - wx) + flat[i00 + 1] * wx
            bottom = flat[i00 + row] * (1 - wx) + flat[i00 + row + 1] * wx
            out = top * (1 - wy) + bottom * wy
        out = out.reshape(n, c, h, w)
        if x.dtype.kind != "f":
            out = np.rint(out).astype(x.dtype)
        return out

    def __call__(self, img: Any) -> Any:
        x, restore = _as_batch(img, "RandomRotation")
        angles = rng(self.generator).uniform(self.degrees[0], self.degrees[1], size=x.shape[0])
        return restore(self.rotate(x, angles))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation})"


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p`` (decided per image)."""

    def __init__(self, p: float = 0.5, generator: Generator | None = None) -> None:
        self.p = p
        self.generator = generator

    def __call__(self, img: Any) -> Any:
        x, restore = _as_batch(img, "RandomHorizontalFlip")
        flip = rng(self.generator).random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return restore(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class GaussianNoise:
    """Add i.i.d. Gaussian noise of std ``std`` (and mean ``mean``) to every value; optionally clip
    the result to ``clip = (low, high)``. Works on any shape; keeps the input's float dtype."""

    def __init__(
        self, std: float = 0.1, mean: float = 0.0, clip: tuple[float, float] | None = None, generator: Generator | None = None
    ) -> None:
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be non-negative, got {std}")
        self.std, self.mean, self.clip, self.generator = std, mean, clip, generator

    def __call__(self, x: Any) -> Any:
        is_tensor = isinstance(x, Tensor)
        arr = x.data if is_tensor else np.asarray(x)
        if arr.dtype.kind != "f":
            raise TypeError(f"GaussianNoise: expected floating-point data, got {arr.dtype} (apply ToTensor first)")
        noise = rng(self.generator).standard_normal(arr.shape, dtype=np.float64 if arr.dtype == np.float64 else np.float32)
        out = (arr + (noise * self.std + self.mean).astype(arr.dtype, copy=False)).astype(arr.dtype, copy=False)
        if self.clip is not None:
            out = np.clip(out, self.clip[0], self.clip[1]).astype(arr.dtype, copy=False)
        return Tensor._wrap(out) if is_tensor else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(std={self.std}, mean={self.mean})"
