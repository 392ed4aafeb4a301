"""WellPopulation: exact volumes, states, aggregation, chunked memory."""

from __future__ import annotations

import tracemalloc
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from cbm_sim.wells import decline
from cbm_sim.wells.population import (
    ABANDONED,
    DOWN,
    HORIZONTAL,
    PRODUCING,
    VERTICAL,
    WellPopulation,
)

PARAMS = {"di": 0.3, "b": 0.6, "d_term": 0.06, "t_incline": 200.0, "q_start": 100.0}


def _pop(n: int = 50, n_blocks: int = 4, seed: int = 0) -> WellPopulation:
    rng = np.random.default_rng(seed)
    pop = WellPopulation(n_blocks)
    pop.add_cohort(
        rng.integers(0, n_blocks, n),
        rng.integers(0, 2, n),
        rng.uniform(-3000.0, 400.0, n),
        rng.lognormal(7.0, 0.5, n),
        **PARAMS,
    )
    return pop


def test_daily_volume_is_cumulative_difference() -> None:
    pop = _pop()
    v = pop.daily_volume(10.0, 11.0)
    expect = decline.cumulative(11.0 - pop.online_day, pop.qi, **PARAMS) - decline.cumulative(
        10.0 - pop.online_day, pop.qi, **PARAMS
    )
    np.testing.assert_allclose(v, expect, rtol=1e-9)


