"""The docs' code runs, and prints what the docs say it prints; the demo runs and learns.

Conventions (see docs/README.md):

- Every ```python block in ``docs/*.md`` runs. A page's blocks run in order in one fresh namespace,
  so a later block can use names from an earlier one, and pages do not see each other's names.
- A ```text block that directly follows a ```python block (only blank lines between) is that
  block's expected output. Words must match exactly; numbers must match to about 3 significant
  digits, so that a different BLAS or CPU does not break the page.
- Other fences (```text elsewhere, ```console, ```py) are shown but not run.

Errors point at the line of the Markdown page, because each block is compiled with its own line
numbers.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import groundup as gu
from groundup import autograd, backend

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TOUR = ROOT / "examples" / "autograd_tour.py"

FENCE = re.compile(r"^```([\w+-]*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)\b")


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(first code line, code, expected output or None)`` for each ```python block."""
    fences = list(FENCE.finditer(text))
    blocks = []
    for i, m in enumerate(fences):
        if m.group(1) != "python":
            continue
        line = text.count("\n", 0, m.start()) + 2
        expected = None
        if i + 1 < len(fences):
            nxt = fences[i + 1]
            if nxt.group(1) == "text" and not text[m.end() : nxt.start()].strip():
                expected = nxt.group(2)
        blocks.append((line, m.group(2), expected))
    return blocks


def same_output(got: str, expected: str) -> bool:
    """Equal after splitting into numbers and other text; numbers to ~3 significant digits."""
    got_lines = [ln.rstrip() for ln in got.strip().splitlines()]
    exp_lines = [ln.rstrip() for ln in expected.strip().splitlines()]
    if len(got_lines) != len(exp_lines):
        return False
    for g, e in zip(got_lines, exp_lines):
        if NUMBER.sub("#", g).split() != NUMBER.sub("#", e).split():
            return False
        for a, b in zip(NUMBER.findall(g), NUMBER.findall(e)):
            x, y = float(a), float(b)
            if math.isnan(x) and math.isnan(y):
                continue
            if not math.isclose(x, y, rel_tol=2e-3, abs_tol=2e-4):
                return False
    return True


PAGES = sorted(p for p in [*DOCS.glob("*.md"), DOCS.parent / "README.md"]
               if python_blocks(p.read_text(encoding="utf-8")))


@pytest.fixture
def clean_state():
    """Doc blocks may seed the RNG, change grad mode or BLAS threads; give the rest of the run its state back
    (a trained number printed by a later page depends on the summation order, so on the thread count)."""
    rng_state = backend.get_rng_state()
    threads = backend.get_num_threads()
    dtype = gu.get_default_dtype()
    grad_mode = autograd.is_grad_enabled()
    yield
    backend.set_rng_state(rng_state)
    gu.set_default_dtype(dtype)
    autograd.set_grad_enabled(grad_mode)
    backend.set_num_threads(threads)


def test_docs_have_examples():
    assert (DOCS / "autograd.md").exists()
    assert DOCS / "autograd.md" in PAGES, "docs/autograd.md should have runnable ```python blocks"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_page_runs(page: Path, clean_state):
    text = page.read_text(encoding="utf-8")
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    rel = page.relative_to(ROOT)
    for line, code, expected in python_blocks(text):
        # pad with newlines so tracebacks give the line number in the .md file
        compiled = compile("\n" * (line - 1) + code, str(rel), "exec")
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compiled, namespace)
        except Exception as e:
            raise AssertionError(
                f"{rel}: the python block starting at line {line} raised {type(e).__name__}: {e}"
            ) from e
        if expected is not None and not same_output(out.getvalue(), expected):
            pytest.fail(
                f"{rel}: the python block starting at line {line} printed\n{out.getvalue()}\n"
                f"but the page says it prints\n{expected}"
            )


def test_same_output_compares_numbers_loosely():
    assert same_output("loss 0.69315\n", "loss 0.6931")
    assert same_output("tensor([1., 2.])", "tensor([1., 2.])")
    assert not same_output("loss 0.70", "loss 0.69")
    assert not same_output("loss 0.69", "cost 0.69")
    assert not same_output("a\nb", "a")


# ------------------------------------------------------------------------------------ the demo
STEP = re.compile(r"^step (\d+) loss ([-+0-9.eE]+|nan|inf)$", re.M)
ACCURACY = re.compile(r"^train accuracy ([0-9.]+)$", re.M)


def test_autograd_tour_runs_and_learns():
    env = dict(os.environ, GROUNDUP_NUM_THREADS="2", OMP_NUM_THREADS="2")
    proc = subprocess.run(
        [sys.executable, str(TOUR)], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env
    )
    assert proc.returncode == 0, f"examples/autograd_tour.py failed:\n{proc.stdout}\n{proc.stderr}"
    steps = [(int(s), float(v)) for s, v in STEP.findall(proc.stdout)]
    assert len(steps) >= 2, f"expected lines like 'step 0 loss 0.6931' in:\n{proc.stdout}"
    assert [s for s, _ in steps] == sorted(s for s, _ in steps), "steps should be printed in order"
    first, last = steps[0][1], steps[-1][1]
    assert math.isfinite(last) and last < first, f"loss did not fall: {first} -> {last}"
    acc = ACCURACY.findall(proc.stdout)
    assert acc and 0.0 <= float(acc[-1]) <= 1.0, f"expected a 'train accuracy 0.xxx' line in:\n{proc.stdout}"


@pytest.mark.parametrize("script", sorted(p.name for p in DOCS.glob("figures_*.py")))
def test_figure_scripts_redraw_every_committed_figure(tmp_path, script):
    pytest.importorskip("matplotlib")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(DOCS / script), str(tmp_path)], capture_output=True, text=True,
                          timeout=300, cwd=DOCS.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    assert made, "no figures written"
    for name in made:
        assert (DOCS / "img" / name).exists(), f"{name} is drawn but not committed in docs/img"
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
