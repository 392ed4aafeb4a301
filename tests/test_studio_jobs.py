"""The studio's job manager: cancels that race a job's start, without spawning real jobs.

The job processes are stand-ins (a process-like object and a real pipe), so each test drives
one interleaving of the manager's threads deterministically; the API tests
(``test_studio_api.py``) run real jobs end to end.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import pytest

from cbm_sim.studio.jobs import Jobs


class _FakeProcess:
    """What the manager uses of a ``multiprocessing.Process``."""

    def __init__(self) -> None:
        self.alive = True
        self.exitcode: int | None = None

    def is_alive(self) -> bool:
        return self.alive

    def terminate(self) -> None:
        self.alive, self.exitcode = False, -15

    kill = terminate

    def join(self, timeout: float | None = None) -> None:
        return None


@pytest.fixture
def fake_jobs(monkeypatch: pytest.MonkeyPatch):
    """A manager whose processes are stand-ins; yields it and the child ends of the pipes."""
    children: list[Any] = []
    processes: list[_FakeProcess] = []

    def spawn(self: Jobs) -> tuple[_FakeProcess, Any]:
        parent, child = mp.Pipe(duplex=True)
        children.append(child)
        processes.append(_FakeProcess())
        return processes[-1], parent

    monkeypatch.setattr(Jobs, "_spawn", spawn)
    manager = Jobs()
    yield manager, children, processes
    manager.close()


def _settled(manager: Jobs, job_id: str, timeout_s: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = manager.snapshot(job_id)
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.02)
    return manager.snapshot(job_id)


def _got_nothing(conn: Any) -> bool:
    """No message on ``conn`` (the other end closed, or silent)."""
    if not conn.poll(0.1):
        return True
    try:
        conn.recv()
    except EOFError:
        return True
    return False


def test_a_cancel_while_the_job_takes_its_process_ends_that_process_unsent(
    fake_jobs, monkeypatch: pytest.MonkeyPatch
):
    manager, children, processes = fake_jobs
    taking = Jobs._take_spare

    def take_then_cancel(self: Jobs) -> tuple[Any, Any]:
        spare = taking(self)
        for job_id in list(self._jobs):  # the user's cancel arrives now: no process yet
            self.cancel(job_id)
        return spare

    monkeypatch.setattr(Jobs, "_take_spare", take_then_cancel)
    job = manager.start("goalseek", {"base": "quick"})
    settled = _settled(manager, job.id)
    assert settled["status"] == "cancelled", settled
    assert settled["result"] is None
    assert not processes[0].is_alive()  # its process was ended
    assert _got_nothing(children[0])  # and never got the job


def test_a_result_that_comes_after_the_cancel_is_dropped(
    fake_jobs, monkeypatch: pytest.MonkeyPatch
):
    manager, _, _ = fake_jobs

    def watch_cancelled_then_done(self: Jobs, job: Any, conn: Any, process: Any):
        self.cancel(job.id)  # the user cancels ...
        return ("done", {"folder": "runs/studio/x"})  # ... as the job's result arrives

    monkeypatch.setattr(Jobs, "_watch", watch_cancelled_then_done)
    job = manager.start("ensemble", {"base": "quick"})
    settled = _settled(manager, job.id)
    assert settled["status"] == "cancelled", settled
    assert settled["result"] is None


def test_a_job_not_cancelled_still_gets_its_result(fake_jobs, monkeypatch: pytest.MonkeyPatch):
    manager, children, _ = fake_jobs

    def watch_done(self: Jobs, job: Any, conn: Any, process: Any):
        assert children[0].recv() == ("ensemble", {"base": "quick"})  # the job was sent
        return ("done", {"members": 2})

    monkeypatch.setattr(Jobs, "_watch", watch_done)
    job = manager.start("ensemble", {"base": "quick"})
    settled = _settled(manager, job.id)
    assert settled["status"] == "done" and settled["result"] == {"members": 2}
