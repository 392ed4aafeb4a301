"""The valuation section of a scenario: unit values, prices and exogenous paths, with defaults.

Every field of :class:`ValuationConfig` defaults to ``cbm_sim/data/valuation.yaml`` (each with a
``source``), resolved against the packaged plan data; :data:`ITEMS` says which simulated driver
each field multiplies in which sub-cluster item (plan ch4 §1–§8). The valuation itself —
drivers × unit values over a run — is :mod:`cbm_sim.economics.valuation`; this module is only
its input, so that a scenario can be validated without the economics layer.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cbm_sim import bounds, units
from cbm_sim.plan.figures import Plan, _walk, load_plan
from cbm_sim.plan.packaged import read_packaged
from cbm_sim.scenario.paths import interpolate, value_at

SUB_CLUSTERS: Final[tuple[str, ...]] = (
    "exploration",
    "processing",
    "utilisation",
    "science",
    "services",
    "equipment",
    "logistics",
    "radiating",
)
"""The eight sub-clusters of plan ch3 §3, in the plan's order."""

WELLS_EQ: Final[str] = "wells_drilled_eq"
CO2E_AVOIDED: Final[str] = "mine_gas.utilised→co2e_avoided"
EXOGENOUS: Final[str] = "exogenous"

bounds.register(
    bounds.Bound(
        "valuation_unit_value",
        0.0,
        1e9,
        "元 per driver unit (or 亿元/yr)",
        "price or unit value of a valuation item; assumption: 1e9 is far above any CBM price, "
        "per-well or per-tonne value, so only nonsense is rejected",
    )
)
bounds.register(
    bounds.Bound(
        "gwp100_ch4",
        1.0,
        100.0,
        "t CO2e / t CH4",
        "100-year GWP of methane; IPCC SAR..AR6 give 21..29.8, 100 leaves headroom (20-yr: ~81)",
    )
)
bounds.register(
    bounds.Bound(
        "ch4_density_kg_per_m3",
        0.5,
        1.0,
        "kg/m3",
        "methane density at metering conditions (0.717 at 0 °C, 0.668 at 20 °C, 101.325 kPa)",
    )
)
bounds.register(
    bounds.Bound(
        "carbon_baseline_share",
        0.0,
        1.0,
        "share of mine gas drained",
        "utilisation up to this share of the drained gas earns no carbon credit (a share)",
    )
)
bounds.register(
    bounds.Bound(
        "gas_price_scale",
        0.0,
        10.0,
        "-",
        "multiplier on every gas, LNG and CNG price (scenarios and the goal-seek price lever); "
        "assumption: 0..10 covers any stress case",
    )
)
bounds.register(
    bounds.Bound(
        "horizontal_well_equivalent",
        1.0,
        50.0,
        "vertical wells per horizontal well",
        "drilling effort of a horizontal well in vertical wells; assumption: 1..50",
    )
)


@dataclass(frozen=True)
class Term:
    """One ``driver × unit value`` term of an item (``field`` names the unit-value path)."""

    driver: str
    field: str


@dataclass(frozen=True)
class ItemSpec:
    """An item of plan ch4: sub-cluster, item name and its terms."""

    sub_cluster: str
    item: str
    terms: tuple[Term, ...]

    @property
    def key(self) -> str:
        """``sub_cluster.item``, as in the plan ids after ``output.``."""
        return f"{self.sub_cluster}.{self.item}"


def _item(sub_cluster: str, item: str, *terms: tuple[str, str]) -> ItemSpec:
    return ItemSpec(sub_cluster, item, tuple(Term(d, f) for d, f in terms))


