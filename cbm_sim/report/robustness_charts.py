"""The "what flips it" chart: which assumption's stated swing flips which 2025/2030 verdict.

Input: the table of :func:`cbm_sim.studies.robustness.robustness` (``robustness.csv``), one row
per year × target × assumption with the base status and the status at the assumption's low and
high end. The page is a table at 9 pt, one row per year × target: the base value, the target, the
base verdict and the assumptions whose swing flips it (at which end: low ▼, high ▲); the full
grid with the values at both ends is ``robustness.csv``.
"""

from __future__ import annotations

from typing import Final

import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.names import input_name
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import MET_COLOUR, SHORT_COLOUR, label, require_columns, target_name
from cbm_sim.report.tables import Row, _pages_of, rows_per_page, table_figure

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
_COLUMNS: Final[dict[str, list[str]]] = {
    "zh": ["年份与目标", "模拟/目标（亿元）", "结论", "翻转结论的假设（▼低值 ▲高值）"],
    "en": ["year and target", "sim./target (10⁸ CNY)", "verdict", "flipped by (▼ low, ▲ high)"],
}
_FLIP_MARK: Final[dict[str, str]] = {"": "", "low": "▼", "high": "▲", "low+high": "▼▲"}


def robustness_pages(table: pd.DataFrame, lang: Lang) -> list[Figure]:
    """Table pages: per year × target, the base verdict and the assumptions that flip it.

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
    frame = table.assign(flips=table["flips"].fillna("").astype(str))
    rows = []
    for (year, target), part in frame.groupby(["year", "target"], sort=False):
        b = part.iloc[0]
        status = str(b["base_status"])
        verdict = label(f"word.{status}", lang) if status in ("met", "short") else status
        hits = [
            f"{input_name(a, lang)}{_FLIP_MARK.get(f, f)}"
            for a, f in zip(part["assumption"].astype(str), part["flips"], strict=True)
            if f
        ]
        rows.append(
            Row(
                [
                    f"{int(year)} {target_name(str(target), lang)}",
                    f"{b['base_simulated']:,.0f} / {b['target_value']:,.0f}",
                    verdict,
                    ", ".join(hits) or "—",
                ],
                colours={2: MET_COLOUR if status == "met" else SHORT_COLOUR},
            )
        )
    widths = (0.30, 0.20, 0.10, 0.40)
    with use_report_style(lang):
        return [
            table_figure(_TITLE[lang], [_COLUMNS[lang]], page, widths)
            for page in _pages_of(rows, rows_per_page(1))
            if page
        ]


def robustness_chart(table: pd.DataFrame, lang: Lang) -> Figure:
    """The first page of :func:`robustness_pages`."""
    return robustness_pages(table, lang)[0]
