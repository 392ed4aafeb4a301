r"""Local demand by sector: annual paths turned into daily volumes with a seasonal profile.

Each sector's annual volume comes from its scenario path; the daily profile has the shape
of a von Mises density with its maximum in mid-January,

.. math::

    d(t) = \frac{V_y}{365.25} \, \frac{e^{\kappa\cos\phi(t)}}{I_0(\kappa)},
    \qquad \phi(t) = \frac{2\pi(t - t_J)}{365.25},

where :math:`t_J` is 15 January, :math:`V_y` the year's volume [m³], :math:`I_0` the modified
Bessel function (so the profile averages to 1 over a year) and :math:`\kappa` is solved so
that the mid-January demand is ``winter_peak_ratio`` times the mean. Unlike a plain cosine,
it never goes negative in summer, however strong the winter peak.
Cold spells multiply all local sectors' demand on their days.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pandas as pd

from cbm_sim import units
from cbm_sim.cluster.bessel import i0, i0e
from cbm_sim.scenario.model import Contract, Demand
from cbm_sim.scenario.paths import interpolate

SECTORS: tuple[str, ...] = ("residential", "commercial", "transport", "industry", "chemicals")
"""Local sectors other than field use, in the dispatch priority order (民生 first)."""

CITY_GAS_SECTORS: tuple[str, ...] = ("residential", "commercial", "transport", "industry")
"""Sectors served by city-gas companies (assumption: the plan's 城镇燃气企业 supply these)."""


def calendar_years(dates: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """The calendar year of each date, as float, for evaluating ``{year: value}`` paths.

    A path's value for a year is that year's annual figure, so every day of the year uses
    it (no drift within a year); interpolation happens between stated years.
    """
    years: npt.NDArray[np.float64] = dates.year.to_numpy(dtype=np.float64)
    return years


def days_in_year(dates: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """365 or 366 for each date: an annual figure is spread over its own calendar year."""
    return np.where(dates.is_leap_year, 366.0, 365.0)


def seasonal_profile(dates: pd.DatetimeIndex, peak_ratio: float) -> npt.NDArray[np.float64]:
    """Multiplier of the annual-mean daily demand on each date (mean 1 over a year, > 0)."""
    if not 1.0 <= peak_ratio <= MAX_PEAK_RATIO:
        raise ValueError(f"winter_peak_ratio must lie in 1..{MAX_PEAK_RATIO:g}, got {peak_ratio}")
    kappa = _kappa(peak_ratio)
    phase = (
        2.0 * np.pi * (dates.day_of_year.to_numpy(dtype=np.float64) - 15.0) / units.DAYS_PER_YEAR
    )
    profile: npt.NDArray[np.float64] = np.exp(kappa * np.cos(phase)) / i0(kappa)
    return profile


MAX_PEAK_RATIO = 4.0
"""Largest mid-January/mean demand ratio accepted (the scenario field's bound)."""


@functools.lru_cache(maxsize=64)  # a pure function of one number: solved once a process
def _kappa(peak_ratio: float) -> float:
    """Concentration κ with e^κ / I0(κ) = peak_ratio (0 for a flat profile).

    Equivalently ``i0e(κ) = 1 / peak_ratio`` (``i0e(κ) = e^-κ I0(κ)`` falls from 1 at κ = 0
    towards 0), solved by bisection on [0, 50] to machine precision. Bisection rather than
    ``scipy.optimize.brentq``: importing scipy.optimize costs ≈ 0.4 s, a fifth of the
    command line's budget for a whole run (benchmarks/bench_cli.py), for one scalar root.
    """
    if peak_ratio <= 1.0:
        return 0.0
    target = 1.0 / peak_ratio
    lo, hi = 0.0, 50.0  # i0e(50) ≈ 0.057 < 1 / MAX_PEAK_RATIO
    for _ in range(64):  # 50 / 2**64: below double precision
        mid = 0.5 * (lo + hi)
        if i0e(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def annual_m3(demand: Demand, sector: str, years: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Annual demand of a sector [m³/yr] at (fractional) years."""
    if sector == "residential":
        res = demand.residential
        people = interpolate(res.people_1e4, years) * units.WAN
        return people * interpolate(res.use_m3_per_person_year, years)
    if sector not in SECTORS:
        raise ValueError(f"unknown sector {sector!r}; expected one of {SECTORS}")
    return interpolate(getattr(demand, sector).annual_1e8_m3, years) * units.YI


def daily_m3(demand: Demand, dates: pd.DatetimeIndex) -> dict[str, npt.NDArray[np.float64]]:
    """Daily demand [m³/d] of every local sector on ``dates`` (cold spells applied)."""
    years = calendar_years(dates)
    spell = np.ones(len(dates))
    for cold in demand.cold_spells:
        start = pd.Timestamp(cold.start)
        hit = (dates >= start) & (dates < start + pd.Timedelta(days=cold.days))
        spell[hit] *= cold.demand_multiplier
    out = {}
    for sector in SECTORS:
        peak = (
            demand.residential.winter_peak_ratio
            if sector == "residential"
            else getattr(demand, sector).winter_peak_ratio
        )
        base = annual_m3(demand, sector, years) / days_in_year(dates)
        out[sector] = base * seasonal_profile(dates, peak) * spell
    return out


def heating_season(dates: pd.DatetimeIndex) -> npt.NDArray[np.bool_]:
    """Whether each date lies in the heating season, 15 November to 14 March.

    Source: NDRC's 2018 rules for annual gas supply contracts, "the peak winter heating
    season, which runs from mid-November to mid-March" (Reuters, 2018-04-27).
    """
    month = dates.month.to_numpy()
    day = dates.day.to_numpy()
    spring = (month <= 2) | ((month == 3) & (day < 15))
    winter: npt.NDArray[np.bool_] = spring | ((month == 11) & (day >= 15)) | (month == 12)
    return winter


def contract_daily_m3(contract: Contract, dates: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    r"""Contracted outbound delivery [m³/d] on each date.

    A year's annual contract quantity :math:`Q_y` is delivered at
    :math:`s\,Q_y / n_h` a day on the :math:`n_h` heating-season days of the calendar year
    (120, or 121 in a leap year) and :math:`(1 - s)\,Q_y / (n_y - n_h)` on the others, with
    :math:`s` the contract's ``heating_season_share``; the year's deliveries add up to
    :math:`Q_y`.
    """
    annual = interpolate(contract.annual_1e8_m3, calendar_years(dates)) * units.YI
    n_year = days_in_year(dates)
    n_heat = 120.0 + (n_year - 365.0)  # Jan 1 - Mar 14 and Nov 15 - Dec 31
    share = contract.heating_season_share
    return np.where(
        heating_season(dates), share * annual / n_heat, (1.0 - share) * annual / (n_year - n_heat)
    )
