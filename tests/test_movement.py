"""Movement ops (groundup/functions/movement.py): gradcheck + PyTorch parity, views, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groundup as gu
from groundup.functions.movement import pad
from tests.helpers import check_op, rand, requires_torch, torch

F = torch.nn.functional if torch is not None else None


def shares(a: gu.Tensor, b: gu.Tensor) -> bool:
    return np.shares_memory(a.data, b.data)


# ------------------------------------------------------------------------------ reshape / view
@pytest.mark.parametrize(
    "shape, new",
    [((3, 4), (2, 6)), ((12,), (-1, 3)), ((), (1,)), ((1,), ()), ((2, 1, 3), (3, -1)), ((0, 3), (3, 0)), ((2, 3), (6,))],
)
def test_reshape_and_view(shape, new):
    gc = int(np.prod(shape)) > 0  # gradcheck needs at least one element
    check_op(lambda a: a.reshape(*new) if new else a.reshape(new), lambda a: a.reshape(new), rand(*shape), check_gradcheck=gc)
    check_op(lambda a: gu.reshape(a, new), lambda a: torch.reshape(a, new), rand(*shape), check_gradcheck=gc)
    check_op(lambda a: a.view(new), lambda a: a.view(new), rand(*shape), check_gradcheck=gc)


def test_reshape_of_non_contiguous_copies_and_view_refuses():
    check_op(lambda a: a.t().reshape(-1), lambda a: a.t().reshape(-1), rand(3, 4))
    x = gu.randn(3, 4)
    with pytest.raises(RuntimeError, match=r"view: .*not compatible.*shape \(4, 3\) with strides \(1, 4\).*as shape \(12,\).*Use \.reshape"):
        x.t().view(12)
    assert x.t().view(4, 1, 3).shape == (4, 1, 3)  # inserting size-1 dims never needs a copy


@pytest.mark.parametrize(
    "new, match",
    [
        ((4, 5), r"reshape: shape \(4, 5\) is invalid for input of size 12"),
        ((-1, -1), r"reshape: only one dimension can be inferred"),
        ((-2, 6), r"reshape: invalid shape dimension -2"),
        ((5, -1), r"reshape: shape \(5, -1\) is invalid for input of size 12"),
    ],
)
def test_reshape_errors(new, match):
    with pytest.raises(RuntimeError, match=match):
        gu.zeros(3, 4).reshape(new)


def test_reshape_zero_elements_ambiguous_and_types():
    with pytest.raises(RuntimeError, match=r"reshape: cannot reshape a tensor of 0 elements"):
        gu.zeros(0, 3).reshape(-1, 0)
    with pytest.raises(TypeError, match=r"reshape: sizes must be ints"):
        gu.zeros(4).reshape(2.0, 2)
    with pytest.raises(RuntimeError, match=r"view: shape \(4, 5\) is invalid for input of size 12"):
        gu.zeros(3, 4).view(4, 5)


def test_views_share_memory():
    x = gu.randn(2, 3, 4)
    with gu.no_grad():
        views = [
            x.reshape(6, 4), x.view(-1), x.transpose(0, 2), x.permute(2, 0, 1), x.T, x.unsqueeze(1),
            x.unsqueeze(0).squeeze(0), x.flatten(1), x.unflatten(2, (2, 2)), x[0:1].expand(5, 3, 4),
            gu.narrow(x, 2, 1, 2), x[1], x[:, 1:3], x[..., None, ::2], gu.movedim(x, 0, -1),
            gu.select(x, 1, 0), gu.swapaxes(x, 0, 1),
        ]
        views += list(x.split(1, dim=1)) + list(x.chunk(2, 2)) + list(x.unbind(0))
    for v in views:
        assert shares(v, x), v.shape
    xg = gu.randn(2, 3, requires_grad=True)
    for v in (xg.reshape(3, 2), xg[1:], xg.t(), *xg.unbind(1)):  # views with a graph, too
        assert shares(v, xg) and v.requires_grad
    for copy in (x.flip(0), x.roll(1, 0), x.repeat(1, 1, 1), gu.cat([x, x]), x[[0, 1]], x.tril()):
        assert not shares(copy, x)  # PyTorch copies for these


def test_write_through_view_under_no_grad():
    x = gu.zeros(2, 3)
    with gu.no_grad():
        x[0][1] = 5.0
        x.t()[2, 1] = 7.0
    np.testing.assert_array_equal(x.numpy(), [[0, 5, 0], [0, 0, 7]])


# --------------------------------------------------------------------- transpose / permute
@pytest.mark.parametrize("shape, d0, d1", [((3, 4), 0, 1), ((2, 3, 4), -1, 0), ((2, 1, 3), 1, 1), ((), 0, -1)])
def test_transpose(shape, d0, d1):
    check_op(lambda a: a.transpose(d0, d1), lambda a: a.transpose(d0, d1), rand(*shape))
    check_op(lambda a: gu.swapaxes(a, d0, d1), lambda a: torch.swapaxes(a, d0, d1), rand(*shape))
    check_op(lambda a: gu.swapdims(a, d0, d1), lambda a: torch.swapdims(a, d0, d1), rand(*shape))


@pytest.mark.parametrize("shape, dims", [((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (-1, 1, 0)), ((5,), (0,)), ((), ())])
def test_permute(shape, dims):
    check_op(lambda a: a.permute(*dims), lambda a: a.permute(dims), rand(*shape))
    check_op(lambda a: gu.permute(a, dims), lambda a: torch.permute(a, dims), rand(*shape))


def test_T_and_mT():
    check_op(lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))), rand(2, 3, 4))
    check_op(lambda a: a.mT, lambda a: a.mT, rand(2, 3, 4))


@pytest.mark.parametrize("src, dst", [(0, -1), ((0, 1), (2, 0)), ([1], [0]), (-1, 0)])
def test_movedim(src, dst):
    check_op(lambda a: gu.movedim(a, src, dst), lambda a: torch.movedim(a, src, dst), rand(2, 3, 4))
    check_op(lambda a: gu.moveaxis(a, src, dst), lambda a: torch.moveaxis(a, src, dst), rand(2, 3, 4))


def test_permute_transpose_movedim_errors():
    x = gu.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"permute: the number of dims \(1, \(0,\)\) must equal"):
        x.permute(0)
    with pytest.raises(RuntimeError, match=r"permute: duplicate dims"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"permute: dimension out of range.*got 2"):
        x.permute(0, 2)
    with pytest.raises(IndexError, match=r"transpose: dimension out of range"):
        x.transpose(0, 3)
    with pytest.raises(RuntimeError, match=r"movedim: repeated dim in `source`"):
        gu.movedim(x, (0, 0), (0, 1))
    with pytest.raises(RuntimeError, match=r"movedim: source \[0\] and destination \[1, 0\]"):
        gu.movedim(x, (0,), (1, 0))


# ------------------------------------------------------------ unsqueeze / squeeze / flatten
@pytest.mark.parametrize("shape, dim", [((2, 3), 0), ((2, 3), -1), ((2, 3), 1), ((), 0), ((), -1)])
def test_unsqueeze(shape, dim):
    check_op(lambda a: a.unsqueeze(dim), lambda a: a.unsqueeze(dim), rand(*shape))
    check_op(lambda a: gu.unsqueeze(a, dim), lambda a: torch.unsqueeze(a, dim), rand(*shape))


@pytest.mark.parametrize(
    "shape, dim", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), 1), ((1, 3, 1), (0, 2)), ((), None), ((), 0), ((1,), None)]
)
def test_squeeze(shape, dim):
    if dim is None:
        check_op(lambda a: a.squeeze(), lambda a: a.squeeze(), rand(*shape))
    else:
        check_op(lambda a: gu.squeeze(a, dim), lambda a: torch.squeeze(a, dim), rand(*shape))


def test_unsqueeze_squeeze_errors():
    with pytest.raises(IndexError, match=r"unsqueeze: dimension out of range.*got 3"):
        gu.zeros(2, 3).unsqueeze(3)
    with pytest.raises(IndexError, match=r"squeeze: dimension out of range"):
        gu.zeros(1, 3, 1).squeeze(3)


@pytest.mark.parametrize("shape, s, e", [((2, 3, 4), 0, -1), ((2, 3, 4), 1, 2), ((2, 3, 4), 0, 1), ((2, 3), 1, 1), ((), 0, -1), ((2, 0, 3), 0, 1)])
def test_flatten(shape, s, e):
    gc = int(np.prod(shape)) > 0
    check_op(lambda a: a.flatten(s, e), lambda a: a.flatten(s, e), rand(*shape), check_gradcheck=gc)
    check_op(lambda a: gu.flatten(a, s, e), lambda a: torch.flatten(a, s, e), rand(*shape), check_gradcheck=gc)


def test_flatten_noncontiguous_and_ravel():
    check_op(lambda a: a.transpose(0, 2).flatten(), lambda a: a.transpose(0, 2).flatten(), rand(2, 3, 4))
    check_op(lambda a: gu.ravel(a.t()), lambda a: torch.ravel(a.t()), rand(2, 3))
    with pytest.raises(RuntimeError, match=r"flatten: start_dim \(1\) cannot come after end_dim \(0\)"):
        gu.zeros(2, 3).flatten(1, 0)


@pytest.mark.parametrize("dim, sizes", [(1, (2, 3)), (1, (-1, 3)), (-1, (6, 1)), (0, (2,))])
def test_unflatten(dim, sizes):
    check_op(lambda a: a.unflatten(dim, sizes), lambda a: a.unflatten(dim, sizes), rand(2, 6))


def test_unflatten_errors():
    with pytest.raises(RuntimeError, match=r"unflatten: provided sizes \[2, 5\] don't multiply up to the size of dim 1 \(6\)"):
        gu.zeros(2, 6).unflatten(1, (2, 5))
    with pytest.raises(RuntimeError, match=r"unflatten: sizes must be non-empty"):
        gu.zeros(2, 6).unflatten(1, ())


# ----------------------------------------------------------------------- expand / repeat
@pytest.mark.parametrize(
    "shape, sizes",
    [((3, 1), (3, 4)), ((3, 1), (-1, 4)), ((3,), (2, 3)), ((1, 3, 1), (2, 2, 3, 5)), ((), (2, 3)), ((2, 3), (2, 3)), ((1,), (0,))],
)
def test_expand(shape, sizes):
    check_op(lambda a: a.expand(*sizes), lambda a: a.expand(*sizes), rand(*shape))
    check_op(lambda a: gu.broadcast_to(a, sizes), lambda a: torch.broadcast_to(a, sizes), rand(*shape))


def test_expand_as_and_errors():
    check_op(lambda a, b: a.expand_as(b) * b, lambda a, b: a.expand_as(b) * b, rand(1, 3), rand(4, 3))
    x = gu.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"expand: the number of sizes provided \(1, \[2\]\)"):
        x.expand(2)
    with pytest.raises(RuntimeError, match=r"expand: the expanded size of the tensor \(4\) must match the existing size \(2\) at non-singleton dimension 0"):
        x.expand(4, 3)
    with pytest.raises(RuntimeError, match=r"expand: the size -1 isn't allowed in a leading, non-existing dimension 0"):
        x.expand(-1, 2, 3)
    with pytest.raises(RuntimeError, match=r"read-only view"):
        x[0:1].expand(3, 3)[0, 0] = 1.0


@pytest.mark.parametrize("shape, reps", [((2, 3), (2, 1)), ((2, 3), (1, 2, 3)), ((3,), (4,)), ((), (2, 2)), ((2, 1), (0, 2)), ((1,), (3,))])
def test_repeat(shape, reps):
    check_op(lambda a: a.repeat(*reps), lambda a: a.repeat(*reps), rand(*shape))
    check_op(lambda a: a.repeat(reps), lambda a: a.repeat(reps), rand(*shape))


def test_repeat_errors():
    with pytest.raises(RuntimeError, match=r"repeat: the number of repeat dims \(1, \[2\]\) can not be smaller"):
        gu.zeros(2, 3).repeat(2)
    with pytest.raises(RuntimeError, match=r"repeat: repeats must be non-negative"):
        gu.zeros(2, 3).repeat(2, -1)


# ------------------------------------------------------------------ flip / roll / tril / triu
@pytest.mark.parametrize("shape, dims", [((2, 3, 4), (0,)), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1,)), ((3,), (0,)), ((), ()), ((2, 3), ())])
def test_flip(shape, dims):
    check_op(lambda a: a.flip(*dims) if dims else a.flip(dims), lambda a: a.flip(dims), rand(*shape))
    check_op(lambda a: gu.flip(a, list(dims)), lambda a: torch.flip(a, list(dims)), rand(*shape))
    check_op(lambda a: gu.flip(a, dims=dims), lambda a: torch.flip(a, dims=dims), rand(*shape))


def test_flip_errors():
    with pytest.raises(RuntimeError, match=r"flip: dim .* appears multiple times"):
        gu.zeros(2, 3).flip(0, 0)
    with pytest.raises(TypeError, match=r"flip: missing the dims"):
        gu.zeros(2, 3).flip()
    with pytest.raises(IndexError, match=r"flip: dimension out of range"):
        gu.zeros(2, 3).flip(2)


@pytest.mark.parametrize(
    "shape, shifts, dims",
    [((2, 3), 1, 0), ((2, 3), -4, 1), ((2, 3), (1, 2), (0, 1)), ((2, 3), 2, None), ((5,), 7, None), ((2, 3, 4), (1, -1), (2, 0))],
)
def test_roll(shape, shifts, dims):
    check_op(lambda a: a.roll(shifts, dims), lambda a: a.roll(shifts, dims), rand(*shape))
    check_op(lambda a: gu.roll(a, shifts, dims), lambda a: torch.roll(a, shifts, dims), rand(*shape))


def test_roll_errors():
    with pytest.raises(RuntimeError, match=r"roll: shifts and dims must align: got 1 shifts \[1\] and 2 dims"):
        gu.zeros(2, 3).roll(1, (0, 1))
    with pytest.raises(RuntimeError, match=r"roll: shifts and dims must align: got 2 shifts \[1, 2\] and no dims"):
        gu.zeros(2, 3).roll((1, 2))


@pytest.mark.parametrize("shape, k", [((4, 4), 0), ((3, 5), 1), ((5, 3), -2), ((2, 3, 4), 0), ((2, 3, 4), 3), ((1, 1), 0)])
def test_tril_triu(shape, k):
    check_op(lambda a: a.tril(k), lambda a: a.tril(k), rand(*shape))
    check_op(lambda a: gu.triu(a, k), lambda a: torch.triu(a, k), rand(*shape))
    check_op(lambda a: gu.tril(a, diagonal=k), lambda a: torch.tril(a, diagonal=k), rand(*shape))


def test_tril_errors_and_bool():
    with pytest.raises(RuntimeError, match=r"tril: input tensor must have at least 2 dimensions, got shape \(3,\)"):
        gu.zeros(3).tril()
    m = gu.ones(3, 3, dtype=gu.bool).tril()
    assert m.dtype is gu.bool and m.numpy().tolist() == np.tril(np.ones((3, 3), bool)).tolist()


# ----------------------------------------------------------------------------- cat / stack
@pytest.mark.parametrize("shapes, dim", [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 2)], 1), ([(2, 3), (2, 3)], -1), ([(3,)], 0), ([(1, 2, 3), (1, 2, 3)], 2)])
def test_cat(shapes, dim):
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    check_op(lambda *a: gu.cat(a, dim), lambda *a: torch.cat(a, dim), *arrays)
    check_op(lambda *a: gu.concat(list(a), dim=dim), lambda *a: torch.concat(list(a), dim=dim), *arrays)
    check_op(lambda *a: gu.concatenate(a, dim), lambda *a: torch.concatenate(a, dim), *arrays)


def test_cat_partial_grad_and_legacy_empty():
    check_op(lambda a, b: gu.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1), rand(2, 3), rand(2, 2), grad=[True, False])
    check_op(lambda a, b: gu.cat([a, b]), lambda a, b: torch.cat([a, b]), rand(2, 3), rand(0), grad=[True, False])
    check_op(lambda a, b: gu.cat([b, a]), lambda a, b: torch.cat([b, a]), rand(2, 3), rand(0), check_gradcheck=False)
    check_op(lambda a, b: gu.cat([a, b]), lambda a, b: torch.cat([a, b]), rand(0), rand(0), check_gradcheck=False)


@requires_torch
@pytest.mark.parametrize(
    "dtypes",
    [("float32", "float64"), ("int64", "float32"), ("int32", "float16"), ("bool", "int8"), ("float32", "float32")],
)
def test_cat_stack_promote_dtypes(dtypes):
    arrays = [np.ones((2, 3), dtype=d) for d in dtypes]
    out = gu.cat([gu.tensor(a) for a in arrays])
    ref = torch.cat([torch.tensor(a) for a in arrays])
    assert out.dtype.name == str(ref.dtype).replace("torch.", "")
    out = gu.stack([gu.tensor(a) for a in arrays], 1)
    ref = torch.stack([torch.tensor(a) for a in arrays], 1)
    assert out.dtype.name == str(ref.dtype).replace("torch.", "")


def test_cat_float32_grad_stays_float32():
    a = gu.randn(2, 3, requires_grad=True)
    b = gu.randn(2, 3, dtype=gu.float64, requires_grad=True)
    out = gu.cat([a, b])
    assert out.dtype is gu.float64
    out.backward(gu.ones(4, 3, dtype=gu.float64))
    assert a.grad.dtype is gu.float32 and b.grad.dtype is gu.float64
    f32 = gu.cat([a, a], 1)
    assert f32.dtype is gu.float32


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"cat: expected all tensors to have the same shape except in dim 0, got shapes \(2, 3\), \(2, 4\)"):
        gu.cat([gu.zeros(2, 3), gu.zeros(2, 4)])
    with pytest.raises(RuntimeError, match=r"cat: .*\(2, 3\), \(3,\)"):
        gu.cat([gu.zeros(2, 3), gu.zeros(3)])
    with pytest.raises(RuntimeError, match=r"cat: zero-dimensional tensor \(at position 0\)"):
        gu.cat([gu.tensor(1.0)])
    with pytest.raises(ValueError, match=r"cat: expected a non-empty list"):
        gu.cat([])
    with pytest.raises(TypeError, match=r"cat: expected a list of Tensors, got float at position 1"):
        gu.cat([gu.zeros(2), 1.0])
    with pytest.raises(IndexError, match=r"cat: dimension out of range"):
        gu.cat([gu.zeros(2, 3)], 2)


@pytest.mark.parametrize("shape, n, dim", [((2, 3), 3, 0), ((2, 3), 2, 1), ((2, 3), 2, 2), ((2, 3), 2, -1), ((), 3, 0), ((4,), 1, 0)])
def test_stack(shape, n, dim):
    arrays = [rand(*shape, seed=i) for i in range(n)]
    check_op(lambda *a: gu.stack(a, dim), lambda *a: torch.stack(a, dim), *arrays)


def test_stack_errors_and_hvstack():
    with pytest.raises(RuntimeError, match=r"stack: expects each tensor to be equal size, but got \(2,\) at entry 0 and \(3,\) at entry 1"):
        gu.stack([gu.zeros(2), gu.zeros(3)])
    with pytest.raises(IndexError, match=r"stack: dimension out of range"):
        gu.stack([gu.zeros(2, 3)], 3)
    check_op(lambda a, b: gu.hstack([a, b]), lambda a, b: torch.hstack([a, b]), rand(2), rand(3))
    check_op(lambda a, b: gu.hstack([a, b]), lambda a, b: torch.hstack([a, b]), rand(2, 1), rand(2, 3))
    check_op(lambda a, b: gu.vstack([a, b]), lambda a, b: torch.vstack([a, b]), rand(3), rand(2, 3))


# --------------------------------------------------------------------- split / chunk / unbind
@pytest.mark.parametrize(
    "shape, arg, dim",
    [((5, 3), 2, 0), ((5, 3), [1, 4], 0), ((5, 3), (3, 0, 2), 0), ((2, 6), 6, 1), ((2, 6), 4, -1), ((2, 6), 7, 1), ((0, 2), 2, 0)],
)
def test_split(shape, arg, dim):
    gc = int(np.prod(shape)) > 0
    check_op(lambda a: a.split(arg, dim), lambda a: a.split(arg, dim), rand(*shape), check_gradcheck=gc)
    check_op(lambda a: gu.split(a, arg, dim=dim), lambda a: torch.split(a, arg, dim=dim), rand(*shape), check_gradcheck=gc)


@pytest.mark.parametrize("shape, chunks, dim", [((5, 2), 4, 0), ((6, 2), 4, 0), ((6,), 3, 0), ((2, 7), 3, 1), ((0,), 3, 0), ((3,), 5, 0)])
def test_chunk(shape, chunks, dim):
    gc = int(np.prod(shape)) > 0
    check_op(lambda a: a.chunk(chunks, dim), lambda a: a.chunk(chunks, dim), rand(*shape), check_gradcheck=gc)
    check_op(lambda a: gu.chunk(a, chunks, dim), lambda a: torch.chunk(a, chunks, dim), rand(*shape), check_gradcheck=gc)


@pytest.mark.parametrize("shape, dim", [((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1), ((1,), 0)])
def test_unbind(shape, dim):
    check_op(lambda a: a.unbind(dim), lambda a: a.unbind(dim), rand(*shape))
    check_op(lambda a: gu.unbind(a, dim), lambda a: torch.unbind(a, dim), rand(*shape))


def test_split_pieces_used_partly_and_twice():
    """Only some pieces reach the loss, one piece twice, another through a second graph."""

    def gu_run(a):
        p = gu.split(a * 1.0, [1, 2, 2], 0)
        return p[0] * p[0] + p[2][:1] * 3 + p[2][1:] * 2

    def t_run(a):
        p = torch.split(a * 1.0, [1, 2, 2], 0)
        return p[0] * p[0] + p[2][:1] * 3 + p[2][1:] * 2

    check_op(gu_run, t_run, rand(5, 3))


def test_split_backward_twice_with_retain_graph():
    x = gu.tensor(rand(4, 3), requires_grad=True)
    pieces = x.unbind(0)
    y = pieces[0] * 2 + pieces[3] * 3
    g = gu.tensor(rand(3, seed=5))
    y.backward(g, retain_graph=True)
    y.backward(g)
    expect = np.zeros((4, 3))
    expect[0], expect[3] = 4 * g.numpy(), 6 * g.numpy()
    np.testing.assert_allclose(x.grad.numpy(), expect)
    # a fresh pass through different pieces of the same split gets a fresh buffer
    x.grad = None
    pieces2 = x.chunk(2)
    (pieces2[1] * 5).backward(gu.ones(2, 3, dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), np.r_[np.zeros((2, 3)), 5 * np.ones((2, 3))])


def test_unbind_leaf_with_existing_grad_accumulates():
    x = gu.tensor(rand(3, 2), requires_grad=True)
    x.grad = gu.ones(3, 2, dtype=gu.float64)
    a, b, c = x.unbind()
    (a + 2 * c).backward(gu.ones(2, dtype=gu.float64))
    np.testing.assert_allclose(x.grad.numpy(), [[2, 2], [1, 1], [3, 3]])


def test_split_errors():
    with pytest.raises(RuntimeError, match=r"split: split sizes \[2, 2\] must sum exactly to 5"):
        gu.zeros(5).split([2, 2])
    with pytest.raises(RuntimeError, match=r"split: split sizes must be non-negative"):
        gu.zeros(5).split([2, -1, 4])
    with pytest.raises(RuntimeError, match=r"split: split_size must be positive"):
        gu.zeros(3).split(0)
    with pytest.raises(RuntimeError, match=r"split: expects at least a 1-dimensional tensor"):
        gu.tensor(1.0).split(1)
    with pytest.raises(RuntimeError, match=r"chunk: expects `chunks` to be greater than 0, got 0"):
        gu.zeros(6).chunk(0)
    with pytest.raises(RuntimeError, match=r"chunk: expects at least a 1-dimensional tensor"):
        gu.tensor(1.0).chunk(1)
    with pytest.raises(IndexError, match=r"unbind: expects at least a 1-dimensional tensor"):
        gu.tensor(1.0).unbind()
    with pytest.raises(IndexError, match=r"split: dimension out of range"):
        gu.zeros(2, 3).split(1, 2)


# ------------------------------------------------------------------------ gather / scatter
@pytest.mark.parametrize(
    "shape, dim, index",
    [
        ((3, 4), 1, [[0, 0, 3], [1, 2, 1], [3, 3, 3]]),
        ((3, 4), 0, [[0, 2, 1, 0], [2, 2, 2, 2]]),
        ((3, 4), 1, [[1, 2, 3, 0, 1]]),  # index may be longer along dim and shorter elsewhere
        ((2, 3, 4), -1, np.zeros((2, 3, 1), dtype=np.int64)),
        ((5,), 0, [4, 4, 0]),
        ((3, 4), 1, np.zeros((3, 0), dtype=np.int64)),
    ],
)
def test_gather(shape, dim, index):
    idx = np.asarray(index, dtype=np.int64)
    check_op(lambda a, i: a.gather(dim, i), lambda a, i: a.gather(dim, i), rand(*shape), idx)
    check_op(lambda a, i: gu.gather(a, dim, i), lambda a, i: torch.gather(a, dim, i), rand(*shape), idx)


def test_gather_0d():
    check_op(lambda a, i: gu.gather(a, 0, i), lambda a, i: torch.gather(a, 0, i), rand(), np.array(0))
    check_op(lambda a, i: gu.gather(a, 0, i), lambda a, i: torch.gather(a, 0, i), rand(), np.array([0, 0]))


def test_gather_errors():
    x = gu.zeros(3, 4)
    with pytest.raises(IndexError, match=r"gather: index 5 is out of bounds for dimension 1 with size 4"):
        x.gather(1, gu.tensor([[5]]))
    with pytest.raises(IndexError, match=r"gather: index -1 is out of bounds for dimension 1 with size 4"):
        x.gather(1, gu.tensor([[-1]]))
    with pytest.raises(RuntimeError, match=r"gather: index must have the same number of dimensions as input"):
        x.gather(1, gu.tensor([1]))
    with pytest.raises(RuntimeError, match=r"gather: index of shape \(1, 5\) must be no larger than input of shape \(3, 4\) in every dim but 0"):
        x.gather(0, gu.tensor([[1, 2, 0, 0, 0]]))
    with pytest.raises(TypeError, match=r"gather: index must be an integer tensor"):
        x.gather(1, gu.tensor([[1.0]]))


@pytest.mark.parametrize(
    "shape, dim, index, src_shape",
    [
        ((3, 4), 1, [[0, 0, 3], [1, 2, 1]], (2, 3)),
        ((3, 4), 0, [[0, 2, 0, 0], [0, 0, 0, 1]], (3, 5)),
        ((2, 3, 4), 2, np.ones((2, 3, 2), dtype=np.int64), (2, 3, 2)),
        ((4,), 0, [3, 3, 3, 0], (4,)),
    ],
)
def test_scatter_add(shape, dim, index, src_shape):
    idx = np.asarray(index, dtype=np.int64)
    src = rand(*src_shape, seed=3)
    # PyTorch's own backward rejects a src larger than index, so parity uses src cut to index's
    # shape; the larger src is covered by gradcheck alone.
    check_op(lambda a, i, s: a.scatter_add(dim, i, s), None, rand(*shape), idx, src)
    cut = src[tuple(slice(0, n) for n in idx.shape)]
    check_op(lambda a, i, s: a.scatter_add(dim, i, s), lambda a, i, s: a.scatter_add(dim, i, s), rand(*shape), idx, cut)
    check_op(
        lambda a, i, s: gu.scatter_add(a, dim, i, s), lambda a, i, s: torch.scatter_add(a, dim, i, s),
        rand(*shape), idx, cut, grad=[False, False, True],
    )


@pytest.mark.parametrize("dim, index", [(1, [[0, 2], [3, 1]]), (0, [[2, 0, 1, 2]])])
def test_scatter_unique_index(dim, index):
    idx = np.asarray(index, dtype=np.int64)
    src = rand(*idx.shape, seed=4)
    check_op(lambda a, i, s: gu.scatter(a, dim, i, s), lambda a, i, s: torch.scatter(a, dim, i, s), rand(3, 4), idx, src)
    check_op(lambda a, i, s: gu.scatter(a, dim, i, s), None, rand(3, 4), idx, rand(2, 4, seed=4))  # larger src
    check_op(lambda a, i: gu.scatter(a, dim, i, 2.5), lambda a, i: torch.scatter(a, dim, i, 2.5), rand(3, 4), idx)
    check_op(lambda a, i: gu.scatter(a, dim, i, value=-1.0), lambda a, i: torch.scatter(a, dim, i, value=-1.0), rand(3, 4), idx)
    check_op(
        lambda a, i, s: gu.scatter(a, dim, i, s, reduce="add"), lambda a, i, s: torch.scatter_add(a, dim, i, s),
        rand(3, 4), idx, src,
    )


def test_scatter_0d():
    i0 = np.array(0)
    check_op(lambda a, i, s: gu.scatter_add(a, 0, i, s), lambda a, i, s: torch.scatter_add(a, 0, i, s), rand(), i0, rand(seed=2))
    check_op(lambda a, i, s: gu.scatter(a, 0, i, s), lambda a, i, s: torch.scatter(a, 0, i, s), rand(), i0, rand(seed=2))
    check_op(lambda a, i: gu.scatter(a, 0, i, 3.0), lambda a, i: torch.scatter(a, 0, i, 3.0), rand(), i0)


def test_scatter_errors():
    x = gu.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"scatter_add: expected src to have the same dtype as input"):
        x.scatter_add(1, gu.tensor([[0]]), gu.ones(1, 1, dtype=gu.float64))
    with pytest.raises(IndexError, match=r"scatter_add: index 3 is out of bounds for dimension 1 with size 3"):
        x.scatter_add(1, gu.tensor([[0, 3]]), gu.ones(1, 2))
    with pytest.raises(RuntimeError, match=r"scatter_add: index of shape \(1, 2\) must be no larger than src of shape \(1, 1\)"):
        x.scatter_add(1, gu.tensor([[0, 0]]), gu.ones(1, 1))
    with pytest.raises(ValueError, match=r"scatter: reduce must be None or 'add'"):
        gu.scatter(x, 1, gu.tensor([[0]]), 1.0, reduce="mean")
    with pytest.raises(RuntimeError, match=r"scatter: expected src to have the same dtype as input"):
        gu.scatter(x, 1, gu.tensor([[0]]), gu.ones(1, 1, dtype=gu.int64))
    with pytest.raises(TypeError, match=r"scatter: expected a src tensor or a value"):
        gu.scatter(x, 1, gu.tensor([[0]]))


def test_scatter_add_int_tensors():
    out = gu.scatter_add(gu.zeros(4, dtype=gu.int64), 0, gu.tensor([1, 1, 3]), gu.tensor([5, 6, 7]))
    assert out.dtype is gu.int64 and out.tolist() == [0, 11, 0, 7]


# ------------------------------------------------------------ masked_fill / index_select
@pytest.mark.parametrize(
    "shape, mask_shape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((4,), (2, 4)), ((), ()), ((2, 3), ())]
)
def test_masked_fill(shape, mask_shape):
    mask = np.random.default_rng(sum(mask_shape)).random(mask_shape) > 0.5
    check_op(lambda a, m: a.masked_fill(m, -1.5), lambda a, m: a.masked_fill(m, -1.5), rand(*shape), mask)
    check_op(lambda a, m, v: gu.masked_fill(a, m, v), lambda a, m, v: torch.masked_fill(a, m, v), rand(*shape), mask, rand())


def test_masked_fill_dtypes_and_errors():
    x = gu.zeros(3, dtype=gu.int64)
    m = gu.tensor([True, False, True])
    assert x.masked_fill(m, 1.7).tolist() == [1, 0, 1]  # cast to int64 like PyTorch
    y = gu.zeros(3).masked_fill(m, gu.tensor(2.0, dtype=gu.float64))
    assert y.dtype is gu.float32
    assert gu.zeros(3).masked_fill(m, float("-inf")).tolist()[0] == float("-inf")
    with pytest.raises(RuntimeError, match=r"masked_fill: only supports boolean masks, but got mask with dtype float32"):
        gu.zeros(3).masked_fill(gu.ones(3), 1.0)
    with pytest.raises(RuntimeError, match=r"masked_fill: only supports a 0-dimensional value tensor, but got one of shape \(1,\)"):
        gu.zeros(3).masked_fill(m, gu.ones(1))
    with pytest.raises(RuntimeError, match=r"masked_fill: mask of shape \(2,\) cannot be broadcast with input of shape \(3,\)"):
        gu.zeros(3).masked_fill(gu.tensor([True, False]), 1.0)


def test_masked_select():
    with pytest.raises(RuntimeError, match=r"masked_select: expected a bool mask, got dtype int64"):
        gu.masked_select(gu.zeros(3), gu.tensor([1, 0, 1]))
    with pytest.raises(RuntimeError, match=r"masked_select: mask of shape \(2,\) cannot be broadcast with input of shape \(3,\)"):
        gu.masked_select(gu.zeros(3), gu.tensor([True, False]))
    mask = np.array([True, False, True, True])
    check_op(lambda a, m: gu.masked_select(a, m), lambda a, m: torch.masked_select(a, m), rand(3, 4), mask)
    check_op(lambda a, m: gu.masked_select(a, m), lambda a, m: torch.masked_select(a, m), rand(4), np.array([[True], [False]]))


@pytest.mark.parametrize(
    "shape, dim, index",
    [((4, 3), 0, [0, 2, 2, 3, 0]), ((4, 3), 1, [2]), ((4, 3), -1, []), ((2, 3, 4), 1, [1, 1, 1, 0]), ((4, 20), 0, [1, 1, 3, 1])],
)
def test_index_select(shape, dim, index):
    idx = np.asarray(index, dtype=np.int64)
    check_op(lambda a, i: a.index_select(dim, i), lambda a, i: a.index_select(dim, i), rand(*shape), idx)
    check_op(lambda a, i: gu.index_select(a, dim, i), lambda a, i: torch.index_select(a, dim, i), rand(*shape), idx)


def test_index_select_0d_index_and_errors():
    check_op(lambda a, i: a.index_select(1, i), lambda a, i: a.index_select(1, i), rand(2, 3), np.array(1))
    check_op(lambda a, i: a.index_select(0, i), lambda a, i: a.index_select(0, i), rand(), np.array([0]))
    x = gu.zeros(2, 3)
    with pytest.raises(IndexError, match=r"index_select: index 3 is out of bounds for dimension 1 with size 3"):
        x.index_select(1, gu.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"index_select: index -1 is out of bounds"):
        x.index_select(1, gu.tensor([-1]))
    with pytest.raises(IndexError, match=r"index_select: index is supposed to be a vector"):
        x.index_select(1, gu.tensor([[0, 1]]))


@pytest.mark.parametrize("dim, start, length", [(1, 0, 2), (1, -2, 2), (0, 1, 1), (1, 3, 0), (-1, 1, 2)])
def test_narrow(dim, start, length):
    check_op(lambda a: gu.narrow(a, dim, start, length), lambda a: torch.narrow(a, dim, start, length), rand(2, 3))


def test_select_and_narrow_errors():
    check_op(lambda a: gu.select(a, 1, -1), lambda a: torch.select(a, 1, -1), rand(2, 3))
    x = gu.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"narrow: start \(2\) \+ length \(2\) exceeds dimension 1 of size 3"):
        gu.narrow(x, 1, 2, 2)
    with pytest.raises(IndexError, match=r"narrow: start 4 is out of range for dimension 1 of size 3"):
        gu.narrow(x, 1, 4, 0)
    with pytest.raises(RuntimeError, match=r"narrow: length must be non-negative"):
        gu.narrow(x, 1, 0, -1)
    with pytest.raises(IndexError, match=r"select: index 3 is out of bounds for dimension 1 with size 3"):
        gu.select(x, 1, 3)
    with pytest.raises(RuntimeError, match=r"narrow: cannot be applied to a 0-d tensor"):
        gu.narrow(gu.tensor(1.0), 0, 0, 1)
    with pytest.raises(IndexError, match=r"select: cannot be applied to a 0-d tensor"):
        gu.select(gu.tensor(1.0), 0, 0)
    with pytest.raises(TypeError, match=r"narrow: start must be ints, got 1.5"):
        gu.narrow(x, 1, 1.5, 1)


# -------------------------------------------------------------------------------------- pad
@pytest.mark.parametrize(
    "shape, pads, value",
    [
        ((1, 3, 4), (1, 2), None),
        ((1, 3, 4), (1, 2, 0, 3), 1.5),
        ((1, 3, 4), (-1, -2, 1, 1), None),
        ((1, 3, 4), (0, 0, 0, 0, 2, 0), -2.0),
        ((3,), (2, 1), 0.5),
        ((3,), (-3, 0), None),
        ((), (), None),
        ((2, 2, 2, 2, 2), (1, 0, 0, 1), None),
    ],
)
def test_pad_constant(shape, pads, value):
    check_op(lambda a: pad(a, pads, value=value), lambda a: F.pad(a, pads, value=value), rand(*shape))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "shape, pads",
    [
        ((2, 5), (2, 1)),
        ((1, 2, 5), (4, 3)),
        ((1, 2, 5), (-1, 2)),
        ((1, 2, 5), (2, -1)),
        ((2, 4, 5), (1, 2, 3, 0)),
        ((1, 2, 4, 5), (1, 1, 2, 2)),
        ((2, 3, 3, 4), (1, 0, 2, 1, 0, 2)),
        ((1, 2, 3, 3, 4), (2, 1, 1, 1, 0, 1)),
    ],
)
def test_pad_modes(mode, shape, pads):
    check_op(lambda a: pad(a, pads, mode=mode), lambda a: F.pad(a, pads, mode=mode), rand(*shape))


def test_pad_float32_and_int():
    x = gu.randn(1, 2, 3, requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        y = pad(x, (1, 1), mode=mode)
        assert y.dtype is gu.float32
        y.backward(gu.ones(*y.shape))
        assert x.grad.dtype is gu.float32
    out = pad(gu.arange(3), (1, 1), value=1.5)
    assert out.dtype is gu.int64 and out.tolist() == [1, 0, 1, 2, 1]


@pytest.mark.parametrize(
    "shape, pads, mode, exc, match",
    [
        ((1, 3, 4), (1, 2, 3), "constant", RuntimeError, r"pad: padding length must be divisible by 2"),
        ((1, 3, 4), (1,) * 8, "constant", RuntimeError, r"pad: padding length should be less than or equal to two times the input dimension but got padding length 8 and input of dimension 3"),
        ((1, 3, 4), (-3, -2), "constant", RuntimeError, r"pad: the input size 4 plus padding -3 and -2 gives a negative output size"),
        ((1, 3, 4), (4, 1), "reflect", RuntimeError, r"pad: reflect padding size should be less than the corresponding input dimension, but got padding \(4, 1\) at dimension 2"),
        ((1, 3, 4), (5, 1), "circular", RuntimeError, r"pad: circular padding value causes wrapping around more than once"),
        ((3, 4), (1, 1, 1, 1), "replicate", NotImplementedError, r"pad: padding size 4 is not supported for 2-D input"),
        ((4,), (1, 1), "reflect", NotImplementedError, r"pad: padding size 2 is not supported for 1-D input"),
        ((1, 3, 4), (1, 1), "foo", NotImplementedError, r"pad: unrecognised padding mode 'foo'"),
        ((1, 3, 4), (-4, 1), "circular", RuntimeError, r"pad: circular padding \(-4, 1\) crops away all of dimension 2"),
        ((1, 3, 0), (1, 1), "replicate", RuntimeError, r"pad: replicate padding needs a non-empty dim 2"),
        ((1, 3, 2), (-3, 2), "constant", RuntimeError, r"pad: padding \(-3, 2\) crops more than the 2 elements of dimension 2"),
    ],
)
def test_pad_errors(shape, pads, mode, exc, match):
    with pytest.raises(exc, match=match):
        pad(gu.zeros(*shape), pads, mode=mode)


def test_pad_value_with_non_constant_mode():
    with pytest.raises(RuntimeError, match=r'pad: padding mode "reflect" doesn\'t take in value argument'):
        pad(gu.zeros(1, 3, 4), (1, 1), mode="reflect", value=3.0)
    assert pad(gu.zeros(1, 3, 4), (1, 1), mode="reflect", value=0).shape == (1, 3, 6)


# ------------------------------------------------------------------------------- dtype care
def test_float32_stays_float32():
    x = gu.randn(3, 4, requires_grad=True)
    idx = gu.tensor([[0, 1, 1, 2]])
    outs = [
        x.reshape(4, 3), x.t(), x.unsqueeze(0), x.expand(2, 3, 4), x.repeat(2, 1), x.flip(0), x.roll(1, 1),
        x.tril(), gu.stack([x, x]), x.gather(0, idx), x.scatter_add(0, idx, x[:1]),
        x.masked_fill(x > 0, 2.5), x.index_select(1, gu.tensor([0, 0])), x[[0, 0]], x[x > 0], *x.split(2),
    ]
    for o in outs:
        assert o.dtype is gu.float32
        o.backward(gu.ones(*o.shape), retain_graph=True)
        assert x.grad.dtype is gu.float32


# -------------------------------------------------------------------- property-based tests
shapes = st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple)


@requires_torch
@settings(max_examples=30, deadline=None)
@given(shape=shapes, data=st.data())
def test_permute_matches_torch_property(shape, data):
    perm = data.draw(st.permutations(list(range(len(shape)))))
    a = rand(*shape, seed=len(perm))
    x, t = gu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.permute(*perm), t.permute(perm)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    v = np.random.default_rng(0).standard_normal(ty.shape)
    y.backward(gu.tensor(v))
    ty.backward(torch.tensor(v))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@requires_torch
@settings(max_examples=30, deadline=None)
@given(shape=shapes, data=st.data())
def test_reshape_round_trip_property(shape, data):
    n = int(np.prod(shape))
    # a random factorisation of n into up to 4 factors, one of them maybe given as -1
    factors, rest = [], n
    for _ in range(data.draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        f = data.draw(st.sampled_from(divisors))
        factors.append(f)
        rest //= f
    factors.append(rest)
    order = data.draw(st.permutations(factors))
    new = list(order)
    if data.draw(st.booleans()):
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    a = rand(*shape, seed=1)
    x, t = gu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = x.reshape(new), t.reshape(new)
    assert tuple(y.shape) == tuple(ty.shape)
    back = y.reshape(shape)
    np.testing.assert_array_equal(back.detach().numpy(), a)
    v = np.random.default_rng(0).standard_normal(ty.shape)
    (y * gu.tensor(v)).reshape(shape).backward(gu.tensor(a))
    (ty * torch.tensor(v)).reshape(shape).backward(torch.tensor(a))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# -------------------------------------------------------------------------------- invariants
INVARIANT_OPS = {
    "split": lambda x: x.split(1, 1)[1],
    "unbind": lambda x: x.unbind(0)[2],
    "chunk_both": lambda x: gu.cat(x.chunk(2, 1), 0),
    "permute": lambda x: x.permute(1, 0),
    "expand_same": lambda x: x.expand(3, 4),
    "flip": lambda x: x.flip(0),
    "roll": lambda x: x.roll(1, 1),
    "repeat": lambda x: x.repeat(2, 1),
    "tril": lambda x: x.tril(),
    "stack": lambda x: gu.stack([x, x]),
    "gather": lambda x: x.gather(1, gu.tensor([[0, 0], [1, 3], [2, 2]])),
    "scatter_add": lambda x: x.scatter_add(0, gu.tensor([[0, 0, 1, 2]]), x[:1]),
    "masked_fill": lambda x: x.masked_fill(x > 0, 0.0),
    "index_select": lambda x: x.index_select(0, gu.tensor([2, 2, 0])),
    "narrow": lambda x: gu.narrow(x, 1, 1, 2),
    "reflect": lambda x: pad(x[None], (2, 1), mode="reflect"),
    "circular": lambda x: pad(x[None], (1, 1), mode="circular"),
    "mask_index": lambda x: x[x > 0],
}


@pytest.mark.parametrize("name", list(INVARIANT_OPS))
def test_invariants(name):
    """Inputs and the upstream gradient are never modified; ``.grad`` aliases neither."""
    a = rand(3, 4)
    x = gu.tensor(a.copy(), requires_grad=True)
    out = INVARIANT_OPS[name](x)
    g = gu.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    g_before = g.numpy().copy()
    out.backward(g)
    np.testing.assert_array_equal(x.detach().numpy(), a)
    np.testing.assert_array_equal(g.numpy(), g_before)
    assert not np.shares_memory(x.grad.data, g.data) and not np.shares_memory(x.grad.data, x.data)
