"""Background jobs of the studio: an ensemble, a goal-seek or a PDF report of a run.

Each job runs in a process of its own (spawned), reporting its progress through a pipe, so
that a job can be cancelled for real (its process is ended) and a job that fails — or whose
process dies — is reported as failed while the server goes on. At most :data:`MAX_RUNNING`
jobs run at once and :data:`MAX_QUEUED` wait; more are refused (HTTP 429). What a job writes
is an ordinary folder or file of the command it stands for: an ensemble folder as ``cbm-sim
ensemble -o`` writes it, a PDF as ``cbm-sim report`` writes it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

from cbm_sim.studio.drafts import NotFoundError
from cbm_sim.studio.runs import BusyError

MAX_RUNNING: Final[int] = 1
"""Jobs running at once. assumption: a job keeps one core busy; the other is left to the
run workers, so lever moves stay answered while an ensemble runs (2-core machine)."""
MAX_QUEUED: Final[int] = 4
"""Jobs waiting for a slot; more are refused."""
MAX_KEPT_JOBS: Final[int] = 50
KINDS: Final[tuple[str, ...]] = ("ensemble", "goalseek", "report")


@dataclass
class Job:
    """One background job and what is known of it (read under the manager's lock)."""

    id: str
    kind: str
    params: dict[str, Any]
    status: str = "queued"  # queued, running, done, failed, cancelled
    progress: float = 0.0
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: bool = False
    process: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 4),
            "message": self.message,
            "result": self.result,
            "error": self.error,
        }


# --------------------------------------------------------------------------- in the job process
def job_process(conn: Connection, server_pid: int) -> None:
    """A job's process, started before its job: it exits with the server, imports what every
    job needs and runs the engine once (so a job does not wait for that), then waits for its
    job ``(kind, params)`` on ``conn`` and runs it (:func:`job_main`)."""
    from cbm_sim.studio.runs import _warm, exit_with

    exit_with(server_pid)
    import cbm_sim.report.pdf
    import cbm_sim.studies.ensemble
    import cbm_sim.studies.goalseek  # noqa: F401

    _warm()
    try:
        kind, params = conn.recv()
    except (EOFError, OSError):  # the server stopped, or cancelled before the job came
        return
    job_main(kind, params, conn)


