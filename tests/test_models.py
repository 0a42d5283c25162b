"""groundup.models: the classic models' structure (state_dict keys, shapes, repr, torch parity) and
what they can and cannot learn, each on a budget of seconds with plain PyTorch-style loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groundup as gu
import groundup.nn.functional as F
from groundup import datasets, nn, optim
from groundup.models import MLP, LogisticRegression, Perceptron, SoftmaxRegression
from tests.helpers import requires_torch, torch

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([0, 1, 1, 0])


def accuracy(pred, y) -> float:
    return float((np.asarray(pred.detach().numpy()).reshape(-1) == np.asarray(y).reshape(-1)).mean())


# ================================================================================== Perceptron
def test_perceptron_parameters_and_state_dict():
    p = Perceptron(3)
    sd = p.state_dict()
    assert list(sd) == ["weight", "bias"]
    assert tuple(sd["weight"].shape) == (3,) and tuple(sd["bias"].shape) == ()
    assert np.all(sd["weight"].detach().numpy() == 0) and sd["bias"].item() == 0  # the rule starts from zero
    assert repr(p) == "Perceptron(in_features=3)"
    q = Perceptron(3)
    q.load_state_dict({"weight": gu.tensor([1.0, -2.0, 0.5]), "bias": gu.tensor(0.25)})
    x = gu.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(q.decision_function(x).detach().numpy(), [-0.25, -1.75])
    np.testing.assert_allclose(q.decision_function(gu.tensor([2.0, 0.0, 0.0])).item(), 2.25)


def test_perceptron_forward_is_a_threshold_in_0_1():
    p = Perceptron(2)
    p.load_state_dict({"weight": gu.tensor([1.0, -1.0]), "bias": gu.tensor(0.0)})
    out = p(gu.tensor([[2.0, 1.0], [1.0, 2.0], [1.0, 1.0]]))  # scores 1, -1, 0
    assert out.dtype == gu.float32 and out.tolist() == [1.0, 0.0, 0.0]
    assert p.predict(XOR_X).shape == (4,)


def test_perceptron_update_rule_by_hand():
    """One sample of class 1 with zero weights: ŷ = 0, so w += lr·x and b += lr; then it is right."""
    p = Perceptron(2)
    mistakes = p.fit(np.array([[1.0, 2.0]]), np.array([1]), lr=0.5, shuffle=False)
    assert mistakes == [1, 0]
    np.testing.assert_allclose(p.weight.detach().numpy(), [0.5, 1.0])
    assert p.bias.item() == 0.5
    # and a class-0 sample it wrongly fires on moves the weights away: w -= lr·x, b -= lr
    p.fit(np.array([[1.0, 1.0]]), np.array([0]), lr=0.5, shuffle=False, epochs=1)
    np.testing.assert_allclose(p.weight.detach().numpy(), [0.0, 0.5])
    assert p.bias.item() == 0.0


def test_perceptron_is_not_gradient_descent():
    """fit() makes no autograd graph and no .grad: it is Rosenblatt's rule applied directly."""
    X, y = datasets.linearly_separable(50, generator=0)
    p = Perceptron(2)
    p.fit(X, y, generator=gu.Generator(0))
    assert p.weight.grad is None and p.bias.grad is None
    assert p.weight.requires_grad  # still a normal Parameter


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_converges_within_the_novikoff_bound(seed):
    """Linearly separable data: zero mistakes in the last epoch, and at most (R/γ)² mistakes in total."""
    margin = 0.1
    X, y = datasets.linearly_separable(200, dim=2, margin=margin, generator=seed)
    # the separating plane (unit w*, b* = 0) has margin >= 0.1 in the augmented space (x, 1)
    R = float(np.sqrt((X.numpy() ** 2).sum(axis=1) + 1).max())
    bound = (R / margin) ** 2
    p = Perceptron(2)
    mistakes = p.fit(X, y, epochs=math.ceil(bound) + 1, generator=gu.Generator(seed))
    assert mistakes[-1] == 0
    assert sum(mistakes) <= bound
    assert accuracy(p(X), y.numpy()) == 1.0


