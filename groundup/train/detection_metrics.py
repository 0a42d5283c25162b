"""Detection metrics: average precision (AP) per class and its mean over classes (mAP).

A detector outputs scored boxes. Sort one class's detections over the whole test set by score and
walk down the list: a detection is a *true positive* if it overlaps a ground-truth box of its class
in its image by IoU ``>= iou_threshold`` and that box has not been claimed by a higher-scoring
detection; otherwise it is a *false positive* (a duplicate of a found object counts as one). After
``n`` detections, ``precision = TP / n`` and ``recall = TP / (number of ground-truth boxes)``.

AP summarises that precision/recall curve in one number: the **all-point interpolated AP of
PASCAL VOC 2010-2012** (the devkit's ``VOCap``): make precision non-increasing by taking, at every
recall, the best precision at that recall or beyond, then sum ``precision x (recall step)`` over
the points where recall grows. (Not VOC 2007's 11-point average, nor COCO's 101-point one.)
Matching is the VOC devkit's: each detection, best score first, looks only at the ground truth it
overlaps most; the one difference is that IoU exactly at the threshold counts (``>=``, as in COCO).

mAP@0.5 is the mean of the per-class APs at ``iou_threshold = 0.5`` over the classes that have at
least one ground-truth box.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from groundup.ops.boxes import _iou
from groundup.tensor import Tensor

__all__ = ["average_precision", "match_detections", "mean_average_precision"]


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def average_precision(scores: Any, true_positive: Any, num_targets: int) -> float:
    """All-point interpolated AP (PASCAL VOC 2010+) of one class's ranked detections.

    Args:
        scores: ``(D,)`` detection scores, from all images.
        true_positive: ``(D,)`` bools, whether each detection matched a ground truth
            (see :func:`match_detections`).
        num_targets: the number of ground-truth boxes of the class; missed ones lower the recall.

    Returns the area under the interpolated precision/recall curve, in ``[0, 1]``; 0 when
    ``num_targets`` is 0 (there is nothing to find, so no recall to earn).
    """
    s, tp = _np(scores).reshape(-1), _np(true_positive).reshape(-1).astype(bool)
    if s.shape != tp.shape:
        raise ValueError(f"average_precision: scores {s.shape} and true_positive {tp.shape} must have one entry "
                         "per detection")
    if num_targets < 0 or tp.sum() > num_targets:
        raise ValueError(f"average_precision: num_targets = {num_targets} but {int(tp.sum())} true positives")
    if num_targets == 0 or s.size == 0:
        return 0.0
    tp = tp[np.argsort(-s, kind="stable")]  # best score first
    hits = np.cumsum(tp)  # (D,) true positives among the first n detections
    precision = hits / np.arange(1, tp.size + 1)  # (D,)
    recall = hits / num_targets  # (D,)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # (D,) best precision at this recall or beyond
    recall_step = np.diff(recall, prepend=0.0)  # (D,) > 0 exactly at the true positives
    return float(np.sum(envelope * recall_step))


def match_detections(boxes: Any, scores: Any, gt_boxes: Any, iou_threshold: float = 0.5) -> np.ndarray:
    """Which detections of one class in one image are true positives: a bool ``(D,)`` array.

    Greedy, best score first: a detection is a true positive when the ground truth it overlaps most
    has IoU ``>= iou_threshold`` and is still unclaimed; it then claims it. Everything else
    (a poor overlap, or a duplicate of a claimed box) is a false positive.
    """
    b, s, g = _np(boxes).reshape(-1, 4), _np(scores).reshape(-1), _np(gt_boxes).reshape(-1, 4)
    tp = np.zeros(b.shape[0], dtype=bool)
    if b.shape[0] == 0 or g.shape[0] == 0:
        return tp
    iou = _iou(b, g)  # (D, G)
    best, best_iou = iou.argmax(axis=1), iou.max(axis=1)  # (D,) each
    claimed = np.zeros(g.shape[0], dtype=bool)
    for d in np.argsort(-s, kind="stable"):  # one pass over the detections, in score order
        if best_iou[d] >= iou_threshold and not claimed[best[d]]:
            tp[d] = claimed[best[d]] = True
    return tp


def _unpack(item: Any, keys: tuple[str, ...], what: str, i: int) -> tuple[np.ndarray, ...]:
    """An image's entry as arrays: a dict with ``keys`` (torchvision's style) or a tuple in that order."""
    if isinstance(item, dict):
        missing = [k for k in keys if k not in item]
        if missing:
            raise ValueError(f"mean_average_precision: {what}[{i}] lacks {missing}; expected keys {keys}")
        item = tuple(item[k] for k in keys)
    if not isinstance(item, (tuple, list)) or len(item) != len(keys):
        raise ValueError(f"mean_average_precision: {what}[{i}] must be a dict or a tuple of {keys}")
    out = tuple(_np(v) for v in item)
    if out[0].size and (out[0].ndim != 2 or out[0].shape[1] != 4):
        raise ValueError(f"mean_average_precision: {what}[{i}] boxes must have shape (N, 4), got {out[0].shape}")
    if any(v.reshape(-1).shape[0] != out[0].reshape(-1, 4).shape[0] for v in out[1:]):
        raise ValueError(f"mean_average_precision: {what}[{i}]: {keys} must have one entry per box, "
                         f"got shapes {[v.shape for v in out]}")
    return out


def mean_average_precision(
    predictions: Sequence[Any],
    targets: Sequence[Any],
    iou_threshold: float = 0.5,
    num_classes: int | None = None,
) -> dict[str, Any]:
    """mAP over a dataset: AP of each class (:func:`average_precision`), averaged.

    Args:
        predictions: one entry per image, ``(boxes (D, 4), scores (D,), labels (D,))`` or a dict
            with those keys (what a detector's ``detect`` returns).
        targets: one entry per image, ``(boxes (G, 4), labels (G,))`` or a dict with those keys.
        iou_threshold: the IoU a detection needs with its ground truth (0.5 gives "mAP@0.5").
        num_classes: labels are ``0 .. num_classes - 1``; by default one more than the largest label seen.

    Returns ``{"map": float, "ap": [AP of each class, nan where it has no ground truth],
    "num_targets": [ground-truth boxes per class]}``; ``map`` averages the classes that have ground
    truth (it is nan when no class has any).
    """
    if len(predictions) != len(targets):
        raise ValueError(f"mean_average_precision: {len(predictions)} predictions but {len(targets)} targets; "
                         "give one entry per image for both")
    preds = [_unpack(p, ("boxes", "scores", "labels"), "predictions", i) for i, p in enumerate(predictions)]
    gts = [_unpack(t, ("boxes", "labels"), "targets", i) for i, t in enumerate(targets)]
    if num_classes is None:
        labels = [lab.reshape(-1) for _, lab in gts] + [lab.reshape(-1) for *_, lab in preds]
        num_classes = int(max((lab.max() + 1 for lab in labels if lab.size), default=0))
    scores: list[list[np.ndarray]] = [[] for _ in range(num_classes)]
    hits: list[list[np.ndarray]] = [[] for _ in range(num_classes)]
    counts = np.zeros(num_classes, dtype=np.int64)
    for (pb, ps, pl), (gb, gl) in zip(preds, gts):
        pb, ps, pl, gb, gl = pb.reshape(-1, 4), ps.reshape(-1), pl.reshape(-1), gb.reshape(-1, 4), gl.reshape(-1)
        for c in np.union1d(pl, gl).astype(np.int64):
            if not 0 <= c < num_classes:
                raise ValueError(f"mean_average_precision: label {c} is outside 0..{num_classes - 1}")
            d, g = pl == c, gl == c
            counts[c] += int(g.sum())
            scores[c].append(ps[d])
            hits[c].append(match_detections(pb[d], ps[d], gb[g], iou_threshold))
    ap = [average_precision(np.concatenate(scores[c]) if scores[c] else [], np.concatenate(hits[c]) if hits[c] else [],
                            int(counts[c])) if counts[c] else float("nan") for c in range(num_classes)]
    present = [a for a, n in zip(ap, counts) if n]
    return {"map": float(np.mean(present)) if present else float("nan"), "ap": ap,
            "num_targets": counts.tolist()}
