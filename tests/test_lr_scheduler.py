"""Learning-rate schedulers: the lr (and momentum/beta1) sequences match PyTorch's exactly over
100-300 steps for several parameterisations of every scheduler, plus step(epoch) closed forms,
fractional epochs, state_dict round trips, combinators, warnings and argument errors."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import groundup as gu
import groundup.optim as optim
from groundup.nn import Parameter
from groundup.optim import lr_scheduler
from tests.helpers import requires_torch, torch

if torch is not None:
    tsched = torch.optim.lr_scheduler


def _optimizer(lib, name="SGD", groups=2, **kwargs):
    """An optimizer with one tiny parameter per group and group lrs 0.1, 0.2, …"""
    if lib == "gu":
        params, cls = [Parameter(gu.zeros(2)) for _ in range(groups)], getattr(optim, name)
    else:
        params, cls = [torch.nn.Parameter(torch.zeros(2)) for _ in range(groups)], getattr(torch.optim, name)
    return cls([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], **kwargs)


def _trace(lib, factory, steps, opt_name="SGD", opt_kwargs=None, metrics=None, epochs=None):
    """Run a schedule for ``steps`` steps; record every group's lr and momentum/beta1 after each step."""
    opt = _optimizer(lib, opt_name, **(opt_kwargs or {}))
    sched = factory(lr_scheduler if lib == "gu" else tsched, opt)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in both
        for i in range(steps):
            opt.step()
            if metrics is not None:
                sched.step(metrics[i])
            elif epochs is not None:
                sched.step(epochs[i])
            else:
                sched.step()
            groups = opt.param_groups
            rows.append(
                (
                    list(sched.get_last_lr()),
                    [g["lr"] for g in groups],
                    [g["betas"][0] if "betas" in g else g.get("momentum") for g in groups],
                    getattr(sched, "last_epoch", None),  # ChainedScheduler has none
                )
            )
    return rows


def _assert_same_trace(factory, steps, **kwargs):
    ours, theirs = _trace("gu", factory, steps, **kwargs), _trace("torch", factory, steps, **kwargs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"step {i}: groundup {a} != torch {b}"
    return ours


SCHEDULES = {
    "StepLR-halving": (lambda m, o: m.StepLR(o, step_size=10, gamma=0.5), 100),
    "StepLR-default": (lambda m, o: m.StepLR(o, step_size=7), 100),
    "StepLR-1": (lambda m, o: m.StepLR(o, step_size=1, gamma=0.97), 150),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[3, 30, 80]), 100),
    "MultiStepLR-repeated": (lambda m, o: m.MultiStepLR(o, milestones=[50, 10, 10, 90], gamma=0.5), 120),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.95), 200),
    "ExponentialLR-2": (lambda m, o: m.ExponentialLR(o, gamma=0.999), 300),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=100), 100),
    "CosineAnnealingLR-eta": (lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.01), 200),
    "CosineAnnealingLR-short": (lambda m, o: m.CosineAnnealingLR(o, T_max=1, eta_min=1e-3), 50),
    "CosineAnnealingLR-odd": (lambda m, o: m.CosineAnnealingLR(o, T_max=7), 150),
    "WarmRestarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10), 100),
    "WarmRestarts-mult": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.005), 200),
    "WarmRestarts-1": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=1, eta_min=0.01), 30),
    "CyclicLR": (lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=10), 200),
    "CyclicLR-asym-tri2": (
        lambda m, o: m.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=7, step_size_down=3, mode="triangular2"),
        200,
    ),
    "CyclicLR-exp_range": (
        lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=5, mode="exp_range", gamma=0.98, base_momentum=0.7),
        150,
    ),
    "CyclicLR-scale_fn": (
        lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 0.5 ** (x / 10), scale_mode="iterations"),
        100,
    ),
    "CyclicLR-no-momentum": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6, cycle_momentum=False), 60),
    "OneCycleLR": (lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=100), 100),
    "OneCycleLR-epochs-linear": (
        lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 1.0], epochs=10, steps_per_epoch=15, anneal_strategy="linear", pct_start=0.25),
        150,
    ),
    "OneCycleLR-three-phase": (
        lambda m, o: m.OneCycleLR(o, 0.3, total_steps=200, three_phase=True, div_factor=10.0, final_div_factor=100.0),
        200,
    ),
    "OneCycleLR-no-momentum": (lambda m, o: m.OneCycleLR(o, 0.3, total_steps=50, cycle_momentum=False), 50),
    "LinearLR": (lambda m, o: m.LinearLR(o), 100),
    "LinearLR-down": (lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=80), 100),
    "LinearLR-up": (lambda m, o: m.LinearLR(o, start_factor=0.01, total_iters=30), 100),
    "ConstantLR": (lambda m, o: m.ConstantLR(o), 30),
    "ConstantLR-2": (lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=12), 30),
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)), 100),
    "LambdaLR-per-group": (lambda m, o: m.LambdaLR(o, [lambda e: 0.9**e, lambda e: min(1.0, (e + 1) / 10)]), 100),
    "MultiplicativeLR": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95 if e < 50 else 1.01), 100),
    "PolynomialLR": (lambda m, o: m.PolynomialLR(o, total_iters=80, power=2.0), 100),
    "PolynomialLR-linear": (lambda m, o: m.PolynomialLR(o), 20),
    "SequentialLR-warmup-cosine": (
        lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=90)], milestones=[10]),
        100,
    ),
    "SequentialLR-three": (
        lambda m, o: m.SequentialLR(
            o, [m.ConstantLR(o, 0.5, 5), m.ExponentialLR(o, 0.9), m.StepLR(o, 10, 0.5)], milestones=[5, 40]
        ),
        100,
    ),
    "ChainedScheduler": (
        lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.1, 4), m.ExponentialLR(o, 0.95)]),
        100,
    ),
    "ChainedScheduler-cosine-step": (
        lambda m, o: m.ChainedScheduler([m.CosineAnnealingLR(o, 20), m.StepLR(o, 15, 0.5)], optimizer=o),
        100,
    ),
}  # fmt: skip


