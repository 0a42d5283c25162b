"""The multi-layer perceptron trained by backpropagation: D. E. Rumelhart, G. E. Hinton & R. J. Williams,
"Learning representations by back-propagating errors", Nature 323, 1986.

Layers of linear maps with a nonlinearity between them::

    h_0 = x
    h_i = act(h_{i-1} W_iᵀ + b_i)     for each hidden layer i = 1 … L
    y   = h_L W_outᵀ + b_out          (logits: no activation on the output layer)

Without the nonlinearity the stack would collapse into one linear map; with it, one hidden layer
is already a universal approximator (Cybenko 1989; Hornik, Stinchcombe & White 1989), and
XOR, which defeats the single perceptron, becomes easy. Each hidden block is
``Linear → [BatchNorm1d] → activation → [Dropout]``.

``MLP`` *is* an ``nn.Sequential``, so its ``state_dict`` keys are the ones a PyTorch user gets from
the same ``torch.nn.Sequential`` (``"0.weight"``, ``"0.bias"``, ``"2.weight"``, …; parameter-free
layers such as the activation take an index too), and weights move between the two by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from groundup import nn
from groundup.tensor import Tensor

__all__ = ["MLP"]

# name -> class name in groundup.nn (looked up when the model is built)
_ACTIVATIONS = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "selu": "SELU",
    "celu": "CELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "swish": "SiLU",
    "mish": "Mish",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "softplus": "Softplus",
    "softsign": "Softsign",
    "hardtanh": "Hardtanh",
    "hardsigmoid": "Hardsigmoid",
    "hardswish": "Hardswish",
    "prelu": "PReLU",
    "identity": "Identity",
}


def _activation_factory(activation: str | type | Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    """Turn ``'relu'``, ``nn.ReLU`` or a zero-argument factory into a factory of fresh modules."""
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_")
        by_class = {v.lower(): v for v in _ACTIVATIONS.values()}
        cls_name = _ACTIVATIONS.get(key) or by_class.get(key)
        if cls_name is None:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose one of {sorted(_ACTIVATIONS)}")
        if not hasattr(nn, cls_name):
            raise ValueError(f"MLP: activation {activation!r} needs groundup.nn.{cls_name}, which is not available")
        return getattr(nn, cls_name)
    if isinstance(activation, nn.Module):
        raise TypeError(
            f"MLP: pass the activation class or a factory (e.g. nn.{type(activation).__name__} or "
            f"lambda: nn.LeakyReLU(0.2)), not an instance, so that each layer gets its own module"
        )
    if callable(activation):
        return activation
    raise TypeError(f"MLP: activation must be a name, a Module class or a factory, got {type(activation).__name__}")


class MLP(nn.Sequential):
    """A fully connected network ``in_features → hidden_sizes… → out_features``.

    Args:
        in_features: size of each input sample ``D``.
        hidden_sizes: widths of the hidden layers, e.g. ``[16, 16]``; empty gives a single
            ``Linear`` (softmax/logistic regression).
        out_features: size of the output (number of classes, or 1 for one logit).
        activation: ``'relu'``, ``'tanh'``, ``'sigmoid'``, ``'gelu'``, ``'leaky_relu'``, ``'elu'``,
            ``'selu'``, ``'silu'``, … or an ``nn.Module`` class or zero-argument factory
            (``lambda: nn.LeakyReLU(0.2)``); a fresh module is made for every hidden layer.
        dropout: probability of the ``Dropout`` after each hidden activation (0 adds none).
        batch_norm: insert ``BatchNorm1d`` between each hidden ``Linear`` and its activation.
        bias: whether the ``Linear`` layers have a bias.

    The layers are this ``Sequential``'s entries ``0, 1, 2, …`` in the order
    ``Linear, [BatchNorm1d], activation, [Dropout]`` per hidden layer, then the output
    ``Linear``; ``MLP(2, [16, 16], 1)`` has keys ``0.*``, ``2.*``, ``4.*``, exactly as
    ``torch.nn.Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))``.
    The output is raw (logits); pair it with ``F.cross_entropy`` or
    ``F.binary_cross_entropy_with_logits``.
    """

    def __init__(
        self,
        in_features: int,
        hidden_sizes: Sequence[int],
        out_features: int,
        activation: str | type | Callable[[], nn.Module] = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        bias: bool = True,
    ) -> None:
        if isinstance(hidden_sizes, int):
            raise TypeError(f"MLP: hidden_sizes must be a sequence of ints, e.g. [{hidden_sizes}], not an int")
        sizes = [in_features, *hidden_sizes, out_features]
        for s in sizes:
            if not isinstance(s, int) or isinstance(s, bool) or s < 1:
                raise ValueError(f"MLP: layer sizes must be positive ints, got {sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP: dropout must be in [0, 1), got {dropout}")
        make_activation = _activation_factory(activation)
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
            layers.append(nn.Linear(fan_in, fan_out, bias=bias))
            if batch_norm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(make_activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-2], sizes[-1], bias=bias))
        super().__init__(*layers)
        self.in_features = in_features
        self.hidden_sizes = list(hidden_sizes)
        self.out_features = out_features

    def forward(self, x: Tensor) -> Tensor:
        # x: (N, in_features)
        for layer in self:
            x = layer(x)  # (N, width of this layer)
        return x  # (N, out_features)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):  # a slice of an MLP is a plain Sequential of the same layers
            return nn.Sequential(*list(self._modules.values())[idx])
        return super().__getitem__(idx)
