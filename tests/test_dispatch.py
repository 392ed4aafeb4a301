"""Dispatch kernel: conservation, priority and limits, over random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.cluster.dispatch import greedy_allocate, route, route_steps, tiered_allocate

volumes = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
shares = st.floats(min_value=0.0, max_value=1.0)
# netbacks [元/m3] from a few values, so that ties (shared pro rata) are common
netbacks = st.sampled_from([0.0, 0.5, 1.9, 2.52, 2.52, 3.49, -0.3])


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
        "tiers": np.array(
            draw(st.lists(st.integers(0, 5), min_size=n_local + 2, max_size=n_local + 2))
        ),
        "netback_yuan_per_m3": np.array(
            draw(st.lists(netbacks, min_size=n_local + 2, max_size=n_local + 2))
        ),
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


@pytest.mark.parametrize(
    ("supply", "floor_got", "industry_got", "above_got", "exports"),
    [
        # 民生 30 first, then the floor 40, then industry 50, then the 10 above the floor
        (200.0, 40.0, 50.0, 10.0, 70.0),
        (100.0, 40.0, 30.0, 0.0, 0.0),  # industry short: nothing above the floor
        (50.0, 20.0, 0.0, 0.0, 0.0),  # the floor short: industry gets nothing
    ],
)
def test_take_or_pay_floor_before_local_markets_and_the_rest_after(
    supply, floor_got, industry_got, above_got, exports
):
    from cbm_sim.cluster.engine import DISPATCH_TIERS

    # field use, residential, commercial, transport, industry, chemicals, CNG, LNG,
    # contract up to its floor, contract above it
    requests = np.array([0.0, 30.0, 0.0, 0.0, 50.0, 0.0, 0.0, 0.0, 40.0, 10.0])
    # above the floor the contracts compete by netback: the field price (1.9 元/m3) is below
    # industry's (3.0 less 0.5 of distribution)
    netback = np.array([0.0, 0, 0, 3.5, 2.5, 3.49, 3.19, 2.52, 0, 1.9])
    f = _route(
        surface_m3=supply,
        requests_m3=requests,
        n_local=6,
        tiers=DISPATCH_TIERS,
        export_limit_m3=70.0,
        netback_yuan_per_m3=netback,
    )
    assert f.allocated[1] == 30.0
    assert f.allocated[8] == pytest.approx(floor_got)
    assert f.allocated[4] == pytest.approx(industry_got)
    assert f.allocated[9] == pytest.approx(above_got)
    assert f.exports == pytest.approx(min(exports, supply - f.allocated.sum()))
    total = f.allocated.sum() + f.exports + f.shut_in
    assert total == pytest.approx(supply)


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


# -- many steps: the compiled loop against route, step by step ------------------------------
TIERS = np.array([0, 1, 2, 4, 4, 4, 4, 4])


@st.composite
def runs_of_steps(draw):
    m = draw(st.integers(1, 12))
    n_req = TIERS.size
    priced = draw(st.booleans())  # also the compiled kernel without netbacks (all equal)

    def col(strategy):
        return np.array(draw(st.lists(strategy, min_size=m, max_size=m)))

    cap = col(volumes)
    return {
        "surface_m3": col(volumes),
        "requests_m3": np.array(
            draw(
                st.lists(st.lists(volumes, min_size=n_req, max_size=n_req), min_size=m, max_size=m)
            )
        ),
        "n_local": 6,
        "tiers": TIERS,
        "mine_drainage_m3": col(volumes),
        "mine_usable_share": col(shares),
        "mine_heating_m3": col(volumes),
        "mine_power_capacity_m3": col(volumes),
        "storage_level_m3": draw(shares) * float(cap[0]),
        "storage_capacity_m3": cap,
        "storage_max_rate_m3": col(volumes),
        "inject": col(st.booleans()),
        "withdraw": col(st.booleans()),
        "export_limit_m3": col(volumes),
        "reserve_need_m3": col(volumes),
        "reserve_fill_tier": 3,
        "netback_yuan_per_m3": np.array(
            draw(
                st.lists(st.lists(netbacks, min_size=n_req, max_size=n_req), min_size=m, max_size=m)
            )
        )
        if priced
        else None,
    }


def _route_one_by_one(kw: dict) -> dict[str, list]:
    """The independent reference: :func:`route` per step, the stock carried by hand."""
    level = kw["storage_level_m3"]
    out: dict[str, list] = {"allocated": [], "level": []}
    for i in range(kw["surface_m3"].size):
        cap = kw["storage_capacity_m3"][i]
        f = route(
            surface_m3=kw["surface_m3"][i],
            requests_m3=kw["requests_m3"][i],
            n_local=kw["n_local"],
            tiers=kw["tiers"],
            mine_drainage_m3=kw["mine_drainage_m3"][i],
            mine_usable_share=kw["mine_usable_share"][i],
            mine_heating_m3=kw["mine_heating_m3"][i],
            mine_power_capacity_m3=kw["mine_power_capacity_m3"][i],
            storage_level_m3=level,
            storage_capacity_m3=cap,
            storage_max_rate_m3=kw["storage_max_rate_m3"][i],
            inject=bool(kw["inject"][i]),
            withdraw=bool(kw["withdraw"][i]),
            export_limit_m3=kw["export_limit_m3"][i],
            reserve_fill_m3=kw["reserve_need_m3"][i] - level,
            reserve_fill_tier=kw["reserve_fill_tier"],
            netback_yuan_per_m3=None
            if kw["netback_yuan_per_m3"] is None
            else kw["netback_yuan_per_m3"][i],
        )
        new = level + f.injection - f.withdrawal
        if new < -1e-6 or new > cap + 1e-6:
            out["error"] = [i]
            return out
        level = min(max(new, 0.0), cap)
        out["allocated"].append(f.allocated)
        out["level"].append(level)
        for name in ("mine_heating", "mine_power", "mine_vented", "withdrawal"):
            out.setdefault(name, []).append(getattr(f, name))
        for name in ("injection", "exports", "shut_in"):
            out.setdefault(name, []).append(getattr(f, name))
    return out


@settings(max_examples=300, deadline=None)
@given(runs_of_steps())
def test_route_steps_equals_route_step_by_step(kw):
    want = _route_one_by_one(kw)
    if "error" in want:  # a capacity that shrinks below the stock: both refuse the step
        with pytest.raises(RuntimeError, match=f"step {want['error'][0]}: storage level"):
            route_steps(**kw)
        return
    got = route_steps(**kw)
    for name, values in want.items():
        np.testing.assert_allclose(
            getattr(got, name), np.array(values), rtol=1e-12, atol=1e-6, err_msg=name
        )


def test_route_steps_carries_the_stock_through_winter():
    # three winter steps of shortage draw the stock down by the shortfall each step
    m = 3
    kw = {
        "surface_m3": np.full(m, 50.0),
        "requests_m3": np.tile([0.0, 80.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], (m, 1)),
        "n_local": 6,
        "tiers": TIERS,
        "mine_drainage_m3": np.zeros(m),
        "mine_usable_share": np.zeros(m),
        "mine_heating_m3": np.zeros(m),
        "mine_power_capacity_m3": np.zeros(m),
        "storage_level_m3": 100.0,
        "storage_capacity_m3": np.full(m, 200.0),
        "storage_max_rate_m3": np.full(m, 1000.0),
        "inject": np.zeros(m, dtype=bool),
        "withdraw": np.ones(m, dtype=bool),
        "export_limit_m3": np.zeros(m),
        "reserve_need_m3": np.zeros(m),
        "reserve_fill_tier": 3,
    }
    f = route_steps(**kw)
    np.testing.assert_allclose(f.withdrawal, [30.0, 30.0, 30.0])
    np.testing.assert_allclose(f.level, [70.0, 40.0, 10.0])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"requests_m3": np.zeros(8)},
            r"requests_m3 must be \(steps, requests\); got shape \(8,\)",
        ),
        ({"tiers": np.zeros(3)}, r"tiers has shape \(3,\); the requests are 8 wide"),
        ({"n_local": 9}, r"n_local must be in \[0, 8\]; got 9"),
        ({"surface_m3": np.zeros(2)}, r"surface_m3 has shape \(2,\); expected \(1,\)"),
        ({"inject": np.zeros(4, dtype=bool)}, r"inject has shape \(4,\); expected \(1,\)"),
        (
            {"netback_yuan_per_m3": np.zeros((1, 7))},
            r"netback_yuan_per_m3 has shape \(1, 7\); expected \(1, 8\)",
        ),
        (
            {"netback_yuan_per_m3": np.full((1, 8), np.nan)},
            r"netback_yuan_per_m3 must be finite; got a NaN or an infinity",
        ),
    ],
)
def test_route_steps_names_the_bad_argument(change, message):
    kw = {
        "surface_m3": np.ones(1),
        "requests_m3": np.ones((1, 8)),
        "n_local": 6,
        "tiers": TIERS,
        "mine_drainage_m3": np.zeros(1),
        "mine_usable_share": np.zeros(1),
        "mine_heating_m3": np.zeros(1),
        "mine_power_capacity_m3": np.zeros(1),
        "storage_level_m3": 0.0,
        "storage_capacity_m3": np.ones(1),
        "storage_max_rate_m3": np.ones(1),
        "inject": np.zeros(1, dtype=bool),
        "withdraw": np.zeros(1, dtype=bool),
        "export_limit_m3": np.ones(1),
        "reserve_need_m3": np.zeros(1),
        "reserve_fill_tier": 3,
    }
    with pytest.raises(ValueError, match=message):
        route_steps(**{**kw, **change})


# -- netback: within a tier the highest netback first ---------------------------------------
MARKET = np.array([0, 1, 2, 5, 5, 5, 5, 5, 4, 5])
"""The engine's tiers (field use, residential, commercial, transport, industry, chemicals, CNG,
LNG, contracts up to the floor, contracts above it)."""


def test_within_the_market_tier_the_highest_netback_is_served_first():
    # 100 m3 after 民生 (30) and the floor (20): LNG (netback 3.0) before industry (2.5), then
    # the contracts above the floor (1.9) get what is left
    requests = np.array([0.0, 30.0, 0.0, 0.0, 40.0, 0.0, 0.0, 35.0, 20.0, 30.0])
    netback = np.array([0, 0, 0, 3.5, 2.5, 3.49, 3.19, 3.0, 0, 1.9])
    f = _route(surface_m3=100.0, requests_m3=requests, n_local=6, tiers=MARKET,
               netback_yuan_per_m3=netback)  # fmt: skip
    np.testing.assert_allclose(f.allocated[[1, 8, 7, 4, 9]], [30.0, 20.0, 35.0, 15.0, 0.0])
    # a higher LNG price puts LNG behind industry when its netback falls below industry's
    low = netback.copy()
    low[7] = 2.0
    g = _route(surface_m3=100.0, requests_m3=requests, n_local=6, tiers=MARKET,
               netback_yuan_per_m3=low)  # fmt: skip
    np.testing.assert_allclose(g.allocated[[4, 7]], [40.0, 10.0])
    # equal netbacks share a shortage pro rata, as the tiers always did
    tie = netback.copy()
    tie[7] = 2.5
    h = _route(surface_m3=100.0, requests_m3=requests, n_local=6, tiers=MARKET,
               netback_yuan_per_m3=tie)  # fmt: skip
    np.testing.assert_allclose(h.allocated[[4, 7]], [50.0 * 40 / 75, 50.0 * 35 / 75])


@settings(max_examples=200, deadline=None)
@given(
    volumes,
    st.lists(st.tuples(volumes, st.integers(0, 2), netbacks), min_size=1, max_size=8),
)
def test_no_request_gets_gas_while_a_better_one_in_its_tier_is_short(supply, reqs):
    requests = np.array([r for r, _, _ in reqs])
    tiers = np.array([t for _, t, _ in reqs])
    netback = np.array([n for _, _, n in reqs])
    got = tiered_allocate(supply, requests, tiers, netback)
    assert np.isclose(got.sum(), min(supply, requests.sum()), rtol=1e-9, atol=1e-6)
    short = got < requests - 1e-6 * (1 + requests)
    for k in np.flatnonzero(short):
        # everything served after k in the order (tier, −netback) got nothing
        later = (tiers > tiers[k]) | ((tiers == tiers[k]) & (netback < netback[k]))
        assert np.all(got[later] <= 1e-6)
