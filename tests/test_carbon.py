"""Tests of cbm_sim.economics.carbon: closed forms, zero price, agreement with the valuation."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_results import plan_results, results_from
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.economics.carbon import (
    CARBON_COLUMNS,
    CO2_T_PER_T_CH4_BURNT,
    carbon_accounting,
    ch4_mass_t,
    co2e_avoided_t,
    credited_m3,
)
from cbm_sim.economics.valuation import ValuationConfig, item_totals, value


def test_stoichiometric_co2_per_ch4():
    # CH4 + 2 O2 -> CO2 + 2 H2O: 44.009 g of CO2 per 16.043 g of CH4
    assert pytest.approx(2.7432, abs=1e-4) == CO2_T_PER_T_CH4_BURNT


def test_closed_forms():
    # 1亿m3 of methane at 0.717 kg/m3 is 71 700 t; burnt instead of vented it avoids
    # 71 700 × (28 − 2.743) t CO2e.
    assert ch4_mass_t(1e8, 0.717) == pytest.approx(71_700.0)
    assert co2e_avoided_t(1e8, 0.717, 28.0) == pytest.approx(71_700.0 * (28.0 - 44.009 / 16.043))


def _mine(utilised: float, vented: float):
    return results_from(
        {
            ("mine_gas", "utilised"): {2030: utilised},
            ("mine_gas", "vented"): {2030: vented},
            ("mine_gas", "drainage"): {2030: utilised + vented},
        }
    )


NO_BASELINE = {"carbon_baseline_share": {2021: 0.0}}


@settings(max_examples=25, deadline=None)
@given(utilised=st.floats(0, 3e9), vented=st.floats(0, 3e9))
def test_carbon_value_is_zero_at_zero_price(utilised, vented):
    cfg = ValuationConfig(carbon_price_yuan_per_t_co2e={2021: 0.0})
    frame = carbon_accounting(_mine(utilised, vented), cfg)
    assert tuple(frame.columns) == CARBON_COLUMNS
    assert (frame["carbon_value_yuan"] == 0.0).all()
    assert frame["co2e_vented_t"].iloc[0] == pytest.approx(vented * 0.717e-3 * 28.0)


def test_carbon_value_is_linear_in_price_and_utilised_gas():
    cfg = ValuationConfig(carbon_price_yuan_per_t_co2e={2030: 100.0}, **NO_BASELINE)
    one = carbon_accounting(_mine(1e9, 5e8), cfg)["carbon_value_yuan"].iloc[0]
    two = carbon_accounting(_mine(2e9, 0.0), cfg)["carbon_value_yuan"].iloc[0]
    assert two == pytest.approx(2 * one)
    assert one == pytest.approx(1e9 * 0.717e-3 * (28.0 - CO2_T_PER_T_CH4_BURNT) * 100.0)


def test_carbon_accounting_agrees_with_the_carbon_trading_item():
    cfg = ValuationConfig(carbon_baseline_share={2021: 0.5})
    results = plan_results(2030)
    frame = carbon_accounting(results, cfg)
    items = item_totals(value(results, cfg)).set_index("item")
    assert frame["carbon_value_yuan"].iloc[0] == pytest.approx(
        items.loc["carbon_trading", "value_yuan"]
    )
    assert frame["carbon_value_yuan"].iloc[0] > 0.0
    np.testing.assert_allclose(
        frame["ch4_utilised_t"] * CO2_T_PER_T_CH4_BURNT, frame["co2_combustion_t"]
    )


def test_only_utilisation_above_the_baseline_is_credited():
    # 15亿m3 used of 20 drained, baseline 60 %: 3亿m3 credited of the 15 avoided
    cfg = ValuationConfig(
        carbon_baseline_share={2021: 0.6}, carbon_price_yuan_per_t_co2e={2021: 1.0}
    )
    row = carbon_accounting(_mine(15e8, 5e8), cfg).iloc[0]
    assert row["ch4_baseline_m3"] == pytest.approx(12e8)
    assert row["co2e_credited_t"] == pytest.approx(row["co2e_avoided_t"] * 3.0 / 15.0)
    assert row["carbon_value_yuan"] == pytest.approx(row["co2e_credited_t"])
    below = carbon_accounting(_mine(10e8, 10e8), cfg).iloc[0]
    assert below["co2e_credited_t"] == 0.0  # under the baseline: nothing, never negative
    assert credited_m3([1.0, 5.0], [10.0, 10.0], [0.2, 0.2]).tolist() == [0.0, 3.0]
    # the packaged default credits nothing from 2025 (GB 21522—2024 makes use a duty)
    assert carbon_accounting(plan_results(2030))["carbon_value_yuan"].iloc[0] == 0.0
