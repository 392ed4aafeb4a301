"""Pages of running text and tables: the summary, the table of contents, the audit appendix.

A :class:`Flow` sets paragraphs, headings and tables top-down inside the chart box of A4
report pages (:mod:`cbm_sim.report.page`) and starts a new page when the next piece does not
fit; tables too long for a page continue on the next one under their repeated header. Text is
wrapped to the column (:func:`~cbm_sim.report.page.wrap`), tables' cells to their columns
(:func:`~cbm_sim.report.tables.wrap_rows`), so nothing runs over the box or into a
neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from matplotlib.figure import Figure

from cbm_sim.report.fonts import Lang
from cbm_sim.report.page import MIN_FONT_PT, box_fraction, chart_width_in, max_chart_height_in, wrap
from cbm_sim.report.style import new_figure
from cbm_sim.report.tables import Row, draw_table, wrap_rows

LEADING: Final[float] = 1.3
"""Line height over font size of running text."""


class Flow:
    """Running text and tables on report pages (module docstring).

    Parameters
    ----------
    lang
        The report language (how text is wrapped is the same; kept for the callers).
    """

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.pages: list[Figure] = []
        self.height_in = max_chart_height_in()
        self.width_in = chart_width_in()
        self._new_page()

    def _new_page(self) -> None:
        fig = new_figure(self.height_in, layout=False)
        ax = fig.add_axes(box_fraction(fig))
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        self.pages.append(fig)
        self.fig, self.ax = fig, ax
        self.y_in = 0.0  # from the top of the chart box

    def room_in(self) -> float:
        """Height left on the current page [in]."""
        return self.height_in - self.y_in

    def text(
        self,
        text: str,
        size: float = MIN_FONT_PT,
        *,
        gap_pt: float = 3.0,
        keep_in: float = 0.0,
        indent_in: float = 0.0,
        **style: Any,
    ) -> None:
        """A paragraph at the cursor (``keep_in``: start a new page unless that much more room
        is left after it, so a heading stays with what follows)."""
        if size < MIN_FONT_PT:
            raise ValueError(f"text below {MIN_FONT_PT} pt: {size}")
        lines = wrap(text, self.width_in - indent_in, size).split("\n")
        step = size * LEADING / 72.0
        if self.y_in and self.room_in() < step * min(len(lines), 2) + keep_in:
            self._new_page()
        chunk: list[str] = []
        for line in lines:
            if self.y_in + step * (len(chunk) + 1) > self.height_in:
                self._put(chunk, size, indent_in, style)
                self._new_page()
                chunk = []
            chunk.append(line)
        self._put(chunk, size, indent_in, style)
        self.y_in += gap_pt / 72.0

    def _put(self, lines: list[str], size: float, indent_in: float, style: dict[str, Any]) -> None:
        if not lines:
            return
        self.ax.text(
            indent_in / self.width_in, 1.0 - self.y_in / self.height_in, "\n".join(lines),
            ha="left", va="top", fontsize=size, linespacing=LEADING, **style,
        )  # fmt: skip
        self.y_in += len(lines) * size * LEADING / 72.0

    def heading(self, text: str, size: float = 11.0) -> None:
        """A heading, kept with at least three lines of what follows."""
        self.space(6.0)
        self.text(text, size, gap_pt=4.0, keep_in=0.6)

    def space(self, points: float) -> None:
        """Vertical space [pt] (none at the top of a page)."""
        if self.y_in:
            self.y_in = min(self.y_in + points / 72.0, self.height_in)

    def table(
        self,
        header: Sequence[Sequence[str]],
        rows: Sequence[Row],
        widths: Sequence[float],
        *,
        wrapped: Sequence[int] = (),
        left: Sequence[int] = (),
        gap_pt: float = 6.0,
    ) -> None:
        """A table at the cursor; rows that do not fit continue on the next page under the
        header again. Cells of the columns ``wrapped`` (default all) wrap to their width;
        the first column and the columns ``left`` are left-aligned."""
        if abs(sum(widths) - 1.0) > 1e-9 or any(len(h) != len(widths) for h in header):
            raise ValueError(f"expected header rows of {len(widths)} cells and widths adding to 1")
        head = wrap_rows([Row(list(h), total=True) for h in header], widths)  # every column
        body = wrap_rows(rows, widths, wrapped=wrapped)
        head_in = sum(r.height_in for r in head)
        k = 0
        while k < len(body):
            if self.room_in() < head_in + body[k].height_in:
                self._new_page()
            part: list[Row] = []
            used = head_in
            while k < len(body) and used + body[k].height_in <= self.room_in() + 1e-9:
                part.append(body[k])
                used += body[k].height_in
                k += 1
            if not part:  # one row taller than a page: cannot happen with wrapped cells
                raise ValueError("a table row is taller than a page")
            self.y_in += draw_table(self.ax, self.y_in, [*head, *part], widths,
                                    header_rows=len(head), left=left)  # fmt: skip
        self.y_in += gap_pt / 72.0


__all__ = ["LEADING", "Flow"]
