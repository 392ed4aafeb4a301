"""``cbm-sim calibrate``: the history's fit to every reported figure (data/history.yaml)."""

from __future__ import annotations

import datetime as dt
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

CALIBRATION_FILES = ("calibration.yaml", "calibration-2021.yaml")
"""The packaged calibrations (as ``cbm_sim.scenario.model.CALIBRATION_FILES``, which a test
keeps equal; not imported here: the command line starts without pydantic)."""

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
    help="Refit the parameters (scipy least squares; ≈ 52 s on 2 cores, benchmarks/README.md: "
    "calibrate) instead of using the packaged ones.",
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
    "calibration (the rule of its sources.reserves_remainder; run after --write-parameters), "
    "or of a vintage's calibration-*.yaml from that vintage (with --calibration).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the history compared.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Data vintage: fit (and mark as fitted) only the rows of history.yaml known by this "
    "date, besides the plan's baseline; 2021-12-31 is the hindcast's vintage.",
)
@click.option(
    "--calibration",
    "calibration_file",
    type=click.Choice(CALIBRATION_FILES),
    default=CALIBRATION_FILES[0],
    show_default=True,
    help="Packaged calibration compared (without --fit): everything known today, or the "
    "2021 vintage.",
)
@overwrite_option
@_debug_option
def calibrate_command(
    output: Path | None,
    refit: bool,
    write_parameters: Path | None,
    write_reserves: Path | None,
    seed: int,
    as_of: dt.datetime | None,
    calibration_file: str,
    overwrite: bool,
    debug: bool,
) -> None:
    """Compare the calibrated well history with every reported figure (calibration targets
    and backtest), printing simulated value, reported value and error for each.

    With --as-of DATE only the rows known by DATE are fitted (the others are shown, weight 0);
    `--fit --as-of 2021-12-31 --write-parameters cbm_sim/data/calibration-2021.yaml` makes
    the hindcast's vintage."""
    if write_parameters is not None and not refit:
        raise click.UsageError("--write-parameters needs --fit")
    if write_reserves is not None and refit:
        # the rule reads the packaged calibration, which --fit has not replaced yet
        raise click.UsageError("--write-reserves uses the packaged calibration: not with --fit")
    if refit and calibration_file != CALIBRATION_FILES[0]:
        raise click.UsageError("--calibration picks a packaged calibration: not with --fit")
    vintage = None if as_of is None else as_of.date()
    console = Console(width=200)
    with _reported(debug):
        from cbm_sim.results import ownership, writer
        from cbm_sim.wells import calibration, history

        marked = ownership.text_starting(CALIBRATION_MARK)
        # every output checked before the fit (a minute or two: benchmarks/README.md)
        if output is not None:
            writer.check(writer.Output(output), overwrite=overwrite)
        if write_parameters is not None:
            writer.check(writer.Output(write_parameters, recognise=marked), overwrite=overwrite)
        if write_reserves is not None:
            writer.check(writer.Output(write_reserves, keep=True), overwrite=overwrite)
        cal = None if refit else history.packaged_calibration(calibration_file)
        if refit:
            result = calibration.fit(vintage=vintage)
            cal = result.calibration
            console.print(
                f"fit: {'converged' if result.success else 'NOT converged'} after "
                f"{result.evaluations} evaluations, J = {result.cost:.4g} ({result.message})"
                + ("" if vintage is None else f"; rows known by {vintage}")
            )
            if write_parameters is not None:
                with writer.staged_file(
                    write_parameters, overwrite=overwrite, recognise=marked
                ) as staged:
                    calibration.write_calibration(
                        result, staged, vintage=vintage, name=write_parameters.name
                    )
                console.print(f"wrote parameters to {write_parameters}")
        if write_reserves is not None:
            written = _rewrite_reserves(write_reserves, calibration_file)
            console.print(f"wrote the reserves of {len(written)} blocks to {write_reserves}")
        params = calibration.parameters_table(cal)
        shown = "refitted" if refit else f"cbm_sim/data/{calibration_file}"
        ptable = Table(title=f"calibrated parameters ({shown})")
        for col in ("parameter", "value", "lo", "hi", "at_bound"):
            ptable.add_column(col, justify="left" if col == "parameter" else "right")
        for row in params.itertuples(index=False):
            ptable.add_row(
                row.parameter, f"{row.value:.4g}", _num(row.lo), _num(row.hi), str(row.at_bound)
            )
        console.print(ptable)
        frame = calibration.backtest(seed, cal, vintage=vintage)
        title = f"calibration and backtest targets (history seed {seed})"
        if vintage is not None:
            title += f"; fitted: the rows known by {vintage} and the plan's baseline"
        table = Table(title=title)
        for col in (
            "target", "year", "simulated", "reported", "unit", "error", "met", "weight", "known",
        ):  # fmt: skip
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
                row.known,
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


def _rewrite_reserves(path: Path, calibration_file: str) -> dict[str, float]:
    """``--write-reserves``: the blocks.yaml (or a vintage's calibration file) edited in a
    copy, swapped in whole if every block was found (a wrong file is bad input, left as it
    was)."""
    from cbm_sim.results import writer
    from cbm_sim.wells import calibration

    copy: Path | None = None
    try:
        with writer.staged_edit(path) as copy:
            written = calibration.write_unitemised_reserves(copy, calibration_file)
            _check_reserves(copy, written)  # the edited file says what was written, as YAML
            return written
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc) if copy is None else str(exc).replace(str(copy), str(path))
        raise BadInput(
            f"--write-reserves {path}: not a blocks.yaml or calibration file to rewrite: {reason}"
        ) from None


def _check_reserves(path: Path, written: dict[str, float]) -> None:
    """The rewritten blocks.yaml must read back (YAML, without characters YAML forbids) with
    the reserves written.

    Raises
    ------
    ValueError
        Naming what does not read back.
    """
    import yaml

    from cbm_sim.scenario import reading

    text = reading.read_text(path)
    reading.check_printable(text)
    try:
        doc = yaml.safe_load(text)
        if isinstance(doc, dict) and "parameters" in doc:  # a vintage's calibration file
            records = {str(b): {"proved_reserves_m3": v} for b, v in doc["reserves_m3"].items()}
        else:
            records = {str(r["id"]): r for r in doc["blocks"]}
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: does not read back as blocks ({type(exc).__name__})") from None
    for block, value in written.items():
        got = records.get(block, {}).get("proved_reserves_m3")
        if not isinstance(got, int | float) or float(got) != value:
            raise ValueError(f"{path}: block {block!r} does not read back {value:g} m3")
