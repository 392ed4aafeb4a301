"""Output value (产值) of every sub-cluster item, driven by the simulated physical quantities.

Each item of the plan's chapter 4 is a sum of terms *driver × unit value*: a simulated annual
quantity of :class:`~cbm_sim.results.frames.Results` (gas sold, tonnes of LNG, wells drilled, active
wells, workovers, CO2e avoided …) times a unit-value time path of :class:`ValuationConfig`:

.. math::

    V_{i}(y) = \\sum_{k} D_{ik}(y)\\, p_{ik}(y) \\quad [元]

The one item without a physical driver (the science city) is an explicit exogenous path
[亿元/yr], labelled ``exogenous (plan assumption)`` while it holds the packaged default and
``exogenous (scenario)`` once a scenario changes it. The training base is driven by the wells
drilled, green finance by the green credit outstanding from the run's well investment
(:data:`GREEN_LOANS`), insurance by the active wells' replacement value (:data:`INSURED_ASSETS`).

Defaults (``cbm_sim/data/valuation.yaml``) carry a ``source`` each. Drilling-driven items use a
public-cost assumption per vertical-well equivalent (``vertical + horizontal_well_equivalent ×
horizontal``), so that a run drilling fewer wells than the plan has in mind falls short.

The plan's basis (:func:`value_2021_split`): the plan's 2021 total, 150.3亿元 (ch1 §2 八), comes
in five categories. An item of a category is valued at the category's level (fitted to 2021:
the plan's 2021 value over its 2021 volumes at the 2021 prices, in-sample) times its price: a
cited market price or the plan's own 2025 unit value moved by a cited price index. So the 2021
volumes reproduce each category, and later years move with the simulated volumes and the
prices only. The mapping of items to categories is documented in the YAML file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
    GREEN_LOANS,
    INSURED_ASSETS,
    ITEMS,
    SUB_CLUSTERS,
    WELLS_EQ,
    ValuationConfig,
    cost_model,
    defaults,
    unit_of,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

VALUE_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "sub_cluster",
    "item",
    "driver",
    "driver_value",
    "driver_unit",
    "unit_value",
    "unit_value_unit",
    "level",
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
        label = f"surface.wells_drilled_vertical + {h:g} × surface.wells_drilled_horizontal"
        return label, "vertical-well equivalent", wells_eq(table, years, config)
    if driver == GREEN_LOANS:
        label = (
            f"{config.green_loan_share:g} × well capex of the wells drilled, repaid over "
            f"{config.green_loan_tenor_years:g} years"
        )
        return label, "元", green_loans_yuan(table, years, config)
    if driver == INSURED_ASSETS:
        capex = cost_model().capex_total_yuan_per_well_eq
        label = f"surface.wells_active_mean × {capex:,.0f} 元 (well capex per vertical-well eq.)"
        return label, "元", table.get("surface", "wells_active_mean", years) * capex
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


def wells_eq(table: AnnualTable, years: npt.ArrayLike, config: ValuationConfig) -> FloatArray:
    """Vertical-well equivalents drilled in each of ``years``."""
    vert = table.get("surface", "wells_drilled_vertical", years)
    horiz = table.get("surface", "wells_drilled_horizontal", years)
    return vert + config.horizontal_well_equivalent * horiz


def green_loans_yuan(
    table: AnnualTable, years: npt.ArrayLike, config: ValuationConfig
) -> FloatArray:
    r"""Green credit outstanding at the end of each of ``years`` [元].

    A year :math:`k`'s well investment :math:`I_k` (vertical-well equivalents drilled × the
    well cost model's capex) is borrowed at the share :math:`s` and repaid in equal instalments
    over :math:`T` years:

    .. math:: L_y = s \sum_{k \le y} I_k \max\bigl(0, 1 - (y - k) / T\bigr)

    Only the run's own investment counts (wells drilled before the run are not in it).
    """
    years = np.asarray(years, dtype=np.int64)
    capex = cost_model().capex_total_yuan_per_well_eq
    first = int(years.min()) if years.size else 0
    span = np.arange(first, int(years.max()) + 1 if years.size else first)
    invest = wells_eq(table, span, config) * capex
    out = np.zeros(years.size)
    for j, y in enumerate(years):
        age = y - span[span <= y]
        out[j] = np.sum(
            invest[span <= y] * np.maximum(0.0, 1.0 - age / config.green_loan_tenor_years)
        )
    return config.green_loan_share * out


@dataclass(frozen=True)
class Terms:
    """The terms of :func:`value` as arrays: one row per item term (in :data:`ITEMS` order),
    one column per year; what :func:`value`'s frame holds, before any frame is built."""

    years: IntArray
    sub_cluster: tuple[str, ...]
    item: tuple[str, ...]
    driver: tuple[str, ...]
    driver_unit: tuple[str, ...]
    unit_value_unit: tuple[str, ...]
    basis: tuple[str, ...]
    level: FloatArray
    """``(terms,)``: the item's 2021 category level (1 outside the five categories)."""
    driver_value: FloatArray
    """``(terms, years)``."""
    unit_value: FloatArray
    """``(terms, years)`` [元 per driver unit]: level × price."""
    value_yuan: FloatArray
    """``(terms, years)`` [元]: ``driver_value × unit_value``."""


