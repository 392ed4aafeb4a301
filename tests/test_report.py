"""The PDF report: pages, metadata, embedded CJK font, per-chart files, no font warnings."""

from __future__ import annotations

import functools
import logging
import re
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from pdf_text import Box, overlaps, text_boxes
from pypdf import PdfReader
from synthetic import Synthetic, build, full_report_kwargs

from cbm_sim.report import pdf as report_pdf
from cbm_sim.report.audit_pages import audit_pages
from cbm_sim.report.page import A4_IN, CHART_FOOTER_BAND_IN, DEFAULT_PAGE_WIDTH_CM, TOP_MARGIN_IN

# Pages of a single run: cover, production, balance, Sankey 2025 and 2030, facilities,
# storage, value bars, item table, physical-targets table.
SINGLE_RUN_PAGES = 10
CALIBRATION_PAGES = 1  # the calibration/backtest table (report/calibration_charts.py)
# An ensemble adds two fans (production, value), the probability bars and the tornado.
ENSEMBLE_PAGES = 4
PNG_DPI = 30
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


@pytest.fixture(scope="module")
def synth() -> Synthetic:
    return build()


def _write_capturing(synth: Synthetic, out: Path, lang: str, with_ensemble: bool, **kwargs):
    """Write a report; return its path and every warning and matplotlib log record raised."""
    handler = _Collect()
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = report_pdf.write_report(
                synth.results,
                out,
                lang=lang,
                **({"ensemble": synth.ensemble} if with_ensemble else {}),
                targets=synth.targets,
                values=synth.valuation,
                png_dpi=PNG_DPI,
                **kwargs,
            )
    finally:
        logger.removeHandler(handler)
    return path, [str(w.message) for w in caught], handler.messages


@pytest.fixture(scope="module")
def zh_report(synth: Synthetic, tmp_path_factory: pytest.TempPathFactory):
    """The Chinese report with every optional page, with per-chart files."""
    out = tmp_path_factory.mktemp("zh") / "plan-check.pdf"
    return _write_capturing(synth, out, "zh", with_ensemble=False, **full_report_kwargs(synth))


@pytest.fixture(scope="module")
def en_report(synth: Synthetic, tmp_path_factory: pytest.TempPathFactory):
    """The English report with every optional page, report PDF only."""
    out = tmp_path_factory.mktemp("en") / "plan-check-en.pdf"
    return _write_capturing(
        synth, out, "en", with_ensemble=False, chart_files=False, **full_report_kwargs(synth)
    )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _fonts(reader: PdfReader) -> dict[str, str]:
    """BaseFont name → descendant font subtype (or font subtype) over all pages."""
    out = {}
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            sub = font["/Subtype"]
            if "/DescendantFonts" in font:
                sub = font["/DescendantFonts"][0].get_object()["/Subtype"]
            out[str(font["/BaseFont"])] = str(sub)
    return out


@pytest.mark.parametrize("which", ["zh_report", "en_report"])
def test_report_has_one_page_per_chart(which: str, request: pytest.FixtureRequest) -> None:
    """Summary and contents first, then every chart and table, the optional pages and the
    plan audit; one bookmark per page."""
    path, _, _ = request.getfixturevalue(which)
    reader = PdfReader(path)
    titles = [item.title for item in reader.outline]
    assert len(titles) == len(reader.pages)
    zh = which == "zh_report"
    appendix = len(audit_pages(lang="zh" if zh else "en"))  # the plan audit
    summary, contents = ("摘要", "目录") if zh else ("Summary", "Contents")
    first = titles.index(contents)
    assert first >= 1 and set(titles[:first]) == {summary}
    body = SINGLE_RUN_PAGES - 1 + CALIBRATION_PAGES  # the cover is now the summary
    optional = ENSEMBLE_PAGES + 1 + 1 + 1 + 1  # + tornado 2030, Sobol, robustness, comparison
    assert len(titles) >= 2 + body + optional + appendix


@pytest.mark.parametrize("which", ["zh_report", "en_report"])
def test_writing_raises_no_warning_and_no_font_complaint(
    which: str, request: pytest.FixtureRequest
) -> None:
    _, caught, logged = request.getfixturevalue(which)
    assert caught == []
    assert logged == []


def test_chinese_report_embeds_the_cjk_font_as_truetype(zh_report) -> None:
    path, _, _ = zh_report
    reader = PdfReader(path)
    fonts = _fonts(reader)
    cjk = {name: sub for name, sub in fonts.items() if "NotoSansSC" in name}
    assert cjk, f"no CJK font among {sorted(fonts)}"
    assert set(cjk.values()) == {"/CIDFontType2"}
    assert "晋城市煤层气产业集群" in reader.pages[0].extract_text()


