"""The resource model of the blocks (cbm_sim.cluster.resource): areas, filings, recoverable
and produced gas, and the share of its curve a new well starts on."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from resources_helpers import blank_resource, rules

from cbm_sim.cluster import build, resource
from cbm_sim.cluster.resource import start_factor, start_factors
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.results import simulate
from cbm_sim.scenario.model import BlockProgramme, Drilling, Horizon, Resources, Scenario
from cbm_sim.wells import decline, history, stepping

YI = 1e8


# --------------------------------------------------------------------------- rule 1: areas
def test_areas_cover_the_rights_and_the_resources_are_the_plans():
    r = rules()
    areas = resource.block_areas_km2([b.proved_reserves_m3 for b in load_blocks()],
                                     r.abundance_m3_per_km2)  # fmt: skip
    # plan ch1 §1 二: 2744.988 km² of rights; ch1 §1 一: 6141 亿m³ of resources in them
    assert areas.sum() == pytest.approx(2744.988, rel=1e-12)
    assert areas.sum() * r.abundance_m3_per_km2 == pytest.approx(6141 * YI, rel=1e-12)
    # hand-computed: 郑庄's 1600.81 亿m³ at 6141/2744.988 亿m³/km² is 715.56 km²
    zz = next(b for b in load_blocks() if b.id == "zhengzhuang")
    assert areas[zz.index] == pytest.approx(1600.81 / (6141 / 2744.988), rel=1e-12)
    unfiled = [b.index for b in load_blocks() if b.proved_reserves_m3 is None]
    assert len(unfiled) == 8  # ch1 §2 一: 2 + 6 blocks without proved reserves
    # the rest of the rights' area, split equally: (2744.988 - 3706.48/2.2372) / 8
    assert areas[unfiled] == pytest.approx((2744.988 - 3706.48 / (6141 / 2744.988)) / 8)


def test_areas_hand_case_and_guard():
    areas = resource.block_areas_km2([200.0, None, 100.0, None], 10.0, rights_area_km2=100.0)
    np.testing.assert_allclose(areas, [20.0, 35.0, 10.0, 35.0])
    # filed blocks larger than the rights leave nothing for the others
    np.testing.assert_allclose(resource.block_areas_km2([2000.0, None], 10.0, 100.0), [200, 0])
    with pytest.raises(ValueError, match=re.escape("proved reserves must be >= 0; got -1.0 m3")):
        resource.block_areas_km2([-1.0], 10.0)


# --------------------------------------------------------------------------- rule 2: filings
def test_unfiled_blocks_are_proved_at_the_rate_filed_ones_keep_theirs():
    years = [2021, 2022, 2023, 2026]
    got = resource.proved_by_year(None, 300.0, years, 0.05)
    np.testing.assert_allclose(got, [0.0, 15.0, 300 * (1 - 0.95**2), 300 * (1 - 0.95**5)])
    np.testing.assert_allclose(resource.proved_by_year(50.0, 300.0, years, 0.05), 50.0)
    # a scenario's filings replace the rule from their year on (a step, not interpolated)
    stated = resource.proved_by_year(None, 300.0, years, 0.05, {2023: 40.0, 2026: 90.0})
    np.testing.assert_allclose(stated, [0.0, 15.0, 40.0, 90.0])
    np.testing.assert_allclose(resource.proved_by_year(50.0, 0.0, years, 0.0, {2022: 80}),
                               [50, 80, 80, 80])  # fmt: skip


def test_the_default_proving_rate_is_the_plans_historical_pace():
    # 60.36 % of the resource proved in the 19 years 2003-2021 (plan ch1 §2 一)
    h = Resources().proving_rate_per_year
    assert 1 - (1 - h) ** 19 == pytest.approx(0.6036, rel=1e-12)


# --------------------------------------------------------------------------- rule 5: factor
def test_start_factor_hand_cases():
    r = rules(recovery_factor=0.5, abundance_m3_per_km2=2.0 * YI)
    # 10 km² proved (20 亿m³, 10 亿m³ recoverable), 4 km² drilled: a 1 km² well is on fresh
    # acreage whatever the block produced
    assert start_factor(9 * YI, 20 * YI, 10.0, 4.0, 1.0, r) == 1.0
    # fully drilled: infill at 1 - P/R = 1 - 4/10
    assert start_factor(4 * YI, 20 * YI, 10.0, 12.0, 1.0, r) == pytest.approx(0.6)
    # 9.75 km² drilled: a quarter of the well on fresh acreage, the rest infill; the drained
    # area once it is on is the whole 10 km² (10 亿m³ recoverable, 4 produced)
    assert start_factor(4 * YI, 20 * YI, 10.0, 9.75, 1.0, r) == pytest.approx(0.25 + 0.75 * 0.6)
    # produced more than recoverable: nothing left for infill
    assert start_factor(30 * YI, 20 * YI, 10.0, 12.0, 1.0, r) == 0.0
    # nothing proved: no development
    assert start_factor(0.0, 0.0, 10.0, 0.0, 1.0, r) == 0.0
    # partly proved block (area 10 km², 2 km² proved), 5 km² drilled before the filing: the
    # infill well drains the physically drilled area, r·a·5 km² = 5 亿m³, 1 produced
    assert start_factor(1 * YI, 4 * YI, 10.0, 5.0, 1.0, r) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1.0, 1.0, 1.0, 0.0, 1.0), "produced_m3 must be >= 0; got -1.0"),
        ((0.0, -2.0, 1.0, 0.0, 1.0), "proved_m3 must be >= 0; got -2.0"),
        ((0.0, 1.0, float("nan"), 0.0, 1.0), "area_km2 must be >= 0; got nan"),
        ((0.0, 1.0, 1.0, -0.5, 1.0), "drilled_km2 must be >= 0; got -0.5"),
        ((0.0, 1.0, 1.0, 0.0, 0.0), "well_km2 must be > 0; got 0.0"),
    ],
)
def test_start_factor_names_bad_inputs(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        start_factor(*args, rules())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recovery_factor": 0.0}, "recovery_factor must be in (0, 1]; got 0.0"),
        ({"abundance_m3_per_km2": -1.0}, "abundance_m3_per_km2 must be > 0; got -1.0"),
        ({"proving_rate_per_year": 1.5}, "proving_rate_per_year must be in [0, 1]; got 1.5"),
    ],
)
def test_rules_name_bad_values(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        rules(**change)
    with pytest.raises(ValueError, match=re.escape("drainage_km2 must be two areas > 0")):
        resource.ResourceRules(0.5, 1.0, 0.0, (0.09, 0.0))


_blocks = st.tuples(
    st.floats(0.0, 0.3999),  # produced share of recoverable
    st.floats(1e-3, 5e3),  # block area [km²]
    st.floats(0.0, 2.0),  # drilled area / block area
    st.floats(1e-3, 10.0),  # well's drainage area [km²]
    st.floats(0.05, 1.0),  # recovery factor
    st.floats(0.5e8, 10e8),  # abundance [m³/km²]
)


@settings(max_examples=300, deadline=None)
@given(_blocks)
def test_a_block_below_40_percent_recovered_gives_new_wells_half_their_curve(case):
    # issue 23: a new well in a block whose produced gas is below 40 % of its recoverable
    # gas starts at >= 50 % of its curve (here >= 60 %: infill at 1 - P/R at worst)
    share, area, drilled, well, rf, abundance = case
    r = rules(recovery_factor=rf, abundance_m3_per_km2=abundance)
    proved = area * abundance
    produced = share * rf * proved
    f = start_factor(produced, proved, area, drilled * area, well, r)
    assert f >= 0.5
    assert f >= 1.0 - share - 1e-12


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 1e11),
            st.floats(0.0, 1e11),
            st.floats(0.0, 1e3),
            st.floats(0.0, 1e3),
            st.floats(1e-3, 5.0),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_vectorised_factor_is_the_scalar_one(cases):
    r = rules()
    want = [start_factor(*c, r) for c in cases]
    got = start_factors(*np.array(cases).T, r)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- rule 4: produced
def test_history_produced_gas_is_the_sum_of_its_wells_volumes():
    # an independent implementation: the population's own volume between the first well
    # and each 1 January, per block
    pop = history.calibrated_history(3).pop
    starts = np.array([0.0, 365.0, 730.0, 1826.0])
    got = resource.history_produced_by_year(
        pop.online_day, pop.block, {k: getattr(pop, k) for k in decline.PARAMS}, starts,
        pop.n_blocks,
    )  # fmt: skip
    first = float(pop.online_day.min())
    for i, day in enumerate(starts):
        np.testing.assert_allclose(got[i], pop.daily_volume_by_block(first, day), rtol=1e-9)


def test_new_wells_add_their_closed_form_cumulative():
    res = blank_resource(proved_m3=100 * YI, produced_m3=2 * YI)
    p = {"qi": 1000.0, "di": 0.3, "b": 0.5, "d_term": 0.05, "t_incline": 100.0,
         "q_start": 100.0, "t_plateau": 50.0}  # fmt: skip
    res.add_well(0, 200.0, [p[k] for k in decline.PARAMS])
    res.add_well(1, 400.0, [2 * p[k] if k == "qi" else p[k] for k in decline.PARAMS])
    k = res.year_index(800.0)  # 2023
    want = 2 * YI + sum(
        float(decline.cumulative(res.year_start_days[k] - day, **(p | {"qi": qi})))
        for day, qi in ((200.0, 1000.0), (400.0, 2000.0))
    )
    assert res.produced_m3(k) == pytest.approx(want, rel=1e-10)
    assert res.produced_m3(0) == 2 * YI  # no new well was online on 2021-01-01
    assert res.drilled_km2 == pytest.approx(0.09 + 0.27)


# --------------------------------------------------------------------------- in a run
def test_the_run_builds_every_blocks_resource():
    m = build.build(Scenario(horizon=Horizon(end=dt.date(2023, 12, 31), step_days=30)))
    by_id = {b.info.id: b.resource for b in m.blocks}
    pz = by_id["panzhuang"]
    assert pz.proved_m3[0] == pytest.approx(377.48 * YI)  # ch1 §2 一
    # the gas 潘庄's history wells had produced by each 1 January grows, and it is the
    # population's own volume (cross-check against WellPopulation)
    assert np.all(np.diff(pz.history_produced_m3) > 0)
    first = float(m.pop.online_day.min())
    k = m.blocks_info[[b.id for b in m.blocks_info].index("panzhuang")].index
    assert pz.history_produced_m3[1] == pytest.approx(
        m.pop.daily_volume_by_block(first, 365.0)[k], rel=1e-9
    )
    assert by_id["gushuyuan"].proved_m3[0] == 0.0  # ch1 §2 一: no filing yet
    assert by_id["gushuyuan"].proved_m3[1] > 0.0  # proved at the rate from 2022


@pytest.mark.slow
def test_a_block_without_proved_reserves_produces_once_they_are_filed():
    # 古书院 has no proved reserves (ch1 §2 一); with no exploration in the run it cannot
    # develop until the scenario files 50 亿m³ in 2023
    programme = BlockProgramme(vertical_wells_per_year={2022: 60}, first_year=2022, rigs=5)
    base = Scenario(
        horizon=Horizon(end=dt.date(2024, 12, 31), step_days=30),
        drilling=Drilling(blocks={"gushuyuan": programme}),
        resources=Resources(proving_rate_per_year=0.0),
    )
    filed = base.model_copy(
        update={
            "resources": Resources(proving_rate_per_year=0.0, filings={"gushuyuan": {2023: 50}})
        }
    )

    def gas(sc: Scenario) -> dict[int, float]:
        a = simulate.run(sc).annual
        rows = a[(a["entity"] == "block:gushuyuan") & (a["quantity"] == "surface_production")]
        return dict(zip(rows["year"], rows["value"], strict=True))

    never, after = gas(base), gas(filed)
    assert all(v == 0.0 for v in never.values())  # drilled, but nothing proved: no gas
    assert after[2022] == 0.0  # the wells of 2022 were drilled before the filing
    assert after[2023] > 0.0 and after[2024] > after[2023]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 3000.0), st.integers(0, 1), st.floats(0.0, 120.0)),
        min_size=1,
        max_size=60,
    ),
    st.floats(0.5, 40.0),
)
def test_wells_added_at_once_are_the_single_calls_bit_for_bit(wells, proved_1e8_m3):
    """BlockResource.add_wells (one call per block, year by year) against factor + add_well
    per well: the same factors, drilled area and produced gas, bit for bit."""
    wells = sorted(wells)
    p = {"qi": 1500.0, "di": 0.3, "b": 0.5, "d_term": 0.05, "t_incline": 200.0,
         "q_start": 150.0, "t_plateau": 0.0}  # fmt: skip
    rows = [[p[k] * (1.0 + 0.01 * j) for k in decline.PARAMS] for j in range(len(wells))]
    one, many, ready = (blank_resource(proved_m3=proved_1e8_m3 * YI, produced_m3=0.3 * YI,
                                       drilled_km2=0.5) for _ in range(3))  # fmt: skip
    want = []
    for (day, t, lag), row in zip(wells, rows, strict=True):
        want.append(one.factor(day, t))
        one.add_well(t, day + lag, row, want[-1])
    args = ([w[0] for w in wells], [w[1] for w in wells], [w[0] + w[2] for w in wells], rows)
    got, before = many.add_wells(*args)
    # the constants prepared when the wells were drawn (issue 27) give the same numbers
    table = np.array(rows)
    prepared = stepping.prepared_columns({k: table[:, j] for j, k in enumerate(decline.PARAMS)})
    got_ready, _ = ready.add_wells(*args, prepared)
    assert got.tolist() == want == got_ready.tolist()
    assert many.drilled_km2 == one.drilled_km2
    assert before[0] == 0.5
    for k in range(len(one.year_start_days)):
        assert many.produced_m3(k) == one.produced_m3(k) == ready.produced_m3(k)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.0, 1e11),
    st.floats(0.0, 1e11),
    st.floats(0.0, 1e3),
    st.lists(st.tuples(st.floats(0.0, 1e3), st.floats(1e-3, 5.0)), min_size=1, max_size=20),
)
def test_a_year_s_scalars_against_its_wells_give_the_broadcast_arrays_factors(
    produced, proved, area, wells
):
    # add_wells passes the year's produced gas, reserves and the area as scalars: the same
    # numbers, bit for bit, as every input an array of the wells' length
    r = rules()
    drilled, well = (np.array(c) for c in zip(*wells, strict=True))
    full = [np.full(drilled.size, x) for x in (produced, proved, area)]
    got = start_factors(produced, proved, area, drilled, well, r)
    assert got.shape == drilled.shape
    assert got.tobytes() == start_factors(*full, drilled, well, r).tobytes()
    assert start_factors(produced, proved, area, 1.0, 0.5, r).shape == ()
