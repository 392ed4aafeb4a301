"""Bounds of every numeric model parameter, in one place.

Each :class:`Bound` states the closed or open interval a parameter must lie in, its unit and
where the limits come from. The registry :data:`BOUNDS` drives three things: validation of
public inputs (:func:`check`), the parameter documentation, and the hypothesis strategies of
the test suite (``tests/strategies.py``), so the tested domain is the accepted domain.

Other modules add their parameters with :func:`register`; a name may be registered once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Bound:
    """Admissible interval of one numeric parameter.

    Parameters
    ----------
    name
        Parameter name as it appears in the public API (e.g. ``"qi"``).
    lo, hi
        Lower and upper limits, in ``unit``.
    unit
        Unit of the parameter (``"m3/d"``, ``"1/yr"``, ``"day"``, ``"dimensionless"`` …).
    doc
        One line: what the parameter is and where its limits come from.
    lo_open, hi_open
        Whether the limit itself is excluded.
    """

    name: str
    lo: float
    hi: float
    unit: str
    doc: str
    lo_open: bool = False
    hi_open: bool = False

    def __post_init__(self) -> None:
        if not self.lo <= self.hi:
            raise ValueError(f"bound {self.name!r}: lo={self.lo!r} must not exceed hi={self.hi!r}")

    def interval(self) -> str:
        """The interval in mathematical notation, e.g. ``(0, 100] 1/yr``."""
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{self.lo:g}, {self.hi:g}{right} {self.unit}"

    def contains(self, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Elementwise membership (NaN is never contained)."""
        v = np.asarray(values, dtype=np.float64)
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above & below


BOUNDS: dict[str, Bound] = {}
"""Registry of all parameter bounds, keyed by parameter name."""


def register(bound: Bound) -> Bound:
    """Add ``bound`` to :data:`BOUNDS`.

    Raises
    ------
    ValueError
        If a bound of that name is already registered (one place per parameter).
    """
    if bound.name in BOUNDS:
        raise ValueError(f"bound {bound.name!r} is already registered: {BOUNDS[bound.name]}")
    BOUNDS[bound.name] = bound
    return bound


