"""Recurrent layers: ``RNNCell``, ``LSTMCell``, ``GRUCell`` (one time step) and ``RNN``, ``LSTM``, ``GRU``
(whole sequences, stacked and optionally bidirectional), with PyTorch's signatures, parameter names and
gate orders, so ``state_dict`` tensors move between the two unchanged.

For input ``x_t`` and previous hidden state ``h`` (``σ`` the logistic sigmoid, ``⊙`` the elementwise product):

- Elman RNN (Elman 1990): ``h' = act(W_ih x_t + b_ih + W_hh h + b_hh)`` with ``act`` = tanh or relu.
- LSTM (Hochreiter & Schmidhuber 1997), gates stacked ``i, f, g, o`` in ``weight_ih`` / ``weight_hh``::

      i = σ(W_ii x_t + b_ii + W_hi h + b_hi)      f = σ(W_if x_t + b_if + W_hf h + b_hf)
      g = tanh(W_ig x_t + b_ig + W_hg h + b_hg)   o = σ(W_io x_t + b_io + W_ho h + b_ho)
      c' = f ⊙ c + i ⊙ g                          h' = o ⊙ tanh(c')

- GRU (Cho et al. 2014), gates stacked ``r, z, n``; the reset gate multiplies the *whole* hidden
  projection of the candidate, bias included (PyTorch's, and cuDNN's, variant)::

      r = σ(W_ir x_t + b_ir + W_hr h + b_hr)      z = σ(W_iz x_t + b_iz + W_hz h + b_hz)
      n = tanh(W_in x_t + b_in + r ⊙ (W_hn h + b_hn))
      h' = (1 - z) ⊙ n + z ⊙ h

The input projection of all time steps is one GEMM per layer and direction (``(T·B, I) @ (I, G·H)``); the
recurrence over time then runs as one fused op per layer and direction (``groundup/functions/recurrent.py``:
one ``(B, H) @ (H, G·H)`` product per step for all gates at once, and backpropagation through time written by
hand). The cells, packed sequences and float16 use the same equations composed from ordinary tensor ops
(:func:`_step`), so autograd differentiates them; the tests check the two paths against each other.
Every parameter starts as ``U(-1/√hidden_size, 1/√hidden_size)``, as in PyTorch.

``RNN``/``LSTM``/``GRU`` also take a ``PackedSequence`` (``groundup/nn/utils/rnn.py``): a batch of sequences
of different lengths, sorted by length and laid out time-major, so step ``t`` runs only on the
``batch_sizes[t]`` sequences still going and never sees padding.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from groundup.creation import empty, zeros
from groundup.dtypes import float32, float64
from groundup.functions.movement import cat, chunk, stack, unbind
from groundup.functions.recurrent import GRULayer, LSTMLayer, RNNLayer
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.linear import _factory, _features
from groundup.nn.module import Module, Parameter
from groundup.nn.utils.rnn import PackedSequence
from groundup.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(
    mode: str, gi: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """One recurrence step from the precomputed input projection ``gi`` (B, G·H); returns ``(h', c')``."""
    gh = F.linear(h, w_hh, b_hh)  # (B, H) -> (B, G·H)
    if mode == "RNN_TANH":
        return F.tanh(gi + gh), None  # (B, H)
    if mode == "RNN_RELU":
        return F.relu(gi + gh), None  # (B, H)
    if mode == "LSTM":
        i, f, g, o = chunk(gi + gh, 4, 1)  # 4 x (B, H)
        c_new = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)  # (B, H)
        return F.sigmoid(o) * F.tanh(c_new), c_new  # (B, H), (B, H)
    i_r, i_z, i_n = chunk(gi, 3, 1)  # 3 x (B, H)
    h_r, h_z, h_n = chunk(gh, 3, 1)  # 3 x (B, H)
    r = F.sigmoid(i_r + h_r)  # (B, H)
    z = F.sigmoid(i_z + h_z)  # (B, H)
    n = F.tanh(i_n + r * h_n)  # (B, H)
    return (1 - z) * n + z * h, None  # (B, H)


_FUSED = True
"""Run whole sequences with the fused ops of ``groundup/functions/recurrent.py`` (hand-written BPTT). False
selects the composed per-step path (:func:`_step`), which the tests use as the reference."""

_LAYERS = {"RNN_TANH": RNNLayer, "RNN_RELU": RNNLayer, "LSTM": LSTMLayer, "GRU": GRULayer}


def _layer(
    mode: str, gi: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor, b_hh: Tensor | None, reverse: bool
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer and direction over a whole sequence from its input projection ``gi`` (T, B, G·H).

    Returns every step's ``h`` (T, B, H) in time order and the final ``h`` and ``c`` (B, H) (the state after
    the last step processed: ``t = 0`` when ``reverse``).
    """
    T = gi.shape[0]
    if _FUSED and gi.dtype in (float32, float64):
        bias = () if b_hh is None else (b_hh,)
        last = 0 if reverse else T - 1
        if mode == "LSTM":
            y = LSTMLayer.apply(gi, h, c, w_hh, *bias, reverse=reverse)  # (T+1, B, H): h_0..h_{T-1}, then c
            return y[:T], y[last], y[T]
        kw = {"relu": mode == "RNN_RELU"} if mode != "GRU" else {}
        hs = _LAYERS[mode].apply(gi, h, w_hh, *bias, reverse=reverse, **kw)  # (T, B, H)
        return hs, hs[last], None
    steps = range(T - 1, -1, -1) if reverse else range(T)
    gis = unbind(gi, 0)  # T x (B, G·H)
    out: list[Tensor] = [h] * T  # filled in time order whichever way the direction runs
    for t in steps:
        h, c = _step(mode, gis[t], h, c, w_hh, b_hh)  # (B, H)
        out[t] = h
    return stack(out, 0), h, c


