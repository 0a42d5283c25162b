"""Normalization and dropout for convolutional networks: BatchNorm2d/3d, group_norm / GroupNorm,
instance_norm / InstanceNorm1d/2d/3d, dropout1d/2d/3d / feature_alpha_dropout and their modules.

Gradcheck and PyTorch parity (forward, backward, running statistics over several steps), statistics
of the channel-wise masks, state_dict keys and reprs against PyTorch, and the error messages.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.functions.normalization as norm_mod
import groundup.nn as nn
import groundup.nn.functional as F
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None


def _sd_summary(sd):
    return [
        (k, tuple(v.shape), str(v.dtype).replace("torch.", "").replace("groundup.", ""))
        for k, v in sd.items()
    ]


def _load_from_torch(m, t):
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})


def _randomise(t):
    """Non-trivial parameters and running statistics for a torch norm layer (in place)."""
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.randn_like(p))
        if getattr(t, "running_mean", None) is not None:
            t.running_mean.copy_(torch.randn_like(t.running_mean))
            t.running_var.uniform_(0.5, 2.0)
            t.num_batches_tracked.fill_(3)


def _run_steps(m, t, shape, modes, seed):
    """Feed both layers the same batches in the given modes; compare outputs, grads and buffers."""
    for step, mode in enumerate(modes):
        getattr(m, mode)()
        getattr(t, mode)()
        x = rand(*shape, seed=seed + step) * 2 + step
        g = rand(*shape, seed=seed + 100 + step)
        gx, tx = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = m(gx), t(tx)
        y.backward(gu.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(
            y.detach().numpy(), ty.detach().numpy(), atol=1e-11, err_msg=f"step {step}"
        )
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-11, err_msg=f"step {step}")
        for (name, p), tp in zip(m.named_parameters(), t.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-10, err_msg=name)
            p.grad, tp.grad = None, None
        tsd = t.state_dict()
        assert list(m.state_dict()) == list(tsd)
        for k, v in tsd.items():
            np.testing.assert_allclose(
                m.state_dict()[k].numpy(), v.numpy(), rtol=1e-12, atol=1e-14, err_msg=k
            )


# ---------------------------------------------------------------------------- BatchNorm2d
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_4d_gradcheck_and_parity(affine, training):
    x = rand(2, 3, 3, 4, seed=1) * 2 + 0.5
    w, b = rand(3, seed=2), rand(3, seed=3)
    rm, rv = rand(3, seed=4), rand(3, seed=5, positive=True)

    def fn(mod, lib):
        def f(x, w, b):
            m, v = lib.tensor(rm.copy()), lib.tensor(rv.copy())
            return mod.batch_norm(x, m, v, w if affine else None, b if affine else None, training, 0.1, 1e-5)

        return f

    check_op(fn(F, gu), fn(TF, torch) if torch else None, x, w, b, grad=[True, affine, affine])


BN_CONFIGS = [
    dict(),
    dict(affine=False),
    dict(track_running_stats=False),
    dict(momentum=None),
    dict(bias=False),
]


@requires_torch
@pytest.mark.parametrize("cfg", BN_CONFIGS, ids=str)
def test_batchnorm2d_train_then_eval_matches_torch(cfg):
    torch.manual_seed(0)
    t = torch.nn.BatchNorm2d(4, dtype=torch.float64, **cfg)
    _randomise(t)
    m = nn.BatchNorm2d(4, dtype=gu.float64, **cfg)
    _load_from_torch(m, t)
    _run_steps(m, t, (3, 4, 5, 6), ["train", "train", "eval", "train", "eval"], seed=10)
    if m.num_batches_tracked is not None:
        assert m.num_batches_tracked.item() == 3 + 3


@requires_torch
def test_batchnorm3d_matches_torch():
    t = torch.nn.BatchNorm3d(3, dtype=torch.float64)
    m = nn.BatchNorm3d(3, dtype=gu.float64)
    _run_steps(m, t, (2, 3, 2, 3, 4), ["train", "train", "eval"], seed=20)


@requires_torch
def test_batch_norm_nchw_float32_matches_torch():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 16, 12, 12)) * 3 + 2).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    gx, gw, gb = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    rm, rv, trm, trv = gu.zeros(16), gu.ones(16), torch.zeros(16), torch.ones(16)
    y, ty = F.batch_norm(gx, rm, rv, gw, gb, True), TF.batch_norm(tx, trm, trv, tw, tb, True)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    for a, t in ((y, ty), (gx.grad, tx.grad), (rm, trm), (rv, trv)):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), atol=5e-5, rtol=1e-4)
    for a, t in ((gw.grad, tw.grad), (gb.grad, tb.grad)):
        np.testing.assert_allclose(a.numpy(), t.numpy(), atol=2e-3, rtol=1e-4)


@requires_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.BatchNorm2d(5),
        lambda lib: lib.BatchNorm2d(5, affine=False, track_running_stats=False),
        lambda lib: lib.BatchNorm3d(2, momentum=None, eps=1e-3),
        lambda lib: lib.GroupNorm(4, 8),
        lambda lib: lib.GroupNorm(2, 6, affine=False),
        lambda lib: lib.GroupNorm(1, 3, eps=1e-3, bias=False),
        lambda lib: lib.InstanceNorm1d(3),
        lambda lib: lib.InstanceNorm2d(4, affine=True),
        lambda lib: lib.InstanceNorm2d(4, track_running_stats=True),
        lambda lib: lib.InstanceNorm3d(2, affine=True, track_running_stats=True, momentum=None),
    ],
)
def test_norm_modules_state_dict_and_repr_match_torch(make):
    m, t = make(nn), make(torch.nn)
    assert repr(m) == repr(t)
    assert _sd_summary(m.state_dict()) == _sd_summary(t.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    for k, v in t.state_dict().items():  # defaults: weight 1, bias 0, mean 0, var 1, count 0
        np.testing.assert_array_equal(m.state_dict()[k].numpy(), v.numpy())


def test_batchnorm2d_errors():
    m = nn.BatchNorm2d(3)
    with pytest.raises(
        ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input\); input shape \(2, 3, 4\)"
    ):
        m(gu.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm3d: expected 5D input \(got 4D input\)"):
        nn.BatchNorm3d(3)(gu.randn(2, 3, 4, 4))
    with pytest.raises(
        RuntimeError,
        match=r"BatchNorm2d: expected input with 3 channels \(num_features=3\) in dimension 1, but got input of "
        r"shape \(2, 4, 2, 2\) with 4 channels",
    ):
        m(gu.randn(2, 4, 2, 2))
    with pytest.raises(
        RuntimeError,
        match=r"batch_norm: expected running_mean of shape \(4,\) \(one entry per channel of input shape \(2, 4, 2, 2\)\), but got running_mean of shape \(3,\)",
    ):
        F.batch_norm(gu.randn(2, 4, 2, 2), m.running_mean, m.running_var, training=True)
    free = nn.BatchNorm2d(3, affine=False, track_running_stats=False)  # no per-channel state: any C, as PyTorch
    assert tuple(free(gu.randn(2, 4, 2, 2)).shape) == (2, 4, 2, 2)
    with pytest.raises(TypeError, match=r"BatchNorm2d: expected a Tensor, got ndarray"):
        m(np.zeros((2, 3, 4, 4)))
    with pytest.raises(RuntimeError, match=r"^BatchNorm1d: expected input with 5 channels \(num_features=5\) in "
                       r"dimension 1, but got input of shape \(4, 3, 7\) with 3 channels"):
        nn.BatchNorm1d(5)(gu.randn(4, 3, 7))
    with pytest.raises(ValueError, match=r"^BatchNorm1d: expected 2D or 3D input \(got 4D input of shape \(4, 5, 1, 1\)\)"):
        nn.BatchNorm1d(5)(gu.randn(4, 5, 1, 1))
    with pytest.raises(ValueError, match=r"^InstanceNorm2d: expected 3D or 4D input \(got 2D input\); input shape \(3, 5\)"):
        nn.InstanceNorm2d(3)(gu.randn(3, 5))


# ------------------------------------------------------------------------------ group_norm
GN_CASES = [
    ((3, 6), 2),
    ((2, 6, 4), 1),
    ((2, 6, 4), 2),
    ((2, 6, 4), 3),
    ((2, 6, 4), 6),
    ((2, 4, 3, 2), 2),
    ((1, 4, 2, 3), 4),
]


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
@pytest.mark.parametrize("shape,groups", GN_CASES, ids=str)
def test_group_norm_gradcheck_and_parity(shape, groups, affine):
    c = shape[1]
    x = rand(*shape, seed=30) * 3 + 1
    w, b = rand(c, seed=31), rand(c, seed=32)
    use_w, use_b = affine in ("weight", "both"), affine in ("bias", "both")

    def fn(mod):
        def f(x, w, b):
            return mod.group_norm(x, groups, w if use_w else None, b if use_b else None, eps=1e-5)

        return f

    def torch_fn(x, w, b):  # torch 2.13's backward fails for a bias without a weight; γ = 1 is the same
        return TF.group_norm(x, groups, w if use_w else torch.ones(c, dtype=x.dtype), b if use_b else None)

    check_op(fn(F), torch_fn if torch else None, x, w, b, grad=[True, use_w, use_b])


def test_group_norm_statistics_from_numpy():
    """Independent of torch: per (sample, group) statistics over the group's channels and pixels."""
    x = rand(3, 6, 4, 5, seed=33) * 2 + 1
    w, b = rand(6, seed=34), rand(6, seed=35)
    y = F.group_norm(gu.tensor(x), 3, gu.tensor(w), gu.tensor(b), eps=1e-3).numpy()
    xg = x.reshape(3, 3, -1)  # (N, G, C/G * H * W)
    ref = (xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-3)
    ref = ref.reshape(x.shape) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(y, ref, atol=1e-12)
    # G = 1: layer norm over (C, H, W) of each sample, then a per-channel affine
    y1 = F.group_norm(gu.tensor(x), 1, gu.tensor(w)).numpy()
    ln = F.layer_norm(gu.tensor(x), (6, 4, 5)).numpy() * w[:, None, None]
    np.testing.assert_allclose(y1, ln, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_norm_large_mean_rows_are_recomputed(monkeypatch, dtype):
    """Rows whose mean dwarfs their spread cancel in E[x²] - μ²: those are redone from x - μ."""
    seen = []
    real = norm_mod._centred_rows

    def spy(x2, mean, rows):
        seen.append(len(rows))
        return real(x2, mean, rows)

    monkeypatch.setattr(norm_mod, "_centred_rows", spy)
    x = rand(3, 4, 5, 6, seed=36)
    x[0, :2] += 1e4  # sample 0, group 0: μ/σ ≈ 10⁴
    x[2, 2:] -= 3e3
    x = x.astype(dtype)
    w, b = rand(4, seed=37).astype(dtype), rand(4, seed=38).astype(dtype)
    g = rand(3, 4, 5, 6, seed=39).astype(dtype)
    gx, gw, gb = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a.astype(np.float64), requires_grad=True) for a in (x, w, b))
    y = F.group_norm(gx, 2, gw, gb)
    ty = TF.group_norm(tx, 2, tw, tb)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g.astype(np.float64)))
    assert seen[0] == 2  # exactly the two shifted rows, in the forward (and again in backward)
    # float32: x = 10⁴ + O(1) is itself only known to ~6e-4, so μ is too; torch's float32 kernel
    # is as far off. Without the recomputation the errors would be ~0.5 (y, dx) and ~8 (dγ).
    tol = 1e-10 if dtype == np.float64 else 1e-3
    for a, t in ((y, ty), (gx.grad, tx.grad), (gw.grad, tw.grad), (gb.grad, tb.grad)):
        np.testing.assert_allclose(
            a.detach().numpy(), t.detach().numpy(), atol=tol * (10 if a is gw.grad else 1)
        )
    if dtype == np.float64:
        check_op(lambda x, w, b: F.group_norm(x, 2, w, b), None, x, w, b)


