"""Byte-level byte-pair encoding (BPE), trained by merges as in Sennrich et al. (2015).

Byte-level BPE starts from the 256 byte values as its base vocabulary, so every string (encoded
as UTF-8) can be tokenized and decoded back exactly: there are no unknown characters. Training
repeatedly finds the most frequent adjacent pair of tokens in the corpus and adds a new token
for it (a *merge*); ``vocab_size - 256 - len(special_tokens)`` merges are learned. Encoding
replays the merges in the order they were learned (lowest rank first), which is what GPT-2 does.

As in GPT-2, text is first split into chunks by a regular expression (words with their leading
space, runs of digits, runs of punctuation, whitespace), and merges never cross chunk
boundaries. Training therefore counts pairs once per *distinct* chunk, weighted by how often the
chunk occurs, and after each merge updates only the counts of the chunks that contain the
merged pair — this is what makes training on a megabyte of text take seconds.

Special tokens (e.g. ``"<|endoftext|>"``) are matched as exact strings before the regex split and
get their own ids after the merges; they are never split into bytes.
"""

from __future__ import annotations

import heapq
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from groundup.tokenizers.char import check_ids, read_json, write_json

# GPT-2's pre-tokenizer pattern, as written for the third-party ``regex`` module:
#   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# The standard ``re`` module has no \p{...} classes, so ``gpt2_pattern()`` builds the same
# expression with explicit character classes computed from ``unicodedata``; it is exact, not an
# approximation, up to the Unicode version of the running Python (3.11 knows Unicode 14): a code
# point that a newer Unicode assigns as a letter or number (tiktoken's Rust regex may know it) is
# "other" here. On tiktoken's ``gpt2`` encoding this gives identical ids for all assigned text.

# Characters with the Unicode White_Space property (what ``regex``'s \s matches; ``re``'s \s
# also matches the separators \x1c-\x1f, which GPT-2's pattern does not treat as space).
_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def _class_ranges(prefix: str) -> str:
    """A regex character-class body covering every code point whose general category starts with ``prefix``."""
    parts = []
    start = None
    for cp in range(sys.maxunicode + 2):
        inside = cp <= sys.maxunicode and unicodedata.category(chr(cp)).startswith(prefix)
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            a, b = re.escape(chr(start)), re.escape(chr(cp - 1))
            parts.append(a if start == cp - 1 else f"{a}-{b}")
            start = None
    return "".join(parts)


@lru_cache(maxsize=1)
def gpt2_pattern() -> str:
    r"""GPT-2's pre-tokenizer regex, written for the standard ``re`` module.

    It splits off English contractions (``'s``, ``'t``, ``'re``, ``'ve``, ``'m``, ``'ll``, ``'d``),
    then takes an optional space followed by a run of letters (\p{L}), of numbers (\p{N}), or of
    other non-space characters; trailing whitespace is left for the next word's leading space.
    """
    letters, numbers, space = _class_ranges("L"), _class_ranges("N"), _WHITESPACE
    return (
        rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{letters}]+| ?[{numbers}]+| ?[^{space}{letters}{numbers}]+"
        rf"|[{space}]+(?![^{space}])|[{space}]+"
    )


