"""``cbm-sim sensitivity``: Sobol indices of the 2025 and 2030 totals over a scenario's
uncertainty (SALib and Dask imported only when it runs)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from cbm_sim.cli.app import (
    BadInput,
    _debug_option,
    _reported,
    check_count,
    main,
    output_option,
    progress_bar,
    scheduler_option,
)

SOBOL_FILE = "sobol.csv"
"""Name of the indices file in the output directory (read by ``cbm-sim report --ensemble``)."""


@main.command("sensitivity")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--sobol",
    "n",
    type=click.IntRange(min=2),
    required=True,
    help="Saltelli base sample N (a power of 2); N × (inputs + 2) runs",
)
@output_option("Directory for sobol.csv (an ensemble folder: the report adds the page).", True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="local worker processes (1 = no Dask)",
)
@scheduler_option
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="seed of the design (default: the scenario's)",
)
@click.option(
    "--step-days",
    type=click.IntRange(min=1, max=31),
    default=None,
    help="dispatch step [days] instead of the scenario's",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help=f"replace the {SOBOL_FILE} a previous `sensitivity` wrote into OUT",
)
@_debug_option
def sensitivity_command(
    scenario_file: str,
    n: int,
    output: Path,
    workers: int | None,
    scheduler: str | None,
    seed: int | None,
    step_days: int | None,
    overwrite: bool,
    debug: bool,
) -> None:
    """Sobol indices (first-order S1, total ST, bootstrap 95 % intervals) of the cluster's
    2025 and 2030 output value over SCENARIO_FILE's uncertainty section.

    Writes OUT/sobol.csv (OUT may be an ensemble directory: `cbm-sim report --ensemble OUT`
    then adds the Sobol page) and prints the inputs by total index.
    """
    if n & (n - 1):
        raise click.BadParameter(f"must be a power of 2, got {n}", param_hint="--sobol")
    target = output / SOBOL_FILE
    with _reported(debug):
        from cbm_sim.results import writer
        from cbm_sim.scenario import load_scenario
        from cbm_sim.studies.sensitivity import saltelli_runs, sobol_indices

        check_count("study_runs", n, "base samples", "'--sobol'")
        # OUT is a new folder, or a cbm-sim folder (an ensemble's) that gets sobol.csv added
        writer.check(writer.Output(output, folder=True, keep=True), overwrite=overwrite)
        if (target.exists() or target.is_symlink()) and not overwrite:
            raise BadInput(f"{target} exists; pass --overwrite to replace it")
        scenario = load_scenario(scenario_file)
        if step_days is not None:
            horizon = scenario.horizon.model_copy(update={"step_days": step_days})
            scenario = scenario.model_copy(update={"horizon": horizon})
        years = [y for y in (2025, 2030) if y <= scenario.horizon.end.year]
        runs = saltelli_runs(n, len(scenario.uncertainty))
        check_count("study_runs", runs, f"runs (N × ({len(scenario.uncertainty)} inputs + 2))",
                    "'--sobol'")  # fmt: skip
        with progress_bar(Console(stderr=True)) as bar:
            task = bar.add_task(f"Sobol design, {runs} runs", total=1.0)
            frame = sobol_indices(
                scenario,
                n,
                years=years,
                workers=workers,
                scheduler=scheduler,
                seed=seed,
                progress=lambda f: bar.update(task, completed=f),
            )
        design = {"n": n, "runs": runs, "seed": seed, "scenario": scenario.name}
        new = not output.exists()
        meta = {"sobol": design, **({"kind": "sensitivity"} if new else {})}
        with writer.staged_folder(output, keep=True, meta=meta) as stage:
            frame.to_csv(stage / SOBOL_FILE, index=False, encoding="utf-8")
        console = Console()
        for year, part in frame.groupby("year", sort=True):
            table = Table(title=f"Sobol indices of output.total {year} (N = {n}, {runs} runs)")
            for col in ("input", "S1", "S1 95 %", "ST", "ST 95 %"):
                table.add_column(col, justify="left" if col == "input" else "right")
            for r in part.itertuples(index=False):
                table.add_row(
                    r.input,
                    f"{r.S1:.2f}",
                    f"{r.S1_low:.2f}–{r.S1_high:.2f}",
                    f"{r.ST:.2f}",
                    f"{r.ST_low:.2f}–{r.ST_high:.2f}",
                )
            console.print(table)
        click.echo(f"wrote {target}")