ITEMS: Final[tuple[ItemSpec, ...]] = (
    _item("exploration", "surface", ("surface.production", "surface_gas_price_yuan_per_m3")),
    _item("exploration", "underground", ("mine_gas.drainage", "underground_gas_value_yuan_per_m3")),
    _item("processing", "cng", ("cng.feed_gas", "cng_price_yuan_per_m3")),
    _item("processing", "lng", ("lng.output", "lng_price_yuan_per_t")),
    _item("processing", "pipeline", ("pipeline.exports", "pipeline_tariff_yuan_per_m3")),
    _item("processing", "storage", ("storage.storage_capacity", "storage_value_yuan_per_m3_year")),
    *(
        _item("utilisation", s, (f"demand:{s}.delivered", f"{s}_price_yuan_per_m3"))
        for s in ("residential", "commercial", "transport", "industry", "chemicals")
    ),
    _item(
        "utilisation",
        "mine_gas.power",
        ("mine_power.electricity", "mine_power_value_yuan_per_kwh"),
    ),
    _item(
        "utilisation",
        "mine_gas.heating",
        ("mine_heating.gas_used", "mine_heating_price_yuan_per_m3"),
    ),
    _item("science", "science_city", (EXOGENOUS, "science_city_1e8_yuan")),
    _item("science", "training_base", (EXOGENOUS, "training_base_1e8_yuan")),
    _item("services", "pre_drilling", (WELLS_EQ, "pre_drilling_yuan_per_well_eq")),
    _item("services", "drilling_fracturing", (WELLS_EQ, "drilling_fracturing_yuan_per_well_eq")),
    _item(
        "services",
        "dewatering",
        ("surface.wells_active_mean", "dewatering_yuan_per_active_well_year"),
    ),
    _item("services", "gathering", (WELLS_EQ, "gathering_yuan_per_well_eq")),
    _item("services", "workover", ("surface.workovers", "workover_yuan_per_workover")),
    _item("services", "materials_supply", (WELLS_EQ, "materials_supply_yuan_per_well_eq")),
    _item("services", "waste_handling", (WELLS_EQ, "waste_handling_yuan_per_well_eq")),
    _item(
        "services",
        "base_services",
        (WELLS_EQ, "base_services_yuan_per_well_eq"),
        ("surface.wells_active_mean", "base_services_yuan_per_active_well_year"),
    ),
    _item(
        "equipment",
        "equipment",
        (WELLS_EQ, "equipment_yuan_per_well_eq"),
        ("surface.wells_active_mean", "equipment_yuan_per_active_well_year"),
    ),
    _item("equipment", "tools", (WELLS_EQ, "tools_yuan_per_well_eq")),
    _item("equipment", "materials", (WELLS_EQ, "materials_yuan_per_well_eq")),
    _item("logistics", "equipment_moving", (WELLS_EQ, "equipment_moving_yuan_per_well_eq")),
    _item("logistics", "materials_transport", (WELLS_EQ, "materials_transport_yuan_per_well_eq")),
    _item("logistics", "equipment_trading", (WELLS_EQ, "equipment_trading_yuan_per_well_eq")),
    _item("logistics", "lng_logistics", ("lng.output", "lng_logistics_yuan_per_t")),
    _item("radiating", "carbon_trading", (CO2E_AVOIDED, "carbon_price_yuan_per_t_co2e")),
    _item("radiating", "green_finance", (EXOGENOUS, "green_finance_1e8_yuan")),
    _item("radiating", "insurance", (EXOGENOUS, "insurance_1e8_yuan")),
)
"""Every item of plan ch4 §1–§8 with its valuation terms (mine gas as power + heating)."""

_SCALARS: Final[frozenset[str]] = frozenset(
    {"horizontal_well_equivalent", "gwp100_ch4", "ch4_density_kg_per_m3", "gas_price_scale"}
)
GAS_PRICE_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "surface_gas_price_yuan_per_m3",
        "underground_gas_value_yuan_per_m3",
        "cng_price_yuan_per_m3",
        "lng_price_yuan_per_t",
        "residential_price_yuan_per_m3",
        "commercial_price_yuan_per_m3",
        "transport_price_yuan_per_m3",
        "industry_price_yuan_per_m3",
        "chemicals_price_yuan_per_m3",
        "mine_heating_price_yuan_per_m3",
    }
)
"""Prices of gas sold (as gas, CNG or LNG) that ``gas_price_scale`` multiplies."""
_CONSTANTS: Final[Mapping[str, float]] = {
    "YI": units.YI,
    "CO2_T_PER_T_CH4_BURNT": units.CO2_T_PER_T_CH4_BURNT,
}