def test_volumes_with_plateaus_are_cumulative_differences_on_every_path() -> None:
    rng = np.random.default_rng(8)
    pop = WellPopulation(2)
    plateau = rng.choice([0.0, 30.0, 865.0], 40)
    online = rng.uniform(-1500.0, 50.0, 40)
    pop.add_cohort(rng.integers(0, 2, 40), 0, online, 2000.0, **PARAMS, t_plateau=plateau)
    pop.set_down([1, 2], until_day=40.5, from_day=12.25)  # the grid's exact event path
    edges = np.arange(0.0, 61.0)
    cum = decline.cumulative(
        edges[None, :] - online[:, None], 2000.0, **PARAMS, t_plateau=plateau[:, None]
    )
    grid = pop.production(edges[:-1])
    up = np.r_[0, 3:40]
    np.testing.assert_allclose(grid[up], np.diff(cum, axis=1)[up], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(pop.daily_volume(0.0, 60.0)[up], (cum[:, -1] - cum[:, 0])[up])
    # the wells down: the days before and after the workover, and its partial days
    for w in (1, 2):

        def c(d: float, w: int = w) -> float:
            return float(decline.cumulative(d - online[w], 2000.0, **PARAMS, t_plateau=plateau[w]))

        assert grid[w, :12].sum() == pytest.approx(c(12.0) - c(0.0), rel=1e-9)
        assert grid[w, 12] == pytest.approx(c(12.25) - c(12.0), rel=1e-9, abs=1e-6)
        assert grid[w, 13:40].sum() == 0.0
        assert grid[w, 40] == pytest.approx(c(41.0) - c(40.5), rel=1e-9, abs=1e-6)
        assert grid[w, 41:].sum() == pytest.approx(c(60.0) - c(41.0), rel=1e-9)


def test_volumes_are_additive_over_days() -> None:
    pop = _pop()
    pop.set_down([1, 2], until_day=40.5, from_day=12.25)
    pop.abandon([3], day=30.0)
    days = np.arange(0.0, 60.0)
    grid = pop.production(days)
    np.testing.assert_allclose(grid.sum(axis=1), pop.daily_volume(0.0, 60.0), rtol=1e-9, atol=1e-6)


def test_production_by_block_and_total_match_per_well_grid() -> None:
    pop = _pop(n=300)
    pop.set_down(np.arange(5), until_day=100.0, from_day=20.0)
    days = np.arange(-30.0, 400.0)
    grid = pop.production(days)
    by_block = pop.production_by_block(days, memory_bytes=200_000)  # forces many chunks
    expect = np.stack([grid[pop.block == k].sum(axis=0) for k in range(pop.n_blocks)])
    np.testing.assert_allclose(by_block, expect, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(pop.total(days), grid.sum(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        pop.daily_volume_by_block(5.0, 6.0), by_block[:, 35], rtol=1e-9, atol=1e-9
    )


def test_down_well_produces_nothing_and_decline_clock_runs() -> None:
    pop = WellPopulation(1)
    pop.add_cohort(0, VERTICAL, -1000.0, 1000.0, **PARAMS)
    pop.add_cohort(0, VERTICAL, -1000.0, 1000.0, **PARAMS)
    pop.set_down([0], until_day=50.0, from_day=10.0)
    v = pop.production(np.arange(0.0, 60.0))
    assert np.all(v[0, 10:50] == 0.0)
    # after the workover the well is back on the same (aged) curve as its twin
    np.testing.assert_allclose(v[0, 50:], v[1, 50:], rtol=1e-9)
    np.testing.assert_allclose(v[0, :10], v[1, :10], rtol=1e-9)
    assert pop.state_at(20.0)[0] == DOWN and pop.state_at(60.0)[0] == PRODUCING
    assert pop.active_mask(20.0).tolist() == [False, True]


def test_abandoned_well_stops_and_stays_abandoned() -> None:
    pop = _pop(n=3)
    pop.abandon(np.array([False, True, False]), day=5.5)
    v = pop.production(np.arange(0.0, 10.0))
    assert np.all(v[1, 6:] == 0.0)
    assert v[1, 5] == pytest.approx(float(pop.daily_volume(5.0, 5.5)[1]), rel=1e-12)
    pop.set_down([1], until_day=20.0)
    assert pop.state[1] == ABANDONED
    assert not pop.active_mask(7.0)[1]


def test_not_yet_online_wells_produce_nothing() -> None:
    pop = WellPopulation(2)
    pop.add_cohort([0, 1], [VERTICAL, HORIZONTAL], [100.0, 0.0], 1000.0, **PARAMS)
    v = pop.production(np.arange(0.0, 100.0))
    assert np.all(v[0] == 0.0) and np.all(v[1] > 0.0)
    assert pop.active_mask(50.0).tolist() == [False, True]


def test_chunked_aggregation_stays_under_100_mb() -> None:
    pop = _pop(n=20_000, n_blocks=23, seed=3)
    days = np.arange(0.0, 3653.0)
    tracemalloc.start()
    try:
        out = pop.production_by_block(days[:1000])  # 1000 days keeps the test fast
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (23, 1000)
    assert peak < 100 * 2**20, peak


def test_add_cohort_returns_indices_and_broadcasts() -> None:
    pop = _pop(n=5)
    idx = pop.add_cohort(1, HORIZONTAL, np.array([1.0, 2.0, 3.0]), 5000.0, **PARAMS)
    assert idx.tolist() == [5, 6, 7] and pop.n_wells == 8
    assert np.all(pop.well_type[idx] == HORIZONTAL) and np.all(pop.qi[idx] == 5000.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block": 7}, r"block must be an integer in \[0, 3\]; got 7"),
        ({"block": -1}, r"block must be an integer in \[0, 3\]; got -1"),
        ({"well_type": 2}, r"well_type must be 0 \(vertical\) or 1 \(horizontal\); got 2"),
        ({"qi": -5.0}, r"qi must be in .*got -5.0"),
        ({"online_day": float("nan")}, r"day must be in .*got nan"),
        ({"t_incline": -1.0}, r"t_incline must be in .*got -1.0"),
        ({"t_plateau": -1.0}, r"t_plateau must be in .*got -1.0"),
        ({"t_plateau": 4000.0}, r"t_plateau must be in .*got 4000.0"),
    ],
)
def test_add_cohort_rejects_bad_input(kwargs: dict[str, object], message: str) -> None:
    args = {"block": 0, "well_type": 0, "online_day": 0.0, "qi": 100.0, **PARAMS, **kwargs}
    with pytest.raises(ValueError, match=message):
        WellPopulation(4).add_cohort(**args)


def test_bad_indices_and_intervals_rejected() -> None:
    pop = _pop(n=3)
    with pytest.raises(ValueError, match=r"well index out of range \[0, 2\]; got 9"):
        pop.abandon([9], day=1.0)
    with pytest.raises(ValueError, match=r"from_day must be a number <= until_day; got 50.0"):
        pop.set_down([0], until_day=10.0, from_day=50.0)
    with pytest.raises(ValueError, match=r"day_end must be >= day_start=5.0; got 4.0"):
        pop.daily_volume(5.0, 4.0)
    with pytest.raises(ValueError, match=r"step_days must be > 0; got -1"):
        pop.production([0.0], step_days=-1)
    with pytest.raises(ValueError, match=r"n_blocks must be >= 1; got 0"):
        WellPopulation(0)


def _typed_cohort(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "block": rng.integers(0, 3, n),
        "well_type": rng.integers(0, 2, n).astype(np.int8),
        "online_day": rng.uniform(-100.0, 100.0, n),
        "qi": rng.uniform(100.0, 5000.0, n),
        "di": rng.uniform(0.1, 1.0, n),
        "b": rng.uniform(0.0, 1.5, n),
        "d_term": np.full(n, 0.05),
        "t_incline": rng.uniform(0.0, 400.0, n),
        "q_start": np.zeros(n),
        "t_plateau": rng.choice([0.0, 150.0], n),
    }


def test_unvalidated_typed_cohort_takes_the_fast_path_with_the_same_result() -> None:
    cohort = _typed_cohort(7, np.random.default_rng(1))
    checked, fast = WellPopulation(3), WellPopulation(3)
    np.testing.assert_array_equal(
        checked.add_cohort(**cohort), fast.add_cohort(**cohort, validate=False)
    )
    names = ("block", "well_type", "online_day", "qi", "b", "t_plateau", "state", "down_until_day")
    for name in names:
        np.testing.assert_array_equal(getattr(checked, name), getattr(fast, name))
        assert getattr(checked, name).dtype == getattr(fast, name).dtype


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("block", 3, r"block must be an integer in \[0, 2\]; got 3"),
        ("block", -1, r"block must be an integer in \[0, 2\]; got -1"),
        ("well_type", 2, "well_type must be 0 .* got 2"),
    ],
)
def test_fast_path_still_checks_blocks_and_types(column: str, value: int, message: str) -> None:
    cohort = _typed_cohort(4, np.random.default_rng(2))
    cohort[column][2] = value
    with pytest.raises(ValueError, match=message):
        WellPopulation(3).add_cohort(**cohort, validate=False)


@settings(max_examples=50, deadline=None)
@given(
    sizes=hst.lists(hst.integers(1, 1500), min_size=1, max_size=6),
    reserved=hst.integers(0, 6000),
)
def test_a_reserved_population_holds_the_same_columns(sizes, reserved):
    # room made up front (a history's every drawn well) changes no column, only how often
    # the buffers behind them grow
    rng = np.random.default_rng(len(sizes))
    plain, roomy = WellPopulation(3), WellPopulation(3)
    roomy.reserve(reserved)
    for n in sizes:
        cohort = {
            "block": rng.integers(0, 3, n),
            "well_type": rng.integers(0, 2, n),
            "online_day": rng.uniform(-3000.0, 0.0, n),
            "qi": rng.uniform(100.0, 3000.0, n),
            "di": 0.3,
            "b": 0.5,
        }
        plain.add_cohort(**cohort)
        roomy.add_cohort(**cohort)
    for f in fields(WellPopulation):
        a, b = getattr(plain, f.name), getattr(roomy, f.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), f.name
