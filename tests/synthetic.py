"""Synthetic inputs for the chart and report tests, built exactly to the module contracts.

:func:`build` returns a :class:`~cbm_sim.results.frames.Results` whose daily frame follows the
entity/quantity table of ``docs/architecture.md`` (plus ``storage/rule_3day_need``, which the
simulation records) and whose gas balance closes every day by construction; the valuation frame
(``year, sub_cluster, item, value_yuan``), the target-check frame (``year, sub_cluster, item,
simulated, target, gap, gap_pct, status, unit, comparator, ref, note, id``) and ensemble frames
derived from it. The numbers are invented shapes, not a model: the tests check what the charts
do with them, never the numbers themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cbm_sim import units
from cbm_sim.economics.targets import TARGET_COLUMNS
from cbm_sim.report.ensemble_charts import EnsembleFrames
from cbm_sim.results.frames import Results, annualise, events_frame, tidy_daily

BLOCKS = ("zhengzhuang", "shizhuang", "mabi", "panzhuang", "zaoyuan", "qinnan", "fanzhuang")
SECTORS = ("field_use", "residential", "commercial", "transport", "industry", "chemicals")
# Items per sub-cluster (docs/architecture.md output-value ids).
ITEMS: dict[str, tuple[str, ...]] = {
    "exploration": ("surface", "underground"),
    "processing": ("cng", "lng", "pipeline", "storage"),
    "utilisation": ("residential", "commercial", "transport", "industry", "chemicals", "mine_gas"),
    "science": ("science_city", "training_base"),
    "services": (
        "pre_drilling",
        "drilling_fracturing",
        "dewatering",
        "gathering",
        "workover",
        "materials_supply",
        "waste_handling",
        "base_services",
    ),
    "equipment": ("equipment", "tools", "materials"),
    "logistics": ("equipment_moving", "materials_transport", "equipment_trading", "lng_logistics"),
    "radiating": ("carbon_trading", "green_finance", "insurance"),
}
# Cluster output targets [亿元]: plan ch3 §3 (500 in 2025, 1000 in 2030).
CLUSTER_TARGETS_YI = {2025: 500.0, 2030: 1000.0}
# Total-production targets [亿m3]: plan ch4 §1 (100 in 2025, 80 in 2030).
PRODUCTION_TARGETS_YI_M3 = {2025: 100.0, 2030: 80.0}
# Invented sub-cluster shares of the cluster target and simulated/target ratios: exploration
# and science fall short in 2030, so the verdict differs between the years.
SHARES = {
    "exploration": 0.20,
    "processing": 0.15,
    "utilisation": 0.25,
    "science": 0.05,
    "services": 0.12,
    "equipment": 0.08,
    "logistics": 0.05,
    "radiating": 0.10,
}
RATIO = {
    2025: dict.fromkeys(SHARES, 1.04),
    2030: {**dict.fromkeys(SHARES, 0.97), "exploration": 0.80, "science": 0.60},
}


@dataclass(frozen=True)
class Synthetic:
    """A synthetic run and the frames derived from it."""

    results: Results
    valuation: pd.DataFrame
    targets: pd.DataFrame
    ensemble: EnsembleFrames


def _yearly(dates: pd.DatetimeIndex, by_year: dict[int, float]) -> np.ndarray:
    """Per-day volume from annual totals (linear in between) [m³/day]."""
    years = np.array(sorted(by_year), dtype=np.float64)
    totals = np.array([by_year[int(y)] for y in years])
    annual = np.interp(dates.year.to_numpy(dtype=np.float64), years, totals)
    days_in_year = np.where(dates.is_leap_year, 366.0, 365.0)
    return annual / days_in_year


def build_results(seed: int = 7, start: str = "2021-01-01", end: str = "2030-12-31") -> Results:
    """A run whose gas balance closes every day (residual exactly 0)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    yi = units.YI
    month = dates.month.to_numpy()
    winter = (month >= 11) | (month <= 3)
    potential_total = _yearly(dates, {2021: 42 * yi, 2025: 80 * yi, 2030: 62 * yi})
    weights = rng.dirichlet(np.full(len(BLOCKS), 2.0))
    block_potential = np.outer(weights, potential_total)
    potential = block_potential.sum(axis=0)
    shut_in = np.where(winter, 0.0, 0.02 * potential)
    drainage = _yearly(dates, {2021: 18 * yi, 2025: 22 * yi, 2030: 20 * yi})
    power, heating = 0.45 * drainage, 0.15 * drainage
    vented = drainage - power - heating
    season = np.where(winter, 1.8, 0.6)
    demand = {
        "field_use": 0.03 * potential,
        "residential": _yearly(dates, {2021: 2 * yi, 2030: 3 * yi}) * season,
        "commercial": _yearly(dates, {2021: 1 * yi, 2030: 2 * yi}) * season,
        "transport": _yearly(dates, {2021: 0.5 * yi, 2030: 1 * yi}),
        "industry": _yearly(dates, {2021: 2 * yi, 2030: 5 * yi}),
        "chemicals": _yearly(dates, {2021: 1 * yi, 2030: 2 * yi}),
    }
    shortfall = {s: np.zeros(n) for s in SECTORS}
    cold_2022 = (dates.year == 2022) & (month == 1)
    shortfall["residential"] = np.where(cold_2022, 0.1 * demand["residential"], 0.0)
    delivered = {s: demand[s] - shortfall[s] for s in SECTORS}
    cng_cap = _yearly(dates, {2021: 4 * yi, 2030: 6 * yi})
    cng_down = rng.random(n) < 0.01
    cng_feed = np.where(cng_down, 0.5, 0.8) * cng_cap
    lng_cap = _yearly(dates, {2021: 20 * yi, 2030: 30 * yi})
    lng_down = rng.random(n) < 0.02
    lng_feed = np.where(lng_down, 0.6, 0.75) * lng_cap
    wan = units.WAN
    injection = np.where(~winter, 5 * wan, 0.0)
    withdrawal = np.where(winter, 7 * wan, 0.0)
    level = 1000 * wan + np.cumsum(injection - withdrawal)
    storage_cap = np.full(n, 2000 * wan)
    local_demand = sum(demand[s] for s in SECTORS if s != "field_use")
    need_3day = 3 * pd.Series(local_demand, index=dates).groupby(dates.year).transform("mean")
    supply = potential + drainage + withdrawal
    uses_but_exports = (
        sum(delivered.values())
        + power
        + heating
        + cng_feed
        + lng_feed
        + injection
        + vented
        + shut_in
    )
    exports = supply - uses_but_exports
    if np.any(exports < 0):
        raise AssertionError("synthetic exports went negative: fix the synthetic shapes")
    wells = np.floor(np.linspace(5000, 9000, n))
    series: list[tuple[str, str, str, np.ndarray]] = []
    for b, block in enumerate(BLOCKS):
        ent = f"block:{block}"
        series += [
            (ent, "surface_production", "m3", block_potential[b] - shut_in * weights[b]),
            (ent, "wells_active", "count", np.floor(wells * weights[b])),
            (ent, "wells_total", "count", np.floor(wells * weights[b] * 1.1)),
            (ent, "wells_drilled", "count", (rng.random(n) < 0.2).astype(float)),
        ]
    series += [
        ("surface", "potential", "m3", potential),
        ("surface", "production", "m3", potential - shut_in),
        ("surface", "wells_active", "count", wells),
        ("surface", "wells_active_mean", "count", wells),
        ("surface", "wells_down", "count", np.full(n, 120.0)),
        ("surface", "wells_drilled_vertical", "count", (rng.random(n) < 0.8).astype(float)),
        ("surface", "wells_drilled_horizontal", "count", (rng.random(n) < 0.3).astype(float)),
        ("surface", "workovers", "count", (rng.random(n) < 0.5).astype(float)),
        ("mine_gas", "drainage", "m3", drainage),
        ("mine_gas", "utilised", "m3", power + heating),
        ("mine_gas", "vented", "m3", vented),
        ("mine_power", "gas_used", "m3", power),
        ("mine_power", "electricity", "kWh", power / 0.3),
        ("mine_power", "capacity_mw", "MW", np.full(n, 400.0)),
        ("mine_power", "plants", "count", np.full(n, 40.0)),
        ("mine_heating", "gas_used", "m3", heating),
    ]
    for s in SECTORS:
        series += [
            (f"demand:{s}", "demand", "m3", demand[s]),
            (f"demand:{s}", "delivered", "m3", delivered[s]),
            (f"demand:{s}", "shortfall", "m3", shortfall[s]),
        ]
    series += [
        ("cng", "feed_gas", "m3", cng_feed),
        ("cng", "capacity", "m3", cng_cap),
        ("cng", "stations", "count", np.full(n, 50.0)),
        ("cng", "outage_days", "day", cng_down.astype(float)),
        ("lng", "feed_gas", "m3", lng_feed),
        ("lng", "output", "t", lng_feed / units.LNG_FEED_M3_PER_T),
        ("lng", "capacity", "m3", lng_cap),
        ("lng", "plants", "count", np.full(n, 20.0)),
        ("lng", "outage_days", "day", lng_down.astype(float)),
        ("pipeline", "exports", "m3", exports),
        ("pipeline", "capacity", "m3", exports * 1.25),
        ("storage", "injection", "m3", injection),
        ("storage", "withdrawal", "m3", withdrawal),
        ("storage", "level", "m3", level),
        ("storage", "storage_capacity", "m3", storage_cap),
        ("storage", "rule_3day_need", "m3", need_3day.to_numpy()),
        ("storage", "rule_3day_violation_days", "day", (level < need_3day.to_numpy()) * 1.0),
        ("storage", "rule_5pct_violation_days", "day", np.zeros(n)),
        ("balance", "shut_in", "m3", shut_in),
        ("balance", "residual", "m3", supply - uses_but_exports - exports),
    ]
    daily = tidy_daily(dates, series)
    events = events_frame([(dates[10], "lng:plant-1", "outage", "trip; repair 3 days")])
    meta = {
        "scenario": "synthetic-test",
        "description": "合成测试情景：检验图表与报告（synthetic test scenario）",
        "seed": seed,
        "cbm_sim_version": "test",
        "start": str(dates[0].date()),
        "end": str(dates[-1].date()),
        "step_days": 1,
    }
    return Results(daily=daily, annual=annualise(daily), events=events, meta=meta)


