"""Blocks: the plan's 23 blocks, programme timing, the reserves wall."""

from __future__ import annotations

import datetime as dt
import heapq

import numpy as np
import pytest
import simpy

from cbm_sim.cluster.blocks import BlockAgent
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.results import simulate
from cbm_sim.scenario.model import BlockProgramme, Drilling, Horizon, Scenario


def test_the_plan_blocks_and_their_reserves():
    blocks = load_blocks()
    assert len(blocks) == 23  # plan ch1 §1 二: 23个煤层气矿业权
    stated = {b.id: b.proved_reserves_m3 for b in blocks}
    assert stated["zhengzhuang"] == pytest.approx(1600.81e8)  # ch1 §2 一
    total = sum(v for v in stated.values() if v is not None)
    assert total == pytest.approx(3706.48e8, rel=1e-9)  # ch1 §2 一: 累计探明 3706.48 亿m³
    assert sum(b.share_of_2021_wells for b in blocks) == pytest.approx(1.0)


def _agent(programme: BlockProgramme) -> BlockAgent:
    return BlockAgent(
        info=load_blocks()[0],
        programme=programme,
        drilling=Drilling(),
        booked_eur_m3=0.0,
        start=dt.date(2021, 1, 1),
        end=dt.date(2030, 12, 31),
        hookups=[],
        log=lambda *a: None,
        sample=lambda *a: {},
        well_eur=lambda p: p,
    )


def test_fractional_wells_carry_over_between_years():
    spuds = _agent(BlockProgramme(vertical_wells_per_year={2021: 0.5})).spud_days()
    assert len(spuds) == 5  # one well every two years over 2021-2030
    years = sorted({(dt.date(2021, 1, 1) + dt.timedelta(days=d)).year for d, _ in spuds})
    assert years == [2022, 2024, 2026, 2028, 2030]


def test_programme_respects_first_and_last_year():
    prog = BlockProgramme(
        vertical_wells_per_year={2021: 12},
        horizontal_wells_per_year={2021: 4},
        first_year=2023,
        last_year=2024,
    )
    spuds = _agent(prog).spud_days()
    assert len(spuds) == 32 and sum(t for _, t in spuds) == 8
    assert min(d for d, _ in spuds) >= (dt.date(2023, 1, 1) - dt.date(2021, 1, 1)).days


def test_a_programme_beyond_the_reserves_hits_the_wall():
    # 潘庄 (proved 377.48 亿m³, ch1 §2 一) is a producing block: 5,000 more wells a year
    # cannot all be booked against half of its reserves.
    drilling = Drilling(
        blocks={"panzhuang": BlockProgramme(vertical_wells_per_year={2022: 5000}, rigs=200)}
    )
    sc = Scenario(horizon=Horizon(end=dt.date(2024, 12, 31), step_days=30), drilling=drilling)
    res = simulate.run(sc)
    walls = res.events[res.events["event"] == "reserves wall"]
    assert list(walls["entity"]) == ["block:panzhuang"]
    assert "proved × recovery factor" in walls["detail"].iloc[0]


def test_rigs_drill_in_spud_order_as_a_fifo_queue():
    # An independent reference: each well starts when it is spudded or when the first of
    # the block's rigs frees up, whichever is later (heap of rig free times).
    prog = BlockProgramme(
        vertical_wells_per_year={2021: 40}, horizontal_wells_per_year={2021: 25}, rigs=2
    )
    drilling = Drilling()
    agent = _agent(prog)
    agent.drilling = drilling
    agent.sample = lambda wtype, klass, n: {"qi": np.ones(n)}
    agent.well_eur = lambda p: np.zeros(p["qi"].size)
    agent.end = dt.date(2023, 12, 31)
    spuds = agent.spud_days()
    env = simpy.Environment()
    agent.start_drilling(env)
    horizon = float((agent.end - agent.start).days + 1)
    env.run(until=horizon)

    free = [0.0] * prog.rigs
    ends = []
    for day, wtype in spuds:
        start = max(day, heapq.heappop(free))
        end = start + (
            drilling.drilling_days_horizontal if wtype else drilling.drilling_days_vertical
        )
        heapq.heappush(free, end)
        if end <= horizon:
            ends.append((end, wtype))
    assert len(ends) < len(spuds)  # the queue built up: two rigs cannot keep pace
    np.testing.assert_allclose(sorted(agent.drilled_at), sorted(ends))
    assert [h.day for h in agent.hookups] == sorted(h.day for h in agent.hookups)
