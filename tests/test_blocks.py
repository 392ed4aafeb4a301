"""Blocks: the plan's 23 blocks, programme timing, reserves and depletion."""

from __future__ import annotations

import datetime as dt
import heapq

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from resources_helpers import blank_resource

from cbm_sim.cluster.blocks import BlockAgent, drill
from cbm_sim.cluster.resource import BlockResource
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.results import simulate
from cbm_sim.scenario.model import BlockProgramme, Drilling, Horizon, Resources, Scenario
from cbm_sim.wells import calibration, decline, stepping
from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import Hookups


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
        resource=blank_resource(),
        start=dt.date(2021, 1, 1),
        end=dt.date(2030, 12, 31),
        log=lambda *a: None,
        sample=lambda *a: {},
    )


def _params(n: int, qi: float = 1000.0) -> dict[str, np.ndarray]:
    """Decline parameters of ``n`` identical wells."""
    one = {"qi": qi, "di": 0.3, "b": 0.5, "d_term": 0.05, "t_incline": 100.0,
           "q_start": 100.0, "t_plateau": 0.0}  # fmt: skip
    return {k: np.full(n, one[k]) for k in decline.PARAMS}


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
    # 潘庄 (proved 377.48 亿m³, ch1 §2 一) is a producing block: 5,000 more wells a year fill
    # its undrilled acreage within months, then infill a drained area; they are all drilled,
    # poorer and poorer as the block's produced gas grows
    drilling = Drilling(
        blocks={"panzhuang": BlockProgramme(vertical_wells_per_year={2022: 5000}, rigs=200)}
    )
    sc = Scenario(horizon=Horizon(end=dt.date(2024, 12, 31), step_days=30), drilling=drilling)
    res = simulate.run(sc)
    assert not (res.events["event"] == "reserves wall").any()
    dep = res.events[res.events["event"] == "depletion"]
    assert list(dep["entity"]) == ["block:panzhuang"]
    assert "recoverable (proved 377.48 × 0.5)" in dep["detail"].iloc[0]
    drilled = res.annual.query("quantity == 'wells_drilled' and entity == 'block:panzhuang'")
    assert drilled["value"].sum() >= 5000 * 3 - 200  # all spudded wells but those in flight


def _drill_2021(
    wells: int, resource: BlockResource, rigs: int
) -> tuple[BlockAgent, list[tuple], Hookups]:
    """An agent drilling ``wells`` identical vertical wells in 2021 (one day each, so every
    well is drilled in the year) against ``resource``; the agent, its logged events and its
    hook-ups."""
    agent = _agent(BlockProgramme(vertical_wells_per_year={2021: wells}, rigs=rigs))
    agent.resource = resource
    agent.drilling = Drilling(drilling_days_vertical=1.0)
    agent.prepare = stepping.prepared_columns
    agent.end = dt.date(2021, 12, 31)
    agent.sample = lambda wtype, klass, n, block: _params(n)
    log: list[tuple] = []
    agent.log = lambda *a: log.append(a)
    env = simpy.Environment()
    hookups = agent.start_drilling(env)
    env.run(until=365.0)
    return agent, log, hookups


def test_new_wells_fill_the_fresh_acreage_then_infill_the_drained_area():
    # a hand-computed block: 1.8 km² proved (20 vertical wells of 0.09 km²), half of its
    # recoverable gas produced before the run; 30 wells drilled in 2021
    limit = 1.8 * Resources().abundance_1e8_m3_per_km2 * 1e8
    resource = blank_resource(proved_m3=limit, produced_m3=0.5 * 0.5 * limit)
    _, log, hookups = _drill_2021(30, resource, rigs=3)
    qi = hookups.params[:, decline.PARAMS.index("qi")] * hookups.factor
    assert len(qi) == 30
    np.testing.assert_allclose(qi[:20], 1000.0)  # the undrilled acreage: the full curve
    np.testing.assert_allclose(qi[20:], 500.0)  # infill: half of the recoverable gas left
    # joining the population, the wells' rates and decline constants are multiplied
    pop = WellPopulation(len(load_blocks()))
    const = stepping.add_hookups(pop, hookups.rows(28, 30))
    np.testing.assert_allclose(pop.qi, [500.0, 500.0])
    np.testing.assert_allclose(pop.q_start, [50.0, 50.0])
    half = {k: v[0] for k, v in _params(1, qi=500.0).items()} | {"q_start": 50.0}
    want = decline.prepare(**half)
    np.testing.assert_allclose(const[:, 1], [want[k] for k in decline.PREPARED_KEYS], rtol=1e-14)
    assert [e[2] for e in log] == []  # 50 %: not below half of the curve, no event


