"""Draw the figures of the training chapters of the docs.

Pages: gradient-descent.md, optimizers.md, lr-schedules.md, batch-norm.md, regularization.md.

    python docs/figures_part2.py [outdir]        # default: docs/img

Each figure repeats the computation its page runs (same data, seeds and settings), then draws it
with matplotlib's object API (no pyplot, no window). It takes about half a minute on a laptop CPU.
Every file is named after its page (``optimizers-rosenbrock.png`` belongs to optimizers.md).
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
from groundup import nn, optim  # noqa: E402
from groundup import transforms as T  # noqa: E402
from groundup.datasets import MNIST, digits, linear, moons, spirals  # noqa: E402
from groundup.models import MLP  # noqa: E402
from groundup.optim import lr_scheduler  # noqa: E402
from groundup.plot import plot_decision_boundary, plot_lr_schedule  # noqa: E402
from groundup.train import Trainer, lr_finder, plot_lr_finder  # noqa: E402
from groundup.utils.data import DataLoader, TensorDataset  # noqa: E402


# ----------------------------------------------------------------------------- gradient-descent.md
def gradient_descent(out: Path) -> None:
    """The full-data loss after every update, for batch sizes N, 128 and 1 (section 4's runs)."""
    X, y = linear(n=1024, dim=5, noise=0.1, generator=0)
    y = y.unsqueeze(1)
    dataset = TensorDataset(X, y)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for b, style in ((len(dataset), "o-"), (128, ".-"), (1, "-")):
        gu.manual_seed(0)
        model = nn.Linear(5, 1)
        opt = optim.SGD(model.parameters(), lr=0.05)
        loader = DataLoader(dataset, batch_size=b, shuffle=True, generator=gu.Generator().manual_seed(0))
        with gu.no_grad():
            losses = [F.mse_loss(model(X), y).item()]
        for _ in range(5):
            for xb, yb in loader:
                opt.zero_grad()
                F.mse_loss(model(xb), yb).backward()
                opt.step()
                with gu.no_grad():
                    losses.append(F.mse_loss(model(X), y).item())
        epochs = np.arange(len(losses)) / len(loader)  # x axis in epochs
        ax.plot(
            epochs,
            losses,
            style,
            lw=1 if b == 1 else 1.5,
            ms=4,
            label=f"batch size {b} ({len(losses) - 1} updates)",
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error on all 1024 examples")
    ax.set_title("SGD, lr 0.05: full-batch, mini-batch and online")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, out, "gradient-descent-batch-size.png")


# ----------------------------------------------------------------------------- optimizers.md
def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


OPTIMIZERS = {  # the same learning rates as the table in optimizers.md, section 12
    "SGD, lr 1e-3": lambda ps: optim.SGD(ps, lr=1e-3),
    "SGD momentum 0.9, lr 1e-3": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
    "SGD Nesterov 0.9, lr 1e-3": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True),
    "Adagrad, lr 1": lambda ps: optim.Adagrad(ps, lr=1.0),
    "Adadelta, lr 0.3": lambda ps: optim.Adadelta(ps, lr=0.3),
    "RMSprop, lr 1e-2": lambda ps: optim.RMSprop(ps, lr=1e-2),
    "RMSprop centered, lr 1e-2": lambda ps: optim.RMSprop(ps, lr=1e-2, centered=True),
    "Adam, lr 0.1": lambda ps: optim.Adam(ps, lr=0.1),
    "AdamW, lr 0.1": lambda ps: optim.AdamW(ps, lr=0.1),
    "Adamax, lr 0.3": lambda ps: optim.Adamax(ps, lr=0.3),
    "NAdam, lr 3e-2": lambda ps: optim.NAdam(ps, lr=3e-2),
}