def test_report_metadata(zh_report, synth: Synthetic) -> None:
    path, _, _ = zh_report
    meta = PdfReader(path).metadata
    assert synth.results.meta["scenario"] in meta.title
    assert meta.title.startswith("晋城市煤层气产业集群")
    assert meta.author.startswith("cbm-sim")
    assert "晋市政发〔2022〕28号" in meta.subject


def test_each_chart_is_saved_as_pdf_and_png(zh_report) -> None:
    path, _, _ = zh_report
    charts_dir = path.parent / f"{path.stem}_charts"
    pdfs = sorted(charts_dir.glob("*.pdf"))
    pngs = sorted(charts_dir.glob("*.png"))
    assert len(pdfs) == len(pngs) == len(PdfReader(path).pages)  # the audit's pages too
    assert [p.stem for p in pdfs] == [p.stem for p in pngs]
    for pdf in pdfs:
        assert len(PdfReader(pdf).pages) == 1
    image = mpimg.imread(charts_dir / "production.png")
    # the chart at the text-column width (and its footer band), not the A4 page
    assert image.shape[1] == pytest.approx(DEFAULT_PAGE_WIDTH_CM / 2.54 * PNG_DPI, abs=2)
    assert image.shape[0] < image.shape[1]


def test_english_report_has_no_chinese_labels(en_report, synth: Synthetic) -> None:
    path, _, _ = en_report
    reader = PdfReader(path)
    assert reader.metadata.title.startswith("Jincheng CBM industry cluster")
    assert not (path.parent / f"{path.stem}_charts").exists()
    # Data may be Chinese (the scenario's description); so is the plan's document number.
    allowed = [synth.results.meta["description"], "晋市政发〔2022〕28号"]
    titles = [item.title for item in reader.outline]
    for number, page in enumerate(reader.pages, start=1):
        if "Comparison with" in titles[number - 1]:
            continue  # quotes the scenario files: their names and comments are data
        text = page.extract_text()
        for data in allowed:
            text = text.replace(data, "")
        assert CJK.findall(text) == [], f"page {number}: {text[:300]}"
    assert "Verdict: the cluster's output target" in reader.pages[0].extract_text()
    assert any("DejaVuSans" in name for name in _fonts(reader))


def test_report_without_ensemble_has_the_single_run_pages(synth: Synthetic, tmp_path) -> None:
    from cbm_sim.report.pdf import build_charts

    figures = build_charts(synth.results, "en", targets=synth.targets, values=synth.valuation)
    assert len(figures) == SINGLE_RUN_PAGES + CALIBRATION_PAGES


def test_bad_arguments_are_named(synth: Synthetic, tmp_path: Path) -> None:
    kwargs = {"targets": synth.targets, "values": synth.valuation}
    with pytest.raises(ValueError, match=r"'.*out\.png'"):
        report_pdf.write_report(synth.results, tmp_path / "out.png", **kwargs)
    with pytest.raises(ValueError, match="'jp'"):
        report_pdf.write_report(synth.results, tmp_path / "r.pdf", lang="jp", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="png_dpi must be positive, got 0"):
        report_pdf.write_report(synth.results, tmp_path / "r.pdf", png_dpi=0, **kwargs)
    with pytest.raises(ValueError, match="'fans'"):
        report_pdf.write_report(
            synth.results, tmp_path / "r.pdf", ensemble={"fans": None}, **kwargs
        )
    assert not (tmp_path / "r.pdf").exists()


def test_report_has_the_calibration_page(zh_report) -> None:
    path, _, _ = zh_report
    pages = [page.extract_text() for page in PdfReader(path).pages]
    found = [text for text in pages if "历史校准与回测" in text and "2021年地面抽采量" in text]
    assert len(found) == 1
    assert "production_2021" not in found[0] and "42.7" in found[0]


def test_calibration_page_refuses_a_frame_without_the_backtest_columns() -> None:
    import pandas as pd

    from cbm_sim.report.calibration_charts import calibration_table_figure

    with pytest.raises(ValueError, match=r"calibration frame lacks columns \['error'"):
        calibration_table_figure(pd.DataFrame(columns=["id", "year", "simulated"]), "en")


