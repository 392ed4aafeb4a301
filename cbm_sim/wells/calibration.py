r"""Calibration of the well history to every reported figure at once, and the backtest table.

The reported figures are packaged in ``cbm_sim/data/history.yaml`` (each with its source,
unit, kind of comparison, tolerance and weight). The fitted parameters are

=========================  =====================================================  ============
parameter                  what it multiplies / sets                              bounds
=========================  =====================================================  ============
``level_producing``        peak rates of wells in producing blocks (开发区)         0.3 – 3
``level_ramping``          peak rates in ramping blocks (建产区)                    0.3 – 3
``level_proved``           peak rates in proved and exploration blocks             0.3 – 3
``horizontal_scale``       peak rates of horizontal wells                          0.2 – 3
``decline_scale``          initial nominal decline (terminal as packaged)          0.2 – 3
``incline_scale``          median dewatering (incline) period                      0.5 – 1.35
``producing_share_<cls>``  share of drilled wells that ever produce gas, per       0.36 – 1
                           block class (producing, ramping, proved)
``centre_vertical_year``   centre of the vertical drilling ramp                    2005 – 2016
``centre_horizontal_year`` centre of the horizontal drilling ramp                  2008 – 2020
``trend_per_year``         growth of yearly drilling after the ramp                −0.3 – 0.3
``block_level_<block>``    peak rates of 潘庄, 马必, 成庄, 柿庄南, 郑庄, 潘河 over   0.2 – 5
                           their class
``plateau_days_<type>``    plateau at the peak rate before the decline, per well   0 – 1095 d
                           type (vertical, horizontal), every block class
=========================  =====================================================  ============

(bounds: assumption, wide enough not to bind, except the producing shares ≥ 0.36, the share
of drilled wells producing gas at 柿庄南, an under-developed block (history.yaml),
``incline_scale`` ≤ 1.35, which keeps the ramping blocks' median dewatering period within the
"months to ~2 years" of typecurves.yaml: 540 d × 1.35 = 729 d, and the plateau ≤ 1095 d,
:data:`PLATEAU_MAX_DAYS`.)

Objective (weighted least squares, ``scipy.optimize.least_squares``, trust-region reflective
within the bounds):

.. math::

    J(\theta) = \sum_k w_k\, r_k(\theta)^2 + \lambda \sum_{j \in M} \ln^2 \theta_j,

with :math:`r_k` the residual of target :math:`k` in units of its tolerance (one-sided for
bounds; history.yaml), :math:`w_k` its weight, and a small ridge (:math:`\lambda` =
:data:`RIDGE`, assumption) pulling the multipliers :math:`M` towards 1 — the sourced type
curves — where the targets do not pin them down. The history's random draws are fixed
(common random numbers, seed :data:`FIT_SEED`), and production is evaluated in expectation
over the producing share (every well's volume × the share), so that :math:`J` is smooth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from cbm_sim.plan.blocks import load_blocks
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.units import YI
from cbm_sim.wells import history, typecurves
from cbm_sim.wells.history import Calibration, History, HistoryDraws, HistoryShape
from cbm_sim.wells.population import HORIZONTAL, VERTICAL, WELL_TYPES
from cbm_sim.wells.typecurves import CurveAdjustment

FIT_SEED = 0
"""assumption: any fixed seed; the fit's draws (10,595 wells) average out the seed."""
RIDGE = 0.05
"""assumption: weight of the pull of each multiplier's log towards 0 (a 20 % change costs
0.05 × 0.18² ≈ 0.002, far below a target's residual of one tolerance at weight ≥ 0.5)."""

KINDS = ("equal", "at_least", "at_most")
GROUP_METRICS = ("blocks_production_1e8_m3", "blocks_cumulative_1e8_m3")
"""Metrics of a group of blocks (a target's ``blocks``)."""


