"""Tests for the makemore character models (groundup/models/makemore.py)."""

import math
from pathlib import Path

import numpy as np
import pytest

import groundup
import groundup.nn.functional as F
from groundup import nn
from groundup.datasets.text import load_names, split_words
from groundup.models import (
    BatchNorm1dSeq,
    BigramLM,
    FlattenConsecutive,
    MakemoreMLP,
    WaveNet,
    build_char_dataset,
)

NAMES = Path("/work/shared/data/names.txt")
needs_names = pytest.mark.skipif(not NAMES.exists(), reason="names.txt not available")
WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "zoe"]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("block_size", [1, 3, 8])
def test_dataset_matches_slow_loop(block_size):
    X, Y, stoi, itos = build_char_dataset(WORDS, block_size)
    chars = sorted(set("".join(WORDS)))
    assert stoi["."] == 0 and [itos[i + 1] for i in range(len(chars))] == chars
    xs, ys = [], []
    for w in WORDS:
        padded = "." * block_size + w + "."
        for i in range(len(w) + 1):
            xs.append([stoi[c] for c in padded[i : i + block_size]])
            ys.append(stoi[padded[i + block_size]])
    assert X.dtype == groundup.int64 and Y.dtype == groundup.int64
    np.testing.assert_array_equal(X.numpy(), np.array(xs))
    np.testing.assert_array_equal(Y.numpy(), np.array(ys))


def test_dataset_errors():
    with pytest.raises(ValueError, match="build_char_dataset: block_size"):
        build_char_dataset(WORDS, 0)
    _, _, stoi, _ = build_char_dataset(["ab"], 2)
    with pytest.raises(ValueError, match="build_char_dataset: character 'z'"):
        build_char_dataset(["az"], 2, stoi)
    with pytest.raises(ValueError, match="char_vocab: the words contain '.'"):
        build_char_dataset(["a.b"], 2)


@needs_names
def test_lecture_split_shapes():
    tr, dv, te = split_words(load_names(NAMES))
    Xtr, Ytr, stoi, _ = build_char_dataset(tr, 3)
    Xdev, _, _, _ = build_char_dataset(dv, 3, stoi)
    Xte, _, _, _ = build_char_dataset(te, 3, stoi)
    assert len(stoi) == 27
    assert tuple(Xtr.shape) == (182625, 3) and tuple(Ytr.shape) == (182625,)
    assert tuple(Xdev.shape) == (22655, 3) and tuple(Xte.shape) == (22866, 3)


@needs_names
def test_bigram_nll_matches_numpy():
    words = load_names(NAMES)
    stoi = {c: i for i, c in enumerate(".abcdefghijklmnopqrstuvwxyz")}
    lm = BigramLM(stoi, smoothing=1.0).fit(words)
    N = np.ones((27, 27))
    total, count = 0.0, 0
    for w in words:
        chs = "." + w + "."
        for a, b in zip(chs, chs[1:]):
            N[stoi[a], stoi[b]] += 1
    P = N / N.sum(1, keepdims=True)
    for w in words:
        chs = "." + w + "."
        for a, b in zip(chs, chs[1:]):
            total -= math.log(P[stoi[a], stoi[b]])
            count += 1
    assert lm.nll(words) == pytest.approx(total / count, rel=1e-10)
    assert lm.nll(words) == pytest.approx(2.4544, abs=1e-3)  # the lecture's 2.4544
    assert np.allclose(lm.probs.sum(1), 1.0)


def test_bigram_unsmoothed_unseen_pair_is_infinite_and_samples_end():
    lm = BigramLM({".": 0, "a": 1, "b": 2}, smoothing=0.0).fit(["ab", "a"])
    assert lm.nll(["ba"]) == math.inf
    with pytest.raises(ValueError, match="BigramLM.nll: no words"):
        lm.nll([])
    names = lm.sample(20, groundup.Generator().manual_seed(0))
    assert set(names) <= {"a", "ab"} and {"a", "ab"} <= set(names)
    assert names == lm.sample(20, groundup.Generator().manual_seed(0))


