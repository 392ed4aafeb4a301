"""Cross-checks: service value against volumes and wells, physical conversion ratios,
capacity use, and the base of the storage rules."""

from __future__ import annotations

import itertools
import math

from cbm_sim import units
from cbm_sim.plan.audit.arithmetic import _children
from cbm_sim.plan.audit.balances import _assumed, _yi
from cbm_sim.plan.audit.common import (
    _CH4_KG_PER_M3_20C,
    _PHYSICAL_TOLERANCE,
    _SERVICES_FACTOR,
    _STORAGE_RULES,
    _UTILISATION_HIGH,
    _UTILISATION_LOW,
    APPROX_PRECISION,
    CAPACITIES,
    UNIT_VALUE_DRIFT,
    _fmt,
    _half_unit,
    _need,
    _pct,
    _pick,
    _row,
    _terms,
)
from cbm_sim.plan.figures import Figure, Plan, PlanDataError

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
        p0, p1 = _need(plan, volume, y0), _need(plan, volume, y1)
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
    vert, hor = _need(plan, "wells.vertical", 2021), _need(plan, "wells.horizontal", 2021)
    cap = _need(plan, "capacity.surface", 2021)
    if start is None:
        return []
    eq = vert.value + h[0] * hor.value
    per_year = eq / (2021 - start.value)
    cap_per_eq = cap.base_value * units.DAYS_PER_YEAR / eq  # m³/yr per well-equivalent
    figs = [start, vert, hor, cap, p0, p1]
    implied = []
    for year in years:
        fig = _need(plan, item, year)
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
            gas = _need(plan, gas_id, year)
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
            gas, lng = _need(plan, gas_id, year), _pick(plan, lng_id, year)
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
            cap = _need(plan, cap_id, earlier[-1])
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
