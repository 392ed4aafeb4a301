"""The calendar grid of recorded steps: days, N-day steps, months, quarters (issue 27)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.scenario.model import Horizon
from cbm_sim.scenario.steps import step_label, step_lengths, step_starts

STEPS = st.one_of(st.integers(1, 31), st.sampled_from(["month", "quarter"]))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(dt.date(2021, 1, 1), dt.date(2049, 12, 31)),
    n_days=st.integers(1, 2000),
    step=STEPS,
)
def test_steps_tile_the_horizon_and_never_span_two_years(start, n_days, step):
    end = start + dt.timedelta(days=n_days - 1)
    starts = step_starts(start, end, step)
    lengths = step_lengths(starts, n_days)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0) and starts[-1] < n_days
    assert lengths.sum() == n_days and lengths.min() >= 1
    firsts = [start + dt.timedelta(days=int(s)) for s in starts]
    lasts = [f + dt.timedelta(days=int(n) - 1) for f, n in zip(firsts, lengths, strict=True)]
    assert all(f.year == last.year for f, last in zip(firsts, lasts, strict=True))
    if step == "month":
        assert all(f.day == 1 for f in firsts[1:])
        assert all(f.month == last.month for f, last in zip(firsts, lasts, strict=True))
        assert len(starts) == len({(d.year, d.month) for d in (firsts[0], *lasts)})
    elif step == "quarter":
        assert all(f.day == 1 and f.month in (1, 4, 7, 10) for f in firsts[1:])
        assert all(
            (f.month - 1) // 3 == (x.month - 1) // 3 for f, x in zip(firsts, lasts, strict=True)
        )
    else:
        assert lengths.max() <= step
        # a step is cut short only at the end of a year or of the horizon
        short = np.flatnonzero(lengths < step)
        assert all(
            (lasts[k].month == 12 and lasts[k].day == 31) or k == len(starts) - 1 for k in short
        )


def test_daily_steps_are_every_day_and_a_year_of_months_is_twelve():
    assert step_starts(dt.date(2021, 1, 1), dt.date(2021, 1, 10), 1).tolist() == list(range(10))
    months = step_starts(dt.date(2024, 1, 1), dt.date(2024, 12, 31), "month")
    assert step_lengths(months, 366).tolist() == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    # 30-day steps restart on 1 January: 12 × 30 days and a 5-day step in 2021
    thirty = step_starts(dt.date(2021, 1, 1), dt.date(2022, 1, 31), 30)
    assert step_lengths(thirty, 396).tolist()[:14] == [30] * 12 + [5, 30]
    # a horizon starting mid-month cuts its first month short
    mid = step_starts(dt.date(2021, 3, 15), dt.date(2021, 5, 31), "quarter")
    assert step_lengths(mid, 78).tolist() == [17, 61]


def test_step_labels():
    assert [step_label(s) for s in (1, 7, "month", "quarter")] == [
        "day",
        "7 days",
        "month",
        "quarter",
    ]
    assert Horizon(step_days="Month").step_label == "month"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "expected a whole number of days 1-31 or one of month, quarter; got 0"),
        (32, "got 32"),
        ("week", "got 'week'"),
        (True, "got True"),
        (2.5, "got 2.5"),
    ],
)
def test_a_bad_step_is_refused_with_its_value(value, message):
    with pytest.raises(ValueError, match=message):
        Horizon(step_days=value)


def test_step_starts_names_a_bad_step_or_horizon():
    with pytest.raises(ValueError, match="step_days must be 1-31 days or one of"):
        step_starts(dt.date(2021, 1, 1), dt.date(2021, 2, 1), "week")
    with pytest.raises(ValueError, match="end 2020-12-31 must not be before start 2021-01-01"):
        step_starts(dt.date(2021, 1, 1), dt.date(2020, 12, 31), 1)


def test_text_from_the_command_line_is_a_step():
    assert Horizon(step_days="7").step_days == 7
    assert Horizon(step_days=30.0).step_days == 30