class ValuationError(ValueError):
    """The valuation data file is malformed, or a derivation in it cannot be evaluated."""


# --------------------------------------------------------------------------------------------
# Defaults: cbm_sim/data/valuation.yaml, resolved against the packaged plan data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """The resolved defaults: a path (or scalar), a source and a unit per field."""

    paths: Mapping[str, Any]
    sources: Mapping[str, str]
    units: Mapping[str, str]
    categories: Mapping[str, tuple[str, tuple[str, ...]]]
    """2021 category → (plan id of its 2021 value, item keys)."""
    year_sources: Mapping[str, Mapping[int, str]] = dataclasses.field(default_factory=dict)
    """Cited price paths: field → {year: source of that year's value}."""
    beyond: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Cited price paths: field → how years after the last cited one are filled."""


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = read_packaged("valuation.yaml")
    return raw


class _Resolver:
    """Evaluates the YAML's path entries (numbers, expressions, 2021 calibrations)."""

    def __init__(self, raw: Mapping[str, Any], plan: Plan) -> None:
        self.fields: Mapping[str, Any] = raw["fields"]
        self.plan = plan
        self.done: dict[str, Any] = {}
        self.year_sources: dict[str, dict[int, str]] = {}
        self._active: set[str] = set()

    def resolve(self, name: str) -> Any:
        """The field's scalar, or its path without the 2021 calibration entries."""
        if name in self.done:
            return self.done[name]
        if name not in self.fields:
            raise ValuationError(f"valuation.yaml: unknown field {name!r} in an expression")
        if name in self._active:
            raise ValuationError(f"valuation.yaml: field {name!r} is defined in terms of itself")
        self._active.add(name)
        spec = self.fields[name]
        if spec.get("cost_model"):
            # flat: a cost per well in 2021 prices, no calibration factor drifting to a trend
            out: Any = {2021: cost_model().unit_values().get(name, 0.0)}
        elif "value" in spec:
            out = float(spec["value"])
        else:
            out = {}
            for year, entry in spec["path"].items():
                if isinstance(entry, dict) and "value" in entry:
                    self.year_sources.setdefault(name, {})[int(year)] = " ".join(
                        str(entry["source"]).split()
                    )
                    out[int(year)] = self.entry(name, int(year), entry["value"])
                elif not isinstance(entry, dict):
                    out[int(year)] = self.entry(name, int(year), entry)
        self._active.discard(name)
        self.done[name] = out
        return out

    def at(self, name: str, year: int) -> float:
        """The field's value in ``year`` (paths interpolated, flat outside)."""
        got = self.resolve(name)
        return float(got) if not isinstance(got, dict) else value_at(got, year)

    def entry(self, name: str, year: int, entry: Any) -> float:
        if isinstance(entry, int | float):
            return float(entry)
        return self.expression(str(entry), year, f"field {name!r}, year {year}")

    def expression(self, expr: str, year: int, where: str) -> float:
        def lookup(ident: str, pinned: int | None) -> float:
            if "." in ident:
                return self.plan.base(ident, pinned if pinned is not None else year)
            if ident in _CONSTANTS:
                return _CONSTANTS[ident]
            return self.at(ident, year)

        try:
            return float(_walk(ast.parse(expr.strip(), mode="eval").body, expr, lookup))
        except (ValueError, SyntaxError, ZeroDivisionError) as exc:
            raise ValuationError(
                f"valuation.yaml: {where}: cannot evaluate {expr!r}: {exc}"
            ) from None


# --------------------------------------------------------------------------------------------
# The well cost model: per-well unit values from one breakdown (valuation.yaml, well_cost)
# --------------------------------------------------------------------------------------------

COST_KINDS: Final[dict[str, str]] = {
    "capex": "_per_well_eq",
    "opex": "_per_active_well_year",
    "workover": "_per_workover",
}
"""Kinds of cost element → the suffix of the valuation fields that may take a share of it
(the field's driver: wells drilled, active wells, workovers)."""
_SHARE_SLACK: Final[float] = 1e-12