def build_values(years: range = range(2021, 2031)) -> pd.DataFrame:
    """Valuation frame: ``year, sub_cluster, item, value_yuan`` (equal item shares)."""
    rows = []
    for year in years:
        # Invented growth of the cluster from 180 亿元 (2021) to 960 亿元 (2030).
        total_yi = 180.0 + (year - 2021) * (960.0 - 180.0) / 9.0
        for sc, share in SHARES.items():
            ratio = RATIO.get(year, dict.fromkeys(SHARES, 1.0))[sc]
            target_yi = CLUSTER_TARGETS_YI.get(year, total_yi) * share
            sc_yi = target_yi * ratio if year in CLUSTER_TARGETS_YI else total_yi * share
            for item in ITEMS[sc]:
                rows.append((year, sc, item, units.to_base(sc_yi / len(ITEMS[sc]), "亿元")))
    return pd.DataFrame(rows, columns=["year", "sub_cluster", "item", "value_yuan"])


def build_targets(values: pd.DataFrame) -> pd.DataFrame:
    """Target-check frame for 2025 and 2030 from a valuation frame (targets: SHARES × 500/1000)."""
    rows = []

    def row(year: int, sc: str, item: str, sim: float, tgt: float, unit: str = "亿元") -> None:
        gap = sim - tgt
        status = "met" if sim >= tgt else "short"
        plan_id = item if "." in item else ("output.total" if sc == "total" else f"output.{sc}")
        rows.append(
            (
                year,
                sc,
                item,
                sim,
                tgt,
                gap,
                100 * gap / tgt,
                status,
                "computed",  # basis: the synthetic run simulates everything
                "target",  # target_kind
                0.0,  # exogenous: none in the synthetic run
                sim,
                gap,
                status,
                unit,
                "approx",
                "ch4",
                "",
                plan_id,
            )
        )

    for year, cluster_target in CLUSTER_TARGETS_YI.items():
        part = values[values["year"] == year]
        for sc, share in SHARES.items():
            sc_part = part[part["sub_cluster"] == sc]
            sc_target = cluster_target * share
            for item in ITEMS[sc]:
                sim = units.from_base(
                    float(sc_part.loc[sc_part["item"] == item, "value_yuan"].sum()), "亿元"
                )
                row(year, sc, f"output.{sc}.{item}", sim, sc_target / len(ITEMS[sc]))
            row(
                year,
                sc,
                "total",
                units.from_base(float(sc_part["value_yuan"].sum()), "亿元"),
                sc_target,
            )
        row(
            year,
            "total",
            "",
            units.from_base(float(part["value_yuan"].sum()), "亿元"),
            cluster_target,
        )
        row(year, "physical", "production.total", 90.0, PRODUCTION_TARGETS_YI_M3[year], "亿m3")
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS))


