"""The engine's per-step well volumes against the well population's own exact integral."""

from __future__ import annotations

import numpy as np
import pytest

from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import PARAMS, StepVolumes, initial_population


def _cohort(rng: np.random.Generator, n: int, online_from: float) -> dict[str, np.ndarray]:
    qi = rng.uniform(300.0, 20000.0, n)
    di = rng.uniform(0.05, 1.5, n)
    return {
        "qi": qi,
        "di": di,
        "b": rng.choice([0.0, 1e-12, 0.3, 1.0, 1.0 + 1e-12, 1.6], n),
        "d_term": np.minimum(rng.uniform(0.0, 0.3, n), di),
        "t_incline": rng.choice([0.0, 90.0, 400.0], n),
        "q_start": qi * rng.uniform(0.0, 0.5, n),
        "t_plateau": rng.choice([0.0, 0.0, 45.0, 700.0], n),
        "online_day": online_from + rng.uniform(0.0, 200.0, n).round(),
    }


def _add(pop: WellPopulation, c: dict[str, np.ndarray]) -> None:
    n = len(c["qi"])
    pop.add_cohort(
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int8),
        c["online_day"],
        **{k: c[k] for k in PARAMS},
    )


def test_step_volumes_match_daily_volume_with_cohorts_and_workovers():
    rng = np.random.default_rng(5)
    pop = WellPopulation(1)
    _add(pop, _cohort(rng, 300, -2000.0))
    steps = StepVolumes(pop)
    for day in range(0, 400, 3):
        if day in (30, 150, 151):  # new wells join mid-run, as hook-ups do
            _add(pop, _cohort(rng, 50, float(day)))
        if day % 45 == 0:  # pumps fail at a step boundary, down for 10 days
            idx = rng.choice(len(pop), 20, replace=False)
            pop.set_down(idx, day + 10.0, float(day))
        got = steps.step(float(day), day + 3.0)
        want = pop.daily_volume(float(day), day + 3.0)
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-6)


def test_initial_population_is_calibrated_with_downtime():
    from cbm_sim.scenario.model import WellReliability

    plain = initial_population(np.random.default_rng(1))
    rel = WellReliability(pump_failures_per_well_year=1.0, workover_days=36.525)
    raised = initial_population(np.random.default_rng(1), rel)
    ratio = raised.daily_volume(0.0, 365.0).sum() / plain.daily_volume(0.0, 365.0).sum()
    assert ratio == pytest.approx(1 / 0.9, rel=1e-6)  # 10 % expected downtime


def test_block_group_peak_scale_and_producing_share_act_on_new_wells_only_of_their_group():
    import numpy as np

    from cbm_sim.scenario.model import TypeCurveScaling
    from cbm_sim.wells.stepping import new_well_sampler

    def draw(scaling: TypeCurveScaling, block_class: str) -> dict:
        return new_well_sampler(scaling, np.random.default_rng(5))(0, block_class, 4000)

    base = draw(TypeCurveScaling(), "ramping")
    doubled = draw(TypeCurveScaling(ramping_blocks_peak_scale=2.0), "ramping")
    np.testing.assert_allclose(doubled["qi"], 2.0 * base["qi"])
    other = draw(TypeCurveScaling(ramping_blocks_peak_scale=2.0), "producing")
    np.testing.assert_allclose(other["qi"], draw(TypeCurveScaling(), "producing")["qi"])
    both = draw(TypeCurveScaling(peak_rate_scale=1.5, proved_blocks_peak_scale=2.0), "proved")
    np.testing.assert_allclose(both["qi"], 3.0 * draw(TypeCurveScaling(), "proved")["qi"])
    # a share of the producing wells stays dry; the others are as they were
    half = draw(TypeCurveScaling(producing_share_scale=0.5), "ramping")
    producing = base["qi"] > 0
    kept = (half["qi"] > 0) & producing
    assert (half["qi"][~producing] == 0).all()
    assert kept.sum() / producing.sum() == pytest.approx(0.5, abs=0.03)
    np.testing.assert_allclose(half["qi"][kept], base["qi"][kept])


def test_block_group_scales_are_bounded():
    from cbm_sim.scenario.model import TypeCurveScaling

    with pytest.raises(ValueError, match="producing_share_scale"):
        TypeCurveScaling(producing_share_scale=1.2)
    with pytest.raises(ValueError, match="proved_blocks_peak_scale"):
        TypeCurveScaling(proved_blocks_peak_scale=0.0)


def test_development_rule_draws_the_class_curve_for_the_plans_underdeveloped_blocks():
    """The development rule (typecurves.yaml new_wells: class): new wells of 马必 … draw the
    class's level and producing share with the same draws as a block without a level of its
    own, times development_blocks_peak_scale; a block outside the rule keeps its level."""
    import numpy as np

    from cbm_sim.scenario.model import TypeCurveScaling
    from cbm_sim.wells import history
    from cbm_sim.wells.stepping import new_well_sampler

    cal = history.packaged_calibration("calibration-2021.yaml")
    adj = cal.adjustment
    assert adj.block_level("mabi") < 0.5  # the level the rule sets aside (its past wells')

    def draw(block: str | None, scaling: TypeCurveScaling | None = None) -> dict:
        sample = new_well_sampler(scaling or TypeCurveScaling(), np.random.default_rng(7),
                                  calibration=cal)  # fmt: skip
        return sample(0, "ramping", 3000, block)

    classed = draw(None)
    np.testing.assert_array_equal(draw("mabi")["qi"], classed["qi"])
    np.testing.assert_array_equal(draw("shizhuang_south")["qi"], classed["qi"])
    tripled = draw("mabi", TypeCurveScaling(development_blocks_peak_scale=3.0))
    np.testing.assert_allclose(tripled["qi"], 3.0 * classed["qi"])
    # 郑庄 (a developed block) keeps its own level; the development scale does not touch it
    own = draw("zhengzhuang", TypeCurveScaling(development_blocks_peak_scale=3.0))
    np.testing.assert_allclose(own["qi"], adj.block_level("zhengzhuang") * classed["qi"])
