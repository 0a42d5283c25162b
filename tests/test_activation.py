"""Activations, erf, softmax/log_softmax/softmin and the nn.functional face: gradcheck, PyTorch
parity (including +-1000, +-inf and nan in float32 and float64), dtypes and errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.nn.functional as F
from groundup.functions import activation as act
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None

# name -> (groundup fn, torch fn); each takes one tensor
ACTIVATIONS = {
    "relu": (F.relu, lambda x: TF.relu(x)),
    "relu6": (F.relu6, lambda x: TF.relu6(x)),
    "leaky_relu": (F.leaky_relu, lambda x: TF.leaky_relu(x)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, lambda x: TF.elu(x)),
    "elu_2": (lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0)),
    "selu": (F.selu, lambda x: TF.selu(x)),
    "celu_0.5": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5)),
    "gelu": (F.gelu, lambda x: TF.gelu(x)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, lambda x: TF.silu(x)),
    "mish": (F.mish, lambda x: TF.mish(x)),
    "softplus": (F.softplus, lambda x: TF.softplus(x)),
    "softplus_b2_t3": (lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0)),
    "softplus_b0.5": (lambda x: F.softplus(x, beta=0.5), lambda x: TF.softplus(x, beta=0.5)),
    "softsign": (F.softsign, lambda x: TF.softsign(x)),
    "hardtanh": (F.hardtanh, lambda x: TF.hardtanh(x)),
    "hardtanh_-2_3": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0)),
    "sigmoid": (F.sigmoid, lambda x: torch.sigmoid(x)),
    "logsigmoid": (F.logsigmoid, lambda x: TF.logsigmoid(x)),
    "tanh": (F.tanh, lambda x: torch.tanh(x)),
    "hardsigmoid": (F.hardsigmoid, lambda x: TF.hardsigmoid(x)),
    "hardswish": (F.hardswish, lambda x: TF.hardswish(x)),
    "erf": (act.erf, lambda x: torch.erf(x)),
}
NAMES = list(ACTIVATIONS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(7,), (2, 3, 4)])
def test_activation_gradcheck_and_parity(name, shape):
    fn, tfn = ACTIVATIONS[name]
    check_op(fn, tfn if torch else None, rand(*shape, low=-5.0, high=5.0))


@pytest.mark.parametrize("name", NAMES)
def test_activation_float32_stays_float32(name):
    fn, _ = ACTIVATIONS[name]
    x = gu.tensor(rand(3, 4, low=-5.0, high=5.0).astype(np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == gu.float32
    out.backward(gu.ones(3, 4))
    assert x.grad.dtype == gu.float32


# Extreme values, kinks (0, +-1, +-3, 6) and non-finite inputs: forward and backward against torch.
EXTREMES = [-math.inf, -1000.0, -100.0, -20.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0,
            100.0, 1000.0, math.inf, math.nan]


def _torch_pair(tfn, x, g, dtype):
    tx = torch.tensor(x, dtype=dtype, requires_grad=True)
    ty = tfn(tx)
    ty.backward(torch.tensor(g, dtype=dtype))
    return ty.detach().numpy(), tx.grad.numpy()


@requires_torch
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_extremes_match_torch(name, dtype):
    fn, tfn = ACTIVATIONS[name]
    x = np.array(EXTREMES, dtype=dtype)
    g = np.linspace(0.5, 1.5, x.size).astype(dtype)
    if name == "gelu" and dtype == "float32":
        # torch's vectorised float32 GELU gives nan at +inf; the limit (and float64 torch) is +inf
        keep = x != math.inf
        x, g = x[keep], g[keep]
    ty, tg = _torch_pair(tfn, x, g, getattr(torch, dtype))
    gx = gu.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow / invalid warnings leak out
        out = fn(gx)
        out.backward(gu.tensor(g))
    assert out.dtype.name == dtype and gx.grad.dtype.name == dtype
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-15)
    if name == "hardsigmoid" and dtype == "float64":
        tol = dict(rtol=1e-7, atol=1e-15)  # torch's float64 kernel multiplies by a float32 1/6
    np.testing.assert_allclose(out.detach().numpy(), ty, equal_nan=True, err_msg=f"{name} forward", **tol)
    np.testing.assert_allclose(gx.grad.numpy(), tg, equal_nan=True, err_msg=f"{name} backward", **tol)
    # finite wherever torch is finite (no inf/nan of our own making)
    assert np.array_equal(np.isfinite(out.detach().numpy()), np.isfinite(ty))
    assert np.array_equal(np.isfinite(gx.grad.numpy()), np.isfinite(tg))


@requires_torch
@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "mish", "softplus", "logsigmoid", "elu", "selu"])
def test_activation_large_and_strided_inputs(name):
    """Arrays bigger than one cache block (evaluated block by block), a transposed input and a
    transposed upstream gradient, in float32."""
    fn, tfn = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((300, 170)) * 4).astype(np.float32)
    g = rng.standard_normal((170, 300)).astype(np.float32)
    gx = gu.tensor(x, requires_grad=True)
    out = fn(gx.T)
    out.backward(gu.tensor(np.ascontiguousarray(g.T)).T)
    tx = torch.tensor(x, requires_grad=True)
    tout = tfn(tx.T)
    tout.backward(torch.tensor(g))
    # float32 with inputs up to +-16: terms of size ~50 cancel in some gradients, so 1e-5 absolute
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_gelu_plus_inf_is_inf():
    for dt in (gu.float32, gu.float64):
        assert F.gelu(gu.tensor([math.inf], dtype=dt)).tolist() == [math.inf]


def test_softplus_threshold_and_stability():
    x = gu.tensor([-1000.0, -30.0, 0.0, 10.0, 1000.0], requires_grad=True)
    # a huge threshold: PyTorch's log1p(exp(1000)) overflows to inf; ours stays exact
    out = F.softplus(x, beta=1.0, threshold=1e9)
    np.testing.assert_allclose(out.detach().numpy(), [0.0, math.log1p(math.exp(-30.0)), math.log(2.0), math.log1p(math.exp(10.0)), 1000.0], rtol=1e-6)
    out.backward(gu.ones(5))
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / (1 + math.exp(30.0)), 0.5, 1 / (1 + math.exp(-10.0)), 1.0], rtol=1e-6)
    # linear exactly where beta * x > threshold
    y = F.softplus(gu.tensor([1.4, 1.6], dtype=gu.float64), beta=2.0, threshold=3.0)
    assert y.tolist()[1] == 1.6 and y.tolist()[0] == pytest.approx(math.log1p(math.exp(2.8)) / 2)


def test_selu_constants():
    x = gu.tensor([-1.0, 1.0], dtype=gu.float64)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    np.testing.assert_allclose(F.selu(x).numpy(), [scale * alpha * math.expm1(-1.0), scale], rtol=1e-15)


def test_activation_errors():
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' or 'tanh', got 'foo'"):
        F.gelu(gu.ones(3), approximate="foo")
    with pytest.raises(ValueError, match=r"hardtanh: min_val cannot be greater than max_val"):
        F.hardtanh(gu.ones(3), 2.0, 1.0)
    with pytest.raises(TypeError, match=r"elu: expected a floating point tensor, got int64"):
        F.elu(gu.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"gelu: expected a Tensor, got list"):
        F.gelu([1.0, 2.0])


def test_integer_inputs_where_torch_allows_them():
    i = gu.tensor([-3, -1, 0, 2, 7])
    assert F.hardtanh(i).tolist() == [-1, -1, 0, 1, 1] and F.hardtanh(i).dtype == gu.int64
    assert F.relu6(i).tolist() == [0, 0, 0, 2, 6]
    assert F.softsign(i).dtype == gu.float32
    assert act.erf(i).dtype == gu.float32


def test_float16_activations():
    x = gu.tensor(rand(8), dtype=gu.float16)
    for name in ("gelu", "silu", "elu", "erf"):
        out = ACTIVATIONS[name][0](x)
        assert out.dtype == gu.float16
        if torch is not None:
            ref = ACTIVATIONS[name][1](torch.tensor(rand(8)).half()).float().numpy()
            np.testing.assert_allclose(out.detach().numpy().astype(np.float32), ref, atol=5e-3, rtol=5e-3)


# --------------------------------------------------------------------------------------- erf
def test_erf_float64_within_one_ulp_of_math_erf():
    rng = np.random.default_rng(0)
    tails = np.logspace(-310, 1.5, 4000)
    x = np.concatenate([rng.uniform(-7, 7, 20000), tails, -tails, [0.0, 0.84375, 1.25, 1 / 0.35, 6.0, -6.0, 27.0]])
    ref = np.array([math.erf(v) for v in x])
    got = act.erf_array(x)
    assert got.dtype == np.float64
    assert np.all(np.abs(got - ref) <= np.spacing(np.abs(ref)))


def test_erf_float32_accuracy():
    x = np.linspace(-8, 8, 20001).astype(np.float32)
    ref = np.array([math.erf(float(v)) for v in x])
    got = act.erf_array(x)
    assert got.dtype == np.float32
    assert np.max(np.abs(got - ref)) < 5e-7
    tiny = np.array([1e-30, -1e-20, 1e-8], dtype=np.float32)
    np.testing.assert_allclose(act.erf_array(tiny), tiny * (2 / math.sqrt(math.pi)), rtol=1e-6)


def test_erf_special_values():
    for dt in (np.float32, np.float64):
        out = act.erf_array(np.array([math.inf, -math.inf, math.nan, 0.0, -0.0], dtype=dt))
        assert out[0] == 1 and out[1] == -1 and math.isnan(out[2]) and out[3] == 0
        assert np.signbit(out[4])


def test_normal_cdf_float32_tails():
    x = np.linspace(-12, 10, 2201).astype(np.float32)
    ref = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in x])
    got = act.normal_cdf_array(x)
    assert got.dtype == np.float32 and np.max(np.abs(got - ref)) < 5e-7
    tail = x < 0  # relative accuracy where Φ is tiny: GELU multiplies it by x
    assert np.max(np.abs(got[tail] - ref[tail]) / ref[tail]) < 1e-5
    assert act.normal_cdf_array(np.array([-1000.0, -np.inf], dtype=np.float32)).tolist() == [0.0, 0.0]


# ------------------------------------------------------------------------------------ softmax
SOFTMAXES = {
    "softmax": (gu.softmax, lambda x, d: torch.softmax(x, d)),
    "log_softmax": (gu.log_softmax, lambda x, d: torch.log_softmax(x, d)),
    "softmin": (F.softmin, lambda x, d: TF.softmin(x, d)),
}


@pytest.mark.parametrize("name", list(SOFTMAXES))
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((), 0)])
def test_softmax_family(name, shape, dim):
    fn, tfn = SOFTMAXES[name]
    check_op(lambda x: fn(x, dim), (lambda x: tfn(x, dim)) if torch else None, np.asarray(rand(*shape)))


@requires_torch
@pytest.mark.parametrize("name", list(SOFTMAXES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_extremes_match_torch(name, dtype):
    inf, nan = math.inf, math.nan
    x = np.array([
        [1000.0, -1000.0, 0.0, 999.0],
        [-inf, 0.0, 1.0, -inf],
        [-inf, -inf, -inf, -inf],
        [inf, 1.0, 2.0, 3.0],
        [nan, 1.0, 2.0, 3.0],
        [1e-30, -1e-30, 0.0, 88.0],
    ], dtype=dtype)
    g = np.linspace(-1.0, 2.0, x.size).reshape(x.shape).astype(dtype)
    fn, tfn = SOFTMAXES[name]
    ty, tg = _torch_pair(lambda t: tfn(t, 1), x, g, getattr(torch, dtype))
    gx = gu.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = fn(gx, 1)
        out.backward(gu.tensor(g))
    assert out.dtype.name == dtype and gx.grad.dtype.name == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.detach().numpy(), ty, equal_nan=True, **tol)
    np.testing.assert_allclose(gx.grad.numpy(), tg, equal_nan=True, **tol)


def test_softmax_sums_to_one_and_float32():
    x = gu.tensor(rand(4, 10).astype(np.float32) * 50, requires_grad=True)
    p = gu.softmax(x, -1)
    assert p.dtype == gu.float32
    np.testing.assert_allclose(p.detach().numpy().sum(-1), np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(np.exp(gu.log_softmax(x, -1).detach().numpy()), p.detach().numpy(), rtol=1e-5, atol=1e-7)
    assert x.softmax(1).allclose(p) and x.log_softmax(-1).allclose(gu.log_softmax(x, 1))


def test_softmax_dtype_argument():
    x = gu.tensor(rand(2, 3).astype(np.float32), requires_grad=True)
    out = F.softmax(x, dim=1, dtype=gu.float64)
    assert out.dtype == gu.float64
    out.backward(gu.tensor(rand(2, 3, seed=4)))
    assert x.grad.dtype == gu.float32
    if torch is not None:
        tx = torch.tensor(x.data, requires_grad=True)
        TF.softmax(tx, dim=1, dtype=torch.float64).backward(torch.tensor(rand(2, 3, seed=4)))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    assert F.log_softmax(gu.tensor([1, 2, 3]), 0, dtype=gu.float32).dtype == gu.float32


def test_softmax_errors_and_implicit_dim():
    with pytest.raises(TypeError, match=r"softmax: expected a floating point tensor, got int64"):
        gu.softmax(gu.tensor([1, 2]), 0)
    with pytest.raises(IndexError, match=r"log_softmax: dimension out of range"):
        gu.log_softmax(gu.ones(2, 3), 2)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(gu.tensor(rand(2, 3)))
    np.testing.assert_allclose(out.detach().numpy().sum(1), [1.0, 1.0])  # 2-D: dim 1, as PyTorch
    with pytest.warns(UserWarning, match="log_softmax"):
        out = F.log_softmax(gu.tensor(rand(2, 3, 4)))
    np.testing.assert_allclose(np.exp(out.detach().numpy()).sum(0), np.ones((3, 4)))  # 3-D: dim 0


def test_softmax_empty():
    assert tuple(gu.softmax(gu.ones(0, 3), 0).shape) == (0, 3)
    assert tuple(gu.log_softmax(gu.ones(2, 0), 1).shape) == (2, 0)


# --------------------------------------------------------------------------- nn.functional
def test_functional_face_exports():
    import groundup.nn as nn

    assert nn.functional is F
    for name in ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
                 "softsign", "hardtanh", "sigmoid", "logsigmoid", "tanh", "softmax", "log_softmax",
                 "softmin", "pad", "linear", "hardsigmoid", "hardswish"]:
        assert callable(getattr(F, name)), name


def test_inplace_semantics():
    x = gu.tensor([-1.0, 0.5, 2.0])
    out = F.relu(x, inplace=True)
    assert out is x and x.tolist() == [0.0, 0.5, 2.0]
    y = gu.tensor([-1.0, 2.0])
    out = F.elu(y, inplace=True)
    assert out is y and y.tolist()[0] == pytest.approx(math.expm1(-1.0))
    # recorded through autograd: computed out of place, gradients still flow
    w = gu.tensor([-1.0, 3.0], requires_grad=True)
    h = w * 2
    out = F.hardtanh(h, inplace=True)
    assert out is not h and h.tolist() == [-2.0, 6.0] and out.tolist() == [-1.0, 1.0]
    out.backward(gu.ones(2))
    assert w.grad.tolist() == [0.0, 0.0]
    z = F.leaky_relu(gu.tensor([-1.0, 3.0], requires_grad=True) * 1, 0.1, inplace=True)
    assert z.requires_grad and z.tolist() == pytest.approx([-0.1, 3.0])


def test_functional_linear_and_pad():
    check_op(F.linear, TF.linear if torch else None, rand(2, 3), rand(4, 3, seed=1), rand(4, seed=2))
    p = F.pad(gu.ones(2, 2), (1, 1))
    assert tuple(p.shape) == (2, 4)
