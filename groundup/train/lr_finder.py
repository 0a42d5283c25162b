"""The learning-rate range test: find a good learning rate in one short run.

Leslie Smith, "Cyclical Learning Rates for Training Neural Networks" (WACV 2017), Section 3.3:
train for a few iterations while the learning rate grows from tiny to huge (exponentially by
default), and record the loss. The loss first barely moves (lr too small), then falls quickly,
then blows up (lr too large). A good learning rate lies where the loss falls fastest: the
steepest downward slope of the (smoothed) loss against log(lr). This follows the
``torch-lr-finder`` package: exponential smoothing of the loss, a stop once it exceeds
``diverge_th`` times the best loss, and the model and optimizer restored afterwards, so the test
leaves no trace on them (the global RNG does advance, as with any training).
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from groundup.nn.module import Module

__all__ = ["lr_finder", "suggest_lr", "plot_lr_finder"]


def _batches(loader: Iterable) -> Any:
    """Batches from ``loader`` forever, starting a new epoch whenever it runs out."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_finder: the loader yielded no batches")


def lr_finder(
    model: Module,
    optimizer: Any,
    loss_fn: Callable[[Any, Any], Any],
    loader: Iterable,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iters: int = 100,
    step_mode: str = "exp",
    smooth_f: float = 0.05,
    diverge_th: float = 5.0,
) -> tuple[list[float], list[float]]:
    """Run the range test; returns ``(lrs, losses)``: the lr of each step and the smoothed loss.

    Step ``i`` of ``n = num_iters`` trains one batch with ``lr_i = start·(end/start)^(i/(n-1))``
    (``step_mode='exp'``) or ``start + (end-start)·i/(n-1)`` (``'linear'``). The recorded loss is
    ``smooth_f·loss_i + (1-smooth_f)·previous``; the test stops early once it exceeds
    ``diverge_th`` times the best so far (or is not finite). Afterwards the weights, the
    optimizer's state and options and the train/eval mode are as before; gradients are cleared.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_finder: need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if isinstance(num_iters, bool) or not isinstance(num_iters, int) or num_iters < 2:
        raise ValueError(f"lr_finder: num_iters must be an int >= 2, got {num_iters!r}")
    if step_mode not in ("exp", "linear"):
        raise ValueError(f"lr_finder: step_mode must be 'exp' or 'linear', got {step_mode!r}")
    if not 0 <= smooth_f < 1:
        raise ValueError(f"lr_finder: smooth_f must be in [0, 1), got {smooth_f!r}")
    if not diverge_th > 1:
        raise ValueError(f"lr_finder: diverge_th must be > 1, got {diverge_th!r}")

    model_state = copy.deepcopy(model.state_dict())
    optim_state = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    lrs: list[float] = []
    losses: list[float] = []
    try:
        model.train()
        batches = _batches(loader)
        best = math.inf
        for i in range(num_iters):
            t = i / (num_iters - 1)
            lr = start_lr * (end_lr / start_lr) ** t if step_mode == "exp" else start_lr + (end_lr - start_lr) * t
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = next(batches)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            value = float(loss.item())
            if losses and smooth_f > 0:
                value = smooth_f * value + (1 - smooth_f) * losses[-1]
            lrs.append(lr)
            losses.append(value)
            best = min(best, value)
            if not math.isfinite(value) or value > diverge_th * best:
                break
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optim_state)
        optimizer.zero_grad()
        model.train(was_training)
    return lrs, losses


def suggest_lr(lrs: Iterable[float], losses: Iterable[float], skip_start: int = 10, skip_end: int = 5) -> float:
    """The lr where the loss falls fastest: the most negative slope of loss against log10(lr).

    The first ``skip_start`` and last ``skip_end`` points (noisy start, divergence) are ignored
    when enough points remain.
    """
    lrs, losses = np.asarray(list(lrs), dtype=np.float64), np.asarray(list(losses), dtype=np.float64)
    if lrs.shape != losses.shape or lrs.ndim != 1 or len(lrs) < 2:
        raise ValueError("suggest_lr: need lrs and losses of the same length, at least 2 points")
    if len(lrs) - skip_start - skip_end >= 2:
        lrs, losses = lrs[skip_start : len(lrs) - skip_end], losses[skip_start : len(losses) - skip_end]
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    if len(lrs) < 2:
        raise ValueError("suggest_lr: fewer than 2 finite losses to take a slope from")
    slope = np.gradient(losses, np.log10(lrs))
    return float(lrs[int(np.argmin(slope))])


def plot_lr_finder(lrs: Iterable[float], losses: Iterable[float], path: str | os.PathLike,
                   mark_suggestion: bool = True) -> str:
    """Plot loss against lr (log x axis), mark the suggested lr, and write a PNG to ``path``."""
    try:
        from matplotlib.figure import Figure  # object API: never touches pyplot's global backend
    except ImportError as e:
        raise ImportError("plot_lr_finder needs matplotlib: pip install 'groundup[plot]'") from e
    lrs, losses = list(lrs), list(losses)
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(lrs, losses)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    if mark_suggestion:
        lr = suggest_lr(lrs, losses)
        ax.scatter([lr], [losses[lrs.index(lr)]], color="red", zorder=3, label=f"suggested lr = {lr:.2e}")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    return str(path)