@requires_torch
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_sequence_matches_torch(name):
    factory, steps = SCHEDULES[name]
    _assert_same_trace(factory, steps)


@requires_torch
@pytest.mark.parametrize(
    "factory",
    [
        lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5, base_momentum=0.8, max_momentum=0.95),
        lambda m, o: m.OneCycleLR(o, 0.1, total_steps=60, base_momentum=[0.8, 0.7], max_momentum=0.9),
    ],
    ids=["CyclicLR", "OneCycleLR"],
)
@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop", "NAdam"])
def test_momentum_cycling_matches_torch(factory, opt_name):
    rows = _assert_same_trace(factory, 60, opt_name=opt_name, opt_kwargs={"momentum": 0.9} if opt_name == "SGD" else {})
    assert len({row[2][0] for row in rows}) > 5  # momentum (or beta1) really moved


def test_steplr_halves_every_step_size():
    opt = _optimizer("gu", groups=1)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(9):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [0.1] * 3 + [0.05] * 3 + [0.025] * 3 + [0.0125]


def test_cosine_recursive_form_tracks_closed_form():
    opt = _optimizer("gu", groups=1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=50, eta_min=0.001)
    for t in range(1, 120):
        opt.step()
        sched.step()
        closed = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * t / 50)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------------- step(epoch)
@requires_torch
@pytest.mark.parametrize(
    "factory",
    [
        lambda m, o: m.StepLR(o, 5, 0.5),
        lambda m, o: m.MultiStepLR(o, [4, 9, 9]),
        lambda m, o: m.ExponentialLR(o, 0.9),
        lambda m, o: m.CosineAnnealingLR(o, 12, 0.01),
        lambda m, o: m.LinearLR(o, 0.2, 0.9, 8),
        lambda m, o: m.ConstantLR(o, 0.3, 6),
        lambda m, o: m.PolynomialLR(o, 10, 3.0),
        lambda m, o: m.LambdaLR(o, lambda e: 0.9**e),  # no closed form: get_lr at the given epoch
    ],
    ids=["StepLR", "MultiStepLR", "ExponentialLR", "Cosine", "LinearLR", "ConstantLR", "PolynomialLR", "LambdaLR"],
)
def test_step_with_epoch_uses_closed_form(factory):
    epochs = [3, 4, 10, 2, 15, 15, 0, 7, 30, 11]
    _assert_same_trace(factory, len(epochs), epochs=epochs)
    opt = _optimizer("gu")
    sched = factory(lr_scheduler, opt)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(3)
    assert sched.last_epoch == 3


@requires_torch
@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs(T_mult):
    iters = 7
    epochs = [e + i / iters for e in range(20) for i in range(iters)]
    epochs += [2.5, 0.0, 13.25, 45.0, 3.999]  # jumps back and forth
    rows = _assert_same_trace(
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=T_mult, eta_min=0.001), len(epochs), epochs=epochs
    )
    assert rows[iters][3] == 1  # last_epoch is the floor of the epoch


