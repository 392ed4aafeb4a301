"""``cbm-sim ensemble``: a Monte Carlo ensemble of a scenario (Dask imported only when it runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from cbm_sim.studies.ensemble import EnsembleResult

from cbm_sim.cli.app import _reported, main

# -- uncertainty: the study modules (scipy, dask) are imported only when a command runs --

GOAL_SEEK_LEVERS = ("drilling", "peak_rate", "price")
"""The levers of ``goal-seek`` (as ``studies.goalseek.LEVERS``; a test keeps them equal)."""


@main.command("ensemble")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False))
@click.option("-n", "--members", "n", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="local worker processes (1 = no Dask)",
)
@click.option("--scheduler", default=None, help="address of a Dask scheduler, tcp://host:port")
@click.option("--seed", type=int, default=None, help="root seed (default: the scenario's)")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False), required=True)
@click.option("--overwrite", is_flag=True, help="replace a non-empty output directory")
@click.option(
    "--tornado",
    "with_tornado",
    is_flag=True,
    help="also swing each uncertain input between its P10 and P90 (tornado.csv)",
)
def ensemble_command(
    scenario_file: str,
    n: int,
    workers: int | None,
    scheduler: str | None,
    seed: int | None,
    out: str,
    overwrite: bool,
    with_tornado: bool,
) -> None:
    """Run an N-member Monte Carlo ensemble of SCENARIO_FILE and write its summaries.

    Prints P10/P50/P90 of production and total value and the probability of meeting each
    total target; writes members, statuses, percentiles.csv, probabilities.csv, failures.csv
    (and tornado.csv with --tornado) into OUT.
    """
    from pathlib import Path

    from rich.console import Console
    from rich.progress import Progress as Bar

    from cbm_sim.results.rundir import check_target
    from cbm_sim.scenario import load_scenario
    from cbm_sim.studies import journal
    from cbm_sim.studies.ensemble import MEASURES, run_ensemble

    with _reported(False):
        scenario = load_scenario(scenario_file)
        out_dir = Path(out)
        check_target(out_dir, overwrite=overwrite)  # before any member runs, not after
        root = scenario.seed if seed is None else seed
        kept = journal.journal_dir(out_dir, scenario, root, MEASURES)
        console = Console(stderr=True)
        try:
            with Bar(console=console, transient=True) as bar:
                task = bar.add_task(f"ensemble of {n}", total=1.0)
                result = run_ensemble(
                    scenario,
                    n,
                    workers=workers,
                    scheduler=scheduler,
                    seed=root,
                    progress=lambda f: bar.update(task, completed=f),
                    journal=kept,
                )
        except BaseException:
            if kept.is_dir():
                click.echo(
                    f"{len(list(kept.glob('member-*.json')))} finished members kept in {kept}; "
                    "the same command resumes from them",
                    err=True,
                )
            raise

        def add_tornado(stage: Path) -> None:
            if with_tornado:
                from cbm_sim.studies.sensitivity import tornado

                years = [y for y in (2025, 2030) if y <= scenario.horizon.end.year]
                frame = tornado(scenario, years=years, workers=1)
                frame.to_csv(stage / "tornado.csv", index=False)

        result.to_dir(out_dir, overwrite=overwrite, extra=add_tornado)
        journal.remove(kept)
    _print_ensemble_summary(result, Console())
    click.echo(
        f"{len(result.members['member'].unique())} of {n} members ran, "
        f"{len(result.failures)} failed; written to {out}"
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
            f"P(meet {r.target} {r.year}) = {r.probability:.2f} ± {r.std_error:.2f} (MC s.e.)"
        )
