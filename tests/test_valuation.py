"""Tests of cbm_sim.economics.valuation: arithmetic, cited prices, the plan's 2021 basis."""

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
from cbm_sim.economics.drivers import AnnualTable
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
    driver_values,
    green_loans_yuan,
    item_totals,
    price_table,
    required_series,
    sub_cluster_totals,
    summary,
    terms_frame,
    value,
    value_2021_split,
    value_terms,
)
from cbm_sim.plan.figures import load_plan
from cbm_sim.scenario.valuation_inputs import EXOGENOUS, defaults, unit_of

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


def test_a_price_times_a_volume_times_the_category_level():
    # 1.2e6 t of LNG at 5000 元/t = 60亿元; 2e8 m3 exported at 0.5 元/m3 = 1亿元; each on the
    # 2021 statistic's basis (its category's level); a level of 1 leaves price × volume.
    series = {k: {2026: v} for k, v in plan_series(2025, WELLS).items()}
    series[("lng", "output")] = {2026: 1.2e6}
    series[("pipeline", "exports")] = {2026: 2e8}
    cfg = ValuationConfig(
        lng_price_yuan_per_t={2026: 5000.0}, pipeline_tariff_yuan_per_m3={2020: 0.5}
    )
    got = _items_yi(results_from(series), cfg)
    levels = defaults().levels
    assert got["processing.lng"] == pytest.approx(60.0 * levels["compression_liquefaction"])
    assert got["processing.pipeline"] == pytest.approx(1.0 * levels["pipeline"])
    unit = ValuationConfig(
        lng_price_yuan_per_t={2026: 5000.0},
        levels_2021={"compression_liquefaction": 1.0, "pipeline": 1.0},
    )
    got = _items_yi(results_from(series), unit)
    assert got["processing.lng"] == pytest.approx(60.0)


def test_unit_value_paths_interpolate_linearly_between_stated_years():
    cfg = ValuationConfig(lng_price_yuan_per_t={2021: 4000.0, 2025: 6000.0})
    np.testing.assert_allclose(
        cfg.unit_value("lng_price_yuan_per_t", [2020, 2023, 2030]), [4000.0, 5000.0, 6000.0]
    )
    # 亿元 paths count in 元 per year
    cfg = ValuationConfig(science_city_1e8_yuan={2025: 12.0})
    assert cfg.unit_value("science_city_1e8_yuan", [2025])[0] == 12e8


def test_default_prices_are_the_plan_implied_quotients_moved_by_their_index():
    # Figures typed from the plan text (ch4 §1-§3), independent of the YAML derivations.
    cfg = ValuationConfig.default()
    # a regulated tariff: the plan's 2025 quotient, held flat (its spread is in uncertainty)
    assert cfg.residential_price_yuan_per_m3 == {2025: pytest.approx(6.8 / 2.73)}
    # 瓦斯发电产值 (electricity and heat) 19.09亿元 / 37.56亿kWh, not 0.582 from memory
    assert cfg.mine_power_value_yuan_per_kwh == {2025: pytest.approx(19.09 / 37.56)}
    # gas sold in the city moves with 蓝焰's realised price: 1.78, 2.188, 1.90 元/m3 (2021-23)
    commercial = 7.0 / 1.78  # ch4 §3 二, 2025
    np.testing.assert_allclose(
        cfg.unit_value("commercial_price_yuan_per_m3", [2021, 2022, 2023, 2025, 2030]),
        [commercial * 1.78 / 1.90, commercial * 2.188 / 1.90, commercial, commercial, commercial],
    )
    src = cfg.price_source("industry_price_yuan_per_m3", 2021)
    assert src.startswith("assumption") and "index: 蓝焰控股 2021" in src
    # drilling & fracturing comes from the well cost model, not 8.5亿元 / a well count
    assert cfg.drilling_fracturing_yuan_per_well_eq == {2021: 750000.0}


