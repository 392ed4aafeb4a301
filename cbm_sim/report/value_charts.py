"""Charts of output value against the plan: the cover verdict, sub-cluster bars, the item table.

Inputs are the target-check frame of :func:`cbm_sim.economics.targets.check_targets` (columns
``year, sub_cluster, item, simulated, target, gap, gap_pct, status, unit, comparator, ref,
note, id``,
values in 亿元; ``item`` ``""``/``"total"`` marks a sub-cluster total, ``sub_cluster ==
"total"`` the cluster total, ``"physical"`` the physical targets) and, for the 2021 bars, the
tidy frame of :func:`cbm_sim.economics.valuation.value`
(``year, sub_cluster, item, …, value_yuan``).
A ``status`` of :data:`cbm_sim.economics.targets.MET` counts as met; any other (``short``,
``exceeded``) as not met.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.economics.targets import MET, TARGET_COLUMNS, TARGET_YEARS
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.page import MIN_FONT_PT, box_fraction, chart_width_in, max_chart_height_in, wrap
from cbm_sim.report.style import (
    MET_COLOUR,
    MET_MARK,
    SHORT_COLOUR,
    SHORT_MARK,
    YEAR_COLOURS,
    label,
    legend_below,
    new_figure,
    require_columns,
    to_money,
)
from cbm_sim.results.frames import Results

VALUE_COLUMNS: Final[tuple[str, ...]] = ("year", "sub_cluster", "item", "value_yuan")
"""Columns used from the valuation frame (contract of :func:`cbm_sim.economics.valuation.value`)."""


def is_total_item(item: object) -> bool:
    """Whether an ``item`` cell marks a (sub-)cluster total row (``""``, ``"total"`` or NA)."""
    return item is None or (isinstance(item, float) and np.isnan(item)) or item in ("", "total")


def cluster_totals(targets: pd.DataFrame) -> pd.DataFrame:
    """The cluster-total rows (``sub_cluster == "total"``), one per year, sorted by year."""
    require_columns(targets, TARGET_COLUMNS, "target-check frame")
    rows = targets[(targets["sub_cluster"] == "total") & targets["item"].map(is_total_item)]
    if rows["year"].duplicated().any():
        raise ValueError(f"target-check frame has several cluster totals for a year: {rows}")
    return rows.sort_values("year")


def sub_cluster_totals(targets: pd.DataFrame) -> pd.DataFrame:
    """Sub-cluster total rows: index ``(year, sub_cluster)``, columns ``simulated, target``."""
    require_columns(targets, TARGET_COLUMNS, "target-check frame")
    rows = targets[targets["sub_cluster"].isin(SUB_CLUSTERS) & targets["item"].map(is_total_item)]
    return rows.set_index(["year", "sub_cluster"])[["simulated", "target", "gap", "status"]]


def cover_chart(
    results: Results, targets: pd.DataFrame, lang: Lang, *, values: pd.DataFrame | None = None
) -> Figure:
    """Cover page: scenario, run facts, and the 2025/2030 verdict on the cluster output target.

    With the valuation frame ``values`` (its ``basis`` column), each verdict also states how
    much of the output value is exogenous (the plan's own figures) and the simulated rest.

    Each target year shows the simulated cluster output, the plan target (500 / 1000 亿元,
    ch3 §3, as carried by the target-check frame), the gap and met/short, and lists the
    sub-clusters that fall short.
    """
    totals = cluster_totals(targets)
    sub = sub_cluster_totals(targets)
    name, description = _scenario_text(results, lang)
    meta = results.meta
    cjk = lang == "zh"
    exogenous = _exogenous_by_year(values)
    with use_report_style(lang):
        fig = new_figure(max_chart_height_in(), layout=False)
        ax = fig.add_axes(box_fraction(fig))
        width_in = chart_width_in()
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)

        height_in = max_chart_height_in()
        cursor = [1.0]  # top of the next text, axes fraction

        def put(text: str, size: float, gap_pt: float = 4.0, **kw: Any) -> None:
            """``text`` at the cursor, which then moves below it (its wrapped lines)."""
            lines = wrap(text, width_in, size, cjk=cjk)
            ax.text(
                0.0, cursor[0], lines, ha="left", va="top", fontsize=size, linespacing=1.3,
                **kw,
            )  # fmt: skip
            used_pt = (lines.count("\n") + 1) * size * 1.3 + gap_pt
            cursor[0] -= used_pt / 72.0 / height_in

        put(label("title.cover", lang), 15, gap_pt=12)
        put(f"{label('word.scenario', lang)}: {name}", 12)
        if description:
            put(description, MIN_FONT_PT, color="#333333")
        facts = "\n".join(
            [
                f"{label('word.period', lang)}: {meta.get('start', '?')} – {meta.get('end', '?')}",
                f"{label('word.seed', lang)}: {meta.get('seed', '?')}",
                f"{label('word.version', lang)}: cbm-sim {meta.get('cbm_sim_version', '?')}",
            ]
        )
        put(facts, MIN_FONT_PT, gap_pt=24, color="#444444")
        put(label("word.verdict", lang), 12, gap_pt=8)
        for row in totals.itertuples(index=False):
            met = str(row.status) == MET
            verdict = label("fmt.verdict", lang).format(
                year=int(row.year),
                simulated=float(row.simulated),
                target=float(row.target),
                verdict=label("word.met" if met else "word.short", lang),
                gap=float(row.gap),
                gap_pct=float(row.gap_pct),
            )
            mark = MET_MARK if met else SHORT_MARK
            put(f"{mark} {verdict}", 10.5, color=MET_COLOUR if met else SHORT_COLOUR)
            exo = exogenous.get(int(row.year))
            if exo is not None:
                part = float(exo.sum())
                text = label("fmt.exogenous", lang).format(
                    exogenous=part, simulated=float(row.simulated) - part
                )
                put(text, MIN_FONT_PT, color="#444444")
            year_sub = sub.xs(row.year, level="year") if row.year in sub.index.levels[0] else None
            short = (
                []
                if year_sub is None
                else [
                    label(f"sc.{sc}", lang)
                    for sc in SUB_CLUSTERS
                    if sc in year_sub.index and str(year_sub.loc[sc, "status"]) != MET
                ]
            )
            put(
                f"{label('word.short_sub_clusters', lang)}: "
                + ("、" if cjk else ", ").join(short or [label("word.none", lang)]),
                MIN_FONT_PT,
                gap_pt=16,
            )
    return fig


def value_chart(targets: pd.DataFrame, lang: Lang, *, values: pd.DataFrame | None = None) -> Figure:
    """Simulated output value of each sub-cluster in 2021, 2025 and 2030, with plan targets.

    Parameters
    ----------
    targets
        Target-check frame; gives the simulated and target values of 2025 and 2030 [亿元].
    lang
        ``"zh"`` or ``"en"``.
    values
        Valuation frame (``value_yuan`` per item); gives the simulated 2021 bars. Without it
        only the target years are drawn.
    """
    sub = sub_cluster_totals(targets)
    simulated: dict[int, pd.Series] = {}
    if values is not None:
        require_columns(values, VALUE_COLUMNS, "valuation frame")
        v2021 = values[values["year"] == 2021].groupby("sub_cluster")["value_yuan"].sum()
        if not v2021.empty:
            simulated[2021] = pd.Series(to_money(v2021), index=v2021.index)
    for year in TARGET_YEARS:
        if year in sub.index.levels[0]:
            simulated[year] = sub.xs(year, level="year")["simulated"]
    if not simulated:
        raise ValueError("no simulated sub-cluster values for 2021, 2025 or 2030 to chart")
    exogenous = _exogenous_by_year(values)
    with use_report_style(lang):
        fig = new_figure(chart_width_in() * 0.9)
        ax = fig.add_subplot()
        y = np.arange(len(SUB_CLUSTERS), dtype=np.float64)
        height = 0.8 / len(simulated)
        for i, (year, series) in enumerate(sorted(simulated.items())):
            pos = y - 0.4 + height * (i + 0.5)
            vals = series.reindex(SUB_CLUSTERS).fillna(0.0).to_numpy(dtype=np.float64)
            exo = (
                exogenous[year].reindex(SUB_CLUSTERS).fillna(0.0).to_numpy(dtype=np.float64)
                if year in exogenous
                else np.zeros_like(vals)
            )
            exo = np.minimum(exo, vals)
            colour = YEAR_COLOURS.get(year, "#999999")
            ax.barh(pos, vals - exo, height, color=colour, label=f"{year}")
            ax.barh(pos, exo, height, left=vals - exo, color="white", edgecolor=colour,
                    hatch="////", linewidth=0.6)  # fmt: skip
            if year in TARGET_YEARS:
                tgt = sub.xs(year, level="year")["target"].reindex(SUB_CLUSTERS)
                ax.vlines(
                    tgt.to_numpy(dtype=np.float64),
                    pos - height / 2,
                    pos + height / 2,
                    colors="black",
                    linestyles="solid" if year == TARGET_YEARS[-1] else "dashed",
                    lw=1.6,
                    label=f"{year} {label('series.plan_target', lang)}",
                )
        if any(float(v.sum()) > 0 for v in exogenous.values()):
            from matplotlib.patches import Patch

            hatched = Patch(
                facecolor="white",
                edgecolor="#555555",
                hatch="////",
                label=label("series.exogenous", lang),
            )
            ax.add_artist(ax.legend(handles=[hatched], loc="upper right"))
        ax.set_yticks(y, [label(f"sc.{sc}", lang) for sc in SUB_CLUSTERS])
        ax.invert_yaxis()
        ax.set_xlabel(label("axis.output_value", lang))
        ax.set_title(label("title.value", lang))
        ax.grid(axis="x", alpha=0.3)
        legend_below(ax, ncols=3)
    return fig


def _exogenous_by_year(values: pd.DataFrame | None) -> dict[int, pd.Series]:
    """Exogenous output value (the plan's own figures, ``basis``) by year and sub-cluster
    [亿元]; empty without a valuation frame or its ``basis`` column."""
    if values is None or "basis" not in values.columns:
        return {}
    exo = values[values["basis"].astype(str).str.startswith("exogenous")]
    by = exo.groupby(["year", "sub_cluster"])["value_yuan"].sum()
    return {
        int(year): pd.Series(to_money(part.to_numpy()), index=part.index.get_level_values(1))
        for year, part in by.groupby(level=0)
    }


def _num(value: object, sign: bool = False) -> str:
    v = float(value)  # type: ignore[arg-type]
    if not np.isfinite(v):
        return "—"
    if round(v, 1) == 0:
        v = 0.0  # no "-0.0": a gap within rounding is no gap
    return f"{v:+,.1f}" if sign else f"{v:,.1f}"


def _scenario_text(results: Results, lang: Lang) -> tuple[str, str]:
    """The scenario's name and its description in ``lang`` (``Scenario.describe``)."""
    scenario = results.scenario
    name = getattr(scenario, "name", None) or str(results.meta.get("scenario", "?"))
    describe = getattr(scenario, "describe", None)
    description = describe(lang) if callable(describe) else ""
    return name, description or str(results.meta.get("description", ""))


def _strip_all(lines: Iterable[str]) -> list[str]:
    return [ln.strip() for ln in lines]
