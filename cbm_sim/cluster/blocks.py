"""Blocks (区块) as SimPy agents: drilling programmes, rigs, and where new wells find gas.

Each block drills its programme (wells spudded per year by type, from the scenario) with its
own rigs, each a SimPy process that takes the block's next well in spud order when it is
free (a FIFO queue: a well starts on its spud day or when a rig frees up, whichever is
later). A well occupies a rig for its drilling days, then waits its completion days
(fracturing, pump, hook-up) and joins the well population at hook-up, where it starts
dewatering.

Depletion: when a well's drilling ends, the block's resource (:mod:`cbm_sim.cluster.resource`)
says which share of its type curve it starts on — the full curve on undrilled proved acreage,
the undepleted share of the drained area's recoverable gas (driven by the gas *produced*, not
booked) when it infills; nothing where no reserves are proved. The day a block's new wells
first fall below half of the type curve is recorded as a ``depletion`` event.
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
from cbm_sim.cluster.resource import BlockResource
from cbm_sim.plan.blocks import BlockInfo
from cbm_sim.scenario.model import BlockProgramme, Drilling
from cbm_sim.scenario.paths import value_at
from cbm_sim.wells import decline
from cbm_sim.wells.stepping import Hookup

DEPLETION_EVENT_FACTOR = 0.5
"""A ``depletion`` event is logged when a block's new wells first fall below this factor
(assumption: half the type curve is where a planner would want to hear about it)."""

SampleParams = Callable[[int, str, int, str], dict[str, np.ndarray]]
"""``(well_type, block_class, n, block_id) -> {parameter: array}`` for new wells."""
Prepare = Callable[[dict[str, np.ndarray]], np.ndarray]
"""Decline constants ``(keys, n)`` of wells with the given parameters (one call per programme
instead of one per hook-up day)."""


@dataclass
class BlockAgent:
    """One block in the simulation."""

    info: BlockInfo
    programme: BlockProgramme | None
    drilling: Drilling
    resource: BlockResource
    start: dt.date
    end: dt.date
    hookups: list[Hookup]
    log: Callable[[float, str, str, str], None]
    sample: SampleParams
    prepare: Prepare | None = None
    drilled: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0})
    drilled_at: list[tuple[float, int]] = field(default_factory=list)
    """``(day, well_type)`` of every well drilled, in order of day."""
    _queue: list[tuple[float, int, int]] = field(default_factory=list, init=False, repr=False)
    """``(spud day, well type, index among the drawn wells)`` the rigs will drill, in order."""
    _next_well: int = field(default=0, init=False, repr=False)
    _depletion_logged: bool = field(default=False, init=False, repr=False)

    @property
    def entity(self) -> str:
        """Entity name in the results."""
        return f"block:{self.info.id}"

    def spud_days(self) -> list[tuple[float, int]]:
        """Spud times (days since start) and well types of the whole programme, in order.

        Wells of a year are spread evenly over it; fractional wells per year carry over to
        the next year, so a programme of 0.5 wells/yr drills one well every two years. The
        programme's wells are multiplied by ``drilling.achieved_share`` (1 = as programmed),
        except in the years up to ``recorded_through`` (recorded drilling, not a plan).
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
                recorded = prog.recorded_through is not None and year <= prog.recorded_through
                wanted = value_at(path, year) * share * (1.0 if recorded else achieved)
                wanted += carry[wtype]
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
        # Every planned well's parameters are drawn up front, in one vectorised call per
        # well type (same stream, same order as drawing them one by one at spud time); the
        # resource scales a well's rates when its drilling ends (_drilled).
        types = np.array([w for _, w in spuds])
        index = np.empty(types.size, dtype=np.int64)
        drawn = {}
        for wtype in (0, 1):
            sel = types == wtype
            n = int(np.count_nonzero(sel))
            index[sel] = np.arange(n)
            if not n:
                continue
            params = self.sample(wtype, self.info.klass, n, self.info.id)
            params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
            constants = self.prepare(params) if self.prepare is not None else None
            # one row of Python floats per well, made at once: the hook-up's parameters
            rows = np.column_stack([params[k] for k in decline.PARAMS])
            drawn[wtype] = (decline.PARAMS, constants, rows.tolist())
        self._queue.extend(
            (day, wtype, i) for (day, wtype), i in zip(spuds, index.tolist(), strict=True)
        )
        # Each rig takes the next well in spud order when it is free and drills it from its
        # spud day (or at once, if that has passed): a FIFO queue for the block's rigs.
        for _ in range(min(rigs, len(self._queue))):
            env.process(self._rig(env, drawn))

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
        # The resource says which share of its curve the well starts on (production is
        # linear in the rates: the hook-up multiplies them, stepping.add_hookups).
        f = self.resource.factor(env.now, wtype)
        if f < DEPLETION_EVENT_FACTOR and not self._depletion_logged:
            self._depletion_logged = True
            k = self.resource.year_index(env.now)
            self.log(
                env.now,
                self.entity,
                "depletion",
                f"new wells at {f:.0%} of the type curve: {self.resource.describe(k)}",
            )
        self.resource.add_well(wtype, day, tuple(params.values()), f)  # PARAMS order
        self.hookups.append(
            Hookup(
                block=self.info.index,
                well_type=wtype,
                day=day,
                params=params,
                constants=constants,
                factor=f,
            )
        )
