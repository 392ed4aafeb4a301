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

from cbm_sim import bounds, units
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


def _bounded(name: str) -> AfterValidator:
    """Validator of a scalar field against the bound ``name`` of :mod:`cbm_sim.bounds`."""

    def check(value: float) -> float:
        bounds.check(name, value)
        return value

    return AfterValidator(check)


def _bounded_path(name: str, *, allow_empty: bool = False) -> AfterValidator:
    """Validator of every value of a time path against the bound ``name``; a path is
    interpolated, so it needs a value unless empty has a meaning (``allow_empty``: no wells,
    no cap)."""

    def check(path: dict[int, float]) -> dict[int, float]:
        if not path and not allow_empty:
            raise ValueError("expected at least one {year: value} entry, got {}")
        for year, value in path.items():
            try:
                bounds.check(name, value)
            except ValueError as exc:
                raise FieldError(f"{exc} for {year}", (year,)) from None
        return path

    return AfterValidator(check)


def _schema(name: str, *, path: bool = False) -> Any:
    """JSON-Schema limits of the bound ``name`` (for editors), of a number or of every value
    of a ``{year: value}`` path."""
    b = bounds.BOUNDS[name]
    limits: dict[str, Any] = {
        "exclusiveMinimum" if b.lo_open else "minimum": b.lo,
        "exclusiveMaximum" if b.hi_open else "maximum": b.hi,
    }
    extra: dict[str, Any] = (
        {"additionalProperties": {"type": "number", **limits}} if path else limits
    )
    return Field(json_schema_extra=extra)


def _year_in(name: str, field: str) -> AfterValidator:
    """Validator of a year (an int) against the bound ``name``."""

    def check(year: int | None) -> int | None:
        b = bounds.BOUNDS[name]
        if year is not None and not b.lo <= year <= b.hi:
            raise ValueError(f"{field} must be in {b.lo:.0f}..{b.hi:.0f} ({b.doc}); got {year}")
        return year

    return AfterValidator(check)


NAME_MAX_CHARS = 100
"""Longest scenario name; assumption: a name is a label, and ``runs/<name>`` plus the staging
suffix must stay within the 255-byte file-name limit of common file systems."""


def _safe_name(name: str) -> str:
    """A scenario name is one plain file name: ``run`` writes to ``runs/<name>`` by default,
    so a name must never lead outside ``runs/`` (``../x``, ``/abs``) or hide (``.x``)."""
    bad = [c for c in ("/", "\\") if c in name]
    if not name.strip():
        raise ValueError(f"expected a non-empty name, got {name!r}")
    if bad or any(ord(c) < 32 or ord(c) == 127 for c in name):
        what = f"a path separator {bad[0]!r}" if bad else "a control character"
        raise ValueError(f"expected a plain name (used as a folder name), got {name!r} with {what}")
    if name.startswith("."):
        raise ValueError(f"expected a name not starting with '.', got {name!r}")
    if len(name) > NAME_MAX_CHARS:
        raise ValueError(f"expected at most {NAME_MAX_CHARS} characters, got {len(name)}")
    return name


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
SharePath = Annotated[
    YearPath, AfterValidator(_share_path), _bounded_path("share"), _schema("share", path=True)
]
WellsPath = Annotated[
    NonNegPath,
    _bounded_path("wells_per_block_year", allow_empty=True),
    _schema("wells_per_block_year", path=True),
]
"""Wells spudded per year in one block."""
VolumePath = Annotated[
    NonNegPath,
    _bounded_path("gas_volume_1e8_m3_per_year"),
    _schema("gas_volume_1e8_m3_per_year", path=True),
]
"""An annual gas volume [亿m³/yr]."""


def _block_names_schema(schema: dict[str, Any]) -> None:
    schema["propertyNames"] = {"enum": list(block_ids())}


BlockId = Annotated[str, AfterValidator(_known_block)]
"""Id of a packaged block (``cbm_sim/data/blocks.yaml``)."""