PLATEAU_MAX_DAYS = 1095.0
"""Upper bound of the fitted plateaus [day]; assumption: 3 years, just above the one
plateau reported nearby, the Zhengzhuang multilateral horizontal well LDP-22H's ~80,000
m³/d held over 865 days (探矿工程 2023, tkgc.ijournals.cn article 20230073) — an
exceptional well, so a ceiling for the average well, not an estimate. The fit rides it
(README, "Calibration and backtest"): widened to 1825 d, the vertical plateau goes to 1825 d
too, so the plateau is bounded by this assumption, not pinned by the targets."""


@dataclass(frozen=True)
class Parameter:
    """One fitted parameter: name, starting value, bounds and whether it is a multiplier."""

    name: str
    start: float
    lo: float
    hi: float
    multiplier: bool


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("level_producing", 1.0, 0.3, 3.0, True),
    Parameter("level_ramping", 1.0, 0.3, 3.0, True),
    Parameter("level_proved", 1.0, 0.3, 3.0, True),
    Parameter("horizontal_scale", 1.0, 0.2, 3.0, True),
    Parameter("decline_scale", 1.0, 0.2, 3.0, True),
    Parameter("incline_scale", 1.0, 0.5, 1.35, True),
    Parameter("producing_share_producing", 0.7, 0.36, 1.0, False),
    Parameter("producing_share_ramping", 0.7, 0.36, 1.0, False),
    Parameter("producing_share_proved", 0.7, 0.36, 1.0, False),
    Parameter("centre_vertical_year", 2010.0, 2005.0, 2016.0, False),
    Parameter("centre_horizontal_year", 2015.0, 2008.0, 2020.0, False),
    Parameter("trend_per_year", 0.0, -0.3, 0.3, False),
    Parameter("block_level_panzhuang", 1.0, 0.2, 5.0, True),
    Parameter("block_level_mabi", 1.0, 0.2, 5.0, True),
    Parameter("block_level_chengzhuang", 1.0, 0.2, 5.0, True),
    Parameter("block_level_shizhuang_south", 1.0, 0.2, 5.0, True),
    Parameter("block_level_zhengzhuang", 1.0, 0.2, 5.0, True),
    Parameter("block_level_panhe", 1.0, 0.2, 5.0, True),
    Parameter("plateau_days_vertical", 0.0, 0.0, PLATEAU_MAX_DAYS, False),
    Parameter("plateau_days_horizontal", 0.0, 0.0, PLATEAU_MAX_DAYS, False),
)
"""The fitted parameters (see the module docstring)."""
BLOCK_LEVELS = tuple(
    p.name.removeprefix("block_level_") for p in PARAMETERS if p.name.startswith("block_level_")
)
"""Blocks with their own fitted level (a reported production series each, history.yaml)."""


@dataclass(frozen=True, kw_only=True)
class Reported:
    """What every row of ``data/history.yaml`` states: a reported figure, the quantity the
    model computes for it (``metric``), how it is compared, its source and its date."""

    id: str
    metric: str
    year: int
    value: float
    unit: str
    kind: str
    tolerance: float
    source: str
    block: str | None = None
    """Block id for block-level metrics (``block_production_1e8_m3``)."""
    blocks: tuple[str, ...] = ()
    """Block ids for the metrics of a group of blocks (``blocks_production_1e8_m3``,
    ``blocks_cumulative_1e8_m3``): an operator's field that spans several blocks."""
    until: dt.date | None = None
    """End date (exclusive) of a cumulative metric (``blocks_cumulative_1e8_m3``)."""
    known: dt.date = dt.date(1900, 1, 1)
    """The date the figure became public (its source's date; ``history.yaml``)."""

    @property
    def group(self) -> tuple[str, ...]:
        """The block ids the figure sums (one for a block metric, none for the city)."""
        return (self.block,) if self.block is not None else self.blocks


