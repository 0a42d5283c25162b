"""Optimizers and learning-rate schedulers with ``torch.optim``'s names and semantics.

One file per optimizer family; each class docstring writes out its update rule. Schedulers live
in :mod:`groundup.optim.lr_scheduler`.
"""

from groundup.optim import lr_scheduler
from groundup.optim.adadelta import Adadelta
from groundup.optim.adagrad import Adagrad
from groundup.optim.adam import Adam
from groundup.optim.adamax import Adamax
from groundup.optim.adamw import AdamW
from groundup.optim.nadam import NAdam
from groundup.optim.optimizer import Optimizer
from groundup.optim.rmsprop import RMSprop
from groundup.optim.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
