"""What differs between two scenarios or two runs: the inputs that changed, the outputs that
moved, the targets whose status changed.

:func:`diff` is a pure function of two :class:`Side`\\ s (a scenario with its run's annual
figures, valuation and target check) and returns three frames (:class:`Diff`):

``inputs``
    every scenario value that differs: ``path`` (dotted, list items by index:
    ``lng.plants.8.capacity_t_per_day``), ``item`` (the list item's name when it has one),
    ``name_zh``, ``name_en``, ``unit`` (:mod:`cbm_sim.names`), ``a``, ``b`` (the values as
    text: a time path as ``2022: 320, 2025: 320``), ``source_a``, ``source_b`` (file:line and
    the YAML comment that gives the value's source, "default" when the scenario leaves it at
    the model's default, "" when unknown).
``outputs``
    per year the summary series — ``production.total|surface|underground`` (亿m3),
    ``lng.output`` (万t), ``output.total`` and ``output.<sub_cluster>`` (亿元) — with ``a``,
    ``b``, ``delta``, ``delta_pct`` and ``moved`` (the two differ at the reported precision,
    :data:`DECIMALS`).
``targets``
    every target of the target check (2025, 2030): ``year``, ``target`` (plan id),
    ``unit``, ``target_value``, ``a``, ``b``, ``delta``, ``status_a``, ``status_b``,
    ``status_changed`` and ``moved``.

List items (plants, stations, lines, contracts, storage projects) are matched by ``name``
when they have one, so inserting a plant does not make every later plant "changed".
:meth:`Side.from_results` and :meth:`Side.from_dir` build a side from a run in memory or a
run folder.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from cbm_sim import names, units
from cbm_sim.results.frames import SUMMARY_SERIES
from cbm_sim.scenario.files import FieldSource
from cbm_sim.scenario.model import Scenario
from cbm_sim.scenario.valuation_inputs import SUB_CLUSTERS

DECIMALS: Final[int] = 2
"""An output "moved" when the two sides differ at this many decimals of its unit (亿m3, 亿元,
万t: the precision the report prints)."""

NOT_COMPARED: Final[frozenset[str]] = frozenset({"name", "description", "extends"})
"""Scenario fields that are labels, not assumptions."""

SERIES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = SUMMARY_SERIES
"""Physical summary series of the outputs frame: plan id → the annual terms it sums (the
rows of :meth:`Results.summary`, one mapping for both, so ``diff`` and ``summary()`` agree)."""

INPUT_COLUMNS: Final[tuple[str, ...]] = (
    "path",
    "item",
    "name_zh",
    "name_en",
    "unit",
    "a",
    "b",
    "source_a",
    "source_b",
)
OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "quantity",
    "name_zh",
    "name_en",
    "unit",
    "a",
    "b",
    "delta",
    "delta_pct",
    "moved",
)
TARGET_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "target",
    "name_zh",
    "name_en",
    "unit",
    "target_value",
    "a",
    "b",
    "delta",
    "status_a",
    "status_b",
    "status_changed",
    "moved",
)


@dataclass(frozen=True)
class Side:
    """One side of a diff: a scenario and what its run gave.

    Attributes
    ----------
    name
        How the side is called in headers (the scenario name, or the folder's).
    scenario
        The resolved scenario (``None``: the inputs are not compared).
    annual
        The run's annual frame in planner units (``annual.csv``: ``year, entity, quantity,
        unit, value``).
    valuation
        Output value per item and year, ``value`` in 亿元 (``valuation.csv``).
    targets
        The target check (``targets.csv``).
    sources
        Where the scenario file sets each value (:func:`cbm_sim.scenario.files.field_sources`).
    """

    name: str
    scenario: Scenario | None
    annual: pd.DataFrame
    valuation: pd.DataFrame
    targets: pd.DataFrame
    sources: Mapping[str, FieldSource] = field(default_factory=dict)

    @classmethod
    def from_results(
        cls,
        results: Any,
        *,
        name: str | None = None,
        values: pd.DataFrame | None = None,
        targets: pd.DataFrame | None = None,
        sources: Mapping[str, FieldSource] | None = None,
    ) -> Side:
        """A side from a run in memory (:class:`~cbm_sim.results.frames.Results`); the
        valuation and target check are computed unless given."""
        from cbm_sim.economics.targets import check_targets
        from cbm_sim.economics.valuation import value
        from cbm_sim.results.rundir import valuation_csv

        values = value(results) if values is None else values
        targets = check_targets(results, values) if targets is None else targets
        scenario = results.scenario
        label = name or getattr(scenario, "name", None) or str(results.meta.get("scenario", "?"))
        return cls(
            label,
            scenario,
            units.to_planner(results.annual),
            valuation_csv(values),
            targets,
            dict(sources or {}),
        )

    @classmethod
    def from_dir(cls, directory: str | Path, *, verify: bool = True) -> Side:
        """A side from a ``cbm-sim run -o`` folder: its ``annual.csv``, ``valuation.csv``,
        ``targets.csv`` and ``scenario.yaml``; sources from the scenario file it was run from
        (``meta.json``'s ``scenario_file``) when that file is still there.

        Raises
        ------
        DamagedRunError
            If the folder fails verification (``verify``) or lacks one of those files.
        """
        from cbm_sim.results import integrity
        from cbm_sim.scenario.files import field_sources, load_scenario

        src = Path(directory)
        wanted = ("annual.csv", "valuation.csv", "targets.csv", "scenario.yaml")
        if verify:
            meta = integrity.verify(src, require=wanted)
        else:
            missing = [n for n in wanted if not (src / n).is_file()]
            if missing:
                raise integrity.DamagedRunError(f"{src}: missing {missing}; not a run folder")
            meta = integrity.read_meta(src) if (src / integrity.META).is_file() else {}
        frames = {}
        for file in wanted[:3]:
            try:
                frames[file] = pd.read_csv(src / file, keep_default_na=False, na_values=[""])
            except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise integrity.DamagedRunError(f"{src / file}: unreadable ({exc})") from None
        scenario = load_scenario(src / "scenario.yaml", check_size=False)
        sources: dict[str, FieldSource] = {}
        origin = meta.get("scenario_file")
        if isinstance(origin, str) and Path(origin).is_file():
            try:
                sources = field_sources(origin)
            except ValueError:  # the file changed since the run and no longer parses
                sources = {}
        return cls(
            str(meta.get("scenario") or scenario.name or src.name),
            scenario,
            frames["annual.csv"],
            frames["valuation.csv"],
            frames["targets.csv"],
            sources,
        )


@dataclass(frozen=True)
class Diff:
    """The three frames of :func:`diff` (module docstring) and the sides' names."""

    a: str
    b: str
    inputs: pd.DataFrame
    outputs: pd.DataFrame
    targets: pd.DataFrame

    def moved_outputs(self, years: tuple[int, ...] | None = None) -> pd.DataFrame:
        """The outputs that moved (``years``: only those)."""
        rows = self.outputs[self.outputs["moved"]]
        return rows if years is None else rows[rows["year"].isin(years)]

    def changed_statuses(self) -> pd.DataFrame:
        """The targets whose status differs between the sides."""
        return self.targets[self.targets["status_changed"]]


def diff(a: Side, b: Side) -> Diff:
    """Inputs that changed, outputs that moved and target statuses of ``a`` against ``b``.

    Raises
    ------
    ValueError
        If a side's frames lack the columns of the run folder's files.
    """
    inputs = (
        diff_inputs(a.scenario, b.scenario, a.sources, b.sources)
        if a.scenario is not None and b.scenario is not None
        else pd.DataFrame(columns=list(INPUT_COLUMNS))
    )
    return Diff(a.name, b.name, inputs, _outputs(a, b), _targets(a, b))


# --------------------------------------------------------------------------- inputs
def diff_inputs(
    a: Scenario,
    b: Scenario,
    sources_a: Mapping[str, FieldSource] | None = None,
    sources_b: Mapping[str, FieldSource] | None = None,
) -> pd.DataFrame:
    """Every scenario value that differs between ``a`` and ``b`` (``inputs`` of
    :class:`Diff`), in the order of the scenario's fields."""
    left = dict(_leaves(a.model_dump(mode="python")))
    right = dict(_leaves(b.model_dump(mode="python")))
    rows = []
    for key in dict.fromkeys([*left, *right]):
        la, lb = left.get(key), right.get(key)
        va = None if la is None else la[1]
        vb = None if lb is None else lb[1]
        if la is not None and lb is not None and _same(va, vb):
            continue
        path = (lb or la)[0]  # type: ignore[index]
        item = key[1]
        rows.append(
            {
                "path": path,
                "item": item,
                "name_zh": names.input_name(path, "zh", detail=item or None),
                "name_en": names.input_name(path, "en", detail=item or None),
                "unit": names.input_unit(path, "zh"),
                "a": "—" if la is None else _text(va),
                "b": "—" if lb is None else _text(vb),
                "source_a": "" if la is None else _source(la[0], sources_a),
                "source_b": "" if lb is None else _source(lb[0], sources_b),
            }
        )
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS))