@dataclass(frozen=True, kw_only=True)
class Target(Reported):
    """One calibration target of ``data/history.yaml`` (its ``targets`` section)."""

    weight: float
    vantage: bool = False
    """The plan's own statement of the end of 2021 (its baseline): the vantage point every
    vintage shares, whatever its date (see :func:`as_of`)."""

    def known_by(self, date: dt.date) -> bool:
        """Whether the figure was public on ``date`` (or is the plan's baseline)."""
        return self.vantage or self.known <= date

    def residual(self, simulated: float) -> float:
        """Residual in units of the tolerance (0 inside a one-sided bound)."""
        d = simulated - self.value
        if self.kind == "at_least":
            d = min(d, 0.0)
        elif self.kind == "at_most":
            d = max(d, 0.0)
        return d / self.tolerance

    def met(self, simulated: float) -> bool:
        """Whether the simulated value is within the tolerance (or the bound)."""
        if not np.isfinite(simulated):
            return False
        if self.kind == "at_least":
            return simulated >= self.value
        if self.kind == "at_most":
            return simulated <= self.value
        return abs(simulated - self.value) <= self.tolerance


def load_targets(doc: Mapping[str, Any] | None = None) -> tuple[Target, ...]:
    """The targets of ``data/history.yaml`` (or of ``doc``), validated.

    Raises
    ------
    ValueError
        If a row has an unknown kind, a non-positive tolerance, a negative weight or no
        source (the message names the row).
    """
    raw = doc if doc is not None else read_packaged("history.yaml")
    out = []
    for row in raw["targets"]:
        t = Target(
            **row_fields(row),
            weight=float(row["weight"]),
            known=_known_date(row),
            vantage=bool(row.get("vantage", False)),
        )
        if t.kind not in KINDS:
            raise ValueError(f"target {t.id}: kind must be one of {KINDS}; got {t.kind!r}")
        if not t.tolerance > 0:
            raise ValueError(f"target {t.id}: tolerance must be > 0; got {t.tolerance!r}")
        if t.weight < 0:
            raise ValueError(f"target {t.id}: weight must be >= 0; got {t.weight!r}")
        if not t.source.strip():
            raise ValueError(f"target {t.id}: missing source")
        known = {b.id for b in load_blocks()}
        for b in (t.block, *t.blocks):
            if b is not None and b not in known:
                raise ValueError(f"target {t.id}: unknown block {b!r}")
        if t.metric in GROUP_METRICS and not t.blocks:
            raise ValueError(f"target {t.id}: metric {t.metric} needs a list of blocks")
        if t.metric == "blocks_cumulative_1e8_m3" and t.until is None:
            raise ValueError(f"target {t.id}: metric {t.metric} needs an end date (until)")
        out.append(t)
    return tuple(out)


def row_date(row: Mapping[str, Any], key: str, what: str = "target") -> dt.date | None:
    """The date ``row[key]`` of a row of ``history.yaml`` (``None`` when absent).

    Raises
    ------
    ValueError
        If it is not an ISO date (the message names the row and the key).
    """
    raw = row.get(key)
    if raw is None:
        return None
    try:
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ValueError(f"{what} {row.get('id')}: {key} must be a date, got {raw!r}") from None


def row_fields(row: Mapping[str, Any], what: str = "target") -> dict[str, Any]:
    """The fields every row of ``history.yaml`` has (targets and the post-2021 record),
    typed: ``id, metric, year, value, unit, kind, tolerance, source, block, blocks, until``.

    Raises
    ------
    ValueError
        If ``until`` is not an ISO date (the message names the row).
    """
    return {
        "id": str(row["id"]),
        "metric": str(row["metric"]),
        "year": int(row["year"]),
        "value": float(row["value"]),
        "unit": str(row["unit"]),
        "kind": str(row["kind"]),
        "tolerance": float(row["tolerance"]),
        "source": str(row.get("source", "")),
        "block": None if row.get("block") is None else str(row["block"]),
        "blocks": tuple(str(b) for b in row.get("blocks") or ()),
        "until": row_date(row, "until", what),
    }


def _known_date(row: Mapping[str, Any]) -> dt.date:
    """The ``known`` date of a row of ``history.yaml`` (required: the data's vintage)."""
    known = row_date(row, "known")
    if known is None:
        raise ValueError(f"target {row.get('id')}: missing known (the date it became public)")
    return known