class Model(BaseModel):
    """Base of every scenario section: immutable, unknown keys rejected.

    :meth:`model_copy` with ``update`` validates the copy (pydantic's does not), so that
    the Python path refuses what a scenario file would.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

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
        b = bounds.BOUNDS["horizon_year"]
        lo, hi = dt.date(int(b.lo), 1, 1), dt.date(int(b.hi), 12, 31)
        for name, day in (("start", self.start), ("end", self.end)):
            if not lo <= day <= hi:
                raise FieldError(
                    f"expected a date in the supported range {lo} .. {hi}, got {day} ({b.doc})",
                    (name,),
                )
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self

    @property
    def n_days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1


class BlockProgramme(Model):
    """Drilling programme of one block (wells spudded per year by type)."""

    vertical_wells_per_year: WellsPath = Field(default_factory=dict)
    horizontal_wells_per_year: WellsPath = Field(default_factory=dict)
    first_year: Annotated[int | None, _year_in("programme_year", "first_year")] = Field(
        None, description="no wells before this year"
    )
    last_year: Annotated[int | None, _year_in("programme_year", "last_year")] = Field(
        None, description="no wells after this year"
    )
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
    # assumption: CBM recovery factors of 40-60 % are usual for high-rank coal; proved
    # reserves × 0.5 is the block's recoverable gas, against which new wells deplete
    # (cbm_sim.cluster.blocks.depletion_factor).
    recovery_factor: float = Field(0.5, gt=0, le=1)
    # 1 = every programmed well is drilled; an ensemble samples it (drilling achieved vs
    # programmed). Multiplies the wells of every block's programme, every year.
    achieved_share: float = Field(
        1.0,
        gt=bounds.BOUNDS["drilling_achieved_share"].lo,
        le=bounds.BOUNDS["drilling_achieved_share"].hi,
        description="wells drilled per well programmed (all blocks, all years)",
    )


class TypeCurveScaling(Model):
    """Multipliers applied to the packaged type curves (1 = as published/calibrated)."""

    peak_rate_scale: float = Field(1.0, gt=0, le=10)
    incline_days_scale: Annotated[
        float, _bounded("incline_days_scale"), _schema("incline_days_scale")
    ] = Field(1.0)
    decline_scale: float = Field(1.0, gt=0, le=10)
    producing_blocks_peak_scale: float = Field(
        1.0, gt=0, le=10, description="peak-rate multiplier of new wells in producing blocks"
    )
    ramping_blocks_peak_scale: float = Field(
        1.0, gt=0, le=10, description="peak-rate multiplier of new wells in ramping blocks"
    )
    proved_blocks_peak_scale: float = Field(
        1.0,
        gt=0,
        le=10,
        description="peak-rate multiplier of new wells in proved (and exploration) blocks",
    )
    producing_share_scale: float = Field(
        1.0,
        gt=0,
        le=1,
        description="share of the calibrated producing new wells that do produce (1: as fitted)",
    )

    def peak_scale(self, block_class: str) -> float:
        """The peak-rate multiplier of new wells of ``block_class``: the overall one times the
        block group's (``producing``, ``ramping``, ``proved``; an unknown class: overall)."""
        group = {
            "producing": self.producing_blocks_peak_scale,
            "ramping": self.ramping_blocks_peak_scale,
            "proved": self.proved_blocks_peak_scale,
        }.get(block_class, 1.0)
        return self.peak_rate_scale * group


class WellReliability(Model):
    """Pump failures and workovers (修井/检泵)."""

    # assumption: rod-pump CBM wells in Qinshui need a pump check or workover every ~2 years.
    pump_failures_per_well_year: float = Field(0.5, ge=0, le=20)
    # assumption: a workover rig needs a few days per well; queueing adds a week.
    workover_days: float = Field(10.0, gt=0, le=365)


class MineGas(Model):
    """Coal-mine gas (井下抽采): drainage, utilisation, mine-gas power and heating."""

    # plan ch1 §2 三 (2021 20.7); ch4 §1 (2025 ≈22, 2030 ≈20 亿m³).
    drainage_1e8_m3_per_year: VolumePath = Field(
        default_factory=lambda: {2021: 20.7, 2025: 22.0, 2030: 20.0}
    )
    # plan ch1 §2 三: 利用率 59.66 % in 2021; ch4 §1 二: 保持在60%以上.
    usable_share: SharePath = Field(default_factory=lambda: {2021: 0.5966, 2025: 0.60})
    # plan ch1 §2 三/七: 12.35 utilised − 9.05 to power = 3.30 (2021); ch4 §3 六: 2.88 (2025),
    # 3.67 (2030, printed under "2025").
    heating_gas_1e8_m3_per_year: VolumePath = Field(
        default_factory=lambda: {2021: 3.30, 2025: 2.88, 2030: 3.67}
    )
    # plan ch1 §2 七 (31 plants, 621.1 MW); ch4 §3 六 (36 plants, 76.26万kW).
    power_capacity_mw: Annotated[
        NonNegPath, _bounded_path("power_capacity_mw"), _schema("power_capacity_mw", path=True)
    ] = Field(default_factory=lambda: {2021: 621.1, 2025: 762.6})
    power_plants: Annotated[
        NonNegPath, _bounded_path("power_plants"), _schema("power_plants", path=True)
    ] = Field(default_factory=lambda: {2021: 31.0, 2025: 36.0})
    # plan ch1 §2 七: 9.05 亿m³ for 33.68 亿kWh in 2021.
    power_gas_m3_per_kwh: float = Field(9.05 / 33.68, gt=0, le=2)
    # assumption: availability of gas-engine plants ~90 % (maintenance, grid limits).
    power_availability: float = Field(0.9, gt=0, le=1)