def value_terms(
    results: Results, config: ValuationConfig | None = None, table: AnnualTable | None = None
) -> Terms:
    """Every term of every item of plan ch4 for every year of ``results``, as arrays.

    The numbers of :func:`value` (which builds its frame from them): a study member that
    keeps only sums reads them here, without a frame (:func:`sub_cluster_totals`). ``table``:
    the run's :class:`~cbm_sim.economics.drivers.AnnualTable` if already made.

    Raises
    ------
    KeyError
        If the results lack a series the valuation needs.
    """
    cfg = config if config is not None else config_of(results)
    years = np.array(sorted(results.annual["year"].unique()), dtype=np.int64)
    table = table if table is not None else AnnualTable(results)
    names: list[tuple[str, str, str, str, str, str]] = []
    levels, drivers, prices = [], [], []
    for spec in ITEMS:
        for term in spec.terms:
            label, unit, drv = driver_values(table, term.driver, years, cfg)
            level = cfg.level_of(term.field)
            price = cfg.unit_value(term.field, years) * level
            if term.driver != EXOGENOUS:
                basis = BASIS_SIMULATED
            else:
                basis = BASIS_PLAN if cfg.is_default(term.field) else BASIS_SCENARIO
            names.append((spec.sub_cluster, spec.item, label, unit, unit_of(term.field), basis))
            levels.append(level)
            drivers.append(np.broadcast_to(np.asarray(drv, dtype=np.float64), years.shape))
            prices.append(np.broadcast_to(np.asarray(price, dtype=np.float64), years.shape))
    col_sc, col_item, col_driver, col_unit, col_vunit, col_basis = zip(*names, strict=True)
    driver_value = np.array(drivers, dtype=np.float64).reshape(len(names), years.size)
    unit_value = np.array(prices, dtype=np.float64).reshape(len(names), years.size)
    return Terms(
        years=years,
        sub_cluster=col_sc,
        item=col_item,
        driver=col_driver,
        driver_unit=col_unit,
        unit_value_unit=col_vunit,
        basis=col_basis,
        level=np.array(levels, dtype=np.float64),
        driver_value=driver_value,
        unit_value=unit_value,
        value_yuan=driver_value * unit_value,
    )


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
        drivers — base services, equipment — have two rows per year), by year and then in
        :data:`ITEMS` order. ``value_yuan`` [元] = ``driver_value × unit_value``;
        ``unit_value`` is ``level`` (the item's 2021 category level, 1 outside the five
        categories) × the price; ``basis`` is ``simulated`` or ``exogenous (…)``.

    Raises
    ------
    KeyError
        If the results lack a series the valuation needs.
    """
    return terms_frame(value_terms(results, config))


def terms_frame(t: Terms) -> pd.DataFrame:
    """The frame of :func:`value` from its terms (:func:`value_terms`)."""
    n_terms, n_years = t.value_yuan.shape

    def per_term(column: tuple[str, ...]) -> npt.NDArray[np.object_]:
        # year-major rows: each year's terms in ITEMS order
        return np.tile(np.array(column, dtype=object), n_years)

    return pd.DataFrame(
        {
            "year": np.repeat(t.years, n_terms),
            "sub_cluster": per_term(t.sub_cluster),
            "item": per_term(t.item),
            "driver": per_term(t.driver),
            "driver_value": t.driver_value.T.ravel(),
            "driver_unit": per_term(t.driver_unit),
            "unit_value": t.unit_value.T.ravel(),
            "unit_value_unit": per_term(t.unit_value_unit),
            "level": np.tile(t.level, n_years),
            "value_yuan": t.value_yuan.T.ravel(),
            "basis": per_term(t.basis),
        },
        columns=list(VALUE_COLUMNS),
    )


def sub_cluster_totals(terms: Terms) -> tuple[dict[str, FloatArray], FloatArray]:
    """Value per sub-cluster and in all [元] of each of ``terms.years``, without the frame.

    The sums of :func:`value`'s ``value_yuan`` by year and sub-cluster, and by year, bit
    for bit as grouping that frame gives them: the same values in the frame's row order,
    grouped by pandas on integer codes of the same order (pandas picks its summation,
    compensated or by segments, from the values and the groups' order, so it is left to
    choose here too; a test compares with the frame).

    Returns
    -------
    by_sub_cluster, total
        ``{sub_cluster: (years,)}`` in sorted sub-cluster order, and ``(years,)``.
    """
    n_terms, n_years = terms.value_yuan.shape
    values = pd.Series(terms.value_yuan.T.ravel())  # the frame's rows: year-major
    names = sorted(set(terms.sub_cluster))
    code = np.array([names.index(sc) for sc in terms.sub_cluster], dtype=np.int64)
    year = np.repeat(np.arange(n_years, dtype=np.int64), n_terms)
    pair = year * len(names) + np.tile(code, n_years)
    sums = values.groupby(pair).sum()
    by_pair = np.zeros(n_years * len(names))  # every sub-cluster has terms in every year
    by_pair[sums.index.to_numpy()] = sums.to_numpy(dtype=np.float64)
    grid = by_pair.reshape(n_years, len(names))
    total = values.groupby(year).sum().to_numpy(dtype=np.float64)
    return {sc: grid[:, j].copy() for j, sc in enumerate(names)}, total


def required_series() -> list[tuple[str, str]]:
    """Every annual (entity, quantity) the valuation and carbon accounting read."""
    out: list[tuple[str, str]] = []
    for spec in ITEMS:
        for term in spec.terms:
            if term.driver in (WELLS_EQ, GREEN_LOANS):
                out += [
                    ("surface", "wells_drilled_vertical"),
                    ("surface", "wells_drilled_horizontal"),
                ]
            elif term.driver == INSURED_ASSETS:
                out.append(("surface", "wells_active_mean"))
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


BACKTEST_COLUMNS: Final[tuple[str, ...]] = (
    "category",
    "items",
    "simulated_1e8_yuan",
    "plan_1e8_yuan",
    "gap_1e8_yuan",
    "gap_pct",
    "level",
    "in_sample",
    "ref",
)
"""Columns of :func:`value_2021_split` and :func:`backtest_2021`."""


def value_2021_split(
    results: Results,
    config: ValuationConfig | None = None,
    plan: Plan | None = None,
    year: int = 2021,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The simulated value of ``year`` in the five categories of the plan's 2021 statistic.

    Categories and their items are in ``cbm_sim/data/valuation.yaml`` (``levels_2021``):
    exploration ← surface + underground; compression_liquefaction ← cng + lng; city_gas ← the
    five local sales + storage; pipeline ← pipeline; gas_use ← mine-gas power + heating. Items
    of the sub-clusters the plan builds (science … radiating) are reported in
    ``outside_2021_statistics``; ``total`` sums the five categories (plan: 150.3亿元), like for
    like.

    Parameters
    ----------
    results
        A run; ``values`` its valuation if already computed (``value(results, config)``).
    config, plan, year
        Unit values (default: the run's), plan figures (default: packaged), the year.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BACKTEST_COLUMNS` [亿元]: one row per category, ``total`` and
        ``outside_2021_statistics``; ``gap = simulated − plan``; ``level`` the category's
        level; ``in_sample`` True where the level is the packaged fit to 2021 and the year is
        2021 (then only the simulated volumes are tested).
    """
    cfg = config if config is not None else config_of(results)
    plan = plan if plan is not None else load_plan()
    vals = item_totals(value(results, cfg) if values is None else values)
    vals = vals[vals["year"] == year]
    by_key = dict(
        zip(vals["sub_cluster"] + "." + vals["item"], vals["value_yuan"] / units.YI, strict=True)
    )
    d = defaults()
    rows = []
    counted: set[str] = set()
    for cat, (plan_id, keys) in d.categories.items():
        counted |= set(keys)
        fig = plan.figure(plan_id, 2021)
        level = float(cfg.levels_2021[cat])
        fitted = year == 2021 and math.isclose(level, d.levels[cat], rel_tol=1e-12)
        simulated = sum(by_key[k] for k in keys)
        rows.append((cat, ", ".join(keys), simulated, fig.value, level, fitted, fig.ref))
    total = plan.figure("output.total", 2021)
    in_sample = all(r[5] for r in rows)
    rows.append(
        ("total", "the five categories", sum(r[2] for r in rows), total.value, math.nan,
         in_sample, total.ref)
    )  # fmt: skip
    rest = [k for k in by_key if k not in counted]
    rows.append(
        ("outside_2021_statistics", ", ".join(rest), sum(by_key[k] for k in rest), math.nan,
         math.nan, False, "")
    )  # fmt: skip
    out = pd.DataFrame(
        rows,
        columns=["category", "items", "simulated_1e8_yuan", "plan_1e8_yuan", "level",
                 "in_sample", "ref"],
    )  # fmt: skip
    out["gap_1e8_yuan"] = out["simulated_1e8_yuan"] - out["plan_1e8_yuan"]
    out["gap_pct"] = 100.0 * out["gap_1e8_yuan"] / out["plan_1e8_yuan"]
    return out[list(BACKTEST_COLUMNS)]


