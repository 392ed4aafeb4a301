"""The calendar grid of a run's recorded steps: days, N-day steps, months or quarters.

The simulation always dispatches every day (the routing is compiled, so a day costs little;
routing a month's gas at once averaged winter peaks, outages and storage dynamics away and
moved annual totals by up to 7 %, issue 27). ``horizon.step_days`` sets only the resolution
of the recorded results: each step is a run of whole days, and no step spans two calendar
years, so a year's total is exactly the sum of its own steps.

* ``1``: days.
* ``N`` (2-31): steps of N days counted from every 1 January (and from the horizon start);
  the last step of a year ends on 31 December, a few days short.
* ``"month"``: calendar months; ``"quarter"``: calendar quarters (January, April, July,
  October). A horizon that starts or ends inside one cuts its first or last step short.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

StepDays = int | Literal["month", "quarter"]
"""What ``horizon.step_days`` accepts: a number of days or a calendar unit."""
CALENDAR_STEPS: Final[dict[str, int]] = {"month": 1, "quarter": 3}
"""Calendar steps and their length in months."""
MAX_STEP_DAYS: Final[int] = 31
"""Longest step given in days; longer steps are calendar units (``"quarter"``)."""


def step_label(step_days: StepDays) -> str:
    """How a step reads in a report or a log: ``day``, ``7 days``, ``month``, ``quarter``."""
    if isinstance(step_days, str):
        return step_days
    return "day" if step_days == 1 else f"{step_days} days"


def step_starts(start: dt.date, end: dt.date, step_days: StepDays) -> IntArray:
    """First day of every step, in days since ``start``; the steps run to the next start and
    the last to ``end`` (inclusive).

    Raises
    ------
    ValueError
        If ``end`` is before ``start``, or ``step_days`` is neither 1-31 nor a calendar unit.
    """
    if end < start:
        raise ValueError(f"end {end} must not be before start {start}")
    n_days = (end - start).days + 1
    if step_days == 1:
        return np.arange(n_days, dtype=np.int64)
    cuts: list[int] = []
    if isinstance(step_days, str):
        if step_days not in CALENDAR_STEPS:
            raise ValueError(
                f"step_days must be 1-{MAX_STEP_DAYS} days or one of {list(CALENDAR_STEPS)}; "
                f"got {step_days!r}"
            )
        months = CALENDAR_STEPS[step_days]
        year, month = start.year, 1
        while True:
            first = dt.date(year, month, 1)
            if first > end:
                break
            cuts.append((first - start).days)
            month += months
            if month > 12:
                year, month = year + 1, month - 12
    else:
        if isinstance(step_days, bool) or not 1 <= step_days <= MAX_STEP_DAYS:
            raise ValueError(
                f"step_days must be 1-{MAX_STEP_DAYS} days or one of {list(CALENDAR_STEPS)}; "
                f"got {step_days!r}"
            )
        for year in range(start.year, end.year + 1):
            lo = max((dt.date(year, 1, 1) - start).days, 0)
            hi = min((dt.date(year, 12, 31) - start).days + 1, n_days)
            cuts.extend(range(lo, hi, step_days))
    starts = np.array(sorted({max(c, 0) for c in cuts if c < n_days} | {0}), dtype=np.int64)
    return starts


def step_lengths(starts: IntArray, n_days: int) -> IntArray:
    """Days in each step of :func:`step_starts` over a horizon of ``n_days`` days."""
    ends = np.append(starts[1:], n_days)
    lengths: IntArray = (ends - starts).astype(np.int64)
    return lengths


__all__ = [
    "CALENDAR_STEPS",
    "MAX_STEP_DAYS",
    "StepDays",
    "step_label",
    "step_lengths",
    "step_starts",
]
