"""Count-based n-gram language models: add-k and interpolated Kneser-Ney smoothing (Chen & Goodman 1998).

An n-gram model predicts token ``w`` from the ``n - 1`` tokens before it, the *context* ``h``. Each training
sequence is padded with ``n - 1`` begin tokens ``bos`` and one end token ``eos``, so every real token and the
end of every sequence is predicted (``bos`` itself never is). ``c(h w)`` is how often ``w`` followed ``h``,
``c(h) = sum_w c(h w)``, ``V`` the prediction vocabulary (training tokens, ``eos`` and ``unk``).

Add-k (Lidstone; Laplace for k = 1), on the top order only::

    P(w | h) = (c(h w) + k) / (c(h) + k |V|)

Interpolated Kneser-Ney (Chen & Goodman 1998, section 3; Jurafsky & Martin, 3rd ed., ch. 3), recursively
from the empty context (the uniform distribution) up to the full context::

    P_m(w | h) = max(a_m(h w) - D_m, 0) / sum_v a_m(h v)  +  lambda_m(h) P_{m-1}(w | h')
    lambda_m(h) = D_m N1+(h .) / sum_v a_m(h v),        P_0(w) = 1 / |V|

where ``h'`` drops the oldest token of ``h``. The top order (m = n) uses raw counts ``a_n = c``; lower orders use
*continuation counts* ``a_m(h w) = N1+(. h w)``, the number of distinct tokens seen before ``h w``: a word that is
frequent but only after one context ("Francisco" after "San") gets little lower-order mass. ``N1+(h .)`` is the
number of distinct ``w`` with ``a_m(h w) > 0``. A context never seen at order m has ``lambda = 1`` (the
order is skipped). With 0 < D < 1 every token of ``V`` gets probability > 0 and each ``P_m(. | h)`` sums to 1.
``discount=None`` estimates one discount per order from that order's count-of-counts (Ney, Essen & Kneser 1994;
Chen & Goodman eq. 26): ``D_m = n1 / (n1 + 2 n2)``, clipped to [0.05, 0.95] so tiny corpora stay valid.

Unknown tokens: tokens not in the vocabulary map to ``unk`` (which is always in ``V`` and, unless it occurs in
training, gets only smoothing mass); ``min_count`` replaces rare training tokens by ``unk`` so that it is
learned. With ``unk=None`` an unknown token is an error.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

import numpy

from groundup.backend import Generator, rng

__all__ = ["NGramLM"]

_SMOOTHINGS = ("add_k", "kneser_ney")


class NGramLM:
    """An n-gram language model over any hashable tokens (characters, words, integer ids).

    ``NGramLM(3, smoothing="kneser_ney").fit([["to", "be"], ["or", "not"]])`` trains a trigram model on two
    sentences; pass a single long stream as ``[tokens]``. See the module docstring for the formulas.

    Args:
        n: order (1 = unigram). Contexts are the ``n - 1`` previous tokens.
        smoothing: ``"add_k"`` or ``"kneser_ney"`` (interpolated).
        k: pseudo-count of add-k smoothing, > 0.
        discount: Kneser-Ney discount in (0, 1): one float for every order, a sequence of ``n`` floats
            (unigram order first), or ``None`` to estimate ``D_m = n1 / (n1 + 2 n2)`` per order.
        bos, eos: begin / end-of-sequence tokens (must not occur in the data).
        unk: the unknown-token symbol, or ``None`` to reject unknown tokens.
    """

    def __init__(
        self,
        n: int,
        smoothing: str = "add_k",
        k: float = 1.0,
        discount: float | Sequence[float] | None = 0.75,
        bos: Hashable = "<s>",
        eos: Hashable = "</s>",
        unk: Hashable | None = "<unk>",
    ) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"NGramLM: n must be an int >= 1, got {n!r}")
        if smoothing not in _SMOOTHINGS:
            raise ValueError(f"NGramLM: smoothing must be one of {_SMOOTHINGS}, got {smoothing!r}")
        if not k > 0:
            raise ValueError(f"NGramLM: add-k pseudo-count k must be > 0, got {k!r}")
        ds = None
        if discount is not None:
            ds = [discount] * n if isinstance(discount, (int, float)) else list(discount)
            if len(ds) != n:
                raise ValueError(f"NGramLM: expected {n} per-order discounts, got {len(ds)}")
            if not all(0 < d < 1 for d in ds):
                raise ValueError(f"NGramLM: discounts must lie in (0, 1), got {ds}")
        if len({bos, eos, unk}) != 3:
            raise ValueError(f"NGramLM: bos, eos and unk must differ, got {bos!r}, {eos!r}, {unk!r}")
        self.n, self.smoothing, self.k = n, smoothing, float(k)
        self.bos, self.eos, self.unk = bos, eos, unk
        self._given_discounts = None if ds is None else [float(d) for d in ds]  # None: estimate them in fit
        self.discounts: list[float] = []  # D_1 .. D_n after fit (Kneser-Ney only)
        self.vocab: list[Hashable] = []  # prediction vocabulary V, in a fixed order
        self._index: dict[Hashable, int] = {}
        # _tables[m - 1][h] = {w: a_m(h w)} for contexts h of length m - 1; _totals[m - 1][h] = sum_w a_m(h w).
        self._tables: list[dict[tuple, dict[Hashable, int]]] = []
        self._totals: list[dict[tuple, int]] = []

    # ------------------------------------------------------------------------------------------ training
    def fit(self, sequences: Iterable[Sequence[Hashable]], vocab: Iterable[Hashable] = (),
            min_count: int = 1) -> NGramLM:
        """Count n-grams in ``sequences`` (a list of token sequences) and return ``self``.

        ``vocab`` adds tokens to ``V`` even if unseen (e.g. a tokenizer's full vocabulary, so that two models
        are compared over the same ``V``). Training tokens seen fewer than ``min_count`` times become ``unk``.
        """
        if isinstance(sequences, str):
            raise TypeError("NGramLM.fit: expected a list of token sequences, got a str; wrap one stream as [text]")
        seqs = [list(s) for s in sequences]
        if min_count < 1 or (min_count > 1 and self.unk is None):
            raise ValueError(f"NGramLM.fit: min_count must be >= 1 (and > 1 needs unk), got {min_count}")
        freq = Counter(t for s in seqs for t in s)
        if self.bos in freq or self.eos in freq:
            raise ValueError(f"NGramLM.fit: the bos/eos tokens {self.bos!r}/{self.eos!r} occur in the data")
        if min_count > 1:
            rare = {t for t, c in freq.items() if c < min_count}
            seqs = [[self.unk if t in rare else t for t in s] for s in seqs]
            freq = Counter(t for s in seqs for t in s)
        specials = [self.eos] if self.unk is None else [self.unk, self.eos]
        self.vocab = list(dict.fromkeys([*specials, *vocab, *freq]))
        if self.bos in self.vocab:
            raise ValueError(f"NGramLM.fit: the bos token {self.bos!r} cannot be in the vocabulary")
        self._index = {t: i for i, t in enumerate(self.vocab)}

        n = self.n
        padded = [[self.bos] * (n - 1) + s + [self.eos] for s in seqs]
        # counts[m] = Counter of the m-grams that end at a predicted position (so none ends in bos): the top
        # order's raw counts and, for Kneser-Ney, orders 2..n whose types give the continuation counts.
        kn = self.smoothing == "kneser_ney"
        orders = range(1, n + 1) if kn else range(n, n + 1)
        counts: dict[int, Counter] = {}
        for m in range(min(2, n), n + 1) if kn else [n]:
            c: Counter = Counter()
            for p in padded:
                q = p[n - m:]
                c.update(zip(*(q[j:] for j in range(m))))
            counts[m] = c
        adjusted: dict[int, Counter] = {n: counts[n]}
        for m in orders:
            if m < n:  # continuation count N1+(. g): distinct (m+1)-grams whose last m tokens are g
                adjusted[m] = Counter(g[1:] for g in counts[m + 1])
        self._tables = [{} for _ in range(n)]
        self._totals = [{} for _ in range(n)]
        for m in orders:
            table, totals = self._tables[m - 1], self._totals[m - 1]
            for g, a in adjusted[m].items():
                table.setdefault(g[:-1], {})[g[-1]] = a
            for h, row in table.items():
                totals[h] = sum(row.values())
        self.discounts = self._estimate_discounts(adjusted) if kn else []
        return self

    def _estimate_discounts(self, adjusted: dict[int, Counter]) -> list[float]:
        if self._given_discounts is not None:
            return list(self._given_discounts)
        out = []
        for m in range(1, self.n + 1):
            coc = Counter(adjusted[m].values())
            n1, n2 = coc.get(1, 0), coc.get(2, 0)
            d = n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.75
            out.append(min(max(d, 0.05), 0.95))
        return out

    # ------------------------------------------------------------------------------------------ scoring
    def _check_fitted(self, where: str) -> None:
        if not self.vocab:
            raise ValueError(f"NGramLM.{where}: the model is not fitted; call fit(sequences) first")

    def _map(self, token: Hashable, where: str) -> Hashable:
        if token in self._index:
            return token
        if token == self.bos:
            raise ValueError(f"NGramLM.{where}: the bos token {token!r} is never predicted")
        if self.unk is None:
            raise ValueError(f"NGramLM.{where}: token {token!r} is not in the vocabulary and unk is None")
        return self.unk

    def _context(self, context: Sequence[Hashable], where: str) -> tuple:
        """The last n - 1 tokens of ``context``, left-padded with bos, unknown tokens mapped to unk."""
        ctx = [t if t == self.bos else self._map(t, where) for t in list(context)[len(context) - self.n + 1:]]
        return tuple([self.bos] * (self.n - 1 - len(ctx)) + ctx) if self.n > 1 else ()

    def prob(self, token: Hashable, context: Sequence[Hashable] = ()) -> float:
        """``P(token | context)``; a context shorter than ``n - 1`` is taken as the start of a sequence."""
        self._check_fitted("prob")
        return self._prob(self._map(token, "prob"), self._context(context, "prob"))

    def _prob(self, w: Hashable, h: tuple) -> float:
        n, size = self.n, len(self.vocab)
        if self.smoothing == "add_k":
            row = self._tables[n - 1].get(h, {})
            return (row.get(w, 0) + self.k) / (self._totals[n - 1].get(h, 0) + self.k * size)
        p = 1.0 / size
        for m in range(1, n + 1):
            hm = h[len(h) - m + 1:] if m > 1 else ()
            row = self._tables[m - 1].get(hm)
            if row is None:  # unseen context: lambda = 1
                continue
            total, d = self._totals[m - 1][hm], self.discounts[m - 1]
            p = max(row.get(w, 0) - d, 0.0) / total + d * len(row) / total * p
        return p

    def distribution(self, context: Sequence[Hashable] = ()) -> numpy.ndarray:
        """``P(. | context)`` over :attr:`vocab` as a float64 array of shape ``(|V|,)`` summing to 1."""
        self._check_fitted("distribution")
        h = self._context(context, "distribution")
        n, size = self.n, len(self.vocab)
        if self.smoothing == "add_k":
            row = self._tables[n - 1].get(h, {})
            p = numpy.full(size, self.k)  # (V,)
            p[[self._index[w] for w in row]] += list(row.values())
            return p / (self._totals[n - 1].get(h, 0) + self.k * size)
        p = numpy.full(size, 1.0 / size)  # (V,)
        for m in range(1, n + 1):
            hm = h[len(h) - m + 1:] if m > 1 else ()
            row = self._tables[m - 1].get(hm)
            if row is None:
                continue
            total, d = self._totals[m - 1][hm], self.discounts[m - 1]
            p *= d * len(row) / total
            p[[self._index[w] for w in row]] += numpy.maximum(numpy.array(list(row.values()), float) - d, 0) / total
        return p

    def log_prob(self, sequence: Sequence[Hashable]) -> float:
        """Natural-log probability of one whole sequence: its tokens and its end token ``eos`` (not ``bos``)."""
        self._check_fitted("log_prob")
        padded = [self.bos] * (self.n - 1) + [self._map(t, "log_prob") for t in sequence] + [self.eos]
        return sum(math.log(self._prob(padded[i], tuple(padded[i - self.n + 1:i])))
                   for i in range(self.n - 1, len(padded)))

    def stream_log_probs(self, tokens: Sequence[Hashable], start: int = 0) -> numpy.ndarray:
        """``ln P(tokens[t] | tokens[t-n+1 : t])`` for every ``t >= start``, reading ``tokens`` as one stream.

        Unlike :meth:`log_prob` no end token is scored and the context of ``tokens[start]`` is the tokens
        before it, so a held-out block of a long text can be scored with the text before it as context,
        exactly like a neural model's sliding window (only positions before ``tokens[0]`` are ``bos``).
        Returns a float64 array of length ``len(tokens) - start``.
        """
        self._check_fitted("stream_log_probs")
        if not 0 <= start <= len(tokens):
            raise ValueError(f"NGramLM.stream_log_probs: start must lie in [0, {len(tokens)}], got {start}")
        n = self.n
        lo = max(start - n + 1, 0)
        ids = [self.bos] * (n - 1 - (start - lo)) + [self._map(t, "stream_log_probs") for t in tokens[lo:]]
        return numpy.log([self._prob(ids[i], tuple(ids[i - n + 1:i])) for i in range(n - 1, len(ids))])

    def perplexity(self, sequences: Iterable[Sequence[Hashable]]) -> float:
        """``exp(-sum log P / N)`` over ``sequences``; N counts every token plus one ``eos`` per sequence."""
        if isinstance(sequences, str):
            raise TypeError("NGramLM.perplexity: expected a list of token sequences, got a str")
        seqs = [list(s) for s in sequences]
        count = sum(len(s) + 1 for s in seqs)
        if count == 0:
            raise ValueError("NGramLM.perplexity: no sequences to score")
        return math.exp(-sum(self.log_prob(s) for s in seqs) / count)

    # ------------------------------------------------------------------------------------------ sampling
    def generate(self, context: Sequence[Hashable] = (), max_new_tokens: int = 100,
                 generator: Generator | None = None) -> list[Hashable]:
        """Sample up to ``max_new_tokens`` tokens after ``context``; stops early (without it) at ``eos``.

        Returns ``list(context)`` followed by the new tokens; repeatable for a seeded ``generator``.
        """
        self._check_fitted("generate")
        if max_new_tokens < 0:
            raise ValueError(f"NGramLM.generate: max_new_tokens must be >= 0, got {max_new_tokens}")
        r = rng(generator)
        out = list(context)
        history = list(self._context(context, "generate"))
        for _ in range(max_new_tokens):
            cdf = numpy.cumsum(self.distribution(history))  # (V,)
            w = self.vocab[min(int(numpy.searchsorted(cdf, r.random() * cdf[-1], side="right")), len(cdf) - 1)]
            if w == self.eos:
                break
            out.append(w)
            history.append(w)
        return out
