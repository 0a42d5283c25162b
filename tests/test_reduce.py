"""Reductions: gradcheck and PyTorch parity over (shape, dim, keepdim), ties, zeros, extremes,
dtypes, call forms and errors, plus hypothesis properties over random shapes and dim subsets."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import groundup as gu
from tests.helpers import check_op, rand, requires_torch, torch

INF = float("inf")

# (shape, dim): 0-d, size-1 dims, negative dims, tuple and list dims, all dims
SHAPE_DIMS = [
    ((), None), ((), 0), ((), -1), ((), ()),
    ((5,), 0), ((1,), None), ((1,), -1),
    ((3, 4), 1), ((3, 4), -2), ((3, 4), (0, 1)), ((3, 4), None),
    ((2, 1, 3), (0, 2)), ((2, 1, 3), 1), ((2, 3, 4), (-1, 0)), ((4, 1), [0]),
]
# single-int dims only (argmax, cumsum, max/min with dim)
SHAPE_DIM = [((), 0), ((), -1), ((5,), 0), ((1,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 1, 3), 1), ((2, 3, 4), -1)]
KEEP = [False, True]


def _all_dims(shape, dim):
    """The dims as a tuple torch accepts everywhere (None and () become every dim)."""
    if dim is None or dim == () or dim == []:
        return tuple(range(len(shape))) if shape else (0,)
    return dim


# ------------------------------------------------------------------------------- sum / mean
@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS, ids=str)
def test_sum(shape, dim, keepdim):
    fn = lambda x: x.sum(dim, keepdim)  # noqa: E731  (same call in both libraries)
    check_op(fn, fn, rand(*shape, seed=3))


@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS, ids=str)
def test_mean(shape, dim, keepdim):
    fn = lambda x: x.mean(dim, keepdim)  # noqa: E731
    check_op(fn, fn, rand(*shape, seed=4))


def test_functional_forms_match_methods():
    x = rand(2, 3, seed=5)
    check_op(lambda t: gu.sum(t, dim=1, keepdim=True), lambda t: torch.sum(t, dim=1, keepdim=True), x)
    check_op(lambda t: gu.mean(t, (0, 1)), lambda t: torch.mean(t, (0, 1)), x)
    check_op(lambda t: (t * t).sum() + t.mean(0).sum(), lambda t: (t * t).sum() + t.mean(0).sum(), x)


@requires_torch
def test_sum_mean_empty():
    for shape, dim in [((0, 3), 0), ((0, 3), 1), ((2, 0), None)]:
        x = np.zeros(shape)
        for name in ("sum", "mean"):
            fn = lambda t, name=name, dim=dim: getattr(t, name)(dim)  # noqa: E731
            check_op(fn, fn, x, check_gradcheck=False)


@requires_torch
@pytest.mark.parametrize("np_dtype", [np.int32, np.int64, np.uint8, np.bool_])
def test_integer_sum_prod_cumsum_give_int64(np_dtype):
    a = np.array([[1, 0, 3], [2, 2, 1]], dtype=np_dtype)
    for call in (lambda m, t: t.sum(), lambda m, t: t.sum(1, True), lambda m, t: t.prod(),
                 lambda m, t: t.cumsum(0), lambda m, t: m.prod(t, 1)):
        g, t = call(gu, gu.tensor(a)), call(torch, torch.tensor(a))
        assert g.dtype == gu.int64 == gu.as_tensor(t.numpy()).dtype
        np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_sum_dtype_argument():
    a = np.array([1, 2, 3], dtype=np.int32)
    assert gu.tensor(a).sum(dtype=gu.int32).dtype == gu.int32
    s = gu.tensor(a).sum(dtype=gu.float32)
    assert s.dtype == gu.float32 and s.item() == 6.0
    x = gu.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = x.sum(dtype=gu.float64)
    assert y.dtype == gu.float64
    y.backward()
    assert x.grad.dtype == gu.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


def test_mean_integer_input_errors_and_dtype():
    x = gu.tensor([1, 2, 4])
    with pytest.raises(RuntimeError, match=r"mean: could not infer output dtype.*int64"):
        x.mean()
    with pytest.raises(RuntimeError, match="mean: could not infer output dtype"):
        gu.tensor([1.0, 2.0]).mean(dtype=gu.int64)
    m = x.mean(dtype=gu.float64)
    assert m.dtype == gu.float64 and m.item() == pytest.approx(7 / 3)


FLOAT32_OPS = {
    "sum": lambda x: x.sum(1),
    "mean": lambda x: x.mean((0, 1), keepdim=True),
    "prod": lambda x: x.prod(0),
    "max": lambda x: x.max(),
    "max_dim": lambda x: x.max(1)[0],
    "amin": lambda x: x.amin(0),
    "var": lambda x: x.var(1),
    "std": lambda x: x.std(0, correction=0),
    "logsumexp": lambda x: x.logsumexp(1),
    "cumsum": lambda x: x.cumsum(1),
    "norm": lambda x: x.norm(),
    "norm3": lambda x: x.norm(3, 1),
    "norm_inf": lambda x: x.norm(INF, 0),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32(name):
    fn = FLOAT32_OPS[name]
    a = rand(3, 4, seed=6).astype(np.float32)
    x = gu.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, ty = fn(x), fn(t)
    assert y.dtype == gu.float32
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=2e-5, atol=1e-6)
    v = rand(*ty.shape, seed=7).astype(np.float32)
    y.backward(gu.tensor(v))
    ty.backward(torch.tensor(v))
    assert x.grad.dtype == gu.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=2e-5, atol=1e-6)


@requires_torch
def test_float16_accumulates_in_float32_like_torch():
    a = np.full((100, 50), 0.1, dtype=np.float16)
    for call in (lambda t: t.sum(0), lambda t: t.mean(0), lambda t: t.var(0), lambda t: t.sum()):
        g, t = call(gu.tensor(a)), call(torch.tensor(a))
        assert g.dtype == gu.float16
        np.testing.assert_allclose(g.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=1e-3)


# ------------------------------------------------------------------------------------- prod
@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", [s for s in SHAPE_DIMS if not isinstance(s[1], (tuple, list))], ids=str)
def test_prod(shape, dim, keepdim):
    gfn = lambda x: x.prod(dim, keepdim)  # noqa: E731
    tfn = (lambda x: x.prod()) if dim is None else gfn
    if dim is None and keepdim:
        tfn = lambda x: x.prod().reshape((1,) * x.ndim)  # noqa: E731
    check_op(gfn, tfn, rand(*shape, seed=8))


def test_prod_tuple_dims():
    x = rand(2, 3, 2, seed=9)
    check_op(lambda t: t.prod((0, 2)), lambda t: t.prod(2).prod(0), x)


PROD_ZEROS = {
    "one zero": np.array([[0.0, 2.0, 3.0], [1.5, -2.0, 0.5]]),
    "two zeros in a row": np.array([[0.0, 2.0, 0.0], [1.5, -2.0, 0.5]]),
    "all zeros": np.zeros((2, 3)),
    "zeros in different rows": np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.5]]),
}


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("case", sorted(PROD_ZEROS))
def test_prod_gradient_with_zeros(case, dim):
    gfn = lambda x: x.prod(dim)  # noqa: E731
    tfn = (lambda x: x.prod()) if dim is None else gfn
    x = PROD_ZEROS[case]
    check_op(gfn, tfn, x)
    g = gu.tensor(x, requires_grad=True)
    gfn(g).sum().backward()
    assert np.isfinite(g.grad.numpy()).all()


def test_prod_gradient_with_one_zero_is_product_of_the_rest():
    x = gu.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 24.0, 0.0, 0.0])


# ------------------------------------------------------------------- max / min / amax / amin
@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", SHAPE_DIMS, ids=str)
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin(op, shape, dim, keepdim):
    fn = lambda x: getattr(x, op)(dim, keepdim)  # noqa: E731
    tfn = lambda x: getattr(x, op)(_all_dims(shape, dim), keepdim)  # noqa: E731
    check_op(fn, tfn, rand(*shape, seed=10))


@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", SHAPE_DIM, ids=str)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, shape, dim, keepdim):
    fn = lambda x: getattr(x, op)(dim, keepdim)  # noqa: E731  (values, indices)
    check_op(fn, fn, rand(*shape, seed=11))


@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 1, 3)], ids=str)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_all(op, shape):
    fn = lambda x: getattr(x, op)()  # noqa: E731
    check_op(fn, fn, rand(*shape, seed=12))
    check_op(lambda x: getattr(gu, op)(x), lambda x: getattr(torch, op)(x), rand(*shape, seed=13))


TIES = np.array([[1.0, 3.0, 3.0, 2.0], [3.0, 3.0, 3.0, 3.0], [-1.0, 0.5, -1.0, 0.5]])
TIE_CALLS = {
    "max()": lambda x: x.max(),
    "min()": lambda x: x.min(),
    "max(1)": lambda x: x.max(1),
    "min(1)": lambda x: x.min(1, keepdim=True),
    "max(0)": lambda x: x.max(0),
    "amax(1)": lambda x: x.amax(1),
    "amin(0)": lambda x: x.amin(0),
    "amax()": lambda x: x.amax(),
    "amin((0,1),keep)": lambda x: x.amin((0, 1), True),
    "argmax(1)": lambda x: x.argmax(1).double() + x.sum(),
    "argmin(1)": lambda x: x.argmin(1).double() + x.sum(),
    "argmax()": lambda x: x.argmax().double() + x.sum(),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(TIE_CALLS))
def test_ties_gradient_placement_matches_torch(name):
    """Full max/amax share a tie's gradient evenly; max(dim) gives it to the first index."""
    fn = TIE_CALLS[name]
    check_op(fn, fn, TIES, check_gradcheck=False)


