"""nn.init: gains equal PyTorch's, fans and errors as PyTorch's, the distributions are right
(bounds, mean, std, quantiles against the exact CDF or against torch's own samples), orthogonality,
in-place semantics (same object, version bumped, works on Parameters that require grad), and
repeatability under ``groundup.manual_seed`` or an explicit ``Generator``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
from groundup.nn import init
from tests.helpers import requires_torch, torch

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def values(t: gu.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64).ravel()


def normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def ks_statistic(sample: np.ndarray, cdf) -> float:
    """Kolmogorov-Smirnov distance between a sample and a CDF."""
    x = np.sort(sample)
    n = x.size
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


KS_CRIT = 1.95  # sqrt(n) * D above this has probability < 0.1% under the null


# ------------------------------------------------------------------------------------- gains
@requires_torch
@pytest.mark.parametrize("name", NONLINEARITIES)
def test_calculate_gain_matches_torch(name):
    assert init.calculate_gain(name) == torch.nn.init.calculate_gain(name)


@requires_torch
@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3.5])
def test_leaky_relu_gain_matches_torch(param):
    assert init.calculate_gain("leaky_relu", param) == torch.nn.init.calculate_gain("leaky_relu", param)


def test_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@requires_torch
@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 3, 1, 1, 4)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(gu.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(*shape)
    )


@pytest.mark.parametrize(
    "fn", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_]
)
def test_fan_based_inits_reject_vectors(fn):
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"):
        fn(gu.empty(5))


# ----------------------------------------------------------------------------- distributions
def test_uniform_and_normal():
    gu.manual_seed(0)
    t = init.uniform_(gu.empty(200, 100), -2.0, 3.0)
    v = values(t)
    assert v.min() >= -2.0 and v.max() <= 3.0
    assert ks_statistic(v, lambda x: (x + 2.0) / 5.0) * math.sqrt(v.size) < KS_CRIT
    t = init.normal_(gu.empty(200, 100), 1.5, 0.5)
    v = values(t)
    assert ks_statistic(v, lambda x: normal_cdf((x - 1.5) / 0.5)) * math.sqrt(v.size) < KS_CRIT
    assert t.dtype == gu.float32


def test_ks_test_has_power():
    """The distribution checks above can fail: a wrong std or a shifted mean is detected."""
    gu.manual_seed(0)
    v = values(init.normal_(gu.empty(200, 100), 0.0, 1.1))
    assert ks_statistic(v, normal_cdf) * math.sqrt(v.size) > KS_CRIT
    v = values(init.uniform_(gu.empty(200, 100), -0.9, 1.1))
    assert ks_statistic(v, lambda x: (x + 1.0) / 2.0) * math.sqrt(v.size) > KS_CRIT


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 0.0), (0.0, 1.0, 2.0, 3.0),
                                          (0.0, 0.02, -0.04, 0.04), (1.0, 1.0, -10.0, 10.0)])
def test_trunc_normal_matches_the_truncated_cdf(mean, std, a, b):
    """Both samplers (normal redraws for a wide interval, uniform proposals for a narrow one)."""
    gu.manual_seed(1)
    v = values(init.trunc_normal_(gu.empty(100, 100), mean, std, a, b))
    assert v.min() >= a - 1e-6 and v.max() <= b + 1e-6
    lo, hi = normal_cdf((a - mean) / std), normal_cdf((b - mean) / std)

    def cdf(x):
        return (normal_cdf((x - mean) / std) - lo) / (hi - lo)

    assert ks_statistic(v, cdf) * math.sqrt(v.size) < KS_CRIT


def test_trunc_normal_warns_far_from_interval():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(gu.empty(10), mean=10.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    gu.manual_seed(2)
    w = gu.empty(120, 80, 3)  # fan_in 240, fan_out 360
    std = gain * math.sqrt(2.0 / (240 + 360))
    bound = math.sqrt(3.0) * std
    v = values(init.xavier_uniform_(w, gain=gain))
    assert np.abs(v).max() <= bound * (1 + 1e-6) and np.abs(v).max() > 0.99 * bound
    assert ks_statistic(v, lambda x: (x + bound) / (2 * bound)) * math.sqrt(v.size) < KS_CRIT
    v = values(init.xavier_normal_(w, gain=gain))
    assert ks_statistic(v, lambda x: normal_cdf(x / std)) * math.sqrt(v.size) < KS_CRIT


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    gu.manual_seed(3)
    w = gu.empty(60, 40, 3, 3)
    fan = 40 * 9 if mode == "fan_in" else 60 * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    v = values(init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity))
    assert ks_statistic(v, lambda x: normal_cdf(x / std)) * math.sqrt(v.size) < KS_CRIT
    bound = math.sqrt(3.0) * std
    v = values(init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity))
    assert np.abs(v).max() <= bound * (1 + 1e-6)
    assert ks_statistic(v, lambda x: (x + bound) / (2 * bound)) * math.sqrt(v.size) < KS_CRIT


@requires_torch
@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "orthogonal_", "trunc_normal_"])
def test_distributions_agree_with_torch_samples(name):
    """Two-sample KS test between groundup's and torch's draws for the same shape and call."""
    gu.manual_seed(4)
    torch.manual_seed(4)
    g = values(getattr(init, name)(gu.empty(64, 48)))
    t = getattr(torch.nn.init, name)(torch.empty(64, 48)).numpy().astype(np.float64).ravel()
    both = np.sort(np.concatenate([g, t]))
    d = np.max(np.abs(np.searchsorted(np.sort(g), both, "right") / g.size - np.searchsorted(np.sort(t), both, "right") / t.size))
    assert d * math.sqrt(g.size * t.size / (g.size + t.size)) < KS_CRIT


def test_kaiming_mode_error_and_empty_tensor():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gu.empty(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(gu.empty(0, 3))


# ----------------------------------------------------------------------- structured inits
@pytest.mark.parametrize("shape", [(6, 6), (4, 10), (10, 4), (8, 3, 2, 2), (1, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    w = init.orthogonal_(gu.empty(*shape, dtype=gu.float64), gain=gain)
    m = w.detach().numpy().reshape(shape[0], -1) / gain
    rows, cols = m.shape
    small = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(small, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    """With the sign correction, Q's diagonal is symmetric about 0 (plain QR biases it)."""
    gu.manual_seed(5)
    diag = np.array([np.diag(init.orthogonal_(gu.empty(4, 4, dtype=gu.float64)).numpy()) for _ in range(400)])
    assert abs(diag.mean()) < 0.05


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(gu.empty(4))


