"""The engine's per-step well volumes against the well population's own exact integral."""

from __future__ import annotations

import numpy as np
import pytest

from cbm_sim.population import PARAMS, StepVolumes, initial_population
from cbm_sim.wells import WellPopulation


def _cohort(rng: np.random.Generator, n: int, online_from: float) -> dict[str, np.ndarray]:
    qi = rng.uniform(300.0, 20000.0, n)
    di = rng.uniform(0.05, 1.5, n)
    return {
        "qi": qi,
        "di": di,
        "b": rng.choice([0.0, 1e-12, 0.3, 1.0, 1.0 + 1e-12, 1.6], n),
        "d_term": np.minimum(rng.uniform(0.0, 0.3, n), di),
        "t_incline": rng.choice([0.0, 90.0, 400.0], n),
        "q_start": qi * rng.uniform(0.0, 0.5, n),
        "online_day": online_from + rng.uniform(0.0, 200.0, n).round(),
    }


def _add(pop: WellPopulation, c: dict[str, np.ndarray]) -> None:
    n = len(c["qi"])
    pop.add_cohort(
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int8),
        c["online_day"],
        **{k: c[k] for k in PARAMS},
    )


def test_step_volumes_match_daily_volume_with_cohorts_and_workovers():
    rng = np.random.default_rng(5)
    pop = WellPopulation(1)
    _add(pop, _cohort(rng, 300, -2000.0))
    steps = StepVolumes(pop)
    for day in range(0, 400, 3):
        if day in (30, 150, 151):  # new wells join mid-run, as hook-ups do
            _add(pop, _cohort(rng, 50, float(day)))
        if day % 45 == 0:  # pumps fail at a step boundary, down for 10 days
            idx = rng.choice(len(pop), 20, replace=False)
            pop.set_down(idx, day + 10.0, float(day))
        got = steps.step(float(day), day + 3.0)
        want = pop.daily_volume(float(day), day + 3.0)
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-6)


def test_initial_population_is_calibrated_with_downtime():
    from cbm_sim.scenario import WellReliability

    plain = initial_population(np.random.default_rng(1))
    rel = WellReliability(pump_failures_per_well_year=1.0, workover_days=36.525)
    raised = initial_population(np.random.default_rng(1), rel)
    ratio = raised.daily_volume(0.0, 365.0).sum() / plain.daily_volume(0.0, 365.0).sum()
    assert ratio == pytest.approx(1 / 0.9, rel=1e-6)  # 10 % expected downtime


def test_sampled_failures_are_distinct_producing_wells_drawn_uniformly():
    from cbm_sim.population import producing_indices, sample_producing

    rng = np.random.default_rng(11)
    pop = WellPopulation(1)
    _add(pop, _cohort(rng, 400, -2000.0))
    _add(pop, _cohort(rng, 100, 50.0))  # not yet online on day 10
    pop.set_down(np.arange(0, 400, 4), 30.0, 5.0)  # a quarter down
    up = producing_indices(pop, 10.0)
    hits = np.zeros(len(pop))
    draws = 4000
    for _ in range(draws):
        idx = sample_producing(pop, 10.0, 30, up.size, rng)
        assert np.unique(idx).size == 30
        hits[idx] += 1
    assert set(np.flatnonzero(hits)) <= set(up)
    # each producing well is drawn with probability 30/|up|: a binomial count per well
    p = 30 / up.size
    z = (hits[up] - draws * p) / np.sqrt(draws * p * (1 - p))
    assert np.abs(z).max() < 5.0
    assert abs(z.mean()) < 0.2


def test_sampling_more_wells_than_produce_is_refused():
    from cbm_sim.population import sample_producing

    pop = WellPopulation(1)
    _add(pop, _cohort(np.random.default_rng(0), 10, -500.0))
    with pytest.raises(ValueError, match=r"n must be in \[0, 10\] producing wells; got 11"):
        sample_producing(pop, 0.0, 11, 10, np.random.default_rng(0))
