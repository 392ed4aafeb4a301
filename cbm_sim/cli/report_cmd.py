"""``cbm-sim report``: the PDF report of a run (and of an ensemble)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

if TYPE_CHECKING:
    import pandas as pd

    from cbm_sim.report.charts import EnsembleFrames
    from cbm_sim.report.summary import GoalSeekRun
    from cbm_sim.results.frames import Results
    from cbm_sim.results.writer import Output
    from cbm_sim.scenario.model import Scenario
    from cbm_sim.studies.diff import Diff

from cbm_sim.cli.app import (
    _debug_option,
    _no_verify_option,
    _reported,
    main,
    output_option,
    progress_bar,
)
from cbm_sim.cli.run_cmd import _simulate


def _load_results(source: Path, scenario: Scenario, console: Console) -> Results:
    """Results from a ``run -o`` directory (already verified by :func:`_scenario_of`), or
    from running the scenario file's ``scenario``."""
    from cbm_sim.results.frames import Results as _Results

    if source.is_dir():
        return _Results.from_parquet(source, verify=False)  # verified with its scenario
    return _simulate(scenario, console)


def _scenario_of(source: Path, *, verify: bool = True) -> Scenario:
    """The scenario a report is of: the run folder's ``scenario.yaml`` (after verification)
    or the scenario file, read before anything is simulated so that a study of another
    scenario is refused first."""
    from cbm_sim.results.integrity import DamagedRunError
    from cbm_sim.scenario.files import load_scenario

    if source.is_dir():
        if verify:
            from cbm_sim.results.integrity import verify as verify_folder

            verify_folder(source, require=("scenario.yaml",))
        if not (source / "scenario.yaml").is_file():
            raise DamagedRunError(
                f"{source / 'scenario.yaml'}: missing; the report values the run at the "
                "prices of its own scenario and will not guess them"
            )
        return load_scenario(source / "scenario.yaml", check_size=False)
    return load_scenario(source)


def _run_model_data(source: Path) -> str | None:
    """The model data the run was made with: its folder's record, or this cbm-sim's for a
    scenario file (run now); None for a folder of an older cbm-sim."""
    from cbm_sim.plan.packaged import packaged_data_sha256
    from cbm_sim.results.integrity import read_meta

    if not source.is_dir():
        return packaged_data_sha256()
    try:
        recorded = read_meta(source).get("model_data_sha256")
    except Exception:  # verified (or refused) by _scenario_of already
        return None
    return recorded if isinstance(recorded, str) else None


def _provenance(
    block: object, scenario: Scenario, what: str, hint: str, model_data: str | None
) -> dict[str, Any]:
    """A study's provenance block, refused (exit 2, one line) when it is of another scenario
    or of other model data than the run; a block without one (an older folder) is accepted
    with a warning."""
    from cbm_sim.scenario.provenance import mismatch

    study = dict(block) if isinstance(block, dict) else {}
    problem = mismatch(study, scenario, what, model_data=model_data)
    if problem is not None:
        raise click.BadParameter(problem, param_hint=hint)
    if "assumptions_sha256" not in study:
        click.echo(
            f"warning: {what} records no scenario (an older cbm-sim?): cannot check that it is "
            f"of {scenario.name!r}",
            err=True,
        )
    return study