@dataclass(frozen=True)
class CostElement:
    """One element of the well cost: its value, driver kind, source and who takes it.

    Attributes
    ----------
    name
        Element name (``drilling_services``).
    kind
        ``capex`` (元 per vertical-well equivalent), ``opex`` (元 per active well-year) or
        ``workover`` (元 per workover).
    value_yuan
        The element's cost per driver unit [元].
    source
        Citation or "assumption: why".
    shares
        Valuation field → share of the element it takes (the shares add up to at most 1).
    """

    name: str
    kind: str
    value_yuan: float
    source: str
    shares: Mapping[str, float]


@dataclass(frozen=True)
class CostModel:
    """The well cost model: elements, and the cited capex total they add up to."""

    capex_total_yuan_per_well_eq: float
    capex_total_source: str
    elements: tuple[CostElement, ...]

    def unit_values(self) -> dict[str, float]:
        """Unit value of each cost-model field: the sum of its shares of the elements [元]."""
        out: dict[str, float] = {}
        for e in self.elements:
            for field, share in e.shares.items():
                out[field] = out.get(field, 0.0) + share * e.value_yuan
        return out

    def element_totals(self) -> dict[str, float]:
        """Per kind, the sum of the element values [元 per driver unit]."""
        out: dict[str, float] = {}
        for e in self.elements:
            out[e.kind] = out.get(e.kind, 0.0) + e.value_yuan
        return out


def parse_cost_model(raw: Mapping[str, Any], cost_fields: set[str]) -> CostModel:
    """The cost model of the ``well_cost`` section, checked.

    Parameters
    ----------
    raw
        The ``well_cost`` mapping of ``valuation.yaml``.
    cost_fields
        Fields marked ``cost_model: true``: every one must take a share of some element, and
        no other field may.

    Raises
    ------
    ValuationError
        Naming the element and the bad value: an unknown kind, a field of the wrong driver
        or outside ``cost_fields``, a share outside (0, 1], shares of one element adding up to
        more than 1 (a cost counted twice), capex elements not adding up to the cited total,
        or a cost-model field that takes no share.
    """
    elements = []
    for kind, suffix in COST_KINDS.items():
        for name, spec in (raw.get(kind) or {}).items():
            where = f"valuation.yaml: well_cost.{kind}.{name}"
            value = float(spec["value"])
            if not math.isfinite(value) or value < 0:
                raise ValuationError(f"{where}: value must be a finite cost >= 0, got {value}")
            shares = {str(f): float(v) for f, v in (spec.get("items") or {}).items()}
            for field, share in shares.items():
                if field not in cost_fields:
                    raise ValuationError(
                        f"{where}: {field!r} is not a cost-model field "
                        f"(one of {', '.join(sorted(cost_fields))})"
                    )
                if not field.endswith(suffix):
                    raise ValuationError(
                        f"{where}: a {kind} element goes to fields ending in {suffix!r}, "
                        f"got {field!r}"
                    )
                if not 0.0 < share <= 1.0:
                    raise ValuationError(
                        f"{where}: share of {field!r} must be in (0, 1], got {share}"
                    )
            if sum(shares.values()) > 1.0 + _SHARE_SLACK:
                raise ValuationError(
                    f"{where}: shares add up to {sum(shares.values()):g} > 1: the element "
                    "would be counted more than once"
                )
            elements.append(CostElement(name, kind, value, str(spec["source"]), shares))
    unknown = set(raw) - {*COST_KINDS, "capex_total_yuan_per_well_eq", "capex_total_source"}
    if unknown:
        raise ValuationError(f"valuation.yaml: well_cost has unknown keys {sorted(unknown)}")
    model = CostModel(
        float(raw["capex_total_yuan_per_well_eq"]),
        " ".join(str(raw["capex_total_source"]).split()),
        tuple(elements),
    )
    capex = model.element_totals().get("capex", 0.0)
    if not math.isclose(capex, model.capex_total_yuan_per_well_eq, rel_tol=1e-9):
        raise ValuationError(
            f"valuation.yaml: well_cost capex elements add up to {capex:g} 元, not the cited "
            f"total {model.capex_total_yuan_per_well_eq:g}"
        )
    idle = cost_fields - set(model.unit_values())
    if idle:
        raise ValuationError(
            f"valuation.yaml: cost-model fields {sorted(idle)} take no share of any element"
        )
    return model


