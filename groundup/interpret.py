"""Look inside a trained network: the activations of chosen layers, and which input pixels matter.

* :func:`feature_maps` records the outputs of named sub-modules during one forward pass, with
  forward hooks (``Module.register_forward_hook``) that are removed again afterwards.
* :func:`saliency` is the gradient of a class score with respect to the input (Simonyan, Vedaldi &
  Zisserman, "Deep Inside Convolutional Networks: Visualising Image Classification Models and
  Saliency Maps", ICLR workshop 2014): a first-order Taylor expansion ``S_c(x + δ) ≈ S_c(x) + w·δ``
  with ``w = ∂S_c/∂x`` says how much each pixel would change the score, so ``|w|`` (the largest
  over colour channels) is a map of the pixels the class depends on most, near this input.
* :func:`gradient_x_input` (Shrikumar et al. 2016) multiplies that gradient by the input, and
  :func:`smooth_grad` (Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017) averages
  the gradient over noisy copies of the input, which makes the map less speckled.

Every function runs the model in evaluation mode (dropout off, batch norm on its running
statistics), restores each sub-module's own mode afterwards, and leaves the parameters'
``requires_grad`` flags and ``.grad`` fields as it found them. The maths and pictures are in
``docs/visualization.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import groundup as gu
from groundup import nn
from groundup.tensor import Tensor

__all__ = ["feature_maps", "input_gradient", "saliency", "gradient_x_input", "smooth_grad"]


@contextmanager
def _inspecting(model: nn.Module, freeze: bool) -> Iterator[None]:
    """Run ``model`` in eval mode (and with frozen parameters if ``freeze``), then put every
    sub-module's mode and every parameter's ``requires_grad`` back exactly as they were.

    Freezing the parameters means a backward pass computes only the input's gradient: it is
    cheaper, and it leaves the ``.grad`` that a training loop may have accumulated untouched.
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    if freeze:
        for p, _ in flags:
            p.requires_grad_(False)
    try:
        yield
    finally:
        for m, training in modes:
            object.__setattr__(m, "training", training)
        for p, flag in flags:
            p.requires_grad_(flag)


def _check_model(fn: str, model: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fn}: model must be a groundup.nn.Module, got {type(model).__name__}")


def _check_input(fn: str, x: Any, floating: bool = True) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: x must be a groundup Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{fn}: x must be a batch (N, ...) with N first, got shape {tuple(x.shape)}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{fn}: x must be floating point (the gradient is taken with respect to it), got {x.dtype}")
    return x


def feature_maps(model: nn.Module, x: Tensor, layers: str | Sequence[str]) -> dict[str, Tensor]:
    """The outputs of the sub-modules named in ``layers`` when ``model(x)`` runs, by name.

    Names are those of ``model.named_modules()`` (for ``LeNet5``: ``"features.0"`` is C1,
    ``"features.2"`` the first pooling). The forward pass runs in eval mode under ``no_grad``; a
    forward hook on each named module keeps its output, and every hook is removed afterwards, even
    if the forward pass fails. The dict follows the order of ``layers``; for a convolution the maps
    have shape ``(N, C_out, H_out, W_out)``. Each module must run exactly once in the forward pass.
    """
    _check_model("feature_maps", model)
    _check_input("feature_maps", x, floating=False)  # token ids are fine: nothing is differentiated
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError("feature_maps: layers is empty; name at least one sub-module")
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ValueError(f"feature_maps: {type(model).__name__} has no sub-module(s) {unknown}; "
                         f"its sub-modules are {[n for n in modules if n]}")
    captured: dict[str, list[Any]] = {n: [] for n in names}

    def keep(name: str) -> Callable[[nn.Module, tuple, Any], None]:
        def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
            captured[name].append(output)
        return hook

    handles = [modules[n].register_forward_hook(keep(n)) for n in names]
    try:
        with _inspecting(model, freeze=False), gu.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    out: dict[str, Tensor] = {}
    for n in names:
        calls = captured[n]
        if len(calls) != 1:
            raise ValueError(f"feature_maps: sub-module {n!r} ran {len(calls)} times in one forward pass; "
                             "its maps are only well defined for a module that runs exactly once")
        if not isinstance(calls[0], Tensor):
            raise TypeError(f"feature_maps: sub-module {n!r} returned {type(calls[0]).__name__}, not a Tensor")
        out[n] = calls[0]
    return out


