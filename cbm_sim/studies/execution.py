"""Running many items of a study, serially or on Dask distributed, with retries of items
whose workers die and a bounded wait for a scheduler that does not answer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from cbm_sim import allocator

Progress = Callable[[float], None]
T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------------------- execution
WORKER_ENVIRON: Final[dict[str, int]] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": allocator.MMAP_THRESHOLD_BYTES,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": allocator.TRIM_THRESHOLD_BYTES,
}
"""glibc malloc settings of the local cluster's workers (read at process start).

Dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` to hand freed memory back at once; setting it
also fixes glibc's mmap threshold at 128 KiB, so every array of a member above that size is
a fresh ``mmap`` and its pages fault in again. A member allocates such arrays by the
thousand and returns only a small summary, so the workers keep arrays up to 32 MiB (the
largest threshold glibc accepts on 64-bit) on the heap and trim above 128 MiB free. Measured
(``benchmarks/README.md``): a member ≈ 15-25 % faster, a fifth of the system time.
"""


SCHEDULER_TIMEOUT_S: Final[float] = 30.0
"""How long an ensemble waits to reach a Dask scheduler, for its first worker, or with no
worker left while members remain [s]; assumption: a healthy cluster answers within seconds,
and half a minute covers workers still starting. Past it the ensemble fails with
:class:`SchedulerError` (never hangs)."""
WORKER_DEATH_RETRIES: Final[int] = 3
"""How often a member is started again after the workers running it died (``KilledWorker``);
assumption: Dask's own default of ``distributed.scheduler.allowed-failures`` (3, Dask
configuration reference). A member's result depends only on its seed, so a retried member
equals an undisturbed one."""


class _Frozen:
    """``func`` run in a worker process: before its first item the process's objects (the
    imported libraries, ~10^6 of them) are moved out of the garbage collector's sight
    (``gc.freeze``), so that the collections a member starts walk only its own objects
    (measured, issue 27: 0.05 s of a member's CPU in collections, 0.02 s frozen). Only in
    Dask's worker processes, which run nothing but items: never in the caller's process."""

    frozen = False  # per process: set in the worker on its first item

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __call__(self, item: Any) -> Any:
        if not _Frozen.frozen:
            import gc

            gc.freeze()
            _Frozen.frozen = True
        return self.func(item)


class _Batch:
    """``func`` over a list of items in one task: ``[func(x) for x in items]`` (see
    :func:`execute`'s ``batch``)."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def __call__(self, items: Sequence[Any]) -> list[Any]:
        return [self.func(item) for item in items]


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be reached, has no workers, or keeps losing them."""


def execute(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    on_result: Callable[[int, R], None] | None = None,
    timeout_s: float = SCHEDULER_TIMEOUT_S,
    batch: int = 1,
) -> list[R]:
    """``[func(x) for x in items]``, in order, serially or on Dask distributed.

    ``scheduler="tcp://host:port"`` uses that cluster; otherwise ``workers == 1`` runs in
    this process (no Dask, for debugging) and any other count starts a
    ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` (one process
    per worker because the simulation holds the GIL); ``None`` = one worker per CPU.

    ``on_result(k, result)`` is called as each item finishes (in completion order), e.g. to
    save it. An item whose workers die is submitted again, up to
    :data:`WORKER_DEATH_RETRIES` times.

    ``batch``: on Dask, runs of this many consecutive items go to a worker as one task,
    run there in order (a task costs the scheduler, this process and the worker a few ms
    each: issue 27 measured ~14 ms of this process's CPU per one-run task in a Sobol study;
    consecutive items may also share a worker's caches, e.g. a Saltelli group's supply
    replays). ``on_result`` and ``progress`` are still told of each item; the results are
    the same whatever the batch.

    Raises
    ------
    SchedulerError
        If the scheduler is not reached, or has no worker, within ``timeout_s`` [s], or an
        item killed its workers more than :data:`WORKER_DEATH_RETRIES` times.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    n = len(items)
    if scheduler is None and (workers == 1 or n <= 1):
        out = []
        for k, item in enumerate(items):
            out.append(func(item))
            if on_result is not None:
                on_result(k, out[-1])
            if progress is not None:
                progress((k + 1) / n)
        return out
    import dask
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        # the workers ignore Ctrl-C (dask_setup below): it is this process's to handle
        with dask.config.set({**WORKER_ENVIRON, "distributed.worker.preload": [__name__]}):
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # no dashboard, and its health/metrics server on a free port: the default
                # 8787 is often taken (another cluster), which prints a warning per run
                scheduler_kwargs={"dashboard_address": ":0"},
            )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=timeout_s)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {scheduler} within {timeout_s:g} s "
                f"({type(exc).__name__}: {exc})"
            ) from None
    where = scheduler or "the local cluster"
    job: _Job[Any, Any] = _Job(func, items, progress, on_result, timeout_s, where)
    if batch > 1:
        job = _batched(job, batch)
    # through client.close(): its attempts to reach a lost scheduler log tracebacks too
    with _lost_connection_told_once():
        got = _run_on(client, cluster, job)
    return [r for chunk in got for r in chunk] if batch > 1 else got


