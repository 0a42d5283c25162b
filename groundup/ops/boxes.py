"""Bounding-box operations, like ``torchvision.ops``: area, IoU, format conversion, clipping, NMS.

A box is four numbers. Unless a function says otherwise they are corners ``(x1, y1, x2, y2)``
("xyxy") with ``x1 <= x2`` and ``y1 <= y2``, in pixels, where pixel ``(i, j)`` covers the unit
square ``[j, j + 1) x [i, i + 1)``: a box around pixel columns 3..5 is ``x1 = 3, x2 = 6``. Boxes
come as ``(N, 4)`` groundup Tensors (NumPy arrays are accepted too); results are Tensors.

None of these ops records gradients: detectors use them on predictions that are already
decided (NMS, matching, metrics), never inside a loss.

IoU (intersection over union, the Jaccard index) of boxes ``a`` and ``b``::

    inter = max(0, min(a.x2, b.x2) - max(a.x1, b.x1)) * max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
    iou   = inter / (area(a) + area(b) - inter)

It is 1 for identical boxes and 0 for disjoint or merely touching ones. Two boxes of zero area have
IoU 0 here (torchvision returns the ``0/0 = nan``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup.creation import from_numpy
from groundup.tensor import Tensor

__all__ = ["box_area", "box_iou", "box_convert", "clip_boxes_to_image", "nms", "batched_nms"]

_FORMATS = ("xyxy", "xywh", "cxcywh")


def _array(x: Any, op: str, name: str) -> np.ndarray:
    """The NumPy array behind a Tensor or array-like (no copy when avoidable)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (np.ndarray, list, tuple)):
        return np.asarray(x)
    raise TypeError(f"{op}: {name} must be a Tensor or NumPy array, got {type(x).__name__}")


def _boxes(x: Any, op: str, name: str = "boxes") -> np.ndarray:
    """Validate an ``(N, 4)`` box array of real numbers."""
    a = _array(x, op, name)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{op}: {name} must have shape (N, 4), got {tuple(a.shape)}")
    if a.dtype.kind not in "fiu":
        raise TypeError(f"{op}: {name} must hold real numbers, got dtype {a.dtype}")
    return a


def _float_dtype(a: np.ndarray) -> np.dtype:
    """The result dtype for computations on ``a``: its own if floating, float32 for integer boxes."""
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)


