"""The backward engine: ordering, accumulation, freeing, grad mode, hooks and its error messages."""

import gc
import weakref

import numpy as np
import pytest

import groundup as gu
from groundup.autograd import Function
from tests.helpers import requires_torch, torch


def leaf(values, dtype=gu.float64):
    return gu.tensor(values, dtype=dtype, requires_grad=True)


def test_long_chain_uses_no_recursion():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward(gu.ones(1, dtype=gu.float64))
    assert x.grad.tolist() == [1.0]


def test_leaf_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).backward(gu.ones(2, dtype=gu.float64))
    (x * 3.0).backward(gu.ones(2, dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + 3)


def test_reused_node_receives_sum_of_gradients():
    x = leaf([2.0])
    h = x * x  # used three times below
    y = h * h + h * 3.0 + h
    y.backward(gu.ones(1, dtype=gu.float64))
    # y = x^4 + 4 x^2 -> dy/dx = 4x^3 + 8x
    assert x.grad.item() == pytest.approx(4 * 8 + 16)


def test_diamond_graph_and_shared_upstream_gradient():
    x = leaf([1.0, -1.0])
    a = x + x  # Add.backward returns the same array for both parents
    a.backward(gu.tensor([1.0, 2.0], dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).exp()
    g = gu.ones(2, dtype=gu.float64)
    y.backward(g)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(g)


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).exp()
    g = gu.ones(2, dtype=gu.float64)
    y.backward(g, retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_graph_is_freed_after_backward():
    x = leaf(np.ones(3))
    mid = x.exp()
    ref = weakref.ref(mid)
    out = mid * 2.0
    del mid
    gc.collect()
    assert ref() is not None  # held by out's graph
    out.backward(gu.ones(3, dtype=gu.float64))
    gc.collect()
    assert ref() is None  # backward dropped the graph's references


def test_backward_on_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\)"):
        (x * 2.0).backward()


def test_backward_gradient_shape_is_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2.0).backward(gu.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        gu.tensor([1.0]).backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point tensors.*int64"):
        gu.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only floating point"):
        gu.tensor([True]).requires_grad_()


def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    with gu.no_grad():
        assert not (x * 2.0).requires_grad
        with gu.enable_grad():
            assert (x * 2.0).requires_grad
        assert not gu.is_grad_enabled()
    assert gu.is_grad_enabled()

    @gu.no_grad()
    def f(t):
        return t * 2.0

    assert not f(x).requires_grad
    assert gu.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with gu.no_grad():
            raise ValueError
    assert gu.is_grad_enabled()


def test_set_grad_enabled_forms():
    x = leaf([1.0])
    with gu.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert (x * 2.0).requires_grad
    gu.set_grad_enabled(False)
    assert not gu.is_grad_enabled()
    gu.set_grad_enabled(True)

    @gu.set_grad_enabled(False)
    def f(t):
        return t * 2.0

    assert gu.is_grad_enabled()
    assert not f(x).requires_grad


def test_hooks_see_and_replace_gradients():
    x = leaf([1.0, 2.0])
    seen = []
    h = x * 3.0
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10.0)
    (h * h).backward(gu.ones(2, dtype=gu.float64))
    np.testing.assert_allclose(seen[0], 2 * 3 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), 10 * 18 * np.array([1.0, 2.0]))
    handle.remove()
    x.grad = None
    (x * 1.0).backward(gu.ones(2, dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_hook_returning_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.register_hook(lambda g: gu.ones(3, dtype=gu.float64))
    with pytest.raises(RuntimeError, match=r"hook returned a gradient of shape \(3,\)"):
        y.backward(gu.ones(2, dtype=gu.float64))


def test_retain_grad_on_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    (h * h).backward(gu.ones(2, dtype=gu.float64))
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.detach().numpy())
    assert h.retains_grad and not h.is_leaf


def test_inplace_modification_of_saved_input_is_detected():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = x * w
    with gu.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Mul: one of its inputs \(shape \(2,\), groundup.float64\) was modified in place"):
        y.backward(gu.ones(2, dtype=gu.float64))


def test_inplace_on_leaf_requiring_grad_is_rejected_while_recording():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match="add_: in-place operation on a leaf tensor that requires grad"):
        w.add_(1.0)
    with gu.no_grad():
        w.add_(1.0)
        w -= 0.5
    assert w.item() == 1.5 and w.requires_grad


def test_inplace_ops_keep_dtype_and_bump_version():
    t = gu.zeros(3)
    v = t._version
    t += 1.5
    t.mul_(2)
    assert t.dtype is gu.float32 and t.tolist() == [3.0, 3.0, 3.0]
    assert t._version == v + 2
    with pytest.raises(RuntimeError, match=r"copy_: cannot write a result of shape \(4,\)"):
        t.copy_(gu.ones(4))


