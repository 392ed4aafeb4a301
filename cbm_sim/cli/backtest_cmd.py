"""``cbm-sim backtest``: the hindcast of 2022-2025 against the public post-2021 record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from cbm_sim.cli.app import _debug_option, _reported, main, output_option, step_days_option

if TYPE_CHECKING:
    import pandas as pd


@main.command("backtest")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--members", "n", type=click.IntRange(min=1), default=100, show_default=True)
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
@step_days_option(
    "step of each member's results instead of the scenario's (the dispatch is daily; "
    "partial-year observations are summed over the steps that start in them)"
)
@output_option("Directory for the skill table and the members' values.", True)
@click.option("--overwrite", is_flag=True, help="replace a previous backtest folder")
@_debug_option
def backtest_command(
    scenario_file: Path,
    n: int,
    workers: int | None,
    scheduler: str | None,
    seed: int | None,
    step_days: int | str | None,
    output: Path,
    overwrite: bool,
    debug: bool,
) -> None:
    """Run the hindcast SCENARIO_FILE (scenarios/backtest-2021.yaml: the 2021-vintage model,
    the drilling that really happened where known) as an N-member ensemble through 2022-2025
    and score it against every held-out observation of the post-2021 record (history.yaml,
    hindcast): P10/P50/P90, error, inside P10-P90 or not; bias, MAPE and coverage.

    Writes skill.csv, members.csv, summary.csv, failures.csv and meta.json into the output
    folder (checked before any member runs).
    """
    from rich.progress import Progress as Bar

    from cbm_sim.results.rundir import check_target
    from cbm_sim.scenario import load_scenario
    from cbm_sim.studies.backtest import run_backtest
    from cbm_sim.studies.uncertainty import with_step_days

    with _reported(debug):
        scenario = load_scenario(scenario_file)
        if step_days is not None:
            scenario = with_step_days(scenario, step_days)
        check_target(output, overwrite=overwrite)  # before any member runs, not after
        console = Console(stderr=True)
        with Bar(console=console, transient=True) as bar:
            task = bar.add_task(f"hindcast of {n}", total=1.0)
            result = run_backtest(
                scenario,
                n,
                workers=workers,
                scheduler=scheduler,
                seed=seed,
                progress=lambda f: bar.update(task, completed=f),
            )
        result.to_dir(output, overwrite=overwrite)
    print_skill(result.skill(), Console(width=160), f"{scenario.name}: {result.n} members")
    click.echo(f"{result.n} of {n} members ran, {len(result.failures)} failed; written to {output}")
    for row in result.failures.itertuples(index=False):
        click.echo(f"member {row.member} failed: {row.error}", err=True)


def _num(x: float) -> str:
    return "" if x != x else f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"  # nan != nan


def print_skill(table: pd.DataFrame, console: Console, title: str) -> None:
    """The skill table (scored rows, then the others with the reason) and its summary."""
    from cbm_sim.studies.backtest import BIAS_TARGET, COVERAGE_TARGET, skill_summary

    grid = Table(title=f"hindcast 2022-2025, {title}")
    for col in ("observation", "year", "observed", "P10", "P50", "P90", "error", "inside"):
        grid.add_column(col, justify="left" if col == "observation" else "right")
    grid.add_column("unit / note", overflow="fold", ratio=1)
    for r in table.itertuples(index=False):
        inside = ("[green]yes[/]" if r.inside else "[bold red]no[/]") if r.scored else ""
        note = r.unit if r.scored else f"{r.unit}; not scored: {r.why}"
        rel = "" if r.rel_error != r.rel_error else f" ({r.rel_error:+.0%})"
        grid.add_row(
            r.id,
            str(r.year),
            _num(r.observed) + ("" if r.kind == "equal" else f" ({r.kind})"),
            _num(r.p10),
            _num(r.p50),
            _num(r.p90),
            (_num(r.error) + rel) if r.scored else "",
            inside,
            note,
        )
    console.print(grid)
    s = skill_summary(table)
    met = "met" if s["bias_met"] and s["coverage_met"] else "NOT met"
    console.print(
        f"skill on {s['held_out']} held-out observations: bias {s['bias']:+.1%}, MAPE "
        f"{s['mape']:.1%}, P10-P90 coverage {s['coverage']:.0%} "
        f"(target |bias| ≤ {BIAS_TARGET:.0%} and coverage ≥ {COVERAGE_TARGET:.0%}: {met})"
    )
