"""Builds the cluster model of one run from a scenario: demand, wells, blocks, facilities.

:func:`build` turns a validated :class:`~cbm_sim.scenario.Scenario` into a :class:`Model`:
the day grid and dispatch steps, every demand and mine-gas series of the horizon (daily, and
cumulative so that a step's volume is a difference), the 2021 well population and its
per-block supply, the block agents with their rigs, the CNG/LNG plants, pipelines and
storage, each registered with one :class:`simpy.Environment`. Running it is
:mod:`cbm_sim.cluster.engine`'s job.

Randomness: every process has its own :class:`numpy.random.Generator`, spawned from the
scenario seed with a stable key per process name (:func:`stream`), so the same seed gives the
same run.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from cbm_sim import units
from cbm_sim.cluster import demand as demand_mod
from cbm_sim.cluster import minegas, netback
from cbm_sim.cluster.blocks import BlockAgent
from cbm_sim.cluster.facilities import Facility, day_index
from cbm_sim.cluster.storage import StorageAgent
from cbm_sim.plan.blocks import BlockInfo, load_blocks
from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.paths import interpolate
from cbm_sim.wells import stepping
from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import Hookup
from cbm_sim.wells.supply import BlockSupply

FloatArray = npt.NDArray[np.float64]
Seed = int | np.random.SeedSequence


def stream(seed: Seed, name: str) -> np.random.Generator:
    """An independent random stream for the process ``name``, derived from ``seed``.

    The key is a CRC of the name, not a counter, so adding a process does not shift the
    streams of the others.
    """
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    key = (*root.spawn_key, zlib.crc32(name.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=key)))


@dataclass
class DemandSeries:
    """Every exogenous daily series of the horizon, and its cumulative (index 0 = 0)."""

    daily: dict[str, FloatArray]
    """Sector demands [m³/d], ``lng_t`` [t/d], ``cng``, ``export_cap``, ``local``, ``city``,
    ``contracted`` (outbound contracts) and their ``take_or_pay_floor`` [m³/d]."""
    cumulative: dict[str, FloatArray]
    """Cumulative of each daily series (and of the mine-gas ones), one longer than the days."""
    export_capped: bool
    """Whether the scenario caps outbound volume (else pipeline capacity alone limits it)."""
    need_3day_m3: FloatArray
    need_5pct_m3: FloatArray
    mine: minegas.MineGasDaily


def demand_series(scenario: Scenario, days: pd.DatetimeIndex) -> DemandSeries:
    """The demand, export-cap, storage-rule and mine-gas series of every day of ``days``."""
    sc = scenario
    daily = demand_mod.daily_m3(sc.demand, days)
    years = demand_mod.calendar_years(days)
    ndays = demand_mod.days_in_year(days)
    lng_t = interpolate(sc.lng.demand_1e4_t_per_year, years) * units.WAN / ndays
    cng = interpolate(sc.cng.demand_1e8_m3_per_year, years) * units.YI / ndays
    cap = sc.pipelines.outbound_cap_1e8_m3_per_year
    # No cap stated: outbound volume is limited by pipeline capacity alone.
    export_cap = interpolate(cap, years) * units.YI / ndays if cap else np.zeros(len(days))
    zero = np.zeros(len(days))
    # summed from a zero array in sector order: the same additions, in the same order, as
    # Python's sum() of the sectors
    local: FloatArray = sum(daily.values(), zero)
    city: FloatArray = sum((daily[s] for s in demand_mod.CITY_GAS_SECTORS), zero)
    # Storage rules refer to the year's average day and the year's city-gas use; the
    # seasonal profile has mean 1, so the path's annual figure is the right base.
    annual_local: FloatArray = sum(
        (demand_mod.annual_m3(sc.demand, s, years) for s in demand_mod.SECTORS), zero
    )
    annual_city: FloatArray = sum(
        (demand_mod.annual_m3(sc.demand, s, years) for s in demand_mod.CITY_GAS_SECTORS), zero
    )
    contracted = np.zeros(len(days))
    floor = np.zeros(len(days))
    for contract in sc.contracts.outbound:
        dcq = demand_mod.contract_daily_m3(contract, days)
        contracted += dcq
        floor += contract.take_or_pay_share * dcq
    series = {
        **daily,
        "lng_t": lng_t,
        "cng": cng,
        "export_cap": export_cap,
        "local": local,
        "city": city,
        "contracted": contracted,
        "take_or_pay_floor": floor,
    }
    mine = minegas.daily(sc.mine_gas, days)
    cum = {k: np.concatenate(([0.0], np.cumsum(v))) for k, v in series.items()}
    for name in ("drainage_m3", "heating_m3", "power_gas_capacity_m3"):
        cum[name] = np.concatenate(([0.0], np.cumsum(getattr(mine, name))))
    return DemandSeries(
        daily=series,
        cumulative=cum,
        export_capped=bool(cap),
        need_3day_m3=sc.storage.rule_days * annual_local / ndays,
        need_5pct_m3=sc.storage.rule_city_gas_share * annual_city,
        mine=mine,
    )


@dataclass
class Model:
    """Everything one run needs, built from a scenario and registered with ``env``."""

    scenario: Scenario
    seed: Seed
    env: simpy.Environment
    days: pd.DatetimeIndex
    step: int
    blocks_info: tuple[BlockInfo, ...]
    events: list[tuple[float, str, str, str]] = field(default_factory=list)
    hookups: list[Hookup] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.origin: dt.date = self.scenario.horizon.start
        self.months = self.days.month.to_numpy()
        self.n_steps = int(np.ceil(len(self.days) / self.step))
        self.starts = np.arange(self.n_steps, dtype=np.int64) * self.step
        self.ends = np.minimum(self.starts + self.step, len(self.days))

    def log(self, day: float, entity: str, event: str, detail: str) -> None:
        """Record a discrete event at ``day`` (days since the start)."""
        # Days are turned into timestamps once, at the end: this runs for every event.
        self.events.append((float(day), entity, event, detail))

    # set by build()
    demand: DemandSeries = field(init=False)
    pop: WellPopulation = field(init=False)
    rate_scale: float = field(init=False)
    """The history's exact 2021 factor on peak rates, applied to new wells too."""
    supply: BlockSupply = field(init=False)
    fail_rng: np.random.Generator = field(init=False)
    blocks: list[BlockAgent] = field(init=False)
    cng: list[Facility] = field(init=False)
    lng: list[Facility] = field(init=False)
    lines: list[Facility] = field(init=False)
    storage: StorageAgent = field(init=False)
    netback: npt.NDArray[np.float64] = field(init=False)
    """Netback of each dispatch request in each step [元/m³] (:mod:`cbm_sim.cluster.netback`)."""


