"""Blocks (区块) as SimPy agents: reserves, development class, rigs and drilling programmes.

Each block drills its programme (wells spudded per year by type, from the scenario) with its
own rigs, each a SimPy process that takes the block's next well in spud order when it is
free (a FIFO queue: a well starts on its spud day or when a rig frees up, whichever is
later). A well occupies a rig for its drilling days, then waits its completion days
(fracturing, pump, hook-up) and joins the well population at hook-up, where it starts
dewatering.

Depletion (no reserves wall): a block's recoverable gas is ``proved reserves × recovery
factor``; each new well's peak and start rates are multiplied by :func:`depletion_factor` of
the share of it that the block's wells have already booked (EUR, in spud order), so new wells
get poorer as the block is drained and drilling never stops overnight. The day a block's new
wells fall below half of the type curve is recorded as a ``depletion`` event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from cbm_sim.cluster.facilities import Process
from cbm_sim.plan.blocks import BlockInfo
from cbm_sim.scenario.model import BlockProgramme, Drilling
from cbm_sim.scenario.paths import value_at
from cbm_sim.wells.stepping import Hookup

DEPLETION_EVENT_FACTOR = 0.5
"""A ``depletion`` event is logged when a block's new wells first fall below this factor
(assumption: half the type curve is where a planner would want to hear about it)."""

SampleParams = Callable[[int, str, int, str], dict[str, np.ndarray]]
"""``(well_type, block_class, n, block_id) -> {parameter: array}`` for new wells."""
WellEur = Callable[[dict[str, np.ndarray]], np.ndarray]
"""EUR [m³] of wells with the given parameters."""
Prepare = Callable[[dict[str, np.ndarray]], np.ndarray]
"""Decline constants ``(keys, n)`` of wells with the given parameters (one call per programme
instead of one per hook-up day)."""


def depletion_factor(booked_m3: float, recoverable_m3: float | None) -> float:
    r"""Productivity of a block's next well relative to the type curve [-].

    assumption (no published rule was found linking CBM well productivity to a block's
    recovered share): a new well's peak rate is proportional to the block's remaining
    recoverable gas, :math:`f = \max(0, 1 - B/R)` with :math:`B` the EUR booked by the block's
    wells and :math:`R` = proved reserves × recovery factor — the well drains the same area,
    which holds that share of its original gas. Booking :math:`f \times` EUR per well, the
    booked total approaches :math:`R` but never passes it. Blocks without stated proved
    reserves (``recoverable_m3=None``) do not deplete.

    Raises
    ------
    ValueError
        If ``recoverable_m3`` is not positive or ``booked_m3`` is negative.
    """
    if booked_m3 < 0:
        raise ValueError(f"booked_m3 must be >= 0; got {booked_m3!r}")
    if recoverable_m3 is None:
        return 1.0
    if not recoverable_m3 > 0:
        raise ValueError(f"recoverable_m3 must be > 0 or None; got {recoverable_m3!r}")
    return max(0.0, 1.0 - booked_m3 / recoverable_m3)


_RATE_KEYS = ("qi", "q_start")
"""Parameters proportional to a well's productivity (depletion scales them)."""


