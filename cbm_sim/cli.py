"""The ``cbm-sim`` command line (click). Subcommands live in groups: ``cbm-sim plan …``."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from cbm_sim.results import Results
    from cbm_sim.scenario import Scenario

__all__ = ["main", "plan_group", "side_by_side"]

_SEVERITY_STYLE = {
    "error": "bold red",
    "inconsistency": "red",
    "rounding": "yellow",
    "note": "cyan",
    "ok": "green",
}


@click.group()
@click.version_option(package_name="cbm-sim")
def main() -> None:
    """cbm-sim: planning simulator for the Jincheng coalbed-methane industry cluster."""


@main.group("plan")
def plan_group() -> None:
    """The plan 晋市政发〔2022〕28号 as data."""


def _num(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6g}"


def _value(x: float) -> str:
    """An output value in 亿元 for a table: one decimal, thousands separated."""
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.1f}"


def render_audit(
    frame: pd.DataFrame,
    console: Console,
    only: tuple[str, ...] = (),
    severities: tuple[str, ...] = (),
) -> None:
    """Print an audit frame as one rich table per check, then the counts by severity.

    Parameters
    ----------
    frame
        The findings (:func:`cbm_sim.audit.audit`).
    console
        Where to print.
    only
        Show only findings with one of these ``status`` values (``ok``, ``discrepancy``,
        ``info``: the coarse view of the severity); empty: all.
    severities
        Show only findings with one of these severities; empty: all. Both filters apply.
        The counts always cover every finding.
    """
    from cbm_sim.audit import SEVERITIES

    shown = frame[frame["status"].isin(only)] if only else frame
    shown = shown[shown["severity"].isin(severities)] if severities else shown
    for check, rows in shown.groupby("check", sort=False):
        table = Table(title=f"check: {check}", show_lines=True, expand=True)
        for col, kw in [
            ("severity", {"no_wrap": True}),
            ("subject", {"ratio": 2}),
            ("year", {"no_wrap": True}),
            ("stated", {"justify": "right"}),
            ("computed", {"justify": "right"}),
            ("difference", {"justify": "right"}),
            ("unit", {"no_wrap": True}),
            ("ref", {"ratio": 1, "overflow": "fold"}),
            ("detail", {"ratio": 5, "overflow": "fold"}),
        ]:
            table.add_column(col, **kw)
        for row in rows.itertuples(index=False):
            style = _SEVERITY_STYLE.get(row.severity, "")
            detail = row.detail
            if row.basis:
                detail += f"\n[dim]basis: {row.basis}[/]"
            table.add_row(
                f"[{style}]{row.severity}[/]",
                row.subject,
                str(row.year),
                _num(row.stated),
                _num(row.computed),
                _num(row.difference),
                str(row.unit),
                row.ref,
                detail,
            )
        console.print(table)
    counts = frame["severity"].value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)
    console.print(f"{len(frame)} findings over {frame['check'].nunique()} checks: {summary}")
    if len(shown) != len(frame):
        console.print(f"shown: {len(shown)} of {len(frame)}")


@plan_group.command("audit")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the findings to this CSV file (UTF-8).",
)
@click.option(
    "--status",
    "only",
    multiple=True,
    type=click.Choice(["ok", "discrepancy", "info"]),
    help=(
        "Show only findings with this coarse status (repeatable): discrepancy = error or "
        "inconsistency, info = note, ok = rounding or ok. The summary counts all."
    ),
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=click.Choice(["error", "inconsistency", "rounding", "note", "ok"]),
    help="Show only findings with this severity (repeatable); the summary counts all.",
)
def plan_audit(csv_path: Path | None, only: tuple[str, ...], severities: tuple[str, ...]) -> None:
    """Check the plan's internal consistency (sums, balances, physics, capacity, years).

    Each finding has a severity: error (the plan contradicts itself or physics),
    inconsistency (beyond rounding), rounding (within the stated precision), note (a derived
    figure worth a look) or ok.
    """
    from cbm_sim.audit import audit

    frame = audit()
    render_audit(frame, Console(width=200), only, severities)
    if csv_path is not None:
        frame.to_csv(csv_path, index=False, encoding="utf-8")
        click.echo(f"wrote {len(frame)} findings to {csv_path}")


# --- scenarios: run, validate, compare, schema ------------------------------------------

_BAD_INPUT = 2
"""Exit status for bad input (an invalid scenario, a refused output directory)."""
_TARGET_YEARS = (2025, 2030)


def _debug_option(func: Callable[..., None]) -> Callable[..., None]:
    return click.option("--debug", is_flag=True, help="On error, show the full Python traceback.")(
        func
    )


@contextmanager
def _reported(debug: bool) -> Iterator[None]:
    """Turn exceptions into one short message and an exit status (2 for bad input)."""
    from cbm_sim.outputs import OutputExistsError
    from cbm_sim.scenario_io import ScenarioError

    try:
        yield
    except (ScenarioError, OutputExistsError) as exc:
        if debug:
            raise
        click.echo(f"error: {exc}" if isinstance(exc, OutputExistsError) else str(exc), err=True)
        sys.exit(_BAD_INPUT)
    except KeyboardInterrupt:
        if debug:
            raise
        click.echo("interrupted; no results written", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(f"error: {type(exc).__name__}: {exc} (--debug shows the traceback)", err=True)
        sys.exit(1)


def _simulate(scenario: Scenario, console: Console) -> Results:
    """Run the simulation with a progress bar (on stderr, hidden when not a terminal)."""
    from cbm_sim.simulation import run

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


def _print_targets(targets: pd.DataFrame, console: Console, title: str) -> None:
    table = Table(title=title)
    for col in (
        "sub-cluster",
        *(f"{y} {k}" for y in _TARGET_YEARS for k in ("sim.", "target", "status")),
    ):
        left = col == "sub-cluster" or "status" in col
        table.add_column(col, justify="left" if left else "right", no_wrap=col == "sub-cluster")
    head = _headline(targets)
    for sub, rows in head.groupby("sub_cluster", sort=False):
        cells = [str(sub)]
        for year in _TARGET_YEARS:
            hit = rows[rows["year"] == year]
            if hit.empty:
                cells += ["", "", ""]
                continue
            r = hit.iloc[0]
            style = "green" if r["status"] == "met" else "bold red"
            cells += [f"{r['simulated']:,.1f}", f"{r['target']:,.1f}", f"[{style}]{r['status']}[/]"]
        table.add_row(*cells)
    console.print(table)
    for r in head[head["sub_cluster"] == "total"].itertuples(index=False):
        console.print(
            f"verdict {r.year}: {r.simulated:,.1f} of {r.target:,.1f} 亿元 "
            f"({r.gap_pct:+.1f} %) — {r.status}"
        )


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
@_debug_option
def run_command(
    scenario_file: Path, output: Path | None, seed: int | None, overwrite: bool, debug: bool
) -> None:
    """Simulate SCENARIO and write its results, target check and valuation.

    Writes annual.csv/.parquet, daily.parquet, events.parquet, targets.csv, valuation.csv,
    meta.json and scenario.yaml (see README, "Output contract"); prints the target verdict
    for 2025 and 2030. Bad input exits with status 2.
    """
    console = Console(stderr=True)
    with _reported(debug):
        from cbm_sim.outputs import check_target, staged_directory, write_run
        from cbm_sim.scenario import load_scenario

        scenario = load_scenario(scenario_file)
        if seed is not None:
            scenario = scenario.model_copy(update={"seed": seed})
        out = output if output is not None else Path("runs") / scenario.name
        check_target(out, overwrite=overwrite)  # refuse before a long run, not after
        from cbm_sim.targets import check_targets
        from cbm_sim.valuation import value

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
        _print_targets(targets, Console(), f"{scenario.name}: output value vs the plan (亿元)")
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
    from cbm_sim.scenario import load_scenario
    from cbm_sim.scenario_io import ScenarioError

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


def _targets_of(source: Path, console: Console) -> tuple[str, pd.DataFrame]:
    """Name and target check of a results directory (its targets.csv) or a scenario file."""
    if source.is_dir():
        csv = source / "targets.csv"
        if not csv.is_file():
            from cbm_sim.scenario_io import Problem, ScenarioError

            raise ScenarioError(
                [Problem(str(source), None, "", "no targets.csv: not a run directory")]
            )
        meta = source / "meta.json"
        name = (
            json.loads(meta.read_text(encoding="utf-8")).get("scenario") if meta.is_file() else None
        )
        return str(name or source.name), pd.read_csv(csv, keep_default_na=False, na_values=[""])
    from cbm_sim.scenario import load_scenario
    from cbm_sim.targets import check_targets

    scenario = load_scenario(source)
    return scenario.name, check_targets(_simulate(scenario, console))


def side_by_side(named: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per (year, sub_cluster, item, target); simulated, gap_pct, status per name."""
    keys = ["year", "sub_cluster", "item", "target"]
    wide: pd.DataFrame | None = None
    for name, frame in named:
        part = frame.loc[:, [*keys, "simulated", "gap_pct", "status"]]
        part = part.rename(columns={c: f"{name}: {c}" for c in ("simulated", "gap_pct", "status")})
        wide = part if wide is None else wide.merge(part, on=keys, how="outer")
    if wide is None:
        raise ValueError("side_by_side needs at least one (name, targets) pair")
    return wide.sort_values(["year", "sub_cluster", "item"], kind="stable").reset_index(drop=True)