def test_perceptron_converges_with_an_offset_separator():
    """The bias matters: a separator that does not pass through the origin, margin measured by hand."""
    rng = np.random.default_rng(0)
    w_star, b_star = np.array([1.0, -2.0]), 1.5
    X = rng.uniform(-3, 3, (400, 2))
    s = X @ w_star + b_star
    X, s = X[np.abs(s) > 0.5], s[np.abs(s) > 0.5]
    y = (s > 0).astype(np.int64)
    gamma = np.abs(s).min() / np.linalg.norm([*w_star, b_star])
    R = np.sqrt((X**2).sum(axis=1) + 1).max()
    bound = (R / gamma) ** 2
    for shuffle in (False, True):
        p = Perceptron(2)
        mistakes = p.fit(X.astype(np.float32), y, epochs=math.ceil(bound) + 1, shuffle=shuffle, generator=gu.Generator(1))
        assert mistakes[-1] == 0 and sum(mistakes) <= bound
        assert accuracy(p(X.astype(np.float32)), y) == 1.0
        assert p.bias.item() != 0


def test_perceptron_fails_on_xor():
    """No line separates XOR: every epoch has mistakes and accuracy never exceeds 3 of 4 points."""
    X, y = datasets.xor()
    p = Perceptron(2)
    history = []
    g = gu.Generator(0)
    for _ in range(300):
        history += p.fit(X, y, epochs=1, generator=g)
        assert accuracy(p(X), y.numpy()) <= 0.75
    assert len(history) == 300 and min(history) > 0
    # with the whole budget in one call it also runs to the end without converging
    q = Perceptron(2)
    mistakes = q.fit(X, y, epochs=300, generator=gu.Generator(1))
    assert len(mistakes) == 300 and min(mistakes) > 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=3))
def test_no_linear_threshold_unit_gets_xor_right(wb):
    """Why the perceptron fails: any weights and bias misclassify at least one XOR corner."""
    p = Perceptron(2)
    p.load_state_dict({"weight": gu.tensor(wb[:2]), "bias": gu.tensor(wb[2])})
    assert accuracy(p(XOR_X), XOR_Y) <= 0.75


def test_perceptron_fit_is_reproducible_and_lr_only_scales():
    X, y = datasets.linearly_separable(100, generator=3)
    a, b, c = Perceptron(2), Perceptron(2), Perceptron(2)
    ma = a.fit(X, y, generator=gu.Generator(7))
    mb = b.fit(X, y, generator=gu.Generator(7))
    mc = c.fit(X, y, lr=0.1, generator=gu.Generator(7))
    assert ma == mb == mc
    np.testing.assert_allclose(c.weight.detach().numpy(), 0.1 * a.weight.detach().numpy(), rtol=1e-5)


