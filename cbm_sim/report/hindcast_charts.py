"""The hindcast's skill (``cbm-sim backtest``'s ``skill.csv``): a chart and a report page.

:func:`skill_chart` draws each held-out observation against the members' P10-P90 band and
P50, as ratios to the observation (1 = the observation); :func:`skill_table_pages` is the
table; :func:`cbm_sim.report.pages.hindcast_pages` makes a page builder of both (the report
adds it with ``--backtest``; the page titles and captions are added to the labels here).
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.report.fonts import Lang, check_lang, use_report_style
from cbm_sim.report.page import box_title, chart_width_in, page_figure, wrap
from cbm_sim.report.style import LABELS, MET_COLOUR, SHORT_COLOUR, require_columns
from cbm_sim.report.tables import Row, _pages_of, rows_per_page, table_figure, wrap_rows

SKILL_COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "year",
    "observed",
    "unit",
    "kind",
    "p10",
    "p50",
    "p90",
    "rel_error",
    "inside",
    "scored",
)
"""Columns of the skill table the page reads (``cbm_sim.studies.backtest.SKILL_COLUMNS``)."""

LABELS.update(
    {
        "title.hindcast": (
            "回测：2021年模型对2022—2025年的预测",
            "Hindcast: the 2021 model on 2022-2025",
        ),
        "caption.hindcast": (
            "以2021年底可得数据校准的模型（含实际钻井）集合预测与2022—2025年公开数据对比；"
            "横条为P10—P90，圆点为P50，均以观测值为1；红色为观测值落在区间之外。"
            "cbm-sim backtest 可复现，数据见 cbm_sim/data/history.yaml（hindcast）。",
            "The model calibrated to what was known at the end of 2021, with the drilling that "
            "happened, as an ensemble against the public 2022-2025 record: bars P10-P90, dots "
            "P50, each over its observation (1 = observed); red: the observation lies outside. "
            "Rerun with cbm-sim backtest; the record is cbm_sim/data/history.yaml (hindcast).",
        ),
        "title.hindcast_table": ("回测技能表", "Hindcast skill table"),
        "caption.hindcast_table": (
            "每个留出观测值、集合P10/P50/P90、P50误差及是否落在P10—P90之内。",
            "Each held-out observation, the ensemble's P10/P50/P90, the P50's error and "
            "whether the observation lies inside P10-P90.",
        ),
    }
)
"""The page texts, added to the report's label table by this module (self-contained)."""

_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "x": "模拟值 / 观测值",
        "band": "P10—P90",
        "p50": "P50",
        "summary": "{n}个留出观测：偏差 {bias:+.0%}，MAPE {mape:.0%}，P10—P90覆盖率 {cov:.0%}",
        "title": "回测技能（留出观测）",
        "yes": "是",
        "no": "否",
    },
    "en": {
        "x": "simulated / observed",
        "band": "P10-P90",
        "p50": "P50",
        "summary": "{n} held-out observations: bias {bias:+.0%}, MAPE {mape:.0%}, "
        "P10-P90 coverage {cov:.0%}",
        "title": "Hindcast skill (held-out observations)",
        "yes": "yes",
        "no": "no",
    },
}


_COLUMNS: Final[dict[str, list[str]]] = {
    "zh": ["观测", "年份", "观测值", "P10", "P50", "P90", "误差", "区间内"],
    "en": ["observation", "year", "observed", "P10", "P50", "P90", "error", "inside"],
}


def _name(row: Any, lang: Lang) -> str:
    """An observation by its display name (:func:`cbm_sim.names.calibration_name`), never its
    id."""
    from cbm_sim.names import calibration_name

    return calibration_name(str(row.id), str(getattr(row, "metric", "")), None, lang)


def _scored(skill: pd.DataFrame) -> pd.DataFrame:
    require_columns(skill, SKILL_COLUMNS, "skill table")
    rows = skill[skill["scored"].astype(bool)]
    if rows.empty:
        raise ValueError("the skill table has no scored (held-out) observation")
    return rows.reset_index(drop=True)


