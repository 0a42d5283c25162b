"""Tensor construction, attributes, dtype rules, conversion and repr, checked against PyTorch."""

import numpy as np
import pytest

import groundup as gu
from tests.helpers import requires_torch, torch


def test_python_data_dtype_inference():
    assert gu.tensor(1.5).dtype is gu.float32
    assert gu.tensor([1, 2]).dtype is gu.int64
    assert gu.tensor([True, False]).dtype is gu.bool
    assert gu.tensor([1, 2.5]).dtype is gu.float32
    assert gu.tensor(np.zeros(2, dtype=np.float64)).dtype is gu.float64
    assert gu.tensor(np.zeros(2, dtype=np.int32)).dtype is gu.int32
    assert gu.tensor([1, 2], dtype=gu.float64).dtype is gu.float64
    assert gu.Tensor([1, 2]).dtype is gu.float32  # torch.Tensor(...) makes float tensors


def test_tensor_copies_numpy_but_from_numpy_shares():
    a = np.arange(3.0)
    t, s = gu.tensor(a), gu.from_numpy(a)
    a[0] = 9.0
    assert t.tolist() == [0.0, 1.0, 2.0] and s.tolist()[0] == 9.0


def test_bad_data_gives_clear_errors():
    with pytest.raises(ValueError, match="could not build a tensor"):
        gu.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="not supported"):
        gu.tensor(np.zeros(2, dtype=np.complex64))
    with pytest.raises(TypeError, match="could not infer a dtype"):
        gu.tensor(["a", "b"])


def test_attributes():
    t = gu.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert repr(t.shape) == "groundup.Size([2, 3, 4])"
    assert t.size() == (2, 3, 4) and t.size(-1) == 4 and t.size(1) == 3
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and t.shape.numel() == 24
    assert t.is_leaf and not t.requires_grad and t.grad is None
    assert str(t.device) == "cpu" and t.to("cpu") is t
    with pytest.raises(IndexError, match="size: dimension out of range"):
        t.size(3)


def test_item_and_conversions():
    assert gu.tensor([[2.5]]).item() == 2.5
    assert isinstance(gu.tensor(3).item(), int)
    with pytest.raises(RuntimeError, match="item: a Tensor with 2 elements"):
        gu.tensor([1.0, 2.0]).item()
    assert float(gu.tensor(1.5)) == 1.5 and int(gu.tensor(7)) == 7
    assert [10, 20, 30][gu.tensor(1)] == 20
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gu.tensor([1.0, 2.0]))
    assert bool(gu.tensor([1.0]))
    assert len(gu.zeros(5, 2)) == 5
    assert [r.tolist() for r in gu.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_numpy_refuses_tensors_that_require_grad():
    x = gu.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_to_and_casts():
    t = gu.tensor([1.7, -2.2])
    assert t.double().dtype is gu.float64 and t.float().dtype is gu.float32
    assert t.long().tolist() == [1, -2] and t.long().dtype is gu.int64
    assert t.int().dtype is gu.int32 and t.bool().tolist() == [True, True]
    assert t.to(gu.float64).dtype is gu.float64 and t.to(dtype=gu.float16).dtype is gu.float16
    assert t.to(gu.zeros(1, dtype=gu.float64)).dtype is gu.float64
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        t.to("cuda")


def test_cast_is_differentiable_between_float_dtypes():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3.0
    assert y.dtype is gu.float64
    y.backward(gu.ones(2, dtype=gu.float64))
    assert x.grad.dtype is gu.float32 and x.grad.tolist() == [3.0, 3.0]
    assert not x.long().requires_grad


def test_clone_is_a_copy_with_gradient():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    (c * 2.0).backward(gu.ones(2))
    assert x.grad.tolist() == [2.0, 2.0]


PROMOTIONS = [
    # (lhs, rhs) built by lambdas, so the same expression runs in both libraries
    lambda m: m.ones(3, dtype=m.float32) * 2.5,
    lambda m: m.ones(3, dtype=m.float32) + 2,
    lambda m: m.ones(3, dtype=m.int64) + 2.5,
    lambda m: m.ones(3, dtype=m.int64) / 2,
    lambda m: m.ones(3, dtype=m.int32) + 2,
    lambda m: m.ones(3, dtype=m.bool) + 1,
    lambda m: m.ones(3, dtype=m.float32) + m.tensor(2.0, dtype=m.float64),
    lambda m: m.ones(3, dtype=m.float32) + m.ones(3, dtype=m.float64),
    lambda m: m.ones(3, dtype=m.int64) + m.tensor(2.0, dtype=m.float64),
    lambda m: m.ones(3, dtype=m.int32) + m.ones(3, dtype=m.int64),
    lambda m: m.ones(3, dtype=m.float16) * m.ones(3, dtype=m.float32),
    lambda m: m.ones(3, dtype=m.int64) * m.tensor(2, dtype=m.int32),
    lambda m: 2.0 ** m.ones(3, dtype=m.int64),
    lambda m: m.ones(3, dtype=m.uint8) + m.ones(3, dtype=m.int8),
    lambda m: m.ones(3, dtype=m.float32) > 0.5,
]


@requires_torch
@pytest.mark.parametrize("expr", range(len(PROMOTIONS)))
def test_type_promotion_matches_torch(expr):
    g, t = PROMOTIONS[expr](gu), PROMOTIONS[expr](torch)
    assert g.dtype.name == str(t.dtype).replace("torch.", "")
    np.testing.assert_allclose(g.numpy().astype(np.float64), t.numpy().astype(np.float64))


def test_float32_never_silently_becomes_float64():
    x = gu.randn(4, 4, requires_grad=True)
    y = ((x * 2.0 + 1) / 3.0).exp().sigmoid().tanh() ** 2 - x.abs().sqrt() * np.float64(0.5)
    assert y.dtype is gu.float32
    y.backward(gu.ones(4, 4))
    assert x.grad.dtype is gu.float32


REPRS = [
    lambda m: m.tensor([1.0, 2.0, 3.0]),
    lambda m: m.tensor([[0.1234567, -1.5], [2.0, 300.25]]),
    lambda m: m.tensor([1, 2, 3]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor(2.5),
    lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([1e-5, 3.0]),
    lambda m: m.tensor([[1.0, 2.0]], requires_grad=True),
    lambda m: m.zeros(0, 3),
    lambda m: m.tensor([]),
]


@requires_torch
@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](gu)) == repr(REPRS[i](torch)).replace("torch.", "groundup.")


def test_repr_shows_grad_fn():
    assert "grad_fn=<MulBackward>" in repr(gu.ones(2, requires_grad=True) * 2.0)


def test_dtype_objects():
    assert repr(gu.float32) == "groundup.float32" and gu.float is gu.float32 and gu.long is gu.int64
    assert gu.float32.is_floating_point and not gu.int64.is_floating_point and gu.float64.itemsize == 8
    gu.set_default_dtype(gu.float64)
    try:
        assert gu.tensor(1.5).dtype is gu.float64 and gu.zeros(2).dtype is gu.float64
    finally:
        gu.set_default_dtype(gu.float32)
    with pytest.raises(TypeError, match="only floating dtypes"):
        gu.set_default_dtype(gu.int64)


def test_new_helpers():
    t = gu.ones(2, dtype=gu.float64)
    assert t.new_zeros(3).dtype is gu.float64 and t.new_ones((2, 2)).shape == (2, 2)
    assert t.new_full((2,), 7.0).tolist() == [7.0, 7.0] and t.new_tensor([1, 2]).dtype is gu.float64
