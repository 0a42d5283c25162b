"""Flatten parameters into one vector and back (for line searches, second-order methods, model
averaging): ``parameters_to_vector`` concatenates, ``vector_to_parameters`` slices the vector and
makes each parameter a view of its slice, as ``torch.nn.utils`` does."""

from __future__ import annotations

import math
from collections.abc import Iterable

from groundup.functions.movement import cat
from groundup.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All of ``parameters`` flattened and joined in order into one 1-D tensor (differentiable)."""
    vec = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, got {type(p).__name__} at position {i}")
        vec.append(p.reshape(-1))
    if not vec:
        raise ValueError("parameters_to_vector: expected a non-empty iterable of parameters")
    return cat(vec)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Point each parameter's data at its slice of ``vec`` (reshaped; the memory is shared).

    Like PyTorch's, this replaces ``param.data`` (no autograd record, no copy). ``vec`` must hold at
    least as many elements as the parameters; nothing is changed if it is too short.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected groundup.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    sizes = [math.prod(p.data.shape) for p in params]
    if vec.ndim != 1 or sum(sizes) > vec.data.shape[0]:
        raise RuntimeError(
            f"vector_to_parameters: vec of shape {tuple(vec.shape)} cannot fill parameters with "
            f"{sum(sizes)} elements in total (expected a 1-D vector of at least that many)"
        )
    pointer = 0
    for p, n in zip(params, sizes):
        p.data = vec.data[pointer : pointer + n].reshape(p.data.shape)
        pointer += n


__all__ = ["parameters_to_vector", "vector_to_parameters"]
