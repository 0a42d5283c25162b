"""Layers: Linear, Bilinear, Identity, Flatten/Unflatten and the activation modules.

For each: parameter names, shapes and state_dict keys equal PyTorch's; the default initialisation
follows PyTorch's distribution; forward and backward (input and parameter gradients) match PyTorch
after copying its weights in; reprs are identical; bad arguments raise errors that name the layer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
import groundup.nn.functional as F
from groundup.nn import activation as act
from tests.helpers import check_op, rand, requires_torch, torch

TN = torch.nn if torch else None


# ----------------------------------------------------------------------------------- helpers
def copy_from_torch(gm: nn.Module, tm: object) -> None:
    """Load torch's weights into the groundup module through numpy arrays (strict)."""
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


def module_parity(gm, tm, *inputs: np.ndarray, atol: float = 1e-7, rtol: float = 1e-6, seed: int = 0) -> None:
    """Same weights and inputs (float64): outputs, input grads and parameter grads match torch's."""
    gm.double()
    tm.double()
    copy_from_torch(gm, tm)
    assert [n for n, _ in gm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    gx = [gu.tensor(x, requires_grad=True) for x in inputs]
    tx = [torch.tensor(x, requires_grad=True) for x in inputs]
    # feed non-leaf tensors (x * 1) so that inplace=True layers are legal in torch too
    gy, ty = gm(*[x * 1.0 for x in gx]), tm(*[x * 1.0 for x in tx])
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), atol=atol, rtol=rtol)
    v = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    gy.backward(gu.tensor(v))
    ty.backward(torch.tensor(v))
    for g, t in zip(gx, tx):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=atol, rtol=rtol, err_msg="input grad")
    tparams = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), atol=atol, rtol=rtol, err_msg=name)


def assert_same_layout(gm, tm) -> None:
    """Parameter names/shapes, buffer names and state_dict keys/shapes/dtypes equal torch's."""
    assert [(n, tuple(p.shape)) for n, p in gm.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in tm.named_parameters()
    ]
    gs, ts = gm.state_dict(), tm.state_dict()
    assert list(gs) == list(ts)
    for k in gs:
        assert tuple(gs[k].shape) == tuple(ts[k].shape), k
        assert gs[k].dtype.name == str(ts[k].dtype).replace("torch.", ""), k


def assert_uniform(values: np.ndarray, bound: float) -> None:
    """Large sample from U(-bound, bound): inside the bounds, reaching near them, variance bound²/3."""
    v = values.ravel().astype(np.float64)
    assert np.all(np.abs(v) <= bound * (1 + 1e-6))
    assert v.max() > 0.99 * bound and v.min() < -0.99 * bound
    n = v.size
    assert abs(v.mean()) < 5 * bound / np.sqrt(3 * n)
    np.testing.assert_allclose(v.var(), bound**2 / 3, rtol=6 / np.sqrt(n) * 1.2)


# -------------------------------------------------------------------------------------- Linear
@requires_torch
@pytest.mark.parametrize("bias", [True, False])
def test_linear_layout_and_repr(bias):
    gm, tm = nn.Linear(5, 3, bias=bias), TN.Linear(5, 3, bias=bias)
    assert_same_layout(gm, tm)
    assert repr(gm) == repr(tm)
    assert gm.weight.requires_grad and isinstance(gm.weight, nn.Parameter)
    assert gm.weight.dtype == gu.float32
    assert (gm.bias is None) == (not bias)


def test_linear_default_init_distribution():
    gu.manual_seed(0)
    m = nn.Linear(400, 300)
    assert_uniform(m.weight.detach().numpy(), 1 / np.sqrt(400))
    b = m.bias.detach().numpy()
    assert np.all(np.abs(b) <= 1 / np.sqrt(400)) and b.std() > 0.5 / np.sqrt(400) / np.sqrt(3)
    gu.manual_seed(0)
    again = nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.detach().numpy(), m.weight.detach().numpy())  # manual_seed repeats
    v0 = m.weight._version
    m.reset_parameters()
    assert m.weight._version > v0 and not np.array_equal(m.weight.detach().numpy(), again.weight.detach().numpy())


