"""The cluster as a SimPy discrete-event simulation, with a gas balance that closes every step.

Processes registered with one :class:`simpy.Environment` (time in days since the horizon
start):

* one drilling programme per block (rigs as ``simpy.Resource``; wells join at hook-up);
* the life of every facility: commissioning, random trips and repairs, yearly maintenance;
* the dispatch step, every ``step_days`` at mid-day (so that it sees every whole-day event
  of its first day): new wells hook up, pumps fail and go down for workover, the well
  population is evaluated for the step in one vectorised call, and :func:`dispatch.route`
  sends the gas to its uses by priority.

Randomness: every process has its own :class:`numpy.random.Generator`, spawned from the
scenario seed with a stable key per process name, so the same seed gives the same run.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

import cbm_sim
from cbm_sim import demand as demand_mod
from cbm_sim import minegas, population, units
from cbm_sim.blocks import BlockAgent, Hookup, load_blocks
from cbm_sim.dispatch import route
from cbm_sim.facilities import Facility, day_index
from cbm_sim.paths import interpolate
from cbm_sim.results import Results, annualise, events_frame, tidy_daily
from cbm_sim.scenario import Scenario
from cbm_sim.storage import StorageAgent, rule_holds
from cbm_sim.supply import BlockSupply

Progress = Callable[[float], None]
LOCAL_ORDER: tuple[str, ...] = ("field_use", *demand_mod.SECTORS)
"""Local uses in dispatch priority order (field use is physical, then 民生 first)."""
DISPATCH_TIERS = np.array([0, 1, 2, 4, 4, 4, 4, 4], dtype=np.int64)
"""Tiers of (field use, residential, commercial, transport, industry, chemicals, CNG, LNG):
民生 first (plan ch4 §3 一), then 公商福业, then the rest shared pro rata (dispatch.py)."""
RESERVE_FILL_TIER = 3
"""Filling storage to the plan's reserve rules comes after 公商福业, before the pro-rata tier
(assumption: the reserves are a legal duty, 发改能源规〔2018〕637号 quoted in ch1 §2 四)."""


def stream(seed: int | np.random.SeedSequence, name: str) -> np.random.Generator:
    """An independent random stream for the process ``name``, derived from ``seed``.

    The key is a CRC of the name, not a counter, so adding a process does not shift the
    streams of the others.
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    key = (*root.spawn_key, zlib.crc32(name.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=key)))


@dataclass
class _Recorder:
    """Per-step arrays of every recorded series, turned into a tidy frame at the end."""

    n_steps: int
    block_entities: tuple[str, ...]

    def __post_init__(self) -> None:
        self.series: dict[tuple[str, str, str], list[float]] = {}
        self.blocks: dict[tuple[str, str], npt.NDArray[np.float64]] = {}

    def put_row(self, k: int, row: dict[tuple[str, str, str], float]) -> None:
        """Record step ``k``'s values, keyed ``(entity, quantity, unit)``."""
        series = self.series
        for key, value in row.items():
            values = series.get(key)
            if values is None:
                # a Python list: storing a float in it costs less than in a numpy array
                values = series[key] = [0.0] * self.n_steps
            values[k] = value

    def put_blocks(self, k: int, quantity: str, unit: str, values: npt.ArrayLike) -> None:
        key = (quantity, unit)
        arr = self.blocks.get(key)
        if arr is None:
            arr = self.blocks[key] = np.zeros((self.n_steps, len(self.block_entities)))
        arr[k] = values

    def frame(self, dates: pd.DatetimeIndex) -> pd.DataFrame:
        per_block = (
            (entity, quantity, unit, arr[:, b])
            for (quantity, unit), arr in self.blocks.items()
            for b, entity in enumerate(self.block_entities)
        )
        scalars = ((e, q, u, np.asarray(v)) for (e, q, u), v in self.series.items())
        return tidy_daily(dates, itertools.chain(per_block, scalars))


