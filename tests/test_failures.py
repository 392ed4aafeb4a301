"""Pump failures over runs of steps: who may fail, how many, uniformly, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.wells import failures, stepping
from cbm_sim.wells.population import DOWN, WellPopulation
from cbm_sim.wells.supply import BlockSupply

N_BLOCKS = 3


def _population(rng: np.random.Generator, n: int, online_spread: float) -> WellPopulation:
    pop = WellPopulation(N_BLOCKS)
    pop.add_cohort(
        block=rng.integers(0, N_BLOCKS, n),
        well_type=np.zeros(n, dtype=np.int8),
        online_day=np.round(rng.uniform(-100.0, online_spread, n)),
        qi=rng.uniform(1000.0, 5000.0, n),
        di=np.full(n, 0.3),
        b=np.full(n, 0.5),
        d_term=np.full(n, 0.05),
        t_incline=np.zeros(n),
        q_start=np.zeros(n),
    )
    return pop


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.sampled_from([0.5, 5.0, 60.0]),
    workover=st.sampled_from([0.5, 3.0, 12.0]),
    per_call=st.sampled_from([1, 5, 40]),
)
def test_failing_wells_were_producing_and_counts_follow_the_population(
    seed, rate, workover, per_call
):
    rng = np.random.default_rng(seed)
    pop = _population(rng, 60, 80.0)
    supply = BlockSupply(pop, N_BLOCKS, step_days=1)
    exact = stepping.StepVolumes(pop) if per_call == 1 else None
    fail_rng = np.random.default_rng(seed + 1)
    days = 120
    for d0 in range(0, days, per_call):
        steps = np.arange(d0, min(d0 + per_call, days))
        producing = set(stepping.producing_indices(pop, float(d0)).tolist())
        got = supply.fail(fail_rng, steps, np.full(steps.size, rate / 365.25), workover)
        assert got.shape == steps.shape and (got >= 0).all()
        failed = set(np.flatnonzero(pop.down_from_day == d0).tolist())
        assert failed <= producing
        if per_call == 1:  # later steps of a call may fail a well again (short workovers)
            assert len(failed) == got[0]
        gas, active, total, down = supply.steps(steps, steps + 1)
        ref = stepping.counts_by_block(pop, float(steps[-1]), N_BLOCKS)
        np.testing.assert_array_equal(total[-1], ref.total)
        np.testing.assert_array_equal(active[-1], ref.active)
        assert down[-1] == ref.down
        if exact is not None:  # the exact per-well volumes of the step, workovers included
            vol = exact.step(float(d0), float(d0 + 1))
            want = np.bincount(pop.block, weights=vol, minlength=N_BLOCKS)
            np.testing.assert_allclose(gas[0], want, rtol=1e-9, atol=1e-6)
    downed = pop.state == DOWN
    assert (pop.down_from_day[downed] >= pop.online_day[downed]).all()


def test_one_call_for_many_steps_equals_a_call_per_step():
    def run(per_call: int) -> tuple[np.ndarray, np.ndarray]:
        pop = _population(np.random.default_rng(5), 300, 60.0)
        supply = BlockSupply(pop, N_BLOCKS, step_days=1)
        rng = np.random.default_rng(9)
        counts = []
        for d0 in range(0, 100, per_call):
            steps = np.arange(d0, d0 + per_call)
            counts.append(supply.fail(rng, steps, np.full(per_call, 2.0 / 365.25), 7.0))
            supply.steps(steps, steps + 1)
        return np.concatenate(counts), pop.down_from_day.copy()

    one = run(1)
    many = run(25)
    np.testing.assert_array_equal(one[0], many[0])
    np.testing.assert_array_equal(one[1], many[1])


def _one_step(pop: WellPopulation, day: int, expected: float, rng: np.random.Generator):
    """Draw one step's failures on ``day`` and undo them (the population as it was)."""
    saved = (pop.down_from_day.copy(), pop.down_until_day.copy(), pop.state.copy())
    up = stepping.producing_indices(pop, float(day))
    wells, _, n = failures.draw(
        rng,
        pop,
        np.array([day]),
        np.array([expected]),
        3.0,
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
        int(np.count_nonzero(pop.online_day <= day)),
        int(np.count_nonzero(pop.online_day <= day) - up.size),
        np.zeros((pop.n_blocks, day + 5)),
    )
    pop.down_from_day[:], pop.down_until_day[:], pop.state[:] = saved
    return wells, int(n[0]), up


