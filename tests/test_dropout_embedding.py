"""dropout / alpha_dropout, embedding / one_hot, normalize / cosine_similarity / pairwise_distance
and the Dropout / Embedding modules: statistics, gradcheck, PyTorch parity, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
import groundup.functions.embedding as emb_mod
import groundup.nn as nn
import groundup.nn.functional as F
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None


# --------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    gu.manual_seed(0)
    x = gu.tensor(rand(400, 500, seed=1, positive=True), dtype=gu.float32, requires_grad=True)
    y = F.dropout(x, p)
    assert y.dtype == gu.float32
    out, xin = y.detach().numpy(), x.detach().numpy()
    kept = out != 0
    # the kept fraction is Binomial(200000, 1-p)/200000: 5 standard deviations is < 0.006
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / kept.size)
    np.testing.assert_allclose(out[kept], xin[kept] / (1 - p), rtol=1e-6)  # survivors scaled
    g = rand(400, 500, seed=2).astype(np.float32)
    y.backward(gu.tensor(g))
    # the backward uses the forward's mask
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g / (1 - p), 0), rtol=1e-6)


def test_dropout_expected_value_is_preserved():
    gu.manual_seed(1)
    x = gu.ones(1000, 1000)
    assert abs(F.dropout(x, 0.3).numpy().mean() - 1.0) < 0.005


def test_dropout_determinism_under_manual_seed():
    x = gu.randn(50, 60)
    gu.manual_seed(123)
    a = F.dropout(x, 0.5).numpy().copy()
    b = F.dropout(x, 0.5).numpy().copy()
    gu.manual_seed(123)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), a)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), b)
    assert not np.array_equal(a, b)  # the stream advances


def test_dropout_gradcheck_with_fixed_mask():
    def fn(x):
        gu.manual_seed(7)  # the same mask on every evaluation
        return F.dropout(x, 0.4)

    check_op(fn, None, rand(4, 5, seed=3))


@requires_torch
def test_dropout_edge_cases_match_torch():
    x = gu.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    empty = gu.zeros(0, 3)
    assert F.dropout(empty, 0.5) is empty
    special = np.array([1.0, -2.0, math.inf, math.nan, 0.0], dtype=np.float32)
    gs = gu.tensor(special, requires_grad=True)
    y = F.dropout(gs, 1.0)
    ty = TF.dropout(torch.tensor(special), 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), ty.numpy())  # 0 * inf = nan, as torch
    y.backward(gu.ones(5))
    np.testing.assert_array_equal(gs.grad.numpy(), np.zeros(5, np.float32))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
            F.dropout(x, p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(p)
    with pytest.raises(TypeError, match=r"dropout: expected a floating point input, got int64"):
        F.dropout(gu.tensor([1, 2, 3]), 0.5)


def test_dropout_inplace():
    gu.manual_seed(3)
    x = gu.ones(20, 30)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and np.any(x.numpy() == 0) and np.all(np.isin(x.numpy(), [0.0, 2.0]))
    # while autograd records through x, the result comes back out of place and x is untouched
    w = gu.ones(20, 30, requires_grad=True)
    z = F.dropout(w, 0.5, inplace=True)
    assert z is not w and np.all(w.detach().numpy() == 1)
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), z.detach().numpy())


def test_alpha_dropout_statistics_and_gradient():
    gu.manual_seed(5)
    p = 0.2
    x = gu.randn(500, 400, dtype=gu.float64, requires_grad=True)  # zero mean, unit variance
    y = F.alpha_dropout(x, p, training=True)
    out = y.detach().numpy()
    # SELU's fixed point is kept: mean 0, variance 1 (Klambauer et al., 2017)
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.02
    alpha = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717  # SELU scale*alpha
    a = ((1 - p) * (1 + p * alpha**2)) ** -0.5
    b = a * alpha * p
    dropped_value = a * -alpha + b
    dropped = np.isclose(out, dropped_value, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(out[~dropped], a * x.detach().numpy()[~dropped] + b, rtol=1e-12)
    y.backward(gu.ones(500, 400, dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), np.where(dropped, 0.0, a), rtol=1e-12)
    assert F.alpha_dropout(x, p) is x  # training defaults to False, as in torch
    np.testing.assert_array_equal(F.alpha_dropout(x.detach(), 1.0, True).numpy(), 0)


def test_dropout_modules():
    m = nn.Dropout(0.25)
    assert repr(m) == "Dropout(p=0.25, inplace=False)"
    assert repr(nn.AlphaDropout(0.2)) == "AlphaDropout(p=0.2, inplace=False)"
    x = gu.ones(100, 100)
    gu.manual_seed(0)
    y = m(x).numpy()
    assert set(np.unique(y).tolist()) == {0.0, np.float32(1 / 0.75).item()}
    m.eval()
    assert m(x) is x
    assert list(m.state_dict()) == [] and list(m.parameters()) == []
    if torch is not None:
        assert repr(m) == repr(torch.nn.Dropout(0.25))


# ------------------------------------------------------------------------------- embedding
EMB_CASES = {
    "plain": dict(),
    "padding": dict(padding_idx=2),
    "padding_negative": dict(padding_idx=-1),
    "freq": dict(scale_grad_by_freq=True),
    "padding_freq": dict(padding_idx=0, scale_grad_by_freq=True),
}


@pytest.mark.parametrize("num", [10, 300])  # the one-hot matmul backward and the sorted one
@pytest.mark.parametrize("case", list(EMB_CASES))
def test_embedding_parity(case, num):
    kw = EMB_CASES[case]
    rng = np.random.default_rng(0)
    idx = rng.integers(0, num, (4, 7))
    idx[0, :3] = [0, 2, num - 1]
    idx[1, :4] = 2  # repeated indices accumulate
    w = rand(num, 3, seed=5)
    fn = lambda mod: lambda w, i: mod.embedding(i, w, **kw)  # noqa: E731
    # padding and frequency scaling make the "gradient" deliberately differ from the numerical one
    check_op(fn(F), fn(TF) if torch else None, w, idx, check_gradcheck=not kw and num == 10)


def test_embedding_backward_against_numpy_add_at():
    rng = np.random.default_rng(1)
    for num in (5, 200):
        idx = rng.integers(0, num, (3, 50))
        w = gu.tensor(rng.standard_normal((num, 4)), requires_grad=True)
        g = rng.standard_normal((3, 50, 4))
        F.embedding(gu.tensor(idx), w).backward(gu.tensor(g))
        ref = np.zeros((num, 4))
        np.add.at(ref, idx.ravel(), g.reshape(-1, 4))
        np.testing.assert_allclose(w.grad.numpy(), ref, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("num", [10, 300])
def test_embedding_nonfinite_gradient_stays_in_its_row(num):
    idx = np.array([1, 3, 3, 5])
    g = np.ones((4, 2))
    g[0, 0] = math.inf
    g[3, 1] = math.nan
    w = gu.zeros(num, 2, dtype=gu.float64, requires_grad=True)
    F.embedding(gu.tensor(idx), w).backward(gu.tensor(g))
    tw = torch.zeros(num, 2, dtype=torch.float64, requires_grad=True)
    TF.embedding(torch.tensor(idx), tw).backward(torch.tensor(g))
    np.testing.assert_array_equal(w.grad.numpy(), tw.grad.numpy())


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_embedding_max_norm_matches_torch(norm_type):
    w = rand(8, 4, seed=6) * 2
    idx = np.array([[1, 2, 2], [7, 0, 1]])
    gw, tw = gu.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    y = F.embedding(gu.tensor(idx), gw, max_norm=1.0, norm_type=norm_type)
    ty = TF.embedding(torch.tensor(idx), tw, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(gw.detach().numpy(), tw.detach().numpy(), rtol=1e-12)  # renormed in place
    assert not np.allclose(gw.detach().numpy(), w)  # (some rows did exceed the norm)
    np.testing.assert_array_equal(gw.detach().numpy()[[3, 4, 5, 6]], w[[3, 4, 5, 6]])  # untouched rows
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = rand(2, 3, 4, seed=7)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_embedding_float32_and_shapes():
    w = gu.randn(6, 5, requires_grad=True)
    y = F.embedding(gu.tensor(3), w)  # a 0-d index picks one row
    assert tuple(y.shape) == (5,) and y.dtype == gu.float32
    y = F.embedding(gu.tensor([[1, 2], [3, 4]], dtype=gu.int32), w)
    assert tuple(y.shape) == (2, 2, 5)
    y.sum().backward()
    assert w.grad.dtype == gu.float32
    np.testing.assert_array_equal(w.grad.numpy().sum(1), [0, 5, 5, 5, 5, 0])
    assert tuple(F.embedding(gu.zeros(0, dtype=gu.int64), w).shape) == (0, 5)


def test_embedding_errors():
    w = gu.randn(10, 3)
    with pytest.raises(TypeError, match=r"embedding: expected integer indices \(int64 or int32\), got dtype float32"):
        F.embedding(gu.tensor([1.0]), w)
    with pytest.raises(IndexError, match=r"embedding: index 10 is out of range for num_embeddings=10 \(valid indices are 0 to 9\)"):
        F.embedding(gu.tensor([1, 10]), w)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.embedding(gu.tensor([-1]), w)
    with pytest.raises(RuntimeError, match=r"'weight' must be 2-D"):
        F.embedding(gu.tensor([1]), gu.randn(3))
    with pytest.raises(AssertionError, match=r"Padding_idx must be within num_embeddings"):
        F.embedding(gu.tensor([1]), w, padding_idx=10)
    with pytest.raises(AssertionError, match=r"Padding_idx must be within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=-11)
    with pytest.raises(NotImplementedError, match=r"sparse=True"):
        F.embedding(gu.tensor([1]), w, sparse=True)


def test_embedding_backward_picks_strategy(monkeypatch):
    """Both scatter strategies give the same result on the same data."""
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 50, 400)
    g = rng.standard_normal((400, 6))
    one_hot = emb_mod._scatter_rows(50, idx, g)
    monkeypatch.setattr(emb_mod, "_ONE_HOT_MAX_ROWS", 0)
    sorted_ = emb_mod._scatter_rows(50, idx, g)
    np.testing.assert_allclose(one_hot, sorted_, atol=1e-12)
    unique = rng.permutation(50)[:20]
    np.testing.assert_array_equal(emb_mod._scatter_rows(50, unique, g[:20])[unique], g[:20])


# ----------------------------------------------------------------------------------- one_hot
@requires_torch
@pytest.mark.parametrize("num_classes", [-1, 7])
def test_one_hot_matches_torch(num_classes):
    idx = np.array([[0, 3, 1], [4, 4, 2]])
    y = F.one_hot(gu.tensor(idx), num_classes)
    ty = TF.one_hot(torch.tensor(idx), num_classes)
    assert y.dtype == gu.int64 and tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    assert tuple(F.one_hot(gu.zeros(0, dtype=gu.int64), 3).shape) == (0, 3)
    np.testing.assert_array_equal(F.one_hot(gu.tensor(2), 4).numpy(), [0, 0, 1, 0])


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match=r"Class values must be non-negative"):
        F.one_hot(gu.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match=r"Class values must be smaller than num_classes \(got 3 for num_classes=3\)"):
        F.one_hot(gu.tensor([3]), 3)
    with pytest.raises(RuntimeError, match=r"Can not infer total number of classes from empty tensor"):
        F.one_hot(gu.zeros(0, dtype=gu.int64))
    with pytest.raises(TypeError, match=r"one_hot: expected integer indices"):
        F.one_hot(gu.tensor([1.0]))


# ----------------------------------------------------------------------------- Embedding
EMB_CONFIGS = [
    (10, 3, {}),
    (10, 3, dict(padding_idx=0)),
    (10, 3, dict(padding_idx=-2, max_norm=1.5)),
    (5, 4, dict(max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)),
]


@requires_torch
@pytest.mark.parametrize("num,dim,cfg", EMB_CONFIGS, ids=str)
def test_embedding_module_matches_torch(num, dim, cfg):
    m = nn.Embedding(num, dim, dtype=gu.float64, **cfg)
    t = torch.nn.Embedding(num, dim, dtype=torch.float64, **cfg)
    assert repr(m) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert m.padding_idx == t.padding_idx
    if t.padding_idx is not None:
        assert np.all(m.weight.detach().numpy()[t.padding_idx] == 0)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    idx = np.array([[1, 2, 2, 0], [num - 1, 3, 1, 2]])
    y, ty = m(gu.tensor(idx)), t(torch.tensor(idx))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = rand(2, 4, dim, seed=8)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-12)


def test_embedding_default_init_is_standard_normal():
    gu.manual_seed(0)
    w = nn.Embedding(1000, 50).weight.detach().numpy()
    assert w.dtype == np.float32
    # 50,000 draws: mean within 5 standard errors of 0, std within 1%
    assert abs(w.mean()) < 5 / math.sqrt(w.size) and abs(w.std() - 1) < 0.01
    assert abs(np.mean(np.abs(w)) - math.sqrt(2 / math.pi)) < 0.01  # E|Z| of a normal


def test_embedding_from_pretrained():
    table = gu.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    m = nn.Embedding.from_pretrained(table)
    assert not m.weight.requires_grad and (m.num_embeddings, m.embedding_dim) == (2, 3)
    np.testing.assert_array_equal(m(gu.tensor([1])).detach().numpy(), table.numpy()[[1]])
    m2 = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert m2.weight.requires_grad and m2.padding_idx == 0
    np.testing.assert_array_equal(m2.weight.detach().numpy()[0], table.numpy()[0])  # not zeroed
    assert np.shares_memory(m.weight.detach().numpy(), table.numpy())  # shared, as in torch
    m2(gu.tensor([0, 1])).sum().backward()
    np.testing.assert_array_equal(m2.weight.grad.numpy(), [[0, 0, 0], [1, 1, 1]])
    with pytest.raises(AssertionError, match=r"expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(gu.ones(3))
    with pytest.raises(AssertionError, match=r"Shape of weight does not match"):
        nn.Embedding(3, 3, _weight=gu.ones(2, 3))


# ------------------------------------------------------- normalize / cosine / pairwise distance
DIST_CASES = {
    "normalize": (lambda m: lambda x: m.normalize(x), 1),
    "normalize_p1_dim0": (lambda m: lambda x: m.normalize(x, p=1.0, dim=0), 1),
    "normalize_pinf_dim-1": (lambda m: lambda x: m.normalize(x, p=math.inf, dim=-1), 1),
    "cosine": (lambda m: lambda a, b: m.cosine_similarity(a, b), 2),
    "cosine_dim0": (lambda m: lambda a, b: m.cosine_similarity(a, b, dim=0), 2),
    "cosine_eps": (lambda m: lambda a, b: m.cosine_similarity(a, b, eps=0.5), 2),
    "pairwise": (lambda m: lambda a, b: m.pairwise_distance(a, b), 2),
    "pairwise_p1_keepdim": (lambda m: lambda a, b: m.pairwise_distance(a, b, p=1.0, keepdim=True), 2),
    "pairwise_p3": (lambda m: lambda a, b: m.pairwise_distance(a, b, p=3.0), 2),
}


@pytest.mark.parametrize("name", list(DIST_CASES))
def test_distance_gradcheck_and_parity(name):
    make, n = DIST_CASES[name]
    arrays = [rand(4, 5, seed=9 + i) for i in range(n)]
    check_op(make(F), make(TF) if torch else None, *arrays)


@requires_torch
@pytest.mark.parametrize("name", list(DIST_CASES))
def test_distance_zero_vectors_match_torch(name):
    """Rows of zeros (and equal rows for the distances): finite gradients, equal to torch's."""
    make, n = DIST_CASES[name]
    a = rand(4, 5, seed=11)
    a[1] = 0
    a[:, 2] = 0
    arrays = [a] if n == 1 else [a, a.copy()]
    if n == 2:
        arrays[1][0] = rand(5, seed=12)
        arrays[1][3] = 0
    check_op(make(F), make(TF), *arrays, check_gradcheck=False, rtol=1e-9, atol=1e-9)
    g = [gu.tensor(x, requires_grad=True) for x in arrays]
    make(F)(*g).sum().backward()
    assert all(np.all(np.isfinite(t.grad.numpy())) for t in g)