class Reliability(Model):
    """Random outages and planned maintenance of one facility."""

    # assumption: an LNG train/CNG mother station trips about every 4 months...
    mean_days_between_failures: Annotated[
        float, _bounded("facility_mtbf_days"), _schema("facility_mtbf_days")
    ] = Field(120.0)
    # ...and is back within days (lognormal repair time).
    mean_repair_days: Annotated[
        float, _bounded("facility_repair_days"), _schema("facility_repair_days")
    ] = Field(3.0)
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

    # assumption: at most 200 plants, 25x the 8 of 2021 (plan ch1 §2 四): bounds the run size.
    plants: list[LNGPlant] = Field(default_factory=_lng_2021, max_length=200)
    # plan ch1 §2 四: 84.37 万t made in 2021 (market-limited: plants ran at ~55 %).
    demand_1e4_t_per_year: Annotated[
        NonNegPath,
        _bounded_path("lng_demand_1e4_t_per_year"),
        _schema("lng_demand_1e4_t_per_year", path=True),
    ] = Field(default_factory=lambda: {2021: 84.37})
    # plan ch1 §2 四: 13.08 亿m³ for 84.37 万t (see units.LNG_FEED_M3_PER_T).
    feed_gas_m3_per_t: float = Field(units.LNG_FEED_M3_PER_T, gt=500, le=3000)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_names(self.plants, "plants")
        return self


class CNG(Model):
    """Compression: mother stations and the market for CNG."""

    # assumption: at most 200 stations, 33x the 6 of 2021 (plan ch1 §2 四).
    stations: list[CNGStation] = Field(default_factory=_cng_2021, max_length=200)
    # plan ch1 §2 四: 0.56 亿m³ of CNG in 2021.
    demand_1e8_m3_per_year: VolumePath = Field(default_factory=lambda: {2021: 0.56})

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

    # assumption: at most 200 lines, 28x the 7 of 2021 (plan ch1 §2 四).
    lines: list[PipelineLine] = Field(default_factory=_pipelines_2021, max_length=200)
    # plan ch4 §2 二: 外输 ≤30 (2025) and ≤20 (2030) 亿m³; none before (empty = no cap).
    outbound_cap_1e8_m3_per_year: Annotated[
        NonNegPath,
        _bounded_path("gas_volume_1e8_m3_per_year", allow_empty=True),
        _schema("gas_volume_1e8_m3_per_year", path=True),
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        _unique_names(self.lines, "lines")
        return self


class Contract(Model):
    """An outbound sales contract of the producers, delivered through the outbound pipelines.

    The annual contract quantity (ACQ) is delivered with a winter profile: the share
    ``heating_season_share`` of it over the heating season (15 November to 14 March, the
    season of NDRC's 2018 contract rules, Reuters 2018-04-27), the rest evenly over the other
    days. ``take_or_pay_share`` is the buyer's floor (the share of the ACQ it pays for even if
    not taken); the simulation records it next to the deliveries.
    """

    name: str
    annual_1e8_m3: NonNegPath = Field(description="annual contract quantity [亿m3/yr]")
    heating_season_share: float = Field(
        0.4, ge=0.0, le=1.0, description="share of the ACQ delivered 15 Nov - 14 Mar"
    )
    take_or_pay_share: float = Field(0.8, ge=0.0, le=1.0, description="take-or-pay floor")


class Contracts(Model):
    """The producers' outbound contracts and who holds them.

    Contracted volumes are served after 民生 (residential, commercial) and the storage
    reserves and before the local non-民生 markets (transport, industry, chemicals, CNG,
    LNG), from the contract holders' share of surface output, within the outbound pipelines'
    capacity and the outbound cap; what they leave goes to the local markets (see
    :mod:`cbm_sim.cluster.dispatch`).
    """

    outbound: list[Contract] = Field(default_factory=list)
    holders_share: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="share of surface output produced by the contract holders (plan ch1 §3 四)",
    )


