"""The plan's internal consistency, computed from the packaged plan data.

:func:`audit` returns one row per finding. Every number in it is computed from the records of
``cbm_sim/data/plan.yaml`` (their values, ``part_of``, ``formula``, ``driver``,
``context_year``); the ``detail`` sentences are generated from those numbers. Checks:

``sum``
    Parts (records whose ``part_of`` names a parent) against the stated parent, per year,
    once with the ``summary`` and once with the ``detail`` statement of each part where these
    differ; where parts are themselves split, also the leaf items. Any difference is a
    discrepancy; the sentence says whether it is within the rounding of the stated total.
``formula``
    Stated shares and ratios against their definition (``formula``), within the rounding of
    the stated value (half a unit of its last printed digit), respecting ``min``/``max``.
``unit_value``
    Value over volume for every record with a ``driver`` (元/m³, 元/t, 元/kWh, m³/t, …) and its
    change from the previous year of the same series; two different unit values for one
    series and year are a discrepancy.
``balance``
    Gas supply against the sum of stated uses, conversions and exports, per year, for the
    surface gas, the coal-mine gas and the total; the remainder is what the plan leaves
    unexplained (negative: stated uses exceed supply, a discrepancy).
``duplicate``
    Every id stated more than once for one year: equal point values (bounds satisfied) are
    ``ok``, anything else a discrepancy.
``year_context``
    Figures whose printed year contradicts their context (``context_year``), and targets
    beyond the plan horizon.
``coverage``
    Parts stated for one target year but not for another (e.g. carbon trading).

The gas-chain structure (what is a supply, what a use) is the :data:`BALANCES` table below;
the LNG feed-gas ratio used to turn tonnes of LNG into feed gas is computed from the data.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbm_sim import units
from cbm_sim.plan.figures import Figure, Plan, PlanDataError, expression_ids, load_plan, preferred

__all__ = ["BALANCES", "CHECKS", "COLUMNS", "Balance", "audit"]

COLUMNS: tuple[str, ...] = (
    "check",
    "ref",
    "subject",
    "year",
    "stated",
    "computed",
    "difference",
    "unit",
    "status",
    "detail",
)
CHECKS: tuple[str, ...] = (
    "sum",
    "formula",
    "unit_value",
    "balance",
    "duplicate",
    "year_context",
    "coverage",
)

_EXACT = 1e-9  # relative tolerance for "adds up exactly" (float noise only)
_SAME_UNIT_VALUE = 1e-3  # relative spread above which two unit values of a series differ


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
power + heating gas."""


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


