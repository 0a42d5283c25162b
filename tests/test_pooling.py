"""Pooling and interpolation: gradcheck, PyTorch parity (values, indices, gradients), ties and NaN
handling, unbatched inputs, adaptive windows, every interpolate mode, module reprs, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
import groundup.nn.functional as F
from groundup.functions import interpolate as interp_mod
from groundup.functions import pooling as pool_mod
from groundup.testing import gradcheck
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None


def both(fn_name: str, *args, **kwargs):
    """The same call in groundup and in torch: ``gu_fn, torch_fn``."""
    g = lambda x: getattr(F, fn_name)(x, *args, **kwargs)  # noqa: E731
    t = (lambda x: getattr(TF, fn_name)(x, *args, **kwargs)) if torch else None  # noqa: E731
    return g, t


def ints(*shape: int, seed: int = 0, high: int = 3) -> np.ndarray:
    """Integer-valued floats: many ties in every window."""
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.float64)


def same_indices(gu_fn, torch_fn, x: np.ndarray) -> None:
    gv, gi = gu_fn(gu.tensor(x))
    tv, ti = torch_fn(torch.tensor(x))
    assert gi.dtype == gu.int64
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())
    np.testing.assert_array_equal(gv.numpy(), tv.numpy())


# ----------------------------------------------------------------------------------- max_pool2d
MAX2D = [  # kernel_size, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 1, 1, 1, False),  # overlapping windows
    (3, 2, 1, 1, True),
    (3, 2, 0, 1, True),  # ceil mode adds a partial last window
    ((2, 3), (1, 2), (1, 1), (2, 1), False),
    (2, 1, 1, 2, True),  # dilation with overlap and padding
    ((3, 2), (2, 3), (1, 0), 1, True),
    (4, 3, 2, 1, True),  # ceil mode's extra window would start in the right padding: dropped
    (1, 2, 0, 1, False),
]


@pytest.mark.parametrize("k,s,p,d,c", MAX2D, ids=str)
def test_max_pool2d_gradcheck_and_parity(k, s, p, d, c):
    g, t = both("max_pool2d", k, s, p, d, c)
    check_op(g, t, rand(2, 2, 7, 8, seed=1))


@requires_torch
@pytest.mark.parametrize("k,s,p,d,c", MAX2D, ids=str)
def test_max_pool2d_ties_indices_and_gradient(k, s, p, d, c):
    """Integer-valued inputs tie everywhere: the first maximum in window order gets the gradient."""
    x = ints(2, 3, 9, 10, seed=2)
    check_op(*both("max_pool2d", k, s, p, d, c), x, check_gradcheck=False)
    same_indices(*both("max_pool2d", k, s, p, d, c, return_indices=True), x)


@requires_torch
@pytest.mark.parametrize("k,s,p,d,c", MAX2D[:4], ids=str)
def test_max_pool2d_nan_and_inf(k, s, p, d, c):
    """NaN propagates (the last NaN in a window wins); all -inf windows pick their first real element."""
    x = ints(2, 2, 8, 8, seed=3)
    rng = np.random.default_rng(4)
    x[rng.random(x.shape) < 0.15] = np.nan
    x[rng.random(x.shape) < 0.3] = -np.inf
    x[1, 1] = -np.inf
    check_op(*both("max_pool2d", k, s, p, d, c), x, check_gradcheck=False)
    same_indices(*both("max_pool2d", k, s, p, d, c, return_indices=True), x)


@requires_torch
@pytest.mark.parametrize("shape,k,s", [
    ((3, 4, 8, 6), 2, 2),  # windows tile the planes: every gradient element written once
    ((3, 4, 9, 7), 2, 2),  # a last row and column no window covers
    ((3, 4, 8, 8), 3, 2),  # overlapping windows add
    ((3, 4, 9, 8), (2, 3), (3, 2)),  # gaps between windows
])
def test_max_pool2d_backward_sends_nonfinite_gradients_only_to_winners(shape, k, s):
    """The backward scatters g offset by offset, selecting with a bit mask rather than multiplying:
    an inf or NaN upstream gradient reaches its window's winner and nowhere else (g · 0 would put
    NaN on every loser), and every other element of the input gradient is exactly 0."""
    x = rand(*shape, seed=5)
    ty = torch.nn.functional.max_pool2d(torch.tensor(x, requires_grad=True), k, s)
    g = np.random.default_rng(6).standard_normal(tuple(ty.shape))
    g[0, 0, 0, 0], g[1, 2, 1, 1], g[2, 3, -1, -1] = np.inf, np.nan, -np.inf
    gx, tx = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(gx, k, s).backward(gu.tensor(g))
    torch.nn.functional.max_pool2d(tx, k, s).backward(torch.tensor(g))
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())
    assert np.isnan(gx.grad.numpy()).sum() == 1 and np.isinf(gx.grad.numpy()).sum() == 2


@pytest.mark.parametrize("fn,shape", [("max_pool2d", (3, 6, 7)), ("max_pool1d", (3, 9))])
def test_max_pool_unbatched(fn, shape):
    g, t = both(fn, 3, 2, 1, ceil_mode=True)
    check_op(g, t, rand(*shape, seed=5))
    if torch:
        same_indices(*both(fn, 3, 2, 1, ceil_mode=True, return_indices=True), ints(*shape, seed=6))


@requires_torch
def test_max_pool2d_with_indices_and_int_input():
    x = ints(2, 3, 6, 6, seed=7, high=50)
    same_indices(*both("max_pool2d_with_indices", 3, 2, 1), x)
    xi = x.astype(np.int64)
    gv, gi = F.max_pool2d(gu.tensor(xi), 2, return_indices=True)
    tv, ti = TF.max_pool2d(torch.tensor(xi), 2, return_indices=True)
    assert gv.dtype == gu.int64
    np.testing.assert_array_equal(gv.numpy(), tv.numpy())
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())


def test_max_pool2d_indices_point_at_the_maxima():
    x = rand(2, 3, 7, 9, seed=8)
    v, i = F.max_pool2d(gu.tensor(x), 3, 2, 1, return_indices=True)
    planes = x.reshape(6, 63)
    np.testing.assert_array_equal(np.take_along_axis(planes, i.numpy().reshape(6, -1), 1), v.numpy().reshape(6, -1))


@pytest.mark.parametrize("fn", [lambda x: F.max_pool2d(x, 2, return_indices=True),
                                lambda x: F.adaptive_max_pool2d(x, 2, return_indices=True),
                                lambda x: F.adaptive_max_pool2d(x, 1, return_indices=True)])
def test_max_pool_returned_indices_do_not_feed_backward(fn):
    """Editing the returned indices in place cannot corrupt the gradient."""
    x = gu.tensor(rand(1, 1, 4, 4, seed=9), requires_grad=True)
    y, i = fn(x)
    i.data[...] = 0
    y.sum().backward()
    assert x.grad.numpy().sum() == y.numel() and (x.grad.numpy() != 0).sum() == y.numel()


# ----------------------------------------------------------------------------------- max_pool1d
MAX1D = [(2, None, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 2, True), (4, 3, 2, 1, True), (2, 2, 1, 3, False)]


@pytest.mark.parametrize("k,s,p,d,c", MAX1D, ids=str)
def test_max_pool1d(k, s, p, d, c):
    check_op(*both("max_pool1d", k, s, p, d, c), rand(2, 3, 11, seed=10))
    if torch:
        x = ints(2, 3, 13, seed=11)
        check_op(*both("max_pool1d", k, s, p, d, c), x, check_gradcheck=False)
        same_indices(*both("max_pool1d", k, s, p, d, c, return_indices=True), x)


# ----------------------------------------------------------------------------------- avg_pool
AVG2D = [  # kernel_size, stride, padding, ceil_mode
    (2, None, 0, False),
    (3, 1, 1, False),
    (3, 2, 1, True),
    ((2, 3), (1, 2), (1, 1), True),
    (3, 2, 0, True),
    (4, 3, 2, True),
]


@pytest.mark.parametrize("k,s,p,c", AVG2D, ids=str)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 3])
def test_avg_pool2d(k, s, p, c, count_include_pad, divisor_override):
    g, t = both("avg_pool2d", k, s, p, c, count_include_pad, divisor_override)
    check_op(g, t, rand(2, 2, 6, 7, seed=12), check_gradcheck=divisor_override is None)


@pytest.mark.parametrize("k,s,p,c", [(2, None, 0, False), (3, 1, 1, False), (3, 2, 1, True), (4, 3, 2, True)], ids=str)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool1d(k, s, p, c, count_include_pad):
    check_op(*both("avg_pool1d", k, s, p, c, count_include_pad), rand(2, 3, 10, seed=13))


@requires_torch
def test_avg_pool_unbatched_and_int_input():
    check_op(*both("avg_pool2d", 3, 2, 1, True, False), rand(3, 5, 6, seed=14), check_gradcheck=False)
    check_op(*both("avg_pool1d", 2), rand(3, 5, seed=15), check_gradcheck=False)
    xi = np.random.default_rng(0).integers(-9, 9, (1, 2, 5, 5))
    np.testing.assert_array_equal(
        F.avg_pool2d(gu.tensor(xi), 2, 1, 1).numpy(), TF.avg_pool2d(torch.tensor(xi), 2, 1, 1).numpy()
    )


# ----------------------------------------------------------------------------------- adaptive
ADAPTIVE2D = [((7, 9), 1), ((7, 9), (3, 4)), ((7, 9), (None, 4)), ((7, 9), (3, None)), ((6, 8), (3, 2)),
              ((5, 5), (5, 5)), ((4, 5), (6, 7)), ((7, 9), (2, 9)), ((7, 9), 3)]


@pytest.mark.parametrize("hw,out", ADAPTIVE2D, ids=str)
def test_adaptive_avg_pool2d(hw, out):
    check_op(*both("adaptive_avg_pool2d", out), rand(2, 2, *hw, seed=16))


@pytest.mark.parametrize("hw,out", ADAPTIVE2D, ids=str)
def test_adaptive_max_pool2d(hw, out):
    check_op(*both("adaptive_max_pool2d", out), rand(2, 2, *hw, seed=17))
    if torch:
        x = ints(2, 2, *hw, seed=18)
        x[0, 0, :2] = np.nan
        check_op(*both("adaptive_max_pool2d", out), x, check_gradcheck=False)
        same_indices(*both("adaptive_max_pool2d", out, return_indices=True), x)


@pytest.mark.parametrize("n,out", [(9, 1), (9, 4), (9, (3,)), (5, 5), (4, 7), (10, 10)], ids=str)
def test_adaptive_pool1d(n, out):
    x = rand(2, 3, n, seed=19)
    check_op(*both("adaptive_avg_pool1d", out), x)
    check_op(*both("adaptive_max_pool1d", out), x)
    if torch:
        same_indices(*both("adaptive_max_pool1d_with_indices", out), ints(2, 3, n, seed=20))


@requires_torch
def test_adaptive_unbatched_and_empty_output():
    check_op(*both("adaptive_avg_pool2d", (3, 2)), rand(3, 7, 5, seed=21), check_gradcheck=False)
    check_op(*both("adaptive_max_pool2d", 2), rand(3, 7, 5, seed=22), check_gradcheck=False)
    x = gu.tensor(rand(1, 2, 4, 4))
    assert F.adaptive_avg_pool2d(x, 0).shape == TF.adaptive_avg_pool2d(torch.tensor(x.numpy()), 0).shape
    assert F.adaptive_max_pool2d(x, (0, 2)).shape == (1, 2, 0, 2)


def test_adaptive_avg_output_does_not_alias_input():
    x = gu.tensor(rand(1, 2, 4, 4))
    y = F.adaptive_avg_pool2d(x, (4, 4))
    y.data[...] = 0
    assert np.all(x.numpy() != 0)


@pytest.mark.parametrize("fn,args", [("lp_pool2d", (2.0, 3, 2)), ("lp_pool2d", (3.0, (2, 3))),
                                     ("lp_pool1d", (2.0, 3)), ("lp_pool2d", (float("inf"), 2))], ids=str)
def test_lp_pool(fn, args):
    shape = (2, 2, 6, 7) if fn == "lp_pool2d" else (2, 2, 7)
    check_op(*both(fn, *args), rand(*shape, seed=23, positive=True))


# ----------------------------------------------------------------------------- dtype, batch 0
@requires_torch
@pytest.mark.parametrize(
    "fn,args",
    [("max_pool2d", (3, 2, 1)), ("avg_pool2d", (3, 2, 1)), ("adaptive_avg_pool2d", ((3, 5),)),
     ("adaptive_max_pool2d", ((3, 5),)), ("max_pool1d", (2,)), ("avg_pool1d", (3, 1, 1)),
     ("interpolate", (None, 1.7, "bilinear")), ("interpolate", ((5, 9), None, "nearest"))],
    ids=str,
)
def test_float32_stays_float32(fn, args):
    rng = np.random.default_rng(24)
    x = rng.standard_normal((2, 3, 8, 11) if "1d" not in fn else (2, 3, 11)).astype(np.float32)
    gx, tx = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = getattr(F, fn)(gx, *args), getattr(TF, fn)(tx, *args)
    v = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(gu.tensor(v))
    ty.backward(torch.tensor(v))
    assert y.dtype == gu.float32 and gx.grad.dtype == gu.float32
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn,args", [("max_pool2d", (2,)), ("avg_pool2d", (2,)), ("adaptive_avg_pool2d", (1,)),
                                     ("adaptive_max_pool2d", (3,)), ("adaptive_avg_pool2d", (3,))], ids=str)
def test_empty_batch(fn, args):
    x = gu.tensor(np.zeros((0, 2, 6, 6)), requires_grad=True)
    y = getattr(F, fn)(x, *args)
    assert y.shape[:2] == (0, 2)
    y.sum().backward()
    assert x.grad.shape == (0, 2, 6, 6)


def test_inputs_and_upstream_gradient_not_mutated():
    x = rand(2, 2, 6, 6, seed=25)
    for f in (lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: F.avg_pool2d(t, 3, 1, 1),
              lambda t: F.interpolate(t, scale_factor=2, mode="bilinear"), lambda t: F.adaptive_max_pool2d(t, 4)):
        gx = gu.tensor(x.copy(), requires_grad=True)
        y = f(gx)
        g = np.ones(y.shape)
        y.backward(gu.tensor(g))
        np.testing.assert_array_equal(gx.detach().numpy(), x)
        assert np.all(g == 1)


# ----------------------------------------------------------------------------------- interpolate
INTERP2D = [
    dict(size=(4, 11)), dict(size=7), dict(size=(5, 6)), dict(size=(10, 12)), dict(scale_factor=2),
    dict(scale_factor=1.7), dict(scale_factor=(0.6, 2.3)), dict(scale_factor=0.5), dict(scale_factor=1 / 3),
    dict(scale_factor=(1.5, 0.7), recompute_scale_factor=True), dict(size=(1, 1)),
]


@pytest.mark.parametrize("kw", INTERP2D, ids=str)
@pytest.mark.parametrize("mode,ac", [("nearest", None), ("nearest-exact", None), ("bilinear", False),
                                     ("bilinear", True), ("area", None)])
def test_interpolate_2d(kw, mode, ac):
    check_op(*both("interpolate", mode=mode, align_corners=ac, **kw), rand(2, 2, 5, 6, seed=26))


INTERP1D = [dict(size=11), dict(size=4), dict(size=1), dict(scale_factor=2), dict(scale_factor=1.7),
            dict(scale_factor=0.6), dict(scale_factor=3.3, recompute_scale_factor=True), dict(size=7)]


@pytest.mark.parametrize("kw", INTERP1D, ids=str)
@pytest.mark.parametrize("mode,ac", [("nearest", None), ("nearest-exact", None), ("linear", False),
                                     ("linear", True), ("area", None)])
def test_interpolate_1d(kw, mode, ac):
    check_op(*both("interpolate", mode=mode, align_corners=ac, **kw), rand(2, 3, 7, seed=27))


@requires_torch
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_source_indices_match_torch_exactly(mode, dtype):
    """Sweep sizes and awkward scale factors: PyTorch's rounding picks the same pixels. float32 results
    are bit for bit PyTorch's; float64 ones differ in the last bit where PyTorch's compiler fuses a
    multiply-add (which NumPy cannot reproduce in float64)."""
    rng = np.random.default_rng(28)
    for n_in in (1, 2, 3, 7, 10, 33):
        x = np.arange(n_in, dtype=dtype)[None, None]
        for n_out in (1, 2, 5, 2 * n_in, n_in, 55, 82, 97):
            for kw in (dict(size=n_out), dict(scale_factor=n_out / n_in), dict(scale_factor=n_out / n_in + 1e-3),
                       dict(scale_factor=float(rng.uniform(0.3, 4)))):
                if int(n_in * kw.get("scale_factor", 1)) < 1:
                    continue
                ac = False if mode == "linear" else None
                g = F.interpolate(gu.tensor(x), mode=mode, align_corners=ac, **kw).numpy()
                t = TF.interpolate(torch.tensor(x), mode=mode, align_corners=ac, **kw).numpy()
                tol = 1e-12 if dtype == np.float64 else 0
                np.testing.assert_allclose(g, t, rtol=0, atol=tol, err_msg=f"{n_in} -> {kw}")


@requires_torch
@pytest.mark.parametrize("hw,kw", [
    ((3, 10), dict(scale_factor=(1, 1.05))), ((3, 10), dict(scale_factor=(1, 2.05))),
    ((28, 100), dict(scale_factor=(1, 1.005))), ((29, 100), dict(scale_factor=(1, 1.005))),
    ((2, 100), dict(size=(2, 200))), ((2, 40), dict(scale_factor=(1, 2.05))),
], ids=str)
def test_interpolate_nearest_2d_kernel_choice(hw, kw):
    """PyTorch's 2-D nearest shortcuts (O == I copies, O == 2I halves) apply only to small outputs
    (H_out + W_out <= 128: 28 + 100 takes them, 29 + 100 does not)."""
    x = np.tile(np.arange(hw[1], dtype=np.float64), (1, 1, hw[0], 1))
    np.testing.assert_array_equal(F.interpolate(gu.tensor(x), **kw).numpy(),
                                  TF.interpolate(torch.tensor(x), **kw).numpy())


def test_interpolate_nearest_backward_is_the_true_gradient():
    """Where PyTorch's nearest backward picks other pixels than its forward (1-D, O == I with a scale
    factor), ours stays the exact gradient of the forward, which still matches PyTorch."""
    x = gu.tensor(rand(1, 2, 12, seed=29), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.05), x)
    y = F.interpolate(x, scale_factor=1.05)
    assert y.shape == (1, 2, 12)
    if torch:
        np.testing.assert_array_equal(y.detach().numpy(),
                                      TF.interpolate(torch.tensor(x.detach().numpy()), scale_factor=1.05).numpy())


@requires_torch
def test_interpolate_large_float32_bilinear_matches_torch():
    rng = np.random.default_rng(30)
    x = rng.standard_normal((2, 3, 17, 23)).astype(np.float32)
    for kw in (dict(scale_factor=2, mode="bilinear"), dict(size=(9, 40), mode="bilinear", align_corners=True),
               dict(scale_factor=0.37, mode="bilinear")):
        g, t = F.interpolate(gu.tensor(x), **kw).numpy(), TF.interpolate(torch.tensor(x), **kw).numpy()
        np.testing.assert_allclose(g, t, rtol=1e-6, atol=1e-6)


def test_upsample_deprecated_aliases_warn():
    x = gu.tensor(rand(1, 1, 3, 3))
    for fn in (F.upsample, F.upsample_nearest, F.upsample_bilinear):
        with pytest.warns(UserWarning, match="deprecated"):
            y = fn(x, scale_factor=2)
        assert y.shape == (1, 1, 6, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(
            F.upsample_bilinear(x, size=5).numpy(),
            F.interpolate(x, size=5, mode="bilinear", align_corners=True).numpy(),
        )


# ----------------------------------------------------------------------------------- modules
MODULES = [
    ("MaxPool2d", (2,), {}), ("MaxPool2d", ((2, 3),), dict(stride=1, padding=(1, 0), dilation=2, ceil_mode=True)),
    ("MaxPool1d", (3,), {}), ("MaxPool1d", (3, 2, 1, 2, True, True), {}),
    ("AvgPool2d", (2,), {}), ("AvgPool2d", (3, 2, 1, True, False, 3), {}),
    ("AvgPool1d", (3,), {}), ("AvgPool1d", (3, 1, 1, True, False), {}),
    ("AdaptiveAvgPool2d", ((None, 7),), {}), ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveMaxPool2d", ((2, 3), True), {}), ("AdaptiveAvgPool1d", (4,), {}), ("AdaptiveMaxPool1d", (4,), {}),
    ("LPPool2d", (2, 3), dict(stride=2)), ("LPPool1d", (1.5, 2), {}),
    ("Upsample", (), dict(scale_factor=2)), ("Upsample", (), dict(size=(3, 4), mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(2, 3), mode="bilinear", align_corners=True)),
    ("Upsample", (), dict(scale_factor=1.5, mode="nearest-exact", recompute_scale_factor=True)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)), ("UpsamplingBilinear2d", (5,), {}),
]


@requires_torch
@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=lambda v: str(v))
def test_module_repr_attributes_and_forward(name, args, kwargs):
    g, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(g) == repr(t)
    for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices", "output_size",
                 "count_include_pad", "divisor_override", "size", "scale_factor", "mode", "align_corners"):
        assert getattr(g, attr, None) == getattr(t, attr, None), attr
    x = rand(2, 3, 9, seed=31, positive=True) if "1d" in name else rand(2, 3, 8, 9, seed=31, positive=True)
    gy, ty = g(gu.tensor(x)), t(torch.tensor(x))
    if isinstance(ty, tuple):
        np.testing.assert_array_equal(gy[1].numpy(), ty[1].numpy())
        gy, ty = gy[0], ty[0]
    np.testing.assert_allclose(gy.numpy(), ty.numpy(), rtol=1e-7, atol=1e-9)
    assert list(g.parameters()) == []


def test_functional_names_exported():
    for name in pool_mod.__all__ + interp_mod.__all__:
        assert getattr(F, name) is getattr(pool_mod if name in pool_mod.__all__ else interp_mod, name)
    for name in ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "Upsample", "UpsamplingBilinear2d"):
        assert issubclass(getattr(nn, name), nn.Module)


def test_maxpool_module_in_a_model_backprops():
    model = nn.Sequential(nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x = gu.tensor(rand(2, 3, 8, 8), requires_grad=True)
    model(x).sum().backward()
    assert x.grad.shape == (2, 3, 8, 8) and np.isclose(x.grad.numpy().sum(), 2 * 3 * 16 / 16)


# ----------------------------------------------------------------------------------- errors
X4 = rand(1, 2, 5, 5)
ERRORS = [
    (lambda F, x: F.max_pool2d(x, 3, padding=2), RuntimeError, r"max_pool2d: padding should be at most half"),
    (lambda F, x: F.avg_pool2d(x, 3, padding=2), RuntimeError, r"avg_pool2d: padding should be at most half"),
    (lambda F, x: F.max_pool2d(x, 3, stride=0), RuntimeError, r"stride must be positive"),
    (lambda F, x: F.max_pool2d(x, 3, dilation=0), RuntimeError, r"dilation must be positive"),
    (lambda F, x: F.max_pool2d(x, 0), RuntimeError, r"kernel_size must be positive"),
    (lambda F, x: F.max_pool2d(x, 2, padding=-1), RuntimeError, r"padding must be non-negative"),
    (lambda F, x: F.max_pool2d(x, 7), RuntimeError, r"max_pool2d: given input of shape \(1, 2, 5, 5\).*too small"),
    (lambda F, x: F.avg_pool2d(x, (2, 7)), RuntimeError, r"avg_pool2d: .*larger than the padded input"),
    (lambda F, x: F.max_pool2d(x.reshape(5, 10), 2), RuntimeError, r"max_pool2d: expected a 3-D .*got shape \(5, 10\)"),
    (lambda F, x: F.max_pool1d(x, 2), RuntimeError, r"max_pool1d: expected a 2-D \(C, L\) or 3-D"),
    (lambda F, x: F.max_pool2d(x[:, :, :2, :2], 2, 1, 1, 3), RuntimeError, r"contains no input element"),
    (lambda F, x: F.max_pool2d(x, (2, 2, 2)), TypeError, r"kernel_size must be a single int, or a tuple of 2 ints"),
    (lambda F, x: F.avg_pool2d(x, 2, divisor_override=0), RuntimeError, r"divisor must be not zero"),
    (lambda F, x: F.adaptive_avg_pool2d(x, (-1, 2)), RuntimeError, r"output_size must be greater than or equal to 0"),
    (lambda F, x: F.adaptive_max_pool2d(x.reshape(5, 10), 2), RuntimeError, r"adaptive_max_pool2d: expected a 3-D"),
    (lambda F, x: F.adaptive_avg_pool2d(x[:, :, :0], 2), RuntimeError, r"non-zero size for non-batch dimensions"),
    (lambda F, x: F.adaptive_avg_pool2d(x, (1, 2, 3)), TypeError, r"output_size must be an int or a tuple of 2"),
    (lambda F, x: F.max_pool2d(x.numpy(), 2), TypeError, r"expected a Tensor"),
    (lambda F, x: F.avg_pool2d(x > 0, 2), TypeError, r"floating point or integer input, got bool"),
    (lambda F, x: F.interpolate(x, size=3, scale_factor=2), ValueError, r"only one of size or scale_factor"),
    (lambda F, x: F.interpolate(x), ValueError, r"either size or scale_factor"),
    (lambda F, x: F.interpolate(x, size=0), RuntimeError, r"Input and output sizes should be greater than 0"),
    (lambda F, x: F.interpolate(x, scale_factor=0.1), RuntimeError, r"output \(H: 0, W: 0\)"),
    (lambda F, x: F.interpolate(x, scale_factor=2, align_corners=True), ValueError, r"align_corners option"),
    (lambda F, x: F.interpolate(x, scale_factor=2, mode="linear"), NotImplementedError, r"linear mode needs 3D"),
    (lambda F, x: F.interpolate(x[0], scale_factor=2, mode="bilinear"), NotImplementedError, r"bilinear mode needs 4D"),
    (lambda F, x: F.interpolate(x, scale_factor=2, mode="foo"), NotImplementedError, r"unknown mode 'foo'"),
    (lambda F, x: F.interpolate(x, scale_factor=2, mode="bicubic"), NotImplementedError, r"'bicubic' is not implemented"),
    (lambda F, x: F.interpolate(x, size=(2, 3, 4)), ValueError, r"same number of spatial dimensions"),
    (lambda F, x: F.interpolate(x, size=(2.5, 3)), TypeError, r"expected size to be an int or a tuple of 2 ints"),
    (lambda F, x: F.interpolate(x, size=4, recompute_scale_factor=True), ValueError, r"not meaningful"),
    (lambda F, x: F.interpolate(x, scale_factor=2, antialias=True), ValueError, r"Anti-alias option"),
    (lambda F, x: F.interpolate(x[0, 0], scale_factor=2), NotImplementedError, r"3-D \(N, C, L\) and 4-D"),
    (lambda F, x: F.interpolate(x.long(), scale_factor=2), TypeError, r"floating point input, got int64"),
]


MODULE_ERRORS = [  # a layer's errors name the layer, the shapes and the rule
    (lambda: nn.MaxPool2d(2)(gu.tensor(rand(5, 10))), RuntimeError,
     r"^MaxPool2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input .*got shape \(5, 10\)"),
    (lambda: nn.MaxPool2d(7)(gu.tensor(X4)), RuntimeError,
     r"^MaxPool2d: given input of shape \(1, 2, 5, 5\), the calculated output size is \(0, 0\): the effective "
     r"kernel \(7, 7\) .* is larger than the padded input \(5, 5\)"),
    (lambda: nn.MaxPool1d(2, stride=0)(gu.tensor(rand(1, 2, 5))), RuntimeError, r"^MaxPool1d: stride must be positive"),
    (lambda: nn.MaxPool2d(2, dilation=(1, 0))(gu.tensor(X4)), RuntimeError, r"^MaxPool2d: dilation must be positive"),
    (lambda: nn.AvgPool1d(2)(gu.tensor(X4)), RuntimeError, r"^AvgPool1d: expected a 2-D \(C, L\) or 3-D .*\(1, 2, 5, 5\)"),
    (lambda: nn.AvgPool2d(3, padding=2)(gu.tensor(X4)), RuntimeError, r"^AvgPool2d: padding should be at most half"),
    (lambda: nn.AdaptiveAvgPool2d(2)(gu.tensor(rand(5))), RuntimeError, r"^AdaptiveAvgPool2d: expected a 3-D or 4-D"),
    (lambda: nn.AdaptiveMaxPool1d(-1)(gu.tensor(rand(1, 2, 5))), RuntimeError,
     r"^AdaptiveMaxPool1d: elements of output_size must be greater than or equal to 0"),
    (lambda: nn.LPPool2d(2, 7)(gu.tensor(X4)), RuntimeError, r"^LPPool2d: given input of shape \(1, 2, 5, 5\)"),
    (lambda: nn.LPPool1d(float("inf"), 9)(gu.tensor(rand(1, 2, 5))), RuntimeError, r"^LPPool1d: given input"),
    (lambda: nn.Upsample(size=(4, 4, 4))(gu.tensor(X4)), ValueError,
     r"^Upsample: Input and output must have the same number of spatial dimensions.*\[5, 5\].*\(4, 4, 4\)"),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear")(gu.tensor(rand(1, 2, 5))), NotImplementedError,
     r"^Upsample: Got 3D input of shape \(1, 2, 5\), but bilinear mode needs 4D input"),
    (lambda: nn.UpsamplingBilinear2d(scale_factor=0.1)(gu.tensor(X4)), RuntimeError,
     r"^UpsamplingBilinear2d: Input and output sizes should be greater than 0.*output \(H: 0, W: 0\)"),
]


@pytest.mark.parametrize("fn,exc,msg", MODULE_ERRORS, ids=[m for _, _, m in MODULE_ERRORS])
def test_module_errors_name_the_layer(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


GROUNDUP_ONLY = ("expected a Tensor", "not implemented", "3-D \\(N, C, L\\) and 4-D", "Anti-alias", "got bool",
                 "floating point input", "no input element")  # PyTorch corrupts memory on the last


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[m for _, _, m in ERRORS])
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(F, gu.tensor(X4))


@requires_torch
@pytest.mark.parametrize("fn,msg", [(f, m) for f, _, m in ERRORS if not any(k in m for k in GROUNDUP_ONLY)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_torch_rejects_the_same_inputs(fn, msg):
    """Each of these errors is one PyTorch raises as well: not a groundup-only restriction."""
    with pytest.raises((RuntimeError, ValueError, NotImplementedError, IndexError, TypeError)):
        fn(TF, torch.tensor(X4))
