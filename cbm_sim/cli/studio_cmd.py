"""``cbm-sim studio``: the scenario studio in the browser (a local web server)."""

from __future__ import annotations

from pathlib import Path

import click

from cbm_sim.cli.app import _BAD_INPUT, _debug_option, _reported, main


@main.command("studio")
@click.argument(
    "scenario_file", metavar="[SCENARIO]", required=False, type=click.Path(path_type=Path)
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback lets other machines in (no login).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="Run worker processes (the engine, kept warm).",
)
@_debug_option
def studio_command(
    scenario_file: Path | None, port: int, host: str, workers: int, debug: bool
) -> None:
    """Start the scenario studio: levers, verdict and charts in the browser.

    Opens SCENARIO (default scenarios/plan.yaml) and offers every scenario of its folder and
    of my-scenarios/ as a base; runs go to runs/studio/. Prints the address; Ctrl-C stops it.
    Works offline: every script, style and font comes from the installed package.
    """
    with _reported(debug):
        from cbm_sim.studio.server import PortInUseError, serve

        try:
            serve(scenario_file, host=host, port=port, workers=workers, say=click.echo)
        except PortInUseError as exc:
            click.echo(f"error: --port: {exc}", err=True)
            raise SystemExit(_BAD_INPUT) from None