def _row(check: str, figs: Iterable[Figure], subject: str, year: int, **kw: object) -> dict:
    row = dict.fromkeys(COLUMNS, np.nan) | {
        "check": check,
        "ref": _refs(figs),
        "subject": subject,
        "year": year,
    }
    row.update(kw)
    return row


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
    if ok:
        verdict = "they add up exactly"
    else:
        within = "within" if abs(diff) <= tol + 1e-12 else "beyond"
        verdict = (
            f"difference {_fmt(diff)} {total.unit}, {within} the rounding of the stated "
            f"total (±{_fmt(tol)})"
        )
    detail = (
        f"{total.id} {year} is stated as {_fmt(total.value)} {total.unit} ({total.ref}); its "
        f"{len(parts)} {what} sum to {terms} = {_fmt(computed)}; {verdict}."
    )
    row = _row(
        "sum",
        [total, *parts],
        f"{total.id} = Σ {what}{label}",
        year,
        stated=float(total.value),
        computed=computed,
        difference=diff,
        unit=total.unit,
        status="ok" if ok else "discrepancy",
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
            continue
        try:
            computed = units.from_base(plan.evaluate(fig.formula, year), fig.unit)
        except PlanDataError as exc:
            rows[key] = _row(
                "formula", [fig], fig.id, year, stated=float(fig.value), unit=fig.unit,
                status="info", detail=f"{fig.id} {year}: {fig.formula} cannot be evaluated: {exc}.",
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
            [fig],
            fig.id,
            year,
            stated=float(fig.value),
            computed=computed,
            difference=diff,
            unit=fig.unit,
            status="ok" if ok else "discrepancy",
            detail=(
                f"{fig.id} {year} is stated as {claim} {fig.unit} ({fig.ref}); "
                f"{fig.formula} with {_describe_terms(plan, fig.formula, year)} gives "
                f"{_fmt(computed)} {fig.unit}: {verdict}."
            ),
        )
    return list(rows.values())


def _refs_join(a: str, b: str) -> str:
    return "; ".join(dict.fromkeys([*a.split("; "), b]))


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
            "_figs": [fig],
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
            if prev:
                diff = it["ratio"] - prev[0]
                text += f"; {_fmt(prev[0])} in {earlier[-1]}, a change of {_pct(diff / prev[0])}"
            status = "info"
            if spread > _SAME_UNIT_VALUE:
                status = "discrepancy"
                others = ", ".join(_fmt(r) for r in same_year if r != it["ratio"])
                text += f"; the plan implies {others} {it['unit']} for the same year and series"
            rows.append(
                _row(
                    "unit_value",
                    it["_figs"],
                    f"{series} [{it['unit']}]",
                    it["year"],
                    computed=it["ratio"],
                    difference=diff,
                    unit=it["unit"],
                    status=status,
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


def _balances(plan: Plan) -> list[dict]:
    kids = _children(plan)
    rows = []
    years = sorted({f.effective_year for f in plan.figures if f.kind != "context"})
    for bal in BALANCES:
        for year in years:
            supply = _resolve(plan, kids, bal.supply, year, alternatives=False)
            if supply is None:
                continue
            uses = {u: _resolve(plan, kids, u, year, alternatives=True) for u in bal.uses}
            stated = {u: r for u, r in uses.items() if r is not None}
            if not stated:
                continue
            used = sum(r[0] for r in stated.values())
            left = supply[0] - used
            missing = [u for u in bal.uses if uses[u] is None]
            detail = (
                f"{bal.name} balance {year}: supply {supply[2]}; stated uses "
                + " + ".join(r[2] for r in stated.values())
                + f" = {_fmt(units.from_base(used, '亿m3'))} 亿m3; "
            )
            if left >= -_EXACT * supply[0]:
                detail += (
                    f"{_fmt(units.from_base(left, '亿m3'))} 亿m3 "
                    f"({_pct(left / supply[0])} of supply) is left unexplained"
                )
            else:
                detail += (
                    f"stated uses exceed supply by {_fmt(units.from_base(-left, '亿m3'))} 亿m3"
                )
            if missing:
                detail += "; not stated for this year: " + ", ".join(missing)
            figs = supply[1] + [g for r in stated.values() for g in r[1]]
            rows.append(
                _row(
                    "balance",
                    figs,
                    f"{bal.name} balance",
                    year,
                    stated=units.from_base(supply[0], "亿m3"),
                    computed=units.from_base(used, "亿m3"),
                    difference=units.from_base(left, "亿m3"),
                    unit="亿m3",
                    status="info" if left >= -_EXACT * supply[0] else "discrepancy",
                    detail=detail + ".",
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
                stated=float(first.value),
                computed=float(other.value),
                difference=float(other.value - first.value),
                unit=first.unit,
                status="ok" if ok else "discrepancy",
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
                stated=float(fig.year),
                computed=np.nan if context is None else float(context),
                difference=np.nan if context is None else float(context - fig.year),
                unit="year",
                status="discrepancy",
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
                        unit=shown.unit,
                        status="info",
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
        year of the series; for ``balance`` supply − uses, the unexplained remainder),
        ``status`` (``ok`` | ``discrepancy`` | ``info``) and ``detail`` (a generated sentence).
    """
    plan = plan if plan is not None else load_plan()
    rows = (
        _sum_checks(plan)
        + _formula_checks(plan)
        + _unit_values(plan)
        + _balances(plan)
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
    return frame.reset_index(drop=True)
