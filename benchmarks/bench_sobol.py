"""Benchmark: Sobol indices of the 2025/2030 totals over plan.yaml's uncertainty, and the
extrapolation to a Saltelli design of N >= 256.

Run: ``.venv/bin/python benchmarks/bench_sobol.py [--n 8] [--workers 2] [--step-days 1]``

Measures the wall time of :func:`cbm_sim.studies.sensitivity.sobol_indices` on
``scenarios/plan.yaml`` (its shipped ``uncertainty``, ``k`` inputs, ``n (k + 2)`` runs) with a
local Dask cluster of ``--workers`` processes, at the scenario's daily step unless
``--step-days`` says otherwise. From it: the time of one run on one worker (wall × workers /
runs, so cluster start-up and scheduling are charged to the runs), then an **extrapolation**,
not a measurement, to ``--target-n`` (default 256): its runs, its wall time on this machine,
and the workers a Dask cluster of machines like this one would need for the ``--budget-min``
(default 15) minutes. The extrapolation assumes the runs are independent and scale linearly
with workers (each run ~1-2 s against ms of scheduling per task); ``--n`` twice (8 and 16)
shows how far the per-run time is from constant.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

from cbm_sim.scenario.files import load_scenario
from cbm_sim.studies.sensitivity import saltelli_runs, sobol_indices
from cbm_sim.studies.uncertainty import with_step_days

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"


def measure(n: int, workers: int, step_days: int | None) -> tuple[float, int, int]:
    """Wall time [s], runs and inputs of one Sobol study of plan.yaml with base sample ``n``."""
    scenario = load_scenario(PLAN)
    if step_days is not None:
        scenario = with_step_days(scenario, step_days)
    k = len(scenario.uncertainty)
    start = time.perf_counter()
    frame = sobol_indices(scenario, n, years=(2025, 2030), workers=workers)
    wall = time.perf_counter() - start
    assert len(frame) == 2 * k
    return wall, saltelli_runs(n, k), k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[8], help="base samples to measure")
    parser.add_argument("--workers", type=int, default=2, help="local Dask worker processes")
    parser.add_argument("--step-days", type=int, default=None, help="dispatch step [days]")
    parser.add_argument("--target-n", type=int, default=256, help="base sample to extrapolate to")
    parser.add_argument("--budget-min", type=float, default=15.0, help="wall-time budget [min]")
    args = parser.parse_args()
    step = "scenario's (daily)" if args.step_days is None else f"{args.step_days} days"
    print(f"plan.yaml, step {step}, {args.workers} workers, {os.cpu_count()} CPUs")
    per_run = []
    k = 0
    for n in args.n:
        wall, runs, k = measure(n, args.workers, args.step_days)
        t_run = wall * args.workers / runs
        per_run.append(t_run)
        print(
            f"measured: N = {n}, k = {k} inputs, {runs} runs in {wall:.1f} s "
            f"({t_run:.2f} worker-s per run, start-up included)"
        )
    t_run = max(per_run)  # the slower measurement: the extrapolation errs on the long side
    runs = saltelli_runs(args.target_n, k)
    wall_here = runs * t_run / args.workers
    budget_s = 60.0 * args.budget_min
    needed = math.ceil(runs * t_run / budget_s)
    print(
        f"EXTRAPOLATION (not measured): N = {args.target_n} is {runs} runs; at "
        f"{t_run:.2f} worker-s per run that is {wall_here / 60:.0f} min on {args.workers} "
        f"workers here ({wall_here / budget_s:.1f}× the {args.budget_min:g}-min budget); "
        f"{args.budget_min:g} min needs >= {needed} workers like these (a Dask cluster of "
        f"{math.ceil(needed / 2)} two-core machines, `cbm-sim sensitivity --scheduler`), "
        "assuming linear scaling"
    )


if __name__ == "__main__":
    main()
