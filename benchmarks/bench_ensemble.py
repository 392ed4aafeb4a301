"""Ensemble throughput: N members of the plan scenario with 1 and 2 workers.

Usage (from the repo root)::

    .venv/bin/python benchmarks/bench_ensemble.py [N] [--workers K]

Runs ``run_ensemble(plan, N, workers=w)`` for w = 1 (serial, no Dask) and w = 2 (a Dask
``LocalCluster``; its start-up is included in the wall time) with the same seed, checks the
two ensembles are identical, and prints wall time, members per second and the speed-up,
plus the time 200 members would take at the measured 2-worker rate. ``--workers K`` runs
that configuration only (e.g. the 200-member goal itself: ``200 --workers 2``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.model import Distribution, Scenario
from cbm_sim.studies.ensemble import run_ensemble

PLAN = Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml"
# assumption: two typical uncertain inputs when the plan scenario states none: the type-curve
# peak rate ±20 % and the drilling-rate-independent pump failure rate 0.3-0.8 per well-year.
DEFAULT_UNCERTAINTY = {
    "type_curves.peak_rate_scale": Distribution(dist="triangular", low=0.8, mode=1.0, high=1.2),
    "wells.pump_failures_per_well_year": Distribution(dist="uniform", low=0.3, high=0.8),
}


def main(n: int, configurations: tuple[int, ...] = (1, 2)) -> None:
    scenario = load_scenario(PLAN) if PLAN.exists() else Scenario()
    if not scenario.uncertainty:
        scenario = scenario.model_copy(update={"uncertainty": DEFAULT_UNCERTAINTY})
    print(f"scenario {scenario.name!r}, {scenario.horizon}")
    print(f"inputs {list(scenario.uncertainty)}")
    measures = ("production", "value", "targets")
    try:
        import cbm_sim.economics.targets
        import cbm_sim.economics.valuation  # noqa: F401
    except ModuleNotFoundError:
        measures = ("production",)
    print(f"measures: {measures}")
    walls: dict[int, float] = {}
    frames: dict[int, pd.DataFrame] = {}
    for workers in configurations:
        t0 = time.perf_counter()
        result = run_ensemble(scenario, n, workers=workers, seed=1, measures=measures)
        walls[workers] = time.perf_counter() - t0
        frames[workers] = result.members
        print(
            f"workers={workers}: {walls[workers]:.1f} s, {n / walls[workers]:.2f} members/s, "
            f"{len(result.failures)} failed"
        )
    if len(walls) == 2:
        pd.testing.assert_frame_equal(frames[1], frames[2])
        print(f"identical ensembles; speed-up {walls[1] / walls[2]:.2f}x")
    last = configurations[-1]
    print(f"extrapolated 200 members with {last} worker(s): {200 * walls[last] / n:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=8, help="members")
    parser.add_argument("--workers", type=int, default=None, help="run only this many workers")
    args = parser.parse_args()
    main(args.n, (1, 2) if args.workers is None else (args.workers,))
