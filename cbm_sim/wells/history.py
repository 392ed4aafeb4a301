r"""The pre-2021 drilling history and its calibration to the plan's 2021 production.

Plan facts (晋市政发〔2022〕28号):

* ch1 §2 一: scale surface development began in 2003 (30 pilot wells at 寺河), fast growth since
  2005.
* ch1 §2 二: by end-2021, 10,595 wells drilled (9,005 vertical, 1,590 horizontal); 2021
  production 42.67 亿m³; cumulative capacity built ("累计形成煤层气产能") 91.77 亿m³.

Drilling history (assumption, shape only): cumulative vertical wells follow a logistic in
time centred on 2011.0 with a 2.0-year scale, horizontal wells one centred on 2015.0 with a
2.0-year scale starting in 2006 (multilateral wells came later than vertical ones); both are
rescaled so that the counts are exactly 30 at end-2003 (vertical, the pilot) and 9,005 /
1,590 at end-2021. Wells are placed at the inverse of that curve (deterministic quantiles,
whole days), assigned to blocks by ``share_of_2021_wells`` (blocks.yaml, an assumption) in a
random order, and given per-well parameters scattered around the type curve of their
type and block class (:mod:`cbm_sim.wells.typecurves`). All wells drilled are kept producing (no
abandonments before 2021: assumption, the plan gives none).

Calibration: one scale factor :math:`s` on every well's peak and start rate is solved with
``scipy.optimize.brentq`` so that the simulated 2021 volume (exact cumulative differences over
2021-01-01 … 2021-12-31) equals 42.67 亿m³.

Interpretation of "累计形成煤层气产能 91.77 亿m³": the nameplate capacity built, i.e. the
sum over all wells ever drilled of the peak rate as an annual volume,
:math:`\sum_i 365.25\,q_{i}`. It exceeds 2021 production because every well declines from its
peak and young wells have not reached it. :func:`calibration_report` computes how close the
calibrated population comes to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from cbm_sim.plan.blocks import load_blocks
from cbm_sim.units import DAYS_PER_YEAR, YI
from cbm_sim.wells import typecurves
from cbm_sim.wells.population import HORIZONTAL, VERTICAL, WELL_TYPES, WellPopulation

PRODUCTION_2021_M3 = 42.67 * YI
"""Plan ch1 §2 二: "2021年，全市煤层气年产量达42.67亿立方米"."""
CAPACITY_BUILT_M3_PER_YEAR = 91.77 * YI
"""Plan ch1 §2 二: "累计形成煤层气产能达到 91.77亿立方米"."""
WELLS_VERTICAL_2021 = 9005
"""Plan ch1 §2 二: 直井 9005口."""
WELLS_HORIZONTAL_2021 = 1590
"""Plan ch1 §2 二: 水平井 1590口."""
PILOT_WELLS_2003 = 30
"""Plan ch1 §2 二: 2003年的寺河煤矿后备区的 30口开发井先导性 … 试验."""
UNDERDEVELOPED_BLOCKS = ("mabi", "mabi_east", "shizhuang_south", "shizhuang_north")
"""Plan ch1 §3 一: these blocks give about 10% of annual output."""

EPOCH_YEAR = 2021.0
"""Day 0 is 2021-01-01."""
DAYS_2021 = 365.0

# Logistic shapes of the cumulative well counts: (start year, centre, scale in years).
# assumption: shape only (the plan gives the start, 2003, fast growth from 2005, and the end counts)
_VERTICAL_SHAPE = (2003.0, 2011.0, 2.0)
_HORIZONTAL_SHAPE = (2006.0, 2015.0, 2.0)


def _logistic(
    year: npt.NDArray[np.float64], centre: float, scale: float
) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(year - centre) / scale))
    return out


def online_years(n: int, shape: tuple[float, float, float], n_first_year: int = 0) -> np.ndarray:
    """Online dates (decimal years) of ``n`` wells drilled along a rescaled logistic.

    The cumulative count is 0 at the start year, ``n_first_year`` one year later (linear in
    between) and ``n`` at the end of 2021, logistic-shaped after the first year; well ``k``
    comes online where the count reaches ``k + 0.5``.
    """
    start, centre, scale = shape
    grid = np.linspace(start + 1.0, EPOCH_YEAR, 4001)
    f = _logistic(grid, centre, scale)
    cum = n_first_year + (n - n_first_year) * (f - f[0]) / (f[-1] - f[0])
    k = np.arange(n) + 0.5
    first = k < n_first_year
    years = np.interp(k, cum, grid)
    years[first] = start + k[first] / max(n_first_year, 1)
    return np.asarray(years, dtype=np.float64)


def _block_assignment(n: int, rng: np.random.Generator) -> np.ndarray:
    """Block index per well: largest-remainder counts from the shares, in random order."""
    shares = np.array([b.share_of_2021_wells for b in load_blocks()])
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts))[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _drill(pop: WellPopulation, rng: np.random.Generator, qi_scale: float) -> None:
    blocks = load_blocks()
    classes = np.array([b.klass for b in blocks])
    for well_type, n, shape, pilot in (
        (VERTICAL, WELLS_VERTICAL_2021, _VERTICAL_SHAPE, PILOT_WELLS_2003),
        (HORIZONTAL, WELLS_HORIZONTAL_2021, _HORIZONTAL_SHAPE, 0),
    ):
        days = np.floor((online_years(n, shape, pilot) - EPOCH_YEAR) * DAYS_PER_YEAR)
        blk = _block_assignment(n, rng)
        # one cohort per block class: a handful of vectorised calls, not one per well
        for cls in np.unique(classes):
            sel = np.flatnonzero(classes[blk] == cls)
            curve = typecurves.typecurve(WELL_TYPES[well_type], str(cls))
            params = curve.sample(sel.size, rng, qi_scale)
            pop.add_cohort(blk[sel], well_type, days[sel], **params)  # type: ignore[arg-type]


def production_2021_m3(pop: WellPopulation) -> float:
    """Simulated surface production of calendar 2021 [m³] (exact daily-volume integral)."""
    return float(pop.daily_volume(0.0, DAYS_2021).sum())


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _scaled(pop: WellPopulation, scale: float) -> WellPopulation:
    out = WellPopulation(pop.n_blocks, block_ids=pop.block_ids)
    out.add_cohort(
        pop.block,
        pop.well_type,
        pop.online_day,
        pop.qi * scale,
        pop.di,
        pop.b,
        pop.d_term,
        pop.t_incline,
        pop.q_start * scale,
    )
    return out


def calibrate_scale(pop: WellPopulation, target_m3: float = PRODUCTION_2021_M3) -> float:
    """Scale factor on peak and start rates that makes 2021 production equal ``target_m3``.

    Solved with ``scipy.optimize.brentq`` on :math:`f(s) = P_{2021}(s) - P^*` over
    :math:`s \\in [g/2, 2g]` with :math:`g = P^*/P(1)` (P is linear in s here, so this is a
    check as much as a solve; brentq stays correct if a non-proportional term is added).
    """
    base = production_2021_m3(pop)
    if not base > 0:
        raise ValueError(f"population produces nothing in 2021 (got {base!r} m3)")

    def f(s: float) -> float:
        return production_2021_m3(_scaled(pop, s)) - target_m3

    guess = target_m3 / base  # exact if P is proportional to s; brentq checks and refines
    return float(brentq(f, 0.5 * guess, 2.0 * guess, xtol=1e-12, rtol=1e-12))


def build_2021_population(
    seed: int | np.random.Generator,
    calibrate: bool = True,
    target_m3: float = PRODUCTION_2021_M3,
) -> WellPopulation:
    """The 10,595 wells of end-2021, calibrated to 42.67 亿m³ in 2021 (plan ch1 §2 二).

    Parameters
    ----------
    seed
        Seed or Generator for the per-well scatter and the block order.
    calibrate
        Scale peak rates so 2021 production matches the plan (default); ``False`` keeps the
        raw type curves.
    target_m3
        2021 production the undisturbed population is scaled to [m³] (the simulation raises
        it by the expected workover downtime so that *simulated* 2021 output is the plan's).
    """
    pop = _raw_population(_rng(seed))
    if not calibrate:
        return pop
    return _scaled(pop, calibrate_scale(pop, target_m3))


def _raw_population(rng: np.random.Generator) -> WellPopulation:
    blocks = load_blocks()
    pop = WellPopulation(len(blocks), block_ids=tuple(b.id for b in blocks))
    _drill(pop, rng, 1.0)
    return pop


@dataclass(frozen=True)
class CalibrationReport:
    """How the calibrated 2021 population compares with the plan's figures."""

    scale: float
    production_2021_m3: float
    target_2021_m3: float
    capacity_m3_per_year: float
    capacity_target_m3_per_year: float
    wells_vertical: int
    wells_horizontal: int
    underdeveloped_share_2021: float

    @property
    def production_rel_error(self) -> float:
        """(simulated − plan) / plan for 2021 production."""
        return self.production_2021_m3 / self.target_2021_m3 - 1.0

    @property
    def capacity_ratio(self) -> float:
        """Nameplate capacity of the population / the plan's 91.77 亿m³."""
        return self.capacity_m3_per_year / self.capacity_target_m3_per_year


def calibration_report(seed: int | np.random.Generator = 0) -> CalibrationReport:
    """Build and calibrate the 2021 population and compare it with the plan."""
    raw = _raw_population(_rng(seed))
    scale = calibrate_scale(raw)
    pop = _scaled(raw, scale)
    vol = pop.daily_volume(0.0, DAYS_2021)
    ids = np.array(pop.block_ids)
    under = np.isin(ids[pop.block], UNDERDEVELOPED_BLOCKS)
    return CalibrationReport(
        scale=scale,
        production_2021_m3=float(vol.sum()),
        target_2021_m3=PRODUCTION_2021_M3,
        capacity_m3_per_year=pop.peak_capacity_m3_per_year(),
        capacity_target_m3_per_year=CAPACITY_BUILT_M3_PER_YEAR,
        wells_vertical=int(np.sum(pop.well_type == VERTICAL)),
        wells_horizontal=int(np.sum(pop.well_type == HORIZONTAL)),
        underdeveloped_share_2021=float(vol[under].sum() / vol.sum()),
    )
