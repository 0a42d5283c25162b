"""Indexing (``x[key]`` and ``x[key] = value``): PyTorch parity forward/backward, views, errors."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from tests.helpers import check_op, rand, requires_torch, torch

I = np.array  # noqa: E741  (short name for integer index arrays in the key table)


def convert(key, lib):
    """The same key for groundup or torch: NumPy arrays become the library's tensors."""
    if isinstance(key, tuple):
        return tuple(convert(k, lib) for k in key)
    if isinstance(key, np.ndarray):
        return gu.tensor(key) if lib == "gu" else torch.tensor(key)
    return key


def check_index(shape, key, **kw):
    gk = convert(key, "gu")
    tk = convert(key, "torch") if torch is not None else None
    check_op(lambda a: a[gk], lambda a: a[tk], rand(*shape), **kw)


BASIC_KEYS = [
    1, -1, slice(1, None), (slice(None), 2), (Ellipsis, 1), (None, 0), slice(None, None, 2),
    (1, slice(0, 4, 3)), (slice(None), None, slice(1, 3)), (Ellipsis,), (), (-1, -1, -1),
    (slice(-2, None), Ellipsis, slice(None, 1)), (0, Ellipsis, None), slice(5, 10), slice(2, 1),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_indexing(key):
    check_index((3, 4, 5), key)


def test_basic_indexing_0d_and_1d():
    check_index((), ())
    check_index((), None)
    check_index((), Ellipsis)
    check_index((4,), 2)
    check_index((1,), (0, None))


ADVANCED_KEYS = [
    [0, 2, 2],  # a list: repeated rows accumulate
    I([0, 2, 2, 0]),
    I([-1, 0, -3]),
    (I([0, 1]), I([1, 3])),
    ([0, 1], [1, 3]),  # tuple of lists
    (slice(None), I([0, 0, 3])),
    (I([[0], [2]]), I([1, 2, 2])),  # broadcasting index arrays
    (slice(1, None), I([3, 3]), slice(0, 4, 2)),  # adjacent arrays inside slices
    (I([0, 2]), slice(None), I([4, 4])),  # separated arrays: the result dims go first
    (1, I([0, 0, 2])),  # an int next to an array
    (Ellipsis, I([1, 1])),
    (None, I([2, 0])),
    (I([0, 1]), None, I([1, 1])),
    I([[0, 1], [1, 1]]),
    I(np.zeros(0, dtype=np.int64)),
    [],
    (I(1), I([0, 0])),  # a 0-d integer tensor acts as an int
]


@pytest.mark.parametrize("key", ADVANCED_KEYS, ids=repr)
def test_advanced_indexing(key):
    check_index((3, 4, 5), key)


BOOL_KEYS = [
    I(np.random.default_rng(0).random((3, 4, 5)) > 0.5),  # full mask
    I([True, False, True]),  # rows
    (slice(None), I([False, True, True, False])),
    (I([True, False, True]), slice(1, 3)),
    (I(np.random.default_rng(1).random((3, 4)) > 0.3), I([0, 4, 4, 1, 2, 3, 0, 1, 2, 3, 4, 0])[:1]),
    (I([True, False, True]), I([1, 3])),  # mask + integer array
    I(np.zeros((3, 4, 5), dtype=bool)),
    True,
    (Ellipsis, I([True, False, False, True, True])),
]


@pytest.mark.parametrize("key", BOOL_KEYS, ids=lambda k: repr(k)[:40])
def test_bool_mask_indexing(key):
    check_index((3, 4, 5), key)


def test_bool_mask_from_comparison():
    x = gu.tensor(rand(3, 4), requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy()[x.detach().numpy() > 0])
    check_op(lambda a: a[a > 0] * 2, lambda a: a[a > 0] * 2, rand(3, 4))


@pytest.mark.parametrize("shape", [(40, 3), (6, 40), (5,), (7, 2, 20)])
def test_repeated_indices_accumulate(shape):
    """Both backward paths: tiny rows (flat np.add.at) and long rows (sorted reduceat)."""
    idx = np.random.default_rng(0).integers(0, shape[0], size=60)
    check_index(shape, idx)
    check_index(shape, (idx, Ellipsis))
    a = gu.tensor(rand(*shape), requires_grad=True)
    a[gu.tensor(idx)].backward(gu.ones(60, *shape[1:], dtype=gu.float64))
    counts = np.bincount(idx, minlength=shape[0]).reshape((-1,) + (1,) * (len(shape) - 1))
    np.testing.assert_array_equal(a.grad.numpy(), np.broadcast_to(counts, shape))


def test_unique_indices_long_rows():
    check_index((5, 20), I([4, 1, 3]))
    check_index((5, 20), I([[0, 2], [4, 3]]))
    # a nested list is an index tensor (NumPy's rule and PyTorch's announced one; old PyTorch
    # read it as a tuple of per-dim indices, with a deprecation warning)
    x = gu.tensor(rand(5, 20))
    np.testing.assert_array_equal(x[[[0, 2], [4, 3]]].numpy(), x[gu.tensor([[0, 2], [4, 3]])].numpy())


def test_repeated_index_pairs_accumulate():
    rows, cols = I([0, 1, 0, 0]), I([2, 2, 2, 1])
    check_index((3, 4), (rows, cols))
    check_index((3, 4, 30), (rows, cols))
    check_index((2, 3, 4), (slice(None), rows[:3] % 3, cols[:3]))


def test_cross_entropy_style_pick():
    n = 6
    target = np.random.default_rng(3).integers(0, 5, n)
    check_index((n, 5), (np.arange(n), target))


def test_tensor_keys_inside_tuples_and_int_dtypes():
    x = gu.tensor(rand(3, 4))
    for idx in (gu.tensor([0, 2], dtype=gu.int32), np.array([0, 2], dtype=np.uint8), gu.tensor(2)):
        out = x[idx, 1:]
        np.testing.assert_array_equal(out.numpy(), x.numpy()[np.asarray(idx.numpy() if isinstance(idx, gu.Tensor) else idx), 1:])


def test_basic_index_is_view_advanced_is_copy():
    x = gu.randn(3, 4)
    for key in (0, (slice(None), 1), (Ellipsis, None, slice(1, 3)), slice(None, None, 2)):
        assert np.shares_memory(x[key].data, x.data)
    for key in ([0, 1], x > 0, (gu.tensor([0]), 0)):
        assert not np.shares_memory(x[key].data, x.data)
    v = x[1]
    x[1, 2] = 42.0  # a later write shows through the view, as in PyTorch
    assert v[2].item() == 42.0
    assert x[0, 0].shape == () and isinstance(x[0, 0].data, np.ndarray)


def test_grad_flows_and_dtype_kept():
    x = gu.randn(3, 4, requires_grad=True)
    y = x[1:, [0, 0, 2]]
    assert y.dtype is gu.float32 and y.requires_grad
    y.backward(gu.ones(2, 3))
    assert x.grad.dtype is gu.float32
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 0], [2, 0, 1, 0], [2, 0, 1, 0]])
    z = gu.arange(6)[gu.tensor([True, False, True, False, False, True])]
    assert z.dtype is gu.int64 and z.tolist() == [0, 2, 5]


