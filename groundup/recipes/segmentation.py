"""Recipes of the segmentation task: a U-Net labels every pixel of the generated shapes images.

``shapes-unet`` trains :class:`~groundup.models.UNet` on :class:`~groundup.datasets.Shapes`
(circles, squares and triangles on noise; 4 classes with the background) with pixel-wise
cross-entropy on ``(N, C, H, W)`` logits against ``(N, H, W)`` labels, Adam and a 1cycle schedule.
The result is the **mean IoU** over the four classes on the test split (every pixel of every test
image pooled, :class:`~groundup.train.metrics.MeanIoU`), with each class's IoU and the pixel
accuracy next to it.

The recipe's ``extra`` dict holds the sizes, so a test or a quick experiment can shrink the run
with ``recipe.replace(extra={**recipe.extra, "train_size": 64, ...})``:

* ``image_size``: height and width of the images (a multiple of ``2**depth``);
* ``train_size``, ``valid_size``, ``test_size``: images per split (all drawn from ``seed``);
* ``max_shapes``, ``noise``: passed to :func:`~groundup.datasets.make_shapes`;
* ``base_channels``, ``depth``, ``bilinear``: the U-Net's width, number of levels, up-sampling.

Training runs in the :class:`~groundup.train.Trainer`, which writes ``last.safetensors`` after
every epoch (and ``best.safetensors`` at the best validation mean IoU); ``resume=True`` restores
the model, Adam's moments, the schedule, the shuffling generator and the history from
``last.safetensors`` and continues **exactly**: the final weights equal those of a run that was
never interrupted. The history's ``val_miou`` is exact (the validation split is one batch);
``train_miou`` is the mean of the per-batch values, a cheap approximation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

import groundup as gu
import groundup.nn.functional as F
from groundup.datasets import SHAPE_CLASSES, Shapes
from groundup.models import UNet
from groundup.recipes import Recipe
from groundup.recipes.run import _plot, build_optimizer, build_scheduler
from groundup.train import CSVLogger, JSONLogger, ModelCheckpoint, Trainer, load_checkpoint
from groundup.train.metrics import MeanIoU, mean_iou
from groundup.utils.data import DataLoader, TensorDataset

RECIPES: list[Recipe] = [
    Recipe("shapes-unet", "a U-Net (Ronneberger et al. 2015) segments circles, squares and triangles (32x32)",
           data="shapes", model="unet", epochs=12, batch_size=32, optimizer="adam", lr=5e-3, schedule="onecycle",
           seed=0, target=0.89, metric="test_miou", task="segmentation",
           extra={"image_size": 32, "train_size": 3000, "valid_size": 500, "test_size": 1000, "max_shapes": 3,
                  "noise": 0.1, "base_channels": 8, "depth": 3, "bilinear": False}),
]

NUM_CLASSES = len(SHAPE_CLASSES)
CLASS_COLORS = ("#222222", "#e45756", "#4c78a8", "#f2cf5b")  # background, circle, square, triangle


def _splits(r: Recipe, *names: str) -> list[Shapes]:
    """The recipe's Shapes splits, generated from its seed and ``extra`` sizes."""
    e = r.extra
    return [Shapes(name, e[f"{name}_size"], size=e["image_size"], seed=r.seed, max_shapes=e["max_shapes"],
                   noise=e["noise"]) for name in names]


def build_model(r: Recipe) -> UNet:
    """The recipe's U-Net: one input channel, one output channel per class of the shapes."""
    e = r.extra
    return UNet(in_channels=1, num_classes=NUM_CLASSES, base_channels=e["base_channels"], depth=e["depth"],
                bilinear=e["bilinear"])


def pixel_accuracy(output: gu.Tensor, target: gu.Tensor) -> float:
    """The fraction of pixels whose argmax class over ``output`` (N, C, H, W) equals ``target`` (N, H, W)."""
    return float(np.mean(output.detach().numpy().argmax(axis=1) == target.numpy()))


def _miou(output: gu.Tensor, target: gu.Tensor) -> float:
    return mean_iou(output, target, NUM_CLASSES)