@requires_torch
def test_linear_init_matches_torch_statistics():
    """Same bound as torch's kaiming_uniform_(a=sqrt(5)): compare sample quantiles with torch's."""
    torch.manual_seed(0)
    gu.manual_seed(0)
    g = nn.Linear(256, 512).weight.detach().numpy().ravel()
    t = TN.Linear(256, 512).weight.detach().numpy().ravel()
    q = np.linspace(0.01, 0.99, 25)
    np.testing.assert_allclose(np.quantile(g, q), np.quantile(t, q), atol=0.02 / np.sqrt(256) * 3)


@requires_torch
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,), (2, 1, 3, 5), (0, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parity(shape, bias):
    module_parity(nn.Linear(5, 3, bias=bias), TN.Linear(5, 3, bias=bias), rand(*shape))


def test_linear_float32_and_dtype_argument():
    m = nn.Linear(4, 2)
    y = m(gu.randn(3, 4))
    assert y.dtype == gu.float32
    y.sum().backward()
    assert m.weight.grad.dtype == gu.float32 and m.weight.grad.shape == (2, 4)
    m64 = nn.Linear(4, 2, dtype=gu.float64)
    assert m64.weight.dtype == gu.float64 and m64.bias.dtype == gu.float64
    assert nn.Linear(4, 2, device="cpu").weight.shape == (2, 4)


def test_linear_uses_the_fused_op():
    m = nn.Linear(4, 2)
    y = m(gu.randn(2, 3, 4, requires_grad=True))
    assert type(y.grad_fn).__name__ == "Linear"  # one graph node, not transpose + matmul + add


def test_linear_errors():
    m = nn.Linear(4, 2)
    with pytest.raises(RuntimeError, match=r"linear.*\(3, 5\).*5 features.*expects 4"):
        m(gu.randn(3, 5))
    with pytest.raises(RuntimeError, match="dtype"):
        m(gu.randn(3, 4, dtype=gu.float64))
    with pytest.raises(TypeError, match="Linear: in_features"):
        nn.Linear(3.5, 2)
    with pytest.raises(TypeError, match="Linear: out_features"):
        nn.Linear(3, -1)
    with pytest.raises(TypeError, match="floating-point"):
        nn.Linear(3, 2, dtype=gu.int64)


@requires_torch
def test_linear_zero_in_features_like_torch():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = nn.Linear(0, 2)
    assert any("zero-element" in str(x.message) for x in w)
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros(2, np.float32))
    assert m(gu.zeros(3, 0)).shape == (3, 2)


# ------------------------------------------------------------------------------------ Bilinear
BILINEAR_SHAPES = [((6, 3), (6, 4)), ((3,), (4,)), ((2, 5, 3), (2, 5, 4)), ((0, 3), (0, 4))]


@pytest.mark.parametrize("s1,s2", BILINEAR_SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_function_gradcheck_and_parity(s1, s2, bias):
    args = [rand(*s1, seed=1), rand(*s2, seed=2), rand(2, 3, 4, seed=3)] + ([rand(2, seed=4)] if bias else [])
    check_op(gu.bilinear, torch.bilinear if torch else None, *args)
    assert F.bilinear is gu.bilinear


@requires_torch
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module(bias):
    gm, tm = nn.Bilinear(3, 4, 2, bias=bias), TN.Bilinear(3, 4, 2, bias=bias)
    assert_same_layout(gm, tm)
    assert repr(gm) == repr(tm)
    module_parity(gm, tm, rand(7, 3, seed=1), rand(7, 4, seed=2))


def test_bilinear_init_and_float32():
    gu.manual_seed(1)
    m = nn.Bilinear(100, 30, 60)
    assert_uniform(m.weight.detach().numpy(), 1 / np.sqrt(100))
    assert np.all(np.abs(m.bias.detach().numpy()) <= 0.1)
    y = m(gu.randn(4, 100), gu.randn(4, 30))
    assert y.dtype == gu.float32 and y.shape == (4, 60)


def test_bilinear_errors():
    w = gu.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"bilinear\(\): input batch dimensions do not match"):
        gu.bilinear(gu.randn(5, 3), gu.randn(6, 4), w)
    with pytest.raises(RuntimeError, match="input dimensions do not match"):
        gu.bilinear(gu.randn(5, 3), gu.randn(4), w)
    with pytest.raises(RuntimeError, match="input1 size does not match weight size: got 2 but expected 3"):
        gu.bilinear(gu.randn(5, 2), gu.randn(5, 4), w)
    with pytest.raises(RuntimeError, match="input2 size"):
        gu.bilinear(gu.randn(5, 3), gu.randn(5, 5), w)
    with pytest.raises(RuntimeError, match="bias must have shape"):
        gu.bilinear(gu.randn(5, 3), gu.randn(5, 4), w, gu.randn(3))
    with pytest.raises(RuntimeError, match="weight must be 3-D"):
        gu.bilinear(gu.randn(5, 3), gu.randn(5, 4), gu.randn(3, 4))
    with pytest.raises(RuntimeError, match="same dtype"):
        gu.bilinear(gu.randn(5, 3), gu.randn(5, 4), w.double())