VINTAGE_2021 = dt.date(2021, 12, 31)
"""The hindcast's vintage: what was public by the end of 2021 (issue 23), with the plan's own
statement of that date (its baseline)."""


def as_of(targets: Sequence[Target], date: dt.date) -> tuple[Target, ...]:
    """The targets of a vintage: those known by ``date`` keep their weight, the others are
    reported but not fitted (weight 0).

    The plan's own statements of the end of 2021 (``vantage: true``: its 2021 production,
    wells, capacity, investment and the reserves-based bounds) are in every vintage: they
    are the baseline every run starts from, published with the plan (2022-09-30); a vintage
    asks what was known *besides* the plan's baseline.
    """
    return tuple(t if t.known_by(date) else replace(t, weight=0.0) for t in targets)


def calibration_from_vector(x: Sequence[float]) -> Calibration:
    """The :class:`Calibration` of a parameter vector in :data:`PARAMETERS` order."""
    v = dict(zip((p.name for p in PARAMETERS), (float(a) for a in x), strict=True))
    adj = CurveAdjustment(
        levels=tuple((c, v[f"level_{c}"]) for c in typecurves.BLOCK_CLASSES),
        horizontal_scale=v["horizontal_scale"],
        decline_scale=v["decline_scale"],
        incline_scale=v["incline_scale"],
        producing_shares=tuple((c, v[f"producing_share_{c}"]) for c in typecurves.BLOCK_CLASSES),
        block_levels=tuple(
            (name.removeprefix("block_level_"), v[name]) for name in v if name.startswith("block_")
        ),
        block_producing_shares=typecurves.block_producing_shares(),
        plateau_days=tuple(
            (t, v[f"plateau_days_{t}"]) for t in WELL_TYPES if f"plateau_days_{t}" in v
        ),
    )
    shape = HistoryShape(
        centre_vertical_year=v["centre_vertical_year"],
        centre_horizontal_year=v["centre_horizontal_year"],
        trend_per_year=v["trend_per_year"],
    )
    return Calibration(adjustment=adj, shape=shape)


def vector_from_calibration(cal: Calibration) -> npt.NDArray[np.float64]:
    """The parameter vector (:data:`PARAMETERS` order) of a calibration."""
    a, s = cal.adjustment, cal.shape
    v = {f"level_{c}": a.level(c) for c in typecurves.BLOCK_CLASSES}
    v |= {
        "horizontal_scale": a.horizontal_scale,
        "decline_scale": a.decline_scale,
        "incline_scale": a.incline_scale,
        "centre_vertical_year": s.centre_vertical_year,
        "centre_horizontal_year": s.centre_horizontal_year,
        "trend_per_year": s.trend_per_year,
    }
    v |= {f"producing_share_{c}": a.class_producing_share(c) for c in typecurves.BLOCK_CLASSES}
    v |= {f"block_level_{b}": a.block_level(b) for b in BLOCK_LEVELS}
    v |= {f"plateau_days_{t}": a.plateau_days_of(t) for t in WELL_TYPES}
    return np.array([v[p.name] for p in PARAMETERS])