def optimizers(out: Path) -> None:
    """The path of each optimizer on the Rosenbrock function, from (-1.2, 1), 1000 steps."""
    xs, ys = np.meshgrid(np.linspace(-1.8, 1.6, 300), np.linspace(-0.6, 2.4, 300))
    zs = rosenbrock(xs, ys)
    levels = [0.1, 0.5, 2, 5, 15, 40, 100, 250]
    fig = Figure(figsize=(11.5, 8.5), layout="constrained")
    axes = fig.subplots(3, 4, sharex=True, sharey=True).ravel()
    for ax, (name, make) in zip(axes, OPTIMIZERS.items()):
        p = gu.tensor([-1.2, 1.0], dtype=gu.float64, requires_grad=True)
        opt = make([p])
        path = [p.tolist()]
        for _ in range(1000):
            opt.zero_grad()
            rosenbrock(p[0], p[1]).backward()
            opt.step()
            path.append(p.tolist())
        path = np.array(path)
        ax.contour(xs, ys, zs, levels=levels, colors="0.6", linewidths=0.5)
        ax.plot(path[:, 0], path[:, 1], "-", color="tab:blue", lw=1.2)
        ax.plot(path[::100, 0], path[::100, 1], "o", color="tab:blue", ms=3)
        ax.plot([-1.2], [1.0], "ks", ms=5)
        ax.plot([1.0], [1.0], "r*", ms=10)
        ax.set_title(f"{name}\nf = {rosenbrock(*path[-1]):.1e} after 1000 steps", fontsize=9)
        ax.set_xlim(-1.8, 1.6)
        ax.set_ylim(-0.6, 2.4)
    last = axes[-1]
    last.axis("off")
    last.text(
        0.05,
        0.5,
        "square: start (-1.2, 1)\nstar: minimum (1, 1)\ndots: every 100 steps\n"
        "grey: contours f = 0.1, 0.5, 2, 5,\n    15, 40, 100, 250",
        transform=last.transAxes,
        fontsize=10,
        va="center",
    )
    fig.suptitle("Rosenbrock function f(x, y) = (1 - x)**2 + 100 (y - x**2)**2")
    save(fig, out, "optimizers-rosenbrock.png", colors=32)  # many thin grey lines: keep it small


# ----------------------------------------------------------------------------- lr-schedules.md
def record(make_scheduler, steps, lr=0.1, momentum=False):
    """The lr (and the momentum) at each of the first ``steps`` steps, as the page's ``record``."""
    w = gu.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=lr, momentum=0.9)
    scheduler = make_scheduler(opt)
    lrs, moms = [], []
    for _ in range(steps):
        lrs.append(scheduler.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        scheduler.step()
    return (lrs, moms) if momentum else lrs


def lr_schedules(out: Path) -> None:
    n = 100
    S = lr_scheduler
    schedules = {
        "StepLR(step_size=20, gamma=0.5)": lambda o: S.StepLR(o, step_size=20, gamma=0.5),
        "MultiStepLR([50, 75], gamma=0.1)": lambda o: S.MultiStepLR(o, milestones=[50, 75], gamma=0.1),
        "ExponentialLR(gamma=0.97)": lambda o: S.ExponentialLR(o, gamma=0.97),
        "CosineAnnealingLR(T_max=100)": lambda o: S.CosineAnnealingLR(o, T_max=100),
        "CosineAnnealingWarmRestarts(T_0=10, T_mult=2)": lambda o: S.CosineAnnealingWarmRestarts(
            o, T_0=10, T_mult=2
        ),
        "LinearLR warm-up (10), then cosine": lambda o: S.SequentialLR(
            o,
            [S.LinearLR(o, start_factor=0.1, total_iters=10), S.CosineAnnealingLR(o, T_max=90)],
            milestones=[10],
        ),
        "CyclicLR triangular": lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10),
        "CyclicLR triangular2": lambda o: S.CyclicLR(
            o, base_lr=0.01, max_lr=0.1, step_size_up=10, mode="triangular2"
        ),
        "CyclicLR exp_range(gamma=0.98)": lambda o: S.CyclicLR(
            o, base_lr=0.01, max_lr=0.1, step_size_up=10, mode="exp_range", gamma=0.98
        ),
        "OneCycleLR(max_lr=0.1)": lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=n),
        "OneCycleLR(three_phase=True)": lambda o: S.OneCycleLR(
            o, max_lr=0.1, total_steps=n, three_phase=True
        ),
        "LambdaLR(1 / (1 + t/10))": lambda o: S.LambdaLR(o, lambda t: 1 / (1 + t / 10)),
    }
    fig = Figure(figsize=(13, 8.5), layout="constrained")
    axes = fig.subplots(3, 4, sharex=True, sharey=True).ravel()
    for ax, (name, make) in zip(axes, schedules.items()):
        plot_lr_schedule(record(make, n), ax=ax, title=name)
        ax.title.set_fontsize(9)
        ax.set_ylim(0, 0.105)
    fig.suptitle("learning rate at each step, starting from lr = 0.1")
    save(fig, out, "lr-schedules-schedules.png")

    # learning rate and momentum of the cyclical schedules
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    cyc = [
        ("OneCycleLR(max_lr=0.1, total_steps=100)", lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=n)),
        (
            "CyclicLR(0.01, 0.1, step_size_up=10)",
            lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10),
        ),
    ]
    for ax, (name, make) in zip(axes, cyc):
        lrs, moms = record(make, n, momentum=True)
        ax.plot(lrs, color="tab:blue", label="learning rate")
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate", color="tab:blue")
        ax.grid(alpha=0.3)
        twin = ax.twinx()
        twin.plot(moms, color="tab:orange", ls="--", label="momentum")
        twin.set_ylabel("momentum", color="tab:orange")
        ax.set_title(name, fontsize=10)
    save(fig, out, "lr-schedules-momentum.png")

    # the LR range test of section 11
    X, y = digits()
    dataset = TensorDataset(X.double(), y)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, generator=gu.Generator().manual_seed(0))
    gu.manual_seed(0)
    model = MLP(64, [64], 10).double()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    lrs, losses = lr_finder(model, opt, F.cross_entropy, loader, start_lr=1e-4, end_lr=10, num_iters=100)
    path = plot_lr_finder(lrs, losses, out / "lr-schedules-lr-finder.png")  # the library's own plot
    print(f"wrote {path} ({Path(path).stat().st_size // 1024} KB)")


