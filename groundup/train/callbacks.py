"""Callbacks: small objects the ``Trainer`` calls at fixed points of the loop.

Subclass :class:`Callback` and override the hooks you need; each receives the trainer first, so
it can read ``trainer.model``, ``trainer.history``, ``trainer.epoch`` or stop training by setting
``trainer.stop_training = True``. Order of calls during ``fit``::

    on_fit_start
      on_epoch_start(epoch)                       epoch counts from 0
        on_batch_start(i) → on_before_optimizer_step → on_batch_end(i, loss)    per batch
      on_epoch_end(epoch, logs)                   logs: train_loss, val_loss, metrics, lr, time
    on_fit_end
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundup.train.metrics import Mean

if TYPE_CHECKING:
    from groundup.train.trainer import Trainer

__all__ = ["Callback", "ProgressBar", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "JSONLogger"]


class Callback:
    """Base class with a no-op for every hook."""

    def on_fit_start(self, trainer: Trainer) -> None: ...
    def on_fit_end(self, trainer: Trainer) -> None: ...
    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None: ...
    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None: ...
    def on_batch_start(self, trainer: Trainer, batch_index: int) -> None: ...
    def on_before_optimizer_step(self, trainer: Trainer) -> None: ...
    def on_batch_end(self, trainer: Trainer, batch_index: int, loss: float) -> None: ...


def _format(logs: dict[str, float]) -> str:
    parts = []
    for k, v in logs.items():
        if k == "epoch":
            continue
        parts.append(f"{k}={v:.3g}s" if k == "time" else f"{k}={v:.4g}")
    return " ".join(parts)


class ProgressBar(Callback):
    """A tqdm bar per epoch showing the running loss, then the epoch's numbers.

    ``bar=False``, or tqdm missing (``pip install 'groundup[progress]'``), prints one line per
    epoch instead.
    """

    def __init__(self, bar: bool = True) -> None:
        self.bar = bar
        self._tqdm: Any = None
        self._pbar: Any = None
        self._loss = Mean()

    def on_fit_start(self, trainer: Trainer) -> None:
        self._tqdm = None
        if self.bar:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                warnings.warn("ProgressBar: tqdm is not installed (pip install 'groundup[progress]'); "
                              "printing one line per epoch instead", stacklevel=2)
            else:
                self._tqdm = tqdm

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self._loss.reset()
        if self._tqdm is not None:
            self._pbar = self._tqdm(total=trainer.num_batches, desc=f"epoch {epoch + 1}/{trainer.epochs}",
                                    dynamic_ncols=True)

    def on_batch_end(self, trainer: Trainer, batch_index: int, loss: float) -> None:
        if self._pbar is not None:
            self._loss.update(loss)
            self._pbar.set_postfix(loss=f"{self._loss.compute():.4g}", refresh=False)
            self._pbar.update(1)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self._pbar is not None:
            self._pbar.set_postfix_str(_format(logs))
            self._pbar.close()
            self._pbar = None
        else:
            print(f"epoch {epoch + 1}/{trainer.epochs}: {_format(logs)}", flush=True)


class _Monitor:
    """Tracks the best value of one logged quantity (``mode='min'`` or ``'max'``)."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', got {mode!r}")
        if not min_delta >= 0:
            raise ValueError(f"{owner}: min_delta must be >= 0, got {min_delta!r}")
        self.owner, self.monitor, self.mode, self.min_delta = owner, monitor, mode, min_delta
        self.reset()

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def replay(self, records: list[dict[str, float]]) -> list[bool]:
        """Start over and feed the epochs already in a (resumed) history; whether each one improved.

        A fit resumed from a checkpoint gets its history back, so the best value so far, and whatever a
        callback counts from it, continues as if the run had never stopped. Epochs whose logs lack the
        monitored value do not count.
        """
        self.reset()
        return [self.monitor in logs and self.improved(logs) for logs in records]

    def improved(self, logs: dict[str, float]) -> bool:
        """Read the monitored value; if it beats the best by more than ``min_delta``, keep it."""
        if self.monitor not in logs:
            raise KeyError(
                f"{self.owner}: monitor={self.monitor!r} is not in the epoch logs {sorted(logs)}; "
                "pass val_loader to fit() for 'val_*' keys, or monitor a 'train_*' key"
            )
        value = float(logs[self.monitor])
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:  # NaN never improves
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` the model gets the weights of its best epoch back when
    training ends (whether it stopped early or ran out of epochs). A fit resumed from a checkpoint
    recounts the best value and the epochs without improvement from the restored history; if the best
    epoch came before the resume, its weights are not in the checkpoint, so the model keeps its last
    weights and a warning points to ``ModelCheckpoint``'s ``best.safetensors``.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "min", restore_best_weights: bool = True) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be a non-negative int, got {patience!r}")
        self.tracker = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.on_fit_start(None)

    def on_fit_start(self, trainer: Trainer | None) -> None:
        self.wait, self.best_epoch, self.stopped_epoch, self.best_weights = 0, None, None, None
        records = trainer.history.records if trainer is not None else []
        for epoch, improved in enumerate(self.tracker.replay(records)):  # a resumed fit's earlier epochs
            self.wait, self.best_epoch = (0, epoch) if improved else (self.wait + 1, self.best_epoch)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.tracker.improved(logs):
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(trainer.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_fit_end(self, trainer: Trainer) -> None:
        if not self.restore_best_weights or self.best_epoch is None:
            return
        if self.best_weights is None:
            warnings.warn(f"EarlyStopping: the best epoch ({self.best_epoch + 1}) came before this fit resumed, and "
                          "its weights are not in the checkpoint; the model keeps its last weights (ModelCheckpoint's "
                          "best.safetensors holds the best ones)", stacklevel=2)
            return
        trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save resumable checkpoints to ``dirpath``: ``last.safetensors`` after every epoch and
    ``best.safetensors`` whenever ``monitor`` improves. Paths are kept in ``last_path`` /
    ``best_path`` (and printed with ``verbose=True``); resume with ``fit(resume_from=path)``.
    """

    def __init__(self, dirpath: str | os.PathLike, monitor: str = "val_loss", mode: str = "min",
                 save_last: bool = True, save_best: bool = True, verbose: bool = False,
                 extra: Any = None) -> None:
        self.dirpath = Path(dirpath)
        self.extra = extra  # stored in every checkpoint (e.g. the recipe that made the run)
        self.tracker = _Monitor("ModelCheckpoint", monitor, mode)
        self.save_last, self.save_best, self.verbose = save_last, save_best, verbose
        self.last_path: str | None = None
        self.best_path: str | None = None

    @property
    def best_score(self) -> float:
        return self.tracker.best

    def on_fit_start(self, trainer: Trainer) -> None:
        self.tracker.replay(trainer.history.records)  # a resumed fit keeps its best score

    def _save(self, trainer: Trainer, name: str) -> str:
        path = trainer.save_checkpoint(self.dirpath / name, extra=self.extra)
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}", flush=True)
        return path

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best and self.tracker.improved(logs):
            self.best_path = self._save(trainer, "best.safetensors")
        if self.save_last:
            self.last_path = self._save(trainer, "last.safetensors")


class CSVLogger(Callback):
    """Rewrite the history to a CSV file (one row per epoch) after every epoch."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        trainer.history.to_csv(self.path)


class JSONLogger(Callback):
    """Rewrite the history to a JSON file (a list of per-epoch objects) after every epoch."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        trainer.history.to_json(self.path)
