"""groundup.ops box operations against slow, obvious loops and hand-worked cases (torchvision is not
installed, so the reference is an independent implementation written here, one pair at a time)."""

import numpy as np
import pytest

import groundup as gu
from groundup.ops import batched_nms, box_area, box_convert, box_iou, clip_boxes_to_image, nms


def random_boxes(rng, n, scale=20.0):
    xy = rng.uniform(-5, scale, (n, 2))
    wh = rng.uniform(0.5, scale / 2, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


def iou_pair(a, b):
    """IoU of two xyxy boxes, written out the long way."""
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    inter = ix * iy if ix > 0 and iy > 0 else 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def nms_reference(boxes, scores, threshold):
    """Greedy NMS as in the textbook: visit boxes best first, keep one unless a kept box overlaps it too much."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    kept = []
    for i in order:
        if all(iou_pair(np.float64(boxes[i]), np.float64(boxes[k])) <= threshold for k in kept):
            kept.append(i)
    return kept


def test_box_area_matches_a_loop_and_keeps_integer_boxes():
    rng = np.random.default_rng(0)
    b = random_boxes(rng, 7)
    expected = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in b.tolist()]
    np.testing.assert_allclose(box_area(gu.tensor(b)).numpy(), expected, rtol=1e-6)
    ints = box_area(gu.tensor([[0, 0, 2, 3], [1, 1, 1, 5]]))
    assert ints.tolist() == [6, 0] and ints.dtype == gu.int64


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_box_iou_matches_a_loop_over_pairs(seed):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 9), random_boxes(rng, 6)
    expected = [[iou_pair(np.float64(p), np.float64(q)) for q in b] for p in a]
    got = box_iou(gu.tensor(a), gu.tensor(b))
    assert got.shape == (9, 6) and got.dtype == gu.float32
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_box_iou_hand_worked_cases():
    a = gu.tensor([[0.0, 0.0, 2.0, 2.0]])
    others = gu.tensor([
        [1.0, 1.0, 3.0, 3.0],  # overlap 1, union 4 + 4 - 1 = 7
        [0.0, 0.0, 2.0, 2.0],  # identical
        [2.0, 0.0, 4.0, 2.0],  # touching along an edge: no area in common
        [0.0, 0.0, 1.0, 2.0],  # inside, half the area
        [5.0, 5.0, 6.0, 6.0],  # far away
    ])
    np.testing.assert_allclose(box_iou(a, others).numpy()[0], [1 / 7, 1.0, 0.0, 0.5, 0.0], rtol=1e-6)
    degenerate = gu.tensor([[1.0, 1.0, 1.0, 1.0]])
    assert box_iou(degenerate, degenerate).tolist() == [[0.0]]  # 0/0 is defined as 0, not nan


def test_box_iou_of_empty_inputs_has_empty_shapes():
    none, some = gu.zeros(0, 4), gu.tensor([[0.0, 0.0, 1.0, 1.0]] * 3)
    assert box_iou(none, some).shape == (0, 3)
    assert box_iou(some, none).shape == (3, 0)
    assert box_area(none).shape == (0,)


def test_box_convert_round_trips_and_hand_values():
    xyxy = gu.tensor([[1.0, 2.0, 5.0, 8.0]])
    assert box_convert(xyxy, "xyxy", "xywh").tolist() == [[1.0, 2.0, 4.0, 6.0]]
    assert box_convert(xyxy, "xyxy", "cxcywh").tolist() == [[3.0, 5.0, 4.0, 6.0]]
    rng = np.random.default_rng(3)
    b = gu.tensor(random_boxes(rng, 5))
    for fmt in ("xywh", "cxcywh"):
        back = box_convert(box_convert(b, "xyxy", fmt), fmt, "xyxy")
        np.testing.assert_allclose(back.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(box_convert(box_convert(b, "xyxy", "xywh"), "xywh", "cxcywh").numpy(),
                               box_convert(b, "xyxy", "cxcywh").numpy(), rtol=1e-5, atol=1e-5)
    same = box_convert(b, "xyxy", "xyxy")
    assert same.tolist() == b.tolist() and same.data is not b.data  # a copy, as torchvision's clone


def test_clip_boxes_to_image():
    b = gu.tensor([[-3.0, 2.0, 70.0, 50.0]])
    assert clip_boxes_to_image(b, (40, 64)).tolist() == [[0.0, 2.0, 64.0, 40.0]]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("threshold", [0.1, 0.5])
def test_nms_matches_the_greedy_loop(seed, threshold):
    rng = np.random.default_rng(seed)
    b = random_boxes(rng, 40)
    s = rng.random(40).astype(np.float32)
    keep = nms(gu.tensor(b), gu.tensor(s), threshold)
    assert keep.dtype == gu.int64
    assert keep.tolist() == nms_reference(b, s, threshold)
    assert np.all(np.diff(s[keep.numpy()]) <= 0)  # sorted by decreasing score


def test_nms_ties_threshold_and_empty_input():
    boxes = gu.tensor([[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 1.0], [10.0, 10.0, 11.0, 11.0], [0.0, 0.0, 2.0, 1.0]])
    # the first two overlap by exactly 1/3; "IoU > threshold" suppresses, so at 1/3 both stay
    assert nms(boxes[:2], gu.tensor([0.9, 0.8]), 1 / 3).tolist() == [0, 1]
    assert nms(boxes[:2], gu.tensor([0.9, 0.8]), 0.3).tolist() == [0]
    # equal scores: input order decides, so of the identical boxes 0 and 3 the first wins
    assert nms(boxes, gu.tensor([0.5, 0.1, 0.5, 0.5]), 0.5).tolist() == [0, 2, 1]
    assert nms(boxes[[3, 0]], gu.tensor([0.5, 0.5]), 0.5).tolist() == [0]
    empty = nms(gu.zeros(0, 4), gu.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == gu.int64


def test_batched_nms_keeps_categories_apart():
    boxes = gu.tensor([[0.0, 0.0, 10.0, 10.0]] * 3 + [[-20.0, -20.0, -10.0, -10.0]])
    scores = gu.tensor([0.9, 0.8, 0.7, 0.6])
    # identical boxes: only the best of each class survives
    assert batched_nms(boxes, scores, gu.tensor([0, 1, 0, 1]), 0.5).tolist() == [0, 1, 3]
    assert batched_nms(boxes, scores, gu.tensor([2, 2, 2, 2]), 0.5).tolist() == [0, 3]
    assert batched_nms(gu.zeros(0, 4), gu.zeros(0), gu.zeros(0, dtype=gu.int64), 0.5).shape == (0,)


@pytest.mark.parametrize("seed", [0, 1])
def test_batched_nms_equals_nms_run_per_class(seed):
    rng = np.random.default_rng(seed)
    b, s, c = random_boxes(rng, 60), rng.random(60).astype(np.float32), rng.integers(0, 3, 60)
    expected = []
    for k in range(3):
        idx = np.flatnonzero(c == k)
        expected += [int(idx[i]) for i in nms_reference(b[idx], s[idx], 0.4)]
    expected.sort(key=lambda i: (-s[i], i))
    assert batched_nms(gu.tensor(b), gu.tensor(s), gu.tensor(c), 0.4).tolist() == expected


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"box_iou: boxes2 must have shape \(N, 4\), got \(3,\)"):
        box_iou(gu.zeros(2, 4), gu.zeros(3))
    with pytest.raises(ValueError, match=r"nms: scores must have shape \(N,\) with N = 2 boxes, got \(3,\)"):
        nms(gu.zeros(2, 4), gu.zeros(3), 0.5)
    with pytest.raises(ValueError, match="box_convert: in_fmt must be one of"):
        box_convert(gu.zeros(1, 4), "xyz", "xyxy")
    with pytest.raises(ValueError, match="batched_nms: idxs must be integers"):
        batched_nms(gu.zeros(2, 4), gu.zeros(2), gu.zeros(2), 0.5)
    with pytest.raises(TypeError, match="box_area: boxes must be a Tensor or NumPy array, got str"):
        box_area("boxes")
