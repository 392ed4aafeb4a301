"""The target check: simulated 2025/2030 figures against the plan's targets.

Rows cover the cluster total, every sub-cluster and every item of chapter 4 (output value,
亿元; from :func:`cbm_sim.economics.valuation.value`) and the plan's physical targets
(production, LNG,
CNG, pipeline, storage, local gas use, mine-gas power, utilisation rate). Targets come only from
the packaged plan data (:meth:`cbm_sim.plan.figures.Plan.target`).

Status. ``gap = simulated − target``. A target with comparator ``approx`` (预计/约/力争), ``min``
(不低于/以上) or ``exact`` is ``met`` when ``simulated ≥ target`` and ``short`` otherwise — a
planner's target is a floor, so an "about 500亿元" is not met by 499. A ``max`` target
(控制在…以内, e.g. outbound exports) is ``met`` when ``simulated ≤ target`` and ``exceeded``
otherwise. A figure is compared at the precision the plan states it: a target written with
``d`` decimals (2.73 亿m³: d = 2) is met by any value that rounds to it, i.e. from
``target − ½·10⁻ᵈ`` (residential gas 2.7279 of 2.73 is met, not "short by 0.0"); integers
count as stated to one decimal (assumption: the tables print one decimal, and 19.9 of a
"不低于20" stays short), so 499 of "about 500亿元" is short.

What a verdict rests on. Some items are not simulated: their value is an exogenous 亿元 path
(science city, training base, green finance, insurance; ``basis`` other than ``simulated`` in
the valuation frame). Each output-value row gives that part (``exogenous``) and the verdict
without it (``simulated_excl_exogenous``, ``gap_excl_exogenous``, ``status_excl_exogenous``):
a target met only thanks to the plan's own numbers is not met by the simulation. Physical rows
have no exogenous part (0).

What the simulated figure is (``basis``). A figure the run only passes on is marked ``input``
(the mine gas drained, the plants and stations in service, the pipelines' and the storage's
capacity, the mine heating gas, and a local demand the dispatch delivered in full: the
scenario's own path); a figure the model works out is ``computed``; an item with no simulated
driver is ``exogenous`` and a total holding both ``computed + exogenous``. A value row takes
the basis of its drivers (the drained volume × a price is ``input``). ``target_kind`` says how
the plan states the target: ``cap`` (控制在…以内, met when at or below it), ``floor`` (不低于)
or ``target`` (力争/约). :func:`mark` is the short form that the CLI and the report print.

Figures stated twice. Where the plan states a target in a summary and again in a section body
with different values (chemicals 2025: 18亿元 in the ch4 §3 summary, 55亿元 in ch4 §3 五), the
summary figure is the target, because the summary's items add up to the sub-cluster total; the
other statement goes to the ``note`` column, as does any other differing statement of a target
(e.g. underground drainage 2025: about 22, and "20亿立方米级以上").
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from cbm_sim import units
from cbm_sim.economics.valuation import (
    BASIS_SIMULATED,
    ITEMS,
    SUB_CLUSTERS,
    AnnualTable,
    Terms,
    value,
)
from cbm_sim.plan.figures import Figure, Plan, load_plan, preferred
from cbm_sim.results.frames import TARGET_COLUMNS, Results

TARGET_YEARS: Final[tuple[int, ...]] = (2025, 2030)
MET, SHORT, EXCEEDED = "met", "short", "exceeded"
_RTOL: Final[float] = 1e-9
COMPUTED, INPUT, EXOGENOUS_BASIS = "computed", "input", "exogenous"
PART_EXOGENOUS: Final[str] = "computed + exogenous"
TARGET_KINDS: Final[dict[str, str]] = {"max": "cap", "min": "floor"}
"""Comparator → kind of target; ``approx`` and ``exact`` are plain targets."""
_SHORTFALL_RTOL: Final[float] = 1e-6


def target_kind(comparator: str) -> str:
    """``cap``, ``floor`` or ``target`` for a plan comparator."""
    return TARGET_KINDS.get(comparator, "target")


_SHORT: Final[dict[str, str]] = {COMPUTED: "", PART_EXOGENOUS: "part exogenous"}


def mark(basis: str, kind: str) -> str:
    """The row's mark as printed by the CLI and the report: what the figure is (unless
    computed) and the target's kind (if a cap or a floor), e.g. ``input``, ``cap``,
    ``input · floor``, ``part exogenous``; ``""`` for a computed figure against a plain
    target."""
    words = (_SHORT.get(basis, basis), "" if kind == "target" else kind)
    return " · ".join(w for w in words if w)


def _combined(parts: list[str]) -> str:
    """The basis of a total from the bases of its parts."""
    kinds = set(parts)
    if not kinds:
        return COMPUTED
    if kinds == {EXOGENOUS_BASIS}:
        return EXOGENOUS_BASIS
    if EXOGENOUS_BASIS in kinds or PART_EXOGENOUS in kinds:
        return PART_EXOGENOUS
    return INPUT if kinds == {INPUT} else COMPUTED


def _delivered_in_full(sector: str) -> Callable[[AnnualTable, int], str]:
    """``input`` when the year's demand of ``sector`` was delivered in full, else computed."""

    def basis(t: AnnualTable, y: int) -> str:
        if not t.has(f"demand:{sector}", "shortfall"):
            return COMPUTED  # results without the demand series: nothing says it was met
        demand = float(t.get(f"demand:{sector}", "demand", [y])[0])
        short = float(t.get(f"demand:{sector}", "shortfall", [y])[0])
        return INPUT if short <= _SHORTFALL_RTOL * max(demand, 1.0) else COMPUTED

    return basis


