"""The PDF report: one A4 page per chart, numbered, captioned, bookmarked, with a footer.

Pages come from :data:`cbm_sim.report.pages.PAGE_BUILDERS`, a list of functions
``ReportInputs → [Page]`` run in order (the summary first; the table of contents is inserted
after it here); a builder returns no page when its data is missing (no ensemble: no fan
charts). To add pages (an appendix), append a builder or pass ``extra_pages`` to
:func:`write_report`.

Each chart is drawn at the text-column width (``page_width_cm``, default 16 cm, fonts ≥ 9 pt;
:mod:`cbm_sim.report.page`). :func:`write_report` writes ``<out>.pdf`` (A4 portrait pages,
figure and table numbers, captions, a footer with scenario, seed, version and source, page
numbers, PDF bookmarks and metadata) and, beside it, ``<stem>_charts/<name>.pdf|png``: each
chart alone at the column width with the same footer under it.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import io
import os
import signal
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

import cbm_sim
from cbm_sim.report.charts import (
    EnsembleFrames,
    label,
)
from cbm_sim.report.fonts import Lang, check_lang, font_lookup_cache, use_report_style
from cbm_sim.report.page import (
    A4_IN,
    DEFAULT_PAGE_WIDTH_CM,
    PageTexts,
    add_page_texts,
    chart_box,
    chart_file_bbox,
    page_texts,
    page_width,
    show_for_file,
)
from cbm_sim.report.pages import (
    PAGE_BUILDERS,
    Page,
    PageBuilder,
    ReportInputs,
    build_pages,
)
from cbm_sim.report.summary import GoalSeekRun
from cbm_sim.results.frames import Results

if TYPE_CHECKING:
    from cbm_sim.studies.diff import Diff

Progress = Callable[[str, int, int], None]
"""Called with (page name, pages done, pages in all) after each page is written."""

if TYPE_CHECKING:  # pypdf is imported when a report is written, not with the CLI
    from pypdf import PageObject, PdfWriter
    from pypdf.generic import IndirectObject

PNG_DPI: Final[int] = 150
"""Resolution of the PNG copies: sharp at the text-column width in a printed report."""
PNG_COMPRESS_LEVEL: Final[int] = 3
"""zlib level of the PNG copies (lossless at any level): 3 deflates the report's charts in
about 40 % of the default 6's time, into smaller files (measured on the plan run's 17 charts:
encoding 1.1 -> 0.45 s of CPU, 6.3 -> 5.9 MB)."""


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
    """Build every page, insert the table of contents after the summary, and add each page's
    caption, footer and page number ("k / n").

    Call inside :func:`~cbm_sim.report.fonts.use_report_style` and
    :func:`~cbm_sim.report.page.page_width` (as :func:`write_report` does).
    """
    pages = build_pages(inputs, extra_pages)
    lead = 0
    while lead < len(pages) and pages[lead].kind == "cover":
        lead += 1
    numbered = _numbered(pages, inputs.lang)
    toc: list[Page] = []
    for _ in range(3):  # the contents' own length moves the page numbers after it
        entries = _contents(numbered, lead, len(toc))
        fresh = [
            Page(
                "contents" if k == 0 else f"contents_{k + 1}", fig, "title.contents", "", "contents"
            )
            for k, fig in enumerate(contents_pages(entries, inputs.lang))
        ]
        if len(fresh) == len(toc):
            break
        toc = fresh
    toc = fresh
    numbered = numbered[:lead] + _numbered(toc, inputs.lang) + numbered[lead:]
    out = []
    for k, (page, title, caption) in enumerate(numbered, start=1):
        shown = caption if page.kind not in ("cover", "contents") else ""
        if page.note:
            shown = f"{shown}{'' if inputs.lang == 'zh' else ' '}{page.note}"
        texts = page_texts(page.figure) or add_page_texts(
            page.figure, caption=shown, footer=footer, cjk=inputs.lang == "zh"
        )
        texts.page_number.set_text(f"{k} / {len(numbered)}")
        show_for_file(page.figure, single=False)
        out.append(RenderedPage(page, title, caption))
    return out


def _contents(
    numbered: list[tuple[Page, str, str]], lead: int, toc_pages: int
) -> list[tuple[str, int]]:
    """(title, page number) of every titled page after the contents, a continued table once."""
    entries: list[tuple[str, int]] = []
    seen: set[str] = set()
    for k, (_, title, _) in enumerate(numbered):
        if k < lead:
            continue
        number = k + 1 + toc_pages
        if title in seen:
            continue
        seen.add(title)
        entries.append((title, number))
    return entries


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


def contents_pages(entries: Sequence[tuple[str, int]], lang: Lang) -> list[Figure]:
    """The table of contents: each page's numbered title and its page number."""
    from cbm_sim.report.flow import Flow
    from cbm_sim.report.tables import Row

    with use_report_style(lang):
        flow = Flow(lang)
        flow.text(label("title.contents", lang), 15.0, gap_pt=8.0)
        rows = [Row([title, str(number)]) for title, number in entries]
        flow.table([[label("word.section", lang), label("word.page", lang)]], rows, (0.88, 0.12),
                   wrapped=(0,))  # fmt: skip
    return flow.pages


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
    goal_seeks: Sequence[GoalSeekRun] = (),
    skill: pd.DataFrame | None = None,
    studies: Mapping[str, Mapping[str, Any]] | None = None,
    compare: Diff | None = None,
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
    goal_seeks
        Goal-seek searches (their run folders' ``goal_seek`` records): the summary's "what it
        would take".
    skill
        A backtest's skill table: the summary's hindcast line.
    studies
        Provenance of the ensemble, Sobol and robustness studies (their ``meta.json``): each
        page says the step its study ran with when it is not the run's.
    compare
        What differs from another scenario or run (:func:`cbm_sim.studies.diff.diff`): adds
        the comparison pages.

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
        results,
        lang,
        targets,
        values,
        frames,
        production_targets_m3,
        robustness,
        audit_appendix,
        tuple(goal_seeks),
        skill,
        dict(studies or {}),
        compare,
    )
    buffer = io.BytesIO()
    with use_report_style(lang), page_width(page_width_cm), font_lookup_cache():
        pages = render_pages(inputs, footer, extra_pages)
        # directories only once every figure is built: a failed report leaves no empty folder
        out.parent.mkdir(parents=True, exist_ok=True)
        if chart_files:
            charts_dir.mkdir(exist_ok=True)
        # the PNG copies are drawn by a forked copy of this process while this one writes
        # the PDFs, then by both (the figures are built once, before the fork): two cores
        pngs = _PngWriter(pages, charts_dir, png_dpi) if chart_files else None
        try:
            with PdfPages(buffer) as pdf:
                for k, rendered in enumerate(pages, start=1):
                    pdf.savefig(rendered.page.figure)
                    if progress is not None:
                        progress(rendered.page.name, k, len(pages))
            if chart_files:
                _cut_chart_files(buffer, charts_dir, pages)
            if pngs is not None:
                pngs.help()
        except BaseException:
            if pngs is not None:
                pngs.cancel()  # no chart file is written once this call has failed
            raise
        if pngs is not None:
            pngs.join()
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


