"""One simulation run of a scenario, returned as :class:`~cbm_sim.results.frames.Results`.

The cluster model is built and run by :mod:`cbm_sim.cluster`, which records plain arrays;
this is the thin wrapper that turns them into the tidy daily, annual and event frames of the
output contract, with the run's metadata.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import cbm_sim
from cbm_sim.cluster import engine
from cbm_sim.results.frames import Results, annualise_series, events_frame, tidy_daily
from cbm_sim.scenario.model import Scenario

__all__ = ["Progress", "run"]

Progress = Callable[[float], None]


def run(
    scenario: Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    progress: Progress | None = None,
) -> Results:
    """Simulate ``scenario`` over its horizon.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        Overrides ``scenario.seed`` (ensembles pass a spawned ``SeedSequence``).
    progress
        Called with the fraction done (0-1) now and then, for progress bars.

    Returns
    -------
    Results
        Daily, annual and event frames; the gas balance residual is recorded every step.
    """
    record = engine.run(scenario, seed=seed, progress=progress)
    used = scenario.seed if seed is None else seed
    meta = {
        "scenario": scenario.name,
        "seed": used if isinstance(used, int) else repr(used),
        "cbm_sim_version": cbm_sim.__version__,
        "start": str(scenario.horizon.start),
        "end": str(scenario.horizon.end),
        "step_days": scenario.horizon.step_days,
        "wells_at_end": record.wells_at_end,
    }
    return Results(
        daily=tidy_daily(record.step_dates, record.columns),
        annual=annualise_series(record.step_dates, record.columns),
        events=events_frame(record.events),
        meta=meta,
        scenario=scenario,
    )
