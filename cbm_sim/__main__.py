"""The ``cbm-sim`` program (and ``python -m cbm_sim``): the command group, Ctrl-C made clean.

This module imports nothing heavy at the top, so that a SIGINT at *any* moment — while
pandas, numba or dask are still being imported, while click parses the arguments, while a
run is cleaning up — ends with one line ``interrupted`` and exit status 130 (128 + SIGINT,
the shell convention), never a ``KeyboardInterrupt`` traceback. Commands report an
interrupted run themselves (``interrupted; no results written``, :mod:`cbm_sim.cli.app`).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import sys

from cbm_sim import allocator

INTERRUPTED = 130
"""Exit status after Ctrl-C: 128 + SIGINT (2)."""


def main(argv: list[str] | None = None) -> int:
    """Run the ``cbm-sim`` command line and return its exit status."""
    # A command imports numpy, pandas and numba and builds a run: millions of small objects.
    # CPython collects its youngest generation every 700 net allocations, which cost ≈ 0.1 s
    # of a 2 s `cbm-sim run` (benchmarks/bench_cli.py); every 50,000 still collects cycles.
    gc.set_threshold(50_000, 20, 20)
    # pydantic looks for plugins in the entry points of every installed distribution the
    # first time a model is built (importlib.metadata: ≈ 15 ms of every command, measured);
    # cbm-sim's models use none. Set PYDANTIC_DISABLE_PLUGINS yourself (e.g. to "none") to
    # have yours loaded.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # arrays of 0.1-30 MB on the heap instead of fresh mappings (cbm_sim/allocator.py: a
    # fifth of calibrate --fit's wall time was page faults), as study workers have it
    allocator.keep_arrays_on_heap()
    try:
        import click

        from cbm_sim.cli import main as group

        try:
            result = group.main(args=argv, prog_name="cbm-sim", standalone_mode=False)
        except click.exceptions.Abort:
            raise KeyboardInterrupt from None
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        return result if isinstance(result, int) else 0
    except KeyboardInterrupt:
        _say("interrupted")
        return INTERRUPTED


def _say(text: str) -> None:
    with contextlib.suppress(OSError, KeyboardInterrupt):
        print(text, file=sys.stderr, flush=True)


_exit_status: int | None = None
"""The console script's exit status once its command is done (None before: a normal exit)."""


def _quick_exit() -> None:
    """End the process without tearing the interpreter down, once the command is done.

    Registered first, so it runs last of the ``atexit`` callbacks: after the non-daemon
    threads were joined and every other exit callback (temporary folders, Dask clusters,
    logging) ran, only the freeing of ~10^6 objects and ~1,000 modules remains (numpy,
    pandas, numba, LLVM): 0.1-0.3 s of a 2 s ``cbm-sim run`` (measured) for memory the
    operating system reclaims anyway. The output streams are flushed first.
    """
    if _exit_status is None:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(_exit_status)


def _entry() -> None:  # pragma: no cover - the console script
    global _exit_status
    atexit.register(_quick_exit)
    code: int | str | None = INTERRUPTED
    try:
        try:
            code = main()
        except SystemExit as exc:  # the command group ends with sys.exit(status)
            code = exc.code
    except KeyboardInterrupt:
        code = INTERRUPTED
    finally:
        # the work is done (or reported): a Ctrl-C while the exit unwinds or the interpreter
        # shuts down would otherwise end the process by the signal, without its exit status
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code is None or isinstance(code, int):
        _exit_status = code or 0
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    _entry()
