"""``cbm-sim plan …``: the plan's figures and their audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

from cbm_sim.cli.app import _num, plan_group

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
    from rich.table import Table

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
    from rich.console import Console

    from cbm_sim.plan.audit import audit

    frame = audit()
    render_audit(frame, Console(width=200), only, severities)
    if csv_path is not None:
        frame.to_csv(csv_path, index=False, encoding="utf-8")
        click.echo(f"wrote {len(frame)} findings to {csv_path}")


# --- scenarios: run, validate, compare, schema ------------------------------------------
