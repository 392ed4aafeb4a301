"""The output contract of ``cbm-sim run -o DIR``, written atomically.

Everything is written into a staging folder beside ``DIR`` and swapped into place only when
the whole run has succeeded (:mod:`~cbm_sim.results.writer`, the writer every command
shares), so a failed, interrupted or killed run leaves no partial results, and, with
``--overwrite``, the previous results stay in place until the new ones are complete; only a
folder cbm-sim wrote is ever replaced (:mod:`~cbm_sim.results.ownership`). The files, columns
and units are listed in :data:`OUTPUT_FILES` and documented in the README ("Output
contract"); ``meta.json`` holds the SHA-256 of every file
(:mod:`~cbm_sim.results.integrity`), checked by every reader.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from cbm_sim import units
from cbm_sim.plan.packaged import packaged_data_sha256
from cbm_sim.results import integrity, writer
from cbm_sim.results.frames import ANNUAL_COLUMNS, Results
from cbm_sim.results.frames import TARGET_COLUMNS as _TARGET_CHECK_COLUMNS
from cbm_sim.results.ownership import OutputExistsError
from cbm_sim.scenario.provenance import assumptions_sha256
from cbm_sim.units import to_planner

__all__ = [
    "OUTPUT_FILES",
    "RESULTS_MARKER",
    "TARGET_COLUMNS",
    "FrameFileError",
    "FrameFiles",
    "OutputExistsError",
    "check_target",
    "clean_stale",
    "frame_files",
    "staged_directory",
    "valuation_csv",
    "write_run",
]

OUTPUT_FILES: Mapping[str, str] = {
    "annual.csv": "year, entity, quantity, unit, value — annual figures in planner units "
    "(亿m3, 亿元, 万t, 亿kWh; UTF-8)",
    "annual.parquet": "year, entity, quantity, unit, value — annual figures in base units (m3, t)",
    "daily.parquet": "date, entity, quantity, unit, value — one row per step",
    "events.parquet": "time, entity, event, detail — discrete events",
    "targets.csv": "year, sub_cluster, item, simulated, target, gap, gap_pct, status, ...",
    "valuation.csv": "output value per item and year: value, unit (亿元), driver in planner units",
    "meta.json": "seed, version, horizon, step, scenario name and assumptions hash, files, "
    "SHA-256 of every file",
    "scenario.yaml": "the fully resolved scenario that was run",
}
"""Every file of a run directory and what it holds."""

TARGET_COLUMNS: tuple[str, ...] = _TARGET_CHECK_COLUMNS[:8]
"""Leading columns of ``targets.csv`` (the target check may add more after them)."""

RESULTS_MARKER = integrity.META
"""A cbm-sim result folder holds this file, and it verifies (may then be replaced)."""


def clean_stale(final: Path) -> list[Path]:
    """Finish or remove what killed writes left beside ``final`` (:func:`writer.recover`)."""
    return writer.recover(Path(final).parent, [Path(final).name])


def check_target(target: Path, *, overwrite: bool) -> None:
    """Refuse a result folder that may not be written, before any work is done.

    Only an empty folder or one cbm-sim wrote (its ``meta.json`` verifies and lists every
    file in it) is ever replaced, and only with ``overwrite``; see :func:`writer.check`.

    Raises
    ------
    OutputExistsError
        If ``target`` may not be written.
    """
    writer.check(writer.Output(Path(target), folder=True), overwrite=overwrite)


@contextmanager
def staged_directory(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """A staging folder beside ``target`` that becomes ``target`` whole on success
    (:func:`writer.staged_folder`; sealed with a ``meta.json`` if it has none).

    On any exception (including ``KeyboardInterrupt``) inside the ``with`` block the
    staging folder is removed and ``target`` is left as it was.

    Raises
    ------
    OutputExistsError
        On entry and before the swap, as :func:`check_target`.
    """
    with writer.staged_folder(target, overwrite=overwrite) as stage:
        yield stage


def valuation_csv(valuation: pd.DataFrame) -> pd.DataFrame:
    """The valuation frame as ``valuation.csv`` states it: ``value`` in 亿元 with a ``unit``
    column (instead of ``value_yuan``) and the driver in its planner unit (亿m³, 万t …)."""
    frame = valuation.copy()
    if "value_yuan" in frame.columns:
        at = list(frame.columns).index("value_yuan")
        value = frame.pop("value_yuan").astype("float64") / units.YI
        frame.insert(at, "unit", "亿元")
        frame.insert(at, "value", value)
    if {"driver_value", "driver_unit"} <= set(frame.columns):
        known = frame["driver_unit"].astype(str).isin(list(units.PLANNER_UNITS))
        converted = to_planner(frame[known], ("driver_value",), "driver_unit")
        frame.loc[known, ["driver_value", "driver_unit"]] = converted[
            ["driver_value", "driver_unit"]
        ]
    return frame


def _system_allocator() -> None:
    """Arrow allocates with the C library's ``malloc`` from now on, unless the user chose a
    pool (``ARROW_DEFAULT_MEMORY_POOL``).

    The first Parquet write of a process with pyarrow's default pool (mimalloc) cost
    ≈ 0.17 s CPU and 0.35 s wall more than with ``malloc`` (the daily table: 0.22 s CPU
    against 0.05 s; later writes alike), measured on the plan run; the pool decides where
    buffers live, not what is written.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" in os.environ:
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def _write_parquet(out: Path, results: Results, frames: tuple[str, ...]) -> None:
    """Write the named frames of ``results`` as ``<name>.parquet`` into ``out``, as
    :meth:`Results.to_parquet` writes them but without its ``meta.json``, which
    :func:`write_run` writes once, over every file."""
    for name in frames:
        getattr(results, name).to_parquet(out / f"{name}.parquet", index=False)