def test_max_dim_tie_goes_to_first_index():
    x = gu.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    values, indices = x.max(1)
    assert indices.tolist() == [1]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0]])
    y = gu.tensor([2.0, 5.0, 5.0, 1.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


@requires_torch
@pytest.mark.parametrize("call", ["max()", "amax()", "max(0)", "min(0)", "amin(0)"])
def test_nan_handling_matches_torch(call):
    fn = {"max()": lambda x: x.max(), "amax()": lambda x: x.amax(), "max(0)": lambda x: x.max(0),
          "min(0)": lambda x: x.min(0), "amin(0)": lambda x: x.amin(0)}[call]
    x = np.array([np.nan, 1.0, np.nan, 2.0])
    check_op(fn, fn, x, check_gradcheck=False)


def test_max_return_type():
    x = gu.tensor([[1.0, 5.0], [7.0, 2.0]])
    r = x.max(1)
    assert isinstance(r, tuple) and type(r).__name__ == "max" and len(r) == 2
    values, indices = r
    assert r.values is values and r.indices is indices
    assert indices.dtype == gu.int64 and indices.tolist() == [1, 0]
    assert "values=" in repr(r) and "indices=" in repr(r)
    assert type(gu.min(x, 0)).__name__ == "min"
    r2 = pickle.loads(pickle.dumps(r))
    assert r2.values.tolist() == values.tolist() and type(r2) is type(r)


@requires_torch
def test_max_min_with_other_tensor_is_elementwise():
    a, b = rand(2, 3, seed=14), rand(3, seed=15)
    check_op(lambda x, y: gu.max(x, y), lambda x, y: torch.max(x, y), a, b)
    check_op(lambda x, y: gu.min(x, y), lambda x, y: torch.min(x, y), a, b)


@requires_torch
@pytest.mark.parametrize("np_dtype", [np.int32, np.int64, np.bool_])
def test_max_min_integer_inputs(np_dtype):
    a = np.array([[1, 0, 3], [3, 2, 1]]).astype(np_dtype)
    for call in (lambda t: t.max(), lambda t: t.min(), lambda t: t.amax(0), lambda t: t.amin(1, True)):
        g, t = call(gu.tensor(a)), call(torch.tensor(a))
        assert g.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(g.numpy(), t.numpy())
    for name in ("max", "min"):
        (gv, gi), (tv, ti) = getattr(gu.tensor(a), name)(1), getattr(torch.tensor(a), name)(1)
        np.testing.assert_array_equal(gv.numpy(), tv.numpy())
        np.testing.assert_array_equal(gi.numpy(), ti.numpy())
        assert gv.dtype.name == str(tv.dtype).replace("torch.", "")


@requires_torch
def test_max_amax_empty():
    x = np.zeros((0, 3))
    check_op(lambda t: t.max(1), lambda t: t.max(1), x, check_gradcheck=False)
    check_op(lambda t: t.amax(1), lambda t: t.amax(1), x, check_gradcheck=False)
    check_op(lambda t: t.argmax(1), lambda t: t.argmax(1), x, grad=False)


# ---------------------------------------------------------------------------- argmax/argmin
@requires_torch
@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", SHAPE_DIM + [((), None), ((3, 4), None), ((2, 1, 3), None)], ids=str)
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op, shape, dim, keepdim):
    a = rand(*shape, seed=16)
    g = getattr(gu.tensor(a), op)(dim, keepdim)
    t = getattr(torch.tensor(a), op)(dim, keepdim)
    assert g.dtype == gu.int64 and not g.requires_grad
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_argmax_first_occurrence():
    x = gu.tensor([[1.0, 4.0, 4.0], [0.0, 0.0, -1.0]])
    assert x.argmax(1).tolist() == [1, 0]
    assert x.argmin(1).tolist() == [0, 2]
    assert x.argmax().item() == 1
    assert gu.argmin(gu.tensor([2, 1, 1])).item() == 1


# ------------------------------------------------------------------------------- var / std
VAR_DIMS = [((4,), 0), ((3, 4), 1), ((3, 4), -2), ((3, 4), (0, 1)), ((3, 4), None), ((2, 1, 5), (0, 2)),
            ((2, 3, 4), [-1])]


@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", VAR_DIMS, ids=str)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_default(op, shape, dim, keepdim):
    fn = lambda x: getattr(x, op)(dim, keepdim=keepdim)  # noqa: E731
    check_op(fn, fn, rand(*shape, seed=17))


@pytest.mark.parametrize("kw", [dict(correction=0), dict(correction=1), dict(correction=2), dict(correction=0.5),
                                dict(unbiased=True), dict(unbiased=False)], ids=str)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_correction(op, kw):
    fn = lambda x: getattr(x, op)(1, keepdim=True, **kw)  # noqa: E731
    check_op(fn, fn, rand(3, 5, seed=18))
    fn_all = lambda x: getattr(x, op)(**kw)  # noqa: E731
    check_op(fn_all, fn_all, rand(2, 3, seed=19))


@requires_torch
def test_var_call_forms():
    a = rand(3, 4, seed=20)
    g, t = gu.tensor(a), torch.tensor(a)
    for call in (lambda x: x.var(0, keepdim=True), lambda x: x.var(dim=1, correction=0),
                 lambda x: x.var(0, True), lambda x: x.var(0, False, True), lambda x: x.var(False),
                 lambda x: x.var(), lambda x: x.std(1, unbiased=False), lambda x: x.std(True),
                 lambda x: x.std(dim=(0, 1), correction=2, keepdim=True)):
        np.testing.assert_allclose(call(g).numpy(), call(t).numpy(), rtol=1e-12)
    for name in ("var", "std"):
        np.testing.assert_allclose(getattr(gu, name)(g, 1, correction=0).numpy(),
                                   getattr(torch, name)(t, 1, correction=0).numpy(), rtol=1e-12)
        v, m = getattr(gu, f"{name}_mean")(g, 1, keepdim=True)
        tv, tm = getattr(torch, f"{name}_mean")(t, 1, keepdim=True)
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-12)
        np.testing.assert_allclose(m.numpy(), tm.numpy(), rtol=1e-12)