@pytest.mark.parametrize(
    "key, exc, match",
    [
        (5, IndexError, r"getitem: index 5 is out of bounds for dimension 0 with size 3"),
        (-4, IndexError, r"getitem: index -4 is out of bounds for dimension 0 with size 3"),
        ((slice(None), 7), IndexError, r"getitem: index 7 is out of bounds for dimension 1 with size 4"),
        ((Ellipsis, -5), IndexError, r"getitem: index -5 is out of bounds for dimension 1 with size 4"),
        (I([0, 3]), IndexError, r"getitem: index 3 is out of bounds for dimension 0 with size 3"),
        ((slice(None), I([-5])), IndexError, r"getitem: index -5 is out of bounds for dimension 1 with size 4"),
        ((0, 0, 0), IndexError, r"getitem: too many indices for tensor of dimension 2 \(shape \(3, 4\)\): got 3"),
        (I([True, False]), IndexError, r"getitem: the shape of the mask \(2,\) at index 0 does not match the shape of the indexed tensor \(3, 4\)"),
        (1.5, IndexError, r"getitem: only integers, slices .* \(got float\)"),
        ("a", IndexError, r"getitem: only integers, slices .* \(got str\)"),
        (I([1.0]), IndexError, r"getitem: tensors used as indices must be integer or bool tensors, got dtype float"),
        (slice(None, None, -1), ValueError, r"getitem: step must be greater than zero, got slice step -1.*flip"),
        (slice(None, None, 0), ValueError, r"getitem: slice step cannot be zero"),
        ((Ellipsis, Ellipsis), IndexError, r"getitem: an index can only have a single ellipsis"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_getitem_errors(key, exc, match):
    x = gu.zeros(3, 4)
    with pytest.raises(exc, match=match):
        x[convert(key, "gu")]


def test_getitem_list_errors():
    with pytest.raises(IndexError, match=r"getitem: tensors used as indices must be integer or bool tensors, got dtype float64"):
        gu.zeros(3)[[0.5, 1.0]]
    with pytest.raises(TypeError, match=r"getitem: slice bounds must be integers or None, got slice\(1, 2.5, None\)"):
        gu.zeros(3)[1:2.5]


def test_getitem_0d_errors():
    with pytest.raises(IndexError, match=r"getitem: invalid index 0 of a 0-d tensor"):
        gu.tensor(1.0)[0]
    with pytest.raises(IndexError, match=r"getitem: too many indices for tensor of dimension 0"):
        gu.tensor(1.0)[:]


def test_iteration_uses_getitem():
    x = gu.tensor(rand(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and rows[1].shape == (2,)
    (rows[0] * 2 + rows[2]).backward(gu.ones(2, dtype=gu.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2], [0, 0], [1, 1]])


# ------------------------------------------------------------------------------------ setitem
SET_CASES = [
    (1, 5.0),
    ((slice(None), 0), np.arange(5.0)),
    ((Ellipsis, slice(1, 3)), np.ones((3, 1, 2))),
    (I([0, 2]), -1.0),
    ((I([0, 1]), I([1, 2])), np.array([[7.0], [8.0]])),
    (I(np.random.default_rng(0).random((3, 4, 5)) > 0.5), 0.0),
    ((I([True, False, True]), 0), np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])),
    ((0, None, slice(None, None, 2)), np.full((2, 1), 3.0)),
]


@requires_torch
@pytest.mark.parametrize("key, value", SET_CASES, ids=lambda v: repr(v)[:30])
def test_setitem_matches_torch(key, value):
    a = rand(3, 4, 5)
    x, t = gu.tensor(a), torch.tensor(a)
    x[convert(key, "gu")] = value if np.isscalar(value) else gu.tensor(value)
    t[convert(key, "torch")] = value if np.isscalar(value) else torch.tensor(value)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_setitem_bumps_version_and_casts():
    x = gu.zeros(2, 3, dtype=gu.int64)
    v0 = x._version
    x[0] = 1.7  # cast to int64, as PyTorch truncates
    assert x._version == v0 + 1 and x.dtype is gu.int64
    x[1, 1:] = gu.tensor([2.9, -3.2], dtype=gu.float64)
    assert x.tolist() == [[1, 1, 1], [0, 2, -3]]
    b = gu.zeros(3, dtype=gu.bool)
    b[gu.tensor([0, 2])] = True
    assert b.tolist() == [True, False, True]
    f = gu.zeros(3)
    f[1] = gu.tensor(2.5, dtype=gu.float64)
    assert f.dtype is gu.float32 and f.tolist() == [0.0, 2.5, 0.0]


def test_setitem_requires_grad_rules():
    w = gu.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"setitem: in-place assignment to a tensor that requires grad .*where/masked_fill/cat.*no_grad"):
        w[0] = 1.0
    with gu.no_grad():
        w[0] = 1.0  # allowed: e.g. an initialisation
    assert w.tolist()[0] == [1.0, 1.0, 1.0] and w.requires_grad
    x = gu.zeros(3)
    v = gu.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"setitem: the value \(shape \(\)\) requires grad"):
        x[0] = v
    with gu.no_grad():
        x[0] = v
    x[1] = v.detach()
    assert x.tolist() == [2.0, 2.0, 0.0]


