"""Tests of cbm_sim.studies.goalseek: bracketing on closed forms, then on the simulation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.scenario.model import BlockProgramme, Drilling, Horizon, Scenario
from cbm_sim.studies.goalseek import apply_lever, goal_seek, quantity_in_year, solve_monotone


@given(st.floats(0.5, 60.0))
@settings(max_examples=30, deadline=None)
def test_cube_root_found_within_tolerance(target: float) -> None:
    res = solve_monotone(lambda x: x**3, target, (0.0, 4.0), xtol=1e-6)
    assert res.converged
    assert res.achieved >= target
    assert res.value == pytest.approx(target ** (1 / 3), abs=2e-6)


@given(st.floats(0.01, 0.99))
@settings(max_examples=30, deadline=None)
def test_step_function_gives_smallest_setting_meeting_target(target: float) -> None:
    # f jumps at multiples of 0.1: the smallest x meeting target is ceil(10 target) / 10.
    def f(x: float) -> float:
        return math.floor(10 * x) / 10

    res = solve_monotone(f, target, (0.0, 1.0), xtol=1e-4)
    assert res.converged and res.achieved >= target
    jump = math.ceil(10 * target - 1e-12) / 10
    assert jump <= res.value <= jump + 2e-4


def test_unreachable_target_reports_how_close() -> None:
    res = solve_monotone(lambda x: 2 * x, 10.0, (0.0, 3.0), lever="drilling")
    assert not res.converged
    assert res.value == 3.0 and res.achieved == 6.0
    assert "cannot reach 10" in res.message and "6" in res.message and "-40.00%" in res.message


def test_a_search_not_converged_within_its_iterations_says_so(monkeypatch) -> None:
    from cbm_sim import bounds

    assert bounds.BOUNDS["goal_seek_iterations"].hi == 100  # brentq's own default
    cut = dataclasses.replace(bounds.BOUNDS["goal_seek_iterations"], hi=2.0)
    monkeypatch.setitem(bounds.BOUNDS, "goal_seek_iterations", cut)
    res = solve_monotone(lambda x: x**3, 2.0, (0.0, 4.0), xtol=1e-9)
    assert not res.converged and "not converged within 2 refinements" in res.message
    assert res.achieved >= 2.0  # the best setting found that meets the target


def test_target_met_at_lower_bound() -> None:
    res = solve_monotone(lambda x: x, 1.0, (2.0, 3.0))
    assert res.converged and res.value == 2.0 and "lower bound" in res.message


@pytest.mark.parametrize(("bounds", "text"), [((3.0, 1.0), "(3.0, 1.0)"), ((1.0, 1.0), "(1.0")])
def test_bad_bounds_named(bounds: tuple[float, float], text: str) -> None:
    with pytest.raises(ValueError, match="low < high") as err:
        solve_monotone(lambda x: x, 1.0, bounds)
    assert text in str(err.value)


def _scenario() -> Scenario:
    # assumption: 300 vertical wells a year, of the order of the plan scenario's placeholder.
    programme = BlockProgramme(
        vertical_wells_per_year={2021: 300}, horizontal_wells_per_year={2021: 20}, first_year=2021
    )
    return Scenario(
        horizon=Horizon(end=dt.date(2022, 12, 31), step_days=7),
        drilling=Drilling(blocks={"zhengzhuang": programme}),
    )


def test_drilling_lever_scales_every_programme() -> None:
    s = apply_lever(_scenario(), "drilling", 1.5)
    prog = s.drilling.blocks["zhengzhuang"]
    assert prog.vertical_wells_per_year == {2021: 450.0}
    assert prog.horizontal_wells_per_year == {2021: 30.0}
    assert apply_lever(_scenario(), "peak_rate", 1.2).type_curves.peak_rate_scale == 1.2
    with pytest.raises(ValueError, match="'bogus'"):
        apply_lever(_scenario(), "bogus", 1.0)
    with pytest.raises(ValueError, match=r"-1\.0"):
        apply_lever(_scenario(), "drilling", -1.0)


def test_goal_seek_peak_rate_lands_on_target() -> None:
    base = _scenario()
    lo = quantity_in_year(apply_lever(base, "peak_rate", 0.8), "production.surface", 2022)
    hi = quantity_in_year(apply_lever(base, "peak_rate", 1.2), "production.surface", 2022)
    assert lo < hi
    target_1e8 = (lo + 0.4 * (hi - lo)) / 1e8
    res = goal_seek(
        base, 2022, target_1e8, "peak_rate", (0.8, 1.2), quantity="production.surface", xtol=1e-2
    )
    assert res.converged and res.achieved >= target_1e8
    below = quantity_in_year(
        apply_lever(base, "peak_rate", res.value - 1.5e-2), "production.surface", 2022
    )
    assert below / 1e8 < target_1e8
    with pytest.raises(ValueError, match="'bogus'"):
        goal_seek(base, 2022, 1.0, "bogus", (0.8, 1.2))


def test_price_lever_matches_the_linear_closed_form() -> None:
    pytest.importorskip("cbm_sim.economics.valuation")
    import dataclasses

    from cbm_sim.results import simulate
    from cbm_sim.studies.ensemble import summarise

    base = _scenario()
    results = simulate.run(base)

    def total_1e8(x: float) -> float:
        priced = dataclasses.replace(results, scenario=apply_lever(base, "price", x))
        wide, _ = summarise(priced, ("value",))
        return float(wide.set_index("year").loc[2022, "output.total"]) / 1e8

    # Priced items are volume × price, the rest do not depend on prices: value is affine in x.
    f0, f1, f2 = total_1e8(0.0), total_1e8(1.0), total_1e8(2.0)
    assert f2 - f1 == pytest.approx(f1 - f0, rel=1e-9) and f1 > f0
    target = f0 + 1.37 * (f1 - f0)
    res = goal_seek(base, 2022, target, "price", (0.5, 3.0), xtol=1e-4)
    assert res.converged and res.achieved >= target
    assert res.value == pytest.approx(1.37, abs=2e-4)
    with pytest.raises(ValueError, match=r"production\.total"):
        goal_seek(base, 2022, 1.0, "price", (0.5, 3.0), quantity="production.total")


def test_drilling_lever_scales_rigs_with_the_wells():
    from cbm_sim.scenario.model import BlockProgramme, Drilling, Scenario
    from cbm_sim.studies.goalseek import apply_lever

    sc = Scenario(
        drilling=Drilling(
            blocks={"zhengzhuang": BlockProgramme(vertical_wells_per_year={2022: 100}, rigs=5)}
        )
    )
    fast = apply_lever(sc, "drilling", 2.5).drilling.blocks["zhengzhuang"]
    assert fast.vertical_wells_per_year == {2022: 250.0}
    assert fast.rigs == 13  # ceil(5 × 2.5)
    slow = apply_lever(sc, "drilling", 0.01).drilling.blocks["zhengzhuang"]
    assert slow.rigs == 1
