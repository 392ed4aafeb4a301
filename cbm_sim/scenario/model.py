"""The scenario: every assumption of one run, typed, with units in the field names.

A scenario is what a planner writes (YAML) and what the simulation reads. Its defaults are
the 2021 baseline of the plan (chapter 1) or labelled assumptions; shipped scenarios under
``scenarios/`` change the forward paths. Conventions:

* ``_1e8_m3`` = 亿 m³, ``_1e4_m3`` = 万 m³, ``_1e4_t`` = 万 t, ``_1e4`` = 万 (people):
  the multiples of the plan, converted to base units by :mod:`cbm_sim.units` at the edge.
* Time paths are ``{year: value}`` maps, interpolated linearly between stated years and
  held flat outside them (:mod:`cbm_sim.scenario.paths`).
* Dates are ISO dates (``2025-07-01``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cbm_sim import units
from cbm_sim.plan.blocks import block_ids
from cbm_sim.scenario.uncertainty import (
    distribution_problem,
    is_time_path,
    parent_value,
    path_problem,
    support_problem,
)
from cbm_sim.scenario.valuation_inputs import ValuationConfig


class FieldError(ValueError):
    """A validation error that knows where below the validated field it lies.

    ``loc`` is appended to pydantic's location of the field, so that an error in one entry
    of a time path (or in a nested date) points at that entry's line of the YAML file.
    """

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class MultiFieldError(ValueError):
    """Several :class:`FieldError` found by one validator, reported together (one per line)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e.loc))}: {e}" for e in errors))
        self.errors = errors


def _raise_all(errors: list[FieldError]) -> None:
    """Raise every error of ``errors`` together (their locations in the message), if any."""
    if errors:
        raise MultiFieldError(errors)


def _check_path(path: dict[int, float]) -> dict[int, float]:
    for year, value in path.items():
        if not 1990 <= year <= 2100:
            raise FieldError(f"year {year} is outside 1990..2100", (year,))
        if not math.isfinite(value):
            raise FieldError(f"value for {year} must be finite, got {value}", (year,))
    return dict(sorted(path.items()))


def _nonnegative_path(path: dict[int, float]) -> dict[int, float]:
    for year, value in path.items():
        if value < 0:
            raise FieldError(f"expected a value >= 0, got {value} for {year}", (year,))
    return path


def _share_path(path: dict[int, float]) -> dict[int, float]:
    for year, value in path.items():
        if not 0.0 <= value <= 1.0:
            raise FieldError(f"expected a share in 0..1, got {value} for {year}", (year,))
    return path


def _known_block(block_id: str) -> str:
    known = block_ids()
    if block_id not in known:
        close = difflib.get_close_matches(block_id, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(known)}"
        raise ValueError(f"unknown block {block_id!r}; {hint}")
    return block_id


YearPath = Annotated[
    dict[int, float],
    AfterValidator(_check_path),
    Field(json_schema_extra={"propertyNames": {"pattern": "^[0-9]{4}$"}}),
]
"""``{year: value}``; linear between stated years, flat outside."""
NonNegPath = Annotated[YearPath, AfterValidator(_nonnegative_path)]
SharePath = Annotated[YearPath, AfterValidator(_share_path)]


def _block_names_schema(schema: dict[str, Any]) -> None:
    schema["propertyNames"] = {"enum": list(block_ids())}


BlockId = Annotated[str, AfterValidator(_known_block)]
"""Id of a packaged block (``cbm_sim/data/blocks.yaml``)."""


class Model(BaseModel):
    """Base of every scenario section: immutable, unknown keys rejected.

    :meth:`model_copy` with ``update`` validates the copy (pydantic's does not), so that
    the Python path refuses what a scenario file would.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied, validated again (nested models are kept as given).

        Raises
        ------
        pydantic.ValidationError
            If the updated copy is invalid (an unknown key, a bad value, a date outside the
            horizon, ...).
        """
        copied = super().model_copy(update=update, deep=deep)
        if not update:
            return copied
        return type(self).model_validate(dict(copied))


