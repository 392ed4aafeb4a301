"""Gas balances: supply against stated uses (caps are constraints, not uses), and with the
value-only sectors at their stated or assumed prices."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cbm_sim import units
from cbm_sim.plan.audit.arithmetic import _children
from cbm_sim.plan.audit.common import (
    _EXACT,
    _UNEXPLAINED_SHARE,
    BALANCES,
    VALUE_ONLY_PARENT,
    Balance,
    _fmt,
    _half_unit,
    _pct,
    _pick,
    _row,
    _short,
)
from cbm_sim.plan.figures import Figure, Plan, PlanDataError, load_plan
from cbm_sim.plan.packaged import read_packaged

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
        found = [
            f
            for t in ("power.gas", "minegas.heating_gas")
            if (f := _resolve(plan, kids, t, year, True)) is not None
        ]
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
    if spec.get("cost_model"):
        # a share of the elements of the well cost model (the section well_cost)
        cost = read_packaged("valuation.yaml")["well_cost"]
        value = sum(
            float(element["value"]) * float(element["items"].get(field, 0.0))
            for kind in ("capex", "opex", "workover")
            for element in (cost.get(kind) or {}).values()
            if isinstance(element, dict) and "items" in element
        )
        return value, f"valuation.yaml {field} = {_fmt(value)} (well cost model: {source})"
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