@requires_torch
def test_group_norm_float32_large_matches_torch():
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((8, 32, 10, 10)) * 3 + 2).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    w, b = rng.standard_normal(32).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    for groups in (1, 8, 32):
        gx, gw, gb = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        y, ty = F.group_norm(gx, groups, gw, gb), TF.group_norm(tx, groups, tw, tb)
        y.backward(gu.tensor(g))
        ty.backward(torch.tensor(g))
        assert y.dtype == gu.float32 and gx.grad.dtype == gu.float32 and gw.grad.dtype == gu.float32
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=5e-5, rtol=1e-4)
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=5e-5, rtol=1e-4)
        for a, t in ((gw.grad, tw.grad), (gb.grad, tb.grad)):
            np.testing.assert_allclose(a.numpy(), t.numpy(), atol=2e-3, rtol=1e-4)


@requires_torch
def test_group_norm_sum_backward_and_non_contiguous_input():
    x = rand(4, 3, 6, seed=40) * 2
    gx = gu.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    w = rand(6, seed=41)
    # a transposed (non-contiguous) input and a broadcast (stride-0) upstream gradient from sum()
    (F.group_norm(gx.transpose(1, 2), 3, gu.tensor(w)) * gu.tensor(w)[:, None]).sum().backward()
    (TF.group_norm(tx.transpose(1, 2), 3, torch.tensor(w)) * torch.tensor(w)[:, None]).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_group_norm_float16_and_constant_groups():
    x = gu.tensor(rand(2, 4, 5), dtype=gu.float16)
    y = F.group_norm(x, 2)
    assert y.dtype == gu.float16
    # a constant group normalises to 0 (var 0, eps keeps it finite), and its gradient is finite
    c = gu.full((2, 4, 3), 3.0, dtype=gu.float64, requires_grad=True)
    out = F.group_norm(c, 2, gu.ones(4, dtype=gu.float64), gu.zeros(4, dtype=gu.float64))
    out.backward(gu.tensor(rand(2, 4, 3)))
    assert np.all(out.detach().numpy() == 0) and np.all(np.isfinite(c.grad.numpy()))


