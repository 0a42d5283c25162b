"""Reverse-mode automatic differentiation: grad mode, ``Function``, and the backward engine.

Every differentiable primitive is a :class:`Function` subclass with a ``forward(ctx, *arrays)``
that computes the result from plain arrays and a ``backward(ctx, grad)`` that maps the gradient of
the loss with respect to the output to gradients with respect to each input (the vector-Jacobian
product). :meth:`Function.apply` is the only place that records graph nodes.

``Tensor.backward`` calls :func:`backward` here: it orders the graph topologically with an
iterative depth-first search (no recursion, so a chain of 100,000 ops works), walks it in reverse,
sums the gradients of nodes that are used more than once, and frees the graph afterwards unless
``retain_graph=True``. See ``docs/autograd.md`` for the derivations.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from groundup.backend import xp

if TYPE_CHECKING:
    from groundup.tensor import Tensor

# ----------------------------------------------------------------------------------- grad mode
_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether ops are being recorded for backward."""
    return _grad_enabled


class _GradModeContext:
    """Base of :class:`no_grad` and :class:`enable_grad`: context manager and decorator."""

    mode = True

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            global _grad_enabled
            prev = _grad_enabled
            _grad_enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_enabled = prev

        return wrapper


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off: a function call, a context manager and a decorator, as in PyTorch."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.mode = bool(mode)
        self.prev = _grad_enabled
        _grad_enabled = self.mode  # takes effect at once, so a plain call works

    def __enter__(self) -> None:
        return None  # already switched by __init__; __exit__ restores

    def __call__(self, fn: Callable) -> Callable:
        global _grad_enabled
        _grad_enabled = self.prev  # used as a decorator: change nothing until fn runs
        return super().__call__(fn)


class no_grad(_GradModeContext):
    """Do not record ops (inference, parameter updates). ``with no_grad():`` or ``@no_grad()``."""

    mode = False


class enable_grad(_GradModeContext):
    """Record ops again inside a ``no_grad`` region."""

    mode = True


# ---------------------------------------------------------------------------------- broadcast
def unbroadcast(grad, shape: tuple[int, ...]):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting.

    Broadcasting prepends axes and stretches size-1 axes; a value used along a stretched axis
    contributed to every position there, so its gradient is the sum over that axis. Extra leading
    axes are summed away, then size-1 axes are summed with ``keepdims``.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