@requires_torch
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("case", ["constant", "one element", "dof zero", "dof negative", "0-d", "empty"])
def test_var_std_degenerate_match_torch(op, case):
    """std of a constant has gradient 0 (not nan), n <= correction gives inf/nan, as torch."""
    x, kw = {"constant": (np.full((2, 3), 2.0), dict(dim=1)), "one element": (np.array([2.0]), {}),
             "dof zero": (np.array([2.0, 5.0]), dict(correction=2)),
             "dof negative": (np.array([2.0, 5.0]), dict(correction=3)),
             "0-d": (np.array(1.5), dict(correction=0)), "empty": (np.zeros((0, 2)), dict(dim=0))}[case]
    fn = lambda t: getattr(t, op)(**kw)  # noqa: E731
    if case in ("dof zero", "dof negative"):  # torch's own gradient there is inconsistent; compare values
        np.testing.assert_allclose(fn(gu.tensor(x)).numpy(), fn(torch.tensor(x)).numpy())
        return
    check_op(fn, fn, x, check_gradcheck=False)


def test_std_of_constant_has_zero_gradient():
    x = gu.tensor([3.0, 3.0, 3.0], requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


# ------------------------------------------------------------------------------ logsumexp
LSE_DIMS = [((), 0), ((5,), 0), ((1,), -1), ((3, 4), 1), ((3, 4), -2), ((3, 4), (0, 1)), ((2, 1, 3), (0, 2)),
            ((2, 3, 4), [-1, 0])]


@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", LSE_DIMS, ids=str)
def test_logsumexp(shape, dim, keepdim):
    fn = lambda x: x.logsumexp(dim, keepdim)  # noqa: E731
    check_op(fn, fn, rand(*shape, seed=21))


@pytest.mark.parametrize("offset", [1000.0, -1000.0])
def test_logsumexp_large_magnitude(offset):
    x = rand(3, 4, seed=22) + offset
    fn = lambda t: t.logsumexp(1)  # noqa: E731
    check_op(fn, fn, x)
    out = gu.logsumexp(gu.tensor(x), 1).numpy()
    m = x.max(1)
    np.testing.assert_allclose(out, m + np.log(np.exp(x - m[:, None]).sum(1)), rtol=1e-12)


@requires_torch
def test_logsumexp_infinities():
    x = np.array([[-INF, 1.0, 2.0], [-INF, -INF, -INF], [INF, 0.0, -INF], [-INF, 0.5, -INF]])
    fn = lambda t: t.logsumexp(1)  # noqa: E731
    check_op(fn, fn, x, check_gradcheck=False)
    out = gu.tensor(x).logsumexp(1).numpy()
    assert out[1] == -INF and out[2] == INF and out[3] == 0.5
    check_op(fn, fn, x[[0, 3]])  # rows with a finite value: gradcheck works with -inf entries


@requires_torch
def test_logsumexp_integer_input_and_empty():
    g, t = gu.tensor([1, 2, 3]).logsumexp(0), torch.tensor([1, 2, 3]).logsumexp(0)
    assert g.dtype == gu.float32
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)
    check_op(lambda x: x.logsumexp(0), lambda x: x.logsumexp(0), np.zeros((0, 3)), check_gradcheck=False)


