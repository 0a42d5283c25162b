"""makemore recipes: character-level models of names, trained as in A. Karpathy's makemore lectures.

The data is ``names.txt`` (32,033 names, one per line), given by path: ``groundup train makemore-mlp
--set path=/path/to/names.txt``. It is shuffled and cut 80/10/10 into train/dev/test exactly as the
lectures do (:func:`~groundup.datasets.text.split_words`, ``random.seed(42)``), and every name becomes
one example per character plus its end token (:func:`~groundup.models.build_char_dataset`). The
vocabulary is ``'.'`` (start and end) plus every character of the file, 27 tokens on ``names.txt``.

- ``makemore-bigram`` (part 1): bigram counts with +1 smoothing; nothing to optimise.
- ``makemore-mlp`` (parts 2-3): Bengio et al. 2003's MLP, context 3, embedding 10, 200 tanh units, with
  part 3's initialisation (published dev loss 2.170 for part 2's init, about 2.10 with part 3's).
- ``makemore-bn`` (part 3): the same with batch norm before the tanh (published 2.106).
- ``makemore-wavenet`` (part 5): the hierarchical model, context 8 (published 1.994).

The neural recipes take the lectures' training set-up: 200,000 SGD steps (no momentum) on minibatches
of 32 examples drawn with replacement, lr 0.1, then 0.01 from ``extra["decay_at"]`` of the run on:
half way for the MLP (parts 2-3), three quarters for the WaveNet (part 5) and for the batch-norm MLP.
Part 3 dropped the rate half way there too, but batch norm makes the loss invariant to the hidden
weights' scale, so their effective learning rate already falls as their norm grows: with the drop at
50% our batch-norm MLP ends at 2.111-2.113 (three seeds), at 75% at 2.108-2.109 (docs/makemore.md).
Its running statistics use part 3's momentum 0.001 instead of PyTorch's 0.1. The metric is the mean
negative log-likelihood per character (nats) on the whole dev split, in eval mode (batch norm uses its
running statistics).

``train`` writes ``out/last.safetensors`` every ``extra["checkpoint_every"]`` steps with the weights,
the optimizer, the minibatch generator's state and the step; ``resume=True`` continues from it and ends
with the same weights as an uninterrupted run. The checkpoint also holds the recipe and the vocabulary,
so :func:`generate` needs nothing else.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

import groundup as gu
import groundup.nn.functional as F
from groundup import nn
from groundup.datasets.text import load_names, split_words
from groundup.models import BigramLM, MakemoreMLP, WaveNet, build_char_dataset, char_vocab
from groundup.models.sampling import sample_next
from groundup.plot import plot_history
from groundup.recipes import Recipe
from groundup.recipes.run import _plot, build_optimizer
from groundup.tensor import Tensor
from groundup.train import load_checkpoint, metrics, save_checkpoint

__all__ = ["RECIPES", "evaluate", "generate", "split_loss", "train"]

_BIGRAM_FORMAT = "groundup-makemore-bigram"
_SPLITS = ("train", "val", "test")

_NEURAL = {"steps": 200_000, "batch_size": 32, "optimizer": "sgd", "lr": 0.1, "momentum": 0.0, "schedule": "step",
           "seed": 42, "metric": "val_loss", "task": "makemore", "data": "names", "activation": "tanh"}

RECIPES: list[Recipe] = [
    Recipe("makemore-bigram", "makemore part 1: bigram counts, +1 smoothing, on names.txt (--set path=...)",
           data="names", model="bigram", epochs=1, seed=42, target=2.46, metric="val_loss", task="makemore",
           extra={"path": None, "smoothing": 1.0}),
    Recipe("makemore-mlp", "makemore parts 2-3: MLP, context 3, embedding 10, 200 tanh units, SGD 200k steps",
           model="mlp", hidden=(200,), target=2.17, **_NEURAL,
           extra={"path": None, "block_size": 3, "n_embd": 10, "decay_at": 0.5, "checkpoint_every": 10_000}),
    Recipe("makemore-bn", "makemore part 3: the MLP with batch norm before the tanh, SGD 200k steps",
           model="mlp", hidden=(200,), batch_norm=True, target=2.11, **_NEURAL,
           extra={"path": None, "block_size": 3, "n_embd": 10, "bn_momentum": 0.001, "decay_at": 0.75,
                  "checkpoint_every": 10_000}),
    Recipe("makemore-wavenet", "makemore part 5: hierarchical WaveNet-style model, context 8, SGD 200k steps",
           model="wavenet", hidden=(128,), batch_norm=True, target=2.00, **_NEURAL,
           extra={"path": None, "block_size": 8, "n_embd": 24, "decay_at": 0.75, "checkpoint_every": 10_000}),
]


# ------------------------------------------------------------------------------------------- data
def _words(r: Recipe) -> list[str]:
    """The names of ``r.extra["path"]``, with a clear error saying how to pass the path."""
    path = r.extra.get("path")
    how = (f"pass the names file (one name per line, e.g. makemore's names.txt) with "
           f"`groundup train {r.name} --set path=/path/to/names.txt`")
    if not path:
        raise ValueError(f"recipe {r.name!r}: no data path; {how}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"recipe {r.name!r}: no file at {str(path)!r}; {how}")
    return load_names(path)


def _splits(r: Recipe, stoi: dict[str, int] | None = None) -> tuple[dict[str, list[str]], dict[str, int]]:
    """The lectures' 80/10/10 split of the names, and the vocabulary of the whole file (as the lectures
    build it before splitting) unless the checkpoint's ``stoi`` is given."""
    words = _words(r)
    return dict(zip(_SPLITS, split_words(words))), stoi if stoi is not None else char_vocab(words)[0]


