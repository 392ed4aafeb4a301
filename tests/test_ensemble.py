"""Tests of cbm_sim.studies.ensemble and .sensitivity (short weekly-step horizons, n <= 6)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.results import simulate
from cbm_sim.scenario.model import BlockProgramme, Distribution, Drilling, Horizon, Scenario
from cbm_sim.studies.ensemble import (
    MemberOutcome,
    apply,
    collect,
    frozen_distribution,
    member_seeds,
    probability_of_reaching,
    run_ensemble,
    summarise,
)
from cbm_sim.studies.sensitivity import sobol, tornado

PEAK = "type_curves.peak_rate_scale"
INDUSTRY = "demand.industry.annual_1e8_m3"


def short(end: int = 2025, **uncertainty: Distribution) -> Scenario:
    """A weekly-step scenario to ``end`` with new wells (type-curve scaling acts on them)."""
    # assumption: 300 vertical wells a year is of the order of the plan scenario's placeholder.
    programme = BlockProgramme(vertical_wells_per_year={2021: 300}, first_year=2021)
    return Scenario(
        horizon=Horizon(end=dt.date(end, 12, 31), step_days=7),
        drilling=Drilling(blocks={"zhengzhuang": programme}),
        uncertainty={k.replace("__", "."): v for k, v in uncertainty.items()},
    )


UNCERTAIN = short(
    type_curves__peak_rate_scale=Distribution(dist="triangular", low=0.8, mode=1.0, high=1.2),
    demand__industry__annual_1e8_m3=Distribution(dist="uniform", low=0.9, high=1.1),
)


# --------------------------------------------------------------------------- applying samples
def test_apply_replaces_scalars_and_scales_time_paths() -> None:
    base = Scenario()
    changed = apply(base, {PEAK: 1.3, INDUSTRY: 1.5, "lng.plants.2.capacity_t_per_day": 600})
    assert changed.type_curves.peak_rate_scale == 1.3
    assert changed.demand.industry.annual_1e8_m3 == {
        y: 1.5 * v for y, v in base.demand.industry.annual_1e8_m3.items()
    }
    assert changed.lng.plants[2].capacity_t_per_day == 600
    assert changed.lng.plants[1] == base.lng.plants[1]


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("type_curves.peak_rate", "'peak_rate'"),
        ("nosuch.field", "'nosuch'"),
        ("lng.plants.99.capacity_t_per_day", "'99'"),
        ("horizon", "date"),
        ("horizon.step_days.x", "step_days is a value"),
    ],
)
def test_bad_path_names_the_path(path: str, fragment: str) -> None:
    # refused when the scenario is built, before any ensemble runs
    with pytest.raises(ValueError, match="uncertainty") as err:
        short(**{path.replace(".", "__"): Distribution(dist="uniform", low=0, high=1)})
    assert repr(path) in str(err.value)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"dist": "uniform", "low": 2.0, "high": 1.0}, "low=2.0 high=1.0"),
        ({"dist": "triangular", "low": 0.5, "mode": 2.0, "high": 1.5}, "mode=2.0"),
        ({"dist": "truncnorm", "mean": 1.0, "sd": 0.1, "low": 1.2, "high": 1.1}, "low=1.2"),
        ({"dist": "normal", "mean": 1.0}, "missing sd"),
        ({"dist": "lognormal", "mean": -1.0, "sd": 0.1}, "mean=-1.0"),
        ({"dist": "uniform", "low": 0.9, "high": 1.1, "mode": 1.0}, "mode would be ignored"),
    ],
)
def test_bad_distribution_is_refused_with_its_values(spec: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=spec["dist"]) as err:
        Distribution.model_validate(spec)
    assert fragment in str(err.value)
    # sampling an unchecked one (model_construct) still names the path
    unchecked = Distribution.model_construct(**spec)
    with pytest.raises(ValueError, match=r"uncertainty 'type_curves\.peak_rate_scale'"):
        frozen_distribution(PEAK, unchecked)


def test_distribution_moments_match_closed_forms() -> None:
    rng = np.random.default_rng(7)
    cases = [
        (Distribution(dist="uniform", low=1, high=3), 2.0, 2 / math.sqrt(12)),
        (Distribution(dist="triangular", low=0, mode=1, high=5), 2.0, math.sqrt(21 / 18)),
        (Distribution(dist="normal", mean=5, sd=2), 5.0, 2.0),
        (Distribution(dist="lognormal", mean=3, sd=1.5), 3.0, 1.5),
    ]
    for spec, mean, sd in cases:
        x = frozen_distribution("x", spec).rvs(size=200_000, random_state=rng)
        assert x.mean() == pytest.approx(mean, rel=0.01), spec
        assert x.std() == pytest.approx(sd, rel=0.02), spec
    x = frozen_distribution(
        "x", Distribution(dist="truncnorm", mean=1, sd=1, low=0.5, high=1.2)
    ).rvs(size=10_000, random_state=rng)
    assert x.min() >= 0.5 and x.max() <= 1.2


# --------------------------------------------------------------------------- running
def test_degenerate_ensemble_equals_the_deterministic_runs() -> None:
    scenario = short(end=2022)
    result = run_ensemble(scenario, 2, workers=1, seed=11, measures=("production",))
    assert result.failures.empty
    for i, ss in enumerate(member_seeds(11, 2)):
        expected, _ = summarise(simulate.run(scenario, seed=ss), ("production",))
        got = result.members[result.members["member"] == i].drop(columns="member")
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    # Conservation: total = surface + underground (coal-mine drainage).
    m = result.members
    np.testing.assert_allclose(
        m["production.total"], m["production.surface"] + m["production.underground"]
    )


def test_same_seed_same_ensemble_with_one_and_two_workers() -> None:
    scenario = short(
        end=2022, **{k.replace(".", "__"): v for k, v in UNCERTAIN.uncertainty.items()}
    )
    serial = run_ensemble(scenario, 3, workers=1, seed=5, measures=("production",))
    dask = run_ensemble(scenario, 3, workers=2, seed=5, measures=("production",))
    pd.testing.assert_frame_equal(serial.members, dask.members)
    other = run_ensemble(UNCERTAIN, 1, workers=1, seed=6, measures=("production",))
    assert other.members[PEAK].iloc[0] != serial.members[PEAK].iloc[0]
    # The samples lie in their distributions' supports.
    assert serial.members[PEAK].between(0.8, 1.2).all()
    assert serial.members[INDUSTRY].between(0.9, 1.1).all()
    pct = serial.percentiles()
    assert list(pct.columns) == ["year", "quantity", "unit", "p10", "p50", "p90"]
    assert (pct["p10"] <= pct["p50"]).all() and (pct["p50"] <= pct["p90"]).all()


def test_failed_member_is_reported_and_does_not_sink_the_rest(tmp_path) -> None:
    # pump failures must be >= 0: a normal around 0 makes about half the members invalid.
    scenario = short(
        end=2022, wells__pump_failures_per_well_year=Distribution(dist="normal", mean=0, sd=1)
    )
    result = run_ensemble(scenario, 6, workers=1, seed=3, measures=("production",))
    path = "wells.pump_failures_per_well_year"
    assert len(result.failures) >= 1 and result.members["member"].nunique() >= 1
    assert len(result.failures) + result.members["member"].nunique() == 6
    assert (result.failures[path] < 0).all()
    assert (result.members[path] >= 0).all()
    assert result.failures["error"].str.contains("pump_failures_per_well_year").all()
    out = result.to_dir(tmp_path / "ens")
    back = pd.read_parquet(out / "members.parquet")
    pd.testing.assert_frame_equal(back, result.members, check_dtype=False)
    # read back whole, and the Python frames say what the files say (planner units)
    from cbm_sim.studies.ensemble import EnsembleResult

    loaded = EnsembleResult.from_dir(out)
    assert (loaded.n, loaded.seed, loaded.parameters) == (6, 3, result.parameters)
    pd.testing.assert_frame_equal(loaded.members, result.members, check_dtype=False)
    written = pd.read_csv(out / "percentiles.csv")
    pd.testing.assert_frame_equal(loaded.percentiles(), written, check_dtype=False)
    assert set(written["unit"]) == {"亿m3"}
    base = loaded.percentiles(base=True)
    assert set(base["unit"]) == {"m3"}
    assert np.allclose(base["p50"], written["p50"] * 1e8)
    assert repr(loaded).startswith("EnsembleResult(n=6, ") and "\n" not in repr(loaded)
    assert (out / "failures.csv").exists() and (out / "percentiles.csv").exists()
    # CSVs long, in planner units with a unit column; Parquet in base units
    members = pd.read_csv(out / "members.csv")
    assert list(members.columns) == ["member", "year", path, "quantity", "unit", "value"]
    assert set(members["unit"]) == {"亿m3"}
    one = members[(members["quantity"] == "production.total")].iloc[0]
    wide = back[(back["member"] == one["member"]) & (back["year"] == one["year"])]
    assert one["value"] == pytest.approx(wide["production.total"].iloc[0] / 1e8)
    pct = pd.read_csv(out / "percentiles.csv")
    assert set(pct["unit"]) == {"亿m3"}
    assert pd.read_csv(out / "probabilities.csv")["unit"].eq("fraction").all()
    with pytest.raises(FileExistsError, match="ens"):
        result.to_dir(out)


# --------------------------------------------------------------------------- probabilities
def _outcome(i: int, statuses: list[tuple[int, str, str]]) -> MemberOutcome:
    frame = pd.DataFrame(statuses, columns=["year", "target", "status"]).assign(
        simulated=1.0, target_value=1.0, unit="亿元"
    )
    return MemberOutcome(i, {}, wide=pd.DataFrame({"year": [2025]}), statuses=frame)


@given(st.lists(st.booleans(), min_size=1, max_size=40))
@settings(max_examples=40, deadline=None)
def test_probabilities_are_shares_met_with_binomial_error(met: list[bool]) -> None:
    outcomes = [
        _outcome(i, [(2025, "output.total", "met" if m else "short")]) for i, m in enumerate(met)
    ]
    prob = collect(outcomes, n=len(met), seed=0, parameters=()).probabilities()
    p = sum(met) / len(met)
    assert prob["probability"].iloc[0] == pytest.approx(p)
    assert prob["std_error"].iloc[0] == pytest.approx(math.sqrt(p * (1 - p) / len(met)))
    assert 0 <= prob["probability"].iloc[0] <= 1


@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=30),
    st.floats(0, 100),
    st.floats(0, 100),
)
@settings(max_examples=60, deadline=None)
def test_lowering_a_threshold_never_lowers_the_probability(
    values: list[float], a: float, b: float
) -> None:
    members = pd.DataFrame({"year": 2025, "production.total": values})
    low, high = sorted((a, b))
    p_low, se = probability_of_reaching(members, "production.total", 2025, low)
    p_high, _ = probability_of_reaching(members, "production.total", 2025, high)
    assert 0 <= p_high <= p_low <= 1
    assert se == pytest.approx(math.sqrt(p_low * (1 - p_low) / len(values)))
    with pytest.raises(ValueError, match="2031"):
        probability_of_reaching(members, "production.total", 2031, low)


def test_run_ensemble_rejects_n_below_one() -> None:
    with pytest.raises(ValueError, match="got 0"):
        run_ensemble(UNCERTAIN, 0, workers=1)


def test_value_and_target_summaries_when_available() -> None:
    pytest.importorskip("cbm_sim.economics.valuation")
    pytest.importorskip("cbm_sim.economics.targets")
    result = run_ensemble(short(end=2025), 1, workers=1, seed=1)
    assert result.failures.empty, result.failures["error"].tolist()
    row = result.members.iloc[-1]
    subs = [c for c in result.members.columns if c.startswith("output.") and c != "output.total"]
    assert row["output.total"] == pytest.approx(sum(row[c] for c in subs))
    prob = result.probabilities()
    assert prob["probability"].between(0, 1).all()


# --------------------------------------------------------------------------- sensitivity
def test_tornado_swings_between_p10_and_p90() -> None:
    scenario = short(end=2022, **{PEAK.replace(".", "__"): UNCERTAIN.uncertainty[PEAK]})
    frame = tornado(scenario, quantity="production.surface", years=(2021, 2022))
    base, _ = summarise(simulate.run(scenario), ("production",))
    assert list(frame["input"]) == [PEAK, PEAK]
    for row in frame.itertuples(index=False):
        # More peak rate, more gas: the P10 case is below the base, the P90 case above.
        assert row.low_value < row.base < row.high_value
        assert row.base == base.set_index("year").loc[row.year, "production.surface"]
        assert row.low_input == pytest.approx(0.8 + math.sqrt(0.1 * 0.4 * 0.2))
    with pytest.raises(ValueError, match=r"'wells\.workover_days'"):
        tornado(scenario, inputs=["wells.workover_days"], quantity="production.total")
    with pytest.raises(ValueError, match="'bogus'"):
        tornado(scenario, quantity="bogus")


def test_sobol_attributes_drainage_to_the_drainage_input() -> None:
    pytest.importorskip("SALib")
    scenario = Scenario(
        horizon=Horizon(end=dt.date(2021, 12, 31), step_days=14),
        uncertainty={
            PEAK: Distribution(dist="uniform", low=0.8, high=1.2),
            "mine_gas.drainage_1e8_m3_per_year": Distribution(dist="uniform", low=0.8, high=1.2),
        },
    )
    idx = sobol(scenario, 4, quantity="production.underground", year=2021, workers=1)
    by = idx.set_index("input")
    assert by.loc["mine_gas.drainage_1e8_m3_per_year", "ST"] > 0.9
    assert abs(by.loc[PEAK, "ST"]) < 0.05
    with pytest.raises(ValueError, match="got 3"):
        sobol(scenario, 3, quantity="production.underground", year=2021)


def test_wilson_interval_matches_published_values() -> None:
    from cbm_sim.studies.probability import wilson_interval

    # 0 of 10: upper bound z²/(n+z²) (Wilson 1927); 5 of 10: 0.2366..0.7634 (Brown et al. 2001)
    low, high = wilson_interval([0, 5, 10], [10, 10, 10])
    z2 = 1.959963984540054**2
    np.testing.assert_allclose(low, [0.0, 0.23659, 1 - z2 / (10 + z2)], atol=1e-5)
    np.testing.assert_allclose(high, [z2 / (10 + z2), 0.76341, 1.0], atol=1e-5)
    with pytest.raises(ValueError, match="met"):
        wilson_interval([11], [10])


def test_probabilities_carry_their_wilson_interval() -> None:
    result = run_ensemble(short(end=2025), 2, workers=1, seed=3)
    prob = result.probabilities()
    assert {"wilson_low", "wilson_high", "members"} <= set(prob.columns)
    assert (prob["wilson_low"] <= prob["probability"]).all()
    assert (prob["probability"] <= prob["wilson_high"]).all()
    assert (prob["members"] == 2).all()


def _summary_from_frames(results, measures):
    """A member's quantities as they were summed before issue 27's last pass (the reference
    of :func:`summarise`): filters and groupings of the annual and valuation frames."""
    from cbm_sim.economics.valuation import value

    annual = results.annual
    years = sorted(int(y) for y in annual["year"].unique())
    wide = pd.DataFrame({"year": years})

    def series(entity, quantity):
        rows = annual[(annual["entity"] == entity) & (annual["quantity"] == quantity)]
        by_year = rows.groupby("year", observed=True)["value"].sum()
        return by_year.reindex(years, fill_value=0.0).to_numpy(dtype=np.float64)

    if "production" in measures:
        wide["production.surface"] = series("surface", "production")
        wide["production.underground"] = series("mine_gas", "drainage")
        wide["production.total"] = wide["production.surface"] + wide["production.underground"]
    if "value" in measures:
        frame = value(results)
        by_sc = frame.pivot_table(
            index="year", columns="sub_cluster", values="value_yuan", aggfunc="sum"
        )
        for sc in by_sc.columns:
            wide[f"output.{sc}"] = by_sc[sc].reindex(years).to_numpy(dtype=np.float64)
        wide["output.total"] = (
            frame.groupby("year")["value_yuan"].sum().reindex(years).to_numpy(dtype=np.float64)
        )
    return wide


@pytest.mark.parametrize(
    "measures", [("production", "value", "targets"), ("value",), ("production",)]
)
def test_summary_equals_the_sums_of_the_run_s_frames_bit_for_bit(measures) -> None:
    member = apply(UNCERTAIN, {PEAK: 1.1, INDUSTRY: 0.95}, UNCERTAIN.uncertainty)
    results = simulate.run(member, seed=member_seeds(3, 1)[0], daily=False)
    wide, statuses = summarise(results, measures)
    pd.testing.assert_frame_equal(wide, _summary_from_frames(results, measures), check_exact=True)
    assert statuses.empty != ("targets" in measures)


def _statuses_from_the_check(results):
    """A member's target statuses as they were made before the check's frames were left out
    (the reference of :func:`summarise`'s): :func:`check_targets` of the valuation frame."""
    from cbm_sim.economics.targets import check_targets
    from cbm_sim.studies.ensemble import TARGET_YEARS, target_id

    checks = check_targets(results)
    checks = checks[checks["year"].isin(TARGET_YEARS)]
    return pd.DataFrame(
        {
            "year": checks["year"].astype("int64").to_numpy(),
            "target": [
                target_id(sc, item)
                for sc, item in zip(checks["sub_cluster"], checks["item"], strict=True)
            ],
            "status": checks["status"].astype(str).to_numpy(),
            "simulated": checks["simulated"].astype(float).to_numpy(),
            "target_value": checks["target"].astype(float).to_numpy(),
            "unit": checks["unit"].astype(str).to_numpy(),
        }
    )


@pytest.mark.parametrize(("member", "end"), [(0, 2030), (1, 2030), (2, 2025), (3, 2024)])
def test_member_statuses_are_the_target_check_s_bit_for_bit(member, end) -> None:
    scenario = short(end=end)
    draw = {PEAK: 0.8 + 0.15 * member, INDUSTRY: 1.1 - 0.05 * member}
    results = simulate.run(
        apply(scenario, draw), seed=member_seeds(11, 4)[member], daily=False, events=False
    )
    _, statuses = summarise(results)
    expected = _statuses_from_the_check(results)
    pd.testing.assert_frame_equal(statuses, expected, check_exact=True)
    for column in ("simulated", "target_value"):
        assert statuses[column].to_numpy().tobytes() == expected[column].to_numpy().tobytes()
    assert statuses.empty == (end < 2025)
