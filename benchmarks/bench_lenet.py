"""Issue 4 speed target: one LeNet-5 training step (ReLU, max pooling), batch 64, Adam, vs PyTorch.

Run: ``.venv/bin/python -m benchmarks.bench_lenet``. ``groundup.models.LeNet5(activation="relu",
pooling="max")`` and a PyTorch model built from the same layers (its weights copied over with
``load_state_dict``) train on the same MNIST-shaped batch, (64, 1, 28, 28) float32 with random
labels, in this process. A step is zero_grad + forward + cross-entropy + backward + Adam step
(lr 1e-3). Each library runs with 1 and with 2 threads (groundup: BLAS threads; PyTorch:
``torch.set_num_threads``) and is compared at its faster setting: on the 2-core reference
machine either can win for a network this small (thread hand-offs cost as much as the work
they split), and a second BLAS thread that spins while other processes need the core costs
groundup several times its step time. Timing and reporting as in ``benchmarks/bench_conv.py``
(:func:`~benchmarks.bench_conv.compare`): phases round-robin over several rounds, each starting
with an untimed call; medians (and, for a noisy machine, minimums) over all rounds. Target: time
ratio <= 1.5x.
"""

from __future__ import annotations

import argparse

import numpy as np

BATCH = 64


def torch_lenet(torch):
    """LeNet-5 with ReLU and max pooling in PyTorch, with ``groundup.models.LeNet5``'s state-dict keys."""
    nn = torch.nn

    class LeNet5(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
                nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),
            )
            self.classifier = nn.Sequential(
                nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
            )

        def forward(self, x):
            return self.classifier(self.features(x))

    return LeNet5()


def train_step(lib, model, x: np.ndarray, y: np.ndarray, lr: float = 1e-3):
    """A closure running one Adam training step of ``model`` on the batch (x, y) in ``lib``."""
    opt = lib.optim.Adam(model.parameters(), lr=lr)
    xb, yb = lib.tensor(x), lib.tensor(y)
    loss_fn = lib.nn.functional.cross_entropy

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    return step


def copy_weights(torch, src, dst) -> None:
    """Load groundup module ``src``'s state dict (parameters and buffers) into torch module ``dst``."""
    dst.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in src.state_dict().items()})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=60, help="timed steps per configuration")
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args()

    import torch

    import groundup as gu
    from benchmarks.common import compare, machine, report
    from groundup.models import LeNet5

    gu.manual_seed(0)
    torch.manual_seed(0)
    model = LeNet5(activation="relu", pooling="max")
    reference = torch_lenet(torch)
    copy_weights(torch, model, reference)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    step_gu, step_torch = train_step(gu, model, x, y), train_step(torch, reference, x, y)
    times = compare(gu, torch, step_gu, step_torch, args.repeat, args.rounds)
    print(f"# bench_lenet — {machine()}\n")
    report("LeNet-5 (ReLU, max pool) train step, batch 64, Adam", times, "<= 1.5x")


if __name__ == "__main__":
    main()
