"""Draw the figures of the recurrent-networks chapter of the docs (rnn.md, sections 3 and 4).

    python docs/figures_rnn.py [outdir]        # default: docs/img

The first figure repeats section 3's measurement (the same cells, seeds and inputs) for every time
step instead of five; the second trains a small RNN whose gradients explode, with and without
``clip_grad_norm_``. Both are drawn with matplotlib's object API (no pyplot, no window) and take a
few seconds on one core. Every file is named after its page (``rnn-gradient-norms.png``).
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
from groundup.nn.utils import clip_grad_norm_  # noqa: E402
from groundup.nn.utils.clip_grad import get_total_norm  # noqa: E402


def spectral_radius(w: gu.Tensor) -> float:
    """The largest eigenvalue magnitude of a square weight matrix."""
    return float(np.abs(np.linalg.eigvals(w.detach().numpy())).max())


def state_grad_norms(cell: nn.Module, T: int = 60, H: int = 32, lstm: bool = False) -> np.ndarray:
    """|dL/dh_t| for t = 1..T, L = sum(h_T), on a fixed random input sequence (rnn.md, section 3)."""
    gu.manual_seed(0)
    xs = gu.randn(T, 1, 8)  # (T, B=1, I=8)
    h = c = gu.zeros(1, H)
    states = []
    for t in range(T):
        if lstm:
            h, c = cell(xs[t], (h, c))
        else:
            h = cell(xs[t], h)
        h.retain_grad()
        states.append(h)
    h.sum().backward()
    return np.array([s.grad.norm().item() for s in states])


# ----------------------------------------------------------------------------- rnn.md, section 3
def rnn_gradient_norms(out: Path) -> None:
    """|dL/dh_t| against t for a tanh RNN at four spectral radii of W_hh and for an LSTM."""
    curves = {}
    gu.manual_seed(0)
    cell = nn.RNNCell(8, 32)
    for radius in (0.5, 1.0, 2.0, 4.0):
        with gu.no_grad():
            cell.weight_hh.mul_(radius / spectral_radius(cell.weight_hh))
        curves[f"tanh RNN, radius {radius:g}"] = state_grad_norms(cell)
    gu.manual_seed(0)
    _, lstm_cell = nn.RNNCell(8, 32), nn.LSTMCell(8, 32)  # the same draws as the page's second table
    curves["LSTM, default init"] = state_grad_norms(lstm_cell, lstm=True)
    with gu.no_grad():
        lstm_cell.bias_ih[32:64].fill_(2.0)  # the forget gate's block (gate order i, f, g, o)
    curves["LSTM, forget-gate bias 2"] = state_grad_norms(lstm_cell, lstm=True)

    fig = Figure(figsize=(8, 4.6), layout="constrained")
    ax = fig.subplots()
    t = np.arange(1, 61)
    rnn_colors = ["#fdae61", "#f46d43", "#d73027", "#7f0000"]  # light to dark as the radius grows
    for (name, norms), color in zip(list(curves.items())[:4], rnn_colors):
        ax.plot(t, norms, color=color, lw=2, label=name)
    ax.plot(t, curves["LSTM, default init"], color="tab:blue", ls="--", lw=2, label="LSTM, default init")
    ax.plot(t, curves["LSTM, forget-gate bias 2"], color="tab:blue", lw=2.5, label="LSTM, forget-gate bias 2")
    ax.set_yscale("log")
    ax.set_xlim(1, 60)
    ax.set_xlabel("time step t (the loss L = sum(h_60) is at t = 60)")
    ax.set_ylabel("|dL/dh_t|")
    ax.set_title("How much gradient reaches step t, 60 − t steps before the loss")
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9, loc="lower right")
    save(fig, out, "rnn-gradient-norms.png")


# ----------------------------------------------------------------------------- rnn.md, section 4
class Recall(nn.Module):
    """A tanh RNN whose last state is read out by a linear layer; W_hh scaled to a given spectral radius."""

    def __init__(self, hidden: int, radius: float) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden)
        self.head = nn.Linear(hidden, 1)
        with gu.no_grad():
            self.rnn.weight_hh_l0.mul_(radius / spectral_radius(self.rnn.weight_hh_l0))

    def forward(self, x: gu.Tensor) -> gu.Tensor:
        out, _ = self.rnn(x)  # (T, B, H)
        return self.head(out[-1])[:, 0]  # (B,)


def train_recall(clip: float | None, steps: int = 400, T: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Train the RNN to output, after T random inputs, the first of them; the gradient norm (before
    any clipping) and the loss of every step. Both runs start from the same weights and see the same batches."""
    gu.manual_seed(0)
    model = Recall(32, radius=2.0)
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    batches = gu.Generator().manual_seed(1)
    norms, losses = [], []
    for _ in range(steps):
        x = gu.randn(T, 32, 1, generator=batches)  # (T, B, 1)
        loss = F.mse_loss(model(x), x[0, :, 0])
        opt.zero_grad()
        loss.backward()
        if clip is None:
            norm = get_total_norm([p.grad for p in model.parameters()])
        else:
            norm = clip_grad_norm_(model.parameters(), clip)
        opt.step()
        norms.append(norm.item())
        losses.append(loss.item())
    return np.array(norms), np.array(losses)


