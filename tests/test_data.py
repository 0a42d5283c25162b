"""groundup.utils.data: datasets, samplers, default_collate and DataLoader (checked against PyTorch)."""

import collections
import time

import numpy as np
import pytest

import groundup as gu
from groundup.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)
from tests.helpers import requires_torch, torch


def _np(x):
    """Nested structure of tensors → same structure of NumPy arrays (for either library)."""
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_np(v) for v in x) if not hasattr(x, "_fields") else type(x)(*(_np(v) for v in x))
    if isinstance(x, gu.Tensor):
        return x.numpy()
    if torch is not None and isinstance(x, torch.Tensor):
        return x.numpy()
    return x


def _assert_same(a, b):
    """``a`` (groundup) and ``b`` (torch or groundup) have the same structure, dtypes and values."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and a.keys() == b.keys()
        for k in b:
            _assert_same(a[k], b[k])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif torch is not None and isinstance(b, torch.Tensor):
        assert isinstance(a, gu.Tensor)
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(b, gu.Tensor):
        assert isinstance(a, gu.Tensor) and a.dtype is b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        assert a == b


def _xy(n=10, d=3, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal((n, d)).astype(np.float32), r.integers(0, 5, n)


# --------------------------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_errors():
    x, y = _xy()
    ds = TensorDataset(gu.tensor(x), gu.tensor(y))
    assert len(ds) == 10
    xi, yi = ds[3]
    np.testing.assert_array_equal(xi.numpy(), x[3])
    assert yi.item() == y[3] and yi.dtype is gu.int64
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(gu.zeros(3, 2), gu.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(gu.tensor(1.0))
    assert TensorDataset(x).tensors[0].shape == (10, 3)  # NumPy arrays are accepted


def test_subset_and_concat():
    ds = TensorDataset(gu.arange(10))
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][0].item() == 7 and sub[2][0].item() == 5
    cat = ConcatDataset([Subset(ds, [0, 1]), Subset(ds, [9])]) + TensorDataset(gu.arange(100, 103))
    assert [cat[i][0].item() for i in range(len(cat))] == [0, 1, 9, 100, 101, 102]
    assert cat[-1][0].item() == 102 and cat.cumulative_sizes == [3, 6]
    with pytest.raises(IndexError):
        cat[6]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@requires_torch
@pytest.mark.parametrize(
    "n,lengths",
    [(10, [3, 7]), (11, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (100, [0.8, 0.1, 0.1]), (5, [0.1, 0.2, 0.7]), (3, [1.0])],
)
def test_random_split_lengths_match_torch(n, lengths):
    ours = random_split(TensorDataset(gu.arange(n)), lengths, generator=gu.Generator(0))
    theirs = torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.arange(n)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    all_idx = sorted(i for s in ours for i in s.indices)
    assert all_idx == list(range(n))  # disjoint and covering


def test_random_split_determinism_and_errors():
    ds = TensorDataset(gu.arange(20))
    a = random_split(ds, [0.5, 0.5], generator=gu.Generator(3))
    b = random_split(ds, [0.5, 0.5], generator=gu.Generator(3))
    assert a[0].indices == b[0].indices
    gu.manual_seed(1)
    c = random_split(ds, [10, 10])
    gu.manual_seed(1)
    assert random_split(ds, [10, 10])[1].indices == c[1].indices
    with pytest.raises(ValueError, match=r"sum of input lengths \(19.*does not equal the length of the input dataset \(20\)"):
        random_split(ds, [9, 10])
    with pytest.raises(ValueError, match="fractions that sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="negative"):
        random_split(ds, [25, -5])
    with pytest.warns(UserWarning, match="is 0; that subset is empty"):
        random_split(TensorDataset(gu.arange(2)), [0.9, 0.05, 0.05])


# --------------------------------------------------------------------------------- samplers
def test_samplers():
    ds = list(range(7))
    assert list(SequentialSampler(ds)) == list(range(7)) and len(SequentialSampler(ds)) == 7
    s = RandomSampler(ds, generator=gu.Generator(0))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == list(range(7)) and e1 != e2  # a fresh permutation each epoch
    s2 = RandomSampler(ds, generator=gu.Generator(0))
    assert list(s2) == e1 and list(s2) == e2
    big = list(RandomSampler(ds, num_samples=17, generator=gu.Generator(1)))
    assert len(big) == 17 and sorted(big[:7]) == list(range(7)) and sorted(big[7:14]) == list(range(7))
    rep = list(RandomSampler(ds, replacement=True, num_samples=50, generator=gu.Generator(2)))
    assert len(rep) == 50 and set(rep) <= set(range(7)) and len(set(rep)) < 50
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([])
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(ds, replacement=1)
    sub = list(SubsetRandomSampler([3, 5, 9], generator=gu.Generator(0)))
    assert sorted(sub) == [3, 5, 9]


@requires_torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(drop_last):
    ours = BatchSampler(SequentialSampler(range(10)), 3, drop_last)
    theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(10)), 3, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(BatchSampler([4, 1, 2, 8], 3, drop_last)) == list(torch.utils.data.BatchSampler([4, 1, 2, 8], 3, drop_last))
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            BatchSampler(range(3), bad, drop_last)


# --------------------------------------------------------------------------------- collate
Point = collections.namedtuple("Point", ["x", "y"])


def _samples(m):
    """Equivalent sample lists for groundup and torch (m is the library)."""
    r = np.random.default_rng(0)
    arrs = [r.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]
    return [
        [m.tensor(a) for a in arrs],
        arrs,
        [np.float64(1.5), np.float64(2.0)],
        [np.int32(3), np.int32(4)],
        [1, 2, 3],
        [1.0, 2.5],
        [True, False],
        ["a", "b"],
        [(m.tensor(a), i) for i, a in enumerate(arrs)],
        [[m.tensor(a), float(i)] for i, a in enumerate(arrs)],
        [{"img": m.tensor(a), "label": i, "name": f"s{i}"} for i, a in enumerate(arrs)],
        [Point(m.tensor(a), i) for i, a in enumerate(arrs)],
        [{"nested": (np.ones(2, dtype=np.int64) * i, [i, i + 1])} for i in range(2)],
    ]


@requires_torch
@pytest.mark.parametrize("case", range(13))
def test_default_collate_matches_torch(case):
    ours = default_collate(_samples(gu)[case])
    theirs = torch.utils.data.default_collate(_samples(torch)[case])
    _assert_same(ours, theirs)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([gu.zeros(2), gu.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])
    # tensors that require grad keep their graph (as torch.stack would)
    a, b = gu.ones(2, requires_grad=True), gu.ones(2, requires_grad=True)
    out = default_collate([a, b])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1])


# --------------------------------------------------------------------------------- DataLoader
class Squares(Dataset):
    """A generic map-style dataset (no fast path): sample i is (i, i**2) as NumPy values."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, i * i], dtype=np.float32), i