def metrics(
    hist: History,
    targets: Sequence[Target],
    volume_factor: float | npt.NDArray[np.float64] = 1.0,
) -> dict[str, float]:
    """The simulated value of every target of a history, keyed by target id.

    ``volume_factor`` multiplies production, one value or one per block (the fit passes the
    producing shares and a history built with every well producing: production in
    expectation).
    """
    factor = np.broadcast_to(np.asarray(volume_factor, dtype=np.float64), (hist.pop.n_blocks,))
    ids = np.array(hist.pop.block_ids)
    under = np.isin(ids, history.UNDERDEVELOPED_BLOCKS)
    cache: dict[int, npt.NDArray[np.float64]] = {}

    def by_block(year: int) -> npt.NDArray[np.float64]:
        if year not in cache:
            cache[year] = hist.production_by_block_m3(year) * factor
        return cache[year]

    typ = hist.pop.well_type
    drilled = hist.drilled_day < history.year_start_day(history.LAST_YEAR + 1)
    out: dict[str, float] = {}
    for t in targets:
        y = t.year
        if t.metric == "production_1e8_m3":
            val = by_block(y).sum() / YI
        elif t.metric == "block_production_1e8_m3":
            val = by_block(y)[list(ids).index(t.block)] / YI
        elif t.metric == "blocks_production_1e8_m3":
            val = by_block(y)[np.isin(ids, t.blocks)].sum() / YI
        elif t.metric == "blocks_cumulative_1e8_m3":
            assert t.until is not None  # load_targets checks it
            end = float((t.until - history.EPOCH).days)
            vol = hist.pop.daily_volume_by_block(history.year_start_day(history.FIRST_YEAR), end)
            val = (vol * factor)[np.isin(ids, t.blocks)].sum() / YI
        elif t.metric == "recovered_share":
            val = _recovered_share(hist, t.block, factor)
        elif t.metric == "recovered_share_unitemised":
            val = _recovered_share(hist, None, factor)
        elif t.metric == "block_rate_m3_per_day":
            # mean daily rate of the block's producing wells drilled by end-2021, in year y
            k = list(ids).index(t.block)
            producing = np.count_nonzero((hist.pop.block == k) & (hist.pop.qi > 0))
            days = history.year_start_day(y + 1) - history.year_start_day(y)
            # in expectation (volume_factor = producing share, every well producing) the
            # producing wells are the share of all: divide it out again
            val = by_block(y)[k] / (producing * factor[k] * days) if producing else np.nan
        elif t.metric == "growth":
            val = by_block(y).sum() / by_block(y - 1).sum() - 1.0
        elif t.metric == "capacity_1e8_m3_per_year":
            val = hist.capacity_m3_per_year(y) / YI
        elif t.metric == "underdeveloped_share":
            val = by_block(y)[under].sum() / by_block(y).sum()
        elif t.metric == "hv_peak_ratio":
            val = hist.design_qi[typ == HORIZONTAL].mean() / hist.design_qi[typ == VERTICAL].mean()
        elif t.metric == "wells_drilled":
            val = float(hist.wells_drilled(y))
        elif t.metric == "wells_vertical":
            val = float(np.count_nonzero(drilled & (typ == VERTICAL)))
        elif t.metric == "wells_horizontal":
            val = float(np.count_nonzero(drilled & (typ == HORIZONTAL)))
        elif t.metric == "producing_share":
            val = float(np.count_nonzero(hist.pop.qi > 0) / len(hist.pop))
        elif t.metric == "investment_1e8_yuan":
            val = investment_yuan(hist, y) / YI
        else:
            raise ValueError(f"target {t.id}: unknown metric {t.metric!r}")
        out[t.id] = float(val)
    return out


def investment_yuan(hist: History, by_year: int = history.LAST_YEAR) -> float:
    """Cumulative capital spent on the history's wells drilled by the end of ``by_year`` [元].

    Every drilled well, producing or not, costs the well cost model's all-in capex per
    vertical-well equivalent (``valuation.yaml``, ``well_cost``: drilling, fracturing,
    completion and gathering), a horizontal well ``horizontal_well_equivalent`` of them — the
    same unit costs the valuation charges the plan's new wells. Prices are held constant
    over 2003–2021 (assumption: no sourced cost series for Jincheng wells was found; the
    cited costs date from c. 2015–2017).
    """
    from cbm_sim.scenario.valuation_inputs import cost_model, defaults

    drilled = hist.drilled_day < history.year_start_day(by_year + 1)
    typ = hist.pop.well_type[drilled]
    wells_eq = np.count_nonzero(typ == VERTICAL) + np.count_nonzero(typ == HORIZONTAL) * float(
        defaults().paths["horizontal_well_equivalent"]
    )
    return float(wells_eq * cost_model().capex_total_yuan_per_well_eq)


UNITEMISED_RESERVES_M3 = (3706.48 - 3470.13) * YI
"""Plan ch1 §2 一: 3706.48 亿m³ proved in all, 3470.13 of them itemised for 5 blocks."""