def _tensors(r: Recipe, splits: dict[str, list[str]], stoi: dict[str, int]) -> dict[str, tuple[Tensor, Tensor]]:
    block = int(r.extra["block_size"])
    return {s: build_char_dataset(splits[s], block, stoi)[:2] for s in _SPLITS}  # X (N, block), Y (N,)


# ------------------------------------------------------------------------------------------- models
def _check(r: Recipe) -> None:
    """Refuse recipe settings the models cannot honour, rather than silently ignoring them."""
    if r.model not in ("bigram", "mlp", "wavenet"):
        raise ValueError(f"recipe {r.name!r}: unknown makemore model {r.model!r}; choose bigram, mlp or wavenet")
    if r.model == "bigram":
        return
    if r.activation != "tanh" or r.dropout:
        raise ValueError(f"recipe {r.name!r}: the makemore models are tanh networks without dropout, "
                         f"got activation={r.activation!r}, dropout={r.dropout}")
    if r.model == "wavenet" and not r.batch_norm:
        raise ValueError(f"recipe {r.name!r}: the WaveNet model always has batch norm (batch_norm=True)")
    if r.schedule not in ("none", "step"):
        raise ValueError(f"recipe {r.name!r}: schedule must be 'none' or 'step' (lr x0.1 at extra['decay_at'] "
                         f"of the run), got {r.schedule!r}")
    if len(r.hidden) != 1:
        raise ValueError(f"recipe {r.name!r}: hidden must hold one width (the hidden units), got {r.hidden}")
    if (r.steps if r.steps is not None else r.epochs) < 1 or r.batch_size < 1:
        raise ValueError(f"recipe {r.name!r}: steps (or epochs) and batch_size must be >= 1, "
                         f"got steps={r.steps}, epochs={r.epochs}, batch_size={r.batch_size}")


def _model(r: Recipe, vocab_size: int) -> nn.Module:
    block, n_embd, n_hidden = int(r.extra["block_size"]), int(r.extra["n_embd"]), int(r.hidden[0])
    if r.model == "wavenet":
        return WaveNet(vocab_size, block, n_embd, n_hidden)
    return MakemoreMLP(vocab_size, block, n_embd, n_hidden, batch_norm=r.batch_norm,
                       bn_momentum=float(r.extra.get("bn_momentum", 0.1)))


def split_loss(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 16_384) -> float:
    """Mean cross-entropy (nats per character) of ``model`` on a whole split, in eval mode.

    Eval mode matters for batch norm: each example is normalised with the running statistics, not
    with those of the batch it happens to share. The split goes through in chunks of ``batch_size``;
    the model's train/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    total = 0.0
    with gu.no_grad():
        for i in range(0, x.shape[0], batch_size):
            total += F.cross_entropy(model(x[i : i + batch_size]), y[i : i + batch_size], reduction="sum").item()
    model.train(was_training)
    return total / x.shape[0]


def _summary(losses: dict[str, float]) -> dict[str, float]:
    """``{split}_loss`` (nats per character) for each split, with perplexity and bits per character for
    dev and test."""
    out = {f"{s}_loss": v for s, v in losses.items()}
    for s in ("val", "test"):
        out[f"{s}_perplexity"] = metrics.perplexity(losses[s])
        out[f"{s}_bpc"] = metrics.bits_per_char(losses[s])
    return out


def _lr_at(r: Recipe, step: int, total: int) -> float:
    """The lectures' step decay: ``r.lr``, then a tenth of it from ``decay_at * total`` steps on."""
    if r.schedule == "step" and step >= int(float(r.extra.get("decay_at", 0.5)) * total):
        return r.lr * 0.1
    return r.lr


