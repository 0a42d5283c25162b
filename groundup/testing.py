"""Gradient checking: compare an op's analytic gradient with central finite differences.

``gradcheck`` is public because it is how a learner checks a backward they wrote themselves: run
it on float64 inputs, and it raises with the worst mismatch if the two disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from groundup.autograd import no_grad
from groundup.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def _outputs(out: Any) -> list[Tensor]:
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o for o in outs if isinstance(o, Tensor) and o.data.dtype.kind == "f"]


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check ``fn``'s backward against central differences, for every input that requires grad.

    For a random upstream gradient ``v`` (one per output, non-uniform so that errors cannot cancel
    out), the analytic vector-Jacobian product ``v^T J`` from ``backward`` is compared with
    ``(v . f(x + eps e_i) - v . f(x - eps e_i)) / (2 eps)`` for each input element ``i``.
    Use float64 inputs: in float32, rounding error swamps the difference quotient.

    Returns True, or raises :class:`GradcheckError` naming the input, the element and both values
    (returns False instead when ``raise_exception=False``).
    """
    tensors = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not tensors:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    for t in tensors:
        if t.data.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input of shape {tuple(t.shape)} is {t.dtype}; use float64 inputs "
                "(float32 rounding error swamps finite differences)"
            )
    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor")
    vs = [rng.standard_normal(o.data.shape) for o in outs]

    for t in tensors:
        t.grad = None
    # analytic: backpropagating v_k from each output k sums to v^T J for each input
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    for n, (o, v) in enumerate(live):
        o.backward(Tensor._wrap(v.astype(o.data.dtype)), retain_graph=n < len(live) - 1)
    analytic = []
    for t in tensors:
        analytic.append(np.zeros(t.data.shape) if t.grad is None else t.grad.data.copy())
        t.grad = None

    def scalar() -> float:
        with no_grad():
            res = _outputs(fn(*inputs))
        return float(sum(np.sum(r.data.astype(np.float64) * v) for r, v in zip(res, vs)))

    ok = True
    for k, t in enumerate(tensors):
        if t.data.size == 0:
            continue
        flat = t.data.reshape(-1)  # a view: perturb in place, then restore
        if not np.shares_memory(flat, t.data):
            raise ValueError("gradcheck: inputs must be contiguous arrays")
        numeric = np.zeros(flat.size)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = scalar()
            flat[i] = orig - eps
            minus = scalar()
            flat[i] = orig
            numeric[i] = (plus - minus) / (2 * eps)
        a = analytic[k].reshape(-1)
        bad = ~np.isclose(a, numeric, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            ok = False
            if raise_exception:
                i = int(np.argmax(np.abs(a - numeric) * bad))
                raise GradcheckError(
                    f"gradcheck: input {k} (shape {tuple(t.shape)}): analytic and numerical "
                    f"gradients differ at {bad.sum()} of {a.size} elements; worst at flat index {i}: "
                    f"analytic {a[i]:.8g} vs numerical {numeric[i]:.8g} (atol={atol}, rtol={rtol})"
                )
    return ok
