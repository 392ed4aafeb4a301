"""How big a run of a scenario will be (wells × days, memory), estimated before it starts.

Every field of a scenario is bounded (:mod:`cbm_sim.bounds`), but bounded fields still
multiply: 23 blocks × 5,000 wells a year × 30 years is 7 million planned wells, and every
planned well's parameters are drawn when its block starts drilling. A run whose estimate
exceeds the memory of the machine (or :data:`MAX_RUN_BYTES`) is refused by ``validate`` and
``run`` with the estimate in the message, instead of ending in ``MemoryError`` minutes later.

The memory model is linear and was measured on this code (peak RSS of ``cbm-sim run``,
``/usr/bin/time -f %M``, Linux x86-64, 2026-12):

* plan.yaml, 2021–2030, daily steps: 414 MB; the same to 2050: 524 MB → ~92 bytes per
  step and daily series (157 series), base ≈ 365 MB (imports, population, frames);
* one block drilling 300,000 wells in 2022 (otherwise plan.yaml): 734 MB vs 419 MB without
  → ~1.1 kB per planned well (its drawn parameters and spud entry).

It is a deliberately conservative estimate, meant to refuse runs that are off by orders of
magnitude: five blocks each planning 10,000 wells a year to 2050 (1.5 million planned wells)
are estimated at 2.2 GB and measured at 886 MB peak RSS (14.7 s), because the reserves wall
stops most of the wells before their spud day.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.paths import value_at

BASE_BYTES = 365e6
"""Memory of a run before its wells and steps [bytes] (measured, see above)."""
BYTES_PER_PLANNED_WELL = 1.1e3
"""Memory per planned new well [bytes] (measured, see above)."""
BYTES_PER_STEP_SERIES = 92.0
"""Memory per step and daily series [bytes] (measured, see above)."""
FIXED_SERIES = 150
"""Daily series of a run besides one per facility (plan.yaml: 157 with 7 LNG plants)."""
MAX_RUN_BYTES = 8 * 2**30
"""Largest run accepted on any machine [bytes]; assumption: 20× the plan run (414 MB), the
memory of a common laptop, so that a scenario valid here is valid on a colleague's machine."""


@dataclass(frozen=True)
class RunSize:
    """Size of one run: planned new wells, steps, daily series and memory estimate."""

    planned_wells: int
    steps: int
    series: int
    memory_bytes: float
    largest_block: str | None

    def describe(self) -> str:
        """One line: ``1,234,567 planned wells × 3,652 steps ≈ 1.9 GB``."""
        return (
            f"{self.planned_wells:,} planned new wells, {self.steps:,} steps × {self.series} "
            f"daily series ≈ {self.memory_bytes / 1e9:.1f} GB of memory"
        )


def planned_wells_by_block(scenario: Scenario) -> dict[str, float]:
    """New wells the drilling programmes plan within the horizon, per block (before the
    reserves limit stops some of them; as ``cluster.blocks.BlockAgent.spud_days``)."""
    start, end = scenario.horizon.start, scenario.horizon.end
    out: dict[str, float] = {}
    for block, prog in scenario.drilling.blocks.items():
        total = 0.0
        for year in range(start.year, end.year + 1):
            if (prog.first_year is not None and year < prog.first_year) or (
                prog.last_year is not None and year > prog.last_year
            ):
                continue
            for path in (prog.vertical_wells_per_year, prog.horizontal_wells_per_year):
                if path:
                    total += value_at(path, year)
        out[block] = total
    return out


def estimate(scenario: Scenario) -> RunSize:
    """The size of a run of ``scenario`` (see the module docstring for the model)."""
    wells = planned_wells_by_block(scenario)
    planned = int(sum(wells.values()))
    # the dispatch records every day whatever the step of the results (scenario/steps.py)
    steps = scenario.horizon.n_days
    facilities = (
        len(scenario.lng.plants)
        + len(scenario.cng.stations)
        + len(scenario.pipelines.lines)
        + len(scenario.storage.projects)
    )
    series = FIXED_SERIES + facilities
    memory = BASE_BYTES + BYTES_PER_PLANNED_WELL * planned + BYTES_PER_STEP_SERIES * steps * series
    largest = max(wells, key=wells.__getitem__) if wells else None
    return RunSize(planned, steps, series, memory, largest)


def available_bytes() -> float:
    """Memory the run may use: ``MemAvailable`` (Linux), else physical memory, at most
    :data:`MAX_RUN_BYTES`."""
    avail = float(MAX_RUN_BYTES)
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return min(avail, float(line.split()[1]) * 1024.0)
    except OSError:
        pass
    try:
        return min(avail, float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")))
    except (ValueError, OSError, AttributeError):
        return avail


class RunTooLargeError(ValueError):
    """The estimated run would not fit in memory; ``loc`` is the field most to blame."""

    def __init__(self, message: str, loc: tuple[str, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def check(scenario: Scenario, limit_bytes: float | None = None) -> RunSize:
    """The run's size, if it fits ``limit_bytes`` (default :func:`available_bytes`).

    Raises
    ------
    RunTooLargeError
        With the estimate and the limit; ``loc`` points at the block that plans the most
        wells, or at the horizon when the steps dominate.
    """
    size = estimate(scenario)
    limit = available_bytes() if limit_bytes is None else limit_bytes
    if size.memory_bytes <= limit:
        return size
    wells_part = BYTES_PER_PLANNED_WELL * size.planned_wells
    loc: tuple[str, ...] = (
        ("drilling", "blocks", size.largest_block)
        if size.largest_block is not None and wells_part >= size.memory_bytes / 2
        else ("horizon",)
    )
    raise RunTooLargeError(
        f"run too large for this machine: {size.describe()}, more than the "
        f"{limit / 1e9:.1f} GB available (limit {MAX_RUN_BYTES / 2**30:.0f} GiB); plan fewer "
        "wells or a shorter horizon",
        loc,
    )
