"""{year: value} paths: linear between stated years, flat outside, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.scenario.paths import interpolate, value_at


def test_linear_between_and_flat_outside():
    path = {2021: 19.35, 2025: 30.0, 2030: 20.0}  # plan ch1 §2 四, ch4 §2 二 (exports)
    got = interpolate(path, [2019, 2021, 2023, 2025, 2027.5, 2030, 2035])
    np.testing.assert_allclose(got, [19.35, 19.35, 24.675, 30.0, 25.0, 20.0, 20.0])
    assert value_at({2025: 7.0}, 2040) == 7.0


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.integers(2000, 2050), st.floats(-1e6, 1e6), min_size=1, max_size=6),
    st.floats(1990, 2060),
)
def test_value_stays_within_the_stated_range(path, year):
    v = value_at(path, year)
    assert min(path.values()) - 1e-9 <= v <= max(path.values()) + 1e-9


def test_empty_path_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        interpolate({}, [2021])


def test_non_finite_value_is_named():
    with pytest.raises(ValueError, match="2025"):
        interpolate({2021: 1.0, 2025: float("nan")}, [2022])
