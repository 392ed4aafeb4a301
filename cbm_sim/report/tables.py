"""Table pages of the report: output value by item, physical targets, target probabilities.

A table is drawn at the text-column width with 9 pt text (:mod:`cbm_sim.report.page`), one
row per line, numbers right-aligned; the status of a row is a mark (✓ met, ✗ short) in a
colour-blind-safe colour, never colour alone (the target tables print the mark alone, their
last column is the basis). Items whose value is exogenous (the plan's own
figure, ``basis`` of the valuation frame) carry a ``*``. The target tables' last column says what
a simulated figure is and what kind of target it meets (:func:`cbm_sim.economics.targets.mark`:
input, exogenous, part exogenous; cap, floor), the same marks as ``cbm-sim run`` and
``targets.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from matplotlib.artist import allow_rasterization
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.table import Table
from matplotlib.transforms import Bbox

from cbm_sim.economics.targets import MET, TARGET_COLUMNS, TARGET_YEARS, mark
from cbm_sim.economics.valuation import SUB_CLUSTERS
from cbm_sim.report.fonts import Lang, use_report_style
from cbm_sim.report.page import (
    MIN_FONT_PT,
    box_fraction,
    chart_box,
    chart_width_in,
    max_chart_height_in,
    wrap,
)
from cbm_sim.report.style import (
    LABELS,
    MET_COLOUR,
    MET_MARK,
    SHORT_COLOUR,
    SHORT_MARK,
    item_key,
    label,
    label_or_id,
    new_figure,
    require_columns,
    unit_label,
)

ROW_IN: Final[float] = 0.20
"""Height of a table row [in]: 9 pt text and 2.7 pt padding above and below."""
TITLE_IN: Final[float] = 0.40
"""Room for the table's title above its first row [in]."""
EXOGENOUS_MARK: Final[str] = "*"
BASIS_WORDS: Final[dict[str, tuple[str, str]]] = {
    "input": ("输入", "input"),
    "exogenous": ("外生", "exog."),
    "part exogenous": ("部分外生", "part exog."),
    "cap": ("上限", "cap"),
    "floor": ("下限", "floor"),
    "basis": ("性质", "basis"),
}
"""The words of a target row's mark (:func:`cbm_sim.economics.targets.mark`), zh and en."""


def _basis_cell(rows: pd.DataFrame, lang: Lang) -> str:
    """The mark of a target's rows (one per year), in ``lang``: one mark when the years agree,
    else each year's."""
    if "basis" not in rows.columns:
        return ""
    k = 0 if lang == "zh" else 1

    def words(r: pd.Series) -> str:
        m = mark(str(r["basis"]), str(r["target_kind"]))
        return " · ".join(BASIS_WORDS[w][k] for w in m.split(" · ")) if m else ""

    marks = {int(y): words(r) for y, r in rows.iterrows()}
    if len(set(marks.values())) == 1:
        return next(iter(marks.values()))
    return "; ".join(f"{y}: {m or '—'}" for y, m in marks.items())


LINE_IN: Final[float] = MIN_FONT_PT * 1.25 / 72.0
"""Each further line of a wrapped cell adds this much to its row [in] (9 pt, 1.25 leading)."""
CELL_PAD: Final[float] = 0.04
"""Horizontal padding of a cell's text, a fraction of the cell's width on each side
(matplotlib's ``Cell.PAD``)."""


@dataclass
class Row:
    """One table row: its cells, whether it is a total (shaded), text colours by column, and
    how many lines its tallest cell takes (set by :func:`wrap_rows`)."""

    cells: list[str]
    total: bool = False
    colours: dict[int, str] = field(default_factory=dict)
    lines: int = 1

    @property
    def height_in(self) -> float:
        """The row's height on the page [in]."""
        return ROW_IN + (self.lines - 1) * LINE_IN


