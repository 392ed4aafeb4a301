"""The "what flips it" chart: which assumption's stated swing flips which 2025/2030 verdict.

Input: the table of :func:`cbm_sim.studies.robustness.robustness` (``robustness.csv``), one row
per year × target × assumption with the base status and the status at the assumption's low and
high end. The chart is a grid, targets down and assumptions across; a cell is red where the
swing flips the verdict (marked at which end: low ▼, high ▲), green where it holds, and states
the value at both ends.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from cbm_sim.report.ensemble_charts import target_name
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import label, new_figure, require_columns

CHART_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "target",
    "assumption",
    "base_simulated",
    "target_value",
    "base_status",
    "low_simulated",
    "high_simulated",
    "flips",
)
"""Columns of the robustness table the chart reads."""

_TITLE: Final[dict[str, str]] = {
    "zh": "稳健性：哪项假设（低/高取值）会翻转达标结论",
    "en": "What flips the verdict: each assumption at its stated low/high",
}
_NOTE: Final[dict[str, str]] = {
    "zh": "红色：翻转（▼低值，▲高值）；绿色：结论不变。格内为低值/高值下的模拟产值（亿元）",
    "en": "red: verdict flips (▼ at low, ▲ at high); green: holds. Cells: value at low / high "
    "(100 million CNY)",
}
_FLIP_MARK: Final[dict[str, str]] = {"": "", "low": "▼", "high": "▲", "low+high": "▼▲"}
_ASSUMPTION_ZH: Final[dict[str, str]] = {
    "gas_price": "气价",
    "per_well_values": "单井价值",
    "horizontal_well_equivalent": "水平井当量",
    "peak_rate": "单井峰值产量",
    "drilling": "钻井数",
    "exogenous_items": "外生项目",
    "carbon_baseline": "碳减排基线",
}
"""Chinese names of the default swings (``studies.robustness.default_swings``); other
assumptions (a scenario's uncertainty paths) are shown as named."""


def robustness_chart(table: pd.DataFrame, lang: Lang) -> Figure:
    """Grid of targets × assumptions, red where the assumption's swing flips the verdict.

    Parameters
    ----------
    table
        The robustness table (:data:`CHART_COLUMNS` at least; values in 亿元).
    lang
        ``"zh"`` or ``"en"``.

    Raises
    ------
    ValueError
        If the table lacks a column or has no rows.
    """
    require_columns(table, CHART_COLUMNS, "robustness table")  # also refuses an empty table
    flips = table["flips"].fillna("").astype(str)
    frame = table.assign(flips=flips)
    targets = list(dict.fromkeys(zip(frame["year"].astype(int), frame["target"], strict=True)))
    assumptions = list(dict.fromkeys(frame["assumption"].astype(str)))
    grid = np.zeros((len(targets), len(assumptions)))
    text = [["" for _ in assumptions] for _ in targets]
    row_of = {t: i for i, t in enumerate(targets)}
    col_of = {a: j for j, a in enumerate(assumptions)}
    for r in frame.itertuples(index=False):
        i, j = row_of[(int(r.year), r.target)], col_of[str(r.assumption)]
        grid[i, j] = 1.0 if r.flips else 0.0
        mark = _FLIP_MARK.get(r.flips, r.flips)
        text[i][j] = f"{r.low_simulated:,.0f}/{r.high_simulated:,.0f}{mark}"
    first = frame.drop_duplicates(["year", "target"]).set_index(["year", "target"])
    names = []
    for year, target in targets:
        b = first.loc[(year, target)]
        status = str(b["base_status"])
        verdict = label(f"word.{status}", lang) if status in ("met", "short") else status
        names.append(
            f"{year} {target_name(target, lang)}: "
            f"{b['base_simulated']:,.0f}/{b['target_value']:,.0f} {verdict}"
        )
    with use_report_style(lang):
        fig = new_figure((11.0, max(4.0, 0.32 * len(targets) + 2.0)))
        ax = fig.add_subplot()
        cmap = ListedColormap(["#c7e9c0", "#fb6a4a"])
        ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        for i in range(len(targets)):
            for j in range(len(assumptions)):
                ax.text(j, i, text[i][j], ha="center", va="center", fontsize=6.5)
        shown = [_ASSUMPTION_ZH.get(a, a) if lang == "zh" else a for a in assumptions]
        ax.set_xticks(np.arange(len(assumptions)), shown, rotation=20, ha="right", fontsize=8)
        ax.set_yticks(np.arange(len(targets)), names, fontsize=7)
        ax.set_title(_TITLE[lang])
        ax.set_xlabel(_NOTE[lang], fontsize=7)
    return fig