def job_main(kind: str, params: dict[str, Any], conn: Connection) -> None:
    """Run one job, sending ``("progress", fraction, message)`` now and then and
    ``("done", result)`` or ``("error", message)`` at the end."""

    def send(*message: Any) -> None:
        with contextlib.suppress(OSError, ValueError):  # the server went away
            conn.send(message)

    try:
        work = {"ensemble": _ensemble, "goalseek": _goalseek, "report": _report}[kind]
        send("done", work(params, send))
    except BaseException as exc:
        send("error", f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def _scenario(params: dict[str, Any]) -> Any:
    from cbm_sim.scenario.files import scenario_from_text

    return scenario_from_text(
        params["text"], source=params["source"], base_dir=Path(params["base_dir"])
    )


def _ensemble(params: dict[str, Any], send: Callable[..., None]) -> dict[str, Any]:
    from cbm_sim.studies.ensemble import run_ensemble

    scenario = _scenario(params)
    step = params.get("step_days")
    if step:
        horizon = scenario.horizon.model_copy(update={"step_days": int(step)})
        scenario = scenario.model_copy(update={"horizon": horizon})
    n = int(params["n"])
    result = run_ensemble(
        scenario,
        n,
        workers=1,
        progress=lambda f: send("progress", 0.95 * f, f"{round(f * n)} of {n} members"),
    )
    result.to_dir(params["out"], overwrite=True)
    probabilities = result.probabilities()
    headline = probabilities[
        probabilities["target"].isin(["output.total", "production.total"])
    ].to_dict("records")
    from cbm_sim import names

    return {
        "folder": params["out"],
        "members": int(result.members["member"].nunique()) if len(result.members) else 0,
        "failed": len(result.failures),
        "n": n,
        "headline": [
            {**{k: _plain(v) for k, v in row.items()},
             **{f"name_{lang}": names.target_name(str(row["target"]), lang)
                for lang in names.LANGS}}
            for row in headline
        ],
    }  # fmt: skip


def _goalseek(params: dict[str, Any], send: Callable[..., None]) -> dict[str, Any]:
    from cbm_sim.studies.goalseek import goal_seek, planned_wells

    scenario = _scenario(params)
    count = 0

    def step(x: float, achieved: float) -> None:
        nonlocal count
        count += 1
        # brentq on a bracket of this width needs about 12-16 evaluations (assumption: the
        # share shown is an estimate; the job says when it is done)
        send(
            "progress",
            min(0.95, count / 16),
            f"run {count}: {params['lever']} = {x:.4g} gives {achieved:,.2f}",
        )

    found = goal_seek(
        scenario,
        int(params["year"]),
        float(params["target"]),
        params["lever"],
        (float(params["low"]), float(params["high"])),
        quantity=params["quantity"],
        on_evaluation=step,
    )
    out = {
        "lever": found.lever,
        "value": found.value,
        "achieved": found.achieved,
        "target": found.target,
        "converged": found.converged,
        "message": found.message,
        "evaluations": count,
    }
    if found.lever == "drilling":
        out["planned_wells"] = planned_wells(scenario, int(params["year"]))
    return out


def _report(params: dict[str, Any], send: Callable[..., None]) -> dict[str, Any]:
    import pandas as pd

    from cbm_sim.report.charts import EnsembleFrames
    from cbm_sim.report.pdf import write_report
    from cbm_sim.results.frames import Results

    results = Results.from_parquet(params["run_folder"])
    ensemble = None
    folder = params.get("ensemble_folder")
    if folder:
        ensemble = EnsembleFrames(
            percentiles=pd.read_csv(Path(folder) / "percentiles.csv"),
            probabilities=pd.read_csv(Path(folder) / "probabilities.csv"),
            tornado=None,
            sobol=None,
        )
    from cbm_sim.results import ownership, writer

    out = Path(params["out"])
    # the shared writer: staged, swapped in whole; only a PDF cbm-sim wrote is replaced
    with writer.staged_file(out, overwrite=True, recognise=ownership.pdf_by_cbm_sim) as stage:
        write_report(
            results,
            stage,
            lang=params["lang"],
            ensemble=ensemble,
            chart_files=False,
            progress=lambda name, done, total: send("progress", 0.95 * done / total, name),
        )
    return {"file": str(out)}


def _plain(value: Any) -> Any:
    try:
        return value.item()  # numpy scalars
    except AttributeError:
        return value


# --------------------------------------------------------------------------- the manager
class Jobs:
    """Start, watch and cancel background jobs (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(MAX_RUNNING)
        self._closed = False
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._ctx = mp.get_context("spawn")
        # one process ready for the next job (spawned: the server has threads)
        self._spare: tuple[Any, Connection] | None = self._spawn()

    def _spawn(self) -> tuple[Any, Connection]:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=job_process, args=(child, os.getpid()), name="cbm-sim-job", daemon=True
        )
        process.start()
        child.close()
        return process, parent

    def _take_spare(self) -> tuple[Any, Connection]:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None or not spare[0].is_alive():
            if spare is not None:
                spare[1].close()
            spare = self._spawn()
        return spare

    def start(self, kind: str, params: dict[str, Any]) -> Job:
        """Queue a job; it starts when a slot is free.

        Raises
        ------
        BusyError
            If :data:`MAX_QUEUED` jobs already wait.
        """
        with self._lock:
            waiting = sum(j.status == "queued" for j in self._jobs.values())
            if waiting >= MAX_QUEUED:
                raise BusyError(
                    f"{waiting} jobs are waiting (at most {MAX_QUEUED}); cancel one or wait"
                )
            job = Job(uuid.uuid4().hex[:12], kind, params)
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_KEPT_JOBS:
                oldest = next(iter(self._jobs.values()))
                if oldest.status in ("queued", "running"):
                    break
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        """The job ``job_id``.

        Raises
        ------
        NotFoundError
            If there is no such job.
        """
        with self._lock:
            job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise NotFoundError("job", f"no job {job_id!r}")
        return job

    def snapshot(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        with self._lock:
            return job.to_json()

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (its process is ended); a finished job is left."""
        job = self.get(job_id)
        with self._lock:
            if job.status in ("queued", "running"):
                job.cancel_requested = True
                process = job.process
            else:
                process = None
        if process is not None and process.is_alive():
            process.terminate()
        with self._lock:
            if job.status == "queued":
                job.status, job.finished = "cancelled", time.time()
            return job.to_json()

    def close(self) -> None:
        """End every running job's process."""
        with self._lock:
            self._closed = True
            processes = [j.process for j in self._jobs.values() if j.process is not None]
            if self._spare is not None:
                processes.append(self._spare[0])
                self._spare = None
            for job in self._jobs.values():
                job.cancel_requested = True
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)

    def _run(self, job: Job) -> None:
        with self._slots:
            with self._lock:
                if job.cancel_requested:
                    job.status = "cancelled"
                    job.finished = job.finished or time.time()
                    return
                job.status = "running"
            process, parent = self._take_spare()
            with self._lock:
                # a cancel that came while the process was being taken saw no process to
                # end: end it here instead of running the job
                job.process = process
                cancelled = job.cancel_requested
            if cancelled:
                process.terminate()
                final = None
            else:
                try:
                    parent.send((job.kind, job.params))
                except OSError:  # the process was ended (a cancel) before it got the job
                    final = None
                else:
                    final = self._watch(job, parent, process)
            process.join(timeout=5)
            if process.is_alive():  # pragma: no cover - a process that ignores SIGTERM
                process.kill()
                process.join()
            parent.close()
            with self._lock:  # the next job's process, started while no job runs
                if self._spare is None and not self._closed:
                    self._spare = self._spawn()
            with self._lock:
                job.process = None
                job.finished = time.time()
                if job.cancel_requested:  # a result that came after the cancel is dropped
                    job.status, job.message = "cancelled", "cancelled"
                elif final is None:
                    job.status = "failed"
                    job.error = (
                        f"the job's process ended without a result (exit code "
                        f"{process.exitcode}); the server goes on"
                    )
                elif final[0] == "done":
                    job.status, job.progress, job.result = "done", 1.0, final[1]
                else:
                    job.status, job.error = "failed", str(final[1])

    def _watch(self, job: Job, conn: Connection, process: Any) -> tuple[Any, ...] | None:
        """Read the job's messages until its result or the end of its process."""
        while True:
            if conn.poll(0.2):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    return None
                if message[0] == "progress":
                    with self._lock:
                        job.progress, job.message = float(message[1]), str(message[2])
                    continue
                return tuple(message)
            if not process.is_alive() and not conn.poll(0):
                return None
