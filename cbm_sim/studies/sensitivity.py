"""Sensitivity of a summary quantity to the scenario's uncertain inputs.

:func:`tornado` varies one input at a time between its P10 and P90 (the 10 % and 90 %
quantiles of its distribution, :func:`cbm_sim.studies.ensemble.frozen_distribution`), every other
input held at its scenario value, and runs each case deterministically with the scenario's
seed. :func:`sobol` estimates first-order and total Sobol indices with SALib (Saltelli
sampling, :math:`N(2k+2)` runs for :math:`k` inputs) over the inputs' P1–P99 ranges treated
as uniform (assumption: SALib's Saltelli scheme needs bounded uniform marginals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.valuation_inputs import SUB_CLUSTERS
from cbm_sim.studies.ensemble import (
    MEASURES,
    TARGET_YEARS,
    Progress,
    apply,
    check_uncertainty,
    execute,
    frozen_distribution,
    summarise,
)

QUANTITY_ALIASES = {"total_value": "output.total", "total_production": "production.total"}
"""Short names accepted for the summary quantities (plan ids, :func:`ensemble.summarise`)."""


QUANTITIES: tuple[str, ...] = (
    "production.surface",
    "production.underground",
    "production.total",
    "output.total",
    *(f"output.{sc}" for sc in SUB_CLUSTERS),
)
"""Every summary quantity of :func:`cbm_sim.studies.ensemble.summarise` (plan ids)."""


def resolve_quantity(quantity: str) -> str:
    """The plan id of ``quantity`` (an alias of :data:`QUANTITY_ALIASES` or a plan id).

    Raises
    ------
    ValueError
        If it is neither, naming the closest known id.
    """
    metric = QUANTITY_ALIASES.get(quantity, quantity)
    if metric not in QUANTITIES:
        import difflib

        known = [*QUANTITIES, *QUANTITY_ALIASES]
        close = difflib.get_close_matches(quantity, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(known)}"
        raise ValueError(f"unknown quantity {quantity!r}; {hint}")
    return metric


def quantity_unit(quantity: str) -> str:
    """Planner unit of a summary quantity in 亿 (1e8) of its base unit: 亿m³ or 亿元."""
    return "亿m³" if resolve_quantity(quantity).startswith("production.") else "亿元"


def measures_for(quantity: str) -> tuple[str, ...]:
    """The member-summary parts needed to compute ``quantity``."""
    if quantity.startswith("production."):
        return ("production",)
    if quantity.startswith("output."):
        return ("value",)
    raise ValueError(
        f"unknown quantity {quantity!r}; expected production.* or output.* "
        f"(or one of {', '.join(QUANTITY_ALIASES)})"
    )


@dataclass(frozen=True)
class _Case:
    scenario: Scenario
    values: dict[str, float]
    quantity: str
    years: tuple[int, ...]


def _evaluate(case: _Case) -> list[float]:
    from cbm_sim.results import simulate

    member = apply(case.scenario, case.values)
    wide, _ = summarise(simulate.run(member), measures_for(case.quantity))
    if case.quantity not in wide.columns:
        raise ValueError(f"quantity {case.quantity!r} not in the run summary {list(wide.columns)}")
    by_year = wide.set_index("year")[case.quantity]
    missing = [y for y in case.years if y not in by_year.index]
    if missing:
        raise ValueError(f"years {missing} are outside the scenario horizon")
    return [float(by_year[y]) for y in case.years]


def tornado(
    scenario: Scenario,
    inputs: Sequence[str] | None = None,
    quantity: str = "total_value",
    years: Sequence[int] = TARGET_YEARS,
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One-at-a-time swings of ``quantity`` between each input's P10 and P90.

    Parameters
    ----------
    scenario
        Base case; its ``uncertainty`` gives the inputs' distributions.
    inputs
        Dotted paths to vary (default: all of ``scenario.uncertainty``).
    quantity
        Summary quantity (plan id, e.g. ``output.total`` in 元, ``production.total`` in m³,
        or an alias of :data:`QUANTITY_ALIASES`).
    years
        Years at which the quantity is read.

    Returns
    -------
    pandas.DataFrame
        ``input, year, low_input, high_input, low_value, high_value, base, metric, unit``,
        sorted by year then by swing (largest first). ``low_value``/``high_value`` are the
        quantity with the input at its P10/P90; ``base`` with the scenario as written.
    """
    check_uncertainty(scenario)
    metric = resolve_quantity(quantity)
    measures_for(metric)
    names = list(scenario.uncertainty) if inputs is None else list(inputs)
    unknown = [p for p in names if p not in scenario.uncertainty]
    if unknown:
        raise ValueError(
            f"inputs {unknown} have no distribution in scenario.uncertainty "
            f"(known: {', '.join(scenario.uncertainty) or 'none'})"
        )
    yrs = tuple(int(y) for y in years)
    quantiles = {p: frozen_distribution(p, scenario.uncertainty[p]).ppf([0.1, 0.9]) for p in names}
    cases = [_Case(scenario, {}, metric, yrs)]
    for p in names:
        cases += [_Case(scenario, {p: float(q)}, metric, yrs) for q in quantiles[p]]
    values = execute(_evaluate, cases, workers=workers, scheduler=scheduler, progress=progress)
    base = values[0]
    rows = []
    for k, p in enumerate(names):
        low, high = values[1 + 2 * k], values[2 + 2 * k]
        for j, year in enumerate(yrs):
            rows.append(
                {
                    "input": p,
                    "year": year,
                    "low_input": float(quantiles[p][0]),
                    "high_input": float(quantiles[p][1]),
                    "low_value": low[j],
                    "high_value": high[j],
                    "base": base[j],
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["input", "year", "low_input", "high_input", "low_value", "high_value", "base"],
    )
    frame["metric"] = metric
    frame["unit"] = "m3" if metric.startswith("production.") else "元"
    swing = (frame["high_value"] - frame["low_value"]).abs()
    order = frame.assign(_swing=swing).sort_values(["year", "_swing"], ascending=[True, False])
    return order.drop(columns="_swing").reset_index(drop=True)


def sobol(
    scenario: Scenario,
    n: int,
    quantity: str = "total_value",
    year: int = 2030,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """First-order (``S1``) and total (``ST``) Sobol indices of ``quantity`` in ``year``.

    Runs :math:`n(2k+2)` deterministic simulations (``k`` inputs; ``n`` a power of 2).

    Returns
    -------
    pandas.DataFrame
        ``input, S1, S1_conf, ST, ST_conf`` (95 % bootstrap half-widths).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    check_uncertainty(scenario)
    metric = resolve_quantity(quantity)
    measures_for(metric)
    names = list(scenario.uncertainty)
    if len(names) < 2:
        raise ValueError(f"Sobol indices need >= 2 uncertain inputs, got {len(names)}")
    if n < 2 or n & (n - 1):
        raise ValueError(f"Sobol base sample n must be a power of 2 >= 2, got {n}")
    bounds = [
        list(map(float, frozen_distribution(p, scenario.uncertainty[p]).ppf([0.01, 0.99])))
        for p in names
    ]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    root = scenario.seed if seed is None else seed
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=root)
    cases = [
        _Case(scenario, dict(zip(names, map(float, row), strict=True)), metric, (year,))
        for row in x
    ]
    y = np.array(
        [
            v[0]
            for v in execute(
                _evaluate, cases, workers=workers, scheduler=scheduler, progress=progress
            )
        ]
    )
    res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=root)
    return pd.DataFrame(
        {
            "input": names,
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )


__all__ = [
    "MEASURES",
    "QUANTITIES",
    "QUANTITY_ALIASES",
    "quantity_unit",
    "resolve_quantity",
    "sobol",
    "tornado",
]