def _recovered_share(hist: History, block: str | None, factor: npt.NDArray[np.float64]) -> float:
    """EUR of a block's end-2021 wells / (proved reserves × default recovery factor);
    ``block=None``: the 10 blocks whose reserves the plan does not itemise, together
    (their reserves sum to :data:`UNITEMISED_RESERVES_M3` whatever the allocation)."""
    from cbm_sim.scenario.model import Resources
    from cbm_sim.wells import stepping

    blocks = load_blocks()
    if block is None:
        group = [b for b in blocks if b.proved_reserves_m3 and b.source.startswith("assumption")]
        reserves = UNITEMISED_RESERVES_M3
    else:
        group = [b for b in blocks if b.id == block]
        reserves = group[0].proved_reserves_m3 or 0.0
        if not reserves:
            raise ValueError(f"block {block!r} has no proved reserves")
    pop = hist.pop
    sel = np.isin(pop.block, [b.index for b in group])
    per_well = stepping.params_eur({k: getattr(pop, k)[sel] for k in stepping.PARAMS})
    eur = float(np.dot(per_well, factor[pop.block[sel]]))
    return eur / (reserves * Resources().recovery_factor)


def _expected_metrics(
    cal: Calibration, draws: HistoryDraws, targets: Sequence[Target]
) -> dict[str, float]:
    adj = cal.adjustment
    every = replace(cal, adjustment=replace(adj, producing_shares=(), block_producing_shares=()))
    hist = history.build_history(draws, every)
    shares = history.block_producing_shares(adj)
    out = metrics(hist, targets, shares)
    for t in targets:
        if t.metric == "producing_share":
            out[t.id] = float(shares[hist.pop.block].mean())
    return out


def residuals(
    x: Sequence[float], draws: HistoryDraws, targets: Sequence[Target]
) -> npt.NDArray[np.float64]:
    """Weighted residual vector of the objective (see the module docstring)."""
    cal = calibration_from_vector(x)
    sim = _expected_metrics(cal, draws, targets)
    fitted = [t for t in targets if t.weight > 0]
    r = [np.sqrt(t.weight) * t.residual(sim[t.id]) for t in fitted]
    ridge = [np.sqrt(RIDGE) * np.log(v) for p, v in zip(PARAMETERS, x, strict=True) if p.multiplier]
    return np.array(r + ridge)


@dataclass(frozen=True)
class FitResult:
    """A calibration and how it was found."""

    calibration: Calibration
    cost: float
    """:math:`J` at the optimum (the objective of the module docstring)."""
    success: bool
    message: str
    evaluations: int


def fit(
    seed: int = FIT_SEED,
    targets: Sequence[Target] | None = None,
    vintage: dt.date | None = None,
) -> FitResult:
    """Fit :data:`PARAMETERS` to the weighted targets (``scipy.optimize.least_squares``);
    with ``vintage``, only to those known by that date (:func:`as_of`)."""
    from scipy.optimize import least_squares

    tg = tuple(targets) if targets is not None else load_targets()
    if vintage is not None:
        tg = as_of(tg, vintage)
    draws = HistoryDraws.draw(np.random.default_rng(seed))
    x0 = np.array([p.start for p in PARAMETERS])
    lo = np.array([p.lo for p in PARAMETERS])
    hi = np.array([p.hi for p in PARAMETERS])

    def solve(start: npt.NDArray[np.float64]) -> Any:
        return least_squares(
            residuals, start, bounds=(lo, hi), args=(draws, tg), x_scale="jac", diff_step=1e-4
        )

    # a second solve from the first one's optimum: the trust region restarts wide, which
    # moves off the early stops that xtol allows in flat directions
    first = solve(x0)
    sol = solve(np.clip(first.x, lo, hi))
    return FitResult(
        calibration=calibration_from_vector(sol.x),
        cost=float(np.sum(sol.fun**2)),
        success=bool(sol.success),
        message=str(sol.message),
        evaluations=int(first.nfev + sol.nfev),
    )


