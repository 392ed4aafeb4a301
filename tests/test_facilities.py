"""Facilities: commissioning dates, outages of exact duration, maintenance."""

from __future__ import annotations

import numpy as np
import simpy

from cbm_sim.facilities import Facility
from cbm_sim.scenario import Reliability


def _trace(fac: Facility, days: int, seed: int = 1) -> np.ndarray:
    env = simpy.Environment()
    log: list[tuple] = []
    fac.start(env, np.random.default_rng(seed), lambda *a: log.append(a))
    caps = np.zeros(days)

    def probe():
        yield env.timeout(0.5)
        for d in range(days):
            caps[d] = fac.available_capacity
            yield env.timeout(1.0)

    env.process(probe())
    env.run(until=days)
    return caps


def test_commissioning_raises_capacity_on_its_day():
    caps = _trace(Facility("pipeline", "new", 100.0, commission_day=30.0), 60)
    assert np.all(caps[:30] == 0.0) and np.all(caps[30:] == 100.0)


def test_outage_days_match_zero_capacity_days():
    rel = Reliability(
        mean_days_between_failures=20.0,
        mean_repair_days=4.0,
        maintenance_days_per_year=7,
        maintenance_month=3,
    )
    fac = Facility("lng", "A", 500.0, reliability=rel)
    caps = _trace(fac, 365, seed=7)
    assert fac.outage_days > 7  # trips happened besides maintenance
    assert np.count_nonzero(caps == 0.0) == fac.outage_days


def test_same_seed_same_outages():
    rel = Reliability(mean_days_between_failures=15.0)
    a = _trace(Facility("cng", "A", 1.0, reliability=rel), 400, seed=3)
    b = _trace(Facility("cng", "A", 1.0, reliability=rel), 400, seed=3)
    c = _trace(Facility("cng", "A", 1.0, reliability=rel), 400, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
