"""The compiled per-day bookings against the vectorised numpy kernel."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from strategies import decline_params

from cbm_sim.wells import bookings, decline, stepping
from cbm_sim.wells.bookings import (
    BD,
    DT,
    HALF_RISE,
    INV_T_INCLINE,
    K_EXP,
    K_HARM,
    K_HYP,
    NEG_C_OVER_B,
    NEG_CD_EXPO,
    Q_START,
    QI,
    T_INCLINE,
    T_PLATEAU,
    TAU_STAR,
)


@njit
def _every_term(cols, w, t):  # type: ignore[no-untyped-def]
    """The scalar kernel before issue 27, every term computed (the reference of the
    skipped terms and hoisted constants)."""
    tp = max(t, 0.0)
    s = min(tp, cols[T_INCLINE, w])
    out = (s * cols[INV_T_INCLINE, w] * cols[HALF_RISE, w] + cols[Q_START, w]) * s
    tau = tp - cols[T_INCLINE, w]
    plateau = cols[T_PLATEAU, w]
    if plateau > 0.0:
        out += cols[QI, w] * min(max(tau, 0.0), plateau)
        tau -= plateau
    tau_h = min(max(tau, 0.0), cols[TAU_STAR, w])
    x = math.log1p(tau_h * cols[BD, w])
    out += cols[K_HARM, w] * x
    out -= math.expm1(x * cols[NEG_C_OVER_B, w] + tau_h * cols[NEG_CD_EXPO, w]) * cols[K_HYP, w]
    tail = tau - cols[TAU_STAR, w]
    if tail > 0.0:
        out -= cols[K_EXP, w] * math.expm1(-cols[DT, w] * tail)
    return float(out)


@njit
def _book_every_term(cols, online_day, block, wells, first_day, n_days, lo, hi, sign, out):  # type: ignore[no-untyped-def]
    for s in range(wells.size):
        w = wells[s]
        b = block[w]
        on = online_day[w]
        d = first_day[s]
        prev = _every_term(cols, w, min(max(float(d), lo[s]), hi[s]) - on)
        for k in range(n_days[s]):
            cur = _every_term(cols, w, min(max(float(d + k + 1), lo[s]), hi[s]) - on)
            out[b, d + k] += sign[s] * (cur - prev)
            prev = cur


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


@settings(max_examples=300, deadline=None)
@given(
    params=decline_params(di_hi=5.0, t_plateau_hi=2000.0),
    t=st.one_of(st.floats(-100.0, 50_000.0), st.sampled_from([0.0, -0.0, 1e-300])),
    bad=st.sampled_from([None, "bD", "k_harm", "k_hyp"]),
)
def test_the_scalar_kernel_equals_every_term_bit_for_bit(params, t, bad):
    """Skipping the hyperbola's terms before the decline, and reading the constants once,
    changes no bit: not of a sum, not of a zero's sign, not of a NaN (issue 27)."""
    cols = _columns(params)
    if bad is not None:  # a non-finite constant must still give what every term gives
        cols[decline.PREPARED_KEYS.index(bad), 0] = np.inf
    want = _every_term(cols, 0, t)
    got = bookings.cumulative_at(cols, 0, t)
    assert math.isnan(got) == math.isnan(want)
    if not math.isnan(want):
        assert np.float64(got).tobytes() == np.float64(want).tobytes(), (got, want)


def _random_columns(rng: np.random.Generator, n: int, plateau: float) -> np.ndarray:
    """Prepared constants of ``n`` random wells, half of them with ``plateau`` days."""
    params = {
        "qi": rng.uniform(1.0, 1e4, n),
        "di": rng.uniform(1e-3, 2.0, n),
        "b": rng.uniform(0.0, 2.0, n),
        "d_term": rng.uniform(0.0, 0.2, n),
        "t_incline": rng.uniform(0.0, 700.0, n),
        "q_start": rng.uniform(0.0, 500.0, n),
        "t_plateau": np.where(rng.random(n) < 0.5, plateau, 0.0),
    }
    params["d_term"] = np.minimum(params["d_term"], params["di"])
    params["q_start"] = np.minimum(params["q_start"], params["qi"])
    return stepping.prepared_columns(params)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 30),
    plateau=st.sampled_from([0.0, 300.0, 1095.0]),
)
def test_book_days_equals_every_term_bit_for_bit(seed, n, plateau):
    rng = np.random.default_rng(seed)
    cols = _random_columns(rng, n, plateau)
    online = rng.uniform(-3000.0, 200.0, n)
    block = rng.integers(0, 3, n)
    first = np.maximum(np.floor(online), 0).astype(np.int64) + rng.integers(0, 5, n)
    days = rng.integers(0, 300, n)
    lo = np.where(rng.random(n) < 0.3, rng.uniform(0.0, 300.0, n), -np.inf)
    hi = np.where(rng.random(n) < 0.3, lo + rng.uniform(0.0, 60.0, n), np.inf)
    sign = rng.choice([1.0, -1.0], n)
    wells = np.arange(n)
    got, want = np.zeros((3, 700)), np.zeros((3, 700))
    bookings.book_days(cols, online, block, wells, first, days, lo, hi, sign, 0, got)
    _book_every_term(cols, online, block, wells, first, days, lo, hi, sign, want)
    assert got.tobytes() == want.tobytes()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 30), base=st.integers(0, 3))
def test_day_volumes_added_later_equal_book_days_bit_for_bit(seed, n, base):
    """What a study worker keeps of the shared wells (issue 27): their daily terms, added
    later onto a window that already holds other gas, are book_days' additions exactly."""
    rng = np.random.default_rng(seed)
    cols = _random_columns(rng, n, 900.0)
    online = rng.uniform(-3000.0, 200.0, n)
    block = rng.integers(0, 3, n)
    wells = rng.permutation(n)
    first = base + rng.integers(0, 50, n)
    days = rng.integers(0, 300, n)
    start = rng.uniform(0.0, 1e6, (3, 400))  # gas already in the window: the sums round
    got, want = start.copy(), start.copy()
    inf = np.full(n, np.inf)
    bookings.book_days(cols, online, block, wells, first, days, -inf, inf, np.ones(n), base, want)
    values = bookings.day_volumes(cols, online, wells, first, days)
    bookings.add_days(block[wells], first, days, values, base, got)
    assert values.size == days.sum()
    assert got.tobytes() == want.tobytes()
