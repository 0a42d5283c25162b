"""Turn a :class:`~groundup.recipes.Recipe` into data, model, optimizer and schedule, and run it.

``train(recipe, out_dir)`` trains with the :class:`~groundup.train.Trainer`, writes checkpoints
(``last.safetensors``, ``best.safetensors``), the history (CSV and JSON), plots and a
``results.json`` into ``out_dir``, and returns the results. ``evaluate(checkpoint)`` rebuilds the
run from the recipe stored in the checkpoint and measures it on the test split; ``generate(checkpoint,
prompt)`` continues a text with a language-model recipe's checkpoint. A recipe whose ``task`` is not
``classify`` is handed to its task module (:func:`groundup.recipes.task_module`) for all three.
"""

from __future__ import annotations

import json
import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import groundup as gu
import groundup.nn.functional as F
from groundup import datasets, nn, optim
from groundup import transforms as T
from groundup.models import (
    MLP,
    LeNet5,
    LogisticRegression,
    MNIST1DConvNet,
    Perceptron,
    SoftmaxRegression,
    resnet_cifar,
)
from groundup.recipes import Recipe, task_module
from groundup.train import CSVLogger, JSONLogger, ModelCheckpoint, Trainer, load_checkpoint, metrics
from groundup.utils.data import DataLoader, TensorDataset

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@dataclass
class Data:
    """The splits of a recipe's data as tensors, plus what the model needs to know about them."""

    x_train: gu.Tensor
    y_train: gu.Tensor
    x_val: gu.Tensor | None
    y_val: gu.Tensor | None
    x_test: gu.Tensor
    y_test: gu.Tensor
    num_classes: int
    image_shape: tuple[int, int] | None = None
    test_is_train: bool = False  # toy problems are judged on the points they were fitted to

    @property
    def in_features(self) -> int:
        return int(self.x_train.shape[1])  # (for images: the channel count)


CONV_MODELS = ("lenet5", "small_resnet")  # models that take (N, 1, H, W) images, not flat vectors


def _images(x: gu.Tensor, keep_shape: bool = False) -> gu.Tensor:
    """uint8 (N, H, W) images → float32 scaled to [0, 1] and standardised: (N, H*W) for dense
    models, (N, 1, H, W) for convolutional ones."""
    x = x.unsqueeze(1) if keep_shape else x.reshape(x.shape[0], -1)  # (N, 1, H, W) or (N, H*W)
    return (x.float() / 255.0 - MNIST_MEAN) / MNIST_STD


def load_data(r: Recipe) -> Data:
    """Load (or generate) the recipe's data set, split into train / validation / test tensors.

    ``r.extra`` may hold ``n_train``, ``n_val`` and ``n_test``: use only the first so many examples of
    each split (quick trials and tests; the recipes themselves use everything)."""
    data = _load_data(r)
    for split, key in (("train", "n_train"), ("val", "n_val"), ("test", "n_test")):
        n = r.extra.get(key)
        x = getattr(data, f"x_{split}")
        if n is None or x is None:
            continue
        if int(n) < 1:
            raise ValueError(f"recipe {r.name!r}: extra[{key!r}] must be a positive count, got {n}")
        setattr(data, f"x_{split}", x[: int(n)])
        setattr(data, f"y_{split}", getattr(data, f"y_{split}")[: int(n)])
    return data


def _load_data(r: Recipe) -> Data:
    seed = r.seed
    if r.data in ("linear", "xor", "moons"):
        if r.data == "linear":
            x, y = datasets.linearly_separable(200, margin=0.1, generator=seed)
        elif r.data == "xor":
            x, y = datasets.xor(200, noise=0.15, generator=seed)
        else:
            x, y = datasets.moons(100, noise=0.1, generator=seed)
        return Data(x, y, None, None, x, y, num_classes=2, test_is_train=True)
    if r.data == "digits":
        x, y = datasets.digits()
        perm = gu.randperm(x.shape[0], generator=gu.Generator().manual_seed(seed))
        x, y = x[perm], y[perm]
        n_test = x.shape[0] // 5
        return Data(x[n_test:], y[n_test:], None, None, x[:n_test], y[:n_test], num_classes=10)
    conv = r.model in CONV_MODELS
    if r.data == "mnist":
        tr, va, te = (datasets.MNIST(split=s) for s in ("train", "valid", "test"))
        return Data(_images(tr.data, conv), tr.targets, _images(va.data, conv), va.targets,
                    _images(te.data, conv), te.targets, num_classes=10, image_shape=(28, 28))
    if r.data == "fashion":
        tr, te = datasets.FashionMNIST(train=True), datasets.FashionMNIST(train=False)
        x, y = _images(tr.data, conv), tr.targets
        n_val = x.shape[0] // 6  # hold out the last 10,000 of the 60,000 for validation
        return Data(x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:], _images(te.data, conv), te.targets,
                    num_classes=10, image_shape=(28, 28))
    if r.data == "mnist1d":
        tr, te = datasets.MNIST1D(train=True), datasets.MNIST1D(train=False)
        return Data(tr.data, tr.targets, None, None, te.data, te.targets, num_classes=10)
    raise ValueError(f"recipe {r.name!r}: unknown data {r.data!r}")


