"""Synthetic :class:`~cbm_sim.results.frames.Results` for the valuation, target and carbon tests.

:func:`results_from` builds the tidy annual frame of the Results contract from chosen driver
values; :func:`plan_results` fills every series the valuation reads with the plan's own physical
figures of a year (2021 baseline, 2025/2030 targets), so a test can check that the plan's
volumes at the default (plan-implied) unit values give the plan's values.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping

import pandas as pd

from cbm_sim.plan.figures import load_plan
from cbm_sim.results.frames import ANNUAL_COLUMNS, DAILY_COLUMNS, EVENT_COLUMNS, Results

UNITS = {
    "production": "m3",
    "drainage": "m3",
    "utilised": "m3",
    "vented": "m3",
    "feed_gas": "m3",
    "output": "t",
    "exports": "m3",
    "capacity": "m3",
    "storage_capacity": "m3",
    "delivered": "m3",
    "electricity": "kWh",
    "gas_used": "m3",
    "capacity_mw": "MW",
}
"""Unit of each quantity (Results contract); anything else is a count."""

Series = Mapping[tuple[str, str], Mapping[int, float]]


def results_from(series: Series) -> Results:
    """Results whose annual frame holds ``{(entity, quantity): {year: value}}`` (base units)."""
    rows = [
        (year, entity, quantity, UNITS.get(quantity, "count"), float(v))
        for (entity, quantity), by_year in series.items()
        for year, v in by_year.items()
    ]
    empty = {c: pd.Series(dtype=object) for c in DAILY_COLUMNS}
    return Results(
        daily=pd.DataFrame(empty),
        annual=pd.DataFrame(rows, columns=list(ANNUAL_COLUMNS)).astype({"year": "int64"}),
        events=pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS}),
        meta={"scenario": "synthetic"},
    )


def plan_series(
    year: int, wells: Mapping[str, float] | None = None
) -> dict[tuple[str, str], float]:
    """Every series the valuation reads, at the plan's figures of ``year`` (base units).

    Quantities the plan does not state for the year (wells, workovers, vented gas, transport
    and industry volumes after 2021 …) are 0 unless given in ``wells`` (keys
    ``wells_drilled_vertical``, ``wells_drilled_horizontal``, ``wells_active_mean``,
    ``workovers``).
    """
    plan = load_plan()

    def b(id: str) -> float:
        return plan.base(id, year) if plan.has(id, year) else 0.0

    power_gas = b("power.gas")
    heating = b("minegas.heating_gas") or (b("minegas.utilised") - power_gas)
    storage = (
        b("storage.capacity")
        if year == 2021
        else plan.base("storage.project_capacity", year) + plan.base("storage.capacity", 2021)
    )
    out = {
        ("surface", "production"): b("production.surface"),
        ("mine_gas", "drainage"): b("production.underground"),
        ("mine_gas", "utilised"): power_gas + heating,
        ("mine_gas", "vented"): b("production.underground") - power_gas - heating,
        ("cng", "feed_gas"): b("cng.gas"),
        ("lng", "output"): b("lng.output"),
        ("pipeline", "exports"): b("pipeline.exports"),
        ("storage", "storage_capacity"): storage,
        ("mine_power", "electricity"): b("power.generation"),
        ("mine_power", "gas_used"): power_gas,
        ("mine_heating", "gas_used"): heating,
        ("mine_power", "capacity_mw"): b("power.capacity"),
        ("mine_power", "plants"): b("power.plants"),
        ("lng", "plants"): b("lng.plants"),
        ("cng", "stations"): b("cng.stations"),
        # the capacity rate [m3/d] over the days of the year, as the simulation sums it
        ("pipeline", "capacity"): b("pipeline.capacity") * (366 if calendar.isleap(year) else 365),
    }
    for sector in ("residential", "commercial", "transport", "industry", "chemicals"):
        out[(f"demand:{sector}", "delivered")] = b(f"local_use.{sector}")
    for quantity in (
        "wells_drilled_vertical",
        "wells_drilled_horizontal",
        "wells_active_mean",
        "workovers",
    ):
        out[("surface", quantity)] = float((wells or {}).get(quantity, 0.0))
    return out


def plan_results(year: int, wells: Mapping[str, float] | None = None) -> Results:
    """Results of one year carrying the plan's physical figures (:func:`plan_series`)."""
    return results_from({k: {year: v} for k, v in plan_series(year, wells).items()})