def test_perceptron_input_errors():
    p = Perceptron(2)
    with pytest.raises(ValueError, match="0 or 1"):
        p.fit(XOR_X, np.array([-1, 1, 1, -1]))
    with pytest.raises(ValueError, match="one label per row"):
        p.fit(XOR_X, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        p(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="epochs"):
        p.fit(XOR_X, XOR_Y, epochs=0)
    with pytest.raises(ValueError, match="in_features"):
        Perceptron(0)


# ================================================================================== MLP: structure
def test_mlp_is_a_sequential_with_torch_style_keys():
    m = MLP(2, [16, 16], 1)
    assert isinstance(m, nn.Sequential) and len(m) == 5
    sd = m.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [tuple(v.shape) for v in sd.values()] == [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    r = repr(m)
    assert r.startswith("MLP(\n")
    assert "(0): Linear(in_features=2, out_features=16, bias=True)" in r
    assert "(1): ReLU()" in r and "(4): Linear(in_features=16, out_features=1, bias=True)" in r
    assert m(gu.randn(5, 2)).shape == (5, 1)


def test_mlp_without_hidden_layers_is_one_linear():
    m = MLP(64, [], 10)
    assert len(m) == 1 and isinstance(m[0], nn.Linear)
    assert m(gu.randn(3, 64)).shape == (3, 10)


def test_mlp_activation_choices():
    assert isinstance(MLP(2, [3], 1, activation="tanh")[1], nn.Tanh)
    assert isinstance(MLP(2, [3], 1, activation="Leaky-ReLU")[1], nn.LeakyReLU)
    assert isinstance(MLP(2, [3], 1, activation="GELU")[1], nn.GELU)
    assert isinstance(MLP(2, [3], 1, activation=nn.Sigmoid)[1], nn.Sigmoid)
    m = MLP(2, [3, 3], 1, activation=lambda: nn.LeakyReLU(0.2))
    assert m[1] is not m[3] and m[1].negative_slope == 0.2
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        MLP(2, [3], 1, activation="swishy")
    with pytest.raises(TypeError, match="not an instance"):
        MLP(2, [3], 1, activation=nn.ReLU())
    with pytest.raises(TypeError, match="sequence"):
        MLP(2, 3, 1)
    with pytest.raises(ValueError, match="positive"):
        MLP(2, [0], 1)
    with pytest.raises(ValueError, match="dropout"):
        MLP(2, [3], 1, dropout=1.0)


def test_mlp_slice_is_a_sequential():
    m = MLP(2, [4, 4], 3)
    body = m[:-1]
    assert type(body) is nn.Sequential and len(body) == 4
    assert body(gu.randn(2, 2)).shape == (2, 4)


def _torch_mlp(sizes, act, batch_norm=False, dropout=0.0, bias=True):
    """The torch.nn.Sequential that MLP(sizes[0], sizes[1:-1], sizes[-1], ...) mirrors."""
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers.append(torch.nn.Linear(a, b, bias=bias))
        if batch_norm:
            layers.append(torch.nn.BatchNorm1d(b))
        layers.append(act())
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1], bias=bias))
    return torch.nn.Sequential(*layers)


ACTIVATIONS = ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu", "selu", "silu"]
TORCH_ACT = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU", "leaky_relu": "LeakyReLU",
    "elu": "ELU", "selu": "SELU", "silu": "SiLU",
}  # fmt: skip


