"""Output value (产值) of every sub-cluster item, driven by the simulated physical quantities.

Each item of the plan's chapter 4 is a sum of terms *driver × unit value*: a simulated annual
quantity of :class:`~cbm_sim.results.frames.Results` (gas sold, tonnes of LNG, wells drilled, active
wells, workovers, CO2e avoided …) times a unit-value time path of :class:`ValuationConfig`:

.. math::

    V_{i}(y) = \\sum_{k} D_{ik}(y)\\, p_{ik}(y) \\quad [元]

Items without a physical driver (science city, training base, green finance, insurance) are
explicit exogenous paths [亿元/yr], labelled ``exogenous (plan assumption)`` while they hold the
packaged default and ``exogenous (scenario)`` once a scenario changes them.

Defaults (``cbm_sim/data/valuation.yaml``) carry a ``source`` each. Where the plan states a value
with its volume, the default is the plan's implied unit value, computed from the packaged plan
data at load time (e.g. residential 6.8亿元 / 2.73亿m³ in 2025). Drilling-driven items use a
public-cost assumption per vertical-well equivalent (``vertical + horizontal_well_equivalent ×
horizontal``), so that a run drilling fewer wells than the plan has in mind falls short.

2021 calibration (:func:`value_2021_split`): the plan's 2021 total, 150.3亿元 (ch1 §2 八), comes in
five categories; the 2021 unit value of each category's items is its 2025 value times one factor
per category, chosen so that the plan's own 2021 volumes reproduce the category's 2021 value.
The mapping of items to categories is documented in the YAML file.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cbm_sim import units
from cbm_sim.economics.carbon import co2e_avoided_t, credited_m3
from cbm_sim.economics.drivers import AnnualTable, config_of
from cbm_sim.plan.figures import Plan, load_plan
from cbm_sim.results.frames import Results
from cbm_sim.scenario.valuation_inputs import (
    CO2E_AVOIDED,
    EXOGENOUS,
    ITEMS,
    SUB_CLUSTERS,
    WELLS_EQ,
    ValuationConfig,
    calibrated_2021_fields,
    defaults,
    unit_of,
)

FloatArray = npt.NDArray[np.float64]

VALUE_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "sub_cluster",
    "item",
    "driver",
    "driver_value",
    "driver_unit",
    "unit_value",
    "unit_value_unit",
    "value_yuan",
    "basis",
)
BASIS_SIMULATED: Final[str] = "simulated"
BASIS_PLAN: Final[str] = "exogenous (plan assumption)"
BASIS_SCENARIO: Final[str] = "exogenous (scenario)"


def _split(driver: str) -> tuple[str, str]:
    entity, quantity = driver.rsplit(".", 1)
    return entity, quantity


def driver_values(
    table: AnnualTable, driver: str, years: npt.ArrayLike, config: ValuationConfig
) -> tuple[str, str, npt.NDArray[np.float64]]:
    """(label, unit, annual values) of a driver at ``years``."""
    years = np.asarray(years)
    if driver == WELLS_EQ:
        h = config.horizontal_well_equivalent
        vert = table.get("surface", "wells_drilled_vertical", years)
        horiz = table.get("surface", "wells_drilled_horizontal", years)
        label = f"surface.wells_drilled_vertical + {h:g} × surface.wells_drilled_horizontal"
        return label, "vertical-well equivalent", vert + h * horiz
    if driver == CO2E_AVOIDED:
        used = table.get("mine_gas", "utilised", years)
        drained = table.get("mine_gas", "drainage", years)
        credited = credited_m3(used, drained, config.unit_value("carbon_baseline_share", years))
        avoided = co2e_avoided_t(credited, config.ch4_density_kg_per_m3, config.gwp100_ch4)
        label = "CO2e avoided by mine_gas.utilised above carbon_baseline_share × drainage"
        return label, "t CO2e", avoided
    if driver == EXOGENOUS:
        return "year (exogenous)", "year", np.ones(len(years), dtype=np.float64)
    entity, quantity = _split(driver)
    return driver, table.unit(entity, quantity), table.get(entity, quantity, years)


def value(results: Results, config: ValuationConfig | None = None) -> pd.DataFrame:
    """Output value of every item of plan ch4 for every year of ``results``.

    Parameters
    ----------
    results
        A run; the annual series read are listed by :func:`required_series`.
    config
        Unit values; default: the scenario's valuation section, else the packaged defaults.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VALUE_COLUMNS`; one row per year × item × term (items with two
        drivers — base services, equipment — have two rows per year). ``value_yuan`` [元] =
        ``driver_value × unit_value``; ``basis`` is ``simulated`` or ``exogenous (…)``.

    Raises
    ------
    KeyError
        If the results lack a series the valuation needs.
    """
    cfg = config if config is not None else config_of(results)
    years = np.array(sorted(results.annual["year"].unique()), dtype=np.int64)
    table = AnnualTable(results)
    parts = []
    for spec in ITEMS:
        for term in spec.terms:
            label, unit, drv = driver_values(table, term.driver, years, cfg)
            price = cfg.unit_value(term.field, years)
            if term.driver != EXOGENOUS:
                basis = BASIS_SIMULATED
            else:
                basis = BASIS_PLAN if cfg.is_default(term.field) else BASIS_SCENARIO
            parts.append(
                pd.DataFrame(
                    {
                        "year": years,
                        "sub_cluster": spec.sub_cluster,
                        "item": spec.item,
                        "driver": label,
                        "driver_value": drv,
                        "driver_unit": unit,
                        "unit_value": price,
                        "unit_value_unit": unit_of(term.field),
                        "value_yuan": drv * price,
                        "basis": basis,
                    }
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["year"], kind="stable", ignore_index=True)[list(VALUE_COLUMNS)]


def required_series() -> list[tuple[str, str]]:
    """Every annual (entity, quantity) the valuation and carbon accounting read."""
    out: list[tuple[str, str]] = []
    for spec in ITEMS:
        for term in spec.terms:
            if term.driver == WELLS_EQ:
                out += [
                    ("surface", "wells_drilled_vertical"),
                    ("surface", "wells_drilled_horizontal"),
                ]
            elif term.driver == CO2E_AVOIDED:
                out += [("mine_gas", "utilised"), ("mine_gas", "vented"), ("mine_gas", "drainage")]
            elif term.driver != EXOGENOUS:
                out.append(_split(term.driver))
    return list(dict.fromkeys(out))


def item_totals(valuation: pd.DataFrame) -> pd.DataFrame:
    """Value per year × sub-cluster × item [元] (terms of one item summed)."""
    return valuation.groupby(["year", "sub_cluster", "item"], as_index=False, sort=False)[
        "value_yuan"
    ].sum()


def summary(valuation: pd.DataFrame) -> pd.DataFrame:
    """Value per year × sub-cluster plus the cluster total.

    Returns
    -------
    pandas.DataFrame
        Columns ``year, sub_cluster, value_yuan, value_1e8_yuan``; ``sub_cluster`` runs over
        :data:`SUB_CLUSTERS` and ``total``.
    """
    by_sc = valuation.groupby(["year", "sub_cluster"])["value_yuan"].sum()
    years = sorted(valuation["year"].unique())
    index = pd.MultiIndex.from_product([years, SUB_CLUSTERS], names=["year", "sub_cluster"])
    by_sc = by_sc.reindex(index, fill_value=0.0).reset_index()
    total = by_sc.groupby("year", as_index=False)["value_yuan"].sum().assign(sub_cluster="total")
    out = pd.concat([by_sc, total], ignore_index=True)
    out["_order"] = out["sub_cluster"].map({s: i for i, s in enumerate((*SUB_CLUSTERS, "total"))})
    out = out.sort_values(["year", "_order"], ignore_index=True).drop(columns="_order")
    out["value_1e8_yuan"] = out["value_yuan"] / units.YI
    return out[["year", "sub_cluster", "value_yuan", "value_1e8_yuan"]]


def value_2021_split(
    results: Results,
    config: ValuationConfig | None = None,
    plan: Plan | None = None,
    year: int = 2021,
) -> pd.DataFrame:
    """The simulated value of ``year`` in the five categories of the plan's 2021 statistic.

    Categories and their items are in ``cbm_sim/data/valuation.yaml`` (``calibration_2021``):
    exploration ← surface + underground; compression_liquefaction ← cng + lng; city_gas ← the
    five local sales + storage; pipeline ← pipeline; gas_use ← mine-gas power + heating. Items
    of the sub-clusters the plan builds (science … radiating) are reported in
    ``outside_2021_statistics``; ``total`` sums the five categories (plan: 150.3亿元).

    Returns
    -------
    pandas.DataFrame
        Columns ``category, items, simulated_1e8_yuan, plan_1e8_yuan, gap_pct, ref``.
    """
    plan = plan if plan is not None else load_plan()
    vals = item_totals(value(results, config))
    vals = vals[vals["year"] == year]
    by_key = dict(
        zip(vals["sub_cluster"] + "." + vals["item"], vals["value_yuan"] / units.YI, strict=True)
    )
    rows = []
    counted: set[str] = set()
    for cat, (plan_id, keys) in defaults().categories.items():
        counted |= set(keys)
        fig = plan.figure(plan_id, 2021)
        rows.append((cat, ", ".join(keys), sum(by_key[k] for k in keys), fig.value, fig.ref))
    total = plan.figure("output.total", 2021)
    rows.append(("total", "the five categories", sum(r[2] for r in rows), total.value, total.ref))
    rest = [k for k in by_key if k not in counted]
    rows.append(
        ("outside_2021_statistics", ", ".join(rest), sum(by_key[k] for k in rest), math.nan, "")
    )
    out = pd.DataFrame(
        rows, columns=["category", "items", "simulated_1e8_yuan", "plan_1e8_yuan", "ref"]
    )
    out["gap_pct"] = 100.0 * (out["simulated_1e8_yuan"] / out["plan_1e8_yuan"] - 1.0)
    return out[["category", "items", "simulated_1e8_yuan", "plan_1e8_yuan", "gap_pct", "ref"]]


def backtest_2021(
    results: Results,
    config: ValuationConfig | None = None,
    plan: Plan | None = None,
    year: int = 2021,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The run's 2021 output value by sub-cluster against the plan's 2021 total, with its error.

    A backtest, not a fit: the cited price paths (gas, LNG, electricity, carbon) are not tuned
    to it. Items whose 2021 unit value is still the plan's 2021 calibration
    (``calibrate_2021`` in ``cbm_sim/data/valuation.yaml``) are in-sample; their share is
    reported in ``calibrated_1e8_yuan`` so that a reader sees how much of the match is built in.

    Parameters
    ----------
    results
        A run that simulates ``year``.
    config
        Unit values; default: the scenario's valuation section, else the packaged defaults.
    plan
        Plan figures; default: the packaged plan (``output.total`` of ``year``: 150.3亿元,
        ch1 §2 八).
    year
        The backtest year.
    values
        The run's valuation, ``value(results, config)``, if already computed (as
        :func:`cbm_sim.economics.targets.check_targets` takes it); computed when None.

    Returns
    -------
    pandas.DataFrame
        One row per sub-cluster of :data:`SUB_CLUSTERS` and a ``total`` row; columns
        ``sub_cluster, simulated_1e8_yuan, calibrated_1e8_yuan, plan_1e8_yuan, error_1e8_yuan,
        error_pct`` [亿元]; the plan figure and the error are on the ``total`` row only (the plan
        states no 2021 value per sub-cluster).

    Raises
    ------
    ValueError
        If the run does not simulate ``year``.
    """
    cfg = config if config is not None else config_of(results)
    plan = plan if plan is not None else load_plan()
    vals = value(results, cfg) if values is None else values
    vals = vals[vals["year"] == year]
    if vals.empty:
        raise ValueError(f"the run does not simulate {year}; the backtest needs that year")
    calibrated = calibrated_2021_fields() if year == 2021 else frozenset()
    # value() lists one row per term, in ITEMS order, for each year
    term_fields = [term.field for spec in ITEMS for term in spec.terms]
    in_sample = np.array([f in calibrated and cfg.is_default(f) for f in term_fields])
    by_sc = vals.groupby("sub_cluster")["value_yuan"].sum().reindex(SUB_CLUSTERS, fill_value=0.0)
    cal_sc = vals[in_sample].groupby("sub_cluster")["value_yuan"].sum()
    cal_sc = cal_sc.reindex(SUB_CLUSTERS, fill_value=0.0)
    out = pd.DataFrame(
        {
            "sub_cluster": [*SUB_CLUSTERS, "total"],
            "simulated_1e8_yuan": [*(by_sc / units.YI), by_sc.sum() / units.YI],
            "calibrated_1e8_yuan": [*(cal_sc / units.YI), cal_sc.sum() / units.YI],
        }
    )
    target = plan.figure("output.total", year).value
    out["plan_1e8_yuan"] = np.where(out["sub_cluster"] == "total", target, math.nan)
    out["error_1e8_yuan"] = out["simulated_1e8_yuan"] - out["plan_1e8_yuan"]
    out["error_pct"] = 100.0 * out["error_1e8_yuan"] / out["plan_1e8_yuan"]
    return out


def price_table(config: ValuationConfig, years: npt.ArrayLike) -> pd.DataFrame:
    """The cited price paths at ``years``, each value with its source.

    Parameters
    ----------
    config
        Unit values (``gas_price_scale`` applies to the gas prices it scales).
    years
        Years to tabulate.

    Returns
    -------
    pandas.DataFrame
        Columns ``field, year, value, unit, source``: one row per cited price field (those of
        ``valuation.yaml`` with a source per year) and year; ``source`` as
        :meth:`ValuationConfig.price_source` gives it.
    """
    years = np.asarray(years, dtype=np.int64)
    rows = [
        (field, int(y), float(v), unit_of(field), config.price_source(field, int(y)))
        for field in sorted(defaults().year_sources)
        for y, v in zip(years, config.unit_value(field, years), strict=True)
    ]
    return pd.DataFrame(rows, columns=["field", "year", "value", "unit", "source"])
