"""conv1d/conv2d, conv_transpose1d/2d, unfold/fold and the Conv/ConvTranspose/Unfold/Fold modules:
gradcheck (float64, small shapes), PyTorch parity of the output and of every gradient, the
engines' code paths (blocks of images, col2im vs flipped kernel, depthwise), float32/float16
dtypes, module state_dict/repr/init/padding modes, and the error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
import groundup.functions.conv as conv_mod
import groundup.nn as nn
import groundup.nn.functional as F
from tests.helpers import check_op, rand, requires_torch, torch

TF = torch.nn.functional if torch else None
# torch warns that 'same' padding with an even kernel may copy the input; that is its business
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def _op_pair(name, bias, **kw):
    """(groundup fn, torch fn) taking (x, w[, b]) for the functional op ``name``."""

    def make(mod):
        fn = getattr(mod, name)
        if bias:
            return lambda x, w, b: fn(x, w, b, **kw)
        return lambda x, w: fn(x, w, **kw)

    return make(F), (make(TF) if torch else None)


def _run(name, x_shape, w_shape, bias, gradcheck=True, seed=0, **kw):
    x, w = rand(*x_shape, seed=seed), rand(*w_shape, seed=seed + 1)
    arrays = [x, w]
    if bias:
        out_ch = w_shape[0] if "transpose" not in name else w_shape[1] * kw.get("groups", 1)
        arrays.append(rand(out_ch, seed=seed + 2))
    gf, tf = _op_pair(name, bias, **kw)
    check_op(gf, tf, *arrays, check_gradcheck=gradcheck)


# ------------------------------------------------------------------------------------ conv2d
CONV2D_CASES = [
    # (x shape, w shape, kwargs)
    ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    ((2, 3, 6, 5), (4, 3, 3, 2), dict(stride=2)),
    ((2, 3, 7, 6), (4, 3, 3, 3), dict(stride=(2, 1), padding=1)),
    ((2, 3, 6, 5), (4, 3, 2, 3), dict(padding=(2, 1), dilation=(1, 2))),
    ((2, 3, 6, 6), (4, 3, 3, 3), dict(padding="same")),
    ((2, 3, 6, 5), (4, 3, 2, 2), dict(padding="same", dilation=(1, 2))),  # even kernel: asymmetric
    ((2, 3, 6, 5), (4, 3, 4, 3), dict(padding="same")),
    ((2, 3, 6, 5), (4, 3, 3, 3), dict(padding="valid")),
    ((2, 4, 6, 5), (6, 2, 3, 3), dict(groups=2, padding=1)),
    ((2, 4, 7, 6), (6, 2, 3, 2), dict(groups=2, stride=2, dilation=2, padding=(1, 2))),
    ((2, 4, 6, 5), (4, 1, 3, 3), dict(groups=4, padding=1)),  # depthwise
    ((2, 4, 7, 6), (4, 1, 2, 3), dict(groups=4, stride=(2, 1), dilation=(1, 2), padding=(0, 2))),
    ((2, 4, 6, 5), (8, 1, 3, 3), dict(groups=4)),  # channel multiplier 2: grouped GEMMs
    ((2, 3, 5, 5), (4, 3, 1, 1), dict(padding=1)),  # padding > d·(k-1): col2im fallback at stride 1
    ((2, 3, 5, 4), (4, 3, 5, 4), {}),  # kernel as large as the input: 1x1 output
    ((3, 6, 5), (4, 3, 3, 3), dict(padding=1)),  # unbatched
    ((4, 5, 5), (4, 1, 3, 3), dict(groups=4, stride=2)),  # unbatched depthwise
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("xs,ws,kw", CONV2D_CASES, ids=[str(c[2]) + str(c[0]) for c in CONV2D_CASES])
def test_conv2d(xs, ws, kw, bias):
    _run("conv2d", xs, ws, bias, **kw)


CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 3, 9), (4, 3, 3), dict(stride=2, padding=1)),
    ((2, 3, 9), (4, 3, 2), dict(padding="same", dilation=3)),
    ((2, 3, 9), (4, 3, 4), dict(padding="same")),
    ((2, 3, 9), (4, 3, 3), dict(padding="valid", dilation=(2,))),
    ((2, 4, 9), (6, 2, 3), dict(groups=2, stride=3, padding=(2,))),
    ((2, 4, 9), (4, 1, 3), dict(groups=4, padding=2, dilation=2)),
    ((3, 9), (4, 3, 3), dict(padding=1)),  # unbatched
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("xs,ws,kw", CONV1D_CASES, ids=[str(c[2]) + str(c[0]) for c in CONV1D_CASES])
def test_conv1d(xs, ws, kw, bias):
    _run("conv1d", xs, ws, bias, **kw)


# --------------------------------------------------------------------------- conv_transpose
CONVT2D_CASES = [
    ((2, 3, 4, 5), (3, 4, 3, 3), {}),
    ((2, 3, 4, 5), (3, 4, 3, 2), dict(stride=2)),
    ((2, 3, 4, 5), (3, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 3, 4, 4), (3, 2, 3, 2), dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1))),
    ((2, 3, 4, 5), (3, 2, 2, 3), dict(dilation=2, padding=1)),
    ((2, 3, 4, 5), (3, 2, 3, 3), dict(dilation=2, output_padding=1)),  # output_padding < dilation
    ((2, 4, 4, 5), (4, 3, 3, 3), dict(groups=2, stride=2, padding=1)),
    ((2, 4, 4, 5), (4, 3, 3, 3), dict(groups=2, padding=(2, 1))),
    ((2, 4, 4, 5), (4, 1, 3, 3), dict(groups=4, stride=2, output_padding=1)),  # depthwise
    ((2, 4, 4, 5), (4, 1, 3, 2), dict(groups=4, padding=1, dilation=(2, 1))),
    ((2, 3, 4, 5), (3, 4, 1, 1), dict(padding=1)),  # padding > d·(k-1): col2im at stride 1
    ((3, 4, 5), (3, 4, 3, 3), dict(stride=2, padding=1)),  # unbatched
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("xs,ws,kw", CONVT2D_CASES, ids=[str(c[2]) + str(c[0]) for c in CONVT2D_CASES])
def test_conv_transpose2d(xs, ws, kw, bias):
    _run("conv_transpose2d", xs, ws, bias, **kw)


CONVT1D_CASES = [
    ((2, 3, 6), (3, 4, 3), {}),
    ((2, 3, 6), (3, 4, 3), dict(stride=3, padding=1, output_padding=2)),
    ((2, 4, 6), (4, 2, 3), dict(groups=2, dilation=2, padding=2)),
    ((2, 4, 6), (4, 1, 2), dict(groups=4, stride=2)),
    ((3, 6), (3, 4, 3), dict(stride=2, output_padding=1)),  # unbatched
]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("xs,ws,kw", CONVT1D_CASES, ids=[str(c[2]) + str(c[0]) for c in CONVT1D_CASES])
def test_conv_transpose1d(xs, ws, kw, bias):
    _run("conv_transpose1d", xs, ws, bias, **kw)


# --------------------------------------------------------------------------- unfold / fold
UNFOLD_CASES = [
    ((2, 3, 5, 6), dict(kernel_size=2)),
    ((2, 3, 5, 6), dict(kernel_size=(2, 3), stride=2, padding=1)),
    ((2, 3, 7, 6), dict(kernel_size=(3, 2), dilation=(2, 1), padding=(1, 2), stride=(1, 2))),
    ((3, 5, 6), dict(kernel_size=3, padding=1)),  # unbatched
]


@pytest.mark.parametrize("xs,kw", UNFOLD_CASES, ids=[str(c[1]) + str(c[0]) for c in UNFOLD_CASES])
def test_unfold(xs, kw):
    check_op(lambda x: F.unfold(x, **kw), (lambda x: TF.unfold(x, **kw)) if torch else None, rand(*xs))


FOLD_CASES = [
    # (input shape, output_size, kwargs): L must equal the number of blocks
    ((2, 12, 20), (5, 6), dict(kernel_size=2)),
    ((2, 18, 9), (5, 6), dict(kernel_size=(2, 3), stride=2, padding=1)),
    ((2, 18, 25), (7, 6), dict(kernel_size=(3, 2), dilation=(2, 1), padding=(1, 2), stride=(1, 2))),
    ((27, 30), (5, 6), dict(kernel_size=3, padding=1)),  # unbatched
]


@pytest.mark.parametrize("xs,size,kw", FOLD_CASES, ids=[str(c[2]) + str(c[0]) for c in FOLD_CASES])
def test_fold(xs, size, kw):
    check_op(lambda x: F.fold(x, size, **kw), (lambda x: TF.fold(x, size, **kw)) if torch else None, rand(*xs))


def test_fold_sums_overlaps_and_inverts_unfold_counts():
    """fold(unfold(x)) multiplies each pixel by the number of blocks that cover it."""
    x = gu.tensor(rand(1, 2, 5, 5))
    cols = F.unfold(x, 3, padding=1)
    counts = F.fold(F.unfold(gu.ones(1, 2, 5, 5, dtype=gu.float64), 3, padding=1), (5, 5), 3, padding=1)
    np.testing.assert_allclose(F.fold(cols, (5, 5), 3, padding=1).numpy(), x.numpy() * counts.numpy())
    assert counts.numpy()[0, 0, 0, 0] == 4 and counts.numpy()[0, 0, 2, 2] == 9


# ----------------------------------------------------------------------- engine code paths
@requires_torch
@pytest.mark.parametrize("block", [1, 150, 1000])
@pytest.mark.parametrize("name,ws,kw", [
    ("conv2d", (6, 3, 3, 3), dict(padding=1)),
    ("conv2d", (6, 3, 2, 3), dict(stride=2, dilation=(1, 2))),
    ("conv2d", (6, 1, 3, 3), dict(groups=3, stride=2, padding=1)),
    ("conv_transpose2d", (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (3, 2, 3, 3), dict(padding=1)),
], ids=["pad", "stride-dil", "groups", "T-stride", "T-flip"])
def test_blocks_of_images(monkeypatch, block, name, ws, kw):
    """The engines work a block of images at a time: 1 per block, ragged blocks, and all at once."""
    monkeypatch.setattr(conv_mod, "_BLOCK", block)
    _run(name, (5, 3, 6, 7), ws, True, gradcheck=False, **kw)


@requires_torch
def test_col2im_and_flipped_kernel_agree(monkeypatch):
    """For stride 1 the input gradient is a convolution with the flipped kernel; disabling that
    path (forcing col2im) must give the same gradients."""
    x, w = rand(2, 4, 6, 5, seed=3), rand(6, 2, 3, 2, seed=4)

    def grads():
        gx, gw = gu.tensor(x, requires_grad=True), gu.tensor(w, requires_grad=True)
        F.conv2d(gx, gw, padding=(1, 2), dilation=(2, 1), groups=2).backward(gu.tensor(rand(2, 6, 4, 8, seed=5)))
        return gx.grad.numpy(), gw.grad.numpy()

    a = grads()
    monkeypatch.setattr(conv_mod, "_flipped_geometry", lambda geom: None)
    b = grads()
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(a[1], b[1])


LAYOUT_CASES = [
    # (op, x shape, w shape, kwargs): strides, dilations, paddings, groups and odd sizes
    ("conv2d", (3, 4, 7, 9), (6, 4, 3, 3), dict(padding=1)),
    ("conv2d", (3, 4, 9, 8), (6, 2, 3, 2), dict(stride=2, padding=(1, 0), groups=2)),
    ("conv2d", (3, 4, 10, 11), (5, 4, 3, 3), dict(stride=(3, 2), dilation=(1, 2), padding=2)),
    ("conv2d", (3, 2, 8, 7), (4, 2, 5, 5), dict(padding=2)),
    ("conv2d", (3, 4, 6, 6), (4, 1, 3, 3), dict(groups=4, stride=2, padding=1)),
    ("conv1d", (3, 4, 17), (6, 4, 5), dict(stride=2, padding=3, dilation=2)),
    ("conv_transpose2d", (3, 6, 5, 4), (6, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (3, 4, 5, 6), (4, 3, 4, 4), dict(stride=2, padding=1)),
    ("conv_transpose2d", (3, 2, 4, 5), (2, 6, 3, 3), dict(padding=1)),  # more outputs than inputs: col2im
]


@requires_torch
@pytest.mark.parametrize("wide", [0.0, 1e9], ids=["exact", "wide"])
@pytest.mark.parametrize("block", [150, 10**6], ids=["ragged-blocks", "one-block"])
@pytest.mark.parametrize("name,xs,ws,kw", LAYOUT_CASES, ids=[f"{c[0]}{c[1]}{c[3]}" for c in LAYOUT_CASES])
def test_wide_and_exact_columns(monkeypatch, wide, block, name, xs, ws, kw):
    """Both column layouts (wide rows with padding columns, and exact windows) give PyTorch's
    outputs and gradients, for every stride phase, dilation, padding and group setting, with one
    block of images and with ragged blocks (where the work arrays are strided views)."""
    monkeypatch.setattr(conv_mod, "_WIDE", wide)
    monkeypatch.setattr(conv_mod, "_BLOCK", block)
    _run(name, xs, ws, True, gradcheck=False, **kw)


@requires_torch
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf · 0, as intended
@pytest.mark.parametrize("where", ["x", "w"])
def test_wide_columns_keep_inf_and_nan_where_torch_has_them(monkeypatch, where):
    """Without padding, a wide layout's padding columns read real pixels of the next row (dW)
    or add into them (col2im), multiplied by a zero of G; an inf there would make NaN where
    PyTorch has a finite value. The engines detect it (non-finite dW, non-finite W) and use exact
    columns, so the non-finite values land exactly where PyTorch's do."""
    monkeypatch.setattr(conv_mod, "_WIDE", 1e9)
    if where == "x":  # dW: column 0 is seen by kernel column 0 only
        x, w, kw = rand(2, 3, 6, 7, seed=1), rand(4, 3, 3, 3, seed=2), {}
        x[0, 1, 2, 0], x[1, 2, 4, 1] = np.inf, np.nan
    else:  # dx by col2im (stride 2), and conv_transpose2d's forward, with an inf weight
        x, w, kw = rand(2, 3, 7, 9, seed=1), rand(4, 3, 3, 3, seed=2), dict(stride=2)
        w[1, 0, 2, 2] = np.inf
    ins = [gu.tensor(a, requires_grad=True) for a in (x, w)]
    tins = [torch.tensor(a, requires_grad=True) for a in (x, w)]
    y, ty = F.conv2d(*ins, **kw), TF.conv2d(*tins, **kw)
    g = rand(*ty.shape, seed=3)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    for a, t in zip(ins, tins):
        assert np.isfinite(t.grad.numpy()).sum() > 0
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)  # NaN == NaN here
    if where == "w":  # the transposed convolution's forward is the col2im engine itself
        y = F.conv_transpose2d(gu.tensor(g), gu.tensor(w), stride=2, output_padding=(0, 0))
        ty = TF.conv_transpose2d(torch.tensor(g), torch.tensor(w), stride=2)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10, atol=1e-10)


