"""Fused recurrent layers: a whole sequence of Elman-RNN, LSTM or GRU steps as one op, with backpropagation
through time written by hand.

Composed from tensor ops (``groundup/nn/recurrent.py``'s ``_step``), one LSTM step records about fifteen graph
nodes, each with its own NumPy temporaries, and autograd walks them one by one; at the sizes of a character model
(batch 32, hidden 256) that bookkeeping costs as much as the arithmetic. Here the recurrence over all ``T`` steps
is one :class:`~groundup.autograd.Function` whose forward loops over time on plain arrays and saves the gate
activations, and whose backward runs the loop in reverse, so each step costs one matrix product and a handful of
in-cache elementwise operations in each direction.

Every op takes the input projection ``gi`` ``(T, B, G·H)`` already computed for all steps (``x_t W_ihᵀ + b_ih``,
one GEMM outside this op, differentiated by ordinary autograd), the initial state(s) ``(B, H)``, ``W_hh``
``(G·H, H)`` and optionally ``b_hh`` ``(G·H,)``. ``reverse=True`` runs from ``t = T-1`` down to 0 (the backward
direction of a bidirectional layer); internally that is the same loop over the time-reversed view of ``gi``.

**Derivations.** Write ``pre_t = gi_t + h_{t-1} W_hhᵀ + b_hh`` (``(B, G·H)``) and let ``δ_t`` be the total
gradient reaching ``pre_t``. Then for every cell

    dgi_t = δ_t (the gate block(s) that ``gi`` enters),   dW_hh = Σ_t δ_tᵀ h_{t-1},   db_hh = Σ_t δ_t,
    dh_{t-1} = (gradient from the output at t-1) + δ_t W_hh (+ direct paths, GRU),

so the weight gradients are a single ``(G·H, T·B) @ (T·B, H)`` GEMM after the loop; only ``δ_t W_hh`` is
sequential. The per-cell parts (``σ' = σ(1-σ)``, ``tanh' = 1-tanh²``):

- RNN: ``h_t = tanh(pre_t)`` → ``δ_t = dh_t ⊙ (1 - h_t²)`` (relu: ``dh_t ⊙ [h_t > 0]``).
- LSTM (``i, f, g, o`` blocks; ``c_t = f⊙c_{t-1} + i⊙g``, ``h_t = o⊙tanh(c_t)``): with ``dh_t`` the gradient
  reaching ``h_t`` and ``dc_t = dc_t^{from t+1} + dh_t ⊙ o ⊙ (1 - tanh²c_t)``,
  ``δ_i = dc_t⊙g⊙σ'(i)``, ``δ_f = dc_t⊙c_{t-1}⊙σ'(f)``, ``δ_g = dc_t⊙i⊙(1-g²)``, ``δ_o = dh_t⊙tanh(c_t)⊙σ'(o)``,
  and ``dc_{t-1} = dc_t ⊙ f`` (the cell path, see docs/rnn.md).
- GRU (``r, z, n``; ``n = tanh(gi_n + r⊙(h_{t-1} W_hnᵀ + b_hn))``, ``h_t = (1-z)⊙n + z⊙h_{t-1}``): with
  ``a = dh_t⊙(1-z)⊙(1-n²)`` (the gradient at n's pre-activation) the ``gi`` blocks get
  ``δ_r = a⊙ghn⊙σ'(r)``, ``δ_z = dh_t⊙(h_{t-1}-n)⊙σ'(z)``, ``δ_n = a``; the hidden projection's ``n`` block gets
  ``a⊙r`` instead (``r`` multiplies it), and ``dh_{t-1} = δ^h W_hh + dh_t⊙z``.

Sigmoids are computed as ``σ(x) = (1 + tanh(x/2)) / 2``: each step's pre-activations are halved on the sigmoid
gates by the same op that rearranges them gate-block-major ``(G, B, H)``, and then all gates take one ``tanh``
call; the identity is exact and, like ``tanh``, cannot overflow. Block-major storage makes every gate of a step
one contiguous ``(B, H)`` array: NumPy runs an elementwise op over a strided ``(B, H)`` column slice of a
``(B, G·H)`` array several times slower than over a contiguous one, and a step has about twenty such ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup.autograd import Function

_ONE_HALF = 0.5


def _gate_scale(G: int, tanh_gates: tuple[int, ...], dtype: Any) -> Any:
    """(G, 1, 1): 1/2 for the sigmoid gates, 1 for the tanh ones, so that ``tanh(scale · x)`` is ``2σ(x) - 1``
    on the sigmoid gates and ``tanh(x)`` on the others."""
    scale = np.full((G, 1, 1), _ONE_HALF, dtype)
    scale[list(tanh_gates)] = 1
    return scale


def _time_order(a: Any, reverse: bool) -> Any:
    """Processing order -> time order (and back): the reversed view for the backward direction."""
    return a[::-1] if reverse else a


def _grads(ctx: Any, delta: Any, delta_hh: Any, h_prev: Any, *dstates: Any) -> tuple[Any, ...]:
    """Every input's gradient once the backward loop is done, in ``forward``'s argument order.

    ``delta`` (T, B, G·H) is the gradient at ``gi`` in processing order, ``delta_hh`` the one at the hidden
    projection (the same array except for the GRU), ``h_prev`` (T, B, H) the state before each step and
    ``dstates`` the gradients of the initial state(s). ``dW_hh = Σ_t δ_tᵀ h_{t-1}`` is one GEMM and
    ``db_hh = Σ_t δ_t``; gradients that no input needs are None.
    """
    need = ctx.needs_input_grad
    n_state = 1 + len(dstates)
    G = delta_hh.shape[-1]
    dgi = np.ascontiguousarray(_time_order(delta, ctx.reverse)) if need[0] else None
    dw = None
    if need[n_state]:
        dw = delta_hh.reshape(-1, G).T @ h_prev.reshape(-1, h_prev.shape[-1])  # (G·H, T·B) @ (T·B, H)
    if not ctx.has_bias:
        return (dgi, *dstates, dw)
    db = delta_hh.reshape(-1, G).sum(0) if need[n_state + 1] else None  # (G·H,)
    return (dgi, *dstates, dw, db)


class RNNLayer(Function):
    """Elman RNN over a whole sequence: ``h_t = act(gi_t + h_{t-1} W_hhᵀ + b_hh)``, act tanh or relu.

    Inputs ``gi`` (T, B, H), ``h0`` (B, H), ``w_hh`` (H, H) [, ``b_hh`` (H,)]; output ``h_t`` for every t,
    (T, B, H) in time order. Backward: ``δ_t = dh_t ⊙ act'``, ``dh_{t-1} += δ_t W_hh`` (module docstring).
    """

    def forward(ctx, gi, h0, w_hh, b_hh=None, *, relu=False, reverse=False):
        T, B, H = gi.shape
        gi = _time_order(gi, reverse)  # (T, B, H), processing order
        w_t = np.ascontiguousarray(w_hh.T)  # (H, H)
        hs = np.empty((T + 1, B, H), gi.dtype)  # hs[k] = h before step k; hs[0] = h0
        hs[0] = h0
        for k in range(T):
            h = hs[k + 1]
            np.matmul(hs[k], w_t, out=h)
            h += gi[k]
            if b_hh is not None:
                h += b_hh
            if relu:
                np.maximum(h, 0, out=h)
            else:
                np.tanh(h, out=h)
        ctx.hs, ctx.w_hh, ctx.relu, ctx.reverse, ctx.has_bias = hs, w_hh, relu, reverse, b_hh is not None
        return np.ascontiguousarray(_time_order(hs[1:], reverse))

    def backward(ctx, grad):
        hs, w_hh = ctx.hs, ctx.w_hh
        dout = _time_order(grad, ctx.reverse)  # (T, B, H), processing order
        T = dout.shape[0]
        delta = np.empty(dout.shape, dout.dtype)  # (T, B, H): δ_k at each step's pre-activation
        carry = np.zeros(dout.shape[1:], dout.dtype)  # (B, H): gradient reaching h_k from step k+1
        for k in range(T - 1, -1, -1):
            d, h = delta[k], hs[k + 1]
            np.add(dout[k], carry, out=d)
            if ctx.relu:
                d *= h > 0
            else:
                d *= 1 - h * h
            np.matmul(d, w_hh, out=carry)
        return _grads(ctx, delta, delta, hs[:-1], carry)


class LSTMLayer(Function):
    """LSTM over a whole sequence (gates ``i, f, g, o``; see the module docstring for forward and backward).

    Inputs ``gi`` (T, B, 4H), ``h0`` and ``c0`` (B, H), ``w_hh`` (4H, H) [, ``b_hh`` (4H,)]. The output is one
    array (T+1, B, H): ``h_t`` for every t in time order, then the final cell state ``c`` (one op has one
    output; the layer slices it, and the slices' gradients meet again here).
    """

    def forward(ctx, gi, h0, c0, w_hh, b_hh=None, *, reverse=False):
        T, B, G = gi.shape
        H = G // 4
        scale = _gate_scale(4, (2,), gi.dtype)
        gi = _time_order(gi, reverse)  # processing order
        w_t = np.ascontiguousarray(w_hh.T)  # (H, 4H)
        acts = np.empty((T, 4, B, H), gi.dtype)  # i, f, g, o after their nonlinearities, gate-block-major
        cs = np.empty((T + 1, B, H), gi.dtype)  # cs[k] = c before step k
        tcs = np.empty((T, B, H), gi.dtype)  # tanh(c) after step k
        hs = np.empty((T + 1, B, H), gi.dtype)  # hs[k] = h before step k
        cs[0], hs[0] = c0, h0
        ig = np.empty((B, H), gi.dtype)
        pre = np.empty((B, G), gi.dtype)
        pre_blocks = pre.reshape(B, 4, H).transpose(1, 0, 2)  # (4, B, H) view
        for k in range(T):
            a = acts[k]
            np.matmul(hs[k], w_t, out=pre)  # (B, H) @ (H, 4H)
            pre += gi[k]
            if b_hh is not None:
                pre += b_hh
            np.multiply(pre_blocks, scale, out=a)  # gate-block-major, sigmoid gates halved
            np.tanh(a, out=a)
            for sig in (a[:2], a[3]):  # 2σ - 1 -> σ for i, f and o
                sig *= _ONE_HALF
                sig += _ONE_HALF
            i, f, g, o = a
            c = cs[k + 1]
            np.multiply(f, cs[k], out=c)
            np.multiply(i, g, out=ig)
            c += ig  # c_k = f ⊙ c_{k-1} + i ⊙ g
            np.tanh(c, out=tcs[k])
            np.multiply(o, tcs[k], out=hs[k + 1])  # h_k = o ⊙ tanh(c_k)
        ctx.saved = acts, cs, tcs, hs, w_hh
        ctx.reverse, ctx.has_bias = reverse, b_hh is not None
        out = np.empty((T + 1, B, H), gi.dtype)
        out[:T] = _time_order(hs[1:], reverse)
        out[T] = cs[T]
        return out

    def backward(ctx, grad):
        acts, cs, tcs, hs, w_hh = ctx.saved
        T, _, B, H = acts.shape
        dt = acts.dtype
        dout = _time_order(grad[:T], ctx.reverse)  # (T, B, H): dL/dh_k from outside, processing order
        delta = np.empty((T, B, 4 * H), dt)  # δ_k at the gate pre-activations, in gi's layout
        d4 = np.empty((4, B, H), dt)  # δ_k gate-block-major
        dc = np.array(grad[T], dtype=dt)  # (B, H): dL/dc_{T-1} from outside
        carry = np.zeros((B, H), dt)  # gradient reaching h_k through step k+1
        dh, tmp = np.empty((B, H), dt), np.empty((B, H), dt)
        d_i, d_f, d_g, d_o = d4
        for k in range(T - 1, -1, -1):
            a, tc = acts[k], tcs[k]
            i, f, g, o = a
            np.add(dout[k], carry, out=dh)
            # dc_k += dh ⊙ o ⊙ (1 - tanh²c_k)
            np.multiply(tc, tc, out=tmp)
            np.subtract(1, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp
            # σ'(x) = σ(1 - σ) for i, f, o at once; the g block is overwritten with 1 - g²
            np.subtract(1, a, out=d4)
            d4 *= a
            np.multiply(g, g, out=d_g)
            np.subtract(1, d_g, out=d_g)
            d_i *= g
            d_f *= cs[k]
            d_g *= i
            d_o *= tc
            d4[:3] *= dc  # δ_i, δ_f, δ_g = dc ⊙ (g σ'(i), c_{k-1} σ'(f), i (1 - g²))
            d_o *= dh  # δ_o = dh ⊙ tanh(c) ⊙ σ'(o)
            dc *= f  # dc_{k-1} = dc_k ⊙ f
            d = delta[k]
            d.reshape(B, 4, H)[...] = d4.transpose(1, 0, 2)
            np.matmul(d, w_hh, out=carry)  # dh_{k-1} from step k
        return _grads(ctx, delta, delta, hs[:-1], carry, dc)


class GRULayer(Function):
    """GRU over a whole sequence (gates ``r, z, n``; see the module docstring for forward and backward).

    Inputs ``gi`` (T, B, 3H), ``h0`` (B, H), ``w_hh`` (3H, H) [, ``b_hh`` (3H,)]; output ``h_t`` for every t,
    (T, B, H) in time order.
    """

    def forward(ctx, gi, h0, w_hh, b_hh=None, *, reverse=False):
        T, B, G = gi.shape
        H = G // 3
        gi = _time_order(gi, reverse)  # processing order
        w_t = np.ascontiguousarray(w_hh.T)  # (H, 3H)
        ghns = np.empty((T, B, H), gi.dtype)  # the candidate's hidden projection h W_hnᵀ + b_hn
        rzs = np.empty((T, 2, B, H), gi.dtype)  # r, z
        ns = np.empty((T, B, H), gi.dtype)  # candidates n
        hs = np.empty((T + 1, B, H), gi.dtype)  # hs[k] = h before step k
        hs[0] = h0
        gh = np.empty((B, G), gi.dtype)
        gh_blocks = gh.reshape(B, 3, H).transpose(1, 0, 2)  # (3, B, H) view
        for k in range(T):
            ghn, rz, n, h = ghns[k], rzs[k], ns[k], hs[k + 1]
            gi_blocks = gi[k].reshape(B, 3, H).transpose(1, 0, 2)  # (3, B, H) view
            np.matmul(hs[k], w_t, out=gh)  # (B, H) @ (H, 3H)
            if b_hh is not None:
                gh += b_hh
            np.add(gh_blocks[:2], gi_blocks[:2], out=rz)
            rz *= _ONE_HALF
            np.tanh(rz, out=rz)
            rz *= _ONE_HALF
            rz += _ONE_HALF  # r, z = σ(pre) = (1 + tanh(pre / 2)) / 2
            np.copyto(ghn, gh_blocks[2])
            np.multiply(rz[0], ghn, out=n)  # r ⊙ (h W_hnᵀ + b_hn)
            n += gi_blocks[2]
            np.tanh(n, out=n)
            np.subtract(hs[k], n, out=h)
            h *= rz[1]
            h += n  # h_k = n + z ⊙ (h_{k-1} - n)
        ctx.saved = ghns, rzs, ns, hs, w_hh
        ctx.reverse, ctx.has_bias = reverse, b_hh is not None
        return np.ascontiguousarray(_time_order(hs[1:], reverse))

    def backward(ctx, grad):
        ghns, rzs, ns, hs, w_hh = ctx.saved
        T, B, H = ghns.shape
        dt = ghns.dtype
        dout = _time_order(grad, ctx.reverse)  # (T, B, H), processing order
        delta = np.empty((T, B, 3 * H), dt)  # δ at gi's blocks r, z, n, in gi's layout
        delta_h = np.empty((T, B, 3 * H), dt)  # δ at the hidden projection's blocks (n: a ⊙ r)
        d3 = np.empty((3, B, H), dt)
        d_r, d_z, a = d3
        carry = np.zeros((B, H), dt)
        dh, tmp = np.empty((B, H), dt), np.empty((B, H), dt)
        for k in range(T - 1, -1, -1):
            (r, z), n = rzs[k], ns[k]
            np.add(dout[k], carry, out=dh)
            # a = dh ⊙ (1 - z) ⊙ (1 - n²): the gradient at n's pre-activation
            np.multiply(n, n, out=a)
            np.subtract(1, a, out=a)
            np.subtract(1, z, out=tmp)
            a *= tmp
            a *= dh
            # δ_z = dh ⊙ (h_{k-1} - n) ⊙ z(1 - z)
            np.subtract(hs[k], n, out=d_z)
            d_z *= dh
            tmp *= z
            d_z *= tmp
            # δ_r = a ⊙ ghn ⊙ r(1 - r)
            np.subtract(1, r, out=d_r)
            d_r *= r
            d_r *= ghns[k]
            d_r *= a
            delta[k].reshape(B, 3, H)[...] = d3.transpose(1, 0, 2)
            a *= r  # the hidden projection's n block gets a ⊙ r
            dgh = delta_h[k]
            dgh.reshape(B, 3, H)[...] = d3.transpose(1, 0, 2)
            np.matmul(dgh, w_hh, out=carry)
            np.multiply(dh, z, out=tmp)
            carry += tmp  # dh_{k-1} = δ^h W_hh + dh ⊙ z
        return _grads(ctx, delta, delta_h, hs[:-1], carry)


__all__ = ["GRULayer", "LSTMLayer", "RNNLayer"]
