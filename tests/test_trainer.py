"""Trainer: it learns, schedules, clips, penalizes, calls back in order, logs, stops early."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

import groundup as gu
from groundup import nn, optim
from groundup.optim import lr_scheduler
from groundup.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    JSONLogger,
    ModelCheckpoint,
    Trainer,
    load_checkpoint,
    metrics,
)
from groundup.utils.data import DataLoader, TensorDataset

_rng = np.random.default_rng(0)
_centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]], dtype=np.float32)
Y = np.repeat(np.arange(3), 40)
X = (_centers[Y] + _rng.normal(scale=0.8, size=(120, 2))).astype(np.float32)
DS = TensorDataset(gu.tensor(X), gu.tensor(Y))


def mlp(seed: int = 0) -> nn.Module:
    gu.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def loader(batch_size: int = 30, shuffle: bool = True) -> DataLoader:
    return DataLoader(DS, batch_size=batch_size, shuffle=shuffle, generator=gu.Generator().manual_seed(1))


def make(lr: float = 0.05, opt=optim.Adam, **kw) -> Trainer:
    model = mlp()
    kw.setdefault("progress", None)
    return Trainer(model, opt(model.parameters(), lr=lr), nn.CrossEntropyLoss(), **kw)


def grad_norm(model: nn.Module) -> float:
    return math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in model.parameters()))


# ------------------------------------------------------------------ learning
@pytest.mark.parametrize("with_val", [True, False])
def test_fit_learns_a_small_problem(with_val):
    trainer = make(metrics={"acc": metrics.accuracy})
    history = trainer.fit(loader(), 6, val_loader=loader(60, False) if with_val else None)
    assert len(history) == 6 and history["epoch"] == [1, 2, 3, 4, 5, 6]
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["train_acc"][-1] > history["train_acc"][0] and history["train_acc"][-1] > 0.9
    expected = ["epoch", "train_loss", "train_acc", "lr", "time"]
    if with_val:
        expected[3:3] = ["val_loss", "val_acc"]
        assert history["val_acc"][-1] > 0.9
    assert history.keys() == expected
    assert all(t > 0 for t in history["time"])


def test_evaluate_equals_full_batch_loss_and_accuracy():
    trainer = make(metrics={"acc": metrics.accuracy})
    trainer.fit(loader(), 2)
    got = trainer.evaluate(loader(batch_size=25, shuffle=False))  # uneven last batch (120 = 4*25 + 20)
    with gu.no_grad():
        out = trainer.model(gu.tensor(X))
        want_loss = nn.CrossEntropyLoss()(out, gu.tensor(Y)).item()
    assert got["loss"] == pytest.approx(want_loss, rel=1e-5)
    assert got["acc"] == pytest.approx(metrics.accuracy(out, Y))
    assert not trainer.model.training


def test_predict_tensor_and_loader():
    trainer = make()
    trainer.fit(loader(), 1)
    with gu.no_grad():
        want = trainer.model(gu.tensor(X)).numpy()
    by_tensor = trainer.predict(gu.tensor(X), batch_size=50)
    by_loader = trainer.predict(loader(batch_size=32, shuffle=False))
    assert by_tensor.shape == (120, 3) and not by_tensor.requires_grad
    np.testing.assert_allclose(by_tensor.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(by_loader.numpy(), want, rtol=1e-6)


# ------------------------------------------------------------------ schedulers
def test_scheduler_per_step_and_per_epoch():
    t = make(lr=0.1, opt=optim.SGD)
    t.scheduler, t.scheduler_interval = lr_scheduler.StepLR(t.optimizer, step_size=2, gamma=0.5), "step"
    t.fit(loader(), 1)  # 4 batches -> 2 decays
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**2)

    t = make(lr=0.1, opt=optim.SGD)
    t.scheduler = lr_scheduler.StepLR(t.optimizer, step_size=1, gamma=0.5)
    h = t.fit(loader(), 3)
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025])  # lr each epoch trained with
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.0125)


@pytest.mark.parametrize("with_val", [True, False])
def test_reduce_on_plateau_steps_with_val_loss_else_train_loss(with_val):
    t = make(lr=1e-12, opt=optim.SGD)  # the loss cannot improve: a plateau from the start
    sched = lr_scheduler.ReduceLROnPlateau(t.optimizer, patience=0, factor=0.5)
    seen = []
    step = sched.step
    sched.step = lambda metric: (seen.append(metric), step(metric))
    t.scheduler = sched
    h = t.fit(loader(), 3, val_loader=loader(60, False) if with_val else None)
    assert seen == (h["val_loss"] if with_val else h["train_loss"])
    assert h["lr"] == pytest.approx([1e-12, 1e-12, 5e-13])


def test_plateau_per_step_is_rejected():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=lr_scheduler.ReduceLROnPlateau(opt),
                scheduler_interval="step")


# ------------------------------------------------------------------ callbacks
class Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_fit_start(self, trainer):
        self.events.append("fit_start")

    def on_fit_end(self, trainer):
        self.events.append("fit_end")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_epoch_end(self, trainer, epoch, logs):
        self.events.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_batch_start(self, trainer, batch_index):
        self.events.append(f"batch_start {batch_index}")

    def on_before_optimizer_step(self, trainer):
        self.events.append("before_step")

    def on_batch_end(self, trainer, batch_index, loss):
        assert isinstance(loss, float)
        self.events.append(f"batch_end {batch_index}")


def test_callbacks_fire_in_order():
    rec = Recorder()
    make(callbacks=[rec]).fit(loader(60), 2, val_loader=loader(60, False))
    keys = sorted(["epoch", "train_loss", "val_loss", "lr", "time"])
    batch = lambda i: [f"batch_start {i}", "before_step", f"batch_end {i}"]  # noqa: E731
    want = ["fit_start"]
    for e in range(2):
        want += [f"epoch_start {e}", *batch(0), *batch(1), f"epoch_end {e} {keys}"]
    assert rec.events == want + ["fit_end"]


class Scripted(Callback):
    """Writes a scripted 'score' into the logs and snapshots the weights after every epoch."""

    def __init__(self, scores):
        self.scores, self.snapshots = scores, []

    def on_epoch_end(self, trainer, epoch, logs):
        logs["score"] = self.scores[epoch]
        self.snapshots.append({k: v.numpy().copy() for k, v in trainer.model.state_dict().items()})


def test_early_stopping_stops_and_restores_best_weights():
    script = Scripted([1.0, 0.5, 0.7, 0.8, 0.4, 0.3, 0.2, 0.1])
    stop = EarlyStopping(monitor="score", patience=2)
    trainer = make(callbacks=[script, stop])
    history = trainer.fit(loader(), 8)
    assert len(history) == 4 and stop.stopped_epoch == 3 and stop.best_epoch == 1
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), script.snapshots[1][k])
    assert not np.array_equal(script.snapshots[1]["0.weight"], script.snapshots[3]["0.weight"])


def test_early_stopping_mode_max_min_delta_and_no_restore():
    script = Scripted([0.5, 0.55, 0.58, 0.9])
    stop = EarlyStopping(monitor="score", mode="max", patience=1, min_delta=0.1, restore_best_weights=False)
    trainer = make(callbacks=[script, stop])
    trainer.fit(loader(), 4)  # 0.55 is not > 0.5 + 0.1 -> stop after epoch 1
    assert stop.stopped_epoch == 1 and stop.tracker.best == 0.5
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), script.snapshots[-1][k])  # last weights kept


def test_early_stopping_missing_monitor_is_a_clear_error():
    with pytest.raises(KeyError, match="val_loader"):
        make(callbacks=[EarlyStopping()]).fit(loader(), 2)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)


def test_model_checkpoint_best_and_last(tmp_path):
    script = Scripted([1.0, 0.5, 0.7])
    ckpt = ModelCheckpoint(tmp_path / "ck", monitor="score")
    trainer = make(callbacks=[script, ckpt])
    trainer.fit(loader(), 3)
    assert ckpt.best_score == 0.5
    fresh = mlp(5)
    info = load_checkpoint(ckpt.best_path, fresh)
    assert info["epoch"] == 2 and info["history"]["epoch"] == [1, 2]
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), script.snapshots[1][k])
    assert load_checkpoint(ckpt.last_path, fresh)["epoch"] == 3


def test_resumed_fit_keeps_early_stopping_and_best_checkpoint_state(tmp_path):
    """Interrupted after 2 epochs and resumed, a fit stops at the same epoch, and best.safetensors keeps the
    best epoch from before the interruption, as in the run that never stopped.

    ``mode="max"`` on the falling training loss makes epoch 1 the best and every later epoch a miss, so
    counters that started from scratch on resume would call the first resumed epoch an improvement.
    """
    def run(out, epochs, resume=False):
        stop = EarlyStopping(monitor="train_loss", mode="max", patience=3, restore_best_weights=False)
        ckpt = ModelCheckpoint(out, monitor="train_loss", mode="max")
        trainer = make(callbacks=[stop, ckpt])
        history = trainer.fit(loader(), epochs, resume_from=out / "last.safetensors" if resume else None)
        return trainer, stop, history

    _, whole, history = run(tmp_path / "a", 8)
    assert history["train_loss"][0] == max(history["train_loss"])  # the premise: epoch 1 is the best
    assert (whole.best_epoch, whole.stopped_epoch, len(history)) == (0, 3, 4)
    run(tmp_path / "b", 2)
    trainer, resumed, history_b = run(tmp_path / "b", 8, resume=True)
    assert (resumed.best_epoch, resumed.stopped_epoch) == (whole.best_epoch, whole.stopped_epoch)
    assert history_b["train_loss"] == history["train_loss"]
    assert load_checkpoint(tmp_path / "b" / "best.safetensors", mlp(5))["epoch"] == 1


def test_restore_best_weights_warns_when_the_best_epoch_predates_the_resume(tmp_path):
    def fit(epochs, resume=False):
        stop = EarlyStopping(monitor="train_loss", mode="max", patience=5)
        trainer = make(callbacks=[stop, ModelCheckpoint(tmp_path, monitor="train_loss", mode="max")])
        trainer.fit(loader(), epochs, resume_from=tmp_path / "last.safetensors" if resume else None)
        return trainer

    fit(2)
    with pytest.warns(UserWarning, match="best epoch \\(1\\) came before this fit resumed"):
        trainer = fit(4, resume=True)
    last = mlp(5)
    load_checkpoint(tmp_path / "last.safetensors", last)
    for k, v in trainer.model.state_dict().items():  # the last weights were kept
        np.testing.assert_array_equal(v.numpy(), last.state_dict()[k].numpy())


# ------------------------------------------------------------------ clipping and penalties
class GradProbe(Callback):
    def __init__(self):
        self.norms, self.maxes = [], []

    def on_before_optimizer_step(self, trainer):
        self.norms.append(grad_norm(trainer.model))
        self.maxes.append(max(float(np.abs(p.grad.numpy()).max()) for p in trainer.model.parameters()))


def test_gradient_clipping_bounds_the_gradients():
    free = GradProbe()
    make(lr=0.5, opt=optim.SGD, callbacks=[free]).fit(loader(), 2)
    assert max(free.norms) > 0.1 and max(free.maxes) > 0.01  # the bounds below do bite

    by_norm = GradProbe()
    make(lr=0.5, opt=optim.SGD, callbacks=[by_norm], grad_clip_norm=0.1).fit(loader(), 2)
    assert max(by_norm.norms) <= 0.1 * (1 + 1e-5)

    by_value = GradProbe()
    make(lr=0.5, opt=optim.SGD, callbacks=[by_value], grad_clip_value=0.01).fit(loader(), 2)
    assert max(by_value.maxes) <= 0.01


def test_l1_l2_penalties_change_the_loss_by_the_right_amount():
    full = lambda: DataLoader(DS, batch_size=120)  # noqa: E731
    plain = make(lr=0.0, opt=optim.SGD).fit(full(), 1)["train_loss"][0]
    t = make(lr=0.0, opt=optim.SGD, l1=0.01, l2=0.1)
    penalized = t.fit(full(), 1)["train_loss"][0]
    weights = [p.detach().numpy().astype(np.float64) for p in t.model.parameters() if p.ndim >= 2]
    assert len(weights) == 2  # biases are not penalized
    want = 0.01 * sum(np.abs(w).sum() for w in weights) + 0.1 * sum((w**2).sum() for w in weights)
    assert penalized - plain == pytest.approx(want, rel=1e-4)


def test_l2_gradient_matches_weight_decay():
    """l2 = λ/2 in the loss gives the same update as SGD(weight_decay=λ)."""
    full = lambda: DataLoader(DS, batch_size=120)  # noqa: E731
    a = make(lr=0.1, opt=optim.SGD, l2=0.05)
    a.fit(full(), 1)
    model = mlp()
    params = list(model.parameters())
    opt = optim.SGD([{"params": [params[0], params[2]], "weight_decay": 0.1}, {"params": [params[1], params[3]]}],
                    lr=0.1)
    Trainer(model, opt, nn.CrossEntropyLoss(), progress=None).fit(full(), 1)
    for p, q in zip(a.model.parameters(), model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------ history files and logging
def test_history_csv_and_json(tmp_path):
    trainer = make(metrics={"acc": metrics.accuracy},
                   callbacks=[CSVLogger(tmp_path / "log.csv"), JSONLogger(tmp_path / "log.json")])
    h = trainer.fit(loader(), 3, val_loader=loader(60, False))
    for path in (h.to_csv(tmp_path / "h.csv"), tmp_path / "log.csv"):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 3 and list(rows[0]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "time"]
        for row, rec in zip(rows, h.records):
            for k, v in rec.items():
                assert float(row[k]) == pytest.approx(v, rel=1e-12)
    for path in (h.to_json(tmp_path / "h.json"), tmp_path / "log.json"):
        with open(path) as f:
            assert json.load(f) == h.records
    assert h.to_dict()["val_acc"] == h["val_acc"]


def test_progress_modes(capsys):
    make(progress=False).fit(loader(), 2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2: train_loss=")
    pytest.importorskip("tqdm")
    make(progress=True).fit(loader(), 1)
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and captured.out == ""
    make(progress=None).fit(loader(), 1)
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


# ------------------------------------------------------------------ bad input
def test_bad_arguments():
    t = make()
    for epochs in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="epochs"):
            t.fit(loader(), epochs)
    with pytest.raises(ValueError, match="no batches"):
        t.fit([], 1)
    with pytest.raises(ValueError, match="no batches"):
        t.evaluate([])
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(model, opt, loss, scheduler_interval="batch")
    with pytest.raises(ValueError, match="l1 and l2"):
        Trainer(model, opt, loss, l2=-0.1)
    with pytest.raises(ValueError, match="grad_clip_norm"):
        Trainer(model, opt, loss, grad_clip_norm=0)
    with pytest.raises(TypeError, match="Module"):
        Trainer(lambda x: x, opt, loss)


def test_resume_past_the_end_warns(tmp_path):
    t = make()
    t.fit(loader(), 2)
    path = t.save_checkpoint(tmp_path / "c.safetensors")
    with pytest.warns(UserWarning, match="already completed 2 of 2"):
        h = make().fit(loader(), 2, resume_from=path)
    assert len(h) == 2


def test_progress_bar_falls_back_to_prints_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)  # import now raises ImportError
    with pytest.warns(UserWarning, match=r"pip install 'groundup\[progress\]'"):
        make(progress=True).fit(loader(), 1)
    assert capsys.readouterr().out.startswith("epoch 1/1: train_loss=")