def measure(model: gu.nn.Module, images: gu.Tensor, masks: gu.Tensor, batch_size: int = 250) -> dict[str, Any]:
    """Mean IoU, per-class IoU and pixel accuracy of ``model`` over whole splits, pooled over batches."""
    model.eval()
    miou = MeanIoU(NUM_CLASSES)
    with gu.no_grad():
        for i in range(0, images.shape[0], batch_size):
            pred = model(images[i : i + batch_size]).argmax(dim=1)  # (B, H, W)
            miou.update(pred, masks[i : i + batch_size])
    per_class = miou.per_class()
    cm = miou.confusion  # (C, C) pixel counts: the diagonal holds the correctly labelled pixels
    return {"miou": miou.compute(), "iou": {c: float(v) for c, v in zip(SHAPE_CLASSES, per_class)},
            "pixel_accuracy": int(np.trace(cm)) / int(cm.sum())}


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train ``r`` into ``out`` (checkpoints, history, plots) and measure it on the test split."""
    train_set, valid_set, test_set = _splits(r, "train", "valid", "test")
    model = build_model(r)
    loader = DataLoader(TensorDataset(*train_set.tensors()), batch_size=r.batch_size, shuffle=True,
                        generator=gu.Generator().manual_seed(r.seed))
    valid = [valid_set.tensors()]  # one batch: the whole validation split, so val_miou is exact
    epochs = r.epochs if r.steps is None else math.ceil(r.steps / len(loader))
    opt = build_optimizer(r, model)
    scheduler, interval = build_scheduler(r, opt, epochs, len(loader))
    trainer = Trainer(model, opt, F.cross_entropy, scheduler=scheduler, scheduler_interval=interval,
                      metrics={"pixel_acc": pixel_accuracy, "miou": _miou}, progress=progress, callbacks=[
                          ModelCheckpoint(out, monitor="val_miou", mode="max", extra={"recipe": r.to_dict()}),
                          CSVLogger(out / "history.csv"), JSONLogger(out / "history.json")])
    last = out / "last.safetensors"
    trainer.fit(loader, epochs, val_loader=valid, resume_from=last if resume else None)
    test = measure(model, *test_set.tensors())
    results = {"test_miou": test["miou"], "test_iou": test["iou"], "test_pixel_accuracy": test["pixel_accuracy"],
               "val_miou": trainer.history["val_miou"][-1], "epochs_run": trainer.epoch,
               "parameters": sum(p.numel() for p in model.parameters()), "test_size": len(test_set),
               "checkpoint": str(last), "best_checkpoint": str(out / "best.safetensors")}
    results["plots"] = _plots(model, trainer, test_set, out)
    return results


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Rebuild the test split and the U-Net of ``r``, load ``checkpoint`` and measure the mean IoU."""
    (test_set,) = _splits(r, "test")
    model = build_model(r)
    load_checkpoint(checkpoint, model)
    test = measure(model, *test_set.tensors())
    return {"test_miou": test["miou"], "test_iou": test["iou"], "test_pixel_accuracy": test["pixel_accuracy"],
            "test_size": len(test_set)}


def _plots(model: gu.nn.Module, trainer: Trainer, test_set: Shapes, out: Path) -> dict[str, str | None]:
    """The history curves and a few test images with their true and predicted masks (needs matplotlib)."""
    import groundup.plot as gplot

    return {"history": _plot(lambda p: gplot.plot_history(trainer.history, p), out / "history.png"),
            "samples": _plot(lambda p: plot_samples(model, test_set.data[:6], test_set.targets[:6], p),
                             out / "samples.png")}


def show_masks(axes: np.ndarray, rows: list[tuple[str, np.ndarray]]) -> None:
    """One row of ``axes`` per ``(title, (n, H, W) array)``: the first row drawn in gray (the images),
    the others as classes in :data:`CLASS_COLORS` (masks); no ticks, each row titled on its left."""
    from matplotlib.colors import ListedColormap

    colors = ListedColormap(list(CLASS_COLORS))
    for i, (title, pictures) in enumerate(rows):
        for j, picture in enumerate(pictures):
            ax = axes[i, j]
            if i == 0:
                ax.imshow(picture, cmap="gray", interpolation="nearest")
            else:
                ax.imshow(picture, cmap=colors, vmin=0, vmax=NUM_CLASSES - 1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(title)


def plot_samples(model: gu.nn.Module, images: gu.Tensor, masks: gu.Tensor, path: Path) -> str:
    """Draw each image (N, 1, H, W) above its true mask and the model's predicted mask; returns the path."""
    from matplotlib.figure import Figure  # the object API: no pyplot, no window, rendered by Agg

    model.eval()
    with gu.no_grad():
        pred = model(images).argmax(dim=1).numpy()  # (N, H, W)
    n = images.shape[0]
    fig = Figure(figsize=(1.6 * n, 5.2), layout="constrained")
    show_masks(fig.subplots(3, n, squeeze=False),
               [("image", images.numpy()[:, 0]), ("truth", masks.numpy()), ("prediction", pred)])
    fig.suptitle("classes: " + ", ".join(f"{c} ({k})" for k, c in enumerate(SHAPE_CLASSES)), fontsize=9)
    fig.savefig(path, dpi=100)
    return str(path)
