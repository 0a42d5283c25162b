"""Recurrent layers (groundup/nn/recurrent.py): PyTorch parity of outputs, final states and every gradient,
gradchecks of backpropagation through time, inter-layer dropout, initialisation and bad-input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
from groundup.testing import gradcheck

I, H, T, B = 3, 4, 5, 2

# (our class, torch class name, extra constructor kwargs)
LAYERS = [
    (nn.RNN, "RNN", {"nonlinearity": "tanh"}),
    (nn.RNN, "RNN", {"nonlinearity": "relu"}),
    (nn.LSTM, "LSTM", {}),
    (nn.GRU, "GRU", {}),
]
LAYER_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]

# (num_layers, bidirectional, batch_first, bias, batched, give initial state)
CONFIGS = [
    (2, True, False, True, True, True),
    (1, False, True, True, True, False),
    (2, False, True, False, True, True),
    (2, True, False, True, False, True),
    (1, True, True, True, False, False),
]


def _pair(torch, ours_cls, torch_name: str, kwargs: dict, **common):
    """A float64 torch module and ours holding the same weights (copied by state_dict name)."""
    torch.manual_seed(0)
    ref = getattr(torch.nn, torch_name)(**common, **kwargs, dtype=torch.float64)
    ours = ours_cls(**common, **kwargs, dtype=gu.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    assert list(ours.state_dict()) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape), k
    return ref, ours


def _flatten(out) -> list:
    """``(output, h_n)`` or ``(output, (h_n, c_n))`` or a single tensor as a flat list."""
    if not isinstance(out, (tuple, list)):
        return [out]
    flat = []
    for o in out:
        flat.extend(_flatten(o))
    return flat


def _compare(torch, ref, ours, arrays: list[np.ndarray], call) -> None:
    """Run ``call(module, *inputs)`` on both, compare outputs, then gradients of inputs and parameters."""
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    gx = [gu.tensor(a, requires_grad=True) for a in arrays]
    touts = _flatten(call(ref, *tx))
    gouts = _flatten(call(ours, *gx))
    assert len(touts) == len(gouts)
    rng = np.random.default_rng(3)
    t_loss, g_loss = 0, 0
    for to, go in zip(touts, gouts):
        assert tuple(go.shape) == tuple(to.shape)
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-10)
        v = rng.standard_normal(tuple(to.shape))  # non-uniform upstream gradient
        t_loss = t_loss + (to * torch.tensor(v)).sum()
        g_loss = g_loss + (go * gu.tensor(v)).sum()
    t_loss.backward()
    g_loss.backward()
    for i, (t, g) in enumerate(zip(tx, gx)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=f"input {i}")
    ours_params = dict(ours.named_parameters())
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(
            ours_params[name].grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=name
        )


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(("ours_cls", "torch_name", "kwargs"), LAYERS, ids=LAYER_IDS)
def test_layer_matches_torch(ours_cls, torch_name, kwargs, config) -> None:
    torch = pytest.importorskip("torch")
    num_layers, bidirectional, batch_first, bias, batched, give_state = config
    ref, ours = _pair(
        torch, ours_cls, torch_name, kwargs, input_size=I, hidden_size=H, num_layers=num_layers,
        bias=bias, batch_first=batch_first, bidirectional=bidirectional,
    )
    rng = np.random.default_rng(1)
    D = 2 if bidirectional else 1
    x_shape = ((B, T, I) if batch_first else (T, B, I)) if batched else (T, I)
    s_shape = (num_layers * D, B, H) if batched else (num_layers * D, H)
    arrays = [rng.standard_normal(x_shape)]
    if give_state:
        arrays += [rng.standard_normal(s_shape) for _ in range(2 if torch_name == "LSTM" else 1)]

    def call(m, x, *states):
        if not states:
            return m(x)
        return m(x, tuple(states) if len(states) == 2 else states[0])

    _compare(torch, ref, ours, arrays, call)


CELLS = [
    (nn.RNNCell, "RNNCell", {"nonlinearity": "tanh"}),
    (nn.RNNCell, "RNNCell", {"nonlinearity": "relu"}),
    (nn.LSTMCell, "LSTMCell", {}),
    (nn.GRUCell, "GRUCell", {}),
]


@pytest.mark.parametrize(("batched", "give_state", "bias"), [(True, True, True), (False, True, False), (True, False, True)])
@pytest.mark.parametrize(("ours_cls", "torch_name", "kwargs"), CELLS, ids=LAYER_IDS)
def test_cell_matches_torch(ours_cls, torch_name, kwargs, batched, give_state, bias) -> None:
    torch = pytest.importorskip("torch")
    ref, ours = _pair(torch, ours_cls, torch_name, kwargs, input_size=I, hidden_size=H, bias=bias)
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((B, I) if batched else (I,))]
    if give_state:
        arrays += [rng.standard_normal((B, H) if batched else (H,)) for _ in range(2 if torch_name == "LSTMCell" else 1)]

    def call(m, x, *states):
        if not states:
            return m(x)
        return m(x, tuple(states) if len(states) == 2 else states[0])

    _compare(torch, ref, ours, arrays, call)


def test_repr_matches_torch() -> None:
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.RNN(3, 4, 2, bias=False, dropout=0.5, bidirectional=True)) == (
        "RNN(3, 4, num_layers=2, bias=False, dropout=0.5, bidirectional=True)"
    )
    assert repr(nn.GRU(3, 4)) == "GRU(3, 4)"
    assert repr(nn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_gradcheck_bptt(cls) -> None:
    """Central differences through a tiny bidirectional 2-layer net: inputs, initial states and weights."""
    gu.manual_seed(0)
    m = cls(2, 3, num_layers=2, bidirectional=True, dtype=gu.float64)
    rng = np.random.default_rng(0)
    x = gu.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = gu.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    states = (h0, gu.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)) if cls is nn.LSTM else (h0,)
    params = [m.weight_hh_l0, m.weight_ih_l1_reverse, m.bias_hh_l1]

    def fn(x, *rest):
        out = m(x, rest[:2] if cls is nn.LSTM else rest[0])
        return _flatten(out)

    assert gradcheck(fn, x, *states, *params)


@gu.no_grad()
def test_dropout_between_layers_only_in_training() -> None:
    gu.manual_seed(0)
    m = nn.GRU(I, H, num_layers=2, dropout=1.0)
    x = gu.randn(T, B, I)
    m.eval()
    eval_out, _ = m(x)
    no_drop = nn.GRU(I, H, num_layers=2)
    no_drop.load_state_dict(m.state_dict())
    np.testing.assert_allclose(eval_out.numpy(), no_drop(x)[0].numpy())
    # dropout=1 in training zeroes the second layer's input, and nothing after the last layer
    m.train()
    out, h_n = m(x)
    top = nn.GRU(H, H)
    top.load_state_dict({k.replace("_l1", "_l0"): v for k, v in m.state_dict().items() if k.endswith("_l1")})
    expected, expected_h = top(gu.zeros(T, B, H))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h_n[1].numpy(), expected_h[0].numpy(), rtol=1e-6, atol=1e-7)
    assert np.abs(out.numpy()).min() > 0
    assert not np.allclose(out.numpy(), eval_out.numpy())


@gu.no_grad()
def test_dropout_with_one_layer_warns_and_is_inactive() -> None:
    with pytest.warns(UserWarning, match="num_layers=1"):
        m = nn.LSTM(I, H, dropout=0.5)
    x = gu.randn(T, B, I)
    m.train()
    np.testing.assert_array_equal(m(x)[0].numpy(), m.eval()(x)[0].numpy())


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_init_is_uniform_within_one_over_sqrt_hidden(cls) -> None:
    gu.manual_seed(0)
    m = cls(8, 64)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])  # >= 4,736 draws
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.99 * bound and abs(values.mean()) < 0.05 * bound  # mean: ~6 standard errors
    assert abs(values.std() - bound / math.sqrt(3)) < 0.03 * bound  # U(-b, b) has std b/sqrt(3)


def test_bad_inputs() -> None:
    lstm = nn.LSTM(I, H, num_layers=2)
    with pytest.raises(ValueError, match="LSTM: expected input to be 2-D .* got 4-D"):
        lstm(gu.zeros(1, T, B, I))
    with pytest.raises(ValueError, match="LSTM: input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        lstm(gu.zeros(T, B, 5))
    with pytest.raises(ValueError, match="LSTM: expected a sequence length > 0"):
        lstm(gu.zeros(0, B, I))
    with pytest.raises(ValueError, match=r"LSTM: input dtype \(groundup.float64\) does not match weight dtype \(groundup.float32\)"):
        lstm(gu.zeros(T, B, I, dtype=gu.float64))
    with pytest.raises(ValueError, match=r"LSTMCell: input dtype \(groundup.int64\) does not match weight dtype \(groundup.float32\)"):
        nn.LSTMCell(I, H)(gu.zeros(B, I, dtype=gu.int64))
    h0, c0 = gu.zeros(2, B, H), gu.zeros(2, B + 1, H)
    with pytest.raises(ValueError, match=r"LSTM: expected c0 of shape \(2, 2, 4\).*got \(2, 3, 4\)"):
        lstm(gu.zeros(T, B, I), (h0, c0))
    with pytest.raises(ValueError, match=r"GRU: expected h0 of shape \(2, 4\)"):
        nn.GRU(I, H, bidirectional=True)(gu.zeros(T, I), gu.zeros(2, B, H))  # unbatched input, batched state
    with pytest.raises(TypeError, match="LSTM: hx must be a tuple"):
        lstm(gu.zeros(T, B, I), h0)
    with pytest.raises(ValueError, match="GRUCell: expected hx of shape \\(2, 4\\)"):
        nn.GRUCell(I, H)(gu.zeros(B, I), gu.zeros(B, H + 1))
    with pytest.raises(ValueError, match="RNNCell: expected input to be 1-D"):
        nn.RNNCell(I, H)(gu.zeros(T, B, I))
    with pytest.raises(ValueError, match="proj_size=2 is not supported"):
        nn.LSTM(I, H, proj_size=2)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout must be a number in \\[0, 1\\]"):
        nn.GRU(I, H, num_layers=2, dropout=1.5)
