"""``cbm-sim plan …``: the plan's figures and their audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

from cbm_sim.cli.app import (
    _debug_option,
    _num,
    _reported,
    check_output,
    output_option,
    overwrite_option,
    plan_group,
)

_SEVERITY_STYLE = {
    "error": "bold red",
    "inconsistency": "red",
    "rounding": "yellow",
    "note": "cyan",
    "ok": "green",
}


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
        The findings (:func:`cbm_sim.plan.audit.audit`).
    console
        Where to print.
    only
        Show only findings with one of these ``status`` values (``ok``, ``discrepancy``,
        ``info``: the coarse view of the severity); empty: all.
    severities
        Show only findings with one of these severities; empty: all. Both filters apply.
        The counts always cover every finding.
    """

    from cbm_sim.plan.audit import SEVERITIES

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
            table.add_column(col, **kw)  # type: ignore[arg-type]
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
@output_option("Also write the findings to this CSV file (UTF-8).", False, directory=False,
               aliases=("--csv",))  # fmt: skip
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
@overwrite_option
@_debug_option
def plan_audit(
    output: Path | None,
    only: tuple[str, ...],
    severities: tuple[str, ...],
    overwrite: bool,
    debug: bool,
) -> None:
    """Check the plan's internal consistency (sums, balances, physics, capacity, years).

    Each finding has a severity: error (the plan contradicts itself or physics),
    inconsistency (beyond rounding), rounding (within the stated precision), note (a derived
    figure worth a look) or ok.
    """

    from cbm_sim.plan.audit import audit
    from cbm_sim.results import writer

    with _reported(debug):
        if output is not None:
            check_output(output, overwrite)
        frame = audit()
        render_audit(frame, Console(width=200), only, severities)
        if output is not None:
            writer.write_text(output, frame.to_csv(index=False), overwrite=overwrite)
            click.echo(f"wrote {len(frame)} findings to {output}")


# --- scenarios: run, validate, compare, schema ------------------------------------------


@plan_group.command("show")
@click.argument("plan_id", metavar="[ID]", required=False)
@click.option("--year", type=int, default=None, help="Only figures of this (effective) year.")
@output_option("Also write the rows shown to this CSV file (UTF-8).", False, directory=False)
@overwrite_option
@_debug_option
def plan_show(
    plan_id: str | None, year: int | None, output: Path | None, overwrite: bool, debug: bool
) -> None:
    """Browse the plan's figures: without ID, every id; with ID (or a prefix such as
    ``output.exploration`` or ``lng``), its stated figures; ``blocks`` lists the block ids
    a scenario's ``drilling.blocks`` takes."""
    from cbm_sim.results import writer

    with _reported(debug):
        if output is not None:
            check_output(output, overwrite)
        if plan_id == "blocks":
            frame = _blocks_frame()
            title = "blocks (cbm_sim/data/blocks.yaml; ids for drilling.blocks)"
        else:
            frame, title = _figures_frame(plan_id, year)
        _print_frame(frame, title)
        if output is not None:
            writer.write_text(output, frame.to_csv(index=False), overwrite=overwrite)
            click.echo(f"wrote {len(frame)} rows to {output}")


def _blocks_frame() -> pd.DataFrame:
    import pandas as pd

    from cbm_sim.plan.blocks import load_blocks

    return pd.DataFrame(
        {
            "id": b.id,
            "name_zh": b.name_zh,
            "class": b.klass,
            "proved_reserves_1e8_m3": (
                "" if b.proved_reserves_m3 is None else f"{b.proved_reserves_m3 / 1e8:,.1f}"
            ),
            "share_of_2021_wells": f"{b.share_of_2021_wells:.3f}",
        }
        for b in load_blocks()
    )


def _figures_frame(plan_id: str | None, year: int | None) -> tuple[pd.DataFrame, str]:
    """The plan's figures under ``plan_id`` (all ids when None), as a table to print."""
    import difflib

    import pandas as pd

    from cbm_sim.plan.figures import load_plan

    frame = load_plan().frame()
    if year is not None:
        frame = frame[frame["effective_year"] == year]
    if plan_id is None:
        grouped = frame.groupby("id", sort=True)
        summary = pd.DataFrame(
            {
                "id": list(grouped.groups),
                "years": grouped["effective_year"].agg(
                    lambda ys: ", ".join(str(y) for y in sorted(set(ys)))
                ),
                "kinds": grouped["kind"].agg(lambda ks: ", ".join(sorted(set(ks)))),
                "unit": grouped["unit"].agg(lambda us: ", ".join(sorted(set(us)))),
            }
        ).reset_index(drop=True)
        return summary, f"{len(summary)} plan ids (cbm-sim plan show ID for the figures)"
    ids = frame["id"].astype(str)
    rows = frame[(ids == plan_id) | ids.str.startswith(plan_id + ".")]
    if rows.empty:
        known = sorted({*ids, *(i.rsplit(".", 1)[0] for i in ids), "blocks"})
        close = difflib.get_close_matches(plan_id, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "cbm-sim plan show lists them"
        when = f" in {year}" if year is not None else ""
        raise click.BadParameter(f"no plan figure {plan_id!r}{when}; {hint}", param_hint="'ID'")
    shown = rows.sort_values(["id", "effective_year", "statement"])[
        [
            "id",
            "effective_year",
            "value",
            "unit",
            "kind",
            "comparator",
            "statement",
            "ref",
            "phrase",
        ]
    ].rename(columns={"effective_year": "year"})
    return shown.reset_index(drop=True), f"plan figures under {plan_id} (晋市政发〔2022〕28号)"


def _print_frame(frame: pd.DataFrame, title: str) -> None:

    table = Table(title=title, expand=False)
    for col in frame.columns:
        numeric = col in ("value", "year", "proved_reserves_1e8_m3", "share_of_2021_wells")
        table.add_column(
            col,
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=col == "id",
            max_width=60 if col == "phrase" else None,
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(_num(v) if isinstance(v, float) else str(v) for v in row))
    Console(width=max(Console().width, 120)).print(table)
