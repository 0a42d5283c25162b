"""Transfer learning: pretrain LeNet-5 on MNIST, then learn Fashion-MNIST from a few hundred images.

``fashion-transfer`` measures what the MNIST weights are worth on a small, seeded Fashion-MNIST
subset (``train_size`` images; the whole 10,000-image test set), giving each of these the same
optimizer, epochs and batches:

* ``scratch``: a freshly initialised LeNet-5, every layer trained (the baseline);
* ``linear_probe``: the MNIST network frozen (``requires_grad_(False)``), only a new output layer
  trained: how far do the MNIST features go as they are?
* ``finetune``: the MNIST weights with a new output layer, every layer trained at one learning rate;
* ``discriminative``: the same with discriminative learning rates (Howard & Ruder, "Universal
  Language Model Fine-tuning for Text Classification", ACL 2018): the convolutional ``features``
  in a param group at ``backbone_lr_factor`` (0.1) times the ``classifier``'s rate;
* ``gradual``: gradual unfreezing (ULMFiT again): the first third of the epochs trains the new
  output layer alone, the second adds the rest of the classifier (``optimizer.add_param_group``),
  the last third the features too, at ``backbone_lr_factor`` times the head's rate.

A LeNet-5 keeps its layers and ``state_dict`` keys when its head is replaced (``classifier.5``, a
new ``Linear(84, 10)``), so every variant's weights load into a plain ``LeNet5``. Each variant runs
``repeats`` times, with its own subset, initialisation and batch order per repeat (seed
``r.seed + i``), shared by all variants of that repeat; the results give every variant's mean
test accuracy and its gain over ``scratch``. ``test_accuracy`` (the recipe's metric, which
``groundup eval`` reproduces from ``last.safetensors``) is ``finetune``'s in repeat 0.

``extra`` knobs (tests shrink them): ``pretrain_epochs`` (2), ``pretrain_size`` (None: all 50,000
MNIST training images), ``train_size`` (500), ``test_size`` (None: all 10,000), ``repeats`` (3),
``backbone_lr_factor`` (0.1). ``epochs``, ``batch_size``, ``lr``, ``optimizer``, ``weight_decay``,
``schedule`` (``cosine`` or ``none``) and ``seed`` apply to pretraining and to every variant.

Stages and resuming: every finished stage (pretraining, then each variant of each repeat) is a
checkpoint ``out/stages/<stage>.safetensors`` holding its weights and test accuracy, and
``last.safetensors`` is a copy of the latest one (at the end: ``finetune-0``). With
``resume=True`` a stage whose checkpoint was made by the same settings is read back, not rerun
(pretraining is reused whenever its own settings match); a stage cut short reruns from its start.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import groundup as gu
import groundup.nn.functional as F
from groundup import datasets, nn, optim
from groundup.models import LeNet5
from groundup.recipes import Recipe
from groundup.recipes.run import _images as standardise
from groundup.tensor import Tensor
from groundup.train import load_checkpoint, metrics, save_checkpoint
from groundup.utils.data import DataLoader, TensorDataset

__all__ = ["RECIPES", "VARIANTS", "evaluate", "train"]

VARIANTS = ("scratch", "linear_probe", "finetune", "discriminative", "gradual")
_DEFAULTS = {"pretrain_epochs": 2, "pretrain_size": None, "train_size": 500, "test_size": None, "repeats": 3,
             "backbone_lr_factor": 0.1}

RECIPES: list[Recipe] = [
    Recipe("fashion-transfer",
           "LeNet-5 pretrained on MNIST, fine-tuned on 500 Fashion-MNIST images vs trained from scratch",
           data="fashion", model="lenet5", activation="relu", epochs=30, batch_size=64, optimizer="adam",
           lr=2e-3, schedule="cosine", target=0.77, task="transfer", extra=dict(_DEFAULTS)),
]


def _knobs(r: Recipe) -> dict[str, Any]:
    """``r.extra`` over the defaults, checked."""
    unknown = sorted(set(r.extra) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"recipe {r.name!r}: unknown extra knob(s) {unknown}; knobs are {sorted(_DEFAULTS)}")
    k = {**_DEFAULTS, **r.extra}
    for name in ("pretrain_epochs", "train_size", "repeats"):
        if not isinstance(k[name], int) or k[name] < 1:
            raise ValueError(f"recipe {r.name!r}: extra[{name!r}] must be a positive int, got {k[name]!r}")
    if r.schedule not in ("none", "cosine"):
        raise ValueError(f"recipe {r.name!r}: schedule must be 'none' or 'cosine', got {r.schedule!r}")
    return k


# ------------------------------------------------------------------------------------------- data
@dataclass
class Data:
    """MNIST to pretrain on and the Fashion-MNIST test set as standardised (N, 1, 28, 28) images, and
    the raw uint8 (60000, 28, 28) Fashion-MNIST training split that each repeat draws its subset from."""

    x_mnist: Tensor
    y_mnist: Tensor
    fashion_images: Tensor
    fashion_targets: Tensor
    x_test: Tensor
    y_test: Tensor


def _images(images: Tensor) -> Tensor:
    """uint8 (N, 28, 28) -> standardised float32 (N, 1, 28, 28), as every MNIST/Fashion recipe does."""
    return standardise(images, keep_shape=True)


def _subset(images: Tensor, targets: Tensor, n: int | None, seed: int) -> tuple[Tensor, Tensor]:
    """``n`` examples drawn without replacement (seeded) and standardised; all of them when ``n`` is None."""
    if n is not None and n < images.shape[0]:
        idx = gu.randperm(images.shape[0], generator=gu.Generator().manual_seed(seed))[:n]
        images, targets = images[idx], targets[idx]
    return _images(images), targets


def _mnist_test() -> tuple[Tensor, Tensor]:
    te = datasets.MNIST(split="test")
    return _images(te.data), te.targets


def _fashion_test(n: int | None) -> tuple[Tensor, Tensor]:
    te = datasets.FashionMNIST(train=False)
    return _images(te.data[:n]), te.targets[:n]


def _data(r: Recipe, knobs: dict[str, Any]) -> Data:
    mnist, fashion = datasets.MNIST(split="train"), datasets.FashionMNIST(train=True)
    return Data(*_subset(mnist.data, mnist.targets, knobs["pretrain_size"], r.seed), fashion.data, fashion.targets,
                *_fashion_test(knobs["test_size"]))


# ------------------------------------------------------------------------------------------- training
def _model(r: Recipe) -> LeNet5:
    return LeNet5(num_classes=10, activation=r.activation, pooling="max")


def _optimizer(r: Recipe, groups: list[dict[str, Any]]) -> optim.Optimizer:
    """The recipe's optimizer over param groups; each group's ``lr`` is kept as ``base_lr`` too,
    the value :func:`_anneal` scales."""
    for g in groups:
        g.setdefault("lr", r.lr)
        g["base_lr"] = g["lr"]
    if r.optimizer == "sgd":
        return optim.SGD(groups, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay)
    factories = {"adam": optim.Adam, "adamw": optim.AdamW}
    if r.optimizer not in factories:
        raise ValueError(f"recipe {r.name!r}: optimizer must be sgd, adam or adamw, got {r.optimizer!r}")
    return factories[r.optimizer](groups, lr=r.lr, weight_decay=r.weight_decay)


def _anneal(r: Recipe, opt: optim.Optimizer, epoch: int, epochs: int) -> float:
    """Set every group's lr for ``epoch`` (0-based): ``base_lr · ½(1 + cos(π·epoch/epochs))`` under
    the cosine schedule, ``base_lr`` otherwise. Returns the factor, for groups added later."""
    factor = 0.5 * (1 + math.cos(math.pi * epoch / epochs)) if r.schedule == "cosine" else 1.0
    for g in opt.param_groups:
        g["lr"] = g["base_lr"] * factor
    return factor


def _fit(r: Recipe, model: nn.Module, opt: optim.Optimizer, x: Tensor, y: Tensor, epochs: int, seed: int,
         on_epoch: Callable[[int, float], None] | None = None) -> None:
    """The plain PyTorch loop: for each epoch, for each shuffled batch, forward, backward, step."""
    loader = DataLoader(TensorDataset(x, y), batch_size=r.batch_size, shuffle=True,
                        generator=gu.Generator().manual_seed(seed))
    for epoch in range(epochs):
        factor = _anneal(r, opt, epoch, epochs)
        if on_epoch is not None:
            on_epoch(epoch, factor)
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()


def _accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 2000) -> float:
    model.eval()
    with gu.no_grad():
        logits = gu.cat([model(x[i : i + batch]) for i in range(0, x.shape[0], batch)])  # (N, 10)
    return metrics.accuracy(logits, y)


def _new_head(model: LeNet5) -> None:
    """Replace the output layer (84 -> 10 MNIST digits) with a fresh one (84 -> 10 clothes)."""
    model.classifier[-1] = nn.Linear(84, 10)


def _variant(r: Recipe, name: str, pretrained: dict[str, Tensor], x: Tensor, y: Tensor, seed: int,
             factor: float) -> nn.Module:
    """Build variant ``name`` (new layers initialised alike in every variant of a repeat) and train it."""
    gu.manual_seed(seed)
    model = _model(r)
    unfreeze = None
    if name == "scratch":
        opt = _optimizer(r, [{"params": model.parameters()}])
    else:
        model.load_state_dict(pretrained)
        _new_head(model)
        head, body = model.classifier[-1], model.classifier[:-1]  # the new Linear; C5 and F6
        if name in ("linear_probe", "gradual"):
            model.requires_grad_(False)
            head.requires_grad_(True)
            opt = _optimizer(r, [{"params": head.parameters()}])
        elif name == "finetune":
            opt = _optimizer(r, [{"params": model.parameters()}])
        elif name == "discriminative":
            opt = _optimizer(r, [{"params": model.features.parameters(), "lr": r.lr * factor},
                                 {"params": model.classifier.parameters()}])
        else:
            raise ValueError(f"transfer: unknown variant {name!r}; variants are {VARIANTS}")
        if name == "gradual":
            third = max(1, r.epochs // 3)
            unfreezing = {third: (body, 1.0), 2 * third: (model.features, factor)}  # epoch: (layers, lr scale)

            def unfreeze(epoch: int, anneal: float) -> None:
                if epoch in unfreezing:
                    layers, scale = unfreezing[epoch]
                    layers.requires_grad_(True)
                    opt.add_param_group({"params": layers.parameters(), "lr": r.lr * scale * anneal,
                                         "base_lr": r.lr * scale})

    _fit(r, model, opt, x, y, r.epochs, seed, on_epoch=unfreeze)
    return model


def _run_variant(r: Recipe, name: str, pretrained: dict[str, Tensor], x: Tensor, y: Tensor, seed: int, factor: float,
                 data: Data) -> tuple[nn.Module, float]:
    model = _variant(r, name, pretrained, x, y, seed, factor)
    return model, _accuracy(model, data.x_test, data.y_test)


# ------------------------------------------------------------------------------------------- stages
def _pretrain_key(r: Recipe, knobs: dict[str, Any]) -> dict[str, Any]:
    """The settings pretraining depends on: when they match, a saved pretrained network is reused."""
    return {"seed": r.seed, "lr": r.lr, "batch_size": r.batch_size, "optimizer": r.optimizer, "activation": r.activation,
            "weight_decay": r.weight_decay, "momentum": r.momentum, "schedule": r.schedule,
            "pretrain_epochs": knobs["pretrain_epochs"], "pretrain_size": knobs["pretrain_size"]}


def _finished(path: Path, key: dict[str, Any], resume: bool) -> dict[str, Any] | None:
    """The saved ``extra`` of a stage finished with the same settings (``key``), or None to (re)run it."""
    if not resume or not path.exists():
        return None
    extra = gu.load(path).get("extra") or {}
    return extra if extra.get("key") == key else None


def _stage(r: Recipe, out: Path, stage: str, key: dict[str, Any], resume: bool, progress: bool | None,
           run: Callable[[], tuple[nn.Module, float]]) -> tuple[dict[str, Any], Path]:
    """Run one stage (or read it back when resuming), keep its checkpoint and copy it to ``last``."""
    path = out / "stages" / f"{stage}.safetensors"
    done = _finished(path, key, resume)
    if done is None:
        start = time.perf_counter()
        model, acc = run()
        done = {"recipe": r.to_dict(), "stage": stage, "key": key, "test_accuracy": acc,
                "seconds": round(time.perf_counter() - start, 2)}
        path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(path, model, extra=done)
        if progress is not None:
            print(f"{stage}: test accuracy {acc:.4f} ({done['seconds']:.1f} s)", flush=True)
    elif progress is not None:
        print(f"{stage}: finished before, test accuracy {done['test_accuracy']:.4f}", flush=True)
    _copy(path, out / "last.safetensors")
    return done, path


def _copy(src: Path, dst: Path) -> None:
    """Copy a checkpoint atomically (through a temporary file and a rename)."""
    tmp = dst.with_name(dst.name + ".tmp")
    tmp.write_bytes(src.read_bytes())
    tmp.replace(dst)


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Pretrain on MNIST, then train every variant on each repeat's Fashion-MNIST subset.

    Returns ``test_accuracy`` (``finetune`` in repeat 0), every variant's per-repeat accuracies
    (``accuracy``), their means (``mean_accuracy``) and mean gains over ``scratch`` (``gain``),
    the pretrained network's MNIST test accuracy, sizes and seconds per stage. ``resume=True``
    skips finished stages (see the module docstring). ``progress``: a line per stage, None for silence.
    """
    out = Path(out)
    knobs = _knobs(r)
    data = _data(r, knobs)
    factor = knobs["backbone_lr_factor"]

    def pretrain() -> tuple[nn.Module, float]:
        gu.manual_seed(r.seed)
        model = _model(r)
        opt = _optimizer(r, [{"params": model.parameters()}])
        _fit(r, model, opt, data.x_mnist, data.y_mnist, knobs["pretrain_epochs"], r.seed)
        return model, _accuracy(model, *_mnist_test())

    pre, pre_path = _stage(r, out, "pretrain", _pretrain_key(r, knobs), resume, progress, pretrain)
    pretrained = gu.load(pre_path)["model"]
    key = {"recipe": r.to_dict()}
    accuracy: dict[str, list[float]] = {v: [] for v in VARIANTS}
    seconds: dict[str, float] = {"pretrain": pre["seconds"]}
    final = None
    for i in range(knobs["repeats"]):
        x, y = _subset(data.fashion_images, data.fashion_targets, knobs["train_size"], r.seed + i)
        for name in VARIANTS:
            run = functools.partial(_run_variant, r, name, pretrained, x, y, r.seed + 1 + i, factor, data)
            done, path = _stage(r, out, f"{name}-{i}", key, resume, progress, run)
            accuracy[name].append(done["test_accuracy"])
            seconds[f"{name}-{i}"] = done["seconds"]
            if (name, i) == ("finetune", 0):
                final = done, path
    done, path = final
    last = out / "last.safetensors"
    _copy(path, last)  # the recipe's model: finetune, repeat 0
    mean = {v: round(sum(a) / len(a), 4) for v, a in accuracy.items()}
    return {
        "test_accuracy": done["test_accuracy"],
        "mean_accuracy": mean,
        "gain": {v: round(mean[v] - mean["scratch"], 4) for v in VARIANTS if v != "scratch"},
        "accuracy": accuracy,
        "pretrain_mnist_test_accuracy": pre["test_accuracy"],
        "pretrain_size": int(data.x_mnist.shape[0]),
        "train_size": knobs["train_size"],
        "test_size": int(data.x_test.shape[0]),
        "repeats": knobs["repeats"],
        "epochs_run": r.epochs,
        "stage_seconds": seconds,
        "checkpoint": str(last),
    }


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Load any stage's checkpoint (``last`` or ``stages/*``) and measure it on its test set:
    Fashion-MNIST for a variant, MNIST for ``pretrain``."""
    model = _model(r)
    stage = (load_checkpoint(checkpoint, model)["extra"] or {}).get("stage")
    if stage is None:
        raise ValueError(f"transfer: {checkpoint} names no stage; it was not written by the transfer recipe")
    x, y = _mnist_test() if stage == "pretrain" else _fashion_test(_knobs(r)["test_size"])
    return {r.metric: _accuracy(model, x, y), "test_size": int(x.shape[0]), "stage": stage,
            "data": "mnist" if stage == "pretrain" else "fashion"}
