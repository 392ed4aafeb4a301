"""``cbm-sim plan …``: the plan's figures and their audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    pass

from cbm_sim.cli.app import _num, plan_group

_STATUS_STYLE = {"ok": "green", "discrepancy": "bold red", "info": "cyan"}


def render_audit(frame: pd.DataFrame, console: Console, only: tuple[str, ...] = ()) -> None:
    """Print an audit frame as one rich table per check, then a one-line summary."""
    from rich.table import Table

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
            table.add_column(col, **kw)  # type: ignore[arg-type]
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
    from rich.console import Console

    from cbm_sim.plan.audit import audit

    frame = audit()
    render_audit(frame, Console(width=200), only)
    if csv_path is not None:
        frame.to_csv(csv_path, index=False, encoding="utf-8")
        click.echo(f"wrote {len(frame)} findings to {csv_path}")


# --- scenarios: run, validate, compare, schema ------------------------------------------
