"""Vectorised exp and log: within 1 ulp of the C library's, special values exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.wells import vecmath

_RNG = np.random.default_rng(0)
EXP_POINTS = np.concatenate(
    [
        _RNG.uniform(-50.0, 5.0, 200_000),
        _RNG.uniform(-745.0, 709.7, 200_000),  # the whole normal range, subnormal results too
        _RNG.uniform(-1e-8, 1e-8, 50_000),
        _RNG.uniform(-0.5, 0.5, 50_000),
    ]
)
LOG_POINTS = np.concatenate(
    [
        _RNG.uniform(1.0, 1e3, 200_000),
        # every binade, subnormals to the largest finite
        np.ldexp(_RNG.uniform(1.0, 2.0, 200_000), _RNG.integers(-1074, 1023, 200_000)),
        1.0 + _RNG.uniform(-1e-8, 1e-8, 50_000),
        _RNG.uniform(0.7, 1.5, 50_000),  # either side of the reduction's sqrt(2) cut
    ]
)


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Distance in units of the last place of ``want`` (finite, non-zero points)."""
    ok = np.isfinite(want) & (want != 0.0)
    return np.abs(got[ok] - want[ok]) / np.spacing(np.abs(want[ok]))


def test_exp_within_one_ulp_of_the_c_library() -> None:
    got = vecmath.exp(EXP_POINTS, np.empty_like(EXP_POINTS))
    want = np.array([math.exp(x) for x in EXP_POINTS[::7]])
    assert _ulps(got[::7], want).max() <= 1.0
    normal = np.abs(np.exp(EXP_POINTS)) >= 2.2250738585072014e-308
    assert _ulps(got[normal], np.exp(EXP_POINTS)[normal]).max() <= 1.0
    # subnormal results: correct to the subnormal's own spacing (absolute 5e-324)
    assert np.abs(got[~normal] - np.exp(EXP_POINTS)[~normal]).max() <= 5e-324


def test_log_within_one_ulp_of_the_c_library() -> None:
    got = vecmath.log(LOG_POINTS, np.empty_like(LOG_POINTS))
    want = np.array([math.log(x) for x in LOG_POINTS[::7]])
    assert _ulps(got[::7], want).max() <= 1.0
    assert _ulps(got, np.log(LOG_POINTS)).max() <= 1.0


SPECIAL_EXP = [0.0, -0.0, 709.78, 709.79, 709.9, 1e300, math.inf, -745.1, -745.2, -746.0, -1e300]
SPECIAL_LOG = [0.0, -0.0, -1.0, -math.inf, math.inf, 1.0, 5e-324, 1e-310, 2.2250738585072014e-308]


def test_special_values_are_the_c_library_s() -> None:
    x = np.array([*SPECIAL_EXP, -math.inf, math.nan])
    with np.errstate(over="ignore"):
        want = np.exp(x)
    np.testing.assert_array_equal(vecmath.exp(x, np.empty_like(x)), want)
    y = np.array([*SPECIAL_LOG, 1.7976931348623157e308, math.nan])
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log(y)
    got = vecmath.log(y, np.empty_like(y))
    np.testing.assert_array_equal(got, want)
    assert _ulps(got, want).max(initial=0.0) <= 1.0


@settings(max_examples=60, deadline=None)
@given(x=st.lists(st.floats(-800.0, 800.0), min_size=1, max_size=50))
def test_exp_of_any_float_within_one_ulp(x: list[float]) -> None:
    a = np.array(x)
    with np.errstate(over="ignore"):
        want = np.exp(a)
    got = vecmath.exp(a, np.empty_like(a))
    normal = want >= 2.2250738585072014e-308
    assert _ulps(got[normal], want[normal]).max(initial=0.0) <= 1.0
    assert np.all(np.abs(got[~normal] - want[~normal]) <= 5e-324)
    assert np.array_equal(np.isinf(got), np.isinf(want))


@settings(max_examples=60, deadline=None)
@given(x=st.lists(st.floats(0.0, allow_nan=False, allow_infinity=True), min_size=1, max_size=50))
def test_log_of_any_non_negative_float_within_one_ulp(x: list[float]) -> None:
    a = np.array(x)
    with np.errstate(divide="ignore"):
        want = np.log(a)
    got = vecmath.log(a, np.empty_like(a))
    assert _ulps(got, want).max(initial=0.0) <= 1.0
    assert np.array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)])


@pytest.mark.parametrize("fn", [vecmath.exp, vecmath.log])
def test_in_place_apart_and_strided_give_the_same_numbers(fn) -> None:
    x = _RNG.uniform(0.1, 5.0, (64, 33))
    apart = fn(x, np.empty_like(x))
    same = x.copy()
    assert fn(same, same) is same
    np.testing.assert_array_equal(same, apart)
    # not contiguous, or overlapping shifted: numpy's ufunc instead (the same to 1 ulp)
    strided = fn(x[:, ::2], np.empty((64, 17)))
    np.testing.assert_array_equal(strided, (np.exp if fn is vecmath.exp else np.log)(x[:, ::2]))
    flat = x.ravel().copy()
    shifted = fn(flat[1:], flat[:-1])
    assert _ulps(shifted, (np.exp if fn is vecmath.exp else np.log)(x.ravel()[1:])).max() <= 1.0
