"""``Trainer``: the plain PyTorch training loop, written once, with hooks for callbacks.

One training step is the loop every PyTorch tutorial writes by hand::

    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y) + penalties      # optional L1/L2 on the weights
        loss.backward()
        clip the gradients                      # optional
        optimizer.step()
        scheduler.step()                        # if it steps per batch

and after each epoch the model is evaluated under ``no_grad()`` in ``eval()`` mode, an
epoch-interval scheduler steps, and callbacks (progress bar, early stopping, checkpoints, logs)
see the epoch's numbers. Nothing here is magic: you can always write the loop above yourself.
"""

from __future__ import annotations

import csv
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from groundup.autograd import no_grad
from groundup.functions.movement import cat
from groundup.nn.module import Module
from groundup.nn.utils import clip_grad_norm_, clip_grad_value_
from groundup.optim.lr_scheduler import ReduceLROnPlateau
from groundup.tensor import Tensor
from groundup.train.callbacks import Callback, ProgressBar
from groundup.train.checkpoint import load_checkpoint, save_checkpoint
from groundup.train.metrics import Mean

__all__ = ["History", "Trainer"]


class History:
    """Per-epoch records of a ``fit``: one dict per epoch, and ``history["val_loss"]`` as a column.

    Keys: ``epoch`` (1-based), ``train_loss``, ``train_<metric>``, ``val_loss``, ``val_<metric>``
    (with a validation loader), ``lr`` (first parameter group, at the epoch's start) and ``time``
    (seconds the epoch took).
    """

    def __init__(self, records: Iterable[dict] = ()) -> None:
        self.records: list[dict[str, float]] = [dict(r) for r in records]

    def append(self, record: dict[str, float]) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: str) -> list[float]:
        if not self.records or key not in self.records[-1]:
            raise KeyError(f"History has no column {key!r}; it has {self.keys()}")
        return [r.get(key, float("nan")) for r in self.records]

    def keys(self) -> list[str]:
        """Column names in first-seen order."""
        return list(dict.fromkeys(k for r in self.records for k in r))

    def to_dict(self) -> dict[str, list[float]]:
        """Columns as ``{name: [value per epoch]}`` (what checkpoints store)."""
        return {k: self[k] for k in self.keys()}

    @classmethod
    def from_dict(cls, columns: dict[str, list[float]] | None) -> History:
        columns = columns or {}
        n = max((len(v) for v in columns.values()), default=0)
        return cls({k: v[i] for k, v in columns.items()} for i in range(n))

    def to_csv(self, path: str | os.PathLike) -> str:
        """Write one row per epoch with a header line; returns the path."""
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.keys(), restval="")
            writer.writeheader()
            writer.writerows(self.records)
        return str(path)

    def to_json(self, path: str | os.PathLike) -> str:
        """Write the records as a JSON list of per-epoch objects; returns the path."""
        with open(path, "w") as f:
            json.dump(self.records, f, indent=1)
        return str(path)

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, keys={self.keys()})"


def _inputs(batch: Any) -> Any:
    """The model input of a batch: ``x`` from ``(x, y)``/``(x,)``, or the batch itself."""
    if isinstance(batch, (tuple, list)):
        return batch[0]
    return batch


def _size(t: Any) -> int:
    return int(t.shape[0]) if hasattr(t, "shape") and len(t.shape) else 1


def _loader_generator(loader: Any) -> Any:
    """The DataLoader's own shuffling Generator, if it has one (checkpoints store its state)."""
    gen = getattr(loader, "generator", None)
    return gen if gen is not None else getattr(getattr(loader, "sampler", None), "generator", None)


