"""``cbm-sim plan …``: the plan's figures and their audit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    pass

from cbm_sim.cli.app import _debug_option, _num, _reported, output_option, plan_group

_STATUS_STYLE = {"ok": "green", "discrepancy": "bold red", "info": "cyan"}


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
@output_option("Also write the findings to this CSV file (UTF-8).", False, directory=False,
               aliases=("--csv",))  # fmt: skip
@click.option(
    "--status",
    "only",
    multiple=True,
    type=click.Choice(["ok", "discrepancy", "info"]),
    help="Show only findings with this status (repeatable); the summary counts all.",
)
@_debug_option
def plan_audit(output: Path | None, only: tuple[str, ...], debug: bool) -> None:
    """Check the plan's internal consistency (sums, unit values, balances, years)."""
    from cbm_sim.cli.run_cmd import check_writable, write_text_output
    from cbm_sim.plan.audit import audit

    with _reported(debug):
        if output is not None:
            check_writable(output)
        frame = audit()
        render_audit(frame, Console(width=200), only)
        if output is not None:
            write_text_output(output, frame.to_csv(index=False))
            click.echo(f"wrote {len(frame)} findings to {output}")


# --- scenarios: run, validate, compare, schema ------------------------------------------
