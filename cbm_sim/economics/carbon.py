"""Carbon accounting of coal-mine methane: utilised vs vented, CO2e avoided and emitted.

Methane drained from coal mines (瓦斯) is either utilised — burnt for power or heat — or vented.
Burning destroys the methane and emits its carbon as CO2; venting emits the methane itself. The
credit the plan counts on (ch4 §8 一, 碳交易) is the methane destroyed instead of vented, net of
the CO2 of its combustion (the usual CMM-destruction accounting), credited only for the
utilisation above a baseline, ``carbon_baseline_share`` × the gas drained (additionality: from
2025 GB 21522—2024 makes using drained gas of ≥ 8 % CH4 a legal duty; see valuation.yaml):

.. math::

    m_{CH_4} = V \\,\\rho_{CH_4} / 1000 \\quad [t], \\qquad
    E_{avoided} = m_{CH_4}^{utilised}\\,(GWP_{100} - r_{CO_2}) \\quad [t\\,CO_2e], \\qquad
    E_{vented} = m_{CH_4}^{vented}\\,GWP_{100}

with :math:`r_{CO_2} = M_{CO_2}/M_{CH_4} = 44.009/16.043` t CO2 per t CH4 burnt
(CH4 + 2 O2 → CO2 + 2 H2O). Surface CBM production is not credited: its use displaces other fuel
but avoids no vented methane (assumption; it is the baseline of CMM methodologies).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from cbm_sim import units
from cbm_sim.economics.drivers import config_of, read_annual
from cbm_sim.results.frames import Results
from cbm_sim.scenario.paths import interpolate
from cbm_sim.scenario.valuation_inputs import ValuationConfig

CH4_MOLAR_MASS_G_PER_MOL = units.CH4_MOLAR_MASS_G_PER_MOL
CO2_MOLAR_MASS_G_PER_MOL = units.CO2_MOLAR_MASS_G_PER_MOL
CO2_T_PER_T_CH4_BURNT = units.CO2_T_PER_T_CH4_BURNT

CARBON_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "ch4_utilised_m3",
    "ch4_vented_m3",
    "ch4_utilised_t",
    "ch4_vented_t",
    "co2_combustion_t",
    "co2e_avoided_t",
    "ch4_baseline_m3",
    "co2e_credited_t",
    "co2e_vented_t",
    "carbon_price_yuan_per_t_co2e",
    "carbon_value_yuan",
)


def ch4_mass_t(volume_m3: npt.ArrayLike, density_kg_per_m3: float) -> npt.NDArray[np.float64]:
    """Mass of methane [t] in ``volume_m3`` of gas at the density's reference conditions."""
    return np.asarray(volume_m3, dtype=np.float64) * density_kg_per_m3 / 1000.0


def co2e_avoided_t(
    utilised_m3: npt.ArrayLike, density_kg_per_m3: float, gwp100_ch4: float
) -> npt.NDArray[np.float64]:
    """CO2e avoided [t] by burning ``utilised_m3`` of methane instead of venting it.

    :math:`V\\rho/1000\\,(GWP_{100} - r_{CO_2})` (module docstring).
    """
    return ch4_mass_t(utilised_m3, density_kg_per_m3) * (gwp100_ch4 - CO2_T_PER_T_CH4_BURNT)


def credited_m3(
    utilised_m3: npt.ArrayLike, drained_m3: npt.ArrayLike, baseline_share: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Utilised methane above the baseline [m³]: ``max(utilised − share × drained, 0)``."""
    used = np.asarray(utilised_m3, dtype=np.float64)
    base = np.asarray(baseline_share, dtype=np.float64) * np.asarray(drained_m3, dtype=np.float64)
    return np.maximum(used - base, 0.0)


def carbon_accounting(results: Results, config: ValuationConfig | None = None) -> pd.DataFrame:
    """Per year: mine methane utilised and vented, CO2e avoided and emitted, carbon value.

    Parameters
    ----------
    results
        Reads the annual ``mine_gas/utilised``, ``mine_gas/vented`` and ``mine_gas/drainage``
        [m³].
    config
        Density, GWP and carbon-price path; default: the scenario's valuation section, else
        :meth:`ValuationConfig.default`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CARBON_COLUMNS` (volumes m³, masses t, price 元/t CO2e, value 元):
        ``co2e_avoided_t`` by all the gas utilised, ``co2e_credited_t`` by the part above the
        baseline ``ch4_baseline_m3``; the carbon value (credited × price) equals the
        ``carbon_trading`` item of :func:`cbm_sim.economics.valuation.value`.
    """
    cfg = config if config is not None else config_of(results)
    years = np.array(sorted(results.annual["year"].unique()), dtype=np.int64)
    utilised = read_annual(results, "mine_gas", "utilised", years)
    vented = read_annual(results, "mine_gas", "vented", years)
    drained = read_annual(results, "mine_gas", "drainage", years)
    rho, gwp = cfg.ch4_density_kg_per_m3, cfg.gwp100_ch4
    used_t = ch4_mass_t(utilised, rho)
    vented_t = ch4_mass_t(vented, rho)
    avoided = co2e_avoided_t(utilised, rho, gwp)
    share = interpolate(cfg.carbon_baseline_share, years)
    credited = co2e_avoided_t(credited_m3(utilised, drained, share), rho, gwp)
    price = interpolate(cfg.carbon_price_yuan_per_t_co2e, years)
    return pd.DataFrame(
        {
            "year": years,
            "ch4_utilised_m3": utilised,
            "ch4_vented_m3": vented,
            "ch4_utilised_t": used_t,
            "ch4_vented_t": vented_t,
            "co2_combustion_t": used_t * CO2_T_PER_T_CH4_BURNT,
            "co2e_avoided_t": avoided,
            "ch4_baseline_m3": share * drained,
            "co2e_credited_t": credited,
            "co2e_vented_t": vented_t * gwp,
            "carbon_price_yuan_per_t_co2e": price,
            "carbon_value_yuan": credited * price,
        }
    )