# ---------------------------------------------------------------------------------- cumsum
@pytest.mark.parametrize("shape,dim", SHAPE_DIM, ids=str)
def test_cumsum(shape, dim):
    fn = lambda x: x.cumsum(dim)  # noqa: E731
    check_op(fn, fn, rand(*shape, seed=23))
    check_op(lambda x: gu.cumsum(x, dim=dim), lambda x: torch.cumsum(x, dim=dim), rand(*shape, seed=24))


@requires_torch
def test_cumsum_dtype():
    a = np.array([[1, 2], [3, 4]], dtype=np.int32)
    g = gu.tensor(a).cumsum(1, dtype=gu.float32)
    assert g.dtype == gu.float32
    np.testing.assert_array_equal(g.numpy(), torch.tensor(a).cumsum(1, dtype=torch.float32).numpy())
    assert gu.tensor(np.array(3, dtype=np.int32)).cumsum(0).dtype == gu.int64


# ------------------------------------------------------------------------------------ norms
NORM_PS = ["fro", 2, 1, INF, -INF, 0, 3, 1.5, 0.5, -1, None]
NORM_DIMS = [((5,), None), ((3, 4), 1), ((3, 4), (0, 1)), ((2, 1, 3), -1), ((), None)]


def _norm_ok_for_gradcheck(p):
    return p not in (0,)


