"""Bengio, Ducharme, Vincent & Jauvin (2003), "A Neural Probabilistic Language Model" (JMLR 3).

The first neural language model: predict word ``w_t`` from the ``n - 1`` words before it by looking each one
up in a shared table of learned feature vectors ``C`` (``|V| x m``), concatenating them into
``x`` (``(n-1)·m`` numbers) and applying one tanh hidden layer (the paper lists the context newest first,
``x = (C[w_{t-1}], ..., C[w_{t-n+1}])``; here it is in input order, oldest first, the same model up to a
permutation of the columns of ``H`` and ``W``)::

    y = b + W x + U tanh(d + H x)            P(w_t = i | context) = softmax(y)_i

with ``H`` (``h x (n-1)m``), ``d`` (``h``), ``U`` (``|V| x h``), ``b`` (``|V|``) and the optional *direct
connections* ``W`` (``|V| x (n-1)m``, or zero). The parameters number
``|V|·m + (n-1)·m·h + h + h·|V| + |V|``, plus ``(n-1)·m·|V|`` with direct connections. Because similar
words get similar vectors, probability mass generalises to word sequences never seen in training, which
is exactly where count-based n-grams fall back on smoothing.

In the paper's experiments (section 4) the best configurations, a network whose probabilities are averaged
with an interpolated trigram's, reach a test perplexity of 252 on the Brown corpus (800k training words,
|V| = 16,383) against 312 for the best smoothed or class-based n-gram, about 24% lower, and 109 on AP News (14M words,
|V| = 17,964) against 117 for the best n-gram (Kneser-Ney back-off), about 8% lower.

:func:`ngram_windows` turns a 1-D token stream into the training pairs (context, next token).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from groundup import nn
from groundup.creation import from_numpy
from groundup.tensor import Tensor

__all__ = ["NPLM", "ngram_windows"]


class NPLM(nn.Module):
    """Bengio et al.'s (2003) neural probabilistic LM: ``y = b + W x + U tanh(d + H x)`` (see the module docstring).

    ``forward(idx)`` maps contexts ``(B, n-1)`` of token ids (oldest first) to next-token logits ``(B, V)``;
    train with :func:`groundup.nn.functional.cross_entropy`.

    Args:
        vocab_size: ``|V|``.
        context: ``n - 1``, the number of previous tokens seen.
        n_embd: ``m``, the width of a word feature vector (rows of ``C``).
        n_hidden: ``h``, hidden units.
        direct: add the direct connections ``W x`` from the features to the output.
    """

    def __init__(
        self, vocab_size: int, context: int = 3, n_embd: int = 60, n_hidden: int = 100, direct: bool = False
    ) -> None:
        super().__init__()
        if isinstance(context, bool) or not isinstance(context, int) or context < 1:
            raise ValueError(f"NPLM: context (n - 1) must be an int >= 1, got {context!r}")
        self.context = context
        self.C = nn.Embedding(vocab_size, n_embd)  # the |V| x m table of word features
        self.H = nn.Linear(context * n_embd, n_hidden)  # H and its bias d
        self.U = nn.Linear(n_hidden, vocab_size)  # U and the output bias b
        self.W = nn.Linear(context * n_embd, vocab_size, bias=False) if direct else None

    def forward(self, idx: Tensor) -> Tensor:
        """Next-token logits ``(B, V)`` for contexts ``(B, n-1)``."""
        if not isinstance(idx, Tensor):
            raise TypeError(f"NPLM: expected ids as a groundup Tensor, got {type(idx).__name__}")
        if idx.ndim != 2 or idx.shape[1] != self.context:
            raise ValueError(
                f"NPLM: expected contexts of shape (B, {self.context}) (n - 1 = {self.context} previous tokens), "
                f"got shape {tuple(idx.shape)}"
            )
        x = self.C(idx).reshape(idx.shape[0], -1)  # (B, n-1, m) -> (B, (n-1)·m)
        y = self.U(self.H(x).tanh())  # (B, h) -> (B, V): b + U tanh(d + H x)
        if self.W is not None:
            y = y + self.W(x)  # (B, V) direct connections
        return y


def ngram_windows(token_ids: Tensor | np.ndarray | Sequence[int], context: int) -> tuple[Tensor, Tensor]:
    """Training pairs from a 1-D token stream: ``X[i] = ids[i : i + context]`` and ``Y[i] = ids[i + context]``.

    Returns ``X`` ``(N, context)`` and ``Y`` ``(N,)``, int64, with ``N = len(ids) - context``. The stream is
    taken as one sequence, as in Bengio et al. (2003), who trained on the concatenated corpus: to model
    sentence boundaries, join the sentences with an end token (e.g. ``"."`` or ``"<eos>"``); a window that
    straddles it then learns both where sentences end (``Y`` = end token) and how they begin (the end token
    in the context).
    """
    ids = token_ids.data if isinstance(token_ids, Tensor) else np.asarray(token_ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(
            f"ngram_windows: expected a 1-D stream of integer ids, got shape {tuple(ids.shape)} and dtype {ids.dtype}"
        )
    if isinstance(context, bool) or not isinstance(context, int) or context < 1:
        raise ValueError(f"ngram_windows: context must be an int >= 1, got {context!r}")
    if ids.shape[0] <= context:
        raise ValueError(
            f"ngram_windows: a stream of {ids.shape[0]} tokens has no window of {context} context tokens plus a "
            "target; it needs at least context + 1 tokens"
        )
    ids = ids.astype(np.int64)
    x = np.lib.stride_tricks.sliding_window_view(ids[:-1], context).copy()  # (N, context)
    y = ids[context:].copy()  # (N,)
    return from_numpy(x), from_numpy(y)
