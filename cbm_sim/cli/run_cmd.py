"""``cbm-sim run``, ``validate`` and ``schema``: one scenario, from file to run directory."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from cbm_sim.results.frames import Results
    from cbm_sim.scenario.model import Scenario

from cbm_sim.cli.app import (
    _BAD_INPUT,
    _TARGET_YEARS,
    BadInput,
    _debug_option,
    _reported,
    _signed,
    _status_cell,
    main,
    output_option,
    overwrite_option,
    progress_bar,
)


def _simulate(scenario: Scenario, console: Console) -> Results:
    """Run the simulation with a progress bar (on stderr, hidden when not a terminal)."""
    from cbm_sim.results.simulate import run
    from cbm_sim.wells import blocksplit, jitload

    jitload.prepare()  # before the kernels load: spares the run scipy.linalg
    # one run in this process: its block kernels may use a second core (the same bits)
    with blocksplit.split_blocks(_cores()):
        if not console.is_terminal:  # no bar to show (progress_bar): no rich.progress
            return run(scenario, progress=lambda done: None)
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        )
        with progress_bar(console, *columns) as bar:
            task = bar.add_task(f"simulating {scenario.name}", total=1.0)
            return run(scenario, progress=lambda done: bar.update(task, completed=done))


def _cores() -> int:
    """Threads for the run's block kernels: 2 where this process may use 2 cores, else 1."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    return 2 if cores >= 2 else 1


def _is_total(frame: pd.DataFrame) -> pd.Series:
    """Rows of the cluster total and the sub-cluster totals (``item`` empty or "total")."""
    item = frame["item"]
    return item.isna() | item.astype(str).isin(["", "total"])


def _headline(targets: pd.DataFrame) -> pd.DataFrame:
    """Total and sub-cluster rows of the target years, cluster total first."""
    rows = targets[_is_total(targets) & targets["year"].isin(_TARGET_YEARS)].copy()
    rows["_order"] = (rows["sub_cluster"] != "total").astype(int)
    return rows.sort_values(["_order", "sub_cluster", "year"]).drop(columns="_order")


_COLUMNS = (
    "sub-cluster", "sim.", "exog.", "w/o exog.", "target", "status", "w/o exog.", "basis"
)  # fmt: skip
"""Columns of the verdict table of one year: the simulated value, its exogenous (not
simulated) part, the value without it, the target, the status with and without it, and what
the figure is (``economics.targets.mark``: input, exogenous, computed + exogenous; a cap)."""


def _mark(row: pd.Series) -> str:
    """The row's basis and target-kind mark; empty for a target check written before them."""
    from cbm_sim.economics.targets import mark

    if "basis" not in row.index or not isinstance(row["basis"], str):
        return ""
    return mark(str(row["basis"]), str(row["target_kind"]))


