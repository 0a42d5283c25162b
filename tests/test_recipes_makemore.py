"""Tests for the makemore recipes (groundup/recipes/makemore.py): training, evaluation, resume, sampling."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import groundup as gu
import groundup.nn.functional as F
from groundup.cli import main
from groundup.datasets.text import load_names, split_words
from groundup.models import build_char_dataset, char_vocab
from groundup.recipes import get_recipe
from groundup.recipes import makemore as M

NAMES = Path("/work/shared/data/names.txt")
# 48 names, each 6 times: the dev and test splits hold names also seen in training, so a model with a
# context of 3 characters can beat the bigram clearly within a few hundred steps.
BASE = ("emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila ella "
        "avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey nora lily "
        "eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel violet aurora savannah audrey "
        "brooklyn").split()
WORDS = BASE * 6


@pytest.fixture
def names_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


def tiny(name, path, **changes):
    """Recipe ``name`` on the small file, with small models and budgets (extra keys override via ``extra``)."""
    r = get_recipe(name)
    sizes = {"makemore-wavenet": {"n_embd": 8, "checkpoint_every": 40}}.get(name, {"checkpoint_every": 100})
    extra = {**r.extra, "path": str(path), **sizes, **changes.pop("extra", {})}
    hidden = (32,) if name == "makemore-wavenet" else r.hidden
    return r.replace(extra=extra, hidden=hidden, **changes)


def weights(path):
    return {k: v.numpy() for k, v in gu.load(path)["model"].items()}


def test_bigram_recipe_matches_counting_by_hand(names_file, tmp_path):
    r = tiny("makemore-bigram", names_file)
    res = M.train(r, tmp_path / "bigram", progress=None)
    train_w, dev_w, test_w = split_words(WORDS)
    stoi = char_vocab(WORDS)[0]
    counts = np.ones((len(stoi), len(stoi)))  # +1 smoothing
    for w in train_w:
        for a, b in zip("." + w, w + "."):
            counts[stoi[a], stoi[b]] += 1
    for split, words in (("val", dev_w), ("test", test_w)):
        nll = [-math.log(counts[stoi[a], stoi[b]] / counts[stoi[a]].sum()) for w in words for a, b in zip("." + w, w + ".")]
        assert res[f"{split}_loss"] == pytest.approx(np.mean(nll), rel=1e-9)
    assert res["test_size"] == sum(len(w) + 1 for w in dev_w)
    assert res["val_perplexity"] == pytest.approx(math.exp(res["val_loss"]))
    assert res["test_bpc"] == pytest.approx(res["test_loss"] / math.log(2))
    ev = M.evaluate(r, Path(res["checkpoint"]))
    assert ev["val_loss"] == res["val_loss"] and ev["test_loss"] == res["test_loss"]
    text = M.generate(r, Path(res["checkpoint"]), "", max_new_tokens=200, seed=0)
    assert len(text) == 200 and set(text) <= set(stoi) - {"."} | {"\n"}


def test_mlp_learns_beats_bigram_and_evaluate_reproduces(names_file, tmp_path):
    bigram = M.train(tiny("makemore-bigram", names_file), tmp_path / "bigram", progress=None)
    r = tiny("makemore-mlp", names_file, steps=600)
    res = M.train(r, tmp_path / "mlp", progress=None)
    V = len(char_vocab(WORDS)[0])
    assert res["steps"] == 600 and res["params"] == V * 10 + 30 * 200 + 200 + 200 * V + V  # C, W1, b1, W2, b2
    assert res["val_loss"] < bigram["val_loss"] - 0.3 and res["val_loss"] < math.log(len(char_vocab(WORDS)[0]))
    ev = M.evaluate(r, Path(res["checkpoint"]))
    assert ev["val_loss"] == pytest.approx(res["val_loss"], abs=1e-6)
    assert ev["test_loss"] == pytest.approx(res["test_loss"], abs=1e-6)
    assert ev["val_perplexity"] == pytest.approx(math.exp(ev["val_loss"]))
    assert ev["test_size"] == res["test_size"] == sum(len(w) + 1 for w in split_words(WORDS)[1])
    assert len(res["samples"]) == 10 and all(s.isalpha() for s in res["samples"] if s)


def test_split_loss_is_eval_mode_whole_split(names_file, tmp_path):
    r = tiny("makemore-bn", names_file, steps=100)
    res = M.train(r, tmp_path / "bn", progress=None)
    model, stoi = M._load(r, Path(res["checkpoint"]))
    x, y, _, _ = build_char_dataset(split_words(WORDS)[1], 3, stoi)
    # eval mode: the loss does not depend on how the split is chunked, and equals a NumPy recomputation
    # that normalises with the running statistics
    assert M.split_loss(model, x, y, batch_size=7) == pytest.approx(M.split_loss(model, x, y), abs=1e-5)
    assert M.split_loss(model, x, y) == pytest.approx(res["val_loss"], abs=1e-6)
    p = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    h = p["embedding.weight"][x.numpy()].reshape(len(x), -1) @ p["hidden.weight"].T
    h = np.tanh((h - p["bn.running_mean"]) / np.sqrt(p["bn.running_var"] + 1e-5) * p["bn.weight"] + p["bn.bias"])
    z = h @ p["out.weight"].T + p["out.bias"]
    z -= z.max(1, keepdims=True)
    nll = np.log(np.exp(z).sum(1)) - z[np.arange(len(z)), y.numpy()]
    assert res["val_loss"] == pytest.approx(nll.mean(), abs=1e-5)
    model.train()  # in train mode the batch statistics would change the answer
    with gu.no_grad():
        assert F.cross_entropy(model(x[:7]), y[:7]).item() != pytest.approx(M.split_loss(model, x[:7], y[:7]), abs=1e-3)


def test_resume_after_interruption_gives_the_same_weights(names_file, tmp_path, monkeypatch):
    # WaveNet (batch norm buffers) with SGD momentum (optimizer state), decay inside the run
    r = tiny("makemore-wavenet", names_file, steps=120, momentum=0.9, lr=0.05)
    straight = M.train(r, tmp_path / "straight", progress=None)
    real_save, saves = M.save_checkpoint, []

    def save_then_stop(*args, **kwargs):
        real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(M, "save_checkpoint", save_then_stop)
    out = tmp_path / "split"
    with pytest.raises(KeyboardInterrupt):
        M.train(r, out, progress=None)
    assert gu.load(out / "last.safetensors")["extra"]["step"] == 80
    resumed = M.train(r, out, resume=True, progress=None)
    assert len(saves) == 3  # only the last interval was trained again
    a, b = weights(out / "last.safetensors"), weights(tmp_path / "straight" / "last.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert resumed["val_loss"] == straight["val_loss"]
    assert straight["val_loss"] < math.log(len(char_vocab(WORDS)[0]))


def test_generate_contract(names_file, tmp_path):
    r = tiny("makemore-mlp", names_file, steps=300)
    ckpt = Path(M.train(r, tmp_path / "mlp", progress=None)["checkpoint"])
    a = M.generate(r, ckpt, "em", max_new_tokens=150, seed=3)
    assert a == M.generate(r, ckpt, "em", max_new_tokens=150, seed=3)
    assert a != M.generate(r, ckpt, "em", max_new_tokens=150, seed=4)
    assert len(a) == 150 and M.generate(r, ckpt, "em", max_new_tokens=0, seed=3) == ""
    names = ("em" + a).split("\n")
    assert len(names) > 3 and all(n.startswith("em") for n in names[:-1])  # every name continues the prompt
    assert set(a) <= set(char_vocab(WORDS)[0]) - {"."} | {"\n"}
    # greedy (temperature 0) ignores the seed and equals top-k with k = 1; the greedy name repeats
    greedy = M.generate(r, ckpt, "", max_new_tokens=60, temperature=0, seed=1)
    assert greedy == M.generate(r, ckpt, "", max_new_tokens=60, temperature=0, seed=2)
    assert greedy == M.generate(r, ckpt, "", max_new_tokens=60, top_k=1, seed=5)
    first = greedy.split("\n")[0]
    assert greedy.startswith(f"{first}\n{first}\n")
    with pytest.raises(ValueError, match=r"characters \['Q', 'x'\] outside the vocabulary"):
        M.generate(r, ckpt, "Qx", max_new_tokens=5)
    with pytest.raises(ValueError, match=r"\['\.'\] outside"):
        M.generate(r, ckpt, "em.ma", max_new_tokens=5)


def test_bad_recipes_and_missing_data_are_clear_errors(names_file, tmp_path):
    with pytest.raises(ValueError, match=r"no data path; .*--set path="):
        M.train(get_recipe("makemore-mlp"), tmp_path / "a", progress=None)
    with pytest.raises(FileNotFoundError, match=r"no file at .*missing\.txt"):
        M.train(tiny("makemore-mlp", tmp_path / "missing.txt"), tmp_path / "b", progress=None)
    with pytest.raises(ValueError, match="tanh networks without dropout"):
        M.train(tiny("makemore-mlp", names_file, activation="relu"), tmp_path / "c", progress=None)
    with pytest.raises(ValueError, match="schedule must be 'none' or 'step'"):
        M.train(tiny("makemore-bn", names_file, schedule="cosine"), tmp_path / "d", progress=None)


def test_cli_train_and_eval(names_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "makemore-bn", "--steps", "200", "--set", f"path={names_file}", "--out", str(out),
                 "--no-progress"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["steps"] == 200 and res["metric"] == "val_loss"
    capsys.readouterr()
    assert main(["eval", str(out / "last.safetensors")]) == 0
    assert f"{res['val_loss']:.4f}" in capsys.readouterr().out
    assert main(["generate", str(out / "last.safetensors"), "--prompt", "em", "--max-new-tokens", "50",
                 "--seed", "7"]) == 0
    saved = get_recipe("makemore-bn").replace(steps=200, extra={**get_recipe("makemore-bn").extra,
                                                                 "path": str(names_file)})
    text = M.generate(saved, out / "last.safetensors", "em", max_new_tokens=50, seed=7)
    assert capsys.readouterr().out == "em" + text + "\n"  # the CLI prints the prompt, then the continuation


@pytest.mark.skipif(not NAMES.exists(), reason="names.txt not available")
def test_names_txt_split_and_short_run(tmp_path):
    words = load_names(NAMES)
    r = get_recipe("makemore-mlp").replace(steps=1500, extra={**get_recipe("makemore-mlp").extra, "path": str(NAMES),
                                                               "checkpoint_every": 1500})
    res = M.train(r, tmp_path / "mlp", progress=None)
    # the lectures' Xtr, Xdev, Xte shapes for block_size 3: (182625, 3), (22655, 3), (22866, 3)
    assert res["sizes"] == {"train": 182_625, "val": 22_655, "test": 22_866} and res["test_size"] == 22_655
    bigram = M.train(get_recipe("makemore-bigram").replace(extra={"path": str(NAMES), "smoothing": 1.0}),
                     tmp_path / "bigram", progress=None)
    assert bigram["val_loss"] == pytest.approx(2.453, abs=0.01)  # the lecture's ~2.45 (on all of names.txt)
    assert res["val_loss"] < bigram["val_loss"] and len(words) == 32_033
