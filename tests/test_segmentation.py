"""Semantic segmentation: the generated shapes dataset, the U-Net, and the ``shapes-unet`` recipe.

The dataset is checked against an independent rasteriser (matplotlib's point-in-polygon test on the
polygons' vertices), the U-Net against the same network built in PyTorch (keys, shapes, outputs),
and the recipe's mean IoU against IoU counted with a plain NumPy loop.
"""

import json

import numpy as np
import pytest

import groundup as gu
import groundup.nn.functional as F
from groundup import optim
from groundup.cli import main
from groundup.datasets import SHAPE_CLASSES, Shapes, make_shapes
from groundup.models import UNet
from groundup.recipes import RECIPES, get_recipe
from groundup.train.metrics import mean_iou


# ------------------------------------------------------------------------------------------ dataset
def test_shapes_are_deterministic_per_seed_and_split():
    a, b = Shapes("train", 12, seed=3), Shapes("train", 12, seed=3)
    assert np.array_equal(a.data.numpy(), b.data.numpy()) and np.array_equal(a.targets.numpy(), b.targets.numpy())
    for other in (Shapes("train", 12, seed=4), Shapes("test", 12, seed=3), Shapes("valid", 12, seed=3)):
        assert not np.array_equal(a.targets.numpy(), other.targets.numpy())
    assert a.data.shape == (12, 1, 32, 32) and a.data.dtype == gu.float32
    assert a.targets.shape == (12, 32, 32) and a.targets.dtype == gu.int64
    x, y = a[5]
    assert np.array_equal(x.numpy(), a.data.numpy()[5]) and np.array_equal(y.numpy(), a.targets.numpy()[5])
    d1, d2 = make_shapes(5, size=16, generator=7), make_shapes(5, size=16, generator=7)
    assert all(np.array_equal(d1[k], d2[k]) for k in d1)


def _reference(d, noise_free_image, size):
    """Rasterise every slot with matplotlib's Path.contains_points on the polygon's vertices (the disc
    by its equation), painting the slots in order: the mask and noise-free image ``make_shapes`` promises."""
    path_mod = pytest.importorskip("matplotlib.path")
    centres = np.arange(size) + 0.5
    xs, ys = np.meshgrid(centres, centres)  # (H, W): x along the width, y down the height
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    masks = np.zeros(d["masks"].shape, dtype=np.int64)
    for i in range(len(masks)):
        for s, label in enumerate(d["labels"][i]):
            cx, cy, r, theta = d["cx"][i, s], d["cy"][i, s], d["radius"][i, s], d["angle"][i, s]
            if label == 0:
                continue
            if label == 1:
                inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
            else:
                m = {2: 4, 3: 3}[int(label)]
                circumradius = r * np.sqrt(np.pi / (m * np.tan(np.pi / m))) / np.cos(np.pi / m)
                corners = theta + np.pi / m + 2 * np.pi * np.arange(m) / m  # vertices lie between the normals
                vertices = np.stack([cx + circumradius * np.cos(corners), cy + circumradius * np.sin(corners)], 1)
                inside = path_mod.Path(vertices).contains_points(points).reshape(size, size)
            masks[i][inside] = label
            noise_free_image[i][inside] = d["intensity"][i, s]
    return masks


def test_masks_and_images_match_an_independent_rasteriser():
    size, noise = 32, 0.1
    d = make_shapes(40, size=size, max_shapes=4, noise=noise, generator=11)
    clean = np.zeros((40, size, size))
    masks = _reference(d, clean, size)
    assert np.mean(d["masks"] != masks) < 2e-3  # only pixel centres on an edge may differ
    residual = d["images"][:, 0] - clean  # the noise alone
    same = d["masks"] == masks
    assert abs(residual[same].mean()) < 0.01 and abs(residual[same].std() - noise) < 0.01
    background = d["images"][:, 0][d["masks"] == 0]
    assert abs(background.mean()) < 0.01 and abs(background.std() - noise) < 0.01
    assert set(np.unique(d["masks"])) == set(range(len(SHAPE_CLASSES)))  # every class is present