def backtest_2021(
    results: Results,
    config: ValuationConfig | None = None,
    plan: Plan | None = None,
    year: int = 2021,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The run's 2021 output value in the plan's five 2021 categories against the plan's.

    Like for like: the five categories of ch1 §2 八 and their total against 150.3亿元; the
    items outside the 2021 statistic are a row of their own, not in the total. The levels are
    fitted to 2021 (``in_sample``): with the plan's own 2021 volumes each category is met
    exactly, so the backtest tests the simulated 2021 volumes (surface output, LNG, exports,
    local use, mine power) and nothing else.

    Returns
    -------
    pandas.DataFrame
        As :func:`value_2021_split`.

    Raises
    ------
    ValueError
        If the run does not simulate ``year``.
    """
    vals = value(results, config) if values is None else values
    if not (vals["year"] == year).any():
        raise ValueError(f"the run does not simulate {year}; the backtest needs that year")
    return value_2021_split(results, config, plan, year, vals)


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
        ``valuation.yaml`` with a source per year, and those moved by a price index) and year;
        ``source`` as :meth:`ValuationConfig.price_source` gives it.
    """
    years = np.asarray(years, dtype=np.int64)
    rows = [
        (field, int(y), float(v), unit_of(field), config.price_source(field, int(y)))
        for field in sorted({*defaults().year_sources, *defaults().indices})
        for y, v in zip(years, config.unit_value(field, years), strict=True)
    ]
    return pd.DataFrame(rows, columns=["field", "year", "value", "unit", "source"])