def test_the_depletion_event_names_the_block_state():
    limit = 1e9
    resource = blank_resource(proved_m3=limit, produced_m3=0.45 * limit, drilled_km2=50.0)
    _, log, hookups = _drill_2021(5, resource, rigs=1)
    qi = hookups.params[:, decline.PARAMS.index("qi")] * hookups.factor
    assert qi.tolist() == pytest.approx([100.0] * 5)
    assert [(e[1], e[2]) for e in log] == [("block:panzhuang", "depletion")]
    assert log[0][3].startswith("new wells at 10% of the type curve: produced 4.50 of 5.00")


def test_no_block_starts_above_its_recoverable_limit():
    # the EUR of every block's end-2021 wells against proved × the default recovery factor,
    # for the packaged seeds of the history (issue 13)
    rf = Resources().recovery_factor
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
    agent.sample = lambda wtype, klass, n, block: _params(n)
    agent.end = dt.date(2023, 12, 31)
    spuds = agent.spud_days()
    env = simpy.Environment()
    hookups = agent.start_drilling(env)
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
    assert (np.diff(hookups.day) >= 0).all()


def _simpy_rigs(blocks: list[BlockAgent], until: float) -> list[tuple[int, int, float]]:
    """The rigs as they were before issue 27: one SimPy process per rig, each taking its
    block's next well in spud order. Returns ``(block, queue position, drilling end)`` of
    every drilling end, in the order SimPy processed them."""
    env = simpy.Environment()
    out: list[tuple[int, int, float]] = []
    for b, agent in enumerate(blocks):
        queue = agent.spud_days()
        state = {"next": 0}
        d = agent.drilling

        def rig(b=b, queue=queue, state=state, d=d):  # type: ignore[no-untyped-def]
            while state["next"] < len(queue):
                k = state["next"]
                state["next"] += 1
                day, wtype = queue[k]
                if day > env.now:
                    yield env.timeout(day - env.now)
                yield env.timeout(d.drilling_days_horizontal if wtype else d.drilling_days_vertical)
                out.append((b, k, env.now))

        for _ in range(min(agent.programme.rigs, len(queue))):
            env.process(rig())
    env.run(until=until)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_compiled_rigs_end_and_order_wells_as_simpy_processes_did(seed):
    # identical programmes in several blocks end wells at the same times: SimPy ordered
    # them by when they were scheduled, and the hook-ups (the population's order) must too
    rng = np.random.default_rng(seed)
    blocks = []
    for b in range(4):
        prog = BlockProgramme(
            vertical_wells_per_year={2021: int(rng.integers(20, 200))},
            horizontal_wells_per_year={2021: int(rng.integers(0, 60))},
            rigs=int(rng.integers(1, 6)),
            first_year=2021 + (b % 2),
        )
        agent = _agent(prog if b < 3 else blocks[0].programme)  # the last one as the first
        agent.info = load_blocks()[b]
        days = float(rng.choice([1.0, 7.5, 15.0]))
        agent.drilling = Drilling(drilling_days_vertical=days) if b < 3 else blocks[0].drilling
        agent.end = dt.date(2023, 12, 31)
        agent.sample = lambda wtype, klass, n, block: _params(n)
        blocks.append(agent)
    until = float((blocks[0].end - blocks[0].start).days + 1)
    want = _simpy_rigs(blocks, until)
    tied = {t for b, _, t in want if b == 0} & {t for b, _, t in want if b == 3}
    assert tied  # the case that needs SimPy's order
    hookups = drill(blocks, simpy.Environment(), until)
    assert len(hookups) == len(want)
    got_blocks = hookups.block.tolist()
    assert got_blocks == [load_blocks()[b].index for b, _, _ in want]
    ends = [agent.drilled_day for agent in blocks]
    for b in range(len(blocks)):
        mine = [t for bb, _, t in want if bb == b]
        assert ends[b] == mine  # bit for bit, SimPy's float arithmetic
    completion = Drilling().completion_days
    assert hookups.day.tolist() == [float(np.ceil(t + completion)) for _, _, t in want]


