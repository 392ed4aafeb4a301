"""The gas flows of one year as a two-stage Sankey: source → route → use, with shortfalls.

The routes are the model's own (:func:`cbm_sim.cluster.dispatch.dispatch_step`): coal-mine
drainage is used at the mine (heating, power) or vented and never enters the network; surface
production and storage withdrawal enter the gathering network, which serves the local sectors,
CNG and LNG feed, storage injection and exports, and shuts in the rest. Both routes conserve
gas each step, so each route's inflow equals its outflows over the year. A sector whose demand
was not met carries its shortfall as a hatched extension of its node (gas that did not flow),
which is what explains a missed utilisation target. Zero flows are not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.page import chart_width_in
from cbm_sim.report.style import GROUP_COLOURS, label, label_or_id, new_figure, to_volume
from cbm_sim.results.frames import Results

SECTORS: Final[tuple[str, ...]] = (
    "residential",
    "commercial",
    "transport",
    "industry",
    "chemicals",
    "field_use",
)
"""Local sectors (``demand:<sector>`` entities), in the order drawn."""
SECTOR_COLOURS: Final[dict[str, str]] = {
    "residential": "#2ca02c",
    "commercial": "#98df8a",
    "transport": "#17becf",
    "industry": "#1b7837",
    "chemicals": "#5aae61",
    "field_use": "#a6dba0",
}
NETWORK_USES: Final[dict[str, tuple[str, str]]] = {
    "cng": ("cng", "feed_gas"),
    "lng": ("lng", "feed_gas"),
    "exports": ("pipeline", "exports"),
    "injection": ("storage", "injection"),
    "shut_in": ("balance", "shut_in"),
}
MINE_USES: Final[dict[str, tuple[str, str]]] = {
    "mine_power": ("mine_power", "gas_used"),
    "mine_heating": ("mine_heating", "gas_used"),
    "vented": ("mine_gas", "vented"),
}
X_SOURCE, X_ROUTE, X_USE, NODE_W = 0.0, 0.47, 0.94, 0.03
SHOWN_M3: Final[float] = 0.005e8
"""Smallest flow drawn [m³]: half the last digit of the labels (0.01 亿m³)."""
_GAP: Final[float] = 0.012


@dataclass
class _Node:
    key: str
    name: str
    value_m3: float
    colour: str
    shortfall_m3: float = 0.0


def _annual(results: Results, year: int, entity: str, quantity: str) -> float:
    a = results.annual
    rows = a[(a["year"] == year) & (a["entity"] == entity) & (a["quantity"] == quantity)]
    return float(rows["value"].sum())


def flows_of(results: Results, year: int) -> dict[str, list[_Node]]:
    """Sources, routes and uses of ``year`` [m³], zero flows left out.

    Raises
    ------
    ValueError
        If ``year`` is not in the results or has no supply.
    """
    years = results.annual["year"].astype(int)
    if year not in set(years):
        raise ValueError(f"year {year} not in results (years {years.min()}–{years.max()})")
    surface = _annual(results, year, "surface", "potential")
    withdrawal = _annual(results, year, "storage", "withdrawal")
    drainage = _annual(results, year, "mine_gas", "drainage")
    if surface + withdrawal + drainage <= 0:
        raise ValueError(f"no gas supply in {year}: nothing to draw")
    c = GROUP_COLOURS
    sources = [
        _Node("surface", "series.surface", surface, c["surface"]),
        _Node("withdrawal", "series.withdrawal", withdrawal, c["withdrawal"]),
        _Node("drainage", "series.drainage", drainage, c["drainage"]),
    ]
    routes = [
        _Node("network", "series.route_network", surface + withdrawal, "#4d4d4d"),
        _Node("mine", "series.route_mine", drainage, "#7f5f55"),
    ]
    uses = []
    for sector in SECTORS:
        entity = f"demand:{sector}"
        uses.append(
            _Node(
                sector,
                f"sector.{sector}",
                _annual(results, year, entity, "delivered"),
                SECTOR_COLOURS[sector],
                max(_annual(results, year, entity, "shortfall"), 0.0),
            )
        )
    for key, (entity, quantity) in NETWORK_USES.items():
        uses.append(_Node(key, f"series.{key}", _annual(results, year, entity, quantity), c[key]))
    for key, (entity, quantity) in MINE_USES.items():
        colour = c["vented"] if key == "vented" else c["mine_use"]
        uses.append(_Node(key, f"series.{key}", _annual(results, year, entity, quantity), colour))
    for n in (*sources, *routes, *uses):  # below the labels' 0.01 亿m³: not a flow
        n.value_m3 = n.value_m3 if n.value_m3 >= SHOWN_M3 else 0.0
        n.shortfall_m3 = n.shortfall_m3 if n.shortfall_m3 >= SHOWN_M3 else 0.0
    return {
        "sources": [n for n in sources if n.value_m3 > 0],
        "routes": [n for n in routes if n.value_m3 > 0],
        "uses": [n for n in uses if n.value_m3 > 0 or n.shortfall_m3 > 0],
    }


def _route_of(node: _Node) -> str:
    return "mine" if node.key in (*MINE_USES, "drainage") else "network"


def sankey_chart(results: Results, year: int, lang: Lang) -> Figure:
    """Gas of one year from each source through its route to each use [亿m³], shortfalls
    hatched on the sectors they belong to; nodes labelled with volume and share of supply."""
    flows = flows_of(results, year)
    sources, routes, uses = flows["sources"], flows["routes"], flows["uses"]
    total = sum(n.value_m3 for n in sources)
    right = sum(n.value_m3 + n.shortfall_m3 for n in uses)
    scale = (1.0 - _GAP * (len(uses) - 1)) / max(total, right)
    with use_report_style(lang):
        fig = new_figure(chart_width_in() * 0.95)
        ax = fig.add_subplot()
        ax.set_axis_off()

        def column(nodes: list[_Node], x: float, extra: bool) -> dict[str, tuple[float, float]]:
            """Draw a column top-down; each node's (top, height) of its flowing part."""
            span = sum(n.value_m3 + (n.shortfall_m3 if extra else 0) for n in nodes) * scale
            y = 0.5 + (span + _GAP * (len(nodes) - 1)) / 2
            out = {}
            for n in nodes:
                h = n.value_m3 * scale
                ax.add_patch(Rectangle((x, y - h), NODE_W, h, color=n.colour, lw=0))
                out[n.key] = (y, h)
                if extra and n.shortfall_m3 > 0:
                    hs = n.shortfall_m3 * scale
                    ax.add_patch(Rectangle((x, y - h - hs), NODE_W, hs, facecolor="white",
                                           edgecolor=n.colour, hatch="////", lw=0.6))  # fmt: skip
                    h += hs
                y -= h + _GAP
            return out

        at_source = column(sources, X_SOURCE, False)
        at_route = column(routes, X_ROUTE, False)
        at_use = column(uses, X_USE, True)
        filled = {k: top for k, (top, _) in at_route.items()}
        for n in sources:
            top, h = at_source[n.key]
            route = _route_of(n)
            ax.add_patch(_band(X_SOURCE + NODE_W, top, X_ROUTE, filled[route], h, n.colour))
            filled[route] -= h
        drained = {k: top for k, (top, _) in at_route.items()}
        for n in uses:
            if n.value_m3 <= 0:
                continue
            top, h = at_use[n.key]
            route = _route_of(n)
            ax.add_patch(_band(X_ROUTE + NODE_W, drained[route], X_USE, top, h, n.colour))
            drained[route] -= h
        size = 9.0
        for n in sources:
            top, h = at_source[n.key]
            text = f"{label(n.name, lang)}\n{_fmt(n.value_m3)} ({100 * n.value_m3 / total:.1f}%)"
            ax.text(X_SOURCE - 0.01, top - h / 2, text, ha="right", va="center", fontsize=size)
        for k, n in enumerate(routes):
            top, h = at_route[n.key]
            last = k == len(routes) - 1 and k > 0  # the lower route is named under its node
            ax.text(X_ROUTE + NODE_W / 2, top - h - 0.01 if last else top + 0.01,
                    f"{label(n.name, lang)} {_fmt(n.value_m3)}", ha="center",
                    va="top" if last else "bottom", fontsize=size)  # fmt: skip
        ys = [at_use[n.key][0] - (n.value_m3 + n.shortfall_m3) * scale / 2 for n in uses]
        min_gap = (size * 1.25 / 72.0) / (ax.get_position().height * fig.get_size_inches()[1])
        for n, y_node, y_text in zip(uses, ys, _spread(ys, max(min_gap, 0.03)), strict=True):
            name = label_or_id("sector", n.key, lang) if n.key in SECTORS else label(n.name, lang)
            text = f"{name}  {_fmt(n.value_m3)} ({100 * n.value_m3 / total:.1f}%)"
            if n.shortfall_m3 > 0:
                text += f"  {label('word.unmet', lang)} {_fmt(n.shortfall_m3)}"
            ax.annotate(text, xy=(X_USE + NODE_W, y_node), xytext=(X_USE + NODE_W + 0.03, y_text),
                        ha="left", va="center", fontsize=size,
                        arrowprops={"arrowstyle": "-", "color": "#999999", "lw": 0.5})  # fmt: skip
        ax.set_xlim(-0.42, 1.62)
        ax.set_ylim(0.0, 1.02)
        ax.set_title(label("title.sankey", lang).format(year=year))
    return fig


