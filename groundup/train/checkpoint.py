"""Training checkpoints that resume a run exactly, bit for bit.

A run's future depends on more than the weights: the optimizer's running averages (momentum,
Adam's moments and step count), the scheduler's position, the random number generators (dropout
masks, the shuffle order of the next epoch) and the epoch counter. ``save_checkpoint`` stores all of
them in one safetensors file through :func:`groundup.save` (no pickle; written to a temporary file
and renamed, so a crash mid-save never leaves a half-written checkpoint). ``load_checkpoint`` puts
every piece back; training then continues exactly as if it had never stopped.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from groundup.backend import Generator, get_rng_state, set_rng_state
from groundup.nn.module import Module
from groundup.serialization import SafetensorsError, load, save

__all__ = ["CheckpointError", "FORMAT_VERSION", "save_checkpoint", "load_checkpoint"]

FORMAT_VERSION = 1
_FORMAT = "groundup-checkpoint"


class CheckpointError(ValueError):
    """A checkpoint cannot be used: corrupt, truncated, not a checkpoint, or for another model."""


def save_checkpoint(
    path: str | os.PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    epoch: int = 0,
    history: dict | None = None,
    generator: Generator | None = None,
    extra: Any = None,
) -> Path:
    """Write everything needed to resume training to ``path`` (atomically) and return the path.

    Args:
        model, optimizer, scheduler: their ``state_dict()`` is stored (optimizer/scheduler optional).
        epoch: the number of epochs completed.
        history: the per-epoch records so far (a dict of lists, e.g. ``History.to_dict()``).
        generator: the DataLoader's shuffling ``Generator``, if it has its own; the global RNG
            (dropout, and shuffling without a generator) is always stored.
        extra: anything else ``groundup.save`` can store (numbers, strings, tensors, lists, dicts).
    """
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"save_checkpoint: epoch must be a non-negative int, got {epoch!r}")
    if hasattr(history, "to_dict"):  # a trainer's History
        history = history.to_dict()
    checkpoint = {
        "format": _FORMAT,
        "version": FORMAT_VERSION,
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": get_rng_state(),
        "loader_rng": None if generator is None else generator.get_state(),
        "history": history,
        "extra": extra,
    }
    try:
        save(checkpoint, path)
    except TypeError as e:
        raise TypeError(f"save_checkpoint: {e} (check `extra`, or a scheduler holding a lambda)") from e
    return Path(path)


def _read(path: str | os.PathLike) -> dict:
    """Load and sanity-check a checkpoint file, turning low-level failures into clear errors."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file at {str(path)!r}; check the path")
    try:
        ckpt = load(path)
    except SafetensorsError as e:
        raise CheckpointError(
            f"load_checkpoint: {str(path)!r} is corrupt or truncated and cannot be loaded ({e}). "
            "Resume from another checkpoint (e.g. the previous or the 'best' one) or start afresh."
        ) from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != _FORMAT:
        raise CheckpointError(
            f"load_checkpoint: {str(path)!r} is a safetensors file but not a groundup training "
            "checkpoint; if it holds a bare state_dict, use model.load_state_dict(groundup.load(path))"
        )
    if ckpt.get("version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"load_checkpoint: {str(path)!r} has format version {ckpt['version']}, newer than this "
            f"groundup understands ({FORMAT_VERSION}); upgrade groundup"
        )
    return ckpt


def load_checkpoint(
    path: str | os.PathLike,
    model: Module,
    optimizer: Any = None,
    scheduler: Any = None,
    *,
    generator: Generator | None = None,
    strict: bool = True,
) -> dict:
    """Restore a checkpoint written by :func:`save_checkpoint` into freshly built objects.

    Loads the model weights, then (when given) the optimizer's and scheduler's state, then the
    global RNG and ``generator``'s state. Either everything is restored or, on any error, nothing
    is changed. Returns ``{"epoch": ..., "history": ..., "extra": ...}``.
    """
    ckpt = _read(path)
    own = model.state_dict()
    missing = [k for k in own if k not in ckpt["model"]]
    unexpected = [k for k in ckpt["model"] if k not in own]
    if strict and (missing or unexpected):
        raise CheckpointError(
            f"load_checkpoint: {str(path)!r} was saved from a different model. "
            f"Missing from the checkpoint: {missing or 'none'}. Not in this model: {unexpected or 'none'}. "
            "Build the same architecture that was saved, or pass strict=False to load the common keys."
        )
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and ckpt[name] is None:
            raise CheckpointError(f"load_checkpoint: {str(path)!r} holds no {name} state; pass {name}=None")

    backup = [(obj, copy.deepcopy(obj.state_dict())) for obj in (model, optimizer, scheduler) if obj is not None]
    try:
        model.load_state_dict(ckpt["model"], strict=strict)
        if optimizer is not None:
            optimizer.load_state_dict(ckpt["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
    except Exception as e:
        for obj, state in backup:  # all or nothing: undo what was loaded before the failure
            obj.load_state_dict(state)
        raise CheckpointError(f"load_checkpoint: {str(path)!r} does not fit the given objects: {e}") from e

    set_rng_state(ckpt["rng"])
    if generator is not None and ckpt["loader_rng"] is not None:
        generator.set_state(ckpt["loader_rng"])
    return {"epoch": ckpt["epoch"], "history": ckpt["history"], "extra": ckpt["extra"]}
