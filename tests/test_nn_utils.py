"""nn.utils: gradient clipping and parameter/vector conversion, against PyTorch on identical
parameters and gradients (every norm type, clipping or not, missing grads, non-finite norms)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
import groundup.nn as nn
from groundup.nn import utils
from tests.helpers import rand, requires_torch, torch

pytestmark = requires_torch

SHAPES = [(3, 4), (5,), (2, 1, 3), ()]


def make_params(dtype=np.float32, scale=1.0, with_none=False, seed=0):
    """The same parameters and gradients in both libraries (one without a grad if ``with_none``)."""
    gps, tps = [], []
    for i, shape in enumerate(SHAPES):
        p = rand(*shape, seed=seed + i).astype(dtype)
        g = (rand(*shape, seed=seed + 10 + i) * scale).astype(dtype)
        gp, tp = nn.Parameter(gu.tensor(p)), torch.nn.Parameter(torch.tensor(p))
        if not (with_none and i == 1):
            gp.grad, tp.grad = gu.tensor(g), torch.tensor(g)
        gps.append(gp)
        tps.append(tp)
    return gps, tps


def assert_grads_equal(gps, tps, rtol=1e-6):
    for gp, tp in zip(gps, tps):
        if tp.grad is None:
            assert gp.grad is None
        else:
            np.testing.assert_allclose(gp.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=1e-7)
            assert gp.grad.dtype.name == str(tp.grad.dtype).replace("torch.", "")


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.1, 1e4])  # clips / leaves alone
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    gps, tps = make_params(dtype, with_none=True)
    gn = utils.clip_grad_norm_(gps, max_norm, norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
    assert isinstance(gn, gu.Tensor) and gn.shape == () and gn.dtype.name == str(tn.dtype).replace("torch.", "")
    np.testing.assert_allclose(gn.numpy(), tn.numpy(), rtol=1e-6)
    assert_grads_equal(gps, tps)


def test_clip_grad_norm_result_has_the_requested_norm():
    gps, _ = make_params(np.float64, scale=10.0)
    total = utils.clip_grad_norm_(gps, 2.0)
    flat = np.concatenate([p.grad.numpy().ravel() for p in gps])
    assert total.item() > 2.0
    np.testing.assert_allclose(np.linalg.norm(flat), 2.0 * total.item() / (total.item() + 1e-6), rtol=1e-12)


def test_clip_grad_norm_single_tensor_module_and_generator():
    g, t = make_params(np.float64)
    gn = utils.clip_grad_norm_(g[0], 0.5)  # a single tensor
    tn = torch.nn.utils.clip_grad_norm_(t[0], 0.5)
    np.testing.assert_allclose(gn.numpy(), tn.numpy(), rtol=1e-12)
    assert_grads_equal(g, t)
    m = nn.Linear(3, 2)
    m(gu.randn(4, 3)).sum().backward()
    v = m.weight.grad._version
    utils.clip_grad_norm_(m.parameters(), 1e-3)  # a generator, as model.parameters() is
    assert m.weight.grad._version > v  # scaled in place
    np.testing.assert_allclose(utils.get_total_norm([m.weight.grad, m.bias.grad]).item(), 1e-3, rtol=1e-3)
    with pytest.warns(UserWarning, match="empty generator"):
        total = utils.clip_grad_norm_((p for p in []), 1.0)
    assert total.item() == 0.0


def test_clip_grad_norm_nonfinite():
    for bad in (math.nan, math.inf):
        g, t = make_params(np.float64)
        g[0].grad.data[0, 0] = bad
        t[0].grad[0, 0] = bad
        with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
            utils.clip_grad_norm_(g, 1.0, error_if_nonfinite=True)
        with pytest.raises(RuntimeError, match="non-finite"):
            torch.nn.utils.clip_grad_norm_(t, 1.0, error_if_nonfinite=True)
        gn = utils.clip_grad_norm_(g, 1.0)
        tn = torch.nn.utils.clip_grad_norm_(t, 1.0)
        np.testing.assert_array_equal(gn.numpy(), tn.numpy())
        for gp, tp in zip(g, t):
            np.testing.assert_array_equal(np.isnan(gp.grad.numpy()), np.isnan(tp.grad.numpy()))


def test_get_total_norm_and_clip_grads_with_norm():
    g, t = make_params(np.float64)
    gn = utils.get_total_norm([p.grad for p in g], 3.0)
    tn = torch.nn.utils.get_total_norm([p.grad for p in t], 3.0)
    np.testing.assert_allclose(gn.numpy(), tn.numpy(), rtol=1e-12)
    utils.clip_grads_with_norm_(g, 0.3, gn)
    torch.nn.utils.clip_grads_with_norm_(t, 0.3, tn)
    assert_grads_equal(g, t, rtol=1e-12)
    assert utils.get_total_norm([]).item() == 0.0


@pytest.mark.parametrize("clip", [0.1, 1.0, 100.0])
def test_clip_grad_value_matches_torch(clip):
    g, t = make_params(np.float32, scale=2.0, with_none=True)
    assert utils.clip_grad_value_(g, clip) is None
    torch.nn.utils.clip_grad_value_(t, clip)
    assert_grads_equal(g, t)


def test_clipping_does_not_record_and_errors():
    g, _ = make_params(np.float64)
    utils.clip_grad_norm_(g, 0.1)
    assert all(p.grad.grad_fn is None and not p.grad.requires_grad for p in g)
    with pytest.raises(TypeError, match="clip_grad_norm_: expected Tensors, got int"):
        utils.clip_grad_norm_([1, 2], 1.0)
    with pytest.raises(TypeError, match="clip_grad_value_: expected a Tensor or an iterable"):
        utils.clip_grad_value_(3, 1.0)


def test_deprecated_clip_grad_norm_warns():
    g, _ = make_params(np.float64)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        utils.clip_grad_norm(g, 1.0)


# ----------------------------------------------------------------------- vector conversion
def test_parameters_to_vector_matches_torch_and_is_differentiable():
    g, t = make_params(np.float64)
    gv = utils.parameters_to_vector(g)
    tv = torch.nn.utils.parameters_to_vector(t)
    np.testing.assert_array_equal(gv.detach().numpy(), tv.detach().numpy())
    assert gv.requires_grad
    for p in g:
        p.grad = None
    w = rand(gv.shape[0], seed=9)
    (gv * gu.tensor(w)).sum().backward()
    offset = 0
    for p in g:
        n = p.numel()
        np.testing.assert_array_equal(p.grad.numpy().ravel(), w[offset : offset + n])
        offset += n


def test_vector_to_parameters_matches_torch_and_shares_memory():
    g, t = make_params(np.float64)
    vec = rand(sum(p.numel() for p in g), seed=11)
    gvec, tvec = gu.tensor(vec), torch.tensor(vec)
    assert utils.vector_to_parameters(gvec, g) is None
    torch.nn.utils.vector_to_parameters(tvec, t)
    for gp, tp in zip(g, t):
        np.testing.assert_array_equal(gp.detach().numpy(), tp.detach().numpy())
        assert tuple(gp.shape) == tuple(tp.shape)
    np.testing.assert_array_equal(utils.parameters_to_vector(g).detach().numpy(), vec)
    gvec.data[0] = 123.0  # views of the vector, as in torch
    tvec[0] = 123.0
    assert g[0].detach().numpy().ravel()[0] == t[0].detach().numpy().ravel()[0] == 123.0


def test_vector_to_parameters_errors_leave_parameters_alone():
    g, _ = make_params(np.float64)
    before = [p.detach().numpy().copy() for p in g]
    with pytest.raises(RuntimeError, match="cannot fill parameters with 24 elements"):
        utils.vector_to_parameters(gu.zeros(5, dtype=gu.float64), g)
    for p, b in zip(g, before):
        np.testing.assert_array_equal(p.detach().numpy(), b)
    with pytest.raises(TypeError, match="expected groundup.Tensor, but got: ndarray"):
        utils.vector_to_parameters(np.zeros(24), g)
    with pytest.raises(ValueError, match="non-empty"):
        utils.parameters_to_vector([])


def test_utils_namespace():
    assert utils.clip_grad.clip_grad_norm_ is utils.clip_grad_norm_
    assert utils.convert_parameters.parameters_to_vector is utils.parameters_to_vector
    assert nn.utils is utils