def _batched(job: _Job[T, R], batch: int) -> _Job[list[T], list[R]]:
    """``job`` as tasks of ``batch`` consecutive items each, telling ``on_result`` and
    ``progress`` of every item of a finished task."""
    n = len(job.items)
    firsts = list(range(0, n, batch))
    chunks = [list(job.items[k : k + batch]) for k in firsts]
    done = [0]

    def finished(c: int, values: list[R]) -> None:
        for j, value in enumerate(values):
            if job.on_result is not None:
                job.on_result(firsts[c] + j, value)
        done[0] += len(values)
        if job.progress is not None:
            job.progress(done[0] / n)

    return _Job(_Batch(job.func), chunks, None, finished, job.timeout_s, job.where)


@dataclass(frozen=True)
class _Job(Generic[T, R]):
    """The items of one :func:`execute` on Dask and what to do as each finishes."""

    func: Callable[[T], R]
    items: Sequence[T]
    progress: Progress | None
    on_result: Callable[[int, R], None] | None
    timeout_s: float
    where: str  # the scheduler, for messages


def _run_on(client: Any, cluster: Any, job: _Job[T, R]) -> list[R]:
    """Gather ``job`` on ``client``, then close it (and our ``cluster``) whatever happens."""
    interrupted = False
    try:
        # distributed's wait() uses the process's default client; another client of the
        # caller's (a notebook's, a test's) on another event loop would bind our futures'
        # events to that loop ("bound to a different event loop"), so ours is made current
        with client.as_current():
            return _gather(client, job)
    except KeyboardInterrupt:
        interrupted = True
        _quiet()  # the user asked to stop: the cluster's shutdown noise is not news
        if cluster is not None:
            _stop_workers(cluster)
        raise
    finally:
        if cluster is not None and not interrupted:
            settle(client, len(cluster.workers))
        client.close()
        if cluster is not None:
            cluster.close()


class _DropConnectionTracebacks:
    """A logging filter: drop the tracebacks distributed's client logs while it tries to
    reach a scheduler that is gone (the command says so in one line, SchedulerError)."""

    def filter(self, record: Any) -> bool:
        import asyncio

        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError | OSError)