# Cited price paths, typed from their sources (valuation.yaml cites each): (field, year, value,
# a phrase of the year's source).
CITED = [
    ("surface_gas_price_yuan_per_m3", 2021, 1.78, "民生证券 2022-04-22"),
    ("surface_gas_price_yuan_per_m3", 2022, 1.90 / (1 - 0.1316), "13.16 %"),
    ("surface_gas_price_yuan_per_m3", 2023, 1.90, "联合资信"),
    ("lng_price_yuan_per_t", 2021, 4050.3, "2021年7月上旬"),
    ("lng_price_yuan_per_t", 2022, (4906.5 + 5877 / (1 - 0.3641)) / 2, "2022年1月中旬"),
    ("lng_price_yuan_per_t", 2023, (6104 + 5877 + 4249.18) / 3, "Yicai Global"),
    ("lng_price_yuan_per_t", 2024, 4215 / (1 - 0.084), "SunSirs"),
    ("lng_price_yuan_per_t", 2025, 4215.0, "SunSirs"),
    ("green_finance_yuan_per_yuan_year", 2023, 0.0169 / 0.8, "NIM 1.69 %"),
    ("green_finance_yuan_per_yuan_year", 2024, 0.0154 / 0.8, "NIM 1.54 %"),
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
    assert cfg.unit_value(field, [year])[0] == pytest.approx(price, rel=2e-4)  # rounded in YAML
    assert phrase in cfg.price_source(field, year)


def test_years_after_the_last_cited_one_are_a_stated_path_and_say_so():
    cfg = ValuationConfig.default()
    for field in {c[0] for c in CITED} - {"carbon_price_yuan_per_t_co2e"}:
        last = max(y for f, y, _, _ in CITED if f == field)
        np.testing.assert_allclose(
            cfg.unit_value(field, [last + 1, last + 5]), cfg.unit_value(field, [last, last])
        )
        src = cfg.price_source(field, last + 1)
        assert src.startswith("held at") and "stated path" in src, field
        assert f"{last}: " in src


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
    indexed = set(defaults().indices)
    assert "industry_price_yuan_per_m3" in indexed
    assert set(table["field"]) == {c[0] for c in CITED} | indexed
    assert len(table) == 2 * len(set(table["field"]))
    row = table.set_index(["field", "year"]).loc[("carbon_price_yuan_per_t_co2e", 2021)]
    assert row["value"] == pytest.approx(42.8)
    assert row["unit"] == "元/t CO2e"
    assert "SEEE" in row["source"]


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("exploration.underground", "exploration"),
        ("processing.cng", "compression_liquefaction"),
        ("processing.pipeline", "pipeline"),
        ("processing.storage", "city_gas"),
        ("utilisation.residential", "city_gas"),
        ("utilisation.commercial", "city_gas"),
        ("utilisation.chemicals", "city_gas"),
        ("utilisation.mine_gas.power", "gas_use"),
        ("utilisation.mine_gas.heating", "gas_use"),
        ("logistics.lng_logistics", None),
    ],
)
def test_plan_2025_volumes_give_the_plan_values_on_the_2021_basis(key, category):
    # the plan's 2025 volumes at the plan's own 2025 unit values give its 2025 value, times
    # the category's level: the basis of the plan's 2021 statistic (1 outside the categories)
    plan = load_plan()
    # the section body (detail) pairs the value with its volume (chemicals 2025: 55亿元)
    stated = plan.figure(f"output.{key}", 2025, statement="detail").value
    level = 1.0 if category is None else defaults().levels[category]
    got = _items_yi(plan_results(2025, WELLS), year=2025)[key]
    assert got == pytest.approx(stated * level, rel=1e-9)


# The plan's 2021 volumes (ch1 §2 二-七, typed here) and the five categories (ch1 §2 八)
SURFACE_2021, DRAINED_2021 = 42.67, 20.7
POWER_KWH_2021, HEATING_2021 = 33.68, 12.35 - 9.05


def test_each_category_level_is_its_2021_statistic_over_its_volumes_at_2021_prices():
    levels = defaults().levels
    # exploration: surface at 蓝焰's 1.78 元/m3, drained gas at the plan's 0.5 (11/22, 2025)
    # moved by the surface price index to 2021 (× 1.78 / 1.90)
    at_prices = SURFACE_2021 * 1.78 + DRAINED_2021 * (11 / 22) * 1.78 / 1.90
    assert levels["exploration"] == pytest.approx(75.8 / at_prices)
    # pipeline: 19.35亿m3 at the plan's 2025 tariff 23/30 元/m3 (regulated, flat)
    assert levels["pipeline"] == pytest.approx(10.2 / (19.35 * 23 / 30))
    # gas use: the plan's own 2025 basis (19.09/37.56 元/kWh, heating 2.91/2.88 元/m3 at the
    # 2021 index); the 2021 statistic is about a quarter of it
    at_prices = POWER_KWH_2021 * 19.09 / 37.56 + HEATING_2021 * (2.91 / 2.88) * 1.78 / 1.90
    assert levels["gas_use"] == pytest.approx(4.7 / at_prices)
    assert 0.2 < levels["gas_use"] < 0.3
    cfg = ValuationConfig.default()
    assert cfg.level_of("lng_price_yuan_per_t") == levels["compression_liquefaction"]
    assert cfg.level_of("drilling_fracturing_yuan_per_well_eq") == 1.0


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


