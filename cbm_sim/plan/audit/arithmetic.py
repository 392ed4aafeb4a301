"""Arithmetic checks: parts against stated totals, ratios against formulas, unit values."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from cbm_sim import units
from cbm_sim.plan.audit.common import (
    _EXACT,
    _PHRASE_SEP,
    _SAME_UNIT_VALUE,
    EXPLAINED_SPREADS,
    UNIT_VALUE_DRIFT,
    _fmt,
    _half_unit,
    _need,
    _pct,
    _pick,
    _row,
    _short,
    _terms,
)
from cbm_sim.plan.figures import Figure, Plan, PlanDataError, expression_ids

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
                    total = _need(plan, parent, year, variant)
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
        den_fig = _need(plan, first[0], first[1] or year)
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
