"""``cbm-sim run``, ``validate`` and ``schema``: one scenario, from file to run directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from cbm_sim.results.frames import Results
    from cbm_sim.scenario.model import Scenario

from cbm_sim.cli.app import (
    _BAD_INPUT,
    _TARGET_YEARS,
    _debug_option,
    _refuse_existing_file,
    _reported,
    main,
)


def _simulate(scenario: Scenario, console: Console) -> Results:
    """Run the simulation with a progress bar (on stderr, hidden when not a terminal)."""
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from cbm_sim.results.simulate import run

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"simulating {scenario.name}", total=1.0)
        return run(scenario, progress=lambda done: bar.update(task, completed=done))


def _is_total(frame: pd.DataFrame) -> pd.Series:
    """Rows of the cluster total and the sub-cluster totals (``item`` empty or "total")."""
    item = frame["item"]
    return item.isna() | item.astype(str).isin(["", "total"])


def _headline(targets: pd.DataFrame) -> pd.DataFrame:
    """Total and sub-cluster rows of the target years, cluster total first."""
    rows = targets[_is_total(targets) & targets["year"].isin(_TARGET_YEARS)].copy()
    rows["_order"] = (rows["sub_cluster"] != "total").astype(int)
    return rows.sort_values(["_order", "sub_cluster", "year"]).drop(columns="_order")


_COLUMNS = ("sub-cluster", "sim.", "exog.", "w/o exog.", "target", "status", "w/o exog.")
"""Columns of the verdict table of one year: the simulated value, its exogenous (not
simulated) part, the value without it, the target, and the status with and without it."""


def _status_cell(status: str) -> str:
    style = "green" if status == "met" else "bold red"
    return f"[{style}]{status}[/]"


def _print_targets(targets: pd.DataFrame, console: Console, title: str) -> None:
    """Per target year, the cluster and sub-cluster verdicts with and without the exogenous
    (not simulated) items; then one verdict line per year. A target check written before
    the exogenous columns existed prints without them."""
    from rich.table import Table

    head = _headline(targets)
    split = "status_excl_exogenous" in head.columns
    for year in _TARGET_YEARS:
        rows = head[head["year"] == year]
        if rows.empty:
            continue
        table = Table(title=f"{title}, {year}")
        for k, col in enumerate(_COLUMNS):
            left = k == 0 or k >= 5
            table.add_column(col, justify="left" if left else "right", no_wrap=k == 0)
        for _, r in rows.iterrows():
            table.add_row(
                str(r["sub_cluster"]),
                f"{r['simulated']:,.1f}",
                f"{r['exogenous']:,.1f}" if split else "",
                f"{r['simulated_excl_exogenous']:,.1f}" if split else "",
                f"{r['target']:,.1f}",
                _status_cell(str(r["status"])),
                _status_cell(str(r["status_excl_exogenous"])) if split else "",
            )
        console.print(table)
    for _, r in head[head["sub_cluster"] == "total"].iterrows():
        line = (
            f"verdict {r['year']}: {r['simulated']:,.1f} of {r['target']:,.1f} 亿元 "
            f"({r['gap_pct']:+.1f} %) — {r['status']}"
        )
        if split:
            line += (
                f"; without the exogenous {r['exogenous']:,.1f}: "
                f"{r['simulated_excl_exogenous']:,.1f} — {r['status_excl_exogenous']}"
            )
        console.print(line)


def _default_output(name: str) -> Path:
    """``runs/<name>``; refuses a name that would lead elsewhere (the model forbids those)."""
    from cbm_sim.results.rundir import OutputExistsError

    runs = Path("runs")
    out = runs / name
    if out.parent != runs or name in ("", ".", ".."):
        raise OutputExistsError(f"scenario name {name!r} would write outside {runs}/; use -o")
    return out


@main.command("run")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results directory (default: runs/<scenario name>). Written whole or not at all.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Override the scenario's seed.")
@click.option("--overwrite", is_flag=True, help="Replace an existing results directory.")
@click.option(
    "--robustness",
    "with_robustness",
    is_flag=True,
    help="Also swing each assumption to its stated low/high (robustness.csv, as `robustness`).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes for --robustness (1 = no Dask).",
)
@_debug_option
def run_command(
    scenario_file: Path,
    output: Path | None,
    seed: int | None,
    overwrite: bool,
    with_robustness: bool,
    workers: int,
    debug: bool,
) -> None:
    """Simulate SCENARIO and write its results, target check and valuation.

    Writes annual.csv/.parquet, daily.parquet, events.parquet, targets.csv, valuation.csv,
    meta.json and scenario.yaml (see README, "Output contract"); prints the target verdict
    for 2025 and 2030, with and without the exogenous items. With --robustness, also
    robustness.csv and the assumptions that flip each verdict. Bad input exits with status 2.
    """
    from rich.console import Console

    console = Console(stderr=True)
    with _reported(debug):
        from cbm_sim.results.rundir import check_target, staged_directory, write_run
        from cbm_sim.scenario.files import load_scenario

        scenario = load_scenario(scenario_file)
        if seed is not None:
            scenario = scenario.model_copy(update={"seed": seed})
        out = output if output is not None else _default_output(scenario.name)
        check_target(out, overwrite=overwrite)  # refuse before a long run, not after
        from cbm_sim.economics.targets import check_targets
        from cbm_sim.economics.valuation import value

        with staged_directory(out, overwrite=overwrite) as stage:
            results = _simulate(scenario, console)
            targets = check_targets(results)
            write_run(
                stage,
                results,
                targets=targets,
                valuation=value(results),
                extra_meta={"scenario_file": str(scenario_file)},
            )
            table = None
            if with_robustness:
                from cbm_sim.cli.robustness_cmd import ROBUSTNESS_FILE
                from cbm_sim.studies.robustness import robustness

                table = robustness(scenario, workers=workers, base_results=results)
                table.to_csv(stage / ROBUSTNESS_FILE, index=False, encoding="utf-8")
        _print_targets(targets, Console(), f"{scenario.name}: output value vs the plan (亿元)")
        if table is not None:
            from cbm_sim.cli.robustness_cmd import print_flips

            print_flips(table, Console(), f"{scenario.name}: what flips the verdict (亿元)")
        click.echo(f"wrote {out}")


@main.command("validate")
@click.argument("scenario_files", metavar="SCENARIO...", nargs=-1, required=True,
                type=click.Path(path_type=Path))  # fmt: skip
@_debug_option
def validate_command(scenario_files: tuple[Path, ...], debug: bool) -> None:
    """Check scenario files (with their extends chains) without running them.

    Prints one line per problem (file:line: field: what was expected); exits with status 2
    if any file is invalid.
    """
    from cbm_sim.scenario.files import ScenarioError, load_scenario

    bad = 0
    for path in scenario_files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            if debug:
                raise
            bad += 1
            click.echo(str(exc), err=True)
        else:
            click.echo(f"ok: {path} ({scenario.name})")
    if bad:
        sys.exit(_BAD_INPUT)


@main.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option("--overwrite", is_flag=True, help="Replace the -o file if it exists.")
@_debug_option
def schema_command(output: Path | None, overwrite: bool, debug: bool) -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    from cbm_sim.scenario.model import Scenario

    with _reported(debug):
        text = json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2)
        if output is None:
            click.echo(text)
        else:
            _refuse_existing_file(output, overwrite)
            output.write_text(text + "\n", encoding="utf-8")
            click.echo(f"wrote {output}")