class Trainer:
    """Fit, evaluate and predict with a model, an optimizer and a loss function.

    Args:
        model: the ``Module`` to train.
        optimizer: a ``groundup.optim`` optimizer over ``model``'s parameters.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``).
        scheduler: an ``lr_scheduler``; stepped every ``scheduler_interval`` (``'epoch'`` or
            ``'step'``, i.e. per batch). ``ReduceLROnPlateau`` steps per epoch with the validation
            loss (the training loss when there is no validation loader).
        metrics: ``{name: fn(output, target) -> float}``, e.g. ``{"acc": metrics.accuracy}``;
            averaged over an epoch weighted by batch size.
        callbacks: ``Callback`` objects, called in order.
        grad_clip_norm / grad_clip_value: clip the gradients' total norm / each entry before the step.
        l1, l2: add ``l1·Σ|w| + l2·Σw²`` over the weights (parameters with ``ndim >= 2``; biases and
            normalization parameters are left alone, as is conventional) to the training loss.
            ``l2=λ/2`` matches an optimizer's ``weight_decay=λ``.
        progress: ``True`` a tqdm bar per epoch, ``False`` one printed line per epoch, ``None``
            silent.

    ``train_loss`` in the history includes the penalties (it is what is minimized); ``val_loss``
    is ``loss_fn`` alone.
    """

    def __init__(
        self,
        model: Module,
        optimizer: Any,
        loss_fn: Callable[[Any, Any], Tensor],
        *,
        scheduler: Any = None,
        scheduler_interval: str = "epoch",
        metrics: dict[str, Callable[[Any, Any], float]] | None = None,
        callbacks: Iterable[Callback] = (),
        grad_clip_norm: float | None = None,
        grad_clip_value: float | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
        progress: bool | None = True,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError("Trainer: loss_fn must be callable as loss_fn(output, target)")
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval == "step":
            raise ValueError("Trainer: ReduceLROnPlateau needs a loss to step on; use scheduler_interval='epoch'")
        for name, value in (("grad_clip_norm", grad_clip_norm), ("grad_clip_value", grad_clip_value)):
            if value is not None and not value > 0:
                raise ValueError(f"Trainer: {name} must be positive, got {value!r}")
        if not (l1 >= 0 and l2 >= 0):
            raise ValueError(f"Trainer: l1 and l2 must be non-negative, got l1={l1!r}, l2={l2!r}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.metrics = dict(metrics or {})
        self.callbacks = list(callbacks)
        if progress is not None and not any(isinstance(c, ProgressBar) for c in self.callbacks):
            self.callbacks.insert(0, ProgressBar(bar=bool(progress)))
        self.grad_clip_norm, self.grad_clip_value = grad_clip_norm, grad_clip_value
        self.l1, self.l2 = l1, l2
        self.history = History()
        self.epoch = 0  # epochs completed
        self.epochs = 0
        self.num_batches: int | None = None
        self.stop_training = False
        self._train_loader: Any = None

    # ------------------------------------------------------------------ helpers
    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)  # duck-typed callbacks may define only some hooks
            if method is not None:
                method(self, *args)

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def penalty(self) -> Tensor | None:
        """``l1·Σ|w| + l2·Σw²`` over parameters with ``ndim >= 2``, or None when both are 0."""
        if not (self.l1 or self.l2):
            return None
        total = None
        for p in self.model.parameters():
            if p.ndim >= 2:
                term = 0.0
                if self.l1:
                    term = term + self.l1 * p.abs().sum()
                if self.l2:
                    term = term + self.l2 * (p * p).sum()
                total = term if total is None else total + term
        return total

    def _run_metrics(self, out: Any, y: Any, n: int, means: dict[str, Mean]) -> None:
        for name, fn in self.metrics.items():
            means.setdefault(name, Mean()).update(fn(out, y), n)

    # ------------------------------------------------------------------ the loop
    def train_epoch(self, loader: Iterable) -> dict[str, float]:
        """One pass over ``loader`` in training mode; returns ``{"loss": ..., <metric>: ...}``."""
        self.model.train()
        means: dict[str, Mean] = {"loss": Mean()}
        for i, (x, y) in enumerate(loader):
            self._call("on_batch_start", i)
            self.optimizer.zero_grad()
            out = self.model(x)
            loss = self.loss_fn(out, y)
            penalty = self.penalty()
            if penalty is not None:
                loss = loss + penalty
            loss.backward()
            if self.grad_clip_norm is not None:
                clip_grad_norm_(self.model.parameters(), self.grad_clip_norm)
            if self.grad_clip_value is not None:
                clip_grad_value_(self.model.parameters(), self.grad_clip_value)
            self._call("on_before_optimizer_step")
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            value, n = loss.item(), _size(y)
            means["loss"].update(value, n)
            self._run_metrics(out, y, n, means)
            self._call("on_batch_end", i, value)
        if means["loss"].weight == 0:
            raise ValueError("fit: the training loader yielded no batches; check the dataset and batch_size")
        return {k: m.compute() for k, m in means.items()}

    def evaluate(self, loader: Iterable) -> dict[str, float]:
        """Mean loss and metrics over ``loader``, in eval mode and without building a graph."""
        self.model.eval()
        means: dict[str, Mean] = {"loss": Mean()}
        with no_grad():
            for x, y in loader:
                out = self.model(x)
                n = _size(y)
                means["loss"].update(self.loss_fn(out, y).item(), n)
                self._run_metrics(out, y, n, means)
        if means["loss"].weight == 0:
            raise ValueError("evaluate: the loader yielded no batches; check the dataset and batch_size")
        return {k: m.compute() for k, m in means.items()}

    def predict(self, data: Any, batch_size: int = 1024) -> Tensor:
        """The model's outputs for a Tensor (in chunks of ``batch_size``) or for every batch of a
        loader (``(x, y)`` batches use ``x``), concatenated along the first axis.
        """
        self.model.eval()
        if isinstance(data, Tensor):
            data = [data[i : i + batch_size] for i in range(0, data.shape[0], batch_size)]
        with no_grad():
            outputs = [self.model(_inputs(batch)) for batch in data]
        if not outputs:
            raise ValueError("predict: no data to predict on (empty tensor or loader)")
        return cat(outputs, 0)

    def fit(self, train_loader: Iterable, epochs: int, val_loader: Iterable | None = None,
            resume_from: str | os.PathLike | None = None) -> History:
        """Train until ``epochs`` epochs have been completed (counting those of a resumed run).

        ``resume_from``: a checkpoint written by ``save_checkpoint``/``ModelCheckpoint``; the
        model, optimizer, scheduler, RNG states and history are restored and training continues
        from the next epoch, exactly as if it had never stopped.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
            raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
        self._train_loader, self.epochs, self.epoch = train_loader, epochs, 0
        self.num_batches = len(train_loader) if hasattr(train_loader, "__len__") else None
        self.history, self.stop_training = History(), False
        if resume_from is not None:
            state = load_checkpoint(resume_from, self.model, self.optimizer, self.scheduler,
                                    generator=_loader_generator(train_loader))
            self.epoch, self.history = state["epoch"], History.from_dict(state["history"])
            if self.epoch >= epochs:
                warnings.warn(f"fit: the checkpoint has already completed {self.epoch} of {epochs} epochs; "
                              "nothing to train (raise epochs to continue)", stacklevel=2)

        self._call("on_fit_start")
        while self.epoch < epochs and not self.stop_training:
            self._call("on_epoch_start", self.epoch)
            lr, start = self._lr(), time.perf_counter()
            logs: dict[str, float] = {"epoch": self.epoch + 1}
            logs.update({f"train_{k}": v for k, v in self.train_epoch(train_loader).items()})
            if val_loader is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
            if self.scheduler is not None and self.scheduler_interval == "epoch":
                if isinstance(self.scheduler, ReduceLROnPlateau):
                    self.scheduler.step(logs.get("val_loss", logs["train_loss"]))
                else:
                    self.scheduler.step()
            logs.update(lr=lr, time=time.perf_counter() - start)
            self.epoch += 1
            self.history.append(logs)
            self._call("on_epoch_end", self.epoch - 1, logs)
        self._call("on_fit_end")
        return self.history

    def save_checkpoint(self, path: str | os.PathLike, extra: Any = None) -> str:
        """Save everything ``fit(resume_from=path)`` needs to continue exactly; returns the path."""
        return str(save_checkpoint(
            path, self.model, self.optimizer, self.scheduler, epoch=self.epoch,
            history=self.history.to_dict(), generator=_loader_generator(self._train_loader), extra=extra,
        ))