@requires_torch
@pytest.mark.parametrize(
    "kw",
    [dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=1), dict(batch_size=10),
     dict(batch_size=None), dict(batch_size=3, num_workers=2)],
)  # fmt: skip
def test_sequential_loader_matches_torch(kw):
    ours, theirs = DataLoader(Squares(10), **kw), torch.utils.data.DataLoader(Squares(10), **kw)
    assert len(ours) == len(theirs)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        _assert_same(a, b)


@requires_torch
@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)])
def test_tensor_dataset_loader_matches_torch(kw):
    x, y = _xy(8)
    ours = list(DataLoader(TensorDataset(gu.tensor(x), gu.tensor(y)), **kw))
    theirs = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), **kw))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _assert_same(a, b)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 7, 16])
def test_fast_path_equals_generic_path(batch_size, drop_last):
    x, y = _xy(16)
    ds = TensorDataset(gu.tensor(x), gu.tensor(y))
    for data in (ds, Subset(ds, [5, 3, 9, 0, 1, 2, 15, 8, 7]), random_split(ds, [10, 6], generator=gu.Generator(1))[0]):
        fast = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=drop_last, generator=gu.Generator(4))
        slow = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=drop_last, generator=gu.Generator(4),
                          collate_fn=default_collate)  # fmt: skip
        assert len(fast) == len(slow)
        for _ in range(2):  # two epochs: both paths draw the same permutations
            a, b = list(fast), list(slow)
            assert len(a) == len(b) == len(fast)
            for ba, bb in zip(a, b):
                _assert_same(ba, bb)


