"""Coal-mine gas: annual paths spread over the year, power-plant gas capacity."""

from __future__ import annotations

import pandas as pd
import pytest

from cbm_sim.cluster import minegas
from cbm_sim.scenario.model import MineGas


def test_daily_figures_add_up_to_the_plan_years():
    dates = pd.date_range("2021-01-01", "2025-12-31", freq="D")
    d = minegas.daily(MineGas(), dates)
    by_year = pd.Series(d.drainage_m3, index=dates).groupby(dates.year).sum()
    # plan ch1 §2 三: 20.7 亿m³ drained in 2021; ch4 §1: ≈22 in 2025
    assert by_year[2021] == pytest.approx(20.7e8, rel=1e-12)
    assert by_year[2025] == pytest.approx(22.0e8, rel=1e-12)
    heating = pd.Series(d.heating_m3, index=dates).groupby(dates.year).sum()
    assert heating[2025] == pytest.approx(2.88e8, rel=1e-12)  # ch4 §3 六


def test_power_gas_capacity_is_mw_hours_availability_and_heat_rate():
    mine = MineGas(power_capacity_mw={2021: 100.0}, power_availability=0.5)
    d = minegas.daily(mine, pd.date_range("2021-03-01", periods=2))
    expected = 100.0 * 1000 * 24 * 0.5 * (9.05 / 33.68)  # kWh/d × m³/kWh (ch1 §2 七)
    assert d.power_gas_capacity_m3[0] == pytest.approx(expected)
