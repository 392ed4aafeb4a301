"""Per-block step volumes by windows against the population's own exact per-well volumes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import decline_params

from cbm_sim.wells import decline, stepping
from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import PARAMS, counts_by_block
from cbm_sim.wells.supply import (
    NODES,
    BlockSupply,
    SharedWindows,
    _interpolation,
    window_days_for,
)

N_BLOCKS = 4


def _cohort(rng: np.random.Generator, n: int, online_from: float, spread: float) -> dict:
    """Wells of every decline family: exponential, hyperbolic, harmonic, b > 1, steep."""
    qi = rng.uniform(300.0, 20000.0, n)
    di = rng.choice([0.05, 0.3, 1.5, 4.0], n) * rng.uniform(0.8, 1.2, n)
    return {
        "block": rng.integers(0, N_BLOCKS, n),
        "well_type": np.zeros(n, dtype=np.int8),
        "online_day": online_from + rng.uniform(0.0, spread, n).round(),
        "qi": qi,
        "di": di,
        "b": rng.choice([0.0, 1e-12, 0.3, 0.7, 1.0, 1.6], n),
        "d_term": np.minimum(rng.uniform(0.0, 0.3, n), di),
        "t_incline": rng.choice([0.0, 37.5, 90.0, 400.0], n),
        "q_start": qi * rng.uniform(0.0, 0.5, n),
        # plateaus end on and off day and window boundaries (a kink like the incline's end)
        "t_plateau": rng.choice([0.0, 0.0, 20.25, 256.0, 900.0], n),
    }


def _run(seed: int, step: int, days: int) -> tuple[float, int]:
    """Step a population with hook-ups and workovers; return the worst error of the block
    volumes relative to max(exact volume, 1000 m³) (a block whose wells are all down nets
    two equal volumes: a residual of ~1e-8 m³) and the number of steps compared."""
    rng = np.random.default_rng(seed)
    pop = WellPopulation(N_BLOCKS)
    pop.add_cohort(**_cohort(rng, 300, -4000.0, 3900.0))
    supply = BlockSupply(pop, N_BLOCKS, step)
    worst, checked = 0.0, 0
    for d0 in range(0, days, step):
        if rng.random() < 0.1:  # hook-ups, some online later inside the step or after it
            pop.add_cohort(**_cohort(rng, int(rng.integers(1, 20)), float(d0), 2.0 * step))
        if rng.random() < 0.5:
            up = stepping.producing_indices(pop, float(d0))
            idx = rng.choice(up, size=min(15, up.size), replace=False)
            supply.set_down(idx, float(d0), d0 + float(rng.choice([0.5, 3.0, 10.0, 200.0])))
        got, counts = supply.step(d0, d0 + step)
        want = pop.daily_volume_by_block(float(d0), float(d0 + step))
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e3))))
        ref = counts_by_block(pop, float(d0 + step - 1), N_BLOCKS)
        np.testing.assert_array_equal(counts.total, ref.total)
        np.testing.assert_array_equal(counts.active, ref.active)
        assert counts.down == ref.down
        checked += 1
    return worst, checked


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), step=st.sampled_from([1, 2, 7, 31]))
def test_block_volumes_and_counts_equal_the_exact_per_well_ones(seed, step):
    worst, checked = _run(seed, step, days=400)
    assert checked > 0
    assert worst < 1e-9


def test_plan_like_run_over_several_windows_is_exact():
    worst, _ = _run(7, 1, days=3 * window_days_for(1) + 5)
    assert worst < 1e-9


@settings(max_examples=100, deadline=None)
@given(params=decline_params(di_hi=5.0), online=st.floats(-20_000.0, 0.0))
def test_interpolated_window_of_one_well_matches_its_daily_volumes(params, online):
    """A single well, interpolated when the criterion allows it, exact otherwise."""
    pop = WellPopulation(1)
    pop.add_cohort(block=0, well_type=0, online_day=online, **params)
    supply = BlockSupply(pop, 1)
    W = supply.window_days
    got = np.array([supply.step(d, d + 1)[0][0] for d in range(W)])
    t = np.arange(W + 1.0) - online
    want = np.diff(decline.cumulative(t, **params))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_interpolation_reproduces_polynomials_of_degree_below_the_node_count():
    nodes, matrix = _interpolation(128, NODES)
    x = np.arange(129.0)

    def scaled(t):  # on [-1, 1], where the polynomial is of order 1
        return (t - 64.0) / 64.0

    for degree in range(NODES):
        coef = np.random.default_rng(degree).normal(size=degree + 1)
        np.testing.assert_allclose(
            matrix @ np.polyval(coef, scaled(nodes)), np.polyval(coef, scaled(x)), atol=1e-12
        )
    assert np.allclose(matrix.sum(axis=1), 1.0)  # a partition of unity


def test_most_wells_of_the_calibrated_population_are_interpolated():
    pop = stepping.initial_population(np.random.default_rng(1))
    supply = BlockSupply(pop, int(pop.block.max()) + 1)
    supply.step(0, 1)
    # wells drilled in 2020-2021 are still dewatering, and those whose calibrated plateau
    # (1,095 d, calibration.yaml) ends in the window have that kink: both evaluated daily
    assert supply.interpolated_share > 0.8


def test_prepared_constants_handed_over_equal_those_prepared_from_the_population():
    rng = np.random.default_rng(3)
    pop = WellPopulation(N_BLOCKS)
    pop.add_cohort(**_cohort(rng, 50, -1000.0, 900.0))
    plain, handed = BlockSupply(pop, N_BLOCKS), BlockSupply(pop, N_BLOCKS)
    plain.step(0, 1)
    handed.step(0, 1)
    new = _cohort(rng, 5, 1.0, 0.0)
    first = len(pop)
    pop.add_cohort(**new)
    handed.add_constants(first, stepping.prepared_columns({k: new[k] for k in PARAMS}))
    np.testing.assert_array_equal(plain.step(1, 2)[0], handed.step(1, 2)[0])


# -- bad input ------------------------------------------------------------------------------
@pytest.fixture
def supply() -> BlockSupply:
    rng = np.random.default_rng(0)
    pop = WellPopulation(N_BLOCKS)
    pop.add_cohort(**_cohort(rng, 20, -500.0, 400.0))
    return BlockSupply(pop, N_BLOCKS, step_days=7)


def test_steps_out_of_order_are_refused(supply):
    with pytest.raises(ValueError, match=r"expected day_start=0 .* got \[7, 14\)"):
        supply.step(7, 14)
    supply.step(0, 7)
    with pytest.raises(ValueError, match=r"expected day_start=7 .* got \[7, 7\)"):
        supply.step(7, 7)


def test_a_step_across_the_window_end_is_refused(supply):
    W = supply.window_days
    for d in range(0, W - 7, 7):
        supply.step(d, d + 7)
    with pytest.raises(ValueError, match=rf"crosses the window end {W}"):
        supply.step(W - 7 - (W % 7), W + 3)


def test_window_days_for_a_bad_step(supply):
    with pytest.raises(ValueError, match="step_days must be >= 1; got 0"):
        window_days_for(0)


def test_workovers_in_the_past_or_twice_or_before_online_are_refused(supply):
    supply.step(0, 7)
    with pytest.raises(ValueError, match=r"current step 7 <= from_day < until_day; got from_day=3"):
        supply.set_down([0], 3.0, 10.0)
    supply.set_down([0], 7.0, 20.0)
    with pytest.raises(ValueError, match="well 0 is already down on day 8"):
        supply.set_down([0], 8.0, 9.0)
    supply.pop.add_cohort(**_cohort(np.random.default_rng(1), 1, 50.0, 0.0))
    with pytest.raises(ValueError, match="well 20 is not online on day 7"):
        supply.set_down([20], 7.0, 9.0)


def test_abandoned_wells_are_refused_with_their_index(supply):
    supply.pop.abandon([3], 0.0)
    with pytest.raises(ValueError, match=r"models no abandonment .* well 3 is abandoned"):
        supply.step(0, 7)


def test_constants_for_the_wrong_wells_are_refused(supply):
    supply.step(0, 7)
    cols = stepping.prepared_columns({k: np.ones(2) for k in PARAMS})
    with pytest.raises(ValueError, match=r"constants for wells \[20, 22\) do not follow"):
        supply.add_constants(20, cols)


def test_producing_count_before_the_last_counted_day_is_refused(supply):
    supply.step(0, 7)
    with pytest.raises(ValueError, match="day 2 is before the last counted day 6"):
        supply.producing_count(2)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), step=st.sampled_from([1, 7]))
def test_a_window_of_steps_at_once_equals_its_steps_one_by_one(seed, step):
    def run(at_once: bool) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        pop = WellPopulation(N_BLOCKS)
        pop.add_cohort(**_cohort(rng, 200, -3000.0, 2900.0))
        supply = BlockSupply(pop, N_BLOCKS, step)
        W = supply.window_days
        out = []
        for w0 in range(0, 2 * W, W):
            # hook-ups of the window (online inside it) are known before its steps
            pop.add_cohort(**_cohort(rng, 10, float(w0), float(W - step)))
            starts = np.arange(w0, w0 + W, step)
            if at_once:
                gas, active, total, down = supply.steps(starts, starts + step)
                out += [gas, active, total, down]
            else:
                parts = [
                    supply.steps(starts[i : i + 1], starts[i : i + 1] + step)
                    for i in range(starts.size)
                ]
                out += [np.concatenate([p[k] for p in parts]) for k in range(4)]
        return out

    for a, b in zip(run(True), run(False), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-6)


def test_a_well_added_after_its_online_day_is_counted_from_the_next_step(supply):
    supply.step(0, 7)
    before = supply.step(7, 14)[1].total.sum()
    supply.pop.add_cohort(**_cohort(np.random.default_rng(3), 1, 5.0, 0.0))  # online on day 5
    counts = supply.step(14, 21)[1]
    assert counts.total.sum() == before + 1
    assert supply.producing_count(21) == counts.active.sum()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_dry_wells_change_no_bit_of_the_block_gas(seed):
    """Dry wells (qi = q_start = 0: the type curves' non-producing share) are left out of
    the windows and bookings (issue 27): their cumulative is exactly 0, so the block gas is
    the same as without them (to the sign of an exact zero), hook-ups and workovers
    included; they still count as wells online."""
    rng = np.random.default_rng(seed)
    parts = [_cohort(rng, 150, -3000.0, 2900.0), _cohort(rng, 40, 280.0, 40.0)]
    downs = [(int(rng.integers(0, 150)), float(d)) for d in rng.integers(0, 500, 12)]

    def dry(part: dict) -> dict:
        return part | {"qi": np.zeros_like(part["qi"]), "q_start": np.zeros_like(part["qi"])}

    gas, online = [], []
    for with_dry in (False, True):
        pop = WellPopulation(N_BLOCKS)
        if with_dry:
            pop.add_cohort(**dry(parts[1]))  # before the wet wells: their order is kept
        first = len(pop)
        pop.add_cohort(**parts[0])
        supply = BlockSupply(pop, N_BLOCKS)
        out, counted = [], []
        for d0 in range(0, 600):
            if d0 == 250:
                if with_dry:
                    pop.add_cohort(**dry(parts[0]))
                pop.add_cohort(**parts[1])
            for well, day in downs:
                w = first + well
                if day == d0 and pop.online_day[w] <= d0 and not pop.down_until_day[w] > d0:
                    supply.set_down([w], float(d0), d0 + 7.0)
            g, counts = supply.step(d0, d0 + 1)
            out.append(g)
            counted.append(counts.total.sum())
            if with_dry and d0 % 50 == 0:  # against the exact per-well volumes
                want = pop.daily_volume_by_block(float(d0), d0 + 1.0)
                np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-6)
        gas.append(np.array(out))
        online.append(np.array(counted))
    np.testing.assert_array_equal(gas[1], gas[0])
    assert (online[1] >= online[0]).all() and (online[1] > online[0]).any()


def _windows_of_a_run(prefix: dict, seed: int, shared: SharedWindows | None, horizon: int):
    """Gas and counts of every step of a run whose first wells are ``prefix``, then its own
    (hook-ups before each window and inside it, workovers), the engine's way: a window of
    daily steps at once."""
    rng = np.random.default_rng(seed)
    pop = WellPopulation(N_BLOCKS)
    pop.add_cohort(**prefix)
    supply = BlockSupply(pop, N_BLOCKS, horizon_days=horizon, shared=shared)
    W = supply.window_days
    out = []
    for w0 in range(0, horizon, W):
        pop.add_cohort(**_cohort(rng, int(rng.integers(5, 40)), float(w0), float(W - 1)))
        up = stepping.producing_indices(pop, float(w0))
        supply.set_down(rng.choice(up, size=min(10, up.size), replace=False), w0, w0 + 30.5)
        starts = np.arange(w0, min(w0 + W, horizon))
        out += list(supply.steps(starts, starts + 1))
    return out, supply


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), horizon=st.sampled_from([256, 700]))
def test_windows_shared_with_earlier_runs_of_the_same_wells_change_no_bit(seed, horizon):
    """Issue 27: a study worker keeps what the runs' shared first wells (the 2021 wells of
    one seed) give each window; a run continues those sums and terms with its own wells in
    order, so every step is the same bit for bit as computing every well, for the run that
    fills the windows, the runs that use them, and a run whose first wells differ (which
    must not use them)."""
    rng = np.random.default_rng(seed)
    prefix = _cohort(rng, 200, -3000.0, 2900.0)
    shared = SharedWindows(wells=200)
    for run in range(3):  # the first fills the windows, the others use them
        want, alone = _windows_of_a_run(prefix, seed + run, None, horizon)
        got, supply = _windows_of_a_run(prefix, seed + run, shared, horizon)
        assert supply.interpolated_share == alone.interpolated_share
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(shared.windows) == -(-horizon // window_days_for(1))
    other = prefix | {"qi": prefix["qi"] * (1.0 + 1e-15)}
    want, _ = _windows_of_a_run(other, seed, None, horizon)
    got, supply = _windows_of_a_run(other, seed, shared, horizon)
    assert supply._shared is None  # refused: not the wells the windows were made of
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
