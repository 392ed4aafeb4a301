"""Runs of the studio: a warm pool of worker processes writing ordinary run folders.

A run is simulated in a worker process, never in the server's own: a model error, a worker
killed by the system or a run out of memory ends that run with a message and the pool is
started again, while the server goes on serving. The workers are started once and warmed (the
compiled kernels loaded, one short run done), so that a lever change costs one run: on the
plan scenario about 1 s of simulation, valuation and target check, and 0.2 s to write the
folder, on this 2-core machine (``benchmarks/README.md``). The studio computes no preview that
differs from a full run: the verdict shown is the full run's, at the scenario's own step.

Every run is a run folder like ``cbm-sim run -o`` writes (``runs/studio/<key>``: the same
files, ``meta.json`` with the SHA-256 of each), named by the content key of its scenario
(:attr:`cbm_sim.studio.drafts.Composed.key`): the same scenario is run once, whichever tab
asks; two tabs asking for different scenarios get each their own folder and key, so their
results cannot mix. The worker runs the draft's *text*, parsed as ``cbm-sim run`` parses the
saved file, so the folder is what ``cbm-sim run`` of the saved scenario writes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing as mp
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

import pandas as pd

from cbm_sim.studio.drafts import Composed, NotFoundError

MAX_PENDING_RUNS: Final[int] = 32
"""Runs queued or running at once; more are refused with HTTP 429. assumption: 32 runs of the
plan scenario are ≈ 20 s of work for two workers, as long as a planner waits for a page."""
MAX_KEPT_RUNS: Final[int] = 200
"""Run folders kept under ``runs/studio``; the oldest are removed beyond it. assumption: 200
runs of the plan scenario are ≈ 350 MB (1.7 MB each)."""
FOLDER_WAIT_S: Final[float] = 30.0
"""Longest wait for the folder of a run whose verdict is known [s]; assumption: writing the
plan scenario's folder takes 0.2 s, 150× that covers a loaded machine."""
_RUN_ID = re.compile(r"^[0-9a-f]{16}$")


class RunFailedError(RuntimeError):
    """A run ended without results (a model error, or its worker died)."""


class BusyError(RuntimeError):
    """Too many runs or jobs at once (HTTP 429)."""