THREADED_FRAMES = ("daily", "events")
"""The frames :class:`FrameFiles` writes on its thread: the large daily frame (≈ 6·10^5 rows
in the plan run) and the events; the annual frame, which the CSV reads too, stays with the
caller's thread, so no frame is read by two threads."""


class FrameFileError(OSError):
    """A Parquet file of :class:`FrameFiles` could not be written (names the file)."""


class FrameFiles:
    """The daily and event Parquet files of a run, written on a thread of their own.

    Arrow encodes and writes without the interpreter lock, so the caller's thread goes on
    with the valuation, the target check and the CSV files meanwhile (a run's Parquet files
    cost ≈ 0.1-0.2 s of a 1.6 s ``cbm-sim run`` on the 2-core host, the first write of a
    process the most). The bytes are those of :func:`_write_parquet` in the caller's thread:
    the same frames, the same calls. Use :func:`frame_files`, which always waits for the
    thread, so that a failing caller never removes a folder the thread still writes into.
    """

    def __init__(self, directory: Path, results: Results) -> None:
        self._directory = directory
        self._results = results
        self._error: tuple[str, BaseException] | None = None
        self._thread = threading.Thread(target=self._write, name="cbm-sim-parquet", daemon=True)
        self._thread.start()

    def _write(self) -> None:
        for name in THREADED_FRAMES:
            try:
                _write_parquet(self._directory, self._results, (name,))
            except BaseException as exc:  # handed to the caller's thread by wait()
                self._error = (f"{name}.parquet", exc)
                return

    def join(self) -> None:
        """Wait until the thread is done, even through a Ctrl-C (re-raised after it: the
        folder it writes into is removed only then)."""
        interrupted: KeyboardInterrupt | None = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as exc:  # pragma: no cover - a signal mid-join
                interrupted = exc
        if interrupted is not None:  # pragma: no cover
            raise interrupted

    def wait(self) -> None:
        """Wait until the files are written.

        Raises
        ------
        FrameFileError
            If one could not be written: naming it, with the thread's error as the cause.
        """
        self.join()
        if self._error is not None:
            name, exc = self._error
            raise FrameFileError(f"could not write {name}: {type(exc).__name__}: {exc}") from exc


@contextmanager
def frame_files(directory: str | Path, results: Results) -> Iterator[FrameFiles]:
    """Start writing the daily and event Parquet files of ``results`` into ``directory``
    (:class:`FrameFiles`); hand the writer to :func:`write_run` (``frames=``).

    On leaving, the thread is always waited for; when the ``with`` block failed, its own
    error is raised (not the thread's), and the staged folder is removed only after the
    thread is done with it.
    """
    _system_allocator()
    frames = FrameFiles(Path(directory), results)
    try:
        yield frames
    finally:
        frames.join()


def write_run(
    directory: str | Path,
    results: Results,
    *,
    targets: pd.DataFrame,
    valuation: pd.DataFrame,
    extra_meta: Mapping[str, Any] | None = None,
    frames: FrameFiles | None = None,
) -> list[Path]:
    """Write the files of :data:`OUTPUT_FILES` for one run into ``directory``.

    Parameters
    ----------
    directory
        An existing directory (normally the one yielded by :func:`staged_directory`).
    results
        The run's results; ``results.scenario`` (the resolved scenario) becomes
        ``scenario.yaml``.
    targets
        The target check (``targets.check_targets``), :data:`TARGET_COLUMNS` first.
    valuation
        The output value of every item (``valuation.value``).
    extra_meta
        Added to ``meta.json`` (e.g. the scenario file the run was started from).
    frames
        The daily and event Parquet files already being written into ``directory``
        (:func:`frame_files`, started as soon as the run was done); without it they are
        written on a thread started here, beside the CSV files.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If ``targets`` lacks a column of :data:`TARGET_COLUMNS` or ``results.scenario`` is
        missing.
    FrameFileError
        If the daily or event Parquet file could not be written (naming it).
    """
    out = Path(directory)
    missing = [c for c in TARGET_COLUMNS if c not in targets.columns]
    if missing:
        raise ValueError(f"target check lacks columns {missing}; expected {list(TARGET_COLUMNS)}")
    if results.scenario is None:
        raise ValueError("results.scenario is None; the resolved scenario is part of the outputs")
    out.mkdir(parents=True, exist_ok=True)
    with frame_files(out, results) if frames is None else nullcontext(frames) as threaded:
        _write_rest(out, results, targets, valuation)
        own = {
            "assumptions_sha256": assumptions_sha256(results.scenario),
            "model_data_sha256": packaged_data_sha256(),
        }
        threaded.wait()
    integrity.write_meta(out, {**dict(results.meta), **own, **dict(extra_meta or {})}, OUTPUT_FILES)
    return [out / name for name in sorted(OUTPUT_FILES)]


def _write_rest(
    out: Path, results: Results, targets: pd.DataFrame, valuation: pd.DataFrame
) -> None:
    """The files of a run other than the threaded frames' and ``meta.json``."""
    assert results.scenario is not None  # write_run checked it
    _write_parquet(out, results, ("annual",))
    to_planner(results.annual.loc[:, list(ANNUAL_COLUMNS)]).to_csv(
        out / "annual.csv", index=False, encoding="utf-8"
    )
    rest = [c for c in targets.columns if c not in TARGET_COLUMNS]
    targets.loc[:, [*TARGET_COLUMNS, *rest]].to_csv(
        out / "targets.csv", index=False, encoding="utf-8"
    )
    valuation_csv(valuation).to_csv(out / "valuation.csv", index=False, encoding="utf-8")
    (out / "scenario.yaml").write_text(results.scenario.to_yaml(), encoding="utf-8")