def summary_line(skill: pd.DataFrame, lang: Lang) -> str:
    """Bias, MAPE and coverage of the scored rows, one line."""
    rows = _scored(skill)
    rel = rows["rel_error"].to_numpy(dtype=float)
    text = _TEXT[check_lang(lang)]["summary"]
    return text.format(
        n=len(rows),
        bias=float(np.mean(rel)),
        mape=float(np.mean(np.abs(rel))),
        cov=float(rows["inside"].astype(bool).mean()),
    )


def skill_chart(skill: pd.DataFrame, lang: Lang = "zh") -> Figure:
    """Each scored observation: the members' P10-P90 band and P50 over the observation.

    Raises
    ------
    ValueError
        If the table lacks a column or has no scored row, or ``lang`` is unknown.
    """
    rows = _scored(skill)
    text = _TEXT[check_lang(lang)]
    y = np.arange(len(rows))[::-1]
    obs = rows["observed"].to_numpy(dtype=float)
    lo, mid, hi = (rows[c].to_numpy(dtype=float) / obs for c in ("p10", "p50", "p90"))
    inside = rows["inside"].astype(bool).to_numpy()
    colours = [MET_COLOUR if ok else SHORT_COLOUR for ok in inside]
    with use_report_style(lang):
        fig = page_figure(min(chart_width_in() * 0.35 + 0.36 * len(rows), 8.5))
        # the summary across the top of the chart box (inside it, never past its edge)
        box_title(fig, summary_line(skill, lang), size=9.0, cjk=lang == "zh")
        ax = fig.add_subplot()
        ax.hlines(y, lo, hi, colors=colours, linewidth=5, alpha=0.45, label=text["band"])
        ax.scatter(mid, y, color=colours, zorder=3, s=18, label=text["p50"])
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(y)
        room = chart_width_in() * 0.42  # the names wrap to this, the bands get the rest
        ax.set_yticklabels(
            [
                wrap(
                    f"{_name(r, lang)} ({r.year})" + ("" if r.kind == "equal" else " ≥"), room, 9.0
                )
                for r in rows.itertuples()
            ]
        )
        ax.set_xlabel(text["x"])
        finite = np.concatenate([lo, hi])[np.isfinite(np.concatenate([lo, hi]))]
        right = max(1.3, float(finite.max()) * 1.05) if finite.size else 1.3
        ax.set_xlim(0.0, right)
        ax.grid(axis="x", alpha=0.3)
    return fig


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def skill_table_pages(skill: pd.DataFrame, lang: Lang = "zh") -> list[Figure]:
    """The scored rows as table pages (9 pt): observed, P10/P50/P90, error, inside.

    Raises
    ------
    ValueError
        As :func:`skill_chart`.
    """
    rows = _scored(skill)
    text = _TEXT[check_lang(lang)]
    body = []
    for r in rows.itertuples(index=False):
        ok = bool(r.inside)
        bound = "" if r.kind == "equal" else (" ≥" if r.kind == "at_least" else " ≤")
        body.append(
            Row(
                [
                    _name(r, lang),
                    str(r.year),
                    _fmt(r.observed) + bound,
                    _fmt(r.p10),
                    _fmt(r.p50),
                    _fmt(r.p90),
                    f"{r.rel_error:+.0%}",
                    text["yes"] if ok else text["no"],
                ],
                colours={7: MET_COLOUR if ok else SHORT_COLOUR},
            )
        )
    widths = (0.34, 0.08, 0.12, 0.10, 0.10, 0.10, 0.09, 0.07)
    body = wrap_rows(body, widths, wrapped=(0,))
    title = f"{text['title']}: {summary_line(skill, lang)}"
    with use_report_style(lang):
        return [
            table_figure(title, [_COLUMNS[lang]], page, widths)
            for page in _pages_of(body, rows_per_page(1) - 2)  # a two-line title
            if page
        ]
