"""The compiled per-day bookings against the vectorised numpy kernel."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import decline_params

from cbm_sim.wells import bookings, decline, stepping


def _columns(params: dict[str, float]) -> np.ndarray:
    return stepping.prepared_columns({k: np.array([v]) for k, v in params.items()})


@settings(max_examples=300, deadline=None)
@given(params=decline_params(di_hi=5.0, t_plateau_hi=2000.0), t=st.floats(-100.0, 50_000.0))
def test_scalar_cumulative_equals_the_vectorised_kernel(params, t):
    want = decline.cumulative_prepared(np.array([t]), decline.prepare(**params))[0]
    got = bookings.cumulative_at(_columns(params), 0, t)
    assert abs(got - want) <= 1e-12 * abs(want) + 1e-9


@settings(max_examples=100, deadline=None)
@given(
    params=decline_params(t_plateau_hi=200.0),
    online=st.floats(-3000.0, 50.0),
    first=st.integers(0, 100),
    days=st.integers(0, 40),
    window=st.tuples(st.floats(0.0, 150.0), st.floats(0.0, 150.0)),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_book_days_adds_each_days_gas_inside_the_interval(
    params, online, first, days, window, sign
):
    lo, hi = sorted(window)
    cols = _columns(params)
    out = np.zeros((2, 200))
    bookings.book_days(
        cols,
        np.array([online]),
        np.array([1]),
        np.array([0]),
        np.array([first]),
        np.array([days]),
        np.array([lo]),
        np.array([hi]),
        np.array([sign]),
        0,
        out,
    )
    edges = np.clip(np.arange(first, first + days + 1.0), lo, hi) - online
    want = np.zeros(200)
    want[first : first + days] = sign * np.diff(decline.cumulative(edges, **params))
    np.testing.assert_allclose(out[1], want, rtol=1e-9, atol=1e-6)
    assert not out[0].any()
