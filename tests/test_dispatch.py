"""Dispatch kernel: conservation, priority and limits, over random inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.dispatch import greedy_allocate, route, tiered_allocate

volumes = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
shares = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def step_inputs(draw):
    n_local = draw(st.integers(1, 6))
    requests = np.array(draw(st.lists(volumes, min_size=n_local + 2, max_size=n_local + 2)))
    cap = draw(volumes)
    return {
        "surface_m3": draw(volumes),
        "requests_m3": requests,
        "n_local": n_local,
        "mine_drainage_m3": draw(volumes),
        "mine_usable_share": draw(shares),
        "mine_heating_m3": draw(volumes),
        "mine_power_capacity_m3": draw(volumes),
        "storage_level_m3": draw(shares) * cap,
        "storage_capacity_m3": cap,
        "storage_max_rate_m3": draw(volumes),
        "inject": draw(st.booleans()),
        "export_limit_m3": draw(volumes),
        "withdraw": draw(st.booleans()),
        "reserve_fill_m3": draw(volumes),
        "reserve_fill_tier": draw(st.integers(-1, n_local + 2)),
    }


@settings(max_examples=300, deadline=None)
@given(step_inputs())
def test_gas_balance_closes_for_any_step(kw):
    f = route(**kw)
    supply = kw["surface_m3"] + kw["mine_drainage_m3"] + f.withdrawal
    uses = (
        f.allocated.sum()
        + f.mine_heating
        + f.mine_power
        + f.mine_vented
        + f.injection
        + f.exports
        + f.shut_in
    )
    assert np.isclose(supply, uses, rtol=1e-12, atol=1e-3)


@settings(max_examples=300, deadline=None)
@given(step_inputs())
def test_every_flow_within_its_limit(kw):
    f = route(**kw)
    assert np.all(f.allocated >= 0) and np.all(f.allocated <= kw["requests_m3"] + 1e-6)
    assert 0 <= f.exports <= kw["export_limit_m3"] + 1e-6
    assert 0 <= f.withdrawal <= min(kw["storage_level_m3"], kw["storage_max_rate_m3"]) + 1e-6
    assert 0 <= f.injection <= kw["storage_capacity_m3"] - kw["storage_level_m3"] + 1e-6
    assert f.injection == 0 or kw["inject"]
    assert f.withdrawal == 0 or kw["withdraw"]
    assert f.shut_in >= -1e-6 and f.mine_vented >= -1e-6
    usable = kw["mine_usable_share"] * kw["mine_drainage_m3"]
    assert f.mine_heating + f.mine_power <= usable + 1e-6
    assert f.mine_power <= kw["mine_power_capacity_m3"] + 1e-6


@settings(max_examples=200, deadline=None)
@given(volumes, st.lists(volumes, min_size=1, max_size=8))
def test_greedy_serves_in_order(supply, reqs):
    requests = np.array(reqs)
    got = greedy_allocate(supply, requests)
    assert np.isclose(got.sum(), min(supply, requests.sum()), rtol=1e-12, atol=1e-6)
    # a later request is served only once every earlier one is served in full
    unmet = np.flatnonzero(got < requests - 1e-6)
    if unmet.size:
        assert np.all(got[unmet[0] + 1 :] <= 1e-6)


_QUIET = {
    "mine_drainage_m3": 0.0,
    "mine_usable_share": 0.0,
    "mine_heating_m3": 0.0,
    "mine_power_capacity_m3": 0.0,
    "storage_level_m3": 0.0,
    "storage_capacity_m3": 0.0,
    "storage_max_rate_m3": 0.0,
    "inject": False,
    "export_limit_m3": 1e9,
}
"""A step with no mine gas, no storage and no export limit; tests override what they test."""


def _route(**kw):
    return route(**{**_QUIET, **kw})


def test_residential_served_before_industry_when_short():
    f = _route(
        surface_m3=100.0,
        requests_m3=np.array([0.0, 80.0, 0.0, 0.0, 50.0, 0.0, 10.0, 10.0]),
        n_local=6,
    )
    assert f.allocated[1] == 80.0 and f.allocated[4] == 20.0
    assert f.exports == 0.0 and f.shut_in == 0.0


def test_storage_withdrawal_covers_local_shortfall_only():
    f = _route(
        surface_m3=50.0,
        requests_m3=np.array([0.0, 70.0, 0.0, 0.0, 0.0, 0.0, 30.0, 30.0]),
        n_local=6,
        storage_level_m3=100.0,
        storage_capacity_m3=100.0,
        storage_max_rate_m3=100.0,
    )
    assert f.withdrawal == 20.0
    assert f.allocated[1] == 70.0 and f.allocated[6:].sum() == 0.0


def test_surplus_beyond_export_limit_is_shut_in():
    f = _route(
        surface_m3=100.0,
        requests_m3=np.array([10.0, 0.0]),
        n_local=1,
        mine_drainage_m3=10.0,
        mine_usable_share=0.5,
        mine_heating_m3=2.0,
        mine_power_capacity_m3=1.0,
        inject=True,
        export_limit_m3=30.0,
    )
    assert f.exports == 30.0 and f.shut_in == 60.0
    assert (f.mine_heating, f.mine_power, f.mine_vented) == (2.0, 1.0, 7.0)


def test_a_shortage_in_the_last_tier_is_shared_pro_rata():
    requests = np.array([10.0, 40.0, 20.0, 5.0, 60.0, 30.0, 1.0, 24.0])
    tiers = np.array([0, 1, 2, 3, 3, 3, 3, 3])
    f = _route(surface_m3=130.0, requests_m3=requests, n_local=6, tiers=tiers)
    # 130 − (10 + 40 + 20) = 60 left for a tier asking 120: everyone in it gets half
    np.testing.assert_allclose(f.allocated[:3], [10.0, 40.0, 20.0])
    np.testing.assert_allclose(f.allocated[3:], requests[3:] / 2)


@settings(max_examples=200, deadline=None)
@given(volumes, st.lists(st.tuples(volumes, st.integers(0, 3)), min_size=1, max_size=8))
def test_tiers_are_served_in_order(supply, reqs):
    requests = np.array([r for r, _ in reqs])
    tiers = np.array([t for _, t in reqs])
    got = tiered_allocate(supply, requests, tiers)
    assert np.isclose(got.sum(), min(supply, requests.sum()), rtol=1e-9, atol=1e-6)
    assert np.all(got <= requests + 1e-6)
    for t in np.unique(tiers):
        short = np.any(got[tiers == t] < requests[tiers == t] - 1e-6 * (1 + requests[tiers == t]))
        if short:  # a tier not served in full leaves nothing for later tiers
            assert np.all(got[tiers > t] <= 1e-6)


def test_reserve_fill_comes_before_the_pro_rata_tier_in_summer():
    common = {
        "surface_m3": 100.0,
        "requests_m3": np.array([0.0, 10.0, 10.0, 60.0, 60.0]),
        "n_local": 4,
        "tiers": np.array([0, 1, 2, 4, 4]),
        "storage_capacity_m3": 1000.0,
        "storage_max_rate_m3": 50.0,
        "reserve_fill_m3": 30.0,
        "reserve_fill_tier": 3,
    }
    summer = _route(inject=True, withdraw=False, **common)
    assert summer.injection == 30.0
    np.testing.assert_allclose(summer.allocated, [0.0, 10.0, 10.0, 25.0, 25.0])
    winter = _route(inject=False, withdraw=True, **common)
    assert winter.injection == 0.0 and winter.withdrawal == 0.0  # storage is empty
    np.testing.assert_allclose(winter.allocated, [0.0, 10.0, 10.0, 40.0, 40.0])
