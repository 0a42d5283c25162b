"""Checkpoints: exact (bit-identical) resumption, and clear errors for bad files."""

from __future__ import annotations

import os

import numpy as np
import pytest

import groundup as gu
from groundup import nn, optim
from groundup.optim import lr_scheduler
from groundup.train import CheckpointError, ModelCheckpoint, Trainer, load_checkpoint, save_checkpoint
from groundup.utils.data import DataLoader, TensorDataset

_rng = np.random.default_rng(0)
X = _rng.normal(size=(80, 6)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5)


def build(seed: int, opt: str = "sgd", sched: str = "step", use_gen: bool = True, gen_seed: int = 7):
    """A small MLP with dropout, a shuffling loader, an optimizer with state and a scheduler."""
    gu.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    gen = gu.Generator().manual_seed(gen_seed) if use_gen else None
    loader = DataLoader(TensorDataset(gu.tensor(X), gu.tensor(Y)), batch_size=16, shuffle=True, generator=gen)
    val = DataLoader(TensorDataset(gu.tensor(X[:32]), gu.tensor(Y[:32])), batch_size=16)
    if opt == "sgd":
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        optimizer = optim.Adam(model.parameters(), lr=0.01)
    interval = "epoch"
    if sched == "step":
        scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    elif sched == "onecycle":
        scheduler, interval = lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=20), "step"
    else:
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), scheduler=scheduler, scheduler_interval=interval,
                      progress=None)
    return trainer, loader, val


def _assert_same_state(a: Trainer, b: Trainer) -> None:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert np.array_equal(sa[k].numpy(), sb[k].numpy()), k
    oa, ob = a.optimizer.state_dict(), b.optimizer.state_dict()
    for i, st in oa["state"].items():
        for k, v in st.items():
            assert np.array_equal(np.asarray(v.numpy() if hasattr(v, "numpy") else v),
                                  np.asarray(ob["state"][i][k].numpy() if hasattr(v, "numpy") else ob["state"][i][k])), k
    assert a.optimizer.param_groups[0]["lr"] == b.optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize(
    "opt, sched, use_gen",
    [("sgd", "step", True), ("adam", "onecycle", True), ("adam", "plateau", False), ("sgd", "onecycle", False)],
)
def test_resume_is_bit_identical(tmp_path, opt, sched, use_gen):
    straight, loader, val = build(0, opt, sched, use_gen)
    straight.fit(loader, 2, val_loader=val)

    first, loader, val = build(0, opt, sched, use_gen)
    first.callbacks.append(ModelCheckpoint(tmp_path))
    first.fit(loader, 1, val_loader=val)
    path = tmp_path / "last.safetensors"
    assert path.is_file()

    # everything fresh, from a different seed, then a global RNG draw so the states all differ
    resumed, loader, val = build(123, opt, sched, use_gen, gen_seed=99)
    gu.rand(5)
    history = resumed.fit(loader, 2, val_loader=val, resume_from=path)

    _assert_same_state(straight, resumed)
    assert len(history) == 2 and history["epoch"] == [1, 2]
    assert history["train_loss"] == straight.history["train_loss"]
    assert history["val_loss"] == straight.history["val_loss"]


def test_resume_without_restoring_rng_would_differ(tmp_path):
    """Guard that the test above can fail: skipping the RNG restore changes the weights."""
    straight, loader, val = build(0)
    straight.fit(loader, 2)
    first, loader, _ = build(0)
    first.fit(loader, 1)
    first.save_checkpoint(tmp_path / "c.safetensors")
    resumed, loader, _ = build(123, gen_seed=99)
    state = gu.get_rng_state()
    load_checkpoint(tmp_path / "c.safetensors", resumed.model, resumed.optimizer, resumed.scheduler,
                    generator=loader.generator)
    gu.set_rng_state(state)  # undo the global-RNG part of the restore: dropout masks now differ
    resumed.train_epoch(loader)
    assert not all(
        np.array_equal(a.numpy(), b.numpy())
        for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values())
    )