class Simulation:
    """One run of a scenario: build the agents, run the environment, collect results."""

    def __init__(
        self, scenario: Scenario, seed: int | np.random.SeedSequence | None = None
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        hz = scenario.horizon
        self.origin = hz.start
        self.days = pd.date_range(hz.start, hz.end, freq="D")
        self._months = self.days.month.to_numpy()
        self.step = hz.step_days
        self.n_steps = int(np.ceil(len(self.days) / self.step))
        self.env = simpy.Environment()
        self.events: list[tuple[float, str, str, str]] = []
        self.blocks_info = load_blocks()
        self.rec = _Recorder(self.n_steps, tuple(f"block:{b.id}" for b in self.blocks_info))
        self._build_demand()
        self._build_wells()
        self._build_blocks()
        self._build_facilities()

    # -- construction -------------------------------------------------------------------
    def log(self, day: float, entity: str, event: str, detail: str) -> None:
        """Record a discrete event at ``day`` (days since the start)."""
        # Days are turned into timestamps once, at the end: this runs for every event.
        self.events.append((float(day), entity, event, detail))

    def _build_demand(self) -> None:
        sc = self.scenario
        daily = demand_mod.daily_m3(sc.demand, self.days)
        years = demand_mod.calendar_years(self.days)
        ndays = demand_mod.days_in_year(self.days)
        lng_t = interpolate(sc.lng.demand_1e4_t_per_year, years) * units.WAN / ndays
        cng = interpolate(sc.cng.demand_1e8_m3_per_year, years) * units.YI / ndays
        cap = sc.pipelines.outbound_cap_1e8_m3_per_year
        # No cap stated: outbound volume is limited by pipeline capacity alone.
        self._export_capped = bool(cap)
        export_cap = interpolate(cap, years) * units.YI / ndays if cap else np.zeros(len(self.days))
        local = sum(daily.values())
        city = sum(daily[s] for s in demand_mod.CITY_GAS_SECTORS)
        # Storage rules refer to the year's average day and the year's city-gas use; the
        # seasonal profile has mean 1, so the path's annual figure is the right base.
        annual_local = sum(demand_mod.annual_m3(sc.demand, s, years) for s in demand_mod.SECTORS)
        annual_city = sum(
            demand_mod.annual_m3(sc.demand, s, years) for s in demand_mod.CITY_GAS_SECTORS
        )
        self._daily = {
            **daily,
            "lng_t": lng_t,
            "cng": cng,
            "export_cap": export_cap,
            "local": local,
            "city": city,
        }
        self._need_3day = sc.storage.rule_days * annual_local / ndays
        self._need_5pct = sc.storage.rule_city_gas_share * annual_city
        self._mine = minegas.daily(sc.mine_gas, self.days)
        self._cum = {k: np.concatenate(([0.0], np.cumsum(v))) for k, v in self._daily.items()}
        mine = self._mine
        for name in ("drainage_m3", "heating_m3", "power_gas_capacity_m3"):
            self._cum[name] = np.concatenate(([0.0], np.cumsum(getattr(mine, name))))

    def _build_wells(self) -> None:
        sc = self.scenario
        self.pop = population.initial_population(stream(self.seed, "history"), sc.wells)
        self._supply = BlockSupply(self.pop, len(self.blocks_info), self.step)
        self._sampler = population.new_well_sampler(sc.type_curves, stream(self.seed, "new-wells"))
        self._fail_rng = stream(self.seed, "pump-failures")
        self.hookups: list[Hookup] = []
        self._workovers = 0

    def _build_blocks(self) -> None:
        sc = self.scenario
        known = {b.id for b in self.blocks_info}
        unknown = sorted(set(sc.drilling.blocks) - known)
        if unknown:
            raise ValueError(f"unknown block(s) {unknown} in drilling; known: {sorted(known)}")
        booked = population.eur_by_block(self.pop, len(self.blocks_info))
        self.blocks = [
            BlockAgent(
                info=info,
                programme=sc.drilling.blocks.get(info.id),
                drilling=sc.drilling,
                booked_eur_m3=float(booked[info.index]),
                start=sc.horizon.start,
                end=sc.horizon.end,
                hookups=self.hookups,
                log=self.log,
                sample=self._sampler,
                well_eur=population.params_eur,
                prepare=population.prepared_columns,
            )
            for info in self.blocks_info
        ]
        for block in self.blocks:
            block.start_drilling(self.env)
        self._drilled_recorded = np.zeros((len(self.blocks), 2))
        self._drilled_by_type = [0, 0]

    def _facility(self, kind: str, name: str, capacity: float, spec, index: int = 0) -> Facility:
        # assumption: operators stagger planned stops, one plant of a kind at a time (8 days
        # apart), rather than shutting every plant in the same week.
        fac = Facility(
            maintenance_offset_days=8.0 * index,
            kind=kind,
            name=name,
            capacity=capacity,
            commission_day=day_index(getattr(spec, "commissioned", None), self.origin),
            retire_day=day_index(getattr(spec, "retired", None), self.origin),
            reliability=getattr(spec, "reliability", None),
            origin=self.origin,
        )
        fac.start(self.env, stream(self.seed, fac.entity), self.log)
        return fac

    def _build_facilities(self) -> None:
        sc = self.scenario
        self.cng = [
            self._facility("cng", s.name, s.capacity_1e4_m3_per_day * units.WAN, s, i)
            for i, s in enumerate(sc.cng.stations)
        ]
        self.lng = [
            self._facility("lng", p.name, p.capacity_t_per_day, p, i)
            for i, p in enumerate(sc.lng.plants)
        ]
        self.lines = [
            self._facility(
                "pipeline", p.name, p.capacity_1e8_m3_per_year * units.YI / units.DAYS_PER_YEAR, p
            )
            for p in sc.pipelines.lines
        ]
        projects = [
            self._facility("storage", p.name, p.capacity_1e4_m3 * units.WAN, p)
            for p in sc.storage.projects
        ]
        self.storage = StorageAgent(
            projects=projects,
            level_m3=0.0,
            max_rate_share_per_day=sc.storage.max_rate_share_per_day,
            injection_months=frozenset(sc.storage.injection_months),
        )
        self._storage_initialised = False

    # -- running ------------------------------------------------------------------------
    def run(self, progress: Progress | None = None) -> Results:
        """Run to the end of the horizon and return the results."""
        self.env.process(self._dispatch(progress))
        self.env.run(until=float(len(self.days)))
        return self.results()

    def _sum(self, name: str, d0: int, d1: int) -> float:
        c = self._cum[name]
        return float(c[d1] - c[d0])

    def _dispatch(self, progress: Progress | None):
        yield self.env.timeout(0.5)
        sc = self.scenario
        for k in range(self.n_steps):
            d0 = k * self.step
            d1 = min(d0 + self.step, len(self.days))
            if not self._storage_initialised:
                self.storage.level_m3 = self.storage.capacity_m3 * sc.storage.initial_fill_share
                self._storage_initialised = True
            self._step(k, d0, d1)
            if progress is not None and (k % 50 == 0 or k == self.n_steps - 1):
                progress((k + 1) / self.n_steps)
            if k < self.n_steps - 1:
                yield self.env.timeout(self.step)

    def _hook_up(self, d0: int) -> int:
        if not self.hookups:
            return 0
        # Wells are appended as they finish completion, in simulation time, so the list is in
        # order of day: the ready ones are a prefix.
        limit = d0 + self.step - 1
        n = 0
        for h in self.hookups:
            if h.day > limit:
                break
            n += 1
        if n == 0:
            return 0
        ready = self.hookups[:n]
        del self.hookups[:n]
        first = len(self.pop)
        constants = population.add_hookups(self.pop, ready)
        if constants is not None:
            self._supply.add_constants(first, constants)
        per_block = np.bincount([h.block for h in ready], minlength=len(self.blocks_info))
        for idx in np.flatnonzero(per_block):
            self.log(d0, f"block:{self.blocks_info[idx].id}", "wells online", str(per_block[idx]))
        return len(ready)

    def _pump_failures(self, d0: int, dt_days: int) -> int:
        rate = self.scenario.wells.pump_failures_per_well_year
        if rate <= 0:
            return 0
        n_up = self._supply.producing_count(d0)
        if n_up == 0:
            return 0
        mean = rate * dt_days / units.DAYS_PER_YEAR * n_up
        n = min(int(self._fail_rng.poisson(mean)), n_up)
        if n == 0:
            return 0
        idx = population.sample_producing(self.pop, float(d0), n, n_up, self._fail_rng)
        self._supply.set_down(idx, float(d0), float(d0) + self.scenario.wells.workover_days)
        return n

    def _step(self, k: int, d0: int, d1: int) -> None:
        sc = self.scenario
        dt_days = d1 - d0
        rec = self.rec
        self._hook_up(d0)
        workovers = self._pump_failures(d0, dt_days)
        by_block, counts = self._supply.step(d0, d1)
        potential = float(by_block.sum())

        field_use = sc.demand.field_use_share * potential
        local = [field_use] + [self._sum(s, d0, d1) for s in demand_mod.SECTORS]
        cng_cap = sum(f.available_capacity for f in self.cng) * dt_days
        lng_cap_t = sum(f.available_capacity for f in self.lng) * dt_days
        feed = sc.lng.feed_gas_m3_per_t
        cng_req = min(self._sum("cng", d0, d1), cng_cap)
        lng_req = min(self._sum("lng_t", d0, d1), lng_cap_t) * feed
        requests = np.array([*local, cng_req, lng_req], dtype=np.float64)
        pipe_cap = sum(f.available_capacity for f in self.lines) * dt_days
        export_limit = (
            min(pipe_cap, self._sum("export_cap", d0, d1)) if self._export_capped else pipe_cap
        )
        month = int(self._months[d0])
        st = self.storage
        need3 = float(self._need_3day[d0])
        need5 = float(self._need_5pct[d0])
        flows = route(
            surface_m3=potential,
            requests_m3=requests,
            n_local=len(local),
            tiers=DISPATCH_TIERS,
            mine_drainage_m3=self._sum("drainage_m3", d0, d1),
            mine_usable_share=float(self._mine.usable_share[d0]),
            mine_heating_m3=self._sum("heating_m3", d0, d1),
            mine_power_capacity_m3=self._sum("power_gas_capacity_m3", d0, d1),
            storage_level_m3=st.level_m3,
            storage_capacity_m3=st.capacity_m3,
            storage_max_rate_m3=st.max_rate_m3(dt_days),
            inject=month in st.injection_months,
            withdraw=month not in st.injection_months,
            export_limit_m3=export_limit,
            reserve_fill_m3=max(need3, need5) - st.level_m3,
            reserve_fill_tier=RESERVE_FILL_TIER,
        )
        st.apply(flows.injection, flows.withdrawal)

        row: dict[tuple[str, str, str], float] = {}
        rec.put_blocks(k, "surface_production", "m3", by_block)
        rec.put_blocks(k, "wells_active", "count", counts.active)
        rec.put_blocks(k, "wells_total", "count", counts.total)
        row["surface", "potential", "m3"] = potential
        row["surface", "production", "m3"] = potential - flows.shut_in
        row["surface", "wells_active", "count"] = float(counts.active.sum())
        row["surface", "wells_active_mean", "count"] = float(counts.active.sum())
        row["surface", "wells_down", "count"] = float(counts.down)
        row["surface", "workovers", "count"] = float(workovers)
        self._record_drilling(k, row)

        for name, req, got in zip(LOCAL_ORDER, local, flows.allocated[: len(local)], strict=True):
            row[f"demand:{name}", "demand", "m3"] = req
            row[f"demand:{name}", "delivered", "m3"] = got
            row[f"demand:{name}", "shortfall", "m3"] = req - got
        cng_feed, lng_feed = flows.allocated[len(local) :]
        drainage = self._sum("drainage_m3", d0, d1)
        row["mine_gas", "drainage", "m3"] = drainage
        row["mine_gas", "utilised", "m3"] = flows.mine_heating + flows.mine_power
        row["mine_gas", "vented", "m3"] = flows.mine_vented
        row["mine_power", "gas_used", "m3"] = flows.mine_power
        kwh = flows.mine_power / sc.mine_gas.power_gas_m3_per_kwh
        row["mine_power", "electricity", "kWh"] = kwh
        row["mine_power", "capacity_mw", "MW"] = float(self._mine.power_capacity_mw[d0])
        row["mine_power", "plants", "count"] = float(self._mine.power_plants[d0])
        row["mine_heating", "gas_used", "m3"] = flows.mine_heating
        row["cng", "feed_gas", "m3"] = cng_feed
        row["cng", "capacity", "m3"] = cng_cap
        self._record_plants(row, "cng", "stations", self.cng, dt_days)
        row["lng", "feed_gas", "m3"] = lng_feed
        row["lng", "output", "t"] = lng_feed / feed
        row["lng", "capacity", "m3"] = lng_cap_t * feed
        self._record_plants(row, "lng", "plants", self.lng, dt_days)
        for fac in self.lng:
            row[fac.entity, "available", "fraction"] = 1.0 if fac.available_capacity > 0 else 0.0
        row["pipeline", "exports", "m3"] = flows.exports
        row["pipeline", "capacity", "m3"] = pipe_cap
        row["storage", "injection", "m3"] = flows.injection
        row["storage", "withdrawal", "m3"] = flows.withdrawal
        row["storage", "level", "m3"] = st.level_m3
        row["storage", "storage_capacity", "m3"] = st.capacity_m3
        row["storage", "rule_3day_need", "m3"] = need3
        row["storage", "rule_5pct_need", "m3"] = need5
        for rule, need in (("rule_3day", need3), ("rule_5pct", need5)):
            held = rule_holds(st.level_m3, need)
            row["storage", f"{rule}_violation_days", "day"] = 0.0 if held else float(dt_days)
        row["balance", "shut_in", "m3"] = flows.shut_in
        supply = potential + drainage + flows.withdrawal
        uses = (
            float(flows.allocated.sum())
            + flows.mine_heating
            + flows.mine_power
            + flows.mine_vented
            + flows.injection
            + flows.exports
            + flows.shut_in
        )
        row["balance", "residual", "m3"] = supply - uses
        rec.put_row(k, row)

    def _record_plants(
        self, row: dict, entity: str, count_name: str, plants: list[Facility], dt_days: int
    ) -> None:
        """Plants in service and plant-days of outage over the step (summed over plants)."""
        row[entity, count_name, "count"] = float(sum(f.in_service for f in plants))
        down = sum(f.in_service and f.down for f in plants)
        row[entity, "outage_days", "day"] = float(down) * dt_days

    def _record_drilling(self, k: int, row: dict) -> None:
        by_type = [sum(b.drilled[t] for b in self.blocks) for t in (0, 1)]
        new_by_type = [by_type[t] - self._drilled_by_type[t] for t in (0, 1)]
        per_block = np.zeros(len(self.blocks))
        if any(new_by_type):  # on days no rig finishes a well, the per-block array is zero
            drilled = np.array([[b.drilled[0], b.drilled[1]] for b in self.blocks], float)
            per_block = (drilled - self._drilled_recorded).sum(axis=1)
            self._drilled_recorded = drilled
            self._drilled_by_type = by_type
        self.rec.put_blocks(k, "wells_drilled", "count", per_block)
        row["surface", "wells_drilled_vertical", "count"] = float(new_by_type[0])
        row["surface", "wells_drilled_horizontal", "count"] = float(new_by_type[1])

    def _event_rows(self) -> list[tuple[pd.Timestamp, str, str, str]]:
        if not self.events:
            return []
        days, entities, kinds, details = zip(*self.events, strict=True)
        times = self.days[0] + pd.to_timedelta(np.asarray(days), unit="D")
        return list(zip(times, entities, kinds, details, strict=True))

    def results(self) -> Results:
        """Collect the recorded series into :class:`Results`."""
        step_dates = self.days[:: self.step]
        daily = self.rec.frame(step_dates)
        annual = annualise(daily)
        seed = self.seed
        meta = {
            "scenario": self.scenario.name,
            "seed": seed if isinstance(seed, int) else repr(seed),
            "cbm_sim_version": cbm_sim.__version__,
            "start": str(self.scenario.horizon.start),
            "end": str(self.scenario.horizon.end),
            "step_days": self.step,
            "wells_at_end": len(self.pop),
        }
        return Results(
            daily=daily,
            annual=annual,
            events=events_frame(self._event_rows()),
            meta=meta,
            scenario=self.scenario,
        )


def run(
    scenario: Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    progress: Progress | None = None,
) -> Results:
    """Simulate ``scenario`` over its horizon.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        Overrides ``scenario.seed`` (ensembles pass a spawned ``SeedSequence``).
    progress
        Called with the fraction done (0-1) now and then, for progress bars.

    Returns
    -------
    Results
        Daily, annual and event frames; the gas balance residual is recorded every step.
    """
    return Simulation(scenario, seed).run(progress)
