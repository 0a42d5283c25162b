"""Metrics against scikit-learn's numbers and hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup.train import metrics as M

sk = pytest.importorskip("sklearn.metrics")


def _data(n=200, c=5, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(n, c)).astype(np.float32)
    target = rng.integers(0, c, size=n)
    target[: n // 3] = scores[: n // 3].argmax(1)  # make it better than chance
    return scores, target


def test_accuracy_hand_example():
    out = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.1, 0.2]])
    assert M.accuracy(out, np.array([0, 1, 1, 1])) == 0.75
    assert M.accuracy(gu.tensor(out), gu.tensor([0, 1, 1, 1])) == 0.75


def test_accuracy_matches_sklearn_and_accepts_tensors():
    scores, target = _data()
    want = sk.accuracy_score(target, scores.argmax(1))
    assert M.accuracy(scores, target) == pytest.approx(want)
    assert M.accuracy(gu.tensor(scores, requires_grad=True), gu.tensor(target)) == pytest.approx(want)


def test_binary_accuracy_thresholds_logits_at_zero_and_probs_at_threshold():
    logits = np.array([-2.0, 0.5, 3.0, -0.1])
    target = np.array([0.0, 0.0, 1.0, 1.0])  # BCE targets are floats
    assert M.accuracy(logits, target) == 0.5
    assert M.accuracy(logits[:, None], target[:, None]) == 0.5
    probs = 1 / (1 + np.exp(-logits))
    assert M.accuracy(probs, target, threshold=0.5) == 0.5
    assert M.accuracy(np.array([1, 0, 1]), np.array([1, 1, 1])) == pytest.approx(2 / 3)  # int labels


def test_accuracy_errors():
    with pytest.raises(ValueError, match="shape"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="zero samples"):
        M.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="non-integer"):
        M.accuracy(np.zeros(2), np.array([0.5, 1.0]))


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_top_k_accuracy_matches_sklearn(k):
    scores, target = _data(c=5, seed=k)
    want = sk.top_k_accuracy_score(target, scores, k=k, labels=np.arange(5))
    assert M.top_k_accuracy(scores, target, k=k) == pytest.approx(want)
    assert M.top_k_accuracy(scores, target, k=5) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        M.top_k_accuracy(scores, target, k=6)


def test_confusion_matrix_matches_sklearn():
    scores, target = _data(c=4, seed=3)
    pred = scores.argmax(1)
    want = sk.confusion_matrix(target, pred, labels=np.arange(6))
    np.testing.assert_array_equal(M.confusion_matrix(pred, target, 6), want)
    np.testing.assert_array_equal(M.confusion_matrix(gu.tensor(scores), target, 6), want)  # scores -> argmax
    with pytest.raises(ValueError, match="labels must lie"):
        M.confusion_matrix(pred, target, 3)


def test_confusion_matrix_hand_example():
    cm = M.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 0, 1, 2]), 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize("average", [None, "macro", "micro", "weighted"])
def test_precision_recall_f1_match_sklearn(average):
    scores, target = _data(n=150, c=4, seed=7)
    pred = scores.argmax(1)
    pred[pred == 3] = 0  # class 3 never predicted: its precision is 0/0 -> 0
    labels = np.arange(5)  # class 4 absent everywhere
    want = sk.precision_recall_fscore_support(target, pred, labels=labels, average=average, zero_division=0)[:3]
    got = M.precision_recall_f1(pred, target, 5, average=average)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    if average is not None:
        assert all(isinstance(g, float) for g in got)


def test_micro_f1_equals_accuracy_and_bad_average():
    scores, target = _data()
    p, r, f = M.precision_recall_f1(scores, target, 5, average="micro")
    assert p == r == f == pytest.approx(M.accuracy(scores, target))
    with pytest.raises(ValueError, match="average"):
        M.precision_recall_f1(scores, target, 5, average="samples")


def test_streaming_accumulators_equal_whole_data():
    scores, target = _data(n=103)
    acc, mean = M.Accuracy(), M.Mean()
    for i in range(0, 103, 10):  # uneven last batch
        s, t = scores[i : i + 10], target[i : i + 10]
        acc.update(gu.tensor(s), gu.tensor(t))
        mean.update(M.accuracy(s, t), len(t))
    want = M.accuracy(scores, target)
    assert acc.compute() == pytest.approx(want)
    assert mean.compute() == pytest.approx(want)
    acc.reset()
    assert np.isnan(acc.compute())


# ----------------------------------------------------------------------------- segmentation IoU
def test_iou_per_class_counts_pixels_over_the_batch():
    from groundup.train.metrics import MeanIoU, iou_per_class, mean_iou

    target = np.array([[[0, 0, 1], [1, 2, 2]]])  # (1, 2, 3)
    pred = np.array([[[0, 1, 1], [1, 2, 0]]])
    # class 0: pred {0}, true {0,1} -> 1/3 of... inter 1, union |{0,1,5}| = 3; class 1: inter 2, union 3;
    # class 2: inter 1, union 2
    iou = iou_per_class(pred, target, 3)
    assert np.allclose(iou, [1 / 3, 2 / 3, 1 / 2])
    assert mean_iou(pred, target, 3) == pytest.approx(np.mean([1 / 3, 2 / 3, 1 / 2]))
    # scores (N, C, H, W) are reduced by argmax over C
    scores = np.eye(3)[pred].transpose(0, 3, 1, 2)
    assert np.allclose(iou_per_class(scores, target, 3), iou)
    # a class absent from both is NaN and left out of the mean
    iou4 = iou_per_class(pred, target, 4)
    assert np.isnan(iou4[3]) and mean_iou(pred, target, 4) == pytest.approx(mean_iou(pred, target, 3))
    # ignore_index drops those pixels from both sides
    t_ign = target.copy()
    t_ign[0, 1, 2] = 255
    assert np.allclose(iou_per_class(pred, t_ign, 3, ignore_index=255), [1 / 2, 2 / 3, 1.0])
    # the accumulator equals the metric over the concatenated batches
    m = MeanIoU(3)
    m.update(pred[:, :1], target[:, :1])
    m.update(pred[:, 1:], target[:, 1:])
    assert m.compute() == pytest.approx(mean_iou(pred, target, 3))


def test_iou_bad_input():
    from groundup.train.metrics import mean_iou

    with pytest.raises(ValueError, match="pred must be labels of the target's shape"):
        mean_iou(np.zeros((2, 3)), np.zeros((2, 4)), 3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        mean_iou(np.array([3]), np.array([0]), 3)
