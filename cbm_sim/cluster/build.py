"""Builds the cluster model of one run from a scenario: demand, wells, blocks, facilities.

:func:`build` turns a validated :class:`~cbm_sim.scenario.Scenario` into a :class:`Model`:
the day grid (the dispatch steps are days), every demand and mine-gas series of the
horizon (daily, and cumulative so that a step's volume is a difference), the 2021 well
population and its per-block supply, the block agents with their rigs, the CNG/LNG plants,
pipelines and storage, each registered with one :class:`simpy.Environment`. Running it is
:mod:`cbm_sim.cluster.engine`'s job.

Randomness: every process has its own :class:`numpy.random.Generator`, spawned from the
scenario seed with a stable key per process name (:func:`stream`), so the same seed gives the
same run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import simpy

from cbm_sim import units
from cbm_sim.cluster import demand as demand_mod
from cbm_sim.cluster import minegas, netback, resource
from cbm_sim.cluster.blocks import BlockAgent, Depletion, drill_programmes, log_depletion
from cbm_sim.cluster.facilities import Facility, day_index
from cbm_sim.cluster.storage import StorageAgent
from cbm_sim.plan.blocks import BlockInfo, load_blocks
from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.paths import interpolate
from cbm_sim.wells import history, stepping
from cbm_sim.wells.population import WellPopulation
from cbm_sim.wells.stepping import Hookups
from cbm_sim.wells.supply import BlockSupply, SharedWindows

FloatArray = npt.NDArray[np.float64]
Seed = int | np.random.SeedSequence


def _stream_seed(seed: Seed, name: str) -> np.random.SeedSequence:
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    key = (*root.spawn_key, zlib.crc32(name.encode("utf-8")))
    return np.random.SeedSequence(root.entropy, spawn_key=key)


def stream(seed: Seed, name: str) -> np.random.Generator:
    """An independent random stream for the process ``name``, derived from ``seed``.

    The key is a CRC of the name, not a counter, so adding a process does not shift the
    streams of the others.
    """
    return np.random.Generator(np.random.PCG64(_stream_seed(seed, name)))


HISTORY_CACHE_SIZE = 4
"""Calibrated 2021 histories kept per process, keyed by what they depend on (the seed's
``history`` stream, the wells' reliability, the calibration). A Sobol study runs every case
with the scenario's seed, so each worker draws and calibrates its 2021 wells once; the
members of an ensemble differ in seed and miss (a few MB each: assumption, a handful is
plenty)."""


@dataclass
class _History:
    """A cached history and what has been computed from it alone (keyed by its inputs)."""

    pop: WellPopulation
    rate_scale: float
    derived: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    runs: int = 0
    """Runs built on it so far (what only repeated runs repay is kept from the second on)."""


_HISTORIES: OrderedDict[tuple[Any, ...], _History] = OrderedDict()


def _history(m: Model) -> _History:
    """The cached history of ``m``'s seed, reliability and calibration (drawn if new).

    Its population must not be written: the run takes :meth:`WellPopulation.copy`.
    """
    rel = m.scenario.wells
    ss = _stream_seed(m.seed, "history")
    entropy = ss.entropy if isinstance(ss.entropy, int) else tuple(ss.entropy or ())
    key = (
        entropy,
        ss.spawn_key,
        ss.pool_size,
        rel.pump_failures_per_well_year,
        rel.workover_days,
        m.calibration,
    )
    hit = _HISTORIES.get(key)
    if hit is None:
        rng = np.random.Generator(np.random.PCG64(ss))
        past = stepping.initial_history(rng, rel, m.calibration)
        hit = _HISTORIES[key] = _History(past.pop, past.rate_scale)
        while len(_HISTORIES) > HISTORY_CACHE_SIZE:
            _HISTORIES.popitem(last=False)
    else:
        _HISTORIES.move_to_end(key)
    return hit


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
    blocks_info: tuple[BlockInfo, ...]
    events: list[tuple[float, str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.origin: dt.date = self.scenario.horizon.start
        self.months = self.days.month.to_numpy()
        # the dispatch steps are days, whatever the step of the recorded results
        # (cbm_sim/scenario/steps.py: results.simulate sums the days into those steps)
        self.n_steps = len(self.days)
        self.starts = np.arange(self.n_steps, dtype=np.int64)
        self.ends = self.starts + 1

    def log(self, day: float, entity: str, event: str, detail: str) -> None:
        """Record a discrete event at ``day`` (days since the start)."""
        # Days are turned into timestamps once, at the end: this runs for every event.
        self.events.append((float(day), entity, event, detail))

    def release(self) -> None:
        """Drop the references that make a finished model a cycle (the SimPy events still
        queued past the horizon, which hold the processes; the blocks' ``log``, a method of
        the model), so that it is freed as soon as the run lets go of it: the cyclic
        collector walked ~50,000 objects a run to find it (issue 27)."""
        queue = self.env._queue  # (time, priority, id, event): a waiting process and its
        for *_, event in queue:  # event refer to each other (its callback, its target)
            event.callbacks = None  # type: ignore[assignment]  # SimPy's mark of "processed"
        queue.clear()
        for block in self.blocks:
            block.log = _released

    # set by build()
    demand: DemandSeries = field(init=False)
    pop: WellPopulation = field(init=False)
    calibration: history.Calibration = field(init=False)
    """The packaged calibration the scenario names (``type_curves.calibration``)."""
    rate_scale: float = field(init=False)
    """The history's exact 2021 factor on peak rates, applied to new wells too."""
    history: _History = field(init=False)
    """The (cached) history the run's population was copied from."""
    supply: BlockSupply = field(init=False)
    fail_rng: np.random.Generator = field(init=False)
    blocks: list[BlockAgent] = field(init=False)
    hookups: Hookups = field(init=False)
    """Every well the rigs drill in the horizon, in the order they finish drilling."""
    cng: list[Facility] = field(init=False)
    lng: list[Facility] = field(init=False)
    lines: list[Facility] = field(init=False)
    storage: StorageAgent = field(init=False)
    netback: npt.NDArray[np.float64] = field(init=False)
    """Netback of each dispatch request in each step [元/m³] (:mod:`cbm_sim.cluster.netback`)."""
    facilities_key: tuple[str, str] | None = field(init=False, default=None)
    """Where the run keeps its facilities' lives when it finishes (:func:`keep_facility_lives`);
    ``None``: nothing to keep (a history's first run, or lives taken from an earlier run)."""

    def facilities(self, projects: list[Facility] | None = None) -> list[Facility]:
        """Every facility, in a fixed order: CNG, LNG, pipelines, storage projects."""
        stored = self.storage.projects if projects is None else projects
        return [*self.cng, *self.lng, *self.lines, *stored]


def _released(day: float, entity: str, event: str, detail: str) -> None:
    raise RuntimeError("the model was released: its run is over")


def build(scenario: Scenario, seed: Seed | None = None, events: bool = True) -> Model:
    """The model of one run of ``scenario``, its processes registered, not yet run.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        Overrides ``scenario.seed`` (ensembles pass a spawned ``SeedSequence``).
    events
        Whether the run's events are wanted (``False``: a history's repeated runs may take
        the facilities' histories of an earlier run instead of simulating them again).

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
        blocks_info=load_blocks(),
    )
    model.demand = demand_series(scenario, model.days)
    model.netback = netback.per_step(
        scenario.valuation, model.days.year.to_numpy()[model.starts], scenario.lng.feed_gas_m3_per_t
    )
    _build_wells(model)
    _build_blocks(model)
    model.supply.reserve(len(model.pop) + len(model.hookups))
    model.pop.reserve(len(model.pop) + len(model.hookups))  # the hook-ups copy no column
    _build_facilities(model, events)
    return model


def _build_wells(m: Model) -> None:
    sc = m.scenario
    m.calibration = history.packaged_calibration(sc.type_curves.calibration)
    m.history = _history(m)
    m.history.runs += 1
    m.pop = m.history.pop.copy()
    m.rate_scale = m.history.rate_scale
    n_blocks, horizon = len(m.blocks_info), len(m.days)
    shared = None
    if m.history.runs >= 2:
        # the history's wells give every run of it the same windows: kept from the second
        # run on (an ensemble's members each have their own history and never repay it)
        key = ("supply-windows", n_blocks, horizon)
        shared = m.history.derived.setdefault(key, SharedWindows(len(m.history.pop)))
    m.supply = BlockSupply(m.pop, n_blocks, horizon_days=horizon, shared=shared)
    m.fail_rng = stream(m.seed, "pump-failures")


def _build_blocks(m: Model) -> None:
    sc = m.scenario
    known = {b.id for b in m.blocks_info}
    unknown = sorted(set(sc.drilling.blocks) - known)
    if unknown:
        raise ValueError(f"unknown block(s) {unknown} in drilling; known: {sorted(known)}")
    # a history's repeated runs with the same drilling inputs drill the same wells: the
    # second drills them and keeps the result, later ones take it (_Drilled)
    key = ("drilled", _drilling_inputs(sc, len(m.days))) if m.history.runs >= 2 else None
    if key is not None and isinstance(done := m.history.derived.get(key), _Drilled):
        m.history.derived[key] = m.history.derived.pop(key)  # most recent last
        m.blocks = [dataclasses.replace(b, log=m.log) for b in done.blocks]
        m.events.extend(done.logged)
        m.hookups = done.hookups
        log_depletion(m.blocks, m.env, done.depleted)
        return
    sampler = stepping.new_well_sampler(
        sc.type_curves,
        stream(m.seed, "new-wells"),
        rate_scale=m.rate_scale,
        calibration=m.calibration,
    )
    resources = block_resources(m)
    m.blocks = [
        BlockAgent(
            info=info,
            programme=sc.drilling.blocks.get(info.id),
            drilling=sc.drilling,
            resource=resources[info.index],
            start=sc.horizon.start,
            end=sc.horizon.end,
            log=m.log,
            sample=sampler,
            prepare=stepping.prepared_columns,
        )
        for info in m.blocks_info
    ]
    # nothing acts on the rigs: the whole programme is drilled now (blocks.drill)
    logged = len(m.events)
    m.hookups, depleted = drill_programmes(m.blocks, float(len(m.days)))
    log_depletion(m.blocks, m.env, depleted)
    if key is not None:
        _frozen(m.hookups)
        kept = [dataclasses.replace(b, log=_released) for b in m.blocks]
        m.history.derived[key] = _Drilled(kept, m.hookups, m.events[logged:], depleted)
        drilled = [k for k in m.history.derived if k[0] == "drilled"]
        for old in drilled[: max(len(drilled) - DRILLINGS_PER_HISTORY, 0)]:
            del m.history.derived[old]


@dataclass(frozen=True)
class FacilityLives:
    """The facilities' histories of a finished run (:attr:`Facility.history`, in the order of
    :meth:`Model.facilities`), for a history's later runs with the same facility sections
    whose events are not wanted: those runs read the histories instead of simulating every
    trip and repair again. The dispatch reads a history at mid-days and every change of a
    plant happens on a whole day, so the states it reads are the same (a test compares)."""

    histories: list[list[tuple[float, bool, bool]]]


def keep_facility_lives(m: Model) -> None:
    """Keep the facilities' histories of ``m``'s finished run for later runs (see
    :class:`FacilityLives`); nothing if the run has no place to keep them."""
    if m.facilities_key is None:
        return
    lives = [f.history for f in m.facilities()]
    if not all(_on_whole_days(life) for life in lives):
        return  # a change inside a day could tie with the dispatch's reading: not kept
    m.history.derived[m.facilities_key] = FacilityLives(lives)
    kept = [k for k in m.history.derived if k[0] == "facilities"]
    for old in kept[: max(len(kept) - DRILLINGS_PER_HISTORY, 0)]:
        del m.history.derived[old]


def _on_whole_days(life: list[tuple[float, bool, bool]]) -> bool:
    """Whether every change of a facility's history falls on a whole day: the dispatch reads
    states at mid-days, so such a history is read the same wherever its changes came from
    (a reused or a lived one); one inside a day could tie with a reading."""
    return all(t == int(t) for t, _, _ in life)


def _facility_inputs(scenario: Scenario, n_days: int) -> str:
    """Everything of ``scenario`` the facilities' lives read besides the seed: the plants'
    sections, commissioning and horizon, as the exact ``repr`` of their values."""
    sc = scenario
    parts = (sc.cng, sc.lng, sc.pipelines, sc.storage, sc.commissioning, sc.horizon)
    return repr((n_days, [p.model_dump() for p in parts]))


DRILLINGS_PER_HISTORY = 4
"""Drilling results kept per cached history (assumption: as the supply replays,
:data:`cbm_sim.cluster.replay.REPLAYS_PER_HISTORY`: a Saltelli group's runs come in order)."""


@dataclass(frozen=True)
class _Drilled:
    """What drilling gave a run of a history, for its later runs with the same drilling
    inputs (:func:`_drilling_inputs`): the new wells' draws come from the seed's
    ``new-wells`` stream, used by nothing else, and the resource from the history, so such
    a run drills the same wells bit for bit (a test compares with a run drilled anew).

    ``blocks`` are the blocks after drilling (a run takes copies with its own ``log``; only
    their drilling ends are read), ``logged`` the events drilling logged at once ("no
    rigs"), ``depleted`` the ``depletion`` events it scheduled."""

    blocks: list[BlockAgent]
    hookups: Hookups
    logged: list[tuple[float, str, str, str]]
    depleted: list[Depletion]


def _drilling_inputs(scenario: Scenario, n_days: int) -> str:
    """Everything of ``scenario`` drilling reads, besides the history and the seed: the
    drilling programmes, horizon, type curves (with their calibration) and resources, as
    the exact ``repr`` of their values (equal values, equal text)."""
    sc = scenario
    parts = (sc.drilling, sc.horizon, sc.type_curves, sc.resources)
    return repr((n_days, [p.model_dump() for p in parts]))


def _frozen(hookups: Hookups) -> None:
    """Make the arrays of ``hookups`` read-only: later runs share them."""
    for name in ("block", "well_type", "day", "params", "constants", "factor"):
        a = getattr(hookups, name)
        if a is not None:
            a.flags.writeable = False


def block_resources(m: Model) -> list[resource.BlockResource]:
    """Every block's resource at the start of the run (:mod:`cbm_sim.cluster.resource`):
    area, proved reserves on each 1 January of the horizon, the gas its wells drilled before
    the run had produced by then, and the area they drain."""
    sc = m.scenario
    res = sc.resources
    rules = resource.ResourceRules(
        recovery_factor=res.recovery_factor,
        abundance_m3_per_km2=res.abundance_1e8_m3_per_km2 * units.YI,
        proving_rate_per_year=res.proving_rate_per_year,
        drainage_km2=(res.drainage_area_km2_vertical, res.drainage_area_km2_horizontal),
    )
    years = list(range(sc.horizon.start.year, sc.horizon.end.year + 1))
    starts = np.array([float((dt.date(y, 1, 1) - m.origin).days) for y in years])
    pop = m.pop
    n_blocks = len(m.blocks_info)
    # the history's own gas, the same for every run of its seed (cached with it)
    key = ("produced", tuple(starts.tolist()), n_blocks)
    if key not in m.history.derived:
        past = m.history.pop
        m.history.derived[key] = resource.history_produced_by_year(
            past.online_day,
            past.block,
            {k: getattr(past, k) for k in stepping.PARAMS},
            starts,
            n_blocks,
        )
    produced = m.history.derived[key].copy()
    drained = np.zeros(n_blocks)
    for wtype in (0, 1):
        count = np.bincount(pop.block[pop.well_type == wtype], minlength=n_blocks)
        drained += count * rules.drainage_km2[wtype]
    # the calibration's own allocation of the reserves the plan does not itemise (a vintage's)
    filed = [m.calibration.proved_reserves_m3(b.id, b.proved_reserves_m3) for b in m.blocks_info]
    areas = resource.block_areas_km2(filed, rules.abundance_m3_per_km2)
    out = []
    for b in m.blocks_info:
        stated = res.filings.get(b.id)
        proved = resource.proved_by_year(
            filed[b.index],
            resource.unfiled_resource_m3(float(areas[b.index]), rules),
            years,
            rules.proving_rate_per_year,
            None if stated is None else {y: v * units.YI for y, v in stated.items()},
        )
        out.append(
            resource.BlockResource(
                block_id=b.id,
                area_km2=float(areas[b.index]),
                rules=rules,
                year_start_days=starts,
                proved_m3=proved,
                history_produced_m3=produced[:, b.index],
                drilled_km2=float(drained[b.index]),
            )
        )
    return out


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
    m: Model,
    kind: str,
    name: str,
    capacity: float,
    spec: Any,
    index: int = 0,
    start: bool = True,
    live: bool = False,
) -> Facility:
    """A facility of ``spec``; ``start``: its processes registered with the run's
    environment, or with ``live`` (no events wanted) its whole life lived at once
    (:meth:`Facility.live`: the same history, without SimPy)."""

    def made() -> Facility:
        # assumption: operators stagger planned stops, one plant of a kind at a time (8
        # days apart), rather than shutting every plant in the same week.
        return Facility(
            maintenance_offset_days=8.0 * index,
            kind=kind,
            name=name,
            capacity=capacity,
            commission_day=commission_day(m, getattr(spec, "commissioned", None)),
            retire_day=day_index(getattr(spec, "retired", None), m.origin),
            reliability=getattr(spec, "reliability", None),
            origin=m.origin,
        )

    fac = made()
    if start and live:
        fac.live(stream(m.seed, fac.entity), float(len(m.days)))
        if _on_whole_days(fac.history):
            return fac
        fac = made()  # a change inside a day could tie with the dispatch's reading: SimPy
    if start:
        fac.start(m.env, stream(m.seed, fac.entity), m.log)
    return fac