class Horizon(Model):
    """Simulated period and dispatch step."""

    start: dt.date = Field(dt.date(2021, 1, 1), description="first simulated day")
    end: dt.date = Field(dt.date(2030, 12, 31), description="last simulated day (inclusive)")
    step_days: int = Field(1, ge=1, le=31, description="dispatch step [days]")

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self

    @property
    def n_days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1


class BlockProgramme(Model):
    """Drilling programme of one block (wells spudded per year by type)."""

    vertical_wells_per_year: NonNegPath = Field(default_factory=dict)
    horizontal_wells_per_year: NonNegPath = Field(default_factory=dict)
    first_year: int | None = Field(None, description="no wells before this year")
    last_year: int | None = Field(None, description="no wells after this year")
    rigs: int = Field(2, ge=0, le=200, description="drilling rigs working in the block")

    @model_validator(mode="after")
    def _years_ordered(self) -> BlockProgramme:
        if (
            self.first_year is not None
            and self.last_year is not None
            and self.last_year < self.first_year
        ):
            raise FieldError(
                f"expected last_year >= first_year {self.first_year}, got {self.last_year}",
                ("last_year",),
            )
        return self


class Drilling(Model):
    """New wells. Durations are assumptions for southern-Qinshui practice."""

    blocks: dict[BlockId, BlockProgramme] = Field(
        default_factory=dict,
        description="programme per block id (cbm_sim/data/blocks.yaml)",
        json_schema_extra=_block_names_schema,
    )
    # assumption: a ~700 m vertical CBM well is drilled in 1-3 weeks; 15 d includes moving.
    drilling_days_vertical: float = Field(15.0, gt=0, le=365)
    # assumption: a horizontal/multilateral CBM well with ~800-1000 m laterals takes 5-8 weeks.
    drilling_days_horizontal: float = Field(40.0, gt=0, le=365)
    # assumption: fracturing, pump installation and hook-up to gathering, ~1 month.
    completion_days: float = Field(30.0, ge=0, le=730)
    # assumption: CBM recovery factors of 40-60 % are usual for high-rank coal; 0.5 caps the
    # EUR a block's wells may book against its proved reserves.
    recovery_factor: float = Field(0.5, gt=0, le=1)


class TypeCurveScaling(Model):
    """Multipliers applied to the packaged type curves (1 = as published/calibrated)."""

    peak_rate_scale: float = Field(1.0, gt=0, le=10)
    incline_days_scale: float = Field(1.0, gt=0, le=10)
    decline_scale: float = Field(1.0, gt=0, le=10)


class WellReliability(Model):
    """Pump failures and workovers (修井/检泵)."""

    # assumption: rod-pump CBM wells in Qinshui need a pump check or workover every ~2 years.
    pump_failures_per_well_year: float = Field(0.5, ge=0, le=20)
    # assumption: a workover rig needs a few days per well; queueing adds a week.
    workover_days: float = Field(10.0, gt=0, le=365)


class MineGas(Model):
    """Coal-mine gas (井下抽采): drainage, utilisation, mine-gas power and heating."""

    # plan ch1 §2 三 (2021 20.7); ch4 §1 (2025 ≈22, 2030 ≈20 亿m³).
    drainage_1e8_m3_per_year: NonNegPath = Field(
        default_factory=lambda: {2021: 20.7, 2025: 22.0, 2030: 20.0}
    )
    # plan ch1 §2 三: 利用率 59.66 % in 2021; ch4 §1 二: 保持在60%以上.
    usable_share: SharePath = Field(default_factory=lambda: {2021: 0.5966, 2025: 0.60})
    # plan ch1 §2 三/七: 12.35 utilised − 9.05 to power = 3.30 (2021); ch4 §3 六: 2.88 (2025),
    # 3.67 (2030, printed under "2025").
    heating_gas_1e8_m3_per_year: NonNegPath = Field(
        default_factory=lambda: {2021: 3.30, 2025: 2.88, 2030: 3.67}
    )
    # plan ch1 §2 七 (31 plants, 621.1 MW); ch4 §3 六 (36 plants, 76.26万kW).
    power_capacity_mw: NonNegPath = Field(default_factory=lambda: {2021: 621.1, 2025: 762.6})
    power_plants: NonNegPath = Field(default_factory=lambda: {2021: 31, 2025: 36})
    # plan ch1 §2 七: 9.05 亿m³ for 33.68 亿kWh in 2021.
    power_gas_m3_per_kwh: float = Field(9.05 / 33.68, gt=0, le=2)
    # assumption: availability of gas-engine plants ~90 % (maintenance, grid limits).
    power_availability: float = Field(0.9, gt=0, le=1)