class AugmentedLoader:
    """A DataLoader whose input batches go through ``transform``: one vectorised call per batch.

    The random draws come from the loader's own generator, which the Trainer stores in its
    checkpoints, so a resumed run sees the same augmented batches as an uninterrupted one.
    """

    def __init__(self, loader: DataLoader, transform: Callable[[gu.Tensor], gu.Tensor]) -> None:
        self.loader, self.transform = loader, transform
        self.generator = loader.generator

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):  # noqa: ANN204 - yields (inputs, targets) batches
        for x, y in self.loader:
            yield self.transform(x), y


def build_augmentation(r: Recipe, generator: gu.Generator) -> Callable[[gu.Tensor], gu.Tensor] | None:
    """The batch augmentation named in ``r.extra["augment"]``: a dict with ``shift`` (max pixels of a
    random translation, the uncovered border filled with the standardised background) and ``hflip``
    (mirror half the images). None when the recipe asks for none."""
    spec = dict(r.extra.get("augment") or {})
    unknown = sorted(set(spec) - {"shift", "hflip"})
    if unknown:
        raise ValueError(f"recipe {r.name!r}: unknown augmentation(s) {unknown}; known: shift, hflip")
    steps: list[Any] = []
    if spec.get("shift"):
        steps.append(T.RandomShift(int(spec["shift"]), fill=-MNIST_MEAN / MNIST_STD, generator=generator))
    if spec.get("hflip"):
        steps.append(T.RandomHorizontalFlip(generator=generator))
    return T.Compose(steps) if steps else None


def build_model(r: Recipe, data: Data) -> nn.Module:
    if r.model == "perceptron":
        return Perceptron(data.in_features)
    if r.model == "logistic":
        return LogisticRegression(data.in_features)
    if r.model == "softmax":
        return SoftmaxRegression(data.in_features, data.num_classes)
    if r.model == "lenet5":
        return LeNet5(num_classes=data.num_classes, activation=r.activation, pooling="max")
    if r.model == "small_resnet":
        # extra: depth = 6n + 2 (8, 14, 20, ...), width = channels of the first stage (doubled per stage)
        depth, width = int(r.extra.get("depth", 8)), int(r.extra.get("width", 16))
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"recipe {r.name!r}: a CIFAR-style ResNet has depth 6n + 2 (8, 14, 20, ...), got {depth}")
        return resnet_cifar(depth, num_classes=data.num_classes, in_channels=1, widths=(width, 2 * width, 4 * width))
    if r.model == "mnist1d_cnn":
        return MNIST1DConvNet(num_classes=data.num_classes)
    if r.model == "mlp":
        return MLP(data.in_features, list(r.hidden), data.num_classes, activation=r.activation,
                   dropout=r.dropout, batch_norm=r.batch_norm)
    raise ValueError(f"recipe {r.name!r}: unknown model {r.model!r}")


def loss_for(r: Recipe) -> Callable[[gu.Tensor, gu.Tensor], gu.Tensor]:
    if r.model == "logistic":
        return lambda out, y: F.binary_cross_entropy_with_logits(out.squeeze(-1), y.float())
    return F.cross_entropy


def build_optimizer(r: Recipe, model: nn.Module) -> optim.Optimizer:
    params = model.parameters()
    if r.lr <= 0:
        raise ValueError(f"recipe {r.name!r}: the learning rate must be positive, got {r.lr}")
    if r.optimizer == "sgd":
        return optim.SGD(params, lr=r.lr, momentum=r.momentum, weight_decay=r.weight_decay)
    factories = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
                 "adagrad": optim.Adagrad, "nadam": optim.NAdam}
    if r.optimizer not in factories:
        raise ValueError(f"recipe {r.name!r}: unknown optimizer {r.optimizer!r}; choose sgd or {', '.join(factories)}")
    return factories[r.optimizer](params, lr=r.lr, weight_decay=r.weight_decay)