def _band(x0: float, y0_top: float, x1: float, y1_top: float, h: float, colour: str) -> PathPatch:
    """A band of constant height ``h`` from (x0, y0_top) to (x1, y1_top), cubic-Bézier edges."""
    xm = (x0 + x1) / 2
    verts = [
        (x0, y0_top),
        (xm, y0_top),
        (xm, y1_top),
        (x1, y1_top),
        (x1, y1_top - h),
        (xm, y1_top - h),
        (xm, y0_top - h),
        (x0, y0_top - h),
        (x0, y0_top),
    ]
    codes = [MplPath.MOVETO, *[MplPath.CURVE4] * 3, MplPath.LINETO, *[MplPath.CURVE4] * 3]
    codes.append(MplPath.CLOSEPOLY)
    return PathPatch(MplPath(verts, codes), facecolor=colour, edgecolor="none", alpha=0.45)


def _spread(ys: list[float], min_gap: float) -> list[float]:
    """Positions near ``ys`` (descending) that are at least ``min_gap`` apart, centred."""
    out = list(ys)
    for i in range(1, len(out)):
        out[i] = min(out[i], out[i - 1] - min_gap)
    shift = (sum(ys) - sum(out)) / len(out) if out else 0.0
    return [y + shift for y in out]


def _fmt(value_m3: float) -> str:
    v = float(to_volume(value_m3))
    return f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"


__all__ = ["flows_of", "sankey_chart"]
