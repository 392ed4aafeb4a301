"""Facilities: commissioning dates, outages of exact duration, maintenance."""

from __future__ import annotations

import numpy as np
import simpy
from hypothesis import given, settings
from hypothesis import strategies as hst

from cbm_sim.cluster.facilities import Facility, total_capacity_at
from cbm_sim.scenario.model import Reliability


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


def test_history_gives_the_state_a_process_sees_at_mid_day():
    rel = Reliability(
        mean_days_between_failures=10.0,
        mean_repair_days=3.0,
        maintenance_days_per_year=5,
        maintenance_month=2,
    )
    fac = Facility("lng", "A", 250.0, commission_day=12.0, retire_day=300.0, reliability=rel)
    seen = _trace(fac, 400, seed=5)  # a SimPy process reading the state each mid-day
    from_history = fac.capacity_at(np.arange(400) + 0.5)
    np.testing.assert_array_equal(from_history, seen)
    serving, down = fac.states_at(np.array([-1.0, 11.5, 12.5, 299.5, 300.5]))
    assert serving.tolist() == [False, False, True, True, False]
    assert not down[0]


def test_capacities_from_states_read_once_equal_those_read_again():
    """The engine reads each plant's states once a run of steps (issue 27) and takes its
    capacity, the total and the counts from them: the same numbers as reading them again."""
    rel = Reliability(mean_days_between_failures=12.0, mean_repair_days=3.0)
    plants = [
        Facility("lng", name, cap, commission_day=day, reliability=rel)
        for name, cap, day in (("A", 250.0, None), ("B", 1e-3, 40.0), ("C", 7e5, 200.0))
    ]
    for seed, fac in enumerate(plants):
        _trace(fac, 400, seed=seed)
    times = np.arange(400) + 0.5
    states = [fac.states_at(times) for fac in plants]
    for fac, st in zip(plants, states, strict=True):
        np.testing.assert_array_equal(fac.capacity_in(st), fac.capacity_at(times))
    np.testing.assert_array_equal(
        total_capacity_at(plants, times, states), total_capacity_at(plants, times)
    )


def _lived_by_simpy(fac: Facility, seed: int, until: float) -> None:
    """The facility's processes in a SimPy run to ``until``, beside another process whose
    events interleave with theirs (as the dispatch's do in a run)."""
    env = simpy.Environment()
    fac.start(env, np.random.default_rng(seed), lambda *a: None)

    def other():
        while True:
            yield env.timeout(0.5)

    env.process(other())
    env.run(until=until)


_DAY = hst.one_of(hst.none(), hst.integers(0, 900).map(float))


@settings(max_examples=150, deadline=None)
@given(
    mtbf=hst.sampled_from([1.0, 2.0, 5.0, 30.0, 120.0]),
    repair=hst.sampled_from([1.0, 2.0, 3.0, 20.0]),
    cv=hst.sampled_from([0.0, 0.5, 2.0]),
    maintenance=hst.sampled_from([0.0, 1.0, 7.0, 30.5, 180.0]),
    month=hst.integers(1, 12),
    offset=hst.integers(0, 40),
    commission=_DAY,
    service_days=hst.one_of(hst.none(), hst.integers(1, 900)),
    reliable=hst.booleans(),
    until=hst.integers(1, 1500).map(float),
    seed=hst.integers(0, 2**32 - 1),
)
def test_a_life_lived_at_once_is_the_simpy_processes_history(
    mtbf, repair, cv, maintenance, month, offset, commission, service_days, reliable, until, seed
):
    # short times between failures, repairs and maintenance stops tie on the same days:
    # the order of simultaneous events decides the history
    rel = Reliability(
        mean_days_between_failures=mtbf,
        mean_repair_days=repair,
        repair_days_cv=cv,
        maintenance_days_per_year=maintenance,
        maintenance_month=month,
    )
    retire = None if service_days is None else (commission or 0.0) + service_days

    def made() -> Facility:
        return Facility(
            "lng",
            "A",
            250.0,
            commission_day=commission,
            retire_day=retire,
            reliability=rel if reliable else None,
            maintenance_offset_days=float(offset),
        )

    simulated, lived = made(), made()
    _lived_by_simpy(simulated, seed, until)
    lived.live(np.random.default_rng(seed), until)
    assert lived.history == simulated.history
    assert [type(t) for t, _, _ in lived.history] == [type(t) for t, _, _ in simulated.history]
    assert lived.outage_days == simulated.outage_days
    assert (lived.in_service, lived.down) == (simulated.in_service, simulated.down)


@settings(max_examples=100, deadline=None)
@given(
    changes=hst.lists(
        hst.tuples(hst.integers(0, 50).map(float), hst.booleans(), hst.booleans()), max_size=8
    ),
    times=hst.lists(hst.floats(-5.0, 60.0, allow_nan=False), min_size=1, max_size=20),
)
def test_states_at_times_after_the_first_change_are_read_as_before_it(changes, times):
    # the states at any times (before, at and after the changes, sorted or not): the state
    # of the last change at or before each, nothing before the first
    fac = Facility("cng", "A", 1.0)
    fac.history = sorted(changes, key=lambda c: c[0])
    serving, down = fac.states_at(np.array(times))
    for t, s, d in zip(times, serving.tolist(), down.tolist(), strict=True):
        last = [c for c in fac.history if c[0] <= t]
        assert (s, d) == ((last[-1][1], last[-1][2]) if last else (False, False))