def test_plain_loop_round_trip_restores_everything(tmp_path):
    trainer, loader, _ = build(0, "adam", "step")
    trainer.fit(loader, 1)
    gen = loader.generator
    path = save_checkpoint(tmp_path / "ck.safetensors", trainer.model, trainer.optimizer, trainer.scheduler,
                           epoch=1, history={"train_loss": [0.5]}, generator=gen, extra={"note": "hi", "n": 3})
    want_global, want_gen = gu.rand(4).numpy(), gen.np.random(4)

    fresh, loader2, _ = build(5, "adam", "step", gen_seed=11)
    info = load_checkpoint(path, fresh.model, fresh.optimizer, fresh.scheduler, generator=loader2.generator)
    assert info == {"epoch": 1, "history": {"train_loss": [0.5]}, "extra": {"note": "hi", "n": 3}}
    np.testing.assert_array_equal(gu.rand(4).numpy(), want_global)
    np.testing.assert_array_equal(loader2.generator.np.random(4), want_gen)
    assert fresh.scheduler.state_dict() == trainer.scheduler.state_dict()
    _assert_same_state(trainer, fresh)


def test_missing_file(tmp_path):
    trainer, _, _ = build(0)
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "nope.safetensors", trainer.model)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "header"])
def test_corrupt_or_truncated_checkpoint(tmp_path, damage):
    trainer, loader, _ = build(0)
    path = trainer.save_checkpoint(tmp_path / "c.safetensors")
    data = open(path, "rb").read()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = b"not a checkpoint"
    else:
        data = data[:8] + b"{" * 20 + data[28:]
    open(path, "wb").write(data)
    before = {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        trainer.fit(loader, 2, resume_from=path)
    for k, v in trainer.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_not_a_training_checkpoint(tmp_path):
    trainer, _, _ = build(0)
    gu.save(trainer.model.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="not a groundup training checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors", trainer.model)


def test_model_key_mismatch_lists_keys_and_changes_nothing(tmp_path):
    trainer, _, _ = build(0)
    path = trainer.save_checkpoint(tmp_path / "c.safetensors")
    other = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))  # no dropout: "2.*" not "3.*"
    before = [p.detach().numpy().copy() for p in other.parameters()]
    with pytest.raises(CheckpointError, match=r"Missing.*'2\.weight', '2\.bias'.*Not in this model: \['3\.weight', '3\.bias'\]") as err:
        load_checkpoint(path, other)
    assert "different model" in str(err.value)
    for p, b in zip(other.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b)


def test_failure_midway_rolls_back_the_model(tmp_path):
    trainer, loader, _ = build(0)
    trainer.fit(loader, 1)
    path = trainer.save_checkpoint(tmp_path / "c.safetensors")
    fresh, _, _ = build(9)
    params = list(fresh.model.parameters())
    two_groups = optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1, momentum=0.9)
    before = {k: v.numpy().copy() for k, v in fresh.model.state_dict().items()}
    rng_before = gu.get_rng_state()
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path, fresh.model, two_groups)
    for k, v in fresh.model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # the model load was undone
    assert gu.get_rng_state() == rng_before


def test_failed_save_keeps_previous_file(tmp_path):
    trainer, _, _ = build(0)
    path = trainer.save_checkpoint(tmp_path / "c.safetensors")
    data = open(path, "rb").read()
    with pytest.raises(TypeError, match="cannot store"):
        save_checkpoint(path, trainer.model, extra=object())
    assert open(path, "rb").read() == data
    assert os.listdir(tmp_path) == ["c.safetensors"]  # no temporary file left behind


def test_bad_epoch():
    trainer, _, _ = build(0)
    with pytest.raises(ValueError, match="epoch"):
        save_checkpoint("x.safetensors", trainer.model, epoch=-1)
