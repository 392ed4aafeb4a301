"""The well population inside a simulation run: start-up, new wells, and per-step volumes.

This is the glue between the SimPy engine and the numeric core: it builds the 2021
population (:mod:`cbm_sim.wells.history`), samples new wells from the type curves
(:mod:`cbm_sim.wells.typecurves`; the wells that fail are drawn in
:mod:`cbm_sim.wells.failures`), and
evaluates every well's gas over one step exactly (:class:`StepVolumes`).

:class:`StepVolumes` keeps the per-well constants of the closed-form cumulative
(:mod:`cbm_sim.wells.decline`) and each well's cumulative at the previous step boundary; a step
costs one cumulative evaluation per well, and the step volume is the difference of two
cumulatives (exact, not a rate sample). The engine gets the per-block sums from
:class:`cbm_sim.wells.supply.BlockSupply` instead, ~4x faster on the plan scenario; this class
stays as the exact per-well reference it is tested and benchmarked against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cbm_sim import bounds, units
from cbm_sim.scenario.model import TypeCurveScaling, WellReliability
from cbm_sim.wells import decline, history, typecurves
from cbm_sim.wells.population import DOWN, WELL_TYPES, WellPopulation

FloatArray = npt.NDArray[np.float64]
PARAMS = decline.PARAMS

# assumption: wells are not abandoned within the horizon (the plan's 2021 count of 10,595 is
# wells drilled, and CBM wells in the basin produce for 15-20+ years); EUR for the reserves
# check is counted down to this economic-limit rate.
ECONOMIC_LIMIT_M3_PER_DAY = 100.0


@dataclass(frozen=True)
class Hookups:
    """Wells that finished completion, in the order they finished drilling (and so of
    ``day``: all take the same completion days), one array per column.

    Attributes
    ----------
    block, well_type
        Block index and ``VERTICAL``/``HORIZONTAL`` of each well.
    day
        The day each well joins the population (hook-up) [day since the run's start].
    params
        Its drawn decline parameters, ``(wells, len(PARAMS))`` in :data:`PARAMS` order.
    constants
        Its decline constants ``(len(decline.PREPARED_KEYS), wells)``, if prepared ahead.
    factor
        Share of its drawn curve each well starts on (its block's resource,
        :mod:`cbm_sim.cluster.resource`): multiplies ``qi`` and ``q_start`` (and the
        constants proportional to them) when the well joins the population.
    """

    block: npt.NDArray[np.int64]
    well_type: npt.NDArray[np.int8]
    day: FloatArray
    params: FloatArray
    constants: FloatArray | None
    factor: FloatArray

    def __len__(self) -> int:
        return int(self.day.size)

    def rows(self, lo: int, hi: int) -> Hookups:
        """Wells ``lo … hi - 1``."""
        return Hookups(
            block=self.block[lo:hi],
            well_type=self.well_type[lo:hi],
            day=self.day[lo:hi],
            params=self.params[lo:hi],
            constants=None if self.constants is None else self.constants[:, lo:hi],
            factor=self.factor[lo:hi],
        )

    @classmethod
    def empty(cls) -> Hookups:
        """No wells."""
        return cls(
            block=np.zeros(0, dtype=np.int64),
            well_type=np.zeros(0, dtype=np.int8),
            day=np.zeros(0),
            params=np.zeros((0, len(PARAMS))),
            constants=None,
            factor=np.zeros(0),
        )


def initial_history(
    rng: np.random.Generator,
    reliability: WellReliability | None = None,
    calibration: history.Calibration | None = None,
) -> history.History:
    """The calibrated history to end-2021 (wells drilled 2003-2021; those of late 2021 come
    online in early 2022).

    The target of the exact 2021 fit is the plan's 2021 surface production divided by the
    expected availability of a well, ``1 - failures/yr × workover days / 365.25``, so that
    the simulated 2021 output, with its workovers, matches the plan (ch1 §2 二: 42.67 亿m³).
    ``calibration``: the packaged one by default.
    """
    return history.calibrated_history(
        rng,
        target_m3=history.PRODUCTION_2021_M3 / availability(reliability),
        calibration=calibration,
    )


def availability(reliability: WellReliability | None) -> float:
    """Expected share of a year a well is not down for a workover [-]:
    ``1 - failures/yr × workover days / 365.25`` (at least 0.05; 1 without reliability)."""
    if reliability is None:
        return 1.0
    lost = reliability.pump_failures_per_well_year * reliability.workover_days
    return max(1.0 - lost / units.DAYS_PER_YEAR, 0.05)


def initial_population(
    rng: np.random.Generator, reliability: WellReliability | None = None
) -> WellPopulation:
    """The population of :func:`initial_history`."""
    return initial_history(rng, reliability).pop


def params_eur(params: dict[str, FloatArray]) -> FloatArray:
    """EUR [m³] of wells with these parameters, down to the economic-limit rate."""
    return decline.eur(
        params["qi"],
        params["di"],
        params["b"],
        params["d_term"],
        params["t_incline"],
        params["q_start"],
        ECONOMIC_LIMIT_M3_PER_DAY,
        t_plateau=params["t_plateau"],
    )


def eur_by_block(pop: WellPopulation, n_blocks: int) -> FloatArray:
    """EUR booked by the existing wells of every block [m³]."""
    eur = params_eur({k: getattr(pop, k) for k in PARAMS})
    booked: FloatArray = np.bincount(pop.block, weights=eur, minlength=n_blocks).astype(
        np.float64, copy=False
    )
    return booked


def new_well_sampler(
    scaling: TypeCurveScaling,
    rng: np.random.Generator,
    rate_scale: float = 1.0,
    calibration: history.Calibration | None = None,
) -> Callable[..., dict[str, FloatArray]]:
    """A function ``(well_type, block_class, n, block_id=None) -> parameters`` for new wells.

    New wells draw from the same calibrated curves as the history's wells
    (:meth:`cbm_sim.wells.typecurves.TypeCurve.from_draws` with the packaged
    :class:`~cbm_sim.wells.typecurves.CurveAdjustment`, the block's level, and ``rate_scale``,
    the run's exact 2021 factor, :attr:`cbm_sim.wells.history.History.rate_scale`), producing
    share included.
    The scenario's type-curve multipliers then apply on top, to new wells only: the 2021
    population is the calibrated past and stays as it is.
    """
    cal = calibration if calibration is not None else history.packaged_calibration()

    def sample(
        well_type: int, block_class: str, n: int, block_id: str | None = None
    ) -> dict[str, FloatArray]:
        curve = typecurves.typecurve(WELL_TYPES[well_type], block_class)
        p = curve.sample(n, rng, rate_scale, cal.adjustment, block_id)
        p = {k: np.asarray(p[k], dtype=np.float64) for k in PARAMS}
        scale = scaling.peak_scale(curve.block_class, well_type)
        p["qi"] = p["qi"] * scale
        p["q_start"] = np.minimum(p["q_start"] * scale, p["qi"])
        if scaling.producing_share_scale < 1.0:
            # of the wells the calibrated share makes producing, this share still produces;
            # drawn only when asked, so a scenario at 1 keeps its random streams
            dry = rng.random(n) >= scaling.producing_share_scale
            p["qi"] = np.where(dry, 0.0, p["qi"])
            p["q_start"] = np.where(dry, 0.0, p["q_start"])
        # scaled, then clipped to the bound as the type curve clips its scatter (typecurves.py)
        p["t_incline"] = np.minimum(
            p["t_incline"] * scaling.incline_days_scale, bounds.BOUNDS["t_incline"].hi
        )
        p["di"] = p["di"] * scaling.decline_scale
        p["d_term"] = np.minimum(p["d_term"] * scaling.decline_scale, p["di"])
        return p

    return sample


@dataclass(frozen=True)
class Counts:
    """Well counts per block on one day."""

    active: FloatArray
    total: FloatArray
    down: int


class StepVolumes:
    """Exact per-step volumes of a growing well population (see the module docstring).

    Workovers start at a step boundary and last whole days, so a well that is down over a
    whole step produces nothing, and one whose workover ends inside a step produces from the
    end of the workover. Its decline clock keeps running while it is down (assumption,
    as in :class:`cbm_sim.wells.population.WellPopulation`).
    """

    def __init__(self, pop: WellPopulation) -> None:
        self.pop = pop
        self._n = 0
        # Buffers grow by doubling, so that adding a few wells a day costs O(new wells),
        # not a copy of every column; the per-step arrays are views of their first n rows.
        self._buf: dict[str, FloatArray] = {
            k: np.empty(0) for k in (*decline.PREPARED_KEYS, "c_prev")
        }
        self._const: dict[str, FloatArray] = {k: self._buf[k] for k in decline.PREPARED_KEYS}
        self._c_prev = self._buf["c_prev"]
        self._t_prev: float | None = None
        self._sync()

    def _sync(self) -> None:
        """Compute constants for wells added to the population since the last call."""
        pop = self.pop
        n = len(pop)
        if n == self._n:
            return
        sl = slice(self._n, n)
        new = decline.prepare_unchecked(*(getattr(pop, k)[sl] for k in PARAMS))
        new["c_prev"] = (
            decline.cumulative_prepared(self._t_prev - pop.online_day[sl], new)
            if self._t_prev is not None
            else np.zeros(n - self._n)
        )
        if n > len(self._buf["c_prev"]):
            cap = max(n, 2 * len(self._buf["c_prev"]), 1024)
            for k, old in self._buf.items():
                grown = np.empty(cap)
                grown[: self._n] = old[: self._n]
                self._buf[k] = grown
        for k, arr in self._buf.items():
            arr[sl] = new[k]
        self._const = {k: self._buf[k][:n] for k in decline.PREPARED_KEYS}
        self._c_prev = self._buf["c_prev"][:n]
        self._n = n

    def step(self, day_start: float, day_end: float) -> FloatArray:
        """Gas of every well over ``[day_start, day_end)`` [m³]."""
        self._sync()
        pop = self.pop
        if self._t_prev is None or self._t_prev != day_start:
            self._c_prev[:] = decline.cumulative_prepared(day_start - pop.online_day, self._const)
        c_end = decline.cumulative_prepared(day_end - pop.online_day, self._const)
        vol = c_end - self._c_prev
        down_until = pop.down_until_day
        off = down_mask(pop, day_start)
        if off.any():
            back = off & (down_until < day_end)
            vol[off] = 0.0
            if back.any():
                idx = np.flatnonzero(back)
                sub = {k: v[idx] for k, v in self._const.items()}
                vol[idx] = c_end[idx] - decline.cumulative_prepared(
                    down_until[idx] - pop.online_day[idx], sub
                )
        gone = pop.abandon_day < day_end
        if gone.any():
            vol[gone & (pop.abandon_day <= day_start)] = 0.0
        self._c_prev[:] = c_end  # the buffer view: wells added later extend it
        self._t_prev = day_end
        return vol


def prepared_columns(params: dict[str, FloatArray]) -> FloatArray:
    """Decline constants of wells with ``params``, shape ``(len(PREPARED_KEYS), n)``."""
    k = decline.prepare_unchecked(*(np.asarray(params[p], dtype=np.float64) for p in PARAMS))
    return np.stack([k[key] for key in decline.PREPARED_KEYS])


def add_hookups(pop: WellPopulation, ready: Hookups) -> FloatArray | None:
    """Append wells that finished completion, in one cohort, their rates multiplied by their
    factors.

    Their parameters were drawn from the validated type curves (``typecurves.py`` checks
    every value against ``bounds.py`` on load), so the population's checks are skipped.
    Returns their decline constants ``(keys, len(ready))`` if they were prepared ahead.
    """
    params = {k: np.ascontiguousarray(ready.params[:, j]) for j, k in enumerate(PARAMS)}
    factors = ready.factor
    scaled = not np.all(factors == 1.0)
    if scaled:  # production is linear in the two rates (decline.RATE_LINEAR_KEYS)
        params["qi"] = params["qi"] * factors
        params["q_start"] = params["q_start"] * factors
    pop.add_cohort(
        block=np.ascontiguousarray(ready.block, dtype=np.int64),
        well_type=np.ascontiguousarray(ready.well_type, dtype=np.int8),
        online_day=np.ascontiguousarray(ready.day, dtype=np.float64),
        **params,
        validate=False,
    )
    if ready.constants is None:
        return None
    constants = np.ascontiguousarray(ready.constants)
    return decline.scale_prepared_rates(constants, factors) if scaled else constants


def down_mask(pop: WellPopulation, day: float) -> npt.NDArray[np.bool_]:
    """Wells inside their workover interval on ``day``."""
    return (pop.down_from_day <= day) & (pop.down_until_day > day)


def producing_indices(pop: WellPopulation, day: float) -> npt.NDArray[np.int64]:
    """Wells online, not down and not abandoned on ``day`` (candidates for a pump failure)."""
    ok = ~down_mask(pop, day)
    ok &= pop.online_day <= day
    ok &= pop.abandon_day > day
    return np.flatnonzero(ok)


def set_down(
    pop: WellPopulation, idx: npt.NDArray[np.int64], from_day: float, until_day: float
) -> None:
    """Send producing wells ``idx`` down for a workover over ``[from_day, until_day)``.

    Writes the population's columns directly: ``idx`` comes from :func:`producing_indices`,
    so the checks of :meth:`WellPopulation.set_down` would only cost time on the hot path.
    """
    pop.state[idx] = DOWN
    pop.down_from_day[idx] = from_day
    pop.down_until_day[idx] = until_day


def counts_by_block(pop: WellPopulation, day: float, n_blocks: int) -> Counts:
    """Active and total (online) wells per block, and wells down, on ``day`` (the exact
    reference of :class:`cbm_sim.wells.supply.BlockSupply`'s counts)."""
    down = down_mask(pop, day)
    online = pop.online_day <= day
    inactive = down | (pop.abandon_day <= day)
    if online.all():  # the usual case: every well is online
        total = np.bincount(pop.block, minlength=n_blocks)
    else:
        total = np.bincount(pop.block[online], minlength=n_blocks)
        inactive &= online
    off = np.bincount(pop.block[inactive], minlength=n_blocks)
    return Counts(
        active=(total - off).astype(np.float64),
        total=total.astype(np.float64),
        down=int(np.count_nonzero(down & online)),
    )
