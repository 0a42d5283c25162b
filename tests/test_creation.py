"""Creation functions and the seeded RNG."""

import numpy as np
import pytest

import groundup as gu
from tests.helpers import requires_torch, torch

CREATORS = [
    lambda m: m.zeros(2, 3),
    lambda m: m.zeros((2, 3), dtype=m.int64),
    lambda m: m.ones(4),
    lambda m: m.ones([2, 2], dtype=m.float64),
    lambda m: m.full((2, 2), 7),
    lambda m: m.full((2,), 1.5),
    lambda m: m.full((2,), True),
    lambda m: m.zeros_like(m.ones(2, 3, dtype=m.float64)),
    lambda m: m.ones_like(m.ones(2, dtype=m.int32)),
    lambda m: m.full_like(m.ones(3), 4.0),
    lambda m: m.arange(5),
    lambda m: m.arange(1, 4),
    lambda m: m.arange(0, 1, 0.25),
    lambda m: m.arange(10, 0, -3),
    lambda m: m.arange(0.0, 5),
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.linspace(-2, 2, 1),
    lambda m: m.eye(3),
    lambda m: m.eye(2, 4, dtype=m.float64),
    lambda m: m.empty(2, 2) * 0,
]


@requires_torch
@pytest.mark.parametrize("i", range(len(CREATORS)))
def test_creation_matches_torch(i):
    g, t = CREATORS[i](gu), CREATORS[i](torch)
    assert g.dtype.name == str(t.dtype).replace("torch.", "")
    assert tuple(g.shape) == tuple(t.shape)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-6)


def test_random_shapes_and_dtypes():
    assert gu.rand(2, 3).dtype is gu.float32 and gu.randn((4,)).shape == (4,)
    assert gu.rand(2, dtype=gu.float64).dtype is gu.float64
    r = gu.randint(3, 7, (1000,))
    assert r.dtype is gu.int64 and 3 <= r.numpy().min() and r.numpy().max() <= 6
    assert gu.randint(5, size=(3,)).shape == (3,)
    p = gu.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype is gu.int64
    u = gu.rand(10000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = gu.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    with pytest.raises(TypeError, match="rand: expected a floating dtype"):
        gu.rand(2, dtype=gu.int64)
    with pytest.raises(RuntimeError, match="randint: expected low < high"):
        gu.randint(5, 5, (2,))


def test_manual_seed_repeats_bit_for_bit():
    def draw():
        return np.concatenate([gu.rand(5).numpy(), gu.randn(5).numpy(), gu.randint(0, 100, (5,)).numpy(),
                               gu.randperm(5).numpy(), gu.ones(5).uniform_().numpy(), gu.ones(5).normal_().numpy()])

    gu.manual_seed(123)
    a = draw()
    gu.manual_seed(123)
    b = draw()
    gu.manual_seed(124)
    c = draw()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generator_is_independent_of_global_stream():
    g1 = gu.Generator().manual_seed(5)
    gu.manual_seed(0)
    a = gu.rand(3, generator=g1)
    gu.rand(100)
    g2 = gu.Generator().manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), gu.rand(3, generator=g2).numpy())


def test_rng_state_roundtrip():
    gu.manual_seed(7)
    state = gu.get_rng_state()
    a = gu.randn(4).numpy()
    gu.set_rng_state(state)
    np.testing.assert_array_equal(a, gu.randn(4).numpy())
    assert gu.initial_seed() == 7


def test_multinomial():
    gu.manual_seed(0)
    s = gu.multinomial(gu.tensor([0.0, 1.0, 3.0]), 4000, replacement=True)
    counts = np.bincount(s.numpy(), minlength=3)
    assert counts[0] == 0 and abs(counts[2] / counts[1] - 3) < 0.4
    assert sorted(gu.multinomial(gu.ones(2, 5), 5).numpy()[0].tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="without replacement"):
        gu.multinomial(gu.ones(3), 4)


def test_requires_grad_on_creation():
    assert gu.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="only floating point"):
        gu.zeros(2, dtype=gu.int64, requires_grad=True)


def test_size_argument_errors():
    with pytest.raises(TypeError, match=r"zeros: sizes must be ints"):
        gu.zeros(2.5)
    with pytest.raises(RuntimeError, match="arange: step must be nonzero"):
        gu.arange(0, 5, 0)


def test_num_threads_roundtrip():
    pytest.importorskip("threadpoolctl")
    before = gu.get_num_threads()
    gu.set_num_threads(1)
    assert gu.get_num_threads() == 1
    gu.set_num_threads(before)
    assert gu.get_num_threads() == before
    with pytest.raises(ValueError, match="positive int"):
        gu.set_num_threads(0)
