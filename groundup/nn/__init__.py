"""Neural-network building blocks. For now the functional face; ``Module`` and the layers follow."""

from groundup.nn import functional

__all__ = ["functional"]
