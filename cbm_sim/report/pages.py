"""The report's pages, in order: what each page draws from the report's inputs.

:data:`PAGE_BUILDERS` is a list of functions ``ReportInputs → [Page]`` run in order; a builder
returns no page when its data is missing (no ensemble: no fan charts). :mod:`cbm_sim.report.pdf`
numbers, captions and writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

import cbm_sim
from cbm_sim.report.charts import (
    TARGET_YEARS,
    EnsembleFrames,
    balance_chart,
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
from cbm_sim.report.fonts import Lang, check_lang
from cbm_sim.report.summary import GoalSeekRun
from cbm_sim.report.tables import probability_table_pages, value_table_pages
from cbm_sim.results.frames import Results

if TYPE_CHECKING:
    from cbm_sim.studies.diff import Diff


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
    goal_seeks: tuple[GoalSeekRun, ...] = ()
    """Goal-seek runs (their ``meta.json``'s ``goal_seek`` blocks): "what it would take"."""
    skill: pd.DataFrame | None = None
    """A backtest's skill table (``--backtest DIR``'s ``skill.csv``, ``cbm-sim backtest``): the
    summary's hindcast line and the hindcast pages."""
    studies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Provenance of each study drawn (``ensemble``, ``sobol``, ``robustness``: scenario,
    seed, step, members; :func:`cbm_sim.scenario.provenance.provenance`)."""
    compare: Diff | None = None
    """What differs from another scenario or run (``--compare``): the comparison pages."""


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
    note: str = ""
    """Appended to the caption (e.g. the step a study ran with, when not the run's)."""


PageBuilder = Callable[[ReportInputs], list[Page]]


def _summary(r: ReportInputs) -> list[Page]:
    from cbm_sim.report.calibration_charts import calibration_frame
    from cbm_sim.report.summary import summary_facts, summary_pages
    from cbm_sim.report.value_charts import scenario_text

    frames = r.ensemble
    facts = summary_facts(
        r.targets,
        values=r.values,
        percentiles=None if frames is None else frames.percentiles,
        probabilities=None if frames is None else frames.probabilities,
        tornado=None if frames is None else frames.tornado,
        robustness=r.robustness,
        goal_seeks=r.goal_seeks,
        calibration=calibration_frame(),
        skill=r.skill,
        steps=_steps(r),
    )
    name, description = scenario_text(r.results, r.lang)
    meta = r.results.meta
    run_facts = label("summary.run_facts", r.lang).format(
        start=meta.get("start", "?"),
        end=meta.get("end", "?"),
        step=step_words(_steps(r).get("run"), r.lang),
        seed=meta.get("seed", "?"),
        version=meta.get("cbm_sim_version", cbm_sim.__version__),
    )
    figures = summary_pages(
        facts,
        r.lang,
        scenario_name=name,
        description=description,
        run_facts=run_facts,
        scenario=r.results.scenario,
    )
    return [
        Page("summary" if k == 0 else f"summary_{k + 1}", fig, "title.summary", "", "cover")
        for k, fig in enumerate(figures)
    ]


def _steps(r: ReportInputs) -> dict[str, Any]:
    """The dispatch step of the run and of each study drawn (None where unknown)."""
    scenario = r.results.scenario
    run = r.results.meta.get(
        "step_days", getattr(getattr(scenario, "horizon", None), "step_days", None)
    )
    out: dict[str, Any] = {"run": run}
    for study, block in r.studies.items():
        out[study] = block.get("step_days")
    return out


def step_words(step: Any, lang: Lang) -> str:
    """A dispatch step in words: 逐日 / daily, 30天 / 30-day, 逐月 / monthly …"""
    from cbm_sim.report.summary import _step

    return _step(step, lang)


def _step_note(r: ReportInputs, study: str) -> str:
    """The caption's note when ``study`` ran with another step than the run ("" else)."""
    steps = _steps(r)
    if study not in steps or steps[study] is None or steps[study] == steps["run"]:
        return ""
    return label("fmt.step_note", r.lang).format(
        study=label(f"word.study_{study}", r.lang),
        step=step_words(steps[study], r.lang),
        run=step_words(steps["run"], r.lang),
    )


def _base_note(r: ReportInputs, tornado: pd.DataFrame, year: int) -> str:
    """The tornado page's note when its base (the scenario as written, at the study's step)
    is not the run's total of that year: says both and why ("" when they agree to 0.05)."""
    hit = r.targets[(r.targets["sub_cluster"] == "total") & (r.targets["year"] == year)]
    if hit.empty or "base" not in tornado.columns:
        return ""
    unit = str(tornado["unit"].iloc[0]) if "unit" in tornado.columns else "元"
    from cbm_sim import units

    base = units.convert(float(tornado["base"].iloc[0]), unit, "亿元")
    run = float(hit["simulated"].iloc[0])
    if round(base, 1) == round(run, 1):
        return ""
    steps = _steps(r)
    return label("fmt.base_note", r.lang).format(
        base=base,
        run=run,
        step=step_words(steps.get("ensemble"), r.lang),
        run_step=step_words(steps.get("run"), r.lang),
    )


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
    note = _step_note(r, "ensemble")
    pages = [
        Page(
            "fan_production",
            fan_chart(frames.percentiles, "production.total", r.lang, targets_base=production),
            "title.fan_production",
            "caption.fan",
            note=note,
        ),
        Page(
            "fan_value",
            fan_chart(frames.percentiles, "output.total", r.lang),
            "title.fan_value",
            "caption.fan",
            note=note,
        ),
    ]
    if frames.probabilities is not None:
        pages.append(
            Page(
                "probability",
                probability_chart(frames.probabilities, r.lang),
                "title.probability",
                "caption.probability",
                note=note,
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
                        tornado_chart(rows, r.lang, scenario=r.results.scenario),
                        "title.tornado_year",
                        "caption.tornado",
                        title_args={"year": year},
                        note=_base_note(r, rows, year) or note,
                    )
                )
        else:
            pages.append(
                Page(
                    "tornado",
                    tornado_chart(tornado, r.lang, scenario=r.results.scenario),
                    "title.tornado",
                    "caption.tornado",
                    note=note,
                )
            )
    if frames.sobol is not None:
        from cbm_sim.report.sensitivity_charts import sobol_chart

        pages.append(
            Page(
                "sobol",
                sobol_chart(frames.sobol, r.lang, scenario=r.results.scenario),
                "title.sobol",
                "caption.sobol",
                note=_step_note(r, "sobol"),
            )
        )
    return pages


def _compare(r: ReportInputs) -> list[Page]:
    if r.compare is None:
        return []
    from cbm_sim.report.diff_pages import diff_pages

    return [
        Page(
            "compare" if k == 0 else f"compare_{k + 1}",
            fig,
            "title.compare",
            "caption.compare",
            "table",
            title_args={"a": r.compare.a, "b": r.compare.b},
        )
        for k, fig in enumerate(diff_pages(r.compare, r.lang))
    ]


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
            note=_step_note(r, "robustness"),
        )
        for k, fig in enumerate(robustness_pages(r.robustness, r.lang, scenario=r.results.scenario))
    ]