def backtest(
    seed: int | np.random.Generator = 0,
    calibration: Calibration | None = None,
    targets: Sequence[Target] | None = None,
    vintage: dt.date | None = None,
) -> pd.DataFrame:
    """Every target with its simulated value on one seed's history (the run's population:
    packaged calibration, exact 2021 factor, producing wells drawn).

    Columns: ``id, metric, year, simulated, reported, unit, kind, error, rel_error, met,
    weight, source, known``; ``error = simulated − reported``. With ``vintage``, the rows
    known after it have weight 0 (reported, not fitted: :func:`as_of`).
    """
    tg = tuple(targets) if targets is not None else load_targets()
    if vintage is not None:
        tg = as_of(tg, vintage)
    hist = history.calibrated_history(seed, calibration=calibration)
    sim = metrics(hist, tg)
    rows = []
    for t in tg:
        s = sim[t.id]
        rows.append(
            {
                "id": t.id,
                "metric": t.metric,
                "year": t.year,
                "simulated": s,
                "reported": t.value,
                "unit": t.unit,
                "kind": t.kind,
                "error": s - t.value,
                "rel_error": (s - t.value) / t.value if t.value else float("nan"),
                "met": t.met(s),
                "weight": t.weight,
                "source": t.source,
                "known": t.known.isoformat(),
            }
        )
    return pd.DataFrame(rows)


def parameters_table(calibration: Calibration | None = None) -> pd.DataFrame:
    """The fitted parameters with their bounds: ``parameter, value, lo, hi, at_bound``."""
    cal = calibration if calibration is not None else history.packaged_calibration()
    x = vector_from_calibration(cal)
    return pd.DataFrame(
        {
            "parameter": [p.name for p in PARAMETERS],
            "value": x,
            "lo": [p.lo for p in PARAMETERS],
            "hi": [p.hi for p in PARAMETERS],
            # within 0.1 % of the range of a bound: the fit pushes against it
            "at_bound": [
                bool(min(v - p.lo, p.hi - v) <= 1e-3 * (p.hi - p.lo))
                for p, v in zip(PARAMETERS, x, strict=True)
            ],
        }
    )


