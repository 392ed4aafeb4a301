"""Decline core: closed forms vs quadrature, continuity, limits, petbox-dca cross-check."""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from strategies import decline_params, outside, param

from cbm_sim.wells import decline

FAST = settings(max_examples=40, deadline=None)


def _rate1(t: float, p: dict[str, float]) -> float:
    return float(decline.rate(t, **p))


@FAST
@given(p=decline_params())
def test_cumulative_zero_at_zero(p: dict[str, float]) -> None:
    assert decline.cumulative(0.0, **p) == 0.0
    assert decline.cumulative(-5.0, **p) == 0.0


@settings(max_examples=25, deadline=None)
@given(p=decline_params(), t=param("t_days", 1.0, 20000.0))
def test_cumulative_equals_quadrature_of_rate(p: dict[str, float], t: float) -> None:
    # integrate piecewise at the kinks (peak, terminal switch) so quad is exact to 1e-10
    D, Dt = p["di"] / 365.25, p["d_term"] / 365.25
    with np.errstate(divide="ignore", over="ignore"):
        switch = float((np.float64(1.0 / Dt - 1.0 / D)) / p["b"]) if 0 < Dt < D else math.inf
    knots = sorted({0.0, t} | {k for k in (p["t_incline"], p["t_incline"] + switch) if k < t})
    total = sum(
        quad(_rate1, a, z, args=(p,), epsabs=0.0, epsrel=1e-12, limit=200)[0]
        for a, z in itertools.pairwise(knots)
    )
    assert float(decline.cumulative(t, **p)) == pytest.approx(total, rel=1e-6, abs=1e-9)


@FAST
@given(p=decline_params())
def test_rate_continuous_at_peak_and_switch(p: dict[str, float]) -> None:
    tp = p["t_incline"]
    if tp > 0:
        eps = 1e-6 * tp
        jump = abs(_rate1(tp - eps, p) - p["qi"])
        assert jump <= abs(p["qi"] - p["q_start"]) * 1e-6 * 1.01 + 1e-12 * p["qi"]
    assert _rate1(tp, p) == pytest.approx(p["qi"], rel=1e-12)
    D, Dt = p["di"] / 365.25, p["d_term"] / 365.25
    if 0 < Dt < D and p["b"] > 0:
        ts = tp + (1.0 / Dt - 1.0 / D) / p["b"]
        if ts < 1e8:
            left, right = _rate1(ts * (1 - 1e-12), p), _rate1(ts * (1 + 1e-12), p)
            assert left == pytest.approx(right, rel=1e-6, abs=1e-300)


@FAST
@given(p=decline_params())
def test_non_negative_and_non_increasing_after_peak(p: dict[str, float]) -> None:
    t = np.concatenate([np.linspace(-10, 3 * p["t_incline"] + 10, 200), np.geomspace(1, 1e8, 200)])
    q = decline.rate(t, **p)
    assert np.all(q >= 0)
    after = np.sort(t[t >= p["t_incline"]])
    qa = decline.rate(after, **p)
    assert np.all(np.diff(qa) <= 1e-12 * qa[:-1])
    c = decline.cumulative(np.sort(t), **p)
    assert np.all(np.diff(c) >= -1e-9 * np.abs(c[1:]))


@FAST
@given(p=decline_params(), b=st.sampled_from([1e-300, 1e-200, 1e-100, 1e-30, 1e-15]))
def test_small_b_matches_exponential(p: dict[str, float], b: float) -> None:
    t = np.array([0.0, 10.0, 365.0, 5000.0, 1e6])
    p0, pb = {**p, "b": 0.0}, {**p, "b": b}
    np.testing.assert_allclose(decline.rate(t, **pb), decline.rate(t, **p0), rtol=1e-9)
    np.testing.assert_allclose(decline.cumulative(t, **pb), decline.cumulative(t, **p0), rtol=1e-9)
    # b = 0 is the exponential exactly
    D = p["di"] / 365.25
    tau = t[t >= p["t_incline"]] - p["t_incline"]
    if p["d_term"] < p["di"]:
        expect = p["qi"] * np.exp(-D * tau)
        np.testing.assert_allclose(decline.rate(tau + p["t_incline"], **p0), expect, rtol=1e-12)


def test_harmonic_and_b_near_one() -> None:
    p = {"qi": 1000.0, "di": 0.5}
    t = np.array([1.0, 100.0, 1e4])
    D = 0.5 / 365.25
    np.testing.assert_allclose(
        decline.cumulative(t, b=1.0, **p), 1000 / D * np.log1p(D * t), rtol=1e-13
    )
    np.testing.assert_allclose(
        decline.cumulative(t, b=1 - 1e-9, **p), decline.cumulative(t, b=1.0, **p), rtol=1e-7
    )


