"""The array-module seam, default dtype, random number generator and BLAS threads.

Every op reaches its array library through :data:`xp` (NumPy today), so a CuPy backend can be
added later by swapping this one module's choice instead of touching the ops. The single global
RNG lives here too: :func:`manual_seed` reseeds it, which makes whole runs repeat bit for bit.
"""

from __future__ import annotations

import os
from typing import Any

import numpy

xp: Any = numpy
"""The array module every op uses (``numpy``; a CuPy-compatible module can take its place)."""


# --------------------------------------------------------------------------------------- RNG
class Generator:
    """A random number generator, like ``torch.Generator``: seed it with :meth:`manual_seed`.

    Wraps NumPy's PCG64 bit generator. ``groundup.manual_seed`` reseeds the default one; pass an
    explicit ``Generator`` to the random creation functions (or, later, a DataLoader) to keep a
    stream independent of the global one.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = int(seed) if seed is not None else int(numpy.random.SeedSequence().entropy % 2**63)
        self.np = numpy.random.Generator(numpy.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        """Reset the stream to the one that ``seed`` starts; returns ``self`` as PyTorch does."""
        if not isinstance(seed, (int, numpy.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
        self._seed = int(seed) % 2**64
        self.np = numpy.random.Generator(numpy.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Seed from OS entropy and return the seed used."""
        self.manual_seed(int(numpy.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self) -> int:
        """The seed this stream started from."""
        return self._seed

    def get_state(self) -> dict:
        """The full generator state (a plain dict), for checkpoints."""
        return {"seed": self._seed, "bit_generator": self.np.bit_generator.state}

    def set_state(self, state: dict) -> None:
        """Restore a state returned by :meth:`get_state`."""
        self._seed = int(state["seed"])
        self.np = numpy.random.Generator(numpy.random.PCG64())
        self.np.bit_generator.state = state["bit_generator"]


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: afterwards a run repeats bit for bit on the same machine."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from OS entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator started from."""
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    """The default generator's state (a dict; checkpoints store it)."""
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the default generator's state from :func:`get_rng_state`."""
    default_generator.set_state(state)


def rng(generator: Generator | None = None) -> numpy.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the default one's."""
    return (generator or default_generator).np


# ------------------------------------------------------------------------------ BLAS threads
def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "set_num_threads/get_num_threads need threadpoolctl: pip install 'groundup[threads]' "
            "(or pip install threadpoolctl)"
        ) from e
    return threadpoolctl


_thread_limiter = None


def set_num_threads(n: int) -> None:
    """Limit the BLAS thread pool to ``n`` threads (like ``torch.set_num_threads``).

    On a 2-core machine, oversubscribed BLAS threads make small matmuls several times slower;
    setting the count explicitly keeps timings steady. Uses threadpoolctl.
    """
    global _thread_limiter
    if not isinstance(n, (int, numpy.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    _thread_limiter = _threadpoolctl().threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads() -> int:
    """The number of threads the BLAS library will use (the largest, if several are loaded)."""
    info = [i for i in _threadpoolctl().threadpool_info() if i.get("user_api") == "blas"]
    return max((i["num_threads"] for i in info), default=1)


def _threads_from_env() -> None:
    """Honour ``GROUNDUP_NUM_THREADS`` at import, when threadpoolctl is installed."""
    n = os.environ.get("GROUNDUP_NUM_THREADS")
    if n:
        try:
            set_num_threads(int(n))
        except ImportError:
            pass


_threads_from_env()