def _load_ensemble(
    directory: Path, scenario: Scenario, *, verify: bool = True, model_data: str | None = None
) -> tuple[EnsembleFrames, dict[str, dict[str, Any]]]:
    """The ensemble's frames and the provenance of the ensemble (and of its Sobol study)."""
    import pandas as pd

    from cbm_sim.report.charts import EnsembleFrames
    from cbm_sim.results import integrity

    missing = [n for n in ("percentiles.csv", "probabilities.csv") if not (directory / n).is_file()]
    if missing:
        raise click.BadParameter(
            f"{directory} is not a cbm-sim ensemble directory (missing {', '.join(missing)})",
            param_hint="'--ensemble'",
        )
    meta: dict[str, Any] = {}
    if (directory / integrity.META).is_file():
        try:
            meta = (
                integrity.verify(directory, require=("percentiles.csv", "probabilities.csv"))
                if verify
                else integrity.read_meta(directory)
            )
        except integrity.DamagedRunError as exc:
            raise click.BadParameter(str(exc), param_hint="--ensemble") from None
    studies = {
        "ensemble": _provenance(
            meta, scenario, f"the ensemble {directory}", "--ensemble", model_data
        )
    }
    tornado = directory / "tornado.csv"
    sobol = directory / "sobol.csv"  # written there by `cbm-sim sensitivity -o DIRECTORY`
    if sobol.is_file():
        block = meta.get("sobol", meta if meta.get("kind") == "sobol" else {})
        studies["sobol"] = _provenance(
            block, scenario, f"the Sobol study {sobol}", "--ensemble", model_data
        )
    frames = EnsembleFrames(
        percentiles=pd.read_csv(directory / "percentiles.csv"),
        probabilities=pd.read_csv(directory / "probabilities.csv"),
        tornado=pd.read_csv(tornado) if tornado.is_file() else None,
        sobol=pd.read_csv(sobol) if sobol.is_file() else None,
    )
    return frames, studies


