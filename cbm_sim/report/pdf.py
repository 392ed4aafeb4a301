"""The PDF report: one A4 page per chart, numbered, captioned, bookmarked, with a footer.

Pages come from :data:`PAGE_BUILDERS`, a list of functions ``ReportInputs → [Page]`` run in
order; a builder returns no page when its data is missing (no ensemble: no fan charts). To add
pages (an appendix), append a builder or pass ``extra_pages`` to :func:`write_report`.

Each chart is drawn at the text-column width (``page_width_cm``, default 16 cm, fonts ≥ 9 pt;
:mod:`cbm_sim.report.page`). :func:`write_report` writes ``<out>.pdf`` (A4 portrait pages,
figure and table numbers, captions, a footer with scenario, seed, version and source, page
numbers, PDF bookmarks and metadata) and, beside it, ``<stem>_charts/<name>.pdf|png``: each
chart alone at the column width with the same footer under it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

import cbm_sim
from cbm_sim.report.charts import (
    TARGET_YEARS,
    EnsembleFrames,
    balance_chart,
    cover_chart,
    facilities_chart,
    fan_chart,
    label,
    physical_table_chart,
    probability_chart,
    production_chart,
    sankey_chart,
    storage_chart,
    tornado_chart,
    value_chart,
)
from cbm_sim.report.fonts import Lang, check_lang, use_report_style
from cbm_sim.report.page import (
    DEFAULT_PAGE_WIDTH_CM,
    add_page_texts,
    chart_file_bbox,
    page_texts,
    page_width,
    show_for_file,
)
from cbm_sim.report.tables import probability_table_pages, value_table_pages
from cbm_sim.results.frames import Results

PNG_DPI: Final[int] = 150
"""Resolution of the PNG copies: sharp at the text-column width in a printed report."""


@dataclass(frozen=True)
class ReportInputs:
    """What the page builders draw from."""

    results: Results
    lang: Lang
    targets: pd.DataFrame
    values: pd.DataFrame | None = None
    ensemble: EnsembleFrames | None = None
    production_targets_m3: Mapping[int, float] | None = None
    robustness: pd.DataFrame | None = None
    appendix: bool = False


@dataclass
class Page:
    """One report page: its file name, the figure, and what the caption and bookmark say.

    ``kind`` numbers the page as a figure (``"figure"``), a table (``"table"``) or not at all
    (``"cover"``); ``caption`` is the label key of the caption's text (after the title, which
    is the label key ``title``, formatted with ``title_args``).
    """

    name: str
    figure: Figure
    title: str
    caption: str
    kind: str = "figure"
    title_args: dict[str, object] = field(default_factory=dict)


PageBuilder = Callable[[ReportInputs], list[Page]]
Progress = Callable[[str, int, int], None]
"""Called with (page name, pages done, pages in all) after each page is written."""


def _cover(r: ReportInputs) -> list[Page]:
    return [
        Page(
            "cover",
            cover_chart(r.results, r.targets, r.lang, values=r.values),
            "title.cover",
            "",
            "cover",
        )
    ]


def _supply(r: ReportInputs) -> list[Page]:
    pages = [
        Page(
            "production",
            production_chart(r.results, r.lang, targets_m3=r.production_targets_m3),
            "title.production",
            "caption.production",
        ),
        Page("balance", balance_chart(r.results, r.lang), "title.balance", "caption.balance"),
    ]
    years = set(r.results.annual["year"].astype(int))
    for year in [y for y in TARGET_YEARS if y in years] or [max(years)]:
        pages.append(
            Page(
                f"sankey_{year}",
                sankey_chart(r.results, year, r.lang),
                "title.sankey",
                "caption.sankey",
                title_args={"year": year},
            )
        )
    pages += [
        Page(
            "facilities",
            facilities_chart(r.results, r.lang),
            "title.facilities",
            "caption.facilities",
        ),
        Page("storage", storage_chart(r.results, r.lang), "title.storage_short", "caption.storage"),
    ]
    return pages


def _value(r: ReportInputs) -> list[Page]:
    return [
        Page(
            "value", value_chart(r.targets, r.lang, values=r.values), "title.value", "caption.value"
        ),
        *(
            Page(
                "value_table" if k == 0 else f"value_table_{k + 1}",
                fig,
                "title.value_table",
                "caption.value_table",
                "table",
            )
            for k, fig in enumerate(value_table_pages(r.targets, r.lang, values=r.values))
        ),
        Page(
            "physical_table",
            physical_table_chart(r.targets, r.lang),
            "title.physical_table",
            "caption.physical_table",
            "table",
        ),
    ]


def _ensemble(r: ReportInputs) -> list[Page]:
    frames = r.ensemble
    if frames is None:
        return []
    production = (
        None
        if r.production_targets_m3 is None
        else {int(y): float(v) for y, v in r.production_targets_m3.items()}
    )
    pages = [
        Page(
            "fan_production",
            fan_chart(frames.percentiles, "production.total", r.lang, targets_base=production),
            "title.fan_production",
            "caption.fan",
        ),
        Page(
            "fan_value",
            fan_chart(frames.percentiles, "output.total", r.lang),
            "title.fan_value",
            "caption.fan",
        ),
    ]
    if frames.probabilities is not None:
        pages.append(
            Page(
                "probability",
                probability_chart(frames.probabilities, r.lang),
                "title.probability",
                "caption.probability",
            )
        )
        for k, table in enumerate(probability_table_pages(frames.probabilities, r.lang)):
            pages.append(
                Page(
                    "probability_table" if k == 0 else f"probability_table_{k + 1}",
                    table,
                    "title.probability_table",
                    "caption.probability_table",
                    "table",
                )
            )
    if frames.tornado is not None:
        tornado = frames.tornado
        years = sorted(int(y) for y in tornado["year"].unique()) if "year" in tornado else []
        if len(years) > 1:  # `ensemble --tornado` swings each target year: one page per year
            for year in years:
                rows = tornado[tornado["year"] == year].reset_index(drop=True)
                pages.append(
                    Page(
                        f"tornado_{year}",
                        tornado_chart(rows, r.lang),
                        "title.tornado_year",
                        "caption.tornado",
                        title_args={"year": year},
                    )
                )
        else:
            pages.append(
                Page("tornado", tornado_chart(tornado, r.lang), "title.tornado", "caption.tornado")
            )
    if frames.sobol is not None:
        from cbm_sim.report.sensitivity_charts import sobol_chart

        pages.append(
            Page("sobol", sobol_chart(frames.sobol, r.lang), "title.sobol", "caption.sobol")
        )
    return pages


def _calibration(r: ReportInputs) -> list[Page]:
    from cbm_sim.report.calibration_charts import calibration_pages

    return [
        Page(
            "calibration" if k == 0 else f"calibration_{k + 1}",
            fig,
            "title.calibration",
            "caption.calibration",
            "table",
        )
        for k, fig in enumerate(calibration_pages(r.lang))
    ]


def _robustness(r: ReportInputs) -> list[Page]:
    if r.robustness is None:
        return []
    from cbm_sim.report.robustness_charts import robustness_pages

    return [
        Page(
            "robustness" if k == 0 else f"robustness_{k + 1}",
            fig,
            "title.robustness",
            "caption.robustness",
            "table",
        )
        for k, fig in enumerate(robustness_pages(r.robustness, r.lang))
    ]


def _audit(r: ReportInputs) -> list[Page]:
    if not r.appendix:
        return []
    from cbm_sim.report.audit_pages import audit_pages

    return [
        Page(f"audit_{k + 1}", fig, "title.audit", "", "appendix")
        for k, fig in enumerate(audit_pages(lang=r.lang))
    ]


PAGE_BUILDERS: list[PageBuilder] = [
    _cover,
    _supply,
    _value,
    _calibration,
    _ensemble,
    _robustness,
    _audit,
]
"""The report's pages, in order: cover, supply, value and tables, the calibration of the
well history, ensemble (if given), "what flips it" (if given), the plan audit (appendix)."""


def build_pages(inputs: ReportInputs, extra_pages: Sequence[PageBuilder] = ()) -> list[Page]:
    """Every page of the report, in order (:data:`PAGE_BUILDERS`, then ``extra_pages``)."""
    check_lang(inputs.lang)
    return [page for build in (*PAGE_BUILDERS, *extra_pages) for page in build(inputs)]


def build_charts(
    results: Results,
    lang: Lang,
    *,
    targets: pd.DataFrame,
    values: pd.DataFrame | None = None,
    ensemble: EnsembleFrames | Mapping[str, pd.DataFrame] | None = None,
    production_targets_m3: Mapping[int, float] | None = None,
    robustness: pd.DataFrame | None = None,
) -> dict[str, Figure]:
    """All report figures in page order, keyed by file name (without page texts; without
    the audit appendix)."""
    frames = None if ensemble is None else _ensemble_frames(ensemble)
    inputs = ReportInputs(
        results, lang, targets, values, frames, production_targets_m3, robustness, False
    )
    return {p.name: p.figure for p in build_pages(inputs)}


def footer_text(results: Results, lang: Lang) -> str:
    """The footer of every page and chart file: scenario, seed, version and source."""
    meta = results.meta
    scenario = str(meta.get("scenario", getattr(results.scenario, "name", "?")))
    seed = meta.get("seed", getattr(results.scenario, "seed", "?"))
    return (
        f"{label('word.scenario', lang)} {scenario} · {label('word.seed', lang)} {seed} · "
        f"cbm-sim {cbm_sim.__version__} · {label('word.source_note', lang)}"
    )


@dataclass(frozen=True)
class RenderedPage:
    """A page with its numbered title (the bookmark) and the figure's page texts added."""

    page: Page
    title: str
    caption: str


