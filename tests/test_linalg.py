"""matmul in every form, mm/bmm/mv/dot/outer, einsum and linear: gradcheck + PyTorch parity, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groundup as gu
from groundup.functions.linalg import linear
from tests.helpers import check_op, rand, requires_torch, torch

MATMUL_SHAPES = [
    ((4,), (4,)),  # dot -> 0-d
    ((3, 4), (4,)),  # matrix-vector
    ((4,), (4, 5)),  # vector-matrix
    ((3, 4), (4, 5)),  # matrix-matrix
    ((2, 3, 4), (4, 5)),  # batch @ shared matrix (the Linear case)
    ((3, 4), (2, 4, 5)),  # shared matrix @ batch
    ((2, 3, 4), (2, 4, 5)),  # same batch
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch both ways -> (2, 5, 3, 2)
    ((5, 3, 4), (2, 1, 4, 2)),  # ... and the other way round
    ((1, 3, 4), (2, 4, 5)),  # size-1 batch on the left
    ((4,), (2, 3, 4, 5)),  # vector @ batch
    ((2, 3, 5, 4), (4,)),  # batch @ vector
    ((0, 3), (3, 2)),  # empty (gradcheck cannot perturb an empty array; parity only)
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forms(sa, sb):
    empty = 0 in sa + sb
    check_op(gu.matmul, torch.matmul if torch else None, rand(*sa, seed=1), rand(*sb, seed=2), check_gradcheck=not empty)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4,))])
def test_matmul_operator_and_method(sa, sb):
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, rand(*sa), rand(*sb, seed=3))
    check_op(lambda a, b: a.matmul(b), None, rand(*sa), rand(*sb, seed=3))


@settings(max_examples=30, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=3),
    ones_a=st.lists(st.booleans(), min_size=3, max_size=3),
    ones_b=st.lists(st.booleans(), min_size=3, max_size=3),
    drop_a=st.integers(0, 3),
    drop_b=st.integers(0, 3),
    nkm=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    vec=st.sampled_from(["", "a", "b"]),
)
def test_matmul_broadcast_property(batch, ones_a, ones_b, drop_a, drop_b, nkm, vec):
    """Random broadcastable batch shapes (size-1 axes and missing leading axes on either side)."""
    n, k, m = nkm
    ba = tuple(1 if o else d for d, o in zip(batch, ones_a))[drop_a:]
    bb = tuple(1 if o else d for d, o in zip(batch, ones_b))[drop_b:]
    sa = (k,) if vec == "a" else ba + (n, k)
    sb = (k,) if vec == "b" else bb + (k, m)
    check_op(gu.matmul, torch.matmul if torch else None, rand(*sa), rand(*sb, seed=5), check_gradcheck=False)


def test_matmul_one_side_requires_grad():
    check_op(gu.matmul, torch.matmul if torch else None, rand(2, 3, 4), rand(4, 5), grad=[False, True])
    check_op(gu.matmul, torch.matmul if torch else None, rand(2, 3, 4), rand(4, 5), grad=[True, False])


def test_matmul_result_shapes_and_values():
    a, b = rand(2, 1, 3, 4), rand(5, 4, 6, seed=4)
    out = gu.matmul(gu.tensor(a), gu.tensor(b))
    assert tuple(out.shape) == (2, 5, 3, 6)
    np.testing.assert_allclose(out.numpy(), np.matmul(a, b), rtol=1e-12)
    d = gu.matmul(gu.tensor(rand(4)), gu.tensor(rand(4, seed=5)))
    assert tuple(d.shape) == () and isinstance(d.data, np.ndarray)


def test_matmul_float32_preserved():
    a = gu.tensor(rand(2, 3, 4).astype(np.float32), requires_grad=True)
    b = gu.tensor(rand(4, 5).astype(np.float32), requires_grad=True)
    out = a @ b
    assert out.dtype == gu.float32
    out.backward(gu.ones(2, 3, 5))
    assert a.grad.dtype == gu.float32 and b.grad.dtype == gu.float32
    np.testing.assert_allclose(b.grad.numpy(), a.data.reshape(-1, 4).T @ np.ones((6, 5), np.float32), rtol=1e-5)


def test_matmul_integers_not_differentiable():
    a = gu.tensor([[1, 2], [3, 4]])
    out = a @ a
    assert out.dtype == gu.int64 and not out.requires_grad
    assert out.tolist() == [[7, 10], [15, 22]]


@pytest.mark.parametrize(
    "sa,sb,match",
    [
        ((3, 4), (5, 6), r"matmul: cannot multiply \(3, 4\) by \(5, 6\): inner dimensions 4 and 5 differ"),
        ((3,), (4,), r"inner dimensions 3 and 4 differ"),
        ((), (3,), r"at least 1-D.*0-D and 1-D"),
        ((2, 3, 4), (3, 4, 5), r"batch dimensions \(2,\) and \(3,\) cannot be broadcast"),
    ],
)
def test_matmul_errors(sa, sb, match):
    with pytest.raises(RuntimeError, match=match):
        gu.matmul(gu.tensor(np.ones(sa)), gu.tensor(np.ones(sb)))


def test_matmul_dtype_mismatch_and_bool():
    with pytest.raises(RuntimeError, match=r"matmul: .*same dtype.*float32.*float64"):
        gu.matmul(gu.ones(2, 2), gu.ones(2, 2, dtype=gu.float64))
    with pytest.raises(RuntimeError, match=r"same dtype.*int64.*float32"):
        gu.matmul(gu.tensor([[1, 2]]), gu.ones(2, 2))
    with pytest.raises(TypeError, match=r"matmul: not implemented for bool"):
        gu.matmul(gu.ones(2, 2, dtype=gu.bool), gu.ones(2, 2, dtype=gu.bool))


def test_mm_bmm_mv_dot_outer():
    t = torch
    check_op(gu.mm, t.mm if t else None, rand(3, 4), rand(4, 2, seed=1))
    check_op(gu.bmm, t.bmm if t else None, rand(2, 3, 4), rand(2, 4, 5, seed=1))
    check_op(gu.mv, t.mv if t else None, rand(3, 4), rand(4, seed=1))
    check_op(gu.dot, t.dot if t else None, rand(5), rand(5, seed=1))
    check_op(gu.outer, t.outer if t else None, rand(3), rand(4, seed=1))
    check_op(lambda a, b: a.mm(b), None, rand(3, 4), rand(4, 2, seed=1))
    check_op(lambda a, b: a.bmm(b), None, rand(2, 3, 4), rand(2, 4, 5, seed=1))
    check_op(lambda a, b: a.mv(b), None, rand(3, 4), rand(4, seed=1))
    check_op(lambda a, b: a.dot(b), None, rand(5), rand(5, seed=1))


def test_outer_promotes():
    out = gu.outer(gu.tensor([1, 2]), gu.tensor([0.5, 1.5]))
    assert out.dtype == gu.float32
    np.testing.assert_allclose(out.numpy(), [[0.5, 1.5], [1.0, 3.0]])


@pytest.mark.parametrize(
    "fn,a,b,err,match",
    [
        (gu.mm, (3, 4), (4,), RuntimeError, r"mm: expected two 2-D matrices"),
        (gu.mm, (3, 4), (5, 4), RuntimeError, r"mm: mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x4\)"),
        (gu.bmm, (3, 4), (4, 5), RuntimeError, r"bmm: expected two 3-D tensors"),
        (gu.bmm, (2, 3, 4), (3, 4, 5), RuntimeError, r"bmm: batch sizes differ"),
        (gu.bmm, (2, 3, 4), (2, 5, 5), RuntimeError, r"bmm: cannot multiply .* inner dimensions 4 and 5"),
        (gu.mv, (3, 4), (5,), RuntimeError, r"mv: size mismatch"),
        (gu.mv, (3, 4), (4, 1), RuntimeError, r"mv: expected a 2-D matrix and a 1-D vector"),
        (gu.dot, (3,), (5,), RuntimeError, r"dot: inconsistent tensor size"),
        (gu.dot, (3, 1), (3,), RuntimeError, r"dot: 1-D tensors expected, but got 2-D and 1-D"),
        (gu.outer, (3, 1), (3,), RuntimeError, r"outer: expected two 1-D tensors"),
    ],
)
def test_product_errors(fn, a, b, err, match):
    with pytest.raises(err, match=match):
        fn(gu.ones(*a), gu.ones(*b))


def test_mm_dtype_mismatch():
    with pytest.raises(RuntimeError, match=r"mm: .*same dtype"):
        gu.mm(gu.ones(2, 2), gu.ones(2, 2, dtype=gu.float64))


# ------------------------------------------------------------------------------------- einsum
EINSUMS = [
    ("ii", [(3, 3)]),  # trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("ij->ji", [(2, 3)]),  # transpose
    ("ij->", [(2, 3)]),  # total sum
    ("ij->j", [(2, 3)]),  # column sums
    ("i,j->ij", [(3,), (4,)]),  # outer
    ("i,i", [(4,), (4,)]),  # dot, implicit output
    ("ij,jk", [(2, 3), (3, 4)]),  # matmul, implicit output
    ("ij,jk->ki", [(2, 3), (3, 4)]),  # transposed result
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),  # batch matmul
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # ellipsis with broadcasting
    ("i...->...", [(3, 2, 2)]),  # ellipsis, summed leading axis
    ("ij,ij->ij", [(1, 3), (4, 3)]),  # size-1 label broadcast
    ("ijk,jl,lk->i", [(2, 3, 4), (3, 5), (5, 4)]),  # three operands
    ("iij->ij", [(3, 3, 2)]),  # partial diagonal
    ("ij,jk,k->", [(2, 3), (3, 4), (4,)]),  # chain to a scalar
    ("ba,c", [(2, 3), (4,)]),  # implicit output order: a, b, c
    ("bA,Ab->", [(2, 3), (3, 2)]),  # uppercase labels
    ("i j , j k -> i k", [(2, 3), (3, 4)]),  # spaces
    ("ij,k->ij", [(2, 3), (4,)]),  # label summed away in one operand
]


@pytest.mark.parametrize("eq,shapes", EINSUMS)
def test_einsum(eq, shapes):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda *x: gu.einsum(eq, *x), (lambda *x: torch.einsum(eq, *x)) if torch else None, *arrays)


def test_einsum_list_and_sublist_forms():
    a, b = rand(2, 3), rand(3, 4, seed=1)
    ref = a @ b
    np.testing.assert_allclose(gu.einsum("ij,jk->ik", [gu.tensor(a), gu.tensor(b)]).numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(gu.einsum(gu.tensor(a), [0, 1], gu.tensor(b), [1, 2], [0, 2]).numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(gu.einsum(gu.tensor(a), [0, 1], gu.tensor(b), [1, 2]).numpy(), ref, rtol=1e-12)


def test_einsum_output_owns_its_data():
    x = gu.tensor(rand(3, 3))
    for eq in ("ii->i", "ij->ji", "ij->ij"):
        assert not np.shares_memory(gu.einsum(eq, x).numpy(), x.numpy())


def test_einsum_float32_and_int():
    a = gu.tensor(rand(2, 3).astype(np.float32), requires_grad=True)
    out = gu.einsum("ij,kj->ik", a, a)
    assert out.dtype == gu.float32
    out.backward(gu.ones(2, 2))
    assert a.grad.dtype == gu.float32
    i = gu.einsum("ij->j", gu.tensor([[1, 2], [3, 4]]))
    assert i.dtype == gu.int64 and i.tolist() == [4, 6] and not i.requires_grad


@pytest.mark.parametrize(
    "eq,shapes,match",
    [
        ("ij,jk", [(3, 4), (5, 6)], r"subscript j has size 5 for operand 1 \(shape \(5, 6\)\) which does not broadcast with previously seen size 4"),
        ("ij,jk->ik", [(3, 4)], r"fewer operands were provided"),
        ("ijk->ik", [(3, 4)], r"number of subscripts in the equation \(3\) does not match the number of dimensions \(2\)"),
        ("ij->ik", [(3, 4)], r"output subscript k does not appear"),
        ("i->ii", [(3,)], r"output subscript i appears more than once"),
        ("ii->i", [(3, 4)], r"subscript i is repeated for operand 0 \(shape \(3, 4\)\) but the sizes don't match, 3 != 4"),
        ("i1->i", [(3, 4)], r"invalid subscript '1'"),
    ],
)
def test_einsum_errors(eq, shapes, match):
    with pytest.raises(RuntimeError, match=match):
        gu.einsum(eq, *[gu.ones(*s) for s in shapes])


def test_einsum_dtype_mismatch():
    with pytest.raises(RuntimeError, match=r"einsum\(\): all operands must have the same dtype"):
        gu.einsum("i,i", gu.ones(3), gu.ones(3, dtype=gu.float64))
    with pytest.raises(RuntimeError, match=r"at least one operand"):
        gu.einsum("i")


# ------------------------------------------------------------------------------------- linear
@pytest.mark.parametrize("xs", [(4,), (3, 4), (2, 3, 4), (2, 1, 3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear(xs, with_bias):
    arrays = [rand(*xs), rand(5, 4, seed=1)] + ([rand(5, seed=2)] if with_bias else [])
    check_op(linear, torch.nn.functional.linear if torch else None, *arrays)


def test_linear_broadcast_bias_and_vector_weight():
    tl = torch.nn.functional.linear if torch else None
    check_op(linear, tl, rand(3, 4), rand(5, 4, seed=1), rand(3, 5, seed=2))
    check_op(linear, tl, rand(3, 4), rand(4, seed=1))


def test_linear_float32_and_errors():
    x = gu.tensor(rand(2, 3, 4).astype(np.float32), requires_grad=True)
    w = gu.tensor(rand(5, 4).astype(np.float32), requires_grad=True)
    b = gu.tensor(rand(5).astype(np.float32), requires_grad=True)
    out = linear(x, w, b)
    assert out.dtype == gu.float32 and tuple(out.shape) == (2, 3, 5)
    out.backward(gu.ones(2, 3, 5))
    assert w.grad.dtype == gu.float32 and b.grad.dtype == gu.float32
    np.testing.assert_allclose(b.grad.numpy(), np.full(5, 6.0))
    with pytest.raises(RuntimeError, match=r"linear: input \(3, 4\) has 4 features .* weight \(5, 3\) expects 3"):
        linear(gu.ones(3, 4), gu.ones(5, 3))
    with pytest.raises(RuntimeError, match=r"linear: bias of shape \(2, 3, 5\) does not broadcast"):
        linear(gu.ones(3, 4), gu.ones(5, 4), gu.ones(2, 3, 5))
    with pytest.raises(RuntimeError, match=r"linear: .*same dtype"):
        linear(gu.ones(3, 4), gu.ones(5, 4, dtype=gu.float64))


@requires_torch
def test_linear_large_batch_matches_torch_float32():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 16, 32), (24, 32), (24,)))
    g = rng.standard_normal((4, 16, 24)).astype(np.float32)
    gx, gw, gb = (gu.tensor(a, requires_grad=True) for a in (x, w, b))
    linear(gx, gw, gb).backward(gu.tensor(g))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.linear(tx, tw, tb).backward(torch.tensor(g))
    for mine, ref in ((gx, tx), (gw, tw), (gb, tb)):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "sa,sb",
    [((2, 3, 0), (0, 5)), ((0, 3, 4), (4, 5)), ((2, 3, 4), (4, 0)), ((3, 0), (0,)), ((0,), (0,)), ((3, 4), (2, 4, 0))],
)
def test_matmul_zero_sizes(sa, sb):
    check_op(gu.matmul, torch.matmul if torch else None, rand(*sa), rand(*sb, seed=1), check_gradcheck=False)


@pytest.mark.parametrize("xs,ws", [((2, 3, 0), (5, 0)), ((0, 4), (5, 4)), ((2, 0, 4), (3, 4))])
def test_linear_zero_sizes(xs, ws):
    arrays = (rand(*xs), rand(*ws, seed=1), rand(ws[0], seed=2))
    check_op(linear, torch.nn.functional.linear if torch else None, *arrays, check_gradcheck=False)


def test_einsum_zero_sizes():
    for eq, shapes in [("ij,jk->ik", [(0, 3), (3, 2)]), ("bij,bjk->bik", [(2, 3, 0), (2, 0, 4)]), ("ii->i", [(0, 0)])]:
        arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
        tf = (lambda *x, eq=eq: torch.einsum(eq, *x)) if torch else None
        check_op(lambda *x, eq=eq: gu.einsum(eq, *x), tf, *arrays, check_gradcheck=False)