def _packed_layer(
    mode: str,
    gi: Tensor,
    h0: Tensor,
    c0: Tensor | None,
    w_hh: Tensor,
    b_hh: Tensor | None,
    reverse: bool,
    batch_sizes: list[int],
    offsets: list[int],
) -> tuple[Tensor, Tensor, Tensor | None]:
    """:func:`_layer` for packed data: ``gi`` (N, G·H), step ``t`` on rows ``offsets[t]:offsets[t+1]``.

    The batch is sorted by decreasing length, so the sequences still running at step ``t`` are a prefix of
    ``batch_sizes[t]``. Forward, the rows past the prefix have finished and keep their state, which is thus
    each sequence's state after its own last step. Backward (``reverse``), the prefix grows as ``t`` falls
    and a sequence joins, from its initial state, at its own last step. Returns every step's ``h`` packed
    (N, H) and the final ``h`` and ``c`` (B, H), in sorted order.
    """
    bs, B = batch_sizes, batch_sizes[0]
    hs: list[Tensor] = [h0] * len(bs)  # step t's outputs (bs[t], H), in time order
    if not reverse:
        h, c = h0, c0  # (B, H): the first bs[t] rows run, the rest are finished
        for t, b in enumerate(bs):
            c_b = None if c is None else c[:b]  # (b, H)
            h_t, c_t = _step(mode, gi[offsets[t] : offsets[t + 1]], h[:b], c_b, w_hh, b_hh)
            hs[t] = h_t  # (b, H)
            h = h_t if b == B else cat([h_t, h[b:]], 0)  # (B, H)
            c = c_t if c is None or b == B else cat([c_t, c[b:]], 0)  # (B, H)
    else:
        h, c, prev = h0[:0], None if c0 is None else c0[:0], 0  # (0, H): nobody started yet
        for t in range(len(bs) - 1, -1, -1):
            b = bs[t]
            if b > prev:  # sequences whose last step is t start from their initial state
                h = cat([h, h0[prev:b]], 0)  # (b, H)
                c = None if c0 is None else cat([c, c0[prev:b]], 0)  # (b, H)
            h, c = _step(mode, gi[offsets[t] : offsets[t + 1]], h, c, w_hh, b_hh)  # (b, H)
            hs[t], prev = h, b
    return cat(hs, 0), h, c