def render_pages(
    inputs: ReportInputs, footer: str, extra_pages: Sequence[PageBuilder] = ()
) -> list[RenderedPage]:
    """Build every page and add its caption, footer and page number ("k / n").

    Call inside :func:`~cbm_sim.report.fonts.use_report_style` and
    :func:`~cbm_sim.report.page.page_width` (as :func:`write_report` does).
    """
    numbered = _numbered(build_pages(inputs, extra_pages), inputs.lang)
    out = []
    for k, (page, title, caption) in enumerate(numbered, start=1):
        texts = page_texts(page.figure) or add_page_texts(
            page.figure,
            caption=caption if page.kind != "cover" else "",
            footer=footer,
            cjk=inputs.lang == "zh",
        )
        texts.page_number.set_text(f"{k} / {len(numbered)}")
        show_for_file(page.figure, single=False)
        out.append(RenderedPage(page, title, caption))
    return out


def _numbered(pages: list[Page], lang: Lang) -> list[tuple[Page, str, str]]:
    """(page, bookmark title, caption) with figure and table numbers."""
    counts = {"figure": 0, "table": 0}
    out = []
    for page in pages:
        title = label(page.title, lang).format(**page.title_args)
        caption = label(page.caption, lang).format(**page.title_args) if page.caption else ""
        if page.kind in counts:
            counts[page.kind] += 1
            word = label(f"word.{page.kind}", lang)
            number = f"{word}{counts[page.kind]}" if lang == "zh" else f"{word} {counts[page.kind]}"
            sep = "　" if lang == "zh" else ". "
            title = f"{number}{sep}{title}"
            caption = f"{title}{'。' if lang == 'zh' else '. '}{caption}"
        out.append((page, title, caption))
    return out


