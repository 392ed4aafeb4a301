"""Start the studio: the API and page on a local address, with the engine warm.

Binds to 127.0.0.1 unless told otherwise, and then says so: the studio has no login, so any
machine that can reach the address can run scenarios and write into the workspace.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

LOOPBACK_NAMES: Final[tuple[str, ...]] = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback name or address (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class PortInUseError(OSError):
    """The address cannot be bound (in use, or not this machine's)."""


def check_port(host: str, port: int) -> None:
    """Refuse an address that cannot be bound, before the engine is started.

    Raises
    ------
    PortInUseError
        Naming the address and the reason.
    """
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(
    scenario: Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    root: Path | None = None,
    workers: int = 2,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the studio until interrupted.

    Parameters
    ----------
    scenario
        The scenario opened first; its folder's scenarios are offered as bases (default:
        ``scenarios/plan.yaml`` under ``root``).
    host, port
        Address to listen on (default loopback only).
    root
        Workspace: ``my-scenarios/`` and ``runs/studio/`` are kept under it (default: cwd).
    workers
        Run worker processes.
    say
        Where the address and warnings are printed.

    Raises
    ------
    ScenarioError
        If ``scenario`` is invalid (as ``cbm-sim validate`` says).
    PortInUseError
        If the address cannot be bound.
    """
    import uvicorn

    from cbm_sim.scenario.files import load_scenario
    from cbm_sim.studio import figures
    from cbm_sim.studio.api import create_app
    from cbm_sim.studio.drafts import Workspace
    from cbm_sim.studio.jobs import Jobs
    from cbm_sim.studio.runs import Runner

    root = Path.cwd() if root is None else root
    first = scenario if scenario is not None else root / "scenarios" / "plan.yaml"
    load_scenario(first)  # an invalid scenario is reported before anything starts
    check_port(host, port)
    loopback = is_loopback(host)
    if not loopback:
        say(
            f"warning: listening on {host}, not on 127.0.0.1: anyone who can reach this "
            "machine can use the studio (it has no login) and write into "
            f"{root / 'my-scenarios'} and {root / 'runs' / 'studio'}"
        )
    workspace = Workspace(first.parent, root)
    workspace.saved_dir.mkdir(parents=True, exist_ok=True)
    workspace.runs_dir.mkdir(parents=True, exist_ok=True)
    say(f"starting the engine ({workers} warm worker processes) ...")
    runner = Runner(workspace.runs_dir, workers=workers)
    jobs = Jobs()
    threading.Thread(target=figures.warm, name="warm-charts", daemon=True).start()
    # the Host header's name (starlette compares it without the port): the loopback names
    # and the address bound, e.g. 127.0.0.2
    allowed = (*LOOPBACK_NAMES, host.strip("[]")) if loopback else None
    app = create_app(workspace, runner, jobs, allowed_hosts=allowed)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    say(f"cbm-sim studio: http://{shown}:{port}/?scenario={first.stem}  (Ctrl-C stops it)")
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning")
    try:
        uvicorn.Server(config).run()
    finally:
        jobs.close()
        runner.close()
