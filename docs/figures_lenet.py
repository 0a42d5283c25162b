"""Draw the figures of docs/lenet.md.

    python docs/figures_lenet.py [outdir]        # default: docs/img

``lenet-inputs.png``: MNIST digits before and after the shrink to the 1989 format (16x16 in
[-1, 1]), and one ±1 pixel random shift of each. ``lenet-h1-kernels.png``: the 12 5x5 kernels of
H1 at initialisation and after two passes over 2,000 of the 7,291 training digits (one example
per step, as in 1989), and the 12 8x8 maps they make of one digit. Matplotlib's object API only
(no pyplot, no window); about 10 seconds on one core.
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
import groundup.nn.functional as F  # noqa: E402
from groundup.datasets import MNIST  # noqa: E402
from groundup.models import LeCun1989  # noqa: E402
from groundup.recipes.lecun1989 import Digits16, Rung, fit, load_digits, random_shift  # noqa: E402


def _show(ax, img: np.ndarray, title: str | None = None, cmap_: str = "gray_r", **kw) -> None:  # noqa: ANN001, ANN003
    ax.imshow(img, cmap=cmap_, **kw)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def inputs(out: Path, data: Digits16) -> None:
    """Originals (28x28, 0..255), the 16x16 inputs in [-1, 1], and a random ±1 pixel shift of each."""
    g = gu.Generator().manual_seed(1337)  # the picks of load_digits(): the same permutation
    picks = gu.randperm(50_000, generator=g)[:8]
    originals = MNIST(split="train").data[picks].numpy()
    gu.manual_seed(0)
    shifted = random_shift(data.x_train[:8]).numpy()
    fig = Figure(figsize=(8, 3.3), layout="constrained")
    axes = fig.subplots(3, 8)
    for j in range(8):
        _show(axes[0, j], originals[j], f"label {data.y_train[j].item()}", vmin=0, vmax=255)
        _show(axes[1, j], data.x_train[j, 0].numpy(), vmin=-1, vmax=1)
        _show(axes[2, j], shifted[j, 0], vmin=-1, vmax=1)
    for row, text in enumerate(("MNIST 28x28", "16x16, [-1, 1]", "±1 px shift")):
        axes[row, 0].set_ylabel(text, fontsize=9)
    fig.suptitle("The 1989 format: bilinear shrink to 16x16, background -1, ink +1")
    save(fig, out, "lenet-inputs.png")


def kernels(out: Path, data: Digits16) -> None:
    """H1's 12 kernels at initialisation and after a short per-example training, and the 8x8 maps
    the trained ones make of one test digit."""
    gu.manual_seed(1337)
    model = LeCun1989()
    w0 = model.H1w.detach().numpy()[:, 0].copy()  # (12, 5, 5)
    small = Digits16(data.x_train[:2000], data.y_train[:2000], data.x_test[:500], data.y_test[:500])
    history = fit(model, Rung("baseline", passes=2), small)
    w = model.H1w.detach().numpy()[:, 0]  # (12, 5, 5)
    x = data.x_test[:1]  # (1, 1, 16, 16)
    with gu.no_grad():
        maps = gu.tanh(F.conv2d(F.pad(x, (2, 2, 2, 2), "constant", -1.0), model.H1w, stride=2) + model.H1b)
    maps = maps.numpy()[0]  # (12, 8, 8)
    lim = max(np.abs(w0).max(), np.abs(w).max())
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    axes = fig.subplots(3, 13)
    for row, text in enumerate(("kernel at init", "after training", "map of the digit")):
        axes[row, 1].set_ylabel(text, fontsize=8)
    _show(axes[2, 0], x.numpy()[0, 0], "input", vmin=-1, vmax=1)
    axes[0, 0].axis("off")
    axes[1, 0].axis("off")
    for k in range(12):
        _show(axes[0, k + 1], w0[k], f"{k}", cmap_="RdBu_r", vmin=-lim, vmax=lim)
        _show(axes[1, k + 1], w[k], cmap_="RdBu_r", vmin=-lim, vmax=lim)
        _show(axes[2, k + 1], maps[k], vmin=-1, vmax=1)
    fig.suptitle(f"H1's 5x5 kernels (red +, blue -) before and after 2 passes over 2,000 digits "
                 f"(test error {history['test_error'][-1]:.1%} on 500), and their 8x8 maps")
    save(fig, out, "lenet-h1-kernels.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    data = load_digits()
    inputs(out, data)
    kernels(out, data)


if __name__ == "__main__":
    main()