def _check_tensor(value: Any, what: str, layer: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{layer}: {what} must be a Tensor, got {type(value).__name__}")
    return value


def _check_dtype(x: Tensor, weight: Tensor, layer: str) -> None:
    if x.dtype != weight.dtype:
        raise ValueError(
            f"{layer}: input dtype ({x.dtype}) does not match weight dtype ({weight.dtype}); convert the input "
            f"with input.to({weight.dtype}) or the layer with .to({x.dtype})"
        )


def _check_state(state: Tensor, name: str, expected: tuple[int, ...], layer: str) -> None:
    if tuple(state.shape) != expected:
        raise ValueError(
            f"{layer}: expected {name} of shape {expected} (from the input's batch size and the layer's "
            f"settings), got {tuple(state.shape)}"
        )


def _mode(cls: str, nonlinearity: str) -> str:
    if cls in ("LSTM", "GRU"):
        return cls
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{cls}: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


class _RNNCellBase(Module):
    """Holds one step's ``weight_ih`` (G·H, I), ``weight_hh`` (G·H, H) and the two biases (G·H,)."""

    input_size: int
    hidden_size: int
    bias: bool

    def __init__(self, input_size: int, hidden_size: int, bias: bool, mode: str, device: Any, dtype: Any) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _features(input_size, "input_size", name)
        self.hidden_size = _features(hidden_size, "hidden_size", name)
        self.bias = bias
        self._mode = mode
        d = _factory(name, device, dtype)
        gh = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(empty(gh, input_size, dtype=d))  # (G·H, I)
        self.weight_hh = Parameter(empty(gh, hidden_size, dtype=d))  # (G·H, H)
        if bias:
            self.bias_ih = Parameter(empty(gh, dtype=d))  # (G·H,)
            self.bias_hh = Parameter(empty(gh, dtype=d))  # (G·H,)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw every parameter from ``U(-1/√hidden_size, 1/√hidden_size)``."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self._mode == "RNN_RELU":
            s += ", nonlinearity=relu"
        return s

    def _prepare(self, input: Any, states: tuple, names: tuple[str, ...]) -> tuple[Tensor, list[Tensor], bool]:
        """Check shapes, add a batch dimension to unbatched input, and fill missing states with zeros."""
        name = type(self).__name__
        x = _check_tensor(input, "input", name)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D (unbatched) or 2-D (batch, input_size), got {x.ndim}-D")
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got {x.shape[-1]}"
            )
        _check_dtype(x, self.weight_ih, name)
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)  # (1, I)
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        out = []
        for s, sname in zip(states, names):
            if s is None:
                out.append(zeros(x.shape[0], self.hidden_size, dtype=x.dtype))  # (B, H)
                continue
            _check_state(_check_tensor(s, sname, name), sname, expected, name)
            out.append(s if batched else s.unsqueeze(0))  # (B, H)
        return x, out, batched


class RNNCell(_RNNCellBase):
    """One Elman step ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, ``act`` tanh or relu.

    Input ``(B, input_size)`` or unbatched ``(input_size,)``; ``hx`` ``(B, hidden_size)`` (zeros if None).
    """

    nonlinearity: str

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, _mode("RNNCell", nonlinearity), device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, (hx,), ("hx",))
        gi = F.linear(x, self.weight_ih, self.bias_ih)  # (B, I) -> (B, H)
        h, _ = _step(self._mode, gi, h, None, self.weight_hh, self.bias_hh)  # (B, H)
        return h if batched else h.squeeze(0)


class LSTMCell(_RNNCellBase):
    """One LSTM step (gates ``i, f, g, o``); ``hx`` is ``(h, c)``, both ``(B, hidden_size)`` (zeros if None).

    Returns ``(h', c')``; unbatched input ``(input_size,)`` takes and returns ``(hidden_size,)`` states.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, "LSTM", device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of two Tensors, got {type(hx).__name__}")
        x, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx), ("h", "c"))
        gi = F.linear(x, self.weight_ih, self.bias_ih)  # (B, I) -> (B, 4H)
        h, c = _step("LSTM", gi, h, c, self.weight_hh, self.bias_hh)  # (B, H), (B, H)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_RNNCellBase):
    """One GRU step (gates ``r, z, n``); ``hx`` ``(B, hidden_size)`` (zeros if None)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, "GRU", device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h,), batched = self._prepare(input, (hx,), ("hx",))
        gi = F.linear(x, self.weight_ih, self.bias_ih)  # (B, I) -> (B, 3H)
        h, _ = _step("GRU", gi, h, None, self.weight_hh, self.bias_hh)  # (B, H)
        return h if batched else h.squeeze(0)


