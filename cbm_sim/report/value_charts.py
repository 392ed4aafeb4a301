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
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.economics.targets import MET, TARGET_COLUMNS, TARGET_YEARS
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import (
    A4_PORTRAIT_IN,
    YEAR_COLOURS,
    item_key,
    label,
    label_or_id,
    new_figure,
    require_columns,
    to_money,
)
from cbm_sim.results.frames import Results

VALUE_COLUMNS: Final[tuple[str, ...]] = ("year", "sub_cluster", "item", "value_yuan")
"""Columns used from the valuation frame (contract of :func:`cbm_sim.economics.valuation.value`)."""

_OK_COLOUR, _SHORT_COLOUR = "#1a7f37", "#c62828"


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


def cover_chart(results: Results, targets: pd.DataFrame, lang: Lang) -> Figure:
    """Cover page: scenario, run facts, and the 2025/2030 verdict on the cluster output target.

    Each target year shows the simulated cluster output, the plan target (500 / 1000 亿元,
    ch3 §3, as carried by the target-check frame), the gap and met/short, and lists the
    sub-clusters that fall short.
    """
    totals = cluster_totals(targets)
    sub = sub_cluster_totals(targets)
    name, description = _scenario_text(results)
    meta = results.meta
    with use_report_style(lang):
        fig = new_figure(layout=False)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.95, label("title.cover", lang), ha="center", va="top", fontsize=18)
        ax.text(
            0.5, 0.86, f"{label('word.scenario', lang)}: {name}", ha="center", va="top", fontsize=13
        )
        ax.text(
            0.5, 0.80, _wrap(description, 90), ha="center", va="top", fontsize=9, color="#333333"
        )
        facts = "    ".join(
            [
                f"{label('word.period', lang)}: {meta.get('start', '?')} – {meta.get('end', '?')}",
                f"{label('word.seed', lang)}: {meta.get('seed', '?')}",
                f"{label('word.version', lang)}: {meta.get('cbm_sim_version', '?')}",
            ]
        )
        ax.text(0.5, 0.66, facts, ha="center", va="top", fontsize=8, color="#555555")
        ax.text(0.5, 0.58, label("word.verdict", lang), ha="center", va="top", fontsize=13)
        y = 0.50
        for row in totals.itertuples(index=False):
            met = str(row.status) == MET
            ax.text(
                0.5,
                y,
                label("fmt.verdict", lang).format(
                    year=int(row.year),
                    simulated=float(row.simulated),
                    target=float(row.target),
                    verdict=label("word.met" if met else "word.short", lang),
                    gap=float(row.gap),
                    gap_pct=float(row.gap_pct),
                ),
                ha="center",
                va="top",
                fontsize=12,
                color=_OK_COLOUR if met else _SHORT_COLOUR,
            )
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
            ax.text(
                0.5,
                y - 0.06,
                _wrap(
                    f"{label('word.short_sub_clusters', lang)}: "
                    + (", ".join(short) if short else label("word.none", lang)),
                    120,
                ),
                ha="center",
                va="top",
                fontsize=9,
            )
            y -= 0.16
        ax.text(
            0.5,
            0.02,
            label("word.source_note", lang),
            ha="center",
            va="bottom",
            fontsize=7,
            color="#777777",
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
    with use_report_style(lang):
        fig = new_figure()
        ax = fig.add_subplot()
        x = np.arange(len(SUB_CLUSTERS), dtype=np.float64)
        width = 0.8 / len(simulated)
        for i, (year, series) in enumerate(sorted(simulated.items())):
            offs = x - 0.4 + width * (i + 0.5)
            vals = series.reindex(SUB_CLUSTERS).to_numpy(dtype=np.float64)
            ax.bar(
                offs,
                vals,
                width,
                color=YEAR_COLOURS.get(year, "#999999"),
                label=f"{year} {label('series.simulated', lang)}",
            )
            if year in TARGET_YEARS:
                tgt = (
                    sub.xs(year, level="year")["target"]
                    .reindex(SUB_CLUSTERS)
                    .to_numpy(dtype=np.float64)
                )
                ax.hlines(
                    tgt,
                    offs - width / 2,
                    offs + width / 2,
                    colors="black",
                    linestyles="solid" if year == TARGET_YEARS[-1] else "dashed",
                    lw=2.0,
                    label=f"{year} {label('series.plan_target', lang)}",
                )
        ax.legend(loc="upper left", fontsize="small")
        ax.set_xticks(
            x,
            [label(f"sc.{sc}", lang) for sc in SUB_CLUSTERS],
            rotation=0 if lang == "zh" else 20,
            ha="center" if lang == "zh" else "right",
        )
        ax.set_xlabel(label("axis.sub_cluster", lang))
        ax.set_ylabel(label("axis.output_value", lang))
        ax.set_title(label("title.value", lang))
        ax.grid(axis="y", alpha=0.3)
    return fig


def value_table_chart(targets: pd.DataFrame, lang: Lang) -> Figure:
    """Table of every sub-cluster item: simulated, target and gap in 2025 and 2030 [亿元]."""
    require_columns(targets, TARGET_COLUMNS, "target-check frame")
    rows = _table_rows(targets, lang)
    if not rows:
        raise ValueError("target-check frame has no sub-cluster rows for 2025/2030")
    years = [y for y in TARGET_YEARS if y in set(targets["year"])]
    header = [label("word.sub_cluster", lang), label("word.item", lang)]
    for year in years:
        header += [
            f"{year} {label('word.simulated', lang)}",
            f"{year} {label('word.target', lang)}",
            f"{year} {label('word.gap', lang)}",
        ]
    with use_report_style(lang):
        fig = new_figure(A4_PORTRAIT_IN)
        ax = fig.add_subplot()
        ax.set_axis_off()
        cells = [r[0] for r in rows]
        # Fixed column widths (axes fraction): matplotlib's automatic widths re-measure every
        # cell on every draw and triple the save time of this page.
        value_width = (1.0 - 0.18 - 0.22) / (len(header) - 2)
        table = ax.table(
            cellText=cells,
            colLabels=header,
            colWidths=[0.18, 0.22] + [value_width] * (len(header) - 2),
            loc="upper center",
            cellLoc="right",
            colLoc="center",
        )
        table.auto_set_font_size(False)
        table.set_fontsize(6.5 if lang == "zh" else 5.5)
        for (r, c), cell in table.get_celld().items():
            cell.set_linewidth(0.3)
            if r == 0:
                cell.set_facecolor("#e0e0e0")
                continue
            bold, shorts = rows[r - 1][1], rows[r - 1][2]
            if bold:
                cell.set_facecolor("#f3f3f3")
            if c >= 2 and (c - 2) % 3 == 2 and shorts[(c - 2) // 3]:
                cell.get_text().set_color(_SHORT_COLOUR)
            if c < 2:
                cell.get_text().set_horizontalalignment("left")
        ax.set_title(label("title.value_table", lang))
    return fig


def _table_rows(targets: pd.DataFrame, lang: Lang) -> list[tuple[list[str], bool, list[bool]]]:
    """Table rows: (cells, is_total, short_per_year) ordered cluster total, then by sub-cluster."""
    years = [y for y in TARGET_YEARS if y in set(targets["year"])]
    frame = targets[targets["year"].isin(years)]
    frame = frame[frame["sub_cluster"].isin([*SUB_CLUSTERS, "total"])].copy()
    frame["key"] = [
        "" if is_total_item(i) else item_key(str(i), str(sc))
        for i, sc in zip(frame["item"], frame["sub_cluster"], strict=True)
    ]
    order = ["total", *SUB_CLUSTERS]
    out = []
    for sc in order:
        part = frame[frame["sub_cluster"] == sc]
        keys = list(dict.fromkeys(["", *part["key"]]))
        for key in keys:
            rows = part[part["key"] == key].set_index("year")
            if rows.empty:
                continue
            name = label_or_id("item", key, lang) if key else ""
            cells = [label(f"sc.{sc}", lang) if not key else "", name]
            shorts = []
            for year in years:
                if year in rows.index:
                    r = rows.loc[year]
                    cells += [_num(r["simulated"]), _num(r["target"]), _num(r["gap"], sign=True)]
                    shorts.append(str(r["status"]) != MET)
                else:
                    cells += ["—", "—", "—"]
                    shorts.append(False)
            out.append((cells, not key, shorts))
    return out


def _num(value: object, sign: bool = False) -> str:
    v = float(value)  # type: ignore[arg-type]
    if not np.isfinite(v):
        return "—"
    if round(v, 1) == 0:
        v = 0.0  # no "-0.0": a gap within rounding is no gap
    return f"{v:+,.1f}" if sign else f"{v:,.1f}"


def _scenario_text(results: Results) -> tuple[str, str]:
    scenario = results.scenario
    name = getattr(scenario, "name", None) or str(results.meta.get("scenario", "?"))
    description = getattr(scenario, "description", None) or str(results.meta.get("description", ""))
    return name, description


def _wrap(text: str, width: int) -> str:
    """Wrap mixed Chinese/Latin text to ``width`` columns (a Han character counts two)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, used = "", 0
        for ch in paragraph:
            w = _width(ch)
            if used + w > width:
                cut = line.rfind(" ")
                if w == 1 and cut > 0:  # Latin text breaks at the last space, not mid-word
                    lines.append(line[:cut])
                    line = line[cut + 1 :]
                else:
                    lines.append(line)
                    line = ""
                used = sum(_width(c) for c in line)
            line += ch
            used += w
        lines.append(line)
    return "\n".join(_strip_all(lines))


def _width(ch: str) -> int:
    """Columns a character takes: 2 for CJK (from U+2E80), 1 otherwise."""
    return 2 if ord(ch) > 0x2E7F else 1


def _strip_all(lines: Iterable[str]) -> list[str]:
    return [ln.strip() for ln in lines]