class _PngWriter:
    """The PNG chart files: a forked child draws them from the first page on, and the parent,
    once its PDFs are written, takes the pages the child has not reached (a shared counter
    hands each page to one of them). Without ``fork`` the parent draws them all."""

    def __init__(self, pages: Sequence[RenderedPage], charts_dir: Path, dpi: int) -> None:
        self.pages, self.charts_dir, self.dpi = pages, charts_dir, dpi
        self.pid: int | None = None
        self.next: Any = None  # multiprocessing.Value("i") shared with the child
        if not hasattr(os, "fork"):  # Windows: the parent draws them all in help()
            return
        import multiprocessing

        self.next = multiprocessing.get_context("fork").Value("i", 0)
        parent = os.getpid()
        pid = os.fork()
        if pid != 0:
            self.pid = pid
            return
        code = 1
        try:  # the child: never return into the caller's code, whatever happens
            _child_of(parent)
            self.help()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)

    def _claim(self) -> int:
        """Index of the next page nobody draws yet (``len(pages)`` when none is left)."""
        if self.next is None:
            self.next = _Counter()
        with self.next.get_lock():
            k = int(self.next.value)
            self.next.value = k + 1
        return k

    def help(self) -> None:
        """Draw pages' PNGs until none is left."""
        while (k := self._claim()) < len(self.pages):
            fig = self.pages[k].page.figure
            show_for_file(fig, single=True)
            fig.savefig(self.charts_dir / f"{self.pages[k].page.name}.png", dpi=self.dpi,
                        bbox_inches=chart_file_bbox(fig),
                        pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})  # fmt: skip
            show_for_file(fig, single=False)

    def join(self) -> None:
        """Wait for the child; raise if it failed."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            _, status = os.waitpid(pid, 0)
        except BaseException:  # interrupted while waiting: do not leave the child running
            self.pid = pid
            self.cancel()
            raise
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"writing the PNG chart files failed (child exit status {code})")

    def cancel(self) -> None:
        """Stop the child at once and reap it (no file changes after this returns)."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