def test_shape_areas_match_the_analytic_area():
    """Every shape covers the area of a disc of radius r: pixel counts agree up to the boundary pixels."""
    d = make_shapes(600, size=32, max_shapes=1, noise=0.0, generator=2)
    label, r = d["labels"][:, 0], d["radius"][:, 0]
    count = (d["masks"] > 0).sum(axis=(1, 2))
    area = np.pi * r**2
    assert np.all(d["masks"].reshape(600, -1).max(1) == label)
    for cls, m in ((1, None), (2, 4), (3, 3)):
        sel = label == cls
        perimeter = 2 * np.pi * r if m is None else 2 * m * r * np.sqrt(np.pi * np.tan(np.pi / m) / m)
        assert np.all(np.abs(count - area)[sel] <= perimeter[sel] / 2), SHAPE_CLASSES[cls]
        assert abs(np.mean(count[sel] / area[sel]) - 1) < 0.02, SHAPE_CLASSES[cls]
    on_shapes = d["images"][:, 0][d["masks"] > 0]
    assert on_shapes.min() >= 0.5 and on_shapes.max() <= 1.0


def test_shapes_bad_arguments():
    with pytest.raises(ValueError, match="Shapes: split must be 'train', 'valid' or 'test', got 'val'"):
        Shapes("val", 4)
    with pytest.raises(ValueError, match="make_shapes: size must be an int >= 8, got 4"):
        make_shapes(2, size=4)
    with pytest.raises(ValueError, match=r"make_shapes: radius must be a pair low <= high within \[0.0, 0.25\]"):
        make_shapes(2, radius=(0.1, 0.4))


# ------------------------------------------------------------------------------------------- U-Net
@pytest.mark.parametrize("base, depth, bilinear", [(4, 1, False), (4, 3, False), (6, 2, True), (2, 4, True)])
def test_unet_output_shape_and_gradients(base, depth, bilinear):
    gu.manual_seed(0)
    model = UNet(in_channels=2, num_classes=3, base_channels=base, depth=depth, bilinear=bilinear)
    x = gu.randn(2, 2, 16, 32)
    out = model(x)
    assert out.shape == (2, 3, 16, 32)
    F.cross_entropy(out, gu.randint(0, 3, (2, 16, 32))).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and float(np.abs(p.grad.numpy()).sum()) > 0, name
    up = model.up[0].up
    assert isinstance(up, gu.nn.Sequential if bilinear else gu.nn.ConvTranspose2d)


def test_unet_rejects_bad_input():
    model = UNet(1, 4, base_channels=2, depth=3)
    with pytest.raises(ValueError, match=r"UNet: input height and width must be divisible by 2\*\*depth = 8 "
                                         r"\(depth=3\), got \(20, 16\)"):
        model(gu.randn(1, 1, 20, 16))
    with pytest.raises(ValueError, match=r"UNet: expected input of shape \(N, 1, H, W\), got \(1, 3, 16, 16\)"):
        model(gu.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="UNet: depth must be an int >= 1, got 0"):
        UNet(depth=0)


