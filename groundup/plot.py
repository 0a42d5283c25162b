"""Pictures of training: loss curves, decision boundaries, confusion matrices, weights, LR schedules,
and of a CNN's insides: its filters, feature maps and saliency maps.

Every function draws with matplotlib, imported only when a function is called. Figures are made
with ``matplotlib.figure.Figure`` and rendered by the non-interactive Agg backend, without pyplot:
no window opens, no global state changes, and it works on servers and in tests. Give a ``path`` and it
writes a PNG there and returns the path as a ``str``; give an ``ax=`` (a matplotlib ``Axes``) and
it draws into that instead (and also saves ``ax.figure`` if a ``path`` is given too), returning
the ``path`` or, without one, the ``ax``. Tensors and NumPy arrays are both accepted.

matplotlib is an optional dependency: ``pip install 'groundup[plot]'``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from groundup.autograd import no_grad
from groundup.tensor import Tensor

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_confusion_matrix",
    "plot_weights_as_images",
    "plot_lr_schedule",
    "plot_filters",
    "plot_feature_maps",
    "plot_saliency",
]

PathLike = str | os.PathLike


# ----------------------------------------------------------------------------------- helpers
def _mpl() -> Any:
    """The ``matplotlib`` module, or an ImportError that says how to install it."""
    try:
        import matplotlib
        import matplotlib.colors  # noqa: F401
        import matplotlib.figure  # noqa: F401
        import matplotlib.ticker  # noqa: F401
    except ImportError as e:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "groundup.plot needs matplotlib, which is not installed: pip install 'groundup[plot]'"
        ) from e
    return matplotlib


def _np(x: Any, name: str) -> np.ndarray:
    """A NumPy copy of a Tensor / array-like (read without tracking gradients)."""
    if isinstance(x, Tensor):
        return np.array(x.detach().numpy())
    try:
        return np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"{name}: could not read it as an array ({e})") from e


def _start(path: PathLike | None, ax: Any, fn: str, **subplots: Any) -> tuple[Any, Any, bool]:
    """The (figure, axes, own_figure) to draw on: a new figure, or the caller's ``ax``."""
    if path is None and ax is None:
        raise ValueError(f"{fn}: give a path to write the PNG to, or an ax= to draw into")
    mpl = _mpl()
    if ax is not None:
        first = ax[0] if isinstance(ax, (list, tuple, np.ndarray)) else ax
        return first.figure, ax, False
    figsize = subplots.pop("figsize", None)
    fig = mpl.figure.Figure(figsize=figsize)  # not pyplot: no global state, no GUI, rendered by Agg
    return fig, fig.subplots(**subplots), True


def _finish(fig: Any, path: PathLike | None, ax: Any) -> Any:
    """Save the figure to ``path`` (if any) and return the path, or the axes drawn into."""
    if path is not None:
        path = os.fspath(path)
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        fig.savefig(path, format="png", dpi=100, bbox_inches="tight")
    return path if path is not None else ax


# ----------------------------------------------------------------------------------- history
_SPLITS = ("train_", "val_", "valid_", "validation_", "test_")
_SKIP = {"epoch", "epochs", "step", "steps", "time", "epoch_time", "iteration"}


