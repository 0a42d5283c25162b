"""Loss functions and modules: gradcheck + PyTorch parity for every loss and reduction, the fused
cross-entropy in all its variants (class indices, probabilities, weights, ignore_index, label
smoothing, (C,), (N, C) and (N, C, d1, d2) inputs), stability at +-1000, float32, errors, the
legacy size_average/reduce arguments, module reprs and buffers, and the p - y identity checked
against the explicit softmax-Jacobian route."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
import groundup.nn.functional as F
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None
REDUCTIONS = ["mean", "sum", "none"]
# torch's kl_div advice for reduction='mean' (groundup matches 'mean' and does not warn)
pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides the total loss:UserWarning")
W4 = np.array([0.5, 2.0, 1.0, 1.5])  # per-class weights for C = 4


def both(make):
    """``make(F, tensor) -> fn`` built once with groundup and once with torch (None without torch)."""
    return make(F, gu.tensor), (make(TF, torch.tensor) if torch else None)


def labels(shape, C=4, seed=0, ignore=None):
    t = np.random.default_rng(seed).integers(0, C, shape)
    if ignore is not None and t.ndim:
        t.flat[1] = ignore
    return t


# ------------------------------------------------------------------------- cross-entropy
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": W4},
    "ignore_index": {"ignore_index": 1},
    "smoothing": {"label_smoothing": 0.2},
    "weight+ignore+smoothing": {"weight": W4, "ignore_index": 2, "label_smoothing": 0.15},
}
CE_SHAPES = {"NC": ((5, 4), (5,)), "C": ((4,), ()), "NCd1d2": ((2, 4, 3, 2), (2, 3, 2))}


def _kwargs(opts, T):
    return {k: (T(v) if k == "weight" else v) for k, v in opts.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", list(CE_SHAPES), ids=list(CE_SHAPES))
@pytest.mark.parametrize("op,opts", [("cross_entropy", o) for o in CE_OPTIONS]
                         + [("nll_loss", o) for o in CE_OPTIONS if "label_smoothing" not in CE_OPTIONS[o]])
def test_class_index_losses(op, opts, shapes, reduction):
    options = CE_OPTIONS[opts]
    xs, ts = CE_SHAPES[shapes]
    target = labels(ts, ignore=options.get("ignore_index", -100))
    gfn, tfn = both(lambda L, T: lambda x, t: getattr(L, op)(x, t, reduction=reduction, **_kwargs(options, T)))
    check_op(gfn, tfn, rand(*xs, low=-3, high=3), target)


SOFT_OPTIONS = {
    "plain": {},
    "weight": {"weight": W4},
    "smoothing": {"label_smoothing": 0.3},
    "weight+smoothing": {"weight": W4, "label_smoothing": 0.1},
}


@requires_torch
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_class_index_losses_non_contiguous_input(op):
    """Transposed logits (a non-contiguous view): the flat target positions must still hit the right entries."""
    base = rand(5, 3, 4, seed=6)  # transposed to (5, 4, 3): classes on dim 1
    for shape_fn, t in [(lambda a: a.transpose(1, 2), labels((5, 3), ignore=-100)),
                        (lambda a: a[:, 0, :].transpose(0, 1), labels((4,), C=5))]:
        g, tt = gu.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)
        gx, tx = shape_fn(g), shape_fn(tt)
        assert not gx.data.flags.c_contiguous
        w = np.linspace(0.5, 2, gx.shape[1])
        go = getattr(F, op)(gx, gu.tensor(t), weight=gu.tensor(w), reduction="none", **({"label_smoothing": 0.1} if op == "cross_entropy" else {}))
        to = getattr(TF, op)(tx, torch.tensor(t), weight=torch.tensor(w), reduction="none", **({"label_smoothing": 0.1} if op == "cross_entropy" else {}))
        v = rand(*to.shape, seed=3)
        go.backward(gu.tensor(v))
        to.backward(torch.tensor(v))
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(g.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", list(CE_SHAPES), ids=list(CE_SHAPES))
@pytest.mark.parametrize("opts", list(SOFT_OPTIONS), ids=list(SOFT_OPTIONS))
def test_cross_entropy_probability_targets(opts, shapes, reduction):
    xs, _ = CE_SHAPES[shapes]
    rng = np.random.default_rng(3)
    probs = rng.uniform(0.05, 1.0, xs)
    probs /= probs.sum(axis=0 if len(xs) == 1 else 1, keepdims=True)  # a distribution along the class dim
    options = SOFT_OPTIONS[opts]
    gfn, tfn = both(lambda L, T: lambda x, t: L.cross_entropy(x, t, reduction=reduction, **_kwargs(options, T)))
    # the gradient reaches the soft target too (knowledge distillation with a learnable teacher)
    check_op(gfn, tfn, rand(*xs, low=-3, high=3), probs)


@requires_torch
def test_cross_entropy_unnormalised_soft_targets_and_promotion():
    x = rand(3, 5, seed=1)
    t = np.random.default_rng(0).uniform(0, 2, (3, 5))  # not a distribution: p * sum(t) - t
    check_op(lambda a, b: F.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b), x, t)
    g = F.cross_entropy(gu.tensor(x.astype(np.float32)), gu.tensor(t))  # float32 logits, float64 target
    ref = TF.cross_entropy(torch.tensor(x.astype(np.float32)), torch.tensor(t))
    assert g.dtype == gu.float64 and ref.dtype == torch.float64
    np.testing.assert_allclose(g.item(), ref.item(), rtol=1e-6)


@requires_torch
def test_cross_entropy_equals_log_softmax_then_nll():
    x, t = rand(6, 5, seed=2), labels((6,), C=5)
    a = F.cross_entropy(gu.tensor(x), gu.tensor(t))
    b = F.nll_loss(F.log_softmax(gu.tensor(x), 1), gu.tensor(t))
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


def test_fused_backward_equals_softmax_jacobian_route():
    """p - y, derived once, equals backprop through the per-sample Jacobian diag(s) - s s^T."""
    N, C = 7, 5
    x, y = rand(N, C, seed=4, low=-4, high=4), labels((N,), C=C)
    xt = gu.tensor(x, requires_grad=True)
    F.cross_entropy(xt, gu.tensor(y)).backward()
    e = np.exp(x - x.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)  # softmax, (N, C)
    dL_ds = np.zeros((N, C))
    dL_ds[np.arange(N), y] = -1.0 / (N * s[np.arange(N), y])  # d(mean -log s_y)/ds
    jac = s[:, :, None] * np.eye(C) - s[:, :, None] * s[:, None, :]  # (N, C, C), symmetric
    route = np.einsum("nij,nj->ni", jac, dL_ds)
    np.testing.assert_allclose(xt.grad.numpy(), route, rtol=1e-10, atol=1e-13)


@requires_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cross_entropy_stable_at_1000(dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [1000.0, 1000.0, -1000.0]], dtype)
    y = np.array([1, 2, 0])
    probs = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], dtype)
    cases = [
        (lambda L, T, a: L.cross_entropy(a, T(y))),
        (lambda L, T, a: L.cross_entropy(a, T(y), label_smoothing=0.1, reduction="none")),
        (lambda L, T, a: L.cross_entropy(a, T(probs), label_smoothing=0.1)),
        (lambda L, T, a: L.nll_loss(L.log_softmax(a, 1), T(y))),
        (lambda L, T, a: L.binary_cross_entropy_with_logits(a, T(probs), pos_weight=T(np.array([1.0, 2.0, 3.0], dtype)))),
    ]
    for fn in cases:
        g = gu.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        go, to = fn(F, gu.tensor, g), fn(TF, torch.tensor, t)
        go.sum().backward()
        to.sum().backward()
        assert np.isfinite(go.detach().numpy()).all() and np.isfinite(g.grad.numpy()).all()
        assert go.dtype.name == dtype and g.grad.dtype.name == dtype
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    # soft_margin_loss: torch's log1p(exp(-y x)) overflows to inf here; groundup's stable form does not
    sign = np.sign(probs - 0.4)
    g = gu.tensor(x, requires_grad=True)
    out = F.soft_margin_loss(g, gu.tensor(sign), reduction="none")
    out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), np.logaddexp(0.0, -sign * x), rtol=1e-6)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(g.grad.numpy(), -sign / (1.0 + np.exp(sign * x)), rtol=1e-6)


@requires_torch
def test_cross_entropy_all_ignored_and_empty_match_torch():
    x = rand(3, 4)
    for reduction in ["mean", "sum"]:
        for smoothing in [0.0, 0.2]:
            g, t = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            target = np.full(3, -100)
            go = F.cross_entropy(g, gu.tensor(target), reduction=reduction, label_smoothing=smoothing)
            to = TF.cross_entropy(t, torch.tensor(target), reduction=reduction, label_smoothing=smoothing)
            np.testing.assert_equal(go.item(), to.item())  # nan for 'mean' (0/0), 0 for 'sum'
            go.backward()
            to.backward()
            np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())  # zeros, not nan
    for reduction in REDUCTIONS:
        e = F.cross_entropy(gu.tensor(np.zeros((0, 4))), gu.tensor(np.zeros(0, np.int64)), reduction=reduction)
        r = TF.cross_entropy(torch.zeros(0, 4, dtype=torch.float64), torch.zeros(0, dtype=torch.long), reduction=reduction)
        np.testing.assert_array_equal(e.numpy(), r.numpy())


@requires_torch
def test_class_indices_uint8_and_legacy_args():
    x, y = rand(4, 3), labels((4,), C=3)
    ref = TF.cross_entropy(torch.tensor(x), torch.tensor(y)).item()
    assert F.cross_entropy(gu.tensor(x), gu.tensor(y.astype(np.uint8))).item() == pytest.approx(ref, rel=1e-12)
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        with pytest.warns(UserWarning, match="size_average and reduce"):
            g = F.cross_entropy(gu.tensor(x), gu.tensor(y), size_average=size_average, reduce=reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = TF.cross_entropy(torch.tensor(x), torch.tensor(y), size_average=size_average, reduce=reduce)
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-12)


@requires_torch
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy",
                                "mse_loss", "kl_div", "multi_margin_loss"])
def test_float32_stays_float32(op):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.05, 0.95, (6, 4)).astype(np.float32)
    targets = {
        "cross_entropy": labels((6,)), "nll_loss": labels((6,)), "multi_margin_loss": labels((6,)),
        "binary_cross_entropy_with_logits": rng.uniform(0, 1, (6, 4)).astype(np.float32),
        "binary_cross_entropy": rng.uniform(0, 1, (6, 4)).astype(np.float32),
        "mse_loss": rng.uniform(0, 1, (6, 4)).astype(np.float32),
        "kl_div": rng.uniform(0, 1, (6, 4)).astype(np.float32),
    }
    kw = {"weight": W4.astype(np.float32)} if op in ("cross_entropy", "nll_loss", "multi_margin_loss") else {}
    extra = {"label_smoothing": 0.1} if op == "cross_entropy" else {}
    for reduction in REDUCTIONS:
        g = gu.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        go = getattr(F, op)(g, gu.tensor(targets[op]), reduction=reduction, **{k: gu.tensor(v) for k, v in kw.items()}, **extra)
        to = getattr(TF, op)(t, torch.tensor(targets[op]), reduction=reduction, **{k: torch.tensor(v) for k, v in kw.items()}, **extra)
        go.sum().backward()
        to.sum().backward()
        assert go.dtype == gu.float32 and g.grad.dtype == gu.float32
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=2e-5, atol=1e-6)


# ------------------------------------------------------------------------------- binary
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighting", ["none", "weight", "row_weight", "pos_weight", "both"])
def test_bce_with_logits(weighting, reduction):
    rng = np.random.default_rng(6)
    w = {"weight": rng.uniform(0.5, 2, (3, 4)), "row_weight": rng.uniform(0.5, 2, (3, 1)),
         "pos_weight": rng.uniform(0.5, 3, (4,)), "both": None}

    def make(L, T):
        kw = {}
        if weighting in ("weight", "both"):
            kw["weight"] = T(w["weight"])
        if weighting == "row_weight":
            kw["weight"] = T(w["row_weight"])
        if weighting in ("pos_weight", "both"):
            kw["pos_weight"] = T(w["pos_weight"])
        return lambda x, y: L.binary_cross_entropy_with_logits(x, y, reduction=reduction, **kw)

    check_op(*both(make), rand(3, 4, low=-4, high=4), rng.uniform(0, 1, (3, 4)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(weighted, reduction):
    rng = np.random.default_rng(7)
    w = rng.uniform(0.5, 2, (4,))
    gfn, tfn = both(lambda L, T: lambda x, y: L.binary_cross_entropy(
        x, y, weight=T(w) if weighted else None, reduction=reduction))
    check_op(gfn, tfn, rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4)))


@requires_torch
def test_bce_clamp_at_0_and_1_matches_torch():
    """log is clamped at -100 and the backward's denominator at 1e-12, exactly as PyTorch."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-16, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3, 0.2])
    g, t = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = gu.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
    go, to = F.binary_cross_entropy(g, gy, reduction="none"), TF.binary_cross_entropy(t, ty, reduction="none")
    np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-12)
    v = np.arange(1.0, 8.0)
    go.backward(gu.tensor(v))
    to.backward(torch.tensor(v))
    np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.grad.numpy(), ty.grad.numpy(), rtol=1e-12)  # +-inf at 0 and 1, as torch


