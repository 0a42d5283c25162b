"""Training helpers on top of the plain loop: ``Trainer``, callbacks, metrics, checkpoints, LR finder.

- :mod:`~groundup.train.trainer`: ``Trainer`` (fit/evaluate/predict) and ``History``.
- :mod:`~groundup.train.callbacks`: ``Callback`` hooks, ``ProgressBar``, ``EarlyStopping``,
  ``ModelCheckpoint``, ``CSVLogger``, ``JSONLogger``.
- :mod:`~groundup.train.metrics`: accuracy, top-k, confusion matrix, precision/recall/F1, IoU, and for
  language models perplexity, bits per token/character and the running ``LMLoss``.
- :mod:`~groundup.train.checkpoint`: ``save_checkpoint``/``load_checkpoint`` for exact resumption.
- :mod:`~groundup.train.lr_finder`: Leslie Smith's learning-rate range test.

Everything here is optional: the PyTorch-style loop written by hand works just as well.
"""

from groundup.train import metrics
from groundup.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    ModelCheckpoint,
    ProgressBar,
)
from groundup.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from groundup.train.lr_finder import lr_finder, plot_lr_finder, suggest_lr
from groundup.train.trainer import History, Trainer

__all__ = [
    "CSVLogger",
    "Callback",
    "CheckpointError",
    "EarlyStopping",
    "History",
    "JSONLogger",
    "ModelCheckpoint",
    "ProgressBar",
    "Trainer",
    "load_checkpoint",
    "lr_finder",
    "metrics",
    "plot_lr_finder",
    "save_checkpoint",
    "suggest_lr",
]
