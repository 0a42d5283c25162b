"""groundup.plot: every function writes a real, non-blank PNG (or draws into a given Axes), and bad
inputs fail with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup import plot
from groundup.models import Perceptron

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_std: float = 0.02) -> np.ndarray:
    """``path`` is a PNG with visible content: valid signature, loads back, pixels not all alike."""
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    img = imread(path)
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    assert img[..., :3].std() > min_std, "image is blank"
    return img


def blobs2(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(-1.5, 0.5, (n, 2)), rng.normal(1.5, 0.5, (n, 2))]).astype(np.float32)
    y = np.repeat([0, 1], n)
    return X, y


class OneLogit(gu.nn.Module):
    """x0 + x1 as one logit, shape (N, 1)."""

    def forward(self, x):
        return x.sum(dim=1, keepdim=True)  # (N, 1)


class ThreeClass(gu.nn.Module):
    """Logits that carve the plane into 3 angular sectors, shape (N, 3)."""

    def forward(self, x):
        w = gu.tensor([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])  # (3, 2)
        return x @ w.T  # (N, 3)


# ------------------------------------------------------------------------------------------ history
def test_plot_history_dict(tmp_path):
    h = {
        "loss": [1.0, 0.6, 0.4, 0.3],
        "val_loss": [1.1, 0.7, 0.5, 0.45],
        "accuracy": [0.5, 0.7, 0.8, 0.9],
        "val_accuracy": [0.45, 0.65, None, 0.85],
        "epoch": [1, 2, 3, 4],
    }
    out = plot.plot_history(h, tmp_path / "h.png")
    assert out == str(tmp_path / "h.png")
    img = assert_png(out)
    assert img.shape[1] > img.shape[0]  # two panels side by side


def test_plot_history_with_a_step_column_plots_against_steps():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    plot.plot_history({"step": [500, 1000, 1500], "train_loss": [2.0, 1.6, 1.5], "val_loss": [1.9, 1.7, 1.6]}, ax=ax)
    assert ax.get_xlabel() == "step"
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[500, 1000, 1500]] * 2
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["train", "val"]


def test_plot_history_object_and_list_of_dicts(tmp_path):
    class History:  # a minimal Trainer-like History: per-epoch lists in a .history dict
        def __init__(self):
            self.history = {"train_loss": [3.0, 2.0, 1.5], "val_loss": [3.2, 2.5, 2.0]}

    assert_png(plot.plot_history(History(), tmp_path / "a.png"))
    rows = [{"loss": 1.0, "val_loss": 1.2}, {"loss": 0.5, "val_loss": 0.8}]
    assert_png(plot.plot_history(rows, tmp_path / "b.png"))


def test_plot_history_trainer_history(tmp_path):
    trainer = pytest.importorskip("groundup.train.trainer")
    h = trainer.History()
    for epoch in range(1, 5):
        h.append({"epoch": epoch, "train_loss": 1 / epoch, "train_accuracy": 1 - 0.5 / epoch,
                  "val_loss": 1.2 / epoch, "val_accuracy": 1 - 0.6 / epoch, "lr": 0.1, "time": 0.5})
    columns = plot._history_dict(h)
    assert set(columns) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}  # no epoch/time/const lr
    fig = Figure()
    axes = fig.subplots(1, 2)
    plot.plot_history(h, ax=axes)
    assert axes[0].get_title() == "loss" and len(axes[0].lines) == 2
    assert axes[1].get_title() == "accuracy" and len(axes[1].lines) == 2
    assert_png(plot.plot_history(h, tmp_path / "t.png"))


def test_plot_history_into_given_axes(tmp_path):
    fig = Figure()
    axes = fig.subplots(1, 2)
    out = plot.plot_history({"loss": [2.0, 1.0], "acc": [0.1, 0.9]}, ax=axes)
    assert out is axes
    assert len(axes[0].lines) == 1 and len(axes[1].lines) == 1
    with pytest.raises(ValueError, match="2 panel"):
        plot.plot_history({"loss": [2.0, 1.0], "acc": [0.1, 0.9]}, ax=axes[0])


def test_plot_history_errors(tmp_path):
    with pytest.raises(ValueError, match="no per-epoch numeric"):
        plot.plot_history({"name": "x"}, tmp_path / "e.png")
    with pytest.raises(ValueError, match="give a path"):
        plot.plot_history({"loss": [1.0]})
    with pytest.raises(TypeError, match="History"):
        plot.plot_history(3.5, tmp_path / "e.png")


# ------------------------------------------------------------------------------------------ decision boundary
def test_decision_boundary_binary_logit_model(tmp_path):
    X, y = blobs2()
    assert_png(plot.plot_decision_boundary(OneLogit(), X, y, tmp_path / "d.png", resolution=50))


def test_decision_boundary_multiclass_and_tensor_inputs(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (60, 2)).astype(np.float32)
    y = ThreeClass()(gu.tensor(X)).argmax(dim=1)
    assert_png(plot.plot_decision_boundary(ThreeClass(), gu.tensor(X), y, tmp_path / "m.png", resolution=60))


def test_decision_boundary_perceptron_and_mode_restored(tmp_path):
    X, y = blobs2()
    p = Perceptron(2)
    p.fit(X, y, generator=gu.Generator(0))
    assert p.training
    assert_png(plot.plot_decision_boundary(p, X, y, tmp_path / "p.png", resolution=40))
    assert p.training  # evaluated in eval mode, then put back


def test_decision_boundary_uses_the_model(tmp_path):
    """Two models that disagree give different pictures (the grid really is evaluated)."""
    X, y = blobs2()

    class Flipped(gu.nn.Module):
        def forward(self, x):
            return -x.sum(dim=1)  # (N,)

    a = imread(plot.plot_decision_boundary(OneLogit(), X, y, tmp_path / "a.png", resolution=40))
    b = imread(plot.plot_decision_boundary(Flipped(), X, y, tmp_path / "b.png", resolution=40))
    assert a.shape == b.shape and np.abs(a - b).mean() > 0.01


def test_decision_boundary_into_ax():
    fig = Figure()
    ax = fig.subplots()
    X, y = blobs2(10)
    assert plot.plot_decision_boundary(OneLogit(), X, y, ax=ax, resolution=20) is ax
    assert ax.collections  # contour + scatter drawn


def test_decision_boundary_errors(tmp_path):
    X3 = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plot.plot_decision_boundary(OneLogit(), X3, np.zeros(5), tmp_path / "x.png")
    X, y = blobs2(5)
    with pytest.raises(ValueError, match="labels"):
        plot.plot_decision_boundary(OneLogit(), X, y[:3], tmp_path / "x.png")
    with pytest.raises(ValueError, match="resolution"):
        plot.plot_decision_boundary(OneLogit(), X, y, tmp_path / "x.png", resolution=1)
    with pytest.raises(TypeError, match="callable"):
        plot.plot_decision_boundary("model", X, y, tmp_path / "x.png")


# ------------------------------------------------------------------------------------------ confusion matrix
@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix(tmp_path, normalize):
    cm = np.array([[50, 2, 0], [3, 40, 7], [0, 0, 0]])  # last class never seen: a zero row
    out = plot.plot_confusion_matrix(cm, tmp_path / "cm.png", class_names=["cat", "dog", "bird"], normalize=normalize)
    assert_png(out)


def test_confusion_matrix_from_tensor_and_errors(tmp_path):
    assert_png(plot.plot_confusion_matrix(gu.tensor([[5, 1], [2, 8]]), tmp_path / "t.png"))
    with pytest.raises(ValueError, match="square"):
        plot.plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "e.png")
    with pytest.raises(ValueError, match="class_names"):
        plot.plot_confusion_matrix(np.eye(3), tmp_path / "e.png", class_names=["a", "b"])
    with pytest.raises(ValueError, match="non-negative"):
        plot.plot_confusion_matrix(-np.eye(2), tmp_path / "e.png")


# ------------------------------------------------------------------------------------------ weights
def test_weights_as_images(tmp_path):
    w = gu.randn(16, 784, generator=gu.Generator(0))
    img = assert_png(plot.plot_weights_as_images(w, tmp_path / "w.png"))
    assert abs(img.shape[0] - img.shape[1]) < 0.2 * img.shape[0]  # 4x4 grid: roughly square


def test_weights_as_images_layer_shape_and_ncols(tmp_path):
    layer = gu.nn.Linear(64, 10)
    img = assert_png(plot.plot_weights_as_images(layer, tmp_path / "l.png", shape=(8, 8), ncols=10))
    assert img.shape[1] > 3 * img.shape[0]  # one row of 10
    filters = np.random.default_rng(0).normal(size=(6, 1, 5, 5))
    assert_png(plot.plot_weights_as_images(filters, tmp_path / "f.png"))


def test_weights_as_images_errors(tmp_path):
    with pytest.raises(ValueError, match="prod"):
        plot.plot_weights_as_images(np.zeros((4, 100)), tmp_path / "e.png")
    with pytest.raises(ValueError, match="shape"):
        plot.plot_weights_as_images(np.zeros(10), tmp_path / "e.png")
    with pytest.raises(ValueError, match="ncols"):
        plot.plot_weights_as_images(np.ones((4, 784)), tmp_path / "e.png", ncols=0)


# ------------------------------------------------------------------------------------------ LR schedule
def test_lr_schedule(tmp_path):
    steps = np.arange(100)
    cosine = 0.05 * (1 + np.cos(np.pi * steps / 100))
    assert_png(plot.plot_lr_schedule(list(cosine), tmp_path / "lr.png"))
    two_groups = np.stack([cosine, cosine / 10], axis=1)
    assert_png(plot.plot_lr_schedule(two_groups, tmp_path / "lr2.png", log=True))


def test_lr_schedule_errors(tmp_path):
    with pytest.raises(ValueError, match="non-empty"):
        plot.plot_lr_schedule([], tmp_path / "e.png")
    with pytest.raises(ValueError, match="positive"):
        plot.plot_lr_schedule([0.1, 0.0], tmp_path / "e.png", log=True)


def test_nested_output_directory_is_created(tmp_path):
    out = plot.plot_lr_schedule([1.0, 0.5, 0.25], tmp_path / "a" / "b" / "lr.png")
    assert_png(out)


# ------------------------------------------------------------------------------------------ CNN filters, maps, saliency
def test_mosaic_places_tiles_row_major_with_gaps():
    tiles = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    m = plot._mosaic(tiles, nrows=2, ncols=2)
    assert m.shape == (5, 5)
    np.testing.assert_array_equal(m[:2, :2], tiles[0])
    np.testing.assert_array_equal(m[:2, 3:], tiles[1])
    np.testing.assert_array_equal(m[3:, :2], tiles[2])
    assert np.isnan(m[2]).all() and np.isnan(m[:, 2]).all() and np.isnan(m[3:, 3:]).all()


def test_plot_filters_grayscale_rgb_and_deep(tmp_path):
    conv = gu.nn.Conv2d(1, 6, 5)
    img = assert_png(plot.plot_filters(conv, tmp_path / "c1.png"))  # the layer itself
    assert img.shape[1] > img.shape[0]  # 6 filters: 3 per row, 2 rows
    rgb = np.random.default_rng(0).normal(size=(8, 3, 3, 3))
    assert_png(plot.plot_filters(rgb, tmp_path / "rgb.png", shared=True))
    deep = gu.randn(4, 6, 5, 5, generator=gu.Generator(0))
    img = assert_png(plot.plot_filters(deep, tmp_path / "c3.png"))
    assert img.shape[1] > img.shape[0]  # 4 rows of 6 input channels


def test_plot_filters_colour_scale():
    """Per-filter scaling shows a weak filter at full contrast; a shared scale keeps it faint."""
    w = np.stack([np.full((1, 2, 2), 1.0), np.full((1, 2, 2), 0.1)])  # (2, 1, 2, 2): a strong and a weak filter
    shown = {}
    for shared in (False, True):
        ax = Figure().subplots()
        plot.plot_filters(w, ax=ax, shared=shared)
        shown[shared] = np.ma.filled(ax.images[0].get_array(), np.nan)
    np.testing.assert_allclose(shown[False][:, 3:], 1.0)  # the weak filter's tile, scaled by its own max
    np.testing.assert_allclose(shown[True][:, 3:], 0.1)
    np.testing.assert_allclose(shown[True][:, :2], 1.0)


def test_plot_filters_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\(out_channels, in_channels, kh, kw\)"):
        plot.plot_filters(np.zeros((6, 5, 5)), tmp_path / "e.png")
    with pytest.raises(ValueError, match="ncols only applies"):
        plot.plot_filters(np.ones((4, 6, 5, 5)), tmp_path / "e.png", ncols=2)
    with pytest.raises(ValueError, match="ncols must be a positive int"):
        plot.plot_filters(np.ones((4, 1, 5, 5)), tmp_path / "e.png", ncols=0)


def test_plot_feature_maps(tmp_path):
    maps = gu.randn(1, 16, 10, 10, generator=gu.Generator(1)).relu()
    img = assert_png(plot.plot_feature_maps(maps, tmp_path / "m.png"))
    assert abs(img.shape[0] - img.shape[1]) < 0.2 * img.shape[0]  # 4x4 grid
    ax = Figure().subplots()
    two = np.stack([np.linspace(0, 1, 9).reshape(3, 3), np.linspace(0, 4, 9).reshape(3, 3)])  # (2, 3, 3)
    plot.plot_feature_maps(two, ax=ax, shared=True, ncols=2)
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    np.testing.assert_allclose(shown[:, 4:].max(), 1.0)
    np.testing.assert_allclose(shown[:, :3].max(), 0.25)  # on the shared range [0, 4]
    with pytest.raises(ValueError, match="for a batch pass maps"):
        plot.plot_feature_maps(np.zeros((2, 4, 5, 5)), tmp_path / "e.png")


def test_plot_saliency(tmp_path):
    rng = np.random.default_rng(0)
    images, maps = rng.normal(size=(4, 1, 12, 12)), rng.random((4, 12, 12))
    img = assert_png(plot.plot_saliency(images, maps, tmp_path / "s.png", labels=list("abcd")))
    assert img.shape[1] > img.shape[0]  # 4 columns, 2 rows
    assert_png(plot.plot_saliency(rng.normal(size=(3, 12, 12)), maps[0], tmp_path / "rgb.png"))  # one RGB image
    axes = Figure().subplots(2, 1)
    assert plot.plot_saliency(images[0, 0], maps[0], ax=axes) is axes
    grid = Figure().subplots(2, 4)
    assert plot.plot_saliency(images, maps, ax=grid) is grid
    assert all(a.images for a in grid.ravel())
    with pytest.raises(ValueError, match="for 4 maps"):
        plot.plot_saliency(images[:3], maps, tmp_path / "e.png")
    with pytest.raises(ValueError, match=r"images are \(12, 12\) but saliency maps are \(10, 10\)"):
        plot.plot_saliency(images, maps[:, :10, :10], tmp_path / "e.png")
    with pytest.raises(ValueError, match=r"\(2, 4\) array of Axes"):
        plot.plot_saliency(images, maps, ax=Figure().subplots(2, 1))
