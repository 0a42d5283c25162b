"""Draw the figures of docs/detection.md.

    python docs/figures_detection.py [outdir]        # default: docs/img

- ``detection-anchors.png``: a test canvas with its digits' boxes, the anchors of one cell of each
  feature map, and the anchors that matching makes positive for each digit;
- ``detection-pr-curve.png``: the precision/recall points of section 8's example, their envelope,
  and the area under it (the AP);
- ``detection-detections.png``: a TinySSD trained for 300 steps of 16 canvases from 2,000 (about
  20 seconds on one core) and its detections on 8 test canvases; the script prints its mAP@0.5
  on 200 test canvases.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from figure_style import save  # noqa: E402  (docs/figure_style.py)
from matplotlib.figure import Figure  # noqa: E402

import groundup as gu  # noqa: E402
from groundup import ops, optim  # noqa: E402
from groundup.datasets import MNISTDetection  # noqa: E402
from groundup.models import TinySSD  # noqa: E402
from groundup.recipes.detection import detect_all, draw_box, plot_detections  # noqa: E402
from groundup.train.metrics import mean_average_precision  # noqa: E402


def anchors(out: Path) -> None:
    canvas = MNISTDetection("test", n_images=3, seed=0)
    image, target = canvas[0]
    model = TinySSD()
    a = model.anchors.numpy()
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    for ax in (left, right):
        ax.imshow(image.numpy()[0], cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        for b in target["boxes"].tolist():
            draw_box(ax, b, ec="lime", ls="--", lw=1.5)
    # the 4 anchors of cell (3, 3) of the 16x16 map and of cell (5, 5) of the 8x8 map
    fine = (3 * 16 + 3) * 4
    coarse = 16 * 16 * 4 + (5 * 8 + 5) * 4
    for start, color, label in ((fine, "tab:orange", "16x16 map, cell (3, 3)"), (coarse, "tab:cyan", "8x8 map, cell (5, 5)")):
        for k in range(4):
            draw_box(left, a[start + k], ec=color, lw=1.2, label=label if k == 0 else None)
    left.legend(loc="lower left", fontsize=7, framealpha=0.8)
    left.set_title("anchors of one cell per map", fontsize=10)
    matched = ops.match_anchors(model.anchors, target["boxes"]).numpy()
    colors = ["tab:red", "tab:orange", "tab:cyan"]
    for i in np.flatnonzero(matched >= 0):
        draw_box(right, a[i], ec=colors[matched[i] % 3], lw=0.8)
    right.set_title(f"{int((matched >= 0).sum())} positive anchors after matching", fontsize=10)
    save(fig, out, "detection-anchors.png")


def pr_curve(out: Path) -> None:
    """Section 8's example: TP, FP, TP, FP, TP, FP with 4 objects."""
    tp = np.array([1, 0, 1, 0, 1, 0], bool)
    precision = np.cumsum(tp) / np.arange(1, 7)
    recall = np.cumsum(tp) / 4
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.subplots()
    r = np.concatenate([[0.0], recall[tp]])
    e = envelope[tp]
    ax.fill_between(np.repeat(r, 2)[1:-1], np.repeat(e, 2), step=None, color="tab:blue", alpha=0.15,
                    label=f"AP = area = {np.sum(envelope * np.diff(recall, prepend=0.0)):.3f}")
    ax.step(r[1:], e, where="pre", color="tab:blue", label="envelope (interpolated precision)")
    ax.plot(recall, precision, "o", color="black", label="(recall, precision) after each detection")
    for n, (x, y) in enumerate(zip(recall, precision), 1):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.05))
    ax.legend(fontsize=8, loc="lower left")
    save(fig, out, "detection-pr-curve.png")


def detections(out: Path) -> None:
    gu.manual_seed(0)
    train = MNISTDetection("train", n_images=2000, seed=0)
    test = MNISTDetection("test", n_images=200, seed=0)
    model = TinySSD()
    opt = optim.Adam(model.parameters(), lr=5e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=300)
    order = np.random.default_rng(0).permutation(np.tile(np.arange(len(train)), 3))
    model.train()
    for step in range(300):
        idx = order[16 * step:16 * (step + 1)]
        parts = model.loss(*model(train.images[idx]), [train.targets[i] for i in idx])
        opt.zero_grad()
        (parts["classification"] + parts["bbox_regression"]).backward()
        opt.step()
        sched.step()
    found = detect_all(model, test.images)
    res = mean_average_precision(found, test.targets, num_classes=10)
    print(f"TinySSD after 300 steps: mAP@0.5 {res['map']:.3f} on {len(test)} test canvases")
    fig = plot_detections(test.images[:8], found[:8], targets=test.targets[:8])
    save(fig, out, "detection-detections.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    anchors(out)
    pr_curve(out)
    detections(out)


if __name__ == "__main__":
    main()
