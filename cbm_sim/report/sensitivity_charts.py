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
from cbm_sim.report.page import box_legend, box_note, box_title, max_chart_height_in
from cbm_sim.report.style import SHORT_COLOUR, input_label, label, new_figure, require_columns

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
RELIABLE_N: Final[int] = 256
"""The base sample the plan's Sobol study uses (``cbm-sim sensitivity --sobol 256``, issue
27); below it the page asks for it by name."""
WIDE_INTERVAL: Final[float] = 0.2
"""A median 95 % interval of the total index wider than this (a fifth of the index's whole
range) cannot rank the inputs; assumption: the width at which the intervals of neighbouring
inputs of the plan's study overlap."""


def sobol_warning(sobol: pd.DataFrame, lang: Lang) -> str:
    """A one-paragraph warning when the indices cannot be read ("" else): an index outside
    [0, 1] (a first-order index above 1 or a total index below 0: sampling noise), or, with
    a base sample ``n`` below :data:`RELIABLE_N`, a median 95 % interval of the shown total
    indices wider than :data:`WIDE_INTERVAL`."""
    last = sobol[sobol["year"] == sobol["year"].max()]
    shown = set(last.sort_values("ST", ascending=False)["input"].head(TOP_INPUTS))
    rows = sobol[sobol["input"].isin(shown)]  # the inputs the page shows, not the idle ones
    width = float((rows["ST_high"] - rows["ST_low"]).median())
    s1_max, st_min = float(sobol["S1"].max()), float(sobol["ST"].min())
    n = int(sobol["n"].iloc[0]) if "n" in sobol.columns else None
    reasons = []
    if s1_max > 1.0 or st_min < 0.0:
        reasons.append(label("fmt.sobol_outside", lang).format(s1=s1_max, st=st_min))
    if (n is None or n < RELIABLE_N) and width > WIDE_INTERVAL:
        reasons.append(label("fmt.sobol_wide", lang).format(width=width))
    if not reasons:
        return ""
    return label("fmt.sobol_warning", lang).format(
        n="?" if n is None else n,
        reasons=("；" if lang == "zh" else "; ").join(reasons),
        reliable=RELIABLE_N,
    )


def sobol_chart(
    sobol: pd.DataFrame, lang: Lang, top: int = TOP_INPUTS, *, scenario: object = None
) -> Figure:
    """Bars of S1 and ST with their 95 % intervals, one panel per year; the title inside the
    chart box, one legend under the panels, and a warning under them when the base sample is
    too small for the intervals to mean anything (:func:`sobol_warning`).

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
    inputs = list(last["input"].astype(str))[:top]
    shown = [input_label(p, lang, scenario) for p in inputs]
    n_text = ""
    if "n" in sobol.columns and "runs" in sobol.columns:
        n_text = label("fmt.sobol_n", lang).format(
            n=int(sobol["n"].iloc[0]), runs=int(sobol["runs"].iloc[0])
        )
    warning = sobol_warning(sobol, lang)
    cjk = lang == "zh"
    with use_report_style(lang):
        fig = new_figure(min(0.36 * len(inputs) + 2.6, max_chart_height_in()))
        box_title(fig, f"{label('title.sobol', lang)}{n_text}", cjk=cjk)
        if warning:  # the note first: it takes the bottom of the box, the legend sits above
            box_note(fig, warning, color=SHORT_COLOUR, cjk=cjk)
        axes = fig.subplots(1, len(years), sharey=True, squeeze=False)[0]
        pos = np.arange(len(inputs), dtype=np.float64)
        for ax, year in zip(axes, years, strict=True):
            part = sobol[sobol["year"] == year].set_index("input").reindex(inputs)
            for k, (col, colour) in enumerate((("S1", "#9ecae1"), ("ST", "#08519c"))):
                value = part[col].to_numpy(dtype=np.float64)
                low = part[f"{col}_low"].to_numpy(dtype=np.float64)
                high = part[f"{col}_high"].to_numpy(dtype=np.float64)
                y = pos - 0.2 + 0.4 * k
                ax.barh(
                    y, value, 0.4, color=colour, label=label(f"series.sobol_{col.lower()}", lang)
                )
                ax.errorbar(
                    np.clip(value, *X_LIMITS),
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
            ax.set_xticks([0.0, 0.5, 1.0])  # inside the limits: no label at a panel's edge
            wide = part[["S1_low", "ST_low"]].min().min() < X_LIMITS[0] or (
                part[["S1_high", "ST_high"]].max().max() > X_LIMITS[1]
            )
            if wide:
                ax.text(0.98, 0.02, label("word.clipped", lang), transform=ax.transAxes,
                        ha="right", va="bottom", fontsize=9)  # fmt: skip
            ax.axvline(0, color="black", lw=0.6)
            ax.set_xlabel(label("axis.sobol", lang))
            ax.grid(axis="x", alpha=0.3)
        axes[0].set_yticks(pos, shown)
        axes[0].invert_yaxis()
        handles, names = axes[0].get_legend_handles_labels()
        box_legend(fig, handles, names, ncols=2)
    return fig


__all__ = ["RELIABLE_N", "SOBOL_CHART_COLUMNS", "sobol_chart", "sobol_warning"]