@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("shape,dim", NORM_DIMS, ids=str)
@pytest.mark.parametrize("p", NORM_PS, ids=str)
def test_norm(p, shape, dim, keepdim):
    fn = lambda x: x.norm(p, dim, keepdim)  # noqa: E731
    check_op(fn, fn, rand(*shape, seed=25), check_gradcheck=_norm_ok_for_gradcheck(p))


@pytest.mark.parametrize("keepdim", KEEP)
@pytest.mark.parametrize("ord", [2, 1, INF, -INF, 0, 4, 0.5, -2], ids=str)
def test_vector_norm(ord, keepdim):
    gfn = lambda x: gu.vector_norm(x, ord, (0, -1), keepdim)  # noqa: E731
    tfn = lambda x: torch.linalg.vector_norm(x, ord, (0, -1), keepdim)  # noqa: E731
    check_op(gfn, tfn, rand(2, 3, 2, seed=26), check_gradcheck=ord != 0)
    check_op(lambda x: gu.vector_norm(x, ord), lambda x: torch.linalg.vector_norm(x, ord), rand(4, seed=27),
             check_gradcheck=ord != 0)


@requires_torch
@pytest.mark.parametrize("p", NORM_PS, ids=str)
@pytest.mark.parametrize("x", [np.zeros(3), np.array([0.0, 1.0, -1.0]), np.array([[0.0, 0.0], [3.0, -3.0]])],
                         ids=["zero vector", "with a zero", "tie and zero row"])