def build_scheduler(r: Recipe, opt: optim.Optimizer, epochs: int, steps_per_epoch: int) -> tuple[Any, str]:
    """The learning-rate schedule and whether it steps per ``'epoch'`` or per ``'step'``."""
    sched = optim.lr_scheduler
    if r.schedule == "none":
        return None, "epoch"
    if r.schedule == "step":
        return sched.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1), "epoch"
    if r.schedule == "cosine":
        return sched.CosineAnnealingLR(opt, T_max=epochs), "epoch"
    if r.schedule == "exponential":
        return sched.ExponentialLR(opt, gamma=0.9), "epoch"
    if r.schedule == "onecycle":
        return sched.OneCycleLR(opt, max_lr=r.lr, total_steps=epochs * steps_per_epoch), "step"
    raise ValueError(f"recipe {r.name!r}: unknown schedule {r.schedule!r}; "
                     "choose none, step, cosine, exponential or onecycle")


def _train_perceptron(r: Recipe, data: Data, out: Path) -> dict[str, Any]:
    model = Perceptron(data.in_features)
    mistakes = model.fit(data.x_train, data.y_train, epochs=r.epochs, lr=r.lr,
                         generator=gu.Generator().manual_seed(r.seed))
    acc = metrics.accuracy(model(data.x_test), data.y_test)
    ckpt = out / "last.safetensors"
    gu.save({"format": "groundup-perceptron", "model": model.state_dict(), "mistakes": list(mistakes),
             "extra": {"recipe": r.to_dict()}}, ckpt)
    return {"test_accuracy": acc, "epochs_run": len(mistakes), "mistakes_per_epoch": list(mistakes),
            "checkpoint": str(ckpt), "model": model}


