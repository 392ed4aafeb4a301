"""``cbm-sim goal-seek``: the smallest lever multiplier that reaches a target."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from cbm_sim.cli.app import main
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


@main.command("goal-seek")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--target",
    "target",
    required=True,
    callback=_parse_target,
    help="YEAR:VALUE, e.g. 2025:500 (亿元; 亿m3 for a production --quantity)",
)
@click.option("--lever", type=click.Choice(GOAL_SEEK_LEVERS), required=True)
@click.option("--low", type=float, default=0.5, show_default=True, help="lowest multiplier")
@click.option("--high", type=float, default=3.0, show_default=True, help="highest multiplier")
@click.option("--quantity", default="output.total", show_default=True, help="plan id")
def goal_seek_command(
    scenario_file: str,
    target: tuple[int, float],
    lever: str,
    low: float,
    high: float,
    quantity: str,
) -> None:
    """Find the smallest LEVER multiplier for which QUANTITY reaches the TARGET.

    Exits 1 when the bounds cannot reach the target (the message says how close they come).
    """
    from cbm_sim.scenario import load_scenario
    from cbm_sim.studies.goalseek import goal_seek

    year, value = target
    result = goal_seek(
        load_scenario(scenario_file), year, value, lever, (low, high), quantity=quantity
    )
    click.echo(result.message)
    if not result.converged:
        raise SystemExit(1)
