"""Bounds registry: membership, validation messages, one place per parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import outside, param

from cbm_sim import bounds


def test_open_and_closed_limits() -> None:
    b = bounds.Bound("x", 0.0, 1.0, "-", "test", lo_open=True)
    assert b.contains([0.5, 1.0]).all()
    assert not b.contains(0.0)
    assert not b.contains(math.nan)
    assert b.interval() == "(0, 1] -"


def test_inverted_bound_rejected() -> None:
    with pytest.raises(ValueError, match=r"lo=2\.0"):
        bounds.Bound("x", 2.0, 1.0, "-", "test")


def test_register_twice_rejected() -> None:
    with pytest.raises(ValueError, match="'qi' is already registered"):
        bounds.register(bounds.Bound("qi", 0.0, 1.0, "m3/d", "dup"))


def test_check_returns_float64() -> None:
    out = bounds.check("qi", [1, 2])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 2.0])


def test_check_names_parameter_and_value() -> None:
    with pytest.raises(
        ValueError, match=r"qi must be in \[0, 1e\+07\] m3/d .*got -3.5 \(2 offending"
    ):
        bounds.check("qi", [1.0, -3.5, -4.0])


def test_check_rejects_non_numeric() -> None:
    with pytest.raises(ValueError, match="b must be numeric; got 'abc'"):
        bounds.check("b", "abc")


@pytest.mark.parametrize("name", sorted(bounds.BOUNDS))
def test_every_bound_documented(name: str) -> None:
    b = bounds.BOUNDS[name]
    assert b.name == name and b.unit and b.doc


@settings(max_examples=30, deadline=None)
@given(v=param("b"))
def test_strategy_values_are_accepted(v: float) -> None:
    assert bounds.check("b", v) == v


@settings(max_examples=30, deadline=None)
@given(v=outside("di"))
def test_outside_values_are_rejected(v: float) -> None:
    with pytest.raises(ValueError, match=r"di must be in \(0, 100\]"):
        bounds.check("di", v)


def _edges() -> list[float]:
    """Every bound's limits and their float neighbours."""
    out = []
    for b in bounds.BOUNDS.values():
        for x in (float(b.lo), float(b.hi)):
            out += [x, np.nextafter(x, -math.inf), np.nextafter(x, math.inf)]
    return out


_SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(_edges()),
    st.integers(-(2**70), 2**70),
    st.integers(-5, 400),
)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(sorted(bounds.BOUNDS)), value=_SCALARS)
def test_a_scalar_is_checked_as_a_one_element_array_is(name: str, value: float) -> None:
    # the scalar shortcut against the array path: the same verdict, value and message
    ok = bool(bounds.BOUNDS[name].contains(np.asarray(value, dtype=np.float64)))
    if ok:
        got = bounds.check(name, value)
        assert got.shape == () and got.dtype == np.float64
        assert got.tobytes() == np.asarray(value, dtype=np.float64).tobytes()
        return
    with pytest.raises(ValueError) as scalar:
        bounds.check(name, value)
    with pytest.raises(ValueError) as array:
        bounds.check(name, np.asarray(value, dtype=np.float64))
    assert str(scalar.value) == str(array.value)
