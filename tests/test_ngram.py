"""Tests for the count-based n-gram language model (groundup/models/ngram.py)."""

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import groundup
from groundup.models import NGramLM

CORPUS = [list("abracadabra"), list("cadabra"), list("abba"), list("dabacab")]
SHAKESPEARE = Path("/work/shared/data/tinyshakespeare.txt")


@pytest.mark.parametrize("smoothing", ["add_k", "kneser_ney"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_probabilities_sum_to_one(smoothing, n):
    lm = NGramLM(n, smoothing, k=0.5, discount=None if n == 3 else 0.75).fit(CORPUS)
    for context in [(), list("ab"), list("abr"), list("cad"), list("zzz"), list("bbbb"), ["<s>", "a"]]:
        probs = np.array([lm.prob(w, context) for w in lm.vocab])
        assert np.all(probs > 0)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(lm.distribution(context), probs, rtol=1e-12)


def test_add_k_hand_computed():
    # V = {<unk>, </s>, a, b}; bigrams: <s>a x2, ab, b</s>, aa, a</s>.
    lm = NGramLM(2, "add_k", k=1.0).fit([["a", "b"], ["a", "a"]])
    assert len(lm.vocab) == 4
    assert lm.prob("a", []) == pytest.approx((2 + 1) / (2 + 4))
    assert lm.prob("b", ["a"]) == pytest.approx((1 + 1) / (3 + 4))
    assert lm.prob("</s>", ["b"]) == pytest.approx((1 + 1) / (1 + 4))
    assert lm.prob("a", ["<unk>"]) == pytest.approx(1 / 4)  # unseen context: uniform
    assert lm.log_prob(["a", "b"]) == pytest.approx(math.log(3 / 6 * 2 / 7 * 2 / 5))
    uni = NGramLM(1, "add_k", k=2.0).fit([["a", "b"], ["a", "a"]])  # 4 a/b tokens + 2 </s>
    assert uni.prob("a") == pytest.approx((3 + 2) / (6 + 2 * 4))


def test_kneser_ney_hand_worked_bigram():
    # Continuation counts: a <- {<s>, a} = 2, b <- {a} = 1, </s> <- {a, b} = 2, <unk> = 0; 5 bigram types.
    lm = NGramLM(2, "kneser_ney", discount=0.5).fit([["a", "b"], ["a", "a"]])
    p_b = (1 - 0.5) / 5 + 0.5 * 3 / 5 * (1 / 4)
    assert lm.prob("b", ["<unk>"]) == pytest.approx(p_b)  # unseen context falls back to the unigram level
    assert lm.prob("b", ["a"]) == pytest.approx((1 - 0.5) / 3 + 0.5 * 3 / 3 * p_b)
    assert lm.prob("<unk>", ["a"]) == pytest.approx(0.5 * 3 / 3 * (0.5 * 3 / 5 * (1 / 4)))


def _slow_kneser_ney(corpus, n, d, vocab, bos="<s>", eos="</s>"):
    """Textbook interpolated KN, by brute force over the vocabulary (Jurafsky & Martin eq. 3.35-3.37)."""
    grams = []  # every n-gram occurrence of the padded corpus
    for s in corpus:
        p = [bos] * (n - 1) + list(s) + [eos]
        grams += [tuple(p[i - n + 1:i + 1]) for i in range(n - 1, len(p))]

    def c_kn(g):
        if len(g) == n:
            return sum(x == g for x in grams)
        return len({x[n - len(g) - 1] for x in grams if x[n - len(g):] == g})

    def p_kn(w, h):
        lower = 1 / len(vocab) if len(h) == 0 else p_kn(w, h[1:])
        counts = {v: c_kn(h + (v,)) for v in vocab}
        total = sum(counts.values())
        if total == 0:
            return lower
        return max(counts[w] - d, 0) / total + d * sum(c > 0 for c in counts.values()) / total * lower

    return lambda w, h: p_kn(w, tuple(h))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_kneser_ney_matches_slow_textbook_implementation(n):
    lm = NGramLM(n, "kneser_ney", discount=0.6).fit(CORPUS)
    slow = _slow_kneser_ney(CORPUS, n, 0.6, lm.vocab)
    for h in [("<s>",) * (n - 1), tuple("ab"[:n - 1]), tuple("ca"[:n - 1]), tuple("rr"[:n - 1]), ("<unk>",) * (n - 1)]:
        for w in lm.vocab:
            assert lm.prob(w, list(h)) == pytest.approx(slow(w, h), rel=1e-12)


def test_estimated_discounts_follow_chen_goodman():
    lm = NGramLM(2, "kneser_ney", discount=None).fit(CORPUS)
    top = Counter()
    for s in CORPUS:
        p = ["<s>", *s, "</s>"]
        top.update(zip(p[:-1], p[1:]))
    n1, n2 = sum(c == 1 for c in top.values()), sum(c == 2 for c in top.values())
    assert lm.discounts[1] == pytest.approx(n1 / (n1 + 2 * n2))
    assert all(0 < d < 1 for d in lm.discounts)


@pytest.mark.parametrize("smoothing", ["add_k", "kneser_ney"])
def test_uniform_model_perplexity_is_vocab_size(smoothing):
    lm = NGramLM(2, smoothing).fit([], vocab=list("abcde"))  # no counts: the uniform distribution
    assert len(lm.vocab) == 7  # a..e, </s>, <unk>
    assert lm.perplexity([list("abc"), list("ed"), list("xyz")]) == pytest.approx(7.0)


def test_unknown_tokens_map_to_unk():
    lm = NGramLM(2, "kneser_ney").fit(CORPUS)
    assert lm.prob("q", ["z"]) == lm.prob("<unk>", ["<unk>"])
    strict = NGramLM(2, "add_k", unk=None).fit(CORPUS)
    assert "<unk>" not in strict.vocab
    with pytest.raises(ValueError, match="not in the vocabulary"):
        strict.prob("q", ["a"])
    rare = NGramLM(1, "add_k").fit(CORPUS, min_count=4)  # c, d, r occur 3 times each -> <unk>
    assert set(rare.vocab) == {"<unk>", "</s>", "a", "b"}


def test_kneser_ney_beats_add_one_on_shakespeare():
    if not SHAKESPEARE.exists():
        pytest.skip("tinyshakespeare.txt not available")
    lines = [line.split() for line in SHAKESPEARE.read_text().splitlines() if line.strip()]
    cut = int(0.9 * len(lines))
    train, test = lines[:cut], lines[cut:]
    add1 = NGramLM(3, "add_k", k=1.0).fit(train).perplexity(test)
    kn_uni = NGramLM(1, "kneser_ney").fit(train).perplexity(test)
    kn = NGramLM(3, "kneser_ney").fit(train).perplexity(test)
    assert kn < kn_uni < add1
    assert kn < 0.6 * kn_uni


def test_generate_is_deterministic_per_seed():
    lm = NGramLM(3, "kneser_ney").fit(CORPUS)
    a = lm.generate(list("ab"), 30, groundup.Generator().manual_seed(1))
    b = lm.generate(list("ab"), 30, groundup.Generator().manual_seed(1))
    others = {tuple(lm.generate(list("ab"), 30, groundup.Generator().manual_seed(s))) for s in range(2, 8)}
    assert a == b and a[:2] == ["a", "b"] and len(a) <= 32
    assert set(a) <= set(lm.vocab) - {"</s>"}
    assert len(others | {tuple(a)}) > 1


def test_generate_samples_the_distribution():
    lm = NGramLM(1, "add_k").fit([list("aaab")])  # P = (4, 2, 2, 1) / 9 over a, b, </s>, <unk>
    g = groundup.Generator().manual_seed(0)
    draws = Counter()
    for _ in range(2000):
        draws.update(lm.generate([], 1, g) or ["</s>"])
    assert draws["a"] / 2000 == pytest.approx(lm.prob("a"), abs=0.04)
    assert draws["</s>"] / 2000 == pytest.approx(lm.prob("</s>"), abs=0.03)


def test_errors():
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        NGramLM(0)
    with pytest.raises(ValueError, match="k must be > 0"):
        NGramLM(2, k=0.0)
    with pytest.raises(ValueError, match=r"discounts must lie in \(0, 1\)"):
        NGramLM(2, "kneser_ney", discount=1.0)
    with pytest.raises(ValueError, match="expected 2 per-order discounts"):
        NGramLM(2, "kneser_ney", discount=[0.5])
    with pytest.raises(ValueError, match="smoothing must be one of"):
        NGramLM(2, "witten_bell")
    with pytest.raises(ValueError, match="not fitted"):
        NGramLM(2).prob("a", ["b"])
    with pytest.raises(TypeError, match="wrap one stream"):
        NGramLM(2).fit("abc")
    with pytest.raises(ValueError, match="occur in the data"):
        NGramLM(2).fit([["a", "</s>"]])
    with pytest.raises(ValueError, match="never predicted"):
        NGramLM(2).fit(CORPUS).prob("<s>", ["a"])
