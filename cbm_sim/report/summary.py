"""The summary page that opens the report: the verdict, its range, its gaps, its drivers, what
it would take, and what it rests on.

:func:`summary_facts` gathers the figures from what the report was given — the run's target
check and valuation, and when present the ensemble (P10/P50/P90, P(met)), its tornado, the
robustness table, goal-seek runs and a backtest's skill table — into a :class:`SummaryFacts`;
:func:`summary_pages` sets them on A4 pages (:class:`~cbm_sim.report.flow.Flow`). Nothing on
the page is typed in: every number comes from those frames, and what is missing is said to be
missing (with the command that would give it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim import names, units
from cbm_sim.economics.targets import MET, TARGET_YEARS
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.report.flow import Flow
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import (
    MET_COLOUR,
    MET_MARK,
    SHORT_COLOUR,
    SHORT_MARK,
    label,
    unit_label,
)
from cbm_sim.report.tables import Row

DRIVERS: Final[int] = 5
"""How many drivers the summary names (the issue's "five largest")."""
PHYSICAL_HEADLINES: Final[tuple[str, ...]] = (
    "production.total",
    "production.surface",
    "lng.output",
)
"""Physical targets the summary shows beside the value (plan ch3 §3: production and LNG)."""
SKILL_COLUMNS: Final[tuple[str, ...]] = ("rel_error", "inside", "scored")
"""Columns of ``cbm-sim backtest``'s ``skill.csv`` the summary reads (one row per observation;
bias, MAPE and P10–P90 coverage over the scored ones:
:func:`cbm_sim.report.hindcast_charts.summary_line`)."""


@dataclass(frozen=True)
class GoalSeekRun:
    """One goal-seek search as its run folder's ``meta.json`` records it (``goal_seek``)."""

    quantity: str
    year: int
    target: float
    unit: str
    lever: str
    value: float
    achieved: float
    converged: bool
    step_days: Any = None

    @classmethod
    def from_meta(cls, block: Mapping[str, Any]) -> GoalSeekRun:
        """From the ``goal_seek`` block of a goal-seek run folder's ``meta.json``.

        Raises
        ------
        ValueError
            If a field is missing (naming it).
        """
        need = ("quantity", "year", "target", "unit", "lever", "value", "achieved", "converged")
        missing = [k for k in need if k not in block]
        if missing:
            raise ValueError(f"goal-seek record lacks {missing}")
        return cls(
            str(block["quantity"]),
            int(block["year"]),
            float(block["target"]),
            str(block["unit"]),
            str(block["lever"]),
            float(block["value"]),
            float(block["achieved"]),
            bool(block["converged"]),
            block.get("step_days"),
        )


@dataclass(frozen=True)
class SummaryFacts:
    """Everything the summary page states (see :func:`summary_facts`)."""

    verdicts: pd.DataFrame
    """Per target year: ``year, simulated, target, gap, gap_pct, status, exogenous, p10, p50,
    p90, p_met, p_low, p_high`` [亿元; P(met) as a share]."""
    sub_clusters: pd.DataFrame
    """``year, sub_cluster, simulated, target, status`` [亿元]."""
    physical: pd.DataFrame
    """``year, target, unit, simulated, target_value, status, p50, p_met`` of the production
    and LNG targets."""
    drivers: pd.DataFrame
    """``input, name, swing_<year>…, source``: the largest swings of the total, largest first."""
    goal_seeks: Sequence[GoalSeekRun] = ()
    calibration: tuple[int, int] | None = None
    """Calibration targets met and in all (the well history's fit, ``cbm-sim calibrate``)."""
    skill: pd.DataFrame | None = None
    flips: pd.DataFrame | None = None
    """``year, assumption, end`` of the assumptions whose stated swing flips the total."""
    steps: Mapping[str, Any] = field(default_factory=dict)
    """Dispatch step of the run and of each study (``run``, ``ensemble``, ``sobol``,
    ``robustness``) [days, or ``month``/``quarter``]."""


def summary_facts(
    targets: pd.DataFrame,
    *,
    values: pd.DataFrame | None = None,
    percentiles: pd.DataFrame | None = None,
    probabilities: pd.DataFrame | None = None,
    tornado: pd.DataFrame | None = None,
    robustness: pd.DataFrame | None = None,
    goal_seeks: Sequence[GoalSeekRun] = (),
    calibration: pd.DataFrame | None = None,
    skill: pd.DataFrame | None = None,
    steps: Mapping[str, Any] | None = None,
) -> SummaryFacts:
    """The summary's figures from the report's frames (each optional but the target check).

    The drivers are the tornado's largest swings of the total (each input's swing in every
    target year, ranked by the largest), else the robustness table's (its low/high totals);
    the flips are the robustness table's rows that flip the cluster total.
    """
    years = [y for y in TARGET_YEARS if y in set(targets["year"].astype(int))]
    verdicts = _verdicts(targets, values, percentiles, probabilities, years)
    subs = targets[targets["sub_cluster"].isin(SUB_CLUSTERS) & targets["item"].map(_is_total)]
    marks = [c for c in ("basis", "target_kind") if c in subs.columns]
    sub_clusters = subs[["year", "sub_cluster", "simulated", "target", "status", *marks]]
    sub_clusters = sub_clusters.reset_index(drop=True)
    physical = _physical(targets, percentiles, probabilities, years)
    drivers = _drivers(tornado, robustness)
    flips = None
    if robustness is not None and {"flips", "target", "assumption"} <= set(robustness.columns):
        hit = robustness[
            (robustness["target"] == "output.total") & robustness["flips"].fillna("").astype(bool)
        ]
        flips = hit.rename(columns={"flips": "end"})[["year", "assumption", "end"]]
    cal = None
    if calibration is not None and "met" in calibration.columns:
        cal = (int(calibration["met"].astype(bool).sum()), len(calibration))
    if skill is not None:
        missing = [c for c in SKILL_COLUMNS if c not in skill.columns]
        if missing:
            raise ValueError(f"backtest skill table lacks columns {missing}")
    return SummaryFacts(
        verdicts, sub_clusters, physical, drivers, tuple(goal_seeks), cal, skill, flips,
        dict(steps or {}),
    )  # fmt: skip


def _is_total(item: object) -> bool:
    return item is None or (isinstance(item, float) and np.isnan(item)) or item in ("", "total")


def _planner(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Percentiles in planner units (the CSV's are already; an in-memory ensemble's are in m3
    and 元)."""
    return units.to_planner(frame, tuple(columns)) if "unit" in frame.columns else frame


def _verdicts(
    targets: pd.DataFrame,
    values: pd.DataFrame | None,
    percentiles: pd.DataFrame | None,
    probabilities: pd.DataFrame | None,
    years: list[int],
) -> pd.DataFrame:
    totals = targets[(targets["sub_cluster"] == "total") & targets["item"].map(_is_total)]
    rows = []
    pct = None if percentiles is None else _planner(percentiles, ("p10", "p50", "p90"))
    for year in years:
        r = totals[totals["year"] == year].iloc[0]
        row: dict[str, Any] = {
            "year": year,
            "simulated": float(r["simulated"]),
            "target": float(r["target"]),
            "gap": float(r["gap"]),
            "gap_pct": float(r["gap_pct"]),
            "status": str(r["status"]),
            "exogenous": float(r["exogenous"]) if "exogenous" in r.index else np.nan,
        }
        row.update(_band(pct, "output.total", year))
        row.update(_chance(probabilities, "output.total", year))
        rows.append(row)
    frame = pd.DataFrame(rows)
    if values is not None and "exogenous" not in targets.columns and "basis" in values.columns:
        exo = values[values["basis"].astype(str).str.startswith("exogenous")]
        by = exo.groupby("year")["value_yuan"].sum() / units.YI
        frame["exogenous"] = frame["year"].map(by).fillna(0.0)
    return frame


def _band(pct: pd.DataFrame | None, quantity: str, year: int) -> dict[str, float]:
    if pct is None:
        return {"p10": np.nan, "p50": np.nan, "p90": np.nan}
    hit = pct[(pct["quantity"] == quantity) & (pct["year"] == year)]
    if hit.empty:
        return {"p10": np.nan, "p50": np.nan, "p90": np.nan}
    return {k: float(hit.iloc[0][k]) for k in ("p10", "p50", "p90")}


def _chance(prob: pd.DataFrame | None, target: str, year: int) -> dict[str, float]:
    out = {"p_met": np.nan, "p_low": np.nan, "p_high": np.nan}
    if prob is None:
        return out
    hit = prob[(prob["target"] == target) & (prob["year"] == year)]
    if hit.empty:
        return out
    h = hit.iloc[0]
    out["p_met"] = float(h["probability"])
    if "wilson_low" in h.index:
        out["p_low"], out["p_high"] = float(h["wilson_low"]), float(h["wilson_high"])
    return out


def _physical(
    targets: pd.DataFrame,
    percentiles: pd.DataFrame | None,
    probabilities: pd.DataFrame | None,
    years: list[int],
) -> pd.DataFrame:
    phys = targets[(targets["sub_cluster"] == "physical") & targets["year"].isin(years)]
    pct = None if percentiles is None else _planner(percentiles, ("p10", "p50", "p90"))
    rows = []
    for plan_id in PHYSICAL_HEADLINES:
        for year in years:
            hit = phys[(phys["item"] == plan_id) & (phys["year"] == year)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            rows.append(
                {
                    "year": year,
                    "target": plan_id,
                    "unit": str(r.get("unit", "")),
                    "simulated": float(r["simulated"]),
                    "target_value": float(r["target"]),
                    "status": str(r["status"]),
                    "p50": _band(pct, plan_id, year)["p50"],
                    "p_met": _chance(probabilities, plan_id, year)["p_met"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=["year", "target", "unit", "simulated", "target_value", "status", "p50", "p_met"],
    )


def _drivers(tornado: pd.DataFrame | None, robustness: pd.DataFrame | None) -> pd.DataFrame:
    """The largest swings of the total by input: the tornado's, else the robustness table's."""
    columns = ["input", "year", "swing", "source"]
    if tornado is not None and {"input", "low_value", "high_value"} <= set(tornado.columns):
        t = (
            tornado
            if "metric" not in tornado.columns
            else tornado[tornado["metric"] == "output.total"]
        )
        unit = str(t["unit"].iloc[0]) if "unit" in t.columns and len(t) else "亿元"
        factor = units.convert(1.0, unit, "亿元") if units.base_unit(unit) == "元" else 1.0
        swing = (t["high_value"] - t["low_value"]).abs() * factor
        year = t["year"] if "year" in t.columns else pd.Series(0, index=t.index)
        long = pd.DataFrame(
            {"input": t["input"], "year": year, "swing": swing, "source": "tornado"}
        )
    elif robustness is not None and {"low_simulated", "high_simulated"} <= set(robustness.columns):
        r = robustness[robustness["target"] == "output.total"]
        swing = (r["high_simulated"] - r["low_simulated"]).abs()
        long = pd.DataFrame(
            {"input": r["assumption"], "year": r["year"], "swing": swing, "source": "robustness"}
        )
    else:
        return pd.DataFrame(columns=columns)
    wide = long.pivot_table(index="input", columns="year", values="swing", aggfunc="max")
    wide.columns = [f"swing_{int(c)}" for c in wide.columns]
    order = wide.max(axis=1).sort_values(ascending=False, kind="stable").index[:DRIVERS]
    out = wide.loc[order].reset_index()
    return out.assign(source=str(long["source"].iloc[0]))


# --------------------------------------------------------------------------- the page
def summary_pages(
    facts: SummaryFacts,
    lang: Lang,
    *,
    scenario_name: str,
    description: str,
    run_facts: str,
    scenario: object = None,
) -> list[Figure]:
    """The summary as A4 pages (usually one): title, scenario, the verdict table, gaps by
    sub-cluster, production and LNG, drivers, what it would take, what it rests on."""
    t = _Words(lang)
    with use_report_style(lang):
        flow = Flow(lang)
        flow.text(label("title.cover", lang), 15.0, gap_pt=6.0)
        flow.text(f"{label('word.scenario', lang)}: {scenario_name}", 11.0, gap_pt=2.0)
        if description:
            flow.text(description, color="#333333", gap_pt=2.0)
        flow.text(run_facts, color="#444444", gap_pt=4.0)
        _verdict_section(flow, facts, t)
        _gap_section(flow, facts, t)
        _drivers_section(flow, facts, t, scenario)
        _take_section(flow, facts, t)
        _rests_section(flow, facts, t, scenario)
    return flow.pages


class _Words:
    """The page's words in one language (labels of :data:`cbm_sim.report.style.LABELS`)."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, key: str, **kw: Any) -> str:
        text = label(f"summary.{key}", self.lang)
        return text.format(**kw) if kw else text

    def basis(self, row: pd.Series) -> str:
        """The target row's basis mark (input, exogenous, cap …) in the page's language,
        "" for a computed figure or a target check without marks."""
        if "basis" not in row.index or "target_kind" not in row.index:
            return ""
        from cbm_sim.economics.targets import mark
        from cbm_sim.report.tables import BASIS_WORDS

        words = mark(str(row["basis"]), str(row["target_kind"]))
        k = 0 if self.lang == "zh" else 1
        return (
            " · ".join(BASIS_WORDS[w][k] if w in BASIS_WORDS else w for w in words.split(" · "))
            if words
            else ""
        )

    def sep(self) -> str:
        return "；" if self.lang == "zh" else "; "

    def status(self, status: str) -> tuple[str, str]:
        met = status == MET
        word = names.status_name(status, self.lang)
        return f"{MET_MARK if met else SHORT_MARK} {word}", MET_COLOUR if met else SHORT_COLOUR


def _num(v: float, digits: int = 1, sign: bool = False) -> str:
    if not np.isfinite(v):
        return "—"
    if round(v, digits) == 0:
        v = 0.0
    return f"{v:+,.{digits}f}" if sign else f"{v:,.{digits}f}"


def _pct(p: float) -> str:
    return "—" if not np.isfinite(p) else f"{100 * p:.0f}%"


def _verdict_section(flow: Flow, facts: SummaryFacts, t: _Words) -> None:
    flow.heading(t("verdict"))
    v = facts.verdicts
    has_band = bool(np.isfinite(v["p50"]).any()) if len(v) else False
    header = [t("col.year"), t("col.simulated"), t("col.band"), t("col.target"), t("col.gap"),
              t("col.p_met"), t("col.verdict")]  # fmt: skip
    rows = []
    for r in v.itertuples(index=False):
        mark, colour = t.status(str(r.status))
        band = f"{_num(r.p50)} ({_num(r.p10)}–{_num(r.p90)})" if np.isfinite(r.p50) else "—"
        chance = _pct(r.p_met)
        if np.isfinite(r.p_low):
            chance += f" ({_pct(r.p_low)}–{_pct(r.p_high)})"
        rows.append(
            Row(
                [
                    str(r.year),
                    _num(r.simulated),
                    band,
                    _num(r.target, 0),
                    f"{_num(r.gap, sign=True)} ({_num(r.gap_pct, sign=True)}%)",
                    chance,
                    mark,
                ],
                colours={6: colour},
            )
        )
    flow.table([header], rows, (0.08, 0.13, 0.21, 0.10, 0.19, 0.16, 0.13))
    for r in v.itertuples(index=False):
        if np.isfinite(r.exogenous):
            share = r.exogenous / r.simulated if r.simulated else np.nan
            flow.text(
                t("exogenous", year=r.year, exo=r.exogenous, share=100 * share,
                  rest=r.simulated - r.exogenous),
                gap_pt=1.0,
            )  # fmt: skip
    if not has_band:
        flow.text(t("no_ensemble"), color="#444444")
    elif facts.steps.get("ensemble") not in (None, facts.steps.get("run")):
        flow.text(
            t("ensemble_step", step=_step(facts.steps["ensemble"], t.lang),
              run=_step(facts.steps.get("run"), t.lang)),
            color="#444444",
        )  # fmt: skip


def _step(step: Any, lang: str) -> str:
    if step is None:
        return "?"
    if isinstance(step, int | float) or str(step).isdigit():
        n = int(step)
        if lang == "zh":
            return "逐日" if n == 1 else f"{n}天"
        return "daily" if n == 1 else f"{n}-day"
    words = {"month": ("逐月", "monthly"), "quarter": ("逐季", "quarterly")}
    zh, en = words.get(str(step), (str(step), str(step)))
    return zh if lang == "zh" else en


def _gap_section(flow: Flow, facts: SummaryFacts, t: _Words) -> None:
    flow.heading(t("gaps"))
    years = sorted(int(y) for y in facts.verdicts["year"])
    header = [t("col.sub_cluster"), *[f"{y} {t('col.sim_target')}" for y in years]]
    subs = facts.sub_clusters
    rows = []
    for sc in SUB_CLUSTERS:
        row = Row([names.sub_cluster_name(sc, t.lang)])
        for year in years:
            hit = subs[(subs["sub_cluster"] == sc) & (subs["year"] == year)]
            if hit.empty:
                row.cells.append("—")
                continue
            h = hit.iloc[0]
            mark, colour = t.status(str(h["status"]))
            text = f"{_num(h['simulated'])} / {_num(h['target'], 0)} {mark.split()[0]}"
            basis = t.basis(h)
            row.cells.append(f"{text} {basis}" if basis else text)
            row.colours[len(row.cells) - 1] = colour
        rows.append(row)
    for r in _physical_rows(facts, t, years):
        rows.append(r)
    first = 0.40
    flow.table([header], rows, (first, *[(1 - first) / len(years)] * len(years)))
    flow.text(t("gaps_note"), color="#444444")


def _physical_rows(facts: SummaryFacts, t: _Words, years: list[int]) -> list[Row]:
    out = []
    phys = facts.physical
    for plan_id in PHYSICAL_HEADLINES:
        part = phys[phys["target"] == plan_id]
        if part.empty:
            continue
        unit = str(part["unit"].iloc[0])
        row = Row([f"{names.target_name(plan_id, t.lang)}（{unit_label(unit, t.lang)}）"
                   if t.lang == "zh" else
                   f"{names.target_name(plan_id, t.lang)} ({unit_label(unit, t.lang)})"],
                  total=True)  # fmt: skip
        for year in years:
            hit = part[part["year"] == year]
            if hit.empty:
                row.cells.append("—")
                continue
            h = hit.iloc[0]
            mark, colour = t.status(str(h["status"]))
            text = f"{_num(h['simulated'])} / {_num(h['target_value'], 0)} {mark.split()[0]}"
            if np.isfinite(h["p_met"]):
                text += f" P {_pct(h['p_met'])}"
            row.cells.append(text)
            row.colours[len(row.cells) - 1] = colour
        out.append(row)
    return out


def _drivers_section(flow: Flow, facts: SummaryFacts, t: _Words, scenario: object) -> None:
    from cbm_sim.report.style import input_label

    flow.heading(t("drivers"))
    d = facts.drivers
    if d.empty:
        flow.text(t("no_drivers"), color="#444444")
        return
    years = [c for c in d.columns if c.startswith("swing_")]
    header = [t("col.input"), *[t("col.swing", year=c[6:]) for c in years]]
    rows = [
        Row(
            [
                input_label(str(r["input"]), t.lang, scenario),
                *[_num(float(r[c])) for c in years],
            ]
        )
        for _, r in d.iterrows()
    ]
    first = 0.58
    flow.table([header], rows, (first, *[(1 - first) / len(years)] * len(years)), wrapped=(0,))
    flow.text(t(f"drivers_from_{d['source'].iloc[0]}"), color="#444444")


def _take_section(flow: Flow, facts: SummaryFacts, t: _Words) -> None:
    flow.heading(t("take"))
    if not facts.goal_seeks:
        flow.text(t("no_goal_seek"), color="#444444")
        return
    for g in facts.goal_seeks:
        what = names.target_name(g.quantity, t.lang)
        lever = names.input_name(g.lever, t.lang)
        key = "goal_reached" if g.converged else "goal_missed"
        unit = unit_label(g.unit.replace("³", "3"), t.lang)
        flow.text(
            "• " + t(key, year=g.year, what=what, target=g.target, unit=unit, lever=lever,
                     value=g.value, achieved=g.achieved),
            gap_pt=1.5,
        )  # fmt: skip


def _rests_section(flow: Flow, facts: SummaryFacts, t: _Words, scenario: object) -> None:
    from cbm_sim.report.style import input_label

    flow.heading(t("rests"))
    if facts.calibration is not None:
        met, total = facts.calibration
        flow.text("• " + t("calibration", met=met, total=total), gap_pt=1.5)
    if facts.skill is not None and facts.skill["scored"].astype(bool).any():
        from cbm_sim.report.hindcast_charts import summary_line

        flow.text("• " + t("skill") + summary_line(facts.skill, t.lang), gap_pt=1.5)
    else:
        flow.text("• " + t("no_skill"), gap_pt=1.5, color="#444444")
    v = facts.verdicts
    if len(v) and np.isfinite(v["exogenous"]).all():
        parts = [
            t("exo_item", year=r.year, exo=r.exogenous, share=100 * r.exogenous / r.simulated)
            for r in v.itertuples(index=False)
            if r.simulated
        ]
        flow.text("• " + t("exo") + t.sep().join(parts), gap_pt=1.5)
    if facts.flips is None:
        flow.text("• " + t("no_robustness"), gap_pt=1.5, color="#444444")
    elif facts.flips.empty:
        flow.text("• " + t("no_flips"), gap_pt=1.5)
    else:
        marks = {"low": "▼", "high": "▲", "low+high": "▼▲"}
        parts = [
            f"{int(r.year)} {input_label(str(r.assumption), t.lang, scenario)}"
            f"{marks.get(str(r.end), '')}"
            for r in facts.flips.itertuples(index=False)
        ]
        flow.text("• " + t("flips") + ("、" if t.lang == "zh" else ", ").join(parts), gap_pt=1.5)


__all__ = [
    "DRIVERS",
    "PHYSICAL_HEADLINES",
    "SKILL_COLUMNS",
    "GoalSeekRun",
    "SummaryFacts",
    "summary_facts",
    "summary_pages",
]
