"""layer_norm / batch_norm and the LayerNorm / BatchNorm1d modules: gradcheck, PyTorch parity
(forward, backward, running statistics over several steps), state_dict/repr equality, errors."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
import groundup.functions.normalization as norm_mod
import groundup.nn as nn
import groundup.nn.functional as F
from groundup.nn.normalization import _BatchNorm
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None


# ------------------------------------------------------------------------------ layer_norm
LN_CASES = [((3, 4, 5), (5,)), ((3, 4, 5), (4, 5)), ((3, 4, 5), (3, 4, 5)), ((6,), (6,)), ((2, 1, 3), (1, 3))]


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize("shape,ns", LN_CASES, ids=str)
def test_layer_norm_gradcheck_and_parity(shape, ns, affine):
    x = rand(*shape, seed=1) * 3 + 1
    w = rand(*ns, seed=2)
    b = rand(*ns, seed=3)
    use_w, use_b = affine in ("weight", "both"), affine in ("bias", "both")

    def fn(mod):
        def f(x, w, b):
            return mod.layer_norm(x, ns, w if use_w else None, b if use_b else None, eps=1e-5)
        return f

    check_op(fn(F), fn(TF) if torch else None, x, w, b, grad=[True, use_w, use_b])


@requires_torch
@pytest.mark.parametrize("block", [7, 40, 1 << 30])
def test_layer_norm_row_blocks(monkeypatch, block):
    """Big inputs are processed a block of rows at a time; ragged last blocks included."""
    monkeypatch.setattr(norm_mod, "_BLOCK", block)
    x, w, b = rand(11, 3, 8, seed=4), rand(8, seed=5), rand(8, seed=6)
    check_op(lambda x, w, b: F.layer_norm(x, (8,), w, b), lambda x, w, b: TF.layer_norm(x, (8,), w, b),
             x, w, b, check_gradcheck=block == 7)


@requires_torch
def test_layer_norm_float32_large_matches_torch():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 33, 96)) * 5 + 3).astype(np.float32)
    w, b = rng.standard_normal(96).astype(np.float32), rng.standard_normal(96).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    gx, gw, gb = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.layer_norm(gx, 96, gw, gb)
    ty = TF.layer_norm(tx, (96,), tw, tb)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    assert y.dtype == gu.float32 and gx.grad.dtype == gu.float32 and gw.grad.dtype == gu.float32
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=2e-5, rtol=1e-5)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), atol=2e-3, rtol=1e-4)
    np.testing.assert_allclose(gb.grad.numpy(), tb.grad.numpy(), atol=2e-3, rtol=1e-4)


def test_layer_norm_float16_and_constant_rows():
    x = gu.tensor(rand(4, 8), dtype=gu.float16)
    y = F.layer_norm(x, (8,))
    assert y.dtype == gu.float16
    ref = rand(4, 8)
    ref = (ref - ref.mean(-1, keepdims=True)) / np.sqrt(ref.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, atol=2e-2)
    # a constant row normalises to 0 (var 0, eps keeps it finite), and its gradient is finite
    c = gu.full((2, 5), 3.0, dtype=gu.float64, requires_grad=True)
    out = F.layer_norm(c, (5,))
    out.backward(gu.tensor(rand(2, 5)))
    assert np.all(out.detach().numpy() == 0) and np.all(np.isfinite(c.grad.numpy()))


def test_layer_norm_errors():
    x = gu.randn(2, 3)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size \[2, 3\]"):
        F.layer_norm(x, [4])
    with pytest.raises(RuntimeError, match=r"expected weight of shape \(3,\).*got weight of shape \(4,\)"):
        F.layer_norm(x, [3], weight=gu.ones(4))
    with pytest.raises(RuntimeError, match=r"mixed dtypes: input is float64 but bias is float32"):
        F.layer_norm(x.double(), [3], bias=gu.zeros(3))
    with pytest.raises(TypeError, match=r"layer_norm: expected a floating point input, got int64"):
        F.layer_norm(gu.tensor([[1, 2]]), [2])
    with pytest.raises(TypeError, match=r"normalized_shape must be an int or a sequence of ints"):
        F.layer_norm(x, 3.0)


# ------------------------------------------------------------------------------ batch_norm
BN_SHAPES = [(6, 3), (4, 3, 5), (2, 3, 2, 3)]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_gradcheck_and_parity(shape, affine, training):
    c = shape[1]
    x = rand(*shape, seed=7) * 2 + 0.5
    w, b = rand(c, seed=8), rand(c, seed=9)
    rm, rv = rand(c, seed=10), rand(c, seed=11, positive=True)

    def fn(mod, lib):
        def f(x, w, b):
            # fresh running statistics each call, so every evaluation sees the same ones
            m, v = lib.tensor(rm.copy()), lib.tensor(rv.copy())
            return mod.batch_norm(x, m, v, w if affine else None, b if affine else None, training, 0.1, 1e-5)
        return f

    check_op(fn(F, gu), fn(TF, torch) if torch else None, x, w, b, grad=[True, affine, affine])


@requires_torch
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_running_stats_match_torch(shape, momentum):
    c = shape[1]
    rm, rv = gu.zeros(c, dtype=gu.float64), gu.ones(c, dtype=gu.float64)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    for step in range(4):
        x = rand(*shape, seed=20 + step) * (step + 1) + step
        y = F.batch_norm(gu.tensor(x), rm, rv, training=True, momentum=momentum)
        ty = TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=momentum)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-12)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    assert rm._version > 0 and rv._version > 0  # updated in place, visibly


def test_batch_norm_statistics_from_numpy():
    """Independent of torch: batch statistics over all axes but 1, unbiased running variance."""
    x = rand(4, 3, 5, seed=30)
    rm, rv = gu.zeros(3, dtype=gu.float64), gu.ones(3, dtype=gu.float64)
    y = F.batch_norm(gu.tensor(x), rm, rv, training=True, momentum=0.25)
    mu = x.mean(axis=(0, 2), keepdims=True)
    var = x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(y.numpy(), (x - mu) / np.sqrt(var + 1e-5), atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), 0.25 * mu.ravel(), atol=1e-14)
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * x.var(axis=(0, 2), ddof=1), atol=1e-14)


@requires_torch
def test_batch_norm_float32_large_matches_torch():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((32, 16, 50)) * 3 + 2).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    for training in (True, False):
        gx, gw, gb = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        rm, rv = gu.zeros(16), gu.ones(16)
        trm, trv = torch.zeros(16), torch.ones(16)
        y = F.batch_norm(gx, rm, rv, gw, gb, training)
        ty = TF.batch_norm(tx, trm, trv, tw, tb, training)
        y.backward(gu.tensor(g))
        ty.backward(torch.tensor(g))
        assert y.dtype == gu.float32 and rm.dtype == gu.float32 and gx.grad.dtype == gu.float32
        for a, t in ((y, ty), (gx.grad, tx.grad), (rm, trm), (rv, trv)):
            np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), atol=5e-5, rtol=1e-4)
        for a, t in ((gw.grad, tw.grad), (gb.grad, tb.grad)):
            np.testing.assert_allclose(a.numpy(), t.numpy(), atol=2e-3, rtol=1e-4)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size groundup.Size\(\[1, 3\]\)"):
        F.batch_norm(gu.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        F.batch_norm(gu.randn(1, 3, 1), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"running_mean and running_var must be defined in evaluation mode"):
        F.batch_norm(gu.randn(4, 3), None, None)
    with pytest.raises(RuntimeError, match=r"expected weight of shape \(3,\).*got weight of shape \(4,\)"):
        F.batch_norm(gu.randn(4, 3), None, None, gu.ones(4), training=True)
    with pytest.raises(RuntimeError, match=r"expected running_mean of shape \(3,\)"):
        F.batch_norm(gu.randn(4, 3), gu.zeros(4), gu.ones(4))
    with pytest.raises(RuntimeError, match=r"mixed dtypes: input is float64 but running_var is float32"):
        F.batch_norm(gu.randn(4, 3).double(), gu.zeros(3).double(), gu.ones(3))
    with pytest.raises(RuntimeError, match=r"at least 2 dims.*got shape \(4,\)"):
        F.batch_norm(gu.randn(4), gu.zeros(4), gu.ones(4))
    with pytest.raises(ValueError, match=r"eps must be positive during training, but got 0.0"):
        F.batch_norm(gu.randn(4, 3), None, None, training=True, eps=0.0)
    with pytest.raises(TypeError, match=r"momentum must be a float, got None"):
        F.batch_norm(gu.randn(4, 3), gu.zeros(3), gu.ones(3), training=True, momentum=None)
    with pytest.raises(TypeError, match=r"batch_norm: expected a floating point input, got int64"):
        F.batch_norm(gu.tensor([[1, 2], [3, 4]]), None, None, training=True)


# ----------------------------------------------------------------------------- BatchNorm1d
BN_CONFIGS = [
    dict(),
    dict(affine=False),
    dict(track_running_stats=False),
    dict(momentum=None),
    dict(momentum=0.3, eps=1e-3),
    dict(bias=False),
]


def _sd_summary(sd):
    return [(k, tuple(v.shape), str(v.dtype).replace("torch.", "").replace("groundup.", "")) for k, v in sd.items()]


@requires_torch
@pytest.mark.parametrize("cfg", BN_CONFIGS, ids=str)
def test_batchnorm1d_state_dict_and_repr_match_torch(cfg):
    m, t = nn.BatchNorm1d(5, **cfg), torch.nn.BatchNorm1d(5, **cfg)
    assert _sd_summary(m.state_dict()) == _sd_summary(t.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert repr(m) == repr(t)
    for k, v in t.state_dict().items():  # defaults: weight 1, bias 0, mean 0, var 1, count 0
        np.testing.assert_array_equal(m.state_dict()[k].numpy(), v.numpy())


def _load_from_torch(m, t):
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})


@requires_torch
@pytest.mark.parametrize("shape", [(8, 5), (4, 5, 6)], ids=str)
@pytest.mark.parametrize("cfg", BN_CONFIGS, ids=str)
def test_batchnorm1d_train_then_eval_matches_torch(cfg, shape):
    torch.manual_seed(0)
    t = torch.nn.BatchNorm1d(5, dtype=torch.float64, **cfg)
    with torch.no_grad():  # non-trivial parameters and statistics
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
        if t.running_mean is not None:
            t.running_mean.copy_(torch.randn(5))
            t.running_var.uniform_(0.5, 2.0)
            t.num_batches_tracked.fill_(3)
    m = nn.BatchNorm1d(5, dtype=gu.float64, **cfg)
    _load_from_torch(m, t)
    for step, mode in enumerate(["train", "train", "train", "eval", "train", "eval"]):
        getattr(m, mode)()
        getattr(t, mode)()
        x = rand(*shape, seed=40 + step) * 2 + step
        g = rand(*shape, seed=50 + step)
        gx, tx = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = m(gx), t(tx)
        y.backward(gu.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-12, err_msg=f"step {step}")
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12, err_msg=f"step {step}")
        for (name, p), tp in zip(m.named_parameters(), t.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-11, err_msg=name)
            p.grad, tp.grad = None, None
        for k, v in t.state_dict().items():
            np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-13, atol=1e-14, err_msg=k)


@requires_torch
def test_batchnorm1d_momentum_none_is_cumulative_average():
    m = nn.BatchNorm1d(3, momentum=None, dtype=gu.float64)
    xs = [rand(6, 3, seed=60 + i) * (i + 1) for i in range(5)]
    for x in xs:
        m(gu.tensor(x))
    assert m.num_batches_tracked.item() == 5 and m.num_batches_tracked.dtype == gu.int64
    # the running mean is the plain average of the batch means, the variance of the unbiased ones
    np.testing.assert_allclose(m.running_mean.numpy(), np.mean([x.mean(0) for x in xs], axis=0), atol=1e-14)
    np.testing.assert_allclose(m.running_var.numpy(), np.mean([x.var(0, ddof=1) for x in xs], axis=0), atol=1e-13)


def test_batchnorm1d_modes_and_errors():
    m = nn.BatchNorm1d(3)
    x = gu.randn(4, 3) * 5 + 2
    m.eval()
    np.testing.assert_allclose(m(x).detach().numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)  # fresh stats
    assert m.num_batches_tracked.item() == 0  # eval does not count batches
    m2 = nn.BatchNorm1d(3, track_running_stats=False).eval()
    out = m2(x).detach().numpy()  # no running stats: batch statistics even in eval mode
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input"):
        m(gu.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 1D input"):
        m(gu.randn(3))
    with pytest.raises(TypeError, match=r"BatchNorm1d: num_features must be a non-negative int"):
        nn.BatchNorm1d(3.0)
    with pytest.raises(TypeError, match=r"floating-point dtype"):
        nn.BatchNorm1d(3, dtype=gu.int64)
    m.train()
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        m(gu.randn(1, 3))


@requires_torch
def test_batchnorm_base_extends_to_2d():
    """A BatchNorm2d needs only its input check on top of _BatchNorm."""

    class BatchNorm2d(_BatchNorm):
        def _check_input_dim(self, input):
            if input.ndim != 4:
                raise ValueError(f"expected 4D input (got {input.ndim}D input)")

    m, t = BatchNorm2d(3, dtype=gu.float64), torch.nn.BatchNorm2d(3, dtype=torch.float64)
    assert _sd_summary(m.state_dict()) == _sd_summary(t.state_dict())
    x = rand(2, 3, 4, 5, seed=70)
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(t, mode)()
        np.testing.assert_allclose(m(gu.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), t.running_var.numpy(), rtol=1e-13)


# ------------------------------------------------------------------------------- LayerNorm
LN_CONFIGS = [(8, {}), ((4, 8), {}), (8, dict(bias=False)), (8, dict(elementwise_affine=False)), (8, dict(eps=1e-3))]


@requires_torch
@pytest.mark.parametrize("ns,cfg", LN_CONFIGS, ids=str)
def test_layernorm_module_matches_torch(ns, cfg):
    m = nn.LayerNorm(ns, dtype=gu.float64, **cfg)
    t = torch.nn.LayerNorm(ns, dtype=torch.float64, **cfg)
    assert repr(m) == repr(t)
    assert _sd_summary(m.state_dict()) == _sd_summary(t.state_dict())
    for k, v in t.state_dict().items():  # default init: weight 1, bias 0
        np.testing.assert_array_equal(m.state_dict()[k].numpy(), v.numpy())
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
    _load_from_torch(m, t)
    shape = (2, 3, 4, 8)
    x, g = rand(*shape, seed=80) * 3, rand(*shape, seed=81)
    gx, tx = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for mode in ("train", "eval"):  # no running statistics: both modes agree
        getattr(m, mode)()
        y = m(gx)
        np.testing.assert_allclose(y.detach().numpy(), t(tx).detach().numpy(), atol=1e-12)
    y.backward(gu.tensor(g))
    t(tx).backward(torch.tensor(g))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    for (name, p), tp in zip(m.named_parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-11, err_msg=name)


def test_layernorm_module_basics():
    m = nn.LayerNorm(6)
    assert m.normalized_shape == (6,) and m.weight.dtype == gu.float32
    y = m(gu.randn(3, 6) * 4 + 1)
    np.testing.assert_allclose(y.detach().numpy().mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.detach().numpy().std(-1), 1, atol=1e-3)
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 6\]"):
        m(gu.randn(3, 5))
    with pytest.raises(TypeError, match=r"LayerNorm: normalized_shape must be an int or a sequence"):
        nn.LayerNorm("abc")


# ------------------------------------------------------------------------------ invariants
INVARIANT_OPS = {
    "layer_norm": lambda x, w, b: F.layer_norm(x, (4,), w, b),
    "layer_norm_plain": lambda x, w, b: F.layer_norm(x, (3, 4)) * w,
    "batch_norm_train": lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    "batch_norm_eval": lambda x, w, b: F.batch_norm(x, w.detach(), w.detach().abs(), w, b),
    "batch_norm_plain": lambda x, w, b: F.batch_norm(x, None, None, training=True) * w,
}


@pytest.mark.parametrize("name", sorted(INVARIANT_OPS))
def test_norms_do_not_mutate_inputs_or_upstream_gradient(name):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)]
    xs = [gu.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = INVARIANT_OPS[name](*xs)
    g = gu.tensor(rng.standard_normal(tuple(out.shape)))
    g_before = g.numpy().copy()
    out.backward(g)
    for x, a in zip(xs, arrays):
        np.testing.assert_array_equal(x.detach().numpy(), a)
    np.testing.assert_array_equal(g.numpy(), g_before)
    grads = [x.grad.numpy() for x in xs if x.grad is not None]
    for i, ga in enumerate(grads):
        assert not np.shares_memory(ga, g.numpy())
        assert not any(np.shares_memory(ga, gb) for gb in grads[i + 1 :])
