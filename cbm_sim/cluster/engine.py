"""The cluster as a SimPy discrete-event simulation, with a gas balance that closes every step.

Processes registered with one :class:`simpy.Environment` (time in days since the horizon
start):

* the rigs of every block, each a process drilling the block's wells in spud order (wells
  join the population at hook-up);
* the life of every facility: commissioning, random trips and repairs, yearly maintenance
  (each facility keeps the history of its state);
* the dispatch, whose step is a day, read at mid-day (so that it sees every whole-day
  event of the day): new wells hook up, pumps fail and go down for workover
  (:mod:`cbm_sim.wells.failures`), the wells' gas per block comes from
  :class:`cbm_sim.wells.supply.BlockSupply`, and
  :func:`cbm_sim.cluster.dispatch.route_steps` sends it to
  its uses by priority, day after day, carrying the storage stock.

The dispatch always routes every day: the step of the recorded results
(``horizon.step_days``: days, months, quarters) is a sum of days made by
:mod:`cbm_sim.results.simulate` (:mod:`cbm_sim.scenario.steps`), so a monthly run is the
daily run summed by calendar month. Routing a month's gas at once would average winter
peaks, outages and storage dynamics away (and cost about as much: the routing is compiled).

No other process reads the dispatch's flows, so the dispatch process wakes once per run of
days (a supply window, 256 days) at the mid-day of the run's last day and routes each day
of the run in order, from the state every process had at that day's mid-day (facility
histories, drilling ends, hook-up days, per-day well counts). The flows are those of waking
every day (checked on the plan scenario without pump failures: equal to 1e-8 relative
against the per-step engine it replaced), at one round of Python per run instead of per day.

The model is built by :mod:`cbm_sim.cluster.build`; this module runs it and returns what it
recorded as plain arrays (:class:`RunRecord`), which :mod:`cbm_sim.results` turns into frames.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from cbm_sim import units
from cbm_sim.cluster import demand as demand_mod
from cbm_sim.cluster.build import Model, build, keep_facility_lives
from cbm_sim.cluster.dispatch import route_steps
from cbm_sim.cluster.facilities import Process, States, total_capacity_at
from cbm_sim.cluster.replay import SupplyRecord, record_for, supply_key
from cbm_sim.cluster.storage import rule_holds
from cbm_sim.scenario.model import Scenario
from cbm_sim.wells import stepping

Progress = Callable[[float], None]
LOCAL_ORDER: tuple[str, ...] = ("field_use", *demand_mod.SECTORS)
"""Local uses in dispatch priority order (field use is physical, then 民生 first)."""
RESERVE_FILL_TIER = 3
"""Filling storage to the plan's reserve rules comes after 公商福业, before the contracts and
the pro-rata tier (assumption: the reserves are a legal duty, 发改能源规〔2018〕637号 quoted in
ch1 §2 四)."""
CONTRACT_TIER = 4
"""Contracted outbound sales up to the take-or-pay floor come before the local non-民生
markets: the contract holders (CNPC, CNOOC: 90 % of the mining-right area, plan ch1 §3 四)
sell their gas under their own contracts, and below the floor the buyer pays for gas it does
not take, so the seller delivers it first (assumption: the floor binds the seller's dispatch
as it binds the buyer's payment)."""
MARKET_TIER = 5
"""Transport, industry, chemicals, CNG, LNG and the contracted volumes above the take-or-pay
floor compete in one tier by netback (:mod:`cbm_sim.cluster.netback`): the highest netback is
served first, equal netbacks share pro rata (dispatch.py). Above the floor the buyer does not
pay for gas it does not take, so those volumes go out only where they earn the most."""
DISPATCH_TIERS = np.array([0, 1, 2, *[MARKET_TIER] * 5, CONTRACT_TIER, MARKET_TIER], dtype=np.int64)
"""Tiers of (field use, residential, commercial, transport, industry, chemicals, CNG, LNG,
contracted exports up to the floor, contracted exports above it) — the columns of
:data:`cbm_sim.cluster.netback.REQUESTS`: 民生 first (plan ch4 §3 一), then 公商福业, then the
storage reserves (:data:`RESERVE_FILL_TIER`), then the contracts up to their take-or-pay floor
(:data:`CONTRACT_TIER`), then the markets by netback (:data:`MARKET_TIER`); residual exports
(beyond the contracts) take what is left."""


@dataclass
class _Recorder:
    """Per-step arrays of every recorded series, turned into a tidy frame at the end."""

    n_steps: int
    block_entities: tuple[str, ...]

    def __post_init__(self) -> None:
        self.series: dict[tuple[str, str, str], npt.NDArray[np.float64]] = {}
        self.blocks: dict[tuple[str, str], npt.NDArray[np.float64]] = {}

    def put_rows(
        self, k0: int, k1: int, rows: dict[tuple[str, str, str], npt.NDArray[np.float64]]
    ) -> None:
        """Record steps ``k0 … k1 - 1`` of each series, keyed ``(entity, quantity, unit)``."""
        for key, values in rows.items():
            arr = self.series.get(key)
            if arr is None:
                arr = self.series[key] = np.zeros(self.n_steps)
            arr[k0:k1] = values

    def put_blocks(
        self, k0: int, k1: int, quantity: str, unit: str, values: npt.NDArray[np.float64]
    ) -> None:
        """Record steps ``k0 … k1 - 1`` of a per-block series, ``(steps, blocks)``."""
        key = (quantity, unit)
        arr = self.blocks.get(key)
        if arr is None:
            arr = self.blocks[key] = np.zeros((self.n_steps, len(self.block_entities)))
        arr[k0:k1] = values

    def columns(self) -> list[tuple[str, str, str, npt.NDArray[np.float64]]]:
        """Every recorded series as ``(entity, quantity, unit, values per step)``."""
        per_block = [
            (entity, quantity, unit, arr[:, b])
            for (quantity, unit), arr in self.blocks.items()
            for b, entity in enumerate(self.block_entities)
        ]
        return per_block + [(e, q, u, v) for (e, q, u), v in self.series.items()]


class EventColumns(NamedTuple):
    """The discrete events of a run, one sequence per column, in the order they happened."""

    time: pd.DatetimeIndex
    entity: tuple[str, ...]
    event: tuple[str, ...]
    detail: tuple[str, ...]


@dataclass(frozen=True)
class RunRecord:
    """What a run recorded, as plain arrays: turned into tidy frames by :mod:`cbm_sim.results`."""

    step_dates: pd.DatetimeIndex
    """First day of every dispatch step."""
    columns: list[tuple[str, str, str, npt.NDArray[np.float64]]]
    """Every series as ``(entity, quantity, unit, value per step)``."""
    events: EventColumns
    """Discrete events, column by column."""
    wells_at_end: int


class Simulation:
    """One run of a built :class:`~cbm_sim.cluster.build.Model`: the dispatch process and its
    recording, step after step."""

    def __init__(self, model: Model, events: bool = True) -> None:
        self.model = m = model
        self._events = events  # False: the run's events are not wanted (a study's run)
        self.scenario = m.scenario
        self.env = m.env
        self.days = m.days
        self.n_steps = m.n_steps
        self._starts, self._ends, self._months = m.starts, m.ends, m.months
        self.blocks_info = m.blocks_info
        self.rec = _Recorder(self.n_steps, tuple(f"block:{b.id}" for b in self.blocks_info))
        d = m.demand
        self._cum = d.cumulative
        self._need_3day, self._need_5pct = d.need_3day_m3, d.need_5pct_m3
        self._export_capped = d.export_capped
        self._mine = d.mine
        self.pop, self._supply, self._fail_rng = m.pop, m.supply, m.fail_rng
        self.hookups = m.hookups
        self._hooked = 0  # wells of the hook-ups already in the population
        self.blocks = m.blocks
        self.cng, self.lng, self.lines, self.storage = m.cng, m.lng, m.lines, m.storage
        self._netback = m.netback
        self._storage_initialised = False
        self._drilled_seen = [0] * len(self.blocks)  # drilling ends already recorded
        self._drilled = [
            (np.asarray(b.drilled_day), np.asarray(b.drilled_type), np.asarray(b.drilled_scheduled))
            for b in self.blocks
        ]
        self._last_wake = 0.0  # when the dispatch's current wake was scheduled
        # a history's repeated runs replay the supply of a run of the same wells (replay.py)
        self._replay: SupplyRecord | None = None
        self._recording: SupplyRecord | None = None
        self._window = 0  # runs of steps routed so far
        if m.history.runs >= 2:
            store = m.history.derived.setdefault(("supply-replays",), OrderedDict())
            sc = m.scenario.wells
            key = supply_key(
                m.hookups,
                sc.pump_failures_per_well_year,
                sc.workover_days,
                m.starts,
                m.ends,
                m.supply.window_days,
            )
            self._replay, self._recording = record_for(store, key)

    def log(self, day: float, entity: str, event: str, detail: str) -> None:
        """Record a discrete event at ``day`` (days since the start)."""
        self.model.log(day, entity, event, detail)

    def run(self, progress: Progress | None = None) -> RunRecord:
        """Run to the end of the horizon and return what was recorded."""
        self.env.process(self._dispatch(progress))
        self.env.run(until=float(len(self.days)))
        return self.record()

    def _dispatch(self, progress: Progress | None) -> Process:
        """The dispatch process: routes every day, a run of days at a time.

        Nothing in the other processes depends on the dispatch (drilling, facilities and
        pump failures do not look at flows), so the process wakes at the last step of a
        run of steps and routes each step of the run in order, from the state each process
        had at that step's mid-day (facility histories, drilling ends, hook-up days): the
        same flows as waking every step, with one Python round per run instead of per day.
        A run ends at the end of a supply window (:class:`cbm_sim.wells.supply.BlockSupply`).
        """
        per_run = self._supply.window_days
        for k0 in range(0, self.n_steps, per_run):
            k1 = min(k0 + per_run, self.n_steps)
            wake = float(self._starts[k1 - 1]) + 0.5  # mid-day of the run's last step
            if wake > self.env.now:
                yield self.env.timeout(wake - self.env.now)
            self._run_steps(k0, k1)
            self._last_wake = self.env.now
            if progress is not None:
                progress(k1 / self.n_steps)

    def _hook_up(self, limit_day: int, grow: bool = True) -> None:
        """Add the wells hooked up on or before ``limit_day`` to the population (``grow``
        false: log them only, their supply is replayed)."""
        # Wells come in the order they finished drilling, and all take the same completion
        # days, so the ready ones are the next run of the list.
        rest = self.hookups.day[self._hooked :]
        late = np.flatnonzero(rest > limit_day)
        n = int(late[0]) if late.size else rest.size
        if n == 0:
            return
        ready = self.hookups.rows(self._hooked, self._hooked + n)
        self._hooked += n
        if grow:
            first = len(self.pop)
            constants = stepping.add_hookups(self.pop, ready)
            if constants is not None:
                self._supply.add_constants(first, constants)
        if not self._events:
            return
        # logged at the start of the day that holds the hook-up, per day and block in order
        n_blocks = len(self.blocks_info)
        pairs, counts = np.unique(
            ready.day.astype(np.int64) * n_blocks + ready.block, return_counts=True
        )
        days, blocks = np.divmod(pairs, n_blocks)
        entity = [f"block:{b.id}" for b in self.blocks_info]
        # the tuples made by zip and map in C (a generator's frame per event cost ~5 ms a run)
        self.model.events.extend(
            zip(
                days.astype(np.float64).tolist(),
                map(entity.__getitem__, blocks.tolist()),
                ["wells online"] * len(counts),
                map(str, counts.tolist()),
                strict=True,
            )
        )

    def _run_steps(self, k0: int, k1: int) -> None:
        sc = self.scenario
        rec = self.rec
        starts = self._starts[k0:k1]
        ends = self._ends[k0:k1]
        dt_days = (ends - starts).astype(np.float64)
        times = (starts + 0.5).astype(np.float64, copy=False)
        replay = self._replay
        self._hook_up(int(ends[-1]) - 1, grow=replay is None)
        if replay is not None:
            by_block, active, total, down, workovers = replay.windows[self._window]
        else:
            rate = sc.wells.pump_failures_per_well_year
            if rate > 0:
                workovers = self._supply.fail(
                    self._fail_rng,
                    starts,
                    rate * dt_days / units.DAYS_PER_YEAR,
                    sc.wells.workover_days,
                )
            else:
                workovers = np.zeros(starts.size, dtype=np.int64)
            by_block, active, total, down = self._supply.steps(starts, ends)
            if self._recording is not None:
                self._recording.windows.append((by_block, active, total, down, workovers))
        self._window += 1
        potential = by_block.sum(axis=1)

        sums = {name: c[ends] - c[starts] for name, c in self._cum.items()}
        field_use = sc.demand.field_use_share * potential
        local = np.column_stack([field_use, *(sums[s] for s in demand_mod.SECTORS)])
        # each plant's states read once: its capacity, counts and availability come from them
        cng_states = [fac.states_at(times) for fac in self.cng]
        lng_states = [fac.states_at(times) for fac in self.lng]
        cng_cap = total_capacity_at(self.cng, times, cng_states) * dt_days
        lng_cap_t = total_capacity_at(self.lng, times, lng_states) * dt_days
        feed = sc.lng.feed_gas_m3_per_t
        cng_req = np.minimum(sums["cng"], cng_cap)
        lng_req = np.minimum(sums["lng_t"], lng_cap_t) * feed
        pipe_cap = total_capacity_at(self.lines, times) * dt_days
        export_limit = np.minimum(pipe_cap, sums["export_cap"]) if self._export_capped else pipe_cap
        # Contracts: the holders' share of the surface output, within the outbound limit,
        # in two requests: up to the take-or-pay floor and above it (DISPATCH_TIERS, netback);
        # exports beyond the contracts take what is left of the limit (dispatch.py).
        holders = sc.contracts.holders_share * potential
        contract_req = np.minimum(np.minimum(sums["contracted"], export_limit), holders)
        floor_req = np.minimum(contract_req, sums["take_or_pay_floor"])
        requests = np.column_stack([local, cng_req, lng_req, floor_req, contract_req - floor_req])
        st = self.storage
        st_cap = st.capacity_at(times)
        if not self._storage_initialised:
            st.level_m3 = float(st_cap[0]) * sc.storage.initial_fill_share
            self._storage_initialised = True
        inject = np.isin(self._months[starts], list(st.injection_months))
        st_rate = st.max_rate_m3(dt_days, st_cap)
        if sc.storage.fill_through_liquefaction:
            # LNG tanks are filled by the liquefaction plants: at most their capacity left
            # after the LNG market's request.
            spare = np.maximum(lng_cap_t * feed - lng_req, 0.0)
            st_rate = np.where(inject, np.minimum(st_rate, spare), st_rate)
        # Outside the injection season the stock leaves through the sites' send-out
        # (regasification, trucks): the steps draw or fill, never both (withdraw = ~inject).
        sendout = st.sendout_at(times) * dt_days
        st_rate = np.where(inject, st_rate, sendout)
        need3 = self._need_3day[starts]
        need5 = self._need_5pct[starts]
        drainage = sums["drainage_m3"]
        flows = route_steps(
            surface_m3=potential,
            requests_m3=requests,
            n_local=local.shape[1],
            tiers=DISPATCH_TIERS,
            mine_drainage_m3=drainage,
            mine_usable_share=self._mine.usable_share[starts],
            mine_heating_m3=sums["heating_m3"],
            mine_power_capacity_m3=sums["power_gas_capacity_m3"],
            storage_level_m3=st.level_m3,
            storage_capacity_m3=st_cap,
            storage_max_rate_m3=st_rate,
            inject=inject,
            withdraw=~inject,
            export_limit_m3=export_limit - contract_req,
            reserve_need_m3=np.maximum(need3, need5),
            reserve_fill_tier=RESERVE_FILL_TIER,
            netback_yuan_per_m3=self._netback[k0:k1],
        )
        st.level_m3 = float(flows.level[-1])

        row: dict[tuple[str, str, str], npt.NDArray[np.float64]] = {}
        rec.put_blocks(k0, k1, "surface_production", "m3", by_block)
        rec.put_blocks(k0, k1, "wells_active", "count", active)
        rec.put_blocks(k0, k1, "wells_total", "count", total)
        row["surface", "potential", "m3"] = potential
        row["surface", "production", "m3"] = potential - flows.shut_in
        row["surface", "wells_active", "count"] = active.sum(axis=1)
        row["surface", "wells_active_mean", "count"] = active.sum(axis=1)
        row["surface", "wells_down", "count"] = down
        row["surface", "workovers", "count"] = workovers.astype(np.float64)
        self._record_drilling(k0, k1, times, row)

        allocated = flows.allocated
        n_local = local.shape[1]
        for j, name in enumerate(LOCAL_ORDER):
            row[f"demand:{name}", "demand", "m3"] = local[:, j]
            row[f"demand:{name}", "delivered", "m3"] = allocated[:, j]
            row[f"demand:{name}", "shortfall", "m3"] = local[:, j] - allocated[:, j]
        cng_feed, lng_feed = allocated[:, n_local], allocated[:, n_local + 1]
        row["mine_gas", "drainage", "m3"] = drainage
        row["mine_gas", "utilised", "m3"] = flows.mine_heating + flows.mine_power
        row["mine_gas", "vented", "m3"] = flows.mine_vented
        row["mine_power", "gas_used", "m3"] = flows.mine_power
        kwh = flows.mine_power / sc.mine_gas.power_gas_m3_per_kwh
        row["mine_power", "electricity", "kWh"] = kwh
        row["mine_power", "capacity_mw", "MW"] = self._mine.power_capacity_mw[starts]
        row["mine_power", "plants", "count"] = self._mine.power_plants[starts].astype(np.float64)
        row["mine_heating", "gas_used", "m3"] = flows.mine_heating
        row["cng", "feed_gas", "m3"] = cng_feed
        row["cng", "capacity", "m3"] = cng_cap
        self._record_plants(row, "cng", "stations", cng_states, times, dt_days)
        row["lng", "feed_gas", "m3"] = lng_feed
        row["lng", "output", "t"] = lng_feed / feed
        row["lng", "capacity", "m3"] = lng_cap_t * feed
        self._record_plants(row, "lng", "plants", lng_states, times, dt_days)
        for fac, states in zip(self.lng, lng_states, strict=True):
            row[fac.entity, "available", "fraction"] = (fac.capacity_in(states) > 0).astype(float)
        contract_out = allocated[:, n_local + 2] + allocated[:, n_local + 3]
        row["pipeline", "exports", "m3"] = contract_out + flows.exports
        row["contracts", "contracted", "m3"] = sums["contracted"]
        row["contracts", "requested", "m3"] = contract_req
        row["contracts", "delivered", "m3"] = contract_out
        row["contracts", "shortfall", "m3"] = sums["contracted"] - contract_out
        row["contracts", "take_or_pay_floor", "m3"] = sums["take_or_pay_floor"]
        # gas the floor asks for and the step could not deliver (supply, pipes, holders' share)
        row["contracts", "deficiency", "m3"] = np.maximum(
            sums["take_or_pay_floor"] - contract_out, 0.0
        )
        row["pipeline", "capacity", "m3"] = pipe_cap
        row["storage", "injection", "m3"] = flows.injection
        row["storage", "withdrawal", "m3"] = flows.withdrawal
        row["storage", "level", "m3"] = flows.level
        row["storage", "storage_capacity", "m3"] = st_cap
        row["storage", "sendout_capacity", "m3"] = sendout
        row["storage", "rule_3day_need", "m3"] = need3
        row["storage", "rule_5pct_need", "m3"] = need5
        for rule, need in (("rule_3day", need3), ("rule_5pct", need5)):
            held = rule_holds(flows.level, need)
            row["storage", f"{rule}_violation_days", "day"] = np.where(held, 0.0, dt_days)
        row["balance", "shut_in", "m3"] = flows.shut_in
        supply = potential + drainage + flows.withdrawal
        uses = (
            allocated.sum(axis=1)
            + flows.mine_heating
            + flows.mine_power
            + flows.mine_vented
            + flows.injection
            + flows.exports
            + flows.shut_in
        )
        row["balance", "residual", "m3"] = supply - uses
        rec.put_rows(k0, k1, row)

    def _record_plants(
        self,
        row: dict[tuple[str, str, str], npt.NDArray[np.float64]],
        entity: str,
        count_name: str,
        states: list[States],
        times: npt.NDArray[np.float64],
        dt_days: npt.NDArray[np.float64],
    ) -> None:
        """Plants in service and plant-days of outage over each step (summed over plants),
        from each plant's states at ``times``."""
        serving = np.zeros(times.size)
        down = np.zeros(times.size)
        for in_service, is_down in states:
            serving += in_service
            down += in_service & is_down
        row[entity, count_name, "count"] = serving
        row[entity, "outage_days", "day"] = down * dt_days

    def _record_drilling(
        self,
        k0: int,
        k1: int,
        times: npt.NDArray[np.float64],
        row: dict[tuple[str, str, str], npt.NDArray[np.float64]],
    ) -> None:
        """Wells drilled per block and type in each step: those whose drilling ended after
        the previous step's mid-day and by this one's.

        The rigs drilled the whole programme when the run was built (:func:`blocks.drill`);
        a drilling end at the very time of the dispatch's wake counts now if it was
        scheduled before the wake was (SimPy's order of simultaneous events, which the
        rigs' processes had: at time 0 every rig starts before the dispatch).
        """
        per_block = np.zeros((k1 - k0, len(self.blocks)))
        by_type = np.zeros((k1 - k0, 2))
        limit = times[-1]
        before = self._last_wake
        for b, (day, wtype_all, scheduled) in enumerate(self._drilled):
            lo = self._drilled_seen[b]
            hi = lo + int(np.searchsorted(day[lo:], limit, side="left"))
            while (
                hi < day.size
                and day[hi] == limit
                and (scheduled[hi] < before or scheduled[hi] == before == 0.0)
            ):
                hi += 1
            if hi == lo:
                continue
            when, wtype = day[lo:hi], wtype_all[lo:hi]
            step = np.searchsorted(times, when, side="left")
            per_block[:, b] = np.bincount(step, minlength=k1 - k0)
            for t in (0, 1):
                by_type[:, t] += np.bincount(step[wtype == t], minlength=k1 - k0)
            self._drilled_seen[b] = hi
        self.rec.put_blocks(k0, k1, "wells_drilled", "count", per_block)
        row["surface", "wells_drilled_vertical", "count"] = by_type[:, 0]
        row["surface", "wells_drilled_horizontal", "count"] = by_type[:, 1]

    def _event_columns(self) -> EventColumns:
        if not self.model.events:
            return _NO_EVENTS
        days, entities, kinds, details = zip(*self.model.events, strict=True)
        times = self.days[0] + pd.to_timedelta(np.asarray(days), unit="D")
        return EventColumns(times, entities, kinds, details)

    def record(self) -> RunRecord:
        """The recorded series and events as plain arrays."""
        if self._replay is not None:
            wells_at_end = self._replay.wells_at_end
        else:
            wells_at_end = len(self.pop)
            if self._recording is not None:  # finished: the next run of its key replays it
                self._recording.wells_at_end = wells_at_end
        return RunRecord(
            step_dates=self.days,
            columns=self.rec.columns(),
            events=self._event_columns() if self._events else _NO_EVENTS,
            wells_at_end=wells_at_end,
        )


_NO_EVENTS = EventColumns(pd.DatetimeIndex([]).as_unit("ns"), (), (), ())


def run(
    scenario: Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    progress: Progress | None = None,
    events: bool = True,
) -> RunRecord:
    """Build and simulate ``scenario`` over its horizon; see :func:`cbm_sim.results.run`
    (``events=False``: no events recorded, the rest the same)."""
    model = build(scenario, seed, events)
    try:
        record = Simulation(model, events).run(progress)
        keep_facility_lives(model)
        return record
    finally:
        model.release()