def build(scenario: Scenario, seed: Seed | None = None) -> Model:
    """The model of one run of ``scenario``, its processes registered, not yet run.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        Overrides ``scenario.seed`` (ensembles pass a spawned ``SeedSequence``).

    Raises
    ------
    ValueError
        If the drilling section names a block that is not packaged.
    """
    hz = scenario.horizon
    model = Model(
        scenario=scenario,
        seed=scenario.seed if seed is None else seed,
        env=simpy.Environment(),
        days=pd.date_range(hz.start, hz.end, freq="D"),
        step=hz.step_days,
        blocks_info=load_blocks(),
    )
    model.demand = demand_series(scenario, model.days)
    model.netback = netback.per_step(
        scenario.valuation, model.days.year.to_numpy()[model.starts], scenario.lng.feed_gas_m3_per_t
    )
    _build_wells(model)
    _build_blocks(model)
    _build_facilities(model)
    return model


def _build_wells(m: Model) -> None:
    sc = m.scenario
    past = stepping.initial_history(stream(m.seed, "history"), sc.wells)
    m.pop = past.pop
    m.rate_scale = past.rate_scale
    m.supply = BlockSupply(m.pop, len(m.blocks_info), m.step)
    m.fail_rng = stream(m.seed, "pump-failures")


def _build_blocks(m: Model) -> None:
    sc = m.scenario
    known = {b.id for b in m.blocks_info}
    unknown = sorted(set(sc.drilling.blocks) - known)
    if unknown:
        raise ValueError(f"unknown block(s) {unknown} in drilling; known: {sorted(known)}")
    booked = stepping.eur_by_block(m.pop, len(m.blocks_info))
    sampler = stepping.new_well_sampler(
        sc.type_curves, stream(m.seed, "new-wells"), rate_scale=m.rate_scale
    )
    m.blocks = [
        BlockAgent(
            info=info,
            programme=sc.drilling.blocks.get(info.id),
            drilling=sc.drilling,
            booked_eur_m3=float(booked[info.index]),
            start=sc.horizon.start,
            end=sc.horizon.end,
            hookups=m.hookups,
            log=m.log,
            sample=sampler,
            well_eur=stepping.params_eur,
            prepare=stepping.prepared_columns,
        )
        for info in m.blocks_info
    ]
    for block in m.blocks:
        block.start_drilling(m.env)