class Reliability(Model):
    """Random outages and planned maintenance of one facility."""

    # assumption: an LNG train/CNG mother station trips about every 4 months...
    mean_days_between_failures: float = Field(120.0, gt=0)
    # ...and is back within days (lognormal repair time).
    mean_repair_days: float = Field(3.0, gt=0)
    repair_days_cv: float = Field(0.5, ge=0, le=5)
    # assumption: one planned shutdown a year in the low-demand season.
    maintenance_days_per_year: float = Field(7.0, ge=0, le=180)
    maintenance_month: int = Field(5, ge=1, le=12)


def _check_service_dates(commissioned: dt.date | None, retired: dt.date | None) -> None:
    if commissioned is not None and retired is not None and retired <= commissioned:
        raise FieldError(
            f"expected retired after commissioned {commissioned}, got {retired}", ("retired",)
        )


def _unique_names(items: list[Any], field: str) -> None:
    """Refuse two facilities of one list with the same name (their results would merge)."""
    first: dict[str, int] = {}
    errors = []
    for i, item in enumerate(items):
        if item.name in first:
            errors.append(
                FieldError(
                    f"duplicate name {item.name!r} (also {field}[{first[item.name]}]); "
                    "results are kept by name, so each must be unique",
                    (field, i, "name"),
                )
            )
        first.setdefault(item.name, i)
    _raise_all(errors)


class LNGPlant(Model):
    """One liquefaction plant."""

    name: str
    capacity_t_per_day: float = Field(gt=0, le=20000)
    commissioned: dt.date | None = Field(None, description="None: in service before the start")
    retired: dt.date | None = None
    reliability: Reliability = Field(default_factory=Reliability)

    @model_validator(mode="after")
    def _retired_after_commissioned(self) -> Self:
        _check_service_dates(self.commissioned, self.retired)
        return self


class CNGStation(Model):
    """One compression mother station (压缩母站)."""

    name: str
    capacity_1e4_m3_per_day: float = Field(gt=0, le=1000)
    commissioned: dt.date | None = None
    retired: dt.date | None = None
    reliability: Reliability = Field(default_factory=Reliability)

    @model_validator(mode="after")
    def _retired_after_commissioned(self) -> Self:
        _check_service_dates(self.commissioned, self.retired)
        return self


def _lng_2021() -> list[LNGPlant]:
    # plan ch1 §2 四: 8 plants, 4200 t/d in all; assumption: equal sizes (not stated).
    return [LNGPlant(name=f"LNG-{i + 1}", capacity_t_per_day=4200.0 / 8) for i in range(8)]


def _cng_2021() -> list[CNGStation]:
    # plan ch1 §2 四: 6 mother stations, 89 万m³/d in all; assumption: equal sizes.
    return [CNGStation(name=f"CNG-{i + 1}", capacity_1e4_m3_per_day=89.0 / 6) for i in range(6)]


class LNG(Model):
    """Liquefaction: plants and the market for LNG."""

    plants: list[LNGPlant] = Field(default_factory=_lng_2021)
    # plan ch1 §2 四: 84.37 万t made in 2021 (market-limited: plants ran at ~55 %).
    demand_1e4_t_per_year: NonNegPath = Field(default_factory=lambda: {2021: 84.37})
    # plan ch1 §2 四: 13.08 亿m³ for 84.37 万t (see units.LNG_FEED_M3_PER_T).
    feed_gas_m3_per_t: float = Field(units.LNG_FEED_M3_PER_T, gt=500, le=3000)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_names(self.plants, "plants")
        return self


