"""The PDF report: every chart on its own page, and each chart also as its own PDF and PNG.

A thin layer over :mod:`cbm_sim.report.charts`: :func:`build_charts` makes the figures in report
order, :func:`write_report` writes ``<out>.pdf`` (with title/author/subject metadata) and
``<stem>_charts/<name>.pdf|png`` beside it, all in the report style of the language (the CJK
font embedded as TrueType, see :mod:`cbm_sim.report.fonts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
    probability_chart,
    production_chart,
    sankey_chart,
    storage_chart,
    tornado_chart,
    value_chart,
    value_table_chart,
)
from cbm_sim.report.fonts import Lang, check_lang, use_report_style
from cbm_sim.results.frames import Results

PNG_DPI: Final[int] = 150
"""Resolution of the PNG copies: sharp at full page width in a printed report."""


def build_charts(
    results: Results,
    lang: Lang,
    *,
    targets: pd.DataFrame,
    values: pd.DataFrame | None = None,
    ensemble: EnsembleFrames | Mapping[str, pd.DataFrame] | None = None,
    production_targets_m3: Mapping[int, float] | None = None,
) -> dict[str, Figure]:
    """All report figures in page order, keyed by file name.

    Parameters
    ----------
    results
        The simulation run.
    lang
        ``"zh"`` or ``"en"``.
    targets
        Target-check frame (:func:`cbm_sim.economics.targets.check_targets`).
    values
        Valuation frame (:func:`cbm_sim.economics.valuation.value`), for the 2021 value bars.
    ensemble
        :class:`~cbm_sim.report.ensemble_charts.EnsembleFrames` (or a mapping with keys
        ``percentiles``, ``probabilities``, ``tornado``); adds the fan, probability and
        tornado pages for the frames present.
    production_targets_m3
        Total-production marks [m³/yr] by year; default the plan's (``cbm_sim.plan.figures``).

    Returns
    -------
    dict
        ``name → Figure``; names are ``cover, production, balance, sankey_<year>…,
        facilities, storage, value, value_table`` then ``fan_production, fan_value,
        probability, tornado`` when an ensemble is given.
    """
    check_lang(lang)
    figures: dict[str, Figure] = {
        "cover": cover_chart(results, targets, lang),
        "production": production_chart(results, lang, targets_m3=production_targets_m3),
        "balance": balance_chart(results, lang),
    }
    years = set(results.annual["year"].astype(int))
    for year in [y for y in TARGET_YEARS if y in years] or [max(years)]:
        figures[f"sankey_{year}"] = sankey_chart(results, year, lang)
    figures["facilities"] = facilities_chart(results, lang)
    figures["storage"] = storage_chart(results, lang)
    figures["value"] = value_chart(targets, lang, values=values)
    figures["value_table"] = value_table_chart(targets, lang)
    if ensemble is not None:
        frames = _ensemble_frames(ensemble)
        production = (
            None
            if production_targets_m3 is None
            else {int(y): float(v) for y, v in production_targets_m3.items()}
        )
        figures["fan_production"] = fan_chart(
            frames.percentiles, "production.total", lang, targets_base=production
        )
        figures["fan_value"] = fan_chart(frames.percentiles, "output.total", lang)
        if frames.probabilities is not None:
            figures["probability"] = probability_chart(frames.probabilities, lang)
        if frames.tornado is not None:
            tornado = frames.tornado
            years = tornado["year"].unique() if "year" in tornado.columns else []
            if len(years) > 1:
                # `ensemble --tornado` swings each target year: one page per year
                for year, rows in tornado.groupby("year", sort=True):
                    figures[f"tornado_{int(year)}"] = tornado_chart(
                        rows.reset_index(drop=True), lang
                    )
            else:
                figures["tornado"] = tornado_chart(tornado, lang)
    return figures


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
) -> Path:
    """Write the multi-page PDF report and each chart as PDF and PNG beside it.

    Parameters
    ----------
    results
        The simulation run.
    out_pdf
        Path of the report; charts go to ``<parent>/<stem>_charts/<name>.pdf|png``.
    lang
        ``"zh"`` (default, for the planning report) or ``"en"``.
    ensemble
        Ensemble frames (see :func:`build_charts`); ``None`` for a single run.
    targets
        Target-check frame; default :func:`cbm_sim.economics.targets.check_targets` of ``results``.
    values
        Valuation frame; default :func:`cbm_sim.economics.valuation.value` of ``results``.
    production_targets_m3
        Total-production marks; default the plan's.
    png_dpi
        Resolution of the PNG copies [dots per inch].
    chart_files
        Also write each chart as ``<stem>_charts/<name>.pdf`` and ``.png`` (default); off,
        only the report PDF is written (twice as fast).

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
    if targets is None:
        from cbm_sim.economics.targets import check_targets

        targets = check_targets(results)
    if values is None:
        from cbm_sim.economics.valuation import value

        values = value(results)
    charts_dir = out.parent / f"{out.stem}_charts"
    scenario = str(results.meta.get("scenario", getattr(results.scenario, "name", "?")))
    metadata = {
        "Title": f"{label('title.cover', lang)} — {scenario}",
        "Author": f"cbm-sim {cbm_sim.__version__}",
        "Subject": label("word.source_note", lang),
        "Keywords": "coalbed methane; 煤层气; Jincheng; 晋城; cbm-sim",
        "Creator": f"cbm-sim {cbm_sim.__version__}",
        "CreationDate": dt.datetime.now(dt.UTC),
    }
    with use_report_style(lang):
        figures = build_charts(
            results,
            lang,
            targets=targets,
            values=values,
            ensemble=frames,
            production_targets_m3=production_targets_m3,
        )
        # directories only once every figure is built: a failed report leaves no empty folder
        out.parent.mkdir(parents=True, exist_ok=True)
        if chart_files:
            charts_dir.mkdir(exist_ok=True)
        with PdfPages(out, metadata=metadata) as pdf:
            for name, fig in figures.items():
                pdf.savefig(fig)
                if chart_files:
                    fig.savefig(charts_dir / f"{name}.pdf", metadata={"Title": name})
                    fig.savefig(charts_dir / f"{name}.png", dpi=png_dpi)
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
