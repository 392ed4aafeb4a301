"""The PDF report: pages, metadata, embedded CJK font, per-chart files, no font warnings."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from pypdf import PdfReader
from synthetic import Synthetic, build

from cbm_sim.report import pdf as report_pdf
from cbm_sim.report.audit_pages import audit_pages
from cbm_sim.report.page import DEFAULT_PAGE_WIDTH_CM

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


def _write_capturing(synth: Synthetic, out: Path, lang: str, ensemble: bool, **kwargs):
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
                ensemble=synth.ensemble if ensemble else None,
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
    """The Chinese report of a single run, with per-chart files."""
    out = tmp_path_factory.mktemp("zh") / "plan-check.pdf"
    return _write_capturing(synth, out, "zh", ensemble=False)


@pytest.fixture(scope="module")
def en_report(synth: Synthetic, tmp_path_factory: pytest.TempPathFactory):
    """The English report with an ensemble, report PDF only."""
    out = tmp_path_factory.mktemp("en") / "plan-check-en.pdf"
    return _write_capturing(synth, out, "en", ensemble=True, chart_files=False)


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


@pytest.mark.parametrize(
    ("which", "pages"),
    [
        ("zh_report", SINGLE_RUN_PAGES + CALIBRATION_PAGES),
        ("en_report", SINGLE_RUN_PAGES + CALIBRATION_PAGES + ENSEMBLE_PAGES),
    ],
)
def test_report_has_one_page_per_chart(
    which: str, pages: int, request: pytest.FixtureRequest
) -> None:
    path, _, _ = request.getfixturevalue(which)
    assert path.is_file()
    appendix = len(audit_pages(lang="zh" if which == "zh_report" else "en"))  # the plan audit
    assert len(PdfReader(path).pages) == pages + appendix


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
    appendix = len(audit_pages(lang="zh"))  # the plan audit's pages have files too
    assert len(pdfs) == len(pngs) == SINGLE_RUN_PAGES + CALIBRATION_PAGES + appendix
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
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        for data in allowed:
            text = text.replace(data, "")
        assert CJK.findall(text) == [], f"page {number}: {text[:300]}"
    assert "Cluster output target check" in reader.pages[0].extract_text()
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
    found = [text for text in pages if "历史校准与回测" in text]
    assert len(found) == 1
    assert "production_2021" in found[0] and "42.7" in found[0]


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
        reader = PdfReader(chart)
        text = reader.pages[0].extract_text()
        # the one-line footer band, and not the page's own footer as well
        assert text.count("随机种子 7 · cbm-sim") == 1, chart.name
        assert not re.search(r"^(图|表)\d+　", text, re.MULTILINE), chart.name  # no caption
        assert reader.metadata.title, chart.name
    production = PdfReader(path.parent / f"{path.stem}_charts" / "production.pdf")
    page_text = report.pages[1].extract_text()  # the production chart is figure 1, page 2
    chart_text = production.pages[0].extract_text()
    assert f"2 / {n}" in page_text and f"2 / {n}" not in chart_text  # no page number
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
