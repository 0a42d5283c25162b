"""Tokenizers: text to integer ids and back.

- :class:`CharTokenizer`: one id per character of a fixed vocabulary.
- :class:`BPETokenizer`: byte-level byte-pair encoding, trained from text.
- :class:`GPT2Tokenizer`: GPT-2's byte-level BPE, loaded from its ``encoder.json`` and ``vocab.bpe``.
"""

from groundup.tokenizers.bpe import BPETokenizer, gpt2_pattern
from groundup.tokenizers.char import CharTokenizer
from groundup.tokenizers.gpt2 import GPT2Tokenizer

__all__ = ["BPETokenizer", "CharTokenizer", "GPT2Tokenizer", "gpt2_pattern"]
