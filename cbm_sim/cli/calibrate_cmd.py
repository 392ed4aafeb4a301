"""``cbm-sim calibrate``: the history's fit to every reported figure (data/history.yaml)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from cbm_sim.cli.app import (
    BadInput,
    _debug_option,
    _num,
    _reported,
    main,
    output_option,
    overwrite_option,
)

CALIBRATION_MARK = "# Calibrated type-curve adjustment and drilling-history shape"
"""How a calibration.yaml written by ``calibrate --write-parameters`` begins
(:func:`cbm_sim.wells.calibration.write_calibration`): such a file may be replaced."""


@main.command("calibrate")
@output_option(
    "Also write the table (every target: simulated, reported, error) to this CSV file.",
    False,
    directory=False,
)
@click.option(
    "--fit",
    "refit",
    is_flag=True,
    help="Refit the parameters (scipy least squares, ~10 s) instead of using the packaged ones.",
)
@click.option(
    "--write-parameters",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --fit: write the fitted parameters as a calibration.yaml to this path.",
)
@click.option(
    "--write-reserves",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rewrite the unitemised proved reserves of this blocks.yaml from the packaged "
    "calibration (the rule of its sources.reserves_remainder; run after --write-parameters).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the history compared.",
)
@overwrite_option
@_debug_option
def calibrate_command(
    output: Path | None,
    refit: bool,
    write_parameters: Path | None,
    write_reserves: Path | None,
    seed: int,
    overwrite: bool,
    debug: bool,
) -> None:
    """Compare the calibrated well history with every reported figure (calibration targets
    and backtest), printing simulated value, reported value and error for each."""
    if write_parameters is not None and not refit:
        raise click.UsageError("--write-parameters needs --fit")
    if write_reserves is not None and refit:
        # the rule reads the packaged calibration, which --fit has not replaced yet
        raise click.UsageError("--write-reserves uses the packaged calibration: not with --fit")
    console = Console(width=200)
    with _reported(debug):
        from cbm_sim.results import ownership, writer
        from cbm_sim.wells import calibration

        marked = ownership.text_starting(CALIBRATION_MARK)
        # every output checked before the fit (~10 s idle, a minute on a busy machine)
        if output is not None:
            writer.check(writer.Output(output), overwrite=overwrite)
        if write_parameters is not None:
            writer.check(writer.Output(write_parameters, recognise=marked), overwrite=overwrite)
        if write_reserves is not None:
            writer.check(writer.Output(write_reserves, keep=True), overwrite=overwrite)
        cal = None
        if refit:
            result = calibration.fit()
            cal = result.calibration
            console.print(
                f"fit: {'converged' if result.success else 'NOT converged'} after "
                f"{result.evaluations} evaluations, J = {result.cost:.4g} ({result.message})"
            )
            if write_parameters is not None:
                with writer.staged_file(
                    write_parameters, overwrite=overwrite, recognise=marked
                ) as staged:
                    calibration.write_calibration(result, staged)
                console.print(f"wrote parameters to {write_parameters}")
        if write_reserves is not None:
            written = _rewrite_reserves(write_reserves)
            console.print(f"wrote the reserves of {len(written)} blocks to {write_reserves}")
        params = calibration.parameters_table(cal)
        ptable = Table(title="calibrated parameters (cbm_sim/data/calibration.yaml)")
        for col in ("parameter", "value", "lo", "hi", "at_bound"):
            ptable.add_column(col, justify="left" if col == "parameter" else "right")
        for row in params.itertuples(index=False):
            ptable.add_row(
                row.parameter, f"{row.value:.4g}", _num(row.lo), _num(row.hi), str(row.at_bound)
            )
        console.print(ptable)
        frame = calibration.backtest(seed, cal)
        table = Table(title=f"calibration and backtest targets (history seed {seed})")
        for col in ("target", "year", "simulated", "reported", "unit", "error", "met", "weight"):
            table.add_column(col, justify="left" if col in ("target", "unit") else "right")
        table.add_column("source", overflow="fold", ratio=1)
        for row in frame.itertuples(index=False):
            style = "green" if row.met else "bold red"
            table.add_row(
                row.id,
                str(row.year),
                f"{row.simulated:.4g}",
                f"{row.reported:.4g}",
                row.unit,
                f"{row.error:+.3g}",
                f"[{style}]{'yes' if row.met else 'no'}[/]",
                f"{row.weight:g}",
                row.source,
            )
        console.print(table)
        fitted = frame[frame["weight"] > 0]
        console.print(
            f"{int(frame['met'].sum())} of {len(frame)} targets met "
            f"({int(fitted['met'].sum())} of {len(fitted)} fitted ones); "
            "weight 0 = backtest only; NaN = not modelled"
        )
        if output is not None:
            with writer.staged_file(output, overwrite=overwrite) as staged:
                frame.to_csv(staged, index=False, encoding="utf-8")
            click.echo(f"wrote {len(frame)} targets to {output}")


def _rewrite_reserves(path: Path) -> dict[str, float]:
    """``--write-reserves``: the blocks.yaml edited in a copy, swapped in whole if every
    block was found (a wrong file is bad input, left as it was)."""
    from cbm_sim.results import writer
    from cbm_sim.wells import calibration

    copy: Path | None = None
    try:
        with writer.staged_edit(path) as copy:
            return calibration.write_unitemised_reserves(copy)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc) if copy is None else str(exc).replace(str(copy), str(path))
        raise BadInput(f"--write-reserves {path}: not a blocks.yaml to rewrite: {reason}") from None
