"""The valuation section of a scenario: prices, unit values, 2021 levels, with defaults.

Every field of :class:`ValuationConfig` defaults to ``cbm_sim/data/valuation.yaml`` (each with a
``source``), resolved against the packaged plan data; :data:`ITEMS` says which simulated driver
each field multiplies in which sub-cluster item (plan ch4 §1–§8). Items of the plan's five 2021
categories (ch1 §2 八) are valued at their category's level (``levels_2021``, fitted to the 2021
statistic) times a price; the dispatch ranks markets by the same prices without the levels
(:mod:`cbm_sim.cluster.netback`). The valuation itself — drivers × unit values over a run — is
:mod:`cbm_sim.economics.valuation`; this module is only its input, so that a scenario can be
validated without the economics layer.
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
GREEN_LOANS: Final[str] = "green_loans_outstanding"
"""Driver: green credit outstanding from the run's well investment [元] (economics.valuation)."""
INSURED_ASSETS: Final[str] = "insured_well_assets"
"""Driver: active wells at the well cost model's capex per vertical-well equivalent [元]."""
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
        "valuation_level",
        0.0,
        100.0,
        "-",
        "level of a 2021 category: its 2021 statistic over its volumes at market prices; "
        "assumption: 0..100 admits any statistical basis, rejects nonsense",
    )
)
bounds.register(
    bounds.Bound(
        "green_loan_share",
        0.0,
        1.0,
        "share of the well investment",
        "share of the wells' capital borrowed as green credit (a share)",
    )
)
bounds.register(
    bounds.Bound(
        "green_loan_tenor_years",
        1.0,
        50.0,
        "yr",
        "repayment period of the green loans; assumption: 1..50 years covers any project loan",
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
    _item("science", "training_base", (WELLS_EQ, "training_yuan_per_well_drilled")),
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
    _item("radiating", "green_finance", (GREEN_LOANS, "green_finance_yuan_per_yuan_year")),
    _item("radiating", "insurance", (INSURED_ASSETS, "insurance_premium_per_yuan_year")),
)
"""Every item of plan ch4 §1–§8 with its valuation terms (mine gas as power + heating)."""

COST_SCALARS: Final[frozenset[str]] = frozenset(
    {
        "distribution_cost_yuan_per_m3",
        "compression_cost_yuan_per_m3",
        "liquefaction_cost_yuan_per_m3",
    }
)
"""What the dispatch's netback subtracts from a market's price [元/m3 of gas]."""
_SCALARS: Final[frozenset[str]] = frozenset(
    {
        "horizontal_well_equivalent",
        "gwp100_ch4",
        "ch4_density_kg_per_m3",
        "gas_price_scale",
        "green_loan_share",
        "green_loan_tenor_years",
        *COST_SCALARS,
    }
)
_SCALAR_BOUNDS: Final[Mapping[str, str]] = {
    "green_loan_share": "green_loan_share",
    "green_loan_tenor_years": "green_loan_tenor_years",
    **dict.fromkeys(COST_SCALARS, "valuation_unit_value"),
}
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
    levels: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """2021 category → its level (the 2021 statistic over its volumes at the default prices)."""
    year_sources: Mapping[str, Mapping[int, str]] = dataclasses.field(default_factory=dict)
    """Cited price paths: field → {year: source of that year's value}."""
    beyond: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Cited price paths: field → how years after the last cited one are filled."""
    indices: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Fields that move with a price index: field → the index field."""

    def category_of(self, field: str) -> str | None:
        """The 2021 category whose items ``field`` values, if any."""
        by_key = {spec.key: spec for spec in ITEMS}
        for cat, (_, keys) in self.categories.items():
            if any(t.field == field for k in keys for t in by_key[k].terms):
                return cat
        return None


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = read_packaged("valuation.yaml")
    return raw


class _Resolver:
    """Evaluates the YAML's path entries (numbers, expressions, cited values, indexed paths)."""

    def __init__(self, raw: Mapping[str, Any], plan: Plan) -> None:
        self.fields: Mapping[str, Any] = raw["fields"]
        self.plan = plan
        self.done: dict[str, Any] = {}
        self.year_sources: dict[str, dict[int, str]] = {}
        self._active: set[str] = set()

    def resolve(self, name: str) -> Any:
        """The field's scalar, or its path (an indexed field at every year of its index)."""
        if name in self.done:
            return self.done[name]
        if name not in self.fields:
            raise ValuationError(f"valuation.yaml: unknown field {name!r} in an expression")
        if name in self._active:
            raise ValuationError(f"valuation.yaml: field {name!r} is defined in terms of itself")
        self._active.add(name)
        spec = self.fields[name]
        if spec.get("cost_model"):
            # flat: a cost per well in 2021 prices
            out: Any = {2021: cost_model().unit_values().get(name, 0.0)}
        elif "value" in spec:
            out = float(spec["value"])
        else:
            out = {}
            for year, entry in spec["path"].items():
                if isinstance(entry, dict):
                    if "value" not in entry or "source" not in entry:
                        raise ValuationError(
                            f"valuation.yaml: field {name!r}, year {year}: a cited entry needs "
                            f"'value' and 'source', got {sorted(entry)}"
                        )
                    self.year_sources.setdefault(name, {})[int(year)] = " ".join(
                        str(entry["source"]).split()
                    )
                    out[int(year)] = self.entry(name, int(year), entry["value"])
                else:
                    out[int(year)] = self.entry(name, int(year), entry)
            if spec.get("index"):
                out = self.indexed(name, out, str(spec["index"]))
        self._active.discard(name)
        self.done[name] = out
        return out

    def indexed(self, name: str, path: dict[int, float], index: str) -> dict[int, float]:
        """``path`` (one reference year) moved by ``index`` at every year the index states."""
        if len(path) != 1:
            raise ValuationError(
                f"valuation.yaml: field {name!r} moves with {index!r}, so its path needs one "
                f"reference year, got {sorted(path)}"
            )
        ((ref_year, ref),) = path.items()
        idx = self.resolve(index)
        if not isinstance(idx, dict):
            raise ValuationError(f"valuation.yaml: index {index!r} of {name!r} is not a path")
        base = value_at(idx, ref_year)
        return {y: ref * value_at(idx, y) / base for y in sorted({ref_year, *idx})}

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
            return self.at(ident, pinned if pinned is not None else year)

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
    fields = set(ValuationConfig.model_fields) - {"levels_2021"}
    missing = fields ^ set(raw["fields"])
    if missing:
        raise ValuationError(f"valuation.yaml and ValuationConfig disagree on fields {missing}")
    values = {name: res.resolve(name) for name in raw["fields"]}
    spec = raw["levels_2021"]
    categories = {cat: (str(c["plan"]), tuple(c["items"])) for cat, c in spec["categories"].items()}
    return Defaults(
        paths={k: dict(sorted(v.items())) if isinstance(v, dict) else v for k, v in values.items()},
        sources={k: " ".join(str(v["source"]).split()) for k, v in raw["fields"].items()},
        units={k: str(v["unit"]) for k, v in raw["fields"].items()},
        categories=categories,
        levels=_levels(res, categories, spec),
        year_sources=res.year_sources,
        beyond={
            k: " ".join(str(v["beyond"]).split()) for k, v in raw["fields"].items() if "beyond" in v
        },
        indices={k: str(v["index"]) for k, v in raw["fields"].items() if v.get("index")},
    )


def _levels(
    res: _Resolver, categories: Mapping[str, tuple[str, tuple[str, ...]]], spec: Mapping[str, Any]
) -> dict[str, float]:
    """Each category's level: its 2021 statistic over Σ 2021 volume × 2021 price (in-sample)."""
    by_key = {s.key: s for s in ITEMS}
    year = int(spec["year"])
    out = {}
    for cat, (plan_id, keys) in categories.items():
        at_prices = sum(
            res.expression(str(spec["drivers"][t.driver]), year, f"driver {t.driver!r}")
            * res.at(t.field, year)
            for k in keys
            for t in by_key[k].terms
        )
        if at_prices <= 0:
            raise ValuationError(f"valuation.yaml: category {cat!r} has no 2021 volume to fit")
        out[cat] = res.plan.base(plan_id, year) / at_prices
    return out


def calibrated_2021_fields() -> frozenset[str]:
    """Fields valued at a level fitted to 2021: every field of the five 2021 categories.

    Their 2021 value is in-sample for a 2021 backtest (the level makes the plan's own 2021
    volumes give the plan's 2021 value of the category); only the simulated volumes are tested.
    """
    d = defaults()
    return frozenset(f for f in d.paths if d.category_of(f) is not None)


def _default(name: str) -> Any:
    got = defaults().paths[name]
    return dict(got) if isinstance(got, dict) else got


def _field(name: str, description: str) -> Any:
    return Field(default_factory=functools.partial(_default, name), description=description)


# --------------------------------------------------------------------------------------------
# The scenario's valuation section
# --------------------------------------------------------------------------------------------

TimePath = dict[int, float]
LEVELS_SOURCE: Final[str] = (
    "calibration: each category's value in the plan's 2021 statistic (ch1 §2 八) over its 2021 "
    "volumes at the 2021 prices (valuation.yaml, levels_2021; in-sample)"
)


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
    training_yuan_per_well_drilled: TimePath = _field(
        "training_yuan_per_well_drilled", "实训基地, per vertical-well equivalent drilled [元]"
    )
    green_finance_yuan_per_yuan_year: TimePath = _field(
        "green_finance_yuan_per_yuan_year", "绿色金融, per 元 of green loans outstanding [元/yr]"
    )
    green_loan_share: float = _field(
        "green_loan_share", "share of the wells' capital borrowed as green credit [-]"
    )
    green_loan_tenor_years: float = _field(
        "green_loan_tenor_years", "years over which the green loans are repaid [yr]"
    )
    insurance_premium_per_yuan_year: TimePath = _field(
        "insurance_premium_per_yuan_year", "保险, premium per 元 insured [元/yr]"
    )
    distribution_cost_yuan_per_m3: float = _field(
        "distribution_cost_yuan_per_m3", "netback: local distribution of gas [元/m3]"
    )
    compression_cost_yuan_per_m3: float = _field(
        "compression_cost_yuan_per_m3", "netback: compression to CNG [元/m3 of feed]"
    )
    liquefaction_cost_yuan_per_m3: float = _field(
        "liquefaction_cost_yuan_per_m3", "netback: liquefaction [元/m3 of feed]"
    )
    gas_price_scale: float = _field(
        "gas_price_scale", "multiplier on every gas/CNG/LNG price (GAS_PRICE_FIELDS)"
    )
    levels_2021: dict[str, float] = Field(
        default_factory=lambda: dict(defaults().levels),
        description="level of each 2021 category (ch1 §2 八), fitted to the 2021 statistic",
    )

    @field_validator("*", mode="after")
    @classmethod
    def _in_bounds(cls, v: Any, info: Any) -> Any:
        name = info.field_name
        if name in _SCALARS:
            _check(_SCALAR_BOUNDS.get(name, name), name, v)
            return v
        if name == "levels_2021":
            unknown = set(v) - set(defaults().categories)
            if unknown:
                raise ValueError(
                    f"levels_2021: unknown categories {sorted(unknown)}; expected some of "
                    f"{', '.join(defaults().categories)}"
                )
            for cat, level in v.items():
                _check("valuation_level", f"levels_2021 of {cat}", level)
            return {**defaults().levels, **v}
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
        if field == "levels_2021":
            return self.levels_2021 == dict(defaults().levels)
        return bool(getattr(self, field) == defaults().paths[field])

    def sources(self) -> dict[str, str]:
        """Source of every field: the YAML's, or ``scenario`` where a scenario changed it."""
        known = {**defaults().sources, "levels_2021": LEVELS_SOURCE}
        return {f: known[f] if self.is_default(f) else "scenario" for f in type(self).model_fields}

    def price_source(self, field: str, year: int) -> str:
        """Where the value of ``field`` in ``year`` comes from.

        Cited price paths (``surface_gas_price_yuan_per_m3``, ``lng_price_yuan_per_t``,
        ``carbon_price_yuan_per_t_co2e``, ``green_finance_yuan_per_yuan_year``) give a source
        per cited year; a year after the last cited one says how it is filled (a stated path,
        labelled in ``valuation.yaml``), a year between two cited ones that it is interpolated.
        A field that moves with a price index gives its own source and the index's for the
        year. Other fields give the field's source; a field a scenario changed gives
        ``scenario``.

        Raises
        ------
        KeyError
            If ``field`` is not a valuation field.
        """
        if field not in type(self).model_fields:
            raise KeyError(f"unknown valuation field {field!r}")
        if not self.is_default(field):
            return "scenario"
        index = defaults().indices.get(field)
        if index is not None:
            return f"{defaults().sources[field]}; index: {self.price_source(index, year)}"
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

    def level_of(self, field: str) -> float:
        """The 2021 level of the category whose items ``field`` values; 1 outside them."""
        cat = defaults().category_of(field)
        return 1.0 if cat is None else float(self.levels_2021[cat])

    def unit_value(self, field: str, years: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Price or unit value of a path field at ``years``, in 元 per driver unit (亿元 paths
        → 元/yr); the valuation multiplies it by :meth:`level_of`."""
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
