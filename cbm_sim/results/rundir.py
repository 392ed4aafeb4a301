"""The output contract of ``cbm-sim run -o DIR``, written atomically.

Everything is written into a temporary directory beside ``DIR`` and renamed into place only
when the whole run has succeeded, so a failed or interrupted run leaves no partial results
(and, with ``--overwrite``, the previous results stay in place until the new ones are
complete). The files, columns and units are listed in :data:`OUTPUT_FILES` and documented in
the README ("Output contract"); ``meta.json`` holds the SHA-256 of every file
(:mod:`~cbm_sim.results.integrity`), checked by every reader.

Staging folders are named ``.<name>.partial-<id>-<pid>@<host>`` (and, during the swap of an
``--overwrite``, ``.<name>.old-<id>-<pid>@<host>``): a process killed with SIGKILL cannot
clean up, so the next run into the same place removes the ones whose process is gone
(:func:`clean_stale`).
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from cbm_sim import units
from cbm_sim.results import integrity
from cbm_sim.results.frames import ANNUAL_COLUMNS, Results
from cbm_sim.results.frames import TARGET_COLUMNS as _TARGET_CHECK_COLUMNS
from cbm_sim.scenario.provenance import assumptions_sha256
from cbm_sim.units import to_planner

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

RESULTS_MARKER = "meta.json"
"""A directory holding this file is a cbm-sim run directory (may be replaced)."""


class OutputExistsError(FileExistsError):
    """The output directory exists and may not (or must not) be replaced."""


def _owner_tag() -> str:
    """``<pid>@<host>``: who made a staging folder (so that only dead runs' are removed)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def _is_stale(tag: str) -> bool:
    """Whether the staging folder tagged ``tag`` belongs to a process that no longer runs.

    A folder of another host, or of a live process, is never stale; one without a readable
    tag (older cbm-sim) is stale.
    """
    pid_text, _, host = tag.partition("@")
    if not pid_text.isdigit():
        return True
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False


def _stale_folders(final: Path, kind: str) -> list[Path]:
    prefix = f".{final.name}.{kind}-"
    try:
        entries = list(final.parent.iterdir())
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name.startswith(prefix) and entry.is_dir() and not entry.is_symlink():
            tag = entry.name[len(prefix) :].partition("-")[2]  # <hex>-<pid>@<host>
            if _is_stale(tag):
                out.append(entry)
    return sorted(out)


def clean_stale(final: Path) -> list[Path]:
    """Remove the staging folders that killed runs left beside ``final``.

    ``.<name>.partial-*`` folders of dead processes are deleted. ``.<name>.old-*`` folders
    hold complete previous results moved aside for an ``--overwrite`` swap; if the run was
    killed between its two renames, ``final`` is missing and the newest such folder is
    renamed back to ``final`` (the old complete results), the others are deleted.

    Returns
    -------
    list of pathlib.Path
        The folders removed or restored.
    """
    done = []
    for folder in _stale_folders(final, "partial"):
        shutil.rmtree(folder, ignore_errors=True)
        done.append(folder)
    olds = _stale_folders(final, "old")
    if olds and not final.exists() and not final.is_symlink():
        newest = max(olds, key=lambda p: p.stat().st_mtime)
        newest.rename(final)
        olds.remove(newest)
        done.append(newest)
    for folder in olds:
        shutil.rmtree(folder, ignore_errors=True)
        done.append(folder)
    return done


def check_target(target: Path, *, overwrite: bool) -> None:
    """Refuse an output path that exists, unless ``overwrite`` and it is safe to replace.

    Only an empty directory or a previous run directory (holding ``meta.json``) is ever
    replaced, so a mistyped ``-o`` cannot delete unrelated files. Staging folders of killed
    runs into ``target`` are cleaned first (:func:`clean_stale`).

    Raises
    ------
    OutputExistsError
        If ``target`` exists and may not be replaced.
    """
    clean_stale(target)
    if not target.exists() and not target.is_symlink():
        return
    if not overwrite:
        raise OutputExistsError(f"{target} exists; pass --overwrite to replace it")
    if not target.is_dir() or target.is_symlink():
        raise OutputExistsError(f"{target} exists and is not a directory; refusing to replace it")
    if any(target.iterdir()) and not (target / RESULTS_MARKER).is_file():
        raise OutputExistsError(
            f"{target} is not a cbm-sim run directory (no {RESULTS_MARKER}); refusing to replace it"
        )


@contextmanager
def staged_directory(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """A temporary directory beside ``target`` that becomes ``target`` on success.

    On any exception (including ``KeyboardInterrupt``) inside the ``with`` block the
    temporary directory is removed and ``target`` is left as it was.

    Raises
    ------
    OutputExistsError
        On entry, as :func:`check_target`.
    """
    final = Path(target)
    check_target(final, overwrite=overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    # the owner's pid and host in the name: a later run removes it once that process is gone;
    # mkdir gives the permissions an ordinary mkdir would (0777 less the umask)
    staging = final.parent / f".{final.name}.partial-{uuid.uuid4().hex[:8]}-{_owner_tag()}"
    try:
        staging.mkdir()
    except OSError as exc:  # e.g. a name too long once the staging suffix is added
        raise OutputExistsError(
            f"cannot create the staging folder beside {final}: {exc.strerror}; use a shorter -o"
        ) from None
    try:
        yield staging
        check_target(final, overwrite=overwrite)
        _swap_in(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, final: Path) -> None:
    if not final.exists():
        staging.rename(final)
        return
    # The old results are moved aside, not deleted, until the new ones are in place.
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}-{_owner_tag()}")
    final.rename(old)
    try:
        staging.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


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


def write_run(
    directory: str | Path,
    results: Results,
    *,
    targets: pd.DataFrame,
    valuation: pd.DataFrame,
    extra_meta: Mapping[str, Any] | None = None,
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

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If ``targets`` lacks a column of :data:`TARGET_COLUMNS` or ``results.scenario`` is
        missing.
    """
    out = Path(directory)
    missing = [c for c in TARGET_COLUMNS if c not in targets.columns]
    if missing:
        raise ValueError(f"target check lacks columns {missing}; expected {list(TARGET_COLUMNS)}")
    if results.scenario is None:
        raise ValueError("results.scenario is None; the resolved scenario is part of the outputs")
    results.to_parquet(out)
    to_planner(results.annual.loc[:, list(ANNUAL_COLUMNS)]).to_csv(
        out / "annual.csv", index=False, encoding="utf-8"
    )
    rest = [c for c in targets.columns if c not in TARGET_COLUMNS]
    targets.loc[:, [*TARGET_COLUMNS, *rest]].to_csv(
        out / "targets.csv", index=False, encoding="utf-8"
    )
    valuation_csv(valuation).to_csv(out / "valuation.csv", index=False, encoding="utf-8")
    (out / "scenario.yaml").write_text(results.scenario.to_yaml(), encoding="utf-8")
    own = {"assumptions_sha256": assumptions_sha256(results.scenario)}
    integrity.write_meta(out, {**dict(results.meta), **own, **dict(extra_meta or {})}, OUTPUT_FILES)
    return [out / name for name in sorted(OUTPUT_FILES)]
