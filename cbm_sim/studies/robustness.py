"""What flips the verdict: each assumption's stated swing against each 2025/2030 value target.

For every target of the cluster total and the eight sub-clusters (plan ch3 §3, output value in
亿元) and every assumption, the scenario is run with the assumption at its low and at its high
value, all else as written, and the target check (:func:`cbm_sim.economics.targets.check_targets`)
is repeated. A row *flips* when the status at either end differs from the base status.

Assumptions
-----------
When the scenario has an ``uncertainty`` section, each of its inputs is an assumption and its
swing is the distribution's stated ``low``/``high`` (uniform, triangular, truncnorm) or its
P10/P90 (normal, lognormal); they are applied as :func:`cbm_sim.studies.sampling.apply` does
(a scalar replaced, a ``{year: value}`` path multiplied).

Otherwise :func:`default_swings` gives the main assumptions of the model, each with a cited or
labelled low/high (the ``*_SOURCE`` strings): the gas price level, the per-well unit values of
the services/equipment/logistics items, the horizontal-well equivalent, the type-curve peak
rate, the drilling programme, the outbound contracts, the exogenous (not simulated) items and
the carbon-credit baseline. A swing is a *factor* on the scenario's value (``relative``:
scalars multiplied, paths multiplied) or an absolute value of a scalar.

Swings on the valuation section only need the base run re-valued, not re-run; the others are
simulated, on Dask when ``workers`` > 1 (:func:`cbm_sim.studies.execution.execute`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from cbm_sim.cluster.netback import PRICE_FIELDS
from cbm_sim.results.frames import Results
from cbm_sim.scenario.model import Distribution, Scenario
from cbm_sim.scenario.uncertainty import is_time_path as _is_time_path
from cbm_sim.scenario.uncertainty import parent as _parent
from cbm_sim.scenario.valuation_inputs import EXOGENOUS, ITEMS, SUB_CLUSTERS
from cbm_sim.studies.ensemble import TARGET_YEARS
from cbm_sim.studies.execution import Progress, execute
from cbm_sim.studies.sampling import (
    apply,
    check_uncertainty,
    frozen_distribution,
    invalid_because,
)

ROBUSTNESS_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "target",
    "sub_cluster",
    "unit",
    "target_value",
    "comparator",
    "base_simulated",
    "base_status",
    "assumption",
    "low_input",
    "high_input",
    "low_simulated",
    "low_status",
    "high_simulated",
    "high_status",
    "flips",
    "paths",
    "source",
)
"""Columns of ``robustness.csv`` (values in the target's unit, 亿元)."""

LOW, HIGH = "low", "high"


@dataclass(frozen=True)
class Swing:
    """One assumption: the scenario paths it moves and its low/high.

    Attributes
    ----------
    name
        Short name (``gas_price``) used in tables.
    paths
        Dotted scenario paths (:func:`cbm_sim.studies.sampling.apply`) moved together.
    low, high
        The stated low and high: factors on the scenario's values when ``relative`` (scalars
        and ``{year: value}`` paths multiplied), else absolute values of scalar paths (a path is
        multiplied, as in :func:`~cbm_sim.studies.sampling.apply`).
    relative
        See ``low``/``high``.
    source
        Where low and high come from (a citation or "assumption: why").
    """

    name: str
    paths: tuple[str, ...]
    low: float
    high: float
    relative: bool
    source: str
    spec: Distribution | None = None
    """The scenario's own uncertainty entry when the swing is one (its sample then acts as the
    entry says: ``op``, ``from_year``, a shared factor's ``paths``)."""

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError(f"swing {self.name!r} moves no scenario path")
        if not self.low <= self.high:
            raise ValueError(
                f"swing {self.name!r}: low must not exceed high, got low={self.low} "
                f"high={self.high}"
            )

    @property
    def valuation_only(self) -> bool:
        """Whether the swing moves only what the valuation alone reads (a re-valuation
        suffices): not the prices that rank the dispatch's markets (netback)."""
        return all(
            p.startswith("valuation.") and p.removeprefix("valuation.") not in PRICE_FIELDS
            for p in self.paths
        )

    def values(self, scenario: Scenario, end: str) -> dict[str, float]:
        """The ``apply`` mapping of this swing at its ``"low"`` or ``"high"`` end (keyed by its
        name when it is a scenario uncertainty entry, applied with that entry)."""
        if end not in (LOW, HIGH):
            raise ValueError(f"swing end must be 'low' or 'high', got {end!r}")
        x = self.low if end == LOW else self.high
        if self.spec is not None:
            return {self.name: x}  # the entry says how it acts (op, from_year, paths)
        data = scenario.model_dump(mode="python")
        out = {}
        for path in self.paths:
            node, key = _parent(data, path)
            leaf = node[key]
            scalar = not _is_time_path(leaf)
            out[path] = float(leaf) * x if (self.relative and scalar) else x
        return out


# -- the default swings -------------------------------------------------------------------------
GAS_PRICE_SOURCE: Final[str] = (
    "±30 %: China's LNG import price index (ex-tax) ranged 1,888-3,487 元/t in 2019-2020, "
    "i.e. 0.70-1.30 × its mid-range 2,688 (SHPGX/Customs via Xinhua 2019-11-21 and "
    "2020-08; /tmp research markets.md §2); Jincheng realised CBM prices 1.26-1.80 元/m3 "
    "(AAG Energy 2017-2019) lie inside it"
)
PER_WELL_SOURCE: Final[str] = (
    "assumption: 0.75-1.25 × the per-well unit values (services, equipment, logistics): the "
    "cited all-in cost per vertical-well equivalent lies within 2.26-2.5 百万元 (plan ch1 §2: "
    "358.76亿元 / 15,842 eq-wells at 4.3; Green Dragon Gas GSS/GCZ), −6/+4 % around the cost "
    "model's 2.4, widened because the split into elements is assumed"
)
HORIZONTAL_SOURCE: Final[str] = (
    "4.3-6.6 vertical wells: a horizontal CBM well costs US$1.5 m (Green Dragon Gas LiFaBriC, "
    "Master Investor 2015) to US$2.3 m (Standard Chartered via Bloomberg 2010-12-01) against "
    "US$0.35 m per GSS vertical well incl. facilities (US$518 m / 1,491 wells, Green Dragon Gas)"
)
PEAK_SOURCE: Final[str] = (
    "assumption: ±20 % on the type-curve peak rates, a modest spread against the published "
    "range of Qinshui per-well rates (~300 to 2,500 m3/d, tkgc 2023; CNOOC 2023)"
)
DRILLING_SOURCE: Final[str] = (
    "assumption: 0.5-1.2 × the wells drilled per year; the plan states no well counts, and "
    "the historical pace (10,595 wells in 2003-2021, plan ch1 §2 二, ≈ 560-650/yr) is a third "
    "of the plan scenario's"
)
CONTRACTS_SOURCE: Final[str] = (
    "0-1.25 × the contracted outbound volumes: 0 = no contracts (exports only a residual of "
    "local use, the model before issue 14); 1.25 = all of 2021's outbound 19.35 亿m³ under "
    "contract (plan ch1 §2 四), against the plan scenario's 80 %"
)
EXOGENOUS_SOURCE: Final[str] = (
    "assumption: ±50 % on the items the model does not simulate (the science city: the "
    "plan's own 亿元, plan ch4 §4)"
)
CARBON_SOURCE: Final[str] = (
    "0.5966-1 × the carbon baseline path: the base credits no mine-gas utilisation from 2025, as "
    "GB 21522—2024 (in force 2025-04-01) forbids venting drained gas with CH4 ≥ 8 % (IGSD "
    "2024-12; 科技日报 2025-01-08) and CCER—10—001—V01 (MEE 2025-01) credits only ventilation "
    "air and gas below 8 %; the low end (× 0.5966) puts the 2025+ baseline back at the 2021 "
    "utilisation rate, 59.66 % (plan ch1 §2 三), as if the standard did not apply (it also lowers "
    "the 2021-2024 baseline to 35.6 %, years without targets)"
)


def _valuation_fields(suffixes: tuple[str, ...]) -> tuple[str, ...]:
    fields = {t.field for spec in ITEMS for t in spec.terms}
    return tuple(sorted(f for f in fields if f.endswith(suffixes)))


PER_WELL_FIELDS: Final[tuple[str, ...]] = _valuation_fields(
    ("_per_well_eq", "_per_active_well_year", "_per_workover")
)
"""Valuation fields valued per well (drilled, active, or per workover)."""
EXOGENOUS_FIELDS: Final[tuple[str, ...]] = tuple(
    sorted({t.field for spec in ITEMS for t in spec.terms if t.driver == EXOGENOUS})
)
"""Valuation fields of the exogenous (not simulated) items [亿元/yr]."""


class SwingError(ValueError):
    """An assumption's low or high end makes the scenario invalid (bad input, before any run)."""


def default_swings(scenario: Scenario) -> list[Swing]:
    """The documented default swings of the model's main assumptions for ``scenario``.

        The drilling swing moves every block programme of the scenario, the contracts swing every
    outbound contract (each left out if the scenario has none).
    """
    swings = [
        Swing("gas_price", ("valuation.gas_price_scale",), 0.70, 1.30, True, GAS_PRICE_SOURCE),
        Swing(
            "per_well_values",
            tuple(f"valuation.{f}" for f in PER_WELL_FIELDS),
            0.75,
            1.25,
            True,
            PER_WELL_SOURCE,
        ),
        Swing(
            "horizontal_well_equivalent",
            ("valuation.horizontal_well_equivalent",),
            4.3,
            6.6,
            False,
            HORIZONTAL_SOURCE,
        ),
        Swing("peak_rate", ("type_curves.peak_rate_scale",), 0.8, 1.2, True, PEAK_SOURCE),
    ]
    drilling = tuple(
        f"drilling.blocks.{block}.{kind}_wells_per_year"
        for block, prog in scenario.drilling.blocks.items()
        for kind in ("vertical", "horizontal")
        if getattr(prog, f"{kind}_wells_per_year")
    )
    if drilling:
        swings.append(Swing("drilling", drilling, 0.5, 1.2, True, DRILLING_SOURCE))
    contracts = tuple(
        f"contracts.outbound.{i}.annual_1e8_m3" for i in range(len(scenario.contracts.outbound))
    )
    if contracts:
        swings.append(Swing("contracts", contracts, 0.0, 1.25, True, CONTRACTS_SOURCE))
    swings += [
        Swing(
            "exogenous_items",
            tuple(f"valuation.{f}" for f in EXOGENOUS_FIELDS),
            0.5,
            1.5,
            True,
            EXOGENOUS_SOURCE,
        ),
        Swing(
            "carbon_baseline",
            ("valuation.carbon_baseline_share",),
            0.5966,
            1.0,
            True,
            CARBON_SOURCE,
        ),
    ]
    return swings


def uncertainty_swings(scenario: Scenario) -> list[Swing]:
    """One swing per input of ``scenario.uncertainty``: stated low/high, else P10/P90."""
    check_uncertainty(scenario)
    out = []
    for path, spec in scenario.uncertainty.items():
        if spec.low is not None and spec.high is not None:
            low, high, what = float(spec.low), float(spec.high), "stated low/high"
        else:
            low, high = map(float, frozen_distribution(path, spec).ppf([0.1, 0.9]))
            what = "P10/P90"
        source = f"scenario uncertainty: {spec.dist} ({what})"
        out.append(Swing(path, tuple(spec.paths or (path,)), low, high, False, source, spec))
    return out


def swings_for(scenario: Scenario) -> list[Swing]:
    """The scenario's ``uncertainty`` inputs when it has any, else :func:`default_swings`."""
    return uncertainty_swings(scenario) if scenario.uncertainty else default_swings(scenario)


# -- evaluation -------------------------------------------------------------------------------
def _headline(checks: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Cluster and sub-cluster total rows of the target check in ``years``."""
    rows = checks[(checks["item"] == "total") & checks["year"].isin(list(years))]
    return rows.set_index(["year", "sub_cluster"])


def _checks(results: Results) -> pd.DataFrame:
    from cbm_sim.economics.targets import check_targets

    return check_targets(results)


@dataclass(frozen=True)
class _Case:
    scenario: Scenario


def _simulate_checks(case: _Case) -> pd.DataFrame:
    from cbm_sim.results import simulate

    return _checks(simulate.run(case.scenario))


def robustness(
    scenario: Scenario,
    swings: Sequence[Swing] | None = None,
    years: Sequence[int] = TARGET_YEARS,
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    base_results: Results | None = None,
) -> pd.DataFrame:
    """The "what flips it" table of ``scenario``.

    Parameters
    ----------
    scenario
        The base case.
    swings
        Assumptions to swing; default :func:`swings_for`.
    years
        Target years (default 2025 and 2030); years outside the horizon are left out.
    workers, scheduler
        As :func:`cbm_sim.studies.execution.execute` (``1``: serial, no Dask).
    progress
        Called with the fraction of simulated cases done.
    base_results
        The run of ``scenario`` if already at hand (:class:`~cbm_sim.results.frames.Results`);
        simulated otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ROBUSTNESS_COLUMNS`, one row per year × target (cluster total, then the
        sub-clusters in plan order) × assumption. ``flips`` is ``""``, ``"low"``, ``"high"`` or
        ``"low+high"``: the ends at which the status differs from ``base_status``.
    """
    swings = list(swings_for(scenario) if swings is None else swings)
    names = [s.name for s in swings]
    if len(set(names)) != len(names):
        raise ValueError(f"swing names must be unique, got {names}")
    last = scenario.horizon.end.year
    yrs = [int(y) for y in years if scenario.horizon.start.year <= y <= last]
    if not yrs:
        raise ValueError(f"years {list(years)} are outside the scenario horizon")
    members: dict[tuple[str, str], Scenario] = {}
    simulated: list[tuple[str, str]] = []
    for s in swings:
        for end in (LOW, HIGH):
            specs = None if s.spec is None else {s.name: s.spec}
            values = s.values(scenario, end)
            try:
                members[(s.name, end)] = apply(scenario, values, specs)
            except ValueError as exc:  # pydantic's ValidationError is one
                shown = ", ".join(f"{k} = {v:g}" for k, v in values.items())
                raise SwingError(
                    f"assumption {s.name!r} at its {end} end ({shown}) makes the scenario "
                    f"invalid: {invalid_because(exc)}"
                ) from None
            if not s.valuation_only:
                simulated.append((s.name, end))
    from cbm_sim.results import simulate

    if base_results is None:
        base_results = simulate.run(scenario)
    cases = [_Case(members[k]) for k in simulated]
    got = execute(_simulate_checks, cases, workers=workers, scheduler=scheduler, progress=progress)
    checks = dict(zip(simulated, got, strict=True))
    for key, member in members.items():
        if key not in checks:  # valuation only: the base run re-valued with the member's prices
            checks[key] = _checks(dataclasses.replace(base_results, scenario=member))
    base = _headline(_checks(base_results), yrs)
    heads = {key: _headline(frame, yrs) for key, frame in checks.items()}
    rows = []
    order = ["total", *SUB_CLUSTERS]
    for year in yrs:
        for sc in order:
            if (year, sc) not in base.index:
                continue
            b = base.loc[(year, sc)]
            for s in swings:
                lo = heads[(s.name, LOW)].loc[(year, sc)]
                hi = heads[(s.name, HIGH)].loc[(year, sc)]
                flips = [e for e, r in ((LOW, lo), (HIGH, hi)) if r["status"] != b["status"]]
                rows.append(
                    {
                        "year": year,
                        "target": "output.total" if sc == "total" else f"output.{sc}",
                        "sub_cluster": sc,
                        "unit": b["unit"],
                        "target_value": float(b["target"]),
                        "comparator": b["comparator"],
                        "base_simulated": float(b["simulated"]),
                        "base_status": b["status"],
                        "assumption": s.name,
                        "low_input": s.low,
                        "high_input": s.high,
                        "low_simulated": float(lo["simulated"]),
                        "low_status": lo["status"],
                        "high_simulated": float(hi["simulated"]),
                        "high_status": hi["status"],
                        "flips": "+".join(flips),
                        "paths": "; ".join(s.paths),
                        "source": s.source,
                    }
                )
    return pd.DataFrame(rows, columns=list(ROBUSTNESS_COLUMNS))


def flipped_by(table: pd.DataFrame) -> pd.DataFrame:
    """One row per year × target: base verdict and the assumptions that flip it.

    Returns
    -------
    pandas.DataFrame
        ``year, target, base_simulated, target_value, base_status, flipped_by`` where
        ``flipped_by`` lists ``assumption (end)`` entries, ``""`` when the verdict holds.
    """
    missing = [c for c in ROBUSTNESS_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"robustness table lacks columns {missing}")
    out = []
    for (year, target), rows in table.groupby(["year", "target"], sort=False):
        first = rows.iloc[0]
        hits = [f"{r.assumption} ({r.flips})" for r in rows.itertuples(index=False) if r.flips]
        out.append(
            {
                "year": int(year),
                "target": target,
                "base_simulated": float(first["base_simulated"]),
                "target_value": float(first["target_value"]),
                "base_status": first["base_status"],
                "flipped_by": ", ".join(hits),
            }
        )
    return pd.DataFrame(out)


__all__ = [
    "EXOGENOUS_FIELDS",
    "PER_WELL_FIELDS",
    "ROBUSTNESS_COLUMNS",
    "Swing",
    "default_swings",
    "flipped_by",
    "robustness",
    "swings_for",
    "uncertainty_swings",
]