# ----------------------------------------------------------------------------------- Function
class Function:
    """A differentiable primitive. Subclasses define ``forward`` and ``backward``.

    ``forward(ctx, *arrays, **options)`` receives the ``.data`` arrays of the tensor arguments (the
    positional ones) plus non-differentiable keyword options, stores what backward needs on
    ``ctx`` (``ctx.save_for_backward(...)`` or plain attributes), and returns an array.
    ``backward(ctx, grad)`` returns one gradient array per positional input (a single array when
    there is one input), or ``None`` where an input needs none; ``ctx.needs_input_grad[i]`` says
    which do. The instance itself is the ``ctx`` and becomes the output's ``grad_fn``.
    """

    __slots__ = ("parents", "needs_input_grad", "saved_tensors_", "_versions", "__dict__")

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def backward(self, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    # ---- saving for backward
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they are released when the graph is freed."""
        self.saved_tensors_ = arrays

    @property
    def saved_tensors(self) -> tuple:
        try:
            return self.saved_tensors_
        except AttributeError:
            raise RuntimeError(_freed_message(self)) from None

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    # ---- recording
    @classmethod
    def apply(cls, *inputs: Tensor, **kwargs: Any) -> Tensor:
        """Run ``forward`` on the inputs' arrays and, if grad is needed, record the node."""
        from groundup.tensor import Tensor

        ctx = cls.__new__(cls)
        ctx.needs_input_grad = needs = tuple(t.requires_grad for t in inputs)
        out = ctx.forward(*[t.data for t in inputs], **kwargs)
        if type(out) is not xp.ndarray:  # NumPy returns scalars for 0-d results
            out = xp.asarray(out)
        result = Tensor.__new__(Tensor)
        result.data = out
        result.grad = None
        result._vc = _version_counter(out, inputs)
        result._hooks = None
        if _grad_enabled and True in needs:
            ctx.parents = inputs
            ctx._versions = tuple(t._vc[0] for t in inputs)
            result.requires_grad = True
            result._ctx = ctx
            if not out.dtype.kind == "f":
                raise TypeError(f"{cls.__name__}: a differentiable op returned non-float dtype {out.dtype}")
        else:
            result.requires_grad = False
            result._ctx = None
        return result


def _version_counter(out: Any, inputs: tuple) -> list[int]:
    """A view of an input's memory shares that input's version counter; anything else gets a new one.

    NumPy points every view's ``base`` at the array that owns the memory, so a view is recognised
    by comparing owners. Sharing the counter makes an in-place write through a view visible to
    backward, as PyTorch's shared version counters do.
    """
    owner = getattr(out, "base", None)
    if owner is not None:
        for t in inputs:
            d = t.data
            if d is owner or d.base is owner:
                return t._vc
    return [0]


def _freed_message(ctx: Function) -> str:
    return (
        f"Trying to backward through the graph a second time (through {type(ctx).__name__}), or to "
        "use its saved values after they were freed. The graph is freed after .backward() to save "
        "memory; call .backward(retain_graph=True) the first time if you need to backward again."
    )


# ------------------------------------------------------------------------------------- engine
def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` through recorded nodes, each after all its consumers.

    Iterative post-order depth-first search: a node is appended once all of its parents are;
    reversing the list gives an order where every tensor comes before the tensors it was made from.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        # mark a node when it is expanded, not when it is pushed: a node pushed early (say as a
        # direct input of root) but also reachable through a longer path must be finished on
        # that longer path, after the consumers on it, or its gradient would be incomplete
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        ctx = t._ctx
        if ctx is not None:
            try:
                parents = ctx.parents
            except AttributeError:
                raise RuntimeError(_freed_message(ctx)) from None
            for p in parents:
                if p._ctx is not None and id(p) not in visited:
                    stack.append((p, False))
    return order


def backward(root: Tensor, grad: Any, retain_graph: bool = False, exclusive: bool = False) -> None:
    """Accumulate d(root)/d(leaf) * grad into the ``.grad`` of every leaf that requires grad.

    ``grads`` maps each tensor to its gradient so far and whether the engine is its only holder
    ("exclusive"): only then may it be summed into in place or handed to a leaf without a copy, so
    that no ``.grad`` ever aliases another array or the caller's upstream gradient.
    """
    order = _topological_order(root)
    grads: dict[int, tuple[Any, bool]] = {id(root): (grad, exclusive)}
    leaves: dict[int, Tensor] = {}
    if root._ctx is None:  # backward on a leaf
        _accumulate_leaf(root, grad, exclusive)
        return
    for t in reversed(order):
        entry = grads.pop(id(t), None)
        if entry is None:
            continue
        g, g_excl = entry
        if t._hooks:
            g, g_excl = _run_hooks(t, g, g_excl)
        if getattr(t, "_retains_grad", False):
            _accumulate_leaf(t, g, False)
        ctx = t._ctx
        if t._ctx is None:
            continue
        parents = ctx.parents
        for p, v in zip(parents, ctx._versions):
            if p._vc[0] != v:
                raise RuntimeError(
                    f"{ctx.name}: one of its inputs (shape {tuple(p.shape)}, {p.dtype}) was modified "
                    f"in place after the op was recorded (version {v} -> {p._version}); backward "
                    "needs its original value. Use an out-of-place op, or clone() before modifying."
                )
        in_grads = ctx.backward(g)
        if len(parents) == 1 or not isinstance(in_grads, (tuple, list)):
            in_grads = (in_grads,)
        if len(in_grads) != len(parents):
            raise RuntimeError(
                f"{ctx.name}.backward returned {len(in_grads)} gradients for {len(parents)} inputs"
            )
        seen: list[int] = []
        for p, gi in zip(parents, in_grads):
            if gi is None or not p.requires_grad:
                continue
            if type(gi) is not xp.ndarray:
                gi = xp.asarray(gi)
            if gi.shape != p.data.shape:
                raise RuntimeError(
                    f"{ctx.name}.backward returned a gradient of shape {gi.shape} for an input of "
                    f"shape {p.data.shape}"
                )
            if gi.dtype != p.data.dtype:
                gi = gi.astype(p.data.dtype)
            excl = gi.base is None and id(gi) not in seen and (gi is not g or g_excl)
            seen.append(id(gi))
            if p._ctx is None:
                leaves[id(p)] = p
            old = grads.get(id(p))
            if old is None:
                grads[id(p)] = (gi, excl)
            elif old[1]:
                old[0].__iadd__(gi)
            else:
                total = old[0] + gi
                grads[id(p)] = (total if type(total) is xp.ndarray else xp.asarray(total), True)
        if not retain_graph:
            _free(ctx)
    # leaves last: their hooks see the total gradient once, as in PyTorch
    for key, t in leaves.items():
        g, excl = grads.pop(key)
        _accumulate_leaf(t, g, excl)


def _free(ctx: Function) -> None:
    """Drop a node's references to its inputs and saved values so memory can be reclaimed."""
    ctx.__dict__.clear()
    for slot in ("parents", "saved_tensors_"):
        try:
            delattr(ctx, slot)
        except AttributeError:
            pass


def _run_hooks(t: Tensor, g: Any, excl: bool) -> tuple[Any, bool]:
    from groundup.tensor import Tensor

    for hook in list(t._hooks.values()):
        out = hook(Tensor._wrap(g))
        if out is not None:
            out_data = out.data if isinstance(out, Tensor) else xp.asarray(out)
            if out_data.shape != g.shape:
                raise RuntimeError(
                    f"hook returned a gradient of shape {out_data.shape}, expected {g.shape}"
                )
            g, excl = out_data.astype(g.dtype, copy=False), False
    return g, excl


def _accumulate_leaf(t: Tensor, g: Any, exclusive: bool) -> None:
    """Add ``g`` into ``t.grad``; copy first unless the engine is the array's only holder."""
    from groundup.tensor import Tensor

    if t._hooks and t._ctx is None:
        g, exclusive = _run_hooks(t, g, exclusive)
    if t.grad is None:
        t.grad = Tensor._wrap(g if exclusive else g.copy())
    else:
        t.grad = Tensor._wrap(t.grad.data + g)
