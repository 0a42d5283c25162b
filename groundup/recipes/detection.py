"""Recipes of the detection task (being written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from groundup.recipes import Recipe

RECIPES: list[Recipe] = []


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    raise NotImplementedError(r.name)


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    raise NotImplementedError(r.name)