def test_the_plan_2021_volumes_reproduce_every_category_in_sample():
    split = value_2021_split(plan_results(2021)).set_index("category")
    plan_2021 = {
        "exploration": 75.8,
        "compression_liquefaction": 38.0,
        "city_gas": 21.6,
        "pipeline": 10.2,
        "gas_use": 4.7,
    }  # ch1 §2 八, 亿元
    for cat, plan_value in plan_2021.items():
        assert split.loc[cat, "plan_1e8_yuan"] == plan_value
        assert split.loc[cat, "simulated_1e8_yuan"] == pytest.approx(plan_value, rel=1e-9), cat
        assert split.loc[cat, "in_sample"]
    total = split.loc["total"]
    assert total["plan_1e8_yuan"] == 150.3
    assert total["simulated_1e8_yuan"] == pytest.approx(150.3)
    assert total["gap_pct"] == pytest.approx(100 * (total["simulated_1e8_yuan"] / 150.3 - 1))
    # with no wells drilled, only LNG logistics and insurance of the active wells (none here)
    # lie outside: 84.37万t × 100 元/t (2025 path), and a trace of carbon credit (the 2021
    # baseline 59.66 % is the plan's rounded rate)
    outside = split.loc["outside_2021_statistics", "simulated_1e8_yuan"]
    assert outside == pytest.approx(84.37e4 * 100.0 / units.YI, rel=1e-3)


def test_backtest_2021_compares_the_five_categories_like_for_like():
    results = plan_results(2021)
    bt = backtest_2021(results).set_index("category")
    assert list(bt.index) == [*defaults().categories, "total", "outside_2021_statistics"]
    cats = bt.drop(["total", "outside_2021_statistics"])
    # the total is the five categories only, against the plan's 150.3 (ch1 §2 八)
    assert bt.loc["total", "simulated_1e8_yuan"] == pytest.approx(cats["simulated_1e8_yuan"].sum())
    assert bt.loc["total", "plan_1e8_yuan"] == 150.3
    assert np.isnan(bt.loc["outside_2021_statistics", "plan_1e8_yuan"])
    by_sc = summary(value(results)).query("year == 2021")["value_1e8_yuan"].iloc[-1]
    assert by_sc == pytest.approx(
        bt.loc["total", "simulated_1e8_yuan"]
        + bt.loc["outside_2021_statistics", "simulated_1e8_yuan"]
    )
    np.testing.assert_allclose(cats["level"], list(defaults().levels.values()))
    # a valuation already computed (as `cbm-sim run` has it) gives the same backtest
    pd.testing.assert_frame_equal(
        backtest_2021(results, values=value(results)).set_index("category"), bt
    )


def test_backtest_2021_rejects_a_run_without_the_year():
    with pytest.raises(ValueError, match="does not simulate 2021"):
        backtest_2021(plan_results(2025))


def test_a_scenario_price_moves_the_category_and_a_scenario_level_is_out_of_sample():
    # a price changes the value at the same level (the statistic's basis stays)
    cfg = ValuationConfig(pipeline_tariff_yuan_per_m3={2021: 0.5})
    bt = backtest_2021(plan_results(2021), cfg).set_index("category")
    level = defaults().levels["pipeline"]
    assert bt.loc["pipeline", "simulated_1e8_yuan"] == pytest.approx(19.35 * 0.5 * level)
    assert bt.loc["pipeline", "in_sample"]
    # a level a scenario sets is not the 2021 fit
    mine = backtest_2021(plan_results(2021), ValuationConfig(levels_2021={"gas_use": 1.0}))
    mine = mine.set_index("category")
    assert not mine.loc["gas_use", "in_sample"] and not mine.loc["total", "in_sample"]
    assert mine.loc["exploration", "in_sample"]
    assert mine.loc["gas_use", "simulated_1e8_yuan"] > 4 * 4.7  # the plan's 2025 basis
    with pytest.raises(ValidationError, match="unknown categories \\['mining'\\]"):
        ValuationConfig(levels_2021={"mining": 1.0})
    with pytest.raises(ValidationError, match="levels_2021 of gas_use"):
        ValuationConfig(levels_2021={"gas_use": -1.0})


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


def test_only_the_science_city_is_exogenous_and_it_is_labelled():
    results = plan_results(2025, WELLS)
    frame = value(results)
    exo = frame[frame["driver_unit"] == "year"]
    assert set(exo["item"]) == {"science_city"}
    assert set(exo["basis"]) == {BASIS_PLAN}
    changed = value(results, ValuationConfig(science_city_1e8_yuan={2025: 3.0}))
    assert changed.set_index("item").loc["science_city", "basis"] == BASIS_SCENARIO
    sources = ValuationConfig(science_city_1e8_yuan={2025: 3.0}).sources()
    assert sources["science_city_1e8_yuan"] == "scenario"
    assert sources["levels_2021"].startswith("calibration")


