"""``cbm-sim ensemble``: a Monte Carlo ensemble of a scenario (Dask imported only when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from cbm_sim.studies.ensemble import EnsembleResult

from cbm_sim.cli.app import (
    BadInput,
    _debug_option,
    _reported,
    check_count,
    main,
    output_option,
    overwrite_option,
    progress_bar,
    scheduler_option,
)

# -- uncertainty: the study modules (scipy, dask) are imported only when a command runs --

GOAL_SEEK_LEVERS = ("drilling", "peak_rate", "price")
"""The levers of ``goal-seek`` (as ``studies.goalseek.LEVERS``; a test keeps them equal)."""


@main.command("ensemble")
@click.argument("scenario_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-n",
    "--members",
    "n",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="members (at most 100,000: bounds.study_runs)",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    show_default="one per CPU",
    help="local worker processes (1 = in this process, no Dask)",
)
@scheduler_option
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="root seed (default: the scenario's)"
)
@output_option("Directory for the ensemble's summaries (see README, Output contract).", True)
@overwrite_option
@click.option(
    "--tornado/--no-tornado",
    "with_tornado",
    default=True,
    show_default=True,
    help="also swing each uncertain input between its P10 and P90 (tornado.csv)",
)
@click.option(
    "--step-days",
    type=click.IntRange(min=1, max=31),
    default=None,
    help="dispatch step [days] instead of the scenario's (e.g. 30 for a quick ensemble)",
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
    step_days: int | None,
    debug: bool,
) -> None:
    """Run an N-member Monte Carlo ensemble of SCENARIO_FILE and write its summaries.

    Samples the scenario's `uncertainty` section (and its `correlations`). Prints P10/P50/P90
    of production and total value and, for every target of the target check (targets.csv),
    the probability of meeting it with its Monte Carlo standard error, its 95 % Wilson
    interval and the members a ±0.05 interval would need; writes members, statuses,
    percentiles.csv, probabilities.csv, failures.csv, tornado.csv and spread.csv (the
    P10–P90 of the total against the one-at-a-time swings; both unless --no-tornado) into
    the output directory, checked before any member runs.
    """
    from cbm_sim.results.rundir import check_target
    from cbm_sim.scenario import load_scenario
    from cbm_sim.studies import journal
    from cbm_sim.studies.ensemble import (
        MEASURES,
        SchedulerError,
        TooFewMembersError,
        check_enough,
        failure_reasons,
        run_ensemble,
    )

    with _reported(debug):
        check_count("study_runs", n, "members", "'-n' / '--members'")
        scenario = load_scenario(scenario_file)
        if step_days is not None:
            horizon = scenario.horizon.model_copy(update={"step_days": step_days})
            scenario = scenario.model_copy(update={"horizon": horizon})
        out_dir = output
        check_target(out_dir, overwrite=overwrite)  # before any member runs, not after
        asked = click.get_current_context().get_parameter_source("with_tornado")
        explicit = asked == click.core.ParameterSource.COMMANDLINE and with_tornado
        if explicit and not scenario.uncertainty:  # the default skips the tornado quietly
            raise click.BadParameter(
                f"{scenario_file} has no uncertainty entries to swing", param_hint="'--tornado'"
            )
        root = scenario.seed if seed is None else seed
        kept = journal.journal_dir(out_dir, scenario, root, MEASURES)
        console = Console(stderr=True)
        try:
            with progress_bar(console) as bar:
                task = bar.add_task(f"ensemble of {n}", total=1.0)
                result = run_ensemble(
                    scenario,
                    n,
                    workers=workers,
                    scheduler=scheduler,
                    seed=root,
                    progress=lambda f: bar.update(task, completed=f),
                    journal=kept,
                    notify=lambda line: click.echo(line, err=True),
                )
        except (KeyboardInterrupt, SchedulerError) as exc:
            if not kept.is_dir():
                raise
            note = (
                f"{len(list(kept.glob('member-*.json')))} finished members kept in {kept}; "
                "the same command resumes from them"
            )  # one line with the reason: the interruption's, or the scheduler's
            raise type(exc)(f"{exc}; {note}" if str(exc) else note) from None
        try:
            check_enough(result)
        except TooFewMembersError as exc:
            journal.remove(kept)  # the same members would fail again
            raise BadInput(str(exc)) from None

        def add_tornado(stage: Path) -> None:
            # written into the staging folder, so the checksums of meta.json cover them
            if with_tornado and scenario.uncertainty:
                from cbm_sim.studies.sensitivity import tornado
                from cbm_sim.units import to_planner

                years = [y for y in (2025, 2030) if y <= scenario.horizon.end.year]
                with progress_bar(console) as bar:
                    task = bar.add_task("tornado", total=1.0)
                    swings = tornado(
                        scenario,
                        years=years,
                        workers=workers,
                        scheduler=scheduler,
                        progress=lambda f: bar.update(task, completed=f),
                    )
                planner = to_planner(swings, ("low_value", "high_value", "base"))
                planner.to_csv(stage / "tornado.csv", index=False, encoding="utf-8")
                if "output.total" in result.members:
                    _print_spread(result, swings, stage)

        result.to_dir(out_dir, overwrite=overwrite, extra=add_tornado)
        journal.remove(kept)
    _print_ensemble_summary(result, Console())
    click.echo(
        f"{len(result.members['member'].unique())} of {n} members ran, "
        f"{len(result.failures)} failed; written to {output}"
    )
    if not result.failures.empty:
        click.echo(
            f"{len(result.failures)} of {n} members failed (see failures.csv): "
            f"{failure_reasons(result.failures)}",
            err=True,
        )


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
    table = Table(title="P(meet target): share of members, Monte Carlo error")
    for col in ("year", "target", "P", "± s.e.", "95 % Wilson", "n for ±0.05"):
        if col == "target":
            table.add_column(col, justify="left", overflow="fold", min_width=24)
        else:
            table.add_column(col, justify="right")
    for r in prob.itertuples(index=False):
        table.add_row(
            str(r.year),
            r.target,
            f"{r.probability:.2f}",
            f"{r.std_error:.2f}",
            f"{r.wilson_low:.2f}–{r.wilson_high:.2f}",
            str(r.members_for_0_05),
        )
    console.print(table)
    for r in prob[prob["target"].isin(["output.total", "production.total"])].itertuples():
        console.print(
            f"P(meet {r.target} {r.year}) = {r.probability:.2f} ± {r.std_error:.2f} (MC s.e.; "
            f"95 % Wilson {r.wilson_low:.2f}–{r.wilson_high:.2f}; {r.members} members, "
            f"{r.members_for_0_05} needed for ±0.05)"
        )


def _print_spread(result: EnsembleResult, swings: pd.DataFrame, out_dir: Path) -> None:
    """The ensemble's P10–P90 of the total against the one-at-a-time swings (tornado, in
    base units), printed and written to ``spread.csv``."""
    import pandas as pd

    from cbm_sim.studies.sensitivity import spread_versus_swings

    rows = []
    for year in sorted(set(swings["year"])):
        got = spread_versus_swings(result.members, swings, int(year))
        rows.append(got)
        yi = {k: float(v) / 1e8 for k, v in got.items() if isinstance(v, int | float)}
        click.echo(
            f"output.total {year}: ensemble P10–P90 {yi['p10']:,.1f}–{yi['p90']:,.1f}"
            f" 亿元 (width {yi['width']:,.1f}) vs one-at-a-time swings: largest "
            f"{yi['largest_swing']:,.1f} ({got['largest_input']}), envelope width "
            f"{yi['envelope_width']:,.1f}, root sum of squares {yi['rss_swing']:,.1f}"
        )
    money = ["p10", "p90", "width", "largest_swing", "envelope_low", "envelope_high"]
    money += ["envelope_width", "rss_swing"]
    frame = pd.DataFrame(rows)
    frame[money] = frame[money] / 1e8  # CSVs in the plan's units (README, Output contract)
    frame.insert(frame.columns.get_loc("p10"), "unit", "亿元")
    frame.to_csv(out_dir / "spread.csv", index=False, encoding="utf-8")