# ----------------------------------------------------------------------------- regression
REGRESSION = {
    "mse": lambda L, T: lambda x, y, **k: L.mse_loss(x, y, **k),
    "l1": lambda L, T: lambda x, y, **k: L.l1_loss(x, y, **k),
    "smooth_l1": lambda L, T: lambda x, y, **k: L.smooth_l1_loss(x, y, **k),
    "smooth_l1_beta0.5": lambda L, T: lambda x, y, **k: L.smooth_l1_loss(x, y, beta=0.5, **k),
    "smooth_l1_beta0": lambda L, T: lambda x, y, **k: L.smooth_l1_loss(x, y, beta=0.0, **k),
    "huber": lambda L, T: lambda x, y, **k: L.huber_loss(x, y, **k),
    "huber_delta2": lambda L, T: lambda x, y, **k: L.huber_loss(x, y, delta=2.0, **k),
    "kl_div": lambda L, T: lambda x, y, **k: L.kl_div(x, y.abs(), **k),
    "kl_div_log_target": lambda L, T: lambda x, y, **k: L.kl_div(x, y, log_target=True, **k),
    "soft_margin": lambda L, T: lambda x, y, **k: L.soft_margin_loss(x, T(np.array([1.0, -1.0, -1.0, 1.0])).to(x.dtype), **k),
    "hinge_embedding": lambda L, T: lambda x, y, **k: L.hinge_embedding_loss(x, T(np.array([1, -1, -1, 1])), margin=1.5, **k),
    "poisson": lambda L, T: lambda x, y, **k: L.poisson_nll_loss(x, y.abs() * 3, **k),
    "poisson_full": lambda L, T: lambda x, y, **k: L.poisson_nll_loss(x, y.abs() * 3, full=True, **k),
    "poisson_rate": lambda L, T: lambda x, y, **k: L.poisson_nll_loss(x.abs(), y.abs() * 3, log_input=False, **k),
    "gaussian": lambda L, T: lambda x, y, **k: L.gaussian_nll_loss(x, y, T(np.array([[0.5, 1.0, 2.0, 1e-9]] * 3)).to(x.dtype), **k),
    "gaussian_full": lambda L, T: lambda x, y, **k: L.gaussian_nll_loss(x, y, x.abs() + 0.1, full=True, **k),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_elementwise_losses(name, reduction):
    gfn, tfn = both(lambda L, T: (lambda f: lambda x, y: f(x, y, reduction=reduction))(REGRESSION[name](L, T)))
    check_op(gfn, tfn, rand(3, 4, seed=8), rand(3, 4, seed=9))


@pytest.mark.parametrize("name", list(REGRESSION))
def test_elementwise_losses_float32(name):
    """float32 in, float32 out (no promotion by float64 constants), and close to the float64 result."""
    fn = REGRESSION[name](F, gu.tensor)
    x64, y64 = rand(3, 4, seed=8), rand(3, 4, seed=9)
    x = gu.tensor(x64.astype(np.float32), requires_grad=True)
    out = fn(x, gu.tensor(y64.astype(np.float32)), reduction="sum")
    out.backward()
    assert out.dtype == gu.float32 and x.grad.dtype == gu.float32
    x_ref = gu.tensor(x64, requires_grad=True)
    ref = fn(x_ref, gu.tensor(y64), reduction="sum")
    ref.backward()
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), x_ref.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div_batchmean_and_zero_targets(reduction):
    rng = np.random.default_rng(10)
    t = rng.dirichlet(np.ones(5), 3)
    t[0, 1] = 0.0  # 0 log 0 = 0
    gfn, tfn = both(lambda L, T: lambda x, y: L.kl_div(x, y, reduction=reduction))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's 'mean' warning
        check_op(gfn, tfn, np.log(rng.dirichlet(np.ones(5), 3)), t, grad=[True, False])