class _RNNBase(Module):
    """A stack of ``num_layers`` recurrent layers, each run forward (and backward if bidirectional).

    Layer ``l`` direction ``d`` owns ``weight_ih_l{l}{sfx}``, ``weight_hh_l{l}{sfx}``, ``bias_ih_l{l}{sfx}``,
    ``bias_hh_l{l}{sfx}`` with ``sfx`` ``""`` or ``"_reverse"``; layers above the first read the
    concatenated ``(T, B, D·H)`` output of the layer below, with dropout in between while training.
    """

    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool
    batch_first: bool
    dropout: float
    bidirectional: bool

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        device: Any,
        dtype: Any,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.mode = mode
        self.input_size = _features(input_size, "input_size", name)
        self.hidden_size = _features(hidden_size, "hidden_size", name)
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be an int >= 1, got {num_layers!r}")
        if hidden_size < 1:
            raise ValueError(f"{name}: hidden_size must be > 0, got {hidden_size}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1] (a drop probability), got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} with num_layers=1 has no effect; dropout is applied between "
                "stacked layers only",
                stacklevel=3,
            )
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        d = _factory(name, device, dtype)
        gh = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                setattr(self, "weight_ih" + sfx, Parameter(empty(gh, layer_in, dtype=d)))  # (G·H, I_l)
                setattr(self, "weight_hh" + sfx, Parameter(empty(gh, hidden_size, dtype=d)))  # (G·H, H)
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(empty(gh, dtype=d)))  # (G·H,)
                    setattr(self, "bias_hh" + sfx, Parameter(empty(gh, dtype=d)))  # (G·H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw every parameter from ``U(-1/√hidden_size, 1/√hidden_size)``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _weights(self, layer: int, direction: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        p = self._parameters
        return p["weight_ih" + sfx], p["weight_hh" + sfx], p.get("bias_ih" + sfx), p.get("bias_hh" + sfx)

    def _states(self, states: tuple, expected: tuple[int, ...], batched: bool) -> list[Tensor | None]:
        """Check ``h0`` (and ``c0``) against ``expected``; returns them ``(L·D, B, H)`` (None stays None)."""
        name = type(self).__name__
        names = ("h0", "c0") if self.mode == "LSTM" else ("h0",)
        out: list[Tensor | None] = []
        for s, sname in zip(states, names):
            if s is None:
                out.append(None)
                continue
            _check_state(_check_tensor(s, sname, name), sname, expected, name)
            out.append(s if batched else s.unsqueeze(1))  # (L·D, B, H)
        return out

    def _run(self, input: Any, states: tuple) -> tuple[Any, list[Tensor]]:
        """Check shapes, run every layer and direction; returns ``output`` and the final states.

        ``states`` holds ``h0`` (and ``c0`` for the LSTM), each ``(L·D, B, H)`` or None for zeros.
        A :class:`~groundup.nn.utils.rnn.PackedSequence` input gives a ``PackedSequence`` output.
        """
        if isinstance(input, PackedSequence):
            return self._run_packed(input, states)
        name = type(self).__name__
        x = _check_tensor(input, "input", name)
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected input to be 2-D (unbatched: seq_len, input_size) or 3-D "
                f"({'batch, seq_len' if self.batch_first else 'seq_len, batch'}, input_size), got {x.ndim}-D "
                f"of shape {tuple(x.shape)}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got {x.shape[-1]}"
            )
        _check_dtype(x, self.weight_ih_l0, name)
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)  # (T, 1, I)
        elif self.batch_first:
            x = x.transpose(0, 1)  # (B, T, I) -> (T, B, I)
        T, B = x.shape[0], x.shape[1]
        if T == 0:
            raise ValueError(f"{name}: expected a sequence length > 0, got input of shape {tuple(input.shape)}")
        LD = self.num_layers * (2 if self.bidirectional else 1)
        expected = (LD, B, self.hidden_size) if batched else (LD, self.hidden_size)
        init_states = self._states(states, expected, batched)
        output, final = self._stack(_layer, x, init_states, B)  # (T, B, D·H), (L·D, B, H) each
        if not batched:
            return output.squeeze(1), [f.squeeze(1) for f in final]  # (T, D·H), (L·D, H)
        if self.batch_first:
            output = output.transpose(0, 1)  # (B, T, D·H)
        return output, final

    def _run_packed(self, input: PackedSequence, states: tuple) -> tuple[PackedSequence, list[Tensor]]:
        """Run on packed data ``(N, I)``: step ``t`` updates only the first ``batch_sizes[t]`` sequences
        (:func:`_packed_layer`). ``h0``/``c0`` and the final states are in the caller's batch order
        (``sorted_indices``)."""
        name = type(self).__name__
        x = _check_tensor(input.data, "PackedSequence.data", name)
        if x.ndim != 2 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected packed data of shape (sum(lengths), input_size={self.input_size}), "
                f"got {tuple(x.shape)}"
            )
        _check_dtype(x, self.weight_ih_l0, name)
        bs = [int(b) for b in input.batch_sizes.numpy()]
        offsets = [sum(bs[:t]) for t in range(len(bs) + 1)]  # packed rows of step t: offsets[t]:offsets[t+1]
        B = bs[0]
        LD = self.num_layers * (2 if self.bidirectional else 1)
        init_states = self._states(states, (LD, B, self.hidden_size), True)
        if input.sorted_indices is not None:  # the caller's order -> sorted order
            init_states = [None if s is None else s[:, input.sorted_indices] for s in init_states]
        run = functools.partial(_packed_layer, batch_sizes=bs, offsets=offsets)
        data, final = self._stack(run, x, init_states, B)  # (N, D·H), (L·D, B, H) each in sorted order
        if input.unsorted_indices is not None:  # sorted order -> the caller's order
            final = [f[:, input.unsorted_indices] for f in final]
        output = PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        return output, final

    def _stack(
        self, run: Callable[..., tuple[Tensor, Tensor, Tensor | None]], x: Tensor, init_states: list, B: int
    ) -> tuple[Tensor, list[Tensor]]:
        """Every layer and direction over ``x`` (time-major ``(T, B, I)``, or packed ``(N, I)``).

        ``run(mode, gi, h0, c0, w_hh, b_hh, reverse)`` (:func:`_layer` or :func:`_packed_layer`) runs one
        direction from its input projection and returns its outputs and final ``h`` and ``c``;
        ``init_states`` holds ``h0`` (and ``c0``), ``(L·D, B, H)`` or None for zeros. Returns the last
        layer's outputs, directions joined on the last axis, and the final states ``(L·D, B, H)`` each.
        """
        directions = 2 if self.bidirectional else 1

        def initial(k: int, idx: int) -> Tensor:
            s = init_states[k]
            return zeros(B, self.hidden_size, dtype=x.dtype) if s is None else s[idx]  # (B, H)

        finals: list[list[Tensor]] = [[] for _ in init_states]
        layer_input = x  # (T, B, I) or (N, I)
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                layer_input = F.dropout(layer_input, self.dropout, training=True)  # (..., D·H)
            outs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                idx = layer * directions + direction
                h = initial(0, idx)  # (B, H)
                c = initial(1, idx) if self.mode == "LSTM" else None  # (B, H)
                gi = F.linear(layer_input, w_ih, b_ih)  # (..., G·H), one GEMM for all steps
                hs, h, c = run(self.mode, gi, h, c, w_hh, b_hh, reverse=direction == 1)  # (..., H)
                outs.append(hs)
                finals[0].append(h)
                if c is not None:
                    finals[1].append(c)
            layer_input = outs[0] if directions == 1 else cat(outs, -1)  # (..., D·H)
        return layer_input, [stack(f, 0) for f in finals]