def train(r: Recipe, out_dir: str | Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train recipe ``r``, writing checkpoints, history, plots and ``results.json`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last.safetensors"
    if resume and not last.exists():
        raise FileNotFoundError(f"--resume: no checkpoint to resume from at {last}; run without --resume first")
    gu.manual_seed(r.seed)
    start = time.perf_counter()
    if r.task != "classify":
        results = task_module(r.task).train(r, out, resume=resume, progress=progress)
        return _finish(r, results, start, out)
    data = load_data(r)
    if r.model == "perceptron":
        results = _train_perceptron(r, data, out)
        model = results.pop("model")
    else:
        model = build_model(r, data)
        loader_gen = gu.Generator().manual_seed(r.seed)
        train_loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=r.batch_size,
                                  shuffle=True, generator=loader_gen)
        augment = build_augmentation(r, loader_gen)
        if augment is not None:
            train_loader = AugmentedLoader(train_loader, augment)
        val_loader = None
        if data.x_val is not None:
            val_loader = DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=1024)
        epochs = r.epochs if r.steps is None else math.ceil(r.steps / len(train_loader))
        opt = build_optimizer(r, model)
        scheduler, interval = build_scheduler(r, opt, epochs, len(train_loader))
        monitor = "val_loss" if val_loader is not None else "train_loss"
        trainer = Trainer(model, opt, loss_for(r), scheduler=scheduler, scheduler_interval=interval,
                          metrics={"acc": metrics.accuracy}, progress=progress, callbacks=[
                              ModelCheckpoint(out, monitor=monitor, extra={"recipe": r.to_dict()}),
                              CSVLogger(out / "history.csv"), JSONLogger(out / "history.json")])
        trainer.fit(train_loader, epochs, val_loader=val_loader, resume_from=last if resume else None)
        test_loader = DataLoader(TensorDataset(data.x_test, data.y_test), batch_size=1024)
        results = {"test_accuracy": trainer.evaluate(test_loader)["acc"], "epochs_run": trainer.epoch,
                   "checkpoint": str(last), "best_checkpoint": str(out / "best.safetensors")}
        results["plots"] = _plots(r, model, data, trainer, out)
    if r.model == "perceptron" and data.in_features == 2:
        import groundup.plot as gplot

        results["plots"] = {"decision_boundary": _plot(lambda p: gplot.plot_decision_boundary(
            model, data.x_train, data.y_train, p), out / "decision_boundary.png")}
    return _finish(r, results, start, out)


def reached_target(r: Recipe, value: float) -> bool | None:
    """Whether ``value`` of ``r.metric`` meets the recipe's target: at most the target for a loss-like
    metric (:attr:`Recipe.lower_is_better`), at least it otherwise; None when the recipe has no target."""
    if r.target is None:
        return None
    return bool(value <= r.target) if r.lower_is_better else bool(value >= r.target)


def _finish(r: Recipe, results: dict[str, Any], start: float, out: Path) -> dict[str, Any]:
    """Add the run's name, time and target to ``results`` and write them to ``out/results.json``."""
    if r.metric not in results:
        raise ValueError(f"recipe {r.name!r}: its run reported no {r.metric!r} (it reported {sorted(results)})")
    results.update(recipe=r.name, metric=r.metric, seconds=round(time.perf_counter() - start, 2), target=r.target,
                   reached_target=reached_target(r, results[r.metric]))
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    results["results"] = str(out / "results.json")
    return results


def _plot(fn: Callable[[Path], Any], path: Path) -> str | None:
    """Draw with ``fn`` if matplotlib is installed; plots are a bonus, never a reason to fail a run."""
    try:
        fn(path)
    except ImportError:
        return None
    return str(path)


def _plots(r: Recipe, model: nn.Module, data: Data, trainer: Trainer, out: Path) -> dict[str, str | None]:
    import groundup.plot as gplot

    plots = {"history": _plot(lambda p: gplot.plot_history(trainer.history, p), out / "history.png")}
    with gu.no_grad():
        pred = trainer.predict(data.x_test).argmax(dim=1)
    cm = metrics.confusion_matrix(pred, data.y_test, data.num_classes)
    plots["confusion_matrix"] = _plot(lambda p: gplot.plot_confusion_matrix(cm, p), out / "confusion_matrix.png")
    if data.image_shape is not None:
        # the first layer's weights as pictures: a dense layer's rows are whole images, a
        # convolution's rows are its (kh, kw) filters
        first = next(m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d)))
        w = first.weight.detach()  # (out, 784) or (out, 1, kh, kw)
        shape = data.image_shape if isinstance(first, nn.Linear) else tuple(w.shape[-2:])
        plots["first_layer_weights"] = _plot(
            lambda p: gplot.plot_weights_as_images(w.reshape(w.shape[0], -1), p, shape=shape),
            out / "first_layer_weights.png")
    if data.in_features == 2 and data.x_train.ndim == 2:
        plots["decision_boundary"] = _plot(
            lambda p: gplot.plot_decision_boundary(model, data.x_train, data.y_train, p), out / "decision_boundary.png")
    return plots


def _recipe_in(checkpoint: str | Path) -> tuple[Recipe, Any]:
    """The recipe stored in a checkpoint written by ``groundup train``, and the loaded checkpoint."""
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file at {str(path)!r}")
    saved = gu.load(path)
    recipe_dict = (saved.get("extra") or {}).get("recipe") if isinstance(saved, dict) else None
    if recipe_dict is None:
        raise ValueError(f"{str(path)!r} holds no recipe; it was not written by `groundup train`")
    return Recipe.from_dict(recipe_dict), saved


def evaluate(checkpoint: str | Path) -> dict[str, Any]:
    """Rebuild the run stored in ``checkpoint`` (its recipe is inside) and measure it on the test split."""
    r, saved = _recipe_in(checkpoint)
    gu.manual_seed(r.seed)
    if r.task != "classify":
        res = task_module(r.task).evaluate(r, Path(checkpoint))
        return {"recipe": r.name, "checkpoint": str(checkpoint), "metric": r.metric, **res}
    data = load_data(r)
    model = build_model(r, data)
    if r.model == "perceptron":
        model.load_state_dict(saved["model"])
    else:
        load_checkpoint(checkpoint, model)
    model.eval()
    with gu.no_grad():
        out = model(data.x_test)
    return {"recipe": r.name, "checkpoint": str(checkpoint), "metric": r.metric,
            "test_accuracy": metrics.accuracy(out, data.y_test), "test_size": int(data.x_test.shape[0])}


def check_sampling(max_new_tokens: int, temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Reject sampling settings that make no sense, naming the ``groundup generate`` flag and the rule."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens (--max-new-tokens) must be an int >= 0, got {max_new_tokens!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature (--temperature) must be a finite number >= 0 (0 means greedy), "
                         f"got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1):
        raise ValueError(f"top_k (--top-k) must be an int >= 1 or None, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, numbers.Real) or not 0 < top_p <= 1):
        raise ValueError(f"top_p (--top-p) must lie in (0, 1] or be None, got {top_p!r}")


def generate(checkpoint: str | Path, prompt: str = "", *, max_new_tokens: int = 500, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None) -> str:
    """Continue ``prompt`` with the language model stored in ``checkpoint``; returns only the new text.

    The checkpoint's recipe names its task module, whose ``generate(recipe, checkpoint, prompt, *,
    max_new_tokens, temperature, top_k, top_p, seed)`` rebuilds the model and vocabulary from the
    checkpoint alone and samples: temperature first (0 is greedy), then top-k, then top-p (see
    :mod:`groundup.models.sampling`). The same ``seed`` gives the same text; None draws fresh entropy.
    """
    check_sampling(max_new_tokens, temperature, top_k, top_p)
    r, _ = _recipe_in(checkpoint)
    module = None if r.task == "classify" else task_module(r.task)
    if module is None or not callable(getattr(module, "generate", None)):
        raise ValueError(f"recipe {r.name} (task {r.task}) does not generate text; only language-model recipes do")
    return module.generate(r, Path(checkpoint), prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                           top_k=top_k, top_p=top_p, seed=seed)