def _targets(fn: str, target: int | Sequence[int] | Tensor | None, logits: Tensor) -> Tensor:
    """The class to explain for each of the N samples, as an int64 (N,) tensor."""
    if logits.ndim != 2:
        raise ValueError(f"{fn}: the model must return (N, num_classes) scores, got shape {tuple(logits.shape)}")
    n, k = logits.shape
    if target is None:
        return logits.detach().argmax(dim=1)  # explain the predicted class
    if isinstance(target, Tensor):
        t = target.detach().long().reshape(-1)
    else:
        t = gu.tensor([target] * n if isinstance(target, int) else list(target)).long().reshape(-1)
    if t.shape[0] != n:
        raise ValueError(f"{fn}: {t.shape[0]} target(s) for a batch of {n} inputs; give one per input or one int")
    if bool((t < 0).any()) or bool((t >= k).any()):
        raise ValueError(f"{fn}: target classes must lie in [0, {k}), got {t.tolist()}")
    return t


def input_gradient(model: nn.Module, x: Tensor, target: int | Sequence[int] | Tensor | None = None) -> Tensor:
    """``∂ S_c(x_n) / ∂ x_n`` for each input ``x_n``: the gradient of its class score, same shape as ``x``.

    ``S`` is the model's output before any softmax (the logits). ``target`` picks the class ``c``
    per input: ``None`` uses the predicted class, an int the same class for all, a sequence one
    class each. Scores of different inputs do not interact (in eval mode), so one backward pass
    through ``sum_n S_{c_n}(x_n)`` gives every input its own gradient.
    """
    _check_model("input_gradient", model)
    x = _check_input("input_gradient", x)
    leaf = x.detach().clone().requires_grad_(True)
    with _inspecting(model, freeze=True), gu.enable_grad():
        logits = model(leaf)  # (N, K)
        t = _targets("input_gradient", target, logits)
        score = logits[gu.arange(logits.shape[0]), t].sum()  # sum_n S_{c_n}(x_n)
        score.backward()
    return leaf.grad if leaf.grad is not None else gu.zeros_like(x)


def _max_over_channels(a: Tensor) -> Tensor:
    """``(N, C, H, W) -> (N, H, W)``: the largest value over channels; ``(N, D)`` stays as it is."""
    return a.amax(dim=1) if a.ndim >= 3 else a


def saliency(model: nn.Module, x: Tensor, target: int | Sequence[int] | Tensor | None = None) -> Tensor:
    """Simonyan et al.'s saliency map: ``max_channel |∂ S_c / ∂ x|``, shape ``(N, H, W)`` for images.

    For an ``(N, C, H, W)`` batch the absolute gradient is maxed over the C channels (one map per
    image); an ``(N, D)`` batch of vectors gives ``(N, D)``. ``target`` as :func:`input_gradient`.
    A pixel that cannot change the score (masked out, or outside every receptive field) gets 0.
    """
    return _max_over_channels(input_gradient(model, x, target).abs())


def gradient_x_input(model: nn.Module, x: Tensor, target: int | Sequence[int] | Tensor | None = None) -> Tensor:
    """``x · ∂ S_c / ∂ x`` summed over channels (Shrikumar et al. 2016), signed, ``(N, H, W)`` for images.

    For a linear model ``S_c = w·x + b`` it splits the score exactly: the map sums to ``S_c − b``.
    It is zero wherever the input is 0, so it depends on how the input is scaled (standardised
    MNIST's black background is −0.42, not 0).
    """
    a = input_gradient(model, x, target) * x
    return a.sum(dim=1) if a.ndim >= 3 else a


def smooth_grad(
    model: nn.Module,
    x: Tensor,
    target: int | Sequence[int] | Tensor | None = None,
    *,
    samples: int = 25,
    noise: float = 0.15,
    generator: gu.Generator | None = None,
) -> Tensor:
    """SmoothGrad (Smilkov et al. 2017): the saliency of the gradient averaged over noisy inputs.

    Averages ``∂ S_c / ∂ x`` at ``samples`` copies ``x + ε``, ``ε ~ N(0, σ²)`` with ``σ = noise ·
    (max x_n − min x_n)`` per input, then takes ``max_channel |·|`` as :func:`saliency`. The class
    is fixed beforehand (from the clean input when ``target`` is None). ``noise=0`` gives
    :func:`saliency` exactly. Pass a seeded ``generator`` for a repeatable map.
    """
    _check_model("smooth_grad", model)
    x = _check_input("smooth_grad", x)
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"smooth_grad: samples must be a positive int, got {samples!r}")
    if noise < 0:
        raise ValueError(f"smooth_grad: noise must be >= 0, got {noise}")
    if target is None:
        with _inspecting(model, freeze=True), gu.no_grad():
            target = model(x).argmax(dim=1)
    flat = x.detach().reshape(x.shape[0], -1)  # (N, D)
    sigma = (noise * (flat.amax(dim=1) - flat.amin(dim=1))).reshape(-1, *([1] * (x.ndim - 1)))  # (N, 1, ...)
    total = gu.zeros_like(x)
    for _ in range(samples):
        total = total + input_gradient(model, x + sigma * gu.randn(*x.shape, generator=generator), target)
    return _max_over_channels((total / samples).abs())