def _history_dict(history: Any, keep: tuple[str, ...] = ()) -> dict[str, list]:
    """A ``{name: per-epoch values}`` dict from a Trainer History, a dict, or a list of per-epoch dicts.

    Bookkeeping columns (epoch, time, ...) are dropped unless named in ``keep``."""
    if isinstance(history, Mapping):
        d = dict(history)
    elif hasattr(history, "history") and isinstance(history.history, Mapping):  # Keras-style
        d = dict(history.history)
    elif hasattr(history, "to_dict") and callable(history.to_dict):
        d = dict(history.to_dict())
    elif isinstance(history, Sequence) and history and all(isinstance(r, Mapping) for r in history):
        keys = list(dict.fromkeys(k for r in history for k in r))
        d = {k: [r.get(k) for r in history] for k in keys}
    elif hasattr(history, "__dict__"):
        d = {k: v for k, v in vars(history).items() if not k.startswith("_")}
    else:
        raise TypeError(
            f"plot_history: expected a History or a dict of per-epoch lists, got {type(history).__name__}"
        )
    out: dict[str, list] = {}
    for k, v in d.items():
        skipped = str(k).lower() in _SKIP and k not in keep
        if skipped or isinstance(v, (str, bytes)) or not isinstance(v, Sequence | np.ndarray):
            continue
        vals = []
        for x in v:
            if x is None:
                vals.append(math.nan)
            elif isinstance(x, (int, float, np.number)) and not isinstance(x, bool):
                vals.append(float(x))
            elif isinstance(x, Tensor) and x.numel() == 1:
                vals.append(float(x.item()))
            else:
                break
        else:
            if not vals or all(math.isnan(x) for x in vals):
                continue
            if str(k).lower() == "lr" and len(set(vals)) == 1:  # a constant learning rate says nothing
                continue
            out[str(k)] = vals
    if not out:
        raise ValueError(
            "plot_history: found no per-epoch numeric series to plot "
            "(expected e.g. {'loss': [...], 'val_loss': [...], 'accuracy': [...]})"
        )
    return out


def _split(key: str) -> tuple[str, str]:
    """``'val_loss' -> ('loss', 'val')``, ``'loss' -> ('loss', 'train')``."""
    for prefix in _SPLITS:
        if key.startswith(prefix):
            return key[len(prefix):], prefix[:-1]
    return key, "train"


def plot_history(history: Any, path: PathLike | None = None, *, ax: Any = None, title: str | None = None) -> Any:
    """Loss and metric curves per epoch, train and validation on the same panel.

    ``history`` is the Trainer's ``History``, a Keras-style object with a ``.history`` dict, a dict
    of per-epoch lists (``{'loss': [...], 'val_loss': [...], 'accuracy': [...], 'val_accuracy': [...]}``;
    ``train_``/``val_``/``test_`` prefixes pair the curves), or a list of per-epoch dicts. Each
    metric gets its own panel, loss first (``lr`` too, when it changes; ``epoch`` and ``time`` are
    left out); ``None``/NaN entries (epochs without validation) are skipped. ``ax`` may be one Axes
    (with one metric) or a sequence with one Axes per panel.
    A ``step`` column (runs measured every N optimizer steps rather than per epoch) becomes the x axis.
    """
    series = _history_dict(history, keep=("step",))
    steps = series.pop("step", None)
    panels: dict[str, list[tuple[str, str]]] = {}
    for key in series:
        base, split = _split(key)
        panels.setdefault(base, []).append((split, key))
    order = sorted(panels, key=lambda b: (0 if "loss" in b else 1, list(panels).index(b)))
    n = len(order)
    if ax is not None:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        if len(axes) != n:
            raise ValueError(f"plot_history: {n} panel(s) to draw ({', '.join(order)}), but {len(axes)} ax given")
    fig, axes_, own = _start(path, ax, "plot_history", ncols=n, figsize=(4.5 * n, 3.5), squeeze=False)
    axes = list(np.ravel(axes_)) if own else axes
    for a, base in zip(axes, order):
        for split, key in panels[base]:
            y = np.asarray(series[key], dtype=float)
            x = np.arange(1, len(y) + 1) if steps is None else np.asarray(steps, dtype=float)
            ok = ~np.isnan(y)
            a.plot(x[ok], y[ok], marker="o" if ok.sum() <= 30 else None, markersize=3, label=split)
        a.set_xlabel("epoch" if steps is None else "step")
        a.xaxis.set_major_locator(_mpl().ticker.MaxNLocator(integer=True))
        a.set_ylabel(base)
        a.set_title(base)
        a.grid(alpha=0.3)
        if len(panels[base]) > 1 or any(k != base for _, k in panels[base]):
            a.legend()  # a lone unprefixed series (such as lr) needs no legend
    if title and own:
        fig.suptitle(title)
    if own:
        fig.tight_layout()
    return _finish(fig, path, ax)


