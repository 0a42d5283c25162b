"""Draw the figures of the first chapters of the docs.

Pages: perceptron.md, logistic-softmax-regression.md, activations.md, initialization.md.

    python docs/figures_part1.py [outdir]        # default: docs/img

Each figure repeats the computation its page runs (same data, seeds and settings), then draws it
with matplotlib's object API (no pyplot, no window). It takes a few seconds on a laptop CPU.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

import groundup as gu  # noqa: E402
import groundup.nn.functional as F  # noqa: E402
from groundup import nn  # noqa: E402
from groundup.datasets import digits, toy  # noqa: E402
from groundup.models import MLP, LogisticRegression, Perceptron, SoftmaxRegression  # noqa: E402
from groundup.plot import plot_decision_boundary, plot_weights_as_images  # noqa: E402

DPI = 80


def save(fig: Figure, out: Path, name: str) -> None:
    path = out / name
    fig.savefig(path, format="png", dpi=DPI, bbox_inches="tight")
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


# ----------------------------------------------------------------------------- perceptron.md
def perceptron(out: Path) -> None:
    gu.manual_seed(2)
    X, y = toy.linearly_separable(200, margin=0.02)
    p = Perceptron(2)
    p.fit(X, y)

    X_xor, y_xor = toy.xor()
    p_xor = Perceptron(2)
    p_xor.fit(X_xor, y_xor, epochs=8)

    gu.manual_seed(0)
    mlp = MLP(2, [4], 1, activation="tanh")
    opt = gu.optim.Adam(mlp.parameters(), lr=0.05)
    for _ in range(301):
        loss = F.binary_cross_entropy_with_logits(mlp(X_xor).squeeze(-1), y_xor.float())
        opt.zero_grad()
        loss.backward()
        opt.step()

    fig = Figure(figsize=(12, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    plot_decision_boundary(p, X, y, ax=axes[0], resolution=150, title="perceptron, separable data")
    plot_decision_boundary(
        p_xor, X_xor, y_xor, ax=axes[1], resolution=150, padding=0.3, title="perceptron on XOR: no line works"
    )
    plot_decision_boundary(
        mlp, X_xor, y_xor, ax=axes[2], resolution=150, padding=0.3, title="MLP(2, [4], 1) on XOR"
    )
    save(fig, out, "perceptron-boundaries.png")


# -------------------------------------------------------------- logistic-softmax-regression.md
def logistic_softmax(out: Path) -> None:
    gu.manual_seed(0)
    X, y = toy.blobs(200, centers=2, std=2.0)
    model = LogisticRegression(2)
    opt = gu.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(101):
        loss = F.binary_cross_entropy_with_logits(model(X), y.float())
        opt.zero_grad()
        loss.backward()
        opt.step()

    gu.manual_seed(0)
    X3, y3 = toy.spirals(100, classes=3)
    soft = SoftmaxRegression(2, 3)
    opt = gu.optim.Adam(soft.parameters(), lr=0.05)
    for _ in range(300):
        loss = F.cross_entropy(soft(X3), y3)
        opt.zero_grad()
        loss.backward()
        opt.step()

    fig = Figure(figsize=(8, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    plot_decision_boundary(model, X, y, ax=axes[0], resolution=150, title="logistic regression, 2 blobs")
    plot_decision_boundary(soft, X3, y3, ax=axes[1], resolution=150, title="softmax regression, 3 spirals")
    save(fig, out, "logistic-softmax-regression-boundaries.png")

    Xd, yd = digits()
    gu.manual_seed(0)
    perm = gu.randperm(len(yd))
    train = perm[:1500]
    sm = SoftmaxRegression(64, 10)
    opt = gu.optim.Adam(sm.parameters(), lr=0.05)
    for _ in range(101):
        loss = F.cross_entropy(sm(Xd[train]), yd[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
    fig = Figure(figsize=(9, 1.5))
    ax = fig.subplots()
    plot_weights_as_images(
        sm.linear,
        shape=(8, 8),
        ncols=10,
        ax=ax,
        title="softmax regression weights, classes 0 to 9 (red: evidence for)",
    )
    save(fig, out, "logistic-softmax-regression-digit-weights.png")


# ----------------------------------------------------------------------------- activations.md
ACTIVATIONS = {
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "leaky_relu(0.1)": lambda x: F.leaky_relu(x, 0.1),
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
}


def deep_grad_norms(act: type, depth: int = 20, width: int = 64, std: float | None = None) -> list[float]:
    """The norm of dL/dW for each of ``depth`` hidden layers, weights N(0, std**2), at init."""
    gu.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        lin = nn.Linear(width, width)
        nn.init.normal_(lin.weight, std=std if std is not None else 1 / math.sqrt(width))
        nn.init.zeros_(lin.bias)
        layers += [lin, act()]
    net = nn.Sequential(*layers, nn.Linear(width, 10))
    x = gu.randn(128, width)
    y = gu.randint(0, 10, (128,))
    F.cross_entropy(net(x), y).backward()
    return [net[2 * i].weight.grad.norm().item() for i in range(depth)]


def activations(out: Path) -> None:
    x = gu.linspace(-4, 4, 401, requires_grad=True)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2)
    for name, f in ACTIVATIONS.items():
        x.grad = None
        z = f(x)
        z.sum().backward()  # d(sum z)/dx_i = f'(x_i): the derivative at every point at once
        ax_f.plot(x.detach().numpy(), z.detach().numpy(), label=name)
        ax_d.plot(x.detach().numpy(), x.grad.numpy(), label=name)
    ax_f.set_title("activation f(x)")
    ax_d.set_title("derivative f'(x)")
    ax_f.set_ylim(-1.5, 4)
    ax_d.set_ylim(-0.2, 1.3)
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    ax_f.legend(fontsize=8)
    save(fig, out, "activations-curves.png")

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    runs = {
        "sigmoid": deep_grad_norms(nn.Sigmoid),
        "tanh": deep_grad_norms(nn.Tanh),
        "relu": deep_grad_norms(nn.ReLU),
        "relu, He init": deep_grad_norms(nn.ReLU, std=math.sqrt(2 / 64)),
    }
    for name, norms in runs.items():
        ax.semilogy(range(1, 21), norms, marker="o", ms=3, label=name)
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("|dL/dW| at initialization")
    ax.set_title("gradient norm per layer, 20 hidden layers of width 64")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    save(fig, out, "activations-grad-norms.png")


# --------------------------------------------------------------------------- initialization.md
def activation_stds(act, init, depth: int = 30, width: int = 128) -> list[float]:
    """Std of each layer's output for a ``depth``-layer network, weights filled by ``init``."""
    gu.manual_seed(0)
    x = gu.randn(256, width)
    stds = []
    with gu.no_grad():
        for _ in range(depth):
            lin = nn.Linear(width, width)
            if init is not None:  # None: keep nn.Linear's default init (bias included)
                init(lin.weight)
                nn.init.zeros_(lin.bias)
            x = act(lin(x))
            stds.append(x.double().std().item())
    return stds


INITS = {
    "N(0, 1)": lambda w: nn.init.normal_(w, std=1.0),
    "N(0, 0.01**2)": lambda w: nn.init.normal_(w, std=0.01),
    "default": None,
    "xavier": nn.init.xavier_normal_,
    "xavier, gain 5/3": lambda w: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh")),
    "kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}


def initialization(out: Path) -> None:
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (name, act) in zip(axes, (("tanh", gu.tanh), ("relu", gu.relu))):
        for label, init in INITS.items():
            ax.semilogy(range(1, 31), activation_stds(act, init), label=label)
        ax.set_title(f"{name} network, width 128")
        ax.set_xlabel("layer")
        ax.set_ylabel("std of the layer's output")
        ax.set_ylim(1e-12, 1e4)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    save(fig, out, "initialization-activation-std.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    perceptron(out)
    logistic_softmax(out)
    activations(out)
    initialization(out)


if __name__ == "__main__":
    main()
