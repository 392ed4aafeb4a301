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
    from cbm_sim.results.frames import Results
    from cbm_sim.scenario.model import Scenario
    from cbm_sim.studies.ensemble import EnsembleResult

__all__ = ["main", "plan_group", "side_by_side"]

_STATUS_STYLE = {"ok": "green", "discrepancy": "bold red", "info": "cyan"}


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


def render_audit(frame: pd.DataFrame, console: Console, only: tuple[str, ...] = ()) -> None:
    """Print an audit frame as one rich table per check, then a one-line summary."""
    shown = frame[frame["status"].isin(only)] if only else frame
    for check, rows in shown.groupby("check", sort=False):
        table = Table(title=f"check: {check}", show_lines=True, expand=True)
        for col, kw in [
            ("status", {"no_wrap": True}),
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
            style = _STATUS_STYLE.get(row.status, "")
            table.add_row(
                f"[{style}]{row.status}[/]",
                row.subject,
                str(row.year),
                _num(row.stated),
                _num(row.computed),
                _num(row.difference),
                str(row.unit),
                row.ref,
                row.detail,
            )
        console.print(table)
    counts = frame["status"].value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "discrepancy", "info"))
    console.print(f"{len(frame)} findings over {frame['check'].nunique()} checks: {summary}")


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
    help="Show only findings with this status (repeatable); the summary counts all.",
)
def plan_audit(csv_path: Path | None, only: tuple[str, ...]) -> None:
    """Check the plan's internal consistency (sums, unit values, balances, years)."""
    from cbm_sim.plan.audit import audit

    frame = audit()
    render_audit(frame, Console(width=200), only)
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
    from cbm_sim.results.rundir import OutputExistsError
    from cbm_sim.scenario.files import ScenarioError

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
        from cbm_sim.results.rundir import check_target, staged_directory, write_run
        from cbm_sim.scenario.files import load_scenario

        scenario = load_scenario(scenario_file)
        if seed is not None:
            scenario = scenario.model_copy(update={"seed": seed})
        out = output if output is not None else Path("runs") / scenario.name
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


def _targets_of(source: Path, console: Console) -> tuple[str, pd.DataFrame]:
    """Name and target check of a results directory (its targets.csv) or a scenario file."""
    if source.is_dir():
        csv = source / "targets.csv"
        if not csv.is_file():
            from cbm_sim.scenario.files import Problem, ScenarioError

            raise ScenarioError(
                [Problem(str(source), None, "", "no targets.csv: not a run directory")]
            )
        meta = source / "meta.json"
        name = (
            json.loads(meta.read_text(encoding="utf-8")).get("scenario") if meta.is_file() else None
        )
        return str(name or source.name), pd.read_csv(csv, keep_default_na=False, na_values=[""])
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.scenario.files import load_scenario

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
    from cbm_sim.scenario.model import Scenario

    text = json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")


def _load_results(source: Path, console: Console) -> Results:
    """Results from a ``run -o`` directory, or from running a scenario file."""
    from cbm_sim.results.frames import Results as _Results
    from cbm_sim.scenario.files import load_scenario

    if source.is_dir():
        return _Results.from_parquet(source)  # with the run's scenario.yaml: its prices
    return _simulate(load_scenario(source), console)


def _load_ensemble(directory: Path):
    from cbm_sim.report.charts import EnsembleFrames

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
        from cbm_sim.report.pdf import write_report

        results = _load_results(source, console)
        output.parent.mkdir(parents=True, exist_ok=True)
        path = write_report(results, output, lang=lang, ensemble=ensemble)
        click.echo(f"wrote {path}")


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
    from rich.console import Console
    from rich.progress import Progress as Bar

    from cbm_sim.scenario import load_scenario
    from cbm_sim.studies.ensemble import run_ensemble

    scenario = load_scenario(scenario_file)
    console = Console(stderr=True)
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
    out_dir = result.to_dir(out, overwrite=overwrite)
    if with_tornado:
        from cbm_sim.studies.sensitivity import tornado

        years = [y for y in (2025, 2030) if y <= scenario.horizon.end.year]
        tornado(scenario, years=years, workers=1).to_csv(out_dir / "tornado.csv", index=False)
    _print_ensemble_summary(result, Console())
    click.echo(
        f"{len(result.members['member'].unique())} of {n} members ran, "
        f"{len(result.failures)} failed; written to {out}"
    )
    for row in result.failures.itertuples(index=False):
        click.echo(f"member {row.member} failed: {row.error}", err=True)


def _print_ensemble_summary(result: EnsembleResult, console: Console) -> None:
    from rich.table import Table

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
