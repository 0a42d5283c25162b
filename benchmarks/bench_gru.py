"""Issue 5 speed target: one training step of a character-level GRU language model vs PyTorch.

Run: ``.venv/bin/python -m benchmarks.bench_gru``. The workload of ``benchmarks/bench_lstm.py`` with a GRU
layer of the same size (embedding 64, hidden 256, sequences of 64, batch 32, Adam): see that file for how
the step is built and timed. Target: time ratio <= 1.5x.
"""

from __future__ import annotations


def main() -> None:
    from benchmarks.bench_lstm import run

    run("bench_gru", "gru", __doc__)


if __name__ == "__main__":
    main()
