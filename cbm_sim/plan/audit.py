"""The plan's internal consistency, computed from the packaged plan data.

:func:`audit` returns one row per finding. Every number in it is computed from the records of
``cbm_sim/data/plan.yaml`` (their values, ``part_of``, ``formula``, ``driver``,
``context_year``) and, where the plan states no figure, from a named assumption (a price of
``cbm_sim/data/valuation.yaml``, a physical constant of :mod:`cbm_sim.units`); the ``detail``
sentences, with their arithmetic, are generated from those numbers, and ``phrases`` holds the
plan phrases each finding rests on.

Severities (:data:`SEVERITIES`), most serious first:

``error``
    The plan contradicts itself or physics: one figure stated twice with two values, a
    figure printed under the wrong year, gas uses that exceed the supply, a conversion
    ratio beyond the physical one.
``inconsistency``
    Figures that should agree disagree beyond the rounding of the stated figure.
``rounding``
    Figures that should agree differ within the stated precision (half a unit of the last
    printed digit; for figures stated as approximate, 约, within :data:`APPROX_PRECISION`).
``note``
    A derived figure worth a planner's eye (gas left unexplained, a unit value that moves
    more than :data:`UNIT_VALUE_DRIFT`, capacity far from its use, a plan-period gap).
``ok``
    The figures agree (to the printed precision where a share or ratio is rounded).

``status`` is the coarse three-valued view of the severity kept for ``--status``
(:data:`STATUS_OF_SEVERITY`): ``discrepancy`` = error or inconsistency, ``info`` = note,
``ok`` = rounding or ok.

Checks (:data:`CHECKS`):

``sum``
    Parts (records whose ``part_of`` names a parent) against the stated parent, per year,
    once with the ``summary`` and once with the ``detail`` statement of each part where these
    differ; where parts are themselves split, also the leaf items.
``formula``
    Stated shares and ratios against their definition (``formula``), within the rounding of
    the stated value (half a unit of its last printed digit), respecting ``min``/``max``.
``unit_value``
    Value over volume for every record with a ``driver`` (元/m³, 元/t, 元/kWh, m³/t, …) and its
    change from the previous year of the same series; two different unit values for one
    series and year are an inconsistency unless explained (:data:`EXPLAINED_SPREADS`).
``balance``
    Gas supply against the sum of stated uses and conversions, per year, for the surface
    gas, the coal-mine gas and the total. A use stated only as a ceiling (the export cap,
    控制在…以内) is a constraint, not a use: it is compared with what is left.
``value_balance``
    The same balances with the sectors the plan states only by value (industry, transport
    in 2025 and 2030) turned into volumes at an assumed price (named), with the break-even
    price at which the uses would fit the supply.
``services``
    Production-service and equipment value against the surface gas volume (value per m³
    from one target year to the next) and the wells the drilling value pays for.
``physical``
    Conversion ratios against physics: gas per m³ of LNG tank
    (:data:`cbm_sim.units.LNG_GAS_M3_PER_LIQUID_M3`), feed gas per tonne of LNG against the
    gas a tonne of methane holds.
``capacity``
    Utilisation of stated infrastructure (pipeline, CNG, LNG) by the stated flow or cap.
``storage_base``
    The storage needs (3 days of use, 5 % of annual use) turned back into the annual use they
    imply, against each other and against the stated local use.
``duplicate``
    Every id stated more than once for one year: equal point values (bounds satisfied) are
    ``ok``, anything else an error.
``year_context``
    Figures whose printed year contradicts their context (``context_year``), and targets
    beyond the plan horizon.
``coverage``
    Parts stated for one target year but not for another (e.g. carbon trading).

The gas-chain structure (what is a supply, what a use) is the :data:`BALANCES` table below;
the LNG feed-gas ratio used to turn tonnes of LNG into feed gas is computed from the data.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from cbm_sim import units
from cbm_sim.plan.figures import Figure, Plan, PlanDataError, expression_ids, load_plan, preferred
from cbm_sim.plan.packaged import read_packaged

__all__ = [
    "APPROX_PRECISION",
    "BALANCES",
    "CAPACITIES",
    "CHECKS",
    "COLUMNS",
    "EXPLAINED_SPREADS",
    "SEVERITIES",
    "STATUS_OF_SEVERITY",
    "UNIT_VALUE_DRIFT",
    "Balance",
    "audit",
]

COLUMNS: tuple[str, ...] = (
    "check",
    "ref",
    "subject",
    "year",
    "stated",
    "computed",
    "difference",
    "unit",
    "severity",
    "status",
    "detail",
    "phrases",
    "basis",
)
CHECKS: tuple[str, ...] = (
    "sum",
    "formula",
    "unit_value",
    "balance",
    "value_balance",
    "services",
    "physical",
    "capacity",
    "storage_base",
    "duplicate",
    "year_context",
    "coverage",
)
SEVERITIES: tuple[str, ...] = ("error", "inconsistency", "rounding", "note", "ok")
"""Severities, most serious first (see the module docstring)."""
STATUS_OF_SEVERITY: Final[dict[str, str]] = {
    "error": "discrepancy",
    "inconsistency": "discrepancy",
    "rounding": "ok",
    "note": "info",
    "ok": "ok",
}
"""The coarse ``status`` of each severity (``cbm-sim plan audit --status``)."""

_EXACT = 1e-9  # relative tolerance for "adds up exactly" (float noise only)
_SAME_UNIT_VALUE = 1e-3  # relative spread above which two unit values of a series differ
_PHRASE_SEP = " ｜ "

APPROX_PRECISION: Final[float] = 0.01
"""Relative precision of figures the plan states as approximate (约): assumption, such
figures are round numbers (3770, 618) and two of them agreeing within 1 % agree to their
precision."""
UNIT_VALUE_DRIFT: Final[float] = 0.20
"""Change of a unit value from one stated year to the next above which it is a ``note``:
assumption, ≈4 %/yr of price drift over the plan's 4-5-year steps (CPI ≈2 %/yr plus mix)."""
_UNEXPLAINED_SHARE: Final[float] = 0.05
# Share of supply a balance may leave unexplained before it is a note: assumption, field
# own use, gathering and processing losses of a CBM field are a few per cent of output.
_SERVICES_FACTOR: Final[float] = 2.0
# Change of service value per m³ of gas (target year to target year) beyond which value and
# volume disagree: assumption, price drift (≈1.1 over 5 years) or a shift to horizontal wells
# cannot double the drilling spend per m³ while output falls.
_PHYSICAL_TOLERANCE: Final[float] = 0.15
# Relative deviation from the LNG expansion ratio (≈600) beyond which a stated tank capacity
# is physically impossible: assumption, LNG of 420-470 kg/m³ and gas metered at 0 °C or 20 °C
# span ≈585-≈633 m³/m³ (units.LNG_GAS_M3_PER_LIQUID_M3), well inside 600 ± 15 %.
_CH4_KG_PER_M3_20C: Final[float] = 16.043 / 24.055
# Public: methane, 16.043 g/mol, over the ideal-gas molar volume at 20 °C and 101.325 kPa
# (8.314 × 293.15 / 101.325 = 24.055 L/mol), China's gas-metering reference condition:
# 0.667 kg/m³, so a tonne of methane is ≈1,499 m³ of gas.
_UTILISATION_LOW: Final[float] = 0.5
# Assumption: gas infrastructure is sized for peaks, but winter peak over annual mean is ≈1.5-2
# for city gas; a facility used below half its capacity on average is worth a look.
_UTILISATION_HIGH: Final[float] = 0.9
# Assumption: above 90 % of capacity a facility has no headroom for outages and peaks.


