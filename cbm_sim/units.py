"""Units and conversions, in one place.

Internally cbm-sim works in SI-like base units: m³ (gas at standard conditions), m³/d, t,
kWh, 元 (CNY), days. The plan speaks in 亿 (1e8) and 万 (1e4) multiples; those are converted
here, at the edges, and nowhere else.

The LNG tonne ↔ m³ factor is the plan's own 2021 figure (chapter 1 §2 四 液化): 84.37 万 t of
LNG were made from 13.08 亿 m³ of gas, i.e. about 1550 m³ of feed gas per tonne. The plan's
plant-capacity pair (4200 t/d ↔ 645 万 m³/d, same section) implies 1536 m³/t; the audit
reports the difference, the model uses the annual-output figure because it includes the
plants' own fuel and losses over a real year.
"""

from __future__ import annotations

from typing import Any, Final

YI: Final[float] = 1e8
"""亿 = 10^8."""
WAN: Final[float] = 1e4
"""万 = 10^4."""
DAYS_PER_YEAR: Final[float] = 365.25
"""Mean days per year, for converting nominal annual rates (decline, capacity)."""

# Plan ch.1 §2 四 (液化): "2021年生产液化气（LNG）84.37万吨（消耗气量 13.08亿立方米）".
LNG_2021_OUTPUT_T: Final[float] = 84.37 * WAN
LNG_2021_FEED_GAS_M3: Final[float] = 13.08 * YI
LNG_FEED_M3_PER_T: Final[float] = LNG_2021_FEED_GAS_M3 / LNG_2021_OUTPUT_T
"""Feed gas per tonne of LNG [m³/t], from the plan's 2021 output and gas used (≈1550)."""

# Public: LNG "takes up about 1/600th the volume of natural gas in the gaseous state (at
# standard conditions)" (Wikipedia, "Liquefied natural gas"); an LNG conversion table gives
# 1 m³ LNG = 585 Nm³ gas at 420-470 kg/m³ of liquid (padahlng.com/?p=1424). Liquid methane
# (422.6 kg/m³) over methane gas at 20 °C (0.668 kg/m³) gives ≈633.
LNG_GAS_M3_PER_LIQUID_M3: Final[float] = 600.0
"""Gas volume per volume of LNG liquid [m³ gas / m³ LNG] (≈600)."""
LNG_GAS_M3_PER_LIQUID_M3_SOURCE: Final[str] = (
    "GIIGNL, LNG Basics (giignl.org/about-lng/lng-basics): liquefaction is 'a volume reduction "
    "of approximately 600 to one (if the gas is initially around 15°C)'"
)
"""Where :data:`LNG_GAS_M3_PER_LIQUID_M3` comes from."""


def lng_liquid_to_gas_m3(liquid_m3: float) -> float:
    """Gas volume [m³] of ``liquid_m3`` of LNG (:data:`LNG_GAS_M3_PER_LIQUID_M3`)."""
    if liquid_m3 < 0:
        raise ValueError(f"LNG liquid volume must be >= 0 m3, got {liquid_m3}")
    return liquid_m3 * LNG_GAS_M3_PER_LIQUID_M3


# Unit symbols as written in the packaged plan data, with the factor to the base unit
# and the base unit's name. Anything not in this table is rejected on load.
UNIT_FACTORS: Final[dict[str, tuple[float, str]]] = {
    # money
    "元": (1.0, "元"),
    "万元": (WAN, "元"),
    "亿元": (YI, "元"),
    # gas volume
    "m3": (1.0, "m3"),
    "万m3": (WAN, "m3"),
    "亿m3": (YI, "m3"),
    "万亿m3": (WAN * YI, "m3"),
    # gas rates
    "m3/d": (1.0, "m3/d"),
    "万m3/d": (WAN, "m3/d"),
    "亿m3/yr": (YI / DAYS_PER_YEAR, "m3/d"),
    # mass and mass rates
    "t": (1.0, "t"),
    "万t": (WAN, "t"),
    "t/d": (1.0, "t/d"),
    "万t/yr": (WAN / DAYS_PER_YEAR, "t/d"),
    "万tce": (WAN, "tce"),
    # energy and power
    "kWh": (1.0, "kWh"),
    "亿kWh": (YI, "kWh"),
    "MW": (1.0, "MW"),
    "万kW": (10.0, "MW"),
    # area, length, pressure
    "km2": (1.0, "km2"),
    "万km2": (WAN, "km2"),
    "亩": (1.0 / 1500.0, "km2"),  # 1 亩 = 666.67 m² (statutory)
    "m2": (1e-6, "km2"),
    "万m2": (1e-2, "km2"),
    "km": (1.0, "km"),
    "MPa": (1.0, "MPa"),
    # abundance
    "亿m3/km2": (YI, "m3/km2"),
    "万m3/km2": (WAN, "m3/km2"),
    # counts and people
    "count": (1.0, "count"),
    "万人": (WAN, "person"),
    "人": (1.0, "person"),
    "万户": (WAN, "household"),
    # ratios
    "%": (0.01, "fraction"),
    "fraction": (1.0, "fraction"),
    "times": (1.0, "fraction"),  # a multiple (倍), dimensionless
    # calendar
    "year": (1.0, "year"),
    "day": (1.0, "day"),
}