# ----------------------------------------------------------------------------------- decision boundary
def _model_classes(model: Any, grid: np.ndarray, threshold: float, batch_size: int = 8192) -> tuple[np.ndarray, np.ndarray | None]:
    """Predicted class per grid point, and for 1-output models the score (for the boundary line)."""
    from groundup.creation import as_tensor
    from groundup.nn.module import Module

    was_training = model.training if isinstance(model, Module) else None
    if was_training:
        model.eval()
    fn: Callable = model.decision_function if hasattr(model, "decision_function") else model
    try:
        with no_grad():
            outs = []
            for i in range(0, len(grid), batch_size):
                out = fn(as_tensor(grid[i : i + batch_size]))
                outs.append(_np(out, "plot_decision_boundary"))
    finally:
        if was_training:
            model.train()
    out = np.concatenate(outs, axis=0)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim == 1:
        if out.dtype.kind in "iub":  # already labels
            return out.astype(np.int64), None
        return (out > threshold).astype(np.int64), out.astype(float)
    if out.ndim == 2:
        return out.argmax(axis=1), None
    raise ValueError(f"plot_decision_boundary: the model returned shape {out.shape[1:]} per point; expected (C,), (1,) or ()")


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: PathLike | None = None,
    resolution: int = 200,
    *,
    ax: Any = None,
    threshold: float = 0.0,
    padding: float = 0.1,
    title: str | None = None,
) -> Any:
    """The regions a classifier assigns to each class over 2-D inputs, with the data on top.

    The model is evaluated (in eval mode, under ``no_grad``) on a ``resolution × resolution`` grid
    spanning ``X`` plus ``padding`` of its range. Outputs are read as: ``(N, C)`` logits or
    probabilities -> argmax; a single score ``(N,)``/``(N, 1)`` -> class 1 where ``score >
    threshold`` (0 for logits; pass 0.5 for a model ending in a sigmoid), with the boundary line
    drawn; integer outputs -> labels as they are. A model with a ``decision_function`` (the
    :class:`~groundup.models.Perceptron`) is read through it. ``model`` can be any callable.
    """
    X = _np(X, "plot_decision_boundary: X")
    y = _np(y, "plot_decision_boundary: y").reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary: X must have shape (N, 2) (two input features), got {X.shape}; "
            "for higher-dimensional data plot two features or a 2-D projection"
        )
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: y has {len(y)} labels for {len(X)} points")
    if not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be an int >= 2, got {resolution!r}")
    if not callable(model):
        raise TypeError(f"plot_decision_boundary: model must be callable, got {type(model).__name__}")
    dtype = np.float32 if X.dtype != np.float64 else np.float64
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    lo, hi = lo - padding * span, hi + padding * span
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    xx, yy = np.meshgrid(xs, ys)  # (R, R) each
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(dtype)  # (R*R, 2)
    classes, score = _model_classes(model, grid, threshold)
    n_classes = int(max(classes.max(), y.max() if y.size else 0)) + 1

    fig, a, own = _start(path, ax, "plot_decision_boundary", figsize=(5, 4.5))
    mpl = _mpl()
    cmap = mpl.colormaps["tab10" if n_classes <= 10 else "tab20"]
    colors = mpl.colors.ListedColormap([cmap(i % cmap.N) for i in range(n_classes)])
    norm = mpl.colors.BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes)
    a.contourf(xx, yy, classes.reshape(xx.shape), levels=np.arange(n_classes + 1) - 0.5, cmap=colors, norm=norm, alpha=0.3)
    if score is not None and score.min() < threshold < score.max():
        a.contour(xx, yy, score.reshape(xx.shape), levels=[threshold], colors="k", linewidths=1)
    a.scatter(X[:, 0], X[:, 1], c=y, cmap=colors, norm=norm, edgecolors="k", linewidths=0.5, s=20)
    a.set_xlim(lo[0], hi[0])
    a.set_ylim(lo[1], hi[1])
    a.set_xlabel("$x_1$")
    a.set_ylabel("$x_2$")
    if title:
        a.set_title(title)
    return _finish(fig, path, ax)


