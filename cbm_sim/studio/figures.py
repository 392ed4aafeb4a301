"""The studio's charts: the report's own Figure functions, drawn server-side as SVG.

Each chart is the one the PDF report prints (:mod:`cbm_sim.report.charts`), drawn from the
run folder (or the ensemble folder) and written as SVG with its text as outlines
(``svg.fonttype = path``), so that a browser without any Chinese font — and without the
internet — shows it as the report does. matplotlib's style settings are process-wide, so
charts are drawn one at a time (a lock), and each drawing is kept (a small cache).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal, get_args

import pandas as pd

from cbm_sim.report.fonts import Lang

RunChart = Literal["production", "value", "sankey-2025", "sankey-2030", "balance"]
EnsembleChart = Literal["fan-value", "fan-production", "probability"]
RUN_CHARTS: Final[tuple[str, ...]] = get_args(RunChart)
ENSEMBLE_CHARTS: Final[tuple[str, ...]] = get_args(EnsembleChart)
_CACHE_SIZE: Final[int] = 96

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, ...], bytes] = OrderedDict()


def _svg(draw: Callable[[], Any], lang: Lang) -> bytes:
    import matplotlib as mpl

    from cbm_sim.report.fonts import use_report_style

    with use_report_style(lang), mpl.rc_context({"svg.fonttype": "path"}):
        fig = draw()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()


def _cached(key: tuple[str, ...], make: Callable[[], bytes]) -> bytes:
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
        svg = make()
        _cache[key] = svg
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return svg


def warm() -> None:
    """Import the chart modules and register the fonts (and make the page's font subset), so
    that the first chart a planner asks for does not pay for it (≈ 1.5 s)."""
    from cbm_sim.report import charts  # noqa: F401
    from cbm_sim.report.fonts import report_font_families
    from cbm_sim.studio.fonts import font_file

    with _lock:
        report_font_families()
    font_file("ui.ttf")


def valuation_from_csv(folder: Path) -> pd.DataFrame:
    """The valuation frame of a run folder (``valuation.csv``: 亿元 back to 元)."""
    from cbm_sim import units

    frame = pd.read_csv(folder / "valuation.csv", keep_default_na=False, na_values=[""])
    frame["value_yuan"] = frame.pop("value").astype("float64") * units.YI
    return frame.drop(columns=["unit"])


def run_chart(run_id: str, folder: Path, chart: str, lang: Lang) -> bytes:
    """SVG of one chart of a run folder (:data:`RUN_CHARTS`).

    Raises
    ------
    KeyError
        If ``chart`` is not one of :data:`RUN_CHARTS`.
    """
    if chart not in RUN_CHARTS:
        raise KeyError(chart)

    def make() -> bytes:
        from cbm_sim.report import charts
        from cbm_sim.results.frames import Results

        results = Results.from_parquet(folder)
        if chart == "production":
            return _svg(lambda: charts.production_chart(results, lang), lang)
        if chart == "balance":
            return _svg(lambda: charts.balance_chart(results, lang), lang)
        if chart.startswith("sankey-"):
            year = int(chart.split("-")[1])
            return _svg(lambda: charts.sankey_chart(results, year, lang), lang)
        targets = pd.read_csv(folder / "targets.csv", keep_default_na=False, na_values=[""])
        values = valuation_from_csv(folder)
        return _svg(lambda: charts.value_chart(targets, lang, values=values), lang)

    return _cached(("run", run_id, chart, lang), make)


def ensemble_chart(job_id: str, folder: Path, chart: str, lang: Lang) -> bytes:
    """SVG of one chart of an ensemble folder (:data:`ENSEMBLE_CHARTS`).

    Raises
    ------
    KeyError
        If ``chart`` is not one of :data:`ENSEMBLE_CHARTS`.
    """
    if chart not in ENSEMBLE_CHARTS:
        raise KeyError(chart)

    def make() -> bytes:
        from cbm_sim.report import charts

        if chart == "probability":
            frame = pd.read_csv(folder / "probabilities.csv")
            return _svg(lambda: charts.probability_chart(frame, lang), lang)
        frame = pd.read_csv(folder / "percentiles.csv")
        quantity = "output.total" if chart == "fan-value" else "production.total"
        return _svg(lambda: charts.fan_chart(frame, quantity, lang), lang)

    return _cached(("ensemble", job_id, chart, lang), make)
