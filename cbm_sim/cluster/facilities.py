"""Facilities as SimPy agents: commissioning, random outages, planned maintenance.

A :class:`Facility` is one CNG mother station, LNG plant, pipeline or storage project. It is
in service between its commissioning and retirement dates; while in service it fails at
random (exponential time to failure, mean ``mean_days_between_failures``) and is repaired
after a lognormal time (mean ``mean_repair_days``, coefficient of variation
``repair_days_cv``), and it stops once a year for planned maintenance. Event times are whole
days, so that a daily dispatch sees an outage for exactly its duration.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from cbm_sim.scenario.model import Reliability

EventLog = Callable[[float, str, str, str], None]
States = tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]
"""``(in_service, down)`` of a facility at some times (:meth:`Facility.states_at`)."""
Process = Generator[simpy.Event, Any, None]
"""A SimPy process body: a generator of events."""


@dataclass
class Facility:
    """One facility of the chain, with its state in the simulation.

    Parameters
    ----------
    kind
        ``"cng"``, ``"lng"``, ``"pipeline"`` or ``"storage"``.
    name
        Unique within its kind.
    capacity
        Nameplate capacity in the base unit of its kind (m³/d of gas for CNG, t/d of LNG for
        LNG plants, m³/d for pipelines, m³ of gas for storage).
    commission_day, retire_day
        Days since the horizon start; ``None`` = in service from before the start / never
        retired.
    reliability
        Outage and maintenance parameters; ``None`` = never fails (pipelines, tanks).
    origin
        Calendar date of day 0 (for the maintenance month).
    maintenance_offset_days
        Days after the 1st of the maintenance month when the planned stop begins
        (staggers the plants of one kind).
    """

    kind: str
    name: str
    capacity: float
    commission_day: float | None = None
    retire_day: float | None = None
    reliability: Reliability | None = None
    origin: dt.date = dt.date(2021, 1, 1)
    maintenance_offset_days: float = 0.0
    outage_days: float = field(init=False, default=0.0)
    history: list[tuple[float, bool, bool]] = field(init=False, default_factory=list)
    """``(time, in_service, down)`` after every change of state, in time order [day]."""
    _in_service: bool = field(init=False, default=False, repr=False)
    _down: bool = field(init=False, default=False, repr=False)
    _env: simpy.Environment | None = field(init=False, default=None, repr=False)
    _arrays: tuple[npt.NDArray[Any], ...] | None = field(init=False, default=None, repr=False)

    @property
    def in_service(self) -> bool:
        """Commissioned and not retired."""
        return self._in_service

    @in_service.setter
    def in_service(self, value: bool) -> None:
        self._in_service = value
        self._record()

    @property
    def down(self) -> bool:
        """In an outage (trip or planned maintenance)."""
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        self._down = value
        self._record()

    def _record(self) -> None:
        now = 0.0 if self._env is None else float(self._env.now)
        self.history.append((now, self._in_service, self._down))

    def states_at(
        self, times: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """``(in_service, down)`` at each of ``times`` [day], after every change at or
        before it (the dispatch reads them at mid-day, after the day's whole-day events)."""
        t = np.asarray(times, dtype=np.float64)
        if not self.history:
            return np.zeros(t.shape, dtype=bool), np.zeros(t.shape, dtype=bool)
        if self._arrays is None or self._arrays[0].size != len(self.history):
            # the history only grows: arrays of it made again only when it has
            self._arrays = tuple(np.array(c) for c in zip(*self.history, strict=True))
        when, serving, down = self._arrays
        i = np.searchsorted(when, t, side="right") - 1
        if t.size and t.min() >= when[0]:  # every time after the first change (the dispatch's)
            return serving[i], down[i]
        before = i < 0
        i = np.maximum(i, 0)
        return serving[i] & ~before, down[i] & ~before

    def capacity_at(self, times: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Capacity usable at each of ``times`` [day] (0 when not in service or down)."""
        return self.capacity_in(self.states_at(times))

    def capacity_in(self, states: States) -> npt.NDArray[np.float64]:
        """Capacity usable in ``states`` (:meth:`states_at` of some times, read once)."""
        serving, down = states
        return np.where(serving & ~down, self.capacity, 0.0)

    @property
    def entity(self) -> str:
        """Entity name in the results (``lng:LNG-1``)."""
        return f"{self.kind}:{self.name}"

    @property
    def available_capacity(self) -> float:
        """Capacity usable now (0 when not in service or down)."""
        return self.capacity if self.in_service and not self.down else 0.0

    def start(self, env: simpy.Environment, rng: np.random.Generator, log: EventLog) -> None:
        """Register this facility's processes with the environment."""
        self._env = env
        env.process(self._life(env, rng, log))

    def live(self, rng: np.random.Generator, until: float) -> None:
        """Live this facility's whole life to ``until`` [day] at once, without a SimPy
        environment: the :attr:`history` (and :attr:`outage_days`) that :meth:`start`'s
        processes write in a run to ``until``, bit for bit, with no events logged.

        The same process bodies are driven by :class:`_Clock`, which orders their events as
        SimPy does: by time, then priority (a process's start before a timeout), then the
        order they were scheduled in; the facility's processes touch nothing but the
        facility and its own random stream, so the other processes of a run (whose events
        interleave with these in SimPy) change nothing of its history. As ``env.run(until)``,
        no timeout at or after ``until`` is processed (nothing starts a process there).
        """
        clock = _Clock()
        self._env = clock  # type: ignore[assignment]  # its now, for the history
        clock.process(self._life(clock, rng, None))  # type: ignore[arg-type]
        clock.run(until)
        self._env = None

    def _life(
        self, env: simpy.Environment, rng: np.random.Generator, log: EventLog | None
    ) -> Process:
        if self.commission_day is not None and self.commission_day > env.now:
            yield env.timeout(self.commission_day - env.now)
            if log is not None:
                log(env.now, self.entity, "commissioned", f"capacity {self.capacity:g}")
        self.in_service = True
        if self.reliability is not None:
            env.process(self._failures(env, rng, log))
            env.process(self._maintenance(env, log))
        if self.retire_day is not None:
            yield env.timeout(max(self.retire_day - env.now, 0.0))
            self.in_service = False
            if log is not None:
                log(env.now, self.entity, "retired", "")

    def _failures(
        self, env: simpy.Environment, rng: np.random.Generator, log: EventLog | None
    ) -> Process:
        rel = self.reliability
        assert rel is not None
        sigma2 = math.log1p(rel.repair_days_cv**2)
        mu = math.log(rel.mean_repair_days) - sigma2 / 2.0
        while self.in_service:
            yield env.timeout(max(1.0, math.ceil(rng.exponential(rel.mean_days_between_failures))))
            if not self.in_service:
                return
            if self.down:  # already in maintenance: the failure is found and fixed there
                continue
            repair = max(1.0, math.ceil(rng.lognormal(mu, math.sqrt(sigma2))))
            yield from self._outage(env, repair, "trip", log)

    def _maintenance(self, env: simpy.Environment, log: EventLog | None) -> Process:
        rel = self.reliability
        assert rel is not None
        if rel.maintenance_days_per_year <= 0:
            return
        while self.in_service:
            yield env.timeout(self._days_to_next_maintenance(env.now, rel.maintenance_month))
            if not self.in_service:
                return
            while self.down:  # wait for a running repair to finish first
                yield env.timeout(1.0)
            yield from self._outage(
                env, math.ceil(rel.maintenance_days_per_year), "maintenance", log
            )

    def _outage(
        self, env: simpy.Environment, days: float, why: str, log: EventLog | None
    ) -> Process:
        self.down = True
        if log is not None:  # None: no events wanted (live), no text made for them
            log(env.now, self.entity, f"{why} start", f"{days:g} days")
        yield env.timeout(days)
        self.down = False
        self.outage_days += days
        if log is not None:
            log(env.now, self.entity, f"{why} end", "")

    def _days_to_next_maintenance(self, now: float, month: int) -> float:
        today = self.origin + dt.timedelta(days=int(now))
        offset = dt.timedelta(days=self.maintenance_offset_days)
        target = dt.date(today.year, month, 1) + offset
        if target <= today:
            target = dt.date(today.year + 1, month, 1) + offset
        return float((target - today).days)


def total_capacity_at(
    facilities: Iterable[Facility],
    times: npt.ArrayLike,
    states: Sequence[States] | None = None,
) -> npt.NDArray[np.float64]:
    """Summed usable capacity of ``facilities`` at each of ``times`` [day]; ``states``: their
    :meth:`Facility.states_at` of ``times`` if already read (one per facility, in order)."""
    t = np.asarray(times, dtype=np.float64)
    total = np.zeros(t.shape)
    for j, fac in enumerate(facilities):
        total += fac.capacity_at(t) if states is None else fac.capacity_in(states[j])
    return total


def day_index(day: dt.date | None, origin: dt.date) -> float | None:
    """Days from ``origin`` to ``day`` (``None`` stays ``None``)."""
    return None if day is None else float((day - origin).days)


_URGENT, _NORMAL = 0, 1
"""SimPy's event priorities: a process's start (``Initialize``) before a timeout."""


class _Clock:
    """The part of a SimPy environment a facility's processes use (``now``, ``timeout``,
    ``process``), run by a heap ordered as SimPy orders its events: ``(time, priority,
    scheduling order)``."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, int, list[Any]]] = []
        self._order = 0

    def _schedule(self, at: float, priority: int, waiter: list[Any]) -> None:
        heapq.heappush(self._queue, (at, priority, self._order, waiter))
        self._order += 1

    def timeout(self, delay: float) -> list[Any]:
        """A timeout ``delay`` days from now, scheduled now (as SimPy's ``Timeout``); the
        process yielding it is put into it."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        waiter: list[Any] = [None]
        self._schedule(self.now + delay, _NORMAL, waiter)
        return waiter

    def process(self, body: Process) -> None:
        """Start ``body`` now, before the timeouts of this time (SimPy's ``Initialize``)."""
        self._schedule(self.now, _URGENT, [body])

    def run(self, until: float) -> None:
        """Process the events before ``until``, in order."""
        queue = self._queue
        while queue and queue[0][0] < until:
            self.now, _, _, waiter = heapq.heappop(queue)
            body = waiter[0]
            try:
                event = body.send(None)
            except StopIteration:
                continue
            event[0] = body
