"""Draw the figure of docs/transfer-learning.md: test accuracy during training on 500 Fashion-MNIST
images, from scratch and from MNIST-pretrained weights, for each way of fine-tuning.

    python docs/figures_transfer.py [outdir]        # default: docs/img

A short version of the ``fashion-transfer`` recipe, to fit in well under a minute on one core:
LeNet-5 pretrained for one epoch on 10,000 MNIST digits (the network of visualization.md), then
each variant trained for 20 epochs (batch 64, Adam, lr 2e-3 annealed by a cosine per epoch) on one
seeded subset of 500 Fashion-MNIST images, measured after every second epoch on the first 1,000 test images.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from figure_style import save  # noqa: E402  (docs/figure_style.py)
from matplotlib.figure import Figure  # noqa: E402

import groundup as gu  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup import datasets, nn, optim  # noqa: E402
from groundup.models import LeNet5  # noqa: E402
from groundup.train import metrics  # noqa: E402
from groundup.utils.data import DataLoader, TensorDataset  # noqa: E402

EPOCHS = 20
VARIANTS = ("from scratch", "linear probe", "fine-tuned", "discriminative lrs", "gradual unfreezing")


def images(u8: gu.Tensor) -> gu.Tensor:
    """uint8 (N, 28, 28) -> standardised float32 (N, 1, 28, 28), as the recipes do."""
    return ((u8.float() / 255 - 0.1307) / 0.3081).unsqueeze(1)


def accuracy(model: nn.Module, x: gu.Tensor, y: gu.Tensor) -> float:
    model.eval()
    with gu.no_grad():
        return metrics.accuracy(model(x), y)


def pretrain() -> dict:
    """One epoch of Adam on 10,000 MNIST digits, as in visualization.md."""
    mnist = datasets.MNIST(split="train")
    gu.manual_seed(0)
    model = LeNet5(activation="relu", pooling="max")
    opt = optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(TensorDataset(images(mnist.data[:10000]), mnist.targets[:10000]), batch_size=64,
                        shuffle=True, generator=gu.Generator().manual_seed(0))
    for xb, yb in loader:
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return model.state_dict()


def curve(variant: str, state: dict, x: gu.Tensor, y: gu.Tensor, x_test: gu.Tensor, y_test: gu.Tensor) -> list[float]:
    """Train one variant; its test accuracy after every second epoch."""
    gu.manual_seed(1)
    model = LeNet5(activation="relu", pooling="max")
    if variant != "from scratch":
        model.load_state_dict(state)
        model.classifier[-1] = nn.Linear(84, 10)  # a new head for the ten kinds of clothes
    head, body, features = model.classifier[-1], model.classifier[:-1], model.features
    unfreeze = {}  # epoch: (layers, lr)
    if variant in ("linear probe", "gradual unfreezing"):
        model.requires_grad_(False)
        head.requires_grad_(True)
        groups = [{"params": head.parameters()}]
        if variant == "gradual unfreezing":
            unfreeze = {EPOCHS // 3: (body, 2e-3), 2 * EPOCHS // 3: (features, 2e-4)}
    elif variant == "discriminative lrs":
        groups = [{"params": features.parameters(), "lr": 2e-4}, {"params": model.classifier.parameters()}]
    else:
        groups = [{"params": model.parameters()}]
    opt = optim.Adam(groups, lr=2e-3)
    for g in opt.param_groups:
        g["base_lr"] = g["lr"]
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, generator=gu.Generator().manual_seed(1))
    accs = []
    for epoch in range(EPOCHS):
        if epoch in unfreeze:
            layers, lr = unfreeze[epoch]
            layers.requires_grad_(True)
            opt.add_param_group({"params": layers.parameters(), "lr": lr, "base_lr": lr})
        for g in opt.param_groups:  # cosine annealing, one value per epoch
            g["lr"] = g["base_lr"] * 0.5 * (1 + math.cos(math.pi * epoch / EPOCHS))
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
        if epoch % 2 == 1:
            accs.append(accuracy(model, x_test, y_test))
    return accs


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    state = pretrain()
    train, test = datasets.FashionMNIST(train=True), datasets.FashionMNIST(train=False)
    idx = gu.randperm(train.data.shape[0], generator=gu.Generator().manual_seed(0))[:500]
    x, y = images(train.data[idx]), train.targets[idx]
    x_test, y_test = images(test.data[:1000]), test.targets[:1000]

    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    epochs = list(range(2, EPOCHS + 1, 2))
    for variant, style in zip(VARIANTS, ("ko-", "s--", "o-", "^-", "d-")):
        accs = curve(variant, state, x, y, x_test, y_test)
        print(f"{variant}: {accs[-1]:.3f} after {EPOCHS} epochs")
        ax.plot(epochs, accs, style, ms=4, label=f"{variant} ({accs[-1]:.1%})")
    for e in (EPOCHS // 3, 2 * EPOCHS // 3):
        ax.axvline(e, color="0.7", lw=0.8, ls=":")
    ax.set_ylim(0.35, 0.82)
    ax.set_xticks(epochs)
    ax.set_xlabel("epoch (8 steps each)")
    ax.set_ylabel("test accuracy (1,000 images)")
    ax.set_title("LeNet-5 on 500 Fashion-MNIST images; pretrained on 10,000 MNIST digits", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    save(fig, out, "transfer-learning-curves.png")


if __name__ == "__main__":
    main()