def hindcast_pages(skill: pd.DataFrame) -> PageBuilder:
    """A page builder of the hindcast's chart and table (``cbm-sim backtest``'s
    ``skill.csv``), e.g. for ``write_report(extra_pages=...)``."""
    from cbm_sim.report.hindcast_charts import skill_chart, skill_table_pages

    def build(inputs: ReportInputs) -> list[Page]:
        pages = [Page("hindcast", skill_chart(skill, inputs.lang), "title.hindcast",
                      "caption.hindcast")]  # fmt: skip
        for k, fig in enumerate(skill_table_pages(skill, inputs.lang)):
            name = "hindcast_table" if k == 0 else f"hindcast_table_{k + 1}"
            pages.append(Page(name, fig, "title.hindcast_table", "caption.hindcast_table", "table"))
        return pages

    return build


def _hindcast(r: ReportInputs) -> list[Page]:
    """The hindcast's pages when the report was given a backtest (``--backtest``)."""
    if r.skill is None or not r.skill["scored"].astype(bool).any():
        return []
    return hindcast_pages(r.skill)(r)


def _audit(r: ReportInputs) -> list[Page]:
    if not r.appendix:
        return []
    from cbm_sim.report.audit_pages import audit_pages

    return [
        Page(f"audit_{k + 1}", fig, "title.audit", "", "appendix")
        for k, fig in enumerate(audit_pages(lang=r.lang))
    ]


PAGE_BUILDERS: list[PageBuilder] = [
    _summary,
    _supply,
    _value,
    _calibration,
    _compare,
    _ensemble,
    _robustness,
    _hindcast,
    _audit,
]
"""The report's pages, in order: the summary, supply, value and tables, the calibration of
the well history, the comparison with another scenario (if given), ensemble (if given),
"what flips it" (if given), the hindcast (if given), the plan audit (appendix); the table of
contents is inserted after the summary (:func:`cbm_sim.report.pdf.render_pages`)."""


def build_pages(inputs: ReportInputs, extra_pages: Sequence[PageBuilder] = ()) -> list[Page]:
    """Every page of the report, in order (:data:`PAGE_BUILDERS`, then ``extra_pages``)."""
    check_lang(inputs.lang)
    return [page for build in (*PAGE_BUILDERS, *extra_pages) for page in build(inputs)]


__all__ = [
    "PAGE_BUILDERS",
    "Page",
    "PageBuilder",
    "ReportInputs",
    "build_pages",
    "hindcast_pages",
    "step_words",
]