@requires_torch
def test_groupnorm_module_matches_torch():
    t = torch.nn.GroupNorm(3, 6, dtype=torch.float64)
    _randomise(t)
    m = nn.GroupNorm(3, 6, dtype=gu.float64)
    _load_from_torch(m, t)
    _run_steps(m, t, (2, 6, 4, 3), ["train", "eval"], seed=50)  # the same in both modes
    y = m(gu.randn(1, 6, 4, dtype=gu.float64))  # a batch of one is fine (unlike batch norm)
    assert y.shape == (1, 6, 4)


def test_group_norm_errors():
    x = gu.randn(2, 6, 3)
    with pytest.raises(
        ValueError, match=r"GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\)"
    ):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm: num_groups must be positive, got 0"):
        nn.GroupNorm(0, 6)
    with pytest.raises(
        RuntimeError,
        match=r"group_norm: Expected number of channels in input to be divisible by num_groups, but got input of shape \[2, 6, 3\] and num_groups=4",
    ):
        F.group_norm(x, 4)
    with pytest.raises(
        RuntimeError, match=r"group_norm: expected weight of shape \(6,\).*got weight of shape \(5,\)"
    ):
        F.group_norm(x, 3, gu.ones(5))
    with pytest.raises(RuntimeError, match=r"Expected at least 2 dimensions for input tensor but received 1"):
        F.group_norm(gu.randn(6), 3)
    with pytest.raises(ValueError, match=r"group_norm: num_groups must be a positive int, got 0"):
        F.group_norm(x, 0)
    with pytest.raises(
        ValueError, match=r"Expected more than 1 value per channel when training, got input size \[1, 3\]"
    ):
        F.group_norm(gu.randn(1, 3), 3)
    with pytest.raises(RuntimeError, match=r"mixed dtypes: input is float64 but bias is float32"):
        F.group_norm(x.double(), 3, bias=gu.zeros(6))
    with pytest.raises(TypeError, match=r"group_norm: expected a floating point input, got int64"):
        F.group_norm(gu.tensor([[1, 2]]), 1)
    with pytest.raises(
        RuntimeError, match=r"GroupNorm: expected input with 8 channels \(num_channels=8\) in dimension 1, but got "
        r"input of shape \(2, 6, 3\) with 6 channels"
    ):
        nn.GroupNorm(2, 8)(x)
    with pytest.raises(RuntimeError, match=r"GroupNorm: expected an input of shape \(N, C, \*\) with at least 2 dims, "
                       r"got shape \(6,\)"):
        nn.GroupNorm(2, 6)(gu.randn(6))
    assert tuple(nn.GroupNorm(2, 8, affine=False)(x).shape) == (2, 6, 3)  # no γ, β: any C divisible by G, as PyTorch


