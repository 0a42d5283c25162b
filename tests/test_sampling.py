"""Sampling strategies: top-k / top-p filters against slow NumPy loops, empirical draw frequencies,
greedy decoding, determinism, the generate loop on a toy bigram model, and the errors."""

import numpy as np
import pytest

import groundup as gu
from groundup.models import apply_temperature, generate, sample_next, top_k_filter, top_p_filter


def _ref_top_k(z: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(z, -np.inf)
    for idx in np.ndindex(z.shape[:-1]):
        row = z[idx]
        kth = sorted(row.tolist(), reverse=True)[min(k, len(row)) - 1]
        for i, v in enumerate(row):
            if v >= kth:
                out[idx + (i,)] = v
    return out


def _ref_top_p(z: np.ndarray, p: float, min_keep: int = 1) -> np.ndarray:
    out = np.full_like(z, -np.inf)
    for idx in np.ndindex(z.shape[:-1]):
        row = z[idx].astype(np.float64)
        e = np.exp(row - row.max())
        probs = e / e.sum()
        order = sorted(range(len(row)), key=lambda i: (-row[i], i))
        mass = 0.0
        for rank, i in enumerate(order):
            if mass >= p and rank >= min_keep:
                break
            out[idx + (i,)] = z[idx + (i,)]
            mass += probs[i]
    return out


def _logits(shape, seed, ties=False):
    z = np.random.default_rng(seed).normal(size=shape) * 2
    if ties:
        z = np.round(z)  # many equal logits per row
    return z.astype(np.float32)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("k", [1, 3, 7, 20])
def test_top_k_matches_reference(k, ties):
    z = _logits((2, 3, 7), seed=k, ties=ties)
    out = top_k_filter(gu.tensor(z), k)
    assert out.dtype == gu.float32 and out.shape == (2, 3, 7)
    np.testing.assert_array_equal(out.numpy(), _ref_top_k(z, k))


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("p,min_keep", [(0.1, 1), (0.5, 1), (0.9, 1), (0.5, 3), (1.0, 1)])
def test_top_p_matches_reference(p, min_keep, ties):
    z = _logits((4, 2, 9), seed=int(p * 10) + min_keep, ties=ties)
    out = top_p_filter(gu.tensor(z), p, min_tokens_to_keep=min_keep)
    np.testing.assert_array_equal(out.numpy(), _ref_top_p(z, p, min_keep))
    assert (np.isfinite(out.numpy()).sum(-1) >= min_keep).all()


def test_top_p_keeps_the_crossing_token():
    z = gu.tensor(np.log([0.2, 0.5, 0.3]))
    kept = lambda p, m=1: np.isfinite(top_p_filter(z, p, m).numpy()).tolist()  # noqa: E731
    assert kept(0.45) == [False, True, False]  # 0.5 alone reaches 0.45
    assert kept(0.6) == [False, True, True]  # 0.5 < 0.6, so the crossing 0.3 is kept
    assert kept(0.81) == [True, True, True]
    assert kept(0.1, 2) == [False, True, True]  # min_tokens_to_keep wins over p


def test_top_k_and_top_p_parity_with_torch():
    torch = pytest.importorskip("torch")
    z = _logits((5, 11), seed=0)
    t = torch.tensor(z)
    v, _ = torch.topk(t, 4)  # nanoGPT's top-k
    ref_k = t.masked_fill(t < v[:, [-1]], float("-inf"))
    np.testing.assert_array_equal(top_k_filter(gu.tensor(z), 4).numpy(), ref_k.numpy())
    sorted_logits, sorted_idx = torch.sort(t, descending=False)  # Hugging Face's TopPLogitsWarper
    remove_sorted = sorted_logits.softmax(-1).cumsum(-1) <= 1 - 0.7
    remove_sorted[:, -1:] = False
    remove = remove_sorted.scatter(1, sorted_idx, remove_sorted)
    ref_p = t.masked_fill(remove, float("-inf"))
    np.testing.assert_array_equal(top_p_filter(gu.tensor(z), 0.7).numpy(), ref_p.numpy())


def test_apply_temperature_reshapes_softmax():
    z = _logits((3, 5), seed=1).astype(np.float64)
    out = apply_temperature(gu.tensor(z), 0.5).numpy()
    p = np.exp(out - out.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    q = np.exp(z) ** 2  # p_i ∝ exp(z_i / T) with T = 0.5
    np.testing.assert_allclose(p, q / q.sum(-1, keepdims=True), rtol=1e-12)


def test_temperature_zero_is_argmax():
    z = _logits((3, 4, 6), seed=2, ties=True)
    ids = sample_next(gu.tensor(z), temperature=0)
    assert ids.dtype == gu.int64 and ids.shape == (3, 4)
    np.testing.assert_array_equal(ids.numpy(), np.argmax(z, axis=-1))
    # top_k=1 is greedy at any temperature when the maximum is unique
    z = _logits((50, 6), seed=3)
    np.testing.assert_array_equal(sample_next(gu.tensor(z), 2.0, top_k=1).numpy(), z.argmax(-1))


def test_empirical_frequencies_match_filtered_softmax():
    z = np.array([2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -np.inf, 1.2])
    temp, k, p = 0.8, 5, 0.9
    f = _ref_top_p(_ref_top_k(z / temp, k), p)
    expected = np.exp(f - f.max())
    expected /= expected.sum()
    n = 20_000
    g = gu.Generator().manual_seed(0)
    draws = sample_next(gu.tensor(np.tile(z, (n, 1))), temp, top_k=k, top_p=p, generator=g)
    counts = np.bincount(draws.numpy(), minlength=len(z))
    kept = expected > 0
    assert (counts[~kept] == 0).all()  # filtered and -inf tokens are never drawn
    chi2 = (((counts - n * expected)[kept]) ** 2 / (n * expected[kept])).sum()
    assert chi2 < 25.0, (counts, n * expected)  # df <= 4; 25 is far in the tail


def test_determinism_per_generator():
    z = gu.tensor(_logits((200, 10), seed=4))
    a = sample_next(z, generator=gu.Generator().manual_seed(7)).numpy()
    b = sample_next(z, generator=gu.Generator().manual_seed(7)).numpy()
    c = sample_next(z, generator=gu.Generator().manual_seed(8)).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


V = 7
_NEXT = [(3 * i + 1) % V for i in range(V)]  # greedy successor of each token


def _bigram_step(ids, state):
    """A toy stateful model: logits depend only on the last token; state counts the calls."""
    table = np.full((V, V), -1.0, dtype=np.float32)
    table[np.arange(V), _NEXT] = 2.0
    calls = 0 if state is None else state
    return gu.tensor(table[ids.numpy()[..., -1]]), calls + 1


def _greedy_ref(start, n, stop=None):
    out, tok = [], start
    for _ in range(n):
        tok = _NEXT[tok]
        out.append(tok)
        if tok == stop:
            break
    return out


def test_generate_greedy_sequence_and_state():
    seen = []

    def step(ids, state):
        seen.append((ids.shape[-1], state))
        return _bigram_step(ids, state)

    out = generate(step, gu.tensor([[5, 2], [1, 0]]), 6, temperature=0)
    assert out.dtype == gu.int64
    assert out.numpy().tolist() == [_greedy_ref(2, 6), _greedy_ref(0, 6)]
    assert seen == [(2 + i, None if i == 0 else i) for i in range(6)]  # context grows, state threads
    assert generate(step, gu.tensor([3]), 0).shape == (0,)


def test_generate_stop_token_and_sampling():
    start, stop = 0, _greedy_ref(0, 4)[-1]
    out = generate(_bigram_step, gu.tensor([start]), 50, temperature=0, stop_token=stop)
    assert out.numpy().tolist() == _greedy_ref(start, 50, stop)  # stops after emitting stop
    # a batch stops when every row has stopped; the early row is padded with the stop token
    out = generate(_bigram_step, gu.tensor([[0], [_NEXT[0]]]), 50, temperature=0, stop_token=stop)
    row0, row1 = _greedy_ref(0, 50, stop), _greedy_ref(_NEXT[0], 50, stop)  # row1: row0 minus its first
    assert out.numpy().tolist() == [row0, row1 + [stop]]
    g = lambda s: gu.Generator().manual_seed(s)  # noqa: E731
    a = generate(_bigram_step, gu.tensor([1]), 30, temperature=1.5, generator=g(3)).numpy().tolist()
    b = generate(_bigram_step, gu.tensor([1]), 30, temperature=1.5, generator=g(3)).numpy().tolist()
    assert len(a) == 30 and a == b
    assert a != _greedy_ref(1, 30)  # T=1.5 leaves each wrong token ~5% per step


def test_errors():
    z = gu.tensor(_logits((2, 5), seed=5))
    with pytest.raises(ValueError, match="top_k_filter: k must be >= 1"):
        top_k_filter(z, 0)
    with pytest.raises(ValueError, match=r"top_p_filter: p must lie in \(0, 1\]"):
        top_p_filter(z, 0.0)
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\]"):
        sample_next(z, top_p=1.5)
    with pytest.raises(ValueError, match="sample_next: temperature must be finite and >= 0"):
        sample_next(z, temperature=-1.0)
    with pytest.raises(ValueError, match="apply_temperature: temperature must be finite and > 0"):
        apply_temperature(z, 0.0)
    with pytest.raises(ValueError, match="rank >= 1, got a rank-0"):
        sample_next(gu.tensor(1.0))
    with pytest.raises(ValueError, match="all -inf"):
        sample_next(gu.tensor([[0.0, 1.0], [-np.inf, -np.inf]]))
    with pytest.raises(TypeError, match="groundup Tensor"):
        top_k_filter(np.zeros(3), 1)
    with pytest.raises(ValueError, match="generate: prompt_ids must be integer ids"):
        generate(_bigram_step, gu.tensor([0.5]), 3)
    with pytest.raises(ValueError, match="model_step must return logits of shape"):
        generate(lambda ids, s: (gu.zeros(3, V), s), gu.tensor([1]), 2)
