"""Coal-mine gas (井下抽采, 瓦斯): drainage, usable share, heating gas and mine-gas power.

Drainage and its uses are driven by coal mining, not by the gas market, so they are given as
annual paths (plan ch1 §2 三 and ch4 §1 二, §3 六) and spread evenly over the days of each
year. The usable share is the part concentrated enough to burn; the power plants' gas
capacity is ``MW × 24 h × availability × m³/kWh``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cbm_sim import units
from cbm_sim.cluster.demand import calendar_years, days_in_year
from cbm_sim.scenario.model import MineGas
from cbm_sim.scenario.paths import interpolate


@dataclass(frozen=True)
class MineGasDaily:
    """Daily coal-mine gas figures on the simulation calendar."""

    drainage_m3: npt.NDArray[np.float64]
    usable_share: npt.NDArray[np.float64]
    heating_m3: npt.NDArray[np.float64]
    power_capacity_mw: npt.NDArray[np.float64]
    power_plants: npt.NDArray[np.float64]
    power_gas_capacity_m3: npt.NDArray[np.float64]


def daily(mine: MineGas, dates: pd.DatetimeIndex) -> MineGasDaily:
    """Daily drainage [m³/d], usable share, heating gas [m³/d] and power capacity.

    .. math:: G_{power,max} = P_{MW} \\cdot 1000 \\cdot 24 \\cdot a \\cdot g_{kWh}

    with availability :math:`a` and gas per kWh :math:`g_{kWh}` [m³/kWh].
    """
    years = calendar_years(dates)
    ndays = days_in_year(dates)
    mw = interpolate(mine.power_capacity_mw, years)
    gas_cap = mw * 1000.0 * 24.0 * mine.power_availability * mine.power_gas_m3_per_kwh
    return MineGasDaily(
        drainage_m3=interpolate(mine.drainage_1e8_m3_per_year, years) * units.YI / ndays,
        usable_share=interpolate(mine.usable_share, years),
        heating_m3=interpolate(mine.heating_gas_1e8_m3_per_year, years) * units.YI / ndays,
        power_capacity_mw=mw,
        power_plants=np.round(interpolate(mine.power_plants, years)),
        power_gas_capacity_m3=gas_cap,
    )
