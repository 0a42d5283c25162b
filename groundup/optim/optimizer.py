"""``Optimizer``: the base class every optimizer (``SGD``, ``Adam``, …) builds on, as in ``torch.optim``.

An optimizer holds

* ``param_groups``: a list of dicts, each with a ``"params"`` list and that group's options (``lr``,
  ``weight_decay``, …). Options missing from a group come from ``defaults``, the constructor's
  arguments, so ``SGD([{"params": body}, {"params": head, "lr": 0.1}], lr=0.01)`` trains the head
  ten times faster.
* ``state``: a dict from parameter to that parameter's running quantities (momentum buffer, Adam's
  moment estimates, the step count), created lazily on the parameter's first update.

A subclass writes only ``step()``: for every group, for every parameter that has a ``.grad``, apply
the update rule to the parameter's array in place. ``state_dict()`` swaps parameter objects for
their positions (0, 1, 2, … across groups) so a checkpoint can be loaded into a fresh optimizer
built over a fresh model, with the same layout PyTorch uses.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from groundup import dtypes as _dt
from groundup.autograd import enable_grad
from groundup.backend import xp
from groundup.tensor import Tensor

__all__ = ["Optimizer"]


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return "groundup.Tensor"
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _count_calls(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so the optimizer remembers it has stepped (``_opt_called``).

    Learning-rate schedulers read the flag to warn when ``scheduler.step()`` comes before the
    first ``optimizer.step()``, which silently skips the schedule's first value (PyTorch warns too).
    """

    @functools.wraps(step)
    def wrapper(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        self._opt_called = True
        return step(self, *args, **kwargs)

    return wrapper


def _check_lr(lr: Any) -> float:
    """Validate a learning rate as PyTorch does (negative → error); a 1-element Tensor becomes a float."""
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        lr = float(lr.item())
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    return lr


def _check_nonnegative(value: float, name: str) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def _check_betas(betas: tuple[float, float]) -> tuple[float, float]:
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    return betas


class Optimizer:
    """Base class of all optimizers: parameter groups, per-parameter state, checkpoints.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``model.named_parameters()``),
            or of dicts that each define a parameter group (``{"params": [...], "lr": 0.1}``).
        defaults: the default value of every option, used where a group does not set it.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _count_calls(cls.__dict__["step"])

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {_typename(params)}"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers while fine-tuning)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will "
                "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ the step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` re-evaluates and returns the loss."""
        raise NotImplementedError(f"{type(self).__name__} has no step(); define it in the subclass")

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Run ``closure`` (which computes the loss and calls backward) with grad recording on."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _gradient(p: Tensor, maximize: bool) -> Any:
        """The array to descend along: ``p.grad`` (or its negation, to maximize). Never written to."""
        g = p.grad.data
        return -g if maximize else g

    @staticmethod
    def _arrays(*items: Any) -> tuple[Any, ...]:
        """The arrays of Tensors (or arrays) to compute with, sharing memory: in-place ops write through.

        0-d ones come back as 1-element 1-d views, because NumPy turns 0-d results into scalars
        that ``out=`` cannot write into; with this every temporary of an update is an array.
        """
        arrays = (x.data if isinstance(x, Tensor) else xp.asarray(x) for x in items)
        return tuple(a if a.ndim else a[None] for a in arrays)

    @staticmethod
    def _zeros_like(p: Tensor) -> Tensor:
        """A state buffer shaped and typed like the parameter (float32 params keep float32 state)."""
        return Tensor._wrap(xp.zeros_like(p.data))

    @staticmethod
    def _scalar(value: float) -> Tensor:
        """A 0-d counter such as ``step``: float32, or float64 under a float64 default dtype (as PyTorch)."""
        dt = xp.float64 if _dt.get_default_dtype() == _dt.float64 else xp.float32
        return Tensor._wrap(xp.array(value, dtype=dt))

    @staticmethod
    def _increment(step: Tensor) -> float:
        """Add one to a ``step`` counter in place and return the new count as a Python float."""
        step.data += 1
        return float(step.data)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters (to None by default, as PyTorch).

        With ``set_to_none=False`` each ``.grad`` is zeroed in place instead.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are replaced by their position across all groups, so the dict holds no reference
        to the model. As in PyTorch the state Tensors are shared, not copied: ``copy.deepcopy`` the
        result (or save it) to freeze a snapshot while training continues.
        """
        index: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(p)] if isinstance(p, Tensor) else p): v for p, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` into this optimizer (built over the same layout of params).

        State Tensors are copied (and cast to their parameter's floating dtype, except ``step``), so
        the loaded optimizer never shares memory with the dict or the optimizer that produced it.
        """
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = {
            saved_id: p
            for s, g in zip(saved_groups, groups)
            for saved_id, p in zip(s["params"], g["params"])
        }

        def cast(param: Tensor, value: Any, key: Any = None) -> Any:
            if isinstance(value, Tensor):
                arr = value.data
                if key != "step" and param.data.dtype.kind == "f":
                    arr = arr.astype(param.data.dtype)
                return Tensor._wrap(xp.array(arr, copy=True))
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v

        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():  # dicts saved by older versions
                saved.setdefault(name, default)
        self.state = state
        self.param_groups = saved_groups

    # ------------------------------------------------------------------ pickling and printing
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"