class CNG(Model):
    """Compression: mother stations and the market for CNG."""

    stations: list[CNGStation] = Field(default_factory=_cng_2021)
    # plan ch1 §2 四: 0.56 亿m³ of CNG in 2021.
    demand_1e8_m3_per_year: NonNegPath = Field(default_factory=lambda: {2021: 0.56})

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_names(self.stations, "stations")
        return self


class PipelineLine(Model):
    """An outbound pipeline (or the existing system as one line)."""

    name: str
    capacity_1e8_m3_per_year: float = Field(gt=0, le=1000)
    commissioned: dt.date | None = None


def _pipelines_2021() -> list[PipelineLine]:
    # plan ch1 §2 四: 7 lines, 571 km, 95.02 亿m³/yr outbound capacity.
    return [PipelineLine(name="existing (7 lines)", capacity_1e8_m3_per_year=95.02)]


class Pipelines(Model):
    """Outbound pipelines and the outbound cap."""

    lines: list[PipelineLine] = Field(default_factory=_pipelines_2021)
    # plan ch4 §2 二: 外输 ≤30 (2025) and ≤20 (2030) 亿m³; none before (empty = no cap).
    outbound_cap_1e8_m3_per_year: NonNegPath = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_names(self.lines, "lines")
        return self


class StorageProject(Model):
    """A storage facility (LNG tanks), as gas equivalent."""

    name: str
    capacity_1e4_m3: float = Field(gt=0, le=1e6)
    commissioned: dt.date | None = None


def _storage_2021() -> list[StorageProject]:
    # plan ch1 §2 四: 8 sites, 7.58 万m³ tanks, 储气能力 4737.5 万m³.
    return [StorageProject(name="existing (8 sites)", capacity_1e4_m3=4737.5)]