def test_custom_function_wrong_gradient_shape_is_reported():
    class Bad(Function):
        def forward(ctx, x):
            return x * 2

        def backward(ctx, g):
            return g[:1]

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(1,\) for an input of shape \(2,\)"):
        Bad.apply(x).backward(gu.ones(2, dtype=gu.float64))


def test_custom_function_is_gradchecked():
    class Cube(Function):
        """z = x**3;  dz/dx = 3 x**2."""

        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    assert gu.testing.gradcheck(Cube.apply, leaf(np.linspace(-2, 2, 7)))

    class WrongCube(Cube):
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x**2

    with pytest.raises(AssertionError, match="analytic and numerical gradients differ"):
        gu.testing.gradcheck(WrongCube.apply, leaf(np.linspace(-2, 2, 7)))


def test_gradcheck_rejects_float32():
    with pytest.raises(TypeError, match="use float64"):
        gu.testing.gradcheck(lambda t: t * 2.0, gu.ones(2, requires_grad=True))


def test_detach_cuts_the_graph_and_shares_memory():
    x = leaf([1.0, 2.0])
    d = (x * 2.0).detach()
    assert d.is_leaf and not d.requires_grad
    y = x * 2.0
    z = y.detach()
    z.numpy()[0] = 100.0
    assert y.detach().numpy()[0] == 100.0


def test_requires_grad_false_on_non_leaf_rejected():
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="only change requires_grad of leaf"):
        y.requires_grad_(False)


def test_grad_fn_names_the_op():
    y = leaf([1.0]).exp()
    assert y.grad_fn is not None and "Exp" in repr(y.grad_fn)
    assert leaf([1.0]).grad_fn is None


@requires_torch
def test_accumulation_matches_torch():
    xv = np.array([0.5, -1.5, 2.0])
    x, tx = leaf(xv), torch.tensor(xv, requires_grad=True)
    for f in (lambda t: (t * t).exp(), lambda t: t.sigmoid() * t):
        f(x).backward(gu.tensor([1.0, 2.0, 3.0], dtype=gu.float64))
        f(tx).backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_leaf_hook_runs_once_on_the_total_gradient():
    x = leaf([1.0])
    calls = []

    def hook(g):
        calls.append(g.item())
        return gu.ones(1, dtype=gu.float64)

    x.register_hook(hook)
    (x * 2.0 + x * 3.0).backward(gu.ones(1, dtype=gu.float64))
    assert calls == [5.0] and x.grad.item() == 1.0


@requires_torch
def test_leaf_hook_replacing_gradient_matches_torch():
    xv = np.array([1.0, -2.0])
    x, tx = leaf(xv), torch.tensor(xv, requires_grad=True)
    x.register_hook(lambda g: g * g)
    tx.register_hook(lambda g: g * g)
    (x * 2.0 + x.exp()).backward(gu.ones(2, dtype=gu.float64))
    (tx * 2.0 + tx.exp()).backward(torch.ones(2, dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("make_view", [
    lambda x: x.reshape(2),
    lambda x: x.T,
    lambda x: x[0],
    lambda x: x.unsqueeze(0),
    lambda x: x.split(1)[0],
    lambda x: x.detach(),
])
def test_inplace_write_through_a_view_is_detected(make_view):
    w = leaf([[3.0, 4.0]])
    with gu.no_grad():
        x = gu.tensor([[1.0, 2.0]], dtype=gu.float64)
    v = make_view(x)
    z = w * x  # saves x for backward
    v.mul_(10.0)  # writes x's memory through the view
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward(gu.ones(1, 2, dtype=gu.float64))


def test_view_of_a_tensor_shares_its_version_counter():
    x = gu.zeros(4)
    v = x[1:3]
    v.add_(1.0)
    assert x._version == 1 and x.tolist() == [0.0, 1.0, 1.0, 0.0]
    y = gu.zeros(4) + 1.0  # a fresh result does not share
    assert y._version == 0


@pytest.mark.parametrize("build", [
    lambda h: h + h.exp(),  # the shared node is a direct input of root and also reached through exp
    lambda h: h.exp() + h,
    lambda h: (h * 3.0 + h.sin()) * h,
    lambda h: h + (h + (h + h.exp()).tanh()),
])
def test_shared_node_gets_all_contributions_before_its_backward(build):
    xv = np.array([0.3, -0.7])
    x = leaf(xv)
    build(x * 2.0).backward(gu.ones(2, dtype=gu.float64))
    assert gu.testing.gradcheck(lambda t: build(t * 2.0), leaf(xv))
    if torch is not None:
        tx = torch.tensor(xv, requires_grad=True)
        build(tx * 2.0).backward(torch.ones(2, dtype=torch.float64))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
