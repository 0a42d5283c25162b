"""`groundup generate` and lower-is-better targets, through a tiny character-bigram task module that
this file registers in place of a real language-model task (it trains by counting, in milliseconds)."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.cli import main
from groundup.models import sampling
from groundup.recipes import RECIPES, Recipe, get_recipe, run
from groundup.train import load_checkpoint, save_checkpoint

TEXT = "abab.abba.baab.aab.bba.\n" * 5


class Bigram(nn.Module):
    """Next-character logits looked up from the current character: a (V, V) table."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx: gu.Tensor) -> gu.Tensor:
        return self.table(idx)  # (..., V)


def _train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict:
    vocab = sorted(set(r.extra["text"]))
    ids = [vocab.index(ch) for ch in r.extra["text"]]
    counts = np.ones((len(vocab), len(vocab)))  # add-one smoothing
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    model = Bigram(len(vocab))
    with gu.no_grad():
        model.table.weight.copy_(gu.tensor(np.log(counts / counts.sum(1, keepdims=True)), dtype=gu.float32))
    ckpt = save_checkpoint(out / "last.safetensors", model, extra={"recipe": r.to_dict(), "vocab": vocab})
    nll = -np.log(counts / counts.sum(1, keepdims=True))[ids[:-1], ids[1:]].mean()
    return {"val_loss": float(nll), "checkpoint": str(ckpt), "test_size": len(ids) - 1}


def _generate(r: Recipe, checkpoint: Path, prompt: str, *, max_new_tokens: int, temperature: float = 1.0,
              top_k: int | None = None, top_p: float | None = None, seed: int | None = None) -> str:
    vocab = gu.load(checkpoint)["extra"]["vocab"]
    unknown = sorted(set(prompt) - set(vocab))
    if unknown:
        raise ValueError(f"prompt has characters {unknown} outside the vocabulary {vocab}")
    model = Bigram(len(vocab))
    load_checkpoint(checkpoint, model)
    start = [vocab.index(ch) for ch in prompt or "\n"]
    gen = gu.Generator()
    if seed is not None:
        gen.manual_seed(seed)
    new = sampling.generate(lambda ids, state: (model(ids[..., -1]), None), gu.tensor(start), max_new_tokens,
                            temperature, top_k, top_p, gen)
    return "".join(vocab[i] for i in new.tolist())


FAKE = types.ModuleType("fake_lm")
FAKE.train, FAKE.generate = _train, _generate
FAKE.evaluate = lambda r, checkpoint: {}
NO_GENERATE = types.ModuleType("fake_counter")
NO_GENERATE.train, NO_GENERATE.evaluate = _train, lambda r, checkpoint: {}

LM = Recipe("tiny-bigram", "a character bigram counted on a toy text", data="text", model="bigram", metric="val_loss",
            task="fakelm", target=2.17, extra={"text": TEXT})


@pytest.fixture
def fake_tasks(monkeypatch):
    real = run.task_module
    fakes = {"fakelm": FAKE, "nogen": NO_GENERATE}
    monkeypatch.setattr(run, "task_module", lambda task: fakes[task] if task in fakes else real(task))
    monkeypatch.setitem(RECIPES, LM.name, LM)


@pytest.fixture
def checkpoint(fake_tasks, tmp_path) -> Path:
    run.train(LM, tmp_path / "lm", progress=False)
    return tmp_path / "lm" / "last.safetensors"


def test_generate_is_repeatable_per_seed_and_respects_the_length(checkpoint):
    a = run.generate(checkpoint, "ab", max_new_tokens=40, seed=1)
    assert a == run.generate(checkpoint, "ab", max_new_tokens=40, seed=1)
    assert len(a) == 40 and set(a) <= set(TEXT)
    assert a != run.generate(checkpoint, "ab", max_new_tokens=40, seed=2)
    assert run.generate(checkpoint, "ab", max_new_tokens=0) == ""


def test_greedy_generation_follows_the_most_likely_successor(checkpoint):
    table = gu.load(checkpoint)["model"]["table.weight"].numpy()  # (V, V) log-probabilities
    vocab = sorted(set(TEXT))
    want, cur = [], vocab.index("b")
    for _ in range(12):
        cur = int(table[cur].argmax())
        want.append(vocab[cur])
    assert run.generate(checkpoint, "ab", max_new_tokens=12, temperature=0) == "".join(want)
    assert run.generate(checkpoint, "ab", max_new_tokens=12, top_k=1, seed=5) == "".join(want)


