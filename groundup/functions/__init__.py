"""Differentiable primitives: one ``Function`` subclass per op, grouped by family in a file each."""
