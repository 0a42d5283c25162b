"""MNIST-1D (Greydanus, 2020, "Scaling down deep learning"): a tiny, procedurally generated MNIST.

Each of the 10 digits is a hand-drawn 1-D template of 12 points. A sample is its template, padded
with zeros, stretched, scaled, shifted (circularly), filled with smooth (Gaussian-filtered) noise
where the signal is zero, sprinkled with i.i.d. noise, sheared, and resampled to 40 points. The
defaults make 5,000 samples (4,000 train, 1,000 test) on which a linear model gets ~32% accuracy,
an MLP ~68% and a CNN ~94%: models that differ on MNIST by a fraction of a percent differ here by
tens, in seconds on a CPU.

:func:`make_dataset` reproduces the reference ``mnist1d`` package's ``make_dataset`` exactly — the
same templates, the same sequence of draws from ``np.random.RandomState(seed)`` (which is what
``np.random.seed`` + ``np.random.rand`` use), linear interpolation as ``scipy.interpolate.interp1d``
and the Gaussian filter as ``scipy.ndimage.gaussian_filter`` (mode ``'reflect'``, truncate 4.0)
— so the published ``mnist1d_data.pkl`` arrays come out to within 1e-12, without SciPy. Its own
RandomState keeps NumPy's global RNG untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from groundup.creation import from_numpy
from groundup.datasets.arrays import ArraysDataset

# The 10 digit templates (one row per digit), as drawn in the reference implementation.
_TEMPLATES = np.asarray([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
], dtype=np.float64)  # fmt: skip


def templates() -> dict[str, np.ndarray]:
    """The digit templates ``x`` (10, 12), their coordinate ``t`` (12,) and labels ``y`` (10,)."""
    x = _TEMPLATES - _TEMPLATES.mean(1, keepdims=True)  # zero mean …
    x = x / x.std(1, keepdims=True)  # … unit std …
    x = x - x[:, :1]  # … and every signal starts (and ends) at 0
    return {"x": x / 6.0, "t": np.linspace(-5, 5, x.shape[1]) / 6.0, "y": np.arange(10)}


def gaussian_filter1d(x: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Smooth a 1-D signal with a Gaussian, as ``scipy.ndimage.gaussian_filter1d`` (mode 'reflect').

    The kernel has radius ``int(truncate * sigma + 0.5)`` and is normalised to sum 1; the signal is
    extended by mirroring about its edges (``d c b a | a b c d | d c b a``).
    """
    r = int(truncate * float(sigma) + 0.5)
    k = np.arange(-r, r + 1)
    w = np.exp(-0.5 / (sigma * sigma) * k**2)
    w = w / w.sum()
    padded = np.pad(x, r, mode="symmetric")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1) @ w


def _resample(x: np.ndarray, n: int) -> np.ndarray:
    """Linearly resample ``x`` to ``n`` evenly spaced points over the same span."""
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def _transform(x: np.ndarray, t: np.ndarray, rs: np.random.RandomState, a: dict[str, Any], eps: float = 1e-8):
    """One noisy sample from template ``x``; the draws are made in the reference's order."""
    low, high = a["padding"]
    length = a["template_len"] + high
    p = low + int(rs.rand() * (high - low + 1))  # pad with p zeros
    new_x = _resample(np.concatenate([x + eps, np.zeros(p)]), length)  # … and dilate to a fixed length
    new_t = _resample(t, length)
    new_x *= 1 + a["scale_coeff"] * (rs.rand() - 0.5)  # scale
    k = rs.choice(a["max_translation"])  # circular shift by k (k = 0 leaves it as is)
    new_x = np.concatenate([new_x[-k:], new_x[:-k]])
    mask = new_x != 0  # correlated noise only where the signal is zero (the padding)
    corr = gaussian_filter1d(a["corr_noise_scale"] * rs.randn(length), 2)
    new_x = mask * new_x + (1 - mask) * corr
    new_x = new_x + a["iid_noise_scale"] * rs.randn(length)  # white noise everywhere
    coeff = a["shear_scale"] * (rs.rand() - 0.5)  # shear: add a linear ramp
    new_x = new_x - coeff * np.linspace(-0.5, 0.5, length)
    return _resample(new_x, a["final_seq_length"]), _resample(new_t, a["final_seq_length"])