def _torch_unet(torch, in_channels, num_classes, base, depth, bilinear):
    """The same U-Net in PyTorch, written from the paper's description with milesial/Pytorch-UNet's names."""
    tnn = torch.nn

    class DoubleConv(tnn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.double_conv = tnn.Sequential(
                tnn.Conv2d(i, o, 3, padding=1, bias=False), tnn.BatchNorm2d(o), tnn.ReLU(),
                tnn.Conv2d(o, o, 3, padding=1, bias=False), tnn.BatchNorm2d(o), tnn.ReLU())

        def forward(self, x):
            return self.double_conv(x)

    class Down(tnn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.maxpool_conv = tnn.Sequential(tnn.MaxPool2d(2), DoubleConv(i, o))

        def forward(self, x):
            return self.maxpool_conv(x)

    class Up(tnn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.up = (tnn.Sequential(tnn.Upsample(scale_factor=2, mode="bilinear"), tnn.Conv2d(i, i // 2, 3, padding=1))
                       if bilinear else tnn.ConvTranspose2d(i, i // 2, 2, stride=2))
            self.conv = DoubleConv(i, o)

        def forward(self, x, skip):
            return self.conv(torch.cat([skip, self.up(x)], 1))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            w = [base * 2**i for i in range(depth + 1)]
            self.inc = DoubleConv(in_channels, w[0])
            self.down = tnn.ModuleList([Down(w[i], w[i + 1]) for i in range(depth)])
            self.up = tnn.ModuleList([Up(w[i + 1], w[i]) for i in reversed(range(depth))])
            self.outc = tnn.Conv2d(w[0], num_classes, 1)

        def forward(self, x):
            feats = [self.inc(x)]
            for level in self.down:
                feats.append(level(feats[-1]))
            x = feats.pop()
            for up in self.up:
                x = up(x, feats.pop())
            return self.outc(x)

    return Net()


@pytest.mark.parametrize("bilinear", [False, True])
def test_unet_matches_pytorch(bilinear):
    torch = pytest.importorskip("torch")
    gu.manual_seed(1)
    ours = UNet(in_channels=1, num_classes=4, base_channels=4, depth=2, bilinear=bilinear)
    theirs = _torch_unet(torch, 1, 4, 4, 2, bilinear)
    ref = theirs.state_dict()
    mine = ours.state_dict()
    assert list(mine) == list(ref)
    assert all(tuple(mine[k].shape) == tuple(ref[k].shape) for k in ref)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in mine.items()})
    x = np.random.default_rng(0).standard_normal((3, 1, 16, 16)).astype(np.float32)
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        got = ours(gu.tensor(x)).detach().numpy()
        want = theirs(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_unet_learns_on_a_tiny_budget():
    """A few seconds of Adam lift the mean IoU far above predicting background everywhere."""
    gu.manual_seed(0)
    big = {"size": 16, "radius": (0.18, 0.25), "seed": 5}  # small images, shapes as large as they fit
    train, test = Shapes("train", 128, **big), Shapes("test", 64, **big)
    model = UNet(1, 4, base_channels=8, depth=2)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = train.tensors()
    for step in range(60):
        idx = slice(16 * (step % 8), 16 * (step % 8 + 1))
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with gu.no_grad():
        miou = mean_iou(model(test.data), test.targets, 4)
    baseline = mean_iou(gu.zeros_like(test.targets), test.targets, 4)  # all background
    assert baseline < 0.25 and miou > baseline + 0.1


# ------------------------------------------------------------------------------------------ recipe
def _iou_by_loop(pred: np.ndarray, truth: np.ndarray, num_classes: int) -> np.ndarray:
    return np.array([np.sum((pred == c) & (truth == c)) / np.sum((pred == c) | (truth == c))
                     for c in range(num_classes)])


@pytest.fixture
def tiny_recipe(monkeypatch):
    """``shapes-unet`` shrunk through its ``extra`` knob: 16x16 images, a few dozen of them, a narrow U-Net."""
    r = get_recipe("shapes-unet")
    small = r.replace(batch_size=16, extra={**r.extra, "image_size": 16, "train_size": 32, "valid_size": 16,
                                            "test_size": 24, "base_channels": 4, "depth": 2})
    monkeypatch.setitem(RECIPES, "shapes-unet", small)
    return small


def test_recipe_trains_evaluates_and_resumes_exactly(tmp_path, tiny_recipe, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main(["train", "shapes-unet", "--epochs", "3", "--schedule", "none", "--out", str(straight), "--no-progress"]) == 0
    res = json.loads((straight / "results.json").read_text())
    assert res["metric"] == "test_miou" and res["test_size"] == 24 and res["epochs_run"] == 3
    assert set(res["test_iou"]) == set(SHAPE_CLASSES)

    # the reported numbers, recomputed from the checkpoint with a plain loop
    model = UNet(1, 4, base_channels=4, depth=2)
    model.load_state_dict(gu.load(straight / "last.safetensors")["model"])
    model.eval()
    test = Shapes("test", 24, size=16, seed=tiny_recipe.seed)
    with gu.no_grad():
        pred = model(test.data).argmax(dim=1).numpy()
    iou = _iou_by_loop(pred, test.targets.numpy(), 4)
    assert res["test_miou"] == pytest.approx(iou.mean(), abs=1e-12)
    assert [res["test_iou"][c] for c in SHAPE_CLASSES] == pytest.approx(iou, abs=1e-12)
    assert res["test_pixel_accuracy"] == pytest.approx(np.mean(pred == test.targets.numpy()), abs=1e-12)

    capsys.readouterr()
    assert main(["eval", str(straight / "last.safetensors")]) == 0
    assert f"test miou {res['test_miou']:.4f} on 24 examples" in capsys.readouterr().out

    assert main(["train", "shapes-unet", "--epochs", "1", "--schedule", "none", "--out", str(split), "--no-progress"]) == 0
    assert main(["train", "shapes-unet", "--epochs", "3", "--schedule", "none", "--out", str(split), "--no-progress", "--resume"]) == 0
    a, b = gu.load(straight / "last.safetensors"), gu.load(split / "last.safetensors")
    assert a["epoch"] == b["epoch"] == 3
    for k, v in a["model"].items():
        assert np.array_equal(v.numpy(), b["model"][k].numpy()), k
