"""The studio's levers: the scenario fields a planner moves, grouped by stage of the chain.

A lever is one field of the scenario schema — a number, a ``{year: value}`` time path or a
commissioning date — named by its field path exactly as ``cbm-sim validate`` names it in a
problem (``drilling.blocks.mabi.rigs``, ``lng.plants[8].commissioned``). So a problem of an
edited scenario lands on its lever, and a lever's value is what a saved scenario file holds.

Each lever carries what the page shows beside it: its unit (from the field name, or the
valuation table's unit), its bounds (the pydantic schema's, which are :mod:`cbm_sim.bounds`'
where a bound is registered; the valuation's from the bounds registry), its value in the base
scenario and its source — the comment written beside the value in the base scenario file
(every shipped number cites the plan or says "assumption: why"), or, for a value left at its
default, the schema's description or ``cbm_sim/data/valuation.yaml``'s source.

A time-path lever is edited on a grid of years that holds every year the base path states:
a path written on such a grid is the same piecewise-linear path wherever it is not edited.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Literal

from cbm_sim import bounds, names
from cbm_sim.scenario.files import FieldSource
from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.valuation_inputs import defaults

Kind = Literal["number", "integer", "path", "date"]

GROUPS: Final[tuple[str, ...]] = (
    "drilling",
    "type_curves",
    "facilities",
    "contracts",
    "demand",
    "mine_gas",
    "prices",
)
"""Stages of the chain, upstream first: wells drilled, what they yield, the plants and lines
that carry the gas, the producers' contracts, the local markets, coal-mine gas, prices."""

TARGET_YEARS: Final[tuple[int, ...]] = (2025, 2030)

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str) -> tuple[str | int, ...]:
    """``lng.plants[8].commissioned`` → ``("lng", "plants", 8, "commissioned")``.

    Raises
    ------
    ValueError
        If ``text`` is not a field path (empty parts, stray brackets).
    """
    parts: list[str | int] = []
    pos = 0
    for match in _PART.finditer(text):
        name, index = match.groups()
        # a name follows a dot (but the first); an index follows its field directly
        if text[pos : match.start()] != ("." if parts and index is None else ""):
            raise ValueError(f"not a field path: {text!r}")
        parts.append(int(index) if index is not None else name)
        pos = match.end()
    if not parts or pos != len(text):
        raise ValueError(f"not a field path: {text!r}")
    return tuple(parts)


