"""The fused recurrent layers (groundup/functions/recurrent.py): central-difference gradchecks of the
hand-written backpropagation through time, agreement with the composed per-step path of
groundup/nn/recurrent.py (forward and every gradient), and PyTorch parity of whole layers in float32."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
import groundup.nn.recurrent as recurrent
from groundup.functions.recurrent import GRULayer, LSTMLayer, RNNLayer
from groundup.testing import gradcheck

T, B, H = 4, 3, 5


def _arr(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> gu.Tensor:
    return gu.tensor(rng.standard_normal(shape) * scale, requires_grad=True)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_layer_gradcheck(reverse: bool, bias: bool) -> None:
    """Every input of the fused LSTM op, including the final cell state's own gradient path."""
    rng = np.random.default_rng(0)
    gi, h0, c0 = _arr(rng, T, B, 4 * H), _arr(rng, B, H), _arr(rng, B, H)
    w = _arr(rng, 4 * H, H, scale=0.5)
    extra = (_arr(rng, 4 * H),) if bias else ()
    assert gradcheck(lambda *a: LSTMLayer.apply(*a, reverse=reverse), gi, h0, c0, w, *extra)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gru_layer_gradcheck(reverse: bool, bias: bool) -> None:
    rng = np.random.default_rng(1)
    gi, h0, w = _arr(rng, T, B, 3 * H), _arr(rng, B, H), _arr(rng, 3 * H, H, scale=0.5)
    extra = (_arr(rng, 3 * H),) if bias else ()
    assert gradcheck(lambda *a: GRULayer.apply(*a, reverse=reverse), gi, h0, w, *extra)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_layer_gradcheck(relu: bool, reverse: bool) -> None:
    rng = np.random.default_rng(2)
    gi, h0, w, b = _arr(rng, T, B, H), _arr(rng, B, H), _arr(rng, H, H, scale=0.5), _arr(rng, H)
    if relu:  # keep pre-activations away from relu's kink, where central differences are meaningless
        gi = gu.tensor(np.abs(gi.detach().numpy()) + 0.5, requires_grad=True)
        h0 = gu.tensor(np.abs(h0.detach().numpy()), requires_grad=True)
        w = gu.tensor(np.abs(w.detach().numpy()), requires_grad=True)
    assert gradcheck(lambda *a: RNNLayer.apply(*a, relu=relu, reverse=reverse), gi, h0, w, b)


def _run(model: nn.Module, x: gu.Tensor, fused: bool, monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Output, final states, dL/dx and every parameter gradient for a non-uniform loss."""
    monkeypatch.setattr(recurrent, "_FUSED", fused)
    model.zero_grad()
    x.grad = None
    out, state = model(x)
    states = state if isinstance(state, tuple) else (state,)
    rng = np.random.default_rng(3)
    loss = (out * gu.tensor(rng.standard_normal(out.shape))).sum()
    for s in states:
        loss = loss + (s * gu.tensor(rng.standard_normal(s.shape))).sum()
    loss.backward()
    arrays = [out.detach().numpy(), *(s.detach().numpy() for s in states), x.grad.numpy()]
    return arrays + [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize("cls, kwargs", [(nn.LSTM, {}), (nn.GRU, {}), (nn.RNN, {}), (nn.RNN, {"nonlinearity": "relu"})],
                         ids=["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_matches_composed(cls, kwargs, bidirectional: bool, bias: bool, monkeypatch) -> None:
    """The fused ops and the step-by-step autograd graph agree on outputs and all gradients (float64)."""
    gu.manual_seed(0)
    model = cls(3, H, num_layers=2, bidirectional=bidirectional, bias=bias, batch_first=True,
                dtype=gu.float64, **kwargs)
    x = gu.randn(B, T, 3, dtype=gu.float64, requires_grad=True)
    fused, composed = _run(model, x, True, monkeypatch), _run(model, x, False, monkeypatch)
    assert len(fused) == len(composed)
    for a, b in zip(fused, composed):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _op_names(t: gu.Tensor) -> set[str]:
    """Names of the Function types in ``t``'s autograd graph."""
    names, stack, seen = set(), [t], set()
    while stack:
        node = stack.pop()
        if node._ctx is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node._ctx).__name__)
        stack.extend(node._ctx.parents)
    return names


def test_fused_path_is_the_default(monkeypatch) -> None:
    """A layer records one fused node per layer and direction; ``_FUSED = False`` gives the per-step graph."""
    gu.manual_seed(0)
    lstm = nn.LSTM(3, H, bidirectional=True)
    x = gu.randn(T, B, 3, requires_grad=True)
    names = _op_names(lstm(x)[0])
    assert "LSTMLayer" in names and "Sigmoid" not in names
    monkeypatch.setattr(recurrent, "_FUSED", False)
    names = _op_names(lstm(x)[0])
    assert "LSTMLayer" not in names and "Sigmoid" in names


def test_saturated_gates_stay_finite() -> None:
    """Pre-activations of ±1000 saturate every gate: outputs and gradients stay finite (tanh-based sigmoid)."""
    gi = gu.tensor(np.tile([1000.0, -1000.0], (T, B, 2 * H)).astype(np.float32), requires_grad=True)
    w = gu.zeros(4 * H, H, requires_grad=True)
    y = LSTMLayer.apply(gi, gu.zeros(B, H), gu.zeros(B, H), w)
    y.sum().backward()
    assert np.isfinite(y.detach().numpy()).all()
    assert np.isfinite(gi.grad.numpy()).all() and np.isfinite(w.grad.numpy()).all()


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_float32_training_step_matches_torch(name: str) -> None:
    """A float32 char-model-sized layer (the benchmark's shapes, shorter) against PyTorch's oneDNN kernel."""
    torch = pytest.importorskip("torch")
    gu.manual_seed(0)
    ours = getattr(nn, name)(16, 32, batch_first=True)
    ref = getattr(torch.nn, name)(16, 32, batch_first=True)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 20, 16)).astype(np.float32)
    g = rng.standard_normal((8, 20, 32)).astype(np.float32)
    xo, xr = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, _ = ours(xo)
    out_r, _ = ref(xr)
    (out_o * gu.tensor(g)).sum().backward()
    (out_r * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(out_o.detach().numpy(), out_r.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (k, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=k)
