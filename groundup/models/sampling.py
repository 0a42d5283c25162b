"""Decoding strategies for language models: temperature, top-k and top-p (nucleus) sampling.

A language model gives, for the next position, a vector of logits ``z`` over a vocabulary of ``V``
tokens. Sampling turns it into one token id:

* **temperature** ``T`` reshapes the distribution, ``p_i ∝ exp(z_i / T)``: ``T < 1`` sharpens it
  towards the most likely token (``T -> 0`` is greedy argmax), ``T > 1`` flattens it towards uniform.
* **top-k** (Fan et al. 2018) keeps only the ``k`` largest logits, so a long tail of individually
  unlikely tokens can never be drawn.
* **top-p** or nucleus sampling (Holtzman et al. 2020, "The Curious Case of Neural Text
  Degeneration") keeps the smallest set of most probable tokens whose total probability reaches
  ``p``; unlike top-k the number kept adapts to how peaked the distribution is.

Filtered tokens get the logit ``-inf``, hence probability exactly 0 after the softmax. The order is
that of Hugging Face's ``generate``: temperature, then top-k, then top-p. :func:`generate` runs the
autoregressive loop for both stateful models (RNNs: carry the state, feed the last token) and
stateless ones (transformers: feed the cropped context). Everything here runs on arrays without autograd.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from groundup.autograd import no_grad
from groundup.backend import Generator
from groundup.creation import multinomial
from groundup.tensor import Tensor

__all__ = ["apply_temperature", "generate", "sample_next", "top_k_filter", "top_p_filter"]


def _logits_array(fn: str, logits: Any) -> np.ndarray:
    """The logits' array, checked: a floating Tensor of rank >= 1 with no NaN or +inf."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"{fn}: expected logits as a groundup Tensor, got {type(logits).__name__}")
    z = logits.data
    if z.ndim == 0:
        raise ValueError(f"{fn}: logits must have shape (..., V) with rank >= 1, got a rank-0 tensor")
    if not np.issubdtype(z.dtype, np.floating):
        raise TypeError(f"{fn}: logits must be floating point, got dtype {z.dtype}")
    if z.shape[-1] == 0:
        raise ValueError(f"{fn}: logits have an empty vocabulary dimension (shape {tuple(z.shape)})")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError(f"{fn}: logits of shape {tuple(z.shape)} contain NaN or +inf")
    return z


