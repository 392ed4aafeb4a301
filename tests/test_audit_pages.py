"""The audit appendix of the PDF report: A4 pages of tables, fonts ≥ 9 pt, nothing clipped,
both languages, every error and inconsistency a row, plan ids by their names."""

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
    """Every text of the page, the tables' cells included."""
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    for ax in fig.axes:
        for table in ax.tables:
            texts += [c.get_text() for c in table.get_celld().values() if c.get_text().get_text()]
    return list(dict.fromkeys(texts))


def _finding_rows(figs) -> list[list[str]]:
    """The rows of the findings tables (those whose header starts with "#" and has a
    severity column)."""
    rows = []
    for fig in figs:
        for ax in fig.axes:
            for table in ax.tables:
                cells = table.get_celld()
                n_rows = 1 + max(r for r, _ in cells)
                n_cols = 1 + max(c for _, c in cells)
                grid = [[cells[(r, c)].get_text().get_text() for c in range(n_cols)]
                        for r in range(n_rows)]  # fmt: skip
                if grid[0][0] == "#" and n_cols == 7:
                    rows += grid[1:]
    return rows


def test_pages_are_a4_portrait_with_legible_fonts(pages) -> None:
    _, figs = pages
    assert len(figs) >= 2
    for fig in figs:
        assert tuple(fig.get_size_inches()) == pytest.approx(A4_IN)
        sizes = [t.get_fontsize() for t in _texts(fig)]
        assert sizes and min(sizes) >= MIN_FONT_PT


def test_nothing_is_clipped(pages) -> None:
    _, figs = pages
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for number, fig in enumerate(figs, start=1):
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)  # tables lay out their cells when drawn
        page = fig.bbox
        for text in _texts(fig):
            box = text.get_window_extent(renderer)
            assert box.x0 >= page.x0 and box.x1 <= page.x1, (number, text.get_text())
            assert box.y0 >= page.y0 and box.y1 <= page.y1, (number, text.get_text())


def test_errors_and_inconsistencies_in_full_the_rest_counted(pages, found) -> None:
    lang, figs = pages
    text = "\n".join(t.get_text() for fig in figs for t in _texts(fig))
    flat = text.replace("\n", "")
    rows = _finding_rows(figs)
    words = {"error": "错误", "inconsistency": "不一致"} if lang == "zh" else {
        "error": "error", "inconsistency": "incons."
    }  # fmt: skip
    for severity in ("error", "inconsistency"):
        expected = int((found["severity"] == severity).sum())
        assert sum(row[2] == words[severity] for row in rows) == expected, severity
    assert [row[0] for row in rows] == [str(k) for k in range(1, len(rows) + 1)]
    # Counts of every severity are on the first page; no ok/note/rounding finding in full.
    first = [t.get_text() for t in _texts(figs[0])]
    for severity, n in found["severity"].value_counts().items():
        assert str(n) in first, (severity, n)
    assert not any(row[2] in ("note", "提示", "ok", "无误") for row in rows)
    if lang == "zh":
        assert "附录：规划数据一致性审核" in first and "2.5亿立方米" in flat  # the plan's phrase
        assert "output.total" not in flat and "集群总产值" in flat  # plan ids by their names
    else:
        assert CJK.findall(text) == []
        assert "781.25" in flat and "Cluster output value" in flat


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