# ------------------------------------------------------------------------------------------- training
def _train_bigram(r: Recipe, out: Path) -> dict[str, Any]:
    splits, stoi = _splits(r)
    model = BigramLM(stoi, smoothing=float(r.extra.get("smoothing", 1.0))).fit(splits["train"])
    ckpt = out / "last.safetensors"
    gu.save({"format": _BIGRAM_FORMAT, "counts": gu.tensor(model.counts),
             "extra": {"recipe": r.to_dict(), "vocab": _vocab_list(stoi)}}, ckpt)
    sizes = {s: sum(len(w) + 1 for w in splits[s]) for s in _SPLITS}  # one bigram per character + the end
    return {**_summary({s: model.nll(splits[s]) for s in _SPLITS}), "test_size": sizes["val"], "sizes": sizes,
            "params": int(model.counts.size), "checkpoint": str(ckpt), "samples": _samples(r, model, stoi)}


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train recipe ``r`` (see the module docstring), write ``out/last.safetensors`` and return the results.

    ``resume=True`` continues from ``out/last.safetensors`` exactly: the same final weights as a run
    never interrupted. ``progress`` None prints nothing, otherwise one line per checkpoint. The results
    hold each split's loss, dev and test perplexity and bits per character, ``test_size`` (the number of
    dev examples the metric is measured on), ``sizes`` of all splits and ten sampled names.
    """
    _check(r)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if r.model == "bigram":
        return _train_bigram(r, out)
    splits, stoi = _splits(r)
    data = _tensors(r, splits, stoi)
    x, y = data["train"]  # (N, block_size), (N,)
    n = x.shape[0]
    total = r.steps if r.steps is not None else r.epochs * math.ceil(n / r.batch_size)
    every = int(r.extra.get("checkpoint_every", 10_000))
    gu.manual_seed(r.seed)  # the initial weights
    model = _model(r, len(stoi))
    opt = build_optimizer(r, model)
    batches = gu.Generator().manual_seed(r.seed)  # draws the minibatch indices; stored in every checkpoint
    last = out / "last.safetensors"
    extra = {"recipe": r.to_dict(), "vocab": _vocab_list(stoi)}
    step, history = 0, {"step": [], "train_loss": [], "val_loss": []}
    if resume:
        state = load_checkpoint(last, model, opt, generator=batches)
        step, history = int(state["extra"]["step"]), {k: list(v) for k, v in state["history"].items()}
    model.train()
    start, running = time.perf_counter(), 0.0
    while step < total:
        lr = _lr_at(r, step, total)
        for group in opt.param_groups:
            group["lr"] = lr
        ix = gu.randint(0, n, (r.batch_size,), generator=batches)  # (B,) sampled with replacement
        loss = F.cross_entropy(model(x[ix]), y[ix])  # logits (B, vocab_size)
        opt.zero_grad()
        loss.backward()
        opt.step()
        running += loss.item()
        step += 1
        if step % every == 0 or step == total:
            interval = (step - 1) % every + 1
            history["step"].append(step)
            history["train_loss"].append(running / interval)
            history["val_loss"].append(split_loss(model, *data["val"]))
            running = 0.0
            # epoch: whole passes' worth of examples seen (steps draw with replacement); the step is in extra
            save_checkpoint(last, model, opt, epoch=step * r.batch_size // n, history=history,
                            generator=batches, extra={**extra, "step": step})
            if progress is not None:
                print(f"step {step}/{total}: lr {lr:g}, train loss {history['train_loss'][-1]:.4f} (batches), "
                      f"val loss {history['val_loss'][-1]:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    model.eval()  # trained: batch norm uses its running statistics from here on (losses and samples)
    sizes = {s: int(data[s][0].shape[0]) for s in _SPLITS}
    return {**_summary({s: split_loss(model, *data[s]) for s in _SPLITS}), "steps": total,
            "params": sum(p.numel() for p in model.parameters()), "checkpoint": str(last),
            "test_size": sizes["val"], "sizes": sizes, "samples": _samples(r, model, stoi),
            # training loss (minibatch mean) and dev loss (eval mode) against the step, in nats per character
            "plots": {"loss": _plot(lambda p: plot_history(history, p, title=r.name), out / "loss.png")}}


# ------------------------------------------------------------------------------------------- checkpoints
def _vocab_list(stoi: dict[str, int]) -> list[str]:
    """The characters in index order (``'.'`` first): all a checkpoint needs to rebuild the vocabulary."""
    return [c for c, _ in sorted(stoi.items(), key=lambda kv: kv[1])]


def _load(r: Recipe, checkpoint: Path) -> tuple[BigramLM | nn.Module, dict[str, int]]:
    """The trained model of ``checkpoint`` (a BigramLM or an nn.Module in eval mode) and its vocabulary."""
    saved = gu.load(checkpoint)
    vocab = list(saved["extra"]["vocab"])
    stoi = {c: i for i, c in enumerate(vocab)}
    if r.model == "bigram":
        if saved.get("format") != _BIGRAM_FORMAT:
            raise ValueError(f"recipe {r.name!r}: {str(checkpoint)!r} is not a makemore bigram checkpoint")
        model = BigramLM(stoi, smoothing=float(r.extra.get("smoothing", 1.0)))
        model.counts = saved["counts"].numpy().astype(np.int64)  # (V, V)
        return model, stoi
    model = _model(r, len(vocab))
    model.load_state_dict(saved["model"])
    model.eval()
    return model, stoi


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Rebuild the data (``r.extra["path"]``) and the model of ``checkpoint``; dev and test losses."""
    _check(r)
    model, stoi = _load(r, checkpoint)
    splits, _ = _splits(r, stoi)
    if r.model == "bigram":
        losses = {s: model.nll(splits[s]) for s in ("val", "test")}
        size = sum(len(w) + 1 for w in splits["val"])
    else:
        data = _tensors(r, splits, stoi)
        losses = {s: split_loss(model, *data[s]) for s in ("val", "test")}
        size = int(data["val"][0].shape[0])
    return {**_summary(losses), "test_size": size}


