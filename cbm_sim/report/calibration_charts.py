"""The report page of the history's calibration and backtest (``cbm-sim calibrate``'s table)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.report.fonts import Lang, check_lang

_TEXT = {
    "zh": {
        "title": "历史校准与回测（地面抽采，截至2021年底）",
        "cols": ["目标", "年份", "模拟", "报告", "单位", "误差", "达标", "权重"],
        "note": "权重0 = 仅回测；nan = 未建模。来源见 cbm_sim/data/history.yaml；"
        "cbm-sim calibrate 可复现。",
        "yes": "是",
        "no": "否",
    },
    "en": {
        "title": "Calibration and backtest of the well history (surface CBM, to end-2021)",
        "cols": ["target", "year", "simulated", "reported", "unit", "error", "met", "weight"],
        "note": "weight 0 = backtest only; nan = not modelled. Sources: cbm_sim/data/history.yaml; "
        "rerun with cbm-sim calibrate.",
        "yes": "yes",
        "no": "no",
    },
}


def calibration_table_figure(frame: pd.DataFrame, lang: Lang = "zh") -> Figure:
    """A table page of :func:`cbm_sim.wells.calibration.backtest`'s frame.

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
    cells = [
        [
            str(r.id),
            str(r.year),
            f"{r.simulated:.4g}",
            f"{r.reported:.4g}",
            str(r.unit),
            f"{r.error:+.3g}",
            text["yes"] if r.met else text["no"],
            f"{r.weight:g}",
        ]
        for r in frame.itertuples(index=False)
    ]
    fig = Figure(figsize=(11.69, 8.27))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(text["title"])
    table = ax.table(cellText=cells, colLabels=text["cols"], loc="upper center", cellLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(text["cols"]))))
    for (row, col), cell in table.get_celld().items():
        if row > 0 and col == 6 and cells[row - 1][6] == text["no"]:
            cell.set_text_props(color="#b2182b")  # no bold: the CJK font has none
    fig.text(0.05, 0.03, text["note"], fontsize=8)
    return fig


def calibration_page(lang: Lang = "zh") -> Figure:
    """The calibration/backtest page of the packaged history (seed 0, ``cbm-sim calibrate``)."""
    from cbm_sim.wells.calibration import backtest

    return calibration_table_figure(backtest(0), lang)