@dataclass(frozen=True)
class Balance:
    """One gas balance: a supply against the uses it should cover (ids of the plan data)."""

    name: str
    supply: str
    uses: tuple[str, ...]


_SURFACE_USES = ("local_use.total", "cng.gas", "lng.feed_gas", "pipeline.exports")
BALANCES: tuple[Balance, ...] = (
    Balance("surface gas", "production.surface", _SURFACE_USES),
    Balance("coal-mine gas", "production.underground", ("minegas.utilised",)),
    Balance("mine-gas utilisation", "minegas.utilised", ("power.gas", "minegas.heating_gas")),
    Balance("total gas", "production.total", (*_SURFACE_USES, "minegas.utilised")),
)
"""Supply and uses per balance. A use not stated for a year is replaced by its stated parts
(``part_of``), LNG feed gas by LNG output × the data's own m³/t, mine-gas utilisation by
power + heating gas. A use stated only as a ceiling (``comparator: max``) is a cap."""

VALUE_ONLY_PARENT: Final[str] = "output.utilisation"
"""Sales values whose sector ``output.utilisation.<s>`` has a volume id ``local_use.<s>``; a
sector with a value but no volume in a year is priced at ``<s>_price_yuan_per_m3`` of
``cbm_sim/data/valuation.yaml`` (check ``value_balance``)."""

CAPACITIES: tuple[tuple[str, str, str], ...] = (
    ("outbound pipeline", "pipeline.capacity", "pipeline.exports"),
    ("CNG compression", "cng.capacity", "cng.gas"),
    ("LNG liquefaction", "lng.capacity", "lng.output"),
)
"""(name, capacity id, flow id) for the ``capacity`` check; the capacity of a year is the
latest one stated up to that year."""

EXPLAINED_SPREADS: Final[dict[str, tuple[float, str]]] = {
    "lng_feed_m3_per_t": (
        0.02,
        "the plant-capacity pair (t/d ↔ m³/d) and the annual output and gas used need not "
        "give one ratio: the annual gas used includes the plants' own fuel, start-ups and "
        "losses, which move by about 1 % of feed (see check physical)",
    ),
}
"""Series whose two unit values for one year may differ by up to the given relative spread
for the stated reason (a ``note``, not an inconsistency)."""

_STORAGE_RULES: tuple[tuple[str, str, str], ...] = (
    ("storage.need_3day", "storage.need_3day * 365 / (storage.rule_days@2020)", "3 days"),
    ("storage.need_5pct", "storage.need_5pct / (storage.rule_city_gas_share@2020)", "5 %"),
)
# Each storage need turned back into the annual use it implies (365 days: the rule's 日均).


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    return f"{x:.6g}"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.3g} %"


def _half_unit(value: float) -> float:
    """Half a unit of the last printed digit of ``value`` (its rounding tolerance)."""
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0
    return 0.5 * 10.0**-decimals


def _short(fig: Figure) -> str:
    return f"{fig.id} {_fmt(fig.value)} {fig.unit}"


def _refs(figs: Iterable[Figure]) -> str:
    return "; ".join(dict.fromkeys(f.ref for f in figs))


def _phrases(figs: Iterable[Figure]) -> str:
    return _PHRASE_SEP.join(dict.fromkeys(f.phrase for f in figs))


def _row(
    check: str,
    figs: Iterable[Figure],
    subject: str,
    year: int,
    severity: str,
    basis: str = "",
    **kw: object,
) -> dict:
    """One finding: ``figs`` are every plan figure it rests on (refs and phrases)."""
    figs = list(figs)
    row = dict.fromkeys(COLUMNS, np.nan) | {
        "check": check,
        "ref": _refs(figs),
        "subject": subject,
        "year": year,
        "severity": severity,
        "status": STATUS_OF_SEVERITY[severity],
        "phrases": _phrases(figs),
        "basis": basis,
    }
    row.update(kw)
    return row


def _terms(plan: Plan, expr: str, year: int) -> list[Figure]:
    """The figures an expression refers to for ``year`` (those stated)."""
    found = []
    for name, pinned in expression_ids(expr):
        fig = _pick(plan, name, pinned if pinned is not None else year)
        if fig is not None:
            found.append(fig)
    return found


def _pick(plan: Plan, id: str, year: int, statement: str | None = None) -> Figure | None:
    figs = plan.records(id, year)
    if not figs:
        return None
    if statement is not None:
        figs = [f for f in figs if f.statement == statement] or figs
    return preferred(figs)[0]


# ------------------------------------------------------------------ sums