def test_constant_ones_zeros_eye_dirac():
    t = gu.empty(3, 4)
    assert init.constant_(t, 0.3) is t and np.all(t.numpy() == np.float32(0.3))
    assert np.all(init.ones_(t).numpy() == 1) and not init.zeros_(t).numpy().any()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(gu.empty(2, 2, 2))
    # dirac_: the convolution it describes is the identity: w[o, i, centre] = [o == i]
    w = init.dirac_(gu.empty(4, 3, 3, 5)).numpy()
    expect = np.zeros((4, 3, 3, 5))
    for d in range(3):
        expect[d, d, 1, 2] = 1
    np.testing.assert_array_equal(w, expect)
    w = init.dirac_(gu.empty(6, 2, 3), groups=2).numpy()  # 3 outputs per group, 2 inputs each
    expect = np.zeros((6, 2, 3))
    for g in range(2):
        for d in range(2):
            expect[g * 3 + d, d, 1] = 1
    np.testing.assert_array_equal(w, expect)
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(gu.empty(5, 2, 3), groups=2)


@requires_torch
def test_eye_and_dirac_match_torch():
    np.testing.assert_array_equal(init.eye_(gu.empty(5, 3)).numpy(), torch.nn.init.eye_(torch.empty(5, 3)).numpy())
    for shape, groups in [((4, 3, 3), 1), ((6, 2, 3, 3), 2), ((4, 4, 1, 3, 3), 4)]:
        np.testing.assert_array_equal(
            init.dirac_(gu.empty(*shape), groups).numpy(), torch.nn.init.dirac_(torch.empty(*shape), groups).numpy()
        )


def test_sparse():
    gu.manual_seed(6)
    w = init.sparse_(gu.empty(10, 300), sparsity=0.35, std=0.5).numpy()
    assert ((w == 0).sum(axis=0) == math.ceil(0.35 * 10)).all()  # exactly that many zeros per column
    nz = w[w != 0].astype(np.float64)
    assert ks_statistic(nz, lambda x: normal_cdf(x / 0.5)) * math.sqrt(nz.size) < KS_CRIT
    rows_hit = (w == 0).sum(axis=1)
    assert rows_hit.min() > 0  # the zero rows differ between columns
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(gu.empty(3), 0.5)


# -------------------------------------------------------------- in place, grad, repeatability
ALL_RANDOM = [
    lambda t, **k: init.uniform_(t, **k), lambda t, **k: init.normal_(t, **k),
    lambda t, **k: init.trunc_normal_(t, **k), lambda t, **k: init.xavier_uniform_(t, **k),
    lambda t, **k: init.xavier_normal_(t, **k), lambda t, **k: init.kaiming_uniform_(t, **k),
    lambda t, **k: init.kaiming_normal_(t, **k), lambda t, **k: init.orthogonal_(t, **k),
    lambda t, **k: init.sparse_(t, 0.2, **k),
]


@pytest.mark.parametrize("fn", ALL_RANDOM)
def test_in_place_on_parameters_and_repeatable(fn):
    p = nn.Parameter(gu.zeros(6, 5))
    v = p._version
    assert fn(p) is p  # works on a leaf that requires grad: the fill is not recorded
    assert p._version > v and p.requires_grad and p.grad_fn is None and p.dtype == gu.float32
    gu.manual_seed(7)
    a = fn(gu.empty(6, 5)).numpy().copy()
    gu.manual_seed(7)
    b = fn(gu.empty(6, 5)).numpy().copy()
    np.testing.assert_array_equal(a, b)
    gen = gu.Generator().manual_seed(8)
    c = fn(gu.empty(6, 5), generator=gen).numpy().copy()
    d = fn(gu.empty(6, 5), generator=gu.Generator().manual_seed(8)).numpy()
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, c)


def test_errors_name_the_function():
    with pytest.raises(TypeError, match="init.uniform_: expected a Tensor, got ndarray"):
        init.uniform_(np.zeros(3))
    with pytest.raises(TypeError, match="init.normal_: expected a floating-point tensor"):
        init.normal_(gu.zeros(3, dtype=gu.int64))
    with pytest.raises(RuntimeError, match="expects std >= 0.0"):
        init.normal_(gu.empty(3), std=-1.0)


def test_deprecated_spellings_warn():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        init.xavier_uniform(gu.empty(3, 3))
    assert any(issubclass(x.category, FutureWarning) and "xavier_uniform_" in str(x.message) for x in w)