# ------------------------------------------------------------------------ Identity / Flatten
@requires_torch
def test_identity_flatten_unflatten():
    x = rand(2, 3, 4, 5)
    assert repr(nn.Identity(54, unused=1)) == repr(TN.Identity(54, unused=1)) == "Identity()"
    i = gu.tensor(x)
    assert nn.Identity()(i) is i
    for args in [(), (0,), (1, 2), (-3, -1), (2, 2)]:
        g, t = nn.Flatten(*args), TN.Flatten(*args)
        assert repr(g) == repr(t)
        check_op(lambda a, g=g: g(a), lambda a, t=t: t(a), x, check_gradcheck=False)
    check_op(nn.Flatten(), TN.Flatten(), x)  # gradcheck once
    for dim, size in [(1, (3, 1)), (-1, [5, 1]), (3, (-1, 5)), (0, (1, 2))]:
        g, t = nn.Unflatten(dim, size), TN.Unflatten(dim, size)
        assert repr(g) == repr(t)
        check_op(lambda a, g=g: g(a), lambda a, t=t: t(a), x, check_gradcheck=False)
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="element of type float at pos 1"):
        nn.Unflatten(1, (2, 3.0))


# -------------------------------------------------------------------------------- activations
# (groundup module, torch module): constructor arguments and reprs must agree
ACT_MODULES = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {"inplace": True}), ("ELU", (), {}), ("ELU", (0.5,), {}),
    ("SELU", (), {}), ("CELU", (2.0,), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (), {}), ("Softplus", (2.0, 3.0), {}), ("Softsign", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}), ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}),
    ("Hardswish", (), {}), ("Sigmoid", (), {}), ("LogSigmoid", (), {}), ("Tanh", (), {}),
    ("Softmax", (1,), {}), ("Softmax", (), {"dim": -1}), ("LogSoftmax", (0,), {}), ("Softmin", (-1,), {}),
    ("Threshold", (0.1, 20.0), {}), ("Threshold", (-0.5, -3), {"inplace": True}), ("Tanhshrink", (), {}),
    ("Softshrink", (), {}), ("Softshrink", (0.3,), {}), ("Hardshrink", (), {}), ("Hardshrink", (1.0,), {}),
    ("GLU", (), {}), ("GLU", (0,), {}), ("Softmax2d", (), {}), ("RReLU", (), {}), ("RReLU", (0.1, 0.3), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.1}),
]
IDS = [f"{n}{a}{k}" for n, a, k in ACT_MODULES]


@requires_torch
@pytest.mark.parametrize("name,args,kwargs", ACT_MODULES, ids=IDS)
def test_activation_module_repr_and_parity(name, args, kwargs):
    gm, tm = getattr(nn, name)(*args, **kwargs), getattr(TN, name)(*args, **kwargs)
    assert repr(gm) == repr(tm)
    assert_same_layout(gm, tm)
    gm.eval()
    tm.eval()  # RReLU is deterministic in eval mode
    x = rand(2, 4, 3, 2, low=-3.0, high=3.0, seed=len(name))
    x[0, 0, 0, 0] = 0.0  # a kink
    module_parity(gm, tm, x)


def test_activation_modules_are_exported_and_keep_float32():
    for name in {n for n, _, _ in ACT_MODULES}:
        if name == "Threshold":
            m = nn.Threshold(0.0, 1.0)
        elif name in ("Softmax", "LogSoftmax", "Softmin"):
            m = getattr(nn, name)(dim=1)
        else:
            m = getattr(nn, name)()
        m.eval()
        x = gu.randn(2, 4, 3, 2, requires_grad=True)
        y = m(x)
        assert y.dtype == gu.float32, name
        y.sum().backward()
        assert x.grad.dtype == gu.float32, name