_INPUT_DRIVERS: Final[frozenset[str]] = frozenset(
    {"mine_gas.drainage", "storage.storage_capacity", "mine_heating.gas_used"}
)
"""Valuation drivers that are scenario inputs passed on by the run."""


def _driver_basis(table: AnnualTable, driver: str, year: int) -> str:
    if driver in _INPUT_DRIVERS:
        return INPUT
    if driver.startswith("demand:") and driver.endswith(".delivered"):
        return _delivered_in_full(driver.removeprefix("demand:").removesuffix(".delivered"))(
            table, year
        )
    return COMPUTED


def stated_decimals(value: float) -> int:
    """Decimals of ``value`` as the plan writes it (shortest repr): 2.73 → 2, 500.0 → 0."""
    text = repr(float(value))
    if "e" in text or "." not in text:
        return 0
    return len(text.split(".")[1].rstrip("0"))


def status(simulated: float, target: float, comparator: str) -> str:
    """``met``/``short`` (floors: approx, min, exact) or ``met``/``exceeded`` (``max``), at
    the precision the target is stated (module docstring)."""
    half_unit = 0.5 * 10.0 ** -max(stated_decimals(target), 1)
    slack = max(_RTOL * abs(target), half_unit * (1 - 1e-9))
    if comparator == "max":
        return MET if simulated <= target + slack else EXCEEDED
    return MET if simulated >= target - slack else SHORT


def choose_target(plan: Plan, id: str, year: int) -> tuple[Figure, str] | None:
    """The target figure of ``id`` in effective ``year`` and a note on other statements.

    The summary statement wins where summary and detail disagree (module docstring); otherwise
    the plan's preferred figure (:meth:`Plan.target`). ``None`` if the plan states no target.
    """
    records = [f for f in plan.records(id, year) if f.kind == "target"]
    if not records:
        return None
    summary = [f for f in records if f.statement == "summary"]
    detail = [f for f in records if f.statement == "detail"]
    if summary and detail and {f.value for f in summary} != {f.value for f in detail}:
        chosen = preferred(summary)[0]
    else:
        chosen = plan.target(id, year)
    others = [
        f"also stated: {f.value:g} {f.unit} ({f.statement}, {f.comparator}, {f.ref}: {f.phrase})"
        for f in records
        if (f.value, f.comparator) != (chosen.value, chosen.comparator)
    ]
    return chosen, "; ".join(dict.fromkeys(others))


def _row(
    year: int,
    sub_cluster: str,
    item: str,
    simulated: float,
    fig: Figure,
    note: str,
    exogenous: float = 0.0,
    basis: str = COMPUTED,
) -> dict[str, object]:
    target = float(fig.value)
    gap = simulated - target
    inner = simulated - exogenous
    return {
        "year": year,
        "sub_cluster": sub_cluster,
        "item": item,
        "simulated": simulated,
        "target": target,
        "gap": gap,
        "gap_pct": 100.0 * gap / target if target else np.nan,
        "status": status(simulated, target, fig.comparator),
        "basis": basis,
        "target_kind": target_kind(fig.comparator),
        "exogenous": exogenous,
        "simulated_excl_exogenous": inner,
        "gap_excl_exogenous": inner - target,
        "status_excl_exogenous": status(inner, target, fig.comparator),
        "unit": fig.unit,
        "comparator": fig.comparator,
        "ref": fig.ref,
        "note": note,
        "id": fig.id,
    }