def _print_targets(targets: pd.DataFrame, console: Console, title: str) -> None:
    """Per target year, the cluster and sub-cluster verdicts with and without the exogenous
    (not simulated) items; then one verdict line per year. A target check written before
    the exogenous columns existed prints without them."""

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
                _mark(r),
            )
        console.print(table)
    _print_physical(targets, console)
    for _, r in head[head["sub_cluster"] == "total"].iterrows():
        line = (
            f"verdict {r['year']}: {r['simulated']:,.1f} of {r['target']:,.1f} 亿元 "
            f"({_signed(r['gap_pct'])} %) — {r['status']}"
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


def _print_physical(targets: pd.DataFrame, console: Console) -> None:
    """The plan's physical targets (production, LNG, pipelines, local use …) of 2025/2030."""
    rows = targets[(targets["sub_cluster"] == "physical") & targets["year"].isin(_TARGET_YEARS)]
    if rows.empty:
        return

    table = Table(
        title="physical targets: simulated / plan (the plan's units); basis: input = the "
        "scenario's own figure passed on, cap = a ceiling, floor = a minimum"
    )
    table.add_column("target", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for y in _TARGET_YEARS:
        table.add_column(str(y), justify="right", no_wrap=True)
    table.add_column("basis", no_wrap=True)
    # one pass over the rows (a boolean filter per target and year cost ≈ 0.07 s of a run)
    by_item: dict[str, dict[int, pd.Series]] = {}
    for _, row in rows.iterrows():
        by_item.setdefault(row["item"], {}).setdefault(int(row["year"]), row)
    for plan_id, years in by_item.items():
        cells = [str(plan_id), str(next(iter(years.values()))["unit"])]
        marks: dict[int, str] = {}
        for year in _TARGET_YEARS:
            r = years.get(year)
            if r is None:
                cells.append("")
                continue
            tick = "[green]✓[/]" if r["status"] == "met" else "[bold red]✗[/]"
            marks[year] = _mark(r)
            cells.append(f"{_short_num(r['simulated'])} / {_short_num(r['target'])} {tick}")
        distinct = set(marks.values())
        cells.append(
            distinct.pop()
            if len(distinct) == 1
            else "; ".join(f"{y}: {m or 'computed'}" for y, m in marks.items())
        )
        table.add_row(*cells)
    console.print(table)


def _short_num(x: float) -> str:
    """Two decimals below 10, one below 1000, none above: the plan's own precision."""
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}"


@main.command("run")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@output_option(
    "Results directory (default: runs/<scenario name>). Written whole or not at all.", False
)
@click.option("--seed", type=click.IntRange(min=0), help="Override the scenario's seed.")
@overwrite_option
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
@click.option(
    "--ensemble",
    "ensemble_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An ensemble folder of the same scenario (cbm-sim ensemble -o DIR): print its P50 "
    "and P10-P90 beside this as-written run.",
)
@_debug_option
def run_command(
    scenario_file: Path,
    output: Path | None,
    seed: int | None,
    overwrite: bool,
    with_robustness: bool,
    workers: int,
    ensemble_dir: Path | None,
    debug: bool,
) -> None:
    """Simulate SCENARIO and write its results, target check and valuation.

    Writes annual.csv/.parquet, daily.parquet, events.parquet, targets.csv, valuation.csv,
    meta.json and scenario.yaml (see README, "Output contract"); prints the target verdict
    for 2025 and 2030, with and without the exogenous items. The single run is the
    as-written run: one seed, every uncertain input as the scenario states it; with
    --ensemble DIR the ensemble's P50 and P10-P90 are printed beside it. With --robustness,
    also robustness.csv and the assumptions that flip each verdict. Bad input exits with
    status 2.
    """

    console = Console(stderr=True)
    with _reported(debug):
        from cbm_sim.scenario.files import load_scenario

        scenario = load_scenario(scenario_file)
        if seed is not None:
            scenario = scenario.model_copy(update={"seed": seed})
        percentiles = None if ensemble_dir is None else read_percentiles(ensemble_dir)
        out = output if output is not None else _default_output(scenario.name)
        # at least 110 columns: the tables carry a basis column (piped output defaults to 80)
        wide = Console(width=max(Console().width, 110))
        title = f"{scenario.name}, as-written run: output value vs the plan (亿元)"
        verdict = _VerdictTables(wide, title)
        targets, table, backtest = write_run_directory(
            scenario,
            out,
            overwrite=overwrite,
            console=console,
            source=scenario_file,
            robustness_workers=workers if with_robustness else None,
            on_checked=verdict.render,
        )
        verdict.print(targets)
        if percentiles is not None:
            print_centre(targets, percentiles, wide, str(ensemble_dir))
        if backtest is not None:
            click.echo(backtest_line(backtest))
        if table is not None:
            from cbm_sim.cli.robustness_cmd import print_flips

            print_flips(table, Console(), f"{scenario.name}: what flips the verdict (亿元)")
        click.echo(f"wrote {out}")


class _VerdictTables:
    """The verdict tables of ``run`` (:func:`_print_targets`), rendered while the run folder
    is still being written and printed once it is in place.

    Rendering the rich tables (≈ 0.08 s) overlaps the Parquet thread of the run folder
    (:class:`cbm_sim.results.rundir.FrameFiles`); the text is printed only after the folder
    is written, as before, and is the same (rich's capture renders as its print writes).
    """

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.text: str | None = None

    def render(self, targets: pd.DataFrame) -> None:
        """Render the tables of ``targets`` into :attr:`text` (nothing printed yet)."""
        if self.console.legacy_windows:  # pragma: no cover - a Windows console: printed live
            return
        with self.console.capture() as capture:
            _print_targets(targets, self.console, self.title)
        self.text = capture.get()

    def print(self, targets: pd.DataFrame) -> None:
        """Print the rendered tables (or render and print them now, if none were)."""
        if self.text is None:
            _print_targets(targets, self.console, self.title)
            return
        self.console.file.write(self.text)
        self.console.file.flush()


def write_run_directory(
    scenario: Scenario,
    out: Path,
    *,
    overwrite: bool,
    console: Console,
    source: Path,
    robustness_workers: int | None = None,
    extra_meta: dict[str, object] | None = None,
    on_checked: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Simulate ``scenario`` and write its run directory ``out`` whole (as ``run -o``).

    With ``robustness_workers`` (not None), also the "what flips it" table of the run
    (``robustness.csv``, :func:`cbm_sim.studies.robustness.robustness`) on that many workers.
    ``extra_meta`` adds to ``meta.json`` (goal-seek records its search there).
    ``on_checked`` is called with the target check as soon as it is made, while the
    Parquet files are still being written (``run`` renders its tables then).

    Returns
    -------
    tuple of pandas.DataFrame
        The target check of the run, the robustness table (None without one) and the 2021
        valuation backtest (:func:`cbm_sim.economics.valuation.backtest_2021`; None when the
        run does not simulate 2021).

    Raises
    ------
    OutputExistsError
        Before simulating, if ``out`` exists and may not be replaced.
    """
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.economics.valuation import backtest_2021, value
    from cbm_sim.results import integrity
    from cbm_sim.results.rundir import check_target, frame_files, staged_directory, write_run

    check_target(out, overwrite=overwrite)  # refuse before a long run, not after
    with staged_directory(out, overwrite=overwrite) as stage:
        results = _simulate(scenario, console)
        # the daily and event Parquet files are written on a thread from here on, beside
        # the valuation, the target check and the other files (rundir.FrameFiles)
        with frame_files(stage, results) as frames:
            values = value(results)
            targets = check_targets(results, values)
            simulates_2021 = bool((values["year"] == BACKTEST_YEAR).any())
            backtest = backtest_2021(results, values=values) if simulates_2021 else None
            if on_checked is not None:
                on_checked(targets)
            write_run(
                stage,
                results,
                targets=targets,
                valuation=values,
                extra_meta={"scenario_file": str(source), **(extra_meta or {})},
                frames=frames,
            )
        table = None
        if robustness_workers is not None:
            from cbm_sim.cli.robustness_cmd import ROBUSTNESS_FILE
            from cbm_sim.studies.robustness import SwingError, robustness

            try:
                table = robustness(scenario, workers=robustness_workers, base_results=results)
            except SwingError as exc:
                raise BadInput(str(exc)) from None
            table.to_csv(stage / ROBUSTNESS_FILE, index=False, encoding="utf-8")
            integrity.reseal(stage)  # meta.json vouches for robustness.csv too
    return targets, table, backtest


CENTRE_QUANTITIES = (
    ("output.total", "亿元"),
    ("production.total", "亿m3"),
    ("production.surface", "亿m3"),
)
"""What ``run --ensemble`` prints beside the as-written run (the ensemble's percentiles.csv
quantities, in the plan's units)."""


def read_percentiles(folder: Path) -> pd.DataFrame:
    """The ``percentiles.csv`` of an ensemble folder, verified against its ``meta.json``.

    Raises
    ------
    click.BadParameter
        Naming ``--ensemble``: not an ensemble folder, damaged, or without percentiles.
    """
    import pandas as pd

    from cbm_sim.results.integrity import verify

    try:
        meta = verify(folder, require=["percentiles.csv"])
    except Exception as exc:  # the integrity errors name the file at fault
        raise click.BadParameter(f"{folder}: {exc}", param_hint="'--ensemble'") from None
    if meta.get("kind") != "ensemble":
        raise click.BadParameter(
            f"{folder} is not an ensemble folder (meta.json kind {meta.get('kind')!r})",
            param_hint="'--ensemble'",
        )
    return pd.read_csv(folder / "percentiles.csv")


def print_centre(
    targets: pd.DataFrame, percentiles: pd.DataFrame, console: Console, source: str
) -> None:
    """The ensemble's P50 and P10-P90 beside the as-written run, for the headline quantities
    of 2025 and 2030 (the centre of the distribution, not one best-case run)."""
    table = Table(title=f"as-written run and the ensemble ({source})")
    for col in ("year", "quantity", "as-written", "P50", "P10–P90", "target"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    for year in _TARGET_YEARS:
        for quantity, unit in CENTRE_QUANTITIES:
            rows = percentiles[
                (percentiles["year"] == year) & (percentiles["quantity"] == quantity)
            ]
            if rows.empty:
                continue
            p = rows.iloc[0]
            run = targets[(targets["year"] == year) & (targets["item"].astype(str) == quantity)]
            if quantity == "output.total":
                run = targets[(targets["year"] == year) & (targets["sub_cluster"] == "total")]
            as_written = float(run["simulated"].iloc[0]) if len(run) else float("nan")
            target = float(run["target"].iloc[0]) if len(run) else float("nan")
            table.add_row(
                str(year),
                f"{quantity} ({unit})",
                f"{as_written:,.1f}",
                f"{p['p50']:,.1f}",
                f"{p['p10']:,.1f}–{p['p90']:,.1f}",
                f"{target:,.1f}",
            )
    console.print(table)


BACKTEST_YEAR = 2021
"""The year of the valuation backtest: the plan's last reported year (ch1 §2 八: 150.3亿元)."""


def backtest_line(backtest: pd.DataFrame) -> str:
    """The console lines of the 2021 valuation backtest (``backtest_2021``): the five
    categories of the plan's 2021 statistic and their total against 150.3亿元, like for like."""
    rows = backtest.set_index("category")
    total = rows.loc["total"]
    cats = [c for c in rows.index if c not in ("total", "outside_2021_statistics")]
    parts = ", ".join(
        f"{c.replace('_', ' ')} {rows.loc[c, 'simulated_1e8_yuan']:,.1f} / "
        f"{rows.loc[c, 'plan_1e8_yuan']:,.1f} ({_signed(rows.loc[c, 'gap_pct'])} %)"
        for c in cats
    )
    how = (
        "levels fitted to 2021 (in-sample): a test of the simulated 2021 volumes only"
        if bool(total["in_sample"])
        else "levels not the 2021 fit (a scenario changed them): out of sample"
    )
    outside = rows.loc["outside_2021_statistics", "simulated_1e8_yuan"]
    return (
        f"backtest {BACKTEST_YEAR}, the plan's five categories (ch1 §2 八), like for like: "
        f"{total['simulated_1e8_yuan']:,.1f} of the plan's {total['plan_1e8_yuan']:,.1f} 亿元 "
        f"({_signed(total['gap_pct'])} %)\n  {parts}\n  {how}; outside the 2021 statistic "
        f"(not counted): {outside:,.1f} 亿元"
    )


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
@output_option("Write to this file instead of standard output.", False, directory=False)
@overwrite_option
@_debug_option
def schema_command(output: Path | None, overwrite: bool, debug: bool) -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    from cbm_sim.scenario.model import Scenario

    with _reported(debug):
        text = json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2)
        if output is None:
            click.echo(text)
        else:
            from cbm_sim.results import writer

            writer.write_text(output, text + "\n", overwrite=overwrite)
            click.echo(f"wrote {output}")
