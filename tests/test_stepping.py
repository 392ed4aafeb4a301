"""The engine's per-step well volumes against the well population's own exact integral."""

from __future__ import annotations

import numpy as np
import pytest

from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import PARAMS, StepVolumes, initial_population


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
    from cbm_sim.scenario.model import WellReliability

    plain = initial_population(np.random.default_rng(1))
    rel = WellReliability(pump_failures_per_well_year=1.0, workover_days=36.525)
    raised = initial_population(np.random.default_rng(1), rel)
    ratio = raised.daily_volume(0.0, 365.0).sum() / plain.daily_volume(0.0, 365.0).sum()
    assert ratio == pytest.approx(1 / 0.9, rel=1e-6)  # 10 % expected downtime