_Combine = str
"""How a row's figure is made of its items' figures: ``one`` (the item's own), ``pair`` (two
items added) or ``sum`` (Python's ``sum`` over the items, as the totals were written)."""


@functools.cache
def _value_layout() -> tuple[tuple[str, str, str, tuple[str, ...], _Combine], ...]:
    """Every output-value row of a year in the check's order: (plan id, sub_cluster, item,
    the item keys (``sub_cluster.item``) its figure adds up, how they are added)."""
    keys = tuple(dict.fromkeys(spec.key for spec in ITEMS))
    rows: list[tuple[str, str, str, tuple[str, ...], _Combine]] = [
        ("output.total", "total", "total", keys, "sum")
    ]
    for sc in SUB_CLUSTERS:
        in_sc = tuple(spec.key for spec in ITEMS if spec.sub_cluster == sc)
        rows.append((f"output.{sc}", sc, "total", in_sc, "sum"))
        for k in in_sc:
            item = k.split(".", 1)[1]
            if item == "mine_gas.power":
                pair = (k, "utilisation.mine_gas.heating")
                rows.append(("output.utilisation.mine_gas", sc, "mine_gas", pair, "pair"))
            rows.append((f"output.{k}", sc, item, (k,), "one"))
    return tuple(rows)


def _combine(values: dict[str, float], keys: tuple[str, ...], how: _Combine) -> float:
    if how == "one":
        return values[keys[0]]
    if how == "pair":
        return values[keys[0]] + values[keys[1]]
    return sum(values[k] for k in keys)


@functools.lru_cache(maxsize=8)
def _targets_of(plan: Plan, year: int) -> tuple[tuple[Figure, str] | None, ...]:
    """:func:`choose_target` of every output-value row (:func:`_value_layout`) and then of
    every physical target (:data:`PHYSICAL`) in ``year``: the same for every run checked
    against ``plan`` (a plan is not changed once loaded)."""
    ids = [row[0] for row in _value_layout()] + list(PHYSICAL)
    return tuple(choose_target(plan, id, year) for id in ids)


def _value_rows(
    valuation: pd.DataFrame, table: AnnualTable, plan: Plan, year: int
) -> list[dict[str, object]]:
    in_year = valuation[valuation["year"] == year]
    if in_year.empty:
        return []
    key = in_year["sub_cluster"] + "." + in_year["item"]
    yi = (in_year["value_yuan"] / units.YI).groupby(key, sort=False).sum().to_dict()
    outside = in_year["basis"] != BASIS_SIMULATED
    ex = (in_year["value_yuan"].where(outside, 0.0) / units.YI).groupby(key, sort=False).sum()
    ex_yi = ex.to_dict()
    bases: dict[str, list[str]] = {}
    for k, drv, out in zip(key, in_year["driver"], outside, strict=True):
        bases.setdefault(k, []).append(
            EXOGENOUS_BASIS if out else _driver_basis(table, str(drv), year)
        )
    basis = {k: _combined(v) for k, v in bases.items()}
    rows = []
    layout = _value_layout()
    chosen = _targets_of(plan, year)[: len(layout)]
    for (_, sc, item, keys, how), got in zip(layout, chosen, strict=True):
        if got is not None:
            simulated, exogenous = _combine(yi, keys, how), _combine(ex_yi, keys, how)
            why = _combined([basis[k] for k in keys])
            rows.append(_row(year, sc, item, simulated, got[0], got[1], exogenous, why))
    return rows


# Physical targets: plan id → simulated figure in base units (m3, t, kWh, MW, count,
# fraction, m3/d) from the results of one year.
_Reader = Callable[[AnnualTable, int], float]


def _series(entity: str, quantity: str) -> _Reader:
    return lambda t, y: float(t.get(entity, quantity, [y])[0])


def _sum(*readers: _Reader) -> _Reader:
    return lambda r, y: sum(f(r, y) for f in readers)


def _per_day(reader: _Reader) -> _Reader:
    # Annual capacity volumes over the days of the year → a rate in m3/d (the base of 亿m3/yr).
    return lambda r, y: reader(r, y) / (366.0 if calendar.isleap(y) else 365.0)


