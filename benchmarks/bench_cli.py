"""Benchmark: start-up of the command line, whole process, as a user feels it (issue 16).

Run: ``.venv/bin/python benchmarks/bench_cli.py [--repeat 5]``

Times, as separate processes (``subprocess``, wall clock, median of ``--repeat``):

* ``cbm-sim --help`` (goal ≤ 0.3 s);
* ``cbm-sim run scenarios/plan.yaml -o DIR --overwrite`` (goal ≤ 2 s): imports, the packaged
  YAML, the daily plan run, valuation, target check and the run directory.

The reference is the bare interpreter (``python -c pass``) and the import of the package's
heavy dependencies alone (numpy, pandas, pyarrow, scipy, numba, simpy, pydantic), run the same
way, so that what the tool itself costs is the difference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HEAVY = "import numpy, pandas, pyarrow, scipy.optimize, numba, simpy, pydantic"


def _median_wall(cmd: list[str], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def main() -> None:
    """Print the median wall time of each command, with every sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "python -c pass (reference)": [sys.executable, "-c", "pass"],
            "import of the dependencies (reference)": [sys.executable, "-c", HEAVY],
            "cbm-sim --help": [str(BIN / "cbm-sim"), "--help"],
            "cbm-sim run scenarios/plan.yaml": [
                str(BIN / "cbm-sim"),
                "run",
                "scenarios/plan.yaml",
                "-o",
                str(Path(tmp) / "plan"),
                "--overwrite",
            ],
        }
        # one untimed run: numba's cache and the byte code are written on a first run
        subprocess.run(cases["cbm-sim run scenarios/plan.yaml"], cwd=ROOT, capture_output=True)
        for name, cmd in cases.items():
            med, samples = _median_wall(cmd, args.repeat)
            listed = ", ".join(f"{s:.2f}" for s in samples)
            print(f"{name:42s} median {med:6.2f} s   ({listed})")


if __name__ == "__main__":
    main()