@requires_torch
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_matches_torch_sequential(activation):
    sizes = [5, 7, 6, 3]
    torch.manual_seed(0)
    ref = _torch_mlp(sizes, getattr(torch.nn, TORCH_ACT[activation]))
    m = MLP(5, sizes[1:-1], 3, activation=activation)
    ours, theirs = m.state_dict(), ref.state_dict()
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    m.load_state_dict({k: v.numpy() for k, v in theirs.items()})
    x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    np.testing.assert_allclose(m(gu.tensor(x)).detach().numpy(), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("batch_norm, dropout, bias", [(True, 0.0, True), (False, 0.3, True), (True, 0.5, False)])
def test_mlp_options_match_torch(batch_norm, dropout, bias):
    sizes = [4, 8, 8, 2]
    torch.manual_seed(1)
    ref = _torch_mlp(sizes, torch.nn.Tanh, batch_norm=batch_norm, dropout=dropout, bias=bias)
    if batch_norm:  # non-trivial running statistics, so eval mode really uses them
        for mod in ref:
            if isinstance(mod, torch.nn.BatchNorm1d):
                mod.running_mean.uniform_(-1, 1)
                mod.running_var.uniform_(0.5, 2)
                mod.weight.data.uniform_(0.5, 1.5)
                mod.bias.data.uniform_(-0.5, 0.5)
    m = MLP(4, sizes[1:-1], 2, activation="tanh", batch_norm=batch_norm, dropout=dropout, bias=bias)
    ours, theirs = m.state_dict(), ref.state_dict()
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    m.load_state_dict({k: v.numpy() for k, v in theirs.items()})
    x = np.random.default_rng(1).normal(size=(16, 4)).astype(np.float32)
    m.eval()
    ref.eval()
    np.testing.assert_allclose(m(gu.tensor(x)).detach().numpy(), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    if batch_norm and not dropout:  # training mode: batch statistics, deterministic without dropout
        m.train()
        ref.train()
        np.testing.assert_allclose(
            m(gu.tensor(x)).detach().numpy(), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5
        )


# ================================================================================== logistic / softmax regression
def test_logistic_regression_shapes_and_probabilities():
    m = LogisticRegression(3)
    assert list(m.state_dict()) == ["linear.weight", "linear.bias"]
    assert tuple(m.linear.weight.shape) == (1, 3)
    x = gu.randn(6, 3)
    z = m(x)
    assert z.shape == (6,)
    np.testing.assert_allclose(m.predict_proba(x).detach().numpy(), 1 / (1 + np.exp(-z.detach().numpy())), rtol=1e-5)
    np.testing.assert_array_equal(m.predict(x).detach().numpy(), (z.detach().numpy() > 0).astype(np.int64))
    assert m(gu.randn(2, 1, 3)).shape == (2,)  # extra dims are flattened


def test_softmax_regression_shapes_and_probabilities():
    m = SoftmaxRegression(4, 5)
    assert list(m.state_dict()) == ["linear.weight", "linear.bias"]
    assert tuple(m.linear.weight.shape) == (5, 4)
    x = gu.randn(3, 4)
    assert m(x).shape == (3, 5)
    np.testing.assert_allclose(m.predict_proba(x).sum(dim=1).detach().numpy(), np.ones(3), rtol=1e-5)
    np.testing.assert_array_equal(m.predict(x).detach().numpy(), m(x).detach().numpy().argmax(axis=1))
    assert SoftmaxRegression(4, 2)(gu.randn(3, 1, 2, 2)).shape == (3, 2)  # images are flattened


# ================================================================================== what they learn
def fit_binary(model, X, y, opt, steps):
    """Full-batch BCE-with-logits training; stop at 100% training accuracy. Returns the accuracy."""
    target = y.float()
    acc = 0.0
    for _ in range(steps):
        logits = model(X).reshape(-1)  # (N,)
        loss = F.binary_cross_entropy_with_logits(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with gu.no_grad():
            acc = accuracy((model(X).reshape(-1) > 0).long(), y.numpy())
        if acc == 1.0:
            break
    return acc


def test_mlp_solves_xor():
    gu.manual_seed(0)
    X, y = datasets.xor()
    m = MLP(2, [8], 1, activation="tanh")
    assert fit_binary(m, X, y, optim.Adam(m.parameters(), lr=0.05), steps=300) == 1.0
    assert accuracy((m(X).reshape(-1) > 0).long(), XOR_Y) == 1.0


def test_mlp_solves_xor_with_plain_sgd():
    gu.manual_seed(0)
    X, y = datasets.xor()
    m = MLP(2, [8], 1, activation="tanh")
    assert fit_binary(m, X, y, optim.SGD(m.parameters(), lr=0.5, momentum=0.9), steps=500) == 1.0


def test_micrograd_moons_demo():
    """Karpathy's micrograd demo: a 2-16-16-1 ReLU MLP fits moons(n=100, noise=0.1) perfectly."""
    gu.manual_seed(0)
    X, y = datasets.moons(n=100, noise=0.1, generator=1)
    m = MLP(2, [16, 16], 1)
    assert fit_binary(m, X, y, optim.Adam(m.parameters(), lr=0.01), steps=1000) == 1.0


def test_logistic_regression_on_separable_blobs():
    gu.manual_seed(0)
    X, y = datasets.blobs(200, centers=[[-2.0, -2.0], [2.0, 2.0]], std=0.8, generator=0)
    m = LogisticRegression(2)
    opt = optim.SGD(m.parameters(), lr=0.5)
    for _ in range(200):
        loss = F.binary_cross_entropy_with_logits(m(X), y.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert accuracy(m.predict(X), y.numpy()) >= 0.98
    assert loss.item() < 0.1


def test_softmax_regression_on_digits():
    pytest.importorskip("sklearn")
    gu.manual_seed(0)
    X, y = datasets.digits()
    perm = np.random.default_rng(0).permutation(len(y))
    train, test = gu.tensor(perm[:1400]), gu.tensor(perm[1400:])
    X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    m = SoftmaxRegression(64, 10)
    opt = optim.Adam(m.parameters(), lr=0.05)
    for _ in range(150):
        loss = F.cross_entropy(m(X_train), y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with gu.no_grad():
        assert accuracy(m.predict(X_test), y_test.numpy()) >= 0.93