@functools.cache
def cost_model() -> CostModel:
    """The packaged well cost model (``cbm_sim/data/valuation.yaml``, ``well_cost``)."""
    raw = _raw()
    fields = {k for k, v in raw["fields"].items() if v.get("cost_model")}
    return parse_cost_model(raw["well_cost"], fields)


@functools.cache
def defaults() -> Defaults:
    """The packaged defaults, resolved against the packaged plan data (computed once)."""
    raw = _raw()
    plan = load_plan()
    res = _Resolver(raw, plan)
    missing = set(ValuationConfig.model_fields) ^ set(raw["fields"])
    if missing:
        raise ValuationError(f"valuation.yaml and ValuationConfig disagree on fields {missing}")
    values = {name: res.resolve(name) for name in raw["fields"]}
    cal = raw["calibration_2021"]
    categories = {
        cat: (str(spec["plan"]), tuple(spec["items"])) for cat, spec in cal["categories"].items()
    }
    by_key = {spec.key: spec for spec in ITEMS}
    ref = int(cal["reference_year"])
    for cat, (plan_id, keys) in categories.items():
        terms = [t for k in keys for t in by_key[k].terms]
        volume_value = sum(
            res.expression(str(cal["drivers"][t.driver]), 2021, f"driver {t.driver!r}")
            * res.at(t.field, ref)
            for t in terms
        )
        factor = plan.base(plan_id, 2021) / volume_value
        for t in terms:
            path = raw["fields"][t.field]["path"]
            if path.get(2021) == {"calibrate_2021": cat}:
                values[t.field] = {2021: factor * res.at(t.field, ref), **values[t.field]}
    return Defaults(
        paths={k: dict(sorted(v.items())) if isinstance(v, dict) else v for k, v in values.items()},
        sources={k: " ".join(str(v["source"]).split()) for k, v in raw["fields"].items()},
        units={k: str(v["unit"]) for k, v in raw["fields"].items()},
        categories=categories,
        year_sources=res.year_sources,
        beyond={
            k: " ".join(str(v["beyond"]).split()) for k, v in raw["fields"].items() if "beyond" in v
        },
    )


def calibrated_2021_fields() -> frozenset[str]:
    """Fields whose packaged 2021 value is the plan's 2021 calibration (``calibrate_2021``).

    Their 2021 value is in-sample for a 2021 backtest; the cited price paths are not among them.
    """
    return frozenset(
        name
        for name, spec in _raw()["fields"].items()
        if isinstance((spec.get("path") or {}).get(2021), dict)
        and "calibrate_2021" in spec["path"][2021]
    )


def _default(name: str) -> Any:
    got = defaults().paths[name]
    return dict(got) if isinstance(got, dict) else got


def _field(name: str, description: str) -> Any:
    return Field(default_factory=functools.partial(_default, name), description=description)


# --------------------------------------------------------------------------------------------
# The scenario's valuation section
# --------------------------------------------------------------------------------------------

TimePath = dict[int, float]