# --------------------------------------------------------------------------- instance_norm
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 2, 3), (1, 2, 2, 1, 3)], ids=str)
def test_instance_norm_gradcheck_and_parity(shape, affine):
    c = shape[1]
    x = rand(*shape, seed=60) * 3 + 1
    w, b = rand(c, seed=61), rand(c, seed=62)

    def fn(mod):
        def f(x, w, b):
            return mod.instance_norm(x, weight=w if affine else None, bias=b if affine else None)

        return f

    check_op(fn(F), fn(TF) if torch else None, x, w, b, grad=[True, affine, affine])


@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_with_running_stats_gradcheck_and_parity(affine):
    """Training mode with running statistics (updated on every call) and evaluation mode with them."""
    x = rand(3, 2, 4, 2, seed=63) * 2 - 1
    w, b = rand(2, seed=64), rand(2, seed=65)
    rm, rv = rand(2, seed=66), rand(2, seed=67, positive=True)
    for use_input_stats in (True, False):

        def fn(mod, lib, use=use_input_stats):
            def f(x, w, b):
                m, v = lib.tensor(rm.copy()), lib.tensor(rv.copy())
                return mod.instance_norm(
                    x, m, v, w if affine else None, b if affine else None, use, 0.2, 1e-4
                )

            return f

        check_op(fn(F, gu), fn(TF, torch) if torch else None, x, w, b, grad=[True, affine, affine])


