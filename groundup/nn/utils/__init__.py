"""``groundup.nn.utils``: gradient clipping and parameter/vector conversion, as ``torch.nn.utils``."""

from groundup.nn.utils import clip_grad, convert_parameters, rnn
from groundup.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from groundup.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "rnn",
    "clip_grad",
    "convert_parameters",
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
