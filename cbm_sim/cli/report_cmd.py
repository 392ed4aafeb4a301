"""``cbm-sim report``: the PDF report of a run (and of an ensemble)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from cbm_sim.results.frames import Results

from cbm_sim.cli.app import _debug_option, _reported, main
from cbm_sim.cli.run_cmd import _simulate


def _load_results(source: Path, console: Console) -> Results:
    """Results from a ``run -o`` directory, or from running a scenario file."""
    from cbm_sim.results.frames import Results as _Results
    from cbm_sim.scenario.files import load_scenario

    if source.is_dir():
        return _Results.from_parquet(source)  # with the run's scenario.yaml: its prices
    return _simulate(load_scenario(source), console)


def _load_ensemble(directory: Path):
    import pandas as pd

    from cbm_sim.report.charts import EnsembleFrames

    missing = [n for n in ("percentiles.csv", "probabilities.csv") if not (directory / n).is_file()]
    if missing:
        raise click.BadParameter(
            f"{directory} is not a cbm-sim ensemble directory (missing {', '.join(missing)})",
            param_hint="--ensemble",
        )
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
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="PDF to write, e.g. reports/plan.pdf; each chart also goes beside it as PDF and PNG.",
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
@_debug_option
def report_command(
    source: Path,
    output: Path,
    lang: str,
    ensemble_dir: Path | None,
    robustness_dir: Path | None,
    debug: bool,
) -> None:
    """Write the PDF report of a results directory (from `run -o`) or of a scenario file."""
    from rich.console import Console

    console = Console(stderr=True)
    ensemble = _load_ensemble(ensemble_dir) if ensemble_dir is not None else None
    if robustness_dir is None and source.is_dir() and (source / "robustness.csv").is_file():
        robustness_dir = source  # a `run --robustness` directory carries its own table
    robustness = _load_robustness(robustness_dir) if robustness_dir is not None else None
    with _reported(debug):
        from cbm_sim.report.fonts import check_lang
        from cbm_sim.report.pdf import write_report

        results = _load_results(source, console)
        output.parent.mkdir(parents=True, exist_ok=True)
        path = write_report(
            results, output, lang=check_lang(lang), ensemble=ensemble, robustness=robustness
        )
        click.echo(f"wrote {path}")
