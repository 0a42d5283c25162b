"""A generated object-detection dataset: MNIST digits scattered on a larger blank canvas.

Each image is a ``canvas x canvas`` black square holding 1 to 3 handwritten digits, each resized to
a random size and placed where it does not touch another digit. The targets are what a detector
must find: a tight box around every digit and its class. It is generated in memory in seconds and
is the same, bit for bit, for the same ``seed``; the ``train``, ``valid`` and ``test`` splits take
their digits from MNIST's own train, validation and test images, so no handwriting is shared
between them.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from groundup.creation import from_numpy
from groundup.datasets.mnist import MNIST
from groundup.tensor import Tensor

__all__ = ["MNISTDetection", "area_resize_matrix"]

_SPLITS = ("train", "valid", "test")
_TRIES = 30  # candidate positions drawn at once for each digit; a digit that fits in none is left out


def area_resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix of area ("box") resampling along one axis.

    Output pixel ``i`` covers the input interval ``[i * n_in / n_out, (i + 1) * n_in / n_out)`` and
    takes the average of the input over it, each input pixel weighted by its overlap. Each row sums
    to 1, so a blank input stays exactly blank, and shrinking averages instead of skipping pixels
    (no aliasing). An image resizes as ``R @ image @ R.T``.
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)  # (n_out + 1,) output pixel edges in input units
    lo, hi = edges[:-1, None], edges[1:, None]  # (n_out, 1)
    u = np.arange(n_in)[None, :]  # (1, n_in) input pixel u covers [u, u + 1)
    overlap = np.clip(np.minimum(hi, u + 1) - np.maximum(lo, u), 0.0, None)  # (n_out, n_in)
    return overlap / (n_in / n_out)


class MNISTDetection:
    """Digits on a canvas, with boxes and labels (torchvision's detection-dataset conventions).

    Args:
        split: ``"train"``, ``"valid"`` or ``"test"``: which MNIST images the digits come from.
        n_images: how many canvases to generate.
        canvas: the canvas side in pixels.
        digits: ``(lo, hi)``: each canvas asks for ``lo..hi`` digits, uniformly. A digit that fits in
            none of 30 random positions is left out, so crowded canvases may hold fewer; never fewer
            than one.
        scale: ``(lo, hi)``: each 28x28 MNIST image is resized to ``s x s`` with ``s`` uniform in
            ``lo..hi`` (area resampling); the digit itself fills about 20/28 of that.
        seed: with the other arguments, fixes the dataset bit for bit (more ``n_images`` gives other
            canvases, not a longer list of the same ones).
        root: passed to :class:`~groundup.datasets.MNIST` to find the data.

    Attributes:
        images: float32 ``(N, 1, canvas, canvas)`` Tensor in ``[0, 1]``, 0 = background.
        targets: a list of ``N`` dicts ``{"boxes": float32 (k, 4) xyxy, "labels": int64 (k,)}``. A box
            is tight around the digit's nonzero pixels: a digit covering pixel columns ``3..5`` has
            ``x1 = 3, x2 = 6`` (pixel ``j`` spans ``[j, j + 1)``). Boxes are at least one pixel apart.

    ``dataset[i]`` is ``(image (1, H, W), target dict)``.
    """

    def __init__(
        self,
        split: str = "train",
        n_images: int = 1000,
        canvas: int = 64,
        digits: tuple[int, int] = (1, 3),
        scale: tuple[int, int] = (14, 28),
        seed: int = 0,
        root: str | os.PathLike | None = None,
    ) -> None:
        name = type(self).__name__
        if split not in _SPLITS:
            raise ValueError(f"{name}: unknown split {split!r}; choose one of {list(_SPLITS)}")
        if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
            raise ValueError(f"{name}: n_images must be an int >= 1, got {n_images!r}")
        if not 1 <= digits[0] <= digits[1]:
            raise ValueError(f"{name}: digits must be (lo, hi) with 1 <= lo <= hi, got {digits}")
        if not 4 <= scale[0] <= scale[1] <= canvas:
            raise ValueError(f"{name}: scale must be (lo, hi) with 4 <= lo <= hi <= canvas = {canvas}, got {scale}")
        self.split, self.canvas, self.digits, self.scale, self.seed = split, canvas, tuple(digits), tuple(scale), seed
        mnist = MNIST(root=root, split=split)
        rng = np.random.Generator(np.random.PCG64([seed, _SPLITS.index(split)]))
        self.images, self.targets = self._generate(rng, mnist.data.data, mnist.targets.data, int(n_images))

    def _generate(self, rng: np.random.Generator, pool: np.ndarray, pool_labels: np.ndarray,
                  n: int) -> tuple[Tensor, list[dict[str, Tensor]]]:
        c, (lo, hi) = self.canvas, self.scale
        wanted = rng.integers(self.digits[0], self.digits[1] + 1, size=n)  # (n,) digits asked for per canvas
        placed = np.full((n, self.digits[1], 4), -np.inf)  # (n, slots, 4) boxes so far; -inf: empty slot
        records = []  # per slot: (canvas index, patch, patch row/col offset, box, label) arrays
        for slot in range(self.digits[1]):
            idx = np.flatnonzero(wanted > slot)  # (m,) canvases that want another digit
            src = rng.integers(0, len(pool), size=idx.size)  # (m,) which MNIST image
            size = rng.integers(lo, hi + 1, size=idx.size)  # (m,) its side after resizing
            patch = _resize(pool[src], size)  # (m, hi, hi), the digit in the top-left size x size corner
            box = _tight_boxes(patch)  # (m, 4) in patch coordinates
            offset = rng.integers(0, c - size[:, None, None] + 1, size=(idx.size, _TRIES, 2))  # (m, T, 2) x, y
            cand = box[:, None, :] + np.concatenate([offset, offset], axis=-1)  # (m, T, 4) boxes on the canvas
            prev = placed[idx]  # (m, slots, 4)
            # a candidate is free if, grown by one pixel, it misses every box already on its canvas
            lt = np.maximum(cand[:, :, None, :2] - 1, prev[:, None, :, :2])  # (m, T, slots, 2)
            rb = np.minimum(cand[:, :, None, 2:] + 1, prev[:, None, :, 2:])  # (m, T, slots, 2)
            free = ~((rb - lt) > 0).all(axis=-1).any(axis=-1)  # (m, T)
            ok = free.any(axis=1)  # (m,) always true for the first digit, as its canvas is empty
            first = free.argmax(axis=1)  # (m,) the first free candidate
            chosen = cand[np.arange(idx.size), first]  # (m, 4)
            placed[idx[ok], slot] = chosen[ok]
            shift = offset[np.arange(idx.size), first]  # (m, 2)
            records.append((idx[ok], patch[ok], shift[ok], chosen[ok], pool_labels[src][ok]))
        images = np.zeros((n, 1, c, c), dtype=np.float32)  # (N, 1, H, W)
        boxes: list[list[np.ndarray]] = [[] for _ in range(n)]
        labels: list[list[int]] = [[] for _ in range(n)]
        for idx, patch, shift, chosen, label in records:
            for i, p, (x, y), b, lab in zip(idx, patch, shift, chosen, label):
                x1, y1, x2, y2 = b.astype(np.int64)
                # boxes are disjoint and a patch is zero outside its box, so copying the box's pixels is exact
                images[i, 0, y1:y2, x1:x2] = p[y1 - y:y2 - y, x1 - x:x2 - x]
                boxes[i].append(b)
                labels[i].append(int(lab))
        targets = [{"boxes": from_numpy(np.array(b, dtype=np.float32).reshape(-1, 4)),
                    "labels": from_numpy(np.array(lab, dtype=np.int64))} for b, lab in zip(boxes, labels)]
        return from_numpy(images), targets

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, dict[str, Tensor]]:
        i = int(index)
        return self.images[i], self.targets[i]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(split={self.split!r}, n_images={len(self)}, canvas={self.canvas}, "
                f"digits={self.digits}, scale={self.scale}, seed={self.seed})")


def _resize(images: np.ndarray, size: np.ndarray) -> np.ndarray:
    """uint8 ``(m, 28, 28)`` images resized to ``size[i]`` each: float32 ``(m, S, S)`` in [0, 1], each
    image in the top-left ``size[i] x size[i]`` corner, zeros elsewhere (``S = size.max()``)."""
    m, h, w = images.shape
    out = np.zeros((m, int(size.max(initial=1)), int(size.max(initial=1))), dtype=np.float32)
    x = images.astype(np.float32) / np.float32(255)
    for s in np.unique(size):  # one matrix product per distinct size
        sel = size == s
        rows, cols = area_resize_matrix(h, s).astype(np.float32), area_resize_matrix(w, s).astype(np.float32)
        out[sel, :s, :s] = rows @ x[sel] @ cols.T  # (k, s, s)
    return out


def _tight_boxes(patch: np.ndarray) -> np.ndarray:
    """The xyxy box around the nonzero pixels of each ``(m, H, W)`` image: ``(m, 4)`` float64."""
    rows, cols = patch.any(axis=2), patch.any(axis=1)  # (m, H), (m, W)
    y1, x1 = rows.argmax(axis=1), cols.argmax(axis=1)
    y2 = rows.shape[1] - rows[:, ::-1].argmax(axis=1)  # one past the last nonzero row
    x2 = cols.shape[1] - cols[:, ::-1].argmax(axis=1)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.float64)
