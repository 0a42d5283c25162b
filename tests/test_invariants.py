"""MyGrad-style invariants: ops never mutate inputs or upstream gradients, ``.grad`` never aliases."""

import numpy as np
import pytest

import groundup as gu
import groundup.nn.functional as F

UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.abs().log(),
    "sqrt": lambda x: x.abs().sqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "clamp": lambda x: x.clamp(-0.5, 0.5),
    "clone": lambda x: x.clone(),
    "sum": lambda x: x.sum(dim=1),
    "mean": lambda x: x.mean(),
    "max": lambda x: x.max(dim=0).values,
    "amax": lambda x: x.amax(dim=(0, 1)),
    "var": lambda x: x.var(dim=1),
    "logsumexp": lambda x: x.logsumexp(dim=1),
    "cumsum": lambda x: x.cumsum(dim=0),
    "reshape": lambda x: x.reshape(-1),
    "transpose": lambda x: x.T,
    "expand": lambda x: x.unsqueeze(0).expand(2, 3, 4),
    "getitem": lambda x: x[1:, ::2],
    "index": lambda x: x[gu.tensor([0, 0, 2])],
    "cat": lambda x: gu.cat([x, x], dim=1),
    "matmul": lambda x: x @ x.T,
    "softmax": lambda x: F.softmax(x, dim=-1),
    "log_softmax": lambda x: F.log_softmax(x, dim=0),
    "gelu": lambda x: F.gelu(x),
    "pad": lambda x: F.pad(x, (1, 2)),
}

BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 1.0),
    "maximum": lambda a, b: gu.maximum(a, b),
    "where": lambda a, b: gu.where(a > 0, a, b),
    "matmul": lambda a, b: a @ b.T,
}


def _inputs(n):
    rng = np.random.default_rng(0)
    return [rng.standard_normal((3, 4)) for _ in range(n)]


def _run(fn, arrays):
    xs = [gu.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*xs)
    g = gu.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    g_before = g.numpy().copy()
    out.backward(g)
    return xs, g, g_before, out


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_do_not_mutate_inputs_or_upstream_gradient(name):
    (a,) = _inputs(1)
    xs, g, g_before, _ = _run(UNARY[name], [a])
    np.testing.assert_array_equal(xs[0].detach().numpy(), a)
    np.testing.assert_array_equal(g.numpy(), g_before)
    assert not np.shares_memory(xs[0].grad.numpy(), g.numpy())
    assert not np.shares_memory(xs[0].grad.numpy(), xs[0].detach().numpy())


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_do_not_mutate_and_grads_do_not_alias(name):
    a, b = _inputs(2)
    xs, g, g_before, _ = _run(BINARY[name], [a, b])
    np.testing.assert_array_equal(xs[0].detach().numpy(), a)
    np.testing.assert_array_equal(xs[1].detach().numpy(), b)
    np.testing.assert_array_equal(g.numpy(), g_before)
    ga, gb = xs[0].grad.numpy(), xs[1].grad.numpy()
    assert not np.shares_memory(ga, gb)
    assert not np.shares_memory(ga, g.numpy()) and not np.shares_memory(gb, g.numpy())


def test_grad_does_not_alias_upstream_through_identity_ops():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    g = gu.tensor([3.0, 4.0])
    x.clone().backward(g)
    g.numpy()[0] = -1.0
    assert x.grad.tolist() == [3.0, 4.0]


def test_accumulating_second_backward_does_not_touch_earlier_grad_object():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    (x * 2.0).backward(gu.ones(2))
    first = x.grad
    (x * 2.0).backward(gu.ones(2))
    assert first.tolist() == [2.0, 2.0] and x.grad.tolist() == [4.0, 4.0]
