"""The detection task: :class:`~groundup.models.TinySSD` finds digits on generated MNIST canvases.

``groundup train mnist-detection`` generates the canvases (:class:`~groundup.datasets.MNISTDetection`),
trains with the plain loop below (forward, SSD loss, backward, Adam step, per-step cosine schedule),
measures validation mAP@0.5 after every epoch and test mAP@0.5 at the end, and draws the detections
on a few test canvases. ``groundup eval`` regenerates the test canvases from the stored recipe and
recomputes the same number.

The recipe's ``extra`` dict holds the knobs that are not :class:`~groundup.recipes.Recipe` fields:

- ``train_images`` / ``valid_images`` / ``test_images``: how many canvases to generate for each split
  (tests shrink them; ``valid_images = 0`` skips validation);
- ``canvas``, ``digits``, ``scale``: the dataset's arguments; ``data_seed``: the canvases' seed, kept
  apart from ``Recipe.seed`` (initialisation and shuffling) so that every run is judged on the same
  test canvases;
- ``width``: the channels of TinySSD's prediction maps.

Resuming is exact at epoch boundaries: a checkpoint is written after every epoch with the model,
Adam's state, the schedule, the shuffling generator and the history, and ``--resume`` continues
from the next epoch with the same batches it would have drawn.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import groundup as gu
from groundup import optim
from groundup.datasets import MNISTDetection
from groundup.models import TinySSD
from groundup.recipes import Recipe
from groundup.recipes.run import _plot, build_scheduler
from groundup.train import load_checkpoint, save_checkpoint
from groundup.train.detection_metrics import mean_average_precision

_EXTRA = {"train_images": 8000, "valid_images": 500, "test_images": 1000, "canvas": 64, "digits": [1, 3],
          "scale": [14, 28], "data_seed": 0, "width": 32}

RECIPES: list[Recipe] = [
    Recipe("mnist-detection", "TinySSD (Liu et al. 2016) finds 1-3 MNIST digits on 64x64 canvases",
           data="mnist-canvas", model="tinyssd", epochs=5, batch_size=32, optimizer="adam", lr=3e-3,
           schedule="cosine", target=0.97, metric="test_map50", task="detection", extra=_EXTRA),
]


def _extra(r: Recipe) -> dict[str, Any]:
    unknown = sorted(set(r.extra) - set(_EXTRA))
    if unknown:
        raise ValueError(f"recipe {r.name!r}: unknown extra key(s) {unknown}; known: {sorted(_EXTRA)}")
    return {**_EXTRA, **r.extra}


def load_split(r: Recipe, split: str) -> MNISTDetection | None:
    """The recipe's canvases of ``split`` (``None`` when it asks for zero of them)."""
    e = _extra(r)
    n = int(e[f"{split}_images"])
    if n == 0:
        return None
    return MNISTDetection(split, n_images=n, canvas=e["canvas"], digits=tuple(e["digits"]),
                          scale=tuple(e["scale"]), seed=e["data_seed"])


def build_model(r: Recipe) -> TinySSD:
    e = _extra(r)
    return TinySSD(num_classes=10, image_size=e["canvas"], width=e["width"])


def detect_all(model: TinySSD, images: gu.Tensor, batch_size: int = 100) -> list[dict[str, gu.Tensor]]:
    """``model.detect`` over all ``images`` in batches, in eval mode."""
    model.eval()
    out: list[dict[str, gu.Tensor]] = []
    for i in range(0, images.shape[0], batch_size):
        out += model.detect(images[i:i + batch_size])
    return out


def measure(model: TinySSD, data: MNISTDetection) -> dict[str, Any]:
    """mAP@0.5 of ``model`` on ``data``: ``{"map": ..., "ap": [per class], "num_targets": [...]}``."""
    return mean_average_precision(detect_all(model, data.images), data.targets, iou_threshold=0.5, num_classes=10)


