"""Timing helpers shared by the benchmark scripts: interleaved runs, median of repeats, a table, and the
1- and 2-thread comparison of two libraries used by the CNN benchmarks."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

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


# --------------------------------------------------- 1- and 2-thread comparisons (bench_conv, lenet, resnet)
def time_phases(configs: dict, repeat: int, rounds: int) -> dict:
    """Seconds per call of each configuration ``{key: (fn, setup or None)}``: all timings.

    Round-robin over ``rounds`` rounds; in each, every configuration runs one phase: its ``setup``
    (e.g. setting a thread count), one untimed call (waking this library's threads while the
    other's go idle, see the module docstring), then ``repeat // rounds`` timed calls.
    """
    times: dict = {k: [] for k in configs}
    per_round = max(1, repeat // rounds)
    for _ in range(rounds):
        for key, (fn, setup) in configs.items():
            if setup is not None:
                setup()
            fn()
            for _ in range(per_round):
                t0 = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t0)
    return times


def compare(lib_gu, lib_torch, step_gu, step_torch, repeat: int, rounds: int) -> dict:
    """Time both steps with 1 and 2 threads each (:func:`time_phases`): all timings, keyed
    ``("groundup" | "torch", threads)``."""
    configs = {}
    for threads in (1, 2):
        configs["groundup", threads] = (step_gu, lambda n=threads: lib_gu.set_num_threads(n))
        configs["torch", threads] = (step_torch, lambda n=threads: lib_torch.set_num_threads(n))
    return time_phases(configs, repeat, rounds)


def fastest(times: dict, lib: str) -> int:
    """The thread count (1 or 2) with the lower median time for ``lib`` in :func:`compare`'s timings."""
    return min((1, 2), key=lambda n: statistics.median(times[lib, n]))


def report(name: str, times: dict, target: str, extra_rows: tuple[str, ...] = ()) -> None:
    """Print :func:`compare`'s timings: each library at its faster thread count, as a table row."""
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {lib: fastest(times, lib) for lib in ("groundup", "torch")}
    for lib, label in (("groundup", "groundup"), ("torch", "PyTorch")):
        print(f"{label}: {fmt_time(med[lib, 1])} with 1 thread, {fmt_time(med[lib, 2])} with 2 threads.")
    g, t = med["groundup", best["groundup"]], med["torch", best["torch"]]
    setting = f"groundup {best['groundup']} thread(s), PyTorch {best['torch']} thread(s)"
    print("\n| workload | groundup | PyTorch | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| {name} ({setting}) | {fmt_time(g)} | {fmt_time(t)} | {g / t:.2f}x | {target} |")
    for row in extra_rows:
        print(row)
    low = {lib: min(min(times[lib, 1]), min(times[lib, 2])) for lib in ("groundup", "torch")}
    print(f"\nMinimum over all rounds and thread counts: groundup {fmt_time(low['groundup'])}, PyTorch "
          f"{fmt_time(low['torch'])}: {low['groundup'] / low['torch']:.2f}x.")


# ------------------------------------------------------------------ one training step, groundup vs PyTorch
def train_step(lib, model, x: np.ndarray, y: np.ndarray, lr: float = 1e-3,
               loss_of: Callable[[Any, Any, Any, Any], Any] | None = None):
    """A closure running one Adam training step of ``model`` on the batch (x, y) in ``lib``.

    The loss is ``cross_entropy(model(x), y)``, or ``loss_of(lib, model, x, y)`` when given (e.g. a language
    model whose forward returns a state as well, and whose logits are flattened over time)."""
    opt = lib.optim.Adam(model.parameters(), lr=lr)
    xb, yb = lib.tensor(x), lib.tensor(y)
    loss_fn = lib.nn.functional.cross_entropy

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb) if loss_of is None else loss_of(lib, model, xb, yb)
        loss.backward()
        opt.step()

    return step


def copy_weights(torch, src, dst) -> None:
    """Load groundup module ``src``'s state dict (parameters and buffers) into torch module ``dst``."""
    dst.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in src.state_dict().items()})


def image_batch(batch: int) -> Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    """A random MNIST-shaped batch: (batch, 1, 28, 28) float32 images and labels in 0..9."""
    return lambda rng: (rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch))


def compare_training_step(script: str, name: str, target: str, build_gu: Callable[[], Any],
                          build_torch: Callable[[], Any], *, batch: int, repeat: int, doc: str | None,
                          make_batch: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]] | None = None,
                          loss_of: Callable[[Any, Any, Any, Any], Any] | None = None) -> None:
    """Time one Adam step of the same model (torch's copy gets groundup's weights by state_dict name) on
    one random batch (``make_batch``, by default MNIST-shaped images of ``batch``), each library at 1 and 2
    threads, and print :func:`report`'s table. ``loss_of`` as in :func:`train_step`.
    ``--repeat`` / ``--rounds`` on the command line override the timed steps and rounds."""
    import argparse

    import torch

    import groundup as gu

    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--repeat", type=int, default=repeat, help="timed steps per configuration")
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args()
    gu.manual_seed(0)
    torch.manual_seed(0)
    model, reference = build_gu(), build_torch()
    copy_weights(torch, model, reference)
    x, y = (make_batch or image_batch(batch))(np.random.default_rng(0))
    step_gu = train_step(gu, model, x, y, loss_of=loss_of)
    step_torch = train_step(torch, reference, x, y, loss_of=loss_of)
    times = compare(gu, torch, step_gu, step_torch, args.repeat, args.rounds)
    print(f"# {script} — {machine()}\n")
    report(name, times, target)
