"""Draw the figures of the CNN chapters of the docs.

Pages: convolution.md, pooling.md, cnn-architectures.md, modern-cnns.md and the "Batch norm in
CNNs" section of batch-norm.md.

    python docs/figures_cnn.py [outdir]        # default: docs/img

Each figure repeats the computation its page describes (same kernels, models and settings), then
draws it with matplotlib's object API (no pyplot, no window). It takes about half a minute on one
laptop core. Every file is named after its page (``pooling-max-vs-avg.png`` belongs to pooling.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from figure_style import save  # noqa: E402  (docs/figure_style.py)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import groundup as gu  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup.datasets import MNIST  # noqa: E402
from groundup.models import LeNet5, resnet18  # noqa: E402

# Top-1 accuracy (ImageNet validation, 224x224 centre crop), parameters and multiply-adds of
# torchvision's IMAGENET1K_V1 weights, from torchvision's model documentation
# (https://pytorch.org/vision/stable/models.html); the same table is in modern-cnns.md, section 8.
PUBLISHED = [  # name, year, parameters (millions), multiply-adds (billions), top-1 (%)
    ("AlexNet", 2012, 61.1, 0.71, 56.5),
    ("VGG-16", 2014, 138.4, 15.47, 71.6),
    ("ResNet-18", 2015, 11.7, 1.81, 69.8),
    ("ResNet-34", 2015, 21.8, 3.66, 73.3),
    ("ResNet-50", 2015, 25.6, 4.09, 76.1),
    ("DenseNet-121", 2017, 8.0, 2.83, 74.4),
    ("MobileNetV2", 2018, 3.5, 0.30, 71.9),
    ("EfficientNet-B0", 2019, 5.3, 0.39, 77.7),
]


def digit() -> gu.Tensor:
    """The first MNIST test image, as a float (1, 1, 28, 28) tensor in [0, 1]."""
    return MNIST(split="test").data[:1].float().unsqueeze(1) / 255.0


def show(ax, image: np.ndarray, title: str, cmap: str = "gray", symmetric: bool = False) -> None:
    """An image without ticks; ``symmetric`` centres a diverging colour map on 0."""
    if symmetric:
        m = float(np.abs(image).max()) or 1.0
        ax.imshow(image, cmap=cmap, vmin=-m, vmax=m)
    else:
        ax.imshow(image, cmap=cmap)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


# ----------------------------------------------------------------------------- convolution.md
def convolution_edge_kernel(out: Path, x: gu.Tensor) -> None:
    """A digit and its Sobel feature maps: vertical edges, horizontal edges, and the edge magnitude."""
    sobel_x = gu.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernels = gu.stack([sobel_x, sobel_x.T]).unsqueeze(1)  # (2, 1, 3, 3): two output channels
    maps = F.conv2d(x, kernels, padding=1)[0].numpy()  # (2, 28, 28)
    fig = Figure(figsize=(10, 2.9), layout="constrained")
    axes = fig.subplots(1, 4)
    show(axes[0], x[0, 0].numpy(), "input digit (28x28)")
    show(axes[1], maps[0], "Sobel x: vertical edges", "RdBu_r", symmetric=True)
    show(axes[2], maps[1], "Sobel y (its transpose):\nhorizontal edges", "RdBu_r", symmetric=True)
    show(axes[3], np.hypot(maps[0], maps[1]), "edge strength\nsqrt(x² + y²)", "magma")
    fig.suptitle("One 3x3 kernel per output channel, the same at every position (padding 1: 28x28 out)")
    save(fig, out, "convolution-edge-kernel.png")


def convolution_geometry(out: Path) -> None:
    """Along one axis: where the windows of a 3-tap kernel sit for three stride/padding/dilation settings."""
    settings = [  # (H, k, s, p, d)
        (7, 3, 1, 1, 1),
        (7, 3, 2, 1, 1),
        (7, 3, 1, 0, 2),
    ]
    fig = Figure(figsize=(9, 6.2), layout="constrained")
    axes = fig.subplots(len(settings), 1)
    for ax, (h, k, s, p, d) in zip(axes, settings):
        n_out = (h + 2 * p - d * (k - 1) - 1) // s + 1
        for pos in range(h + 2 * p):  # the padded input: padding in grey, real pixels in white
            pad = pos < p or pos >= h + p
            ax.add_patch(Rectangle((pos, 0), 0.9, 0.9, facecolor="0.85" if pad else "white", edgecolor="0.3"))
            ax.text(pos + 0.45, 0.45, "0" if pad else f"x{pos - p}", ha="center", va="center", fontsize=9)
        for i in range(n_out):  # window i: taps at s·i + d·t of the padded input, drawn on their own row
            y = -1.0 - 0.55 * i
            taps = [s * i + d * t for t in range(k)]
            ax.plot([taps[0] + 0.45, taps[-1] + 0.45], [y + 0.2, y + 0.2], "-", color="tab:blue", lw=1)
            ax.plot([t + 0.45 for t in taps], [y + 0.2] * k, "o", color="tab:blue", ms=6)
            ax.text(-0.6, y + 0.2, f"y{i}", ha="right", va="center", fontsize=9, color="tab:blue")
        ax.set_xlim(-1.6, h + 2 * p + 0.5)
        ax.set_ylim(-1.0 - 0.55 * n_out, 1.1)
        ax.axis("off")
        ax.set_title(
            f"H={h}, k={k}, stride {s}, padding {p}, dilation {d}:  "
            f"Ho = floor(({h} + 2·{p} − {d}·({k} − 1) − 1) / {s}) + 1 = {n_out}",
            fontsize=10, loc="left",
        )
    save(fig, out, "convolution-geometry.png")


# ----------------------------------------------------------------------------- pooling.md
def pooling_max_vs_avg(out: Path, x: gu.Tensor) -> None:
    """A digit after 2x2 and 4x4 max and average pooling."""
    fig = Figure(figsize=(10, 2.8), layout="constrained")
    axes = fig.subplots(1, 5)
    show(axes[0], x[0, 0].numpy(), "input (28x28)")
    for ax, (name, k) in zip(axes[1:], [("max", 2), ("average", 2), ("max", 4), ("average", 4)]):
        pool = F.max_pool2d if name == "max" else F.avg_pool2d
        y = pool(x, k)[0, 0].numpy()
        show(ax, y, f"{k}x{k} {name} pool ({y.shape[0]}x{y.shape[1]})")
    save(fig, out, "pooling-max-vs-avg.png")


# ----------------------------------------------------------------------------- cnn-architectures.md
def cnn_architectures_receptive_field(out: Path) -> None:
    """|d unit / d input| for LeNet-5's S4 unit (2, 2) and the central units of ResNet-18's layer2 and layer4.

    The boxes are the theoretical receptive fields of cnn-architectures.md, section 3; ResNet-18's
    maps are averaged over 8 random images (evaluation mode), and its layer-4 field (435 pixels) is
    larger than the 224-pixel image.
    """
    gu.manual_seed(0)
    lenet = LeNet5(padding=0).double()
    x = gu.randn(1, 1, 32, 32, dtype=gu.float64, requires_grad=True)
    lenet.features(x)[0, :, 2, 2].sum().backward()
    panels = [(np.abs(x.grad[0, 0].numpy()), 32, 8, 16, "LeNet-5, S4 unit (2, 2):\nfield 16x16 (rows 8..23)")]

    model = resnet18().eval()
    images = gu.randn(8, 3, 224, 224, requires_grad=True)
    h = model.maxpool(model.relu(model.bn1(model.conv1(images))))  # (8, 64, 56, 56)
    l2 = model.layer2(model.layer1(h))  # (8, 128, 28, 28)
    l4 = model.layer4(model.layer3(l2))  # (8, 512, 7, 7)
    for name, fmap, jump, field in [("layer2", l2, 8, 99), ("layer4", l4, 32, 435)]:
        images.grad = None
        centre = fmap.shape[-1] // 2
        fmap[:, :, centre, centre].sum().backward(retain_graph=name == "layer2")
        grad = np.abs(images.grad.numpy()).sum(axis=1).mean(axis=0)  # (224, 224)
        start = centre * jump - (field - 1) // 2
        beyond = " (beyond the image)" if field > 224 else ""
        panels.append((grad, 224, start, field,
                       f"ResNet-18 {name}, centre unit:\nfield {field}x{field}{beyond}, jump {jump}"))

    fig = Figure(figsize=(11, 4.0), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (grad, size, start, field, title) in zip(axes, panels):
        ax.imshow(grad, cmap="magma")
        ax.add_patch(Rectangle((start - 0.5, start - 0.5), field, field, fill=False, edgecolor="cyan", lw=1.5))
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(size - 0.5, -0.5)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("|gradient of one unit w.r.t. the input| (bright = large); cyan: the theoretical receptive field")
    save(fig, out, "cnn-architectures-receptive-field.png")


# ----------------------------------------------------------------------------- modern-cnns.md
def modern_cnns_depthwise_cost(out: Path) -> None:
    """Depthwise separable / standard cost, 1/C_out + 1/k², against the kernel size."""
    ks = np.arange(1, 10)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for c_out in (16, 64, 256, 1024):
        ax.plot(ks, 1 / c_out + 1 / ks**2, "o-", ms=4, label=f"C_out = {c_out}")
    ax.plot(ks, 1 / ks**2, "k--", lw=1, label="1/k² (C_out → ∞)")
    ax.set_yscale("log")
    ax.set_xlabel("kernel size k")
    ax.set_ylabel("separable / standard multiply-adds")
    ax.set_title("Depthwise k×k + pointwise 1×1 instead of one k×k convolution")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save(fig, out, "modern-cnns-depthwise-cost.png")


def modern_cnns_params_vs_top1(out: Path) -> None:
    """Published parameters and multiply-adds against ImageNet top-1 accuracy."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, column, label in [(axes[0], 2, "parameters (millions)"), (axes[1], 3, "multiply-adds per image (billions)")]:
        xs = [row[column] for row in PUBLISHED]
        ys = [row[4] for row in PUBLISHED]
        ax.scatter(xs, ys, c=[row[1] for row in PUBLISHED], cmap="viridis", s=50, zorder=3)
        for row, x, y in zip(PUBLISHED, xs, ys):
            ax.annotate(f"{row[0]} ({row[1]})", (x, y), textcoords="offset points", xytext=(6, -3), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(label + ", log scale")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("ImageNet top-1 accuracy (%)")
    fig.suptitle("torchvision's published numbers (IMAGENET1K_V1 weights); colour: year")
    save(fig, out, "modern-cnns-params-vs-top1.png")


# ----------------------------------------------------------------------------- batch-norm.md
def batch_norm_norm_axes(out: Path) -> None:
    """Which values of an (N, C, H·W) batch share one mean and variance, for four normalizations.

    Each panel is a grid of N = 4 samples by C = 6 channels; each cell stands for the H·W values of
    one channel of one sample. The values of one shaded block are normalised together.
    """
    n, c = 4, 6
    cases = {  # name: a function (sample, channel) -> the id of the statistic it uses
        "batch norm\n(N, H, W) per channel": lambda i, j: j,
        "layer norm\n(C, H, W) per sample": lambda i, j: i,
        "instance norm\n(H, W) per sample and channel": lambda i, j: i * c + j,
        "group norm, G = 3\n(C/G, H, W) per sample and group": lambda i, j: i * 3 + j // 2,
    }
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, 4)
    for ax, (name, stat) in zip(axes, cases.items()):
        for i in range(n):
            for j in range(c):
                # highlight the statistic of sample 1, channel 2; every other block in light shades
                highlight = stat(i, j) == stat(1, 2)
                shade = "tab:orange" if highlight else ("0.92" if stat(i, j) % 2 else "0.78")
                ax.add_patch(Rectangle((j, n - 1 - i), 0.95, 0.95, facecolor=shade, edgecolor="white"))
        ax.set_xlim(-0.1, c)
        ax.set_ylim(-0.1, n)
        ax.set_aspect("equal")
        ax.set_xticks(np.arange(c) + 0.47, [str(j) for j in range(c)], fontsize=8)
        ax.set_yticks(np.arange(n) + 0.47, [str(i) for i in reversed(range(n))], fontsize=8)
        ax.set_xlabel("channel c (each cell: all H·W positions)", fontsize=8)
        ax.set_ylabel("sample n", fontsize=8)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(name, fontsize=10)
    fig.suptitle("Values normalised together with sample 1, channel 2 (orange); grey blocks: the other statistics")
    save(fig, out, "batch-norm-norm-axes.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    x = digit()
    convolution_edge_kernel(out, x)
    convolution_geometry(out)
    pooling_max_vs_avg(out, x)
    cnn_architectures_receptive_field(out)
    modern_cnns_depthwise_cost(out)
    modern_cnns_params_vs_top1(out)
    batch_norm_norm_axes(out)


if __name__ == "__main__":
    main()