def wrap_rows(
    rows: Sequence[Row], widths: Sequence[float], *, wrapped: Sequence[int] = ()
) -> list[Row]:
    """``rows`` with the cells of the columns ``wrapped`` (indices; default every column)
    broken into lines that fit their column at 9 pt (:func:`cbm_sim.report.page.wrap`), and
    each row's :attr:`Row.lines` set, so no text runs over its cell."""
    columns = wrapped if wrapped else range(len(widths))
    room = [w * chart_width_in() * (1 - 2 * CELL_PAD) for w in widths]
    out = []
    for row in rows:
        cells = list(row.cells)
        for c in columns:
            if c < len(cells) and cells[c]:
                cells[c] = wrap(cells[c], room[c], MIN_FONT_PT)
        lines = max([cell.count("\n") + 1 for cell in cells] or [1])
        out.append(Row(cells, row.total, dict(row.colours), lines))
    return out


def table_figure(
    title: str,
    header: Sequence[Sequence[str]],
    rows: Sequence[Row],
    widths: Sequence[float],
    *,
    left: Sequence[int] = (),
) -> Figure:
    """A page whose chart box holds ``title`` and a table (first column and the columns
    ``left`` left-aligned, the rest right).

    ``header`` is one or more header rows (e.g. the years over their columns, then the column
    names); every cell is one line of 9 pt text.

    Raises
    ------
    ValueError
        If ``widths`` does not match the columns, or the rows do not fit one page.
    """
    columns = len(widths)
    if abs(sum(widths) - 1.0) > 1e-9 or any(len(h) != columns for h in header):
        raise ValueError(f"expected header rows of {columns} cells and widths adding to 1")
    all_rows = [Row(list(h), total=True) for h in header] + list(rows)
    body_in = sum(r.height_in for r in all_rows)
    title_in = TITLE_IN + wrap(title, chart_width_in(), MIN_FONT_PT + 1).count("\n") * LINE_IN
    height = title_in + body_in
    if height > max_chart_height_in() + 1e-9:
        raise ValueError(f"{len(rows)} rows do not fit one page at {MIN_FONT_PT} pt")
    fig = new_figure(height, layout=False)
    ax = fig.add_axes(box_fraction(fig))
    ax.set_axis_off()
    title = wrap(title, chart_width_in(), MIN_FONT_PT + 1)  # a long title takes two lines
    ax.text(0.0, 1.0, title, ha="left", va="top", fontsize=MIN_FONT_PT + 1,
            transform=ax.transAxes)  # fmt: skip
    draw_table(ax, title_in, all_rows, widths, header_rows=len(header), left=left)
    return fig


def draw_table(
    ax: Axes,
    top_in: float,
    rows: Sequence[Row],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    first_left: bool = True,
    left: Sequence[int] = (),
) -> float:
    """Draw ``rows`` (the first ``header_rows`` of them the header) as a table across the
    axes ``ax`` (a page's chart box), its top ``top_in`` [in] below the box's top; returns
    the table's height [in]. Numbers right-aligned, the first column (``first_left``) and the
    columns ``left`` (running text) left-aligned.

    The cells are those matplotlib's ``ax.table`` makes (a :class:`~matplotlib.table.Cell`
    each: its rectangle and its text), placed once here (:class:`LaidTable`).
    """
    box = chart_box(ax.get_figure(root=True))  # type: ignore[arg-type]
    body_in = sum(r.height_in for r in rows)
    scale = 1.0 / sum(widths)
    table = LaidTable(ax, bbox=Bbox.from_bounds(0.0, 1.0 - (top_in + body_in) / box.height, 1.0,
                                                body_in / box.height))  # fmt: skip
    table.edges = "closed"
    top = 1.0 - top_in / box.height
    for r, row in enumerate(rows):
        height = row.height_in / box.height
        top -= height
        x = 0.0
        for c, width in enumerate(widths):
            loc = "left" if (c == 0 and first_left) or c in left else "right"
            cell = table.add_cell(r, c, width=width * scale, height=height, text=row.cells[c],
                                  facecolor="w", loc=loc)  # fmt: skip
            cell.set_xy((x, top))
            cell.set_linewidth(0.3)
            cell.PAD = CELL_PAD
            if r < header_rows:
                cell.set_facecolor("#e6e6e6")
            elif row.total:
                cell.set_facecolor("#f2f2f2")
            text = cell.get_text()
            text.set_fontsize(MIN_FONT_PT)
            if c in row.colours:
                text.set_color(row.colours[c])
            text.set_transform(ax.transAxes)
            pad = CELL_PAD if loc == "left" else 1.0 - CELL_PAD
            text.set_position((x + width * scale * pad, top + height / 2))
            x += width * scale
    ax.add_table(table)
    return body_in


