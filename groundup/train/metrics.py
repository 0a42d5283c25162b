"""Classification metrics: accuracy, top-k accuracy, confusion matrix, precision/recall/F1; for
segmentation, per-class and mean intersection over union (IoU); for language models, perplexity and
bits per token (or character); for detection, average precision
(:mod:`~groundup.train.detection_metrics`, re-exported here).

Every function takes groundup Tensors or NumPy arrays (Tensors are read without tracking
gradients) and returns Python floats or NumPy arrays, with scikit-learn's conventions: rows of the
confusion matrix are true classes, columns predicted ones, and a ratio whose denominator is zero
(a class never predicted, or never present) counts as 0.

``Mean``, ``Accuracy``, ``MeanIoU`` and ``LMLoss`` accumulate over batches, so an epoch's value is
exact however the data is split: the Trainer uses ``Mean`` to average losses and metrics weighted by
batch size; ``LMLoss`` weights by the number of (non-ignored) tokens.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from groundup.creation import from_numpy
from groundup.nn import functional as F
from groundup.tensor import Tensor

__all__ = [
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "iou_per_class",
    "mean_iou",
    "Mean",
    "Accuracy",
    "MeanIoU",
    "perplexity",
    "bits_per_token",
    "bits_per_char",
    "LMLoss",
]


def _np(x: Any) -> np.ndarray:
    """A NumPy view of a Tensor or array-like (no gradient tracking, no copy when avoidable)."""
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _labels(output: Any, threshold: float = 0.0) -> np.ndarray:
    """Predicted class labels from scores.

    * ``(N, C)`` with ``C > 1``: the argmax over classes (logits or probabilities alike).
    * floating ``(N,)`` or ``(N, 1)``: a binary score, class 1 where ``score > threshold`` (the default
      0 suits logits; pass 0.5 for probabilities).
    * integer or bool ``(N,)``: already labels, returned as they are.
    """
    out = _np(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim != 1:
        raise ValueError(f"expected scores of shape (N, C), (N,) or (N, 1), got {out.shape}")
    if out.dtype.kind == "f":
        return (out > threshold).astype(np.int64)
    return out.astype(np.int64)


def _targets(target: Any, n: int) -> np.ndarray:
    t = _np(target)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"target must have shape ({n},) to match the {n} predictions, got {t.shape}")
    if n == 0:
        raise ValueError("cannot compute a metric over zero samples")
    if t.dtype.kind == "f":  # binary targets stored as 0.0/1.0 for BCE losses
        if not np.all(t == np.round(t)):
            raise ValueError("target holds non-integer values; expected class labels")
    return t.astype(np.int64)


def accuracy(output: Any, target: Any, threshold: float = 0.0) -> float:
    """Fraction of samples whose predicted class equals the target.

    ``output`` is ``(N, C)`` scores (argmax), a binary ``(N,)``/``(N, 1)`` score (class 1 where
    ``score > threshold``; 0 for logits, 0.5 for probabilities), or integer labels.
    """
    pred = _labels(output, threshold)
    return float(np.mean(pred == _targets(target, len(pred))))


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of samples whose target class is among the ``k`` highest scores of ``(N, C)`` output.

    A sample counts as a hit when fewer than ``k`` classes score strictly higher than its target
    (so a tie at the k-th place counts in the sample's favour).
    """
    out = _np(output)
    if out.ndim != 2:
        raise ValueError(f"top_k_accuracy: output must have shape (N, C), got {out.shape}")
    if not 1 <= k <= out.shape[1]:
        raise ValueError(f"top_k_accuracy: k must be in [1, {out.shape[1]}] for {out.shape[1]} classes, got {k}")
    t = _targets(target, out.shape[0])
    target_score = out[np.arange(len(t)), t][:, None]
    higher = (out > target_score).sum(axis=1)
    return float(np.mean(higher < k))


def confusion_matrix(pred: Any, target: Any, num_classes: int | None = None) -> np.ndarray:
    """``(num_classes, num_classes)`` int64 counts: entry ``[i, j]`` is how many samples of true class
    ``i`` were predicted as ``j`` (scikit-learn's layout). ``pred`` may be labels or ``(N, C)`` scores.
    """
    p = _labels(pred)
    t = _targets(target, len(p))
    if num_classes is None:
        num_classes = int(max(p.max(), t.max())) + 1
    if min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= num_classes:
        raise ValueError(f"confusion_matrix: labels must lie in [0, {num_classes}), got values outside it")
    return _confusion(p, t, num_classes)