def commission_day(m: Model, day: dt.date | None) -> float | None:
    """Days from the start to the commissioning of a facility stated to start on ``day``.

    A date after the horizon start slips by ``scenario.commissioning.delay_days`` (whole
    days), at most to the last day of the horizon; ``None`` (in service at the start) and
    dates on or before the start do not move.
    """
    stated = day_index(day, m.origin)
    if stated is None or stated <= 0:
        return stated
    delay = float(np.floor(m.scenario.commissioning.delay_days))
    return min(stated + delay, float(len(m.days) - 1))


def _facility(
    m: Model, kind: str, name: str, capacity: float, spec: Any, index: int = 0
) -> Facility:
    # assumption: operators stagger planned stops, one plant of a kind at a time (8 days
    # apart), rather than shutting every plant in the same week.
    fac = Facility(
        maintenance_offset_days=8.0 * index,
        kind=kind,
        name=name,
        capacity=capacity,
        commission_day=commission_day(m, getattr(spec, "commissioned", None)),
        retire_day=day_index(getattr(spec, "retired", None), m.origin),
        reliability=getattr(spec, "reliability", None),
        origin=m.origin,
    )
    fac.start(m.env, stream(m.seed, fac.entity), m.log)
    return fac


def _build_facilities(m: Model) -> None:
    sc = m.scenario
    m.cng = [
        _facility(m, "cng", s.name, s.capacity_1e4_m3_per_day * units.WAN, s, i)
        for i, s in enumerate(sc.cng.stations)
    ]
    m.lng = [
        _facility(m, "lng", p.name, p.capacity_t_per_day, p, i) for i, p in enumerate(sc.lng.plants)
    ]
    m.lines = [
        _facility(
            m, "pipeline", p.name, p.capacity_1e8_m3_per_year * units.YI / units.DAYS_PER_YEAR, p
        )
        for p in sc.pipelines.lines
    ]
    projects = [
        _facility(m, "storage", p.name, p.capacity_1e4_m3 * units.WAN, p)
        for p in sc.storage.projects
    ]
    m.storage = StorageAgent(
        projects=projects,
        level_m3=0.0,
        max_rate_share_per_day=sc.storage.max_rate_share_per_day,
        injection_months=frozenset(sc.storage.injection_months),
        sendout_m3_per_day=tuple(
            p.capacity_1e4_m3 * units.WAN * sc.storage.max_rate_share_per_day
            if p.sendout_1e4_m3_per_day is None
            else p.sendout_1e4_m3_per_day * units.WAN
            for p in sc.storage.projects
        ),
    )
