"""Tests of cbm_sim.economics.valuation: arithmetic, plan-implied prices, 2021 calibration."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fixtures_results import plan_results, plan_series, results_from
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cbm_sim import units
from cbm_sim.economics.valuation import (
    BASIS_PLAN,
    BASIS_SCENARIO,
    BASIS_SIMULATED,
    ITEMS,
    SUB_CLUSTERS,
    VALUE_COLUMNS,
    ValuationConfig,
    backtest_2021,
    config_of,
    item_totals,
    price_table,
    required_series,
    summary,
    value,
    value_2021_split,
)
from cbm_sim.plan.figures import load_plan

WELLS = {
    "wells_drilled_vertical": 500.0,
    "wells_drilled_horizontal": 50.0,
    "wells_active_mean": 9000.0,
    "workovers": 600.0,
}


def _items_yi(results, config=None, year=None):
    tot = item_totals(value(results, config))
    if year is not None:
        tot = tot[tot["year"] == year]
    return dict(
        zip(tot["sub_cluster"] + "." + tot["item"], tot["value_yuan"] / units.YI, strict=True)
    )


def test_frame_has_every_item_of_every_year_and_value_is_driver_times_unit_value():
    series = {k: {2024: v, 2025: 2 * v} for k, v in plan_series(2025, WELLS).items()}
    frame = value(results_from(series))
    assert tuple(frame.columns) == VALUE_COLUMNS
    for year in (2024, 2025):
        rows = frame[frame["year"] == year]
        got = set(rows["sub_cluster"] + "." + rows["item"])
        assert got == {spec.key for spec in ITEMS}
    np.testing.assert_allclose(frame["value_yuan"], frame["driver_value"] * frame["unit_value"])
    assert set(frame["basis"]) == {BASIS_SIMULATED, BASIS_PLAN}


def test_a_price_times_a_volume():
    # 1.2e6 t of LNG at 5000 元/t = 60亿元; 2e8 m3 exported at 0.5 元/m3 = 1亿元.
    series = {k: {2026: v} for k, v in plan_series(2025, WELLS).items()}
    series[("lng", "output")] = {2026: 1.2e6}
    series[("pipeline", "exports")] = {2026: 2e8}
    cfg = ValuationConfig(
        lng_price_yuan_per_t={2026: 5000.0}, pipeline_tariff_yuan_per_m3={2020: 0.5}
    )
    got = _items_yi(results_from(series), cfg)
    assert got["processing.lng"] == pytest.approx(60.0)
    assert got["processing.pipeline"] == pytest.approx(1.0)


def test_unit_value_paths_interpolate_linearly_between_stated_years():
    cfg = ValuationConfig(lng_price_yuan_per_t={2021: 4000.0, 2025: 6000.0})
    np.testing.assert_allclose(
        cfg.unit_value("lng_price_yuan_per_t", [2020, 2023, 2030]), [4000.0, 5000.0, 6000.0]
    )
    # 亿元 paths count in 元 per year
    cfg = ValuationConfig(green_finance_1e8_yuan={2025: 12.0})
    assert cfg.unit_value("green_finance_1e8_yuan", [2025])[0] == 12e8


def test_default_prices_are_the_plan_implied_quotients():
    # Figures typed from the plan text (ch4 §1-§3), independent of the YAML derivations.
    cfg = ValuationConfig.default()
    assert cfg.residential_price_yuan_per_m3[2025] == pytest.approx(6.8 / 2.73)
    assert cfg.residential_price_yuan_per_m3[2030] == pytest.approx(7.5 / 3.0)
    # drilling & fracturing comes from the well cost model, not 8.5亿元 / a well count
    assert cfg.drilling_fracturing_yuan_per_well_eq == {2021: 750000.0}


# Cited price paths, typed from their sources (valuation.yaml cites each): (field, year, value,
# a phrase of the year's source).
CITED = [
    ("surface_gas_price_yuan_per_m3", 2018, 1.64, "AAG Energy 2018 annual results"),
    ("surface_gas_price_yuan_per_m3", 2020, 1.47, "AAG Energy 1H2020"),
    ("lng_price_yuan_per_t", 2023, 4249.18, "Yicai Global"),
    ("mine_power_value_yuan_per_kwh", 2021, 0.332 + 0.25, "assumption: Shanxi coal benchmark"),
    ("carbon_price_yuan_per_t_co2e", 2021, 42.8, "SEEE"),
    ("carbon_price_yuan_per_t_co2e", 2022, 55.3, "中新网"),
    ("carbon_price_yuan_per_t_co2e", 2023, 68.15, "国际节能环保网"),
    ("carbon_price_yuan_per_t_co2e", 2024, 95.96, "ICAP"),
    ("carbon_price_yuan_per_t_co2e", 2025, 62.36, "146.30亿元"),
    ("carbon_price_yuan_per_t_co2e", 2030, 200.0, "Clear Blue Markets"),
]


@pytest.mark.parametrize(("field", "year", "price", "phrase"), CITED)
def test_cited_price_paths_give_the_cited_value_and_its_source(field, year, price, phrase):
    cfg = ValuationConfig.default()
    assert cfg.unit_value(field, [year])[0] == pytest.approx(price)
    assert phrase in cfg.price_source(field, year)


def test_years_after_the_last_cited_one_are_held_flat_and_say_so():
    cfg = ValuationConfig.default()
    for field in {c[0] for c in CITED}:
        last = max(y for f, y, _, _ in CITED if f == field)
        np.testing.assert_allclose(
            cfg.unit_value(field, [last + 1, last + 5]), cfg.unit_value(field, [last, last])
        )
        assert cfg.price_source(field, last + 1).startswith("held flat")
        assert f"{last}: " in cfg.price_source(field, last + 1)


def test_carbon_price_rises_linearly_from_the_2025_average_to_the_2030_outlook():
    cfg = ValuationConfig.default()
    years = np.arange(2025, 2031)
    # independent closed form: the straight line through the two cited years
    expected = 62.36 + (200.0 - 62.36) * (years - 2025) / 5
    np.testing.assert_allclose(cfg.unit_value("carbon_price_yuan_per_t_co2e", years), expected)
    src = cfg.price_source("carbon_price_yuan_per_t_co2e", 2027)
    assert src.startswith("linear between 2025") and "and 2030 (outlook: Clear Blue" in src


def test_price_sources_of_gaps_scenario_values_and_unknown_fields():
    cfg = ValuationConfig.default()
    # 2019 lies between the two cited AAG prices
    src = cfg.price_source("surface_gas_price_yuan_per_m3", 2019)
    assert src.startswith("linear between 2018") and "and 2020" in src
    assert cfg.price_source("carbon_price_yuan_per_t_co2e", 2019).startswith("held flat before")
    # an uncited field gives its field-level source
    assert cfg.price_source("cng_price_yuan_per_m3", 2025).startswith("plan ch4 §2")
    changed = ValuationConfig(surface_gas_price_yuan_per_m3={2021: 2.0})
    assert changed.price_source("surface_gas_price_yuan_per_m3", 2021) == "scenario"
    with pytest.raises(KeyError, match="unknown valuation field 'gas_price'"):
        cfg.price_source("gas_price", 2021)


def test_gas_price_scale_scales_the_cited_gas_prices_not_the_tariff():
    cfg = ValuationConfig(gas_price_scale=0.5)
    base = ValuationConfig.default()
    for field, factor in [
        ("surface_gas_price_yuan_per_m3", 0.5),
        ("lng_price_yuan_per_t", 0.5),
        ("mine_power_value_yuan_per_kwh", 1.0),
        ("carbon_price_yuan_per_t_co2e", 1.0),
    ]:
        np.testing.assert_allclose(
            cfg.unit_value(field, [2025]), factor * base.unit_value(field, [2025])
        )


def test_price_table_lists_every_cited_price_with_its_source():
    table = price_table(ValuationConfig.default(), [2021, 2030])
    assert set(table["field"]) == {c[0] for c in CITED}
    assert len(table) == 2 * len(set(table["field"]))
    row = table.set_index(["field", "year"]).loc[("carbon_price_yuan_per_t_co2e", 2021)]
    assert row["value"] == pytest.approx(42.8)
    assert row["unit"] == "元/t CO2e"
    assert "SEEE" in row["source"]


@pytest.mark.parametrize("year", [2025, 2030])
@pytest.mark.parametrize(
    "key",
    [
        "exploration.underground",
        "processing.cng",
        "processing.pipeline",
        "processing.storage",
        "utilisation.residential",
        "utilisation.commercial",
        "utilisation.chemicals",
        "utilisation.mine_gas.heating",
        "logistics.lng_logistics",
    ],
)
def test_plan_volumes_at_default_prices_give_the_plan_values(key, year):
    # items priced by a cited path (surface gas, LNG, mine power) are tested above instead
    plan = load_plan()
    # the section body (detail) pairs the value with its volume (chemicals 2025: 55亿元)
    stated = plan.figure(f"output.{key}", year, statement="detail").value
    assert _items_yi(plan_results(year, WELLS), year=year)[key] == pytest.approx(stated, rel=1e-9)


def test_carbon_is_credited_only_above_the_baseline():
    # From 2025 the baseline is all the gas drained (GB 21522—2024): the plan's 2030 mine-gas
    # use earns nothing, not the plan's 50亿元.
    assert _items_yi(plan_results(2030, WELLS), year=2030)["radiating.carbon_trading"] == 0.0
    # With the 2021 rate as the baseline, only the use above 59.66 % of the drained gas counts:
    # 2030: (11.33 + 3.67) − 0.5966 × 20 = 3.068 亿m3 at 0.717 kg/m3, GWP 28, 200 元/t (the
    # 2030 CEA outlook of Clear Blue Markets and WEF & Bain's low end).
    cfg = ValuationConfig(carbon_baseline_share={2021: 0.5966})
    got = _items_yi(plan_results(2030, WELLS), cfg, year=2030)["radiating.carbon_trading"]
    credited_m3 = (11.33 + 3.67 - 0.5966 * 20.0) * 1e8
    expected = credited_m3 * 0.717e-3 * (28.0 - 44.009 / 16.043) * 200.0 / 1e8
    assert got == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValidationError, match="carbon_baseline_share for 2025"):
        ValuationConfig(carbon_baseline_share={2025: 1.5})


def test_2021_split_reproduces_the_calibrated_categories_and_values_cited_prices_as_cited():
    split = value_2021_split(plan_results(2021)).set_index("category")
    # categories priced only by the 2021 calibration reproduce the plan (ch1 §2 八, 亿元)
    for cat, plan_value in {"city_gas": 21.6, "pipeline": 10.2}.items():
        assert split.loc[cat, "simulated_1e8_yuan"] == pytest.approx(plan_value, rel=0.02), cat
    # gas_use: power at the cited tariff (not calibrated) plus heating at the category factor
    # fixed by the 2025 reference values; 2021 figures typed from ch1 §2 三/七: 33.68亿kWh,
    # heating gas 12.35 − 9.05 = 3.30亿m3; 2025 heating value 2.91亿元 / 2.88亿m3 (ch4 §3 六).
    power = 33.68 * 0.582
    heat_ref = 2.91 / 2.88
    factor = 4.7 / (power + 3.30 * heat_ref)
    expected = power + 3.30 * heat_ref * factor
    assert split.loc["gas_use", "simulated_1e8_yuan"] == pytest.approx(expected, rel=1e-3)
    total = split.loc["total"]
    assert total["plan_1e8_yuan"] == 150.3
    assert total["gap_pct"] == pytest.approx(100 * (total["simulated_1e8_yuan"] / 150.3 - 1))
    # with no wells drilled, only LNG logistics lies outside: 84.37万t × 100 元/t (2025 path),
    # and a trace of carbon credit (the 2021 baseline 59.66 % is the plan's rounded rate)
    outside = split.loc["outside_2021_statistics", "simulated_1e8_yuan"]
    assert outside == pytest.approx(84.37e4 * 100.0 / units.YI, rel=1e-3)


def test_backtest_2021_reports_each_sub_cluster_and_the_error_of_the_total():
    results = plan_results(2021)
    bt = backtest_2021(results).set_index("sub_cluster")
    assert list(bt.index) == [*SUB_CLUSTERS, "total"]
    by_sc = summary(value(results)).query("year == 2021").set_index("sub_cluster")
    np.testing.assert_allclose(
        bt["simulated_1e8_yuan"], by_sc.loc[list(bt.index), "value_1e8_yuan"], rtol=1e-12
    )
    total = bt.loc["total"]
    assert total["plan_1e8_yuan"] == 150.3  # ch1 §2 八
    assert total["error_1e8_yuan"] == pytest.approx(total["simulated_1e8_yuan"] - 150.3)
    assert total["error_pct"] == pytest.approx(100 * total["error_1e8_yuan"] / 150.3)
    assert bt["plan_1e8_yuan"].drop("total").isna().all()
    # in-sample: the calibrated items (pipeline, city gas, CNG, drained gas, heating) but not
    # the cited prices: surface gas at 1.47 元/m3 is out of sample
    assert 0.0 < total["calibrated_1e8_yuan"] < total["simulated_1e8_yuan"]
    surface = item_totals(value(results)).set_index(["year", "sub_cluster", "item"])
    cited = surface.loc[(2021, "exploration", "surface"), "value_yuan"] / units.YI
    assert bt.loc["exploration", "calibrated_1e8_yuan"] == pytest.approx(
        bt.loc["exploration", "simulated_1e8_yuan"] - cited
    )
    # a valuation already computed (as `cbm-sim run` has it) gives the same backtest
    pd.testing.assert_frame_equal(
        backtest_2021(results, values=value(results)).set_index("sub_cluster"), bt
    )


def test_backtest_2021_rejects_a_run_without_the_year():
    with pytest.raises(ValueError, match="does not simulate 2021"):
        backtest_2021(plan_results(2025))


def test_backtest_2021_counts_a_scenario_price_as_out_of_sample():
    cfg = ValuationConfig(pipeline_tariff_yuan_per_m3={2021: 0.5})
    bt = backtest_2021(plan_results(2021), cfg).set_index("sub_cluster")
    default = backtest_2021(plan_results(2021)).set_index("sub_cluster")
    pipeline_2021 = 19.35 * 0.5  # plan ch1 §2 八: 19.35亿m3 exported in 2021
    assert bt.loc["processing", "calibrated_1e8_yuan"] == pytest.approx(
        default.loc["processing", "calibrated_1e8_yuan"] - 10.2, rel=1e-2
    )
    assert bt.loc["processing", "simulated_1e8_yuan"] == pytest.approx(
        default.loc["processing", "simulated_1e8_yuan"] - 10.2 + pipeline_2021, rel=1e-2
    )


def test_2021_split_moves_with_the_simulated_volumes():
    series = plan_series(2021)
    series[("lng", "output")] *= 0.5
    split = value_2021_split(results_from({k: {2021: v} for k, v in series.items()}))
    row = split.set_index("category").loc["compression_liquefaction"]
    assert row["gap_pct"] < -40.0


def _services(vertical: float, horizontal: float) -> float:
    wells = {**WELLS, "wells_drilled_vertical": vertical, "wells_drilled_horizontal": horizontal}
    got = _items_yi(plan_results(2025, wells), year=2025)
    return sum(v for k, v in got.items() if k.startswith("services."))


@settings(max_examples=20, deadline=None)
@given(
    vertical=st.floats(0, 3000),
    horizontal=st.floats(0, 500),
    fewer=st.floats(0.0, 1.0),
)
def test_fewer_wells_drilled_give_less_production_services_value(vertical, horizontal, fewer):
    less = _services(vertical * fewer, horizontal * fewer)
    more = _services(vertical, horizontal)
    assert less <= more + 1e-9
    if fewer < 0.99 and vertical > 1:
        assert less < more


def test_exogenous_items_are_labelled_plan_assumption_or_scenario():
    results = plan_results(2025, WELLS)
    frame = value(results)
    exo = frame[frame["driver_unit"] == "year"]
    assert set(exo["item"]) == {"science_city", "training_base", "green_finance", "insurance"}
    assert set(exo["basis"]) == {BASIS_PLAN}
    changed = value(results, ValuationConfig(green_finance_1e8_yuan={2025: 3.0}))
    basis = changed.set_index("item")["basis"]
    assert basis["green_finance"] == BASIS_SCENARIO
    assert basis["insurance"] == BASIS_PLAN
    assert ValuationConfig(green_finance_1e8_yuan={2025: 3.0}).sources()[
        "green_finance_1e8_yuan"
    ] == ("scenario")


def test_every_default_names_its_source():
    for field, source in ValuationConfig.default().sources().items():
        assert source.split(":")[0].split(" ")[0] in {
            "plan",
            "assumption",
            "calibration",
            "public",
        }, (
            field,
            source,
        )


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("lng_price_yuan_per_t", {2025: -5.0}),
        ("residential_price_yuan_per_m3", {2025: float("nan")}),
        ("green_finance_1e8_yuan", {2025: -12.0}),
    ],
)
def test_negative_or_nan_unit_values_are_rejected_naming_field_and_value(field, bad):
    with pytest.raises(ValidationError) as info:
        ValuationConfig(**{field: bad})
    msg = str(info.value)
    assert field in msg
    assert repr(bad[2025]) in msg


@pytest.mark.parametrize(
    ("field", "bad"),
    [("gwp100_ch4", 0.5), ("ch4_density_kg_per_m3", 7.17), ("horizontal_well_equivalent", 0.0)],
)
def test_out_of_bounds_scalars_are_rejected(field, bad):
    with pytest.raises(ValidationError, match=rf"{field}(.|\n)*{bad!r}"):
        ValuationConfig(**{field: bad})


def test_bad_path_year_and_unknown_field_are_rejected():
    with pytest.raises(ValidationError, match=r"lng_price_yuan_per_t: year 3025"):
        ValuationConfig(lng_price_yuan_per_t={3025: 5000.0})
    with pytest.raises(ValidationError, match="lng_price_yuan_per_tonne"):
        ValuationConfig(lng_price_yuan_per_tonne={2025: 5000.0})
    with pytest.raises(ValidationError, match="lng_price_yuan_per_t"):
        ValuationConfig(lng_price_yuan_per_t={})


def test_config_is_frozen():
    cfg = ValuationConfig.default()
    with pytest.raises(ValidationError):
        cfg.gwp100_ch4 = 30.0


def test_missing_series_is_named():
    series = {k: {2025: v} for k, v in plan_series(2025, WELLS).items()}
    del series[("lng", "output")]
    with pytest.raises(KeyError, match="lng/output"):
        value(results_from(series))


def test_required_series_are_exactly_what_value_reads():
    series = {k: {2025: v} for k, v in plan_series(2025, WELLS).items()}
    needed = set(required_series())
    value(results_from({k: v for k, v in series.items() if k in needed}))
    assert needed <= set(series)


def test_summary_adds_items_to_sub_clusters_and_total():
    frame = value(plan_results(2025, WELLS))
    summ = summary(frame).set_index("sub_cluster")
    assert list(summ.index) == [*SUB_CLUSTERS, "total"]
    assert summ.loc["total", "value_yuan"] == pytest.approx(frame["value_yuan"].sum())
    # surface gas at the cited 1.47 元/m3 on the plan's 78亿m3, drained gas at the plan's 11亿元
    assert summ.loc["exploration", "value_1e8_yuan"] == pytest.approx(78.0 * 1.47 + 11.0)


def test_config_of_reads_the_scenario_section():
    scenario = SimpleNamespace(valuation={"lng_price_yuan_per_t": {2025: 1.0}})
    r = dataclasses.replace(plan_results(2025), scenario=scenario)
    assert config_of(r).lng_price_yuan_per_t == {2025: 1.0}
    assert config_of(plan_results(2025)) == ValuationConfig.default()


def test_items_cover_every_item_the_plan_values():
    ids = {i for i in load_plan().ids() if i.startswith("output.") and i.count(".") >= 2}
    groups = {"output.processing.conversion", "output.processing.transport_storage"}
    aggregates = {"output.utilisation.mine_gas"}
    assert ids - groups - aggregates == {f"output.{spec.key}" for spec in ITEMS}