def _children(plan: Plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for fig in plan.figures:
        if fig.part_of and fig.id not in out[fig.part_of]:
            out[fig.part_of].append(fig.id)
    return out


def _parts(
    plan: Plan, kids: dict[str, list[str]], parent: str, year: int, variant: str, leaves: bool
) -> list[Figure]:
    parts = []
    for child in kids.get(parent, []):
        stated_grandkids = [g for g in kids.get(child, []) if plan.has(g, year)]
        if leaves and stated_grandkids:
            parts.extend(_parts(plan, kids, child, year, variant, leaves))
            continue
        fig = _pick(plan, child, year, variant)
        if fig is not None:
            parts.append(fig)
    return parts


def _sum_checks(plan: Plan) -> list[dict]:
    rows = []
    kids = _children(plan)
    for parent, children in kids.items():
        years = sorted({y for c in children for y in plan.years(c)})
        for year in years:
            if not plan.has(parent, year):
                continue
            nested = any(plan.has(g, year) for c in children for g in kids.get(c, []))
            seen: set[tuple] = set()
            for leaves in (False, True) if nested else (False,):
                for variant in ("summary", "detail"):
                    total = _pick(plan, parent, year, variant)
                    parts = _parts(plan, kids, parent, year, variant, leaves)
                    key = (total.value, tuple((p.id, p.value) for p in parts))
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append(_sum_row(total, parts, year, variant, leaves))
            # Label the rows by statement only where the statements give different sums.
            mine = [r for r in rows if r["_group"] == (parent, year)]
            for r in mine:
                if len([m for m in mine if m["_leaves"] == r["_leaves"]]) == 1:
                    r["subject"] = r["subject"].replace(r["_variant_label"], "")
    for r in rows:
        for k in ("_group", "_leaves", "_variant_label"):
            r.pop(k)
    return rows


def _sum_row(total: Figure, parts: list[Figure], year: int, variant: str, leaves: bool) -> dict:
    computed_base = sum(p.base_value for p in parts)
    computed = units.from_base(computed_base, total.unit)
    diff = computed - total.value
    ok = abs(diff) <= _EXACT * max(1.0, abs(total.value))
    tol = _half_unit(total.value)
    what = "leaf items" if leaves else "parts"
    label = f" ({variant} statements)"
    terms = " + ".join(f"{_fmt(p.value)} ({p.id.removeprefix(total.id + '.')})" for p in parts)
    within = abs(diff) <= tol + 1e-12
    if ok:
        verdict, severity = "they add up exactly", "ok"
    else:
        verdict = (
            f"difference {_fmt(diff)} {total.unit}, {'within' if within else 'beyond'} the "
            f"rounding of the stated total (±{_fmt(tol)})"
        )
        severity = "rounding" if within else "inconsistency"
    detail = (
        f"{total.id} {year} is stated as {_fmt(total.value)} {total.unit} ({total.ref}); its "
        f"{len(parts)} {what} sum to {terms} = {_fmt(computed)}; {verdict}."
    )
    row = _row(
        "sum",
        [total, *parts],
        f"{total.id} = Σ {what}{label}",
        year,
        severity,
        stated=float(total.value),
        computed=computed,
        difference=diff,
        unit=total.unit,
        detail=detail,
    )
    row.update(_group=(total.id, year), _leaves=leaves, _variant_label=label)
    return row


# ------------------------------------------------------------------ formulas


def _describe_terms(plan: Plan, expr: str, year: int) -> str:
    shown = []
    for name, pinned in expression_ids(expr):
        fig = _pick(plan, name, pinned if pinned is not None else year)
        if fig is not None:
            shown.append(f"{_short(fig)} ({fig.effective_year})")
    return ", ".join(dict.fromkeys(shown))


def _formula_checks(plan: Plan) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for fig in plan.figures:
        if not fig.formula:
            continue
        year = fig.effective_year
        key = (fig.id, year, fig.value, fig.formula)
        if key in rows:
            rows[key]["ref"] = _refs_join(rows[key]["ref"], fig.ref)
            rows[key]["phrases"] = _refs_join(rows[key]["phrases"], fig.phrase, _PHRASE_SEP)
            continue
        try:
            computed = units.from_base(plan.evaluate(fig.formula, year), fig.unit)
        except PlanDataError as exc:
            rows[key] = _row(
                "formula", [fig], fig.id, year, "note", stated=float(fig.value), unit=fig.unit,
                detail=f"{fig.id} {year}: {fig.formula} cannot be evaluated: {exc}.",
            )  # fmt: skip
            continue
        tol = _half_unit(fig.value)
        diff = computed - fig.value
        if fig.comparator == "min":
            ok, claim = computed >= fig.value - tol, f"at least {_fmt(fig.value)}"
        elif fig.comparator == "max":
            ok, claim = computed <= fig.value + tol, f"at most {_fmt(fig.value)}"
        else:
            ok, claim = abs(diff) <= tol + 1e-12, _fmt(fig.value)
        verdict = (
            "consistent within the rounding of the stated value"
            if ok
            else f"off by {_fmt(diff)} {fig.unit} ({_pct(diff / fig.value)} of the stated value)"
        )
        rows[key] = _row(
            "formula",
            [fig, *_terms(plan, fig.formula, year)],
            fig.id,
            year,
            "ok" if ok else "inconsistency",
            stated=float(fig.value),
            computed=computed,
            difference=diff,
            unit=fig.unit,
            detail=(
                f"{fig.id} {year} is stated as {claim} {fig.unit} ({fig.ref}); "
                f"{fig.formula} with {_describe_terms(plan, fig.formula, year)} gives "
                f"{_fmt(computed)} {fig.unit}: {verdict}."
            ),
        )
    return list(rows.values())


def _refs_join(a: str, b: str, sep: str = "; ") -> str:
    return sep.join(dict.fromkeys([*a.split(sep), b]))


# ------------------------------------------------------------------ unit values


def _ratio_unit(num: str, den: str) -> str:
    if num.endswith("/d") and den.endswith("/d"):
        num, den = num[:-2], den[:-2]
    if den == f"{num}/d":
        return "day"
    return f"{num}/{den}"


def _unit_values(plan: Plan) -> list[dict]:
    found: dict[tuple, dict] = {}
    for fig in plan.figures:
        if not fig.driver:
            continue
        year = fig.effective_year
        try:
            volume = plan.evaluate(fig.driver, year)
        except PlanDataError:
            continue  # the driver is not stated for this year: no pair
        first = expression_ids(fig.driver)[0]
        den_fig = _pick(plan, first[0], first[1] or year)
        ratio = fig.base_value / volume
        series = fig.series or fig.driver
        key = (series, year, round(ratio, 9))
        if key in found:
            found[key]["_figs"].append(fig)
            continue
        found[key] = {
            "_figs": [fig, *_terms(plan, fig.driver, year)],
            "series": series,
            "year": year,
            "ratio": ratio,
            "unit": _ratio_unit(fig.base_unit, den_fig.base_unit),
            "pair": f"{_short(fig)} / ({_describe_terms(plan, fig.driver, year)})",
        }
    by_series: dict[str, list[dict]] = defaultdict(list)
    for item in found.values():
        by_series[item["series"]].append(item)
    rows = []
    for series, items in by_series.items():
        items.sort(key=lambda it: (it["year"], it["ratio"]))
        years = sorted({it["year"] for it in items})
        for it in items:
            same_year = [o["ratio"] for o in items if o["year"] == it["year"]]
            spread = (max(same_year) - min(same_year)) / max(abs(min(same_year)), 1e-300)
            earlier = [y for y in years if y < it["year"]]
            prev = [o["ratio"] for o in items if earlier and o["year"] == earlier[-1]]
            text = f"{it['pair']} = {_fmt(it['ratio'])} {it['unit']} in {it['year']}"
            diff = np.nan
            severity = "ok"
            if prev:
                diff = it["ratio"] - prev[0]
                change = diff / prev[0]
                text += f"; {_fmt(prev[0])} in {earlier[-1]}, a change of {_pct(change)}"
                if abs(change) > UNIT_VALUE_DRIFT:
                    severity = "note"
                    text += f", more than the ±{_pct(UNIT_VALUE_DRIFT)} that price drift explains"
            basis = ""
            if spread > _SAME_UNIT_VALUE:
                others = ", ".join(_fmt(r) for r in same_year if r != it["ratio"])
                text += f"; the plan implies {others} {it['unit']} for the same year and series"
                explained = EXPLAINED_SPREADS.get(series)
                if explained is not None and spread <= explained[0]:
                    severity, basis = "note", f"assumption: {explained[1]}"
                    text += f" ({_pct(spread)} apart: {explained[1]})"
                else:
                    severity = "inconsistency"
            rows.append(
                _row(
                    "unit_value",
                    it["_figs"],
                    f"{series} [{it['unit']}]",
                    it["year"],
                    severity,
                    basis,
                    computed=it["ratio"],
                    difference=diff,
                    unit=it["unit"],
                    detail=text + ".",
                )
            )
    return rows


# ------------------------------------------------------------------ balances


def _lng_m3_per_t(plan: Plan) -> tuple[float, int] | None:
    for year in sorted(plan.years("lng.feed_gas"), reverse=True):
        if plan.has("lng.output", year):
            return plan.base("lng.feed_gas", year) / plan.base("lng.output", year), year
    return None


def _resolve(
    plan: Plan, kids: dict[str, list[str]], term: str, year: int, alternatives: bool
) -> tuple[float, list[Figure], str] | None:
    """A balance term's volume [m³] for ``year``, the figures behind it and how it was found."""
    fig = _pick(plan, term, year)
    if fig is not None:
        bound = {"min": " (a floor)", "max": " (a cap)"}.get(fig.comparator, "")
        return fig.base_value, [fig], f"{_short(fig)}{bound}"
    parts = [p for c in kids.get(term, []) if (p := _pick(plan, c, year)) is not None]
    if parts:
        listed = " + ".join(_short(p) for p in parts)
        return sum(p.base_value for p in parts), parts, f"{term} = {listed}"
    if not alternatives:
        return None
    if term == "lng.feed_gas" and (lng := _pick(plan, "lng.output", year)) is not None:
        ratio = _lng_m3_per_t(plan)
        if ratio is not None:
            return (
                lng.base_value * ratio[0],
                [lng],
                f"lng.feed_gas = {_short(lng)} × {_fmt(ratio[0])} m3/t "
                f"(lng.feed_gas / lng.output of {ratio[1]})",
            )
    if term == "minegas.utilised":
        found = [_resolve(plan, kids, t, year, True) for t in ("power.gas", "minegas.heating_gas")]
        found = [f for f in found if f is not None]
        if found:
            listed = " + ".join(f[2] for f in found)
            return (
                sum(f[0] for f in found),
                [g for f in found for g in f[1]],
                f"mine gas used = {listed}",
            )
    return None


@dataclass
class _Terms:
    """The resolved terms of one balance and year (volumes in m³)."""

    supply: tuple[float, list[Figure], str]
    uses: dict[str, tuple[float, list[Figure], str]]
    caps: dict[str, tuple[float, list[Figure], str]]
    missing: list[str]

    @property
    def used(self) -> float:
        return sum(r[0] for r in self.uses.values())

    @property
    def figures(self) -> list[Figure]:
        found = self.supply[1] + [g for r in self.uses.values() for g in r[1]]
        return found + [g for r in self.caps.values() for g in r[1]]


def _is_cap(term: str, resolved: tuple[float, list[Figure], str]) -> bool:
    figs = resolved[1]
    return len(figs) == 1 and figs[0].id == term and figs[0].comparator == "max"


def _balance_terms(
    plan: Plan, kids: dict[str, list[str]], bal: Balance, year: int
) -> _Terms | None:
    supply = _resolve(plan, kids, bal.supply, year, alternatives=False)
    if supply is None:
        return None
    found = {u: _resolve(plan, kids, u, year, alternatives=True) for u in bal.uses}
    stated = {u: r for u, r in found.items() if r is not None}
    if not stated:
        return None
    caps = {u: r for u, r in stated.items() if _is_cap(u, r)}
    uses = {u: r for u, r in stated.items() if u not in caps}
    return _Terms(supply, uses, caps, [u for u in bal.uses if found[u] is None])


def _yi(m3: float) -> str:
    return f"{_fmt(units.from_base(m3, '亿m3'))} 亿m3"


def _headroom(terms: _Terms, left: float) -> tuple[str, float]:
    """Text on the caps against what is left, and the volume left unexplained [m³]."""
    if not terms.caps:
        return "", left
    cap = sum(r[0] for r in terms.caps.values())
    named = " + ".join(f"{r[1][0].id} ≤ {_yi(r[0])}" for r in terms.caps.values())
    if left <= cap:
        return (
            f"; {named} is a ceiling, not a use: exports can take at most the {_yi(left)} "
            "left, so the cap does not bind",
            0.0,
        )
    return (
        f"; {named} is a ceiling, not a use: even with exports at the cap "
        f"{_yi(left - cap)} remains",
        left - cap,
    )


def _balances(plan: Plan) -> list[dict]:
    kids = _children(plan)
    rows = []
    years = sorted({f.effective_year for f in plan.figures if f.kind != "context"})
    for bal in BALANCES:
        for year in years:
            terms = _balance_terms(plan, kids, bal, year)
            if terms is None:
                continue
            supply = terms.supply[0]
            used = terms.used
            left = supply - used
            detail = (
                f"{bal.name} balance {year}: supply {terms.supply[2]}; stated uses "
                + (" + ".join(r[2] for r in terms.uses.values()) or "none")
                + f" = {_yi(used)}; "
            )
            tol = units.to_base(_half_unit(terms.supply[1][0].value), "亿m3")
            if left >= -_EXACT * supply:
                extra, unexplained = _headroom(terms, left)
                detail += f"supply − uses = {_yi(left)}{extra}"
                share = unexplained / supply
                if share > _UNEXPLAINED_SHARE:
                    severity = "note"
                    detail += (
                        f"; {_yi(unexplained)} ({_pct(share)} of supply) is left unexplained "
                        f"(more than {_pct(_UNEXPLAINED_SHARE)})"
                    )
                else:
                    severity = "ok"
            else:
                detail += f"stated uses exceed supply by {_yi(-left)}"
                severity = "rounding" if -left <= tol * 1.000001 else "error"
                if severity == "rounding":
                    detail += " (within the rounding of the stated supply)"
            if terms.missing:
                detail += "; not stated for this year: " + ", ".join(terms.missing)
            rows.append(
                _row(
                    "balance",
                    terms.figures,
                    f"{bal.name} balance",
                    year,
                    severity,
                    stated=units.from_base(supply, "亿m3"),
                    computed=units.from_base(used, "亿m3"),
                    difference=units.from_base(left, "亿m3"),
                    unit="亿m3",
                    detail=detail + ".",
                )
            )
    return rows


# ------------------------------------------------------------------ value-only sectors


def _assumed(field: str, year: int) -> tuple[float, str] | None:
    """A unit value of ``cbm_sim/data/valuation.yaml`` for ``year`` and its source.

    Read from the packaged file itself, not through the valuation (a higher stage): numbers
    are taken as they are, expressions are evaluated on the plan's figures
    (:meth:`Plan.evaluate`), the 2021 calibration entries are skipped, and the path is linear
    between its years and flat outside, as every time path of the model.
    """
    spec = read_packaged("valuation.yaml")["fields"].get(field)
    if spec is None:
        return None
    source = " ".join(str(spec.get("source", "")).split())
    if "value" in spec:
        value = float(spec["value"])
    else:
        plan = load_plan()
        points: dict[int, float] = {}
        for y, entry in spec["path"].items():
            if isinstance(entry, dict):
                continue
            try:
                points[int(y)] = (
                    float(entry) if isinstance(entry, int | float) else plan.evaluate(entry, int(y))
                )
            except (KeyError, ValueError, PlanDataError):
                continue  # an entry defined through other valuation fields: not read here
        if not points:
            return None
        years = sorted(points)
        value = float(np.interp(year, years, [points[y] for y in years]))
    return value, f"valuation.yaml {field} = {_fmt(value)} ({source})"


def _value_only(plan: Plan, year: int) -> list[tuple[Figure, float, str]]:
    """Sectors with a sales value but no volume in ``year``: (value, price 元/m³, source)."""
    found = []
    for child in _children(plan).get(VALUE_ONLY_PARENT, []):
        sector = child.removeprefix(VALUE_ONLY_PARENT + ".")
        volume_id = f"local_use.{sector}"
        value = _pick(plan, child, year)
        if value is None or volume_id not in plan.ids() or plan.has(volume_id, year):
            continue
        price = _assumed(f"{sector}_price_yuan_per_m3", year)
        if price is not None:
            found.append((value, *price))
    return found


def _stated_prices(plan: Plan, year: int) -> dict[str, tuple[float, list[Figure]]]:
    """Sales prices the plan implies in ``year`` (value / volume of a sector) [元/m³]."""
    out = {}
    for child in _children(plan).get(VALUE_ONLY_PARENT, []):
        sector = child.removeprefix(VALUE_ONLY_PARENT + ".")
        value = _pick(plan, child, year)
        volume = _pick(plan, f"local_use.{sector}", year)
        if value is not None and volume is not None:
            out[sector] = (value.base_value / volume.base_value, [value, volume])
    return out


def _value_balances(plan: Plan) -> list[dict]:
    kids = _children(plan)
    rows = []
    years = sorted({f.effective_year for f in plan.figures if f.kind == "target"})
    for year in years:
        priced = _value_only(plan, year)
        if not priced:
            continue
        stated = _stated_prices(plan, year)
        for bal in BALANCES:
            if "local_use.total" not in bal.uses:
                continue
            terms = _balance_terms(plan, kids, bal, year)
            if terms is None:
                continue
            implied = [(fig, fig.base_value / price, price, src) for fig, price, src in priced]
            used = terms.used + sum(v for _, v, _, _ in implied)
            supply = terms.supply[0]
            left = supply - used
            shown = " + ".join(
                f"{fig.id} {_fmt(fig.value)} 亿元 / {_fmt(price)} 元/m3 = {_yi(v)}"
                for fig, v, price, _ in implied
            )
            detail = (
                f"{bal.name} balance {year} with the sectors stated only by value: supply "
                f"{terms.supply[2]}; stated uses "
                + " + ".join(r[2] for r in terms.uses.values())
                + f" = {_yi(terms.used)}; value-only sectors at assumed prices: {shown}; "
                f"all uses {_yi(used)}"
            )
            big = max(implied, key=lambda it: it[1])
            room = supply - (used - big[1])
            breakeven = big[0].base_value / room if room > 0 else math.inf
            top = max(stated.items(), key=lambda kv: kv[1][0], default=None)
            figs = terms.figures + [it[0] for it in implied]
            if left >= -_EXACT * supply:
                severity = "ok"
                extra, _ = _headroom(terms, left)
                detail += f" ≤ supply, leaving {_yi(left)}{extra}"
            else:
                detail += f" exceed supply by {_yi(-left)}"
                if terms.caps:
                    detail += " with no exports at all"
                detail += (
                    f"; the uses fit only if {big[0].id} sells at ≥ {_fmt(breakeven)} 元/m3 "
                    f"(break-even: {_fmt(big[0].value)} 亿元 / {_yi(room)} left for it)"
                )
                severity = "inconsistency"
                if top is not None:
                    figs += top[1][1]
                    detail += (
                        f"; the highest sales price the plan itself implies for {year} is "
                        f"{_fmt(top[1][0])} 元/m3 ({top[0]}: {top[1][1][0].id} / "
                        f"{top[1][1][1].id})"
                    )
                    if breakeven > top[1][0]:
                        severity = "error"
                        detail += ", below the break-even price"
            rows.append(
                _row(
                    "value_balance",
                    figs,
                    f"{bal.name} balance incl. value-only sectors",
                    year,
                    severity,
                    "; ".join(src for _, _, _, src in implied),
                    stated=units.from_base(supply, "亿m3"),
                    computed=units.from_base(used, "亿m3"),
                    difference=units.from_base(left, "亿m3"),
                    unit="亿m3",
                    detail=detail + ".",
                )
            )
    return rows


# ------------------------------------------------------------------ services against volumes


def _services(plan: Plan) -> list[dict]:
    rows = []
    kids = _children(plan)
    years = sorted(
        y
        for y in plan.years("output.services.drilling_fracturing")
        if plan.has("production.surface", y)
    )
    volume = "production.surface"
    for y0, y1 in itertools.pairwise(years):
        p0, p1 = _pick(plan, volume, y0), _pick(plan, volume, y1)
        g_vol = p1.base_value / p0.base_value
        for parent in ("output.services", "output.equipment"):
            v0, v1 = _pick(plan, parent, y0), _pick(plan, parent, y1)
            if v0 is None or v1 is None:
                continue
            g_val = v1.base_value / v0.base_value
            per0, per1 = v0.base_value / p0.base_value, v1.base_value / p1.base_value
            factor = per1 / per0
            items = []
            figs = [v0, v1, p0, p1]
            for child in kids.get(parent, []):
                c0, c1 = _pick(plan, child, y0), _pick(plan, child, y1)
                if c0 is not None and c1 is not None:
                    figs += [c0, c1]
                    items.append(
                        f"{child.removeprefix(parent + '.')} {_fmt(c0.value)} → "
                        f"{_fmt(c1.value)} (×{c1.base_value / c0.base_value:.2f})"
                    )
            detail = (
                f"{volume} {_fmt(p0.value)} → {_fmt(p1.value)} 亿m3 ({y0} → {y1}, "
                f"×{g_vol:.3f}) while {parent} {_fmt(v0.value)} → {_fmt(v1.value)} 亿元 "
                f"(×{g_val:.2f}): {_fmt(per0)} → {_fmt(per1)} 元 per m3 of surface gas, "
                f"×{factor:.2f}; items: " + ", ".join(items)
            )
            if factor > _SERVICES_FACTOR and g_val > 1 > g_vol:
                severity = "inconsistency"
                detail += (
                    f"; service value per m3 more than ×{_fmt(_SERVICES_FACTOR)} while output "
                    "falls: the plan's drilling and equipment do not follow its volumes"
                )
            elif abs(math.log(factor)) > math.log1p(UNIT_VALUE_DRIFT):
                severity = "note"
            else:
                severity = "ok"
            rows.append(
                _row(
                    "services",
                    figs,
                    f"{parent} per m3 of {volume}",
                    y1,
                    severity,
                    f"assumption: a change of value per m3 beyond ×{_fmt(_SERVICES_FACTOR)} "
                    "in one plan step is not price drift",
                    stated=per0,
                    computed=per1,
                    difference=per1 - per0,
                    unit="元/m3",
                    detail=detail + ".",
                )
            )
        rows.extend(_wells_row(plan, years, p0, p1))
    return rows


def _wells_row(plan: Plan, years: list[int], p0: Figure, p1: Figure) -> list[dict]:
    """Wells the drilling & fracturing value pays for, against the history of drilling."""
    item = "output.services.drilling_fracturing"
    cost = _assumed("drilling_fracturing_yuan_per_well_eq", years[-1])
    h = _assumed("horizontal_well_equivalent", years[-1])
    needed = ("wells.vertical", "wells.horizontal", "capacity.surface")
    if cost is None or h is None or not all(plan.has(i, 2021) for i in needed):
        return []
    start = _pick(plan, "history.surface_development.start", 2003)
    vert, hor = _pick(plan, "wells.vertical", 2021), _pick(plan, "wells.horizontal", 2021)
    cap = _pick(plan, "capacity.surface", 2021)
    if start is None:
        return []
    eq = vert.value + h[0] * hor.value
    per_year = eq / (2021 - start.value)
    cap_per_eq = cap.base_value * units.DAYS_PER_YEAR / eq  # m³/yr per well-equivalent
    figs = [start, vert, hor, cap, p0, p1]
    implied = []
    for year in years:
        fig = _pick(plan, item, year)
        figs.append(fig)
        implied.append((year, fig, fig.base_value / cost[0]))
    last = implied[-1]
    new_cap = last[2] * cap_per_eq
    detail = (
        f"{item} "
        + ", ".join(f"{_fmt(f.value)} 亿元 ({y}) pays for ≈{n:,.0f}" for y, f, n in implied)
        + f" vertical-well equivalents a year at {_fmt(cost[0] / 1e4)} 万元 each; from "
        f"{_fmt(start.value)} to 2021 the city drilled {_fmt(vert.value)} vertical + "
        f"{_fmt(h[0])} × {_fmt(hor.value)} horizontal = {eq:,.0f} equivalents, ≈"
        f"{per_year:,.0f} a year (×{last[2] / per_year:.1f} in {last[0]}); at the 2021 "
        f"capacity per equivalent ({_fmt(cap.value)} 亿m3/yr / {eq:,.0f} = "
        f"{_fmt(cap_per_eq / 1e4)} 万m3/yr) the {last[0]} wells add ≈{_yi(new_cap)}/yr of "
        f"capacity, {_pct(new_cap / p1.base_value)} of that year's {p1.id} "
        f"{_fmt(p1.value)} 亿m3, while it falls from {_fmt(p0.value)} 亿m3"
    )
    return [
        _row(
            "services",
            figs,
            f"wells paid by {item}",
            last[0],
            "note",
            f"{cost[1]}; {h[1]}",
            stated=per_year,
            computed=last[2],
            difference=last[2] - per_year,
            unit="wells/yr",
            detail=detail + ".",
        )
    ]


# ------------------------------------------------------------------ physics


def _physical(plan: Plan) -> list[dict]:
    rows: list[dict] = []
    ref = units.LNG_GAS_M3_PER_LIQUID_M3
    seen: dict[tuple, dict] = {}
    pairs = (
        ("storage.capacity", "storage.tank_volume"),
        ("storage.project_capacity", "storage.project_tank_volume * storage.project_tanks"),
    )
    for gas_id, tank_expr in pairs:
        for year in plan.years(gas_id):
            gas = _pick(plan, gas_id, year)
            try:
                liquid = plan.evaluate(tank_expr, year)
            except PlanDataError:
                continue
            tanks = _terms(plan, tank_expr, year)
            key = (gas_id, gas.value, tuple(t.value for t in tanks))
            if key in seen:
                seen[key]["detail"] = seen[key]["detail"][:-1] + f"; also encoded for {year}."
                continue
            ratio = gas.base_value / liquid
            off = ratio / ref - 1
            severity = "error" if abs(off) > _PHYSICAL_TOLERANCE else "ok"
            shown = " × ".join(f"{_fmt(t.value)} {t.unit}" for t in tanks)
            detail = (
                f"LNG storage {year}: {gas.id} {_fmt(gas.value)} {gas.unit} of gas in {shown} "
                f"of tank = {_fmt(ratio)} m3 of gas per m3 of LNG, {_pct(off)} from the "
                f"physical ≈{_fmt(ref)} (LNG expansion ratio)"
            )
            if severity == "error":
                detail += (
                    f", beyond ±{_pct(_PHYSICAL_TOLERANCE)}: the tanks cannot hold that much "
                    f"gas; at {_fmt(ref)} they hold {_yi(liquid * ref)}, or "
                    f"{_yi(gas.base_value)} needs {_fmt(gas.base_value / ref / 1e4)} 万m3 of tank"
                )
            seen[key] = _row(
                "physical",
                [gas, *tanks],
                f"{gas_id} per m3 of LNG tank",
                year,
                severity,
                "public: units.LNG_GAS_M3_PER_LIQUID_M3 (LNG ≈1/600 of the gas volume)",
                stated=ratio,
                computed=ref,
                difference=ratio - ref,
                unit="m3/m3",
                detail=detail + ".",
            )
            rows.append(seen[key])
    content = 1000.0 / _CH4_KG_PER_M3_20C  # m³ of methane gas in a tonne
    for gas_id, lng_id in (("lng.feed_gas", "lng.output"), ("lng.capacity_gas", "lng.capacity")):
        for year in plan.years(gas_id):
            gas, lng = _pick(plan, gas_id, year), _pick(plan, lng_id, year)
            if lng is None:
                continue
            ratio = gas.base_value / lng.base_value
            used = 1 - content / ratio
            severity = "error" if ratio < content else "ok"
            detail = (
                f"{gas.id} / {lng.id} {year} = {_fmt(gas.value)} {gas.unit} / "
                f"{_fmt(lng.value)} {lng.unit} = {_fmt(ratio)} m3 of feed gas per t of LNG; a "
                f"tonne of methane is {_fmt(content)} m3 of gas at 20 °C, so "
                f"{_pct(used)} of the feed is plant fuel and losses"
            )
            if severity == "error":
                detail += ": less gas than the LNG made holds"
            rows.append(
                _row(
                    "physical",
                    [gas, lng],
                    f"{gas_id} per t of LNG",
                    year,
                    severity,
                    "public: methane 16.043 g/mol over 24.055 L/mol (ideal gas, 20 °C, "
                    "101.325 kPa) = 0.667 kg/m3",
                    stated=ratio,
                    computed=content,
                    difference=ratio - content,
                    unit="m3/t",
                    detail=detail + ".",
                )
            )
    return rows


# ------------------------------------------------------------------ capacity utilisation


def _capacities(plan: Plan) -> list[dict]:
    rows = []
    for name, cap_id, flow_id in CAPACITIES:
        cap_years = plan.years(cap_id)
        for year in plan.years(flow_id):
            flow = _pick(plan, flow_id, year)
            earlier = [y for y in cap_years if y <= year]
            if flow is None or not earlier:
                continue
            cap = _pick(plan, cap_id, earlier[-1])
            annual = cap.base_value * units.DAYS_PER_YEAR
            use = flow.base_value / annual
            bound = "at most " if flow.comparator == "max" else ""
            unit = flow.base_unit
            detail = (
                f"{name} {year}: {flow.id} {bound}{_fmt(flow.value)} {flow.unit} against "
                f"{cap.id} {_fmt(cap.value)} {cap.unit} ({cap.effective_year}) = "
                f"{_fmt(annual if unit != 'm3' else units.from_base(annual, '亿m3'))} "
                f"{'亿m3' if unit == 'm3' else unit.removesuffix('/d')}/yr: {bound}"
                f"{_pct(use)} used"
            )
            figs = [flow, cap]
            if use > 1:
                severity = "error"
                detail += ": more than the capacity"
            elif use < _UTILISATION_LOW:
                severity = "note"
                detail += f", below {_pct(_UTILISATION_LOW)}: capacity far above its use"
            elif use > _UTILISATION_HIGH and cap.effective_year < year:
                severity = "note"
                detail += (
                    f", above {_pct(_UTILISATION_HIGH)} of the {cap.effective_year} capacity: "
                    "the plan needs new capacity it does not state"
                )
            else:
                severity = "ok"
            supply = _pick(plan, "production.total", year) or _pick(
                plan, "production.surface", year
            )
            if supply is not None and flow_id == "pipeline.exports":
                figs.append(supply)
                detail += (
                    f"; the capacity is {annual / supply.base_value:.2f} × the city's "
                    f"{supply.id} {_fmt(supply.value)} 亿m3"
                )
            rows.append(
                _row(
                    "capacity",
                    figs,
                    f"{name} utilisation",
                    year,
                    severity,
                    f"assumption: utilisation below {_pct(_UTILISATION_LOW)} or above "
                    f"{_pct(_UTILISATION_HIGH)} is worth a look",
                    stated=100 * use,
                    unit="%",
                    detail=detail + ".",
                )
            )
    return rows


# ------------------------------------------------------------------ storage needs


def _storage_base(plan: Plan) -> list[dict]:
    implied = []
    for need_id, expr, rule in _STORAGE_RULES:
        for fig in plan.records(need_id):
            year = fig.effective_year
            try:
                base = plan.evaluate(expr, year)
            except PlanDataError:
                continue
            implied.append((fig, base, rule, _terms(plan, expr, year)))
    if len(implied) < 2:
        return []
    (f3, b3, r3, t3), (f5, b5, r5, t5) = implied[:2]
    year = f3.effective_year
    mean = (b3 + b5) / 2
    spread = abs(b3 - b5) / mean
    tol = (
        _half_unit(f3.value) / f3.value + _half_unit(f5.value) / f5.value
    )  # relative rounding of the two stated needs
    if spread <= tol:
        severity, why = "ok", "within the rounding of the two stated needs"
    elif spread <= APPROX_PRECISION:
        severity, why = (
            "rounding",
            (f"within the {_pct(APPROX_PRECISION)} precision of the approximate (约) figures"),
        )
    else:
        severity, why = "inconsistency", "beyond the precision of the stated needs"
    detail = (
        f"the plan states the storage needs without their base: {f3.id} {_fmt(f3.value)} "
        f"万m3 ({r3} of use) implies {_yi(b3)}/yr ({_fmt(f3.value)} 万m3 × 365 / 3), {f5.id} "
        f"{_fmt(f5.value)} 万m3 ({r5} of annual use) implies {_yi(b5)}/yr ({_fmt(f5.value)} "
        f"万m3 / 5 %); the two agree ({_pct(spread)} apart, {why}) on a derived base of "
        f"≈{_yi(mean)}/yr"
    )
    figs = [f3, *t3, f5, *t5]
    rows = [
        _row(
            "storage_base",
            figs,
            "storage needs: annual use they imply",
            year,
            severity,
            stated=units.from_base(b3, "亿m3"),
            computed=units.from_base(b5, "亿m3"),
            difference=units.from_base(b5 - b3, "亿m3"),
            unit="亿m3",
            detail=detail + ".",
        )
    ]
    local = _pick(plan, "local_use.total", year)
    if local is not None:
        gap = mean / local.base_value - 1
        rows.append(
            _row(
                "storage_base",
                [f3, f5, local],
                "storage needs: derived base against local use",
                year,
                "note" if abs(gap) > APPROX_PRECISION else "ok",
                stated=units.from_base(local.base_value, "亿m3"),
                computed=units.from_base(mean, "亿m3"),
                difference=units.from_base(mean - local.base_value, "亿m3"),
                unit="亿m3",
                detail=(
                    f"the derived base ≈{_yi(mean)}/yr is {_pct(gap)} from {local.id} "
                    f"{_fmt(local.value)} 亿m3 ({local.ref}); the needs rest on the consumption "
                    f"of the administrative region (县级以上人民政府, 城镇燃气企业), which the "
                    f"plan does not state; with {_fmt(local.value)} 亿m3 they would be "
                    f"{_fmt(local.base_value * 3 / 365 / 1e4)} and "
                    f"{_fmt(local.base_value * 0.05 / 1e4)} 万m3."
                ),
            )
        )
    return rows


# ------------------------------------------------------------------ duplicates, years, coverage


def _consistent(figs: list[Figure]) -> bool:
    points = {f.value for f in figs if f.comparator in ("exact", "approx")}
    if len(points) > 1:
        return False
    if not points:
        return True
    point = points.pop()
    return all(
        (f.comparator != "min" or point >= f.value) and (f.comparator != "max" or point <= f.value)
        for f in figs
    )


def _duplicates(plan: Plan) -> list[dict]:
    groups: dict[tuple[str, int], list[Figure]] = defaultdict(list)
    for fig in plan.figures:
        groups[(fig.id, fig.effective_year)].append(fig)
    rows = []
    for (id, year), figs in groups.items():
        if len(figs) < 2:
            continue
        ordered = sorted(figs, key=lambda f: f.statement != "summary")
        first = ordered[0]
        other = next((f for f in ordered if f.value != first.value), ordered[-1])
        ok = _consistent(figs)
        listed = "; ".join(
            f"{ {'min': '≥', 'max': '≤'}.get(f.comparator, '') }{_fmt(f.value)} {f.unit} "
            f"({f.statement}, {f.ref}, printed year {f.year})"
            for f in ordered
        )
        verdict = "consistent" if ok else "inconsistent"
        rows.append(
            _row(
                "duplicate",
                ordered,
                id,
                year,
                "ok" if ok else "error",
                stated=float(first.value),
                computed=float(other.value),
                difference=float(other.value - first.value),
                unit=first.unit,
                detail=f"{id} {year} is stated {len(figs)} times: {listed}: {verdict}.",
            )
        )
    return rows


def _horizon(plan: Plan) -> int:
    return max(f.year for f in plan.records("output.total") if f.kind == "target")


def _year_context_text(plan: Plan, fig: Figure, horizon: int) -> str | None:
    if fig.context_year is None:
        if fig.kind == "target" and fig.year > horizon:
            return f"{_short(fig)} is a target for {fig.year}, beyond the plan horizon {horizon}"
        return None
    text = (
        f"{_short(fig)} is printed for {fig.year} ({fig.ref}: “{fig.phrase}”) "
        f"but belongs to {fig.context_year}"
    )
    if fig.year > horizon:
        text += f"; {fig.year} is beyond the plan horizon {horizon}"
    printed = [f for f in plan.records(fig.id, fig.year) if f is not fig]
    if printed:
        text += "; for {} the plan already states {}".format(
            fig.year, ", ".join(f"{_fmt(f.value)} {f.unit} ({f.ref})" for f in printed)
        )
    context = [f for f in plan.records(fig.id, fig.context_year) if f is not fig]
    if context:
        text += "; for {} it also states {}".format(
            fig.context_year, ", ".join(f"{_fmt(f.value)} {f.unit} ({f.ref})" for f in context)
        )
    else:
        text += f"; read as printed, the plan would state no {fig.id} for {fig.context_year}"
    return text


def _year_context(plan: Plan) -> list[dict]:
    rows = []
    horizon = _horizon(plan)
    for fig in plan.figures:
        text = _year_context_text(plan, fig, horizon)
        if text is None:
            continue
        context = fig.context_year
        rows.append(
            _row(
                "year_context",
                [fig],
                fig.id,
                fig.year,
                "error",
                stated=float(fig.year),
                computed=np.nan if context is None else float(context),
                difference=np.nan if context is None else float(context - fig.year),
                unit="year",
                detail=text + ".",
            )
        )
    return rows


def _coverage(plan: Plan) -> list[dict]:
    rows = []
    targets = sorted({f.year for f in plan.records("output.total") if f.kind == "target"})
    for parent, children in _children(plan).items():
        for child in children:
            years = [y for y in targets if plan.has(child, y)]
            if not years or len(years) == len(targets):
                continue
            shown = _pick(plan, child, years[0])
            for year in targets:
                if year in years or not plan.has(parent, year):
                    continue
                rows.append(
                    _row(
                        "coverage",
                        [shown],
                        child,
                        year,
                        "note",
                        unit=shown.unit,
                        detail=(
                            f"{child} is stated for {', '.join(map(str, years))} "
                            f"({_short(shown)}, {shown.ref}) but not for {year}, although "
                            f"{parent} is."
                        ),
                    )
                )
    return rows


def audit(plan: Plan | None = None) -> pd.DataFrame:
    """The plan's internal consistency: one row per finding.

    Parameters
    ----------
    plan
        The plan data; default the packaged file (:func:`cbm_sim.plan.figures.load_plan`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``check`` (one of :data:`CHECKS`), ``ref`` (the plan
        sections involved), ``subject``, ``year``, ``stated`` and ``computed`` (in ``unit``),
        ``difference`` (computed − stated; for ``unit_value`` the change from the previous
        year of the series; for ``balance`` supply − uses), ``severity`` (one of
        :data:`SEVERITIES`), ``status`` (its coarse form, :data:`STATUS_OF_SEVERITY`),
        ``detail`` (a generated sentence with the arithmetic), ``phrases`` (the plan phrases
        the finding rests on, joined by " ｜ ") and ``basis`` (the assumptions and public
        references it also uses; empty when it rests on the plan alone).
    """
    plan = plan if plan is not None else load_plan()
    rows = (
        _sum_checks(plan)
        + _formula_checks(plan)
        + _unit_values(plan)
        + _balances(plan)
        + _value_balances(plan)
        + _services(plan)
        + _physical(plan)
        + _capacities(plan)
        + _storage_base(plan)
        + _duplicates(plan)
        + _year_context(plan)
        + _coverage(plan)
    )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["year"] = frame["year"].astype("int64")
    for col in ("stated", "computed", "difference"):
        frame[col] = frame[col].astype("float64")
    frame["check"] = pd.Categorical(frame["check"], categories=list(CHECKS), ordered=True)
    frame = frame.sort_values(["check", "subject", "year"], kind="stable")
    frame["check"] = frame["check"].astype(str)
    frame["basis"] = frame["basis"].fillna("").astype(str)
    return frame.reset_index(drop=True)
