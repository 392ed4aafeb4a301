"""The ``.plot`` helpers of :class:`~cbm_sim.results.frames.Results` and
:class:`~cbm_sim.studies.ensemble.EnsembleResult`: the report's charts, one call each.

Importing this module registers them in :data:`cbm_sim.results.frames.PLOTTERS` (the lower
stages only look them up), e.g.::

    results = Results.from_dir("reports/plan")
    fig = results.plot.production(lang="en")          # a matplotlib Figure
    ensemble = EnsembleResult.from_dir("reports/plan-ensemble")
    fig = ensemble.plot.fan("output.total", lang="zh")

Each returns the chart's page figure; save it inside
:func:`~cbm_sim.report.fonts.use_report_style` of the same language, with
``bbox_inches=cbm_sim.report.page.chart_file_bbox(fig)`` for the chart alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from cbm_sim import units
from cbm_sim.report import charts
from cbm_sim.report.fonts import Lang, check_lang
from cbm_sim.results.frames import PLOTTERS, Results


def _register(kind: str, name: str) -> Callable[[Callable[..., Figure]], Callable[..., Figure]]:
    def put(func: Callable[..., Figure]) -> Callable[..., Figure]:
        PLOTTERS[(kind, name)] = func
        return func

    return put


def _values_and_targets(results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The valuation (``value_yuan``) and target check of a run: computed from its scenario,
    or the folder's CSVs when it was loaded with them (:meth:`Results.from_dir`)."""
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.economics.valuation import value

    if results.valuation is not None and results.targets is not None:
        values = results.valuation.assign(
            value_yuan=results.valuation["value"].astype(float) * units.YI
        )
        return values, results.targets
    values = value(results)
    return values, check_targets(results, values)


def _of_run(chart: Callable[[Results, Lang], Figure]) -> Callable[..., Figure]:
    """A chart of a run alone, as a ``.plot`` helper taking ``lang``."""

    def draw(results: Results, lang: Lang = "en") -> Figure:
        return chart(results, check_lang(lang))

    draw.__doc__ = chart.__doc__
    return draw


for _name, _chart in {
    "production": charts.production_chart,  # by block and coal-mine drainage, with targets
    "balance": charts.balance_chart,  # the annual gas balance: supply and uses
    "facilities": charts.facilities_chart,  # utilisation and outage days
    "storage": charts.storage_chart,  # gas in storage against the 3-day rule
}.items():
    PLOTTERS[("results", _name)] = _of_run(_chart)


@_register("results", "sankey")
def sankey(results: Results, year: int = 2025, lang: Lang = "en") -> Figure:
    """The gas flows of ``year``."""
    results._check_year(year)
    return charts.sankey_chart(results, year, check_lang(lang))


@_register("results", "facilities")
def facilities(results: Results, lang: Lang = "en") -> Figure:
    """Facility utilisation and outage days."""
    return charts.facilities_chart(results, check_lang(lang))


@_register("results", "storage")
def storage(results: Results, lang: Lang = "en") -> Figure:
    """Gas in storage against the 3-day rule."""
    return charts.storage_chart(results, check_lang(lang))


@_register("results", "value")
def value_by_sub_cluster(results: Results, lang: Lang = "en") -> Figure:
    """Output value by sub-cluster against the plan's 2025 and 2030 targets."""
    values, targets = _values_and_targets(results)
    return charts.value_chart(targets, check_lang(lang), values=values)


@_register("ensemble", "fan")
def fan(ensemble: Any, quantity: str = "output.total", lang: Lang = "en") -> Figure:
    """P10–P90 band and median of ``quantity`` over the years, with the plan's targets."""
    return charts.fan_chart(ensemble.percentiles(), quantity, check_lang(lang))


@_register("ensemble", "probability")
def probability(ensemble: Any, lang: Lang = "en") -> Figure:
    """Probability of meeting the headline targets, with 95 % Wilson intervals."""
    return charts.probability_chart(ensemble.probabilities(), check_lang(lang))


__all__ = ["fan", "probability", "sankey", "value_by_sub_cluster"]