def test_norm_at_zero_and_ties_matches_torch(p, x):
    """No nan at the zero vector; at ties and zeros the gradient is torch's."""
    fn = lambda t: t.norm(p, -1)  # noqa: E731
    check_op(fn, fn, x, check_gradcheck=False)
    g = gu.tensor(x, requires_grad=True)
    fn(g).sum().backward()
    assert not np.isnan(g.grad.numpy()).any()


@requires_torch
def test_norm_dtype_and_empty():
    a = rand(3, 4, seed=28).astype(np.float32)
    g = gu.tensor(a).norm(dtype=gu.float64)
    assert g.dtype == gu.float64
    np.testing.assert_allclose(g.numpy(), torch.tensor(a).norm(dtype=torch.float64).numpy(), rtol=1e-12)
    assert gu.vector_norm(gu.tensor(a), dtype=gu.float64).dtype == gu.float64
    check_op(lambda x: x.norm(dim=0), lambda x: x.norm(dim=0), np.zeros((0, 3)), check_gradcheck=False)


# ------------------------------------------------------------------------ all / any / count
LOGIC_INPUTS = {
    "bool": np.array([[True, False, True], [True, True, True]]),
    "float": np.array([[0.0, 1.5, 2.0], [3.0, 1.0, -1.0]]),
    "int": np.array([[0, 1, 2], [0, 0, 0]]),
    "uint8": np.array([[1, 2, 0], [4, 5, 6]], dtype=np.uint8),
    "0-d": np.array(0.0),
}


@requires_torch
@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (0, False), (-1, True), ((0, 1), False),
                                         ((), False)], ids=str)
@pytest.mark.parametrize("kind", sorted(LOGIC_INPUTS))
def test_all_any(kind, dim, keepdim):
    a = LOGIC_INPUTS[kind]
    if a.ndim == 0 and isinstance(dim, tuple) and dim:
        dim = (0,)
    for name in ("all", "any"):
        g = getattr(gu.tensor(a), name)(dim, keepdim) if dim is not None else getattr(gu.tensor(a), name)(keepdim=keepdim)
        t = (getattr(torch.tensor(a), name)(dim, keepdim) if dim is not None
             else getattr(torch.tensor(a), name)(dim=None, keepdim=keepdim))
        assert g.dtype.name == str(t.dtype).replace("torch.", "")
        assert tuple(g.shape) == tuple(t.shape)
        np.testing.assert_array_equal(g.numpy(), t.numpy())


@requires_torch
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 1), ()], ids=str)
def test_count_nonzero(dim):
    a = LOGIC_INPUTS["float"]
    g, t = gu.count_nonzero(gu.tensor(a), dim), torch.count_nonzero(torch.tensor(a), dim)
    assert g.dtype == gu.int64
    np.testing.assert_array_equal(g.numpy(), t.numpy())


# -------------------------------------------------------------------------- graph hygiene
def test_backward_does_not_mutate_inputs_and_grads_are_writable():
    a = np.array([[0.0, 2.0, -1.0], [3.0, 0.0, 0.5]])
    calls = [lambda x: x.sum(), lambda x: x.mean(0), lambda x: x.prod(1), lambda x: x.max(),
             lambda x: x.max(1)[0], lambda x: x.amin(0), lambda x: x.var(1), lambda x: x.std(),
             lambda x: x.logsumexp(1), lambda x: x.cumsum(0), lambda x: x.norm(), lambda x: x.norm(3, 1)]
    for call in calls:
        x = gu.tensor(a.copy(), requires_grad=True)
        y = call(x)
        v = gu.tensor(np.ones(y.shape))
        y.backward(v)
        y = call(x)
        y.backward(v)  # accumulates into the first .grad
        np.testing.assert_array_equal(x.detach().numpy(), a)
        np.testing.assert_array_equal(v.numpy(), np.ones(y.shape))
        assert x.grad.numpy().flags.writeable


def test_no_grad_records_nothing():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    with gu.no_grad():
        for y in (x.sum(), x.mean(), x.max(), x.max(0)[0], x.var(), x.logsumexp(0), x.norm(), x.cumsum(0)):
            assert not y.requires_grad and y.grad_fn is None