@pytest.mark.parametrize("name", ["mse", "l1", "huber"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_regression(name, reduction):
    w = np.random.default_rng(11).uniform(0.2, 2, (3, 4))
    fn = {"mse": "mse_loss", "l1": "l1_loss", "huber": "huber_loss"}[name]
    gfn, tfn = both(lambda L, T: lambda x, y: getattr(L, fn)(x, y, reduction=reduction, weight=T(w)))
    check_op(gfn, tfn, rand(3, 4, seed=8), rand(3, 4, seed=9))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_broadcast_warns_like_torch(name):
    gfn, tfn = both(lambda L, T: lambda x, y: getattr(L, name)(x, y))
    with pytest.warns(UserWarning, match="different to the input size"):
        out = gfn(gu.tensor(rand(3, 1)), gu.tensor(rand(3, seed=2)))
    assert out.shape == ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(gfn, tfn, rand(3, 1), rand(3, seed=2))


# --------------------------------------------------------------------------------- margins
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking(reduction):
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    gfn, tfn = both(lambda L, T: lambda a, b: L.margin_ranking_loss(a, b, T(y), margin=0.3, reduction=reduction))
    check_op(gfn, tfn, rand(5, seed=1), rand(5, seed=2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [True, False])
def test_cosine_embedding(batched, reduction):
    y = np.array([1, -1, 1, -1]) if batched else np.array(-1)
    shape = (4, 5) if batched else (5,)
    gfn, tfn = both(lambda L, T: lambda a, b: L.cosine_embedding_loss(a, b, T(y), margin=-0.2, reduction=reduction))
    check_op(gfn, tfn, rand(*shape, seed=1), rand(*shape, seed=2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.7, True), (1, 2.0, True)])
def test_multi_margin(p, margin, weighted, reduction):
    gfn, tfn = both(lambda L, T: lambda x: L.multi_margin_loss(
        x, T(labels((5,))), p=p, margin=margin, weight=T(W4) if weighted else None, reduction=reduction))
    check_op(gfn, tfn, rand(5, 4, seed=3))
    gfn, tfn = both(lambda L, T: lambda x: L.multi_margin_loss(x, T(np.array(2)), p=p, margin=margin, reduction=reduction))
    check_op(gfn, tfn, rand(4, seed=3))


@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1)])
def test_gaussian_nll_var_shapes(var_shape):
    var = np.random.default_rng(12).uniform(0.2, 2, var_shape)
    gfn, tfn = both(lambda L, T: lambda x, y, v: L.gaussian_nll_loss(x, y, v))
    check_op(gfn, tfn, rand(3, 4, seed=1), rand(3, 4, seed=2), var)


