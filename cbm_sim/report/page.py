"""Print geometry of the report: one A4 page per chart, the chart at the text-column width.

A report writer pastes a chart into a document whose text column is ``page width`` wide
(default 16 cm, :data:`DEFAULT_PAGE_WIDTH_CM`). Every chart is therefore drawn *at that
width*, with fonts of at least :data:`MIN_FONT_PT` (9 pt) — so they are 9 pt on paper, in the
PDF report and in the single-chart files alike, and no scaling is needed.

Each chart is a :class:`~matplotlib.figure.Figure` of A4 portrait size (210 × 297 mm); the
chart itself occupies a box at the top of the text column (its axes are laid out inside that
box by matplotlib's constrained layout), the caption sits below the box and the page footer
(scenario, seed, version, source, page number) at the bottom. A single-chart file is the box
and a one-line footer under it, cut out of the same figure (:func:`chart_file_bbox`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from cbm_sim import bounds

MM_PER_IN: Final[float] = 25.4
A4_IN: Final[tuple[float, float]] = (210.0 / MM_PER_IN, 297.0 / MM_PER_IN)
"""A4 portrait [in] (ISO 216: 210 × 297 mm)."""
MIN_FONT_PT: Final[float] = 9.0
"""Smallest font on any page or chart [pt]; assumption: 9 pt is the usual floor for figure
text in print (e.g. Nature and Elsevier artwork guides ask for 5–7 pt minimum at final size;
9 pt keeps Chinese characters, which need more strokes, readable)."""
DEFAULT_PAGE_WIDTH_CM: Final[float] = 16.0
"""Text-column width a chart is drawn at [cm]; A4 with 25 mm side margins."""
CHART_ASPECT: Final[float] = 0.62
"""Height / width of a chart box (about the golden ratio's 0.618)."""
TOP_MARGIN_IN: Final[float] = 20.0 / MM_PER_IN
BOTTOM_RESERVE_IN: Final[float] = 45.0 / MM_PER_IN
"""Below the tallest chart box: caption and footer [in]."""
FOOTER_Y_IN: Final[float] = 12.0 / MM_PER_IN
CHART_FOOTER_BAND_IN: Final[float] = 0.45
"""Height of the footer band (two lines of 9 pt) under a single-chart file [in]."""

bounds.register(
    bounds.Bound(
        "page_width_cm",
        8.0,
        18.0,
        "cm",
        "text-column width of the report's charts; assumption: 18 cm is A4 (21 cm) less two "
        "15 mm margins, and below 8 cm a 9 pt chart has no room for its axes",
    )
)

_WIDTH_IN: ContextVar[float] = ContextVar("chart_width_in", default=DEFAULT_PAGE_WIDTH_CM / 2.54)


@contextlib.contextmanager
def page_width(width_cm: float) -> Iterator[float]:
    """Draw the charts made inside at ``width_cm`` [cm] wide; yields the width in inches.

    Raises
    ------
    ValueError
        If ``width_cm`` is outside the ``page_width_cm`` bounds (:mod:`cbm_sim.bounds`).
    """
    width = float(bounds.check("page_width_cm", width_cm)) / 2.54
    token = _WIDTH_IN.set(width)
    try:
        yield width
    finally:
        _WIDTH_IN.reset(token)


def chart_width_in() -> float:
    """Width of the chart box [in] (the current :func:`page_width`)."""
    return _WIDTH_IN.get()


def max_chart_height_in() -> float:
    """Tallest chart box an A4 page holds above its caption and footer [in]."""
    return A4_IN[1] - TOP_MARGIN_IN - BOTTOM_RESERVE_IN


@dataclass(frozen=True)
class PageTexts:
    """The texts of a page that are not the chart's: shown on the page or in the file."""

    caption: Text
    footer: Text
    page_number: Text
    chart_footer: Text


def chart_box(fig: Figure) -> Bbox:
    """The chart box of a page figure [in, from the bottom left of the page]."""
    box = getattr(fig, "_cbm_chart_box", None)
    if box is None:
        raise ValueError("not a report page figure (made by cbm_sim.report.page.page_figure)")
    return box


def page_figure(height_in: float | None = None, *, layout: bool = True) -> Figure:
    """An A4 page figure whose chart box is the text column's width and ``height_in`` high.

    Parameters
    ----------
    height_in
        Height of the chart box [in]; default :data:`CHART_ASPECT` × width; at most
        :func:`max_chart_height_in`.
    layout
        Lay the axes out inside the box (constrained layout); off for pages that place their
        own text (the cover), which use :func:`box_fraction`.
    """
    width = chart_width_in()
    height = min(
        height_in if height_in is not None else width * CHART_ASPECT, max_chart_height_in()
    )
    page_w, page_h = A4_IN
    left = (page_w - width) / 2
    bottom = page_h - TOP_MARGIN_IN - height
    fig = Figure(figsize=A4_IN)
    box = Bbox.from_bounds(left, bottom, width, height)
    fig._cbm_chart_box = box  # type: ignore[attr-defined]
    if layout:
        rect = (left / page_w, bottom / page_h, width / page_w, height / page_h)
        fig.set_layout_engine(ConstrainedLayoutEngine(rect=rect))
    return fig


def box_fraction(fig: Figure) -> tuple[float, float, float, float]:
    """The chart box as (left, bottom, width, height) in figure fractions (for add_axes)."""
    box = chart_box(fig)
    page_w, page_h = A4_IN
    return (box.x0 / page_w, box.y0 / page_h, box.width / page_w, box.height / page_h)


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_UNBROKEN: Final[tuple[str, ...]] = ("晋市政发〔2022〕28号",)
"""Phrases a line never breaks inside (the plan's document number)."""
_HAN = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_TOKEN = re.compile("|".join(re.escape(p) for p in _UNBROKEN) + rf"|[{_HAN}]|\s+|[^\s{_HAN}]+")


_CLOSING: Final[str] = "，。、；：！？）》」』】〕”’,.;:!?)]}%"
"""Punctuation a line never starts with (it stays with the word before it)."""
_OPENING: Final[str] = "（《「『【〔“‘([{"
"""Punctuation a line never ends with (it stays with the word after it)."""


def wrap(text: str, width_in: float, size_pt: float, *, cjk: bool = True) -> str:
    """``text`` broken into lines that fit ``width_in`` at ``size_pt``, between words or
    between Han characters, never inside a Latin word, a number or the plan's document number,
    and never before closing punctuation.

    Widths are measured with the current font (matplotlib's renderer, the report style's font
    list), glyph by glyph, at 102 % (kerning and hinting); where no renderer is available a
    Han character counts 1 em and any other 0.6 em. ``cjk`` is kept for callers.
    """
    del cjk
    limit = width_in * 72.0 / size_pt  # ems per line
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for token in _tokens(paragraph):
            ems = sum(_char_ems(ch) for ch in token)
            if used + ems > limit and line.strip():
                lines.append(line.rstrip())
                line, used = ("", 0.0) if token.isspace() else (token, ems)
            else:
                line, used = line + token, used + ems
        lines.append(line.rstrip())
    return "\n".join(lines)


def _tokens(paragraph: str) -> list[str]:
    """Break units: :data:`_TOKEN` matches, closing punctuation joined to the unit before and
    opening punctuation to the unit after (a line neither starts with "）" nor ends with "（")."""
    out: list[str] = []
    opening = False
    for token in _TOKEN.findall(paragraph):
        if out and ((token[0] in _CLOSING and not out[-1].isspace()) or opening):
            out[-1] += token
        else:
            out.append(token)
        opening = token[-1] in _OPENING and not token.isspace()
    return out


def _char_ems(ch: str) -> float:
    """Width of ``ch`` in ems of the current font (estimated when it cannot be measured)."""
    import matplotlib as mpl

    family = tuple(mpl.rcParams["font.family"])
    return _measured_ems(ch, family)


@functools.cache
def _measured_ems(ch: str, family: tuple[str, ...]) -> float:
    try:
        from matplotlib.font_manager import FontProperties

        renderer = _renderer()
        prop = FontProperties(family=list(family), size=100.0)
        probe = f"x{ch}x"
        with warnings.catch_warnings(record=True) as missing:  # a glyph the fonts lack
            warnings.simplefilter("always")
            width = renderer.get_text_width_height_descent(probe, prop, ismath=False)[0]
            width -= _measured_xx(family)
        if missing:  # measured as a box glyph: the estimate is nearer
            return 1.0 if _CJK.match(ch) else 0.6
        return max(width * 72.0 / renderer.dpi / 100.0, 0.0) * 1.02
    except Exception:  # no renderer (a broken font install): the estimate
        return 1.0 if _CJK.match(ch) else 0.6


@functools.cache
def _measured_xx(family: tuple[str, ...]) -> float:
    """Width of "xx" at 100 pt in ``family`` [px at 72 dpi], once per family (it was measured
    again for each of a report's ~500 characters)."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family=list(family), size=100.0)
    return float(_renderer().get_text_width_height_descent("xx", prop, ismath=False)[0])


@functools.cache
def _renderer() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(100, 100, 72.0)


def add_page_texts(fig: Figure, *, caption: str, footer: str, cjk: bool) -> PageTexts:
    """Caption under the chart box, footer and page number at the bottom, and the one-line
    footer of the single-chart file (hidden on the page; :func:`show_for_file`)."""
    box = chart_box(fig)
    page_w, page_h = A4_IN
    size = MIN_FONT_PT + 1
    caption_text = fig.text(
        box.x0 / page_w,
        (box.y0 - 0.12) / page_h,
        wrap(caption, box.width, size, cjk=cjk),
        ha="left",
        va="top",
        fontsize=size,
    )
    footer_text = fig.text(
        box.x0 / page_w,
        FOOTER_Y_IN / page_h,
        wrap(footer, box.width - 0.8, MIN_FONT_PT, cjk=cjk),
        ha="left",
        va="bottom",
        fontsize=MIN_FONT_PT,
        color="#444444",
    )
    number = fig.text(
        box.x1 / page_w, FOOTER_Y_IN / page_h, "", ha="right", va="bottom", fontsize=MIN_FONT_PT
    )
    chart_footer = fig.text(
        box.x0 / page_w,
        (box.y0 - 0.05) / page_h,
        "\n".join(wrap(footer, box.width, MIN_FONT_PT, cjk=cjk).split("\n")[:2]),
        ha="left",
        va="top",
        fontsize=MIN_FONT_PT,
        color="#444444",
        visible=False,
    )
    texts = PageTexts(caption_text, footer_text, number, chart_footer)
    fig._cbm_page_texts = texts  # type: ignore[attr-defined]
    return texts


def page_texts(fig: Figure) -> PageTexts | None:
    """The :class:`PageTexts` of a page figure, if :func:`add_page_texts` added them."""
    return getattr(fig, "_cbm_page_texts", None)


def show_for_file(fig: Figure, single: bool) -> None:
    """Show the page's texts (``single=False``) or the chart file's footer (``single=True``)."""
    texts = page_texts(fig)
    if texts is None:
        return
    for t in (texts.caption, texts.footer, texts.page_number):
        t.set_visible(not single)
    texts.chart_footer.set_visible(single)


def chart_file_bbox(fig: Figure) -> Bbox:
    """What a single-chart file keeps of the page: the chart box and its footer band [in]."""
    box = chart_box(fig)
    return Bbox.from_extents(box.x0, box.y0 - CHART_FOOTER_BAND_IN, box.x1, box.y1)


def _shrink_layout(fig: Figure, top_in: float = 0.0, bottom_in: float = 0.0) -> None:
    """Keep the top ``top_in`` and bottom ``bottom_in`` of the chart box out of the
    constrained layout (for a title or a note set there)."""
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        raise ValueError("the page has no constrained layout to make room in")
    box = chart_box(fig)
    top, bottom = getattr(fig, "_cbm_reserved_in", (0.0, 0.0))
    top, bottom = top + top_in, bottom + bottom_in
    fig._cbm_reserved_in = (top, bottom)  # type: ignore[attr-defined]
    page_w, page_h = A4_IN
    rect = (
        box.x0 / page_w,
        (box.y0 + bottom) / page_h,
        box.width / page_w,
        (box.height - top - bottom) / page_h,
    )
    engine.set(rect=rect)


def box_title(fig: Figure, text: str, *, size: float = 10.0, cjk: bool = True) -> Text:
    """A title across the top of the chart box (inside it, never in the page margin), the
    axes laid out below it."""
    box = chart_box(fig)
    lines = wrap(text, box.width, size, cjk=cjk)
    height_in = (lines.count("\n") + 1) * size * 1.3 / 72.0 + 0.06
    _shrink_layout(fig, top_in=height_in)
    page_w, page_h = A4_IN
    return fig.text(
        (box.x0 + box.width / 2) / page_w, box.y1 / page_h, lines, ha="center", va="top",
        fontsize=size, linespacing=1.3,
    )  # fmt: skip


def box_note(fig: Figure, text: str, *, size: float = MIN_FONT_PT, color: str = "#000000",
             cjk: bool = True) -> Text:  # fmt: skip
    """A note across the bottom of the chart box (a warning the chart file must carry too),
    the axes laid out above it."""
    box = chart_box(fig)
    lines = wrap(text, box.width, size, cjk=cjk)
    height_in = (lines.count("\n") + 1) * size * 1.3 / 72.0 + 0.08
    below = getattr(fig, "_cbm_reserved_in", (0.0, 0.0))[1]
    _shrink_layout(fig, bottom_in=height_in)
    page_w, page_h = A4_IN
    return fig.text(
        box.x0 / page_w, (box.y0 + below) / page_h, lines, ha="left", va="bottom", fontsize=size,
        linespacing=1.3, color=color,
    )  # fmt: skip


def box_legend(
    fig: Figure, handles: Sequence[Artist], labels: Sequence[str], *, ncols: int = 3
) -> Legend:
    """One legend for the whole chart at the bottom of the chart box (above a
    :func:`box_note`), the axes laid out above it: every entry inside the box, so the chart
    file carries it whole."""
    box = chart_box(fig)
    rows = -(-len(labels) // max(ncols, 1))
    height_in = rows * MIN_FONT_PT * 1.6 / 72.0 + 0.1
    below = getattr(fig, "_cbm_reserved_in", (0.0, 0.0))[1]
    _shrink_layout(fig, bottom_in=height_in)
    page_w, page_h = A4_IN
    anchor = ((box.x0 + box.width / 2) / page_w, (box.y0 + below) / page_h)
    return fig.legend(
        list(handles), list(labels), loc="lower center", bbox_to_anchor=anchor, ncols=ncols,
        frameon=False, fontsize=MIN_FONT_PT, columnspacing=1.2, handlelength=1.5,
        borderaxespad=0.0,
    )  # fmt: skip
