"""Utilities that sit beside the model code; today only :mod:`groundup.utils.data` (as ``torch.utils``)."""

from groundup.utils import data

__all__ = ["data"]