def build_ensemble(results: Results, values: pd.DataFrame, seed: int = 3) -> EnsembleFrames:
    """Percentile, probability and tornado frames from 200 lognormal perturbations."""
    rng = np.random.default_rng(seed)
    members = 200
    production = results.annual_series("surface", "production") + results.annual_series(
        "mine_gas", "drainage"
    )
    output = values.groupby("year")["value_yuan"].sum()
    rows, probs = [], []
    for quantity, unit, series in (
        ("production.total", "m3", production),
        ("output.total", "元", output),
    ):
        for year, base in series.items():
            sample = base * rng.lognormal(0.0, 0.12, members)
            p10, p50, p90 = np.percentile(sample, [10, 50, 90])
            rows.append((int(year), quantity, unit, p10, p50, p90))
            if year in CLUSTER_TARGETS_YI:
                target = (
                    units.to_base(CLUSTER_TARGETS_YI[year], "亿元")
                    if quantity == "output.total"
                    else units.to_base(PRODUCTION_TARGETS_YI_M3[year], "亿m3")
                )
                p = float(np.mean(sample >= target))
                probs.append((int(year), quantity, p, np.sqrt(p * (1 - p) / members)))
    for year in CLUSTER_TARGETS_YI:
        for sc in SHARES:
            p = float(rng.uniform(0.05, 0.95))
            probs.append((year, f"output.{sc}", p, np.sqrt(p * (1 - p) / members)))
    base = float(output.loc[2030])
    tornado = pd.DataFrame(
        {
            "input": ["gas_price", "wells_per_year", "lng_capacity", "carbon_price"],
            "label_zh": ["气价", "年钻井数", "液化能力", "碳价"],
            "label_en": ["Gas price", "Wells per year", "LNG capacity", "Carbon price"],
            "low_value": [base * 0.85, base * 0.9, base * 0.97, base * 0.99],
            "high_value": [base * 1.12, base * 1.08, base * 1.02, base * 1.01],
            "base": base,
            "unit": "元",
            "metric": "output.total",
            "year": 2030,
        }
    )
    return EnsembleFrames(
        percentiles=pd.DataFrame(rows, columns=["year", "quantity", "unit", "p10", "p50", "p90"]),
        probabilities=pd.DataFrame(probs, columns=["year", "target", "probability", "std_error"]),
        tornado=tornado,
    )