def write_report(
    results: Results,
    out_pdf: str | Path,
    lang: Lang = "zh",
    ensemble: EnsembleFrames | Mapping[str, pd.DataFrame] | None = None,
    targets: pd.DataFrame | None = None,
    *,
    values: pd.DataFrame | None = None,
    production_targets_m3: Mapping[int, float] | None = None,
    png_dpi: int = PNG_DPI,
    chart_files: bool = True,
    page_width_cm: float = DEFAULT_PAGE_WIDTH_CM,
    extra_pages: Sequence[PageBuilder] = (),
    progress: Progress | None = None,
    robustness: pd.DataFrame | None = None,
    audit_appendix: bool = True,
) -> Path:
    """Write the PDF report and each chart as PDF and PNG beside it.

    Parameters
    ----------
    results
        The simulation run.
    out_pdf
        Path of the report; charts go to ``<parent>/<stem>_charts/<name>.pdf|png``.
    lang
        ``"zh"`` (default, for the planning report) or ``"en"``.
    ensemble
        Ensemble frames (:class:`EnsembleFrames` or a mapping with keys ``percentiles``,
        ``probabilities``, ``tornado``); ``None`` for a single run.
    targets
        Target-check frame; default :func:`cbm_sim.economics.targets.check_targets` of ``results``.
    values
        Valuation frame; default :func:`cbm_sim.economics.valuation.value` of ``results``.
    production_targets_m3
        Total-production marks; default the plan's.
    png_dpi
        Resolution of the PNG copies [dots per inch].
    chart_files
        Also write each chart as ``<stem>_charts/<name>.pdf`` and ``.png`` (default).
    page_width_cm
        Text-column width the charts are drawn at [cm] (fonts ≥ 9 pt at this width).
    extra_pages
        Page builders run after :data:`PAGE_BUILDERS` (e.g. an appendix).
    progress
        Called with (page name, pages done, pages in all) after each page.
    robustness
        The "what flips it" table of ``cbm-sim robustness`` (adds its pages).
    audit_appendix
        End the report with the plan audit (:func:`cbm_sim.report.audit_pages.audit_pages`).

    Returns
    -------
    Path
        The report PDF.
    """
    check_lang(lang)
    if png_dpi <= 0:
        raise ValueError(f"png_dpi must be positive, got {png_dpi}")
    out = Path(out_pdf)
    if out.suffix.lower() != ".pdf":
        raise ValueError(f"report path must end in .pdf, got {str(out)!r}")
    frames = None if ensemble is None else _ensemble_frames(ensemble)
    if values is None:
        from cbm_sim.economics.valuation import value

        values = value(results)
    if targets is None:
        from cbm_sim.economics.targets import check_targets

        targets = check_targets(results, values)
    charts_dir = out.parent / f"{out.stem}_charts"
    scenario = str(results.meta.get("scenario", getattr(results.scenario, "name", "?")))
    footer = footer_text(results, lang)
    inputs = ReportInputs(
        results, lang, targets, values, frames, production_targets_m3, robustness, audit_appendix
    )
    buffer = io.BytesIO()
    with use_report_style(lang), page_width(page_width_cm):
        pages = render_pages(inputs, footer, extra_pages)
        # directories only once every figure is built: a failed report leaves no empty folder
        out.parent.mkdir(parents=True, exist_ok=True)
        if chart_files:
            charts_dir.mkdir(exist_ok=True)
        with PdfPages(buffer) as pdf:
            for k, rendered in enumerate(pages, start=1):
                fig, name = rendered.page.figure, rendered.page.name
                pdf.savefig(fig)
                if chart_files:
                    show_for_file(fig, single=True)
                    box = chart_file_bbox(fig)
                    fig.savefig(charts_dir / f"{name}.pdf", bbox_inches=box,
                                metadata={"Title": rendered.title})  # fmt: skip
                    fig.savefig(charts_dir / f"{name}.png", dpi=png_dpi, bbox_inches=box)
                    show_for_file(fig, single=False)
                if progress is not None:
                    progress(name, k, len(pages))
    _finish_pdf(
        buffer,
        out,
        bookmarks=[p.title for p in pages],
        metadata={
            "/Title": f"{label('title.cover', lang)} — {scenario}",
            "/Author": f"cbm-sim {cbm_sim.__version__}",
            "/Subject": label("word.source_note", lang),
            "/Keywords": "coalbed methane; 煤层气; Jincheng; 晋城; cbm-sim",
            "/Creator": f"cbm-sim {cbm_sim.__version__}",
            "/CreationDate": dt.datetime.now(dt.UTC).strftime("D:%Y%m%d%H%M%SZ"),
        },
    )
    return out


def _finish_pdf(
    buffer: io.BytesIO, out: Path, *, bookmarks: list[str], metadata: dict[str, str]
) -> None:
    """Copy the pages to ``out`` with one bookmark per page, page labels and metadata."""
    from pypdf import PdfReader, PdfWriter

    buffer.seek(0)
    writer = PdfWriter(clone_from=PdfReader(buffer))
    for index, title in enumerate(bookmarks):
        writer.add_outline_item(title=title, page_number=index)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata(metadata)
    with out.open("wb") as handle:
        writer.write(handle)


def _ensemble_frames(ensemble: EnsembleFrames | Mapping[str, pd.DataFrame]) -> EnsembleFrames:
    if isinstance(ensemble, EnsembleFrames):
        return ensemble
    unknown = set(ensemble) - {"percentiles", "probabilities", "tornado"}
    if unknown or "percentiles" not in ensemble:
        raise ValueError(
            "ensemble must have key 'percentiles' and optionally 'probabilities', 'tornado'; "
            f"got keys {sorted(ensemble)}"
        )
    return EnsembleFrames(
        percentiles=ensemble["percentiles"],
        probabilities=ensemble.get("probabilities"),
        tornado=ensemble.get("tornado"),
    )