class Storage(Model):
    """Storage and peak shaving, with the plan's rules (ch1 §2 四, ch4 §2 二)."""

    projects: list[StorageProject] = Field(default_factory=_storage_2021)
    injection_months: list[int] = Field(default_factory=lambda: [4, 5, 6, 7, 8, 9, 10])
    # assumption: LNG tank send-out/fill of ~5 % of capacity a day.
    max_rate_share_per_day: float = Field(0.05, gt=0, le=1)
    initial_fill_share: float = Field(0.8, ge=0, le=1)
    # plan ch1 §2 四: ≥3 days of average daily demand (county and above).
    rule_days: float = Field(3.0, ge=0, le=60)
    # plan ch1 §2 四: city-gas companies ≥5 % of annual use.
    rule_city_gas_share: float = Field(0.05, ge=0, le=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_names(self.projects, "projects")
        return self


class Sector(Model):
    """A demand sector given as annual volume with a seasonal profile."""

    annual_1e8_m3: NonNegPath
    # ratio of the mid-January daily demand to the annual mean (1 = flat).
    winter_peak_ratio: float = Field(1.0, ge=1.0, le=4.0)


class Residential(Model):
    """Residential gas (民生): people supplied × use per person."""

    # plan ch4 §3 一: 240 万 people (2025), 260 万 (2030). 2021: assumption, see plan scenario.
    people_1e4: NonNegPath = Field(default_factory=lambda: {2021: 196.0, 2025: 240.0, 2030: 260.0})
    # plan ch4 §3 一: 2.73 亿m³ / 240 万 = 113.75 m³ (2025); 3.0 / 260 = 115.4 (2030).
    use_m3_per_person_year: NonNegPath = Field(
        default_factory=lambda: {2021: 113.75, 2025: 113.75, 2030: 115.38}
    )
    # assumption: heating-season peak ~2.2× the mean in northern Chinese cities.
    winter_peak_ratio: float = Field(2.2, ge=1.0, le=4.0)


class ColdSpell(Model):
    """A cold spell: local demand multiplied for some days."""

    start: dt.date
    days: int = Field(gt=0, le=120)
    demand_multiplier: float = Field(gt=0, le=10)


class Demand(Model):
    """Local demand by sector (plan ch1 §2 七 for 2021)."""

    residential: Residential = Field(default_factory=Residential)
    commercial: Sector = Field(
        default_factory=lambda: Sector(annual_1e8_m3={2021: 0.97}, winter_peak_ratio=1.5)
    )
    transport: Sector = Field(default_factory=lambda: Sector(annual_1e8_m3={2021: 0.82}))
    industry: Sector = Field(
        default_factory=lambda: Sector(annual_1e8_m3={2021: 2.46}, winter_peak_ratio=1.1)
    )
    chemicals: Sector = Field(default_factory=lambda: Sector(annual_1e8_m3={2021: 0.0}))
    # assumption: field own use, compression fuel and losses. The plan's 2021 uses (6.48 local
    # + 0.56 CNG + 13.08 LNG + 19.35 exports) leave 3.20 of 42.67 亿m³ unexplained: 7.5 %.
    field_use_share: float = Field(3.20 / 42.67, ge=0, le=0.5)
    cold_spells: list[ColdSpell] = Field(default_factory=list)


class Distribution(Model):
    """A scipy.stats distribution for one uncertain input (used by ensembles)."""

    dist: Literal["uniform", "triangular", "normal", "truncnorm", "lognormal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _parameters_fit(self) -> Self:
        problem = distribution_problem(
            self.dist, low=self.low, high=self.high, mode=self.mode, mean=self.mean, sd=self.sd
        )
        if problem is not None:
            raise ValueError(problem)
        return self


class Scenario(Model):
    """Every assumption of one simulation run.

    In a YAML file, ``extends: parent.yaml`` (a path relative to the file) takes every value
    of the parent and overrides it with this file's: mappings are merged key by key,
    recursively (time paths too: a child's ``{2027: 25}`` adds a year to the parent's path);
    lists and scalars are replaced whole. A loaded scenario is resolved: ``extends`` is None.
    """

    name: str = Field("baseline-2021", description="short name, used in outputs")
    description: str = Field("", description="what question the scenario answers")
    extends: str | None = Field(
        None, description="parent scenario file, relative to this one, whose values this overrides"
    )
    seed: int = Field(20220930, ge=0, description="seed of every random stream of the run")
    horizon: Horizon = Field(default_factory=Horizon)
    drilling: Drilling = Field(default_factory=Drilling)
    type_curves: TypeCurveScaling = Field(default_factory=TypeCurveScaling)
    wells: WellReliability = Field(default_factory=WellReliability)
    mine_gas: MineGas = Field(default_factory=MineGas)
    cng: CNG = Field(default_factory=CNG)
    lng: LNG = Field(default_factory=LNG)
    pipelines: Pipelines = Field(default_factory=Pipelines)
    storage: Storage = Field(default_factory=Storage)
    demand: Demand = Field(default_factory=Demand)
    valuation: ValuationConfig = Field(default_factory=ValuationConfig)
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        """Dates within the horizon and uncertainty paths that exist: every problem at once."""
        lo, hi = self.horizon.start, self.horizon.end
        dated: list[tuple[tuple[str | int, ...], dt.date | None]] = []
        for section, field, items, attr in (
            ("lng", "plants", self.lng.plants, "commissioned"),
            ("cng", "stations", self.cng.stations, "commissioned"),
            ("pipelines", "lines", self.pipelines.lines, "commissioned"),
            ("storage", "projects", self.storage.projects, "commissioned"),
            ("demand", "cold_spells", self.demand.cold_spells, "start"),
        ):
            dated += [((section, field, i, attr), getattr(x, attr)) for i, x in enumerate(items)]
        errors = [
            FieldError(f"expected a date within the horizon {lo} .. {hi}, got {day}", where)
            for where, day in dated
            if day is not None and not lo <= day <= hi
        ]
        if self.uncertainty:
            data = self.model_dump(mode="python")
            for path in self.uncertainty:
                problem = path_problem(data, path)
                spec = self.uncertainty[path]
                if problem is None and not is_time_path(parent_value(data, path)):
                    problem = support_problem(type(self), path, spec.low, spec.high)
                if problem is not None:
                    errors.append(FieldError(f"path {path!r}: {problem}", ("uncertainty", path)))
        _raise_all(errors)
        return self

    def to_yaml(self) -> str:
        """The scenario as YAML text; :meth:`from_yaml` reads it back to an equal scenario."""
        data = self.model_dump(mode="python", exclude={"extends"} if self.extends is None else None)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