@requires_torch
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)], ids=str)
def test_instance_norm_running_stats_match_torch(shape):
    c = shape[1]
    rm, rv = gu.zeros(c, dtype=gu.float64), gu.ones(c, dtype=gu.float64)
    trm, trv = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    for step in range(4):
        x = rand(*shape, seed=70 + step) * (step + 1) + step
        y = F.instance_norm(gu.tensor(x), rm, rv, momentum=0.3)
        ty = TF.instance_norm(torch.tensor(x), trm, trv, momentum=0.3)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-11)
        np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    assert rm._version > 0 and rv._version > 0  # updated in place, visibly
    # independent of torch: the batch average of each instance's mean and unbiased variance
    rm2, rv2 = gu.zeros(c, dtype=gu.float64), gu.ones(c, dtype=gu.float64)
    F.instance_norm(gu.tensor(x), rm2, rv2, momentum=0.5)
    xr = x.reshape(x.shape[0], c, -1)
    np.testing.assert_allclose(rm2.numpy(), 0.5 * xr.mean(-1).mean(0), atol=1e-13)
    np.testing.assert_allclose(rv2.numpy(), 0.5 + 0.5 * xr.var(-1, ddof=1).mean(0), atol=1e-13)


IN_CONFIGS = [
    dict(),
    dict(affine=True),
    dict(track_running_stats=True),
    dict(affine=True, track_running_stats=True, momentum=0.3),
    dict(track_running_stats=True, momentum=None),
    dict(affine=True, bias=False, eps=1e-3),
]


