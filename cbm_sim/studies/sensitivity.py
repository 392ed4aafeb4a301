"""Sensitivity of a summary quantity to the scenario's uncertain inputs.

:func:`tornado` varies one input at a time between its P10 and P90 (the 10 % and 90 %
quantiles of its distribution, :func:`cbm_sim.studies.sampling.frozen_distribution`), every other
input held at its scenario value, and runs each case deterministically with the scenario's
seed. :func:`sobol_indices` estimates first-order and total Sobol indices with SALib (Saltelli
design, :math:`N(k+2)` runs for :math:`k` inputs, no second-order terms) over the inputs' own
distributions (the unit-cube design mapped through each inverse CDF), with bootstrap 95 %
confidence intervals; the inputs are taken as independent (correlations are not applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbm_sim import bounds
from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.valuation_inputs import SUB_CLUSTERS
from cbm_sim.studies.ensemble import MEASURES, TARGET_YEARS, summarise
from cbm_sim.studies.execution import Progress, execute
from cbm_sim.studies.sampling import apply, check_uncertainty, frozen_distribution

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


TORNADO_TASKS = 8
"""Dask tasks a tornado's runs are split into (consecutive runs each; assumption: a few per
worker of a 2-4 worker cluster balances the load, fewer tasks share more of a worker's
caches)."""


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

    member = apply(case.scenario, case.values, case.scenario.uncertainty)
    results = simulate.run(member, daily=False, events=False)
    wide, _ = summarise(results, measures_for(case.quantity))
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
    # a few tasks of consecutive cases (not one per case): each worker's runs that leave
    # the wells, drilling or plants as its earlier runs had them reuse what those computed
    # (cluster/replay.py, cluster/build.py), and the scheduler handles 8 tasks, not 2k + 1
    batch = -(-len(cases) // TORNADO_TASKS)
    values = execute(
        _evaluate, cases, workers=workers, scheduler=scheduler, progress=progress, batch=batch
    )
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


def spread_versus_swings(
    members: pd.DataFrame, swings: pd.DataFrame, year: int, quantity: str = "output.total"
) -> dict[str, float | str | bool]:
    """Compare an ensemble's P10–P90 of ``quantity`` in ``year`` with the tornado's swings.

    An ensemble that samples every input at once should spread at least as wide as the
    largest one-at-a-time swing (each input from its P10 to its P90, :func:`tornado`) and,
    for roughly additive effects, about as wide as their root sum of squares.

    Parameters
    ----------
    members
        :attr:`cbm_sim.studies.ensemble.EnsembleResult.members` (``year`` and ``quantity``).
    swings
        :func:`tornado` frame of the same scenario, ``quantity`` and ``year``.

    Returns
    -------
    dict
        ``p10, p90, width`` of the ensemble; ``largest_swing`` and its ``largest_input``;
        ``envelope_low, envelope_high, envelope_width`` (lowest and highest tornado value);
        ``rss_swing`` (root sum of squared swings); ``covers_largest`` (width ≥ largest
        swing) and ``covers_envelope`` (width ≥ envelope width). Units of ``quantity``.

    Raises
    ------
    ValueError
        If the ensemble has no member in ``year`` or the tornado has no row of ``year``.
    """
    values = members.loc[members["year"] == year, quantity].to_numpy(dtype=np.float64)
    rows = swings[swings["year"] == year]
    if values.size == 0 or rows.empty:
        raise ValueError(
            f"need ensemble members and tornado rows in {year}; got {values.size} members "
            f"and {len(rows)} tornado rows"
        )
    p10, p90 = np.quantile(values, [0.1, 0.9])
    swing = (rows["high_value"] - rows["low_value"]).abs().to_numpy(dtype=np.float64)
    k = int(np.argmax(swing))
    low = float(min(rows["low_value"].min(), rows["high_value"].min(), rows["base"].iloc[0]))
    high = float(max(rows["low_value"].max(), rows["high_value"].max(), rows["base"].iloc[0]))
    width = float(p90 - p10)
    return {
        "year": year,
        "quantity": quantity,
        "members": int(values.size),
        "p10": float(p10),
        "p90": float(p90),
        "width": width,
        "largest_swing": float(swing[k]),
        "largest_input": str(rows["input"].iloc[k]),
        "envelope_low": low,
        "envelope_high": high,
        "envelope_width": high - low,
        "rss_swing": float(np.sqrt(np.sum(swing**2))),
        "covers_largest": bool(width >= swing[k]),
        "covers_envelope": bool(width >= high - low),
    }


SOBOL_COLUMNS = (
    "year",
    "input",
    "S1",
    "S1_conf",
    "S1_low",
    "S1_high",
    "ST",
    "ST_conf",
    "ST_low",
    "ST_high",
    "n",
    "runs",
)
"""Columns of :func:`sobol_indices` (``*_conf``: half-width of the bootstrap interval)."""


def saltelli_runs(n: int, k: int) -> int:
    """Simulations of a Saltelli design without second-order terms: :math:`n(k + 2)`."""
    return n * (k + 2)


def sobol_indices(
    scenario: Scenario,
    n: int,
    quantity: str = "total_value",
    years: Sequence[int] = TARGET_YEARS,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int | None = None,
    resamples: int = 500,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``quantity`` in each of ``years``.

    A Saltelli design (SALib's scrambled Sobol' sequence, :math:`n(k+2)` runs for ``k``
    inputs, no second-order terms) on the unit cube is mapped through each input's inverse
    CDF, so the indices are over the inputs' own distributions (not over uniform ranges).
    Each run is deterministic (the scenario's seed), so the indices apportion the spread due
    to the uncertain inputs alone. The inputs are treated as **independent**: the Sobol
    decomposition needs it, so ``scenario.correlations`` are not applied here (an
    ensemble applies them).

    Parameters
    ----------
    scenario
        Base case; its ``uncertainty`` gives the inputs.
    n
        Base sample size, a power of 2 (SALib's Sobol' sequence).
    quantity, years
        The summary quantity (plan id or alias) and the years it is read in, e.g. the
        cluster's output value (元) in 2025 and 2030.
    resamples
        Bootstrap resamples of the 95 % confidence intervals (SALib's ``num_resamples``).

    Returns
    -------
    pandas.DataFrame
        :data:`SOBOL_COLUMNS`, one row per year and input; ``S1_low``/``S1_high`` (and
        ``ST_*``) are the bootstrap 95 % interval, ``S1 ± S1_conf``.

    Raises
    ------
    ValueError
        Fewer than 2 inputs, ``n`` not a power of 2, or a bad quantity or input.
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
    if resamples < 10:
        raise ValueError(f"resamples must be >= 10, got {resamples}")
    bounds.check("study_runs", saltelli_runs(n, len(names)))
    yrs = tuple(int(y) for y in years)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    root = scenario.seed if seed is None else seed
    u = np.clip(sobol_sample.sample(problem, n, calc_second_order=False, seed=root), 1e-9, 1 - 1e-9)
    frozen = [frozen_distribution(p, scenario.uncertainty[p]) for p in names]
    x = np.column_stack([f.ppf(u[:, j]) for j, f in enumerate(frozen)])
    cases = [
        _Case(scenario, dict(zip(names, map(float, row), strict=True)), metric, yrs) for row in x
    ]
    # one task per Saltelli group (SALib lists each base sample's k + 2 runs together: A,
    # A with each column of B, B): a worker runs the group in order, so the runs that leave
    # the wells as A has them replay A's supply on the same worker (cluster/replay.py), and
    # the scheduler and this process handle n tasks instead of n (k + 2)
    group = len(names) + 2
    values = np.array(
        execute(
            _evaluate, cases, workers=workers, scheduler=scheduler, progress=progress, batch=group
        )
    )
    frames = []
    for j, year in enumerate(yrs):
        res = sobol_analyze.analyze(
            problem, values[:, j], calc_second_order=False, num_resamples=resamples, seed=root
        )
        frames.append(
            pd.DataFrame(
                {
                    "year": year,
                    "input": names,
                    "S1": res["S1"],
                    "S1_conf": res["S1_conf"],
                    "S1_low": res["S1"] - res["S1_conf"],
                    "S1_high": res["S1"] + res["S1_conf"],
                    "ST": res["ST"],
                    "ST_conf": res["ST_conf"],
                    "ST_low": res["ST"] - res["ST_conf"],
                    "ST_high": res["ST"] + res["ST_conf"],
                    "n": n,
                    "runs": len(cases),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["metric"] = metric
    return out.sort_values(["year", "ST"], ascending=[True, False]).reset_index(drop=True)


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
    """First-order (``S1``) and total (``ST``) Sobol indices of ``quantity`` in one ``year``.

    :func:`sobol_indices` for one year, in the order of ``scenario.uncertainty``.

    Returns
    -------
    pandas.DataFrame
        ``input, S1, S1_conf, ST, ST_conf`` (95 % bootstrap half-widths).
    """
    got = sobol_indices(
        scenario,
        n,
        quantity,
        (year,),
        workers=workers,
        scheduler=scheduler,
        seed=seed,
        progress=progress,
    )
    order = {p: i for i, p in enumerate(scenario.uncertainty)}
    got = got.sort_values("input", key=lambda s: s.map(order)).reset_index(drop=True)
    return got[["input", "S1", "S1_conf", "ST", "ST_conf"]]


__all__ = [
    "MEASURES",
    "QUANTITIES",
    "QUANTITY_ALIASES",
    "SOBOL_COLUMNS",
    "quantity_unit",
    "resolve_quantity",
    "saltelli_runs",
    "sobol",
    "sobol_indices",
    "spread_versus_swings",
    "tornado",
]