def _check_int(fn: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _check_p(fn: str, p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{fn}: p must be a float, got {type(p).__name__}")
    if not 0.0 < p <= 1.0:
        raise ValueError(f"{fn}: p must lie in (0, 1], got {p}")
    return float(p)


def _check_temperature(fn: str, t: Any, allow_zero: bool) -> float:
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{fn}: temperature must be a float, got {type(t).__name__}")
    if not math.isfinite(t) or t < 0 or (t == 0 and not allow_zero):
        rule = ">= 0 (0 means greedy)" if allow_zero else "> 0"
        raise ValueError(f"{fn}: temperature must be finite and {rule}, got {t}")
    return float(t)


def apply_temperature(logits: Tensor, t: float) -> Tensor:
    """``logits / t``: the softmax of the result is ``p_i ∝ exp(z_i / t)``.

    ``t > 1`` flattens the distribution, ``t < 1`` sharpens it; ``t`` must be > 0 (greedy decoding,
    the ``t -> 0`` limit, is ``sample_next(..., temperature=0)``).
    """
    z = _logits_array("apply_temperature", logits)
    t = _check_temperature("apply_temperature", t, allow_zero=False)
    return Tensor._wrap((z / t).astype(z.dtype, copy=False))


def _top_k(z: np.ndarray, k: int) -> np.ndarray:
    k = min(k, z.shape[-1])
    kth = -np.sort(-z, axis=-1)[..., k - 1 : k]  # (..., 1) the k-th largest logit
    return np.where(z < kth, -np.inf, z).astype(z.dtype, copy=False)


def top_k_filter(logits: Tensor, k: int) -> Tensor:
    """Set every logit below the ``k``-th largest of its row to ``-inf``.

    Ties at the ``k``-th value are all kept (as nanoGPT and Hugging Face's ``TopKLogitsWarper``
    do), so a row may keep more than ``k`` tokens. ``k`` larger than the vocabulary keeps everything.

    Args:
        logits: ``(..., V)`` floating tensor.
        k: number of tokens to keep, >= 1.
    """
    z = _logits_array("top_k_filter", logits)
    k = _check_int("top_k_filter", "k", k, 1)
    return Tensor._wrap(_top_k(z, k))


def _softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in float64; ``-inf`` logits get probability exactly 0."""
    z = z.astype(np.float64)
    m = z.max(axis=-1, keepdims=True)  # (..., 1) finite unless the whole row is -inf
    e = np.exp(z - m)  # exp(-inf) == 0 exactly
    return e / e.sum(axis=-1, keepdims=True)


def _top_p(z: np.ndarray, p: float, min_tokens_to_keep: int) -> np.ndarray:
    if p >= 1.0:
        return z.copy()
    probs = _softmax(z)  # (..., V)
    order = np.argsort(-z, axis=-1, kind="stable")  # (..., V) most likely first, ties by lower index
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass of the strictly better-ranked tokens
    keep_sorted = before < p  # the token that crosses p still sees before < p, so it is kept
    keep_sorted[..., :min_tokens_to_keep] = True
    keep = np.empty_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return np.where(keep, z, -np.inf).astype(z.dtype, copy=False)


def top_p_filter(logits: Tensor, p: float, min_tokens_to_keep: int = 1) -> Tensor:
    """Nucleus filtering: keep the smallest set of most probable tokens whose probability sums to >= ``p``.

    Tokens are ranked by probability; a token is kept when the mass of the tokens ranked above it is
    still below ``p``, so the token that crosses ``p`` is kept (as Hugging Face's
    ``TopPLogitsWarper``). Tied tokens are ranked by lower index first; the ``min_tokens_to_keep``
    best tokens are always kept; ``p = 1`` keeps everything.

    Args:
        logits: ``(..., V)`` floating tensor.
        p: cumulative probability to reach, in (0, 1].
        min_tokens_to_keep: lower bound on the number of tokens kept per row, >= 1.
    """
    z = _logits_array("top_p_filter", logits)
    p = _check_p("top_p_filter", p)
    min_tokens_to_keep = _check_int("top_p_filter", "min_tokens_to_keep", min_tokens_to_keep, 1)
    return Tensor._wrap(_top_p(z, p, min_tokens_to_keep))


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: Generator | None = None,
) -> Tensor:
    """Draw one token id per row of ``logits`` (``(..., V)``); returns int64 ids of shape ``(...)``.

    Applies the temperature, then top-k, then top-p, and samples from the softmax of what is left
    with :func:`groundup.multinomial` (so ``generator`` makes the draws repeatable).
    ``temperature=0`` is greedy decoding: the argmax (the lowest index among ties), no randomness.
    """
    z = _logits_array("sample_next", logits)
    temperature = _check_temperature("sample_next", temperature, allow_zero=True)
    if top_k is not None:
        top_k = _check_int("sample_next", "top_k", top_k, 1)
    if top_p is not None:
        top_p = _check_p("sample_next", top_p)
    if np.isneginf(z).all(axis=-1).any():
        raise ValueError(f"sample_next: some row of the logits (shape {tuple(z.shape)}) is all -inf")
    if temperature == 0.0:
        return Tensor._wrap(z.argmax(axis=-1).astype(np.int64))
    z = z.astype(np.float64) / temperature
    if top_k is not None:
        z = _top_k(z, top_k)
    if top_p is not None:
        z = _top_p(z, top_p, 1)
    probs = _softmax(z).reshape(-1, z.shape[-1])  # (N, V)
    ids = multinomial(Tensor._wrap(probs), 1, replacement=True, generator=generator).data  # (N, 1)
    return Tensor._wrap(ids.reshape(z.shape[:-1]).astype(np.int64))


def generate(
    model_step: Callable[[Tensor, Any], tuple[Tensor, Any]],
    prompt_ids: Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: Generator | None = None,
    stop_token: int | None = None,
) -> Tensor:
    """Autoregressive generation: repeatedly ask ``model_step`` for the next logits and sample a token.

    ``model_step(ids_so_far, state) -> (logits_last, state)`` gets the prompt plus the tokens drawn
    so far (``(..., T)`` int64) and the state it returned last time (``None`` on the first call), and
    returns the logits for the next token (``(..., V)``). A stateful RNN feeds the whole prompt when
    ``state is None`` and afterwards only ``ids_so_far[..., -1:]``; a transformer ignores the state
    and feeds ``ids_so_far[..., -block_size:]``. Runs under :class:`groundup.no_grad`.

    Stops after ``max_new_tokens`` tokens, or once every sequence has produced ``stop_token`` (which
    is included; a sequence that stopped early is padded with ``stop_token``). Returns the new ids,
    ``(..., n_new)`` int64, without the prompt.
    """
    fn = "generate"
    if not isinstance(prompt_ids, Tensor):
        raise TypeError(f"{fn}: expected prompt_ids as a groundup Tensor, got {type(prompt_ids).__name__}")
    ids = prompt_ids.data
    if ids.ndim == 0 or ids.shape[-1] == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"{fn}: prompt_ids must be integer ids of shape (..., T) with T >= 1, "
            f"got shape {tuple(ids.shape)} and dtype {ids.dtype}"
        )
    max_new_tokens = _check_int(fn, "max_new_tokens", max_new_tokens, 0)
    if stop_token is not None:
        stop_token = _check_int(fn, "stop_token", stop_token, 0)
    batch = ids.shape[:-1]
    ids = ids.astype(np.int64)
    done = np.zeros(batch, dtype=bool)
    state = None
    new: list[np.ndarray] = []
    with no_grad():
        for _ in range(max_new_tokens):
            logits, state = model_step(Tensor._wrap(ids), state)
            if not isinstance(logits, Tensor) or logits.ndim != len(batch) + 1 or logits.shape[:-1] != batch:
                got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
                raise ValueError(f"{fn}: model_step must return logits of shape {batch + ('V',)}, got {got}")
            nxt = sample_next(logits, temperature, top_k, top_p, generator).data  # (...)
            if stop_token is not None:
                nxt = np.where(done, stop_token, nxt)
                done |= nxt == stop_token
            new.append(nxt)
            ids = np.concatenate([ids, nxt[..., None]], axis=-1)  # (..., T + 1)
            if stop_token is not None and done.all():
                break
    out = np.stack(new, axis=-1) if new else np.zeros((*batch, 0), dtype=np.int64)  # (..., n_new)
    return Tensor._wrap(out.astype(np.int64))