@main.command("compare")
@click.argument("sources", metavar="A B ...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))  # fmt: skip
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full side-by-side table to this CSV file.",
)
@_debug_option
def compare_command(sources: tuple[Path, ...], output: Path | None, debug: bool) -> None:
    """Compare scenarios (files, which are run) or run directories against the targets.

    Prints the totals and sub-clusters for 2025 and 2030 side by side; -o writes every row.
    """
    console = Console(stderr=True)
    with _reported(debug):
        named: list[tuple[str, pd.DataFrame]] = []
        for source in sources:
            name, frame = _targets_of(source, console)
            taken = {n for n, _ in named}
            unique = name if name not in taken else f"{name} ({len(named) + 1})"
            named.append((unique, frame))
        wide = side_by_side(named)
        head = wide[_is_total(wide) & wide["year"].isin(_TARGET_YEARS)]
        table = Table(title="output value vs the plan (亿元)")
        for col in ("year", "sub_cluster", "target", *(f"{n}: simulated" for n, _ in named)):
            table.add_column(col, justify="left" if col == "sub_cluster" else "right")
        for _, r in head.iterrows():
            cells = [str(r["year"]), str(r["sub_cluster"]), _value(r["target"])]
            table.add_row(*cells, *(_value(r[f"{n}: simulated"]) for n, _ in named))
        Console().print(table)
        if output is not None:
            wide.to_csv(output, index=False, encoding="utf-8")
            click.echo(f"wrote {len(wide)} rows to {output}")


