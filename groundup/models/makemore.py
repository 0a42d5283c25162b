"""makemore character-level name models (Karpathy's "makemore" lectures, parts 1-5).

Each model reads the previous ``block_size`` characters of a name and predicts the next one over a
27-token vocabulary: ``'.'`` (index 0, the start/end token) and ``a``-``z``.

- :class:`BigramLM` (part 1): a table of bigram counts with add-k smoothing; the lecture's average
  negative log-likelihood on all of ``names.txt`` with +1 smoothing is about 2.45.
- :class:`MakemoreMLP` (parts 2-3): the neural probabilistic language model of Bengio et al. 2003,
  "A Neural Probabilistic Language Model" (JMLR): embed each context character, concatenate, one
  tanh hidden layer, a softmax over the vocabulary; optionally with batch norm (Ioffe & Szegedy 2015).
- :class:`WaveNet` (part 5): the same, but the context is fused hierarchically, two neighbours at a
  time (:class:`FlattenConsecutive`), as in WaveNet's dilated causal convolutions (van den Oord et al. 2016).

Published dev losses (80/10/10 split of ``names.txt``): MLP 2.170, with batch norm 2.106, WaveNet 1.994.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import groundup
from groundup import nn
from groundup.backend import Generator, rng
from groundup.tensor import Tensor

__all__ = [
    "BatchNorm1dSeq",
    "BigramLM",
    "FlattenConsecutive",
    "MakemoreMLP",
    "WaveNet",
    "build_char_dataset",
    "char_vocab",
]

START = "."  # index 0: marks both the start and the end of a name


def char_vocab(words: Sequence[str]) -> tuple[dict[str, int], dict[int, str]]:
    """makemore's vocabulary: ``'.'`` -> 0, then the sorted characters of ``words`` -> 1, 2, ...

    Returns ``(stoi, itos)``. On ``names.txt`` this is 27 tokens, ``a`` = 1 ... ``z`` = 26.
    """
    chars = sorted(set("".join(words)))
    if START in chars:
        raise ValueError(f"char_vocab: the words contain {START!r}, which is reserved as the start/end token")
    stoi = {START: 0, **{c: i + 1 for i, c in enumerate(chars)}}
    return stoi, {i: c for c, i in stoi.items()}


def build_char_dataset(
    words: Sequence[str], block_size: int, stoi: dict[str, int] | None = None
) -> tuple[Tensor, Tensor, dict[str, int], dict[int, str]]:
    """makemore's ``build_dataset``: one example per character of each name plus its end token.

    For ``"emma"`` with ``block_size=3``: ``... -> e``, ``..e -> m``, ``.em -> m``, ``emm -> a``,
    ``mma -> .``; contexts start padded with index 0. Returns ``X`` int64 ``(N, block_size)``,
    ``Y`` int64 ``(N,)``, ``stoi`` and ``itos``; pass the training ``stoi`` to encode dev/test words
    with the same vocabulary (built from ``words`` when ``None``).
    """
    if not isinstance(block_size, int) or isinstance(block_size, bool) or block_size < 1:
        raise ValueError(f"build_char_dataset: block_size must be a positive int, got {block_size!r}")
    if stoi is None:
        stoi, itos = char_vocab(words)
    else:
        itos = {i: c for c, i in stoi.items()}
    xs: list[list[int]] = []
    ys: list[int] = []
    for w in words:
        context = [0] * block_size
        for ch in w + START:
            if ch not in stoi:
                raise ValueError(f"build_char_dataset: character {ch!r} of word {w!r} is not in the vocabulary")
            ix = stoi[ch]
            xs.append(context)
            ys.append(ix)
            context = context[1:] + [ix]
    X = groundup.tensor(np.array(xs, dtype=np.int64).reshape(len(xs), block_size))  # (N, block_size)
    Y = groundup.tensor(np.array(ys, dtype=np.int64))  # (N,)
    return X, Y, stoi, itos


class BigramLM:
    """Count-based bigram model (makemore part 1): ``P(b | a) = (N[a, b] + k) / sum_c (N[a, c] + k)``.

    ``N`` counts each pair of consecutive tokens of ``.name.``; ``k`` (add-k smoothing, 1 in the lecture)
    keeps unseen pairs from having probability 0 (an infinite loss).
    """

    def __init__(self, stoi: dict[str, int], smoothing: float = 1.0) -> None:
        if smoothing < 0:
            raise ValueError(f"BigramLM: smoothing must be >= 0, got {smoothing}")
        self.stoi = dict(stoi)
        self.itos = {i: c for c, i in self.stoi.items()}
        self.smoothing = float(smoothing)
        V = len(self.stoi)
        self.counts = np.zeros((V, V), dtype=np.int64)  # (V, V): counts[a, b] = #(a followed by b)

    def _pairs(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        a: list[int] = []
        b: list[int] = []
        for w in words:
            chars = START + w + START
            for c1, c2 in zip(chars, chars[1:]):
                if c1 not in self.stoi or c2 not in self.stoi:
                    raise ValueError(f"BigramLM: word {w!r} has a character outside the vocabulary")
                a.append(self.stoi[c1])
                b.append(self.stoi[c2])
        return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)

    def fit(self, words: Sequence[str]) -> BigramLM:
        """Add the bigram counts of ``words`` (with ``'.'`` before and after each word)."""
        a, b = self._pairs(words)
        np.add.at(self.counts, (a, b), 1)
        return self

    @property
    def probs(self) -> np.ndarray:
        """``(V, V)`` row-stochastic matrix of smoothed next-token probabilities."""
        P = self.counts + self.smoothing  # (V, V)
        return P / P.sum(axis=1, keepdims=True)  # (V, V)

    def _log_likelihood(self, a: np.ndarray, b: np.ndarray) -> float:
        with np.errstate(divide="ignore"):
            return float(np.log(self.probs[a, b]).sum())

    def log_likelihood(self, words: Sequence[str]) -> float:
        """Sum of ``log P(next | previous)`` over every bigram of ``words``."""
        return self._log_likelihood(*self._pairs(words))

    def nll(self, words: Sequence[str]) -> float:
        """Average negative log-likelihood per bigram (the lecture's loss; ~2.45 on names.txt with k=1)."""
        a, b = self._pairs(words)
        if len(a) == 0:
            raise ValueError("BigramLM.nll: no words given; the average over zero bigrams is undefined")
        return -self._log_likelihood(a, b) / len(a)

    def sample(self, n: int, generator: Generator | None = None) -> list[str]:
        """Draw ``n`` names: start at ``'.'``, sample the next token from its row until ``'.'`` again.

        Repeatable for a seeded ``groundup.Generator``.
        """
        r = rng(generator)
        P = self.probs  # (V, V)
        out = []
        for _ in range(n):
            ix, chars = 0, []
            while True:
                ix = int(r.choice(len(P), p=P[ix]))
                if ix == 0:
                    break
                chars.append(self.itos[ix])
            out.append("".join(chars))
        return out


def _check_context(owner: str, x: Tensor, block_size: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: expected a Tensor of token indices, got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != block_size or x.dtype != groundup.int64:
        raise ValueError(
            f"{owner}: expected int64 input of shape (B, block_size={block_size}), got {x.dtype} of shape {tuple(x.shape)}"
        )


class MakemoreMLP(nn.Module):
    """Bengio et al. 2003 MLP as built in makemore parts 2-3.

    ``embedding (27, n_embd) -> flatten -> Linear(block_size*n_embd, n_hidden) -> [BatchNorm1d] -> tanh ->
    Linear(n_hidden, vocab_size)``. The part 3 initialisation fixes: the hidden weights are
    ``N(0, 1) * (5/3) / sqrt(fan_in)`` (Kaiming with tanh's gain 5/3), so pre-activations have unit scale
    and tanh does not saturate; the output layer is scaled by 0.01 with zero bias, so the initial
    softmax is nearly uniform (loss ~ log 27 = 3.30, not ~27); with ``batch_norm=True`` the hidden
    Linear has no bias (BN's mean subtraction would cancel it; BN's beta takes its place).

    ``bn_momentum`` is the weight of each batch in BN's running statistics. PyTorch's default, 0.1,
    averages over roughly the last 10 batches; part 3's hand-written layer used 0.001 (~1,000 batches).
    With batches of 32 the eval-mode statistics at 0.1 are estimates from about 320 examples; 0.001 is
    close to the statistics of the whole training set that the lecture computes ("calibrating" batch
    norm after training). On names.txt the difference is small, about 0.001 nats of dev loss.

    Parameters (defaults): 11,897 without batch norm (270 + 6,000 + 200 + 5,400 + 27); 12,097 with it
    (the hidden bias's 200 go, BN's gain and bias add 400). Part 3's printed 12,297 still counted ``b1``.
    """

    def __init__(
        self,
        vocab_size: int = 27,
        block_size: int = 3,
        n_embd: int = 10,
        n_hidden: int = 200,
        batch_norm: bool = False,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, n_embd)  # N(0, 1) rows, as the lecture's C
        self.flatten = nn.Flatten()
        self.hidden = nn.Linear(block_size * n_embd, n_hidden, bias=not batch_norm)
        self.bn = nn.BatchNorm1d(n_hidden, momentum=bn_momentum) if batch_norm else nn.Identity()
        self.act = nn.Tanh()
        self.out = nn.Linear(n_hidden, vocab_size)
        with groundup.no_grad():
            nn.init.normal_(self.hidden.weight, std=(5 / 3) / (block_size * n_embd) ** 0.5)
            if self.hidden.bias is not None:
                nn.init.normal_(self.hidden.bias, std=0.01)
            nn.init.normal_(self.out.weight, std=0.01)
            nn.init.zeros_(self.out.bias)

    def forward(self, x: Tensor) -> Tensor:
        _check_context(type(self).__name__, x, self.block_size)
        emb = self.embedding(x)  # (B, block_size, n_embd)
        h = self.flatten(emb)  # (B, block_size * n_embd)
        h = self.act(self.bn(self.hidden(h)))  # (B, n_hidden)
        return self.out(h)  # (B, vocab_size)


class FlattenConsecutive(nn.Module):
    """Concatenate each ``n`` consecutive time steps (makemore part 5): ``(B, T, C) -> (B, T/n, C*n)``.

    When ``T/n`` is 1 the time axis is dropped, giving ``(B, C*n)``, as in the lecture.
    """

    def __init__(self, n: int) -> None:
        super().__init__()
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"FlattenConsecutive: n must be a positive int, got {n!r}")
        self.n = n

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[1] % self.n != 0:
            raise ValueError(
                f"FlattenConsecutive: expected (B, T, C) with T divisible by n={self.n}, got shape {tuple(x.shape)}"
            )
        B, T, C = x.shape
        x = x.reshape(B, T // self.n, C * self.n)  # (B, T/n, C*n)
        if T // self.n == 1:
            x = x.reshape(B, C * self.n)  # (B, C*n)
        return x

    def extra_repr(self) -> str:
        return f"n={self.n}"


class BatchNorm1dSeq(nn.BatchNorm1d):
    """BatchNorm1d over ``(B, C)`` or channels-last ``(B, T, C)``, normalising the latter over dims (0, 1).

    Part 5's fix: the hierarchical model's activations are ``(B, T, C)``, and statistics must be per
    channel over both batch and time. groundup's (PyTorch's) BatchNorm1d wants ``(B, C, T)``, so the input
    is transposed there and back; state_dict keys are BatchNorm1d's.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == 3:
            return super().forward(input.transpose(1, 2)).transpose(1, 2)  # (B, T, C)
        return super().forward(input)  # (B, C)


class WaveNet(nn.Module):
    """The hierarchical ("WaveNet-style") makemore model of part 5.

    ``embedding -> [FlattenConsecutive(2) -> Linear(no bias) -> BatchNorm -> tanh] x log2(block_size) ->
    Linear(n_hidden, vocab_size)``: pairs of neighbouring characters are fused, then pairs of pairs, like
    the dilated causal convolutions of WaveNet (van den Oord et al. 2016) applied at one position.
    ``block_size`` must be a power of two (8 gives the lecture's three levels). Init as in the lecture:
    Linear weights ``N(0, 1) / sqrt(fan_in)``, output weights scaled by 0.1. With the defaults the model has
    76,579 parameters (648 + 6,144 + 256 + 32,768 + 256 + 32,768 + 256 + 3,483), the lecture's count.
    """

    def __init__(self, vocab_size: int = 27, block_size: int = 8, n_embd: int = 24, n_hidden: int = 128) -> None:
        super().__init__()
        if not isinstance(block_size, int) or block_size < 2 or block_size & (block_size - 1):
            raise ValueError(f"WaveNet: block_size must be a power of two >= 2, got {block_size!r}")
        self.block_size = block_size
        layers: list[nn.Module] = [nn.Embedding(vocab_size, n_embd)]
        fan_in = n_embd * 2
        for _ in range(block_size.bit_length() - 1):
            layers += [FlattenConsecutive(2), nn.Linear(fan_in, n_hidden, bias=False), BatchNorm1dSeq(n_hidden),
                       nn.Tanh()]
            fan_in = n_hidden * 2
        layers.append(nn.Linear(n_hidden, vocab_size))
        self.layers = nn.Sequential(*layers)
        with groundup.no_grad():
            for layer in layers:
                if isinstance(layer, nn.Linear):
                    nn.init.normal_(layer.weight, std=layer.in_features**-0.5)
                    if layer.bias is not None:
                        nn.init.zeros_(layer.bias)
            layers[-1].weight.mul_(0.1)

    def forward(self, x: Tensor) -> Tensor:
        _check_context(type(self).__name__, x, self.block_size)
        # (B, 8) -> embed (B, 8, n_embd) -> (B, 4, 2*n_embd) -> (B, 4, n_hidden) -> (B, 2, 2*n_hidden)
        # -> (B, 2, n_hidden) -> (B, 2*n_hidden) -> (B, n_hidden) -> logits (B, vocab_size)
        return self.layers(x)  # (B, vocab_size)
