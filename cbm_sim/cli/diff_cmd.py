"""``cbm-sim diff A B``: what differs between two scenarios or two runs, and what it moves."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from cbm_sim.studies.diff import Diff, Side

from cbm_sim.cli.app import _debug_option, _no_verify_option, _reported, main, output_option

DIFF_FILES = ("inputs.csv", "outputs.csv", "targets.csv")
"""The tables ``diff -o DIR`` writes (columns: :mod:`cbm_sim.studies.diff`)."""


def side_of(source: Path, console: Console, *, verify: bool = True) -> Side:
    """One side: a run folder as written, or a scenario file, which is run (with the file's
    comments as the sources of its values)."""
    from cbm_sim.scenario.files import field_sources, load_scenario
    from cbm_sim.studies.diff import Side

    if source.is_dir():
        return Side.from_dir(source, verify=verify)
    from cbm_sim.cli.run_cmd import _simulate

    scenario = load_scenario(source)
    return Side.from_results(_simulate(scenario, console), sources=field_sources(source))


@main.command("diff")
@click.argument("a", metavar="A", type=click.Path(exists=True, path_type=Path))
@click.argument("b", metavar="B", type=click.Path(exists=True, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True,
              help="Language of the names in the printed tables.")  # fmt: skip
@click.option("--all-years", is_flag=True, help="Print the moved outputs of every year, not "
              "only 2025 and 2030.")  # fmt: skip
@output_option(f"Write {', '.join(DIFF_FILES)} (every row, every year) into this folder.", False)
@click.option("--overwrite", is_flag=True, help="Replace the -o folder if it is a cbm-sim one.")
@_no_verify_option
@_debug_option
def diff_command(
    a: Path,
    b: Path,
    lang: str,
    all_years: bool,
    output: Path | None,
    overwrite: bool,
    no_verify: bool,
    debug: bool,
) -> None:
    """What differs between A and B (run folders or scenario files, which are run).

    Prints every changed input with its value on each side and where B's file sets it (line
    and source comment), the production, LNG and output value that moved (2025 and 2030;
    --all-years for every year) and every target whose verdict changed, with the cluster,
    sub-cluster, production and LNG verdicts side by side. -o writes the three tables whole.
    """
    console = Console(stderr=True)
    with _reported(debug):
        if output is not None:
            from cbm_sim.results.rundir import check_target

            check_target(output, overwrite=overwrite)  # before anything is run
        from cbm_sim.studies.diff import diff

        d = diff(
            side_of(a, console, verify=not no_verify), side_of(b, console, verify=not no_verify)
        )
        print_diff(d, Console(), lang, all_years=all_years)
        if output is not None:
            _write(d, output, overwrite=overwrite)
            click.echo(f"wrote {', '.join(DIFF_FILES)} to {output}")


def print_diff(d: Diff, console: Console, lang: str, *, all_years: bool = False) -> None:
    """The diff as three console tables (names in ``lang``)."""
    from cbm_sim import names
    from cbm_sim.report.diff_pages import HEADLINE

    name = f"name_{lang}"
    table = Table(title=f"inputs: {d.b} against {d.a} ({len(d.inputs)} changed)")
    for col in ("input", d.a, d.b, f"source in {d.b}"):
        table.add_column(col, overflow="fold")
    for _, r in d.inputs.iterrows():
        unit = f" [{r['unit']}]" if r["unit"] else ""
        table.add_row(f"{r[name]}{unit}", str(r["a"]), str(r["b"]), str(r["source_b"]))
    console.print(table)
    out = d.outputs if all_years else d.outputs[d.outputs["year"].isin((2025, 2030))]
    moved = out[out["moved"]]
    table = Table(title=f"outputs that moved ({len(moved)} of {len(out)})")
    for col in ("output", "year", "unit", d.a, d.b, "Δ", "Δ %"):
        table.add_column(col, justify="left" if col == "output" else "right")
    for _, r in moved.iterrows():
        numbers = (f"{r['a']:,.2f}", f"{r['b']:,.2f}", f"{r['delta']:+,.2f}")
        pct = f"{r['delta_pct']:+.1f}"
        table.add_row(str(r[name]), str(int(r["year"])), str(r["unit"]), *numbers, pct)
    console.print(table)
    t = d.targets
    shown = t[t["target"].isin(HEADLINE) | t["status_changed"]]
    table = Table(title=f"targets ({int(t['status_changed'].sum())} verdicts changed)")
    for col in ("target", "year", "target value", d.a, d.b, "changed"):
        table.add_column(col, justify="left" if col == "target" else "right")

    def status(value: float, word: str) -> str:
        shown = names.status_name(word, lang) if word != "—" else "—"  # type: ignore[arg-type]
        return f"{value:,.2f} {shown}"

    for _, r in shown.iterrows():
        table.add_row(
            str(r[name]),
            str(int(r["year"])),
            f"{r['target_value']:,.2f} {r['unit']}",
            status(r["a"], str(r["status_a"])),
            status(r["b"], str(r["status_b"])),
            "yes" if r["status_changed"] else "",
        )
    console.print(table)


def _write(d: Diff, output: Path, *, overwrite: bool) -> None:
    from cbm_sim.results import writer

    meta = {"kind": "diff", "a": d.a, "b": d.b}
    with writer.staged_folder(output, overwrite=overwrite, meta=meta) as stage:  # sealed
        for file, frame in zip(DIFF_FILES, (d.inputs, d.outputs, d.targets), strict=True):
            frame.to_csv(stage / file, index=False, encoding="utf-8")
