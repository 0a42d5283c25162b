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
(:func:`~benchmarks.common.compare`): phases round-robin over several rounds, each starting
with an untimed call; medians (and, for a noisy machine, minimums) over all rounds. Target: time
ratio <= 1.5x.
"""

from __future__ import annotations

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


def main() -> None:
    import torch

    from benchmarks.common import compare_training_step
    from groundup.models import LeNet5

    compare_training_step("bench_lenet", "LeNet-5 (ReLU, max pool) train step, batch 64, Adam", "<= 1.5x",
                          lambda: LeNet5(activation="relu", pooling="max"), lambda: torch_lenet(torch),
                          batch=BATCH, repeat=60, doc=__doc__)


if __name__ == "__main__":
    main()