@contextlib.contextmanager
def _lost_connection_told_once() -> Iterator[None]:
    import logging

    logger = logging.getLogger("distributed.client")
    quiet = _DropConnectionTracebacks()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def dask_setup(worker: Any) -> None:
    """Run in each worker of our local cluster as it starts (Dask preload): Ctrl-C reaches
    the whole process group, and a worker that took it would print a traceback; this
    process stops the cluster instead."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(cluster: Any) -> None:
    """End our local workers at once (not restarted, nothing logged): a worker closed while
    its task runs would warn about the cancelled task on the terminal."""
    import signal

    for nanny in list(cluster.workers.values()):
        with contextlib.suppress(Exception):  # a nanny already gone is fine
            nanny.close_gracefully()  # no restart of a worker that goes away
            if nanny.pid:
                os.kill(nanny.pid, signal.SIGKILL)


def _quiet() -> None:
    """Silence Dask's loggers in this process (the cluster is being torn down on purpose)."""
    import logging

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def settle(client: Any, workers: int, timeout_s: float = 30.0) -> None:
    """Wait until ``workers`` workers are registered again (at most ``timeout_s`` [s]).

    A Nanny whose worker died restarts it; closing the cluster while that restart is under
    way fails inside distributed ("can only join a started process") and leaves the cluster
    half closed. Waiting for the restarted workers first makes the close clean; it returns at
    once when no worker died.
    """
    if workers < 1:
        return
    # a worker that cannot come back is closed as it is
    with contextlib.suppress(TimeoutError, OSError):
        client.wait_for_workers(workers, timeout=timeout_s)


def _workers(client: Any) -> int:
    return len(client.scheduler_info().get("workers", {}))


def _gather(client: Any, job: _Job[T, R]) -> list[R]:
    """Submit every item, collect the results as they finish, retry items of dead workers."""
    from concurrent.futures import CancelledError

    try:
        return _collect(client, job)
    except (CancelledError, OSError) as exc:
        # a lost scheduler cancels every future (distributed lists them all): one line instead
        raise SchedulerError(
            f"lost the Dask scheduler at {job.where} ({type(exc).__name__})"
        ) from None


def _collect(client: Any, job: _Job[T, R]) -> list[R]:
    import time

    from distributed import KilledWorker, as_completed

    func, items, timeout_s, where = job.func, job.items, job.timeout_s, job.where
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (TimeoutError, OSError) as exc:
        raise SchedulerError(
            f"the Dask scheduler at {where} has no workers (waited {timeout_s:g} s; "
            f"{type(exc).__name__})"
        ) from None
    n = len(items)
    func = _Frozen(func)
    index = {client.submit(func, item, pure=False): k for k, item in enumerate(items)}
    # as_completed hands over each future once as it finishes; a wait() over the pending set
    # after every completion walked all of them each time (quadratic: about 0.03 s of this
    # process's CPU a run in a Sobol study of 9,472 runs, issue 27)
    finished = as_completed(list(index))
    results: dict[int, R] = {}
    deaths = [0] * n
    idle_since: float | None = None
    poll_s = min(1.0, timeout_s / 10)
    checked = time.monotonic()
    while len(results) < n:
        done = finished.next_batch(block=False)
        if not done:
            now = time.monotonic()
            if now - checked >= poll_s:
                checked = now
                if _workers(client):
                    idle_since = None
                else:
                    idle_since = idle_since or now
                    if now - idle_since > timeout_s:
                        raise SchedulerError(
                            f"no Dask workers left at {where} for {timeout_s:g} s with "
                            f"{n - len(results)} members to run"
                        )
            time.sleep(0.01)
            continue
        idle_since = None
        checked = time.monotonic()
        for fut in done:
            k = index.pop(fut)
            try:
                value = fut.result()
            except KilledWorker:
                deaths[k] += 1
                if deaths[k] > WORKER_DEATH_RETRIES:
                    raise SchedulerError(
                        f"item {k} killed its workers {deaths[k]} times; giving up"
                    ) from None
                again = client.submit(func, items[k], pure=False)
                index[again] = k
                finished.add(again)
                continue
            results[k] = value
            if job.on_result is not None:
                job.on_result(k, value)
            if job.progress is not None:
                job.progress(len(results) / n)
    return [results[k] for k in range(n)]
