"""The learning-rate range test: the ramp, smoothing, divergence stop, restoration, suggestion, plot."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup import nn, optim
from groundup.train import lr_finder, plot_lr_finder, suggest_lr
from groundup.utils.data import DataLoader, TensorDataset

_rng = np.random.default_rng(0)
X = _rng.normal(size=(96, 4)).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5, 0.0]) > 0).astype(np.int64)


def setup(opt: str = "sgd"):
    gu.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    if opt == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(gu.tensor(X), gu.tensor(Y)), batch_size=16, shuffle=True,
                        generator=gu.Generator().manual_seed(0))
    return model, optimizer, nn.CrossEntropyLoss(), loader


def _state(model, optimizer):
    weights = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    bufs = {i: {k: np.array(v.numpy()) for k, v in s.items()} for i, s in opt["state"].items()}
    return weights, bufs, [dict((k, v) for k, v in g.items() if k != "params") for g in opt["param_groups"]]


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_exponential_ramp_and_exact_restoration(opt):
    model, optimizer, loss_fn, loader = setup(opt)
    for x, y in loader:  # give the optimizer some state (momentum / Adam moments) to preserve
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    model.eval()
    before = _state(model, optimizer)

    lrs, losses = lr_finder(model, optimizer, loss_fn, loader, start_lr=1e-5, end_lr=1e-1, num_iters=20,
                            diverge_th=1e9)
    assert len(lrs) == len(losses) == 20  # more iterations than batches: the loader restarts
    assert np.all(np.diff(lrs) > 0)
    np.testing.assert_allclose(lrs, np.logspace(-5, -1, 20), rtol=1e-12)

    after = _state(model, optimizer)
    for k in before[0]:
        assert np.array_equal(before[0][k], after[0][k]), k
    assert before[1].keys() == after[1].keys()
    for i in before[1]:
        for k in before[1][i]:
            assert np.array_equal(before[1][i][k], after[1][i][k])
    assert before[2] == after[2]  # lr and other options back to what they were
    assert not model.training  # mode restored
    assert all(p.grad is None for p in model.parameters())


def test_linear_mode():
    model, optimizer, loss_fn, loader = setup()
    lrs, _ = lr_finder(model, optimizer, loss_fn, loader, start_lr=0.001, end_lr=0.01, num_iters=10,
                       step_mode="linear")
    np.testing.assert_allclose(lrs, np.linspace(0.001, 0.01, 10), rtol=1e-12)


def test_smoothing_is_an_exponential_moving_average():
    model, optimizer, loss_fn, loader = setup()
    kw = dict(start_lr=1e-4, end_lr=1e-2, num_iters=12, diverge_th=1e9)
    gu.manual_seed(0)
    _, raw = lr_finder(model, optimizer, loss_fn, loader, smooth_f=0.0, **kw)
    model, optimizer, loss_fn, loader = setup()
    _, smooth = lr_finder(model, optimizer, loss_fn, loader, smooth_f=0.3, **kw)
    want = [raw[0]]
    for r in raw[1:]:
        want.append(0.3 * r + 0.7 * want[-1])
    np.testing.assert_allclose(smooth, want, rtol=1e-6)


def test_stops_when_the_loss_diverges():
    model, optimizer, loss_fn, loader = setup()
    lrs, losses = lr_finder(model, optimizer, loss_fn, loader, start_lr=1e-3, end_lr=1e6, num_iters=100,
                            smooth_f=0.0)
    assert len(lrs) < 100
    assert not np.isfinite(losses[-1]) or losses[-1] > 5 * min(losses)
    # no earlier point had exceeded 5x the best loss seen up to it
    assert all(np.isfinite(v) and v <= 5 * min(losses[: i + 1]) for i, v in enumerate(losses[:-1]))


def test_suggest_lr_finds_the_steepest_descent():
    lrs = np.logspace(-6, 0, 121)
    losses = 2 - np.tanh(2 * (np.log10(lrs) + 3))  # falls fastest at lr = 1e-3
    assert suggest_lr(lrs, losses) == pytest.approx(1e-3)
    losses_shifted = 2 - np.tanh(2 * (np.log10(lrs) + 2))
    assert suggest_lr(lrs, losses_shifted) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="same length"):
        suggest_lr([1e-3], [1.0])


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    lrs = np.logspace(-6, 0, 50)
    losses = 2 - np.tanh(2 * (np.log10(lrs) + 3))
    path = plot_lr_finder(list(lrs), list(losses), tmp_path / "lr.png")
    assert path == str(tmp_path / "lr.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(start_lr=1.0, end_lr=0.1), "start_lr"),
        (dict(start_lr=0.0), "start_lr"),
        (dict(num_iters=1), "num_iters"),
        (dict(step_mode="cos"), "step_mode"),
        (dict(smooth_f=1.0), "smooth_f"),
        (dict(diverge_th=1.0), "diverge_th"),
    ],
)
def test_bad_arguments(kw, match):
    model, optimizer, loss_fn, loader = setup()
    with pytest.raises(ValueError, match=match):
        lr_finder(model, optimizer, loss_fn, loader, **kw)


def test_empty_loader_is_an_error_and_restores():
    model, optimizer, loss_fn, _ = setup()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="no batches"):
        lr_finder(model, optimizer, loss_fn, [])
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'groundup\[plot\]'"):
        plot_lr_finder([1e-3, 1e-2], [1.0, 0.5], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
