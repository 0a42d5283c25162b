"""Issue 3 speed target: one training step of an MLP 784-256-256-10, batch 128, SGD momentum.

Run: ``.venv/bin/python -m benchmarks.bench_mlp``. The same model, data and optimizer settings
run in groundup and PyTorch in this process, alternately, with the same thread count; a step is
zero_grad + forward + cross-entropy + backward + optimizer step. Ratio = groundup / PyTorch.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import groundup as gu
from benchmarks.common import machine, setup_threads, table, time_pair


def build(lib, sizes, weights):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        lin = lib.nn.Linear(n_in, n_out)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(weights[i][0]))
            lin.bias.copy_(lib.tensor(weights[i][1]))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


def bench_step(batch: int, sizes: list[int], repeat: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    weights = [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32), np.zeros(o, np.float32))
               for i, o in zip(sizes, sizes[1:])]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    runs = {}
    for name, lib in (("gu", gu), ("torch", torch)):
        model = build(lib, sizes, weights)
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        xb, yb = lib.tensor(x), lib.tensor(y)
        loss_fn = lib.nn.functional.cross_entropy

        def step(model=model, opt=opt, xb=xb, yb=yb, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

        runs[name] = step
    return time_pair(runs["gu"], runs["torch"], repeat, number=10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()
    setup_threads(args.threads)
    print(f"# bench_mlp — {machine()}\n")
    g, t = bench_step(128, [784, 256, 256, 10], args.repeat)
    print(table([("MLP 784-256-256-10 train step, batch 128, SGD momentum", g, t, "<= 1.3x")]))


if __name__ == "__main__":
    main()
