"""A tiny single-shot detector: W. Liu, D. Anguelov, D. Erhan, C. Szegedy, S. Reed, C.-Y. Fu &
A. C. Berg, "SSD: Single Shot MultiBox Detector", ECCV 2016.

SSD turns detection into dense classification plus regression. A convolutional backbone produces
feature maps at a few resolutions; on each map a 3x3 convolution predicts, at every cell and for
each of the cell's ``K`` anchors (:func:`groundup.ops.default_boxes`), ``num_classes + 1`` class
scores (class 0 is background) and 4 offsets that move the anchor onto the object
(:func:`groundup.ops.encode_boxes`). Fine maps see small objects, coarse maps large ones.

``TinySSD`` is sized for 64x64 canvases of digits (:class:`groundup.datasets.MNISTDetection`);
with ``width = W`` (32 by default)::

    input (B, 1, 64, 64)
    conv W/4 -> pool -> conv W/2 -> pool          (B, W/2, 16, 16)
    conv W, conv W                                (B, W, 16, 16)  map 1: stride 4, anchors ~12 px
    pool -> conv W, conv W                        (B, W,  8,  8)  map 2: stride 8, anchors ~18 px
    each map -> 3x3 conv heads                    K (C + 1) scores and 4 K offsets per cell

Every conv is Conv-BatchNorm-ReLU. Unlike the paper there is no VGG backbone, no L2-normalised
conv4_3, and anchors come in tall shapes only, since digits are taller than wide.

Labels: targets and detections use the dataset's classes ``0 .. num_classes - 1``; inside the
model, class ``c`` is output ``c + 1`` and output 0 is background.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import groundup.nn.functional as F
from groundup import nn
from groundup.autograd import no_grad
from groundup.creation import from_numpy
from groundup.functions.movement import cat
from groundup.ops import (
    batched_nms,
    clip_boxes_to_image,
    decode_boxes,
    default_boxes,
    encode_boxes,
    match_anchors,
)
from groundup.tensor import Tensor

__all__ = ["TinySSD"]


def _conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class TinySSD(nn.Module):
    """SSD with a small conv backbone and two prediction scales (strides 4 and 8).

    Args:
        num_classes: object classes, not counting background.
        in_channels: image channels.
        image_size: side of the (square) input images; must be a multiple of 8.
        width: channels of the two prediction maps (the backbone's first stages use a quarter
            and a half of it).
        scales: anchor scales as fractions of the image, one per map plus one (see
            :func:`~groundup.ops.default_boxes`).
        aspect_ratios: per map, the anchor width/height ratios besides the two squares.

    ``forward(x)`` returns ``(cls_logits (B, A, num_classes + 1), bbox_deltas (B, A, 4))`` for the
    ``A`` anchors in ``self.anchors`` (``(A, 4)`` xyxy pixels, not a parameter or buffer: they
    follow from the arguments). :meth:`loss` trains it, :meth:`detect` reads boxes out of it.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 64,
        width: int = 32,
        scales: Sequence[float] = (0.18, 0.28, 0.38),
        aspect_ratios: Sequence[Sequence[float]] = ((0.5, 0.33), (0.5, 0.33)),
    ) -> None:
        super().__init__()
        if image_size % 8:
            raise ValueError(f"TinySSD: image_size must be a multiple of 8, got {image_size}")
        if len(aspect_ratios) != 2:
            raise ValueError(f"TinySSD: needs 2 lists of aspect ratios (one per map), got {len(aspect_ratios)}")
        self.num_classes, self.image_size = num_classes, image_size
        self.stem = nn.Sequential(
            _conv_bn_relu(in_channels, width // 4), nn.MaxPool2d(2),
            _conv_bn_relu(width // 4, width // 2), nn.MaxPool2d(2),
            _conv_bn_relu(width // 2, width), _conv_bn_relu(width, width),
        )
        self.down = nn.Sequential(nn.MaxPool2d(2), _conv_bn_relu(width, width), _conv_bn_relu(width, width))
        self.num_anchors = [2 + len(r) for r in aspect_ratios]  # K per cell, for each map
        self.cls_heads = nn.ModuleList([nn.Conv2d(width, k * (num_classes + 1), 3, padding=1) for k in self.num_anchors])
        self.box_heads = nn.ModuleList([nn.Conv2d(width, k * 4, 3, padding=1) for k in self.num_anchors])
        self.feature_sizes = (image_size // 4, image_size // 8)
        self.anchors = default_boxes(self.feature_sizes, image_size, scales, aspect_ratios)  # (A, 4)

    @staticmethod
    def _flatten(y: Tensor, per_anchor: int) -> Tensor:
        """A head's ``(B, K * per_anchor, H, W)`` output as ``(B, H * W * K, per_anchor)``, in anchor order."""
        b = y.shape[0]
        return y.permute(0, 2, 3, 1).reshape(b, -1, per_anchor)  # (B, H, W, K * P) -> (B, H * W * K, P)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Raw per-anchor outputs for images ``(B, C, S, S)``: class logits and box offsets."""
        if x.ndim != 4 or tuple(x.shape[2:]) != (self.image_size, self.image_size):
            raise ValueError(f"TinySSD: expected input (B, C, {self.image_size}, {self.image_size}), "
                             f"got {tuple(x.shape)}")
        f1 = self.stem(x)  # (B, W, S/4, S/4)
        f2 = self.down(f1)  # (B, W, S/8, S/8)
        cls, box = [], []
        for f, cls_head, box_head in zip((f1, f2), self.cls_heads, self.box_heads):
            cls.append(self._flatten(cls_head(f), self.num_classes + 1))  # (B, h * w * K, C + 1)
            box.append(self._flatten(box_head(f), 4))  # (B, h * w * K, 4)
        return cat(cls, dim=1), cat(box, dim=1)  # (B, A, C + 1), (B, A, 4)

    def match(self, targets: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Training targets for each anchor of each image.

        Returns ``cls_target`` int64 ``(B, A)`` (0 = background, else the label + 1) and
        ``box_target`` float32 ``(B, A, 4)`` (the encoded ground truth; zeros for background).
        """
        anchors = self.anchors.data
        cls_target = np.zeros((len(targets), anchors.shape[0]), dtype=np.int64)  # (B, A)
        box_target = np.zeros((len(targets), anchors.shape[0], 4), dtype=np.float32)  # (B, A, 4)
        for i, t in enumerate(targets):
            boxes, labels = _np(t["boxes"]).reshape(-1, 4), _np(t["labels"]).reshape(-1)
            if labels.size and not (0 <= labels.min() and labels.max() < self.num_classes):
                raise ValueError(f"TinySSD: target {i} has labels {labels.tolist()}; expected 0..{self.num_classes - 1}")
            m = match_anchors(self.anchors, boxes).data  # (A,) ground-truth index or -1
            pos = m >= 0
            cls_target[i, pos] = labels[m[pos]] + 1
            box_target[i, pos] = encode_boxes(boxes[m[pos]], anchors[pos]).data
        return cls_target, box_target

    def loss(self, cls_logits: Tensor, bbox_deltas: Tensor, targets: Sequence[dict[str, Any]],
             neg_pos_ratio: int = 3) -> dict[str, Tensor]:
        """SSD's multibox loss, as torchvision's ``SSD`` returns it in training mode.

        With ``N`` matched (positive) anchors in the batch::

            classification  = (1/N) * [sum over positives and mined negatives of cross-entropy]
            bbox_regression = (1/N) * sum over positives of smooth_l1(deltas - encoded ground truth)

        Hard negative mining: most anchors are background, so instead of all of them each image
        keeps only its ``neg_pos_ratio x`` (number of its positives) background anchors with the
        highest cross-entropy: the confusing ones. Returns ``{"classification", "bbox_regression"}``.
        """
        b, a, c1 = cls_logits.shape  # (B, A, C + 1)
        if len(targets) != b:
            raise ValueError(f"TinySSD.loss: {b} images in the outputs but {len(targets)} targets")
        cls_target, box_target = self.match(targets)  # (B, A), (B, A, 4)
        pos = cls_target > 0  # (B, A)
        ce = F.cross_entropy(cls_logits.reshape(b * a, c1), from_numpy(cls_target.reshape(-1)),
                             reduction="none").reshape(b, a)  # (B, A)
        neg_ce = np.where(pos, -np.inf, ce.data)  # (B, A): positives never count as negatives
        rank = np.empty_like(cls_target)
        rank[np.arange(b)[:, None], np.argsort(-neg_ce, axis=1, kind="stable")] = np.arange(a)  # (B, A) 0 = hardest
        num_neg = np.minimum(neg_pos_ratio * pos.sum(axis=1, keepdims=True), a - pos.sum(axis=1, keepdims=True))
        keep = pos | (rank < num_neg)  # (B, A) positives and the mined negatives
        n = max(int(pos.sum()), 1)
        classification = (ce * from_numpy(keep.astype(ce.data.dtype))).sum() / n
        rows, cols = np.nonzero(pos)
        pred = bbox_deltas[rows, cols]  # (P, 4)
        bbox_regression = F.smooth_l1_loss(pred, from_numpy(box_target[rows, cols]), reduction="sum") / n
        return {"classification": classification, "bbox_regression": bbox_regression}

    def detect(self, images: Tensor, score_threshold: float = 0.01, iou_threshold: float = 0.45,
               top_k: int = 200, candidates_per_class: int = 400) -> list[dict[str, Tensor]]:
        """Detections for a batch, torchvision's SSD post-processing (call ``model.eval()`` first).

        For each image: softmax the class scores, decode every anchor's box and clip it to the
        image; for each class keep the ``candidates_per_class`` best anchors scoring above
        ``score_threshold``; run NMS per class at ``iou_threshold``; keep the ``top_k`` best.
        Returns one dict per image: ``boxes`` float32 ``(k, 4)`` xyxy, ``scores`` ``(k,)``,
        ``labels`` int64 ``(k,)`` in ``0 .. num_classes - 1``, by decreasing score.
        """
        with no_grad():
            cls_logits, bbox_deltas = self(images)  # (B, A, C + 1), (B, A, 4)
            probs = F.softmax(cls_logits, dim=-1).data[:, :, 1:]  # (B, A, C) object classes only
        boxes = decode_boxes(bbox_deltas, self.anchors).data  # (B, A, 4)
        out = []
        for p, bx in zip(probs, boxes):
            bx = clip_boxes_to_image(bx, (self.image_size, self.image_size)).data  # (A, 4)
            anchor, label = np.nonzero(p > score_threshold)  # candidates, (M,) each
            score = p[anchor, label]  # (M,)
            order = np.lexsort((-score, label))  # by class, best first within a class
            rank = np.arange(order.size) - np.searchsorted(label[order], label[order])  # rank within its class
            sel = order[rank < candidates_per_class]
            anchor, label, score = anchor[sel], label[sel], score[sel]
            keep = batched_nms(bx[anchor], score, label, iou_threshold, max_keep=top_k).data  # by decreasing score
            out.append({"boxes": from_numpy(bx[anchor[keep]].astype(np.float32)),
                        "scores": from_numpy(score[keep].astype(np.float32)),
                        "labels": from_numpy(label[keep].astype(np.int64))})
        return out


def _np(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)