def format_path(parts: Iterable[str | int]) -> str:
    """The inverse of :func:`parse_path`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True)
class Lever:
    """One field a planner may move, with what the page shows beside it.

    Attributes
    ----------
    id
        Field path as ``cbm-sim validate`` prints it.
    group
        Stage of the chain (:data:`GROUPS`).
    kind
        ``number``, ``integer``, ``path`` (``{year: value}``) or ``date`` (ISO).
    units
        Display unit of the value (of each year's value for a path), by language.
    lo, hi, lo_open, hi_open
        Bounds of the value (of each year's value); ``None`` where the schema states none.
    years
        The grid a path lever is edited on (every year its base path states, the horizon's
        years for drilling, the target years); empty for other kinds.
    base
        The value in the base scenario (a path as ``{year: value}`` on the grid, a date as
        ISO text, ``None`` for a date left empty).
    source
        Where the base value comes from (the base file's comment, or the default's source).
    where
        ``file:line`` that set the base value, or ``default``.
    description
        What the field is (the schema's description), may be empty.
    """

    id: str
    group: str
    kind: Kind
    units: Mapping[str, str]
    lo: float | None
    hi: float | None
    lo_open: bool = False
    hi_open: bool = False
    years: tuple[int, ...] = ()
    base: Any = None
    source: str = ""
    where: str = "default"
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The lever as the API returns it (years as strings, as JSON object keys are)."""
        base = self.base
        if self.kind == "path" and isinstance(base, Mapping):
            base = {str(y): v for y, v in base.items()}
        return {
            "id": self.id,
            "group": self.group,
            "kind": self.kind,
            "units": dict(self.units),
            "lo": self.lo,
            "hi": self.hi,
            "lo_open": self.lo_open,
            "hi_open": self.hi_open,
            "years": list(self.years),
            "base": base,
            "source": self.source,
            "where": self.where,
            "description": self.description,
            "labels": dict(self.labels),
        }


# --------------------------------------------------------------------------- the schema
@cache
def _schema() -> dict[str, Any]:
    return Scenario.model_json_schema()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    defs = _schema()["$defs"]
    while True:
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items()
                                                               if k != "$ref"}}  # fmt: skip
            continue
        options = [o for o in node.get("anyOf", ()) if o.get("type") != "null"]
        if len(options) == 1:
            node = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
            continue
        return node


def schema_at(parts: tuple[str | int, ...]) -> dict[str, Any]:
    """The JSON-Schema node of the field at ``parts`` (``$ref`` and optional resolved).

    Raises
    ------
    KeyError
        If the schema has no such field.
    """
    node = _resolve(_schema())
    for part in parts:
        if isinstance(part, int):
            node = _resolve(node["items"])
        elif part in node.get("properties", {}):
            node = _resolve(node["properties"][part])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(node["additionalProperties"])
        else:
            raise KeyError(f"no field {format_path(parts)!r} in the scenario schema")
    return node


def _limits(node: dict[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    lo = node.get("minimum", node.get("exclusiveMinimum"))
    hi = node.get("maximum", node.get("exclusiveMaximum"))
    return (
        None if lo is None else float(lo),
        None if hi is None else float(hi),
        "exclusiveMinimum" in node,
        "exclusiveMaximum" in node,
    )


def field_bounds(parts: tuple[str | int, ...]) -> tuple[float | None, float | None, bool, bool]:
    """(lo, hi, lo_open, hi_open) of a number or of each value of a path at ``parts``.

    The scenario schema's limits (which carry :mod:`cbm_sim.bounds` where a field uses a
    registered bound); the valuation section's from the bounds registry, as its validator
    checks them (:class:`~cbm_sim.scenario.valuation_inputs.ValuationConfig`).
    """
    if parts[0] == "valuation":
        name = str(parts[1])
        key = name if name in bounds.BOUNDS else "valuation_unit_value"
        b = bounds.BOUNDS[key]
        return b.lo, b.hi, b.lo_open, b.hi_open
    node = schema_at(parts)
    if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
        node = node["additionalProperties"]
    return _limits(node)


def units_for(parts: tuple[str | int, ...]) -> dict[str, str]:
    """Display unit of the field at ``parts``, Chinese and English: the project's names table
    (:func:`cbm_sim.names.input_unit`, from the field name's suffix), else the unit of the
    field's bound in :mod:`cbm_sim.bounds` (wells per block and year), else none."""
    dotted = dotted_path(parts)
    out: dict[str, str] = {lang: names.input_unit(dotted, lang) for lang in names.LANGS}
    if not any(out.values()):
        bound = _BOUND_OF.get(str(parts[-1]))
        if bound is not None:
            out = dict.fromkeys(names.LANGS, bounds.BOUNDS[bound].unit)
    return out


_BOUND_OF: Final[dict[str, str]] = {
    "vertical_wells_per_year": "wells_per_block_year",
    "horizontal_wells_per_year": "wells_per_block_year",
}
"""Fields whose unit the names table leaves to their bound (``wells/yr``)."""


def dotted_path(parts: Iterable[str | int]) -> str:
    """A field path as the names table and :func:`~cbm_sim.scenario.files.field_sources`
    write it: list items by index after a dot (``lng.plants.8.commissioned``)."""
    return ".".join(str(p) for p in parts)


# --------------------------------------------------------------------------- values
def value_at(data: Any, parts: tuple[str | int, ...]) -> Any:
    """The value at ``parts`` of a nested dict/list, or ``None`` where there is none."""
    node = data
    for part in parts:
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                return None
        elif not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def path_on_grid(path: Mapping[int, float], years: Iterable[int]) -> dict[int, float]:
    """``path`` evaluated at ``years`` (linear between its years, flat outside), as a path."""
    from cbm_sim.scenario.paths import value_at as at

    return {int(y): float(path[y]) if y in path else at(path, y) for y in sorted(set(years))}


def plain(value: Any) -> Any:
    """A value as JSON holds it: dates as ISO text, paths' values as floats."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- sources
def _source(
    parts: tuple[str | int, ...], sources: Mapping[str, FieldSource], scenario: Scenario
) -> tuple[str, str]:
    """(source text, ``file:line`` or ``default``) of the base value at ``parts``."""
    hit = sources.get(dotted_path(parts))
    if hit is not None:
        where = f"{hit.file}:{hit.line}"
        return hit.comment or f"written at {where}", where
    if parts[0] == "valuation":
        name = str(parts[1])
        text = defaults().sources.get(name, "") if scenario.valuation.is_default(name) else ""
        return text or "scenario", "default (cbm_sim/data/valuation.yaml)"
    try:
        description = str(schema_at(parts).get("description", ""))
    except KeyError:
        description = ""
    where = "default of the scenario schema (cbm_sim/scenario/model.py)"
    return f"{where}: {description}" if description else where, "default"


# --------------------------------------------------------------------------- the catalogue
def _grid(
    base: Mapping[int, float] | None, horizon: tuple[int, int], every_year: int | None
) -> tuple[int, ...]:
    """Years a path lever is edited on: every year the base path states, the horizon's first
    year and the target years; with ``every_year`` (a first year), every year from it on."""
    first, last = horizon
    years = set(base or ()) | {y for y in TARGET_YEARS if first <= y <= last} | {first}
    if every_year is not None:
        years = set(base or ()) | set(range(max(first, every_year), last + 1))
    return tuple(sorted(years))


def _ids(scenario: Scenario) -> list[tuple[str, tuple[str | int, ...], int | None]]:
    """(group, field path, first year of an every-year grid) of every lever of ``scenario``,
    in page order (drilling is edited year by year from the programme's first year)."""
    out: list[tuple[str, tuple[str | int, ...], int | None]] = [
        ("drilling", ("drilling", "achieved_share"), None)
    ]
    start = scenario.horizon.start.year
    for block, prog in scenario.drilling.blocks.items():
        for name in ("vertical_wells_per_year", "horizontal_wells_per_year", "rigs"):
            out.append(("drilling", ("drilling", "blocks", block, name), prog.first_year or start))
    for name in (
        "peak_rate_scale",
        "horizontal_peak_scale",
        "producing_blocks_peak_scale",
        "ramping_blocks_peak_scale",
        "proved_blocks_peak_scale",
        "development_blocks_peak_scale",
        "producing_share_scale",
        "decline_scale",
        "incline_days_scale",
    ):
        out.append(("type_curves", ("type_curves", name), None))
    out.append(("facilities", ("commissioning", "delay_days"), None))
    for section, listing, capacity in (
        ("lng", "plants", "capacity_t_per_day"),
        ("cng", "stations", "capacity_1e4_m3_per_day"),
        ("pipelines", "lines", "capacity_1e8_m3_per_year"),
        ("storage", "projects", "capacity_1e4_m3"),
    ):
        items = getattr(getattr(scenario, section), listing)
        for i, item in enumerate(items):
            if item.commissioned is not None:  # a facility the horizon builds
                out.append(("facilities", (section, listing, i, "commissioned"), None))
                if section != "storage":  # a storage project may state its tanks instead
                    out.append(("facilities", (section, listing, i, capacity), None))
    if scenario.pipelines.outbound_cap_1e8_m3_per_year:
        out.append(("facilities", ("pipelines", "outbound_cap_1e8_m3_per_year"), None))
    out.append(("contracts", ("contracts", "holders_share"), None))
    for i, _ in enumerate(scenario.contracts.outbound):
        for name in ("annual_1e8_m3", "take_or_pay_share", "heating_season_share"):
            out.append(("contracts", ("contracts", "outbound", i, name), None))
    out += [
        ("demand", ("demand", "residential", "people_1e4"), None),
        ("demand", ("demand", "residential", "use_m3_per_person_year"), None),
        *(
            ("demand", ("demand", sector, "annual_1e8_m3"), None)
            for sector in ("commercial", "transport", "industry", "chemicals")
        ),
        ("demand", ("lng", "demand_1e4_t_per_year"), None),
        ("demand", ("cng", "demand_1e8_m3_per_year"), None),
        ("mine_gas", ("mine_gas", "drainage_1e8_m3_per_year"), None),
        ("mine_gas", ("mine_gas", "usable_share"), None),
        ("mine_gas", ("mine_gas", "power_capacity_mw"), None),
        ("prices", ("valuation", "gas_price_scale"), None),
    ]
    for name in PRICE_FIELDS:
        out.append(("prices", ("valuation", name), None))
    return out


PRICE_FIELDS: Final[tuple[str, ...]] = (
    "surface_gas_price_yuan_per_m3",
    "lng_price_yuan_per_t",
    "cng_price_yuan_per_m3",
    "residential_price_yuan_per_m3",
    "commercial_price_yuan_per_m3",
    "transport_price_yuan_per_m3",
    "industry_price_yuan_per_m3",
    "chemicals_price_yuan_per_m3",
    "mine_power_value_yuan_per_kwh",
    "carbon_price_yuan_per_t_co2e",
)
"""The price paths offered as levers (the valuation's prices of gas, LNG, CNG, the sectors,
mine power and carbon; the per-well unit values and the exogenous items are not levers)."""


def catalogue(scenario: Scenario, sources: Mapping[str, FieldSource]) -> list[Lever]:
    """Every lever of ``scenario`` with its base value, bounds, unit, name and source.

    Parameters
    ----------
    scenario
        The base scenario (resolved).
    sources
        Where its file chain sets each value, with the comment giving its source
        (:func:`cbm_sim.scenario.files.field_sources`).
    """
    data = scenario.model_dump(mode="python")
    horizon = (scenario.horizon.start.year, scenario.horizon.end.year)
    levers = []
    for group, parts, every_year in _ids(scenario):
        current = value_at(data, parts)
        node = schema_at(parts) if parts[0] != "valuation" else {}
        is_path = isinstance(current, Mapping)
        if is_path:
            kind: Kind = "path"
        elif str(parts[-1]) == "commissioned":
            kind = "date"
        elif node.get("type") == "integer":
            kind = "integer"
        else:
            kind = "number"
        years = _grid(current, horizon, every_year) if is_path else ()
        base = path_on_grid(current, years) if is_path and current else current
        if kind == "date":
            lo = hi = None
            lo_open = hi_open = False
        else:
            lo, hi, lo_open, hi_open = field_bounds(parts)
        source, where = _source(parts, sources, scenario)
        levers.append(
            Lever(
                id=format_path(parts),
                group=group,
                kind=kind,
                units=units_for(parts),
                lo=lo,
                hi=hi,
                lo_open=lo_open,
                hi_open=hi_open,
                years=years,
                base=plain(base),
                source=source,
                where=where,
                description=str(node.get("description", "")),
                labels=lever_labels(parts, scenario),
            )
        )
    return levers


def lever_labels(parts: tuple[str | int, ...], scenario: Scenario) -> dict[str, str]:
    """Display names of a lever, Chinese and English (:func:`cbm_sim.names.input_name`; a
    list item is named by its ``name``: 液化工厂投产日（LNG-9）)."""
    data = scenario.model_dump(mode="python")
    detail = None
    for k, part in enumerate(parts):
        if isinstance(part, int):
            item = value_at(data, parts[: k + 1])
            if isinstance(item, Mapping) and item.get("name"):
                detail = str(item["name"])
    dotted = dotted_path(parts)
    return {lang: names.input_name(dotted, lang, detail=detail) for lang in names.LANGS}


# --------------------------------------------------------------------------- edits
class LeverError(ValueError):
    """A change the studio cannot apply: ``field`` names the lever, ``message`` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def coerce(lever: Lever, value: Any) -> Any:
    """A change's value in the lever's kind (bounds are the scenario validation's job).

    Raises
    ------
    LeverError
        A value of the wrong type: not a finite number, not a ``{year: number}`` mapping,
        not an ISO date.
    """
    if lever.kind in ("number", "integer"):
        return _number(lever.id, value, integer=lever.kind == "integer")
    if lever.kind == "date":
        if value is None:
            return None
        if not isinstance(value, str):
            raise LeverError(lever.id, f"expected an ISO date such as 2025-07-01, got {value!r}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise LeverError(
                lever.id, f"expected an ISO date such as 2025-07-01, got {value!r}"
            ) from None
    if not isinstance(value, Mapping) or not value:
        raise LeverError(lever.id, f"expected a {{year: value}} mapping, got {value!r}")
    out: dict[int, float] = {}
    for year, v in value.items():
        text = str(year)
        if not text.isdigit() or not 1990 <= int(text) <= 2100:
            raise LeverError(f"{lever.id}.{text}", f"expected a year in 1990..2100, got {year!r}")
        out[int(text)] = _number(f"{lever.id}.{text}", v, integer=False)
    return out


def _number(where: str, value: Any, *, integer: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LeverError(where, f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise LeverError(where, f"expected a finite number, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise LeverError(where, f"expected a whole number, got {value!r}")
        return int(value)
    return float(value)


def overlay(
    base: Scenario, levers: Mapping[str, Lever], changes: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    """The changed levers as a scenario overlay (what a file that ``extends`` the base holds).

    A path is written on its lever's grid with the changed years applied; a field inside a
    list (a plant's date) writes the whole list, since ``extends`` replaces lists whole.
    Changes equal to the base value are dropped.

    Returns
    -------
    tuple
        The overlay (nested dict, ready for YAML) and ``{lever id: (base, new)}`` of the
        changes kept, in JSON form.

    Raises
    ------
    LeverError
        For an unknown lever or a value of the wrong type.
    """
    data = base.model_dump(mode="python")
    # a list is written whole; its items without the values left at their defaults
    compact = base.model_dump(mode="python", exclude_defaults=True)
    out: dict[str, Any] = {}
    kept: dict[str, tuple[Any, Any]] = {}
    for key, raw in changes.items():
        lever = levers.get(key)
        if lever is None:
            raise LeverError(key, "not a lever of this scenario")
        value = coerce(lever, raw)
        parts = parse_path(lever.id)
        if lever.kind == "path":
            grid = {int(y): float(v) for y, v in (lever.base or {}).items()}
            merged = {**grid, **value}
            if merged == grid:
                continue
            value = dict(sorted(merged.items()))
        elif value == value_at(data, parts):
            continue
        _set(out, compact, parts, value)
        kept[lever.id] = (lever.base, plain(value))
    return out, kept


def _set(out: dict[str, Any], base: Any, parts: tuple[str | int, ...], value: Any) -> None:
    """Set ``value`` at ``parts`` in ``out``; a list on the way is copied whole from ``base``."""
    import copy

    node: Any = out
    src: Any = base
    for k, part in enumerate(parts[:-1]):
        nxt = parts[k + 1]
        # a section left at its defaults is not in ``base`` (dumped without defaults)
        src = value_at(src, (part,)) if src is not None else None
        if isinstance(node, dict):
            if part not in node:
                node[part] = copy.deepcopy(src) if isinstance(nxt, int) else {}
            node = node[part]
        else:
            node = node[part]
    node[parts[-1]] = value