@requires_torch
@pytest.mark.parametrize("cfg", IN_CONFIGS, ids=str)
def test_instancenorm2d_train_then_eval_matches_torch(cfg):
    torch.manual_seed(0)
    t = torch.nn.InstanceNorm2d(3, dtype=torch.float64, **cfg)
    _randomise(t)
    m = nn.InstanceNorm2d(3, dtype=gu.float64, **cfg)
    _load_from_torch(m, t)
    modes = ["train", "train", "eval", "train", "eval"]
    _run_steps(m, t, (2, 3, 4, 5), modes, seed=80)
    _run_steps(m, t, (3, 4, 5), modes, seed=90)  # unbatched (C, H, W)


@requires_torch
@pytest.mark.parametrize(
    "cls,shape", [("InstanceNorm1d", (2, 3, 6)), ("InstanceNorm1d", (3, 6)), ("InstanceNorm3d", (3, 2, 3, 2))]
)
def test_instancenorm_1d_3d_match_torch(cls, shape):
    t = getattr(torch.nn, cls)(3, affine=True, track_running_stats=True, dtype=torch.float64)
    _randomise(t)
    m = getattr(nn, cls)(3, affine=True, track_running_stats=True, dtype=gu.float64)
    _load_from_torch(m, t)
    _run_steps(m, t, shape, ["train", "eval", "train"], seed=95)


def test_instance_norm_errors():
    x = gu.randn(2, 3, 4)
    with pytest.raises(
        RuntimeError,
        match=r"Expected running_mean and running_var to be defined when use_input_stats is false",
    ):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(
        ValueError, match=r"running_mean and running_var must either both be None or neither be None"
    ):
        F.instance_norm(x, gu.zeros(3))
    with pytest.raises(
        ValueError, match=r"Expected more than 1 spatial element when training, got input size \[2, 3, 1\]"
    ):
        F.instance_norm(gu.randn(2, 3, 1))
    with pytest.raises(
        RuntimeError,
        match=r"instance_norm: expected running_mean of shape \(3,\).*got running_mean of shape \(4,\)",
    ):
        F.instance_norm(x, gu.zeros(4), gu.ones(4))
    with pytest.raises(RuntimeError, match=r"instance_norm: expected weight of shape \(3,\)"):
        F.instance_norm(x, weight=gu.ones(2))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(gu.randn(3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(gu.randn(2, 3, 4, 4))
    with pytest.raises(
        ValueError,
        match=r"InstanceNorm2d: expected input's size at dim=1 to match num_features \(3\), but got: 4",
    ):
        nn.InstanceNorm2d(3, affine=True)(gu.randn(2, 4, 3, 3))
    with pytest.warns(UserWarning, match=r"input's size at dim=1 does not match num_features"):
        nn.InstanceNorm2d(3)(gu.randn(2, 4, 3, 3))  # affine=False: num_features is unused


# ------------------------------------------------------------------------ invariants
INVARIANT_OPS = {
    "group_norm": lambda x, w, b: F.group_norm(x, 2, w, b),
    "group_norm_plain": lambda x, w, b: F.group_norm(x, 4) * w[:, None, None],
    "group_norm_recomputed": lambda x, w, b: F.group_norm(x + 1e6, 1, w, b),
    "instance_norm": lambda x, w, b: F.instance_norm(x, None, None, w, b),
    "batch_norm_4d": lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
}


@pytest.mark.parametrize("name", sorted(INVARIANT_OPS))
def test_norms_do_not_mutate_inputs_or_upstream_gradient(name):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4, 5, 2)), rng.standard_normal(4), rng.standard_normal(4)]
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