_PR_SET_PDEATHSIG: Final[int] = 1  # linux/prctl.h


def _child_of(parent: int) -> None:
    """Make the forked PNG child end with its parent, whatever ends the parent.

    Ctrl-C reaches the whole process group: the child ignores it (the parent decides, and
    cancels the child). If the parent is killed outright (SIGKILL), Linux sends the child
    SIGKILL too (``prctl(PR_SET_PDEATHSIG)``), so that no chart file is written after the
    command has ended.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


class _Counter:
    """The shared counter's interface, for one process."""

    def __init__(self) -> None:
        self.value = 0

    def get_lock(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()


def _cut_chart_files(buffer: io.BytesIO, charts_dir: Path, pages: Sequence[RenderedPage]) -> None:
    """Write each chart file, ``<charts_dir>/<name>.pdf``, cut out of its report page.

    Each page is drawn once, into the report; its chart file is that page's content as a form
    clipped to the chart box (:func:`~cbm_sim.report.page.chart_box`) on a page of the chart
    file's size (:func:`~cbm_sim.report.page.chart_file_bbox`), with the one-line footer band,
    drawn once, as a second form under it. Drawing each chart into a PDF of its own instead
    cost a second draw and a font subset per file (``benchmarks/README.md``); forms keep pypdf
    from parsing and rewriting the page content more than once. The page's caption, footer
    and number lie outside the clip and are taken out of the content
    (:func:`_drop_texts_outside`).
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    buffer.seek(0)
    reader = PdfReader(buffer)
    bands: dict[tuple[float, str], PageObject] = {}
    for page, rendered in zip(reader.pages, pages, strict=True):
        fig = rendered.page.figure
        box, cut = chart_box(fig), chart_file_bbox(fig)
        texts = page_texts(fig)
        note = "" if texts is None else texts.chart_footer.get_text()
        key = (round(cut.width, 6), note)
        if key not in bands:
            band = _footer_band(cut.width, box.y0 - cut.y0, box.y0, texts)
            bands[key] = PdfReader(band).pages[0]
        box_pt = [v * 72.0 for v in box.extents]
        writer = PdfWriter()
        chart = _form(writer, _drop_texts_outside(page, box_pt), page, box_pt)
        band_page = bands[key]
        footer = _form(writer, band_page.get_contents().get_data(), band_page,  # type: ignore[union-attr]
                       [float(v) for v in band_page.mediabox])  # fmt: skip
        out = writer.add_blank_page(width=cut.width * 72.0, height=cut.height * 72.0)
        out[NameObject("/Resources")] = DictionaryObject(
            {
                NameObject("/XObject"): DictionaryObject(
                    {NameObject("/C"): chart, NameObject("/F"): footer}
                )
            }
        )
        content = DecodedStreamObject()
        content.set_data(
            f"q 1 0 0 1 {-cut.x0 * 72.0:.4f} {-cut.y0 * 72.0:.4f} cm /C Do Q /F Do".encode()
        )
        out[NameObject("/Contents")] = writer._add_object(content)
        writer.add_metadata(
            {"/Title": rendered.title, "/Creator": f"cbm-sim {cbm_sim.__version__}"}
        )
        with (charts_dir / f"{rendered.page.name}.pdf").open("wb") as handle:
            writer.write(handle)


def _form(writer: PdfWriter, content: bytes, page: PageObject, bbox: list[float]) -> IndirectObject:
    """``content`` with ``page``'s resources as a form XObject of ``writer``, clipped to
    ``bbox`` (left, bottom, right, top) [pt]."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

    form = DecodedStreamObject()
    form.set_data(content)
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject([FloatObject(v) for v in bbox])
    form[NameObject("/Resources")] = page[NameObject("/Resources")].clone(writer)
    return writer._add_object(form)


_TEXT_EDGE_PT: Final[float] = 2.0
"""How far outside the chart box a text may start and still belong to the chart [pt]
(assumption: an axis label set on the box's edge; the caption starts 17 pt below it)."""


def _drop_texts_outside(page: PageObject, box: list[float]) -> bytes:
    """The content of ``page`` without the text objects (``BT … ET``) that start outside
    ``box`` (left, bottom, right, top) [pt].

    matplotlib's PDF backend writes one operator a line and escapes line breaks inside
    strings (``backend_pdf._str_escapes``), and sets each text in its own text object, moved
    to its place in page coordinates by the ``cm`` just before it and the object's first
    ``Td``: so the lines tell where each text starts, without parsing the stream (pypdf's
    parser took 2 s for a report). A chart file keeps the chart's texts and not the page's
    caption, footer and page number, which the clip would hide but text extraction and
    copy-and-paste would still find.
    """
    content = page.get_contents()
    if content is None:
        return b""
    kept: list[bytes] = []
    block: list[bytes] | None = None
    origin = (0.0, 0.0)
    for line in content.get_data().split(b"\n"):
        if line.endswith(b" cm"):  # ``1 0 -0 1 x y cm`` (or a turn) moves to the next text
            parts = line.split()
            origin = (float(parts[4]), float(parts[5]))
        if line == b"BT":
            block = []
        if block is None:
            kept.append(line)
            continue
        block.append(line)
        if line == b"ET":
            if _starts_inside(block, origin, box):
                kept.extend(block)
            block = None
    return b"\n".join(kept + (block or []))


def _starts_inside(block: list[bytes], origin: tuple[float, float], box: list[float]) -> bool:
    """Whether a text object, moved to ``origin`` [pt], starts (first ``Td``) in ``box``."""
    x, y = origin
    for line in block:
        if line.endswith(b" Td"):
            dx, dy = line.split()[:2]
            x, y = x + float(dx), y + float(dy)
            break
    left, bottom, right, top = box
    return (
        left - _TEXT_EDGE_PT <= x <= right + _TEXT_EDGE_PT
        and bottom - _TEXT_EDGE_PT <= y <= top + _TEXT_EDGE_PT
    )


def _footer_band(
    width_in: float, height_in: float, box_bottom_in: float, texts: PageTexts | None
) -> io.BytesIO:
    """A PDF of the chart file's footer band: ``width_in`` × ``height_in`` [in], the page's
    one-line footer set where :func:`~cbm_sim.report.page.add_page_texts` puts it (its top
    that far below the chart box's bottom, ``box_bottom_in`` [in] above the page's)."""
    band = Figure(figsize=(width_in, height_in))
    if texts is not None:
        source = texts.chart_footer
        top_in = float(source.get_position()[1]) * A4_IN[1]
        band.text(0.0, 1.0 - (box_bottom_in - top_in) / height_in, source.get_text(),
                  ha="left", va="top", fontsize=source.get_fontsize(),
                  color=source.get_color())  # fmt: skip
    out = io.BytesIO()
    band.savefig(out, format="pdf")
    out.seek(0)
    return out


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


__all__ = [
    "PAGE_BUILDERS",
    "PNG_DPI",
    "Page",
    "PageBuilder",
    "RenderedPage",
    "ReportInputs",
    "build_charts",
    "build_pages",
    "contents_pages",
    "footer_text",
    "render_pages",
    "write_report",
]
