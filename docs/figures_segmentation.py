"""Draw the figures of docs/segmentation.md.

    python docs/figures_segmentation.py [outdir]        # default: docs/img

``segmentation-shapes.png``: images of the shapes dataset above their masks.
``segmentation-upsampling.png``: how many kernel taps reach each output pixel of a transposed
convolution (kernel 2, 3 and 4, stride 2) and of a bilinear up-sampling: uneven counts are the
checkerboard.
``segmentation-predictions.png``: a U-Net trained for 400 steps (about 30 s on one core) on test
images it has not seen. Figures are drawn with matplotlib's object API (no pyplot, no window).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from figure_style import save  # noqa: E402  (docs/figure_style.py)
from matplotlib.figure import Figure  # noqa: E402

import groundup as gu  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup import nn, optim  # noqa: E402
from groundup.datasets import SHAPE_CLASSES, Shapes  # noqa: E402
from groundup.models import UNet  # noqa: E402
from groundup.recipes.segmentation import measure, show_masks  # noqa: E402


def shapes(out: Path) -> None:
    data = Shapes("train", n_images=8, size=32, seed=0)
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    show_masks(fig.subplots(2, 8, squeeze=False), [("image", data.data.numpy()[:, 0]), ("mask", data.targets.numpy())])
    fig.suptitle("shapes dataset: " + ", ".join(f"{k} {c}" for k, c in enumerate(SHAPE_CLASSES)))
    save(fig, out, "segmentation-shapes.png")


def upsampling(out: Path) -> None:
    ones = gu.ones(1, 1, 8, 8)
    panels = []
    for k, p, op in ((2, 0, 0), (3, 1, 1), (4, 1, 0)):
        cover = F.conv_transpose2d(ones, gu.ones(1, 1, k, k), stride=2, padding=p, output_padding=op)  # (1, 1, 16, 16)
        panels.append((f"ConvTranspose2d k={k}, s=2", cover.numpy()[0, 0]))
    resized = nn.Upsample(scale_factor=2, mode="bilinear")(ones)  # (1, 1, 16, 16)
    panels.append(("Upsample (bilinear) + 3x3 conv", F.conv2d(resized, gu.ones(1, 1, 3, 3), padding=1).numpy()[0, 0]))
    fig = Figure(figsize=(12, 3.3), layout="constrained")
    for ax, (title, picture) in zip(fig.subplots(1, 4), panels):
        im = ax.imshow(picture, cmap="viridis", vmin=0, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle("an all-ones 8x8 input up-sampled to 16x16 with all-ones weights: kernel taps per output pixel")
    save(fig, out, "segmentation-upsampling.png")


def predictions(out: Path) -> None:
    gu.manual_seed(0)
    train, test = Shapes("train", 1600, size=32, seed=0), Shapes("test", 200, size=32, seed=0)
    model = UNet(1, 4, base_channels=8, depth=3)
    steps, batch = 400, 16
    opt = optim.Adam(model.parameters(), lr=5e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=steps)
    x, y = train.tensors()
    start = time.perf_counter()
    for step in range(steps):
        idx = slice(batch * step % len(train), batch * step % len(train) + batch)
        loss = F.cross_entropy(model(x[idx]), y[idx])  # pixel-wise: logits (B, 4, H, W), labels (B, H, W)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    result = measure(model, *test.tensors())
    print(f"trained {steps} steps in {time.perf_counter() - start:.0f} s: test mean IoU {result['miou']:.3f}")
    with gu.no_grad():
        pred = model(test.data[:8]).argmax(dim=1).numpy()  # (8, H, W)
    fig = Figure(figsize=(12, 5), layout="constrained")
    show_masks(fig.subplots(3, 8, squeeze=False), [("image", test.data.numpy()[:8, 0]),
                                                   ("truth", test.targets.numpy()[:8]), ("prediction", pred)])
    iou = ", ".join(f"{c} {v:.2f}" for c, v in result["iou"].items())
    fig.suptitle(f"U-Net after {steps} steps on test images: mean IoU {result['miou']:.3f} ({iou})")
    save(fig, out, "segmentation-predictions.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    shapes(out)
    upsampling(out)
    predictions(out)


if __name__ == "__main__":
    main()
