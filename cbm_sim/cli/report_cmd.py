"""``cbm-sim report``: the PDF report of a run (and of an ensemble)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

if TYPE_CHECKING:
    import pandas as pd

    from cbm_sim.results.frames import Results
    from cbm_sim.results.writer import Output

from cbm_sim.cli.app import (
    _debug_option,
    _no_verify_option,
    _reported,
    main,
    output_option,
    progress_bar,
)
from cbm_sim.cli.run_cmd import _simulate


def _load_results(source: Path, console: Console, *, verify: bool = True) -> Results:
    """Results from a ``run -o`` directory (verified unless ``verify`` is false), or from
    running a scenario file.

    Raises
    ------
    DamagedRunError
        If the directory fails verification, or lacks ``scenario.yaml``: the valuation needs
        the run's own prices, and the defaults would silently value it at other prices.
    """
    from cbm_sim.results.frames import Results as _Results
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
        return _Results.from_parquet(source, verify=False)  # verified above
    return _simulate(load_scenario(source), console)


def _load_ensemble(directory: Path, *, verify: bool = True):
    import pandas as pd

    from cbm_sim.report.charts import EnsembleFrames
    from cbm_sim.results import integrity

    missing = [n for n in ("percentiles.csv", "probabilities.csv") if not (directory / n).is_file()]
    if missing:
        raise click.BadParameter(
            f"{directory} is not a cbm-sim ensemble directory (missing {', '.join(missing)})",
            param_hint="'--ensemble'",
        )
    if verify and (directory / integrity.META).is_file():
        try:
            integrity.verify(directory, require=("percentiles.csv", "probabilities.csv"))
        except integrity.DamagedRunError as exc:
            raise click.BadParameter(str(exc), param_hint="--ensemble") from None
    tornado = directory / "tornado.csv"
    sobol = directory / "sobol.csv"  # written there by `cbm-sim sensitivity -o DIRECTORY`
    return EnsembleFrames(
        percentiles=pd.read_csv(directory / "percentiles.csv"),
        probabilities=pd.read_csv(directory / "probabilities.csv"),
        tornado=pd.read_csv(tornado) if tornado.is_file() else None,
        sobol=pd.read_csv(sobol) if sobol.is_file() else None,
    )


def _load_robustness(directory: Path) -> pd.DataFrame:
    import pandas as pd

    from cbm_sim.cli.robustness_cmd import ROBUSTNESS_FILE

    path = directory / ROBUSTNESS_FILE
    if not path.is_file():
        raise click.BadParameter(
            f"{directory} is not a cbm-sim robustness directory (missing {ROBUSTNESS_FILE})",
            param_hint="--robustness",
        )
    return pd.read_csv(path, keep_default_na=False, na_values=[""]).assign(
        flips=lambda f: f["flips"].fillna("")
    )


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
        ensemble = (
            _load_ensemble(ensemble_dir, verify=not no_verify) if ensemble_dir is not None else None
        )
        if robustness_dir is None and source.is_dir() and (source / "robustness.csv").is_file():
            robustness_dir = source  # a `run --robustness` directory carries its own table
        robustness = _load_robustness(robustness_dir) if robustness_dir is not None else None
        results = _load_results(source, console, verify=not no_verify)
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