def _confusion(p: np.ndarray, t: np.ndarray, k: int) -> np.ndarray:
    """``(k, k)`` int64 counts of flat int64 labels: entry ``[i, j]`` counts true ``i`` predicted as ``j``."""
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def _label_maps(pred: Any, target: Any, num_classes: int, ignore_index: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Flat predicted and true labels of a segmentation, with ``ignore_index`` pixels dropped.

    ``pred`` is labels shaped like ``target`` or scores ``(N, C, *spatial)`` (argmax over C)."""
    p, t = _np(pred), _np(target)
    if p.ndim == t.ndim + 1 and p.shape[1] == num_classes and p.shape[:1] + p.shape[2:] == t.shape:
        p = p.argmax(axis=1)
    if p.shape != t.shape:
        raise ValueError(f"iou: pred must be labels of the target's shape {t.shape} or scores of shape "
                         f"{t.shape[:1] + (num_classes,) + t.shape[1:]}, got {p.shape}")
    p, t = p.reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    if p.size and (min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= num_classes):
        raise ValueError(f"iou: labels must lie in [0, {num_classes}), got values outside it")
    return p, t


def _iou_from_confusion(cm: np.ndarray) -> np.ndarray:
    """``|pred ∩ true| / |pred ∪ true|`` per class; NaN for a class absent from both."""
    inter = np.diag(cm).astype(np.float64)
    union = cm.sum(axis=0) + cm.sum(axis=1) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def _mean_present(iou: np.ndarray) -> float:
    """The mean IoU over the classes that have one (not NaN); NaN when no class does."""
    return float(np.nanmean(iou)) if np.any(~np.isnan(iou)) else float("nan")


def iou_per_class(pred: Any, target: Any, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """Intersection over union of each class's pixels, ``(num_classes,)`` float64.

    ``IoU_c = TP_c / (TP_c + FP_c + FN_c)``, counted over all pixels of the batch; a class that
    appears in neither prediction nor target gets NaN (it has no union to measure)."""
    p, t = _label_maps(pred, target, num_classes, ignore_index)
    return _iou_from_confusion(_confusion(p, t, num_classes))


def mean_iou(pred: Any, target: Any, num_classes: int, ignore_index: int | None = None) -> float:
    """The mean over classes of :func:`iou_per_class`, skipping classes absent from both (NaN)."""
    return _mean_present(iou_per_class(pred, target, num_classes, ignore_index))


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (scikit-learn's ``zero_division=0``)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def precision_recall_f1(
    pred: Any, target: Any, num_classes: int | None = None, average: str | None = "macro"
) -> tuple[Any, Any, Any]:
    """``(precision, recall, f1)`` from the confusion matrix.

    Per class c: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN).
    ``average``: ``None`` returns per-class arrays; ``'macro'`` the plain mean over classes;
    ``'weighted'`` the mean weighted by each class's support (true count); ``'micro'`` pools the
    counts of all classes first (for single-label data all three then equal accuracy).
    """
    if average not in (None, "macro", "micro", "weighted"):
        raise ValueError(f"average must be None, 'macro', 'micro' or 'weighted', got {average!r}")
    cm = confusion_matrix(pred, target, num_classes)
    tp = np.diag(cm)
    pred_sum, true_sum = cm.sum(axis=0), cm.sum(axis=1)
    if average == "micro":
        tp, pred_sum, true_sum = tp.sum(), pred_sum.sum(), true_sum.sum()
    precision = _divide(tp, pred_sum)
    recall = _divide(tp, true_sum)
    f1 = _divide(2 * tp, pred_sum + true_sum)
    if average is None:
        return precision, recall, f1
    if average == "micro":
        return float(precision), float(recall), float(f1)
    weights = true_sum if average == "weighted" else np.ones_like(true_sum)
    if weights.sum() == 0:
        return 0.0, 0.0, 0.0
    return tuple(float(np.average(m, weights=weights)) for m in (precision, recall, f1))


class Mean:
    """A running weighted mean: ``update(value, weight)`` per batch, ``compute()`` at the end."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total, self.weight = 0.0, 0.0

    def update(self, value: Any, weight: float = 1.0) -> None:
        value = float(_np(value)) if isinstance(value, (Tensor, np.ndarray)) else float(value)
        self.total += value * weight
        self.weight += weight

    def compute(self) -> float:
        """The weighted mean so far (NaN before any update)."""
        return self.total / self.weight if self.weight else float("nan")


class Accuracy:
    """Accuracy accumulated over batches: exact counts, so uneven last batches do not bias it."""

    def __init__(self, threshold: float = 0.0) -> None:
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.correct, self.count = 0, 0

    def update(self, output: Any, target: Any) -> None:
        pred = _labels(output, self.threshold)
        self.correct += int(np.sum(pred == _targets(target, len(pred))))
        self.count += len(pred)

    def compute(self) -> float:
        """Correct / seen so far (NaN before any update)."""
        return self.correct / self.count if self.count else float("nan")


class MeanIoU:
    """Mean IoU accumulated over batches: the pixel confusion matrix is summed, so the value is the
    one over the whole data set (not a mean of per-batch means)."""

    def __init__(self, num_classes: int, ignore_index: int | None = None) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.reset()

    def reset(self) -> None:
        self.confusion = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, pred: Any, target: Any) -> None:
        p, t = _label_maps(pred, target, self.num_classes, self.ignore_index)
        self.confusion += _confusion(p, t, self.num_classes)

    def per_class(self) -> np.ndarray:
        return _iou_from_confusion(self.confusion)

    def compute(self) -> float:
        """Mean IoU over the classes seen so far (NaN before any update)."""
        return _mean_present(self.per_class())