# ---------------------------------------------------------------------------------- errors
def _t(a):
    return gu.tensor(a.astype(np.float32) if a.dtype == np.float64 else a)


X, Y = _t(rand(3, 4)), _t(np.array([0, 1, 2]))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.cross_entropy(X, _t(np.array([0.0, 1.0, 2.0]))), TypeError,
     r"cross_entropy: expected target of dtype int64 \(class indices\) or floating \(probabilities\), got \(3,\) float32"),
    (lambda: F.cross_entropy(X, _t(np.array([0, 1, 2], np.int32))), TypeError, r"int64.*got \(3,\) int32"),
    (lambda: F.cross_entropy(X, _t(np.array([0, 1]))), ValueError, r"cross_entropy: expected target of shape \(3,\).*got \(2,\)"),
    (lambda: F.cross_entropy(X, _t(rand(3, 5))), ValueError, r"input's shape \(3, 4\), got \(3, 5\)"),
    (lambda: F.cross_entropy(X, _t(np.array([0, 4, 2]))), IndexError, r"target 4 is out of bounds for 4 classes"),
    (lambda: F.cross_entropy(X, _t(np.array([0, -1, 2]))), IndexError, r"target -1 is out of bounds"),
    (lambda: F.nll_loss(X, _t(np.array([0, 9, 2]))), IndexError, r"nll_loss: target 9 is out of bounds for 4 classes"),
    (lambda: F.cross_entropy(X, Y, reduction="avg"), ValueError, r"cross_entropy: 'avg' is not a valid value for reduction"),
    (lambda: F.mse_loss(X, X, reduction="mena"), ValueError, r"mse_loss: 'mena' is not a valid"),
    (lambda: F.binary_cross_entropy_with_logits(X, X, reduction="batchmean"), ValueError, r"not a valid"),
    (lambda: F.cross_entropy(X, Y, label_smoothing=1.5), ValueError, r"label_smoothing must be between 0.0 and 1.0"),
    (lambda: F.cross_entropy(X, Y, weight=_t(np.ones(3))), ValueError, r"all 4 classes.*shape \(3,\)"),
    (lambda: F.cross_entropy(X, Y, weight=gu.ones(4, dtype=gu.float64)), TypeError, r"weight has dtype float64 but input is float32"),
    (lambda: F.cross_entropy(X, _t(rand(3, 4)), ignore_index=1), ValueError, r"ignore_index is not supported"),
    (lambda: F.cross_entropy(X[0, 0], _t(np.array(1))), ValueError, r"at least 1 dimension"),
    (lambda: F.cross_entropy(X[0], _t(np.array([1, 2]))), ValueError, r"0-d target"),
    (lambda: F.cross_entropy(rand(3, 4), Y), TypeError, r"cross_entropy: input must be a Tensor, got ndarray"),
    (lambda: F.cross_entropy(Y[:, None].expand(3, 4), Y), TypeError, r"floating point"),
    (lambda: F.nll_loss(X, _t(rand(3, 4))), TypeError, r"nll_loss: expected target of dtype int64 \(class indices\), got \(3, 4\) float32"),
    (lambda: F.nll_loss(gu.tensor(rand(2, 4, 3)), _t(np.zeros((2, 5), np.int64))), ValueError, r"expected target of shape \(2, 3\)"),
    (lambda: F.binary_cross_entropy(_t(np.array([1.5])), _t(np.array([1.0]))), ValueError, r"input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(_t(np.array([0.5])), _t(np.array([-0.5]))), ValueError, r"target should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(_t(np.array([0.5, 0.5])), _t(np.array([1.0]))), ValueError, r"target size \(1,\) must be the same as input size \(2,\)"),
    (lambda: F.binary_cross_entropy_with_logits(X, _t(np.ones((3, 4), np.int64))), TypeError, r"floating point target"),
    (lambda: F.binary_cross_entropy_with_logits(X, X, pos_weight=_t(np.ones(5))), ValueError, r"pos_weight of shape \(5,\) must broadcast"),
    (lambda: F.mse_loss(X, _t(rand(5))), RuntimeError, r"mse_loss: shapes \(3, 4\), \(5,\) cannot be broadcast"),
    (lambda: F.mse_loss(X, X, weight=_t(np.ones(4))), ValueError, r"weights and input must have the same size"),
    (lambda: F.smooth_l1_loss(X, X, beta=-1.0), ValueError, r"beta must be >= 0"),
    (lambda: F.huber_loss(X, X, delta=0.0), ValueError, r"delta must be > 0"),
    (lambda: F.multi_margin_loss(X, Y, p=3), ValueError, r"only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(X, _t(np.array([0, 1]))), ValueError, r"expected 3"),
    (lambda: F.multi_margin_loss(X, _t(np.array([0, 1, 7]))), IndexError, r"target 7 is out of bounds for 4 classes"),
    (lambda: F.margin_ranking_loss(X, X, _t(np.ones(4))), ValueError, r"same number of dimensions"),
    (lambda: F.cosine_embedding_loss(X, X, _t(np.ones((3, 1)))), ValueError, r"0D or 1D target"),
    (lambda: F.cosine_embedding_loss(X[0], X[0], _t(np.ones(1))), ValueError, r"expects 2-D inputs"),
    (lambda: F.gaussian_nll_loss(X, X, _t(-np.ones((3, 4)))), ValueError, r"negative"),
    (lambda: F.gaussian_nll_loss(X, X, _t(np.ones((2, 4)))), ValueError, r"var is of incorrect size"),
    (lambda: F.kl_div(X, X, reduction="batch"), ValueError, r"'batchmean'"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------------- modules
MODULES = [
    ("CrossEntropyLoss", {}), ("CrossEntropyLoss", {"weight": W4, "ignore_index": 1, "label_smoothing": 0.1}),
    ("NLLLoss", {}), ("NLLLoss", {"weight": W4, "reduction": "sum"}),
    ("BCELoss", {}), ("BCELoss", {"weight": W4}),
    ("BCEWithLogitsLoss", {}), ("BCEWithLogitsLoss", {"weight": W4, "pos_weight": W4[::-1].copy()}),
    ("MSELoss", {}), ("MSELoss", {"reduction": "none"}), ("L1Loss", {}), ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 2.0}), ("KLDivLoss", {"reduction": "batchmean", "log_target": True}),
    ("HingeEmbeddingLoss", {"margin": 2.0}), ("MarginRankingLoss", {"margin": 0.5}),
    ("CosineEmbeddingLoss", {"margin": 0.1}), ("SoftMarginLoss", {}), ("MultiMarginLoss", {"p": 2, "weight": W4}),
    ("PoissonNLLLoss", {"log_input": False, "full": True}), ("GaussianNLLLoss", {"full": True, "eps": 1e-3}),
]


