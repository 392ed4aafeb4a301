"""Benchmark: the plan scenario end to end in one process, and what one study member costs.

Run: ``.venv/bin/python benchmarks/bench_run.py [--repeat 7] [--references --wells 100]``

**Per member** (issue 27's goal: ≤ 0.25 worker-seconds per daily plan-scenario member): the
CPU seconds (``time.process_time``: user + system of this process, so that other jobs on the
machine do not count) of

* ``run`` — ``simulate.run(plan.yaml)`` with its daily frame, as ``cbm-sim run`` does: the
  process's cached 2021 histories dropped first, as a command's one run has none (a
  history's repeated runs share its supply windows and replay the supply of the same
  wells: :mod:`cbm_sim.cluster.replay`);
* ``member`` — an ensemble member: its sampled inputs applied,
  ``simulate.run(..., daily=False, events=False)``, valued and target-checked
  (:func:`cbm_sim.studies.ensemble.summarise`), its own seed each time;
* ``sobol`` — a Sobol or tornado run: its own sampled inputs applied, the scenario's seed,
  valued (``measures=("value",)``), as :func:`cbm_sim.studies.sensitivity.sobol_indices`
  runs it (from the second run on, a worker reuses what the runs' shared 2021 wells give
  each supply window: :class:`cbm_sim.wells.supply.SharedWindows`);

each the median of ``--repeat`` runs after two warm-up runs, in a process whose imports are
frozen out of the garbage collector's sight as a study worker's are
(:mod:`cbm_sim.studies.execution`). The load average is printed: CPU time moves less than
wall time with other jobs, but not nothing (caches, frequency), so publish idle figures.

``--references`` also times the engine's well supply against two references on the 2021
wells over the whole horizon, as before issue 27: :class:`cbm_sim.wells.supply.BlockSupply`
(Chebyshev windows plus exact per-day corrections), the exact per-well kernel of every step
(:class:`cbm_sim.wells.stepping.StepVolumes`), and a naive one — every well its own SimPy
process stepping daily, computing its day's gas from :func:`cbm_sim.wells.decline.cumulative`
— on ``--wells`` of them, scaled to all wells; totals must agree to 1e-9 relative.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import simpy

from cbm_sim import allocator
from cbm_sim.cluster import build
from cbm_sim.results import simulate
from cbm_sim.scenario.files import load_scenario
from cbm_sim.studies.ensemble import member_draws, member_seeds, summarise
from cbm_sim.studies.sampling import apply
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


def cpu_median(work: Callable[[int], object], repeat: int) -> tuple[float, list[float]]:
    """Median CPU seconds of ``work(i)`` over ``repeat`` calls, after two warm-up calls."""
    work(-1)
    work(-2)
    samples = []
    for i in range(repeat):
        t0 = time.process_time()
        work(i)
        samples.append(time.process_time() - t0)
    return statistics.median(samples), samples


def members(repeat: int) -> None:
    """Print the CPU seconds of a run, an ensemble member and a Sobol run."""
    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "plan.yaml")
    seeds = member_seeds(scenario.seed, repeat + 2)
    inputs = [draw for _, draw in member_draws(scenario, repeat + 2, scenario.seed + 1)]
    gc.freeze()  # as a study worker does before its first member (studies/execution.py)
    cases: dict[str, tuple[str, Callable[[int], object]]] = {
        "run": (
            "simulate.run(plan.yaml), daily frame included",
            lambda i: (build._HISTORIES.clear(), simulate.run(scenario)),
        ),
        "member": (
            "ensemble member: sampled inputs, own seed, no daily frame, value, targets",
            lambda i: summarise(
                simulate.run(
                    apply(scenario, inputs[i], scenario.uncertainty),
                    seed=seeds[i],
                    daily=False,
                    events=False,
                )
            ),
        ),
        "sobol": (
            "Sobol/tornado run: sampled inputs, the scenario's seed, value",
            lambda i: summarise(
                simulate.run(
                    apply(scenario, inputs[i], scenario.uncertainty), daily=False, events=False
                ),
                ("value",),
            ),
        ),
    }
    for key, (what, work) in cases.items():
        before = os.getloadavg()[0]
        med, samples = cpu_median(work, repeat)
        listed = ", ".join(f"{t:.3f}" for t in samples)
        print(
            f"{key:8s} {what}: median {med:.3f} CPU s ({listed}); load {before:.2f} before, "
            f"{os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each case")
    parser.add_argument(
        "--references", action="store_true", help="also time the well supply's references"
    )
    parser.add_argument("--wells", type=int, default=100, help="wells in the naive reference")
    args = parser.parse_args()
    # the allocator policy of a study worker (WORKER_ENVIRON) and of the cbm-sim command
    allocator.keep_arrays_on_heap()
    members(args.repeat)
    if args.references:
        references(args.wells)


def references(wells: int) -> None:
    """The well supply against the exact per-step kernel and the naive per-well SimPy."""
    pop = initial_population(np.random.default_rng(1))
    idx = np.random.default_rng(2).choice(len(pop), size=min(wells, len(pop)), replace=False)
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
