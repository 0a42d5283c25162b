"""Fused softmax + cross-entropy vs the separate softmax-Jacobian route ("Neural Networks from Scratch").

The gradient of ``mean(-log softmax(x)[y])`` with respect to the logits ``x`` is ``(p - onehot(y)) / N``.
The book first backpropagates through the loss (``dL/ds = -onehot / (N s)``) and then through softmax
by building each sample's Jacobian ``diag(s) - s s^T`` and multiplying it by ``dL/ds``; it then shows
that the fused form is about 7x faster at its size. This script times, for the same float32 logits:

- fused: groundup's ``F.cross_entropy`` forward + backward (one ``Function``: ``p - y``);
- separate, per-sample loop: NumPy softmax, CE forward, and the book's backward (a Python loop with
  ``np.diagflat(s) - np.outer(s, s)`` per sample);
- separate, batched: the same Jacobians built for all samples at once as an ``(N, C, C)`` stack
  (in chunks that fit in 256 MB) and applied with ``einsum`` -- the strongest form of that route;
- PyTorch's ``F.cross_entropy`` forward + backward, as a reference, in the same process.

The separate routes are plain NumPy with no autograd bookkeeping, while the fused time includes
groundup's per-call work (argument checks, recording the node, the backward engine): at 300 x 3 that
overhead is most of the fused time, which is why a vectorised Jacobian route can keep up there.

Run: ``python -m benchmarks.bench_softmax_ce`` from the repository root. Ratios are medians of
alternating runs (``benchmarks.common.time_pair``).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import groundup as gu
import groundup.nn.functional as F
from benchmarks.common import fmt_time, machine, setup_threads, table, time_pair


def _softmax_ce_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """NumPy softmax (max-shifted) and mean cross-entropy, as the book's separate classes compute them."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)  # (N, C)
    n = len(y)
    loss = float(-np.log(np.clip(s[np.arange(n), y], 1e-7, 1 - 1e-7)).mean())
    return s, loss


def _dloss_ds(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Backward of mean(-log s_y): -onehot(y) / s / N, as the book's Loss_CategoricalCrossentropy."""
    n = len(y)
    d = np.zeros_like(s)
    d[np.arange(n), y] = -1.0 / s[np.arange(n), y]
    return d / np.float32(n)


def separate_loop(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The book's route: softmax, CE, then a Python loop over samples with each Jacobian."""
    s, _ = _softmax_ce_forward(x, y)
    dvalues = _dloss_ds(s, y)
    dinputs = np.empty_like(dvalues)
    for i, (single_output, single_dvalues) in enumerate(zip(s, dvalues)):
        single_output = single_output.reshape(-1, 1)
        jacobian = np.diagflat(single_output) - np.dot(single_output, single_output.T)  # (C, C)
        dinputs[i] = np.dot(jacobian, single_dvalues)
    return dinputs


def separate_batched(x: np.ndarray, y: np.ndarray, budget_bytes: int = 256 * 2**20) -> np.ndarray:
    """The same Jacobians as an (N, C, C) stack, built and applied chunk by chunk with einsum."""
    s, _ = _softmax_ce_forward(x, y)
    dvalues = _dloss_ds(s, y)
    n, c = s.shape
    chunk = max(1, budget_bytes // (c * c * s.itemsize))
    dinputs = np.empty_like(dvalues)
    eye = np.eye(c, dtype=s.dtype)
    for start in range(0, n, chunk):
        sb = s[start:start + chunk]  # (B, C)
        jac = sb[:, :, None] * eye - sb[:, :, None] * sb[:, None, :]  # (B, C, C): diag(s) - s s^T
        dinputs[start:start + chunk] = np.einsum("bij,bj->bi", jac, dvalues[start:start + chunk])
    return dinputs


def bench(n: int, c: int, repeat: int, number: int) -> list[tuple[str, float, float]]:
    """(label, time a, time b) per comparison; each pair is timed alternately, so its ratio is fair."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    gx, gy = gu.tensor(x, requires_grad=True), gu.tensor(y)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y)

    def fused():
        gx.grad = None
        F.cross_entropy(gx, gy).backward()

    def torch_ce():
        tx.grad = None
        torch.nn.functional.cross_entropy(tx, ty).backward()

    # the routes must agree before their times mean anything
    fused()
    torch_ce()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(separate_batched(x, y), gx.grad.numpy(), rtol=1e-3, atol=1e-7)
    if n * c <= 300_000:
        np.testing.assert_allclose(separate_loop(x, y), gx.grad.numpy(), rtol=1e-3, atol=1e-7)

    slow = n * c > 300_000  # the Jacobian routes take seconds per call here
    few, n_slow = (3, 1) if slow else (repeat, max(1, number // 10))
    out = [("torch", *time_pair(fused, torch_ce, repeat, number))]
    out.append(("loop", *time_pair(fused, lambda: separate_loop(x, y), few, n_slow, warmup=0 if slow else 2)))
    out.append(("batched", *time_pair(fused, lambda: separate_batched(x, y), few, n_slow, warmup=0 if slow else 2)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()
    setup_threads(args.threads)
    print(f"# bench_softmax_ce — {machine()}\n")
    sizes = [(300, 3, 200), (1024, 1000, 5)]  # (N, C, calls per timing)
    results = {(n, c): dict((k, (a, b)) for k, a, b in bench(n, c, args.repeat, number)) for n, c, number in sizes}

    print("Gradient of mean softmax cross-entropy w.r.t. float32 logits (forward + backward), fused vs "
          "the separate softmax-Jacobian route:\n")
    print("| logits (N x C) | separate route | fused F.cross_entropy | separate | speed-up of fused |")
    print("|---|---|---|---|---|")
    names = {"loop": "per-sample loop (the book's)", "batched": "(N, C, C) Jacobians, einsum"}
    for (n, c), r in results.items():
        for key, label in names.items():
            fused_t, sep_t = r[key]
            print(f"| {n} x {c} | {label} | {fmt_time(fused_t)} | {fmt_time(sep_t)} | {sep_t / fused_t:.1f}x |")
    print("\nFused groundup vs PyTorch (F.cross_entropy forward + backward):\n")
    rows = [(f"cross_entropy fwd+bwd float32 {n}x{c}", *r["torch"], "none set (reference)")
            for (n, c), r in results.items()]
    print(table(rows))


if __name__ == "__main__":
    main()
