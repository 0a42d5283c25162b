"""Optimizers: PyTorch parity of every update rule over option grids (float64 to 1e-9, float32 kept
float32), param groups, state_dict layout and round trips (also into torch), closures, zero_grad,
argument errors, and training a real model through autograd."""

import copy
import itertools
import pickle
import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.optim as optim
from groundup.nn import Parameter
from tests.helpers import requires_torch, torch

SHAPES = [(3, 4), (5,), (), (2, 2)]  # a 0-d parameter too; the last never gets a gradient


def _grid(**options):
    """Every combination of the given option values, as a list of kwargs dicts."""
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


# (name, list of kwargs) — every option of every optimizer, in combination
GRIDS = {
    "SGD": _grid(lr=[0.05], momentum=[0.0, 0.9], dampening=[0.0, 0.3], weight_decay=[0.0, 0.1], maximize=[False, True])
    + _grid(lr=[0.05], momentum=[0.5, 0.9], nesterov=[True], weight_decay=[0.0, 0.1], maximize=[False, True]),
    "Adam": _grid(
        lr=[0.01], weight_decay=[0.0, 0.1], amsgrad=[False, True], maximize=[False, True],
        decoupled_weight_decay=[False, True],
    )
    + [dict(lr=0.02, betas=(0.5, 0.9), eps=1e-3)],
    "AdamW": _grid(lr=[0.01], weight_decay=[0.0, 0.1], amsgrad=[False, True], maximize=[False, True])
    + [dict(), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-4)],
    "Adamax": _grid(lr=[0.01], weight_decay=[0.0, 0.1], maximize=[False, True], eps=[1e-8, 0.3])
    + [dict(betas=(0.5, 0.9))],
    "NAdam": _grid(
        lr=[0.01], weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True], maximize=[False, True],
        momentum_decay=[4e-3, 0.1],
    )
    + [dict(betas=(0.5, 0.9), eps=1e-3)],
    "RMSprop": _grid(
        lr=[0.01], momentum=[0.0, 0.9], centered=[False, True], weight_decay=[0.0, 0.1], maximize=[False, True]
    )
    + [dict(alpha=0.5, eps=1e-3)],
    "Adagrad": _grid(
        lr=[0.05], lr_decay=[0.0, 0.1], weight_decay=[0.0, 0.1], initial_accumulator_value=[0.0, 0.5],
        maximize=[False, True],
    )
    + [dict(eps=1e-2)],
    "Adadelta": _grid(lr=[1.0, 0.3], rho=[0.9, 0.5], weight_decay=[0.0, 0.1], maximize=[False, True])
    + [dict(eps=1e-2)],
}  # fmt: skip
CASES = [(name, kw) for name, grid in GRIDS.items() for kw in grid]
NAMES = list(GRIDS)