def test_d_term_at_or_above_di_is_pure_exponential_at_d_term() -> None:
    t = np.array([0.0, 50.0, 500.0, 5000.0])
    q = decline.rate(t, 1000.0, 0.2, 0.8, d_term=0.4)
    np.testing.assert_allclose(q, 1000.0 * np.exp(-0.4 / 365.25 * t), rtol=1e-12)
    c = decline.cumulative(t, 1000.0, 0.2, 0.8, d_term=0.4)
    np.testing.assert_allclose(
        c, 1000.0 / (0.4 / 365.25) * -np.expm1(-0.4 / 365.25 * t), rtol=1e-12
    )


def test_very_large_t_is_finite() -> None:
    for b in (0.0, 0.5, 1.0, 2.0, 5.0):
        q = decline.rate(1e9, 1e4, 100.0, b, d_term=0.0)
        c = decline.cumulative(1e9, 1e4, 100.0, b, d_term=0.0)
        assert np.isfinite(q) and np.isfinite(c) and q >= 0


def test_incline_is_linear_and_its_volume_a_trapezoid() -> None:
    assert float(decline.rate(50.0, 1000.0, 0.3, 0.5, t_incline=100.0, q_start=200.0)) == 600.0
    c = float(decline.cumulative(100.0, 1000.0, 0.3, 0.5, t_incline=100.0, q_start=200.0))
    assert c == pytest.approx(0.5 * (200 + 1000) * 100, rel=1e-14)


@FAST
@given(p=decline_params())
def test_grid_equals_well_by_well(p: dict[str, float]) -> None:
    t = np.array([0.0, 3.5, 100.0, 1000.0, 1e5])
    scale = np.array([[0.5], [1.0], [2.0]])
    grid_kw = {**p, "qi": p["qi"] * scale, "q_start": p["q_start"] * scale}
    rg = decline.rate(t, **grid_kw)
    cg = decline.cumulative(t, **grid_kw)
    assert rg.shape == (3, 5)
    for i, s in enumerate(scale[:, 0]):
        for j, tj in enumerate(t):
            kw = {**p, "qi": p["qi"] * s, "q_start": p["q_start"] * s}
            assert rg[i, j] == pytest.approx(float(decline.rate(tj, **kw)), rel=1e-13, abs=0)
            assert cg[i, j] == pytest.approx(float(decline.cumulative(tj, **kw)), rel=1e-13, abs=0)


def test_eur_closed_forms() -> None:
    D = 0.5 / 365.25
    assert float(decline.eur(1000.0, 0.5, 0.0)) == pytest.approx(1000 / D, rel=1e-13)
    assert float(decline.eur(1000.0, 0.5, 0.5)) == pytest.approx(1000 / (0.5 * D), rel=1e-13)
    assert math.isinf(float(decline.eur(1000.0, 0.5, 1.0)))
    # with a terminal decline the EUR is finite even for b >= 1, and equals cumulative at ∞
    e = float(decline.eur(1000.0, 0.5, 1.5, d_term=0.05, t_incline=100.0, q_start=10.0))
    big = float(
        decline.cumulative(1e8, 1000.0, 0.5, 1.5, d_term=0.05, t_incline=100.0, q_start=10.0)
    )
    assert e == pytest.approx(big, rel=1e-12)


@FAST
@given(p=decline_params(), frac=st.floats(0.001, 0.999))
def test_time_to_limit_inverts_rate(p: dict[str, float], frac: float) -> None:
    q_limit = p["qi"] * frac
    kw = {k: p[k] for k in ("qi", "di", "b", "d_term", "t_incline")}
    t = float(decline.time_to_limit(**kw, q_limit=q_limit))
    if t < 1e8:
        assert _rate1(t, p) == pytest.approx(q_limit, rel=1e-8)
        e = float(decline.eur(**kw, q_start=p["q_start"], q_limit=q_limit))
        assert e == pytest.approx(float(decline.cumulative(t, **p)), rel=1e-12)


def test_time_to_limit_above_peak_is_peak_time() -> None:
    assert float(decline.time_to_limit(100.0, 0.3, 0.5, t_incline=30.0, q_limit=200.0)) == 30.0


