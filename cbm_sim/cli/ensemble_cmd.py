"""``cbm-sim ensemble``: a Monte Carlo ensemble of a scenario (Dask imported only when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from cbm_sim.studies.ensemble import EnsembleResult

from cbm_sim.cli.app import _debug_option, _reported, main, output_option

# -- uncertainty: the study modules (scipy, dask) are imported only when a command runs --

GOAL_SEEK_LEVERS = ("drilling", "peak_rate", "price")
"""The levers of ``goal-seek`` (as ``studies.goalseek.LEVERS``; a test keeps them equal)."""


@main.command("ensemble")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--members", "n", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    show_default="one per CPU",
    help="local worker processes (1 = in this process, no Dask)",
)
@click.option("--scheduler", default=None, help="address of a Dask scheduler, tcp://host:port")
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="root seed (default: the scenario's)"
)
@output_option("Directory for the ensemble's summaries (see README, Output contract).", True)
@click.option("--overwrite", is_flag=True, help="replace a non-empty output directory")
@click.option(
    "--tornado",
    "with_tornado",
    is_flag=True,
    help="also swing each uncertain input between its P10 and P90 (tornado.csv)",
)
@_debug_option
def ensemble_command(
    scenario_file: Path,
    n: int,
    workers: int | None,
    scheduler: str | None,
    seed: int | None,
    output: Path,
    overwrite: bool,
    with_tornado: bool,
    debug: bool,
) -> None:
    """Run an N-member Monte Carlo ensemble of SCENARIO_FILE and write its summaries.

    Prints P10/P50/P90 of production and total value and the probability of meeting each
    total target (with its 95 % Wilson interval); writes members, statuses,
    percentiles.csv, probabilities.csv, failures.csv (and tornado.csv with --tornado) into
    the output directory. The scenario and the output directory are checked before any run.
    """
    from rich.progress import Progress as Bar

    console = Console(stderr=True)
    with _reported(debug):
        from cbm_sim.scenario.files import load_scenario

        scenario = load_scenario(scenario_file)
        if output.exists() and not overwrite and (not output.is_dir() or any(output.iterdir())):
            raise click.BadParameter(
                f"{output} exists and is not empty; pass --overwrite to replace it",
                param_hint="'-o/--output'",
            )
        if with_tornado and not scenario.uncertainty:
            raise click.BadParameter(
                f"{scenario_file} has no uncertainty entries to swing", param_hint="'--tornado'"
            )
        from cbm_sim.studies.ensemble import run_ensemble

        with Bar(console=console, transient=True) as bar:
            task = bar.add_task(f"ensemble of {n}", total=1.0)
            result = run_ensemble(
                scenario,
                n,
                workers=workers,
                scheduler=scheduler,
                seed=seed,
                progress=lambda f: bar.update(task, completed=f),
            )
        out_dir = result.to_dir(output, overwrite=overwrite)
        if with_tornado:
            from cbm_sim.studies.sensitivity import tornado

            years = [y for y in (2025, 2030) if y <= scenario.horizon.end.year]
            with Bar(console=console, transient=True) as bar:
                task = bar.add_task("tornado", total=1.0)
                swings = tornado(
                    scenario,
                    years=years,
                    workers=1,
                    progress=lambda f: bar.update(task, completed=f),
                )
            from cbm_sim.units import to_planner

            planner = to_planner(swings, ("low_value", "high_value", "base"))
            planner.to_csv(out_dir / "tornado.csv", index=False, encoding="utf-8")
        _print_ensemble_summary(result, Console())
        click.echo(
            f"{len(result.members['member'].unique())} of {n} members ran, "
            f"{len(result.failures)} failed; written to {output}"
        )
        for row in result.failures.itertuples(index=False):
            click.echo(f"member {row.member} failed: {row.error}", err=True)


def _print_ensemble_summary(result: EnsembleResult, console: Console) -> None:

    pct = result.percentiles()
    pct = pct[
        pct["quantity"].isin(["production.total", "output.total"]) & pct["year"].isin([2025, 2030])
    ]
    table = Table(title="P10 / P50 / P90 (亿m³, 亿元)")
    for col in ("year", "quantity", "P10", "P50", "P90"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    for r in pct.itertuples(index=False):
        table.add_row(str(r.year), r.quantity, *(f"{v / 1e8:,.1f}" for v in (r.p10, r.p50, r.p90)))
    console.print(table)
    prob = result.probabilities()
    prob = prob[prob["target"].isin(["output.total", "production.total"])]
    for r in prob.itertuples(index=False):
        console.print(
            f"P(meet {r.target} {r.year}) = {r.probability:.2f} "
            f"(95 % interval {r.ci_low:.2f}-{r.ci_high:.2f}, {r.members} members)"
        )