class StorageProject(Model):
    """A storage facility (LNG tanks), as gas equivalent.

    State either the gas capacity (``capacity_1e4_m3``) or the tanks' LNG liquid volume
    (``lng_liquid_1e4_m3``); the gas capacity is then the liquid volume times
    :data:`cbm_sim.units.LNG_GAS_M3_PER_LIQUID_M3` (≈600, GIIGNL). Both may be given only if
    they agree (a resolved scenario states both).
    """

    name: str
    capacity_1e4_m3: float = Field(gt=0, le=1e6, description="gas capacity [万m3]")
    lng_liquid_1e4_m3: float | None = Field(
        None, gt=0, le=1e4, description="LNG tank volume [万m3 of liquid], if stated so"
    )
    commissioned: dt.date | None = None

    @model_validator(mode="before")
    @classmethod
    def _gas_from_liquid(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("capacity_1e4_m3") is None:
            liquid = data.get("lng_liquid_1e4_m3")
            if isinstance(liquid, int | float) and not isinstance(liquid, bool) and liquid > 0:
                return {**data, "capacity_1e4_m3": units.lng_liquid_to_gas_m3(float(liquid))}
        return data

    @model_validator(mode="after")
    def _liquid_agrees(self) -> StorageProject:
        liquid = self.lng_liquid_1e4_m3
        if liquid is not None:
            gas = units.lng_liquid_to_gas_m3(liquid)
            if not math.isclose(self.capacity_1e4_m3, gas, rel_tol=1e-9):
                raise FieldError(
                    f"expected {gas:g} 万m3 of gas for {liquid:g} 万m3 of LNG "
                    f"(× {units.LNG_GAS_M3_PER_LIQUID_M3:g}, GIIGNL), "
                    f"got {self.capacity_1e4_m3:g}; "
                    "state only one of capacity_1e4_m3 and lng_liquid_1e4_m3",
                    ("capacity_1e4_m3",),
                )
        return self


def _storage_2021() -> list[StorageProject]:
    # plan ch1 §2 四: 8 sites, 7.58 万m³ tanks, 储气能力 4737.5 万m³.
    return [StorageProject(name="existing (8 sites)", capacity_1e4_m3=4737.5)]


class Storage(Model):
    """Storage and peak shaving, with the plan's rules (ch1 §2 四, ch4 §2 二)."""

    # assumption: at most 200 projects, 25x the 8 sites of 2021 (plan ch1 §2 四).
    projects: list[StorageProject] = Field(default_factory=_storage_2021, max_length=200)
    injection_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [4, 5, 6, 7, 8, 9, 10], max_length=12
    )
    # assumption: LNG tank send-out/fill of ~5 % of capacity a day.
    max_rate_share_per_day: float = Field(0.05, gt=0, le=1)
    # The storage is LNG in tanks (ch1 §2 四: 7.58万m³ of tanks; ch4 §2 二: 16万m³ × 2): it is
    # filled through the liquefaction plants, at most their capacity left after the LNG
    # market's request; False treats it as gas storage filled directly.
    fill_through_liquefaction: bool = True
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

    annual_1e8_m3: VolumePath
    # ratio of the mid-January daily demand to the annual mean (1 = flat).
    winter_peak_ratio: float = Field(1.0, ge=1.0, le=4.0)


class Residential(Model):
    """Residential gas (民生): people supplied × use per person."""

    # plan ch4 §3 一: 240 万 people (2025), 260 万 (2030). 2021: assumption, see plan scenario.
    people_1e4: Annotated[
        NonNegPath, _bounded_path("people_1e4"), _schema("people_1e4", path=True)
    ] = Field(default_factory=lambda: {2021: 196.0, 2025: 240.0, 2030: 260.0})
    # plan ch4 §3 一: 2.73 亿m³ / 240 万 = 113.75 m³ (2025); 3.0 / 260 = 115.4 (2030).
    use_m3_per_person_year: Annotated[
        NonNegPath,
        _bounded_path("use_m3_per_person_year"),
        _schema("use_m3_per_person_year", path=True),
    ] = Field(default_factory=lambda: {2021: 113.75, 2025: 113.75, 2030: 115.38})
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
    # assumption: at most 1,000 cold spells (more than one a fortnight over 30 years).
    cold_spells: list[ColdSpell] = Field(default_factory=list, max_length=1000)


class Commissioning(Model):
    """Slip of the commissioning dates of facilities built during the horizon."""

    # 0 = every plant, station, pipeline and storage project comes on its stated date; an
    # ensemble samples the slip (commissioning delays). Slipped dates stay inside the horizon.
    delay_days: float = Field(
        0.0,
        ge=bounds.BOUNDS["commissioning_delay_days"].lo,
        le=bounds.BOUNDS["commissioning_delay_days"].hi,
        description="days added to every commissioning date after the horizon start",
    )