def _area(b: np.ndarray) -> np.ndarray:
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4): an (N, M) float64 array."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2) top-left corner of the intersection
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])  # (N, M, 2) bottom-right corner
    wh = np.clip(rb - lt, 0.0, None)  # (N, M, 2), zero when the boxes do not overlap
    inter = wh[..., 0] * wh[..., 1]  # (N, M)
    union = _area(a)[:, None] + _area(b)[None, :] - inter  # (N, M)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_area(boxes: Tensor) -> Tensor:
    """The area ``(x2 - x1) * (y2 - y1)`` of each of the ``(N, 4)`` xyxy ``boxes``: an ``(N,)`` Tensor."""
    return from_numpy(np.ascontiguousarray(_area(_boxes(boxes, "box_area"))))


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` xyxy boxes: an ``(N, M)`` Tensor (see the module docstring).

    Vectorised by broadcasting: the ``(N, M)`` intersections come from one ``max``/``min`` over an
    ``(N, M, 2)`` array of corners, no loop over pairs.
    """
    a, b = _boxes(boxes1, "box_iou", "boxes1"), _boxes(boxes2, "box_iou", "boxes2")
    dtype = np.promote_types(_float_dtype(a), _float_dtype(b))
    return from_numpy(_iou(a, b).astype(dtype))


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert ``(N, 4)`` boxes between ``"xyxy"`` (corners), ``"xywh"`` (top-left corner, width,
    height) and ``"cxcywh"`` (center, width, height)."""
    op = "box_convert"
    for name, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in _FORMATS:
            raise ValueError(f"{op}: {name} must be one of {_FORMATS}, got {fmt!r}")
    b = _boxes(boxes, op)
    b = b.astype(_float_dtype(b)) if in_fmt == "cxcywh" or out_fmt == "cxcywh" else b.copy()
    if in_fmt == out_fmt:
        return from_numpy(b)
    p, q = b[:, :2], b[:, 2:]
    if in_fmt == "xywh":
        xyxy = np.concatenate([p, p + q], axis=1)
    elif in_fmt == "cxcywh":
        xyxy = np.concatenate([p - q / 2, p + q / 2], axis=1)
    else:
        xyxy = b
    lo, hi = xyxy[:, :2], xyxy[:, 2:]
    if out_fmt == "xywh":
        out = np.concatenate([lo, hi - lo], axis=1)
    elif out_fmt == "cxcywh":
        out = np.concatenate([(lo + hi) / 2, hi - lo], axis=1)
    else:
        out = xyxy
    return from_numpy(np.ascontiguousarray(out.astype(b.dtype, copy=False)))


def clip_boxes_to_image(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clip ``(N, 4)`` xyxy boxes to an image of ``size = (height, width)``: x into ``[0, width]``,
    y into ``[0, height]``."""
    b = _boxes(boxes, "clip_boxes_to_image")
    if len(size) != 2:
        raise ValueError(f"clip_boxes_to_image: size must be (height, width), got {size!r}")
    height, width = size
    out = b.copy()
    out[:, 0::2] = np.clip(out[:, 0::2], 0, width)
    out[:, 1::2] = np.clip(out[:, 1::2], 0, height)
    return from_numpy(out)


def _check_scores(b: np.ndarray, scores: Any, op: str) -> np.ndarray:
    s = _array(scores, op, "scores")
    if s.ndim != 1 or s.shape[0] != b.shape[0]:
        raise ValueError(f"{op}: scores must have shape (N,) with N = {b.shape[0]} boxes, got {tuple(s.shape)}")
    return s


def _nms(b: np.ndarray, s: np.ndarray, iou_threshold: float, max_keep: int | None) -> np.ndarray:
    """Greedy NMS on NumPy arrays; the indices kept, by decreasing score."""
    x1, y1, x2, y2 = b.astype(np.float64).T  # (N,) each
    area = (x2 - x1) * (y2 - y1)  # (N,)
    order = np.argsort(-s.astype(np.float64), kind="stable")  # ties: the lower index first
    keep = []
    while order.size and (max_keep is None or len(keep) < max_keep):
        best, rest = order[0], order[1:]
        keep.append(best)
        w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0.0, None)  # (R,)
        h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0.0, None)  # (R,)
        inter = w * h
        union = area[best] + area[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)  # the winner vs the rest
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def _check_max_keep(max_keep: int | None, op: str) -> None:
    if max_keep is not None and (isinstance(max_keep, bool) or not isinstance(max_keep, (int, np.integer))
                                 or max_keep < 0):
        raise ValueError(f"{op}: max_keep must be None or an int >= 0, got {max_keep!r}")


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float, *, max_keep: int | None = None) -> Tensor:
    """Non-maximum suppression: keep the best-scoring box, drop every box overlapping it by
    IoU > ``iou_threshold``, repeat with the best remaining box.

    Args:
        boxes: ``(N, 4)`` xyxy boxes.
        scores: ``(N,)`` their scores.
        iou_threshold: boxes with IoU strictly greater than this with a kept box are discarded.
        max_keep: stop once this many boxes are kept (not in torchvision): the result is the first
            ``max_keep`` entries of the full one, found without visiting the rest, which matters
            when thousands of low-scoring boxes survive (an untrained detector's).

    Returns:
        int64 ``(K,)`` indices of the kept boxes, in decreasing order of score (equal scores keep
        their input order, as torchvision's stable sort does).

    The loop runs once per *kept* box; each step compares the winner with all remaining boxes at once.
    """
    b = _boxes(boxes, "nms")
    s = _check_scores(b, scores, "nms")
    _check_max_keep(max_keep, "nms")
    return from_numpy(_nms(b, s, float(iou_threshold), max_keep))


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float, *,
                max_keep: int | None = None) -> Tensor:
    """NMS done independently per category: a box only suppresses boxes with the same ``idxs`` value.

    The trick (torchvision's): shift each category's boxes by ``idx * (span + 1)`` along both axes,
    where ``span`` is the coordinate range of all boxes, so boxes of different categories can never
    overlap; then one :func:`nms` does the work. Returns int64 indices sorted by decreasing score
    (the first ``max_keep`` of them, if given: see :func:`nms`).
    (torchvision shifts by ``max + 1``, which lets categories touch when coordinates are negative.)
    """
    b = _boxes(boxes, "batched_nms")
    s = _check_scores(b, scores, "batched_nms")
    _check_max_keep(max_keep, "batched_nms")
    i = _array(idxs, "batched_nms", "idxs")
    if i.shape != s.shape or i.dtype.kind not in "iub":
        raise ValueError(f"batched_nms: idxs must be integers of shape {tuple(s.shape)}, got {tuple(i.shape)} {i.dtype}")
    if b.shape[0] == 0:
        return from_numpy(np.zeros(0, dtype=np.int64))
    b64 = b.astype(np.float64)
    span = b64.max() - b64.min() + 1.0
    shifted = b64 + (i.astype(np.float64) * span)[:, None]  # (N, 4): categories moved apart
    return from_numpy(_nms(shifted, s, float(iou_threshold), max_keep))