def build(seed: int = 7) -> Synthetic:
    """Results, valuation, target-check and ensemble frames that agree with each other."""
    results = build_results(seed)
    values = build_values()
    return Synthetic(
        results=results,
        valuation=values,
        targets=build_targets(values),
        ensemble=build_ensemble(results, values),
    )


# --------------------------------------------------------------------------- a full report
# Frames of every optional page at the sizes that broke the layout before (issue 25): the 25
# uncertain inputs of scenarios/plan.yaml by their real names, a Sobol study at N = 2, a
# robustness table whose flips name many assumptions, the comparison with pipeline-delay.
ROOT = Path(__file__).resolve().parents[1]


def full_tornado(plan: Any) -> pd.DataFrame:
    rows = []
    for year, base in ((2025, 335e8), (2030, 478e8)):
        for k, path in enumerate(plan.uncertainty):
            swing = (25 - k) * 1.7e8 * (1 + (k % 3))
            rows.append((path, year, base - swing, base + 0.6 * swing, base))
    frame = pd.DataFrame(rows, columns=["input", "year", "low_value", "high_value", "base"])
    return frame.assign(metric="output.total", unit="元")


def full_robustness(plan: Any) -> pd.DataFrame:
    from cbm_sim.report.robustness_charts import CHART_COLUMNS

    rows = []
    for year in (2025, 2030):
        for t, target in enumerate(["output.total", "output.services", "output.science"]):
            for k, path in enumerate(plan.uncertainty):
                flips = "" if (k + t) % 3 else ("low" if k % 2 else "high")
                rows.append((year, target, path, 339.0, 500.0, "short", 300.0, 380.0, flips))
    return pd.DataFrame(rows, columns=list(CHART_COLUMNS))


