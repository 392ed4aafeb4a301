"""Tests of cbm_sim.studies.sampling: a sample acting on a time path from a year on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.scenario.paths import value_at
from cbm_sim.studies.sampling import _act


def _act_one_year_at_a_time(leaf, op, value, from_year):
    """``_act`` on a time path from ``from_year`` as it was before issue 27's member pass
    (the reference): the path read at each of the two years by its own call."""

    def changed(v):
        return v * value if op == "scale" else v + value

    out = {year: v for year, v in leaf.items() if year < from_year}
    out[from_year - 1] = value_at(leaf, from_year - 1)
    out[from_year] = changed(value_at(leaf, from_year))
    out.update({year: changed(v) for year, v in leaf.items() if year > from_year})
    return dict(sorted(out.items()))


@settings(max_examples=200, deadline=None)
@given(
    leaf=st.dictionaries(st.integers(2015, 2035), st.floats(-1e6, 1e6), min_size=1, max_size=6),
    op=st.sampled_from(["scale", "add"]),
    value=st.floats(-3.0, 3.0),
    from_year=st.integers(2014, 2036),
)
def test_a_path_changed_from_a_year_is_the_year_by_year_reading(leaf, op, value, from_year):
    got = _act(leaf, op, value, from_year)
    want = _act_one_year_at_a_time(leaf, op, value, from_year)
    assert list(got) == list(want)
    assert np.array(list(got.values())).tobytes() == np.array(list(want.values())).tobytes()
    assert all(type(v) is float for y, v in got.items() if y in (from_year - 1, from_year))