def test_chart_files_are_cut_from_their_pages_without_the_page_texts(zh_report) -> None:
    """Each chart file is its page's chart box with the footer band under it: the chart's
    texts and the footer, not the page's caption, page footer or page number."""
    path, _, _ = zh_report
    report = PdfReader(path)
    n = len(report.pages)
    for chart in sorted((path.parent / f"{path.stem}_charts").glob("*.pdf")):
        if chart.stem.startswith(("contents", "summary")):
            continue  # the contents list the numbered titles, the summary states the seed
        reader = PdfReader(chart)
        text = reader.pages[0].extract_text()
        # the one-line footer band, and not the page's own footer as well
        assert text.count("随机种子 7 · cbm-sim") == 1, chart.name
        assert not re.search(r"^(图|表)\d+　", text, re.MULTILINE), chart.name  # no caption
        assert reader.metadata.title, chart.name
    production = PdfReader(path.parent / f"{path.stem}_charts" / "production.pdf")
    first = [item.title for item in report.outline].index(production.metadata.title)
    page_text = report.pages[first].extract_text()  # figure 1, after summary and contents
    chart_text = production.pages[0].extract_text()
    number = f"{first + 1} / {n}"
    assert number in page_text and number not in chart_text  # no page number
    for label in ("年份", "郑庄", "规划目标"):  # the chart's own labels survive the cut
        assert label in page_text and label in chart_text
    assert production.metadata.title.startswith("图1")


def test_a_failing_png_writer_fails_the_report(
    synth: Synthetic, tmp_path: Path, monkeypatch
) -> None:
    from matplotlib.figure import Figure

    original = Figure.savefig

    def no_png(self: Figure, fname: object, *args: object, **kwargs: object) -> None:
        if str(fname).endswith(".png"):
            raise OSError("disk full (test)")
        original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", no_png)
    # the parent's own failure, or the child's (whichever drew a PNG first)
    with pytest.raises((OSError, RuntimeError), match=r"disk full|PNG chart files failed"):
        report_pdf.write_report(
            synth.results,
            tmp_path / "r.pdf",
            lang="en",
            targets=synth.targets,
            values=synth.valuation,
            png_dpi=PNG_DPI,
            audit_appendix=False,
        )


# --------------------------------------------------------------------------- layout in the PDF
# Measured in the PDF (tests/pdf_text.py): no two texts overlap, no text leaves the page's
# margins, every chart file holds its chart whole (legend included), and no page of the
# Chinese report shows a raw field name.
MM = 72.0 / 25.4
PAGE_W, PAGE_H = A4_IN[0] * 72.0, A4_IN[1] * 72.0
MARGINS_PT = (20 * MM, 10 * MM, PAGE_W - 20 * MM, PAGE_H - 15 * MM)
"""Where text may go on a page [pt]: 20 mm from the sides (the text column is 25 mm in),
10 mm above the bottom (the footer sits at 12 mm), 15 mm below the top (charts start at 20)."""
TOLERANCE_PT = 0.5


@functools.cache
def _pages(path: Path) -> list[list[Box]]:
    """The text boxes of every page (parsed once per file: the tests below share them)."""
    reader = PdfReader(path)
    return [text_boxes(page, reader) for page in reader.pages]


def _layout_problems(pages: list[list[Box]]) -> list[str]:
    problems = []
    left, bottom, right, top = MARGINS_PT
    for number, boxes in enumerate(pages, start=1):
        for a, b, dx, dy in overlaps(boxes, TOLERANCE_PT):
            problems.append(f"page {number}: {a.text[:30]!r} overlaps {b.text[:30]!r} "
                            f"({dx:.1f} × {dy:.1f} pt)")  # fmt: skip
        for box in boxes:
            if box.x0 < left or box.x1 > right or box.y0 < bottom or box.y1 > top:
                where = f"({box.x0:.0f}, {box.y0:.0f}, {box.x1:.0f}, {box.y1:.0f})"
                problems.append(f"page {number}: {box.text[:30]!r} outside the margins {where}")
    return problems


@pytest.mark.parametrize("which", ["zh_report", "en_report"])
def test_no_text_overlaps_or_leaves_the_margins(which: str, request: pytest.FixtureRequest) -> None:
    pages = _pages(request.getfixturevalue(which)[0])
    assert len(pages) >= 25
    assert sum(len(b) for b in pages) > 1500  # the measure saw the pages' texts
    problems = _layout_problems(pages)
    assert problems == [], "\n".join(problems[:40])