@FAST
@given(d=param("decline_fraction", 1e-6, 0.999), b=param("b", 0.0, 3.0))
def test_decline_conversions_round_trip(d: float, b: float) -> None:
    nom = decline.nominal_from_tangent(d)
    assert float(decline.tangent_from_nominal(nom)) == pytest.approx(d, rel=1e-12, abs=1e-15)
    nom_s = decline.nominal_from_secant(d, b)
    assert float(decline.secant_from_nominal(nom_s, b)) == pytest.approx(d, rel=1e-9, abs=1e-15)
    # secant effective: the fraction lost over one year on the hyperbola
    if float(nom_s) <= 100.0:
        q1 = float(decline.rate(365.25, 1.0, float(nom_s), b))
        assert 1.0 - q1 == pytest.approx(d, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("qi", {"qi": -1.0}),
        ("di", {"di": 0.0}),
        ("b", {"b": -0.5}),
        ("b", {"b": math.nan}),
        ("t_incline", {"t_incline": -3.0}),
        ("q_start", {"q_start": -2.0}),
        ("d_term", {"d_term": math.nan}),
        ("t_days", {"t_days": math.nan}),
    ],
)
def test_invalid_parameters_rejected(name: str, kwargs: dict[str, float]) -> None:
    base = {"t_days": 10.0, "qi": 100.0, "di": 0.3, "b": 0.5, "d_term": 0.05}
    bad = next(iter(kwargs.values()))
    for fn in (decline.rate, decline.cumulative):
        with pytest.raises(ValueError, match=rf"^{name} must be in .*got {bad!r}"):
            fn(**{**base, **kwargs})


@settings(max_examples=20, deadline=None)
@given(v=outside("q_limit"))
def test_invalid_q_limit_rejected(v: float) -> None:
    with pytest.raises(ValueError, match=r"^q_limit must be in .*got"):
        decline.eur(100.0, 0.3, 0.5, q_limit=v)


def test_petbox_modified_hyperbolic_agrees() -> None:
    dca = pytest.importorskip("petbox.dca")
    t = np.array([1e-3, 1.0, 30.0, 365.0, 3000.0, 20000.0, 60000.0])
    for qi, di, b, dt in [
        (1500.0, 0.4, 0.5, 0.06),
        (12000.0, 1.2, 1.3, 0.1),
        (800.0, 0.3, 0.9, 0.0),
    ]:
        model = dca.MH(
            qi=qi,
            Di=float(decline.secant_from_nominal(di, b)),
            bi=b,
            Dterm=float(decline.tangent_from_nominal(dt)),
        )
        np.testing.assert_allclose(decline.rate(t, qi, di, b, dt), model.rate(t), rtol=1e-10)
        np.testing.assert_allclose(decline.cumulative(t, qi, di, b, dt), model.cum(t), rtol=1e-10)


@settings(max_examples=200, deadline=None)
@given(
    params=decline_params(t_plateau_hi=3000.0),
    t=st.lists(st.floats(-100.0, 50_000.0), min_size=1, max_size=20),
)
def test_prepared_cumulative_matches_cumulative(params, t):
    times = np.array(t)
    want = decline.cumulative(times, **params)
    got = decline.cumulative_prepared(times, decline.prepare(**params))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_prepared_cumulative_broadcasts_a_grid():
    rng = np.random.default_rng(3)
    n = 40
    p = {
        "qi": rng.uniform(500, 5000, (n, 1)),
        "di": rng.uniform(0.1, 1.0, (n, 1)),
        "b": rng.choice([0.0, 0.5, 1.0, 1.5], (n, 1)),
        "d_term": np.full((n, 1), 0.05),
        "t_incline": rng.uniform(0, 500, (n, 1)),
        "q_start": np.zeros((n, 1)),
    }
    t = np.linspace(-10.0, 40_000.0, 97)
    np.testing.assert_allclose(
        decline.cumulative_prepared(t, decline.prepare(**p)),
        decline.cumulative(t, **p),
        rtol=1e-9,
        atol=1e-6,
    )


def test_fast_log1p_equals_numpy_log1p():
    x = np.concatenate(([0.0, 1e-300, 1e-17, 1.1e-16, 2.3e-16], np.logspace(-20, 6, 5000)))
    got = decline._log1p_fast(x.copy(), np.empty_like(x), np.empty_like(x))
    np.testing.assert_allclose(got, np.log1p(x), rtol=4e-16, atol=0.0)


def test_prepared_cumulative_with_wells_on_the_fast_axis_and_an_output_array():
    rng = np.random.default_rng(4)
    n = 30
    p = {
        "qi": rng.uniform(500, 5000, n),
        "di": rng.uniform(0.1, 1.0, n),
        "b": rng.choice([0.0, 0.5, 1.0, 1.5], n),
        "d_term": np.full(n, 0.05),
        "t_incline": rng.uniform(0, 500, n),
        "q_start": np.zeros(n),
        "t_plateau": rng.choice([0.0, 30.0, 865.0], n),  # wells with and without a plateau
    }
    t = np.linspace(-10.0, 40_000.0, 11)[:, None] + rng.uniform(0, 5, n)
    out = np.empty((11, n))
    got = decline.cumulative_prepared(t, decline.prepare(**p), out=out)
    assert got is out
    np.testing.assert_allclose(out, decline.cumulative(t, **p), rtol=1e-9, atol=1e-6)


