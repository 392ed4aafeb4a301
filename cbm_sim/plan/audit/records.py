"""Record checks: figures stated twice, years that contradict their context, parts stated
for one target year only."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from cbm_sim.plan.audit.arithmetic import _children
from cbm_sim.plan.audit.common import _fmt, _need, _row, _short
from cbm_sim.plan.figures import Figure, Plan

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
            shown = _need(plan, child, years[0])
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