def _build_facilities(m: Model, events: bool = True) -> None:
    sc = m.scenario
    m.facilities_key = None
    if m.history.runs >= 2:
        # the plants' lives depend on their own random streams (the seed's, which the
        # history's cache key holds) and sections, never on the flows: a history's repeated
        # runs with the same sections live the same lives (FacilityLives)
        m.facilities_key = ("facilities", _facility_inputs(sc, len(m.days)))
    kept = None if m.facilities_key is None else m.history.derived.get(m.facilities_key)
    start = events or not isinstance(kept, FacilityLives)
    m.cng = [
        _facility(m, "cng", s.name, s.capacity_1e4_m3_per_day * units.WAN, s, i, start, not events)
        for i, s in enumerate(sc.cng.stations)
    ]
    m.lng = [
        _facility(m, "lng", p.name, p.capacity_t_per_day, p, i, start, not events)
        for i, p in enumerate(sc.lng.plants)
    ]
    m.lines = [
        _facility(
            m,
            "pipeline",
            p.name,
            p.capacity_1e8_m3_per_year * units.YI / units.DAYS_PER_YEAR,
            p,
            start=start,
            live=not events,
        )
        for p in sc.pipelines.lines
    ]
    projects = [
        _facility(
            m, "storage", p.name, p.capacity_1e4_m3 * units.WAN, p, start=start, live=not events
        )
        for p in sc.storage.projects
    ]
    if not start:
        assert isinstance(kept, FacilityLives) and m.facilities_key is not None
        key = m.facilities_key
        m.history.derived[key] = m.history.derived.pop(key)  # most recent last
        for fac, lived in zip(m.facilities(projects), kept.histories, strict=True):
            fac.history = lived  # read only: no process of this run writes it
        m.facilities_key = None  # nothing to keep
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