# ------------------------------------------------------------------------------------------- sampling
def _samples(r: Recipe, model: BigramLM | nn.Module, stoi: dict[str, int], n: int = 10) -> list[str]:
    """``n`` names sampled from the trained model (seeded, temperature 1), for the results."""
    text = _sample(r, model, stoi, "", 40 * n, 1.0, None, None, r.seed)
    return text.split("\n")[:-1][:n]  # the last piece may be cut short


def generate(r: Recipe, checkpoint: Path, prompt: str, *, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, seed: int | None = None) -> str:
    """Sample names from ``checkpoint``, each beginning with ``prompt``; returns ``max_new_tokens`` characters.

    Generation goes one character at a time: the model sees the last ``block_size`` characters of the
    name so far, padded on the left with ``'.'`` (the start token; the bigram model sees just the last
    character), and :func:`~groundup.models.sampling.sample_next` draws the next one (``temperature=0``:
    greedy). When it draws ``'.'``, the end token, the name is finished: a newline is written and the
    next name starts again from ``prompt``, which is written out in full for every name after the first
    (so ``prompt + result`` reads as a list of names). The result holds exactly ``max_new_tokens``
    characters, the last name possibly cut short, and does not start with the prompt.

    A prompt character outside the vocabulary (including ``'.'`` and newlines: a prompt is the beginning
    of one name) is a ``ValueError`` naming it. Repeatable for a given ``seed``; fresh entropy when None.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"makemore.generate: prompt must be a str, got {type(prompt).__name__}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"makemore.generate: max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    model, stoi = _load(r, Path(checkpoint))
    letters = [c for c in stoi if c != "."]
    bad = sorted({c for c in prompt if c not in stoi or c == "."})
    if bad:
        raise ValueError(f"makemore.generate: the prompt {prompt!r} has characters {bad} outside the vocabulary; "
                         f"a prompt is the beginning of a name made of {''.join(letters)!r}")
    return _sample(r, model, stoi, prompt, max_new_tokens, temperature, top_k, top_p, seed)


def _sample(r: Recipe, model: BigramLM | nn.Module, stoi: dict[str, int], prompt: str, max_new_tokens: int,
            temperature: float, top_k: int | None, top_p: float | None, seed: int | None) -> str:
    """:func:`generate`'s sampling loop for a loaded model (eval mode) and a checked prompt."""
    itos = {i: c for c, i in stoi.items()}
    block = 1 if r.model == "bigram" else int(r.extra["block_size"])
    first = ([0] * block + [stoi[c] for c in prompt])[-block:]  # the context after the prompt
    generator = gu.Generator().manual_seed(seed) if seed is not None else gu.Generator()
    if r.model == "bigram":
        with np.errstate(divide="ignore"):
            log_p = gu.tensor(np.log(model.probs))  # (V, V): row a holds log P(next | a)

        def logits(ctx: list[int]) -> Tensor:
            return log_p[ctx[-1]]  # (V,)
    else:

        def logits(ctx: list[int]) -> Tensor:
            with gu.no_grad():
                return model(gu.tensor([ctx], dtype=gu.int64))[0]  # (1, block) -> (V,)

    out: list[str] = []
    context = list(first)
    while len(out) < max_new_tokens:
        ix = int(sample_next(logits(context), temperature, top_k, top_p, generator).item())
        if ix == 0:  # '.': the name is finished; the next one starts from the prompt again
            out += ["\n", *prompt]
            context = list(first)
        else:
            out.append(itos[ix])
            context = context[1:] + [ix]
    return "".join(out)[:max_new_tokens]
