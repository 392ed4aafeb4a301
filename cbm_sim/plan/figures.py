"""The plan 晋市政发〔2022〕28号 as typed, audited data.

Every quantitative figure of the plan is one record of ``cbm_sim/data/plan.yaml`` (format and
provenance: ``docs/plan-data.md``). This module validates the records with pydantic, turns them
into frozen :class:`Figure` objects and answers look-ups::

    >>> from cbm_sim.plan.figures import load_plan
    >>> plan = load_plan()
    >>> plan.value("output.total", 2025)
    500
    >>> plan.base("production.surface", 2021)  # m³
    4267000000.0

Years. ``year`` is the year as printed; ``context_year`` is set where the printed year
contradicts its context (e.g. "2025年发电量41.95亿千瓦时" in the 2030 sentence). Look-ups use
the *effective year* (``context_year`` if set, else ``year``), so
``plan.target("power.generation", 2030)`` is 41.95; the audit reports the misprint.

Figures stated twice. A figure stated in an overview (ch3 §3, or the opening paragraph of a
ch4 section) and again in the section body has a ``summary`` and a ``detail`` record. Without
``statement=``, look-ups prefer the ``detail`` record (the most specific statement) and, among
records of one statement, point values (``exact``/``approx``) over bounds (``min``/``max``);
they raise :class:`PlanDataError` if the preferred records still disagree.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
)

from cbm_sim import units
from cbm_sim.plan import datacache
from cbm_sim.plan.packaged import LOADER

__all__ = [
    "Figure",
    "Plan",
    "PlanDataError",
    "PlanRecord",
    "expression_ids",
    "load_plan",
]

Kind = Literal["baseline", "target", "context"]
Comparator = Literal["exact", "approx", "min", "max"]
Statement = Literal["summary", "detail"]

_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_REF_PATTERN = r"^ch[1-5] §[1-8]( \S+)?$"
_POINT: frozenset[str] = frozenset({"exact", "approx"})

# What each field must hold, for error messages (the file's readers are not Python people).
_EXPECTED: Mapping[str, str] = {
    "id": "a dotted lowercase id such as 'output.exploration.surface'",
    "year": "an integer year such as 2025",
    "value": "a number (int or float, not quoted)",
    "unit": "a unit symbol of cbm_sim.units.UNIT_FACTORS, e.g. '亿m3' or '亿元'",
    "kind": "one of baseline, target, context",
    "comparator": "one of exact, approx, min, max",
    "statement": "one of summary, detail",
    "ref": "a reference such as 'ch4 §1' or 'ch1 §2 四'",
    "section": "the Chinese section heading",
    "phrase": "the Chinese phrase the figure comes from",
    "context_year": "an integer year or null",
    "note": "text or null",
    "part_of": "the id of the figure this one is a part of, or null",
    "formula": "an arithmetic expression over ids (base units), or null",
    "driver": "an arithmetic expression over ids giving the volume behind a value, or null",
    "series": "a short key lining up unit values across ids, or null",
}


class PlanDataError(ValueError):
    """The plan data file is malformed, or a look-up is missing or ambiguous."""


class PlanRecord(BaseModel):
    """One stated figure, as validated from the YAML file (see ``docs/plan-data.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    year: Annotated[StrictInt, Field(ge=1900, le=2100)]
    value: StrictInt | StrictFloat
    unit: str
    kind: Kind
    comparator: Comparator
    statement: Statement
    ref: Annotated[str, Field(pattern=_REF_PATTERN)]
    section: Annotated[str, Field(min_length=1)]
    phrase: Annotated[str, Field(min_length=1)]
    context_year: Annotated[StrictInt, Field(ge=1900, le=2100)] | None = None
    note: str | None = None
    part_of: Annotated[str, Field(pattern=_ID_PATTERN)] | None = None
    formula: str | None = None
    driver: str | None = None
    series: str | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError(f"value must be finite, got {v!r}")
        return v

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        units.base_unit(v)  # raises ValueError naming the unit and the known ones
        return v

    @field_validator("formula", "driver")
    @classmethod
    def _parsable(cls, v: str | None) -> str | None:
        if v is not None:
            expression_ids(v)
        return v


@dataclass(frozen=True)
class Figure:
    """One stated figure of the plan (an immutable copy of a validated :class:`PlanRecord`).

    ``value`` is in ``unit`` as printed; :attr:`base_value` is in :attr:`base_unit`.
    """

    id: str
    year: int
    value: float
    unit: str
    kind: str
    comparator: str
    statement: str
    ref: str
    section: str
    phrase: str
    context_year: int | None = None
    note: str | None = None
    part_of: str | None = None
    formula: str | None = None
    driver: str | None = None
    series: str | None = None

    @property
    def effective_year(self) -> int:
        """The year the figure belongs to: ``context_year`` if set, else ``year``."""
        return self.context_year if self.context_year is not None else self.year

    @property
    def base_value(self) -> float:
        """The value in :attr:`base_unit` (via :func:`cbm_sim.units.to_base`)."""
        return units.to_base(float(self.value), self.unit)

    @property
    def base_unit(self) -> str:
        """The base unit of :attr:`unit` (e.g. ``m3`` for ``亿m3``)."""
        return units.base_unit(self.unit)


def expression_ids(expr: str) -> list[tuple[str, int | None]]:
    """The ids (with optional ``@year``) an arithmetic expression refers to.

    Expressions use ``+ - * /``, parentheses, numbers and dotted ids; ``id@2020`` pins the
    year of one reference. Raises :class:`ValueError` on anything else.
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse expression {expr!r}: {exc.msg}") from None
    found: list[tuple[str, int | None]] = []

    def record(name: str, year: int | None) -> float:
        found.append((name, year))
        return 1.0

    _walk(tree.body, expr, record)
    return found


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


_BINOPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _walk(node: ast.expr, expr: str, lookup: Callable[[str, int | None], float]) -> float:
    name = _dotted(node)
    if name is not None:
        return lookup(name, None)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_walk(node.operand, expr, lookup)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        ref = _dotted(node.left)
        if ref is None or not (
            isinstance(node.right, ast.Constant) and isinstance(node.right.value, int)
        ):
            raise ValueError(f"in {expr!r}: '@' must join an id and an integer year")
        return lookup(ref, node.right.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](
            _walk(node.left, expr, lookup), _walk(node.right, expr, lookup)
        )
    raise ValueError(f"in {expr!r}: unsupported element {ast.dump(node)[:40]}")


class Plan:
    """All figures of the plan, with look-ups by id and (effective) year.

    Parameters
    ----------
    figures
        The figures, in file order.
    source
        Where they were loaded from (for messages).
    """

    def __init__(self, figures: Iterable[Figure], source: str = "<memory>") -> None:
        self.figures: tuple[Figure, ...] = tuple(figures)
        self.source = source
        index: dict[tuple[str, int], list[Figure]] = {}
        for fig in self.figures:
            index.setdefault((fig.id, fig.effective_year), []).append(fig)
        self._index = index
        self._ids = frozenset(fig.id for fig in self.figures)

    def __len__(self) -> int:
        return len(self.figures)

    def ids(self) -> frozenset[str]:
        """All ids in the data."""
        return self._ids

    def years(self, id: str) -> list[int]:
        """Sorted effective years for which ``id`` is stated."""
        return sorted({y for (i, y) in self._index if i == id})

    def records(self, id: str, year: int | None = None) -> list[Figure]:
        """Every figure with ``id`` (and effective ``year``, if given), in file order."""
        if year is not None:
            return list(self._index.get((id, year), []))
        return [f for f in self.figures if f.id == id]

    def has(self, id: str, year: int) -> bool:
        """Whether ``id`` is stated for effective ``year``."""
        return (id, year) in self._index

    def figure(
        self, id: str, year: int, statement: Statement | None = None, kind: Kind | None = None
    ) -> Figure:
        """The preferred figure for ``id`` in effective ``year`` (see module docstring).

        Raises
        ------
        PlanDataError
            If nothing matches, or the preferred figures disagree.
        """
        candidates = self._index.get((id, year), [])
        if kind is not None:
            candidates = [f for f in candidates if f.kind == kind]
        if statement is not None:
            candidates = [f for f in candidates if f.statement == statement]
        if not candidates:
            stated = self.years(id)
            raise PlanDataError(
                f"no figure {id!r} for {year}"
                + (f" with statement={statement!r}" if statement else "")
                + (f" with kind={kind!r}" if kind else "")
                + (f"; stated for {stated}" if stated else "; unknown id")
            )
        chosen = preferred(candidates)
        values = {f.value for f in chosen}
        if len(values) > 1:
            listed = ", ".join(f"{f.value} {f.unit} ({f.statement}, {f.ref})" for f in chosen)
            raise PlanDataError(
                f"figure {id!r} for {year} is ambiguous: {listed}; pass statement= to choose"
            )
        return chosen[0]

    def value(self, id: str, year: int, statement: Statement | None = None) -> float:
        """The figure's value in its stated unit (e.g. 亿元, 亿m3)."""
        return self.figure(id, year, statement).value

    def base(self, id: str, year: int, statement: Statement | None = None) -> float:
        """The figure's value in base units (元, m3, t, kWh, …; see :mod:`cbm_sim.units`)."""
        return self.figure(id, year, statement).base_value

    def target(self, id: str, year: int, statement: Statement | None = None) -> Figure:
        """The plan's target ``id`` for effective ``year`` (misdated figures included)."""
        return self.figure(id, year, statement, kind="target")

    def evaluate(self, expr: str, year: int) -> float:
        """Evaluate an expression over ids (base units) for effective ``year``.

        Raises
        ------
        PlanDataError
            If an id is not stated for the year.
        """

        def lookup(name: str, pinned: int | None) -> float:
            return self.base(name, pinned if pinned is not None else year)

        tree = ast.parse(expr, mode="eval")
        return _walk(tree.body, expr, lookup)

    def frame(self) -> pd.DataFrame:
        """All figures as a tidy frame, plus ``effective_year``, ``base_value``, ``base_unit``."""
        rows = [
            asdict(f)
            | {
                "effective_year": f.effective_year,
                "base_value": f.base_value,
                "base_unit": f.base_unit,
            }
            for f in self.figures
        ]
        return pd.DataFrame(rows)


def preferred(figures: Iterable[Figure]) -> list[Figure]:
    """The figures a look-up prefers: ``detail`` over ``summary``, then points over bounds."""
    figs = list(figures)
    detail = [f for f in figs if f.statement == "detail"]
    figs = detail or figs
    points = [f for f in figs if f.comparator in _POINT]
    return points or figs


def _field_of(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
    return loc[0] if loc else "record"


def _describe(path: str, i: int, item: Any, exc: ValidationError) -> str:
    ident = item.get("id", "?") if isinstance(item, dict) else "?"
    year = item.get("year", "?") if isinstance(item, dict) else "?"
    problems = []
    for err in exc.errors():
        field = _field_of(err)
        expected = _EXPECTED.get(field, "no such field (allowed: " + ", ".join(_EXPECTED) + ")")
        if err["type"] == "missing":
            problems.append(f"field {field!r} is missing; expected {expected}")
        else:
            got = err.get("input")
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"field {field!r}: {msg}; got {got!r}; expected {expected}")
    return f"{path}: record #{i} (id={ident!r}, year={year!r}): " + "; ".join(problems)


def _check_references(path: str, figures: list[Figure]) -> None:
    ids = {f.id for f in figures}
    for i, fig in enumerate(figures):
        refs: list[tuple[str, str]] = []
        if fig.part_of:
            refs.append(("part_of", fig.part_of))
        for field in ("formula", "driver"):
            expr = getattr(fig, field)
            if expr:
                refs.extend((field, name) for name, _ in expression_ids(expr))
        for field, name in refs:
            if name not in ids:
                raise PlanDataError(
                    f"{path}: record #{i} (id={fig.id!r}, year={fig.year}): field {field!r} "
                    f"refers to unknown id {name!r}; expected an id defined in the file"
                )


def parse_plan(text: str, source: str = "<string>") -> Plan:
    """Validate YAML text holding a list of plan records and return the :class:`Plan`.

    Raises
    ------
    PlanDataError
        Naming ``source``, the record (index, id, year), the field and what was expected.
    """
    try:
        data = yaml.load(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        raise PlanDataError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, list) or not data:
        raise PlanDataError(
            f"{source}: expected a non-empty list of records, got {type(data).__name__}"
        )
    figures = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise PlanDataError(f"{source}: record #{i} is {item!r}; expected a mapping")
        try:
            record = PlanRecord.model_validate(item)
        except ValidationError as exc:
            raise PlanDataError(_describe(source, i, item, exc)) from None
        figures.append(Figure(**record.model_dump()))
    _check_references(source, figures)
    return Plan(figures, source)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str | None) -> Plan:
    if path is None:
        return _packaged_plan()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanDataError(f"{path}: cannot read plan data: {exc.strerror}") from None
    return parse_plan(text, path)


def _packaged_plan() -> Plan:
    """The packaged plan data; its validated records are kept between processes
    (:mod:`cbm_sim.plan.datacache`, keyed by the data's text and the sources of this module
    and of :mod:`cbm_sim.units`, which validate it)."""
    source = "cbm_sim/data/plan.yaml"
    text = resources.files("cbm_sim").joinpath("data/plan.yaml").read_text(encoding="utf-8")
    records = datacache.cached(
        "plan-figures",
        (text.encode("utf-8"), Path(__file__).read_bytes(), Path(units.__file__).read_bytes()),
        lambda: [asdict(fig) for fig in parse_plan(text, source).figures],
    )
    return Plan((Figure(**record) for record in records), source)


def load_plan(path: str | Path | None = None) -> Plan:
    """Load (once, then cached) the packaged plan data, or the YAML file at ``path``."""
    return _load_cached(None if path is None else str(path))