class LaidTable(Table):
    """A matplotlib :class:`~matplotlib.table.Table` whose cells and their texts are placed
    once, when the table is made (:func:`draw_table`), in axes fractions.

    matplotlib's table places its cells at every draw: it measures every cell's window extent
    twice (the grid's box, then each text's position); on the plan run's report (1,169 cells)
    that cost about 1.8 s of the ~15 s of CPU of its two processes (measured at load 4,
    2026-12-07). The cells, their order and what each draws (rectangle, then text) are
    matplotlib's, so the page is the same.
    """

    def _update_positions(self, renderer: RendererBase) -> None:
        """Nothing to do: the cells were placed when made."""

    @allow_rasterization
    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible():
            return
        renderer.open_group("table", gid=self.get_gid())
        cells = self.get_celld()
        for key in sorted(cells):
            cell = cells[key]
            if cell.get_visible():
                Rectangle.draw(cell, renderer)  # the cell's edges and face, not its text's place
                cell.get_text().draw(renderer)
        renderer.close_group("table")
        self.stale = False


def _year_header(
    first: Sequence[str], years: Sequence[int], words: Sequence[str]
) -> list[list[str]]:
    """Two header rows: each year over the middle of its columns, then the column names."""
    top = ["" for _ in first]
    for year in years:
        top += ["" for _ in words]
        top[len(top) - len(words) + (len(words) - 1) // 2] = str(year)
    return [top, [*first, *(w for _ in years for w in words)]]


def _num(value: object, digits: int = 1, sign: bool = False) -> str:
    v = float(value)  # type: ignore[arg-type]
    if not np.isfinite(v):
        return "—"
    if round(v, digits) == 0:
        v = 0.0  # no "-0.0": a gap within rounding is no gap
    return f"{v:+,.{digits}f}" if sign else f"{v:,.{digits}f}"


def _status(status: str, lang: Lang) -> tuple[str, str]:
    """Mark and word of a status, and its colour."""
    met = status == MET
    word = label("word.met" if met else "word.short", lang) if status in (MET, "short") else status
    return f"{MET_MARK if met else SHORT_MARK} {word}", MET_COLOUR if met else SHORT_COLOUR


def _tick(status: str) -> tuple[str, str]:
    """The mark of a status alone (✓ met, ✗ short or exceeded), and its colour: the target
    tables keep their width for the basis column."""
    met = status == MET
    return (MET_MARK if met else SHORT_MARK), MET_COLOUR if met else SHORT_COLOUR


def _is_total(item: object) -> bool:
    return item is None or (isinstance(item, float) and np.isnan(item)) or item in ("", "total")


def value_table_chart(
    targets: pd.DataFrame, lang: Lang, *, values: pd.DataFrame | None = None
) -> Figure:
    """The first page of :func:`value_table_pages` (all of it when the items fit one page)."""
    return value_table_pages(targets, lang, values=values)[0]


def rows_per_page(header_rows: int) -> int:
    """Body rows a table page holds under ``header_rows`` header rows."""
    return int((max_chart_height_in() - TITLE_IN) / ROW_IN + 1e-9) - header_rows


def _pages_of(rows: list[Row], per_page: int) -> list[list[Row]]:
    """``rows`` cut into pages of at most ``per_page`` one-line rows' height (a wrapped row
    counts for its lines), between groups (a total row starts a group) where a group fits a
    page."""
    room = per_page * ROW_IN + 1e-9

    def height(part: list[Row]) -> float:
        return sum(r.height_in for r in part)

    pages: list[list[Row]] = [[]]
    group: list[Row] = []
    for row in [*rows, Row([], total=True)]:  # a sentinel closes the last group
        if row.total and group:
            if height(pages[-1]) + height(group) > room and pages[-1]:
                pages.append([])
            while height(group) > room:
                k = 1
                while k < len(group) and height(group[: k + 1]) <= room:
                    k += 1
                pages[-1] += group[:k]
                group = group[k:]
                pages.append([])
            pages[-1] += group
            group = []
        group.append(row)
    return pages


def value_table_pages(
    targets: pd.DataFrame, lang: Lang, *, values: pd.DataFrame | None = None
) -> list[Figure]:
    """Every sub-cluster item: simulated value and target in 2025 and 2030, with the status
    [亿元]; ``*`` marks an item whose value is exogenous (from ``values``' ``basis``). As many
    pages as the items need, cut between sub-clusters."""
    require_columns(targets, TARGET_COLUMNS, "target-check frame")
    years = [y for y in TARGET_YEARS if y in set(targets["year"])]
    frame = targets[
        targets["year"].isin(years) & targets["sub_cluster"].isin([*SUB_CLUSTERS, "total"])
    ].copy()
    if frame.empty:
        raise ValueError("target-check frame has no sub-cluster rows for 2025/2030")
    frame["key"] = [
        "" if _is_total(i) else item_key(str(i), str(sc))
        for i, sc in zip(frame["item"], frame["sub_cluster"], strict=True)
    ]
    exogenous: set[tuple[str, str]] = set()
    if values is not None and "basis" in values.columns:
        exo = values[values["basis"].astype(str).str.startswith("exogenous")]
        exogenous = {
            (str(sc), str(i)) for sc, i in zip(exo["sub_cluster"], exo["item"], strict=True)
        }
    rows: list[Row] = []
    for sc in ["total", *SUB_CLUSTERS]:
        part = frame[frame["sub_cluster"] == sc]
        for key in dict.fromkeys(["", *part["key"]]):
            by_year = part[part["key"] == key].set_index("year")
            if by_year.empty:
                continue
            if key:
                name = "  " + label_or_id("item", key, lang)
                name += EXOGENOUS_MARK if (sc, key) in exogenous else ""
            else:
                name = label(f"sc.{sc}", lang)
            row = Row([name], total=not key)
            for year in years:
                if year not in by_year.index:
                    row.cells += ["—", "—", ""]
                    continue
                r = by_year.loc[year]
                tick, colour = _tick(str(r["status"]))
                row.colours[len(row.cells) + 2] = colour
                row.cells += [_num(r["simulated"]), _num(r["target"]), tick]
            row.cells.append(_basis_cell(by_year, lang))
            rows.append(row)
    words = [*(label(f"word.{w}", lang) for w in ("sim_short", "target")), ""]  # ✓/✗ below
    header = _year_header([label("word.item", lang)], years, words)
    header = [[*header[0], ""], [*header[1], BASIS_WORDS["basis"][0 if lang == "zh" else 1]]]
    name_w, basis_w = (0.37, 0.13) if len(years) == 2 else (0.45, 0.15)
    per_year = (1.0 - name_w - basis_w) / len(years)
    widths = [name_w, *[per_year * f for _ in years for f in (0.42, 0.40, 0.18)], basis_w]
    title = label("title.value_table", lang)
    with use_report_style(lang):
        return [
            table_figure(title, header, part, widths)
            for part in _pages_of(rows, rows_per_page(len(header)))
        ]


def physical_table_chart(targets: pd.DataFrame, lang: Lang) -> Figure:
    """The plan's physical targets (production, LNG, pipelines, local use, power …) in the
    plan's units: simulated, target and status in 2025 and 2030."""
    require_columns(targets, TARGET_COLUMNS, "target-check frame")
    years = [y for y in TARGET_YEARS if y in set(targets["year"])]
    frame = targets[(targets["sub_cluster"] == "physical") & targets["year"].isin(years)]
    if frame.empty:
        raise ValueError("target-check frame has no physical targets for 2025/2030")
    rows: list[Row] = []
    for plan_id, part in frame.groupby("item", sort=False):
        by_year = part.set_index("year")
        unit = unit_label(str(part["unit"].iloc[0]), lang)
        key = f"target.{plan_id}"
        name = label(key, lang) if key in LABELS else str(plan_id)
        row = Row([name, unit])
        for year in years:
            if year not in by_year.index:
                row.cells += ["—", "—", ""]
                continue
            r = by_year.loc[year]
            digits = 2 if abs(float(r["target"])) < 10 else 1
            tick, colour = _tick(str(r["status"]))
            row.colours[len(row.cells) + 2] = colour
            row.cells += [_num(r["simulated"], digits), _num(r["target"], digits), tick]
        row.cells.append(_basis_cell(by_year, lang))
        rows.append(row)
    words = [*(label(f"word.{w}", lang) for w in ("sim_short", "target")), ""]  # ✓/✗ below
    header = _year_header([label("word.target", lang), label("word.unit", lang)], years, words)
    header = [[*header[0], ""], [*header[1], BASIS_WORDS["basis"][0 if lang == "zh" else 1]]]
    name_w, unit_w, basis_w = (0.31, 0.11, 0.16) if len(years) == 2 else (0.40, 0.12, 0.15)
    per_year = (1.0 - name_w - unit_w - basis_w) / len(years)
    widths = [
        name_w, unit_w, *[per_year * f for _ in years for f in (0.42, 0.40, 0.18)], basis_w
    ]  # fmt: skip
    with use_report_style(lang):
        return table_figure(label("title.physical_table", lang), header, rows, widths)


HEADLINE_TARGETS: Final[tuple[str, ...]] = (
    "output.total",
    *(f"output.{sc}" for sc in SUB_CLUSTERS),
    "production.total",
)
"""Targets the probability chart shows; every other target goes to the probability table."""


def probability_table_chart(probabilities: pd.DataFrame, lang: Lang) -> Figure | None:
    """The first page of :func:`probability_table_pages`; None if there is none."""
    pages = probability_table_pages(probabilities, lang)
    return pages[0] if pages else None


def probability_table_pages(probabilities: pd.DataFrame, lang: Lang) -> list[Figure]:
    """The probability of meeting each target that is not a headline target, by year, with
    its 95 % interval (``wilson_low``/``wilson_high`` when the frame has them), on as many pages as
    the targets need; [] if there is none."""
    require_columns(probabilities, ("year", "target", "probability"), "ensemble probability frame")
    rest = probabilities[~probabilities["target"].isin(HEADLINE_TARGETS)]
    if rest.empty:
        return []
    from cbm_sim.report.style import target_name

    years = sorted(int(y) for y in rest["year"].unique())
    has_ci = {"wilson_low", "wilson_high"} <= set(rest.columns)
    rows = []
    group = ""
    for target, part in rest.groupby("target", sort=True):
        by_year = part.set_index("year")
        bits = str(target).split(".")
        if len(bits) > 2 and bits[0] == "output" and bits[1] in SUB_CLUSTERS:
            if bits[1] != group:  # items under a shaded row naming their sub-cluster
                group = bits[1]
                rows.append(Row([label(f"sc.{group}", lang)] + [""] * len(years), total=True))
            name = "  " + label_or_id("item", ".".join(bits[2:]), lang)
        else:
            group, name = "", target_name(str(target), lang)
        row = Row([name])
        for year in years:
            if year not in by_year.index:
                row.cells.append("—")
                continue
            r = by_year.loc[year]
            text = f"{100 * float(r['probability']):.0f}%"
            if has_ci:
                text += f" ({100 * float(r['wilson_low']):.0f}–{100 * float(r['wilson_high']):.0f})"
            row.cells.append(text)
        rows.append(row)
    header = [[label("word.target", lang), *(str(y) for y in years)]]
    rest_width = (1.0 - 0.5) / len(years)
    title = label("title.probability_table", lang)
    widths = [0.5] + [rest_width] * len(years)
    with use_report_style(lang):
        return [
            table_figure(title, header, part, widths)
            for part in _pages_of(rows, rows_per_page(len(header)))
        ]
