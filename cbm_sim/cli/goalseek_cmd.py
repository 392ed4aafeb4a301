"""``cbm-sim goal-seek``: the smallest lever multiplier that reaches a target."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from cbm_sim.cli.app import (
    _BAD_INPUT,
    _debug_option,
    _reported,
    main,
    output_option,
    progress_bar,
)
from cbm_sim.cli.ensemble_cmd import GOAL_SEEK_LEVERS


def _parse_target(ctx: click.Context, param: click.Parameter, text: str) -> tuple[int, float]:
    """``YEAR:VALUE`` (e.g. ``2025:500``) → (2025, 500.0)."""
    year, sep, value = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(year), float(value)
    except ValueError:
        raise click.BadParameter(
            f"expected YEAR:VALUE such as 2025:500 (亿元), got {text!r}"
        ) from None


_LEVER_MEANING = {
    "drilling": "every block's wells per year (and its rigs) × the multiplier",
    "peak_rate": "type_curves.peak_rate_scale = the multiplier",
    "price": "every price path of the valuation × the multiplier",
}


@main.command("goal-seek")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--target",
    "target",
    required=True,
    callback=_parse_target,
    help="YEAR:VALUE, e.g. 2025:500 (亿元; 亿m³ for a production --quantity)",
)
@click.option(
    "--lever",
    type=click.Choice(GOAL_SEEK_LEVERS),
    required=True,
    help="drilling (wells per year), peak_rate (type-curve peak) or price (all prices)",
)
@click.option("--low", type=float, default=0.5, show_default=True, help="lowest multiplier")
@click.option("--high", type=float, default=3.0, show_default=True, help="highest multiplier")
@click.option(
    "--quantity",
    default="output.total",
    show_default=True,
    help="plan id: output.total, output.<sub-cluster>, production.total|surface|underground",
)
@output_option("Also write the run found (as `run -o`) to this results directory.", False)
@click.option("--overwrite", is_flag=True, help="Replace an existing results directory.")
@_debug_option
def goal_seek_command(
    scenario_file: Path,
    target: tuple[int, float],
    lever: str,
    low: float,
    high: float,
    quantity: str,
    output: Path | None,
    overwrite: bool,
    debug: bool,
) -> None:
    """Find the smallest LEVER multiplier for which QUANTITY reaches the TARGET.

    Every input is checked before the first simulation. Exits 1 when the bounds cannot
    reach the target (the message says how close they come), 2 for bad input.
    """
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    from cbm_sim.scenario.files import load_scenario
    from cbm_sim.studies.goalseek import apply_lever, goal_problems, goal_seek, planned_wells
    from cbm_sim.studies.sensitivity import quantity_unit

    console = Console(stderr=True)
    year, value = target
    with _reported(debug):
        scenario = load_scenario(scenario_file)
        problems = goal_problems(scenario, year, value, lever, (low, high), quantity)
        if problems and debug:
            raise ValueError("; ".join(f"--{what}: {message}" for what, message in problems))
        if problems:
            for what, message in problems:
                click.echo(f"error: --{what}: {message}", err=True)
            sys.exit(_BAD_INPUT)
        if output is not None:
            from cbm_sim.results.rundir import check_target

            check_target(output, overwrite=overwrite)  # refuse before the search, not after
        unit = quantity_unit(quantity)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with progress_bar(console, *columns) as bar:
            task = bar.add_task(f"goal-seek {lever}: first run", total=None)
            runs = 0

            def step(x: float, achieved: float) -> None:
                nonlocal runs
                runs += 1
                bar.update(
                    task,
                    description=f"goal-seek {lever}: run {runs}, {lever} = {x:.4g} gives "
                    f"{achieved:,.2f} {unit} (target {value:,.2f})",
                )

            result = goal_seek(
                scenario, year, value, lever, (low, high), quantity=quantity, on_evaluation=step
            )
        click.echo(
            f"{quantity} {year}: target {result.target:,.2f} {unit}; {lever} = {result.value:.4g} "
            f"({_LEVER_MEANING[lever]}) gives {result.achieved:,.2f} {unit} "
            f"({result.achieved - result.target:+,.2f} {unit})"
        )
        click.echo(result.message)
        if lever == "drilling":
            base = planned_wells(scenario, year)
            click.echo(
                f"implied new wells in {year}: {base * result.value:,.0f} a year "
                f"({base:,.0f} as written; before rig and reserve limits)"
            )
        if output is not None:
            from cbm_sim.cli.run_cmd import write_run_directory

            found = apply_lever(scenario, lever, result.value)
            found = found.model_copy(update={"name": f"{scenario.name}-{lever}-{result.value:.4g}"})
            write_run_directory(
                found, output, overwrite=overwrite, console=console, source=scenario_file
            )
            click.echo(f"wrote {output}")
        if not result.converged:
            sys.exit(1)