class ValuationConfig(BaseModel):
    """Unit values and exogenous paths of the valuation (a scenario's ``valuation`` section).

    Every field defaults to ``cbm_sim/data/valuation.yaml`` (sources there and in
    :meth:`sources`); a scenario overrides single fields. Paths are ``{year: value}``, linear
    between stated years and flat outside (:mod:`cbm_sim.scenario.paths`); units are in the names
    (``_1e8_yuan`` = 亿元 per year; ``_per_well_eq`` = per vertical-well equivalent drilled).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    surface_gas_price_yuan_per_m3: TimePath = _field(
        "surface_gas_price_yuan_per_m3", "地面开发 [元/m3]"
    )
    underground_gas_value_yuan_per_m3: TimePath = _field(
        "underground_gas_value_yuan_per_m3", "井下抽采, per m3 drained [元/m3]"
    )
    cng_price_yuan_per_m3: TimePath = _field("cng_price_yuan_per_m3", "压缩, per m3 of feed gas")
    lng_price_yuan_per_t: TimePath = _field("lng_price_yuan_per_t", "液化 [元/t LNG]")
    pipeline_tariff_yuan_per_m3: TimePath = _field(
        "pipeline_tariff_yuan_per_m3", "管输, per m3 exported [元/m3]"
    )
    storage_value_yuan_per_m3_year: TimePath = _field(
        "storage_value_yuan_per_m3_year", "储气调峰, per m3 of capacity and year"
    )
    residential_price_yuan_per_m3: TimePath = _field("residential_price_yuan_per_m3", "民生用气")
    commercial_price_yuan_per_m3: TimePath = _field("commercial_price_yuan_per_m3", "公商用气")
    transport_price_yuan_per_m3: TimePath = _field("transport_price_yuan_per_m3", "交通用气")
    industry_price_yuan_per_m3: TimePath = _field("industry_price_yuan_per_m3", "工业用气")
    chemicals_price_yuan_per_m3: TimePath = _field("chemicals_price_yuan_per_m3", "化工用气")
    mine_power_value_yuan_per_kwh: TimePath = _field(
        "mine_power_value_yuan_per_kwh", "瓦斯发电 (electricity and heat sold) per kWh"
    )
    mine_heating_price_yuan_per_m3: TimePath = _field(
        "mine_heating_price_yuan_per_m3", "矿区供热和生活用气"
    )
    horizontal_well_equivalent: float = _field(
        "horizontal_well_equivalent", "vertical-well equivalents of one horizontal well"
    )
    drilling_fracturing_yuan_per_well_eq: TimePath = _field(
        "drilling_fracturing_yuan_per_well_eq", "钻压工程"
    )
    pre_drilling_yuan_per_well_eq: TimePath = _field("pre_drilling_yuan_per_well_eq", "钻前工程")
    gathering_yuan_per_well_eq: TimePath = _field("gathering_yuan_per_well_eq", "地面集输")
    materials_supply_yuan_per_well_eq: TimePath = _field(
        "materials_supply_yuan_per_well_eq", "物料供应"
    )
    waste_handling_yuan_per_well_eq: TimePath = _field(
        "waste_handling_yuan_per_well_eq", "废弃物处理"
    )
    dewatering_yuan_per_active_well_year: TimePath = _field(
        "dewatering_yuan_per_active_well_year", "排采工程"
    )
    workover_yuan_per_workover: TimePath = _field("workover_yuan_per_workover", "修井作业")
    base_services_yuan_per_well_eq: TimePath = _field(
        "base_services_yuan_per_well_eq", "基地服务, drilling-crew part"
    )
    base_services_yuan_per_active_well_year: TimePath = _field(
        "base_services_yuan_per_active_well_year", "基地服务, operating-staff part"
    )
    equipment_yuan_per_well_eq: TimePath = _field(
        "equipment_yuan_per_well_eq", "装备制造, new wells"
    )
    equipment_yuan_per_active_well_year: TimePath = _field(
        "equipment_yuan_per_active_well_year", "装备制造, upkeep of producing wells"
    )
    tools_yuan_per_well_eq: TimePath = _field("tools_yuan_per_well_eq", "工具研制")
    materials_yuan_per_well_eq: TimePath = _field("materials_yuan_per_well_eq", "材料生产")
    equipment_moving_yuan_per_well_eq: TimePath = _field(
        "equipment_moving_yuan_per_well_eq", "设备搬迁"
    )
    materials_transport_yuan_per_well_eq: TimePath = _field(
        "materials_transport_yuan_per_well_eq", "物料运输"
    )
    equipment_trading_yuan_per_well_eq: TimePath = _field(
        "equipment_trading_yuan_per_well_eq", "器材交易"
    )
    lng_logistics_yuan_per_t: TimePath = _field("lng_logistics_yuan_per_t", "LNG物流, per t of LNG")
    gwp100_ch4: float = _field("gwp100_ch4", "100-year GWP of methane [t CO2e / t CH4]")
    ch4_density_kg_per_m3: float = _field("ch4_density_kg_per_m3", "methane density [kg/m3]")
    carbon_price_yuan_per_t_co2e: TimePath = _field(
        "carbon_price_yuan_per_t_co2e", "碳交易 [元/t CO2e]"
    )
    carbon_baseline_share: TimePath = _field(
        "carbon_baseline_share",
        "share of mine gas drained whose utilisation is the baseline (not credited) [-]",
    )
    science_city_1e8_yuan: TimePath = _field("science_city_1e8_yuan", "科创城 [亿元/yr], exogenous")
    training_base_1e8_yuan: TimePath = _field(
        "training_base_1e8_yuan", "实训基地 [亿元/yr], exogenous"
    )
    green_finance_1e8_yuan: TimePath = _field(
        "green_finance_1e8_yuan", "绿色金融 [亿元/yr], exogenous"
    )
    insurance_1e8_yuan: TimePath = _field("insurance_1e8_yuan", "保险 [亿元/yr], exogenous")
    gas_price_scale: float = _field(
        "gas_price_scale", "multiplier on every gas/CNG/LNG price (GAS_PRICE_FIELDS)"
    )

    @field_validator("*", mode="after")
    @classmethod
    def _in_bounds(cls, v: Any, info: Any) -> Any:
        name = info.field_name
        if name in _SCALARS:
            _check(name, name, v)
            return v
        if not v:
            raise ValueError(f"{name}: a time path needs at least one {{year: value}} entry")
        bound = "carbon_baseline_share" if name == "carbon_baseline_share" else None
        for year, value in v.items():
            if not 1990 <= year <= 2100:
                raise ValueError(f"{name}: year {year} is outside 1990..2100")
            _check(bound or "valuation_unit_value", f"{name} for {year}", value)
        return dict(sorted(v.items()))

    @classmethod
    def default(cls) -> ValuationConfig:
        """The packaged defaults (``cbm_sim/data/valuation.yaml``)."""
        return cls()

    def is_default(self, field: str) -> bool:
        """Whether ``field`` holds the packaged default."""
        return bool(getattr(self, field) == defaults().paths[field])

    def sources(self) -> dict[str, str]:
        """Source of every field: the YAML's, or ``scenario`` where a scenario changed it."""
        return {
            f: defaults().sources[f] if self.is_default(f) else "scenario"
            for f in type(self).model_fields
        }

    def price_source(self, field: str, year: int) -> str:
        """Where the value of ``field`` in ``year`` comes from.

        Cited price paths (``surface_gas_price_yuan_per_m3``, ``lng_price_yuan_per_t``,
        ``mine_power_value_yuan_per_kwh``, ``carbon_price_yuan_per_t_co2e``) give a source per
        cited year; a year after the last cited one says how it is filled (held flat, labelled
        in ``valuation.yaml``), a year between two cited ones that it is interpolated. Other
        fields give the field's source; a field a scenario changed gives ``scenario``.

        Raises
        ------
        KeyError
            If ``field`` is not a valuation field.
        """
        if field not in type(self).model_fields:
            raise KeyError(f"unknown valuation field {field!r}")
        if not self.is_default(field):
            return "scenario"
        cited = defaults().year_sources.get(field)
        if not cited:
            return defaults().sources[field]
        if year in cited:
            return cited[year]
        first, last = min(cited), max(cited)
        if year > last:
            return f"{defaults().beyond.get(field, 'held flat')}; {last}: {cited[last]}"
        if year < first:
            return f"held flat before {first} (assumption); {first}: {cited[first]}"
        before = max(y for y in cited if y < year)
        after = min(y for y in cited if y > year)
        return f"linear between {before} ({cited[before]}) and {after} ({cited[after]})"

    def unit_value(self, field: str, years: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Unit value of a path field at ``years``, in 元 per driver unit (亿元 paths → 元/yr)."""
        scale = units.YI if field.endswith("_1e8_yuan") else 1.0
        if field in GAS_PRICE_FIELDS:
            scale *= self.gas_price_scale
        return interpolate(getattr(self, field), years) * scale


def _check(bound: str, label: str, value: float) -> None:
    try:
        bounds.check(bound, value)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}; got {value!r}") from None


def unit_of(field: str) -> str:
    """Unit of a field's values as used in the valuation frame (亿元 paths count in 元/yr)."""
    return "元/yr" if field.endswith("_1e8_yuan") else defaults().units[field]
