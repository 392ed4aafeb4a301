"""Netbacks: what a cubic metre of surface gas earns in each market the dispatch can send it to.

A market's netback is its price net of the processing and transport between the field and the
buyer [元/m³ of gas]:

.. math::

    n_{sector} = p_{sector} - c_{dist}, \\qquad
    n_{CNG} = p_{CNG} - c_{comp}, \\qquad
    n_{LNG} = p_{LNG} / f - c_{liq}, \\qquad
    n_{export} = p_{field}

for transport, industry and chemicals (sold through the city's distribution network, cost
:math:`c_{dist}`), CNG (price per m³ of feed gas, compression :math:`c_{comp}`), LNG (ex-factory
price per t over the feed gas per t :math:`f`, liquefaction :math:`c_{liq}`) and the contracted
exports above the take-or-pay floor (the producers' realised price at the field, the surface gas
price: the pipeline tariff is paid downstream). Prices are the valuation section's market
prices (:class:`~cbm_sim.scenario.valuation_inputs.ValuationConfig`, before the 2021 levels of
the valuation), so the dispatch ranks markets by the prices the valuation values them at, year
by year; the costs are its ``*_cost_yuan_per_m3`` fields. Within the dispatch's market tier the
highest netback is served first (:mod:`cbm_sim.cluster.dispatch`); the tiers before it (民生,
storage reserves, the take-or-pay floor) do not depend on price and get netback 0.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from cbm_sim.scenario.valuation_inputs import ValuationConfig

FloatArray = npt.NDArray[np.float64]

REQUESTS: Final[tuple[str, ...]] = (
    "field_use",
    "residential",
    "commercial",
    "transport",
    "industry",
    "chemicals",
    "cng",
    "lng",
    "contract_floor",
    "contract_above_floor",
)
"""The dispatch's requests in their column order (:mod:`cbm_sim.cluster.engine`)."""

PRICE_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "transport_price_yuan_per_m3",
        "industry_price_yuan_per_m3",
        "chemicals_price_yuan_per_m3",
        "cng_price_yuan_per_m3",
        "lng_price_yuan_per_t",
        "surface_gas_price_yuan_per_m3",
        "gas_price_scale",
        "distribution_cost_yuan_per_m3",
        "compression_cost_yuan_per_m3",
        "liquefaction_cost_yuan_per_m3",
    }
)
"""Valuation fields the netbacks read: changing one changes the dispatch, not only the value."""

MARKETS: Final[tuple[str, ...]] = (
    "transport",
    "industry",
    "chemicals",
    "cng",
    "lng",
    "contract_above_floor",
)
"""The requests that compete by netback in the market tier."""


def market_netbacks(
    valuation: ValuationConfig, years: npt.ArrayLike, feed_gas_m3_per_t: float
) -> dict[str, FloatArray]:
    """Netback of each market of :data:`MARKETS` in each of ``years`` [元/m³ of gas].

    Parameters
    ----------
    valuation
        The scenario's valuation section (prices, ``gas_price_scale`` and the costs).
    years
        Calendar years (a path's value for a year is that year's figure).
    feed_gas_m3_per_t
        Feed gas per tonne of LNG [m³/t] (``lng.feed_gas_m3_per_t``).

    Raises
    ------
    ValueError
        If ``feed_gas_m3_per_t`` is not positive.
    """
    if not feed_gas_m3_per_t > 0:
        raise ValueError(f"feed_gas_m3_per_t must be > 0, got {feed_gas_m3_per_t}")
    v = valuation
    dist = v.distribution_cost_yuan_per_m3

    def price(field: str) -> FloatArray:
        return v.unit_value(field, years)

    return {
        "transport": price("transport_price_yuan_per_m3") - dist,
        "industry": price("industry_price_yuan_per_m3") - dist,
        "chemicals": price("chemicals_price_yuan_per_m3") - dist,
        "cng": price("cng_price_yuan_per_m3") - v.compression_cost_yuan_per_m3,
        "lng": price("lng_price_yuan_per_t") / feed_gas_m3_per_t - v.liquefaction_cost_yuan_per_m3,
        "contract_above_floor": price("surface_gas_price_yuan_per_m3"),
    }


def per_step(
    valuation: ValuationConfig, step_years: npt.ArrayLike, feed_gas_m3_per_t: float
) -> FloatArray:
    """The netback matrix of the dispatch: one row per step, one column per request of
    :data:`REQUESTS` [元/m³]; 0 outside the market tier.

    ``step_years`` is the calendar year of each step (of its first day). Prices are annual, so
    the netbacks are evaluated once per distinct year.
    """
    years = np.asarray(step_years, dtype=np.int64)
    distinct, inverse = np.unique(years, return_inverse=True)
    by_market = market_netbacks(valuation, distinct, feed_gas_m3_per_t)
    out = np.zeros((years.size, len(REQUESTS)))
    for name, values in by_market.items():
        out[:, REQUESTS.index(name)] = values[inverse]
    return out
