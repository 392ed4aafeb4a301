"""Blocks: the plan's 23 blocks, programme timing, reserves and depletion."""

from __future__ import annotations

import datetime as dt
import heapq
import re

import numpy as np
import pytest
import simpy

from cbm_sim.cluster.blocks import BlockAgent, depletion_factor
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.results import simulate
from cbm_sim.scenario.model import BlockProgramme, Drilling, Horizon, Scenario
from cbm_sim.wells import calibration


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


def test_a_programme_beyond_the_reserves_depletes_instead_of_stopping():
    # 潘庄 (proved 377.48 亿m³, ch1 §2 一) is a producing block: 5,000 more wells a year
    # cannot all be booked against half of its reserves; they are all drilled, poorer and
    # poorer, and the booked EUR never passes the recoverable limit.
    drilling = Drilling(
        blocks={"panzhuang": BlockProgramme(vertical_wells_per_year={2022: 5000}, rigs=200)}
    )
    sc = Scenario(horizon=Horizon(end=dt.date(2024, 12, 31), step_days=30), drilling=drilling)
    res = simulate.run(sc)
    assert not (res.events["event"] == "reserves wall").any()
    dep = res.events[res.events["event"] == "depletion"]
    assert list(dep["entity"]) == ["block:panzhuang"]
    assert "proved × recovery factor" in dep["detail"].iloc[0]
    drilled = res.annual.query("quantity == 'wells_drilled' and entity == 'block:panzhuang'")
    assert drilled["value"].sum() >= 5000 * 3 - 200  # all spudded wells but those in flight


def test_depletion_factor_rule_and_guards():
    assert depletion_factor(0.0, 100.0) == 1.0
    assert depletion_factor(25.0, 100.0) == pytest.approx(0.75)
    assert depletion_factor(150.0, 100.0) == 0.0
    assert depletion_factor(1e12, None) == 1.0  # no stated reserves: no depletion
    with pytest.raises(ValueError, match=re.escape("booked_m3 must be >= 0; got -1.0")):
        depletion_factor(-1.0, 100.0)
    with pytest.raises(ValueError, match=re.escape("recoverable_m3 must be > 0 or None; got 0.0")):
        depletion_factor(1.0, 0.0)


def test_depleted_wells_are_poorer_and_booking_stays_below_the_limit():
    prog = BlockProgramme(vertical_wells_per_year={2021: 200}, rigs=50)
    agent = _agent(prog)
    agent.end = dt.date(2021, 12, 31)
    limit = agent.recoverable_m3
    agent.booked_eur_m3 = 0.9 * limit
    agent.sample = lambda wtype, klass, n, block: {
        "qi": np.full(n, 1000.0),
        "q_start": np.full(n, 100.0),
    }
    agent.well_eur = lambda p: np.full(p["qi"].size, 0.01 * limit)
    env = simpy.Environment()
    agent.start_drilling(env)
    env.run(until=365.0)
    qi = np.array([h.params["qi"] for h in agent.hookups])
    assert qi[0] == pytest.approx(100.0)  # 10 % of the recoverable gas is left
    # the closed form equals the rule applied well after well
    booked, want = 0.9 * limit, []
    for _ in qi:
        f = depletion_factor(booked, limit)
        want.append(1000.0 * f)
        booked += f * 0.01 * limit
    np.testing.assert_allclose(qi, want, rtol=1e-12)
    assert np.all(np.diff(qi) < 0)  # each well finds less
    assert agent.booked_eur_m3 < limit
    assert len(agent.hookups) == agent.drilled[0] > 150  # drilling did not stop


def test_no_block_starts_above_its_recoverable_limit():
    # the EUR of every block's end-2021 wells against proved × the default recovery factor,
    # for the packaged seeds of the history (issue 13)
    rf = Drilling().recovery_factor
    for seed in (0, 1, 20220930):
        eur = calibration.block_eur_m3(seed)
        for b in load_blocks():
            if b.proved_reserves_m3 is not None:
                assert eur[b.index] < rf * b.proved_reserves_m3, (seed, b.id)


def test_unitemised_reserves_follow_the_wells():
    # the 236.35 亿m³ the plan does not itemise (3706.48 − 3470.13) go to the 10 other proved
    # blocks in proportion to their wells' EUR: a block with more wells has more reserves
    stated = {"panzhuang", "zhengzhuang", "mabi", "shizhuang", "zaoyuan"}
    rest = [b for b in load_blocks() if b.proved_reserves_m3 is not None and b.id not in stated]
    assert len(rest) == 10
    assert sum(b.proved_reserves_m3 for b in rest) == pytest.approx(236.35e8, rel=1e-9)
    eur = np.mean([calibration.block_eur_m3(seed) for seed in range(4)], axis=0)
    with_wells = [b for b in rest if b.share_of_2021_wells > 0]
    share = np.array([eur[b.index] / b.proved_reserves_m3 for b in with_wells])
    assert share.max() / share.min() < 1.5  # about the same recovered share everywhere


def test_rigs_drill_in_spud_order_as_a_fifo_queue():
    # An independent reference: each well starts when it is spudded or when the first of
    # the block's rigs frees up, whichever is later (heap of rig free times).
    prog = BlockProgramme(
        vertical_wells_per_year={2021: 40}, horizontal_wells_per_year={2021: 25}, rigs=2
    )
    drilling = Drilling()
    agent = _agent(prog)
    agent.drilling = drilling
    agent.sample = lambda wtype, klass, n, block: {"qi": np.ones(n)}
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
