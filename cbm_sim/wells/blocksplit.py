"""A compiled kernel's wells split by block over two threads, for a single run on two cores.

The per-block kernels of a run's supply (:func:`cbm_sim.wells.bookings.book_days`,
:func:`cbm_sim.wells.nodesums.node_sums`) add each well's gas to its own block's row or
sums, well after well, and run without the interpreter lock (``nogil``). Two calls on two
disjoint sets of blocks therefore touch disjoint outputs, and each output element receives
the same additions in the same order as in one call over every well: the same bits, in
about half the wall time (≈ 0.12 s of a cold ``cbm-sim run`` is in those kernels).

Off by default: a study's workers already keep both cores busy with whole runs, so only
``cbm-sim run`` turns it on (:func:`split_blocks`), around its one simulation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

__all__ = ["MIN_WORK", "run_split", "second_side", "split_blocks"]

MIN_WORK = 4_000.0
"""Least work of a call worth splitting [well-days or well-nodes]; assumption: a hand-off to
the other thread costs ≈ 0.05 ms (wake-up and the dispatcher's type check), the kernels
≈ 7-35 ns a well-day and ≈ 30 ns a well-node (measured on the plan run, 2-core host), so a
call under ~4,000 units gains less than its hand-off."""

_threads = 1
_pool: ThreadPoolExecutor | None = None


@contextmanager
def split_blocks(threads: int = 2) -> Iterator[None]:
    """Inside the block, the kernels split their wells by block over ``threads`` threads
    (1 or 2: the second half goes to one helper thread); as before afterwards.

    Raises
    ------
    ValueError
        If ``threads`` is not 1 or 2.
    """
    global _threads
    if threads not in (1, 2):
        raise ValueError(f"threads must be 1 or 2, got {threads!r}")
    before, _threads = _threads, threads
    try:
        yield
    finally:
        _threads = before


def second_side(
    blocks: npt.NDArray[np.int64], work: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.bool_] | None:
    """Which items (wells of a kernel call) the second thread takes: whole blocks, chosen so
    that both threads get about the same ``work`` (per item; 1 each without it).

    Parameters
    ----------
    blocks
        The block of each item.
    work
        The work of each item (days to book, nodes to sum) [any unit]; None: 1 each.

    Returns
    -------
    numpy.ndarray of bool or None
        True for the second thread's items; None when the call is not split (splitting
        is off, the work is under :data:`MIN_WORK`, or one block holds it all).
    """
    if _threads < 2 or blocks.size < 2:
        return None
    load = np.bincount(blocks, weights=work).astype(np.float64)
    if load.sum() < MIN_WORK:
        return None
    second = np.zeros(load.size, dtype=bool)
    sides = [0.0, 0.0]
    for b in np.argsort(-load, kind="stable"):  # the heaviest block first, to the lighter side
        if load[b] <= 0.0:
            break
        k = 0 if sides[0] <= sides[1] else 1
        second[b] = k == 1
        sides[k] += float(load[b])
    if sides[1] == 0.0:
        return None
    chosen: npt.NDArray[np.bool_] = second[blocks]
    return chosen


def run_split(first: Callable[[], None], second: Callable[[], None]) -> None:
    """Run ``first`` on this thread and ``second`` on the helper thread; return when both are
    done.

    Whichever thread comes to ``second`` first runs it: if the helper thread has not started
    it by the time ``first`` is done (no free core: the host is busy), this thread runs it
    itself rather than wait to be scheduled, so a busy host costs no more than one thread.
    The outputs are the same either way (disjoint blocks, each part in its order). An error
    of ``first`` is raised after ``second`` is done or never started; else ``second``'s.
    """
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cbm-sim-blocks")
    claim = threading.Lock()

    def helper() -> None:
        if claim.acquire(blocking=False):
            second()

    future = _pool.submit(helper)
    try:
        first()
    except BaseException:
        if not claim.acquire(blocking=False):
            wait([future])  # the helper writes into the outputs: let it finish first
        raise
    if claim.acquire(blocking=False):
        second()  # the helper never started it: here, at once
    else:
        future.result()