def make_dataset(
    num_samples: int = 5000,
    train_split: float = 0.8,
    template_len: int = 12,
    padding: tuple[int, int] = (36, 60),
    scale_coeff: float = 0.4,
    max_translation: int = 48,
    corr_noise_scale: float = 0.25,
    iid_noise_scale: float = 2e-2,
    shear_scale: float = 0.75,
    shuffle_seq: bool = False,
    final_seq_length: int = 40,
    seed: int = 42,
) -> dict[str, Any]:
    """Generate MNIST-1D: a dict with ``x`` (train, float64 (N, 40)), ``y`` (int64), ``x_test``,
    ``y_test``, ``t`` (the 40 sample coordinates) and ``templates``. Defaults are the paper's."""
    a = dict(template_len=template_len, padding=tuple(padding), scale_coeff=scale_coeff,
             max_translation=max_translation, corr_noise_scale=corr_noise_scale,
             iid_noise_scale=iid_noise_scale, shear_scale=shear_scale, final_seq_length=final_seq_length)  # fmt: skip
    if len(a["padding"]) != 2 or a["padding"][0] > a["padding"][1]:
        raise ValueError(f"make_dataset: padding must be (low, high) with low <= high, got {padding}")
    temp = templates()
    if template_len != temp["x"].shape[1]:
        raise ValueError(f"make_dataset: the templates have {temp['x'].shape[1]} points, got template_len={template_len}")
    rs = np.random.RandomState(seed)
    per_class = num_samples // len(temp["y"])
    xs, ys = [], []
    new_t = None
    for label in range(len(temp["y"])):
        for _ in range(per_class):
            x, new_t = _transform(temp["x"][label], temp["t"], rs, a)
            xs.append(x)
            ys.append(temp["y"][label])
    perm = rs.permutation(len(ys))  # shuffle the samples
    xs, ys = np.stack(xs)[perm], np.stack(ys)[perm]
    if shuffle_seq:  # optionally also shuffle positions (destroys spatial structure)
        xs = xs[..., rs.permutation(final_seq_length)]
    new_t = new_t / xs.std()
    xs = (xs - xs.mean()) / xs.std()  # zero mean, unit std over the whole dataset
    cut = int(len(ys) * train_split)
    return {"x": xs[:cut], "x_test": xs[cut:], "y": ys[:cut], "y_test": ys[cut:], "t": new_t, "templates": temp}


class MNIST1D(ArraysDataset):
    """MNIST-1D as a dataset: items ``(x, label)`` with ``x`` float32 (40,) and ``label`` an int.

    ``MNIST1D(train=True)`` is the 4,000-sample training split, ``train=False`` the 1,000 test
    samples; keyword arguments go to :func:`make_dataset` (``seed``, ``num_samples`` …). Generation
    takes about a second. ``.data`` / ``.targets`` hold the whole split and ``.tensors()`` /
    ``.as_tensor_dataset()`` give it to a fast DataLoader. For a Conv1d, add the channel axis:
    ``x.unsqueeze(1)``.
    """

    def __init__(
        self,
        root: Any = None,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
        **kwargs: Any,
    ) -> None:
        # root and download are accepted for torchvision-style call sites; the data is generated.
        ds = make_dataset(**kwargs)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        x, y = (ds["x"], ds["y"]) if train else (ds["x_test"], ds["y_test"])
        self.data = from_numpy(x.astype(np.float32))
        self.targets = from_numpy(y.astype(np.int64))
        self.t = ds["t"]
        self.templates = ds["templates"]
        self.classes = [str(i) for i in range(10)]
