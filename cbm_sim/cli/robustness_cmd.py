"""``cbm-sim robustness``: which stated assumption flips which 2025/2030 verdict."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

from cbm_sim.cli.app import (
    _debug_option,
    _reported,
    main,
    output_option,
    overwrite_option,
    progress_bar,
    scheduler_option,
)

ROBUSTNESS_FILE = "robustness.csv"
"""The table written into the output directory (``studies.robustness.ROBUSTNESS_COLUMNS``)."""


def print_flips(table: pd.DataFrame, console: Console, title: str) -> None:
    """One line per year × target: the base verdict and the assumptions that flip it."""

    from cbm_sim.studies.robustness import flipped_by

    out = Table(title=title)
    for col in ("year", "target", "sim.", "target value", "status", "flipped by (end)"):
        out.add_column(col, justify="right" if col in ("sim.", "target value") else "left")
    for r in flipped_by(table).itertuples(index=False):
        style = "green" if r.base_status == "met" else "bold red"
        out.add_row(
            str(r.year),
            r.target.removeprefix("output."),
            f"{r.base_simulated:,.1f}",
            f"{r.target_value:,.1f}",
            f"[{style}]{r.base_status}[/]",
            r.flipped_by or "— (holds)",
        )
    console.print(out)


@main.command("robustness")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@output_option("Directory for robustness.csv (written whole or not at all).", True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes for the simulated swings (1 = no Dask).",
)
@scheduler_option
@overwrite_option
@_debug_option
def robustness_command(
    scenario_file: Path,
    output: Path,
    workers: int,
    scheduler: str | None,
    overwrite: bool,
    debug: bool,
) -> None:
    """Swing each assumption of SCENARIO to its stated low and high and report the flips.

    The assumptions are the scenario's `uncertainty` inputs, else the documented default
    swings (gas price, per-well values, horizontal-well equivalent, type-curve peak,
    drilling, outbound contracts, exogenous items, carbon baseline; sources in
    robustness.csv). Writes
    robustness.csv and meta.json into OUTPUT; prints which assumption flips each 2025/2030
    total and sub-cluster verdict. Bad input exits with status 2.
    """

    console = Console(stderr=True)
    with _reported(debug):
        from cbm_sim.results import writer
        from cbm_sim.results.rundir import check_target
        from cbm_sim.scenario.files import load_scenario
        from cbm_sim.studies.robustness import robustness, swings_for

        scenario = load_scenario(scenario_file)
        check_target(output, overwrite=overwrite)
        swings = swings_for(scenario)
        with progress_bar(console) as bar:
            task = bar.add_task(f"robustness of {scenario.name}", total=1.0)
            table = robustness(
                scenario,
                swings,
                workers=workers,
                scheduler=scheduler,
                progress=lambda f: bar.update(task, completed=f),
            )
        meta = {
            "kind": "robustness",
            "scenario": scenario.name,
            "scenario_file": str(scenario_file),
            "seed": scenario.seed,
            "swings": [s.name for s in swings],
        }
        # sealed by the writer: meta.json with the SHA-256 of robustness.csv
        with writer.staged_folder(output, overwrite=overwrite, meta=meta) as stage:
            table.to_csv(stage / ROBUSTNESS_FILE, index=False, encoding="utf-8")
        print_flips(table, Console(), f"{scenario.name}: what flips the verdict (亿元)")
        click.echo(f"wrote {output / ROBUSTNESS_FILE}")
