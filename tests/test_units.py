"""Tests of cbm_sim.units: conversions against closed forms, round trips, bad units."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim import units

UNITS = sorted(units.UNIT_FACTORS)
finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(value=finite, unit=st.sampled_from(UNITS))
def test_to_base_from_base_round_trip(value: float, unit: str) -> None:
    assert units.from_base(units.to_base(value, unit), unit) == pytest.approx(
        value, rel=1e-12, abs=1e-12
    )


@settings(max_examples=200, deadline=None)
@given(value=finite, pair=st.sampled_from([(a, b) for a in UNITS for b in UNITS]))
def test_convert_round_trip_within_a_base(value: float, pair: tuple[str, str]) -> None:
    a, b = pair
    if units.base_unit(a) != units.base_unit(b):
        with pytest.raises(ValueError, match="different quantities"):
            units.convert(value, a, b)
        return
    back = units.convert(units.convert(value, a, b), b, a)
    assert back == pytest.approx(value, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "unit", "base", "expected"),
    [
        (1, "亿m3", "m3", 1e8),
        (1, "万亿m3", "m3", 1e12),
        (42.67, "亿m3", "m3", 4.267e9),
        (1, "万元", "元", 1e4),
        (1500, "亩", "km2", 1.0),  # 1 亩 = 10000/15 m²
        (365.25, "亿m3/yr", "m3/d", 1e8),
        (76.26, "万kW", "MW", 762.6),
        (1, "万m2", "km2", 0.01),
        (59.66, "%", "fraction", 0.5966),
        (1, "万人", "person", 1e4),
    ],
)
def test_known_conversions(value: float, unit: str, base: str, expected: float) -> None:
    assert units.base_unit(unit) == base
    assert units.to_base(value, unit) == pytest.approx(expected, rel=1e-12)


def test_lng_ratio_is_the_plans_2021_figure() -> None:
    # ch1 §2 四: 84.37 万 t of LNG from 13.08 亿 m³ of gas.
    assert pytest.approx(13.08e8 / 84.37e4) == units.LNG_FEED_M3_PER_T
    assert 1549 < units.LNG_FEED_M3_PER_T < 1551


@settings(max_examples=100, deadline=None)
@given(tonnes=st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_lng_round_trip(tonnes: float) -> None:
    m3 = units.lng_t_to_m3(tonnes)
    assert math.isclose(units.lng_m3_to_t(m3), tonnes, rel_tol=1e-12, abs_tol=1e-9)
    assert m3 >= tonnes  # a tonne of LNG is ~1550 m³ of gas


@pytest.mark.parametrize("bad", ["furlong", "亿 m3", "", "M3"])
def test_unknown_unit_is_named_in_the_error(bad: str) -> None:
    for call in (
        lambda: units.to_base(1.0, bad),
        lambda: units.from_base(1.0, bad),
        lambda: units.base_unit(bad),
        lambda: units.convert(1.0, bad, "m3"),
        lambda: units.convert(1.0, "m3", bad),
    ):
        with pytest.raises(ValueError, match="unknown unit") as info:
            call()
        assert repr(bad) in str(info.value)


def test_convert_between_quantities_names_both_units() -> None:
    with pytest.raises(ValueError) as info:
        units.convert(1.0, "亿m3", "亿元")
    assert "'亿m3'" in str(info.value) and "'亿元'" in str(info.value)


def test_lng_liquid_to_gas_is_600_to_one_giignl():
    assert units.LNG_GAS_M3_PER_LIQUID_M3 == 600.0
    assert "GIIGNL" in units.LNG_GAS_M3_PER_LIQUID_M3_SOURCE
    # plan ch4 §2 二: 16万m³ × 2 of LNG hold 1.92 亿m³ of gas, not the plan's 2.5
    assert units.lng_liquid_to_gas_m3(32e4) == pytest.approx(1.92e8)
    with pytest.raises(ValueError, match=r"must be >= 0 m3, got -1\.0"):
        units.lng_liquid_to_gas_m3(-1.0)