# --- plateau ---------------------------------------------------------------------------------
PLATEAU = settings(max_examples=40, deadline=None)


def _knots(p: dict[str, float], t: float) -> list[float]:
    """0, t and the kinks before t: peak, plateau end, terminal switch."""
    D, Dt = p["di"] / 365.25, p["d_term"] / 365.25
    with np.errstate(divide="ignore", over="ignore"):
        switch = float((np.float64(1.0 / Dt - 1.0 / D)) / p["b"]) if 0 < Dt < D else math.inf
    start = p["t_incline"] + p["t_plateau"]
    return sorted({0.0, t} | {k for k in (p["t_incline"], start, start + switch) if k < t})


@settings(max_examples=25, deadline=None)
@given(p=decline_params(t_plateau_hi=3000.0), t=param("t_days", 1.0, 20000.0))
def test_plateau_cumulative_equals_quadrature_of_rate(p: dict[str, float], t: float) -> None:
    total = sum(
        quad(_rate1, a, z, args=(p,), epsabs=0.0, epsrel=1e-12, limit=200)[0]
        for a, z in itertools.pairwise(_knots(p, t))
    )
    assert float(decline.cumulative(t, **p)) == pytest.approx(total, rel=1e-6, abs=1e-9)


@PLATEAU
@given(p=decline_params(t_plateau_hi=3000.0), frac=st.floats(0.0, 1.0, exclude_max=True))
def test_rate_is_the_peak_on_the_plateau(p: dict[str, float], frac: float) -> None:
    t = p["t_incline"] + frac * p["t_plateau"]
    assert _rate1(t, p) == p["qi"]
    # the plateau's volume is the peak rate times its length
    end = p["t_incline"] + p["t_plateau"]
    total = float(decline.cumulative(end, **p))
    vol = total - float(decline.cumulative(p["t_incline"], **p))
    # a difference of two cumulatives: its rounding error scales with them, not with the
    # plateau (a short plateau after a big incline volume cancels ~1e7 m3 to ~1 m3)
    assert vol == pytest.approx(p["qi"] * p["t_plateau"], rel=1e-12, abs=1e-14 * total + 1e-9)


@PLATEAU
@given(p=decline_params(t_plateau_hi=3000.0))
def test_plateau_shifts_the_decline_of_the_plateau_free_well(p: dict[str, float]) -> None:
    # the old formulas (no t_plateau given) on the incline, shifted by the plateau after it
    h, tp = p["t_plateau"], p["t_incline"]
    old = {k: v for k, v in p.items() if k != "t_plateau"}
    before = np.linspace(-5.0, tp, 7)
    np.testing.assert_array_equal(decline.rate(before, **p), decline.rate(before, **old))
    np.testing.assert_array_equal(
        decline.cumulative(before, **p), decline.cumulative(before, **old)
    )
    after = tp + np.array([0.0, 1.0, 30.0, 365.0, 5000.0, 40000.0])
    np.testing.assert_allclose(
        decline.rate(after + h, **p), decline.rate(after, **old), rtol=1e-9, atol=1e-300
    )
    np.testing.assert_allclose(
        decline.cumulative(after + h, **p),
        decline.cumulative(after, **old) + p["qi"] * h,
        rtol=1e-9,
    )


@PLATEAU
@given(p=decline_params(t_plateau_hi=3000.0))
def test_plateau_rate_non_increasing_and_cumulative_monotone(p: dict[str, float]) -> None:
    end = p["t_incline"] + p["t_plateau"]
    t = np.sort(np.concatenate([np.linspace(-10, 2 * end + 10, 300), np.geomspace(1, 1e8, 200)]))
    c = decline.cumulative(t, **p)
    assert np.all(np.diff(c) >= -1e-9 * np.abs(c[1:]))
    after = t[t >= p["t_incline"]]
    qa = decline.rate(after, **p)
    assert np.all(np.diff(qa) <= 1e-12 * qa[:-1])