class Distribution(Model):
    """A scipy.stats distribution for one uncertain input (used by ensembles).

    ``op`` says how a sample acts on its field: ``set`` replaces a number (the default for
    numbers), ``scale`` multiplies it (the default for ``{year: value}`` paths), ``add`` adds
    to it. ``from_year`` (paths only) leaves the years before it as written, so that a known
    2021 baseline is not sampled. ``paths`` makes the entry a shared factor: one sample acts
    on every listed field (the entry's key is then a name, not a path).
    """

    dist: Literal["uniform", "triangular", "normal", "truncnorm", "lognormal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    op: Literal["set", "scale", "add"] | None = Field(
        None, description="how a sample acts: set (numbers), scale (paths) by default"
    )
    from_year: int | None = Field(
        None, ge=1990, le=2100, description="paths: the first year the sample acts on"
    )
    paths: list[str] | None = Field(
        None, min_length=1, description="shared factor: the dotted paths one sample acts on"
    )

    @model_validator(mode="after")
    def _parameters_fit(self) -> Self:
        problem = distribution_problem(
            self.dist, low=self.low, high=self.high, mode=self.mode, mean=self.mean, sd=self.sd
        )
        if problem is not None:
            raise ValueError(problem)
        return self


class RankCorrelation(Model):
    """A Spearman rank correlation between two uncertain inputs (Gaussian copula)."""

    inputs: tuple[str, str] = Field(description="two keys of the scenario's uncertainty")
    rank: float = Field(
        ge=bounds.BOUNDS["rank_correlation"].lo,
        le=bounds.BOUNDS["rank_correlation"].hi,
        description="Spearman rank correlation",
    )


class Scenario(Model):
    """Every assumption of one simulation run.

    In a YAML file, ``extends: parent.yaml`` (a path relative to the file) takes every value
    of the parent and overrides it with this file's: mappings are merged key by key,
    recursively (time paths too: a child's ``{2027: 25}`` adds a year to the parent's path);
    lists and scalars are replaced whole. A loaded scenario is resolved: ``extends`` is None.
    """

    name: Annotated[str, AfterValidator(_safe_name)] = Field(
        "baseline-2021", description="short name, used in outputs (runs/<name>)"
    )
    description: str = Field("", description="what question the scenario answers")
    extends: str | None = Field(
        None, description="parent scenario file, relative to this one, whose values this overrides"
    )
    # numpy's SeedSequence uses 128 bits of entropy (numpy docs): larger seeds add nothing.
    seed: int = Field(
        20220930, ge=0, lt=2**128, description="seed of every random stream of the run"
    )
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
    contracts: Contracts = Field(default_factory=Contracts)
    valuation: ValuationConfig = Field(default_factory=ValuationConfig)
    commissioning: Commissioning = Field(default_factory=Commissioning)
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    correlations: list[RankCorrelation] = Field(
        default_factory=list, description="rank correlations between uncertain inputs"
    )

    @model_validator(mode="after")
    def _correlated_inputs_known(self) -> Scenario:
        seen: set[frozenset[str]] = set()
        for i, corr in enumerate(self.correlations):
            a, b = corr.inputs
            for k, name in enumerate((a, b)):
                if name not in self.uncertainty:
                    raise FieldError(
                        f"{name!r} is not an uncertain input; expected one of "
                        f"{', '.join(self.uncertainty) or 'none (no uncertainty section)'}",
                        ("correlations", i, "inputs", k),
                    )
            if a == b:
                raise FieldError(
                    f"an input cannot be correlated with itself, got {a!r} twice",
                    ("correlations", i, "inputs"),
                )
            pair = frozenset((a, b))
            if pair in seen:
                raise FieldError(
                    f"the pair {a!r}, {b!r} is correlated twice", ("correlations", i, "inputs")
                )
            seen.add(pair)
        return self

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
            for name, spec in self.uncertainty.items():
                # a shared factor (``paths``) acts on each of its paths, its key is a name
                for path in spec.paths or [name]:
                    problem = path_problem(data, path)
                    replaces = spec.op in (None, "set")  # a sample replaces the value itself
                    if problem is None and replaces and not is_time_path(parent_value(data, path)):
                        problem = support_problem(type(self), path, spec.low, spec.high)
                    if problem is not None:
                        errors.append(
                            FieldError(f"path {path!r}: {problem}", ("uncertainty", name))
                        )
        _raise_all(errors)
        return self

    def to_yaml(self) -> str:
        """The scenario as YAML text; :meth:`from_yaml` reads it back to an equal scenario."""
        data = self.model_dump(mode="python", exclude={"extends"} if self.extends is None else None)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
