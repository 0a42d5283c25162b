"""groundup.interpret: feature maps equal a manual forward, saliency equals finite differences (and the
closed form of a linear model), hooks/modes/grad flags are left as they were, bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.interpret import feature_maps, gradient_x_input, input_gradient, saliency, smooth_grad
from groundup.models import LeNet5


def tiny_cnn() -> nn.Sequential:
    """(N, 2, 6, 6) -> (N, 3) logits, in float64 for finite differences."""
    gu.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),  # (N, 4, 6, 6)
        nn.Tanh(),
        nn.MaxPool2d(2),  # (N, 4, 3, 3)
        nn.Flatten(),  # (N, 36)
        nn.Linear(36, 3),  # (N, 3)
    ).double()


def images(n: int = 3, c: int = 2, size: int = 6, seed: int = 0) -> gu.Tensor:
    rng = np.random.default_rng(seed)
    return gu.tensor(rng.normal(size=(n, c, size, size)))  # float64


# ------------------------------------------------------------------------------------- feature maps
def test_feature_maps_equal_a_manual_forward():
    model, x = tiny_cnn(), images()
    maps = feature_maps(model, x, ["2", "0", "1"])
    assert list(maps) == ["2", "0", "1"]  # the order asked for
    with gu.no_grad():
        conv = model[0](x)
    np.testing.assert_allclose(maps["0"].numpy(), conv.numpy())
    np.testing.assert_allclose(maps["1"].numpy(), np.tanh(conv.numpy()))
    with gu.no_grad():
        np.testing.assert_allclose(maps["2"].numpy(), model[2](model[1](conv)).numpy())
    assert not maps["0"].requires_grad  # recorded under no_grad


def test_feature_maps_of_nested_lenet_names():
    gu.manual_seed(0)
    model = LeNet5(activation="relu", pooling="max")
    x = gu.randn(2, 1, 28, 28)
    maps = feature_maps(model, x, "features.3")
    with gu.no_grad():
        manual = model.features[3](model.features[2](model.features[1](model.features[0](x))))
    assert tuple(maps["features.3"].shape) == (2, 16, 10, 10)
    np.testing.assert_allclose(maps["features.3"].numpy(), manual.numpy(), rtol=1e-5, atol=1e-6)


def test_feature_maps_remove_hooks_and_restore_modes_even_on_error():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model.train()
    model[2].eval()  # a mixed state, as when a frozen batch norm sits in a training model
    modes = [m.training for m in model.modules()]
    x = gu.randn(5, 4)
    a = feature_maps(model, x, ["1", "3"])
    b = feature_maps(model, x, ["1", "3"])
    np.testing.assert_array_equal(a["3"].numpy(), b["3"].numpy())  # eval mode: no dropout noise
    np.testing.assert_array_equal(a["1"].numpy(), model[0](x).detach().numpy())  # dropout is the identity
    assert [m.training for m in model.modules()] == modes
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(RuntimeError):
        feature_maps(model, gu.randn(5, 3), ["0"])  # the forward pass itself fails
    assert all(not m._forward_hooks for m in model.modules())
    assert [m.training for m in model.modules()] == modes


def test_feature_maps_errors():
    model, x = tiny_cnn(), images()
    with pytest.raises(ValueError, match=r"no sub-module\(s\) \['conv1'\].*'0', '1'"):
        feature_maps(model, x, ["conv1"])
    with pytest.raises(ValueError, match="layers is empty"):
        feature_maps(model, x, [])
    with pytest.raises(TypeError, match="groundup Tensor"):
        feature_maps(model, x.numpy(), "0")
    shared = nn.Linear(3, 3)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = shared

        def forward(self, x):
            return self.f(self.f(x))

    with pytest.raises(ValueError, match="ran 2 times"):
        feature_maps(Twice(), gu.randn(2, 3), "f")


# ------------------------------------------------------------------------------------- saliency
def finite_difference_gradient(model, x: np.ndarray, target: list[int], eps: float = 1e-6) -> np.ndarray:
    """Central differences of S_target(x_n) with respect to every element of x_n, one input at a time."""
    model.eval()
    grad = np.zeros_like(x)
    with gu.no_grad():
        for n in range(x.shape[0]):
            for idx in np.ndindex(*x.shape[1:]):
                plus, minus = x[n : n + 1].copy(), x[n : n + 1].copy()
                plus[(0, *idx)] += eps
                minus[(0, *idx)] -= eps
                s_plus = model(gu.tensor(plus))[0, target[n]].item()
                s_minus = model(gu.tensor(minus))[0, target[n]].item()
                grad[(n, *idx)] = (s_plus - s_minus) / (2 * eps)
    return grad


def test_saliency_matches_finite_differences():
    model, x = tiny_cnn(), images()
    target = [2, 0, 1]
    g = input_gradient(model, x, target)
    fd = finite_difference_gradient(model, x.numpy(), target)
    np.testing.assert_allclose(g.numpy(), fd, atol=1e-6)
    s = saliency(model, x, target)
    assert tuple(s.shape) == (3, 6, 6)
    np.testing.assert_allclose(s.numpy(), np.abs(fd).max(axis=1), atol=1e-6)


def test_saliency_default_target_is_the_prediction():
    model, x = tiny_cnn(), images(4, seed=3)
    with gu.no_grad():
        pred = model(x).argmax(dim=1)
    np.testing.assert_array_equal(saliency(model, x).numpy(), saliency(model, x, pred).numpy())
    one = saliency(model, x, 1)
    np.testing.assert_array_equal(one.numpy(), saliency(model, x, [1, 1, 1, 1]).numpy())


def test_linear_model_saliency_is_the_weight_and_zero_where_masked():
    """S = W·x + b: the gradient of class c is W[c] whatever x is; masked pixels (zero weight) get 0."""
    gu.manual_seed(1)
    lin = nn.Linear(2 * 5 * 5, 4).double()
    top_row = [c * 25 + j for c in range(2) for j in range(5)]  # pixels (0, 0..4) of both channels
    with gu.no_grad():
        lin.weight.data[:, top_row] = 0.0  # the top row cannot affect any score
    model = nn.Sequential(nn.Flatten(), lin)
    x = images(2, size=5, seed=1)
    target = [3, 1]
    w = lin.weight.detach().numpy().reshape(4, 2, 5, 5)
    s = saliency(model, x, target).numpy()
    np.testing.assert_allclose(s, np.abs(w[target]).max(axis=1), rtol=1e-12)
    assert (s[:, 0] == 0).all() and (s[:, 1:] > 0).all()
    # gradient x input splits the score of a linear model exactly: the map sums to S_c - b_c
    with gu.no_grad():
        scores = model(x).numpy()[[0, 1], target] - lin.bias.detach().numpy()[target]
    np.testing.assert_allclose(gradient_x_input(model, x, target).numpy().sum(axis=(1, 2)), scores, rtol=1e-10)


def test_smooth_grad():
    model, x = tiny_cnn(), images(2)
    np.testing.assert_allclose(smooth_grad(model, x, [0, 1], noise=0.0, samples=3).numpy(),
                               saliency(model, x, [0, 1]).numpy(), atol=1e-12)
    a = smooth_grad(model, x, [0, 1], samples=4, generator=gu.Generator().manual_seed(5))
    b = smooth_grad(model, x, [0, 1], samples=4, generator=gu.Generator().manual_seed(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), saliency(model, x, [0, 1]).numpy())  # the noise does change the map
    linear = nn.Sequential(nn.Flatten(), nn.Linear(72, 3).double())  # constant gradient: noise cannot matter
    np.testing.assert_allclose(smooth_grad(linear, x, 2, samples=3).numpy(), saliency(linear, x, 2).numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="samples must be a positive int"):
        smooth_grad(model, x, samples=0)


def test_saliency_leaves_parameters_grads_and_modes_alone():
    model, x = tiny_cnn(), images()
    model[0].requires_grad_(False)  # a frozen layer stays frozen
    marker = gu.ones_like(model[4].weight)
    model[4].weight.grad = marker  # a gradient a training loop has accumulated
    model.train()
    saliency(model, x)
    assert model.training and all(m.training for m in model.modules())
    assert not model[0].weight.requires_grad and model[4].weight.requires_grad
    assert model[4].weight.grad is marker and model[4].bias.grad is None and model[0].weight.grad is None
    assert not x.requires_grad and x.grad is None  # the caller's input is not turned into a leaf


def test_saliency_errors():
    model, x = tiny_cnn(), images()
    with pytest.raises(ValueError, match="2 target"):
        saliency(model, x, [0, 1])
    with pytest.raises(ValueError, match=r"target classes must lie in \[0, 3\)"):
        saliency(model, x, 3)
    with pytest.raises(ValueError, match=r"\(N, num_classes\) scores, got shape \(3, 4, 6, 6\)"):
        saliency(model[0], x)
    with pytest.raises(TypeError, match="floating point"):
        saliency(model, gu.zeros(3, 2, 6, 6, dtype=gu.int64))
    with pytest.raises(ValueError, match=r"batch \(N, \.\.\.\)"):
        saliency(model, gu.zeros(6))
    with pytest.raises(TypeError, match="nn.Module"):
        saliency(lambda t: t, x)
