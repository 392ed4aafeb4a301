"""Demand profiles keep annual volumes; residential = people × use per person."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbm_sim.cluster import demand
from cbm_sim.scenario.model import ColdSpell, Contract, Demand, Residential, Sector


@settings(max_examples=50, deadline=None)
@given(st.floats(1.01, 4.0), st.integers(2021, 2030))
def test_seasonal_profile_keeps_the_annual_mean(peak, year):
    dates = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    prof = demand.seasonal_profile(dates, peak)
    # a cosine over a 365/366-day year averages to 1 within the calendar's rounding
    assert prof.mean() == pytest.approx(1.0, abs=2e-3 * peak)
    assert prof.argmax() in range(10, 20)  # peak in mid-January


def test_annual_volume_of_a_flat_sector():
    dates = pd.date_range("2021-01-01", "2021-12-31", freq="D")
    d = Demand(industry=Sector(annual_1e8_m3={2021: 2.46}))
    daily = demand.daily_m3(d, dates)
    # plan ch1 §2 七: 工业用气量约2.46亿立方米 (2021)
    assert daily["industry"].sum() == pytest.approx(2.46e8, rel=1e-12)  # spread over 365 days


def test_residential_is_people_times_use():
    d = Demand(
        residential=Residential(people_1e4={2025: 240.0}, use_m3_per_person_year={2025: 113.75})
    )
    # plan ch4 §3 一: 240 万人, 2.73 亿m³ (2025)
    assert demand.annual_m3(d, "residential", [2025.0])[0] == pytest.approx(2.73e8)


def test_cold_spell_multiplies_only_its_days():
    dates = pd.date_range("2021-01-01", "2021-02-28", freq="D")
    base = demand.daily_m3(Demand(), dates)["residential"]
    cold = Demand(cold_spells=[ColdSpell(start="2021-01-10", days=5, demand_multiplier=1.5)])
    hit = demand.daily_m3(cold, dates)["residential"]
    ratio = hit / base
    assert np.allclose(ratio[9:14], 1.5) and np.allclose(np.delete(ratio, range(9, 14)), 1.0)


def test_unknown_sector_is_named():
    with pytest.raises(ValueError, match="'steel'"):
        demand.annual_m3(Demand(), "steel", [2021])


def test_peak_ratio_below_one_rejected():
    with pytest.raises(ValueError, match=r"got 0\.5"):
        demand.seasonal_profile(pd.date_range("2021-01-01", periods=3), 0.5)


@settings(max_examples=50, deadline=None)
@given(st.floats(1.0, demand.MAX_PEAK_RATIO))
def test_profile_is_positive_and_peaks_at_the_stated_ratio(peak):
    dates = pd.date_range("2021-01-01", "2021-12-31", freq="D")
    prof = demand.seasonal_profile(dates, peak)
    assert np.all(prof > 0)
    # the maximum is at 15 January, exactly peak × the (continuous-year) mean
    assert prof[14] == pytest.approx(peak, rel=1e-9)


def test_the_heating_season_runs_from_15_november_to_14_march():
    dates = pd.DatetimeIndex(["2024-11-14", "2024-11-15", "2025-03-14", "2025-03-15", "2025-07-01"])
    assert demand.heating_season(dates).tolist() == [False, True, True, False, False]
    for year, days in ((2023, 120), (2024, 121)):
        year_days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
        assert int(demand.heating_season(year_days).sum()) == days


@pytest.mark.parametrize("year", [2023, 2024])
def test_a_contract_delivers_its_annual_quantity_with_its_winter_share(year):
    dates = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    c = Contract(name="c", annual_1e8_m3={2021: 15.48}, heating_season_share=0.3)
    daily = demand.contract_daily_m3(c, dates)
    assert daily.sum() == pytest.approx(15.48e8, rel=1e-12)
    winter = demand.heating_season(dates)
    assert daily[winter].sum() == pytest.approx(0.3 * 15.48e8, rel=1e-12)
    assert daily[winter].max() < daily[~winter].min()  # 30 % in a third of the year: less
