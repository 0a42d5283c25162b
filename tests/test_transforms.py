"""groundup.transforms: conversions, normalisation and vectorised random augmentation."""

import numpy as np
import pytest

import groundup as gu
from groundup import transforms as T
from tests.helpers import requires_torch, torch


def _batch(n=4, c=2, h=6, w=7, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


# ------------------------------------------------------------------------------- conversions
def test_to_tensor():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    t = T.ToTensor()(img)
    assert t.shape == (1, 3, 4) and t.dtype is gu.float32
    np.testing.assert_array_equal(t.numpy()[0], img.astype(np.float32) / 255)
    hwc = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    t = T.ToTensor()(hwc)
    assert t.shape == (3, 5, 4)
    np.testing.assert_array_equal(t.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / 255)
    f = np.full((2, 2), 7.5)  # non-uint8 arrays keep their values and dtype, as torchvision
    assert T.ToTensor()(f).dtype is gu.float64 and T.ToTensor()(f).numpy().max() == 7.5
    already = gu.rand(1, 3, 3)
    assert T.ToTensor()(already) is already
    np.testing.assert_array_equal(T.ToTensor()(gu.tensor(img, dtype=gu.uint8)).numpy(), img / np.float32(255))
    with pytest.raises(ValueError, match="ToTensor: expected an image"):
        T.ToTensor()(np.zeros(3))


@requires_torch
def test_normalize_matches_torch_formula_and_backprops():
    x = _batch()
    mean, std = (0.5, 0.25), (0.2, 0.4)
    ours = T.Normalize(mean, std)(gu.tensor(x))
    want = (torch.tensor(x) - torch.tensor(mean).view(2, 1, 1)) / torch.tensor(std).view(2, 1, 1)
    assert ours.dtype is gu.float32
    np.testing.assert_allclose(ours.numpy(), want.numpy(), rtol=1e-6)
    single = T.Normalize(mean, std)(gu.tensor(x[0]))
    np.testing.assert_allclose(single.numpy(), want.numpy()[0], rtol=1e-6)
    xg = gu.tensor(x[0], requires_grad=True)
    T.Normalize(mean, std)(xg).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy()[1], np.full((6, 7), 1 / 0.4), rtol=1e-6)
    inplace = gu.tensor(x)
    assert T.Normalize(mean, std, inplace=True)(inplace) is inplace
    np.testing.assert_allclose(inplace.numpy(), want.numpy(), rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="3 channel means/stds given, but the input of shape"):
        T.Normalize((0, 0, 0), (1, 1, 1))(gu.zeros(2, 4, 4))
    with pytest.raises(TypeError, match="floating-point"):
        T.Normalize(0.5, 0.5)(gu.zeros(1, 2, 2, dtype=gu.uint8))


def test_compose_and_lambda():
    pipeline = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 3)])
    assert pipeline(2) == 9
    assert "Lambda" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


# ------------------------------------------------------------------------------- crops, shifts
def _find_window(padded, out):
    """(top, left) of ``out`` inside ``padded`` (C, H, W), or None."""
    h, w = out.shape[-2:]
    for t in range(padded.shape[-2] - h + 1):
        for l in range(padded.shape[-1] - w + 1):
            if np.array_equal(padded[:, t : t + h, l : l + w], out):
                return t, l
    return None


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_windows(mode):
    x = _batch(n=16)
    crop = T.RandomCrop(5, padding=(1, 2), padding_mode=mode, fill=0.5, generator=gu.Generator(0))
    out = crop(gu.tensor(x))
    assert out.shape == (16, 2, 5, 5) and out.dtype is gu.float32
    kw = {"constant_values": 0.5} if mode == "constant" else {}
    offsets = set()
    for i in range(16):
        padded = np.pad(x[i], ((0, 0), (2, 2), (1, 1)), mode=mode, **kw)
        where = _find_window(padded, out.numpy()[i])
        assert where is not None
        offsets.add(where)
    assert len(offsets) > 3  # each image of the batch draws its own window
    again = T.RandomCrop(5, padding=(1, 2), padding_mode=mode, fill=0.5, generator=gu.Generator(0))(gu.tensor(x))
    np.testing.assert_array_equal(again.numpy(), out.numpy())


def test_random_crop_options_and_errors():
    x = _batch(n=1)[0]
    assert T.RandomCrop((6, 7))(x).shape == (2, 6, 7)  # ndarray in, ndarray out; full size = identity
    np.testing.assert_array_equal(T.RandomCrop((6, 7))(x), x)
    assert T.RandomCrop(9, pad_if_needed=True)(gu.tensor(x)).shape == (2, 9, 9)
    assert T.RandomCrop(4, padding=[0, 1, 2, 3])(gu.tensor(x[0])).shape == (4, 4)  # (H, W) input
    with pytest.raises(ValueError, match="larger than the"):
        T.RandomCrop(8)(gu.tensor(x))
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(3, padding_mode="wrap")