def exit_with(parent: int) -> None:
    """End this process when ``parent`` (the server) is gone: a worker never outlives the
    studio, even one whose server was killed (a watcher thread, once a second)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def _start_worker(parent: int, warm: bool) -> None:
    """Worker initialiser: exit with the server; with ``warm``, import the engine and run a
    short scenario, so that the first real run does not pay for imports and for loading the
    compiled kernels."""
    exit_with(parent)
    if warm:
        _warm()


def _warm() -> None:
    import datetime as dt

    from cbm_sim.results import simulate
    from cbm_sim.scenario.model import Horizon, Scenario

    short = Scenario(horizon=Horizon(start=dt.date(2021, 1, 1), end=dt.date(2021, 3, 31)))
    simulate.run(short)


def execute(text: str, source: str, base_dir: str, out: str) -> list[dict[str, Any]]:
    """Worker: parse ``text`` as ``cbm-sim run`` parses a scenario file, simulate, value and
    check the targets; return the target check and write the run folder ``out`` whole
    (staged, then renamed) in a thread of the worker, so that the verdict does not wait for
    the files (≈ 0.2 s of the plan scenario's 1.1 s).

    Returns
    -------
    list of dict
        The target check's rows (``targets.csv``), NaN as None.
    """
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.economics.valuation import value
    from cbm_sim.results import simulate
    from cbm_sim.scenario.files import scenario_from_text

    scenario = scenario_from_text(text, source=source, base_dir=Path(base_dir))
    results = simulate.run(scenario)
    values = value(results)
    targets = check_targets(results, values)
    # not a daemon: a worker that is shut down finishes the folder it is writing
    threading.Thread(
        target=_write, args=(out, results, targets, values, source, text), daemon=False
    ).start()
    return records(targets)


def failure_note(out: str | Path) -> Path:
    """The file a worker leaves beside a run folder it could not write, with why."""
    out = Path(out)
    return out.with_name(f".{out.name}.failed")


def _write(out: str, results: Any, targets: Any, values: Any, source: str, text: str) -> None:
    from cbm_sim.results.rundir import staged_directory, write_run

    failure_note(out).unlink(missing_ok=True)  # an older attempt's
    try:
        with staged_directory(out, overwrite=True) as stage:
            write_run(
                stage,
                results,
                targets=targets,
                valuation=values,
                extra_meta={"scenario_file": source, "studio_draft": text},
            )
    except Exception as exc:  # the server, not this thread's stderr, must learn of it
        failure_note(out).write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-ready dicts: NaN and "" → None (as a CSV reads them back),
    numpy scalars → Python."""
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out.append(
            {k: None if v == "" else v.item() if hasattr(v, "item") else v for k, v in row.items()}
        )
    return out


@dataclass(frozen=True)
class RunView:
    """What the page reads of a finished run (from its folder)."""

    id: str
    folder: Path
    targets: pd.DataFrame
    meta: dict[str, Any]

    def verdict(self) -> list[dict[str, Any]]:
        """Target rows of the target years, JSON-ready (NaN → None)."""
        return records(self.targets)


class Runner:
    """The pool of warm workers and the runs they made.

    Parameters
    ----------
    runs_dir
        Where run folders are written (``runs/studio``).
    workers
        Worker processes (default 2: this machine's cores).
    warm
        Start and warm the workers now (the CLI does; tests may skip the warm-up run).
    """

    def __init__(self, runs_dir: Path, workers: int = 2, *, warm: bool = True) -> None:
        self.runs_dir = runs_dir
        self.workers = workers
        self._warm = warm
        self._lock = threading.Lock()
        self._pool: cf.ProcessPoolExecutor | None = None
        self._inflight: dict[str, cf.Future[list[dict[str, Any]]]] = {}
        self._pending = 0
        self._views: OrderedDict[str, RunView] = OrderedDict()
        # verdicts the workers returned, kept while their folders are being written
        self._verdicts: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        if warm:
            self._ensure_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # spawned, not forked: the server has threads (a fork would copy their held locks)
        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=mp.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), self._warm),
        )
        if self._warm:  # start every worker now, not at the first lever move
            for _ in range(self.workers):
                pool.submit(int, 0)
        return pool

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            return self._pool

    def _restart(self, broken: cf.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers: queued runs are dropped, running ones finish (a few seconds)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    async def run(self, composed: Composed) -> tuple[str, list[dict[str, Any]]]:
        """The run of a valid draft — its id and target check — from an earlier run of the
        same scenario if there is one, else simulated (its folder follows a moment later).

        Raises
        ------
        BusyError
            If :data:`MAX_PENDING_RUNS` runs are already queued or running.
        RunFailedError
            If the run failed (its message says why).
        """
        run_id = composed.key
        with self._lock:
            known = self._verdicts.get(run_id)
        if known is not None:
            return run_id, known
        if (self.folder(run_id) / "meta.json").is_file():
            return run_id, self.view(run_id).verdict()
        with self._lock:
            future = self._inflight.get(run_id)
            if future is None:
                if self._pending >= MAX_PENDING_RUNS:
                    raise BusyError(
                        f"{self._pending} runs are queued or running (at most "
                        f"{MAX_PENDING_RUNS}); wait for them and try again"
                    )
                self._pending += 1
                try:
                    future = self._submit(composed, run_id)
                except BaseException:
                    self._pending -= 1  # nothing queued: the slot is free again
                    raise
                self._inflight[run_id] = future
                future.add_done_callback(partial(self._done, run_id))
        try:
            verdict = await asyncio.wrap_future(future)
        except cf.process.BrokenProcessPool:
            raise RunFailedError(
                "the run's worker process died (out of memory, or killed); the workers were "
                "restarted, try again"
            ) from None
        except Exception as exc:
            raise RunFailedError(f"the run failed: {type(exc).__name__}: {exc}") from None
        with self._lock:
            self._verdicts[run_id] = verdict
            while len(self._verdicts) > 256:
                self._verdicts.popitem(last=False)
        self._trim()
        return run_id, verdict

    def _submit(self, composed: Composed, run_id: str) -> cf.Future[list[dict[str, Any]]]:
        """Queue the run (called with the lock held); a broken pool is replaced first."""
        args = (composed.text, composed.source, str(composed.base_dir), str(self.folder(run_id)))
        for attempt in range(2):
            if self._pool is None:
                self._pool = self._new_pool()
            pool = self._pool
            try:
                future = pool.submit(execute, *args)
                break
            except cf.process.BrokenProcessPool:
                self._pool = None
                if attempt:
                    raise
        future.add_done_callback(partial(self._check, pool=pool))
        return future

    def _check(
        self, future: cf.Future[list[dict[str, Any]]], *, pool: cf.ProcessPoolExecutor
    ) -> None:
        if isinstance(future.exception(), cf.process.BrokenProcessPool):
            threading.Thread(target=self._restart, args=(pool,), daemon=True).start()

    def _done(self, run_id: str, _future: object = None) -> None:
        with self._lock:
            self._inflight.pop(run_id, None)
            self._pending -= 1

    def view(self, run_id: str, field: str = "run", wait_s: float = FOLDER_WAIT_S) -> RunView:
        """The finished run ``run_id`` as the page reads it (from its folder; a run whose
        verdict was just returned is waited for while its worker writes the folder).

        Raises
        ------
        NotFoundError
            If ``run_id`` is not a run id, or there is no such run.
        """
        if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
            raise NotFoundError(field, f"expected a run id of 16 hex digits, got {run_id!r}")
        with self._lock:
            hit = self._views.get(run_id)
            if hit is not None:
                self._views.move_to_end(run_id)
                return hit
        folder = self.folder(run_id)
        with self._lock:
            coming = run_id in self._verdicts
        deadline = time.monotonic() + (wait_s if coming else 0.0)
        failed = failure_note(folder)
        while not (folder / "meta.json").is_file():
            if failed.is_file():
                # its verdict was returned but its folder could not be written: forget the
                # verdict so that the next request runs it again
                with self._lock:
                    self._verdicts.pop(run_id, None)
                why = failed.read_text(encoding="utf-8", errors="replace")
                failed.unlink(missing_ok=True)
                raise RunFailedError(f"the run's folder could not be written: {why}")
            if time.monotonic() >= deadline:
                raise NotFoundError(field, f"no run {run_id!r}")
            time.sleep(0.05)
        from cbm_sim.results.integrity import read_meta

        view = RunView(
            run_id,
            folder,
            pd.read_csv(folder / "targets.csv", keep_default_na=False, na_values=[""]),
            read_meta(folder),
        )
        with self._lock:
            self._views[run_id] = view
            while len(self._views) > 64:
                self._views.popitem(last=False)
        return view

    def _trim(self) -> None:
        """Remove the oldest run folders beyond :data:`MAX_KEPT_RUNS`."""
        try:
            folders = [p for p in self.runs_dir.iterdir() if _RUN_ID.fullmatch(p.name)]
        except OSError:
            return
        if len(folders) <= MAX_KEPT_RUNS:
            return
        folders.sort(key=lambda p: p.stat().st_mtime)
        for old in folders[: len(folders) - MAX_KEPT_RUNS]:
            with self._lock:
                self._views.pop(old.name, None)
                self._verdicts.pop(old.name, None)
            shutil.rmtree(old, ignore_errors=True)