def test_setitem_after_use_breaks_backward():
    """The version bump lets backward notice that a saved input was overwritten."""
    a = gu.tensor(rand(3), requires_grad=True)
    b = gu.tensor(rand(3, seed=1))
    y = a * b
    b[0] = 10.0
    with pytest.raises(RuntimeError, match=r"modified in place"):
        y.backward(gu.ones(3, dtype=gu.float64))


def test_setitem_errors():
    x = gu.zeros(3, 4)
    with pytest.raises(IndexError, match=r"setitem: index 3 is out of bounds for dimension 0 with size 3"):
        x[3] = 1.0
    with pytest.raises(IndexError, match=r"setitem: index 9 is out of bounds for dimension 1 with size 4"):
        x[:, gu.tensor([0, 9])] = 1.0
    with pytest.raises(RuntimeError, match=r"setitem: shape mismatch: value of shape \(3,\) cannot be broadcast to the indexing result of shape \(2, 4\)"):
        x[:2] = gu.ones(3)
    with pytest.raises(ValueError, match=r"setitem: step must be greater than zero"):
        x[::-1] = 0.0
    with pytest.raises(RuntimeError, match=r"setitem: this tensor .* is a read-only view"):
        gu.zeros(1, 4).expand(3, 4)[0] = 1.0