_Key = tuple[str, str]  # (path pattern with names for matched list items, item name)


def _leaves(data: Any, prefix: str = "", item: str = "") -> Iterator[tuple[_Key, tuple[str, Any]]]:
    """``((match key, item), (dotted path, value))`` of every compared value: time paths,
    lists of scalars, distributions and correlations are one value each; lists of named
    mappings are matched by name."""
    if isinstance(data, dict) and not _is_time_path(data):
        for key, value in data.items():
            if not prefix and key in NOT_COMPARED:
                continue
            where = f"{prefix}.{key}" if prefix else str(key)
            if prefix == "uncertainty":  # an entry's key may hold dots: one value
                yield (where, item), (where, value)
                continue
            yield from _leaves(value, where, item)
        return
    if isinstance(data, list | tuple) and data and all(isinstance(v, dict) for v in data):
        named = all(isinstance(v.get("name"), str) for v in data)
        for index, value in enumerate(data):
            label = str(value["name"]) if named else ""
            for (key, _), (path, leaf) in _leaves(value, f"{prefix}.{index}", label):
                match = key.replace(f"{prefix}.{index}", f"{prefix}[{label}]", 1) if named else key
                yield (match, label or item), (path, leaf)
        return
    yield (prefix, item), (prefix, data)


def _is_time_path(data: dict[Any, Any]) -> bool:
    return bool(data) and all(isinstance(k, int) for k in data)


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    return bool(x == y)