@requires_torch
def test_distance_broadcasting_and_dtypes():
    a, b = rand(3, 4, seed=13), rand(4, seed=14)
    check_op(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), a, b)
    check_op(lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b), a, b)
    check_op(lambda a, b: F.cosine_similarity(a, b, dim=0), lambda a, b: TF.cosine_similarity(a, b, dim=0), b, rand(4, seed=15))
    x32 = gu.randn(3, 4)
    assert F.cosine_similarity(x32, x32).dtype == gu.float32
    assert F.normalize(x32).dtype == gu.float32 and F.pairwise_distance(x32, x32).dtype == gu.float32
    assert F.cosine_similarity(x32, x32.double()).dtype == gu.float64
    with pytest.raises(IndexError, match=r"cosine_similarity: dimension out of range"):
        F.cosine_similarity(gu.randn(3), gu.randn(3))
    with pytest.raises(RuntimeError, match=r"cannot be broadcast"):
        F.cosine_similarity(gu.randn(3, 4), gu.randn(3, 5))


@requires_torch
def test_distance_tiny_vectors_below_eps_match_torch():
    """Norms between 0 and eps: the clamp is active but the norm's own gradient is not zero, so
    this tells torch's no-grad clamp in cosine_similarity from normalize's differentiable one."""
    a, b = rand(3, 4, seed=16), rand(3, 4, seed=17)
    a[0] *= 1e-9 / np.linalg.norm(a[0])  # ||a0|| = 1e-9 < eps = 1e-8
    b[2] *= 3e-9 / np.linalg.norm(b[2])
    check_op(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), a, b,
             check_gradcheck=False, rtol=1e-9, atol=1e-6)
    c = a.copy()
    c[0] *= 1e-4  # ||c0|| = 1e-13 < eps = 1e-12
    check_op(lambda c: F.normalize(c), lambda c: TF.normalize(c), c, check_gradcheck=False, rtol=1e-9, atol=1e-6)


INVARIANT_OPS = {
    "dropout": lambda w: F.dropout(w, 0.5),
    "alpha_dropout": lambda w: F.alpha_dropout(w, 0.5, training=True),
    "embedding": lambda w: F.embedding(gu.tensor([[0, 2, 2], [1, 0, 3]]), w),
    "embedding_large": lambda w: F.embedding(gu.tensor([0, 2, 2, 1]), w.repeat(50, 1)),
    "cosine": lambda w: F.cosine_similarity(w, w * 2 + 1),
    "normalize": lambda w: F.normalize(w),
}


@pytest.mark.parametrize("name", sorted(INVARIANT_OPS))
def test_ops_do_not_mutate_inputs_or_upstream_gradient(name):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3))
    w = gu.tensor(a.copy(), requires_grad=True)
    out = INVARIANT_OPS[name](w)
    g = gu.tensor(rng.standard_normal(tuple(out.shape)))
    g_before = g.numpy().copy()
    out.backward(g)
    np.testing.assert_array_equal(w.detach().numpy(), a)
    np.testing.assert_array_equal(g.numpy(), g_before)
    assert not np.shares_memory(w.grad.numpy(), g.numpy())