@main.command("schema")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def schema_command(output: Path | None) -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    from cbm_sim.scenario import Scenario

    text = json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")


def _load_results(source: Path, console: Console) -> Results:
    """Results from a ``run -o`` directory, or from running a scenario file."""
    from cbm_sim.results import Results as _Results
    from cbm_sim.scenario import load_scenario

    if source.is_dir():
        return _Results.from_parquet(source)  # with the run's scenario.yaml: its prices
    return _simulate(load_scenario(source), console)


def _load_ensemble(directory: Path):
    from cbm_sim.charts import EnsembleFrames

    missing = [n for n in ("percentiles.csv", "probabilities.csv") if not (directory / n).is_file()]
    if missing:
        raise click.BadParameter(
            f"{directory} is not a cbm-sim ensemble directory (missing {', '.join(missing)})",
            param_hint="--ensemble",
        )
    tornado = directory / "tornado.csv"
    return EnsembleFrames(
        percentiles=pd.read_csv(directory / "percentiles.csv"),
        probabilities=pd.read_csv(directory / "probabilities.csv"),
        tornado=pd.read_csv(tornado) if tornado.is_file() else None,
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
    help="An `cbm-sim ensemble -o` directory: adds fan charts and target probabilities.",
)
@_debug_option
def report_command(
    source: Path, output: Path, lang: str, ensemble_dir: Path | None, debug: bool
) -> None:
    """Write the PDF report of a results directory (from `run -o`) or of a scenario file."""
    console = Console(stderr=True)
    ensemble = _load_ensemble(ensemble_dir) if ensemble_dir is not None else None
    with _reported(debug):
        from cbm_sim.report import write_report

        results = _load_results(source, console)
        output.parent.mkdir(parents=True, exist_ok=True)
        path = write_report(results, output, lang=lang, ensemble=ensemble)
        click.echo(f"wrote {path}")


def _register_uncertainty_commands() -> None:
    from cbm_sim.ensemble import ensemble_command
    from cbm_sim.goalseek import goal_seek_command

    main.add_command(ensemble_command)
    main.add_command(goal_seek_command)


_register_uncertainty_commands()