def _text(value: Any) -> str:
    """A value as the diff shows it: time paths ``2022: 320, 2025: 320``, dates ISO,
    distributions ``triangular(0.6, 1, 1.5)``, numbers without trailing zeros."""
    if value is None:
        return "—"
    if isinstance(value, dict) and _is_time_path(value):
        return ", ".join(f"{year}: {_text(v)}" for year, v in sorted(value.items()))
    if isinstance(value, dict) and "dist" in value:
        params = [
            f"{value[k]:g}"
            for k in ("low", "mode", "high", "mean", "sd")
            if value.get(k) is not None
        ]
        extra = [f"{k} {value[k]}" for k in ("op", "from_year") if value.get(k) is not None]
        paths = value.get("paths")
        shown = f"{value['dist']}({', '.join(params)})"
        shown += "".join(f", {e}" for e in extra)
        return shown + (f", {len(paths)} fields" if paths else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _source(path: str, sources: Mapping[str, FieldSource] | None) -> str:
    """Where ``path`` is set: its own entry, else its nearest set parent's; "default" when the
    scenario file does not set it; "" when the sources are unknown."""
    if not sources:
        return ""
    probe = path
    while probe:
        if probe in sources:
            return str(sources[probe])
        probe = probe.rpartition(".")[0]
    return "default"


# --------------------------------------------------------------------------- outputs
def _series(side: Side) -> pd.DataFrame:
    """``year, quantity, unit, value`` of the summary series of one side (planner units)."""
    need = {"year", "entity", "quantity", "unit", "value"}
    if not need <= set(side.annual.columns):
        raise ValueError(
            f"{side.name}: annual frame lacks {sorted(need - set(side.annual.columns))}"
        )
    annual = side.annual.assign(
        entity=side.annual["entity"].astype(str), quantity=side.annual["quantity"].astype(str)
    )
    parts = []
    for plan_id, terms in SERIES.items():
        mask = np.zeros(len(annual), dtype=bool)
        for entity, quantity in terms:
            mask |= ((annual["entity"] == entity) & (annual["quantity"] == quantity)).to_numpy()
        rows = annual[mask]
        if rows.empty:
            continue
        by_year = rows.groupby("year")["value"].sum()
        unit = str(rows["unit"].iloc[0])
        parts.append(pd.DataFrame({"year": by_year.index, "quantity": plan_id, "unit": unit,
                                   "value": by_year.to_numpy()}))  # fmt: skip
    values = side.valuation
    if {"year", "sub_cluster", "value"} <= set(values.columns):
        by_sc = values.groupby(["year", "sub_cluster"])["value"].sum().reset_index()
        total = values.groupby("year")["value"].sum()
        parts.append(pd.DataFrame({"year": total.index, "quantity": "output.total",
                                   "unit": "亿元", "value": total.to_numpy()}))  # fmt: skip
        parts.append(
            by_sc.assign(quantity="output." + by_sc["sub_cluster"].astype(str), unit="亿元")[
                ["year", "quantity", "unit", "value"]
            ]
        )
    if not parts:
        return pd.DataFrame(columns=["year", "quantity", "unit", "value"])
    return pd.concat(parts, ignore_index=True)


_ORDER: Final[list[str]] = [
    *SERIES,
    "output.total",
    *(f"output.{sc}" for sc in SUB_CLUSTERS),
]


_TARGET_ORDER: Final[list[str]] = [
    "output.total",
    *(f"output.{sc}" for sc in SUB_CLUSTERS),
    "production.total",
    "production.surface",
    "production.underground",
    "lng.output",
]
"""Targets in the order a planner reads them: cluster, sub-clusters, production, LNG; then
items, then the other physical targets."""


def _outputs(a: Side, b: Side) -> pd.DataFrame:
    sa, sb = _series(a), _series(b)
    wide = sa.merge(sb, on=["year", "quantity", "unit"], how="outer", suffixes=("_a", "_b"))
    wide = wide.rename(columns={"value_a": "a", "value_b": "b"})
    wide["year"] = wide["year"].astype("int64")
    rank = {q: k for k, q in enumerate(_ORDER)}
    wide = wide.assign(_rank=wide["quantity"].map(lambda q: rank.get(q, len(rank))))
    wide = wide.sort_values(["_rank", "year"], kind="stable").drop(columns="_rank")
    out = _deltas(wide)
    out.insert(2, "name_zh", [names.target_name(q, "zh") for q in out["quantity"]])
    out.insert(3, "name_en", [names.target_name(q, "en") for q in out["quantity"]])
    return out.loc[:, list(OUTPUT_COLUMNS)].reset_index(drop=True)


def _deltas(frame: pd.DataFrame) -> pd.DataFrame:
    a = frame["a"].astype("float64")
    b = frame["b"].astype("float64")
    delta = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(a.abs() > 0, 100.0 * delta / a.abs(), np.nan)
    moved = (a.round(DECIMALS) != b.round(DECIMALS)) | (a.isna() != b.isna())
    return frame.assign(delta=delta, delta_pct=pct, moved=moved.to_numpy())


def _target_rows(side: Side) -> pd.DataFrame:
    from cbm_sim.studies.ensemble import target_id

    t = side.targets
    need = {"year", "sub_cluster", "item", "simulated", "target", "status"}
    if not need <= set(t.columns):
        raise ValueError(f"{side.name}: target check lacks {sorted(need - set(t.columns))}")
    ids = (
        t["id"].astype(str)
        if "id" in t.columns and t["id"].notna().all()
        else pd.Series(
            [target_id(str(sc), i) for sc, i in zip(t["sub_cluster"], t["item"], strict=True)],
            index=t.index,
        )
    )
    unit = t["unit"].astype(str) if "unit" in t.columns else pd.Series("亿元", index=t.index)
    return pd.DataFrame(
        {
            "year": t["year"].astype("int64"),
            "target": ids,
            "unit": unit,
            "target_value": t["target"].astype("float64"),
            "value": t["simulated"].astype("float64"),
            "status": t["status"].astype(str),
        }
    )


def _targets(a: Side, b: Side) -> pd.DataFrame:
    ta, tb = _target_rows(a), _target_rows(b)
    wide = ta.merge(
        tb, on=["year", "target", "unit"], how="outer", suffixes=("_a", "_b"), sort=False
    )
    wide = wide.rename(columns={"value_a": "a", "value_b": "b"})
    wide["target_value"] = wide["target_value_a"].fillna(wide["target_value_b"])
    wide["status_a"] = wide["status_a"].fillna("—")
    wide["status_b"] = wide["status_b"].fillna("—")
    rank = {t: k for k, t in enumerate(_TARGET_ORDER)}
    wide = wide.assign(
        _rank=[
            rank.get(t, len(rank) + (0 if str(t).startswith("output.") else 1))
            for t in wide["target"]
        ]
    )
    wide = wide.sort_values(["year", "_rank"], kind="stable").drop(columns="_rank")
    out = _deltas(wide)
    out["status_changed"] = out["status_a"] != out["status_b"]
    out["moved"] = out["moved"] | out["status_changed"]
    out.insert(2, "name_zh", [names.target_name(t, "zh") for t in out["target"]])
    out.insert(3, "name_en", [names.target_name(t, "en") for t in out["target"]])
    return out.loc[:, list(TARGET_COLUMNS)].reset_index(drop=True)


__all__ = [
    "DECIMALS",
    "INPUT_COLUMNS",
    "NOT_COMPARED",
    "OUTPUT_COLUMNS",
    "SERIES",
    "TARGET_COLUMNS",
    "Diff",
    "Side",
    "diff",
    "diff_inputs",
]
