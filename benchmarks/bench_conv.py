"""Convolution speed and memory: a Conv2d 64->64, 3x3, padding 1, on a (32, 64, 32, 32) float32 batch.

Run: ``.venv/bin/python -m benchmarks.bench_conv``. The workload is one forward and backward pass
of the layer (input, weight and bias gradients; the upstream gradient is a fixed random array),
in groundup and PyTorch, with the same weights and data, in one process. Each library runs with
1 and with 2 threads (groundup: BLAS threads; PyTorch: ``torch.set_num_threads``) and is compared
at its faster setting, "at its best here": on the 2-core reference machine either can win for
PyTorch (its 2-thread convolution varies a lot from run to run), and while other processes keep
a core busy, a 2-thread OpenBLAS GEMM waits at every sync point for its descheduled worker
(measured under such load: 2 threads several times slower than 1). The four configurations are
timed in phases, round-robin over several rounds, each phase starting with an untimed call;
medians over all rounds (and minimums, the better estimate on a noisy machine). Phases rather than strict
alternation (``time_pair``) because OpenBLAS keeps its worker thread spinning for about 0.1 s
after each call (measured: 0.1 s of CPU time in the first idle second), which takes one of the
two cores from PyTorch's next call and vice versa: alternating call by call measured both
libraries up to several times slower than either runs alone. Targets: time ratio <= 1.5x, peak
memory ratio <= 2x. The memory part needs Linux (``/proc``).

Peak memory method: each library runs the workload in a fresh subprocess (so neither library's
allocator caches or the other's imports count). After the imports, building the layer and creating
the input and upstream gradient, the process resets its peak resident set size (writing ``5`` to
``/proc/self/clear_refs``) and reads its current resident set size as the baseline; it then runs
the forward+backward three times and reads the peak (``VmHWM`` in ``/proc/self/status``). The
reported figure is peak - baseline: the memory the workload itself needed, whoever allocated it
(NumPy, OpenBLAS, PyTorch's CPU allocator, oneDNN scratch space), including memory an allocator
keeps after freeing it. RSS counts touched pages the same way for both libraries, which
tracemalloc (NumPy only) and PyTorch's allocator statistics (PyTorch only) cannot.
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is *not* used: on Linux a child process inherits
the peak of the process it was forked from (the kernel carries it across ``exec``), so a
subprocess started from this benchmark, which holds both libraries, would report the parent's
few hundred MB as its own peak.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

SHAPE = (32, 64, 32, 32)  # (N, C, H, W)
OUT_CHANNELS, KERNEL, PADDING = 64, 3, 1


def _data() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    n, c, h, w = SHAPE
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g = rng.standard_normal((n, OUT_CHANNELS, h, w)).astype(np.float32)
    bound = 1 / np.sqrt(c * KERNEL * KERNEL)
    weight = rng.uniform(-bound, bound, (OUT_CHANNELS, c, KERNEL, KERNEL)).astype(np.float32)
    bias = rng.uniform(-bound, bound, OUT_CHANNELS).astype(np.float32)
    return x, g, weight, bias


def make_step(lib):
    """A closure running forward + backward of the layer once in ``lib`` (groundup or torch)."""
    x, g, weight, bias = _data()
    conv = lib.nn.Conv2d(SHAPE[1], OUT_CHANNELS, KERNEL, padding=PADDING)
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(weight))
        conv.bias.copy_(lib.tensor(bias))
    xt = lib.tensor(x, requires_grad=True)
    gt = lib.tensor(g)

    def step():
        xt.grad = None
        conv.weight.grad = conv.bias.grad = None
        conv(xt).backward(gt)

    return step


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def measure_memory(name: str, threads: int) -> None:
    """Subprocess body: print the peak RSS growth (bytes) of three forward+backward passes."""
    if name == "torch":
        import torch as lib
    else:
        import groundup as lib
    lib.set_num_threads(threads)
    step = make_step(lib)
    try:
        with open("/proc/self/clear_refs", "w") as f:  # reset VmHWM to the current RSS
            f.write("5")
    except OSError:
        pass  # VmHWM then counts from the exec of this fresh process, still after no workload
    base = _status("VmRSS")
    for _ in range(3):
        step()
    print(json.dumps({"peak": _status("VmHWM") - base}))


def peak_memory(name: str, threads: int) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_conv", "--memory", name, "--threads", str(threads)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["peak"]


def _blas_note() -> str:
    """Which kernels NumPy's OpenBLAS runs: on an AVX-512 CPU its Haswell (AVX2) ones leave speed unused."""
    import os

    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not blas:
        return "NumPy's BLAS: unknown.\n"
    info = blas[0]
    note = f"NumPy's BLAS: {info.get('internal_api')} {info.get('version')}, {info.get('architecture')} kernels"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    note += f" (OPENBLAS_CORETYPE={forced} in the environment)." if forced else "."
    try:
        with open("/proc/cpuinfo") as f:
            avx512 = " avx512f " in f.read()
    except OSError:
        avx512 = False
    if info.get("internal_api") == "openblas" and info.get("architecture") == "Haswell" and avx512:
        note += (" This CPU has AVX-512, which those AVX2 kernels leave unused; OPENBLAS_CORETYPE=SkylakeX"
                 " selects OpenBLAS's AVX-512 kernels (1.4-1.8x faster SGEMM on the reference machine).")
    return note + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=16, help="timed calls per configuration")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--memory", choices=["gu", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)  # for the memory subprocess
    args = p.parse_args()
    if args.memory:
        measure_memory(args.memory, args.threads)
        return

    import torch

    import groundup as gu
    from benchmarks.common import compare, fastest, machine, report

    step_gu, step_torch = make_step(gu), make_step(torch)
    times = compare(gu, torch, step_gu, step_torch, args.repeat, args.rounds)
    try:
        m_gu, m_torch = peak_memory("gu", fastest(times, "groundup")), peak_memory("torch", fastest(times, "torch"))
    except (subprocess.CalledProcessError, OSError, ValueError):  # no /proc: not Linux
        m_gu = m_torch = float("nan")
    print(f"# bench_conv — {machine()}\n")
    print(_blas_note())
    memory = (f"| peak memory of that workload (RSS growth) | {m_gu / 2**20:.1f} MiB | {m_torch / 2**20:.1f} MiB "
              f"| {m_gu / m_torch:.2f}x | <= 2x |")
    report("Conv2d 64->64 3x3 pad 1, (32, 64, 32, 32) float32, fwd+bwd", times, "<= 1.5x", (memory,))


if __name__ == "__main__":
    main()
