"""Facilities, contracts and storage of the scenario: LNG plants, CNG stations, pipelines,
outbound contracts and storage projects (sections ``lng``, ``cng``, ``pipelines``, ``contracts``,
``storage``).

Split from :mod:`cbm_sim.scenario.model` (whose names stay importable from there).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from cbm_sim import units
from cbm_sim.scenario.base import (
    FieldError,
    Model,
    NonNegPath,
    VolumePath,
    _bounded,
    _bounded_path,
    _raise_all,
    _schema,
)


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

    The annual contract quantity (ACQ) is delivered with the receiving grids' winter profile:
    the share ``heating_season_share`` of it over the heating season (15 November to 14 March,
    the season of NDRC's 2018 contract rules, Reuters 2018-04-27; 120 days, so 0.33 would be
    flat), the rest evenly over the other days. ``take_or_pay_share`` is the buyer's floor
    (the share of the ACQ it pays for even if not taken); the dispatch serves the floor before
    the local non-民生 markets, the rest in competition with them by netback, and records the
    floor not delivered as ``contracts.deficiency``.
    """

    name: str
    annual_1e8_m3: NonNegPath = Field(description="annual contract quantity [亿m3/yr]")
    heating_season_share: float = Field(
        0.4, ge=0.0, le=1.0, description="share of the ACQ delivered 15 Nov - 14 Mar"
    )
    take_or_pay_share: float = Field(0.8, ge=0.0, le=1.0, description="take-or-pay floor")


class Contracts(Model):
    """The producers' outbound contracts and who holds them.

    Contracted volumes up to their take-or-pay floor are served after 民生 (residential,
    commercial) and the storage reserves and before the local non-民生 markets (transport,
    industry, chemicals, CNG, LNG); volumes above the floor compete with those markets by
    netback, at the field price (:data:`cbm_sim.cluster.engine.DISPATCH_TIERS`,
    :mod:`cbm_sim.cluster.netback`); all from the contract holders' share of surface output,
    within the outbound pipelines' capacity and the outbound cap.
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
    sendout_1e4_m3_per_day: float | None = Field(
        None,
        gt=0,
        le=1e4,
        description="send-out capacity (regasification and truck loading) [万m3/d]; None: "
        "max_rate_share_per_day × capacity (assumption)",
    )

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
    # assumption: LNG tank fill of ~5 % of capacity a day, and the default send-out of a project
    # that states none (sendout_1e4_m3_per_day): a site's stock lasts 20 days at full send-out.
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
