"""Shapes: a generated semantic-segmentation dataset of circles, squares and triangles on noise.

Each image is ``size x size`` pixels, one channel, holding 1 to ``max_shapes`` shapes; its mask
gives every pixel a class: 0 background, 1 circle, 2 square, 3 triangle. A shape has

* a class, drawn uniformly from the three;
* an **area-equivalent radius** ``r``, uniform in ``radius * size``: every shape covers the area
  ``π r²`` of a disc of radius ``r``, whatever its class, so size says nothing about the class;
* a random orientation (squares and triangles are rotated by a uniform angle);
* a centre placed uniformly where the whole shape fits inside the image;
* an intensity uniform in ``intensity`` (background is 0), so brightness says nothing either.

A square and a triangle are regular polygons: with ``m`` sides and inradius ``ρ`` a polygon is the
set of points whose projection on each of the ``m`` edge normals is at most ``ρ``, and its area is
``m ρ² tan(π/m)``; ``ρ = r sqrt(π / (m tan(π/m)))`` makes that ``π r²``. Pixel ``(i, j)`` belongs
to a shape when its centre ``(x, y) = (j + 0.5, i + 0.5)`` does. Shapes are painted in order, so
**a later shape occludes an earlier one** where they overlap: the mask holds the class of the
topmost shape and the image its intensity. Finally Gaussian noise of std ``noise`` is added to
every pixel. All of it is NumPy on ``(N, K, H, W)`` coordinate grids, no per-image loop: 1,000
images of 32x32 take about 0.1 s.

:func:`make_shapes` returns NumPy arrays; :class:`Shapes` is the dataset with train and test
splits drawn from independent streams of one seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from groundup.backend import Generator
from groundup.creation import from_numpy
from groundup.datasets import toy
from groundup.datasets.arrays import ArraysDataset

__all__ = ["SHAPE_CLASSES", "Shapes", "make_shapes"]

SHAPE_CLASSES = ("background", "circle", "square", "triangle")
_SPLITS = ("train", "valid", "test")
_SIDES = {2: 4, 3: 3}  # polygon classes and their number of sides


def _inradius_factor(m: int) -> float:
    """``ρ / r`` for a regular ``m``-gon of area ``π r²``."""
    return float(np.sqrt(np.pi / (m * np.tan(np.pi / m))))


# how far a shape reaches from its centre, per class, in units of r: 1 for the disc, the
# circumradius ρ / cos(π/m) for a polygon (slot 0 = empty)
_REACH = np.array([0.0, 1.0] + [_inradius_factor(m) / np.cos(np.pi / m) for m in (4, 3)])


def _rng(generator: Generator | int | np.random.Generator | None) -> np.random.Generator:
    """The toy datasets' seed handling, plus a NumPy Generator used as it is (a split's own stream)."""
    return generator if isinstance(generator, np.random.Generator) else toy._rng(generator)


def _check_range(value: Any, name: str, low: float, high: float) -> tuple[float, float]:
    a, b = (float(v) for v in value)
    if not low <= a <= b <= high:
        raise ValueError(f"make_shapes: {name} must be a pair low <= high within [{low}, {high}], got {value!r}")
    return a, b


def make_shapes(
    n: int,
    size: int = 32,
    max_shapes: int = 3,
    radius: tuple[float, float] = (0.1, 0.2),
    intensity: tuple[float, float] = (0.5, 1.0),
    noise: float = 0.1,
    generator: Generator | int | np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """Generate ``n`` images with their per-pixel labels and the parameters of every shape.

    Args:
        n: the number of images.
        size: their height and width in pixels (at least 8).
        max_shapes: each image holds a uniform number of shapes in ``1 … max_shapes``.
        radius: the range of the area-equivalent radius, as fractions of ``size`` (at most 0.25,
            so that every shape fits).
        intensity: the range of a shape's brightness (the background is 0).
        noise: the standard deviation of the Gaussian noise added to every pixel.
        generator: a :class:`groundup.Generator`, an int seed, a NumPy ``Generator``, or None for
            groundup's global RNG.

    Returns:
        ``images`` float32 ``(n, 1, size, size)``, ``masks`` int64 ``(n, size, size)``, and per
        shape slot ``(n, max_shapes)``: ``labels`` (int64, 0 for an unused slot), ``cx``, ``cy``
        (centre, in pixels: x along the width, y down the height), ``radius`` (``r``), ``angle``
        (radians) and ``intensity``. Slot ``k`` is painted over slots ``< k``.
    """
    for name, value, low in (("n", n, 1), ("size", size, 8), ("max_shapes", max_shapes, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"make_shapes: {name} must be an int >= {low}, got {value!r}")
    r_lo, r_hi = _check_range(radius, "radius", 0.0, 0.25)
    i_lo, i_hi = _check_range(intensity, "intensity", -np.inf, np.inf)
    if r_lo <= 0:
        raise ValueError(f"make_shapes: radius must be positive, got {radius!r}")
    if noise < 0:
        raise ValueError(f"make_shapes: noise must be >= 0, got {noise}")
    g = _rng(generator)
    n, k = int(n), int(max_shapes)

    count = g.integers(1, k + 1, n)  # (n,) shapes per image
    labels = g.integers(1, len(SHAPE_CLASSES), (n, k))  # (n, k) class of each slot …
    labels[np.arange(k) >= count[:, None]] = 0  # … 0 for the unused slots
    r = size * g.uniform(r_lo, r_hi, (n, k))  # (n, k)
    angle = g.uniform(0.0, 2 * np.pi, (n, k))  # (n, k)
    reach = r * _REACH[labels]  # (n, k) the circumradius: the centre keeps this far from the edges
    cx = reach + g.uniform(0.0, 1.0, (n, k)) * (size - 2 * reach)  # (n, k)
    cy = reach + g.uniform(0.0, 1.0, (n, k)) * (size - 2 * reach)  # (n, k)
    level = g.uniform(i_lo, i_hi, (n, k))  # (n, k)
    noise_field = g.normal(0.0, noise, (n, 1, size, size)) if noise else 0.0  # (n, 1, H, W)

    centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    inside = np.zeros((n, k, size, size), dtype=bool)  # (n, k, H, W) which pixels each slot covers
    for cls in range(1, len(SHAPE_CLASSES)):
        at = np.nonzero(labels == cls)  # the S slots of this class
        dx = centres[None, None, :] - cx[at][:, None, None].astype(np.float32)  # (S, 1, W)
        dy = centres[None, :, None] - cy[at][:, None, None].astype(np.float32)  # (S, H, 1)
        rs = r[at][:, None, None].astype(np.float32)  # (S, 1, 1)
        if cls == 1:
            inside[at] = dx * dx + dy * dy <= rs * rs  # (S, H, W) the disc
            continue
        m = _SIDES[cls]
        phi = angle[at][:, None] + 2 * np.pi * np.arange(m) / m  # (S, m) directions of the edge normals
        cos, sin = np.cos(phi).astype(np.float32), np.sin(phi).astype(np.float32)
        proj = dx * cos[:, 0, None, None] + dy * sin[:, 0, None, None]  # (S, H, W)
        for j in range(1, m):
            proj = np.maximum(proj, dx * cos[:, j, None, None] + dy * sin[:, j, None, None])
        inside[at] = proj <= rs * _inradius_factor(m)  # (S, H, W) the polygon

    masks = np.zeros((n, size, size), dtype=np.int64)  # (n, H, W)
    images = np.zeros((n, size, size), dtype=np.float64)  # (n, H, W)
    for s in range(k):  # painter's order: slot s covers the slots before it
        hit = inside[:, s]  # (n, H, W)
        masks = np.where(hit, labels[:, s, None, None], masks)
        images = np.where(hit, level[:, s, None, None], images)
    images = (images[:, None] + noise_field).astype(np.float32)  # (n, 1, H, W)
    return {"images": images, "masks": masks, "labels": labels, "cx": cx, "cy": cy, "radius": r,
            "angle": angle, "intensity": level}


class Shapes(ArraysDataset):
    """The shapes segmentation dataset: items ``(image, mask)``, ``image`` float32 ``(1, H, W)``
    and ``mask`` int64 ``(H, W)`` with classes :data:`SHAPE_CLASSES`.

    ``split`` is ``"train"``, ``"valid"`` or ``"test"``; the splits come from independent random
    streams of ``seed`` (``SeedSequence([seed, 0, 1 or 2])``), so they do not share images and each
    is bit-for-bit the same on every call. ``n_images`` defaults to 2,000 for train and 500 for the
    others; other keyword arguments go to :func:`make_shapes`. ``.data`` ``(N, 1, H, W)`` and ``.targets``
    ``(N, H, W)`` hold the whole split (``.tensors()`` gives them to a fast DataLoader), and
    ``.shapes`` the parameters of every shape (see :func:`make_shapes`).
    """

    classes = list(SHAPE_CLASSES)

    def __init__(
        self,
        split: str = "train",
        n_images: int | None = None,
        size: int = 32,
        seed: int = 0,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if split not in _SPLITS:
            raise ValueError(f"Shapes: split must be 'train', 'valid' or 'test', got {split!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"Shapes: seed must be a non-negative int, got {seed!r}")
        n = n_images if n_images is not None else (2000 if split == "train" else 500)
        stream = np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), _SPLITS.index(split)])))
        made = make_shapes(n, size=size, generator=stream, **kwargs)
        self.split, self.size, self.seed = split, size, seed
        self.transform, self.target_transform = transform, target_transform
        self.data = from_numpy(made.pop("images"))  # (N, 1, H, W)
        self.targets = from_numpy(made.pop("masks"))  # (N, H, W)
        self.shapes = made

    @property
    def num_classes(self) -> int:
        return len(self.classes)
