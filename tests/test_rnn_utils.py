"""Variable-length batches (groundup/nn/utils/rnn.py and packed input to groundup/nn/recurrent.py): padding,
packing and unpacking against PyTorch and against the plain definitions, gradients through them, the
recurrent layers on packed batches (outputs, final states, every gradient) and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
from groundup.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

LENGTHS = [2, 5, 3, 5, 1]  # unsorted, with a tie


def _seqs(lengths: list[int], rest: tuple[int, ...] = (3,), seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, *rest)) for n in lengths]


def test_pad_sequence_matches_definition_and_carries_gradient() -> None:
    arrays = _seqs([2, 4, 1], rest=(2, 3))
    seqs = [gu.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(seqs, batch_first=True, padding_value=-7.0, padding_side="left")  # (B, T, 2, 3)
    expected = np.full((3, 4, 2, 3), -7.0)
    for b, a in enumerate(arrays):
        expected[b, 4 - len(a) :] = a
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    upstream = np.random.default_rng(1).standard_normal(expected.shape)
    (out * gu.tensor(upstream)).sum().backward()
    for b, s in enumerate(seqs):
        np.testing.assert_array_equal(s.grad.numpy(), upstream[b, 4 - len(arrays[b]) :])


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(batch_first: bool, padding_side: str) -> None:
    torch = pytest.importorskip("torch")
    arrays = _seqs([3, 1, 4])
    ours = pad_sequence([gu.tensor(a) for a in arrays], batch_first, 0.5, padding_side)
    ref = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in arrays], batch_first, 0.5, padding_side)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize(
    ("lengths", "enforce_sorted", "batch_first"),
    [([5, 5, 3, 2, 1], True, False), (LENGTHS, False, False), (LENGTHS, False, True)],
)
def test_pack_and_pad_match_torch(lengths: list[int], enforce_sorted: bool, batch_first: bool) -> None:
    torch = pytest.importorskip("torch")
    rnn_t = torch.nn.utils.rnn
    T = max(lengths)
    shape = (len(lengths), T, 2) if batch_first else (T, len(lengths), 2)
    x = np.random.default_rng(2).standard_normal(shape)
    tx, gx = torch.tensor(x, requires_grad=True), gu.tensor(x, requires_grad=True)
    tp = rnn_t.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    gp = pack_padded_sequence(gx, gu.tensor(lengths), batch_first, enforce_sorted)
    assert isinstance(gp, PackedSequence)
    np.testing.assert_array_equal(gp.data.detach().numpy(), tp.data.detach().numpy())
    assert gp.batch_sizes.dtype == gu.int64
    np.testing.assert_array_equal(gp.batch_sizes.numpy(), tp.batch_sizes.numpy())
    for name in ("sorted_indices", "unsorted_indices"):
        t_idx, g_idx = getattr(tp, name), getattr(gp, name)
        assert (g_idx is None) == (t_idx is None), name
        if t_idx is not None:
            np.testing.assert_array_equal(g_idx.numpy(), t_idx.numpy(), err_msg=name)
    t_pad, t_len = rnn_t.pad_packed_sequence(tp, batch_first, padding_value=-1.0, total_length=T + 2)
    g_pad, g_len = pad_packed_sequence(gp, batch_first, padding_value=-1.0, total_length=T + 2)
    np.testing.assert_array_equal(g_pad.detach().numpy(), t_pad.detach().numpy())
    np.testing.assert_array_equal(g_len.numpy(), t_len.numpy())
    upstream = np.random.default_rng(3).standard_normal(tuple(t_pad.shape))
    (t_pad * torch.tensor(upstream)).sum().backward()
    (g_pad * gu.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


def test_round_trips_return_the_sequences() -> None:
    arrays = _seqs(LENGTHS, rest=(2,))
    seqs = [gu.tensor(a) for a in arrays]
    for got in (
        unpack_sequence(pack_sequence(seqs, enforce_sorted=False)),
        unpad_sequence(pad_sequence(seqs), gu.tensor(LENGTHS)),
        unpad_sequence(pad_sequence(seqs, batch_first=True), LENGTHS, batch_first=True),
    ):
        assert len(got) == len(arrays)
        for g, a in zip(got, arrays):
            np.testing.assert_array_equal(g.numpy(), a)
    # the packed layout itself: time-major over the sequences still running, longest first
    packed = pack_sequence([gu.tensor(a) for a in _seqs([3, 2, 2], rest=(1,))])
    arrays3 = _seqs([3, 2, 2], rest=(1,))
    order = [arrays3[b][t] for t in range(3) for b in range(3) if len(arrays3[b]) > t]
    np.testing.assert_array_equal(packed.data.numpy(), np.stack(order))
    np.testing.assert_array_equal(packed.batch_sizes.numpy(), [3, 3, 1])


# (our class, torch class name, extra constructor kwargs)
LAYERS = [
    (nn.RNN, "RNN", {"nonlinearity": "tanh"}),
    (nn.RNN, "RNN", {"nonlinearity": "relu"}),
    (nn.LSTM, "LSTM", {}),
    (nn.GRU, "GRU", {}),
]


@pytest.mark.parametrize(("enforce_sorted", "batch_first", "give_state"), [(False, False, True), (True, True, False)])
@pytest.mark.parametrize(("ours_cls", "torch_name", "kwargs"), LAYERS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_layer_on_packed_input_matches_torch(
    ours_cls, torch_name, kwargs, enforce_sorted, batch_first, give_state
) -> None:
    torch = pytest.importorskip("torch")
    rnn_t = torch.nn.utils.rnn
    I, H, L = 3, 4, 2
    common = {"input_size": I, "hidden_size": H, "num_layers": L, "bidirectional": True, "batch_first": batch_first}
    torch.manual_seed(0)
    ref = getattr(torch.nn, torch_name)(**common, **kwargs, dtype=torch.float64)
    ours = ours_cls(**common, **kwargs, dtype=gu.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    lengths = LENGTHS if not enforce_sorted else sorted(LENGTHS, reverse=True)
    B, T = len(lengths), max(lengths)
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((B, T, I) if batch_first else (T, B, I))]
    if give_state:
        arrays += [rng.standard_normal((2 * L, B, H)) for _ in range(2 if torch_name == "LSTM" else 1)]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    gx = [gu.tensor(a, requires_grad=True) for a in arrays]

    def run(m, pack, pad, x, *states):
        hx = (tuple(states) if len(states) == 2 else states[0]) if states else None
        out, h = m(pack(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted), hx)
        assert type(out).__name__ == "PackedSequence"
        padded, _ = pad(out, batch_first=batch_first)
        return [padded, *(h if isinstance(h, tuple) else (h,))]

    touts = run(ref, rnn_t.pack_padded_sequence, rnn_t.pad_packed_sequence, *tx)
    gouts = run(ours, pack_padded_sequence, pad_packed_sequence, *gx)
    t_loss, g_loss = 0, 0
    for to, go in zip(touts, gouts):
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-12)
        v = rng.standard_normal(tuple(to.shape))
        t_loss = t_loss + (to * torch.tensor(v)).sum()
        g_loss = g_loss + (go * gu.tensor(v)).sum()
    t_loss.backward()
    g_loss.backward()
    for i, (t, g) in enumerate(zip(tx, gx)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"input {i}")
    ours_params = dict(ours.named_parameters())
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(ours_params[name].grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_packed_final_state_is_each_sequences_own_last_step() -> None:
    """Running each sequence alone, unpadded, gives the packed batch's outputs and final states."""
    gu.manual_seed(0)
    gru = nn.GRU(2, 3, bidirectional=True, dtype=gu.float64)
    seqs = [gu.tensor(a) for a in _seqs([2, 4, 3], rest=(2,))]
    out, h_n = gru(pack_sequence(seqs, enforce_sorted=False))
    for b, (s, o) in enumerate(zip(seqs, unpack_sequence(out))):
        alone_out, alone_h = gru(s.unsqueeze(1))  # (L_b, 1, 6), (2, 1, 3)
        np.testing.assert_allclose(o.detach().numpy(), alone_out[:, 0].detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(h_n[:, b].detach().numpy(), alone_h[:, 0].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_bad_input_errors() -> None:
    x = gu.zeros(4, 3, 2)  # (T, B, *)
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 3])
    with pytest.raises(ValueError, match=r"len\(lengths\)` to be equal to batch_size.*batch_size=3"):
        pack_padded_sequence(x, [4, 3], enforce_sorted=False)
    with pytest.raises(ValueError, match="greater than 0"):
        pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(ValueError, match="exceed the input's 4 time steps"):
        pack_padded_sequence(x, [5, 2, 1])
    packed = pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 4"):
        pad_packed_sequence(packed, total_length=3)
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right'"):
        pad_sequence([gu.zeros(2, 1)], padding_side="middle")
    with pytest.raises(ValueError, match=r"same trailing shape.*\(2, 1\).*\(2, 2\)"):
        pad_sequence([gu.zeros(2, 1), gu.zeros(2, 2)])
    with pytest.raises(ValueError, match=r"LSTM: expected packed data of shape \(sum\(lengths\), input_size=3\)"):
        nn.LSTM(3, 4)(packed)
    with pytest.raises(ValueError, match=r"GRU: expected h0 of shape \(1, 3, 4\)"):
        nn.GRU(2, 4)(packed, gu.zeros(1, 2, 4))