@pytest.mark.parametrize(
    "fn,tfn",
    [
        (lambda x: act.threshold(x, 0.3, -2.0), lambda x: TN.functional.threshold(x, 0.3, -2.0)),
        (lambda x: act.hardshrink(x, 0.7), lambda x: TN.functional.hardshrink(x, 0.7)),
        (lambda x: act.softshrink(x, 0.7), lambda x: TN.functional.softshrink(x, 0.7)),
        (act.tanhshrink, lambda x: TN.functional.tanhshrink(x)),
        (lambda x: act.glu(x, 1), lambda x: TN.functional.glu(x, 1)),
        (lambda x: act.rrelu(x, 0.1, 0.3), lambda x: TN.functional.rrelu(x, 0.1, 0.3)),
    ],
)
def test_composite_functions_gradcheck_and_parity(fn, tfn):
    x = rand(3, 4, 5, low=-2.0, high=2.0)
    check_op(fn, tfn if torch else None, x)


@requires_torch
def test_composite_kinks_match_torch():
    """Exactly at the switching points the subgradient PyTorch picks is used."""
    x = np.array([-0.5, 0.5, 0.0, -0.3, 0.3, 1.0, -1.0])
    check_op(lambda t: act.softshrink(t, 0.5), lambda t: TN.functional.softshrink(t, 0.5), x, check_gradcheck=False)
    check_op(lambda t: act.hardshrink(t, 0.5), lambda t: TN.functional.hardshrink(t, 0.5), x, check_gradcheck=False)
    check_op(lambda t: act.threshold(t, 0.3, 9.0), lambda t: TN.functional.threshold(t, 0.3, 9.0), x, check_gradcheck=False)
    w = np.array([0.25])
    check_op(act.prelu, TN.functional.prelu, x, w, check_gradcheck=False)


@pytest.mark.parametrize("shape,nw", [((3, 4, 5), 4), ((3, 4), 4), ((6,), 1), ((2, 3, 2, 2), 1), ((2, 3, 2, 2), 3)])
def test_prelu_function_gradcheck_and_parity(shape, nw):
    x = rand(*shape, seed=5)
    w = rand(nw, seed=6, low=0.0, high=0.5)
    check_op(act.prelu, TN.functional.prelu if torch else None, x, w)


@requires_torch
def test_prelu_module_weight_grad_and_errors():
    gm, tm = nn.PReLU(3), TN.PReLU(3)
    module_parity(gm, tm, rand(4, 3, 5, seed=2))
    assert gm.weight.grad is not None and gm.weight.grad.shape == (3,)
    with pytest.raises(RuntimeError, match="Found parameter numbers = 3 and channel size = 4"):
        nn.PReLU(3)(gu.randn(2, 4))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        nn.PReLU(3)(gu.randn(3))


def test_rrelu_training_draws_slopes_in_range():
    gu.manual_seed(0)
    m = nn.RReLU(0.1, 0.3)
    x = -gu.rand(1000) - 0.5  # all negative
    y = m(x)
    slopes = (y / x).numpy()
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03
    pos = gu.rand(10) + 0.1
    np.testing.assert_array_equal(m(pos).numpy(), pos.numpy())
    m.eval()
    np.testing.assert_allclose((m(x) / x).numpy(), 0.2, rtol=1e-6)


def test_activation_inplace_modules_write_into_the_input():
    x = gu.tensor([-1.0, 2.0, -3.0])
    y = nn.ReLU(inplace=True)(x)
    assert y is x and x.tolist() == [0.0, 2.0, 0.0]
    x = gu.tensor([-1.0, 2.0, -3.0])
    assert nn.Threshold(0.0, 5.0, inplace=True)(x) is x and x.tolist() == [5.0, 2.0, 5.0]
    # while recording, the op runs out of place so the graph stays valid
    x = gu.tensor([-1.0, 2.0], requires_grad=True)
    y = nn.LeakyReLU(0.1, inplace=True)(x)
    assert y is not x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 1.0])


def test_softmax_module_dim_none_warns_like_torch():
    x = gu.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.sum(1).numpy(), np.ones(2), rtol=1e-6)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(x)


def test_activation_argument_errors():
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(2\)"):
        nn.Hardtanh(2, 1)
    with pytest.raises(RuntimeError, match="softshrink: lambda must be in range"):
        nn.Softshrink(-1.0)(gu.randn(3))
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        nn.GLU(1)(gu.randn(2, 3))
    with pytest.raises(TypeError, match="threshold: expected a Tensor"):
        nn.Threshold(0.0, 1.0)(np.zeros(3))
    with pytest.raises(TypeError, match="PReLU: num_parameters"):
        nn.PReLU(0)
