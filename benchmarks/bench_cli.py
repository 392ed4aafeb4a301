"""Benchmark: the ``cbm-sim`` commands as a user runs them, whole process, wall and CPU time.

Run: ``.venv/bin/python benchmarks/bench_cli.py [--repeat 5] [--cases help run report ...]``

Each case is a separate process (``subprocess``), measured like ``/usr/bin/time``: wall time
(``time.perf_counter``) and CPU time, user + system, of the process and every process it
waited for (its Dask workers, the report's forked child: ``getrusage(RUSAGE_CHILDREN)``
before and after). A case runs ``--repeat`` times (default 5) and its **median** is printed
with every sample; the long cases (``calibrate``, ``ensemble``) run ``--long-repeat`` times
(default 1). The machine's load average is printed before and after each case, because on a
shared machine the wall time says more about the other jobs than about the program: compare
CPU seconds, and publish only figures of an idle machine (load < 1).

Cases (the goals of issues 16, 17 and 27; ``--cases`` picks some):

* ``python`` / ``imports`` — references: the bare interpreter, and importing the package's
  heavy dependencies (numpy, pandas, pyarrow, scipy, numba, simpy, pydantic);
* ``help`` — ``cbm-sim --help`` (goal ≤ 0.3 s);
* ``run`` — ``cbm-sim run scenarios/plan.yaml -o DIR --overwrite`` (goal ≤ 1.5 s): imports,
  the daily plan run, valuation, target check, the run folder;
* ``report`` — ``cbm-sim report DIR -o report.pdf --lang zh --overwrite`` of that run
  (goal ≤ 8 s);
* ``calibrate`` — ``cbm-sim calibrate --fit`` (the refit of the well history);
* ``demo`` — ``make demo`` after set-up (audit, run, a 16-member ensemble with its tornado,
  the report; it writes ``reports/`` as ``make demo`` does);
* ``ensemble`` — ``cbm-sim ensemble scenarios/plan.yaml -n 200 --workers 2 -o DIR
  --overwrite``, daily, with its tornado (goal < 3 min on 2 cores);
* ``backtest`` — ``cbm-sim backtest scenarios/backtest-2021.yaml -n 100 --workers 2 -o DIR
  --overwrite``, the hindcast of ``docs/hindcast.md``.

Every printed line starts with the case's key, the key of its row in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HEAVY = "import numpy, pandas, pyarrow, scipy.optimize, numba, simpy, pydantic"
QUICK = ("python", "imports", "help", "run", "report")
LONG = ("calibrate", "demo", "ensemble", "backtest")


def load() -> str:
    """The 1-minute load average and the CPUs, for the record."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished and waited-for child process."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` (which must succeed)."""
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, children_cpu() - cpu0


def report_line(key: str, what: str, samples: list[tuple[float, float]], before: str) -> str:
    walls = [w for w, _ in samples]
    cpus = [c for _, c in samples]
    listed = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in samples)
    return (
        f"{key:10s} {what}: median {statistics.median(walls):.2f} s wall, "
        f"{statistics.median(cpus):.2f} s CPU (wall/CPU of {len(samples)}: {listed}); "
        f"{before}, after {load()}"
    )


def main() -> None:
    """Print each case's median wall and CPU time, with every sample and the load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the quick cases")
    parser.add_argument("--long-repeat", type=int, default=1, help="runs of the long cases")
    parser.add_argument(
        "--cases", nargs="+", default=list(QUICK), choices=[*QUICK, *LONG], help="what to time"
    )
    parser.add_argument("--members", type=int, default=200, help="members of the ensemble case")
    args = parser.parse_args()
    cli = str(BIN / "cbm-sim")
    print(f"bench_cli: {load()}; python {sys.version.split()[0]}; medians of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "plan"
        cases = {
            "python": ("python -c pass (reference)", [sys.executable, "-c", "pass"]),
            "imports": ("import of the dependencies (reference)", [sys.executable, "-c", HEAVY]),
            "help": ("cbm-sim --help", [cli, "--help"]),
            "run": (
                "cbm-sim run scenarios/plan.yaml",
                [cli, "run", "scenarios/plan.yaml", "-o", str(run_dir), "--overwrite"],
            ),
            "report": (
                "cbm-sim report of the plan run (--lang zh)",
                [
                    cli,
                    "report",
                    str(run_dir),
                    "-o",
                    str(Path(tmp) / "plan.pdf"),
                    "--lang",
                    "zh",
                    "--overwrite",
                ],
            ),
            "calibrate": ("cbm-sim calibrate --fit", [cli, "calibrate", "--fit"]),
            "demo": ("make demo (after set-up)", ["make", "-s", "demo"]),
            "ensemble": (
                f"cbm-sim ensemble scenarios/plan.yaml -n {args.members} --workers 2 (daily, "
                "tornado)",
                [
                    cli,
                    "ensemble",
                    "scenarios/plan.yaml",
                    "-n",
                    str(args.members),
                    "--workers",
                    "2",
                    "-o",
                    str(Path(tmp) / "ensemble"),
                    "--overwrite",
                ],
            ),
            "backtest": (
                "cbm-sim backtest scenarios/backtest-2021.yaml -n 100 --workers 2",
                [
                    cli,
                    "backtest",
                    "scenarios/backtest-2021.yaml",
                    "-n",
                    "100",
                    "--workers",
                    "2",
                    "-o",
                    str(Path(tmp) / "backtest"),
                    "--overwrite",
                ],
            ),
        }
        # one untimed run: numba's cache and the byte code are written on a first run, and
        # the report needs a run folder
        measure(cases["run"][1])
        for key in args.cases:
            what, cmd = cases[key]
            before = f"before {load()}"
            repeat = args.long_repeat if key in LONG else args.repeat
            samples = [measure(cmd) for _ in range(repeat)]
            print(report_line(key, what, samples, before), flush=True)


if __name__ == "__main__":
    main()
