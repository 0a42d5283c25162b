"""Neural language models: the character RNN/LSTM/GRU LM (CharRNNLM) and Bengio et al.'s NPLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import groundup as gu
import groundup.nn.functional as F
from groundup.datasets.text import BPTTStreams, read_text
from groundup.models import NPLM, CharRNNLM, generate, ngram_windows
from groundup.optim import Adam
from groundup.tokenizers import CharTokenizer

SHAKESPEARE = Path("/work/shared/data/tinyshakespeare.txt")
CELLS = ["rnn", "lstm", "gru"]


def _ids(a: np.ndarray | list[int]) -> gu.Tensor:
    return gu.from_numpy(np.asarray(a, dtype=np.int64))


def _state_arrays(state: gu.Tensor | tuple[gu.Tensor, ...]) -> list[np.ndarray]:
    return [s.data for s in state] if isinstance(state, tuple) else [state.data]


# ---------------------------------------------------------------------------------------------- CharRNNLM


@pytest.mark.parametrize("cell", CELLS)
def test_char_rnn_shapes(cell: str) -> None:
    gu.manual_seed(0)
    model = CharRNNLM(11, n_embd=6, hidden_size=9, num_layers=2, cell=cell)
    logits, state = model(gu.randint(0, 11, (4, 7)))
    assert tuple(logits.shape) == (4, 7, 11)
    for s in _state_arrays(state):
        assert s.shape == (2, 4, 9)
    zero = model.init_state(4)
    assert [s.shape for s in _state_arrays(zero)] == [(2, 4, 9)] * (2 if cell == "lstm" else 1)
    assert all((s == 0).all() for s in _state_arrays(zero))


@pytest.mark.parametrize("cell", CELLS)
def test_char_rnn_state_carrying_equals_one_pass(cell: str) -> None:
    gu.manual_seed(1)
    model = CharRNNLM(7, n_embd=5, hidden_size=8, num_layers=2, cell=cell).eval()
    idx = gu.randint(0, 7, (3, 10))
    full, full_state = model(idx)
    first, state = model(idx[:, :4], model.init_state(3))
    second, end_state = model(idx[:, 4:], CharRNNLM.detach_state(state))
    np.testing.assert_allclose(np.concatenate([first.data, second.data], axis=1), full.data, rtol=1e-5, atol=1e-6)
    for a, b in zip(_state_arrays(end_state), _state_arrays(full_state), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_detach_state_cuts_the_graph() -> None:
    model = CharRNNLM(5, n_embd=3, hidden_size=4, cell="lstm")
    _, state = model(gu.randint(0, 5, (2, 3)))
    assert all(s.requires_grad for s in state)
    assert not any(s.requires_grad for s in CharRNNLM.detach_state(state))


@pytest.mark.parametrize("cell", CELLS)
def test_char_rnn_greedy_generation_matches_manual_argmax_loop(cell: str) -> None:
    gu.manual_seed(2)
    model = CharRNNLM(9, n_embd=4, hidden_size=6, cell=cell).eval()
    prompt = np.array([[1, 4, 2], [0, 8, 8]])
    ids = prompt.copy()
    with gu.no_grad():
        for _ in range(6):  # re-run the whole sequence from the zero state each time, no state carried
            logits, _ = model(_ids(ids))
            ids = np.concatenate([ids, logits.data[:, -1].argmax(-1)[:, None]], axis=1)
    out = generate(model.step, _ids(prompt), 6, temperature=0.0)
    np.testing.assert_array_equal(out.data, ids[:, 3:])
    np.testing.assert_array_equal(model.generate(_ids(prompt[0]), 6, temperature=0.0).data, ids[0, 3:])


def test_char_rnn_sampling_is_repeatable_and_restores_training_mode() -> None:
    gu.manual_seed(3)
    model = CharRNNLM(6, n_embd=4, hidden_size=5, dropout=0.5)
    a = model.generate(_ids([[1, 2]]), 8, temperature=1.0, top_k=3, generator=gu.Generator().manual_seed(9))
    b = model.generate(_ids([[1, 2]]), 8, temperature=1.0, top_k=3, generator=gu.Generator().manual_seed(9))
    np.testing.assert_array_equal(a.data, b.data)
    assert a.shape == (1, 8) and model.training


def test_char_rnn_tie_weights_shares_the_table() -> None:
    model = CharRNNLM(10, n_embd=8, hidden_size=8, tie_weights=True)
    assert model.head.weight is model.embedding.weight
    untied = CharRNNLM(10, n_embd=8, hidden_size=8)
    assert sum(p.numel() for p in untied.parameters()) - sum(p.numel() for p in model.parameters()) == 10 * 8


def test_char_rnn_learns_a_periodic_text_with_bptt() -> None:
    gu.manual_seed(0)
    text = "hello world! " * 80
    tok = CharTokenizer.from_text(text)
    data = _ids(tok.encode(text))
    model = CharRNNLM(tok.vocab_size, n_embd=8, hidden_size=32, cell="lstm")
    opt = Adam(model.parameters(), lr=0.02)
    loss_value = float("inf")
    for _ in range(6):  # epochs of truncated BPTT, the state carried (detached) between windows
        state = None
        for x, y in BPTTStreams(data, batch_size=8, bptt=16):
            logits, state = model(x, state)
            state = CharRNNLM.detach_state(state)
            loss = F.cross_entropy(logits.reshape(-1, tok.vocab_size), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_value = loss.item()
    assert loss_value < 0.3
    new = model.generate(_ids(tok.encode("hello wo")), 15, temperature=0.0)
    assert tok.decode(new.data.tolist()) == "rld! hello worl"


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="tinyshakespeare.txt not available")
def test_char_rnn_on_shakespeare_starts_at_log_vocab_loss() -> None:
    text = read_text(SHAKESPEARE)[:2000]
    tok = CharTokenizer.from_text(text)
    gu.manual_seed(0)
    model = CharRNNLM(tok.vocab_size, n_embd=8, hidden_size=16)
    x, y = next(iter(BPTTStreams(_ids(tok.encode(text)), batch_size=4, bptt=32)))
    logits, _ = model(x)
    loss = F.cross_entropy(logits.reshape(-1, tok.vocab_size), y.reshape(-1)).item()
    assert abs(loss - np.log(tok.vocab_size)) < 0.2  # an untrained model is close to uniform


def test_char_rnn_errors() -> None:
    with pytest.raises(ValueError, match="CharRNNLM: cell must be one of"):
        CharRNNLM(5, cell="transformer")
    with pytest.raises(ValueError, match="tie_weights=True needs n_embd == hidden_size"):
        CharRNNLM(5, n_embd=4, hidden_size=8, tie_weights=True)
    model = CharRNNLM(5, n_embd=4, hidden_size=8)
    with pytest.raises(ValueError, match=r"CharRNNLM: expected ids of shape \(B, T\), got shape \(6,\)"):
        model(_ids([1, 2, 3, 4, 0, 1]))
    with pytest.raises(TypeError, match="CharRNNLM: expected ids as a groundup Tensor"):
        model(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(IndexError, match="index 5 is out of range for num_embeddings=5"):
        model(_ids([[1, 5]]))


# ---------------------------------------------------------------------------------------------------- NPLM


@pytest.mark.parametrize("direct", [False, True])
def test_nplm_parameter_count_matches_the_formula(direct: bool) -> None:
    v, n1, m, h = 17, 3, 6, 11
    model = NPLM(v, context=n1, n_embd=m, n_hidden=h, direct=direct)
    expected = v * m + n1 * m * h + h + h * v + v + (n1 * m * v if direct else 0)
    assert sum(p.numel() for p in model.parameters()) == expected


@pytest.mark.parametrize("direct", [False, True])
def test_nplm_forward_is_the_papers_equation(direct: bool) -> None:
    gu.manual_seed(4)
    model = NPLM(13, context=2, n_embd=3, n_hidden=5, direct=direct)
    idx = np.array([[0, 12], [5, 5], [7, 1]])
    C, H, d = model.C.weight.data, model.H.weight.data, model.H.bias.data
    U, b = model.U.weight.data, model.U.bias.data
    expected = []
    for row in idx:  # one context at a time: x = (C[w1], C[w2]), y = b + W x + U tanh(d + H x)
        x = np.concatenate([C[w] for w in row])
        y = b + U @ np.tanh(d + H @ x)
        if direct:
            y = y + model.W.weight.data @ x
        expected.append(y)
    logits = model(_ids(idx))
    assert tuple(logits.shape) == (3, 13)
    np.testing.assert_allclose(logits.data, np.stack(expected), rtol=1e-5, atol=1e-6)


def test_ngram_windows_matches_a_loop() -> None:
    stream = [4, 0, 3, 3, 1, 2, 0]
    x, y = ngram_windows(stream, 3)
    assert x.dtype == gu.int64 and y.dtype == gu.int64
    np.testing.assert_array_equal(x.data, [stream[i : i + 3] for i in range(len(stream) - 3)])
    np.testing.assert_array_equal(y.data, [stream[i + 3] for i in range(len(stream) - 3)])


def test_nplm_learns_a_deterministic_word_sequence() -> None:
    # after "sat . the" comes "dog", after "ran . the" comes "cat": only a 3-word context disambiguates
    words = "the cat sat . the dog ran .".split() * 20
    vocab = sorted(set(words))
    x, y = ngram_windows([vocab.index(w) for w in words], 3)
    gu.manual_seed(0)
    model = NPLM(len(vocab), context=3, n_embd=8, n_hidden=16, direct=True)
    opt = Adam(model.parameters(), lr=0.03)
    for _ in range(150):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    with gu.no_grad():
        assert (model(x).data.argmax(-1) == y.data).all()


def test_nplm_and_ngram_windows_errors() -> None:
    model = NPLM(6, context=3)
    with pytest.raises(ValueError, match=r"NPLM: expected contexts of shape \(B, 3\).*got shape \(2, 2\)"):
        model(_ids([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match=r"NPLM: expected contexts of shape \(B, 3\).*got shape \(3,\)"):
        model(_ids([1, 2, 3]))
    with pytest.raises(IndexError, match="index 6 is out of range for num_embeddings=6"):
        model(_ids([[1, 2, 6]]))
    with pytest.raises(ValueError, match="NPLM: context"):
        NPLM(6, context=0)
    with pytest.raises(ValueError, match="ngram_windows: expected a 1-D stream of integer ids"):
        ngram_windows(np.zeros((2, 4), dtype=np.int64), 2)
    with pytest.raises(ValueError, match="needs at least context \\+ 1 tokens"):
        ngram_windows([1, 2, 3], 3)
