"""Anchors (SSD's "default boxes"), the box encoding a detector regresses, and anchor matching.

A single-shot detector does not predict boxes from nothing: it places a fixed set of *anchors* on
a grid over the image, several shapes per grid cell, and for each anchor predicts a class and a
small correction that turns the anchor into the object's box.

- :func:`default_boxes` lays the anchors out (W. Liu et al., "SSD: Single Shot MultiBox Detector",
  ECCV 2016, section 2.2): feature map ``k`` of size ``f_k x f_k`` has cell centers
  ``((j + 0.5) / f_k, (i + 0.5) / f_k)`` and boxes of scale ``s_k`` (a fraction of the image).
- :func:`encode_boxes` / :func:`decode_boxes` convert between a box and its offsets from an anchor
  (the center-size parameterisation of R-CNN, used by SSD and Faster R-CNN; torchvision's
  ``BoxCoder``)::

      tx = wx (x - xa) / wa      ty = wy (y - ya) / ha
      tw = ww log(w / wa)        th = wh log(h / ha)

  with ``(x, y, w, h)`` a box's center and size, ``(xa, ya, wa, ha)`` the anchor's. The weights
  ``(wx, wy, ww, wh) = (10, 10, 5, 5)`` are SSD's "variances" ``(0.1, 0.2)`` inverted: they scale
  typical offsets to about unit size, which suits a smooth L1 loss with ``beta = 1``.
- :func:`match_anchors` decides which ground-truth box each anchor must predict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.creation import from_numpy
from groundup.ops.boxes import _boxes, _iou
from groundup.tensor import Tensor

__all__ = ["default_boxes", "encode_boxes", "decode_boxes", "match_anchors"]

BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)
# torchvision's bbox_xform_clip: exp() of a larger size offset would overflow for no benefit
_SIZE_CLIP = math.log(1000.0 / 16)


def default_boxes(
    feature_sizes: Sequence[int],
    image_size: int,
    scales: Sequence[float],
    aspect_ratios: Sequence[Sequence[float]],
    clip: bool = True,
) -> Tensor:
    """SSD's default boxes for square feature maps over a square image, as ``(A, 4)`` xyxy pixels.

    Args:
        feature_sizes: ``f_k`` for each feature map, e.g. ``(16, 8)``.
        image_size: the image's side in pixels; boxes are returned in pixels.
        scales: ``len(feature_sizes) + 1`` fractions of the image: map ``k`` uses ``s_k``, and its
            extra square box ``sqrt(s_k s_{k+1})`` borrows the next scale, as in the paper.
        aspect_ratios: for each map, the extra width/height ratios ``r`` besides the two squares;
            each gives a box ``s_k sqrt(r)`` wide and ``s_k / sqrt(r)`` high. (torchvision adds
            ``1/r`` for each ``r`` by itself; here you list exactly the shapes you want, e.g. only
            tall ones for digits.)
        clip: clip the boxes to the image.

    The order matches a convolutional head's output flattened as ``(H, W, K)``: map by map, then
    row ``i``, column ``j``, then the ``K_k = 2 + len(aspect_ratios[k])`` shapes of the cell.
    """
    op = "default_boxes"
    if len(scales) != len(feature_sizes) + 1:
        raise ValueError(f"{op}: need len(feature_sizes) + 1 = {len(feature_sizes) + 1} scales, got {len(scales)}")
    if len(aspect_ratios) != len(feature_sizes):
        raise ValueError(f"{op}: need one list of aspect ratios per feature map ({len(feature_sizes)}), "
                         f"got {len(aspect_ratios)}")
    if any(s <= 0 for s in scales) or any(r <= 0 for rs in aspect_ratios for r in rs):
        raise ValueError(f"{op}: scales and aspect ratios must be positive, got {scales} and {aspect_ratios}")
    out = []
    for k, f in enumerate(feature_sizes):
        s, s_next = scales[k], scales[k + 1]
        shapes = [(s, s), (math.sqrt(s * s_next),) * 2] + [(s * math.sqrt(r), s / math.sqrt(r)) for r in aspect_ratios[k]]
        wh = np.array(shapes, dtype=np.float64)  # (K, 2) widths and heights, fractions of the image
        centers = (np.arange(f, dtype=np.float64) + 0.5) / f  # (f,)
        cy, cx = np.meshgrid(centers, centers, indexing="ij")  # (f, f) each: row i, column j
        c = np.stack([cx, cy], axis=-1)[:, :, None, :]  # (f, f, 1, 2)
        boxes = np.concatenate(np.broadcast_arrays(c - wh / 2, c + wh / 2), axis=-1)  # (f, f, K, 4)
        out.append(boxes.reshape(-1, 4))
    anchors = np.concatenate(out) * image_size  # (A, 4) in pixels
    if clip:
        anchors = np.clip(anchors, 0, image_size)
    return from_numpy(anchors.astype(np.float32))


def _center_size(b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Centers and sizes ``(x, y, w, h)`` of xyxy boxes ``(..., 4)``, each ``(...)``."""
    w, h = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    return b[..., 0] + 0.5 * w, b[..., 1] + 0.5 * h, w, h


