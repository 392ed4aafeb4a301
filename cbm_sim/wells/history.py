r"""The well history to the end of 2021: drilling by year, and the calibrated 2021 population.

Plan facts (晋市政发〔2022〕28号):

* ch1 §2 一/二: scale surface development began in 2003 (30 pilot wells at 寺河), fast growth
  since 2005.
* ch1 §2 二: by the end of 2021, 10,595 wells drilled (9,005 vertical, 1,590 horizontal),
  wells drilled in 2021 included; 2021 production 42.67 亿m³; cumulative capacity built
  ("累计形成煤层气产能") 91.77 亿m³.
* ch2: "2020年和2021年 … 产量、增量均排名全省第一": output grew in 2020 and in 2021.

Drilling history (the shape is calibrated, :mod:`cbm_sim.wells.calibration`): the 30 pilot
vertical wells in 2003; from 2004 on, wells drilled in year :math:`y` are proportional to

.. math::

    w(y) = \sigma\!\left(\frac{y + \tfrac12 - c}{s}\right) e^{g\,(y - 2021)},

a logistic ramp (centre :math:`c`, scale :math:`s`) times a trend :math:`g` per year,
normalised so that the counts are exactly 9,005 vertical and 1,590 horizontal by the end of
2021. Horizontal wells start in 2006 (assumption: Green Dragon's first pinnate horizontal well
at 柿庄南 produced 7,000 m³/d in 2006, Green Dragon Gas RNS 2006) with their own centre. Within a
year wells are spread evenly (deterministic quantiles); a well comes online
:data:`COMPLETION_LAG_DAYS` after it is drilled, so wells drilled late in 2021 come online in
early 2022. Wells are assigned to blocks by ``share_of_2021_wells`` (blocks.yaml, an
assumption) in a random order and draw their parameters from the calibrated type curves
(:class:`cbm_sim.wells.typecurves.CurveAdjustment`, packaged in ``data/calibration.yaml``).

Exact 2021 fit: the run's population is built with the packaged calibration, then one factor
on every peak and start rate (production is linear in it) makes the seed's simulated 2021
volume exactly the target; the same factor applies to the run's new wells
(:func:`cbm_sim.wells.stepping.new_well_sampler`).

Capacity built ("累计形成煤层气产能"), the definition used here: the sum, over every well
drilled, of its *design* peak rate (the calibrated type-curve draw, booked when the well is
built whether or not it later produces gas) × 365.25 days. The plan's 91.77 亿m³ against 42.67
produced is a 产能到位率 of 46.5 %, consistent with the national "产能转化率不足50%" (杨陆武 et
al., 煤炭学报 2021(8)); in this definition the gap comes from wells that never produce, the
decline of old wells from their peaks, and young wells still dewatering. Why this
definition: capacity is reported as the annualised design output of wells put on stream
(华新燃气 2022: 114 new wells on stream, capacity +~2 亿m³/yr; People's Daily Online
2022-12-28, http://en.people.cn/n3/2022/1228/c90000-10189249.html), and 产能到位率 compares realised
output with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from cbm_sim import bounds
from cbm_sim.plan.blocks import load_blocks
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.units import DAYS_PER_YEAR, YI
from cbm_sim.wells import typecurves
from cbm_sim.wells.population import HORIZONTAL, VERTICAL, WELL_TYPES, WellPopulation
from cbm_sim.wells.typecurves import CurveAdjustment

FloatArray = npt.NDArray[np.float64]

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

FIRST_YEAR = 2003
"""Plan ch1 §2 二: the pilot of 2003."""
FIRST_HORIZONTAL_YEAR = 2006
"""assumption: Green Dragon's first pinnate horizontal well at 柿庄南, 7,000 m³/d in 2006
(Green Dragon Gas RNS, 2006): no horizontal wells before 2006."""
LAST_YEAR = 2021
"""Plan ch1 §2 二: wells drilled by the end of 2021."""
COMPLETION_LAG_DAYS = 45.0
"""assumption: drilling to online = the scenario defaults, 15 days of drilling (vertical) and
30 days of completion (cbm_sim.scenario.model.Drilling)."""
bounds.register(
    bounds.Bound(
        "history_centre_year",
        FIRST_YEAR,
        2030.0,
        "year",
        "centre of a logistic drilling ramp; from the 2003 pilot (ch1 §2 二) to the plan's end",
    )
)
bounds.register(
    bounds.Bound(
        "history_trend_per_year",
        -1.0,
        1.0,
        "1/yr",
        "growth of yearly drilling after the ramp; assumption: ±100 %/yr bounds any history",
    )
)
bounds.register(
    bounds.Bound(
        "history_scale_years",
        0.1,
        10.0,
        "yr",
        "width of the logistic drilling ramp; assumption: from a step to a decade-long ramp",
    )
)

EPOCH = dt.date(2021, 1, 1)
"""Day 0 of the simulation."""
DAYS_2021 = 365.0


def year_start_day(year: int | float) -> float:
    """Day (since 2021-01-01) of 1 January of ``year`` [day]."""
    return float((dt.date(int(year), 1, 1) - EPOCH).days)


@dataclass(frozen=True)
class HistoryShape:
    """Shape of the drilling history (see the module docstring); fitted by the calibration.

    Attributes
    ----------
    centre_vertical_year, centre_horizontal_year
        Centres of the logistic ramps [decimal year].
    trend_per_year
        Growth (or fall, if negative) of the yearly drilling after the ramp [1/yr].
    scale_years
        Width of the logistic ramp [yr]; assumption: 1.5 years, "fast growth from 2005"
        (ch1 §2 一) reads as a ramp over a few years, not decades.
    """

    centre_vertical_year: float
    centre_horizontal_year: float
    trend_per_year: float
    scale_years: float = 1.5

    def __post_init__(self) -> None:
        bounds.check(
            "history_centre_year", [self.centre_vertical_year, self.centre_horizontal_year]
        )
        bounds.check("history_trend_per_year", self.trend_per_year)
        bounds.check("history_scale_years", self.scale_years)


@dataclass(frozen=True)
class Calibration:
    """The calibrated type-curve adjustment and drilling-history shape."""

    adjustment: CurveAdjustment
    shape: HistoryShape
    reserves_m3: tuple[tuple[str, float], ...] = ()
    """Proved reserves of the blocks the plan does not itemise, allocated by this
    calibration's wells (``calibration.unitemised_allocation_m3``) where they differ from
    ``blocks.yaml`` (which holds the shipped calibration's): a vintage carries its own."""

    def proved_reserves_m3(self, block_id: str, packaged: float | None) -> float | None:
        """A block's proved reserves under this calibration [m³] (``packaged``: blocks.yaml's)."""
        return dict(self.reserves_m3).get(block_id, packaged)


CALIBRATION_FILE = "calibration.yaml"
"""The shipped calibration: fitted to every row of ``history.yaml`` (all that is known today)."""


@cache
def packaged_calibration(name: str = CALIBRATION_FILE) -> Calibration:
    """A calibration shipped in ``cbm_sim/data`` (fitted by ``cbm-sim calibrate``; every
    value there says so): ``calibration.yaml``, or a vintage such as
    ``calibration-2021.yaml`` (only the rows known by 2021-12-31)."""
    doc = read_packaged(name)["parameters"]

    def v(name: str) -> float:
        return float(doc[name]["value"])

    adj = CurveAdjustment(
        levels=tuple((c, v(f"level_{c}")) for c in typecurves.BLOCK_CLASSES),
        horizontal_scale=v("horizontal_scale"),
        decline_scale=v("decline_scale"),
        incline_scale=v("incline_scale"),
        producing_shares=tuple((c, v(f"producing_share_{c}")) for c in typecurves.BLOCK_CLASSES),
        block_levels=tuple(
            (name.removeprefix("block_level_"), v(name))
            for name in doc
            if name.startswith("block_level_")
        ),
        block_producing_shares=typecurves.block_producing_shares(),
        # absent from a calibration fitted without a plateau: none
        plateau_days=tuple(
            (t, v(f"plateau_days_{t}")) for t in WELL_TYPES if f"plateau_days_{t}" in doc
        ),
    )
    shape = HistoryShape(
        centre_vertical_year=v("centre_vertical_year"),
        centre_horizontal_year=v("centre_horizontal_year"),
        trend_per_year=v("trend_per_year"),
    )
    reserves = read_packaged(name).get("reserves_m3") or {}
    return Calibration(
        adjustment=adj,
        shape=shape,
        reserves_m3=tuple((str(b), float(m3)) for b, m3 in reserves.items()),
    )


def annual_wells(shape: HistoryShape) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Wells drilled per calendar year, 2003 … 2021: ``(years, vertical, horizontal)``.

    Counts are real numbers (the deterministic placement takes quantiles of their
    cumulative); they sum to exactly 9,005 vertical and 1,590 horizontal wells, with the 30
    pilot vertical wells in 2003 and no horizontal well before 2006.
    """
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    out = []
    for centre, first, total, pilot in (
        (shape.centre_vertical_year, FIRST_YEAR + 1, WELLS_VERTICAL_2021, PILOT_WELLS_2003),
        (shape.centre_horizontal_year, FIRST_HORIZONTAL_YEAR, WELLS_HORIZONTAL_2021, 0),
    ):
        x = (years + 0.5 - centre) / shape.scale_years
        w = 1.0 / (1.0 + np.exp(-x)) * np.exp(shape.trend_per_year * (years - LAST_YEAR))
        w[years < first] = 0.0
        counts = w / w.sum() * (total - pilot)
        counts[0] += pilot
        out.append(counts)
    return years, out[0], out[1]


def drilling_days(n: int, years: npt.NDArray[np.int64], counts: FloatArray) -> FloatArray:
    """Drilling days (since 2021-01-01) of ``n`` wells drilled ``counts`` per year, spread
    evenly within each year: well ``k`` is drilled where the cumulative count reaches
    ``k + 0.5`` [day]."""
    edges = np.array([year_start_day(y) for y in (*years, years[-1] + 1)])
    cum = np.concatenate(([0.0], np.cumsum(counts)))
    days: npt.NDArray[np.float64] = np.interp(np.arange(n) + 0.5, cum, edges)
    return days


@dataclass(frozen=True)
class HistoryDraws:
    """The random draws of a history, fixed so that the fit sees a smooth objective.

    One entry per well, vertical wells first (in drilling order), then horizontal ones.
    """

    well_type: npt.NDArray[np.int8]
    block: npt.NDArray[np.int64]
    z_qi: FloatArray
    z_incline: FloatArray
    u_producing: FloatArray

    @classmethod
    def draw(cls, rng: np.random.Generator) -> HistoryDraws:
        """Draw blocks (largest-remainder counts of the shares, in random order) and the
        per-well standard normals and uniforms."""
        types, blocks = [], []
        for well_type, n in ((VERTICAL, WELLS_VERTICAL_2021), (HORIZONTAL, WELLS_HORIZONTAL_2021)):
            types.append(np.full(n, well_type, dtype=np.int8))
            blocks.append(_block_assignment(n, rng))
        n = WELLS_VERTICAL_2021 + WELLS_HORIZONTAL_2021
        z = rng.standard_normal((2, n))
        return cls(
            well_type=np.concatenate(types),
            block=np.concatenate(blocks),
            z_qi=z[0],
            z_incline=z[1],
            u_producing=rng.random(n),
        )


def _block_assignment(n: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """Block index per well: largest-remainder counts from the shares, in random order."""
    shares = np.array([b.share_of_2021_wells for b in load_blocks()])
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts))[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


@dataclass
class History:
    """A drilled history: the population (wells online by day), plus what the plan counts."""

    pop: WellPopulation
    drilled_day: FloatArray
    """Day each well was drilled [day since 2021-01-01] (online ``COMPLETION_LAG_DAYS`` later)."""
    design_qi: FloatArray
    """Design peak rate of each well [m³/d] (what capacity is booked at)."""
    rate_scale: float = 1.0
    """Factor applied to every peak rate for the exact 2021 fit."""

    def capacity_m3_per_year(self, by_year: int = LAST_YEAR) -> float:
        """Capacity built by wells drilled by the end of ``by_year`` [m³/yr] (see the module
        docstring for the definition)."""
        drilled = self.drilled_day < year_start_day(by_year + 1)
        return float(self.design_qi[drilled].sum() * DAYS_PER_YEAR)

    def wells_drilled(self, by_year: int = LAST_YEAR) -> int:
        """Wells drilled by the end of ``by_year``."""
        return int(np.count_nonzero(self.drilled_day < year_start_day(by_year + 1)))

    def production_m3(self, year: int) -> float:
        """Surface production of calendar ``year`` [m³] (exact cumulative differences)."""
        return float(self.production_by_block_m3(year).sum())

    def production_by_block_m3(self, year: int) -> FloatArray:
        """Surface production of calendar ``year`` per block [m³]."""
        return self.pop.daily_volume_by_block(year_start_day(year), year_start_day(year + 1))


def block_producing_shares(adjustment: CurveAdjustment) -> FloatArray:
    """Producing share of every block of ``blocks.yaml`` (in its order) under an adjustment
    [-]: the block's own cited share, else the share of the class whose curve its wells use
    (an exploration block uses the proved curve, typecurves.yaml's alias)."""
    return np.array(
        [
            adjustment.producing_share_of(
                b.id, typecurves.typecurve(WELL_TYPES[VERTICAL], b.klass).block_class
            )
            for b in load_blocks()
        ]
    )


def build_history(
    draws: HistoryDraws, calibration: Calibration, rate_scale: float = 1.0
) -> History:
    """The history of ``draws`` under ``calibration`` (no fitting): one cohort per well type
    and block class, a handful of vectorised calls."""
    blocks = load_blocks()
    classes = np.array([b.klass for b in blocks])
    pop = WellPopulation(len(blocks), block_ids=tuple(b.id for b in blocks))
    pop.reserve(draws.well_type.size)  # every drawn well, in one buffer per column
    adj = calibration.adjustment
    block_scale = np.array([adj.block_level(b.id) for b in blocks]) * rate_scale
    block_share = block_producing_shares(adj)
    years, v_counts, h_counts = annual_wells(calibration.shape)
    drilled_parts, design_parts = [], []
    for well_type, counts in ((VERTICAL, v_counts), (HORIZONTAL, h_counts)):
        idx = np.flatnonzero(draws.well_type == well_type)
        days = drilling_days(idx.size, years, counts)
        blk = draws.block[idx]
        for cls in np.unique(classes):
            sel = np.flatnonzero(classes[blk] == cls)
            if sel.size == 0:
                continue
            curve = typecurves.typecurve(WELL_TYPES[well_type], str(cls))
            w = idx[sel]
            params, design = curve.from_draws(
                draws.z_qi[w],
                draws.z_incline[w],
                draws.u_producing[w],
                adj,
                block_scale[blk[sel]],
                block_share[blk[sel]],
            )
            pop.add_cohort(
                blk[sel],
                well_type,
                days[sel] + COMPLETION_LAG_DAYS,
                **params,  # type: ignore[arg-type]  # the seven decline arrays
            )
            drilled_parts.append(days[sel])
            design_parts.append(design)
    return History(
        pop=pop,
        drilled_day=np.concatenate(drilled_parts),
        design_qi=np.concatenate(design_parts),
        rate_scale=rate_scale,
    )


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def calibrated_history(
    seed: int | np.random.Generator,
    target_m3: float = PRODUCTION_2021_M3,
    calibration: Calibration | None = None,
) -> History:
    """The history of one seed with the packaged calibration, its rates scaled so that
    simulated 2021 production equals ``target_m3`` exactly.

    Raises
    ------
    ValueError
        If the population produces nothing in 2021 (no factor can fit it).
    """
    cal = calibration if calibration is not None else packaged_calibration()
    draws = HistoryDraws.draw(_rng(seed))
    raw = build_history(draws, cal)
    base = raw.production_m3(2021)
    if not base > 0:
        raise ValueError(f"population produces nothing in 2021 (got {base!r} m3)")
    # production is linear in the factor on qi and q_start (both enter the cumulative
    # linearly; the other parameters do not depend on it), so the ratio is exact
    return build_history(draws, cal, target_m3 / base)


def build_2021_population(
    seed: int | np.random.Generator,
    calibrate: bool = True,
    target_m3: float = PRODUCTION_2021_M3,
) -> WellPopulation:
    """The 10,595 wells drilled by the end of 2021, calibrated (plan ch1 §2 二).

    Parameters
    ----------
    seed
        Seed or Generator for the per-well scatter and the block order.
    calibrate
        Scale peak rates so that 2021 production is ``target_m3`` (default); ``False`` keeps
        the packaged calibration without the exact per-seed factor.
    target_m3
        2021 production the undisturbed population is scaled to [m³] (the simulation raises
        it by the expected workover downtime so that *simulated* 2021 output is the plan's).
    """
    if calibrate:
        return calibrated_history(seed, target_m3).pop
    return build_history(HistoryDraws.draw(_rng(seed)), packaged_calibration()).pop