def test_green_finance_is_the_margin_on_the_green_loans_of_the_run_s_wells():
    # closed form: 1,000 vertical wells in 2022 and none after; 2.4 百万元 each, 70 % borrowed,
    # repaid over 10 years: outstanding 2022 1.68e9, 2025 1.68e9 × (1 − 3/10)
    series = {k: dict.fromkeys((2022, 2023, 2025), v) for k, v in plan_series(2025).items()}
    series[("surface", "wells_drilled_vertical")] = {2022: 1000.0, 2023: 0.0, 2025: 0.0}
    series[("surface", "wells_drilled_horizontal")] = {2022: 0.0, 2023: 0.0, 2025: 0.0}
    results = results_from(series)
    cfg = ValuationConfig.default()
    loans = green_loans_yuan(AnnualTable(results), [2022, 2025], cfg)
    np.testing.assert_allclose(loans, [0.7 * 2.4e9, 0.7 * 2.4e9 * 0.7])
    got = _items_yi(results, year=2025)["radiating.green_finance"]
    assert got == pytest.approx(0.7 * 2.4e9 * 0.7 * 0.0154 / 0.8 / units.YI)
    # insurance: the active wells at 2.4 百万元 each, 1.2‰ a year
    assert _items_yi(plan_results(2025, WELLS), year=2025)["radiating.insurance"] == pytest.approx(
        9000 * 2.4e6 * 0.0012 / units.YI
    )


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
        ("insurance_premium_per_yuan_year", {2025: -12.0}),
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
    # surface gas at 蓝焰's 1.90 元/m3 (held from 2023) on the plan's 78亿m3, drained gas at the
    # plan's 11亿元, both at the exploration level
    level = defaults().levels["exploration"]
    assert summ.loc["exploration", "value_1e8_yuan"] == pytest.approx((78.0 * 1.90 + 11.0) * level)


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


def _value_frame_per_term(results) -> pd.DataFrame:
    """The valuation frame as it was built before issue 27's last pass (the reference of
    :func:`terms_frame`): a frame per item term, concatenated, sorted by year (stable)."""
    cfg = config_of(results)
    years = np.array(sorted(results.annual["year"].unique()), dtype=np.int64)
    table = AnnualTable(results)
    parts = []
    for spec in ITEMS:
        for term in spec.terms:
            label, unit, drv = driver_values(table, term.driver, years, cfg)
            level = cfg.level_of(term.field)
            price = cfg.unit_value(term.field, years) * level
            if term.driver != EXOGENOUS:
                basis = BASIS_SIMULATED
            else:
                basis = BASIS_PLAN if cfg.is_default(term.field) else BASIS_SCENARIO
            parts.append(
                pd.DataFrame(
                    {
                        "year": years,
                        "sub_cluster": spec.sub_cluster,
                        "item": spec.item,
                        "driver": label,
                        "driver_value": drv,
                        "driver_unit": unit,
                        "unit_value": price,
                        "unit_value_unit": unit_of(term.field),
                        "level": level,
                        "value_yuan": drv * price,
                        "basis": basis,
                    }
                )
            )
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["year"], kind="stable", ignore_index=True)[list(VALUE_COLUMNS)]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(2021, 2035), min_size=1, max_size=6, unique=True),
    st.floats(1e-3, 1e3),
    st.integers(0, 2**32 - 1),
)
def test_terms_give_the_per_term_frame_and_its_grouped_sums_bit_for_bit(years, scale, seed):
    # random volumes over 6 orders of magnitude per series and year: the sums then round
    rng = np.random.default_rng(seed)
    base = plan_series(2025, WELLS)
    series = {
        k: {y: v * scale * 10.0 ** rng.uniform(-3.0, 3.0) for y in years} for k, v in base.items()
    }
    results = results_from(series)
    frame = value(results)
    pd.testing.assert_frame_equal(frame, _value_frame_per_term(results), check_exact=True)
    terms = value_terms(results)
    pd.testing.assert_frame_equal(terms_frame(terms), frame, check_exact=True)
    by_sc, total = sub_cluster_totals(terms)
    pivot = frame.pivot_table(
        index="year", columns="sub_cluster", values="value_yuan", aggfunc="sum"
    )
    assert list(by_sc) == list(pivot.columns)
    for sc, got in by_sc.items():
        np.testing.assert_array_equal(got, pivot[sc].to_numpy())
    np.testing.assert_array_equal(total, frame.groupby("year")["value_yuan"].sum().to_numpy())
