"""The shipped uncertainty sections, how a sample acts on a scenario, rank correlations."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError
from resources_helpers import blank_resource
from scipy import stats

from cbm_sim.cluster.blocks import BlockAgent
from cbm_sim.cluster.build import build
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.model import (
    BlockProgramme,
    Commissioning,
    Distribution,
    Drilling,
    RankCorrelation,
    Scenario,
)
from cbm_sim.studies.correlation import (
    correlation_matrix,
    normal_correlation,
    spearman_of_normal,
)
from cbm_sim.studies.ensemble import apply, check_uncertainty, frozen_distribution, sample

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
INDUSTRY = "demand.industry.annual_1e8_m3"
CHEMICALS = "demand.chemicals.annual_1e8_m3"


# --------------------------------------------------------------------------- shipped sections
def _entries_with_comments(text: str, section: str) -> dict[str, str]:
    """Each entry of a top-level ``section``: its key → the comments above it and on it."""
    root = yaml.compose(text)
    lines = text.splitlines()
    out: dict[str, str] = {}
    for key, value in root.value:
        if key.value != section:
            continue
        items = value.value
        for k, item in enumerate(items):
            node, start = (
                (item[0], item[0].start_mark.line)
                if section == "uncertainty"
                else (
                    item,
                    item.start_mark.line,
                )
            )
            end = (
                (items[k + 1][0] if section == "uncertainty" else items[k + 1]).start_mark.line
                if k + 1 < len(items)
                else (item[1] if section == "uncertainty" else item).end_mark.line + 1
            )
            above = []
            i = start - 1
            while i >= 0 and lines[i].lstrip().startswith("#"):
                above.append(lines[i])
                i -= 1
            inline = [ln for ln in lines[start:end] if "#" in ln]
            name = node.value if section == "uncertainty" else f"correlation {k}"
            out[name] = "\n".join([*above, *inline])
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_uncertainty_entry_states_its_source_or_assumption(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for section in ("uncertainty", "correlations"):
        entries = _entries_with_comments(text, section)
        bare = [k for k, c in entries.items() if "source:" not in c and "assumption:" not in c]
        assert bare == [], f"{path.name}: {section} entries without a source: {bare}"


def test_the_comment_check_finds_an_unsourced_entry() -> None:
    text = (
        "uncertainty:\n"
        "  # source: a cited spread\n"
        "  a.b: {dist: uniform, low: 0, high: 1}\n"
        "  # a comment that names nothing\n"
        "  c.d: {dist: uniform, low: 0, high: 1}\n"
    )
    got = _entries_with_comments(text, "uncertainty")
    assert "source:" in got["a.b"] and "source:" not in got["c.d"]


@pytest.mark.parametrize("name", ["plan", "business-as-usual"])
def test_shipped_scenarios_carry_the_uncertainties_of_the_issue(name: str) -> None:
    s = load_scenario(SCENARIOS[0].parent / f"{name}.yaml")
    wanted = {
        "type_curves.peak_rate_scale",
        "type_curves.decline_scale",
        "type_curves.incline_days_scale",
        "drilling.achieved_share",
        INDUSTRY,
        "gas_prices",
        "valuation.lng_price_yuan_per_t",
        "valuation.mine_power_value_yuan_per_kwh",
        "valuation.carbon_price_yuan_per_t_co2e",
        "per_well_values",
    }
    if name == "plan":
        wanted |= {
            "commissioning.delay_days",
            "regulated_prices",
            "valuation.green_finance_yuan_per_yuan_year",
            "valuation.insurance_premium_per_yuan_year",
            "valuation.science_city_1e8_yuan",
            "valuation.training_yuan_per_well_drilled",
        }
    assert wanted <= set(s.uncertainty)
    check_uncertainty(s)


PRICE_PATHS = (
    "surface_gas_price_yuan_per_m3",
    "lng_price_yuan_per_t",
    "carbon_price_yuan_per_t_co2e",
)


@pytest.mark.parametrize("name", ["plan", "business-as-usual"])
def test_every_price_held_flat_beyond_two_years_has_a_spread_and_the_cited_ones_volatility(
    name: str,
) -> None:
    # issue 24: no price may be one figure held flat for more than two years of the horizon
    # without a spread in the uncertainty section; the cited paths also move year to year
    s = load_scenario(SCENARIOS[0].parent / f"{name}.yaml")
    spread: dict[str, Distribution] = {}
    for key, spec in s.uncertainty.items():
        for path in spec.paths or [key]:
            spread[path.removeprefix("valuation.")] = spec
    years = np.arange(s.horizon.start.year, s.horizon.end.year + 1)
    for field in type(s.valuation).model_fields:
        leaf = getattr(s.valuation, field)
        if not isinstance(leaf, dict) or field in ("levels_2021", "carbon_baseline_share"):
            continue  # not prices: the 2021 fit, and a share that a standard fixes
        values = s.valuation.unit_value(field, years)
        run = longest = 1
        for a, b in itertools.pairwise(values):
            run = run + 1 if a == b else 1
            longest = max(longest, run)
        if longest > 2 and np.any(values > 0):
            assert field in spread, f"{name}: {field} is held flat {longest} years without a spread"
    for field in PRICE_PATHS:
        spec = spread[field]
        assert spec.year_sd is not None and spec.year_sd > 0, field
    # the yearly volatility starts after the last cited year of each price
    assert spread["lng_price_yuan_per_t"].from_year == 2026
    assert spread["surface_gas_price_yuan_per_m3"].from_year == 2024


def test_year_to_year_factors_are_seeded_independent_and_act_on_single_years() -> None:
    spec = Distribution(dist="normal", mean=1.0, sd=1e-12, from_year=2026, year_sd=0.2)
    lng = "valuation.lng_price_yuan_per_t"
    first = sample({lng: spec}, np.random.default_rng(7), last_year=2030)
    again = sample({lng: spec}, np.random.default_rng(7), last_year=2030)
    assert first == again  # the member's generator decides
    assert set(first) == {lng, *(f"{lng}@{y}" for y in range(2026, 2031))}
    assert first[lng] == pytest.approx(1.0)
    factors = np.array([first[f"{lng}@{y}"] for y in range(2026, 2031)])
    assert len(set(factors.round(12))) == 5  # one per year, not one for the decade
    plan = load_scenario(SCENARIOS[0].parent / "plan.yaml")
    member = apply(plan, first, {lng: spec})
    years = np.arange(2021, 2031)
    base = plan.valuation.unit_value("lng_price_yuan_per_t", years)
    got = member.valuation.unit_value("lng_price_yuan_per_t", years)
    np.testing.assert_allclose(got[:5], base[:5])  # the cited years are kept
    np.testing.assert_allclose(got[5:] / base[5:], factors * first[lng])
    # without last_year (sensitivity, robustness) or year_sd nothing more is drawn
    assert set(sample({lng: spec}, np.random.default_rng(7))) == {lng}
    # mean 1 and the stated spread of the log over many draws
    many = sample(
        {lng: spec.model_copy(update={"from_year": 1990})}, np.random.default_rng(1), last_year=2100
    )
    logs = np.log([v for k, v in many.items() if "@" in k])
    assert np.exp(logs).mean() == pytest.approx(1.0, abs=0.05)
    assert logs.std() == pytest.approx(0.2, abs=0.03)


def test_year_sd_needs_from_year_and_stays_in_bounds() -> None:
    with pytest.raises(ValidationError, match=r"year_sd .* needs from_year"):
        Distribution(dist="uniform", low=0.9, high=1.1, year_sd=0.1)
    with pytest.raises(ValidationError, match="year_sd"):
        Distribution(dist="uniform", low=0.9, high=1.1, from_year=2026, year_sd=5.0)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_ranges_give_valid_scenarios_at_their_extremes(path: Path) -> None:
    s = load_scenario(path)
    for q in (1e-9, 0.5, 1 - 1e-9):
        values = {
            k: float(frozen_distribution(k, spec).ppf(q)) for k, spec in s.uncertainty.items()
        }
        member = apply(s, values, s.uncertainty)
        # The 2021 baseline is never sampled: every path keeps its 2021 value.
        assert member.demand.industry.annual_1e8_m3[2021] == s.demand.industry.annual_1e8_m3[2021]
        field = "surface_gas_price_yuan_per_m3"
        assert member.valuation.unit_value(field, [2021])[0] == pytest.approx(
            s.valuation.unit_value(field, [2021])[0], rel=1e-12
        )


def test_children_inherit_the_plan_section_and_keep_their_own_values() -> None:
    plan = load_scenario(SCENARIOS[0].parent / "plan.yaml")
    low = load_scenario(SCENARIOS[0].parent / "low-price.yaml")
    assert low.uncertainty == plan.uncertainty and low.correlations == plan.correlations
    member = apply(low, {"gas_prices": 1.1}, low.uncertainty)
    # the stress case's scale stays, the sample multiplies the prices on top of it
    assert member.valuation.gas_price_scale == low.valuation.gas_price_scale == 0.7
    industry = "industry_price_yuan_per_m3"
    assert member.valuation.unit_value(industry, [2030])[0] == pytest.approx(
        1.1 * low.valuation.unit_value(industry, [2030])[0]
    )


# --------------------------------------------------------------------------- op, from_year, paths
def test_from_year_keeps_earlier_years_and_scales_the_rest() -> None:
    base = Scenario(demand={"industry": {"annual_1e8_m3": {2021: 2.0, 2025: 10.0}}})
    spec = Distribution(dist="uniform", low=0, high=2, from_year=2023)
    got = apply(base, {INDUSTRY: 2.0}, {INDUSTRY: spec}).demand.industry.annual_1e8_m3
    assert got == {2021: 2.0, 2022: 4.0, 2023: 2 * 6.0, 2025: 20.0}
    flat = Scenario()  # {2021: 2.46}: held flat, so a knot from from_year on carries the sample
    got = apply(flat, {INDUSTRY: 0.5}, {INDUSTRY: spec}).demand.industry.annual_1e8_m3
    assert got == {2021: 2.46, 2022: 2.46, 2023: 1.23}


def test_op_scale_and_add_on_numbers_and_shared_factor_paths() -> None:
    base = Scenario(type_curves={"peak_rate_scale": 1.5})
    peak = "type_curves.peak_rate_scale"
    scaled = apply(
        base, {peak: 0.8}, {peak: Distribution(dist="uniform", low=0, high=1, op="scale")}
    )
    assert scaled.type_curves.peak_rate_scale == pytest.approx(1.2)
    added = apply(base, {peak: 0.25}, {peak: Distribution(dist="uniform", low=0, high=1, op="add")})
    assert added.type_curves.peak_rate_scale == pytest.approx(1.75)
    assert apply(base, {peak: 0.8}).type_curves.peak_rate_scale == 0.8  # set, by default
    shared = Distribution(
        dist="uniform", low=0, high=2, paths=[INDUSTRY, CHEMICALS, "commissioning.delay_days"]
    )
    got = apply(Scenario(), {"demand_level": 2.0}, {"demand_level": shared})
    assert got.demand.industry.annual_1e8_m3 == {2021: 4.92}
    assert got.commissioning.delay_days == 2.0  # a number is set unless op says otherwise


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (Distribution(dist="uniform", low=0, high=1, op="set"), "op must be scale or add"),
        (
            Distribution(
                dist="uniform", low=0.5, high=1, paths=["type_curves.decline_scale"], from_year=2022
            ),
            "from_year applies to {year: value} paths only, got from_year=2022",
        ),
        (Distribution(dist="uniform", low=0, high=1, paths=["demand.nosuch"]), "'nosuch'"),
    ],
)
def test_an_op_that_does_not_fit_its_field_is_named(spec: Distribution, fragment: str) -> None:
    # refused when the scenario is built (a path that does not exist) or checked (an op)
    with pytest.raises(ValueError, match="path") as err:
        check_uncertainty(Scenario(uncertainty={INDUSTRY: spec}))
    assert fragment in str(err.value)


# --------------------------------------------------------------------------- correlations
def test_stated_rank_correlation_is_reached_and_marginals_kept() -> None:
    specs = {
        INDUSTRY: Distribution(dist="triangular", low=0.5, mode=0.9, high=1.1),
        CHEMICALS: Distribution(dist="uniform", low=0.5, high=1.1),
        "type_curves.decline_scale": Distribution(dist="lognormal", mean=1.0, sd=0.2),
    }
    corr = [RankCorrelation(inputs=(INDUSTRY, CHEMICALS), rank=0.5)]
    rng = np.random.default_rng(1)
    draws = [sample(specs, rng, corr) for _ in range(4000)]
    x = np.array([[d[k] for k in specs] for d in draws])
    rho = stats.spearmanr(x).statistic
    assert rho[0, 1] == pytest.approx(0.5, abs=0.05)
    assert abs(rho[0, 2]) < 0.06 and abs(rho[1, 2]) < 0.06
    for j, (k, spec) in enumerate(specs.items()):
        cdf = frozen_distribution(k, spec).cdf
        assert stats.kstest(x[:, j], cdf).pvalue > 0.001, k
    assert spearman_of_normal(normal_correlation(0.3)) == pytest.approx(0.3)


def test_impossible_correlations_are_refused_with_the_pairs() -> None:
    corr = [
        RankCorrelation(inputs=("a", "b"), rank=0.95),
        RankCorrelation(inputs=("b", "c"), rank=0.95),
        RankCorrelation(inputs=("a", "c"), rank=-0.95),
    ]
    with pytest.raises(ValueError, match="not jointly possible") as err:
        correlation_matrix(["a", "b", "c"], corr)
    assert "a ~ c: -0.95" in str(err.value)
    with pytest.raises(ValueError, match="'z' is not an uncertain input"):
        correlation_matrix(["a", "b"], [RankCorrelation(inputs=("a", "z"), rank=0.1)])


@pytest.mark.parametrize(
    ("correlations", "fragment"),
    [
        ([{"inputs": [INDUSTRY, "nosuch"], "rank": 0.5}], "'nosuch' is not an uncertain input"),
        ([{"inputs": [INDUSTRY, INDUSTRY], "rank": 0.5}], "correlated with itself"),
        (
            [{"inputs": [INDUSTRY, CHEMICALS], "rank": 0.5}] * 2,
            "is correlated twice",
        ),
        ([{"inputs": [INDUSTRY, CHEMICALS], "rank": 1.0}], "less than or equal to 0.99"),
    ],
)
def test_bad_correlations_are_named(correlations: list[dict], fragment: str) -> None:
    spec = {"dist": "uniform", "low": 0.5, "high": 1.0}
    with pytest.raises(ValidationError) as err:
        Scenario.model_validate(
            {"uncertainty": {INDUSTRY: spec, CHEMICALS: spec}, "correlations": correlations}
        )
    assert fragment in str(err.value)


# --------------------------------------------------------------------------- new fields
def _agent(achieved: float) -> BlockAgent:
    return BlockAgent(
        info=load_blocks()[0],
        programme=BlockProgramme(
            vertical_wells_per_year={2021: 100}, horizontal_wells_per_year={2021: 10}
        ),
        drilling=Drilling(achieved_share=achieved),
        resource=blank_resource(),
        start=dt.date(2021, 1, 1),
        end=dt.date(2030, 12, 31),
        log=lambda *a: None,
        sample=lambda *a: {},
    )


def test_achieved_share_scales_the_wells_drilled() -> None:
    full, half = _agent(1.0).spud_days(), _agent(0.5).spud_days()
    assert len(full) == 1100 and len(half) == 550
    assert sum(t for _, t in half) == 50


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"drilling": {"achieved_share": 0}}, "greater than 0"),
        ({"drilling": {"achieved_share": 2.5}}, "less than or equal to 2"),
        ({"commissioning": {"delay_days": -1}}, "greater than or equal to 0"),
        ({"commissioning": {"delay_days": 4000}}, "less than or equal to 3650"),
    ],
)
def test_new_fields_reject_values_out_of_bounds(data: dict, fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        Scenario.model_validate(data)
    assert fragment in str(err.value)


def test_commissioning_delay_shifts_new_facilities_within_the_horizon() -> None:
    plan = load_scenario(SCENARIOS[0].parent / "plan.yaml")
    short = plan.model_copy(update={"uncertainty": {}, "correlations": []})
    on_time = build(short)
    late = build(short.model_copy(update={"commissioning": Commissioning(delay_days=800.7)}))
    last = float(len(on_time.days) - 1)
    for a, b in zip(on_time.lng + on_time.lines, late.lng + late.lines, strict=True):
        if a.commission_day is None or a.commission_day <= 0:
            assert b.commission_day == a.commission_day  # in service at the start: no slip
        else:
            assert b.commission_day == min(a.commission_day + 800, last)
    assert max(f.commission_day or 0 for f in late.lng) == last  # LNG-10 (2029) is clamped


def test_a_bad_correlation_in_a_file_points_at_its_line() -> None:
    from cbm_sim.scenario.files import ScenarioError, scenario_from_text

    text = (
        "uncertainty:\n"
        "  demand.industry.annual_1e8_m3: {dist: uniform, low: 0.5, high: 1.0}\n"
        "correlations:\n"
        "  - {inputs: [demand.industry.annual_1e8_m3, nosuch], rank: 0.5}\n"
    )
    with pytest.raises(ScenarioError) as err:
        scenario_from_text(text)
    message = str(err.value)
    assert "correlations" in message and "'nosuch'" in message and ":4" in message


# --------------------------------------------------------------------------- analyst helpers
def test_describe_restrict_and_step_days() -> None:
    from cbm_sim.studies.uncertainty import describe, restrict, with_step_days

    plan = load_scenario(SCENARIOS[0].parent / "plan.yaml")
    table = describe(plan)
    assert list(table["input"]) == list(plan.uncertainty)
    assert (table["p10"] <= table["p50"]).all() and (table["p50"] <= table["p90"]).all()
    gas = table.set_index("input").loc["gas_prices"]
    assert "valuation.industry_price_yuan_per_m3" in gas["acts_on"] and gas["from_year"] == 2024
    sub = restrict(plan, [INDUSTRY, CHEMICALS])
    assert list(sub.uncertainty) == [INDUSTRY, CHEMICALS] and len(sub.correlations) == 1
    assert restrict(plan, [INDUSTRY]).correlations == []
    assert restrict(plan, None) is plan
    with pytest.raises(ValueError, match="'nosuch'"):
        restrict(plan, ["nosuch"])
    assert with_step_days(plan, 30).horizon.step_days == 30
    with pytest.raises(ValidationError, match="step_days"):
        with_step_days(plan, 0)


def test_a_long_incline_scale_keeps_every_new_well_valid() -> None:
    from cbm_sim.bounds import BOUNDS
    from cbm_sim.scenario.model import TypeCurveScaling
    from cbm_sim.wells.stepping import new_well_sampler

    sampler = new_well_sampler(TypeCurveScaling(incline_days_scale=5.0), np.random.default_rng(3))
    # 720 d curve × the calibrated incline scale (0.5 with the plateau fit) × 5, lognormal
    # scatter: many above the bound
    p = sampler(0, "proved", 5000)
    assert p["t_incline"].max() == BOUNDS["t_incline"].hi == 3650.0


# --------------------------------------------------------------------------- spread vs swings
SPREAD = """
name: spread-check
horizon: {start: 2021-01-01, end: 2025-12-31, step_days: 31}
uncertainty:
  # assumption: test inputs of similar weight, one simulated (prices × volumes), two exogenous
  gas: {dist: triangular, low: 0.82, mode: 1.0, high: 1.18, from_year: 2022, paths: [
      valuation.surface_gas_price_yuan_per_m3, valuation.lng_price_yuan_per_t]}
  # assumption: a test input
  valuation.insurance_premium_per_yuan_year: {dist: uniform, low: 0.0, high: 2.0, from_year: 2022}
  # assumption: a test input
  valuation.science_city_1e8_yuan: {dist: uniform, low: 0.0, high: 2.0, from_year: 2022}
"""


def test_ensemble_p10_p90_spans_the_one_at_a_time_swings() -> None:
    from cbm_sim.scenario.files import scenario_from_text
    from cbm_sim.studies.ensemble import run_ensemble
    from cbm_sim.studies.sensitivity import spread_versus_swings, tornado

    scenario = scenario_from_text(SPREAD)
    ensemble = run_ensemble(scenario, 32, workers=1, seed=1)
    swings = tornado(scenario, years=(2025,), workers=1)
    got = spread_versus_swings(ensemble.members, swings, 2025)
    # all three inputs at once spread wider than any one of them, and than their envelope
    assert got["covers_largest"] and got["covers_envelope"], got
    assert got["width"] >= 0.7 * got["rss_swing"], got
    # the exogenous swings are exact: 0.8 of the uniform's range × the plan's 2025 figure
    by = swings.set_index("input")
    assert by.loc["valuation.science_city_1e8_yuan", "high_value"] - by.loc[
        "valuation.science_city_1e8_yuan", "low_value"
    ] == pytest.approx(1.6 * 10e8)  # plan ch4 §4: 科创城 10亿元 (2025)
    with pytest.raises(ValueError, match="2031"):
        spread_versus_swings(ensemble.members, swings, 2031)
