"""Test helpers: PyTorch parity (forward and backward) and gradcheck shortcuts.

``check_op(gu_fn, torch_fn, *arrays)`` runs the same lambda in groundup and in PyTorch on float64
copies of ``arrays``, compares the outputs, then backpropagates the same random non-uniform upstream
gradient through both and compares every input's gradient. Without torch installed it skips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import groundup as gu
from groundup.testing import gradcheck

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # parity tests skip; gradchecks still run
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the parity reference) is not installed")


def rand(*shape: int, seed: int = 0, positive: bool = False, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """A float64 array of the given shape (uniform; ``positive`` keeps it away from 0)."""
    rng = np.random.default_rng(seed + 7919 * len(shape) + sum(shape))
    if positive:
        return rng.uniform(0.5, 2.0, shape)
    return rng.uniform(low, high, shape)


def _as_list(out: Any) -> list:
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def check_op(
    gu_fn: Callable,
    torch_fn: Callable | None,
    *arrays: np.ndarray,
    grad: Sequence[bool] | bool = True,
    atol: float = 1e-7,
    rtol: float = 1e-6,
    check_gradcheck: bool = True,
    seed: int = 1,
) -> None:
    """Compare ``gu_fn`` with ``torch_fn`` (forward and backward) and gradcheck ``gu_fn``.

    ``arrays`` are NumPy inputs; floating ones become float64 leaves that require grad (unless
    ``grad`` says otherwise for that position), integer/bool ones become plain index tensors.
    The parity part skips when torch is missing; the gradcheck part always runs.
    """
    flags = [grad] * len(arrays) if isinstance(grad, bool) else list(grad)

    def make_gu():
        return [
            gu.tensor(a, requires_grad=bool(f and a.dtype.kind == "f")) for a, f in zip(arrays, flags)
        ]

    if check_gradcheck and any(f and a.dtype.kind == "f" for a, f in zip(arrays, flags)):
        assert gradcheck(gu_fn, *make_gu())

    if torch is None or torch_fn is None:
        return
    gx = make_gu()
    tx = [
        torch.tensor(a, requires_grad=bool(f and a.dtype.kind == "f")) for a, f in zip(arrays, flags)
    ]
    gouts = _as_list(gu_fn(*gx))
    touts = _as_list(torch_fn(*tx))
    assert len(gouts) == len(touts), f"{len(gouts)} outputs vs torch's {len(touts)}"
    rng = np.random.default_rng(seed)
    pairs = []
    for go, to in zip(gouts, touts):
        tnp = to.detach().numpy()
        assert tuple(go.shape) == tnp.shape, f"shape {tuple(go.shape)} vs torch {tnp.shape}"
        assert go.dtype.name == str(to.dtype).replace("torch.", ""), f"dtype {go.dtype} vs torch {to.dtype}"
        np.testing.assert_allclose(go.detach().numpy(), tnp, atol=atol, rtol=rtol, err_msg="forward")
        if to.requires_grad:
            assert go.requires_grad, "torch output requires grad but groundup's does not"
            pairs.append((go, to, rng.standard_normal(tnp.shape)))
    if not pairs:
        return
    for n, (go, to, v) in enumerate(pairs):  # backpropagate a non-uniform upstream gradient
        last = n == len(pairs) - 1
        go.backward(gu.tensor(v), retain_graph=not last)
        to.backward(torch.tensor(v), retain_graph=not last)
    for i, (g, t) in enumerate(zip(gx, tx)):
        if not t.requires_grad:
            continue
        tg = t.grad
        if tg is None:
            assert g.grad is None or not np.any(g.grad.numpy()), f"input {i}: torch has no grad"
            continue
        assert g.grad is not None, f"input {i}: groundup produced no gradient"
        np.testing.assert_allclose(
            g.grad.numpy(), tg.numpy(), atol=atol, rtol=rtol, err_msg=f"gradient of input {i}"
        )
