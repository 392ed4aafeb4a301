"""Simulation results as tidy pandas frames, and their Parquet round trip.

A :class:`Results` holds three long ("tidy") frames — one row per time × entity × quantity —
plus the metadata that makes a run reproducible. The entity/quantity vocabulary is the
contract in ``docs/architecture.md``; the README lists it for analysts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cbm_sim import units
from cbm_sim.results import integrity

DAILY_COLUMNS = ("date", "entity", "quantity", "unit", "value")
ANNUAL_COLUMNS = ("year", "entity", "quantity", "unit", "value")
EVENT_COLUMNS = ("time", "entity", "event", "detail")
_FRAME_FILES = ("daily.parquet", "annual.parquet", "events.parquet")
TARGET_COLUMNS: tuple[str, ...] = (
    "year",
    "sub_cluster",
    "item",
    "simulated",
    "target",
    "gap",
    "gap_pct",
    "status",
    "basis",
    "target_kind",
    "exogenous",
    "simulated_excl_exogenous",
    "gap_excl_exogenous",
    "status_excl_exogenous",
    "unit",
    "comparator",
    "ref",
    "note",
    "id",
)
"""Columns of the target check (``targets.csv``; ``economics.targets.check_targets``).

``exogenous`` is the part of ``simulated`` that is not simulated (valuation items with an
exogenous basis: the plan's own 亿元 paths); ``simulated_excl_exogenous``, its gap and status
are the verdict on the simulated part alone. ``basis`` says what the simulated figure is:
``computed`` by the model, an ``input`` of the scenario (a figure the run only passes on, e.g.
the mine gas drained, or a demand delivered in full), ``exogenous`` (the plan's own 亿元) or
``computed + exogenous``; ``target_kind`` is ``cap`` (控制在…以内), ``floor`` (不低于) or
``target`` (力争/约)."""

# Quantities that are stocks or counts at a moment: their annual figure is the year-end value
# (the last step of the year); every other quantity is a flow and is summed over the year.
STOCK_QUANTITIES = frozenset(
    {
        "wells_active",
        "wells_total",
        "wells_down",
        "capacity_mw",
        "plants",
        "stations",
        "level",
        "storage_capacity",
        "rule_3day_need",
        "rule_5pct_need",
    }
)
# Quantities whose annual figure is the mean over the year's days.
MEAN_QUANTITIES = frozenset({"wells_active_mean"})
# Quantities that are a share of a step's days (1 = every day): their annual figure is the
# sum over the year's days (an LNG plant's ``available`` fraction sums to its available days).
DAY_SHARE_QUANTITIES = frozenset({"available"})


SUMMARY_SERIES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "production.total": (("surface", "production"), ("mine_gas", "drainage")),
    "production.surface": (("surface", "production"),),
    "production.underground": (("mine_gas", "drainage"),),
    "lng.output": (("lng", "output"),),
}
"""The physical rows of :meth:`Results.summary`: plan id → the annual terms it sums."""

PLOTTERS: dict[tuple[str, str], Callable[..., Any]] = {}
"""Chart functions by (kind, name), registered by :mod:`cbm_sim.report.plots` (the report
stage draws; the results stage only knows that charts exist: the layers stay one-way)."""


class PlotAccessor:
    """``obj.plot.<name>(...)``: the chart ``name`` of ``obj``, a matplotlib ``Figure``.

    The charts live in the report stage, above this one; they register themselves in
    :data:`PLOTTERS` when :mod:`cbm_sim.report.plots` is imported, which the first use here
    does by name (``importlib``), so that this module never imports the report stage.
    """

    def __init__(self, obj: Any, kind: str) -> None:
        self._obj, self._kind = obj, kind

    def _ensure(self) -> None:
        if not any(k == self._kind for k, _ in PLOTTERS):
            import importlib

            importlib.import_module("cbm_sim.report.plots")

    def __dir__(self) -> list[str]:
        self._ensure()
        return sorted(name for kind, name in PLOTTERS if kind == self._kind)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        self._ensure()
        try:
            draw = PLOTTERS[(self._kind, name)]
        except KeyError:
            known = ", ".join(sorted(n for k, n in PLOTTERS if k == self._kind))
            raise AttributeError(f"no chart {name!r}; the charts are: {known}") from None

        def chart(*args: Any, **kwargs: Any) -> Any:
            return draw(self._obj, *args, **kwargs)

        chart.__doc__ = draw.__doc__
        return chart


@dataclass(frozen=True, repr=False)
class Results:
    """The outcome of one simulation run.

    Attributes
    ----------
    daily
        Columns ``date, entity, quantity, unit, value``; flows are volumes over the step.
    annual
        Columns ``year, entity, quantity, unit, value``; flows summed, stocks at year end.
    events
        Columns ``time, entity, event, detail``: discrete events (wells online, outages...).
    meta
        ``scenario``, ``seed``, ``cbm_sim_version``, ``start``, ``end``, ``step_days`` and
        anything else needed to reproduce the run.
    scenario
        The resolved scenario object that was run (``None`` when loaded from disk without it).
    """

    daily: pd.DataFrame
    annual: pd.DataFrame
    events: pd.DataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)
    scenario: Any = None
    targets: pd.DataFrame | None = None
    """The target check as ``targets.csv`` holds it (:meth:`from_dir`; ``None`` for a run in
    memory: :func:`cbm_sim.economics.targets.check_targets` computes it)."""
    valuation: pd.DataFrame | None = None
    """Output value per item and year as ``valuation.csv`` holds it, ``value`` in 亿元
    (:meth:`from_dir`; ``None`` for a run in memory: :func:`cbm_sim.economics.valuation.value`)."""

    # ----------------------------------------------------------------- for analysts
    def years(self) -> tuple[int, int]:
        """The first and last simulated year."""
        years = self.annual["year"]
        return int(years.min()), int(years.max())

    def _check_year(self, year: int) -> None:
        first, last = self.years()
        if not first <= int(year) <= last:
            raise ValueError(f"year {year} is outside the run's years {first}..{last}")

    def table(self, *, base: bool = False) -> pd.DataFrame:
        """The annual figures as ``annual.csv`` states them: ``year, entity, quantity, unit,
        value`` in the planner's units (亿m3, 亿元, 万t, 亿kWh, with the unit column);
        ``base=True``: the base units of :attr:`annual` (m3, t, kWh)."""
        frame = self.annual.loc[:, list(ANNUAL_COLUMNS)]
        frame = frame.assign(
            entity=frame["entity"].astype(str),
            quantity=frame["quantity"].astype(str),
            unit=frame["unit"].astype(str),
        )
        return frame.reset_index(drop=True) if base else units.to_planner(frame)

    def summary(self) -> pd.DataFrame:
        """The headline figures by year, in planner units (as PyPSA's ``statistics()``).

        Rows: total, surface and coal-mine production (亿m3), LNG output (万t), wells active at
        year end, output value (亿元, when :attr:`valuation` is loaded) and, for the target
        years, the cluster total's target and status (when :attr:`targets` is loaded); columns
        ``name`` (display name), ``unit`` and one per year.
        """
        from cbm_sim import names

        table = self.table()
        rows: list[dict[Any, Any]] = []

        def add(key: str, name: str, unit: str, by_year: Mapping[int, Any]) -> None:
            row: dict[Any, Any] = {"quantity": key, "name": name, "unit": unit}
            row.update(by_year)
            rows.append(row)

        def series(pairs: Sequence[tuple[str, str]]) -> tuple[str, dict[int, float]]:
            mask = np.zeros(len(table), dtype=bool)
            for entity, quantity in pairs:
                mask |= ((table["entity"] == entity) & (table["quantity"] == quantity)).to_numpy()
            hit = table[mask]
            unit = str(hit["unit"].iloc[0]) if len(hit) else ""
            return unit, {int(y): float(v) for y, v in hit.groupby("year")["value"].sum().items()}

        for key, pairs in SUMMARY_SERIES.items():
            unit, by_year = series(pairs)
            if by_year:
                add(key, names.target_name(key, "en"), unit, by_year)
        unit, by_year = series([("surface", "wells_active")])
        if by_year:
            add("wells.active", "Active wells (year end)", unit, by_year)
        if self.valuation is not None and {"year", "value"} <= set(self.valuation.columns):
            total = self.valuation.groupby("year")["value"].sum()
            add("output.total", names.target_name("output.total", "en"), "亿元",
                {int(y): float(v) for y, v in total.items()})  # fmt: skip
        if self.targets is not None and {"sub_cluster", "status"} <= set(self.targets.columns):
            t = self.targets[self.targets["sub_cluster"] == "total"]
            add("output.total.target", "Cluster output target", "亿元",
                dict(zip(t["year"].astype(int), t["target"], strict=True)))  # fmt: skip
            add("output.total.status", "Cluster output verdict", "",
                dict(zip(t["year"].astype(int), t["status"], strict=True)))  # fmt: skip
        frame = pd.DataFrame(rows).set_index("quantity")
        years = sorted(c for c in frame.columns if isinstance(c, int | np.integer))
        return frame[["name", "unit", *years]]

    def __repr__(self) -> str:
        first, last = self.years() if len(self.annual) else (None, None)
        parts = [
            f"scenario={self.meta.get('scenario', getattr(self.scenario, 'name', '?'))!r}",
            f"seed={self.meta.get('seed', getattr(self.scenario, 'seed', '?'))}",
            f"years={first}..{last}",
            f"step_days={self.meta.get('step_days', '?')}",
            f"daily={len(self.daily):,} rows",
            f"annual={len(self.annual):,} rows",
            f"events={len(self.events):,}",
        ]
        loaded = [n for n in ("targets", "valuation") if getattr(self, n) is not None]
        if loaded:
            parts.append(f"with {' and '.join(loaded)}")
        return f"Results({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """A notebook's view: the one-line description and :meth:`summary` as a table."""
        import html

        head = html.escape(repr(self))
        try:
            body = self.summary().to_html(float_format=lambda v: f"{v:,.2f}")
        except (KeyError, ValueError):  # a frame without the headline series
            body = ""
        return f"<p><code>{head}</code></p>{body}"

    @property
    def plot(self) -> PlotAccessor:
        """Charts of this run, each returned as a matplotlib ``Figure`` (the report's own,
        :mod:`cbm_sim.report.charts`): ``results.plot.production(lang="en")``, ``.balance``,
        ``.facilities``, ``.storage``, ``.sankey(year)``, ``.value`` (needs the valuation
        and target check: loaded by :meth:`from_dir`, else computed)."""
        return PlotAccessor(self, "results")

    @classmethod
    def from_dir(cls, directory: str | Path, *, verify: bool = True) -> Results:
        """A run folder (``cbm-sim run -o``) with its target check and valuation
        (``targets.csv``, ``valuation.csv``, in planner units) as :attr:`targets` and
        :attr:`valuation`, verified against ``meta.json`` unless ``verify`` is false.

        Raises
        ------
        DamagedRunError
            As :meth:`from_parquet`, or if a CSV cannot be read.
        """
        src = Path(directory)
        base = cls.from_parquet(src, verify=verify)
        frames: dict[str, pd.DataFrame | None] = {}
        for name in ("targets", "valuation"):
            path = src / f"{name}.csv"
            if not path.is_file():
                frames[name] = None
                continue
            try:
                frames[name] = pd.read_csv(path, keep_default_na=False, na_values=[""])
            except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise integrity.DamagedRunError(f"{path}: unreadable ({exc})") from None
        return replace(base, targets=frames["targets"], valuation=frames["valuation"])

    def annual_value(self, entity: str, quantity: str, year: int) -> float:
        """One annual figure in base units; 0.0 if the series has no value that year (a flow
        that did not happen).

        Raises
        ------
        KeyError
            If the entity/quantity pair never occurs in the results (a typo, not a zero).
        ValueError
            If ``year`` is outside the run's years (naming them).
        """
        rows = self.annual[
            (self.annual["entity"] == entity) & (self.annual["quantity"] == quantity)
        ]
        if rows.empty:
            known = sorted(set(zip(self.annual["entity"], self.annual["quantity"], strict=True)))
            raise KeyError(f"no annual series {entity!r}/{quantity!r}; known: {known[:40]} ...")
        self._check_year(year)
        hit = rows.loc[rows["year"] == year, "value"]
        return float(hit.sum()) if not hit.empty else 0.0

    def annual_series(self, entity: str, quantity: str) -> pd.Series:
        """Annual figures of one entity/quantity, indexed by year."""
        rows = self.annual[
            (self.annual["entity"] == entity) & (self.annual["quantity"] == quantity)
        ]
        if rows.empty:
            raise KeyError(f"no annual series {entity!r}/{quantity!r}")
        return rows.set_index("year")["value"].sort_index()

    def daily_series(self, entity: str, quantity: str) -> pd.Series:
        """Daily figures of one entity/quantity, indexed by date."""
        rows = self.daily[(self.daily["entity"] == entity) & (self.daily["quantity"] == quantity)]
        if rows.empty:
            raise KeyError(f"no daily series {entity!r}/{quantity!r}")
        return rows.set_index("date")["value"].sort_index()

    def annual_wide(self) -> pd.DataFrame:
        """Annual figures as a wide frame: index year, columns (entity, quantity)."""
        return self.annual.pivot_table(
            index="year", columns=["entity", "quantity"], values="value", aggfunc="sum"
        )

    def to_parquet(self, directory: str | Path) -> Path:
        """Write the three frames as Parquet and ``meta.json`` (with their SHA-256, see
        :mod:`~cbm_sim.results.integrity`) into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.daily.to_parquet(out / "daily.parquet", index=False)
        self.annual.to_parquet(out / "annual.parquet", index=False)
        self.events.to_parquet(out / "events.parquet", index=False)
        integrity.write_meta(out, self.meta, _FRAME_FILES)
        return out

    @classmethod
    def from_parquet(cls, directory: str | Path, *, verify: bool = True) -> Results:
        """Read results written by :meth:`to_parquet` (and the run's ``scenario.yaml``, if the
        directory has one, as written by ``cbm-sim run``).

        Parameters
        ----------
        directory
            The result folder.
        verify
            Check every file against the checksums of ``meta.json`` first
            (:func:`~cbm_sim.results.integrity.verify`); ``False`` reads an edited folder.

        Raises
        ------
        DamagedRunError
            If the folder fails verification, or a file cannot be read as what it should be.
        FileNotFoundError
            If a Parquet file is missing (``verify=False``).
        """
        src = Path(directory)
        meta = integrity.verify(src, require=_FRAME_FILES) if verify else None
        missing = [name for name in _FRAME_FILES if not (src / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{src} is not a cbm-sim results directory: missing {missing}")
        if meta is None:
            meta = integrity.read_meta(src) if (src / integrity.META).is_file() else {}
        scenario = None
        if (src / "scenario.yaml").is_file():
            # A run directory keeps the resolved scenario: the valuation needs its prices.
            from cbm_sim.scenario.files import load_scenario

            # (the run has happened: its size is not checked against this machine)
            scenario = load_scenario(src / "scenario.yaml", check_size=False)
        frames = {}
        for name in _FRAME_FILES:
            try:
                frames[name] = pd.read_parquet(src / name)
            except Exception as exc:  # pyarrow raises its own types for a damaged file
                raise integrity.DamagedRunError(
                    f"{src / name}: not a readable Parquet file ({type(exc).__name__})"
                ) from None
        for name, columns in zip(
            _FRAME_FILES, (DAILY_COLUMNS, ANNUAL_COLUMNS, EVENT_COLUMNS), strict=True
        ):
            lacking = [c for c in columns if c not in frames[name].columns]
            if lacking:
                raise integrity.DamagedRunError(f"{src / name}: lacks columns {lacking}")
        return cls(
            daily=frames["daily.parquet"],
            annual=frames["annual.parquet"],
            events=frames["events.parquet"],
            meta=meta,
            scenario=scenario,
        )


def annualise(daily: pd.DataFrame) -> pd.DataFrame:
    """Aggregate a tidy daily frame to years: flows summed, stocks at year end, means averaged."""
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ANNUAL_COLUMNS})
    frame = daily.assign(year=daily["date"].dt.year.astype(np.int64))
    keys = ["year", "entity", "quantity", "unit"]
    is_stock = frame["quantity"].isin(STOCK_QUANTITIES)
    is_mean = frame["quantity"].isin(MEAN_QUANTITIES)
    flows = frame[~is_stock & ~is_mean].groupby(keys, sort=True)["value"].sum()
    stocks = (
        frame[is_stock].sort_values("date").groupby(keys, sort=True)["value"].last()
        if is_stock.any()
        else flows.iloc[:0]
    )
    means = (
        frame[is_mean].groupby(keys, sort=True)["value"].mean() if is_mean.any() else flows.iloc[:0]
    )
    out = pd.concat([flows, stocks, means]).reset_index()
    return out[list(ANNUAL_COLUMNS)].sort_values(["entity", "quantity", "year"], ignore_index=True)


def tidy_daily(
    dates: pd.DatetimeIndex, series: Iterable[tuple[str, str, str, np.ndarray]]
) -> pd.DataFrame:
    """Build a tidy daily frame from ``(entity, quantity, unit, values)`` columns.

    Each ``values`` array has one float per date. The frame is assembled column-wise from
    numpy arrays (labels as categorical codes), not from per-series frames.
    """
    labels: list[tuple[str, str, str]] = []
    values: list[np.ndarray] = []
    for entity, quantity, unit, vals in series:
        arr = np.asarray(vals, dtype=np.float64)
        if arr.shape != (len(dates),):
            raise ValueError(
                f"series {entity}/{quantity} has shape {arr.shape}, expected ({len(dates)},)"
            )
        labels.append((entity, quantity, unit))
        values.append(arr)
    if not labels:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DAILY_COLUMNS})
    n = len(dates)
    columns: dict[str, object] = {"date": np.tile(dates.to_numpy(), len(labels))}
    for pos, name in enumerate(("entity", "quantity", "unit")):
        cats, codes = np.unique([lab[pos] for lab in labels], return_inverse=True)
        columns[name] = pd.Categorical.from_codes(np.repeat(codes, n), categories=cats)
    columns["value"] = np.concatenate(values)
    return pd.DataFrame(columns)


def events_frame(rows: Iterable[tuple[pd.Timestamp, str, str, str]]) -> pd.DataFrame:
    """Build the events frame from ``(time, entity, event, detail)`` tuples."""
    rows = list(rows)
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"])
    for col in ("entity", "event", "detail"):
        frame[col] = frame[col].astype("string")
    return frame


def events_frame_from_columns(
    time: pd.DatetimeIndex,
    entity: Sequence[str],
    event: Sequence[str],
    detail: Sequence[str],
) -> pd.DataFrame:
    """Build the events frame from its columns, times in ns (the simulation's path: one
    array per column, no tuple or ``Timestamp`` per event; the same frame as
    :func:`events_frame` of the simulation's rows, 4× faster)."""
    return pd.DataFrame(
        {
            "time": pd.DatetimeIndex(time).as_unit("ns"),
            "entity": pd.array(list(entity), dtype="string"),
            "event": pd.array(list(event), dtype="string"),
            "detail": pd.array(list(detail), dtype="string"),
        }
    )


def _kinds(series: Sequence[tuple[str, str, str, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Which series are stocks, means and day shares (boolean arrays, one per series)."""
    quantity = np.array([q for _, q, _, _ in series], dtype=object)
    return (
        np.isin(quantity, list(STOCK_QUANTITIES)),
        np.isin(quantity, list(MEAN_QUANTITIES)),
        np.isin(quantity, list(DAY_SHARE_QUANTITIES)),
    )


def aggregate_steps(
    series: Sequence[tuple[str, str, str, np.ndarray]], starts: np.ndarray
) -> list[tuple[str, str, str, np.ndarray]]:
    """Daily series summed into steps that begin on the days ``starts`` (indices into the
    days, the first 0): flows summed over the step's days, stocks on its last day, means and
    day shares (:data:`DAY_SHARE_QUANTITIES`) averaged over its days.

    A coarse-step run is the daily run so aggregated (:mod:`cbm_sim.scenario.steps`).
    """
    if not series:
        return []
    matrix = np.vstack([np.asarray(v, dtype=np.float64) for *_, v in series])
    n = matrix.shape[1]
    first = np.asarray(starts, dtype=np.int64)
    if first.size == 0 or first[0] != 0 or np.any(np.diff(first) <= 0) or first[-1] >= n:
        raise ValueError(f"step starts must increase from 0 within the {n} days; got {first}")
    last = np.append(first[1:], n) - 1
    days = (last + 1 - first).astype(np.float64)
    sums = np.add.reduceat(matrix, first, axis=1)
    is_stock, is_mean, is_share = _kinds(series)
    value = np.where(is_stock[:, None], matrix[:, last], sums)
    value = np.where((is_mean | is_share)[:, None], sums / days, value)
    return [(e, q, u, value[i]) for i, (e, q, u, _) in enumerate(series)]


def annualise_series(
    dates: pd.DatetimeIndex,
    series: Sequence[tuple[str, str, str, np.ndarray]],
    step_days: np.ndarray | None = None,
) -> pd.DataFrame:
    """``annualise(tidy_daily(dates, series))``, computed on the arrays (no daily frame).

    The simulation's path: one ``reduceat`` over the year boundaries for all series.
    ``step_days`` gives the days of each step (``None``: every step is one day); no step
    may span two years (:mod:`cbm_sim.scenario.steps`). Means are then weighted by days,
    and day shares (:data:`DAY_SHARE_QUANTITIES`) summed by day. Tests check it against
    :func:`annualise` and against the daily run.
    """
    if not series:
        return annualise(tidy_daily(dates, series))
    years = dates.year.to_numpy().astype(np.int64)
    n = years.size
    cut = np.flatnonzero(np.diff(years)) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    labels = [(e, q, u) for e, q, u, _ in series]
    matrix = np.vstack([np.asarray(v, dtype=np.float64) for *_, v in series])
    if matrix.shape[1] != n:
        raise ValueError(f"series have {matrix.shape[1]} values; expected {n}, one per date")
    sums = np.add.reduceat(matrix, starts, axis=1)
    is_stock, is_mean, is_share = _kinds(series)
    value = np.where(is_stock[:, None], matrix[:, ends - 1], sums)
    if step_days is None:
        value = np.where(is_mean[:, None], sums / (ends - starts), value)
    else:
        days = np.asarray(step_days, dtype=np.float64)
        if days.shape != (n,):
            raise ValueError(f"step_days has shape {days.shape}; expected ({n},), one per date")
        by_day = np.add.reduceat(matrix * days, starts, axis=1)
        in_year = np.add.reduceat(days, starts)
        value = np.where(is_mean[:, None], by_day / in_year, value)
        value = np.where(is_share[:, None], by_day, value)
    n_years = starts.size
    frame = pd.DataFrame(
        {
            "year": np.tile(years[starts], len(labels)),
            **{
                name: pd.Categorical(np.repeat([lab[pos] for lab in labels], n_years))
                for pos, name in enumerate(("entity", "quantity", "unit"))
            },
            "value": value.ravel(),
        }
    )
    return frame.sort_values(["entity", "quantity", "year"], ignore_index=True)
