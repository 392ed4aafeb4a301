"""The Sobol page: first-order and total indices of the cluster's output value, per year.

Reads the frame of :func:`cbm_sim.studies.sensitivity.sobol_indices` (``sobol.csv`` of
``cbm-sim sensitivity``): ``year, input, S1, S1_low, S1_high, ST, ST_low, ST_high`` (and
``n``, ``runs``, ``metric``). One panel per year, inputs ordered by their total index in the
last year, bars with their bootstrap 95 % intervals.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.style import label, new_figure, require_columns

SOBOL_CHART_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "input",
    "S1",
    "S1_low",
    "S1_high",
    "ST",
    "ST_low",
    "ST_high",
)
X_LIMITS: Final[tuple[float, float]] = (-0.25, 1.25)
"""Index axis: [0, 1] with room for intervals that cross it (wider ones are clipped)."""
TOP_INPUTS: Final[int] = 12
"""Inputs shown (largest total index); assumption: the rest would not be readable."""


def sobol_chart(sobol: pd.DataFrame, lang: Lang, top: int = TOP_INPUTS) -> Figure:
    """Bars of S1 and ST with their 95 % intervals, one panel per year.

    Raises
    ------
    ValueError
        If a column is missing or ``top < 1``.
    """
    require_columns(sobol, SOBOL_CHART_COLUMNS, "Sobol frame")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    years = sorted(int(y) for y in sobol["year"].unique())
    last = sobol[sobol["year"] == years[-1]].sort_values("ST", ascending=False)
    names = list(last["input"].astype(str))[:top]
    n_text = ""
    if "n" in sobol.columns and "runs" in sobol.columns:
        n_text = f" (N = {int(sobol['n'].iloc[0])}, {int(sobol['runs'].iloc[0])} runs)"
    with use_report_style(lang):
        fig = new_figure()
        axes = fig.subplots(1, len(years), sharey=True, squeeze=False)[0]
        pos = np.arange(len(names), dtype=np.float64)
        for ax, year in zip(axes, years, strict=True):
            part = sobol[sobol["year"] == year].set_index("input").reindex(names)
            for k, (col, colour) in enumerate((("S1", "#9ecae1"), ("ST", "#08519c"))):
                value = part[col].to_numpy(dtype=np.float64)
                low = part[f"{col}_low"].to_numpy(dtype=np.float64)
                high = part[f"{col}_high"].to_numpy(dtype=np.float64)
                y = pos - 0.2 + 0.4 * k
                ax.barh(
                    y, value, 0.4, color=colour, label=label(f"series.sobol_{col.lower()}", lang)
                )
                ax.errorbar(
                    value,
                    y,
                    xerr=np.vstack([np.maximum(value - low, 0), np.maximum(high - value, 0)]),
                    fmt="none",
                    ecolor="black",
                    lw=0.8,
                    capsize=2,
                )
            ax.set_title(str(year))
            # Indices lie in [0, 1]; a small N gives intervals far outside, clipped here.
            ax.set_xlim(*X_LIMITS)
            wide = part[["S1_low", "ST_low"]].min().min() < X_LIMITS[0] or (
                part[["S1_high", "ST_high"]].max().max() > X_LIMITS[1]
            )
            if wide:
                ax.text(0.98, 0.02, "↔ clipped", transform=ax.transAxes, ha="right", fontsize=8)
            ax.axvline(0, color="black", lw=0.6)
            ax.set_xlabel(label("axis.sobol", lang))
            ax.grid(axis="x", alpha=0.3)
        axes[0].set_yticks(pos, names)
        axes[0].invert_yaxis()
        axes[-1].legend(loc="lower right", fontsize="small")
        fig.suptitle(f"{label('title.sobol', lang)}{n_text}")
    return fig


__all__ = ["SOBOL_CHART_COLUMNS", "sobol_chart"]
