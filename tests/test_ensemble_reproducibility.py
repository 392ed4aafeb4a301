"""The same seed gives the same ensemble members in process, on 2 local workers and on a
Dask scheduler given by address (the shipped uncertainty of plan.yaml, monthly steps)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dask_clusters import local_cluster

from cbm_sim.scenario.files import load_scenario
from cbm_sim.studies.ensemble import run_ensemble

PLAN = Path(__file__).parent.parent / "scenarios" / "plan.yaml"


@pytest.fixture(scope="module")
def plan_monthly():
    s = load_scenario(PLAN)
    # assumption: monthly steps keep a member near 1 s; the sampling does not depend on them.
    return s.model_copy(update={"horizon": s.horizon.model_copy(update={"step_days": 30})})


def test_same_seed_same_members_for_one_and_two_workers_and_a_scheduler(plan_monthly) -> None:
    serial = run_ensemble(plan_monthly, 2, workers=1, seed=7)
    local = run_ensemble(plan_monthly, 2, workers=2, seed=7)
    assert serial.failures.empty, serial.failures["error"].tolist()
    pd.testing.assert_frame_equal(serial.members, local.members)
    pd.testing.assert_frame_equal(serial.statuses, local.statuses)
    with local_cluster(2, processes=True) as cluster:
        remote = run_ensemble(plan_monthly, 2, scheduler=cluster.scheduler_address, seed=7)
    pd.testing.assert_frame_equal(serial.members, remote.members)
    # every shipped input is sampled, and a member's inputs differ between members
    params = serial.members.groupby("member")[list(serial.parameters)].first()
    assert set(params.columns) == set(plan_monthly.uncertainty)
    assert (params.nunique() == 2).all()


def test_a_member_does_not_depend_on_the_ensemble_size(plan_monthly) -> None:
    small = run_ensemble(plan_monthly, 1, workers=1, seed=7, measures=("production",))
    large = run_ensemble(plan_monthly, 2, workers=1, seed=7, measures=("production",))
    first = large.members[large.members["member"] == 0]
    pd.testing.assert_frame_equal(small.members, first)
    other = run_ensemble(plan_monthly, 1, workers=1, seed=8, measures=("production",))
    assert not other.members["gas_prices"].equals(small.members["gas_prices"])