# ----------------------------------------------------------------------------- language models
def _mean_nll(fn: str, nll: Any) -> float:
    """A mean negative log-likelihood given as a Python number, a NumPy scalar or a 0-d Tensor."""
    if isinstance(nll, bool):
        raise TypeError(f"{fn}: expected the mean negative log-likelihood as a number, got a bool")
    if isinstance(nll, (Tensor, np.ndarray, np.generic)):
        arr = _np(nll)
        if arr.ndim != 0:
            raise ValueError(f"{fn}: expected the mean negative log-likelihood as a number or a 0-d tensor, "
                             f"got shape {tuple(arr.shape)}; average the per-token losses first")
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"{fn}: expected a real number, got dtype {arr.dtype}")
        return float(arr)
    if isinstance(nll, numbers.Real):
        return float(nll)
    raise TypeError(f"{fn}: expected the mean negative log-likelihood as a number, got {type(nll).__name__}")


def perplexity(nll: Any) -> float:
    """``exp(nll)``: the perplexity of a language model whose mean negative log-likelihood per token
    is ``nll`` nats (the cross-entropy loss, natural log, as ``F.cross_entropy`` computes it).

    A perplexity of ``k`` means the model is as uncertain as a uniform choice among ``k`` tokens; a
    uniform model over ``V`` tokens has ``nll = ln V`` and perplexity ``V``. It grows exponentially
    with the loss, so a large loss overflows to ``inf`` (silently); NaN stays NaN.
    """
    with np.errstate(over="ignore"):
        return float(np.exp(np.float64(_mean_nll("perplexity", nll))))


def bits_per_token(nll: Any) -> float:
    """``nll / ln 2``: the mean negative log-likelihood per token in bits instead of nats.

    It is the average code length, in bits, that an arithmetic coder driven by the model needs per
    token. For a character-level model it is *bits per character* (BPC), the number papers report for
    character models (``log2`` of the perplexity).
    """
    return _mean_nll("bits_per_token", nll) / math.log(2)


# BPC is the name character-level results go by (Graves 2013; the enwik8 and text8 tables), so a
# reader looks for it under that name; it is the same formula, for models whose tokens are characters.
bits_per_char = bits_per_token


class LMLoss:
    """Cross-entropy of a language model accumulated over batches: ``compute()`` gives the mean
    negative log-likelihood per token (``loss``, nats), its ``perplexity`` and its bits per token
    (``bpt``; bits per character for a character model).

    ``update(logits, targets)`` takes logits ``(..., V)`` (the vocabulary last, as a language model
    returns them: ``(B, T, V)``) and integer targets ``logits.shape[:-1]``; targets equal to
    ``ignore_index`` (padding) are skipped, like ``F.cross_entropy(..., ignore_index=-100)``. The mean
    is over tokens, not batches, so it equals the loss of all tokens at once however they were
    split. A target whose logit is ``-inf`` (a token the model rules out) makes the loss ``inf``;
    NaN or ``+inf`` logits make it NaN.
    """

    def __init__(self, ignore_index: int = -100) -> None:
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0  # summed negative log-likelihood (nats), tokens counted

    def update(self, logits: Any, targets: Any) -> None:
        z, t = _np(logits), _np(targets)
        if z.ndim < 1 or z.shape[-1] == 0 or t.shape != z.shape[:-1]:
            raise ValueError(f"LMLoss.update: expected logits (..., V) and targets of shape logits.shape[:-1]; "
                             f"got logits {tuple(z.shape)} and targets {tuple(t.shape)}")
        if z.dtype.kind != "f":
            raise TypeError(f"LMLoss.update: logits must be floating point, got dtype {z.dtype}")
        if t.dtype.kind not in "iu":
            raise TypeError(f"LMLoss.update: targets must be integer token ids, got dtype {t.dtype}")
        vocab = z.shape[-1]
        keep = t != self.ignore_index
        bad = keep & ((t < 0) | (t >= vocab))
        if bad.any():
            raise ValueError(f"LMLoss.update: targets must lie in [0, {vocab}) or equal ignore_index "
                             f"{self.ignore_index}, got {sorted(set(t[bad].tolist()))[:5]}")
        z, t = z[keep].astype(np.float64), t[keep].astype(np.int64)  # (N, V), (N,)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            nll = F.cross_entropy(from_numpy(z), from_numpy(t), reduction="sum")  # Σ -log softmax(z)[target]
        self.total += nll.item()
        self.count += len(t)

    def compute(self) -> dict[str, float]:
        """``{"loss", "perplexity", "bpt"}`` over the tokens seen so far (NaN before any token)."""
        loss = self.total / self.count if self.count else float("nan")
        return {"loss": loss, "perplexity": perplexity(loss), "bpt": bits_per_token(loss)}


from groundup.train.detection_metrics import *  # noqa: E402, F403
from groundup.train.detection_metrics import __all__ as _detection_all  # noqa: E402

__all__ += _detection_all