# ----------------------------------------------------------------------------------- confusion matrix
def plot_confusion_matrix(
    cm: Any,
    path: PathLike | None = None,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    *,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """A confusion matrix as a heat map: rows are true classes, columns predicted ones.

    ``cm`` is a square ``(C, C)`` array of counts (as ``groundup.train.metrics.confusion_matrix``
    returns). ``normalize=True`` divides each row by its total, so the diagonal is per-class
    recall (a class with no samples gives a row of zeros). Cells are annotated when ``C <= 30``.
    """
    cm = _np(cm, "plot_confusion_matrix: cm").astype(float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"plot_confusion_matrix: cm must be a square (C, C) matrix, got shape {cm.shape}")
    if np.any(cm < 0) or not np.all(np.isfinite(cm)):
        raise ValueError("plot_confusion_matrix: cm must hold finite non-negative counts")
    c = cm.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(c)]
    class_names = [str(n) for n in class_names]
    if len(class_names) != c:
        raise ValueError(f"plot_confusion_matrix: {len(class_names)} class_names for a {c}x{c} matrix")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)

    size = max(4.0, 0.45 * c + 2)
    fig, a, own = _start(path, ax, "plot_confusion_matrix", figsize=(size + 1, size))
    im = a.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else max(cm.max(), 1))
    fig.colorbar(im, ax=a, fraction=0.046, pad=0.04)
    slant = max(map(len, class_names)) > 2  # long names are slanted so that they do not overlap
    a.set_xticks(range(c), labels=class_names, rotation=45 if slant else 0, ha="right" if slant else "center")
    a.set_yticks(range(c), labels=class_names)
    a.set_xlabel("predicted")
    a.set_ylabel("true")
    if c <= 30:
        cut = (1 if normalize else cm.max()) / 2
        for i in range(c):
            for j in range(c):
                text = f"{cm[i, j]:.2f}" if normalize else f"{int(round(cm[i, j]))}"
                a.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if cm[i, j] > cut else "black")
    a.set_title(title or ("confusion matrix (row-normalized)" if normalize else "confusion matrix"))
    return _finish(fig, path, ax)


# ----------------------------------------------------------------------------------- weights
def plot_weights_as_images(
    weight: Any,
    path: PathLike | None = None,
    shape: Sequence[int] = (28, 28),
    ncols: int | None = None,
    *,
    ax: Any = None,
    max_images: int | None = 100,
    title: str | None = None,
) -> Any:
    """First-layer weights as a grid of images: what each unit "looks for" in the input.

    ``weight`` is a ``(K, D)`` matrix (an ``nn.Linear``'s ``weight``, or the layer itself), one row
    per unit with ``D = prod(shape)`` (784 for MNIST's 28x28), or ``(K, H, W)`` / ``(K, 1, H, W)``
    filters. Each image is scaled by its own largest magnitude and drawn with a diverging colour map
    (red positive, blue negative, white zero). At most ``max_images`` units are shown, ``ncols`` per
    row (default: about square).
    """
    if hasattr(weight, "weight") and not isinstance(weight, (Tensor, np.ndarray)):  # a layer
        weight = weight.weight
    w = _np(weight, "plot_weights_as_images: weight").astype(float)
    shape = tuple(int(s) for s in shape)
    if w.ndim == 2:
        if len(shape) != 2 or shape[0] * shape[1] != w.shape[1]:
            raise ValueError(
                f"plot_weights_as_images: rows of length {w.shape[1]} cannot be shown as {shape} images "
                f"(need prod(shape) == {w.shape[1]}); pass shape=(H, W)"
            )
        imgs = w.reshape(w.shape[0], *shape)
    elif w.ndim == 4 and w.shape[1] == 1:
        imgs = w[:, 0]
    elif w.ndim == 3:
        imgs = w
    else:
        raise ValueError(
            f"plot_weights_as_images: expected a (K, D) weight matrix or (K, H, W) / (K, 1, H, W) filters, "
            f"got shape {w.shape}"
        )
    if imgs.shape[0] == 0:
        raise ValueError("plot_weights_as_images: weight has no rows")
    if max_images is not None:
        imgs = imgs[:max_images]
    k = imgs.shape[0]
    nrows, ncols = _grid(k, ncols, "plot_weights_as_images")
    # one mosaic with a 1-pixel NaN gap (drawn white) between tiles, each tile scaled to [-1, 1]
    scale = np.abs(imgs).reshape(k, -1).max(axis=1)
    scale[scale == 0] = 1.0
    mosaic = _mosaic(imgs / scale[:, None, None], nrows, ncols)

    fig, a, own = _start(path, ax, "plot_weights_as_images", figsize=(max(3.0, 1.0 * ncols), max(3.0, 1.0 * nrows)))
    cmap = _mpl().colormaps["RdBu_r"].with_extremes(bad="white")
    a.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    a.set_axis_off()
    if title:
        a.set_title(title)
    return _finish(fig, path, ax)