def test_parameter_counts():
    assert n_params(MakemoreMLP()) == 27 * 10 + 30 * 200 + 200 + 200 * 27 + 27 == 11897
    bn = MakemoreMLP(batch_norm=True)
    assert bn.hidden.bias is None
    assert n_params(bn) == 11897 - 200 + 2 * 200 == 12097
    assert n_params(WaveNet()) == 76579  # makemore part 5's count for n_embd=24, n_hidden=128


def test_mlp_init_gives_near_uniform_loss():
    groundup.manual_seed(0)
    X, Y, _, _ = build_char_dataset(WORDS * 20, 3)
    for batch_norm in (False, True):
        loss = F.cross_entropy(MakemoreMLP(vocab_size=27, batch_norm=batch_norm)(X), Y).item()
        assert abs(loss - math.log(27)) < 0.05


def test_flatten_consecutive_and_seq_batchnorm():
    x = groundup.randn(4, 8, 3)
    y = FlattenConsecutive(2)(x)
    assert tuple(y.shape) == (4, 4, 6)
    np.testing.assert_array_equal(y.numpy()[:, 1], np.concatenate([x.numpy()[:, 2], x.numpy()[:, 3]], axis=1))
    assert tuple(FlattenConsecutive(8)(x).shape) == (4, 24)
    with pytest.raises(ValueError, match="FlattenConsecutive: expected .*divisible by n=3"):
        FlattenConsecutive(3)(x)
    bn = BatchNorm1dSeq(3)
    out = bn(x * 5 + 2).detach().numpy()  # (B, T, C), statistics over dims (0, 1)
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 1)), 1, atol=1e-3)
    xs = (x * 5 + 2).numpy()
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * xs.mean(axis=(0, 1)), rtol=1e-4, atol=1e-6)


def test_wavenet_shapes_and_errors():
    model = WaveNet()
    assert tuple(model(groundup.zeros(5, 8, dtype=groundup.int64)).shape) == (5, 27)
    assert tuple(WaveNet(block_size=4, n_embd=6, n_hidden=10)(groundup.zeros(3, 4, dtype=groundup.int64)).shape) == (3, 27)
    with pytest.raises(ValueError, match="WaveNet: block_size must be a power of two"):
        WaveNet(block_size=6)
    with pytest.raises(ValueError, match=r"WaveNet: expected int64 input of shape \(B, block_size=8\)"):
        model(groundup.zeros(5, 3, dtype=groundup.int64))
    with pytest.raises(ValueError, match="MakemoreMLP: expected int64 input"):
        MakemoreMLP()(groundup.zeros(5, 3))


def test_bn_eval_uses_running_stats():
    groundup.manual_seed(0)
    model = MakemoreMLP(batch_norm=True)
    X, _, _, _ = build_char_dataset(WORDS, 3)
    with groundup.no_grad():
        model(X)  # one training-mode batch updates the running statistics
        model.eval()
        single = model(X[:1]).numpy()
        batch = model(X).numpy()
        h = model.hidden(model.flatten(model.embedding(X))).numpy()
    np.testing.assert_allclose(single, batch[:1], rtol=1e-5, atol=1e-6)  # no batch dependence in eval
    bn = model.bn
    ref = (h - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + bn.eps) * bn.weight.detach().numpy() + bn.bias.detach().numpy()
    ref = np.tanh(ref) @ model.out.weight.detach().numpy().T + model.out.bias.detach().numpy()
    np.testing.assert_allclose(batch, ref, rtol=1e-4, atol=1e-5)


@needs_names
@pytest.mark.parametrize(
    "make, block_size",
    [
        (lambda: MakemoreMLP(), 3),
        (lambda: MakemoreMLP(batch_norm=True), 3),
        (lambda: WaveNet(block_size=8, n_embd=10, n_hidden=64), 8),
    ],
)
def test_models_learn(make, block_size):
    groundup.manual_seed(0)
    words = split_words(load_names(NAMES))[0][:2000]
    X, Y, _, _ = build_char_dataset(words, block_size)
    model = make()
    opt = groundup.optim.Adam(model.parameters(), lr=1e-2)
    g = groundup.Generator().manual_seed(0)
    for _ in range(300):
        ix = groundup.randint(0, X.shape[0], (64,), generator=g)
        loss = F.cross_entropy(model(X[ix]), Y[ix])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with groundup.no_grad():
        full = F.cross_entropy(model(X), Y).item()
    assert full < 2.6 < math.log(27)
