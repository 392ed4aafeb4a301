"""Blocks (区块): drilling programmes, rigs, and where new wells find gas.

Each block drills its programme (wells spudded per year by type, from the scenario) with its
own rigs: a FIFO queue served by the block's rigs, a well starting on its spud day or when a
rig frees up, whichever is later. A well occupies a rig for its drilling days, then waits its
completion days (fracturing, pump, hook-up) and joins the well population at hook-up, where
it starts dewatering.

Nothing in a run acts on the rigs (drilling does not look at flows, prices or facilities), so
the whole programme is drilled when the run is built (:func:`drill`): the rigs of every block
are one event loop in compiled code (:func:`_rig_events`), which orders simultaneous events as
SimPy did when every rig was a SimPy process (by time, then by the order they were
scheduled), so the wells join the population in the same order and every result is the same
bit for bit (issue 27: the processes cost two SimPy events and a Python object per well).
The engine takes the hook-ups and drilling ends as its dispatch reaches them.

Depletion: when a well's drilling ends, the block's resource (:mod:`cbm_sim.cluster.resource`)
says which share of its type curve it starts on — the full curve on undrilled proved acreage,
the undepleted share of the drained area's recoverable gas (driven by the gas *produced*, not
booked) when it infills; nothing where no reserves are proved. The day a block's new wells
first fall below half of the type curve is recorded as a ``depletion`` event.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy
from numba import njit

from cbm_sim.cluster.facilities import Process
from cbm_sim.cluster.resource import BlockResource
from cbm_sim.plan.blocks import BlockInfo
from cbm_sim.scenario.model import BlockProgramme, Drilling
from cbm_sim.scenario.paths import interpolate
from cbm_sim.wells import decline
from cbm_sim.wells.stepping import Hookups

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
    log: Callable[[float, str, str, str], None]
    sample: SampleParams
    prepare: Prepare | None = None
    drilled: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0})
    drilled_day: list[float] = field(default_factory=list)
    """Day every well's drilling ended [day since the start], in order of day."""
    drilled_type: list[int] = field(default_factory=list)
    """Type of every well drilled, as :attr:`drilled_day`."""
    drilled_scheduled: list[float] = field(default_factory=list)
    """When each drilling end was scheduled (its rig's previous event) [day], as
    :attr:`drilled_day`: it orders a drilling end against the dispatch at the same time."""
    _spud_day: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.empty(0), init=False, repr=False
    )
    """Spud day of each well the rigs will drill, in spud order."""
    _spud_type: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), init=False, repr=False
    )
    """Type of each well the rigs will drill, as :attr:`_spud_day`."""
    _index: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.empty(0, dtype=np.int64), init=False, repr=False
    )
    """Each queued well's index among the drawn wells of its type."""
    _drawn: dict[int, Any] = field(default_factory=dict, init=False, repr=False)
    _rigs: int = field(default=0, init=False, repr=False)
    _depletion_logged: bool = field(default=False, init=False, repr=False)

    @property
    def entity(self) -> str:
        """Entity name in the results."""
        return f"block:{self.info.id}"

    @property
    def drilled_at(self) -> list[tuple[float, int]]:
        """``(day, well_type)`` of every well drilled, in order of day."""
        return list(zip(self.drilled_day, self.drilled_type, strict=True))

    def spud_days(self) -> list[tuple[float, int]]:
        """Spud times (days since start) and well types of the whole programme, in order.

        Wells of a year are spread evenly over it; fractional wells per year carry over to
        the next year, so a programme of 0.5 wells/yr drills one well every two years. The
        programme's wells are multiplied by ``drilling.achieved_share`` (1 = as programmed),
        except in the years up to ``recorded_through`` (recorded drilling, not a plan).
        """
        days, types = self.spud_arrays()
        return list(zip(days.tolist(), types.tolist(), strict=True))

    def spud_arrays(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """:meth:`spud_days` as arrays: the spud days [day since the start] and the well
        types (0 vertical, 1 horizontal), in order of day, then of type."""
        day_parts: list[npt.NDArray[np.float64]] = []
        type_parts: list[npt.NDArray[np.int64]] = []
        for offset, span, n, wtype in self.spud_runs():
            # a well k of the year at offset + (k + 1/2) span / n: the float operations of
            # the scalar formula, in its order, elementwise
            day_parts.append(offset + (np.arange(n) + 0.5) * span / n)
            type_parts.append(np.full(n, wtype, dtype=np.int64))
        if not day_parts:
            return np.empty(0), np.empty(0, dtype=np.int64)
        days, types = np.concatenate(day_parts), np.concatenate(type_parts)
        order = np.lexsort((types, days))  # as sorting (day, type) pairs
        return days[order], types[order]

    def spud_runs(self) -> Iterator[tuple[int, int, int, int]]:
        """``(offset, span, n, well type)`` of each year's wells of each type, year by year:
        ``n`` wells spread evenly over the ``span`` days of the year from day ``offset``
        (see :meth:`spud_days`)."""
        prog = self.programme
        if prog is None:
            return
        carry = [0.0, 0.0]
        achieved = self.drilling.achieved_share  # wells drilled per well programmed
        paths: list[Any] = [prog.vertical_wells_per_year, prog.horizontal_wells_per_year]
        years = list(range(self.start.year, self.end.year + 1))
        # each path at every year in one call (np.interp is elementwise: value_at's numbers)
        at = [interpolate(path, years).tolist() if path else [] for path in paths]
        for iy, year in enumerate(years):
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
                wanted = at[wtype][iy] * share * (1.0 if recorded else achieved)
                wanted += carry[wtype]
                n = int(np.floor(wanted + 1e-9))
                carry[wtype] = wanted - n
                if n:
                    yield (y0 - self.start).days, span, n, wtype

    def plan_drilling(self) -> int:
        """Draw the programme's wells and queue them for the rigs; the rigs that will serve
        the queue (0: nothing to drill, or no rigs, which is logged)."""
        days, types = self.spud_arrays()
        if not days.size:
            return 0
        rigs = self.programme.rigs if self.programme else 0
        if rigs == 0:
            self.log(0.0, self.entity, "no rigs", f"{days.size} planned wells not drilled")
            return 0
        # Every planned well's parameters are drawn up front, in one vectorised call per
        # well type (same stream, same order as drawing them one by one at spud time); the
        # resource scales a well's rates when its drilling ends (_drilled_all).
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
            rows = np.column_stack([params[k] for k in decline.PARAMS])
            drawn[wtype] = (rows, constants)
        self._spud_day, self._spud_type, self._index, self._drawn = days, types, index, drawn
        self._rigs = min(rigs, days.size)
        return self._rigs

    def start_drilling(self, env: simpy.Environment) -> Hookups:
        """Drill this block's programme alone (:func:`drill` of one block) to the end of its
        horizon: its hook-ups, in order."""
        return drill([self], env, float((self.end - self.start).days + 1))

    def _drilled_all(
        self,
        at: np.ndarray,
        factor: np.ndarray,
        hookup_day: np.ndarray,
        rows: np.ndarray,
        prepared: np.ndarray | None = None,
    ) -> list[tuple[int, BlockAgent, float, str]]:
        """The resource's part of every well this block drilled, at once (``at``: their
        positions among all blocks' drilling ends): the share of its curve each starts on
        (written into ``factor``), their gas and area booked, and the ``depletion`` event of
        the first well below :data:`DEPLETION_EVENT_FACTOR` (its position, this block, its
        day, its detail; none if logged before). ``hookup_day`` and ``rows`` (each well's
        parameters, :data:`cbm_sim.wells.decline.PARAMS` order) are in the order of
        :attr:`drilled_day`."""
        days = self.drilled_day
        types = self.drilled_type
        f, before = self.resource.add_wells(days, types, hookup_day.tolist(), rows, prepared)
        factor[at] = f
        low = np.flatnonzero(f < DEPLETION_EVENT_FACTOR)
        if not low.size or self._depletion_logged:
            return []
        self._depletion_logged = True
        j = int(low[0])
        k = self.resource.year_index(days[j])
        detail = (
            f"new wells at {f[j]:.0%} of the type curve: "
            f"{self.resource.describe(k, float(before[j]))}"
        )
        return [(int(at[j]), self, days[j], detail)]

    def _log_at(self, env: simpy.Environment, day: float, event: str, detail: str) -> Process:
        """Log ``event`` when the simulation reaches ``day`` (in order with the others)."""
        if day > env.now:
            yield env.timeout(day - env.now)
        self.log(env.now, self.entity, event, detail)


SPUD, END = 0, 1
"""Kinds of rig event: a rig waiting for a well's spud day, a well's drilling ending."""


@njit(cache=True)
def _rig_events(  # type: ignore[no-untyped-def]  # numba infers the types
    spud_day, first, count, rigs, drilling_days, until
):
    """The drilling ends of every block's rigs in the order SimPy processed them.

    Block ``b`` queues wells ``first[b] … first[b] + count[b] - 1`` (spud days, in spud
    order) for its ``rigs[b]`` rigs. Each rig, when free at ``now``, takes the block's next
    well ``j``: it waits until the spud day if that is later (``now + (spud - now)``, the
    float arithmetic of a SimPy timeout), then drills it for ``drilling_days[j]``. Events
    are taken in order of time, then of scheduling (SimPy's event ids; the rigs start in
    block and rig order at time 0), up to ``until`` (excluded, as ``env.run(until)``).

    Returns the queued well of each drilling end, its time and when it was scheduled.
    """
    n_rigs = rigs.sum()
    rig_block = np.empty(n_rigs, dtype=np.int64)
    nxt = first.copy()
    heap = [(0.0, 0, 0, 0, 0, 0.0)]  # (time, order, rig, kind, well, scheduled at)
    heap.pop()
    seq = 0
    r = 0
    for b in range(first.size):
        for _ in range(rigs[b]):
            rig_block[r] = b
            r += 1
    for r in range(n_rigs):  # every rig starts at time 0, in block and rig order
        b = rig_block[r]
        if nxt[b] < first[b] + count[b]:
            j = nxt[b]
            nxt[b] += 1
            if spud_day[j] > 0.0:
                heapq.heappush(heap, (0.0 + (spud_day[j] - 0.0), seq, r, SPUD, j, 0.0))
            else:
                heapq.heappush(heap, (0.0 + drilling_days[j], seq, r, END, j, 0.0))
            seq += 1
    out_well = np.empty(spud_day.size, dtype=np.int64)  # at most every queued well
    out_time = np.empty(spud_day.size)
    out_scheduled = np.empty(spud_day.size)
    m = 0
    while heap:
        now, _, r, kind, j, scheduled = heapq.heappop(heap)
        if now >= until:
            break
        if kind == SPUD:
            heapq.heappush(heap, (now + drilling_days[j], seq, r, END, j, now))
            seq += 1
            continue
        out_well[m] = j
        out_time[m] = now
        out_scheduled[m] = scheduled
        m += 1
        b = rig_block[r]
        if nxt[b] < first[b] + count[b]:
            k = nxt[b]
            nxt[b] += 1
            if spud_day[k] > now:
                heapq.heappush(heap, (now + (spud_day[k] - now), seq, r, SPUD, k, now))
            else:
                heapq.heappush(heap, (now + drilling_days[k], seq, r, END, k, now))
            seq += 1
    return out_well[:m], out_time[:m], out_scheduled[:m]


Depletion = tuple[int, int, float, str]
"""A ``depletion`` event to log: the position of its well among the drilling ends, the
index of its block in the blocks drilled, its day and its detail."""


def drill(blocks: Sequence[BlockAgent], env: simpy.Environment, until: float) -> Hookups:
    """Drill every block's programme up to ``until`` [day] (excluded): each block's
    drilling ends (:attr:`BlockAgent.drilled_day`), resource and events, and the hook-ups of
    all blocks in the order the wells finished drilling (:class:`Hookups`).

    Blocks are taken in order (their wells are drawn in that order from the shared stream).
    """
    hookups, depleted = drill_programmes(blocks, until)
    log_depletion(blocks, env, depleted)
    return hookups


def log_depletion(
    blocks: Sequence[BlockAgent], env: simpy.Environment, depleted: Sequence[Depletion]
) -> None:
    """Register the ``depletion`` events of :func:`drill_programmes` with ``env``, in the
    order of their wells (the order the single calls made them)."""
    for _, b, now, detail in depleted:
        block = blocks[b]
        env.process(block._log_at(env, now, "depletion", detail))


def drill_programmes(blocks: Sequence[BlockAgent], until: float) -> tuple[Hookups, list[Depletion]]:
    """:func:`drill` without the environment: the hook-ups, and the ``depletion`` events
    for :func:`log_depletion` (in order)."""
    queued = [(b, rigs) for b in blocks if (rigs := b.plan_drilling()) > 0]
    if not queued:
        return Hookups.empty(), []
    count = np.array([b._spud_day.size for b, _ in queued], dtype=np.int64)
    first = np.concatenate(([0], np.cumsum(count)[:-1])).astype(np.int64)
    spud = np.concatenate([b._spud_day for b, _ in queued])
    wtype = np.concatenate([b._spud_type for b, _ in queued])
    owner = np.repeat(np.arange(len(queued)), count)
    days_by_type = np.array(
        [
            [b.drilling.drilling_days_vertical, b.drilling.drilling_days_horizontal]
            for b, _ in queued
        ]
    )
    wells, ends, scheduled = _rig_events(
        spud,
        first,
        count,
        np.array([r for _, r in queued], dtype=np.int64),
        days_by_type[owner, wtype],
        float(until),
    )
    # the parameters and constants of every well drilled, in drilling order: one gather
    # from the draws of every block and type (a queued well is draw `index` of its type)
    with_constants = all(b.prepare is not None for b, _ in queued)
    offset = np.zeros((len(queued), 2), dtype=np.int64)
    drawn_rows, drawn_cols, n_drawn = [], [], 0
    for pos, (b, _) in enumerate(queued):
        for t, (rows, cols) in b._drawn.items():
            offset[pos, t] = n_drawn
            n_drawn += rows.shape[0]
            drawn_rows.append(rows)
            drawn_cols.append(cols)
    source = offset[owner, wtype] + np.concatenate([b._index for b, _ in queued])
    drawn = source[wells]
    params = np.concatenate(drawn_rows)[drawn]
    constants = np.concatenate(drawn_cols, axis=1)[:, drawn] if with_constants else None
    # Completion takes the same days for every well and needs no rig, so the hook-up day is
    # known when drilling ends: the well joins the population at the next whole day (the
    # dispatch grid) after completion.
    completion = np.array([b.drilling.completion_days for b, _ in queued])
    hookup_day = np.ceil(ends + completion[owner[wells]])
    # each block's drilling ends, in order (the positions of a block's ends, in order)
    end_owner = owner[wells]
    end_type = wtype[wells]
    by_block = np.argsort(end_owner, kind="stable")
    cuts = np.searchsorted(end_owner[by_block], np.arange(len(queued) + 1))
    mine_of = [by_block[cuts[pos] : cuts[pos + 1]] for pos in range(len(queued))]
    for pos, (block, _) in enumerate(queued):
        mine = mine_of[pos]
        block.drilled_day = ends[mine].tolist()
        block.drilled_type = end_type[mine].tolist()
        block.drilled_scheduled = scheduled[mine].tolist()
        horizontal = int(np.count_nonzero(end_type[mine]))
        block.drilled = {0: mine.size - horizontal, 1: horizontal}
    # the resource of each block in its wells' order, one call per block (the factor depends
    # on the wells drilled before it: BlockResource.add_wells goes year by year)
    factor = np.empty(wells.size)
    depleted: list[tuple[int, BlockAgent, float, str]] = []
    for pos, (block, _) in enumerate(queued):
        mine = mine_of[pos]
        if mine.size:
            prepared = None if constants is None else constants[:, mine]
            depleted += block._drilled_all(mine, factor, hookup_day[mine], params[mine], prepared)
    # depletion events in the order of the wells (the order the single calls made them)
    where = {id(b): k for k, b in enumerate(blocks)}
    ordered = sorted(depleted, key=lambda e: e[0])
    events = [(at, where[id(b)], now, detail) for at, b, now, detail in ordered]
    blocks_index = np.array([b.info.index for b, _ in queued], dtype=np.int64)
    hookups = Hookups(
        block=blocks_index[owner[wells]],
        well_type=end_type.astype(np.int8),
        day=hookup_day,
        params=params,
        constants=constants,
        factor=factor,
    )
    return hookups, events
