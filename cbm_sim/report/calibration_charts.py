"""The report page of the history's calibration and backtest (``cbm-sim calibrate``'s table)."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.names import calibration_name
from cbm_sim.report.fonts import Lang, check_lang, use_report_style
from cbm_sim.report.style import MET_COLOUR, SHORT_COLOUR
from cbm_sim.report.tables import Row, _pages_of, rows_per_page, table_figure, wrap_rows

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "历史校准与回测（地面抽采，截至2021年底）",
        "cols": ["目标", "年份", "模拟", "报告", "单位", "误差", "达标", "权重"],
        "yes": "是",
        "no": "否",
    },
    "en": {
        "title": "Calibration and backtest of the well history (surface CBM, to end-2021)",
        "cols": ["target", "year", "sim.", "reported", "unit", "error", "met", "w."],
        "yes": "yes",
        "no": "no",
    },
}


_UNITS: dict[str, dict[str, str]] = {
    "zh": {
        "1e8 m3": "亿m³",
        "1e8 m3/yr": "亿m³/年",
        "fraction": "比例",
        "ratio": "倍",
        "wells": "口",
        "m3/d per producing well": "m³/日·井",
        "1e8 yuan": "亿元",
    },
    "en": {
        "1e8 m3": "10⁸ m³",
        "1e8 m3/yr": "10⁸ m³/yr",
        "fraction": "share",
        "ratio": "ratio",
        "wells": "wells",
        "m3/d per producing well": "m³/d/well",
        "1e8 yuan": "10⁸ CNY",
    },
}
"""Short forms of the backtest's units, so that every cell holds one line at 9 pt."""


def _fmt(value: float, *, sign: bool = False) -> str:
    """Three significant digits, thousands grouped, no exponent; "—" for a missing value."""
    v = float(value)
    if not math.isfinite(v):
        return "—"
    if abs(v) < 5e-4:
        return "0"
    text = f"{v:+,.0f}" if abs(v) >= 1000 and sign else f"{v:,.0f}" if abs(v) >= 1000 else ""
    if not text:
        digits = max(0, 2 - math.floor(math.log10(abs(v))))
        text = f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"
    return text


def calibration_table_pages(frame: pd.DataFrame, lang: Lang = "zh") -> list[Figure]:
    """Table pages of :func:`cbm_sim.wells.calibration.backtest`'s frame (9 pt, as many pages
    as the targets need; a target not met in red, marked "no"/"否" as well).

    Raises
    ------
    ValueError
        If ``lang`` is unknown or the frame lacks a column of the backtest table.
    """
    text = _TEXT[check_lang(lang)]
    need = {"id", "year", "simulated", "reported", "unit", "error", "met", "weight"}
    missing = sorted(need - set(frame.columns))
    if missing:
        raise ValueError(f"calibration frame lacks columns {missing}")
    units = _UNITS[lang]
    bounds = {"at_least": "≥ ", "at_most": "≤ "}
    rows = []
    for r in frame.itertuples(index=False):
        met = bool(r.met)
        metric = str(getattr(r, "metric", ""))
        bound = bounds.get(str(getattr(r, "kind", "")), "")
        rows.append(
            Row(
                [
                    calibration_name(str(r.id), metric, None, lang),
                    str(r.year),
                    _fmt(r.simulated),
                    bound + _fmt(r.reported),
                    units.get(str(r.unit), str(r.unit)),
                    _fmt(r.error, sign=True),
                    text["yes"] if met else text["no"],
                    f"{r.weight:g}",
                ],
                colours={6: MET_COLOUR if met else SHORT_COLOUR},
            )
        )
    widths = (0.35, 0.07, 0.10, 0.11, 0.11, 0.11, 0.07, 0.08)
    rows = wrap_rows(rows, widths, wrapped=(0,))
    pages = _pages_of(rows, rows_per_page(1)) if rows else [[]]
    with use_report_style(lang):
        return [
            table_figure(text["title"], [text["cols"]], page, widths)
            for page in pages
            if page or not rows
        ]


def calibration_table_figure(frame: pd.DataFrame, lang: Lang = "zh") -> Figure:
    """The first page of :func:`calibration_table_pages`."""
    return calibration_table_pages(frame, lang)[0]


@cache
def calibration_frame() -> pd.DataFrame:
    """The backtest of the packaged history (seed 0, ``cbm-sim calibrate``'s table), computed
    once per process (about 2 s): the calibration page and the summary's skill line share it.
    Callers must not modify it."""
    from cbm_sim.wells.calibration import backtest

    return backtest(0)


def calibration_pages(lang: Lang = "zh") -> list[Figure]:
    """The calibration/backtest table of the packaged history (seed 0, ``cbm-sim calibrate``)."""
    return calibration_table_pages(calibration_frame(), lang)