def test_the_measure_finds_an_overlap_and_a_text_off_the_margin() -> None:
    """The check can fail: two texts set on each other, one in the page's margin."""
    import io

    from matplotlib.figure import Figure

    from cbm_sim.report.fonts import use_report_style

    buffer = io.BytesIO()
    with use_report_style("zh"):  # the texts take their font when made
        fig = Figure(figsize=A4_IN)
        fig.text(0.3, 0.5, "drilling.achieved_share", fontsize=9)
        fig.text(0.32, 0.5, "valuation.green_finance_1e8_yuan", fontsize=9)
        fig.text(0.01, 0.99, "方差分解敏感性", fontsize=11, va="top")
        fig.savefig(buffer, format="pdf")
    buffer.seek(0)
    reader = PdfReader(buffer)
    problems = _layout_problems([text_boxes(reader.pages[0], reader)])
    assert any("overlaps" in p for p in problems)
    assert any("outside the margins" in p and "方差" in p for p in problems)


def test_every_chart_file_holds_its_chart_whole(zh_report) -> None:
    """Each chart file's texts lie inside it, and each page's texts either lie inside its
    chart box (which the file is cut to) or are the page's caption, footer and number, set
    under the box from its left edge (the number at its right edge): a legend under the
    axes, outside the box, would be neither."""
    zh_pdf = zh_report[0]
    reader = PdfReader(zh_pdf)
    pages = _pages(zh_pdf)
    files = {}
    for path in sorted((zh_pdf.parent / f"{zh_pdf.stem}_charts").glob("*.pdf")):
        chart = PdfReader(path)
        files.setdefault(str(chart.metadata.title), []).append(chart)
    titles = [item.title for item in reader.outline]
    assert len(titles) == len(reader.pages)
    column_left = (A4_IN[0] * 72.0 - DEFAULT_PAGE_WIDTH_CM / 2.54 * 72.0) / 2
    column_right = A4_IN[0] * 72.0 - column_left
    for number, title in enumerate(titles, start=1):
        chart = files[title].pop(0)
        box = chart.pages[0].mediabox
        width, height = float(box.width), float(box.height)
        for text in text_boxes(chart.pages[0], chart):
            assert text.x0 >= -TOLERANCE_PT and text.x1 <= width + TOLERANCE_PT, (title, text)
            assert text.y0 >= -TOLERANCE_PT and text.y1 <= height + TOLERANCE_PT, (title, text)
        chart_bottom = PAGE_H - TOP_MARGIN_IN * 72.0 - (height - CHART_FOOTER_BAND_IN * 72.0)
        lines: dict[float, list[Box]] = {}
        for text in pages[number - 1]:
            if text.y0 >= chart_bottom - TOLERANCE_PT:
                continue  # inside the chart box: in the chart file
            assert text.y1 < chart_bottom + TOLERANCE_PT, (number, title, text)  # not across it
            lines.setdefault(round(text.y0, 1), []).append(text)
        for line in lines.values():  # caption and footer lines start at the column's left
            starts = min(b.x0 for b in line)
            ends = max(b.x1 for b in line)
            assert abs(starts - column_left) < 2.0 or abs(ends - column_right) < 2.0, (
                number,
                title,
                line,
            )
    assert all(not left for left in files.values())


RAW = re.compile(
    r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?:\.[a-z0-9_]+)*(?![\w/-])"
    r"|(?<![\w/.-])[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*(?![\w/(-])"
)
"""A field name or id as code writes it: ``snake_case`` or ``dotted.path`` words."""
ALLOWED = re.compile(r"\.(yaml|csv|json|py|pdf|png)$|^cbm_sim")
"""File names and the package's paths are not field names (a caption cites them)."""


def test_no_page_of_the_chinese_report_shows_a_raw_field_name(zh_report) -> None:
    found = {}
    for number, boxes in enumerate(_pages(zh_report[0]), start=1):
        text = " ".join(b.text for b in boxes)
        for match in RAW.findall(text):
            if not ALLOWED.search(match):
                found.setdefault(match, number)
    assert found == {}, f"raw names (first page): {found}"


def test_the_raw_name_pattern_finds_field_names_and_spares_files() -> None:
    hits = RAW.findall(
        "钻井 drilling.achieved_share 与 valuation.green_finance_1e8_yuan、production_2021；"
        "来源见 cbm_sim/data/history.yaml 与 robustness.csv；cbm-sim --sobol 256"
    )
    kept = [h for h in hits if not ALLOWED.search(h)]
    assert kept == [
        "drilling.achieved_share",
        "valuation.green_finance_1e8_yuan",
        "production_2021",
    ]
