"""Draw the figure of docs/char-rnn.md.

    python docs/figures_char_rnn.py [outdir]        # default: docs/img

``char-rnn-loss.png``: training and validation loss (nats/char) every 500 steps of the three recipes
``shakespeare-lstm``, ``shakespeare-gru`` and ``shakespeare-rnn`` on tinyshakespeare.txt. A full run
takes minutes, so the curves are the numbers those runs recorded (``history`` in each run's
``last.safetensors``; commands on the page), not a rerun. Matplotlib's object API only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from figure_style import save  # noqa: E402  (docs/figure_style.py)
from matplotlib.figure import Figure  # noqa: E402

STEPS = list(range(500, 5001, 500))
# (training loss, mean over the 500 steps before; validation loss on the whole validation text)
RUNS = {
    "LSTM": ([1.9989, 1.5639, 1.4573, 1.4000, 1.3608, 1.3322, 1.3102, 1.2939, 1.2823, 1.2747],
             [1.7822, 1.6499, 1.5971, 1.5660, 1.5454, 1.5316, 1.5201, 1.5092, 1.5056, 1.5043]),
    "GRU": ([1.9059, 1.4995, 1.4108, 1.3622, 1.3281, 1.3022, 1.2806, 1.2638, 1.2514, 1.2431],
            [1.7258, 1.6139, 1.5761, 1.5529, 1.5389, 1.5247, 1.5132, 1.5027, 1.4979, 1.4965]),
    "RNN": ([1.9734, 1.6243, 1.5370, 1.4894, 1.4579, 1.4345, 1.4154, 1.4009, 1.3906, 1.3838],
            [1.8331, 1.7338, 1.6862, 1.6643, 1.6458, 1.6265, 1.6142, 1.6034, 1.5971, 1.5945]),
}


def losses(out: Path) -> None:
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for (name, (train, val)), color in zip(RUNS.items(), ["C0", "C1", "C2"]):
        ax.plot(STEPS, val, color=color, marker="o", markersize=3, label=f"{name} validation")
        ax.plot(STEPS, train, color=color, linestyle="--", label=f"{name} training")
    ax.axhline(1.60, color="gray", linewidth=0.8, linestyle=":")
    ax.text(STEPS[-1], 1.61, "target 1.60", ha="right", va="bottom", fontsize=8, color="gray")
    ax.set(xlabel="step (batches of 32 x 64 characters)", ylabel="loss (nats/char)", ylim=(1.2, 2.0),
           title="character models on tinyshakespeare (256 hidden units)")
    ax.legend(fontsize=8, ncols=2)
    save(fig, out, "char-rnn-loss.png")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    losses(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "img")