# ---------------------------------------------------------------------- channel dropout
def _channel_values(y, x, p):
    """Per (sample, channel): each feature map must be all dropped (0) or all kept (x / (1-p))."""
    n, c = y.shape[:2]
    yr, xr = y.reshape(n, c, -1), x.reshape(n, c, -1)
    kept = np.all(yr != 0, axis=2)
    assert np.all(kept | np.all(yr == 0, axis=2)), "a feature map is only partly zeroed"
    np.testing.assert_allclose(yr[kept], xr[kept] / (1 - p), rtol=1e-6)
    return kept


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout2d_statistics_and_gradient(p):
    gu.manual_seed(0)
    x = gu.tensor(rand(100, 80, 3, 4, seed=100, positive=True), dtype=gu.float32, requires_grad=True)
    y = F.dropout2d(x, p)
    assert y.dtype == gu.float32 and y.shape == x.shape
    kept = _channel_values(y.detach().numpy(), x.detach().numpy(), p)
    # the kept fraction is Binomial(8000, 1-p)/8000: within 5 standard deviations
    assert abs(kept.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / kept.size)
    g = rand(100, 80, 3, 4, seed=101).astype(np.float32)
    y.backward(gu.tensor(g))
    # the backward uses the forward's mask, broadcast over the pixels of each map
    expect = np.where(kept[:, :, None, None], g / (1 - p), 0)
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-6)


def test_dropout2d_expected_value_and_eval_identity():
    gu.manual_seed(1)
    x = gu.ones(200, 300, 2, 2)
    assert abs(F.dropout2d(x, 0.3).numpy().mean() - 1.0) < 0.01
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    m = nn.Dropout2d(0.5).eval()
    assert m(x) is x
    m.train()
    assert np.any(m(x).numpy() == 0)
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).numpy(), 0)


def test_dropout2d_determinism_under_manual_seed():
    x = gu.randn(8, 16, 3, 3)
    gu.manual_seed(123)
    a = F.dropout2d(x, 0.5).numpy().copy()
    b = F.dropout2d(x, 0.5).numpy().copy()
    gu.manual_seed(123)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).numpy(), a)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).numpy(), b)
    assert not np.array_equal(a, b)  # the stream advances


def test_channel_dropout_gradcheck_with_fixed_mask():
    for fn, shape in ((F.dropout2d, (3, 4, 2, 2)), (F.dropout1d, (3, 4, 3)), (F.dropout3d, (2, 3, 2, 1, 2))):

        def f(x, fn=fn):
            gu.manual_seed(7)  # the same mask on every evaluation
            return fn(x, 0.4)

        check_op(f, None, rand(*shape, seed=3))

    def fa(x):
        gu.manual_seed(8)
        return F.feature_alpha_dropout(x, 0.3, training=True)

    check_op(fa, None, rand(4, 3, 2, seed=4))


def test_dropout1d_and_dropout3d_batched_and_unbatched():
    gu.manual_seed(2)
    for fn, shape in (
        (F.dropout1d, (40, 30, 5)),  # (N, C, L)
        (F.dropout1d, (300, 5)),  # (C, L): per channel
        (F.dropout3d, (20, 30, 2, 2, 2)),  # (N, C, D, H, W)
        (F.dropout3d, (300, 2, 2, 2)),  # (C, D, H, W): per channel
    ):
        x = rand(*shape, seed=5, positive=True)
        y = fn(gu.tensor(x), 0.5).numpy()
        batched = len(shape) in (3, 5)
        yb, xb = (y, x) if batched else (y[None], x[None])
        kept = _channel_values(yb, xb, 0.5)
        assert 0.35 < kept.mean() < 0.65


