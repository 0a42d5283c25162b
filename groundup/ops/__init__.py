"""``groundup.ops``: the detection operators, like ``torchvision.ops``.

- :mod:`~groundup.ops.boxes`: box area, IoU, format conversion, clipping, NMS and per-class NMS;
- :mod:`~groundup.ops.anchors`: SSD's default boxes, the box encoding, anchor matching.

They work on plain arrays of boxes and record no gradients: see ``docs/detection.md``.
"""

from groundup.ops.anchors import *  # noqa: F403
from groundup.ops.anchors import __all__ as _anchors_all
from groundup.ops.boxes import *  # noqa: F403
from groundup.ops.boxes import __all__ as _boxes_all

__all__ = [*_boxes_all, *_anchors_all]
