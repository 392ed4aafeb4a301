"""Benchmark: the plan scenario end to end, and the per-well SimPy reference it replaces.

Run: ``.venv/bin/python benchmarks/bench_run.py [--wells 400]``

Prints the wall time and peak memory (tracemalloc) of one full daily run of
``scenarios/plan.yaml`` (2021-2030), then compares the engine's well supply
(:class:`cbm_sim.wells.supply.BlockSupply`: Chebyshev windows plus exact per-day corrections) with
two references on the 2021 wells over the whole horizon: the exact per-well kernel of every
step (:class:`cbm_sim.wells.stepping.StepVolumes`, the engine's previous path) on all wells, and
a naive one — every well its own SimPy process stepping daily, computing its day's gas from
:func:`cbm_sim.wells.decline.cumulative` — on a subset, scaled to all wells. Totals must agree to
1e-9 relative.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np
import simpy

from cbm_sim.results import simulate
from cbm_sim.scenario.files import load_scenario
from cbm_sim.wells import decline
from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import PARAMS, StepVolumes, initial_population
from cbm_sim.wells.supply import BlockSupply

N_DAYS = 3652


def naive_per_well(pop: WellPopulation, idx: np.ndarray) -> float:
    """Total gas of wells ``idx`` over the horizon, one SimPy process per well, daily."""
    env = simpy.Environment()
    total = [0.0]

    def well(i: int):
        p = {k: float(getattr(pop, k)[i]) for k in PARAMS}
        online = float(pop.online_day[i])
        prev = float(decline.cumulative(0.0 - online, **p))
        for day in range(N_DAYS):
            yield env.timeout(1.0)
            cum = float(decline.cumulative(day + 1.0 - online, **p))
            total[0] += cum - prev
            prev = cum

    for i in idx:
        env.process(well(int(i)))
    env.run()
    return total[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells", type=int, default=400, help="wells in the naive reference")
    args = parser.parse_args()

    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml")
    times = []
    for _ in range(3):  # the first run also pays for imports and caches (numba included)
        t0 = time.perf_counter()
        res = simulate.run(scenario)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()  # a separate run: tracemalloc slows Python code several times
    simulate.run(scenario)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"plan scenario, daily 2021-2030: {min(times):.2f} s (runs: "
        f"{', '.join(f'{t:.2f}' for t in times)} s), peak traced memory {peak / 2**20:.0f} MiB"
    )
    print(f"  wells at end: {res.meta['wells_at_end']}, daily rows: {len(res.daily)}")

    pop = initial_population(np.random.default_rng(1))
    idx = np.random.default_rng(2).choice(len(pop), size=min(args.wells, len(pop)), replace=False)
    sub = WellPopulation(pop.n_blocks)
    sub.add_cohort(
        pop.block[idx],
        pop.well_type[idx],
        pop.online_day[idx],
        **{k: getattr(pop, k)[idx] for k in PARAMS},
    )

    def supply_total(wells: WellPopulation) -> tuple[float, float]:
        t0 = time.perf_counter()
        supply = BlockSupply(wells, wells.n_blocks)
        W = supply.window_days  # the engine's path: a window of daily steps per call
        starts = [np.arange(w0, min(w0 + W, N_DAYS)) for w0 in range(0, N_DAYS, W)]
        total = sum(float(supply.steps(s, s + 1)[0].sum()) for s in starts)
        return total, time.perf_counter() - t0

    def steps_total(wells: WellPopulation) -> tuple[float, float]:
        t0 = time.perf_counter()
        steps = StepVolumes(wells)
        total = sum(float(steps.step(float(d), float(d + 1)).sum()) for d in range(N_DAYS))
        return total, time.perf_counter() - t0

    all_fast, all_fast_s = supply_total(pop)
    all_exact, all_exact_s = steps_total(pop)
    rel_all = abs(all_fast - all_exact) / all_exact
    print(
        f"2021 population, {len(pop)} wells x {N_DAYS} days: BlockSupply {all_fast_s:.3f} s, "
        f"per-step exact kernel {all_exact_s:.2f} s (x{all_exact_s / all_fast_s:.1f}); "
        f"totals agree to {rel_all:.1e}"
    )
    fast_total, fast_s = supply_total(sub)
    t0 = time.perf_counter()
    slow_total = naive_per_well(sub, np.arange(len(sub)))
    slow_s = time.perf_counter() - t0
    rel = abs(fast_total - slow_total) / slow_total
    scale = len(pop) / len(sub)
    print(
        f"subset, {len(sub)} wells x {N_DAYS} days: BlockSupply {fast_s:.3f} s, "
        f"per-well SimPy {slow_s:.2f} s (x{slow_s / fast_s:.0f}); totals agree to {rel:.1e}"
    )
    print(
        f"  per-well SimPy reference scaled to {len(pop)} wells: {slow_s * scale:.0f} s "
        f"(x{slow_s * scale / all_fast_s:.0f} the BlockSupply time on all of them)"
    )
    assert rel_all < 1e-9, f"BlockSupply and per-step exact totals differ by {rel_all:.3e}"
    assert rel < 1e-9, f"BlockSupply and per-well totals differ by {rel:.3e}"


if __name__ == "__main__":
    main()
