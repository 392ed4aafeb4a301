"""Charts of an ensemble: P10–P90 fans, probabilities of meeting targets, a tornado.

Input frames (the ensemble/sensitivity modules produce them):

percentiles
    ``year`` (int), ``quantity`` (str, a plan id: ``"production.total"`` or
    ``"output.total"``…), ``unit`` (str, a key of :data:`cbm_sim.units.UNIT_FACTORS`, e.g.
    ``"m3"``, ``"元"``, ``"亿元"``), ``p10``, ``p50``, ``p90`` (float, in ``unit``). One row
    per year × quantity, percentiles over the ensemble members.
probabilities
    ``year`` (int), ``target`` (str, plan id: ``"output.total"``, ``"output.<sub_cluster>"``,
    ``"production.total"``…), ``probability`` (float in [0, 1]: share of members meeting the
    target), ``std_error`` (float ≥ 0: its Monte-Carlo standard error,
    :math:`\\sqrt{p(1-p)/n}`).
tornado
    ``input`` (str: the varied parameter), ``low_value``, ``high_value`` (float: the output
    metric with the input at its low / high bound), ``base`` (float: the metric at the base
    case, the same on every row); optional ``unit`` (key of ``UNIT_FACTORS``, default
    ``"元"``), ``metric`` (str: plan id of the output, e.g. ``"output.total"``, with ``year``
    (int) optional) and ``label_zh`` / ``label_en`` (display names of the inputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim import units
from cbm_sim.economics.targets import TARGET_YEARS
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.page import box_legend, chart_width_in, max_chart_height_in
from cbm_sim.report.style import (
    MONEY_UNIT,
    VOLUME_UNIT,
    YEAR_COLOURS,
    draw_target_marks,
    input_label,
    label,
    legend_below,
    new_figure,
    plan_target_base,
    require_columns,
    target_name,
)

PERCENTILE_COLUMNS: Final[tuple[str, ...]] = ("year", "quantity", "unit", "p10", "p50", "p90")
PROBABILITY_COLUMNS: Final[tuple[str, ...]] = ("year", "target", "probability", "std_error")
TORNADO_COLUMNS: Final[tuple[str, ...]] = ("input", "low_value", "high_value", "base")
# Two-sided 95 % normal quantile for the probability error bars.
_Z95: Final[float] = 1.959963984540054


@dataclass(frozen=True)
class EnsembleFrames:
    """The ensemble outputs a report charts; see the module docstring for the columns."""

    percentiles: pd.DataFrame
    probabilities: pd.DataFrame | None = None
    tornado: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    """Sobol indices (``cbm-sim sensitivity``; :mod:`cbm_sim.report.sensitivity_charts`)."""


def display_unit(unit: str) -> str:
    """The display unit for values stated in ``unit``: 亿m3 for volumes, 亿元 for money.

    Raises
    ------
    ValueError
        If ``unit`` is unknown or is neither a gas volume nor money.
    """
    base = units.base_unit(unit)
    if base == "m3":
        return VOLUME_UNIT
    if base == "元":
        return MONEY_UNIT
    raise ValueError(f"ensemble unit {unit!r} (base {base!r}) is neither m3 nor 元")


def fan_chart(
    percentiles: pd.DataFrame,
    quantity: str,
    lang: Lang,
    *,
    targets_base: Mapping[int, float] | None = None,
) -> Figure:
    """P10–P90 band and P50 line of one quantity over the years, with plan target marks.

    Parameters
    ----------
    percentiles
        Percentile frame (module docstring).
    quantity
        Plan id of the quantity to draw, e.g. ``"production.total"``.
    lang
        ``"zh"`` or ``"en"``.
    targets_base
        Target by year in base units (m³ or 元); default the plan's ``quantity`` targets for
        2025 and 2030 from :mod:`cbm_sim.plan.figures`.
    """
    require_columns(percentiles, PERCENTILE_COLUMNS, "ensemble percentile frame")
    rows = percentiles[percentiles["quantity"] == quantity].sort_values("year")
    if rows.empty:
        known = sorted(percentiles["quantity"].unique())
        raise ValueError(f"no percentiles for quantity {quantity!r}; frame has {known}")
    unit_names = rows["unit"].unique()
    if len(unit_names) != 1:
        raise ValueError(f"quantity {quantity!r} has mixed units {list(unit_names)}")
    unit = str(unit_names[0])
    shown = display_unit(unit)
    p10, p50, p90 = (
        np.array([units.convert(v, unit, shown) for v in rows[c]]) for c in ("p10", "p50", "p90")
    )
    if np.any(p10 > p50 + 1e-9 * np.abs(p50)) or np.any(p50 > p90 + 1e-9 * np.abs(p90)):
        raise ValueError(f"percentiles of {quantity!r} are not ordered p10 <= p50 <= p90")
    if targets_base is None:
        targets_base = {y: plan_target_base(quantity, y) for y in TARGET_YEARS}
    years = rows["year"].to_numpy(dtype=np.float64)
    is_volume = shown == VOLUME_UNIT
    with use_report_style(lang):
        fig = new_figure()
        ax = fig.add_subplot()
        ax.fill_between(
            years, p10, p90, color="#9ecae1", alpha=0.7, label=label("series.p10_p90", lang)
        )
        ax.plot(years, p50, color="#08519c", lw=2, marker="o", label=label("series.p50", lang))
        draw_target_marks(
            ax, {int(y): units.from_base(v, shown) for y, v in targets_base.items()}, lang
        )
        ax.set_xticks(years, [str(int(y)) for y in years])
        ax.set_xlabel(label("axis.year", lang))
        ax.set_ylabel(label("axis.production" if is_volume else "axis.output_value", lang))
        ax.set_title(label("title.fan_production" if is_volume else "title.fan_value", lang))
        marks = [units.from_base(v, shown) for v in targets_base.values()]
        ax.set_ylim(0, max([float(np.max(p90)), *marks]) * 1.2)  # room for the marks' labels
        legend_below(ax)
        ax.grid(alpha=0.3)
    return fig


def probability_chart(probabilities: pd.DataFrame, lang: Lang) -> Figure:
    """Bars of the probability of meeting each headline target (cluster output, the eight
    sub-clusters, total production), per year, with 95 % intervals: Wilson intervals
    (``wilson_low``/``wilson_high``) when the frame has them, else ±1.96 standard errors."""
    from cbm_sim.report.tables import HEADLINE_TARGETS

    require_columns(probabilities, PROBABILITY_COLUMNS, "ensemble probability frame")
    p = probabilities["probability"].to_numpy(dtype=np.float64)
    se = probabilities["std_error"].to_numpy(dtype=np.float64)
    if np.any((p < 0) | (p > 1)) or np.any(se < 0):
        bad = probabilities[(p < 0) | (p > 1) | (se < 0)]
        raise ValueError(f"probabilities must be in [0, 1] with std_error >= 0; bad rows:\n{bad}")
    shown = probabilities[probabilities["target"].isin(HEADLINE_TARGETS)]
    if shown.empty:
        shown = probabilities
    ids = list(dict.fromkeys(_target_order(shown["target"].astype(str).unique())))
    years = sorted(int(y) for y in shown["year"].unique())
    has_ci = {"wilson_low", "wilson_high"} <= set(shown.columns)
    with use_report_style(lang):
        fig = new_figure(chart_width_in() * 0.85)
        ax = fig.add_subplot()
        y_pos = np.arange(len(ids), dtype=np.float64)
        height = 0.8 / len(years)
        for i, year in enumerate(years):
            part = shown[shown["year"] == year].set_index("target")
            prob = part["probability"].reindex(ids).to_numpy(dtype=np.float64)
            if has_ci:
                # the Wilson interval stays honest where no member (or every one) meets it
                lo = part["wilson_low"].reindex(ids).to_numpy(dtype=np.float64)
                hi = part["wilson_high"].reindex(ids).to_numpy(dtype=np.float64)
            else:
                err = _Z95 * part["std_error"].reindex(ids).to_numpy(dtype=np.float64)
                lo = np.clip(prob - err, 0, 1)
                hi = np.clip(prob + err, 0, 1)
            pos = y_pos - 0.4 + height * (i + 0.5)
            ax.barh(
                pos, 100 * prob, height, color=YEAR_COLOURS.get(year, "#999999"), label=str(year)
            )
            ax.errorbar(
                100 * prob,
                pos,
                # an interval's ends round to the probability itself when it is 0 or 1
                xerr=100 * np.clip(np.vstack([prob - lo, hi - prob]), 0.0, None),
                fmt="none",
                ecolor="black",
                lw=0.8,
                capsize=2,
            )
        ax.set_yticks(y_pos, [target_name(t, lang) for t in ids])
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.axvline(50, color="#777777", lw=0.6, ls=":")
        ax.set_xlabel(label("axis.probability", lang))
        ax.set_title(label("title.probability", lang))
        handles, names = ax.get_legend_handles_labels()
        box_legend(fig, handles, names, ncols=len(years))
        ax.grid(axis="x", alpha=0.3)
    return fig


TORNADO_TOP: Final[int] = 12
"""Inputs a tornado shows one by one (largest swing first); the others are summed in one row.
Assumption: twelve labelled rows still read at 9 pt on a page, 25 did not (issue 25)."""


def tornado_rows(
    tornado: pd.DataFrame, lang: Lang, top: int = TORNADO_TOP, *, scenario: object = None
) -> pd.DataFrame:
    """The rows a tornado draws, in display units: ``name, low, high, swing`` (low and high
    are the output with the input at its low / high end), the ``top`` largest swings first
    and, when more inputs remain, one row "the other k inputs together" whose ends add up
    their swings below and above the base (the envelope of the rest), and the ``base``.

    Raises
    ------
    ValueError
        If a column is missing, the base differs between rows or ``top < 1``.
    """
    require_columns(tornado, TORNADO_COLUMNS, "tornado frame")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    unit = str(tornado["unit"].iloc[0]) if "unit" in tornado.columns else "元"
    shown = display_unit(unit)
    bases = tornado["base"].to_numpy(dtype=np.float64)
    if not np.allclose(bases, bases[0]):
        raise ValueError(f"tornado base values differ between rows: {sorted(set(bases))}")
    factor = units.convert(1.0, unit, shown)
    low = tornado["low_value"].to_numpy(dtype=np.float64) * factor
    high = tornado["high_value"].to_numpy(dtype=np.float64) * factor
    base = float(bases[0]) * factor
    name_col = f"label_{lang}"
    labels = (
        tornado[name_col].astype(str).to_list()
        if name_col in tornado.columns
        else [input_label(str(p), lang, scenario) for p in tornado["input"]]
    )
    frame = pd.DataFrame({"name": labels, "low": low, "high": high})
    frame["swing"] = (frame["high"] - frame["low"]).abs()
    frame = frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    head = frame.iloc[:top].assign(rest=False)
    rest = frame.iloc[top:]
    if not rest.empty:
        below = np.minimum(np.minimum(rest["low"], rest["high"]) - base, 0.0).sum()
        above = np.maximum(np.maximum(rest["low"], rest["high"]) - base, 0.0).sum()
        other = {
            "name": label("series.tornado_rest", lang).format(k=len(rest)),
            "low": base + below,
            "high": base + above,
            "swing": above - below,
            "rest": True,
        }
        head = pd.concat([head, pd.DataFrame([other])], ignore_index=True)
    return head.assign(base=base)


def tornado_chart(
    tornado: pd.DataFrame, lang: Lang, *, top: int = TORNADO_TOP, scenario: object = None
) -> Figure:
    """Tornado at the full column width: the output's swing when each input moves to its
    low and high end, the ``top`` largest one by one and the rest summed in one row
    (:func:`tornado_rows`). Each input's name is written above its bar, so no label shares
    a line with another and the bars get the whole width; each bar end carries its value.
    ``scenario`` (the run's) names list items by their name (a contract, a plant)."""
    rows = tornado_rows(tornado, lang, top, scenario=scenario)
    unit = str(tornado["unit"].iloc[0]) if "unit" in tornado.columns else "元"
    shown = display_unit(unit)
    base = float(rows["base"].iloc[0])
    with use_report_style(lang):
        fig = new_figure(min(0.42 * len(rows) + 1.5, max_chart_height_in()))
        ax = fig.add_subplot()
        pos = np.arange(len(rows), dtype=np.float64)
        grey = rows["rest"].to_numpy()
        for colour, col, key in (
            ("#3182bd", "low", "series.low"),
            ("#fd8d3c", "high", "series.high"),
        ):
            widths = rows[col].to_numpy() - base
            ax.barh(
                pos[~grey], widths[~grey], 0.42, left=base, color=colour, label=label(key, lang)
            )
            if grey.any():
                ax.barh(pos[grey], widths[grey], 0.42, left=base, color="#bdbdbd",
                        edgecolor=colour, hatch="///", linewidth=0.6)  # fmt: skip
        ax.axvline(base, color="black", lw=1.0, label=f"{label('series.base', lang)} {base:,.1f}")
        lo = float(np.minimum(rows["low"], rows["high"]).min())
        hi = float(np.maximum(rows["low"], rows["high"]).max())
        pad = 0.16 * max(hi - lo, 1e-9)
        ax.set_xlim(lo - pad, hi + pad)  # room for the values at the bar ends
        for y, r in zip(pos, rows.itertuples(index=False), strict=True):
            ax.text(0.0, y - 0.27, r.name, transform=ax.get_yaxis_transform(), ha="left",
                    va="bottom", fontsize=9)  # fmt: skip
            left, right = min(r.low, r.high), max(r.low, r.high)
            # both ends on one side of the base: the nearer one is written beside the base
            ax.text(min(left, base), y, f"{left - base:+,.1f} ", ha="right", va="center",
                    fontsize=9)  # fmt: skip
            ax.text(max(right, base), y, f" {right - base:+,.1f}", ha="left", va="center",
                    fontsize=9)  # fmt: skip
        ax.set_ylim(len(rows) - 0.5, -0.95)
        ax.set_yticks([])
        ax.set_xlabel(
            label("axis.production" if shown == VOLUME_UNIT else "axis.output_value", lang)
        )
        title = label("title.tornado", lang)
        if "metric" in tornado.columns:
            metric = target_name(str(tornado["metric"].iloc[0]), lang)
            year = f" {int(tornado['year'].iloc[0])}" if "year" in tornado.columns else ""
            title = f"{title}: {metric}{year}"
        ax.set_title(title)
        legend_below(ax)
        ax.grid(axis="x", alpha=0.3)
    return fig


def _target_order(ids: np.ndarray) -> list[str]:
    """Cluster total first, then sub-clusters in plan order, then everything else sorted."""
    first = [i for i in ("output.total",) if i in ids]
    subs = [f"output.{sc}" for sc in SUB_CLUSTERS if f"output.{sc}" in ids]
    rest = sorted(set(ids) - set(first) - set(subs))
    return first + subs + rest
