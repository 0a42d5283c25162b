"""Small synthetic datasets for first experiments: each returns ``(X, y)`` as groundup tensors.

``X`` is float32 (n, features); ``y`` is int64 class labels (float32 targets for the regression
sets). Randomness comes from ``generator``: a :class:`groundup.Generator`, an int seed, or None
for groundup's global RNG (so ``groundup.manual_seed`` makes them repeat).

- :func:`xor` — the four corners of the XOR truth table (a single perceptron cannot separate them);
- :func:`linearly_separable` — two classes split by a random hyperplane, with a margin;
- :func:`blobs` — Gaussian clusters (sklearn's ``make_blobs``);
- :func:`moons` / :func:`circles` — sklearn's ``make_moons`` / ``make_circles`` formulas;
- :func:`spirals` — interleaved spiral arms (the CS231n example), hard for linear models;
- :func:`linear` / :func:`sine` — regression targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from groundup.backend import Generator, rng
from groundup.creation import from_numpy
from groundup.tensor import Tensor


def _rng(generator: Generator | int | None) -> np.random.Generator:
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return Generator(int(generator)).np
    return rng(generator)


def _check_n(n: Any, name: str, owner: str, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {n!r}")
    return int(n)


def _out(x: np.ndarray, y: np.ndarray, regression: bool = False) -> tuple[Tensor, Tensor]:
    return from_numpy(np.ascontiguousarray(x, dtype=np.float32)), from_numpy(
        np.ascontiguousarray(y, dtype=np.float32 if regression else np.int64)
    )


def _shuffle(g: np.random.Generator, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = g.permutation(len(y))
    return x[p], y[p]


def xor(n: int = 4, noise: float = 0.0, generator: Generator | int | None = None) -> tuple[Tensor, Tensor]:
    """The XOR problem: points at the corners (0,0), (0,1), (1,0), (1,1) labelled 0, 1, 1, 0.

    ``n`` points cycle through the corners in that order (balanced to within one), each moved by
    Gaussian noise of std ``noise``; ``xor()`` is exactly the truth table.
    """
    n = _check_n(n, "n", "xor")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    labels = np.array([0, 1, 1, 0])
    k = np.arange(n) % 4
    x = corners[k]
    if noise:
        x = x + _rng(generator).normal(0.0, noise, x.shape)
    return _out(x, labels[k])


def linearly_separable(
    n: int = 100, dim: int = 2, margin: float = 0.1, generator: Generator | int | None = None
) -> tuple[Tensor, Tensor]:
    """Points uniform in [-1, 1]^dim, labelled by the side of a random hyperplane through the origin.

    Points closer than ``margin`` to the plane are redrawn, so a perceptron provably converges.
    """
    n, dim = _check_n(n, "n", "linearly_separable"), _check_n(dim, "dim", "linearly_separable")
    if not 0 <= margin < 1:
        raise ValueError(f"linearly_separable: margin must be in [0, 1), got {margin}")
    g = _rng(generator)
    w = g.standard_normal(dim)
    w /= np.linalg.norm(w)
    xs: list[np.ndarray] = []
    have = 0
    while have < n:  # rejection sampling; keeps about (1 - margin * const) of each draw
        cand = g.uniform(-1, 1, (2 * (n - have) + 8, dim))
        cand = cand[np.abs(cand @ w) >= margin]
        xs.append(cand)
        have += len(cand)
    x = np.concatenate(xs)[:n]
    return _out(x, (x @ w > 0).astype(np.int64))


def blobs(
    n: int = 100,
    centers: int | Any = 3,
    std: float = 1.0,
    dim: int = 2,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    generator: Generator | int | None = None,
) -> tuple[Tensor, Tensor]:
    """Isotropic Gaussian clusters (``sklearn.datasets.make_blobs``): class ``i`` around center ``i``.

    ``centers`` is a count (drawn uniformly in ``center_box``) or an array (k, dim). The ``n``
    samples are split evenly, the first ``n % k`` clusters getting one more.
    """
    n = _check_n(n, "n", "blobs")
    g = _rng(generator)
    if isinstance(centers, (int, np.integer)):
        k = _check_n(centers, "centers", "blobs")
        c = g.uniform(center_box[0], center_box[1], (k, _check_n(dim, "dim", "blobs")))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2:
            raise ValueError(f"blobs: centers must be an int or an array (k, dim), got shape {c.shape}")
        k = len(c)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    y = np.repeat(np.arange(k), sizes)
    x = c[y] + g.normal(0.0, std, (n, c.shape[1]))
    if shuffle:
        x, y = _shuffle(g, x, y)
    return _out(x, y)


def moons(
    n: int = 100, noise: float | None = None, shuffle: bool = True, generator: Generator | int | None = None
) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles (``sklearn.datasets.make_moons``'s formula).

    Class 0 is the upper arc ``(cos s, sin s)``, class 1 the lower ``(1 - cos s, 0.5 - sin s)``,
    ``s`` evenly spaced on [0, π]; then an optional shuffle and Gaussian noise of std ``noise``.
    """
    n = _check_n(n, "n", "moons", 2)
    n_out = n // 2
    n_in = n - n_out
    s_out, s_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.vstack([
        np.append(np.cos(s_out), 1 - np.cos(s_in)),
        np.append(np.sin(s_out), 1 - np.sin(s_in) - 0.5),
    ]).T  # fmt: skip
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    g = _rng(generator)
    if shuffle:
        x, y = _shuffle(g, x, y)
    if noise is not None:
        x = x + g.normal(0.0, noise, x.shape)
    return _out(x, y)