def _ratio(num: _Reader, den: _Reader) -> _Reader:
    """``num / den`` of a year; 0 when nothing is there to divide by (no mine gas drained
    utilises none of it: a rate of 0 against its target, never a NaN in targets.csv)."""

    def read(r: AnnualTable, y: int) -> float:
        d = den(r, y)
        return num(r, y) / d if d > 0 else 0.0

    return read


_SURFACE = _series("surface", "production")
_DRAINAGE = _series("mine_gas", "drainage")
_Basis = Callable[[AnnualTable, int], str]


def _fixed(basis: str) -> _Basis:
    return lambda t, y: basis


PHYSICAL_BASIS: Final[dict[str, _Basis]] = {
    "production.underground": _fixed(INPUT),  # mine_gas.drainage_1e8_m3_per_year
    "minegas.utilisation_rate": _fixed(INPUT),  # mine_gas.usable_share (plants never bind)
    "lng.plants": _fixed(INPUT),
    "cng.stations": _fixed(INPUT),
    "pipeline.capacity": _fixed(INPUT),
    "storage.project_capacity": _fixed(INPUT),
    "local_use.residential": _delivered_in_full("residential"),
    "local_use.commercial": _delivered_in_full("commercial"),
    "local_use.chemicals": _delivered_in_full("chemicals"),
    "power.capacity": _fixed(INPUT),
    "power.plants": _fixed(INPUT),
    "minegas.heating_gas": _fixed(INPUT),  # mine_gas.heating_gas_1e8_m3_per_year, served first
}
"""Physical targets whose simulated figure is (or may be) a scenario input; any other is
``computed``."""

PHYSICAL: Final[dict[str, tuple[_Reader, str]]] = {
    "production.total": (_sum(_SURFACE, _DRAINAGE), "surface.production + mine_gas.drainage"),
    "production.surface": (_SURFACE, "surface.production"),
    "production.underground": (_DRAINAGE, "mine_gas.drainage"),
    "minegas.utilisation_rate": (
        _ratio(_series("mine_gas", "utilised"), _DRAINAGE),
        "mine_gas.utilised / mine_gas.drainage",
    ),
    "lng.output": (_series("lng", "output"), "lng.output"),
    "lng.plants": (_series("lng", "plants"), "lng.plants (year end)"),
    "cng.gas": (_series("cng", "feed_gas"), "cng.feed_gas"),
    "cng.stations": (_series("cng", "stations"), "cng.stations (year end)"),
    "pipeline.capacity": (
        _per_day(_series("pipeline", "capacity")),
        "pipeline.capacity over the year",
    ),
    "pipeline.exports": (_series("pipeline", "exports"), "pipeline.exports"),
    "storage.project_capacity": (
        _series("storage", "storage_capacity"),
        "storage.storage_capacity at year end: all sites, incl. the 2021 ones (0.47亿m3)",
    ),
    "local_use.residential": (_series("demand:residential", "delivered"), "delivered"),
    "local_use.commercial": (_series("demand:commercial", "delivered"), "delivered"),
    "local_use.chemicals": (_series("demand:chemicals", "delivered"), "delivered"),
    "power.generation": (_series("mine_power", "electricity"), "mine_power.electricity"),
    "power.gas": (_series("mine_power", "gas_used"), "mine_power.gas_used"),
    "power.capacity": (_series("mine_power", "capacity_mw"), "mine_power.capacity_mw"),
    "power.plants": (_series("mine_power", "plants"), "mine_power.plants (year end)"),
    "minegas.heating_gas": (_series("mine_heating", "gas_used"), "mine_heating.gas_used"),
}
"""Physical targets checked: plan id → (reader of the simulated base value, what it reads)."""


def _physical_figures(
    table: AnnualTable, plan: Plan, year: int
) -> list[tuple[str, str, float, Figure, str]]:
    """(plan id, what is read, simulated figure in the target's unit, target, note) of every
    physical target the plan states for ``year``."""
    chosen = _targets_of(plan, year)[len(_value_layout()) :]
    return [
        (id, what, units.from_base(reader(table, year), got[0].unit), got[0], got[1])
        for (id, (reader, what)), got in zip(PHYSICAL.items(), chosen, strict=True)
        if got is not None
    ]


