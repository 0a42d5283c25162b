"""Timing helpers shared by the benchmark scripts: interleaved runs, median of repeats, a table."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable

import numpy as np


def setup_threads(n: int) -> None:
    """Same BLAS/OpenMP thread count for groundup (threadpoolctl) and PyTorch."""
    import torch

    import groundup as gu

    gu.set_num_threads(n)
    torch.set_num_threads(n)


def time_pair(fn_a: Callable[[], object], fn_b: Callable[[], object], repeat: int, number: int = 1,
              warmup: int = 2) -> tuple[float, float]:
    """Median seconds per call of two workloads, measured alternately so drift hits both alike."""
    for _ in range(warmup):
        fn_a()
        fn_b()
    ta, tb = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn_a()
        t1 = time.perf_counter()
        for _ in range(number):
            fn_b()
        t2 = time.perf_counter()
        ta.append((t1 - t0) / number)
        tb.append((t2 - t1) / number)
    return statistics.median(ta), statistics.median(tb)


def machine() -> str:
    import torch

    import groundup as gu

    return (f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, torch {torch.__version__}, BLAS threads {gu.get_num_threads()}")


def fmt_time(s: float) -> str:
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def table(rows: list[tuple[str, float, float, str]]) -> str:
    """Markdown table: workload, groundup time, torch time, ratio, target."""
    out = ["| workload | groundup | PyTorch | ratio | target |", "|---|---|---|---|---|"]
    for name, g, t, target in rows:
        out.append(f"| {name} | {fmt_time(g)} | {fmt_time(t)} | {g / t:.2f}x | {target} |")
    return "\n".join(out)