@pytest.mark.parametrize("n_producing", [2000, 100])  # rejection from all, and from a list
def test_failures_are_poisson_in_number_and_uniform_over_producing_wells(n_producing):
    n_wells = 2000
    pop = WellPopulation(1)
    online = np.where(np.arange(n_wells) < n_producing, -1.0, 1e9)  # the rest never online
    pop.add_cohort(
        block=np.zeros(n_wells, dtype=np.int64),
        well_type=np.zeros(n_wells, dtype=np.int8),
        online_day=online,
        qi=np.full(n_wells, 1000.0),
        di=np.full(n_wells, 0.3),
        b=np.full(n_wells, 0.5),
        d_term=np.full(n_wells, 0.05),
        t_incline=np.zeros(n_wells),
        q_start=np.zeros(n_wells),
    )
    rng = np.random.default_rng(11)
    hits = np.zeros(n_wells)
    n_steps, expected = 400, 0.02
    per_step = []
    for d in range(n_steps):
        # each draw is undone: every well is back for the next step
        wells, n, _ = _one_step(pop, d, expected, rng)
        assert len(set(wells.tolist())) == wells.size  # no well fails twice in a step
        hits[wells] += 1
        per_step.append(n)
    mean = expected * n_producing
    # Poisson: the mean of 400 draws within 5 standard errors
    assert abs(np.mean(per_step) - mean) < 5 * np.sqrt(mean / n_steps)
    assert hits[n_producing:].sum() == 0  # wells not online never fail
    # uniform: per-well hit counts over the producing wells pass a chi-square test
    obs = hits[:n_producing]
    exp = obs.sum() / n_producing
    chi2 = ((obs - exp) ** 2 / exp).sum()
    dof = n_producing - 1
    assert chi2 < dof + 5 * np.sqrt(2 * dof)


def _draw_args(**change):
    pop = _population(np.random.default_rng(0), 10, 0.0)
    args = {
        "rng": np.random.default_rng(0),
        "pop": pop,
        "step_days": np.array([0, 1]),
        "expected_per_well": np.array([0.1, 0.1]),
        "workover_days": 3.0,
        "online_delta": np.zeros(2, dtype=np.int64),
        "down_delta": np.zeros(2, dtype=np.int64),
        "online_before": 10,
        "down_before": 0,
        "down_delta_by_block": np.zeros((N_BLOCKS, 10)),
    }
    return {**args, **change}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expected_per_well": np.array([0.1])}, r"expected_per_well has shape \(1,\)"),
        ({"step_days": np.array([3, 1])}, r"step_days must increase; got \[3, 1\]"),
        ({"expected_per_well": np.array([0.1, -1.0])}, r"must be finite and >= 0; got"),
        ({"workover_days": 0.0}, "workover_days must be > 0; got 0.0"),
        ({"online_delta": np.zeros(5, dtype=np.int64)}, r"one entry per day of the 2 days"),
        ({"down_delta_by_block": np.zeros((N_BLOCKS, 3))}, "covers 3 days; the workovers reach"),
    ],
)
def test_bad_input_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        failures.draw(**_draw_args(**change))


def test_failures_must_start_at_the_next_step():
    pop = _population(np.random.default_rng(0), 10, 0.0)
    supply = BlockSupply(pop, N_BLOCKS, step_days=1)
    with pytest.raises(ValueError, match=r"from the next step on \(day 0\); got step days from 4"):
        supply.fail(np.random.default_rng(0), np.array([4]), np.array([0.1]), 3.0)


def test_failures_skip_wells_down_or_not_yet_online():
    rng = np.random.default_rng(11)
    pop = _population(rng, 400, -100.0)  # all online by day 10 ...
    pop.online_day[300:] = 50.0  # ... but these
    pop.set_down(np.arange(0, 300, 4), 30.0, 5.0)  # a quarter of the rest down over [5, 30)
    hits = np.zeros(len(pop))
    for _ in range(3000):
        wells, n, up = _one_step(pop, 10, 0.05, rng)
        assert np.unique(wells).size == wells.size == n
        hits[wells] += 1
    assert set(np.flatnonzero(hits)) <= set(up.tolist())
    # each producing well is equally likely: counts per well within 5 binomial sigmas
    p = hits.sum() / (3000 * up.size)
    z = (hits[up] - 3000 * p) / np.sqrt(3000 * p * (1 - p))
    assert np.abs(z).max() < 5.0


def test_no_more_wells_fail_than_produce():
    pop = _population(np.random.default_rng(0), 40, -100.0)
    wells, n, up = _one_step(pop, 0, 1e6, np.random.default_rng(0))
    assert n == up.size == 40 and sorted(wells.tolist()) == list(range(40))


@pytest.mark.parametrize("claimed_down", [0, 390])  # rejection path, list path
def test_counts_that_disagree_with_the_population_are_an_error(claimed_down):
    pop = _population(np.random.default_rng(0), 400, -100.0)
    pop.set_down(np.arange(400), 1e9, 0.0)  # every well is down, whatever the counts say
    span = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="counted per day disagree with the population"):
        failures.draw(
            np.random.default_rng(0),
            pop,
            np.array([0]),
            np.array([1e6]),
            3.0,
            span,
            span.copy(),
            400,
            claimed_down,
            np.zeros((N_BLOCKS, 10)),
        )