def check(name: str, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Validate ``values`` against the bound of ``name`` and return them as float64.

    Parameters
    ----------
    name
        A key of :data:`BOUNDS`.
    values
        Scalar or array of the parameter's values.

    Returns
    -------
    numpy.ndarray
        ``values`` as a float64 array (0-d for a scalar).

    Raises
    ------
    ValueError
        If any value is NaN or outside the bound; the message names the parameter, the
        interval and the first offending value.
    KeyError
        If ``name`` has no registered bound.
    """
    bound = BOUNDS[name]
    if type(values) is float or type(values) is int:
        # a scalar (a scenario field: most calls): the comparisons of Bound.contains on
        # the float64 value, without building arrays for them
        v, lo, hi = float(values), float(bound.lo), float(bound.hi)
        if (v > lo if bound.lo_open else v >= lo) and (v < hi if bound.hi_open else v <= hi):
            return np.asarray(values, dtype=np.float64)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {values!r}") from exc
    ok = bound.contains(arr)
    if not ok.all():
        bad = arr[~ok]
        first = float(bad.flat[0])
        raise ValueError(
            f"{name} must be in {bound.interval()} ({bound.doc}); got {first!r}"
            + (f" ({bad.size} offending values)" if bad.size > 1 else "")
        )
    return arr


# --- decline-curve parameters (cbm_sim.wells.decline) -------------------------------------
# The limits are validity limits of the model, deliberately wider than any observed CBM well, so
# that validation rejects nonsense (negative rates, NaN) and not merely unusual wells.
register(
    Bound(
        "qi",
        0.0,
        1e7,
        "m3/d",
        "peak rate after dewatering; assumption: 1e7 m3/d is two orders above the best CBM "
        "horizontal wells (~1e5 m3/d), so only nonsense is rejected",
    )
)
register(
    Bound(
        "q_start",
        0.0,
        1e7,
        "m3/d",
        "rate when the well comes online (start of the incline); same limits as qi",
    )
)
register(
    Bound(
        "q_limit",
        0.0,
        1e7,
        "m3/d",
        "economic limit rate for EUR / time to limit; same limits as qi",
    )
)
register(
    Bound(
        "di",
        0.0,
        100.0,
        "1/yr",
        "initial nominal (instantaneous) Arps decline after the peak; assumption: 100/yr "
        "(a rate falling e-fold in 3.7 days) bounds any physical decline; must be > 0",
        lo_open=True,
    )
)
register(
    Bound(
        "b",
        0.0,
        5.0,
        "dimensionless",
        "Arps hyperbolic exponent (0 exponential, 1 harmonic); assumption: reported fits of "
        "unconventional wells stay below ~3, 5 leaves headroom",
    )
)
register(
    Bound(
        "d_term",
        0.0,
        100.0,
        "1/yr",
        "terminal nominal decline of the modified hyperbolic (0 = none); same limit as di",
    )
)
register(
    Bound(
        "t_incline",
        0.0,
        3650.0,
        "day",
        "dewatering (incline) period from online to peak; assumption: 10 years, beyond the "
        "longest CBM dewatering periods reported (a few years)",
    )
)
register(
    Bound(
        "t_plateau",
        0.0,
        3650.0,
        "day",
        "plateau at the peak rate between incline and decline (0 = none); assumption: 10 "
        "years, over 4x the longest plateau reported nearby, the Zhengzhuang horizontal well "
        "LDP-22H's ~80,000 m3/d held over 865 days (探矿工程 2023, tkgc.ijournals.cn article "
        "20230073), one exceptional well",
    )
)
register(
    Bound(
        "t_days",
        -1e9,
        1e9,
        "day",
        "time since the well came online (negative: not yet online); limits keep every closed "
        "form finite",
    )
)
register(
    Bound(
        "day",
        -1e9,
        1e9,
        "day",
        "simulation day, days since the epoch 2021-01-01 (negative: before); same limits as t_days",
    )
)
register(
    Bound(
        "decline_fraction",
        0.0,
        1.0,
        "fraction/yr",
        "effective (tangent or secant) annual decline, a fraction of the rate lost per year",
        hi_open=True,
    )
)
register(
    Bound(
        "decline_nominal",
        0.0,
        math.inf,
        "1/yr",
        "nominal annual decline (instantaneous d ln q / dt, per year)",
        hi_open=True,
    )
)

# --- uncertainty of scenarios (cbm_sim.scenario.model, cbm_sim.studies) -------------------
register(
    Bound(
        "drilling_achieved_share",
        0.0,
        2.0,
        "dimensionless",
        "wells drilled per wells programmed (1 = the programme as written); assumption: 2 "
        "allows drilling ahead of a programme, 0 is excluded (use an empty programme instead)",
        lo_open=True,
    )
)
register(
    Bound(
        "commissioning_delay_days",
        0.0,
        3650.0,
        "day",
        "slip of every commissioning date after the horizon start (dates stay inside the "
        "horizon); assumption: 10 years covers any plan period",
    )
)
register(
    Bound(
        "rank_correlation",
        -0.99,
        0.99,
        "dimensionless",
        "Spearman rank correlation of two uncertain inputs; ±1 excluded so that the copula's "
        "correlation matrix stays invertible",
    )
)

register(
    Bound(
        "year_sd",
        0.0,
        2.0,
        "sd of log",
        "year-to-year volatility of a sampled path (sd of the log of a yearly factor); "
        "assumption: 2 (a factor of e² ≈ 7 at one sd) is far above any price's annual swing",
    )
)

# --- scenario inputs (cbm_sim.scenario.model) -----------------------------------------------
# Every numeric field of a scenario has finite limits (issue #18: an infinite repair time or
# 1e300 in a path was accepted and then crashed the run or filled it with NaN). Limits are
# validity limits, far outside any planning case; each says where it comes from.
register(
    Bound(
        "horizon_year",
        2021.0,
        2050.0,
        "year",
        "simulated years: the model's initial state (well population, facilities, demand) is "
        "the plan's 2021 baseline (plan ch1), so a run starts on or after 2021-01-01; "
        "assumption: 20 years past the plan's 2030 targets (ch3 §3) is as far as held-flat "
        "paths mean anything, and keeps run size and dates bounded",
    )
)
register(
    Bound(
        "programme_year",
        1990.0,
        2100.0,
        "year",
        "first/last year of a drilling programme; the same range as the years of a time path",
    )
)
register(
    Bound(
        "share",
        0.0,
        1.0,
        "fraction",
        "a share of a whole (e.g. the usable share of drained mine gas)",
    )
)
register(
    Bound(
        "wells_per_block_year",
        0.0,
        5000.0,
        "wells/yr",
        "wells spudded a year in one block; 200 rigs (the rigs limit) × 365/15 d (the fastest "
        "vertical well, drilling_days_vertical default) ≈ 4,867: what a block could drill; "
        "the plan scenario drills 400",
    )
)
register(
    Bound(
        "facility_mtbf_days",
        1.0,
        36525.0,
        "day",
        "mean time between failures of a facility; assumption: more than one failure a day "
        "is below the model's daily step, and 100 years (never within a 30-year horizon) "
        "stands for 'never fails'",
    )
)
register(
    Bound(
        "facility_repair_days",
        0.01,
        3650.0,
        "day",
        "mean repair time of a facility; assumption: 15 minutes to 10 years (a plant that is "
        "down longer is retired, not repaired)",
    )
)
register(
    Bound(
        "gas_volume_1e8_m3_per_year",
        0.0,
        1000.0,
        "亿m3/yr",
        "an annual gas volume of the cluster (demand, drainage, pipeline cap); assumption: "
        "1000 亿m3/yr is 23× the cluster's whole 2021 output of 42.67 亿m3 (plan ch1 §2)",
    )
)
register(
    Bound(
        "lng_demand_1e4_t_per_year",
        0.0,
        10000.0,
        "万t/yr",
        "LNG market of the cluster; assumption: 10,000 万t/yr is 118× the 84.37 万t of 2021 "
        "(plan ch1 §2 四)",
    )
)
register(
    Bound(
        "power_capacity_mw",
        0.0,
        10000.0,
        "MW",
        "mine-gas power capacity; assumption: 13× the 762.6 MW planned for 2025 (plan ch4 §3 六)",
    )
)
register(
    Bound(
        "power_plants",
        0.0,
        1000.0,
        "plants",
        "number of mine-gas power plants; assumption: 28× the 36 planned for 2025 (plan ch4 §3 六)",
    )
)
register(
    Bound(
        "people_1e4",
        0.0,
        10000.0,
        "万 people",
        "people supplied with gas; assumption: 1 亿 people, 38× the 260 万 of 2030 "
        "(plan ch4 §3 一)",
    )
)
register(
    Bound(
        "use_m3_per_person_year",
        0.0,
        10000.0,
        "m3/person/yr",
        "residential gas use per person; assumption: 87× the plan's 115.4 m3 (ch4 §3 一)",
    )
)
register(
    Bound(
        "incline_days_scale",
        0.0,
        5.0,
        "dimensionless",
        "multiplier of the type curves' incline periods; the slowest packaged median, 720 d "
        "(data/typecurves.yaml), × 5 = 3,600 d stays inside t_incline's 3,650 d",
        lo_open=True,
    )
)

# --- studies (cbm_sim.studies: ensemble, sensitivity, goal-seek) ----------------------------
register(
    Bound(
        "study_runs",
        1.0,
        100_000.0,
        "runs",
        "simulations one study asks for (ensemble members; a Sobol design's N × (inputs + 2) "
        "runs); 38,416 members already give a probability to ±0.005 at 95 % (Wilson, "
        "1.96² × 0.25 / 0.005²), and at ≈ 1 s a member (monthly steps) 100,000 runs are over "
        "a day of one core; assumption: no planning question needs more, and every member's "
        "seed is drawn before the first run, so a larger count would only stall",
    )
)
register(
    Bound(
        "goal_seek_iterations",
        1.0,
        100.0,
        "iterations",
        "most refinements of a goal-seek's bracket (Brent's method, scipy's brentq "
        "default): plain bisection of the widest bracket a lever allows, [0, 10] for the "
        "peak-rate scale, reaches the 0.001 tolerance in log2(10 / 0.001) ≈ 14 halvings; "
        "a search not converged within 100 reports it (exit 1) instead of running on",
    )
)

# --- resources (cbm_sim.cluster.resource, scenario section resources; issue 23) -----------
register(
    Bound(
        "recovery_factor",
        0.0,
        1.0,
        "fraction",
        "share of a block's gas in place its wells can recover; a share, 0 excluded (a block "
        "with nothing recoverable has no proved reserves instead)",
        lo_open=True,
    )
)
register(
    Bound(
        "abundance_1e8_m3_per_km2",
        0.5,
        10.0,
        "亿m3/km2",
        "gas in place per km² of a block; the plan's range for southern Qinshui is 1.7-2.8 "
        "(ch1 §1 一); assumption: 0.5-10 holds any coal basin's CBM abundance",
    )
)
register(
    Bound(
        "proving_rate_per_year",
        0.0,
        1.0,
        "1/yr",
        "share of a block's still unproved resource that exploration proves each year; a share",
    )
)
register(
    Bound(
        "drainage_area_km2",
        0.001,
        10.0,
        "km2",
        "area one well drains; assumption: from a 30 m × 30 m pattern to 10 km² (beyond the "
        "longest multilateral horizontal wells)",
    )
)
register(
    Bound(
        "proved_reserves_1e8_m3",
        0.0,
        20000.0,
        "亿m3",
        "proved reserves of one block; assumption: 20,000 亿m3 is 3× the city's whole resource "
        "of 6,141 亿m3 (plan ch1 §1 一)",
    )
)
