"""A short tour of groundup's autograd (``make demo``).

1. Build a small expression; print each gradient next to the one derived by hand.
2. Write a new op as a ``Function`` and check its backward with ``gradcheck``.
3. Train a 2-16-16-1 network written with raw tensors on two interleaved half-moons, with plain
   gradient descent, and watch the loss fall.

The training lines read ``step N loss X`` so that tests/test_docs.py can parse them.
See docs/autograd.md for how backward works and for each op's derivation.
"""

from __future__ import annotations

import math
import os

import numpy as np

import groundup as gu
from groundup.autograd import Function
from groundup.testing import gradcheck

try:  # BLAS threads: optional (pip install threadpoolctl); 2 on the 2-core reference machine
    import threadpoolctl  # noqa: F401
except ImportError:
    pass
else:
    gu.set_num_threads(int(os.environ.get("GROUNDUP_NUM_THREADS", "2")))


# -------------------------------------------------------------- 1. a small expression, by hand
def expression() -> None:
    print("1. f(x, y) = x * y + sin(x) * exp(y)  at x = 2, y = -1")
    x = gu.tensor(2.0, dtype=gu.float64, requires_grad=True)
    y = gu.tensor(-1.0, dtype=gu.float64, requires_grad=True)
    f = x * y + x.sin() * y.exp()  # x is used twice: its two gradients add up
    f.backward()
    # by hand: df/dx = y + cos(x) * exp(y),  df/dy = x + sin(x) * exp(y)
    xv, yv = 2.0, -1.0
    dfdx = yv + math.cos(xv) * math.exp(yv)
    dfdy = xv + math.sin(xv) * math.exp(yv)
    print(f"   f     = {f.item():+.6f}")
    print(f"   df/dx = {x.grad.item():+.6f}   by hand y + cos(x) exp(y) = {dfdx:+.6f}")
    print(f"   df/dy = {y.grad.item():+.6f}   by hand x + sin(x) exp(y) = {dfdy:+.6f}")
    assert abs(x.grad.item() - dfdx) < 1e-12 and abs(y.grad.item() - dfdy) < 1e-12


# ----------------------------------------------------------------- 2. a custom op + gradcheck
class Cube(Function):
    """z = x**3;  dz/dx = 3 x**2."""

    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class WrongCube(Cube):
    """The same forward with a wrong derivative (2 x**2): gradcheck must catch it."""

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x**2


def custom_op() -> None:
    print("2. a custom op checked against central differences (float64)")
    x = gu.randn(3, 4, dtype=gu.float64, requires_grad=True)
    print(f"   gradcheck(Cube)      -> {gradcheck(Cube.apply, x)}")
    print(f"   gradcheck(WrongCube) -> {gradcheck(WrongCube.apply, x, raise_exception=False)}")


# ---------------------------------------------------------------- 3. a tiny MLP, raw tensors
def two_moons(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved half-circles with a little noise; labels 0 and 1."""
    half = n // 2
    t = gu.rand(n).numpy() * math.pi  # angles, drawn from groundup's seeded generator
    upper = np.stack([np.cos(t[:half]), np.sin(t[:half])], axis=1)
    lower = np.stack([1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])], axis=1)
    x = np.concatenate([upper, lower]) + 0.15 * gu.randn(n, 2).numpy()
    x = (x - np.array([0.5, 0.25], dtype=np.float32)) * 2  # centred, roughly unit scale
    y = np.concatenate([np.zeros(half), np.ones(n - half)]).astype(np.float32)
    return x.astype(np.float32), y[:, None]


def layer(fan_in: int, fan_out: int) -> tuple[gu.Tensor, gu.Tensor]:
    """A weight (fan_in, fan_out) scaled by 1/sqrt(fan_in), and a zero bias: both leaves."""
    w = (gu.randn(fan_in, fan_out) / math.sqrt(fan_in)).requires_grad_()
    b = gu.zeros(fan_out, requires_grad=True)
    return w, b


def bce_with_logits(z: gu.Tensor, y: gu.Tensor) -> gu.Tensor:
    """Binary cross-entropy on logits, averaged: -[y log s + (1 - y) log(1 - s)], s = sigmoid(z).

    That equals log(1 + e**z) - y z = max(z, 0) - y z + log(1 + e**-|z|); the last form never
    overflows, and autograd derives its gradient, sigmoid(z) - y, from the pieces.
    """
    return (z.relu() - z * y + (-z.abs()).exp().log1p()).mean()


def mlp() -> None:
    print("3. a 2-16-16-1 tanh network on two moons, full-batch gradient descent")
    x_np, y_np = two_moons(200)
    x, y = gu.tensor(x_np), gu.tensor(y_np)  # (200, 2), (200, 1)
    w1, b1 = layer(2, 16)
    w2, b2 = layer(16, 16)
    w3, b3 = layer(16, 1)
    params = [w1, b1, w2, b2, w3, b3]

    def forward(x: gu.Tensor) -> gu.Tensor:
        h = (x @ w1 + b1).tanh()  # (200, 16)
        h = (h @ w2 + b2).tanh()  # (200, 16)
        return h @ w3 + b3  # (200, 1) logits

    lr, steps = 0.5, 500
    for step in range(steps + 1):
        loss = bce_with_logits(forward(x), y)
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f}")
        if step == steps:
            break
        for p in params:
            p.grad = None
        loss.backward()
        with gu.no_grad():  # the update itself must not be recorded
            for p in params:
                p -= lr * p.grad
    with gu.no_grad():
        pred = forward(x) > 0
    accuracy = (pred == (y > 0.5)).float().mean().item()
    print(f"train accuracy {accuracy:.3f}")


if __name__ == "__main__":
    gu.manual_seed(0)
    expression()
    custom_op()
    mlp()