def test_fast_path_never_calls_getitem(monkeypatch):
    ds = TensorDataset(gu.arange(10), gu.arange(10) * 2)

    def boom(self, i):
        raise AssertionError("__getitem__ called on the fast path")

    monkeypatch.setattr(TensorDataset, "__getitem__", boom)
    batches = list(DataLoader(ds, batch_size=4, shuffle=True))
    assert sorted(np.concatenate([b[0].numpy() for b in batches]).tolist()) == list(range(10))
    for xb, yb in batches:
        np.testing.assert_array_equal(yb.numpy(), xb.numpy() * 2)


def test_fast_path_speed_mnist_sized():
    r = np.random.default_rng(0)
    ds = TensorDataset(gu.from_numpy(r.random((50000, 784), dtype=np.float32)), gu.from_numpy(r.integers(0, 10, 50000)))
    loader = DataLoader(ds, batch_size=128, shuffle=True)
    t = time.perf_counter()
    n = sum(len(yb) for _, yb in loader)
    elapsed = time.perf_counter() - t
    assert n == 50000 and len(loader) == 391
    assert elapsed < 1.0, f"a shuffled pass over MNIST-sized data took {elapsed:.2f}s"


def test_shuffle_reproducible_with_manual_seed_and_generator():
    ds = TensorDataset(gu.arange(50))

    def epochs(loader, k=2):
        return [np.concatenate([b[0].numpy() for b in loader]).tolist() for _ in range(k)]

    gu.manual_seed(7)
    a = epochs(DataLoader(ds, batch_size=8, shuffle=True))
    gu.manual_seed(7)
    b = epochs(DataLoader(ds, batch_size=8, shuffle=True))
    assert a == b and a[0] != a[1] and sorted(a[0]) == list(range(50))
    g1 = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=gu.Generator(1)))
    gu.manual_seed(123)  # the global seed does not affect a loader with its own generator
    g2 = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=gu.Generator(1)))
    assert g1 == g2


def test_full_batch_online_and_unbatched():
    x, y = _xy(6)
    ds = TensorDataset(gu.tensor(x), gu.tensor(y))
    (full,) = list(DataLoader(ds, batch_size=len(ds)))
    np.testing.assert_array_equal(full[0].numpy(), x)
    online = list(DataLoader(ds, batch_size=1))
    assert len(online) == 6 and online[2][0].shape == (1, 3)
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 6 and single[2][0].shape == (3,) and single[2][1].shape == ()
    assert len(DataLoader(ds, batch_size=None)) == 6


def test_loader_len():
    ds = Squares(10)
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(ds, batch_sampler=[[0, 1], [2]])) == 2
    assert len(DataLoader(ds, sampler=RandomSampler(ds, num_samples=25), batch_size=5)) == 5


def test_dict_samples_custom_collate_batch_sampler_and_getitems():
    class Dicts(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": gu.full((2,), float(i)), "y": i}

    (b,) = list(DataLoader(Dicts(), batch_size=5))
    assert b["y"].tolist() == [0, 1, 2, 3, 4] and b["x"].shape == (5, 2)
    out = list(DataLoader(Squares(6), batch_size=2, collate_fn=lambda batch: [s[1] for s in batch]))
    assert out == [[0, 1], [2, 3], [4, 5]]
    custom = list(DataLoader(TensorDataset(gu.arange(6)), batch_sampler=[[5, 0], [3]]))
    assert [c[0].tolist() for c in custom] == [[5, 0], [3]]

    class Batched(Squares):
        calls = 0

        def __getitems__(self, idx):
            Batched.calls += 1
            return [self[i] for i in idx]

    assert len(list(DataLoader(Batched(6), batch_size=4))) == 2 and Batched.calls == 2


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    batches = [b.tolist() for b in DataLoader(Stream(), batch_size=3)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(), batch_size=3)) == 3
    assert list(DataLoader(Stream(), batch_size=None))[:2] == [0, 1]
    with pytest.raises(ValueError, match="expected unspecified shuffle"):
        DataLoader(Stream(), shuffle=True)


def test_loader_errors():
    ds = Squares(4)
    for bad in (0, -2, True, 2.5):
        with pytest.raises(ValueError, match="batch_size should be a positive integer or None"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(ValueError, match="dataset .*is empty"):
        DataLoader(TensorDataset(gu.zeros(0, 3)), batch_size=2)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(TypeError, match="groundup.Generator"):
        DataLoader(ds, shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="map-style"):
        DataLoader(5)