def test_random_shift():
    x = _batch(n=32, h=8, w=8)
    out = T.RandomShift(2, generator=gu.Generator(1))(gu.tensor(x)).numpy()
    shifts = set()
    for i in range(32):
        padded = np.pad(x[i], ((0, 0), (2, 2), (2, 2)))
        t, l = _find_window(padded, out[i])
        shifts.add((2 - t, 2 - l))  # content moves down/right by (dy, dx)
    assert all(-2 <= dy <= 2 and -2 <= dx <= 2 for dy, dx in shifts) and len(shifts) > 8
    np.testing.assert_array_equal(T.RandomShift(0)(gu.tensor(x)).numpy(), x)
    with pytest.raises(ValueError, match="max_shift"):
        T.RandomShift(-1)


# ------------------------------------------------------------------------------- rotation
@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_rotation_right_angles_and_identity(interp):
    x = _batch(n=3, h=5, w=5)
    for k in (1, 2, 3):
        rot = T.RandomRotation((90 * k, 90 * k), interpolation=interp)
        np.testing.assert_allclose(rot(gu.tensor(x)).numpy(), np.rot90(x, k, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(T.RandomRotation(0, interpolation=interp)(x), x, atol=1e-6)


def test_rotation_fill_and_batch_angles():
    x = np.ones((8, 1, 9, 9), dtype=np.float32)
    out = T.RandomRotation(45, fill=0.0, generator=gu.Generator(0))(gu.tensor(x)).numpy()
    assert out[:, 0, 4, 4].tolist() == [1.0] * 8  # the centre stays
    corner = out[:, 0, 0, 0]
    assert corner.min() >= 0 and len(set(np.round(out.sum(axis=(1, 2, 3)), 3))) > 4  # different angles per image
    fixed = T.RandomRotation((45, 45), fill=0.0)(x[:1]).squeeze()
    assert fixed[0, 0] == 0 and fixed[4, 4] == 1
    u8 = (np.arange(25, dtype=np.uint8).reshape(1, 5, 5) * 10)
    r = T.RandomRotation((90, 90))(u8)
    assert r.dtype == np.uint8
    np.testing.assert_array_equal(r, np.rot90(u8, 1, axes=(1, 2)))


@pytest.mark.parametrize("interp,order", [("bilinear", 1), ("nearest", 0)])
def test_rotation_matches_scipy(interp, order):
    ndimage = pytest.importorskip("scipy.ndimage")
    x = np.random.default_rng(1).random((3, 11, 13))
    rot = T.RandomRotation(0, interpolation=interp)
    for angle in (17.0, -33.0, 100.0):  # (60° and 120° put points on .5 ties, where nearest may round either way)
        ours = rot.rotate(x[None], np.array([angle]))[0]
        for c in range(3):
            want = ndimage.rotate(x[c], angle, reshape=False, order=order, mode="grid-constant", cval=0.0, prefilter=False)
            np.testing.assert_allclose(ours[c], want, atol=1e-12)


# ------------------------------------------------------------------------------- noise, flips
def test_gaussian_noise():
    x = gu.zeros(200, 1, 10, 10)
    out = T.GaussianNoise(std=0.5, mean=0.1, generator=gu.Generator(0))(x)
    assert out.dtype is gu.float32 and out.shape == x.shape
    v = out.numpy()
    assert abs(v.mean() - 0.1) < 0.01 and abs(v.std() - 0.5) < 0.01
    again = T.GaussianNoise(std=0.5, mean=0.1, generator=gu.Generator(0))(x)
    np.testing.assert_array_equal(again.numpy(), v)
    clipped = T.GaussianNoise(std=1.0, clip=(0.0, 1.0))(gu.full((100,), 0.5)).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert T.GaussianNoise(0.1)(np.zeros(3, dtype=np.float64)).dtype == np.float64
    with pytest.raises(TypeError, match="floating-point"):
        T.GaussianNoise(0.1)(gu.zeros(3, dtype=gu.int64))


def test_horizontal_flip():
    x = _batch()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(gu.tensor(x)).numpy(), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(x), x)
    mixed = T.RandomHorizontalFlip(0.5, generator=gu.Generator(2))(_batch(n=40))
    flipped = [np.array_equal(m, b[..., ::-1]) for m, b in zip(mixed, _batch(n=40))]
    assert 5 < sum(flipped) < 35


def test_random_transforms_follow_manual_seed_and_keep_layout():
    x = gu.tensor(_batch(n=5))
    aug = T.Compose([T.RandomShift(1), T.RandomRotation(15), T.GaussianNoise(0.05), T.RandomHorizontalFlip()])
    gu.manual_seed(3)
    a = aug(x)
    gu.manual_seed(3)
    b = aug(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.shape == x.shape and not a.requires_grad
    for shape in [(6, 7), (2, 6, 7), (5, 2, 6, 7)]:
        assert aug(gu.rand(*shape)).shape == shape
    with pytest.raises(ValueError, match=r"expected an image \(H, W\)"):
        T.RandomRotation(10)(gu.rand(7))