def encode_boxes(boxes: Any, anchors: Any, weights: Sequence[float] = BOX_WEIGHTS) -> Tensor:
    """Offsets ``(tx, ty, tw, th)`` that turn each anchor into its box (see the module docstring).

    ``boxes`` and ``anchors`` are xyxy ``(..., 4)`` arrays that broadcast against each other (e.g.
    ``(A, 4)`` matched boxes and ``(A, 4)`` anchors); boxes must have positive width and height.
    """
    b = _array4(boxes, "encode_boxes", "boxes").astype(np.float64)
    a = _array4(anchors, "encode_boxes", "anchors").astype(np.float64)
    wx, wy, ww, wh = weights
    x, y, w, h = _center_size(b)
    xa, ya, wa, ha = _center_size(a)
    t = np.stack([wx * (x - xa) / wa, wy * (y - ya) / ha, ww * np.log(w / wa), wh * np.log(h / ha)], axis=-1)
    return from_numpy(t.astype(np.float32))


def decode_boxes(deltas: Any, anchors: Any, weights: Sequence[float] = BOX_WEIGHTS) -> Tensor:
    """Boxes from offsets: the inverse of :func:`encode_boxes`, returning xyxy ``(..., 4)``.

    ``deltas`` ``(..., A, 4)`` broadcasts against ``anchors`` ``(A, 4)``, so a batch ``(B, A, 4)``
    decodes at once. Size offsets are clipped at ``log(1000/16)`` before ``exp``, as torchvision does.
    """
    d = _array4(deltas, "decode_boxes", "deltas").astype(np.float64)
    a = _array4(anchors, "decode_boxes", "anchors").astype(np.float64)
    wx, wy, ww, wh = weights
    xa, ya, wa, ha = _center_size(a)
    x, y = xa + d[..., 0] / wx * wa, ya + d[..., 1] / wy * ha
    w = wa * np.exp(np.minimum(d[..., 2] / ww, _SIZE_CLIP))
    h = ha * np.exp(np.minimum(d[..., 3] / wh, _SIZE_CLIP))
    out = np.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=-1)
    return from_numpy(out.astype(np.float32))


def match_anchors(anchors: Tensor, gt_boxes: Tensor, iou_threshold: float = 0.5) -> Tensor:
    """The ground-truth box each anchor is responsible for: an int64 ``(A,)`` index, ``-1`` = background.

    SSD's rule (section 2.2, "matching strategy"), in two passes:

    1. every anchor whose best IoU with any ground truth is ``>= iou_threshold`` takes that one;
    2. every ground truth then claims its single best anchor, even below the threshold, so no object
       goes without a positive anchor. If two ground truths share a best anchor, the later one wins
       (the reference implementation's loop order).
    """
    a = _boxes(anchors, "match_anchors", "anchors")
    g = _boxes(gt_boxes, "match_anchors", "gt_boxes")
    matched = np.full(a.shape[0], -1, dtype=np.int64)
    if g.shape[0] == 0 or a.shape[0] == 0:
        return from_numpy(matched)
    iou = _iou(g, a)  # (G, A)
    best_gt = iou.argmax(axis=0)  # (A,) the best ground truth of each anchor
    good = iou[best_gt, np.arange(a.shape[0])] >= iou_threshold  # (A,)
    matched[good] = best_gt[good]
    best_anchor = iou.argmax(axis=1)  # (G,) each ground truth's best anchor
    claimed, first_from_end = np.unique(best_anchor[::-1], return_index=True)  # a shared anchor: last gt wins
    matched[claimed] = g.shape[0] - 1 - first_from_end
    return from_numpy(matched)


def _array4(x: Any, op: str, name: str) -> np.ndarray:
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    if a.ndim < 1 or a.shape[-1] != 4:
        raise ValueError(f"{op}: {name} must have shape (..., 4), got {tuple(a.shape)}")
    return a