def test_zero_plateau_is_bit_identical_to_no_plateau() -> None:
    rng = np.random.default_rng(11)
    n = 200
    p = {
        "qi": rng.uniform(1.0, 1e5, n),
        "di": rng.uniform(1e-3, 5.0, n),
        "b": rng.choice([0.0, 1e-12, 0.5, 1.0, 1.7], n),
        "d_term": rng.uniform(0.0, 0.3, n),
        "t_incline": rng.choice([0.0, 1e-310, 90.0, 700.0], n),
        "q_start": rng.uniform(0.0, 500.0, n),
    }
    t = rng.uniform(-100.0, 60_000.0, n)
    z = np.zeros(n)
    for fn in (decline.rate, decline.cumulative):
        np.testing.assert_array_equal(fn(t, **p, t_plateau=z), fn(t, **p))
    lim = rng.uniform(0.0, 2e3, n)
    np.testing.assert_array_equal(
        decline.eur(**p, q_limit=lim, t_plateau=z), decline.eur(**p, q_limit=lim)
    )
    kw = {k: p[k] for k in ("qi", "di", "b", "d_term", "t_incline")}
    np.testing.assert_array_equal(
        decline.time_to_limit(**kw, q_limit=lim, t_plateau=z),
        decline.time_to_limit(**kw, q_limit=lim),
    )
    np.testing.assert_array_equal(
        decline.cumulative_prepared(t, decline.prepare(**p, t_plateau=z)),
        decline.cumulative_prepared(t, decline.prepare(**p)),
    )


@PLATEAU
@given(p=decline_params(t_plateau_hi=3000.0), frac=st.floats(0.001, 0.999))
def test_plateau_time_to_limit_and_eur_agree_with_rate_and_cumulative(
    p: dict[str, float], frac: float
) -> None:
    q_limit = p["qi"] * frac
    kw = {k: p[k] for k in ("qi", "di", "b", "d_term", "t_incline")}
    t = float(decline.time_to_limit(**kw, q_limit=q_limit, t_plateau=p["t_plateau"]))
    assert t >= p["t_incline"] + p["t_plateau"]
    if t < 1e8:
        assert _rate1(t, p) == pytest.approx(q_limit, rel=1e-8)
        e = float(
            decline.eur(**kw, q_start=p["q_start"], q_limit=q_limit, t_plateau=p["t_plateau"])
        )
        assert e == pytest.approx(float(decline.cumulative(t, **p)), rel=1e-12)


def test_plateau_eur_to_zero_rate_adds_the_plateau_volume() -> None:
    base = {"qi": 1000.0, "di": 0.5, "d_term": 0.05, "t_incline": 100.0, "q_start": 10.0}
    for b in (0.0, 0.5, 1.5):
        e0 = float(decline.eur(**base, b=b))
        e1 = float(decline.eur(**base, b=b, t_plateau=865.0))
        assert e1 == pytest.approx(e0 + 1000.0 * 865.0, rel=1e-12)
    # a pure hyperbola with b < 1: the closed form plus incline and plateau volumes
    D = 0.5 / 365.25
    e = float(decline.eur(1000.0, 0.5, 0.5, t_incline=100.0, q_start=10.0, t_plateau=200.0))
    assert e == pytest.approx(505.0 * 100.0 + 1000.0 * 200.0 + 1000.0 / (0.5 * D), rel=1e-13)
    assert math.isinf(float(decline.eur(1000.0, 0.5, 1.0, t_plateau=200.0)))


def test_plateau_time_to_limit_above_peak_is_peak_time() -> None:
    got = decline.time_to_limit(100.0, 0.3, 0.5, t_incline=30.0, q_limit=200.0, t_plateau=50.0)
    assert float(got) == 30.0


def test_petbox_modified_hyperbolic_shifted_by_the_plateau_agrees() -> None:
    dca = pytest.importorskip("petbox.dca")
    tau = np.array([1e-3, 1.0, 30.0, 365.0, 3000.0, 20000.0, 60000.0])
    for qi, di, b, dt, tp, qs, h in [
        (1500.0, 0.4, 0.5, 0.06, 0.0, 0.0, 865.0),
        (12000.0, 1.2, 1.3, 0.1, 240.0, 1200.0, 365.0),
        (800.0, 0.3, 0.9, 0.0, 720.0, 80.0, 3650.0),
    ]:
        model = dca.MH(
            qi=qi,
            Di=float(decline.secant_from_nominal(di, b)),
            bi=b,
            Dterm=float(decline.tangent_from_nominal(dt)),
        )
        t = tp + h + tau
        kw = {"t_incline": tp, "q_start": qs, "t_plateau": h}
        np.testing.assert_allclose(decline.rate(t, qi, di, b, dt, **kw), model.rate(tau), rtol=1e-9)
        before = 0.5 * (qs + qi) * tp + qi * h
        np.testing.assert_allclose(
            decline.cumulative(t, qi, di, b, dt, **kw), before + model.cum(tau), rtol=1e-9
        )


