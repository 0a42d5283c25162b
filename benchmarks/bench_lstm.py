"""Issue 5 speed target: one training step of a character-level LSTM language model vs PyTorch.

Run: ``.venv/bin/python -m benchmarks.bench_lstm``. ``groundup.models.CharRNNLM(65, n_embd=64,
hidden_size=256, cell="lstm")`` (embedding 64 -> one LSTM layer of 256 -> linear to 65 characters, the
size of tinyshakespeare's alphabet) and the same model in PyTorch, with groundup's weights copied over by
``state_dict`` name, train on one random batch of 32 sequences of 64 character ids. A step is zero_grad +
forward + cross-entropy over all 32·64 positions + backward (through time) + Adam (lr 1e-3). PyTorch runs its
default CPU LSTM (oneDNN's fused kernel); groundup runs ``groundup/functions/recurrent.py``'s fused layer.
Each library runs with 1 and 2 threads and is compared at its faster setting, timed as in
``benchmarks/bench_lenet.py`` (:func:`~benchmarks.common.compare`). Target: time ratio <= 1.5x.
"""

from __future__ import annotations

from typing import Any

import numpy as np

VOCAB, EMBED, HIDDEN, SEQ, BATCH = 65, 64, 256, 64, 32


def torch_char_lm(torch, cell: str):
    """Embedding -> LSTM/GRU (batch_first) -> Linear in PyTorch, with ``CharRNNLM``'s state-dict keys."""
    nn = torch.nn

    class CharLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, EMBED)
            self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](EMBED, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, idx):
            out, state = self.rnn(self.embedding(idx))  # (B, T, H)
            return self.head(out), state  # (B, T, V)

    return CharLM()


def lm_loss(lib, model, x, y) -> Any:
    """Mean next-character cross-entropy over every position of the batch."""
    logits, _ = model(x)  # (B, T, V)
    return lib.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))


def char_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random ids (B, T) and their next-character targets (B, T)."""
    ids = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    return ids[:, :-1], ids[:, 1:]


def run(script: str, cell: str, doc: str | None) -> None:
    import torch

    from benchmarks.common import compare_training_step
    from groundup.models import CharRNNLM

    name = f"char {cell.upper()} LM train step (emb {EMBED}, hidden {HIDDEN}, seq {SEQ}, batch {BATCH}), Adam"
    compare_training_step(script, name, "<= 1.5x", lambda: CharRNNLM(VOCAB, EMBED, HIDDEN, cell=cell),
                          lambda: torch_char_lm(torch, cell), batch=BATCH, repeat=30, doc=doc,
                          make_batch=char_batch, loss_of=lm_loss)


def main() -> None:
    run("bench_lstm", "lstm", __doc__)


if __name__ == "__main__":
    main()