@requires_torch
@pytest.mark.parametrize("name,kwargs", MODULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MODULES)])
def test_module_repr_buffers_and_attributes(name, kwargs):
    g = getattr(nn, name)(**{k: gu.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    t = getattr(torch.nn, name)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()})
    assert repr(g) == repr(t)
    assert list(g.state_dict()) == list(t.state_dict())
    for key, value in t.state_dict().items():
        np.testing.assert_array_equal(g.state_dict()[key].numpy(), value.numpy())
    for attr in ["reduction", "ignore_index", "label_smoothing", "beta", "delta", "margin", "log_target", "p",
                 "log_input", "full", "eps"]:
        if hasattr(t, attr):
            assert getattr(g, attr) == getattr(t, attr), attr


@requires_torch
def test_module_legacy_reduction_and_forward():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        g = nn.CrossEntropyLoss(size_average=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.CrossEntropyLoss(size_average=False)
    assert g.reduction == t.reduction == "sum"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nn.MSELoss(reduce=False).reduction == torch.nn.MSELoss(reduce=False).reduction == "none"
    x, y = rand(5, 4), labels((5,))
    g = nn.CrossEntropyLoss(weight=gu.tensor(W4), label_smoothing=0.1)
    t = torch.nn.CrossEntropyLoss(weight=torch.tensor(W4), label_smoothing=0.1)
    np.testing.assert_allclose(g(gu.tensor(x), gu.tensor(y)).item(), t(torch.tensor(x), torch.tensor(y)).item(), rtol=1e-12)
    g, t = nn.MarginRankingLoss(0.2), torch.nn.MarginRankingLoss(0.2)
    a, b, s = rand(4, seed=1), rand(4, seed=2), np.array([1.0, -1, 1, -1])
    np.testing.assert_allclose(g(gu.tensor(a), gu.tensor(b), gu.tensor(s)).item(),
                               t(torch.tensor(a), torch.tensor(b), torch.tensor(s)).item(), rtol=1e-12)
    g, t = nn.GaussianNLLLoss(), torch.nn.GaussianNLLLoss()
    np.testing.assert_allclose(g(gu.tensor(a), gu.tensor(b), 0.5).item(),
                               t(torch.tensor(a), torch.tensor(b), 0.5).item(), rtol=1e-12)


def test_module_weight_moves_with_dtype():
    m = nn.CrossEntropyLoss(weight=gu.tensor(W4.astype(np.float32))).double()
    assert m.weight.dtype == gu.float64
    out = m(gu.tensor(rand(3, 4)), gu.tensor(labels((3,))))
    assert out.dtype == gu.float64