def _load_robustness(
    directory: Path, scenario: Scenario, *, own: bool, model_data: str | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The robustness table and its provenance (``own``: the run folder's own table, of the
    run's scenario by construction)."""
    import json

    import pandas as pd

    from cbm_sim.cli.robustness_cmd import ROBUSTNESS_FILE

    path = directory / ROBUSTNESS_FILE
    if not path.is_file():
        raise click.BadParameter(
            f"{directory} is not a cbm-sim robustness directory (missing {ROBUSTNESS_FILE})",
            param_hint="--robustness",
        )
    block: dict[str, Any] = {}
    if not own and (directory / "meta.json").is_file():
        try:
            block = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise click.BadParameter(
                f"{directory / 'meta.json'}: unreadable", param_hint="--robustness"
            ) from None
    study = (
        {"step_days": scenario.horizon.step_days}
        if own
        else _provenance(
            block, scenario, f"the robustness table {path}", "--robustness", model_data
        )
    )
    table = pd.read_csv(path, keep_default_na=False, na_values=[""]).assign(
        flips=lambda f: f["flips"].fillna("")
    )
    return table, study


def _load_goal_seeks(
    directories: tuple[Path, ...],
    scenario: Scenario,
    *,
    verify: bool = True,
    model_data: str | None = None,
) -> tuple[GoalSeekRun, ...]:
    """The goal-seek searches recorded in run folders written by ``goal-seek -o``."""
    from cbm_sim.report.summary import GoalSeekRun
    from cbm_sim.results import integrity

    out = []
    for directory in directories:
        try:
            meta = integrity.verify(directory) if verify else integrity.read_meta(directory)
        except integrity.DamagedRunError as exc:
            raise click.BadParameter(str(exc), param_hint="--goal-seek") from None
        block = meta.get("goal_seek")
        if not isinstance(block, dict):
            raise click.BadParameter(
                f"{directory} is not a goal-seek run (its meta.json has no goal_seek record; "
                "write one with cbm-sim goal-seek … -o DIR)",
                param_hint="--goal-seek",
            )
        _provenance(block, scenario, f"the goal-seek run {directory}", "--goal-seek", model_data)
        try:
            out.append(GoalSeekRun.from_meta(block))
        except ValueError as exc:
            raise click.BadParameter(f"{directory}: {exc}", param_hint="--goal-seek") from None
    return tuple(out)


SKILL_FILE = "skill.csv"
"""The skill table ``--backtest DIR`` reads (``cbm-sim backtest -o DIR``)."""


def _load_skill(directory: Path) -> pd.DataFrame:
    """A backtest folder's skill table (``cbm-sim backtest -o``'s ``skill.csv``)."""
    import pandas as pd

    from cbm_sim.report.hindcast_charts import SKILL_COLUMNS

    path = directory / SKILL_FILE
    if not path.is_file():
        raise click.BadParameter(
            f"{directory} has no {SKILL_FILE} (a cbm-sim backtest -o folder)",
            param_hint="--backtest",
        )
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise click.BadParameter(f"{path}: unreadable ({exc})", param_hint="--backtest") from None
    missing = [c for c in SKILL_COLUMNS if c not in frame.columns]
    if missing:
        raise click.BadParameter(f"{path}: lacks columns {missing}", param_hint="--backtest")
    return frame


def _compare_with(
    other: Path, source: Path, results: Results, console: Console, *, verify: bool = True
) -> Diff:
    """What differs between the report's run (A) and ``other`` (B: a run folder or a scenario
    file, which is run)."""
    from cbm_sim.scenario.files import field_sources, load_scenario
    from cbm_sim.studies.diff import Side, diff

    def sources_of(where: Path, meta: dict[str, Any]) -> dict[str, Any]:
        origin = where if where.is_file() else Path(str(meta.get("scenario_file", "")))
        try:
            return dict(field_sources(origin)) if origin.is_file() else {}
        except ValueError:  # the origin no longer parses: no sources, not a failed report
            return {}

    a = Side.from_results(results, sources=sources_of(source, dict(results.meta)))
    if other.is_dir():
        b = Side.from_dir(other, verify=verify)
    else:
        scenario = load_scenario(other)
        b = Side.from_results(_simulate(scenario, console), sources=sources_of(other, {}))
    return diff(a, b)


@main.command("report")
@click.argument(
    "source", metavar="RESULTS_OR_SCENARIO", type=click.Path(exists=True, path_type=Path)
)
@output_option(
    "PDF to write, e.g. reports/plan.pdf; each chart also goes beside it as PDF and PNG.",
    True,
    directory=False,
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--ensemble",
    "ensemble_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An `cbm-sim ensemble -o` directory: adds fan charts, target probabilities, the "
    "tornado and (if `cbm-sim sensitivity` wrote sobol.csv there) the Sobol indices.",
)
@click.option(
    "--robustness",
    "robustness_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A `cbm-sim robustness -o` directory: adds the 'what flips it' page (default: the "
    "results directory's own robustness.csv, if `run --robustness` wrote one).",
)
@click.option(
    "--goal-seek",
    "goal_seek_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A `cbm-sim goal-seek … -o` folder (repeatable): the summary's 'what it would take'.",
)
@click.option(
    "--backtest",
    "backtest_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help=f"A `cbm-sim backtest -o` folder: its {SKILL_FILE} gives the hindcast pages and the "
    "summary's skill line (bias, MAPE, P10-P90 coverage).",
)
@click.option(
    "--compare",
    "compare_source",
    type=click.Path(exists=True, path_type=Path),
    help="Another run folder or scenario file: adds the pages of `cbm-sim diff` (changed "
    "inputs, moved outputs, target verdicts).",
)
@_no_verify_option
@click.option(
    "--page-width",
    "page_width_cm",
    type=float,
    default=16.0,
    show_default=True,
    help="Text-column width [cm] the charts are drawn at; every font is >= 9 pt at this width.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a report cbm-sim wrote (the PDF and its charts folder, whole).",
)
@_debug_option
def report_command(
    source: Path,
    output: Path,
    lang: str,
    ensemble_dir: Path | None,
    robustness_dir: Path | None,
    goal_seek_dirs: tuple[Path, ...],
    backtest_dir: Path | None,
    compare_source: Path | None,
    no_verify: bool,
    page_width_cm: float,
    overwrite: bool,
    debug: bool,
) -> None:
    """Write the PDF report of a results directory (from `run -o`) or of a scenario file.

    A4 pages, one chart or table each, numbered and captioned, with bookmarks and a footer
    (scenario, seed, version, source); each chart also beside the report as PDF and PNG at
    the --page-width, with the same footer.
    """
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn

    console = Console(stderr=True)
    with _reported(debug):
        if output.suffix.lower() != ".pdf":
            raise click.BadParameter(
                f"expected a file name ending in .pdf, got {str(output)!r}",
                param_hint="'-o/--output'",
            )
        from cbm_sim.results import writer

        outputs = report_outputs(output)
        writer.check(outputs, overwrite=overwrite)  # before anything is built
        from cbm_sim import bounds
        from cbm_sim.report.fonts import check_lang
        from cbm_sim.report.pdf import write_report  # registers the page_width_cm bound

        bound = bounds.BOUNDS["page_width_cm"]
        if not bound.lo <= page_width_cm <= bound.hi:
            raise click.BadParameter(
                f"expected {bound.lo:g}..{bound.hi:g} cm ({bound.doc}), got {page_width_cm:g}",
                param_hint="'--page-width'",
            )
        verify = not no_verify
        scenario = _scenario_of(source, verify=verify)  # studies are checked against it first
        model_data = _run_model_data(source)
        ensemble, studies = None, dict[str, dict[str, Any]]()
        if ensemble_dir is not None:
            ensemble, studies = _load_ensemble(
                ensemble_dir, scenario, verify=verify, model_data=model_data
            )
        own = robustness_dir is None and source.is_dir() and (source / "robustness.csv").is_file()
        if own:
            robustness_dir = source  # a `run --robustness` directory carries its own table
        robustness = None
        if robustness_dir is not None:
            robustness, studies["robustness"] = _load_robustness(
                robustness_dir, scenario, own=own, model_data=model_data
            )
        goal_seeks = _load_goal_seeks(
            goal_seek_dirs, scenario, verify=verify, model_data=model_data
        )
        skill = _load_skill(backtest_dir) if backtest_dir is not None else None
        results = _load_results(source, scenario, console)
        compare = (
            _compare_with(compare_source, source, results, console, verify=verify)
            if compare_source is not None
            else None
        )
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
        with (
            progress_bar(console, *columns) as bar,
            writer.staged(outputs, overwrite=overwrite) as (pdf, charts),
        ):
            task = bar.add_task("building the charts", total=None)

            def step(name: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=f"page {done}: {name}")

            write_report(
                results,
                pdf,
                lang=check_lang(lang),
                ensemble=ensemble,
                robustness=robustness,
                page_width_cm=page_width_cm,
                progress=step,
                goal_seeks=goal_seeks,
                skill=skill,
                studies=studies,
                compare=compare,
            )
            seal_charts(charts, pdf, output.name)
        click.echo(f"wrote {output} and its charts in {outputs[1].path}")


def report_outputs(pdf: Path) -> list[Output]:
    """The outputs of a report: the PDF and its ``<stem>_charts`` folder, written as one
    (:func:`cbm_sim.results.writer.staged`). Reports and charts of a cbm-sim that kept no
    ledger are recognised by their PDFs' creator."""
    from cbm_sim.results import ownership
    from cbm_sim.results.writer import Output

    charts = pdf.with_name(f"{pdf.stem}_charts")
    return [
        Output(pdf, recognise=ownership.pdf_by_cbm_sim),
        Output(charts, folder=True, recognise=ownership.charts_by_cbm_sim),
    ]


def seal_charts(charts: Path, pdf: Path, name: str) -> None:
    """The charts folder's ``meta.json``: the SHA-256 of every chart file and of the report
    they belong to (``report``, ``report_sha256``), so that a charts folder and a PDF of
    different reports are told apart."""
    from cbm_sim.results import integrity

    if not charts.is_dir():  # a report without chart files
        charts.mkdir()
    meta = {"kind": "report-charts", "report": name, "report_sha256": integrity.sha256_file(pdf)}
    integrity.write_meta(charts, meta, [p.name for p in charts.iterdir()])
