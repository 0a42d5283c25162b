"""Character-level tokenizer: one id per distinct character.

The simplest possible tokenizer, and the one char-level language models (e.g. on Tiny
Shakespeare) use: the vocabulary is the sorted set of characters seen in a text, and a string
is encoded as the list of its characters' positions in that vocabulary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from groundup.serialization import _atomic_write


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temporary file in the same folder, then rename)."""
    _atomic_write(path, [json.dumps(obj, ensure_ascii=False).encode("utf-8")])


def read_json(path: str | os.PathLike, kind: str) -> dict[str, Any]:
    """Read a tokenizer JSON file and check that it was written by ``kind`` (e.g. ``"CharTokenizer"``)."""
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    if not isinstance(obj, dict) or obj.get("type") != kind:
        found = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(f"{kind}.load: {path} is not a {kind} file (expected type={kind!r}, found {found!r})")
    return obj


def check_ids(ids: Sequence[int], vocab_size: int, where: str) -> None:
    """Raise a ``ValueError``/``TypeError`` naming ``where`` if any id is not an int in ``[0, vocab_size)``."""
    for i, t in enumerate(ids):
        if isinstance(t, bool) or not hasattr(t, "__index__"):
            raise TypeError(f"{where}: ids must be integers, got {type(t).__name__} at position {i}")
        if not 0 <= t < vocab_size:
            raise ValueError(f"{where}: id {int(t)} at position {i} is outside the vocabulary [0, {vocab_size})")


class CharTokenizer:
    """Maps each character of a fixed vocabulary to an integer id and back.

    Args:
        chars: the vocabulary, in id order (duplicates are an error).
        unk: optional character (must be in ``chars``) that unknown characters encode to; without
            it, encoding a character outside the vocabulary raises ``ValueError``.

    Example::

        tok = CharTokenizer.from_text("hello world")
        tok.decode(tok.encode("hello")) == "hello"
    """

    def __init__(self, chars: Iterable[str], unk: str | None = None) -> None:
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: every vocabulary entry must be a single character, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"CharTokenizer: vocabulary has duplicate characters {dup!r}")
        self.itos: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}
        if unk is not None and unk not in self.stoi:
            raise ValueError(f"CharTokenizer: unk={unk!r} must be one of the vocabulary's characters")
        self.unk = unk

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> CharTokenizer:
        """Build the vocabulary from the sorted set of characters in ``text`` (plus ``unk`` if given)."""
        chars = set(text)
        if unk is not None:
            chars.add(unk)
        return cls(sorted(chars), unk=unk)

    @property
    def vocab_size(self) -> int:
        """Number of distinct ids."""
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """Return the id of each character of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer.encode: expected a str, got {type(text).__name__}")
        stoi = self.stoi
        if self.unk is not None:
            u = stoi[self.unk]
            return [stoi.get(c, u) for c in text]
        try:
            return [stoi[c] for c in text]
        except KeyError as e:
            pos = next(i for i, c in enumerate(text) if c not in stoi)
            raise ValueError(
                f"CharTokenizer.encode: character {e.args[0]!r} at position {pos} is not in the vocabulary "
                f"of {self.vocab_size} characters (pass unk=... to map unknown characters to a token)"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """Return the string whose characters have ids ``ids``."""
        ids = list(ids)
        check_ids(ids, self.vocab_size, "CharTokenizer.decode")
        return "".join(self.itos[i] for i in ids)

    def save(self, path: str | os.PathLike) -> None:
        """Save the vocabulary as JSON (``{"type": "CharTokenizer", "chars": [...], "unk": ...}``)."""
        write_json(path, {"type": "CharTokenizer", "version": 1, "chars": self.itos, "unk": self.unk})

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharTokenizer:
        """Load a tokenizer written by :meth:`save`."""
        obj = read_json(path, "CharTokenizer")
        return cls(obj["chars"], unk=obj.get("unk"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.itos == other.itos and self.unk == other.unk

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, unk={self.unk!r})"