def test_warm_restarts_rejects_negative_epoch():
    sched = lr_scheduler.CosineAnnealingWarmRestarts(_optimizer("gu"), T_0=5)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched.step(-1)


# ------------------------------------------------------------------------------- ReduceLROnPlateau
METRICS = list(np.concatenate([np.linspace(1.0, 0.5, 10), np.full(15, 0.5), np.linspace(0.5, 0.3, 10), np.full(40, 0.31)]))


@requires_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 2, "factor": 0.5},
        {"patience": 3, "cooldown": 4, "factor": 0.5, "min_lr": [0.01, 0.05]},
        {"patience": 0, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 0.02},
        {"mode": "max", "patience": 1, "factor": 0.7},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.0, "patience": 2, "eps": 0.05},
    ],
    ids=str,
)
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = METRICS if kwargs.get("mode") != "max" else [-m for m in METRICS]
    rows = _assert_same_trace(lambda m, o: m.ReduceLROnPlateau(o, **kwargs), len(metrics), metrics=metrics)
    assert rows[-1][0] != rows[0][0]  # it did reduce


def test_reduce_on_plateau_accepts_tensor_metric_and_errors():
    opt = _optimizer("gu")
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(gu.tensor(1.0))
    sched.step(gu.tensor(2.0))
    assert sched.get_last_lr() == [pytest.approx(0.01), pytest.approx(0.02)]
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode x is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="x")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 1"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])


# ------------------------------------------------------------------------------- state
def _run(opt, sched, steps):
    for _ in range(steps):
        opt.step()
        sched.step()


