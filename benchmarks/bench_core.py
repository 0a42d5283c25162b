"""Issue 2 speed targets: large matmul, per-op overhead, a 10-layer raw-tensor MLP — vs PyTorch.

Run: ``.venv/bin/python benchmarks/bench_core.py`` (``make bench`` runs every benchmark). Both
libraries run the same workload in this one process, alternately, with the same thread count;
the figures are medians. Ratios are groundup time / PyTorch time (lower is better).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import groundup as gu
from benchmarks.common import machine, setup_threads, table, time_pair


def bench_matmul(n: int, repeat: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(3))
    ga, gb = gu.tensor(a, requires_grad=True), gu.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    gg, tg = gu.tensor(g), torch.tensor(g)

    def run_gu():
        ga.grad = gb.grad = None
        (ga @ gb).backward(gg)

    def run_torch():
        ta.grad = tb.grad = None
        (ta @ tb).backward(tg)

    return time_pair(run_gu, run_torch, repeat)


def bench_tiny_add(repeat: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal((8, 8)).astype(np.float32) for _ in range(3))
    ga, gb = gu.tensor(a, requires_grad=True), gu.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    gg, tg = gu.tensor(g), torch.tensor(g)

    def run_gu():
        ga.grad = gb.grad = None
        (ga + gb).backward(gg)

    def run_torch():
        ta.grad = tb.grad = None
        (ta + tb).backward(tg)

    return time_pair(run_gu, run_torch, repeat, number=200)


def bench_mlp(batch: int, width: int, depth: int, repeat: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width)).astype(np.float32)
    ws = [(rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32) for _ in range(depth)]
    bs = [np.zeros(width, np.float32) for _ in range(depth)]
    gx = gu.tensor(x)
    tx = torch.tensor(x)
    gp = [(gu.tensor(w, requires_grad=True), gu.tensor(b, requires_grad=True)) for w, b in zip(ws, bs)]
    tp = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) for w, b in zip(ws, bs)]

    def run(lib_x, params, last_act):
        h = lib_x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < depth - 1:
                h = h.relu()
        loss = (h * h).mean()
        for w, b in params:
            w.grad = b.grad = None
        loss.backward()

    return time_pair(lambda: run(gx, gp, None), lambda: run(tx, tp, None), repeat)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n", type=int, default=2048, help="matmul size (n x n @ n x n)")
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()
    setup_threads(args.threads)
    print(f"# bench_core — {machine()}\n")
    rows = []
    g, t = bench_matmul(args.n, max(5, args.repeat // 3))
    rows.append((f"matmul fwd+bwd float32 {args.n}x{args.n} @ {args.n}x{args.n}", g, t, "<= 1.1x"))
    g, t = bench_tiny_add(args.repeat)
    rows.append(("add (8,8)+(8,8) fwd+bwd (per-op overhead)", g, t, "<= 2x"))
    g, t = bench_mlp(128, 512, 10, args.repeat * 2)
    rows.append(("10-layer MLP fwd+bwd, (128, 512) float32, raw tensor ops", g, t, "<= 1.3x"))
    print(table(rows))


if __name__ == "__main__":
    main()