def rnn_gradient_clipping(out: Path) -> None:
    """Gradient norm and loss per step of the same exploding RNN trained with and without clipping."""
    runs = {"no clipping": train_recall(None), "clip_grad_norm_(max_norm=1)": train_recall(1.0)}
    colors = {"no clipping": "tab:red", "clip_grad_norm_(max_norm=1)": "tab:blue"}
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_norm, ax_loss = fig.subplots(1, 2)
    steps = np.arange(1, 401)
    for name, (norms, losses) in runs.items():
        ax_norm.plot(steps, norms, color=colors[name], lw=1, label=f"{name}: norm")
        smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")  # running mean over 20 steps
        ax_loss.plot(steps, losses, color=colors[name], lw=0.5, alpha=0.3)
        ax_loss.plot(steps[19:], smooth, color=colors[name], lw=2, label=name)
    clipped = np.minimum(runs["clip_grad_norm_(max_norm=1)"][0], 1.0)
    ax_norm.plot(steps, clipped, color="black", lw=1.5, ls="--", label="clipped run: norm after clipping")
    first = runs["no clipping"][0][0]  # the same in both runs: same weights, same first batch
    ax_norm.annotate(f"step 1: |g| = {first:.0f} in both runs;\nunclipped, SGD moves the weights by lr·|g|\n"
                     "and saturates the tanh units", (1, first), xytext=(110, 25), fontsize=9,
                     arrowprops={"arrowstyle": "->", "color": "0.3"})
    ax_norm.set_yscale("log")
    ax_norm.set_xlabel("training step")
    ax_norm.set_ylabel("|gradient| of all parameters")
    ax_norm.set_title("Gradient norm before clipping (what clip_grad_norm_ returns)", fontsize=10)
    ax_norm.set_ylim(0.3, 1e4)
    ax_norm.legend(fontsize=9, loc="upper right")
    ax_loss.axhline(1.0, color="0.4", ls=":", lw=1.5, label="always answering 0 (the target's variance)")
    ax_loss.set_ylim(0, 3)
    ax_loss.set_xlabel("training step")
    ax_loss.set_ylabel("mean squared error")
    ax_loss.set_title("Loss (thin: per batch of 32; thick: mean of 20 steps)", fontsize=10)
    ax_loss.legend(fontsize=9)
    fig.suptitle("Recall the first of 30 random inputs: tanh RNN, 32 units, W_hh of spectral radius 2, "
                 "SGD lr 0.02, momentum 0.9")
    for ax in (ax_norm, ax_loss):
        ax.set_xlim(1, 400)
        ax.grid(alpha=0.3)
    save(fig, out, "rnn-gradient-clipping.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img"
    out.mkdir(parents=True, exist_ok=True)
    rnn_gradient_norms(out)
    rnn_gradient_clipping(out)


if __name__ == "__main__":
    main()