def to_base(value: float, unit: str) -> float:
    """Convert ``value`` in ``unit`` (as written in the plan data) to the base unit.

    Parameters
    ----------
    value
        The number as stated.
    unit
        One of :data:`UNIT_FACTORS` (e.g. ``"亿m3"``, ``"万t"``, ``"%"``).

    Returns
    -------
    float
        The value in the base unit named by :func:`base_unit`.

    Raises
    ------
    ValueError
        If the unit is unknown.
    """
    return value * _factor(unit)


def from_base(value: float, unit: str) -> float:
    """Convert ``value`` from the base unit to ``unit`` (inverse of :func:`to_base`)."""
    return value / _factor(unit)


def base_unit(unit: str) -> str:
    """Name of the base unit that ``unit`` converts to (e.g. ``"亿m3"`` → ``"m3"``)."""
    _factor(unit)
    return UNIT_FACTORS[unit][1]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert between two units of the same base (e.g. ``"万t"`` → ``"t"``).

    Raises
    ------
    ValueError
        If either unit is unknown or the two have different base units.
    """
    if base_unit(from_unit) != base_unit(to_unit):
        raise ValueError(
            f"cannot convert {from_unit!r} ({base_unit(from_unit)}) "
            f"to {to_unit!r} ({base_unit(to_unit)}): different quantities"
        )
    return to_base(value, from_unit) / _factor(to_unit)


def lng_t_to_m3(tonnes: float) -> float:
    """Feed gas [m³] needed for ``tonnes`` of LNG, at the plan's 2021 ratio."""
    return tonnes * LNG_FEED_M3_PER_T


def lng_m3_to_t(m3: float) -> float:
    """Tonnes of LNG made from ``m3`` of feed gas, at the plan's 2021 ratio."""
    return m3 / LNG_FEED_M3_PER_T


def _factor(unit: str) -> float:
    try:
        return UNIT_FACTORS[unit][0]
    except KeyError:
        known = ", ".join(sorted(UNIT_FACTORS))
        raise ValueError(f"unknown unit {unit!r}; expected one of: {known}") from None


CH4_MOLAR_MASS_G_PER_MOL: float = 16.043
"""Molar mass of methane [g/mol] (IUPAC atomic weights: C 12.011, H 1.008)."""
CO2_MOLAR_MASS_G_PER_MOL: float = 44.009
"""Molar mass of carbon dioxide [g/mol] (C 12.011, O 15.999)."""
CO2_T_PER_T_CH4_BURNT: float = CO2_MOLAR_MASS_G_PER_MOL / CH4_MOLAR_MASS_G_PER_MOL
"""CO2 emitted per tonne of methane burnt [t/t] (stoichiometry, ≈ 2.743)."""


PLANNER_UNITS: Final[dict[str, str]] = {
    "m3": "亿m3",
    "元": "亿元",
    "t": "万t",
    "kWh": "亿kWh",
    "m3/d": "万m3/d",
}
"""Base unit → the unit the plan states it in (亿m³, 亿元, 万t, 亿kWh, 万m³/d): the units of
every CSV the tool writes (Parquet files stay in base units)."""


def planner_unit(unit: str) -> str:
    """The planner's unit for values in ``unit`` (``"m3"`` → ``"亿m3"``); other units as
    they are (days, counts, fractions, MW)."""
    return PLANNER_UNITS.get(unit, unit)


def to_planner(
    frame: Any, value_columns: tuple[str, ...] = ("value",), unit_column: str = "unit"
) -> Any:
    """A copy of a long pandas frame with ``value_columns`` converted from the row's
    ``unit_column`` to its :func:`planner_unit`, and the unit column changed to match.

    Rows in a unit without a planner unit (days, counts, MW …) are left as they are.
    """
    out = frame.copy()
    if out.empty:
        return out
    units = out[unit_column].astype(str)
    shown = units.map(planner_unit)
    factor = [
        _factor(u) / _factor(to) if u != to else 1.0 for u, to in zip(units, shown, strict=True)
    ]
    for col in value_columns:
        out[col] = out[col].astype("float64") * factor
    out[unit_column] = shown
    return out
