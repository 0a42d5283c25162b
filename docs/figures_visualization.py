"""Draw the figures of docs/visualization.md.

    python docs/figures_visualization.py [outdir]        # default: docs/img

It trains the page's LeNet-5 again (the same 10,000 MNIST images, seed and settings: one epoch of
Adam, a few seconds), then draws its first-layer filters, the feature maps of one test digit at
every depth, and saliency maps, with ``groundup.plot`` and matplotlib's object API (no pyplot).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from figure_style import save  # noqa: E402  (docs/figure_style.py)
from matplotlib.figure import Figure  # noqa: E402

import groundup as gu  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup import datasets, optim  # noqa: E402
from groundup.interpret import feature_maps, gradient_x_input, saliency, smooth_grad  # noqa: E402
from groundup.models import LeNet5  # noqa: E402
from groundup.plot import plot_feature_maps, plot_filters, plot_saliency  # noqa: E402
from groundup.utils.data import DataLoader, TensorDataset  # noqa: E402


def images(u8: gu.Tensor) -> gu.Tensor:
    """uint8 (N, 28, 28) -> standardised float32 (N, 1, 28, 28), as on the page."""
    return ((u8.float() / 255 - 0.1307) / 0.3081).unsqueeze(1)


def trained_lenet() -> tuple[LeNet5, gu.Tensor, gu.Tensor, gu.Tensor]:
    """The page's model (one epoch of Adam on 10,000 MNIST images), its C1 at init, and 1,000 test digits."""
    train, test = datasets.MNIST(split="train"), datasets.MNIST(split="test")
    x_train, y_train = images(train.data[:10000]), train.targets[:10000]
    gu.manual_seed(0)
    model = LeNet5(activation="relu", pooling="max")
    init_c1 = model.features[0].weight.detach().clone()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                        generator=gu.Generator().manual_seed(0))
    for xb, yb in loader:
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    model.eval()
    return model, init_c1, images(test.data[:1000]), test.targets[:1000]


def filters(out: Path, model: LeNet5, init_c1: gu.Tensor) -> None:
    """C1's six 5x5 filters at initialisation and after one epoch, and C3's 16x6 ones."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.1])
    top, bottom = left.subplots(2, 1)
    plot_filters(init_c1, ax=top, title="C1 at initialisation")
    plot_filters(model.features[0], ax=bottom, title="C1 after one epoch")
    plot_filters(model.features[3], ax=right.subplots(), title="C3 after one epoch (row: filter, column: C1 map)")
    save(fig, out, "visualization-filters.png")


def maps(out: Path, model: LeNet5, x_test: gu.Tensor) -> None:
    """The feature maps of one test digit after C1, S2, C3 and S4 (ReLU applied)."""
    x = x_test[:1]
    layers = {"features.1": "C1 + ReLU: 6 @ 28x28", "features.2": "S2 (max pool): 6 @ 14x14",
              "features.4": "C3 + ReLU: 16 @ 10x10", "features.5": "S4 (max pool): 16 @ 5x5"}
    fm = feature_maps(model, x, list(layers))
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 5, width_ratios=[0.7, 1, 1, 1.3, 1.3])
    axes[0].imshow(x[0, 0].numpy(), cmap="gray")
    axes[0].set_title("input 28x28", fontsize=10)
    axes[0].set_axis_off()
    for ax, (name, label) in zip(axes[1:], layers.items()):
        plot_feature_maps(fm[name][0], ax=ax, ncols=2 if fm[name].shape[1] == 6 else 4)
        ax.set_title(label, fontsize=10)
    save(fig, out, "visualization-feature-maps.png")


def saliency_maps(out: Path, model: LeNet5, x_test: gu.Tensor) -> None:
    """Eight test digits with their saliency maps; then saliency, SmoothGrad and gradient x input."""
    x = x_test[:8]
    with gu.no_grad():
        pred = model(x).argmax(dim=1)
    fig = Figure(figsize=(10, 2.8), layout="constrained")
    plot_saliency(x, saliency(model, x), ax=fig.subplots(2, 8), labels=[f"predicted {int(p)}" for p in pred])
    save(fig, out, "visualization-saliency.png")

    x = x_test[:5]
    rows = {"saliency |∂S/∂x|": saliency(model, x),
            "SmoothGrad (25 samples, σ 15%)": smooth_grad(model, x, generator=gu.Generator().manual_seed(0)),
            "gradient x input": gradient_x_input(model, x)}
    fig = Figure(figsize=(8, 6.6), layout="constrained")
    axes = fig.subplots(4, 5)
    for j in range(5):
        axes[0, j].imshow(x[j, 0].numpy(), cmap="gray")
        for i, (label, m) in enumerate(rows.items(), start=1):
            a = m[j].numpy()
            if label.startswith("gradient x"):  # signed: red adds to the score, blue takes away
                peak = abs(a).max()
                axes[i, j].imshow(a, cmap="RdBu_r", vmin=-peak, vmax=peak)
            else:
                axes[i, j].imshow(a, cmap="hot", vmin=0, vmax=a.max())
            if j == 0:
                axes[i, j].set_title(label, fontsize=10, loc="left")
    for ax in axes.ravel():
        ax.set_axis_off()
    save(fig, out, "visualization-saliency-methods.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    model, init_c1, x_test, _ = trained_lenet()
    filters(out, model, init_c1)
    maps(out, model, x_test)
    saliency_maps(out, model, x_test)


if __name__ == "__main__":
    main()
