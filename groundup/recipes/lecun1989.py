"""The 1989 zip-code network, reproduced (``lecun1989``) and then modernised step by step (``lecun1989-modern``).

Y. LeCun et al., "Backpropagation applied to handwritten zip code recognition" (1989) trained a
9,760-parameter convolutional network (:class:`~groundup.models.LeCun1989`) on 7,291 16x16 digits
and tested it on 2,007, reaching 5.0% test error (0.14% train) after 23 passes. Its zip-code digits
were never published, so, as A. Karpathy's reproduction (github.com/karpathy/lecun1989-repro and
"Deep Neural Nets: 33 years ago and 33 years from now", 2022; 4.09% test error) does, we draw a
stand-in from MNIST (:func:`load_digits`).

``lecun1989`` is the paper's set-up: tanh units everywhere, the mean squared error onto ±1 targets,
plain SGD (lr 0.03, Karpathy's choice; the paper's diagonal Gauss-Newton steps are not described
fully enough to copy) on one example at a time, the examples in a fixed order, 23 passes.

``lecun1989-modern`` climbs Karpathy's ladder of modern changes (:data:`LADDER`), each rung adding
one change to the one before and trained from scratch, the parameter count never changing: softmax
cross-entropy, then AdamW with more passes, then ±1 pixel random shifts, then ReLU with dropout.

The loop is the plain PyTorch one, one optimizer step per example (7,291 x 23 = 167,693 steps for
the baseline); every pass ends with a batched evaluation of both splits and a checkpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import groundup as gu
import groundup.nn.functional as F
from groundup import datasets, optim
from groundup.models import LeCun1989
from groundup.optim.lr_scheduler import LinearLR
from groundup.recipes import Recipe
from groundup.recipes.run import _plot
from groundup.tensor import Tensor
from groundup.train import load_checkpoint, save_checkpoint

__all__ = ["LADDER", "Digits16", "RECIPES", "Rung", "evaluate", "fit", "load_digits", "measure", "random_shift", "train"]

N_TRAIN, N_TEST = 7291, 2007  # the paper's training and test set sizes


# ------------------------------------------------------------------------------------------- data
@dataclass
class Digits16:
    """The stand-in for the 1989 data: (N, 1, 16, 16) float32 images in [-1, 1] and int64 labels."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor


def _to_16x16(images: Tensor) -> Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 16, 16) in [-1, 1] (bilinear, half-pixel centres, no antialias)."""
    x = F.interpolate(images.unsqueeze(1).float(), size=(16, 16), mode="bilinear", align_corners=False)
    return x / 127.5 - 1.0  # (N, 1, 16, 16); 0 (background) -> -1, 255 (ink) -> +1


def load_digits(n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = 1337) -> Digits16:
    """``n_train`` MNIST training images and ``n_test`` test images, picked by a seeded permutation
    and shrunk to 16x16 in [-1, 1], as Karpathy's ``prepro.py`` does.

    The training images come from MNIST's 50,000-image ``train`` split, the test images from its
    ``test`` split; one ``Generator`` seeded with ``seed`` draws both permutations, so the selection
    is the same on every machine. The resize is bilinear with ``align_corners=False`` and no
    antialiasing (PyTorch's default, which Karpathy used): each output pixel blends the 2x2 input
    pixels nearest its centre, so at a 28/16 = 1.75 step it skips some input pixels rather than
    averaging them; strokes two or three pixels wide survive. Bilinear weights sum to 1, so scaling
    ``[0, 255] -> [-1, 1]`` before or after the resize is the same.
    """
    train, test = datasets.MNIST(split="train"), datasets.MNIST(split="test")
    for name, n, split in (("n_train", n_train, train), ("n_test", n_test, test)):
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(split):
            raise ValueError(f"load_digits: {name} must be an int in [1, {len(split)}], got {n!r}")
    g = gu.Generator().manual_seed(seed)
    i_train = gu.randperm(len(train), generator=g)[:n_train]
    i_test = gu.randperm(len(test), generator=g)[:n_test]
    return Digits16(_to_16x16(train.data[i_train]), train.targets[i_train],
                    _to_16x16(test.data[i_test]), test.targets[i_test])


def random_shift(x: Tensor) -> Tensor:
    """Every image of ``x`` (N, 1, 16, 16) moved by its own random (dy, dx) in {-1, 0, 1}², the
    uncovered row and column filled with background (-1).

    The shifts come from the global RNG, so a seeded run repeats them. Karpathy rolls the image
    (``torch.roll``), wrapping the row or column pushed out round to the other side; MNIST digits
    keep clear of the border, so that row is (almost always) background too.
    """
    n = x.shape[0]
    padded = F.pad(x, (1, 1, 1, 1), "constant", -1.0)  # (N, 1, 18, 18)
    corner = gu.randint(0, 3, (n, 2))  # (N, 2): top-left corner of each 16x16 crop; (1, 1) = unshifted
    ar = gu.arange(16)
    rows = (corner[:, 0:1] + ar)[:, :, None]  # (N, 16, 1)
    cols = (corner[:, 1:2] + ar)[:, None, :]  # (N, 1, 16)
    return padded[gu.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)  # (N, 1, 16, 16)


# ------------------------------------------------------------------------------------------- the ladder
@dataclass(frozen=True)
class Rung:
    """One training configuration: the model's options, the loss, the optimizer and the passes.

    ``lr_end`` set: the learning rate falls linearly from ``lr`` (first pass) to ``lr_end`` (last
    pass), as in Karpathy's ``modern.py``; otherwise it stays at ``lr``.
    """

    change: str
    loss: str = "mse"  # mse onto ±1 targets (tanh outputs) | ce: softmax cross-entropy on logits
    optimizer: str = "sgd"  # sgd | adamw
    lr: float = 0.03
    lr_end: float | None = None
    weight_decay: float = 0.0
    passes: int = 23
    batch_size: int = 1
    shift: bool = False  # ±1 pixel random shifts of the training images
    activation: str = "tanh"
    dropout: float = 0.0

    def model(self) -> LeCun1989:
        return LeCun1989(activation=self.activation, logits=self.loss == "ce", dropout=self.dropout)


#: Karpathy's modern changes, cumulative, with the test errors he reports on his MNIST stand-in:
#: 4.09%, 4.38%, 3.59%, 2.19%, 1.59%. (AdamW's weight decay is PyTorch's default, 0.01.)
LADDER: tuple[Rung, ...] = (
    Rung("baseline (1989): tanh, MSE, SGD 0.03"),
    Rung("+ softmax cross-entropy (SGD 0.01)", loss="ce", lr=0.01),
    Rung("+ AdamW 3e-4 -> 1e-4, 46 passes", loss="ce", optimizer="adamw", lr=3e-4, lr_end=1e-4,
         weight_decay=0.01, passes=46),
    Rung("+ ±1 px shifts, 60 passes", loss="ce", optimizer="adamw", lr=3e-4, lr_end=1e-4, weight_decay=0.01,
         passes=60, shift=True),
    Rung("+ ReLU, dropout 0.25, 80 passes", loss="ce", optimizer="adamw", lr=3e-4, lr_end=1e-4,
         weight_decay=0.01, passes=80, shift=True, activation="relu", dropout=0.25),
)


def _rungs(r: Recipe) -> list[Rung]:
    """The rungs a recipe trains. ``lecun1989``: the baseline with the recipe's lr, epochs, batch
    size, optimizer and weight decay. ``lecun1989-modern``: the whole ladder; ``epochs`` is the
    last rung's passes (80) and every rung keeps its share of it (23:23:46:60:80, at least 1
    pass), the AdamW rungs take the recipe's lr (``lr_end`` = lr/3), every rung its batch size.
    The ladder fixes the rest, so a recipe asking for another optimizer, activation or dropout, or
    for any schedule, is an error rather than silently ignored."""
    last = LADDER[-1]
    if r.schedule != "none":
        raise ValueError(f"{r.name}: takes no --schedule (the AdamW rungs decay linearly), got {r.schedule!r}")
    if r.extra.get("ladder"):
        asked = (r.optimizer, r.activation, r.dropout)
        if asked != (last.optimizer, last.activation, last.dropout):
            raise ValueError(f"{r.name}: the ladder's rungs fix optimizer, activation and dropout; its last rung "
                             f"is {(last.optimizer, last.activation, last.dropout)}, the recipe asks for {asked}")
        scale = r.epochs / last.passes
        rungs = [replace(g, passes=max(1, round(g.passes * scale)), batch_size=r.batch_size) for g in LADDER]
        return [replace(g, lr=r.lr, lr_end=r.lr / 3) if g.optimizer == "adamw" else g for g in rungs]
    return [replace(LADDER[0], optimizer=r.optimizer, lr=r.lr, weight_decay=r.weight_decay, passes=r.epochs,
                    batch_size=r.batch_size)]


def _optimizer(rung: Rung, params: list) -> optim.Optimizer:
    if rung.optimizer == "sgd":
        return optim.SGD(params, lr=rung.lr, weight_decay=rung.weight_decay)
    if rung.optimizer == "adamw":
        return optim.AdamW(params, lr=rung.lr, weight_decay=rung.weight_decay)
    raise ValueError(f"lecun1989: optimizer must be 'sgd' or 'adamw', got {rung.optimizer!r}")


# ------------------------------------------------------------------------------------------- training
def measure(model: LeCun1989, x: Tensor, y: Tensor, loss: str) -> dict[str, float]:
    """Loss, error rate and number of misses of ``model`` on a whole split, in one batched pass."""
    model.eval()
    with gu.no_grad():
        out = model(x)  # (N, 10)
        value = F.mse_loss(out, LeCun1989.targets(y).to(out.dtype)) if loss == "mse" else F.cross_entropy(out, y)
        misses = int((out.argmax(dim=1) != y).sum().item())
    return {"loss": float(value.item()), "error": misses / y.shape[0], "misses": misses}


def fit(model: LeCun1989, rung: Rung, data: Digits16, *, checkpoint: Path | None = None, resume: bool = False,
        extra: dict | None = None, log: Any = None) -> dict[str, list[float]]:
    """Train ``model`` as ``rung`` says, one optimizer step per ``rung.batch_size`` examples taken
    in a fixed order (with ``rung.shift``, every pass shifts each image anew), and return the
    per-pass history (train/test loss and error).

    With a ``checkpoint`` path, everything (weights, optimizer, schedule, RNG, history) is saved
    there after every pass, with ``extra``; ``resume=True`` and an existing file continue from the
    last finished pass, and the run ends with the same weights as one never interrupted.
    ``log(pass, passes, record)`` is called after every pass.
    """
    if rung.loss not in ("mse", "ce"):
        raise ValueError(f"fit: rung.loss must be 'mse' or 'ce', got {rung.loss!r}")
    if rung.passes < 1 or rung.batch_size < 1:
        raise ValueError(f"fit: passes and batch_size must be >= 1, got {rung.passes} and {rung.batch_size}")
    opt = _optimizer(rung, model.parameters())
    end = 1.0 if rung.lr_end is None else rung.lr_end / rung.lr
    sched = LinearLR(opt, start_factor=1.0, end_factor=end, total_iters=max(1, rung.passes - 1))
    history: dict[str, list[float]] = {k: [] for k in ("train_loss", "test_loss", "train_error", "test_error")}
    start = 0
    if resume and checkpoint is not None and checkpoint.exists():
        state = load_checkpoint(checkpoint, model, opt, sched)
        start, history = state["epoch"], {k: list(v) for k, v in state["history"].items()}
    x, y, n, b = data.x_train, data.y_train, data.x_train.shape[0], rung.batch_size
    targets = LeCun1989.targets(y).to(x.dtype)  # (N, 10): ±1, for the MSE
    for p in range(start, rung.passes):
        with gu.no_grad():
            xs = random_shift(x) if rung.shift else x  # (N, 1, 16, 16)
        model.train()
        for i in range(0, n, b):
            out = model(xs[i : i + b])  # (b, 10)
            loss = F.mse_loss(out, targets[i : i + b]) if rung.loss == "mse" else F.cross_entropy(out, y[i : i + b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        train, test = measure(model, x, y, rung.loss), measure(model, data.x_test, data.y_test, rung.loss)
        for split, m in (("train", train), ("test", test)):
            history[f"{split}_loss"].append(m["loss"])
            history[f"{split}_error"].append(m["error"])
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, opt, sched, epoch=p + 1, history=history, extra=extra)
        if log is not None:
            log(p + 1, rung.passes, {k: v[-1] for k, v in history.items()})
    return history


def _printer(progress: bool | None, label: str) -> Any:
    """One line per pass unless ``progress`` is None (a per-example bar would cost more than it shows)."""
    if progress is None:
        return None

    def log(p: int, passes: int, rec: dict[str, float]) -> None:
        print(f"{label}pass {p}/{passes}: train loss {rec['train_loss']:.3e} error {rec['train_error']:.2%}, "
              f"test loss {rec['test_loss']:.3e} error {rec['test_error']:.2%}", flush=True)

    return log


def _data(r: Recipe) -> Digits16:
    e = r.extra
    return load_digits(e.get("n_train", N_TRAIN), e.get("n_test", N_TEST), e.get("data_seed", 1337))


def _train_rung(r: Recipe, rung: Rung, data: Digits16, path: Path, *, resume: bool, progress: bool | None,
                ladder: bool = False, label: str = "") -> dict[str, Any]:
    """Train one rung from scratch, or continue the run saved at ``path``, and summarise it.

    On the ``ladder``, ``path`` may hold the previous rung: a run of another configuration (the
    number of passes included, since the schedule depends on it) is trained over from scratch.
    Otherwise another configuration is an error, but another number of passes is the same run,
    continued for longer (or not at all).
    """
    config = asdict(rung)
    go_on = False
    if resume and path.exists():
        saved = gu.load(path)["extra"]["rung"]
        go_on = saved == config if ladder else {**saved, "passes": 0} == {**config, "passes": 0}
        if not go_on and not ladder:
            raise ValueError(f"{r.name}: {path} holds a run of another configuration ({saved}), "
                             f"this run is {config}; use a fresh --out")
    gu.manual_seed(r.seed)
    model = rung.model()
    start = time.perf_counter()
    history = fit(model, rung, data, checkpoint=path, resume=go_on, extra={"recipe": r.to_dict(), "rung": config},
                  log=_printer(progress, label))
    train = measure(model, data.x_train, data.y_train, rung.loss)
    test = measure(model, data.x_test, data.y_test, rung.loss)
    return {"change": rung.change, "passes": rung.passes, "test_error": test["error"], "test_misses": test["misses"],
            "train_error": train["error"], "train_misses": train["misses"], "train_loss": train["loss"],
            "test_loss": test["loss"], "seconds": round(time.perf_counter() - start, 1), "history": history,
            "config": config}


def train(r: Recipe, out: Path, *, resume: bool = False, progress: bool | None = True) -> dict[str, Any]:
    """Train ``lecun1989`` (one run) or ``lecun1989-modern`` (every rung of :data:`LADDER`, in order).

    Both checkpoint ``out/last.safetensors`` after every pass. ``lecun1989``: ``resume=True``
    continues from it exactly (the same final weights as a run never stopped). ``lecun1989-modern``:
    each finished rung k is also kept as ``out/rung{k}.safetensors`` and summarised in
    ``out/ladder.json``; ``resume=True`` skips the finished rungs and continues the unfinished one
    exactly, and ``last.safetensors`` ends as the last rung's weights. ``progress``: a line per
    pass, None for silence. Returns the test accuracy, train/test error and misses, and for the
    modern recipe the ``ladder``: every rung's change, passes, errors and seconds.
    """
    out = Path(out)
    rungs = _rungs(r)
    data = _data(r)
    last = out / "last.safetensors"
    base = {"train_size": int(data.x_train.shape[0]), "test_size": int(data.x_test.shape[0]), "checkpoint": str(last)}
    if not r.extra.get("ladder"):
        res = _train_rung(r, rungs[0], data, last, resume=resume, progress=progress)
        history = res.pop("history")
        plots = {"errors": _plot(lambda p: _plot_history(history, p), out / "errors.png")}
        summary = {k: v for k, v in res.items() if k not in ("change", "config")}
        return {"test_accuracy": 1 - res["test_error"], **summary, **base, "plots": plots}

    ladder_file = out / "ladder.json"
    done = json.loads(ladder_file.read_text()) if resume and ladder_file.exists() else []
    ladder: list[dict[str, Any]] = []
    for k, rung in enumerate(rungs):
        kept = out / f"rung{k}.safetensors"
        if k < len(done) and done[k]["config"] == asdict(rung) and kept.exists():
            ladder.append(done[k])
            if progress is not None:
                print(f"[{k}] {rung.change}: finished before, test error {done[k]['test_error']:.2%}")
            continue
        res = _train_rung(r, rung, data, last, resume=resume, progress=progress, ladder=True, label=f"[{k}] ")
        res.pop("history")
        kept.write_bytes(last.read_bytes())
        ladder.append(res)
        ladder_file.write_text(json.dumps(ladder, indent=2) + "\n")
    plots = {"ladder": _plot(lambda p: _plot_ladder(ladder, p), out / "ladder.png")}
    final = ladder[-1]
    return {"test_accuracy": 1 - final["test_error"], "test_error": final["test_error"],
            "test_misses": final["test_misses"], "train_error": final["train_error"],
            "ladder": [{k: v for k, v in g.items() if k != "config"} for g in ladder], **base, "plots": plots}


def evaluate(r: Recipe, checkpoint: Path) -> dict[str, Any]:
    """Rebuild the data and the model of the rung saved in ``checkpoint`` (any ``rung{k}`` file of
    the modern ladder, or ``last``), load its weights and measure the test split."""
    data = _data(r)
    rung = Rung(**gu.load(checkpoint)["extra"]["rung"])
    model = rung.model()
    load_checkpoint(checkpoint, model)
    test = measure(model, data.x_test, data.y_test, rung.loss)
    return {"test_accuracy": 1 - test["error"], "test_error": test["error"], "test_misses": test["misses"],
            "test_size": int(data.x_test.shape[0])}


# ------------------------------------------------------------------------------------------- plots
def _plot_history(history: dict[str, list[float]], path: Path) -> None:
    from groundup.plot import plot_history

    plot_history(history, path, title="LeCun 1989: one example per step")


def _plot_ladder(ladder: list[dict[str, Any]], path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax = fig.add_subplot()
    errors = [100 * g["test_error"] for g in ladder]
    bars = ax.barh(range(len(ladder)), errors, color="tab:blue")
    ax.bar_label(bars, labels=[f"{e:.2f}%" for e in errors], padding=3)
    ax.set_yticks(range(len(ladder)), [g["change"] for g in ladder])
    ax.invert_yaxis()
    ax.set_xlabel("test error (%)")
    ax.set_xlim(0, 1.2 * max(errors))
    ax.set_title("The 1989 network (9,760 parameters), one modern change at a time")
    fig.savefig(path, dpi=90, bbox_inches="tight")


RECIPES: list[Recipe] = [
    Recipe("lecun1989", "LeCun et al. 1989 on a 7291/2007 16x16 MNIST stand-in: tanh, MSE, per-example SGD, "
           "23 passes", data="mnist16-1989", model="lecun1989", activation="tanh", epochs=23, batch_size=1,
           optimizer="sgd", lr=0.03, momentum=0.0, seed=1337, target=0.95, task="lecun1989",
           extra={"n_train": N_TRAIN, "n_test": N_TEST, "data_seed": 1337}),
    Recipe("lecun1989-modern", "the 1989 network with Karpathy's modern changes, one rung each: softmax CE, "
           "AdamW, ±1px shifts, ReLU + dropout", data="mnist16-1989", model="lecun1989", activation="relu",
           dropout=0.25, epochs=80, batch_size=1, optimizer="adamw", lr=3e-4, momentum=0.0, weight_decay=0.01,
           seed=1337, target=0.975, task="lecun1989",
           extra={"n_train": N_TRAIN, "n_test": N_TEST, "data_seed": 1337, "ladder": True}),
]