def test_dropout2d_ranks_follow_torch():
    x3 = gu.tensor(rand(40, 50, 6, seed=6, positive=True))
    # 3-D input: read as (N, C, L) with PyTorch's warning, one draw per (n, c)
    with pytest.warns(
        UserWarning, match=r"Received a 3D input to dropout2d and assuming that channel-wise 1D"
    ):
        y = F.dropout2d(x3, 0.5)
    kept = _channel_values(y.numpy(), x3.numpy(), 0.5)
    assert kept.shape == (40, 50)
    # 2-D and 5-D inputs: deprecated, masked per entry of the first two dims
    with pytest.warns(
        UserWarning, match=r"dropout2d: Received a 2-D input to dropout2d, which is deprecated"
    ):
        y2 = F.dropout2d(gu.ones(30, 40), 0.5)
    assert set(np.unique(y2.numpy()).tolist()) == {0.0, 2.0}
    with pytest.warns(UserWarning, match=r"Received a 5-D input to dropout2d"):
        F.dropout2d(gu.ones(2, 3, 2, 2, 2), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 4-D: no warning
        F.dropout2d(gu.ones(2, 3, 2, 2), 0.5)
        nn.Dropout2d()(gu.ones(2, 3, 2, 2))
    with pytest.warns(UserWarning, match=r"Received a 1-D input"):
        with pytest.raises(
            RuntimeError, match=r"dropout2d: Feature dropout requires at least 2 dimensions in the input"
        ):
            F.dropout2d(gu.ones(5), 0.5)
    with pytest.warns(
        UserWarning, match=r"dropout3d: Received a 3-D input to dropout3d, which is deprecated"
    ):
        F.dropout3d(gu.ones(2, 3, 4), 0.5)
    with pytest.raises(RuntimeError, match=r"dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(gu.ones(2, 3, 4, 5), 0.5)
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout2d(gu.ones(2, 3, 4, 4), 1.5)
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1, but got -0.1"):
        nn.Dropout2d(-0.1)
    with pytest.raises(TypeError, match=r"dropout2d: expected a floating point input, got int64"):
        F.dropout2d(gu.tensor([[[[1, 2]]]]), 0.5)


@requires_torch
def test_channel_dropout_warnings_match_torch():
    """The same inputs warn (and only those) in groundup and in torch."""
    for name, shape in (
        ("dropout2d", (2, 3, 4)),
        ("dropout2d", (2, 3)),
        ("dropout2d", (2, 3, 4, 5)),
        ("dropout3d", (2, 3, 4)),
        ("dropout3d", (2, 3, 4, 5)),
        ("dropout1d", (3, 4)),
    ):
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            getattr(F, name)(gu.ones(*shape), 0.5)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            getattr(TF, name)(torch.ones(*shape), 0.5)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs], (name, shape)


def test_channel_dropout_inplace():
    gu.manual_seed(3)
    x = gu.ones(10, 20, 3, 3)
    y = F.dropout2d(x, 0.5, inplace=True)
    assert y is x and np.any(x.numpy() == 0) and np.all(np.isin(x.numpy(), [0.0, 2.0]))
    w = gu.ones(4, 5, 3, requires_grad=True)
    z = F.dropout1d(w, 0.5, inplace=True)  # recorded: out of place, w untouched
    assert z is not w and np.all(w.detach().numpy() == 1)
    z.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), z.detach().numpy())


def test_feature_alpha_dropout_statistics():
    gu.manual_seed(5)
    p = 0.2
    x = gu.randn(200, 100, 4, 4, dtype=gu.float64, requires_grad=True)
    y = F.feature_alpha_dropout(x, p, training=True)
    out, xin = y.detach().numpy(), x.detach().numpy()
    assert abs(out.mean()) < 0.02 and abs(out.var() - 1) < 0.03  # SELU's fixed point kept
    alpha = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
    a = ((1 - p) * (1 + p * alpha**2)) ** -0.5
    dropped = np.all(np.isclose(out, a * alpha * (p - 1), rtol=0, atol=1e-12).reshape(200, 100, -1), axis=2)
    assert abs(dropped.mean() - p) < 0.02
    keep = ~dropped[:, :, None, None]
    np.testing.assert_allclose(np.where(keep, out, 0), np.where(keep, a * xin + a * alpha * p, 0), rtol=1e-12)
    y.backward(gu.ones(*out.shape, dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(np.where(keep, a, 0.0), out.shape), rtol=1e-12)
    assert F.feature_alpha_dropout(x, p) is x  # training defaults to False, as in torch
    assert nn.FeatureAlphaDropout(p).eval()(x) is x


@requires_torch
def test_dropout_module_reprs_match_torch():
    for cls in ("Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"):
        for args in ((), (0.25,), (0.1, True)):
            m, t = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
            assert repr(m) == repr(t)
            assert list(m.state_dict()) == [] and list(m.parameters()) == []
