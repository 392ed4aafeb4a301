"""Compiled per-well volumes of production_by_block against the numpy grid, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.wells import decline, gridsums, population
from cbm_sim.wells.population import WellPopulation

_PROBE = np.random.default_rng(0).uniform(-40.0, 40.0, 20_000)
SAME_LIBM = np.exp(_PROBE).tobytes() == np.array([math.exp(x) for x in _PROBE]).tobytes() and (
    np.log(np.abs(_PROBE)).tobytes() == np.array([math.log(abs(x)) for x in _PROBE]).tobytes()
)
"""Whether numpy's exp and log are the C library's here (numba calls the C library): then the
compiled volumes are the numpy grid's bit for bit; else (numpy's own AVX-512 exp/log) to 1e-12."""


def _same(got: np.ndarray, want: np.ndarray) -> None:
    if SAME_LIBM:
        assert got.tobytes() == want.tobytes()
    else:  # pragma: no cover - a CPU where numpy has its own exp and log
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def _numpy_by_block(pop: WellPopulation, days: np.ndarray, step: float, memory: int) -> np.ndarray:
    """production_by_block as it was before the compiled volumes: the numpy grid of each
    chunk (``WellPopulation._grid``), its rows sorted by block and summed by reduceat, the
    chunks' sums added in turn."""
    per_well = (days.size + 1) * 8 * population._TEMPORARIES
    chunk = max(1, int(memory // (population._WORKERS * per_well)))
    out = np.zeros((pop.n_blocks, days.size))
    for start in range(0, len(pop), chunk):
        sl = slice(start, min(start + chunk, len(pop)))
        vol = pop._grid(sl, days, step)
        blk = pop.block[sl]
        order = np.argsort(blk, kind="stable")
        runs = np.flatnonzero(np.r_[True, blk[order][1:] != blk[order][:-1]])
        part = np.zeros((pop.n_blocks, days.size))
        part[blk[order][runs]] = np.add.reduceat(vol[order], runs, axis=0)
        out += part
    return out


def _population(rng: np.random.Generator, n: int, plateau: float, events: bool) -> WellPopulation:
    """Wells of every decline family, a tenth dry, some on a plateau, online before and
    inside the grid; with ``events`` some down for a workover and some abandoned."""
    pop = WellPopulation(5)
    qi = rng.uniform(1.0, 2e4, n)
    di = rng.choice([1e-3, 0.05, 0.3, 1.5, 4.0], n) * rng.uniform(0.8, 1.2, n)
    dry = rng.random(n) < 0.1
    pop.add_cohort(
        rng.integers(0, 5, n),
        rng.integers(0, 2, n),
        rng.uniform(-6000.0, 600.0, n).round(rng.integers(0, 3)),
        np.where(dry, 0.0, qi),
        di,
        rng.choice([0.0, 1e-12, 0.3, 0.7, 1.0 - 1e-7, 1.0, 1.6], n),
        np.minimum(rng.uniform(0.0, 0.3, n), di),
        rng.choice([0.0, 1e-301, 37.5, 90.0, 400.0], n),
        np.where(dry, 0.0, qi * rng.uniform(0.0, 0.5, n)),
        np.where(rng.random(n) < 0.5, plateau, 0.0),
    )
    if events:
        down = rng.choice(n, n // 5, replace=False)
        pop.set_down(down, until_day=rng.uniform(50.0, 400.0, down.size), from_day=12.25)
        pop.abandon(rng.choice(n, n // 7, replace=False), day=200.5)
    return pop


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    plateau=st.sampled_from([0.0, 20.25, 1095.0]),
    events=st.booleans(),
    step=st.sampled_from([1.0, 7.0, 30.5]),
    memory=st.sampled_from([1, 50_000, population.MEMORY_BUDGET_BYTES]),
)
def test_production_by_block_is_the_numpy_grid_s_bit_for_bit(
    seed, n, plateau, events, step, memory
):
    """The same volumes (dry wells: exact zeros, skipped), summed in the same order, for
    one well per chunk, several and all wells in one."""
    rng = np.random.default_rng(seed)
    pop = _population(rng, n, plateau, events)
    days = -300.0 + step * np.arange(rng.integers(1, 60))
    got = pop.production_by_block(days, step, memory_bytes=memory)
    want = _numpy_by_block(pop, days, step, memory)
    _same(got, want)
    assert not np.signbit(got).any()  # zero sums are +0, as the numpy path's 0 + part


def test_chunk_volumes_are_the_grid_s_rows_and_a_dry_well_s_are_zeros() -> None:
    pop = _population(np.random.default_rng(5), 60, 1095.0, events=False)
    days = np.arange(-100.0, 400.0)
    edges = np.append(days, days[-1] + 1.0)
    k = decline.prepare_unchecked(*(getattr(pop, name) for name in decline.PARAMS))
    cols = np.stack([k[key] for key in decline.PREPARED_KEYS])
    wells = np.arange(len(pop), dtype=np.int64)
    vol = np.full((len(pop), days.size), np.nan)
    gridsums.chunk_volumes(cols, pop.online_day.copy(), wells, edges, True, vol)
    want = pop._grid(slice(0, len(pop)), days, 1.0)
    dry = (pop.qi == 0.0) & (pop.q_start == 0.0)
    assert dry.any() and np.all(vol[dry] == 0.0) and np.all(want[dry] == 0.0)
    _same(vol[~dry], want[~dry])


def test_production_by_block_rejects_a_bad_grid_as_before() -> None:
    pop = _population(np.random.default_rng(1), 5, 0.0, events=False)
    with pytest.raises(ValueError, match="day"):
        pop.production_by_block([np.nan])
