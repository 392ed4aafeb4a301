"""The audit appendix of the PDF report: A4 pages, fonts ≥ 9 pt, nothing clipped, both
languages, errors and inconsistencies in full."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.backends.backend_pdf import PdfPages
from pypdf import PdfReader

from cbm_sim.plan.audit import audit
from cbm_sim.report.audit_pages import A4_IN, MIN_FONT_PT, audit_pages

CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


@pytest.fixture(scope="module")
def found() -> pd.DataFrame:
    return audit()


@pytest.fixture(scope="module", params=["zh", "en"])
def pages(request: pytest.FixtureRequest, found: pd.DataFrame):
    return request.param, audit_pages(found, request.param)


def _texts(fig):
    return [t for t in fig.texts if t.get_text()]


def test_pages_are_a4_portrait_with_legible_fonts(pages) -> None:
    _, figs = pages
    assert len(figs) >= 2
    for fig in figs:
        assert tuple(fig.get_size_inches()) == pytest.approx(A4_IN)
        sizes = [t.get_fontsize() for t in _texts(fig)]
        assert sizes and min(sizes) >= MIN_FONT_PT


def test_nothing_is_clipped(pages) -> None:
    _, figs = pages
    for number, fig in enumerate(figs, start=1):
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        for text in _texts(fig):
            box = text.get_window_extent(renderer)
            assert box.x0 >= page.x0 and box.x1 <= page.x1, (number, text.get_text())
            assert box.y0 >= page.y0 and box.y1 <= page.y1, (number, text.get_text())


def test_errors_and_inconsistencies_in_full_the_rest_counted(pages, found) -> None:
    lang, figs = pages
    text = "\n".join(t.get_text() for fig in figs for t in _texts(fig))
    flat = text.replace("\n", "")
    for severity in ("error", "inconsistency"):
        rows = found[found["severity"] == severity]
        word = {"error": "[错误]", "inconsistency": "[不一致]"}[severity]
        assert text.count(word if lang == "zh" else f"[{severity}]") == len(rows)
    # Counts of every severity are on the first page; no ok/note/rounding finding in full.
    first = "\n".join(t.get_text() for t in _texts(figs[0]))
    for severity, n in found["severity"].value_counts().items():
        assert re.search(rf"^\s*{n}\s", first, re.M), (severity, n)
    assert "[note]" not in flat and "[提示]" not in flat
    if lang == "zh":
        assert "附录" in first and "2.5亿立方米" in flat  # the plan's own phrase
    else:
        assert CJK.findall(text) == []
        assert "781.25" in flat and "8.69922" in flat


def test_appendix_writes_to_pdf(pages, tmp_path) -> None:
    lang, figs = pages
    out = tmp_path / f"appendix-{lang}.pdf"
    with PdfPages(out) as pdf:
        for fig in figs:
            pdf.savefig(fig)
    reader = PdfReader(out)
    assert len(reader.pages) == len(figs)
    width_pt, height_pt = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (width_pt, height_pt) == pytest.approx((A4_IN[0] * 72, A4_IN[1] * 72))


def test_bad_language_is_named(found) -> None:
    with pytest.raises(ValueError, match="'fr'"):
        audit_pages(found, "fr")  # type: ignore[arg-type]
