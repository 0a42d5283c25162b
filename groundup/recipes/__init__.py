"""Recipes: named, complete training set-ups as dataclass configs (``groundup recipes`` lists them).

A :class:`Recipe` says which data, model, loss, optimizer and schedule to use; :mod:`.run` turns
it into objects and trains it with the :class:`~groundup.train.Trainer`. Command-line flags
(``--epochs``, ``--lr``, …) override fields with :meth:`Recipe.replace`, so every run is fully
described by a recipe, which is stored inside its checkpoints.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    """One training set-up. Every field has a plain value so the whole recipe fits in a checkpoint."""

    name: str
    description: str
    data: str  # linear | xor | moons | digits | mnist | fashion | mnist1d | (a task's own data)
    model: str  # perceptron | logistic | softmax | mlp | lenet5 | mnist1d_cnn | small_resnet | (a task's own)
    hidden: tuple[int, ...] = ()
    activation: str = "relu"
    dropout: float = 0.0
    batch_norm: bool = False
    epochs: int = 10
    steps: int | None = None  # train for this many optimizer steps instead of whole epochs
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd | adam | adamw | rmsprop | adagrad | nadam
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "none"  # none | step | cosine | onecycle | exponential
    seed: int = 0
    target: float | None = None  # the value of ``metric`` this recipe is expected to reach
    metric: str = "test_accuracy"  # the result that ``target`` is about (e.g. ``test_map50``, ``test_miou``)
    task: str = "classify"  # classify (run.py's Trainer loop) or a module of this package with its own loop
    extra: dict = field(default_factory=dict)

    @property
    def lower_is_better(self) -> bool:
        """True when ``metric`` is a loss-like number to push down (a loss, perplexity, bits per
        character or error rate): ``target`` is then an upper bound, reached when ``value <= target``."""
        return any(word in self.metric.lower() for word in ("loss", "perplexity", "bpc", "error"))

    def replace(self, **changes: object) -> Recipe:
        """A copy with some fields changed; unknown field names are an error."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"Recipe.replace: unknown field(s) {unknown}; fields are {sorted(known)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        """The recipe stored by :meth:`to_dict` (in a checkpoint); unknown fields are an error that names them."""
        d = dict(d)
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"Recipe.from_dict: unknown field(s) {unknown}; the checkpoint was written by another "
                             "version of groundup")
        d["hidden"] = tuple(d.get("hidden", ()))
        return cls(**d)


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe("perceptron-linear", "Rosenblatt's perceptron rule on linearly separable 2-D points",
               data="linear", model="perceptron", epochs=100, lr=1.0, target=1.0),
        Recipe("xor-mlp", "a 2-8-2 tanh MLP solves noisy XOR (which no perceptron can)",
               data="xor", model="mlp", hidden=(8,), activation="tanh", epochs=40, batch_size=20,
               optimizer="adam", lr=0.03, target=0.95),
        Recipe("moons-mlp", "micrograd's demo: a 2-16-16-2 MLP fits two moons perfectly",
               data="moons", model="mlp", hidden=(16, 16), activation="relu", epochs=40,
               batch_size=10, optimizer="adam", lr=0.02, target=1.0),
        Recipe("digits-softmax", "softmax regression on scikit-learn's 8x8 digits",
               data="digits", model="softmax", epochs=60, batch_size=64, lr=0.1, target=0.93),
        Recipe("mnist-softmax", "softmax (multinomial logistic) regression on MNIST",
               data="mnist", model="softmax", epochs=20, batch_size=128, lr=0.05, momentum=0.9,
               schedule="cosine", target=0.92),
        Recipe("mnist-mlp", "an MLP 784-512-256-10 with dropout, SGD momentum and a 1cycle schedule",
               data="mnist", model="mlp", hidden=(512, 256), dropout=0.2, epochs=12,
               batch_size=128, lr=0.1, momentum=0.9, schedule="onecycle", target=0.982),
        Recipe("mnist-lenet", "LeNet-5 (LeCun et al. 1998; ReLU, max pooling) on MNIST with Adam",
               data="mnist", model="lenet5", activation="relu", epochs=10, batch_size=64,
               optimizer="adam", lr=2e-3, schedule="cosine", target=0.99),
        Recipe("mnist1d-mlp", "the MNIST-1D paper's MLP recipe: Adam 1e-2, batch 100, 6000 steps",
               data="mnist1d", model="mlp", hidden=(100, 100), epochs=150, steps=6000,
               batch_size=100, optimizer="adam", lr=1e-2, target=0.65),
        Recipe("mnist1d-cnn", "the MNIST-1D paper's CNN (3 strided Conv1d + linear), Adam 1e-2, 6000 steps",
               data="mnist1d", model="mnist1d_cnn", epochs=150, steps=6000, batch_size=100, optimizer="adam",
               lr=1e-2, target=0.92),
        Recipe("fashion-resnet", "a small CIFAR-style ResNet on Fashion-MNIST, shift+flip augmentation, 1cycle",
               data="fashion", model="small_resnet", epochs=20, batch_size=128, optimizer="sgd", lr=0.1,
               momentum=0.9, weight_decay=5e-4, schedule="onecycle", target=0.92,
               extra={"depth": 8, "width": 16, "augment": {"shift": 2, "hflip": True}}),
        Recipe("fashion-mlp", "an MLP 784-512-256-10 with dropout on Fashion-MNIST",
               data="fashion", model="mlp", hidden=(512, 256), dropout=0.2, epochs=15,
               batch_size=128, lr=0.1, momentum=0.9, schedule="onecycle", target=0.88),
    ]
}


# Tasks whose training loop is not plain classification live in a module each; every one lists
# its recipes in ``RECIPES`` and has ``train(recipe, out, *, resume, progress)`` and
# ``evaluate(recipe, checkpoint)`` (see run.py, which dispatches on ``Recipe.task``). They are
# imported below, after ``Recipe`` and ``task_module`` exist, so they may import run.py's helpers.
TASK_MODULES = ("lecun1989", "transfer", "detection", "segmentation", "makemore", "wordlm", "charlm")


def task_module(task: str):  # noqa: ANN201 - a module
    """The module that trains recipes of ``task`` (imported on first use)."""
    if task not in TASK_MODULES:
        raise ValueError(f"unknown recipe task {task!r}; tasks are classify, {', '.join(TASK_MODULES)}")
    return importlib.import_module(f"groundup.recipes.{task}")


for _task in TASK_MODULES:
    for _r in task_module(_task).RECIPES:
        RECIPES[_r.name] = _r


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name lists the known ones."""
    try:
        return RECIPES[name]
    except KeyError:
        raise KeyError(f"unknown recipe {name!r}; known recipes: {', '.join(RECIPES)}") from None


__all__ = ["RECIPES", "TASK_MODULES", "Recipe", "get_recipe", "task_module"]
