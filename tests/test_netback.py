"""Netbacks of the dispatch's markets, and LNG that runs when LNG pays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from cbm_sim.cluster import netback
from cbm_sim.results import simulate
from cbm_sim.scenario.files import load_scenario
from cbm_sim.scenario.valuation_inputs import ValuationConfig

PLAN = Path(__file__).parent.parent / "scenarios" / "plan.yaml"


def test_market_netbacks_are_the_prices_net_of_processing_and_transport():
    cfg = ValuationConfig.default()
    got = netback.market_netbacks(cfg, [2021, 2025], 1550.0)
    # 2025: LNG 4,215 元/t (SunSirs) over 1,550 m3/t less 0.20 liquefaction; industry 3.0 less
    # 0.5 distribution; the contracts above the floor earn the field price, 蓝焰's 1.90
    np.testing.assert_allclose(got["lng"], [4050.3 / 1550 - 0.2, 4215.0 / 1550 - 0.2])
    np.testing.assert_allclose(got["industry"], [3.0 * 1.78 / 1.90 - 0.5, 3.0 - 0.5])
    np.testing.assert_allclose(got["contract_above_floor"], [1.78, 1.90])
    assert got["cng"][1] == pytest.approx(1.69 / 0.484 - 0.3)  # ch4 §2 一
    # a price scale moves prices, not the costs
    half = netback.market_netbacks(cfg.model_copy(update={"gas_price_scale": 0.5}), [2025], 1550.0)
    assert half["lng"][0] == pytest.approx(0.5 * 4215.0 / 1550 - 0.2)
    with pytest.raises(ValueError, match=r"feed_gas_m3_per_t must be > 0, got 0\.0"):
        netback.market_netbacks(cfg, [2025], 0.0)


def test_per_step_puts_the_market_netbacks_in_their_request_columns():
    cfg = ValuationConfig.default()
    years = np.array([2021, 2021, 2025])
    matrix = netback.per_step(cfg, years, 1550.0)
    assert matrix.shape == (3, len(netback.REQUESTS))
    markets = netback.market_netbacks(cfg, years, 1550.0)
    for name in netback.MARKETS:
        np.testing.assert_allclose(matrix[:, netback.REQUESTS.index(name)], markets[name])
    outside = [netback.REQUESTS.index(r) for r in netback.REQUESTS if r not in netback.MARKETS]
    assert (matrix[:, outside] == 0.0).all()  # 民生, reserves and the floor ignore price


def _plan_to_2025(lng_scale: float):
    plan = load_scenario(PLAN)
    data = plan.model_dump()
    end = dt.date(2025, 12, 31)
    # facilities commissioned after 2025 lie outside the shorter horizon
    for section, key in (("lng", "plants"), ("cng", "stations"), ("pipelines", "lines")):
        data[section][key] = [f for f in data[section][key] if not (f["commissioned"] or end) > end]
    data["valuation"]["lng_price_yuan_per_t"] = {
        y: v * lng_scale for y, v in data["valuation"]["lng_price_yuan_per_t"].items()
    }
    data.update(uncertainty={}, correlations=[], horizon={"end": end, "step_days": 7})
    return simulate.run(type(plan).model_validate(data))


@pytest.mark.slow
def test_lng_output_rises_with_the_lng_price_and_the_balance_closes():
    # 2025 of the plan scenario is short of gas in the market tier: the LNG plants get gas
    # before industry only while LNG's netback is higher
    runs = {s: _plan_to_2025(s) for s in (0.8, 1.0, 1.5)}
    lng = {s: r.annual_value("lng", "output", 2025) for s, r in runs.items()}
    assert lng[0.8] <= lng[1.0] <= lng[1.5]
    assert lng[1.5] > lng[0.8] + 1e4  # at least 1万t more
    industry = {s: r.annual_value("demand:industry", "delivered", 2025) for s, r in runs.items()}
    assert industry[1.5] <= industry[0.8]  # the gas LNG gains comes from a lower netback
    for r in runs.values():
        residual = r.daily_series("balance", "residual")
        assert np.abs(residual).max() < 1.0  # m3 per step