def full_sobol(plan: Any) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for year in (2025, 2030):
        for path in plan.uncertainty:
            s1, st = rng.uniform(-0.3, 1.8), rng.uniform(-0.1, 1.2)
            rows.append((year, path, s1, s1 - 0.8, s1 + 0.8, st, st - 0.6, st + 0.7))
    frame = pd.DataFrame(
        rows, columns=["year", "input", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    )
    return frame.assign(n=2, runs=54, metric="output.total")


def full_compare(synth: Synthetic) -> Any:
    from cbm_sim.results.rundir import valuation_csv
    from cbm_sim.scenario.files import field_sources, load_scenario
    from cbm_sim.studies.diff import Side, diff
    from cbm_sim.units import to_planner

    def side(name: str, file: str, scale: float) -> Side:
        path = ROOT / "scenarios" / file
        targets = synth.targets.assign(simulated=synth.targets["simulated"] * scale)
        return Side(
            name,
            load_scenario(path, check_size=False),
            to_planner(synth.results.annual),
            valuation_csv(synth.valuation),
            targets,
            field_sources(path),
        )

    return diff(side("plan", "plan.yaml", 1.0), side("pipeline-delay", "pipeline-delay.yaml", 0.9))


def full_skill() -> pd.DataFrame:
    """A hindcast skill table (``cbm-sim backtest``'s ``skill.csv``) of the real observations
    of ``history.yaml``: their ids, metrics and years, invented values."""
    from cbm_sim.plan.packaged import read_packaged

    rows = []
    for k, obs in enumerate(read_packaged("history.yaml")["hindcast"]):
        observed = 10.0 + k
        p50 = observed * (0.8 + 0.03 * (k % 9))
        rows.append({
            "id": obs["id"], "metric": obs["metric"], "year": obs["year"],
            "observed": observed, "unit": "1e8 m3", "kind": obs.get("kind", "equal"),
            "p10": 0.85 * p50, "p50": p50, "p90": 1.15 * p50,
            "rel_error": p50 / observed - 1.0, "inside": abs(p50 / observed - 1.0) < 0.12,
            "scored": k % 4 != 3,
        })  # fmt: skip
    return pd.DataFrame(rows)


def full_report_kwargs(synth: Synthetic) -> dict[str, Any]:
    """``write_report`` arguments for a report with every optional page (see above)."""
    from cbm_sim.report.summary import GoalSeekRun
    from cbm_sim.scenario.files import load_scenario

    plan = load_scenario(ROOT / "scenarios/plan.yaml", check_size=False)
    frames = synth.ensemble
    return {
        "ensemble": EnsembleFrames(
            percentiles=frames.percentiles,
            probabilities=frames.probabilities,
            tornado=full_tornado(plan),
            sobol=full_sobol(plan),
        ),
        "robustness": full_robustness(plan),
        "goal_seeks": (
            GoalSeekRun("production.total", 2025, 100.0, "亿m³", "drilling", 3.74, 100.0, True),
            GoalSeekRun("output.total", 2030, 1000.0, "亿元", "drilling", 4.0, 769.2, False),
        ),
        "skill": full_skill(),
        "studies": {"ensemble": {"step_days": 30}, "sobol": {"step_days": 30}},
        "compare": full_compare(synth),
    }
