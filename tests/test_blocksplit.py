"""The block kernels split over two threads: the same bits, whole blocks per thread, errors."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_bookings import _random_columns
from test_nodesums import _population

from cbm_sim.wells import blocksplit, bookings, nodesums
from cbm_sim.wells.supply import NODES, _interpolation


def test_off_by_default_and_only_inside_split_blocks() -> None:
    blocks = np.repeat(np.arange(4), 5_000)
    assert blocksplit.second_side(blocks) is None
    with blocksplit.split_blocks(2):
        assert blocksplit.second_side(blocks) is not None
        with blocksplit.split_blocks(1):
            assert blocksplit.second_side(blocks) is None
        assert blocksplit.second_side(blocks) is not None
    assert blocksplit.second_side(blocks) is None


@pytest.mark.parametrize("threads", [0, 3, -1])
def test_split_blocks_refuses_other_thread_counts(threads: int) -> None:
    with (
        pytest.raises(ValueError, match=f"threads must be 1 or 2, got {threads}"),
        blocksplit.split_blocks(threads),
    ):
        pass


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(st.integers(0, 22), min_size=2, max_size=400),
    scale=st.floats(1.0, 1e4),
)
def test_second_side_takes_whole_blocks_and_balances_the_work(blocks, scale) -> None:
    items = np.array(blocks, dtype=np.int64)
    work = np.random.default_rng(len(blocks)).uniform(0.0, 2.0, items.size) * scale
    with blocksplit.split_blocks(2):
        side = blocksplit.second_side(items, work)
    load = np.bincount(items, weights=work)
    if load.sum() < blocksplit.MIN_WORK or np.count_nonzero(load) < 2:
        assert side is None
        return
    assert side is not None and side.shape == items.shape
    for b in np.unique(items):  # a block never straddles the threads
        assert len(set(side[items == b].tolist())) == 1
    second, first = work[side].sum(), work[~side].sum()
    assert second > 0.0 and first > 0.0
    # greedy, heaviest block first: the sides differ by at most the heaviest block
    assert abs(second - first) <= load.max() * (1 + 1e-12)


def test_small_calls_are_not_split() -> None:
    with blocksplit.split_blocks(2):
        assert blocksplit.second_side(np.array([0, 1, 2, 3])) is None  # 4 units of work
        assert blocksplit.second_side(np.zeros(10_000, dtype=np.int64)) is None  # one block


def _bookings(rng: np.random.Generator, n: int, plateau: float) -> tuple[Any, np.ndarray]:
    """A book_days call over wells of 5 blocks, some booked twice (workovers), and the window
    it continues."""
    cols = _random_columns(rng, n, plateau)
    online = rng.uniform(-3000.0, 200.0, n)
    block = rng.integers(0, 5, n)
    s = np.concatenate([rng.permutation(n), rng.integers(0, n, n)])
    first = np.maximum(np.floor(online[s]), 0).astype(np.int64)
    days = rng.integers(0, 6_000, s.size)
    lo = np.where(rng.random(s.size) < 0.3, rng.uniform(0.0, 300.0, s.size), -np.inf)
    hi = np.where(rng.random(s.size) < 0.3, lo + rng.uniform(0.0, 9e3, s.size), np.inf)
    sign = rng.choice([1.0, -1.0], s.size)

    def call(out: np.ndarray) -> None:
        bookings.book_days(cols, online, block, s, first, days, lo, hi, sign, 0, out)

    return call, rng.normal(0.0, 1e6, (5, 6_500))


def _node_sums(rng: np.random.Generator, n: int, plateau: float) -> tuple[Any, np.ndarray]:
    """A node_sums call over wells of 3 blocks and the sums of earlier wells it continues."""
    cols, online, block = _population(rng, n, plateau)
    times = 3584 + np.concatenate(([0.0], _interpolation(256, NODES)[0]))
    wells = rng.permutation(n)

    def call(out: np.ndarray) -> None:
        nodesums.node_sums(cols, online, block, wells, times, bool(plateau), out, 3)

    return call, rng.normal(0.0, 1e8, NODES * 3)


@settings(max_examples=40, deadline=None)
@given(
    kernel=st.sampled_from([_bookings, _node_sums]),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(400, 1_200),
    plateau=st.sampled_from([0.0, 20.25, 1095.0]),
)
def test_the_kernels_split_by_block_are_one_call_bit_for_bit(kernel, seed, n, plateau) -> None:
    """Each output element gets the same additions in the same order on two threads as in
    one call (the window or sums continued, as a run continues them)."""
    call, start = kernel(np.random.default_rng(seed), n, plateau)
    one, two = start.copy(), start.copy()
    call(one)
    calls: list[int] = []
    real = blocksplit.run_split

    def counted(first: Any, second: Any) -> None:
        calls.append(1)
        real(first, second)

    with blocksplit.split_blocks(2), pytest.MonkeyPatch.context() as patch:
        patch.setattr(blocksplit, "run_split", counted)
        call(two)
    assert calls == [1]  # it was split
    assert one.tobytes() == two.tobytes()


def test_run_split_runs_both_parts_once() -> None:
    ran: list[str] = []
    blocksplit.run_split(lambda: ran.append("first"), lambda: ran.append("second"))
    assert sorted(ran) == ["first", "second"]


def test_a_busy_helper_leaves_the_second_part_to_this_thread() -> None:
    # the helper thread is held up (no free core): this thread runs the second part itself
    # instead of waiting, and the helper, when it comes, does not run it again
    blocksplit.run_split(lambda: None, lambda: None)  # the helper thread exists
    assert blocksplit._pool is not None
    gate = threading.Event()
    blocker = blocksplit._pool.submit(gate.wait, 5)
    ran: list[str] = []
    try:
        blocksplit.run_split(
            lambda: ran.append("first"),
            lambda: ran.append(threading.current_thread().name),
        )
    finally:
        gate.set()
    blocker.result()
    blocksplit.run_split(lambda: None, lambda: None)  # the stale hand-off has run by now
    assert ran == ["first", threading.current_thread().name]


def test_errors_of_either_part_are_raised_after_both_are_done() -> None:
    done = threading.Event()

    def slow() -> None:
        done.wait(0.2)
        done.set()

    def fail() -> None:
        raise RuntimeError("first failed")

    with pytest.raises(RuntimeError, match="first failed"):
        blocksplit.run_split(fail, slow)
    # the helper either finished its part or never began it: nothing still writes
    assert blocksplit._pool is not None
    blocksplit._pool.submit(lambda: None).result()

    def second_fails() -> None:
        raise ValueError("second failed")

    gate = threading.Event()
    with pytest.raises(ValueError, match="second failed"):
        blocksplit.run_split(lambda: gate.wait(0.5), second_fails)


def test_the_plan_run_on_two_threads_is_the_run_on_one_bit_for_bit() -> None:
    # what `cbm-sim run` does (split_blocks around its one run): every frame the same bits
    from cbm_sim.cluster import build
    from cbm_sim.results.simulate import run
    from cbm_sim.scenario.files import load_scenario

    scenario = load_scenario(Path(__file__).parent.parent / "scenarios" / "plan.yaml")
    frames = []
    for threads in (1, 2):
        build._HISTORIES.clear()  # a fresh history: no replayed supply, as a command's run
        with blocksplit.split_blocks(threads):
            frames.append(run(scenario))
    one, two = frames
    for name in ("daily", "annual", "events"):
        a, b = getattr(one, name), getattr(two, name)
        assert a.equals(b), name
        numeric = a.select_dtypes("number").columns
        assert a[numeric].to_numpy().tobytes() == b[numeric].to_numpy().tobytes(), name