@pytest.mark.parametrize("bad", [-1.0, math.nan, 3650.5, math.inf])
def test_invalid_plateau_rejected_with_its_value(bad: float) -> None:
    msg = rf"^t_plateau must be in \[0, 3650\] day.*got {bad!r}"
    for fn in (decline.rate, decline.cumulative):
        with pytest.raises(ValueError, match=msg):
            fn(10.0, 100.0, 0.3, 0.5, t_plateau=bad)
    with pytest.raises(ValueError, match=msg):
        decline.eur(100.0, 0.3, 0.5, q_limit=1.0, t_plateau=bad)
    with pytest.raises(ValueError, match=msg):
        decline.time_to_limit(100.0, 0.3, 0.5, q_limit=1.0, t_plateau=bad)
    with pytest.raises(ValueError, match=msg):
        decline.prepare(100.0, 0.3, 0.5, t_plateau=bad)


def test_scaling_prepared_constants_is_preparing_scaled_rates():
    # production is linear in qi and q_start: scaling the rate-linear constants by f gives
    # the constants (and the cumulative) of the wells with both rates multiplied by f
    p = {"qi": np.array([800.0, 2500.0]), "di": np.array([0.3, 0.8]), "b": np.array([0.0, 1.0]),
         "d_term": np.array([0.05, 0.1]), "t_incline": np.array([0.0, 300.0]),
         "q_start": np.array([0.0, 200.0]), "t_plateau": np.array([100.0, 0.0])}  # fmt: skip
    cols = np.stack([decline.prepare(**p)[k] for k in decline.PREPARED_KEYS])
    scaled = decline.scale_prepared_rates(cols, 0.37)
    want = decline.prepare(**(p | {"qi": 0.37 * p["qi"], "q_start": 0.37 * p["q_start"]}))
    np.testing.assert_allclose(scaled, [want[k] for k in decline.PREPARED_KEYS], rtol=1e-14)
    assert not np.shares_memory(scaled, cols)
    t = np.array([[50.0, 4000.0], [500.0, 9000.0]])
    k = dict(zip(decline.PREPARED_KEYS, scaled, strict=True))
    np.testing.assert_allclose(
        decline.cumulative_prepared(t, k), 0.37 * decline.cumulative(t, **p), rtol=1e-12
    )


# --- blocked evaluation ----------------------------------------------------------------------
@contextlib.contextmanager
def _block_points(n: int) -> Iterator[None]:
    """Evaluate the grid kernels in blocks of ``n`` points (tiny: many blocks; huge: one)."""
    old, decline._BLOCK_POINTS = decline._BLOCK_POINTS, n
    try:
        yield
    finally:
        decline._BLOCK_POINTS = old


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


@settings(max_examples=60, deadline=None)
@given(
    wells=st.lists(decline_params(t_plateau_hi=3000.0), min_size=1, max_size=7),
    t=st.lists(st.floats(-100.0, 60_000.0), min_size=1, max_size=13),
    block=st.sampled_from([1, 2, 3, 5, 17]),
    no_plateau=st.booleans(),
)
def test_blocked_evaluation_is_bit_identical_to_whole_grid(
    wells: list[dict[str, float]], t: list[float], block: int, no_plateau: bool
) -> None:
    # blocks of rows, blocks cutting rows, and the (m, n) layout with wells on the fast axis
    cols = {k: np.array([w[k] for w in wells]) for k in wells[0]}
    if no_plateau:
        cols["t_plateau"] = np.zeros(len(wells))
    p = {k: v[:, None] for k, v in cols.items()}
    times = np.array([*t, -0.0, 0.0])  # signed zeros: the skipped terms add only zeros
    fast = times[:, None] + np.arange(len(wells))  # (m, n): a time per well
    results = []
    for n in (block, 1 << 60):
        with _block_points(n):
            results.append(
                [
                    decline.rate(times, **p),
                    decline.cumulative(times, **p),
                    decline.rate(fast.T, **p),
                    decline.cumulative_prepared(times[None, :], decline.prepare(**p)),
                    decline.cumulative_prepared(fast, decline.prepare(**cols)),
                    decline.eur(**cols, q_limit=0.5 * cols["qi"]),
                ]
            )
    for blocked, whole in zip(*results, strict=True):
        np.testing.assert_array_equal(_bits(blocked), _bits(whole))


def test_blocks_cover_the_grid_once() -> None:
    for shape in [(7,), (3, 5), (2, 3, 4), (1, 40), (40, 1), (0, 3)]:
        for size in (1, 2, 6, 7, 100):
            hits = np.zeros(shape, dtype=int)
            for idx in decline._blocks(shape, size):
                hits[idx] += 1
                assert hits[idx].size <= max(size, 1)
            assert np.all(hits == 1), (shape, size)


