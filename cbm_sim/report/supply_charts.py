"""Charts of the physical side: production, the gas balance and its flows, facilities, storage.

Each function takes :class:`~cbm_sim.results.frames.Results` and a language and returns a
:class:`matplotlib.figure.Figure` built without pyplot. Build and save inside
:func:`cbm_sim.report.fonts.use_report_style` (the functions enter it while building; tick
labels are
laid out when the figure is drawn, so saving needs it too — :mod:`cbm_sim.report.pdf` does both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cbm_sim import units
from cbm_sim.economics.targets import TARGET_YEARS
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.page import box_legend, chart_width_in
from cbm_sim.report.style import (
    GROUP_COLOURS,
    STOCK_UNIT,
    annual_table,
    block_label,
    draw_target_marks,
    entities_with_prefix,
    label,
    legend_below,
    new_figure,
    plan_target_base,
    to_volume,
)
from cbm_sim.results.frames import Results

SUPPLY_GROUPS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "surface": (("surface", "potential"),),
    "drainage": (("mine_gas", "drainage"),),
    "withdrawal": (("storage", "withdrawal"),),
}
"""Left-hand side of the gas balance (architecture.md): group → (entity, quantity) terms."""

USE_GROUPS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "local": (),  # Σ demand:*.delivered, filled from the results' sectors
    "mine_use": (("mine_power", "gas_used"), ("mine_heating", "gas_used")),
    "cng": (("cng", "feed_gas"),),
    "lng": (("lng", "feed_gas"),),
    "exports": (("pipeline", "exports"),),
    "injection": (("storage", "injection"),),
    "vented": (("mine_gas", "vented"),),
    "shut_in": (("balance", "shut_in"),),
}
"""Right-hand side of the gas balance: group → (entity, quantity) terms."""

# Assumption: the heating season in Jincheng runs 15 Nov – 15 Mar, the regulated period of
# central heating in southern Shanxi; it is only shaded for orientation.
HEATING_SEASON: Final[tuple[tuple[int, int], tuple[int, int]]] = ((11, 15), (3, 15))


def balance_groups(results: Results) -> pd.DataFrame:
    """Annual gas balance in the chart's groups [m³], indexed by year.

    Columns are :data:`SUPPLY_GROUPS` then :data:`USE_GROUPS`; ``local`` sums the
    ``delivered`` volume of every ``demand:<sector>`` entity. By the contract's balance the
    supply columns and the use columns add up to the same total each year (to the residual).
    """
    pairs: dict[str, tuple[str, str]] = {}
    for group, terms in {**SUPPLY_GROUPS, **USE_GROUPS}.items():
        for i, term in enumerate(terms):
            pairs[f"{group}#{i}"] = term
    for entity in entities_with_prefix(results, "demand:", "delivered"):
        pairs[f"local#{entity}"] = (entity, "delivered")
    table = annual_table(results, pairs)
    out = pd.DataFrame(index=table.index)
    for group in (*SUPPLY_GROUPS, *USE_GROUPS):
        cols = [c for c in table.columns if c.split("#", 1)[0] == group]
        out[group] = table[cols].sum(axis=1) if cols else 0.0
    return out


def production_chart(
    results: Results,
    lang: Lang,
    *,
    targets_m3: Mapping[int, float] | None = None,
    max_blocks: int = 8,
) -> Figure:
    """Surface production by block (stacked area) and coal-mine drainage, with plan marks.

    Parameters
    ----------
    results
        A run with ``block:<id>/surface_production`` and ``mine_gas/drainage``.
    lang
        ``"zh"`` or ``"en"``.
    targets_m3
        Total-production targets by year [m³/yr]; default the plan's ``production.total``
        for 2025 and 2030 (ch4 §1: 100 and 80 亿m³), read from :mod:`cbm_sim.plan.figures`.
    max_blocks
        Blocks drawn separately; smaller ones are summed as "other blocks".

    Returns
    -------
    Figure
        One axes, 亿m³/yr against year.
    """
    if max_blocks < 1:
        raise ValueError(f"max_blocks must be >= 1, got {max_blocks}")
    if targets_m3 is None:
        targets_m3 = {y: plan_target_base("production.total", y) for y in TARGET_YEARS}
    with use_report_style(lang):
        blocks = entities_with_prefix(results, "block:", "surface_production")
        if not blocks:
            raise ValueError("results have no block:<id>/surface_production series to chart")
        table = annual_table(results, {b: (b, "surface_production") for b in blocks})
        order = table.sum().sort_values(ascending=False).index.tolist()
        if len(order) > max_blocks:
            keep, rest = order[: max_blocks - 1], order[max_blocks - 1 :]
            table = table[keep].assign(**{"block:*": table[rest].sum(axis=1)})
            order = [*keep, "block:*"]
        mine = results.annual_series("mine_gas", "drainage").reindex(table.index, fill_value=0.0)
        years = table.index.to_numpy()
        stacks = [to_volume(table[b]) for b in order] + [to_volume(mine)]
        names = [
            label("series.other_blocks", lang) if b == "block:*" else block_label(b[6:], lang)
            for b in order
        ] + [label("series.mine_gas", lang)]
        colours = [_tab20(i) for i in range(len(order))] + [GROUP_COLOURS["drainage"]]

        fig = new_figure()
        ax = fig.add_subplot()
        polys = ax.stackplot(years, *stacks, labels=names, colors=colours, alpha=0.9)
        polys[-1].set_hatch("//")
        polys[-1].set_edgecolor("#d9c3bd")
        tv = draw_target_marks(
            ax, {int(y): float(to_volume(v)) for y, v in targets_m3.items()}, lang
        )
        ax.set_xlabel(label("axis.year", lang))
        ax.set_ylabel(label("axis.production", lang))
        ax.set_title(label("title.production", lang))
        ax.set_xticks(years, [_year_tick(y, len(years)) for y in years])
        ax.set_xlim(years.min(), years.max())
        ax.set_ylim(0, max(float(np.sum(stacks, axis=0).max()), float(tv.max())) * 1.25)
        legend_below(ax)
        ax.grid(axis="y", alpha=0.3)
    return fig


def _year_tick(year: float, n: int) -> str:
    """A year's tick label; with more than 6 years every other one, as ``'22``-style
    labels would read as ambiguous in a planning report."""
    y = int(year)
    return str(y) if n <= 6 or y % 2 == 1 else ""


def balance_chart(results: Results, lang: Lang) -> Figure:
    """Supply and uses per year as paired stacked bars [亿m³/yr].

    The left bar of each year stacks surface deliverability, coal-mine drainage and storage
    withdrawal; the right bar stacks the uses. Their heights agree when the balance closes.
    """
    with use_report_style(lang):
        groups = balance_groups(results)
        years = groups.index.to_numpy(dtype=np.float64)
        fig = new_figure()
        ax = fig.add_subplot()
        width = 0.38
        for _side, members, offset in (
            ("supply", SUPPLY_GROUPS, -width / 2),
            ("uses", USE_GROUPS, width / 2),
        ):
            bottom = np.zeros(len(years))
            for group in members:
                vals = to_volume(groups[group])
                ax.bar(
                    years + offset,
                    vals,
                    width,
                    bottom=bottom,
                    color=GROUP_COLOURS[group],
                    edgecolor="white",
                    linewidth=0.4,
                    label=label(f"series.{group}", lang),
                )
                bottom = bottom + vals
        ax.set_xticks(years, [_year_tick(y, len(years)) for y in years])
        ax.set_xlabel(label("axis.year", lang))
        ax.set_ylabel(label("axis.gas_volume", lang))
        ax.set_title(label("title.balance", lang))
        legend_below(ax)
        ax.grid(axis="y", alpha=0.3)
    return fig


def facilities_chart(results: Results, lang: Lang) -> Figure:
    """Annual utilisation (throughput / available capacity) and outage days of LNG, CNG, pipeline.

    Utilisation is undefined (not drawn) in a year with no available capacity.
    """
    with use_report_style(lang):
        table = annual_table(
            results,
            {
                "lng_feed": ("lng", "feed_gas"),
                "lng_cap": ("lng", "capacity"),
                "lng_out": ("lng", "outage_days"),
                "cng_feed": ("cng", "feed_gas"),
                "cng_cap": ("cng", "capacity"),
                "cng_out": ("cng", "outage_days"),
                "pipe_flow": ("pipeline", "exports"),
                "pipe_cap": ("pipeline", "capacity"),
            },
        )
        years = table.index.to_numpy(dtype=np.float64)
        fig = new_figure(chart_width_in() * 0.85)
        ax_u, ax_o = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        for key, flow, cap in (
            ("lng", "lng_feed", "lng_cap"),
            ("cng", "cng_feed", "cng_cap"),
            ("pipeline", "pipe_flow", "pipe_cap"),
        ):
            capacity = table[cap].to_numpy(dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(capacity > 0, table[flow].to_numpy() / capacity, np.nan)
            colour = GROUP_COLOURS["exports" if key == "pipeline" else key]
            ax_u.plot(
                years, 100 * share, marker="o", color=colour, label=label(f"series.{key}", lang)
            )
        ax_u.set_ylabel(label("axis.utilisation", lang))
        ax_u.set_ylim(0, 110)
        ax_u.axhline(100, color="black", lw=0.6, ls=":")
        ax_u.grid(alpha=0.3)
        width = 0.38
        for key, col, offset in (("lng", "lng_out", -width / 2), ("cng", "cng_out", width / 2)):
            ax_o.bar(
                years + offset,
                table[col],
                width,
                color=GROUP_COLOURS[key],
                label=label(f"series.{key}", lang),
            )
        ax_o.set_ylabel(label("axis.outage_days", lang))
        ax_o.set_xlabel(label("axis.year", lang))
        ax_o.set_xticks(years, [_year_tick(y, len(years)) for y in years])
        ax_o.grid(axis="y", alpha=0.3)
        # one legend for both panels (the lines name every facility; bars share colours)
        handles, labels = ax_u.get_legend_handles_labels()
        box_legend(fig, handles, labels, ncols=3)  # inside the chart box: the file keeps it
        ax_u.set_title(label("title.facilities", lang))
    return fig


def storage_chart(results: Results, lang: Lang) -> Figure:
    """Gas in storage by day against storage capacity and the 3-day rule [万m³].

    The rule line is the simulation's ``storage/rule_3day_need``: 3 days of the region's mean
    daily consumption (plan ch1 §2 储气调峰, ch4 §2). Heating seasons are shaded.
    """
    with use_report_style(lang):
        level = results.daily_series("storage", "level")
        capacity = results.daily_series("storage", "storage_capacity")
        need = results.daily_series("storage", "rule_3day_need")
        violations = results.annual_series("storage", "rule_3day_violation_days")
        per_stock = units.to_base(1.0, STOCK_UNIT)
        fig = new_figure()
        ax = fig.add_subplot()
        for start, end in _heating_seasons(level.index):
            ax.axvspan(start, end, color="#deebf7", zorder=0)
        ax.plot(
            level.index,
            level.to_numpy() / per_stock,
            color="#08519c",
            lw=1.0,
            label=label("series.level", lang),
        )
        ax.plot(
            capacity.index,
            capacity.to_numpy() / per_stock,
            color="#636363",
            lw=0.8,
            ls="--",
            label=label("series.capacity", lang),
        )
        ax.step(
            need.index,
            need.to_numpy() / per_stock,
            where="post",
            color="#d62728",
            lw=1.2,
            label=label("series.rule_3day", lang),
        )
        ax.fill_between([], [], color="#deebf7", label=label("series.winter", lang))
        ax.set_xlabel(label("axis.date", lang))
        ax.set_ylabel(label("axis.storage_level", lang))
        days = round(float(violations.sum()))
        ax.set_title(label("title.storage", lang).format(days=days))
        ax.set_ylim(bottom=0)
        ax.set_xlim(level.index.min(), level.index.max())
        legend_below(ax, ncols=2)
        ax.grid(alpha=0.3)
    return fig


def _heating_seasons(dates: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    (m0, d0), (m1, d1) = HEATING_SEASON
    first, last = dates.min(), dates.max()
    spans = []
    for year in range(first.year - 1, last.year + 1):
        start = max(pd.Timestamp(year, m0, d0), first)
        end = min(pd.Timestamp(year + 1, m1, d1), last)
        if start < end:
            spans.append((start, end))
    return spans


def _tab20(i: int) -> str:
    from matplotlib import colormaps

    r, g, b, _ = colormaps["tab20"](i % 20)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"