@requires_torch
@pytest.mark.parametrize("kw", [{}, dict(groups=2), dict(stride=2), dict(padding=1)],
                         ids=["1x1", "1x1-groups", "1x1-stride2", "1x1-pad"])
def test_pointwise_convolution(kw):
    """1x1 kernels with stride 1 and no padding skip im2col (one GEMM per image); strided or
    padded ones take the general path. Both match PyTorch, as conv and as conv_transpose."""
    _run("conv2d", (3, 4, 5, 7), (6, 4 // kw.get("groups", 1), 1, 1), True, **kw)
    _run("conv_transpose2d", (3, 4, 5, 7), (4, 6 // kw.get("groups", 1), 1, 1), True, **kw)


def test_work_arrays_never_leak_into_results():
    """The engines keep their work arrays from call to call: a later call (other shapes, or the
    same shapes with other data) must not change an earlier result, and a result computed after
    others must equal the same result computed first (no stale data in a reused buffer)."""
    x1, w1 = gu.tensor(rand(4, 3, 9, 8, seed=1)), gu.tensor(rand(5, 3, 3, 3, seed=2))
    x2, w2 = gu.tensor(rand(2, 6, 5, 11, seed=3)), gu.tensor(rand(4, 6, 3, 2, seed=4))
    first = F.conv2d(x1, w1, padding=1)
    kept = first.numpy().copy()
    F.conv2d(x2, w2, stride=2, padding=(0, 1))
    F.conv2d(gu.tensor(rand(4, 3, 9, 8, seed=5)), w1, padding=1)
    np.testing.assert_array_equal(first.numpy(), kept)
    np.testing.assert_array_equal(F.conv2d(x1, w1, padding=1).numpy(), kept)
    slow = sum(  # an obvious loop over kernel offsets, as the independent reference
        np.einsum("oc,nchw->nohw", w1.numpy()[:, :, p, q], np.pad(x1.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))[
            :, :, p : p + 9, q : q + 8]) for p in range(3) for q in range(3))
    np.testing.assert_allclose(kept, slow, rtol=1e-12, atol=1e-12)


@requires_torch
def test_float32_stays_float32_and_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 12, 12)).astype(np.float32)
    w = (rng.standard_normal((16, 8, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    g = rng.standard_normal((4, 16, 6, 6)).astype(np.float32)
    ins = [gu.tensor(a, requires_grad=True) for a in (x, w, b)]
    tins = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = F.conv2d(*ins, stride=2, padding=1)
    ty = TF.conv2d(*tins, stride=2, padding=1)
    assert y.dtype == gu.float32
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, t in zip(ins, tins):
        assert a.grad.dtype == gu.float32
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-3)
    wt = gu.tensor(w.transpose(1, 0, 2, 3).copy(), requires_grad=True)
    yt = F.conv_transpose2d(ins[0], wt, stride=2)
    assert yt.dtype == gu.float32
    yt.sum().backward()
    assert wt.grad.dtype == gu.float32


def test_float16_computed_in_float32():
    x = gu.tensor(rand(2, 3, 5, 5).astype(np.float16), requires_grad=True)
    w = gu.tensor(rand(4, 3, 3, 3).astype(np.float16), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    ref = F.conv2d(x.detach().double(), w.detach().double(), padding=1)
    assert y.dtype == gu.float16
    np.testing.assert_allclose(y.detach().numpy().astype(np.float64), ref.numpy(), rtol=1e-2, atol=5e-2)
    y.sum().backward()
    assert x.grad.dtype == gu.float16 and w.grad.dtype == gu.float16


@requires_torch
def test_noncontiguous_inputs_not_mutated_and_empty_batch():
    base, w_np = rand(3, 2, 5, 6), rand(4, 3, 3, 3, seed=1)
    xb, w = gu.tensor(base, requires_grad=True), gu.tensor(w_np, requires_grad=True)
    txb = torch.tensor(base, requires_grad=True)
    x = xb.permute(1, 0, 2, 3)  # (2, 3, 5, 6), a non-contiguous view
    assert not x.data.flags.c_contiguous
    before = base.copy(), w_np.copy()
    y = F.conv2d(x, w, padding=1, stride=(1, 2))
    ty = TF.conv2d(txb.permute(1, 0, 2, 3), torch.tensor(w_np), padding=1, stride=(1, 2))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rand(*ty.shape, seed=2)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xb.grad.numpy(), txb.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(xb.detach().numpy(), before[0])
    np.testing.assert_array_equal(w.detach().numpy(), before[1])
    empty = gu.tensor(np.zeros((0, 3, 5, 6)), requires_grad=True)
    out = F.conv2d(empty, w, padding=1)
    assert tuple(out.shape) == (0, 4, 5, 6)
    out.sum().backward()
    assert tuple(empty.grad.shape) == (0, 3, 5, 6)


def test_second_order_graph_free():
    """A graph through conv can be backpropagated twice with retain_graph (nothing is consumed)."""
    x, w = gu.tensor(rand(1, 2, 5, 5), requires_grad=True), gu.tensor(rand(3, 2, 3, 3), requires_grad=True)
    y = F.conv2d(x, w).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


# ---------------------------------------------------------------------------------- modules
MODULE_CASES = [
    ("Conv2d", (3, 16, 3), dict(padding=1)),
    ("Conv2d", (4, 8, (3, 2)), dict(stride=2, dilation=(2, 1), groups=2, bias=False)),
    ("Conv2d", (4, 4, 3), dict(padding="same", groups=4, padding_mode="reflect")),
    ("Conv2d", (3, 6, 2), dict(padding="valid", padding_mode="circular")),
    ("Conv2d", (3, 6, 3), dict(padding=(1, 2), padding_mode="replicate")),
    ("Conv1d", (4, 4, 3), dict(stride=2, groups=2)),
    ("Conv1d", (3, 5, 4), dict(padding="same", dilation=2, padding_mode="reflect")),
    ("Conv1d", (3, 5, 3), dict(padding=2, padding_mode="circular", bias=False)),
    ("ConvTranspose2d", (3, 6, 3), dict(stride=2, output_padding=1, groups=3)),
    ("ConvTranspose2d", (4, 2, (2, 3)), dict(padding=1, dilation=2, bias=False)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=3, padding=1, output_padding=2, groups=2)),
]
MODULE_IDS = [f"{c[0]}{c[1]}{c[2]}" for c in MODULE_CASES]


@requires_torch
@pytest.mark.parametrize("cls,args,kw", MODULE_CASES, ids=MODULE_IDS)
def test_module_matches_torch(cls, args, kw):
    """Same repr, state_dict keys and shapes; loading torch's weights gives torch's outputs and grads."""
    m, tm = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(m) == repr(tm)
    sd, tsd = m.state_dict(), tm.state_dict()
    assert list(sd) == list(tsd)
    assert all(tuple(sd[k].shape) == tuple(tsd[k].shape) for k in sd)
    m.load_state_dict({k: gu.tensor(v.numpy()) for k, v in tsd.items()})
    nd = 1 if cls.endswith("1d") else 2
    x = np.random.default_rng(0).standard_normal((2, args[0]) + (7,) * nd).astype(np.float32)
    gx, tx = gu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(gx), tm(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape)).astype(np.float32)
    y.backward(gu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    # unbatched input through the module
    np.testing.assert_allclose(m(gu.tensor(x[0])).detach().numpy(), tm(torch.tensor(x[0])).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls,args,kw", MODULE_CASES, ids=MODULE_IDS)
def test_module_default_init(cls, args, kw):
    """kaiming_uniform_(a=√5) and the bias both give U(-1/√fan_in, 1/√fan_in), fan_in from weight dim 1."""
    gu.manual_seed(0)
    m = getattr(nn, cls)(*args, **kw)
    w = m.weight.detach().numpy()
    bound = 1 / math.sqrt(w.shape[1] * math.prod(w.shape[2:]))
    assert w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    if m.bias is not None:
        assert tuple(m.bias.shape) == (args[1],)
        assert np.abs(m.bias.detach().numpy()).max() <= bound


def test_module_dtype_and_attributes():
    m = nn.Conv2d(2, 4, 3, stride=2, padding=1, dtype=gu.float64)
    assert m.weight.dtype == gu.float64 and m.bias.dtype == gu.float64
    assert (m.kernel_size, m.stride, m.padding, m.dilation, m.groups) == ((3, 3), (2, 2), (1, 1), (1, 1), 1)
    assert m.transposed is False and m.output_padding == (0, 0) and m.padding_mode == "zeros"
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    t = nn.ConvTranspose1d(4, 6, 3, groups=2)
    assert t.transposed is True and tuple(t.weight.shape) == (4, 3, 3)


@requires_torch
def test_conv_transpose_output_size():
    down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
    up, tup = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
    up.load_state_dict({k: gu.tensor(v.numpy()) for k, v in tup.state_dict().items()})
    x = gu.tensor(rand(1, 4, 12, 11).astype(np.float32))
    h = down(x)
    assert tuple(h.shape) == (1, 4, 6, 6)
    out = up(h, output_size=x.shape)
    assert tuple(out.shape) == (1, 4, 12, 11)
    ref = tup(torch.tensor(h.detach().numpy()), output_size=[12, 11])
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="valid sizes range from"):
        up(h, output_size=(14, 11))


@requires_torch
def test_unfold_fold_modules():
    u, tu = nn.Unfold(3, padding=1), torch.nn.Unfold(3, padding=1)
    f, tf = nn.Fold((5, 6), (2, 3), stride=(1, 3)), torch.nn.Fold((5, 6), (2, 3), stride=(1, 3))
    assert repr(u) == repr(tu) and repr(f) == repr(tf)
    x = rand(2, 3, 5, 6)
    np.testing.assert_allclose(u(gu.tensor(x)).numpy(), tu(torch.tensor(x)).numpy())
    c = rand(2, 18, 8)
    np.testing.assert_allclose(f(gu.tensor(c)).numpy(), tf(torch.tensor(c)).numpy())
    assert list(nn.Unfold(2).state_dict()) == []


# ----------------------------------------------------------------------------------- errors
def _t(*shape, dtype=np.float64):
    return gu.tensor(np.zeros(shape, dtype=dtype))


ERROR_CASES = [
    (lambda: F.conv2d(_t(5, 5), _t(4, 5, 3, 3)), RuntimeError, r"conv2d: expected a 3-D .* or 4-D .* got input of shape \(5, 5\)"),
    (lambda: F.conv1d(_t(2, 3, 4, 5), _t(4, 3, 3)), RuntimeError, r"conv1d: expected a 2-D .*shape \(2, 3, 4, 5\)"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3)), RuntimeError, r"conv2d: expected a 4-D weight"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(6, 3, 3, 3)), RuntimeError,
     r"groups=1 .*\(6, 3, 3, 3\).*\(1, 4, 5, 5\) to have weight.shape\[1\] \* groups = 3 channels, but got 4"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(6, 2, 3, 3), groups=3), RuntimeError, r"groups=3 .*6 channels, but got 4"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(5, 2, 3, 3), groups=2), RuntimeError, r"out_channels .*5.* divisible by groups=2"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(6, 4, 3, 3), groups=0), RuntimeError, r"groups must be a positive integer"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 7, 3)), RuntimeError,
     r"kernel size \(7, 3\).*larger than the padded input \(5, 5\)"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), dilation=3), RuntimeError, r"spans 7 .*padded input"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), stride=(1, 0)), RuntimeError, r"stride must be >= 1 .*\(1, 0\)"),
    (lambda: F.conv1d(_t(1, 3, 5), _t(4, 3, 3), dilation=0), RuntimeError, r"conv1d: dilation must be >= 1"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), padding=-1), RuntimeError, r"negative padding"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), padding="same", stride=2), RuntimeError,
     r"padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), padding="full"), RuntimeError, r"invalid padding string 'full'"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), stride=(1, 2, 3)), RuntimeError,
     r"stride to be a single integer value or a list of 2 values"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), stride=1.5), TypeError, r"stride must be an int"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3), _t(5)), RuntimeError, r"bias to be 1-D with 4 elements.*\(5,\)"),
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(4, 3, 3, 3, dtype=np.float32)), RuntimeError,
     r"same dtype, got input float64, weight float32"),
    (lambda: F.conv2d(_t(1, 3, 5, 5, dtype=np.int64), _t(4, 3, 3, 3, dtype=np.int64)), TypeError, r"floating-point input"),
    (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), _t(4, 3, 3, 3)), TypeError, r"input must be a Tensor"),
    (lambda: F.conv_transpose2d(_t(1, 4, 5, 5), _t(3, 2, 3, 3)), RuntimeError,
     r"conv_transpose2d: .*to have weight.shape\[0\] = 3 channels, but got 4"),
    (lambda: F.conv_transpose2d(_t(1, 4, 5, 5), _t(4, 2, 3, 3), stride=2, output_padding=2), RuntimeError,
     r"output padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(_t(1, 4, 2, 2), _t(4, 2, 3, 3), padding=3), RuntimeError,
     r"output size .* is \(-2, -2\).*must be positive"),
    (lambda: F.conv_transpose2d(_t(1, 4, 2, 2), _t(4, 2, 3, 3), padding="same"), TypeError, r"not a string"),
    (lambda: F.conv_transpose1d(_t(1, 4, 5), _t(4, 2, 3), groups=3), RuntimeError, r"in_channels .*divisible by groups=3"),
    (lambda: F.conv_transpose1d(_t(1, 4, 5), _t(4, 2, 3), _t(3), groups=2), RuntimeError, r"bias to be 1-D with 4"),
    (lambda: F.unfold(_t(5, 5), 2), RuntimeError, r"unfold: expected a 3-D .* or 4-D"),
    (lambda: F.unfold(_t(1, 2, 5, 5), 7), RuntimeError, r"number of sliding blocks would be \(-1, -1\)"),
    (lambda: F.fold(_t(2, 12, 5), (3, 3), 2), RuntimeError, r"sliding blocks 2 \* 2 = 4, but got 5"),
    (lambda: F.fold(_t(11, 4), (3, 3), 2), RuntimeError, r"\(11\) to be divisible by the product of kernel_size"),
    (lambda: F.fold(_t(1, 2, 12, 4), (3, 3), 2), RuntimeError, r"fold: expected a 2-D .* or 3-D"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, r"in_channels \(3\) must be divisible by groups \(2\)"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, r"out_channels \(6\) must be divisible by groups \(4\)"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), ValueError, r"padding_mode must be one of"),
    (lambda: nn.Conv2d(3, 4, 3, padding="same", stride=2), ValueError, r"not supported for strided"),
    (lambda: nn.Conv2d(3, 4, 0), ValueError, r"kernel_size must be >= 1"),
    (lambda: nn.Conv1d(3, 4, 3, stride=0), ValueError, r"stride must be >= 1"),
    (lambda: nn.Conv2d(3, 4, (3, 3, 3)), TypeError, r"kernel_size must be an int or a tuple of 2 ints"),
    (lambda: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"), ValueError, r'Only "zeros" padding mode'),
    # modules name themselves, the shapes and the rule
    (lambda: nn.Conv2d(3, 4, 3)(_t(1, 2, 5, 5, dtype=np.float32)), RuntimeError,
     r"^Conv2d: expected input with 3 channels \(in_channels=3\) in dimension 1, but got input of shape "
     r"\(1, 2, 5, 5\) with 2 channels"),
    (lambda: nn.Conv2d(3, 4, 3)(_t(3, 5, dtype=np.float32)), RuntimeError,
     r"^Conv2d: expected a 3-D \(unbatched: C, H, W\) or 4-D \(batched: N, C, H, W\) input, but got input of shape \(3, 5\)"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect", padding=1)(_t(3, 5, dtype=np.float32)), RuntimeError,
     r"^Conv2d: expected a 3-D"),  # checked before the padding
    (lambda: nn.Conv1d(3, 4, 3)(_t(2, 4, 7, dtype=np.float32)), RuntimeError,
     r"^Conv1d: expected input with 3 channels .* shape \(2, 4, 7\) with 4 channels"),
    (lambda: nn.Conv2d(3, 4, (5, 3), dilation=2)(_t(1, 3, 6, 9, dtype=np.float32)), RuntimeError,
     r"^Conv2d: kernel size \(5, 3\) \(dilation \(2, 2\): spans 9 in dimension 0\) is larger than the padded input "
     r"\(6, 9\)"),
    (lambda: nn.ConvTranspose2d(4, 2, 3)(_t(1, 3, 5, 5, dtype=np.float32)), RuntimeError,
     r"^ConvTranspose2d: expected input with 4 channels \(in_channels=4\) .* shape \(1, 3, 5, 5\) with 3 channels"),
    (lambda: nn.ConvTranspose1d(4, 2, 3)(_t(1, 4, 5, 5, dtype=np.float32)), RuntimeError,
     r"^ConvTranspose1d: expected a 2-D \(unbatched: C, L\) or 3-D .*shape \(1, 4, 5, 5\)"),
    (lambda: nn.ConvTranspose2d(4, 2, 3, padding=3)(_t(1, 4, 2, 2, dtype=np.float32)), RuntimeError,
     r"^ConvTranspose2d: the output size .* is \(-2, -2\).*must be positive"),
    (lambda: nn.Conv2d(4, 4, 3, groups=3), ValueError, r"in_channels \(4\) must be divisible by groups \(3\)"),
    (lambda: F.conv_transpose2d(_t(1, 4, 5, 5), _t(4, 2, 3, 3), dilation=(1, 0)), RuntimeError,
     r"conv_transpose2d: dilation must be >= 1 .*\(1, 0\)"),
    (lambda: F.unfold(_t(1, 2, 5, 5), 2, stride=0), RuntimeError, r"unfold: stride must be >= 1"),
    (lambda: F.fold(_t(1, 8, 4), (3, 3), 2, dilation=0), RuntimeError, r"fold: dilation must be >= 1"),
    (lambda: nn.Unfold(7)(_t(1, 2, 5, 5)), RuntimeError, r"unfold: given spatial size \(5, 5\), kernel_size=\(7, 7\)"),
]


@pytest.mark.parametrize("fn,exc,match", ERROR_CASES, ids=[str(i) for i in range(len(ERROR_CASES))])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()