# ----------------------------------------------------------------------------- batch-norm.md
def batch_norm(out: Path) -> None:
    """Loss curves of the deep sigmoid/tanh MLP of section 6, with and without batch norm."""
    X, y = spirals(100, classes=3, noise=0.2, generator=0)
    X = X.double()
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, (activation, lr) in zip(axes, (("sigmoid", 0.1), ("sigmoid", 1.0), ("tanh", 1.0))):
        for batch_norm in (False, True):
            gu.manual_seed(0)
            model = MLP(2, [32] * 6, 3, activation=activation, batch_norm=batch_norm).double()
            opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
            losses = []
            for _ in range(300):
                opt.zero_grad()
                loss = F.cross_entropy(model(X), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            ax.plot(losses, label="with batch norm" if batch_norm else "without")
        ax.set_yscale("log")
        ax.set_ylim(5e-3, 100)
        ax.set_title(f"6 hidden {activation} layers, SGD lr {lr}, momentum 0.9", fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("training loss")
    save(fig, out, "batch-norm-deep-mlp.png")


# ----------------------------------------------------------------------------- regularization.md
def regularization(out: Path) -> None:
    X_train, y_train = moons(40, noise=0.35, generator=1)
    X_val, y_val = moons(1000, noise=0.35, generator=2)
    X_train, X_val = X_train.double(), X_val.double()

    # decision boundaries: none, L2, dropout (sections 1, 2 and 4)
    fig = Figure(figsize=(13, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    runs = (
        ("no regularization", 0.0, 0.0),
        ("L2, weight_decay=1e-2", 0.0, 1e-2),
        ("dropout p=0.5", 0.5, 0.0),
    )
    for ax, (name, p, wd) in zip(axes, runs):
        gu.manual_seed(0)
        model = MLP(2, [128, 128], 2, dropout=p).double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=wd)
        for _ in range(500):
            model.train()
            opt.zero_grad()
            F.cross_entropy(model(X_train), y_train).backward()
            opt.step()
        model.eval()
        plot_decision_boundary(
            model, X_train, y_train, ax=ax, resolution=150, title=f"{name} (40 training points)"
        )
    save(fig, out, "regularization-boundaries.png")

    # early stopping (section 5): the losses of the full 500-epoch run
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=40)
    val_loader = DataLoader(TensorDataset(X_val, y_val), batch_size=1000)
    gu.manual_seed(0)
    model = MLP(2, [128, 128], 2).double()
    trainer = Trainer(
        model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), F.cross_entropy, progress=None
    )
    history = trainer.fit(train_loader, epochs=500, val_loader=val_loader)
    val = history["val_loss"]
    best = int(np.argmin(val))
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(history["epoch"], history["train_loss"], label="training loss")
    ax.plot(history["epoch"], val, label="validation loss")
    ax.axvline(best + 1, color="k", ls="--", lw=1)
    ax.annotate(
        f"best validation loss, epoch {best + 1}\n(EarlyStopping(patience=20) stops at {best + 21})",
        (best + 1, val[best]),
        xytext=(best + 40, 1.2),
        arrowprops={"arrowstyle": "->"},
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title("MLP 2-128-128-2 on 40 points, no regularization")
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, out, "regularization-early-stopping.png")

    # data augmentation (section 6): some digits and random versions of them
    X_all, y_all = MNIST(train=True).tensors()
    augment = T.Compose([T.RandomShift(2), T.RandomRotation(10)])
    gu.manual_seed(0)
    originals = X_all[:6]
    versions = [augment(originals) for _ in range(5)]
    fig = Figure(figsize=(7, 7.4), layout="constrained")
    axes = fig.subplots(6, 6)
    for i in range(6):
        for j, img in enumerate([originals] + versions):
            ax = axes[i, j]
            ax.imshow(img[i, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("original" if j == 0 else f"random {j}", fontsize=9)
    fig.suptitle("RandomShift(2) then RandomRotation(10), drawn anew for every image")
    save(fig, out, "regularization-augmentation.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    gradient_descent(out)
    optimizers(out)
    lr_schedules(out)
    batch_norm(out)
    regularization(out)


if __name__ == "__main__":
    main()