def circles(
    n: int = 100,
    noise: float | None = None,
    factor: float = 0.8,
    shuffle: bool = True,
    generator: Generator | int | None = None,
) -> tuple[Tensor, Tensor]:
    """A large circle (class 0) around a smaller one of radius ``factor`` (class 1), as ``make_circles``."""
    n = _check_n(n, "n", "circles", 2)
    if not 0 <= factor < 1:
        raise ValueError(f"circles: factor has to be between 0 and 1, got {factor}")
    n_out = n // 2
    n_in = n - n_out
    s_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    s_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.vstack([
        np.append(np.cos(s_out), np.cos(s_in) * factor),
        np.append(np.sin(s_out), np.sin(s_in) * factor),
    ]).T  # fmt: skip
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    g = _rng(generator)
    if shuffle:
        x, y = _shuffle(g, x, y)
    if noise is not None:
        x = x + g.normal(0.0, noise, x.shape)
    return _out(x, y)


def spirals(
    n_per_class: int = 100, classes: int = 3, noise: float = 0.2, generator: Generator | int | None = None
) -> tuple[Tensor, Tensor]:
    """``classes`` spiral arms (CS231n's "spiral data"): arm ``j`` has radius ``r`` from 0 to 1 and
    angle ``4j … 4(j+1)`` radians plus Gaussian noise of std ``noise``. Samples are ordered by class."""
    n = _check_n(n_per_class, "n_per_class", "spirals")
    k = _check_n(classes, "classes", "spirals")
    g = _rng(generator)
    xs, ys = [], []
    for j in range(k):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + g.standard_normal(n) * noise
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(n, j))
    return _out(np.concatenate(xs), np.concatenate(ys))


def linear(
    n: int = 100,
    dim: int = 1,
    noise: float = 0.1,
    weight: Any = None,
    bias: float = 0.0,
    generator: Generator | int | None = None,
) -> tuple[Tensor, Tensor]:
    """Regression data ``y = X @ weight + bias + noise`` with ``X`` uniform in [-1, 1]^dim.

    ``weight`` defaults to a random standard-normal vector; ``y`` is float32 (n,).
    """
    n, dim = _check_n(n, "n", "linear"), _check_n(dim, "dim", "linear")
    g = _rng(generator)
    w = g.standard_normal(dim) if weight is None else np.asarray(weight, dtype=np.float64).reshape(dim)
    x = g.uniform(-1, 1, (n, dim))
    y = x @ w + bias + g.normal(0.0, noise, n)
    return _out(x, y, regression=True)


def sine(n: int = 100, noise: float = 0.1, generator: Generator | int | None = None) -> tuple[Tensor, Tensor]:
    """Regression data ``y = sin(x) + noise`` for ``x`` uniform in [-π, π]; X (n, 1), y (n,) float32."""
    n = _check_n(n, "n", "sine")
    g = _rng(generator)
    x = g.uniform(-np.pi, np.pi, (n, 1))
    return _out(x, np.sin(x[:, 0]) + g.normal(0.0, noise, n), regression=True)