@dataclass
class BlockAgent:
    """One block in the simulation."""

    info: BlockInfo
    programme: BlockProgramme | None
    drilling: Drilling
    booked_eur_m3: float
    start: dt.date
    end: dt.date
    hookups: list[Hookup]
    log: Callable[[float, str, str, str], None]
    sample: SampleParams
    well_eur: WellEur
    prepare: Prepare | None = None
    drilled: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0})
    drilled_at: list[tuple[float, int]] = field(default_factory=list)
    """``(day, well_type)`` of every well drilled, in order of day."""
    _queue: list[tuple[float, int, int]] = field(default_factory=list, init=False, repr=False)
    """``(spud day, well type, index among the drawn wells)`` the rigs will drill, in order."""
    _next_well: int = field(default=0, init=False, repr=False)

    @property
    def entity(self) -> str:
        """Entity name in the results."""
        return f"block:{self.info.id}"

    @property
    def recoverable_m3(self) -> float | None:
        """EUR the block's wells may book in all [m³] (``None``: no proved reserves stated)."""
        if self.info.proved_reserves_m3 is None:
            return None
        return self.info.proved_reserves_m3 * self.drilling.recovery_factor

    def spud_days(self) -> list[tuple[float, int]]:
        """Spud times (days since start) and well types of the whole programme, in order.

        Wells of a year are spread evenly over it; fractional wells per year carry over to
        the next year, so a programme of 0.5 wells/yr drills one well every two years. The
        programme's wells are multiplied by ``drilling.achieved_share`` (1 = as programmed).
        """
        prog = self.programme
        if prog is None:
            return []
        out: list[tuple[float, int]] = []
        carry = [0.0, 0.0]
        achieved = self.drilling.achieved_share  # wells drilled per well programmed
        paths: list[Any] = [prog.vertical_wells_per_year, prog.horizontal_wells_per_year]
        for year in range(self.start.year, self.end.year + 1):
            if (prog.first_year is not None and year < prog.first_year) or (
                prog.last_year is not None and year > prog.last_year
            ):
                continue
            y0 = max(dt.date(year, 1, 1), self.start)
            y1 = min(dt.date(year, 12, 31), self.end)
            span = (y1 - y0).days + 1
            share = span / ((dt.date(year, 12, 31) - dt.date(year, 1, 1)).days + 1)
            for wtype, path in enumerate(paths):
                if not path:
                    continue
                wanted = value_at(path, year) * share * achieved + carry[wtype]
                n = int(np.floor(wanted + 1e-9))
                carry[wtype] = wanted - n
                offset = (y0 - self.start).days
                out += [(offset + (k + 0.5) * span / n, wtype) for k in range(n)] if n else []
        out.sort()
        return out

    def start_drilling(self, env: simpy.Environment) -> None:
        """Register the drilling programme with the environment."""
        spuds = self.spud_days()
        if not spuds:
            return
        rigs = self.programme.rigs if self.programme else 0
        if rigs == 0:
            self.log(0.0, self.entity, "no rigs", f"{len(spuds)} planned wells not drilled")
            return
        # Every planned well's parameters and EUR are drawn up front, in one vectorised call
        # per well type (same stream, same order as drawing them one by one at spud time).
        types = np.array([w for _, w in spuds])
        drawn_params: dict[int, dict[str, np.ndarray]] = {}
        drawn_eur: dict[int, np.ndarray] = {}
        for wtype in (0, 1):
            n = int(np.count_nonzero(types == wtype))
            if n:
                drawn_params[wtype] = self.sample(wtype, self.info.klass, n, self.info.id)
                drawn_eur[wtype] = np.asarray(self.well_eur(drawn_params[wtype]), dtype=float)
        # Depletion: each well's factor depends on the EUR booked before it, in spud order,
        # and every EUR is drawn now. The remaining recoverable gas r = R - B falls by the
        # factor (1 - e/R) with each well of full EUR e (B grows by f·e = r·e/R), so the
        # factors f = r/R are an exclusive cumulative product (0 for good once a well would
        # take all of r): the rule of depletion_factor, well after well, without a loop.
        index = np.empty(types.size, dtype=np.int64)
        for wtype in (0, 1):
            sel = types == wtype
            index[sel] = np.arange(np.count_nonzero(sel))
        eur = np.empty(types.size)
        for wtype, values in drawn_eur.items():
            eur[types == wtype] = values
        limit = self.recoverable_m3
        if limit is None:
            f = np.ones(types.size)
        else:
            keep = np.maximum(1.0 - eur / limit, 0.0)
            before = np.concatenate(([1.0], np.cumprod(keep)[:-1]))
            f = depletion_factor(self.booked_eur_m3, limit) * before
        self.booked_eur_m3 += float(np.dot(f, eur))
        factors = {w: f[types == w] for w in drawn_eur}
        self._queue.extend(
            (day, wtype, int(i)) for (day, wtype), i in zip(spuds, index, strict=True)
        )
        low = np.flatnonzero(f < DEPLETION_EVENT_FACTOR)
        if low.size:
            k = int(low[0])
            env.process(self._depleted(env, spuds[k][0], float(f[k]), limit))
        drawn = {}
        for wtype, params in drawn_params.items():
            params = dict(params)
            for key in (k for k in _RATE_KEYS if k in params):
                params[key] = np.asarray(params[key], dtype=np.float64) * factors[wtype]
            constants = self.prepare(params) if self.prepare is not None else None
            # one row of Python floats per well, made at once: the hook-up's parameters
            rows = np.column_stack([np.asarray(v, dtype=np.float64) for v in params.values()])
            drawn[wtype] = (tuple(params), constants, rows.tolist())
        # Each rig takes the next well in spud order when it is free and drills it from its
        # spud day (or at once, if that has passed): a FIFO queue for the block's rigs.
        for _ in range(min(rigs, len(self._queue))):
            env.process(self._rig(env, drawn))

    def _depleted(
        self, env: simpy.Environment, day: float, factor: float, limit: float | None
    ) -> Process:
        if day > env.now:
            yield env.timeout(day - env.now)
        self.log(
            env.now,
            self.entity,
            "depletion",
            f"new wells at {factor:.0%} of the type curve: the block's wells have booked "
            f"{1.0 - factor:.0%} of {(limit or 0.0) / 1e8:.2f} 亿m3 (proved × recovery factor)",
        )

    def _rig(self, env: simpy.Environment, drawn: dict[int, Any]) -> Process:
        d = self.drilling
        while self._next_well < len(self._queue):
            day, wtype, i = self._queue[self._next_well]
            self._next_well += 1
            if day > env.now:
                yield env.timeout(day - env.now)
            yield env.timeout(d.drilling_days_horizontal if wtype else d.drilling_days_vertical)
            keys, constants, rows = drawn[wtype]
            params = dict(zip(keys, rows[i], strict=True))
            self._drilled(env, wtype, params, None if constants is None else constants[:, i])

    def _drilled(
        self,
        env: simpy.Environment,
        wtype: int,
        params: dict[str, float],
        constants: npt.NDArray[np.float64] | None,
    ) -> None:
        d = self.drilling
        self.drilled[wtype] += 1
        self.drilled_at.append((env.now, wtype))
        # Completion takes the same days for every well and needs no rig, so the hook-up
        # day is known when drilling ends: the well joins the population at the next whole
        # day (the dispatch grid) after completion. Appending it now keeps the list in
        # order of day (drilling ends arrive in time order) and saves a timeout per well.
        day = float(np.ceil(env.now + d.completion_days))
        self.hookups.append(
            Hookup(
                block=self.info.index,
                well_type=wtype,
                day=day,
                params=params,
                constants=constants,
            )
        )
