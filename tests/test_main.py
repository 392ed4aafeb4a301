"""The console script's exit (cbm_sim/__main__.py): the interpreter's teardown skipped once the
command is done, its exit status and output kept, nothing left unreleased."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from cbm_sim import __main__ as entry


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """os._exit recorded instead of called."""
    calls: list[int] = []
    monkeypatch.setattr(entry.os, "_exit", calls.append)
    return calls


def test_quick_exit_only_once_the_command_is_done(monkeypatch, exits) -> None:
    monkeypatch.setattr(entry, "_exit_status", None)
    entry._quick_exit()
    assert exits == []


def test_quick_exit_keeps_the_status(monkeypatch, exits) -> None:
    monkeypatch.setattr(entry, "_exit_status", 2)
    entry._quick_exit()
    assert exits == [2]


@pytest.mark.parametrize(("args", "status"), [(["--help"], 0), (["no-such-command"], 2)])
def test_the_console_script_exits_with_the_commands_status(args: list[str], status: int) -> None:
    code = "from cbm_sim.__main__ import _entry; _entry()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == status, done.stderr
    if status == 0:
        assert "Usage" in done.stdout  # flushed before the process ended


def test_semaphores_of_a_process_are_released_without_a_warning() -> None:
    """A multiprocessing lock made during the command is released by the exit callbacks that
    run before the quick exit: the resource tracker has nothing left to warn of."""
    code = textwrap.dedent(
        """
        import sys
        from cbm_sim import __main__ as entry
        def main(argv=None):
            import multiprocessing
            globals()['lock'] = multiprocessing.get_context('spawn').Lock()
            return 0
        entry.main = main
        entry._entry()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr, done.stderr


@pytest.mark.parametrize(("preset", "seen"), [(None, "__all__"), ("none", "none")])
def test_pydantic_plugins_are_not_looked_for_unless_asked(preset, seen) -> None:
    """The command skips pydantic's scan of every distribution's entry points (no plugin of
    its own); a PYDANTIC_DISABLE_PLUGINS the user set is left as it is."""
    code = textwrap.dedent(
        """
        import os
        from cbm_sim import __main__ as entry
        try:
            entry.main(["--help"])
        except SystemExit:
            pass
        from pydantic.plugin import _loader
        print(os.environ.get("PYDANTIC_DISABLE_PLUGINS"), list(_loader.get_plugins()))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if preset is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = preset
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"{seen} []"