# ----------------------------------------------------------------------------------- LR schedule
def plot_lr_schedule(
    lrs: Any,
    path: PathLike | None = None,
    *,
    ax: Any = None,
    log: bool = False,
    xlabel: str = "step",
    title: str | None = None,
) -> Any:
    """The learning rate at each step (or epoch) of a schedule.

    ``lrs`` is a sequence of numbers, or ``(steps, groups)`` values (e.g. ``[sched.get_last_lr()
    for ...]``) drawn as one line per parameter group. ``log=True`` uses a log scale.
    """
    values = _np(lrs, "plot_lr_schedule: lrs").astype(float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(f"plot_lr_schedule: lrs must be a non-empty list of numbers (or of per-group lists), got shape {values.shape}")
    if log and np.any(values <= 0):
        raise ValueError("plot_lr_schedule: log=True needs positive learning rates")
    fig, a, own = _start(path, ax, "plot_lr_schedule", figsize=(5, 3.5))
    steps = np.arange(values.shape[0])
    for g in range(values.shape[1]):
        a.plot(steps, values[:, g], label=f"group {g}" if values.shape[1] > 1 else None)
    if values.shape[1] > 1:
        a.legend()
    if log:
        a.set_yscale("log")
    a.set_xlabel(xlabel)
    a.set_ylabel("learning rate")
    a.grid(alpha=0.3)
    a.set_title(title or "learning-rate schedule")
    return _finish(fig, path, ax)


# ----------------------------------------------------------------------------------- CNN filters and feature maps
def _grid(k: int, ncols: int | None, fn: str) -> tuple[int, int]:
    """``(nrows, ncols)`` of a row-major grid for ``k`` tiles (about square by default)."""
    if ncols is None:
        ncols = math.ceil(math.sqrt(k))
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"{fn}: ncols must be a positive int, got {ncols!r}")
    ncols = min(ncols, k)
    return math.ceil(k / ncols), ncols


