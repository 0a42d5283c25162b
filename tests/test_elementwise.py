"""Elementwise ops: gradcheck and PyTorch parity over broadcasting shapes, extremes, dtypes, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import groundup as gu
from tests.helpers import check_op, rand, requires_torch, torch

# shape pairs: equal, broadcast either way, size-1 dims, 0-d, extra leading dims
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((2, 1, 4), (3, 1)), ((), (3,)), ((3,), ()),
          ((), ()), ((1, 3), (2, 1))]

BINARY = {
    "add": (lambda a, b: a + b, None),
    "sub": (lambda a, b: a - b, None),
    "rsub": (lambda a, b: 2.5 - a * b, None),
    "mul": (lambda a, b: a * b, None),
    "div": (lambda a, b: a / b, dict(positive_b=True)),
    "rdiv": (lambda a, b: 3.0 / b + a, dict(positive_b=True)),
    "pow": (lambda a, b: a**b, dict(positive_a=True)),
    "rpow": (lambda a, b: 2.0**a * b, None),
    "maximum": (lambda a, b: a.maximum(b), None),
    "minimum": (lambda a, b: a.minimum(b), None),
    "remainder": (lambda a, b: a % b, dict(positive_b=True)),
    "add_alpha": (lambda a, b: a.add(b, alpha=0.5), None),
    "sub_alpha": (lambda a, b: a.sub(b, alpha=2), None),
}


def _tfn(name, fn):
    if name in ("maximum", "minimum"):
        return lambda a, b: getattr(torch, name)(a, b)
    return fn


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops(name, shapes):
    fn, opts = BINARY[name]
    opts = opts or {}
    a = rand(*shapes[0], seed=1, positive=opts.get("positive_a", False))
    b = rand(*shapes[1], seed=2, positive=opts.get("positive_b", False))
    check_op(fn, _tfn(name, fn), a, b)


UNARY = {
    "neg": (lambda x: -x, False),
    "abs": (lambda x: x.abs(), False),
    "exp": (lambda x: x.exp(), False),
    "log": (lambda x: x.log(), True),
    "log1p": (lambda x: x.log1p(), True),
    "sqrt": (lambda x: x.sqrt(), True),
    "rsqrt": (lambda x: x.rsqrt(), True),
    "square": (lambda x: x.square(), False),
    "reciprocal": (lambda x: x.reciprocal(), True),
    "sin": (lambda x: x.sin(), False),
    "cos": (lambda x: x.cos(), False),
    "tanh": (lambda x: x.tanh(), False),
    "sigmoid": (lambda x: x.sigmoid(), False),
    "relu": (lambda x: x.relu(), False),
    "clamp": (lambda x: x.clamp(-0.5, 0.7), False),
    "clamp_min": (lambda x: x.clamp(min=0.1), False),
    "clamp_max": (lambda x: x.clamp(max=-0.1), False),
    "sign_times": (lambda x: x.sign() * x, False),
    "floor_plus": (lambda x: x.floor() + x, False),
    "ceil_times": (lambda x: x.ceil() * x, False),
    "round_times": (lambda x: x.round() * x, False),
    "pow_scalar": (lambda x: x**3, False),
    "pow_half": (lambda x: x**0.5, True),
    "pow_neg": (lambda x: x**-2, True),
}


@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (1, 1)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name, shape):
    fn, positive = UNARY[name]
    x = rand(*shape, seed=3, positive=positive)
    if name in ("clamp", "clamp_min", "clamp_max", "round_times", "floor_plus", "ceil_times"):
        x = x + 0.0123  # keep away from kinks so finite differences are meaningful
    check_op(fn, fn, x)


def test_where_grad_and_broadcast():
    a, b = rand(3, 4, seed=1), rand(4, seed=2)
    cond = rand(3, 1, seed=3) > 0
    check_op(lambda a, b, c: gu.where(c, a, b), lambda a, b, c: torch.where(c, a, b) if torch else None,
             a, b, cond)


def test_clamp_with_tensor_bounds():
    x, lo, hi = rand(3, 4, seed=1), rand(4, seed=2) - 0.5, rand(3, 1, seed=3, positive=True)
    check_op(lambda x, lo, hi: x.clamp(lo, hi), lambda x, lo, hi: x.clamp(lo, hi), x, lo, hi)


@requires_torch
def test_maximum_minimum_ties_split_gradient_like_torch():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 5.0, 3.0])
    check_op(lambda a, b: a.maximum(b), lambda a, b: torch.maximum(a, b), a, b, check_gradcheck=False)
    check_op(lambda a, b: a.minimum(b), lambda a, b: torch.minimum(a, b), a, b, check_gradcheck=False)


@requires_torch
def test_relu_abs_clamp_at_kinks_match_torch():
    x = np.array([-1.0, 0.0, 1.0, -0.5, 0.5])
    for fn in (lambda t: t.relu(), lambda t: t.abs(), lambda t: t.clamp(-0.5, 0.5), lambda t: t.sign()):
        check_op(fn, fn, x, check_gradcheck=False)


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_backward_selects_like_torch_threshold_backward(dtype):
    """ReLU's backward is a select, not a product: g passes where the output is > 0 or NaN, and is
    exactly +0 elsewhere even when g is inf or NaN (g · 0 would give NaN there)."""
    x = np.array([-1.0, 0.0, -0.0, 2.0, np.nan, -np.inf, np.inf, 3.0, -2.0, 0.5], dtype=dtype)
    up = np.array([np.inf, np.nan, 1.0, np.nan, 5.0, -np.inf, -2.0, -np.inf, np.nan, 0.25], dtype=dtype)
    g, t = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g.relu().backward(gu.tensor(up))
    t.relu().backward(torch.tensor(up))
    np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    assert g.grad.dtype.name == dtype and not np.signbit(g.grad.numpy()[[0, 1, 2, 5, 8]]).any()


@requires_torch
def test_pow_special_cases_match_torch():
    base = np.array([0.0, 0.0, 2.0, -2.0, 0.0])
    exp_ = np.array([0.0, 2.0, 0.0, 2.0, 0.5])
    check_op(lambda a, b: a**b, lambda a, b: a**b, base, exp_, check_gradcheck=False, atol=1e-12)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extremes_and_nonfinite_match_torch(dtype):
    vals = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0, np.inf, -np.inf, np.nan], dtype=dtype)
    for name in ("sigmoid", "tanh", "exp", "relu", "abs", "neg"):
        g = gu.tensor(vals, requires_grad=True)
        t = torch.tensor(vals, requires_grad=True)
        go, to = getattr(g, name)(), getattr(t, name)()
        np.testing.assert_allclose(go.detach().numpy(), to.detach().numpy(), rtol=1e-6, equal_nan=True)
        up = np.linspace(0.5, 1.5, vals.size).astype(dtype)
        go.backward(gu.tensor(up))
        to.backward(torch.tensor(up))
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-6, equal_nan=True, err_msg=name)
        assert go.dtype.name == dtype and g.grad.dtype.name == dtype


def test_sigmoid_is_stable_at_1000():
    x = gu.tensor([-1000.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    assert y.tolist() == [0.0, 1.0]
    y.backward(gu.ones(2))
    assert np.all(np.isfinite(x.grad.numpy()))


@requires_torch
@pytest.mark.parametrize(
    "op", ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"]
)
def test_comparisons_and_logic(op):
    a, b = rand(3, 4, seed=1).round(), rand(4, seed=2).round()
    ga, gb, ta, tb = gu.tensor(a), gu.tensor(b), torch.tensor(a), torch.tensor(b)
    g = getattr(ga, op)(gb)
    t = getattr(ta, op)(tb)
    assert g.dtype is gu.bool and not g.requires_grad
    np.testing.assert_array_equal(g.numpy(), t.numpy())


@requires_torch
def test_operators_on_bool_and_int():
    a = np.array([True, False, True])
    b = np.array([True, True, False])
    for fn in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y, lambda x, y: ~x):
        np.testing.assert_array_equal(fn(gu.tensor(a), gu.tensor(b)).numpy(), fn(torch.tensor(a), torch.tensor(b)).numpy())
    i, j = np.array([5, -7, 9]), np.array([2, 3, -4])
    for fn in (lambda x, y: x // y, lambda x, y: x % y, lambda x, y: x & y, lambda x, y: x * y - y,
               lambda x, y: x.div(y, rounding_mode="trunc"), lambda x, y: x / y, lambda x, y: -x, lambda x, y: x.abs()):
        g, t = fn(gu.tensor(i), gu.tensor(j)), fn(torch.tensor(i), torch.tensor(j))
        assert g.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(g.numpy(), t.numpy())


def test_float_ops_on_int_tensors_give_default_float():
    assert gu.tensor([1, 4]).sqrt().dtype is gu.float32
    assert gu.tensor([1, 4]).exp().dtype is gu.float32


def test_isnan_isinf_isfinite_allclose():
    t = gu.tensor([1.0, float("nan"), float("inf")])
    assert t.isnan().tolist() == [False, True, False]
    assert t.isinf().tolist() == [False, False, True]
    assert t.isfinite().tolist() == [True, False, False]
    assert gu.tensor([1.0, 2.0]).allclose(gu.tensor([1.0, 2.0 + 1e-9]))
    assert gu.tensor([1, 2]).equal(gu.tensor([1, 2])) and not gu.tensor([1]).equal(gu.tensor([1, 2]))


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add: shapes \(3, 4\), \(5,\) cannot be broadcast"):
        gu.ones(3, 4) + gu.ones(5)
    with pytest.raises(RuntimeError, match=r"mul: shapes \(2, 3\), \(3, 2\)"):
        gu.ones(2, 3) * gu.ones(3, 2)


def test_other_errors():
    with pytest.raises(RuntimeError, match="clamp: at least one"):
        gu.ones(2).clamp()
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        gu.where(gu.ones(2), gu.ones(2), gu.zeros(2))
    with pytest.raises(TypeError, match="sub: subtraction with bool"):
        gu.tensor([True]) - gu.tensor([False])
    with pytest.raises(RuntimeError, match="pow: integers to negative integer powers"):
        gu.tensor([2]) ** -1
    with pytest.raises(TypeError, match="expected a Tensor or a number"):
        gu.ones(2) + "a"


# ----------------------------------------------------------------------- property tests
@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    op=st.sampled_from(["add", "sub", "mul", "div", "maximum"]),
    seed=st.integers(0, 2**16),
)
def test_property_binary_ops_broadcast_like_torch(shapes, op, seed):
    fns = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "maximum": lambda a, b: a.maximum(b),
    }
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, shapes.input_shapes[0])
    b = rng.uniform(0.5, 2, shapes.input_shapes[1]) * rng.choice([-1, 1], shapes.input_shapes[1])
    tf = fns[op] if op != "maximum" else (lambda x, y: torch.maximum(x, y))
    check_op(fns[op], tf if torch else None, a, b, check_gradcheck=False)
    # gradients reduce back to each input's own shape
    ga = gu.tensor(a, requires_grad=True)
    gb = gu.tensor(b, requires_grad=True)
    out = fns[op](ga, gb)
    out.backward(gu.ones(tuple(out.shape), dtype=gu.float64))
    assert ga.grad.shape == a.shape and gb.grad.shape == b.shape


@settings(max_examples=30, deadline=None)
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                 elements=st.floats(-30, 30)),
    op=st.sampled_from(["exp", "tanh", "sigmoid", "relu", "abs", "sin"]),
)
def test_property_unary_ops_match_torch(x, op):
    fn = lambda t: getattr(t, op)()  # noqa: E731
    check_op(fn, fn if torch else None, x, check_gradcheck=False, rtol=1e-6, atol=1e-9)