def _scheduler(r: Recipe, opt: optim.Optimizer, total_steps: int) -> Any:
    """The recipe's schedule stepped once per batch: :func:`~groundup.recipes.run.build_scheduler` over
    ``total_steps`` one-batch "epochs"."""
    if r.schedule not in ("none", "cosine", "onecycle"):
        raise ValueError(f"recipe {r.name!r}: schedule {r.schedule!r} is not supported here; use none, cosine or "
                         "onecycle (all stepped once per batch)")
    return build_scheduler(r, opt, total_steps, 1)[0]


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train ``r`` (see the module docstring); returns test mAP@0.5 as ``test_map50`` and more."""
    if r.optimizer != "adam":
        raise ValueError(f"recipe {r.name!r}: the detection task trains with adam, got {r.optimizer!r}")
    train_set, valid_set, test_set = (load_split(r, s) for s in ("train", "valid", "test"))
    if train_set is None or test_set is None:
        raise ValueError(f"recipe {r.name!r}: train_images and test_images must be positive")
    model = build_model(r)
    opt = optim.Adam(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    n = len(train_set)
    steps_per_epoch = math.ceil(n / r.batch_size)
    total_steps = r.steps if r.steps is not None else r.epochs * steps_per_epoch
    epochs = math.ceil(total_steps / steps_per_epoch)
    scheduler = _scheduler(r, opt, total_steps)
    shuffle = gu.Generator().manual_seed(r.seed)
    last = out / "last.safetensors"
    history: list[dict[str, float]] = []
    epoch = 0
    if resume:
        state = load_checkpoint(last, model, opt, scheduler, generator=shuffle)
        epoch, history = state["epoch"], list(state["history"] or [])
    step = epoch * steps_per_epoch
    while epoch < epochs:
        start = time.perf_counter()
        model.train()
        sums = np.zeros(2)
        batches = 0
        perm = gu.randperm(n, generator=shuffle).numpy()
        for i in range(0, n, r.batch_size):
            if step == total_steps:
                break
            idx = perm[i:i + r.batch_size]
            cls_logits, bbox_deltas = model(train_set.images[idx])  # (B, A, 11), (B, A, 4)
            losses = model.loss(cls_logits, bbox_deltas, [train_set.targets[j] for j in idx])
            loss = losses["classification"] + losses["bbox_regression"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            sums += [losses["classification"].item(), losses["bbox_regression"].item()]
            batches += 1
            step += 1
        epoch += 1
        logs = {"epoch": epoch, "train_cls_loss": float(sums[0] / batches), "train_box_loss": float(sums[1] / batches)}
        if valid_set is not None:
            logs["val_map50"] = measure(model, valid_set)["map"]
        logs["time"] = time.perf_counter() - start
        history.append(logs)
        save_checkpoint(last, model, opt, scheduler, epoch=epoch, history=history, generator=shuffle,
                        extra={"recipe": r.to_dict()})
        if progress is not None:
            print(f"epoch {epoch}/{epochs}: " + " ".join(f"{k}={v:.4g}" for k, v in logs.items() if k != "epoch"),
                  flush=True)
    (out / "history.json").write_text(json.dumps(history, indent=2) + "\n")
    result = measure(model, test_set)
    results: dict[str, Any] = {
        "test_map50": result["map"], "test_ap50_per_class": result["ap"], "test_size": len(test_set),
        "test_objects": int(sum(result["num_targets"])), "epochs_run": epoch, "steps": step,
        "train_images": n, "checkpoint": str(last),
    }
    if history and "val_map50" in history[-1]:
        results["val_map50"] = history[-1]["val_map50"]
    results["plots"] = {"detections": _plot_examples(model, test_set, out / "detections.png")}
    return results


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Regenerate the recipe's test canvases, load ``checkpoint`` and recompute mAP@0.5."""
    model = build_model(r)
    load_checkpoint(checkpoint, model)
    test_set = load_split(r, "test")
    if test_set is None:
        raise ValueError(f"recipe {r.name!r}: test_images must be positive")
    result = measure(model, test_set)
    return {"test_map50": result["map"], "test_ap50_per_class": result["ap"], "test_size": len(test_set)}


def plot_detections(images: Any, detections: list[dict[str, Any]], path: str | Path | None = None,
                    targets: list[dict[str, Any]] | None = None, score_threshold: float = 0.5,
                    ncols: int = 4) -> Any:
    """Draw canvases with their detections (red, ``label score``) and ground truth (green, dashed).

    ``images`` is ``(N, 1, H, W)``; detections below ``score_threshold`` are not drawn. Returns the
    matplotlib ``Figure``; with ``path`` it is also saved there.
    """
    from matplotlib.figure import Figure  # the object API: no pyplot, no window, no backend switched

    imgs = np.asarray(images.data if isinstance(images, gu.Tensor) else images)
    n = imgs.shape[0]
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(2.2 * ncols, 2.2 * nrows), dpi=80)
    for k in range(n):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.imshow(imgs[k, 0], cmap="gray", vmin=0, vmax=1)
        if targets is not None:
            for box in np.asarray(targets[k]["boxes"].data).tolist():
                draw_box(ax, box, ec="lime", ls="--", lw=1)
        det = detections[k]
        for box, s, lab in zip(det["boxes"].tolist(), det["scores"].tolist(), det["labels"].tolist()):
            if s < score_threshold:
                continue
            draw_box(ax, box, ec="red", lw=1.5)
            ax.text(box[0] - 0.5, box[1] - 1.5, f"{lab} {s:.2f}", color="red", fontsize=8)
        ax.set_axis_off()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def draw_box(ax: Any, box: Sequence[float], **kw: Any) -> None:
    """Outline an xyxy pixel box on an ``imshow`` axis, where pixel ``j`` is centred at ``j`` (so the box's
    edge ``x1`` is drawn at ``x1 - 0.5``); ``kw`` styles the ``Rectangle`` (``ec``, ``ls``, ``lw``, ``label``)."""
    from matplotlib.patches import Rectangle

    x1, y1, x2, y2 = box
    ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, **kw))


def _plot_examples(model: TinySSD, data: MNISTDetection, path: Path) -> str | None:
    """Detections on the first 8 test canvases; plots are a bonus, never a reason to fail a run."""
    k = min(8, len(data))
    return _plot(lambda p: plot_detections(data.images[:k], detect_all(model, data.images[:k]), p,
                                           targets=data.targets[:k]), path)
