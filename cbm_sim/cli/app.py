"""The ``cbm-sim`` command group and what its commands share: error contract, number formats."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass


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


_BAD_INPUT = 2
"""Exit status for bad input (an invalid scenario, a refused output directory)."""
_TARGET_YEARS = (2025, 2030)


def _no_verify_option(func: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--no-verify",
        is_flag=True,
        help="Read result folders without checking them against the SHA-256 of their "
        "meta.json (for a folder edited on purpose).",
    )(func)


def _refuse_existing_file(path: Path, overwrite: bool) -> None:
    """Refuse to write over an existing file unless ``overwrite`` (exit 2 via _reported).

    Raises
    ------
    OutputExistsError
        If ``path`` exists (or is a dangling link) and ``overwrite`` is false, or is a folder.
    """
    from cbm_sim.results.rundir import OutputExistsError

    if path.is_dir():
        raise OutputExistsError(f"{path} is a directory; expected a file name")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(f"{path} exists; pass --overwrite to replace it")


def _debug_option(func: Callable[..., None]) -> Callable[..., None]:
    return click.option("--debug", is_flag=True, help="On error, show the full Python traceback.")(
        func
    )


@contextmanager
def _reported(debug: bool) -> Iterator[None]:
    """Turn exceptions into one short message and an exit status (2 for bad input)."""
    from cbm_sim.results.integrity import DamagedRunError
    from cbm_sim.results.rundir import OutputExistsError
    from cbm_sim.scenario.files import ScenarioError

    try:
        yield
    except (ScenarioError, OutputExistsError, DamagedRunError) as exc:
        if debug:
            raise
        click.echo(str(exc) if isinstance(exc, ScenarioError) else f"error: {exc}", err=True)
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
