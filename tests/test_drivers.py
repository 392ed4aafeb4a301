"""Tests of cbm_sim.economics.drivers: the annual table's series as the grouping gives them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.economics.drivers import AnnualTable, _grouped_series, _sorted_series
from cbm_sim.results import simulate
from cbm_sim.results.frames import ANNUAL_COLUMNS
from cbm_sim.scenario.model import Horizon, Scenario


def _same(got, want):
    """Series and units equal; years exactly, values bit for bit (-0.0 is not 0.0)."""
    (series, units), (want_series, want_units) = got, want
    assert units == want_units
    assert series.keys() == want_series.keys()
    for key, (years, values) in want_series.items():
        assert series[key][0].tolist() == years.tolist()
        assert series[key][1].tobytes() == values.tobytes(), key


_VALUE = st.one_of(
    st.floats(-1e9, 1e9),
    st.sampled_from([0.0, -0.0, math.nan, math.inf, 5e-324]),
)


@st.composite
def _annual(draw):
    """An annual frame: series of a few years each, categorical or not, maybe shuffled, with
    a repeated row, NaN and negative zeros."""
    entities = draw(st.lists(st.sampled_from(["a", "b:x", "c", "surface"]), min_size=1,
                             max_size=3, unique=True))  # fmt: skip
    rows = []
    for e in entities:
        for q in draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=1, max_size=2,
                               unique=True)):  # fmt: skip
            unit = draw(st.sampled_from(["m3", "count"]))
            for y in sorted(draw(st.sets(st.integers(2021, 2030), min_size=1, max_size=4))):
                rows.append((y, e, q, unit, draw(_VALUE)))
    if draw(st.booleans()):
        rows.append(draw(st.sampled_from(rows)))  # a year twice: summed
    frame = pd.DataFrame(rows, columns=list(ANNUAL_COLUMNS)).astype({"year": "int64"})
    if draw(st.booleans()):
        frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 99)))
    if draw(st.booleans()):
        sorted_cats = draw(st.booleans())
        for c in ("entity", "quantity", "unit"):
            cats = sorted(set(frame[c])) if sorted_cats else list(dict.fromkeys(frame[c]))
            frame[c] = pd.Categorical(frame[c], categories=cats)
        if draw(st.booleans()):  # a run's order: by the categories' codes, then the year
            frame = frame.sort_values(["entity", "quantity", "year"], ignore_index=True)
    return frame.reset_index(drop=True)


@settings(max_examples=150, deadline=None)
@given(_annual())
def test_the_series_without_grouping_are_the_grouping_s_bit_for_bit(annual):
    fast = _sorted_series(annual)
    if fast is not None:
        _same(fast, _grouped_series(annual))


def test_a_run_s_annual_frame_takes_the_way_without_grouping():
    scenario = Scenario(horizon=Horizon(end=dt.date(2022, 12, 31), step_days=7))
    results = simulate.run(scenario, daily=False, events=False)
    fast = _sorted_series(results.annual)
    assert fast is not None
    _same(fast, _grouped_series(results.annual))
    table = AnnualTable(results)
    want = results.annual.query("entity == 'surface' and quantity == 'production'")
    assert table.get("surface", "production", [2021, 2022, 2040]).tolist() == [
        *want.sort_values("year")["value"].tolist(),
        0.0,
    ]
    assert table.unit("surface", "production") == "m3"


def test_unsorted_or_repeated_rows_are_grouped():
    frame = pd.DataFrame(
        [(2022, "a", "p", "m3", 1.0), (2021, "a", "p", "m3", 2.0), (2021, "a", "p", "m3", 3.0)],
        columns=list(ANNUAL_COLUMNS),
    )
    for c in ("entity", "quantity", "unit"):
        frame[c] = frame[c].astype("category")
    assert _sorted_series(frame) is None
    series, _ = _grouped_series(frame)
    assert series["a", "p"][1].tolist() == [5.0, 1.0]
    assert np.array_equal(series["a", "p"][0], [2021, 2022])
