"""Storage stock limits and the rule check."""

from __future__ import annotations

import numpy as np
import pytest

from cbm_sim.cluster.facilities import Facility
from cbm_sim.cluster.storage import StorageAgent, rule_holds


def _agent(level: float) -> StorageAgent:
    tank = Facility("storage", "tanks", 1000.0)
    tank.in_service = True
    return StorageAgent(projects=[tank], level_m3=level, max_rate_share_per_day=0.1)


def test_capacity_and_rate_follow_the_projects_in_service():
    agent = _agent(500.0)
    assert agent.capacity_m3 == 1000.0 and agent.max_rate_m3(2) == 200.0
    agent.projects[0].in_service = False
    assert agent.capacity_m3 == 0.0


def test_stock_cannot_leave_its_bounds():
    agent = _agent(900.0)
    agent.apply(100.0, 0.0)
    assert agent.level_m3 == 1000.0
    with pytest.raises(RuntimeError, match=r"1050.*outside 0\.\.1000"):
        agent.apply(50.0, 0.0)
    with pytest.raises(RuntimeError, match="-100"):
        _agent(0.0).apply(0.0, 100.0)


def test_rule_holds_with_a_cubic_metre_of_rounding():
    assert rule_holds(618e4 - 0.5, 618e4) and not rule_holds(618e4 - 2.0, 618e4)


def _two_sites(**kw: object) -> StorageAgent:
    old = Facility("storage", "old", 1000.0)
    new = Facility("storage", "new", 500.0)
    old.history = [(0.0, True, False)]
    new.history = [(10.0, True, False)]  # commissioned on day 10
    return StorageAgent(projects=[old, new], level_m3=0.0, max_rate_share_per_day=0.1, **kw)


def test_sendout_defaults_to_the_rate_share_of_the_capacity_in_service():
    agent = _two_sites()
    np.testing.assert_allclose(agent.sendout_at([5.0, 15.0]), [100.0, 150.0])
    np.testing.assert_allclose(agent.sendout_at([5.0, 15.0]), 0.1 * agent.capacity_at([5, 15]))


def test_stated_sendout_counts_only_for_sites_in_service():
    agent = _two_sites(sendout_m3_per_day=(30.0, 7.0))
    np.testing.assert_allclose(agent.sendout_at([5.0, 15.0]), [30.0, 37.0])


def test_sendout_needs_one_capacity_per_project():
    with pytest.raises(ValueError, match="sendout_m3_per_day has 1 entries for 2 projects"):
        _two_sites(sendout_m3_per_day=(30.0,)).sendout_at([5.0])