# ----------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call,exc,match", [
    (lambda x: x.sum(5), IndexError, r"sum: dimension out of range \(expected to be in range of \[-2, 1\]"),
    (lambda x: x.mean((0, -2)), RuntimeError, "mean: dim .* appears multiple times"),
    (lambda x: x.sum(0.5), TypeError, "sum: dim must be an int, a tuple of ints or None, got 0.5"),
    (lambda x: x.amax((0, "a")), TypeError, "amax: dim must be an int or a tuple of ints"),
    (lambda x: x.max(2), IndexError, "max: dimension out of range"),
    (lambda x: x.max((0, 1)), TypeError, "max: dim must be an int, not tuple"),
    (lambda x: x.argmax((0, 1)), TypeError, "argmax: dim must be an int, not tuple"),
    (lambda x: x.cumsum((0,)), TypeError, "cumsum: dim must be an int"),
    (lambda x: x.logsumexp(-3), IndexError, "logsumexp: dimension out of range"),
    (lambda x: x.var(3), IndexError, "var: dimension out of range"),
    (lambda x: x.std(0, unbiased=True, correction=0), TypeError, "std: pass either unbiased= or correction="),
    (lambda x: x.var(correction="1"), TypeError, "var: correction must be a number"),
    (lambda x: x.norm("nuc"), NotImplementedError, "nuclear norm"),
    (lambda x: x.norm("abc"), RuntimeError, "norm: only valid string values of p are 'fro' and 'nuc'"),
    (lambda x: gu.vector_norm(x, "fro"), TypeError, "linalg.vector_norm: ord must be a number"),
    (lambda x: gu.vector_norm(x, dtype=gu.int64), RuntimeError, "dtype should be floating point"),
    (lambda x: gu.vector_norm(x.double(), dtype=gu.float32), RuntimeError, "without narrowing"),
    (lambda x: x.all(4), IndexError, "all: dimension out of range"),
    (lambda x: gu.count_nonzero(x, (1, 1)), RuntimeError, "count_nonzero: dim .* appears multiple times"),
    (lambda x: gu.sum("abc"), TypeError, "sum: expected a Tensor"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_errors(call, exc, match):
    x = gu.tensor(rand(2, 3, seed=29).astype(np.float32))
    with pytest.raises(exc, match=match):
        call(x)


def test_dtype_and_empty_errors():
    ints = gu.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match=r"var: std and var only support floating point dtypes, got \(3,\) int64"):
        ints.var()
    with pytest.raises(RuntimeError, match="std: std and var only support floating point"):
        ints.std()
    with pytest.raises(RuntimeError, match="linalg.vector_norm: input dtype must be floating point"):
        ints.norm()
    with pytest.raises(RuntimeError, match="argmax: does not support bool input"):
        gu.tensor([True, False]).argmax()
    empty = gu.zeros(0, 3)
    with pytest.raises(RuntimeError, match=r"max: expected reduction dim to be specified for an empty input"):
        empty.max()
    with pytest.raises(IndexError, match=r"max: expected reduction dim 0 to have non-zero size.*\(0, 3\)"):
        empty.max(0)
    with pytest.raises(IndexError, match="amin: expected reduction dim 0 to have non-zero size"):
        empty.amin()
    with pytest.raises(IndexError, match="argmin: expected reduction dim to be specified"):
        empty.argmin()
    with pytest.raises(RuntimeError, match="cannot compute the inf norm over dim 0"):
        gu.vector_norm(empty, INF, 0)


# ------------------------------------------------------------------------ hypothesis: shapes
@st.composite
def _shape_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    n = len(shape)
    if n == 0:
        dims = (draw(st.sampled_from([0, -1])),)
    else:
        chosen = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        dims = tuple(d - n if draw(st.booleans()) else d for d in chosen)
    return shape, dims, draw(st.booleans()), draw(st.integers(0, 2**16))


HYP_OPS = {
    "sum": lambda x, d, k: x.sum(d, k),
    "mean": lambda x, d, k: x.mean(d, k),
    "amax": lambda x, d, k: x.amax(d, k),
    "logsumexp": lambda x, d, k: x.logsumexp(d, k),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(HYP_OPS))
@settings(max_examples=30, deadline=None)
@given(case=_shape_dims())
def test_property_matches_torch(name, case):
    shape, dims, keepdim, seed = case
    fn = HYP_OPS[name]
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    check_op(lambda t: fn(t, dims, keepdim), lambda t: fn(t, dims, keepdim), x, check_gradcheck=False, seed=seed)
