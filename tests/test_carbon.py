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
        {("mine_gas", "utilised"): {2030: utilised}, ("mine_gas", "vented"): {2030: vented}}
    )


@settings(max_examples=25, deadline=None)
@given(utilised=st.floats(0, 3e9), vented=st.floats(0, 3e9))
def test_carbon_value_is_zero_at_zero_price(utilised, vented):
    cfg = ValuationConfig(carbon_price_yuan_per_t_co2e={2021: 0.0})
    frame = carbon_accounting(_mine(utilised, vented), cfg)
    assert tuple(frame.columns) == CARBON_COLUMNS
    assert (frame["carbon_value_yuan"] == 0.0).all()
    assert frame["co2e_vented_t"].iloc[0] == pytest.approx(vented * 0.717e-3 * 28.0)


def test_carbon_value_is_linear_in_price_and_utilised_gas():
    cfg = ValuationConfig(carbon_price_yuan_per_t_co2e={2030: 100.0})
    one = carbon_accounting(_mine(1e9, 5e8), cfg)["carbon_value_yuan"].iloc[0]
    two = carbon_accounting(_mine(2e9, 0.0), cfg)["carbon_value_yuan"].iloc[0]
    assert two == pytest.approx(2 * one)
    assert one == pytest.approx(1e9 * 0.717e-3 * (28.0 - CO2_T_PER_T_CH4_BURNT) * 100.0)


def test_carbon_accounting_agrees_with_the_carbon_trading_item():
    results = plan_results(2030)
    frame = carbon_accounting(results)
    items = item_totals(value(results)).set_index("item")
    assert frame["carbon_value_yuan"].iloc[0] == pytest.approx(
        items.loc["carbon_trading", "value_yuan"]
    )
    # plan-implied 2030 price: 50亿元 on the plan's 11.33 + 3.67 亿m3 of mine gas (ch4 §3 六, §8)
    assert frame["carbon_value_yuan"].iloc[0] == pytest.approx(50e8)
    np.testing.assert_allclose(
        frame["ch4_utilised_t"] * CO2_T_PER_T_CH4_BURNT, frame["co2_combustion_t"]
    )
