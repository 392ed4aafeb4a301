"""One simulation run of a scenario, returned as :class:`~cbm_sim.results.frames.Results`.

The cluster model is built and run by :mod:`cbm_sim.cluster`, which records plain arrays;
this is the thin wrapper that turns them into the tidy daily, annual and event frames of the
output contract, with the run's metadata.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

import cbm_sim
from cbm_sim.cluster import engine
from cbm_sim.results.frames import (
    Results,
    aggregate_steps,
    annualise_series,
    events_frame_from_columns,
    tidy_daily,
)
from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.steps import step_lengths, step_starts

__all__ = ["InsaneResultError", "Progress", "check_sane", "run"]

Progress = Callable[[float], None]

BALANCE_TOLERANCE_M3 = 1.0
"""Largest gas-balance residual of one step accepted [m³]; assumption: the residual is
rounding (~1e-8 m³ in the plan run), and 1 m³ is 1e-8 of a day's gas of the cluster."""


class InsaneResultError(ArithmeticError):
    """A run produced a non-finite value or an open gas balance: a model bug, never output."""


def check_sane(record: engine.RunRecord) -> None:
    """Refuse results with NaN or infinity anywhere, or a gas balance that does not close.

    Raises
    ------
    InsaneResultError
        Naming the first offending series, its value and step date.
    """
    dates = record.step_dates
    for entity, quantity, unit, values in record.columns:
        arr = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise InsaneResultError(
                f"the run produced {arr[bad[0]]} in {entity}/{quantity} [{unit}] on "
                f"{dates[bad[0]].date()} ({bad.size} steps); no results written "
                "(a model bug: please report the scenario)"
            )
        if (entity, quantity) == ("balance", "residual"):
            off = np.flatnonzero(np.abs(arr) > BALANCE_TOLERANCE_M3)
            if off.size:
                raise InsaneResultError(
                    f"the gas balance does not close: residual {arr[off[0]]:.6g} m3 on "
                    f"{dates[off[0]].date()} ({off.size} steps over {BALANCE_TOLERANCE_M3} m3); "
                    "no results written (a model bug: please report the scenario)"
                )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for one run, then as it was.

    A run makes ~10^5 short-lived objects (SimPy events, the rigs' wells, frames); each
    700 of them start a collection, and every so often a full one walks the ~10^6 objects
    of the imported libraries: 5-10 % of a run's CPU time (measured, issue 27). Refcounting
    frees almost everything; the few cycles (SimPy processes and their environment) are
    collected after the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run(
    scenario: Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    progress: Progress | None = None,
    daily: bool = True,
    events: bool = True,
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
    daily
        Build the frame of every step (``False``: an empty ``daily`` frame, for studies that
        read only annual figures: 6·10^5 rows fewer per member). The annual figures and
        the checks are the same.
    events
        Record the discrete events (``False``: an empty ``events`` frame, for studies
        that read only annual figures: ~8,000 events a plan run). The rest is the same.

    Returns
    -------
    Results
        Daily, annual and event frames; the gas balance residual is recorded every step.

    Raises
    ------
    InsaneResultError
        If any recorded value is NaN or infinite or the balance does not close.
    """
    with _collector_paused():
        return _run(scenario, seed, progress, daily, events)


def _run(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None,
    progress: Progress | None,
    daily: bool,
    events: bool,
) -> Results:
    record = engine.run(scenario, seed=seed, progress=progress, events=events)
    check_sane(record)
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
    hz = scenario.horizon
    first = step_starts(hz.start, hz.end, hz.step_days)  # type: ignore[arg-type]  # validated
    if first.size == len(record.step_dates):  # daily steps: the dispatch's own
        dates, columns, days = record.step_dates, record.columns, None
    else:
        # a coarse step is a run of days (cbm_sim/scenario/steps.py): flows summed, stocks on
        # its last day; no step spans two years, so the annual figures are the daily run's
        dates = record.step_dates[first]
        columns = aggregate_steps(record.columns, first)
        days = step_lengths(first, len(record.step_dates))
    return Results(
        daily=tidy_daily(dates, columns if daily else []),
        annual=annualise_series(dates, columns, days),
        events=events_frame_from_columns(*record.events),
        meta=meta,
        scenario=scenario,
    )