@pytest.mark.parametrize(
    "name",
    [n for n in SCHEDULES if n not in ("CyclicLR-scale_fn",)],  # lambdas are not saved: rebuilt by the user
)
def test_state_dict_round_trip_continues_identically(name):
    factory, steps = SCHEDULES[name]
    steps = min(steps, 60)
    opt = _optimizer("gu")
    sched = factory(lr_scheduler, opt)
    _run(opt, sched, steps)
    expected = [g["lr"] for g in opt.param_groups], sched.get_last_lr()

    opt_a = _optimizer("gu")
    sched_a = factory(lr_scheduler, opt_a)
    _run(opt_a, sched_a, steps // 2)
    saved_sched = pickle.loads(pickle.dumps(sched_a.state_dict()))
    saved_opt = pickle.loads(pickle.dumps(opt_a.state_dict()))

    opt_b = _optimizer("gu")
    sched_b = factory(lr_scheduler, opt_b)  # build the scheduler first, then load (PyTorch's order)
    opt_b.load_state_dict(saved_opt)
    sched_b.load_state_dict(saved_sched)
    _run(opt_b, sched_b, steps - steps // 2)
    assert ([g["lr"] for g in opt_b.param_groups], sched_b.get_last_lr()) == expected


@requires_torch
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_state_dict_keys_match_torch(name):
    factory, _ = SCHEDULES[name]
    opt, topt = _optimizer("gu"), _optimizer("torch")
    sched, tsch = factory(lr_scheduler, opt), factory(tsched, topt)
    for o, s in ((opt, sched), (topt, tsch)):
        _run(o, s, 3)
    ours, theirs = sched.state_dict(), tsch.state_dict()
    assert sorted(ours) == sorted(theirs)
    for key in ("last_epoch", "base_lrs", "_last_lr", "_step_count"):
        if key in theirs:
            assert ours[key] == theirs[key], key
    assert sorted(opt.param_groups[0]) == sorted(topt.param_groups[0])  # initial_lr, max_lr, … as torch


def test_lambda_state_saves_callable_objects_only():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate**epoch

    opt = _optimizer("gu")
    sched = lr_scheduler.LambdaLR(opt, [Decay(), lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    state["lr_lambdas"][0]["rate"] = 0.25
    sched.load_state_dict(state)
    assert sched.lr_lambdas[0].rate == 0.25 and "lr_lambdas" in state


def test_resume_with_last_epoch():
    opt = _optimizer("gu")
    sched = lr_scheduler.StepLR(opt, 2, 0.5)
    _run(opt, sched, 5)
    resumed = lr_scheduler.ExponentialLR(opt, 0.5, last_epoch=5)  # initial_lr is already in the groups
    assert resumed.last_epoch == 6 and resumed.base_lrs == [0.1, 0.2]
    assert resumed.get_last_lr() == sched.get_last_lr()  # resuming does not apply gamma again
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        lr_scheduler.StepLR(_optimizer("gu"), 2, last_epoch=3)


def test_initial_lr_and_base_lrs():
    opt = _optimizer("gu")
    sched = lr_scheduler.ExponentialLR(opt, 0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2] == sched.base_lrs
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.2]
    opt.step()
    sched.step()
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]
    assert sched.get_last_lr() == [0.05, 0.1] and sched.last_epoch == 1
    assert isinstance(sched, lr_scheduler._LRScheduler) is False
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)


def test_custom_subclass_of_old_base_name():
    class Halve(lr_scheduler._LRScheduler):
        def get_lr(self):
            return [base * 0.5**self.last_epoch for base in self.base_lrs]

    opt = _optimizer("gu")
    sched = Halve(opt)
    _run(opt, sched, 2)
    assert sched.get_last_lr() == [0.025, 0.05]


# ------------------------------------------------------------------------------- warnings, errors
def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer("gu")
    sched = lr_scheduler.StepLR(opt, 1)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = _optimizer("gu")
    sched2 = lr_scheduler.StepLR(opt2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt2.step()
        sched2.step()
        sched2.get_last_lr()


def test_warns_when_get_lr_called_directly():
    sched = lr_scheduler.ExponentialLR(_optimizer("gu"), 0.5)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_onecycle_errors_past_total_steps():
    opt = _optimizer("gu")
    sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
    _run(opt, sched, 9)  # steps 1 … 9: the last phase ends at step total_steps − 1
    assert sched.get_last_lr()[0] == pytest.approx(0.1 / 25 / 1e4)
    opt.step()
    sched.step()  # step 10 = total_steps is still allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        sched.step()
    if torch is not None:
        topt = _optimizer("torch")
        tsch = tsched.OneCycleLR(topt, 0.1, total_steps=10)
        _run(topt, tsch, 10)
        with pytest.raises(ValueError, match="Tried to step 11 times"):
            tsch.step()


CONSTRUCTION_ERRORS = [
    (lambda o: lr_scheduler.StepLR("not an optimizer", 3), TypeError, "str is not an Optimizer"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), ValueError, "Ending multiplicative factor"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=2.0), ValueError, "Constant multiplicative factor"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function, but got float"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), ValueError, "Expected integer T_mult >= 1"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.1, [0.2]), ValueError, "max_lr must have the same length as optimizer.param_groups"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.1, 0.2, mode="square"), ValueError, "mode is invalid and scale_fn is None"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), ValueError, "You must define either total_steps OR"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=0), ValueError, "Expected positive integer total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=0), ValueError, "Expected positive integer steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=5, pct_start=1), ValueError, "Expected float between 0 and 1 pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=5, anneal_strategy="exp"), ValueError, "anneal_strategy must be one of"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), ValueError, "SequentialLR expects at least one scheduler"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2)], [3]), ValueError, "number of schedulers provided to be one more"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []), ValueError, "does not support `ReduceLROnPlateau`"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(_optimizer("gu"), 2)], []), ValueError, "belong to the same optimizer"),
    (lambda o: lr_scheduler.ChainedScheduler([]), ValueError, "ChainedScheduler expects at least one scheduler"),
    (lambda o: lr_scheduler.ChainedScheduler([1.0], optimizer=o), TypeError, "should have `optimizer` as its attribute"),
]  # fmt: skip


@pytest.mark.parametrize("build,error,message", CONSTRUCTION_ERRORS, ids=[m for _, _, m in CONSTRUCTION_ERRORS])
def test_construction_errors(build, error, message):
    with pytest.raises(error, match=message.replace("(", "\\(").replace(")", "\\)")):
        build(_optimizer("gu"))


def test_momentum_cycling_needs_momentum():
    opt = _optimizer("gu", "Adagrad")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
    lr_scheduler.CyclicLR(opt, 0.01, 0.1, cycle_momentum=False)  # fine without cycling


def test_schedules_drive_training():
    """A scheduler changes what the optimizer does: the lr it sets is the one the step uses."""
    p = Parameter(gu.tensor([0.0]))
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(4):
        p.grad = gu.tensor([-1.0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, [1.0 + 0.5 + 0.25 + 0.125])
    copy.deepcopy(sched.state_dict())
