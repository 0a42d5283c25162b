"""Run every benchmark script in this folder (``make bench``)."""

import pathlib
import subprocess
import sys


def main() -> None:
    here = pathlib.Path(__file__).parent
    for script in sorted(here.glob("bench_*.py")):
        print(f"\n$ python -m benchmarks.{script.stem}", flush=True)
        subprocess.run([sys.executable, "-m", f"benchmarks.{script.stem}"], check=True, cwd=here.parent)


if __name__ == "__main__":
    main()