def test_a_drilling_end_at_the_dispatch_wake_counts_in_the_next_run_as_in_simpy():
    # 365 wells in 2021, one spudded at every mid-day, drilled in 15 days: a well ends at
    # 255.5, the first wake of the dispatch. SimPy processed the dispatch first (its wake was
    # scheduled at time 0, the rig's end at 240.5), so that well counted on the next day.
    drilling = Drilling(
        drilling_days_vertical=15.0,
        blocks={"panzhuang": BlockProgramme(vertical_wells_per_year={2021: 365}, rigs=20)},
    )
    sc = Scenario(horizon=Horizon(end=dt.date(2021, 12, 31)), drilling=drilling)
    drilled = simulate.run(sc).daily_series("block:panzhuang", "wells_drilled").to_numpy()
    assert drilled[:15].sum() == 0 and (drilled[15:255] == 1).all()
    assert drilled[255] == 0 and drilled[256] == 2 and (drilled[257:364] == 1).all()
    assert drilled[364] == 0  # ends at the last wake, 364.5: after it nothing is recorded


def _spud_days_one_by_one(agent: BlockAgent) -> list[tuple[float, int]]:
    """The spud days as they were computed before issue 27's member pass (the reference of
    :meth:`BlockAgent.spud_arrays`): a Python float per well from each year's run of wells
    (:meth:`BlockAgent.spud_runs`), a list of pairs sorted."""
    out: list[tuple[float, int]] = []
    for offset, span, n, wtype in agent.spud_runs():
        out += [(offset + (k + 0.5) * span / n, wtype) for k in range(n)]
    out.sort()
    return out


_WELLS_PER_YEAR = st.dictionaries(
    st.integers(2019, 2032), st.floats(0.0, 400.0), min_size=1, max_size=4
)


@settings(max_examples=60, deadline=None)
@given(
    vertical=_WELLS_PER_YEAR,
    horizontal=st.one_of(st.just({}), _WELLS_PER_YEAR),
    first=st.one_of(st.none(), st.integers(2020, 2031)),
    recorded=st.one_of(st.none(), st.integers(2020, 2026)),
    achieved=st.floats(0.01, 2.0),
    start=st.dates(dt.date(2021, 1, 1), dt.date(2023, 6, 30)),
    days=st.integers(1, 3000),
)
def test_spud_arrays_are_the_one_by_one_spud_days_bit_for_bit(
    vertical, horizontal, first, recorded, achieved, start, days
):
    prog = BlockProgramme(
        vertical_wells_per_year=vertical,
        horizontal_wells_per_year=horizontal,
        first_year=first,
        recorded_through=recorded,
    )
    agent = _agent(prog)
    agent.drilling = Drilling(achieved_share=achieved)
    agent.start, agent.end = start, start + dt.timedelta(days=days)
    expected = _spud_days_one_by_one(agent)
    got_days, got_types = agent.spud_arrays()
    assert got_days.tobytes() == np.array([d for d, _ in expected], dtype=np.float64).tobytes()
    assert got_types.tolist() == [t for _, t in expected]
    assert agent.spud_days() == expected