def _params(lib, dtype=np.float64, seed=0):
    """Four parameters with the same values in both libraries (the last one never gets a gradient)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    if lib == "gu":
        return [Parameter(gu.tensor(a)) for a in arrays]
    return [torch.nn.Parameter(torch.tensor(a)) for a in arrays]


def _numpy(p):
    return p.data if isinstance(p, gu.Tensor) else p.detach().numpy()


def _feed(gu_params, torch_params, rng, dtype):
    """Give both libraries the same random gradient for all but the last parameter."""
    for gp, tp in zip(gu_params[:-1], torch_params[:-1]):
        g = rng.standard_normal(gp.shape).astype(dtype)
        gp.grad = gu.tensor(g)
        tp.grad = torch.tensor(g)


def _assert_close(gu_params, torch_params, dtype, step):
    rtol, atol = (1e-9, 1e-12) if dtype == np.float64 else (2e-5, 2e-6)
    for i, (gp, tp) in enumerate(zip(gu_params, torch_params)):
        assert gp.data.dtype == dtype, f"param {i} became {gp.data.dtype}"
        np.testing.assert_allclose(gp.data, _numpy(tp), rtol=rtol, atol=atol, err_msg=f"param {i}, step {step}")


def _run_parity(name, kwargs, dtype=np.float64, steps=20, seed=0):
    gu_params, torch_params = _params("gu", dtype, seed), _params("torch", dtype, seed)
    gu_opt = getattr(optim, name)(gu_params, **kwargs)
    torch_opt = getattr(torch.optim, name)(torch_params, **kwargs)
    rng = np.random.default_rng(seed + 1)
    for step in range(steps):
        _feed(gu_params, torch_params, rng, dtype)
        gu_opt.step()
        torch_opt.step()
        _assert_close(gu_params, torch_params, dtype, step)
    return gu_opt, torch_opt


# ------------------------------------------------------------------------------- update rules
@requires_torch
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_parity_float64(name, kwargs):
    gu_opt, torch_opt = _run_parity(name, kwargs)
    # the parameter without a gradient was skipped: unchanged and no state (Adagrad creates it eagerly)
    frozen = gu_opt.param_groups[0]["params"][-1]
    np.testing.assert_array_equal(frozen.data, _params("gu")[-1].data)
    assert (frozen in gu_opt.state) == (name == "Adagrad")


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_parity_float32_stays_float32(name):
    for kwargs in GRIDS[name][:: max(1, len(GRIDS[name]) // 4)]:
        gu_opt, _ = _run_parity(name, kwargs, dtype=np.float32)
        for state in gu_opt.state.values():
            for key, value in state.items():
                if key not in ("step", "mu_product"):
                    assert value.data.dtype == np.float32, (name, key)


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_options(name):
    group_opts = {
        "SGD": ({"momentum": 0.9}, {"lr": 0.2, "nesterov": True, "momentum": 0.5}),
        "Adam": ({"amsgrad": True}, {"lr": 0.05, "betas": (0.5, 0.7), "weight_decay": 0.1}),
        "AdamW": ({"amsgrad": True}, {"lr": 0.05, "betas": (0.5, 0.7), "weight_decay": 0.3}),
        "Adamax": ({}, {"lr": 0.05, "betas": (0.5, 0.7), "weight_decay": 0.1}),
        "NAdam": ({"momentum_decay": 0.05}, {"lr": 0.05, "betas": (0.5, 0.7), "weight_decay": 0.1}),
        "RMSprop": ({"centered": True}, {"lr": 0.05, "momentum": 0.9, "alpha": 0.7}),
        "Adagrad": ({"lr_decay": 0.1}, {"lr": 0.2, "weight_decay": 0.1}),
        "Adadelta": ({"rho": 0.5}, {"lr": 0.5, "weight_decay": 0.1}),
    }[name]
    gu_params, torch_params = _params("gu"), _params("torch")
    gu_opt = getattr(optim, name)([{"params": gu_params[:1], **group_opts[0]}, {"params": gu_params[1:], **group_opts[1]}], lr=0.01)
    torch_opt = getattr(torch.optim, name)(
        [{"params": torch_params[:1], **group_opts[0]}, {"params": torch_params[1:], **group_opts[1]}], lr=0.01
    )
    rng = np.random.default_rng(3)
    for step in range(15):
        _feed(gu_params, torch_params, rng, np.float64)
        gu_opt.step()
        torch_opt.step()
        _assert_close(gu_params, torch_params, np.float64, step)
    assert gu_opt.state_dict()["param_groups"] == torch_opt.state_dict()["param_groups"]


@requires_torch
def test_lr_changed_between_steps_is_used():
    gu_params, torch_params = _params("gu"), _params("torch")
    gu_opt, torch_opt = optim.Adam(gu_params, lr=0.1), torch.optim.Adam(torch_params, lr=0.1)
    rng = np.random.default_rng(0)
    for step in range(10):
        for opt in (gu_opt, torch_opt):
            opt.param_groups[0]["lr"] = 0.1 / (step + 1)
            opt.param_groups[0]["betas"] = (0.9 - 0.02 * step, 0.999)
        _feed(gu_params, torch_params, rng, np.float64)
        gu_opt.step()
        torch_opt.step()
        _assert_close(gu_params, torch_params, np.float64, step)


def test_float32_numpy_float64_hyperparameters_do_not_promote():
    params = _params("gu", np.float32)
    opts = [
        optim.SGD(params[:1], lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=np.float64(0.1)),
        optim.Adam(params[1:2], lr=np.float64(0.1), betas=(np.float64(0.9), np.float64(0.99))),
    ]
    for p in params[:2]:
        p.grad = gu.ones(*p.shape)
    for opt in opts:
        opt.step()
        opt.step()
    for p in params[:2]:
        assert p.data.dtype == np.float32
    assert opts[0].state[params[0]]["momentum_buffer"].dtype == gu.float32


def test_step_bumps_version_and_keeps_grad_untouched():
    p = Parameter(gu.tensor([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5, maximize=True)
    p.grad = gu.tensor([0.5, 0.5])
    grad_before = p.grad.data.copy()
    version = p._version
    opt.step()
    assert p._version == version + 1
    np.testing.assert_array_equal(p.grad.data, grad_before)
    # the first momentum buffer is a copy, not the gradient itself
    assert not np.shares_memory(opt.state[p]["momentum_buffer"].data, p.grad.data)


def test_sgd_by_hand():
    """Two SGD-with-momentum steps worked out by hand: b1 = g1, b2 = μ·b1 + g2; θ -= lr·b."""
    p = Parameter(gu.tensor([1.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = gu.tensor([2.0])
    opt.step()  # b = 2, θ = 1 - 0.2
    p.grad = gu.tensor([1.0])
    opt.step()  # b = 0.9·2 + 1 = 2.8, θ = 0.8 - 0.28
    np.testing.assert_allclose(p.data, [0.52])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].data, [2.8])


def test_adam_first_step_is_lr_times_sign():
    """After bias correction Adam's first step is lr·g/(|g| + ε') ≈ lr·sign(g), whatever |g| is."""
    p = Parameter(gu.tensor([1.0, 1.0, 1.0]))
    opt = optim.Adam([p], lr=0.01)
    p.grad = gu.tensor([1e-3, -5.0, 300.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, 1.01, 0.99], rtol=1e-5)


# ------------------------------------------------------------------------------- closures, training
@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_training_linear_regression_with_closure(name):
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    w0, b0 = rng.standard_normal((3, 1)), np.zeros(1)
    kwargs = {"lr": 0.05} if name not in ("Adadelta",) else {}
    gw, gb = Parameter(gu.tensor(w0)), Parameter(gu.tensor(b0))
    tw, tb = torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))
    gu_opt = getattr(optim, name)([gw, gb], **kwargs)
    torch_opt = getattr(torch.optim, name)([tw, tb], **kwargs)
    gX, gy, tX, ty = gu.tensor(X), gu.tensor(y), torch.tensor(X), torch.tensor(y)

    def gu_closure():
        gu_opt.zero_grad()
        loss = ((gX @ gw + gb - gy) ** 2).mean()
        loss.backward()
        return loss

    def torch_closure():
        torch_opt.zero_grad()
        loss = ((tX @ tw + tb - ty) ** 2).mean()
        loss.backward()
        return loss

    losses = []
    for _ in range(30):
        with gu.no_grad():  # the closure still records: step() re-enables grad for it
            gu_loss = gu_opt.step(gu_closure)
        torch_loss = torch_opt.step(torch_closure)
        np.testing.assert_allclose(gu_loss.item(), torch_loss.item(), rtol=1e-9)
        losses.append(gu_loss.item())
    np.testing.assert_allclose(gw.data, tw.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gb.data, tb.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert losses[-1] < losses[0]


def test_step_without_closure_returns_none():
    p = Parameter(gu.tensor([1.0]))
    assert optim.SGD([p]).step() is None


def test_zero_grad():
    p, q = Parameter(gu.tensor([1.0, 2.0])), Parameter(gu.tensor([3.0]))
    opt = optim.SGD([p, q], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad  # zeroed in place
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0])
    assert q.grad is None
    opt.zero_grad()
    assert p.grad is None


# ------------------------------------------------------------------------------- state_dict
def _state_dict_to_torch(sd):
    """A groundup optimizer state dict with every Tensor turned into a torch tensor."""
    out = copy.deepcopy(sd)
    for state in out["state"].values():
        for k, v in state.items():
            state[k] = torch.tensor(v.data)
    return out


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_layout_matches_torch(name):
    kwargs = GRIDS[name][-2]  # the richest options of the grid
    gu_opt, torch_opt = _run_parity(name, kwargs, steps=3)
    gu_sd, torch_sd = gu_opt.state_dict(), torch_opt.state_dict()
    assert gu_sd["param_groups"] == torch_sd["param_groups"]
    assert sorted(gu_sd["state"]) == sorted(torch_sd["state"])
    for i, torch_state in torch_sd["state"].items():
        gu_state = gu_sd["state"][i]
        assert list(gu_state) == list(torch_state), i
        for key, value in torch_state.items():
            assert isinstance(gu_state[key], gu.Tensor)
            assert gu_state[key].shape == tuple(value.shape)
            np.testing.assert_allclose(gu_state[key].data, value.numpy(), rtol=1e-9, atol=1e-12)
            if key in ("step", "mu_product"):
                assert gu_state[key].data.dtype == value.numpy().dtype == np.float32


@pytest.mark.parametrize("name,kwargs", [(n, GRIDS[n][-2]) for n in NAMES] + [("SGD", {"momentum": 0.9})])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    rng = np.random.default_rng(11)
    grads = [[rng.standard_normal(s) for s in SHAPES[:-1]] for _ in range(20)]

    def train(opt, params, steps):
        for gs in steps:
            for p, g in zip(params, gs):
                p.grad = gu.tensor(g)
            opt.step()

    params = _params("gu")
    opt = getattr(optim, name)(params, **kwargs)
    train(opt, params, grads)  # uninterrupted

    params_a = _params("gu")
    opt_a = getattr(optim, name)(params_a, **kwargs)
    train(opt_a, params_a, grads[:10])
    saved = pickle.loads(pickle.dumps(opt_a.state_dict()))  # as a checkpoint file would
    snapshot = [p.data.copy() for p in params_a]
    train(opt_a, params_a, grads[10:12])  # the original keeps going: must not disturb the loaded copy

    params_b = [Parameter(gu.tensor(a)) for a in snapshot]
    opt_b = getattr(optim, name)(params_b, **kwargs)
    opt_b.load_state_dict(saved)
    train(opt_b, params_b, grads[10:])
    for p, q in zip(params, params_b):
        if name == "NAdam":  # as in PyTorch, loading casts mu_product to the param's dtype (float64 here)
            np.testing.assert_allclose(p.data, q.data, rtol=1e-11)
        else:
            np.testing.assert_array_equal(p.data, q.data)
    assert opt_b.param_groups[0]["params"] is not params  # groups hold the new optimizer's params


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_loads_into_torch(name):
    """A groundup checkpoint, converted tensor by tensor, resumes in PyTorch with the same results."""
    kwargs = GRIDS[name][-2]
    gu_params, torch_params = _params("gu"), _params("torch")
    gu_opt = getattr(optim, name)(gu_params, **kwargs)
    rng = np.random.default_rng(5)
    for _ in range(6):
        for p in gu_params[:-1]:
            p.grad = gu.tensor(rng.standard_normal(p.shape))
        gu_opt.step()
    with torch.no_grad():
        for gp, tp in zip(gu_params, torch_params):
            tp.copy_(torch.tensor(gp.data))
    torch_opt = getattr(torch.optim, name)(torch_params, **kwargs)
    torch_opt.load_state_dict(_state_dict_to_torch(gu_opt.state_dict()))
    for step in range(6):
        _feed(gu_params, torch_params, rng, np.float64)
        gu_opt.step()
        torch_opt.step()
        _assert_close(gu_params, torch_params, np.float64, step)


def test_load_state_dict_casts_to_param_dtype_and_checks_layout():
    p64 = Parameter(gu.tensor([1.0, 2.0], dtype=gu.float64))
    opt = optim.Adam([p64])
    p64.grad = gu.ones(2, dtype=gu.float64)
    opt.step()
    p32 = Parameter(gu.tensor([1.0, 2.0]))
    opt32 = optim.Adam([p32])
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32]["exp_avg"].dtype == gu.float32
    assert opt32.state[p32]["step"].item() == 1.0
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": [p32]}, {"params": [Parameter(gu.zeros(1))]}]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam([p32, Parameter(gu.zeros(1))]).load_state_dict(opt.state_dict())


def test_state_dict_uses_indices_across_groups():
    ps = _params("gu")
    opt = optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in ps:
        p.grad = gu.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert set(sd["state"][0]) == {"momentum_buffer"}
    assert sd["param_groups"][1]["lr"] == 0.5


@requires_torch
def test_named_parameters_record_names():
    names = ["a", "b", "c"]
    gu_opt = optim.Adam(list(zip(names, _params("gu"))), lr=0.1)
    torch_opt = torch.optim.Adam(list(zip(names, _params("torch"))), lr=0.1)
    assert gu_opt.param_groups[0]["param_names"] == names
    assert gu_opt.state_dict()["param_groups"] == torch_opt.state_dict()["param_groups"]


# ------------------------------------------------------------------------------- groups
def test_add_param_group_mid_training():
    ps = _params("gu")
    opt = optim.Adagrad(ps[:1], lr=0.1, initial_accumulator_value=0.25)
    opt.add_param_group({"params": ps[1], "lr": 0.5})
    assert opt.param_groups[1]["params"] == [ps[1]] or opt.param_groups[1]["params"][0] is ps[1]
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["lr_decay"] == 0
    ps[1].grad = gu.ones(*ps[1].shape)
    opt.step()
    np.testing.assert_allclose(opt.state[ps[1]]["sum"].data, np.full(ps[1].shape, 1.25))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [ps[0]]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([ps[2]])


def test_repr_lists_groups():
    opt = optim.SGD([{"params": _params("gu")[:1]}, {"params": _params("gu")[1:], "lr": 0.5}], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 1" in text and "    lr: 0.5" in text


# ------------------------------------------------------------------------------- errors
INVALID = [
    ("SGD", {"lr": -0.1}, "Invalid learning rate: -0.1"),
    ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("SGD", {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
    ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", {"lr": -1e-3}, "Invalid learning rate: -0.001"),
    ("Adam", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ("Adam", {"betas": (0, 0.999)}, "betas must be either both floats or both Tensors"),
    ("Adam", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("AdamW", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
    ("Adamax", {"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ("NAdam", {"momentum_decay": -1.0}, "Invalid momentum_decay value: -1.0"),
    ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
    ("RMSprop", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    ("Adagrad", {"lr_decay": -0.5}, "Invalid lr_decay value: -0.5"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value value: -1.0"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
]  # fmt: skip


@pytest.mark.parametrize("name,kwargs,message", INVALID, ids=[f"{n}-{kw}" for n, kw, _ in INVALID])
def test_invalid_hyperparameters(name, kwargs, message):
    with pytest.raises(ValueError) as err:
        getattr(optim, name)(_params("gu"), **kwargs)
    assert str(err.value) == message
    if torch is not None:  # the same message as PyTorch's
        with pytest.raises(ValueError) as terr:
            getattr(torch.optim, name)(_params("torch"), **kwargs)
        assert str(terr.value) == message


@pytest.mark.parametrize("name", NAMES)
def test_zero_lr_is_allowed_and_freezes(name):
    ps = _params("gu")
    opt = getattr(optim, name)(ps, lr=0.0)
    before = [p.data.copy() for p in ps]
    for p in ps:
        p.grad = gu.ones(*p.shape)
    opt.step()
    for p, b in zip(ps, before):
        np.testing.assert_array_equal(p.data, b)


def test_parameter_list_errors():
    p = Parameter(gu.tensor([1.0]))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam(iter([]))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got groundup.Tensor"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is list"):
        optim.SGD([[1.0]])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p], "lr": 0.1}])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p])
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("a", p), Parameter(gu.zeros(1))])
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam([p], differentiable=True)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD([p], lr=gu.tensor([0.1, 0.2]))
    assert optim.SGD([p], lr=gu.tensor(0.5)).param_groups[0]["lr"] == 0.5


def test_generator_of_parameters_and_module_parameters():
    model = gu.nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD(model.parameters(), lr=0.1)


def test_defaults_match_torch_signatures():
    import inspect

    for name in NAMES:
        ours = inspect.signature(getattr(optim, name)).parameters
        if torch is None:
            continue
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        assert list(ours) == list(theirs), name
        for arg, param in theirs.items():
            assert ours[arg].default == param.default, (name, arg)
            assert ours[arg].kind == param.kind, (name, arg)