def _physical_rows(table: AnnualTable, plan: Plan, year: int) -> list[dict[str, object]]:
    rows = []
    for id, what, simulated, fig, note in _physical_figures(table, plan, year):
        basis = PHYSICAL_BASIS.get(id, _fixed(COMPUTED))(table, year)
        rows.append(
            _row(
                year,
                "physical",
                id,
                simulated,
                fig,
                "; ".join(filter(None, [what, note])),
                basis=basis,
            )
        )
    return rows


StatusRow = tuple[int, str, str, str, float, float, str]
"""``(year, sub_cluster, item, status, simulated, target, unit)`` of a target-check row."""


def statuses(
    terms: Terms,
    table: AnnualTable,
    plan: Plan | None = None,
    years: tuple[int, ...] = TARGET_YEARS,
) -> list[StatusRow]:
    """The verdicts of :func:`check_targets` without its frames: what a study member keeps.

    The rows of :func:`check_targets` (same order, same numbers bit for bit) reduced to
    ``year, sub_cluster, item, status, simulated, target, unit``, from the valuation's terms
    (:func:`cbm_sim.economics.valuation.value_terms`) and the run's annual table. An item's
    terms are summed by pandas on integer codes of the valuation frame's row order, as
    grouping that frame by item does (pandas picks its summation from the values and the
    groups' order, so it is left to choose here too); totals add the items as the check does.

    Parameters
    ----------
    terms
        The run's valuation terms.
    table
        The run's :class:`~cbm_sim.economics.drivers.AnnualTable`.
    plan
        Plan data; default the packaged plan.
    years
        Years checked (those the run does not cover are left out).
    """
    plan = plan if plan is not None else load_plan()
    keys = [f"{sc}.{item}" for sc, item in zip(terms.sub_cluster, terms.item, strict=True)]
    names = list(dict.fromkeys(keys))
    where = {k: j for j, k in enumerate(names)}
    code = np.array([where[k] for k in keys], dtype=np.int64)
    covered = terms.years.tolist()
    out: list[StatusRow] = []
    for year in years:
        if year not in covered:
            continue
        in_year = terms.value_yuan[:, covered.index(year)] / units.YI
        sums = pd.Series(in_year).groupby(code).sum().tolist()
        yi = dict(zip(names, sums, strict=True))
        layout = _value_layout()
        chosen = _targets_of(plan, year)[: len(layout)]
        for (_, sc, item, keys_of, how), got in zip(layout, chosen, strict=True):
            if got is not None:
                simulated = _combine(yi, keys_of, how)
                fig = got[0]
                verdict = status(simulated, float(fig.value), fig.comparator)
                out.append((year, sc, item, verdict, simulated, float(fig.value), fig.unit))
        for id, _, simulated, fig, _ in _physical_figures(table, plan, year):
            verdict = status(simulated, float(fig.value), fig.comparator)
            out.append((year, "physical", id, verdict, simulated, float(fig.value), fig.unit))
    return out


def check_targets(
    results: Results,
    valuation: pd.DataFrame | None = None,
    plan: Plan | None = None,
    years: tuple[int, ...] = TARGET_YEARS,
    table: AnnualTable | None = None,
) -> pd.DataFrame:
    """Simulated figures against the plan's targets for ``years`` (default 2025 and 2030).

    Parameters
    ----------
    results
        A run covering ``years`` (years it does not cover are left out).
    valuation
        The frame of :func:`cbm_sim.economics.valuation.value`; computed from ``results``
        if omitted.
    plan
        Plan data; default the packaged plan.
    table
        The run's :class:`~cbm_sim.economics.drivers.AnnualTable` if already made.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TARGET_COLUMNS`. Output-value rows are in 亿元 with ``sub_cluster`` one
        of the eight (``item == "total"`` for the sub-cluster) or ``"total"`` for the cluster;
        physical rows have ``sub_cluster == "physical"``, ``item`` the plan id, and values in
        the plan's stated unit (``unit``). See the module docstring for ``status``.
    """
    plan = plan if plan is not None else load_plan()
    valuation = valuation if valuation is not None else value(results)
    covered = {int(y) for y in results.annual["year"].unique()}
    # one grouping of the annual frame for every reading
    table = table if table is not None else AnnualTable(results)
    rows: list[dict[str, object]] = []
    for year in years:
        if year not in covered:
            continue
        rows += _value_rows(valuation, table, plan, year)
        rows += _physical_rows(table, plan, year)
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