# --- large grids: vectorised exp/log, one compiled pass (declinegrid, vecmath) ----------------
@contextlib.contextmanager
def _path(compiled: bool) -> Iterator[None]:
    """Evaluate every grid of the public functions by the compiled path (``compiled``) or
    by the numpy kernels (the engine's numbers)."""
    old, decline._FAST_POINTS = decline._FAST_POINTS, (0 if compiled else 1 << 62)
    try:
        yield
    finally:
        decline._FAST_POINTS = old


def _both(fn, *args, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` by the compiled path and by the numpy kernels."""
    with _path(True):
        fast = fn(*args, **kwargs)
    with _path(False):
        ref = fn(*args, **kwargs)
    return fast, ref


def _agree(fast: np.ndarray, ref: np.ndarray) -> None:
    """The compiled path's tolerance: 2e-13 relative (exp and log within 1 ulp of the C
    library's, amplified at most by the exponent of a rate), 1e-300 absolute (subnormal
    rates); zeros, infinities and NaNs where the numpy kernels have them."""
    np.testing.assert_allclose(fast, ref, rtol=2e-13, atol=1e-300, equal_nan=True)
    assert np.array_equal(fast == 0.0, ref == 0.0)


EDGE = st.fixed_dictionaries(
    {
        "qi": st.one_of(param("qi"), st.sampled_from([0.0, 1e7])),
        "di": st.one_of(param("di", 1e-3, 100.0), st.sampled_from([1e-300, 100.0])),
        "b": st.one_of(
            param("b"), st.sampled_from([0.0, 1e-300, 1e-12, 1e-9, 1.0, 1.0 - 1e-9, 5.0])
        ),
        "d_term": st.one_of(param("d_term", 0.0, 100.0), st.just(0.0)),
        "t_incline": st.one_of(param("t_incline"), st.sampled_from([0.0, 1e-301, 3650.0])),
        "q_start": st.one_of(param("q_start"), st.just(0.0)),
        "t_plateau": st.one_of(st.just(0.0), param("t_plateau"), st.just(3650.0)),
    }
)
"""Wells anywhere in the bounds of :mod:`cbm_sim.bounds`, their edges included."""


@settings(max_examples=80, deadline=None)
@given(
    wells=st.lists(EDGE, min_size=1, max_size=9),
    t=st.lists(st.floats(-1e4, 1e5), min_size=1, max_size=30),
    extra=st.sampled_from([0.0, 1e9, -1e9]),
)
def test_compiled_grids_agree_with_the_numpy_kernels(
    wells: list[dict[str, float]], t: list[float], extra: float
) -> None:
    """Random wells of the full bounds (b → 0, b = 1, b = 5, no or any terminal decline,
    subnormal incline, zero rates), times with signed zeros, 0 and far ends; wells × times,
    one well, and the times per well on the fast axis (not the fused layout: the numpy
    kernels with the vectorised exp and log)."""
    cols = {k: np.array([w[k] for w in wells]) for k in wells[0]}
    p = {k: v[:, None] for k, v in cols.items()}
    times = np.array([*t, -0.0, 0.0, extra])
    fast_axis = np.clip(times[:, None] + np.arange(len(wells)), -1e9, 1e9)
    one = {k: v[0] for k, v in cols.items()}
    for fn in (decline.rate, decline.cumulative):
        with np.errstate(all="ignore"):
            for args, kw in ((times, p), (times, one), (fast_axis, cols)):
                _agree(*_both(fn, args, **kw))


def test_compiled_grid_closed_forms_and_exponential_limit() -> None:
    """Exponential (b = 0 and b → 0), harmonic and hyperbolic wells without incline or
    terminal decline on a 64 × 256 grid against their textbook closed forms (rates to 1e-12:
    an error of a few ulps in the exponent w ≈ 22 at the end is ~1e-13 of the rate, as the
    numpy kernels')."""
    t = np.linspace(0.0, 20_000.0, 256)
    D = 0.4 / 365.25
    qi = np.linspace(100.0, 1e4, 64)[:, None]
    with _path(True):
        for b in (0.0, 1e-300, 1e-15):
            np.testing.assert_allclose(decline.rate(t, qi, 0.4, b), qi * np.exp(-D * t), rtol=1e-12)
            np.testing.assert_allclose(
                decline.cumulative(t, qi, 0.4, b), qi * -np.expm1(-D * t) / D, rtol=1e-13
            )
        np.testing.assert_allclose(decline.rate(t, qi, 0.4, 1.0), qi / (1 + D * t), rtol=1e-12)
        np.testing.assert_allclose(
            decline.cumulative(t, qi, 0.4, 1.0), qi * np.log1p(D * t) / D, rtol=1e-13
        )
        b = 0.5
        np.testing.assert_allclose(
            decline.rate(t, qi, 0.4, b), qi * (1 + b * D * t) ** (-1 / b), rtol=1e-12
        )
        np.testing.assert_allclose(
            decline.cumulative(t, qi, 0.4, b),
            qi / ((1 - b) * D) * (1 - (1 + b * D * t) ** (1 - 1 / b)),
            rtol=1e-12,
        )
        assert decline.cumulative(np.zeros(5000), 1e3, 0.4, 0.5).tolist() == [0.0] * 5000


def test_compiled_grid_equals_quadrature_of_its_rate() -> None:
    """The cumulative of the compiled path is the integral of its rate (incline, plateau,
    hyperbola and terminal segment), to quadrature accuracy."""
    kw = {"qi": 2e3, "di": 0.9, "b": 1.3, "d_term": 0.12, "t_incline": 150.0, "q_start": 80.0}
    kw["t_plateau"] = 300.0
    with _path(True):
        for tk in (100.0, 400.0, 3000.0, 14_000.0):
            knots = [0.0, 150.0, 450.0, 450.0 + 365.25 * (1 / 0.12 - 1 / 0.9) / 1.3, tk]
            pts = sorted(k for k in knots if k <= tk)
            total = sum(
                quad(lambda x: float(decline.rate(x, **kw)), a, z, epsabs=0, epsrel=1e-12)[0]
                for a, z in itertools.pairwise(pts)
            )
            grid = decline.cumulative(np.full(4096, tk), **kw)  # the compiled pass
            assert float(grid[0]) == pytest.approx(total, rel=1e-9)
            assert np.all(grid == grid[0])


def test_compiled_grid_agrees_with_petbox_dca() -> None:
    dca = pytest.importorskip("petbox.dca")
    t = np.linspace(1.0, 60_000.0, 128)
    rng = np.random.default_rng(11)
    wells = np.column_stack(
        [rng.uniform(500, 2e4, 40), rng.uniform(0.1, 1.5, 40), rng.uniform(0.05, 1.5, 40)]
    )
    d_term = rng.choice([0.0, 0.06, 0.1], 40)
    with _path(True):
        r = decline.rate(t, wells[:, :1], wells[:, 1:2], wells[:, 2:], d_term[:, None])
        c = decline.cumulative(t, wells[:, :1], wells[:, 1:2], wells[:, 2:], d_term[:, None])
    for i, (qi, di, b) in enumerate(wells):
        model = dca.MH(
            qi=qi,
            Di=float(decline.secant_from_nominal(di, b)),
            bi=b,
            Dterm=float(decline.tangent_from_nominal(d_term[i])),
        )
        np.testing.assert_allclose(r[i], model.rate(t), rtol=1e-10)
        np.testing.assert_allclose(c[i], model.cum(t), rtol=1e-10)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("qi", {"qi": -1.0}),
        ("di", {"di": 0.0}),
        ("b", {"b": 6.0}),
        ("t_plateau", {"t_plateau": 4000.0}),
        ("t_days", {"t_days": math.nan}),
    ],
)
def test_compiled_grids_reject_bad_inputs_with_the_same_message(name, kwargs) -> None:
    base = {"t_days": np.linspace(0.0, 100.0, 100), "qi": np.full((100, 1), 100.0)}
    base |= {"di": 0.3, "b": 0.5, "d_term": 0.05}
    bad = next(iter(kwargs.values()))
    cells = {k: np.full((100, 100), v) for k, v in kwargs.items()}
    with _path(True):
        for fn in (decline.rate, decline.cumulative):
            with pytest.raises(ValueError, match=rf"^{name} must be in .*got {bad!r}"):
                fn(**{**base, **cells})


def test_engine_paths_never_take_the_compiled_kernels() -> None:
    """The plan run's numbers come from the numpy kernels: the internal kernels (eur, the
    event volumes of a grid) and cumulative_prepared stay on numpy's exp and log whatever
    the grid size."""
    qi = np.linspace(100.0, 1e4, 200)[:, None]
    t = np.linspace(0.0, 9000.0, 300)
    p = (qi, np.full_like(qi, 0.3), np.full_like(qi, 0.6), np.full_like(qi, 0.05))
    rest = (np.full_like(qi, 90.0), np.full_like(qi, 10.0), np.full_like(qi, 200.0))
    with _path(True):
        fast = decline._cum_kernel(t, *p, *rest)
        eur = decline.eur(qi, 0.3, 0.6, 0.05, 90.0, 10.0, 1.0, t_plateau=200.0)
    with _path(False):
        np.testing.assert_array_equal(_bits(fast), _bits(decline._cum_grid(t, (*p, *rest), 1)))
        np.testing.assert_array_equal(
            _bits(eur), _bits(decline.eur(qi, 0.3, 0.6, 0.05, 90.0, 10.0, 1.0, t_plateau=200.0))
        )