def write_calibration(
    result: FitResult,
    path: Path,
    seed: int = FIT_SEED,
    vintage: dt.date | None = None,
    name: str | None = None,
) -> None:
    """Write a fit as a ``calibration.yaml`` (the packaged file's format); ``vintage``: the
    date the fit's rows were known by (``cbm-sim calibrate --as-of``); ``name``: the file's
    name in its regeneration command (default ``path``'s, which may be a staging copy's)."""
    x = vector_from_calibration(result.calibration)
    stamp = dt.date.today().isoformat()
    rows = (
        "every row"
        if vintage is None
        else f"the rows known by {vintage.isoformat()} and the plan's baseline"
    )
    source = (
        f"fitted by `cbm-sim calibrate` to {rows} of cbm_sim/data/history.yaml "
        f"(weighted least squares, seed {seed}, J = {result.cost:.4g}, {stamp})"
    )
    doc = {
        "source": source,
        "vintage": None if vintage is None else vintage.isoformat(),
        "parameters": {
            p.name: {"value": round(float(v), 6), "bounds": [p.lo, p.hi], "source": source}
            for p, v in zip(PARAMETERS, x, strict=True)
        },
    }
    as_of_option = "" if vintage is None else f" --as-of {vintage.isoformat()}"
    header = (
        "# Calibrated type-curve adjustment and drilling-history shape "
        f"(cbm_sim.wells.calibration).\n# Regenerate: cbm-sim calibrate --fit{as_of_option} "
        f"--write-parameters cbm_sim/data/{name or path.name}\n"
    )
    path.write_text(header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")


def block_eur_m3(
    seed: int | np.random.Generator = 0, calibration: Calibration | None = None
) -> npt.NDArray[np.float64]:
    """EUR booked by each block's end-2021 wells on one seed's history [m³] (down to the
    economic-limit rate of :mod:`cbm_sim.wells.stepping`; the packaged calibration unless
    ``calibration``)."""
    from cbm_sim.wells import stepping

    pop = history.calibrated_history(seed, calibration=calibration).pop
    return stepping.eur_by_block(pop, len(load_blocks()))


UNITEMISED_FLOOR = 0.01
"""Share of :data:`UNITEMISED_RESERVES_M3` a block without end-2021 wells gets (the rule of
``blocks.yaml``, ``sources.reserves_remainder``; assumption: a token amount so that the plan's
探明区建产 can start there)."""


def unitemised_allocation_m3(
    seeds: Sequence[int] = tuple(range(10)), calibration: Calibration | None = None
) -> dict[str, float]:
    """The rule that splits the reserves the plan does not itemise over their blocks [m³].

    Each of the 10 proved blocks whose reserves are labelled assumptions in ``blocks.yaml``
    gets :data:`UNITEMISED_FLOOR` × :data:`UNITEMISED_RESERVES_M3` if its end-2021 wells book
    no EUR, and otherwise a share of the rest in proportion to its wells' EUR (mean over
    ``seeds`` of the calibrated history), so that every block with wells starts at the same
    recovered share. ``blocks.yaml`` holds these values rounded to 10⁶ m³ (regenerate them
    after a refit).
    """
    group = [b for b in load_blocks() if b.proved_reserves_m3 and b.source.startswith("assumption")]
    eur = np.mean([block_eur_m3(s, calibration) for s in seeds], axis=0)
    eur = eur[[b.index for b in group]]
    floor = UNITEMISED_FLOOR * UNITEMISED_RESERVES_M3
    rest = UNITEMISED_RESERVES_M3 - floor * np.count_nonzero(eur <= 0)
    share = np.where(eur > 0, rest * eur / eur[eur > 0].sum(), floor)
    return {b.id: float(v) for b, v in zip(group, share, strict=True)}


def _rounded_allocation(calibration: Calibration | None) -> dict[str, int]:
    """:func:`unitemised_allocation_m3` in whole 10⁶ m³, the largest block absorbing the
    rounding so that the 10 still add up to :data:`UNITEMISED_RESERVES_M3` exactly."""
    millions = {
        b: round(v / 1e6) for b, v in unitemised_allocation_m3(calibration=calibration).items()
    }
    largest = max(millions, key=millions.__getitem__)
    millions[largest] += round(UNITEMISED_RESERVES_M3 / 1e6) - sum(millions.values())
    return millions


def write_unitemised_reserves(
    path: Path, calibration_file: str = history.CALIBRATION_FILE
) -> dict[str, float]:
    """Rewrite the unitemised reserves with :func:`unitemised_allocation_m3` of a packaged
    calibration, rounded to 10⁶ m³: in a ``blocks.yaml`` (its ``proved_reserves_m3``; the
    shipped calibration's) or in a vintage's ``calibration-*.yaml`` (its ``reserves_m3``
    section, which the runs of that vintage use instead). Returns the values written [m³].

    Raises
    ------
    ValueError
        If a block of the allocation is not found once in a ``blocks.yaml`` (the message
        names it).
    """
    import re

    millions = _rounded_allocation(history.packaged_calibration(calibration_file))
    text = path.read_text("utf-8")
    doc = yaml.safe_load(text)
    if isinstance(doc, dict) and "parameters" in doc:  # a calibration file
        doc["reserves_m3"] = {b: float(m * 10**6) for b, m in millions.items()}
        head = "".join(line for line in text.splitlines(True) if line.startswith("#"))
        body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        path.write_text(head + body, "utf-8")
        return {b: float(m * 10**6) for b, m in millions.items()}
    for block, m in millions.items():
        pattern = re.compile(rf"(  - id: {block}\n(?:    .*\n)*?    proved_reserves_m3: )\S+")
        text, n = pattern.subn(rf"\g<1>{float(m * 10**6)!r}", text)
        if n != 1:
            raise ValueError(f"{path}: no proved_reserves_m3 found for block {block!r}")
    path.write_text(text, "utf-8")
    return {b: float(m * 10**6) for b, m in millions.items()}