class RNN(_RNNBase):
    """Elman RNN over a sequence: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, ``act`` tanh or relu.

    Input ``(T, B, input_size)`` (``(B, T, input_size)`` if ``batch_first``) or unbatched ``(T, input_size)``;
    ``hx`` ``(num_layers·D, B, hidden_size)`` (zeros if None), ``D`` = 2 if bidirectional else 1.
    Returns ``(output, h_n)``: the last layer's ``h_t`` for every ``t`` ``(T, B, D·hidden_size)`` and
    every layer's final state ``(num_layers·D, B, hidden_size)``. A ``PackedSequence`` input (see
    ``groundup.nn.utils.rnn``) gives a ``PackedSequence`` output, and each sequence's final state is the one
    at its own last step (for the reverse direction, after running from that step back to the first).
    """

    nonlinearity: str

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        mode = _mode("RNN", nonlinearity)
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype
        )
        self.nonlinearity = nonlinearity

    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | None = None
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        output, (h_n,) = self._run(input, (hx,))
        return output, h_n


class LSTM(_RNNBase):
    """LSTM over a sequence (gates ``i, f, g, o``; see the module docstring for the equations).

    Shapes (and packed input) as :class:`RNN`; ``hx`` is ``(h_0, c_0)``, both
    ``(num_layers·D, B, hidden_size)``.
    Returns ``(output, (h_n, c_n))``. ``proj_size`` (LSTM with projections) is not supported.
    """

    proj_size: int

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if proj_size != 0:
            raise ValueError(f"LSTM: proj_size={proj_size} is not supported; only proj_size=0 (no projection)")
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype
        )
        self.proj_size = 0

    def forward(
        self, input: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor | PackedSequence, tuple[Tensor, Tensor]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two Tensors, got {type(hx).__name__}")
        output, (h_n, c_n) = self._run(input, (None, None) if hx is None else tuple(hx))
        return output, (h_n, c_n)


class GRU(_RNNBase):
    """GRU over a sequence (gates ``r, z, n``; see the module docstring).

    Shapes, packed input and return as :class:`RNN`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype
        )

    def forward(
        self, input: Tensor | PackedSequence, hx: Tensor | None = None
    ) -> tuple[Tensor | PackedSequence, Tensor]:
        output, (h_n,) = self._run(input, (hx,))
        return output, h_n


__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]