def _merge(word: Sequence[int], pair: tuple[int, int], new: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``word`` (scanning left to right) by ``new``."""
    out = []
    i, n = 0, len(word)
    a, b = pair
    while i < n:
        if i < n - 1 and word[i] == a and word[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


class BPETokenizer:
    """A byte-level BPE tokenizer: ranked merges over byte tokens plus special tokens.

    Usually built by :meth:`train` or :meth:`load`. The constructor takes the learned state:

    Args:
        merges: the merges in rank order, each ``(left_id, right_id)``; merge ``r`` creates id ``256 + r``.
        special_tokens: exact strings that get ids ``256 + len(merges)``, ``...+1``, ... in order.
        pattern: the pre-tokenizer regex (``re`` syntax); ``None`` means GPT-2's pattern, ``""``
            means no pre-splitting (the whole text is one chunk).
    """

    def __init__(
        self,
        merges: Iterable[tuple[int, int]] = (),
        special_tokens: Iterable[str] = (),
        pattern: str | None = None,
    ) -> None:
        merges = [(int(a), int(b)) for a, b in merges]
        special_tokens = list(special_tokens)
        if len(set(special_tokens)) != len(special_tokens):
            raise ValueError(f"{type(self).__name__}: special tokens {special_tokens!r} contain duplicates")
        n = 256 + len(merges)
        self._build(
            list(range(256)),
            [(a, b, 256 + r) for r, (a, b) in enumerate(merges)],
            {s: n + k for k, s in enumerate(special_tokens)},
            pattern,
        )

    def _build(
        self,
        byte_ids: Sequence[int],
        merges: Sequence[tuple[int, int, int]],
        special_tokens: dict[str, int],
        pattern: str | None,
    ) -> None:
        """Set the state from any id layout: ``byte_ids[b]`` is byte ``b``'s id, ``merges`` are
        ``(left, right, new)`` in rank order, ``special_tokens`` maps strings to ids. The ids must be
        exactly ``0 .. vocab_size - 1``, and each merge may only use ids defined before it."""
        where = type(self).__name__
        if len(byte_ids) != 256:
            raise ValueError(f"{where}: expected ids for all 256 bytes, got {len(byte_ids)}")
        vocab: dict[int, bytes] = {}

        def define(i: int, value: bytes, what: str) -> None:
            if i in vocab:
                raise ValueError(f"{where}: id {i} for {what} is already used by {vocab[i]!r}")
            vocab[i] = value

        for b, i in enumerate(byte_ids):
            define(int(i), bytes([b]), f"byte {b}")
        self.merges: dict[tuple[int, int], int] = {}  # pair -> id of the merged token
        self.ranks: dict[tuple[int, int], int] = {}  # pair -> rank (lower merges first)
        for a, b, new in merges:
            if a not in vocab or b not in vocab:
                raise ValueError(f"{where}: merge ({a}, {b}) uses an id that no byte or earlier merge defines")
            if (a, b) in self.merges:
                raise ValueError(f"{where}: merge ({a}, {b}) appears twice")
            define(new, vocab[a] + vocab[b], f"merge ({a}, {b})")
            self.ranks[(a, b)] = len(self.ranks)
            self.merges[(a, b)] = new
        for s, i in special_tokens.items():
            if not isinstance(s, str) or not s:
                raise ValueError(f"{where}: special tokens must be non-empty strings, got {s!r}")
            define(i, s.encode("utf-8"), f"special token {s!r}")
        if sorted(vocab) != list(range(len(vocab))):
            missing = sorted(set(range(max(vocab) + 1)) - set(vocab))[:5]
            raise ValueError(f"{where}: ids must be exactly 0..{len(vocab) - 1}; missing e.g. {missing}")
        self.vocab: list[bytes] = [vocab[i] for i in range(len(vocab))]
        self.byte_ids: list[int] = [int(i) for i in byte_ids]
        self.special_tokens: dict[str, int] = dict(special_tokens)
        self._set_pattern(pattern)

    def _set_pattern(self, pattern: str | None) -> None:
        self.pattern = pattern
        self._split = re.compile(gpt2_pattern() if pattern is None else pattern).findall if pattern != "" else None
        specials = sorted(self.special_tokens, key=len, reverse=True)  # longest first: "<|a|>x" before "<|a|>"
        self._special_re = re.compile("(" + "|".join(map(re.escape, specials)) + ")") if specials else None
        self._cache: dict[str, list[int]] = {}

    def _chunks(self, text: str) -> list[str]:
        if self._split is None:
            return [text] if text else []
        return self._split(text)

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        special_tokens: Iterable[str] = (),
        pattern: str | None = None,
        verbose: bool = False,
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``text``.

        Each step merges the most frequent adjacent pair of tokens, counted inside pre-split chunks
        (occurrences of special tokens in ``text`` are removed first, so they never take part in
        merges). Ties are broken deterministically by the smallest pair ``(left_id, right_id)``, so
        training is a pure function of its arguments. Training stops early if no pair occurs at
        least twice (the vocabulary is then smaller than ``vocab_size``).
        """
        special_tokens = list(special_tokens)
        n_merges = vocab_size - 256 - len(special_tokens)
        if n_merges < 0:
            raise ValueError(
                f"BPETokenizer.train: vocab_size={vocab_size} must be at least 256 bytes + "
                f"{len(special_tokens)} special tokens = {256 + len(special_tokens)}"
            )
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.train: expected text as a str, got {type(text).__name__}")
        tok = cls(special_tokens=special_tokens, pattern=pattern)
        pieces = tok._special_re.split(text)[::2] if tok._special_re else [text]
        chunk_counts: Counter[str] = Counter()
        for piece in pieces:
            chunk_counts.update(tok._chunks(piece))
        words = [list(c.encode("utf-8")) for c in chunk_counts]
        counts = list(chunk_counts.values())

        # pair -> weighted count, and pair -> indices of words that contain (or once contained) it.
        pair_counts: Counter[tuple[int, int]] = Counter()
        where: dict[tuple[int, int], set[int]] = {}
        for w, (word, c) in enumerate(zip(words, counts, strict=True)):
            for p in zip(word, word[1:], strict=False):
                pair_counts[p] += c
                where.setdefault(p, set()).add(w)
        # Max-heap by count, then smallest pair; stale entries are skipped when popped.
        heap = [(-c, p) for p, c in pair_counts.items()]
        heapq.heapify(heap)

        merges: list[tuple[int, int]] = []
        while len(merges) < n_merges and heap:
            neg, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -neg:
                continue  # stale entry
            if -neg < 2:
                break
            new = 256 + len(merges)
            merges.append(pair)
            changed: set[tuple[int, int]] = set()
            for w in where.pop(pair, ()):
                word = words[w]
                merged = _merge(word, pair, new)
                if len(merged) == len(word):
                    continue  # the pair left this word in an earlier merge
                c = counts[w]
                for p in zip(word, word[1:], strict=False):
                    pair_counts[p] -= c
                    changed.add(p)
                for p in zip(merged, merged[1:], strict=False):
                    pair_counts[p] += c
                    changed.add(p)
                    where.setdefault(p, set()).add(w)
                words[w] = merged
            for p in changed:
                c = pair_counts[p]
                if c > 0:
                    heapq.heappush(heap, (-c, p))
                else:
                    del pair_counts[p]
            if verbose:
                print(f"merge {len(merges)}/{n_merges}: {pair} -> {new} ({-neg} occurrences)")

        return cls(merges, special_tokens=special_tokens, pattern=pattern)

    # ----------------------------------------------------------------------------------- encoding
    @property
    def vocab_size(self) -> int:
        """Number of ids: 256 bytes + merges + special tokens."""
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def _encode_chunk(self, chunk: str) -> list[int]:
        """Apply the merges to one chunk's bytes, always the lowest-ranked pair first (memoised)."""
        ids = self._cache.get(chunk)
        if ids is not None:
            return ids
        byte_ids = self.byte_ids
        ids = [byte_ids[b] for b in chunk.encode("utf-8")]
        ranks = self.ranks
        while len(ids) >= 2:
            pair = min(zip(ids, ids[1:], strict=False), key=lambda p: ranks.get(p, 1 << 62))
            if pair not in ranks:
                break
            ids = _merge(ids, pair, self.merges[pair])
        if len(self._cache) < 1 << 16:
            self._cache[chunk] = ids
        return ids

    def encode(self, text: str, allow_special: bool = True) -> list[int]:
        """Encode ``text`` to ids.

        Args:
            text: any Unicode string (lone surrogates, which have no UTF-8 form, are rejected).
            allow_special: if ``True``, exact occurrences of the special tokens become their ids;
                if ``False`` they are encoded as ordinary text.
        """
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}.encode: expected a str, got {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(
                f"{type(self).__name__}.encode: text has no UTF-8 form ({e.reason} at position {e.start}: "
                f"{text[e.start]!r}); byte-level BPE needs valid Unicode text"
            ) from None
        pieces = self._special_re.split(text) if allow_special and self._special_re else [text]
        out: list[int] = []
        for k, piece in enumerate(pieces):
            if k % 2:  # odd pieces are the captured special tokens
                out.append(self.special_tokens[piece])
                continue
            for chunk in self._chunks(piece):
                out.extend(self._encode_chunk(chunk))
        return out

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """Concatenate the bytes of each token (special tokens as their UTF-8 text)."""
        ids = list(ids)
        check_ids(ids, self.vocab_size, f"{type(self).__name__}.decode")
        vocab = self.vocab
        return b"".join(vocab[i] for i in ids)

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Decode ids to text. A slice of ids may end inside a multi-byte character; such bytes are
        replaced by U+FFFD by default (``errors="strict"`` raises instead), as tiktoken does."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # ------------------------------------------------------------------------------------- saving
    def save(self, path: str | os.PathLike) -> None:
        """Save the byte ids, ranked merges, special tokens and pattern as JSON (readable, no pickle)."""
        merges = sorted(self.ranks, key=self.ranks.__getitem__)
        write_json(path, {
            "type": "BPETokenizer",
            "version": 1,
            "pattern": self.pattern,
            "byte_ids": self.byte_ids,
            "merges": [[a, b, self.merges[(a, b)]] for a, b in merges],
            "special_tokens": self.special_tokens,
        })

    @classmethod
    def load(cls, path: str | os.PathLike) -> BPETokenizer:
        """Load a tokenizer written by :meth:`save`."""
        obj = read_json(path, "BPETokenizer")
        tok = cls.__new__(cls)
        tok._build(obj["byte_ids"], [tuple(m) for m in obj["merges"]], obj["special_tokens"], obj["pattern"])
        return tok

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BPETokenizer)
            and self.vocab == other.vocab
            and self.ranks == other.ranks
            and self.merges == other.merges
            and self.special_tokens == other.special_tokens
            and self.pattern == other.pattern
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
            f"special_tokens={list(self.special_tokens)})"
        )
