"""The report is made for print: one A4 page size, no text under 9 pt at the default text
width, no overlapping text and no table text spilling out of its cell, a footer (scenario,
seed, version, source) and a page number on every page and in every chart file, figure and
table numbers with captions, one PDF bookmark per page."""

from __future__ import annotations

import itertools
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.table import Table
from matplotlib.text import Text
from pypdf import PdfReader
from synthetic import Synthetic, build

import cbm_sim
from cbm_sim.report import pdf as report_pdf
from cbm_sim.report.fonts import use_report_style
from cbm_sim.report.page import A4_IN, DEFAULT_PAGE_WIDTH_CM, MIN_FONT_PT, page_width, wrap

A4_PT = (A4_IN[0] * 72, A4_IN[1] * 72)


@pytest.fixture(scope="module")
def synth() -> Synthetic:
    return build()


def _drawn_texts(fig: Figure) -> list[Text]:
    """The texts a draw of ``fig`` actually paints (visible, non-empty, ticks in view)."""
    FigureCanvasAgg(fig)
    drawn: list[Text] = []
    original = Text.draw

    def record(self: Text, renderer: object) -> None:
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        original(self, renderer)

    with mock.patch.object(Text, "draw", record):
        fig.canvas.draw()
    return drawn


def _problems(fig: Figure) -> list[str]:
    """Every small font, overlap of two texts, text off the page or out of its table cell."""
    texts = _drawn_texts(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    out = [
        f"{t.get_fontsize():.1f} pt: {t.get_text()[:30]!r}"
        for t in texts
        if t.get_fontsize() < MIN_FONT_PT - 1e-9
    ]
    boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if dx > 1 and dy > 1:  # more than a pixel (1/100 in at 100 dpi) both ways
            out.append(f"overlap: {a.get_text()[:25]!r} / {b.get_text()[:25]!r}")
    width, height = fig.bbox.width, fig.bbox.height
    out += [
        f"off the page: {t.get_text()[:25]!r}"
        for t, b in boxes
        if b.x0 < -1 or b.y0 < -1 or b.x1 > width + 1 or b.y1 > height + 1
    ]
    for table in fig.findobj(Table):
        for cell in table.get_celld().values():
            text = cell.get_text()
            if not text.get_text():
                continue
            c, t = cell.get_window_extent(renderer), text.get_window_extent(renderer)
            if t.x0 < c.x0 - 0.5 or t.x1 > c.x1 + 0.5 or t.y0 < c.y0 - 0.5 or t.y1 > c.y1 + 0.5:
                out.append(f"out of its cell: {text.get_text()!r}")
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_is_readable_at_the_default_width(synth: Synthetic, lang: str) -> None:
    inputs = report_pdf.ReportInputs(
        synth.results,
        lang,  # type: ignore[arg-type]
        synth.targets,
        synth.valuation,
        report_pdf._ensemble_frames(synth.ensemble),
    )
    footer = report_pdf.footer_text(synth.results, lang)  # type: ignore[arg-type]
    with use_report_style(lang), page_width(DEFAULT_PAGE_WIDTH_CM):  # type: ignore[arg-type]
        pages = report_pdf.render_pages(inputs, footer)
        assert len(pages) >= 14
        for rendered in pages:
            fig = rendered.page.figure
            assert tuple(fig.get_size_inches()) == pytest.approx(A4_IN)
            problems = _problems(fig)
            assert problems == [], (rendered.page.name, problems)


def test_report_pdf_one_page_size_footer_numbers_bookmarks(
    synth: Synthetic, tmp_path: Path
) -> None:
    out = tmp_path / "r.pdf"
    seen: list[tuple[str, int, int]] = []
    report_pdf.write_report(
        synth.results,
        out,
        lang="en",
        ensemble=synth.ensemble,
        targets=synth.targets,
        values=synth.valuation,
        png_dpi=20,
        progress=lambda name, k, n: seen.append((name, k, n)),
    )
    reader = PdfReader(out)
    n = len(reader.pages)
    assert [k for _, k, _ in seen] == list(range(1, n + 1)) and {t for *_, t in seen} == {n}
    sizes = {
        (round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
        for p in reader.pages
    }
    assert sizes == {(round(A4_PT[0], 1), round(A4_PT[1], 1))}
    for k, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        for bit in ("synthetic-test", "Seed 7", f"cbm-sim {cbm_sim.__version__}", "Source"):
            assert bit in text, (k, bit)
        assert f"{k} / {n}" in text, k
    titles = [item.title for item in reader.outline]
    assert len(titles) == n
    first = next(k for k, t in enumerate(titles) if t.startswith("Figure 1. "))
    assert titles[0] == "Summary" and "Contents" in titles[:first]
    assert any(t.startswith("Table 1. ") for t in titles)
    assert "Figure 1. " in reader.pages[first].extract_text()  # the caption
    # every single-chart file: the chart at the column width, with the footer under it
    for name, _, _ in seen:
        chart = PdfReader(tmp_path / "r_charts" / f"{name}.pdf")
        box = chart.pages[0].mediabox
        assert float(box.width) == pytest.approx(DEFAULT_PAGE_WIDTH_CM / 2.54 * 72, abs=1.0)
        assert "Seed 7" in chart.pages[0].extract_text(), name


def test_page_width_is_bounded_and_narrow_columns_still_get_9_pt(synth: Synthetic) -> None:
    with pytest.raises(ValueError, match="page_width_cm"), page_width(25.0):
        pass
    with use_report_style("en"), page_width(12.0):
        from cbm_sim.report.charts import production_chart

        fig = production_chart(synth.results, "en")
        small = [t for t in _drawn_texts(fig) if t.get_fontsize() < MIN_FONT_PT]
        assert small == []


def test_wrap_breaks_between_words_and_han_characters_only() -> None:
    text = "2030年：模拟 917.5 亿元 / 目标 1,000 亿元 — 未达成（差距 -82.5 亿元，-8.2%）"
    lines = wrap(text, 2.0, 9.0).split("\n")
    assert len(lines) > 1
    assert all(len(line) > 0 for line in lines)
    joined = "".join(lines)
    for number in ("917.5", "1,000", "-82.5", "-8.2%"):
        assert number in joined
        assert not any(line.endswith(number[:2]) and number not in line for line in lines)
    assert wrap("short", 5.0, 9.0) == "short"
    footer = "数据来源：cbm-sim模拟；目标：晋市政发〔2022〕28号"
    assert any("晋市政发〔2022〕28号" in line for line in wrap(footer, 2.0, 9.0).split("\n"))


def test_a_tornado_of_two_years_gets_a_page_per_year(synth: Synthetic) -> None:
    # `ensemble --tornado` writes one swing per input and target year (base differs by year)
    one = synth.ensemble.tornado.assign(year=2025)
    two = one.assign(year=2030, base=one["base"] * 1.5, low_value=one["low_value"] * 1.5,
                     high_value=one["high_value"] * 1.5)  # fmt: skip
    frames = {
        "percentiles": synth.ensemble.percentiles,
        "probabilities": synth.ensemble.probabilities,
        "tornado": pd.concat([one, two], ignore_index=True),
    }
    figures = report_pdf.build_charts(
        synth.results, "zh", targets=synth.targets, values=synth.valuation, ensemble=frames
    )
    assert [n for n in figures if n.startswith("tornado")] == ["tornado_2025", "tornado_2030"]


def test_the_cell_check_finds_a_text_spilling_out_of_its_cell() -> None:
    """The table check can fail: a cell text too long for its column (not wrapped) is found,
    and a table that fits is not."""
    from cbm_sim.report.tables import Row, table_figure

    with use_report_style("en"), page_width(DEFAULT_PAGE_WIDTH_CM):
        fits = table_figure("T", [["a", "b"]], [Row(["x", "1.0"])], (0.5, 0.5))
        spills = table_figure("T", [["a", "b"]], [Row(["x" * 200, "1.0"])], (0.5, 0.5))
        assert len(fits.findobj(Table)) == 1
        assert _problems(fits) == []
        assert any("out of its cell" in p for p in _problems(spills))
