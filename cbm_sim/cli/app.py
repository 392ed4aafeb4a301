"""The ``cbm-sim`` command group and what its commands share: error contract, number formats."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    pass

_BAD_INPUT = 2
"""Exit status for bad input (an invalid scenario or option, a refused output directory)."""


class BadInput(click.ClickException):
    """Bad input found after the options were read (exit 2, one line ``error: …``)."""

    exit_code = _BAD_INPUT


class _OneLineErrors(click.Group):
    """A group whose usage errors are one line on stderr (``error: …``), status 2.

    Click prints the usage and a hint above an option's error; the error contract of every
    command (README) is one line per problem naming the option, ``--debug`` for more.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            # click turns Ctrl-C into Abort: the shell's convention, as cbm_sim.__main__ says
            click.echo("interrupted", err=True)
            sys.exit(130)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message(), err=True)  # the group's help, as click prints it
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            sys.exit(_echo_click_error(exc))
        sys.exit(code if isinstance(code, int) else 0)


def _echo_click_error(exc: click.ClickException) -> int:
    """Print a click error as one line (with where to find help); its exit status."""
    hint = ""
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        hint = f" (see {ctx.command_path} --help)"
    message = " ".join(exc.format_message().split())
    click.echo(f"error: {message}{hint}", err=True)
    return exc.exit_code


@click.group(cls=_OneLineErrors)
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


_TARGET_YEARS = (2025, 2030)


def _no_verify_option(func: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--no-verify",
        is_flag=True,
        help="Read result folders without checking them against the SHA-256 of their "
        "meta.json (for a folder edited on purpose).",
    )(func)


def _refuse_existing_file(path: Path, overwrite: bool) -> None:
    """Refuse an ``-o`` file that may not be written, before any work (exit 2 via _reported):
    :func:`check_output` of a file."""
    check_output(path, overwrite)


def check_output(path: Path, overwrite: bool, *, folder: bool = False) -> None:
    """Refuse an output that may not be written, before any work is done (exit 2 via
    :func:`_reported`): it exists without ``--overwrite``, is not cbm-sim's to replace, is a
    link, or its folder cannot be made (:func:`cbm_sim.results.writer.check`).

    Write it afterwards with :func:`cbm_sim.results.writer.staged_file` (or
    ``staged_folder``, ``write_text``): the one writer of every command.

    Raises
    ------
    OutputExistsError
        One line naming the output and why.
    """
    from cbm_sim.results import writer

    writer.check(writer.Output(path, folder=folder), overwrite=overwrite)


def overwrite_option(func: Callable[..., None]) -> Callable[..., None]:
    """``--overwrite`` as every command spells it."""
    return click.option(
        "--overwrite",
        is_flag=True,
        help="Replace an output cbm-sim wrote before (never a file or folder it did not write).",
    )(func)


def _status_cell(status: str) -> str:
    """A target status for a rich table: a mark and a word, not colour alone (colour-blind
    readers and black-and-white prints see ✓/✗)."""
    if status == "met":
        return f"[green]✓ {status}[/]"
    return f"[bold red]✗ {status}[/]"


def _signed(x: float, digits: int = 1) -> str:
    """``x`` with its sign at ``digits`` decimals, never ``-0.0``; empty for a missing value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{0.0 if round(x, digits) == 0 else x:+,.{digits}f}"


class _HiddenAliasOption(click.Option):
    """An option whose old spellings (``hidden_aliases``) work but are not listed in --help."""

    def __init__(self, *args: Any, hidden_aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_aliases = hidden_aliases

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown, self.opts = self.opts, [o for o in self.opts if o not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def output_option(
    help_text: str, required: bool, *, directory: bool = True, aliases: tuple[str, ...] = ("--out",)
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``-o/--output PATH`` as every command spells it (old spellings work, unlisted)."""
    return click.option(
        "-o",
        "--output",
        *aliases,
        "output",
        cls=_HiddenAliasOption,
        hidden_aliases=aliases,
        type=click.Path(file_okay=not directory, dir_okay=directory, path_type=Path),
        required=required,
        help=help_text,
    )


def progress_bar(console: Any, *columns: Any) -> Any:
    """A transient rich progress bar on ``console``, shown only on a terminal: elsewhere (a
    log, a pipe) rich would leave an empty line, and the error contract is one line."""
    from rich.progress import Progress

    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


_SCHEDULER = re.compile(
    r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r":(?P<port>[0-9]{1,5})$"
)


def _scheduler_address(ctx: click.Context, param: click.Parameter, text: str | None) -> str | None:
    """A Dask scheduler address, ``[tcp://]host:port`` (also tls, ucx, ws, wss), checked before
    any work: a malformed one is bad input, not a scheduler that does not answer."""
    if text is None:
        return None
    match = _SCHEDULER.match(text)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise click.BadParameter(
            f"expected a Dask scheduler address such as tcp://host:8786, got {shown!r}"
        )
    return text


def scheduler_option(func: Callable[..., None]) -> Callable[..., None]:
    """``--scheduler ADDRESS`` as every study command spells it (checked at once)."""
    return click.option(
        "--scheduler",
        default=None,
        callback=_scheduler_address,
        help="Address of a Dask scheduler, tcp://host:port.",
    )(func)


def check_count(name: str, value: int, what: str, option: str) -> None:
    """Refuse a count above its bound of :mod:`cbm_sim.bounds` (``name``), with the reason.

    Raises
    ------
    click.BadParameter
        Naming ``option``, the limit and why it is there.
    """
    from cbm_sim import bounds

    bound = bounds.BOUNDS[name]
    if not bound.contains(value):
        raise click.BadParameter(
            f"{value:,} {what} is more than the limit of {bound.hi:,.0f} {bound.unit} "
            f"({bound.doc})",
            param_hint=option,
        )


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
    except click.ClickException as exc:
        if debug:
            import traceback

            traceback.print_exc()
        sys.exit(_echo_click_error(exc))
    except (ScenarioError, OutputExistsError, DamagedRunError) as exc:
        if debug:
            raise
        click.echo(str(exc) if isinstance(exc, ScenarioError) else f"error: {exc}", err=True)
        sys.exit(_BAD_INPUT)
    except KeyboardInterrupt as exc:
        if debug:
            raise
        note = f"; {exc}" if str(exc) else ""
        click.echo(f"interrupted; no results written{note}", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        click.echo(f"error: {type(exc).__name__}: {exc} (--debug shows the traceback)", err=True)
        sys.exit(1)