def _mosaic(tiles: np.ndarray, nrows: int, ncols: int, gap: float = np.nan) -> np.ndarray:
    """``(K, h, w[, 3])`` tiles as one image, row-major, with a 1-pixel ``gap`` between tiles
    (NaN, drawn white by a colour map with ``bad='white'``; 1.0 for RGB tiles)."""
    k, h, w = tiles.shape[:3]
    out = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1, *tiles.shape[3:]), gap)
    for i in range(k):
        r, c = divmod(i, ncols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tiles[i]
    return out


def plot_filters(
    weight: Any,
    path: PathLike | None = None,
    *,
    ax: Any = None,
    ncols: int | None = None,
    shared: bool = False,
    max_filters: int | None = 64,
    title: str | None = None,
) -> Any:
    """The kernels of a convolution, ``(O, C, kh, kw)`` (a ``Conv2d``'s ``weight``, or the layer), as a grid.

    * ``C == 1`` (a first layer on grayscale images): one tile per filter, ``ncols`` per row
      (default about square), in a diverging colour map: red positive, blue negative, white 0.
    * ``C == 3`` (a first layer on RGB images): one colour tile per filter, mid-grey at 0.
    * any other ``C`` (a deeper layer): row ``o`` shows filter ``o``'s ``C`` slices, one per
      input channel (``ncols`` does not apply).

    ``shared=False`` scales each filter by its own largest ``|w|``, which shows every filter's
    shape however small it is; ``shared=True`` uses one scale for all, which shows which filters
    are strong and which barely matter. At most ``max_filters`` filters are drawn.
    """
    if hasattr(weight, "weight") and not isinstance(weight, (Tensor, np.ndarray)):  # a layer
        weight = weight.weight
    w = _np(weight, "plot_filters: weight").astype(float)
    if w.ndim != 4 or 0 in w.shape:
        raise ValueError(f"plot_filters: expected non-empty (out_channels, in_channels, kh, kw) weights, "
                         f"got shape {w.shape}")
    if max_filters is not None:
        w = w[:max_filters]
    o, c = w.shape[:2]
    scale = np.abs(w).reshape(o, -1).max(axis=1)  # (O,) one scale per filter
    if shared:
        scale[:] = scale.max()
    scale[scale == 0] = 1.0
    w = w / scale[:, None, None, None]  # every value in [-1, 1]
    if c == 3:
        nrows, ncols = _grid(o, ncols, "plot_filters")
        mosaic = _mosaic(w.transpose(0, 2, 3, 1) / 2 + 0.5, nrows, ncols, gap=1.0)  # (.., .., 3) in [0, 1]
    elif c == 1:
        nrows, ncols = _grid(o, ncols, "plot_filters")
        mosaic = _mosaic(w[:, 0], nrows, ncols)
    else:
        if ncols is not None:
            raise ValueError(f"plot_filters: filters with {c} input channels are drawn one row per filter, "
                             "one column per input channel; ncols only applies to 1 or 3 input channels")
        nrows, ncols = o, c
        mosaic = _mosaic(w.reshape(o * c, *w.shape[2:]), nrows, ncols)
    fig, a, own = _start(path, ax, "plot_filters", figsize=(max(3.0, 0.6 * ncols), max(3.0, 0.6 * nrows)))
    if c == 3:
        a.imshow(mosaic, interpolation="nearest")
    else:
        cmap = _mpl().colormaps["RdBu_r"].with_extremes(bad="white")
        a.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    a.set_axis_off()
    if title:
        a.set_title(title)
    return _finish(fig, path, ax)


def plot_feature_maps(
    maps: Any,
    path: PathLike | None = None,
    *,
    ax: Any = None,
    ncols: int | None = None,
    shared: bool = False,
    max_maps: int | None = 64,
    cmap: str = "viridis",
    title: str | None = None,
) -> Any:
    """The channels of one input's activations, ``(C, H, W)`` or ``(1, C, H, W)``, as a grid of images.

    Pass one sample (``maps[i]`` of a batch, e.g. from :func:`groundup.interpret.feature_maps`).
    ``shared=False`` stretches each map from its own minimum to its maximum (shows the pattern in
    every channel); ``shared=True`` uses one range for all (shows which channels are active). At
    most ``max_maps`` channels are drawn, ``ncols`` per row (default about square).
    """
    m = _np(maps, "plot_feature_maps: maps").astype(float)
    if m.ndim == 4 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 3 or 0 in m.shape:
        raise ValueError(f"plot_feature_maps: expected one input's maps, shape (C, H, W) or (1, C, H, W), got "
                         f"{_np(maps, 'plot_feature_maps: maps').shape}; for a batch pass maps[i]")
    if max_maps is not None:
        m = m[:max_maps]
    k = m.shape[0]
    flat = m.reshape(k, -1)
    lo, hi = flat.min(axis=1), flat.max(axis=1)  # (C,) each
    if shared:
        lo[:], hi[:] = lo.min(), hi.max()
    span = np.where(hi > lo, hi - lo, 1.0)
    m = (m - lo[:, None, None]) / span[:, None, None]  # each map in [0, 1]
    nrows, ncols = _grid(k, ncols, "plot_feature_maps")
    fig, a, own = _start(path, ax, "plot_feature_maps", figsize=(max(3.0, 1.0 * ncols), max(3.0, 1.0 * nrows)))
    colors = _mpl().colormaps[cmap].with_extremes(bad="white")
    a.imshow(np.ma.masked_invalid(_mosaic(m, nrows, ncols)), cmap=colors, vmin=0, vmax=1, interpolation="nearest")
    a.set_axis_off()
    if title:
        a.set_title(title)
    return _finish(fig, path, ax)


# ----------------------------------------------------------------------------------- saliency
def _as_images(x: np.ndarray, n: int | None, fn: str) -> np.ndarray:
    """Images as ``(N, H, W)`` (grayscale) or ``(N, H, W, 3)`` (RGB), from (H, W), (C, H, W) or (N, C, H, W)."""
    if n is None:  # one image: (H, W), (C, H, W) or (1, C, H, W)
        x = x[None] if x.ndim in (2, 3) else x
        x = x[:, None] if x.ndim == 3 else x  # (1, H, W) -> (1, 1, H, W)
    elif x.ndim == 3:
        x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or (n is not None and x.shape[0] != n):
        raise ValueError(f"{fn}: image must be (H, W) or (C, H, W) for one saliency map, (N, H, W) or "
                         f"(N, C, H, W) for N maps, with C = 1 or 3; got shape {x.shape} for "
                         f"{'one map' if n is None else f'{n} maps'}")
    if x.shape[1] == 1:
        return x[:, 0]
    lo = x.min(axis=(1, 2, 3), keepdims=True)
    hi = x.max(axis=(1, 2, 3), keepdims=True)
    return ((x - lo) / np.where(hi > lo, hi - lo, 1.0)).transpose(0, 2, 3, 1)  # RGB stretched to [0, 1]


def plot_saliency(
    image: Any,
    saliency: Any,
    path: PathLike | None = None,
    *,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    cmap: str = "hot",
    title: str | None = None,
) -> Any:
    """Images (top row) above their saliency maps (bottom row), one column per image.

    ``saliency`` is ``(H, W)`` for one image or ``(N, H, W)`` for N (as
    :func:`groundup.interpret.saliency` returns); ``image`` is the matching ``(H, W)`` / ``(C, H, W)``
    or ``(N, H, W)`` / ``(N, C, H, W)`` input, grayscale or RGB. Each map is drawn from 0 to its own
    maximum: a saliency map says which pixels matter most for this image, not how much in
    absolute terms. ``labels`` (one string per image) title the columns. ``ax`` may be a
    ``(2, N)`` array of Axes (two Axes for one image).
    """
    s = _np(saliency, "plot_saliency: saliency").astype(float)
    if s.ndim not in (2, 3) or 0 in s.shape:
        raise ValueError(f"plot_saliency: saliency must be (H, W) or (N, H, W), got shape {s.shape}")
    n = None if s.ndim == 2 else s.shape[0]
    s = s[None] if n is None else s
    imgs = _as_images(_np(image, "plot_saliency: image").astype(float), n, "plot_saliency")
    if imgs.shape[1:3] != s.shape[1:]:
        raise ValueError(f"plot_saliency: images are {imgs.shape[1:3]} but saliency maps are {s.shape[1:]}")
    k = s.shape[0]
    if labels is not None and len(labels) != k:
        raise ValueError(f"plot_saliency: {len(labels)} labels for {k} image(s)")
    if ax is not None:
        axes = np.asarray(ax, dtype=object).reshape(-1)
        if axes.size != 2 * k:
            raise ValueError(f"plot_saliency: {k} image(s) need a (2, {k}) array of Axes, got {axes.size} Axes")
        axes = axes.reshape(2, k)
    fig, axes_, own = _start(path, None if ax is None else list(axes.ravel()), "plot_saliency", nrows=2, ncols=k,
                             squeeze=False, figsize=(max(2.0, 1.4 * k), 3.0))
    axes = np.asarray(axes_, dtype=object).reshape(2, k) if own else axes
    peak = s.reshape(k, -1).max(axis=1)
    for i in range(k):
        top, bottom = axes[0, i], axes[1, i]
        top.imshow(imgs[i], cmap="gray" if imgs.ndim == 3 else None, interpolation="nearest")
        bottom.imshow(s[i], cmap=cmap, vmin=0, vmax=peak[i] if peak[i] > 0 else 1.0, interpolation="nearest")
        top.set_axis_off()
        bottom.set_axis_off()
        if labels is not None:
            top.set_title(str(labels[i]), fontsize=9)
    if title and own:
        fig.suptitle(title)
    return _finish(fig, path, ax)