def test_cli_prints_the_prompt_and_its_continuation(checkpoint, capsys):
    capsys.readouterr()
    args = ["generate", str(checkpoint), "--prompt", "ba", "--max-new-tokens", "25", "--temperature", "0.8",
            "--top-k", "3", "--top-p", "0.9", "--seed", "7"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    want = run.generate(checkpoint, "ba", max_new_tokens=25, temperature=0.8, top_k=3, top_p=0.9, seed=7)
    assert printed == "ba" + want + "\n"
    assert main(args) == 0 and capsys.readouterr().out == printed


def _error(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(["generate", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("groundup generate: ")
    return captured.err


def test_cli_reports_unusable_checkpoints(checkpoint, tmp_path, capsys):
    assert "no checkpoint file at" in _error(capsys, str(tmp_path / "missing.safetensors"))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a checkpoint at all")
    _error(capsys, str(junk))
    bare = tmp_path / "bare.safetensors"
    save_checkpoint(bare, Bigram(3))
    assert "holds no recipe" in _error(capsys, str(bare))
    classifier = tmp_path / "classifier.safetensors"
    save_checkpoint(classifier, Bigram(3), extra={"recipe": get_recipe("mnist-mlp").to_dict()})
    assert "recipe mnist-mlp (task classify) does not generate text" in _error(capsys, str(classifier))
    counter = tmp_path / "counter.safetensors"
    save_checkpoint(counter, Bigram(3), extra={"recipe": LM.replace(name="counter", task="nogen").to_dict()})
    assert "recipe counter (task nogen) does not generate text" in _error(capsys, str(counter))
    assert "outside the vocabulary" in _error(capsys, str(checkpoint), "--prompt", "abz")


@pytest.mark.parametrize("flag, value, message", [
    ("--max-new-tokens", "-1", r"max_new_tokens \(--max-new-tokens\) must be an int >= 0, got -1"),
    ("--temperature", "-0.5", r"temperature \(--temperature\) must be a finite number >= 0"),
    ("--temperature", "nan", r"temperature .* got nan"),
    ("--top-k", "0", r"top_k \(--top-k\) must be an int >= 1"),
    ("--top-p", "0", r"top_p \(--top-p\) must lie in \(0, 1\]"),
    ("--top-p", "1.5", r"top_p .* got 1.5"),
])
def test_cli_rejects_bad_sampling_settings(checkpoint, capsys, flag, value, message):
    err = _error(capsys, str(checkpoint), flag, value)
    assert re.search(message, err), err
    with pytest.raises(ValueError, match=message):
        run.generate(checkpoint, **{flag.removeprefix("--").replace("-", "_"): float(value)
                                    if flag in ("--temperature", "--top-p") else int(value)})


def test_lower_is_better_metrics():
    for metric in ("val_loss", "test_perplexity", "val_bpc", "test_error", "Val_Loss"):
        assert LM.replace(metric=metric).lower_is_better, metric
    for metric in ("test_accuracy", "test_map50", "test_miou"):
        assert not LM.replace(metric=metric).lower_is_better, metric
    assert run.reached_target(LM, 2.17) and run.reached_target(LM, 1.0) and not run.reached_target(LM, 2.2)
    acc = get_recipe("mnist-mlp")
    assert run.reached_target(acc, 0.99) and not run.reached_target(acc, 0.5)
    assert run.reached_target(LM.replace(target=None), 1.0) is None


@pytest.mark.parametrize("target, reached", [(2.17, True), (0.5, False)])
def test_train_judges_a_loss_target_as_an_upper_bound(fake_tasks, monkeypatch, tmp_path, capsys, target, reached):
    monkeypatch.setitem(RECIPES, LM.name, LM.replace(target=target))
    out = tmp_path / "run"
    assert main(["train", LM.name, "--out", str(out), "--no-progress"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert 0.5 < res["val_loss"] < 2.17  # a bigram of a two-letter text: well below ln(4)
    assert res["reached_target"] is reached
    printed = capsys.readouterr().out
    assert f"(target {target})" in printed and "%" not in printed.split("\n")[1]


def test_recipes_prints_loss_targets_as_plain_numbers(fake_tasks, capsys):
    assert main(["recipes"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["tiny-bigram"].endswith("(target val_loss 2.17)")
    assert lines["mnist-mlp"].endswith("(target 98.2%)")
    assert lines["shapes-unet"].endswith("(target miou 89.0%)")
